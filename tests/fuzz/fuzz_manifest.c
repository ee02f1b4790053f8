/* Fuzz target for the shard manifest (docs/manifest.md) as its strictest reader, verify
 * (shards/verify.h), sees it: the input is a shard directory (layout in fuzz_shard_dir.h),
 * mostly mutated in its manifest.json. Checks: verify runs to a report unless memory runs
 * out; the report is well formed (one-line problems, "ok" exactly when there are none); and
 * a directory verify accepts is one the reader (shards/reader.h) reads in full. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_shard_dir.h"
#include "shards/reader.h"
#include "shards/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_report(const json_t *rep)
{
    const json_t *problems = json_object_get(rep, "problems");
    const json_t *ok = json_object_get(rep, "ok");
    if (!json_is_array(problems) || !json_is_boolean(ok) ||
        !json_is_integer(json_object_get(rep, "n_problems")) ||
        json_integer_value(json_object_get(rep, "n_problems")) <
            (json_int_t)json_array_size(problems) ||
        json_is_true(ok) != (json_array_size(problems) == 0))
        abort();
    for (size_t i = 0; i < json_array_size(problems); i++) {
        const char *p = json_string_value(json_array_get(problems, i));
        if (!p || !p[0] || strchr(p, '\n'))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fz_shard_dir(data, size);
    json_t *rep = NULL;
    struct mvot_error err = {0};
    if (mvot_shards_verify(dir, NULL, NULL, &rep, &err) != MVOT_OK) {
        if (!err.msg[0] || rep)
            abort();
        return 0;
    }
    check_report(rep);
    if (json_is_true(json_object_get(rep, "ok"))) {
        struct mvot_shard_set *set = NULL;
        if (mvot_shard_set_open(dir, &set, &err) != MVOT_OK)
            abort();
        for (size_t i = 0; i < mvot_shard_set_count(set) && i < 64; i++) {
            struct mvot_sample s;
            if (mvot_shard_set_get(set, i, &s, &err) != MVOT_OK)
                abort();
            mvot_sample_free(&s);
        }
        mvot_shard_set_close(set);
    }
    json_decref(rep);
    return 0;
}
