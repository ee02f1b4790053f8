/* Nearest-code search on the GPU vs the float64 CPU reference (mvot_ref_nearest).
 * Tolerance: none. Codes must be identical: with refinement on (the default) in FP32 and in
 * TF32 mode on any data, including random queries with near-ties; with refinement off only
 * on well-separated data (queries = codebook entries + small noise). Ties (duplicated
 * codebook rows) must resolve to the first index. Outputs are poisoned before each run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/test.h"
#include "tools/cuda/ref_cpu.h"
#include "tools/cuda/test_gpu_common.h"

static void fill_codebook(float *cb, uint32_t K, uint32_t D, float lo, float hi, uint64_t seed)
{
    struct mvot_rng r;
    mvot_rng_seed(&r, seed);
    for (size_t i = 0; i < (size_t)K * D; i++)
        cb[i] = t_unif(&r, lo, hi);
}

/* Runs GPU search on ctx and compares with the reference; returns mismatches. */
static size_t run_cmp(struct mvot_gpu *g, const float *cb, uint32_t K, uint32_t D, const float *q,
                      size_t n, const int32_t *ref)
{
    struct mvot_error err = {0};
    struct mvot_gpu_codebook *gcb = NULL;
    int32_t *codes = malloc(n * sizeof *codes);
    size_t bad = n;
    ASSERT_TRUE(codes != NULL);
    for (size_t i = 0; i < n; i++)
        codes[i] = -1;
    ASSERT_OK(mvot_gpu_codebook_create(g, cb, K, D, &gcb, &err), &err);
    if (gcb) {
        ASSERT_OK(mvot_gpu_nearest(g, gcb, q, n, codes, &err), &err);
        bad = 0;
        for (size_t i = 0; i < n; i++)
            if (codes[i] != ref[i]) {
                if (bad < 3)
                    fprintf(stderr, "  query %zu: gpu %d, cpu %d\n", i, codes[i], ref[i]);
                bad++;
            }
    }
    mvot_gpu_codebook_free(gcb);
    free(codes);
    return bad;
}

static void t_separated(void)
{
    /* Both code paths of the scan: K % 4 == 0 (float4) and K % 4 != 0 (scalar). */
    const uint32_t Ks[2] = {1024, 1001}, D = 256;
    for (int v = 0; v < 2; v++) {
        uint32_t K = Ks[v];
        size_t n = 700;
        float *cb = malloc((size_t)K * D * sizeof *cb), *q = malloc(n * D * sizeof *q);
        int32_t *ref = malloc(n * sizeof *ref);
        struct mvot_rng r;
        fill_codebook(cb, K, D, -1.0f, 1.0f, 7 + v);
        mvot_rng_seed(&r, 99);
        for (size_t i = 0; i < n; i++) {
            uint32_t k = (uint32_t)mvot_rng_below(&r, K);
            for (uint32_t d = 0; d < D; d++)
                q[i * D + d] = cb[(size_t)k * D + d] + t_unif(&r, -0.01f, 0.01f);
        }
        mvot_ref_nearest(cb, K, D, q, n, ref, NULL, NULL);
        for (int mode = 0; mode < 2; mode++)
            ASSERT_EQ_INT(run_cmp(t_gpu_ctx[mode], cb, K, D, q, n, ref), 0);
        /* Refinement off: the raw FP32 GEMM argmin is exact on well-separated data. */
        struct mvot_gpu_opts o;
        struct mvot_gpu *raw = NULL;
        struct mvot_error err = {0};
        mvot_gpu_opts_default(&o);
        o.refine = 0;
        ASSERT_OK(mvot_gpu_create(&o, &raw, &err), &err);
        if (raw)
            ASSERT_EQ_INT(run_cmp(raw, cb, K, D, q, n, ref), 0);
        mvot_gpu_free(raw);
        free(cb);
        free(q);
        free(ref);
    }
}

