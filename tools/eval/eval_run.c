/* The eval run: every JSONL line is parsed, matched to its truth sample and scored by a
 * worker (mvot_pool_map_ordered); results are merged on the calling thread in line order,
 * so report.json, the diagnostics and the failure pictures are the same for any thread
 * count. Nothing in a line can stop the run: problems become diagnostics.
 *
 * Truth per sample (docs/shard-format.md §3): the token sequence gives the truth codes of
 * each image (BOI..EOI groups, in the order of "images") and the prompt (tokens before
 * the first supervised one); the stored PNGs give the truth pixels; "label_text" gives the
 * truth answer; "cells" and "cell_states" give the cell boxes and states. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "tools/eval/eval_internal.h"

#define DIAG(it, k, ...) mvot_eval_diags_add(&(it)->diags, line, (k), __VA_ARGS__)

void mvot_eval_opts_default(struct mvot_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    mvot_eval_tol_default(&o->tol);
    o->max_failures = 100;
    o->max_roundtrip = SIZE_MAX;
}

/* ---- truth view -------------------------------------------------------------------- */

struct truth {
    const char *episode, *task, *split, *mode, *kind, *label_text;
    uint32_t grid;
    int64_t image_size, step;
    size_t n_images;
    int64_t *frames;
    int32_t *codes; /* n_images x cpi, or NULL rows when a group is missing */
    int *has_codes;
    size_t cpi;
    size_t n_labels;
    size_t *label_pos;
    int64_t *prev_frame; /* per label: previous frame index or -1 */
    struct mvot_eval_box *cells;
    uint32_t n_cells;
    const uint32_t *prompt;
    size_t n_prompt;
    int frames_stored;
};

static void truth_free(struct truth *t)
{
    free(t->frames);
    free(t->codes);
    free(t->has_codes);
    free(t->label_pos);
    free(t->prev_frame);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

static const char *jstr(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int jint(const json_t *o, const char *k, int64_t *out)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v))
        return 0;
    *out = json_integer_value(v);
    return 1;
}

/* Fills `out` (n_cells bytes) with the states of `frame`; 0 if absent or malformed. */
static int frame_states(const json_t *meta, int64_t frame, uint32_t n_cells, uint8_t *out)
{
    char name[32];
    snprintf(name, sizeof name, "%lld", (long long)frame);
    const json_t *a = json_object_get(json_object_get(meta, "cell_states"), name);
    if (!json_is_array(a) || json_array_size(a) != n_cells)
        return 0;
    for (uint32_t c = 0; c < n_cells; c++) {
        const json_t *e = json_array_get(a, c);
        if (!json_is_integer(e))
            return 0;
        out[c] = (uint8_t)json_integer_value(e);
    }
    return 1;
}

static size_t find_pos(const struct truth *t, int64_t frame)
{
    for (size_t i = t->n_images; i-- > 0;)
        if (t->frames[i] == frame)
            return i;
    return SIZE_MAX;
}

