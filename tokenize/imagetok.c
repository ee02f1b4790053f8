/* One handle over the two image tokenizers (imagetok.h). The file decides the kind: an mvot
 * codebook (safetensors metadata format "mvot-codebook", kind "patch") opens the patch VQ;
 * a checkpoint with the VQGAN encoder's tensors (encoder.conv_in.weight, optionally under
 * "model.vqmodel.") opens the Chameleon VQGAN. Images that are not S x S RGB go through the
 * Chameleon preprocessing first (tokenize/imgprep.h), for both kinds.
 *
 * Thread safety: the patch VQ is safe for concurrent callers by itself. VQGAN calls are
 * serialized by a mutex because each one already uses every thread of the handle's pool
 * (a 512 px encode is ~275 GMAC), so running two at once would gain nothing. */
#include "tokenize/imagetok.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/codebook.h"
#include "core/checkpoint.h"
#include "core/hash.h"
#include "core/safetensors.h"
#include "tokenize/imgprep.h"
#include "tokenize/patchvq.h"
#include "tokenize/vqgan.h"

struct mvot_imagetok {
    struct mvot_imagetok_info info;
    struct mvot_codebook cb;  /* patch kind: the codebook (floats) */
    struct mvot_patchvq *pvq; /* patch kind */
    struct mvot_vqgan *vq;    /* vqgan kind */
    struct mvot_pool *pool;   /* vqgan kind: owned */
    pthread_mutex_t *vq_mu;   /* vqgan kind: one model call at a time (owned) */
    char *path;               /* as opened, for messages */
};

void mvot_imagetok_free(struct mvot_imagetok *t)
{
    if (!t)
        return;
    mvot_patchvq_free(t->pvq);
    mvot_codebook_free(&t->cb);
    mvot_vqgan_free(t->vq);
    mvot_pool_free(t->pool);
    if (t->vq_mu) {
        pthread_mutex_destroy(t->vq_mu);
        free(t->vq_mu);
    }
    free(t->path);
    free(t);
}

/* Decides the kind from the headers alone (and the index, for a sharded checkpoint). A
 * sharded VQGAN's identity hashes its VQGAN tensors, not the shards (which hold the whole
 * language model); a single file keeps its file hash. */
static enum mvot_status sniff(const char *path, int *is_vqgan, uint64_t *hash,
                              struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_checkpoint *ck = NULL;
    const struct mvot_tensor *a = NULL, *b = NULL;
    MVOT_TRY(mvot_checkpoint_open(path, &ck, err));
    const char *fmt = json_string_value(json_object_get(mvot_checkpoint_metadata(ck), "format"));
    if (fmt && strcmp(fmt, "mvot-codebook") == 0) {
        *is_vqgan = 0;
        MVOT_FAIL_IF(mvot_checkpoint_layout(ck) != MVOT_CKPT_FILE, err, MVOT_ERR_UNSUPPORTED, path,
                     "a patch codebook is one .safetensors file");
        goto cleanup;
    }
    MVOT_TRY(mvot_checkpoint_find(ck, "model.vqmodel.encoder.conv_in.weight", &a, err));
    if (!a)
        MVOT_TRY(mvot_checkpoint_find(ck, "encoder.conv_in.weight", &b, err));
    MVOT_FAIL_IF(!a && !b, err, MVOT_ERR_UNSUPPORTED, path,
                 "neither an mvot patch codebook (metadata format \"mvot-codebook\") nor a VQGAN "
                 "checkpoint (no encoder.conv_in.weight, with or without model.vqmodel.)");
    *is_vqgan = 1;
    if (mvot_checkpoint_layout(ck) == MVOT_CKPT_FILE)
        MVOT_TRY(mvot_hash_file(mvot_checkpoint_file_of(ck, ""), hash, err));
    else
        MVOT_TRY(mvot_checkpoint_hash_tensors(ck, a ? "model.vqmodel." : "", hash, err));
cleanup:
    mvot_checkpoint_close(ck);
    return st;
}

