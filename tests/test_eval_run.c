/* tools/eval scoring, end to end through mvot_eval_run, on a constructed world whose answers
 * are known by construction: a 4x4 grid of 32-px cells in 128-px frames, an 8-code patch
 * codebook (white, trail mark, agent sprite, wall, goal, noise, ...), an agent walking
 * (0,0) -> (0,1) -> (1,1) -> (1,2). Samples follow docs/shard-format.md; predictions are
 * built from the truth codes and then broken on purpose. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/io.h"
#include "core/json.h"
#include "core/png.h"
#include "tests/test.h"
#include "tools/eval/eval.h"
#include "tools/eval/eval_internal.h"

#define S 128
#define G 8 /* codes per side */
#define P 16
#define NC 4 /* cells per side */
#define K 8
#define NF 4 /* frames */
#define TXT 9000
#define BOI 8197
#define EOI 8196
#define SEP 8710

enum { C_WHITE, C_TRAIL, C_AGENT, C_WALL, C_GOAL, C_NOISE, C_GREEN, C_YELLOW };

static float g_cb[K * P * P * 3];
static const int g_path[NF][2] = {{0, 0}, {0, 1}, {1, 1}, {1, 2}};
static int32_t g_codes[NF][G * G];
static struct mvot_sample g_samples[16];
static size_t g_n_samples;
static struct mvot_eval_vocab g_vocab;
static const char *g_pred_dir; /* base of relative form-3 paths */
static size_t g_max_roundtrip = SIZE_MAX;

static void put(int code, int y, int x, int r, int g, int b)
{
    float *p = g_cb + ((size_t)code * P * P + (size_t)y * P + x) * 3;
    p[0] = (float)r;
    p[1] = (float)g;
    p[2] = (float)b;
}

static void cb_init(void)
{
    for (int c = 0; c < K; c++)
        for (int y = 0; y < P; y++)
            for (int x = 0; x < P; x++) {
                int r = 255, g = 255, b = 255;
                if (c == C_TRAIL && y >= 8 && x >= 8)
                    r = g = b = 128;
                if (c == C_AGENT && y >= 3 && y < 13 && x >= 3 && x < 13) {
                    r = 220;
                    g = b = 30;
                }
                if (c == C_WALL)
                    r = g = b = 0;
                if (c == C_GOAL) {
                    r = 40;
                    g = 80;
                    b = 200;
                }
                if (c == C_NOISE && ((x / 2 + y / 2) & 1))
                    r = g = b = 0;
                if (c == C_GREEN)
                    r = b = 0;
                if (c == C_YELLOW)
                    b = 0;
                put(c, y, x, r, g, b);
            }
}

/* The test decoder: a plain patch paste, independent of the eval LUT code. */
static enum mvot_status t_decode(void *ctx, const int32_t *codes, struct mvot_image *out,
                                 struct mvot_error *err)
{
    (void)ctx;
    if (mvot_image_init(out, S, S, 3) != MVOT_OK)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "test", "oom");
    for (int gy = 0; gy < G; gy++)
        for (int gx = 0; gx < G; gx++)
            for (int y = 0; y < P; y++)
                for (int x = 0; x < P; x++)
                    for (int k = 0; k < 3; k++)
                        out->px[((size_t)(gy * P + y) * S + gx * P + x) * 3 + k] = (uint8_t)lrintf(
                            g_cb[((size_t)codes[gy * G + gx] * P * P + y * P + x) * 3 + k]);
    return MVOT_OK;
}

/* A decoder that is not a pure paste (adds a position-dependent tint): no LUT may be used. */
static enum mvot_status t_decode_tint(void *ctx, const int32_t *codes, struct mvot_image *out,
                                      struct mvot_error *err)
{
    enum mvot_status st = t_decode(ctx, codes, out, err);
    if (st == MVOT_OK)
        out->px[0] ^= (uint8_t)(codes[1] & 1);
    return st;
}

static void set_cell(int32_t *codes, int r, int c, int which, int code)
{
    /* which: 0 top-left, 3 bottom-right, -1 all four */
    for (int q = 0; q < 4; q++)
        if (which < 0 || which == q)
            codes[(2 * r + q / 2) * G + 2 * c + q % 2] = code;
}

static uint8_t state_of(int f, int r, int c)
{
    uint8_t s = 0;
    if (r == 3 && c == 3)
        s |= 4;
    for (int k = 0; k < f; k++)
        if (g_path[k][0] == r && g_path[k][1] == c)
            s |= 2;
    if (g_path[f][0] == r && g_path[f][1] == c)
        s |= 1;
    return s;
}

static void frames_init(void)
{
    for (int f = 0; f < NF; f++) {
        for (int i = 0; i < G * G; i++)
            g_codes[f][i] = C_WHITE;
        for (int r = 0; r < NC; r++)
            for (int c = 0; c < NC; c++) {
                uint8_t s = state_of(f, r, c);
                if (s & 4)
                    set_cell(g_codes[f], r, c, -1, C_GOAL);
                if (s & 2)
                    set_cell(g_codes[f], r, c, 3, C_TRAIL);
                if (s & 1)
                    set_cell(g_codes[f], r, c, 0, C_AGENT);
            }
    }
}

struct ids {
    uint32_t v[8192];
    size_t n;
};

static void ids_text(struct ids *t, const char *s)
{
    for (; *s; s++)
        t->v[t->n++] = TXT + (uint8_t)*s;
}