/* Builds the truth view; on failure writes a reason into why and returns 0. */
static int truth_build(const struct mvot_sample *s, const struct mvot_eval_vocab *v,
                       const struct mvot_eval_decoder *dec, struct truth *t, char *why, size_t cap)
{
    const json_t *m = s->meta;
    memset(t, 0, sizeof *t);
    t->episode = jstr(m, "episode");
    t->task = jstr(m, "task");
    t->split = jstr(m, "split");
    t->mode = jstr(m, "mode");
    t->kind = jstr(m, "kind");
    t->label_text = jstr(m, "label_text");
    int64_t grid = 0;
    if (!t->episode || !t->task || !t->split || !t->mode || !t->kind || !jint(m, "grid", &grid) ||
        grid < 1 || grid > 64 || !jint(m, "image_size", &t->image_size)) {
        snprintf(why, cap, "sample json lacks episode/task/split/mode/kind/grid/image_size");
        return 0;
    }
    t->grid = (uint32_t)grid;
    t->step = -1;
    jint(m, "step", &t->step);
    if (t->image_size != dec->image_size) {
        snprintf(why, cap, "sample image_size %lld but the decoder is for %u",
                 (long long)t->image_size, dec->image_size);
        return 0;
    }
    const json_t *fs = json_object_get(m, "frames_stored");
    t->frames_stored = !json_is_false(fs);
    const json_t *imgs = json_object_get(m, "images"), *labs = json_object_get(m, "label_images");
    const json_t *cells = json_object_get(m, "cells");
    t->n_cells = t->grid * t->grid;
    if (!json_is_array(imgs) || !json_is_array(labs) || !json_is_array(cells) ||
        json_array_size(cells) != t->n_cells || json_array_size(imgs) > 100000) {
        snprintf(why, cap, "sample json: images/label_images/cells missing or of wrong size");
        return 0;
    }
    t->n_images = json_array_size(imgs);
    t->n_labels = json_array_size(labs);
    t->cpi = (size_t)dec->grid * dec->grid;
    t->frames = calloc(t->n_images + 1, sizeof *t->frames);
    t->codes = calloc((t->n_images + 1) * t->cpi, sizeof *t->codes);
    t->has_codes = calloc(t->n_images + 1, sizeof *t->has_codes);
    t->label_pos = calloc(t->n_labels + 1, sizeof *t->label_pos);
    t->prev_frame = calloc(t->n_labels + 1, sizeof *t->prev_frame);
    t->cells = calloc(t->n_cells, sizeof *t->cells);
    if (!t->frames || !t->codes || !t->has_codes || !t->label_pos || !t->prev_frame || !t->cells) {
        snprintf(why, cap, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < t->n_images; i++) {
        const json_t *e = json_array_get(imgs, i);
        if (!json_is_integer(e)) {
            snprintf(why, cap, "sample json: images[%zu] is not an integer", i);
            return 0;
        }
        t->frames[i] = json_integer_value(e);
    }
    for (uint32_t c = 0; c < t->n_cells; c++) {
        const json_t *b = json_array_get(cells, c);
        int64_t q[4];
        for (int k = 0; k < 4; k++) {
            const json_t *e = json_array_get(b, (size_t)k);
            if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) > 65535) {
                snprintf(why, cap, "sample json: cells[%u] is not 4 pixel coordinates", c);
                return 0;
            }
            q[k] = json_integer_value(e);
        }
        t->cells[c] =
            (struct mvot_eval_box){(uint32_t)q[0], (uint32_t)q[1], (uint32_t)q[2], (uint32_t)q[3]};
    }
    /* Image groups in the token sequence, in the order of "images". */
    size_t g = 0, nc = 0;
    int in = 0;
    for (size_t i = 0; i < s->n_tokens; i++) {
        uint32_t id = s->tokens[i];
        if ((int64_t)id == v->boi) {
            in = 1;
            nc = 0;
        } else if ((int64_t)id == v->eoi && in) {
            if (g < t->n_images && nc == t->cpi)
                t->has_codes[g] = 1;
            g++;
            in = 0;
        } else if (in && id < v->vocab_size && v->id_to_code[id] >= 0) {
            if (g < t->n_images && nc < t->cpi)
                t->codes[g * t->cpi + nc] = v->id_to_code[id];
            nc++;
        }
    }
    if (g != t->n_images) {
        snprintf(why, cap, "sample has %zu images in its tokens but %zu in its json", g,
                 t->n_images);
        return 0;
    }
    /* Prompt: everything before the first supervised token. */
    t->prompt = s->tokens;
    t->n_prompt = s->n_tokens;
    for (size_t i = 0; i < s->n_spans; i++)
        if (s->spans[i].loss) {
            t->n_prompt = s->spans[i].start;
            break;
        }
    int64_t pf = -1;
    int single_prev = t->n_labels == 1 && jint(m, "prev_frame", &pf);
    for (size_t j = 0; j < t->n_labels; j++) {
        const json_t *e = json_array_get(labs, j);
        if (!json_is_integer(e) ||
            (t->label_pos[j] = find_pos(t, json_integer_value(e))) == SIZE_MAX) {
            snprintf(why, cap, "sample json: label_images[%zu] is not in images", j);
            return 0;
        }
        if (!t->has_codes[t->label_pos[j]]) {
            snprintf(why, cap, "label image %zu has no %zu codes in the tokens", j, t->cpi);
            return 0;
        }
        if (single_prev)
            t->prev_frame[j] = pf;
        else
            t->prev_frame[j] = t->label_pos[j] > 0 ? t->frames[t->label_pos[j] - 1] : -1;
    }
    return 1;
}

/* ---- pixels ------------------------------------------------------------------------ */

static void composite_white(struct mvot_image *img)
{
    if (img->channels != 4)
        return;
    size_t n = (size_t)img->w * img->h;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s = img->px + i * 4;
        double a = s[3] / 255.0;
        for (int k = 0; k < 3; k++)
            img->px[i * 3 + k] = (uint8_t)((1 - a) * 255 + a * s[k]);
    }
    img->channels = 3;
}

/* Truth pixels of images entry `pos`: the stored PNG, or the decoded truth codes when the
 * shard has no frames. Returns 0 (and leaves out empty) when neither is available. */
static int truth_pixels(const struct mvot_sample *s, const struct truth *t,
                        const struct mvot_eval_decoder *dec, size_t pos, struct mvot_image *out)
{
    memset(out, 0, sizeof *out);
    if (pos >= t->n_images)
        return 0;
    if (t->frames_stored && pos < s->n_png) {
        if (mvot_png_decode(s->png[pos], s->png_len[pos], "truth frame", out, NULL) != MVOT_OK)
            return 0;
        composite_white(out);
        if (out->w != dec->image_size || out->h != dec->image_size) {
            mvot_image_free(out);
            return 0;
        }
        return 1;
    }
    if (!t->has_codes[pos])
        return 0;
    return mvot_eval_decoder_decode(dec, t->codes + pos * t->cpi, out, NULL) == MVOT_OK;
}

