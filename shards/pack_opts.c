/* Pack options (shards/pack.h): defaults, validation, and the one JSON form used by the
 * manifest's "options", `mvot build`'s config "pack" section and retokenize (which reads a
 * source manifest's options). Every consumer goes through these functions, so a field is
 * named, typed and range-checked in one place. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "shards/pack.h"

void mvot_pack_opts_default(struct mvot_pack_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = MVOT_PACK_MVOT;
    o->image_seq_length = 1024;
    o->shard_samples = 4096;
    o->shard_bytes = 256ull << 20;
    o->length_policy = MVOT_LENGTH_DROP;
    o->zstd_level = 3;
    o->store_frames = 1;
}

const char *mvot_length_policy_name(enum mvot_length_policy p)
{
    return p == MVOT_LENGTH_TRUNCATE ? "truncate" : "drop";
}

int mvot_length_policy_parse(const char *s, enum mvot_length_policy *out)
{
    if (strcmp(s, "drop") == 0)
        *out = MVOT_LENGTH_DROP;
    else if (strcmp(s, "truncate") == 0)
        *out = MVOT_LENGTH_TRUNCATE;
    else
        return -1;
    return 0;
}

enum mvot_status mvot_pack_opts_validate(const struct mvot_pack_opts *o, const char *where,
                                         struct mvot_error *err)
{
    if ((unsigned)o->mode > MVOT_PACK_DIRECT)
        return mvot_error_set(err, MVOT_ERR_INVALID, where, "mode %d is unknown", (int)o->mode);
    if (o->image_seq_length != 1024 && o->image_seq_length != 256 && o->image_seq_length != 64)
        return mvot_error_set(err, MVOT_ERR_INVALID, where,
                              "image_seq_length %u (want 1024, 256 or 64)", o->image_seq_length);
    if (o->augment > 16)
        return mvot_error_set(err, MVOT_ERR_INVALID, where, "augment %u (want 0..16)", o->augment);
    if (o->seed > INT64_MAX)
        return mvot_error_set(err, MVOT_ERR_INVALID, where, "seed exceeds 2^63-1");
    if (o->shard_bytes > INT64_MAX)
        return mvot_error_set(err, MVOT_ERR_INVALID, where, "shard_bytes exceeds 2^63-1");
    if (o->part_count && o->part_index >= o->part_count)
        return mvot_error_set(err, MVOT_ERR_INVALID, where,
                              "part %u of %u (want an index below "
                              "the count)",
                              o->part_index, o->part_count);
    if ((unsigned)o->length_policy > MVOT_LENGTH_TRUNCATE)
        return mvot_error_set(err, MVOT_ERR_INVALID, where, "length_policy %d is unknown",
                              (int)o->length_policy);
    if (o->zstd_level < 1 || o->zstd_level > 19)
        return mvot_error_set(err, MVOT_ERR_INVALID, where, "zstd_level %d (want 1..19)",
                              o->zstd_level);
    return MVOT_OK;
}

char *mvot_pack_opts_to_json(const struct mvot_pack_opts *o)
{
    json_t *j = json_object();
    if (!j)
        return NULL;
    json_object_set_new(j, "mode", json_string(mvot_pack_mode_name(o->mode)));
    json_object_set_new(j, "image_seq_length", json_integer(o->image_seq_length));
    json_object_set_new(j, "shard_samples", json_integer(o->shard_samples));
    json_object_set_new(j, "shard_bytes", json_integer((json_int_t)o->shard_bytes));
    json_object_set_new(j, "augment", json_integer(o->augment));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(j, "max_length", json_integer(o->max_length));
    json_object_set_new(j, "length_policy", json_string(mvot_length_policy_name(o->length_policy)));
    json_object_set_new(j, "zstd_level", json_integer(o->zstd_level));
    json_object_set_new(j, "store_frames", json_boolean(o->store_frames));
    char *s = mvot_json_dumps(j);
    json_decref(j);
    return s;
}

/* An integer field in [lo, hi]. */
static enum mvot_status get_u64(json_t *v, const char *key, uint64_t lo, uint64_t hi,
                                const char *where, uint64_t *out, struct mvot_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) < lo ||
        (uint64_t)json_integer_value(v) > hi)
        return mvot_error_set(err, MVOT_ERR_INVALID, where,
                              "%s: want an integer in [%" PRIu64 ", %" PRIu64 "]", key, lo, hi);
    *out = (uint64_t)json_integer_value(v);
    return MVOT_OK;
}

enum mvot_status mvot_pack_opts_from_json(const char *json, const char *where,
                                          struct mvot_pack_opts *o, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *j = NULL;
    MVOT_TRY(mvot_json_load_buf(json, strlen(json), where, &j, err));
    MVOT_FAIL_IF(!json_is_object(j), err, MVOT_ERR_INVALID, where, "pack options: want an object");
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        uint64_t u = 0;
        if (strcmp(k, "mode") == 0) {
            MVOT_FAIL_IF(!json_is_string(v) || mvot_pack_mode_parse(json_string_value(v), &o->mode),
                         err, MVOT_ERR_INVALID, where,
                         "mode: want \"mvot\", \"trajectory\", \"cot\" or \"direct\"");
        } else if (strcmp(k, "length_policy") == 0) {
            MVOT_FAIL_IF(!json_is_string(v) ||
                             mvot_length_policy_parse(json_string_value(v), &o->length_policy),
                         err, MVOT_ERR_INVALID, where,
                         "length_policy: want \"drop\" or \"truncate\"");
        } else if (strcmp(k, "store_frames") == 0) {
            MVOT_FAIL_IF(!json_is_boolean(v), err, MVOT_ERR_INVALID, where,
                         "store_frames: want true or false");
            o->store_frames = json_is_true(v);
        } else if (strcmp(k, "image_seq_length") == 0) {
            MVOT_TRY(get_u64(v, k, 64, 1024, where, &u, err));
            o->image_seq_length = (uint32_t)u;
        } else if (strcmp(k, "shard_samples") == 0) {
            MVOT_TRY(get_u64(v, k, 0, UINT32_MAX, where, &u, err));
            o->shard_samples = (uint32_t)u;
        } else if (strcmp(k, "shard_bytes") == 0) {
            MVOT_TRY(get_u64(v, k, 0, INT64_MAX, where, &u, err));
            o->shard_bytes = u;
        } else if (strcmp(k, "augment") == 0) {
            MVOT_TRY(get_u64(v, k, 0, 16, where, &u, err));
            o->augment = (uint32_t)u;
        } else if (strcmp(k, "seed") == 0) {
            MVOT_TRY(get_u64(v, k, 0, INT64_MAX, where, &u, err));
            o->seed = u;
        } else if (strcmp(k, "part") == 0 && json_is_integer(v) && json_integer_value(v) == 0) {
            /* sets written before the part left the options (always 0 there): retokenize
             * still reads them */
        } else if (strcmp(k, "max_length") == 0) {
            MVOT_TRY(get_u64(v, k, 0, UINT32_MAX, where, &u, err));
            o->max_length = (uint32_t)u;
        } else if (strcmp(k, "zstd_level") == 0) {
            MVOT_TRY(get_u64(v, k, 1, 19, where, &u, err));
            o->zstd_level = (int)u;
        } else {
            st = mvot_error_set(err, MVOT_ERR_INVALID, where, "unknown pack option \"%s\"", k);
            goto cleanup;
        }
    }
    MVOT_TRY(mvot_pack_opts_validate(o, where, err));
cleanup:
    json_decref(j);
    return st;
}
