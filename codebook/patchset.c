/* Distinct-patch set with counts (patchset.h). The index is open addressing over 32-bit
 * entry numbers keyed by the patch's XXH3; a probe hit is confirmed with memcmp, so two
 * different patches with the same hash become two entries. Archive reading decodes PNGs
 * and dedups each frame on the pool, then merges frame sets on the calling thread in
 * archive order; since merged counts are sums the result never depends on thread count. */
#include "codebook/patchset.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "codebook/patchset_internal.h"

enum mvot_status mvot_patchset_init(struct mvot_patchset *ps, uint32_t patch, size_t max_distinct,
                                    struct mvot_error *err)
{
    memset(ps, 0, sizeof *ps);
    if (patch == 0 || patch > 64)
        return mvot_error_set(err, MVOT_ERR_INVALID, "patch set", "patch size %u out of range",
                              patch);
    ps->patch = patch;
    ps->D = patch * patch * 3;
    ps->max_distinct = max_distinct ? max_distinct : MVOT_PATCHSET_DEFAULT_MAX;
    if (ps->max_distinct > UINT32_MAX - 1)
        ps->max_distinct = UINT32_MAX - 1;
    return MVOT_OK;
}

void mvot_patchset_free(struct mvot_patchset *ps)
{
    if (!ps)
        return;
    free(ps->bytes);
    free(ps->hash);
    free(ps->count);
    free(ps->slots);
    memset(ps, 0, sizeof *ps);
}

static enum mvot_status rehash(struct mvot_patchset *ps, size_t nslots, struct mvot_error *err)
{
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "patch set", "out of memory");
    for (size_t i = 0; i < ps->n; i++) {
        size_t s = (size_t)ps->hash[i] & (nslots - 1);
        while (slots[s])
            s = (s + 1) & (nslots - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(ps->slots);
    ps->slots = slots;
    ps->nslots = nslots;
    return MVOT_OK;
}

static size_t index_slots(size_t n);

static enum mvot_status grow(struct mvot_patchset *ps, struct mvot_error *err)
{
    size_t cap = ps->cap ? ps->cap * 2 : 1024;
    uint8_t *b = realloc(ps->bytes, cap * ps->D);
    if (b)
        ps->bytes = b;
    uint64_t *h = realloc(ps->hash, cap * sizeof *h);
    if (h)
        ps->hash = h;
    uint64_t *c = realloc(ps->count, cap * sizeof *c);
    if (c)
        ps->count = c;
    if (!b || !h || !c)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "patch set", "out of memory for %zu patches",
                              cap);
    ps->cap = cap;
    return MVOT_OK;
}

enum mvot_status mvot_patchset_add(struct mvot_patchset *ps, const uint8_t *patch, uint64_t hash,
                                   uint64_t count, struct mvot_error *err)
{
    enum mvot_status st;
    if ((ps->n + 1) * 2 > ps->nslots) {
        st = rehash(ps, index_slots(ps->n + 1), err);
        if (st != MVOT_OK)
            return st;
    }
    size_t s = (size_t)hash & (ps->nslots - 1);
    while (ps->slots[s]) {
        size_t e = ps->slots[s] - 1;
        if (ps->hash[e] == hash && memcmp(ps->bytes + e * ps->D, patch, ps->D) == 0) {
            ps->count[e] += count;
            ps->total += count;
            return MVOT_OK;
        }
        s = (s + 1) & (ps->nslots - 1);
    }
    if (ps->n >= ps->max_distinct)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "patch set",
                              "more than %zu distinct patches (raise the cap or use fewer frames)",
                              ps->max_distinct);
    if (ps->n == ps->cap && (st = grow(ps, err)) != MVOT_OK)
        return st;
    memcpy(ps->bytes + ps->n * ps->D, patch, ps->D);
    ps->hash[ps->n] = hash;
    ps->count[ps->n] = count;
    ps->n++;
    ps->slots[s] = (uint32_t)ps->n;
    ps->total += count;
    return MVOT_OK;
}

void mvot_patch_extract(const uint8_t *rgb, uint32_t w, uint32_t x0, uint32_t y0, uint32_t p,
                        uint8_t *out)
{
    size_t row = (size_t)p * 3;
    for (uint32_t y = 0; y < p; y++)
        memcpy(out + y * row, rgb + ((size_t)(y0 + y) * w + x0) * 3, row);
}

/* RGBA -> RGB on white, float64, truncating (docs/chameleon.md §3, so patches match what
 * the Chameleon preprocessing would feed a tokenizer). */
