/* Deterministic byte-level BPE trainer writing an HF tokenizer.json in the Chameleon layout
 * (see bpe_train.h). Pre-tokenization is the very pipeline the encoder runs (the untrained
 * layout file is loaded and its pre-tokenizer applied), so training words and encoding words
 * agree by construction. The merge loop keeps pair counts incrementally with a lazy max-heap
 * (an entry is valid while its count equals the pair's current count). The training record
 * lives in model.mvot_training: HF rejects unknown top-level keys but ignores unknown model
 * keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/pool.h"
#include "tokenize/bpe_internal.h"
#include "tokenize/bpe_train.h"
#include "tokenize/chameleon.h"

#define N_BYTES 256u
#define FIRST_MERGE_ID (MVOT_BPE_RESERVED + N_BYTES)

void mvot_bpe_train_opts_default(struct mvot_bpe_train_opts *o)
{
    o->vocab_size = 65536;
    o->min_frequency = 2;
}

/* Name of reserved id `id` (< MVOT_BPE_RESERVED) into buf. */
static void reserved_name(uint32_t id, char *buf, size_t cap)
{
    static const char *fixed[] = {"<s>", "<pad>", "</s>", "<unk>"};
    if (id < 4)
        snprintf(buf, cap, "%s", fixed[id]);
    else if (id < 4 + MVOT_CHAMELEON_CODES)
        mvot_layout_code_name(id - 4, buf, cap);
    else if (id == 8196)
        snprintf(buf, cap, "<eoss>");
    else if (id == 8197)
        snprintf(buf, cap, "<racm3:break>");
    else if (id == 8711)
        snprintf(buf, cap, "<image>");
    else
        snprintf(buf, cap, "<reserved%05u>", id - 4);
}

static int is_added_special(uint32_t id)
{
    return id < 4 || id >= 4 + MVOT_CHAMELEON_CODES;
}

static json_t *split_regex(const char *re)
{
    return json_pack("{s:s, s:{s:s}, s:s, s:b}", "type", "Split", "pattern", "Regex", re,
                     "behavior", "Isolated", "invert", 0);
}

