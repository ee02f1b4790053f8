/* Growable id lists used by every encoder. */
#include <stdlib.h>
#include <string.h>

#include "tokenize/bpe.h"

void mvot_ids_free(struct mvot_ids *ids)
{
    if (!ids)
        return;
    free(ids->v);
    memset(ids, 0, sizeof *ids);
}

enum mvot_status mvot_ids_append(struct mvot_ids *ids, const int32_t *v, size_t n)
{
    if (n > SIZE_MAX / 8 - ids->n)
        return MVOT_ERR_NOMEM;
    if (ids->n + n > ids->cap) {
        size_t nc = ids->cap ? ids->cap : 64;
        while (nc < ids->n + n)
            nc *= 2;
        int32_t *nv = realloc(ids->v, nc * sizeof *nv);
        if (!nv)
            return MVOT_ERR_NOMEM;
        ids->v = nv;
        ids->cap = nc;
    }
    if (n)
        memcpy(ids->v + ids->n, v, n * sizeof *v);
    ids->n += n;
    return MVOT_OK;
}

enum mvot_status mvot_ids_push(struct mvot_ids *ids, int32_t id)
{
    return mvot_ids_append(ids, &id, 1);
}
