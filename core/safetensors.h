/* safetensors reader (mmap) and writer.
 *
 * Format: u64 little-endian header length N, N bytes of JSON {name: {dtype, shape,
 * data_offsets:[begin,end]}, "__metadata__": {str: str}}, then the data. The reader checks
 * N against the file size, every offset pair against the data size, dtype sizes against
 * shape products (with overflow checks), and rejects overlapping tensors. */
#ifndef MVOT_CORE_SAFETENSORS_H
#define MVOT_CORE_SAFETENSORS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

enum mvot_dtype {
    MVOT_DT_F32,
    MVOT_DT_F16,
    MVOT_DT_BF16,
    MVOT_DT_I32,
    MVOT_DT_I64,
    MVOT_DT_U8,
    MVOT_DT_U16
};

#define MVOT_ST_MAX_DIMS 8

struct mvot_tensor {
    const char *name;
    enum mvot_dtype dtype;
    int ndim;
    int64_t shape[MVOT_ST_MAX_DIMS];
    const uint8_t *data; /* borrowed: valid while the file is open */
    size_t nbytes;
};

struct mvot_safetensors;

/* Maps and validates a file. `path` is kept for error messages. */
enum mvot_status mvot_st_open(const char *path, struct mvot_safetensors **out,
                              struct mvot_error *err);
/* Validates an in-memory image (borrowed; must outlive the handle). For fuzzing and tests. */
enum mvot_status mvot_st_open_mem(const uint8_t *data, size_t len, const char *name,
                                  struct mvot_safetensors **out, struct mvot_error *err);
void mvot_st_close(struct mvot_safetensors *st); /* NULL is a no-op */

size_t mvot_st_count(const struct mvot_safetensors *st);
const struct mvot_tensor *mvot_st_at(const struct mvot_safetensors *st, size_t i);
/* NULL if absent. */
const struct mvot_tensor *mvot_st_find(const struct mvot_safetensors *st, const char *name);
/* The __metadata__ object (borrowed), or NULL. */
const json_t *mvot_st_metadata(const struct mvot_safetensors *st);
const char *mvot_st_path(const struct mvot_safetensors *st);

size_t mvot_dtype_size(enum mvot_dtype dt);
const char *mvot_dtype_name(enum mvot_dtype dt);
int64_t mvot_tensor_numel(const struct mvot_tensor *t);

/* Converts any float dtype (F32/F16/BF16) to f32; `out` holds numel floats. Integer dtypes
 * fail with MVOT_ERR_UNSUPPORTED naming the tensor. */
enum mvot_status mvot_tensor_to_f32(const struct mvot_tensor *t, float *out,
                                    struct mvot_error *err);

/* Checks the shape exactly; fails naming the tensor with expected and actual shapes. */
enum mvot_status mvot_tensor_expect_shape(const struct mvot_tensor *t, int ndim,
                                          const int64_t *shape, const char *file,
                                          struct mvot_error *err);

/* Writer: tensors are written in the order given (data of `nbytes` each must match
 * dtype*shape). `metadata` (may be NULL) must be an object of string values. Atomic. */
struct mvot_tensor_out {
    const char *name;
    enum mvot_dtype dtype;
    int ndim;
    int64_t shape[MVOT_ST_MAX_DIMS];
    const void *data;
};
enum mvot_status mvot_st_write(const char *path, const struct mvot_tensor_out *tensors, size_t n,
                               const json_t *metadata, struct mvot_error *err);

/* f32 <-> bf16/f16 conversions (bf16 rounds to nearest even). */
float mvot_bf16_to_f32(uint16_t v);
float mvot_f16_to_f32(uint16_t v);
uint16_t mvot_f32_to_bf16(float f);

#endif