/* Mapped (bytes_to_unicode) form of raw bytes, malloc'd. */
static char *map_str(const char *s, size_t n)
{
    char *o = malloc(n * 2 + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += bpe_utf8_put(bpe_byte_to_cp((uint8_t)s[i]), o + k);
    o[k] = 0;
    return o;
}

/* Builds the tokenizer.json document. tokens[i] (raw bytes) for ids FIRST_MERGE_ID + i;
 * merges as pairs of ids in the full id space. */
static json_t *build_doc(const char *const *tok_s, const size_t *tok_n, size_t ntok,
                         const int32_t *merges, size_t nmerges, const char *const *id_raw,
                         const size_t *id_raw_n, json_t *record)
{
    json_t *doc = json_object(), *added = json_array(), *vocab = json_object(), *jm = json_array();
    if (!doc || !added || !vocab || !jm)
        goto fail;
    char name[32];
    for (uint32_t id = 0; id < MVOT_BPE_RESERVED; id++) {
        reserved_name(id, name, sizeof name);
        if (json_object_set_new(vocab, name, json_integer(id)))
            goto fail;
        if (is_added_special(id) &&
            json_array_append_new(added,
                                  json_pack("{s:i, s:s, s:b, s:b, s:b, s:b, s:b}", "id", (int)id,
                                            "content", name, "single_word", 0, "lstrip", 0,
                                            "rstrip", 0, "normalized", 0, "special", 1)))
            goto fail;
    }
    for (uint32_t b = 0; b < N_BYTES; b++) {
        char c[8];
        size_t l = bpe_utf8_put(bpe_byte_to_cp((uint8_t)b), c);
        c[l] = 0;
        if (json_object_set_new(vocab, c, json_integer(MVOT_BPE_RESERVED + b)))
            goto fail;
    }
    for (size_t i = 0; i < ntok; i++) {
        char *m = map_str(tok_s[i], tok_n[i]);
        if (!m || json_object_set_new(vocab, m, json_integer((json_int_t)(FIRST_MERGE_ID + i)))) {
            free(m);
            goto fail;
        }
        free(m);
    }
    for (size_t i = 0; i < nmerges; i++) {
        char *a = map_str(id_raw[merges[2 * i]], id_raw_n[merges[2 * i]]);
        char *b = map_str(id_raw[merges[2 * i + 1]], id_raw_n[merges[2 * i + 1]]);
        json_t *pair = (a && b) ? json_pack("[s, s]", a, b) : NULL;
        free(a);
        free(b);
        if (!pair || json_array_append_new(jm, pair))
            goto fail;
    }
    json_t *pretok = json_pack(
        "{s:s, s:[o, o, o, {s:s, s:b}, {s:s, s:s}, {s:s, s:b, s:b, s:b}]}", "type", "Sequence",
        "pretokenizers", split_regex("<sentinel:[0-9]+>"),
        split_regex("(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z"), split_regex("([\\t\\n]|    |  )"),
        "type", "Digits", "individual_digits", 1, "type", "Punctuation", "behavior", "Isolated",
        "type", "ByteLevel", "add_prefix_space", 0, "trim_offsets", 1, "use_regex", 1);
    json_t *post = json_pack(
        "{s:s, s:[{s:{s:s, s:i}}, {s:{s:s, s:i}}], s:[{s:{s:s, s:i}}, {s:{s:s, s:i}}, "
        "{s:{s:s, s:i}}, {s:{s:s, s:i}}], s:{s:{s:s, s:[i], s:[s]}}}",
        "type", "TemplateProcessing", "single", "SpecialToken", "id", "<s>", "type_id", 0,
        "Sequence", "id", "A", "type_id", 0, "pair", "SpecialToken", "id", "<s>", "type_id", 0,
        "Sequence", "id", "A", "type_id", 0, "SpecialToken", "id", "<s>", "type_id", 1, "Sequence",
        "id", "B", "type_id", 1, "special_tokens", "<s>", "id", "<s>", "ids", 0, "tokens", "<s>");
    json_t *decoder = json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 1,
                                "trim_offsets", 1, "use_regex", 1);
    json_t *model = json_pack("{s:s, s:n, s:s, s:n, s:n, s:b, s:b, s:b, s:o, s:o}", "type", "BPE",
                              "dropout", "unk_token", "<unk>", "continuing_subword_prefix",
                              "end_of_word_suffix", "fuse_unk", 0, "byte_fallback", 0,
                              "ignore_merges", 0, "vocab", vocab, "merges", jm);
    vocab = jm = NULL;
    if (!pretok || !post || !decoder || !model) {
        json_decref(pretok);
        json_decref(post);
        json_decref(decoder);
        json_decref(model);
        goto fail;
    }
    if (record)
        json_object_set(model, "mvot_training", record);
    if (json_object_set_new(doc, "version", json_string("1.0")) ||
        json_object_set_new(doc, "truncation", json_null()) ||
        json_object_set_new(doc, "padding", json_null()) ||
        json_object_set_new(doc, "added_tokens", added) ||
        json_object_set_new(doc, "normalizer", json_null()) ||
        json_object_set_new(doc, "pre_tokenizer", pretok) ||
        json_object_set_new(doc, "post_processor", post) ||
        json_object_set_new(doc, "decoder", decoder) || json_object_set_new(doc, "model", model))
        goto fail_doc;
    return doc;
fail:
    json_decref(added);
fail_doc:
    json_decref(vocab);
    json_decref(jm);
    json_decref(doc);
    return NULL;
}

char *mvot_bpe_layout_json(void)
{
    json_t *doc = build_doc(NULL, NULL, 0, NULL, 0, NULL, NULL, NULL);
    if (!doc)
        return NULL;
    char *s = mvot_json_dumps(doc);
    json_decref(doc);
    return s;
}

/* ---- corpus pre-tokenization ---- */

struct chunk_out {
    struct bpe_sbuf buf; /* records: uint32 length + bytes */
    enum mvot_status st;
    struct mvot_error err;
};

struct pretok_ctx {
    const struct mvot_bpe *tok;
    const char *const *texts;
    const size_t *lens;
    size_t n, nchunks;
    struct chunk_out *outs;
};

static int collect_piece(void *ctx, const char *s, size_t n)
{
    struct bpe_sbuf *b = ctx;
    uint32_t l = (uint32_t)n;
    return (bpe_sbuf_add(b, &l, sizeof l) != MVOT_OK || bpe_sbuf_add(b, s, n) != MVOT_OK) ? -1 : 0;
}