static void ids_image(struct ids *t, const int32_t *codes)
{
    t->v[t->n++] = BOI;
    for (int i = 0; i < G * G; i++)
        t->v[t->n++] = 4 + (uint32_t)codes[i];
    t->v[t->n++] = EOI;
}

static void png_of(const int32_t *codes, uint8_t **out, size_t *len)
{
    struct mvot_image img;
    struct mvot_error err;
    ASSERT_OK(t_decode(NULL, codes, &img, &err), &err);
    ASSERT_OK(mvot_png_encode(&img, NULL, out, len, &err), &err);
    mvot_image_free(&img);
}

/* One truth sample. images: frame indices (inputs then labels). */
static void add_sample(const char *episode, const char *task, const char *split, const char *mode,
                       const char *kind, int step, const int *images, int n_images, int n_labels,
                       int prev, int target, const char *label_text, const char *suffix)
{
    struct mvot_sample *s = &g_samples[g_n_samples++];
    struct ids t = {.n = 0};
    memset(s, 0, sizeof *s);
    s->key = mvot_strdupf("%s-%s", episode, suffix);
    t.v[t.n++] = 0;
    ids_text(&t, "Question. ");
    int n_in = n_images - n_labels;
    for (int i = 0; i < n_in; i++)
        ids_image(&t, g_codes[images[i]]);
    ids_text(&t, "\nResponse: ");
    t.v[t.n++] = SEP;
    size_t n_prompt = t.n;
    if (strcmp(kind, "trajectory") == 0) {
        for (int j = 0; j < n_labels; j++) {
            ids_text(&t, "Go. ");
            ids_image(&t, g_codes[images[n_in + j]]);
        }
        ids_text(&t, "Action sequence finished. The answer is B.");
    } else if (n_labels) {
        ids_image(&t, g_codes[images[n_in]]);
    } else {
        ids_text(&t, label_text);
    }
    t.v[t.n++] = SEP;
    s->n_tokens = t.n;
    s->tokens = malloc(t.n * sizeof *s->tokens);
    memcpy(s->tokens, t.v, t.n * sizeof *s->tokens);
    s->n_spans = 2;
    s->spans = calloc(2, sizeof *s->spans);
    s->spans[0] = (struct mvot_span){0, (uint32_t)n_prompt, MVOT_MOD_TEXT, 0};
    s->spans[1] =
        (struct mvot_span){(uint32_t)n_prompt, (uint32_t)(t.n - n_prompt), MVOT_MOD_TEXT, 1};
    json_t *m = json_object(), *im = json_array(), *lb = json_array(), *cells = json_array();
    json_t *cs = json_object();
    json_object_set_new(m, "key", json_string(s->key));
    json_object_set_new(m, "episode", json_string(episode));
    json_object_set_new(m, "task", json_string(task));
    json_object_set_new(m, "split", json_string(split));
    json_object_set_new(m, "mode", json_string(mode));
    json_object_set_new(m, "kind", json_string(kind));
    json_object_set_new(m, "grid", json_integer(NC));
    json_object_set_new(m, "image_size", json_integer(S));
    json_object_set_new(m, "step", step >= 0 ? json_integer(step) : json_null());
    json_object_set_new(m, "answer", json_string("B"));
    for (int i = 0; i < n_images; i++) {
        json_array_append_new(im, json_integer(images[i]));
        if (i >= n_in)
            json_array_append_new(lb, json_integer(images[i]));
    }
    json_object_set_new(m, "images", im);
    json_object_set_new(m, "label_images", lb);
    json_object_set_new(m, "prev_frame", prev >= 0 ? json_integer(prev) : json_null());
    json_object_set_new(m, "target_frame", target >= 0 ? json_integer(target) : json_null());
    for (int r = 0; r < NC; r++)
        for (int c = 0; c < NC; c++)
            json_array_append_new(cells,
                                  json_pack("[iiii]", c * 32, r * 32, c * 32 + 32, r * 32 + 32));
    json_object_set_new(m, "cells", cells);
    for (int f = 0; f < NF; f++) {
        json_t *a = json_array();
        for (int r = 0; r < NC; r++)
            for (int c = 0; c < NC; c++)
                json_array_append_new(a, json_integer(state_of(f, r, c)));
        char name[16];
        snprintf(name, sizeof name, "%d", f);
        json_object_set_new(cs, name, a);
    }
    json_object_set_new(m, "cell_states", cs);
    json_object_set_new(m, "label_text",
                        json_string(strcmp(kind, "trajectory") == 0
                                        ? "Go. <image>Go. <image>Go. <image>Action sequence "
                                          "finished. The answer is B."
                                        : label_text));
    json_object_set_new(m, "final_text", json_string("Action sequence finished. The answer is B."));
    json_object_set_new(m, "frames_stored", json_true());
    s->meta = m;
    s->n_png = (uint32_t)n_images;
    s->png = calloc((size_t)n_images, sizeof *s->png);
    s->png_len = calloc((size_t)n_images, sizeof *s->png_len);
    for (int i = 0; i < n_images; i++)
        png_of(g_codes[images[i]], &s->png[i], &s->png_len[i]);
}

