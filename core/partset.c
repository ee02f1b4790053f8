/* Loading and checking the parts of a split run (core/partset.h). Shared by the episode
 * merge and the shard merge, so both refuse the same mistakes with the same words. */
#include "core/partset.h"

#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/json.h"

/* Caps what a manifest may claim before anything is allocated from it. */
#define PARTSET_COUNT_MAX 1000000

json_t *mvot_partset_identity(const json_t *man, const char *const *own_keys)
{
    json_t *c = json_deep_copy(man);
    if (c) {
        json_object_del(c, "part");
        for (size_t i = 0; own_keys && own_keys[i]; i++)
            json_object_del(c, own_keys[i]);
    }
    return c;
}

/* The first top-level key whose value differs (for the error message). */
static const char *first_difference(const json_t *a, const json_t *b)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)a, key, v)
    {
        if (!json_equal(v, json_object_get(b, key)))
            return key;
    }
    json_object_foreach((json_t *)b, key, v)
    {
        if (!json_object_get(a, key))
            return key;
    }
    return "?";
}

static enum mvot_status load_one(const char *dir, const char *format, const char *const *own_keys,
                                 struct mvot_part_in *p, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const char *fmt = NULL;
    p->dir = dir;
    p->manifest_path = mvot_io_join(dir, "manifest.json");
    MVOT_FAIL_IF(!p->manifest_path, err, MVOT_ERR_NOMEM, dir, "out of memory");
    const char *path = p->manifest_path;
    MVOT_TRY(mvot_json_load_file(path, &p->man, err));
    MVOT_TRY(mvot_json_get_str(p->man, "format", path, &fmt, err));
    MVOT_FAIL_IF(strcmp(fmt, format) != 0, err, MVOT_ERR_INVALID, path,
                 "format \"%s\" is not a part (\"%s\"); only the part folders of one split run "
                 "merge",
                 fmt, format);
    MVOT_TRY(mvot_json_get_object(p->man, "part", path, &p->part, err));
    MVOT_TRY(mvot_json_get_int(p->part, "index", path, &p->index, err));
    MVOT_TRY(mvot_json_get_int(p->part, "count", path, &p->count, err));
    MVOT_CORRUPT_IF(
        p->count < 1 || p->count > PARTSET_COUNT_MAX || p->index < 0 || p->index >= p->count, err,
        path, "part %lld/%lld is out of range", (long long)p->index, (long long)p->count);
    p->ident = mvot_partset_identity(p->man, own_keys);
    MVOT_FAIL_IF(!p->ident, err, MVOT_ERR_NOMEM, path, "out of memory");
cleanup:
    return st;
}

/* The first of keys whose values differ between the part objects, or NULL. */
static const char *part_difference(const json_t *a, const json_t *b, const char *const *keys)
{
    for (size_t i = 0; keys && keys[i]; i++)
        if (!json_equal(json_object_get(a, keys[i]), json_object_get(b, keys[i])))
            return keys[i];
    return NULL;
}

enum mvot_status mvot_partset_load(const char *const *dirs, size_t n, const char *format,
                                   const char *const *own_keys, const char *const *shared_part_keys,
                                   struct mvot_partset *ps, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    memset(ps, 0, sizeof *ps);
    MVOT_FAIL_IF(n == 0, err, MVOT_ERR_INVALID, "merge", "no part folders given");
    ps->in = calloc(n, sizeof *ps->in);
    MVOT_FAIL_IF(!ps->in, err, MVOT_ERR_NOMEM, "merge", "out of memory");
    ps->n = n;
    for (size_t k = 0; k < n; k++)
        MVOT_TRY(load_one(dirs[k], format, own_keys, &ps->in[k], err));
    struct mvot_part_in *in = ps->in;
    ps->count = in[0].count;
    for (size_t k = 1; k < n; k++) {
        MVOT_FAIL_IF(in[k].count != ps->count, err, MVOT_ERR_INVALID, in[k].dir,
                     "part of %lld, but %s is a part of %lld: not the same run",
                     (long long)in[k].count, in[0].dir, (long long)ps->count);
        const char *pd = part_difference(in[k].part, in[0].part, shared_part_keys);
        MVOT_FAIL_IF(pd || !json_equal(in[k].ident, in[0].ident), err, MVOT_ERR_INVALID, in[k].dir,
                     "not the same run as %s (field \"%s%s\" differs)", in[0].dir,
                     pd ? "part." : "", pd ? pd : first_difference(in[k].ident, in[0].ident));
    }
    ps->slot = calloc((size_t)ps->count, sizeof *ps->slot);
    MVOT_FAIL_IF(!ps->slot, err, MVOT_ERR_NOMEM, "merge", "out of memory");
    for (size_t k = 0; k < n; k++) {
        struct mvot_part_in *p = &in[k];
        MVOT_FAIL_IF(ps->slot[p->index], err, MVOT_ERR_INVALID, p->dir,
                     "part %lld/%lld is given twice (also %s)", (long long)p->index,
                     (long long)ps->count, ps->slot[p->index]->dir);
        ps->slot[p->index] = p;
    }
    for (int64_t i = 0; i < ps->count; i++)
        MVOT_FAIL_IF(!ps->slot[i], err, MVOT_ERR_INVALID, "merge",
                     "part %lld/%lld is missing (%zu of %lld parts given)", (long long)i,
                     (long long)ps->count, n, (long long)ps->count);
cleanup:
    return st;
}

void mvot_partset_free(struct mvot_partset *ps)
{
    for (size_t k = 0; ps->in && k < ps->n; k++) {
        free(ps->in[k].manifest_path);
        json_decref(ps->in[k].man);
        json_decref(ps->in[k].ident);
    }
    free(ps->in);
    free(ps->slot);
    memset(ps, 0, sizeof *ps);
}
