/* Exact nearest-code search over uint8 vectors (patch codebooks and k-means).
 *
 * Points and codes are uint8 vectors of D <= 768 values. Both are centered to [-128, 127]
 * and the cross term x.c is computed with float32 GEMM (OpenBLAS cblas_sgemm): every
 * product and partial sum is an integer of magnitude <= 768 * 128^2 < 2^24, so the GEMM is
 * exact whatever its blocking, kernel or thread count. The squared distance
 * |x|^2 + |c|^2 - 2 x.c is then formed in integers and the argmin takes the first index
 * on ties. Results therefore equal a naive integer double loop bit for bit. */
#ifndef MVOT_CODEBOOK_ASSIGN_H
#define MVOT_CODEBOOK_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Largest D for which the exactness argument holds (16 * 16 * 3). */
#define MVOT_ASSIGN_MAX_D 768u

struct mvot_cb_search;

/* Builds a search index over K codes (uint8, K x D row-major; copied). */
enum mvot_status mvot_cb_search_create(const uint8_t *codes, uint32_t K, uint32_t D,
                                       struct mvot_cb_search **out, struct mvot_error *err);
void mvot_cb_search_free(struct mvot_cb_search *s); /* NULL is a no-op */

/* For each of n points (uint8, n x D row-major) writes the index of the nearest code to
 * codes[i] and, when dist is not NULL, the exact squared distance to dist[i]. Thread-safe:
 * s is read-only and scratch memory is allocated per call. */
enum mvot_status mvot_cb_search_nearest(const struct mvot_cb_search *s, const uint8_t *pts,
                                        size_t n, int32_t *codes, int64_t *dist,
                                        struct mvot_error *err);

uint32_t mvot_cb_search_K(const struct mvot_cb_search *s);
uint32_t mvot_cb_search_D(const struct mvot_cb_search *s);

#endif
