/* mvot build's effective config: the defaults, section by section, overlaid with --config and
 * then the command line; gen and pack options parsed and checked; and the paths under OUT
 * that follow from it (tools/build.h). The config is written to OUT/build-config.json and
 * embedded in the shard manifest, so passing that file back reproduces a build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/io.h"
#include "core/json.h"
#include "core/outdir.h"
#include "tools/build.h"

json_int_t mvot_build_geti(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

double mvot_build_now(void)
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
    g.episodes = MVOT_BUILD_DEFAULT_EPISODES;
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

/* --config FILE over the defaults in cfg: -1 on success, else the exit code. */
static int load_user_config(struct mvot_cli *cli, const char *path, json_t *cfg,
                            struct mvot_error *err)
{
    json_t *user = NULL;
    int rc = -1;
    /* a config that cannot be read or is not an object is a configuration error */
    if (mvot_json_load_file(path, &user, err) != MVOT_OK)
        rc = mvot_cli_usage(cli, "--config: %s", err->msg);
    else if (!json_is_object(user))
        rc = mvot_cli_usage(cli,
                            "--config %s: want a JSON object with sections gen, codebook, "
                            "tokenizer, pack",
                            path);
    else if (overlay(cli, cfg, user) != 0)
        rc = MVOT_EXIT_USAGE;
    json_decref(user);
    return rc;
}

/* The command line over the sections. */
static void apply_args(const struct mvot_build_args *a, json_t *cfg)
{
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
}

/* Gen and pack options from their sections (gen normalized in cfg, pack's image_seq_length
 * following gen's image size unless set): -1 on success, else the exit code. */
static int parse_sections(struct mvot_build *b, struct mvot_error *err)
{
    json_t *gj = json_object_get(b->cfg, "gen"), *pj = json_object_get(b->cfg, "pack");
    if (mvot_gen_config_from_json(gj, &b->gc, err) != MVOT_OK ||
        mvot_gen_config_validate(&b->gc, err) != MVOT_OK)
        return mvot_cli_fail(b->cli, err);
    json_object_set_new(b->cfg, "gen", mvot_gen_config_to_json(&b->gc)); /* normalized */
    uint32_t side = b->gc.image_size / 16;
    if (json_is_null(json_object_get(pj, "image_seq_length")))
        json_object_set_new(pj, "image_seq_length", json_integer((json_int_t)side * side));
    mvot_pack_opts_default(&b->po);
    char *pjs = mvot_json_dumps(pj);
    enum mvot_status st =
        pjs ? mvot_pack_opts_from_json(pjs, "--config: pack", &b->po, err) : MVOT_ERR_NOMEM;
    free(pjs);
    if (st == MVOT_ERR_NOMEM)
        mvot_error_set(err, st, "build", "out of memory");
    if (st != MVOT_OK)
        return mvot_cli_fail(b->cli, err); /* MVOT_ERR_INVALID: exit 2 */
    const json_t *cj = json_object_get(b->cfg, "codebook"),
                 *tj = json_object_get(b->cfg, "tokenizer");
    mvot_kmeans_opts_default(&b->ko);
    b->ko.K = (uint32_t)mvot_build_geti(cj, "K");
    b->ko.max_iters = (uint32_t)mvot_build_geti(cj, "max_iters");
    b->ko.seed = (uint64_t)mvot_build_geti(cj, "seed");
    b->ko.max_patches = (uint64_t)mvot_build_geti(cj, "max_patches");
    mvot_bpe_train_opts_default(&b->bo);
    b->bo.vocab_size = (uint32_t)mvot_build_geti(tj, "vocab_size");
    b->bo.min_frequency = (uint32_t)mvot_build_geti(tj, "min_frequency");
    b->po.force = 1; /* the build owns its shard folders */
    b->po.config = b->cfg;
    return -1;
}

/* The paths under OUT; NULL members after an out-of-memory failure (checked by the caller). */
static void make_paths(struct mvot_build *b)
{
    const char *cbf =
        json_string_value(json_object_get(json_object_get(b->cfg, "codebook"), "file"));
    const char *tkf =
        json_string_value(json_object_get(json_object_get(b->cfg, "tokenizer"), "file"));
    b->ep_dir = mvot_io_join(b->out, "episodes");
    b->arch = mvot_io_join(b->ep_dir ? b->ep_dir : "", "episodes.tar.zst");
    b->sh_dir = mvot_io_join(b->out, "shards");
    b->preview = mvot_io_join(b->out, "preview.png");
    b->cfg_out = mvot_io_join(b->out, "build-config.json");
    b->cb_path = cbf ? strdup(cbf) : mvot_io_join(b->out, "codebook.safetensors");
    b->tok_path = tkf ? strdup(tkf) : mvot_io_join(b->out, "tokenizer.json");
    b->train_cb = !cbf;
    b->train_tok = !tkf;
}

