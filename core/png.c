/* PNG codec over libpng. libpng reports errors by longjmp; every setjmp here sits in a
 * function whose locals that change after setjmp are volatile or heap-held through a
 * struct, so the error path frees exactly what was allocated. */
#include "core/png.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/io.h"

enum mvot_status mvot_image_init(struct mvot_image *img, uint32_t w, uint32_t h, uint32_t channels)
{
    memset(img, 0, sizeof *img);
    if (w == 0 || h == 0 || (channels != 3 && channels != 4) || w > MVOT_PNG_MAX_DIM ||
        h > MVOT_PNG_MAX_DIM)
        return MVOT_ERR_INVALID;
    img->px = calloc((size_t)w * h, channels);
    if (!img->px)
        return MVOT_ERR_NOMEM;
    img->w = w;
    img->h = h;
    img->channels = channels;
    return MVOT_OK;
}

void mvot_image_free(struct mvot_image *img)
{
    if (!img)
        return;
    free(img->px);
    memset(img, 0, sizeof *img);
}

void mvot_rgba_over_white(const uint8_t *rgba, size_t n, uint8_t *rgb)
{
    for (size_t i = 0; i < n; i++) {
        /* read all four before writing: in place, pixel i's output overlaps its input */
        uint8_t s[4];
        memcpy(s, rgba + i * 4, 4);
        double a = s[3] / 255.0;
        for (int c = 0; c < 3; c++)
            rgb[i * 3 + c] = s[3] == 255 ? s[c] : (uint8_t)((1.0 - a) * 255.0 + a * s[c]);
    }
}

void mvot_image_drop_alpha(struct mvot_image *img)
{
    if (img->channels != 4)
        return;
    mvot_rgba_over_white(img->px, (size_t)img->w * img->h, img->px);
    img->channels = 3;
}

struct png_ctx {
    const char *name;
    struct mvot_error *err;
    char msg[256];
    /* reader */
    const uint8_t *data;
    size_t len, pos;
    /* writer */
    struct mvot_buf out;
    int write_failed;
};

static void on_error(png_structp png, png_const_charp msg)
{
    struct png_ctx *c = png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* warnings (e.g. unknown chunks) are not errors for our purposes */
}

static void read_fn(png_structp png, png_bytep out, png_size_t n)
{
    struct png_ctx *c = png_get_io_ptr(png);
    if (n > c->len - c->pos)
        png_error(png, "unexpected end of data");
    memcpy(out, c->data + c->pos, n);
    c->pos += n;
}

