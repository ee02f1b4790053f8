/* mvot build: the main job. gen (all three tasks) -> patch codebook and BPE training (or the
 * given files) -> pack -> verify, then a summary and a preview PNG, in one process; or, with
 * --slurm, the same steps as a chain of Slurm jobs (tools/build_slurm.c) whose stages
 * (--stage, tools/build_stage.c) write the same bytes. The effective config is written to
 * OUT/build-config.json and embedded in the shard manifest; passing that file back with
 * --config reproduces the run byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/outdir.h"
#include "core/json.h"
#include "tools/build.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot build [--config FILE.json] [--out DIR] [--episodes N] [--seed S]\n"
    "                  [--tokenizer FILE] [--codebook FILE]\n"
    "       mvot build --slurm [--parts N] [--partition P] [--time T] [--dry-run] [...]\n"
    "       mvot build --config OUT/build-config.json --out OUT --stage STAGE\n"
    "                  [--part I/N|auto | --parts N]\n"
    "\n"
    "The main job: generates maze, frozenlake and minibehavior episodes, trains the patch\n"
    "codebook and the BPE tokenizer on them (or uses the given files), packs training shards\n"
    "(mvot mode by default) and verifies them. Writes OUT/episodes/, OUT/codebook.safetensors,\n"
    "OUT/tokenizer.json, OUT/shards/, OUT/preview.png, OUT/README.md (a dataset card) and\n"
    "OUT/build-config.json (the effective config: pass it to --config to reproduce the run).\n"
    "An encoder-only VQGAN (no decoder.* tensors) builds the shards but no preview, with a\n"
    "note saying why.\n"
    "\n"
    "With --slurm the same build runs as a chain of Slurm jobs (docs/cluster.md): it writes\n"
    "OUT/build-config.json, one editable sbatch file per stage and OUT/slurm/submit.sh, then\n"
    "submits them with sbatch (each after the previous one succeeded) and prints the job ids.\n"
    "The stages: plan (checks the config), render (array of N: episodes and their patch\n"
    "statistics), train (merges the episodes, trains codebook and tokenizer), pack (array of\n"
    "N), finish (merges the shards, verifies, writes card and preview). The result is\n"
    "byte-identical to the one-process build; the parts stay in OUT/parts/ (delete them once\n"
    "the build is done).\n"
    "\n"
    "Options:\n"
    "  --config FILE   JSON with any of the sections gen, codebook, tokenizer, pack\n"
    "  --out DIR       output directory (default mvot-out)\n"
    "  --episodes N    episodes per task (default 40)\n"
    "  --seed S        master seed (gen, codebook and augmentation)\n"
    "  --tokenizer F   use this tokenizer.json instead of training one\n"
    "  --codebook F    use this codebook/VQGAN file instead of training one (one file; from\n"
    "                  a sharded model folder: mvot codebook extract-vqgan)\n"
    "  --slurm         write the sbatch files into OUT/slurm/ and submit them\n"
    "  --parts N       with --slurm: tasks of the render and pack arrays (default 4); with\n"
    "                  --stage train or finish: how many parts to merge\n"
    "  --partition P   with --slurm: #SBATCH --partition of every job\n"
    "  --time T        with --slurm: #SBATCH --time of every job (e.g. 02:00:00)\n"
    "  --dry-run       with --slurm: write the files and print how to submit them\n"
    "  --stage STAGE   run one stage of a Slurm build: plan, render, train, pack or finish\n"
    "                  (what the sbatch files call; the config must equal\n"
    "                  OUT/build-config.json)\n"
    "  --part I/N      with --stage render or pack: part I of N (0-based); auto reads\n"
    "                  SLURM_ARRAY_TASK_ID/COUNT or JOB_COMPLETION_INDEX/MVOT_PART_COUNT\n"
    "\n"
    "With --slurm, --threads N sets every job's --cpus-per-task (default 4).\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum {
    O_CONFIG = 0x100,
    O_OUT,
    O_EPISODES,
    O_SEED,
    O_TOKENIZER,
    O_CODEBOOK,
    O_SLURM,
    O_PARTS,
    O_PARTITION,
    O_TIME,
    O_DRY_RUN,
    O_STAGE,
    O_PART
};

#define BUILD_SLURM_DEFAULT_PARTS 4
#define BUILD_SLURM_DEFAULT_CPUS 4

/* Everything the command line says. */
struct build_cmd {
    struct mvot_build_args a;
    const char *out, *stage;
    int slurm, have_parts, have_threads;
    struct mvot_build_slurm s;
    struct mvot_part part; /* count 0: no --part */
};