/* Decoded truth frames shared by the workers: the previous frame of step k is the target of
 * step k-1, so consecutive predictions of one episode decode each PNG once. Keyed by
 * (episode, frame); only PNG frames are cached (augmented input codes differ per sample). */
struct frame_slot {
    uint64_t key, stamp;
    int used, refs;
    struct mvot_image img;
};
struct frame_cache {
    pthread_mutex_t mu;
    struct frame_slot *slots;
    size_t n;
    uint64_t clock;
};

/* A truth frame in use: either a cache slot's image (released later) or one of our own. */
struct frame_ref {
    const struct mvot_image *img;
    struct mvot_image own;
    struct frame_slot *slot;
};

static void frame_release(struct frame_cache *fc, struct frame_ref *r)
{
    if (r->slot) {
        pthread_mutex_lock(&fc->mu);
        r->slot->refs--;
        pthread_mutex_unlock(&fc->mu);
    }
    mvot_image_free(&r->own);
    memset(r, 0, sizeof *r);
}

static int frame_get(struct frame_cache *fc, const struct mvot_sample *s, const struct truth *t,
                     const struct mvot_eval_decoder *dec, size_t pos, struct frame_ref *r)
{
    memset(r, 0, sizeof *r);
    int cacheable = fc && fc->n && t->frames_stored && pos < s->n_png && pos < t->n_images;
    uint64_t key = 0;
    if (cacheable) {
        key = mvot_hash64_seed(t->episode, strlen(t->episode), (uint64_t)t->frames[pos] + 1);
        pthread_mutex_lock(&fc->mu);
        for (size_t i = 0; i < fc->n; i++)
            if (fc->slots[i].used && fc->slots[i].key == key) {
                r->slot = &fc->slots[i];
                r->slot->refs++;
                r->slot->stamp = ++fc->clock;
                r->img = &r->slot->img;
                break;
            }
        pthread_mutex_unlock(&fc->mu);
        if (r->img)
            return 1;
    }
    if (!truth_pixels(s, t, dec, pos, &r->own))
        return 0;
    r->img = &r->own;
    if (!cacheable)
        return 1;
    pthread_mutex_lock(&fc->mu);
    struct frame_slot *victim = NULL;
    int dup = 0;
    for (size_t i = 0; i < fc->n && !dup; i++)
        dup = fc->slots[i].used && fc->slots[i].key == key; /* another worker was faster */
    for (size_t i = 0; i < fc->n && !dup; i++) {
        struct frame_slot *q = &fc->slots[i];
        if (!q->used) {
            victim = q;
            break;
        }
        if (q->refs == 0 && (!victim || q->stamp < victim->stamp))
            victim = q;
    }
    if (victim) {
        mvot_image_free(&victim->img);
        victim->img = r->own;
        memset(&r->own, 0, sizeof r->own);
        victim->key = key;
        victim->used = 1;
        victim->refs = 1;
        victim->stamp = ++fc->clock;
        r->slot = victim;
        r->img = &victim->img;
    }
    pthread_mutex_unlock(&fc->mu);
    return 1;
}

struct ep_step {
    char *episode, *task, *split, *mode;
    uint32_t grid;
    int64_t step;
    int correct;
};

/* ---- one line ---------------------------------------------------------------------- */

struct run_ctx {
    const struct mvot_eval_opts *o;
    const struct mvot_eval_vocab *v;
    const struct mvot_eval_decoder *dec;
    const char *data;
    const size_t *line_off, *line_len;
    size_t n_lines;
    struct frame_cache *cache;
    /* emit state */
    struct mvot_eval_result *res;
    struct eval_groups groups;
    struct eval_acc overall;
    char **seen;
    size_t seen_cap, seen_n;
    struct ep_step *eps;
    size_t n_eps, eps_cap;
    size_t rec_images, rec_ok;
    double rec_max;
    json_t *failures;
    char *fail_dir;
    const struct mvot_progress *prog;
};

