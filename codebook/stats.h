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

/* All code patches of a patch codebook tiled row-major, ceil(sqrt(K)) per row, with a 1-px
 * grey (128) border around each; unused cells are grey. out is initialized by the call. */
enum mvot_status mvot_codebook_atlas(const struct mvot_codebook *cb, struct mvot_image *out,
                                     struct mvot_error *err);

#endif
