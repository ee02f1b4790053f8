/* Fuzz target for the safetensors reader (core/safetensors.c), which opens codebooks and
 * VQGAN checkpoints. Checks: a failure explains itself; an accepted file's tensors each have
 * a name that finds them again, a shape whose element count times the dtype size is their
 * byte count, data inside the input and not overlapping any other tensor; a float tensor
 * converts to f32 and matches its own shape; the metadata is an object of strings or absent. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp_data(const void *a, const void *b)
{
    const struct mvot_tensor *x = *(const struct mvot_tensor *const *)a;
    const struct mvot_tensor *y = *(const struct mvot_tensor *const *)b;
    return x->data < y->data ? -1 : x->data > y->data;
}

static void check_tensor(const struct mvot_safetensors *st, const struct mvot_tensor *t,
                         const uint8_t *data, size_t size)
{
    if (!t->name || mvot_st_find(st, t->name) != t || t->ndim < 0 || t->ndim > MVOT_ST_MAX_DIMS)
        abort();
    int64_t numel = mvot_tensor_numel(t);
    if (numel < 0 || (uint64_t)numel * mvot_dtype_size(t->dtype) != t->nbytes)
        abort();
    if (t->nbytes && (t->data < data || t->nbytes > size || t->data > data + size - t->nbytes))
        abort();
    struct mvot_error err = {0};
    if (mvot_tensor_expect_shape(t, t->ndim, t->shape, "fuzz", &err) != MVOT_OK)
        abort();
    if (numel > (1 << 16))
        return;
    float *f = malloc(numel ? (size_t)numel * sizeof *f : 1);
    if (!f)
        abort();
    enum mvot_status s = mvot_tensor_to_f32(t, f, &err);
    int is_float = t->dtype == MVOT_DT_F32 || t->dtype == MVOT_DT_F16 || t->dtype == MVOT_DT_BF16;
    if (is_float ? s != MVOT_OK : s == MVOT_OK || !err.msg[0])
        abort();
    free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mvot_safetensors *st = NULL;
    struct mvot_error err = {0};
    if (mvot_st_open_mem(data, size, "fuzz", &st, &err) != MVOT_OK) {
        if (!err.msg[0] || st)
            abort();
        return 0;
    }
    size_t n = mvot_st_count(st);
    const struct mvot_tensor **byoff = malloc((n ? n : 1) * sizeof *byoff);
    if (!byoff)
        abort();
    for (size_t i = 0; i < n; i++) {
        byoff[i] = mvot_st_at(st, i);
        check_tensor(st, byoff[i], data, size);
    }
    qsort(byoff, n, sizeof *byoff, cmp_data);
    for (size_t i = 1; i < n; i++)
        if (byoff[i - 1]->nbytes && byoff[i]->nbytes &&
            byoff[i - 1]->data + byoff[i - 1]->nbytes > byoff[i]->data)
            abort();
    free(byoff);
    const json_t *meta = mvot_st_metadata(st);
    if (meta) {
        const char *k;
        const json_t *v;
        if (!json_is_object(meta))
            abort();
        json_object_foreach((json_t *)meta, k, v)
        {
            if (!k || !json_is_string(v))
                abort();
        }
    }
    if (mvot_st_find(st, "\x01 no such tensor") || strcmp(mvot_st_path(st), "fuzz") != 0)
        abort();
    mvot_st_close(st);
    return 0;
}