static enum mvot_status add_failure(struct eval_item *it, const struct eval_failure_labels *lab,
                                    const struct mvot_image *prev, const struct mvot_image *truth,
                                    const struct mvot_image *pred,
                                    const struct mvot_eval_box *cells,
                                    const struct mvot_eval_iscore *s)
{
    const char *key = lab->key;
    size_t j = lab->image;
    struct eval_failure *nv = realloc(it->fail, (it->n_fail + 1) * sizeof *nv);
    if (!nv)
        return MVOT_ERR_NOMEM;
    it->fail = nv;
    struct eval_failure *f = &it->fail[it->n_fail];
    memset(f, 0, sizeof *f);
    f->name = mvot_strdupf("%s.%zu.png", key, j);
    if (!f->name)
        return MVOT_ERR_NOMEM;
    for (char *p = f->name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            *p = '_';
    if (eval_failure_image(prev, truth, pred, cells, s, lab, &f->img, NULL) != MVOT_OK) {
        free(f->name);
        return MVOT_ERR_NOMEM;
    }
    it->n_fail++;
    return MVOT_OK;
}

/* Loads a form-3 PNG as S x S RGB; 0 with a diagnostic otherwise. */
static int load_pred_png(const struct run_ctx *c, struct eval_item *it, size_t line,
                         const struct mvot_eval_pred *p, size_t j, struct mvot_image *out)
{
    const char *path = p->images[j].path;
    char *full =
        path[0] == '/' ? strdup(path) : mvot_io_join(c->o->pred_dir ? c->o->pred_dir : ".", path);
    struct mvot_error e = {0};
    memset(out, 0, sizeof *out);
    if (!full)
        return 0;
    enum mvot_status st = mvot_png_read_file(full, out, &e);
    free(full);
    if (st != MVOT_OK) {
        DIAG(it, MVOT_EVAL_DIAG_IMAGE_FILE, "line %zu: key %s: image %zu: %s", line, p->key, j,
             e.msg);
        return 0;
    }
    composite_white(out);
    if (out->w != c->dec->image_size || out->h != c->dec->image_size) {
        DIAG(it, MVOT_EVAL_DIAG_IMAGE_SIZE, "line %zu: key %s: image %zu is %ux%u, expected %ux%u",
             line, p->key, j, out->w, out->h, c->dec->image_size, c->dec->image_size);
        mvot_image_free(out);
        return 0;
    }
    return 1;
}

/* Scores label image j of the sample. Returns 1 if the visualization is correct. */
static int score_label(const struct run_ctx *c, struct eval_item *it, size_t line,
                       const struct mvot_sample *s, const struct truth *t,
                       const struct mvot_eval_pred *p, size_t j, uint8_t *st_buf)
{
    const struct mvot_eval_decoder *dec = c->dec;
    struct eval_acc *a = &it->acc;
    size_t pos = t->label_pos[j];
    const int32_t *tc = t->codes + pos * t->cpi;
    struct mvot_image pred = {0}, rec = {0};
    struct frame_ref tf = {0}, pf = {0};
    const struct mvot_image *target = NULL, *prev = NULL, *shown = &pred;
    uint8_t *st_t = st_buf, *st_p = st_buf + t->n_cells;
    int correct = 0, have_sp = 0, rec_ok = 0, same = 0;
    struct mvot_eval_iscore sc = {0}, rsc = {0};
    a->img_expected++;
    a->vis_n++;
    if (!frame_get(c->cache, s, t, dec, pos, &tf) ||
        !frame_states(s->meta, t->frames[pos], t->n_cells, st_t)) {
        DIAG(it, MVOT_EVAL_DIAG_TRUTH,
             "line %zu: key %s: no truth pixels or cell states for label image %zu", line, p->key,
             j);
        goto done;
    }
    target = tf.img;
    if (t->prev_frame[j] >= 0) {
        have_sp = frame_states(s->meta, t->prev_frame[j], t->n_cells, st_p);
        size_t pp = find_pos(t, t->prev_frame[j]);
        if (pp != SIZE_MAX && frame_get(c->cache, s, t, dec, pp, &pf))
            prev = pf.img;
    }
    /* Reconstruction check: the truth codes decoded must score as correct. */
    if (line <= c->o->max_roundtrip && mvot_eval_decoder_decode(dec, tc, &rec, NULL) == MVOT_OK &&
        mvot_eval_score_image(&c->o->tol, t->cells, t->n_cells, have_sp ? st_p : NULL, st_t, &rec,
                              target, prev, &rsc, NULL) == MVOT_OK) {
        rec_ok = 1;
        it->rec_images++;
        it->rec_ok += (size_t)rsc.correct;
        if (rsc.max_diff > it->rec_max)
            it->rec_max = rsc.max_diff;
    }
    if (j >= p->n_images) {
        a->img_missing++;
        goto done;
    }
    const struct mvot_eval_pimage *pi = &p->images[j];
    if (pi->bad) {
        a->img_bad++;
        goto done;
    }
    if (pi->codes) {
        if (pi->n_codes != t->cpi) {
            DIAG(it, MVOT_EVAL_DIAG_IMAGE_SIZE,
                 "line %zu: key %s: image %zu has %zu codes, expected %zu", line, p->key, j,
                 pi->n_codes, t->cpi);
            a->img_bad++;
            goto done;
        }
        for (size_t k = 0; k < t->cpi; k++)
            if (pi->codes[k] < 0 || (uint32_t)pi->codes[k] >= dec->K) {
                DIAG(it, MVOT_EVAL_DIAG_ID_RANGE,
                     "line %zu: key %s: image %zu: code %d at %zu is not below the codebook "
                     "size %u",
                     line, p->key, j, pi->codes[k], k, dec->K);
                a->img_bad++;
                goto done;
            }
        a->codes_total += t->cpi;
        same = 1;
        for (size_t k = 0; k < t->cpi; k++) {
            if (pi->codes[k] == tc[k])
                a->codes_equal++;
            else {
                same = 0;
                a->dist_sum += mvot_eval_code_dist(dec, pi->codes[k], tc[k]);
            }
        }
        if (same && rec_ok) {
            /* The truth codes themselves: their score is the reconstruction's. */
            sc = rsc;
            memset(&rsc, 0, sizeof rsc);
            shown = &rec;
        } else if (mvot_eval_decoder_decode(dec, pi->codes, &pred, NULL) != MVOT_OK) {
            DIAG(it, MVOT_EVAL_DIAG_IMAGE_FILE, "line %zu: key %s: image %zu: decoding failed",
                 line, p->key, j);
            a->img_bad++;
            goto done;
        }
    } else if (!load_pred_png(c, it, line, p, j, &pred)) {
        a->img_bad++;
        goto done;
    }
    if (shown == &pred &&
        mvot_eval_score_image(&c->o->tol, t->cells, t->n_cells, have_sp ? st_p : NULL, st_t, &pred,
                              target, prev, &sc, NULL) != MVOT_OK)
        goto done;
    a->v_acc += (size_t)sc.v_acc;
    a->v_red += (size_t)sc.v_red;
    a->v_correct += (size_t)sc.correct;
    a->cells_mod += sc.n_mod;
    a->cells_mod_ok += sc.n_mod_ok;
    a->cells_extra += sc.n_extra;
    a->missing_agent += (size_t)sc.missing_agent;
    a->duplicated_agent += (size_t)sc.duplicated_agent;
    a->wrong_position += (size_t)sc.wrong_position;
    a->artifacts += (size_t)sc.artifacts;
    correct = sc.correct;
    if (!correct && c->o->out_dir && c->o->max_failures) {
        struct eval_failure_labels lab = {p->key, j, (int64_t)t->frames[pos],
                                          (int64_t)t->prev_frame[j]};
        add_failure(it, &lab, prev, target, shown, t->cells, &sc);
    }
done:
    mvot_eval_iscore_free(&sc);
    mvot_eval_iscore_free(&rsc);
    frame_release(c->cache, &tf);
    frame_release(c->cache, &pf);
    mvot_image_free(&pred);
    mvot_image_free(&rec);
    return correct;
}

static char *dup_or(const char *s, const char *dflt)
{
    return strdup(s ? s : dflt);
}

static enum mvot_status work(void *ctx, size_t i, int worker, void **result, struct mvot_error *err)
{
    const struct run_ctx *c = ctx;
    size_t line = i + 1;
    struct eval_item *it = calloc(1, sizeof *it);
    struct mvot_eval_pred p;
    struct mvot_sample s = {0};
    struct truth t = {0};
    struct mvot_error e = {0};
    uint8_t *st_buf = NULL;
    char why[160] = "";
    char *text = NULL;
    if (!it)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory");
    *result = it;
    int r = mvot_eval_parse_line(c->data + c->line_off[i], c->line_len[i], line, c->dec->K, &p,
                                 &it->diags);
    if (r != 1)
        return MVOT_OK;
    it->key = strdup(p.key);
    enum mvot_status st = c->o->get(c->o->get_ctx, p.key, worker, &s, &e);
    if (st == MVOT_ERR_NOTFOUND) {
        DIAG(it, MVOT_EVAL_DIAG_UNKNOWN_KEY, "line %zu: key %s is not in the truth shards", line,
             p.key);
        goto done;
    }
    if (st != MVOT_OK) {
        DIAG(it, MVOT_EVAL_DIAG_TRUTH, "line %zu: key %s: %s", line, p.key, e.msg);
        goto done;
    }
    if (!truth_build(&s, c->v, c->dec, &t, why, sizeof why)) {
        DIAG(it, MVOT_EVAL_DIAG_TRUTH, "line %zu: key %s: %s", line, p.key, why);
        goto done;
    }
    if (p.form == MVOT_EVAL_FORM_IDS) {
        if (mvot_eval_split_ids(c->v, &p, t.prompt, t.n_prompt, t.cpi, &it->diags) != MVOT_OK) {
            st = mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory");
            goto done;
        }
        if (c->o->text(c->o->text_ctx, p.tids, p.n_tids, &text, &e) != MVOT_OK) {
            DIAG(it, MVOT_EVAL_DIAG_MALFORMED_LINE, "line %zu: key %s: text decoding: %s", line,
                 p.key, e.msg);
            goto done;
        }
    } else {
        text = strdup(p.text ? p.text : "");
    }
    it->episode = dup_or(t.episode, "");
    it->task = dup_or(t.task, "");
    it->split = dup_or(t.split, "");
    it->mode = dup_or(t.mode, "");
    it->grid = t.grid;
    it->step = t.step;
    if (!it->key || !it->episode || !it->task || !it->split || !it->mode || !text) {
        st = mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory");
        goto done;
    }
    struct eval_acc *a = &it->acc;
    a->n = 1;
    char want[8], got[8];
    if (t.label_text && mvot_eval_answer(t.label_text, want)) {
        a->ans_n = 1;
        if (!mvot_eval_answer(text, got))
            a->ans_unparseable = 1;
        else if (strcmp(want, got) == 0)
            a->ans_correct = 1;
        else
            a->ans_wrong = 1;
    }
    a->img_predicted = p.n_images;
    if (p.n_images > t.n_labels)
        a->img_extra = p.n_images - t.n_labels;
    st_buf = malloc(2 * (size_t)t.n_cells);
    if (!st_buf) {
        st = mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory");
        goto done;
    }
    size_t run = 0;
    int broken = 0;
    for (size_t j = 0; j < t.n_labels; j++) {
        int ok = score_label(c, it, line, &s, &t, &p, j, st_buf);
        if (!ok)
            broken = 1;
        if (!broken)
            run++;
        if (t.n_labels == 1)
            it->vis_correct = ok;
    }
    if (t.n_labels > 1 || (t.n_labels && strcmp(t.mode, "trajectory") == 0)) {
        a->seq_n = 1;
        a->steps_sum = (double)run;
        a->ratio_sum = (double)run / (double)t.n_labels;
    }
    it->single_vis = t.n_labels == 1 && strcmp(t.kind, "visualization") == 0 && t.step >= 0;
    it->scored = 1;
    st = MVOT_OK;
done:
    free(st_buf);
    free(text);
    truth_free(&t);
    mvot_sample_free(&s);
    mvot_eval_pred_free(&p);
    /* Only running out of memory stops the run; everything else became a diagnostic. */
    return st == MVOT_ERR_NOMEM ? st : MVOT_OK;
}

/* ---- merge (calling thread, line order) ------------------------------------------- */

/* Inserts key; returns 1 if it was new, 0 if seen, -1 on OOM. Open addressing on XXH3. */
static int seen_insert(struct run_ctx *c, const char *key)
{
    if (2 * (c->seen_n + 1) > c->seen_cap) {
        size_t nc = c->seen_cap ? c->seen_cap * 2 : 1024;
        char **nv = calloc(nc, sizeof *nv);
        if (!nv)
            return -1;
        for (size_t i = 0; i < c->seen_cap; i++)
            if (c->seen[i]) {
                size_t h = mvot_hash64(c->seen[i], strlen(c->seen[i])) & (nc - 1);
                while (nv[h])
                    h = (h + 1) & (nc - 1);
                nv[h] = c->seen[i];
            }
        free(c->seen);
        c->seen = nv;
        c->seen_cap = nc;
    }
    size_t h = mvot_hash64(key, strlen(key)) & (c->seen_cap - 1);
    while (c->seen[h]) {
        if (strcmp(c->seen[h], key) == 0)
            return 0;
        h = (h + 1) & (c->seen_cap - 1);
    }
    c->seen[h] = strdup(key);
    if (!c->seen[h])
        return -1;
    c->seen_n++;
    return 1;
}

static enum mvot_status add_groups(struct run_ctx *c, const char *task, uint32_t grid,
                                   const char *split, const char *mode, const struct eval_acc *a)
{
    char gs[16];
    snprintf(gs, sizeof gs, "%u", grid);
    const char *dims[4][2] = {{"task", task}, {"grid", gs}, {"split", split}, {"mode", mode}};
    eval_acc_add(&c->overall, a);
    for (int k = 0; k < 4; k++) {
        struct eval_acc *g = eval_groups_get(&c->groups, dims[k][0], dims[k][1]);
        if (!g)
            return MVOT_ERR_NOMEM;
        eval_acc_add(g, a);
    }
    return MVOT_OK;
}

static enum mvot_status emit(void *ctx, size_t i, void *result, struct mvot_error *err)
{
    struct run_ctx *c = ctx;
    struct eval_item *it = result;
    struct mvot_eval_diags *d = &c->res->diags;
    enum mvot_status st = MVOT_OK;
    for (size_t k = 0; k < it->diags.n; k++)
        mvot_eval_diags_add(d, it->diags.v[k].line, it->diags.v[k].kind, "%s", it->diags.v[k].msg);
    /* Diagnostics past the stored cap are still counted. */
    for (int k = 0; k < MVOT_EVAL_DIAG_COUNT; k++) {
        size_t stored = 0;
        for (size_t q = 0; q < it->diags.n; q++)
            stored += it->diags.v[q].kind == (enum mvot_eval_diag_kind)k;
        d->counts[k] += it->diags.counts[k] - stored;
    }
    if (it->scored) {
        int r = seen_insert(c, it->key);
        if (r < 0) {
            st = mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory");
            goto done;
        }
        if (r == 0) {
            mvot_eval_diags_add(d, i + 1, MVOT_EVAL_DIAG_DUPLICATE_KEY,
                                "line %zu: key %s was already predicted; this line is ignored",
                                i + 1, it->key);
            goto done;
        }
        c->res->scored++;
        st = add_groups(c, it->task, it->grid, it->split, it->mode, &it->acc);
        if (st != MVOT_OK)
            goto done;
        c->rec_images += it->rec_images;
        c->rec_ok += it->rec_ok;
        if (it->rec_max > c->rec_max)
            c->rec_max = it->rec_max;
        if (it->single_vis) {
            if (c->n_eps == c->eps_cap) {
                size_t nc = c->eps_cap ? c->eps_cap * 2 : 256;
                struct ep_step *nv = realloc(c->eps, nc * sizeof *nv);
                if (!nv) {
                    st = mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory");
                    goto done;
                }
                c->eps = nv;
                c->eps_cap = nc;
            }
            struct ep_step *e = &c->eps[c->n_eps++];
            e->episode = it->episode;
            e->task = it->task;
            e->split = it->split;
            e->mode = it->mode;
            it->episode = it->task = it->split = it->mode = NULL; /* moved */
            e->grid = it->grid;
            e->step = it->step;
            e->correct = it->vis_correct;
        }
        for (size_t k = 0; k < it->n_fail; k++) {
            if (!c->fail_dir || c->res->failures_written >= c->o->max_failures)
                break;
            char *path = mvot_io_join(c->fail_dir, it->fail[k].name);
            if (!path) {
                st = mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory");
                goto done;
            }
            st = mvot_png_write_file(path, &it->fail[k].img, NULL, err);
            free(path);
            if (st != MVOT_OK)
                goto done;
            json_array_append_new(c->failures, json_string(it->fail[k].name));
            c->res->failures_written++;
        }
    }
done:
    eval_item_free(it);
    mvot_progress_report(c->prog, "eval", i + 1, c->n_lines);
    return st;
}

static void discard(void *ctx, void *result)
{
    (void)ctx;
    eval_item_free(result);
}

static int ep_cmp(const void *a, const void *b)
{
    const struct ep_step *x = a, *y = b;
    int r = strcmp(x->episode, y->episode);
    if (r)
        return r;
    return (x->step > y->step) - (x->step < y->step);
}

/* V-Steps of single-step predictions: per episode, the run of correct steps from step 0
 * over consecutive steps; its length L is the last predicted step + 1. */
static enum mvot_status episodes_finish(struct run_ctx *c)
{
    if (c->n_eps)
        qsort(c->eps, c->n_eps, sizeof *c->eps, ep_cmp);
    for (size_t i = 0; i < c->n_eps;) {
        size_t j = i;
        int64_t expect = 0, run = 0, broken = 0;
        while (j < c->n_eps && strcmp(c->eps[j].episode, c->eps[i].episode) == 0) {
            if (!broken && c->eps[j].step == expect && c->eps[j].correct) {
                run++;
                expect++;
            } else {
                broken = 1;
            }
            j++;
        }
        struct eval_acc a = {0};
        a.seq_n = 1;
        a.steps_sum = (double)run;
        a.ratio_sum = (double)run / (double)(c->eps[j - 1].step + 1);
        if (add_groups(c, c->eps[i].task, c->eps[i].grid, c->eps[i].split, c->eps[i].mode, &a) !=
            MVOT_OK)
            return MVOT_ERR_NOMEM;
        i = j;
    }
    return MVOT_OK;
}

static json_t *diag_json(const struct mvot_eval_diags *d)
{
    json_t *o = json_object(), *counts = json_object(), *lines = json_array();
    size_t total = 0;
    for (int k = 0; k < MVOT_EVAL_DIAG_COUNT; k++) {
        json_object_set_new(counts, mvot_eval_diag_name((enum mvot_eval_diag_kind)k),
                            json_integer((json_int_t)d->counts[k]));
        total += d->counts[k];
    }
    for (size_t i = 0; i < d->n && i < 1000; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "line", json_integer((json_int_t)d->v[i].line));
        json_object_set_new(e, "class", json_string(mvot_eval_diag_name(d->v[i].kind)));
        json_object_set_new(e, "message", json_string(d->v[i].msg));
        json_array_append_new(lines, e);
    }
    json_object_set_new(o, "counts", counts);
    json_object_set_new(o, "total", json_integer((json_int_t)total));
    json_object_set_new(o, "messages", lines);
    return o;
}

