/* Distance matrix and usage statistics: the GEMM distance matrix against a naive double loop
 * (exactly equal for patch codebooks, within 1e-5 relative for float latents), exact zeros on
 * the diagonal, exact symmetry, identical results for 1 and 2 threads; the .npy and
 * .safetensors writers; usage counts, perplexity and PSNR against naive recomputation; the
 * atlas layout. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/distances.h"
#include "codebook/stats.h"
#include "core/io.h"
#include "core/npy.h"
#include "core/rng.h"
#include "core/safetensors.h"
#include "tests/test.h"
#include "tests/test_codebook_synth.h"

static void make_cb(struct mvot_codebook *cb, enum mvot_codebook_kind kind, uint32_t K, uint32_t D,
                    uint64_t seed)
{
    struct mvot_rng r;
    mvot_rng_seed(&r, seed);
    memset(cb, 0, sizeof *cb);
    cb->kind = kind;
    cb->K = K;
    cb->D = D;
    cb->patch = kind == MVOT_CB_PATCH ? 16 : 0;
    cb->vec = malloc((size_t)K * D * sizeof *cb->vec);
    for (size_t i = 0; i < (size_t)K * D; i++)
        cb->vec[i] = kind == MVOT_CB_PATCH ? (float)mvot_rng_below(&r, 256)
                                           : (float)(mvot_rng_unit(&r) * 4 - 2) + 100.0f;
    /* near-duplicates and an exact duplicate: the cancellation-prone cases */
    for (size_t j = 0; j < D; j++) {
        cb->vec[1 * D + j] = cb->vec[j];
        cb->vec[2 * D + j] = cb->vec[j] + (kind == MVOT_CB_PATCH ? (j == 5) : 1e-3f * (j == 5));
    }
}

static void check(const struct mvot_codebook *cb, double rel)
{
    struct mvot_error err = {0};
    float *d1 = NULL, *d2 = NULL;
    struct mvot_pool *pool = mvot_pool_create(2);
    ASSERT_OK(mvot_codebook_distances(cb, NULL, &d1, &err), &err);
    ASSERT_OK(mvot_codebook_distances(cb, pool, &d2, &err), &err);
    if (!d1 || !d2)
        return;
    const size_t K = cb->K, D = cb->D;
    ASSERT_TRUE(memcmp(d1, d2, K * K * sizeof *d1) == 0);
    size_t bad = 0;
    double worst = 0;
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < K; j++) {
            double s = 0;
            for (size_t c = 0; c < D; c++) {
                double e = (double)cb->vec[i * D + c] - cb->vec[j * D + c];
                s += e * e;
            }
            double want = sqrt(s), got = d1[i * K + j];
            if (rel == 0) {
                bad += got != (float)want;
            } else {
                /* GEMM form: error relative to the vectors' norms, not to the distance. */
                double scale = sqrt((double)D) * 102.0;
                double e = fabs(got - want) / scale;
                worst = e > worst ? e : worst;
            }
            bad += d1[i * K + j] != d1[j * K + i];
        }
    for (size_t i = 0; i < K; i++)
        bad += d1[i * K + i] != 0.0f;
    ASSERT_EQ_INT(bad, 0);
    ASSERT_TRUE(worst <= rel);
    ASSERT_TRUE(d1[0 * K + 1] == 0.0f); /* exact duplicate */
    free(d1);
    free(d2);
    mvot_pool_free(pool);
}

static void test_patch_exact(void)
{
    struct mvot_codebook cb;
    make_cb(&cb, MVOT_CB_PATCH, 300, 768, 1); /* > one 256-row block */
    check(&cb, 0);
    mvot_codebook_free(&cb);
}

static void test_vqgan_float(void)
{
    struct mvot_codebook cb;
    make_cb(&cb, MVOT_CB_VQGAN, 270, 256, 2);
    check(&cb, 1e-6);
    mvot_codebook_free(&cb);
}

static void test_write(void)
{
    struct mvot_error err = {0};
    struct mvot_codebook cb;
    make_cb(&cb, MVOT_CB_PATCH, 5, 768, 3);
    float *d = NULL;
    ASSERT_OK(mvot_codebook_distances(&cb, NULL, &d, &err), &err);
    char *dir = t_tmpdir();
    char *pn = mvot_io_join(dir, "d.npy"), *ps = mvot_io_join(dir, "d.safetensors");
    char *px = mvot_io_join(dir, "d.csv");
    ASSERT_OK(mvot_codebook_distances_write(pn, d, 5, 7, &err), &err);
    ASSERT_OK(mvot_codebook_distances_write(ps, d, 5, 7, &err), &err);
    ASSERT_EQ_INT(mvot_codebook_distances_write(px, d, 5, 7, &err), MVOT_ERR_INVALID);
    uint8_t *buf = NULL;
    size_t len = 0;
    struct mvot_npy npy;
    ASSERT_OK(mvot_io_read_file(pn, 1 << 20, &buf, &len, &err), &err);
    ASSERT_OK(mvot_npy_parse(buf, len, pn, &npy, &err), &err);
    ASSERT_EQ_STR(npy.descr, "<f4");
    ASSERT_EQ_INT(npy.ndim, 2);
    ASSERT_TRUE(npy.nbytes == 100 && memcmp(npy.data, d, 100) == 0);
    struct mvot_safetensors *sf = NULL;
    ASSERT_OK(mvot_st_open(ps, &sf, &err), &err);
    const struct mvot_tensor *t = sf ? mvot_st_find(sf, "distances") : NULL;
    ASSERT_TRUE(t && t->nbytes == 100 && memcmp(t->data, d, 100) == 0);
    ASSERT_EQ_STR(json_string_value(json_object_get(mvot_st_metadata(sf), "codebook_hash")),
                  "0000000000000007");
    mvot_st_close(sf);
    free(buf);
    free(d);
    free(pn);
    free(ps);
    free(px);
    free(dir);
    mvot_codebook_free(&cb);
}

