// The device context: one stream, one cuBLAS handle bound to it, events for the H2D /
// compute / D2H time split, and the GEMM wrappers that pick FP32 or TF32 in one place.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tools/cuda/gpu_internal.cuh"

extern "C" void mvot_gpu_opts_default(struct mvot_gpu_opts *o)
{
    o->device = 0;
    o->tf32 = 0;
    o->refine = 1;
    o->conv = MVOT_GPU_CONV_AUTO;
}

const char *mvot_gpu_blas_str(cublasStatus_t s)
{
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "cuBLAS not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED: return "cuBLAS allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE: return "cuBLAS invalid value";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "cuBLAS architecture mismatch";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "cuBLAS execution failed";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "cuBLAS internal error";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "cuBLAS not supported";
    default: return "cuBLAS error";
    }
}

extern "C" int mvot_gpu_device_count(char *why, size_t whycap)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n <= 0) {
        if (why && whycap)
            snprintf(why, whycap, "no CUDA device (%s)",
                     e != cudaSuccess ? cudaGetErrorString(e) : "none found");
        return 0;
    }
    return n;
}

extern "C" enum mvot_status mvot_gpu_create(const struct mvot_gpu_opts *opts, struct mvot_gpu **out,
                                            struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu_opts o;
    struct mvot_gpu *g = NULL;
    char why[256];
    *out = NULL;
    if (opts)
        o = *opts;
    else
        mvot_gpu_opts_default(&o);
    int n = mvot_gpu_device_count(why, sizeof why);
    MVOT_FAIL_IF(n == 0, err, MVOT_ERR_UNSUPPORTED, "gpu", "%s", why);
    MVOT_FAIL_IF(o.device < 0 || o.device >= n, err, MVOT_ERR_INVALID, "gpu",
                 "device %d out of range (%d devices)", o.device, n);
    g = (struct mvot_gpu *)calloc(1, sizeof *g);
    MVOT_FAIL_IF(!g, err, MVOT_ERR_NOMEM, "gpu", "out of memory");
    g->device = o.device;
    g->tf32 = o.tf32 ? 1 : 0;
    g->refine = o.refine ? 1 : 0;
    GPU_CHECK(cudaSetDevice(o.device), err, "gpu");
    GPU_CHECK(cudaGetDeviceProperties(&g->prop, o.device), err, "gpu");
    GPU_CHECK(cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking), err, "gpu");
    for (int i = 0; i < 4; i++)
        GPU_CHECK(cudaEventCreate(&g->ev[i]), err, "gpu");
    BLAS_CHECK(cublasCreate(&g->blas), err, "gpu");
    BLAS_CHECK(cublasSetStream(g->blas, g->stream), err, "gpu");
    // The default math mode never lowers CUBLAS_COMPUTE_32F to TF32; TF32 is requested
    // explicitly per GEMM through the compute type (mvot_gpu_gemm).
    BLAS_CHECK(cublasSetMathMode(g->blas, CUBLAS_DEFAULT_MATH), err, "gpu");
    // AUTO is im2col + cuBLAS: on an H100 it measured faster than cuDNN 9.14 for this network
    // (43.5 vs 38.1 images/s FP32, 66.4 vs 39.1 TF32; BENCHMARKS.md "CUDA"), so cuDNN runs
    // only when asked for.
    g->conv = o.conv == MVOT_GPU_CONV_CUDNN ? MVOT_GPU_CONV_CUDNN : MVOT_GPU_CONV_IM2COL;
    if (g->conv == MVOT_GPU_CONV_CUDNN)
        mvot_gpu_cudnn_init(g); // optional: falls back to im2col, keeping the reason
    else
        snprintf(g->dnn_why, sizeof g->dnn_why, "im2col (default)");
    *out = g;
    g = NULL;
cleanup:
    mvot_gpu_free(g);
    return st;
}

