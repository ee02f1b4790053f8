// The Chameleon VQGAN encoder on the GPU (docs/chameleon.md §4), fp32 weights and activations.
//
// Activations live channel-major across the batch, [C][B][H*W], so every convolution of a
// batch is ONE GEMM: out (Cout x B*Ho*Wo) = W (Cout x Cin*k*k) * col (Cin*k*k x B*Ho*Wo).
// 3x3 convolutions go through im2col in column chunks (bounded scratch); 1x1 convolutions
// use the activation directly. Bias and residual are written into the output first and the
// GEMM accumulates onto them (beta = 1). GroupNorm(32, eps 1e-6) reduces each (image,
// group) in float64 with a fixed-order two-stage reduction (deterministic), and applies
// gamma/beta and optionally swish in one pass. Mid attention is single-head over the
// H*W positions with scale C^-0.5, as strided-batched GEMMs around a row softmax.
// Downsample: zero pad right/bottom by 1, 3x3 conv stride 2, no other padding.
// CPU reference: tokenize/vqgan.c (mvot_vqgan_encode); tests/test in tools/cuda.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "core/safetensors.h"
}
#include "tools/cuda/gpu_internal.cuh"

#define MAX_LEVELS 8
#define MAX_BLOCKS 4
#define GN_GROUPS 32
#define GN_EPS 1e-6

namespace
{

struct conv_w {
    float *w = nullptr, *b = nullptr;
    int cout = 0, cin = 0, k = 0;
};
struct norm_w {
    float *g = nullptr, *b = nullptr;
    int c = 0;
};
struct res_w {
    norm_w n1, n2;
    conv_w c1, c2, nin;
    int cin = 0, cout = 0;
};
struct attn_w {
    norm_w n;
    conv_w q, k, v, proj;
};

} // namespace

struct mvot_gpu_vqgan {
    struct mvot_gpu *g;
    uint32_t ch, levels, nblocks, z, K, D;
    uint32_t mult[MAX_LEVELS];
    conv_w conv_in, conv_out, quant_conv;
    res_w block[MAX_LEVELS][MAX_BLOCKS];
    conv_w down[MAX_LEVELS];
    int has_down[MAX_LEVELS];
    res_w mid1, mid2;
    attn_w attn;
    norm_w norm_out;
    struct mvot_gpu_codebook *cb;
    std::vector<void *> *allocs; // every weight buffer, freed together
    // Scratch, sized for (batch, S) on first use.
    uint32_t batch_req, batch, S;
    size_t act_floats, col_floats, attn_floats;
    float *act[5];
    float *col, *scores, *latent_t;
    uint8_t *img;
    double *gn_part;
    float *gn_stats;
    int32_t *codes;
};

// ---- kernels ---------------------------------------------------------------------------

// u8 S x S x 3 interleaved -> [3][B][S*S], f32(f32(u8 * 0.0078) - 1) as HF computes it.
__global__ void prep_kernel(const uint8_t *__restrict__ rgb, int B, int HW, float *__restrict__ out)
{
    size_t total = (size_t)3 * B * HW;
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total;
         o += (size_t)gridDim.x * blockDim.x) {
        int c = (int)(o / ((size_t)B * HW));
        size_t bp = o % ((size_t)B * HW);
        float v = __double2float_rn((double)rgb[bp * 3 + c] * 0.0078);
        out[o] = v - 1.0f;
    }
}

// [B][3][HW] planar floats -> [3][B][HW].
__global__ void planar_to_cbhw_kernel(const float *__restrict__ in, int B, int C, int HW,
                                      float *__restrict__ out)
{
    size_t total = (size_t)C * B * HW;
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total;
         o += (size_t)gridDim.x * blockDim.x) {
        int c = (int)(o / ((size_t)B * HW));
        size_t bp = o % ((size_t)B * HW);
        size_t b = bp / HW, p = bp % HW;
        out[o] = in[(b * C + c) * HW + p];
    }
}

// [C][B][HW] -> [B][C][HW] (latents to per-image CHW).
__global__ void cbhw_to_planar_kernel(const float *__restrict__ in, int B, int C, int HW,
                                      float *__restrict__ out)
{
    size_t total = (size_t)C * B * HW;
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total;
         o += (size_t)gridDim.x * blockDim.x) {
        size_t b = o / ((size_t)C * HW);
        size_t cp = o % ((size_t)C * HW);
        size_t c = cp / HW, p = cp % HW;
        out[o] = in[(c * B + b) * HW + p];
    }
}

// out[c][n] = bias[c] (+ res[c][n] when res is given).
__global__ void bias_kernel(float *out, const float *__restrict__ bias, const float *res, int C,
                            size_t N)
{
    size_t total = (size_t)C * N;
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total;
         o += (size_t)gridDim.x * blockDim.x) {
        float v = bias[o / N];
        out[o] = res ? res[o] + v : v;
    }
}

