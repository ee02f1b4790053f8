/* mvot eval benchmark and tolerance calibration (not part of ctest; driven by eval_bench.sh).
 *
 *   eval_bench --work DIR [--episodes N] [--K K] [--threads T] [--preds N]
 *
 * 1. Once per DIR: gen (N episodes per task, 512 px) -> patch codebook (K codes) -> pack
 *    (mode mvot, 1024 codes per image) into DIR/shards.
 * 2. Writes DIR/preds.jsonl: up to --preds single-step visualization predictions built from
 *    the truth codes; every 10th one has the agent's new cell replaced by the previous
 *    frame's codes (a wrong visualization). Exports the same predictions for the Python peer
 *    (DIR/peer: lut.npy, codes.npy, boxes.npy, gt/<i>.png).
 * 3. Times mvot_eval_run on them (T threads) and prints one JSON line: predictions/s, the
 *    report's headline numbers, and the calibration figures of docs/eval.md: the worst
 *    reconstruction cell and the smallest visible modification per task. */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "codebook/codebook.h"
#include "codebook/train.h"
#include "core/io.h"
#include "core/json.h"
#include "core/npy.h"
#include "gen/gen.h"
#include "shards/pack.h"
#include "shards/reader.h"
#include "tests/test_shards_fixture.h"
#include "tools/eval/eval.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static int die(const char *what, const struct mvot_error *err)
{
    fprintf(stderr, "eval_bench: %s: %s\n", what, err->msg);
    return 1;
}

static int build(const char *work, uint64_t episodes, uint32_t K, int threads)
{
    struct mvot_error err = {0};
    struct mvot_gen_config cfg;
    struct mvot_pool *pool = mvot_pool_create(threads);
    char *gdir = mvot_io_join(work, "gen"), *arch = mvot_io_join(gdir, "episodes.tar.zst");
    char *cbp = mvot_io_join(work, "cb.safetensors"), *tp = mvot_io_join(work, "tokenizer.json");
    char *sd = mvot_io_join(work, "shards");
    double t0 = now();
    mvot_gen_config_default(&cfg);
    cfg.episodes = episodes;
    cfg.seed = 11;
    if (mvot_gen_run(&cfg, gdir, pool, NULL, NULL, &err) != MVOT_OK)
        return die("gen", &err);
    fprintf(stderr, "gen %.1f s\n", now() - t0);
    t0 = now();
    struct mvot_kmeans_opts ko;
    struct mvot_codebook cb;
    memset(&cb, 0, sizeof cb);
    mvot_kmeans_opts_default(&ko);
    ko.K = K;
    ko.max_iters = 5;
    if (mvot_codebook_train_archive(arch, &ko, pool, NULL, &cb, &err) != MVOT_OK ||
        mvot_codebook_save(cbp, &cb, &err) != MVOT_OK)
        return die("codebook", &err);
    mvot_codebook_free(&cb);
    fprintf(stderr, "codebook %.1f s\n", now() - t0);
    if (fx_write_tokenizer(tp) != 0)
        return 1;
    t0 = now();
    struct mvot_pack_opts po;
    mvot_pack_opts_default(&po);
    if (mvot_pack_run(gdir, tp, cbp, sd, &po, pool, NULL, NULL, &err) != MVOT_OK)
        return die("pack", &err);
    fprintf(stderr, "pack %.1f s\n", now() - t0);
    mvot_pool_free(pool);
    free(gdir);
    free(arch);
    free(cbp);
    free(tp);
    free(sd);
    return 0;
}

static int jint(const json_t *o, const char *k, int64_t *v)
{
    const json_t *x = json_object_get(o, k);
    if (!json_is_integer(x))
        return 0;
    *v = json_integer_value(x);
    return 1;
}

static int states(const json_t *meta, int64_t f, uint8_t *out, size_t n)
{
    char name[32];
    snprintf(name, sizeof name, "%lld", (long long)f);
    const json_t *a = json_object_get(json_object_get(meta, "cell_states"), name);
    if (json_array_size(a) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)json_integer_value(json_array_get(a, i));
    return 1;
}

