/* tokenize/vqgan against PyTorch (tests/vqgan/ref.py, Debian python3-torch): a reduced-width
 * VQGAN (ch 32, real layout and tensor names, random weights) written at test time into the
 * build tree in f32 (with the model.vqmodel. prefix), bf16 (no prefix, encoder only) and f16.
 * Targets: latent max abs error <= 1e-3 of the latent's range, >= 99.9% identical codes,
 * decoded pixels within one level on >= 99% of values. Also: bit-identical results for any
 * thread count, loader errors that name the missing or misshapen tensor, and the same model
 * from the weights split into Hugging Face style shards (index file and folder).
 * Exits 77 (skipped, with a message) when /usr/bin/python3 lacks torch or numpy. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/npy.h"
#include "core/pool.h"
#include "core/safetensors.h"
#include "test.h"
#include "test_ckpt_fixture.h"
#include "tokenize/imagetok.h"
#include "tokenize/imgprep.h"
#include "tokenize/vqgan.h"

#define CH 32

struct refset {
    char dir[768];
    uint32_t S;
    int has_decoder;
};

static struct refset SET_F32 = {.S = 128, .has_decoder = 1};
static struct refset SET_BF16 = {.S = 128, .has_decoder = 0};
static struct refset SET_F16 = {.S = 64, .has_decoder = 1};
static int g_ready;

/* Generates the three reference sets once per run. */
static int ensure_refs(void)
{
    if (g_ready)
        return g_ready > 0;
    g_ready = -1;
    if (system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "SKIP: /usr/bin/python3 with torch and numpy (Debian python3-torch) "
                        "is required for the VQGAN reference\n");
        exit(77);
    }
    const char *src = getenv("MVOT_SRC"), *build = getenv("MVOT_BUILD");
    if (!src || !build) {
        T_FAIL("MVOT_SRC and MVOT_BUILD must be set (ctest sets them)");
        return 0;
    }
    struct {
        struct refset *set;
        const char *name, *flags;
    } runs[] = {
        {&SET_F32, "f32", "--dtype f32 --prefix model.vqmodel. --size 128 --seed 1"},
        {&SET_BF16, "bf16", "--dtype bf16 --prefix none --encoder-only --size 128 --seed 2"},
        {&SET_F16, "f16", "--dtype f16 --prefix model.vqmodel. --size 64 --seed 3"},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        char cmd[2048];
        snprintf(runs[i].set->dir, sizeof runs[i].set->dir, "%s/tests/vqgan-ref/%s", build,
                 runs[i].name);
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/vqgan/ref.py --out %s --ch %d %s", src,
                 runs[i].set->dir, CH, runs[i].flags);
        if (system(cmd) != 0) {
            T_FAIL("reference failed: %s", cmd);
            return 0;
        }
    }
    g_ready = 1;
    return 1;
}

/* Reads DIR/name.npy; returns a malloc'd copy of the data (caller frees) or NULL. */
static void *load_npy(const char *dir, const char *name, const char *descr, size_t nbytes)
{
    char path[1024];
    uint8_t *buf = NULL;
    size_t len;
    struct mvot_npy npy;
    struct mvot_error err = {0};
    void *out = NULL;
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    if (mvot_io_read_file(path, (size_t)1 << 30, &buf, &len, &err) != MVOT_OK ||
        mvot_npy_parse(buf, len, path, &npy, &err) != MVOT_OK) {
        T_FAIL("%s", err.msg);
    } else if (strcmp(npy.descr, descr) != 0 || npy.nbytes != nbytes) {
        T_FAIL("%s: %s with %zu bytes, want %s with %zu", path, npy.descr, npy.nbytes, descr,
               nbytes);
    } else if ((out = malloc(nbytes)) != NULL) {
        memcpy(out, npy.data, nbytes);
    }
    free(buf);
    return out;
}

static void weights_path(const struct refset *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s/vq.safetensors", s->dir);
}