static void pretok_chunk(void *vctx, size_t ci, int worker)
{
    struct pretok_ctx *c = vctx;
    (void)worker;
    size_t b = c->n * ci / c->nchunks, e = c->n * (ci + 1) / c->nchunks;
    struct chunk_out *o = &c->outs[ci];
    for (size_t i = b; i < e && o->st == MVOT_OK; i++)
        o->st = bpe_pretokenize(c->tok, c->texts[i], c->lens[i], collect_piece, &o->buf, &o->err);
}

/* ---- the merge loop ---- */

struct word {
    int32_t *s;
    uint32_t n;
    uint64_t count;
    uint32_t stamp;
};

struct pair {
    int32_t a, b;
    int64_t count;
    uint32_t *words; /* may hold duplicates and stale entries */
    uint32_t nwords, capwords;
    uint32_t stamp;
};

struct trainer {
    /* tokens in trainer space: 0..255 bytes, then merges; raw bytes each */
    char **ts;
    size_t *tn;
    size_t ntok, captok;
    struct bpe_smap tokmap; /* raw bytes -> trainer id */
    struct word *words;
    size_t nwords;
    struct pair *pairs;
    size_t npairs, cappairs;
    struct bpe_pmap pmap; /* (a,b) -> pair index (in .id) */
    uint32_t *touched;
    size_t ntouched, captouched;
};

/* Heap entries: index into pairs plus the count it was pushed with. */
struct hent {
    int64_t count;
    uint32_t pair;
};

static int tok_cmp(const struct trainer *T, int32_t x, int32_t y)
{
    size_t nx = T->tn[x], ny = T->tn[y];
    int c = memcmp(T->ts[x], T->ts[y], nx < ny ? nx : ny);
    if (c)
        return c;
    return nx < ny ? -1 : nx > ny;
}

/* 1 if entry p should pop before q: higher count, then smaller (left, right) bytes. */
static int hent_before(const struct trainer *T, const struct hent *p, const struct hent *q)
{
    if (p->count != q->count)
        return p->count > q->count;
    const struct pair *a = &T->pairs[p->pair], *b = &T->pairs[q->pair];
    int c = tok_cmp(T, a->a, b->a);
    if (c)
        return c < 0;
    return tok_cmp(T, a->b, b->b) < 0;
}

struct hheap {
    struct hent *v;
    size_t n, cap;
};

static int hpush(const struct trainer *T, struct hheap *h, struct hent e)
{
    if (MVOT_GROW(&h->v, &h->cap, h->n + 1, MVOT_GROW_UNCAPPED, NULL) != MVOT_OK)
        return -1;
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!hent_before(T, &e, &h->v[p]))
            break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = e;
    return 0;
}

static struct hent hpop(const struct trainer *T, struct hheap *h)
{
    struct hent top = h->v[0], e = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && hent_before(T, &h->v[c + 1], &h->v[c]))
            c++;
        if (!hent_before(T, &h->v[c], &e))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    h->v[i] = e;
    return top;
}

static int32_t pair_index(struct trainer *T, int32_t a, int32_t b, int create)
{
    const struct bpe_pmap_ent *e = bpe_pmap_get(&T->pmap, a, b);
    if (e)
        return e->id;
    if (!create)
        return -1;
    if (MVOT_GROW(&T->pairs, &T->cappairs, T->npairs + 1, MVOT_GROW_UNCAPPED, NULL) != MVOT_OK)
        return -2;
    /* keep the map at most half full */
    if ((T->pmap.n + 1) * 2 > T->pmap.mask + 1) {
        struct bpe_pmap nm;
        if (bpe_pmap_init(&nm, (T->pmap.mask + 1)) != MVOT_OK)
            return -2;
        for (size_t i = 0; i <= T->pmap.mask; i++)
            if (T->pmap.e[i].key != UINT64_MAX)
                bpe_pmap_put(&nm, (int32_t)(T->pmap.e[i].key >> 32), (int32_t)T->pmap.e[i].key, 0,
                             T->pmap.e[i].id);
        bpe_pmap_free(&T->pmap);
        T->pmap = nm;
    }
    int32_t idx = (int32_t)T->npairs++;
    struct pair *p = &T->pairs[idx];
    memset(p, 0, sizeof *p);
    p->a = a;
    p->b = b;
    bpe_pmap_put(&T->pmap, a, b, 0, idx);
    return idx;
}

