/* mvot export SHARDS --format megatron|jsonl|tar [--split S] --out DIR: a shard set in the
 * formats other training stacks read (shards/export.h, docs/export-format.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shards/export.h"
#include "tools/commands.h"
#include "tools/part.h"

static const char HELP[] =
    "usage: mvot export SHARDS --format megatron|jsonl|tar [--split S] --out DIR\n"
    "\n"
    "Writes the samples of the shard set SHARDS (its root, or one split's folder such as\n"
    "ROOT/train: that split only), split by split, as:\n"
    "  megatron  Megatron-Core indexed datasets: DIR/{split}.bin + .idx (int32 tokens, one\n"
    "            sequence and one document per sample) and DIR/{split}_labels.bin + .idx\n"
    "            (the labels: the token where it is supervised, else -100)\n"
    "  jsonl     DIR/{split}.jsonl, one line per sample:\n"
    "            {\"key\",\"split\",\"task\",\"input_ids\",\"labels\"}; with --prompts\n"
    "            DIR/{split}-prompts.jsonl with only \"key\" and the prompt's \"input_ids\"\n"
    "            (the tokens before the first supervised one: a generation run's input)\n"
    "  tar       DIR/{split}-NNNNNN.tar, uncompressed WebDataset tars holding each sample's\n"
    "            members as in the shards (read without zstd)\n"
    "DIR/manifest.json, written last, names the source set and every file with its size and\n"
    "hash, and counts per split the samples longer than the official MVoT trainer's input\n"
    "(2600) and label (1299 + <s>) blocks. A file that exists is never replaced: the export\n"
    "stops before writing anything.\n"
    "\n"
    "Options:\n"
    "  --format F        megatron, jsonl or tar (required)\n"
    "  --out DIR         output directory (required)\n"
    "  --split S         only this split: train, dev or test (default: every split)\n"
    "  --prompts         jsonl: keys and prompt ids only\n"
    "  --tar-samples N   tar: samples per tar file (default 1000)\n"
    "  --part I/N|auto   only the samples of a contiguous 1/N of the set's shards, into\n"
    "                    DIR/part-IIIII-of-NNNNN (for megatron: one prefix per part, which\n"
    "                    Megatron blends; docs/cluster.md)\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum { O_FORMAT = 0x100, O_OUT, O_SPLIT, O_PROMPTS, O_TAR_SAMPLES, O_PART };

int mvot_cmd_export(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {{"format", required_argument, 0, O_FORMAT},
                                         {"out", required_argument, 0, O_OUT},
                                         {"split", required_argument, 0, O_SPLIT},
                                         {"prompts", no_argument, 0, O_PROMPTS},
                                         {"tar-samples", required_argument, 0, O_TAR_SAMPLES},
                                         {"part", required_argument, 0, O_PART},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    struct mvot_export_opts o;
    mvot_export_opts_default(&o);
    const char *out = NULL, *format = NULL;
    uint64_t v;
    int c;
    struct mvot_part part = {0, 0}; /* count 0: the whole set */
    char *part_dir = NULL;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_FORMAT: format = optarg; break;
        case O_OUT: out = optarg; break;
        case O_SPLIT: o.split = optarg; break;
        case O_PROMPTS: o.prompts = 1; break;
        case O_PART:
            if (!mvot_cli_parse_part(cli, optarg, &part))
                return MVOT_EXIT_USAGE;
            break;
        case O_TAR_SAMPLES:
            if (!mvot_cli_parse_u64(cli, "--tar-samples", optarg, 1, UINT32_MAX, &v))
                return MVOT_EXIT_USAGE;
            o.tar_samples = (uint32_t)v;
            break;
        default: {
            int r = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
            if (r >= 0)
                return r;
        }
        }
    }
    if (optind + 1 != argc)
        return mvot_cli_usage(cli, "expected one SHARDS argument (see --help)");
    if (!format || mvot_export_format_parse(format, &o.format) != 0)
        return mvot_cli_usage(cli, "--format must be megatron, jsonl or tar (see --help)");
    if (!out)
        return mvot_cli_usage(cli, "--out DIR is required (see --help)");
    if (o.split && strcmp(o.split, "train") != 0 && strcmp(o.split, "dev") != 0 &&
        strcmp(o.split, "test") != 0)
        return mvot_cli_usage(cli, "--split must be train, dev or test, not '%s'", o.split);
    if (o.prompts && o.format != MVOT_EXPORT_JSONL)
        return mvot_cli_usage(cli, "--prompts applies to --format jsonl only");
    o.part_index = part.index;
    o.part_count = part.count;
    int prc = mvot_cli_part_out(cli, &part, &out, &part_dir);
    if (prc >= 0)
        return prc;
    mvot_cli_ready(cli);
    struct mvot_error err = {0};
    json_t *m = NULL;
    enum mvot_status st = mvot_export_run(argv[optind], out, &o, &cli->hook, &m, &err);
    mvot_cli_progress_done(cli);
    if (st != MVOT_OK) {
        free(part_dir);
        return mvot_cli_fail(cli, &err);
    }
    const char *split;
    json_t *r;
    json_object_foreach(json_object_get(m, "splits"), split, r)
    {
        mvot_cli_note(cli,
                      "export: %s: %lld samples, %lld tokens as %s in %s (%lld over the "
                      "official MVoT lengths)\n",
                      split, (long long)json_integer_value(json_object_get(r, "samples")),
                      (long long)json_integer_value(json_object_get(r, "tokens")),
                      mvot_export_format_name(o.format), out,
                      (long long)json_integer_value(json_object_get(r, "over_mvot_lengths")));
    }
    mvot_cli_print_json(cli, m);
    json_decref(m);
    free(part_dir);
    return MVOT_EXIT_OK;
}
