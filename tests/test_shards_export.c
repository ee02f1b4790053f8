/* shards/export.c and shards/trainer_layout.c: the Megatron .idx/.bin bytes parsed by the
 * layout of docs/export-format.md equal the reader's tokens and labels; exports never
 * replace a file; the official-length fit at its boundaries; the spec states the code's
 * values. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "shards/export.h"
#include "shards/format.h"
#include "shards/pack.h"
#include "shards/reader.h"
#include "shards/trainer_layout.h"
#include "tests/test.h"
#include "tests/test_shards_fixture.h"

static char *g_dir, *g_set; /* fixture: episodes etc.; a packed shard set */

static const char *fixture(void)
{
    if (g_set)
        return g_set;
    g_dir = t_tmpdir();
    if (fx_make(g_dir, 2, 128, 64) != 0)
        return NULL;
    struct mvot_pack_opts o;
    mvot_pack_opts_default(&o);
    o.image_seq_length = 64;
    o.shard_samples = 7;
    struct mvot_error err = {0};
    char *tp = mvot_io_join(g_dir, "tokenizer.json"), *cp = mvot_io_join(g_dir, "cb.safetensors");
    char *top = t_tmpdir(); /* not inside g_dir: pack refuses an output inside its input */
    char *out = mvot_io_join(top, "shards");
    free(top);
    if (mvot_pack_run(g_dir, tp, cp, out, &o, NULL, NULL, NULL, &err) == MVOT_OK)
        g_set = out;
    else
        fprintf(stderr, "pack: %s\n", err.msg);
    free(tp);
    free(cp);
    return g_set;
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint8_t *slurp(const char *dir, const char *name, size_t *n)
{
    char *p = mvot_io_join(dir, name);
    uint8_t *b = NULL;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_io_read_file(p, 1 << 26, &b, n, &err), &err);
    free(p);
    return b;
}

/* Checks one split's .idx/.bin pair against the reader, by the byte layout of the spec. */
static void check_megatron(const char *out, const char *prefix, const char *split, int labels)
{
    struct mvot_error err = {0};
    struct mvot_shard_set *set = NULL;
    char name[64];
    size_t ni = 0, nb = 0;
    snprintf(name, sizeof name, "%s.idx", prefix);
    uint8_t *idx = slurp(out, name, &ni);
    snprintf(name, sizeof name, "%s.bin", prefix);
    uint8_t *bin = slurp(out, name, &nb);
    ASSERT_OK(mvot_shard_set_open(fixture(), &set, &err), &err);
    if (!idx || !bin || !set)
        goto done;
    ASSERT_TRUE(ni >= 34 && memcmp(idx, "MMIDIDX\0\0", 9) == 0);
    ASSERT_EQ_U64(rd64(idx + 9), 1);
    ASSERT_EQ_INT(idx[17], 4);
    uint64_t n = rd64(idx + 18);
    ASSERT_EQ_U64(rd64(idx + 26), n + 1);
    ASSERT_EQ_U64(ni, 34 + 20 * n + 8);
    if (ni != 34 + 20 * n + 8)
        goto done;
    uint64_t seq = 0, ptr = 0;
    for (size_t i = 0; i < mvot_shard_set_count(set); i++) {
        struct mvot_sample s = {0};
        ASSERT_OK(mvot_shard_set_get(set, i, &s, &err), &err);
        if (strcmp(json_string_value(json_object_get(s.meta, "split")), split) != 0) {
            mvot_sample_free(&s);
            continue;
        }
        ASSERT_TRUE(seq < n);
        if (seq >= n) {
            mvot_sample_free(&s);
            break;
        }
        int32_t *lab = malloc(s.n_tokens * sizeof *lab);
        mvot_sample_labels(&s, lab);
        ASSERT_EQ_U64(mvot_rd32(idx + 34 + 4 * seq), s.n_tokens);
        ASSERT_EQ_U64(rd64(idx + 34 + 4 * n + 8 * seq), ptr);
        ASSERT_EQ_U64(rd64(idx + 34 + 12 * n + 8 * seq), seq);
        for (size_t t = 0; t < s.n_tokens && ptr + 4 * t + 4 <= nb; t++) {
            int32_t got = (int32_t)mvot_rd32(bin + ptr + 4 * t);
            int32_t want = labels ? lab[t] : (int32_t)s.tokens[t];
            if (got != want) {
                T_FAIL("%s: sample %s token %zu: %d != %d", prefix, s.key, t, got, want);
                break;
            }
        }
        ptr += 4 * s.n_tokens;
        seq++;
        free(lab);
        mvot_sample_free(&s);
    }
    ASSERT_EQ_U64(seq, n);
    ASSERT_EQ_U64(rd64(idx + 34 + 12 * n + 8 * n), n);
    ASSERT_EQ_U64(ptr, nb);
done:
    mvot_shard_set_close(set);
    free(idx);
    free(bin);
}

