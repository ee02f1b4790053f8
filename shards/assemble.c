/* Example assembly: episode -> examples (texts with "<image>" markers + frame indices) ->
 * Chameleon-layout token sequences with a loss mask.
 *
 * The mvot mode is the official MVoT loader (docs/tasks.md, "Prompts"):
 *   prefix   = instruction + init_text + "<image>" + "\nResponse: "
 *   vis k    : history = k == 0 ? a1 : a1..ak + "<image>" + a(k+1); label "<image>" (I(k+1));
 *              images [I0] or [I0, Ik] then the label I(k+1)
 *   reason k : history = k == 0 ? "" : a1..ak + "<image>"; label strip(a(k+1)) or final text
 * Text segments between images are encoded separately, which is what HF does: added tokens
 * (<racm3:break>, <image>, <eoss>, <reserved08706>) split the string before the model runs.
 * Tasks with captions (MINIBEHAVIOR) write each frame's caption and a space right after its
 * "<image>" in every mode, input and label alike, as the official visualizer lays out
 * "<image>Carrying objects: None. "; after a label image the caption is supervised with it. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "shards/assemble.h"

const char *mvot_example_kind_name(enum mvot_example_kind k)
{
    switch (k) {
    case MVOT_EX_VISUALIZATION: return "visualization";
    case MVOT_EX_REASONING: return "reasoning";
    case MVOT_EX_TRAJECTORY: return "trajectory";
    case MVOT_EX_COT: return "cot";
    case MVOT_EX_DIRECT: return "direct";
    }
    return "?";
}

void mvot_examples_free(struct mvot_example *ex, size_t n)
{
    if (!ex)
        return;
    for (size_t i = 0; i < n; i++) {
        free(ex[i].input_text);
        free(ex[i].label_text);
        free(ex[i].images);
    }
    free(ex);
}

const char *mvot_pack_mode_name(enum mvot_pack_mode m)
{
    switch (m) {
    case MVOT_PACK_MVOT: return "mvot";
    case MVOT_PACK_TRAJECTORY: return "trajectory";
    case MVOT_PACK_COT: return "cot";
    case MVOT_PACK_DIRECT: return "direct";
    }
    return "?";
}

int mvot_pack_mode_parse(const char *s, enum mvot_pack_mode *out)
{
    for (int m = 0; m <= MVOT_PACK_DIRECT; m++)
        if (strcmp(s, mvot_pack_mode_name((enum mvot_pack_mode)m)) == 0) {
            *out = (enum mvot_pack_mode)m;
            return 0;
        }
    return -1;
}

size_t mvot_assemble_count(const struct mvot_episode *ep, enum mvot_pack_mode mode)
{
    return mode == MVOT_PACK_MVOT ? 2 * (size_t)ep->n_steps + 1 : 1;
}

static char *dup_buf(struct mvot_buf *b)
{
    char *s = malloc(b->len + 1);
    if (s) {
        if (b->len)
            memcpy(s, b->data, b->len);
        s[b->len] = 0;
    }
    return s;
}

/* Python str.strip(): ASCII whitespace on both ends. */
static char *strip_dup(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *o = malloc(n + 1);
    if (o) {
        memcpy(o, s, n);
        o[n] = 0;
    }
    return o;
}

/* "<image>" for frame k, followed by the frame's caption and a space where the task has one. */
static enum mvot_status put_image(struct mvot_buf *b, const struct mvot_episode *ep, uint32_t k)
{
    if (ep->caption && ep->caption[k])
        return mvot_buf_printf(b, "%s%s ", MVOT_IMAGE_PLACEHOLDER, ep->caption[k]);
    return mvot_buf_printf(b, "%s", MVOT_IMAGE_PLACEHOLDER);
}

static enum mvot_status set_images(struct mvot_example *ex, const uint32_t *im, uint32_t n,
                                   uint32_t n_input)
{
    ex->images = malloc((n ? n : 1) * sizeof *ex->images);
    if (!ex->images)
        return MVOT_ERR_NOMEM;
    memcpy(ex->images, im, n * sizeof *im);
    ex->n_images = n;
    ex->n_input_images = n_input;
    return MVOT_OK;
}

