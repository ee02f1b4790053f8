/* libmvot's public API (include/mvot/mvot.h) over the stage libraries: JSON text in and out,
 * opaque handles, caller-owned buffers released with mvot_free. This file is the whole
 * exported surface: it alone is compiled with MVOT_API symbols visible, and it never exits,
 * prints or reads the environment (library code). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/pool.h"
#include "core/status.h"
#include "gen/gen.h"
#include "include/mvot/mvot.h"
#include "shards/pack.h"
#include "shards/reader.h"
#include "shards/verify.h"
#include "tokenize/bpe.h"

struct mvot_shards {
    struct mvot_shard_set *set;
    char *manifest_json; /* made on first request, freed on close */
};

struct mvot_tokenizer {
    struct mvot_bpe *bpe;
};

const char *mvot_version(void)
{
    return MVOT_VERSION;
}

void mvot_free(void *p)
{
    free(p);
}

/* Parses optional JSON object text; NULL or empty text gives an empty object. */
static enum mvot_status parse_object(const char *text, const char *what, json_t **out,
                                     struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    *out = NULL;
    if (!text || !*text) {
        *out = json_object();
        return *out ? MVOT_OK : mvot_error_set(err, MVOT_ERR_NOMEM, what, "out of memory");
    }
    MVOT_TRY(mvot_json_load_buf(text, strlen(text), what, out, err));
    MVOT_FAIL_IF(!json_is_object(*out), err, MVOT_ERR_INVALID, what, "not a JSON object");
cleanup:
    if (st != MVOT_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return st;
}

/* Hands a JSON value to the caller as text (if they asked for it). */
static enum mvot_status give_json(const json_t *j, char **out, struct mvot_error *err)
{
    if (!out)
        return MVOT_OK;
    *out = mvot_json_dumps(j);
    return *out ? MVOT_OK : mvot_error_set(err, MVOT_ERR_NOMEM, NULL, "out of memory");
}

static struct mvot_pool *make_pool(int threads)
{
    return mvot_pool_create(threads <= 0 ? mvot_cpu_count() : threads);
}

enum mvot_status mvot_gen(const char *config_json, const char *out_dir, int threads,
                          char **summary_json, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *cj = NULL, *summary = NULL;
    struct mvot_pool *pool = NULL;
    struct mvot_gen_config cfg;
    if (summary_json)
        *summary_json = NULL;
    MVOT_FAIL_IF(!out_dir, err, MVOT_ERR_INVALID, "mvot_gen", "out_dir is NULL");
    MVOT_TRY(parse_object(config_json, "gen config", &cj, err));
    MVOT_TRY(mvot_gen_config_from_json(cj, &cfg, err));
    MVOT_TRY(mvot_gen_config_validate(&cfg, err));
    pool = make_pool(threads);
    MVOT_FAIL_IF(!pool, err, MVOT_ERR_NOMEM, "mvot_gen", "cannot start the thread pool");
    MVOT_TRY(mvot_gen_run(&cfg, out_dir, pool, NULL, &summary, err));
    MVOT_TRY(give_json(summary, summary_json, err));
cleanup:
    mvot_pool_free(pool);
    json_decref(summary);
    json_decref(cj);
    return st;
}

/* An integer option in lo..hi. */
static enum mvot_status get_uint(const json_t *v, const char *key, uint64_t lo, uint64_t hi,
                                 uint64_t *out, struct mvot_error *err)
{
    json_int_t x = json_integer_value(v);
    if (!json_is_integer(v) || x < 0 || (uint64_t)x < lo || (uint64_t)x > hi)
        return mvot_error_set(err, MVOT_ERR_INVALID, "pack options",
                              "%s: not an integer in %llu..%llu", key, (unsigned long long)lo,
                              (unsigned long long)hi);
    *out = (uint64_t)x;
    return MVOT_OK;
}

/* options_json of mvot_pack -> struct mvot_pack_opts (defaults for absent keys); the pack run
 * checks how the values fit together. */
static enum mvot_status pack_opts_from_json(const json_t *j, struct mvot_pack_opts *o,
                                            struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const char *key;
    json_t *v;
    uint64_t x = 0;
    mvot_pack_opts_default(o);
    json_object_foreach((json_t *)j, key, v)
    {
        if (strcmp(key, "image_seq_length") == 0) {
            MVOT_TRY(get_uint(v, key, 1, 1024, &x, err));
            o->image_seq_length = (uint32_t)x;
        } else if (strcmp(key, "shard_samples") == 0) {
            MVOT_TRY(get_uint(v, key, 0, UINT32_MAX, &x, err));
            o->shard_samples = (uint32_t)x;
        } else if (strcmp(key, "augment") == 0) {
            MVOT_TRY(get_uint(v, key, 0, 64, &x, err));
            o->augment = (uint32_t)x;
        } else if (strcmp(key, "seed") == 0) {
            MVOT_TRY(get_uint(v, key, 0, INT64_MAX, &x, err));
            o->seed = x;
        } else if (strcmp(key, "max_length") == 0) {
            MVOT_TRY(get_uint(v, key, 0, UINT32_MAX, &x, err));
            o->max_length = (uint32_t)x;
        } else if (strcmp(key, "zstd_level") == 0) {
            MVOT_TRY(get_uint(v, key, 1, 19, &x, err));
            o->zstd_level = (int)x;
        } else if (strcmp(key, "mode") == 0) {
            MVOT_FAIL_IF(!json_is_string(v) || mvot_pack_mode_parse(json_string_value(v), &o->mode),
                         err, MVOT_ERR_INVALID, "pack options", "mode: not a pack mode");
        } else if (strcmp(key, "length_policy") == 0) {
            const char *s = json_string_value(v);
            MVOT_FAIL_IF(!s || (strcmp(s, "drop") != 0 && strcmp(s, "truncate") != 0), err,
                         MVOT_ERR_INVALID, "pack options",
                         "length_policy: \"drop\" or \"truncate\"");
            o->length_policy = strcmp(s, "truncate") == 0 ? MVOT_LENGTH_TRUNCATE : MVOT_LENGTH_DROP;
        } else if (strcmp(key, "store_frames") == 0) {
            MVOT_FAIL_IF(!json_is_boolean(v), err, MVOT_ERR_INVALID, "pack options",
                         "store_frames: not a boolean");
            o->store_frames = json_is_true(v);
        } else {
            MVOT_FAIL_IF(1, err, MVOT_ERR_INVALID, "pack options", "unknown key \"%s\"", key);
        }
    }
cleanup:
    return st;
}

enum mvot_status mvot_pack(const char *episodes, const char *tokenizer, const char *codebook,
                           const char *out_dir, const char *options_json, int threads,
                           char **summary_json, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *oj = NULL, *summary = NULL;
    struct mvot_pool *pool = NULL;
    struct mvot_pack_opts o;
    if (summary_json)
        *summary_json = NULL;
    MVOT_FAIL_IF(!episodes || !tokenizer || !codebook || !out_dir, err, MVOT_ERR_INVALID,
                 "mvot_pack", "episodes, tokenizer, codebook and out_dir are required");
    MVOT_TRY(parse_object(options_json, "pack options", &oj, err));
    MVOT_TRY(pack_opts_from_json(oj, &o, err));
    pool = make_pool(threads);
    MVOT_FAIL_IF(!pool, err, MVOT_ERR_NOMEM, "mvot_pack", "cannot start the thread pool");
    MVOT_TRY(mvot_pack_run(episodes, tokenizer, codebook, out_dir, &o, pool, NULL, &summary, err));
    MVOT_TRY(give_json(summary, summary_json, err));
cleanup:
    mvot_pool_free(pool);
    json_decref(summary);
    json_decref(oj);
    return st;
}

enum mvot_status mvot_verify(const char *dir, int threads, int *ok, char **report_json,
                             struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *report = NULL;
    struct mvot_pool *pool = NULL;
    if (ok)
        *ok = 0;
    if (report_json)
        *report_json = NULL;
    MVOT_FAIL_IF(!dir, err, MVOT_ERR_INVALID, "mvot_verify", "dir is NULL");
    pool = make_pool(threads);
    MVOT_FAIL_IF(!pool, err, MVOT_ERR_NOMEM, "mvot_verify", "cannot start the thread pool");
    MVOT_TRY(mvot_shards_verify(dir, pool, NULL, &report, err));
    if (ok)
        *ok = json_is_true(json_object_get(report, "ok"));
    MVOT_TRY(give_json(report, report_json, err));
cleanup:
    mvot_pool_free(pool);
    json_decref(report);
    return st;
}

enum mvot_status mvot_shards_open(const char *dir, struct mvot_shards **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_shards *s = NULL;
    MVOT_FAIL_IF(!dir || !out, err, MVOT_ERR_INVALID, "mvot_shards_open", "NULL argument");
    *out = NULL;
    s = calloc(1, sizeof *s);
    MVOT_FAIL_IF(!s, err, MVOT_ERR_NOMEM, dir, "out of memory");
    MVOT_TRY(mvot_shard_set_open(dir, &s->set, err));
    *out = s;
    s = NULL;
cleanup:
    mvot_shards_close(s);
    return st;
}

void mvot_shards_close(struct mvot_shards *s)
{
    if (!s)
        return;
    mvot_shard_set_close(s->set);
    free(s->manifest_json);
    free(s);
}

uint64_t mvot_shards_count(const struct mvot_shards *s)
{
    return s ? (uint64_t)mvot_shard_set_count(s->set) : 0;
}

const char *mvot_shards_manifest(struct mvot_shards *s)
{
    if (s && !s->manifest_json)
        s->manifest_json = mvot_json_dumps(mvot_shard_set_manifest(s->set));
    return s ? s->manifest_json : NULL;
}

enum mvot_status mvot_shards_read(struct mvot_shards *s, uint64_t index, char **key,
                                  int32_t **input_ids, int32_t **labels, size_t *n_tokens,
                                  struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_sample smp = {0};
    char *k = NULL;
    int32_t *ids = NULL, *lab = NULL;
    MVOT_FAIL_IF(!s, err, MVOT_ERR_INVALID, "mvot_shards_read", "NULL handle");
    MVOT_FAIL_IF(index >= mvot_shards_count(s), err, MVOT_ERR_NOTFOUND, mvot_shard_set_dir(s->set),
                 "sample %llu of %llu", (unsigned long long)index,
                 (unsigned long long)mvot_shards_count(s));
    MVOT_TRY(mvot_shard_set_get(s->set, (size_t)index, &smp, err));
    size_t n = smp.n_tokens, bytes = (n ? n : 1) * sizeof(int32_t);
    k = strdup(smp.key);
    ids = malloc(bytes);
    lab = malloc(bytes);
    MVOT_FAIL_IF(!k || !ids || !lab, err, MVOT_ERR_NOMEM, smp.key, "out of memory");
    for (size_t i = 0; i < n; i++)
        ids[i] = (int32_t)smp.tokens[i];
    mvot_sample_labels(&smp, lab);
    if (n_tokens)
        *n_tokens = n;
    if (key) {
        *key = k;
        k = NULL;
    }
    if (input_ids) {
        *input_ids = ids;
        ids = NULL;
    }
    if (labels) {
        *labels = lab;
        lab = NULL;
    }
cleanup:
    free(k);
    free(ids);
    free(lab);
    mvot_sample_free(&smp);
    return st;
}

enum mvot_status mvot_tokenizer_load(const char *path, struct mvot_tokenizer **out,
                                     struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_tokenizer *t = NULL;
    MVOT_FAIL_IF(!path || !out, err, MVOT_ERR_INVALID, "mvot_tokenizer_load", "NULL argument");
    *out = NULL;
    t = calloc(1, sizeof *t);
    MVOT_FAIL_IF(!t, err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_TRY(mvot_bpe_load_file(path, &t->bpe, err));
    *out = t;
    t = NULL;
cleanup:
    mvot_tokenizer_free(t);
    return st;
}

void mvot_tokenizer_free(struct mvot_tokenizer *t)
{
    if (!t)
        return;
    mvot_bpe_free(t->bpe);
    free(t);
}

uint32_t mvot_tokenizer_vocab_size(const struct mvot_tokenizer *t)
{
    return t ? mvot_bpe_vocab_size(t->bpe) : 0;
}

enum mvot_status mvot_tokenizer_encode(const struct mvot_tokenizer *t, const char *text, size_t len,
                                       int add_special, int32_t **ids, size_t *n,
                                       struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_ids out = {0};
    MVOT_FAIL_IF(!t || (!text && len) || !ids || !n, err, MVOT_ERR_INVALID, "mvot_tokenizer_encode",
                 "NULL argument");
    *ids = NULL;
    *n = 0;
    MVOT_TRY(mvot_bpe_encode(t->bpe, text ? text : "", len, add_special, &out, err));
    if (!out.v) { /* no ids: still hand back a buffer the caller can free */
        out.v = malloc(sizeof(int32_t));
        MVOT_FAIL_IF(!out.v, err, MVOT_ERR_NOMEM, "mvot_tokenizer_encode", "out of memory");
    }
    *ids = out.v;
    *n = out.n;
    out.v = NULL;
cleanup:
    mvot_ids_free(&out);
    return st;
}

enum mvot_status mvot_tokenizer_decode(const struct mvot_tokenizer *t, const int32_t *ids, size_t n,
                                       int skip_special, char **text, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    MVOT_FAIL_IF(!t || (!ids && n) || !text, err, MVOT_ERR_INVALID, "mvot_tokenizer_decode",
                 "NULL argument");
    *text = NULL;
    MVOT_TRY(mvot_bpe_decode(t->bpe, ids, n, skip_special, text, err));
cleanup:
    return st;
}
