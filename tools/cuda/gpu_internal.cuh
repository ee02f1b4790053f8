// Internals shared by the tools/cuda translation units: the context struct, error
// macros that turn CUDA/cuBLAS failures into struct mvot_error, and device-side helpers.
// Every CUDA call's return code is checked; kernels are followed by cudaGetLastError.
#ifndef MVOT_TOOLS_CUDA_GPU_INTERNAL_CUH
#define MVOT_TOOLS_CUDA_GPU_INTERNAL_CUH

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "tools/cuda/gpu_vq.h"

struct mvot_gpu {
    int device;
    int tf32;
    int refine;
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

static inline unsigned mvot_gpu_blocks(size_t n, unsigned threads)
{
    size_t b = (n + threads - 1) / threads;
    return (unsigned)(b > 0x7fffffffu ? 0x7fffffffu : b);
}

#endif
