/* Patch-VQ encode/decode with an exactness-preserving cache (patchvq.h).
 *
 * Cache: MVOT_PVQ_SHARDS independent shards chosen by the patch hash, each a fixed-capacity
 * open-addressing table under its own mutex, storing (hash, code, patch bytes). Lookups
 * compare the stored bytes, so a 64-bit hash collision is a miss, never a wrong code. When a
 * shard is full new patches are simply not cached (no eviction): results never depend on
 * what is cached, only speed does. Misses of one frame are deduplicated and searched with
 * one GEMM batch. */
#include "tokenize/patchvq.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/assign.h"
#include "codebook/patchset.h"
#include "core/hash.h"

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
    int32_t code = -1;
    pthread_mutex_lock(&s->mu);
    for (size_t i = (size_t)h & (s->nslots - 1); s->slots[i]; i = (i + 1) & (s->nslots - 1)) {
        size_t e = s->slots[i] - 1;
        if (s->hash[e] == h && memcmp(s->bytes + e * vq->D, p, vq->D) == 0) {
            code = s->code[e];
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return code;
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
        s->slots[i] = (uint32_t)s->n;
    }
done:
    pthread_mutex_unlock(&s->mu);
}

enum mvot_status mvot_patchvq_encode(struct mvot_patchvq *vq, const uint8_t *rgb, uint32_t S,
                                     int32_t *codes, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const uint32_t p = vq->patch, D = vq->D;
    uint8_t *buf = NULL, *mbuf = NULL;
    uint64_t *h = NULL;
    uint32_t *uniq = NULL, *slot = NULL, *rep = NULL;
    int32_t *mcode = NULL;
    MVOT_FAIL_IF(S == 0 || S % p, err, MVOT_ERR_INVALID, "patch VQ",
                 "image side %u is not a multiple of the %u-px patch", S, p);
    const uint32_t G = S / p;
    const size_t n = (size_t)G * G;
    buf = malloc(n * D);
    MVOT_FAIL_IF(!buf, err, MVOT_ERR_NOMEM, "patch VQ", "out of memory");
    for (uint32_t gy = 0; gy < G; gy++)
        for (uint32_t gx = 0; gx < G; gx++)
            mvot_patch_extract(rgb, S, gx * p, gy * p, p, buf + ((size_t)gy * G + gx) * D);
    if (!vq->shards) {
        st = mvot_cb_search_nearest(vq->search, buf, n, codes, NULL, err);
        goto cleanup;
    }
    h = malloc(n * sizeof *h);
    rep = malloc(n * sizeof *rep);
    uniq = malloc(n * sizeof *uniq);
    size_t nslots = 16;
    while (nslots < 2 * n)
        nslots *= 2;
    slot = calloc(nslots, sizeof *slot);
    MVOT_FAIL_IF(!h || !rep || !uniq || !slot, err, MVOT_ERR_NOMEM, "patch VQ", "out of memory");
    /* Look every patch up; dedup the misses within this frame. */
    size_t nu = 0;
    uint64_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *pi = buf + i * D;
        h[i] = mvot_hash64(pi, D);
        /* Repeats within the frame first: cheaper than a locked cache probe. */
        size_t s = (size_t)h[i] & (nslots - 1);
        for (; slot[s]; s = (s + 1) & (nslots - 1)) {
            size_t j = slot[s] - 1;
            if (h[j] == h[i] && memcmp(buf + j * D, pi, D) == 0)
                break;
        }
        if (slot[s]) {
            size_t j = slot[s] - 1;
            codes[i] = codes[j];
            rep[i] = rep[j];
            hits++;
            continue;
        }
        slot[s] = (uint32_t)(i + 1);
        codes[i] = cache_get(vq, h[i], pi);
        rep[i] = UINT32_MAX;
        if (codes[i] >= 0) {
            hits++;
        } else {
            rep[i] = (uint32_t)nu;
            uniq[nu++] = (uint32_t)i;
        }
    }
    __atomic_fetch_add(&vq->hits, hits, __ATOMIC_RELAXED);
    __atomic_fetch_add(&vq->misses, (uint64_t)nu, __ATOMIC_RELAXED);
    if (nu) {
        mbuf = malloc(nu * D);
        mcode = malloc(nu * sizeof *mcode);
        MVOT_FAIL_IF(!mbuf || !mcode, err, MVOT_ERR_NOMEM, "patch VQ", "out of memory");
        for (size_t u = 0; u < nu; u++)
            memcpy(mbuf + u * D, buf + (size_t)uniq[u] * D, D);
        MVOT_TRY(mvot_cb_search_nearest(vq->search, mbuf, nu, mcode, NULL, err));
        for (size_t u = 0; u < nu; u++)
            cache_put(vq, h[uniq[u]], mbuf + u * D, mcode[u]);
        for (size_t i = 0; i < n; i++)
            if (rep[i] != UINT32_MAX)
                codes[i] = mcode[rep[i]];
    }
cleanup:
    free(buf);
    free(mbuf);
    free(h);
    free(uniq);
    free(slot);
    free(rep);
    free(mcode);
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
