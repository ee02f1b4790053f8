/* mvot build: the main job. gen (all three tasks) -> patch codebook and BPE training (or the
 * given files) -> pack -> verify, then a summary and a preview PNG. The effective config is
 * written to OUT/build-config.json and embedded in the shard manifest; passing that file back
 * with --config reproduces the run byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codebook/codebook.h"
#include "codebook/train.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/outdir.h"
#include "core/png.h"
#include "core/pool.h"
#include "gen/episode.h"
#include "gen/gen.h"
#include "shards/card.h"
#include "shards/inspect.h"
#include "shards/pack.h"
#include "shards/reader.h"
#include "shards/verify.h"
#include "tokenize/bpe.h"
#include "tokenize/bpe_train.h"
#include "tools/commands.h"

#define BUILD_DEFAULT_EPISODES 40

static const char HELP[] =
    "usage: mvot build [--config FILE.json] [--out DIR] [--episodes N] [--seed S]\n"
    "                  [--tokenizer FILE] [--codebook FILE]\n"
    "\n"
    "The main job: generates maze, frozenlake and minibehavior episodes, trains the patch\n"
    "codebook and the BPE tokenizer on them (or uses the given files), packs training shards\n"
    "(mvot mode by default) and verifies them. Writes OUT/episodes/, OUT/codebook.safetensors,\n"
    "OUT/tokenizer.json, OUT/shards/, OUT/preview.png, OUT/README.md (a dataset card) and\n"
    "OUT/build-config.json (the effective config: pass it to --config to reproduce the run).\n"
    "An encoder-only VQGAN (no decoder.* tensors) builds the shards but no preview, with a\n"
    "note saying why.\n"
    "\n"
    "Options:\n"
    "  --config FILE   JSON with any of the sections gen, codebook, tokenizer, pack\n"
    "  --out DIR       output directory (default mvot-out)\n"
    "  --episodes N    episodes per task (default 40)\n"
    "  --seed S        master seed (gen, codebook and augmentation)\n"
    "  --tokenizer F   use this tokenizer.json instead of training one\n"
    "  --codebook F    use this codebook/VQGAN file instead of training one (one file; from\n"
    "                  a sharded model folder: mvot codebook extract-vqgan)\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum { O_CONFIG = 0x100, O_OUT, O_EPISODES, O_SEED, O_TOKENIZER, O_CODEBOOK };

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The defaults, section by section. */
static json_t *default_config(void)
{
    struct mvot_gen_config g;
    mvot_gen_config_default(&g);
    g.episodes = BUILD_DEFAULT_EPISODES;
    struct mvot_kmeans_opts k;
    mvot_kmeans_opts_default(&k);
    struct mvot_bpe_train_opts b;
    mvot_bpe_train_opts_default(&b);
    struct mvot_pack_opts p;
    mvot_pack_opts_default(&p);
    json_t *c = json_object();
    json_object_set_new(c, "gen", mvot_gen_config_to_json(&g));
    json_object_set_new(c, "codebook",
                        json_pack("{s:n,s:i,s:i,s:I,s:I}", "file", "K", k.K, "max_iters",
                                  k.max_iters, "seed", (json_int_t)k.seed, "max_patches",
                                  (json_int_t)k.max_patches));
    json_object_set_new(c, "tokenizer",
                        json_pack("{s:n,s:i,s:i}", "file", "vocab_size", b.vocab_size,
                                  "min_frequency", b.min_frequency));
    /* the library's one JSON form of the pack options; image_seq_length follows gen */
    char *pjs = mvot_pack_opts_to_json(&p);
    json_t *pj = NULL;
    if (pjs)
        mvot_json_load_buf(pjs, strlen(pjs), "pack", &pj, NULL);
    free(pjs);
    if (pj)
        json_object_set_new(pj, "image_seq_length", json_null());
    json_object_set_new(c, "pack", pj ? pj : json_object());
    return c;
}

