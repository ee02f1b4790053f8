/* Fuzz target for one sample's tar members (mvot_sample_parse_tar, shards/reader.h): the
 * ustar headers, the tokens and spans .npy members, the sample JSON and the stored PNG frames,
 * reached directly (in a shard they sit behind zstd frames with checksums, which mutations
 * rarely get past). The first input byte picks whether the members must carry a given key.
 * Checks: failures explain themselves and leave the sample empty; a parsed sample has its
 * required parts and every span modality and loss flag in range. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "shards/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* "maze-000000-v000" is the key of the seeds made by make-seeds.sh */
    const char *key = data[0] & 1 ? "maze-000000-v000" : NULL;
    struct mvot_sample s;
    struct mvot_error err = {0};
    if (mvot_sample_parse_tar(data + 1, size - 1, key, "fuzz", &s, &err) != MVOT_OK) {
        if (!err.msg[0] || s.key || s.tokens || s.spans || s.meta || s.png)
            abort();
        return 0;
    }
    if (!s.key || (s.n_tokens && !s.tokens) || !json_is_object(s.meta))
        abort();
    for (size_t i = 0; i < s.n_spans; i++)
        if (s.spans[i].modality > MVOT_MOD_SPECIAL || s.spans[i].loss > 1)
            abort();
    for (uint32_t i = 0; i < s.n_png; i++)
        if (!s.png[i])
            abort();
    mvot_sample_free(&s);
    return 0;
}
