/* Shards micro-benchmarks (not a test):
 *   shards_bench SHARDS [threads]
 * 1. writer throughput: every sample of SHARDS is read back into memory, then re-serialized
 *    (tar members, `threads` workers as pack's stage B, in chunks of 64) and appended in
 *    order to the shard
 *    writer (episode groups compressed as one zstd -3 frame each, index, seek table, file
 *    write: one thread, as in pack); reported in raw MB/s and samples/s, against in-process
 *    zstd -3 on the same tar bytes as one stream (and shards_bench.sh runs the
 *    `zstd -3 -T1` command line on them).
 * 2. random single-sample read latency through the seek table (mvot_shard_set_get), 2000
 *    reads at seeded random indices on a warm page cache: mean, p50, p99. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "core/json.h"
#include "core/pool.h"
#include "core/rng.h"
#include "gen/episode.h"
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
    struct mvot_packed_sample *ps;
    int ok;
};

static void build(void *vc, size_t i, int worker)
{
    (void)worker;
    struct ctx *c = vc;
    struct mvot_sample *s = &c->s[i];
    const json_t *m = s->meta;
    const char *ep = json_string_value(json_object_get(m, "episode"));
    const char *task = json_string_value(json_object_get(m, "task"));
    const char *split = json_string_value(json_object_get(m, "split"));
    enum mvot_task t = MVOT_TASK_MAZE;
    int sp = 0;
    if (task)
        mvot_task_parse(task, &t);
    for (int k = 0; split && k < 3; k++)
        if (strcmp(split, mvot_split_name((enum mvot_split)k)) == 0)
            sp = k;
    struct mvot_sample_parts p = {s->key,
                                  (uint16_t)(ep ? strlen(ep) : 0),
                                  (uint8_t)sp,
                                  (uint8_t)t,
                                  s->tokens,
                                  s->n_tokens,
                                  0,
                                  s->spans,
                                  s->n_spans,
                                  c->json[i],
                                  strlen(c->json[i]),
                                  s->n_png,
                                  (const uint8_t *const *)s->png,
                                  s->png_len};
    if (mvot_packed_sample_build(&p, &c->ps[i], NULL) != MVOT_OK)
        c->ok = 0;
}

struct chunk {
    struct ctx *c;
    size_t first;
};

static void build_chunk(void *vc, size_t i, int worker)
{
    struct chunk *k = vc;
    build(k->c, k->first + i, worker);
}

/* Serializes the samples (pool, in chunks of 64 as pack does, so buffers are reused) and
 * writes them through the shard writer (one thread). Returns the shard's compressed size, or
 * 0 on failure. */
static uint64_t write_all(struct ctx *c, size_t n, struct mvot_pool *pool, const char *path,
                          uint64_t *raw)
{
    struct mvot_shard_writer *w = NULL;
    struct mvot_shard_info info = {0};
    if (mvot_shard_writer_open(path, 3, &w, NULL) != MVOT_OK)
        return 0;
    for (size_t first = 0; first < n; first += 64) {
        size_t m = n - first < 64 ? n - first : 64;
        struct chunk k = {c, first};
        mvot_pool_for(pool, m, build_chunk, &k);
        for (size_t i = first; i < first + m; i++) {
            if (mvot_shard_writer_add(w, &c->ps[i], NULL) != MVOT_OK)
                c->ok = 0;
            mvot_packed_sample_free(&c->ps[i]);
        }
    }
    if (mvot_shard_writer_commit(w, &info, NULL) != MVOT_OK)
        return 0;
    *raw = info.raw_bytes;
    return info.compressed_bytes;
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: shards_bench SHARDS [threads [TMPDIR]]\n");
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
    for (size_t i = 0; i < n; i++) {
        if (mvot_shard_set_get(set, i, &c.s[i], &err) != MVOT_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        c.json[i] = mvot_json_dumps(c.s[i].meta);
    }
    struct mvot_pool *pool = mvot_pool_create(threads);
    c.ps = calloc(n, sizeof *c.ps);
    c.ok = 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/.shards_bench.tar.zst", argc > 3 ? argv[3] : "/tmp");
    /* the peer's input: the same tar bytes (samples' members + the trailer) in one buffer */
    mvot_pool_for(pool, n, build, &c);
    size_t raw = 1024;
    for (size_t i = 0; i < n; i++)
        raw += c.ps[i].raw.len;
    uint8_t *tar = calloc(1, raw), *dst = malloc(ZSTD_compressBound(raw));
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(tar + off, c.ps[i].raw.data, c.ps[i].raw.len);
        off += c.ps[i].raw.len;
        mvot_packed_sample_free(&c.ps[i]);
    }
    double best = 1e9, zbest = 1e9;
    uint64_t comp = 0, wraw = 0;
    size_t zsize = 0;
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    for (int rep = 0; rep < 5; rep++) { /* alternated, so machine load hits both alike */
        double t0 = now_s();
        comp = write_all(&c, n, pool, path, &wraw);
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
        t0 = now_s();
        zsize = ZSTD_compressCCtx(cc, dst, ZSTD_compressBound(raw), tar, raw, 3);
        dt = now_s() - t0;
        if (dt < zbest)
            zbest = dt;
    }
    unlink(path);
    if (!c.ok || !comp) {
        fprintf(stderr, "writer failed\n");
        return 1;
    }
    printf("writer (tar with %d thread(s), groups + zstd -3 + index + file on one): %zu samples, "
           "%.1f MB raw -> %.2f MB, best of 5 %.3f s, %.1f MB/s, %.0f samples/s\n",
           threads, n, (double)wraw / 1e6, (double)comp / 1e6, best, (double)wraw / 1e6 / best,
           (double)n / best);
    printf("zstd -3 one stream in process, same bytes, 1 thread: %.3f s, %.1f MB/s (-> %.2f MB); "
           "writer at %.0f%% of its speed\n",
           zbest, (double)raw / 1e6 / zbest, (double)zsize / 1e6, 100.0 * zbest / best);
    ZSTD_freeCCtx(cc);
    free(tar);
    free(dst);
    free(c.ps);

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
    double sum = 0, cpu0 = cpu_s();
    for (int i = 0; i < R; i++) {
        size_t k = (size_t)mvot_rng_below(&r, n);
        struct mvot_sample s;
        double t0 = now_s();
        mvot_shard_set_get(set, k, &s, NULL);
        lat[i] = (now_s() - t0) * 1e3;
        sum += lat[i];
        mvot_sample_free(&s);
    }
    double cpu = (cpu_s() - cpu0) * 1e3 / R;
    qsort(lat, R, sizeof *lat, cmp_d);
    printf("random read: %d samples, wall mean %.3f ms, p50 %.3f ms, p99 %.3f ms; thread CPU "
           "mean %.3f ms\n",
           R, sum / R, lat[R / 2], lat[R * 99 / 100], cpu);
    for (size_t i = 0; i < n; i++) {
        mvot_sample_free(&c.s[i]);
        free(c.json[i]);
    }
    mvot_pool_free(pool);
    mvot_shard_set_close(set);
    free(c.s);
    free(c.json);
    return 0;
}