/* Overlays user sections onto the defaults; unknown sections or keys are errors. */
static int overlay(struct mvot_cli *cli, json_t *cfg, const json_t *user)
{
    const char *sec;
    json_t *v;
    json_object_foreach((json_t *)user, sec, v)
    {
        json_t *d = json_object_get(cfg, sec);
        if (!d || !json_is_object(v)) {
            mvot_cli_usage(cli, "--config: unknown or non-object section \"%s\"", sec);
            return -1;
        }
        if (strcmp(sec, "gen") == 0) { /* gen validates its own keys */
            json_object_update(d, v);
            continue;
        }
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            if (!json_object_get(d, k)) {
                mvot_cli_usage(cli, "--config: unknown key %s.%s", sec, k);
                return -1;
            }
            json_object_set(d, k, x);
        }
    }
    return 0;
}

static json_int_t geti(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

/* Texts of the train split for BPE training: every string the shards will contain. */
static enum mvot_status collect_texts(const char *arch, struct mvot_buf *all, size_t **offs,
                                      size_t *n, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_episode_reader *rd = NULL;
    size_t cap = 0;
    *offs = NULL;
    *n = 0;
    MVOT_TRY(mvot_episode_reader_open(arch, &rd, err));
    for (;;) {
        struct mvot_episode ep;
        int done = 0;
        MVOT_TRY(mvot_episode_reader_next(rd, &ep, &done, err));
        if (done)
            break;
        if (ep.split == MVOT_SPLIT_TRAIN) {
            if (*n + 2 >= cap) {
                cap = cap ? cap * 2 : 1024;
                size_t *no = realloc(*offs, cap * sizeof *no);
                if (!no) {
                    mvot_episode_free(&ep);
                    st = mvot_error_set(err, MVOT_ERR_NOMEM, "build", "out of memory");
                    goto cleanup;
                }
                *offs = no;
            }
            (*offs)[(*n)++] = all->len;
            mvot_buf_printf(all, "%s%s\nResponse: ", ep.instruction, ep.init_text);
            for (uint32_t i = 0; i < ep.n_steps; i++)
                mvot_buf_printf(all, "%s", ep.step_text[i]);
            mvot_buf_printf(all, "%s", ep.final_text);
            (*offs)[(*n)++] = all->len;
            for (uint32_t i = 0; ep.rationale && i < ep.n_steps; i++)
                mvot_buf_printf(all, "%s ", ep.rationale[i] ? ep.rationale[i] : "");
        }
        mvot_episode_free(&ep);
    }
cleanup:
    mvot_episode_reader_close(rd);
    return st;
}

/* OUT may hold only an earlier build's files, known by its build-config.json (written
 * first): anything else in OUT is a user's and stops the build (docs/cli.md). */
static enum mvot_status claim_out_dir(const char *out, const struct mvot_outdir_lock *lock,
                                      const char *cfg_out, struct mvot_error *err)
{
    static const char *const files[] = {
        "build-config.json", "preview.png", "codebook.safetensors", "tokenizer.json", "README.md",
        "episodes",          "shards"};
    json_t *prev = NULL;
    int ours = mvot_io_exists(cfg_out) && mvot_json_load_file(cfg_out, &prev, NULL) == MVOT_OK &&
               json_is_object(json_object_get(prev, "gen")) &&
               json_is_object(json_object_get(prev, "pack"));
    json_decref(prev);
    mvot_outdir_clean_stale(lock, files, 5); /* a killed build's temp files */
    return mvot_outdir_check_foreign(out, files, ours ? 7 : 0, "a build", err);
}

/* Build step: the patch codebook trained on the episode archive, saved at cb_path. */
static enum mvot_status train_codebook(struct mvot_cli *cli, const char *arch, const json_t *cj,
                                       struct mvot_pool *pool, const char *cb_path,
                                       struct mvot_error *err)
{
    struct mvot_codebook cb;
    memset(&cb, 0, sizeof cb);
    struct mvot_kmeans_opts ko;
    mvot_kmeans_opts_default(&ko);
    ko.K = (uint32_t)geti(cj, "K");
    ko.max_iters = (uint32_t)geti(cj, "max_iters");
    ko.seed = (uint64_t)geti(cj, "seed");
    ko.max_patches = (uint64_t)geti(cj, "max_patches");
    mvot_cli_note(cli, "build: training the patch codebook (K=%u)\n", ko.K);
    enum mvot_status st = mvot_codebook_train_archive(arch, &ko, pool, &cli->hook, &cb, err);
    mvot_cli_progress_done(cli);
    if (st == MVOT_OK)
        st = mvot_codebook_save(cb_path, &cb, err);
    mvot_codebook_free(&cb);
    return st;
}

/* Build step: the BPE tokenizer trained on the episodes' texts, written to tok_path. */
static enum mvot_status train_tokenizer(struct mvot_cli *cli, const char *arch, const json_t *tj,
                                        struct mvot_pool *pool, const char *tok_path,
                                        struct mvot_error *err)
{
    struct mvot_buf texts;
    mvot_buf_init(&texts, 0);
    size_t *offs = NULL, n = 0;
    const char **tp = NULL;
    size_t *tl = NULL;
    mvot_cli_note(cli, "build: training the BPE tokenizer\n");
    enum mvot_status st = collect_texts(arch, &texts, &offs, &n, err);
    if (st == MVOT_OK) {
        tp = malloc((n ? n : 1) * sizeof *tp);
        tl = malloc((n ? n : 1) * sizeof *tl);
        for (size_t i = 0; tp && tl && i < n; i++) {
            tp[i] = (const char *)texts.data + offs[i];
            tl[i] = (i + 1 < n ? offs[i + 1] : texts.len) - offs[i];
        }
        struct mvot_bpe_train_opts bo;
        mvot_bpe_train_opts_default(&bo);
        bo.vocab_size = (uint32_t)geti(tj, "vocab_size");
        bo.min_frequency = (uint32_t)geti(tj, "min_frequency");
        st = tp && tl ? mvot_bpe_train_texts(tp, tl, n, &bo, pool, tok_path, err)
                      : mvot_error_set(err, MVOT_ERR_NOMEM, "build", "out of memory");
    }
    free(tp);
    free(tl);
    free(offs);
    mvot_buf_free(&texts);
    return st;
}

/* Build step: preview.png, the first sample's decoded images over its source frames.
 * *written is 0 when the image tokenizer has no decoder (an encoder-only VQGAN packs fine;
 * only the preview needs a decoder: say so, and leave the built set alone rather than fail
 * after all the work). */
static enum mvot_status write_preview(struct mvot_cli *cli, const char *sh_dir, const char *cb_path,
                                      const char *preview, int *written, struct mvot_error *err)
{
    struct mvot_shard_set *set = NULL;
    struct mvot_sample_view v;
    memset(&v, 0, sizeof v);
    struct mvot_image sheet = {0};
    enum mvot_status st = mvot_shard_set_open(sh_dir, &set, err);
    if (st == MVOT_OK && mvot_shard_set_count(set) == 0)
        st = mvot_error_set(err, MVOT_ERR_INVALID, sh_dir, "no samples to preview");
    if (st == MVOT_OK)
        st = mvot_sample_view_open(set, 0, 0, &v, err);
    struct mvot_imagetok_info iti = {0};
    if (st == MVOT_OK)
        mvot_imagetok_get_info(v.it, &iti);
    int preview_ok = st != MVOT_OK || iti.can_decode;
    if (!preview_ok)
        mvot_cli_note(cli, "build: no preview.png: %s: %s\n", cb_path, MVOT_IMAGETOK_NO_DECODER);
    *written = preview_ok;
    if (st == MVOT_OK && preview_ok)
        st = mvot_sample_decode_images(&v.s, &v.lay, v.it, &v.imgs, &v.ni, err);
    if (st == MVOT_OK && preview_ok)
        st = mvot_sample_contact_sheet(&v.s, v.imgs, v.ni, &sheet, err);
    if (st == MVOT_OK && preview_ok)
        st = mvot_png_write_file(preview, &sheet, NULL, err);
    mvot_image_free(&sheet);
    mvot_sample_view_free(&v);
    mvot_shard_set_close(set);
    return st;
}

/* Seconds of each build step, from t[0] (start) to t[5] (verify done). */
struct build_times {
    double t[6];
};

/* The build's --json summary and its human lines. */
static void print_build_summary(struct mvot_cli *cli, const char *out, const json_t *gen_sum,
                                json_t *pack_sum, const json_t *ver, const char *preview,
                                int have_preview, const struct build_times *bt)
{
    const double *t = bt->t;
    double total = now_s() - t[0];
    json_int_t samples = geti(pack_sum, "samples"), raw = geti(pack_sum, "raw_bytes"),
               comp = geti(pack_sum, "compressed_bytes");
    int ok = json_is_true(json_object_get(ver, "ok"));
    json_t *summary = json_object();
    json_object_set_new(summary, "out", json_string(out));
    json_object_set_new(summary, "episodes", json_integer(geti(gen_sum, "episodes")));
    json_object_set_new(summary, "frames", json_integer(geti(gen_sum, "frames")));
    json_object_set(summary, "pack", pack_sum);
    json_object_set_new(summary, "verify_ok", json_boolean(ok));
    json_object_set_new(summary, "preview", have_preview ? json_string(preview) : json_null());
    json_object_set_new(summary, "seconds",
                        json_pack("{s:f,s:f,s:f,s:f,s:f,s:f}", "gen", t[1] - t[0], "codebook",
                                  t[2] - t[1], "tokenizer", t[3] - t[2], "pack", t[4] - t[3],
                                  "verify", t[5] - t[4], "total", total));
    mvot_cli_print_json(cli, summary);
    json_decref(summary);
    mvot_cli_note(cli,
                  "build: %lld episodes, %lld frames -> %lld samples in %lld shards, %lld tokens "
                  "(%lld text, %lld image), %lld dropped\n",
                  (long long)geti(gen_sum, "episodes"), (long long)geti(gen_sum, "frames"),
                  (long long)samples, (long long)geti(pack_sum, "shards"),
                  (long long)geti(pack_sum, "tokens"), (long long)geti(pack_sum, "text_tokens"),
                  (long long)geti(pack_sum, "image_tokens"), (long long)geti(pack_sum, "dropped"));
    mvot_cli_note(cli,
                  "build: shards %.1f MB raw -> %.1f MB compressed (ratio %.2f), pack %.0f "
                  "samples/s, %.1f MB/s\n",
                  (double)raw / 1e6, (double)comp / 1e6, comp ? (double)raw / (double)comp : 0.0,
                  (double)samples / (t[4] - t[3]), (double)raw / 1e6 / (t[4] - t[3]));
    mvot_cli_note(cli,
                  "build: %.1f s (gen %.1f, codebook %.1f, tokenizer %.1f, pack %.1f, verify "
                  "%.1f); verify %s; preview %s\n",
                  total, t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3], t[5] - t[4],
                  ok ? "ok" : "FAILED", have_preview ? preview : "none (no decoder)");
}

