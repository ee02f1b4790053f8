/* mvot_pack_run (shards/pack.h): episodes -> per-split shard sets + manifest (format 2).
 *
 * The archive is planned first (pack_order.c: the documented, seeded episode order and its
 * blocks; frames stay PNG bytes). Then work flows in chunks (pack_internal.h): stage A
 * encodes frames, stage B builds the samples in parallel, and emit() appends them in order
 * to the shard writer, which compresses each episode's samples together. A shard holds one
 * block of one split, and rolls inside a block only between episodes (shard_bytes). A part
 * of a split pack goes through the same loop, skipping the episodes of other parts' blocks,
 * so its shards are the one-process shards of its blocks. Determinism: nothing depends on
 * the thread count, chunk boundaries or part count; resume: see pack_state.c. */
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

/* The name of the shard an item at `at` opens: n follows the split's last committed shard if
 * that was of the same block, else 0 (retokenize: the source shard's own n). */
static enum mvot_status shard_name(const struct pack *p, const struct pack_place *at, char name[64],
                                   uint32_t *n, struct mvot_error *err)
{
    const char *sn = mvot_split_name((enum mvot_split)at->split);
    *n = at->n >= 0 ? (uint32_t)at->n
         : p->have_last[at->split] && p->last_block[at->split] == at->block
             ? p->last_n[at->split] + 1
             : 0;
    if (at->block > 99999 || *n > 999999)
        return mvot_error_set(err, MVOT_ERR_INVALID, p->out_dir,
                              "%s: more than 100000 blocks or 10^6 shards in a block; raise "
                              "--shard-samples or --shard-bytes",
                              sn);
    mvot_shard_file_name(name, 64, sn, at->block, *n);
    return MVOT_OK;
}

enum mvot_status mvot__pack_commit_shard(struct pack *p, uint64_t end_ordinal,
                                         const struct pack_place *next, struct mvot_error *err)
{
    struct mvot_shard_info info;
    const char *split = mvot_split_name((enum mvot_split)p->w_split);
    enum mvot_status st = mvot_shard_writer_commit(p->w, &info, err);
    p->w = NULL;
    if (st != MVOT_OK)
        return st;
    json_array_append_new(p->records,
                          mvot_shard_record(p->w_file, split, p->w_block, p->shard_first_sample,
                                            end_ordinal, &info, p->cur_stats));
    json_decref(p->cur_stats);
    p->cur_stats = mvot_stats_new();
    p->have_last[p->w_split] = 1;
    p->last_block[p->w_split] = p->w_block;
    p->last_n[p->w_split] = p->w_n;
    p->new_shards++;
    /* the one state save per shard also names the shard that comes next, when it is known */
    uint32_t n;
    p->pending[0] = 0;
    if (next && shard_name(p, next, p->pending, &n, err) != MVOT_OK)
        return MVOT_ERR_INVALID;
    return mvot__pack_save_state(p, err);
}

/* Commits the open shard at `ordinal` (the item at `next` comes after it), then honours the
 * tests' stop hook. */
static enum mvot_status roll(struct pack *p, uint64_t ordinal, const struct pack_place *next,
                             struct mvot_error *err)
{
    enum mvot_status st = mvot__pack_commit_shard(p, ordinal, next, err);
    if (st == MVOT_OK && p->o->stop_after_shards && p->new_shards >= p->o->stop_after_shards) {
        p->stopped = 1;
        st = mvot_error_set(err, MVOT_ERR_INTERNAL, "pack", "stopped (test hook)");
    }
    return st;
}

/* Opens the shard of the item's block (shard_name). Its name must be in the saved state as
 * pending before the file can appear under it, so that a kill after its rename but before the
 * next state save leaves a file the rerun knows as ours: the commit before it usually saved
 * it already; otherwise (a run's first shard) it is saved here. */
static enum mvot_status open_shard(struct pack *p, const struct pack_item *it,
                                   struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const struct pack_place *at = &it->at;
    uint32_t n;
    char *dir = mvot_io_join(p->out_dir, mvot_split_name((enum mvot_split)at->split)), *path = NULL;
    MVOT_FAIL_IF(!dir, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    MVOT_TRY(shard_name(p, at, p->w_file, &n, err));
    if (strcmp(p->w_file, p->pending) != 0) {
        memcpy(p->pending, p->w_file, sizeof p->pending);
        MVOT_TRY(mvot__pack_save_state(p, err));
    }
    MVOT_TRY(mvot_io_mkdirs(dir, err));
    path = mvot_io_join(p->out_dir, p->w_file);
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
        MVOT_TRY(roll(p, it->ordinal, &it->at, err));
    if (!r->dropped) {
        const char *key = r->ps.key;
        size_t el = r->ps.episode_len;
        int new_episode = strlen(p->w_episode) != el || strncmp(p->w_episode, key, el) != 0;
        /* within a block only the byte limit rolls (the plan's blocks hold the sample limit) */
        if (p->w && !p->retok && new_episode && p->o->shard_bytes &&
            mvot_shard_writer_raw_bytes(p->w) >= p->o->shard_bytes)
            MVOT_TRY(roll(p, it->ordinal, &it->at, err));
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
    struct pack_plan pl = {0};
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

    MVOT_TRY(mvot__pack_plan_load(arch, o, &pl, err));
    for (size_t i = 0; i < pl.n; i++)
        if (pl.order[i]->gblock >= pl.first && pl.order[i]->gblock < pl.end)
            p.total_hint += mvot_assemble_count(&pl.order[i]->ep, o->mode);
    uint64_t ordinal = 0, range_end = 0;
    size_t chunk_frames = 0;
    for (size_t i = 0; i < pl.n; i++) {
        struct pack_slot *sl = pl.order[i];
        size_t cnt = mvot_assemble_count(&sl->ep, o->mode);
        int mine = sl->gblock >= pl.first && sl->gblock < pl.end;
        if (sl->gblock < pl.end)
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
        mvot__pack_part_manifest(manifest, o, pl.first, pl.end - pl.first, pl.total);
    json_object_set_new(p.ids.episodes, "episodes", json_integer((json_int_t)pl.n));
    json_object_set_new(p.ids.episodes, "order",
                        json_string("per split: tasks interleaved in proportion to their "
                                    "samples, each task by XXH3(key, seed ^ 0x4f524452)"));
    json_object_set(manifest, "episodes", p.ids.episodes);
    if (o->config)
        json_object_set(manifest, "build_config", (json_t *)o->config);
    MVOT_TRY(mvot__pack_finish(&p, manifest, summary, resumed, err));
    if (summary && *summary)
        json_object_set_new(*summary, "episodes", json_integer((json_int_t)pl.n));
cleanup:
    mvot__pack_plan_free(&pl);
    mvot__pack_free(&p);
    json_decref(manifest);
    json_decref(config);
    free(arch);
    return st;
}
