/* Patch-VQ encode/decode with an exactness-preserving cache (patchvq.h).
 *
 * Cache: PVQ_SHARDS independent shards chosen by the patch hash, each a fixed-capacity
 * open-addressing table storing (hash, code, patch bytes); inserts take the shard's mutex,
 * lookups take no lock (entries are immutable once published). Lookups compare the stored
 * bytes, so a 64-bit hash collision is a miss, never a wrong code. When a
 * shard is full new patches are simply not cached (no eviction): results never depend on
 * what is cached, only speed does. A patch equal to the one before it in the frame reuses
 * its code without hashing (backgrounds repeat). Misses of one frame are deduplicated and
 * searched with one GEMM batch. */
#include "tokenize/patchvq.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/assign.h"
#include "codebook/patchset.h"
#include "core/hash.h"
#include "core/mem.h"

#define PVQ_SHARDS 64

struct pvq_shard {
    pthread_mutex_t mu;
    size_t cap, n, nslots;
    uint32_t *slots; /* entry + 1; 0 = empty */
    uint64_t *hash;
    int32_t *code;
    uint8_t *bytes; /* cap x D */
};

struct mvot_patchvq {
    uint32_t K, D, patch;
    uint8_t *codes; /* K x D pixels */
    struct mvot_cb_search *search;
    struct pvq_shard *shards; /* NULL: no cache */
    uint64_t hits, misses;    /* updated atomically */
};

static int shard_init(struct pvq_shard *s, size_t cap, uint32_t D)
{
    memset(s, 0, sizeof *s);
    if (pthread_mutex_init(&s->mu, NULL) != 0)
        return -1;
    s->cap = cap;
    s->nslots = 16;
    while (s->nslots < 2 * cap)
        s->nslots *= 2;
    s->slots = calloc(s->nslots, sizeof *s->slots);
    s->hash = malloc(cap * sizeof *s->hash);
    s->code = malloc(cap * sizeof *s->code);
    s->bytes = malloc(cap * D);
    return s->slots && s->hash && s->code && s->bytes ? 0 : -1;
}

static void shard_free(struct pvq_shard *s)
{
    pthread_mutex_destroy(&s->mu);
    free(s->slots);
    free(s->hash);
    free(s->code);
    free(s->bytes);
}

void mvot_patchvq_free(struct mvot_patchvq *vq)
{
    if (!vq)
        return;
    if (vq->shards) {
        for (int i = 0; i < PVQ_SHARDS; i++)
            shard_free(&vq->shards[i]);
        free(vq->shards);
    }
    mvot_cb_search_free(vq->search);
    free(vq->codes);
    free(vq);
}

/* The codes are answers known in advance: a patch equal to code k is at distance 0 from it,
 * and the search keeps the lowest index among equal codes, which is the one inserted first
 * here (cache_put keeps an existing entry). With them cached, frames encoded with the
 * codebook trained on them (exact: every patch is a code) need no search at all, and each
 * part of a split pack starts as warm as one process does after its first frames. Done only
 * when the cache is large enough that the codes do not crowd out the patches a lossy
 * codebook's frames repeat. Results never depend on the cache, only speed. */
static void cache_put(struct mvot_patchvq *vq, uint64_t h, const uint8_t *p, int32_t code);

static void seed_codes(struct mvot_patchvq *vq, size_t cache_entries)
{
    if (cache_entries < 4 * (size_t)vq->K)
        return;
    for (uint32_t k = 0; k < vq->K; k++) {
        const uint8_t *c = vq->codes + (size_t)k * vq->D;
        cache_put(vq, mvot_hash64(c, vq->D), c, (int32_t)k);
    }
}

