/* Manifest statistics and shard records (docs/manifest.md). Counters live in nested JSON
 * objects; sums are order-independent, so totals over saved shard records equal totals of
 * an uninterrupted run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#include "core/hash.h"
#include "shards/manifest.h"

json_t *mvot_stats_new(void)
{
    json_t *s = json_object();
    static const char *const counters[] = {"samples",      "episodes",         "dropped",
                                           "truncated",    "tokens",           "text_tokens",
                                           "image_tokens", "special_tokens",   "supervised_tokens",
                                           "images",       "max_sample_tokens"};
    for (size_t i = 0; i < sizeof counters / sizeof *counters; i++)
        json_object_set_new(s, counters[i], json_integer(0));
    json_object_set_new(s, "kinds", json_object());
    json_object_set_new(s, "tasks", json_object());
    json_object_set_new(s, "answers", json_object());
    return s;
}

void mvot_stats_add(json_t *stats, int64_t n, const char *const *keys)
{
    json_t *o = stats;
    for (size_t i = 0; keys[i]; i++) {
        json_t *c = json_object_get(o, keys[i]);
        if (!keys[i + 1]) {
            int64_t v = json_is_integer(c) ? (int64_t)json_integer_value(c) : 0;
            json_object_set_new(o, keys[i], json_integer(v + n));
            return;
        }
        if (!json_is_object(c)) {
            c = json_object();
            json_object_set_new(o, keys[i], c);
        }
        o = c;
    }
}

void mvot_stats_max(json_t *stats, int64_t v, const char *key)
{
    json_t *c = json_object_get(stats, key);
    if (!json_is_integer(c) || json_integer_value(c) < v)
        json_object_set_new(stats, key, json_integer(v));
}

void mvot_stats_merge(json_t *dst, const json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v)
    {
        json_t *d = json_object_get(dst, k);
        if (json_is_integer(v)) {
            int64_t a = json_is_integer(d) ? (int64_t)json_integer_value(d) : 0;
            int64_t b = (int64_t)json_integer_value(v);
            int64_t r = strncmp(k, "max_", 4) == 0 ? (a > b ? a : b) : a + b;
            json_object_set_new(dst, k, json_integer(r));
        } else if (json_is_object(v)) {
            if (!json_is_object(d)) {
                d = json_object();
                json_object_set_new(dst, k, d);
            }
            mvot_stats_merge(d, v);
        }
    }
}

static json_t *hex(uint64_t h)
{
    char b[17];
    mvot_hash_hex(h, b);
    return json_string(b);
}

json_t *mvot_shard_record(const char *file, const char *split, uint32_t block,
                          uint64_t first_sample, uint64_t end_ordinal,
                          const struct mvot_shard_info *info, const json_t *stats)
{
    json_t *r = json_object();
    json_object_set_new(r, "file", json_string(file));
    json_object_set_new(r, "split", json_string(split));
    json_object_set_new(r, "block", json_integer(block));
    json_object_set_new(r, "index_xxh3", hex(info->index_xxh3));
    json_object_set_new(r, "samples", json_integer((json_int_t)info->samples));
    json_object_set_new(r, "first_sample", json_integer((json_int_t)first_sample));
    json_object_set_new(r, "end_ordinal", json_integer((json_int_t)end_ordinal));
    json_object_set_new(r, "tokens", json_integer((json_int_t)info->tokens));
    json_object_set_new(r, "frames", json_integer((json_int_t)info->frames));
    json_object_set_new(r, "raw_bytes", json_integer((json_int_t)info->raw_bytes));
    json_object_set_new(r, "compressed_bytes", json_integer((json_int_t)info->compressed_bytes));
    json_object_set_new(r, "raw_xxh3", hex(info->raw_xxh3));
    json_object_set_new(r, "compressed_xxh3", hex(info->compressed_xxh3));
    json_object_set_new(r, "stats", json_deep_copy(stats));
    return r;
}

int mvot_manifest_hash(const json_t *obj, const char *key, uint64_t *out)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? mvot_hash_parse_hex(s, out) : -1;
}

int mvot_shard_file_name(char *buf, size_t cap, const char *split, uint32_t block, uint32_t n)
{
    int r = snprintf(buf, cap, "%s/shard-%05u-%06u.tar.zst", split, block, n);
    return r < 0 || (size_t)r >= cap ? -1 : r;
}

int mvot_shard_record_name(const json_t *record, uint32_t *block, uint32_t *n)
{
    const char *file = json_string_value(json_object_get(record, "file"));
    const char *split = json_string_value(json_object_get(record, "split"));
    json_t *b = json_object_get(record, "block");
    if (!file || !split || !json_is_integer(b) || json_integer_value(b) < 0 ||
        json_integer_value(b) > 99999)
        return -1;
    size_t sl = strlen(split);
    const char *num = file + sl + 1 + 6 + 5 + 1; /* "{split}/shard-{block:05}-" */
    char *end = NULL;
    if (strlen(file) != sl + 1 + 6 + 5 + 1 + 6 + 8 || strncmp(file, split, sl) != 0 ||
        num[0] < '0' || num[0] > '9')
        return -1;
    unsigned long v = strtoul(num, &end, 10);
    char want[64];
    if (end != num + 6 ||
        mvot_shard_file_name(want, sizeof want, split, (uint32_t)json_integer_value(b),
                             (uint32_t)v) < 0 ||
        strcmp(want, file) != 0)
        return -1;
    *block = (uint32_t)json_integer_value(b);
    *n = (uint32_t)v;
    return 0;
}

