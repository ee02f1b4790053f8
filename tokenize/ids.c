/* Growable id lists used by every encoder. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
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
    if (MVOT_GROW(&ids->v, &ids->cap, ids->n + n, SIZE_MAX / 8, NULL) != MVOT_OK)
        return MVOT_ERR_NOMEM;
    if (n)
        memcpy(ids->v + ids->n, v, n * sizeof *v);
    ids->n += n;
    return MVOT_OK;
}

enum mvot_status mvot_ids_push(struct mvot_ids *ids, int32_t id)
{
    return mvot_ids_append(ids, &id, 1);
}
