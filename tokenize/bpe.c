/* BPE encode and decode with HF tokenizers semantics (tokenizers 0.22, the Rust library).
 *
 * Encode runs HF's pipeline: invalid UTF-8 becomes U+FFFD (as a Rust/JS string would), added
 * tokens are extracted leftmost-longest on the raw text, the normalizer runs on each piece
 * between them, normalized added tokens are extracted from its output, the pre-tokenizers
 * split each piece, and the BPE model turns every final piece into ids; the post-processor
 * then adds its special tokens. A byte-level tokenizer never materializes the mapped
 * characters: the model starts from per-byte ids and a raw-bytes vocabulary.
 *
 * The handle is immutable. Scratch memory and a merge cache (piece bytes -> ids) live in
 * thread-local state keyed by the handle's serial number, so concurrent encodes never lock. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/pool.h"
#include "tokenize/bpe_internal.h"

/* ---- thread-local state ---- */

struct piece {
    const char *s;
    uint32_t len;
    uint8_t at_start; /* begins at original offset 0 (Metaspace prepend_scheme "first") */
};
struct pieces {
    struct piece *v;
    size_t n, cap;
};
struct event {
    size_t b, e;
    int match;
};
struct cache_ent {
    uint64_t h;
    uint32_t koff, klen, ioff, ni;
    uint32_t gen; /* the slot is in use only when gen equals the table's generation */
};

#define CACHE_SLOTS ((size_t)1 << 16)
#define CACHE_MAX_KEY 256

struct bpe_tls {
    uint64_t serial;
    struct bpe_arena arena;
    struct pieces pa, pb;
    struct event *ev;
    size_t nev, capev;
    pcre2_match_data *md;
    struct bpe_sbuf lossy, nbuf, wbuf;
    /* model scratch */
    int32_t *sym, *prv, *nxt;
    uint32_t *rank;
    uint64_t *heap;
    size_t capsym;
    /* cache */
    struct cache_ent *ce;
    size_t cn;
    uint32_t gen; /* bumping it empties the cache in O(1) */
    struct bpe_sbuf ckeys;
    int32_t *cids;
    size_t cids_n, cids_cap;
    /* when set, final pieces go here instead of the model (bpe_pretokenize) */
    bpe_piece_fn piece_cb;
    void *piece_ctx;
};

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t next_serial = 1;

static void tls_destroy(void *p)
{
    struct bpe_tls *t = p;
    if (!t)
        return;
    bpe_arena_free(&t->arena);
    free(t->pa.v);
    free(t->pb.v);
    free(t->ev);
    pcre2_match_data_free(t->md);
    bpe_sbuf_free(&t->lossy);
    bpe_sbuf_free(&t->nbuf);
    bpe_sbuf_free(&t->wbuf);
    free(t->sym);
    free(t->prv);
    free(t->nxt);
    free(t->rank);
    free(t->heap);
    free(t->ce);
    bpe_sbuf_free(&t->ckeys);
    free(t->cids);
    free(t);
}

static void tls_init_key(void)
{
    (void)pthread_key_create(&tls_key, tls_destroy);
}

static void cache_clear(struct bpe_tls *t)
{
    if (++t->gen == 0) {
        for (size_t i = 0; i < CACHE_SLOTS; i++)
            t->ce[i].gen = 0;
        t->gen = 1;
    }
    t->cn = 0;
    t->ckeys.n = 0;
    t->cids_n = 0;
}

static struct bpe_tls *tls_get(const struct mvot_bpe *tok)
{
    pthread_once(&tls_once, tls_init_key);
    struct bpe_tls *t = pthread_getspecific(tls_key);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t)
            return NULL;
        t->md = pcre2_match_data_create(1, NULL);
        t->ce = calloc(CACHE_SLOTS, sizeof *t->ce);
        if (!t->md || !t->ce || pthread_setspecific(tls_key, t) != 0) {
            tls_destroy(t);
            return NULL;
        }
        cache_clear(t);
    }
    if (t->serial != tok->serial) {
        cache_clear(t);
        t->serial = tok->serial;
    }
    bpe_arena_reset(&t->arena);
    return t;
}

static const int32_t *cache_get(struct bpe_tls *t, const char *s, size_t n, uint64_t h, size_t *ni)
{
    size_t i = (size_t)h & (CACHE_SLOTS - 1);
    for (;;) {
        const struct cache_ent *e = &t->ce[i];
        if (e->gen != t->gen)
            return NULL;
        if (e->h == h && e->klen == n && memcmp(t->ckeys.p + e->koff, s, n) == 0) {
            *ni = e->ni;
            return t->cids + e->ioff;
        }
        i = (i + 1) & (CACHE_SLOTS - 1);
    }
}

static void cache_put(struct bpe_tls *t, const char *s, size_t n, uint64_t h, const int32_t *ids,
                      size_t ni)
{
    if (t->cn * 2 >= CACHE_SLOTS || t->ckeys.n > ((size_t)8 << 20))
        cache_clear(t);
    if (t->cids_n + ni > t->cids_cap) {
        size_t nc = t->cids_cap ? t->cids_cap * 2 : 4096;
        while (nc < t->cids_n + ni)
            nc *= 2;
        int32_t *p = realloc(t->cids, nc * sizeof *p);
        if (!p)
            return; /* the cache is an optimization: skip on OOM */
        t->cids = p;
        t->cids_cap = nc;
    }
    size_t koff = t->ckeys.n;
    if (bpe_sbuf_add(&t->ckeys, s, n) != MVOT_OK)
        return;
    if (ni)
        memcpy(t->cids + t->cids_n, ids, ni * sizeof *ids);
    size_t i = (size_t)h & (CACHE_SLOTS - 1);
    while (t->ce[i].gen == t->gen)
        i = (i + 1) & (CACHE_SLOTS - 1);
    t->ce[i].gen = t->gen;
    t->ce[i].h = h;
    t->ce[i].koff = (uint32_t)koff;
    t->ce[i].klen = (uint32_t)n;
    t->ce[i].ioff = (uint32_t)t->cids_n;
    t->ce[i].ni = (uint32_t)ni;
    t->cids_n += ni;
    t->cn++;
}

static int pieces_push(struct pieces *p, const char *s, size_t len, int at_start)
{
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 256;
        struct piece *nv = realloc(p->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n].s = s;
    p->v[p->n].len = (uint32_t)len;
    p->v[p->n].at_start = (uint8_t)at_start;
    p->n++;
    return 0;
}

static int ev_push(struct bpe_tls *t, size_t b, size_t e, int match)
{
    if (t->nev == t->capev) {
        size_t nc = t->capev ? t->capev * 2 : 256;
        struct event *nv = realloc(t->ev, nc * sizeof *nv);
        if (!nv)
            return -1;
        t->ev = nv;
        t->capev = nc;
    }
    t->ev[t->nev].b = b;
    t->ev[t->nev].e = e;
    t->ev[t->nev].match = match;
    t->nev++;
    return 0;
}

/* ---- UTF-8 repair ---- */

/* Bytes of the maximal subpart of an ill-formed sequence at u[0..n) (>= 1): each such subpart
 * becomes one U+FFFD, as in Rust's from_utf8_lossy and the WHATWG decoder. */
