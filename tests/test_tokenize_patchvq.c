/* Patch VQ encode/decode: exactness against a naive integer nearest-code loop (ties to the
 * first index), cache on and off identical, concurrent encodes sharing one cache, decode
 * pasting codes, bad codes refused, and the imagetok front end over a codebook file
 * (dispatch, preprocessing of non-square RGBA input, round trips). Also reports PSNR on
 * held-out synthetic frames. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/patchset.h"
#include "codebook/train.h"
#include "core/io.h"
#include "core/rng.h"
#include "tests/test.h"
#include "tests/test_codebook_synth.h"
#include "tokenize/imagetok.h"
#include "tokenize/patchvq.h"

static int32_t naive_nearest(const float *cb, uint32_t K, uint32_t D, const uint8_t *p)
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
    return bi;
}

/* A codebook with random codes, exact duplicates (ties) and near-duplicates. */
static void random_cb(struct mvot_codebook *cb, uint32_t K, uint64_t seed)
{
    struct mvot_rng r;
    mvot_rng_seed(&r, seed);
    memset(cb, 0, sizeof *cb);
    cb->kind = MVOT_CB_PATCH;
    cb->K = K;
    cb->patch = 16;
    cb->D = 768;
    cb->vec = malloc((size_t)K * 768 * sizeof *cb->vec);
    for (uint32_t k = 0; k < K; k++) {
        int base = (int)mvot_rng_below(&r, 256);
        for (int j = 0; j < 768; j++) {
            int v = base + (int)mvot_rng_below(&r, 41) - 20;
            cb->vec[(size_t)k * 768 + j] = (float)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        if (k % 7 == 6) /* duplicate an earlier code: ties must go to the earlier one */
            memcpy(cb->vec + (size_t)k * 768, cb->vec + (size_t)(k / 2) * 768, 768 * 4);
    }
}

static void test_exact_vs_naive(void)
{
    struct mvot_error err = {0};
    struct mvot_codebook cb;
    random_cb(&cb, 300, 1);
    struct mvot_patchvq *on = NULL, *off = NULL;
    ASSERT_OK(mvot_patchvq_create(&cb, 4096, &on, &err), &err);
    ASSERT_OK(mvot_patchvq_create(&cb, 0, &off, &err), &err);
    const uint32_t S = 128, G = 8;
    int32_t c_on[64], c_off[64], c_again[64];
    uint8_t p[768];
    int mism = 0;
    for (int f = 0; f < 6; f++) {
        struct mvot_image im;
        synth_frame(2, (uint64_t)f, S, 6, &im);
        if (f % 2) /* noisy frames: no zero-distance shortcuts */
            for (size_t i = 0; i < (size_t)S * S * 3; i++)
                im.px[i] = (uint8_t)(im.px[i] ^ (uint8_t)((i * 2654435761u) >> 27));
        ASSERT_OK(mvot_patchvq_encode(on, im.px, S, c_on, &err), &err);
        ASSERT_OK(mvot_patchvq_encode(off, im.px, S, c_off, &err), &err);
        ASSERT_OK(mvot_patchvq_encode(on, im.px, S, c_again, &err), &err); /* warm cache */
        for (uint32_t i = 0; i < G * G; i++) {
            mvot_patch_extract(im.px, S, (i % G) * 16, (i / G) * 16, 16, p);
            int32_t want = naive_nearest(cb.vec, cb.K, cb.D, p);
            mism += c_on[i] != want || c_off[i] != want || c_again[i] != want;
        }
        mvot_image_free(&im);
    }
    ASSERT_EQ_INT(mism, 0);
    /* Exact duplicates in the frame: a patch equal to a duplicated code maps to its first
     * occurrence. */
    struct mvot_image im;
    mvot_image_init(&im, 16, 16, 3);
    for (int j = 0; j < 768; j++)
        im.px[j] = (uint8_t)cb.vec[(size_t)13 * 768 + j]; /* code 13 == code 6 */
    int32_t c1;
    ASSERT_OK(mvot_patchvq_encode(on, im.px, 16, &c1, &err), &err);
    ASSERT_EQ_INT(c1, naive_nearest(cb.vec, cb.K, cb.D, im.px));
    ASSERT_TRUE(c1 <= 6);
    mvot_image_free(&im);
    uint64_t hits, misses;
    size_t entries;
    mvot_patchvq_cache_stats(on, &hits, &misses, &entries);
    ASSERT_TRUE(hits >= 6 * 64);
    ASSERT_TRUE(entries > 0);
    mvot_patchvq_free(on);
    mvot_patchvq_free(off);
    mvot_codebook_free(&cb);
}

struct conc {
    struct mvot_patchvq *vq;
    const struct mvot_image *frames;
    int n;
    int32_t *codes; /* n x 256 */
    int fails;
};

static void *conc_run(void *arg)
{
    struct conc *c = arg;
    struct mvot_error err = {0};
    for (int i = 0; i < c->n; i++)
        if (mvot_patchvq_encode(c->vq, c->frames[i].px, 256, c->codes + (size_t)i * 256, &err))
            c->fails++;
    return NULL;
}

/* Frames made of the codes themselves: the seeded cache (codes known in advance) answers
 * them without a search, and must give what the search gives, the lowest of equal codes
 * included (random_cb duplicates every 7th code). */
static void test_seeded_codes(void)
{
    struct mvot_error err = {0};
    struct mvot_codebook cb;
    random_cb(&cb, 300, 3);
    struct mvot_patchvq *seeded = NULL, *off = NULL;
    ASSERT_OK(mvot_patchvq_create(&cb, 4 * 300, &seeded, &err), &err);
    ASSERT_OK(mvot_patchvq_create(&cb, 0, &off, &err), &err);
    const uint32_t S = 128, G = 8;
    uint8_t *px = malloc((size_t)S * S * 3);
    int32_t a[64], b[64];
    ASSERT_TRUE(px != NULL);
    for (uint32_t first = 0; px && first < 300; first += 64) {
        for (uint32_t t = 0; t < G * G; t++) { /* patch t is code first + t (mod K) */
            uint32_t k = (first + t) % 300;
            for (uint32_t y = 0; y < 16; y++)
                for (uint32_t x = 0; x < 16 * 3; x++)
                    px[((size_t)(t / G * 16 + y) * S + t % G * 16) * 3 + x] =
                        (uint8_t)cb.vec[(size_t)k * 768 + y * 48 + x];
        }
        ASSERT_OK(mvot_patchvq_encode(seeded, px, S, a, &err), &err);
        ASSERT_OK(mvot_patchvq_encode(off, px, S, b, &err), &err);
        for (uint32_t t = 0; t < G * G; t++) {
            uint32_t k = (first + t) % 300;
            ASSERT_EQ_INT(a[t], b[t]);
            uint32_t low = 0; /* the lowest code with k's bytes (duplicates chain: 13 -> 6 -> 3) */
            while (memcmp(cb.vec + (size_t)low * 768, cb.vec + (size_t)k * 768, 768 * 4) != 0)
                low++;
            ASSERT_EQ_INT(a[t], (int)low);
        }
    }
    free(px);
    mvot_patchvq_free(seeded);
    mvot_patchvq_free(off);
    mvot_codebook_free(&cb);
}

static void test_concurrent_cache(void)
{
    struct mvot_error err = {0};
    struct mvot_codebook cb;
    random_cb(&cb, 200, 4);
    struct mvot_patchvq *shared = NULL, *ref = NULL;
    ASSERT_OK(mvot_patchvq_create(&cb, 256, &shared, &err), &err); /* small: fills up */
    ASSERT_OK(mvot_patchvq_create(&cb, 0, &ref, &err), &err);
    enum { NF = 6, NT = 4 };
    struct mvot_image fr[NF];
    for (int i = 0; i < NF; i++)
        synth_frame(8, (uint64_t)i, 256, 6, &fr[i]);
    int32_t *want = malloc(NF * 256 * sizeof *want);
    for (int i = 0; i < NF; i++)
        ASSERT_OK(mvot_patchvq_encode(ref, fr[i].px, 256, want + i * 256, &err), &err);
    struct conc c[NT];
    pthread_t th[NT];
    for (int t = 0; t < NT; t++) {
        c[t] = (struct conc){shared, fr, NF, malloc(NF * 256 * sizeof(int32_t)), 0};
        pthread_create(&th[t], NULL, conc_run, &c[t]);
    }
    for (int t = 0; t < NT; t++) {
        pthread_join(th[t], NULL);
        ASSERT_EQ_INT(c[t].fails, 0);
        ASSERT_TRUE(memcmp(c[t].codes, want, NF * 256 * sizeof *want) == 0);
        free(c[t].codes);
    }
    for (int i = 0; i < NF; i++)
        mvot_image_free(&fr[i]);
    free(want);
    mvot_patchvq_free(shared);
    mvot_patchvq_free(ref);
    mvot_codebook_free(&cb);
}

static void test_decode(void)
{
    struct mvot_error err = {0};
    struct mvot_codebook cb;
    random_cb(&cb, 50, 5);
    struct mvot_patchvq *vq = NULL;
    ASSERT_OK(mvot_patchvq_create(&cb, 64, &vq, &err), &err);
    int32_t codes[64];
    for (int i = 0; i < 64; i++)
        codes[i] = (i * 13) % 50;
    uint8_t *px = malloc(128 * 128 * 3);
    ASSERT_OK(mvot_patchvq_decode(vq, codes, 128, px, &err), &err);
    /* Pixel (y, x) of block (gy, gx) is the code's pixel. */
    int bad = 0;
    for (int y = 0; y < 128; y++)
        for (int x = 0; x < 128; x++)
            for (int c = 0; c < 3; c++) {
                int code = codes[(y / 16) * 8 + x / 16];
                bad += px[((size_t)y * 128 + x) * 3 + c] !=
                       (uint8_t)cb.vec[(size_t)code * 768 + ((y % 16) * 16 + x % 16) * 3 + c];
            }
    ASSERT_EQ_INT(bad, 0);
    /* Re-encoding the decoded image finds each pasted code again (or the first identical
     * one, since the codebook holds duplicates). */
    int32_t back[64];
    uint8_t p[768];
    ASSERT_OK(mvot_patchvq_encode(vq, px, 128, back, &err), &err);
    for (int i = 0; i < 64; i++) {
        mvot_patch_extract(px, 128, (uint32_t)(i % 8) * 16, (uint32_t)(i / 8) * 16, 16, p);
        ASSERT_EQ_INT(back[i], naive_nearest(cb.vec, cb.K, cb.D, p));
        ASSERT_TRUE(memcmp(cb.vec + (size_t)back[i] * 768, cb.vec + (size_t)codes[i] * 768,
                           768 * sizeof(float)) == 0);
    }
    codes[17] = 50;
    ASSERT_EQ_INT(mvot_patchvq_decode(vq, codes, 128, px, &err), MVOT_ERR_INVALID);
    ASSERT_CONTAINS(err.msg, "position 17");
    codes[17] = -1;
    ASSERT_EQ_INT(mvot_patchvq_decode(vq, codes, 128, px, &err), MVOT_ERR_INVALID);
    ASSERT_EQ_INT(mvot_patchvq_encode(vq, px, 100, back, &err), MVOT_ERR_INVALID);
    free(px);
    mvot_patchvq_free(vq);
    mvot_codebook_free(&cb);
}

static double psnr(const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        se += d * d;
    }
    return se == 0 ? INFINITY : 10 * log10(255.0 * 255.0 * n / se);
}