enum mvot_status mvot_patchvq_create(const struct mvot_codebook *cb, size_t cache_entries,
                                     struct mvot_patchvq **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    *out = NULL;
    struct mvot_patchvq *vq = NULL;
    MVOT_FAIL_IF(cb->kind != MVOT_CB_PATCH, err, MVOT_ERR_INVALID, "patch VQ",
                 "codebook kind is %s, not patch", mvot_codebook_kind_name(cb->kind));
    MVOT_FAIL_IF(cb->patch == 0 || cb->patch > MVOT_CODEBOOK_MAX_PATCH ||
                     cb->D != cb->patch * cb->patch * 3 || cb->K == 0,
                 err, MVOT_ERR_INVALID, "patch VQ", "bad patch codebook (patch %u, K %u, D %u)",
                 cb->patch, cb->K, cb->D);
    vq = calloc(1, sizeof *vq);
    MVOT_FAIL_IF(!vq, err, MVOT_ERR_NOMEM, "patch VQ", "out of memory");
    vq->K = cb->K;
    vq->D = cb->D;
    vq->patch = cb->patch;
    vq->codes = malloc((size_t)cb->K * cb->D);
    MVOT_FAIL_IF(!vq->codes, err, MVOT_ERR_NOMEM, "patch VQ", "out of memory");
    for (size_t i = 0; i < (size_t)cb->K * cb->D; i++) {
        float f = cb->vec[i];
        MVOT_FAIL_IF(!(f >= 0.0f && f <= 255.0f) || f != (float)(int)f, err, MVOT_ERR_INVALID,
                     "patch VQ", "code %zu holds %g, not an integer pixel", i / cb->D, (double)f);
        vq->codes[i] = (uint8_t)f;
    }
    MVOT_TRY(mvot_cb_search_create(vq->codes, vq->K, vq->D, &vq->search, err));
    if (cache_entries) {
        size_t per = (cache_entries + PVQ_SHARDS - 1) / PVQ_SHARDS;
        vq->shards = calloc(PVQ_SHARDS, sizeof *vq->shards);
        MVOT_FAIL_IF(!vq->shards, err, MVOT_ERR_NOMEM, "patch VQ", "out of memory");
        for (int i = 0; i < PVQ_SHARDS; i++)
            MVOT_FAIL_IF(shard_init(&vq->shards[i], per, vq->D) != 0, err, MVOT_ERR_NOMEM,
                         "patch VQ", "out of memory for the patch cache");
        seed_codes(vq, cache_entries);
    }
    *out = vq;
    vq = NULL;
cleanup:
    mvot_patchvq_free(vq);
    return st;
}

uint32_t mvot_patchvq_patch(const struct mvot_patchvq *vq)
{
    return vq->patch;
}

/* Shard by the high bits, slot by the low bits, so the two are independent. */
static struct pvq_shard *shard_of(struct mvot_patchvq *vq, uint64_t h)
{
    return &vq->shards[h >> 58];
}

static int32_t cache_get(struct mvot_patchvq *vq, uint64_t h, const uint8_t *p)
{
    struct pvq_shard *s = shard_of(vq, h);
    /* Lock-free: entries are written before their slot is published (release), and never
     * change afterwards, so an acquired nonzero slot points at a complete entry. A slot
     * published concurrently may be missed; that only costs a search. */
    for (size_t i = (size_t)h & (s->nslots - 1);; i = (i + 1) & (s->nslots - 1)) {
        uint32_t sl = __atomic_load_n(&s->slots[i], __ATOMIC_ACQUIRE);
        if (!sl)
            return -1;
        size_t e = sl - 1;
        if (s->hash[e] == h && memcmp(s->bytes + e * vq->D, p, vq->D) == 0)
            return s->code[e];
    }
}

static void cache_put(struct mvot_patchvq *vq, uint64_t h, const uint8_t *p, int32_t code)
{
    struct pvq_shard *s = shard_of(vq, h);
    pthread_mutex_lock(&s->mu);
    size_t i = (size_t)h & (s->nslots - 1);
    for (; s->slots[i]; i = (i + 1) & (s->nslots - 1)) {
        size_t e = s->slots[i] - 1;
        if (s->hash[e] == h && memcmp(s->bytes + e * vq->D, p, vq->D) == 0)
            goto done; /* another thread inserted it meanwhile (same code: search is exact) */
    }
    if (s->n < s->cap) {
        memcpy(s->bytes + s->n * vq->D, p, vq->D);
        s->hash[s->n] = h;
        s->code[s->n] = code;
        s->n++;
        __atomic_store_n(&s->slots[i], (uint32_t)s->n, __ATOMIC_RELEASE);
    }
done:
    pthread_mutex_unlock(&s->mu);
}

