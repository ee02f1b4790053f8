/* `mvot codebook`: train, import, stats and distances over codebook files
 * (docs/codebook-format.md). Argument parsing and printing only; the work is in codebook/. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/codebook.h"
#include "codebook/distances.h"
#include "codebook/import.h"
#include "codebook/patchset.h"
#include "codebook/patchstats.h"
#include "codebook/stats.h"
#include "codebook/train.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/pool.h"
#include "tokenize/vqgan.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot codebook SUBCOMMAND [options]\n"
    "\n"
    "Train, import and inspect VQ codebooks (docs/codebook-format.md).\n"
    "\n"
    "Subcommands:\n"
    "  train --episodes DIR/episodes.tar.zst --out CB.safetensors [--k K] [--seed S]\n"
    "        [--iters N] [--max-patches N]\n"
    "      k-means over the 16x16 patches of every frame (distinct patches weighted by count;\n"
    "      exact when there are at most K distinct patches). Defaults: K 8192, seed 0,\n"
    "      20 iterations, 65536 distinct patches before subsampling. Byte-identical output\n"
    "      for any --threads. --out replaces only an earlier codebook file.\n"
    "  train --patches F.mvps [F.mvps ...] --out CB.safetensors [same options]\n"
    "      The same training over patch statistics files (collect): the counts are summed,\n"
    "      so the codebook is byte-identical to training on the archive(s) they came from.\n"
    "      Files from `gen --part` must be parts 0..N-1 of one run, each exactly once (a\n"
    "      missing, duplicated or foreign part is exit 2, naming it); any order.\n"
    "  collect --episodes DIR|ARCHIVE --out F.mvps\n"
    "      Distinct 16x16 patches of every frame with their counts, and where they came\n"
    "      from (archive hash; part index, count and plan hash for a gen part folder), as\n"
    "      one file (docs/patch-stats-format.md). DIR is a gen output or a gen part folder.\n"
    "      --out is replaced only if it is already a patch statistics file, and may not\n"
    "      lie in the gen folder it reads (keep a run's .mvps files in a folder of their own).\n"
    "  import --vqgan CKPT --out CB.safetensors\n"
    "      Extract quantize.embedding.weight (with or without model.vqmodel.) as a vqgan\n"
    "      codebook. CKPT is a .safetensors file, a model.safetensors.index.json or a model\n"
    "      folder holding either (docs/codebook-format.md, \"Checkpoint layouts\").\n"
    "  extract-vqgan --vqgan CKPT --out VQ.safetensors\n"
    "      Copy a checkpoint's VQGAN tensors (model.vqmodel.*, or the bare encoder./decoder./\n"
    "      quantize./quant_conv./post_quant_conv. names) into one file, names and dtypes\n"
    "      unchanged: what pack and build need from a sharded model folder.\n"
    "  stats --codebook CB --episodes DIR/episodes.tar.zst [--atlas ATLAS.png] [--histogram]\n"
    "      Usage histogram, perplexity, dead codes and reconstruction PSNR over the frames;\n"
    "      --atlas writes every code patch as one PNG with its index (--episodes is optional\n"
    "      with --atlas; with it the codes are sorted by use and unused ones shaded).\n"
    "  distances --codebook CB --out D.npy|D.safetensors\n"
    "      The K x K pairwise Euclidean distance matrix (float32), as used by MVoT's token\n"
    "      discrepancy loss.\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum {
    O_EPISODES = 1,
    O_OUT,
    O_K,
    O_SEED,
    O_ITERS,
    O_MAXP,
    O_VQGAN,
    O_CODEBOOK,
    O_ATLAS,
    O_HIST,
    O_PATCHES
};

struct args {
    const char *episodes, *out, *vqgan, *codebook, *atlas;
    const char **patches; /* --patches files (argv strings), n_patches of them */
    size_t n_patches;
    int histogram;
    struct mvot_kmeans_opts ko;
};