// im2col of a [Cin][B][H][W] tensor for columns [n0, n0 + nc) of the B*Ho*Wo outputs.
// mode 0: stride 1, zero pad 1 on every side. mode 1: stride 2, zero pad right/bottom by 1.
__global__ void im2col_kernel(const float *__restrict__ in, int Cin, int B, int H, int W, int Ho,
                              int Wo, int mode, unsigned n0, unsigned nc, float *__restrict__ col)
{
    // 32-bit index math: the caller keeps Cin*9*nc and B*Ho*Wo below 2^31 (col_floats and
    // the batch cap), and 64-bit division is several times slower on the GPU.
    unsigned total = (unsigned)Cin * 9u * nc, HWo = (unsigned)(Ho * Wo);
    for (unsigned o = blockIdx.x * blockDim.x + threadIdx.x; o < total;
         o += gridDim.x * blockDim.x) {
        unsigned j = o % nc, kidx = o / nc;
        unsigned ci = kidx / 9u, r9 = kidx % 9u, ky = r9 / 3u, kx = r9 % 3u;
        unsigned n = n0 + j, b = n / HWo, p = n % HWo;
        int oy = (int)(p / (unsigned)Wo), ox = (int)(p % (unsigned)Wo);
        int iy, ix;
        if (mode == 0) {
            iy = oy + (int)ky - 1;
            ix = ox + (int)kx - 1;
        } else {
            iy = 2 * oy + (int)ky;
            ix = 2 * ox + (int)kx;
        }
        float v = 0.0f;
        if (iy >= 0 && iy < H && ix >= 0 && ix < W)
            v = in[(((size_t)ci * B + b) * H + iy) * W + ix];
        col[o] = v;
    }
}

// [C][B][H][W] images b0..b0+nb-1 -> [C][nb][H+1][W+1] with a zero last row and column
// (the downsample's right/bottom padding, for an unpadded cuDNN conv).
__global__ void pad_rb_kernel(const float *__restrict__ in, int C, int B, int H, int W, int b0,
                              int nb, float *__restrict__ out)
{
    size_t Hp = (size_t)H + 1, Wp = (size_t)W + 1, total = (size_t)C * nb * Hp * Wp;
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total;
         o += (size_t)gridDim.x * blockDim.x) {
        size_t x = o % Wp, y = (o / Wp) % Hp, j = (o / (Wp * Hp)) % nb, c = o / (Wp * Hp * nb);
        float v = 0.0f;
        if (y < (size_t)H && x < (size_t)W)
            v = in[((c * B + b0 + j) * H + y) * W + x];
        out[o] = v;
    }
}

#define GN_THREADS 256

// Partial sums of one chunk of one (image, group): part[(bg * nchunk + chunk) * 2 + {0,1}].
__global__ void gn_partial_kernel(const float *__restrict__ x, int C, int B, int HW, int G,
                                  int nchunk, double *__restrict__ part)
{
    __shared__ double s1[GN_THREADS], s2[GN_THREADS];
    int chunk = blockIdx.x, bg = blockIdx.y;
    int b = bg / G, g = bg % G, cpg = C / G;
    size_t total = (size_t)cpg * HW;
    size_t per = (total + nchunk - 1) / nchunk;
    size_t e0 = (size_t)chunk * per, e1 = e0 + per < total ? e0 + per : total;
    double a = 0, q = 0;
    for (size_t e = e0 + threadIdx.x; e < e1; e += blockDim.x) {
        size_t c = (size_t)g * cpg + e / HW, p = e % HW;
        double v = x[(c * B + b) * HW + p];
        a += v;
        q += v * v;
    }
    s1[threadIdx.x] = a;
    s2[threadIdx.x] = q;
    __syncthreads();
    for (int s = GN_THREADS / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) {
            s1[threadIdx.x] += s1[threadIdx.x + s];
            s2[threadIdx.x] += s2[threadIdx.x + s];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        part[((size_t)bg * nchunk + chunk) * 2] = s1[0];
        part[((size_t)bg * nchunk + chunk) * 2 + 1] = s2[0];
    }
}

// stats[bg*2] = mean, stats[bg*2+1] = 1/sqrt(var + eps), var biased (as torch).
__global__ void gn_final_kernel(const double *__restrict__ part, int nbg, int nchunk, double count,
                                float *__restrict__ stats)
{
    int bg = blockIdx.x * blockDim.x + threadIdx.x;
    if (bg >= nbg)
        return;
    double a = 0, q = 0;
    for (int i = 0; i < nchunk; i++) {
        a += part[((size_t)bg * nchunk + i) * 2];
        q += part[((size_t)bg * nchunk + i) * 2 + 1];
    }
    double mean = a / count, var = q / count - mean * mean;
    if (var < 0)
        var = 0;
    stats[bg * 2] = (float)mean;
    stats[bg * 2 + 1] = (float)(1.0 / sqrt(var + GN_EPS));
}

__global__ void gn_apply_kernel(const float *__restrict__ x, const float *__restrict__ stats,
                                const float *__restrict__ gamma, const float *__restrict__ beta,
                                int C, int B, int HW, int G, int swish, float *__restrict__ y)
{
    size_t total = (size_t)C * B * HW;
    int cpg = C / G;
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total;
         o += (size_t)gridDim.x * blockDim.x) {
        int c = (int)(o / ((size_t)B * HW));
        int b = (int)((o / HW) % B);
        int bg = b * G + c / cpg;
        float v = (x[o] - stats[bg * 2]) * stats[bg * 2 + 1] * gamma[c] + beta[c];
        if (swish)
            v = v / (1.0f + expf(-v));
        y[o] = v;
    }
}

