/* Codebook file format: save/load round trips for both kinds, agreement between
 * docs/codebook-format.md's metadata table and what save writes, and one hand-made corrupt
 * file per failure class (each must give its own clear error, never a crash). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/codebook.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/safetensors.h"
#include "tests/test.h"

static void make_patch_cb(struct mvot_codebook *cb, uint32_t K, uint32_t patch)
{
    memset(cb, 0, sizeof *cb);
    cb->kind = MVOT_CB_PATCH;
    cb->K = K;
    cb->patch = patch;
    cb->D = patch * patch * 3;
    cb->image_size = 512;
    cb->seed = 12345678901234ULL;
    cb->data_hash = 0x0123456789abcdefULL;
    cb->vec = malloc((size_t)K * cb->D * sizeof *cb->vec);
    for (size_t i = 0; i < (size_t)K * cb->D; i++)
        cb->vec[i] = (float)((i * 7919u) % 256);
    cb->stats = json_pack("{s:s, s:i}", "algorithm", "exact", "K", (int)K);
}

static void test_roundtrip_patch(void)
{
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    char *path = mvot_io_join(dir, "cb.safetensors");
    struct mvot_codebook cb, back;
    make_patch_cb(&cb, 37, 16);
    ASSERT_OK(mvot_codebook_save(path, &cb, &err), &err);
    uint64_t fh = 0;
    ASSERT_OK(mvot_hash_file(path, &fh, &err), &err);
    ASSERT_EQ_U64(cb.file_hash, fh);
    ASSERT_OK(mvot_codebook_load(path, &back, &err), &err);
    ASSERT_EQ_INT(back.kind, MVOT_CB_PATCH);
    ASSERT_EQ_INT(back.K, 37);
    ASSERT_EQ_INT(back.D, 768);
    ASSERT_EQ_INT(back.patch, 16);
    ASSERT_EQ_INT(back.image_size, 512);
    ASSERT_EQ_U64(back.seed, cb.seed);
    ASSERT_EQ_U64(back.data_hash, cb.data_hash);
    ASSERT_EQ_U64(back.file_hash, fh);
    ASSERT_TRUE(memcmp(back.vec, cb.vec, (size_t)37 * 768 * sizeof(float)) == 0);
    ASSERT_TRUE(json_equal(back.stats, cb.stats));
    /* Saving the loaded codebook gives the same bytes (deterministic writer). */
    char *path2 = mvot_io_join(dir, "cb2.safetensors");
    ASSERT_OK(mvot_codebook_save(path2, &back, &err), &err);
    ASSERT_EQ_U64(back.file_hash, fh);
    /* The tensor is U8 [K, D]. */
    struct mvot_safetensors *sf = NULL;
    ASSERT_OK(mvot_st_open(path, &sf, &err), &err);
    const struct mvot_tensor *t = sf ? mvot_st_find(sf, "codebook") : NULL;
    ASSERT_TRUE(t && t->dtype == MVOT_DT_U8 && t->ndim == 2 && t->shape[0] == 37);
    mvot_st_close(sf);
    /* Non-integer pixels are refused on save. */
    cb.vec[5] = 1.5f;
    ASSERT_EQ_INT(mvot_codebook_save(path2, &cb, &err), MVOT_ERR_INVALID);
    ASSERT_CONTAINS(err.msg, "not an integer");
    mvot_codebook_free(&cb);
    mvot_codebook_free(&back);
    free(path);
    free(path2);
    free(dir);
}

static void test_roundtrip_vqgan(void)
{
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    char *path = mvot_io_join(dir, "vq.safetensors");
    struct mvot_codebook cb = {0}, back;
    cb.kind = MVOT_CB_VQGAN;
    cb.K = 64;
    cb.D = 256;
    cb.vec = malloc(64 * 256 * sizeof(float));
    for (int i = 0; i < 64 * 256; i++)
        cb.vec[i] = (float)((i % 97) - 48) / 7.0f;
    ASSERT_OK(mvot_codebook_save(path, &cb, &err), &err);
    ASSERT_OK(mvot_codebook_load(path, &back, &err), &err);
    ASSERT_EQ_INT(back.kind, MVOT_CB_VQGAN);
    ASSERT_EQ_INT(back.patch, 0);
    ASSERT_TRUE(back.vec && memcmp(back.vec, cb.vec, 64 * 256 * sizeof(float)) == 0);
    ASSERT_TRUE(json_is_object(back.stats));
    mvot_codebook_free(&cb);
    mvot_codebook_free(&back);
    free(path);
    free(dir);
}

