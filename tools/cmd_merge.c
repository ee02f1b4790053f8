/* `mvot merge PART_DIR... --out DIR`: joins the parts of a split `mvot gen --part` run into
 * one episode set, byte-identical to a one-process run (docs/cluster.md). The checks and the
 * copy are mvot_gen_merge; this file parses arguments and prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen/gen.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot merge PART_DIR... --out DIR\n"
    "\n"
    "Join the part folders of a split `mvot gen --part I/N` run (DIR/part-IIIII-of-NNNNN)\n"
    "into DIR/episodes.tar.zst and DIR/manifest.json, byte-identical to `mvot gen` in one\n"
    "process with the same options. Refuses parts of different runs (tool version, config,\n"
    "seed, N or plan hash differ), a missing or twice-given part, and a part whose archive\n"
    "does not match its manifest, naming the part. The part folders are only read.\n"
    "Shard sets cannot be merged yet (docs/cluster.md).\n"
    "\n"
    "Options:\n"
    "  --out DIR     output folder (required; created if missing)\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum { OPT_OUT = 1 };

int mvot_cmd_merge(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, OPT_OUT}, MVOT_CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    const char *out = NULL;
    struct mvot_error err = {0};
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == OPT_OUT) {
            out = optarg;
            continue;
        }
        int rc = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
        if (rc >= 0)
            return rc;
    }
    if (!out)
        return mvot_cli_usage(cli, "--out DIR is required (see --help)");
    if (optind >= argc)
        return mvot_cli_usage(cli, "want at least one part folder (see --help)");
    mvot_cli_ready(cli);
    json_t *summary = NULL;
    enum mvot_status st = mvot_gen_merge((const char *const *)(argv + optind),
                                         (size_t)(argc - optind), out, &cli->hook, &summary, &err);
    mvot_cli_progress_done(cli);
    if (st != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    mvot_cli_note(cli, "merged %d parts: %lld episodes to %s\n", argc - optind,
                  (long long)json_integer_value(json_object_get(summary, "episodes")), out);
    mvot_cli_print_json(cli, summary);
    json_decref(summary);
    return MVOT_EXIT_OK;
}