static int pair_add(struct trainer *T, int32_t a, int32_t b, int64_t delta, uint32_t word,
                    uint32_t stamp)
{
    int32_t idx = pair_index(T, a, b, delta > 0);
    if (idx == -2)
        return -1;
    if (idx < 0)
        return 0;
    struct pair *p = &T->pairs[idx];
    p->count += delta;
    if (delta > 0) {
        if (p->nwords == p->capwords) {
            /* from 4, not 16: most of the millions of pairs occur in a few words */
            size_t nc =
                mvot_grow_cap(p->capwords ? p->capwords : 2, (size_t)p->nwords + 1, UINT32_MAX);
            if (!nc || mvot_realloc_n(&p->words, nc, sizeof *p->words) != MVOT_OK)
                return -1;
            p->capwords = (uint32_t)nc;
        }
        p->words[p->nwords++] = word;
    }
    if (p->stamp != stamp) {
        p->stamp = stamp;
        if (MVOT_GROW(&T->touched, &T->captouched, T->ntouched + 1, MVOT_GROW_UNCAPPED, NULL) !=
            MVOT_OK)
            return -1;
        T->touched[T->ntouched++] = (uint32_t)idx;
    }
    return 0;
}

static int add_token(struct trainer *T, const char *s, size_t n, int32_t *id)
{
    int32_t have = bpe_smap_get(&T->tokmap, s, n);
    if (have >= 0) {
        *id = have;
        return 0;
    }
    if (T->ntok == T->captok) {
        size_t nc = mvot_grow_cap(T->captok, T->ntok + 1, MVOT_GROW_UNCAPPED);
        if (mvot_realloc_n(&T->ts, nc, sizeof *T->ts) != MVOT_OK ||
            mvot_realloc_n(&T->tn, nc, sizeof *T->tn) != MVOT_OK)
            return -1;
        T->captok = nc;
    }
    char *c = malloc(n ? n : 1);
    if (!c)
        return -1;
    memcpy(c, s, n);
    T->ts[T->ntok] = c;
    T->tn[T->ntok] = n;
    *id = (int32_t)T->ntok++;
    if (bpe_smap_put(&T->tokmap, c, n, *id) != MVOT_OK)
        return -1;
    return 0;
}

static void trainer_free(struct trainer *T)
{
    for (size_t i = 0; i < T->ntok; i++)
        free(T->ts[i]);
    free(T->ts);
    free(T->tn);
    bpe_smap_free(&T->tokmap);
    for (size_t i = 0; i < T->nwords; i++)
        free(T->words[i].s);
    free(T->words);
    for (size_t i = 0; i < T->npairs; i++)
        free(T->pairs[i].words);
    free(T->pairs);
    bpe_pmap_free(&T->pmap);
    free(T->touched);
}

/* XXH3 of the corpus as length-prefixed texts, so text boundaries count. */
static enum mvot_status corpus_hash(const char *const *texts, const size_t *lens, size_t n,
                                    uint64_t *hash, uint64_t *total_bytes)
{
    struct mvot_hasher hs;
    enum mvot_status st = mvot_hasher_init(&hs);
    if (st != MVOT_OK)
        return st;
    *total_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t l = lens[i];
        uint8_t le[8];
        for (int k = 0; k < 8; k++)
            le[k] = (uint8_t)(l >> (8 * k));
        mvot_hasher_update(&hs, le, 8);
        mvot_hasher_update(&hs, texts[i], lens[i]);
        *total_bytes += l;
    }
    *hash = mvot_hasher_digest(&hs);
    mvot_hasher_free(&hs);
    return MVOT_OK;
}

/* Counts the pre-tokenized words of every chunk, in chunk order, and turns them into
 * T->words as byte symbols in first-seen order (deterministic at any thread count). Each
 * chunk's buffer is freed once counted. */