enum mvot_status mvot_assemble_examples(const struct mvot_episode *ep, enum mvot_pack_mode mode,
                                        struct mvot_example **out, size_t *n_out,
                                        struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    size_t n = mvot_assemble_count(ep, mode), made = 0;
    uint32_t L = ep->n_steps;
    struct mvot_buf prefix, b;
    uint32_t *seq = NULL;
    mvot_buf_init(&prefix, 0);
    mvot_buf_init(&b, 0);
    struct mvot_example *ex = calloc(n, sizeof *ex);
    MVOT_FAIL_IF(!ex, err, MVOT_ERR_NOMEM, ep->key, "out of memory");
    MVOT_CORRUPT_IF(ep->n_frames != L + 1, err, ep->key, "%u frames for %u steps (want steps + 1)",
                    ep->n_frames, L);
    MVOT_CORRUPT_IF(mode == MVOT_PACK_MVOT && L == 0, err, ep->key, "episode has no steps");
    for (const char *c = ep->key; *c; c++)
        MVOT_FAIL_IF(!(isalnum((unsigned char)*c) || *c == '-' || *c == '_'), err, MVOT_ERR_INVALID,
                     ep->key, "episode key has a character outside [A-Za-z0-9_-]");
    MVOT_FAIL_IF(strlen(ep->key) > 80, err, MVOT_ERR_INVALID, ep->key, "episode key too long");
    MVOT_FAIL_IF(mvot_buf_printf(&prefix, "%s%s", ep->instruction, ep->init_text) != MVOT_OK ||
                     put_image(&prefix, ep, 0) != MVOT_OK ||
                     mvot_buf_printf(&prefix, "\nResponse: ") != MVOT_OK,
                 err, MVOT_ERR_NOMEM, ep->key, "out of memory");
    seq = malloc((L + 2) * sizeof *seq);
    MVOT_FAIL_IF(!seq, err, MVOT_ERR_NOMEM, ep->key, "out of memory");

    if (mode == MVOT_PACK_MVOT) {
        for (uint32_t k = 0; k < L; k++, made++) { /* single-step visualization */
            struct mvot_example *e = &ex[made];
            snprintf(e->key, sizeof e->key, "%s-v%03u", ep->key, k);
            e->kind = MVOT_EX_VISUALIZATION;
            e->step = (int32_t)k;
            b.len = 0;
            st = mvot_buf_append(&b, prefix.data, prefix.len);
            if (k > 0) {
                for (uint32_t i = 0; st == MVOT_OK && i < k; i++)
                    st = mvot_buf_printf(&b, "%s", ep->step_text[i]);
                if (st == MVOT_OK)
                    st = put_image(&b, ep, k);
            }
            if (st == MVOT_OK)
                st = mvot_buf_printf(&b, "%s", ep->step_text[k]);
            MVOT_FAIL_IF(st != MVOT_OK, err, MVOT_ERR_NOMEM, ep->key, "out of memory");
            e->input_text = dup_buf(&b);
            b.len = 0;
            MVOT_FAIL_IF(put_image(&b, ep, k + 1) != MVOT_OK, err, MVOT_ERR_NOMEM, ep->key,
                         "out of memory");
            e->label_text = dup_buf(&b);
            uint32_t im[3] = {0, k, k + 1};
            if (k == 0) {
                im[1] = 1;
                st = set_images(e, im, 2, 1);
            } else {
                st = set_images(e, im, 3, 2);
            }
            e->prev_frame = (int32_t)k;
            e->target_frame = (int32_t)k + 1;
            MVOT_FAIL_IF(st != MVOT_OK || !e->input_text || !e->label_text, err, MVOT_ERR_NOMEM,
                         ep->key, "out of memory");
        }
        for (uint32_t k = 0; k <= L; k++, made++) { /* action reasoning */
            struct mvot_example *e = &ex[made];
            snprintf(e->key, sizeof e->key, "%s-r%03u", ep->key, k);
            e->kind = MVOT_EX_REASONING;
            e->step = (int32_t)k;
            b.len = 0;
            st = mvot_buf_append(&b, prefix.data, prefix.len);
            if (k > 0) {
                for (uint32_t i = 0; st == MVOT_OK && i < k; i++)
                    st = mvot_buf_printf(&b, "%s", ep->step_text[i]);
                if (st == MVOT_OK)
                    st = put_image(&b, ep, k);
            }
            MVOT_FAIL_IF(st != MVOT_OK, err, MVOT_ERR_NOMEM, ep->key, "out of memory");
            e->input_text = dup_buf(&b);
            e->label_text = k < L ? strip_dup(ep->step_text[k]) : strdup(ep->final_text);
            uint32_t im[2] = {0, k};
            st = set_images(e, im, k == 0 ? 1 : 2, k == 0 ? 1 : 2);
            e->prev_frame = e->target_frame = -1;
            MVOT_FAIL_IF(st != MVOT_OK || !e->input_text || !e->label_text, err, MVOT_ERR_NOMEM,
                         ep->key, "out of memory");
        }
    } else {
        struct mvot_example *e = &ex[0];
        made = 1;
        e->step = -1;
        e->prev_frame = e->target_frame = -1;
        e->input_text = dup_buf(&prefix);
        b.len = 0;
        seq[0] = 0;
        uint32_t n_img = 1;
        if (mode == MVOT_PACK_TRAJECTORY) {
            snprintf(e->key, sizeof e->key, "%s-t", ep->key);
            e->kind = MVOT_EX_TRAJECTORY;
            for (uint32_t i = 0; st == MVOT_OK && i < L; i++) {
                st = mvot_buf_printf(&b, "%s", ep->step_text[i]);
                if (st == MVOT_OK)
                    st = put_image(&b, ep, i + 1);
                seq[n_img++] = i + 1;
            }
        } else if (mode == MVOT_PACK_COT) {
            snprintf(e->key, sizeof e->key, "%s-c", ep->key);
            e->kind = MVOT_EX_COT;
            for (uint32_t i = 0; st == MVOT_OK && i < L; i++) {
                const char *r = ep->rationale ? ep->rationale[i] : NULL;
                MVOT_CORRUPT_IF(!r, err, ep->key, "step %u has no rationale", i);
                st = mvot_buf_printf(&b, "%s", r);
                /* rationales are joined by one space unless one ends in whitespace already */
                if (st == MVOT_OK && *r && !isspace((unsigned char)r[strlen(r) - 1]))
                    st = mvot_buf_append(&b, " ", 1);
            }
        } else {
            snprintf(e->key, sizeof e->key, "%s-d", ep->key);
            e->kind = MVOT_EX_DIRECT;
        }
        if (st == MVOT_OK)
            st = mvot_buf_printf(&b, "%s", ep->final_text);
        MVOT_FAIL_IF(st != MVOT_OK, err, MVOT_ERR_NOMEM, ep->key, "out of memory");
        e->label_text = dup_buf(&b);
        st = set_images(e, seq, n_img, 1);
        MVOT_FAIL_IF(st != MVOT_OK || !e->input_text || !e->label_text, err, MVOT_ERR_NOMEM,
                     ep->key, "out of memory");
    }
    *out = ex;
    *n_out = made;
    ex = NULL;
cleanup:
    mvot_examples_free(ex, made < n ? made + 1 : made);
    mvot_buf_free(&prefix);
    mvot_buf_free(&b);
    free(seq);
    return st;
}

