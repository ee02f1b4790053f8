/* The stages of a Slurm build (`mvot build --stage`, docs/cluster.md): each runs some of the
 * build's steps (tools/build_steps.c) on the config in OUT/build-config.json.
 *   plan    checks the config and runs the gen plan once, before any array task starts
 *   render  part I of N: gen's part into OUT/parts/episodes/part-IIIII-of-NNNNN, and its
 *           patch statistics into OUT/parts/patches/part-IIIII-of-NNNNN.mvps
 *   train   merges the N episode parts into OUT/episodes, trains the codebook from the N
 *           statistics files and the tokenizer from the merged episodes
 *   pack    part I of N: shards into OUT/parts/shards/part-IIIII-of-NNNNN
 *   finish  merges the N shard parts into OUT/shards, verifies, writes card and preview
 * A stage is a pure function of the config, N and I, so a re-queued task writes the same
 * bytes again. render and pack write only their own part folder (gen and pack lock it), so
 * the tasks of an array run side by side; the other stages lock OUT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/patchstats.h"
#include "core/io.h"
#include "core/json.h"
#include "core/outdir.h"
#include "tools/build.h"

const char MVOT_BUILD_STAGES[] = "plan, render, train, pack, finish";

/* What the parts of a build hold: OUT/parts/ROOT/part-IIIII-of-NNNNN[SUFFIX], written by
 * the tasks of STAGE's array. */
struct part_kind {
    const char *root, *suffix, *stage;
};
static const struct part_kind EPISODES = {"episodes", "", "render"},
                              PATCHES = {"patches", ".mvps", "render"},
                              SHARDS = {"shards", "", "pack"};

/* OUT/parts/ROOT, the folder of one kind of part. */
static char *parts_root(const struct mvot_build *b, const struct part_kind *k)
{
    char *parts = mvot_io_join(b->out, "parts"),
         *root = parts ? mvot_io_join(parts, k->root) : NULL;
    free(parts);
    return root;
}

/* The folder or file of part p of kind k. */
static char *part_path(const struct mvot_build *b, const struct part_kind *k,
                       const struct mvot_part *p)
{
    char *root = parts_root(b, k), *dir = root ? mvot_part_dir(root, p) : NULL;
    char *path = dir ? mvot_strdupf("%s%s", dir, k->suffix) : NULL;
    free(root);
    free(dir);
    return path;
}

