/* Unit tests for tokenize/bpe*.c: a hand-computed sentencepiece-style tokenizer (merge order,
 * byte fallback, unk fusing, post-processor, decoders), one clear error per class of bad
 * tokenizer.json, UTF-8 repair, thread safety, and the trainer (layout, determinism across
 * thread counts, corpus record). Exactness against HF itself is tests/hf (cli_bpe_hf_exact). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/json.h"
#include "core/pool.h"
#include "tests/test.h"
#include "tokenize/bpe.h"
#include "tokenize/bpe_train.h"
#include "tokenize/chameleon.h"

/* ids 0..2 specials, 3..258 <0xHH>, then the pieces below from 259 */
#define MS "\xE2\x96\x81" /* U+2581 */
static const char *PIECES[] = {MS,  "a", "b", "c",  "ab", (MS "a"), (MS "ab"), "abc",       "h",
                               "e", "l", "o", "he", "ll", "hell",   "hello",   (MS "hello")};
enum { ID_MS = 259, ID_AB = 263, ID_HELLO_MS = 275 };

/* The tokenizer of tests/fuzz/corpus/fuzz_bpe_load/minimal_sp.json, built here so the
 * expected ids can be read off directly. */
static json_t *sp_doc(void)
{
    const char *base =
        "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
        "\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true,\"normalized\":false},"
        "{\"id\":1,\"content\":\"<s>\",\"special\":true,\"normalized\":false},"
        "{\"id\":2,\"content\":\"</s>\",\"special\":true,\"normalized\":false}],"
        "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\","
        "\"prepend\":\"\\u2581\"},{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},"
        "\"content\":\"\\u2581\"}]},\"pre_tokenizer\":null,"
        "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{"
        "\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[],"
        "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
        "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{"
        "\"String\":\"\\u2581\"},\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":"
        "\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]},"
        "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\","
        "\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,\"fuse_unk\":true,"
        "\"byte_fallback\":true,\"vocab\":{\"<unk>\":0,\"<s>\":1,\"</s>\":2},"
        "\"merges\":[\"a b\",\"\\u2581 a\",\"\\u2581a b\",\"ab c\",\"h e\",\"l l\",\"he ll\","
        "\"hell o\",\"\\u2581 hello\"]}}";
    json_error_t je;
    json_t *d = json_loads(base, 0, &je);
    if (!d)
        return NULL;
    json_t *vocab = json_object_get(json_object_get(d, "model"), "vocab");
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        json_object_set_new(vocab, name, json_integer(3 + b));
    }
    for (size_t i = 0; i < sizeof PIECES / sizeof PIECES[0]; i++)
        json_object_set_new(vocab, PIECES[i], json_integer(259 + (json_int_t)i));
    return d;
}

static struct mvot_bpe *load_doc(json_t *d, struct mvot_error *err, enum mvot_status *st)
{
    char *s = json_dumps(d, 0);
    struct mvot_bpe *tok = NULL;
    *st = mvot_bpe_load_mem(s, strlen(s), "test.json", &tok, err);
    free(s);
    return tok;
}