static size_t invalid_span(const uint8_t *u, size_t n)
{
    uint8_t c = u[0];
    uint8_t lo = 0x80, hi = 0xBF;
    size_t need;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 1;
    size_t k = 1;
    if (k < n && u[k] >= lo && u[k] <= hi) {
        k++;
        while (k <= need && k < n && (u[k] & 0xC0) == 0x80)
            k++;
    }
    return k;
}

/* Returns s itself when valid, else a repaired copy in t->lossy. */
static const char *repair_utf8(struct bpe_tls *t, const char *s, size_t *n)
{
    size_t ok = bpe_utf8_valid_prefix(s, *n);
    if (ok == *n)
        return s;
    t->lossy.n = 0;
    size_t i = 0;
    while (i < *n) {
        size_t v = bpe_utf8_valid_prefix(s + i, *n - i);
        if (bpe_sbuf_add(&t->lossy, s + i, v) != MVOT_OK)
            return NULL;
        i += v;
        if (i >= *n)
            break;
        if (bpe_sbuf_add(&t->lossy, "\xEF\xBF\xBD", 3) != MVOT_OK)
            return NULL;
        i += invalid_span((const uint8_t *)s + i, *n - i);
    }
    *n = t->lossy.n;
    return t->lossy.p ? t->lossy.p : "";
}

/* ---- normalizers ---- */

static int all_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)s[i] >= 0x80)
            return 0;
    return 1;
}

static enum mvot_status norm_unicode(enum bpe_norm_kind k, struct bpe_sbuf *cur,
                                     struct bpe_sbuf *tmp)
{
    if (all_ascii(cur->p, cur->n))
        return MVOT_OK;
    if (k == BPE_N_NFC) {
        /* code points below U+0300 are NFC-stable and never combine: skip the work */
        int quick = 1;
        for (size_t i = 0; i < cur->n; i++)
            if ((uint8_t)cur->p[i] >= 0xCC) {
                quick = 0;
                break;
            }
        if (quick)
            return MVOT_OK;
    }
    int opts = UTF8PROC_STABLE;
    switch (k) {
    case BPE_N_NFC: opts |= UTF8PROC_COMPOSE; break;
    case BPE_N_NFD: opts |= UTF8PROC_DECOMPOSE; break;
    case BPE_N_NFKC: opts |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    default: opts |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
    }
    utf8proc_uint8_t *o = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)cur->p, (utf8proc_ssize_t)cur->n,
                                      &o, (utf8proc_option_t)opts);
    if (r < 0)
        return r == UTF8PROC_ERROR_NOMEM ? MVOT_ERR_NOMEM : MVOT_ERR_CORRUPT;
    tmp->n = 0;
    enum mvot_status st = bpe_sbuf_add(tmp, o, (size_t)r);
    free(o);
    if (st == MVOT_OK) {
        struct bpe_sbuf x = *cur;
        *cur = *tmp;
        *tmp = x;
    }
    return st;
}

