/* Fuzz target for the codebook loader (codebook/codebook.c over core/safetensors.c): any bytes
 * either load into a codebook that satisfies the format's invariants (K x D matching the
 * metadata, D = patch*patch*3 for patch codebooks, integer pixels, finite latents) or fail
 * with a status and a message. A loaded patch codebook is then used for a decode and an
 * encode, and small ones for the distance matrix, so what the loader accepts is safe to use. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/codebook.h"
#include "codebook/distances.h"
#include "tokenize/patchvq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mvot_codebook cb;
    struct mvot_error err = {0};
    if (mvot_codebook_load_mem(data, size, "fuzz", &cb, &err) != MVOT_OK) {
        if (err.msg[0] == 0)
            abort(); /* every failure must explain itself */
        return 0;
    }
    if (cb.K == 0 || cb.D == 0 || !cb.vec)
        abort();
    if (cb.kind == MVOT_CB_PATCH) {
        if (cb.D != cb.patch * cb.patch * 3)
            abort();
        for (size_t i = 0; i < (size_t)cb.K * cb.D; i++)
            if (cb.vec[i] < 0 || cb.vec[i] > 255 || cb.vec[i] != floorf(cb.vec[i]))
                abort();
        struct mvot_patchvq *vq = NULL;
        if (mvot_patchvq_create(&cb, 16, &vq, &err) != MVOT_OK)
            abort();
        uint32_t S = cb.patch * 2;
        int32_t codes[4] = {0, (int32_t)cb.K - 1, 0, (int32_t)(cb.K / 2)}, back[4];
        uint8_t *px = malloc((size_t)S * S * 3);
        if (px && mvot_patchvq_decode(vq, codes, S, px, &err) == MVOT_OK &&
            mvot_patchvq_encode(vq, px, S, back, &err) == MVOT_OK)
            for (int i = 0; i < 4; i++) /* re-encoding finds an identical code */
                if (memcmp(cb.vec + (size_t)back[i] * cb.D, cb.vec + (size_t)codes[i] * cb.D,
                           cb.D * sizeof(float)) != 0)
                    abort();
        free(px);
        mvot_patchvq_free(vq);
    }
    if (cb.K <= 64 && cb.D <= 1024) {
        float *d = NULL;
        if (mvot_codebook_distances(&cb, NULL, &d, &err) == MVOT_OK)
            for (size_t i = 0; i < cb.K; i++)
                if (d[i * cb.K + i] != 0.0f)
                    abort();
        free(d);
    }
    mvot_codebook_free(&cb);
    return 0;
}
