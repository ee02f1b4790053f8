/* Shared between patchset.c and archive.c: the per-frame pool job (decode a frame, dedup
 * its patches into a local set) and its in-order merge. */
#ifndef MVOT_CODEBOOK_PATCHSET_INTERNAL_H
#define MVOT_CODEBOOK_PATCHSET_INTERNAL_H

#include "codebook/patchset.h"

struct mvot_patchset_job {
    const struct mvot_image *imgs; /* decoded frames, or NULL when PNGs are given */
    uint8_t **png;
    size_t *png_len;
    char **names; /* per-frame labels for errors (may be NULL) */
    uint32_t patch;
    struct mvot_patchset *out;
    uint64_t frames_hint; /* progress total (0: unknown) */
};

enum mvot_status mvot_patchset_frame_work(void *ctx, size_t i, int worker, void **result,
                                          struct mvot_error *err);
enum mvot_status mvot_patchset_frame_emit(void *ctx, size_t i, void *result,
                                          struct mvot_error *err);
void mvot_patchset_frame_discard(void *ctx, void *result);

#endif
