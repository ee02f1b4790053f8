/* `mvot gen`: synthesize MAZE / FROZENLAKE / MINIBEHAVIOR episodes into DIR/episodes.tar.zst
 * and DIR/manifest.json (docs/episode-format.md). Argument parsing and printing only; the work
 * is mvot_gen_run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/json.h"
#include "core/pool.h"
#include "gen/gen.h"
#include "tools/commands.h"
#include "tools/part.h"

static const char HELP[] =
    "usage: mvot gen --out DIR [options]\n"
    "\n"
    "Generate episodes (frames, texts, rationales, ground truth) into DIR/episodes.tar.zst\n"
    "and DIR/manifest.json. Output is byte-identical for any --threads.\n"
    "\n"
    "Options:\n"
    "  --task T          maze, frozenlake, minibehavior or all (default all)\n"
    "  --episodes N      episodes per task (default 100)\n"
    "  --seed S          master seed, 0..2^63-1 (default 0)\n"
    "  --out DIR         output directory (required)\n"
    "  --image-size S    frame size in px: 512, 256 or 128 (default 512)\n"
    "  --sizes SPEC      grid-size mix: items [task=]N[-M][:W] separated by ',', e.g.\n"
    "                    \"3-6\", \"maze=3:2,maze=4:1,minibehavior=7-8\" (default uniform:\n"
    "                    3..6 for maze/frozenlake, 7..10 for minibehavior, walls included)\n"
    "  --min-steps N     fewest rendered actions per episode (default 2)\n"
    "  --max-steps N     most rendered actions per episode, <= 64 (default 32)\n"
    "  --split T,D,E     train/dev/test fractions by layout hash (default 0.8,0.1,0.1)\n"
    "  --png-level L     zlib level for frames, 0..9 (default: the measured default)\n"
    "  --zstd-level L    archive zstd level, 1..19 (default 3)\n"
    "  --style S         grid (default: cells on the 16-px token grid) or official (the\n"
    "                    geometry the official MVoT evaluator reads; see docs/tasks.md)\n"
    "  --sprites DIR     FrozenLake sprites from your Gymnasium installation\n"
    "                    (gymnasium/envs/toy_text/img); needs --style official\n"
    "  --border-walks    frozenlake walks may bump into the border (default: never)\n"
    "  --random-table    minibehavior table of w x h cells (1..3 each, 2..6 cells) at random\n"
    "                    instead of the fixed 3x2\n"
    "  --sequences-per-map K  frozenlake episodes sharing one map, 1..64 (default 1; the\n"
    "                    official data has about 12, but shared maps let the text hint at\n"
    "                    the answer: see docs/tasks.md)\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum {
    OPT_TASK = 1,
    OPT_EPISODES,
    OPT_SEED,
    OPT_OUT,
    OPT_IMAGE_SIZE,
    OPT_SIZES,
    OPT_MIN_STEPS,
    OPT_MAX_STEPS,
    OPT_SPLIT,
    OPT_PNG_LEVEL,
    OPT_ZSTD_LEVEL,
    OPT_STYLE,
    OPT_SPRITES,
    OPT_BORDER_WALKS,
    OPT_RANDOM_TABLE,
    OPT_PER_MAP,
    OPT_PART
};

static int parse_split(struct mvot_cli *cli, const char *arg, double frac[3])
{
    char buf[128];
    if (strlen(arg) >= sizeof buf)
        return mvot_cli_usage(cli, "--split: expected T,D,E fractions, got '%s'", arg), 0;
    memcpy(buf, arg, strlen(arg) + 1);
    char *p = buf;
    for (int k = 0; k < 3; k++) {
        char *comma = strchr(p, ',');
        if ((k < 2) != (comma != NULL))
            return mvot_cli_usage(cli, "--split: expected three fractions T,D,E, got '%s'", arg), 0;
        if (comma)
            *comma = 0;
        if (!mvot_cli_parse_double(cli, "--split", p, 0, 1, &frac[k]))
            return 0;
        p = comma ? comma + 1 : p;
    }
    double s = frac[0] + frac[1] + frac[2];
    if (s < 1 - 1e-6 || s > 1 + 1e-6)
        return mvot_cli_usage(cli, "--split: fractions must sum to 1, got %g", s), 0;
    /* Normalize tiny rounding so validation (1e-9) accepts "0.7,0.2,0.1". */
    frac[2] = 1.0 - frac[0] - frac[1];
    if (frac[2] < 0)
        frac[2] = 0;
    return 1;
}

