/* Pack stage A (shards/pack_internal.h): every frame a chunk's examples use is encoded once
 * per augmentation level it needs (level l = l VQ round trips: encode -> decode -> encode),
 * by the CPU imagetok in parallel or by the external encoder in batches. Augmentation draws
 * come from (seed, sample key, image), so codes never depend on threads or chunking. */
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/png.h"
#include "core/rng.h"
#include "shards/pack_internal.h"
#include "tokenize/imgprep.h"

static uint32_t draw_k(uint64_t seed, const char *key, uint32_t K, uint32_t image)
{
    struct mvot_rng r;
    mvot_rng_derive(&r, seed, MVOT_PACK_DOMAIN_AUGMENT, mvot_hash64(key, strlen(key)) + image);
    return (uint32_t)mvot_rng_below(&r, (uint64_t)K + 1);
}

/* ---- stage A: encoding ---- */

struct job {
    size_t unit;
    uint32_t frame, level;
};

int32_t *mvot__pack_codes_at(struct pack *p, struct pack_unit *u, uint32_t level, uint32_t frame)
{
    return u->codes + ((size_t)level * u->n_frames + frame) * p->N;
}

/* The S x S RGB input of a job: the frame PNG (level 0) or the decode of the level below. */
static enum mvot_status job_image(struct pack *p, const struct job *j, struct mvot_image *img,
                                  struct mvot_error *err)
{
    struct pack_unit *u = &p->units[j->unit];
    enum mvot_status st;
    memset(img, 0, sizeof *img);
    if (j->level > 0)
        return mvot_imagetok_decode(p->it, mvot__pack_codes_at(p, u, j->level - 1, j->frame), img,
                                    err);
    struct mvot_image raw = {0};
    char name[160];
    snprintf(name, sizeof name, "%s frame %u",
             u->has_ep ? u->ep.key : (u->old.key ? u->old.key : "?"), j->frame);
    st = mvot_png_decode(u->png[j->frame], u->png_len[j->frame], name, &raw, err);
    if (st != MVOT_OK)
        return st;
    if (raw.w == p->S && raw.h == p->S && raw.channels == 3) {
        *img = raw;
        return MVOT_OK;
    }
    st = mvot_imgprep_prepare(&raw, p->S, img, err);
    mvot_image_free(&raw);
    return st;
}

struct jobs_ctx {
    struct pack *p;
    const struct job *jobs;
    struct mvot_image *imgs; /* external encoder: prepared images */
};

static void job_cpu(void *vc, size_t i, int worker)
{
    (void)worker;
    struct jobs_ctx *c = vc;
    struct pack *p = c->p;
    const struct job *j = &c->jobs[i];
    struct mvot_image img;
    p->job_st[i] = job_image(p, j, &img, &p->job_err[i]);
    if (p->job_st[i] == MVOT_OK)
        p->job_st[i] = mvot_imagetok_encode(
            p->it, &img, mvot__pack_codes_at(p, &p->units[j->unit], j->level, j->frame),
            &p->job_err[i]);
    mvot_image_free(&img);
}

static void job_prepare(void *vc, size_t i, int worker)
{
    (void)worker;
    struct jobs_ctx *c = vc;
    c->p->job_st[i] = job_image(c->p, &c->jobs[i], &c->imgs[i], &c->p->job_err[i]);
}

static enum mvot_status first_job_error(struct pack *p, size_t n, struct mvot_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (p->job_st[i] != MVOT_OK) {
            if (err)
                *err = p->job_err[i];
            return p->job_st[i];
        }
    return MVOT_OK;
}

static enum mvot_status run_jobs(struct pack *p, const struct job *jobs, size_t n,
                                 struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct jobs_ctx c = {p, NULL, NULL};
    int32_t *tmp = NULL;
    for (size_t b0 = 0; b0 < n; b0 += MVOT_PACK_ENCODE_BATCH) {
        size_t nb = n - b0 < MVOT_PACK_ENCODE_BATCH ? n - b0 : MVOT_PACK_ENCODE_BATCH;
        c.jobs = jobs + b0;
        for (size_t i = 0; i < nb; i++)
            p->job_st[i] = MVOT_OK;
        if (!p->o->encoder) {
            mvot_pool_for(p->pool, nb, job_cpu, &c);
            MVOT_TRY(first_job_error(p, nb, err));
            continue;
        }
        struct mvot_image imgs[MVOT_PACK_ENCODE_BATCH];
        memset(imgs, 0, sizeof imgs);
        c.imgs = imgs;
        mvot_pool_for(p->pool, nb, job_prepare, &c);
        st = first_job_error(p, nb, err);
        if (st == MVOT_OK) {
            tmp = malloc(nb * p->N * sizeof *tmp);
            if (!tmp)
                st = mvot_error_set(err, MVOT_ERR_NOMEM, "pack", "out of memory");
        }
        if (st == MVOT_OK) {
            pthread_mutex_lock(&p->enc_mu);
            st = p->o->encoder->encode_batch(p->o->encoder->ctx, imgs, nb, tmp, err);
            pthread_mutex_unlock(&p->enc_mu);
        }
        for (size_t i = 0; st == MVOT_OK && i < nb; i++) {
            const struct job *j = &c.jobs[i];
            for (uint32_t k = 0; k < p->N; k++)
                if (tmp[i * p->N + k] < 0 || (uint32_t)tmp[i * p->N + k] >= p->info.K) {
                    st = mvot_error_set(err, MVOT_ERR_MISMATCH, "image encoder",
                                        "code %d outside [0, %u)", tmp[i * p->N + k], p->info.K);
                    break;
                }
            memcpy(mvot__pack_codes_at(p, &p->units[j->unit], j->level, j->frame), tmp + i * p->N,
                   p->N * sizeof *tmp);
        }
        for (size_t i = 0; i < nb; i++)
            mvot_image_free(&imgs[i]);
        free(tmp);
        tmp = NULL;
        if (st != MVOT_OK)
            goto cleanup;
    }
cleanup:
    free(tmp);
    return st;
}