static int print_json(json_t *j)
{
    char *d = j ? mvot_json_dumps(j) : NULL;
    if (d)
        puts(d);
    free(d);
    json_decref(j);
    return MVOT_EXIT_OK;
}

/* A codebook --out may replace only an earlier codebook file: a command never overwrites a
 * file it did not make (docs/cli.md). Checked before the long work. Returns -1 when fine. */
static int check_codebook_out(struct mvot_cli *cli, const char *out)
{
    struct mvot_codebook old;
    if (!mvot_io_exists(out))
        return -1;
    enum mvot_status st = mvot_codebook_load(out, &old, NULL);
    mvot_codebook_free(&old);
    if (st == MVOT_OK)
        return -1;
    return mvot_cli_usage(cli, "%s exists and is not a codebook file; choose a new --out", out);
}

static int do_train(struct mvot_cli *cli, struct args *a)
{
    if (!a->episodes == !a->n_patches || !a->out)
        return mvot_cli_usage(cli, "train needs --out and one of --episodes or --patches");
    int rc = check_codebook_out(cli, a->out);
    if (rc >= 0)
        return rc;
    struct mvot_error err = {0};
    struct mvot_codebook cb;
    struct mvot_pool *pool = mvot_pool_create(cli->threads);
    if (!pool)
        return mvot_cli_usage(cli, "cannot start %d threads", cli->threads);
    enum mvot_status st =
        a->episodes ? mvot_codebook_train_archive(a->episodes, &a->ko, pool, &cli->hook, &cb, &err)
                    : mvot_codebook_train_from_stats(a->patches, a->n_patches, &a->ko, pool,
                                                     &cli->hook, &cb, &err);
    mvot_cli_progress_done(cli);
    if (st == MVOT_OK)
        st = mvot_codebook_save(a->out, &cb, &err);
    mvot_pool_free(pool);
    if (st != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    char hex[17];
    mvot_hash_hex(cb.file_hash, hex);
    const json_t *s = cb.stats;
    /* the training PSNR when the stats carry one: null means an exact fit */
    const json_t *pj = json_object_get(s, "psnr_db");
    char psnr[48] = "";
    if (json_is_number(pj))
        snprintf(psnr, sizeof psnr, "; PSNR %.2f dB", json_number_value(pj));
    else if (json_is_null(pj))
        snprintf(psnr, sizeof psnr, "; PSNR inf (exact)");
    mvot_cli_note(cli,
                  "%s: K=%u (%s) from %lld distinct of %lld patches in %lld frames; dead codes "
                  "%lld; iterations %lld%s%s\n",
                  a->out, cb.K, json_string_value(json_object_get(s, "algorithm")),
                  (long long)json_integer_value(json_object_get(s, "distinct")),
                  (long long)json_integer_value(json_object_get(s, "patches")),
                  (long long)json_integer_value(json_object_get(s, "frames")),
                  (long long)json_integer_value(json_object_get(s, "dead_codes")),
                  (long long)json_integer_value(json_object_get(s, "iterations")),
                  json_is_true(json_object_get(s, "converged")) ? " (converged)" : "", psnr);
    if (cli->json) {
        json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:O}", "codebook", a->out, "file_xxh3", hex,
                              "K", (int)cb.K, "D", (int)cb.D, "stats", cb.stats);
        print_json(j);
    }
    mvot_codebook_free(&cb);
    return MVOT_EXIT_OK;
}