uint32_t mvot_assemble_count_images(const char *text)
{
    uint32_t n = 0;
    size_t pl = strlen(MVOT_IMAGE_PLACEHOLDER);
    for (const char *p = strstr(text, MVOT_IMAGE_PLACEHOLDER); p;
         p = strstr(p + pl, MVOT_IMAGE_PLACEHOLDER))
        n++;
    return n;
}

enum mvot_status mvot_assembler_init(struct mvot_assembler *a, const struct mvot_bpe *tok,
                                     const struct mvot_layout *lay, uint32_t image_seq_length,
                                     struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_ids plain = {0}, special = {0};
    memset(a, 0, sizeof *a);
    a->tok = tok;
    a->lay = lay;
    a->image_seq_length = image_seq_length;
    MVOT_FAIL_IF(image_seq_length != 1024 && image_seq_length != 256 && image_seq_length != 64, err,
                 MVOT_ERR_INVALID, "assemble", "image_seq_length %u (want 1024, 256 or 64)",
                 image_seq_length);
    /* Probe the post-processor: whatever encode(add_special) adds around the plain ids. */
    static const char probe[] = "Go up.";
    MVOT_TRY(mvot_bpe_encode(tok, probe, sizeof probe - 1, 0, &plain, err));
    MVOT_TRY(mvot_bpe_encode(tok, probe, sizeof probe - 1, 1, &special, err));
    size_t i = 0;
    while (i < special.n && (special.n - i < plain.n ||
                             memcmp(special.v + i, plain.v, plain.n * sizeof *plain.v) != 0))
        i++;
    MVOT_FAIL_IF(i == special.n && plain.n, err, MVOT_ERR_UNSUPPORTED, "assemble",
                 "the tokenizer's post-processor changes the text ids; cannot find its prefix");
    MVOT_FAIL_IF(i > 4 || special.n - i - plain.n > 4, err, MVOT_ERR_UNSUPPORTED, "assemble",
                 "post-processor adds more than 4 tokens");
    a->n_prefix = (uint32_t)i;
    memcpy(a->prefix, special.v, i * sizeof *special.v);
    a->n_suffix = (uint32_t)(special.n - i - plain.n);
    memcpy(a->suffix, special.v + i + plain.n, a->n_suffix * sizeof *special.v);
cleanup:
    mvot_ids_free(&plain);
    mvot_ids_free(&special);
    return st;
}