int mvot_shard_file_like(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "shard-", 6) == 0 || (n > 8 && strcmp(name + n - 8, ".tar.zst") == 0);
}

enum mvot_status mvot_manifest_digest(const json_t *manifest, uint64_t *out)
{
    json_t *c = json_copy((json_t *)manifest);
    if (!c)
        return MVOT_ERR_NOMEM;
    json_object_del(c, "manifest_xxh3");
    char *s = mvot_json_dumps(c);
    json_decref(c);
    if (!s)
        return MVOT_ERR_NOMEM;
    *out = mvot_hash64(s, strlen(s));
    free(s);
    return MVOT_OK;
}

enum mvot_status mvot_manifest_seal(json_t *manifest)
{
    uint64_t h = 0;
    enum mvot_status st = mvot_manifest_digest(manifest, &h);
    if (st == MVOT_OK)
        json_object_set_new(manifest, "manifest_xxh3", hex(h));
    return st;
}

enum mvot_status mvot_manifest_check(const json_t *manifest, const char *path,
                                     struct mvot_error *err)
{
    uint64_t want = 0, got = 0;
    if (mvot_manifest_hash(manifest, "manifest_xxh3", &want) != 0)
        return mvot_error_set(err, MVOT_ERR_MISMATCH, path, "manifest_xxh3 is missing");
    if (mvot_manifest_digest(manifest, &got) != MVOT_OK)
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
    if (got != want) {
        char a[17], b[17];
        mvot_hash_hex(want, a);
        mvot_hash_hex(got, b);
        return mvot_error_set(err, MVOT_ERR_MISMATCH, path,
                              "manifest_xxh3 %s does not match its content (%s): the manifest "
                              "was edited or damaged",
                              a, b);
    }
    return MVOT_OK;
}

json_t *mvot_manifest_split_totals(const json_t *records)
{
    json_t *splits = json_object();
    for (size_t i = 0; i < json_array_size(records); i++) {
        json_t *r = json_array_get(records, i);
        const char *sp = json_string_value(json_object_get(r, "split"));
        if (!sp)
            continue;
        json_t *t = json_object_get(splits, sp);
        if (!t) {
            t = mvot_stats_new();
            json_object_set_new(t, "shards", json_integer(0));
            json_object_set_new(t, "raw_bytes", json_integer(0));
            json_object_set_new(t, "compressed_bytes", json_integer(0));
            json_object_set_new(splits, sp, t);
        }
        mvot_stats_merge(t, json_object_get(r, "stats"));
        mvot_stats_add(t, 1, (const char *const[]){"shards", NULL});
        mvot_stats_add(t, json_integer_value(json_object_get(r, "raw_bytes")),
                       (const char *const[]){"raw_bytes", NULL});
        mvot_stats_add(t, json_integer_value(json_object_get(r, "compressed_bytes")),
                       (const char *const[]){"compressed_bytes", NULL});
    }
    return splits;
}

json_t *mvot_manifest_task_totals(const json_t *stats)
{
    json_t *out = json_object();
    const char *task, *split, *ans;
    json_t *v, *w, *x;
    json_object_foreach(json_object_get(stats, "tasks"), task, v)
    {
        json_object_foreach(v, split, w)
        {
            mvot_stats_add(out, json_integer_value(w),
                           (const char *const[]){task, "samples", NULL});
        }
    }
    json_object_foreach(json_object_get(stats, "answers"), task, v)
    {
        json_object_foreach(v, split, w)
        {
            json_object_foreach(w, ans, x)
            {
                mvot_stats_add(out, json_integer_value(x),
                               (const char *const[]){task, "episodes", NULL});
            }
        }
    }
    return out;
}

enum mvot_status mvot_manifest_complete(json_t *manifest, json_t *records, const json_t *leftover)
{
    json_t *totals = mvot_stats_new(), *stats = json_object();
    if (!totals || !stats) {
        json_decref(totals);
        json_decref(stats);
        return MVOT_ERR_NOMEM;
    }
    uint64_t raw = 0, comp = 0;
    for (size_t i = 0; i < json_array_size(records); i++) {
        json_t *r = json_array_get(records, i);
        mvot_stats_merge(totals, json_object_get(r, "stats"));
        raw += (uint64_t)json_integer_value(json_object_get(r, "raw_bytes"));
        comp += (uint64_t)json_integer_value(json_object_get(r, "compressed_bytes"));
    }
    if (leftover)
        mvot_stats_merge(totals, leftover);
    /* the per-key objects go to "stats"; the counters stay in "totals" */
    static const char *const objects[] = {"kinds", "tasks", "answers"};
    for (size_t i = 0; i < 3; i++) {
        json_object_set(stats, objects[i], json_object_get(totals, objects[i]));
        json_object_del(totals, objects[i]);
    }
    json_object_set_new(totals, "raw_bytes", json_integer((json_int_t)raw));
    json_object_set_new(totals, "compressed_bytes", json_integer((json_int_t)comp));
    json_object_set_new(totals, "shards", json_integer((json_int_t)json_array_size(records)));
    json_object_set_new(manifest, "totals", totals);
    json_object_set_new(manifest, "splits", mvot_manifest_split_totals(records));
    json_object_set_new(manifest, "task_totals", mvot_manifest_task_totals(stats));
    json_object_set_new(manifest, "stats", stats);
    json_object_set(manifest, "shards", records);
    return mvot_manifest_seal(manifest);
}
