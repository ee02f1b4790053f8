/* core/rng and core/pool: derived streams are independent of thread count; ordered map
 * emits in input order; the reported error is the lowest failing index. */
#include <unistd.h>

#include "core/pool.h"
#include "core/rng.h"
#include "tests/test.h"

#define N 1000

static uint64_t g_out[N];

static void draw(void *ctx, size_t i, int worker)
{
    (void)ctx;
    (void)worker;
    struct mvot_rng r;
    mvot_rng_derive(&r, 1234, 7, i);
    uint64_t acc = 0;
    for (int k = 0; k < 100; k++)
        acc ^= mvot_rng_next(&r) + (uint64_t)k;
    g_out[i] = acc;
}

static void test_rng_streams_thread_independent(void)
{
    uint64_t ref[N];
    mvot_pool_for(NULL, N, draw, NULL);
    memcpy(ref, g_out, sizeof ref);
    for (int threads = 2; threads <= 4; threads++) {
        struct mvot_pool *p = mvot_pool_create(threads);
        memset(g_out, 0, sizeof g_out);
        mvot_pool_for(p, N, draw, NULL);
        ASSERT_TRUE(memcmp(ref, g_out, sizeof ref) == 0);
        mvot_pool_free(p);
    }
    /* Different domains and indices give different streams. */
    ASSERT_TRUE(mvot_rng_mix(1, 2, 3) != mvot_rng_mix(1, 3, 2));
    ASSERT_TRUE(mvot_rng_mix(1, 2, 3) != mvot_rng_mix(2, 2, 3));
}

static void test_rng_ranges(void)
{
    struct mvot_rng r;
    mvot_rng_seed(&r, 99);
    int hist[6] = {0};
    for (int i = 0; i < 60000; i++) {
        uint64_t v = mvot_rng_below(&r, 6);
        ASSERT_TRUE(v < 6);
        hist[v]++;
        double u = mvot_rng_unit(&r);
        ASSERT_TRUE(u >= 0.0 && u < 1.0);
    }
    for (int i = 0; i < 6; i++)
        ASSERT_TRUE(hist[i] > 9000 && hist[i] < 11000);
    ASSERT_EQ_U64(mvot_rng_below(&r, 0), 0);
    int a[50];
    for (int i = 0; i < 50; i++)
        a[i] = i;
    mvot_rng_shuffle(&r, a, 50, sizeof a[0]);
    int sum = 0, moved = 0;
    for (int i = 0; i < 50; i++) {
        sum += a[i];
        moved += a[i] != i;
    }
    ASSERT_EQ_INT(sum, 49 * 50 / 2);
    ASSERT_TRUE(moved > 10);
}

struct map_ctx {
    size_t next_emit;
    int out_of_order;
    size_t fail_at[2];
};

static enum mvot_status work(void *ctx, size_t i, int worker, void **result, struct mvot_error *err)
{
    struct map_ctx *c = ctx;
    (void)worker;
    if ((i * 7919) % 13 == 0)
        usleep(200); /* jitter so later items finish first */
    if (i == c->fail_at[0] || i == c->fail_at[1])
        return mvot_error_set(err, MVOT_ERR_CORRUPT, NULL, "item %zu failed", i);
    size_t *r = malloc(sizeof *r);
    *r = i;
    *result = r;
    return MVOT_OK;
}

static enum mvot_status emit(void *ctx, size_t i, void *result, struct mvot_error *err)
{
    struct map_ctx *c = ctx;
    (void)err;
    size_t *r = result;
    if (*r != i || i != c->next_emit)
        c->out_of_order = 1;
    c->next_emit++;
    free(r);
    return MVOT_OK;
}

static void discard(void *ctx, void *result)
{
    (void)ctx;
    free(result);
}

static void test_pool_ordered_map(void)
{
    for (int threads = 1; threads <= 3; threads++) {
        struct mvot_pool *p = mvot_pool_create(threads);
        struct map_ctx c = {0, 0, {(size_t)-1, (size_t)-1}};
        struct mvot_error err;
        ASSERT_OK(mvot_pool_map_ordered(p, 500, 0, work, emit, discard, &c, &err), &err);
        ASSERT_EQ_INT(c.next_emit, 500);
        ASSERT_EQ_INT(c.out_of_order, 0);
        /* Two failures: the lowest index is reported, and everything before it was emitted. */
        struct map_ctx f = {0, 0, {300, 123}};
        ASSERT_EQ_INT(mvot_pool_map_ordered(p, 500, 5, work, emit, discard, &f, &err),
                      MVOT_ERR_CORRUPT);
        ASSERT_EQ_STR(err.msg, "item 123 failed");
        ASSERT_EQ_INT(f.next_emit, 123);
        ASSERT_EQ_INT(f.out_of_order, 0);
        /* The pool is reusable after a failure. */
        struct map_ctx c2 = {0, 0, {(size_t)-1, (size_t)-1}};
        ASSERT_OK(mvot_pool_map_ordered(p, 50, 0, work, emit, discard, &c2, &err), &err);
        ASSERT_EQ_INT(c2.next_emit, 50);
        mvot_pool_free(p);
    }
    mvot_pool_free(NULL);
    ASSERT_EQ_INT(mvot_pool_threads(NULL), 1);
}

TEST_MAIN(test_rng_streams_thread_independent, test_rng_ranges, test_pool_ordered_map)