static enum mvot_status push_special(struct mvot_ids *t, struct mvot_spans *s, int32_t id,
                                     uint8_t loss)
{
    enum mvot_status st = mvot_ids_push(t, id);
    return st == MVOT_OK ? mvot_spans_add(s, 1, MVOT_MOD_SPECIAL, loss) : st;
}

/* Encodes a text with image markers; *img advances over codes. */
static enum mvot_status encode_part(const struct mvot_assembler *a, const char *text,
                                    const int32_t *const *codes, uint32_t n_images, uint32_t *img,
                                    uint8_t loss, struct mvot_ids *t, struct mvot_spans *s,
                                    struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    size_t pl = strlen(MVOT_IMAGE_PLACEHOLDER);
    const char *p = text;
    for (;;) {
        const char *m = strstr(p, MVOT_IMAGE_PLACEHOLDER);
        size_t seg = m ? (size_t)(m - p) : strlen(p);
        if (seg) {
            size_t before = t->n;
            MVOT_TRY(mvot_bpe_encode(a->tok, p, seg, 0, t, err));
            /* An added special token inside the text (none in our prompts) is still a text
             * token to the loss mask; mark ids by class so spans stay truthful. */
            for (size_t i = before; i < t->n; i++) {
                int32_t id = t->v[i];
                uint8_t mod = mvot_layout_id_to_code(a->lay, id) >= 0 ? MVOT_MOD_IMAGE
                              : (id == a->lay->bos || id == a->lay->eos || id == a->lay->pad ||
                                 id == a->lay->boi || id == a->lay->eoi || id == a->lay->sep ||
                                 id == a->lay->image)
                                  ? MVOT_MOD_SPECIAL
                                  : MVOT_MOD_TEXT;
                MVOT_FAIL_IF(mod != MVOT_MOD_TEXT, err, MVOT_ERR_INVALID, "assemble",
                             "text \"%.40s\" encodes to special or image token %d", p, id);
                MVOT_FAIL_IF(mvot_spans_add(s, 1, mod, loss) != MVOT_OK, err, MVOT_ERR_NOMEM,
                             "assemble", "out of memory");
            }
        }
        if (!m)
            break;
        MVOT_FAIL_IF(*img >= n_images, err, MVOT_ERR_INVALID, "assemble",
                     "more <image> markers than the %u images given", n_images);
        const int32_t *c = codes[*img];
        MVOT_FAIL_IF(push_special(t, s, a->lay->boi, loss) != MVOT_OK ||
                         mvot_ids_append(t, c, a->image_seq_length) != MVOT_OK,
                     err, MVOT_ERR_NOMEM, "assemble", "out of memory");
        for (size_t i = t->n - a->image_seq_length; i < t->n; i++) {
            int32_t code = t->v[i];
            MVOT_FAIL_IF(code < 0 || (uint32_t)code >= a->lay->n_codes, err, MVOT_ERR_INVALID,
                         "assemble", "image %u: code %d outside the tokenizer's %u codes", *img,
                         code, a->lay->n_codes);
            t->v[i] = a->lay->code_to_id[code];
        }
        MVOT_FAIL_IF(mvot_spans_add(s, a->image_seq_length, MVOT_MOD_IMAGE, loss) != MVOT_OK ||
                         push_special(t, s, a->lay->eoi, loss) != MVOT_OK,
                     err, MVOT_ERR_NOMEM, "assemble", "out of memory");
        (*img)++;
        p = m + pl;
    }
cleanup:
    return st;
}

