/* Shared by the checkpoint tests: writes a tensor list as a Hugging Face style sharded
 * checkpoint (shard files model-0000i-of-0000n.safetensors written with our own writer, and
 * a model.safetensors.index.json whose weight_map names each tensor's file), and splits an
 * existing single-file checkpoint that way. Header-only (static functions). */
#ifndef MVOT_TESTS_CKPT_FIXTURE_H
#define MVOT_TESTS_CKPT_FIXTURE_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/json.h"
#include "core/safetensors.h"

/* Writes t[0..n) into dir as n_shards files, tensor i going to shard shard_of[i] (or i mod
 * n_shards when shard_of is NULL), plus the index. Returns 0 on success. */
static inline int ckfx_write_sharded(const char *dir, const struct mvot_tensor_out *t, size_t n,
                                     const int *shard_of, int n_shards)
{
    struct mvot_error err = {0};
    json_t *map = json_object(), *index = json_object();
    struct mvot_tensor_out *part = calloc(n ? n : 1, sizeof *part);
    int rc = part && map && index ? 0 : -1;
    uint64_t total = 0;
    for (int s = 0; rc == 0 && s < n_shards; s++) {
        char file[64];
        size_t k = 0;
        snprintf(file, sizeof file, "model-%05d-of-%05d.safetensors", s + 1, n_shards);
        for (size_t i = 0; i < n; i++)
            if ((shard_of ? shard_of[i] : (int)(i % (size_t)n_shards)) == s) {
                part[k++] = t[i];
                json_object_set_new(map, t[i].name, json_string(file));
                int64_t numel = 1;
                for (int d = 0; d < t[i].ndim; d++)
                    numel *= t[i].shape[d];
                total += (uint64_t)numel * mvot_dtype_size(t[i].dtype);
            }
        char *path = mvot_io_join(dir, file);
        if (!path || mvot_st_write(path, part, k, NULL, &err) != MVOT_OK) {
            fprintf(stderr, "ckfx: %s\n", err.msg);
            rc = -1;
        }
        free(path);
    }
    if (rc == 0) {
        json_object_set_new(index, "metadata", json_pack("{s:I}", "total_size", (json_int_t)total));
        json_object_set(index, "weight_map", map);
        char *path = mvot_io_join(dir, "model.safetensors.index.json");
        if (!path || mvot_json_write_file(path, index, &err) != MVOT_OK) {
            fprintf(stderr, "ckfx: %s\n", err.msg);
            rc = -1;
        }
        free(path);
    }
    json_decref(map);
    json_decref(index);
    free(part);
    return rc;
}

/* Splits the single file src into n_shards shards (round robin over its tensors) in dir. */
static inline int ckfx_split(const char *src, const char *dir, int n_shards)
{
    struct mvot_error err = {0};
    struct mvot_safetensors *st = NULL;
    if (mvot_st_open(src, &st, &err) != MVOT_OK) {
        fprintf(stderr, "ckfx: %s\n", err.msg);
        return -1;
    }
    size_t n = mvot_st_count(st);
    struct mvot_tensor_out *t = calloc(n ? n : 1, sizeof *t);
    int rc = t ? 0 : -1;
    for (size_t i = 0; t && i < n; i++) {
        const struct mvot_tensor *x = mvot_st_at(st, i);
        t[i].name = x->name;
        t[i].dtype = x->dtype;
        t[i].ndim = x->ndim;
        memcpy(t[i].shape, x->shape, sizeof t[i].shape);
        t[i].data = x->data;
    }
    if (rc == 0 && (mvot_io_mkdirs(dir, &err) != MVOT_OK ||
                    ckfx_write_sharded(dir, t, n, NULL, n_shards) != 0))
        rc = -1;
    free(t);
    mvot_st_close(st);
    return rc;
}

#endif