static enum mvot_status flatten_rgb(const struct mvot_image *img, uint8_t **out,
                                    struct mvot_error *err)
{
    size_t n = (size_t)img->w * img->h;
    uint8_t *o = malloc(n * 3);
    if (!o)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "patch set", "out of memory");
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s = img->px + i * 4;
        double a = s[3] / 255.0;
        for (int c = 0; c < 3; c++)
            o[i * 3 + c] = (uint8_t)((1.0 - a) * 255.0 + a * s[c]);
    }
    *out = o;
    return MVOT_OK;
}

enum mvot_status mvot_patchset_add_image(struct mvot_patchset *ps, const struct mvot_image *img,
                                         const char *name, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint8_t *flat = NULL, *buf = NULL;
    const uint32_t p = ps->patch;
    MVOT_FAIL_IF(img->w != img->h || img->w % p || img->w == 0, err, MVOT_ERR_INVALID, name,
                 "frame is %ux%u: need a square multiple of the %u-px patch", img->w, img->h, p);
    MVOT_FAIL_IF(ps->image_size && img->w != ps->image_size, err, MVOT_ERR_MISMATCH, name,
                 "frame is %ux%u but earlier frames are %ux%u", img->w, img->h, ps->image_size,
                 ps->image_size);
    MVOT_FAIL_IF(img->channels != 3 && img->channels != 4, err, MVOT_ERR_INVALID, name,
                 "%u channels: need RGB or RGBA", img->channels);
    const uint8_t *rgb = img->px;
    if (img->channels == 4) {
        MVOT_TRY(flatten_rgb(img, &flat, err));
        rgb = flat;
    }
    buf = malloc(ps->D);
    MVOT_FAIL_IF(!buf, err, MVOT_ERR_NOMEM, name, "out of memory");
    for (uint32_t y = 0; y < img->h; y += p)
        for (uint32_t x = 0; x < img->w; x += p) {
            mvot_patch_extract(rgb, img->w, x, y, p, buf);
            MVOT_TRY(mvot_patchset_add(ps, buf, mvot_hash64(buf, ps->D), 1, err));
        }
    ps->image_size = img->w;
    ps->frames++;
cleanup:
    free(flat);
    free(buf);
    return st;
}

enum mvot_status mvot_patchset_merge(struct mvot_patchset *ps, const struct mvot_patchset *other,
                                     struct mvot_error *err)
{
    if (other->patch != ps->patch)
        return mvot_error_set(err, MVOT_ERR_MISMATCH, "patch set", "patch sizes %u and %u differ",
                              ps->patch, other->patch);
    if (other->frames && ps->image_size && other->image_size != ps->image_size)
        return mvot_error_set(err, MVOT_ERR_MISMATCH, "patch set",
                              "frames of %ux%u mixed with frames of %ux%u", other->image_size,
                              other->image_size, ps->image_size, ps->image_size);
    for (size_t i = 0; i < other->n; i++) {
        enum mvot_status st =
            mvot_patchset_add(ps, other->bytes + i * ps->D, other->hash[i], other->count[i], err);
        if (st != MVOT_OK)
            return st;
    }
    if (other->frames)
        ps->image_size = other->image_size;
    ps->frames += other->frames;
    return MVOT_OK;
}

/* Sort records carry their own bytes pointer so the comparator needs no context. */
struct sort_rec {
    uint64_t hash;
    const uint8_t *bytes;
    size_t D;
    size_t idx;
};

static int cmp_rec(const void *a, const void *b)
{
    const struct sort_rec *x = a, *y = b;
    if (x->hash != y->hash)
        return x->hash < y->hash ? -1 : 1;
    return memcmp(x->bytes, y->bytes, x->D);
}

static size_t index_slots(size_t n)
{
    size_t s = 2048;
    while (s < 2 * (n + 1))
        s *= 2;
    return s;
}