static void free_paths(char **paths, uint32_t n)
{
    for (uint32_t i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
}

/* The paths of parts 0..n-1 of kind k, each of which must exist: a missing one is named
 * (MVOT_ERR_INVALID: its array task did not run to the end). */
static enum mvot_status part_paths(const struct mvot_build *b, const struct part_kind *k,
                                   uint32_t n, char ***out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char **paths = calloc(n, sizeof *paths);
    MVOT_FAIL_IF(!paths, err, MVOT_ERR_NOMEM, "build", "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        struct mvot_part p = {i, n};
        paths[i] = part_path(b, k, &p);
        MVOT_FAIL_IF(!paths[i], err, MVOT_ERR_NOMEM, "build", "out of memory");
        MVOT_FAIL_IF(!mvot_io_exists(paths[i]), err, MVOT_ERR_INVALID, paths[i],
                     "missing: part %u of %u was not written (run that task of the %s array "
                     "again)",
                     i, n, k->stage);
    }
    *out = paths;
    paths = NULL;
cleanup:
    free_paths(paths, n);
    return st;
}

/* A stage runs on the config its build wrote: the effective config (from --config and the
 * command line) must equal OUT/build-config.json, or the parts of one build could come from
 * two configs. */
static int check_config(const struct mvot_build *b)
{
    struct mvot_error err = {0};
    json_t *written = NULL;
    int rc = -1;
    if (mvot_json_load_file(b->cfg_out, &written, &err) != MVOT_OK)
        rc = mvot_cli_usage(b->cli, "--stage: %s (write it with mvot build --slurm)", err.msg);
    else if (!json_equal(written, b->cfg))
        rc = mvot_cli_usage(b->cli,
                            "--stage: the config differs from %s (run the stages with --config "
                            "%s and no other config options)",
                            b->cfg_out, b->cfg_out);
    json_decref(written);
    return rc;
}

static enum mvot_status stage_plan(struct mvot_build *b, const struct mvot_part *part,
                                   uint32_t parts, struct mvot_error *err)
{
    json_t *sum = NULL;
    (void)part;
    (void)parts;
    enum mvot_status st = mvot_build_check_shards(b, err);
    if (st != MVOT_OK)
        return st;
    mvot_cli_note(b->cli, "build: planning %llu episodes per task\n",
                  (unsigned long long)b->gc.episodes);
    st = mvot_gen_plan(&b->gc, b->pool, &b->cli->hook, &sum, err);
    mvot_cli_progress_done(b->cli);
    if (st == MVOT_OK) {
        mvot_cli_note(b->cli, "build: plan ok: %lld episodes, %lld frames, plan %s\n",
                      (long long)mvot_build_geti(sum, "episodes"),
                      (long long)mvot_build_geti(sum, "frames"),
                      json_string_value(json_object_get(sum, "plan_xxh3")));
        mvot_cli_print_json(b->cli, sum);
    }
    json_decref(sum);
    return st;
}

/* A per-part stage: `step` writes part `part` of kind k into its folder. */
static enum mvot_status
run_part(struct mvot_build *b, const struct part_kind *k, const struct mvot_part *part,
         enum mvot_status (*step)(struct mvot_build *, const struct mvot_part *, const char *,
                                  json_t **, struct mvot_error *),
         struct mvot_error *err)
{
    json_t *sum = NULL;
    char *dir = part_path(b, k, part);
    enum mvot_status st = dir ? step(b, part, dir, &sum, err)
                              : mvot_error_set(err, MVOT_ERR_NOMEM, "build", "out of memory");
    mvot_cli_print_json(b->cli, sum);
    json_decref(sum);
    free(dir);
    return st;
}

/* gen's part into dir, then (when the build trains its codebook) the part's patch
 * statistics beside it, in OUT/parts/patches/: train sums the N files instead of reading
 * every frame of the merged set again, and gets the same codebook. */
static enum mvot_status render_part(struct mvot_build *b, const struct mvot_part *part,
                                    const char *dir, json_t **sum, struct mvot_error *err)
{
    enum mvot_status st = mvot_build_gen(b, part, dir, sum, err);
    if (st != MVOT_OK || !b->train_cb)
        return st;
    char *root = parts_root(b, &PATCHES), *file = part_path(b, &PATCHES, part);
    st = root && file ? mvot_io_mkdirs(root, err)
                      : mvot_error_set(err, MVOT_ERR_NOMEM, "build", "out of memory");
    if (st == MVOT_OK) {
        mvot_cli_note(b->cli, "build: collecting patch statistics into %s\n", file);
        st = mvot_patchstats_collect(dir, file, b->ko.patch, b->ko.max_distinct, b->pool,
                                     &b->cli->hook, NULL, err);
        mvot_cli_progress_done(b->cli);
    }
    free(root);
    free(file);
    return st;
}

static enum mvot_status stage_render(struct mvot_build *b, const struct mvot_part *part,
                                     uint32_t parts, struct mvot_error *err)
{
    (void)parts;
    return run_part(b, &EPISODES, part, render_part, err);
}

static enum mvot_status stage_train(struct mvot_build *b, const struct mvot_part *part,
                                    uint32_t parts, struct mvot_error *err)
{
    char **dirs = NULL, **stats = NULL;
    json_t *sum = NULL;
    (void)part;
    enum mvot_status st = part_paths(b, &EPISODES, parts, &dirs, err);
    if (st == MVOT_OK && b->train_cb)
        st = part_paths(b, &PATCHES, parts, &stats, err);
    if (st == MVOT_OK) {
        mvot_cli_note(b->cli, "build: merging %u episode parts into %s\n", parts, b->ep_dir);
        st = mvot_gen_merge((const char *const *)dirs, parts, b->ep_dir, &b->cli->hook, &sum, err);
        mvot_cli_progress_done(b->cli);
    }
    if (st == MVOT_OK)
        st = mvot_build_codebook(b, (const char *const *)stats, parts, err);
    if (st == MVOT_OK)
        st = mvot_build_tokenizer(b, err);
    json_decref(sum);
    free_paths(dirs, parts);
    free_paths(stats, parts);
    return st;
}

static enum mvot_status stage_pack(struct mvot_build *b, const struct mvot_part *part,
                                   uint32_t parts, struct mvot_error *err)
{
    (void)parts;
    return run_part(b, &SHARDS, part, mvot_build_pack, err);
}

/* The shard merge, verify, card and preview; a failed verify fails the job. */
static enum mvot_status stage_finish(struct mvot_build *b, const struct mvot_part *part,
                                     uint32_t parts, struct mvot_error *err)
{
    char **dirs = NULL, *gen_man = mvot_io_join(b->ep_dir, "manifest.json");
    json_t *gen_sum = NULL, *pack_sum = NULL, *ver = NULL, *summary = NULL;
    int have_preview = 1;
    double t0 = mvot_build_now();
    (void)part;
    enum mvot_status st = gen_man ? mvot_json_load_file(gen_man, &gen_sum, err)
                                  : mvot_error_set(err, MVOT_ERR_NOMEM, "build", "out of memory");
    if (st == MVOT_OK)
        st = part_paths(b, &SHARDS, parts, &dirs, err);
    if (st == MVOT_OK) {
        mvot_cli_note(b->cli, "build: merging %u shard parts into %s\n", parts, b->sh_dir);
        st = mvot_pack_merge((const char *const *)dirs, parts, b->sh_dir, &b->cli->hook, &pack_sum,
                             err);
        mvot_cli_progress_done(b->cli);
    }
    if (st == MVOT_OK)
        st = mvot_build_verify(b, &ver, err);
    if (st == MVOT_OK)
        st = mvot_build_publish(b, ver, &have_preview, err);
    if (st == MVOT_OK) {
        summary = mvot_build_summary(b, gen_sum, pack_sum, ver, have_preview);
        json_object_set_new(summary, "seconds",
                            json_pack("{s:f}", "finish", mvot_build_now() - t0));
        mvot_cli_print_json(b->cli, summary);
        int ok = json_is_true(json_object_get(ver, "ok"));
        mvot_cli_note(b->cli, "build: finished in %.1f s; verify %s; preview %s\n",
                      mvot_build_now() - t0, ok ? "ok" : "FAILED",
                      have_preview ? b->preview : "none (no decoder)");
        if (!ok)
            st = mvot_error_set(err, MVOT_ERR_MISMATCH, b->sh_dir,
                                "verify failed (its problems are above)");
    }
    json_decref(summary);
    json_decref(gen_sum);
    json_decref(pack_sum);
    json_decref(ver);
    free_paths(dirs, parts);
    free(gen_man);
    return st;
}

typedef enum mvot_status (*stage_fn)(struct mvot_build *b, const struct mvot_part *part,
                                     uint32_t parts, struct mvot_error *err);

static const struct stage {
    const char *name;
    stage_fn fn;
    int per_part; /* 1: one task of an array (--part), writing only its part folder */
} STAGES[] = {{"plan", stage_plan, 0},
              {"render", stage_render, 1},
              {"train", stage_train, 0},
              {"pack", stage_pack, 1},
              {"finish", stage_finish, 0}};
#define N_STAGES (sizeof STAGES / sizeof STAGES[0])

static const struct stage *find_stage(const char *name)
{
    for (size_t i = 0; i < N_STAGES; i++)
        if (strcmp(STAGES[i].name, name) == 0)
            return &STAGES[i];
    return NULL;
}

int mvot_build_stage_known(const char *name, int *per_part)
{
    const struct stage *s = find_stage(name);
    if (s)
        *per_part = s->per_part;
    return s != NULL;
}

int mvot_build_stage(struct mvot_build *b, const char *stage, const struct mvot_part *part,
                     uint32_t parts)
{
    const struct stage *s = find_stage(stage);
    struct mvot_error err = {0};
    struct mvot_outdir_lock *lock = NULL;
    int rc = check_config(b);
    if (rc >= 0)
        return rc;
    enum mvot_status st = s->per_part ? MVOT_OK : mvot_build_claim(b, &lock, &err);
    if (st == MVOT_OK)
        st = s->fn(b, part, parts, &err);
    mvot_outdir_unlock(lock);
    return st == MVOT_OK ? MVOT_EXIT_OK : mvot_cli_fail(b->cli, &err);
}
