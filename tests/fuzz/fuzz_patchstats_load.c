/* Fuzz target for the patch statistics reader (codebook/patchstats.c): any bytes either load
 * into a patch set that satisfies the format's invariants (the header's counts, entries in
 * strictly increasing canonical order, every count >= 1) or fail with a status and a message.
 * The cap on distinct patches keeps one input's memory small. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/patchstats.h"
#include "core/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mvot_patchset ps;
    struct mvot_patchstats_info in;
    struct mvot_error err = {0};
    if (mvot_patchstats_load_mem(data, size, "fuzz", 4096, &ps, &in, &err) != MVOT_OK) {
        if (err.msg[0] == 0)
            abort(); /* every failure must explain itself */
        return 0;
    }
    if (ps.n != in.distinct || ps.total != in.patches || ps.frames != in.frames ||
        ps.patch != in.patch || ps.D != in.patch * in.patch * 3)
        abort();
    uint64_t sum = 0;
    for (size_t i = 0; i < ps.n; i++) {
        if (ps.count[i] == 0 || ps.hash[i] != mvot_hash64(ps.bytes + i * ps.D, ps.D))
            abort();
        if (i > 0 && (ps.hash[i - 1] > ps.hash[i] ||
                      (ps.hash[i - 1] == ps.hash[i] &&
                       memcmp(ps.bytes + (i - 1) * ps.D, ps.bytes + i * ps.D, ps.D) >= 0)))
            abort();
        sum += ps.count[i];
    }
    if (sum != in.patches)
        abort();
    mvot_patchset_free(&ps);
    return 0;
}
