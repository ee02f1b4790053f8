/* Patch k-means: the exact codebook when distinct patches <= K, determinism across thread
 * counts (byte-identical files), Lloyd fixed-point properties checked against a naive
 * reference, the weighted subsample, and dedup counts. Frames are synthetic
 * (tests/test_codebook_synth.h). */
#include <stdlib.h>
#include <string.h>

#include "codebook/patchset.h"
#include "codebook/train.h"
#include "core/hash.h"
#include "core/io.h"
#include "tests/test.h"
#include "tests/test_codebook_synth.h"

/* Naive nearest code: integer squared distance, first index on ties. */
static int32_t naive_nearest(const float *cb, uint32_t K, uint32_t D, const uint8_t *p,
                             int64_t *dist)
{
    int64_t best = INT64_MAX;
    int32_t bi = -1;
    for (uint32_t k = 0; k < K; k++) {
        int64_t d = 0;
        for (uint32_t j = 0; j < D; j++) {
            int64_t e = (int64_t)p[j] - (int64_t)cb[(size_t)k * D + j];
            d += e * e;
        }
        if (d < best) {
            best = d;
            bi = (int32_t)k;
        }
    }
    *dist = best;
    return bi;
}

static void test_patchset_counts(void)
{
    struct mvot_error err = {0};
    struct mvot_image *f = synth_frames(6, 128, 6, 5);
    struct mvot_patchset a, b;
    struct mvot_pool *pool = mvot_pool_create(2);
    ASSERT_OK(mvot_patchset_from_frames(f, 6, 16, 0, pool, &a, &err), &err);
    ASSERT_OK(mvot_patchset_init(&b, 16, 0, &err), &err);
    for (int i = 5; i >= 0; i--) /* reverse order: same set */
        ASSERT_OK(mvot_patchset_add_image(&b, &f[i], "frame", &err), &err);
    ASSERT_EQ_U64(a.total, 6 * 64);
    ASSERT_EQ_U64(a.frames, 6);
    ASSERT_EQ_U64(a.n, b.n);
    uint64_t ha = 0, hb = 0, sum = 0;
    ASSERT_OK(mvot_patchset_data_hash(&a, &ha, &err), &err);
    ASSERT_OK(mvot_patchset_data_hash(&b, &hb, &err), &err);
    ASSERT_EQ_U64(ha, hb);
    for (size_t i = 0; i < a.n; i++)
        sum += a.count[i];
    ASSERT_EQ_U64(sum, a.total);
    /* Mixed frame sizes are refused with the frame named. */
    struct mvot_image small;
    synth_frame(1, 0, 64, 4, &small);
    ASSERT_EQ_INT(mvot_patchset_add_image(&b, &small, "odd frame", &err), MVOT_ERR_MISMATCH);
    ASSERT_CONTAINS(err.msg, "odd frame");
    mvot_image_free(&small);
    mvot_patchset_free(&a);
    mvot_patchset_free(&b);
    mvot_pool_free(pool);
    synth_frames_free(f, 6);
}

static void test_exact_when_few(void)
{
    struct mvot_error err = {0};
    struct mvot_image *f = synth_frames(8, 128, 6, 9);
    struct mvot_kmeans_opts o;
    mvot_kmeans_opts_default(&o);
    struct mvot_codebook cb;
    ASSERT_OK(mvot_codebook_train_frames(f, 8, &o, NULL, NULL, &cb, &err), &err);
    ASSERT_EQ_STR(json_string_value(json_object_get(cb.stats, "algorithm")), "exact");
    ASSERT_EQ_INT(json_integer_value(json_object_get(cb.stats, "distinct")), cb.K);
    ASSERT_EQ_INT(json_integer_value(json_object_get(cb.stats, "dead_codes")), 0);
    ASSERT_TRUE(cb.K < 8 * 64);
    /* Every patch of every frame is a code at distance 0. */
    uint8_t p[768];
    for (size_t i = 0; i < 8; i++)
        for (uint32_t y = 0; y < 128; y += 16)
            for (uint32_t x = 0; x < 128; x += 16) {
                int64_t d;
                mvot_patch_extract(f[i].px, 128, x, y, 16, p);
                naive_nearest(cb.vec, cb.K, cb.D, p, &d);
                if (d != 0)
                    T_FAIL("frame %zu patch (%u,%u) not in the exact codebook", i, x, y);
            }
    /* Codes are ordered by usage: code 0 is the most frequent distinct patch. */
    struct mvot_patchset ps;
    ASSERT_OK(mvot_patchset_from_frames(f, 8, 16, 0, NULL, &ps, &err), &err);
    size_t top = 0;
    for (size_t i = 1; i < ps.n; i++)
        if (ps.count[i] > ps.count[top])
            top = i;
    for (uint32_t j = 0; j < cb.D; j++)
        if (cb.vec[j] != (float)ps.bytes[top * cb.D + j]) {
            T_FAIL("code 0 is not the most frequent patch");
            break;
        }
    mvot_patchset_free(&ps);
    mvot_codebook_free(&cb);
    synth_frames_free(f, 8);
}

static void train_bytes(const struct mvot_image *f, size_t n, const struct mvot_kmeans_opts *o,
                        int threads, const char *path, struct mvot_codebook *cb)
{
    struct mvot_error err = {0};
    struct mvot_pool *pool = mvot_pool_create(threads);
    ASSERT_OK(mvot_codebook_train_frames(f, n, o, pool, NULL, cb, &err), &err);
    ASSERT_OK(mvot_codebook_save(path, cb, &err), &err);
    mvot_pool_free(pool);
}