/* One gen option into cfg (or out, sizes, part): -1 to go on, else the exit code. */
static int gen_option(struct mvot_cli *cli, int c, char **argv, struct mvot_gen_config *cfg,
                      const char **out, const char **sizes, struct mvot_part *part)
{
    uint64_t v;
    switch (c) {
    case OPT_TASK:
        if (strcmp(optarg, "all") == 0) {
            cfg->tasks = (1u << MVOT_TASK_COUNT) - 1;
        } else {
            enum mvot_task t;
            if (mvot_task_parse(optarg, &t) != 0)
                return mvot_cli_usage(cli,
                                      "--task: unknown task '%s' (maze, frozenlake, "
                                      "minibehavior or all)",
                                      optarg);
            cfg->tasks = 1u << t;
        }
        break;
    case OPT_EPISODES:
        if (!mvot_cli_parse_u64(cli, "--episodes", optarg, 1, 100000000, &cfg->episodes))
            return MVOT_EXIT_USAGE;
        break;
    case OPT_SEED:
        if (!mvot_cli_parse_u64(cli, "--seed", optarg, 0, (uint64_t)INT64_MAX, &cfg->seed))
            return MVOT_EXIT_USAGE;
        break;
    case OPT_OUT: *out = optarg; break;
    case OPT_IMAGE_SIZE:
        if (!mvot_cli_parse_u64(cli, "--image-size", optarg, 0, 100000, &v))
            return MVOT_EXIT_USAGE;
        if (v != 512 && v != 256 && v != 128)
            return mvot_cli_usage(cli, "--image-size: expected 512, 256 or 128, got %s", optarg);
        cfg->image_size = (uint32_t)v;
        break;
    case OPT_SIZES: *sizes = optarg; break;
    case OPT_MIN_STEPS:
        if (!mvot_cli_parse_u64(cli, "--min-steps", optarg, 1, MVOT_GEN_STEPS_LIMIT, &v))
            return MVOT_EXIT_USAGE;
        cfg->min_steps = (uint32_t)v;
        break;
    case OPT_MAX_STEPS:
        if (!mvot_cli_parse_u64(cli, "--max-steps", optarg, 1, MVOT_GEN_STEPS_LIMIT, &v))
            return MVOT_EXIT_USAGE;
        cfg->max_steps = (uint32_t)v;
        break;
    case OPT_SPLIT:
        if (!parse_split(cli, optarg, cfg->split_frac))
            return MVOT_EXIT_USAGE;
        break;
    case OPT_PNG_LEVEL:
        if (!mvot_cli_parse_u64(cli, "--png-level", optarg, 0, 9, &v))
            return MVOT_EXIT_USAGE;
        cfg->png_level = (int)v;
        break;
    case OPT_ZSTD_LEVEL:
        if (!mvot_cli_parse_u64(cli, "--zstd-level", optarg, 1, 19, &v))
            return MVOT_EXIT_USAGE;
        cfg->zstd_level = (int)v;
        break;
    case OPT_STYLE:
        if (mvot_gen_style_parse(optarg, &cfg->style) != 0)
            return mvot_cli_usage(cli, "--style: expected grid or official, got '%s'", optarg);
        break;
    case OPT_SPRITES:
        if (optarg[0] == 0 || strlen(optarg) >= sizeof cfg->sprites)
            return mvot_cli_usage(cli, "--sprites: expected a folder path");
        memcpy(cfg->sprites, optarg, strlen(optarg) + 1);
        break;
    case OPT_BORDER_WALKS: cfg->frozenlake_border_walks = 1; break;
    case OPT_RANDOM_TABLE: cfg->minibehavior_random_table = 1; break;
    case OPT_PER_MAP:
        if (!mvot_cli_parse_u64(cli, "--sequences-per-map", optarg, 1, 64, &v))
            return MVOT_EXIT_USAGE;
        cfg->frozenlake_per_map = (uint32_t)v;
        break;
    case OPT_PART:
        if (!mvot_cli_parse_part(cli, optarg, part))
            return MVOT_EXIT_USAGE;
        break;
    default: return mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
    }
    return -1;
}

