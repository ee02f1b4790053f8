/* VQGAN CPU benchmark and full-width check (not part of ctest; driven by vqgan_bench.sh).
 *
 *   vqgan_bench --weights vq.safetensors [--size 512] [--threads 2] [--iters 3]
 *               [--ref DIR] [--decode] [--blas] [--no-peak]
 *
 * Prints one JSON line: encode images/s, achieved GFLOP/s (analytic FLOP count of the
 * encoder + nearest-code search), and a measured sgemm peak for the same thread count
 * (concurrent single-threaded OpenBLAS sgemms of a conv-like shape, one per thread);
 * --no-peak skips that probe (bench/run-all.sh, which times whole processes alternately).
 * With --ref DIR (written by tests/vqgan/ref.py) it also compares against PyTorch's latent,
 * codes and, with --decode, the decoded pixels of the reference codes. */
#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/io.h"
#include "core/npy.h"
#include "core/pool.h"
#include "tokenize/imgprep.h"
#include "tokenize/vqgan.h"
#include "tokenize/vqgan_internal.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Multiply-adds x2 of the encoder for side S and base width ch (CH_MULT 1,1,2,2,4). */
static double encoder_flops(uint32_t ch, uint32_t z, uint32_t K, uint32_t D, uint32_t S)
{
    static const uint32_t mult[5] = {1, 1, 2, 2, 4};
    double f = 0, s = S;
    double conv3 = 9.0;
    f += 2 * conv3 * 3 * ch * s * s; /* conv_in */
    uint32_t cin = ch;
    for (int i = 0; i < 5; i++) {
        uint32_t c = ch * mult[i];
        for (int j = 0; j < 2; j++) {
            f += 2 * conv3 * cin * c * s * s + 2 * conv3 * c * c * s * s;
            if (cin != c)
                f += 2.0 * cin * c * s * s;
            cin = c;
        }
        if (i != 4) {
            s /= 2;
            f += 2 * conv3 * c * c * s * s; /* downsample */
        }
    }
    double hw = s * s, c = cin;
    f += 2 * (2 * conv3 * c * c * hw);                 /* mid resblocks */
    f += 2 * (4 * c * c * hw) + 2 * (2 * c * hw * hw); /* qkv+proj, scores + values */
    f += 2 * conv3 * c * z * hw + 2.0 * z * D * hw;    /* conv_out, quant_conv */
    f += 2.0 * hw * K * D;                             /* code search */
    return f;
}

struct peak_job {
    float *a, *b, *c, *bias;
    int m, n, k, reps, ours;
};

static void peak_task(void *ctx, size_t i, int worker)
{
    struct peak_job *j = ctx;
    size_t cs = (size_t)j->m * j->n;
    (void)worker;
    /* Our GEMM consumes B one block of MVOT_VQ_KC rows at a time, as the conv does. */
    for (int r = 0; r < j->reps && j->ours; r++)
        for (int k0 = 0; k0 < j->k; k0 += MVOT_VQ_KC)
            mvot_vqgan_gemm_avx512(j->a, (uint32_t)j->k, (uint32_t)k0,
                                   (uint32_t)(j->k - k0 < MVOT_VQ_KC ? j->k - k0 : MVOT_VQ_KC),
                                   j->b + i * (size_t)j->k * j->n + (size_t)k0 * j->n, j->bias,
                                   (uint32_t)j->m, (uint32_t)j->n, j->c + i * cs, (size_t)j->n, 0);
    for (int r = 0; r < j->reps && !j->ours; r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, j->m, j->n, j->k, 1.0f, j->a, j->k,
                    j->b + i * (size_t)j->k * j->n, j->n, 0.0f, j->c + i * cs, j->n);
}

/* sgemm GFLOP/s with `threads` concurrent single-threaded calls on a conv-like shape
 * (M=256 out channels, K=2304 = 9*256, N=512 pixels). */