int mvot_build_open(struct mvot_build *b, struct mvot_cli *cli, const char *out,
                    const struct mvot_build_args *a)
{
    struct mvot_error err = {0};
    int rc;
    memset(b, 0, sizeof *b);
    b->cli = cli;
    b->out = out;
    b->cfg = default_config();
    if (a->config_path && (rc = load_user_config(cli, a->config_path, b->cfg, &err)) >= 0)
        return rc;
    apply_args(a, b->cfg);
    if ((rc = parse_sections(b, &err)) >= 0)
        return rc;
    b->pool = mvot_pool_create(cli->threads);
    make_paths(b);
    if (!b->pool || !b->ep_dir || !b->arch || !b->sh_dir || !b->preview || !b->cfg_out ||
        !b->cb_path || !b->tok_path) {
        fprintf(stderr, "%s: out of memory\n", cli->cmd);
        return MVOT_EXIT_FAIL;
    }
    if (!b->train_cb && mvot_cli_require_one_file(cli, "--codebook", b->cb_path) >= 0)
        return MVOT_EXIT_USAGE;
    return -1;
}

void mvot_build_close(struct mvot_build *b)
{
    mvot_pool_free(b->pool);
    json_decref(b->cfg);
    free(b->ep_dir);
    free(b->arch);
    free(b->sh_dir);
    free(b->preview);
    free(b->cfg_out);
    free(b->cb_path);
    free(b->tok_path);
    memset(b, 0, sizeof *b);
}

/* OUT may hold only an earlier build's files, known by its build-config.json (written
 * first): anything else in OUT is a user's and stops the build (docs/cli.md). A Slurm
 * build adds its sbatch files (slurm/) and its parts (parts/). */
static enum mvot_status claim_out_dir(const char *out, const struct mvot_outdir_lock *lock,
                                      const char *cfg_out, struct mvot_error *err)
{
    static const char *const files[] = {"build-config.json",
                                        "preview.png",
                                        "codebook.safetensors",
                                        "tokenizer.json",
                                        "README.md",
                                        "episodes",
                                        "shards",
                                        "slurm",
                                        "parts"};
    json_t *prev = NULL;
    int ours = mvot_io_exists(cfg_out) && mvot_json_load_file(cfg_out, &prev, NULL) == MVOT_OK &&
               json_is_object(json_object_get(prev, "gen")) &&
               json_is_object(json_object_get(prev, "pack"));
    json_decref(prev);
    mvot_outdir_clean_stale(lock, files, 5); /* a killed build's temp files */
    return mvot_outdir_check_foreign(out, files, ours ? 9 : 0, "a build", err);
}

enum mvot_status mvot_build_claim(const struct mvot_build *b, struct mvot_outdir_lock **lock,
                                  struct mvot_error *err)
{
    const char *cbf = b->train_cb ? NULL : b->cb_path, *tkf = b->train_tok ? NULL : b->tok_path;
    const char *inputs[] = {tkf, cbf};
    enum mvot_status st = mvot_outdir_check_overlap(b->out, inputs, 2, err);
    if (st == MVOT_OK)
        st = mvot_outdir_lock(b->out, "mvot build", lock, err);
    if (st == MVOT_OK)
        st = claim_out_dir(b->out, *lock, b->cfg_out, err);
    return st;
}

enum mvot_status mvot_build_check_shards(const struct mvot_build *b, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *m = NULL;
    char *man = mvot_io_join(b->sh_dir, "manifest.json");
    if (!man)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "build", "out of memory");
    if (mvot_io_exists(man) && (mvot_json_load_file(man, &m, NULL) != MVOT_OK ||
                                !json_equal(json_object_get(m, "build_config"), b->cfg)))
        st = mvot_error_set(err, MVOT_ERR_INVALID, b->sh_dir,
                            "holds a shard set of another build config, which a split build "
                            "does not replace: delete it, or build into a new --out");
    json_decref(m);
    free(man);
    return st;
}
