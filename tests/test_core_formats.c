/* core/json, core/png, core/safetensors, core/npy: round trips and every class of bad
 * input giving one clear error. */
#include "core/io.h"
#include "core/json.h"
#include "core/npy.h"
#include "core/png.h"
#include "core/safetensors.h"
#include "tests/test.h"

static void test_json_errors_have_position(void)
{
    struct mvot_error err;
    json_t *j = NULL;
    const char *bad = "{\n  \"a\": 1,\n  \"b\": [1, 2,\n}";
    ASSERT_EQ_INT(mvot_json_load_buf(bad, strlen(bad), "cfg.json", &j, &err), MVOT_ERR_CORRUPT);
    ASSERT_CONTAINS(err.msg, "cfg.json: line 4, column");
    const char *dup = "{\"a\": 1, \"a\": 2}";
    ASSERT_EQ_INT(mvot_json_load_buf(dup, strlen(dup), "d.json", &j, &err), MVOT_ERR_CORRUPT);
    const char *ok = "{\"z\": 1, \"a\": {\"s\": \"x\", \"f\": true}, \"r\": 1.5}";
    ASSERT_OK(mvot_json_load_buf(ok, strlen(ok), "ok.json", &j, &err), &err);
    char *s = mvot_json_dumps(j);
    ASSERT_EQ_STR(s, "{\"a\":{\"f\":true,\"s\":\"x\"},\"r\":1.5,\"z\":1}"); /* sorted, compact */
    free(s);
    int64_t v = 0;
    const char *str = NULL;
    json_t *a = NULL;
    ASSERT_OK(mvot_json_get_int(j, "z", "ok.json", &v, &err), &err);
    ASSERT_EQ_INT(v, 1);
    ASSERT_OK(mvot_json_get_object(j, "a", "ok.json", &a, &err), &err);
    ASSERT_OK(mvot_json_get_str(a, "s", "ok.json.a", &str, &err), &err);
    ASSERT_EQ_STR(str, "x");
    ASSERT_EQ_INT(mvot_json_get_int(j, "missing", "ok.json", &v, &err), MVOT_ERR_CORRUPT);
    ASSERT_EQ_STR(err.msg, "ok.json.missing: missing");
    ASSERT_EQ_INT(mvot_json_get_int(j, "a", "ok.json", &v, &err), MVOT_ERR_CORRUPT);
    ASSERT_EQ_STR(err.msg, "ok.json.a: expected an integer, found object");
    v = 7;
    ASSERT_OK(mvot_json_opt_int(j, "missing", "ok.json", &v, &err), &err);
    ASSERT_EQ_INT(v, 7);
    json_decref(j);
}

static void make_image(struct mvot_image *img, uint32_t w, uint32_t h, uint32_t c)
{
    mvot_image_init(img, w, h, c);
    for (size_t i = 0; i < (size_t)w * h * c; i++)
        img->px[i] = (uint8_t)(i * 31 + i / 7);
}

static void test_png_roundtrip_and_corrupt(void)
{
    struct mvot_error err;
    for (uint32_t c = 3; c <= 4; c++) {
        struct mvot_image img, back;
        make_image(&img, 37, 19, c);
        uint8_t *png;
        size_t len;
        ASSERT_OK(mvot_png_encode(&img, NULL, &png, &len, &err), &err);
        ASSERT_OK(mvot_png_decode(png, len, "x.png", &back, &err), &err);
        ASSERT_EQ_INT(back.w, 37);
        ASSERT_EQ_INT(back.h, 19);
        ASSERT_EQ_INT(back.channels, c);
        ASSERT_TRUE(memcmp(img.px, back.px, (size_t)37 * 19 * c) == 0);
        /* Deterministic bytes. */
        uint8_t *png2;
        size_t len2;
        ASSERT_OK(mvot_png_encode(&img, NULL, &png2, &len2, &err), &err);
        ASSERT_TRUE(len == len2 && memcmp(png, png2, len) == 0);
        /* Truncation and a flipped IDAT byte give a clear error naming the file. */
        struct mvot_image bad;
        ASSERT_EQ_INT(mvot_png_decode(png, len / 2, "cut.png", &bad, &err), MVOT_ERR_CORRUPT);
        ASSERT_CONTAINS(err.msg, "cut.png");
        png[len - 20] ^= 0x55;
        ASSERT_EQ_INT(mvot_png_decode(png, len, "flip.png", &bad, &err), MVOT_ERR_CORRUPT);
        ASSERT_CONTAINS(err.msg, "flip.png");
        ASSERT_EQ_INT(mvot_png_decode((const uint8_t *)"notapng!", 8, "n.png", &bad, &err),
                      MVOT_ERR_CORRUPT);
        ASSERT_CONTAINS(err.msg, "bad signature");
        free(png);
        free(png2);
        mvot_image_free(&img);
        mvot_image_free(&back);
    }
    /* A header claiming a huge image is refused before allocating. */
    struct mvot_image img, bad;
    struct mvot_error e2;
    make_image(&img, 4, 4, 3);
    uint8_t *png;
    size_t len;
    ASSERT_OK(mvot_png_encode(&img, NULL, &png, &len, &e2), &e2);
    png[16] = 0x7f; /* width high byte in IHDR (CRC now wrong too: either error is fine) */
    ASSERT_EQ_INT(mvot_png_decode(png, len, "huge.png", &bad, &err), MVOT_ERR_CORRUPT);
    free(png);
    mvot_image_free(&img);
}

