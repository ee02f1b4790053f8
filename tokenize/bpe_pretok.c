/* BPE pre-tokenizers with HF tokenizers semantics: ByteLevel, Split, Whitespace, Digits,
 * Punctuation, WhitespaceSplit and Metaspace. Every step turns the text of a piece into match
 * events (regex or per-character) and then applies HF's split behavior (Isolated, Removed,
 * MergedWithPrevious, MergedWithNext, Contiguous) to produce the next list of pieces. Pieces
 * point into the input or into the thread's arena; nothing is freed until the next encode. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "tokenize/bpe_internal.h"

static int ev_push(struct bpe_tls *t, size_t b, size_t e, int match)
{
    if (MVOT_GROW(&t->ev, &t->capev, t->nev + 1, MVOT_GROW_UNCAPPED, NULL) != MVOT_OK)
        return -1;
    t->ev[t->nev].b = b;
    t->ev[t->nev].e = e;
    t->ev[t->nev].match = match;
    t->nev++;
    return 0;
}

/* Applies a split behavior to t->ev (covering piece p) and appends the results to out. */
static int apply_behavior(struct bpe_tls *t, const struct bpe_piece *p, enum bpe_behavior beh,
                          int invert, struct bpe_pieces *out)
{
    struct bpe_event *ev = t->ev;
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
            struct bpe_event x = ev[k];
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
        if (bpe_pieces_push(out, p->s + ev[i].b, ev[i].e - ev[i].b, p->at_start && ev[i].b == 0))
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
char *bpe_map_bytes(struct bpe_tls *t, const char *s, size_t n, size_t *out_len)
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

enum mvot_status bpe_pretok_step(const struct mvot_bpe *tok, struct bpe_tls *t,
                                 const struct bpe_pretok *pt, int is_last,
                                 const struct bpe_pieces *in, struct bpe_pieces *out)
{
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        struct bpe_piece p = in->v[i];
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
                rc = bpe_pieces_push(out, p.s, p.len, p.at_start);
            }
            if (!rc && !is_last) {
                /* a later step needs the mapped characters themselves */
                for (size_t k = first; k < out->n; k++) {
                    size_t ml;
                    char *m = bpe_map_bytes(t, out->v[k].s, out->v[k].len, &ml);
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
            struct bpe_piece q = {prepend ? ns : body, (uint32_t)(prepend ? blen + rl : blen),
                                  p.at_start};
            if (pt->split) {
                rc = char_events(t, pred_eq, pt->replacement, q.s, q.len);
                if (!rc)
                    rc = apply_behavior(t, &q, BPE_B_MERGED_NEXT, 0, out);
            } else {
                rc = bpe_pieces_push(out, q.s, q.len, q.at_start);
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