enum mvot_status mvot_assemble_tokens(const struct mvot_assembler *a, const char *input_text,
                                      const char *label_text, const int32_t *const *codes,
                                      uint32_t n_images, struct mvot_ids *t, struct mvot_spans *s,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint32_t img = 0;
    for (uint32_t i = 0; i < a->n_prefix; i++)
        MVOT_FAIL_IF(push_special(t, s, a->prefix[i], 0) != MVOT_OK, err, MVOT_ERR_NOMEM,
                     "assemble", "out of memory");
    MVOT_TRY(encode_part(a, input_text, codes, n_images, &img, 0, t, s, err));
    MVOT_FAIL_IF(push_special(t, s, a->lay->sep, 0) != MVOT_OK, err, MVOT_ERR_NOMEM, "assemble",
                 "out of memory");
    for (uint32_t i = 0; i < a->n_suffix; i++)
        MVOT_FAIL_IF(push_special(t, s, a->suffix[i], 0) != MVOT_OK, err, MVOT_ERR_NOMEM,
                     "assemble", "out of memory");
    MVOT_TRY(encode_part(a, label_text, codes, n_images, &img, 1, t, s, err));
    MVOT_FAIL_IF(push_special(t, s, a->lay->sep, 1) != MVOT_OK, err, MVOT_ERR_NOMEM, "assemble",
                 "out of memory");
    MVOT_FAIL_IF(img != n_images, err, MVOT_ERR_INVALID, "assemble",
                 "%u <image> markers for %u images", img, n_images);
cleanup:
    return st;
}

size_t mvot_assemble_truncate_point(const struct mvot_assembler *a, const uint32_t *tokens,
                                    size_t n, const struct mvot_span *spans, size_t n_spans,
                                    size_t max_len)
{
    if (n <= max_len)
        return n;
    size_t cut = max_len;
    /* Back off to before the BOI of an image the cut would split. */
    for (size_t i = cut; i-- > 0;) {
        if ((int32_t)tokens[i] == a->lay->eoi)
            break; /* the last image before the cut is whole */
        if ((int32_t)tokens[i] == a->lay->boi) {
            cut = i;
            break;
        }
    }
    /* Nothing supervised before the cut: the caller drops the sample. */
    for (size_t k = 0; k < n_spans; k++)
        if (spans[k].loss && spans[k].start < cut)
            return cut;
    return 0;
}