/* The keys of the "## Metadata" table in the spec, in order. */
static size_t doc_keys(const char *doc, char keys[][32], size_t cap)
{
    const char *sec = strstr(doc, "\n## Metadata");
    size_t n = 0;
    if (!sec)
        return 0;
    const char *first = strstr(sec, "\n| `");
    const char *end = first ? strstr(first, "\n\n") : NULL; /* the table ends at a blank line */
    for (const char *p = first; p && (!end || p < end) && n < cap; p = strstr(p + 1, "\n| `")) {
        const char *k = p + 4, *q = strchr(k, '`');
        if (!q || q - k >= 32)
            break;
        memcpy(keys[n], k, (size_t)(q - k));
        keys[n][q - k] = 0;
        n++;
    }
    return n;
}

static void test_spec_agrees(void)
{
    struct mvot_error err = {0};
    const char *src = getenv("MVOT_SRC");
    if (!src)
        src = "..";
    char *docp = mvot_io_join(src, "docs/codebook-format.md");
    uint8_t *doc = NULL;
    size_t len = 0;
    ASSERT_OK(mvot_io_read_file(docp, 1 << 20, &doc, &len, &err), &err);
    if (!doc) {
        free(docp);
        return;
    }
    char keys[32][32];
    size_t nk = doc_keys((const char *)doc, keys, 32);
    ASSERT_TRUE(nk >= 10);
    /* Save writes exactly the documented keys. */
    char *dir = t_tmpdir();
    char *path = mvot_io_join(dir, "cb.safetensors");
    struct mvot_codebook cb;
    make_patch_cb(&cb, 3, 4);
    ASSERT_OK(mvot_codebook_save(path, &cb, &err), &err);
    struct mvot_safetensors *sf = NULL;
    ASSERT_OK(mvot_st_open(path, &sf, &err), &err);
    const json_t *meta = sf ? mvot_st_metadata(sf) : NULL;
    ASSERT_EQ_INT(json_object_size(meta), nk);
    for (size_t i = 0; i < nk; i++)
        if (!json_object_get(meta, keys[i]))
            T_FAIL("documented key %s is not written", keys[i]);
    ASSERT_EQ_STR(json_string_value(json_object_get(meta, "format")), "mvot-codebook");
    /* The version in the title is the one written. */
    char title[64];
    snprintf(title, sizeof title, "version %s)",
             json_string_value(json_object_get(meta, "format_version")));
    ASSERT_CONTAINS((const char *)doc, title);
    ASSERT_CONTAINS((const char *)doc, "named `codebook`");
    mvot_st_close(sf);
    mvot_codebook_free(&cb);
    free(doc);
    free(docp);
    free(path);
    free(dir);
}

/* Writes a safetensors file from a raw header string and data bytes. */
static void write_raw(const char *path, const char *header, const void *data, size_t dlen,
                      int64_t lie)
{
    FILE *f = fopen(path, "wb");
    uint64_t hl = lie >= 0 ? (uint64_t)lie : strlen(header);
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(hl >> (8 * i));
    fwrite(le, 1, 8, f);
    fwrite(header, 1, strlen(header), f);
    if (dlen)
        fwrite(data, 1, dlen, f);
    fclose(f);
}

#define META_OK                                                                             \
    "\"format\":\"mvot-codebook\",\"format_version\":\"1\",\"patch\":\"1\",\"image_size\":" \
    "\"0\",\"seed\":\"0\",\"data_hash\":\"0000000000000000\",\"stats\":\"{}\""

struct bad_case {
    const char *name;
    const char *header; /* %s is replaced by nothing; written as given */
    size_t dlen;
    int64_t lie;
    enum mvot_status want;
    const char *msg;
};

