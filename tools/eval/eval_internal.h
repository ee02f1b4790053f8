/* Internals shared by the eval modules: metric accumulators, the per-line result that
 * workers hand to the ordered emit step, and the report builders. */
#ifndef MVOT_TOOLS_EVAL_INTERNAL_H
#define MVOT_TOOLS_EVAL_INTERNAL_H

#include "tools/eval/eval.h"

/* Every counter of one group (overall, one task, one grid size, ...). */
struct eval_acc {
    size_t n; /* predictions scored */
    size_t ans_n, ans_correct, ans_wrong, ans_unparseable;
    size_t img_expected, img_predicted, img_missing, img_bad, img_extra;
    size_t codes_total, codes_equal;
    double dist_sum;
    size_t vis_n, v_acc, v_red, v_correct;
    size_t cells_mod, cells_mod_ok, cells_extra;
    size_t missing_agent, duplicated_agent, wrong_position, artifacts;
    size_t seq_n;
    double steps_sum, ratio_sum;
};
void eval_acc_add(struct eval_acc *a, const struct eval_acc *b);
json_t *eval_acc_json(const struct eval_acc *a);

/* Groups keyed by (dimension, value), e.g. ("task", "maze"). */
struct eval_group {
    char *dim, *val;
    struct eval_acc acc;
};
struct eval_groups {
    struct eval_group *v;
    size_t n, alloc;
};
struct eval_acc *eval_groups_get(struct eval_groups *g, const char *dim, const char *val);
void eval_groups_free(struct eval_groups *g);

/* A failure picture prepared by a worker (written by emit if under the cap). */
struct eval_failure {
    char *name; /* file name under failures/ */
    struct mvot_image img;
};

/* One scored line, from worker to emit. */
struct eval_item {
    struct mvot_eval_diags diags;
    int scored;
    char *key, *episode, *task, *split, *mode;
    uint32_t grid;
    int64_t step;
    int single_vis;  /* single-step visualization: counts toward episode V-Steps */
    int vis_correct; /* for single_vis */
    struct eval_acc acc;
    /* reconstruction check of the truth label images */
    size_t rec_images, rec_ok;
    double rec_max;
    struct eval_failure *fail;
    size_t n_fail;
};
void eval_item_free(struct eval_item *it);

/* What a failure picture says about itself. */
struct eval_failure_labels {
    const char *key;      /* sample key */
    size_t image;         /* label image index within the sample */
    int64_t target_frame; /* frame number of the target */
    int64_t prev_frame;   /* frame number of the previous frame, -1 if none */
};

/* Builds the failure picture: a header with the key and the counts, then three panels with
 * captions, the previous frame (blank when prev is NULL), the target and the prediction, with
 * the wrong cells outlined on the last two, and a legend for the outline colours. */
enum mvot_status eval_failure_image(const struct mvot_image *prev, const struct mvot_image *truth,
                                    const struct mvot_image *pred,
                                    const struct mvot_eval_box *cells,
                                    const struct mvot_eval_iscore *s,
                                    const struct eval_failure_labels *lab, struct mvot_image *out,
                                    struct mvot_error *err);
/* Top-left pixel of panel 0 (previous), 1 (target) or 2 (prediction) for S-px frames. */
void eval_failure_panel(uint32_t S, int panel, uint32_t *x, uint32_t *y);

#endif
