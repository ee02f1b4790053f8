/* Sample lifetime helpers. */
#include <stdlib.h>
#include <string.h>

#include "shards/reader.h"

void mvot_sample_free(struct mvot_sample *s)
{
    if (!s)
        return;
    free(s->key);
    free(s->tokens);
    free(s->spans);
    json_decref(s->meta);
    for (uint32_t i = 0; i < s->n_png; i++)
        free(s->png[i]);
    free(s->png);
    free(s->png_len);
    memset(s, 0, sizeof *s);
}