static void world_init(void)
{
    static int done;
    struct mvot_error err;
    if (done)
        return;
    done = 1;
    cb_init();
    frames_init();
    ASSERT_OK(mvot_eval_vocab_chameleon(&g_vocab, &err), &err);
    static const char *const eps[2][3] = {{"maze-000001", "maze", "test"},
                                          {"frozenlake-000002", "frozenlake", "dev"}};
    for (int e = 0; e < 2; e++) {
        for (int k = 0; k < NF - 1; k++) {
            int im[3] = {0, k, k + 1}, im0[2] = {0, 1};
            char suf[8];
            snprintf(suf, sizeof suf, "v%03d", k);
            if (k == 0)
                add_sample(eps[e][0], eps[e][1], eps[e][2], "mvot", "visualization", 0, im0, 2, 1,
                           0, 1, "<image>", suf);
            else
                add_sample(eps[e][0], eps[e][1], eps[e][2], "mvot", "visualization", k, im, 3, 1, k,
                           k + 1, "<image>", suf);
        }
        int ir[2] = {0, 3}, it[4] = {0, 1, 2, 3};
        add_sample(eps[e][0], eps[e][1], eps[e][2], "mvot", "reasoning", 3, ir, 2, 0, -1, -1,
                   "Action sequence finished. The answer is B.", "r003");
        add_sample(eps[e][0], eps[e][1], eps[e][2], "trajectory", "trajectory", -1, it, 4, 3, -1,
                   -1, NULL, "t");
    }
}

static enum mvot_status t_get(void *ctx, const char *key, int worker, struct mvot_sample *out,
                              struct mvot_error *err)
{
    (void)ctx;
    (void)worker;
    for (size_t i = 0; i < g_n_samples; i++) {
        const struct mvot_sample *s = &g_samples[i];
        if (strcmp(s->key, key) != 0)
            continue;
        memset(out, 0, sizeof *out);
        out->key = strdup(s->key);
        out->n_tokens = s->n_tokens;
        out->tokens = malloc(s->n_tokens * sizeof *out->tokens);
        memcpy(out->tokens, s->tokens, s->n_tokens * sizeof *out->tokens);
        out->n_spans = s->n_spans;
        out->spans = malloc(s->n_spans * sizeof *out->spans);
        memcpy(out->spans, s->spans, s->n_spans * sizeof *out->spans);
        out->meta = json_deep_copy(s->meta);
        out->n_png = s->n_png;
        out->png = calloc(s->n_png, sizeof *out->png);
        out->png_len = calloc(s->n_png, sizeof *out->png_len);
        for (uint32_t j = 0; j < s->n_png; j++) {
            out->png[j] = malloc(s->png_len[j]);
            memcpy(out->png[j], s->png[j], s->png_len[j]);
            out->png_len[j] = s->png_len[j];
        }
        return MVOT_OK;
    }
    return mvot_error_set(err, MVOT_ERR_NOTFOUND, "test", "no sample %s", key);
}

static enum mvot_status t_text(void *ctx, const int32_t *ids, size_t n, char **out,
                               struct mvot_error *err)
{
    (void)ctx;
    char *s = malloc(n + 1);
    size_t k = 0;
    if (!s)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "test", "oom");
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= TXT && ids[i] < TXT + 256)
            s[k++] = (char)(ids[i] - TXT);
    s[k] = 0;
    *out = s;
    return MVOT_OK;
}

/* ---- predictions ------------------------------------------------------------------- */

struct jl {
    char buf[1 << 20];
    size_t n;
};

static void jl_raw(struct jl *j, const char *line)
{
    size_t l = strlen(line);
    memcpy(j->buf + j->n, line, l);
    j->n += l;
    j->buf[j->n++] = '\n';
    j->buf[j->n] = 0;
}

static void jl_ids(struct jl *j, const char *key, const struct ids *t)
{
    json_t *o = json_object(), *a = json_array();
    for (size_t i = 0; i < t->n; i++)
        json_array_append_new(a, json_integer(t->v[i]));
    json_object_set_new(o, "key", json_string(key));
    json_object_set_new(o, "output_ids", a);
    char *s = mvot_json_dumps(o);
    jl_raw(j, s);
    free(s);
    json_decref(o);
}

static void jl_vis(struct jl *j, const char *key, const int32_t *codes)
{
    struct ids t = {.n = 0};
    ids_image(&t, codes);
    t.v[t.n++] = SEP;
    jl_ids(j, key, &t);
}

static void jl_text(struct jl *j, const char *key, const char *text)
{
    struct ids t = {.n = 0};
    ids_text(&t, text);
    t.v[t.n++] = SEP;
    jl_ids(j, key, &t);
}

/* Trajectory prediction whose images are the truth frames 1..3, with image `broken` (0-based,
 * -1 for none) replaced by the previous frame. */
static void jl_traj(struct jl *j, const char *key, int broken)
{
    struct ids t = {.n = 0};
    for (int k = 1; k < NF; k++) {
        ids_text(&t, "Go. ");
        ids_image(&t, g_codes[k - 1 == broken ? k - 1 : k]);
    }
    ids_text(&t, "Action sequence finished. The answer is B.");
    t.v[t.n++] = SEP;
    jl_ids(j, key, &t);
}

static struct mvot_eval_result *run_full(const struct jl *j, int threads, const char *out_dir,
                                         mvot_eval_decode_fn dec_fn, int *has_lut)
{
    struct mvot_eval_opts o;
    struct mvot_eval_decoder dec = {S, G, K, P * P * 3, g_cb, dec_fn, NULL, 1, NULL};
    struct mvot_error err = {0};
    struct mvot_eval_result *r = NULL;
    struct mvot_pool *pool = mvot_pool_create(threads);
    mvot_eval_opts_default(&o);
    o.get = t_get;
    o.text = t_text;
    o.out_dir = out_dir;
    o.pred_dir = g_pred_dir;
    o.max_roundtrip = g_max_roundtrip;
    ASSERT_OK(mvot_eval_decoder_prepare(&dec, pool, &err), &err);
    if (has_lut)
        *has_lut = dec.lut != NULL;
    ASSERT_OK(mvot_eval_run(&o, &g_vocab, &dec, j->buf, j->n, pool, NULL, &r, &err), &err);
    mvot_eval_decoder_free(&dec);
    mvot_pool_free(pool);
    return r;
}