static void t_megatron(void)
{
    if (!fixture()) {
        T_FAIL("fixture failed");
        return;
    }
    char *out = mvot_io_join(g_dir, "megatron");
    struct mvot_export_opts o;
    mvot_export_opts_default(&o);
    struct mvot_error err = {0};
    json_t *m = NULL;
    ASSERT_OK(mvot_export_run(fixture(), out, &o, NULL, &m, &err), &err);
    json_t *sp = json_object_get(m, "splits");
    ASSERT_TRUE(json_object_size(sp) >= 1);
    const char *split;
    json_t *r;
    json_object_foreach(sp, split, r)
    {
        char lp[32];
        snprintf(lp, sizeof lp, "%s_labels", split);
        check_megatron(out, split, split, 0);
        check_megatron(out, lp, split, 1);
        ASSERT_EQ_INT(json_integer_value(json_object_get(r, "over_mvot_lengths")), 0);
    }
    json_decref(m);
    free(out);
}

/* An export never replaces a file: with any of its names taken it writes nothing at all. */
static void t_never_replaces(void)
{
    if (!fixture())
        return;
    struct mvot_export_opts o;
    mvot_export_opts_default(&o);
    o.format = MVOT_EXPORT_JSONL;
    o.split = "train";
    struct mvot_error err = {0};
    char *out = mvot_io_join(g_dir, "jsonl"), *mine = mvot_io_join(out, "train.jsonl"),
         *man = mvot_io_join(out, "manifest.json");
    ASSERT_OK(mvot_io_mkdirs(out, &err), &err);
    ASSERT_OK(mvot_io_write_file(mine, "not ours\n", 9, &err), &err);
    ASSERT_EQ_INT(mvot_export_run(fixture(), out, &o, NULL, NULL, &err), MVOT_ERR_INVALID);
    ASSERT_CONTAINS(err.msg, "train.jsonl");
    size_t n = 0;
    uint8_t *b = slurp(out, "train.jsonl", &n);
    ASSERT_TRUE(b && n == 9 && memcmp(b, "not ours\n", 9) == 0);
    ASSERT_TRUE(!mvot_io_exists(man));
    free(b);
    unlink(mine);
    ASSERT_OK(mvot_export_run(fixture(), out, &o, NULL, NULL, &err), &err);
    ASSERT_TRUE(mvot_io_exists(man));
    uint64_t h0 = 0, h1 = 0;
    ASSERT_OK(mvot_hash_file(mine, &h0, &err), &err);
    ASSERT_EQ_INT(mvot_export_run(fixture(), out, &o, NULL, NULL, &err), MVOT_ERR_INVALID);
    ASSERT_OK(mvot_hash_file(mine, &h1, &err), &err);
    ASSERT_EQ_U64(h0, h1);
    /* a split the set does not hold */
    o.split = "dev";
    json_t *sm = NULL;
    char *smp = mvot_io_join(fixture(), "manifest.json");
    ASSERT_OK(mvot_json_load_file(smp, &sm, &err), &err);
    int has_dev = 0;
    const char *task;
    json_t *per;
    json_object_foreach(json_object_get(json_object_get(sm, "stats"), "tasks"), task, per)
    {
        has_dev |= json_object_get(per, "dev") != NULL;
    }
    char *out2 = mvot_io_join(g_dir, "jsonl-dev");
    if (!has_dev) {
        ASSERT_EQ_INT(mvot_export_run(fixture(), out2, &o, NULL, NULL, &err), MVOT_ERR_INVALID);
        ASSERT_CONTAINS(err.msg, "no dev samples");
    }
    json_decref(sm);
    free(smp);
    free(out2);
    free(out);
    free(mine);
    free(man);
}

