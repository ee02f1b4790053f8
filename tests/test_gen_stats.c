/* gen/stats: the text-only baselines. The tree must find a rule that is there (a leak it
 * exists to detect) and stay at chance on labels that ignore the features; fits are
 * deterministic; the Wilson interval matches known values; features follow the question's
 * action sequence (rendered actions, then the additional ones). */
#include <string.h>

#include <jansson.h>

#include "gen/stats.h"
#include "tests/test.h"

static uint32_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/* n samples with random features; y = rule(x) or, with rule 0, a label independent of x. */
static void make(struct mvot_stats_sample *s, size_t n, int rule, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        memset(&s[i], 0, sizeof s[i]);
        for (int f = 0; f < MVOT_STATS_NF; f++)
            s[i].x[f] = (float)(lcg(&seed) % 7);
        s[i].y =
            rule ? (uint8_t)((s[i].x[3] > 2) + 2 * (s[i].x[17] > 4)) : (uint8_t)(lcg(&seed) % 4);
        s[i].split =
            i % 5 == 0 ? (i % 10 == 0 ? MVOT_SPLIT_DEV : MVOT_SPLIT_TEST) : MVOT_SPLIT_TRAIN;
    }
}

static void t_tree_finds_a_rule(void)
{
    static struct mvot_stats_sample s[5000];
    struct mvot_stats_result r;
    struct mvot_error err = {0};
    make(s, 5000, 1, 7);
    ASSERT_OK(mvot_stats_baselines(s, 5000, 4, 6, 5, &r, &err), &err);
    ASSERT_EQ_INT(r.n_train, 4000);
    ASSERT_EQ_INT(r.n_scored, 1000);
    ASSERT_EQ_INT(r.tree_correct, 1000); /* two splits express the rule exactly */
    ASSERT_TRUE(r.majority_correct < 450);
    /* depth 0 is the majority class */
    ASSERT_OK(mvot_stats_baselines(s, 5000, 4, 0, 5, &r, &err), &err);
    ASSERT_EQ_INT(r.tree_correct, r.majority_correct);
    ASSERT_EQ_INT(r.tree_leaves, 1);
}

static void t_tree_stays_at_chance_on_noise(void)
{
    static struct mvot_stats_sample s[5000];
    struct mvot_stats_result r, r2;
    struct mvot_error err = {0};
    make(s, 5000, 0, 11);
    ASSERT_OK(mvot_stats_baselines(s, 5000, 4, 6, 5, &r, &err), &err);
    double lo, hi;
    mvot_stats_wilson(r.tree_correct, r.n_scored, &lo, &hi);
    ASSERT_TRUE(lo <= 0.30 && hi >= 0.20);
    ASSERT_TRUE(r.tree_leaves > 8); /* it did split, on noise */
    ASSERT_OK(mvot_stats_baselines(s, 5000, 4, 6, 5, &r2, &err), &err);
    ASSERT_EQ_INT(r2.tree_correct, r.tree_correct);
    ASSERT_EQ_INT(r2.tree_leaves, r.tree_leaves);
}

static void t_wilson(void)
{
    double lo, hi;
    mvot_stats_wilson(50, 100, &lo, &hi);
    ASSERT_NEAR(lo, 0.4038, 1e-3);
    ASSERT_NEAR(hi, 0.5962, 1e-3);
    mvot_stats_wilson(0, 10, &lo, &hi);
    ASSERT_NEAR(lo, 0.0, 1e-12);
    ASSERT_NEAR(hi, 0.2775, 1e-3);
}

static void t_features(void)
{
    struct mvot_episode ep;
    struct mvot_stats_sample s;
    struct mvot_error err = {0};
    memset(&ep, 0, sizeof ep);
    ep.key = "frozenlake-000001";
    ep.grid = 4;
    ep.answer = "B";
    ep.split = MVOT_SPLIT_DEV;
    ep.record = json_pack("{s:[s,s,s],s:[s,s]}", "actions", "up", "right", "up",
                          "additional_actions", "down", "left");
    ASSERT_OK(mvot_stats_sample_of(&ep, &s, &err), &err);
    ASSERT_NEAR(s.x[0], 4, 0);
    ASSERT_NEAR(s.x[1], 5, 0);
    ASSERT_NEAR(s.x[2 + 0], 1, 0);  /* left */
    ASSERT_NEAR(s.x[2 + 3], 2, 0);  /* up */
    ASSERT_NEAR(s.x[8 + 4], 0, 0);  /* pickup absent */
    ASSERT_NEAR(s.x[14 + 3], 1, 0); /* first: up */
    ASSERT_NEAR(s.x[20 + 0], 1, 0); /* last: left, an additional action */
    ASSERT_EQ_INT(s.y, 1);
    ASSERT_EQ_INT(s.split, MVOT_SPLIT_DEV);
    json_decref(ep.record);
    ep.record = json_pack("{s:[s]}", "actions", "jump");
    ASSERT_TRUE(mvot_stats_sample_of(&ep, &s, &err) == MVOT_ERR_CORRUPT);
    json_decref(ep.record);
}

TEST_MAIN(t_tree_finds_a_rule, t_tree_stays_at_chance_on_noise, t_wilson, t_features)
