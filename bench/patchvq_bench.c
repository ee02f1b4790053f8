/* Patch-VQ encode benchmark (BENCHMARKS.md "## Patch VQ and codebooks"): frames/s at S px
 * with and without the patch cache, on a pool of T threads (one frame per task, OpenBLAS
 * single-threaded inside), plus reconstruction PSNR of the decoded frames. Frames come from a
 * gen archive and are decoded into memory first (PNG decode is not timed).
 *
 *   patchvq_bench --codebook CB --episodes ARCHIVE [--frames N] [--threads T]
 *                 [--nocache-frames M] [--pad-k K] [--warm-reps R] [--codes-out FILE.npy]
 *
 * cached_warm_s is the best of R warm passes over the N frames (bench/run-all.sh asks for
 * R = 1 and alternates whole processes instead); --nocache-frames 0 skips the uncached pass.
 *
 * --pad-k K appends deterministic noisy copies of existing codes until the codebook has K
 * codes (so a K = 8192 search can be timed with an exact codebook of fewer distinct patches;
 * the copies never win a search they should not, since the search is exact). --codes-out
 * writes the cached-encode codes of the first M frames (int64 [M, grid^2]) and
 * --codebook-out the (padded) codebook, for bench/patchvq_peer.py to run on the same input. Prints
 * one JSON object. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codebook/codebook.h"
#include "core/npy.h"
#include "core/png.h"
#include "core/pool.h"
#include "core/rng.h"
#include "gen/episode.h"
#include "tokenize/patchvq.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

struct job {
    struct mvot_patchvq *vq;
    struct mvot_image *f;
    uint32_t S, G;
    int32_t *codes;
    int fails;
};

static void enc(void *ctx, size_t i, int worker)
{
    (void)worker;
    struct job *j = ctx;
    struct mvot_error err = {0};
    if (mvot_patchvq_encode(j->vq, j->f[i].px, j->S, j->codes + i * j->G * j->G, &err) != MVOT_OK)
        __atomic_fetch_add(&j->fails, 1, __ATOMIC_RELAXED);
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* Wall seconds; *cpu (may be NULL) gets the process CPU seconds of the pass, which is what
 * a shared, overloaded machine still measures reliably. */
static double run(struct mvot_pool *pool, struct job *j, size_t n, double *cpu)
{
    double t = now(), c = cpu_now();
    mvot_pool_for(pool, n, enc, j);
    if (cpu)
        *cpu = cpu_now() - c;
    return now() - t;
}