extern "C" void mvot_gpu_free(struct mvot_gpu *g)
{
    if (!g)
        return;
    mvot_gpu_cudnn_free(g);
    if (g->blas)
        cublasDestroy(g->blas);
    for (int i = 0; i < 4; i++)
        if (g->ev[i])
            cudaEventDestroy(g->ev[i]);
    if (g->stream)
        cudaStreamDestroy(g->stream);
    free(g);
}

extern "C" void mvot_gpu_describe(const struct mvot_gpu *g, char *buf, size_t cap)
{
    int v = mvot_gpu_cudnn_version(g);
    char conv[224];
    if (v)
        snprintf(conv, sizeof conv, "cuDNN %d.%d.%d convs", v / 10000, v / 100 % 100, v % 100);
    else
        snprintf(conv, sizeof conv, "im2col convs (%s)", g->dnn_why);
    snprintf(buf, cap, "%s, sm_%d%d, %d SMs, %.1f GiB, %s GEMMs, %s", g->prop.name, g->prop.major,
             g->prop.minor, g->prop.multiProcessorCount,
             (double)g->prop.totalGlobalMem / 1073741824.0, g->tf32 ? "TF32" : "FP32", conv);
}

extern "C" const char *mvot_gpu_conv_path(const struct mvot_gpu *g)
{
    if (g->convs_cudnn && g->convs_im2col)
        return "mixed";
    if (g->convs_cudnn || (!g->convs_im2col && g->dnn))
        return "cudnn";
    return "im2col";
}

extern "C" int mvot_gpu_tf32(const struct mvot_gpu *g)
{
    return g->tf32;
}

extern "C" void mvot_gpu_timing_get(const struct mvot_gpu *g, struct mvot_gpu_timing *out)
{
    *out = g->timing;
}

extern "C" void mvot_gpu_timing_reset(struct mvot_gpu *g)
{
    memset(&g->timing, 0, sizeof g->timing);
    g->convs_cudnn = g->convs_im2col = 0;
}

cublasStatus_t mvot_gpu_gemm(struct mvot_gpu *g, cublasOperation_t ta, cublasOperation_t tb, int m,
                             int n, int k, float alpha, const float *A, int lda, const float *B,
                             int ldb, float beta, float *C, int ldc)
{
    cublasComputeType_t ct = g->tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    return cublasGemmEx(g->blas, ta, tb, m, n, k, &alpha, A, CUDA_R_32F, lda, B, CUDA_R_32F, ldb,
                        &beta, C, CUDA_R_32F, ldc, ct, CUBLAS_GEMM_DEFAULT);
}

cublasStatus_t mvot_gpu_gemm_batched(struct mvot_gpu *g, cublasOperation_t ta, cublasOperation_t tb,
                                     int m, int n, int k, float alpha, const float *A, int lda,
                                     long long sa, const float *B, int ldb, long long sb,
                                     float beta, float *C, int ldc, long long sc, int batch)
{
    cublasComputeType_t ct = g->tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    return cublasGemmStridedBatchedEx(g->blas, ta, tb, m, n, k, &alpha, A, CUDA_R_32F, lda, sa, B,
                                      CUDA_R_32F, ldb, sb, &beta, C, CUDA_R_32F, ldc, sc, batch, ct,
                                      CUBLAS_GEMM_DEFAULT);
}

enum mvot_status mvot_gpu_timing_collect(struct mvot_gpu *g, size_t images, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    float a = 0, b = 0, c = 0;
    GPU_CHECK(cudaEventSynchronize(g->ev[3]), err, "gpu");
    GPU_CHECK(cudaEventElapsedTime(&a, g->ev[0], g->ev[1]), err, "gpu");
    GPU_CHECK(cudaEventElapsedTime(&b, g->ev[1], g->ev[2]), err, "gpu");
    GPU_CHECK(cudaEventElapsedTime(&c, g->ev[2], g->ev[3]), err, "gpu");
    g->timing.h2d_ms += a;
    g->timing.compute_ms += b;
    g->timing.d2h_ms += c;
    g->timing.images += images;
cleanup:
    return st;
}
