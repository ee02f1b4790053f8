/* Random-weight Chameleon VQGAN checkpoints for tests and benchmarks: every encoder tensor
 * with its real taming name and shape (docs/chameleon.md §4; levels 1,1,2,2,4 x ch, 2 blocks per
 * level, downsample on all but the last, mid attention), quant_conv and the codebook, but
 * no decoder. Weights are variance-preserving uniforms from a fixed seed, so activations
 * stay O(1) through the network and the codes are not degenerate. */
#ifndef MVOT_TOOLS_CUDA_VQGAN_RAND_H
#define MVOT_TOOLS_CUDA_VQGAN_RAND_H

#include <stdint.h>

#include "core/safetensors.h"
#include "core/status.h"

struct mvot_vqgan_rand_opts {
    uint32_t ch;         /* base channels, multiple of 32 (Chameleon: 128) */
    uint32_t z_channels; /* conv_out / quant_conv width (256) */
    uint32_t K, D;       /* codebook (8192 x 256); D is quant_conv's output width */
    uint64_t seed;
    enum mvot_dtype dtype; /* MVOT_DT_F32, MVOT_DT_BF16 or MVOT_DT_F16 */
    int prefix;            /* 1: names under "model.vqmodel." */
};
void mvot_vqgan_rand_opts_default(struct mvot_vqgan_rand_opts *o);

/* Writes the checkpoint atomically. */
enum mvot_status mvot_vqgan_rand_write(const char *path, const struct mvot_vqgan_rand_opts *o,
                                       struct mvot_error *err);

#endif