json_t *mvot_assemble_meta(const struct mvot_episode *ep, const struct mvot_example *ex,
                           enum mvot_pack_mode mode, uint32_t image_seq_length, const uint32_t *aug,
                           size_t n_tokens, int64_t truncated_from, int frames_stored)
{
    json_t *o = json_object();
    json_t *images = json_array(), *label_images = json_array(), *augj = json_array();
    json_t *cells = json_array(), *states = json_object();
    uint32_t g = ep->grid, side = 1; /* 8, 16, 32 codes a side for 64, 256, 1024 */
    while (side * side < image_seq_length)
        side++;
    json_object_set_new(o, "key", json_string(ex->key));
    json_object_set_new(o, "episode", json_string(ep->key));
    json_object_set_new(o, "task", json_string(mvot_task_name(ep->task)));
    json_object_set_new(o, "grid", json_integer(g));
    json_object_set_new(o, "image_size", json_integer(side * 16));
    json_object_set_new(o, "frame_size", json_integer(ep->image_size));
    json_object_set_new(o, "split", json_string(mvot_split_name(ep->split)));
    json_object_set_new(o, "mode", json_string(mvot_pack_mode_name(mode)));
    json_object_set_new(o, "kind", json_string(mvot_example_kind_name(ex->kind)));
    json_object_set_new(o, "step", ex->step >= 0 ? json_integer(ex->step) : json_null());
    json_object_set_new(o, "answer", json_string(ep->answer));
    json_object_set_new(o, "final_text", json_string(ep->final_text));
    json_object_set_new(o, "input_text", json_string(ex->input_text));
    json_object_set_new(o, "label_text", json_string(ex->label_text));
    json_object_set_new(o, "image_seq_length", json_integer(image_seq_length));
    json_object_set_new(o, "n_tokens", json_integer((json_int_t)n_tokens));
    json_object_set_new(o, "frames_stored", json_boolean(frames_stored));
    json_object_set_new(o, "truncated",
                        truncated_from >= 0 ? json_integer(truncated_from) : json_null());
    json_object_set_new(o, "prev_frame",
                        ex->prev_frame >= 0 ? json_integer(ex->prev_frame) : json_null());
    json_object_set_new(o, "target_frame",
                        ex->target_frame >= 0 ? json_integer(ex->target_frame) : json_null());
    for (uint32_t i = 0; i < ex->n_images; i++) {
        json_array_append_new(images, json_integer(ex->images[i]));
        if (i >= ex->n_input_images)
            json_array_append_new(label_images, json_integer(ex->images[i]));
        json_array_append_new(augj, json_integer(aug ? aug[i] : 0));
    }
    json_object_set_new(o, "images", images);
    json_object_set_new(o, "label_images", label_images);
    json_object_set_new(o, "augment", augj);
    if (ep->cells)
        for (uint32_t c = 0; c < g * g; c++) {
            const struct mvot_cell_box *b = &ep->cells[c];
            json_array_append_new(cells, json_pack("[iiii]", b->x0, b->y0, b->x1, b->y1));
        }
    json_object_set_new(o, "cells", cells);
    /* every frame referenced: images, prev, target */
    for (uint32_t i = 0; i < ex->n_images + 2; i++) {
        int64_t f = i < ex->n_images    ? (int64_t)ex->images[i]
                    : i == ex->n_images ? ex->prev_frame
                                        : ex->target_frame;
        if (f < 0 || (uint32_t)f >= ep->n_frames || !ep->cell_state)
            continue;
        char name[16];
        snprintf(name, sizeof name, "%lld", (long long)f);
        if (json_object_get(states, name))
            continue;
        json_t *arr = json_array();
        for (uint32_t c = 0; c < g * g; c++)
            json_array_append_new(arr, json_integer(ep->cell_state[(size_t)f * g * g + c]));
        json_object_set_new(states, name, arr);
    }
    json_object_set_new(o, "cell_states", states);
    return o;
}
