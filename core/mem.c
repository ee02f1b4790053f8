/* Capped growth of dynamic arrays (core/mem.h). The array pointer is read and written through
 * memcpy, so one function serves every element type without breaking strict aliasing. */
#include "core/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t mvot_grow_cap(size_t cap, size_t need, size_t max)
{
    if (need <= cap)
        return cap;
    if (need > max)
        return 0;
    size_t nc = cap ? cap : 16;
    while (nc < need)
        nc = nc > max / 2 ? max : nc * 2;
    return nc < max ? nc : max;
}

enum mvot_status mvot_realloc_n(void *pp, size_t n, size_t elem)
{
    if (elem && n > SIZE_MAX / elem)
        return MVOT_ERR_NOMEM;
    void *old, *p;
    size_t bytes = n * elem;
    memcpy(&old, pp, sizeof old);
    p = realloc(old, bytes ? bytes : 1); /* realloc(p, 0) may free p */
    if (!p)
        return MVOT_ERR_NOMEM;
    memcpy(pp, &p, sizeof p);
    return MVOT_OK;
}

enum mvot_status mvot_grow(void *pp, size_t *cap, size_t need, size_t elem, size_t max,
                           struct mvot_error *err)
{
    if (need <= *cap)
        return MVOT_OK;
    size_t lim = elem ? SIZE_MAX / elem : SIZE_MAX;
    if (max < lim)
        lim = max;
    size_t nc = mvot_grow_cap(*cap, need, lim);
    if (!nc)
        return mvot_error_set(err, MVOT_ERR_NOMEM, NULL, "%zu elements is over the limit of %zu",
                              need, lim);
    if (mvot_realloc_n(pp, nc, elem) != MVOT_OK)
        return mvot_error_set(err, MVOT_ERR_NOMEM, NULL, "out of memory growing an array to %zu",
                              nc);
    *cap = nc;
    return MVOT_OK;
}