// Softmax of each row of length N, in place. One block per row.
__global__ void softmax_rows_kernel(float *__restrict__ s, int N)
{
    __shared__ float red[32];
    float *r = s + (size_t)blockIdx.x * N;
    float m = -INFINITY;
    for (int j = threadIdx.x; j < N; j += blockDim.x)
        m = fmaxf(m, r[j]);
    for (int o = 16; o > 0; o >>= 1)
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    if ((threadIdx.x & 31) == 0)
        red[threadIdx.x >> 5] = m;
    __syncthreads();
    if (threadIdx.x < 32) {
        float t = threadIdx.x < blockDim.x / 32 ? red[threadIdx.x] : -INFINITY;
        for (int o = 16; o > 0; o >>= 1)
            t = fmaxf(t, __shfl_xor_sync(0xffffffffu, t, o));
        if (threadIdx.x == 0)
            red[0] = t;
    }
    __syncthreads();
    m = red[0];
    __syncthreads();
    float sum = 0;
    for (int j = threadIdx.x; j < N; j += blockDim.x) {
        float e = expf(r[j] - m);
        r[j] = e;
        sum += e;
    }
    for (int o = 16; o > 0; o >>= 1)
        sum += __shfl_xor_sync(0xffffffffu, sum, o);
    if ((threadIdx.x & 31) == 0)
        red[threadIdx.x >> 5] = sum;
    __syncthreads();
    if (threadIdx.x < 32) {
        float t = threadIdx.x < blockDim.x / 32 ? red[threadIdx.x] : 0.0f;
        for (int o = 16; o > 0; o >>= 1)
            t += __shfl_xor_sync(0xffffffffu, t, o);
        if (threadIdx.x == 0)
            red[0] = t;
    }
    __syncthreads();
    float inv = 1.0f / red[0];
    for (int j = threadIdx.x; j < N; j += blockDim.x)
        r[j] *= inv;
}

// ---- weights ---------------------------------------------------------------------------

namespace
{

struct loader {
    struct mvot_safetensors *st;
    const char *prefix;
    std::vector<void *> *allocs;
    struct mvot_error *err;
    const char *path;
};

const struct mvot_tensor *find(loader &L, const std::string &name)
{
    std::string full = std::string(L.prefix) + name;
    return mvot_st_find(L.st, full.c_str());
}

enum mvot_status upload(loader &L, const std::string &name, int ndim, const int64_t *shape,
                        float **dst)
{
    enum mvot_status st = MVOT_OK;
    const struct mvot_tensor *t = find(L, name);
    std::vector<float> host;
    float *d = nullptr;
    size_t n;
    MVOT_FAIL_IF(!t, L.err, MVOT_ERR_NOTFOUND, L.path, "tensor %s%s missing", L.prefix,
                 name.c_str());
    MVOT_TRY(mvot_tensor_expect_shape(t, ndim, shape, L.path, L.err));
    n = (size_t)mvot_tensor_numel(t);
    host.resize(n);
    MVOT_TRY(mvot_tensor_to_f32(t, host.data(), L.err));
    GPU_CHECK(cudaMalloc((void **)&d, n * sizeof(float)), L.err, "gpu vqgan");
    L.allocs->push_back(d);
    GPU_CHECK(cudaMemcpy(d, host.data(), n * sizeof(float), cudaMemcpyHostToDevice), L.err,
              "gpu vqgan");
    *dst = d;
cleanup:
    return st;
}

enum mvot_status load_conv(loader &L, const std::string &name, int cout, int cin, int k, conv_w *c)
{
    enum mvot_status st = MVOT_OK;
    int64_t ws[4] = {cout, cin, k, k}, bs[1] = {cout};
    c->cout = cout;
    c->cin = cin;
    c->k = k;
    MVOT_TRY(upload(L, name + ".weight", 4, ws, &c->w));
    MVOT_TRY(upload(L, name + ".bias", 1, bs, &c->b));
cleanup:
    return st;
}

enum mvot_status load_norm(loader &L, const std::string &name, int c, norm_w *n)
{
    enum mvot_status st = MVOT_OK;
    int64_t s[1] = {c};
    n->c = c;
    MVOT_FAIL_IF(c % GN_GROUPS != 0, L.err, MVOT_ERR_CORRUPT, L.path,
                 "%s: %d channels is not a multiple of %d groups", name.c_str(), c, GN_GROUPS);
    MVOT_TRY(upload(L, name + ".weight", 1, s, &n->g));
    MVOT_TRY(upload(L, name + ".bias", 1, s, &n->b));
cleanup:
    return st;
}

enum mvot_status load_res(loader &L, const std::string &name, int cin, int cout, res_w *r)
{
    enum mvot_status st = MVOT_OK;
    r->cin = cin;
    r->cout = cout;
    MVOT_TRY(load_norm(L, name + ".norm1", cin, &r->n1));
    MVOT_TRY(load_conv(L, name + ".conv1", cout, cin, 3, &r->c1));
    MVOT_TRY(load_norm(L, name + ".norm2", cout, &r->n2));
    MVOT_TRY(load_conv(L, name + ".conv2", cout, cout, 3, &r->c2));
    if (cin != cout)
        MVOT_TRY(load_conv(L, name + ".nin_shortcut", cout, cin, 1, &r->nin));
cleanup:
    return st;
}

// Output channels of a conv weight [cout, cin, k, k], or -1.
int64_t dim0(loader &L, const std::string &name)
{
    const struct mvot_tensor *t = find(L, name);
    return t && t->ndim >= 1 ? t->shape[0] : -1;
}

} // namespace

