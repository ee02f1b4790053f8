/* The BPE merge model with HF tokenizers semantics: a piece becomes one symbol per character
 * (continuing-subword prefix, end-of-word suffix, byte fallback, unknown-token fusing) and
 * adjacent pairs merge lowest rank first, leftmost on ties. Short words use an array scan,
 * long ones HF's heap over a linked list; both give the same result. Results are cached per
 * thread (piece bytes -> ids), keyed by the handle's serial number through struct bpe_tls. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "tokenize/bpe_internal.h"

void bpe_cache_clear(struct bpe_tls *t)
{
    if (++t->gen == 0) {
        for (size_t i = 0; i < BPE_CACHE_SLOTS; i++)
            t->ce[i].gen = 0;
        t->gen = 1;
    }
    t->cn = 0;
    t->ckeys.n = 0;
    t->cids_n = 0;
}

static const int32_t *cache_get(struct bpe_tls *t, const char *s, size_t n, uint64_t h, size_t *ni)
{
    size_t i = (size_t)h & (BPE_CACHE_SLOTS - 1);
    for (;;) {
        const struct bpe_cache_ent *e = &t->ce[i];
        if (e->gen != t->gen)
            return NULL;
        if (e->h == h && e->klen == n && memcmp(t->ckeys.p + e->koff, s, n) == 0) {
            *ni = e->ni;
            return t->cids + e->ioff;
        }
        i = (i + 1) & (BPE_CACHE_SLOTS - 1);
    }
}

static void cache_put(struct bpe_tls *t, const char *s, size_t n, uint64_t h, const int32_t *ids,
                      size_t ni)
{
    if (t->cn * 2 >= BPE_CACHE_SLOTS || t->ckeys.n > ((size_t)8 << 20))
        bpe_cache_clear(t);
    if (MVOT_GROW(&t->cids, &t->cids_cap, t->cids_n + ni, MVOT_GROW_UNCAPPED, NULL) != MVOT_OK)
        return; /* the cache is an optimization: skip on OOM */
    size_t koff = t->ckeys.n;
    if (bpe_sbuf_add(&t->ckeys, s, n) != MVOT_OK)
        return;
    if (ni)
        memcpy(t->cids + t->cids_n, ids, ni * sizeof *ids);
    size_t i = (size_t)h & (BPE_CACHE_SLOTS - 1);
    while (t->ce[i].gen == t->gen)
        i = (i + 1) & (BPE_CACHE_SLOTS - 1);
    t->ce[i].gen = t->gen;
    t->ce[i].h = h;
    t->ce[i].koff = (uint32_t)koff;
    t->ce[i].klen = (uint32_t)n;
    t->ce[i].ioff = (uint32_t)t->cids_n;
    t->ce[i].ni = (uint32_t)ni;
    t->cids_n += ni;
    t->cn++;
}

static int ensure_sym(struct bpe_tls *t, size_t n)
{
    if (n <= t->capsym)
        return 0;
    /* five arrays share one capacity; the heap holds two entries per symbol */
    size_t nc = mvot_grow_cap(t->capsym, n, MVOT_GROW_UNCAPPED / 2);
    if (!nc || mvot_realloc_n(&t->sym, nc, sizeof *t->sym) != MVOT_OK ||
        mvot_realloc_n(&t->prv, nc, sizeof *t->prv) != MVOT_OK ||
        mvot_realloc_n(&t->nxt, nc, sizeof *t->nxt) != MVOT_OK ||
        mvot_realloc_n(&t->rank, nc, sizeof *t->rank) != MVOT_OK ||
        mvot_realloc_n(&t->heap, 2 * nc, sizeof *t->heap) != MVOT_OK)
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

/* ignore_merges: a piece that is itself a token becomes that one token. Returns 1 when it
 * is (t->sym[0] holds the id), 0 when not, -1 when out of memory. */
static int whole_token(struct bpe_tls *t, const struct bpe_smap *map, const char *s, size_t n)
{
    int32_t id = bpe_smap_get(map, s, n);
    if (id < 0)
        return 0;
    if (ensure_sym(t, 1))
        return -1;
    t->sym[0] = id;
    return 1;
}

/* Tokenizes one final piece; `raw` means s holds raw bytes of a byte-level piece. */
enum mvot_status bpe_model_piece(const struct mvot_bpe *tok, struct bpe_tls *t, const char *s,
                                 size_t n, int raw, struct mvot_ids *out)
{
    uint64_t h = 0;
    int cacheable = n <= BPE_CACHE_MAX_KEY;
    if (cacheable) {
        h = bpe_hash_bytes(s, n);
        size_t ni;
        const int32_t *ids = cache_get(t, s, n, h, &ni);
        if (ids)
            return mvot_ids_append(out, ids, ni);
    }
    size_t ns = 0;
    int done = 0;
    if (tok->ignore_merges) {
        int w = whole_token(t, raw ? &tok->raw_vocab : &tok->vocab, s, n);
        if (w < 0)
            return MVOT_ERR_NOMEM;
        done = w;
        ns = (size_t)w;
    }
    if (raw) {
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
                char *m = bpe_map_bytes(t, s, n, &ml);
                if (!m || word_symbols(tok, t, m, ml, &ns))
                    return MVOT_ERR_NOMEM;
            }
        }
    } else {
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
