/* Text-only baselines (`mvot stats`): the surface features a model could read from a
 * question's action sequence without looking at any image, and a small deterministic CART
 * decision tree (Gini, depth-limited) trained on them. If such a tree beats chance, the answer
 * leaks through the text; docs/tasks.md records the measured table.
 *
 * Determinism: the tree depends only on the samples and their order; ties between splits go
 * to the lower feature index, then the lower threshold. */
#ifndef MVOT_GEN_STATS_H
#define MVOT_GEN_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "gen/episode.h"

/* Features, in this order: grid size n, sequence length, the count of each action (left,
 * down, right, up, pick up, drop), then three one-hot groups of six: action present, first
 * action, last action. The sequence is the one the question writes: the rendered actions
 * followed by the additional (text-only) ones. */
#define MVOT_STATS_NF 26
#define MVOT_STATS_MAX_CLASSES 4

struct mvot_stats_sample {
    float x[MVOT_STATS_NF];
    uint8_t y;     /* answer index, 0 = A */
    uint8_t split; /* enum mvot_split */
};

/* Fills s from an episode's record ("actions", "additional_actions", "answer"). */
enum mvot_status mvot_stats_sample_of(const struct mvot_episode *ep, struct mvot_stats_sample *s,
                                      struct mvot_error *err);

/* A fitted tree; free with mvot_stats_tree_free (NULL is a no-op). */
struct mvot_stats_tree;

/* Fits a CART tree on samples (all of them; the caller picks the training set) with k classes,
 * at most max_depth splits on any path (0: a single leaf) and at least min_leaf samples per
 * leaf. Leaves predict their majority class (ties: the lower class). */
enum mvot_status mvot_stats_tree_fit(const struct mvot_stats_sample *const *samples, size_t n,
                                     uint32_t k, uint32_t max_depth, uint32_t min_leaf,
                                     struct mvot_stats_tree **out, struct mvot_error *err);
uint32_t mvot_stats_tree_predict(const struct mvot_stats_tree *t, const float *x);
uint32_t mvot_stats_tree_leaves(const struct mvot_stats_tree *t);
void mvot_stats_tree_free(struct mvot_stats_tree *t);

/* One task's baselines: trained on the train split, scored on dev + test. */
struct mvot_stats_result {
    uint32_t k; /* answer options: chance is 1/k */
    uint64_t n_train, n_scored;
    uint32_t majority;         /* most frequent train answer (ties: the lower) */
    uint64_t majority_correct; /* on the scored set */
    uint64_t tree_correct;
    uint32_t tree_leaves;
};
enum mvot_status mvot_stats_baselines(const struct mvot_stats_sample *s, size_t n, uint32_t k,
                                      uint32_t max_depth, uint32_t min_leaf,
                                      struct mvot_stats_result *r, struct mvot_error *err);

/* 95% Wilson score interval of a proportion correct/n, in [0, 1]; n = 0 gives [0, 1]. */
void mvot_stats_wilson(uint64_t correct, uint64_t n, double *lo, double *hi);

#endif
