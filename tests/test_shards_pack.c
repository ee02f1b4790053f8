/* Shards end to end on a small generated archive: golden official-loader layout, write ->
 * read -> compare against an independent assembly (episodes whole and adjacent), verify,
 * thread-count invariance, resume after a stop, 200 random byte flips in a shard that verify
 * must flag without crashing, identity (a swapped shard and an edited manifest refused, a
 * split's folder), and 60 random bit flips in manifest.json that verify must all flag. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/pool.h"
#include "core/rng.h"
#include "gen/episode.h"
#include "shards/assemble.h"
#include "shards/pack.h"
#include "shards/reader.h"
#include "shards/verify.h"
#include "tests/test.h"
#include "tests/test_shards_fixture.h"
#include "tokenize/bpe_train.h"
#include "tokenize/imagetok.h"

static char *g_dir; /* fixture: episodes, tokenizer.json, cb.safetensors */

static const char *fixture(void)
{
    if (g_dir)
        return g_dir;
    g_dir = t_tmpdir();
    if (fx_make(g_dir, 2, 128, 64) != 0) {
        free(g_dir);
        g_dir = NULL;
    }
    return g_dir;
}

static char *path_in(const char *dir, const char *name)
{
    return mvot_io_join(dir, name);
}

static uint32_t g_max_length;
static enum mvot_length_policy g_policy;
static enum mvot_pack_mode g_mode = MVOT_PACK_MVOT;

static int g_aug_identity; /* the last pack said its --augment was a no-op */

static int pack_to(const char *out, int threads, uint32_t shard_samples, uint32_t stop_after,
                   int augment)
{
    struct mvot_pack_opts o;
    mvot_pack_opts_default(&o);
    o.max_length = g_max_length;
    o.length_policy = g_policy;
    o.mode = g_mode;
    o.image_seq_length = 64;
    o.shard_samples = shard_samples;
    o.stop_after_shards = stop_after;
    o.augment = (uint32_t)augment;
    o.seed = 3;
    struct mvot_pool *pool = mvot_pool_create(threads);
    struct mvot_error err = {0};
    char *tp = path_in(g_dir, "tokenizer.json"), *cp = path_in(g_dir, "cb.safetensors");
    /* the archive, not g_dir: an output folder inside the episode folder is refused */
    char *ap = path_in(g_dir, "episodes.tar.zst");
    json_t *sum = NULL;
    enum mvot_status st = mvot_pack_run(ap, tp, cp, out, &o, pool, NULL, &sum, &err);
    free(ap);
    if (st != MVOT_OK)
        fprintf(stderr, "pack: %s\n", err.msg);
    g_aug_identity = json_is_true(json_object_get(sum, "augment_identity"));
    json_decref(sum);
    free(tp);
    free(cp);
    mvot_pool_free(pool);
    return st == MVOT_OK ? 0 : -1;
}

static int same_file(const char *a, const char *b)
{
    uint8_t *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    int same = mvot_io_read_file(a, 1u << 30, &x, &nx, NULL) == MVOT_OK &&
               mvot_io_read_file(b, 1u << 30, &y, &ny, NULL) == MVOT_OK && nx == ny &&
               memcmp(x, y, nx) == 0;
    free(x);
    free(y);
    return same;
}

/* Every file of a's manifest (+ manifest, copies) is byte-identical in b. */
static int same_dir(const char *a, const char *b)
{
    char *ma = path_in(a, "manifest.json"), *mb = path_in(b, "manifest.json");
    int ok = same_file(ma, mb);
    json_t *m = NULL;
    if (ok && mvot_json_load_file(ma, &m, NULL) == MVOT_OK) {
        json_t *sh = json_object_get(m, "shards");
        for (size_t i = 0; ok && i < json_array_size(sh); i++) {
            const char *f = json_string_value(json_object_get(json_array_get(sh, i), "file"));
            char *fa = path_in(a, f), *fb = path_in(b, f);
            ok = same_file(fa, fb);
            free(fa);
            free(fb);
        }
        ok = ok && json_array_size(sh) > 0;
    }
    json_decref(m);
    free(ma);
    free(mb);
    return ok;
}

static json_t *verify_dir(const char *dir)
{
    json_t *rep = NULL;
    struct mvot_error err = {0};
    if (mvot_shards_verify(dir, NULL, NULL, &rep, &err) != MVOT_OK)
        return NULL;
    return rep;
}

/* ---- golden: the official loader layout on a hand-built episode ---- */

static const char INSTR[] =
    "Task: Maze Navigation Simulation\nDetermine the final destination (A, B, C or D) from the "
    "starting point (red point) following the action sequence. The definitions of the actions "
    "are as below. \n* Go up/left/down/right: move one grid space in the absolute "
    "up/left/down/right direction. \nFull Action Sequence: Go up. Go left. \n";

static void golden_episode(struct mvot_episode *ep)
{
    static char *steps[2] = {"Go up. ", "Go left. "};
    static char *rat[2] = {"Move up to (0, 1).", "Move left to (0, 0)."};
    memset(ep, 0, sizeof *ep);
    ep->task = MVOT_TASK_MAZE;
    ep->key = "maze-000001";
    ep->grid = 3;
    ep->image_size = 128;
    ep->instruction = (char *)INSTR;
    ep->init_text = "Initial maze: ";
    ep->n_steps = 2;
    ep->step_text = steps;
    ep->rationale = rat;
    ep->answer = "B";
    ep->final_text = "Action sequence finished. The answer is B.";
    ep->n_frames = 3;
}

