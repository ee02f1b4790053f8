/* `mvot export-mvot EPISODE_DIR --out DIR`: write MAZE/FROZENLAKE episodes in the official MVoT
 * layout (gen/official.h, docs/episode-format.md "Official layout"). */
#include <stdio.h>
#include <stdlib.h>

#include "core/json.h"
#include "gen/official.h"
#include "core/outdir.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot export-mvot EPISODE_DIR --out DIR\n"
    "\n"
    "Write the episodes of EPISODE_DIR (a gen output dir or an episodes.tar.zst) in the official\n"
    "MVoT layout under DIR:\n"
    "  maze/grid{n}.json + maze/grid{n}/path_{id}_{k}.jpg   (k = 1..L+1)\n"
    "  frozenlake/level{n}/data.json + frozenlake/level{n}/{data_id}/{i}.png\n"
    "Maze frames are our PNG bytes under the official .jpg names: the official loader opens\n"
    "them with PIL, which identifies the format by content; episodes of gen --style official\n"
    "get their maze frames drawn at 640x480, the size of the official frames. MINIBEHAVIOR\n"
    "has no official layout and is skipped (counted in the summary).\n"
    "\n"
    "Options:\n"
    "  --out DIR     output directory (required)\n"
    "\n" MVOT_CLI_COMMON_HELP;

int mvot_cmd_export_mvot(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'}, MVOT_CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    const char *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        if (c == 'o') {
            out = optarg;
            continue;
        }
        int rc = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
        if (rc >= 0)
            return rc;
    }
    if (optind + 1 != argc)
        return mvot_cli_usage(cli, "expected one EPISODE_DIR argument (see --help)");
    if (!out)
        return mvot_cli_usage(cli, "--out DIR is required (see --help)");
    mvot_cli_ready(cli);
    struct mvot_outdir_lock *lock = NULL;
    const char *inputs[] = {argv[optind]};
    int rc = mvot_cli_claim_out(cli, out, inputs, 1, 1, &lock);
    if (rc >= 0)
        return rc;
    struct mvot_error err = {0};
    json_t *summary = NULL;
    enum mvot_status st = mvot_official_export(argv[optind], out, &cli->hook, &summary, &err);
    mvot_cli_progress_done(cli);
    mvot_outdir_unlock(lock);
    if (st != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    mvot_cli_note(
        cli, "exported %lld maze and %lld frozenlake episodes to %s (%lld minibehavior skipped)\n",
        (long long)json_integer_value(json_object_get(summary, "maze")),
        (long long)json_integer_value(json_object_get(summary, "frozenlake")), out,
        (long long)json_integer_value(json_object_get(summary, "minibehavior_skipped")));
    mvot_cli_print_json(cli, summary);
    json_decref(summary);
    return MVOT_EXIT_OK;
}