struct calib {
    double min_mod[MVOT_TASK_COUNT]; /* smallest visible modified-cell change */
    size_t invisible[MVOT_TASK_COUNT];
    size_t unchanged[MVOT_TASK_COUNT];     /* state changed, pixels identical */
    double max_invisible[MVOT_TASK_COUNT]; /* largest change within the tolerance */
    double min_change[MVOT_TASK_COUNT];    /* smallest nonzero change */
    size_t mod_cells[MVOT_TASK_COUNT];
};

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"work", required_argument, 0, 'w'},  {"episodes", required_argument, 0, 'e'},
        {"K", required_argument, 0, 'k'},     {"threads", required_argument, 0, 't'},
        {"preds", required_argument, 0, 'p'}, {0, 0, 0, 0}};
    const char *work = NULL;
    uint64_t episodes = 500, max_preds = 10000;
    uint32_t K = 8192;
    int threads = 2, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'w': work = optarg; break;
        case 'e': episodes = strtoull(optarg, &end, 10); break;
        case 'k': K = (uint32_t)strtoul(optarg, &end, 10); break;
        case 't': threads = (int)strtol(optarg, &end, 10); break;
        case 'p': max_preds = strtoull(optarg, &end, 10); break;
        default:
            fprintf(stderr, "usage: eval_bench --work DIR [--episodes N] [--K K] [--threads T] "
                            "[--preds N]\n");
            return 2;
        }
    }
    if (!work)
        return 2;
    struct mvot_error err = {0};
    mallopt(M_MMAP_THRESHOLD, 64 << 20); /* as mvot eval does */
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    mvot_io_mkdirs(work, &err);
    char *sd = mvot_io_join(work, "shards"), *man = mvot_io_join(sd, "manifest.json");
    if (!mvot_io_exists(man) && build(work, episodes, K, threads) != 0)
        return 1;
    struct mvot_pool *pool = mvot_pool_create(threads);
    struct mvot_eval_truth *tr = NULL;
    if (mvot_eval_truth_open(sd, threads, pool, &tr, &err) != MVOT_OK)
        return die("truth", &err);
    const struct mvot_eval_vocab *v = mvot_eval_truth_vocab(tr);
    const struct mvot_eval_decoder *dec = mvot_eval_truth_decoder(tr);
    struct mvot_eval_tol tol;
    mvot_eval_tol_default(&tol);

    /* predictions + peer export + calibration */
    struct mvot_shard_set *set = NULL;
    if (mvot_shard_set_open(sd, &set, &err) != MVOT_OK)
        return die("open", &err);
    char *peer = mvot_io_join(work, "peer"), *gtd = mvot_io_join(peer, "gt");
    mvot_io_mkdirs(gtd, &err);
    struct mvot_buf jl;
    mvot_buf_init(&jl, 0);
    size_t n = 0, n_broken = 0, cap = (size_t)max_preds;
    int16_t *pcodes = malloc(cap * 1024 * sizeof *pcodes);
    int32_t *boxes = malloc(cap * 4 * sizeof *boxes);
    struct calib cal;
    for (int t = 0; t < MVOT_TASK_COUNT; t++) {
        cal.min_mod[t] = 1.0;
        cal.invisible[t] = cal.mod_cells[t] = cal.unchanged[t] = 0;
        cal.max_invisible[t] = 0;
        cal.min_change[t] = 1.0;
    }
    for (size_t i = 0; i < mvot_shard_set_count(set) && n < cap; i++) {
        struct mvot_sample s = {0};
        if (mvot_shard_set_get(set, i, &s, &err) != MVOT_OK)
            return die("get", &err);
        const json_t *m = s.meta;
        int64_t pf, tf, grid;
        const char *kind = json_string_value(json_object_get(m, "kind"));
        enum mvot_task task;
        if (!kind || strcmp(kind, "visualization") != 0 || !jint(m, "prev_frame", &pf) ||
            !jint(m, "target_frame", &tf) || !jint(m, "grid", &grid) ||
            mvot_task_parse(json_string_value(json_object_get(m, "task")), &task) != 0) {
            mvot_sample_free(&s);
            continue;
        }
        size_t nc = (size_t)(grid * grid), ni = json_array_size(json_object_get(m, "images"));
        uint8_t *sp = malloc(nc), *st = malloc(nc);
        states(m, pf, sp, nc);
        states(m, tf, st, nc);
        /* image groups: prev is images[ni-2], target images[ni-1] */
        size_t g = 0, pos[8] = {0};
        for (size_t k = 0; k < s.n_tokens && g < 8; k++)
            if ((int32_t)s.tokens[k] == v->boi)
                pos[g++] = k + 1;
        uint32_t *tgt = s.tokens + pos[ni - 1], *prv = s.tokens + pos[ni - 2];
        struct mvot_image ti = {0}, pi = {0};
        mvot_png_decode(s.png[ni - 1], s.png_len[ni - 1], "t", &ti, NULL);
        mvot_png_decode(s.png[ni - 2], s.png_len[ni - 2], "p", &pi, NULL);
        int32_t box[4] = {0, 0, 0, 0};
        int broke = 0;
        int32_t codes[1024];
        for (int k = 0; k < 1024; k++)
            codes[k] = v->id_to_code[tgt[k]];
        const json_t *cells = json_object_get(m, "cells");
        for (size_t cc = 0; cc < nc; cc++) {
            const json_t *b = json_array_get(cells, cc);
            struct mvot_eval_box eb = {(uint32_t)json_integer_value(json_array_get(b, 0)),
                                       (uint32_t)json_integer_value(json_array_get(b, 1)),
                                       (uint32_t)json_integer_value(json_array_get(b, 2)),
                                       (uint32_t)json_integer_value(json_array_get(b, 3))};
            if (sp[cc] != st[cc] || (st[cc] & 1)) {
                double d = mvot_eval_cell_diff(&tol, &eb, &pi, &ti);
                cal.mod_cells[task]++;
                if (d == 0)
                    cal.unchanged[task]++;
                else if (d < cal.min_change[task])
                    cal.min_change[task] = d;
                if (d <= tol.cell_tol && d > cal.max_invisible[task])
                    cal.max_invisible[task] = d;
                if (d <= tol.cell_tol)
                    cal.invisible[task]++;
                else if (d < cal.min_mod[task])
                    cal.min_mod[task] = d;
            }
            if ((st[cc] & 1) && !(sp[cc] & 1)) {
                box[0] = (int32_t)eb.x0;
                box[1] = (int32_t)eb.y0;
                box[2] = (int32_t)eb.x1;
                box[3] = (int32_t)eb.y1;
                if (n % 10 == 9 && !broke++) /* a wrong one: the new agent cell as before */
                    for (uint32_t y = eb.y0 / 16; y < (eb.y1 + 15) / 16 && y < 32; y++)
                        for (uint32_t x = eb.x0 / 16; x < (eb.x1 + 15) / 16 && x < 32; x++)
                            codes[y * 32 + x] = v->id_to_code[prv[y * 32 + x]];
            }
        }
        n_broken += (size_t)(broke > 0);
        mvot_buf_printf(&jl, "{\"key\":\"%s\",\"output_ids\":[%d", s.key, v->boi);
        for (int k = 0; k < 1024; k++) {
            mvot_buf_printf(&jl, ",%d", 4 + codes[k]);
            pcodes[n * 1024 + (size_t)k] = (int16_t)codes[k];
        }
        mvot_buf_printf(&jl, ",%d,%d]}\n", v->eoi, v->sep);
        memcpy(boxes + n * 4, box, sizeof box);
        char name[32];
        snprintf(name, sizeof name, "%zu.png", n);
        char *gp = mvot_io_join(gtd, name);
        mvot_io_write_file(gp, s.png[ni - 1], s.png_len[ni - 1], &err);
        free(gp);
        n++;
        mvot_image_free(&ti);
        mvot_image_free(&pi);
        free(sp);
        free(st);
        mvot_sample_free(&s);
    }
    mvot_shard_set_close(set);
    char *jp = mvot_io_join(work, "preds.jsonl");
    mvot_io_write_file(jp, jl.data, jl.len, &err);
    uint64_t shp[2] = {n, 1024}, shb[2] = {n, 4};
    uint64_t shl[4] = {dec->K, 16, 16, 3};
    char *p1 = mvot_io_join(peer, "codes.npy"), *p2 = mvot_io_join(peer, "boxes.npy");
    char *p3 = mvot_io_join(peer, "lut.npy");
    mvot_npy_write_file(p1, "<i2", 2, shp, pcodes, &err);
    mvot_npy_write_file(p2, "<i4", 2, shb, boxes, &err);
    if (dec->lut)
        mvot_npy_write_file(p3, "|u1", 4, shl, dec->lut, &err);

    /* the timed run: read the file, score, build the report */
    struct mvot_eval_opts o;
    struct mvot_eval_result *r = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    double t0 = now(), c0 = cpu_seconds();
    if (mvot_io_read_file(jp, (size_t)1 << 32, &data, &len, &err) != MVOT_OK)
        return die("read", &err);
    mvot_eval_opts_default(&o);
    mvot_eval_truth_bind(tr, &o);
    if (mvot_eval_run(&o, v, dec, (const char *)data, len, pool, NULL, &r, &err) != MVOT_OK)
        return die("run", &err);
    double dt = now() - t0, cpu = cpu_seconds() - c0;
    const json_t *ov = json_object_get(r->report, "overall");
    const json_t *rec = json_object_get(r->report, "reconstruction");
    json_t *out = json_pack(
        "{s:i,s:i,s:i,s:f,s:f,s:f,s:f,s:O,s:O,s:O,s:O,s:O,s:b}", "predictions", (json_int_t)n,
        "broken", (json_int_t)n_broken, "threads", threads, "seconds", dt, "cpu_seconds", cpu,
        "predictions_per_s", (double)n / dt, "predictions_per_cpu_s", (double)n / cpu, "v_acc",
        json_object_get(ov, "v_acc"), "v_red", json_object_get(ov, "v_red"), "code_match",
        json_object_get(ov, "code_match"), "reconstruction", rec, "missing_agent",
        json_object_get(json_object_get(ov, "confusion"), "missing_agent"), "patch_lut",
        dec->lut != NULL);
    json_t *cj = json_object();
    for (int t = 0; t < MVOT_TASK_COUNT; t++)
        json_object_set_new(cj, mvot_task_name((enum mvot_task)t),
                            json_pack("{s:f,s:f,s:i,s:i,s:i,s:f}", "min_change", cal.min_change[t],
                                      "min_visible_change", cal.min_mod[t], "modified_cells",
                                      (json_int_t)cal.mod_cells[t], "invisible",
                                      (json_int_t)cal.invisible[t], "unchanged",
                                      (json_int_t)cal.unchanged[t], "max_invisible_change",
                                      cal.max_invisible[t]));
    json_object_set_new(out, "calibration", cj);
    char *s = mvot_json_dumps(out);
    printf("%s\n", s);
    free(s);
    json_decref(out);
    mvot_eval_result_free(r);
    free(data);
    mvot_eval_truth_close(tr);
    mvot_pool_free(pool);
    return 0;
}