static void test_imagetok_and_psnr(void)
{
    struct mvot_error err = {0};
    enum { NTRAIN = 24, NTEST = 6 };
    const uint32_t S = 256;
    struct mvot_image fr[NTRAIN + NTEST];
    for (int i = 0; i < NTRAIN + NTEST; i++)
        synth_frame(21, (uint64_t)i, S, 6, &fr[i]);
    struct mvot_kmeans_opts o;
    mvot_kmeans_opts_default(&o);
    o.K = 256;
    struct mvot_codebook cb;
    struct mvot_pool *pool = mvot_pool_create(2);
    ASSERT_OK(mvot_codebook_train_frames(fr, NTRAIN, &o, pool, NULL, &cb, &err), &err);
    char *dir = t_tmpdir();
    char *path = mvot_io_join(dir, "cb.safetensors");
    ASSERT_OK(mvot_codebook_save(path, &cb, &err), &err);
    struct mvot_imagetok *t = NULL;
    ASSERT_OK(mvot_imagetok_open(path, S, 1, &t, &err), &err);
    if (!t)
        return;
    struct mvot_imagetok_info info;
    mvot_imagetok_get_info(t, &info);
    ASSERT_EQ_INT(info.kind, MVOT_IMAGETOK_PATCH);
    ASSERT_EQ_INT(info.grid, 16);
    ASSERT_EQ_INT(info.K, cb.K);
    ASSERT_EQ_U64(info.hash, cb.file_hash);
    ASSERT_TRUE(info.can_decode);
    int32_t codes[256];
    double worst = INFINITY, sum = 0, se = 0;
    for (int i = 0; i < NTRAIN; i++) {
        struct mvot_image dec = {0};
        ASSERT_OK(mvot_imagetok_encode(t, &fr[i], codes, &err), &err);
        ASSERT_OK(mvot_imagetok_decode(t, codes, &dec, &err), &err);
        for (size_t j = 0; dec.px && j < (size_t)S * S * 3; j++)
            se += ((double)fr[i].px[j] - dec.px[j]) * ((double)fr[i].px[j] - dec.px[j]);
        mvot_image_free(&dec);
    }
    /* Encoding the training frames reproduces the trainer's own final error exactly: the
     * encoder's exact nearest code is the trainer's final assignment. */
    double mse = se / ((double)NTRAIN * S * S * 3);
    ASSERT_NEAR(mse, json_real_value(json_object_get(cb.stats, "mse")), 1e-9 * mse + 1e-12);
    for (int i = NTRAIN; i < NTRAIN + NTEST; i++) {
        struct mvot_image dec = {0};
        ASSERT_OK(mvot_imagetok_encode(t, &fr[i], codes, &err), &err);
        ASSERT_OK(mvot_imagetok_decode(t, codes, &dec, &err), &err);
        double p = psnr(fr[i].px, dec.px, (size_t)S * S * 3);
        worst = p < worst ? p : worst;
        sum += p > 99 ? 99 : p;
        /* Round trips: k = 1 is encode+decode; k = 2 is stable (decoded codes re-encode to
         * themselves, so it equals k = 1). */
        struct mvot_image r1 = {0}, r2 = {0};
        ASSERT_OK(mvot_imagetok_roundtrip(t, &fr[i], 1, &r1, &err), &err);
        ASSERT_OK(mvot_imagetok_roundtrip(t, &fr[i], 2, &r2, &err), &err);
        ASSERT_TRUE(r1.px && memcmp(r1.px, dec.px, (size_t)S * S * 3) == 0);
        ASSERT_TRUE(r2.px && memcmp(r2.px, r1.px, (size_t)S * S * 3) == 0);
        mvot_image_free(&r1);
        mvot_image_free(&r2);
        mvot_image_free(&dec);
    }
    printf("# PSNR at %u px, K=%u trained on %d frames: training %.2f dB; held-out mean %.2f dB, "
           "worst %.2f dB\n",
           S, cb.K, NTRAIN, 10 * log10(255.0 * 255.0 / mse), sum / NTEST, worst);
    /* Non-square RGBA input goes through the Chameleon preprocessing. */
    struct mvot_image rgba;
    mvot_image_init(&rgba, 300, 260, 4);
    for (size_t i = 0; i < (size_t)300 * 260; i++) {
        rgba.px[i * 4 + 0] = 10;
        rgba.px[i * 4 + 1] = 200;
        rgba.px[i * 4 + 2] = 30;
        rgba.px[i * 4 + 3] = 255;
    }
    ASSERT_OK(mvot_imagetok_encode(t, &rgba, codes, &err), &err);
    mvot_image_free(&rgba);
    /* Wrong image sizes and non-codebook files are refused. */
    struct mvot_imagetok *t2 = NULL;
    ASSERT_EQ_INT(mvot_imagetok_open(path, 300, 1, &t2, &err), MVOT_ERR_INVALID);
    char *junk = mvot_io_join(dir, "junk.safetensors");
    mvot_io_write_file(junk, "\x02\0\0\0\0\0\0\0{}", 10, &err);
    ASSERT_EQ_INT(mvot_imagetok_open(junk, 256, 1, &t2, &err), MVOT_ERR_UNSUPPORTED);
    ASSERT_CONTAINS(err.msg, "neither");
    free(junk);
    mvot_imagetok_free(t);
    mvot_pool_free(pool);
    mvot_codebook_free(&cb);
    for (int i = 0; i < NTRAIN + NTEST; i++)
        mvot_image_free(&fr[i]);
    free(path);
    free(dir);
}

TEST_MAIN(test_exact_vs_naive, test_seeded_codes, test_concurrent_cache, test_decode,
          test_imagetok_and_psnr)
