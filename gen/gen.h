/* The episode generator (docs/architecture.md): configuration and the run that writes
 * DIR/episodes.tar.zst plus DIR/manifest.json (docs/episode-format.md).
 *
 * Determinism: every episode draws from its own generator, mvot_rng_derive(seed, task domain,
 * index); deduplication and split accounting run in episode order on the calling thread, so
 * the output is byte-identical for any pool size. */
#ifndef MVOT_GEN_GEN_H
#define MVOT_GEN_GEN_H

#include <jansson.h>
#include <stdint.h>

#include "core/pool.h"
#include "core/progress.h"
#include "core/status.h"
#include "gen/episode.h"

#define MVOT_GEN_GRID_MAX 10 /* largest n of any task */
#define MVOT_GEN_STEPS_LIMIT 64
#define MVOT_GEN_SPRITES_MAX 1024 /* bytes of the sprite folder path, NUL included */

/* Frame styles (docs/tasks.md, "Styles"). GRID puts cells on the 16-px token grid, which keeps
 * the patch codebook exact; OFFICIAL draws the geometry the official MVoT evaluator assumes
 * (maze square at the evaluator's pixels, MiniBehavior cells of S/n from the corner), which
 * makes the patch codebook a lossy k-means one. */
enum mvot_gen_style { MVOT_GEN_STYLE_GRID = 0, MVOT_GEN_STYLE_OFFICIAL = 1 };
const char *mvot_gen_style_name(enum mvot_gen_style s);            /* "grid", "official" */
int mvot_gen_style_parse(const char *s, enum mvot_gen_style *out); /* 0 ok, -1 unknown */

struct mvot_gen_config {
    uint32_t tasks;      /* bit (1u << enum mvot_task) per task to generate */
    uint64_t episodes;   /* per task, >= 1 */
    uint64_t seed;       /* master seed */
    uint32_t image_size; /* 512, 256 or 128 */
    /* Grid-size mix: weight of each n (index = n) per task; all-zero rows use the task's
     * default (uniform over 3..6, or 7..10 for minibehavior). */
    uint32_t size_weight[MVOT_TASK_COUNT][MVOT_GEN_GRID_MAX + 1];
    uint32_t min_steps, max_steps; /* rendered actions per episode, 1..64 */
    double split_frac[3];          /* train, dev, test; each >= 0, sum 1 */
    int png_level;                 /* zlib level for frames; -1 = mvot_png_opts_default() */
    int zstd_level;                /* archive compression level (1..19) */
    enum mvot_gen_style style;     /* frame geometry and art */
    /* FrozenLake sprites: a folder with Gymnasium's sprite file names (hole.png, ice.png, ...),
     * drawn instead of our own art; "" = our own. Only with the official style. */
    char sprites[MVOT_GEN_SPRITES_MAX];
    /* Sampling options (docs/tasks.md); 0 is the default. */
    int frozenlake_border_walks;   /* FROZENLAKE walks may bump into the border */
    int minibehavior_random_table; /* w x h table at random instead of the fixed 3x2 */
    uint32_t frozenlake_per_map;   /* sequences sharing one map, 1..64 (1: a map per episode) */
};

/* Defaults: all three tasks, 100 episodes per task, seed 0, 512 px, uniform sizes, steps
 * 2..32 (the official samples have at least 2), splits 0.8/0.1/0.1, default PNG options, zstd
 * level 3, grid style, no sprites, no border walks, the fixed 3x2 table, one FROZENLAKE map
 * per episode. */
void mvot_gen_config_default(struct mvot_gen_config *c);

/* Checks every field; MVOT_ERR_INVALID with a one-line message naming the field. */
enum mvot_status mvot_gen_config_validate(const struct mvot_gen_config *c, struct mvot_error *err);

/* Valid grid range of a task (3..6 or 7..10). */
void mvot_gen_task_grid_range(enum mvot_task t, uint32_t *lo, uint32_t *hi);

/* Parses a size-mix spec into c->size_weight for the tasks in c->tasks. Items are separated
 * by ','; an item is [task=]N[-M][:W] (sizes N..M, weight W, default 1). Items without a task
 * apply to every selected task, and must be valid for each. Rows named in the spec are
 * replaced, others keep their weights. MVOT_ERR_INVALID on a bad item, naming it. */
enum mvot_status mvot_gen_parse_sizes(struct mvot_gen_config *c, const char *spec,
                                      struct mvot_error *err);

/* JSON (de)serialization of a config (used in manifests and by `mvot build`). from_json starts
 * from the defaults and overrides the keys present; unknown keys are an error. */
