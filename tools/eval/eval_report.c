/* Eval outputs: report.json, report.md (tables a person reads), the --json summary and the
 * failure pictures (previous frame, target and prediction side by side under a header naming
 * the sample, wrong cells outlined, a legend for the outlines). Every file is
 * written atomically. */
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/json.h"
#include "gen/render.h"
#include "tools/eval/eval_internal.h"

#define FAIL_GAP 8

/* Text at twice the font size when the frames are large enough to carry it. */
static int fail_scale(uint32_t S)
{
    return S >= 256 ? 2 : 1;
}

void eval_failure_panel(uint32_t S, int panel, uint32_t *x, uint32_t *y)
{
    int lh = MVOT_LINE_H * fail_scale(S);
    *x = FAIL_GAP + (uint32_t)panel * (S + FAIL_GAP);
    *y = (uint32_t)(FAIL_GAP + lh + FAIL_GAP + lh + 4); /* header line, then a caption line */
}

enum mvot_status eval_failure_image(const struct mvot_image *prev, const struct mvot_image *truth,
                                    const struct mvot_image *pred,
                                    const struct mvot_eval_box *cells,
                                    const struct mvot_eval_iscore *s,
                                    const struct eval_failure_labels *lab, struct mvot_image *out,
                                    struct mvot_error *err)
{
    static const struct mvot_rgb ink = {20, 20, 20}, dim = {100, 100, 100};
    /* Magenta: a cell that should change and is wrong; orange: a cell that should stay and
     * changed. */
    static const struct mvot_rgb wrong = {255, 0, 255}, extra = {255, 140, 0};
    uint32_t S = truth->w, px, py;
    int ts = fail_scale(S), lh = MVOT_LINE_H * ts;
    eval_failure_panel(S, 0, &px, &py);
    uint32_t W = 3 * (S + FAIL_GAP) + FAIL_GAP, H = py + S + FAIL_GAP + (uint32_t)lh + FAIL_GAP;
    enum mvot_status st = mvot_image_init(out, W, H, 3);
    if (st != MVOT_OK)
        return mvot_error_set(err, st, "eval", "out of memory");
    memset(out->px, 255, (size_t)out->w * out->h * 3);
    char line[256];
    uint32_t n_wrong = 0, n_extra = 0;
    for (uint32_t c = 0; c < s->n_cells; c++) {
        n_wrong += s->cls[c] == MVOT_EVAL_CELL_WRONG || s->cls[c] == MVOT_EVAL_CELL_PREV;
        n_extra += s->cls[c] == MVOT_EVAL_CELL_EXTRA;
    }
    snprintf(line, sizeof line, "%s, label image %zu: %u cell%s wrong, %u changed by mistake",
             lab->key, lab->image, n_wrong, n_wrong == 1 ? "" : "s", n_extra);
    mvot_draw_text(out, FAIL_GAP, FAIL_GAP, ts, line, ink);
    const struct mvot_image *panels[3] = {prev, truth, pred};
    for (int i = 0; i < 3; i++) {
        eval_failure_panel(S, i, &px, &py);
        if (i == 0 && lab->prev_frame >= 0)
            snprintf(line, sizeof line, "previous (frame %lld)", (long long)lab->prev_frame);
        else if (i == 0)
            snprintf(line, sizeof line, "previous (none)");
        else if (i == 1)
            snprintf(line, sizeof line, "target (frame %lld)", (long long)lab->target_frame);
        else
            snprintf(line, sizeof line, "prediction");
        mvot_draw_text(out, (int)px, (int)py - lh - 4 + ts, ts, line, i == 2 ? ink : dim);
        const struct mvot_image *im = panels[i];
        if (!im || im->w != S || im->h != truth->h || im->channels != 3) {
            mvot_draw_outline(out, (int)px, (int)py, (int)(px + S), (int)(py + S), 1, dim);
            continue;
        }
        for (uint32_t y = 0; y < im->h; y++)
            memcpy(out->px + ((size_t)(py + y) * W + px) * 3, im->px + (size_t)y * S * 3,
                   (size_t)S * 3);
        if (i == 0)
            continue; /* the previous frame stays clean, to compare against */
        for (uint32_t c = 0; c < s->n_cells; c++) {
            if (s->cls[c] == MVOT_EVAL_CELL_OK)
                continue;
            const struct mvot_eval_box *b = &cells[c];
            mvot_draw_outline(out, (int)(px + b->x0), (int)(py + b->y0), (int)(px + b->x1),
                              (int)(py + b->y1), 2,
                              s->cls[c] == MVOT_EVAL_CELL_EXTRA ? extra : wrong);
        }
    }
    /* legend under the panels */
    int ly = (int)(py + S + FAIL_GAP), x = FAIL_GAP;
    mvot_draw_outline(out, x, ly - ts, x + 12 * ts, ly + 8 * ts, ts + 1, wrong);
    x += 16 * ts;
    const char *l1 = "should change, wrong";
    mvot_draw_text(out, x, ly, ts, l1, ink);
    x += mvot_text_width(l1, ts) + 24 * ts;
    mvot_draw_outline(out, x, ly - ts, x + 12 * ts, ly + 8 * ts, ts + 1, extra);
    mvot_draw_text(out, x + 16 * ts, ly, ts, "should stay, changed", ink);
    return MVOT_OK;
}