/* Search for the misses of one frame: dedup them (a frame repeats its new patches too), one
 * GEMM batch, then cache the answers. miss[] holds patch indices; buf their bytes. */
static enum mvot_status encode_misses(struct mvot_patchvq *vq, const uint8_t *buf,
                                      const uint64_t *mh, const uint32_t *miss, size_t nm,
                                      int32_t *codes, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const size_t D = vq->D;
    size_t nslots = 16;
    while (nslots < 2 * nm)
        nslots *= 2;
    uint32_t *slot = calloc(nslots, sizeof *slot), *rep = malloc(nm * sizeof *rep);
    uint32_t *uniq = malloc(nm * sizeof *uniq);
    uint8_t *ub = malloc(nm * D);
    int32_t *uc = malloc(nm * sizeof *uc);
    size_t nu = 0;
    MVOT_FAIL_IF(!slot || !rep || !uniq || !ub || !uc, err, MVOT_ERR_NOMEM, "patch VQ",
                 "out of memory");
    for (size_t m = 0; m < nm; m++) {
        const uint8_t *pm = buf + m * D;
        size_t s = (size_t)mh[m] & (nslots - 1);
        for (; slot[s]; s = (s + 1) & (nslots - 1)) {
            uint32_t u = slot[s] - 1;
            if (mh[uniq[u]] == mh[m] && memcmp(ub + (size_t)u * D, pm, D) == 0)
                break;
        }
        if (!slot[s]) {
            memcpy(ub + nu * D, pm, D);
            uniq[nu] = (uint32_t)m;
            slot[s] = (uint32_t)++nu;
        }
        rep[m] = slot[s] - 1;
    }
    MVOT_TRY(mvot_cb_search_nearest(vq->search, ub, nu, uc, NULL, err));
    for (size_t u = 0; u < nu; u++)
        cache_put(vq, mh[uniq[u]], ub + u * D, uc[u]);
    for (size_t m = 0; m < nm; m++)
        codes[miss[m]] = uc[rep[m]];
    __atomic_fetch_add(&vq->misses, (uint64_t)nu, __ATOMIC_RELAXED);
cleanup:
    free(slot);
    free(rep);
    free(uniq);
    free(ub);
    free(uc);
    return st;
}

/* mvot_patch_extract for the 16-px patch with a constant row size, so the compiler inlines
 * the copies (the generic version's 16 library calls per patch dominated the cached path). */
static void extract16(const uint8_t *rgb, uint32_t S, uint32_t x0, uint32_t y0, uint8_t *out)
{
    const uint8_t *src = rgb + ((size_t)y0 * S + x0) * 3;
    for (int y = 0; y < 16; y++)
        memcpy(out + y * 48, src + (size_t)y * S * 3, 48);
}

