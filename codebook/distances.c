/* Pairwise code distances (distances.h). Row blocks of DIST_BM codes are multiplied against
 * the whole codebook on the pool; only the upper triangle (j >= i) is taken from the GEMM and
 * mirrored, which makes the result exactly symmetric whatever the GEMM's kernel blocking. */
#include "codebook/distances.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/npy.h"
#include "core/safetensors.h"

#define DIST_BM 256

struct dist_job {
    const struct mvot_codebook *cb;
    const float *fc;  /* patch: centered floats, K x D */
    const double *dc; /* vqgan: doubles, K x D */
    const double *n2; /* squared norms (of the centered or double vectors) */
    float *out;
    int *failed;
};

static void dist_block(void *ctx, size_t b, int worker)
{
    (void)worker;
    struct dist_job *j = ctx;
    const size_t K = j->cb->K, D = j->cb->D;
    size_t i0 = b * DIST_BM, m = K - i0 < DIST_BM ? K - i0 : DIST_BM;
    if (j->fc) {
        float *g = malloc(m * K * sizeof *g);
        if (!g) {
            j->failed[b] = 1;
            return;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)K, (int)D, 1.0f,
                    j->fc + i0 * D, (int)D, j->fc, (int)D, 0.0f, g, (int)K);
        for (size_t i = 0; i < m; i++)
            for (size_t c = i0 + i; c < K; c++) {
                /* Exact: integers below 2^24 from the GEMM, norms exact in double. */
                double d2 = j->n2[i0 + i] + j->n2[c] - 2.0 * (double)g[i * K + c];
                j->out[(i0 + i) * K + c] = (float)sqrt(d2 > 0 ? d2 : 0);
            }
        free(g);
    } else {
        double *g = malloc(m * K * sizeof *g);
        if (!g) {
            j->failed[b] = 1;
            return;
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)K, (int)D, 1.0,
                    j->dc + i0 * D, (int)D, j->dc, (int)D, 0.0, g, (int)K);
        for (size_t i = 0; i < m; i++)
            for (size_t c = i0 + i; c < K; c++) {
                double d2 = j->n2[i0 + i] + j->n2[c] - 2.0 * g[i * K + c];
                j->out[(i0 + i) * K + c] = (float)sqrt(d2 > 0 ? d2 : 0);
            }
        free(g);
    }
}

enum mvot_status mvot_codebook_distances(const struct mvot_codebook *cb, struct mvot_pool *pool,
                                         float **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const size_t K = cb->K, D = cb->D;
    float *fc = NULL, *d = NULL;
    double *dc = NULL, *n2 = NULL;
    size_t nb = (K + DIST_BM - 1) / DIST_BM;
    int *failed = calloc(nb ? nb : 1, sizeof *failed);
    *out = NULL;
    d = malloc(K * K * sizeof *d);
    n2 = malloc(K * sizeof *n2);
    MVOT_FAIL_IF(!d || !n2 || !failed, err, MVOT_ERR_NOMEM, "distances",
                 "out of memory for a %zu x %zu matrix", K, K);
    int exact = cb->kind == MVOT_CB_PATCH && D <= 768;
    if (exact) {
        fc = malloc(K * D * sizeof *fc);
        MVOT_FAIL_IF(!fc, err, MVOT_ERR_NOMEM, "distances", "out of memory");
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t c = 0; c < D; c++) {
                float v = cb->vec[k * D + c] - 128.0f;
                fc[k * D + c] = v;
                s += (double)v * v;
            }
            n2[k] = s;
        }
    } else {
        dc = malloc(K * D * sizeof *dc);
        MVOT_FAIL_IF(!dc, err, MVOT_ERR_NOMEM, "distances", "out of memory");
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t c = 0; c < D; c++) {
                dc[k * D + c] = cb->vec[k * D + c];
                s += dc[k * D + c] * dc[k * D + c];
            }
            n2[k] = s;
        }
    }
    struct dist_job job = {cb, fc, dc, n2, d, failed};
    mvot_pool_for(pool, nb, dist_block, &job);
    for (size_t b = 0; b < nb; b++)
        MVOT_FAIL_IF(failed[b], err, MVOT_ERR_NOMEM, "distances", "out of memory");
    for (size_t i = 0; i < K; i++) {
        d[i * K + i] = 0.0f;
        for (size_t c = 0; c < i; c++)
            d[i * K + c] = d[c * K + i];
    }
    *out = d;
    d = NULL;
cleanup:
    free(d);
    free(fc);
    free(dc);
    free(n2);
    free(failed);
    return st;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

enum mvot_status mvot_codebook_distances_write(const char *path, const float *d, uint32_t K,
                                               uint64_t codebook_hash, struct mvot_error *err)
{
    if (ends_with(path, ".npy")) {
        uint64_t shape[2] = {K, K};
        return mvot_npy_write_file(path, "<f4", 2, shape, d, err);
    }
    if (ends_with(path, ".safetensors")) {
        char hex[17], kbuf[16];
        mvot_hash_hex(codebook_hash, hex);
        snprintf(kbuf, sizeof kbuf, "%u", K);
        json_t *meta =
            json_pack("{s:s, s:s, s:s}", "codebook_hash", hex, "K", kbuf, "metric", "euclidean");
        struct mvot_tensor_out t = {"distances", MVOT_DT_F32, 2, {K, K}, d};
        enum mvot_status st = meta ? mvot_st_write(path, &t, 1, meta, err)
                                   : mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
        json_decref(meta);
        return st;
    }
    return mvot_error_set(err, MVOT_ERR_INVALID, path,
                          "unknown output type: name it .npy or .safetensors");
}
