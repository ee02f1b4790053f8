/* Per-cell visual scoring (docs/eval.md "Decision rule") and image decoding for eval.
 *
 * A cell is compared with a reference by the fraction of its pixels (inside the recorded
 * cell box, shrunk by `inset`) whose largest channel difference exceeds pixel_tol; the cell
 * matches when that fraction is at most cell_tol. Modified cells (cell state changed
 * between the previous and the target frame, plus cells holding the agent in the target)
 * must match the target and, when the change is visible (previous and target frames differ
 * there beyond the tolerance), match it at least as well as they match the previous frame;
 * every other cell must match the target. Images are 8-bit RGB, S x S. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/eval/eval.h"

void mvot_eval_tol_default(struct mvot_eval_tol *t)
{
    /* Chosen on reconstructions and agent footprints (docs/eval.md "Tolerance"). */
    t->pixel_tol = 48;
    t->cell_tol = 0.015;
    t->inset = 2;
}

void mvot_eval_iscore_free(struct mvot_eval_iscore *s)
{
    if (!s)
        return;
    free(s->cls);
    memset(s, 0, sizeof *s);
}

/* The inset box clipped to the image; returns 0 when nothing is left. */
static int inner_box(const struct mvot_eval_tol *t, const struct mvot_eval_box *b, uint32_t w,
                     uint32_t h, struct mvot_eval_box *o)
{
    uint32_t x1 = b->x1 < w ? b->x1 : w, y1 = b->y1 < h ? b->y1 : h;
    *o = *b;
    if (x1 - (x1 > b->x0 ? b->x0 : x1) > 2 * t->inset) {
        o->x0 = b->x0 + t->inset;
        o->x1 = x1 - t->inset;
    } else {
        o->x1 = x1;
    }
    if (y1 - (y1 > b->y0 ? b->y0 : y1) > 2 * t->inset) {
        o->y0 = b->y0 + t->inset;
        o->y1 = y1 - t->inset;
    } else {
        o->y1 = y1;
    }
    return o->x0 < o->x1 && o->y0 < o->y1;
}

static inline int px_differs(const uint8_t *a, const uint8_t *b, int tol)
{
    int d0 = abs((int)a[0] - (int)b[0]), d1 = abs((int)a[1] - (int)b[1]);
    int d2 = abs((int)a[2] - (int)b[2]);
    int m = d0 > d1 ? d0 : d1;
    return (m > d2 ? m : d2) > tol;
}

double mvot_eval_cell_diff(const struct mvot_eval_tol *t, const struct mvot_eval_box *b,
                           const struct mvot_image *a, const struct mvot_image *c)
{
    struct mvot_eval_box o;
    if (a->w != c->w || a->h != c->h || !inner_box(t, b, a->w, a->h, &o))
        return 1.0;
    uint64_t n = 0, diff = 0;
    int tol = (int)t->pixel_tol;
    size_t row = (size_t)(o.x1 - o.x0) * a->channels;
    for (uint32_t y = o.y0; y < o.y1; y++) {
        const uint8_t *pa = a->px + ((size_t)y * a->w + o.x0) * a->channels;
        const uint8_t *pc = c->px + ((size_t)y * c->w + o.x0) * c->channels;
        n += o.x1 - o.x0;
        /* Most rows of a good prediction are byte-identical to the truth: skip them at
         * memcmp speed (the biggest single cost of scoring otherwise). */
        if (a->channels == c->channels && memcmp(pa, pc, row) == 0)
            continue;
        for (uint32_t x = o.x0; x < o.x1; x++, pa += a->channels, pc += c->channels)
            diff += (uint64_t)px_differs(pa, pc, tol);
    }
    return n ? (double)diff / (double)n : 1.0;
}

/* Whether the predicted cell `e` shows the agent sprite: the sprite is taken from target
 * agent cell `a` as the pixels where target and prev differ there; it is looked for at the
 * same offsets inside e. Half of the sprite pixels must agree. */