static void fit_of(uint32_t input, uint32_t label, struct mvot_trainer_fit *f)
{
    struct mvot_span sp[3] = {{0, 1, MVOT_MOD_SPECIAL, 0},
                              {1, input - 1, MVOT_MOD_TEXT, 0},
                              {input, label, MVOT_MOD_IMAGE, 1}};
    mvot_trainer_fit(sp, label ? 3 : 2, input + label, f);
}

static void t_trainer_fit(void)
{
    struct mvot_trainer_fit f;
    fit_of(2600, 1299, &f);
    ASSERT_TRUE(f.input == 2600 && f.label == 1299 && !f.over_source && !f.over_target);
    fit_of(2601, 1299, &f);
    ASSERT_TRUE(f.over_source && !f.over_target);
    fit_of(10, 1300, &f);
    ASSERT_TRUE(!f.over_source && f.over_target);
    fit_of(10, 0, &f); /* nothing supervised: all input */
    ASSERT_TRUE(f.input == 10 && f.label == 0);
    json_t *st = json_object();
    fit_of(2601, 1300, &f);
    mvot_trainer_fit_count(st, &f);
    fit_of(5, 5, &f);
    mvot_trainer_fit_count(st, &f);
    ASSERT_EQ_INT(json_integer_value(json_object_get(st, "over_mvot_source")), 1);
    ASSERT_EQ_INT(json_integer_value(json_object_get(st, "over_mvot_target")), 1);
    ASSERT_EQ_INT(json_integer_value(json_object_get(st, "over_mvot_lengths")), 1);
    json_decref(st);
}

/* docs/export-format.md states the values of the code. */
static void t_spec_matches_code(void)
{
    const char *src = getenv("MVOT_SRC");
    if (!src) {
        T_FAIL("MVOT_SRC not set");
        return;
    }
    size_t n = 0;
    char *docs = mvot_io_join(src, "docs");
    char *d = (char *)slurp(docs, "export-format.md", &n);
    free(docs);
    if (!d)
        return;
    char v[96];
    snprintf(v, sizeof v, "(%s, version %d)", MVOT_EXPORT_FORMAT_NAME, MVOT_EXPORT_VERSION);
    ASSERT_CONTAINS(d, v);
    ASSERT_CONTAINS(d, "| 0 | 9 | magic `MMIDIDX\\x00\\x00`");
    ASSERT_EQ_INT(MVOT_MEGATRON_MAGIC_LEN, 9);
    snprintf(v, sizeof v, "| 9 | 8 | u64 version = %u |", MVOT_MEGATRON_VERSION);
    ASSERT_CONTAINS(d, v);
    snprintf(v, sizeof v, "| 17 | 1 | u8 dtype code = %u (int32) |", MVOT_MEGATRON_DTYPE_INT32);
    ASSERT_CONTAINS(d, v);
    ASSERT_CONTAINS(d, "| 34 | 4·n | int32 sequence lengths");
    ASSERT_CONTAINS(d, "Size: 34 + 20n + 8 bytes");
    snprintf(v, sizeof v, "default\n%u)", MVOT_EXPORT_TAR_SAMPLES);
    ASSERT_CONTAINS(d, v);
    snprintf(v, sizeof v, "prompt over %u tokens", MVOT_TRAINER_SOURCE_LENGTH);
    ASSERT_CONTAINS(d, v);
    snprintf(v, sizeof v, "label part over %u", MVOT_TRAINER_LABEL_BLOCK);
    ASSERT_CONTAINS(d, v);
    free(d);
}

TEST_MAIN(t_trainer_fit, t_spec_matches_code, t_megatron, t_never_replaces)
