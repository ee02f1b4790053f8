/* Usage statistics and atlas (stats.h). The distinct patches are searched in fixed chunks on
 * the pool; counts are summed sequentially in canonical order, so results are identical for
 * any thread count. */
#include "codebook/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/assign.h"
#include "gen/render.h"

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

/* Atlas geometry: tiles of the enlarged patch plus one text line, a 2-px gutter, below a
 * header of one text line. */
#define ATLAS_PAD 2u
#define ATLAS_HEAD (MVOT_LINE_H + 2 * ATLAS_PAD)

static uint32_t atlas_cols(uint32_t K)
{
    uint32_t cols = 1;
    while ((uint64_t)cols * cols < K)
        cols++;
    return cols;
}

static void atlas_geometry(const struct mvot_codebook *cb, uint32_t *zoom, uint32_t *tw,
                           uint32_t *th)
{
    char digits[16];
    snprintf(digits, sizeof digits, "%u", cb->K ? cb->K - 1 : 0);
    uint32_t z = cb->patch >= 32 ? 1 : 32 / cb->patch, w = z * cb->patch;
    uint32_t text = (uint32_t)mvot_text_width(digits, 1);
    *zoom = z;
    *tw = (w > text ? w : text) + 2 * ATLAS_PAD;
    *th = w + MVOT_LINE_H + 2 * ATLAS_PAD;
}

void mvot_codebook_atlas_tile(const struct mvot_codebook *cb, uint32_t slot, uint32_t *x,
                              uint32_t *y, uint32_t *zoom)
{
    uint32_t tw, th, cols = atlas_cols(cb->K);
    atlas_geometry(cb, zoom, &tw, &th);
    *x = (slot % cols) * tw + ATLAS_PAD;
    *y = ATLAS_HEAD + (slot / cols) * th + ATLAS_PAD;
}

/* Most used first, ties by index: a total order, so the atlas does not depend on qsort. */
struct atlas_slot {
    uint64_t count;
    uint32_t k;
};
static int by_use(const void *a, const void *b)
{
    const struct atlas_slot *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->k < y->k ? -1 : x->k > y->k;
}

enum mvot_status mvot_codebook_atlas(const struct mvot_codebook *cb,
                                     const struct mvot_codebook_usage *usage,
                                     struct mvot_image *out, struct mvot_error *err)
{
    static const struct mvot_rgb ink = {0, 0, 0}, dim = {100, 100, 100};
    memset(out, 0, sizeof *out);
    if (cb->kind != MVOT_CB_PATCH)
        return mvot_error_set(err, MVOT_ERR_UNSUPPORTED, "atlas",
                              "an atlas needs a patch codebook (this one is %s)",
                              mvot_codebook_kind_name(cb->kind));
    if (usage && usage->K != cb->K)
        return mvot_error_set(err, MVOT_ERR_MISMATCH, "atlas", "usage of %u codes for K = %u",
                              usage->K, cb->K);
    const uint32_t p = cb->patch, cols = atlas_cols(cb->K), rows = (cb->K + cols - 1) / cols;
    uint32_t z, tw, th;
    atlas_geometry(cb, &z, &tw, &th);
    char head[160];
    snprintf(head, sizeof head, "%u codes, %s", cb->K,
             usage ? "most used first; shaded: unused in these frames"
                   : "in index order (no frames given: usage unknown)");
    uint64_t W = (uint64_t)cols * tw, hw = (uint64_t)mvot_text_width(head, 1) + 2 * ATLAS_PAD;
    W = W > hw ? W : hw;
    uint64_t H = ATLAS_HEAD + (uint64_t)rows * th;
    if (W > MVOT_PNG_MAX_DIM || H > MVOT_PNG_MAX_DIM)
        return mvot_error_set(err, MVOT_ERR_INVALID, "atlas", "K = %u is too large for an atlas",
                              cb->K);
    struct atlas_slot *order = malloc((cb->K ? cb->K : 1) * sizeof *order);
    enum mvot_status st =
        order ? mvot_image_init(out, (uint32_t)W, (uint32_t)H, 3) : MVOT_ERR_NOMEM;
    if (st != MVOT_OK) {
        free(order);
        return mvot_error_set(err, st, "atlas", "out of memory");
    }
    memset(out->px, 160, (size_t)out->w * out->h * 3);
    mvot_draw_text(out, ATLAS_PAD, ATLAS_PAD, 1, head, ink);
    for (uint32_t k = 0; k < cb->K; k++) {
        order[k].k = k;
        order[k].count = usage ? usage->count[k] : 0;
    }
    if (usage)
        qsort(order, cb->K, sizeof *order, by_use);
    for (uint32_t slot = 0; slot < cb->K; slot++) {
        uint32_t k = order[slot].k, x0, y0, zz;
        int unused = usage && usage->count[k] == 0;
        mvot_codebook_atlas_tile(cb, slot, &x0, &y0, &zz);
        for (uint32_t y = 0; y < p * z; y++)
            for (uint32_t x = 0; x < p * z; x++)
                for (uint32_t c = 0; c < 3; c++) {
                    uint32_t v = cb->vec[(size_t)k * cb->D + ((size_t)(y / z) * p + x / z) * 3 + c];
                    out->px[((size_t)(y0 + y) * out->w + x0 + x) * 3 + c] =
                        (uint8_t)(unused ? (v + 160) / 2 : v);
                }
        char idx[16];
        snprintf(idx, sizeof idx, "%u", k);
        mvot_draw_text(out, (int)x0, (int)(y0 + p * z + 1), 1, idx, unused ? dim : ink);
    }
    free(order);
    return MVOT_OK;
}
