/* Fuzz target for the .npy parser (core/npy.c), which reads every token and span array in a
 * shard. Checks: a failure explains itself; a parsed array has a known dtype, its data inside
 * the input and exactly itemsize * prod(shape) bytes; and encoding it again with
 * mvot_npy_encode parses back to the same dtype, shape and bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mvot_npy a, b;
    struct mvot_error err = {0};
    if (mvot_npy_parse(data, size, "fuzz", &a, &err) != MVOT_OK) {
        if (!err.msg[0])
            abort();
        return 0;
    }
    size_t item = mvot_npy_itemsize(a.descr);
    uint64_t numel = 1;
    for (int i = 0; i < a.ndim; i++)
        numel *= a.shape[i];
    if (!item || a.ndim < 0 || a.ndim > 4 || a.data < data || a.data + a.nbytes != data + size ||
        numel * item != a.nbytes)
        abort();
    struct mvot_buf enc;
    mvot_buf_init(&enc, 0);
    if (mvot_npy_encode(&enc, a.descr, a.ndim, a.shape, a.data) != MVOT_OK)
        abort();
    if (mvot_npy_parse(enc.data, enc.len, "re-encoded", &b, &err) != MVOT_OK)
        abort();
    if (strcmp(a.descr, b.descr) != 0 || a.ndim != b.ndim ||
        memcmp(a.shape, b.shape, sizeof a.shape) != 0 || a.nbytes != b.nbytes ||
        (a.nbytes && memcmp(a.data, b.data, a.nbytes) != 0))
        abort();
    mvot_buf_free(&enc);
    return 0;
}
