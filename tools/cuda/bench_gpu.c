/* mvot-gpubench: benchmarks of the tools/cuda kernels, one JSON object per line on stdout
 * (run-device-check.sh collects them into results.json), a short note per line on stderr.
 *
 *   mvot-gpubench nearest [--K 8192] [--D 256] [--images 16] [--iters 20]
 *       search (GEMM + argmin + refine) vs the bare cuBLAS GEMM of the same shape
 *       (images*1024 x K x D), FP32 and TF32, several chunk sizes; codes of the first
 *       queries checked against the float64 CPU reference.
 *   mvot-gpubench patchvq [--K 8192] [--S 512] [--images 256]
 *       patch-VQ encode images/s; codes checked against tokenize/patchvq.c (exact).
 *   mvot-gpubench vqgan CKPT [--S 512] [--images 32] [--batch B] [--cpu-check N]
 *       [--dump DIR]
 *       VQGAN encode images/s in FP32 and TF32, with cuDNN convolutions when libcudnn loads
 *       and with im2col + cuBLAS ("conv" in each line); N images against tokenize/vqgan.c;
 *       --dump writes the inputs, GPU latents and codes for tools/cuda/torch_compare.py. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codebook/codebook.h"
#include "core/io.h"
#include "core/rng.h"
#include "tokenize/imgprep.h"
#include "tokenize/patchvq.h"
#include "tokenize/vqgan.h"
#include "tools/cuda/gpu_vq.h"
#include "tools/cuda/ref_cpu.h"
#include "tools/cuda/ref_vqgan.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *opt_str(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return def;
}

static long opt_long(int argc, char **argv, const char *name, long def)
{
    const char *s = opt_str(argc, argv, name, NULL);
    if (!s)
        return def;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    return end && !*end && v > 0 ? v : def;
}

static float unif(struct mvot_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)mvot_rng_unit(r);
}

/* images per second from a time in ms; 0 when no time was measured (JSON has no inf). */
static double rate(size_t n, double ms)
{
    return ms > 0 ? (double)n / (ms / 1000.0) : 0.0;
}

static int fail(const char *what, const struct mvot_error *err)
{
    fprintf(stderr, "mvot-gpubench: %s: %s\n", what, err->msg);
    return 1;
}

static struct mvot_gpu *make_gpu_conv(int tf32, int conv, struct mvot_error *err)
{
    struct mvot_gpu_opts o;
    struct mvot_gpu *g = NULL;
    mvot_gpu_opts_default(&o);
    o.tf32 = tf32;
    o.conv = conv;
    if (mvot_gpu_create(&o, &g, err) != MVOT_OK)
        return NULL;
    return g;
}

static struct mvot_gpu *make_gpu(int tf32, struct mvot_error *err)
{
    return make_gpu_conv(tf32, MVOT_GPU_CONV_AUTO, err);
}

