/* Sample rendering (shards/inspect.h): image runs -> codes -> pixels, and a contact sheet
 * of decoded images over the stored source frames. */
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "gen/render.h"
#include "shards/inspect.h"
#include "tokenize/bpe.h"

enum mvot_status mvot_sample_decode_images(const struct mvot_sample *s,
                                           const struct mvot_layout *lay,
                                           const struct mvot_imagetok *t, struct mvot_image **imgs,
                                           size_t *n, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_imagetok_info info;
    mvot_imagetok_get_info(t, &info);
    size_t N = (size_t)info.grid * info.grid, cnt = 0;
    for (size_t k = 0; k < s->n_spans; k++)
        cnt += s->spans[k].modality == MVOT_MOD_IMAGE;
    struct mvot_image *out = calloc(cnt ? cnt : 1, sizeof *out);
    int32_t *codes = malloc(N * sizeof *codes);
    size_t made = 0;
    MVOT_FAIL_IF(!out || !codes, err, MVOT_ERR_NOMEM, s->key, "out of memory");
    for (size_t k = 0; k < s->n_spans; k++) {
        const struct mvot_span *sp = &s->spans[k];
        if (sp->modality != MVOT_MOD_IMAGE)
            continue;
        MVOT_FAIL_IF(sp->length != N || (uint64_t)sp->start + sp->length > s->n_tokens, err,
                     MVOT_ERR_MISMATCH, s->key,
                     "image run at %u has %u codes, the codebook wants %zu", sp->start, sp->length,
                     N);
        for (size_t i = 0; i < N; i++) {
            codes[i] = mvot_layout_id_to_code(lay, (int32_t)s->tokens[sp->start + i]);
            MVOT_CORRUPT_IF(codes[i] < 0, err, s->key, "token %u at %zu is not an image code",
                            s->tokens[sp->start + i], sp->start + i);
        }
        MVOT_TRY(mvot_imagetok_decode(t, codes, &out[made], err));
        made++;
    }
    *imgs = out;
    *n = made;
    out = NULL;
cleanup:
    if (out) {
        for (size_t i = 0; i < made; i++)
            mvot_image_free(&out[i]);
        free(out);
    }
    free(codes);
    return st;
}

static void paste(struct mvot_image *dst, const struct mvot_image *src, uint32_t x0, uint32_t y0,
                  uint32_t side)
{
    for (uint32_t y = 0; y < side; y++)
        for (uint32_t x = 0; x < side; x++) {
            uint32_t sx = x * src->w / side, sy = y * src->h / side;
            const uint8_t *p = src->px + ((size_t)sy * src->w + sx) * src->channels;
            uint8_t *q = dst->px + ((size_t)(y0 + y) * dst->w + x0 + x) * 3;
            q[0] = p[0];
            q[1] = p[1];
            q[2] = p[2];
        }
}

/* Sheet colours: text, the frame around target images (the images the sample supervises). */
static const struct mvot_rgb INK = {20, 20, 20}, DIM = {100, 100, 100};
static const struct mvot_rgb TARGET = {0, 150, 60};

