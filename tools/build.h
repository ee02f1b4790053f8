/* mvot build's shared pieces: the effective config and the paths it gives (build_config.c),
 * the steps (build_steps.c), the Slurm stages that run those steps one at a time
 * (build_stage.c) and the sbatch files that chain the stages (build_slurm.c). One source of
 * truth: the one-process build (cmd_build.c) and every stage call the same step functions
 * with the same config, which is what makes a split build byte-identical to a one-process
 * one (docs/cluster.md). */
#ifndef MVOT_TOOLS_BUILD_H
#define MVOT_TOOLS_BUILD_H

#include <jansson.h>
#include <stdint.h>

#include "codebook/train.h"
#include "core/status.h"
#include "gen/gen.h"
#include "shards/pack.h"
#include "tokenize/bpe_train.h"
#include "tools/cli.h"
#include "tools/part.h"

#define MVOT_BUILD_DEFAULT_EPISODES 40

/* What the command line sets over the config file. */
struct mvot_build_args {
    const char *config_path, *tok_file, *cb_file;
    uint64_t episodes, seed;
    int have_episodes, have_seed;
};

/* One build: its effective config, options and the paths under OUT. */
struct mvot_build {
    struct mvot_cli *cli;
    const char *out;
    json_t *cfg; /* the effective config, as OUT/build-config.json holds it */
    struct mvot_gen_config gc;
    struct mvot_kmeans_opts ko;    /* from the codebook section */
    struct mvot_bpe_train_opts bo; /* from the tokenizer section */
    struct mvot_pack_opts po;      /* po.config = cfg; the build owns its shard folders */
    struct mvot_pool *pool;
    /* OUT/episodes, its archive, OUT/shards, OUT/preview.png, OUT/build-config.json, and the
     * codebook and tokenizer the shards use (given files, or OUT/ ones the build trains) */
    char *ep_dir, *arch, *sh_dir, *preview, *cfg_out, *cb_path, *tok_path;
    int train_cb, train_tok; /* 1: no file given, the build trains it */
};

/* Effective config (defaults, then --config, then the command line), paths and thread pool.
 * Returns -1 to go on, else the exit code after printing the error; close b either way. */
int mvot_build_open(struct mvot_build *b, struct mvot_cli *cli, const char *out,
                    const struct mvot_build_args *a);
void mvot_build_close(struct mvot_build *b);

/* The output-folder rules for OUT (core/outdir.h): no overlap with the given files, the
 * lock (released with mvot_outdir_unlock), and nothing in OUT but an earlier build's
 * files. */
struct mvot_outdir_lock;
enum mvot_status mvot_build_claim(const struct mvot_build *b, struct mvot_outdir_lock **lock,
                                  struct mvot_error *err);

/* A split build merges its shards into OUT/shards, which must be new or hold a set of the
 * same config (the merge checks that it places the same bytes); unlike the one-process
 * build's pack, it cannot replace a set of another config. Refused here (MVOT_ERR_INVALID)
 * before any job runs. */
enum mvot_status mvot_build_check_shards(const struct mvot_build *b, struct mvot_error *err);

/* The steps. gen: the whole set (part NULL) or one part into dir. */
enum mvot_status mvot_build_gen(struct mvot_build *b, const struct mvot_part *part, const char *dir,
                                json_t **summary, struct mvot_error *err);
/* Trains the patch codebook, unless a file was given: on OUT/episodes (stats NULL), or on
 * the n patch statistics files of its parts (codebook/patchstats.h), which gives the same
 * bytes. */
enum mvot_status mvot_build_codebook(struct mvot_build *b, const char *const *stats, size_t n,
                                     struct mvot_error *err);
/* Trains the BPE tokenizer on OUT/episodes' texts, unless a file was given. */
enum mvot_status mvot_build_tokenizer(struct mvot_build *b, struct mvot_error *err);
/* Packs OUT/episodes into dir: the whole set (part NULL) or one part. */
enum mvot_status mvot_build_pack(struct mvot_build *b, const struct mvot_part *part,
                                 const char *dir, json_t **summary, struct mvot_error *err);
/* Verifies OUT/shards; *ver receives verify's report. */
enum mvot_status mvot_build_verify(struct mvot_build *b, json_t **ver, struct mvot_error *err);
/* After verify: OUT/README.md (the dataset card), verify's problems on stderr, and
 * OUT/preview.png (*have_preview 0 when the image tokenizer cannot decode). */
enum mvot_status mvot_build_publish(struct mvot_build *b, const json_t *ver, int *have_preview,
                                    struct mvot_error *err);
/* The summary object both the build and its finish stage print with --json (without
 * "seconds"), and its first human line. */
json_t *mvot_build_summary(const struct mvot_build *b, const json_t *gen_sum,
                           const json_t *pack_sum, const json_t *ver, int have_preview);

/* An integer member of a JSON object (0 when absent). */
json_int_t mvot_build_geti(const json_t *o, const char *key);

/* Seconds on the monotonic clock. */
double mvot_build_now(void);

/* Runs one stage of a split build (`--stage NAME`, build_stage.c): `part` for the per-part
 * stages, `parts` (N) for the ones that merge. Returns the exit code. */
int mvot_build_stage(struct mvot_build *b, const char *stage, const struct mvot_part *part,
                     uint32_t parts);
/* 1 if `name` is a stage; *per_part says whether it takes --part (else --parts). */
int mvot_build_stage_known(const char *name, int *per_part);
/* The stage names, for messages: "plan, render, train, pack, finish". */
extern const char MVOT_BUILD_STAGES[];

/* `--slurm`: the sbatch files and the script that submits them (build_slurm.c). */
struct mvot_build_slurm {
    uint32_t parts;        /* N, the array size of the render and pack stages */
    uint32_t cpus;         /* --cpus-per-task of every job */
    const char *partition; /* NULL: the cluster's default */
    const char *time;      /* NULL: the partition's default */
    int dry_run;           /* 1: write the files, do not submit */
};
/* Writes OUT/build-config.json, OUT/slurm/{1-plan,...}.sbatch and OUT/slurm/submit.sh, then
 * (unless dry_run) runs submit.sh and prints the job ids. Returns the exit code. */
int mvot_build_slurm(struct mvot_build *b, const struct mvot_build_slurm *s);

#endif
