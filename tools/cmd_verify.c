/* mvot verify: re-reads a shard directory and reports every problem (exit 1 on any). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/io.h"
#include "core/json.h"
#include "core/pool.h"
#include "shards/verify.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot verify SHARDS\n"
    "\n"
    "Re-reads every shard of a shard directory: zstd frame checksums, the seek table and\n"
    "index, manifest XXH3 of raw and compressed bytes, tar structure, token bounds against\n"
    "the vocabulary, span consistency, BOI + N codes + EOI around every image, sample json.\n"
    "Prints each problem with its shard and sample; exits 1 if there is any, 2 when SHARDS\n"
    "is not a shard set at all (a gen or build folder, no manifest.json).\n"
    "\n" MVOT_CLI_COMMON_HELP;

/* A folder that is no shard set at all is a usage error naming what it is; a shard set with
 * a damaged manifest is left to verify, which reports it as a problem (exit 1). */
static int not_a_shard_set(struct mvot_cli *cli, const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return mvot_cli_usage(cli, "%s: no such folder", dir);
    if (!S_ISDIR(sb.st_mode))
        return mvot_cli_usage(cli, "%s is a file, not a shard folder", dir);
    char *mp = mvot_io_join(dir, "manifest.json"), *bp = mvot_io_join(dir, "build-config.json");
    char *sp = mvot_io_join(dir, "shards/manifest.json");
    int rc = -1;
    json_t *m = NULL;
    if (!mp || !bp || !sp) {
        rc = mvot_cli_usage(cli, "out of memory");
    } else if (!mvot_io_exists(mp)) {
        if (mvot_io_exists(bp) && mvot_io_exists(sp))
            rc = mvot_cli_usage(cli,
                                "%s is a build folder, not a shard set; its shards are in "
                                "%s/shards",
                                dir, dir);
        else
            rc = mvot_cli_usage(cli, "%s is not a shard set (no manifest.json)", dir);
    } else if (mvot_json_load_file(mp, &m, NULL) == MVOT_OK &&
               json_is_string(json_object_get(m, "format")) &&
               strcmp(json_string_value(json_object_get(m, "format")), "mvot-gen-manifest") == 0) {
        rc =
            mvot_cli_usage(cli, "%s is a gen episode folder, not a shard set (pack it first)", dir);
    }
    json_decref(m);
    free(mp);
    free(bp);
    free(sp);
    return rc;
}

int mvot_cmd_verify(int argc, char **argv, struct mvot_cli *cli)
{
    int r = mvot_cli_parse_plain(cli, argc, argv, HELP);
    if (r >= 0)
        return r;
    if (argc - optind != 1)
        return mvot_cli_usage(cli, "want exactly one shard directory");
    if ((r = not_a_shard_set(cli, argv[optind])) >= 0)
        return r;
    mvot_cli_ready(cli);
    struct mvot_pool *pool = mvot_pool_create(cli->threads);
    struct mvot_error err = {0};
    json_t *rep = NULL;
    enum mvot_status st = mvot_shards_verify(argv[optind], pool, &cli->hook, &rep, &err);
    mvot_cli_progress_done(cli);
    mvot_pool_free(pool);
    if (st != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    json_t *pr = json_object_get(rep, "problems");
    for (size_t i = 0; i < json_array_size(pr); i++)
        fprintf(stderr, "%s: %s\n", cli->cmd, json_string_value(json_array_get(pr, i)));
    int ok = json_is_true(json_object_get(rep, "ok"));
    mvot_cli_print_json(cli, rep);
    if (ok)
        mvot_cli_note(cli, "ok: %lld shards, %lld samples, %lld tokens\n",
                      (long long)json_integer_value(json_object_get(rep, "shards")),
                      (long long)json_integer_value(json_object_get(rep, "samples")),
                      (long long)json_integer_value(json_object_get(rep, "tokens")));
    else {
        long long n = (long long)json_integer_value(json_object_get(rep, "n_problems"));
        fprintf(stderr, "%s: %lld problem%s\n", cli->cmd, n, n == 1 ? "" : "s");
    }
    json_decref(rep);
    return ok ? MVOT_EXIT_OK : MVOT_EXIT_FAIL;
}
