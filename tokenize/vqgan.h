/* The Chameleon/Anole VQGAN (DESIGN.md §4.4) on the CPU in fp32: encoder, quantizer and,
 * when the checkpoint has it, decoder. Weights are read by name from safetensors under the
 * prefix "model.vqmodel." or none, in bf16, f16 or f32. */
#ifndef MVOT_TOKENIZE_VQGAN_H
#define MVOT_TOKENIZE_VQGAN_H

#include <stdint.h>

#include "core/pool.h"
#include "core/status.h"

struct mvot_vqgan;

struct mvot_vqgan_info {
    uint32_t ch;         /* base channels (128 for Chameleon) */
    uint32_t z_channels; /* 256 */
    uint32_t K, D;       /* codebook: 8192 x 256 */
    int has_decoder;
};

/* pool (may be NULL: single-threaded) is borrowed for the model's lifetime. */
enum mvot_status mvot_vqgan_load(const char *path, struct mvot_pool *pool, struct mvot_vqgan **out,
                                 struct mvot_error *err);
void mvot_vqgan_free(struct mvot_vqgan *m);
void mvot_vqgan_get_info(const struct mvot_vqgan *m, struct mvot_vqgan_info *out);

/* pixels: 3 x S x S planar (CHW) floats, already preprocessed to [-1, 1]. Writes
 * (S/16)^2 codes; latent (may be NULL) receives D x (S/16)^2 (CHW) pre-quantization values. */
enum mvot_status mvot_vqgan_encode(const struct mvot_vqgan *m, const float *pixels, uint32_t S,
                                   int32_t *codes, float *latent, struct mvot_error *err);
/* codes -> 3 x S x S planar floats (no tanh; postprocess maps to uint8). */
enum mvot_status mvot_vqgan_decode(const struct mvot_vqgan *m, const int32_t *codes, uint32_t S,
                                   float *pixels, struct mvot_error *err);
const float *mvot_vqgan_codebook(const struct mvot_vqgan *m);

/* Kernel choice for the 3x3 convolutions: by default our AVX-512 GEMM when the CPU has
 * AVX-512F, else OpenBLAS over im2col. on = 1 forces OpenBLAS (tests compare the two; do
 * not call while an encode/decode runs). Results agree to float rounding, not bit for bit. */
void mvot_vqgan_set_blas_only(struct mvot_vqgan *m, int on);
int mvot_vqgan_uses_avx512(const struct mvot_vqgan *m);

#endif