static enum mvot_status count_words(struct trainer *T, struct chunk_out *outs, size_t nchunks,
                                    struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct bpe_smap wmap = {0};
    struct bpe_arena warena = {0};
    uint64_t *wcount = NULL;
    size_t capw = 0;
    MVOT_FAIL_IF(bpe_smap_init(&wmap, 1024) != MVOT_OK, err, MVOT_ERR_NOMEM, "bpe train",
                 "out of memory");
    for (size_t ci = 0; ci < nchunks; ci++) {
        if (outs[ci].st != MVOT_OK) {
            st = outs[ci].st;
            if (err)
                *err = outs[ci].err;
            goto cleanup;
        }
        const char *p = outs[ci].buf.p;
        size_t len = outs[ci].buf.n, k = 0;
        while (k < len) {
            uint32_t l;
            memcpy(&l, p + k, sizeof l);
            k += sizeof l;
            int32_t wi = bpe_smap_get(&wmap, p + k, l);
            if (wi < 0) {
                char *c = bpe_arena_alloc(&warena, l ? l : 1);
                MVOT_FAIL_IF(!c ||
                                 MVOT_GROW(&wcount, &capw, T->nwords + 1, MVOT_GROW_UNCAPPED, NULL),
                             err, MVOT_ERR_NOMEM, "bpe train", "out of memory");
                memcpy(c, p + k, l);
                wi = (int32_t)T->nwords++;
                wcount[wi] = 0;
                MVOT_FAIL_IF(bpe_smap_put(&wmap, c, l, wi) != MVOT_OK, err, MVOT_ERR_NOMEM,
                             "bpe train", "out of memory");
            }
            wcount[wi]++;
            k += l;
        }
        bpe_sbuf_free(&outs[ci].buf);
    }

    T->words = calloc(T->nwords ? T->nwords : 1, sizeof *T->words);
    MVOT_FAIL_IF(!T->words || bpe_smap_init(&T->tokmap, 4096) != MVOT_OK ||
                     bpe_pmap_init(&T->pmap, 4096) != MVOT_OK,
                 err, MVOT_ERR_NOMEM, "bpe train", "out of memory");
    for (size_t i = 0; i <= wmap.mask; i++) {
        const struct bpe_smap_ent *e = &wmap.e[i];
        if (!e->s)
            continue;
        struct word *w = &T->words[e->id];
        w->s = malloc((e->len ? e->len : 1) * sizeof *w->s);
        MVOT_FAIL_IF(!w->s, err, MVOT_ERR_NOMEM, "bpe train", "out of memory");
        for (uint32_t k = 0; k < e->len; k++)
            w->s[k] = (uint8_t)e->s[k];
        w->n = e->len;
        w->count = wcount[e->id];
    }
cleanup:
    free(wcount);
    bpe_smap_free(&wmap);
    bpe_arena_free(&warena);
    return st;
}

/* Pushes every pair touched since the last call that still occurs onto the heap. */
static int push_touched(struct trainer *T, struct hheap *heap)
{
    for (size_t i = 0; i < T->ntouched; i++) {
        struct pair *q = &T->pairs[T->touched[i]];
        if (q->count > 0) {
            struct hent e = {q->count, T->touched[i]};
            if (hpush(T, heap, e))
                return -1;
        }
    }
    T->ntouched = 0;
    return 0;
}

/* The 256 byte tokens, then every adjacent pair of every word counted onto the heap. */
static int init_pairs(struct trainer *T, struct hheap *heap)
{
    for (uint32_t b = 0; b < N_BYTES; b++) {
        char c = (char)b;
        int32_t id;
        if (add_token(T, &c, 1, &id))
            return -1;
    }
    for (size_t wi = 0; wi < T->nwords; wi++) {
        struct word *w = &T->words[wi];
        for (uint32_t k = 0; k + 1 < w->n; k++)
            if (pair_add(T, w->s[k], w->s[k + 1], (int64_t)w->count, (uint32_t)wi, 1))
                return -1;
    }
    return push_touched(T, heap);
}