extern "C" enum mvot_status mvot_gpu_vqgan_load(struct mvot_gpu *g, const char *path,
                                                struct mvot_gpu_vqgan **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu_vqgan *m = NULL;
    struct mvot_safetensors *sf = NULL;
    loader L;
    int64_t ch, c, cprev, z, emb_k, emb_d;
    const struct mvot_tensor *emb;
    std::vector<float> cbhost;
    *out = NULL;
    MVOT_TRY(mvot_st_open(path, &sf, err));
    m = new (std::nothrow) mvot_gpu_vqgan();
    MVOT_FAIL_IF(!m, err, MVOT_ERR_NOMEM, path, "out of memory");
    m->g = g;
    m->allocs = new (std::nothrow) std::vector<void *>();
    MVOT_FAIL_IF(!m->allocs, err, MVOT_ERR_NOMEM, path, "out of memory");
    L.st = sf;
    L.allocs = m->allocs;
    L.err = err;
    L.path = path;
    L.prefix = "model.vqmodel.";
    if (!find(L, "encoder.conv_in.weight"))
        L.prefix = "";
    ch = dim0(L, "encoder.conv_in.weight");
    MVOT_FAIL_IF(ch <= 0, err, MVOT_ERR_NOTFOUND, path,
                 "not a VQGAN checkpoint: encoder.conv_in.weight missing");
    m->ch = (uint32_t)ch;
    MVOT_TRY(load_conv(L, "encoder.conv_in", (int)ch, 3, 3, &m->conv_in));
    m->nblocks = 0;
    while (m->nblocks < MAX_BLOCKS &&
           find(L, "encoder.down.0.block." + std::to_string(m->nblocks) + ".conv1.weight"))
        m->nblocks++;
    MVOT_FAIL_IF(m->nblocks == 0, err, MVOT_ERR_NOTFOUND, path, "encoder.down.0.block.0 missing");
    m->levels = 0;
    cprev = ch;
    while (m->levels < MAX_LEVELS) {
        std::string lv = "encoder.down." + std::to_string(m->levels);
        c = dim0(L, lv + ".block.0.conv1.weight");
        if (c <= 0)
            break;
        MVOT_FAIL_IF(c % ch != 0, err, MVOT_ERR_CORRUPT, path, "%s: %lld channels", lv.c_str(),
                     (long long)c);
        m->mult[m->levels] = (uint32_t)(c / ch);
        for (uint32_t j = 0; j < m->nblocks; j++) {
            std::string bn = lv + ".block." + std::to_string(j);
            MVOT_TRY(load_res(L, bn, (int)(j == 0 ? cprev : c), (int)c, &m->block[m->levels][j]));
        }
        m->has_down[m->levels] = find(L, lv + ".downsample.conv.weight") != NULL;
        if (m->has_down[m->levels])
            MVOT_TRY(load_conv(L, lv + ".downsample.conv", (int)c, (int)c, 3, &m->down[m->levels]));
        cprev = c;
        m->levels++;
    }
    MVOT_TRY(load_res(L, "encoder.mid.block_1", (int)cprev, (int)cprev, &m->mid1));
    MVOT_TRY(load_norm(L, "encoder.mid.attn_1.norm", (int)cprev, &m->attn.n));
    MVOT_TRY(load_conv(L, "encoder.mid.attn_1.q", (int)cprev, (int)cprev, 1, &m->attn.q));
    MVOT_TRY(load_conv(L, "encoder.mid.attn_1.k", (int)cprev, (int)cprev, 1, &m->attn.k));
    MVOT_TRY(load_conv(L, "encoder.mid.attn_1.v", (int)cprev, (int)cprev, 1, &m->attn.v));
    MVOT_TRY(load_conv(L, "encoder.mid.attn_1.proj_out", (int)cprev, (int)cprev, 1, &m->attn.proj));
    MVOT_TRY(load_res(L, "encoder.mid.block_2", (int)cprev, (int)cprev, &m->mid2));
    MVOT_TRY(load_norm(L, "encoder.norm_out", (int)cprev, &m->norm_out));
    z = dim0(L, "encoder.conv_out.weight");
    MVOT_FAIL_IF(z <= 0, err, MVOT_ERR_NOTFOUND, path, "encoder.conv_out.weight missing");
    m->z = (uint32_t)z;
    MVOT_TRY(load_conv(L, "encoder.conv_out", (int)z, (int)cprev, 3, &m->conv_out));
    emb = find(L, "quantize.embedding.weight");
    MVOT_FAIL_IF(!emb || emb->ndim != 2, err, MVOT_ERR_NOTFOUND, path,
                 "quantize.embedding.weight missing");
    emb_k = emb->shape[0];
    emb_d = emb->shape[1];
    MVOT_TRY(load_conv(L, "quant_conv", (int)emb_d, (int)z, 1, &m->quant_conv));
    m->K = (uint32_t)emb_k;
    m->D = (uint32_t)emb_d;
    cbhost.resize((size_t)emb_k * emb_d);
    MVOT_TRY(mvot_tensor_to_f32(emb, cbhost.data(), err));
    MVOT_TRY(mvot_gpu_codebook_create(g, cbhost.data(), m->K, m->D, &m->cb, err));
    *out = m;
    m = NULL;
cleanup:
    mvot_st_close(sf);
    mvot_gpu_vqgan_free(m);
    return st;
}