/* The build's --json summary and its human lines; t[0] (start) to t[5] (verify done). */
static void print_summary(struct mvot_build *b, const json_t *gen_sum, const json_t *pack_sum,
                          const json_t *ver, int have_preview, const double *t)
{
    double total = mvot_build_now() - t[0];
    json_int_t samples = mvot_build_geti(pack_sum, "samples"),
               raw = mvot_build_geti(pack_sum, "raw_bytes"),
               comp = mvot_build_geti(pack_sum, "compressed_bytes");
    json_t *summary = mvot_build_summary(b, gen_sum, pack_sum, ver, have_preview);
    json_object_set_new(summary, "seconds",
                        json_pack("{s:f,s:f,s:f,s:f,s:f,s:f}", "gen", t[1] - t[0], "codebook",
                                  t[2] - t[1], "tokenizer", t[3] - t[2], "pack", t[4] - t[3],
                                  "verify", t[5] - t[4], "total", total));
    mvot_cli_print_json(b->cli, summary);
    json_decref(summary);
    mvot_cli_note(b->cli,
                  "build: shards %.1f MB raw -> %.1f MB compressed (ratio %.2f), pack %.0f "
                  "samples/s, %.1f MB/s\n",
                  (double)raw / 1e6, (double)comp / 1e6, comp ? (double)raw / (double)comp : 0.0,
                  (double)samples / (t[4] - t[3]), (double)raw / 1e6 / (t[4] - t[3]));
    mvot_cli_note(b->cli,
                  "build: %.1f s (gen %.1f, codebook %.1f, tokenizer %.1f, pack %.1f, verify "
                  "%.1f); verify %s; preview %s\n",
                  total, t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3], t[5] - t[4],
                  json_is_true(json_object_get(ver, "ok")) ? "ok" : "FAILED",
                  have_preview ? b->preview : "none (no decoder)");
}

/* The whole build in this process. */
static int run_one_process(struct mvot_build *b)
{
    struct mvot_error err = {0};
    struct mvot_outdir_lock *lock = NULL;
    json_t *gen_sum = NULL, *pack_sum = NULL, *ver = NULL;
    double t[6] = {0};
    int rc = MVOT_EXIT_FAIL, have_preview = 1;
    enum mvot_status st = mvot_build_claim(b, &lock, &err);
    if (st == MVOT_OK)
        st = mvot_json_write_file(b->cfg_out, b->cfg, &err);
    if (st != MVOT_OK)
        goto done;
    t[0] = mvot_build_now();
    if ((st = mvot_build_gen(b, NULL, b->ep_dir, &gen_sum, &err)) != MVOT_OK)
        goto done;
    t[1] = mvot_build_now();
    if ((st = mvot_build_codebook(b, NULL, 0, &err)) != MVOT_OK)
        goto done;
    t[2] = mvot_build_now();
    if ((st = mvot_build_tokenizer(b, &err)) != MVOT_OK)
        goto done;
    t[3] = mvot_build_now();
    if ((st = mvot_build_pack(b, NULL, b->sh_dir, &pack_sum, &err)) != MVOT_OK)
        goto done;
    t[4] = mvot_build_now();
    if ((st = mvot_build_verify(b, &ver, &err)) != MVOT_OK)
        goto done;
    t[5] = mvot_build_now();
    if ((st = mvot_build_publish(b, ver, &have_preview, &err)) != MVOT_OK)
        goto done;
    print_summary(b, gen_sum, pack_sum, ver, have_preview, t);
    rc = json_is_true(json_object_get(ver, "ok")) ? MVOT_EXIT_OK : MVOT_EXIT_FAIL;
done:
    mvot_cli_progress_done(b->cli);
    if (st != MVOT_OK)
        rc = mvot_cli_fail(b->cli, &err);
    mvot_outdir_unlock(lock);
    json_decref(gen_sum);
    json_decref(pack_sum);
    json_decref(ver);
    return rc;
}