enum mvot_status mvot_sample_contact_sheet(const struct mvot_sample *s,
                                           const struct mvot_image *decoded, size_t n,
                                           struct mvot_image *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint32_t side = n ? decoded[0].w : 128, gut = 8;
    size_t cols = n > s->n_png ? n : s->n_png;
    uint32_t rows = s->n_png ? 2 : 1;
    if (!cols)
        cols = 1;
    /* text at twice the font size when frames are large enough to carry it */
    int ts = side >= 256 ? 2 : 1, lh = MVOT_LINE_H * ts;
    uint32_t label_w = (uint32_t)(9 * 6 * ts) + gut; /* "from the " fits; row names wrap */
    uint32_t head = (uint32_t)(2 * lh) + 3 * gut, cap = (uint32_t)lh + 4;
    uint32_t W = label_w + (uint32_t)cols * (side + gut) + gut;
    uint32_t H = head + rows * (cap + side + gut) + gut;
    MVOT_TRY(mvot_image_init(out, W, H, 3));
    memset(out->px, 255, (size_t)out->w * out->h * 3);

    /* header: the sample key and what it is; a legend for the target frame */
    const json_t *m = s->meta;
    const char *task = json_string_value(json_object_get(m, "task"));
    const char *mode = json_string_value(json_object_get(m, "mode"));
    char line[256];
    snprintf(line, sizeof line, "sample %s  (%s, %s mode, step %lld)", s->key, task ? task : "?",
             mode ? mode : "?", (long long)json_integer_value(json_object_get(m, "step")));
    mvot_draw_text(out, (int)gut, (int)gut, ts, line, INK);
    int ly = (int)gut + lh;
    mvot_draw_outline(out, (int)gut, ly - ts, (int)gut + 12 * ts, ly + 8 * ts, ts + 1, TARGET);
    mvot_draw_text(out, (int)gut + 16 * ts, ly, ts,
                   "target: an image the sample supervises (the model draws it)", DIM);

    /* one caption per column: the image's index, its frame and whether it is a target */
    const json_t *frames = json_object_get(m, "images");
    size_t span_img = 0;
    int is_target[64] = {0};
    for (size_t k = 0; k < s->n_spans && span_img < 64; k++)
        if (s->spans[k].modality == MVOT_MOD_IMAGE)
            is_target[span_img++] = s->spans[k].loss != 0;
    for (size_t i = 0; i < cols; i++) {
        int x = (int)(label_w + (uint32_t)i * (side + gut));
        const json_t *fj = json_array_get(frames, i);
        int tgt = i < 64 && is_target[i];
        if (json_is_integer(fj))
            snprintf(line, sizeof line, "image %zu: frame %lld (%s)", i,
                     (long long)json_integer_value(fj), tgt ? "target" : "input");
        else
            snprintf(line, sizeof line, "image %zu (%s)", i, tgt ? "target" : "input");
        mvot_draw_text(out, x, (int)head, ts, line, tgt ? TARGET : INK);
    }

    /* rows: decoded from the sample's tokens, then the stored source frames */
    static const char *const row_names[2][2] = {{"decoded", "(tokens)"}, {"source", "(frames)"}};
    for (uint32_t r = 0; r < rows; r++) {
        int y = (int)(head + cap + r * (cap + side + gut));
        mvot_draw_text(out, (int)gut, y + (int)side / 2 - lh, ts, row_names[r][0], INK);
        mvot_draw_text(out, (int)gut, y + (int)side / 2, ts, row_names[r][1], DIM);
    }
    uint32_t y0 = head + cap, y1 = head + cap + side + gut + cap;
    for (size_t i = 0; i < n; i++)
        paste(out, &decoded[i], label_w + (uint32_t)i * (side + gut), y0, side);
    for (uint32_t j = 0; j < s->n_png; j++) {
        struct mvot_image src = {0};
        if (mvot_png_decode(s->png[j], s->png_len[j], s->key, &src, err) != MVOT_OK)
            continue; /* a bad frame leaves its cell white; verify reports it */
        paste(out, &src, label_w + j * (side + gut), y1, side);
        mvot_image_free(&src);
    }
    /* a frame around every target image, in the gutter so that no pixel is covered */
    for (size_t i = 0; i < cols && i < 64; i++) {
        if (!is_target[i])
            continue;
        int x = (int)(label_w + (uint32_t)i * (side + gut));
        for (uint32_t r = 0; r < rows; r++) {
            int y = (int)(r ? y1 : y0);
            mvot_draw_outline(out, x - 4, y - 4, x + (int)side + 4, y + (int)side + 4, 3, TARGET);
        }
    }
cleanup:
    return st;
}

enum mvot_status mvot_shard_set_tokenizers(struct mvot_shard_set *set, struct mvot_bpe **tok,
                                           struct mvot_layout *lay, struct mvot_imagetok **it,
                                           struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const json_t *m = mvot_shard_set_manifest(set);
    const char *tf = json_string_value(json_object_get(json_object_get(m, "tokenizer"), "file"));
    const char *cf = json_string_value(json_object_get(json_object_get(m, "codebook"), "file"));
    json_int_t S = json_integer_value(json_object_get(m, "image_size"));
    char *tp = tf ? mvot_io_join(mvot_shard_set_dir(set), tf) : NULL;
    char *cp = cf ? mvot_io_join(mvot_shard_set_dir(set), cf) : NULL;
    *tok = NULL;
    if (it)
        *it = NULL;
    MVOT_CORRUPT_IF(!tp || !cp, err, mvot_shard_set_dir(set),
                    "manifest.json lacks tokenizer.file or codebook.file");
    MVOT_TRY(mvot_bpe_load_file(tp, tok, err));
    MVOT_TRY(mvot_layout_from_bpe(*tok, lay, err));
    if (it)
        MVOT_TRY(mvot_imagetok_open(cp, (uint32_t)S, 1, it, err));
cleanup:
    if (st != MVOT_OK) {
        mvot_bpe_free(*tok);
        *tok = NULL;
    }
    free(tp);
    free(cp);
    return st;
}

enum mvot_status mvot_sample_view_open(struct mvot_shard_set *set, size_t i, int decode,
                                       struct mvot_sample_view *v, struct mvot_error *err)
{
    memset(v, 0, sizeof *v);
    enum mvot_status st = mvot_shard_set_get(set, i, &v->s, err);
    if (st == MVOT_OK)
        st = mvot_shard_set_tokenizers(set, &v->tok, &v->lay, &v->it, err);
    if (st == MVOT_OK && decode)
        st = mvot_sample_decode_images(&v->s, &v->lay, v->it, &v->imgs, &v->ni, err);
    return st;
}

void mvot_sample_view_free(struct mvot_sample_view *v)
{
    for (size_t j = 0; j < v->ni; j++)
        mvot_image_free(&v->imgs[j]);
    free(v->imgs);
    mvot_imagetok_free(v->it);
    mvot_bpe_free(v->tok);
    mvot_sample_free(&v->s);
    memset(v, 0, sizeof *v);
}
