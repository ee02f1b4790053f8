/* GPU image tokenizer inference (docs/cuda.md): nearest-code search, the patch-VQ encoder
 * and decoder, and the Chameleon VQGAN encoder (docs/chameleon.md §4, §5), on one CUDA device.
 *
 * C API over CUDA C++ (every entry point is extern "C"). A struct mvot_gpu owns one device
 * context: a stream, a cuBLAS handle and the timing counters; objects made from it
 * (codebooks, encoders) must be freed before it. One mvot_gpu is used by one thread at a
 * time; make one per thread for concurrency.
 *
 * Precision: GEMMs run in FP32 (CUBLAS_COMPUTE_32F) by default, or TF32 tensor cores when
 * opts.tf32 is set. Nearest-code search then re-ranks every candidate whose FP32/TF32 score
 * is within a proven error bound of the best, in float64, so its codes are the exact argmin
 * of the squared distance (first index on ties) in either mode; with opts.refine = 0 it
 * returns the raw GEMM argmin, where TF32 can flip near-ties. */
#ifndef MVOT_TOOLS_CUDA_GPU_VQ_H
#define MVOT_TOOLS_CUDA_GPU_VQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "core/status.h"

struct mvot_gpu;
struct mvot_gpu_codebook;
struct mvot_gpu_patchvq;
struct mvot_gpu_vqgan;
struct mvot_image_encoder;

struct mvot_gpu_opts {
    int device; /* CUDA device index (0) */
    int tf32;   /* 1: TF32 tensor-core GEMMs; 0: FP32 (default) */
    int refine; /* 1 (default): exact float64 re-rank of near-ties in nearest-code search */
    int conv;   /* VQGAN convolutions: MVOT_GPU_CONV_AUTO (default, = im2col), _IM2COL or _CUDNN */
};
/* AUTO: cuDNN when the module was built with cudnn.h and libcudnn loads at run time
 * ($MVOT_CUDNN_LIB, libcudnn.so.9, libcudnn.so), else (and after any cuDNN failure) im2col +
 * cuBLAS GEMM. IM2COL: always the latter. */
#define MVOT_GPU_CONV_AUTO 0
#define MVOT_GPU_CONV_IM2COL 1
#define MVOT_GPU_CONV_CUDNN 2 /* cuDNN when it loads, else im2col (reason kept) */
void mvot_gpu_opts_default(struct mvot_gpu_opts *o);

/* Number of usable CUDA devices; 0 when there is no driver or device. If `why` is given it
 * receives a one-line reason when the count is 0. */
int mvot_gpu_device_count(char *why, size_t whycap);

/* Creates a context on opts->device (NULL: defaults). MVOT_ERR_UNSUPPORTED with a one-line
 * message when no device is usable. */
enum mvot_status mvot_gpu_create(const struct mvot_gpu_opts *opts, struct mvot_gpu **out,
                                 struct mvot_error *err);
void mvot_gpu_free(struct mvot_gpu *g);
/* "NVIDIA H100 80GB HBM3, sm_90, 132 SMs, 79.1 GiB, FP32 GEMMs, cuDNN 9.19.0 convs" (or
 * "im2col convs (<why not cuDNN>)") */
void mvot_gpu_describe(const struct mvot_gpu *g, char *buf, size_t cap);
int mvot_gpu_tf32(const struct mvot_gpu *g);
/* The convolution path of the VQGAN encodes since the last mvot_gpu_timing_reset: "cudnn",
 * "im2col" or "mixed" (cuDNN failed part way and the rest fell back); before any encode,
 * the path the next one will take. */
const char *mvot_gpu_conv_path(const struct mvot_gpu *g);

/* Accumulated device time of the calls below, split by phase (milliseconds, CUDA events). */
struct mvot_gpu_timing {
    double h2d_ms, compute_ms, d2h_ms;
    uint64_t images;
};
void mvot_gpu_timing_get(const struct mvot_gpu *g, struct mvot_gpu_timing *out);
void mvot_gpu_timing_reset(struct mvot_gpu *g);

/* ---- nearest-code search ---------------------------------------------------------------
 * A codebook of K vectors of dimension D (row-major, copied to the device with their
 * squared norms). code(z) = argmin_k ||z - e_k||^2, first index on ties. */
enum mvot_status mvot_gpu_codebook_create(struct mvot_gpu *g, const float *vec, uint32_t K,
                                          uint32_t D, struct mvot_gpu_codebook **out,
                                          struct mvot_error *err);
