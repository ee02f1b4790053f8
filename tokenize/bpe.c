/* BPE encode with HF tokenizers semantics (tokenizers 0.22, the Rust library): the pipeline.
 *
 * Encode runs HF's pipeline: invalid UTF-8 becomes U+FFFD (as a Rust/JS string would), added
 * tokens are extracted leftmost-longest on the raw text, the normalizer runs on each piece
 * between them, normalized added tokens are extracted from its output, the pre-tokenizers
 * split each piece, and the BPE model turns every final piece into ids; the post-processor
 * then adds its special tokens. A byte-level tokenizer never materializes the mapped
 * characters: the model starts from per-byte ids and a raw-bytes vocabulary. The components
 * live beside this file (bpe_normalize.c, bpe_pretok.c, bpe_model.c; decode in bpe_decode.c).
 *
 * The handle is immutable. Scratch memory and a merge cache (piece bytes -> ids) live in
 * thread-local state keyed by the handle's serial number, so concurrent encodes never lock. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/pool.h"
#include "tokenize/bpe_internal.h"

/* ---- thread-local state (struct bpe_tls is in bpe_internal.h) ---- */

static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

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

static struct bpe_tls *tls_get(const struct mvot_bpe *tok)
{
    pthread_once(&tls_once, tls_init_key);
    struct bpe_tls *t = pthread_getspecific(tls_key);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t)
            return NULL;
        t->md = pcre2_match_data_create(1, NULL);
        t->ce = calloc(BPE_CACHE_SLOTS, sizeof *t->ce);
        if (!t->md || !t->ce || pthread_setspecific(tls_key, t) != 0) {
            tls_destroy(t);
            return NULL;
        }
        bpe_cache_clear(t);
    }
    if (t->serial != tok->serial) {
        bpe_cache_clear(t);
        t->serial = tok->serial;
    }
    bpe_arena_reset(&t->arena);
    return t;
}

int bpe_pieces_push(struct bpe_pieces *p, const char *s, size_t len, int at_start)
{
    if (MVOT_GROW(&p->v, &p->cap, p->n + 1, MVOT_GROW_UNCAPPED, NULL) != MVOT_OK)
        return -1;
    p->v[p->n].s = s;
    p->v[p->n].len = (uint32_t)len;
    p->v[p->n].at_start = (uint8_t)at_start;
    p->n++;
    return 0;
}

/* ---- UTF-8 repair ---- */

/* Returns s itself when valid, else a repaired copy in t->lossy. */
static const char *repair_utf8(struct bpe_tls *t, const char *s, size_t *n)
{
    size_t ok = bpe_utf8_valid_prefix(s, *n);
    if (ok == *n)
        return s;
    t->lossy.n = 0;
    if (bpe_sbuf_add_lossy(&t->lossy, s, *n) != MVOT_OK)
        return NULL;
    *n = t->lossy.n;
    return t->lossy.p ? t->lossy.p : "";
}

/* ---- the pipeline ---- */

static enum mvot_status encode_text(const struct mvot_bpe *tok, struct bpe_tls *t, const char *s,
                                    size_t n, int at_start, struct mvot_ids *out)
{
    enum mvot_status st;
    struct bpe_pieces *in = &t->pa, *nx = &t->pb;
    in->n = 0;
    if (bpe_pieces_push(in, s, n, at_start))
        return MVOT_ERR_NOMEM;
    for (size_t k = 0; k < tok->npretoks; k++) {
        st = bpe_pretok_step(tok, t, &tok->pretoks[k], k + 1 == tok->npretoks, in, nx);
        if (st != MVOT_OK)
            return st;
        struct bpe_pieces *x = in;
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
            char *m = bpe_map_bytes(t, ps, pl, &ml);
            if (!m)
                return MVOT_ERR_NOMEM;
            st = bpe_model_piece(tok, t, m, ml, 0, out);
        } else if (tok->seg_metaspace && pl > 3) {
            /* cut before every U+2581 that follows another character (see bpe_internal.h) */
            size_t b = 0;
            st = MVOT_OK;
            for (size_t k = 1; k + 3 <= pl && st == MVOT_OK; k++) {
                if ((uint8_t)ps[k] != 0xE2 || memcmp(ps + k, "\xE2\x96\x81", 3) != 0)
                    continue;
                if (k >= 3 && !memcmp(ps + k - 3, "\xE2\x96\x81", 3))
                    continue;
                st = bpe_model_piece(tok, t, ps + b, k - b, 0, out);
                b = k;
                k += 2;
            }
            if (st == MVOT_OK)
                st = bpe_model_piece(tok, t, ps + b, pl - b, 0, out);
        } else {
            st = bpe_model_piece(tok, t, ps, pl, raw, out);
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
    enum mvot_status st = bpe_normalize_with(tok, t->md, &t->nbuf, &tmp);
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
            return bpe_norm_fail(tok, st, len, err);
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
