/* mvot retokenize: rebuilds a shard directory with a new codebook and/or tokenizer from the
 * frames and texts stored in its samples (no gen). */
#include <stdio.h>
#include <stdlib.h>

#include "core/json.h"
#include "core/pool.h"
#include "shards/pack.h"
#include "shards/reader.h"
#include "core/io.h"
#include "tools/commands.h"
#include "tools/gpu_cli.h"
#include "tools/part.h"

static const char HELP[] =
    "usage: mvot retokenize SHARDS [--codebook FILE] [--tokenizer FILE] --out NEW_SHARDS\n"
    "\n"
    "Re-encodes every sample of SHARDS (a shard set's root or one split's folder, format 2\n"
    "or 1) from its stored source frames and texts with a new image tokenizer and/or text\n"
    "tokenizer (at least one), and writes format 2. Mode, image size, length policy and\n"
    "augmentation come from the old manifest; the order and shard boundaries are the\n"
    "source's (one new shard per source shard and split), which also migrates a format 1\n"
    "set. With only a new codebook the text tokens stay byte-identical. The new manifest\n"
    "records the old identities under \"retokenized_from\". Resumable like pack.\n"
    "With --part I/N, only a contiguous 1/N of the source's shards, into\n"
    "NEW_SHARDS/part-IIIII-of-NNNNN; `mvot merge` joins the parts into the set one process\n"
    "writes (docs/cluster.md).\n"
    "\n"
    "Options:\n"
    "  --codebook F        new patch codebook or VQGAN file\n"
    "  --tokenizer F       new tokenizer.json\n"
    "  --out DIR           new shard set root\n"
    "  --zstd-level L      1..19 (default 3)\n"
    "  --force             replace our own earlier pack in --out made with other inputs\n"
    "                      or options (only the files its manifest lists)\n"
    "  --gpu               encode images on the GPU (CUDA builds)\n"
    "  --part I/N|auto     this part of a split run (docs/cluster.md)\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum { O_CODEBOOK = 0x100, O_TOKENIZER, O_OUT, O_LEVEL, O_FORCE, O_GPU, O_PART };

int mvot_cmd_retokenize(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {{"codebook", required_argument, 0, O_CODEBOOK},
                                         {"tokenizer", required_argument, 0, O_TOKENIZER},
                                         {"out", required_argument, 0, O_OUT},
                                         {"zstd-level", required_argument, 0, O_LEVEL},
                                         {"force", no_argument, 0, O_FORCE},
                                         {"gpu", no_argument, 0, O_GPU},
                                         {"part", required_argument, 0, O_PART},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    const char *cb = NULL, *tk = NULL, *out = NULL;
    struct mvot_pack_opts o;
    mvot_pack_opts_default(&o);
    uint64_t v;
    int c, gpu = 0;
    struct mvot_part part = {0, 0}; /* count 0: the whole set */
    char *part_dir = NULL;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_CODEBOOK: cb = optarg; break;
        case O_TOKENIZER: tk = optarg; break;
        case O_OUT: out = optarg; break;
        case O_LEVEL:
            if (!mvot_cli_parse_u64(cli, "--zstd-level", optarg, 1, 19, &v))
                return MVOT_EXIT_USAGE;
            o.zstd_level = (int)v;
            break;
        case O_FORCE: o.force = 1; break;
        case O_GPU: gpu = 1; break;
        case O_PART:
            if (!mvot_cli_parse_part(cli, optarg, &part))
                return MVOT_EXIT_USAGE;
            break;
        default: {
            int r = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
            if (r >= 0)
                return r;
        }
        }
    }
    if (argc - optind != 1 || !out)
        return mvot_cli_usage(cli, "want SHARDS and --out NEW_SHARDS");
    if (!cb && !tk)
        return mvot_cli_usage(cli, "give --codebook and/or --tokenizer");
    o.part_index = part.index;
    o.part_count = part.count;
    int prc = mvot_cli_part_out(cli, &part, &out, &part_dir);
    if (prc >= 0)
        return prc;
    mvot_cli_ready(cli);
    struct mvot_image_encoder enc = {0};
    if (gpu) {
        /* the encoder's image side is the old set's: its size, and its codebook unless a
         * new one is given */
        char *root = NULL, *split = NULL, *mp = NULL;
        json_t *m = NULL;
        struct mvot_error e0 = {0};
        if (mvot_shards_locate(argv[optind], &root, &split, &e0) != MVOT_OK ||
            !(mp = mvot_io_join(root, "manifest.json")) ||
            mvot_json_load_file(mp, &m, &e0) != MVOT_OK) {
            free(mp);
            free(root);
            free(split);
            free(part_dir);
            return mvot_cli_fail(cli, &e0);
        }
        free(mp);
        free(split);
        uint32_t S = (uint32_t)json_integer_value(json_object_get(m, "image_size"));
        const char *f = json_string_value(json_object_get(json_object_get(m, "codebook"), "file"));
        char *old_cb = f ? mvot_io_join(root, f) : NULL;
        free(root);
        int r = mvot_cli_gpu_encoder_open(cli, cb ? cb : old_cb ? old_cb : "", S, &enc);
        free(old_cb);
        json_decref(m);
        if (r >= 0) {
            free(part_dir);
            return r;
        }
        o.encoder = &enc;
    }
    struct mvot_pool *pool = mvot_pool_create(cli->threads);
    struct mvot_error err = {0};
    json_t *sum = NULL;
    enum mvot_status st =
        mvot_pack_retokenize(argv[optind], tk, cb, out, &o, pool, &cli->hook, &sum, &err);
    mvot_cli_progress_done(cli);
    mvot_pool_free(pool);
    mvot_cli_gpu_encoder_close(&enc);
    free(part_dir);
    if (st != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    mvot_cli_warn(cli, json_string_value(json_object_get(sum, "warning")));
    mvot_cli_print_json(cli, sum);
    mvot_cli_note(cli, "retokenized %lld samples into %lld shards, %lld tokens\n",
                  (long long)json_integer_value(json_object_get(sum, "samples")),
                  (long long)json_integer_value(json_object_get(sum, "shards")),
                  (long long)json_integer_value(json_object_get(sum, "tokens")));
    json_decref(sum);
    return MVOT_EXIT_OK;
}