enum mvot_status mvot_patchvq_encode(struct mvot_patchvq *vq, const uint8_t *rgb, uint32_t S,
                                     int32_t *codes, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const uint32_t p = vq->patch, D = vq->D;
    uint8_t *buf = NULL;   /* bytes of the missed patches (grown on demand) */
    uint64_t *mh = NULL;   /* their hashes */
    uint32_t *miss = NULL; /* their positions */
    size_t nm = 0, cap = 0;
    uint8_t cur[MVOT_CODEBOOK_MAX_PATCH * MVOT_CODEBOOK_MAX_PATCH * 3];
    uint8_t prev[MVOT_CODEBOOK_MAX_PATCH * MVOT_CODEBOOK_MAX_PATCH * 3];
    int32_t prev_code = -1;
    uint64_t hits = 0;
    MVOT_FAIL_IF(S == 0 || S % p, err, MVOT_ERR_INVALID, "patch VQ",
                 "image side %u is not a multiple of the %u-px patch", S, p);
    const uint32_t G = S / p;
    const size_t n = (size_t)G * G;
    if (!vq->shards) {
        buf = malloc(n * D);
        MVOT_FAIL_IF(!buf, err, MVOT_ERR_NOMEM, "patch VQ", "out of memory");
        for (size_t i = 0; i < n; i++)
            mvot_patch_extract(rgb, S, (uint32_t)(i % G) * p, (uint32_t)(i / G) * p, p,
                               buf + i * D);
        st = mvot_cb_search_nearest(vq->search, buf, n, codes, NULL, err);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        if (p == 16)
            extract16(rgb, S, (uint32_t)(i % G) * 16, (uint32_t)(i / G) * 16, cur);
        else
            mvot_patch_extract(rgb, S, (uint32_t)(i % G) * p, (uint32_t)(i / G) * p, p, cur);
        /* Runs of identical patches (backgrounds) are the common case: compare with the
         * previous patch before hashing and locking. A pending miss has code -1 and is
         * not reused here. */
        if (prev_code >= 0 && memcmp(cur, prev, D) == 0) {
            codes[i] = prev_code;
            hits++;
            continue;
        }
        uint64_t h = mvot_hash64(cur, D);
        int32_t c = cache_get(vq, h, cur);
        codes[i] = c;
        memcpy(prev, cur, D);
        prev_code = c;
        if (c >= 0) {
            hits++;
            continue;
        }
        if (nm == cap) {
            size_t nc = mvot_grow_cap(cap, nm + 1, MVOT_GROW_UNCAPPED / D);
            MVOT_FAIL_IF(mvot_realloc_n(&buf, nc, D) != MVOT_OK ||
                             mvot_realloc_n(&mh, nc, sizeof *mh) != MVOT_OK ||
                             mvot_realloc_n(&miss, nc, sizeof *miss) != MVOT_OK,
                         err, MVOT_ERR_NOMEM, "patch VQ", "out of memory");
            cap = nc;
        }
        memcpy(buf + nm * D, cur, D);
        mh[nm] = h;
        miss[nm++] = (uint32_t)i;
    }
    __atomic_fetch_add(&vq->hits, hits, __ATOMIC_RELAXED);
    if (nm)
        MVOT_TRY(encode_misses(vq, buf, mh, miss, nm, codes, err));
cleanup:
    free(buf);
    free(mh);
    free(miss);
    return st;
}

enum mvot_status mvot_patchvq_decode(const struct mvot_patchvq *vq, const int32_t *codes,
                                     uint32_t S, uint8_t *rgb, struct mvot_error *err)
{
    const uint32_t p = vq->patch;
    if (S == 0 || S % p)
        return mvot_error_set(err, MVOT_ERR_INVALID, "patch VQ",
                              "image side %u is not a multiple of the %u-px patch", S, p);
    const uint32_t G = S / p;
    for (size_t i = 0; i < (size_t)G * G; i++)
        if (codes[i] < 0 || (uint32_t)codes[i] >= vq->K)
            return mvot_error_set(err, MVOT_ERR_INVALID, "patch VQ",
                                  "code %d at position %zu is outside 0..%u", codes[i], i,
                                  vq->K - 1);
    const size_t row = (size_t)p * 3;
    for (uint32_t gy = 0; gy < G; gy++)
        for (uint32_t gx = 0; gx < G; gx++) {
            const uint8_t *c = vq->codes + (size_t)codes[(size_t)gy * G + gx] * vq->D;
            for (uint32_t y = 0; y < p; y++)
                memcpy(rgb + ((size_t)(gy * p + y) * S + (size_t)gx * p) * 3, c + y * row, row);
        }
    return MVOT_OK;
}

void mvot_patchvq_cache_stats(const struct mvot_patchvq *vq, uint64_t *hits, uint64_t *misses,
                              size_t *entries)
{
    *hits = __atomic_load_n(&vq->hits, __ATOMIC_RELAXED);
    *misses = __atomic_load_n(&vq->misses, __ATOMIC_RELAXED);
    size_t e = 0;
    if (vq->shards)
        for (int i = 0; i < PVQ_SHARDS; i++) {
            pthread_mutex_lock(&vq->shards[i].mu);
            e += vq->shards[i].n;
            pthread_mutex_unlock(&vq->shards[i].mu);
        }
    *entries = e;
}