/* What the command line sets over the config file. */
struct build_args {
    const char *config_path, *tok_file, *cb_file;
    uint64_t episodes, seed;
    int have_episodes, have_seed;
};

/* The effective config: defaults, then --config, then the command line; gen and pack options
 * parsed and checked. -1 on success, else the exit code (the error already printed). */
static int build_config(struct mvot_cli *cli, const struct build_args *a, json_t *cfg,
                        struct mvot_gen_config *gcp, struct mvot_pack_opts *pop,
                        struct mvot_error *err)
{
    int rc = -1;
    enum mvot_status st;
    json_t *user = NULL;
    const char *config_path = a->config_path;
    if (config_path) {
        /* a config that cannot be read or is not an object is a configuration error */
        if (mvot_json_load_file(config_path, &user, err) != MVOT_OK) {
            rc = mvot_cli_usage(cli, "--config: %s", err->msg);
            goto done;
        }
        if (!json_is_object(user)) {
            rc = mvot_cli_usage(cli,
                                "--config %s: want a JSON object with sections gen, "
                                "codebook, tokenizer, pack",
                                config_path);
            goto done;
        }
        if (overlay(cli, cfg, user) != 0) {
            rc = MVOT_EXIT_USAGE;
            goto done;
        }
    }
    json_t *gj = json_object_get(cfg, "gen"), *cj = json_object_get(cfg, "codebook"),
           *tj = json_object_get(cfg, "tokenizer"), *pj = json_object_get(cfg, "pack");
    if (a->have_episodes)
        json_object_set_new(gj, "episodes", json_integer((json_int_t)a->episodes));
    if (a->have_seed) {
        json_object_set_new(gj, "seed", json_integer((json_int_t)a->seed));
        json_object_set_new(cj, "seed", json_integer((json_int_t)a->seed));
        json_object_set_new(pj, "seed", json_integer((json_int_t)a->seed));
    }
    if (a->tok_file)
        json_object_set_new(tj, "file", json_string(a->tok_file));
    if (a->cb_file)
        json_object_set_new(cj, "file", json_string(a->cb_file));
    if (mvot_gen_config_from_json(gj, gcp, err) != MVOT_OK ||
        mvot_gen_config_validate(gcp, err) != MVOT_OK) {
        rc = mvot_cli_fail(cli, err);
        goto done;
    }
    json_object_set_new(cfg, "gen", mvot_gen_config_to_json(gcp)); /* normalized */
    if (json_is_null(json_object_get(pj, "image_seq_length")))
        json_object_set_new(
            pj, "image_seq_length",
            json_integer((json_int_t)(gcp->image_size / 16) * (gcp->image_size / 16)));
    mvot_pack_opts_default(pop);
    char *pjs = mvot_json_dumps(pj);
    st = pjs ? mvot_pack_opts_from_json(pjs, "--config: pack", pop, err) : MVOT_ERR_NOMEM;
    free(pjs);
    if (st != MVOT_OK) {
        if (st == MVOT_ERR_NOMEM)
            mvot_error_set(err, st, "build", "out of memory");
        rc = mvot_cli_fail(cli, err); /* MVOT_ERR_INVALID: exit 2 */
        goto done;
    }
done:
    json_decref(user);
    return rc;
}

