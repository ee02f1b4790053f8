// Internals shared by the tools/cuda translation units: the context struct, error
// macros that turn CUDA/cuBLAS failures into struct mvot_error, and device-side helpers.
// Every CUDA call's return code is checked; kernels are followed by cudaGetLastError.
#ifndef MVOT_TOOLS_CUDA_GPU_INTERNAL_CUH
#define MVOT_TOOLS_CUDA_GPU_INTERNAL_CUH

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "tools/cuda/gpu_vq.h"

struct mvot_gpu_cudnn; // cudnn_conv.cu: the dlopen()ed library, handle, workspace, algorithms

struct mvot_gpu {
    int device;
    int tf32;
    int refine;
    int conv;                           // opts.conv: MVOT_GPU_CONV_AUTO or MVOT_GPU_CONV_IM2COL
    struct mvot_gpu_cudnn *dnn;         // NULL: convolutions use im2col + cuBLAS
    char dnn_why[192];                  // why dnn is NULL (empty when it never was tried)
    uint64_t convs_cudnn, convs_im2col; // since the last timing reset
    cudaStream_t stream;
    cublasHandle_t blas;
    cudaEvent_t ev[4];
    cudaDeviceProp prop;
    struct mvot_gpu_timing timing;
};

struct mvot_gpu_codebook {
    struct mvot_gpu *g;
    uint32_t K, D;
    float *vec;   // device K x D
    float *norm2; // device K: ||e_k||^2 rounded to float from a float64 sum
    float emax;   // max_k ||e_k||
    float *dots;  // device scratch: chunk_rows x K
    size_t chunk_rows;
};

const char *mvot_gpu_blas_str(cublasStatus_t s);

#define GPU_CHECK(call, err, where)                                                 \
    do {                                                                            \
        cudaError_t _e = (call);                                                    \
        if (_e != cudaSuccess) {                                                    \
            st = mvot_error_set((err), MVOT_ERR_INTERNAL, (where), "%s: %s", #call, \
                                cudaGetErrorString(_e));                            \
            goto cleanup;                                                           \
        }                                                                           \
    } while (0)

#define BLAS_CHECK(call, err, where)                                                \
    do {                                                                            \
        cublasStatus_t _s = (call);                                                 \
        if (_s != CUBLAS_STATUS_SUCCESS) {                                          \
            st = mvot_error_set((err), MVOT_ERR_INTERNAL, (where), "%s: %s", #call, \
                                mvot_gpu_blas_str(_s));                             \
            goto cleanup;                                                           \
        }                                                                           \
    } while (0)

#define LAUNCH_CHECK(err, where) GPU_CHECK(cudaGetLastError(), err, where)

// Internal device-side entry points (device pointers in, device pointers out).
//
// Nearest-code search over n queries whose element (i, d) is q[i*sn + d*sd]; codes[i].
enum mvot_status mvot_gpu_nearest_dev(struct mvot_gpu_codebook *cb, const float *q, size_t n,
                                      size_t sn, size_t sd, int32_t *codes, struct mvot_error *err);
// Ensures cb->dots holds at least rows x K floats.
enum mvot_status mvot_gpu_codebook_reserve(struct mvot_gpu_codebook *cb, size_t rows,
                                           struct mvot_error *err);

// Waits for ev[3] and adds ev[0..1] to h2d, ev[1..2] to compute, ev[2..3] to d2h.
enum mvot_status mvot_gpu_timing_collect(struct mvot_gpu *g, size_t images, struct mvot_error *err);

// C = op(A) op(B), column-major, FP32 or TF32 per the context, alpha/beta scalars.
cublasStatus_t mvot_gpu_gemm(struct mvot_gpu *g, cublasOperation_t ta, cublasOperation_t tb, int m,
                             int n, int k, float alpha, const float *A, int lda, const float *B,
                             int ldb, float beta, float *C, int ldc);
cublasStatus_t mvot_gpu_gemm_batched(struct mvot_gpu *g, cublasOperation_t ta, cublasOperation_t tb,
                                     int m, int n, int k, float alpha, const float *A, int lda,
                                     long long sa, const float *B, int ldb, long long sb,
                                     float beta, float *C, int ldc, long long sc, int batch);

// One convolution for cudnn_conv.cu: n images, x element (i, c, y, x) at
// in[i*x_ns + c*x_cs + y*w + x], y likewise with y_ns/y_cs and row length wo; symmetric zero
// padding `pad`, `stride`; weights [cout][cin][k][k].
struct mvot_gpu_conv_geom {
    int n, cin, h, w, x_ns, x_cs;
    int cout, k, ho, wo, y_ns, y_cs;
    int pad, stride;
};
// Loads cuDNN for g (never fails: on any problem g->dnn stays NULL, g->dnn_why says why).
void mvot_gpu_cudnn_init(struct mvot_gpu *g);
void mvot_gpu_cudnn_free(struct mvot_gpu *g);
int mvot_gpu_cudnn_version(const struct mvot_gpu *g);
// out += conv(in) through cuDNN, queued on g->stream. 0: not done (no cuDNN, or it failed,
// which disables it for g); the caller then uses im2col.
int mvot_gpu_cudnn_conv(struct mvot_gpu *g, const struct mvot_gpu_conv_geom *c, const float *in,
                        const float *w, float *out);

static inline unsigned mvot_gpu_blocks(size_t n, unsigned threads)
{
    size_t b = (n + threads - 1) / threads;
    return (unsigned)(b > 0x7fffffffu ? 0x7fffffffu : b);
}

#endif
