/* mvot eval on real shards: gen -> patch codebook -> pack (mvot and trajectory modes) ->
 * predictions made from the truth tokens, perfect and then broken in known ways. Checks
 * that the VQ round trip of every truth frame scores as correct (the tolerance rule), and
 * that each constructed break changes V-Acc, V-Red and V-Steps by exactly what was built. */
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/json.h"
#include "shards/pack.h"
#include "shards/reader.h"
#include "tests/test.h"
#include "tests/test_shards_fixture.h"
#include "tools/eval/eval.h"

#define S 256
#define NCODE 256 /* codes per image at 256 px */

static char *g_dir, *g_mvot, *g_traj;

static int pack(enum mvot_pack_mode mode, const char *out)
{
    struct mvot_pack_opts o;
    struct mvot_error err = {0};
    mvot_pack_opts_default(&o);
    o.mode = mode;
    o.image_seq_length = NCODE;
    char *tp = mvot_io_join(g_dir, "tokenizer.json"), *cp = mvot_io_join(g_dir, "cb.safetensors");
    /* the archive, not g_dir: an output folder inside the episode folder is refused */
    char *ap = mvot_io_join(g_dir, "episodes.tar.zst");
    struct mvot_pool *pool = mvot_pool_create(2);
    enum mvot_status st = mvot_pack_run(ap, tp, cp, out, &o, pool, NULL, NULL, &err);
    free(ap);
    if (st != MVOT_OK)
        fprintf(stderr, "pack: %s\n", err.msg);
    mvot_pool_free(pool);
    free(tp);
    free(cp);
    return st == MVOT_OK ? 0 : -1;
}

static int fixture(void)
{
    if (g_dir)
        return g_mvot != NULL;
    g_dir = t_tmpdir();
    /* K above the number of distinct patches of this tiny set: a near-lossless codebook, as
     * the default 8192-code one is on full-size data. */
    if (fx_make(g_dir, 3, S, 1024) != 0)
        return 0;
    char *m = mvot_io_join(g_dir, "shards-mvot"), *t = mvot_io_join(g_dir, "shards-traj");
    if (pack(MVOT_PACK_MVOT, m) != 0 || pack(MVOT_PACK_TRAJECTORY, t) != 0) {
        free(m);
        free(t);
        return 0;
    }
    g_mvot = m;
    g_traj = t;
    return 1;
}

struct jl {
    struct mvot_buf b;
};

/* The label part of a sample's tokens (everything after the prompt), as output_ids. */
static size_t prompt_len(const struct mvot_sample *s)
{
    for (size_t i = 0; i < s->n_spans; i++)
        if (s->spans[i].loss)
            return s->spans[i].start;
    return s->n_tokens;
}

static void jl_add(struct mvot_buf *b, const char *key, const uint32_t *ids, size_t n)
{
    mvot_buf_printf(b, "{\"key\": \"%s\", \"output_ids\": [", key);
    for (size_t i = 0; i < n; i++)
        mvot_buf_printf(b, "%s%u", i ? "," : "", ids[i]);
    mvot_buf_printf(b, "]}\n");
}

/* Position of the j-th image's first code in tokens (j counts BOI groups), or SIZE_MAX. */
static size_t image_start(const struct mvot_sample *s, const struct mvot_eval_vocab *v, size_t j)
{
    size_t g = 0;
    for (size_t i = 0; i < s->n_tokens; i++)
        if ((int32_t)s->tokens[i] == v->boi && g++ == j)
            return i + 1;
    return SIZE_MAX;
}

static int states(const json_t *meta, int64_t frame, uint8_t *out, size_t n)
{
    char name[32];
    snprintf(name, sizeof name, "%lld", (long long)frame);
    const json_t *a = json_object_get(json_object_get(meta, "cell_states"), name);
    if (json_array_size(a) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)json_integer_value(json_array_get(a, i));
    return 1;
}

static void box_of(const json_t *meta, size_t c, struct mvot_eval_box *b)
{
    const json_t *a = json_array_get(json_object_get(meta, "cells"), c);
    b->x0 = (uint32_t)json_integer_value(json_array_get(a, 0));
    b->y0 = (uint32_t)json_integer_value(json_array_get(a, 1));
    b->x1 = (uint32_t)json_integer_value(json_array_get(a, 2));
    b->y1 = (uint32_t)json_integer_value(json_array_get(a, 3));
}

