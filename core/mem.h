/* Growth of dynamic arrays: one capped, overflow-checked way to make room, instead of a
 * hand-rolled "cap *= 2; realloc" at every array. Capacities double (from 16) and never pass
 * the caller's limit, so an array sized from untrusted input stops at a stated bound with
 * MVOT_ERR_NOMEM instead of wrapping a multiplication or exhausting memory. */
#ifndef MVOT_CORE_MEM_H
#define MVOT_CORE_MEM_H

#include <stddef.h>

#include "core/status.h"

/* No limit beyond what size_t can address. */
#define MVOT_GROW_UNCAPPED ((size_t)-1)

/* The capacity to grow to so that `need` elements fit: cap itself when it already suffices,
 * else cap doubled (16 when cap is 0) until it does, clamped to max. 0 when need > max. */
size_t mvot_grow_cap(size_t cap, size_t need, size_t max);

/* Reallocates the array whose address is pp (a pointer to any object pointer, e.g. &v) to n
 * elements of elem bytes. On failure, including n * elem overflowing, *pp is unchanged and
 * still owned by the caller. */
enum mvot_status mvot_realloc_n(void *pp, size_t n, size_t elem);

/* Makes room for `need` elements in the array at pp whose capacity is *cap elements of elem
 * bytes, growing it by mvot_grow_cap. Over max, or out of memory, it records MVOT_ERR_NOMEM
 * in err (may be NULL) and leaves *pp and *cap unchanged. Use MVOT_GROW, which takes elem from
 * the pointer's type. For arrays that share one capacity, use mvot_grow_cap and
 * mvot_realloc_n. */
enum mvot_status mvot_grow(void *pp, size_t *cap, size_t need, size_t elem, size_t max,
                           struct mvot_error *err);

/* mvot_grow with elem = sizeof **pp (pp must be a pointer to a typed pointer). */
#define MVOT_GROW(pp, cap, need, max, err) \
    mvot_grow((pp), (cap), (need), sizeof **(pp), (max), (err))

#endif
