/* mvot pack: episodes + tokenizer + codebook -> shard directory (shards/pack.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/pool.h"
#include "shards/pack.h"
#include "tools/commands.h"
#include "tools/gpu_cli.h"
#include "tools/part.h"

static const char HELP[] =
    "usage: mvot pack --episodes DIR|FILE --tokenizer tokenizer.json --codebook FILE --out DIR\n"
    "                 [options]\n"
    "\n"
    "Assembles training sequences from a gen episode archive and writes one set of seekable\n"
    "zstd shards per split, DIR/{split}/shard-{block}-{n}.tar.zst, plus DIR/manifest.json\n"
    "(shard format 2, docs/shard-format.md). Episodes of all tasks are interleaved in a\n"
    "seeded order (--seed) and cut into blocks of about --shard-samples samples; a shard\n"
    "never spans a block. An interrupted run resumes from its last complete shard; the\n"
    "result is byte-identical for any --threads and any --part count.\n"
    "\n"
    "Options:\n"
    "  --episodes P          gen output dir (with episodes.tar.zst) or the archive itself\n"
    "  --tokenizer F         HF tokenizer.json in the Chameleon layout\n"
    "  --codebook F          patch codebook or VQGAN safetensors, one file (from a sharded\n"
    "                        model folder: mvot codebook extract-vqgan)\n"
    "  --out DIR             shard directory to write\n"
    "  --mode M              mvot (default), trajectory, cot, direct\n"
    "  --image-seq-length N  codes per image: 1024 (default), 256, 64\n"
    "  --shard-samples N     roll shards after N samples (default 4096; 0: no limit)\n"
    "  --shard-bytes N       roll shards after N raw bytes (default 268435456; 0: no limit)\n"
    "  --augment K           VQ round trips per input image, k ~ U{0..K} per example (default 0):\n"
    "                        one fixed, seeded draw (the official trainer draws 0..8 afresh\n"
    "                        every epoch); needs a decoder; a no-op with a patch codebook,\n"
    "                        whose round trip returns the same codes\n"
    "  --seed S              seed of the augmentation draws and episode order (default 0)\n"
    "  --max-length N        maximum tokens per sample (default 0: unlimited)\n"
    "  --length-policy P     drop (default) or truncate samples over --max-length\n"
    "  --zstd-level L        1..19 (default 3)\n"
    "  --no-frames           do not store source PNG frames (retokenize needs them)\n"
    "  --force               replace our own earlier pack in --out made with other inputs\n"
    "                        or options (only the files its manifest lists)\n"
    "  --gpu                 encode images on the GPU (CUDA builds; same codes as the "
    "CPU)\n"
    "  --part I/N|auto       pack only part I (0-based) of N: a contiguous 1/N of the blocks,\n"
    "                        into DIR/part-IIIII-of-NNNNN; `mvot merge DIR/part-*` makes the\n"
    "                        set. auto: from Slurm's SLURM_ARRAY_TASK_ID/COUNT or\n"
    "                        Kubernetes' JOB_COMPLETION_INDEX with MVOT_PART_COUNT\n"
    "                        (docs/cluster.md)\n" MVOT_CLI_COMMON_HELP;

enum {
    O_EPISODES = 0x100,
    O_TOKENIZER,
    O_CODEBOOK,
    O_OUT,
    O_MODE,
    O_ISL,
    O_SHARD_SAMPLES,
    O_SHARD_BYTES,
    O_AUGMENT,
    O_SEED,
    O_MAXLEN,
    O_POLICY,
    O_LEVEL,
    O_NOFRAMES,
    O_FORCE,
    O_STOP,
    O_GPU,
    O_PART
};

int mvot_cmd_pack(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {{"episodes", required_argument, 0, O_EPISODES},
                                         {"tokenizer", required_argument, 0, O_TOKENIZER},
                                         {"codebook", required_argument, 0, O_CODEBOOK},
                                         {"out", required_argument, 0, O_OUT},
                                         {"mode", required_argument, 0, O_MODE},
                                         {"image-seq-length", required_argument, 0, O_ISL},
                                         {"shard-samples", required_argument, 0, O_SHARD_SAMPLES},
                                         {"shard-bytes", required_argument, 0, O_SHARD_BYTES},
                                         {"augment", required_argument, 0, O_AUGMENT},
                                         {"seed", required_argument, 0, O_SEED},
                                         {"max-length", required_argument, 0, O_MAXLEN},
                                         {"length-policy", required_argument, 0, O_POLICY},
                                         {"zstd-level", required_argument, 0, O_LEVEL},
                                         {"no-frames", no_argument, 0, O_NOFRAMES},
                                         {"force", no_argument, 0, O_FORCE},
                                         {"gpu", no_argument, 0, O_GPU},
                                         {"part", required_argument, 0, O_PART},
                                         /* hidden: tests stop after N new shards */
                                         {"stop-after-shards", required_argument, 0, O_STOP},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    const char *episodes = NULL, *tokenizer = NULL, *codebook = NULL, *out = NULL;
    struct mvot_pack_opts o;
    mvot_pack_opts_default(&o);
    uint64_t v;
    int c, gpu = 0;
    struct mvot_part part = {0, 0}; /* count 0: the whole set */
    char *part_dir = NULL;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_EPISODES: episodes = optarg; break;
        case O_TOKENIZER: tokenizer = optarg; break;
        case O_CODEBOOK: codebook = optarg; break;
        case O_OUT: out = optarg; break;
        case O_MODE:
            if (mvot_pack_mode_parse(optarg, &o.mode) != 0)
                return mvot_cli_usage(cli, "--mode %s: want mvot, trajectory, cot or direct",
                                      optarg);
            break;
        case O_ISL:
            if (!mvot_cli_parse_u64(cli, "--image-seq-length", optarg, 64, 1024, &v))
                return MVOT_EXIT_USAGE;
            if (v != 1024 && v != 256 && v != 64)
                return mvot_cli_usage(cli, "--image-seq-length %s: want 1024, 256 or 64", optarg);
            o.image_seq_length = (uint32_t)v;
            break;
        case O_SHARD_SAMPLES:
            if (!mvot_cli_parse_u64(cli, "--shard-samples", optarg, 0, UINT32_MAX, &v))
                return MVOT_EXIT_USAGE;
            o.shard_samples = (uint32_t)v;
            break;
        case O_SHARD_BYTES:
            if (!mvot_cli_parse_u64(cli, "--shard-bytes", optarg, 0, UINT64_MAX / 2, &v))
                return MVOT_EXIT_USAGE;
            o.shard_bytes = v;
            break;
        case O_AUGMENT:
            if (!mvot_cli_parse_u64(cli, "--augment", optarg, 0, 16, &v))
                return MVOT_EXIT_USAGE;
            o.augment = (uint32_t)v;
            break;
        case O_SEED:
            if (!mvot_cli_parse_u64(cli, "--seed", optarg, 0, INT64_MAX, &v))
                return MVOT_EXIT_USAGE;
            o.seed = v;
            break;
        case O_MAXLEN:
            if (!mvot_cli_parse_u64(cli, "--max-length", optarg, 0, UINT32_MAX, &v))
                return MVOT_EXIT_USAGE;
            o.max_length = (uint32_t)v;
            break;
        case O_POLICY:
            if (mvot_length_policy_parse(optarg, &o.length_policy) != 0)
                return mvot_cli_usage(cli, "--length-policy %s: want drop or truncate", optarg);
            break;
        case O_LEVEL:
            if (!mvot_cli_parse_u64(cli, "--zstd-level", optarg, 1, 19, &v))
                return MVOT_EXIT_USAGE;
            o.zstd_level = (int)v;
            break;
        case O_NOFRAMES: o.store_frames = 0; break;
        case O_FORCE: o.force = 1; break;
        case O_GPU: gpu = 1; break;
        case O_PART:
            if (!mvot_cli_parse_part(cli, optarg, &part))
                return MVOT_EXIT_USAGE;
            break;
        case O_STOP:
            if (!mvot_cli_parse_u64(cli, "--stop-after-shards", optarg, 1, UINT32_MAX, &v))
                return MVOT_EXIT_USAGE;
            o.stop_after_shards = (uint32_t)v;
            break;
        default: {
            int r = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
            if (r >= 0)
                return r;
        }
        }
    }
    if (optind < argc)
        return mvot_cli_usage(cli, "unexpected argument %s", argv[optind]);
    if (!episodes || !tokenizer || !codebook || !out)
        return mvot_cli_usage(cli, "--episodes, --tokenizer, --codebook and --out are required");
    int one = mvot_cli_require_one_file(cli, "--codebook", codebook);
    if (one >= 0)
        return one;
    o.part_index = part.index;
    o.part_count = part.count;
    int prc = mvot_cli_part_out(cli, &part, &out, &part_dir);
    if (prc >= 0)
        return prc;
    mvot_cli_ready(cli);
    struct mvot_image_encoder enc = {0};
    if (gpu) {
        uint32_t S = o.image_seq_length == 1024 ? 512 : o.image_seq_length == 256 ? 256 : 128;
        int r = mvot_cli_gpu_encoder_open(cli, codebook, S, &enc);
        if (r >= 0)
            return r;
        o.encoder = &enc;
    }
    struct mvot_pool *pool = mvot_pool_create(cli->threads);
    if (!pool) {
        fprintf(stderr, "%s: cannot create the thread pool\n", cli->cmd);
        free(part_dir);
        return MVOT_EXIT_FAIL;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct mvot_error err = {0};
    json_t *summary = NULL;
    enum mvot_status st =
        mvot_pack_run(episodes, tokenizer, codebook, out, &o, pool, &cli->hook, &summary, &err);
    mvot_cli_progress_done(cli);
    mvot_pool_free(pool);
    mvot_cli_gpu_encoder_close(&enc);
    if (st != MVOT_OK) {
        free(part_dir);
        return mvot_cli_fail(cli, &err);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    json_object_set_new(summary, "seconds", json_real(secs));
    mvot_cli_print_json(cli, summary);
    if (json_is_true(json_object_get(summary, "augment_identity")))
        mvot_cli_note(cli,
                      "--augment %u: with a patch codebook an encode-decode round trip gives "
                      "back the same codes, so no augmentation was done\n",
                      o.augment);
    if (json_is_true(json_object_get(summary, "interrupted")))
        mvot_cli_note(cli, "stopped after %lld shards (rerun to resume)\n",
                      (long long)json_integer_value(json_object_get(summary, "shards")));
    else
        mvot_cli_note(
            cli,
            "%lld samples (%lld dropped, %lld truncated) in %lld shards, %lld tokens, "
            "%.1f MB -> %.1f MB, %.1f s\n",
            (long long)json_integer_value(json_object_get(summary, "samples")),
            (long long)json_integer_value(json_object_get(summary, "dropped")),
            (long long)json_integer_value(json_object_get(summary, "truncated")),
            (long long)json_integer_value(json_object_get(summary, "shards")),
            (long long)json_integer_value(json_object_get(summary, "tokens")),
            (double)json_integer_value(json_object_get(summary, "raw_bytes")) / 1e6,
            (double)json_integer_value(json_object_get(summary, "compressed_bytes")) / 1e6, secs);
    if (part.count)
        mvot_cli_note(cli, "wrote part %u of %u to %s\n", part.index, part.count, out);
    json_decref(summary);
    free(part_dir);
    return MVOT_EXIT_OK;
}
