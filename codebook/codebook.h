/* VQ codebooks: K vectors of dimension D, stored as safetensors with metadata
 * (docs/codebook-format.md). A patch codebook's vectors are 16x16x3 RGB patches in
 * [0,255] (D = 768); an imported VQGAN codebook's are latent vectors (D = 256). */
#ifndef MVOT_CODEBOOK_CODEBOOK_H
#define MVOT_CODEBOOK_CODEBOOK_H

#include <jansson.h>
#include <stdint.h>

#include "core/status.h"

enum mvot_codebook_kind { MVOT_CB_PATCH = 0, MVOT_CB_VQGAN = 1 };

struct mvot_codebook {
    enum mvot_codebook_kind kind;
    uint32_t K, D;
    uint32_t patch;      /* patch side in pixels (16) for MVOT_CB_PATCH, else 0 */
    uint32_t image_size; /* S the codebook was trained for (0 if any) */
    uint64_t seed;
    uint64_t data_hash; /* XXH3 of the training data description */
    uint64_t file_hash; /* XXH3 of the file bytes (identity in manifests) */
    float *vec;         /* K * D, row-major, owned */
    json_t *stats;      /* training stats (owned reference, may be NULL) */
};

enum mvot_status mvot_codebook_load(const char *path, struct mvot_codebook *out,
                                    struct mvot_error *err);
/* Writes atomically; fills cb->file_hash. */
enum mvot_status mvot_codebook_save(const char *path, struct mvot_codebook *cb,
                                    struct mvot_error *err);
void mvot_codebook_free(struct mvot_codebook *cb);
const char *mvot_codebook_kind_name(enum mvot_codebook_kind k);

#endif