static void t_golden_texts(void)
{
    struct mvot_episode ep;
    golden_episode(&ep);
    struct mvot_example *ex = NULL;
    size_t n = 0;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_assemble_examples(&ep, MVOT_PACK_MVOT, &ex, &n, &err), &err);
    ASSERT_EQ_INT(n, 5); /* L = 2: 2 visualization + 3 reasoning */
    if (n != 5)
        return;
    char pre[1024];
    snprintf(pre, sizeof pre, "%sInitial maze: <image>\nResponse: ", INSTR);
    char want[1200];
    /* visualization k=0: history "Go up. ", images [I0], label I1 */
    snprintf(want, sizeof want, "%sGo up. ", pre);
    ASSERT_EQ_STR(ex[0].key, "maze-000001-v000");
    ASSERT_EQ_STR(ex[0].input_text, want);
    ASSERT_EQ_STR(ex[0].label_text, "<image>");
    ASSERT_EQ_INT(ex[0].n_images, 2);
    ASSERT_EQ_INT(ex[0].images[0], 0);
    ASSERT_EQ_INT(ex[0].images[1], 1);
    ASSERT_EQ_INT(ex[0].n_input_images, 1);
    /* visualization k=1: "Go up. <image>Go left. ", images [I0, I1], label I2 */
    snprintf(want, sizeof want, "%sGo up. <image>Go left. ", pre);
    ASSERT_EQ_STR(ex[1].input_text, want);
    ASSERT_EQ_INT(ex[1].n_images, 3);
    ASSERT_EQ_INT(ex[1].images[1], 1);
    ASSERT_EQ_INT(ex[1].images[2], 2);
    ASSERT_EQ_INT(ex[1].prev_frame, 1);
    ASSERT_EQ_INT(ex[1].target_frame, 2);
    /* reasoning k=0: empty history, label "Go up." stripped */
    ASSERT_EQ_STR(ex[2].key, "maze-000001-r000");
    ASSERT_EQ_STR(ex[2].input_text, pre);
    ASSERT_EQ_STR(ex[2].label_text, "Go up.");
    ASSERT_EQ_INT(ex[2].n_images, 1);
    /* reasoning k=1: "Go up. <image>", images [I0, I1] */
    snprintf(want, sizeof want, "%sGo up. <image>", pre);
    ASSERT_EQ_STR(ex[3].input_text, want);
    ASSERT_EQ_STR(ex[3].label_text, "Go left.");
    ASSERT_EQ_INT(ex[3].images[1], 1);
    /* reasoning k=L: history of both, images [I0, I2], final label */
    snprintf(want, sizeof want, "%sGo up. Go left. <image>", pre);
    ASSERT_EQ_STR(ex[4].input_text, want);
    ASSERT_EQ_STR(ex[4].label_text, "Action sequence finished. The answer is B.");
    ASSERT_EQ_INT(ex[4].images[1], 2);
    mvot_examples_free(ex, n);

    /* trajectory: whole response supervised */
    ASSERT_OK(mvot_assemble_examples(&ep, MVOT_PACK_TRAJECTORY, &ex, &n, &err), &err);
    ASSERT_EQ_INT(n, 1);
    ASSERT_EQ_STR(ex[0].label_text,
                  "Go up. <image>Go left. <image>Action sequence finished. The answer is B.");
    ASSERT_EQ_INT(ex[0].n_images, 3);
    ASSERT_EQ_INT(ex[0].n_input_images, 1);
    mvot_examples_free(ex, n);
    ASSERT_OK(mvot_assemble_examples(&ep, MVOT_PACK_COT, &ex, &n, &err), &err);
    ASSERT_EQ_STR(ex[0].label_text, "Move up to (0, 1). Move left to (0, 0). Action sequence "
                                    "finished. The answer is B.");
    mvot_examples_free(ex, n);
    ASSERT_OK(mvot_assemble_examples(&ep, MVOT_PACK_DIRECT, &ex, &n, &err), &err);
    ASSERT_EQ_STR(ex[0].label_text, "Action sequence finished. The answer is B.");
    ASSERT_EQ_INT(ex[0].n_images, 1);
    mvot_examples_free(ex, n);
}

/* MINIBEHAVIOR captions: every "<image>" is followed by its frame's caption and a space, in
 * every mode, input and label alike (the official "<image>Carrying objects: None. " layout). */
static void t_golden_captions(void)
{
    static char *caps[3] = {"Carrying objects: None.", "Carrying objects: printer_0.",
                            "Carrying objects: None."};
    static char *steps[2] = {"Pick up. ", "Drop. "};
    struct mvot_episode ep;
    golden_episode(&ep);
    ep.task = MVOT_TASK_MINIBEHAVIOR;
    ep.key = "minibehavior-000001";
    ep.init_text = "Initial State: ";
    ep.step_text = steps;
    ep.caption = caps;
    struct mvot_example *ex = NULL;
    size_t n = 0;
    struct mvot_error err = {0};
    char pre[1024], want[1400];
    snprintf(pre, sizeof pre,
             "%sInitial State: <image>Carrying objects: None. \nResponse: ", INSTR);
    ASSERT_OK(mvot_assemble_examples(&ep, MVOT_PACK_MVOT, &ex, &n, &err), &err);
    ASSERT_EQ_INT(n, 5);
    if (n != 5)
        return;
    snprintf(want, sizeof want, "%sPick up. ", pre);
    ASSERT_EQ_STR(ex[0].input_text, want);
    ASSERT_EQ_STR(ex[0].label_text, "<image>Carrying objects: printer_0. ");
    snprintf(want, sizeof want, "%sPick up. <image>Carrying objects: printer_0. Drop. ", pre);
    ASSERT_EQ_STR(ex[1].input_text, want);
    ASSERT_EQ_STR(ex[1].label_text, "<image>Carrying objects: None. ");
    ASSERT_EQ_STR(ex[2].input_text, pre);
    ASSERT_EQ_STR(ex[2].label_text, "Pick up.");
    snprintf(want, sizeof want, "%sPick up. <image>Carrying objects: printer_0. ", pre);
    ASSERT_EQ_STR(ex[3].input_text, want);
    ASSERT_EQ_STR(ex[3].label_text, "Drop.");
    snprintf(want, sizeof want, "%sPick up. Drop. <image>Carrying objects: None. ", pre);
    ASSERT_EQ_STR(ex[4].input_text, want);
    ASSERT_EQ_STR(ex[4].label_text, "Action sequence finished. The answer is B.");
    mvot_examples_free(ex, n);
    ASSERT_OK(mvot_assemble_examples(&ep, MVOT_PACK_TRAJECTORY, &ex, &n, &err), &err);
    ASSERT_EQ_STR(ex[0].input_text, pre);
    ASSERT_EQ_STR(ex[0].label_text,
                  "Pick up. <image>Carrying objects: printer_0. Drop. <image>Carrying objects: "
                  "None. Action sequence finished. The answer is B.");
    ASSERT_EQ_INT(ex[0].n_images, 3);
    mvot_examples_free(ex, n);
    ASSERT_OK(mvot_assemble_examples(&ep, MVOT_PACK_COT, &ex, &n, &err), &err);
    ASSERT_EQ_STR(ex[0].input_text, pre);
    mvot_examples_free(ex, n);
    ASSERT_OK(mvot_assemble_examples(&ep, MVOT_PACK_DIRECT, &ex, &n, &err), &err);
    ASSERT_EQ_STR(ex[0].input_text, pre);
    ASSERT_EQ_STR(ex[0].label_text, "Action sequence finished. The answer is B.");
    mvot_examples_free(ex, n);
}