/* Encodes the set's input and checks latent and codes; then decodes the reference codes. */
static void check_set(const struct refset *s, int threads, int blas)
{
    if (!ensure_refs())
        return;
    struct mvot_error err = {0};
    struct mvot_pool *pool = threads > 1 ? mvot_pool_create(threads) : NULL;
    struct mvot_vqgan *m = NULL;
    struct mvot_vqgan_info info;
    char path[1024];
    size_t S = s->S, g = S / 16, n = g * g;
    float *x = load_npy(s->dir, "input", "<f4", 3 * S * S * sizeof(float));
    uint8_t *u8 = load_npy(s->dir, "input_u8", "|u1", 3 * S * S);
    int32_t *rcodes = load_npy(s->dir, "codes", "<i4", n * sizeof(int32_t));
    float *rlat = NULL, *lat = NULL, *px = NULL, *rpx = NULL, *xn = NULL;
    int32_t *codes = malloc(n * sizeof(int32_t));
    weights_path(s, path, sizeof path);
    ASSERT_OK(mvot_vqgan_load(path, pool, &m, &err), &err);
    if (!m || !x || !rcodes || !codes || !u8)
        goto done;
    mvot_vqgan_set_blas_only(m, blas);
    printf("  kernel: %s\n", mvot_vqgan_uses_avx512(m) ? "avx512" : "openblas");
    mvot_vqgan_get_info(m, &info);
    ASSERT_EQ_INT(info.ch, CH);
    ASSERT_EQ_INT(info.z_channels, 256);
    ASSERT_EQ_INT(info.K, 8192);
    ASSERT_EQ_INT(info.D, 256);
    ASSERT_EQ_INT(info.has_decoder, s->has_decoder);
    /* The pixels the reference saw are our own normalization of its uint8 image. */
    xn = malloc(3 * S * S * sizeof(float));
    mvot_imgprep_normalize(u8, (uint32_t)S, xn);
    ASSERT_TRUE(memcmp(xn, x, 3 * S * S * sizeof(float)) == 0);

    rlat = load_npy(s->dir, "latent", "<f4", info.D * n * sizeof(float));
    lat = malloc(info.D * n * sizeof(float));
    ASSERT_OK(mvot_vqgan_encode(m, x, (uint32_t)S, codes, lat, &err), &err);
    if (rlat) {
        double maxerr = 0, range = 0;
        for (size_t i = 0; i < info.D * n; i++) {
            double d = fabs((double)lat[i] - rlat[i]);
            maxerr = d > maxerr ? d : maxerr;
            range = fabs(rlat[i]) > range ? fabs(rlat[i]) : range;
        }
        printf("  %s threads=%d: latent max abs err %.3g (max |latent| %.3g)\n", s->dir, threads,
               maxerr, range);
        ASSERT_TRUE(range > 0.1);
        ASSERT_TRUE(maxerr <= 1e-3 * range);
    }
    size_t same = 0, distinct = 0;
    for (size_t i = 0; i < n; i++) {
        same += codes[i] == rcodes[i];
        distinct += i == 0 || rcodes[i] != rcodes[0];
    }
    printf("  codes identical: %zu / %zu\n", same, n);
    ASSERT_TRUE(distinct > n / 4); /* the reference is not degenerate */
    ASSERT_TRUE((double)same >= 0.999 * (double)n);

    if (s->has_decoder) {
        struct mvot_image a = {0}, b = {0};
        px = malloc(3 * S * S * sizeof(float));
        rpx = load_npy(s->dir, "decoded", "<f4", 3 * S * S * sizeof(float));
        ASSERT_OK(mvot_vqgan_decode(m, rcodes, (uint32_t)S, px, &err), &err);
        if (rpx) {
            ASSERT_OK(mvot_imgprep_from_tensor(px, (uint32_t)S, &a, &err), &err);
            ASSERT_OK(mvot_imgprep_from_tensor(rpx, (uint32_t)S, &b, &err), &err);
            size_t close = 0, inrange = 0;
            double maxerr = 0;
            for (size_t i = 0; i < 3 * S * S; i++) {
                int d = (int)a.px[i] - (int)b.px[i];
                close += d >= -1 && d <= 1;
                inrange += b.px[i] > 0 && b.px[i] < 255;
                double e = fabs((double)px[i] - rpx[i]);
                maxerr = e > maxerr ? e : maxerr;
            }
            printf("  decoded: %zu / %zu within one level, max abs err %.3g\n", close, 3 * S * S,
                   maxerr);
            ASSERT_TRUE(inrange > S * S); /* not clipped flat */
            ASSERT_TRUE((double)close >= 0.99 * 3.0 * (double)(S * S));
        }
        mvot_image_free(&a);
        mvot_image_free(&b);
    } else {
        float one[3 * 16 * 16];
        int32_t zero[1] = {0};
        ASSERT_EQ_INT(mvot_vqgan_decode(m, zero, 16, one, &err), MVOT_ERR_UNSUPPORTED);
        ASSERT_CONTAINS(err.msg, "encoder-only");
    }
done:
    mvot_vqgan_free(m);
    mvot_pool_free(pool);
    free(x);
    free(xn);
    free(u8);
    free(rcodes);
    free(codes);
    free(rlat);
    free(lat);
    free(px);
    free(rpx);
}