static void test_bad_files(void)
{
    static const struct bad_case cases[] = {
        {"good",
         "{\"__metadata__\":{" META_OK ",\"kind\":\"patch\",\"K\":\"2\",\"D\":\"3\"},"
         "\"codebook\":{\"dtype\":\"U8\",\"shape\":[2,3],\"data_offsets\":[0,6]}}",
         6, -1, MVOT_OK, ""},
        {"truncated",
         "{\"__metadata__\":{" META_OK ",\"kind\":\"patch\",\"K\":\"2\",\"D\":\"3\"},"
         "\"codebook\":{\"dtype\":\"U8\",\"shape\":[2,3],\"data_offsets\":[0,6]}}",
         3, -1, MVOT_ERR_CORRUPT, "runs past"},
        {"lying_header_len", "{}", 0, 1000, MVOT_ERR_CORRUPT, "header length"},
        {"not_json", "{\"__metadata__\":", 0, -1, MVOT_ERR_CORRUPT, ""},
        {"no_metadata", "{\"codebook\":{\"dtype\":\"U8\",\"shape\":[2,3],\"data_offsets\":[0,6]}}",
         6, -1, MVOT_ERR_CORRUPT, "no __metadata__"},
        {"missing_key",
         "{\"__metadata__\":{" META_OK ",\"kind\":\"patch\",\"D\":\"3\"},"
         "\"codebook\":{\"dtype\":\"U8\",\"shape\":[2,3],\"data_offsets\":[0,6]}}",
         6, -1, MVOT_ERR_CORRUPT, "lacks \"K\""},
        {"bad_number",
         "{\"__metadata__\":{" META_OK ",\"kind\":\"patch\",\"K\":\"2x\",\"D\":\"3\"},"
         "\"codebook\":{\"dtype\":\"U8\",\"shape\":[2,3],\"data_offsets\":[0,6]}}",
         6, -1, MVOT_ERR_CORRUPT, "not a decimal integer"},
        {"bad_kind",
         "{\"__metadata__\":{" META_OK ",\"kind\":\"pixels\",\"K\":\"2\",\"D\":\"3\"},"
         "\"codebook\":{\"dtype\":\"U8\",\"shape\":[2,3],\"data_offsets\":[0,6]}}",
         6, -1, MVOT_ERR_CORRUPT, "kind"},
        {"future_version",
         "{\"__metadata__\":{\"format\":\"mvot-codebook\",\"format_version\":\"9\"}}", 0, -1,
         MVOT_ERR_UNSUPPORTED, "version 9"},
        {"wrong_format", "{\"__metadata__\":{\"format\":\"gguf\"}}", 0, -1, MVOT_ERR_CORRUPT,
         "format"},
        {"missing_tensor",
         "{\"__metadata__\":{" META_OK ",\"kind\":\"patch\",\"K\":\"2\",\"D\":\"3\"},"
         "\"weights\":{\"dtype\":\"U8\",\"shape\":[2,3],\"data_offsets\":[0,6]}}",
         6, -1, MVOT_ERR_NOTFOUND, "missing"},
        {"wrong_dtype",
         "{\"__metadata__\":{" META_OK ",\"kind\":\"patch\",\"K\":\"2\",\"D\":\"3\"},"
         "\"codebook\":{\"dtype\":\"I32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}",
         24, -1, MVOT_ERR_UNSUPPORTED, "must be U8"},
        {"shape_vs_K",
         "{\"__metadata__\":{" META_OK ",\"kind\":\"patch\",\"K\":\"3\",\"D\":\"3\"},"
         "\"codebook\":{\"dtype\":\"U8\",\"shape\":[2,3],\"data_offsets\":[0,6]}}",
         6, -1, MVOT_ERR_MISMATCH, "expected shape"},
        {"D_vs_patch",
         "{\"__metadata__\":{" META_OK ",\"kind\":\"patch\",\"K\":\"1\",\"D\":\"6\"},"
         "\"codebook\":{\"dtype\":\"U8\",\"shape\":[1,6],\"data_offsets\":[0,6]}}",
         6, -1, MVOT_ERR_MISMATCH, "does not match patch"},
        {"stats_not_json",
         "{\"__metadata__\":{\"format\":\"mvot-codebook\",\"format_version\":\"1\",\"patch\":"
         "\"1\",\"image_size\":\"0\",\"seed\":\"0\",\"data_hash\":\"0000000000000000\","
         "\"stats\":\"{oops\",\"kind\":\"patch\",\"K\":\"2\",\"D\":\"3\"},"
         "\"codebook\":{\"dtype\":\"U8\",\"shape\":[2,3],\"data_offsets\":[0,6]}}",
         6, -1, MVOT_ERR_CORRUPT, "stats"},
        {"bad_hash",
         "{\"__metadata__\":{\"format\":\"mvot-codebook\",\"format_version\":\"1\",\"patch\":"
         "\"1\",\"image_size\":\"0\",\"seed\":\"0\",\"data_hash\":\"xyz\","
         "\"stats\":\"{}\",\"kind\":\"patch\",\"K\":\"2\",\"D\":\"3\"},"
         "\"codebook\":{\"dtype\":\"U8\",\"shape\":[2,3],\"data_offsets\":[0,6]}}",
         6, -1, MVOT_ERR_CORRUPT, "hex"},
        {"extra_tensor",
         "{\"__metadata__\":{" META_OK ",\"kind\":\"patch\",\"K\":\"2\",\"D\":\"3\"},"
         "\"codebook\":{\"dtype\":\"U8\",\"shape\":[2,3],\"data_offsets\":[0,6]},"
         "\"more\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[6,8]}}",
         8, -1, MVOT_ERR_CORRUPT, "tensors"},
        {"vqgan_nan",
         "{\"__metadata__\":{\"format\":\"mvot-codebook\",\"format_version\":\"1\",\"patch\":"
         "\"0\",\"image_size\":\"0\",\"seed\":\"0\",\"data_hash\":\"0000000000000000\","
         "\"stats\":\"{}\",\"kind\":\"vqgan\",\"K\":\"1\",\"D\":\"2\"},"
         "\"codebook\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}",
         8, -1, MVOT_ERR_CORRUPT, "non-finite"},
    };
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    uint8_t data[32];
    memset(data, 0, sizeof data);
    float nan_pair[2] = {1.0f, __builtin_nanf("")};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad_case *c = &cases[i];
        char *path = mvot_strdupf("%s/%s.safetensors", dir, c->name);
        const void *d = strcmp(c->name, "vqgan_nan") == 0 ? (const void *)nan_pair : data;
        write_raw(path, c->header, d, c->dlen, c->lie);
        struct mvot_codebook cb;
        mvot_error_clear(&err);
        enum mvot_status st = mvot_codebook_load(path, &cb, &err);
        if (st != c->want)
            T_FAIL("case %s: status %d, want %d (%s)", c->name, st, c->want, err.msg);
        if (c->want != MVOT_OK) {
            ASSERT_CONTAINS(err.msg, c->msg);
            ASSERT_CONTAINS(err.msg, c->name); /* the file is named */
            ASSERT_TRUE(strchr(err.msg, '\n') == NULL);
        }
        mvot_codebook_free(&cb);
        free(path);
    }
    /* A missing file is an I/O error naming it. */
    struct mvot_codebook cb;
    ASSERT_EQ_INT(mvot_codebook_load("/nonexistent/cb.safetensors", &cb, &err), MVOT_ERR_IO);
    ASSERT_CONTAINS(err.msg, "/nonexistent/cb.safetensors");
    free(dir);
}