json_t *mvot_eval_summary(const struct mvot_eval_result *r)
{
    const json_t *ov = json_object_get(r->report, "overall");
    json_t *o = json_object();
    static const char *const keys[] = {"accuracy", "v_acc",      "v_red",         "v_steps",
                                       "v_ratio",  "code_match", "code_distance", "n"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        json_object_set(o, keys[i], json_object_get(ov, keys[i]));
    json_object_set(o, "answers", json_object_get(ov, "answers"));
    json_object_set(o, "lines", json_object_get(r->report, "lines"));
    json_object_set(o, "scored", json_object_get(r->report, "scored"));
    json_object_set(o, "reconstruction", json_object_get(r->report, "reconstruction"));
    json_object_set(o, "diagnostics",
                    json_object_get(json_object_get(r->report, "diagnostics"), "counts"));
    return o;
}

static void cell_rate(struct mvot_buf *b, const json_t *v)
{
    if (json_is_number(v))
        mvot_buf_printf(b, " %.2f%% |", 100.0 * json_number_value(v));
    else
        mvot_buf_printf(b, " – |");
}

static void cell_num(struct mvot_buf *b, const json_t *v)
{
    if (json_is_number(v))
        mvot_buf_printf(b, " %.2f |", json_number_value(v));
    else
        mvot_buf_printf(b, " – |");
}

static void table_row(struct mvot_buf *b, const char *name, const json_t *a)
{
    const json_t *ans = json_object_get(a, "answers"), *vis = json_object_get(a, "visual");
    mvot_buf_printf(b, "| %s | %lld |", name,
                    (long long)json_integer_value(json_object_get(a, "n")));
    cell_rate(b, json_object_get(a, "accuracy"));
    mvot_buf_printf(b, " %lld |",
                    (long long)json_integer_value(json_object_get(ans, "unparseable")));
    mvot_buf_printf(b, " %lld |", (long long)json_integer_value(json_object_get(vis, "n")));
    cell_rate(b, json_object_get(a, "v_acc"));
    cell_rate(b, json_object_get(a, "v_red"));
    cell_num(b, json_object_get(a, "v_steps"));
    cell_rate(b, json_object_get(a, "v_ratio"));
    cell_rate(b, json_object_get(a, "code_match"));
    cell_num(b, json_object_get(a, "code_distance"));
    mvot_buf_printf(b, "\n");
}

/* Group names in order: numbers (grid sizes) numerically, others alphabetically. */
static int name_cmp(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int na = la && strspn(a, "0123456789") == la, nb = lb && strspn(b, "0123456789") == lb;
    if (na && nb && la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a, b);
}

static void table(struct mvot_buf *b, const char *title, const json_t *groups, const json_t *one)
{
    mvot_buf_printf(b, "\n## %s\n\n", title);
    mvot_buf_printf(b, "| group | n | accuracy | unparseable | images | V-Acc | V-Red | V-Steps | "
                       "V-Ratio | code match | code dist |\n");
    mvot_buf_printf(b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    if (one)
        table_row(b, "all", one);
    const char *k;
    const json_t *v;
    /* jansson iterates in insertion order; sort for a stable document. */
    size_t n = groups ? json_object_size(groups) : 0, i = 0;
    const char **names = calloc(n + 1, sizeof *names);
    if (!names)
        return;
    json_object_foreach((json_t *)groups, k, v) names[i++] = k;
    for (size_t x = 1; x < n; x++)
        for (size_t y = x; y > 0 && name_cmp(names[y - 1], names[y]) > 0; y--) {
            const char *t = names[y];
            names[y] = names[y - 1];
            names[y - 1] = t;
        }
    for (i = 0; i < n; i++)
        table_row(b, names[i], json_object_get(groups, names[i]));
    free(names);
}

char *mvot_eval_report_md(const json_t *r)
{
    struct mvot_buf b;
    mvot_buf_init(&b, 0);
    const json_t *ov = json_object_get(r, "overall");
    mvot_buf_printf(&b, "# mvot eval report\n\n");
    mvot_buf_printf(&b, "%lld prediction lines, %lld scored. Definitions: docs/eval.md.\n",
                    (long long)json_integer_value(json_object_get(r, "lines")),
                    (long long)json_integer_value(json_object_get(r, "scored")));
    table(&b, "Overall", NULL, ov);
    table(&b, "By task", json_object_get(r, "by_task"), NULL);
    table(&b, "By grid size", json_object_get(r, "by_grid"), NULL);
    table(&b, "By split", json_object_get(r, "by_split"), NULL);
    table(&b, "By mode", json_object_get(r, "by_mode"), NULL);

    const json_t *ans = json_object_get(ov, "answers"), *img = json_object_get(ov, "images");
    const json_t *conf = json_object_get(ov, "confusion"), *vis = json_object_get(ov, "visual");
    mvot_buf_printf(&b,
                    "\n## Answers\n\n| with an answer | correct | wrong | unparseable |\n"
                    "|---:|---:|---:|---:|\n| %lld | %lld | %lld | %lld |\n",
                    (long long)json_integer_value(json_object_get(ans, "n")),
                    (long long)json_integer_value(json_object_get(ans, "correct")),
                    (long long)json_integer_value(json_object_get(ans, "wrong")),
                    (long long)json_integer_value(json_object_get(ans, "unparseable")));
    mvot_buf_printf(&b,
                    "\n## Images\n\n| expected | predicted | missing | malformed | extra |\n"
                    "|---:|---:|---:|---:|---:|\n| %lld | %lld | %lld | %lld | %lld |\n",
                    (long long)json_integer_value(json_object_get(img, "expected")),
                    (long long)json_integer_value(json_object_get(img, "predicted")),
                    (long long)json_integer_value(json_object_get(img, "missing")),
                    (long long)json_integer_value(json_object_get(img, "malformed")),
                    (long long)json_integer_value(json_object_get(img, "extra")));
    mvot_buf_printf(&b,
                    "\n## Per-cell confusion\n\n| missing agent | duplicated agent | wrong "
                    "position | artifacts | modified cells ok | cells changed outside |\n"
                    "|---:|---:|---:|---:|---:|---:|\n| %lld | %lld | %lld | %lld | %lld / %lld "
                    "| %lld |\n",
                    (long long)json_integer_value(json_object_get(conf, "missing_agent")),
                    (long long)json_integer_value(json_object_get(conf, "duplicated_agent")),
                    (long long)json_integer_value(json_object_get(conf, "wrong_position")),
                    (long long)json_integer_value(json_object_get(conf, "artifacts")),
                    (long long)json_integer_value(json_object_get(vis, "cells_modified_ok")),
                    (long long)json_integer_value(json_object_get(vis, "cells_modified")),
                    (long long)json_integer_value(json_object_get(vis, "cells_extra")));
    const json_t *tol = json_object_get(r, "tolerance"),
                 *rec = json_object_get(r, "reconstruction");
    mvot_buf_printf(&b,
                    "\n## Tolerance and reconstruction check\n\nA pixel differs when a channel "
                    "differs by more than %lld; a cell matches when at most %.2f%% of its pixels "
                    "(inset %lld px) differ. Truth codes decoded and scored as predictions: "
                    "%lld of %lld label images correct (worst cell %.2f%%).\n",
                    (long long)json_integer_value(json_object_get(tol, "pixel_tol")),
                    100.0 * json_number_value(json_object_get(tol, "cell_tol")),
                    (long long)json_integer_value(json_object_get(tol, "inset")),
                    (long long)json_integer_value(json_object_get(rec, "correct")),
                    (long long)json_integer_value(json_object_get(rec, "images")),
                    100.0 * json_number_value(json_object_get(rec, "max_cell_diff")));
    const json_t *dg = json_object_get(r, "diagnostics");
    mvot_buf_printf(&b, "\n## Diagnostics (%lld)\n\n| class | lines |\n|---|---:|\n",
                    (long long)json_integer_value(json_object_get(dg, "total")));
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)json_object_get(dg, "counts"), k, v)
    {
        if (json_integer_value(v))
            mvot_buf_printf(&b, "| %s | %lld |\n", k, (long long)json_integer_value(v));
    }
    const json_t *msgs = json_object_get(dg, "messages");
    size_t i;
    json_array_foreach(msgs, i, v)
    {
        if (i >= 20) {
            mvot_buf_printf(&b, "\n… %zu more in report.json\n", json_array_size(msgs) - 20);
            break;
        }
        mvot_buf_printf(&b, "%s- %s\n", i == 0 ? "\n" : "",
                        json_string_value(json_object_get(v, "message")));
    }
    const json_t *fl = json_object_get(r, "failures");
    if (json_array_size(fl)) {
        mvot_buf_printf(&b, "\n## Failures\n\nTruth left, prediction right; magenta: a modified "
                            "cell that is wrong, orange: a cell that should not have changed.\n\n");
        json_array_foreach(fl, i, v) mvot_buf_printf(&b, "- failures/%s\n", json_string_value(v));
    }
    if (mvot_buf_append(&b, "", 1) != MVOT_OK) {
        mvot_buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}

enum mvot_status mvot_eval_write_report(const struct mvot_eval_result *r, const char *dir,
                                        struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *jpath = mvot_io_join(dir, "report.json"), *mpath = mvot_io_join(dir, "report.md");
    char *md = mvot_eval_report_md(r->report);
    MVOT_FAIL_IF(!jpath || !mpath || !md, err, MVOT_ERR_NOMEM, "eval", "out of memory");
    MVOT_TRY(mvot_io_mkdirs(dir, err));
    MVOT_TRY(mvot_json_write_file(jpath, r->report, err));
    MVOT_TRY(mvot_io_write_file(mpath, md, strlen(md), err));
cleanup:
    free(jpath);
    free(mpath);
    free(md);
    return st;
}