static int ids_eq(const struct mvot_ids *ids, const int32_t *want, size_t n)
{
    if (ids->n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (ids->v[i] != want[i])
            return 0;
    return 1;
}

static void test_hand_computed(void)
{
    struct mvot_error err = {0};
    enum mvot_status st;
    json_t *d = sp_doc();
    struct mvot_bpe *tok = load_doc(d, &err, &st);
    json_decref(d);
    ASSERT_OK(st, &err);
    if (!tok)
        return;
    struct mvot_ids ids = {0};
    /* "hello ab" -> normalized "\u2581hello\u2581ab"; merges by rank give \u2581hello, \u2581,
     * ab: "\u2581 a" (rank 1) never applies because "a b" (rank 0) merged first */
    ASSERT_OK(mvot_bpe_encode(tok, "hello ab", 8, 0, &ids, &err), &err);
    int32_t want1[] = {ID_HELLO_MS, ID_MS, ID_AB};
    ASSERT_TRUE(ids_eq(&ids, want1, 3));
    ids.n = 0;
    ASSERT_OK(mvot_bpe_encode(tok, "hello ab", 8, 1, &ids, &err), &err);
    int32_t want2[] = {1, ID_HELLO_MS, ID_MS, ID_AB};
    ASSERT_TRUE(ids_eq(&ids, want2, 4));
    /* byte fallback: x is not in the vocab -> <0x78> */
    ids.n = 0;
    ASSERT_OK(mvot_bpe_encode(tok, "x", 1, 0, &ids, &err), &err);
    int32_t want3[] = {ID_MS, 3 + 0x78};
    ASSERT_TRUE(ids_eq(&ids, want3, 2));
    char *s = NULL;
    ASSERT_OK(mvot_bpe_decode(tok, ids.v, ids.n, 0, &s, &err), &err);
    ASSERT_EQ_STR(s, "x");
    free(s);
    /* added tokens split first; the normalizer runs on each piece (Prepend each time) */
    ids.n = 0;
    ASSERT_OK(mvot_bpe_encode(tok, "<s>ab</s>", 9, 0, &ids, &err), &err);
    int32_t want4[] = {1, ID_MS, ID_AB, 2}; /* "a b" outranks "\u2581 a" again */
    ASSERT_TRUE(ids_eq(&ids, want4, 4));
    ASSERT_OK(mvot_bpe_decode(tok, ids.v, ids.n, 1, &s, &err), &err);
    ASSERT_EQ_STR(s, "ab");
    free(s);
    ASSERT_OK(mvot_bpe_decode(tok, ids.v, ids.n, 0, &s, &err), &err);
    ASSERT_EQ_STR(s, "<s> ab</s>");
    free(s);
    /* invalid UTF-8 becomes U+FFFD per maximal subpart (as a JS/Rust string would), each
     * U+FFFD then falls back to its three bytes */
    ids.n = 0;
    ASSERT_OK(mvot_bpe_encode(tok, "\xE2\x82", 2, 0, &ids, &err), &err);
    int32_t want5[] = {ID_MS, 3 + 0xEF, 3 + 0xBF, 3 + 0xBD};
    ASSERT_TRUE(ids_eq(&ids, want5, 4));
    ids.n = 0;
    ASSERT_OK(mvot_bpe_encode(tok, "\xC0\xAF", 2, 0, &ids, &err), &err);
    ASSERT_EQ_INT(ids.n, 7); /* two replacement characters */
    ASSERT_EQ_INT(mvot_bpe_vocab_size(tok), 276);
    ASSERT_EQ_INT(mvot_bpe_token_to_id(tok, "hello"), 274);
    ASSERT_EQ_STR(mvot_bpe_id_to_token(tok, 263), "ab");
    ASSERT_TRUE(mvot_bpe_id_to_token(tok, 276) == NULL);
    ASSERT_TRUE(mvot_bpe_is_special(tok, 1) && !mvot_bpe_is_special(tok, 263));
    mvot_ids_free(&ids);
    mvot_bpe_free(tok);
}

static void test_unk_fusing(void)
{
    struct mvot_error err = {0};
    enum mvot_status st;
    for (int fuse = 0; fuse < 2; fuse++) {
        json_t *d = sp_doc();
        json_t *m = json_object_get(d, "model");
        json_object_set_new(m, "byte_fallback", json_false());
        json_object_set_new(m, "fuse_unk", json_boolean(fuse));
        struct mvot_bpe *tok = load_doc(d, &err, &st);
        json_decref(d);
        ASSERT_OK(st, &err);
        if (!tok)
            continue;
        struct mvot_ids ids = {0};
        ASSERT_OK(mvot_bpe_encode(tok, "xyz", 3, 0, &ids, &err), &err);
        if (fuse) {
            int32_t want[] = {ID_MS, 0};
            ASSERT_TRUE(ids_eq(&ids, want, 2));
        } else {
            int32_t want[] = {ID_MS, 0, 0, 0};
            ASSERT_TRUE(ids_eq(&ids, want, 4));
        }
        mvot_ids_free(&ids);
        mvot_bpe_free(tok);
    }
}

/* Loads a mutated document and expects failure with `code` and a message naming `path`. */
static void expect_fail(json_t *d, const char *raw, enum mvot_status code, const char *path)
{
    struct mvot_error err = {0};
    struct mvot_bpe *tok = NULL;
    enum mvot_status st;
    if (d) {
        tok = load_doc(d, &err, &st);
    } else {
        st = mvot_bpe_load_mem(raw, strlen(raw), "test.json", &tok, &err);
    }
    ASSERT_EQ_INT(st, code);
    ASSERT_TRUE(tok == NULL);
    ASSERT_CONTAINS(err.msg, "test.json");
    ASSERT_CONTAINS(err.msg, path);
    ASSERT_TRUE(strchr(err.msg, '\n') == NULL);
    mvot_bpe_free(tok);
}

static void test_bad_input(void)
{
    json_t *d = sp_doc();
    char *full = json_dumps(d, 0);
    /* malformed and truncated JSON: jansson's line/column */
    expect_fail(NULL, "{\"model\": [1, 2", MVOT_ERR_CORRUPT, "line");
    full[strlen(full) / 2] = 0;
    expect_fail(NULL, full, MVOT_ERR_CORRUPT, "line");
    free(full);
    expect_fail(NULL, "[]", MVOT_ERR_CORRUPT, "(root)");
    /* merges naming unknown tokens */
    json_t *x = json_deep_copy(d);
    json_array_append_new(json_object_get(json_object_get(x, "model"), "merges"),
                          json_string("zz q"));
    expect_fail(x, NULL, MVOT_ERR_CORRUPT, "model.merges[9]: token \"zz\" is not in the vocab");
    json_decref(x);
    x = json_deep_copy(d);
    json_array_append_new(json_object_get(json_object_get(x, "model"), "merges"),
                          json_string("a c")); /* "ac" is not in the vocab */
    expect_fail(x, NULL, MVOT_ERR_CORRUPT, "merged token \"ac\"");
    json_decref(x);
    x = json_deep_copy(d);
    json_array_append_new(json_object_get(json_object_get(x, "model"), "merges"),
                          json_string("abc"));
    expect_fail(x, NULL, MVOT_ERR_CORRUPT, "model.merges[9]");
    json_decref(x);
    /* a regex that does not compile */
    x = json_deep_copy(d);
    json_object_set_new(x, "pre_tokenizer",
                        json_pack("{s:s, s:{s:s}, s:s}", "type", "Split", "pattern", "Regex",
                                  "(a|b", "behavior", "Isolated"));
    expect_fail(x, NULL, MVOT_ERR_UNSUPPORTED, "pre_tokenizer.pattern");
    json_decref(x);
    /* vocabulary over 2^31 */
    x = json_deep_copy(d);
    json_object_set_new(json_object_get(json_object_get(x, "model"), "vocab"), "big",
                        json_integer((json_int_t)1 << 31));
    expect_fail(x, NULL, MVOT_ERR_UNSUPPORTED, "model.vocab[\"big\"]: id over 2^31");
    json_decref(x);
    x = json_deep_copy(d);
    json_object_set_new(json_object_get(json_object_get(x, "model"), "vocab"), "neg",
                        json_integer(-1));
    expect_fail(x, NULL, MVOT_ERR_CORRUPT, "model.vocab[\"neg\"]: negative id");
    json_decref(x);
    /* unsupported components, each named by its JSON path */
    x = json_deep_copy(d);
    json_object_set_new(x, "normalizer",
                        json_pack("{s:s, s:[{s:s}, {s:s}]}", "type", "Sequence", "normalizers",
                                  "type", "NFC", "type", "BertNormalizer"));
    expect_fail(x, NULL, MVOT_ERR_UNSUPPORTED,
                "normalizer.normalizers[1].type: normalizer \"BertNormalizer\"");
    json_decref(x);
    x = json_deep_copy(d);
    json_object_set_new(x, "pre_tokenizer", json_pack("{s:s}", "type", "UnicodeScripts"));
    expect_fail(x, NULL, MVOT_ERR_UNSUPPORTED, "pre_tokenizer.type");
    json_decref(x);
    x = json_deep_copy(d);
    json_object_set_new(x, "decoder", json_pack("{s:s}", "type", "CTC"));
    expect_fail(x, NULL, MVOT_ERR_UNSUPPORTED, "decoder.type: decoder \"CTC\"");
    json_decref(x);
    x = json_deep_copy(d);
    json_object_set_new(json_object_get(x, "model"), "type", json_string("WordPiece"));
    expect_fail(x, NULL, MVOT_ERR_UNSUPPORTED, "model.type");
    json_decref(x);
    x = json_deep_copy(d);
    json_object_set_new(json_object_get(x, "model"), "dropout", json_real(0.1));
    expect_fail(x, NULL, MVOT_ERR_UNSUPPORTED, "model.dropout");
    json_decref(x);
    x = json_deep_copy(d);
    json_object_set_new(x, "truncation", json_pack("{s:i}", "max_length", 8));
    expect_fail(x, NULL, MVOT_ERR_UNSUPPORTED, "truncation");
    json_decref(x);
    x = json_deep_copy(d);
    json_object_del(json_object_get(x, "model"), "vocab");
    expect_fail(x, NULL, MVOT_ERR_CORRUPT, "model.vocab");
    json_decref(x);
    x = json_deep_copy(d);
    json_object_set_new(json_object_get(x, "model"), "unk_token", json_string("<nope>"));
    expect_fail(x, NULL, MVOT_ERR_CORRUPT, "model.unk_token");
    json_decref(x);
    json_decref(d);
}

/* Chained Replace normalizers that each multiply the text stop at the normalizer cap with
 * an error naming it, instead of growing without bound. */
static void test_normalizer_cap(void)
{
    json_t *d = sp_doc();
    json_t *seq = json_array();
    for (int i = 0; i < 40; i++)
        json_array_append_new(seq, json_pack("{s:s, s:{s:s}, s:s}", "type", "Replace", "pattern",
                                             "String", "a", "content", "aaaa"));
    json_object_set_new(d, "normalizer",
                        json_pack("{s:s, s:o}", "type", "Sequence", "normalizers", seq));
    struct mvot_error err = {0};
    enum mvot_status st;
    struct mvot_bpe *tok = load_doc(d, &err, &st);
    ASSERT_EQ_INT(st, MVOT_OK);
    struct mvot_ids ids = {0};
    const char *text = "a small text with a few a's";
    st = mvot_bpe_encode(tok, text, strlen(text), 0, &ids, &err);
    ASSERT_EQ_INT(st, MVOT_ERR_UNSUPPORTED);
    ASSERT_TRUE(strstr(err.msg, "cap") != NULL);
    mvot_ids_free(&ids);
    /* a tokenizer that grows the text a little is fine */
    json_object_set_new(d, "normalizer",
                        json_pack("{s:s, s:{s:s}, s:s}", "type", "Replace", "pattern", "String",
                                  "a", "content", "aaaa"));
    mvot_bpe_free(tok);
    tok = load_doc(d, &err, &st);
    ASSERT_EQ_INT(st, MVOT_OK);
    ASSERT_EQ_INT(mvot_bpe_encode(tok, text, strlen(text), 0, &ids, &err), MVOT_OK);
    mvot_ids_free(&ids);
    mvot_bpe_free(tok);
    json_decref(d);
}

struct th_arg {
    const struct mvot_bpe *tok;
    const char *text;
    struct mvot_ids ids;
    int rc;
};

static void *th_run(void *p)
{
    struct th_arg *a = p;
    struct mvot_error err = {0};
    for (int r = 0; r < 50 && !a->rc; r++) {
        a->ids.n = 0;
        a->rc = mvot_bpe_encode(a->tok, a->text, strlen(a->text), 0, &a->ids, &err) != MVOT_OK;
    }
    return NULL;
}

static const char *corpus_texts[] = {
    "Go up. Go left. Go down. Go right. ",
    "Action sequence finished. The answer is A.",
    ("Task: Maze Navigation Simulation\nDetermine the final destination (A, B, C or D) from the "
     "starting point (red point) following the action sequence."),
    "Go up. The agent moves from (3,4) to (2,4).",
    "Go left. The agent hits the border and stays at (0,0).",
    "Initial maze: <image>\nResponse: Go up. Go up. ",
    "Carrying objects: printer_0.",
    "  two spaces\tand a tab and 12345 digits and caf\xC3\xA9",
};

static void test_train_and_threads(void)
{
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    char *p1 = mvot_io_join(dir, "a.json"), *p2 = mvot_io_join(dir, "b.json");
    enum { N = 64 };
    const char *texts[N];
    size_t lens[N];
    for (int i = 0; i < N; i++) {
        texts[i] = corpus_texts[i % 8];
        lens[i] = strlen(texts[i]);
    }
    struct mvot_bpe_train_opts o;
    mvot_bpe_train_opts_default(&o);
    o.vocab_size = 9100;
    struct mvot_pool *pool = mvot_pool_create(2);
    ASSERT_OK(mvot_bpe_train_texts(texts, lens, N, &o, NULL, p1, &err), &err);
    ASSERT_OK(mvot_bpe_train_texts(texts, lens, N, &o, pool, p2, &err), &err);
    uint8_t *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    ASSERT_OK(mvot_io_read_file(p1, 1 << 26, &a, &al, &err), &err);
    ASSERT_OK(mvot_io_read_file(p2, 1 << 26, &b, &bl, &err), &err);
    ASSERT_TRUE(a && b && al == bl && memcmp(a, b, al) == 0); /* thread count does not matter */
    json_t *doc = NULL;
    ASSERT_OK(mvot_json_load_buf((const char *)a, al, p1, &doc, &err), &err);
    json_t *rec = json_object_get(json_object_get(doc, "model"), "mvot_training");
    ASSERT_TRUE(json_is_object(rec));
    ASSERT_EQ_INT(json_integer_value(json_object_get(rec, "corpus_texts")), N);
    ASSERT_EQ_INT(strlen(json_string_value(json_object_get(rec, "corpus_xxh3"))), 16);
    json_decref(doc);
    free(a);
    free(b);

    struct mvot_bpe *tok = NULL;
    ASSERT_OK(mvot_bpe_load_file(p1, &tok, &err), &err);
    if (tok) {
        struct mvot_layout *l = malloc(sizeof *l);
        ASSERT_OK(mvot_layout_from_bpe(tok, l, &err), &err);
        ASSERT_EQ_INT(l->bos, 0);
        ASSERT_EQ_INT(l->pad, 1);
        ASSERT_EQ_INT(l->eos, 2);
        ASSERT_EQ_INT(l->unk, 3);
        ASSERT_EQ_INT(l->code_to_id[0], 4);
        ASSERT_EQ_INT(l->code_to_id[8191], 8195);
        ASSERT_EQ_INT(l->eoi, 8196);
        ASSERT_EQ_INT(l->boi, 8197);
        ASSERT_EQ_INT(l->sep, 8710);
        ASSERT_EQ_INT(l->image, 8711);
        ASSERT_TRUE(mvot_bpe_vocab_size(tok) > 8968 && mvot_bpe_vocab_size(tok) <= 9100);
        ASSERT_EQ_INT(mvot_bpe_token_to_id(tok, "<reserved08194>"), 8198);
        free(l);
        /* the trained merges shorten the training text; decode inverts encode */
        struct mvot_ids ids = {0};
        const char *t = corpus_texts[1];
        ASSERT_OK(mvot_bpe_encode(tok, t, strlen(t), 1, &ids, &err), &err);
        ASSERT_TRUE(ids.n > 1 && ids.n < strlen(t) / 2);
        ASSERT_EQ_INT(ids.v[0], 0);
        char *s = NULL;
        ASSERT_OK(mvot_bpe_decode(tok, ids.v, ids.n, 1, &s, &err), &err);
        ASSERT_EQ_STR(s, t);
        free(s);
        /* concurrent encodes of one handle agree with a single-thread encode */
        struct th_arg args[4];
        pthread_t th[4];
        for (int i = 0; i < 4; i++) {
            memset(&args[i], 0, sizeof args[i]);
            args[i].tok = tok;
            args[i].text = corpus_texts[2 + (i & 1)];
            pthread_create(&th[i], NULL, th_run, &args[i]);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            ASSERT_EQ_INT(args[i].rc, 0);
            struct mvot_ids one = {0};
            ASSERT_OK(mvot_bpe_encode(tok, args[i].text, strlen(args[i].text), 0, &one, &err),
                      &err);
            ASSERT_TRUE(ids_eq(&args[i].ids, one.v, one.n));
            mvot_ids_free(&one);
            mvot_ids_free(&args[i].ids);
        }
        /* batch encode on the pool equals one by one */
        struct mvot_ids outs[8];
        memset(outs, 0, sizeof outs);
        size_t bl8[8];
        for (int i = 0; i < 8; i++)
            bl8[i] = strlen(corpus_texts[i]);
        ASSERT_OK(mvot_bpe_encode_batch(tok, corpus_texts, bl8, 8, 0, pool, outs, &err), &err);
        for (int i = 0; i < 8; i++) {
            struct mvot_ids one = {0};
            ASSERT_OK(mvot_bpe_encode(tok, corpus_texts[i], bl8[i], 0, &one, &err), &err);
            ASSERT_TRUE(ids_eq(&outs[i], one.v, one.n));
            mvot_ids_free(&one);
            mvot_ids_free(&outs[i]);
        }
        mvot_ids_free(&ids);
        mvot_bpe_free(tok);
    }
    /* a vocab size below the reserved block is refused */
    o.vocab_size = 100;
    ASSERT_EQ_INT(mvot_bpe_train_texts(texts, lens, N, &o, NULL, p1, &err), MVOT_ERR_INVALID);
    mvot_pool_free(pool);
    free(p1);
    free(p2);
    free(dir);
}

TEST_MAIN(test_hand_computed, test_unk_fusing, test_bad_input, test_normalizer_cap,
          test_train_and_threads)
