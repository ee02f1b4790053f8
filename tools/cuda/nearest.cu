// Nearest-code search on the GPU: code(z) = argmin_k ||z - e_k||^2, first index on ties.
//
// 1. cuBLAS GEMM: dots[i][k] = z_i . e_k for a chunk of queries (FP32 or TF32).
// 2. One warp per query scans its row of K scores s_k = ||e_k||^2 - 2 dots[i][k] (||z||^2 is
//    the same for every k, so it is left out) and keeps the first minimum.
// 3. Refinement (default on): every k with s_k <= s_min + 2*B, where B bounds the
//    rounding error of one score (GEMM error eps * ||z|| * max||e|| plus the float norm and
//    subtraction), is re-scored as sum_d (z_d - e_kd)^2 in float64 by the whole warp, in
//    ascending k with a strict '<', so ties keep the first index. The true argmin is always
//    among the candidates, so the result is the float64 argmin whatever the GEMM precision.
// The chunk's score matrix (rows x K floats) is sized to stay in L2 so step 2 reads it back
// from cache. CPU reference: mvot_ref_nearest in tools/cuda/ref_cpu.c.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tools/cuda/gpu_internal.cuh"

#define WARPS_PER_BLOCK 8

__device__ __forceinline__ void argmin_merge(float &v, int &k, float v2, int k2)
{
    if (v2 < v || (v2 == v && k2 < k)) {
        v = v2;
        k = k2;
    }
}

