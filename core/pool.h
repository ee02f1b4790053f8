/* A small fixed-size thread pool.
 *
 * Two shapes of work: a parallel for over [0, n), and an ordered map where workers compute
 * item results out of order but the caller's `emit` sees them strictly in input order, on
 * the calling thread. Output written from `emit` is therefore identical for any thread
 * count. A pool of 1 thread runs everything inline on the caller. */
#ifndef MVOT_CORE_POOL_H
#define MVOT_CORE_POOL_H

#include <stddef.h>

#include "core/status.h"

struct mvot_pool;

/* nthreads <= 0 means all online cores. Returns NULL on failure. */
struct mvot_pool *mvot_pool_create(int nthreads);
void mvot_pool_free(struct mvot_pool *p);         /* NULL is a no-op */
int mvot_pool_threads(const struct mvot_pool *p); /* 1 for NULL */

/* Calls fn(ctx, i, worker) for every i in [0, n); worker is in [0, threads). Returns when
 * all calls have finished. p may be NULL (inline). */
typedef void (*mvot_pool_fn)(void *ctx, size_t i, int worker);
void mvot_pool_for(struct mvot_pool *p, size_t n, mvot_pool_fn fn, void *ctx);

/* Ordered map. work(ctx, i, worker, &result, err) runs in parallel; emit(ctx, i, result, err)
 * runs on the caller in order 0,1,2,... and owns `result` (it must free it). At most
 * `window` items are in flight (0 picks 4 per thread), bounding memory. On the first
 * failure no further items start; the error of the lowest failing index is returned, so the
 * reported error is the same for any thread count. Results of items never emitted are
 * passed to `discard` (may be NULL). */
typedef enum mvot_status (*mvot_pool_work_fn)(void *ctx, size_t i, int worker, void **result,
                                              struct mvot_error *err);
typedef enum mvot_status (*mvot_pool_emit_fn)(void *ctx, size_t i, void *result,
                                              struct mvot_error *err);
typedef void (*mvot_pool_discard_fn)(void *ctx, void *result);
enum mvot_status mvot_pool_map_ordered(struct mvot_pool *p, size_t n, size_t window,
                                       mvot_pool_work_fn work, mvot_pool_emit_fn emit,
                                       mvot_pool_discard_fn discard, void *ctx,
                                       struct mvot_error *err);

/* Number of online cores (>= 1). */
int mvot_cpu_count(void);

#endif