/* The token layout of the visualization k=1 example, checked position by position, and the
 * segment-wise text encoding checked against encoding the whole HF-expanded string. */
static void t_golden_tokens(void)
{
    char *dir = t_tmpdir(), *tp = path_in(dir, "tokenizer.json");
    ASSERT_EQ_INT(fx_write_tokenizer(tp), 0);
    struct mvot_bpe *tok = NULL;
    struct mvot_layout lay;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_bpe_load_file(tp, &tok, &err), &err);
    if (!tok)
        return;
    ASSERT_OK(mvot_layout_from_bpe(tok, &lay, &err), &err);
    ASSERT_EQ_INT(lay.bos, 0);
    ASSERT_EQ_INT(lay.boi, 8197);
    ASSERT_EQ_INT(lay.eoi, 8196);
    ASSERT_EQ_INT(lay.sep, 8710);
    struct mvot_assembler as;
    ASSERT_OK(mvot_assembler_init(&as, tok, &lay, 64, &err), &err);
    ASSERT_EQ_INT(as.n_prefix, 1);
    ASSERT_EQ_INT(as.prefix[0], 0);
    ASSERT_EQ_INT(as.n_suffix, 0);
    struct mvot_episode ep;
    golden_episode(&ep);
    struct mvot_example *ex = NULL;
    size_t n = 0;
    ASSERT_OK(mvot_assemble_examples(&ep, MVOT_PACK_MVOT, &ex, &n, &err), &err);
    int32_t c0[64], c1[64], c2[64];
    for (int i = 0; i < 64; i++) {
        c0[i] = i;
        c1[i] = 100 + i;
        c2[i] = 8191 - i;
    }
    const int32_t *codes[3] = {c0, c1, c2};
    struct mvot_ids t = {0};
    struct mvot_spans sp = {0};
    ASSERT_OK(
        mvot_assemble_tokens(&as, ex[1].input_text, ex[1].label_text, codes, 3, &t, &sp, &err),
        &err);
    /* expected: <s> enc(INSTR + "Initial maze: ") BOI c0 EOI enc("\nResponse: Go up. ") BOI c1
     * EOI enc("Go left. ") SEP | BOI c2 EOI SEP */
    struct mvot_ids w = {0};
    char seg[1024];
    mvot_ids_push(&w, 0);
    snprintf(seg, sizeof seg, "%sInitial maze: ", INSTR);
    ASSERT_OK(mvot_bpe_encode(tok, seg, strlen(seg), 0, &w, &err), &err);
    size_t boi0 = w.n;
    mvot_ids_push(&w, 8197);
    for (int i = 0; i < 64; i++)
        mvot_ids_push(&w, 4 + i); /* fixture: code c has id 4 + c (IMGIMG names) */
    mvot_ids_push(&w, 8196);
    mvot_bpe_encode(tok, "\nResponse: Go up. ", 18, 0, &w, &err);
    mvot_ids_push(&w, 8197);
    for (int i = 0; i < 64; i++)
        mvot_ids_push(&w, 4 + 100 + i);
    mvot_ids_push(&w, 8196);
    mvot_bpe_encode(tok, "Go left. ", 9, 0, &w, &err);
    mvot_ids_push(&w, 8710);
    size_t label_start = w.n;
    mvot_ids_push(&w, 8197);
    for (int i = 0; i < 64; i++)
        mvot_ids_push(&w, 4 + 8191 - i);
    mvot_ids_push(&w, 8196);
    mvot_ids_push(&w, 8710);
    ASSERT_EQ_INT(t.n, w.n);
    ASSERT_TRUE(t.n == w.n && memcmp(t.v, w.v, w.n * sizeof *w.v) == 0);
    ASSERT_EQ_INT(t.v[boi0], 8197);
    /* loss: 0 before label_start, 1 after */
    for (size_t k = 0; k < sp.n; k++) {
        int in_label = sp.v[k].start >= label_start;
        ASSERT_EQ_INT(sp.v[k].loss, in_label);
        if (sp.v[k].start < label_start)
            ASSERT_TRUE(sp.v[k].start + sp.v[k].length <= label_start);
    }
    ASSERT_EQ_INT(sp.v[sp.n - 1].start + sp.v[sp.n - 1].length, t.n);
    /* "Go up." must have used the merge G o -> Go (the fixture's BPE is real) */
    int32_t go = mvot_bpe_token_to_id(tok, "Go");
    ASSERT_TRUE(go >= 0);

    /* HF equivalence: encode the whole ChameleonProcessor string (images expanded to
     * <racm3:break> + N <image> + <eoss>, separator appended) with add_special, then fill the
     * <image> slots with the codes: identical to the input part. */
    struct mvot_buf b;
    mvot_buf_init(&b, 0);
    const char *p = ex[1].input_text;
    for (;;) {
        const char *m = strstr(p, "<image>");
        mvot_buf_append(&b, p, m ? (size_t)(m - p) : strlen(p));
        if (!m)
            break;
        mvot_buf_printf(&b, "<racm3:break>");
        for (int i = 0; i < 64; i++)
            mvot_buf_printf(&b, "<image>");
        mvot_buf_printf(&b, "<eoss>");
        p = m + 7;
    }
    mvot_buf_printf(&b, "<reserved08706>");
    struct mvot_ids whole = {0};
    ASSERT_OK(mvot_bpe_encode(tok, (const char *)b.data, b.len, 1, &whole, &err), &err);
    size_t slot = 0;
    for (size_t i = 0; i < whole.n; i++)
        if (whole.v[i] == 8711) {
            whole.v[i] = 4 + (slot < 64 ? c0[slot] : c1[slot - 64]);
            slot++;
        }
    ASSERT_EQ_INT(slot, 128);
    ASSERT_EQ_INT(whole.n, label_start);
    ASSERT_TRUE(whole.n == label_start && memcmp(whole.v, t.v, label_start * 4) == 0);
    mvot_buf_free(&b);
    mvot_ids_free(&whole);
    mvot_ids_free(&t);
    mvot_ids_free(&w);
    mvot_spans_free(&sp);
    mvot_examples_free(ex, n);
    mvot_bpe_free(tok);
    free(tp);
    free(dir);
}

