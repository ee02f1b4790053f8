/* mvot_pack_run (shards/pack.h): episodes -> per-split shard sets + manifest (format 2).
 *
 * The whole episode archive is read first (frames stay PNG bytes), so the episodes of each
 * split can be put in their documented, seeded order (docs/shard-format.md §5): tasks
 * interleaved in proportion, each task's episodes ordered by a seeded hash of their keys.
 * Then work flows in chunks (pack_internal.h): stage A encodes frames, stage B builds the
 * samples in parallel, and emit() appends them in order to the shard writer, which
 * compresses each episode's samples together. A shard holds one split, and rolls only
 * between episodes. Determinism: nothing depends on the thread count or chunk boundaries;
 * resume: see pack_state.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "shards/format.h"
#include "shards/manifest.h"
#include "shards/pack_internal.h"

static void unit_free(struct pack_unit *u)
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

void mvot__pack_free(struct pack *p)
{
    chunk_clear(p);
    free(p->units);
    free(p->items);
    mvot_shard_writer_abort(p->w);
    mvot_bpe_free(p->tok);
    mvot_imagetok_free(p->it);
    json_decref(p->records);
    json_decref(p->cur_stats);
    json_decref(p->state_base);
    json_decref(p->ids.tokenizer);
    json_decref(p->ids.codebook);
    json_decref(p->ids.episodes);
    mvot_outdir_unlock(p->lock);
    pthread_mutex_destroy(&p->enc_mu);
}

enum mvot_status mvot__pack_init(struct pack *p, const struct mvot_pack_opts *o,
                                 const char *out_dir, struct mvot_pool *pool,
                                 const struct mvot_progress *prog)
{
    memset(p, 0, sizeof *p);
    p->o = o;
    p->pool = pool;
    p->prog = prog;
    p->out_dir = out_dir;
    p->w_src_shard = -1;
    pthread_mutex_init(&p->enc_mu, NULL);
    p->records = json_array();
    p->cur_stats = mvot_stats_new();
    return p->records && p->cur_stats ? MVOT_OK : MVOT_ERR_NOMEM;
}

enum mvot_status mvot__pack_open_out(struct pack *p, const char *const *inputs, size_t n,
                                     const char *command, struct mvot_error *err)
{
    enum mvot_status st = mvot_outdir_check_overlap(p->out_dir, inputs, n, err);
    return st != MVOT_OK ? st : mvot_outdir_lock(p->out_dir, command, &p->lock, err);
}

enum mvot_status mvot__pack_new_unit(struct pack *p, struct pack_unit **out, struct mvot_error *err)
{
    if (p->n_units == p->cap_units) {
        size_t nc = p->cap_units ? p->cap_units * 2 : 64;
        struct pack_unit *nu = realloc(p->units, nc * sizeof *nu);
        if (!nu)
            return mvot_error_set(err, MVOT_ERR_NOMEM, "pack", "out of memory");
        p->units = nu;
        p->cap_units = nc;
    }
    *out = &p->units[p->n_units++];
    memset(*out, 0, sizeof **out);
    return MVOT_OK;
}

enum mvot_status mvot__pack_commit_shard(struct pack *p, uint64_t end_ordinal,
                                         struct mvot_error *err)
{
    struct mvot_shard_info info;
    const char *split = mvot_split_name((enum mvot_split)p->w_split);
    enum mvot_status st = mvot_shard_writer_commit(p->w, &info, err);
    p->w = NULL;
    if (st != MVOT_OK)
        return st;
    json_array_append_new(p->records,
                          mvot_shard_record(p->pending, split, p->w_block, p->shard_first_sample,
                                            end_ordinal, &info, p->cur_stats));
    json_decref(p->cur_stats);
    p->cur_stats = mvot_stats_new();
    p->have_last[p->w_split] = 1;
    p->last_block[p->w_split] = p->w_block;
    p->last_n[p->w_split] = p->w_n;
    p->pending[0] = 0;
    p->new_shards++;
    return mvot__pack_save_state(p, err);
}

/* Commits the open shard at `ordinal`, then honours the tests' stop hook. */
static enum mvot_status roll(struct pack *p, uint64_t ordinal, struct mvot_error *err)
{
    enum mvot_status st = mvot__pack_commit_shard(p, ordinal, err);
    if (st == MVOT_OK && p->o->stop_after_shards && p->new_shards >= p->o->stop_after_shards) {
        p->stopped = 1;
        st = mvot_error_set(err, MVOT_ERR_INTERNAL, "pack", "stopped (test hook)");
    }
    return st;
}