static double sgemm_peak(struct mvot_pool *pool, int threads, int ours, double *per_core)
{
    struct peak_job j = {.m = 256, .n = 512, .k = 2304, .reps = 20, .ours = ours};
    /* Same shape for our kernel: A is packed 8-row panels (same size, m % 8 == 0), B is
     * 32-column panels (same size, n % 32 == 0); the values do not matter for timing. */
    j.bias = calloc((size_t)j.m, sizeof(float));
    j.a = malloc(sizeof(float) * j.m * j.k);
    j.b = malloc(sizeof(float) * (size_t)j.k * j.n * threads);
    j.c = malloc(sizeof(float) * (size_t)j.m * j.n * threads);
    for (size_t i = 0; i < (size_t)j.m * j.k; i++)
        j.a[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)j.k * j.n * threads; i++)
        j.b[i] = (float)(i % 5) * 0.1f;
    mvot_pool_for(pool, (size_t)threads, peak_task, &j); /* warm-up */
    double t0 = now(), c0 = cpu_now();
    mvot_pool_for(pool, (size_t)threads, peak_task, &j);
    double dt = now() - t0, cpu = cpu_now() - c0;
    *per_core = 2.0 * j.m * j.n * j.k * j.reps * threads / cpu / 1e9;
    free(j.a);
    free(j.b);
    free(j.c);
    free(j.bias);
    return 2.0 * j.m * j.n * j.k * j.reps * threads / dt / 1e9;
}

static void *load_npy(const char *dir, const char *name, size_t nbytes)
{
    char path[1024];
    uint8_t *buf = NULL;
    size_t len;
    struct mvot_npy npy;
    struct mvot_error err = {0};
    void *out = NULL;
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    if (mvot_io_read_file(path, (size_t)1 << 31, &buf, &len, &err) == MVOT_OK &&
        mvot_npy_parse(buf, len, path, &npy, &err) == MVOT_OK && npy.nbytes == nbytes &&
        (out = malloc(nbytes)) != NULL)
        memcpy(out, npy.data, nbytes);
    else
        fprintf(stderr, "vqgan_bench: cannot read %s (%s)\n", path, err.msg);
    free(buf);
    return out;
}