static void test_f32_prefix(void)
{
    check_set(&SET_F32, 2, 0);
}

/* The OpenBLAS im2col path (used on CPUs without AVX-512) against the same reference. */
static void test_f32_blas(void)
{
    check_set(&SET_F32, 2, 1);
}

static void test_bf16_noprefix_encoder_only(void)
{
    check_set(&SET_BF16, 1, 0);
}

static void test_f16(void)
{
    check_set(&SET_F16, 2, 0);
}

/* Same codes, latents and pixels, bit for bit, with 1 and 3 threads. */
static void test_threads_identical(void)
{
    if (!ensure_refs())
        return;
    struct mvot_error err = {0};
    struct mvot_pool *pool = mvot_pool_create(3);
    struct mvot_vqgan *m1 = NULL, *m3 = NULL;
    char path[1024];
    const size_t S = 64, n = 16;
    float *x = load_npy(SET_F16.dir, "input", "<f4", 3 * S * S * sizeof(float));
    float l1[256 * 16], l3[256 * 16], *p1 = malloc(3 * S * S * 4), *p3 = malloc(3 * S * S * 4);
    int32_t c1[16], c3[16];
    weights_path(&SET_F16, path, sizeof path);
    ASSERT_OK(mvot_vqgan_load(path, NULL, &m1, &err), &err);
    ASSERT_OK(mvot_vqgan_load(path, pool, &m3, &err), &err);
    if (m1 && m3 && x && p1 && p3) {
        ASSERT_OK(mvot_vqgan_encode(m1, x, (uint32_t)S, c1, l1, &err), &err);
        ASSERT_OK(mvot_vqgan_encode(m3, x, (uint32_t)S, c3, l3, &err), &err);
        ASSERT_TRUE(memcmp(c1, c3, sizeof c1) == 0);
        ASSERT_TRUE(memcmp(l1, l3, sizeof l1) == 0);
        ASSERT_OK(mvot_vqgan_decode(m1, c1, (uint32_t)S, p1, &err), &err);
        ASSERT_OK(mvot_vqgan_decode(m3, c1, (uint32_t)S, p3, &err), &err);
        ASSERT_TRUE(memcmp(p1, p3, 3 * S * S * 4) == 0);
        (void)n;
    }
    mvot_vqgan_free(m1);
    mvot_vqgan_free(m3);
    mvot_pool_free(pool);
    free(x);
    free(p1);
    free(p3);
}

struct conc_arg {
    const struct mvot_vqgan *m;
    const float *x;
    int32_t codes[16];
    float lat[256 * 16];
    enum mvot_status st;
};