static int agent_like(const struct mvot_eval_tol *t, const struct mvot_eval_box *a,
                      const struct mvot_eval_box *e, const struct mvot_image *pred,
                      const struct mvot_image *target, const struct mvot_image *prev)
{
    struct mvot_eval_box oa, oe;
    if (!inner_box(t, a, target->w, target->h, &oa) || !inner_box(t, e, pred->w, pred->h, &oe))
        return 0;
    uint64_t sprite = 0, hit = 0;
    int tol = (int)t->pixel_tol;
    uint32_t sw = oa.x1 - oa.x0 < oe.x1 - oe.x0 ? oa.x1 - oa.x0 : oe.x1 - oe.x0;
    uint32_t sh = oa.y1 - oa.y0 < oe.y1 - oe.y0 ? oa.y1 - oa.y0 : oe.y1 - oe.y0;
    for (uint32_t dy = 0; dy < sh; dy++)
        for (uint32_t dx = 0; dx < sw; dx++) {
            size_t ia = ((size_t)(oa.y0 + dy) * target->w + oa.x0 + dx) * 3;
            size_t ie = ((size_t)(oe.y0 + dy) * pred->w + oe.x0 + dx) * 3;
            if (!px_differs(target->px + ia, prev->px + ia, tol))
                continue;
            sprite++;
            hit += (uint64_t)!px_differs(pred->px + ie, target->px + ia, tol);
        }
    return sprite > 0 && 2 * hit >= sprite;
}

enum mvot_status mvot_eval_score_image(const struct mvot_eval_tol *t,
                                       const struct mvot_eval_box *cells, uint32_t n_cells,
                                       const uint8_t *st_prev, const uint8_t *st_target,
                                       const struct mvot_image *pred,
                                       const struct mvot_image *target,
                                       const struct mvot_image *prev, struct mvot_eval_iscore *out,
                                       struct mvot_error *err)
{
    memset(out, 0, sizeof *out);
    if (pred->channels != 3 || target->channels != 3 || (prev && prev->channels != 3) ||
        pred->w != target->w || pred->h != target->h ||
        (prev && (prev->w != target->w || prev->h != target->h)))
        return mvot_error_set(err, MVOT_ERR_INVALID, "eval",
                              "images to compare must be RGB of one size (%ux%u vs %ux%u)", pred->w,
                              pred->h, target->w, target->h);
    out->cls = calloc(n_cells ? n_cells : 1, 1);
    if (!out->cls)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory");
    out->n_cells = n_cells;
    int agent_ok = 1, stale = 0, far_agent = 0, artifacts = 0;
    uint32_t sprite_cell = UINT32_MAX; /* a target agent cell the agent moved into */
    for (uint32_t c = 0; c < n_cells; c++)
        if ((st_target[c] & 1) && st_prev && !(st_prev[c] & 1) && prev) {
            sprite_cell = c;
            break;
        }
    for (uint32_t c = 0; c < n_cells; c++) {
        int tagent = st_target[c] & 1;
        int modified = tagent || (st_prev && st_prev[c] != st_target[c]);
        double dt = mvot_eval_cell_diff(t, &cells[c], pred, target);
        if (!modified) {
            if (dt > out->max_diff)
                out->max_diff = dt;
            if (dt > t->cell_tol) {
                out->cls[c] = MVOT_EVAL_CELL_EXTRA;
                out->n_extra++;
                if (sprite_cell != UINT32_MAX &&
                    agent_like(t, &cells[sprite_cell], &cells[c], pred, target, prev))
                    far_agent = 1;
                else
                    artifacts = 1;
            }
            continue;
        }
        out->n_mod++;
        double dp = prev ? mvot_eval_cell_diff(t, &cells[c], pred, prev) : 2.0;
        int mt = dt <= t->cell_tol, mp = dp <= t->cell_tol;
        /* A change smaller than the tolerance cannot be seen: matching the target is enough.
         * A visible one must also be shown at least as well as the previous state is. */
        int visible = !prev || mvot_eval_cell_diff(t, &cells[c], prev, target) > t->cell_tol;
        if (mt && !(visible && mp && dp < dt)) {
            out->cls[c] = MVOT_EVAL_CELL_OK;
            out->n_mod_ok++;
            if (dt > out->max_diff)
                out->max_diff = dt;
            continue;
        }
        out->cls[c] = mp ? MVOT_EVAL_CELL_PREV : MVOT_EVAL_CELL_WRONG;
        if (tagent)
            agent_ok = 0;
        else if (st_prev && (st_prev[c] & 1) && mp)
            stale = 1; /* the agent is still drawn where it was */
        else
            artifacts = 1;
    }
    out->v_acc = out->n_mod_ok == out->n_mod;
    out->v_red = out->n_extra > 0;
    out->correct = out->v_acc && !out->v_red;
    int elsewhere = stale || far_agent;
    out->missing_agent = !agent_ok && !elsewhere;
    out->wrong_position = !agent_ok && elsewhere;
    out->duplicated_agent = agent_ok && elsewhere;
    out->artifacts = artifacts;
    return MVOT_OK;
}