/* Opens shard n of the item's block: n follows the split's last committed shard if that was
 * of the same block, else 0. Its name is saved as pending first, so that a kill after its rename
 * but before the next state save leaves a file the rerun knows as ours. */
static enum mvot_status open_shard(struct pack *p, const struct pack_item *it,
                                   struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const struct pack_place *at = &it->at;
    const char *sn = mvot_split_name((enum mvot_split)at->split);
    uint32_t n = at->n >= 0 ? (uint32_t)at->n
                 : p->have_last[at->split] && p->last_block[at->split] == at->block
                     ? p->last_n[at->split] + 1
                     : 0;
    char *dir = mvot_io_join(p->out_dir, sn), *path = NULL;
    MVOT_FAIL_IF(!dir || mvot_shard_file_name(p->pending, sizeof p->pending, sn, at->block, n) < 0,
                 err, MVOT_ERR_NOMEM, "pack", "out of memory");
    MVOT_FAIL_IF(at->block > 99999 || n > 999999, err, MVOT_ERR_INVALID, p->out_dir,
                 "%s: more than 100000 blocks or 10^6 shards in a block; raise --shard-samples "
                 "or --shard-bytes",
                 sn);
    MVOT_TRY(mvot__pack_save_state(p, err));
    MVOT_TRY(mvot_io_mkdirs(dir, err));
    path = mvot_io_join(p->out_dir, p->pending);
    MVOT_FAIL_IF(!path, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    MVOT_TRY(mvot_shard_writer_open(path, p->o->zstd_level, &p->w, err));
    p->w_split = at->split;
    p->w_block = at->block;
    p->w_n = n;
    p->w_src_shard = at->src_shard;
    p->w_episode[0] = 0;
    p->shard_first_sample = p->samples_written;
cleanup:
    free(dir);
    free(path);
    return st;
}

static void count_sample(json_t *s, const struct pack_result *r)
{
    mvot_stats_add(s, 1, (const char *const[]){"samples", NULL});
    mvot_stats_add(s, (int64_t)r->ps.n_tokens, (const char *const[]){"tokens", NULL});
    mvot_stats_add(s, (int64_t)r->text, (const char *const[]){"text_tokens", NULL});
    mvot_stats_add(s, (int64_t)r->image, (const char *const[]){"image_tokens", NULL});
    mvot_stats_add(s, (int64_t)r->special, (const char *const[]){"special_tokens", NULL});
    mvot_stats_add(s, (int64_t)r->supervised, (const char *const[]){"supervised_tokens", NULL});
    mvot_stats_add(s, (int64_t)r->images, (const char *const[]){"images", NULL});
    mvot_stats_add(s, r->truncated, (const char *const[]){"truncated", NULL});
    mvot_stats_max(s, (int64_t)r->ps.n_tokens, "max_sample_tokens");
    mvot_trainer_fit_count(s, &r->fit);
    mvot_stats_add(s, 1, (const char *const[]){"kinds", r->kind, NULL});
    mvot_stats_add(s, 1, (const char *const[]){"tasks", r->task, r->split, NULL});
}

static enum mvot_status emit(void *vc, size_t i, void *res, struct mvot_error *err)
{
    struct pack *p = vc;
    struct pack_result *r = res;
    enum mvot_status st = MVOT_OK;
    const struct pack_item *it = &p->items[i];
    /* a shard holds one block of one split, and for retokenize the samples of one source
     * shard */
    if (p->w && (it->at.split != p->w_split || it->at.block != p->w_block ||
                 it->at.src_shard != p->w_src_shard))
        MVOT_TRY(roll(p, it->ordinal, err));
    if (!r->dropped) {
        const char *key = r->ps.key;
        size_t el = r->ps.episode_len;
        int new_episode = strlen(p->w_episode) != el || strncmp(p->w_episode, key, el) != 0;
        /* within a block only the byte limit rolls (the plan's blocks hold the sample limit) */
        if (p->w && !p->retok && new_episode && p->o->shard_bytes &&
            mvot_shard_writer_raw_bytes(p->w) >= p->o->shard_bytes)
            MVOT_TRY(roll(p, it->ordinal, err));
        if (!p->w)
            MVOT_TRY(open_shard(p, it, err));
        MVOT_TRY(mvot_shard_writer_add(p->w, &r->ps, err));
        snprintf(p->w_episode, sizeof p->w_episode, "%.*s", (int)el, key);
        p->samples_written++;
        count_sample(p->cur_stats, r);
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
    mvot__pack_discard(p, r);
    return st;
}

enum mvot_status mvot__pack_flush_chunk(struct pack *p, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    if (p->n_items) {
        p->job_st = calloc(MVOT_PACK_ENCODE_BATCH, sizeof *p->job_st);
        p->job_err = calloc(MVOT_PACK_ENCODE_BATCH, sizeof *p->job_err);
        MVOT_FAIL_IF(!p->job_st || !p->job_err, err, MVOT_ERR_NOMEM, "pack", "out of memory");
        MVOT_TRY(mvot__pack_encode_chunk(p, err));
        st = mvot_pool_map_ordered(p->pool, p->n_items, 0, mvot__pack_work, emit,
                                   mvot__pack_discard, p, err);
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

enum mvot_status mvot__pack_chunk_add(struct pack *p, size_t *chunk_frames, size_t frames,
                                      struct mvot_error *err)
{
    *chunk_frames += frames;
    if (*chunk_frames < MVOT_PACK_CHUNK_FRAMES && p->n_units < MVOT_PACK_CHUNK_UNITS)
        return MVOT_OK;
    *chunk_frames = 0;
    return mvot__pack_flush_chunk(p, err);
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

/* ---- episode order (docs/shard-format.md §5) ---- */

struct slot {
    struct mvot_episode ep;
    int live;        /* ep still owned here (not moved into a unit nor freed) */
    uint64_t h;      /* XXH3(key, seed) */
    uint32_t rank;   /* position among its task's episodes of its split */
    uint64_t mid2;   /* 2 x (samples of the task's episodes before it) + its own samples */
    uint64_t mass2;  /* 2 x samples of its task in its split */
    uint32_t block;  /* the plan's block within its split */
    uint32_t gblock; /* the block's number over all splits (parts take ranges of these) */
};

struct episodes {
    struct slot *v;
    size_t n, cap;
};

static void episodes_free(struct episodes *e)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->v[i].live)
            mvot_episode_free(&e->v[i].ep);
    free(e->v);
    memset(e, 0, sizeof *e);
}

static int cmp_hash(const void *a, const void *b)
{
    const struct slot *x = *(const struct slot *const *)a, *y = *(const struct slot *const *)b;
    if (x->ep.split != y->ep.split)
        return x->ep.split < y->ep.split ? -1 : 1;
    if (x->ep.task != y->ep.task)
        return x->ep.task < y->ep.task ? -1 : 1;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return strcmp(x->ep.key, y->ep.key);
}

/* An episode sits at the middle of its share of its task's samples in the split,
 * mid2 / mass2: tasks interleave in proportion to their samples, so every prefix of a split
 * holds each task's share within about one episode. Compared exactly, in integers. */
static int cmp_position(const void *a, const void *b)
{
    const struct slot *x = *(const struct slot *const *)a, *y = *(const struct slot *const *)b;
    if (x->ep.split != y->ep.split)
        return x->ep.split < y->ep.split ? -1 : 1;
    __extension__ typedef unsigned __int128 u128;
    u128 lx = (u128)x->mid2 * y->mass2, ly = (u128)y->mid2 * x->mass2;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    if (x->ep.task != y->ep.task)
        return x->ep.task < y->ep.task ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* The plan's blocks (docs/shard-format.md §5): each split's episodes, in output order, are
 * cut into runs of whole episodes; a block closes before the episode that finds it holding
 * shard_samples examples or more (kept or dropped: the count is known from the text alone, so
 * the cut needs no tokenizer, no codebook and no pixels). Shards never span blocks and parts
 * take contiguous ranges of them, so the shard layout does not depend on the part count. */
static void assign_blocks(struct slot **order, size_t n, uint32_t shard_samples,
                          enum mvot_pack_mode mode)
{
    uint32_t block = 0, gblock = 0;
    uint64_t held = 0;
    for (size_t i = 0; i < n; i++) {
        struct slot *s = order[i];
        if (i > 0 && s->ep.split != order[i - 1]->ep.split) {
            block = 0;
            held = 0;
            gblock++;
        } else if (i > 0 && shard_samples && held >= shard_samples) {
            block++;
            held = 0;
            gblock++;
        }
        s->block = block;
        s->gblock = gblock;
        held += mvot_assemble_count(&s->ep, mode);
    }
}

/* Reads every episode and returns them in output order (*order: pointers into e); with strip,
 * only what the order needs of each (episode_strip). */
/* Keeps of an episode only what the order and the blocks need (key, task, split, steps), so
 * that a part holds the whole set's plan in memory but only its own episodes' frames. */
static void episode_strip(struct mvot_episode *ep)
{
    struct mvot_episode keep = {0};
    keep.key = ep->key;
    keep.task = ep->task;
    keep.split = ep->split;
    keep.n_steps = ep->n_steps;
    ep->key = NULL;
    mvot_episode_free(ep);
    *ep = keep;
}

/* A part's second pass over the archive (same order as the first): the episodes of its own
 * blocks come back whole, the others are dropped as they are read. */
static enum mvot_status reload_range(const char *arch, struct episodes *e, uint32_t first,
                                     uint32_t end, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_episode_reader *rd = NULL;
    struct mvot_episode ep = {0};
    MVOT_TRY(mvot_episode_reader_open(arch, &rd, err));
    for (size_t i = 0;; i++) {
        int done = 0;
        MVOT_TRY(mvot_episode_reader_next(rd, &ep, &done, err));
        if (done) {
            MVOT_CORRUPT_IF(i != e->n, err, arch, "changed while packing (%zu episodes, then %zu)",
                            e->n, i);
            break;
        }
        struct slot *sl = i < e->n ? &e->v[i] : NULL;
        MVOT_CORRUPT_IF(!sl || strcmp(sl->ep.key, ep.key) != 0, err, arch,
                        "changed while packing (episode %zu is %s)", i, ep.key);
        if (sl->gblock >= first && sl->gblock < end) {
            mvot_episode_free(&sl->ep);
            sl->ep = ep;
            memset(&ep, 0, sizeof ep);
        } else {
            mvot_episode_free(&ep);
        }
    }
cleanup:
    mvot_episode_free(&ep);
    mvot_episode_reader_close(rd);
    return st;
}

static enum mvot_status load_episodes(const char *arch, uint64_t seed, enum mvot_pack_mode mode,
                                      uint32_t shard_samples, int strip, struct episodes *e,
                                      struct slot ***order, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_episode_reader *rd = NULL;
    *order = NULL;
    MVOT_TRY(mvot_episode_reader_open(arch, &rd, err));
    for (;;) {
        if (e->n == e->cap) {
            size_t nc = e->cap ? e->cap * 2 : 256;
            struct slot *nv = realloc(e->v, nc * sizeof *nv);
            MVOT_FAIL_IF(!nv, err, MVOT_ERR_NOMEM, arch, "out of memory");
            e->v = nv;
            e->cap = nc;
        }
        struct slot *s = &e->v[e->n];
        int done = 0;
        memset(s, 0, sizeof *s);
        MVOT_TRY(mvot_episode_reader_next(rd, &s->ep, &done, err));
        if (done)
            break;
        s->live = 1;
        if (strip)
            episode_strip(&s->ep);
        s->h = mvot_hash64_seed(s->ep.key, strlen(s->ep.key), seed ^ MVOT_PACK_DOMAIN_ORDER);
        e->n++;
    }
    *order = malloc((e->n ? e->n : 1) * sizeof **order);
    MVOT_FAIL_IF(!*order, err, MVOT_ERR_NOMEM, arch, "out of memory");
    for (size_t i = 0; i < e->n; i++)
        (*order)[i] = &e->v[i];
    qsort(*order, e->n, sizeof **order, cmp_hash);
    for (size_t i = 0, j; i < e->n; i = j) { /* ranks and sample mass per (split, task) */
        uint64_t cum = 0;
        for (j = i; j < e->n && (*order)[j]->ep.split == (*order)[i]->ep.split &&
                    (*order)[j]->ep.task == (*order)[i]->ep.task;
             j++) {
            /* +1: an episode without samples still gets its own place */
            uint64_t c = mvot_assemble_count(&(*order)[j]->ep, mode) + 1;
            (*order)[j]->rank = (uint32_t)(j - i);
            (*order)[j]->mid2 = 2 * cum + c;
            cum += c;
        }
        for (size_t k = i; k < j; k++)
            (*order)[k]->mass2 = 2 * cum;
    }
    qsort(*order, e->n, sizeof **order, cmp_position);
    assign_blocks(*order, e->n, shard_samples, mode);
cleanup:
    mvot_episode_reader_close(rd);
    if (st != MVOT_OK) {
        free(*order);
        *order = NULL;
    }
    return st;
}

/* The global blocks [first, end) a part packs: a contiguous 1/count of all blocks. */
struct block_range {
    uint32_t first, end, total;
};

static struct block_range part_blocks(struct slot **order, size_t n, const struct mvot_pack_opts *o)
{
    struct block_range r = {0, 0, n ? order[n - 1]->gblock + 1 : 0};
    uint64_t i = o->part_count ? o->part_index : 0, c = o->part_count ? o->part_count : 1;
    r.first = (uint32_t)(r.total * i / c);
    r.end = (uint32_t)(r.total * (i + 1) / c);
    return r;
}

enum mvot_status mvot_pack_run(const char *episodes, const char *tokenizer_path,
                               const char *codebook_path, const char *out_dir,
                               const struct mvot_pack_opts *o, struct mvot_pool *pool,
                               const struct mvot_progress *prog, json_t **summary,
                               struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct pack p;
    char *arch = NULL;
    json_t *manifest = NULL, *config = NULL;
    struct episodes eps = {0};
    struct slot **order = NULL;
    if (summary)
        *summary = NULL;
    MVOT_FAIL_IF(mvot__pack_init(&p, o, out_dir, pool, prog) != MVOT_OK, err, MVOT_ERR_NOMEM,
                 "pack", "out of memory");
    MVOT_TRY(mvot__pack_open_out(&p, (const char *[]){episodes, tokenizer_path, codebook_path}, 3,
                                 "mvot pack", err));
    arch = mvot_io_join(episodes, "episodes.tar.zst");
    MVOT_FAIL_IF(!arch, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    if (!mvot_io_exists(arch)) {
        free(arch);
        arch = strdup(episodes);
    }
    MVOT_TRY(mvot__pack_setup(&p, tokenizer_path, codebook_path, &p.ids, err));
    uint64_t ah = 0;
    MVOT_TRY(mvot_hash_file(arch, &ah, err));
    p.ids.episodes = json_object();
    json_object_set_new(p.ids.episodes, "xxh3", mvot__pack_hex_json(ah));
    json_object_set_new(p.ids.episodes, "gen", load_gen_manifest(arch));

    config = json_object();
    json_object_set(config, "episodes", json_object_get(p.ids.episodes, "xxh3"));
    if (o->config)
        json_object_set(config, "build_config", (json_t *)o->config);
    char cfg_hex[17];
    uint64_t resume_ordinal = 0;
    MVOT_TRY(mvot__pack_begin(&p, &p.ids, config, cfg_hex, &resume_ordinal, err));
    MVOT_TRY(mvot__pack_copy_identities(&p, tokenizer_path, codebook_path, &p.ids, err));
    uint64_t resumed = json_array_size(p.records);

    /* one pass for the whole set; a part plans from a stripped pass, then reads again */
    MVOT_TRY(load_episodes(arch, o->seed, o->mode, o->shard_samples, o->part_count > 0, &eps,
                           &order, err));
    struct block_range br = part_blocks(order, eps.n, o);
    if (o->part_count)
        MVOT_TRY(reload_range(arch, &eps, br.first, br.end, err));
    for (size_t i = 0; i < eps.n; i++)
        if (order[i]->gblock >= br.first && order[i]->gblock < br.end)
            p.total_hint += mvot_assemble_count(&order[i]->ep, o->mode);
    uint64_t ordinal = 0, range_end = 0;
    size_t chunk_frames = 0;
    for (size_t i = 0; i < eps.n; i++) {
        struct slot *sl = order[i];
        size_t cnt = mvot_assemble_count(&sl->ep, o->mode);
        int mine = sl->gblock >= br.first && sl->gblock < br.end;
        if (sl->gblock < br.end)
            range_end = ordinal + cnt;
        if (!mine || ordinal + cnt <= resume_ordinal) { /* another part's, or committed */
            if (mine)
                p.done_items += cnt;
            ordinal += cnt;
            mvot_episode_free(&sl->ep);
            sl->live = 0;
            continue;
        }
        struct pack_unit *u;
        MVOT_TRY(mvot__pack_new_unit(&p, &u, err));
        u->ep = sl->ep;
        sl->live = 0;
        u->has_ep = 1;
        u->n_frames = u->ep.n_frames;
        u->png = u->ep.frame_png;
        u->png_len = u->ep.frame_png_len;
        MVOT_TRY(mvot_assemble_examples(&u->ep, o->mode, &u->ex, &u->n_ex, err));
        MVOT_FAIL_IF(u->n_ex != cnt, err, MVOT_ERR_INTERNAL, u->ep.key, "example count mismatch");
        struct pack_place at = {(uint8_t)u->ep.split, sl->block, -1, -1};
        MVOT_TRY(
            mvot__pack_add_unit_items(&p, p.n_units - 1, ordinal, resume_ordinal, &at, NULL, err));
        if (ordinal < resume_ordinal)
            p.done_items += resume_ordinal - ordinal;
        ordinal += cnt;
        MVOT_TRY(mvot__pack_chunk_add(&p, &chunk_frames, u->n_frames, err));
        if (p.stopped)
            break;
    }
    if (!p.stopped)
        MVOT_TRY(mvot__pack_flush_chunk(&p, err));
    /* the last shard ends where the part's last block does (for one part: the whole set) */
    p.ordinal_total = range_end;

    manifest = mvot__pack_manifest_base(&p, o, cfg_hex, &p.ids);
    if (o->part_count)
        mvot__pack_part_manifest(manifest, o, br.first, br.end - br.first, br.total);
    json_object_set_new(p.ids.episodes, "episodes", json_integer((json_int_t)eps.n));
    json_object_set_new(p.ids.episodes, "order",
                        json_string("per split: tasks interleaved in proportion to their "
                                    "samples, each task by XXH3(key, seed ^ 0x4f524452)"));
    json_object_set(manifest, "episodes", p.ids.episodes);
    if (o->config)
        json_object_set(manifest, "build_config", (json_t *)o->config);
    MVOT_TRY(mvot__pack_finish(&p, manifest, summary, resumed, err));
    if (summary && *summary)
        json_object_set_new(*summary, "episodes", json_integer((json_int_t)eps.n));
cleanup:
    episodes_free(&eps);
    free(order);
    mvot__pack_free(&p);
    json_decref(manifest);
    json_decref(config);
    free(arch);
    return st;
}
