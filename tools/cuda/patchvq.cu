// Patch-VQ on the GPU (docs/chameleon.md §5): encode = patchify each S x S RGB frame into
// (S/P)^2 vectors of P*P*3 floats (element (y, x, c) at (y*P + x)*3 + c, the codebook's
// layout), then nearest-code search (nearest.cu); decode = gather each code's patch back,
// rounded to nearest and clamped to 0..255. Images go through in batches that bound the
// device memory. CPU references: mvot_ref_patchify / mvot_ref_patch_decode (ref_cpu.c).
#include <algorithm>
#include <cstdlib>

#include "tools/cuda/gpu_internal.cuh"

struct mvot_gpu_patchvq {
    struct mvot_gpu *g;
    struct mvot_gpu_codebook *cb;
    uint32_t K, P, S, grid, D;
    size_t batch; // images per device round trip
    uint8_t *img; // device batch * S*S*3
    float *patches;
    int32_t *codes;
};

__global__ void patchify_kernel(const uint8_t *__restrict__ rgb, size_t n_img, int S, int P,
                                float *__restrict__ out)
{
    int grid = S / P, D = P * P * 3;
    size_t total = n_img * (size_t)S * S * 3;
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total;
         o += (size_t)gridDim.x * blockDim.x) {
        size_t patch = o / D;
        int e = (int)(o % D);
        int c = e % 3, x = (e / 3) % P, y = e / (3 * P);
        size_t img = patch / ((size_t)grid * grid);
        int pp = (int)(patch % ((size_t)grid * grid));
        int py = pp / grid, px = pp % grid;
        size_t src = ((img * S + (size_t)(py * P + y)) * S + (size_t)(px * P + x)) * 3 + c;
        out[o] = (float)rgb[src];
    }
}

__global__ void patch_decode_kernel(const int32_t *__restrict__ codes,
                                    const float *__restrict__ vec, size_t n_img, int S, int P,
                                    uint8_t *__restrict__ rgb)
{
    int grid = S / P, D = P * P * 3;
    size_t total = n_img * (size_t)S * S * 3;
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total;
         o += (size_t)gridDim.x * blockDim.x) {
        int c = (int)(o % 3);
        size_t pix = o / 3;
        int X = (int)(pix % S);
        size_t row = pix / S;
        int Y = (int)(row % S);
        size_t img = row / S;
        int code = codes[img * grid * grid + (size_t)(Y / P) * grid + X / P];
        float v = vec[(size_t)code * D + ((Y % P) * P + X % P) * 3 + c];
        v = floorf(v + 0.5f);
        v = fminf(fmaxf(v, 0.0f), 255.0f);
        rgb[o] = (uint8_t)v;
    }
}

extern "C" enum mvot_status mvot_gpu_patchvq_create(struct mvot_gpu *g, const float *vec,
                                                    uint32_t K, uint32_t P, uint32_t S,
                                                    struct mvot_gpu_patchvq **out,
                                                    struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu_patchvq *pv = NULL;
    size_t per_img;
    *out = NULL;
    MVOT_FAIL_IF(P == 0 || S == 0 || S % P != 0 || S > 8192, err, MVOT_ERR_INVALID, "gpu patchvq",
                 "image size %u is not a multiple of patch %u", S, P);
    pv = (struct mvot_gpu_patchvq *)calloc(1, sizeof *pv);
    MVOT_FAIL_IF(!pv, err, MVOT_ERR_NOMEM, "gpu patchvq", "out of memory");
    pv->g = g;
    pv->K = K;
    pv->P = P;
    pv->S = S;
    pv->grid = S / P;
    pv->D = P * P * 3;
    MVOT_TRY(mvot_gpu_codebook_create(g, vec, K, pv->D, &pv->cb, err));
    // About 256 MB of patch floats per batch: large enough to fill the GEMM, small enough
    // for any card.
    per_img = (size_t)S * S * 3 * sizeof(float);
    pv->batch = std::max<size_t>(1, std::min<size_t>(1024, ((size_t)256 << 20) / per_img));
    GPU_CHECK(cudaMalloc((void **)&pv->img, pv->batch * S * S * 3), err, "gpu patchvq");
    GPU_CHECK(cudaMalloc((void **)&pv->patches, pv->batch * per_img), err, "gpu patchvq");
    GPU_CHECK(cudaMalloc((void **)&pv->codes, pv->batch * pv->grid * pv->grid * sizeof(int32_t)),
              err, "gpu patchvq");
    *out = pv;
    pv = NULL;
cleanup:
    mvot_gpu_patchvq_free(pv);
    return st;
}

