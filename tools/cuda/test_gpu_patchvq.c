/* Patch-VQ on the GPU vs the CPU: encode must give identical codes to patchify + float64
 * nearest search (ref_cpu.c) and to the CPU patch tokenizer (tokenize/imagetok.c,
 * mvot_imagetok_encode) on the same codebook file; decode must give identical bytes to the CPU
 * paste-back. Images are built from codebook patches plus noise, many of them, so batching is
 * exercised. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/test.h"
#include "tools/cuda/ref_cpu.h"
#include "tools/cuda/test_gpu_common.h"
#include "codebook/codebook.h"
#include "tokenize/imagetok.h"

#define P 16

struct data {
    uint32_t K, S, n;
    float *cb;
    uint8_t *img;
    int32_t *ref;
};

static void make(struct data *d, uint32_t K, uint32_t S, uint32_t n, uint64_t seed)
{
    struct mvot_rng r;
    uint32_t D = P * P * 3, g = S / P;
    d->K = K;
    d->S = S;
    d->n = n;
    d->cb = malloc((size_t)K * D * sizeof(float));
    d->img = malloc((size_t)n * S * S * 3);
    d->ref = malloc((size_t)n * g * g * sizeof(int32_t));
    mvot_rng_seed(&r, seed);
    /* Patch codebooks hold integer pixels (the CPU patch VQ requires it): smooth colours. */
    for (uint32_t k = 0; k < K; k++) {
        float base[3] = {t_unif(&r, 0, 255), t_unif(&r, 0, 255), t_unif(&r, 0, 255)};
        for (uint32_t e = 0; e < D; e++) {
            float v = floorf(base[e % 3] + t_unif(&r, -20.0f, 20.0f));
            d->cb[(size_t)k * D + e] = v < 0 ? 0 : v > 255 ? 255 : v;
        }
    }
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t py = 0; py < g; py++)
            for (uint32_t px = 0; px < g; px++) {
                uint32_t k = (uint32_t)mvot_rng_below(&r, K);
                for (uint32_t y = 0; y < P; y++)
                    for (uint32_t x = 0; x < P; x++)
                        for (uint32_t c = 0; c < 3; c++) {
                            float v = d->cb[(size_t)k * D + (y * P + x) * 3 + c] +
                                      t_unif(&r, -8.0f, 8.0f);
                            v = v < 0 ? 0 : v > 255 ? 255 : v;
                            d->img[(((size_t)i * S + py * P + y) * S + px * P + x) * 3 + c] =
                                (uint8_t)v;
                        }
            }
    float *patches = malloc((size_t)n * S * S * 3 * sizeof(float));
    mvot_ref_patchify(d->img, n, S, P, patches);
    mvot_ref_nearest(d->cb, K, D, patches, (size_t)n * g * g, d->ref, NULL, NULL);
    free(patches);
}

static void drop(struct data *d)
{
    free(d->cb);
    free(d->img);
    free(d->ref);
}

static void check_encode(struct mvot_gpu *g, const struct data *d)
{
    struct mvot_error err = {0};
    struct mvot_gpu_patchvq *pv = NULL;
    size_t nc = (size_t)d->n * (d->S / P) * (d->S / P), bad = 0;
    int32_t *codes = malloc(nc * sizeof *codes);
    for (size_t i = 0; i < nc; i++)
        codes[i] = -1;
    ASSERT_OK(mvot_gpu_patchvq_create(g, d->cb, d->K, P, d->S, &pv, &err), &err);
    if (pv)
        ASSERT_OK(mvot_gpu_patchvq_encode(pv, d->img, d->n, codes, &err), &err);
    for (size_t i = 0; i < nc; i++)
        bad += codes[i] != d->ref[i];
    ASSERT_EQ_INT(bad, 0);
    mvot_gpu_patchvq_free(pv);
    free(codes);
}

static void t_encode_small(void)
{
    struct data d;
    make(&d, 64, 64, 5, 1);
    check_encode(t_gpu_ctx[0], &d);
    check_encode(t_gpu_ctx[1], &d);
    drop(&d);
}

static void t_encode_many(void)
{
    /* 32 px frames, 1100 of them: more than one device batch (1024). */
    struct data d;
    make(&d, 200, 32, 1100, 2);
    check_encode(t_gpu_ctx[0], &d);
    drop(&d);
}

static void t_decode(void)
{
    struct data d;
    struct mvot_error err = {0};
    struct mvot_gpu_patchvq *pv = NULL;
    make(&d, 50, 64, 3, 3);
    size_t bytes = (size_t)d.n * d.S * d.S * 3;
    uint8_t *gpu = malloc(bytes), *cpu = malloc(bytes);
    memset(gpu, 0xAB, bytes);
    mvot_ref_patch_decode(d.cb, P, d.S, d.ref, d.n, cpu);
    ASSERT_OK(mvot_gpu_patchvq_create(t_gpu_ctx[0], d.cb, d.K, P, d.S, &pv, &err), &err);
    if (pv)
        ASSERT_OK(mvot_gpu_patchvq_decode(pv, d.ref, d.n, gpu, &err), &err);
    ASSERT_TRUE(memcmp(gpu, cpu, bytes) == 0);
    /* An out-of-range code is refused, not read out of bounds. */
    d.ref[7] = (int32_t)d.K;
    if (pv)
        ASSERT_EQ_INT(mvot_gpu_patchvq_decode(pv, d.ref, d.n, gpu, &err), MVOT_ERR_INVALID);
    mvot_gpu_patchvq_free(pv);
    free(gpu);
    free(cpu);
    drop(&d);
}

static void t_vs_imagetok(void)
{
    /* The same codebook through the CPU tokenizer (a file, as pack uses it). */
    struct data d;
    struct mvot_error err = {0};
    struct mvot_codebook cb = {0};
    struct mvot_imagetok *tok = NULL;
    char *dir = t_tmpdir(), path[512];
    make(&d, 128, 128, 2, 4); /* imagetok takes S = 512, 256 or 128 */
    snprintf(path, sizeof path, "%s/cb.safetensors", dir);
    cb.kind = MVOT_CB_PATCH;
    cb.K = d.K;
    cb.D = P * P * 3;
    cb.patch = P;
    cb.image_size = d.S;
    cb.vec = d.cb;
    ASSERT_OK(mvot_codebook_save(path, &cb, &err), &err);
    ASSERT_OK(mvot_imagetok_open(path, d.S, 1, &tok, &err), &err);
    size_t g = d.S / P, bad = 0;
    int32_t *cpu = malloc(d.n * g * g * sizeof(int32_t));
    for (uint32_t i = 0; tok && i < d.n; i++) {
        struct mvot_image im = {d.S, d.S, 3, d.img + (size_t)i * d.S * d.S * 3};
        ASSERT_OK(mvot_imagetok_encode(tok, &im, cpu + i * g * g, &err), &err);
    }
    for (size_t i = 0; tok && i < d.n * g * g; i++)
        bad += cpu[i] != d.ref[i];
    ASSERT_EQ_INT(bad, 0);
    check_encode(t_gpu_ctx[0], &d);
    mvot_imagetok_free(tok);
    free(cpu);
    free(dir);
    drop(&d);
}

TEST_MAIN(t_gpu_setup, t_encode_small, t_encode_many, t_decode, t_vs_imagetok, t_gpu_teardown)