static void test_usage_and_atlas(void)
{
    struct mvot_error err = {0};
    struct mvot_image f[4];
    for (int i = 0; i < 4; i++)
        synth_frame(4, (uint64_t)i, 128, 6, &f[i]);
    struct mvot_patchset ps;
    ASSERT_OK(mvot_patchset_from_frames(f, 4, 16, 0, NULL, &ps, &err), &err);
    struct mvot_codebook cb;
    make_cb(&cb, MVOT_CB_PATCH, 40, 768, 5);
    for (size_t j = 0; j < 768; j++) /* code 3 is the most common patch: white */
        cb.vec[3 * 768 + j] = 255;
    struct mvot_codebook_usage u;
    struct mvot_pool *pool = mvot_pool_create(2);
    ASSERT_OK(mvot_codebook_usage(&cb, &ps, pool, &u, &err), &err);
    uint64_t sum = 0;
    double h = 0, se = 0;
    uint32_t dead = 0;
    uint64_t *cnt = calloc(40, sizeof *cnt);
    for (size_t i = 0; i < ps.n; i++) { /* naive nearest */
        int64_t best = INT64_MAX;
        int bi = 0;
        for (int k = 0; k < 40; k++) {
            int64_t s = 0;
            for (int j = 0; j < 768; j++) {
                int64_t e = (int64_t)ps.bytes[i * 768 + j] - (int64_t)cb.vec[k * 768 + j];
                s += e * e;
            }
            if (s < best) {
                best = s;
                bi = k;
            }
        }
        cnt[bi] += ps.count[i];
        se += (double)ps.count[i] * (double)best;
    }
    for (int k = 0; k < 40; k++) {
        ASSERT_EQ_U64(u.count[k], cnt[k]);
        sum += cnt[k];
        dead += cnt[k] == 0;
        if (cnt[k])
            h -= (double)cnt[k] / ps.total * log((double)cnt[k] / ps.total);
    }
    ASSERT_EQ_U64(sum, 4 * 64);
    ASSERT_EQ_U64(u.total, 4 * 64);
    ASSERT_EQ_INT(u.dead, dead);
    ASSERT_NEAR(u.perplexity, exp(h), 1e-9);
    ASSERT_NEAR(u.mse, se / (256.0 * 768), 1e-9);
    json_t *j = mvot_codebook_usage_json(&u, 1);
    ASSERT_EQ_INT(json_array_size(json_object_get(j, "histogram")), 40);
    json_decref(j);
    /* Atlas in index order: code 3's patch (white) is in slot 3, enlarged twice (32 px). */
    struct mvot_image at;
    uint32_t x, y, z;
    ASSERT_OK(mvot_codebook_atlas(&cb, NULL, &at, &err), &err);
    mvot_codebook_atlas_tile(&cb, 3, &x, &y, &z);
    ASSERT_EQ_INT(z, 2);
    ASSERT_TRUE(at.w >= 7 * 32 && at.h >= 6 * 32);
    ASSERT_EQ_INT(at.px[((size_t)(y + 31) * at.w + (x + 31)) * 3], 255);
    ASSERT_EQ_INT(at.px[((size_t)(y + 32 + 12) * at.w + (x + 31)) * 3], 160); /* below: text row */
    mvot_image_free(&at);
    /* Sorted by use: code 3 (the most used) comes first; a code no patch used is shaded. */
    ASSERT_OK(mvot_codebook_atlas(&cb, &u, &at, &err), &err);
    mvot_codebook_atlas_tile(&cb, 0, &x, &y, &z);
    ASSERT_EQ_INT(at.px[((size_t)(y + 5) * at.w + (x + 5)) * 3], 255);
    uint32_t last_dead = 40;
    for (uint32_t k = 0; k < 40; k++)
        if (u.count[k] == 0)
            last_dead = k;
    ASSERT_TRUE(last_dead < 40); /* random codes: some win no patch at all */
    if (last_dead < 40) {
        mvot_codebook_atlas_tile(&cb, 39, &x, &y, &z); /* dead codes last, by index */
        uint8_t v = cb.vec[(size_t)last_dead * 768];
        ASSERT_EQ_INT(at.px[((size_t)y * at.w + x) * 3], (v + 160) / 2);
    }
    mvot_image_free(&at); /* the next call initializes at again */
    /* a usage of another codebook is refused */
    u.K = 39;
    ASSERT_EQ_INT(mvot_codebook_atlas(&cb, &u, &at, &err), MVOT_ERR_MISMATCH);
    u.K = 40;
    mvot_codebook_usage_free(&u);
    /* A vqgan codebook: clear refusals. */
    cb.kind = MVOT_CB_VQGAN;
    ASSERT_EQ_INT(mvot_codebook_atlas(&cb, NULL, &at, &err), MVOT_ERR_UNSUPPORTED);
    ASSERT_EQ_INT(mvot_codebook_usage(&cb, &ps, NULL, &u, &err), MVOT_ERR_UNSUPPORTED);
    free(cnt);
    mvot_codebook_free(&cb);
    mvot_patchset_free(&ps);
    mvot_pool_free(pool);
    for (int i = 0; i < 4; i++)
        mvot_image_free(&f[i]);
}

TEST_MAIN(test_patch_exact, test_vqgan_float, test_write, test_usage_and_atlas)