/* Replaces (a, b) by c in the words wl[0..nw), updating the pair counts. */
static int apply_merge(struct trainer *T, int32_t a, int32_t b, int32_t c, uint32_t stamp,
                       const uint32_t *wl, uint32_t nw)
{
    for (uint32_t k = 0; k < nw; k++) {
        uint32_t wi = wl[k];
        struct word *w = &T->words[wi];
        if (w->stamp == stamp)
            continue;
        w->stamp = stamp;
        int64_t cnt = (int64_t)w->count;
        uint32_t i = 0;
        while (i + 1 < w->n) {
            if (w->s[i] != a || w->s[i + 1] != b) {
                i++;
                continue;
            }
            int fail = 0;
            if (i > 0)
                fail |= pair_add(T, w->s[i - 1], a, -cnt, wi, stamp) |
                        pair_add(T, w->s[i - 1], c, cnt, wi, stamp);
            if (i + 2 < w->n)
                fail |= pair_add(T, b, w->s[i + 2], -cnt, wi, stamp) |
                        pair_add(T, c, w->s[i + 2], cnt, wi, stamp);
            fail |= pair_add(T, a, b, -cnt, wi, stamp);
            if (fail)
                return -1;
            w->s[i] = c;
            memmove(w->s + i + 1, w->s + i + 2, (w->n - i - 2) * sizeof *w->s);
            w->n--;
            i++;
        }
    }
    return 0;
}

/* The merge loop: the most frequent pair (ties: heap order) becomes a new token until the
 * vocabulary is full or no pair reaches min_frequency. *merges holds (a, b) trainer ids. */
static enum mvot_status run_merges(struct trainer *T, struct hheap *heap,
                                   const struct mvot_bpe_train_opts *o, int32_t **merges,
                                   size_t *nmerges, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    size_t capmerges = 0; /* counts int32s: two per merge */
    uint32_t max_new = o->vocab_size - FIRST_MERGE_ID;
    uint32_t stamp = 1;
    uint32_t *wl = NULL;
    struct bpe_sbuf cat = {0};
    while (heap->n && T->ntok - N_BYTES < max_new) {
        struct hent top = hpop(T, heap);
        struct pair *p = &T->pairs[top.pair];
        if (top.count != p->count)
            continue; /* stale */
        if (p->count < (int64_t)o->min_frequency)
            break;
        int32_t a = p->a, b = p->b, c;
        cat.n = 0;
        MVOT_FAIL_IF(bpe_sbuf_add(&cat, T->ts[a], T->tn[a]) ||
                         bpe_sbuf_add(&cat, T->ts[b], T->tn[b]),
                     err, MVOT_ERR_NOMEM, "bpe train", "out of memory");
        MVOT_FAIL_IF(add_token(T, cat.p, cat.n, &c), err, MVOT_ERR_NOMEM, "bpe train",
                     "out of memory");
        MVOT_FAIL_IF(MVOT_GROW(merges, &capmerges, 2 * *nmerges + 2, MVOT_GROW_UNCAPPED, NULL), err,
                     MVOT_ERR_NOMEM, "bpe train", "out of memory");
        (*merges)[2 * *nmerges] = a;
        (*merges)[2 * *nmerges + 1] = b;
        (*nmerges)++;
        stamp++;
        /* apply to every word holding the pair; p may move as pairs grow, so take the list */
        uint32_t nw = p->nwords;
        wl = p->words;
        p->words = NULL;
        p->nwords = p->capwords = 0;
        MVOT_FAIL_IF(apply_merge(T, a, b, c, stamp, wl, nw), err, MVOT_ERR_NOMEM, "bpe train",
                     "out of memory");
        free(wl);
        wl = NULL;
        MVOT_FAIL_IF(push_touched(T, heap), err, MVOT_ERR_NOMEM, "bpe train", "out of memory");
    }
cleanup:
    free(wl);
    bpe_sbuf_free(&cat);
    return st;
}

/* The trained tokenizer.json: trainer id t becomes t + MVOT_BPE_RESERVED in the full id
 * space (the bytes first), with a training record in the file. */
