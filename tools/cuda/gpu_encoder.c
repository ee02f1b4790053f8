/* The GPU image encoder behind shards/pack.h's struct mvot_image_encoder (pack --gpu,
 * retokenize --gpu): a patch codebook goes through mvot_gpu_patchvq (codes identical to
 * the CPU patch VQ, whose search is exact too), a VQGAN checkpoint through mvot_gpu_vqgan
 * (FP32; the first image is also encoded on the CPU and the agreement goes into the name
 * that pack records in the manifest). The file kind is
 * detected from its tensor names. Images that are not S x S RGB are prepared on the CPU
 * with tokenize/imgprep.h first. pack calls encode_batch from one thread at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/codebook.h"
#include "core/safetensors.h"
#include "shards/pack.h"
#include "tokenize/imgprep.h"
#include "tokenize/vqgan.h"
#include "tools/cuda/gpu_vq.h"

struct gpu_enc {
    struct mvot_gpu *g;
    struct mvot_gpu_patchvq *pv;
    struct mvot_gpu_vqgan *vq;
    uint32_t S;
    char *path;     /* the VQGAN file, for the sampled CPU comparison */
    int sampled;    /* VQGAN: the first image was compared with the CPU encoder */
    uint8_t *stage; /* batch of S x S x 3 images */
    size_t stage_n;
    char name[256];
};

/* VQGAN codes are not bit-exact with the CPU encoder (float rounding can flip near-ties),
 * so the first image of a run is also encoded by tokenize/vqgan.c and the agreement goes into
 * the encoder name, which pack records as the manifest's "image_encoder". */
static enum mvot_status sample_cpu(struct gpu_enc *e, const int32_t *gpu_codes,
                                   struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_vqgan *m = NULL;
    size_t per = (size_t)(e->S / 16) * (e->S / 16), agree = 0;
    float *pix = malloc((size_t)3 * e->S * e->S * sizeof *pix);
    int32_t *cpu = malloc(per * sizeof *cpu);
    MVOT_FAIL_IF(!pix || !cpu, err, MVOT_ERR_NOMEM, "gpu encoder", "out of memory");
    MVOT_TRY(mvot_vqgan_load(e->path, NULL, &m, err));
    mvot_imgprep_normalize(e->stage, e->S, pix);
    MVOT_TRY(mvot_vqgan_encode(m, pix, e->S, cpu, NULL, err));
    for (size_t i = 0; i < per; i++)
        agree += cpu[i] == gpu_codes[i];
    snprintf(e->name, sizeof e->name,
             "cuda-vqgan-%s (codes made on the GPU; CPU agreement %.4f on 1 sampled image)",
             mvot_gpu_tf32(e->g) ? "tf32" : "fp32", (double)agree / (double)per);
    e->sampled = 1;
cleanup:
    mvot_vqgan_free(m);
    free(pix);
    free(cpu);
    return st;
}

static enum mvot_status enc_batch(void *ctx, const struct mvot_image *imgs, size_t n,
                                  int32_t *codes, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct gpu_enc *e = ctx;
    size_t bytes = (size_t)e->S * e->S * 3;
    struct mvot_image prep = {0};
    if (n > e->stage_n) {
        uint8_t *p = realloc(e->stage, n * bytes);
        MVOT_FAIL_IF(!p, err, MVOT_ERR_NOMEM, "gpu encoder", "out of memory for %zu images", n);
        e->stage = p;
        e->stage_n = n;
    }
    for (size_t i = 0; i < n; i++) {
        const struct mvot_image *im = &imgs[i];
        if (im->w == e->S && im->h == e->S && im->channels == 3) {
            memcpy(e->stage + i * bytes, im->px, bytes);
        } else {
            MVOT_TRY(mvot_imgprep_prepare(im, e->S, &prep, err));
            memcpy(e->stage + i * bytes, prep.px, bytes);
            mvot_image_free(&prep);
        }
    }
    if (e->pv)
        MVOT_TRY(mvot_gpu_patchvq_encode(e->pv, e->stage, n, codes, err));
    else
        MVOT_TRY(mvot_gpu_vqgan_encode(e->vq, e->stage, n, e->S, codes, NULL, err));
    if (e->vq && !e->sampled && n > 0)
        MVOT_TRY(sample_cpu(e, codes, err));
cleanup:
    mvot_image_free(&prep);
    return st;
}

