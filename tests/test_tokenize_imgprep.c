/* tokenize/imgprep against Pillow + numpy (tests/vqgan/imgprep_ref.py, Debian python3-pil):
 * for noise, gradient and hard-edge images of many shapes (up, down, odd, non-square, RGBA
 * with partial alpha) the resized bytes, the cropped bytes and the float tensors must be
 * identical. Exits 77 when /usr/bin/python3 lacks PIL or numpy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/npy.h"
#include "core/png.h"
#include "core/rng.h"
#include "test.h"
#include "tokenize/imgprep.h"

struct shape {
    uint32_t w, h, channels, S;
    int pattern; /* 0 noise, 1 gradient, 2 hard edges */
};

static const struct shape SHAPES[] = {
    {300, 200, 3, 128, 0}, {200, 300, 3, 128, 1}, {50, 37, 3, 128, 0},   {37, 50, 3, 128, 2},
    {513, 511, 3, 512, 0}, {511, 513, 3, 512, 2}, {640, 480, 3, 256, 2}, {64, 64, 3, 64, 0},
    {64, 64, 3, 128, 0},   {256, 256, 3, 128, 2}, {7, 300, 3, 64, 1},    {129, 127, 4, 128, 0},
    {90, 90, 4, 64, 2},    {1000, 99, 3, 32, 0},  {33, 33, 3, 512, 2},   {600, 600, 4, 512, 1},
};
#define NSHAPES (sizeof SHAPES / sizeof SHAPES[0])

static void make_image(const struct shape *s, size_t idx, struct mvot_image *img)
{
    struct mvot_rng r;
    mvot_rng_derive(&r, 7, 1, idx);
    if (mvot_image_init(img, s->w, s->h, s->channels) != MVOT_OK)
        return;
    for (uint32_t y = 0; y < s->h; y++)
        for (uint32_t x = 0; x < s->w; x++) {
            uint8_t *p = img->px + ((size_t)y * s->w + x) * s->channels;
            for (uint32_t c = 0; c < 3; c++) {
                if (s->pattern == 0)
                    p[c] = (uint8_t)mvot_rng_below(&r, 256);
                else if (s->pattern == 1)
                    p[c] = (uint8_t)((x * 255 / s->w + y * (c + 1) * 97 / s->h) & 255);
                else
                    p[c] = (((x / 5) ^ (y / 3) ^ c) & 1) ? 255 : 0; /* overshoot both ways */
            }
            if (s->channels == 4) /* mostly opaque, some partial, some clear */
                p[3] = (uint8_t)((x + y) % 3 == 0 ? mvot_rng_below(&r, 256) : 255);
        }
}

static int load_npy(const char *path, struct mvot_npy *npy, uint8_t **buf)
{
    size_t len;
    struct mvot_error err = {0};
    if (mvot_io_read_file(path, (size_t)1 << 30, buf, &len, &err) != MVOT_OK ||
        mvot_npy_parse(*buf, len, path, npy, &err) != MVOT_OK) {
        T_FAIL("%s", err.msg);
        return -1;
    }
    return 0;
}

static int python_ok(void)
{
    return system("/usr/bin/python3 -c 'import PIL, numpy' >/dev/null 2>&1") == 0;
}