static struct mvot_eval_result *run(const struct jl *j)
{
    return run_full(j, 2, NULL, t_decode, NULL);
}

static double num(const struct mvot_eval_result *r, const char *group, const char *k)
{
    const json_t *g = json_object_get(r->report, "overall");
    if (group) {
        const char *dot = strchr(group, '.');
        char dim[32];
        snprintf(dim, sizeof dim, "%.*s", (int)(dot - group), group);
        g = json_object_get(json_object_get(r->report, dim), dot + 1);
    }
    const char *sl = strchr(k, '/');
    if (sl) {
        char a[32];
        snprintf(a, sizeof a, "%.*s", (int)(sl - k), k);
        g = json_object_get(g, a);
        k = sl + 1;
    }
    const json_t *v = json_object_get(g, k);
    if (!json_is_number(v))
        return NAN;
    return json_number_value(v);
}

static size_t diag_count(const struct mvot_eval_result *r, enum mvot_eval_diag_kind k)
{
    return r->diags.counts[k];
}

/* Every truth sample predicted perfectly. */
static void perfect(struct jl *j)
{
    for (size_t i = 0; i < g_n_samples; i++) {
        const char *key = g_samples[i].key;
        const char *kind = json_string_value(json_object_get(g_samples[i].meta, "kind"));
        if (strcmp(kind, "visualization") == 0) {
            int f = (int)json_integer_value(json_object_get(g_samples[i].meta, "target_frame"));
            jl_vis(j, key, g_codes[f]);
        } else if (strcmp(kind, "trajectory") == 0) {
            jl_traj(j, key, -1);
        } else {
            jl_text(j, key, "Action sequence finished. The answer is B.");
        }
    }
}

static void test_perfect(void)
{
    world_init();
    static struct jl j;
    j.n = 0;
    perfect(&j);
    int lut = 0;
    struct mvot_eval_result *r = run_full(&j, 2, NULL, t_decode, &lut);
    ASSERT_TRUE(lut);
    ASSERT_EQ_INT(r->scored, g_n_samples);
    ASSERT_NEAR(num(r, NULL, "accuracy"), 1.0, 0);
    ASSERT_NEAR(num(r, NULL, "answers/n"), 4, 0); /* 2 reasoning + 2 trajectories */
    ASSERT_NEAR(num(r, NULL, "v_acc"), 1.0, 0);
    ASSERT_NEAR(num(r, NULL, "v_red"), 0.0, 0);
    ASSERT_NEAR(num(r, NULL, "visual/n"), 12, 0); /* 6 single-step + 2 x 3 trajectory */
    ASSERT_NEAR(num(r, NULL, "v_steps"), 3.0, 0);
    ASSERT_NEAR(num(r, NULL, "v_ratio"), 1.0, 0);
    ASSERT_NEAR(num(r, NULL, "visual/sequences"), 4, 0); /* 2 trajectories + 2 mvot episodes */
    ASSERT_NEAR(num(r, NULL, "code_match"), 1.0, 0);
    ASSERT_NEAR(num(r, NULL, "code_distance"), 0.0, 0);
    ASSERT_NEAR(num(r, "by_task.maze", "n"), 5, 0);
    ASSERT_NEAR(num(r, "by_split.dev", "v_acc"), 1.0, 0);
    ASSERT_NEAR(num(r, "by_mode.trajectory", "v_steps"), 3.0, 0);
    ASSERT_NEAR(num(r, "by_grid.4", "n"), 10, 0);
    const json_t *rec = json_object_get(r->report, "reconstruction");
    ASSERT_EQ_INT(json_integer_value(json_object_get(rec, "images")), 12);
    ASSERT_EQ_INT(json_integer_value(json_object_get(rec, "correct")), 12);
    ASSERT_EQ_INT(
        json_integer_value(json_object_get(json_object_get(r->report, "diagnostics"), "total")), 0);
    mvot_eval_result_free(r);
    /* round-trip check on the first 3 lines only (v000..v002 of maze): same metrics */
    g_max_roundtrip = 3;
    r = run(&j);
    g_max_roundtrip = SIZE_MAX;
    rec = json_object_get(r->report, "reconstruction");
    ASSERT_EQ_INT(json_integer_value(json_object_get(rec, "images")), 3);
    ASSERT_NEAR(num(r, NULL, "v_acc"), 1.0, 0);
    ASSERT_NEAR(num(r, NULL, "v_steps"), 3.0, 0);
    mvot_eval_result_free(r);
}