extern "C" void mvot_gpu_patchvq_free(struct mvot_gpu_patchvq *pv)
{
    if (!pv)
        return;
    mvot_gpu_codebook_free(pv->cb);
    cudaFree(pv->img);
    cudaFree(pv->patches);
    cudaFree(pv->codes);
    free(pv);
}

extern "C" enum mvot_status mvot_gpu_patchvq_encode(struct mvot_gpu_patchvq *pv, const uint8_t *rgb,
                                                    size_t n, int32_t *codes,
                                                    struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu *g = pv->g;
    size_t img_bytes = (size_t)pv->S * pv->S * 3, ncode = (size_t)pv->grid * pv->grid;
    for (size_t i0 = 0; i0 < n; i0 += pv->batch) {
        size_t b = std::min(pv->batch, n - i0);
        GPU_CHECK(cudaEventRecord(g->ev[0], g->stream), err, "gpu patchvq");
        GPU_CHECK(cudaMemcpyAsync(pv->img, rgb + i0 * img_bytes, b * img_bytes,
                                  cudaMemcpyHostToDevice, g->stream),
                  err, "gpu patchvq");
        GPU_CHECK(cudaEventRecord(g->ev[1], g->stream), err, "gpu patchvq");
        unsigned blocks = std::min(mvot_gpu_blocks(b * img_bytes, 256), 65536u);
        patchify_kernel<<<blocks, 256, 0, g->stream>>>(pv->img, b, (int)pv->S, (int)pv->P,
                                                       pv->patches);
        LAUNCH_CHECK(err, "gpu patchvq");
        MVOT_TRY(mvot_gpu_nearest_dev(pv->cb, pv->patches, b * ncode, pv->D, 1, pv->codes, err));
        GPU_CHECK(cudaEventRecord(g->ev[2], g->stream), err, "gpu patchvq");
        GPU_CHECK(cudaMemcpyAsync(codes + i0 * ncode, pv->codes, b * ncode * sizeof(int32_t),
                                  cudaMemcpyDeviceToHost, g->stream),
                  err, "gpu patchvq");
        GPU_CHECK(cudaEventRecord(g->ev[3], g->stream), err, "gpu patchvq");
        MVOT_TRY(mvot_gpu_timing_collect(g, b, err));
    }
cleanup:
    return st;
}

extern "C" enum mvot_status mvot_gpu_patchvq_decode(struct mvot_gpu_patchvq *pv,
                                                    const int32_t *codes, size_t n, uint8_t *rgb,
                                                    struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu *g = pv->g;
    size_t img_bytes = (size_t)pv->S * pv->S * 3, ncode = (size_t)pv->grid * pv->grid;
    for (size_t i = 0; i < n * ncode; i++)
        MVOT_FAIL_IF(codes[i] < 0 || (uint32_t)codes[i] >= pv->K, err, MVOT_ERR_INVALID,
                     "gpu patchvq", "image %zu: code %d out of range (K = %u)", i / ncode,
                     (int)codes[i], pv->K);
    for (size_t i0 = 0; i0 < n; i0 += pv->batch) {
        size_t b = std::min(pv->batch, n - i0);
        unsigned blocks = std::min(mvot_gpu_blocks(b * img_bytes, 256), 65536u);
        GPU_CHECK(cudaMemcpyAsync(pv->codes, codes + i0 * ncode, b * ncode * sizeof(int32_t),
                                  cudaMemcpyHostToDevice, g->stream),
                  err, "gpu patchvq");
        patch_decode_kernel<<<blocks, 256, 0, g->stream>>>(pv->codes, pv->cb->vec, b, (int)pv->S,
                                                           (int)pv->P, pv->img);
        LAUNCH_CHECK(err, "gpu patchvq");
        GPU_CHECK(cudaMemcpyAsync(rgb + i0 * img_bytes, pv->img, b * img_bytes,
                                  cudaMemcpyDeviceToHost, g->stream),
                  err, "gpu patchvq");
        GPU_CHECK(cudaStreamSynchronize(g->stream), err, "gpu patchvq");
    }
cleanup:
    return st;
}