static void *conc_main(void *p)
{
    struct conc_arg *a = p;
    struct mvot_error err = {0};
    for (int i = 0; i < 3 && a->st == MVOT_OK; i++)
        a->st = mvot_vqgan_encode(a->m, a->x, 64, a->codes, a->lat, &err);
    return NULL;
}

/* Four threads encoding at once on one pooled model (one gets the pool, the others run
 * inline on their own workspace): all match the single-threaded result bit for bit. */
static void test_concurrent_encode(void)
{
    if (!ensure_refs())
        return;
    struct mvot_error err = {0};
    struct mvot_pool *pool = mvot_pool_create(2);
    struct mvot_vqgan *m = NULL, *m1 = NULL;
    char path[1024];
    const size_t S = 64;
    float *x = load_npy(SET_F16.dir, "input", "<f4", 3 * S * S * sizeof(float));
    static struct conc_arg args[4];
    static float want_lat[256 * 16];
    int32_t want[16];
    pthread_t th[4];
    weights_path(&SET_F16, path, sizeof path);
    ASSERT_OK(mvot_vqgan_load(path, pool, &m, &err), &err);
    ASSERT_OK(mvot_vqgan_load(path, NULL, &m1, &err), &err);
    if (m && m1 && x) {
        ASSERT_OK(mvot_vqgan_encode(m1, x, (uint32_t)S, want, want_lat, &err), &err);
        for (int i = 0; i < 4; i++) {
            args[i].m = m;
            args[i].x = x;
            args[i].st = MVOT_OK;
            ASSERT_EQ_INT(pthread_create(&th[i], NULL, conc_main, &args[i]), 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            ASSERT_EQ_INT(args[i].st, MVOT_OK);
            ASSERT_TRUE(memcmp(args[i].codes, want, sizeof want) == 0);
            ASSERT_TRUE(memcmp(args[i].lat, want_lat, sizeof want_lat) == 0);
        }
    }
    mvot_vqgan_free(m);
    mvot_vqgan_free(m1);
    mvot_pool_free(pool);
    free(x);
}

/* Rewrites the f32 set's file with one tensor dropped or reshaped; returns the new path. */
static int rewrite(const char *drop, const char *reshape, char *out, size_t cap)
{
    struct mvot_error err = {0};
    struct mvot_safetensors *st = NULL;
    struct mvot_tensor_out *t = NULL;
    char path[1024];
    size_t k = 0;
    int ok = 0;
    weights_path(&SET_F32, path, sizeof path);
    snprintf(out, cap, "%s/%s.safetensors", SET_F32.dir, drop ? "missing" : "misshapen");
    ASSERT_OK(mvot_st_open(path, &st, &err), &err);
    if (!st)
        return 0;
    t = calloc(mvot_st_count(st), sizeof(*t));
    for (size_t i = 0; t && i < mvot_st_count(st); i++) {
        const struct mvot_tensor *s = mvot_st_at(st, i);
        if (drop && strcmp(s->name, drop) == 0)
            continue;
        t[k].name = s->name;
        t[k].dtype = s->dtype;
        t[k].ndim = s->ndim;
        memcpy(t[k].shape, s->shape, sizeof s->shape);
        t[k].data = s->data;
        if (reshape && strcmp(s->name, reshape) == 0) { /* same bytes, [o,i,3,3] -> [o,i,9,1] */
            t[k].shape[2] = 9;
            t[k].shape[3] = 1;
        }
        k++;
    }
    if (t) {
        ASSERT_OK(mvot_st_write(out, t, k, NULL, &err), &err);
        ok = err.code == MVOT_OK;
    }
    free(t);
    mvot_st_close(st);
    return ok;
}

static void test_missing_tensor(void)
{
    if (!ensure_refs())
        return;
    const char *name = "model.vqmodel.encoder.mid.attn_1.k.bias";
    char path[1024];
    struct mvot_error err = {0};
    struct mvot_vqgan *m = NULL;
    if (!rewrite(name, NULL, path, sizeof path))
        return;
    ASSERT_EQ_INT(mvot_vqgan_load(path, NULL, &m, &err), MVOT_ERR_NOTFOUND);
    ASSERT_CONTAINS(err.msg, name);
    ASSERT_TRUE(m == NULL);
    /* A decoder tensor too: a partial decoder is an error, not "encoder-only". */
    name = "model.vqmodel.decoder.up.2.block.1.conv2.weight";
    if (!rewrite(name, NULL, path, sizeof path))
        return;
    ASSERT_EQ_INT(mvot_vqgan_load(path, NULL, &m, &err), MVOT_ERR_NOTFOUND);
    ASSERT_CONTAINS(err.msg, name);
}

static void test_shape_mismatch(void)
{
    if (!ensure_refs())
        return;
    const char *name = "model.vqmodel.encoder.down.1.block.0.conv2.weight";
    char path[1024];
    struct mvot_error err = {0};
    struct mvot_vqgan *m = NULL;
    if (!rewrite(NULL, name, path, sizeof path))
        return;
    ASSERT_EQ_INT(mvot_vqgan_load(path, NULL, &m, &err), MVOT_ERR_MISMATCH);
    ASSERT_CONTAINS(err.msg, name);
    ASSERT_CONTAINS(err.msg, "[32, 32, 3, 3]");
    ASSERT_TRUE(m == NULL);
}

/* ref.py's module tree yields exactly the 293 Chameleon tensor names and shapes
 * (chameleon-vq-tensors.txt of the reference data, a third-party list we do not copy), so the
 * names the loader is tested with are the real ones. */
static void test_reference_names(void)
{
    const char *ref = t_reference_dir();
    char list[1024];
    snprintf(list, sizeof list, "%s/chameleon-vq-tensors.txt", ref ? ref : "");
    if (!ref || !mvot_io_exists(list))
        T_SKIP("no chameleon-vq-tensors.txt in the reference data (MVOT_REFERENCE_DIR)");
    if (!ensure_refs())
        return;
    char cmd[2048];
    const char *src = getenv("MVOT_SRC");
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/vqgan/ref.py --check-names %s", src, list);
    ASSERT_EQ_INT(system(cmd), 0);
}

static void test_bad_args(void)
{
    if (!ensure_refs())
        return;
    char path[1024];
    struct mvot_error err = {0};
    struct mvot_vqgan *m = NULL;
    float px[3 * 16 * 16] = {0};
    int32_t codes[1] = {8192};
    weights_path(&SET_F32, path, sizeof path);
    ASSERT_OK(mvot_vqgan_load(path, NULL, &m, &err), &err);
    if (!m)
        return;
    ASSERT_EQ_INT(mvot_vqgan_encode(m, px, 24, codes, NULL, &err), MVOT_ERR_INVALID);
    ASSERT_EQ_INT(mvot_vqgan_decode(m, codes, 16, px, &err), MVOT_ERR_INVALID);
    ASSERT_CONTAINS(err.msg, "8192");
    mvot_vqgan_free(m);
    m = NULL;
    ASSERT_EQ_INT(mvot_vqgan_load("/nonexistent/vq.safetensors", NULL, &m, &err) != MVOT_OK, 1);
    ASSERT_TRUE(m == NULL);
}

/* Encodes (and decodes, with a decoder) the set's input with the model at path. */
static void run_model(const struct refset *s, const char *path, int32_t *codes, float *lat,
                      float *px, struct mvot_vqgan_info *info)
{
    struct mvot_error err = {0};
    struct mvot_vqgan *m = NULL;
    size_t S = s->S, n = (S / 16) * (S / 16);
    float *x = load_npy(s->dir, "input", "<f4", 3 * S * S * sizeof(float));
    int32_t *rcodes = load_npy(s->dir, "codes", "<i4", n * sizeof(int32_t));
    ASSERT_OK(mvot_vqgan_load(path, NULL, &m, &err), &err);
    if (m && x && rcodes) {
        mvot_vqgan_get_info(m, info);
        ASSERT_OK(mvot_vqgan_encode(m, x, (uint32_t)S, codes, lat, &err), &err);
        if (info->has_decoder)
            ASSERT_OK(mvot_vqgan_decode(m, rcodes, (uint32_t)S, px, &err), &err);
    }
    mvot_vqgan_free(m);
    free(x);
    free(rcodes);
}

/* The f32 set (model.vqmodel. prefix, decoder) in three shards and the bf16 set (no prefix,
 * encoder only) in two: through the index file and the folder, the model gives bit-identical
 * latents, codes and pixels to the single file; without a decoder, decoding through imagetok
 * says so, naming the folder. */
static void test_sharded_layouts(void)
{
    if (!ensure_refs())
        return;
    const struct refset *sets[2] = {&SET_F32, &SET_BF16};
    for (int k = 0; k < 2; k++) {
        const struct refset *s = sets[k];
        size_t S = s->S, n = (S / 16) * (S / 16);
        char single[1024], dir[1024], idx[1200];
        weights_path(s, single, sizeof single);
        snprintf(dir, sizeof dir, "%s/sharded", s->dir);
        snprintf(idx, sizeof idx, "%s/model.safetensors.index.json", dir);
        if (ckfx_split(single, dir, k ? 2 : 3) != 0) {
            T_FAIL("cannot split %s", single);
            continue;
        }
        const char *paths[3] = {single, idx, dir};
        int32_t *codes[3];
        float *lat[3], *px[3];
        struct mvot_vqgan_info info[3];
        for (int i = 0; i < 3; i++) {
            codes[i] = calloc(n, sizeof(int32_t));
            lat[i] = calloc(256 * n, sizeof(float));
            px[i] = calloc(3 * S * S, sizeof(float));
            memset(&info[i], 0, sizeof info[i]);
            if (codes[i] && lat[i] && px[i])
                run_model(s, paths[i], codes[i], lat[i], px[i], &info[i]);
        }
        for (int i = 1; i < 3; i++) {
            ASSERT_EQ_INT(info[i].has_decoder, s->has_decoder);
            ASSERT_EQ_INT(info[i].K, info[0].K);
            ASSERT_TRUE(memcmp(codes[i], codes[0], n * sizeof(int32_t)) == 0);
            ASSERT_TRUE(memcmp(lat[i], lat[0], 256 * n * sizeof(float)) == 0);
            ASSERT_TRUE(memcmp(px[i], px[0], 3 * S * S * sizeof(float)) == 0);
        }
        for (int i = 0; i < 3; i++) {
            free(codes[i]);
            free(lat[i]);
            free(px[i]);
        }
        if (!s->has_decoder) {
            struct mvot_error err = {0};
            struct mvot_imagetok *t = NULL;
            struct mvot_image img = {0};
            int32_t zero[64] = {0};
            ASSERT_OK(mvot_imagetok_open(dir, 128, 1, &t, &err), &err);
            if (t) {
                ASSERT_EQ_INT(mvot_imagetok_decode(t, zero, &img, &err), MVOT_ERR_UNSUPPORTED);
                ASSERT_CONTAINS(err.msg, dir);
                ASSERT_CONTAINS(err.msg, "no decoder.* tensors");
                ASSERT_CONTAINS(err.msg, "facebook/chameleon-7b");
            }
            mvot_imagetok_free(t);
        }
    }
}

TEST_MAIN(test_f32_prefix, test_f32_blas, test_bf16_noprefix_encoder_only, test_f16,
          test_threads_identical, test_concurrent_encode, test_missing_tensor, test_shape_mismatch,
          test_reference_names, test_bad_args, test_sharded_layouts)