/* HF equivalence on one example: the ChameleonProcessor string (every "<image>" expanded to
 * <racm3:break> + N <image> + <eoss>, separator appended) encoded whole with add_special, the
 * <image> slots then filled with the codes, equals the assembled input part; the label part
 * equals the label string encoded whole without specials (no BOS), plus the separator. */
static int hf_equiv(const struct mvot_bpe *tok, const struct mvot_layout *lay,
                    const struct mvot_assembler *as, const struct mvot_example *ex, uint32_t N)
{
    int32_t *codes = malloc((size_t)ex->n_images * N * sizeof *codes);
    const int32_t *cp[64];
    for (uint32_t i = 0; i < ex->n_images * N; i++)
        codes[i] = (int32_t)((i * 2654435761u) % lay->n_codes);
    for (uint32_t i = 0; i < ex->n_images && i < 64; i++)
        cp[i] = codes + (size_t)i * N;
    struct mvot_ids t = {0}, whole = {0};
    struct mvot_spans sp = {0};
    struct mvot_error err = {0};
    int ok = mvot_assemble_tokens(as, ex->input_text, ex->label_text, cp, ex->n_images, &t, &sp,
                                  &err) == MVOT_OK;
    size_t slot = 0;
    for (int part = 0; ok && part < 2; part++) {
        struct mvot_buf b;
        mvot_buf_init(&b, 0);
        const char *p = part ? ex->label_text : ex->input_text;
        for (;;) {
            const char *m = strstr(p, "<image>");
            mvot_buf_append(&b, p, m ? (size_t)(m - p) : strlen(p));
            if (!m)
                break;
            mvot_buf_printf(&b, "<racm3:break>");
            for (uint32_t i = 0; i < N; i++)
                mvot_buf_printf(&b, "<image>");
            mvot_buf_printf(&b, "<eoss>");
            p = m + 7;
        }
        mvot_buf_printf(&b, "<reserved08706>");
        ok = mvot_bpe_encode(tok, (const char *)b.data, b.len, part == 0, &whole, &err) == MVOT_OK;
        mvot_buf_free(&b);
    }
    for (size_t i = 0; ok && i < whole.n; i++)
        if (whole.v[i] == lay->image)
            whole.v[i] = lay->code_to_id[codes[slot++]];
    ok = ok && slot == (size_t)ex->n_images * N && whole.n == t.n &&
         memcmp(whole.v, t.v, t.n * sizeof *t.v) == 0;
    if (!ok)
        fprintf(stderr, "hf_equiv %s: %zu vs %zu tokens (%s)\n", ex->key, whole.n, t.n, err.msg);
    mvot_ids_free(&t);
    mvot_ids_free(&whole);
    mvot_spans_free(&sp);
    free(codes);
    return ok;
}

/* The same equivalence with a BPE trained by mvot_bpe_train_texts on the fixture's texts (the
 * tokenizer `mvot build` uses), for every example of every mode. */
static void t_hf_equivalence_trained(void)
{
    if (!fixture())
        return;
    char *ap = path_in(g_dir, "episodes.tar.zst"), *tp = path_in(g_dir, "trained.json");
    struct mvot_error err = {0};
    struct mvot_episode_reader *rd = NULL;
    struct mvot_episode eps[16];
    size_t ne = 0;
    const char *texts[64];
    size_t lens[64], nt = 0;
    char *owned[64];
    ASSERT_OK(mvot_episode_reader_open(ap, &rd, &err), &err);
    while (rd && ne < 16) {
        int done = 0;
        if (mvot_episode_reader_next(rd, &eps[ne], &done, &err) != MVOT_OK || done)
            break;
        struct mvot_buf b;
        mvot_buf_init(&b, 0);
        mvot_buf_printf(&b, "%s%s\nResponse: ", eps[ne].instruction, eps[ne].init_text);
        for (uint32_t i = 0; i < eps[ne].n_steps; i++)
            mvot_buf_printf(&b, "%s%s ", eps[ne].step_text[i], eps[ne].rationale[i]);
        mvot_buf_printf(&b, "%s", eps[ne].final_text);
        owned[nt] = (char *)b.data;
        texts[nt] = owned[nt];
        lens[nt] = b.len;
        nt++;
        ne++;
    }
    mvot_episode_reader_close(rd);
    struct mvot_bpe_train_opts bo;
    mvot_bpe_train_opts_default(&bo);
    ASSERT_OK(mvot_bpe_train_texts(texts, lens, nt, &bo, NULL, tp, &err), &err);
    struct mvot_bpe *tok = NULL;
    struct mvot_layout lay;
    struct mvot_assembler as;
    ASSERT_OK(mvot_bpe_load_file(tp, &tok, &err), &err);
    if (tok) {
        ASSERT_OK(mvot_layout_from_bpe(tok, &lay, &err), &err);
        ASSERT_OK(mvot_assembler_init(&as, tok, &lay, 64, &err), &err);
        ASSERT_EQ_INT(as.n_prefix, 1);
        ASSERT_EQ_INT(as.prefix[0], lay.bos);
        size_t checked = 0;
        for (size_t e = 0; e < ne; e++)
            for (int mode = 0; mode <= MVOT_PACK_DIRECT; mode++) {
                struct mvot_example *ex = NULL;
                size_t n = 0;
                ASSERT_OK(mvot_assemble_examples(&eps[e], (enum mvot_pack_mode)mode, &ex, &n, &err),
                          &err);
                for (size_t k = 0; k < n; k++, checked++)
                    ASSERT_TRUE(hf_equiv(tok, &lay, &as, &ex[k], 64));
                mvot_examples_free(ex, n);
            }
        ASSERT_TRUE(checked > 20);
    }
    for (size_t e = 0; e < ne; e++)
        mvot_episode_free(&eps[e]);
    for (size_t i = 0; i < nt; i++)
        free(owned[i]);
    mvot_bpe_free(tok);
    free(ap);
    free(tp);
}

