/* Fuzz target for the shard directory reader (shards/reader.h): the input is a whole shard
 * directory (manifest.json plus shard files, layout in fuzz_shard_dir.h), so the seek table,
 * the index frame, the zstd frames, the tar members and the sample JSON are all reached
 * through the public API only. Checks: every failure explains itself; every sample that reads
 * has a key, its arrays, a JSON object and labels that are -100 or its own token; a key read
 * back is found again by lookup; reading past the count is NOTFOUND. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_shard_dir.h"
#include "shards/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sample(struct mvot_shard_set *set, const struct mvot_sample *s)
{
    if (!s->key || !s->key[0] || (s->n_tokens && !s->tokens) || (s->n_spans && !s->spans) ||
        !json_is_object(s->meta) || (s->n_png && (!s->png || !s->png_len)))
        abort();
    int32_t *labels = malloc(s->n_tokens ? s->n_tokens * sizeof *labels : 1);
    if (!labels)
        abort();
    mvot_sample_labels(s, labels);
    for (size_t i = 0; i < s->n_tokens; i++)
        if (labels[i] != -100 && labels[i] != (int32_t)s->tokens[i])
            abort();
    free(labels);
    struct mvot_error err = {0};
    size_t at = 0;
    enum mvot_status st = mvot_shard_set_lookup(set, s->key, &at, &err);
    if (st == MVOT_OK ? at >= mvot_shard_set_count(set) : !err.msg[0])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fz_shard_dir(data, size);
    struct mvot_shard_set *set = NULL;
    struct mvot_error err = {0};
    if (mvot_shard_set_open(dir, &set, &err) != MVOT_OK) {
        if (!err.msg[0] || set)
            abort();
        return 0;
    }
    if (!mvot_shard_set_manifest(set))
        abort();
    size_t n = mvot_shard_set_count(set);
    for (size_t i = 0; i < n && i < 16; i++) {
        struct mvot_sample s;
        memset(&err, 0, sizeof err);
        if (mvot_shard_set_get(set, i, &s, &err) == MVOT_OK)
            check_sample(set, &s);
        else if (!err.msg[0])
            abort();
        mvot_sample_free(&s);
    }
    struct mvot_sample s;
    if (n < SIZE_MAX && mvot_shard_set_get(set, n, &s, &err) != MVOT_ERR_NOTFOUND)
        abort();
    mvot_sample_free(&s);
    memset(&err, 0, sizeof err);
    if (mvot_shard_set_find(set, "no such key", &s, &err) == MVOT_OK || !err.msg[0])
        abort();
    mvot_sample_free(&s);
    mvot_shard_set_close(set);
    return 0;
}