static int do_collect(struct mvot_cli *cli, struct args *a)
{
    if (!a->episodes || !a->out)
        return mvot_cli_usage(cli, "collect needs --episodes and --out");
    struct mvot_error err = {0};
    struct mvot_patchstats_info in;
    struct mvot_pool *pool = mvot_pool_create(cli->threads);
    if (!pool)
        return mvot_cli_usage(cli, "cannot start %d threads", cli->threads);
    enum mvot_status st = mvot_patchstats_collect(a->episodes, a->out, a->ko.patch,
                                                  a->ko.max_distinct, pool, &cli->hook, &in, &err);
    mvot_cli_progress_done(cli);
    mvot_pool_free(pool);
    if (st != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    char part[48] = "", ah[17], plan[17];
    mvot_hash_hex(in.archive_xxh3, ah);
    mvot_hash_hex(in.plan_xxh3, plan);
    if (in.part_count)
        snprintf(part, sizeof part, " (part %u/%u)", in.part_index, in.part_count);
    mvot_cli_note(cli, "%s: %llu distinct of %llu patches in %llu frames%s\n", a->out,
                  (unsigned long long)in.distinct, (unsigned long long)in.patches,
                  (unsigned long long)in.frames, part);
    if (cli->json) {
        json_t *j =
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "out", a->out, "episodes", a->episodes,
                      "frames", (json_int_t)in.frames, "patches", (json_int_t)in.patches,
                      "distinct", (json_int_t)in.distinct, "archive_xxh3", ah);
        if (j && in.part_count)
            json_object_set_new(j, "part",
                                json_pack("{s:i, s:i, s:s}", "index", (int)in.part_index, "count",
                                          (int)in.part_count, "plan_xxh3", plan));
        print_json(j);
    }
    return MVOT_EXIT_OK;
}

static int do_import(struct mvot_cli *cli, struct args *a)
{
    if (!a->vqgan || !a->out)
        return mvot_cli_usage(cli, "import needs --vqgan and --out");
    struct mvot_error err = {0};
    struct mvot_codebook cb;
    enum mvot_status st = mvot_codebook_import_vqgan(a->vqgan, &cb, &err);
    if (st == MVOT_OK)
        st = mvot_codebook_save(a->out, &cb, &err);
    if (st != MVOT_OK) {
        mvot_codebook_free(&cb);
        return mvot_cli_fail(cli, &err);
    }
    char hex[17];
    mvot_hash_hex(cb.file_hash, hex);
    mvot_cli_note(cli, "%s: vqgan codebook K=%u D=%u from %s\n", a->out, cb.K, cb.D, a->vqgan);
    if (cli->json)
        print_json(json_pack("{s:s, s:s, s:s, s:i, s:i}", "codebook", a->out, "file_xxh3", hex,
                             "kind", "vqgan", "K", (int)cb.K, "D", (int)cb.D));
    mvot_codebook_free(&cb);
    return MVOT_EXIT_OK;
}