static json_t *build_report(struct run_ctx *c)
{
    json_t *r = json_object(), *tol = json_object(), *rec = json_object();
    json_object_set_new(r, "version", json_integer(1));
    json_object_set_new(r, "lines", json_integer((json_int_t)c->res->lines));
    json_object_set_new(r, "scored", json_integer((json_int_t)c->res->scored));
    json_object_set_new(r, "overall", eval_acc_json(&c->overall));
    static const char *const dims[4] = {"task", "grid", "split", "mode"};
    for (int k = 0; k < 4; k++) {
        json_t *g = json_object();
        for (size_t i = 0; i < c->groups.n; i++)
            if (strcmp(c->groups.v[i].dim, dims[k]) == 0)
                json_object_set_new(g, c->groups.v[i].val, eval_acc_json(&c->groups.v[i].acc));
        char name[16];
        snprintf(name, sizeof name, "by_%s", dims[k]);
        json_object_set_new(r, name, g);
    }
    json_object_set_new(tol, "pixel_tol", json_integer(c->o->tol.pixel_tol));
    json_object_set_new(tol, "cell_tol", json_real(c->o->tol.cell_tol));
    json_object_set_new(tol, "inset", json_integer(c->o->tol.inset));
    json_object_set_new(r, "tolerance", tol);
    json_object_set_new(rec, "images", json_integer((json_int_t)c->rec_images));
    json_object_set_new(rec, "correct", json_integer((json_int_t)c->rec_ok));
    json_object_set_new(rec, "max_cell_diff", json_real(c->rec_max));
    json_object_set_new(r, "reconstruction", rec);
    json_object_set_new(r, "diagnostics", diag_json(&c->res->diags));
    json_object_set_new(r, "failures", json_incref(c->failures));
    json_object_set_new(r, "patch_lut", json_boolean(c->dec->lut != NULL));
    return r;
}