/* ---- round trip ---- */

static void t_roundtrip(void)
{
    if (!fixture()) {
        T_FAIL("fixture failed");
        return;
    }
    char *out = path_in(g_dir, "shards-a");
    ASSERT_EQ_INT(pack_to(out, 1, 7, 0, 0), 0);
    json_t *rep = verify_dir(out);
    ASSERT_TRUE(rep && json_is_true(json_object_get(rep, "ok")));
    if (rep && !json_is_true(json_object_get(rep, "ok"))) {
        char *s = mvot_json_dumps(rep);
        fprintf(stderr, "%s\n", s);
        free(s);
    }
    json_decref(rep);

    /* independent assembly from the archive */
    struct mvot_error err = {0};
    struct mvot_shard_set *set = NULL;
    ASSERT_OK(mvot_shard_set_open(out, &set, &err), &err);
    if (!set)
        return;
    char *tp = path_in(g_dir, "tokenizer.json"), *cp = path_in(g_dir, "cb.safetensors");
    char *ap = path_in(g_dir, "episodes.tar.zst");
    struct mvot_bpe *tok = NULL;
    struct mvot_layout lay;
    struct mvot_imagetok *it = NULL;
    struct mvot_assembler as;
    ASSERT_OK(mvot_bpe_load_file(tp, &tok, &err), &err);
    ASSERT_OK(mvot_layout_from_bpe(tok, &lay, &err), &err);
    ASSERT_OK(mvot_assembler_init(&as, tok, &lay, 64, &err), &err);
    ASSERT_OK(mvot_imagetok_open(cp, 128, 1, &it, &err), &err);
    struct mvot_episode_reader *rd = NULL;
    ASSERT_OK(mvot_episode_reader_open(ap, &rd, &err), &err);
    size_t checked = 0;
    for (; rd;) {
        struct mvot_episode ep;
        int done = 0;
        if (mvot_episode_reader_next(rd, &ep, &done, &err) != MVOT_OK || done)
            break;
        int32_t *codes = malloc(ep.n_frames * 64 * sizeof *codes);
        for (uint32_t f = 0; f < ep.n_frames; f++) {
            struct mvot_image img;
            mvot_png_decode(ep.frame_png[f], ep.frame_png_len[f], "frame", &img, &err);
            ASSERT_OK(mvot_imagetok_encode(it, &img, codes + f * 64, &err), &err);
            mvot_image_free(&img);
        }
        struct mvot_example *ex = NULL;
        size_t n = 0;
        ASSERT_OK(mvot_assemble_examples(&ep, MVOT_PACK_MVOT, &ex, &n, &err), &err);
        size_t first_index = 0;
        for (size_t e = 0; e < n; e++) {
            const int32_t *cp_[8];
            for (uint32_t i = 0; i < ex[e].n_images; i++)
                cp_[i] = codes + ex[e].images[i] * 64;
            struct mvot_ids t = {0};
            struct mvot_spans sp = {0};
            ASSERT_OK(mvot_assemble_tokens(&as, ex[e].input_text, ex[e].label_text, cp_,
                                           ex[e].n_images, &t, &sp, &err),
                      &err);
            struct mvot_sample s, s2;
            /* shards hold episodes in their shuffled order, an episode's samples adjacent and
             * in assembly order */
            size_t index = 0;
            ASSERT_OK(mvot_shard_set_lookup(set, ex[e].key, &index, &err), &err);
            if (e == 0)
                first_index = index;
            ASSERT_EQ_INT(index, first_index + e);
            ASSERT_OK(mvot_shard_set_get(set, index, &s, &err), &err);
            ASSERT_EQ_STR(s.key, ex[e].key);
            struct mvot_sample_info info;
            ASSERT_OK(mvot_shard_set_info(set, index, &info, &err), &err);
            ASSERT_EQ_STR(info.key, ex[e].key);
            ASSERT_EQ_INT(info.split, ep.split);
            ASSERT_EQ_INT(info.task, ep.task);
            ASSERT_EQ_INT(info.episode_len, strlen(ep.key));
            ASSERT_EQ_INT(s.n_tokens, t.n);
            int same = s.n_tokens == t.n;
            for (size_t i = 0; same && i < t.n; i++)
                same = s.tokens[i] == (uint32_t)t.v[i];
            ASSERT_TRUE(same);
            ASSERT_EQ_INT(s.n_spans, sp.n);
            ASSERT_EQ_INT(s.n_png, ex[e].n_images);
            for (uint32_t j = 0; j < s.n_png && j < ex[e].n_images; j++)
                ASSERT_TRUE(s.png_len[j] == ep.frame_png_len[ex[e].images[j]] &&
                            memcmp(s.png[j], ep.frame_png[ex[e].images[j]], s.png_len[j]) == 0);
            ASSERT_EQ_STR(json_string_value(json_object_get(s.meta, "episode")), ep.key);
            /* labels: -100 exactly on the input (through the first SEP) */
            int32_t *lab = malloc(s.n_tokens * sizeof *lab);
            mvot_sample_labels(&s, lab);
            size_t first_sep = 0;
            while (first_sep < s.n_tokens && (int32_t)s.tokens[first_sep] != lay.sep)
                first_sep++;
            int ok = 1;
            for (size_t i = 0; i < s.n_tokens; i++)
                ok &= i <= first_sep ? lab[i] == -100 : lab[i] == (int32_t)s.tokens[i];
            ASSERT_TRUE(ok);
            free(lab);
            ASSERT_OK(mvot_shard_set_find(set, ex[e].key, &s2, &err), &err);
            ASSERT_EQ_INT(s2.n_tokens, s.n_tokens);
            mvot_sample_free(&s);
            mvot_sample_free(&s2);
            mvot_ids_free(&t);
            mvot_spans_free(&sp);
            checked++;
        }
        mvot_examples_free(ex, n);
        free(codes);
        mvot_episode_free(&ep);
    }
    ASSERT_EQ_INT(checked, mvot_shard_set_count(set));
    /* docs/manifest.md names every field the manifest has */
    const char *src = getenv("MVOT_SRC");
    char *dp = src ? mvot_io_join(src, "docs/manifest.md") : NULL;
    uint8_t *doc = NULL;
    size_t dl = 0;
    if (dp && mvot_io_read_file(dp, 1 << 20, &doc, &dl, &err) == MVOT_OK) {
        const json_t *m = mvot_shard_set_manifest(set);
        const json_t *objs[7] = {m,
                                 json_object_get(m, "totals"),
                                 json_object_get(m, "tokenizer"),
                                 json_object_get(json_object_get(m, "shards"), 0),
                                 json_object_get(m, "codebook"),
                                 json_object_get(m, "episodes"),
                                 json_object_get(m, "options")};
        for (int k = 0; k < 7; k++) {
            const char *name;
            json_t *v;
            json_object_foreach((json_t *)objs[k], name, v)
            {
                char q[64];
                snprintf(q, sizeof q, "`%s`", name);
                ASSERT_CONTAINS((const char *)doc, q);
            }
        }
    } else {
        T_FAIL("cannot read docs/manifest.md (MVOT_SRC)");
    }
    free(doc);
    free(dp);
    ASSERT_TRUE(checked > 10);
    struct mvot_sample s;
    ASSERT_EQ_INT(mvot_shard_set_find(set, "no-such-key", &s, &err), MVOT_ERR_NOTFOUND);
    mvot_episode_reader_close(rd);
    mvot_imagetok_free(it);
    mvot_bpe_free(tok);
    mvot_shard_set_close(set);
    free(tp);
    free(cp);
    free(ap);
    free(out);
}