static enum mvot_status write_tokenizer(const struct trainer *T, int32_t *merges, size_t nmerges,
                                        const struct mvot_bpe_train_opts *o, size_t ntexts,
                                        uint64_t corpus_hash, uint64_t total_bytes,
                                        const char *out_path, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *doc = NULL, *record = NULL;
    size_t ntok_new = T->ntok - N_BYTES;
    const char **id_raw = calloc(MVOT_BPE_RESERVED + T->ntok, sizeof *id_raw);
    size_t *id_raw_n = calloc(MVOT_BPE_RESERVED + T->ntok, sizeof *id_raw_n);
    for (size_t i = 0; id_raw && id_raw_n && i < T->ntok; i++) {
        id_raw[MVOT_BPE_RESERVED + i] = T->ts[i];
        id_raw_n[MVOT_BPE_RESERVED + i] = T->tn[i];
    }
    for (size_t i = 0; merges && i < 2 * nmerges; i++)
        merges[i] += (int32_t)MVOT_BPE_RESERVED;
    char hex[17];
    mvot_hash_hex(corpus_hash, hex);
    record = json_pack("{s:i, s:s, s:I, s:I, s:i, s:i, s:I, s:I, s:s}", "format", 1, "corpus_xxh3",
                       hex, "corpus_texts", (json_int_t)ntexts, "corpus_bytes",
                       (json_int_t)total_bytes, "vocab_size", (int)o->vocab_size, "min_frequency",
                       (int)o->min_frequency, "merges", (json_int_t)nmerges, "final_vocab_size",
                       (json_int_t)(FIRST_MERGE_ID + ntok_new), "trainer",
                       "mvot bpe_train (byte-level, Chameleon layout)");
    if (id_raw && id_raw_n && record)
        doc = build_doc((const char *const *)(T->ts + N_BYTES), T->tn + N_BYTES, ntok_new, merges,
                        nmerges, id_raw, id_raw_n, record);
    MVOT_FAIL_IF(!doc, err, MVOT_ERR_NOMEM, "bpe train", "out of memory building JSON");
    st = mvot_json_write_file(out_path, doc, err);
cleanup:
    free(id_raw);
    free(id_raw_n);
    json_decref(doc);
    json_decref(record);
    return st;
}

enum mvot_status mvot_bpe_train_texts(const char *const *texts, const size_t *lens, size_t n,
                                      const struct mvot_bpe_train_opts *opts,
                                      struct mvot_pool *pool, const char *out_path,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_bpe_train_opts o;
    struct mvot_bpe *base = NULL;
    struct trainer T;
    struct hheap heap = {0};
    struct chunk_out *outs = NULL;
    int32_t *merges = NULL;
    size_t nmerges = 0;
    char *base_json = NULL;
    size_t nchunks = 0;
    uint64_t hash = 0, total_bytes = 0;
    memset(&T, 0, sizeof T);
    if (opts)
        o = *opts;
    else
        mvot_bpe_train_opts_default(&o);
    MVOT_FAIL_IF(o.vocab_size < FIRST_MERGE_ID || o.vocab_size > (1u << 24), err, MVOT_ERR_INVALID,
                 "bpe train", "vocab size %u outside [%u, %u]", o.vocab_size, FIRST_MERGE_ID,
                 1u << 24);
    if (o.min_frequency < 1)
        o.min_frequency = 1;
    MVOT_TRY(corpus_hash(texts, lens, n, &hash, &total_bytes));

    base_json = mvot_bpe_layout_json();
    MVOT_FAIL_IF(!base_json, err, MVOT_ERR_NOMEM, "bpe train", "out of memory");
    MVOT_TRY(mvot_bpe_load_mem(base_json, strlen(base_json), "bpe train layout", &base, err));

    /* pre-tokenize in chunks (parallel), then count words in chunk order */
    nchunks = n < 64 ? (n ? n : 1) : 64;
    outs = calloc(nchunks, sizeof *outs);
    MVOT_FAIL_IF(!outs, err, MVOT_ERR_NOMEM, "bpe train", "out of memory");
    struct pretok_ctx pc = {base, texts, lens, n, nchunks, outs};
    mvot_pool_for(pool, nchunks, pretok_chunk, &pc);
    MVOT_TRY(count_words(&T, outs, nchunks, err));
    MVOT_FAIL_IF(init_pairs(&T, &heap), err, MVOT_ERR_NOMEM, "bpe train", "out of memory");
    MVOT_TRY(run_merges(&T, &heap, &o, &merges, &nmerges, err));
    st = write_tokenizer(&T, merges, nmerges, &o, n, hash, total_bytes, out_path, err);
cleanup:
    for (size_t ci = 0; outs && ci < nchunks; ci++)
        bpe_sbuf_free(&outs[ci].buf);
    free(outs);
    free(heap.v);
    free(merges);
    trainer_free(&T);
    mvot_bpe_free(base);
    free(base_json);
    return st;
}