enum mvot_status mvot__pack_encode_chunk(struct pack *p, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint32_t max_level = 0;
    for (size_t ui = 0; ui < p->n_units; ui++) {
        struct pack_unit *u = &p->units[ui];
        if (u->levels > max_level)
            max_level = u->levels;
    }
    struct job *jobs = NULL;
    size_t cap = 0;
    for (uint32_t level = 0; level < max_level; level++) {
        size_t n = 0;
        for (size_t ui = 0; ui < p->n_units; ui++) {
            struct pack_unit *u = &p->units[ui];
            for (uint32_t f = 0; level < u->levels && f < u->n_frames; f++) {
                if (!u->needed[(size_t)level * u->n_frames + f])
                    continue;
                if (n == cap) {
                    cap = cap ? cap * 2 : 256;
                    struct job *nj = realloc(jobs, cap * sizeof *nj);
                    MVOT_FAIL_IF(!nj, err, MVOT_ERR_NOMEM, "pack", "out of memory");
                    jobs = nj;
                }
                jobs[n++] = (struct job){ui, f, level};
            }
        }
        MVOT_TRY(run_jobs(p, jobs, n, err));
    }
cleanup:
    free(jobs);
    return st;
}

enum mvot_status mvot__pack_add_unit_items(struct pack *p, size_t ui, uint64_t first_ordinal,
                                           uint64_t resume_ordinal, const struct pack_place *at,
                                           const uint32_t *const *old_aug, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct pack_unit *u = &p->units[ui];
    u->maxk = calloc(u->n_frames ? u->n_frames : 1, sizeof *u->maxk);
    MVOT_FAIL_IF(!u->maxk, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    size_t first_item = p->n_items;
    for (size_t e = 0; e < u->n_ex; e++) {
        uint64_t ord = first_ordinal + e;
        if (ord < resume_ordinal)
            continue;
        const struct mvot_example *ex = &u->ex[e];
        if (p->n_items == p->cap_items) {
            size_t nc = p->cap_items ? p->cap_items * 2 : 256;
            struct pack_item *ni = realloc(p->items, nc * sizeof *ni);
            MVOT_FAIL_IF(!ni, err, MVOT_ERR_NOMEM, "pack", "out of memory");
            p->items = ni;
            p->cap_items = nc;
        }
        struct pack_item *it = &p->items[p->n_items];
        memset(it, 0, sizeof *it);
        it->unit = ui;
        it->ex = e;
        it->ordinal = ord;
        it->at = *at;
        it->aug = calloc(ex->n_images ? ex->n_images : 1, sizeof *it->aug);
        MVOT_FAIL_IF(!it->aug, err, MVOT_ERR_NOMEM, "pack", "out of memory");
        p->n_items++;
        for (uint32_t i = 0; i < ex->n_images; i++) {
            uint32_t f = ex->images[i];
            MVOT_CORRUPT_IF(f >= u->n_frames, err, ex->key, "image %u refers to frame %u of %u", i,
                            f, u->n_frames);
            uint32_t k = 0;
            if (old_aug)
                k = old_aug[e][i];
            else if (p->augment && i < ex->n_input_images)
                k = draw_k(p->o->seed, ex->key, p->augment, i);
            it->aug[i] = k;
            if (k > u->maxk[f])
                u->maxk[f] = k;
        }
    }
    u->levels = 0;
    for (uint32_t f = 0; f < u->n_frames; f++)
        if (u->maxk[f] + 1 > u->levels)
            u->levels = u->maxk[f] + 1;
    if (p->n_items == first_item) {
        u->levels = 0; /* nothing left to do for this unit (resumed past it) */
        return MVOT_OK;
    }
    u->codes = malloc((size_t)u->levels * u->n_frames * p->N * sizeof *u->codes);
    u->needed = calloc((size_t)u->levels * u->n_frames, 1);
    MVOT_FAIL_IF(!u->codes || !u->needed, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    for (size_t i = first_item; i < p->n_items; i++) {
        const struct mvot_example *ex = &u->ex[p->items[i].ex];
        for (uint32_t im = 0; im < ex->n_images; im++)
            for (uint32_t l = 0; l <= p->items[i].aug[im]; l++)
                u->needed[(size_t)l * u->n_frames + ex->images[im]] = 1;
    }
cleanup:
    return st;
}