void mvot_gpu_codebook_free(struct mvot_gpu_codebook *cb);

/* Host queries (n x D row-major) -> host codes (n). Batched internally. */
enum mvot_status mvot_gpu_nearest(struct mvot_gpu *g, const struct mvot_gpu_codebook *cb,
                                  const float *queries, size_t n, int32_t *codes,
                                  struct mvot_error *err);

/* Device-resident benchmark of the search on n random-free queries already on the device:
 * times `iters` searches of n queries (device pointer from mvot_gpu_bench_alloc) and the
 * bare GEMM of the same shape. Fills ms per search and per GEMM (medians). */
enum mvot_status mvot_gpu_nearest_bench(struct mvot_gpu *g, const struct mvot_gpu_codebook *cb,
                                        const float *host_queries, size_t n, int iters,
                                        size_t chunk_rows, double *search_ms, double *gemm_ms,
                                        struct mvot_error *err);

/* ---- patch VQ ---------------------------------------------------------------------------
 * Codebook vectors are P x P x 3 RGB patches in [0,255], element (y, x, c) at (y*P + x)*3 + c
 * (docs/codebook-format.md). Images are S x S x 3 interleaved uint8, n of them contiguous. */
enum mvot_status mvot_gpu_patchvq_create(struct mvot_gpu *g, const float *vec, uint32_t K,
                                         uint32_t P, uint32_t S, struct mvot_gpu_patchvq **out,
                                         struct mvot_error *err);
void mvot_gpu_patchvq_free(struct mvot_gpu_patchvq *pv);
/* codes: n * (S/P)^2, row-major per image. */
enum mvot_status mvot_gpu_patchvq_encode(struct mvot_gpu_patchvq *pv, const uint8_t *rgb, size_t n,
                                         int32_t *codes, struct mvot_error *err);
/* Pastes code patches back, each value rounded to nearest (ties up) and clamped to 0..255. */
enum mvot_status mvot_gpu_patchvq_decode(struct mvot_gpu_patchvq *pv, const int32_t *codes,
                                         size_t n, uint8_t *rgb, struct mvot_error *err);

/* ---- VQGAN encoder ----------------------------------------------------------------------
 * Loads encoder.*, quant_conv.* and quantize.embedding.weight from a safetensors file
 * (prefix "model.vqmodel." or none; bf16/f16/f32 -> f32). The architecture (ch, levels,
 * channel multipliers, z channels) is read from the tensor shapes. */
struct mvot_gpu_vqgan_info {
    uint32_t ch, levels, z_channels, K, D;
    uint32_t mult[8];
};
enum mvot_status mvot_gpu_vqgan_load(struct mvot_gpu *g, const char *path,
                                     struct mvot_gpu_vqgan **out, struct mvot_error *err);
void mvot_gpu_vqgan_free(struct mvot_gpu_vqgan *m);
void mvot_gpu_vqgan_get_info(const struct mvot_gpu_vqgan *m, struct mvot_gpu_vqgan_info *out);
/* Images per internal batch at side S (memory-bounded); 0 = automatic (default). */
void mvot_gpu_vqgan_set_batch(struct mvot_gpu_vqgan *m, uint32_t batch);
/* n S x S x 3 uint8 images (already S x S RGB; see tokenize/imgprep.h for the rest) ->
 * n * (S/16)^2 codes; latent (may be NULL) receives per image D x (S/16)^2 floats (CHW),
 * the quant_conv output before quantization. */
enum mvot_status mvot_gpu_vqgan_encode(struct mvot_gpu_vqgan *m, const uint8_t *rgb, size_t n,
                                       uint32_t S, int32_t *codes, float *latent,
                                       struct mvot_error *err);
/* Same from preprocessed planar floats, 3 x S x S per image. */
enum mvot_status mvot_gpu_vqgan_encode_f32(struct mvot_gpu_vqgan *m, const float *chw, size_t n,
                                           uint32_t S, int32_t *codes, float *latent,
                                           struct mvot_error *err);

/* ---- pack / retokenize hook -------------------------------------------------------------
 * Fills *out (shards/pack.h's struct mvot_image_encoder) with a GPU encoder for a patch
 * codebook or a VQGAN checkpoint (detected from the file). Images that are not S x S RGB go
 * through tokenize/imgprep.h on the CPU first. Free with mvot_gpu_image_encoder_free. */
