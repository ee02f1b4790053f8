/* Text-only baselines (gen/stats.h): surface features of the question's action sequence, a
 * deterministic depth-limited CART tree (Gini impurity, binary splits at midpoints), the
 * majority class, and the Wilson interval used to report them.
 *
 * Invariant: the tree is a flat node array built depth-first; node 0 is the root, an inner node
 * sends x[feature] <= threshold to `left`, otherwise to `right`. */
#include "gen/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char *const ACTION[6] = {"left", "down", "right", "up", "pickup", "drop"};

static int action_id(const json_t *v)
{
    const char *s = json_string_value(v);
    for (int i = 0; s && i < 6; i++)
        if (strcmp(s, ACTION[i]) == 0)
            return i;
    return -1;
}

enum mvot_status mvot_stats_sample_of(const struct mvot_episode *ep, struct mvot_stats_sample *s,
                                      struct mvot_error *err)
{
    const json_t *lists[2] = {json_object_get(ep->record, "actions"),
                              json_object_get(ep->record, "additional_actions")};
    uint32_t len = 0;
    int first = -1, last = -1;
    memset(s, 0, sizeof *s);
    if (!json_is_array(lists[0]) || !ep->answer || ep->answer[0] < 'A' ||
        ep->answer[0] >= 'A' + MVOT_STATS_MAX_CLASSES)
        return mvot_error_set(err, MVOT_ERR_CORRUPT, ep->key, "record lacks actions or answer");
    for (int l = 0; l < 2; l++) {
        size_t i;
        const json_t *v;
        if (!json_is_array(lists[l]))
            continue;
        json_array_foreach(lists[l], i, v)
        {
            int a = action_id(v);
            if (a < 0)
                return mvot_error_set(err, MVOT_ERR_CORRUPT, ep->key, "unknown action in %s",
                                      l ? "additional_actions" : "actions");
            s->x[2 + a] += 1;
            s->x[8 + a] = 1;
            if (first < 0)
                first = a;
            last = a;
            len++;
        }
    }
    s->x[0] = (float)ep->grid;
    s->x[1] = (float)len;
    if (first >= 0) {
        s->x[14 + first] = 1;
        s->x[20 + last] = 1;
    }
    s->y = (uint8_t)(ep->answer[0] - 'A');
    s->split = (uint8_t)ep->split;
    return MVOT_OK;
}

struct node {
    int32_t feature; /* -1: leaf */
    float threshold;
    uint32_t left, right, label;
};

struct mvot_stats_tree {
    struct node *nodes;
    uint32_t n, cap, leaves;
};

struct fit {
    const struct mvot_stats_sample *const *s;
    uint32_t k, max_depth, min_leaf;
    struct mvot_stats_tree *t;
};

struct pair {
    float v;
    uint32_t idx; /* ties by index: a total order, so qsort's result is deterministic */
};

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static double gini(const uint64_t *c, uint32_t k, uint64_t n)
{
    if (n == 0)
        return 0;
    double g = 1;
    for (uint32_t j = 0; j < k; j++) {
        double p = (double)c[j] / (double)n;
        g -= p * p;
    }
    return g;
}

static int new_node(struct mvot_stats_tree *t)
{
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? 2 * t->cap : 64;
        struct node *nn = realloc(t->nodes, cap * sizeof *nn);
        if (!nn)
            return -1;
        t->nodes = nn;
        t->cap = cap;
    }
    memset(&t->nodes[t->n], 0, sizeof t->nodes[t->n]);
    t->nodes[t->n].feature = -1;
    return (int)t->n++;
}

/* Builds the subtree of the samples idx[0..n) and returns its node, or -1 out of memory.
 * pairs is scratch of n entries. */
static int build(struct fit *f, uint32_t *idx, uint32_t n, uint32_t depth, struct pair *pairs)
{
    uint64_t cnt[MVOT_STATS_MAX_CLASSES] = {0};
    for (uint32_t i = 0; i < n; i++)
        cnt[f->s[idx[i]]->y]++;
    int me = new_node(f->t);
    if (me < 0)
        return -1;
    uint32_t label = 0;
    for (uint32_t j = 1; j < f->k; j++)
        if (cnt[j] > cnt[label])
            label = j;
    f->t->nodes[me].label = label;
    double parent = gini(cnt, f->k, n);
    if (depth >= f->max_depth || n < 2 * f->min_leaf || parent <= 0) {
        f->t->leaves++;
        return me;
    }
    double best = parent - 1e-12;
    int best_f = -1;
    float best_thr = 0;
    for (int feat = 0; feat < MVOT_STATS_NF; feat++) {
        for (uint32_t i = 0; i < n; i++) {
            pairs[i].v = f->s[idx[i]]->x[feat];
            pairs[i].idx = idx[i];
        }
        qsort(pairs, n, sizeof *pairs, cmp_pair);
        uint64_t left[MVOT_STATS_MAX_CLASSES] = {0}, right[MVOT_STATS_MAX_CLASSES];
        memcpy(right, cnt, sizeof right);
        for (uint32_t i = 0; i + 1 < n; i++) {
            uint32_t y = f->s[pairs[i].idx]->y;
            left[y]++;
            right[y]--;
            if (pairs[i].v == pairs[i + 1].v || i + 1 < f->min_leaf || n - i - 1 < f->min_leaf)
                continue;
            double g = ((double)(i + 1) * gini(left, f->k, i + 1) +
                        (double)(n - i - 1) * gini(right, f->k, n - i - 1)) /
                       (double)n;
            if (g < best) {
                best = g;
                best_f = feat;
                best_thr = (pairs[i].v + pairs[i + 1].v) / 2;
            }
        }
    }
    if (best_f < 0) {
        f->t->leaves++;
        return me;
    }
    /* Partition idx in place, keeping the order of each side (stable, so deterministic). */
    uint32_t *tmp = malloc(n * sizeof *tmp), nl = 0, nr = 0;
    if (!tmp)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        if (f->s[idx[i]]->x[best_f] <= best_thr)
            idx[nl++] = idx[i];
        else
            tmp[nr++] = idx[i];
    memcpy(idx + nl, tmp, nr * sizeof *tmp);
    free(tmp);
    int l = build(f, idx, nl, depth + 1, pairs);
    int r = l < 0 ? -1 : build(f, idx + nl, nr, depth + 1, pairs);
    if (r < 0)
        return -1;
    struct node *nd = &f->t->nodes[me]; /* after the recursion: nodes may have moved */
    nd->feature = best_f;
    nd->threshold = best_thr;
    nd->left = (uint32_t)l;
    nd->right = (uint32_t)r;
    return me;
}