int main(int argc, char **argv)
{
    const char *cbp = NULL, *arch = NULL, *codes_out = NULL, *cb_out = NULL;
    size_t nf = 400, nnc = 8;
    int threads = 2, reps = 5;
    uint32_t padk = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--codebook"))
            cbp = argv[i + 1];
        else if (!strcmp(argv[i], "--episodes"))
            arch = argv[i + 1];
        else if (!strcmp(argv[i], "--frames"))
            nf = (size_t)strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--threads"))
            threads = (int)strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--nocache-frames"))
            nnc = (size_t)strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--pad-k"))
            padk = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--warm-reps"))
            reps = (int)strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--codebook-out"))
            cb_out = argv[i + 1];
        else if (!strcmp(argv[i], "--codes-out"))
            codes_out = argv[i + 1];
    }
    if (!cbp || !arch) {
        fprintf(stderr, "usage: patchvq_bench --codebook CB --episodes ARCHIVE [...]\n");
        return 2;
    }
    openblas_set_num_threads(1);
    struct mvot_error err = {0};
    struct mvot_codebook cb;
    if (mvot_codebook_load(cbp, &cb, &err) != MVOT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    uint32_t K0 = cb.K;
    if (padk > cb.K) {
        float *v = realloc(cb.vec, (size_t)padk * cb.D * sizeof *v);
        struct mvot_rng r;
        mvot_rng_seed(&r, 99);
        for (size_t k = cb.K; k < padk; k++)
            for (size_t d = 0; d < cb.D; d++) {
                int x = (int)v[(k % K0) * cb.D + d] + (int)mvot_rng_below(&r, 9) - 4;
                v[k * cb.D + d] = (float)(x < 0 ? 0 : x > 255 ? 255 : x);
            }
        cb.vec = v;
        cb.K = padk;
    }
    if (cb_out && mvot_codebook_save(cb_out, &cb, &err) != MVOT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    /* Frames. */
    struct mvot_image *f = calloc(nf, sizeof *f);
    size_t n = 0;
    struct mvot_episode_reader *rd = NULL;
    if (mvot_episode_reader_open(arch, &rd, &err) != MVOT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    for (int done = 0; n < nf;) {
        struct mvot_episode ep = {0};
        if (mvot_episode_reader_next(rd, &ep, &done, &err) != MVOT_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        if (done)
            break;
        for (uint32_t i = 0; i < ep.n_frames && n < nf; i++)
            if (mvot_png_decode(ep.frame_png[i], ep.frame_png_len[i], "frame", &f[n], &err) ==
                MVOT_OK)
                n++;
        mvot_episode_free(&ep);
    }
    mvot_episode_reader_close(rd);
    uint32_t S = f[0].w, G = S / cb.patch;
    if (nnc > n)
        nnc = n;
    struct mvot_pool *pool = mvot_pool_create(threads);
    struct mvot_patchvq *vc = NULL, *vn = NULL;
    if (mvot_patchvq_create(&cb, MVOT_PATCHVQ_DEFAULT_CACHE, &vc, &err) != MVOT_OK ||
        mvot_patchvq_create(&cb, 0, &vn, &err) != MVOT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int32_t *c1 = malloc(n * G * G * sizeof *c1), *c2 = malloc(n * G * G * sizeof *c2);
    struct job jc = {vc, f, S, G, c1, 0}, jn = {vn, f, S, G, c2, 0};
    double t_cold = run(pool, &jc, n, NULL);     /* cache starts empty */
    double t_warm = INFINITY, c_warm = INFINITY; /* every patch seen: best of `reps` passes */
    for (int r = 0; r < reps; r++) {
        double c, t = run(pool, &jc, n, &c);
        t_warm = t < t_warm ? t : t_warm;
        c_warm = c < c_warm ? c : c_warm;
    }
    double c_nc = 0, t_nc = run(pool, &jn, nnc, &c_nc);
    uint64_t hits, misses;
    size_t entries;
    mvot_patchvq_cache_stats(vc, &hits, &misses, &entries);
    int same = memcmp(c1, c2, nnc * G * G * sizeof *c1) == 0;
    /* PSNR of decoded frames. */
    double se = 0, worst = INFINITY, sum = 0;
    uint8_t *px = malloc((size_t)S * S * 3);
    for (size_t i = 0; i < n; i++) {
        mvot_patchvq_decode(vc, c1 + i * G * G, S, px, &err);
        double s = 0;
        for (size_t j = 0; j < (size_t)S * S * 3; j++) {
            double d = (double)px[j] - f[i].px[j];
            s += d * d;
        }
        se += s;
        double p = s > 0 ? 10 * log10(255.0 * 255.0 * S * S * 3 / s) : INFINITY;
        worst = p < worst ? p : worst;
        sum += isfinite(p) ? p : 100.0;
    }
    double mse = se / ((double)n * S * S * 3);
    if (codes_out) {
        int64_t *c64 = malloc(nnc * G * G * sizeof *c64);
        for (size_t i = 0; i < nnc * G * G; i++)
            c64[i] = c1[i];
        uint64_t shape[2] = {nnc, (uint64_t)G * G};
        mvot_npy_write_file(codes_out, "<i8", 2, shape, c64, &err);
        free(c64);
    }
    char pg[32] = "null", pw[32] = "null";
    if (mse > 0)
        snprintf(pg, sizeof pg, "%.2f", 10 * log10(255.0 * 255.0 / mse));
    if (isfinite(worst))
        snprintf(pw, sizeof pw, "%.2f", worst);
    printf("{\"S\":%u,\"K\":%u,\"K_distinct_codes\":%u,\"threads\":%d,\"frames\":%zu,"
           "\"cached_cold_s\":%.4f,\"cached_warm_s\":%.4f,"
           "\"cached_cold_fps\":%.1f,\"cached_warm_fps\":%.1f,\"cached_warm_fps_per_cpu_s\":%.1f,"
           "\"cache_hits\":%llu,"
           "\"cache_misses\":%llu,\"cache_entries\":%zu,\"nocache_frames\":%zu,"
           "\"nocache_fps\":%.2f,\"nocache_fps_per_cpu_s\":%.2f,\"nocache_gflops\":%.1f,\"cache_vs_"
           "nocache_identical\":%s,"
           "\"psnr_db_global\":%s,\"psnr_db_worst\":%s,\"psnr_db_mean_capped100\":%.2f,"
           "\"fails\":%d}\n",
           S, cb.K, K0, threads, n, t_cold, t_warm, n / t_cold, n / t_warm, n / c_warm,
           (unsigned long long)hits, (unsigned long long)misses, entries, nnc,
           nnc ? nnc / t_nc : 0.0, c_nc > 0 ? nnc / c_nc : 0.0,
           nnc ? 2.0 * nnc * G * G * cb.K * cb.D / t_nc / 1e9 : 0.0, same ? "true" : "false", pg,
           pw, sum / n, jc.fails + jn.fails);
    return 0;
}
