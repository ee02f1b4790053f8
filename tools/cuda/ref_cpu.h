/* CPU references for the tools/cuda kernels (the llm.c dev/cuda habit: each kernel has a
 * plain reference beside it, and the tests compare the two). Deliberately simple loops in
 * float64 where it matters; not meant to be fast. */
#ifndef MVOT_TOOLS_CUDA_REF_CPU_H
#define MVOT_TOOLS_CUDA_REF_CPU_H

#include <stddef.h>
#include <stdint.h>

/* code(z_i) = argmin_k sum_d (z_id - e_kd)^2 in float64, first index on ties. Optionally
 * returns the best and second-best distances (for margin checks; either may be NULL). */
void mvot_ref_nearest(const float *vec, uint32_t K, uint32_t D, const float *q, size_t n,
                      int32_t *codes, double *best, double *second);

/* n S x S x 3 uint8 images -> n*(S/P)^2 patches of P*P*3 floats, element (y, x, c) at
 * (y*P + x)*3 + c. */
void mvot_ref_patchify(const uint8_t *rgb, size_t n, uint32_t S, uint32_t P, float *out);

/* codes -> n S x S x 3 images, each value floor(v + 0.5) clamped to 0..255. */
void mvot_ref_patch_decode(const float *vec, uint32_t P, uint32_t S, const int32_t *codes, size_t n,
                           uint8_t *rgb);

#endif