/* One build option into c: -1 to go on, else the exit code. */
static int build_option(struct mvot_cli *cli, int opt, char **argv, struct build_cmd *c)
{
    uint64_t v;
    switch (opt) {
    case O_CONFIG: c->a.config_path = optarg; break;
    case O_OUT: c->out = optarg; break;
    case O_EPISODES:
        if (!mvot_cli_parse_u64(cli, "--episodes", optarg, 1, 10000000, &c->a.episodes))
            return MVOT_EXIT_USAGE;
        c->a.have_episodes = 1;
        break;
    case O_SEED:
        if (!mvot_cli_parse_u64(cli, "--seed", optarg, 0, INT64_MAX, &c->a.seed))
            return MVOT_EXIT_USAGE;
        c->a.have_seed = 1;
        break;
    case O_TOKENIZER: c->a.tok_file = optarg; break;
    case O_CODEBOOK: c->a.cb_file = optarg; break;
    case O_SLURM: c->slurm = 1; break;
    case O_PARTS:
        if (!mvot_cli_parse_u64(cli, "--parts", optarg, 1, MVOT_PART_COUNT_MAX, &v))
            return MVOT_EXIT_USAGE;
        c->s.parts = (uint32_t)v;
        c->have_parts = 1;
        break;
    case O_PARTITION: c->s.partition = optarg; break;
    case O_TIME: c->s.time = optarg; break;
    case O_DRY_RUN: c->s.dry_run = 1; break;
    case O_STAGE: c->stage = optarg; break;
    case O_PART:
        if (!mvot_cli_parse_part(cli, optarg, &c->part))
            return MVOT_EXIT_USAGE;
        break;
    default:
        c->have_threads |= opt == MVOT_OPT_THREADS;
        return mvot_cli_common(cli, opt, MVOT_CLI_ARG(opt, argv), HELP);
    }
    return -1;
}

/* Which options go together: -1 when they fit, else the exit code after a usage line. */
static int check_mode(struct mvot_cli *cli, struct build_cmd *c)
{
    int per_part = 0;
    if (c->slurm && c->stage)
        return mvot_cli_usage(cli, "--slurm and --stage exclude each other");
    if (!c->slurm && (c->s.partition || c->s.time || c->s.dry_run))
        return mvot_cli_usage(cli, "--partition, --time and --dry-run need --slurm");
    if (c->stage && !mvot_build_stage_known(c->stage, &per_part))
        return mvot_cli_usage(cli, "--stage: unknown stage \"%s\" (want one of %s)", c->stage,
                              MVOT_BUILD_STAGES);
    if (c->part.count && !(c->stage && per_part))
        return mvot_cli_usage(cli, "--part needs --stage render or --stage pack");
    if (c->stage && per_part && !c->part.count)
        return mvot_cli_usage(cli, "--stage %s needs --part I/N or --part auto", c->stage);
    if (c->have_parts && c->stage && (per_part || strcmp(c->stage, "plan") == 0))
        return mvot_cli_usage(cli, "--parts goes with --slurm, --stage train or --stage finish");
    if (c->have_parts && !c->slurm && !c->stage)
        return mvot_cli_usage(cli, "--parts needs --slurm or --stage");
    if (c->stage && !per_part && strcmp(c->stage, "plan") != 0 && !c->have_parts)
        return mvot_cli_usage(cli, "--stage %s needs --parts N", c->stage);
    return -1;
}

int mvot_cmd_build(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {{"config", required_argument, 0, O_CONFIG},
                                         {"out", required_argument, 0, O_OUT},
                                         {"episodes", required_argument, 0, O_EPISODES},
                                         {"seed", required_argument, 0, O_SEED},
                                         {"tokenizer", required_argument, 0, O_TOKENIZER},
                                         {"codebook", required_argument, 0, O_CODEBOOK},
                                         {"slurm", no_argument, 0, O_SLURM},
                                         {"parts", required_argument, 0, O_PARTS},
                                         {"partition", required_argument, 0, O_PARTITION},
                                         {"time", required_argument, 0, O_TIME},
                                         {"dry-run", no_argument, 0, O_DRY_RUN},
                                         {"stage", required_argument, 0, O_STAGE},
                                         {"part", required_argument, 0, O_PART},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    struct build_cmd c;
    memset(&c, 0, sizeof c);
    c.out = "mvot-out";
    c.s.parts = BUILD_SLURM_DEFAULT_PARTS;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
        if ((rc = build_option(cli, opt, argv, &c)) >= 0)
            return rc;
    if (optind < argc)
        return mvot_cli_usage(cli, "unexpected argument %s", argv[optind]);
    if ((rc = check_mode(cli, &c)) >= 0)
        return rc;
    c.s.cpus = c.have_threads ? (uint32_t)cli->threads : BUILD_SLURM_DEFAULT_CPUS;
    mvot_cli_ready(cli);

    struct mvot_build b;
    if ((rc = mvot_build_open(&b, cli, c.out, &c.a)) < 0) {
        if (c.slurm)
            rc = mvot_build_slurm(&b, &c.s);
        else if (c.stage)
            rc = mvot_build_stage(&b, c.stage, &c.part, c.s.parts);
        else
            rc = run_one_process(&b);
    }
    mvot_build_close(&b);
    return rc;
}
