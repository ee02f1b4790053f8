/* `mvot merge PART_DIR... --out DIR`: joins the parts of a split `mvot gen --part` or
 * `mvot pack --part` run into one episode set or shard set, byte-identical to a one-process
 * run (docs/cluster.md). The first part's manifest says which; the checks and the placing are
 * mvot_gen_merge and mvot_pack_merge; this file parses arguments and prints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/json.h"
#include "gen/gen.h"
#include "shards/format.h"
#include "shards/pack.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot merge PART_DIR... --out DIR\n"
    "\n"
    "Join the part folders (OUT/part-IIIII-of-NNNNN) of a split run into one set,\n"
    "byte-identical to the same command run in one process:\n"
    "  - `mvot gen --part I/N` parts: DIR/episodes.tar.zst and DIR/manifest.json (the\n"
    "    archive is rewritten once);\n"
    "  - `mvot pack --part I/N` parts: a shard set in DIR; the shard files are hard-linked\n"
    "    (copied where the filesystem has no links), tokenizer and codebook likewise, and\n"
    "    DIR/manifest.json is written last.\n"
    "Refuses parts of different runs (tool version, config, seed, options, N, plan,\n"
    "tokenizer or codebook differ), a missing or twice-given part, and a part whose files\n"
    "do not match its manifest, naming the part; nothing is written then. The part folders\n"
    "are only read: delete them yourself once the merged set is verified.\n"
    "\n"
    "Options:\n"
    "  --out DIR     output folder (required; created if missing)\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum { OPT_OUT = 1 };

/* 1 if dir is a part of a split pack (else the gen merge reports what it is). */
static int is_shard_part(const char *dir)
{
    char *path = mvot_io_join(dir, "manifest.json");
    json_t *m = NULL;
    int yes =
        path && mvot_json_load_file(path, &m, NULL) == MVOT_OK &&
        json_is_string(json_object_get(m, "format")) &&
        strcmp(json_string_value(json_object_get(m, "format")), MVOT_SHARD_PART_FORMAT_NAME) == 0;
    json_decref(m);
    free(path);
    return yes;
}

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
    const char *const *dirs = (const char *const *)(argv + optind);
    size_t n = (size_t)(argc - optind);
    int shards = is_shard_part(dirs[0]);
    enum mvot_status st = shards ? mvot_pack_merge(dirs, n, out, &cli->hook, &summary, &err)
                                 : mvot_gen_merge(dirs, n, out, &cli->hook, &summary, &err);
    mvot_cli_progress_done(cli);
    if (st != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    if (shards)
        mvot_cli_note(cli, "merged %zu parts: %lld samples in %lld shards to %s\n", n,
                      (long long)json_integer_value(json_object_get(summary, "samples")),
                      (long long)json_integer_value(json_object_get(summary, "shards")), out);
    else
        mvot_cli_note(cli, "merged %zu parts: %lld episodes to %s\n", n,
                      (long long)json_integer_value(json_object_get(summary, "episodes")), out);
    mvot_cli_print_json(cli, summary);
    json_decref(summary);
    return MVOT_EXIT_OK;
}