/* Builds a safetensors image from a header string and data length. */
static uint8_t *st_image(const char *hdr, size_t data_len, size_t *len)
{
    size_t hl = strlen(hdr);
    *len = 8 + hl + data_len;
    uint8_t *b = calloc(1, *len);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(b + 8, hdr, hl);
    return b;
}

static void test_safetensors_roundtrip(void)
{
    struct mvot_error err;
    char *d = t_tmpdir();
    char *p = mvot_io_join(d, "t.safetensors");
    float w[6] = {1, -2, 3.5f, 0, 1e-3f, 7};
    uint16_t bf[2] = {mvot_f32_to_bf16(1.5f), mvot_f32_to_bf16(-3.0f)};
    struct mvot_tensor_out outs[2] = {
        {"layer.weight", MVOT_DT_F32, 2, {2, 3}, w},
        {"layer.bias", MVOT_DT_BF16, 1, {2}, bf},
    };
    json_t *meta = json_pack("{s:s}", "kind", "test");
    ASSERT_OK(mvot_st_write(p, outs, 2, meta, &err), &err);
    json_decref(meta);
    struct mvot_safetensors *st;
    ASSERT_OK(mvot_st_open(p, &st, &err), &err);
    ASSERT_EQ_INT(mvot_st_count(st), 2);
    const struct mvot_tensor *t = mvot_st_find(st, "layer.weight");
    ASSERT_TRUE(t != NULL);
    float back[6];
    ASSERT_OK(mvot_tensor_to_f32(t, back, &err), &err);
    ASSERT_TRUE(memcmp(back, w, sizeof w) == 0);
    int64_t want[2] = {2, 3}, wrong[2] = {3, 2};
    ASSERT_OK(mvot_tensor_expect_shape(t, 2, want, p, &err), &err);
    ASSERT_EQ_INT(mvot_tensor_expect_shape(t, 2, wrong, "f", &err), MVOT_ERR_MISMATCH);
    ASSERT_CONTAINS(err.msg, "layer.weight: expected shape [3, 2], found [2, 3]");
    const struct mvot_tensor *b = mvot_st_find(st, "layer.bias");
    float bb[2];
    ASSERT_OK(mvot_tensor_to_f32(b, bb, &err), &err);
    ASSERT_NEAR(bb[0], 1.5, 0);
    ASSERT_NEAR(bb[1], -3.0, 0);
    ASSERT_EQ_STR(json_string_value(json_object_get(mvot_st_metadata(st), "kind")), "test");
    ASSERT_TRUE(mvot_st_find(st, "nope") == NULL);
    mvot_st_close(st);
    mvot_st_close(NULL);
    /* f16 conversion spot checks: 1.0, -2.0, smallest subnormal. */
    ASSERT_NEAR(mvot_f16_to_f32(0x3C00), 1.0, 0);
    ASSERT_NEAR(mvot_f16_to_f32(0xC000), -2.0, 0);
    ASSERT_NEAR(mvot_f16_to_f32(0x0001), 5.960464477539063e-08, 1e-20);
    free(p);
    free(d);
}