static void test_against_pillow(void)
{
    if (!python_ok()) {
        fprintf(stderr, "SKIP: /usr/bin/python3 with PIL and numpy is required\n");
        exit(77);
    }
    const char *src = getenv("MVOT_SRC");
    char *dir = t_tmpdir();
    char path[1024], cmd[2048];
    struct mvot_error err = {0};
    struct mvot_buf jobs;
    ASSERT_TRUE(src && dir);
    if (!src || !dir)
        return;
    mvot_buf_init(&jobs, 4096);
    mvot_buf_printf(&jobs, "[");
    for (size_t i = 0; i < NSHAPES; i++) {
        struct mvot_image img = {0};
        make_image(&SHAPES[i], i, &img);
        snprintf(path, sizeof path, "%s/in%zu.png", dir, i);
        ASSERT_OK(mvot_png_write_file(path, &img, NULL, &err), &err);
        mvot_buf_printf(&jobs, "%s{\"in\":\"%s\",\"S\":%u,\"out\":\"%s/out%zu\"}", i ? "," : "",
                        path, SHAPES[i].S, dir, i);
        mvot_image_free(&img);
    }
    mvot_buf_printf(&jobs, "]");
    snprintf(path, sizeof path, "%s/jobs.json", dir);
    ASSERT_OK(mvot_io_write_file(path, jobs.data, jobs.len, &err), &err);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/vqgan/imgprep_ref.py %s", src, path);
    ASSERT_EQ_INT(system(cmd), 0);

    for (size_t i = 0; i < NSHAPES; i++) {
        const struct shape *s = &SHAPES[i];
        struct mvot_image img = {0}, rgb = {0}, rs = {0}, prep = {0};
        struct mvot_npy ref;
        uint8_t *buf = NULL;
        uint32_t rw, rh;
        size_t n = (size_t)s->S * s->S;
        float *t = malloc(n * 3 * sizeof(float));
        /* Through the PNG round trip so both sides see the same pixels. */
        snprintf(path, sizeof path, "%s/in%zu.png", dir, i);
        ASSERT_OK(mvot_png_read_file(path, &img, &err), &err);
        ASSERT_OK(mvot_imgprep_to_rgb(&img, &rgb, &err), &err);
        mvot_imgprep_resize_dims(s->w, s->h, s->S, &rw, &rh);
        ASSERT_OK(mvot_imgprep_resize_lanczos(&rgb, rw, rh, &rs, &err), &err);
        snprintf(path, sizeof path, "%s/out%zu.resized.npy", dir, i);
        if (load_npy(path, &ref, &buf) == 0) {
            ASSERT_EQ_U64(ref.shape[0], rh);
            ASSERT_EQ_U64(ref.shape[1], rw);
            if (ref.nbytes == (size_t)rw * rh * 3) {
                size_t diff = 0;
                for (size_t k = 0; k < ref.nbytes; k++)
                    diff += ref.data[k] != rs.px[k];
                if (diff)
                    T_FAIL("shape %zu (%ux%u -> %ux%u): %zu resized bytes differ", i, s->w, s->h,
                           rw, rh, diff);
            }
        }
        free(buf);
        buf = NULL;
        ASSERT_OK(mvot_imgprep_prepare(&img, s->S, &prep, &err), &err);
        snprintf(path, sizeof path, "%s/out%zu.u8.npy", dir, i);
        if (load_npy(path, &ref, &buf) == 0 && ref.nbytes == n * 3)
            ASSERT_TRUE(memcmp(ref.data, prep.px, n * 3) == 0);
        free(buf);
        buf = NULL;
        ASSERT_OK(mvot_imgprep_to_tensor(&img, s->S, t, &err), &err);
        snprintf(path, sizeof path, "%s/out%zu.f32.npy", dir, i);
        if (load_npy(path, &ref, &buf) == 0) {
            ASSERT_EQ_STR(ref.descr, "<f4");
            if (ref.nbytes == n * 3 * sizeof(float) && memcmp(ref.data, t, ref.nbytes) != 0)
                T_FAIL("shape %zu: pixel tensor differs from numpy", i);
        }
        free(buf);
        free(t);
        mvot_image_free(&img);
        mvot_image_free(&rgb);
        mvot_image_free(&rs);
        mvot_image_free(&prep);
    }
    mvot_buf_free(&jobs);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ASSERT_EQ_INT(system(cmd), 0);
    free(dir);
}

/* Values 0.0078 apart decode back to their level; everything outside [-1, 0.989] clips. */
static void test_postprocess(void)
{
    struct mvot_error err = {0};
    struct mvot_image out = {0};
    const uint32_t S = 16;
    float t[3 * 16 * 16];
    uint8_t rgb[16 * 16 * 3];
    for (size_t i = 0; i < sizeof rgb; i++)
        rgb[i] = (uint8_t)(i * 7);
    mvot_imgprep_normalize(rgb, S, t);
    ASSERT_NEAR(t[0], -1.0, 0);
    t[1] = 5.0f;
    t[2] = -3.0f;
    t[3] = NAN;
    ASSERT_OK(mvot_imgprep_from_tensor(t, S, &out, &err), &err);
    ASSERT_EQ_INT(out.px[3], 255);
    ASSERT_EQ_INT(out.px[6], 0);
    ASSERT_EQ_INT(out.px[9], 0);
    for (size_t i = 4; i < (size_t)S * S; i++)
        for (int c = 0; c < 3; c++) {
            int want = rgb[i * 3 + c], got = out.px[i * 3 + c];
            if (got != want && got != want - 1)
                T_FAIL("pixel %zu.%d: %d -> %d", i, c, want, got);
        }
    mvot_image_free(&out);
}

static void test_rejects(void)
{
    struct mvot_error err = {0};
    struct mvot_image img = {0}, out = {0};
    ASSERT_OK(mvot_image_init(&img, 4, 4, 4), &err);
    ASSERT_EQ_INT(mvot_imgprep_resize_lanczos(&img, 2, 2, &out, &err), MVOT_ERR_INVALID);
    ASSERT_CONTAINS(err.msg, "RGB");
    img.channels = 2;
    ASSERT_EQ_INT(mvot_imgprep_to_rgb(&img, &out, &err), MVOT_ERR_INVALID);
    img.channels = 4;
    mvot_image_free(&img);
}

TEST_MAIN(test_against_pillow, test_postprocess, test_rejects)