/* Forms 2 and 3 of a perfect prediction score the same as form 1. */
static void test_forms(void)
{
    world_init();
    static struct jl j;
    struct mvot_error err;
    char *dir = t_tmpdir();
    j.n = 0;
    for (int k = 0; k < NF - 1; k++) {
        json_t *o = json_object(), *codes = json_array(), *one = json_array();
        for (int i = 0; i < G * G; i++)
            json_array_append_new(one, json_integer(g_codes[k + 1][i]));
        json_array_append_new(codes, one);
        char key[64];
        snprintf(key, sizeof key, "maze-000001-v%03d", k);
        json_object_set_new(o, "key", json_string(key));
        json_object_set_new(o, "text", json_string(""));
        json_object_set_new(o, "image_codes", codes);
        char *s = mvot_json_dumps(o);
        jl_raw(&j, s);
        free(s);
        json_decref(o);
        /* form 3 for the other episode */
        struct mvot_image img;
        ASSERT_OK(t_decode(NULL, g_codes[k + 1], &img, &err), &err);
        char name[32], *path;
        snprintf(name, sizeof name, "f%d.png", k);
        path = mvot_io_join(dir, name);
        ASSERT_OK(mvot_png_write_file(path, &img, NULL, &err), &err);
        mvot_image_free(&img);
        char line[256];
        snprintf(line, sizeof line,
                 "{\"key\": \"frozenlake-000002-v%03d\", \"text\": \"\", \"images\": [\"%s\"]}", k,
                 k == 1 ? name : path); /* one path relative to the predictions' dir */
        jl_raw(&j, line);
        free(path);
    }
    jl_raw(&j, "{\"key\": \"maze-000001-r003\", \"text\": \"... The answer is B.<reserved08706>"
               "The answer is C.\"}");
    g_pred_dir = dir;
    struct mvot_eval_result *r = run(&j);
    g_pred_dir = NULL;
    ASSERT_EQ_INT(r->scored, 7);
    ASSERT_EQ_INT(
        json_integer_value(json_object_get(json_object_get(r->report, "diagnostics"), "total")), 0);
    ASSERT_NEAR(num(r, NULL, "v_acc"), 1.0, 0);
    ASSERT_NEAR(num(r, NULL, "v_red"), 0.0, 0);
    ASSERT_NEAR(num(r, NULL, "accuracy"), 1.0, 0);
    ASSERT_NEAR(num(r, NULL, "tokens/codes"), 3 * G * G, 0); /* form 3 has no token metrics */
    ASSERT_NEAR(num(r, NULL, "code_match"), 1.0, 0);
    ASSERT_NEAR(num(r, "by_task.frozenlake", "v_acc"), 1.0, 0);
    mvot_eval_result_free(r);
    free(dir);
}

/* The agent cell of step 1 shows the previous state: V-Acc drops by exactly 1 of 6. */
static void test_agent_cell_prev(void)
{
    world_init();
    static struct jl j;
    j.n = 0;
    for (int e = 0; e < 2; e++)
        for (int k = 0; k < NF - 1; k++) {
            char key[64];
            int32_t c[G * G];
            memcpy(c, g_codes[k + 1], sizeof c);
            if (e == 0 && k == 1) { /* agent moves (0,1) -> (1,1): (1,1) left as before */
                int q0 = (2 * 1) * G + 2 * 1;
                c[q0] = g_codes[k][q0];
            }
            snprintf(key, sizeof key, "%s-v%03d", e ? "frozenlake-000002" : "maze-000001", k);
            jl_vis(&j, key, c);
        }
    struct mvot_eval_result *r = run(&j);
    ASSERT_NEAR(num(r, NULL, "visual/n"), 6, 0);
    ASSERT_NEAR(num(r, NULL, "visual/v_acc"), 5, 0);
    ASSERT_NEAR(num(r, NULL, "v_acc"), 5.0 / 6.0, 1e-12);
    ASSERT_NEAR(num(r, NULL, "v_red"), 0.0, 0);
    ASSERT_NEAR(num(r, NULL, "confusion/missing_agent"), 1, 0);
    ASSERT_NEAR(num(r, NULL, "confusion/wrong_position"), 0, 0);
    ASSERT_NEAR(num(r, NULL, "visual/cells_modified"), 12, 0); /* 2 per step */
    ASSERT_NEAR(num(r, NULL, "visual/cells_modified_ok"), 11, 0);
    ASSERT_NEAR(num(r, "by_task.maze", "v_acc"), 2.0 / 3.0, 1e-12);
    ASSERT_NEAR(num(r, "by_task.frozenlake", "v_acc"), 1.0, 0);
    /* V-Steps over the single-step episodes: maze breaks at step 1, frozenlake runs 3. */
    ASSERT_NEAR(num(r, "by_task.maze", "v_steps"), 1.0, 0);
    ASSERT_NEAR(num(r, "by_task.frozenlake", "v_steps"), 3.0, 0);
    ASSERT_NEAR(num(r, NULL, "code_match"), 1.0 - 1.0 / (6 * G * G), 1e-12);
    /* the one changed code: agent patch vs white patch */
    double d = 0;
    for (int q = 0; q < P * P * 3; q++) {
        double e = g_cb[C_AGENT * P * P * 3 + q] - g_cb[C_WHITE * P * P * 3 + q];
        d += e * e;
    }
    ASSERT_NEAR(num(r, NULL, "code_distance"), sqrt(d) / (6 * G * G), 1e-9);
    mvot_eval_result_free(r);

    /* The whole previous frame predicted: the agent stays where it was. */
    j.n = 0;
    jl_vis(&j, "maze-000001-v001", g_codes[1]);
    r = run(&j);
    ASSERT_NEAR(num(r, NULL, "v_acc"), 0.0, 0);
    ASSERT_NEAR(num(r, NULL, "v_red"), 0.0, 0);
    ASSERT_NEAR(num(r, NULL, "confusion/wrong_position"), 1, 0);
    ASSERT_NEAR(num(r, NULL, "confusion/missing_agent"), 0, 0);
    mvot_eval_result_free(r);
}