enum mvot_status mvot_imagetok_open(const char *path, uint32_t image_size, int threads,
                                    struct mvot_imagetok **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_imagetok *t = NULL;
    int is_vqgan = 0;
    *out = NULL;
    MVOT_FAIL_IF(image_size != 512 && image_size != 256 && image_size != 128, err, MVOT_ERR_INVALID,
                 path, "image size %u: use 512, 256 or 128", image_size);
    uint64_t vq_hash = 0;
    MVOT_TRY(sniff(path, &is_vqgan, &vq_hash, err));
    t = calloc(1, sizeof *t);
    MVOT_FAIL_IF(!t || !(t->path = strdup(path)), err, MVOT_ERR_NOMEM, path, "out of memory");
    t->info.image_size = image_size;
    if (!is_vqgan) {
        MVOT_TRY(mvot_codebook_load(path, &t->cb, err));
        MVOT_FAIL_IF(t->cb.kind != MVOT_CB_PATCH, err, MVOT_ERR_UNSUPPORTED, path,
                     "a vqgan codebook holds latents and cannot tokenize images: open the VQGAN "
                     "checkpoint it was imported from");
        MVOT_FAIL_IF(image_size % t->cb.patch, err, MVOT_ERR_INVALID, path,
                     "image size %u is not a multiple of the codebook's %u-px patch", image_size,
                     t->cb.patch);
        MVOT_TRY(mvot_patchvq_create(&t->cb, MVOT_PATCHVQ_DEFAULT_CACHE, &t->pvq, err));
        t->info.kind = MVOT_IMAGETOK_PATCH;
        t->info.grid = image_size / t->cb.patch;
        t->info.K = t->cb.K;
        t->info.D = t->cb.D;
        t->info.hash = t->cb.file_hash;
        t->info.can_decode = 1;
    } else {
        struct mvot_vqgan_info vi;
        t->vq_mu = malloc(sizeof *t->vq_mu);
        MVOT_FAIL_IF(!t->vq_mu, err, MVOT_ERR_NOMEM, path, "out of memory");
        if (pthread_mutex_init(t->vq_mu, NULL) != 0) {
            free(t->vq_mu);
            t->vq_mu = NULL;
            MVOT_FAIL_IF(1, err, MVOT_ERR_NOMEM, path, "cannot create a mutex");
        }
        t->pool = mvot_pool_create(threads);
        MVOT_FAIL_IF(!t->pool, err, MVOT_ERR_NOMEM, path, "cannot start %d threads", threads);
        MVOT_TRY(mvot_vqgan_load(path, t->pool, &t->vq, err));
        mvot_vqgan_get_info(t->vq, &vi);
        t->info.hash = vq_hash;
        t->info.kind = MVOT_IMAGETOK_VQGAN;
        t->info.grid = image_size / 16;
        t->info.K = vi.K;
        t->info.D = vi.D;
        t->info.can_decode = vi.has_decoder;
    }
    *out = t;
    t = NULL;
cleanup:
    mvot_imagetok_free(t);
    return st;
}

void mvot_imagetok_get_info(const struct mvot_imagetok *t, struct mvot_imagetok_info *out)
{
    *out = t->info;
}

const float *mvot_imagetok_codebook(const struct mvot_imagetok *t)
{
    return t->info.kind == MVOT_IMAGETOK_PATCH ? t->cb.vec : mvot_vqgan_codebook(t->vq);
}

enum mvot_status mvot_imagetok_encode(const struct mvot_imagetok *t, const struct mvot_image *img,
                                      int32_t *codes, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_image prep = {0};
    float *pix = NULL;
    const uint32_t S = t->info.image_size;
    const struct mvot_image *in = img;
    if (img->w != S || img->h != S || img->channels != 3) {
        MVOT_TRY(mvot_imgprep_prepare(img, S, &prep, err));
        in = &prep;
    }
    if (t->info.kind == MVOT_IMAGETOK_PATCH) {
        st = mvot_patchvq_encode(t->pvq, in->px, S, codes, err);
    } else {
        pix = malloc((size_t)3 * S * S * sizeof *pix);
        MVOT_FAIL_IF(!pix, err, MVOT_ERR_NOMEM, "imagetok", "out of memory");
        mvot_imgprep_normalize(in->px, S, pix);
        pthread_mutex_lock(t->vq_mu);
        st = mvot_vqgan_encode(t->vq, pix, S, codes, NULL, err);
        pthread_mutex_unlock(t->vq_mu);
    }
cleanup:
    free(pix);
    mvot_image_free(&prep);
    return st;
}

enum mvot_status mvot_imagetok_decode(const struct mvot_imagetok *t, const int32_t *codes,
                                      struct mvot_image *out, struct mvot_error *err)
{
    const uint32_t S = t->info.image_size;
    enum mvot_status st;
    memset(out, 0, sizeof *out);
    if (t->info.kind == MVOT_IMAGETOK_PATCH) {
        st = mvot_image_init(out, S, S, 3);
        if (st != MVOT_OK)
            return mvot_error_set(err, st, "imagetok", "out of memory for a %ux%u image", S, S);
        st = mvot_patchvq_decode(t->pvq, codes, S, out->px, err);
        if (st != MVOT_OK)
            mvot_image_free(out);
        return st;
    }
    if (!t->info.can_decode)
        return mvot_error_set(err, MVOT_ERR_UNSUPPORTED, t->path, MVOT_IMAGETOK_NO_DECODER);
    float *pix = malloc((size_t)3 * S * S * sizeof *pix);
    if (!pix)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "imagetok", "out of memory");
    pthread_mutex_lock(t->vq_mu);
    st = mvot_vqgan_decode(t->vq, codes, S, pix, err);
    pthread_mutex_unlock(t->vq_mu);
    if (st == MVOT_OK)
        st = mvot_imgprep_from_tensor(pix, S, out, err);
    free(pix);
    return st;
}

enum mvot_status mvot_imagetok_roundtrip(const struct mvot_imagetok *t,
                                         const struct mvot_image *img, uint32_t k,
                                         struct mvot_image *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_image cur = {0};
    const uint32_t S = t->info.image_size;
    int32_t *codes = malloc((size_t)t->info.grid * t->info.grid * sizeof *codes);
    memset(out, 0, sizeof *out);
    MVOT_FAIL_IF(!codes, err, MVOT_ERR_NOMEM, "imagetok", "out of memory");
    MVOT_TRY(mvot_imgprep_prepare(img, S, &cur, err));
    for (uint32_t r = 0; r < k; r++) {
        struct mvot_image next = {0};
        MVOT_TRY(mvot_imagetok_encode(t, &cur, codes, err));
        MVOT_TRY(mvot_imagetok_decode(t, codes, &next, err));
        mvot_image_free(&cur);
        cur = next;
    }
    *out = cur;
    memset(&cur, 0, sizeof cur);
cleanup:
    mvot_image_free(&cur);
    free(codes);
    return st;
}