static int do_extract(struct mvot_cli *cli, struct args *a)
{
    if (!a->vqgan || !a->out)
        return mvot_cli_usage(cli, "extract-vqgan needs --vqgan and --out");
    if (mvot_io_exists(a->out))
        return mvot_cli_usage(cli, "%s exists; choose a new --out", a->out);
    struct mvot_error err = {0};
    size_t n = 0;
    if (mvot_vqgan_extract(a->vqgan, a->out, &n, &err) != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    mvot_cli_note(cli, "%s: %zu VQGAN tensors from %s\n", a->out, n, a->vqgan);
    if (cli->json)
        print_json(json_pack("{s:s, s:s, s:I}", "out", a->out, "vqgan", a->vqgan, "tensors",
                             (json_int_t)n));
    return MVOT_EXIT_OK;
}

static int do_stats(struct mvot_cli *cli, struct args *a)
{
    if (!a->codebook || (!a->episodes && !a->atlas))
        return mvot_cli_usage(cli, "stats needs --codebook and --episodes (or --atlas)");
    struct mvot_error err = {0};
    struct mvot_codebook cb;
    struct mvot_patchset ps;
    struct mvot_codebook_usage u;
    struct mvot_image atlas = {0};
    struct mvot_pool *pool = NULL;
    json_t *out = NULL;
    int rc = MVOT_EXIT_OK;
    memset(&ps, 0, sizeof ps);
    memset(&u, 0, sizeof u);
    if (mvot_codebook_load(a->codebook, &cb, &err) != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    out = json_pack("{s:s, s:s, s:i, s:i}", "codebook", a->codebook, "kind",
                    mvot_codebook_kind_name(cb.kind), "K", (int)cb.K, "D", (int)cb.D);
    if (a->episodes) {
        pool = mvot_pool_create(cli->threads);
        if (cb.kind != MVOT_CB_PATCH) {
            rc = mvot_cli_usage(cli, "%s: usage over frames needs a patch codebook", a->codebook);
            goto done;
        }
        enum mvot_status st =
            mvot_patchset_from_archive(a->episodes, cb.patch, 0, pool, &cli->hook, &ps, &err);
        mvot_cli_progress_done(cli);
        if (st == MVOT_OK)
            st = mvot_codebook_usage(&cb, &ps, pool, &u, &err);
        if (st != MVOT_OK) {
            rc = mvot_cli_fail(cli, &err);
            goto done;
        }
        json_object_set_new(out, "usage", mvot_codebook_usage_json(&u, a->histogram));
        mvot_cli_note(cli,
                      "%s: %llu frames, %llu patches; used codes %u of %u (dead %u); perplexity "
                      "%.1f; reconstruction PSNR %.2f dB\n",
                      a->episodes, (unsigned long long)u.frames, (unsigned long long)u.total,
                      u.K - u.dead, u.K, u.dead, u.perplexity, u.psnr_db);
    }
    /* after the usage, so that the atlas can be sorted and shaded by it */
    if (a->atlas) {
        if (mvot_codebook_atlas(&cb, a->episodes ? &u : NULL, &atlas, &err) != MVOT_OK ||
            mvot_png_write_file(a->atlas, &atlas, NULL, &err) != MVOT_OK) {
            rc = mvot_cli_fail(cli, &err);
            goto done;
        }
        json_object_set_new(out, "atlas", json_string(a->atlas));
        mvot_cli_note(cli, "%s: atlas of %u codes (%ux%u px)%s\n", a->atlas, cb.K, atlas.w, atlas.h,
                      a->episodes ? ", most used first" : "");
    }
    if (cli->json)
        print_json(json_incref(out));
done:
    json_decref(out);
    mvot_image_free(&atlas);
    mvot_codebook_usage_free(&u);
    mvot_patchset_free(&ps);
    mvot_codebook_free(&cb);
    mvot_pool_free(pool);
    return rc;
}

static int do_distances(struct mvot_cli *cli, struct args *a)
{
    if (!a->codebook || !a->out)
        return mvot_cli_usage(cli, "distances needs --codebook and --out");
    struct mvot_error err = {0};
    struct mvot_codebook cb;
    float *d = NULL;
    if (mvot_codebook_load(a->codebook, &cb, &err) != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    struct mvot_pool *pool = mvot_pool_create(cli->threads);
    enum mvot_status st = mvot_codebook_distances(&cb, pool, &d, &err);
    if (st == MVOT_OK)
        st = mvot_codebook_distances_write(a->out, d, cb.K, cb.file_hash, &err);
    mvot_pool_free(pool);
    int rc = st == MVOT_OK ? MVOT_EXIT_OK : mvot_cli_fail(cli, &err);
    if (st == MVOT_OK) {
        double mx = 0;
        for (size_t i = 0; i < (size_t)cb.K * cb.K; i++)
            mx = d[i] > mx ? d[i] : mx;
        mvot_cli_note(cli, "%s: %u x %u distances (max %.3f)\n", a->out, cb.K, cb.K, mx);
        if (cli->json)
            print_json(json_pack("{s:s, s:s, s:i, s:f}", "codebook", a->codebook, "out", a->out,
                                 "K", (int)cb.K, "max", mx));
    }
    free(d);
    mvot_codebook_free(&cb);
    return rc;
}

/* Parses the subcommand and its options into *a and runs it. */
static int codebook_main(int argc, char **argv, struct mvot_cli *cli, struct args *a)
{
    static const struct option opts[] = {{"episodes", required_argument, 0, O_EPISODES},
                                         {"out", required_argument, 0, O_OUT},
                                         {"k", required_argument, 0, O_K},
                                         {"seed", required_argument, 0, O_SEED},
                                         {"iters", required_argument, 0, O_ITERS},
                                         {"max-patches", required_argument, 0, O_MAXP},
                                         {"vqgan", required_argument, 0, O_VQGAN},
                                         {"codebook", required_argument, 0, O_CODEBOOK},
                                         {"atlas", required_argument, 0, O_ATLAS},
                                         {"histogram", no_argument, 0, O_HIST},
                                         {"patches", required_argument, 0, O_PATCHES},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (!sub || sub[0] == '-') {
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                fputs(HELP, stdout);
                return MVOT_EXIT_OK;
            }
        return mvot_cli_usage(
            cli,
            "expected a subcommand: train, collect, import, extract-vqgan, stats or distances");
    }
    uint64_t v;
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_EPISODES: a->episodes = optarg; break;
        case O_OUT: a->out = optarg; break;
        case O_VQGAN: a->vqgan = optarg; break;
        case O_CODEBOOK: a->codebook = optarg; break;
        case O_ATLAS: a->atlas = optarg; break;
        case O_HIST: a->histogram = 1; break;
        case O_PATCHES: a->patches[a->n_patches++] = optarg; break;
        case O_K:
            if (!mvot_cli_parse_u64(cli, "--k", optarg, 1, 1u << 20, &v))
                return MVOT_EXIT_USAGE;
            a->ko.K = (uint32_t)v;
            break;
        case O_SEED:
            if (!mvot_cli_parse_u64(cli, "--seed", optarg, 0, UINT64_MAX, &a->ko.seed))
                return MVOT_EXIT_USAGE;
            break;
        case O_ITERS:
            if (!mvot_cli_parse_u64(cli, "--iters", optarg, 0, 100000, &v))
                return MVOT_EXIT_USAGE;
            a->ko.max_iters = (uint32_t)v;
            break;
        case O_MAXP:
            if (!mvot_cli_parse_u64(cli, "--max-patches", optarg, 1, (uint64_t)1 << 32,
                                    &a->ko.max_patches))
                return MVOT_EXIT_USAGE;
            break;
        default: {
            int rc = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv + 1), HELP);
            if (rc >= 0)
                return rc;
        }
        }
    }
    /* `--patches A B C`: the files after the first are left as operands */
    for (int i = optind + 1; i < argc; i++) {
        if (!a->n_patches)
            return mvot_cli_usage(cli, "unexpected argument '%s'", argv[i]);
        a->patches[a->n_patches++] = argv[i];
    }
    mvot_cli_ready(cli);
    if (strcmp(sub, "train") == 0)
        return do_train(cli, a);
    if (strcmp(sub, "collect") == 0)
        return do_collect(cli, a);
    if (strcmp(sub, "import") == 0)
        return do_import(cli, a);
    if (strcmp(sub, "extract-vqgan") == 0)
        return do_extract(cli, a);
    if (strcmp(sub, "stats") == 0)
        return do_stats(cli, a);
    if (strcmp(sub, "distances") == 0)
        return do_distances(cli, a);
    return mvot_cli_usage(
        cli, "unknown subcommand '%s' (train, collect, import, extract-vqgan, stats or distances)",
        sub);
}

int mvot_cmd_codebook(int argc, char **argv, struct mvot_cli *cli)
{
    struct args a;
    memset(&a, 0, sizeof a);
    mvot_kmeans_opts_default(&a.ko);
    /* every --patches file is an argv string, so there are fewer than argc of them */
    a.patches = calloc((size_t)argc, sizeof *a.patches);
    if (!a.patches)
        return mvot_cli_usage(cli, "out of memory");
    int rc = codebook_main(argc, argv, cli, &a);
    free(a.patches);
    return rc;
}
