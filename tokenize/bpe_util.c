/* Helpers for the BPE tokenizer: UTF-8 decoding, the Unicode predicates HF uses (Rust char
 * methods), growable buffers, an arena of stable strings, open-addressing hash maps for the
 * vocabulary and the merges, the added-token trie, and GPT-2's bytes_to_unicode table.
 * Invariant: maps never shrink and keep load <= 1/2, so probes always end at an empty slot. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include <xxhash.h>

#include "core/mem.h"
#include "tokenize/bpe_internal.h"

uint32_t bpe_utf8_next(const char *s, size_t n, size_t *len)
{
    const uint8_t *u = (const uint8_t *)s;
    uint8_t c = u[0];
    if (c < 0x80 || n < 2) {
        *len = 1;
        return c;
    }
    if (c < 0xE0) {
        *len = 2;
        return ((uint32_t)(c & 0x1F) << 6) | (u[1] & 0x3F);
    }
    if (c < 0xF0 || n < 4) {
        *len = n < 3 ? n : 3;
        if (n < 3)
            return 0xFFFD;
        return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    }
    *len = 4;
    return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) |
           ((uint32_t)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
}

size_t bpe_utf8_put(uint32_t cp, char *out)
{
    uint8_t *o = (uint8_t *)out;
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at u[0..n), 0 if invalid (Unicode table 3-7). */
static size_t utf8_seq_len(const uint8_t *u, size_t n)
{
    uint8_t c = u[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2 || c > 0xF4)
        return 0;
    if (c < 0xE0)
        return (n >= 2 && (u[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3)
            return 0;
        uint8_t lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (u[1] < lo || u[1] > hi || (u[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (n < 4)
        return 0;
    uint8_t lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    if (u[1] < lo || u[1] > hi || (u[2] & 0xC0) != 0x80 || (u[3] & 0xC0) != 0x80)
        return 0;
    return 4;
}

size_t bpe_utf8_valid_prefix(const char *s, size_t n)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    while (i < n) {
        /* ASCII runs 8 bytes at a time: the common case for prompts and code */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (w & 0x8080808080808080ull)
                break;
            i += 8;
        }
        if (i >= n)
            break;
        size_t l = utf8_seq_len(u + i, n - i);
        if (!l)
            return i;
        i += l;
    }
    return n;
}

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

/* Appends s as a Rust from_utf8_lossy (or a WHATWG decoder) would read it. */
enum mvot_status bpe_sbuf_add_lossy(struct bpe_sbuf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t v = bpe_utf8_valid_prefix(s + i, n - i);
        if (bpe_sbuf_add(b, s + i, v) != MVOT_OK)
            return MVOT_ERR_NOMEM;
        i += v;
        if (i >= n)
            break;
        if (bpe_sbuf_add(b, "\xEF\xBF\xBD", 3) != MVOT_OK)
            return MVOT_ERR_NOMEM;
        i += invalid_span((const uint8_t *)s + i, n - i);
    }
    return MVOT_OK;
}

int bpe_is_whitespace(uint32_t cp)
{
    if (cp < 0x80)
        return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
    switch (cp) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return 1;
    default: return cp >= 0x2000 && cp <= 0x200A;
    }
}

int bpe_is_numeric(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= '0' && cp <= '9';
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

int bpe_is_alnum(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) || c == UTF8PROC_CATEGORY_MC ||
           c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

int bpe_is_punct(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) ||
               (cp >= 0x5B && cp <= 0x60) || (cp >= 0x7B && cp <= 0x7E);
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

/* ---- buffers ---- */

enum mvot_status bpe_sbuf_reserve(struct bpe_sbuf *b, size_t extra)
{
    if (extra > SIZE_MAX / 4 - b->n)
        return MVOT_ERR_NOMEM;
    return MVOT_GROW(&b->p, &b->cap, b->n + extra, SIZE_MAX / 4, NULL);
}

enum mvot_status bpe_sbuf_add(struct bpe_sbuf *b, const void *p, size_t n)
{
    if (bpe_sbuf_reserve(b, n) != MVOT_OK)
        return MVOT_ERR_NOMEM;
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    return MVOT_OK;
}

void bpe_sbuf_free(struct bpe_sbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

#define ARENA_BLOCK ((size_t)1 << 16)

char *bpe_arena_alloc(struct bpe_arena *a, size_t n)
{
    if (a->nblocks && a->size - a->used >= n) {
        char *p = a->blocks[a->nblocks - 1] + a->used;
        a->used += n;
        return p;
    }
    if (MVOT_GROW(&a->blocks, &a->capblocks, a->nblocks + 1, MVOT_GROW_UNCAPPED, NULL) != MVOT_OK)
        return NULL;
    size_t sz = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    char *blk = malloc(sz);
    if (!blk)
        return NULL;
    if (a->nblocks == 0)
        a->first_size = sz;
    a->blocks[a->nblocks++] = blk;
    a->size = sz;
    a->used = n;
    return blk;
}

void bpe_arena_reset(struct bpe_arena *a)
{
    /* keep the first block so steady-state encoding does not hit malloc */
    for (size_t i = 1; i < a->nblocks; i++)
        free(a->blocks[i]);
    if (a->nblocks) {
        a->nblocks = 1;
        a->used = 0;
        a->size = a->first_size;
    }
}

void bpe_arena_free(struct bpe_arena *a)
{
    for (size_t i = 0; i < a->nblocks; i++)
        free(a->blocks[i]);
    free(a->blocks);
    memset(a, 0, sizeof *a);
}

/* ---- hash maps ---- */

uint64_t bpe_hash_bytes(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}

static size_t pow2_for(size_t expect)
{
    size_t c = 16;
    while (c < expect * 2 + 2)
        c *= 2;
    return c;
}

enum mvot_status bpe_smap_init(struct bpe_smap *m, size_t expect)
{
    size_t c = pow2_for(expect);
    m->e = calloc(c, sizeof *m->e);
    if (!m->e)
        return MVOT_ERR_NOMEM;
    m->mask = c - 1;
    m->n = 0;
    return MVOT_OK;
}

static enum mvot_status smap_grow(struct bpe_smap *m)
{
    size_t c = (m->mask + 1) * 2;
    struct bpe_smap_ent *ne = calloc(c, sizeof *ne);
    if (!ne)
        return MVOT_ERR_NOMEM;
    for (size_t i = 0; i <= m->mask; i++) {
        if (!m->e[i].s)
            continue;
        size_t j = (size_t)m->e[i].h & (c - 1);
        while (ne[j].s)
            j = (j + 1) & (c - 1);
        ne[j] = m->e[i];
    }
    free(m->e);
    m->e = ne;
    m->mask = c - 1;
    return MVOT_OK;
}

enum mvot_status bpe_smap_put(struct bpe_smap *m, const char *s, size_t len, int32_t id)
{
    if ((m->n + 1) * 2 > m->mask + 1 && smap_grow(m) != MVOT_OK)
        return MVOT_ERR_NOMEM;
    uint64_t h = bpe_hash_bytes(s, len);
    size_t i = (size_t)h & m->mask;
    while (m->e[i].s) {
        if (m->e[i].h == h && m->e[i].len == len && memcmp(m->e[i].s, s, len) == 0) {
            m->e[i].id = id;
            return MVOT_OK;
        }
        i = (i + 1) & m->mask;
    }
    m->e[i].s = s;
    m->e[i].len = (uint32_t)len;
    m->e[i].id = id;
    m->e[i].h = h;
    m->n++;
    return MVOT_OK;
}

int32_t bpe_smap_get(const struct bpe_smap *m, const char *s, size_t len)
{
    if (!m->e)
        return -1;
    uint64_t h = bpe_hash_bytes(s, len);
    size_t i = (size_t)h & m->mask;
    while (m->e[i].s) {
        if (m->e[i].h == h && m->e[i].len == len && memcmp(m->e[i].s, s, len) == 0)
            return m->e[i].id;
        i = (i + 1) & m->mask;
    }
    return -1;
}

void bpe_smap_free(struct bpe_smap *m)
{
    free(m->e);
    memset(m, 0, sizeof *m);
}

enum mvot_status bpe_pmap_init(struct bpe_pmap *m, size_t expect)
{
    size_t c = pow2_for(expect);
    m->e = malloc(c * sizeof *m->e);
    if (!m->e)
        return MVOT_ERR_NOMEM;
    for (size_t i = 0; i < c; i++)
        m->e[i].key = UINT64_MAX;
    m->mask = c - 1;
    m->n = 0;
    return MVOT_OK;
}

/* The caller sized the map for every merge, so the table never fills. Duplicates overwrite:
 * the last rank wins, as when HF collects merges into a HashMap. */
void bpe_pmap_put(struct bpe_pmap *m, int32_t a, int32_t b, uint32_t rank, int32_t id)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
    while (m->e[i].key != UINT64_MAX && m->e[i].key != key)
        i = (i + 1) & m->mask;
    if (m->e[i].key == UINT64_MAX)
        m->n++;
    m->e[i].key = key;
    m->e[i].rank = rank;
    m->e[i].id = id;
}

void bpe_pmap_free(struct bpe_pmap *m)
{
    free(m->e);
    memset(m, 0, sizeof *m);
}

/* ---- added-token trie ---- */

enum mvot_status bpe_trie_build(struct bpe_trie *t, const struct bpe_added *a, size_t n,
                                int use_norm)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < 256; i++)
        t->root_next[i] = -1;
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += use_norm ? a[i].norm_len : a[i].len;
    t->node_first = malloc(total * sizeof *t->node_first);
    t->node_term = malloc(total * sizeof *t->node_term);
    t->edge_next = malloc(total * sizeof *t->edge_next);
    t->edge_to = malloc(total * sizeof *t->edge_to);
    t->edge_byte = malloc(total);
    if (!t->node_first || !t->node_term || !t->edge_next || !t->edge_to || !t->edge_byte)
        return MVOT_ERR_NOMEM;
    t->nnodes = 1;
    t->node_first[0] = -1;
    t->node_term[0] = -1;
    for (size_t i = 0; i < n; i++) {
        if (use_norm != a[i].normalized)
            continue;
        const uint8_t *s = (const uint8_t *)(use_norm ? a[i].norm : a[i].content);
        size_t len = use_norm ? a[i].norm_len : a[i].len;
        if (!len)
            continue;
        t->nonempty = 1;
        int32_t node = 0;
        for (size_t k = 0; k < len; k++) {
            int32_t next = -1;
            if (node == 0) {
                next = t->root_next[s[k]];
            } else {
                for (int32_t e = t->node_first[node]; e >= 0; e = t->edge_next[e])
                    if (t->edge_byte[e] == s[k]) {
                        next = t->edge_to[e];
                        break;
                    }
            }
            if (next < 0) {
                next = (int32_t)t->nnodes++;
                t->node_first[next] = -1;
                t->node_term[next] = -1;
                if (node == 0) {
                    t->root_next[s[k]] = next;
                } else {
                    int32_t e = (int32_t)t->nedges++;
                    t->edge_byte[e] = s[k];
                    t->edge_to[e] = next;
                    t->edge_next[e] = t->node_first[node];
                    t->node_first[node] = e;
                }
            }
            node = next;
        }
        /* a later duplicate content replaces an earlier one, like HF's map of contents */
        t->node_term[node] = (int32_t)i;
    }
    return MVOT_OK;
}

