/* Metric accumulators and their JSON form (docs/eval.md "report.json").
 *
 * Counters only add, so per-line results merged in input order give the same numbers for
 * any thread count. Rates with an empty denominator are JSON null, never 0. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "tools/eval/eval_internal.h"

void eval_acc_add(struct eval_acc *a, const struct eval_acc *b)
{
    a->n += b->n;
    a->ans_n += b->ans_n;
    a->ans_correct += b->ans_correct;
    a->ans_wrong += b->ans_wrong;
    a->ans_unparseable += b->ans_unparseable;
    a->img_expected += b->img_expected;
    a->img_predicted += b->img_predicted;
    a->img_missing += b->img_missing;
    a->img_bad += b->img_bad;
    a->img_extra += b->img_extra;
    a->codes_total += b->codes_total;
    a->codes_equal += b->codes_equal;
    a->dist_sum += b->dist_sum;
    a->vis_n += b->vis_n;
    a->v_acc += b->v_acc;
    a->v_red += b->v_red;
    a->v_correct += b->v_correct;
    a->cells_mod += b->cells_mod;
    a->cells_mod_ok += b->cells_mod_ok;
    a->cells_extra += b->cells_extra;
    a->missing_agent += b->missing_agent;
    a->duplicated_agent += b->duplicated_agent;
    a->wrong_position += b->wrong_position;
    a->artifacts += b->artifacts;
    a->seq_n += b->seq_n;
    a->steps_sum += b->steps_sum;
    a->ratio_sum += b->ratio_sum;
}

static json_t *rate(double num, size_t den)
{
    return den ? json_real(num / (double)den) : json_null();
}

#define SETN(obj, k, v) json_object_set_new((obj), (k), json_integer((json_int_t)(v)))

json_t *eval_acc_json(const struct eval_acc *a)
{
    json_t *o = json_object(), *ans = json_object(), *img = json_object(), *tok = json_object();
    json_t *vis = json_object(), *conf = json_object();
    SETN(o, "n", a->n);
    json_object_set_new(o, "accuracy", rate((double)a->ans_correct, a->ans_n));
    json_object_set_new(o, "v_acc", rate((double)a->v_acc, a->vis_n));
    json_object_set_new(o, "v_red", rate((double)a->v_red, a->vis_n));
    json_object_set_new(o, "v_steps", rate(a->steps_sum, a->seq_n));
    json_object_set_new(o, "v_ratio", rate(a->ratio_sum, a->seq_n));
    json_object_set_new(o, "code_match", rate((double)a->codes_equal, a->codes_total));
    json_object_set_new(o, "code_distance", rate(a->dist_sum, a->codes_total));

    SETN(ans, "n", a->ans_n);
    SETN(ans, "correct", a->ans_correct);
    SETN(ans, "wrong", a->ans_wrong);
    SETN(ans, "unparseable", a->ans_unparseable);
    json_object_set_new(o, "answers", ans);

    SETN(img, "expected", a->img_expected);
    SETN(img, "predicted", a->img_predicted);
    SETN(img, "missing", a->img_missing);
    SETN(img, "malformed", a->img_bad);
    SETN(img, "extra", a->img_extra);
    json_object_set_new(o, "images", img);

    SETN(tok, "codes", a->codes_total);
    SETN(tok, "equal", a->codes_equal);
    json_object_set_new(tok, "distance_sum", json_real(a->dist_sum));
    json_object_set_new(o, "tokens", tok);

    SETN(vis, "n", a->vis_n);
    SETN(vis, "v_acc", a->v_acc);
    SETN(vis, "v_red", a->v_red);
    SETN(vis, "correct", a->v_correct);
    SETN(vis, "cells_modified", a->cells_mod);
    SETN(vis, "cells_modified_ok", a->cells_mod_ok);
    SETN(vis, "cells_extra", a->cells_extra);
    SETN(vis, "sequences", a->seq_n);
    json_object_set_new(vis, "steps_sum", json_real(a->steps_sum));
    json_object_set_new(o, "visual", vis);

    SETN(conf, "missing_agent", a->missing_agent);
    SETN(conf, "duplicated_agent", a->duplicated_agent);
    SETN(conf, "wrong_position", a->wrong_position);
    SETN(conf, "artifacts", a->artifacts);
    json_object_set_new(o, "confusion", conf);
    return o;
}

struct eval_acc *eval_groups_get(struct eval_groups *g, const char *dim, const char *val)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->v[i].dim, dim) == 0 && strcmp(g->v[i].val, val) == 0)
            return &g->v[i].acc;
    if (MVOT_GROW(&g->v, &g->alloc, g->n + 1, MVOT_GROW_UNCAPPED, NULL) != MVOT_OK)
        return NULL;
    struct eval_group *e = &g->v[g->n];
    memset(e, 0, sizeof *e);
    e->dim = strdup(dim);
    e->val = strdup(val);
    if (!e->dim || !e->val) {
        free(e->dim);
        free(e->val);
        return NULL;
    }
    g->n++;
    return &e->acc;
}

void eval_groups_free(struct eval_groups *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++) {
        free(g->v[i].dim);
        free(g->v[i].val);
    }
    free(g->v);
    memset(g, 0, sizeof *g);
}

void eval_item_free(struct eval_item *it)
{
    if (!it)
        return;
    mvot_eval_diags_free(&it->diags);
    free(it->key);
    free(it->episode);
    free(it->task);
    free(it->split);
    free(it->mode);
    for (size_t i = 0; i < it->n_fail; i++) {
        free(it->fail[i].name);
        mvot_image_free(&it->fail[i].img);
    }
    free(it->fail);
    free(it);
}
