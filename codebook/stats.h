/* Codebook statistics over frames: per-code usage histogram, perplexity, dead codes and the
 * reconstruction error of nearest-code coding, plus an atlas image of all code patches.
 * Usage needs a patch codebook (frames are mapped with the exact search of assign.h). */
#ifndef MVOT_CODEBOOK_STATS_H
#define MVOT_CODEBOOK_STATS_H

#include <jansson.h>
#include <stdint.h>

#include "codebook/codebook.h"
#include "codebook/patchset.h"
#include "core/png.h"
#include "core/pool.h"
#include "core/status.h"

struct mvot_codebook_usage {
    uint32_t K;
    uint64_t *count;   /* K: patches mapped to each code (owned) */
    uint64_t total;    /* patches counted */
    uint64_t frames;   /* frames counted */
    uint32_t dead;     /* codes with count 0 */
    double perplexity; /* exp(entropy of the usage distribution), nats */
    double mse;        /* per-value squared error of the frames against their codes */
    double psnr_db;    /* 10 log10(255^2 / mse); INFINITY when mse is 0 */
};

/* Maps every distinct patch of ps to its nearest code (exact) and fills out (initialized by
 * the call; mvot_codebook_usage_free). cb must be a patch codebook with ps's patch size. */
enum mvot_status mvot_codebook_usage(const struct mvot_codebook *cb, const struct mvot_patchset *ps,
                                     struct mvot_pool *pool, struct mvot_codebook_usage *out,
                                     struct mvot_error *err);
void mvot_codebook_usage_free(struct mvot_codebook_usage *u);

/* A JSON summary; with_histogram adds "histogram": [count per code]. New reference. */
json_t *mvot_codebook_usage_json(const struct mvot_codebook_usage *u, int with_histogram);

/* An atlas of all code patches of a patch codebook for a person to look at: a header line
 * saying the order, then one tile per code, ceil(sqrt(K)) per row, each the patch enlarged to
 * at least 32 px (zoom = max(1, 32 / patch)) above its index. With usage (non-NULL, from the
 * same codebook) tiles are sorted by use, most used first (ties by index), and codes no frame
 * used are shaded (patch blended half-way to grey, index in grey); without it, index order.
 * The background is grey (160). out is initialized by the call. */
enum mvot_status mvot_codebook_atlas(const struct mvot_codebook *cb,
                                     const struct mvot_codebook_usage *usage,
                                     struct mvot_image *out, struct mvot_error *err);
/* Where the atlas puts the patch of the tile in position `slot` (its top-left pixel) and the
 * zoom, for a codebook of cb's size and patch. */
void mvot_codebook_atlas_tile(const struct mvot_codebook *cb, uint32_t slot, uint32_t *x,
                              uint32_t *y, uint32_t *zoom);

#endif