static void free_scratch(struct mvot_gpu_vqgan *m)
{
    for (int i = 0; i < 5; i++) {
        cudaFree(m->act[i]);
        m->act[i] = NULL;
    }
    cudaFree(m->col);
    cudaFree(m->scores);
    cudaFree(m->latent_t);
    cudaFree(m->img);
    cudaFree(m->gn_part);
    cudaFree(m->gn_stats);
    cudaFree(m->codes);
    m->col = m->scores = m->latent_t = NULL;
    m->img = NULL;
    m->gn_part = NULL;
    m->gn_stats = NULL;
    m->codes = NULL;
    m->batch = 0;
    m->S = 0;
}

extern "C" void mvot_gpu_vqgan_free(struct mvot_gpu_vqgan *m)
{
    if (!m)
        return;
    free_scratch(m);
    if (m->allocs)
        for (void *p : *m->allocs)
            cudaFree(p);
    delete m->allocs;
    mvot_gpu_codebook_free(m->cb);
    delete m;
}

extern "C" void mvot_gpu_vqgan_get_info(const struct mvot_gpu_vqgan *m,
                                        struct mvot_gpu_vqgan_info *out)
{
    memset(out, 0, sizeof *out);
    out->ch = m->ch;
    out->levels = m->levels;
    out->z_channels = m->z;
    out->K = m->K;
    out->D = m->D;
    for (uint32_t i = 0; i < m->levels && i < 8; i++)
        out->mult[i] = m->mult[i];
}

extern "C" void mvot_gpu_vqgan_set_batch(struct mvot_gpu_vqgan *m, uint32_t batch)
{
    m->batch_req = batch;
    free_scratch(m);
}

// ---- forward ---------------------------------------------------------------------------

#define GS_BLOCKS(n) std::min(mvot_gpu_blocks((n), 256), 65536u * 4u)

namespace
{

struct fwd {
    struct mvot_gpu_vqgan *m;
    struct mvot_gpu *g;
    int B;
    struct mvot_error *err;
};

// The cuDNN route of conv() (cudnn_conv.cu); *done = 0 when cuDNN is unavailable or failed
// (then nothing was added to out and the im2col path runs). Mode 0 is a plain conv with
// pad (k-1)/2 on [C][B][H][W]. Mode 1 (downsample, pad right/bottom only) copies images into
// the im2col scratch with one zero row and column appended, as many per round as fit, and
// runs an unpadded stride-2 conv from there into the strided output.
enum mvot_status conv_cudnn(fwd &F, const conv_w &c, const float *in, int H, int W, int mode,
                            float *out, int *done)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu_conv_geom q;
    *done = 0;
    if (mode == 0) {
        q = {F.B, c.cin, H, W,     H * W,       F.B * H * W,   c.cout,
             c.k, H,     W, H * W, F.B * H * W, (c.k - 1) / 2, 1};
        *done = mvot_gpu_cudnn_conv(F.g, &q, in, c.w, out);
        return MVOT_OK;
    }
    {
        int Ho = H / 2, Wo = W / 2, Hp = H + 1, Wp = W + 1;
        size_t per = (size_t)c.cin * Hp * Wp;
        int nb = (int)std::min<size_t>((size_t)F.B, F.m->col_floats / per);
        if (nb < 1)
            return MVOT_OK;
        for (int b0 = 0; b0 < F.B; b0 += nb) {
            int cnt = std::min(nb, F.B - b0);
            pad_rb_kernel<<<GS_BLOCKS(per * cnt), 256, 0, F.g->stream>>>(in, c.cin, F.B, H, W, b0,
                                                                         cnt, F.m->col);
            LAUNCH_CHECK(F.err, "gpu vqgan");
            q = {cnt,     c.cin,         Hp, Wp, Hp * Wp, cnt * Hp * Wp, c.cout, c.k, Ho, Wo,
                 Ho * Wo, F.B * Ho * Wo, 0,  2};
            if (!mvot_gpu_cudnn_conv(F.g, &q, F.m->col, c.w, out + (size_t)b0 * Ho * Wo)) {
                // Images before b0 are done; finishing them again through im2col would add
                // the conv twice, so a failure after the first round is an error.
                MVOT_FAIL_IF(b0 > 0, F.err, MVOT_ERR_INTERNAL, "gpu vqgan",
                             "cuDNN failed part way through a downsample: %s", F.g->dnn_why);
                return MVOT_OK;
            }
        }
        *done = 1;
    }
cleanup:
    return st;
}

