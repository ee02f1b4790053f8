/* Checkpoint layouts (checkpoint.h): one file, an index JSON with its shard files, or a folder
 * holding either. The index is validated once at open (an object "weight_map" of string file
 * names that stay in the index's folder); shards are opened lazily and kept until close. */
#include "core/checkpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"

#define INDEX_NAME "model.safetensors.index.json"
#define SINGLE_NAME "model.safetensors"

struct shard {
    const char *file; /* borrowed from the index JSON */
    char *path;       /* folder + file */
    struct mvot_safetensors *st;
};

struct mvot_checkpoint {
    char *path;                      /* as given */
    char *index_path;                /* the index file, for an index layout */
    struct mvot_safetensors *single; /* a file layout */
    json_t *index;                   /* the parsed index */
    const json_t *weight_map;        /* borrowed from index */
    struct shard *shards;            /* distinct files of the weight map */
    size_t n_shards;
};

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* A weight_map value must name a file in the index's own folder. */
static int plain_file_name(const char *s)
{
    return s[0] && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
           strlen(s) <= 255;
}

static enum mvot_status open_index(struct mvot_checkpoint *c, const char *ipath,
                                   struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint8_t *buf = NULL;
    size_t len = 0;
    char *dir = NULL;
    c->index_path = strdup(ipath);
    MVOT_FAIL_IF(!c->index_path, err, MVOT_ERR_NOMEM, ipath, "out of memory");
    MVOT_TRY(mvot_io_read_file(ipath, MVOT_CKPT_MAX_INDEX_BYTES, &buf, &len, err));
    MVOT_TRY(mvot_json_load_buf((const char *)buf, len, ipath, &c->index, err));
    c->weight_map = json_object_get(c->index, "weight_map");
    MVOT_CORRUPT_IF(!json_is_object(c->weight_map), err, ipath,
                    "no \"weight_map\" object: not a safetensors index");
    size_t n = json_object_size(c->weight_map);
    c->shards = calloc(n ? n : 1, sizeof *c->shards);
    MVOT_FAIL_IF(!c->shards, err, MVOT_ERR_NOMEM, ipath, "out of memory");
    const char *slash = strrchr(ipath, '/');
    dir = slash ? strndup(ipath, (size_t)(slash - ipath)) : strdup(".");
    MVOT_FAIL_IF(!dir, err, MVOT_ERR_NOMEM, ipath, "out of memory");
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)c->weight_map, name, v)
    {
        const char *file = json_string_value(v);
        MVOT_CORRUPT_IF(!file || !plain_file_name(file), err, ipath,
                        "weight_map[\"%s\"]: not a file name in the index's folder", name);
        size_t k = 0;
        while (k < c->n_shards && strcmp(c->shards[k].file, file) != 0)
            k++;
        if (k == c->n_shards) {
            c->shards[k].file = file;
            c->shards[k].path = mvot_io_join(dir, file);
            MVOT_FAIL_IF(!c->shards[k].path, err, MVOT_ERR_NOMEM, ipath, "out of memory");
            c->n_shards++;
        }
    }
cleanup:
    free(buf);
    free(dir);
    return st;
}

enum mvot_status mvot_checkpoint_open(const char *path, struct mvot_checkpoint **out,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *ipath = NULL, *spath = NULL;
    *out = NULL;
    struct mvot_checkpoint *c = calloc(1, sizeof *c);
    MVOT_FAIL_IF(!c, err, MVOT_ERR_NOMEM, path, "out of memory");
    c->path = strdup(path);
    MVOT_FAIL_IF(!c->path, err, MVOT_ERR_NOMEM, path, "out of memory");
    struct stat sb;
    MVOT_FAIL_IF(stat(path, &sb) != 0, err, MVOT_ERR_IO, path, "cannot open: %s", strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        ipath = mvot_io_join(path, INDEX_NAME);
        spath = mvot_io_join(path, SINGLE_NAME);
        MVOT_FAIL_IF(!ipath || !spath, err, MVOT_ERR_NOMEM, path, "out of memory");
        if (mvot_io_exists(ipath))
            MVOT_TRY(open_index(c, ipath, err));
        else if (mvot_io_exists(spath))
            MVOT_TRY(mvot_st_open(spath, &c->single, err));
        else
            MVOT_FAIL_IF(1, err, MVOT_ERR_NOTFOUND, path,
                         "folder has neither " INDEX_NAME " nor " SINGLE_NAME);
    } else if (ends_with(path, ".json")) {
        MVOT_TRY(open_index(c, path, err));
    } else {
        MVOT_TRY(mvot_st_open(path, &c->single, err));
    }
    *out = c;
    c = NULL;
cleanup:
    free(ipath);
    free(spath);
    mvot_checkpoint_close(c);
    return st;
}

