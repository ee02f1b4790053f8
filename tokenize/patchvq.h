/* The built-in patch-VQ image tokenizer (docs/chameleon.md §5): each p x p patch of an S x S RGB
 * frame maps to its nearest code of a patch codebook, row-major; decode pastes the code
 * patches back.
 *
 * Encode is EXACT nearest-code search (codebook/assign.h: centered float32 GEMM whose
 * integer results are exact, integer argmin, first index on ties), equal to a naive double
 * loop. A cache maps each patch to its code, keyed by XXH3 of the patch bytes; a hit is
 * confirmed by comparing the stored bytes, so the cache can never change a result. The
 * handle is immutable apart from the internally locked cache: encode and decode may be
 * called from many threads at once. */
#ifndef MVOT_TOKENIZE_PATCHVQ_H
#define MVOT_TOKENIZE_PATCHVQ_H

#include <stddef.h>
#include <stdint.h>

#include "codebook/codebook.h"
#include "core/status.h"

struct mvot_patchvq;

/* Default cache size in entries (each costs D + 16 bytes: about 50 MB at p = 16). */
#define MVOT_PATCHVQ_DEFAULT_CACHE ((size_t)65536)

/* cb must be a patch codebook; it is copied. cache_entries 0 disables the cache (every patch
 * then goes through the GEMM search, with no dedup at all). */
enum mvot_status mvot_patchvq_create(const struct mvot_codebook *cb, size_t cache_entries,
                                     struct mvot_patchvq **out, struct mvot_error *err);
void mvot_patchvq_free(struct mvot_patchvq *vq); /* NULL is a no-op */

uint32_t mvot_patchvq_patch(const struct mvot_patchvq *vq);

/* rgb: S x S x 3 interleaved; S a multiple of the patch. Writes (S/p)^2 codes, row-major. */
enum mvot_status mvot_patchvq_encode(struct mvot_patchvq *vq, const uint8_t *rgb, uint32_t S,
                                     int32_t *codes, struct mvot_error *err);
/* codes -> S x S x 3 interleaved pixels (the code patches pasted; codes are uint8 already).
 * A code outside [0, K) fails naming its position. */
enum mvot_status mvot_patchvq_decode(const struct mvot_patchvq *vq, const int32_t *codes,
                                     uint32_t S, uint8_t *rgb, struct mvot_error *err);

/* Cache counters since creation (approximate under concurrency; for reports only). */
void mvot_patchvq_cache_stats(const struct mvot_patchvq *vq, uint64_t *hits, uint64_t *misses,
                              size_t *entries);

#endif