static int aligned(const struct mvot_eval_box *b)
{
    return b->x0 % 16 == 0 && b->y0 % 16 == 0 && b->x1 % 16 == 0 && b->y1 % 16 == 0;
}

/* Copies the codes of box `from` (in src codes) onto box `to` (in dst codes). */
static void copy_cell(uint32_t *dst, const uint32_t *src, const struct mvot_eval_box *to,
                      const struct mvot_eval_box *from)
{
    uint32_t g = S / 16;
    for (uint32_t y = 0; y < (to->y1 - to->y0) / 16; y++)
        for (uint32_t x = 0; x < (to->x1 - to->x0) / 16; x++)
            dst[(to->y0 / 16 + y) * g + to->x0 / 16 + x] =
                src[(from->y0 / 16 + y) * g + from->x0 / 16 + x];
}

static int png_at(const struct mvot_sample *s, size_t pos, struct mvot_image *img)
{
    return pos < s->n_png &&
           mvot_png_decode(s->png[pos], s->png_len[pos], "t", img, NULL) == MVOT_OK;
}

enum breakage { B_NONE, B_AGENT_PREV, B_FAR_AGENT, B_TRAJ };

/* Builds predictions for every sample of dir. Returns the number of constructed breaks
 * (and, for B_TRAJ, the sum of the broken step indices in *steps_sum). */
static size_t make_preds(const char *dir, const struct mvot_eval_truth *tr, enum breakage br,
                         struct mvot_buf *out, size_t *n_vis, double *steps_sum)
{
    struct mvot_shard_set *set = NULL;
    struct mvot_error err = {0};
    const struct mvot_eval_vocab *v = mvot_eval_truth_vocab(tr);
    const struct mvot_eval_decoder *dec = mvot_eval_truth_decoder(tr);
    struct mvot_eval_tol tol;
    size_t broken = 0;
    mvot_eval_tol_default(&tol);
    *n_vis = 0;
    *steps_sum = 0;
    ASSERT_OK(mvot_shard_set_open(dir, &set, &err), &err);
    if (!set)
        return 0;
    for (size_t i = 0; i < mvot_shard_set_count(set); i++) {
        struct mvot_sample s = {0};
        ASSERT_OK(mvot_shard_set_get(set, i, &s, &err), &err);
        size_t np = prompt_len(&s);
        uint32_t *ids = malloc(s.n_tokens * sizeof *ids);
        memcpy(ids, s.tokens, s.n_tokens * sizeof *ids);
        const json_t *m = s.meta;
        const json_t *imgs = json_object_get(m, "images"),
                     *labs = json_object_get(m, "label_images");
        size_t n_img = json_array_size(imgs), n_lab = json_array_size(labs);
        size_t grid = (size_t)json_integer_value(json_object_get(m, "grid")), nc = grid * grid;
        uint8_t *sp = malloc(nc), *st = malloc(nc);
        *n_vis += n_lab;
        int seq_broken = 0;
        /* label image j is images[n_img - n_lab + j]; its previous frame is the entry before */
        for (size_t j = 0; j < n_lab && br != B_NONE; j++) {
            size_t pos = n_img - n_lab + j;
            int64_t tf = json_integer_value(json_array_get(imgs, pos));
            int64_t pf = json_integer_value(json_array_get(imgs, pos - 1));
            if (n_lab == 1 && json_is_integer(json_object_get(m, "prev_frame")))
                pf = json_integer_value(json_object_get(m, "prev_frame"));
            size_t ppos = pos - 1;
            while (ppos > 0 && json_integer_value(json_array_get(imgs, ppos)) != pf)
                ppos--;
            if (!states(m, tf, st, nc) || !states(m, pf, sp, nc))
                continue;
            struct mvot_image ti = {0}, pi = {0};
            if (!png_at(&s, pos, &ti) || !png_at(&s, ppos, &pi))
                continue;
            size_t a = SIZE_MAX; /* the cell the agent moved into, visibly */
            struct mvot_eval_box ab;
            for (size_t c = 0; c < nc && a == SIZE_MAX; c++) {
                box_of(m, c, &ab);
                if ((st[c] & 1) && !(sp[c] & 1) && aligned(&ab) &&
                    mvot_eval_cell_diff(&tol, &ab, &pi, &ti) > 2 * tol.cell_tol)
                    a = c;
            }
            uint32_t *dst = ids + image_start(&s, v, pos);
            const uint32_t *prev = s.tokens + image_start(&s, v, ppos);
            if (a != SIZE_MAX && br == B_AGENT_PREV) {
                copy_cell(dst, prev, &ab, &ab);
                broken++;
            }
            if (a != SIZE_MAX && br == B_TRAJ) {
                copy_cell(dst, prev, &ab, &ab);
                *steps_sum += (double)j;
                seq_broken = 1;
                broken++;
                mvot_image_free(&ti);
                mvot_image_free(&pi);
                break; /* only the first visible step of the sequence */
            }
            if (a != SIZE_MAX && br == B_FAR_AGENT) {
                /* a far cell: unchanged, empty, same size; pasting the agent cell there must
                 * be visible */
                for (size_t c = nc; c-- > 0;) {
                    struct mvot_eval_box fb;
                    box_of(m, c, &fb);
                    if (c == a || st[c] != sp[c] || (st[c] & 1) || !aligned(&fb) ||
                        fb.x1 - fb.x0 != ab.x1 - ab.x0 || fb.y1 - fb.y0 != ab.y1 - ab.y0)
                        continue;
                    uint32_t *trial = malloc(NCODE * sizeof *trial);
                    int32_t codes[NCODE];
                    memcpy(trial, dst, NCODE * sizeof *trial);
                    copy_cell(trial, dst, &fb, &ab);
                    for (int k = 0; k < NCODE; k++)
                        codes[k] = v->id_to_code[trial[k]];
                    struct mvot_image di = {0};
                    ASSERT_OK(mvot_eval_decoder_decode(dec, codes, &di, &err), &err);
                    if (mvot_eval_cell_diff(&tol, &fb, &di, &ti) > 2 * tol.cell_tol) {
                        memcpy(dst, trial, NCODE * sizeof *trial);
                        broken++;
                        c = 0;
                    }
                    mvot_image_free(&di);
                    free(trial);
                    if (c == 0)
                        break;
                }
            }
            mvot_image_free(&ti);
            mvot_image_free(&pi);
        }
        if (br == B_TRAJ && !seq_broken)
            *steps_sum += (double)n_lab;
        jl_add(out, s.key, ids + np, s.n_tokens - np);
        free(ids);
        free(sp);
        free(st);
        mvot_sample_free(&s);
    }
    mvot_shard_set_close(set);
    return broken;
}