void mvot_checkpoint_close(struct mvot_checkpoint *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_shards; i++) {
        mvot_st_close(c->shards[i].st);
        free(c->shards[i].path);
    }
    free(c->shards);
    mvot_st_close(c->single);
    json_decref(c->index);
    free(c->index_path);
    free(c->path);
    free(c);
}

enum mvot_checkpoint_layout mvot_checkpoint_layout(const struct mvot_checkpoint *c)
{
    return c->single ? MVOT_CKPT_FILE : MVOT_CKPT_INDEX;
}

const char *mvot_checkpoint_path(const struct mvot_checkpoint *c)
{
    return c->path;
}

static struct shard *shard_of(const struct mvot_checkpoint *c, const char *name)
{
    const char *file = json_string_value(json_object_get(c->weight_map, name));
    for (size_t k = 0; file && k < c->n_shards; k++)
        if (strcmp(c->shards[k].file, file) == 0)
            return &c->shards[k];
    return NULL;
}

const char *mvot_checkpoint_file_of(const struct mvot_checkpoint *c, const char *name)
{
    if (c->single)
        return mvot_st_path(c->single);
    const struct shard *s = shard_of(c, name);
    return s ? s->path : c->index_path;
}

const json_t *mvot_checkpoint_metadata(const struct mvot_checkpoint *c)
{
    return c->single ? mvot_st_metadata(c->single) : NULL;
}

enum mvot_status mvot_checkpoint_find(struct mvot_checkpoint *c, const char *name,
                                      const struct mvot_tensor **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    *out = NULL;
    if (c->single) {
        *out = mvot_st_find(c->single, name);
        return MVOT_OK;
    }
    struct shard *s = shard_of(c, name);
    if (!s)
        return MVOT_OK;
    if (!s->st) {
        MVOT_FAIL_IF(!mvot_io_exists(s->path), err, MVOT_ERR_IO, s->path,
                     "missing: %s maps %s to this file", c->index_path, name);
        MVOT_TRY(mvot_st_open(s->path, &s->st, err));
    }
    *out = mvot_st_find(s->st, name);
    MVOT_CORRUPT_IF(!*out, err, s->path, "no tensor %s, though %s maps it here", name,
                    c->index_path);
cleanup:
    return st;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

enum mvot_status mvot_checkpoint_names(const struct mvot_checkpoint *c, const char *prefix,
                                       const char ***names, size_t *n, struct mvot_error *err)
{
    size_t cap = c->single ? mvot_st_count(c->single) : json_object_size(c->weight_map);
    size_t pl = strlen(prefix), k = 0;
    const char **v = malloc((cap ? cap : 1) * sizeof *v);
    *names = NULL;
    *n = 0;
    if (!v)
        return mvot_error_set(err, MVOT_ERR_NOMEM, c->path, "out of memory");
    if (c->single) {
        for (size_t i = 0; i < cap; i++) {
            const char *s = mvot_st_at(c->single, i)->name;
            if (strncmp(s, prefix, pl) == 0)
                v[k++] = s;
        }
    } else {
        const char *s;
        const json_t *x;
        json_object_foreach((json_t *)c->weight_map, s, x)
        {
            if (strncmp(s, prefix, pl) == 0)
                v[k++] = s;
        }
    }
    qsort(v, k, sizeof *v, cmp_name);
    *names = v;
    *n = k;
    return MVOT_OK;
}

static void hash_u64(struct mvot_hasher *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    mvot_hasher_update(h, b, 8);
}

enum mvot_status mvot_checkpoint_hash_tensors(struct mvot_checkpoint *c, const char *prefix,
                                              uint64_t *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const char **names = NULL;
    size_t n = 0;
    struct mvot_hasher h = {0};
    MVOT_TRY(mvot_checkpoint_names(c, prefix, &names, &n, err));
    MVOT_FAIL_IF(mvot_hasher_init(&h) != MVOT_OK, err, MVOT_ERR_NOMEM, c->path, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const struct mvot_tensor *t = NULL;
        MVOT_TRY(mvot_checkpoint_find(c, names[i], &t, err));
        const char *dt = mvot_dtype_name(t->dtype);
        mvot_hasher_update(&h, names[i], strlen(names[i]) + 1);
        mvot_hasher_update(&h, dt, strlen(dt) + 1);
        hash_u64(&h, (uint64_t)t->ndim);
        for (int d = 0; d < t->ndim; d++)
            hash_u64(&h, (uint64_t)t->shape[d]);
        mvot_hasher_update(&h, t->data, t->nbytes);
    }
    *out = mvot_hasher_digest(&h);
cleanup:
    mvot_hasher_free(&h);
    free(names);
    return st;
}
