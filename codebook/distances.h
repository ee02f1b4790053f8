/* The K x K matrix of pairwise Euclidean distances between codes: what MVoT's token
 * discrepancy loss weights each predicted code's probability by. Row i, column j is
 * |c_i - c_j|; the diagonal is exactly 0 and the matrix exactly symmetric. */
#ifndef MVOT_CODEBOOK_DISTANCES_H
#define MVOT_CODEBOOK_DISTANCES_H

#include <stdint.h>

#include "codebook/codebook.h"
#include "core/pool.h"
#include "core/status.h"

/* Computes the matrix via GEMM: |a|^2 + |b|^2 - 2 a.b. Patch codebooks use the exact
 * centered-integer float32 GEMM (codebook/assign.h), so every squared distance is an exact
 * integer and each entry is its correctly rounded square root. Other codebooks use double
 * GEMM; tiny negative squared distances from cancellation are clamped to 0. *out is a
 * malloc'd K*K float array (caller frees). pool may be NULL. */
enum mvot_status mvot_codebook_distances(const struct mvot_codebook *cb, struct mvot_pool *pool,
                                         float **out, struct mvot_error *err);

/* Writes the matrix to `path`: ".npy" gives a <f4 [K, K] array, ".safetensors" a tensor
 * "distances" F32 [K, K] with metadata (codebook file hash, K). Atomic. */
enum mvot_status mvot_codebook_distances_write(const char *path, const float *d, uint32_t K,
                                               uint64_t codebook_hash, struct mvot_error *err);

#endif
