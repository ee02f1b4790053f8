/* A deliberately naive float64 CPU reference of the VQGAN encoder (docs/chameleon.md §4), beside
 * the GPU kernels in vqgan_gpu.cu: direct convolution loops, two-pass GroupNorm, softmax
 * attention, quantizer. Independent of tokenize/vqgan.c, so the GPU is checked against two
 * CPU implementations. Small checkpoints and images only (it is slow). */
#ifndef MVOT_TOOLS_CUDA_REF_VQGAN_H
#define MVOT_TOOLS_CUDA_REF_VQGAN_H

#include <stdint.h>

#include "core/status.h"

/* pixels: 3 x S x S planar floats. codes: (S/16)^2; latent: D x (S/16)^2 (may be NULL). */
enum mvot_status mvot_ref_vqgan_encode(const char *path, const float *pixels, uint32_t S,
                                       int32_t *codes, float *latent, struct mvot_error *err);

#endif
