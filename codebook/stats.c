/* Usage statistics and atlas (stats.h). The distinct patches are searched in fixed chunks on
 * the pool; counts are summed sequentially in canonical order, so results are identical for
 * any thread count. */
#include "codebook/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/assign.h"

#define USAGE_CHUNK 2048

struct usage_job {
    const struct mvot_cb_search *s;
    const struct mvot_patchset *ps;
    int32_t *code;
    int64_t *dist;
    enum mvot_status *st;
};

static void usage_chunk(void *ctx, size_t c, int worker)
{
    (void)worker;
    struct usage_job *j = ctx;
    size_t i0 = c * USAGE_CHUNK, m = j->ps->n - i0 < USAGE_CHUNK ? j->ps->n - i0 : USAGE_CHUNK;
    j->st[c] = mvot_cb_search_nearest(j->s, j->ps->bytes + i0 * j->ps->D, m, j->code + i0,
                                      j->dist + i0, NULL);
}

void mvot_codebook_usage_free(struct mvot_codebook_usage *u)
{
    if (!u)
        return;
    free(u->count);
    memset(u, 0, sizeof *u);
}

enum mvot_status mvot_codebook_usage(const struct mvot_codebook *cb, const struct mvot_patchset *ps,
                                     struct mvot_pool *pool, struct mvot_codebook_usage *out,
                                     struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_cb_search *s = NULL;
    uint8_t *codes = NULL;
    int32_t *code = NULL;
    int64_t *dist = NULL;
    size_t nch = (ps->n + USAGE_CHUNK - 1) / USAGE_CHUNK;
    enum mvot_status *cst = NULL;
    memset(out, 0, sizeof *out);
    MVOT_FAIL_IF(cb->kind != MVOT_CB_PATCH, err, MVOT_ERR_UNSUPPORTED, "codebook stats",
                 "usage over frames needs a patch codebook (this one is %s)",
                 mvot_codebook_kind_name(cb->kind));
    MVOT_FAIL_IF(cb->patch != ps->patch, err, MVOT_ERR_MISMATCH, "codebook stats",
                 "codebook patch %u differs from the frames' patch %u", cb->patch, ps->patch);
    codes = malloc((size_t)cb->K * cb->D);
    code = malloc((ps->n ? ps->n : 1) * sizeof *code);
    dist = malloc((ps->n ? ps->n : 1) * sizeof *dist);
    cst = calloc(nch ? nch : 1, sizeof *cst);
    out->count = calloc(cb->K, sizeof *out->count);
    MVOT_FAIL_IF(!codes || !code || !dist || !cst || !out->count, err, MVOT_ERR_NOMEM,
                 "codebook stats", "out of memory");
    for (size_t i = 0; i < (size_t)cb->K * cb->D; i++)
        codes[i] = (uint8_t)cb->vec[i];
    MVOT_TRY(mvot_cb_search_create(codes, cb->K, cb->D, &s, err));
    struct usage_job j = {s, ps, code, dist, cst};
    mvot_pool_for(pool, nch, usage_chunk, &j);
    for (size_t c = 0; c < nch; c++)
        MVOT_FAIL_IF(cst[c] != MVOT_OK, err, cst[c], "codebook stats", "search failed");
    double se = 0;
    for (size_t i = 0; i < ps->n; i++) {
        out->count[code[i]] += ps->count[i];
        se += (double)ps->count[i] * (double)dist[i];
    }
    out->K = cb->K;
    out->total = ps->total;
    out->frames = ps->frames;
    double h = 0;
    for (uint32_t k = 0; k < cb->K; k++) {
        out->dead += out->count[k] == 0;
        if (out->count[k]) {
            double p = (double)out->count[k] / (double)ps->total;
            h -= p * log(p);
        }
    }
    out->perplexity = exp(h);
    out->mse = ps->total ? se / ((double)ps->total * cb->D) : 0;
    out->psnr_db = out->mse > 0 ? 10 * log10(255.0 * 255.0 / out->mse) : INFINITY;
cleanup:
    if (st != MVOT_OK)
        mvot_codebook_usage_free(out);
    mvot_cb_search_free(s);
    free(codes);
    free(code);
    free(dist);
    free(cst);
    return st;
}

json_t *mvot_codebook_usage_json(const struct mvot_codebook_usage *u, int with_histogram)
{
    json_t *j = json_pack("{s:i, s:I, s:I, s:i, s:i, s:f, s:f}", "K", (int)u->K, "frames",
                          (json_int_t)u->frames, "patches", (json_int_t)u->total, "dead_codes",
                          (int)u->dead, "used_codes", (int)(u->K - u->dead), "perplexity",
                          u->perplexity, "mse", u->mse);
    if (!j)
        return NULL;
    json_object_set_new(j, "psnr_db", isfinite(u->psnr_db) ? json_real(u->psnr_db) : json_null());
    if (with_histogram) {
        json_t *h = json_array();
        for (uint32_t k = 0; k < u->K; k++)
            json_array_append_new(h, json_integer((json_int_t)u->count[k]));
        json_object_set_new(j, "histogram", h);
    }
    return j;
}

enum mvot_status mvot_codebook_atlas(const struct mvot_codebook *cb, struct mvot_image *out,
                                     struct mvot_error *err)
{
    memset(out, 0, sizeof *out);
    if (cb->kind != MVOT_CB_PATCH)
        return mvot_error_set(err, MVOT_ERR_UNSUPPORTED, "atlas",
                              "an atlas needs a patch codebook (this one is %s)",
                              mvot_codebook_kind_name(cb->kind));
    const uint32_t p = cb->patch, cell = p + 2;
    uint32_t cols = 1;
    while ((uint64_t)cols * cols < cb->K)
        cols++;
    uint32_t rows = (cb->K + cols - 1) / cols;
    if ((uint64_t)cols * cell > MVOT_PNG_MAX_DIM || (uint64_t)rows * cell > MVOT_PNG_MAX_DIM)
        return mvot_error_set(err, MVOT_ERR_INVALID, "atlas", "K = %u is too large for an atlas",
                              cb->K);
    enum mvot_status st = mvot_image_init(out, cols * cell, rows * cell, 3);
    if (st != MVOT_OK)
        return mvot_error_set(err, st, "atlas", "out of memory");
    memset(out->px, 128, (size_t)out->w * out->h * 3);
    for (uint32_t k = 0; k < cb->K; k++) {
        uint32_t x0 = (k % cols) * cell + 1, y0 = (k / cols) * cell + 1;
        for (uint32_t y = 0; y < p; y++)
            for (uint32_t x = 0; x < p * 3; x++)
                out->px[((size_t)(y0 + y) * out->w + x0) * 3 + x] =
                    (uint8_t)cb->vec[(size_t)k * cb->D + (size_t)y * p * 3 + x];
    }
    return MVOT_OK;
}