static void t_random_near_ties(void)
{
    /* Random queries against a random codebook: many near-ties (best and second best
     * within 1e-4 relative), which the exact re-rank must settle like the reference. */
    const uint32_t K = 2048, D = 64;
    size_t n = 2000, close = 0;
    float *cb = malloc((size_t)K * D * sizeof *cb), *q = malloc(n * D * sizeof *q);
    int32_t *ref = malloc(n * sizeof *ref);
    double *b1 = malloc(n * sizeof *b1), *b2 = malloc(n * sizeof *b2);
    struct mvot_rng r;
    fill_codebook(cb, K, D, -1.0f, 1.0f, 11);
    mvot_rng_seed(&r, 12);
    for (size_t i = 0; i < n * D; i++)
        q[i] = t_unif(&r, -1.0f, 1.0f);
    mvot_ref_nearest(cb, K, D, q, n, ref, b1, b2);
    for (size_t i = 0; i < n; i++)
        close += (b2[i] - b1[i]) < 1e-3 * b1[i];
    printf("  %zu of %zu queries have a runner-up within 0.1%%\n", close, n);
    ASSERT_EQ_INT(run_cmp(t_gpu_ctx[0], cb, K, D, q, n, ref), 0);
    ASSERT_EQ_INT(run_cmp(t_gpu_ctx[1], cb, K, D, q, n, ref), 0);
    free(cb);
    free(q);
    free(ref);
    free(b1);
    free(b2);
}

static void t_ties_first_index(void)
{
    /* Every codebook row appears twice (k and k + K/2): the first copy must win. */
    const uint32_t K = 512, D = 32;
    size_t n = 300;
    float *cb = malloc((size_t)K * D * sizeof *cb), *q = malloc(n * D * sizeof *q);
    int32_t *ref = malloc(n * sizeof *ref);
    struct mvot_rng r;
    fill_codebook(cb, K / 2, D, 0.0f, 4.0f, 21);
    memcpy(cb + (size_t)(K / 2) * D, cb, (size_t)(K / 2) * D * sizeof *cb);
    mvot_rng_seed(&r, 22);
    for (size_t i = 0; i < n * D; i++)
        q[i] = t_unif(&r, 0.0f, 4.0f);
    /* An exact copy of a row as a query too (distance exactly 0 to both copies). */
    memcpy(q, cb + 5 * D, D * sizeof *q);
    mvot_ref_nearest(cb, K, D, q, n, ref, NULL, NULL);
    for (size_t i = 0; i < n; i++)
        ASSERT_TRUE(ref[i] < (int32_t)(K / 2));
    ASSERT_EQ_INT(ref[0], 5);
    ASSERT_EQ_INT(run_cmp(t_gpu_ctx[0], cb, K, D, q, n, ref), 0);
    ASSERT_EQ_INT(run_cmp(t_gpu_ctx[1], cb, K, D, q, n, ref), 0);
    free(cb);
    free(q);
    free(ref);
}

static void t_patch_magnitudes(void)
{
    /* Patch-VQ-like data: D = 768 values in [0, 255], K = 256 integer-ish codebook. */
    const uint32_t K = 256, D = 768;
    size_t n = 400;
    float *cb = malloc((size_t)K * D * sizeof *cb), *q = malloc(n * D * sizeof *q);
    int32_t *ref = malloc(n * sizeof *ref);
    struct mvot_rng r;
    mvot_rng_seed(&r, 31);
    for (size_t i = 0; i < (size_t)K * D; i++)
        cb[i] = (float)mvot_rng_below(&r, 256);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = (uint32_t)mvot_rng_below(&r, K);
        for (uint32_t d = 0; d < D; d++) {
            int v = (int)cb[(size_t)k * D + d] + (int)mvot_rng_below(&r, 61) - 30;
            q[i * D + d] = (float)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    mvot_ref_nearest(cb, K, D, q, n, ref, NULL, NULL);
    ASSERT_EQ_INT(run_cmp(t_gpu_ctx[0], cb, K, D, q, n, ref), 0);
    ASSERT_EQ_INT(run_cmp(t_gpu_ctx[1], cb, K, D, q, n, ref), 0);
    free(cb);
    free(q);
    free(ref);
}

TEST_MAIN(t_gpu_setup, t_separated, t_random_near_ties, t_ties_first_index, t_patch_magnitudes,
          t_gpu_teardown)