static void test_safetensors_bad_headers(void)
{
    struct mvot_error err;
    struct mvot_safetensors *st;
    size_t len;
    uint8_t *b;
    /* Truncated: shorter than the length prefix. */
    ASSERT_EQ_INT(mvot_st_open_mem((const uint8_t *)"abc", 3, "short", &st, &err),
                  MVOT_ERR_CORRUPT);
    /* Lying header length (claims more than the file holds). */
    b = st_image("{}", 0, &len);
    b[0] = 0xff;
    b[3] = 0x01;
    ASSERT_EQ_INT(mvot_st_open_mem(b, len, "lying", &st, &err), MVOT_ERR_CORRUPT);
    ASSERT_CONTAINS(err.msg, "lying: offset 0: header length");
    free(b);
    /* A header over the 100 MiB cap says that it is the cap, not a short file. */
    b = st_image("{}", 0, &len);
    b[0] = 0x01;
    b[3] = 0x10; /* 256 MiB + 1 */
    ASSERT_EQ_INT(mvot_st_open_mem(b, len, "huge", &st, &err), MVOT_ERR_CORRUPT);
    ASSERT_CONTAINS(err.msg, "safetensors header cap");
    free(b);
    /* Offsets past the data. */
    b = st_image("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, &len);
    ASSERT_EQ_INT(mvot_st_open_mem(b, len, "past", &st, &err), MVOT_ERR_CORRUPT);
    ASSERT_CONTAINS(err.msg, "tensor a");
    free(b);
    /* Shape product that overflows 64 bits. */
    b = st_image("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
                 "\"data_offsets\":[0,0]}}",
                 0, &len);
    ASSERT_EQ_INT(mvot_st_open_mem(b, len, "ovf", &st, &err), MVOT_ERR_CORRUPT);
    ASSERT_CONTAINS(err.msg, "overflows");
    free(b);
    /* Size that does not match shape x dtype. */
    b = st_image("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, &len);
    ASSERT_EQ_INT(mvot_st_open_mem(b, len, "size", &st, &err), MVOT_ERR_CORRUPT);
    free(b);
    /* Overlapping tensors. */
    b = st_image("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                 "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}",
                 8, &len);
    ASSERT_EQ_INT(mvot_st_open_mem(b, len, "overlap", &st, &err), MVOT_ERR_CORRUPT);
    ASSERT_CONTAINS(err.msg, "overlap");
    free(b);
    /* Unknown dtype. */
    b = st_image("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 8, &len);
    ASSERT_EQ_INT(mvot_st_open_mem(b, len, "dt", &st, &err), MVOT_ERR_UNSUPPORTED);
    free(b);
    /* Header not JSON. */
    b = st_image("{not json", 0, &len);
    ASSERT_EQ_INT(mvot_st_open_mem(b, len, "nj", &st, &err), MVOT_ERR_CORRUPT);
    free(b);
    /* Missing file. */
    ASSERT_EQ_INT(mvot_st_open("/nonexistent/x.safetensors", &st, &err), MVOT_ERR_IO);
}

static void test_npy_roundtrip(void)
{
    struct mvot_error err;
    struct mvot_buf b;
    mvot_buf_init(&b, 0);
    uint16_t v[6] = {1, 2, 3, 65535, 0, 9};
    uint64_t shape[2] = {2, 3};
    ASSERT_EQ_INT(mvot_npy_encode(&b, "<u2", 2, shape, v), MVOT_OK);
    ASSERT_EQ_INT((b.len - 12) % 64 == 0 || (b.len - sizeof v) % 64 == 0, 1);
    struct mvot_npy n;
    ASSERT_OK(mvot_npy_parse(b.data, b.len, "a.npy", &n, &err), &err);
    ASSERT_EQ_STR(n.descr, "<u2");
    ASSERT_EQ_INT(n.ndim, 2);
    ASSERT_EQ_U64(n.shape[1], 3);
    ASSERT_TRUE(memcmp(n.data, v, sizeof v) == 0);
    ASSERT_EQ_INT(mvot_npy_parse(b.data, b.len - 1, "cut.npy", &n, &err), MVOT_ERR_CORRUPT);
    ASSERT_CONTAINS(err.msg, "cut.npy");
    mvot_buf_free(&b);
}

TEST_MAIN(test_json_errors_have_position, test_png_roundtrip_and_corrupt,
          test_safetensors_roundtrip, test_safetensors_bad_headers, test_npy_roundtrip)
