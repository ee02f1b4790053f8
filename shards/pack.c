/* Pack and retokenize pipelines (shards/pack.h).
 *
 * Work flows in chunks of "units" (an episode, or for retokenize one old sample) that share
 * frames. Per chunk: (A) every frame is encoded once, plus the augmentation levels its
 * examples need (encode -> decode -> encode chains), by the CPU imagetok in parallel or the
 * external encoder in batches; (B) every example is assembled, serialized and compressed in
 * parallel with mvot_pool_map_ordered, and emitted in order to the shard writer.
 * Determinism: nothing depends on the thread count or chunk boundaries; augmentation draws
 * come from (seed, sample key). Resume: each committed shard's record (with its statistics
 * and the enumeration ordinal it ends at) is saved to .pack-state.json, so a rerun skips
 * exactly the committed samples and sums the same records into the same manifest. */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/outdir.h"
#include "core/png.h"
#include "core/rng.h"
#include "shards/assemble.h"
#include "shards/format.h"
#include "shards/manifest.h"
#include "shards/pack.h"
#include "shards/reader.h"
#include "shards/writer.h"
#include "tokenize/bpe.h"
#include "tokenize/chameleon.h"
#include "tokenize/imagetok.h"
#include "tokenize/imgprep.h"

#define DOMAIN_AUGMENT 0x4155474du /* "AUGM" */
#define STATE_FILE ".pack-state.json"
#define CHUNK_FRAMES 256
#define CHUNK_UNITS 64

const char *mvot_pack_mode_name(enum mvot_pack_mode m)
{
    switch (m) {
    case MVOT_PACK_MVOT: return "mvot";
    case MVOT_PACK_TRAJECTORY: return "trajectory";
    case MVOT_PACK_COT: return "cot";
    case MVOT_PACK_DIRECT: return "direct";
    }
    return "?";
}

int mvot_pack_mode_parse(const char *s, enum mvot_pack_mode *out)
{
    for (int m = 0; m <= MVOT_PACK_DIRECT; m++)
        if (strcmp(s, mvot_pack_mode_name((enum mvot_pack_mode)m)) == 0) {
            *out = (enum mvot_pack_mode)m;
            return 0;
        }
    return -1;
}

void mvot_pack_opts_default(struct mvot_pack_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = MVOT_PACK_MVOT;
    o->image_seq_length = 1024;
    o->shard_samples = 4096;
    o->shard_bytes = 256ull << 20;
    o->length_policy = MVOT_LENGTH_DROP;
    o->zstd_level = 3;
    o->store_frames = 1;
}

/* ---- units and items ---- */

struct unit {
    struct mvot_episode ep; /* pack: the episode (owned); retokenize: unused */
    int has_ep;
    struct mvot_sample old; /* retokenize: the old sample (owned) */
    struct mvot_example *ex;
    size_t n_ex;
    uint32_t n_frames;
    uint8_t **png;
    size_t *png_len;
    uint32_t *maxk;  /* per frame: highest augmentation level needed */
    uint32_t levels; /* max over frames + 1 */
    int32_t *codes;  /* (level * n_frames + frame) * N */
    uint8_t *needed; /* per (level, frame): 1 if some example uses it */
};

struct item {
    size_t unit, ex;
    uint64_t ordinal;
    uint32_t *aug; /* per image of the example */
};

struct result {
    int dropped, truncated, first_of_episode;
    const char *kind;
    char task[16], split[8], answer[8];
    struct mvot_packed_sample ps;
    uint64_t text, image, special, supervised, images;
};

struct pack {
    const struct mvot_pack_opts *o;
    struct mvot_pool *pool;
    const struct mvot_progress *prog;
    struct mvot_bpe *tok;
    struct mvot_layout lay;
    struct mvot_assembler as;
    struct mvot_imagetok *it;
    struct mvot_imagetok_info info;
    uint32_t augment; /* K in effect: 0 with a patch codebook, whose round trip is the identity */
    uint32_t N, S;
    int wide;
    int retok;
    ZSTD_CCtx **cctx;
    int n_cctx;
    pthread_mutex_t enc_mu;

    /* chunk */
    struct unit *units;
    size_t n_units, cap_units;
    struct item *items;
    size_t n_items, cap_items;
    enum mvot_status *job_st;
    struct mvot_error *job_err;

    /* output */
    const char *out_dir;
    struct mvot_shard_writer *w;
    uint32_t shard_no;
    uint64_t shard_first_sample;
    uint64_t samples_written;
    json_t *records;   /* array of shard records (committed) */
    json_t *cur_stats; /* stats of the open (or next) shard */
    json_t *state_base;
    struct mvot_outdir_lock *lock; /* held for the whole run */
    uint32_t new_shards;
    int stopped;
    uint64_t ordinal_total;
    uint64_t done_items, total_hint;
};

static void unit_free(struct unit *u)
{
    if (u->has_ep)
        mvot_episode_free(&u->ep);
    else {
        mvot_sample_free(&u->old);
        /* retokenize moved the sample's frames into the unit: free them here */
        for (uint32_t i = 0; u->png && i < u->n_frames; i++)
            free(u->png[i]);
        free(u->png);
        free(u->png_len);
    }
    mvot_examples_free(u->ex, u->n_ex);
    free(u->maxk);
    free(u->codes);
    free(u->needed);
    memset(u, 0, sizeof *u);
}

static void chunk_clear(struct pack *p)
{
    for (size_t i = 0; i < p->n_units; i++)
        unit_free(&p->units[i]);
    for (size_t i = 0; i < p->n_items; i++)
        free(p->items[i].aug);
    p->n_units = p->n_items = 0;
}

static uint32_t draw_k(uint64_t seed, const char *key, uint32_t K, uint32_t image)
{
    struct mvot_rng r;
    mvot_rng_derive(&r, seed, DOMAIN_AUGMENT, mvot_hash64(key, strlen(key)) + image);
    return (uint32_t)mvot_rng_below(&r, (uint64_t)K + 1);
}

/* ---- stage A: encoding ---- */

struct job {
    size_t unit;
    uint32_t frame, level;
};

static int32_t *codes_at(struct pack *p, struct unit *u, uint32_t level, uint32_t frame)
{
    return u->codes + ((size_t)level * u->n_frames + frame) * p->N;
}