void mvot_eval_result_free(struct mvot_eval_result *r)
{
    if (!r)
        return;
    json_decref(r->report);
    mvot_eval_diags_free(&r->diags);
    free(r);
}

enum mvot_status mvot_eval_run(const struct mvot_eval_opts *o, const struct mvot_eval_vocab *v,
                               const struct mvot_eval_decoder *dec, const char *jsonl, size_t len,
                               struct mvot_pool *pool, const struct mvot_progress *prog,
                               struct mvot_eval_result **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct run_ctx c = {0};
    size_t *off = NULL, *lens = NULL, n = 0, cap = 0;
    *out = NULL;
    if (!o->get || !o->text)
        return mvot_error_set(err, MVOT_ERR_INVALID, "eval", "no truth source or text decoder");
    for (size_t p = 0; p < len;) {
        const char *nl = memchr(jsonl + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - jsonl) : len;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            size_t *no = realloc(off, cap * sizeof *no), *nlz = NULL;
            if (no)
                off = no;
            nlz = no ? realloc(lens, cap * sizeof *nlz) : NULL;
            if (!no || !nlz)
                MVOT_FAIL_IF(1, err, MVOT_ERR_NOMEM, "eval", "out of memory");
            lens = nlz;
        }
        off[n] = p;
        lens[n] = e - p;
        n++;
        p = e + 1;
    }
    c.o = o;
    c.v = v;
    c.dec = dec;
    c.data = jsonl;
    c.line_off = off;
    c.line_len = lens;
    c.n_lines = n;
    c.prog = prog;
    c.res = calloc(1, sizeof *c.res);
    c.failures = json_array();
    MVOT_FAIL_IF(!c.res || !c.failures, err, MVOT_ERR_NOMEM, "eval", "out of memory");
    c.res->lines = n;
    struct frame_cache fc = {.n = 0};
    pthread_mutex_init(&fc.mu, NULL);
    fc.n = 8 + 4 * (size_t)mvot_pool_threads(pool);
    fc.slots = calloc(fc.n, sizeof *fc.slots);
    if (!fc.slots)
        fc.n = 0;
    c.cache = &fc;
    if (o->out_dir && o->max_failures) {
        c.fail_dir = mvot_io_join(o->out_dir, "failures");
        MVOT_FAIL_IF(!c.fail_dir, err, MVOT_ERR_NOMEM, "eval", "out of memory");
        MVOT_TRY(mvot_io_mkdirs(c.fail_dir, err));
    }
    MVOT_TRY(mvot_pool_map_ordered(pool, n, 0, work, emit, discard, &c, err));
    MVOT_FAIL_IF(episodes_finish(&c) != MVOT_OK, err, MVOT_ERR_NOMEM, "eval", "out of memory");
    c.res->report = build_report(&c);
    MVOT_FAIL_IF(!c.res->report, err, MVOT_ERR_NOMEM, "eval", "out of memory");
    *out = c.res;
    c.res = NULL;
cleanup:
    if (c.cache) {
        for (size_t i = 0; i < c.cache->n; i++)
            mvot_image_free(&c.cache->slots[i].img);
        free(c.cache->slots);
        pthread_mutex_destroy(&c.cache->mu);
    }
    mvot_eval_result_free(c.res);
    eval_groups_free(&c.groups);
    for (size_t i = 0; i < c.seen_cap; i++)
        free(c.seen ? c.seen[i] : NULL);
    free(c.seen);
    for (size_t i = 0; i < c.n_eps; i++) {
        free(c.eps[i].episode);
        free(c.eps[i].task);
        free(c.eps[i].split);
        free(c.eps[i].mode);
    }
    free(c.eps);
    json_decref(c.failures);
    free(c.fail_dir);
    free(off);
    free(lens);
    return st;
}