/* An agent sprite drawn in a far cell: V-Red rises by exactly the constructed count. */
static void test_far_agent(void)
{
    world_init();
    static struct jl j;
    j.n = 0;
    for (int e = 0; e < 2; e++)
        for (int k = 0; k < NF - 1; k++) {
            char key[64];
            int32_t c[G * G];
            memcpy(c, g_codes[k + 1], sizeof c);
            if (e == 1 && k != 1)
                set_cell(c, 3, 0, 0, C_AGENT); /* far cell (3,0) */
            if (e == 0 && k == 2)
                set_cell(c, 2, 3, 1, C_NOISE); /* an artifact, not the agent */
            snprintf(key, sizeof key, "%s-v%03d", e ? "frozenlake-000002" : "maze-000001", k);
            jl_vis(&j, key, c);
        }
    struct mvot_eval_result *r = run(&j);
    ASSERT_NEAR(num(r, NULL, "v_acc"), 1.0, 0);
    ASSERT_NEAR(num(r, NULL, "visual/v_red"), 3, 0);
    ASSERT_NEAR(num(r, NULL, "v_red"), 0.5, 1e-12);
    ASSERT_NEAR(num(r, NULL, "confusion/duplicated_agent"), 2, 0);
    ASSERT_NEAR(num(r, NULL, "confusion/artifacts"), 1, 0);
    ASSERT_NEAR(num(r, NULL, "visual/cells_extra"), 3, 0);
    ASSERT_NEAR(num(r, "by_task.frozenlake", "v_red"), 2.0 / 3.0, 1e-12);
    mvot_eval_result_free(r);
}

/* Breaking image k of a trajectory gives V-Steps = k, V-Ratio = k / 3. */
static void test_traj_steps(void)
{
    world_init();
    static struct jl j;
    for (int k = 0; k <= 3; k++) {
        j.n = 0;
        jl_traj(&j, "maze-000001-t", k < 3 ? k : -1);
        struct mvot_eval_result *r = run(&j);
        ASSERT_NEAR(num(r, NULL, "v_steps"), k, 0);
        ASSERT_NEAR(num(r, NULL, "v_ratio"), k / 3.0, 1e-12);
        ASSERT_NEAR(num(r, NULL, "accuracy"), 1.0, 0);
        mvot_eval_result_free(r);
    }
    /* two trajectories broken at 1 and 2: the average */
    j.n = 0;
    jl_traj(&j, "maze-000001-t", 1);
    jl_traj(&j, "frozenlake-000002-t", 2);
    struct mvot_eval_result *r = run(&j);
    ASSERT_NEAR(num(r, NULL, "v_steps"), 1.5, 0);
    ASSERT_NEAR(num(r, NULL, "v_ratio"), 0.5, 1e-12);
    mvot_eval_result_free(r);
    /* a trajectory with only two images: the third is missing */
    j.n = 0;
    struct ids t = {.n = 0};
    ids_image(&t, g_codes[1]);
    ids_image(&t, g_codes[2]);
    t.v[t.n++] = SEP;
    jl_ids(&j, "maze-000001-t", &t);
    r = run(&j);
    ASSERT_NEAR(num(r, NULL, "v_steps"), 2, 0);
    ASSERT_NEAR(num(r, NULL, "images/missing"), 1, 0);
    ASSERT_NEAR(num(r, NULL, "answers/unparseable"), 1, 0);
    mvot_eval_result_free(r);
}

static void test_answers(void)
{
    world_init();
    static struct jl j;
    j.n = 0;
    jl_text(&j, "maze-000001-r003", "Action sequence finished. The answer is B.");
    jl_text(&j, "frozenlake-000002-r003", "Action sequence finished. The answer is C.");
    jl_text(&j, "maze-000001-v000", "The answer is A."); /* no truth answer: not counted */
    jl_raw(&j, "{\"key\": \"maze-000001-t\", \"text\": \"The answer is B\"}");
    jl_raw(&j, "{\"key\": \"frozenlake-000002-t\", \"text\": \"answer: B\"}");
    struct mvot_eval_result *r = run(&j);
    ASSERT_NEAR(num(r, NULL, "answers/n"), 4, 0);
    ASSERT_NEAR(num(r, NULL, "answers/correct"), 1, 0);
    ASSERT_NEAR(num(r, NULL, "answers/wrong"), 1, 0);
    ASSERT_NEAR(num(r, NULL, "answers/unparseable"), 2, 0);
    ASSERT_NEAR(num(r, NULL, "accuracy"), 0.25, 0);
    ASSERT_NEAR(num(r, "by_task.frozenlake", "accuracy"), 0.0, 0);
    ASSERT_NEAR(num(r, NULL, "images/missing"), 7, 0); /* v000: 1, trajectories: 3 + 3 */
    ASSERT_NEAR(num(r, NULL, "v_steps"), 0, 0);
    mvot_eval_result_free(r);
}