static enum mvot_status norm_lower(struct bpe_sbuf *cur, struct bpe_sbuf *tmp)
{
    tmp->n = 0;
    if (bpe_sbuf_reserve(tmp, cur->n * 2 + 8) != MVOT_OK)
        return MVOT_ERR_NOMEM;
    size_t i = 0;
    while (i < cur->n) {
        uint8_t c = (uint8_t)cur->p[i];
        if (c < 0x80) {
            tmp->p[tmp->n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            i++;
            continue;
        }
        size_t l;
        uint32_t cp = bpe_utf8_next(cur->p + i, cur->n - i, &l);
        i += l;
        if (bpe_sbuf_reserve(tmp, 8) != MVOT_OK)
            return MVOT_ERR_NOMEM;
        if (cp == 0x130) { /* the one multi-character lowercase mapping: i + combining dot */
            tmp->n += bpe_utf8_put('i', tmp->p + tmp->n);
            tmp->n += bpe_utf8_put(0x307, tmp->p + tmp->n);
            continue;
        }
        tmp->n += bpe_utf8_put((uint32_t)utf8proc_tolower((utf8proc_int32_t)cp), tmp->p + tmp->n);
    }
    struct bpe_sbuf x = *cur;
    *cur = *tmp;
    *tmp = x;
    return MVOT_OK;
}

static void norm_strip(struct bpe_sbuf *cur, int left, int right)
{
    size_t b = 0, e = cur->n;
    if (left)
        while (b < e) {
            size_t l;
            uint32_t cp = bpe_utf8_next(cur->p + b, e - b, &l);
            if (!bpe_is_whitespace(cp))
                break;
            b += l;
        }
    if (right)
        while (e > b) {
            size_t k = e - 1;
            while (k > b && ((uint8_t)cur->p[k] & 0xC0) == 0x80)
                k--;
            size_t l;
            uint32_t cp = bpe_utf8_next(cur->p + k, e - k, &l);
            if (!bpe_is_whitespace(cp))
                break;
            e = k;
        }
    if (b)
        memmove(cur->p, cur->p + b, e - b);
    cur->n = e - b;
}

static enum mvot_status replace_all(const struct bpe_regex *re, pcre2_match_data *md,
                                    const char *content, size_t clen, const char *s, size_t n,
                                    struct bpe_sbuf *out)
{
    struct bpe_match_iter it = {re, md, s, n, 0, SIZE_MAX, 0};
    size_t b, e, prev = 0;
    out->n = 0;
    while (bpe_match_next(&it, &b, &e)) {
        if (bpe_sbuf_add(out, s + prev, b - prev) != MVOT_OK ||
            bpe_sbuf_add(out, content, clen) != MVOT_OK)
            return MVOT_ERR_NOMEM;
        prev = e;
    }
    if (it.failed)
        return MVOT_ERR_INTERNAL;
    return bpe_sbuf_add(out, s + prev, n - prev);
}

/* Chained Replace/Prepend normalizers can multiply the text at every step (a 125-byte input
 * reached 12 GB); no real tokenizer comes near this cap, checked after every step. */
#define BPE_NORM_GROWTH 64
#define BPE_NORM_SLACK 4096

static enum mvot_status normalize_with(const struct mvot_bpe *tok, pcre2_match_data *md,
                                       struct bpe_sbuf *cur, struct bpe_sbuf *tmp)
{
    enum mvot_status st = MVOT_OK;
    size_t limit = cur->n > (SIZE_MAX - BPE_NORM_SLACK) / BPE_NORM_GROWTH
                       ? SIZE_MAX
                       : cur->n * BPE_NORM_GROWTH + BPE_NORM_SLACK;
    for (size_t i = 0; i < tok->nnorms && st == MVOT_OK; i++) {
        if (cur->n > limit)
            return MVOT_ERR_UNSUPPORTED; /* the callers name it as the normalizer cap */
        const struct bpe_norm *nm = &tok->norms[i];
        switch (nm->kind) {
        case BPE_N_NFC:
        case BPE_N_NFD:
        case BPE_N_NFKC:
        case BPE_N_NFKD: st = norm_unicode(nm->kind, cur, tmp); break;
        case BPE_N_LOWER: st = norm_lower(cur, tmp); break;
        case BPE_N_STRIP: norm_strip(cur, nm->left, nm->right); break;
        case BPE_N_PREPEND:
            if (cur->n && nm->str_len) {
                tmp->n = 0;
                if (bpe_sbuf_add(tmp, nm->str, nm->str_len) != MVOT_OK ||
                    bpe_sbuf_add(tmp, cur->p, cur->n) != MVOT_OK)
                    return MVOT_ERR_NOMEM;
                struct bpe_sbuf x = *cur;
                *cur = *tmp;
                *tmp = x;
            }
            break;
        case BPE_N_REPLACE:
            if (cur->n) {
                st = replace_all(&nm->re, md, nm->str, nm->str_len, cur->p, cur->n, tmp);
                if (st == MVOT_OK) {
                    struct bpe_sbuf x = *cur;
                    *cur = *tmp;
                    *tmp = x;
                }
            }
            break;
        }
    }
    return st == MVOT_OK && cur->n > limit ? MVOT_ERR_UNSUPPORTED : st;
}

/* Reports a failed normalize/encode of an n-byte text. */
static enum mvot_status norm_fail(const struct mvot_bpe *tok, enum mvot_status st, size_t n,
                                  struct mvot_error *err)
{
    switch (st) {
    case MVOT_ERR_INTERNAL:
        return mvot_error_set(err, st, tok->name, "regex match failed on a %zu-byte text", n);
    case MVOT_ERR_UNSUPPORTED:
        return mvot_error_set(err, st, tok->name,
                              "the normalizers grow a %zu-byte text past their cap of %dx the "
                              "input + %d bytes (chained Replace normalizers?)",
                              n, BPE_NORM_GROWTH, BPE_NORM_SLACK);
    case MVOT_ERR_CORRUPT:
        return mvot_error_set(err, st, tok->name, "normalizer failed on %zu bytes", n);
    default: return mvot_error_set(err, st, tok->name, "out of memory on a %zu-byte text", n);
    }
}

enum mvot_status bpe_normalize(const struct mvot_bpe *tok, const char *s, size_t n,
                               struct bpe_sbuf *out, struct mvot_error *err)
{
    enum mvot_status st;
    struct bpe_sbuf tmp = {0};
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    out->n = 0;
    if (!md || bpe_sbuf_add(out, s, n) != MVOT_OK) {
        st = MVOT_ERR_NOMEM;
    } else {
        st = normalize_with(tok, md, out, &tmp);
    }
    pcre2_match_data_free(md);
    bpe_sbuf_free(&tmp);
    if (st != MVOT_OK)
        return norm_fail(tok, st, n, err);
    return MVOT_OK;
}

/* ---- pre-tokenizers ---- */

/* Applies a split behavior to t->ev (covering piece p) and appends the results to out. */
static int apply_behavior(struct bpe_tls *t, const struct piece *p, enum bpe_behavior beh,
                          int invert, struct pieces *out)
{
    struct event *ev = t->ev;
    size_t n = t->nev, m = 0;
    if (invert)
        for (size_t i = 0; i < n; i++)
            ev[i].match = !ev[i].match;
    switch (beh) {
    case BPE_B_ISOLATED: m = n; break;
    case BPE_B_REMOVED:
        for (size_t i = 0; i < n; i++)
            if (!ev[i].match)
                ev[m++] = ev[i];
        break;
    case BPE_B_MERGED_PREV: {
        int prev_match = 0;
        for (size_t i = 0; i < n; i++) {
            int mt = ev[i].match;
            if (mt && !prev_match && m > 0)
                ev[m - 1].e = ev[i].e;
            else
                ev[m++] = ev[i];
            prev_match = mt;
        }
        break;
    }
    case BPE_B_MERGED_NEXT: {
        /* HF folds from the right: a match glues onto the piece after it */
        int prev_match = 0;
        size_t w = n; /* results are built downward from the end */
        for (size_t k = n; k-- > 0;) {
            struct event x = ev[k];
            if (x.match && !prev_match && w < n)
                ev[w].b = x.b;
            else
                ev[--w] = x;
            prev_match = x.match;
        }
        memmove(ev, ev + w, (n - w) * sizeof *ev);
        m = n - w;
        break;
    }
    case BPE_B_CONTIGUOUS: {
        int prev_match = 0;
        for (size_t i = 0; i < n; i++) {
            int mt = ev[i].match;
            if (mt == prev_match && m > 0)
                ev[m - 1].e = ev[i].e;
            else
                ev[m++] = ev[i];
            prev_match = mt;
        }
        break;
    }
    }
    for (size_t i = 0; i < m; i++) {
        if (ev[i].e <= ev[i].b)
            continue;
        if (pieces_push(out, p->s + ev[i].b, ev[i].e - ev[i].b, p->at_start && ev[i].b == 0))
            return -1;
    }
    return 0;
}

static int regex_events(struct bpe_tls *t, const struct bpe_regex *re, const char *s, size_t n)
{
    struct bpe_match_iter it = {re, t->md, s, n, 0, SIZE_MAX, 0};
    size_t b, e, prev = 0;
    t->nev = 0;
    while (bpe_match_next(&it, &b, &e)) {
        if (prev != b && ev_push(t, prev, b, 0))
            return -1;
        if (ev_push(t, b, e, 1))
            return -1;
        prev = e;
    }
    if (it.failed)
        return -2;
    if (prev != n && ev_push(t, prev, n, 0))
        return -1;
    return 0;
}

typedef int (*char_pred)(uint32_t cp, uint32_t arg);

static int pred_ws(uint32_t cp, uint32_t arg)
{
    (void)arg;
    return bpe_is_whitespace(cp);
}
static int pred_num(uint32_t cp, uint32_t arg)
{
    (void)arg;
    return bpe_is_numeric(cp);
}
static int pred_punct(uint32_t cp, uint32_t arg)
{
    (void)arg;
    return bpe_is_punct(cp);
}
static int pred_eq(uint32_t cp, uint32_t arg)
{
    return cp == arg;
}

/* Every matching character is its own match, as HF's Pattern for Fn(char) -> bool. */
static int char_events(struct bpe_tls *t, char_pred f, uint32_t arg, const char *s, size_t n)
{
    size_t i = 0, last = 0;
    t->nev = 0;
    while (i < n) {
        size_t l;
        uint32_t cp = bpe_utf8_next(s + i, n - i, &l);
        if (f(cp, arg)) {
            if (last < i && ev_push(t, last, i, 0))
                return -1;
            if (ev_push(t, i, i + l, 1))
                return -1;
            last = i + l;
        }
        i += l;
    }
    if (last < n && ev_push(t, last, n, 0))
        return -1;
    return 0;
}

/* Copies s with every byte replaced by its bytes_to_unicode character. */
static char *map_bytes(struct bpe_tls *t, const char *s, size_t n, size_t *out_len)
{
    char *o = bpe_arena_alloc(&t->arena, n * 2 + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += bpe_utf8_put(bpe_byte_to_cp((uint8_t)s[i]), o + k);
    *out_len = k;
    return o;
}

static enum mvot_status pretok_step(const struct mvot_bpe *tok, struct bpe_tls *t,
                                    const struct bpe_pretok *pt, int is_last,
                                    const struct pieces *in, struct pieces *out)
{
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        struct piece p = in->v[i];
        int rc = 0;
        switch (pt->kind) {
        case BPE_PT_BYTELEVEL: {
            if (pt->add_prefix_space && p.s[0] != ' ') {
                char *ns = bpe_arena_alloc(&t->arena, (size_t)p.len + 1);
                if (!ns)
                    return MVOT_ERR_NOMEM;
                ns[0] = ' ';
                memcpy(ns + 1, p.s, p.len);
                p.s = ns;
                p.len++;
            }
            size_t first = out->n;
            if (pt->use_regex) {
                rc = regex_events(t, &pt->re, p.s, p.len);
                if (!rc)
                    rc = apply_behavior(t, &p, BPE_B_ISOLATED, 0, out);
            } else {
                rc = pieces_push(out, p.s, p.len, p.at_start);
            }
            if (!rc && !is_last) {
                /* a later step needs the mapped characters themselves */
                for (size_t k = first; k < out->n; k++) {
                    size_t ml;
                    char *m = map_bytes(t, out->v[k].s, out->v[k].len, &ml);
                    if (!m)
                        return MVOT_ERR_NOMEM;
                    out->v[k].s = m;
                    out->v[k].len = (uint32_t)ml;
                }
            }
            break;
        }
        case BPE_PT_SPLIT:
            rc = regex_events(t, &pt->re, p.s, p.len);
            if (!rc)
                rc = apply_behavior(t, &p, pt->behavior, pt->invert, out);
            break;
        case BPE_PT_WHITESPACE:
            rc = regex_events(t, &pt->re, p.s, p.len);
            if (!rc)
                rc = apply_behavior(t, &p, BPE_B_REMOVED, 1, out);
            break;
        case BPE_PT_DIGITS:
            rc = char_events(t, pred_num, 0, p.s, p.len);
            if (!rc)
                rc = apply_behavior(t, &p, pt->individual ? BPE_B_ISOLATED : BPE_B_CONTIGUOUS, 0,
                                    out);
            break;
        case BPE_PT_PUNCT:
            rc = char_events(t, pred_punct, 0, p.s, p.len);
            if (!rc)
                rc = apply_behavior(t, &p, pt->behavior, 0, out);
            break;
        case BPE_PT_WSSPLIT:
            rc = char_events(t, pred_ws, 0, p.s, p.len);
            if (!rc)
                rc = apply_behavior(t, &p, BPE_B_REMOVED, 0, out);
            break;
        case BPE_PT_METASPACE: {
            char rep[4];
            size_t rl = bpe_utf8_put(pt->replacement, rep);
            size_t spaces = 0;
            for (size_t k = 0; k < p.len; k++)
                spaces += p.s[k] == ' ';
            char *ns = bpe_arena_alloc(&t->arena, p.len + spaces * rl + rl);
            if (!ns)
                return MVOT_ERR_NOMEM;
            memcpy(ns, rep, rl);
            size_t w = rl; /* ns[0..rl) holds the replacement, used if it must be prepended */
            for (size_t k = 0; k < p.len; k++) {
                if (p.s[k] == ' ') {
                    memcpy(ns + w, rep, rl);
                    w += rl;
                } else {
                    ns[w++] = p.s[k];
                }
            }
            const char *body = ns + rl;
            size_t blen = w - rl;
            int starts = blen >= rl && memcmp(body, rep, rl) == 0;
            int prepend = !starts && (pt->prepend == BPE_PREPEND_ALWAYS ||
                                      (pt->prepend == BPE_PREPEND_FIRST && p.at_start));
            struct piece q = {prepend ? ns : body, (uint32_t)(prepend ? blen + rl : blen),
                              p.at_start};
            if (pt->split) {
                rc = char_events(t, pred_eq, pt->replacement, q.s, q.len);
                if (!rc)
                    rc = apply_behavior(t, &q, BPE_B_MERGED_NEXT, 0, out);
            } else {
                rc = pieces_push(out, q.s, q.len, q.at_start);
            }
            break;
        }
        }
        if (rc == -2)
            return MVOT_ERR_INTERNAL;
        if (rc)
            return MVOT_ERR_NOMEM;
    }
    (void)tok;
    return MVOT_OK;
}

/* ---- the BPE model ---- */

static int ensure_sym(struct bpe_tls *t, size_t n)
{
    if (n <= t->capsym)
        return 0;
    size_t nc = t->capsym ? t->capsym : 256;
    while (nc < n)
        nc *= 2;
    int32_t *a = realloc(t->sym, nc * sizeof *a);
    if (a)
        t->sym = a;
    int32_t *b = realloc(t->prv, nc * sizeof *b);
    if (b)
        t->prv = b;
    int32_t *c = realloc(t->nxt, nc * sizeof *c);
    if (c)
        t->nxt = c;
    uint32_t *d = realloc(t->rank, nc * sizeof *d);
    if (d)
        t->rank = d;
    uint64_t *e = realloc(t->heap, nc * 2 * sizeof *e);
    if (e)
        t->heap = e;
    if (!a || !b || !c || !d || !e)
        return -1;
    t->capsym = nc;
    return 0;
}

static inline uint32_t pair_rank(const struct mvot_bpe *tok, int32_t a, int32_t b)
{
    const struct bpe_pmap_ent *e = bpe_pmap_get(&tok->merges, a, b);
    return e ? e->rank : UINT32_MAX;
}

/* Small words: ranks of adjacent pairs kept in an array; each step merges the lowest rank,
 * leftmost on ties, which is the order HF's heap pops (rank, position). */
static size_t merge_small(const struct mvot_bpe *tok, int32_t *sym, uint32_t *rank, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        rank[i] = pair_rank(tok, sym[i], sym[i + 1]);
    while (n > 1) {
        size_t best = SIZE_MAX;
        uint32_t br = UINT32_MAX;
        for (size_t i = 0; i + 1 < n; i++)
            if (rank[i] < br) {
                br = rank[i];
                best = i;
            }
        if (best == SIZE_MAX)
            break;
        sym[best] = bpe_pmap_get(&tok->merges, sym[best], sym[best + 1])->id;
        memmove(sym + best + 1, sym + best + 2, (n - best - 2) * sizeof *sym);
        if (best + 3 <= n)
            memmove(rank + best + 1, rank + best + 2, (n - best - 3) * sizeof *rank);
        n--;
        if (best > 0)
            rank[best - 1] = pair_rank(tok, sym[best - 1], sym[best]);
        if (best + 1 < n)
            rank[best] = pair_rank(tok, sym[best], sym[best + 1]);
    }
    return n;
}

static void heap_push(uint64_t *h, size_t *n, uint64_t v)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p] <= v)
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = v;
}