void bpe_trie_free(struct bpe_trie *t)
{
    free(t->node_first);
    free(t->node_term);
    free(t->edge_next);
    free(t->edge_to);
    free(t->edge_byte);
    memset(t, 0, sizeof *t);
}

int32_t bpe_trie_longest(const struct bpe_trie *t, const char *s, size_t n, size_t *len)
{
    const uint8_t *u = (const uint8_t *)s;
    int32_t node = t->root_next[u[0]];
    int32_t best = -1;
    size_t k = 1;
    while (node >= 0) {
        if (t->node_term[node] >= 0) {
            best = t->node_term[node];
            *len = k;
        }
        if (k >= n)
            break;
        int32_t next = -1;
        for (int32_t e = t->node_first[node]; e >= 0; e = t->edge_next[e])
            if (t->edge_byte[e] == u[k]) {
                next = t->edge_to[e];
                break;
            }
        node = next;
        k++;
    }
    return best;
}

/* ---- bytes_to_unicode ---- */

static int byte_is_printable(unsigned b)
{
    return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
}

uint32_t bpe_byte_to_cp(uint8_t b)
{
    if (byte_is_printable(b))
        return b;
    unsigned k = 0;
    for (unsigned x = 0; x < b; x++)
        if (!byte_is_printable(x))
            k++;
    return 256 + k;
}

int bpe_cp_to_byte(uint32_t cp)
{
    if (cp < 256)
        return byte_is_printable(cp) ? (int)cp : -1;
    if (cp >= 256 + 68)
        return -1;
    unsigned k = cp - 256;
    for (unsigned x = 0; x < 256; x++)
        if (!byte_is_printable(x) && k-- == 0)
            return (int)x;
    return -1;
}