static void test_kmeans_deterministic_and_lloyd(void)
{
    struct mvot_error err = {0};
    const size_t n = 12;
    struct mvot_image *f = synth_frames(n, 128, 6, 3);
    struct mvot_kmeans_opts o;
    mvot_kmeans_opts_default(&o);
    o.K = 48;
    o.max_iters = 50;
    o.seed = 7;
    char *dir = t_tmpdir();
    char *p1 = mvot_io_join(dir, "t1.safetensors"), *p2 = mvot_io_join(dir, "t2.safetensors");
    struct mvot_codebook a, b;
    train_bytes(f, n, &o, 1, p1, &a);
    train_bytes(f, n, &o, 2, p2, &b);
    ASSERT_EQ_U64(a.file_hash, b.file_hash); /* byte-identical files */
    ASSERT_EQ_STR(json_string_value(json_object_get(a.stats, "algorithm")), "kmeans");
    ASSERT_EQ_INT(a.K, 48);
    ASSERT_TRUE(json_is_true(json_object_get(a.stats, "converged")));

    /* Lloyd fixed point: with the final codes, every code that has points is the rounded
     * weighted mean of the points nearest to it, and the reported mse is the naive one. */
    struct mvot_patchset ps;
    ASSERT_OK(mvot_patchset_from_frames(f, n, 16, 0, NULL, &ps, &err), &err);
    uint64_t *W = calloc(a.K, sizeof *W), *S = calloc((size_t)a.K * 768, sizeof *S);
    double se = 0;
    uint32_t used = 0;
    for (size_t i = 0; i < ps.n; i++) {
        int64_t d;
        int32_t k = naive_nearest(a.vec, a.K, a.D, ps.bytes + i * 768, &d);
        W[k] += ps.count[i];
        for (int j = 0; j < 768; j++)
            S[(size_t)k * 768 + j] += ps.count[i] * ps.bytes[i * 768 + j];
        se += (double)ps.count[i] * (double)d;
    }
    int bad = 0;
    for (uint32_t k = 0; k < a.K; k++) {
        used += W[k] > 0;
        for (int j = 0; W[k] && j < 768; j++) {
            uint64_t m = (2 * S[(size_t)k * 768 + j] + W[k]) / (2 * W[k]);
            bad += (float)m != a.vec[(size_t)k * 768 + j];
        }
    }
    ASSERT_EQ_INT(bad, 0);
    ASSERT_EQ_INT(a.K - used, json_integer_value(json_object_get(a.stats, "dead_codes")));
    ASSERT_NEAR(se / ((double)ps.total * 768), json_real_value(json_object_get(a.stats, "mse")),
                1e-9);
    /* Codes are in usage order. */
    for (uint32_t k = 1; k < a.K; k++)
        if (W[k] > W[k - 1]) {
            T_FAIL("code %u used more than code %u", k, k - 1);
            break;
        }
    /* Another seed gives another codebook. */
    struct mvot_codebook c;
    o.seed = 8;
    train_bytes(f, n, &o, 2, p2, &c);
    ASSERT_TRUE(c.file_hash != a.file_hash);
    free(W);
    free(S);
    mvot_patchset_free(&ps);
    mvot_codebook_free(&a);
    mvot_codebook_free(&b);
    mvot_codebook_free(&c);
    synth_frames_free(f, n);
    free(p1);
    free(p2);
    free(dir);
}

static void test_subsample(void)
{
    struct mvot_error err = {0};
    const size_t n = 10;
    struct mvot_image *f = synth_frames(n, 128, 6, 11);
    struct mvot_kmeans_opts o;
    mvot_kmeans_opts_default(&o);
    o.K = 20;
    o.max_patches = 60;
    char *dir = t_tmpdir();
    char *p1 = mvot_io_join(dir, "s1.safetensors"), *p2 = mvot_io_join(dir, "s2.safetensors");
    struct mvot_codebook a, b;
    train_bytes(f, n, &o, 1, p1, &a);
    train_bytes(f, n, &o, 2, p2, &b);
    ASSERT_EQ_U64(a.file_hash, b.file_hash);
    ASSERT_EQ_INT(json_integer_value(json_object_get(a.stats, "points")), 60);
    ASSERT_TRUE(json_integer_value(json_object_get(a.stats, "distinct")) > 60);
    /* A cap below 2K is raised to 2K: k-means still runs on more points than codes. */
    struct mvot_codebook lo;
    o.max_patches = 5;
    train_bytes(f, n, &o, 1, p1, &lo);
    ASSERT_EQ_INT(json_integer_value(json_object_get(lo.stats, "points")), 40);
    ASSERT_EQ_STR(json_string_value(json_object_get(lo.stats, "algorithm")), "kmeans");
    mvot_codebook_free(&lo);
    /* Bad options are refused, not crashed on. */
    o.K = 0;
    struct mvot_codebook c;
    ASSERT_EQ_INT(mvot_codebook_train_frames(f, n, &o, NULL, NULL, &c, &err), MVOT_ERR_INVALID);
    o.K = 8;
    o.patch = 32;
    ASSERT_TRUE(mvot_codebook_train_frames(f, n, &o, NULL, NULL, &c, &err) != MVOT_OK);
    mvot_codebook_free(&a);
    mvot_codebook_free(&b);
    synth_frames_free(f, n);
    free(p1);
    free(p2);
    free(dir);
}

TEST_MAIN(test_patchset_counts, test_exact_when_few, test_kmeans_deterministic_and_lloyd,
          test_subsample)