static uint64_t heap_pop(uint64_t *h, size_t *n)
{
    uint64_t top = h[0], v = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (h[c] >= v)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
    return top;
}

/* Long words: HF's algorithm, a heap of (rank, position) over a linked list of symbols. */
static size_t merge_large(const struct mvot_bpe *tok, struct bpe_tls *t, size_t n)
{
    int32_t *sym = t->sym, *prv = t->prv, *nxt = t->nxt;
    uint64_t *h = t->heap;
    size_t hn = 0;
    for (size_t i = 0; i < n; i++) {
        prv[i] = (int32_t)i - 1;
        nxt[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        uint32_t r = pair_rank(tok, sym[i], sym[i + 1]);
        if (r != UINT32_MAX)
            heap_push(h, &hn, ((uint64_t)r << 32) | i);
    }
    while (hn) {
        uint64_t top = heap_pop(h, &hn);
        uint32_t r = (uint32_t)(top >> 32), pos = (uint32_t)top;
        if (sym[pos] < 0 || nxt[pos] < 0)
            continue;
        int32_t right = nxt[pos];
        const struct bpe_pmap_ent *e = bpe_pmap_get(&tok->merges, sym[pos], sym[right]);
        if (!e || e->rank != r)
            continue; /* stale entry */
        sym[pos] = e->id;
        sym[right] = -1;
        nxt[pos] = nxt[right];
        if (nxt[right] >= 0)
            prv[nxt[right]] = (int32_t)pos;
        if (prv[pos] >= 0) {
            uint32_t pr = pair_rank(tok, sym[prv[pos]], sym[pos]);
            if (pr != UINT32_MAX)
                heap_push(h, &hn, ((uint64_t)pr << 32) | (uint32_t)prv[pos]);
        }
        if (nxt[pos] >= 0) {
            uint32_t nr = pair_rank(tok, sym[pos], sym[nxt[pos]]);
            if (nr != UINT32_MAX)
                heap_push(h, &hn, ((uint64_t)nr << 32) | pos);
        }
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (sym[i] >= 0)
            sym[m++] = sym[i];
    return m;
}

#define SMALL_WORD 64

/* HF merge_word: one symbol per character (with prefix/suffix), byte fallback, unk fusing. */
static int word_symbols(const struct mvot_bpe *tok, struct bpe_tls *t, const char *w, size_t n,
                        size_t *nsym)
{
    size_t ns = 0;
    int32_t unk = -1; /* pending unk id */
    size_t i = 0;
    if (ensure_sym(t, n * 2 + 8))
        return -1;
    while (i < n) {
        size_t l;
        (void)bpe_utf8_next(w + i, n - i, &l);
        int first = i == 0, last = i + l >= n;
        const char *s = w + i;
        size_t sl = l;
        if ((!first && tok->prefix) || (last && tok->suffix)) {
            t->wbuf.n = 0;
            if ((!first && tok->prefix && bpe_sbuf_add(&t->wbuf, tok->prefix, tok->prefix_len)) ||
                bpe_sbuf_add(&t->wbuf, s, l) ||
                (last && tok->suffix && bpe_sbuf_add(&t->wbuf, tok->suffix, tok->suffix_len)))
                return -1;
            s = t->wbuf.p;
            sl = t->wbuf.n;
        }
        i += l;
        int32_t id = bpe_smap_get(&tok->vocab, s, sl);
        if (id >= 0) {
            if (unk >= 0) {
                t->sym[ns++] = unk;
                unk = -1;
            }
            t->sym[ns++] = id;
            continue;
        }
        if (tok->byte_fallback) {
            int ok = 1;
            for (size_t k = 0; k < sl; k++)
                if (tok->byte_fallback_id[(uint8_t)s[k]] < 0)
                    ok = 0;
            if (ok) {
                if (ensure_sym(t, ns + sl + n + 8))
                    return -1;
                /* HF adds the byte tokens without flushing a pending unk first */
                for (size_t k = 0; k < sl; k++)
                    t->sym[ns++] = tok->byte_fallback_id[(uint8_t)s[k]];
                continue;
            }
        }
        if (tok->unk_id >= 0) {
            if (unk >= 0 && !tok->fuse_unk)
                t->sym[ns++] = unk;
            unk = tok->unk_id;
        }
        /* with neither byte fallback nor unk the character is dropped, as in HF */
    }
    if (unk >= 0)
        t->sym[ns++] = unk;
    *nsym = ns;
    return 0;
}

/* Tokenizes one final piece; `raw` means s holds raw bytes of a byte-level piece. */
static enum mvot_status model_piece(const struct mvot_bpe *tok, struct bpe_tls *t, const char *s,
                                    size_t n, int raw, struct mvot_ids *out)
{
    uint64_t h = 0;
    int cacheable = n <= CACHE_MAX_KEY;
    if (cacheable) {
        h = bpe_hash_bytes(s, n);
        size_t ni;
        const int32_t *ids = cache_get(t, s, n, h, &ni);
        if (ids)
            return mvot_ids_append(out, ids, ni);
    }
    size_t ns = 0;
    int done = 0;
    if (raw) {
        if (tok->ignore_merges) {
            int32_t id = bpe_smap_get(&tok->raw_vocab, s, n);
            if (id >= 0) {
                if (ensure_sym(t, 1))
                    return MVOT_ERR_NOMEM;
                t->sym[0] = id;
                ns = 1;
                done = 1;
            }
        }
        if (!done) {
            if (ensure_sym(t, n + 1))
                return MVOT_ERR_NOMEM;
            int ok = 1;
            for (size_t i = 0; i < n; i++) {
                int32_t id = tok->byte_id[(uint8_t)s[i]];
                if (id < 0) {
                    ok = 0;
                    break;
                }
                t->sym[i] = id;
            }
            if (ok) {
                ns = n;
            } else {
                /* a byte without a token: take the general path on the mapped string */
                size_t ml;
                char *m = map_bytes(t, s, n, &ml);
                if (!m || word_symbols(tok, t, m, ml, &ns))
                    return MVOT_ERR_NOMEM;
            }
        }
    } else {
        if (tok->ignore_merges) {
            int32_t id = bpe_smap_get(&tok->vocab, s, n);
            if (id >= 0) {
                if (ensure_sym(t, 1))
                    return MVOT_ERR_NOMEM;
                t->sym[0] = id;
                ns = 1;
                done = 1;
            }
        }
        if (!done && word_symbols(tok, t, s, n, &ns))
            return MVOT_ERR_NOMEM;
    }
    if (!done && ns > 1) {
        if (ns <= SMALL_WORD)
            ns = merge_small(tok, t->sym, t->rank, ns);
        else
            ns = merge_large(tok, t, ns);
    }
    if (cacheable)
        cache_put(t, s, n, h, t->sym, ns);
    return mvot_ids_append(out, t->sym, ns);
}

/* ---- the pipeline ---- */

static enum mvot_status encode_text(const struct mvot_bpe *tok, struct bpe_tls *t, const char *s,
                                    size_t n, int at_start, struct mvot_ids *out)
{
    enum mvot_status st;
    struct pieces *in = &t->pa, *nx = &t->pb;
    in->n = 0;
    if (pieces_push(in, s, n, at_start))
        return MVOT_ERR_NOMEM;
    for (size_t k = 0; k < tok->npretoks; k++) {
        st = pretok_step(tok, t, &tok->pretoks[k], k + 1 == tok->npretoks, in, nx);
        if (st != MVOT_OK)
            return st;
        struct pieces *x = in;
        in = nx;
        nx = x;
    }
    int raw = tok->bytelevel_last;
    if (t->piece_cb) {
        for (size_t i = 0; i < in->n; i++)
            if (t->piece_cb(t->piece_ctx, in->v[i].s, in->v[i].len))
                return MVOT_ERR_NOMEM;
        return MVOT_OK;
    }
    for (size_t i = 0; i < in->n; i++) {
        const char *ps = in->v[i].s;
        size_t pl = in->v[i].len;
        if (raw && !tok->bytelevel_model) {
            size_t ml;
            char *m = map_bytes(t, ps, pl, &ml);
            if (!m)
                return MVOT_ERR_NOMEM;
            st = model_piece(tok, t, m, ml, 0, out);
        } else if (tok->seg_metaspace && pl > 3) {
            /* cut before every U+2581 that follows another character (see bpe_internal.h) */
            size_t b = 0;
            st = MVOT_OK;
            for (size_t k = 1; k + 3 <= pl && st == MVOT_OK; k++) {
                if ((uint8_t)ps[k] != 0xE2 || memcmp(ps + k, "\xE2\x96\x81", 3) != 0)
                    continue;
                if (k >= 3 && !memcmp(ps + k - 3, "\xE2\x96\x81", 3))
                    continue;
                st = model_piece(tok, t, ps + b, k - b, 0, out);
                b = k;
                k += 2;
            }
            if (st == MVOT_OK)
                st = model_piece(tok, t, ps + b, pl - b, 0, out);
        } else {
            st = model_piece(tok, t, ps, pl, raw, out);
        }
        if (st != MVOT_OK)
            return st;
    }
    return MVOT_OK;
}

static int is_word_char(uint32_t cp)
{
    return cp == '_' || bpe_is_alnum(cp);
}

static uint32_t last_cp(const char *s, size_t n)
{
    size_t k = n - 1;
    while (k > 0 && ((uint8_t)s[k] & 0xC0) == 0x80)
        k--;
    size_t l;
    return bpe_utf8_next(s + k, n - k, &l);
}

typedef enum mvot_status (*text_fn)(const struct mvot_bpe *tok, struct bpe_tls *t, const char *s,
                                    size_t n, int at_start, struct mvot_ids *out);

/* HF AddedVocabulary::find_matches over s with the given trie; text between matches goes to
 * `text`, matched tokens are appended as ids. */
static enum mvot_status split_added(const struct mvot_bpe *tok, struct bpe_tls *t,
                                    const struct bpe_trie *trie, const char *s, size_t n,
                                    int at_start, text_fn text, struct mvot_ids *out)
{
    enum mvot_status st;
    size_t start_off = 0, pos = 0;
    if (trie->nonempty) {
        while (pos < n) {
            if (trie->root_next[(uint8_t)s[pos]] < 0) {
                pos++;
                continue;
            }
            size_t mlen = 0;
            int32_t idx = bpe_trie_longest(trie, s + pos, n - pos, &mlen);
            if (idx < 0) {
                pos++;
                continue;
            }
            const struct bpe_added *a = &tok->added[idx];
            size_t start = pos, stop = pos + mlen;
            pos = stop;
            if (a->single_word) {
                int start_space = start == 0 || !is_word_char(last_cp(s, start));
                size_t l;
                int stop_space = stop == n || !is_word_char(bpe_utf8_next(s + stop, n - stop, &l));
                if (!start_space || !stop_space)
                    continue;
            }
            if (a->lstrip) {
                size_t ns = start;
                while (ns > 0) {
                    size_t k = ns - 1;
                    while (k > 0 && ((uint8_t)s[k] & 0xC0) == 0x80)
                        k--;
                    size_t l;
                    if (!bpe_is_whitespace(bpe_utf8_next(s + k, ns - k, &l)))
                        break;
                    ns = k;
                }
                start = ns > start_off ? ns : start_off;
            }
            if (a->rstrip) {
                while (stop < n) {
                    size_t l;
                    if (!bpe_is_whitespace(bpe_utf8_next(s + stop, n - stop, &l)))
                        break;
                    stop += l;
                }
            }
            if (start > start_off) {
                st =
                    text(tok, t, s + start_off, start - start_off, at_start && start_off == 0, out);
                if (st != MVOT_OK)
                    return st;
            }
            if ((st = mvot_ids_push(out, a->id)) != MVOT_OK)
                return st;
            start_off = stop;
        }
    }
    if (start_off < n)
        return text(tok, t, s + start_off, n - start_off, at_start && start_off == 0, out);
    return MVOT_OK;
}

/* A piece between raw added tokens: normalize, then extract normalized added tokens. */
static enum mvot_status normalized_piece(const struct mvot_bpe *tok, struct bpe_tls *t,
                                         const char *s, size_t n, int at_start,
                                         struct mvot_ids *out)
{
    if (!tok->nnorms)
        return split_added(tok, t, &tok->trie_norm, s, n, at_start, encode_text, out);
    t->nbuf.n = 0;
    if (bpe_sbuf_add(&t->nbuf, s, n) != MVOT_OK)
        return MVOT_ERR_NOMEM;
    struct bpe_sbuf tmp = {0};
    enum mvot_status st = normalize_with(tok, t->md, &t->nbuf, &tmp);
    bpe_sbuf_free(&tmp);
    if (st != MVOT_OK)
        return st;
    if (!t->nbuf.n)
        return MVOT_OK;
    /* the normalized text must outlive this call's pieces: move it to the arena */
    char *ns = bpe_arena_alloc(&t->arena, t->nbuf.n);
    if (!ns)
        return MVOT_ERR_NOMEM;
    memcpy(ns, t->nbuf.p, t->nbuf.n);
    return split_added(tok, t, &tok->trie_norm, ns, t->nbuf.n, at_start, encode_text, out);
}

enum mvot_status mvot_bpe_encode(const struct mvot_bpe *tok, const char *text, size_t len,
                                 int add_special, struct mvot_ids *out, struct mvot_error *err)
{
    enum mvot_status st;
    if (len > UINT32_MAX)
        return mvot_error_set(err, MVOT_ERR_INVALID, tok->name,
                              "text of %zu bytes is over the 4 GiB limit of one encode", len);
    struct bpe_tls *t = tls_get(tok);
    if (!t)
        return mvot_error_set(err, MVOT_ERR_NOMEM, tok->name, "out of memory");
    const char *s = len ? repair_utf8(t, text, &len) : "";
    if (!s)
        return mvot_error_set(err, MVOT_ERR_NOMEM, tok->name, "out of memory");
    if (add_special && tok->npost_pre &&
        (st = mvot_ids_append(out, tok->post_pre, tok->npost_pre)) != MVOT_OK)
        return mvot_error_set(err, st, tok->name, "out of memory");
    if (len) {
        st = split_added(tok, t, &tok->trie_raw, s, len, 1, normalized_piece, out);
        if (st != MVOT_OK)
            return norm_fail(tok, st, len, err);
    }
    if (add_special && tok->npost_post &&
        (st = mvot_ids_append(out, tok->post_post, tok->npost_post)) != MVOT_OK)
        return mvot_error_set(err, st, tok->name, "out of memory");
    return MVOT_OK;
}

enum mvot_status bpe_pretokenize(const struct mvot_bpe *tok, const char *text, size_t len,
                                 bpe_piece_fn cb, void *ctx, struct mvot_error *err)
{
    struct mvot_ids dummy = {0};
    struct bpe_tls *t = tls_get(tok);
    if (!t)
        return mvot_error_set(err, MVOT_ERR_NOMEM, tok->name, "out of memory");
    t->piece_cb = cb;
    t->piece_ctx = ctx;
    enum mvot_status st = mvot_bpe_encode(tok, text, len, 0, &dummy, err);
    t->piece_cb = NULL;
    t->piece_ctx = NULL;
    mvot_ids_free(&dummy);
    return st;
}

/* ---- batch ---- */

struct batch_ctx {
    const struct mvot_bpe *tok;
    const char *const *texts;
    const size_t *lens;
    int add_special;
    struct mvot_ids *outs;
    enum mvot_status *st;
    struct mvot_error *errs;
};

static void batch_one(void *ctx, size_t i, int worker)
{
    struct batch_ctx *c = ctx;
    (void)worker;
    c->st[i] =
        mvot_bpe_encode(c->tok, c->texts[i], c->lens[i], c->add_special, &c->outs[i], &c->errs[i]);
}

enum mvot_status mvot_bpe_encode_batch(const struct mvot_bpe *tok, const char *const *texts,
                                       const size_t *lens, size_t n, int add_special,
                                       struct mvot_pool *pool, struct mvot_ids *outs,
                                       struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    enum mvot_status *sts = calloc(n ? n : 1, sizeof *sts);
    struct mvot_error *errs = calloc(n ? n : 1, sizeof *errs);
    if (!sts || !errs) {
        free(sts);
        free(errs);
        return mvot_error_set(err, MVOT_ERR_NOMEM, tok->name, "out of memory");
    }
    struct batch_ctx c = {tok, texts, lens, add_special, outs, sts, errs};
    mvot_pool_for(pool, n, batch_one, &c);
    for (size_t i = 0; i < n; i++)
        if (sts[i] != MVOT_OK) {
            st = sts[i];
            if (err)
                *err = errs[i];
            mvot_error_prefix(err, "text %zu", i);
            break;
        }
    free(sts);
    free(errs);
    return st;
}

/* ---- decode ---- */

struct tokstr {
    char *s;
    size_t n;
};
struct toklist {
    struct tokstr *v;
    size_t n, cap;
};

static void toklist_free(struct toklist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].s);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int toklist_push(struct toklist *l, const char *s, size_t n)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        struct tokstr *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = nc;
    }
    char *c = malloc(n + 1);
    if (!c)
        return -1;
    memcpy(c, s, n);
    c[n] = 0;
    l->v[l->n].s = c;
    l->v[l->n].n = n;
    l->n++;
    return 0;
}