static void t_threads_and_resume(void)
{
    if (!fixture())
        return;
    char *a = path_in(g_dir, "shards-a"), *b = path_in(g_dir, "shards-b");
    char *c = path_in(g_dir, "shards-c");
    if (!mvot_io_exists(a))
        ASSERT_EQ_INT(pack_to(a, 1, 7, 0, 0), 0);
    ASSERT_EQ_INT(pack_to(b, 2, 7, 0, 0), 0);
    ASSERT_TRUE(same_dir(a, b));
    /* stop after 1 shard, then after 2 more, then finish */
    ASSERT_EQ_INT(pack_to(c, 2, 7, 1, 0), 0);
    char *m = path_in(c, "manifest.json");
    ASSERT_TRUE(!mvot_io_exists(m));
    ASSERT_EQ_INT(pack_to(c, 1, 7, 2, 0), 0);
    ASSERT_TRUE(!mvot_io_exists(m));
    ASSERT_EQ_INT(pack_to(c, 2, 7, 0, 0), 0);
    ASSERT_TRUE(same_dir(a, c));
    /* a rerun over a complete dir changes nothing */
    ASSERT_EQ_INT(pack_to(c, 2, 7, 0, 0), 0);
    ASSERT_TRUE(same_dir(a, c));
    /* different options into the same dir are refused */
    ASSERT_TRUE(pack_to(c, 1, 9, 0, 0) != 0);
    free(m);
    free(a);
    free(b);
    free(c);
}

static void t_augment(void)
{
    if (!fixture())
        return;
    char *a = path_in(g_dir, "shards-aug1"), *b = path_in(g_dir, "shards-aug2");
    ASSERT_EQ_INT(pack_to(a, 1, 0, 0, 2), 0);
    /* the fixture's patch codebook: a round trip gives back the same codes, so pack says so
     * and does no augmentation */
    ASSERT_TRUE(g_aug_identity);
    ASSERT_EQ_INT(pack_to(b, 2, 0, 0, 2), 0);
    ASSERT_TRUE(same_dir(a, b));
    json_t *rep = verify_dir(a);
    ASSERT_TRUE(rep && json_is_true(json_object_get(rep, "ok")));
    json_decref(rep);
    free(a);
    free(b);
}