enum mvot_status conv(fwd &F, const conv_w &c, const float *in, int H, int W, int mode, float *out,
                      const float *res)
{
    enum mvot_status st = MVOT_OK;
    int Ho = mode == 1 ? H / 2 : H, Wo = mode == 1 ? W / 2 : W;
    size_t N = (size_t)F.B * Ho * Wo;
    int Kc = c.cin * c.k * c.k;
    bias_kernel<<<GS_BLOCKS(N * c.cout), 256, 0, F.g->stream>>>(out, c.b, res, c.cout, N);
    LAUNCH_CHECK(F.err, "gpu vqgan");
    if (F.g->dnn) {
        int done = 0;
        MVOT_TRY(conv_cudnn(F, c, in, H, W, mode, out, &done));
        if (done) {
            F.g->convs_cudnn++;
            goto cleanup;
        }
    }
    F.g->convs_im2col++;
    if (c.k == 1) {
        BLAS_CHECK(mvot_gpu_gemm(F.g, CUBLAS_OP_N, CUBLAS_OP_N, (int)N, c.cout, c.cin, 1.0f, in,
                                 (int)N, c.w, c.cin, 1.0f, out, (int)N),
                   F.err, "gpu vqgan");
    } else {
        size_t nc = std::min(N, F.m->col_floats / (size_t)Kc);
        for (size_t n0 = 0; n0 < N; n0 += nc) {
            size_t cnt = std::min(nc, N - n0);
            im2col_kernel<<<GS_BLOCKS((size_t)Kc * cnt), 256, 0, F.g->stream>>>(
                in, c.cin, F.B, H, W, Ho, Wo, mode, (unsigned)n0, (unsigned)cnt, F.m->col);
            LAUNCH_CHECK(F.err, "gpu vqgan");
            BLAS_CHECK(mvot_gpu_gemm(F.g, CUBLAS_OP_N, CUBLAS_OP_N, (int)cnt, c.cout, Kc, 1.0f,
                                     F.m->col, (int)cnt, c.w, Kc, 1.0f, out + n0, (int)N),
                       F.err, "gpu vqgan");
        }
    }
cleanup:
    return st;
}

enum mvot_status groupnorm(fwd &F, const norm_w &n, const float *x, int HW, int swish, float *y)
{
    enum mvot_status st = MVOT_OK;
    int G = GN_GROUPS, nbg = F.B * G;
    size_t per_group = (size_t)(n.c / G) * HW;
    int nchunk = (int)std::min<size_t>(64, (per_group + 8191) / 8192);
    gn_partial_kernel<<<dim3(nchunk, nbg), GN_THREADS, 0, F.g->stream>>>(x, n.c, F.B, HW, G, nchunk,
                                                                         F.m->gn_part);
    LAUNCH_CHECK(F.err, "gpu vqgan");
    gn_final_kernel<<<(nbg + 127) / 128, 128, 0, F.g->stream>>>(F.m->gn_part, nbg, nchunk,
                                                                (double)per_group, F.m->gn_stats);
    LAUNCH_CHECK(F.err, "gpu vqgan");
    gn_apply_kernel<<<GS_BLOCKS((size_t)n.c * F.B * HW), 256, 0, F.g->stream>>>(
        x, F.m->gn_stats, n.g, n.b, n.c, F.B, HW, G, swish, y);
    LAUNCH_CHECK(F.err, "gpu vqgan");
cleanup:
    return st;
}

// out = x + conv2(swish(gn2(conv1(swish(gn1(x)))))), shortcut through nin when cin != cout.
// t1, t2 are scratch; out must differ from x, t1, t2.
enum mvot_status resblock(fwd &F, const res_w &r, const float *x, int H, int W, float *t1,
                          float *t2, float *out)
{
    enum mvot_status st = MVOT_OK;
    int HW = H * W;
    MVOT_TRY(groupnorm(F, r.n1, x, HW, 1, t1));
    MVOT_TRY(conv(F, r.c1, t1, H, W, 0, t2, NULL));
    MVOT_TRY(groupnorm(F, r.n2, t2, HW, 1, t1));
    if (r.cin != r.cout) {
        MVOT_TRY(conv(F, r.nin, x, H, W, 0, out, NULL));
        MVOT_TRY(conv(F, r.c2, t1, H, W, 0, out, out));
    } else {
        MVOT_TRY(conv(F, r.c2, t1, H, W, 0, out, x));
    }
cleanup:
    return st;
}

// out = x + proj(attention(gn(x))); q, k, v in t[0..2], gn(x) and then the attention
// output in t[3]. out may be t[0] (q is dead when the projection runs), not x.
enum mvot_status attention(fwd &F, const attn_w &a, const float *x, int HW, float *const *t,
                           float *out)
{
    enum mvot_status st = MVOT_OK;
    int C = a.n.c, N = HW, B = F.B;
    long long ld = (long long)B * N;
    float scale = (float)(1.0 / sqrt((double)C));
    float *h = t[3], *q = t[0], *k = t[1], *v = t[2], *o = t[3];
    MVOT_TRY(groupnorm(F, a.n, x, HW, 0, h));
    MVOT_TRY(conv(F, a.q, h, N, 1, 0, q, NULL));
    MVOT_TRY(conv(F, a.k, h, N, 1, 0, k, NULL));
    MVOT_TRY(conv(F, a.v, h, N, 1, 0, v, NULL));
    // scores_b (col-major N x N, row i contiguous over j) = scale * K_b * Q_b^T.
    BLAS_CHECK(mvot_gpu_gemm_batched(F.g, CUBLAS_OP_N, CUBLAS_OP_T, N, N, C, scale, k, (int)ld, N,
                                     q, (int)ld, N, 0.0f, F.m->scores, N, (long long)N * N, B),
               F.err, "gpu vqgan");
    softmax_rows_kernel<<<B * N, 256, 0, F.g->stream>>>(F.m->scores, N);
    LAUNCH_CHECK(F.err, "gpu vqgan");
    // O_b (N x C, ld B*N) = P_b^T(as stored) * V_b.
    BLAS_CHECK(mvot_gpu_gemm_batched(F.g, CUBLAS_OP_T, CUBLAS_OP_N, N, C, N, 1.0f, F.m->scores, N,
                                     (long long)N * N, v, (int)ld, N, 0.0f, o, (int)ld, N, B),
               F.err, "gpu vqgan");
    MVOT_TRY(conv(F, a.proj, o, N, 1, 0, out, x));
cleanup:
    return st;
}

} // namespace