static struct mvot_eval_result *score(const char *dir, enum breakage br, size_t *broken,
                                      size_t *n_vis, double *steps_sum, size_t *n_lines)
{
    struct mvot_error err = {0};
    struct mvot_eval_truth *tr = NULL;
    struct mvot_pool *pool = mvot_pool_create(2);
    struct mvot_eval_opts o;
    struct mvot_eval_result *r = NULL;
    struct mvot_buf b;
    mvot_buf_init(&b, 0);
    ASSERT_OK(mvot_eval_truth_open(dir, 2, pool, &tr, &err), &err);
    if (!tr)
        return NULL;
    ASSERT_TRUE(mvot_eval_truth_decoder(tr)->lut != NULL); /* the patch LUT passed its check */
    *broken = make_preds(dir, tr, br, &b, n_vis, steps_sum);
    *n_lines = 0;
    for (size_t i = 0; i < b.len; i++)
        *n_lines += b.data[i] == '\n';
    mvot_eval_opts_default(&o);
    mvot_eval_truth_bind(tr, &o);
    ASSERT_OK(mvot_eval_run(&o, mvot_eval_truth_vocab(tr), mvot_eval_truth_decoder(tr),
                            (const char *)b.data, b.len, pool, NULL, &r, &err),
              &err);
    mvot_buf_free(&b);
    mvot_eval_truth_close(tr);
    mvot_pool_free(pool);
    return r;
}

static double num(const struct mvot_eval_result *r, const char *a, const char *k)
{
    const json_t *o = json_object_get(r->report, "overall");
    if (a)
        o = json_object_get(o, a);
    return json_number_value(json_object_get(o, k));
}