/* ---- decoding ---------------------------------------------------------------------- */

static void paste(const struct mvot_eval_decoder *d, const int32_t *codes, struct mvot_image *img)
{
    uint32_t P = d->image_size / d->grid;
    size_t prow = (size_t)P * 3;
    for (uint32_t gy = 0; gy < d->grid; gy++)
        for (uint32_t gx = 0; gx < d->grid; gx++) {
            int32_t c = codes[gy * d->grid + gx];
            if (c < 0 || (uint32_t)c >= d->K)
                c = 0;
            const uint8_t *src = d->lut + (size_t)c * P * prow;
            for (uint32_t y = 0; y < P; y++)
                memcpy(img->px + ((size_t)(gy * P + y) * img->w + gx * P) * 3, src + y * prow,
                       prow);
        }
}

/* Brings any decoder output to S x S RGB (alpha composited on white, as HF does). */
static enum mvot_status to_rgb(struct mvot_image *img, struct mvot_error *err)
{
    if (img->channels == 3)
        return MVOT_OK;
    if (img->channels != 4)
        return mvot_error_set(err, MVOT_ERR_INVALID, "eval", "image with %u channels",
                              img->channels);
    mvot_image_drop_alpha(img);
    return MVOT_OK;
}

enum mvot_status mvot_eval_decoder_decode(const struct mvot_eval_decoder *d, const int32_t *codes,
                                          struct mvot_image *out, struct mvot_error *err)
{
    enum mvot_status st;
    memset(out, 0, sizeof *out);
    if (d->lut) {
        /* Not mvot_image_init: the paste writes every byte, zeroing first is wasted. */
        out->px = malloc((size_t)d->image_size * d->image_size * 3);
        if (!out->px)
            return mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory");
        out->w = out->h = d->image_size;
        out->channels = 3;
        paste(d, codes, out);
        return MVOT_OK;
    }
    st = d->decode(d->ctx, codes, out, err);
    if (st == MVOT_OK)
        st = to_rgb(out, err);
    if (st == MVOT_OK && (out->w != d->image_size || out->h != d->image_size))
        st = mvot_error_set(err, MVOT_ERR_MISMATCH, "eval", "decoder gave %ux%u, expected %u",
                            out->w, out->h, d->image_size);
    if (st != MVOT_OK)
        mvot_image_free(out);
    return st;
}

struct lut_job {
    struct mvot_eval_decoder *d;
    int failed;
};

