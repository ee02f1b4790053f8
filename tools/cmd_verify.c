/* mvot verify: re-reads a shard directory and reports every problem (exit 1 on any). */
#include <stdio.h>
#include <stdlib.h>

#include "core/json.h"
#include "core/pool.h"
#include "shards/verify.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot verify SHARDS\n"
    "\n"
    "Re-reads every shard of a shard set (its root, or one split's folder: the whole set is\n"
    "checked): zstd frame checksums, the seek table and index, manifest XXH3 of raw and\n"
    "compressed bytes and of the index, the manifest's own hash, every manifest field against\n"
    "the shards (statistics, totals, end ordinals, mode), tar structure, token bounds against\n"
    "the vocabulary, span consistency, BOI + N codes + EOI around every image, sample json,\n"
    "and shard-like files the manifest does not list. Version 1 sets are checked with a\n"
    "warning. Prints each problem with its shard and sample; exits 1 if there is any.\n"
    "\n" MVOT_CLI_COMMON_HELP;

int mvot_cmd_verify(int argc, char **argv, struct mvot_cli *cli)
{
    int r = mvot_cli_parse_plain(cli, argc, argv, HELP);
    if (r >= 0)
        return r;
    if (argc - optind != 1)
        return mvot_cli_usage(cli, "want exactly one shard directory");
    mvot_cli_ready(cli);
    struct mvot_pool *pool = mvot_pool_create(cli->threads);
    struct mvot_error err = {0};
    json_t *rep = NULL;
    enum mvot_status st = mvot_shards_verify(argv[optind], pool, &cli->hook, &rep, &err);
    mvot_cli_progress_done(cli);
    mvot_pool_free(pool);
    if (st != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    json_t *wr = json_object_get(rep, "warnings");
    for (size_t i = 0; i < json_array_size(wr); i++)
        mvot_cli_warn(cli, json_string_value(json_array_get(wr, i)));
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
    else
        fprintf(stderr, "%s: %lld problems\n", cli->cmd,
                (long long)json_integer_value(json_object_get(rep, "n_problems")));
    json_decref(rep);
    return ok ? MVOT_EXIT_OK : MVOT_EXIT_FAIL;
}
