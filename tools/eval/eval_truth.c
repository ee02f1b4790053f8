/* Ground truth from a shard directory (docs/shard-format.md, docs/manifest.md): one
 * shard-set handle per worker (a handle is not thread-safe), and the tokenizer and image
 * tokenizer that the manifest names, copied inside the directory. */
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "tokenize/bpe.h"
#include "tokenize/chameleon.h"
#include "tokenize/imagetok.h"
#include "tools/eval/eval.h"

struct mvot_eval_truth {
    char *dir;
    struct mvot_shard_set **sets;
    int n_sets;
    struct mvot_bpe *tok;
    struct mvot_imagetok *itok;
    struct mvot_imagetok_info info;
    struct mvot_eval_vocab vocab;
    struct mvot_eval_decoder dec;
};

static enum mvot_status get_sample(void *ctx, const char *key, int worker, struct mvot_sample *out,
                                   struct mvot_error *err)
{
    struct mvot_eval_truth *t = ctx;
    return mvot_shard_set_find(t->sets[worker >= 0 && worker < t->n_sets ? worker : 0], key, out,
                               err);
}

static enum mvot_status decode_text(void *ctx, const int32_t *ids, size_t n, char **out,
                                    struct mvot_error *err)
{
    return mvot_bpe_decode(ctx, ids, n, 1, out, err);
}

static enum mvot_status decode_image(void *ctx, const int32_t *codes, struct mvot_image *out,
                                     struct mvot_error *err)
{
    return mvot_imagetok_decode(ctx, codes, out, err);
}

/* "dir/<section>.file" of the manifest, or NULL with an error. */
static char *manifest_file(const char *dir, const json_t *man, const char *section,
                           struct mvot_error *err)
{
    const char *f = json_string_value(json_object_get(json_object_get(man, section), "file"));
    if (!f || !*f || strchr(f, '/')) {
        mvot_error_corrupt(err, dir, -1, "manifest.json: %s.file missing or not a plain name",
                           section);
        return NULL;
    }
    char *p = mvot_io_join(dir, f);
    if (!p)
        mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory");
    return p;
}

const char *mvot_eval_truth_warning(const struct mvot_eval_truth *t)
{
    return t && t->n_sets ? mvot_shard_set_warning(t->sets[0]) : NULL;
}

enum mvot_status mvot_eval_truth_open(const char *dir, int threads, struct mvot_pool *pool,
                                      struct mvot_eval_truth **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_eval_truth *t = calloc(1, sizeof *t);
    struct mvot_layout *layout = NULL;
    char *tpath = NULL, *cpath = NULL;
    *out = NULL;
    MVOT_FAIL_IF(!t, err, MVOT_ERR_NOMEM, "eval", "out of memory");
    t->n_sets = threads > 0 ? threads : 1;
    t->sets = calloc((size_t)t->n_sets, sizeof *t->sets);
    t->dir = strdup(dir);
    MVOT_FAIL_IF(!t->sets || !t->dir, err, MVOT_ERR_NOMEM, "eval", "out of memory");
    for (int i = 0; i < t->n_sets; i++)
        MVOT_TRY(mvot_shard_set_open(dir, &t->sets[i], err));
    const json_t *man = mvot_shard_set_manifest(t->sets[0]);
    json_int_t S = json_integer_value(json_object_get(man, "image_size"));
    if (S <= 0 || S > 4096) {
        st = mvot_error_corrupt(err, dir, -1, "manifest.json: image_size missing or out of range");
        goto cleanup;
    }
    /* the copies sit at the set's root, also when dir is one split's folder */
    const char *root = mvot_shard_set_dir(t->sets[0]);
    tpath = manifest_file(root, man, "tokenizer", err);
    cpath = tpath ? manifest_file(root, man, "codebook", err) : NULL;
    if (!cpath) {
        st = err ? err->code : MVOT_ERR_CORRUPT;
        goto cleanup;
    }
    MVOT_TRY(mvot_bpe_load_file(tpath, &t->tok, err));
    layout = calloc(1, sizeof *layout);
    MVOT_FAIL_IF(!layout, err, MVOT_ERR_NOMEM, "eval", "out of memory");
    MVOT_TRY(mvot_layout_from_bpe(t->tok, layout, err));
    MVOT_TRY(mvot_eval_vocab_init(&t->vocab, layout->vocab_size, layout->code_to_id,
                                  layout->n_codes, layout->bos, layout->eos, layout->boi,
                                  layout->eoi, layout->sep, layout->image, err));
    MVOT_TRY(mvot_imagetok_open(cpath, (uint32_t)S, threads, &t->itok, err));
    mvot_imagetok_get_info(t->itok, &t->info);
    MVOT_FAIL_IF(!t->info.can_decode, err, MVOT_ERR_UNSUPPORTED, cpath, MVOT_IMAGETOK_NO_DECODER);
    t->dec.image_size = t->info.image_size;
    t->dec.grid = t->info.grid;
    t->dec.K = t->info.K;
    t->dec.D = t->info.D;
    t->dec.codebook = mvot_imagetok_codebook(t->itok);
    t->dec.decode = decode_image;
    t->dec.ctx = t->itok;
    t->dec.is_patch = t->info.kind == MVOT_IMAGETOK_PATCH;
    MVOT_TRY(mvot_eval_decoder_prepare(&t->dec, pool, err));
    *out = t;
    t = NULL;
cleanup:
    mvot_eval_truth_close(t);
    free(layout);
    free(tpath);
    free(cpath);
    return st;
}

void mvot_eval_truth_close(struct mvot_eval_truth *t)
{
    if (!t)
        return;
    for (int i = 0; t->sets && i < t->n_sets; i++)
        mvot_shard_set_close(t->sets[i]);
    free(t->sets);
    mvot_eval_decoder_free(&t->dec);
    mvot_eval_vocab_free(&t->vocab);
    mvot_imagetok_free(t->itok);
    mvot_bpe_free(t->tok);
    free(t->dir);
    free(t);
}

void mvot_eval_truth_bind(struct mvot_eval_truth *t, struct mvot_eval_opts *o)
{
    o->get = get_sample;
    o->get_ctx = t;
    o->text = decode_text;
    o->text_ctx = t->tok;
}

const struct mvot_eval_vocab *mvot_eval_truth_vocab(const struct mvot_eval_truth *t)
{
    return &t->vocab;
}

const struct mvot_eval_decoder *mvot_eval_truth_decoder(const struct mvot_eval_truth *t)
{
    return &t->dec;
}

json_t *mvot_eval_truth_info(const struct mvot_eval_truth *t)
{
    char hex[17];
    mvot_hash_hex(t->info.hash, hex);
    return json_pack("{s:s,s:s,s:s,s:b}", "truth", t->dir, "image_tokenizer",
                     t->info.kind == MVOT_IMAGETOK_PATCH ? "patch" : "vqgan",
                     "image_tokenizer_xxh3", hex, "patch_lut", t->dec.lut != NULL);
}
