/* Exact nearest-code search: centered float32 GEMM + integer argmin (see assign.h for why
 * the GEMM is exact). Points are processed in blocks of ASSIGN_BM rows so the score block
 * (ASSIGN_BM x K floats) stays a few MB whatever n is. */
#include "codebook/assign.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#define ASSIGN_BM 128

struct mvot_cb_search {
    uint32_t K, D;
    float *cc;   /* K x D, codes - 128 */
    int32_t *nc; /* |c - 128|^2 per code */
};

enum mvot_status mvot_cb_search_create(const uint8_t *codes, uint32_t K, uint32_t D,
                                       struct mvot_cb_search **out, struct mvot_error *err)
{
    *out = NULL;
    if (K == 0 || D == 0 || D > MVOT_ASSIGN_MAX_D)
        return mvot_error_set(err, MVOT_ERR_INVALID, "codebook search",
                              "K = %u, D = %u: need K >= 1 and 1 <= D <= %u", K, D,
                              MVOT_ASSIGN_MAX_D);
    struct mvot_cb_search *s = calloc(1, sizeof *s);
    if (!s)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "codebook search", "out of memory");
    s->K = K;
    s->D = D;
    s->cc = malloc((size_t)K * D * sizeof *s->cc);
    s->nc = malloc((size_t)K * sizeof *s->nc);
    if (!s->cc || !s->nc) {
        mvot_cb_search_free(s);
        return mvot_error_set(err, MVOT_ERR_NOMEM, "codebook search", "out of memory");
    }
    for (size_t k = 0; k < K; k++) {
        int32_t n = 0;
        for (size_t j = 0; j < D; j++) {
            int v = (int)codes[k * D + j] - 128;
            s->cc[k * D + j] = (float)v;
            n += v * v;
        }
        s->nc[k] = n;
    }
    *out = s;
    return MVOT_OK;
}

void mvot_cb_search_free(struct mvot_cb_search *s)
{
    if (!s)
        return;
    free(s->cc);
    free(s->nc);
    free(s);
}

uint32_t mvot_cb_search_K(const struct mvot_cb_search *s)
{
    return s->K;
}

uint32_t mvot_cb_search_D(const struct mvot_cb_search *s)
{
    return s->D;
}

enum mvot_status mvot_cb_search_nearest(const struct mvot_cb_search *s, const uint8_t *pts,
                                        size_t n, int32_t *codes, int64_t *dist,
                                        struct mvot_error *err)
{
    const size_t K = s->K, D = s->D;
    size_t bm = n < ASSIGN_BM ? n : ASSIGN_BM;
    if (n == 0)
        return MVOT_OK;
    float *x = malloc(bm * D * sizeof *x);
    float *g = malloc(bm * K * sizeof *g);
    if (!x || !g) {
        free(x);
        free(g);
        return mvot_error_set(err, MVOT_ERR_NOMEM, "codebook search", "out of memory");
    }
    for (size_t i0 = 0; i0 < n; i0 += bm) {
        size_t m = n - i0 < bm ? n - i0 : bm;
        for (size_t i = 0; i < m * D; i++)
            x[i] = (float)((int)pts[i0 * D + i] - 128);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)K, (int)D, 1.0f, x,
                    (int)D, s->cc, (int)D, 0.0f, g, (int)K);
        for (size_t i = 0; i < m; i++) {
            const float *gi = g + i * K;
            /* |c|^2 - 2 x.c fits in int32: |c|^2 <= 768*128^2 and |2 x.c| <= 2*768*128^2. */
            int32_t best = s->nc[0] - 2 * (int32_t)gi[0];
            uint32_t bi = 0;
            for (size_t k = 1; k < K; k++) {
                int32_t v = s->nc[k] - 2 * (int32_t)gi[k];
                if (v < best) {
                    best = v;
                    bi = (uint32_t)k;
                }
            }
            codes[i0 + i] = (int32_t)bi;
            if (dist) {
                int64_t nx = 0;
                for (size_t j = 0; j < D; j++) {
                    int v = (int)pts[(i0 + i) * D + j] - 128;
                    nx += v * v;
                }
                dist[i0 + i] = nx + best;
            }
        }
    }
    free(x);
    free(g);
    return MVOT_OK;
}
