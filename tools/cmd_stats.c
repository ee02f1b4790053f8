/* `mvot stats EPISODES`: text-only baselines per task. For each task it trains the majority
 * class and a depth-limited decision tree (gen/stats.h) on the train split's surface features
 * of the action sequence, scores them on dev + test, and prints them beside chance (1/k) with
 * 95% Wilson intervals. A baseline well above chance means the answer can be read from the
 * text alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/episode.h"
#include "gen/stats.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot stats EPISODES [options]\n"
    "\n"
    "Text-only baselines of EPISODES (a gen output dir or episodes.tar.zst): per task, the\n"
    "majority class and a decision tree on the action sequence's surface features (grid\n"
    "size, length, count of each action, which actions occur, first and last action), both\n"
    "trained on train and scored on dev+test, beside chance 1/k, with 95% intervals. The\n"
    "last column says whether the baseline is within 5 points of chance (its interval\n"
    "reaches chance + 5).\n"
    "\n"
    "Options:\n"
    "  --depth D       tree depth limit, 0..16 (default 6)\n"
    "  --min-leaf N    fewest training episodes per leaf, 1..1000 (default 5)\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum { OPT_DEPTH = 1, OPT_MIN_LEAF };

static const uint32_t N_OPTIONS[MVOT_TASK_COUNT] = {4, 3, 4};

struct task_set {
    struct mvot_stats_sample *s;
    size_t n, cap;
};

static void print_row(const char *name, uint64_t correct, uint64_t n, double chance)
{
    double lo, hi, p = n ? (double)correct / (double)n : 0;
    mvot_stats_wilson(correct, n, &lo, &hi);
    int fine = lo <= chance + 0.05;
    printf("  %-14s %5.1f%%  [%5.1f, %5.1f]  %s\n", name, 100 * p, 100 * lo, 100 * hi,
           fine ? "within 5 points" : "ABOVE chance + 5");
}

int mvot_cmd_stats(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {{"depth", required_argument, 0, OPT_DEPTH},
                                         {"min-leaf", required_argument, 0, OPT_MIN_LEAF},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    struct task_set sets[MVOT_TASK_COUNT];
    struct mvot_episode_reader *rd = NULL;
    struct mvot_error err = {0};
    uint64_t depth = 6, min_leaf = 5;
    int c, rc = MVOT_EXIT_FAIL;
    memset(sets, 0, sizeof sets);
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DEPTH:
            if (!mvot_cli_parse_u64(cli, "--depth", optarg, 0, 16, &depth))
                return MVOT_EXIT_USAGE;
            break;
        case OPT_MIN_LEAF:
            if (!mvot_cli_parse_u64(cli, "--min-leaf", optarg, 1, 1000, &min_leaf))
                return MVOT_EXIT_USAGE;
            break;
        default: {
            int r = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
            if (r >= 0)
                return r;
        }
        }
    }
    if (optind + 1 != argc)
        return mvot_cli_usage(cli, "expected one EPISODES argument (see --help)");
    mvot_cli_ready(cli);
    if (mvot_episode_reader_open(argv[optind], &rd, &err) != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    for (;;) {
        struct mvot_episode ep;
        int done = 0;
        if (mvot_episode_reader_next(rd, &ep, &done, &err) != MVOT_OK)
            goto fail;
        if (done)
            break;
        struct task_set *ts = &sets[ep.task];
        if (ts->n == ts->cap) {
            size_t cap = ts->cap ? 2 * ts->cap : 1024;
            struct mvot_stats_sample *ns = realloc(ts->s, cap * sizeof *ns);
            if (!ns) {
                mvot_episode_free(&ep);
                mvot_error_set(&err, MVOT_ERR_NOMEM, "stats", "out of memory");
                goto fail;
            }
            ts->s = ns;
            ts->cap = cap;
        }
        enum mvot_status st = mvot_stats_sample_of(&ep, &ts->s[ts->n], &err);
        mvot_episode_free(&ep);
        if (st != MVOT_OK)
            goto fail;
        ts->n++;
    }
    printf("text-only baselines: trained on train, scored on dev+test; tree depth %llu, "
           "min leaf %llu; 95%% Wilson intervals\n",
           (unsigned long long)depth, (unsigned long long)min_leaf);
    for (int t = 0; t < MVOT_TASK_COUNT; t++) {
        if (sets[t].n == 0)
            continue;
        struct mvot_stats_result r;
        if (mvot_stats_baselines(sets[t].s, sets[t].n, N_OPTIONS[t], (uint32_t)depth,
                                 (uint32_t)min_leaf, &r, &err) != MVOT_OK)
            goto fail;
        double chance = 1.0 / r.k;
        printf("%s: %llu train, %llu scored, k = %u, chance %.1f%%\n",
               mvot_task_name((enum mvot_task)t), (unsigned long long)r.n_train,
               (unsigned long long)r.n_scored, r.k, 100 * chance);
        char name[32];
        snprintf(name, sizeof name, "majority (%c)", 'A' + r.majority);
        print_row(name, r.majority_correct, r.n_scored, chance);
        snprintf(name, sizeof name, "tree (%u lvs)", r.tree_leaves);
        print_row(name, r.tree_correct, r.n_scored, chance);
    }
    rc = MVOT_EXIT_OK;
    goto done;
fail:
    rc = mvot_cli_fail(cli, &err);
done:
    mvot_episode_reader_close(rd);
    for (int t = 0; t < MVOT_TASK_COUNT; t++)
        free(sets[t].s);
    return rc;
}
