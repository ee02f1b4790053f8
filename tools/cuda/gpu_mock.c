/* A CPU stand-in for the gpu_vq.h API, built from the references beside the kernels
 * (ref_cpu.c, ref_vqgan.c). It exists so that everything AROUND the kernels runs on machines
 * without a GPU: the cuda test programs' data generation and comparisons, gpu_encoder.c,
 * `mvot gpucheck`'s GPU branch and `mvot pack --gpu` (tests/cli/gpucheck_mock.sh with
 * mvot-gpumock). It proves nothing about the kernels themselves: the same tests run against
 * the real library on a device. Not thread-safe, not fast; timings are zero. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/safetensors.h"
#include "tokenize/imgprep.h"
#include "tools/cuda/gpu_vq.h"
#include "tools/cuda/ref_cpu.h"
#include "tools/cuda/ref_vqgan.h"

struct mvot_gpu {
    struct mvot_gpu_opts o;
    struct mvot_gpu_timing timing;
};

struct mvot_gpu_codebook {
    float *vec;
    uint32_t K, D;
};

struct mvot_gpu_patchvq {
    struct mvot_gpu *g;
    struct mvot_gpu_codebook *cb;
    uint32_t K, P, S;
};

struct mvot_gpu_vqgan {
    struct mvot_gpu *g;
    char *path;
    struct mvot_gpu_vqgan_info info;
};

void mvot_gpu_opts_default(struct mvot_gpu_opts *o)
{
    o->device = 0;
    o->tf32 = 0;
    o->refine = 1;
    o->conv = MVOT_GPU_CONV_AUTO;
}

int mvot_gpu_device_count(char *why, size_t whycap)
{
    (void)why;
    (void)whycap;
    return 1;
}

enum mvot_status mvot_gpu_create(const struct mvot_gpu_opts *opts, struct mvot_gpu **out,
                                 struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu *g = calloc(1, sizeof *g);
    MVOT_FAIL_IF(!g, err, MVOT_ERR_NOMEM, "gpu mock", "out of memory");
    if (opts)
        g->o = *opts;
    else
        mvot_gpu_opts_default(&g->o);
    *out = g;
cleanup:
    return st;
}

void mvot_gpu_free(struct mvot_gpu *g)
{
    free(g);
}

void mvot_gpu_describe(const struct mvot_gpu *g, char *buf, size_t cap)
{
    snprintf(buf, cap, "CPU mock of the GPU API (float64 references), %s mode",
             g->o.tf32 ? "TF32" : "FP32");
}

const char *mvot_gpu_conv_path(const struct mvot_gpu *g)
{
    (void)g;
    return "reference";
}

int mvot_gpu_tf32(const struct mvot_gpu *g)
{
    return g->o.tf32;
}

void mvot_gpu_timing_get(const struct mvot_gpu *g, struct mvot_gpu_timing *out)
{
    *out = g->timing;
}

void mvot_gpu_timing_reset(struct mvot_gpu *g)
{
    memset(&g->timing, 0, sizeof g->timing);
}

enum mvot_status mvot_gpu_codebook_create(struct mvot_gpu *g, const float *vec, uint32_t K,
                                          uint32_t D, struct mvot_gpu_codebook **out,
                                          struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu_codebook *cb = calloc(1, sizeof *cb);
    (void)g;
    *out = NULL;
    MVOT_FAIL_IF(!cb, err, MVOT_ERR_NOMEM, "gpu mock", "out of memory");
    cb->vec = malloc((size_t)K * D * sizeof *cb->vec);
    MVOT_FAIL_IF(!cb->vec, err, MVOT_ERR_NOMEM, "gpu mock", "out of memory");
    memcpy(cb->vec, vec, (size_t)K * D * sizeof *cb->vec);
    cb->K = K;
    cb->D = D;
    *out = cb;
    cb = NULL;
cleanup:
    mvot_gpu_codebook_free(cb);
    return st;
}

void mvot_gpu_codebook_free(struct mvot_gpu_codebook *cb)
{
    if (!cb)
        return;
    free(cb->vec);
    free(cb);
}

enum mvot_status mvot_gpu_nearest(struct mvot_gpu *g, const struct mvot_gpu_codebook *cb,
                                  const float *queries, size_t n, int32_t *codes,
                                  struct mvot_error *err)
{
    (void)g;
    (void)err;
    mvot_ref_nearest(cb->vec, cb->K, cb->D, queries, n, codes, NULL, NULL);
    return MVOT_OK;
}

enum mvot_status mvot_gpu_nearest_bench(struct mvot_gpu *g, const struct mvot_gpu_codebook *cb,
                                        const float *host_queries, size_t n, int iters,
                                        size_t chunk_rows, double *search_ms, double *gemm_ms,
                                        struct mvot_error *err)
{
    (void)g;
    (void)cb;
    (void)host_queries;
    (void)n;
    (void)iters;
    (void)chunk_rows;
    *search_ms = *gemm_ms = 0;
    return mvot_error_set(err, MVOT_ERR_UNSUPPORTED, "gpu mock", "no benchmarks on the CPU mock");
}

enum mvot_status mvot_gpu_patchvq_create(struct mvot_gpu *g, const float *vec, uint32_t K,
                                         uint32_t P, uint32_t S, struct mvot_gpu_patchvq **out,
                                         struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_gpu_patchvq *pv = NULL;
    *out = NULL;
    MVOT_FAIL_IF(P == 0 || S == 0 || S % P != 0, err, MVOT_ERR_INVALID, "gpu patchvq",
                 "image size %u is not a multiple of patch %u", S, P);
    pv = calloc(1, sizeof *pv);
    MVOT_FAIL_IF(!pv, err, MVOT_ERR_NOMEM, "gpu mock", "out of memory");
    pv->g = g;
    pv->K = K;
    pv->P = P;
    pv->S = S;
    MVOT_TRY(mvot_gpu_codebook_create(g, vec, K, P * P * 3, &pv->cb, err));
    *out = pv;
    pv = NULL;
cleanup:
    mvot_gpu_patchvq_free(pv);
    return st;
}

void mvot_gpu_patchvq_free(struct mvot_gpu_patchvq *pv)
{
    if (!pv)
        return;
    mvot_gpu_codebook_free(pv->cb);
    free(pv);
}

enum mvot_status mvot_gpu_patchvq_encode(struct mvot_gpu_patchvq *pv, const uint8_t *rgb, size_t n,
                                         int32_t *codes, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    size_t g = pv->S / pv->P;
    float *patches = malloc((size_t)pv->S * pv->S * 3 * sizeof *patches);
    MVOT_FAIL_IF(!patches, err, MVOT_ERR_NOMEM, "gpu mock", "out of memory");
    for (size_t i = 0; i < n; i++) {
        mvot_ref_patchify(rgb + i * pv->S * pv->S * 3, 1, pv->S, pv->P, patches);
        mvot_ref_nearest(pv->cb->vec, pv->K, pv->cb->D, patches, g * g, codes + i * g * g, NULL,
                         NULL);
    }
    pv->g->timing.images += n;
cleanup:
    free(patches);
    return st;
}

enum mvot_status mvot_gpu_patchvq_decode(struct mvot_gpu_patchvq *pv, const int32_t *codes,
                                         size_t n, uint8_t *rgb, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    size_t ncode = (size_t)(pv->S / pv->P) * (pv->S / pv->P);
    for (size_t i = 0; i < n * ncode; i++)
        MVOT_FAIL_IF(codes[i] < 0 || (uint32_t)codes[i] >= pv->K, err, MVOT_ERR_INVALID,
                     "gpu patchvq", "image %zu: code %d out of range (K = %u)", i / ncode,
                     (int)codes[i], pv->K);
    mvot_ref_patch_decode(pv->cb->vec, pv->P, pv->S, codes, n, rgb);
cleanup:
    return st;
}

static const struct mvot_tensor *find2(const struct mvot_safetensors *st, const char *name)
{
    char full[256];
    snprintf(full, sizeof full, "model.vqmodel.%s", name);
    const struct mvot_tensor *t = mvot_st_find(st, full);
    return t ? t : mvot_st_find(st, name);
}

enum mvot_status mvot_gpu_vqgan_load(struct mvot_gpu *g, const char *path,
                                     struct mvot_gpu_vqgan **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_safetensors *sf = NULL;
    struct mvot_gpu_vqgan *m = NULL;
    const struct mvot_tensor *t;
    char name[128];
    *out = NULL;
    MVOT_TRY(mvot_st_open(path, &sf, err));
    m = calloc(1, sizeof *m);
    MVOT_FAIL_IF(!m, err, MVOT_ERR_NOMEM, "gpu mock", "out of memory");
    m->g = g;
    m->path = strdup(path);
    MVOT_FAIL_IF(!m->path, err, MVOT_ERR_NOMEM, "gpu mock", "out of memory");
    t = find2(sf, "encoder.conv_in.weight");
    MVOT_FAIL_IF(!t, err, MVOT_ERR_NOTFOUND, path,
                 "not a VQGAN checkpoint: encoder.conv_in.weight missing");
    m->info.ch = (uint32_t)t->shape[0];
    for (uint32_t l = 0; l < 8; l++) {
        snprintf(name, sizeof name, "encoder.down.%u.block.0.conv1.weight", l);
        t = find2(sf, name);
        if (!t)
            break;
        m->info.mult[l] = (uint32_t)(t->shape[0] / m->info.ch);
        m->info.levels = l + 1;
    }
    t = find2(sf, "encoder.conv_out.weight");
    MVOT_FAIL_IF(!t, err, MVOT_ERR_NOTFOUND, path, "encoder.conv_out.weight missing");
    m->info.z_channels = (uint32_t)t->shape[0];
    t = find2(sf, "quantize.embedding.weight");
    MVOT_FAIL_IF(!t || t->ndim != 2, err, MVOT_ERR_NOTFOUND, path,
                 "quantize.embedding.weight missing");
    m->info.K = (uint32_t)t->shape[0];
    m->info.D = (uint32_t)t->shape[1];
    *out = m;
    m = NULL;
cleanup:
    mvot_st_close(sf);
    mvot_gpu_vqgan_free(m);
    return st;
}

void mvot_gpu_vqgan_free(struct mvot_gpu_vqgan *m)
{
    if (!m)
        return;
    free(m->path);
    free(m);
}

void mvot_gpu_vqgan_get_info(const struct mvot_gpu_vqgan *m, struct mvot_gpu_vqgan_info *out)
{
    *out = m->info;
}

void mvot_gpu_vqgan_set_batch(struct mvot_gpu_vqgan *m, uint32_t batch)
{
    (void)m;
    (void)batch;
}

static enum mvot_status vq_encode(struct mvot_gpu_vqgan *m, const uint8_t *rgb, const float *chw,
                                  size_t n, uint32_t S, int32_t *codes, float *latent,
                                  struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    size_t per = (size_t)(S / 16) * (S / 16);
    float *pix = malloc((size_t)3 * S * S * sizeof *pix);
    MVOT_FAIL_IF(!pix, err, MVOT_ERR_NOMEM, "gpu mock", "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (rgb)
            mvot_imgprep_normalize(rgb + i * S * S * 3, S, pix);
        else
            memcpy(pix, chw + i * 3 * S * S, (size_t)3 * S * S * sizeof *pix);
        MVOT_TRY(mvot_ref_vqgan_encode(m->path, pix, S, codes + i * per,
                                       latent ? latent + i * per * m->info.D : NULL, err));
    }
    m->g->timing.images += n;
cleanup:
    free(pix);
    return st;
}

enum mvot_status mvot_gpu_vqgan_encode(struct mvot_gpu_vqgan *m, const uint8_t *rgb, size_t n,
                                       uint32_t S, int32_t *codes, float *latent,
                                       struct mvot_error *err)
{
    return vq_encode(m, rgb, NULL, n, S, codes, latent, err);
}

enum mvot_status mvot_gpu_vqgan_encode_f32(struct mvot_gpu_vqgan *m, const float *chw, size_t n,
                                           uint32_t S, int32_t *codes, float *latent,
                                           struct mvot_error *err)
{
    return vq_encode(m, NULL, chw, n, S, codes, latent, err);
}
