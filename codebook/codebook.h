/* VQ codebooks: K vectors of dimension D, stored as safetensors with metadata
 * (docs/codebook-format.md). A patch codebook's vectors are 16x16x3 RGB patches in
 * [0,255] (D = 768); an imported VQGAN codebook's are latent vectors (D = 256). */
#ifndef MVOT_CODEBOOK_CODEBOOK_H
#define MVOT_CODEBOOK_CODEBOOK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Largest patch side. With pixels centered to [-128, 127], a dot product of two patches of
 * D = 16*16*3 values is an integer of magnitude <= 768 * 128^2 < 2^24, so float32 GEMM
 * computes it exactly in any summation order; that is what makes patch search exact and
 * thread-count independent (codebook/assign.h). */
#define MVOT_CODEBOOK_MAX_PATCH 16u

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

/* Loads and validates a codebook file; out is initialized by the call (mvot_codebook_free).
 * Each failure class has its own one-line error naming the file: unreadable or truncated
 * safetensors (MVOT_ERR_CORRUPT), missing or malformed metadata (CORRUPT), unsupported format
 * version or dtype (UNSUPPORTED), missing "codebook" tensor (NOTFOUND), and shape or D vs
 * patch disagreements (MISMATCH). */
enum mvot_status mvot_codebook_load(const char *path, struct mvot_codebook *out,
                                    struct mvot_error *err);
/* The same over bytes in memory (borrowed for the call); `name` labels errors. file_hash is
 * the XXH3 of the bytes. For fuzzing and tests. */
enum mvot_status mvot_codebook_load_mem(const uint8_t *data, size_t len, const char *name,
                                        struct mvot_codebook *out, struct mvot_error *err);
/* Writes atomically; fills cb->file_hash. */
enum mvot_status mvot_codebook_save(const char *path, struct mvot_codebook *cb,
                                    struct mvot_error *err);
void mvot_codebook_free(struct mvot_codebook *cb);
const char *mvot_codebook_kind_name(enum mvot_codebook_kind k);

#endif