int main(int argc, char **argv)
{
    const char *weights = NULL, *ref = NULL;
    uint32_t S = 512;
    int threads = 2, iters = 3, decode = 0, blas = 0, no_peak = 0, c;
    static const struct option opts[] = {
        {"weights", 1, 0, 'w'}, {"size", 1, 0, 's'},    {"threads", 1, 0, 't'},
        {"iters", 1, 0, 'i'},   {"ref", 1, 0, 'r'},     {"decode", 0, 0, 'd'},
        {"blas", 0, 0, 'b'},    {"no-peak", 0, 0, 'n'}, {0, 0, 0, 0}};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'w': weights = optarg; break;
        case 's': S = (uint32_t)strtoul(optarg, NULL, 10); break;
        case 't': threads = (int)strtol(optarg, NULL, 10); break;
        case 'i': iters = (int)strtol(optarg, NULL, 10); break;
        case 'r': ref = optarg; break;
        case 'd': decode = 1; break;
        case 'b': blas = 1; break;
        case 'n': no_peak = 1; break;
        default: fprintf(stderr, "usage: see bench/vqgan_bench.c\n"); return 2;
        }
    }
    if (!weights || threads < 1 || iters < 1) {
        fprintf(stderr, "vqgan_bench: --weights is required\n");
        return 2;
    }
    struct mvot_error err = {0};
    struct mvot_pool *pool = mvot_pool_create(threads);
    struct mvot_vqgan *m = NULL;
    struct mvot_vqgan_info info;
    if (mvot_vqgan_load(weights, pool, &m, &err) != MVOT_OK) {
        fprintf(stderr, "vqgan_bench: %s\n", err.msg);
        return 1;
    }
    mvot_vqgan_get_info(m, &info);
    mvot_vqgan_set_blas_only(m, blas);
    size_t g = S / 16, n = g * g;
    float *px = malloc(sizeof(float) * 3 * S * S), *lat = malloc(sizeof(float) * info.D * n);
    int32_t *codes = malloc(sizeof(int32_t) * n);
    float *rin = ref ? load_npy(ref, "input", sizeof(float) * 3 * S * S) : NULL;
    if (rin)
        memcpy(px, rin, sizeof(float) * 3 * S * S);
    else
        for (size_t i = 0; i < 3 * (size_t)S * S; i++)
            px[i] = (float)((i * 2654435761u) % 256) * 0.0078f - 1.0f;
    /* Wall rates suffer when the machine is shared; rates per CPU-second do not (much). */
    double peak_core = 0, peak_ours_core = 0;
    double peak = no_peak ? 0.0 : sgemm_peak(pool, threads, 0, &peak_core);
    double peak_ours =
        !no_peak && mvot_vqgan_have_avx512() ? sgemm_peak(pool, threads, 1, &peak_ours_core) : 0.0;
    if (mvot_vqgan_encode(m, px, S, codes, lat, &err) != MVOT_OK) { /* warm-up */
        fprintf(stderr, "vqgan_bench: %s\n", err.msg);
        return 1;
    }
    double t0 = now(), c0 = cpu_now();
    for (int i = 0; i < iters; i++)
        mvot_vqgan_encode(m, px, S, codes, lat, &err);
    double dt = now() - t0, cpu = cpu_now() - c0;
    double flops = encoder_flops(info.ch, info.z_channels, info.K, info.D, S);
    printf("{\"engine\":\"mvot %s\",", mvot_vqgan_uses_avx512(m) ? "avx512" : "openblas");
    printf("\"threads\":%d,\"size\":%u,\"ch\":%u,\"images\":%d,"
           "\"seconds\":%.3f,\"cpu_seconds_per_image\":%.2f,\"images_per_s\":%.4f,\"gflop_per_"
           "image\":%.1f,"
           "\"achieved_gflops\":%.1f,\"sgemm_peak_gflops\":%.1f,\"avx512_gemm_peak_gflops\":%.1f,"
           "\"per_core_gflops\":{\"achieved\":%.1f,\"openblas_sgemm\":%.1f,\"avx512_gemm\":%.1f}",
           threads, S, info.ch, iters, dt, cpu / iters, iters / dt, flops / 1e9,
           flops * iters / dt / 1e9, peak, peak_ours, flops * iters / cpu / 1e9, peak_core,
           peak_ours_core);
    if (rin) {
        float *rlat = load_npy(ref, "latent", sizeof(float) * info.D * n);
        int32_t *rcodes = load_npy(ref, "codes", sizeof(int32_t) * n);
        double maxerr = 0, range = 0;
        size_t same = 0;
        for (size_t i = 0; rlat && i < info.D * n; i++) {
            double d = fabs((double)lat[i] - rlat[i]);
            maxerr = d > maxerr ? d : maxerr;
            range = fabs(rlat[i]) > range ? fabs(rlat[i]) : range;
        }
        for (size_t i = 0; rcodes && i < n; i++)
            same += codes[i] == rcodes[i];
        printf(",\"latent_max_abs_err\":%.3g,\"latent_max_abs\":%.3g,\"codes_same\":%zu,"
               "\"codes\":%zu",
               maxerr, range, same, n);
        if (decode && info.has_decoder && rcodes) {
            float *rpx = load_npy(ref, "decoded", sizeof(float) * 3 * S * S);
            struct mvot_image a = {0}, b = {0};
            double td = now();
            enum mvot_status st = mvot_vqgan_decode(m, rcodes, S, px, &err);
            td = now() - td;
            if (st == MVOT_OK && rpx && mvot_imgprep_from_tensor(px, S, &a, &err) == MVOT_OK &&
                mvot_imgprep_from_tensor(rpx, S, &b, &err) == MVOT_OK) {
                size_t close = 0;
                for (size_t i = 0; i < 3 * (size_t)S * S; i++)
                    close += abs((int)a.px[i] - (int)b.px[i]) <= 1;
                printf(",\"decode_seconds\":%.3f,\"decoded_within_1\":%.5f", td,
                       (double)close / (3.0 * S * S));
            }
            mvot_image_free(&a);
            mvot_image_free(&b);
            free(rpx);
        }
        free(rlat);
        free(rcodes);
    }
    printf("}\n");
    free(rin);
    free(px);
    free(lat);
    free(codes);
    mvot_vqgan_free(m);
    mvot_pool_free(pool);
    return 0;
}