json_t *mvot_gen_config_to_json(const struct mvot_gen_config *c);
enum mvot_status mvot_gen_config_from_json(const json_t *j, struct mvot_gen_config *c,
                                           struct mvot_error *err);

/* Generates everything into out_dir (created if missing): episodes.tar.zst and manifest.json,
 * both written atomically. pool may be NULL (inline), prog may be NULL. On success *summary
 * (if non-NULL) receives a new reference to the manifest object. out_dir is locked for the
 * run (core/outdir.h) and may hold only an earlier gen run's files (MVOT_ERR_INVALID
 * otherwise); a killed earlier run's temp files are removed. */
enum mvot_status mvot_gen_run(const struct mvot_gen_config *cfg, const char *out_dir,
                              struct mvot_pool *pool, const struct mvot_progress *prog,
                              json_t **summary, struct mvot_error *err);

/* One slice of a split run (docs/cluster.md): part `index` of `count`, 0 <= index < count. */
struct mvot_gen_part {
    uint32_t index, count;
};
#define MVOT_GEN_PART_FORMAT "mvot-gen-part"
#define MVOT_GEN_MANIFEST_FORMAT "mvot-gen-manifest" /* a whole set (one process, or merged) */
/* The manifest fields a gen part has of its own (besides "part"); every other field is the
 * run's identity, the same in all its parts (mvot_gen_merge and codebook/patchstats.h). */
#define MVOT_GEN_PART_OWN_KEYS ((const char *const[]){"archive_xxh3", "archive_bytes", NULL})

/* As mvot_gen_run, but with part != NULL: plans the whole set (text only, the same in every
 * part), then renders only the part's contiguous range of the global episode order into
 * out_dir/episodes.tar.zst, and writes out_dir/manifest.json with format "mvot-gen-part", the
 * whole set's statistics, the part's archive hash and size, and a "part" object (index, count,
 * first, episodes, plan_xxh3). part == NULL is mvot_gen_run. */
enum mvot_status mvot_gen_run_part(const struct mvot_gen_config *cfg,
                                   const struct mvot_gen_part *part, const char *out_dir,
                                   struct mvot_pool *pool, const struct mvot_progress *prog,
                                   json_t **summary, struct mvot_error *err);

/* The plan alone: drafts and deduplicates every episode as text (no rendering, nothing
 * written), the same first step every run and every part makes. It fails where a run would
 * fail in its plan (an invalid config, sprites that do not load, too few unique episodes),
 * so a split build can check its config once before it starts its parts. On success
 * *summary (if non-NULL) receives {episodes, frames, duplicates_rejected, plan_xxh3}, the
 * plan hash a part manifest records. pool and prog may be NULL. */
enum mvot_status mvot_gen_plan(const struct mvot_gen_config *cfg, struct mvot_pool *pool,
                               const struct mvot_progress *prog, json_t **summary,
                               struct mvot_error *err);

/* Merges the part folders written by mvot_gen_run_part (any order) into out_dir: checks that
 * every part has the same identity (tool version, config, seed, count, plan hash and set
 * statistics), that parts 0..count-1 are each present exactly once, and that each archive
 * matches its manifest; then writes out_dir/episodes.tar.zst and out_dir/manifest.json
 * byte-identical to the one-process mvot_gen_run. MVOT_ERR_INVALID names a missing, duplicated
 * or disagreeing part. On success *summary (if non-NULL) receives the manifest. */
enum mvot_status mvot_gen_merge(const char *const *part_dirs, size_t n_parts, const char *out_dir,
                                const struct mvot_progress *prog, json_t **summary,
                                struct mvot_error *err);

/* xxh3 and size of an archive file, as a manifest records them. */
enum mvot_status mvot_gen_archive_identity(const char *path, uint64_t *hash, uint64_t *bytes,
                                           struct mvot_error *err);

/* Generates episode `index` of `task` in memory (without deduplication against others), with
 * frames, exactly as mvot_gen_run would on a first attempt. For tests and benchmarks. The split
 * is computed from the layout. Caller frees with mvot_episode_free. */
enum mvot_status mvot_gen_one(const struct mvot_gen_config *cfg, enum mvot_task task,
                              uint64_t index, struct mvot_episode *out, struct mvot_error *err);

/* Rendering-only entry for benchmarks: renders (and, if encode, PNG-encodes) every frame of
 * episode `index` of `task`; returns the frame count in *frames. */
enum mvot_status mvot_gen_render_bench(const struct mvot_gen_config *cfg, enum mvot_task task,
                                       uint64_t index, int encode, uint32_t *frames,
                                       struct mvot_error *err);

#endif
