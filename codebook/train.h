/* Patch codebook training: k-means over the 16x16x3 patches of gen's frames.
 *
 * Frames repeat patches heavily, so training runs on the distinct patches (XXH3 dedup,
 * codebook/patchset.h) weighted by their counts. When there are at most K distinct patches
 * the codebook is exact: every distinct patch is a code (K shrinks to that count). Otherwise
 * a count-weighted subsample beyond max_patches is drawn (Efraimidis-Spirakis keys from the
 * seed), centers are initialised by k-means++ D^2 sampling from the seed (in growing
 * batches, see kmeans.c), and Lloyd iterations run with the assignment step as an exact
 * float32 GEMM plus argmin (codebook/assign.h). Centers are kept as integer pixels (the
 * rounded weighted mean), so every distance is an exact integer and the result is
 * byte-identical for any thread count. Empty clusters are re-seeded with the points
 * farthest from their centers. Codes are finally ordered by usage (descending), then by
 * their bytes. */
#ifndef MVOT_CODEBOOK_TRAIN_H
#define MVOT_CODEBOOK_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "codebook/codebook.h"
#include "codebook/patchset.h"
#include "core/png.h"
#include "core/pool.h"
#include "core/progress.h"
#include "core/status.h"

struct mvot_kmeans_opts {
    uint32_t K;            /* codes wanted (default 8192, Chameleon's codebook size) */
    uint32_t patch;        /* patch side in pixels (default 16; at most 16) */
    uint64_t seed;         /* k-means++ and subsampling seed (default 0) */
    uint32_t max_iters;    /* Lloyd center updates at most (default 20) */
    uint64_t max_patches;  /* distinct patches k-means runs on; more are subsampled (default
                              65536; never below 2K) */
    uint64_t max_distinct; /* memory cap of the dedup table (0: MVOT_PATCHSET_DEFAULT_MAX) */
};

void mvot_kmeans_opts_default(struct mvot_kmeans_opts *o);

/* Trains on a patch set (sorted into canonical order by the call). out is initialised by
 * the call (mvot_codebook_free it); out->stats records the run (see docs/codebook-format.md).
 * pool may be NULL; prog may be NULL. */
enum mvot_status mvot_codebook_train_patchset(struct mvot_patchset *ps,
                                              const struct mvot_kmeans_opts *opts,
                                              struct mvot_pool *pool,
                                              const struct mvot_progress *prog,
                                              struct mvot_codebook *out, struct mvot_error *err);

/* Trains on decoded S x S frames in memory. */
enum mvot_status mvot_codebook_train_frames(const struct mvot_image *frames, size_t n,
                                            const struct mvot_kmeans_opts *opts,
                                            struct mvot_pool *pool,
                                            const struct mvot_progress *prog,
                                            struct mvot_codebook *out, struct mvot_error *err);

/* Trains on every frame of a gen episode archive (DIR/episodes.tar.zst). */
enum mvot_status mvot_codebook_train_archive(const char *episodes_tar_zst,
                                             const struct mvot_kmeans_opts *opts,
                                             struct mvot_pool *pool,
                                             const struct mvot_progress *prog,
                                             struct mvot_codebook *out, struct mvot_error *err);

#endif