static int bench_nearest(int argc, char **argv)
{
    uint32_t K = (uint32_t)opt_long(argc, argv, "--K", 8192);
    uint32_t D = (uint32_t)opt_long(argc, argv, "--D", 256);
    size_t images = (size_t)opt_long(argc, argv, "--images", 16);
    int iters = (int)opt_long(argc, argv, "--iters", 20);
    size_t n = images * 1024, nchk = 512;
    struct mvot_error err = {0};
    struct mvot_rng r;
    int rc = 1;
    float *cb = malloc((size_t)K * D * sizeof *cb), *q = malloc(n * D * sizeof *q);
    int32_t *ref = malloc(nchk * sizeof *ref), *codes = malloc(n * sizeof *codes);
    if (!cb || !q || !ref || !codes)
        goto done;
    mvot_rng_seed(&r, 2024);
    for (size_t i = 0; i < (size_t)K * D; i++)
        cb[i] = unif(&r, -1.0f, 1.0f);
    /* Latent-like queries: a code plus noise of a third of its spread. */
    for (size_t i = 0; i < n; i++) {
        uint32_t k = (uint32_t)mvot_rng_below(&r, K);
        for (uint32_t d = 0; d < D; d++)
            q[i * D + d] = cb[(size_t)k * D + d] + unif(&r, -0.3f, 0.3f);
    }
    mvot_ref_nearest(cb, K, D, q, nchk, ref, NULL, NULL);
    double flop = 2.0 * (double)n * K * D;
    for (int tf32 = 0; tf32 < 2; tf32++) {
        struct mvot_gpu *g = make_gpu(tf32, &err);
        struct mvot_gpu_codebook *gcb = NULL;
        double peak_ms = 0, dummy = 0;
        if (!g || mvot_gpu_codebook_create(g, cb, K, D, &gcb, &err) != MVOT_OK) {
            rc = fail("nearest setup", &err);
            mvot_gpu_free(g);
            goto done;
        }
        /* One GEMM over the whole shape: the cuBLAS reference rate. */
        if (mvot_gpu_nearest_bench(g, gcb, q, n, iters, n, &dummy, &peak_ms, &err) != MVOT_OK) {
            rc = fail("nearest gemm", &err);
            goto next;
        }
        size_t mism = 0;
        if (mvot_gpu_nearest(g, gcb, q, nchk, codes, &err) != MVOT_OK) {
            rc = fail("nearest check", &err);
            goto next;
        }
        for (size_t i = 0; i < nchk; i++)
            mism += codes[i] != ref[i];
        static const size_t chunks[] = {256, 512, 1024, 2048, 4096, 16384};
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            double s_ms = 0, g_ms = 0;
            if (chunks[c] > n)
                continue;
            if (mvot_gpu_nearest_bench(g, gcb, q, n, iters, chunks[c], &s_ms, &g_ms, &err) !=
                MVOT_OK) {
                rc = fail("nearest bench", &err);
                goto next;
            }
            printf("{\"bench\":\"nearest\",\"precision\":\"%s\",\"refine\":true,\"n\":%zu,\"K\":%u,"
                   "\"D\":%u,\"chunk_rows\":%zu,\"search_ms\":%.4f,\"chunk_gemm_ms\":%.4f,"
                   "\"peak_gemm_ms\":%.4f,\"search_tflops\":%.2f,\"peak_gemm_tflops\":%.2f,"
                   "\"fraction_of_peak\":%.3f,\"images_per_s\":%.0f,\"cpu_mismatch\":%zu,"
                   "\"cpu_checked\":%zu}\n",
                   tf32 ? "tf32" : "fp32", n, K, D, chunks[c], s_ms, g_ms, peak_ms,
                   flop / (s_ms * 1e9), flop / (peak_ms * 1e9), peak_ms / s_ms,
                   (double)images / (s_ms / 1000.0), mism, nchk);
            fprintf(stderr,
                    "nearest %s chunk %5zu: search %.3f ms (%.1f TFLOP/s), peak GEMM %.3f ms "
                    "(%.1f TFLOP/s) -> %.0f%% of peak; %zu/%zu CPU mismatches\n",
                    tf32 ? "TF32" : "FP32", chunks[c], s_ms, flop / (s_ms * 1e9), peak_ms,
                    flop / (peak_ms * 1e9), 100.0 * peak_ms / s_ms, mism, nchk);
        }
        rc = mism ? 1 : 0;
    next:
        mvot_gpu_codebook_free(gcb);
        mvot_gpu_free(g);
        if (rc)
            goto done;
    }
done:
    free(cb);
    free(q);
    free(ref);
    free(codes);
    return rc;
}

