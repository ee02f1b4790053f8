/* The Chameleon/Anole VQGAN (docs/chameleon.md §4) on the CPU in fp32: encoder, quantizer and,
 * when the checkpoint has it, decoder. Weights are read by name from safetensors under the
 * prefix "model.vqmodel." or none, in bf16, f16 or f32 (widened to f32 at load). The widths
 * come from the file (ch from encoder.conv_in, z from encoder.conv_out, K x D from
 * quantize.embedding); ch_mult (1,1,2,2,4), 2 res blocks and no down-level attention are
 * Chameleon's and fixed. A missing tensor or a wrong shape fails naming the tensor; a file
 * without decoder.* loads encoder-only.
 *
 * Threads: the model borrows a pool; an encode/decode splits every layer into tiles fixed by
 * the shapes alone, so outputs are bit-identical for any thread count. Loading calls
 * openblas_set_num_threads(1) (process-wide): the pool already occupies the cores. Calls are
 * thread-safe: one call at a time uses the pool and a cached workspace (about 3*ch*S*S
 * floats plus im2col tiles, ~420 MB at ch 128, S 512, kept until free); a concurrent call
 * runs single-threaded on its own workspace of the same size.
 *
 * Kernels: 3x3 convs use our AVX-512 GEMM when the CPU has AVX-512F, else OpenBLAS sgemm
 * over im2col; 1x1 convs, attention and the code search use OpenBLAS. */
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

/* pool (may be NULL: single-threaded) is borrowed for the model's lifetime. *out is NULL on
 * failure. */
enum mvot_status mvot_vqgan_load(const char *path, struct mvot_pool *pool, struct mvot_vqgan **out,
                                 struct mvot_error *err);
void mvot_vqgan_free(struct mvot_vqgan *m);
/* Writes the VQGAN tensors of a checkpoint in any layout of core/checkpoint.h (those under
 * "model.vqmodel.", or else encoder.*, decoder.*, quantize.*, quant_conv.*, post_quant_conv.*)
 * to one .safetensors file at out (atomic), names and dtypes unchanged, so that a VQGAN held
 * in a sharded language-model checkpoint can be copied into a shard set. *n_tensors (may be
 * NULL) receives the count. Fails with MVOT_ERR_NOTFOUND when there is none. */
enum mvot_status mvot_vqgan_extract(const char *checkpoint, const char *out, size_t *n_tensors,
                                    struct mvot_error *err);
void mvot_vqgan_get_info(const struct mvot_vqgan *m, struct mvot_vqgan_info *out);

/* pixels: 3 x S x S planar (CHW) floats, already preprocessed to [-1, 1] (imgprep.h); S is a
 * multiple of 16 in [16, 2048] (512, 256 and 128 in practice). Writes (S/16)^2 codes, row-
 * major, each argmin_k |z|^2 + |e_k|^2 - 2 z.e_k (first index on ties); latent (may be NULL)
 * receives D x (S/16)^2 (CHW) pre-quantization values (after quant_conv). */
enum mvot_status mvot_vqgan_encode(const struct mvot_vqgan *m, const float *pixels, uint32_t S,
                                   int32_t *codes, float *latent, struct mvot_error *err);
/* codes -> 3 x S x S planar floats (no tanh; mvot_imgprep_from_tensor maps to uint8).
 * MVOT_ERR_UNSUPPORTED for an encoder-only checkpoint, MVOT_ERR_INVALID for a code >= K. */
enum mvot_status mvot_vqgan_decode(const struct mvot_vqgan *m, const int32_t *codes, uint32_t S,
                                   float *pixels, struct mvot_error *err);
/* The K x D codebook, borrowed for the model's lifetime. */
const float *mvot_vqgan_codebook(const struct mvot_vqgan *m);

/* Kernel choice for the 3x3 convolutions: by default our AVX-512 GEMM when the CPU has
 * AVX-512F, else OpenBLAS over im2col. on = 1 forces OpenBLAS (tests compare the two; do
 * not call while an encode/decode runs). Results agree to float rounding, not bit for bit. */
void mvot_vqgan_set_blas_only(struct mvot_vqgan *m, int on);
int mvot_vqgan_uses_avx512(const struct mvot_vqgan *m);

#endif