int mvot_gpu_image_encoder_create(const char *codebook_or_vqgan_path, uint32_t image_size,
                                  struct mvot_image_encoder *out, char *errbuf, size_t errcap);
void mvot_gpu_image_encoder_free(struct mvot_image_encoder *enc);

/* ---- the loadable module ----------------------------------------------------------------
 * libmvot-cuda.so (the kernels) and libmvot-cuda-mock.so (gpu_mock.c) export one symbol,
 * MVOT_GPU_API_SYMBOL, returning this table of the functions above (docs/cuda.md, "Loading").
 * The mvot binary links no CUDA library: tools/gpu_plugin.c dlopen()s the module on demand
 * and defines the functions above as forwarders to the table. A change of any signature here
 * bumps MVOT_GPU_API_ABI (and the symbol's _vN). */
#define MVOT_GPU_API_ABI 2
#define MVOT_GPU_API_SYMBOL "mvot_gpu_api_v2"
struct mvot_gpu_api {
    uint32_t abi;        /* MVOT_GPU_API_ABI */
    uint32_t size;       /* sizeof(struct mvot_gpu_api) */
    const char *version; /* MVOT_VERSION of the module's build */
    void (*opts_default)(struct mvot_gpu_opts *o);
    int (*device_count)(char *why, size_t whycap);
    enum mvot_status (*create)(const struct mvot_gpu_opts *opts, struct mvot_gpu **out,
                               struct mvot_error *err);
    void (*gpu_free)(struct mvot_gpu *g);
    void (*describe)(const struct mvot_gpu *g, char *buf, size_t cap);
    int (*tf32)(const struct mvot_gpu *g);
    void (*timing_get)(const struct mvot_gpu *g, struct mvot_gpu_timing *out);
    void (*timing_reset)(struct mvot_gpu *g);
    enum mvot_status (*codebook_create)(struct mvot_gpu *g, const float *vec, uint32_t K,
                                        uint32_t D, struct mvot_gpu_codebook **out,
                                        struct mvot_error *err);
    void (*codebook_free)(struct mvot_gpu_codebook *cb);
    enum mvot_status (*nearest)(struct mvot_gpu *g, const struct mvot_gpu_codebook *cb,
                                const float *queries, size_t n, int32_t *codes,
                                struct mvot_error *err);
    enum mvot_status (*nearest_bench)(struct mvot_gpu *g, const struct mvot_gpu_codebook *cb,
                                      const float *host_queries, size_t n, int iters,
                                      size_t chunk_rows, double *search_ms, double *gemm_ms,
                                      struct mvot_error *err);
    enum mvot_status (*patchvq_create)(struct mvot_gpu *g, const float *vec, uint32_t K, uint32_t P,
                                       uint32_t S, struct mvot_gpu_patchvq **out,
                                       struct mvot_error *err);
    void (*patchvq_free)(struct mvot_gpu_patchvq *pv);
    enum mvot_status (*patchvq_encode)(struct mvot_gpu_patchvq *pv, const uint8_t *rgb, size_t n,
                                       int32_t *codes, struct mvot_error *err);
    enum mvot_status (*patchvq_decode)(struct mvot_gpu_patchvq *pv, const int32_t *codes, size_t n,
                                       uint8_t *rgb, struct mvot_error *err);
    enum mvot_status (*vqgan_load)(struct mvot_gpu *g, const char *path,
                                   struct mvot_gpu_vqgan **out, struct mvot_error *err);
    void (*vqgan_free)(struct mvot_gpu_vqgan *m);
    void (*vqgan_get_info)(const struct mvot_gpu_vqgan *m, struct mvot_gpu_vqgan_info *out);
    void (*vqgan_set_batch)(struct mvot_gpu_vqgan *m, uint32_t batch);
    enum mvot_status (*vqgan_encode)(struct mvot_gpu_vqgan *m, const uint8_t *rgb, size_t n,
                                     uint32_t S, int32_t *codes, float *latent,
                                     struct mvot_error *err);
    enum mvot_status (*vqgan_encode_f32)(struct mvot_gpu_vqgan *m, const float *chw, size_t n,
                                         uint32_t S, int32_t *codes, float *latent,
                                         struct mvot_error *err);
    const char *(*conv_path)(const struct mvot_gpu *g); /* not forwarded by gpu_plugin.c */
};
/* Defined by gpu_api.c in each module; the only symbol a module exports (gpu_module.map). */
const struct mvot_gpu_api *mvot_gpu_api_v2(void);

#ifdef __cplusplus
}
#endif

#endif