static int bench_patchvq(int argc, char **argv)
{
    uint32_t K = (uint32_t)opt_long(argc, argv, "--K", 8192);
    uint32_t S = (uint32_t)opt_long(argc, argv, "--S", 512);
    size_t n = (size_t)opt_long(argc, argv, "--images", 256), nchk = 8;
    const uint32_t P = 16, D = P * P * 3, grid = S / P;
    struct mvot_error err = {0};
    struct mvot_rng r;
    struct mvot_codebook cbk = {0};
    struct mvot_patchvq *cpu = NULL;
    struct mvot_gpu *g = NULL;
    struct mvot_gpu_patchvq *pv = NULL;
    struct mvot_gpu_timing tm;
    int rc = 1;
    size_t per = (size_t)grid * grid, mism = 0;
    float *cb = malloc((size_t)K * D * sizeof *cb);
    uint8_t *img = malloc(n * S * S * 3);
    int32_t *codes = malloc(n * per * sizeof *codes), *ref = malloc(per * sizeof *ref);
    if (!cb || !img || !codes || !ref)
        goto done;
    mvot_rng_seed(&r, 77);
    for (uint32_t k = 0; k < K; k++) {
        uint32_t base[3] = {(uint32_t)mvot_rng_below(&r, 256), (uint32_t)mvot_rng_below(&r, 256),
                            (uint32_t)mvot_rng_below(&r, 256)};
        for (uint32_t e = 0; e < D; e++) {
            int v = (int)base[e % 3] + (int)mvot_rng_below(&r, 41) - 20;
            cb[(size_t)k * D + e] = (float)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    for (size_t i = 0; i < n; i++)
        for (uint32_t py = 0; py < grid; py++)
            for (uint32_t px = 0; px < grid; px++) {
                uint32_t k = (uint32_t)mvot_rng_below(&r, K);
                for (uint32_t y = 0; y < P; y++)
                    for (uint32_t x = 0; x < P; x++)
                        for (uint32_t c = 0; c < 3; c++) {
                            int v = (int)cb[(size_t)k * D + (y * P + x) * 3 + c] +
                                    (int)mvot_rng_below(&r, 9) - 4;
                            img[((i * S + py * P + y) * S + px * P + x) * 3 + c] =
                                (uint8_t)(v < 0     ? 0
                                          : v > 255 ? 255
                                                    : v);
                        }
            }
    g = make_gpu(0, &err);
    if (!g || mvot_gpu_patchvq_create(g, cb, K, P, S, &pv, &err) != MVOT_OK) {
        rc = fail("patchvq setup", &err);
        goto done;
    }
    /* warm-up on a few images, then the timed run */
    if (mvot_gpu_patchvq_encode(pv, img, n < 4 ? n : 4, codes, &err) != MVOT_OK) {
        rc = fail("patchvq warm-up", &err);
        goto done;
    }
    mvot_gpu_timing_reset(g);
    double t0 = now_s();
    if (mvot_gpu_patchvq_encode(pv, img, n, codes, &err) != MVOT_OK) {
        rc = fail("patchvq encode", &err);
        goto done;
    }
    double wall = now_s() - t0;
    mvot_gpu_timing_get(g, &tm);
    /* The CPU patch VQ (exact search) on the first images. */
    cbk.kind = MVOT_CB_PATCH;
    cbk.K = K;
    cbk.D = D;
    cbk.patch = P;
    cbk.image_size = S;
    cbk.vec = cb;
    if (mvot_patchvq_create(&cbk, 0, &cpu, &err) != MVOT_OK) {
        rc = fail("cpu patchvq", &err);
        goto done;
    }
    for (size_t i = 0; i < nchk && i < n; i++) {
        if (mvot_patchvq_encode(cpu, img + i * S * S * 3, S, ref, &err) != MVOT_OK) {
            rc = fail("cpu patchvq encode", &err);
            goto done;
        }
        for (size_t j = 0; j < per; j++)
            mism += ref[j] != codes[i * per + j];
    }
    double gpu_ms = tm.h2d_ms + tm.compute_ms + tm.d2h_ms;
    printf("{\"bench\":\"patchvq\",\"K\":%u,\"S\":%u,\"images\":%zu,\"wall_images_per_s\":%.1f,"
           "\"gpu_images_per_s\":%.1f,\"h2d_ms\":%.3f,\"compute_ms\":%.3f,\"d2h_ms\":%.3f,"
           "\"cpu_checked_images\":%zu,\"cpu_mismatch\":%zu}\n",
           K, S, n, (double)n / wall, rate(n, gpu_ms), tm.h2d_ms, tm.compute_ms, tm.d2h_ms,
           nchk < n ? nchk : n, mism);
    fprintf(stderr,
            "patchvq K=%u S=%u: %zu images, %.1f images/s wall, %.1f images/s GPU (H2D %.1f, "
            "compute %.1f, D2H %.1f ms); %zu mismatches vs CPU on %zu images\n",
            K, S, n, (double)n / wall, rate(n, gpu_ms), tm.h2d_ms, tm.compute_ms, tm.d2h_ms, mism,
            nchk < n ? nchk : n);
    rc = mism ? 1 : 0;
done:
    cbk.vec = NULL;
    mvot_patchvq_free(cpu);
    mvot_gpu_patchvq_free(pv);
    mvot_gpu_free(g);
    free(cb);
    free(img);
    free(codes);
    free(ref);
    return rc;
}

static int write_raw(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    struct mvot_error err = {0};
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (mvot_io_write_file(path, p, n, &err) != MVOT_OK)
        return fail("dump", &err);
    return 0;
}

static int bench_vqgan(int argc, char **argv)
{
    const char *ckpt = argc > 2 ? argv[2] : NULL;
    uint32_t S = (uint32_t)opt_long(argc, argv, "--S", 512);
    size_t n = (size_t)opt_long(argc, argv, "--images", 32);
    uint32_t batch = (uint32_t)opt_long(argc, argv, "--batch", 0);
    long cpu_n = opt_long(argc, argv, "--cpu-check", 1);
    const char *dump = opt_str(argc, argv, "--dump", NULL);
    struct mvot_error err = {0};
    struct mvot_rng r;
    int rc = 1;
    uint32_t grid = S / 16;
    size_t per = (size_t)grid * grid;
    uint8_t *img = malloc(n * S * S * 3);
    /* [path * 2 + tf32]; path 0: the default (cuDNN when it loads), 1: im2col */
    int32_t *codes[4] = {malloc(n * per * sizeof(int32_t)), malloc(n * per * sizeof(int32_t)),
                         malloc(n * per * sizeof(int32_t)), malloc(n * per * sizeof(int32_t))};
    int npaths = 2;
    float *lat = NULL, *lc = NULL, *pix = NULL;
    int32_t *cc = NULL;
    struct mvot_vqgan *cpu = NULL;
    uint32_t D = 0;
    if (!ckpt || ckpt[0] == '-') {
        fprintf(stderr, "usage: mvot-gpubench vqgan CKPT [--S 512] [--images 32] ...\n");
        return 2;
    }
    if (!img || !codes[0] || !codes[1] || !codes[2] || !codes[3])
        goto done;
    /* Smooth synthetic frames: coloured blocks and gradients, like our rendered grids. */
    mvot_rng_seed(&r, 5);
    for (size_t i = 0; i < n; i++) {
        uint32_t cell = 32u << mvot_rng_below(&r, 3);
        uint8_t pal[16][3];
        for (int k = 0; k < 16; k++)
            for (int c = 0; c < 3; c++)
                pal[k][c] = (uint8_t)mvot_rng_below(&r, 256);
        for (uint32_t y = 0; y < S; y++)
            for (uint32_t x = 0; x < S; x++) {
                uint32_t k = ((y / cell) * 7 + (x / cell) * 3 + (uint32_t)i) % 16;
                for (int c = 0; c < 3; c++)
                    img[((i * S + y) * S + x) * 3 + c] = (uint8_t)((pal[k][c] + (x + y) / 8) % 256);
            }
    }
    for (int run = 0; run < 2 * npaths; run++) {
        int tf32 = run % 2, path = run / 2;
        struct mvot_gpu *g =
            make_gpu_conv(tf32, path ? MVOT_GPU_CONV_IM2COL : MVOT_GPU_CONV_CUDNN, &err);
        struct mvot_gpu_vqgan *m = NULL;
        struct mvot_gpu_vqgan_info info;
        struct mvot_gpu_timing tm;
        double t0, wall, gpu_ms;
        const char *conv;
        if (g && run == 0) {
            char desc[320];
            mvot_gpu_describe(g, desc, sizeof desc);
            fprintf(stderr, "vqgan: %s\n", desc);
            /* no cuDNN: the default path is im2col already, measured once */
            if (strcmp(mvot_gpu_conv_path(g), "cudnn") != 0)
                npaths = 1;
        }
        if (!g || mvot_gpu_vqgan_load(g, ckpt, &m, &err) != MVOT_OK) {
            rc = fail("vqgan load", &err);
            mvot_gpu_free(g);
            goto done;
        }
        mvot_gpu_vqgan_get_info(m, &info);
        D = info.D;
        if (batch)
            mvot_gpu_vqgan_set_batch(m, batch);
        /* warm-up with a full batch: cuDNN measures its algorithms once per shape */
        if (mvot_gpu_vqgan_encode(m, img, n < 16 ? n : 16, S, codes[run], NULL, &err) != MVOT_OK) {
            rc = fail("vqgan warm-up", &err);
            goto next;
        }
        mvot_gpu_timing_reset(g);
        t0 = now_s();
        if (mvot_gpu_vqgan_encode(m, img, n, S, codes[run], NULL, &err) != MVOT_OK) {
            rc = fail("vqgan encode", &err);
            goto next;
        }
        wall = now_s() - t0;
        mvot_gpu_timing_get(g, &tm);
        conv = mvot_gpu_conv_path(g);
        gpu_ms = tm.h2d_ms + tm.compute_ms + tm.d2h_ms;
        printf("{\"bench\":\"vqgan\",\"precision\":\"%s\",\"conv\":\"%s\",\"ch\":%u,\"K\":%u,"
               "\"D\":%u,\"S\":%u,\"images\":%zu,\"batch\":%u,\"wall_images_per_s\":%.2f,"
               "\"gpu_images_per_s\":%.2f,\"h2d_ms\":%.3f,\"compute_ms\":%.3f,\"d2h_ms\":%.3f}\n",
               tf32 ? "tf32" : "fp32", conv, info.ch, info.K, info.D, S, n, batch, (double)n / wall,
               rate(n, gpu_ms), tm.h2d_ms, tm.compute_ms, tm.d2h_ms);
        fprintf(stderr,
                "vqgan %s %s S=%u ch=%u: %.2f images/s wall (H2D %.1f, compute %.1f, D2H %.1f ms "
                "for %zu)\n",
                tf32 ? "TF32" : "FP32", conv, S, info.ch, (double)n / wall, tm.h2d_ms,
                tm.compute_ms, tm.d2h_ms, n);
        if (run == 0 && dump) {
            size_t dn = n < 8 ? n : 8;
            lat = malloc(dn * per * D * sizeof(float));
            if (!lat || mvot_gpu_vqgan_encode(m, img, dn, S, codes[0], lat, &err) != MVOT_OK) {
                rc = fail("vqgan dump", &err);
                goto next;
            }
            char meta[256];
            snprintf(meta, sizeof meta, "{\"n\":%zu,\"S\":%u,\"D\":%u,\"grid\":%u}\n", dn, S, D,
                     grid);
            if (write_raw(dump, "images.u8", img, dn * S * S * 3) ||
                write_raw(dump, "latent_gpu.f32", lat, dn * per * D * sizeof(float)) ||
                write_raw(dump, "codes_gpu.i32", codes[0], dn * per * sizeof(int32_t)) ||
                write_raw(dump, "meta.json", meta, strlen(meta)))
                goto next;
        }
        rc = 0;
    next:
        mvot_gpu_vqgan_free(m);
        mvot_gpu_free(g);
        if (rc)
            goto done;
    }
    {
        size_t agree = 0;
        for (size_t i = 0; i < n * per; i++)
            agree += codes[0][i] == codes[1][i];
        printf("{\"bench\":\"vqgan_tf32_vs_fp32\",\"code_agreement\":%.6f}\n",
               (double)agree / (double)(n * per));
        fprintf(stderr, "vqgan TF32 vs FP32 code agreement %.4f\n",
                (double)agree / (double)(n * per));
    }
    if (npaths == 2) {
        /* the same precision through both convolution paths */
        for (int tf32 = 0; tf32 < 2; tf32++) {
            size_t agree = 0;
            for (size_t i = 0; i < n * per; i++)
                agree += codes[tf32][i] == codes[2 + tf32][i];
            printf("{\"bench\":\"vqgan_cudnn_vs_im2col\",\"precision\":\"%s\","
                   "\"code_agreement\":%.6f}\n",
                   tf32 ? "tf32" : "fp32", (double)agree / (double)(n * per));
            fprintf(stderr, "vqgan %s cuDNN vs im2col code agreement %.4f\n",
                    tf32 ? "TF32" : "FP32", (double)agree / (double)(n * per));
        }
    }
    if (cpu_n > 0) {
        /* FP32 GPU vs tokenize/vqgan.c on the first images (latent + codes). */
        struct mvot_gpu *g = make_gpu(0, &err);
        struct mvot_gpu_vqgan *m = NULL;
        size_t nc = (size_t)cpu_n < n ? (size_t)cpu_n : n, agree = 0;
        double maxerr = 0, maxabs = 0, t0, cpu_s;
        free(lat);
        lat = malloc(nc * per * D * sizeof(float));
        lc = malloc(per * D * sizeof(float));
        pix = malloc((size_t)3 * S * S * sizeof(float));
        cc = malloc(per * sizeof(int32_t));
        rc = 1;
        if (!g || !lat || !lc || !pix || !cc || mvot_gpu_vqgan_load(g, ckpt, &m, &err) != MVOT_OK ||
            mvot_gpu_vqgan_encode(m, img, nc, S, codes[0], lat, &err) != MVOT_OK ||
            mvot_vqgan_load(ckpt, NULL, &cpu, &err) != MVOT_OK) {
            fail("vqgan cpu check", &err);
            mvot_gpu_vqgan_free(m);
            mvot_gpu_free(g);
            goto done;
        }
        t0 = now_s();
        for (size_t i = 0; i < nc; i++) {
            mvot_imgprep_normalize(img + i * S * S * 3, S, pix);
            if (mvot_vqgan_encode(cpu, pix, S, cc, lc, &err) != MVOT_OK) {
                fail("cpu vqgan encode", &err);
                break;
            }
            for (size_t k = 0; k < per * D; k++) {
                maxerr = fmax(maxerr, fabs((double)lat[i * per * D + k] - lc[k]));
                maxabs = fmax(maxabs, fabs(lc[k]));
            }
            for (size_t k = 0; k < per; k++)
                agree += cc[k] == codes[0][i * per + k];
        }
        cpu_s = now_s() - t0;
        printf("{\"bench\":\"vqgan_vs_cpu\",\"images\":%zu,\"latent_max_abs_err\":%.4g,"
               "\"latent_max_abs\":%.4g,\"code_agreement\":%.6f,\"cpu_s_per_image\":%.2f}\n",
               nc, maxerr, maxabs, (double)agree / (double)(nc * per), cpu_s / (double)nc);
        fprintf(stderr,
                "vqgan FP32 GPU vs tokenize/vqgan.c on %zu images: latent max abs err %.3g (max "
                "|z| %.3g), code agreement %.4f; CPU %.1f s/image\n",
                nc, maxerr, maxabs, (double)agree / (double)(nc * per), cpu_s / (double)nc);
        rc = 0;
        mvot_gpu_vqgan_free(m);
        mvot_gpu_free(g);
    }
done:
    mvot_vqgan_free(cpu);
    free(img);
    for (int i = 0; i < 4; i++)
        free(codes[i]);
    free(lat);
    free(lc);
    free(pix);
    free(cc);
    return rc;
}

/* The float64 CPU reference (ref_vqgan.c) in the dump format of `vqgan --dump`, to check
 * torch_compare.py without a GPU (it then compares torch with the CPU reference). */
static int ref_dump(int argc, char **argv)
{
    const char *ckpt = argc > 2 ? argv[2] : NULL, *dump = opt_str(argc, argv, "--dump", NULL);
    uint32_t S = (uint32_t)opt_long(argc, argv, "--S", 32);
    size_t n = (size_t)opt_long(argc, argv, "--images", 2);
    uint32_t D = (uint32_t)opt_long(argc, argv, "--D", 64), grid = S / 16;
    size_t per = (size_t)grid * grid;
    struct mvot_error err = {0};
    struct mvot_rng r;
    int rc = 1;
    uint8_t *img = malloc(n * S * S * 3);
    float *pix = malloc((size_t)3 * S * S * sizeof(float)), *lat = malloc(n * per * D * 4);
    int32_t *codes = malloc(n * per * sizeof(int32_t));
    char meta[256];
    if (!ckpt || !dump || !img || !pix || !lat || !codes)
        goto done;
    mvot_rng_seed(&r, 1);
    for (size_t i = 0; i < n * S * S * 3; i++)
        img[i] = (uint8_t)mvot_rng_below(&r, 256);
    for (size_t i = 0; i < n; i++) {
        mvot_imgprep_normalize(img + i * S * S * 3, S, pix);
        if (mvot_ref_vqgan_encode(ckpt, pix, S, codes + i * per, lat + i * per * D, &err) !=
            MVOT_OK) {
            rc = fail("reference encode", &err);
            goto done;
        }
    }
    snprintf(meta, sizeof meta, "{\"n\":%zu,\"S\":%u,\"D\":%u,\"grid\":%u}\n", n, S, D, grid);
    rc = write_raw(dump, "images.u8", img, n * S * S * 3) ||
         write_raw(dump, "latent_gpu.f32", lat, n * per * D * sizeof(float)) ||
         write_raw(dump, "codes_gpu.i32", codes, n * per * sizeof(int32_t)) ||
         write_raw(dump, "meta.json", meta, strlen(meta));
done:
    free(img);
    free(pix);
    free(lat);
    free(codes);
    return rc;
}

int main(int argc, char **argv)
{
    char why[256];
    if (argc >= 2 && strcmp(argv[1], "refdump") == 0)
        return ref_dump(argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: mvot-gpubench nearest|patchvq|vqgan [options]\n");
        return 2;
    }
    if (mvot_gpu_device_count(why, sizeof why) == 0) {
        fprintf(stderr, "mvot-gpubench: %s\n", why);
        return 2;
    }
    if (strcmp(argv[1], "nearest") == 0)
        return bench_nearest(argc, argv);
    if (strcmp(argv[1], "patchvq") == 0)
        return bench_patchvq(argc, argv);
    if (strcmp(argv[1], "vqgan") == 0)
        return bench_vqgan(argc, argv);
    fprintf(stderr, "mvot-gpubench: unknown benchmark %s\n", argv[1]);
    return 2;
}