enum mvot_status mvot_stats_tree_fit(const struct mvot_stats_sample *const *samples, size_t n,
                                     uint32_t k, uint32_t max_depth, uint32_t min_leaf,
                                     struct mvot_stats_tree **out, struct mvot_error *err)
{
    *out = NULL;
    if (k < 1 || k > MVOT_STATS_MAX_CLASSES || n > UINT32_MAX || max_depth > 32)
        return mvot_error_set(err, MVOT_ERR_INVALID, "stats", "bad tree parameters");
    for (size_t i = 0; i < n; i++)
        if (samples[i]->y >= k)
            return mvot_error_set(err, MVOT_ERR_INVALID, "stats", "sample %zu: class %u >= %u", i,
                                  samples[i]->y, k);
    struct mvot_stats_tree *t = calloc(1, sizeof *t);
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx);
    struct pair *pairs = malloc((n ? n : 1) * sizeof *pairs);
    struct fit f = {samples, k, max_depth, min_leaf ? min_leaf : 1, t};
    int ok = t && idx && pairs;
    for (size_t i = 0; ok && i < n; i++)
        idx[i] = (uint32_t)i;
    ok = ok && build(&f, idx, (uint32_t)n, 0, pairs) == 0;
    free(idx);
    free(pairs);
    if (!ok) {
        mvot_stats_tree_free(t);
        return mvot_error_set(err, MVOT_ERR_NOMEM, "stats", "out of memory");
    }
    *out = t;
    return MVOT_OK;
}

uint32_t mvot_stats_tree_predict(const struct mvot_stats_tree *t, const float *x)
{
    uint32_t i = 0;
    while (t->nodes[i].feature >= 0)
        i = x[t->nodes[i].feature] <= t->nodes[i].threshold ? t->nodes[i].left : t->nodes[i].right;
    return t->nodes[i].label;
}

uint32_t mvot_stats_tree_leaves(const struct mvot_stats_tree *t)
{
    return t->leaves;
}

void mvot_stats_tree_free(struct mvot_stats_tree *t)
{
    if (!t)
        return;
    free(t->nodes);
    free(t);
}

enum mvot_status mvot_stats_baselines(const struct mvot_stats_sample *s, size_t n, uint32_t k,
                                      uint32_t max_depth, uint32_t min_leaf,
                                      struct mvot_stats_result *r, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const struct mvot_stats_sample **train = malloc((n ? n : 1) * sizeof *train);
    struct mvot_stats_tree *tree = NULL;
    uint64_t cnt[MVOT_STATS_MAX_CLASSES] = {0};
    memset(r, 0, sizeof *r);
    r->k = k;
    MVOT_FAIL_IF(!train, err, MVOT_ERR_NOMEM, "stats", "out of memory");
    for (size_t i = 0; i < n; i++)
        if (s[i].split == MVOT_SPLIT_TRAIN && s[i].y < MVOT_STATS_MAX_CLASSES) {
            train[r->n_train++] = &s[i];
            cnt[s[i].y]++;
        }
    for (uint32_t j = 1; j < k; j++)
        if (cnt[j] > cnt[r->majority])
            r->majority = j;
    MVOT_TRY(mvot_stats_tree_fit(train, (size_t)r->n_train, k, max_depth, min_leaf, &tree, err));
    r->tree_leaves = mvot_stats_tree_leaves(tree);
    for (size_t i = 0; i < n; i++) {
        if (s[i].split == MVOT_SPLIT_TRAIN)
            continue;
        r->n_scored++;
        r->majority_correct += s[i].y == r->majority;
        r->tree_correct += s[i].y == mvot_stats_tree_predict(tree, s[i].x);
    }
cleanup:
    mvot_stats_tree_free(tree);
    free(train);
    return st;
}

void mvot_stats_wilson(uint64_t correct, uint64_t n, double *lo, double *hi)
{
    if (n == 0) {
        *lo = 0;
        *hi = 1;
        return;
    }
    const double z = 1.959963984540054;
    double p = (double)correct / (double)n, nn = (double)n;
    double den = 1 + z * z / nn, mid = (p + z * z / (2 * nn)) / den;
    double half = z * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / den;
    *lo = mid - half < 0 ? 0 : mid - half;
    *hi = mid + half > 1 ? 1 : mid + half;
}