int mvot_cmd_gen(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {{"task", required_argument, 0, OPT_TASK},
                                         {"episodes", required_argument, 0, OPT_EPISODES},
                                         {"seed", required_argument, 0, OPT_SEED},
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"image-size", required_argument, 0, OPT_IMAGE_SIZE},
                                         {"sizes", required_argument, 0, OPT_SIZES},
                                         {"min-steps", required_argument, 0, OPT_MIN_STEPS},
                                         {"max-steps", required_argument, 0, OPT_MAX_STEPS},
                                         {"split", required_argument, 0, OPT_SPLIT},
                                         {"png-level", required_argument, 0, OPT_PNG_LEVEL},
                                         {"zstd-level", required_argument, 0, OPT_ZSTD_LEVEL},
                                         {"style", required_argument, 0, OPT_STYLE},
                                         {"sprites", required_argument, 0, OPT_SPRITES},
                                         {"border-walks", no_argument, 0, OPT_BORDER_WALKS},
                                         {"random-table", no_argument, 0, OPT_RANDOM_TABLE},
                                         {"sequences-per-map", required_argument, 0, OPT_PER_MAP},
                                         {"part", required_argument, 0, OPT_PART},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    struct mvot_gen_config cfg;
    struct mvot_error err = {0};
    const char *out = NULL, *sizes = NULL;
    struct mvot_part part = {0, 0}; /* count 0: the whole set */
    char *part_dir = NULL;
    int c;
    mvot_gen_config_default(&cfg);
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        int rc = gen_option(cli, c, argv, &cfg, &out, &sizes, &part);
        if (rc >= 0)
            return rc;
    }
    if (optind < argc)
        return mvot_cli_usage(cli, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!out)
        return mvot_cli_usage(cli, "--out DIR is required (see --help)");
    /* --sizes is applied after --task so that bare sizes refer to the selected tasks. */
    if (sizes && mvot_gen_parse_sizes(&cfg, sizes, &err) != MVOT_OK)
        return mvot_cli_usage(cli, "%s", err.msg);
    if (cfg.min_steps > cfg.max_steps)
        return mvot_cli_usage(cli, "--min-steps %u is above --max-steps %u", cfg.min_steps,
                              cfg.max_steps);
    if (mvot_gen_config_validate(&cfg, &err) != MVOT_OK)
        return mvot_cli_usage(cli, "%s", err.msg);
    mvot_cli_ready(cli);

    struct mvot_pool *pool = mvot_pool_create(cli->threads);
    if (!pool) {
        fprintf(stderr, "%s: cannot start %d threads\n", cli->cmd, cli->threads);
        return MVOT_EXIT_FAIL;
    }
    json_t *summary = NULL;
    struct mvot_gen_part gp = {part.index, part.count};
    int prc = mvot_cli_part_out(cli, &part, &out, &part_dir);
    if (prc >= 0) {
        mvot_pool_free(pool);
        return prc;
    }
    enum mvot_status st =
        mvot_gen_run_part(&cfg, part.count ? &gp : NULL, out, pool, &cli->hook, &summary, &err);
    mvot_cli_progress_done(cli);
    mvot_pool_free(pool);
    if (st != MVOT_OK) {
        int rc = mvot_cli_fail(cli, &err);
        free(part_dir);
        return rc;
    }
    json_t *splits = json_object_get(summary, "splits"), *pj = json_object_get(summary, "part");
    if (pj)
        mvot_cli_note(cli, "wrote part %u of %u: episodes %lld..%lld of %lld to %s\n", part.index,
                      part.count, (long long)json_integer_value(json_object_get(pj, "first")),
                      (long long)(json_integer_value(json_object_get(pj, "first")) +
                                  json_integer_value(json_object_get(pj, "episodes")) - 1),
                      (long long)json_integer_value(json_object_get(summary, "episodes")), out);
    else
        mvot_cli_note(cli,
                      "wrote %lld episodes, %lld frames to %s (train %lld, dev %lld, test %lld; "
                      "leakage %lld)\n",
                      (long long)json_integer_value(json_object_get(summary, "episodes")),
                      (long long)json_integer_value(json_object_get(summary, "frames")), out,
                      (long long)json_integer_value(json_object_get(splits, "train")),
                      (long long)json_integer_value(json_object_get(splits, "dev")),
                      (long long)json_integer_value(json_object_get(splits, "test")),
                      (long long)json_integer_value(json_object_get(summary, "leakage")));
    mvot_cli_print_json(cli, summary);
    json_decref(summary);
    free(part_dir);
    return MVOT_EXIT_OK;
}