// Largest activation (floats per image) at side S, over every tensor the forward makes.
static size_t act_per_image(const struct mvot_gpu_vqgan *m, uint32_t S)
{
    size_t best = (size_t)3 * S * S, side = S;
    for (uint32_t l = 0; l < m->levels; l++) {
        size_t c = (size_t)m->ch * m->mult[l];
        size_t cin = l == 0 ? m->ch : (size_t)m->ch * m->mult[l - 1];
        best = std::max(best, std::max(c, cin) * side * side);
        if (m->has_down[l])
            side /= 2;
    }
    return best;
}

static uint32_t final_side(const struct mvot_gpu_vqgan *m, uint32_t S)
{
    uint32_t side = S;
    for (uint32_t l = 0; l < m->levels; l++)
        if (m->has_down[l])
            side /= 2;
    return side;
}

static enum mvot_status ensure_scratch(struct mvot_gpu_vqgan *m, uint32_t S, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    size_t per, fs, nlat, free_b = 0, total_b = 0;
    uint32_t B;
    if (m->S == S && m->batch)
        return MVOT_OK;
    free_scratch(m);
    per = act_per_image(m, S);
    fs = final_side(m, S);
    nlat = fs * fs;
    GPU_CHECK(cudaMemGetInfo(&free_b, &total_b), err, "gpu vqgan");
    m->col_floats = (size_t)128 << 20; // 512 MB of im2col columns per chunk
    if (m->batch_req) {
        B = m->batch_req;
    } else {
        // 5 activations + attention scores per image, in half of the free memory.
        size_t per_img_b = (5 * per + nlat * nlat) * sizeof(float) + (size_t)S * S * 3;
        size_t budget = free_b / 2 > m->col_floats * 4 ? free_b / 2 - m->col_floats * 4 : 0;
        B = (uint32_t)std::max<size_t>(1, std::min<size_t>(16, budget / per_img_b));
    }
    m->act_floats = per * B;
    m->attn_floats = nlat * nlat * B;
    for (int i = 0; i < 5; i++)
        GPU_CHECK(cudaMalloc((void **)&m->act[i], m->act_floats * sizeof(float)), err, "gpu vqgan");
    GPU_CHECK(cudaMalloc((void **)&m->col, m->col_floats * sizeof(float)), err, "gpu vqgan");
    GPU_CHECK(cudaMalloc((void **)&m->scores, m->attn_floats * sizeof(float)), err, "gpu vqgan");
    GPU_CHECK(cudaMalloc((void **)&m->latent_t, (size_t)m->D * nlat * B * sizeof(float)), err,
              "gpu vqgan");
    GPU_CHECK(cudaMalloc((void **)&m->img, (size_t)S * S * 3 * B * sizeof(float)), err,
              "gpu vqgan");
    GPU_CHECK(cudaMalloc((void **)&m->gn_part, (size_t)B * GN_GROUPS * 64 * 2 * sizeof(double)),
              err, "gpu vqgan");
    GPU_CHECK(cudaMalloc((void **)&m->gn_stats, (size_t)B * GN_GROUPS * 2 * sizeof(float)), err,
              "gpu vqgan");
    GPU_CHECK(cudaMalloc((void **)&m->codes, nlat * B * sizeof(int32_t)), err, "gpu vqgan");
    m->batch = B;
    m->S = S;
cleanup:
    if (st != MVOT_OK)
        free_scratch(m);
    return st;
}

