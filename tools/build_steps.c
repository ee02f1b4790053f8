/* The steps of mvot build (tools/build.h): gen, patch codebook and BPE training, pack,
 * verify, then the dataset card and the preview. The one-process build runs them in a row;
 * each Slurm stage runs some of them on the same config, so both write the same bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/codebook.h"
#include "codebook/patchstats.h"
#include "core/io.h"
#include "core/png.h"
#include "gen/episode.h"
#include "shards/card.h"
#include "shards/inspect.h"
#include "shards/reader.h"
#include "shards/verify.h"
#include "tokenize/bpe.h"
#include "tools/build.h"

enum mvot_status mvot_build_gen(struct mvot_build *b, const struct mvot_part *part, const char *dir,
                                json_t **summary, struct mvot_error *err)
{
    struct mvot_gen_part gp = {part ? part->index : 0, part ? part->count : 0};
    if (part)
        mvot_cli_note(b->cli, "build: generating part %u of %u into %s\n", part->index, part->count,
                      dir);
    else
        mvot_cli_note(b->cli, "build: generating %llu episodes per task into %s\n",
                      (unsigned long long)b->gc.episodes, dir);
    enum mvot_status st =
        mvot_gen_run_part(&b->gc, part ? &gp : NULL, dir, b->pool, &b->cli->hook, summary, err);
    mvot_cli_progress_done(b->cli);
    return st;
}

enum mvot_status mvot_build_codebook(struct mvot_build *b, const char *const *stats, size_t n,
                                     struct mvot_error *err)
{
    if (!b->train_cb)
        return MVOT_OK;
    struct mvot_codebook cb;
    memset(&cb, 0, sizeof cb);
    mvot_cli_note(b->cli, "build: training the patch codebook (K=%u)\n", b->ko.K);
    enum mvot_status st =
        stats ? mvot_codebook_train_from_stats(stats, n, &b->ko, b->pool, &b->cli->hook, &cb, err)
              : mvot_codebook_train_archive(b->arch, &b->ko, b->pool, &b->cli->hook, &cb, err);
    mvot_cli_progress_done(b->cli);
    if (st == MVOT_OK)
        st = mvot_codebook_save(b->cb_path, &cb, err);
    mvot_codebook_free(&cb);
    return st;
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

enum mvot_status mvot_build_tokenizer(struct mvot_build *b, struct mvot_error *err)
{
    if (!b->train_tok)
        return MVOT_OK;
    struct mvot_buf texts;
    mvot_buf_init(&texts, 0);
    size_t *offs = NULL, n = 0;
    const char **tp = NULL;
    size_t *tl = NULL;
    mvot_cli_note(b->cli, "build: training the BPE tokenizer\n");
    enum mvot_status st = collect_texts(b->arch, &texts, &offs, &n, err);
    if (st == MVOT_OK) {
        tp = malloc((n ? n : 1) * sizeof *tp);
        tl = malloc((n ? n : 1) * sizeof *tl);
        for (size_t i = 0; tp && tl && i < n; i++) {
            tp[i] = (const char *)texts.data + offs[i];
            tl[i] = (i + 1 < n ? offs[i + 1] : texts.len) - offs[i];
        }
        st = tp && tl ? mvot_bpe_train_texts(tp, tl, n, &b->bo, b->pool, b->tok_path, err)
                      : mvot_error_set(err, MVOT_ERR_NOMEM, "build", "out of memory");
    }
    free(tp);
    free(tl);
    free(offs);
    mvot_buf_free(&texts);
    return st;
}

enum mvot_status mvot_build_pack(struct mvot_build *b, const struct mvot_part *part,
                                 const char *dir, json_t **summary, struct mvot_error *err)
{
    struct mvot_pack_opts po = b->po;
    if (part) {
        po.part_index = part->index;
        po.part_count = part->count;
        mvot_cli_note(b->cli, "build: packing part %u of %u into %s\n", part->index, part->count,
                      dir);
    } else {
        mvot_cli_note(b->cli, "build: packing %s shards into %s\n", mvot_pack_mode_name(po.mode),
                      dir);
    }
    enum mvot_status st = mvot_pack_run(b->ep_dir, b->tok_path, b->cb_path, dir, &po, b->pool,
                                        &b->cli->hook, summary, err);
    mvot_cli_progress_done(b->cli);
    return st;
}

enum mvot_status mvot_build_verify(struct mvot_build *b, json_t **ver, struct mvot_error *err)
{
    enum mvot_status st = mvot_shards_verify(b->sh_dir, b->pool, &b->cli->hook, ver, err);
    mvot_cli_progress_done(b->cli);
    return st;
}

/* preview.png, the first sample's decoded images over its source frames. *written is 0 when
 * the image tokenizer has no decoder (an encoder-only VQGAN packs fine; only the preview
 * needs a decoder: say so, and leave the built set alone rather than fail after all the
 * work). */
