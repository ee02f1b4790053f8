/* Internals shared by tokenize/vqgan.c and its AVX-512 GEMM (tokenize/vqgan_gemm.c). */
#ifndef MVOT_TOKENIZE_VQGAN_INTERNAL_H
#define MVOT_TOKENIZE_VQGAN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Micro-tile: 8 output channels x 32 output pixels. */
#define MVOT_VQ_MR 8
#define MVOT_VQ_NR 32

/* 1 when this CPU runs the AVX-512 kernel (and this build has it). */
int mvot_vqgan_have_avx512(void);

/* Floats needed to pack a co x k weight matrix into 8-row panels (rows padded with zeros). */
size_t mvot_vqgan_packed_a_floats(uint32_t co, uint32_t k);
/* out[(mb * k + kk) * 8 + r] = w[(mb * 8 + r) * k + kk], zero for rows >= co. */
void mvot_vqgan_pack_a(const float *w, uint32_t co, uint32_t k, float *out);

/* K-rows per im2col block: one block of B (n x 256 floats) stays in L2 while it is used. */
#define MVOT_VQ_KC 256

/* One K block of C[co x n] (row stride ldc) += A[:, k0:k0+kc] * B, where A (co x k) is packed
 * by mvot_vqgan_pack_a and B is ceil(n / 32) panels, each kc x 32 (columns past n zero).
 * The block with k0 == 0 first sets C to bias + (accumulate ? C : 0). Calling it for
 * k0 = 0, KC, 2KC, ... gives every C element one fixed-order dot product. */
void mvot_vqgan_gemm_avx512(const float *ap, uint32_t k, uint32_t k0, uint32_t kc, const float *bp,
                            const float *bias, uint32_t co, uint32_t n, float *c, size_t ldc,
                            int accumulate);

/* y = x * a + b, then swish (v / (1 + e^-v)) when `swish`; n any length. */
void mvot_vqgan_affine_avx512(const float *x, float *y, size_t n, float a, float b, int swish);

/* Packed im2col (the GEMM's B panels) of K-rows [k0, k1) (row = ci*9 + ky*3 + kx) for a 3x3
 * stride-1 pad-1 conv over output rows [y0, y1) of a planar input with h x w planes; needs
 * w % 16 == 0. */
void mvot_vqgan_im2col_same_avx512(const float *in, uint32_t h, uint32_t w, uint32_t y0,
                                   uint32_t y1, uint32_t k0, uint32_t k1, float *col);

#endif