static void test_diagnostics(void)
{
    world_init();
    static struct jl j;
    j.n = 0;
    struct ids t;
    jl_raw(&j, "{\"key\": \"maze-000001-v000\", \"output_ids\": [1, 2,");               /* 1 */
    jl_raw(&j, "[1, 2, 3]");                                                            /* 2 */
    jl_raw(&j, "{\"output_ids\": []}");                                                 /* 3 */
    jl_raw(&j, "{\"key\": \"no-such-sample\", \"output_ids\": [8710]}");                /* 4 */
    jl_raw(&j, "{\"key\": \"maze-000001-r003\", \"output_ids\": [70000, 9066, 8710]}"); /* 5 */
    t.n = 0;                                                                            /* 6 */
    t.v[t.n++] = BOI;
    for (int i = 0; i < 10; i++)
        t.v[t.n++] = 4;
    jl_ids(&j, "maze-000001-v000", &t);
    t.n = 0; /* 7: 10 codes, closed */
    t.v[t.n++] = BOI;
    for (int i = 0; i < 10; i++)
        t.v[t.n++] = 4;
    t.v[t.n++] = EOI;
    jl_ids(&j, "maze-000001-v001", &t);
    jl_raw(&j, "");                                                                        /* 8 */
    jl_raw(&j, "{\"key\": \"maze-000001-v001\", \"text\": \"x\"}");                        /* 9 */
    jl_raw(&j, "{\"key\": \"maze-000001-v002\", \"text\": \"\", \"image_codes\": [[9]]}"); /* 10 */
    jl_raw(&j, "{\"key\": \"frozenlake-000002-v000\", \"text\": \"\", \"images\": "
               "[\"/nonexistent/x.png\"]}");                          /* 11 */
    jl_raw(&j, "{\"key\": \"frozenlake-000002-v001\", \"text\": 5}"); /* 12 */
    jl_raw(&j, "{\"key\": \"frozenlake-000002-v002\"}");              /* 13 */
    /* 14: a PNG of the wrong size (64 x 64 RGBA) */
    char *dir = t_tmpdir(), *small = mvot_io_join(dir, "small.png"), line14[512];
    struct mvot_image im;
    struct mvot_error e2;
    ASSERT_OK(mvot_image_init(&im, 64, 64, 4), &e2);
    ASSERT_OK(mvot_png_write_file(small, &im, NULL, &e2), &e2);
    mvot_image_free(&im);
    snprintf(line14, sizeof line14,
             "{\"key\": \"maze-000001-t\", \"text\": \"\", \"images\": [\"%s\"]}", small);
    jl_raw(&j, line14);
    free(small);
    free(dir);
    struct mvot_eval_result *r = run(&j);
    ASSERT_EQ_INT(r->lines, 14);
    ASSERT_EQ_INT(diag_count(r, MVOT_EVAL_DIAG_MALFORMED_LINE), 3); /* 1, 2, 12 */
    ASSERT_EQ_INT(diag_count(r, MVOT_EVAL_DIAG_MISSING_KEY), 1);
    ASSERT_EQ_INT(diag_count(r, MVOT_EVAL_DIAG_UNKNOWN_KEY), 1);
    ASSERT_EQ_INT(diag_count(r, MVOT_EVAL_DIAG_ID_RANGE), 2); /* 5, 10 */
    ASSERT_EQ_INT(diag_count(r, MVOT_EVAL_DIAG_TRUNCATED_IMAGE), 1);
    ASSERT_EQ_INT(diag_count(r, MVOT_EVAL_DIAG_IMAGE_SIZE), 2);    /* 7, 14 */
    ASSERT_EQ_INT(diag_count(r, MVOT_EVAL_DIAG_DUPLICATE_KEY), 1); /* 9 repeats 7 */
    ASSERT_EQ_INT(diag_count(r, MVOT_EVAL_DIAG_IMAGE_FILE), 1);
    ASSERT_EQ_INT(diag_count(r, MVOT_EVAL_DIAG_NO_PREDICTION), 1);
    /* scored: 5, 6, 7, 10, 11, 14 */
    ASSERT_EQ_INT(r->scored, 6);
    ASSERT_NEAR(num(r, NULL, "images/malformed"), 5, 0);
    ASSERT_NEAR(num(r, NULL, "images/missing"), 2, 0); /* line 14: 1 of 3 trajectory images */
    ASSERT_NEAR(num(r, NULL, "v_acc"), 0.0, 0);
    /* line 5's text ("B" after the bad id) is still decoded; line 14's is empty */
    ASSERT_NEAR(num(r, NULL, "answers/unparseable"), 2, 0);
    int saw = 0;
    for (size_t i = 0; i < r->diags.n; i++)
        if (r->diags.v[i].kind == MVOT_EVAL_DIAG_TRUNCATED_IMAGE) {
            ASSERT_EQ_INT(r->diags.v[i].line, 6);
            ASSERT_CONTAINS(r->diags.v[i].msg, "line 6: key maze-000001-v000");
            saw = 1;
        }
    ASSERT_TRUE(saw);
    mvot_eval_result_free(r);
}