enum mvot_status mvot_png_decode(const uint8_t *data, size_t len, const char *name,
                                 struct mvot_image *out, struct mvot_error *err)
{
    struct png_ctx ctx = {.name = name, .err = err, .data = data, .len = len};
    png_structp png = NULL;
    png_infop info = NULL;
    png_bytep *volatile rows = NULL;
    memset(out, 0, sizeof *out);
    if (len < 8 || png_sig_cmp(data, 0, 8) != 0)
        return mvot_error_corrupt(err, name, 0, "not a PNG file (bad signature)");
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    if (png)
        info = png_create_info_struct(png);
    if (!png || !info) {
        png_destroy_read_struct(&png, &info, NULL);
        return mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(rows);
        mvot_image_free(out);
        return mvot_error_corrupt(err, name, (int64_t)ctx.pos, "PNG decode failed: %s", ctx.msg);
    }
    png_set_read_fn(png, &ctx, read_fn);
    png_set_user_limits(png, MVOT_PNG_MAX_DIM, MVOT_PNG_MAX_DIM);
    png_set_chunk_malloc_max(png, 64u << 20);
    png_read_info(png, info);
    uint32_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int ct = png_get_color_type(png, info), bd = png_get_bit_depth(png, info);
    if ((uint64_t)w * h > MVOT_PNG_MAX_PIXELS)
        png_error(png, "image has too many pixels");
    if (bd == 16)
        png_set_strip_16(png);
    if (ct == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (ct == PNG_COLOR_TYPE_GRAY && bd < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    int has_alpha = (ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    uint32_t channels = has_alpha ? 4 : 3;
    if (png_get_rowbytes(png, info) != (size_t)w * channels)
        png_error(png, "unexpected row layout");
    if (mvot_image_init(out, w, h, channels) != MVOT_OK)
        png_error(png, "cannot allocate image");
    rows = malloc(sizeof(png_bytep) * h);
    if (!rows)
        png_error(png, "out of memory");
    for (uint32_t y = 0; y < h; y++)
        rows[y] = out->px + (size_t)y * w * channels;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    return MVOT_OK;
}

enum mvot_status mvot_png_read_file(const char *path, struct mvot_image *out,
                                    struct mvot_error *err)
{
    uint8_t *buf;
    size_t len;
    enum mvot_status st = mvot_io_read_file(path, (size_t)256 << 20, &buf, &len, err);
    if (st != MVOT_OK)
        return st;
    st = mvot_png_decode(buf, len, path, out, err);
    free(buf);
    return st;
}

void mvot_png_opts_default(struct mvot_png_opts *o)
{
    /* Chosen by measurement on 512-px gen frames (bench/gen_bench.sh, BENCHMARKS.md "## gen"):
     * flat colour fields repeat exactly one row above, which zlib's level-1 hash matching finds
     * without any PNG filter. Level 1 + default strategy + filter None was the fastest option
     * (1.6 ms/frame, 1.10x the bare deflate of the same rows); libpng's adaptive filter choice
     * cost 2.7x that for a smaller file, and Z_RLE needs a filter to see RGB runs at all. */
    o->zlib_level = 1;
    o->zlib_strategy = Z_DEFAULT_STRATEGY;
    o->filters = PNG_FILTER_NONE;
}

static void write_fn(png_structp png, png_bytep data, png_size_t n)
{
    struct png_ctx *c = png_get_io_ptr(png);
    if (mvot_buf_append(&c->out, data, n) != MVOT_OK)
        png_error(png, "out of memory");
}

static void flush_fn(png_structp png)
{
    (void)png;
}

enum mvot_status mvot_png_encode(const struct mvot_image *img, const struct mvot_png_opts *opts,
                                 uint8_t **out, size_t *out_len, struct mvot_error *err)
{
    /* Copied before setjmp so nothing the error path reads can be clobbered by longjmp. */
    struct mvot_png_opts o_copy;
    if (opts)
        o_copy = *opts;
    else
        mvot_png_opts_default(&o_copy);
    const struct mvot_png_opts *const o = &o_copy;
    struct png_ctx ctx = {.name = "png encode", .err = err};
    png_structp png = NULL;
    png_infop info = NULL;
    png_bytep *volatile rows = NULL;
    *out = NULL;
    *out_len = 0;
    if (!img->px || img->w == 0 || img->h == 0 || (img->channels != 3 && img->channels != 4))
        return mvot_error_set(err, MVOT_ERR_INVALID, "png encode", "bad image %ux%ux%u", img->w,
                              img->h, img->channels);
    mvot_buf_init(&ctx.out, 0);
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, on_error, on_warning);
    if (png)
        info = png_create_info_struct(png);
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        return mvot_error_set(err, MVOT_ERR_NOMEM, "png encode", "out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        mvot_buf_free(&ctx.out);
        return mvot_error_set(err, MVOT_ERR_INTERNAL, "png encode", "%s", ctx.msg);
    }
    png_set_write_fn(png, &ctx, write_fn, flush_fn);
    png_set_compression_level(png, o->zlib_level);
    png_set_compression_strategy(png, o->zlib_strategy);
    if (o->filters)
        png_set_filter(png, PNG_FILTER_TYPE_BASE, o->filters);
    png_set_IHDR(png, info, img->w, img->h, 8,
                 img->channels == 4 ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    rows = malloc(sizeof(png_bytep) * img->h);
    if (!rows)
        png_error(png, "out of memory");
    for (uint32_t y = 0; y < img->h; y++)
        rows[y] = img->px + (size_t)y * img->w * img->channels;
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *out = ctx.out.data;
    *out_len = ctx.out.len;
    return MVOT_OK;
}

enum mvot_status mvot_png_write_file(const char *path, const struct mvot_image *img,
                                     const struct mvot_png_opts *o, struct mvot_error *err)
{
    uint8_t *buf;
    size_t len;
    enum mvot_status st = mvot_png_encode(img, o, &buf, &len, err);
    if (st != MVOT_OK)
        return st;
    st = mvot_io_write_file(path, buf, len, err);
    free(buf);
    return st;
}
