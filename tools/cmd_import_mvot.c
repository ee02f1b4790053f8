/* `mvot import-mvot SRC --out DIR`: read official MVoT data (maze/grid{n}.json,
 * frozenlake/level{n}/data.json) into our episode archive, replaying every episode with our
 * rules and rendering frames natively (gen/official.h). */
#include <stdio.h>
#include <stdlib.h>

#include "core/json.h"
#include "gen/official.h"
#include "core/outdir.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot import-mvot SRC --out DIR [--image-size S]\n"
    "\n"
    "Read official MVoT data under SRC (maze/grid{3..6}.json, frozenlake/level{3..6}/data.json)\n"
    "into DIR/episodes.tar.zst + DIR/manifest.json. Every episode is replayed with our rules;\n"
    "a disagreement with the official states or outcome is an error. Frames are re-rendered\n"
    "natively at S px (the official frames are not copied), so cell boxes and states are exact.\n"
    "\n"
    "Options:\n"
    "  --out DIR        output directory (required)\n"
    "  --image-size S   512, 256 or 128 (default 512)\n"
    "\n" MVOT_CLI_COMMON_HELP;

int mvot_cmd_import_mvot(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"image-size", required_argument, 0, 's'},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    const char *out = NULL;
    uint64_t size = 512;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:s:", opts, NULL)) != -1) {
        if (c == 'o') {
            out = optarg;
            continue;
        }
        if (c == 's') {
            if (!mvot_cli_parse_u64(cli, "--image-size", optarg, 0, 100000, &size))
                return MVOT_EXIT_USAGE;
            if (size != 512 && size != 256 && size != 128)
                return mvot_cli_usage(cli, "--image-size: expected 512, 256 or 128, got %s",
                                      optarg);
            continue;
        }
        int rc = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
        if (rc >= 0)
            return rc;
    }
    if (optind + 1 != argc)
        return mvot_cli_usage(cli, "expected one SRC argument (see --help)");
    if (!out)
        return mvot_cli_usage(cli, "--out DIR is required (see --help)");
    mvot_cli_ready(cli);
    struct mvot_outdir_lock *lock = NULL;
    const char *inputs[] = {argv[optind]};
    int claim = mvot_cli_claim_out(cli, out, inputs, 1, 0, &lock);
    if (claim >= 0)
        return claim;
    struct mvot_error err = {0};
    json_t *summary = NULL;
    enum mvot_status st =
        mvot_official_import(argv[optind], out, (uint32_t)size, &cli->hook, &summary, &err);
    mvot_cli_progress_done(cli);
    mvot_outdir_unlock(lock);
    if (st != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    json_t *tasks = json_object_get(summary, "tasks");
    mvot_cli_note(cli, "imported %lld maze and %lld frozenlake episodes into %s\n",
                  (long long)json_integer_value(json_object_get(tasks, "maze")),
                  (long long)json_integer_value(json_object_get(tasks, "frozenlake")), out);
    mvot_cli_print_json(cli, summary);
    json_decref(summary);
    return MVOT_EXIT_OK;
}
