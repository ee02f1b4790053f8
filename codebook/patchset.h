/* Distinct patches with counts: the training input of the patch k-means and the usage
 * statistics. Patches are p x p x 3 uint8 blocks, laid out row by row, RGB interleaved
 * (D = p*p*3), cut from S x S RGB frames on the p-pixel grid. Dedup is keyed by XXH3 of the
 * patch bytes and confirmed by comparing the bytes, so a hash collision never merges two
 * different patches. Counts are sums, so the set is the same whatever order frames arrive. */
#ifndef MVOT_CODEBOOK_PATCHSET_H
#define MVOT_CODEBOOK_PATCHSET_H

#include <stddef.h>
#include <stdint.h>

#include "core/png.h"
#include "core/pool.h"
#include "core/progress.h"
#include "core/status.h"

struct mvot_patchset {
    uint32_t patch, D;
    uint32_t image_size; /* S of the frames added (0 before the first) */
    uint64_t frames;     /* frames added */
    uint64_t total;      /* patches added (sum of counts) */
    size_t n;            /* distinct patches */
    uint8_t *bytes;      /* n x D */
    uint64_t *hash;      /* n: XXH3-64 of each patch's bytes */
    uint64_t *count;     /* n */
    size_t max_distinct; /* adding more distinct patches than this fails (memory cap) */
    /* private: open-addressing index (slot = entry + 1, 0 = empty) */
    size_t cap, nslots;
    uint32_t *slots;
};

/* max_distinct 0 picks MVOT_PATCHSET_DEFAULT_MAX (about 3 GB of patches at p = 16). */
#define MVOT_PATCHSET_DEFAULT_MAX ((size_t)4 << 20)

enum mvot_status mvot_patchset_init(struct mvot_patchset *ps, uint32_t patch, size_t max_distinct,
                                    struct mvot_error *err);
void mvot_patchset_free(struct mvot_patchset *ps);

/* Adds `count` copies of one patch (D bytes) whose XXH3 is `hash`. */
enum mvot_status mvot_patchset_add(struct mvot_patchset *ps, const uint8_t *patch, uint64_t hash,
                                   uint64_t count, struct mvot_error *err);
/* Adds every patch of an S x S frame (RGB, or RGBA composited on white as docs/chameleon.md §3);
 * S must be a multiple of the patch and equal for all frames. `name` labels errors. */
enum mvot_status mvot_patchset_add_image(struct mvot_patchset *ps, const struct mvot_image *img,
                                         const char *name, struct mvot_error *err);
/* Adds all patches of another set (counts summed, frames and totals added). */
enum mvot_status mvot_patchset_merge(struct mvot_patchset *ps, const struct mvot_patchset *other,
                                     struct mvot_error *err);

/* Sorts entries into the canonical order (by hash, then bytes) so everything derived from
 * the set is independent of insertion order. Invalidates nothing but entry indices. */
enum mvot_status mvot_patchset_sort(struct mvot_patchset *ps, struct mvot_error *err);
/* XXH3 over the canonical entries (bytes + little-endian u64 count each) and the patch
 * size: the "data_hash" recorded in a trained codebook. Sorts the set first. */
enum mvot_status mvot_patchset_data_hash(struct mvot_patchset *ps, uint64_t *out,
                                         struct mvot_error *err);

/* Copies the p x p patch whose top-left pixel is (x0, y0) out of an RGB image of width w
 * into out (p*p*3 bytes). */
void mvot_patch_extract(const uint8_t *rgb, uint32_t w, uint32_t x0, uint32_t y0, uint32_t p,
                        uint8_t *out);

/* Reads every frame of a gen episode archive (gen/episode.h) into a patch set; PNG decode
 * and per-frame dedup run on the pool, merging happens in archive order. */
enum mvot_status mvot_patchset_from_archive(const char *episodes_tar_zst, uint32_t patch,
                                            size_t max_distinct, struct mvot_pool *pool,
                                            const struct mvot_progress *prog,
                                            struct mvot_patchset *out, struct mvot_error *err);
/* The same over decoded frames in memory. */
enum mvot_status mvot_patchset_from_frames(const struct mvot_image *frames, size_t n,
                                           uint32_t patch, size_t max_distinct,
                                           struct mvot_pool *pool, struct mvot_patchset *out,
                                           struct mvot_error *err);

#endif