static void lut_batch(void *ctx, size_t b, int worker)
{
    (void)worker;
    struct lut_job *j = ctx;
    struct mvot_eval_decoder *d = j->d;
    uint32_t g2 = d->grid * d->grid, P = d->image_size / d->grid;
    int32_t *codes = malloc(g2 * sizeof *codes);
    struct mvot_image img = {0};
    if (!codes) {
        j->failed = 1;
        return;
    }
    for (uint32_t p = 0; p < g2; p++) {
        size_t c = b * g2 + p;
        codes[p] = c < d->K ? (int32_t)c : 0;
    }
    if (d->decode(d->ctx, codes, &img, NULL) != MVOT_OK || to_rgb(&img, NULL) != MVOT_OK ||
        img.w != d->image_size || img.h != d->image_size) {
        j->failed = 1;
    } else {
        for (uint32_t p = 0; p < g2; p++) {
            size_t c = b * g2 + p;
            if (c >= d->K)
                break;
            uint32_t gx = p % d->grid, gy = p / d->grid;
            uint8_t *dst = d->lut + c * P * P * 3;
            for (uint32_t y = 0; y < P; y++)
                memcpy(dst + (size_t)y * P * 3,
                       img.px + ((size_t)(gy * P + y) * img.w + gx * P) * 3, (size_t)P * 3);
        }
    }
    mvot_image_free(&img);
    free(codes);
}

enum mvot_status mvot_eval_decoder_prepare(struct mvot_eval_decoder *d, struct mvot_pool *pool,
                                           struct mvot_error *err)
{
    if (!d->decode || d->grid == 0 || d->image_size % d->grid != 0 || d->K == 0)
        return mvot_error_set(err, MVOT_ERR_INVALID, "eval", "decoder: bad geometry");
    if (!d->is_patch || d->lut)
        return MVOT_OK;
    uint32_t g2 = d->grid * d->grid, P = d->image_size / d->grid;
    d->lut = malloc((size_t)d->K * P * P * 3);
    if (!d->lut)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory for the patch LUT");
    struct lut_job j = {d, 0};
    mvot_pool_for(pool, (d->K + g2 - 1) / g2, lut_batch, &j);
    /* Check that decoding is position independent: random grids, pasted vs decoded. */
    int32_t *codes = malloc(g2 * sizeof *codes);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int trial = 0; trial < 3 && !j.failed; trial++) {
        struct mvot_image a = {0}, b = {0};
        if (!codes) {
            j.failed = 1;
            break;
        }
        for (uint32_t p = 0; p < g2; p++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            codes[p] = (int32_t)((s >> 33) % d->K);
        }
        if (d->decode(d->ctx, codes, &a, NULL) != MVOT_OK || to_rgb(&a, NULL) != MVOT_OK ||
            mvot_image_init(&b, d->image_size, d->image_size, 3) != MVOT_OK || a.w != b.w ||
            a.h != b.h) {
            j.failed = 1;
        } else {
            paste(d, codes, &b);
            if (memcmp(a.px, b.px, (size_t)a.w * a.h * 3) != 0)
                j.failed = 1;
        }
        mvot_image_free(&a);
        mvot_image_free(&b);
    }
    free(codes);
    if (j.failed) { /* not a pure patch paste: decode every image in full */
        free(d->lut);
        d->lut = NULL;
    }
    return MVOT_OK;
}

double mvot_eval_code_dist(const struct mvot_eval_decoder *d, int32_t a, int32_t b)
{
    if (a == b || !d->codebook || a < 0 || b < 0 || (uint32_t)a >= d->K || (uint32_t)b >= d->K)
        return 0.0;
    const float *x = d->codebook + (size_t)a * d->D, *y = d->codebook + (size_t)b * d->D;
    double s = 0;
    for (uint32_t k = 0; k < d->D; k++) {
        double e = (double)x[k] - (double)y[k];
        s += e * e;
    }
    return sqrt(s);
}

void mvot_eval_decoder_free(struct mvot_eval_decoder *d)
{
    if (!d)
        return;
    free(d->lut);
    d->lut = NULL;
}