enum mvot_status mvot_patchset_sort(struct mvot_patchset *ps, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct sort_rec *r = NULL;
    uint8_t *b = NULL;
    uint64_t *h = NULL, *c = NULL;
    if (ps->n < 2)
        return MVOT_OK;
    r = malloc(ps->n * sizeof *r);
    b = malloc(ps->n * ps->D);
    h = malloc(ps->n * sizeof *h);
    c = malloc(ps->n * sizeof *c);
    MVOT_FAIL_IF(!r || !b || !h || !c, err, MVOT_ERR_NOMEM, "patch set", "out of memory");
    for (size_t i = 0; i < ps->n; i++)
        r[i] = (struct sort_rec){ps->hash[i], ps->bytes + i * ps->D, ps->D, i};
    qsort(r, ps->n, sizeof *r, cmp_rec);
    for (size_t i = 0; i < ps->n; i++) {
        memcpy(b + i * ps->D, r[i].bytes, ps->D);
        h[i] = ps->hash[r[i].idx];
        c[i] = ps->count[r[i].idx];
    }
    free(ps->bytes);
    free(ps->hash);
    free(ps->count);
    ps->bytes = b;
    ps->hash = h;
    ps->count = c;
    b = NULL;
    h = c = NULL;
    ps->cap = ps->n;
    /* Entry numbers changed: rebuild the index. */
    st = rehash(ps, index_slots(ps->n), err);
cleanup:
    free(r);
    free(b);
    free(h);
    free(c);
    return st;
}

enum mvot_status mvot_patchset_data_hash(struct mvot_patchset *ps, uint64_t *out,
                                         struct mvot_error *err)
{
    struct mvot_hasher hs;
    enum mvot_status st = mvot_patchset_sort(ps, err);
    if (st != MVOT_OK)
        return st;
    if ((st = mvot_hasher_init(&hs)) != MVOT_OK)
        return mvot_error_set(err, st, "patch set", "cannot create a hasher");
    uint8_t le[8];
    for (int k = 0; k < 8; k++)
        le[k] = (uint8_t)((uint64_t)ps->patch >> (8 * k));
    mvot_hasher_update(&hs, le, 8);
    for (size_t i = 0; i < ps->n; i++) {
        mvot_hasher_update(&hs, ps->bytes + i * ps->D, ps->D);
        for (int k = 0; k < 8; k++)
            le[k] = (uint8_t)(ps->count[i] >> (8 * k));
        mvot_hasher_update(&hs, le, 8);
    }
    *out = mvot_hasher_digest(&hs);
    mvot_hasher_free(&hs);
    return MVOT_OK;
}

/* ---- frames and archives ---------------------------------------------------------------- */

enum mvot_status mvot_patchset_frame_work(void *ctx, size_t i, int worker, void **result,
                                          struct mvot_error *err)
{
    (void)worker;
    struct mvot_patchset_job *job = ctx;
    enum mvot_status st = MVOT_OK;
    struct mvot_image img = {0};
    struct mvot_patchset *local = calloc(1, sizeof *local);
    const char *name = job->names ? job->names[i] : "frame";
    MVOT_FAIL_IF(!local, err, MVOT_ERR_NOMEM, name, "out of memory");
    MVOT_TRY(mvot_patchset_init(local, job->patch, 0, err));
    if (job->imgs) {
        MVOT_TRY(mvot_patchset_add_image(local, &job->imgs[i], name, err));
    } else {
        MVOT_TRY(mvot_png_decode(job->png[i], job->png_len[i], name, &img, err));
        MVOT_TRY(mvot_patchset_add_image(local, &img, name, err));
    }
    *result = local;
    local = NULL;
cleanup:
    mvot_image_free(&img);
    mvot_patchset_free(local);
    free(local);
    return st;
}

enum mvot_status mvot_patchset_frame_emit(void *ctx, size_t i, void *result, struct mvot_error *err)
{
    struct mvot_patchset_job *job = ctx;
    struct mvot_patchset *local = result;
    enum mvot_status st = mvot_patchset_merge(job->out, local, err);
    if (st != MVOT_OK && job->names)
        mvot_error_prefix(err, "%s", job->names[i]);
    mvot_patchset_free(local);
    free(local);
    return st;
}

void mvot_patchset_frame_discard(void *ctx, void *result)
{
    (void)ctx;
    mvot_patchset_free(result);
    free(result);
}

enum mvot_status mvot_patchset_from_frames(const struct mvot_image *frames, size_t n,
                                           uint32_t patch, size_t max_distinct,
                                           struct mvot_pool *pool, struct mvot_patchset *out,
                                           struct mvot_error *err)
{
    enum mvot_status st = mvot_patchset_init(out, patch, max_distinct, err);
    if (st != MVOT_OK)
        return st;
    struct mvot_patchset_job job = {frames, NULL, NULL, NULL, patch, out, 0};
    st = mvot_pool_map_ordered(pool, n, 0, mvot_patchset_frame_work, mvot_patchset_frame_emit,
                               mvot_patchset_frame_discard, &job, err);
    if (st != MVOT_OK)
        mvot_patchset_free(out);
    return st;
}