/* Appends bytes as a Rust from_utf8_lossy would read them. */
static int add_lossy(struct bpe_sbuf *o, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t v = bpe_utf8_valid_prefix(s + i, n - i);
        if (bpe_sbuf_add(o, s + i, v))
            return -1;
        i += v;
        if (i >= n)
            break;
        if (bpe_sbuf_add(o, "\xEF\xBF\xBD", 3))
            return -1;
        i += invalid_span((const uint8_t *)s + i, n - i);
    }
    return 0;
}

static int dec_bytelevel(struct toklist *l)
{
    struct bpe_sbuf raw = {0}, o = {0};
    int rc = 0;
    for (size_t i = 0; i < l->n && !rc; i++) {
        const char *s = l->v[i].s;
        size_t n = l->v[i].n, k = 0, start = raw.n;
        int ok = 1;
        while (k < n) {
            size_t cl;
            int b = bpe_cp_to_byte(bpe_utf8_next(s + k, n - k, &cl));
            if (b < 0) {
                ok = 0;
                break;
            }
            char c = (char)b;
            if (bpe_sbuf_add(&raw, &c, 1))
                rc = -1;
            k += cl;
        }
        if (!ok) {
            raw.n = start;
            if (bpe_sbuf_add(&raw, s, n))
                rc = -1;
        }
    }
    if (!rc)
        rc = add_lossy(&o, raw.p ? raw.p : "", raw.n);
    toklist_free(l);
    if (!rc)
        rc = toklist_push(l, o.p ? o.p : "", o.n);
    bpe_sbuf_free(&raw);
    bpe_sbuf_free(&o);
    return rc;
}