// Runs the encoder on act[0] = [3][B][S*S]; leaves the latent [D][B][n] in the returned
// buffer and the codes in m->codes.
static enum mvot_status forward(struct mvot_gpu_vqgan *m, int B, uint32_t S, float **latent,
                                struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    fwd F{m, m->g, B, err};
    float *x = m->act[0], *y = m->act[1], *t1 = m->act[2], *t2 = m->act[3], *t3 = m->act[4];
    int H = (int)S, W = (int)S;
    MVOT_TRY(conv(F, m->conv_in, x, H, W, 0, y, NULL));
    std::swap(x, y);
    for (uint32_t l = 0; l < m->levels; l++) {
        for (uint32_t j = 0; j < m->nblocks; j++) {
            MVOT_TRY(resblock(F, m->block[l][j], x, H, W, t1, t2, y));
            std::swap(x, y);
        }
        if (m->has_down[l]) {
            MVOT_TRY(conv(F, m->down[l], x, H, W, 1, y, NULL));
            std::swap(x, y);
            H /= 2;
            W /= 2;
        }
    }
    MVOT_TRY(resblock(F, m->mid1, x, H, W, t1, t2, y));
    std::swap(x, y);
    {
        // q, k, v in t1..t3, the normalized input (then the attention output) in y; the
        // block's result overwrites q, which is dead by then.
        float *t[4] = {t1, t2, t3, y};
        MVOT_TRY(attention(F, m->attn, x, H * W, t, t1));
        std::swap(x, t1);
    }
    MVOT_TRY(resblock(F, m->mid2, x, H, W, t1, t2, y));
    std::swap(x, y);
    MVOT_TRY(groupnorm(F, m->norm_out, x, H * W, 1, t1));
    MVOT_TRY(conv(F, m->conv_out, t1, H, W, 0, t2, NULL));
    MVOT_TRY(conv(F, m->quant_conv, t2, H, W, 0, y, NULL));
    MVOT_TRY(
        mvot_gpu_nearest_dev(m->cb, y, (size_t)B * H * W, 1, (size_t)B * H * W, m->codes, err));
    *latent = y;
cleanup:
    return st;
}

static enum mvot_status encode_any(struct mvot_gpu_vqgan *m, const uint8_t *rgb, const float *chw,
                                   size_t n, uint32_t S, int32_t *codes, float *latent,
                                   struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu *g = m->g;
    size_t nlat, HW = (size_t)S * S;
    uint32_t fs;
    MVOT_FAIL_IF(S == 0 || S % 16 != 0 || S > 4096, err, MVOT_ERR_INVALID, "gpu vqgan",
                 "image size %u is not a multiple of 16", S);
    MVOT_TRY(ensure_scratch(m, S, err));
    fs = final_side(m, S);
    nlat = (size_t)fs * fs;
    for (size_t i0 = 0; i0 < n; i0 += m->batch) {
        int B = (int)std::min<size_t>(m->batch, n - i0);
        float *lat = NULL;
        GPU_CHECK(cudaEventRecord(g->ev[0], g->stream), err, "gpu vqgan");
        if (rgb) {
            GPU_CHECK(cudaMemcpyAsync(m->img, rgb + i0 * HW * 3, (size_t)B * HW * 3,
                                      cudaMemcpyHostToDevice, g->stream),
                      err, "gpu vqgan");
        } else {
            GPU_CHECK(cudaMemcpyAsync(m->img, chw + i0 * HW * 3, (size_t)B * HW * 3 * sizeof(float),
                                      cudaMemcpyHostToDevice, g->stream),
                      err, "gpu vqgan");
        }
        GPU_CHECK(cudaEventRecord(g->ev[1], g->stream), err, "gpu vqgan");
        if (rgb)
            prep_kernel<<<GS_BLOCKS(3 * B * HW), 256, 0, g->stream>>>(m->img, B, (int)HW,
                                                                      m->act[0]);
        else
            planar_to_cbhw_kernel<<<GS_BLOCKS(3 * B * HW), 256, 0, g->stream>>>(
                (const float *)(void *)m->img, B, 3, (int)HW, m->act[0]);
        LAUNCH_CHECK(err, "gpu vqgan");
        MVOT_TRY(forward(m, B, S, &lat, err));
        if (latent) {
            cbhw_to_planar_kernel<<<GS_BLOCKS((size_t)m->D * B * nlat), 256, 0, g->stream>>>(
                lat, B, (int)m->D, (int)nlat, m->latent_t);
            LAUNCH_CHECK(err, "gpu vqgan");
        }
        GPU_CHECK(cudaEventRecord(g->ev[2], g->stream), err, "gpu vqgan");
        GPU_CHECK(cudaMemcpyAsync(codes + i0 * nlat, m->codes, (size_t)B * nlat * sizeof(int32_t),
                                  cudaMemcpyDeviceToHost, g->stream),
                  err, "gpu vqgan");
        if (latent)
            GPU_CHECK(cudaMemcpyAsync(latent + i0 * nlat * m->D, m->latent_t,
                                      (size_t)B * nlat * m->D * sizeof(float),
                                      cudaMemcpyDeviceToHost, g->stream),
                      err, "gpu vqgan");
        GPU_CHECK(cudaEventRecord(g->ev[3], g->stream), err, "gpu vqgan");
        MVOT_TRY(mvot_gpu_timing_collect(g, (size_t)B, err));
    }
cleanup:
    return st;
}

extern "C" enum mvot_status mvot_gpu_vqgan_encode(struct mvot_gpu_vqgan *m, const uint8_t *rgb,
                                                  size_t n, uint32_t S, int32_t *codes,
                                                  float *latent, struct mvot_error *err)
{
    return encode_any(m, rgb, NULL, n, S, codes, latent, err);
}

extern "C" enum mvot_status mvot_gpu_vqgan_encode_f32(struct mvot_gpu_vqgan *m, const float *chw,
                                                      size_t n, uint32_t S, int32_t *codes,
                                                      float *latent, struct mvot_error *err)
{
    return encode_any(m, NULL, chw, n, S, codes, latent, err);
}
