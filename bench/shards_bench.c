/* Shards micro-benchmarks (not a test):
 *   shards_bench SHARDS [threads]
 * 1. writer throughput: every sample of SHARDS is read back into memory, then re-serialized
 *    (tar members) and compressed (seekable zstd, level 3) with the given thread count, as
 *    pack's stage B does; reported in raw MB/s and samples/s (compare with `zstd -3` on the
 *    same tar bytes, done by shards_bench.sh).
 * 2. random single-sample read latency through the seek table (mvot_shard_set_get), 2000
 *    reads at seeded random indices on a warm page cache: mean, p50, p99. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "core/json.h"
#include "core/pool.h"
#include "core/rng.h"
#include "shards/reader.h"
#include "shards/writer.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct ctx {
    struct mvot_sample *s;
    char **json;
    ZSTD_CCtx **cc;
    size_t *raw, *comp;
};

static void work(void *vc, size_t i, int worker)
{
    struct ctx *c = vc;
    struct mvot_sample *s = &c->s[i];
    struct mvot_sample_parts p = {
        s->key,     s->tokens,  s->n_tokens,        0,        s->spans,
        s->n_spans, c->json[i], strlen(c->json[i]), s->n_png, (const uint8_t *const *)s->png,
        s->png_len};
    struct mvot_packed_sample ps;
    if (mvot_packed_sample_build(c->cc[worker], 3, &p, &ps, NULL) == MVOT_OK) {
        c->raw[i] = ps.raw.len;
        c->comp[i] = ps.comp.len;
        mvot_packed_sample_free(&ps);
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: shards_bench SHARDS [threads]\n");
        return 2;
    }
    int threads = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 1;
    if (threads < 1)
        threads = 1;
    struct mvot_error err = {0};
    struct mvot_shard_set *set = NULL;
    if (mvot_shard_set_open(argv[1], &set, &err) != MVOT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t n = mvot_shard_set_count(set);
    struct ctx c;
    c.s = calloc(n, sizeof *c.s);
    c.json = calloc(n, sizeof *c.json);
    c.raw = calloc(n, sizeof *c.raw);
    c.comp = calloc(n, sizeof *c.comp);
    for (size_t i = 0; i < n; i++) {
        if (mvot_shard_set_get(set, i, &c.s[i], &err) != MVOT_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        c.json[i] = mvot_json_dumps(c.s[i].meta);
    }
    struct mvot_pool *pool = mvot_pool_create(threads);
    c.cc = calloc((size_t)threads, sizeof *c.cc);
    for (int i = 0; i < threads; i++)
        c.cc[i] = ZSTD_createCCtx();
    /* the peer: the same tar bytes as one zstd -3 stream (what `zstd -3 -T1` does, minus
     * file I/O), timed in alternation with ours so machine load hits both alike */
    mvot_pool_for(pool, n, work, &c);
    size_t raw = 0;
    for (size_t i = 0; i < n; i++)
        raw += c.raw[i];
    uint8_t *tar = malloc(raw), *dst = malloc(ZSTD_compressBound(raw));
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        struct mvot_sample *s = &c.s[i];
        struct mvot_sample_parts p = {
            s->key,     s->tokens, s->n_tokens,       0,        s->spans,
            s->n_spans, c.json[i], strlen(c.json[i]), s->n_png, (const uint8_t *const *)s->png,
            s->png_len};
        struct mvot_packed_sample ps;
        if (mvot_packed_sample_build(c.cc[0], 3, &p, &ps, NULL) == MVOT_OK) {
            memcpy(tar + off, ps.raw.data, ps.raw.len);
            off += ps.raw.len;
            mvot_packed_sample_free(&ps);
        }
    }
    double best = 1e9, zbest = 1e9, pbest = 1e9;
    size_t zsize = 0, psize = 0;
    for (int rep = 0; rep < 5; rep++) {
        /* per-sample peer: zstd -3 on each sample's tar bytes alone (one frame each) */
        double t1 = now_s();
        psize = 0;
        for (size_t i = 0, o = 0; i < n; o += c.raw[i], i++)
            psize += ZSTD_compress(dst, ZSTD_compressBound(raw), tar + o, c.raw[i], 3);
        if (now_s() - t1 < pbest)
            pbest = now_s() - t1;
        double t0 = now_s();
        mvot_pool_for(pool, n, work, &c);
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
        t0 = now_s();
        zsize = ZSTD_compress(dst, ZSTD_compressBound(raw), tar, raw, 3);
        dt = now_s() - t0;
        if (dt < zbest)
            zbest = dt;
    }
    size_t comp = 0;
    for (size_t i = 0; i < n; i++)
        comp += c.comp[i];
    printf("writer: %zu samples, %.1f MB raw -> %.1f MB, threads %d: %.3f s, %.1f MB/s, %.0f "
           "samples/s\n",
           n, (double)raw / 1e6, (double)comp / 1e6, threads, best, (double)raw / 1e6 / best,
           (double)n / best);
    printf("zstd -3 per sample (independent frames), 1 thread: %.3f s, %.1f MB/s (-> %.1f MB); "
           "writer at %.0f%% of its speed\n",
           pbest, (double)raw / 1e6 / pbest, (double)psize / 1e6, 100.0 * pbest / best);
    printf("zstd -3 one stream, same bytes, 1 thread: %.3f s, %.1f MB/s (-> %.1f MB); writer at "
           "%.0f%% of its speed\n",
           zbest, (double)raw / 1e6 / zbest, (double)zsize / 1e6, 100.0 * zbest / best);
    free(tar);
    free(dst);

    /* random reads on a fresh handle */
    mvot_shard_set_close(set);
    mvot_shard_set_open(argv[1], &set, &err);
    enum { R = 2000 };
    static double lat[R];
    struct mvot_rng r;
    mvot_rng_seed(&r, 1);
    for (size_t i = 0; i < n; i++) { /* warm: load every seek table and index */
        struct mvot_sample s;
        if (mvot_shard_set_get(set, i, &s, NULL) == MVOT_OK)
            mvot_sample_free(&s);
    }
    double sum = 0;
    for (int i = 0; i < R; i++) {
        size_t k = (size_t)mvot_rng_below(&r, n);
        struct mvot_sample s;
        double t0 = now_s();
        mvot_shard_set_get(set, k, &s, NULL);
        lat[i] = (now_s() - t0) * 1e3;
        sum += lat[i];
        mvot_sample_free(&s);
    }
    qsort(lat, R, sizeof *lat, cmp_d);
    printf("random read: %d samples, mean %.3f ms, p50 %.3f ms, p99 %.3f ms\n", R, sum / R,
           lat[R / 2], lat[R * 99 / 100]);
    for (size_t i = 0; i < n; i++) {
        mvot_sample_free(&c.s[i]);
        free(c.json[i]);
    }
    for (int i = 0; i < threads; i++)
        ZSTD_freeCCtx(c.cc[i]);
    mvot_pool_free(pool);
    mvot_shard_set_close(set);
    free(c.s);
    free(c.json);
    free(c.raw);
    free(c.comp);
    free(c.cc);
    return 0;
}
