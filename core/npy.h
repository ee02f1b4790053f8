/* NumPy .npy (format 1.0) encode/parse for little-endian numeric arrays, C order.
 * Used for token arrays in shards, code arrays and distance matrices. */
#ifndef MVOT_CORE_NPY_H
#define MVOT_CORE_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "core/io.h"
#include "core/status.h"

/* descr is a numpy type string: "<u2", "<u4", "<i4", "<i8", "<f4", "|u1". */
struct mvot_npy {
    char descr[8];
    int ndim;
    uint64_t shape[4];
    const uint8_t *data; /* borrowed from the parsed buffer */
    size_t nbytes;
};

/* Appends a complete .npy encoding to `out`. */
enum mvot_status mvot_npy_encode(struct mvot_buf *out, const char *descr, int ndim,
                                 const uint64_t *shape, const void *data);
/* Parses a .npy held in memory; `name` labels errors. Checks magic, header, and that the
 * data length matches exactly. */
enum mvot_status mvot_npy_parse(const uint8_t *buf, size_t len, const char *name,
                                struct mvot_npy *out, struct mvot_error *err);
/* Atomic file write. */
enum mvot_status mvot_npy_write_file(const char *path, const char *descr, int ndim,
                                     const uint64_t *shape, const void *data,
                                     struct mvot_error *err);
size_t mvot_npy_itemsize(const char *descr); /* 0 if unknown */

#endif