__device__ __forceinline__ double warp_sum_d(double x)
{
    for (int o = 16; o > 0; o >>= 1)
        x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

// One warp per query row. dots: rows x K (row-major), q element (i, d) at q[i*sn + d*sd].
__global__ void nearest_argmin_kernel(const float *__restrict__ dots,
                                      const float *__restrict__ norm2,
                                      const float *__restrict__ cbvec, const float *__restrict__ q,
                                      size_t sn, size_t sd, int rows, int K, int D, float emax,
                                      float eps, int refine, int32_t *__restrict__ codes)
{
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int row = blockIdx.x * WARPS_PER_BLOCK + warp;
    if (row >= rows)
        return;
    const float *r = dots + (size_t)row * K;
    float best = INFINITY;
    int bk = 0x7fffffff;
    if ((K & 3) == 0) {
        const float4 *r4 = reinterpret_cast<const float4 *>(r);
        const float4 *n4 = reinterpret_cast<const float4 *>(norm2);
        for (int j = lane; j < K / 4; j += 32) {
            float4 d = r4[j], n = n4[j];
            argmin_merge(best, bk, n.x - 2.0f * d.x, 4 * j);
            argmin_merge(best, bk, n.y - 2.0f * d.y, 4 * j + 1);
            argmin_merge(best, bk, n.z - 2.0f * d.z, 4 * j + 2);
            argmin_merge(best, bk, n.w - 2.0f * d.w, 4 * j + 3);
        }
    } else {
        for (int k = lane; k < K; k += 32)
            argmin_merge(best, bk, norm2[k] - 2.0f * r[k], k);
    }
    for (int o = 16; o > 0; o >>= 1) {
        float v2 = __shfl_xor_sync(0xffffffffu, best, o);
        int k2 = __shfl_xor_sync(0xffffffffu, bk, o);
        argmin_merge(best, bk, v2, k2);
    }
    if (bk >= K) // every score NaN (non-finite input): code 0 rather than out of range
        bk = 0;
    if (!refine || !(best == best) || fabsf(best) == INFINITY) {
        if (lane == 0)
            codes[row] = bk;
        return;
    }
    const float *z = q + (size_t)row * sn;
    double zz = 0;
    for (int d = lane; d < D; d += 32) {
        double x = z[(size_t)d * sd];
        zz += x * x;
    }
    zz = warp_sum_d(zz);
    double zn = sqrt(zz), em = emax;
    double bound = 2.0 * eps * zn * em + ldexp(1.0, -22) * (em * em + 2.0 * zn * em);
    float thr = __double2float_ru((double)best + 2.0 * bound);
    double bd = INFINITY;
    int bdk = bk;
    for (int base = 0; base < K; base += 32) {
        int k = base + lane;
        bool cand = k < K && norm2[k] - 2.0f * r[k] <= thr;
        unsigned m = __ballot_sync(0xffffffffu, cand);
        while (m) {
            int kk = base + __ffs(m) - 1;
            m &= m - 1;
            const float *e = cbvec + (size_t)kk * D;
            double s = 0;
            for (int d = lane; d < D; d += 32) {
                double t = (double)z[(size_t)d * sd] - (double)e[d];
                s += t * t;
            }
            s = warp_sum_d(s);
            if (s < bd) {
                bd = s;
                bdk = kk;
            }
        }
    }
    if (lane == 0)
        codes[row] = bdk;
}

extern "C" enum mvot_status mvot_gpu_codebook_create(struct mvot_gpu *g, const float *vec,
                                                     uint32_t K, uint32_t D,
                                                     struct mvot_gpu_codebook **out,
                                                     struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu_codebook *cb = NULL;
    std::vector<float> n2;
    double emax2 = 0;
    *out = NULL;
    MVOT_FAIL_IF(K == 0 || D == 0 || K > (1u << 24) || D > 65536, err, MVOT_ERR_INVALID,
                 "gpu codebook", "bad shape %u x %u", K, D);
    cb = (struct mvot_gpu_codebook *)calloc(1, sizeof *cb);
    MVOT_FAIL_IF(!cb, err, MVOT_ERR_NOMEM, "gpu codebook", "out of memory");
    cb->g = g;
    cb->K = K;
    cb->D = D;
    n2.resize(K);
    for (uint32_t k = 0; k < K; k++) {
        double s = 0;
        for (uint32_t d = 0; d < D; d++) {
            double x = vec[(size_t)k * D + d];
            s += x * x;
        }
        n2[k] = (float)s;
        emax2 = std::max(emax2, s);
    }
    cb->emax = (float)(sqrt(emax2) * (1.0 + 1e-6));
    GPU_CHECK(cudaMalloc((void **)&cb->vec, (size_t)K * D * sizeof(float)), err, "gpu codebook");
    GPU_CHECK(cudaMalloc((void **)&cb->norm2, (size_t)K * sizeof(float)), err, "gpu codebook");
    GPU_CHECK(cudaMemcpy(cb->vec, vec, (size_t)K * D * sizeof(float), cudaMemcpyHostToDevice), err,
              "gpu codebook");
    GPU_CHECK(cudaMemcpy(cb->norm2, n2.data(), (size_t)K * sizeof(float), cudaMemcpyHostToDevice),
              err, "gpu codebook");
    *out = cb;
    cb = NULL;
cleanup:
    mvot_gpu_codebook_free(cb);
    return st;
}

extern "C" void mvot_gpu_codebook_free(struct mvot_gpu_codebook *cb)
{
    if (!cb)
        return;
    cudaFree(cb->vec);
    cudaFree(cb->norm2);
    cudaFree(cb->dots);
    free(cb);
}

enum mvot_status mvot_gpu_codebook_reserve(struct mvot_gpu_codebook *cb, size_t rows,
                                           struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    if (rows <= cb->chunk_rows)
        return MVOT_OK;
    cudaFree(cb->dots);
    cb->dots = NULL;
    cb->chunk_rows = 0;
    GPU_CHECK(cudaMalloc((void **)&cb->dots, rows * cb->K * sizeof(float)), err, "gpu search");
    cb->chunk_rows = rows;
cleanup:
    return st;
}

// Default chunk: a score matrix of about 32 MB, which stays in the H100's 50 MB L2.
static size_t default_chunk_rows(uint32_t K)
{
    size_t r = ((size_t)8 << 20) / K;
    r = std::max<size_t>(r, 128);
    r = std::min<size_t>(r, 65536);
    return r;
}

static float gemm_eps(const struct mvot_gpu *g, uint32_t D)
{
    double u = ldexp(1.0, -24);
    double e = (double)D * u;
    if (g->tf32)
        e += ldexp(1.0, -9); // both operands rounded (or truncated) to a 10-bit mantissa
    return (float)e;
}

static enum mvot_status chunk_gemm(struct mvot_gpu_codebook *cb, const float *q, size_t rows,
                                   size_t sn, size_t sd, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    // dots, column-major K x rows (= row-major rows x K) = E^T (K x D) * Z (D x rows).
    // A single query has sn == sd == 1 (a 16 px VQGAN image): it is contiguous in d.
    if (sd == 1) {
        BLAS_CHECK(mvot_gpu_gemm(cb->g, CUBLAS_OP_T, CUBLAS_OP_N, (int)cb->K, (int)rows, (int)cb->D,
                                 1.0f, cb->vec, (int)cb->D, q, (int)std::max<size_t>(sn, cb->D),
                                 0.0f, cb->dots, (int)cb->K),
                   err, "gpu search");
    } else if (sn == 1) {
        BLAS_CHECK(mvot_gpu_gemm(cb->g, CUBLAS_OP_T, CUBLAS_OP_T, (int)cb->K, (int)rows, (int)cb->D,
                                 1.0f, cb->vec, (int)cb->D, q, (int)sd, 0.0f, cb->dots, (int)cb->K),
                   err, "gpu search");
    } else {
        st = mvot_error_set(err, MVOT_ERR_INTERNAL, "gpu search", "unsupported query strides");
    }
cleanup:
    return st;
}

static enum mvot_status search_chunks(struct mvot_gpu_codebook *cb, const float *q, size_t n,
                                      size_t sn, size_t sd, int32_t *codes, size_t chunk,
                                      int do_argmin, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    float eps = gemm_eps(cb->g, cb->D);
    MVOT_TRY(mvot_gpu_codebook_reserve(cb, std::min(chunk, n), err));
    for (size_t i0 = 0; i0 < n; i0 += chunk) {
        size_t rows = std::min(chunk, n - i0);
        MVOT_TRY(chunk_gemm(cb, q + i0 * sn, rows, sn, sd, err));
        if (!do_argmin)
            continue;
        nearest_argmin_kernel<<<mvot_gpu_blocks(rows, WARPS_PER_BLOCK), 32 * WARPS_PER_BLOCK, 0,
                                cb->g->stream>>>(cb->dots, cb->norm2, cb->vec, q + i0 * sn, sn, sd,
                                                 (int)rows, (int)cb->K, (int)cb->D, cb->emax, eps,
                                                 cb->g->refine, codes + i0);
        LAUNCH_CHECK(err, "gpu search");
    }
cleanup:
    return st;
}

enum mvot_status mvot_gpu_nearest_dev(struct mvot_gpu_codebook *cb, const float *q, size_t n,
                                      size_t sn, size_t sd, int32_t *codes, struct mvot_error *err)
{
    return search_chunks(cb, q, n, sn, sd, codes, default_chunk_rows(cb->K), 1, err);
}

extern "C" enum mvot_status mvot_gpu_nearest(struct mvot_gpu *g,
                                             const struct mvot_gpu_codebook *cbc,
                                             const float *queries, size_t n, int32_t *codes,
                                             struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu_codebook *cb = (struct mvot_gpu_codebook *)cbc;
    float *dq = NULL;
    int32_t *dc = NULL;
    if (n == 0)
        return MVOT_OK;
    GPU_CHECK(cudaMalloc((void **)&dq, n * cb->D * sizeof(float)), err, "gpu search");
    GPU_CHECK(cudaMalloc((void **)&dc, n * sizeof(int32_t)), err, "gpu search");
    GPU_CHECK(cudaEventRecord(g->ev[0], g->stream), err, "gpu search");
    GPU_CHECK(
        cudaMemcpyAsync(dq, queries, n * cb->D * sizeof(float), cudaMemcpyHostToDevice, g->stream),
        err, "gpu search");
    GPU_CHECK(cudaEventRecord(g->ev[1], g->stream), err, "gpu search");
    MVOT_TRY(mvot_gpu_nearest_dev(cb, dq, n, cb->D, 1, dc, err));
    GPU_CHECK(cudaEventRecord(g->ev[2], g->stream), err, "gpu search");
    GPU_CHECK(cudaMemcpyAsync(codes, dc, n * sizeof(int32_t), cudaMemcpyDeviceToHost, g->stream),
              err, "gpu search");
    GPU_CHECK(cudaEventRecord(g->ev[3], g->stream), err, "gpu search");
    MVOT_TRY(mvot_gpu_timing_collect(g, 0, err));
cleanup:
    cudaFree(dq);
    cudaFree(dc);
    return st;
}

static double median(std::vector<float> &v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : (double)v[v.size() / 2];
}

extern "C" enum mvot_status mvot_gpu_nearest_bench(struct mvot_gpu *g,
                                                   const struct mvot_gpu_codebook *cbc,
                                                   const float *host_queries, size_t n, int iters,
                                                   size_t chunk_rows, double *search_ms,
                                                   double *gemm_ms, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu_codebook *cb = (struct mvot_gpu_codebook *)cbc;
    float *dq = NULL;
    int32_t *dc = NULL;
    std::vector<float> ts, tg;
    size_t chunk = chunk_rows ? chunk_rows : default_chunk_rows(cb->K);
    GPU_CHECK(cudaMalloc((void **)&dq, n * cb->D * sizeof(float)), err, "gpu bench");
    GPU_CHECK(cudaMalloc((void **)&dc, n * sizeof(int32_t)), err, "gpu bench");
    GPU_CHECK(cudaMemcpy(dq, host_queries, n * cb->D * sizeof(float), cudaMemcpyHostToDevice), err,
              "gpu bench");
    for (int it = -2; it < iters; it++) {
        for (int mode = 0; mode < 2; mode++) {
            float ms = 0;
            GPU_CHECK(cudaEventRecord(g->ev[0], g->stream), err, "gpu bench");
            MVOT_TRY(search_chunks(cb, dq, n, cb->D, 1, dc, chunk, mode == 0, err));
            GPU_CHECK(cudaEventRecord(g->ev[1], g->stream), err, "gpu bench");
            GPU_CHECK(cudaEventSynchronize(g->ev[1]), err, "gpu bench");
            GPU_CHECK(cudaEventElapsedTime(&ms, g->ev[0], g->ev[1]), err, "gpu bench");
            if (it >= 0)
                (mode == 0 ? ts : tg).push_back(ms);
        }
    }
    *search_ms = median(ts);
    *gemm_ms = median(tg);
cleanup:
    cudaFree(dq);
    cudaFree(dc);
    return st;
}