static void enc_free(struct gpu_enc *e)
{
    if (!e)
        return;
    mvot_gpu_patchvq_free(e->pv);
    mvot_gpu_vqgan_free(e->vq);
    mvot_gpu_free(e->g);
    free(e->path);
    free(e->stage);
    free(e);
}

/* 1 when the safetensors file has VQGAN encoder weights (with or without the prefix). */
static int is_vqgan(const char *path)
{
    struct mvot_safetensors *st = NULL;
    struct mvot_error err = {0};
    int yes = 0;
    if (mvot_st_open(path, &st, &err) != MVOT_OK)
        return 0;
    yes = mvot_st_find(st, "model.vqmodel.encoder.conv_in.weight") != NULL ||
          mvot_st_find(st, "encoder.conv_in.weight") != NULL;
    mvot_st_close(st);
    return yes;
}

int mvot_gpu_image_encoder_create(const char *path, uint32_t image_size,
                                  struct mvot_image_encoder *out, char *errbuf, size_t errcap)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_error e = {0}, *err = &e;
    struct mvot_codebook cb = {0};
    struct gpu_enc *enc = calloc(1, sizeof *enc);
    memset(out, 0, sizeof *out);
    MVOT_FAIL_IF(!enc, err, MVOT_ERR_NOMEM, "gpu encoder", "out of memory");
    MVOT_FAIL_IF(image_size == 0 || image_size % 16 != 0, err, MVOT_ERR_INVALID, "gpu encoder",
                 "image size %u is not a multiple of 16", image_size);
    enc->S = image_size;
    MVOT_TRY(mvot_gpu_create(NULL, &enc->g, err));
    /* Names carry no device model or host detail: the manifest must not depend on the
     * machine beyond the codes themselves. */
    if (is_vqgan(path)) {
        MVOT_TRY(mvot_gpu_vqgan_load(enc->g, path, &enc->vq, err));
        enc->path = strdup(path);
        MVOT_FAIL_IF(!enc->path, err, MVOT_ERR_NOMEM, "gpu encoder", "out of memory");
        snprintf(enc->name, sizeof enc->name, "cuda-vqgan-fp32 (codes made on the GPU)");
    } else {
        MVOT_TRY(mvot_codebook_load(path, &cb, err));
        MVOT_FAIL_IF(cb.kind != MVOT_CB_PATCH, err, MVOT_ERR_UNSUPPORTED, path,
                     "a %s codebook cannot encode images on its own (give the VQGAN checkpoint)",
                     mvot_codebook_kind_name(cb.kind));
        MVOT_FAIL_IF(cb.patch == 0 || image_size % cb.patch != 0, err, MVOT_ERR_INVALID, path,
                     "image size %u is not a multiple of the patch %u", image_size, cb.patch);
        MVOT_TRY(
            mvot_gpu_patchvq_create(enc->g, cb.vec, cb.K, cb.patch, image_size, &enc->pv, err));
        /* exact search: the same codes as the CPU patch VQ */
        snprintf(enc->name, sizeof enc->name, "cuda-patchvq");
    }
    out->encode_batch = enc_batch;
    out->ctx = enc;
    out->name = enc->name;
    enc = NULL;
cleanup:
    mvot_codebook_free(&cb);
    enc_free(enc);
    if (st != MVOT_OK && errbuf && errcap)
        snprintf(errbuf, errcap, "%s", e.msg);
    return (int)st;
}

void mvot_gpu_image_encoder_free(struct mvot_image_encoder *enc)
{
    if (!enc)
        return;
    enc_free(enc->ctx);
    memset(enc, 0, sizeof *enc);
}