static void test_perfect_and_roundtrip(void)
{
    if (!fixture()) {
        T_FAIL("fixture failed");
        return;
    }
    const char *dirs[2] = {g_mvot, g_traj};
    for (int d = 0; d < 2; d++) {
        size_t broken, n_vis, lines;
        double ss;
        struct mvot_eval_result *r = score(dirs[d], B_NONE, &broken, &n_vis, &ss, &lines);
        if (!r)
            return;
        ASSERT_EQ_INT(r->scored, lines);
        ASSERT_TRUE(n_vis > 0);
        ASSERT_NEAR(num(r, "visual", "n"), (double)n_vis, 0);
        ASSERT_NEAR(num(r, NULL, "accuracy"), 1.0, 0);
        ASSERT_TRUE(num(r, "answers", "n") > 0);
        ASSERT_NEAR(num(r, NULL, "v_acc"), 1.0, 0);
        ASSERT_NEAR(num(r, NULL, "v_red"), 0.0, 0);
        ASSERT_NEAR(num(r, NULL, "v_ratio"), 1.0, 0);
        ASSERT_NEAR(num(r, NULL, "code_match"), 1.0, 0);
        /* every truth frame's VQ reconstruction scores as correct */
        const json_t *rec = json_object_get(r->report, "reconstruction");
        ASSERT_EQ_INT(json_integer_value(json_object_get(rec, "images")), n_vis);
        ASSERT_EQ_INT(json_integer_value(json_object_get(rec, "correct")), n_vis);
        fprintf(stderr, "%s: %zu label images, reconstruction worst cell %.4f\n",
                d ? "trajectory" : "mvot", n_vis,
                json_number_value(json_object_get(rec, "max_cell_diff")));
        ASSERT_EQ_INT(
            json_integer_value(json_object_get(json_object_get(r->report, "diagnostics"), "total")),
            0);
        mvot_eval_result_free(r);
    }
}

static void test_agent_prev(void)
{
    if (!fixture())
        return;
    size_t broken, n_vis, lines;
    double ss;
    struct mvot_eval_result *r = score(g_mvot, B_AGENT_PREV, &broken, &n_vis, &ss, &lines);
    if (!r)
        return;
    ASSERT_TRUE(broken > 0);
    ASSERT_NEAR(num(r, "visual", "v_acc"), (double)(n_vis - broken), 0);
    ASSERT_NEAR(num(r, "visual", "v_red"), 0, 0);
    ASSERT_NEAR(num(r, "confusion", "missing_agent") + num(r, "confusion", "wrong_position"),
                (double)broken, 0);
    mvot_eval_result_free(r);
}

static void test_far_agent(void)
{
    if (!fixture())
        return;
    size_t broken, n_vis, lines;
    double ss;
    struct mvot_eval_result *r = score(g_mvot, B_FAR_AGENT, &broken, &n_vis, &ss, &lines);
    if (!r)
        return;
    ASSERT_TRUE(broken > 0);
    ASSERT_NEAR(num(r, "visual", "v_red"), (double)broken, 0);
    ASSERT_NEAR(num(r, "visual", "v_acc"), (double)n_vis, 0);
    ASSERT_NEAR(num(r, "visual", "cells_extra"), (double)broken, 0);
    ASSERT_NEAR(num(r, "confusion", "duplicated_agent"), (double)broken, 0);
    mvot_eval_result_free(r);
}

static void test_traj_break(void)
{
    if (!fixture())
        return;
    size_t broken, n_vis, lines;
    double ss;
    struct mvot_eval_result *r = score(g_traj, B_TRAJ, &broken, &n_vis, &ss, &lines);
    if (!r)
        return;
    ASSERT_TRUE(broken > 0);
    /* V-Steps: the broken step's index for broken sequences, the length for the others */
    ASSERT_NEAR(num(r, "visual", "correct"), (double)(n_vis - broken), 0);
    ASSERT_NEAR(num(r, "visual", "sequences"), (double)lines, 0);
    ASSERT_NEAR(num(r, "visual", "steps_sum"), ss, 1e-9);
    ASSERT_NEAR(num(r, NULL, "v_steps"), ss / (double)lines, 1e-12);
    mvot_eval_result_free(r);
}

TEST_MAIN(test_perfect_and_roundtrip, test_agent_prev, test_far_agent, test_traj_break)