/* Every prefix of a valid file must fail cleanly (no crash, no leak under ASan). */
static void test_truncations(void)
{
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    char *path = mvot_io_join(dir, "cb.safetensors");
    struct mvot_codebook cb;
    make_patch_cb(&cb, 2, 2);
    ASSERT_OK(mvot_codebook_save(path, &cb, &err), &err);
    uint8_t *bytes = NULL;
    size_t len = 0;
    ASSERT_OK(mvot_io_read_file(path, 1 << 20, &bytes, &len, &err), &err);
    for (size_t n = 0; bytes && n < len; n++) {
        struct mvot_codebook c2;
        enum mvot_status st = mvot_codebook_load_mem(bytes, n, "prefix", &c2, &err);
        if (st == MVOT_OK)
            T_FAIL("prefix of %zu bytes loaded", n);
        mvot_codebook_free(&c2);
    }
    struct mvot_codebook c3;
    ASSERT_OK(mvot_codebook_load_mem(bytes, len, "whole", &c3, &err), &err);
    ASSERT_EQ_U64(c3.file_hash, cb.file_hash);
    mvot_codebook_free(&c3);
    mvot_codebook_free(&cb);
    free(bytes);
    free(path);
    free(dir);
}

TEST_MAIN(test_roundtrip_patch, test_roundtrip_vqgan, test_spec_agrees, test_bad_files,
          test_truncations)