int mvot_cmd_build(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {{"config", required_argument, 0, O_CONFIG},
                                         {"out", required_argument, 0, O_OUT},
                                         {"episodes", required_argument, 0, O_EPISODES},
                                         {"seed", required_argument, 0, O_SEED},
                                         {"tokenizer", required_argument, 0, O_TOKENIZER},
                                         {"codebook", required_argument, 0, O_CODEBOOK},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    const char *config_path = NULL, *out = "mvot-out", *tok_file = NULL, *cb_file = NULL;
    uint64_t episodes = 0, seed = 0;
    int have_episodes = 0, have_seed = 0, c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_CONFIG: config_path = optarg; break;
        case O_OUT: out = optarg; break;
        case O_EPISODES:
            if (!mvot_cli_parse_u64(cli, "--episodes", optarg, 1, 10000000, &episodes))
                return MVOT_EXIT_USAGE;
            have_episodes = 1;
            break;
        case O_SEED:
            if (!mvot_cli_parse_u64(cli, "--seed", optarg, 0, INT64_MAX, &seed))
                return MVOT_EXIT_USAGE;
            have_seed = 1;
            break;
        case O_TOKENIZER: tok_file = optarg; break;
        case O_CODEBOOK: cb_file = optarg; break;
        default: {
            int r = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
            if (r >= 0)
                return r;
        }
        }
    }
    if (optind < argc)
        return mvot_cli_usage(cli, "unexpected argument %s", argv[optind]);
    mvot_cli_ready(cli);

    int rc = MVOT_EXIT_FAIL;
    struct mvot_error err = {0};
    enum mvot_status st = MVOT_OK;
    struct mvot_pool *pool = NULL;
    json_t *cfg = default_config(), *gen_sum = NULL, *pack_sum = NULL, *ver = NULL;
    char *ep_dir = NULL, *arch = NULL, *cb_path = NULL, *tok_path = NULL, *sh_dir = NULL,
         *preview = NULL, *cfg_out = NULL;
    struct mvot_outdir_lock *lock = NULL;
    struct build_args ba = {config_path, tok_file,      cb_file,  episodes,
                            seed,        have_episodes, have_seed};
    struct mvot_gen_config gc;
    struct mvot_pack_opts po;
    if ((rc = build_config(cli, &ba, cfg, &gc, &po, &err)) >= 0)
        goto done;
    rc = MVOT_EXIT_FAIL;
    json_t *cj = json_object_get(cfg, "codebook"), *tj = json_object_get(cfg, "tokenizer");
    po.force = 1; /* the build owns OUT/shards */
    po.config = cfg;

    pool = mvot_pool_create(cli->threads);
    ep_dir = mvot_io_join(out, "episodes");
    arch = mvot_io_join(ep_dir ? ep_dir : "", "episodes.tar.zst");
    sh_dir = mvot_io_join(out, "shards");
    preview = mvot_io_join(out, "preview.png");
    cfg_out = mvot_io_join(out, "build-config.json");
    const char *cbf = json_string_value(json_object_get(cj, "file"));
    const char *tkf = json_string_value(json_object_get(tj, "file"));
    cb_path = cbf ? strdup(cbf) : mvot_io_join(out, "codebook.safetensors");
    tok_path = tkf ? strdup(tkf) : mvot_io_join(out, "tokenizer.json");
    if (!pool || !ep_dir || !arch || !sh_dir || !preview || !cfg_out || !cb_path || !tok_path) {
        fprintf(stderr, "%s: out of memory\n", cli->cmd);
        goto done;
    }
    if (cbf && mvot_cli_require_one_file(cli, "--codebook", cbf) >= 0) {
        rc = MVOT_EXIT_USAGE;
        goto done;
    }
    const char *inputs[] = {tkf, cbf};
    if (mvot_outdir_check_overlap(out, inputs, 2, &err) != MVOT_OK ||
        mvot_outdir_lock(out, "mvot build", &lock, &err) != MVOT_OK ||
        claim_out_dir(out, lock, cfg_out, &err) != MVOT_OK ||
        mvot_json_write_file(cfg_out, cfg, &err) != MVOT_OK) {
        rc = mvot_cli_fail(cli, &err);
        goto done;
    }

    struct build_times bt = {{now_s()}};
    mvot_cli_note(cli, "build: generating %llu episodes per task into %s\n",
                  (unsigned long long)gc.episodes, ep_dir);
    st = mvot_gen_run(&gc, ep_dir, pool, &cli->hook, &gen_sum, &err);
    mvot_cli_progress_done(cli);
    if (st != MVOT_OK)
        goto fail;
    bt.t[1] = now_s();

    if (!cbf && (st = train_codebook(cli, arch, cj, pool, cb_path, &err)) != MVOT_OK)
        goto fail;
    bt.t[2] = now_s();
    if (!tkf && (st = train_tokenizer(cli, arch, tj, pool, tok_path, &err)) != MVOT_OK)
        goto fail;
    bt.t[3] = now_s();
    mvot_cli_note(cli, "build: packing %s shards into %s\n", mvot_pack_mode_name(po.mode), sh_dir);
    st = mvot_pack_run(ep_dir, tok_path, cb_path, sh_dir, &po, pool, &cli->hook, &pack_sum, &err);
    mvot_cli_progress_done(cli);
    if (st != MVOT_OK)
        goto fail;
    bt.t[4] = now_s();
    st = mvot_shards_verify(sh_dir, pool, &cli->hook, &ver, &err);
    mvot_cli_progress_done(cli);
    if (st != MVOT_OK)
        goto fail;
    bt.t[5] = now_s();
    {
        /* OUT is the dataset: its card names the shards by their path from OUT */
        char *card = mvot_io_join(out, "README.md");
        st = card ? mvot_dataset_card_write(sh_dir, card, "shards/", &err)
                  : mvot_error_set(&err, MVOT_ERR_NOMEM, "build", "out of memory");
        free(card);
    }
    if (st != MVOT_OK)
        goto fail;
    json_t *pr = json_object_get(ver, "problems");
    for (size_t i = 0; i < json_array_size(pr); i++)
        fprintf(stderr, "%s: verify: %s\n", cli->cmd, json_string_value(json_array_get(pr, i)));

    int have_preview = 1;
    if ((st = write_preview(cli, sh_dir, cb_path, preview, &have_preview, &err)) != MVOT_OK)
        goto fail;

    print_build_summary(cli, out, gen_sum, pack_sum, ver, preview, have_preview, &bt);
    rc = json_is_true(json_object_get(ver, "ok")) ? MVOT_EXIT_OK : MVOT_EXIT_FAIL;
    goto done;
fail:
    mvot_cli_progress_done(cli);
    rc = mvot_cli_fail(cli, &err);
done:
    mvot_outdir_unlock(lock);
    mvot_pool_free(pool);
    json_decref(cfg);
    json_decref(gen_sum);
    json_decref(pack_sum);
    json_decref(ver);
    free(ep_dir);
    free(arch);
    free(cb_path);
    free(tok_path);
    free(sh_dir);
    free(preview);
    free(cfg_out);
    return rc;
}