static void t_corruption(void)
{
    if (!fixture())
        return;
    char *a = path_in(g_dir, "shards-a");
    if (!mvot_io_exists(a))
        ASSERT_EQ_INT(pack_to(a, 1, 7, 0, 0), 0);
    char *f = path_in(a, "train/shard-00000-000000.tar.zst");
    uint8_t *orig = NULL;
    size_t n = 0;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_io_read_file(f, 1u << 30, &orig, &n, &err), &err);
    uint8_t *buf = malloc(n);
    struct mvot_rng r;
    mvot_rng_seed(&r, 42);
    int flagged = 0;
    for (int trial = 0; trial < 200; trial++) {
        memcpy(buf, orig, n);
        size_t off = (size_t)mvot_rng_below(&r, n);
        buf[off] ^= (uint8_t)(1 + mvot_rng_below(&r, 255));
        /* plain write: the atomic writer's fsyncs would dominate 200 trials */
        FILE *fp = fopen(f, "wb");
        ASSERT_TRUE(fp && fwrite(buf, 1, n, fp) == n);
        if (fp)
            fclose(fp);
        json_t *rep = verify_dir(a);
        if (rep && !json_is_true(json_object_get(rep, "ok")) &&
            json_integer_value(json_object_get(rep, "n_problems")) > 0)
            flagged++;
        else
            T_FAIL("flip at %zu not flagged", off);
        /* the reader must fail cleanly or succeed, never crash */
        struct mvot_shard_set *set = NULL;
        if (mvot_shard_set_open(a, &set, NULL) == MVOT_OK) {
            for (size_t i = 0; i < mvot_shard_set_count(set); i++) {
                struct mvot_sample s;
                if (mvot_shard_set_get(set, i, &s, NULL) == MVOT_OK)
                    mvot_sample_free(&s);
            }
            mvot_shard_set_close(set);
        }
        json_decref(rep);
    }
    ASSERT_EQ_INT(flagged, 200);
    ASSERT_OK(mvot_io_write_file(f, orig, n, &err), &err);
    json_t *rep = verify_dir(a);
    ASSERT_TRUE(rep && json_is_true(json_object_get(rep, "ok")));
    json_decref(rep);
    free(buf);
    free(orig);
    free(f);
    free(a);
}

static void swap_files(const char *a, const char *b)
{
    char *t = mvot_strdupf("%s.swap", a);
    ASSERT_TRUE(t && rename(a, t) == 0 && rename(b, a) == 0 && rename(t, b) == 0);
    free(t);
}

/* Identity (format 2): a swapped shard or an edited manifest is refused by the reader with
 * MVOT_ERR_MISMATCH naming the file; one split's folder opens that split alone. */
static void t_identity(void)
{
    if (!fixture())
        return;
    char *a = path_in(g_dir, "shards-a");
    if (!mvot_io_exists(a))
        ASSERT_EQ_INT(pack_to(a, 1, 7, 0, 0), 0);
    char *s0 = path_in(a, "train/shard-00000-000000.tar.zst");
    char *s1 = path_in(a, "train/shard-00001-000000.tar.zst");
    char *tr = path_in(a, "train"), *mp = path_in(a, "manifest.json");
    struct mvot_error err = {0};
    struct mvot_shard_set *set = NULL;
    struct mvot_sample s;
    ASSERT_TRUE(mvot_io_exists(s1));
    swap_files(s0, s1);
    ASSERT_OK(mvot_shard_set_open(a, &set, &err), &err);
    ASSERT_EQ_INT(mvot_shard_set_get(set, 0, &s, &err), MVOT_ERR_MISMATCH);
    ASSERT_CONTAINS(err.msg, "train/shard-00000-000000.tar.zst");
    mvot_shard_set_close(set);
    json_t *rep = verify_dir(a);
    ASSERT_TRUE(rep && !json_is_true(json_object_get(rep, "ok")));
    json_decref(rep);
    swap_files(s0, s1);
    /* the split folder: the root's manifest restricted to that split */
    ASSERT_OK(mvot_shard_set_open(tr, &set, &err), &err);
    if (set) {
        const json_t *m = mvot_shard_set_manifest(set);
        json_int_t want = json_integer_value(
            json_object_get(json_object_get(json_object_get(m, "splits"), "train"), "samples"));
        ASSERT_EQ_INT(mvot_shard_set_count(set), want);
        ASSERT_EQ_STR(mvot_shard_set_split(set), "train");
        ASSERT_TRUE(mvot_shard_set_warning(set) == NULL);
        ASSERT_OK(mvot_shard_set_get(set, 0, &s, &err), &err);
        ASSERT_EQ_STR(json_string_value(json_object_get(s.meta, "split")), "train");
        mvot_sample_free(&s);
        mvot_shard_set_close(set);
    }
    /* an edited manifest (its hash no longer matches) */
    uint8_t *orig = NULL;
    size_t n = 0;
    ASSERT_OK(mvot_io_read_file(mp, 1 << 24, &orig, &n, &err), &err);
    char *ed = malloc(n + 1);
    memcpy(ed, orig, n);
    ed[n] = 0;
    char *at = strstr(ed, "\"samples\": ");
    ASSERT_TRUE(at != NULL);
    if (at) {
        at += strlen("\"samples\": ");
        *at = *at == '9' ? '8' : (char)(*at + 1);
    }
    ASSERT_OK(mvot_io_write_file(mp, ed, n, &err), &err);
    ASSERT_EQ_INT(mvot_shard_set_open(a, &set, &err), MVOT_ERR_MISMATCH);
    ASSERT_CONTAINS(err.msg, "manifest_xxh3");
    ASSERT_OK(mvot_io_write_file(mp, orig, n, &err), &err);
    free(ed);
    free(orig);
    free(s0);
    free(s1);
    free(tr);
    free(mp);
    free(a);
}

/* verify detects every one of 60 random single-bit flips in manifest.json, and reports a
 * shard-like file the manifest does not list. */