static int dec_metaspace(struct toklist *l, const struct bpe_dec *d)
{
    char rep[4];
    size_t rl = bpe_utf8_put(d->ch, rep);
    for (size_t i = 0; i < l->n; i++) {
        char *s = l->v[i].s;
        size_t n = l->v[i].n, w = 0, k = 0;
        while (k < n) {
            if (n - k >= rl && memcmp(s + k, rep, rl) == 0) {
                if (!(i == 0 && d->prepend_first))
                    s[w++] = ' ';
                k += rl;
            } else {
                s[w++] = s[k++];
            }
        }
        s[w] = 0;
        l->v[i].n = w;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int flush_bytes(struct toklist *nl, struct bpe_sbuf *bytes)
{
    if (!bytes->n)
        return 0;
    int rc = 0;
    if (bpe_utf8_valid_prefix(bytes->p, bytes->n) == bytes->n) {
        rc = toklist_push(nl, bytes->p, bytes->n);
    } else {
        /* HF emits one U+FFFD per byte when the run is not valid UTF-8 */
        for (size_t k = 0; k < bytes->n && !rc; k++)
            rc = toklist_push(nl, "\xEF\xBF\xBD", 3);
    }
    bytes->n = 0;
    return rc;
}

static int dec_bytefallback(struct toklist *l)
{
    struct toklist nl = {0};
    struct bpe_sbuf bytes = {0};
    int rc = 0;
    for (size_t i = 0; i < l->n && !rc; i++) {
        const char *s = l->v[i].s;
        if (l->v[i].n == 6 && !memcmp(s, "<0x", 3) && s[5] == '>' && hexval(s[3]) >= 0 &&
            hexval(s[4]) >= 0) {
            char b = (char)(hexval(s[3]) * 16 + hexval(s[4]));
            rc = bpe_sbuf_add(&bytes, &b, 1) ? -1 : 0;
            continue;
        }
        rc = flush_bytes(&nl, &bytes);
        if (!rc)
            rc = toklist_push(&nl, s, l->v[i].n);
    }
    if (!rc)
        rc = flush_bytes(&nl, &bytes);
    bpe_sbuf_free(&bytes);
    toklist_free(l);
    *l = nl;
    return rc;
}

static int dec_fuse(struct toklist *l)
{
    struct bpe_sbuf o = {0};
    int rc = 0;
    for (size_t i = 0; i < l->n && !rc; i++)
        rc = bpe_sbuf_add(&o, l->v[i].s, l->v[i].n) ? -1 : 0;
    toklist_free(l);
    if (!rc)
        rc = toklist_push(l, o.p ? o.p : "", o.n);
    bpe_sbuf_free(&o);
    return rc;
}

static int dec_strip(struct toklist *l, const struct bpe_dec *d)
{
    char c[4];
    size_t cl = bpe_utf8_put(d->ch, c);
    for (size_t i = 0; i < l->n; i++) {
        char *s = l->v[i].s;
        size_t n = l->v[i].n, b = 0, e = n;
        for (size_t k = 0; k < d->start && e - b >= cl && !memcmp(s + b, c, cl); k++)
            b += cl;
        for (size_t k = 0; k < d->stop && e - b >= cl && !memcmp(s + e - cl, c, cl); k++)
            e -= cl;
        memmove(s, s + b, e - b);
        s[e - b] = 0;
        l->v[i].n = e - b;
    }
    return 0;
}

static int dec_replace(struct toklist *l, const struct bpe_dec *d, pcre2_match_data *md)
{
    struct bpe_sbuf o = {0};
    int rc = 0;
    for (size_t i = 0; i < l->n && !rc; i++) {
        if (replace_all(&d->re, md, d->content, d->content_len, l->v[i].s, l->v[i].n, &o) !=
            MVOT_OK) {
            rc = -1;
            break;
        }
        char *c = malloc(o.n + 1);
        if (!c) {
            rc = -1;
            break;
        }
        memcpy(c, o.p ? o.p : "", o.n);
        c[o.n] = 0;
        free(l->v[i].s);
        l->v[i].s = c;
        l->v[i].n = o.n;
    }
    bpe_sbuf_free(&o);
    return rc;
}

enum mvot_status mvot_bpe_decode(const struct mvot_bpe *tok, const int32_t *ids, size_t n,
                                 int skip_special, char **out, struct mvot_error *err)
{
    size_t len;
    return mvot_bpe_decode_n(tok, ids, n, skip_special, out, &len, err);
}

enum mvot_status mvot_bpe_decode_n(const struct mvot_bpe *tok, const int32_t *ids, size_t n,
                                   int skip_special, char **out, size_t *out_len,
                                   struct mvot_error *err)
{
    struct toklist l = {0};
    struct bpe_sbuf o = {0};
    pcre2_match_data *md = NULL;
    int rc = 0;
    *out = NULL;
    for (size_t i = 0; i < n && !rc; i++) {
        int32_t id = ids[i];
        /* unknown ids are skipped, as HF does */
        if (id < 0 || (uint32_t)id >= tok->vocab_size || !tok->id_str[id])
            continue;
        if (skip_special && tok->id_special[id])
            continue;
        rc = toklist_push(&l, tok->id_str[id], tok->id_len[id]);
    }
    if (!rc && tok->has_decoder) {
        md = pcre2_match_data_create(1, NULL);
        rc = md ? 0 : -1;
        for (size_t k = 0; k < tok->ndecs && !rc; k++) {
            const struct bpe_dec *d = &tok->decs[k];
            switch (d->kind) {
            case BPE_D_BYTELEVEL: rc = dec_bytelevel(&l); break;
            case BPE_D_METASPACE: rc = dec_metaspace(&l, d); break;
            case BPE_D_BYTEFALLBACK: rc = dec_bytefallback(&l); break;
            case BPE_D_FUSE: rc = dec_fuse(&l); break;
            case BPE_D_STRIP: rc = dec_strip(&l, d); break;
            case BPE_D_REPLACE: rc = dec_replace(&l, d, md); break;
            }
        }
    }
    for (size_t i = 0; i < l.n && !rc; i++) {
        if (!tok->has_decoder && i > 0)
            rc = bpe_sbuf_add(&o, " ", 1) ? -1 : 0;
        if (!rc)
            rc = bpe_sbuf_add(&o, l.v[i].s, l.v[i].n) ? -1 : 0;
    }
    if (!rc)
        rc = bpe_sbuf_add(&o, "", 1) ? -1 : 0;
    pcre2_match_data_free(md);
    toklist_free(&l);
    if (rc) {
        bpe_sbuf_free(&o);
        return mvot_error_set(err, MVOT_ERR_NOMEM, tok->name, "out of memory decoding %zu ids", n);
    }
    *out = o.p;
    *out_len = o.n - 1;
    return MVOT_OK;
}

/* ---- load / free / accessors ---- */

enum mvot_status mvot_bpe_load_mem(const char *json, size_t len, const char *name,
                                   struct mvot_bpe **out, struct mvot_error *err)
{
    enum mvot_status st;
    *out = NULL;
    struct mvot_bpe *tok = calloc(1, sizeof *tok);
    if (!tok)
        return mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
    tok->name = strdup(name ? name : "tokenizer.json");
    tok->serial = atomic_fetch_add(&next_serial, 1);
    tok->file_hash = mvot_hash64(json, len);
    tok->unk_id = -1;
    if (!tok->name) {
        free(tok);
        return mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
    }
    st = bpe_load_json(tok, json, len, err);
    if (st != MVOT_OK) {
        mvot_bpe_free(tok);
        return st;
    }
    *out = tok;
    return MVOT_OK;
}

enum mvot_status mvot_bpe_load_file(const char *path, struct mvot_bpe **out, struct mvot_error *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    *out = NULL;
    enum mvot_status st = mvot_io_read_file(path, (size_t)1 << 31, &data, &len, err);
    if (st != MVOT_OK)
        return st;
    st = mvot_bpe_load_mem((const char *)data, len, path, out, err);
    free(data);
    return st;
}

void bpe_free_contents(struct mvot_bpe *tok)
{
    bpe_smap_free(&tok->vocab);
    bpe_smap_free(&tok->raw_vocab);
    bpe_pmap_free(&tok->merges);
    free(tok->strings);
    free(tok->raw_strings);
    free(tok->prefix);
    free(tok->suffix);
    free(tok->id_str);
    free(tok->id_len);
    free(tok->id_special);
    for (size_t i = 0; i < tok->nadded; i++) {
        free(tok->added[i].content);
        free(tok->added[i].norm);
    }
    free(tok->added);
    bpe_trie_free(&tok->trie_raw);
    bpe_trie_free(&tok->trie_norm);
    for (size_t i = 0; i < tok->nnorms; i++) {
        free(tok->norms[i].str);
        bpe_regex_free(&tok->norms[i].re);
    }
    free(tok->norms);
    for (size_t i = 0; i < tok->npretoks; i++)
        bpe_regex_free(&tok->pretoks[i].re);
    free(tok->pretoks);
    free(tok->post_pre);
    free(tok->post_post);
    for (size_t i = 0; i < tok->ndecs; i++) {
        free(tok->decs[i].content);
        bpe_regex_free(&tok->decs[i].re);
    }
    free(tok->decs);
    free(tok->chain_desc);
}

void mvot_bpe_free(struct mvot_bpe *tok)
{
    if (!tok)
        return;
    bpe_free_contents(tok);
    free(tok->name);
    free(tok);
}

uint32_t mvot_bpe_vocab_size(const struct mvot_bpe *tok)
{
    return tok->vocab_size;
}

int32_t mvot_bpe_token_to_id(const struct mvot_bpe *tok, const char *token)
{
    size_t n = strlen(token);
    for (size_t i = tok->nadded; i-- > 0;)
        if (tok->added[i].len == n && !memcmp(tok->added[i].content, token, n))
            return tok->added[i].id;
    return bpe_smap_get(&tok->vocab, token, n);
}

const char *mvot_bpe_id_to_token(const struct mvot_bpe *tok, int32_t id)
{
    if (id < 0 || (uint32_t)id >= tok->vocab_size)
        return NULL;
    return tok->id_str[id];
}

uint64_t mvot_bpe_file_hash(const struct mvot_bpe *tok)
{
    return tok->file_hash;
}

const char *mvot_bpe_pretok_chain(const struct mvot_bpe *tok)
{
    return tok->chain_desc ? tok->chain_desc : "(none)";
}

int mvot_bpe_is_special(const struct mvot_bpe *tok, int32_t id)
{
    return id >= 0 && (uint32_t)id < tok->vocab_size && tok->id_special[id];
}