static enum mvot_status write_preview(struct mvot_build *b, int *written, struct mvot_error *err)
{
    struct mvot_shard_set *set = NULL;
    struct mvot_sample_view v;
    memset(&v, 0, sizeof v);
    struct mvot_image sheet = {0};
    enum mvot_status st = mvot_shard_set_open(b->sh_dir, &set, err);
    if (st == MVOT_OK && mvot_shard_set_count(set) == 0)
        st = mvot_error_set(err, MVOT_ERR_INVALID, b->sh_dir, "no samples to preview");
    if (st == MVOT_OK)
        st = mvot_sample_view_open(set, 0, 0, &v, err);
    struct mvot_imagetok_info iti = {0};
    if (st == MVOT_OK)
        mvot_imagetok_get_info(v.it, &iti);
    int preview_ok = st != MVOT_OK || iti.can_decode;
    if (!preview_ok)
        mvot_cli_note(b->cli, "build: no preview.png: %s: %s\n", b->cb_path,
                      MVOT_IMAGETOK_NO_DECODER);
    *written = preview_ok;
    if (st == MVOT_OK && preview_ok)
        st = mvot_sample_decode_images(&v.s, &v.lay, v.it, &v.imgs, &v.ni, err);
    if (st == MVOT_OK && preview_ok)
        st = mvot_sample_contact_sheet(&v.s, v.imgs, v.ni, &sheet, err);
    if (st == MVOT_OK && preview_ok)
        st = mvot_png_write_file(b->preview, &sheet, NULL, err);
    mvot_image_free(&sheet);
    mvot_sample_view_free(&v);
    mvot_shard_set_close(set);
    return st;
}

enum mvot_status mvot_build_publish(struct mvot_build *b, const json_t *ver, int *have_preview,
                                    struct mvot_error *err)
{
    /* OUT is the dataset: its card names the shards by their path from OUT */
    char *card = mvot_io_join(b->out, "README.md");
    enum mvot_status st = card ? mvot_dataset_card_write(b->sh_dir, card, "shards/", err)
                               : mvot_error_set(err, MVOT_ERR_NOMEM, "build", "out of memory");
    free(card);
    if (st != MVOT_OK)
        return st;
    json_t *pr = json_object_get(ver, "problems");
    for (size_t i = 0; i < json_array_size(pr); i++)
        fprintf(stderr, "%s: verify: %s\n", b->cli->cmd, json_string_value(json_array_get(pr, i)));
    *have_preview = 1;
    return write_preview(b, have_preview, err);
}

json_t *mvot_build_summary(const struct mvot_build *b, const json_t *gen_sum,
                           const json_t *pack_sum, const json_t *ver, int have_preview)
{
    json_t *summary = json_object();
    json_object_set_new(summary, "out", json_string(b->out));
    json_object_set_new(summary, "episodes", json_integer(mvot_build_geti(gen_sum, "episodes")));
    json_object_set_new(summary, "frames", json_integer(mvot_build_geti(gen_sum, "frames")));
    json_object_set(summary, "pack", (json_t *)pack_sum);
    json_object_set_new(summary, "verify_ok",
                        json_boolean(json_is_true(json_object_get(ver, "ok"))));
    json_object_set_new(summary, "preview", have_preview ? json_string(b->preview) : json_null());
    mvot_cli_note(b->cli,
                  "build: %lld episodes, %lld frames -> %lld samples in %lld shards, %lld tokens "
                  "(%lld text, %lld image), %lld dropped\n",
                  (long long)mvot_build_geti(gen_sum, "episodes"),
                  (long long)mvot_build_geti(gen_sum, "frames"),
                  (long long)mvot_build_geti(pack_sum, "samples"),
                  (long long)mvot_build_geti(pack_sum, "shards"),
                  (long long)mvot_build_geti(pack_sum, "tokens"),
                  (long long)mvot_build_geti(pack_sum, "text_tokens"),
                  (long long)mvot_build_geti(pack_sum, "image_tokens"),
                  (long long)mvot_build_geti(pack_sum, "dropped"));
    return summary;
}