/* The S x S RGB input of a job: the frame PNG (level 0) or the decode of the level below. */
static enum mvot_status job_image(struct pack *p, const struct job *j, struct mvot_image *img,
                                  struct mvot_error *err)
{
    struct unit *u = &p->units[j->unit];
    enum mvot_status st;
    memset(img, 0, sizeof *img);
    if (j->level > 0)
        return mvot_imagetok_decode(p->it, codes_at(p, u, j->level - 1, j->frame), img, err);
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
            p->it, &img, codes_at(p, &p->units[j->unit], j->level, j->frame), &p->job_err[i]);
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
            memcpy(codes_at(p, &p->units[j->unit], j->level, j->frame), tmp + i * p->N,
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

static enum mvot_status encode_chunk(struct pack *p, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint32_t max_level = 0;
    for (size_t ui = 0; ui < p->n_units; ui++) {
        struct unit *u = &p->units[ui];
        if (u->levels > max_level)
            max_level = u->levels;
    }
    struct job *jobs = NULL;
    size_t cap = 0;
    for (uint32_t level = 0; level < max_level; level++) {
        size_t n = 0;
        for (size_t ui = 0; ui < p->n_units; ui++) {
            struct unit *u = &p->units[ui];
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

/* Registers a chunk unit's examples as items; marks the frame levels they need. */
static enum mvot_status add_unit_items(struct pack *p, size_t ui, uint64_t first_ordinal,
                                       uint64_t resume_ordinal, const uint32_t *const *old_aug,
                                       struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct unit *u = &p->units[ui];
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
            struct item *ni = realloc(p->items, nc * sizeof *ni);
            MVOT_FAIL_IF(!ni, err, MVOT_ERR_NOMEM, "pack", "out of memory");
            p->items = ni;
            p->cap_items = nc;
        }
        struct item *it = &p->items[p->n_items];
        memset(it, 0, sizeof *it);
        it->unit = ui;
        it->ex = e;
        it->ordinal = ord;
        it->aug = calloc(ex->n_images ? ex->n_images : 1, sizeof *it->aug);
        MVOT_FAIL_IF(!it->aug, err, MVOT_ERR_NOMEM, "pack", "out of memory");
        p->n_items++;
        for (uint32_t i = 0; i < ex->n_images; i++) {
            uint32_t f = ex->images[i];
            MVOT_FAIL_IF(f >= u->n_frames, err, MVOT_ERR_CORRUPT, ex->key,
                         "image %u refers to frame %u of %u", i, f, u->n_frames);
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

/* ---- stage B: assemble, serialize, compress ---- */

static enum mvot_status work(void *vc, size_t i, int worker, void **out, struct mvot_error *err)
{
    struct pack *p = vc;
    enum mvot_status st = MVOT_OK;
    const struct item *it = &p->items[i];
    struct unit *u = &p->units[it->unit];
    const struct mvot_example *ex = &u->ex[it->ex];
    struct mvot_ids t = {0};
    struct mvot_spans sp = {0};
    const int32_t **codes = NULL;
    uint32_t *tok32 = NULL;
    json_t *meta = NULL;
    char *js = NULL;
    struct result *r = calloc(1, sizeof *r);
    MVOT_FAIL_IF(!r, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    codes = malloc((ex->n_images ? ex->n_images : 1) * sizeof *codes);
    MVOT_FAIL_IF(!codes, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    for (uint32_t k = 0; k < ex->n_images; k++)
        codes[k] = codes_at(p, u, it->aug[k], ex->images[k]);
    MVOT_TRY(mvot_assemble_tokens(&p->as, ex->input_text, ex->label_text, codes, ex->n_images, &t,
                                  &sp, err));
    size_t n = t.n;
    int64_t truncated_from = -1;
    r->first_of_episode = it->ex == 0;
    if (p->o->max_length && n > p->o->max_length) {
        tok32 = malloc(n * sizeof *tok32);
        MVOT_FAIL_IF(!tok32, err, MVOT_ERR_NOMEM, "pack", "out of memory");
        for (size_t k = 0; k < n; k++)
            tok32[k] = (uint32_t)t.v[k];
        size_t cut =
            p->o->length_policy == MVOT_LENGTH_TRUNCATE
                ? mvot_assemble_truncate_point(&p->as, tok32, n, sp.v, sp.n, p->o->max_length)
                : 0;
        if (cut == 0) {
            r->dropped = 1;
        } else {
            truncated_from = (int64_t)n;
            r->truncated = 1;
            n = cut;
            /* cut the spans at n */
            size_t k = 0;
            while (k < sp.n && sp.v[k].start < n)
                k++;
            sp.n = k;
            if (k && sp.v[k - 1].start + sp.v[k - 1].length > n)
                sp.v[k - 1].length = (uint32_t)(n - sp.v[k - 1].start);
        }
        free(tok32);
        tok32 = NULL;
    }
    if (u->has_ep) {
        snprintf(r->task, sizeof r->task, "%s", mvot_task_name(u->ep.task));
        snprintf(r->split, sizeof r->split, "%s", mvot_split_name(u->ep.split));
        snprintf(r->answer, sizeof r->answer, "%s", u->ep.answer);
        r->kind = mvot_example_kind_name(ex->kind);
    } else {
        const char *s;
        s = json_string_value(json_object_get(u->old.meta, "task"));
        snprintf(r->task, sizeof r->task, "%s", s ? s : "?");
        s = json_string_value(json_object_get(u->old.meta, "split"));
        snprintf(r->split, sizeof r->split, "%s", s ? s : "?");
        s = json_string_value(json_object_get(u->old.meta, "answer"));
        snprintf(r->answer, sizeof r->answer, "%s", s ? s : "?");
        s = json_string_value(json_object_get(u->old.meta, "kind"));
        r->kind = s && strcmp(s, "visualization") == 0 ? "visualization"
                  : s && strcmp(s, "reasoning") == 0   ? "reasoning"
                  : s && strcmp(s, "trajectory") == 0  ? "trajectory"
                  : s && strcmp(s, "cot") == 0         ? "cot"
                  : s && strcmp(s, "direct") == 0      ? "direct"
                                                       : "?";
        r->first_of_episode = 0; /* counted below from the old json */
        json_t *st_ = json_object_get(u->old.meta, "step");
        s = json_string_value(json_object_get(u->old.meta, "kind"));
        /* an episode's first sample: step 0 visualization, or any single-sample mode */
        r->first_of_episode = !s || strcmp(s, "reasoning") != 0
                                  ? (!json_is_integer(st_) || json_integer_value(st_) == 0)
                                  : 0;
    }
    if (r->dropped) {
        *out = r;
        r = NULL;
        goto cleanup;
    }
    for (size_t k = 0; k < sp.n; k++) {
        uint64_t len = sp.v[k].length;
        if (sp.v[k].modality == MVOT_MOD_TEXT)
            r->text += len;
        else if (sp.v[k].modality == MVOT_MOD_IMAGE) {
            r->image += len;
            r->images++;
        } else
            r->special += len;
        if (sp.v[k].loss)
            r->supervised += len;
    }
    if (u->has_ep) {
        meta = mvot_assemble_meta(&u->ep, ex, p->o->mode, p->N, it->aug, n, truncated_from,
                                  p->o->store_frames);
    } else {
        meta = json_deep_copy(u->old.meta);
        if (meta) {
            json_object_set_new(meta, "n_tokens", json_integer((json_int_t)n));
            json_object_set_new(meta, "truncated",
                                truncated_from >= 0 ? json_integer(truncated_from) : json_null());
        }
    }
    MVOT_FAIL_IF(!meta, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    js = mvot_json_dumps(meta);
    MVOT_FAIL_IF(!js, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    tok32 = malloc((n ? n : 1) * sizeof *tok32);
    MVOT_FAIL_IF(!tok32, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    for (size_t k = 0; k < n; k++)
        tok32[k] = (uint32_t)t.v[k];
    const uint8_t *pngs[64];
    size_t png_len[64];
    uint32_t n_png = p->o->store_frames ? ex->n_images : 0;
    MVOT_FAIL_IF(n_png > 64, err, MVOT_ERR_INVALID, ex->key, "more than 64 images in a sample");
    for (uint32_t k = 0; k < n_png; k++) {
        pngs[k] = u->png[ex->images[k]];
        png_len[k] = u->png_len[ex->images[k]];
    }
    struct mvot_sample_parts parts = {ex->key, tok32,      n,     p->wide, sp.v,   sp.n,
                                      js,      strlen(js), n_png, pngs,    png_len};
    MVOT_TRY(mvot_packed_sample_build(p->cctx[worker], p->o->zstd_level, &parts, &r->ps, err));
    *out = r;
    r = NULL;
cleanup:
    if (r) {
        mvot_packed_sample_free(&r->ps);
        free(r);
    }
    mvot_ids_free(&t);
    mvot_spans_free(&sp);
    free(codes);
    free(tok32);
    json_decref(meta);
    free(js);
    return st;
}

static void discard(void *vc, void *res)
{
    (void)vc;
    struct result *r = res;
    if (r) {
        mvot_packed_sample_free(&r->ps);
        free(r);
    }
}

static enum mvot_status save_state(struct pack *p, struct mvot_error *err)
{
    char *path = mvot_io_join(p->out_dir, STATE_FILE);
    if (!path)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "pack", "out of memory");
    json_t *s = json_deep_copy(p->state_base);
    json_object_set(s, "shards", p->records);
    /* the shard written next: a kill between its rename and the next save leaves it
     * unlisted, and this is how the rerun knows it is ours */
    char next[48];
    snprintf(next, sizeof next, "shard-%06u.tar.zst", p->shard_no);
    json_object_set_new(s, "pending", json_string(next));
    enum mvot_status st = mvot_json_write_file(path, s, err);
    json_decref(s);
    free(path);
    return st;
}

static enum mvot_status commit_shard(struct pack *p, uint64_t end_ordinal, struct mvot_error *err)
{
    struct mvot_shard_info info;
    char file[48];
    snprintf(file, sizeof file, "shard-%06u.tar.zst", p->shard_no);
    enum mvot_status st = mvot_shard_writer_commit(p->w, &info, err);
    p->w = NULL;
    if (st != MVOT_OK)
        return st;
    json_array_append_new(p->records, mvot_shard_record(file, p->shard_first_sample, end_ordinal,
                                                        &info, p->cur_stats));
    json_decref(p->cur_stats);
    p->cur_stats = mvot_stats_new();
    p->shard_no++;
    p->new_shards++;
    return save_state(p, err);
}

static enum mvot_status emit(void *vc, size_t i, void *res, struct mvot_error *err)
{
    struct pack *p = vc;
    struct result *r = res;
    enum mvot_status st = MVOT_OK;
    const struct item *it = &p->items[i];
    if (!r->dropped) {
        if (p->w &&
            ((p->o->shard_samples && mvot_shard_writer_samples(p->w) >= p->o->shard_samples) ||
             (p->o->shard_bytes && mvot_shard_writer_raw_bytes(p->w) >= p->o->shard_bytes))) {
            MVOT_TRY(commit_shard(p, it->ordinal, err));
            if (p->o->stop_after_shards && p->new_shards >= p->o->stop_after_shards) {
                p->stopped = 1;
                st = mvot_error_set(err, MVOT_ERR_INTERNAL, "pack", "stopped (test hook)");
                goto cleanup;
            }
        }
        if (!p->w) {
            char file[48];
            snprintf(file, sizeof file, "shard-%06u.tar.zst", p->shard_no);
            char *path = mvot_io_join(p->out_dir, file);
            MVOT_FAIL_IF(!path, err, MVOT_ERR_NOMEM, "pack", "out of memory");
            st = mvot_shard_writer_open(path, p->o->zstd_level, &p->w, err);
            free(path);
            if (st != MVOT_OK)
                goto cleanup;
            p->shard_first_sample = p->samples_written;
        }
        MVOT_TRY(mvot_shard_writer_add(p->w, &r->ps, err));
        p->samples_written++;
        json_t *s = p->cur_stats;
        mvot_stats_add(s, 1, (const char *const[]){"samples", NULL});
        mvot_stats_add(s, (int64_t)r->ps.n_tokens, (const char *const[]){"tokens", NULL});
        mvot_stats_add(s, (int64_t)r->text, (const char *const[]){"text_tokens", NULL});
        mvot_stats_add(s, (int64_t)r->image, (const char *const[]){"image_tokens", NULL});
        mvot_stats_add(s, (int64_t)r->special, (const char *const[]){"special_tokens", NULL});
        mvot_stats_add(s, (int64_t)r->supervised, (const char *const[]){"supervised_tokens", NULL});
        mvot_stats_add(s, (int64_t)r->images, (const char *const[]){"images", NULL});
        mvot_stats_add(s, r->truncated, (const char *const[]){"truncated", NULL});
        mvot_stats_max(s, (int64_t)r->ps.n_tokens, "max_sample_tokens");
        mvot_stats_add(s, 1, (const char *const[]){"kinds", r->kind, NULL});
        mvot_stats_add(s, 1, (const char *const[]){"tasks", r->task, r->split, NULL});
    } else {
        mvot_stats_add(p->cur_stats, 1, (const char *const[]){"dropped", NULL});
    }
    if (r->first_of_episode) {
        mvot_stats_add(p->cur_stats, 1, (const char *const[]){"episodes", NULL});
        mvot_stats_add(p->cur_stats, 1,
                       (const char *const[]){"answers", r->task, r->split, r->answer, NULL});
    }
    p->done_items++;
    mvot_progress_report(p->prog, p->retok ? "retokenize" : "pack", p->done_items, p->total_hint);
cleanup:
    discard(p, r);
    return st;
}

static enum mvot_status flush_chunk(struct pack *p, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    if (p->n_items) {
        p->job_st = calloc(MVOT_PACK_ENCODE_BATCH, sizeof *p->job_st);
        p->job_err = calloc(MVOT_PACK_ENCODE_BATCH, sizeof *p->job_err);
        MVOT_FAIL_IF(!p->job_st || !p->job_err, err, MVOT_ERR_NOMEM, "pack", "out of memory");
        MVOT_TRY(encode_chunk(p, err));
        st = mvot_pool_map_ordered(p->pool, p->n_items, 0, work, emit, discard, p, err);
        if (st != MVOT_OK && p->stopped)
            st = MVOT_OK;
        if (st != MVOT_OK)
            goto cleanup;
    }
cleanup:
    free(p->job_st);
    free(p->job_err);
    p->job_st = NULL;
    p->job_err = NULL;
    chunk_clear(p);
    return st;
}

static enum mvot_status new_unit(struct pack *p, struct unit **out, struct mvot_error *err)
{
    if (p->n_units == p->cap_units) {
        size_t nc = p->cap_units ? p->cap_units * 2 : 64;
        struct unit *nu = realloc(p->units, nc * sizeof *nu);
        if (!nu)
            return mvot_error_set(err, MVOT_ERR_NOMEM, "pack", "out of memory");
        p->units = nu;
        p->cap_units = nc;
    }
    *out = &p->units[p->n_units++];
    memset(*out, 0, sizeof **out);
    return MVOT_OK;
}

/* ---- setup, resume, manifest ---- */

static json_t *hex_json(uint64_t h)
{
    char b[17];
    mvot_hash_hex(h, b);
    return json_string(b);
}

static enum mvot_status copy_file(const char *src, const char *dst, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_atomic_file af = {0};
    FILE *in = NULL;
    uint8_t *buf = NULL;
    uint64_t hs = 0, hd = 0;
    if (mvot_io_exists(dst) && mvot_hash_file(src, &hs, NULL) == MVOT_OK &&
        mvot_hash_file(dst, &hd, NULL) == MVOT_OK && hs == hd)
        return MVOT_OK;
    in = mvot_io_fopen_input(src, err);
    if (!in) {
        st = MVOT_ERR_IO;
        goto cleanup;
    }
    buf = malloc(1 << 20);
    MVOT_FAIL_IF(!buf, err, MVOT_ERR_NOMEM, src, "out of memory");
    MVOT_TRY(mvot_atomic_open(&af, dst, err));
    for (;;) {
        size_t n = fread(buf, 1, 1 << 20, in);
        if (n)
            MVOT_TRY(mvot_io_write_all(af.fp, buf, n, dst, err));
        if (n < (1 << 20)) {
            MVOT_FAIL_IF(ferror(in), err, MVOT_ERR_IO, src, "read failed");
            break;
        }
    }
    MVOT_TRY(mvot_atomic_commit(&af, err));
cleanup:
    mvot_atomic_abort(&af);
    if (in)
        fclose(in);
    free(buf);
    return st;
}

/* Adds to `owned` the names of the files an earlier run of ours recorded in `doc` (our
 * state file or our manifest): its shards, the shard it was writing when it stopped, and
 * its tokenizer and codebook copies. Only these may be deleted or overwritten. */
static void add_owned(json_t *owned, const json_t *doc)
{
    json_t *recs = json_object_get(doc, "shards"), *v;
    size_t i;
    json_array_foreach(recs, i, v) json_array_append(owned, json_object_get(v, "file"));
    json_array_foreach(json_object_get(doc, "files"), i, v) json_array_append(owned, v);
    json_array_append(owned, json_object_get(doc, "pending"));
    json_array_append(owned, json_object_get(json_object_get(doc, "tokenizer"), "file"));
    json_array_append(owned, json_object_get(json_object_get(doc, "codebook"), "file"));
}

/* The strings of a JSON array as a malloc'd vector (borrowed from the array; non-strings
 * become NULL, which the core/outdir.h calls skip). */
static const char **name_vec(const json_t *arr)
{
    const char **v = calloc(json_array_size(arr) + 1, sizeof *v);
    for (size_t i = 0; v && i < json_array_size(arr); i++)
        v[i] = json_string_value(json_array_get(arr, i));
    return v;
}

/* Loads previous progress (state file, else a complete manifest of ours) if it has our
 * config hash, keeping the longest prefix of records whose shard files hash right. Files
 * are removed only when our state or manifest lists them (docs/cli.md, "Output folders");
 * any other entry in out_dir stops the run before anything is written. */
static enum mvot_status load_progress(struct pack *p, const char *config_hex, int force,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *spath = mvot_io_join(p->out_dir, STATE_FILE);
    char *mpath = mvot_io_join(p->out_dir, "manifest.json");
    json_t *prev = NULL, *man = NULL, *owned = json_array(), *stale = json_array(), *files = NULL;
    const char **names = NULL, **drop = NULL;
    MVOT_FAIL_IF(!spath || !mpath || !owned || !stale, err, MVOT_ERR_NOMEM, "pack",
                 "out of memory");
    if (mvot_io_exists(spath) && mvot_json_load_file(spath, &prev, NULL) == MVOT_OK &&
        json_is_string(json_object_get(prev, "config_xxh3")))
        json_array_append_new(owned, json_string(STATE_FILE));
    else {
        json_decref(prev);
        prev = NULL;
    }
    if (mvot_io_exists(mpath) && mvot_json_load_file(mpath, &man, NULL) == MVOT_OK &&
        json_is_string(json_object_get(man, "format")) &&
        strcmp(json_string_value(json_object_get(man, "format")), MVOT_SHARD_FORMAT_NAME) == 0)
        json_array_append_new(owned, json_string("manifest.json"));
    else {
        json_decref(man); /* not ours (a gen manifest, say): check_foreign refuses it */
        man = NULL;
    }
    add_owned(owned, prev);
    add_owned(owned, man);
    if (!prev)
        prev = json_incref(man);
    /* a killed run's temp files: those of its own files and of the files every run writes */
    files = json_pack("[s,s,s,s]", STATE_FILE, "manifest.json", "tokenizer.json",
                      p->info.kind == MVOT_IMAGETOK_VQGAN ? "vqgan.safetensors"
                                                          : "codebook.safetensors");
    json_array_extend(stale, owned);
    json_array_extend(stale, files);
    names = name_vec(stale);
    MVOT_FAIL_IF(!names, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    mvot_outdir_clean_stale(p->lock, names, json_array_size(stale));
    json_array_clear(stale);
    free(names);
    names = name_vec(owned);
    MVOT_FAIL_IF(!names, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    MVOT_TRY(
        mvot_outdir_check_foreign(p->out_dir, names, json_array_size(owned), "a shard set", err));
    if (prev) {
        const char *h = json_string_value(json_object_get(prev, "config_xxh3"));
        if (!h || strcmp(h, config_hex) != 0) {
            MVOT_FAIL_IF(!force, err, MVOT_ERR_INVALID, p->out_dir,
                         "holds a pack made with other inputs or options (config %s, now %s); "
                         "use --force to replace it",
                         h ? h : "?", config_hex);
            MVOT_TRY(mvot_outdir_remove(p->out_dir, names, json_array_size(owned), err));
            json_decref(prev);
            prev = NULL;
        }
    }
    json_t *recs = prev ? json_object_get(prev, "shards") : NULL;
    for (size_t i = 0; i < json_array_size(recs); i++) {
        json_t *r = json_array_get(recs, i);
        const char *file = json_string_value(json_object_get(r, "file"));
        char want[48];
        snprintf(want, sizeof want, "shard-%06zu.tar.zst", i);
        uint64_t h = 0, got = 0;
        if (!file || strcmp(file, want) != 0 || mvot_manifest_hash(r, "compressed_xxh3", &h) != 0)
            break;
        char *path = mvot_io_join(p->out_dir, file);
        int ok = path && mvot_hash_file(path, &got, NULL) == MVOT_OK && got == h;
        free(path);
        if (!ok)
            break;
        json_array_append(p->records, r);
    }
    /* our shards past the kept prefix, and the one a killed run was writing */
    for (size_t i = json_array_size(p->records); i < json_array_size(recs); i++)
        json_array_append(stale, json_object_get(json_array_get(recs, i), "file"));
    json_array_append(stale, json_object_get(prev, "pending"));
    json_array_remove(files, 0); /* the copies of the tokenizer and codebook */
    json_array_remove(files, 0);
    json_object_set_new(p->state_base, "files", files);
    files = NULL;
    /* Save the kept records as state before the manifest goes, so a kill from here on still
     * resumes and the next run knows every file of ours; the manifest is rewritten last, and
     * until then the dir is incomplete. */
    MVOT_TRY(save_state(p, err));
    if (man)
        unlink(mpath);
    drop = name_vec(stale);
    MVOT_FAIL_IF(!drop, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    MVOT_TRY(mvot_outdir_remove(p->out_dir, drop, json_array_size(stale), err));
cleanup:
    json_decref(files);
    json_decref(prev);
    json_decref(man);
    json_decref(owned);
    json_decref(stale);
    free(names);
    free(drop);
    free(spath);
    free(mpath);
    return st;
}

static json_t *options_json(const struct mvot_pack_opts *o)
{
    json_t *j = json_object();
    json_object_set_new(j, "mode", json_string(mvot_pack_mode_name(o->mode)));
    json_object_set_new(j, "image_seq_length", json_integer(o->image_seq_length));
    json_object_set_new(j, "shard_samples", json_integer(o->shard_samples));
    json_object_set_new(j, "shard_bytes", json_integer((json_int_t)o->shard_bytes));
    json_object_set_new(j, "augment", json_integer(o->augment));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(j, "max_length", json_integer(o->max_length));
    json_object_set_new(
        j, "length_policy",
        json_string(o->length_policy == MVOT_LENGTH_TRUNCATE ? "truncate" : "drop"));
    json_object_set_new(j, "zstd_level", json_integer(o->zstd_level));
    json_object_set_new(j, "store_frames", json_boolean(o->store_frames));
    return j;
}

struct ids {
    json_t *tokenizer, *codebook, *episodes;
};

static enum mvot_status setup(struct pack *p, const char *tokenizer_path, const char *codebook_path,
                              struct ids *ids, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const struct mvot_pack_opts *o = p->o;
    MVOT_FAIL_IF(o->image_seq_length != 1024 && o->image_seq_length != 256 &&
                     o->image_seq_length != 64,
                 err, MVOT_ERR_INVALID, "pack", "--image-seq-length %u (want 1024, 256 or 64)",
                 o->image_seq_length);
    MVOT_FAIL_IF(o->zstd_level < 1 || o->zstd_level > 19, err, MVOT_ERR_INVALID, "pack",
                 "zstd level %d (want 1..19)", o->zstd_level);
    p->N = o->image_seq_length;
    p->S = p->N == 1024 ? 512 : p->N == 256 ? 256 : 128;
    MVOT_TRY(mvot_bpe_load_file(tokenizer_path, &p->tok, err));
    MVOT_TRY(mvot_layout_from_bpe(p->tok, &p->lay, err));
    MVOT_TRY(mvot_assembler_init(&p->as, p->tok, &p->lay, p->N, err));
    p->wide = mvot_bpe_vocab_size(p->tok) > 65536;
    MVOT_TRY(mvot_imagetok_open(codebook_path, p->S, 1, &p->it, err));
    mvot_imagetok_get_info(p->it, &p->info);
    /* Augmentation re-encodes decoded images, so it needs a decoder. With a patch codebook the
     * decoded patches are codebook entries, which encode to the same codes: a round trip
     * changes nothing, so none is done (the summary says so). */
    MVOT_FAIL_IF(o->augment && !p->info.can_decode, err, MVOT_ERR_INVALID, codebook_path,
                 "--augment %u needs a decoder to turn codes back into images, and this "
                 "checkpoint has none",
                 o->augment);
    p->augment = p->info.kind == MVOT_IMAGETOK_PATCH ? 0 : o->augment;
    MVOT_FAIL_IF(p->info.grid * p->info.grid != p->N, err, MVOT_ERR_MISMATCH, codebook_path,
                 "gives %u codes per image, want %u", p->info.grid * p->info.grid, p->N);
    MVOT_FAIL_IF(p->info.K > p->lay.n_codes, err, MVOT_ERR_MISMATCH, codebook_path,
                 "has %u codes but the tokenizer only %u image code tokens", p->info.K,
                 p->lay.n_codes);
    p->n_cctx = mvot_pool_threads(p->pool);
    p->cctx = calloc((size_t)p->n_cctx, sizeof *p->cctx);
    MVOT_FAIL_IF(!p->cctx, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    for (int i = 0; i < p->n_cctx; i++) {
        p->cctx[i] = ZSTD_createCCtx();
        MVOT_FAIL_IF(!p->cctx[i], err, MVOT_ERR_NOMEM, "pack", "out of memory");
    }
    MVOT_TRY(mvot_io_mkdirs(p->out_dir, err));

    ids->tokenizer = json_object();
    json_object_set_new(ids->tokenizer, "file", json_string("tokenizer.json"));
    json_object_set_new(ids->tokenizer, "xxh3", hex_json(mvot_bpe_file_hash(p->tok)));
    json_object_set_new(ids->tokenizer, "vocab_size", json_integer(mvot_bpe_vocab_size(p->tok)));
    json_object_set_new(ids->tokenizer, "token_dtype", json_string(p->wide ? "uint32" : "uint16"));
    json_t *sp = json_object();
    json_object_set_new(sp, "bos", json_integer(p->lay.bos));
    json_object_set_new(sp, "pad", json_integer(p->lay.pad));
    json_object_set_new(sp, "eos", json_integer(p->lay.eos));
    json_object_set_new(sp, "unk", json_integer(p->lay.unk));
    json_object_set_new(sp, "boi", json_integer(p->lay.boi));
    json_object_set_new(sp, "eoi", json_integer(p->lay.eoi));
    json_object_set_new(sp, "sep", json_integer(p->lay.sep));
    json_object_set_new(sp, "image", json_integer(p->lay.image));
    json_object_set_new(ids->tokenizer, "special", sp);
    json_object_set_new(ids->tokenizer, "image_codes", json_integer(p->lay.n_codes));
    ids->codebook = json_object();
    const char *cbname =
        p->info.kind == MVOT_IMAGETOK_VQGAN ? "vqgan.safetensors" : "codebook.safetensors";
    json_object_set_new(ids->codebook, "file", json_string(cbname));
    json_object_set_new(ids->codebook, "xxh3", hex_json(p->info.hash));
    json_object_set_new(ids->codebook, "kind",
                        json_string(p->info.kind == MVOT_IMAGETOK_VQGAN ? "vqgan" : "patch"));
    json_object_set_new(ids->codebook, "K", json_integer(p->info.K));
    json_object_set_new(ids->codebook, "D", json_integer(p->info.D));
    json_object_set_new(ids->codebook, "image_size", json_integer(p->info.image_size));
cleanup:
    return st;
}

static enum mvot_status copy_identities(struct pack *p, const char *tokenizer_path,
                                        const char *codebook_path, const struct ids *ids,
                                        struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *t = mvot_io_join(p->out_dir, "tokenizer.json");
    char *c = mvot_io_join(p->out_dir, json_string_value(json_object_get(ids->codebook, "file")));
    MVOT_FAIL_IF(!t || !c, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    MVOT_TRY(copy_file(tokenizer_path, t, err));
    MVOT_TRY(copy_file(codebook_path, c, err));
cleanup:
    free(t);
    free(c);
    return st;
}

static void pack_free(struct pack *p)
{
    chunk_clear(p);
    free(p->units);
    free(p->items);
    mvot_shard_writer_abort(p->w);
    for (int i = 0; i < p->n_cctx; i++)
        ZSTD_freeCCtx(p->cctx[i]);
    free(p->cctx);
    mvot_bpe_free(p->tok);
    mvot_imagetok_free(p->it);
    json_decref(p->records);
    json_decref(p->cur_stats);
    json_decref(p->state_base);
    mvot_outdir_unlock(p->lock);
    pthread_mutex_destroy(&p->enc_mu);
}

static enum mvot_status pack_init(struct pack *p, const struct mvot_pack_opts *o,
                                  const char *out_dir, struct mvot_pool *pool,
                                  const struct mvot_progress *prog)
{
    memset(p, 0, sizeof *p);
    p->o = o;
    p->pool = pool;
    p->prog = prog;
    p->out_dir = out_dir;
    pthread_mutex_init(&p->enc_mu, NULL);
    p->records = json_array();
    p->cur_stats = mvot_stats_new();
    return p->records && p->cur_stats ? MVOT_OK : MVOT_ERR_NOMEM;
}

/* The output folder rules (core/outdir.h): no overlap with an input, one run at a time. */
static enum mvot_status open_out(struct pack *p, const char *const *inputs, size_t n,
                                 const char *command, struct mvot_error *err)
{
    enum mvot_status st = mvot_outdir_check_overlap(p->out_dir, inputs, n, err);
    return st != MVOT_OK ? st : mvot_outdir_lock(p->out_dir, command, &p->lock, err);
}

/* Resume position from the kept records. */
static void resume_point(struct pack *p, uint64_t *resume_ordinal)
{
    size_t n = json_array_size(p->records);
    *resume_ordinal = 0;
    p->samples_written = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(p->records, i);
        p->samples_written += (uint64_t)json_integer_value(json_object_get(r, "samples"));
        *resume_ordinal = (uint64_t)json_integer_value(json_object_get(r, "end_ordinal"));
    }
    p->shard_no = (uint32_t)n;
}

/* Commits the last shard and writes the manifest. */
/* The manifest fields pack and retokenize share: format, tool, mode, sizes, options, config
 * hash, identities and which encoder made the image codes. New reference. */
static json_t *manifest_base(const struct pack *p, const struct mvot_pack_opts *o,
                             const char *cfg_hex, const struct ids *ids)
{
    json_t *m = json_object();
    json_object_set_new(m, "format", json_string(MVOT_SHARD_FORMAT_NAME));
    json_object_set_new(m, "version", json_integer(MVOT_SHARD_VERSION));
    json_object_set_new(m, "tool", json_string("mvot-data " MVOT_VERSION));
    json_object_set_new(m, "mode", json_string(mvot_pack_mode_name(o->mode)));
    json_object_set_new(m, "image_seq_length", json_integer(p->N));
    json_object_set_new(m, "image_size", json_integer(p->S));
    json_object_set_new(m, "options", options_json(o));
    json_object_set_new(m, "config_xxh3", json_string(cfg_hex));
    json_object_set(m, "tokenizer", ids->tokenizer);
    json_object_set(m, "codebook", ids->codebook);
    json_object_set_new(
        m, "image_encoder",
        json_string(o->encoder ? (o->encoder->name ? o->encoder->name : "external") : "cpu"));
    return m;
}

/* Counts a unit's frames into the current chunk and flushes the chunk when it is full. */
static enum mvot_status chunk_add(struct pack *p, size_t *chunk_frames, size_t frames,
                                  struct mvot_error *err)
{
    *chunk_frames += frames;
    if (*chunk_frames < CHUNK_FRAMES && p->n_units < CHUNK_UNITS)
        return MVOT_OK;
    *chunk_frames = 0;
    return flush_chunk(p, err);
}

static enum mvot_status finish(struct pack *p, json_t *manifest, json_t **summary, uint64_t resumed,
                               struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *mpath = NULL, *spath = NULL;
    if (p->stopped) {
        if (summary) {
            *summary = json_object();
            json_object_set_new(*summary, "interrupted", json_true());
            json_object_set_new(*summary, "shards", json_integer((json_int_t)p->shard_no));
        }
        return MVOT_OK;
    }
    if (p->w)
        MVOT_TRY(commit_shard(p, p->ordinal_total, err));
    json_t *totals = mvot_stats_new(), *stats;
    for (size_t i = 0; i < json_array_size(p->records); i++)
        mvot_stats_merge(totals, json_object_get(json_array_get(p->records, i), "stats"));
    mvot_stats_merge(totals, p->cur_stats); /* drops after the last shard (no shard at all) */
    uint64_t raw = 0, comp = 0;
    for (size_t i = 0; i < json_array_size(p->records); i++) {
        json_t *r = json_array_get(p->records, i);
        raw += (uint64_t)json_integer_value(json_object_get(r, "raw_bytes"));
        comp += (uint64_t)json_integer_value(json_object_get(r, "compressed_bytes"));
    }
    stats = json_object();
    json_object_set(stats, "kinds", json_object_get(totals, "kinds"));
    json_object_set(stats, "tasks", json_object_get(totals, "tasks"));
    json_object_set(stats, "answers", json_object_get(totals, "answers"));
    json_object_del(totals, "kinds");
    json_object_del(totals, "tasks");
    json_object_del(totals, "answers");
    json_object_set_new(totals, "raw_bytes", json_integer((json_int_t)raw));
    json_object_set_new(totals, "compressed_bytes", json_integer((json_int_t)comp));
    json_object_set_new(totals, "shards", json_integer((json_int_t)json_array_size(p->records)));
    json_object_set_new(manifest, "totals", totals);
    json_object_set_new(manifest, "stats", stats);
    json_object_set(manifest, "shards", p->records);
    mpath = mvot_io_join(p->out_dir, "manifest.json");
    spath = mvot_io_join(p->out_dir, STATE_FILE);
    MVOT_FAIL_IF(!mpath || !spath, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    MVOT_TRY(mvot_json_write_file(mpath, manifest, err));
    unlink(spath);
    if (summary) {
        *summary = json_deep_copy(totals);
        json_object_set_new(*summary, "interrupted", json_false());
        if (p->o->augment && !p->augment)
            json_object_set_new(*summary, "augment_identity", json_true());
        json_object_set_new(*summary, "resumed_shards", json_integer((json_int_t)resumed));
        json_object_set_new(*summary, "ratio", json_real(comp ? (double)raw / (double)comp : 0));
    }
cleanup:
    free(mpath);
    free(spath);
    return st;
}

static json_t *load_gen_manifest(const char *episodes_path)
{
    /* The gen manifest sits beside the archive. */
    const char *slash = strrchr(episodes_path, '/');
    char *dir =
        slash ? mvot_strdupf("%.*s", (int)(slash - episodes_path), episodes_path) : strdup(".");
    char *mp = dir ? mvot_io_join(dir, "manifest.json") : NULL;
    json_t *m = NULL;
    if (mp && mvot_io_exists(mp))
        mvot_json_load_file(mp, &m, NULL);
    free(dir);
    free(mp);
    if (!m)
        return json_null();
    json_t *keep = json_object();
    const char *k;
    json_t *v;
    /* the config and seeds, not per-episode lists */
    json_object_foreach(m, k, v)
    {
        if (!json_is_array(v) || json_array_size(v) <= 16)
            json_object_set(keep, k, v);
    }
    json_decref(m);
    return keep;
}

enum mvot_status mvot_pack_run(const char *episodes, const char *tokenizer_path,
                               const char *codebook_path, const char *out_dir,
                               const struct mvot_pack_opts *o, struct mvot_pool *pool,
                               const struct mvot_progress *prog, json_t **summary,
                               struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct pack p;
    struct ids ids = {0};
    char *arch = NULL;
    json_t *manifest = NULL, *config = NULL;
    struct mvot_episode_reader *rd = NULL;
    char *cfg_dump = NULL;
    if (summary)
        *summary = NULL;
    MVOT_FAIL_IF(pack_init(&p, o, out_dir, pool, prog) != MVOT_OK, err, MVOT_ERR_NOMEM, "pack",
                 "out of memory");
    MVOT_TRY(open_out(&p, (const char *[]){episodes, tokenizer_path, codebook_path}, 3, "mvot pack",
                      err));
    arch = mvot_io_join(episodes, "episodes.tar.zst");
    MVOT_FAIL_IF(!arch, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    if (!mvot_io_exists(arch)) {
        free(arch);
        arch = strdup(episodes);
    }
    MVOT_TRY(setup(&p, tokenizer_path, codebook_path, &ids, err));
    uint64_t ah = 0;
    MVOT_TRY(mvot_hash_file(arch, &ah, err));
    ids.episodes = json_object();
    json_object_set_new(ids.episodes, "xxh3", hex_json(ah));
    json_object_set_new(ids.episodes, "gen", load_gen_manifest(arch));

    config = json_object();
    json_object_set_new(config, "options", options_json(o));
    json_object_set(config, "tokenizer", json_object_get(ids.tokenizer, "xxh3"));
    json_object_set(config, "codebook", json_object_get(ids.codebook, "xxh3"));
    json_object_set(config, "episodes", json_object_get(ids.episodes, "xxh3"));
    json_object_set_new(config, "tool", json_string("mvot-data " MVOT_VERSION));
    if (o->config)
        json_object_set(config, "build_config", (json_t *)o->config);
    cfg_dump = mvot_json_dumps(config);
    MVOT_FAIL_IF(!cfg_dump, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    char cfg_hex[17];
    mvot_hash_hex(mvot_hash64(cfg_dump, strlen(cfg_dump)), cfg_hex);

    p.state_base = json_object();
    json_object_set_new(p.state_base, "config_xxh3", json_string(cfg_hex));
    MVOT_TRY(load_progress(&p, cfg_hex, o->force, err));
    MVOT_TRY(copy_identities(&p, tokenizer_path, codebook_path, &ids, err));
    uint64_t resume_ordinal = 0;
    resume_point(&p, &resume_ordinal);
    uint64_t resumed = p.shard_no;
    uint64_t n_ep_hint, n_fr_hint; /* progress total: samples, from the gen manifest */
    mvot_episode_archive_totals(arch, &n_ep_hint, &n_fr_hint);
    p.total_hint = o->mode != MVOT_PACK_MVOT ? n_ep_hint
                   : n_fr_hint >= n_ep_hint  ? 2 * n_fr_hint - n_ep_hint
                                             : 0;
    p.done_items = resume_ordinal;

    /* stream episodes in chunks */
    MVOT_TRY(mvot_episode_reader_open(arch, &rd, err));
    uint64_t ordinal = 0, n_episodes = 0;
    size_t chunk_frames = 0;
    for (;;) {
        struct mvot_episode ep;
        int done = 0;
        memset(&ep, 0, sizeof ep);
        MVOT_TRY(mvot_episode_reader_next(rd, &ep, &done, err));
        if (done)
            break;
        n_episodes++;
        size_t cnt = mvot_assemble_count(&ep, o->mode);
        if (ordinal + cnt <= resume_ordinal) { /* committed already */
            ordinal += cnt;
            mvot_episode_free(&ep);
            continue;
        }
        struct unit *u;
        st = new_unit(&p, &u, err);
        if (st != MVOT_OK) {
            mvot_episode_free(&ep);
            goto cleanup;
        }
        u->ep = ep;
        u->has_ep = 1;
        u->n_frames = ep.n_frames;
        u->png = ep.frame_png;
        u->png_len = ep.frame_png_len;
        MVOT_TRY(mvot_assemble_examples(&u->ep, o->mode, &u->ex, &u->n_ex, err));
        MVOT_FAIL_IF(u->n_ex != cnt, err, MVOT_ERR_INTERNAL, ep.key, "example count mismatch");
        MVOT_TRY(add_unit_items(&p, p.n_units - 1, ordinal, resume_ordinal, NULL, err));
        ordinal += cnt;
        MVOT_TRY(chunk_add(&p, &chunk_frames, u->n_frames, err));
        if (p.stopped)
            break;
    }
    if (!p.stopped)
        MVOT_TRY(flush_chunk(&p, err));
    p.ordinal_total = ordinal;

    manifest = manifest_base(&p, o, cfg_hex, &ids);
    json_object_set_new(ids.episodes, "episodes", json_integer((json_int_t)n_episodes));
    json_object_set(manifest, "episodes", ids.episodes);
    if (o->config)
        json_object_set(manifest, "build_config", (json_t *)o->config);
    MVOT_TRY(finish(&p, manifest, summary, resumed, err));
    if (summary && *summary)
        json_object_set_new(*summary, "episodes", json_integer((json_int_t)n_episodes));
cleanup:
    mvot_episode_reader_close(rd);
    pack_free(&p);
    json_decref(ids.tokenizer);
    json_decref(ids.codebook);
    json_decref(ids.episodes);
    json_decref(manifest);
    json_decref(config);
    free(cfg_dump);
    free(arch);
    return st;
}

/* ---- retokenize ---- */

enum mvot_status mvot_pack_retokenize(const char *in_dir, const char *tokenizer_path,
                                      const char *codebook_path, const char *out_dir,
                                      const struct mvot_pack_opts *opts_in, struct mvot_pool *pool,
                                      const struct mvot_progress *prog, json_t **summary,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct pack p;
    struct ids ids = {0};
    struct mvot_shard_set *set = NULL;
    struct mvot_pack_opts o = *opts_in;
    char *old_tok = NULL, *old_cb = NULL, *cfg_dump = NULL;
    json_t *manifest = NULL, *config = NULL;
    uint32_t **old_aug = NULL;
    if (summary)
        *summary = NULL;
    MVOT_FAIL_IF(pack_init(&p, &o, out_dir, pool, prog) != MVOT_OK, err, MVOT_ERR_NOMEM, "pack",
                 "out of memory");
    p.retok = 1;
    MVOT_TRY(open_out(&p, (const char *[]){in_dir, tokenizer_path, codebook_path}, 3,
                      "mvot retokenize", err));
    MVOT_TRY(mvot_shard_set_open(in_dir, &set, err));
    const json_t *om = mvot_shard_set_manifest(set);
    const json_t *oo = json_object_get(om, "options");
    const char *mode = json_string_value(json_object_get(oo, "mode"));
    MVOT_FAIL_IF(!mode || mvot_pack_mode_parse(mode, &o.mode) != 0, err, MVOT_ERR_CORRUPT, in_dir,
                 "manifest.json: bad options.mode");
    o.image_seq_length = (uint32_t)json_integer_value(json_object_get(oo, "image_seq_length"));
    o.max_length = (uint32_t)json_integer_value(json_object_get(oo, "max_length"));
    const char *lp = json_string_value(json_object_get(oo, "length_policy"));
    o.length_policy = lp && strcmp(lp, "truncate") == 0 ? MVOT_LENGTH_TRUNCATE : MVOT_LENGTH_DROP;
    o.augment = (uint32_t)json_integer_value(json_object_get(oo, "augment"));
    o.seed = (uint64_t)json_integer_value(json_object_get(oo, "seed"));
    o.store_frames = 1;
    old_tok = mvot_io_join(in_dir, "tokenizer.json");
    old_cb = mvot_io_join(
        in_dir, json_string_value(json_object_get(json_object_get(om, "codebook"), "file")));
    MVOT_FAIL_IF(!old_tok || !old_cb, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    if (!tokenizer_path)
        tokenizer_path = old_tok;
    if (!codebook_path)
        codebook_path = old_cb;
    MVOT_TRY(setup(&p, tokenizer_path, codebook_path, &ids, err));
    ids.episodes = json_deep_copy(json_object_get(om, "episodes"));

    config = json_object();
    json_object_set_new(config, "options", options_json(&o));
    json_object_set(config, "tokenizer", json_object_get(ids.tokenizer, "xxh3"));
    json_object_set(config, "codebook", json_object_get(ids.codebook, "xxh3"));
    json_object_set(config, "retokenized_from", json_object_get(om, "config_xxh3"));
    json_object_set_new(config, "tool", json_string("mvot-data " MVOT_VERSION));
    cfg_dump = mvot_json_dumps(config);
    MVOT_FAIL_IF(!cfg_dump, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    char cfg_hex[17];
    mvot_hash_hex(mvot_hash64(cfg_dump, strlen(cfg_dump)), cfg_hex);
    p.state_base = json_object();
    json_object_set_new(p.state_base, "config_xxh3", json_string(cfg_hex));
    MVOT_TRY(load_progress(&p, cfg_hex, o.force, err));
    MVOT_TRY(copy_identities(&p, tokenizer_path, codebook_path, &ids, err));
    uint64_t resume_ordinal = 0;
    resume_point(&p, &resume_ordinal);
    uint64_t resumed = p.shard_no;

    size_t n = mvot_shard_set_count(set);
    p.total_hint = n;
    p.done_items = resume_ordinal;
    size_t chunk_frames = 0;
    for (size_t i = 0; i < n; i++) {
        if (i < resume_ordinal)
            continue;
        struct unit *u;
        MVOT_TRY(new_unit(&p, &u, err));
        MVOT_TRY(mvot_shard_set_get(set, i, &u->old, err));
        const json_t *m = u->old.meta;
        const char *in_t = json_string_value(json_object_get(m, "input_text"));
        const char *lb_t = json_string_value(json_object_get(m, "label_text"));
        json_t *imgs = json_object_get(m, "images"), *aug = json_object_get(m, "augment");
        json_t *limgs = json_object_get(m, "label_images");
        uint32_t ni = (uint32_t)json_array_size(imgs);
        MVOT_FAIL_IF(!in_t || !lb_t || ni != u->old.n_png || json_array_size(aug) != ni, err,
                     MVOT_ERR_CORRUPT, u->old.key,
                     "sample lacks input_text/label_text, or its %u frames (stored %u) and "
                     "augment list disagree; was it packed with --no-frames?",
                     ni, u->old.n_png);
        u->n_frames = ni;
        u->png = u->old.png;
        u->png_len = u->old.png_len;
        u->old.png = NULL; /* moved into the unit */
        u->old.png_len = NULL;
        u->old.n_png = 0;
        u->ex = calloc(1, sizeof *u->ex);
        MVOT_FAIL_IF(!u->ex, err, MVOT_ERR_NOMEM, "pack", "out of memory");
        u->n_ex = 1;
        snprintf(u->ex->key, sizeof u->ex->key, "%s", u->old.key);
        u->ex->input_text = strdup(in_t);
        u->ex->label_text = strdup(lb_t);
        u->ex->images = malloc((ni ? ni : 1) * sizeof *u->ex->images);
        MVOT_FAIL_IF(!u->ex->input_text || !u->ex->label_text || !u->ex->images, err,
                     MVOT_ERR_NOMEM, "pack", "out of memory");
        for (uint32_t k = 0; k < ni; k++)
            u->ex->images[k] = k; /* frame j of the sample is stored member j */
        u->ex->n_images = ni;
        u->ex->n_input_images = ni - (uint32_t)json_array_size(limgs);
        u->ex->step = -1;
        u->ex->prev_frame = u->ex->target_frame = -1;
        uint32_t *a = calloc(ni ? ni : 1, sizeof *a);
        MVOT_FAIL_IF(!a, err, MVOT_ERR_NOMEM, "pack", "out of memory");
        for (uint32_t k = 0; k < ni; k++) {
            json_int_t v = json_integer_value(json_array_get(aug, k));
            a[k] = v < 0 ? 0 : v > 64 ? 64 : (uint32_t)v;
        }
        old_aug = &a;
        st = add_unit_items(&p, p.n_units - 1, i, 0, (const uint32_t *const *)old_aug, err);
        free(a);
        old_aug = NULL;
        if (st != MVOT_OK)
            goto cleanup;
        MVOT_TRY(chunk_add(&p, &chunk_frames, ni, err));
        if (p.stopped)
            break;
    }
    if (!p.stopped)
        MVOT_TRY(flush_chunk(&p, err));
    p.ordinal_total = n;

    manifest = manifest_base(&p, &o, cfg_hex, &ids);
    json_object_set(manifest, "episodes", ids.episodes);
    if (json_object_get(om, "build_config"))
        json_object_set(manifest, "build_config", json_object_get(om, "build_config"));
    json_t *from = json_object();
    json_object_set(from, "tokenizer", json_object_get(om, "tokenizer"));
    json_object_set(from, "codebook", json_object_get(om, "codebook"));
    json_object_set(from, "config_xxh3", json_object_get(om, "config_xxh3"));
    json_object_set_new(manifest, "retokenized_from", from);
    MVOT_TRY(finish(&p, manifest, summary, resumed, err));
cleanup:
    mvot_shard_set_close(set);
    pack_free(&p);
    json_decref(ids.tokenizer);
    json_decref(ids.codebook);
    json_decref(ids.episodes);
    json_decref(manifest);
    json_decref(config);
    free(cfg_dump);
    free(old_tok);
    free(old_cb);
    return st;
}