static void t_manifest_flips(void)
{
    if (!fixture())
        return;
    char *a = path_in(g_dir, "shards-a");
    if (!mvot_io_exists(a))
        ASSERT_EQ_INT(pack_to(a, 1, 7, 0, 0), 0);
    char *mp = path_in(a, "manifest.json");
    uint8_t *orig = NULL, *buf = NULL;
    size_t n = 0;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_io_read_file(mp, 1 << 24, &orig, &n, &err), &err);
    if (!orig)
        return;
    buf = malloc(n);
    struct mvot_rng r;
    mvot_rng_seed(&r, 60);
    int detected = 0;
    for (int trial = 0; trial < 60; trial++) {
        memcpy(buf, orig, n);
        size_t off = (size_t)mvot_rng_below(&r, n);
        buf[off] ^= (uint8_t)(1u << mvot_rng_below(&r, 8));
        FILE *fp = fopen(mp, "wb");
        ASSERT_TRUE(fp && fwrite(buf, 1, n, fp) == n);
        if (fp)
            fclose(fp);
        json_t *rep = verify_dir(a);
        if (rep && !json_is_true(json_object_get(rep, "ok")))
            detected++;
        else
            T_FAIL("bit flip at byte %zu of manifest.json passed verify", off);
        json_decref(rep);
    }
    ASSERT_EQ_INT(detected, 60);
    ASSERT_OK(mvot_io_write_file(mp, orig, n, &err), &err);
    json_t *rep = verify_dir(a);
    ASSERT_TRUE(rep && json_is_true(json_object_get(rep, "ok")));
    json_decref(rep);
    /* an unlisted shard-like file */
    char *extra = path_in(a, "train/shard-00000-000099.tar.zst");
    ASSERT_OK(mvot_io_write_file(extra, "x", 1, &err), &err);
    rep = verify_dir(a);
    ASSERT_TRUE(rep && !json_is_true(json_object_get(rep, "ok")));
    char *dump = rep ? mvot_json_dumps(json_object_get(rep, "problems")) : NULL;
    ASSERT_CONTAINS(dump ? dump : "", "does not list");
    free(dump);
    json_decref(rep);
    unlink(extra);
    free(extra);
    free(buf);
    free(orig);
    free(mp);
    free(a);
}

/* Lengths of every sample of a shard dir; picks a limit 3/4 of the way from the shortest to
 * the longest and returns how many samples exceed it. */
static size_t over_limit(const char *dir, size_t *limit, size_t *n_out)
{
    struct mvot_shard_set *set = NULL;
    size_t n = 0, longer = 0, lo = SIZE_MAX, hi = 0;
    if (mvot_shard_set_open(dir, &set, NULL) != MVOT_OK)
        return 0;
    n = mvot_shard_set_count(set);
    size_t *len = calloc(n ? n : 1, sizeof *len);
    for (size_t i = 0; len && i < n; i++) {
        struct mvot_sample s;
        if (mvot_shard_set_get(set, i, &s, NULL) == MVOT_OK) {
            len[i] = s.n_tokens;
            lo = len[i] < lo ? len[i] : lo;
            hi = len[i] > hi ? len[i] : hi;
            mvot_sample_free(&s);
        }
    }
    *limit = lo + (hi - lo) * 3 / 4;
    for (size_t i = 0; len && i < n; i++)
        longer += len[i] > *limit;
    free(len);
    mvot_shard_set_close(set);
    *n_out = n;
    return longer;
}

static json_t *totals_of(const char *dir)
{
    char *p = path_in(dir, "manifest.json");
    json_t *m = NULL;
    mvot_json_load_file(p, &m, NULL);
    free(p);
    json_t *t = json_incref(json_object_get(m, "totals"));
    json_decref(m);
    return t;
}

/* --max-length: drop removes and counts every long sample; truncate (trajectory mode, where
 * the label is long) keeps whole images and counts what it cut; both pass verify. */
static void t_length(void)
{
    if (!fixture())
        return;
    char *a = path_in(g_dir, "shards-a"), *d = path_in(g_dir, "shards-drop"),
         *tr = path_in(g_dir, "shards-traj"), *t = path_in(g_dir, "shards-trunc");
    if (!mvot_io_exists(a))
        ASSERT_EQ_INT(pack_to(a, 1, 7, 0, 0), 0);
    size_t limit = 0, n = 0, longer = over_limit(a, &limit, &n);
    ASSERT_TRUE(longer > 0 && longer < n);
    g_max_length = (uint32_t)limit;
    ASSERT_EQ_INT(pack_to(d, 2, 7, 0, 0), 0);
    g_max_length = 0;
    json_t *rd = verify_dir(d), *td = totals_of(d);
    ASSERT_TRUE(rd && json_is_true(json_object_get(rd, "ok")));
    ASSERT_EQ_INT(json_integer_value(json_object_get(rd, "samples")), n - longer);
    ASSERT_EQ_INT(json_integer_value(json_object_get(td, "dropped")), longer);

    g_mode = MVOT_PACK_TRAJECTORY;
    ASSERT_EQ_INT(pack_to(tr, 1, 7, 0, 0), 0);
    size_t tlimit = 0, tn = 0, tlonger = over_limit(tr, &tlimit, &tn);
    ASSERT_TRUE(tlonger > 0);
    g_max_length = (uint32_t)tlimit;
    g_policy = MVOT_LENGTH_TRUNCATE;
    ASSERT_EQ_INT(pack_to(t, 2, 7, 0, 0), 0);
    g_max_length = 0;
    g_policy = MVOT_LENGTH_DROP;
    g_mode = MVOT_PACK_MVOT;
    json_t *rt = verify_dir(t), *tt = totals_of(t);
    ASSERT_TRUE(rt && json_is_true(json_object_get(rt, "ok")));
    ASSERT_EQ_INT(json_integer_value(json_object_get(tt, "truncated")) +
                      json_integer_value(json_object_get(tt, "dropped")),
                  tlonger);
    ASSERT_TRUE(json_integer_value(json_object_get(tt, "truncated")) > 0);
    ASSERT_TRUE(json_integer_value(json_object_get(tt, "max_sample_tokens")) <= (int)tlimit);
    json_decref(rd);
    json_decref(rt);
    json_decref(td);
    json_decref(tt);
    free(a);
    free(d);
    free(tr);
    free(t);
}

TEST_MAIN(t_golden_texts, t_golden_captions, t_golden_tokens, t_hf_equivalence_trained, t_roundtrip,
          t_threads_and_resume, t_augment, t_length, t_corruption, t_identity, t_manifest_flips)