/* Same report bytes for 1 and 3 threads; failure pictures are written and named. */
static void test_threads_and_failures(void)
{
    world_init();
    static struct jl j;
    j.n = 0;
    for (int k = 0; k < NF - 1; k++) {
        char key[64];
        snprintf(key, sizeof key, "maze-000001-v%03d", k);
        jl_vis(&j, key, g_codes[k]); /* every one stale */
        snprintf(key, sizeof key, "frozenlake-000002-v%03d", k);
        jl_vis(&j, key, g_codes[k + 1]);
    }
    jl_traj(&j, "maze-000001-t", 1);
    char *d1 = t_tmpdir(), *d3 = t_tmpdir();
    struct mvot_eval_result *r1 = run_full(&j, 1, d1, t_decode, NULL);
    struct mvot_eval_result *r3 = run_full(&j, 3, d3, t_decode, NULL);
    char *s1 = mvot_json_dumps(r1->report), *s3 = mvot_json_dumps(r3->report);
    ASSERT_EQ_STR(s1, s3);
    ASSERT_EQ_INT(r1->failures_written, 4);
    struct mvot_error err;
    struct mvot_image img;
    char *p = mvot_io_join(d1, "failures/maze-000001-v001.0.png");
    ASSERT_OK(mvot_png_read_file(p, &img, &err), &err);
    /* three panels (previous, target, prediction) under a header, a legend below */
    uint32_t px0, py0, px2, py2;
    eval_failure_panel(S, 0, &px0, &py0);
    eval_failure_panel(S, 2, &px2, &py2);
    ASSERT_EQ_INT(img.w, 3 * S + 4 * 8);
    ASSERT_TRUE(img.h > py0 + S);
    /* the agent's new cell (1,1) is outlined in magenta on the prediction side */
    const uint8_t *px = img.px + ((size_t)(py2 + 32 + 10) * img.w + px2 + 32) * 3;
    ASSERT_EQ_INT(px[0], 255);
    ASSERT_EQ_INT(px[1], 0);
    ASSERT_EQ_INT(px[2], 255);
    /* the previous frame is shown unmarked: the same pixel there is not magenta */
    px = img.px + ((size_t)(py0 + 32 + 10) * img.w + px0 + 32) * 3;
    ASSERT_TRUE(!(px[0] == 255 && px[1] == 0 && px[2] == 255));
    /* the header names the sample: its first row of text is not blank */
    int ink = 0;
    for (uint32_t y = 0; y < py0; y++)
        for (uint32_t x = 0; x < img.w; x++)
            ink += img.px[((size_t)y * img.w + x) * 3] < 128;
    ASSERT_TRUE(ink > 0);
    mvot_image_free(&img);
    free(p);
    ASSERT_OK(mvot_eval_write_report(r1, d1, &err), &err);
    char *md = mvot_io_join(d1, "report.md"), *js = mvot_io_join(d1, "report.json");
    uint8_t *buf;
    size_t len;
    ASSERT_OK(mvot_io_read_file(md, 1 << 20, &buf, &len, &err), &err);
    ASSERT_CONTAINS((char *)buf, "| frozenlake |");
    ASSERT_CONTAINS((char *)buf, "failures/maze-000001-v000.0.png");
    free(buf);
    json_t *rj = NULL;
    ASSERT_OK(mvot_json_load_file(js, &rj, &err), &err);
    ASSERT_TRUE(json_equal(rj, r1->report));
    json_decref(rj);
    json_t *sum = mvot_eval_summary(r1);
    static const char *const keys[] = {"accuracy", "v_acc", "v_red", "v_steps", "v_ratio"};
    for (int k = 0; k < 5; k++)
        ASSERT_TRUE(json_object_get(sum, keys[k]) != NULL);
    json_decref(sum);
    free(md);
    free(js);
    free(s1);
    free(s3);
    mvot_eval_result_free(r1);
    mvot_eval_result_free(r3);
    free(d1);
    free(d3);
}

/* A decoder that is not a pure patch paste gets no LUT and the same numbers. */
static void test_no_lut(void)
{
    world_init();
    static struct jl j;
    j.n = 0;
    perfect(&j);
    int lut = 1;
    struct mvot_eval_result *r = run_full(&j, 2, NULL, t_decode_tint, &lut);
    ASSERT_TRUE(!lut);
    ASSERT_NEAR(num(r, NULL, "v_acc"), 1.0, 0);
    ASSERT_NEAR(num(r, NULL, "v_red"), 0.0, 0);
    mvot_eval_result_free(r);
}

/* docs/eval.md and the code agree: every key of report.json, of a metrics object and of the
 * --json summary appears in the spec as `key`. */
static void spec_has_keys(const char *doc, const json_t *o, const char *what)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        char pat[64];
        snprintf(pat, sizeof pat, "`%s`", k);
        if (!strstr(doc, pat)) {
            char pat2[64]; /* keys listed inside a {a, b, c} group */
            snprintf(pat2, sizeof pat2, " %s", k);
            if (!strstr(doc, pat2))
                T_FAIL("docs/eval.md does not mention %s key '%s'", what, k);
        }
    }
}

static void test_spec(void)
{
    world_init();
    const char *src = getenv("MVOT_SRC");
    if (!src)
        src = ".";
    char *path = mvot_io_join(src, "docs/eval.md");
    uint8_t *doc = NULL;
    size_t len;
    struct mvot_error err;
    ASSERT_OK(mvot_io_read_file(path, 1 << 20, &doc, &len, &err), &err);
    free(path);
    if (!doc)
        return;
    static struct jl j;
    j.n = 0;
    perfect(&j);
    struct mvot_eval_result *r = run(&j);
    const json_t *ov = json_object_get(r->report, "overall");
    spec_has_keys((char *)doc, r->report, "report.json");
    spec_has_keys((char *)doc, ov, "metrics");
    static const char *const sub[] = {"answers", "images", "tokens", "visual", "confusion"};
    for (int i = 0; i < 5; i++)
        spec_has_keys((char *)doc, json_object_get(ov, sub[i]), sub[i]);
    json_t *sum = mvot_eval_summary(r);
    spec_has_keys((char *)doc, sum, "--json summary");
    json_decref(sum);
    mvot_eval_result_free(r);
    free(doc);
}

TEST_MAIN(test_spec, test_perfect, test_forms, test_agent_cell_prev, test_far_agent,
          test_traj_steps, test_answers, test_diagnostics, test_threads_and_failures, test_no_lut)
