/* Chameleon image preprocessing (see imgprep.h). The resize reproduces Pillow's LANCZOS
 * resampler exactly: double-precision filter weights per output pixel, normalized to sum 1,
 * rounded to 22-bit fixed point, integer accumulation starting at half a unit, and an
 * arithmetic shift plus clip to uint8 after each pass (horizontal first). Any deviation in
 * the bounds or rounding changes bytes, so the arithmetic follows Pillow's semantics
 * literally rather than being "improved". */
#include "tokenize/imgprep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define WHERE "imgprep"
/* 32 bits minus 8 for the pixel value minus 2 for the negative lobes' overshoot. */
#define PREC_BITS (32 - 8 - 2)
#define LANCZOS_SUPPORT 3.0

void mvot_imgprep_resize_dims(uint32_t w, uint32_t h, uint32_t S, uint32_t *out_w, uint32_t *out_h)
{
    /* HF get_resize_output_image_size(default_to_square=False): int(S * long / short),
     * computed in Python floats (double). */
    if (w <= h) {
        *out_w = S;
        *out_h = (uint32_t)((double)S * (double)h / (double)w);
    } else {
        *out_h = S;
        *out_w = (uint32_t)((double)S * (double)w / (double)h);
    }
}

enum mvot_status mvot_imgprep_to_rgb(const struct mvot_image *in, struct mvot_image *out,
                                     struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    size_t n = (size_t)in->w * in->h;
    memset(out, 0, sizeof(*out));
    MVOT_FAIL_IF(in->channels != 3 && in->channels != 4, err, MVOT_ERR_INVALID, WHERE,
                 "image has %u channels (want 3 or 4)", in->channels);
    MVOT_TRY(mvot_image_init(out, in->w, in->h, 3));
    if (in->channels == 3) {
        memcpy(out->px, in->px, n * 3);
        return MVOT_OK;
    }
    /* HF composites only when some alpha < 255, else drops alpha: the same bytes, since an
     * opaque pixel composites to itself */
    mvot_rgba_over_white(in->px, n, out->px);
cleanup:
    return st;
}

static double sinc(double x)
{
    if (x == 0.0)
        return 1.0;
    x *= M_PI;
    return sin(x) / x;
}

static double lanczos(double x)
{
    if (-LANCZOS_SUPPORT <= x && x < LANCZOS_SUPPORT)
        return sinc(x) * sinc(x / 3.0);
    return 0.0;
}

/* Per output index: first input index, tap count, and ksize fixed-point weights. */
struct coeffs {
    int ksize;
    int *bounds; /* 2 per output: xmin, count */
    int32_t *k;  /* ksize per output */
};

static void coeffs_free(struct coeffs *c)
{
    free(c->bounds);
    free(c->k);
}

static enum mvot_status coeffs_compute(int in_size, int out_size, struct coeffs *c,
                                       struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    double *w = NULL;
    /* Pillow keeps the box edges as floats; (double)(in1 - in0) is exact here. */
    float in0 = 0.0f, in1 = (float)in_size;
    double scale = (double)(in1 - in0) / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = LANCZOS_SUPPORT * filterscale;
    memset(c, 0, sizeof(*c));
    c->ksize = (int)ceil(support) * 2 + 1;
    c->bounds = malloc(sizeof(int) * 2 * (size_t)out_size);
    c->k = calloc((size_t)out_size * (size_t)c->ksize, sizeof(int32_t));
    w = malloc(sizeof(double) * (size_t)c->ksize);
    MVOT_FAIL_IF(!c->bounds || !c->k || !w, err, MVOT_ERR_NOMEM, WHERE,
                 "resize coefficients for %d -> %d", in_size, out_size);
    for (int xx = 0; xx < out_size; xx++) {
        double center = in0 + (xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int xmin = (int)(center - support + 0.5); /* C truncation, as Pillow */
        int xmax = (int)(center + support + 0.5);
        if (xmin < 0)
            xmin = 0;
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        for (int x = 0; x < xmax; x++) {
            w[x] = lanczos((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        for (int x = 0; x < xmax; x++) {
            double v = ww != 0.0 ? w[x] / ww : w[x];
            c->k[(size_t)xx * c->ksize + x] = v < 0 ? (int32_t)(-0.5 + v * (1 << PREC_BITS))
                                                    : (int32_t)(0.5 + v * (1 << PREC_BITS));
        }
        c->bounds[xx * 2] = xmin;
        c->bounds[xx * 2 + 1] = xmax;
    }
cleanup:
    free(w);
    if (st != MVOT_OK)
        coeffs_free(c);
    return st;
}

static uint8_t clip8(int32_t acc)
{
    int32_t v = acc >> PREC_BITS; /* arithmetic shift, like Pillow's lookup index */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* dst (dw x h) from src (sw x h), interleaved RGB. */
static void pass_horizontal(const uint8_t *src, uint32_t sw, uint32_t h, uint8_t *dst, uint32_t dw,
                            const struct coeffs *c)
{
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *row = src + (size_t)y * sw * 3;
        uint8_t *out = dst + (size_t)y * dw * 3;
        for (uint32_t xx = 0; xx < dw; xx++) {
            int xmin = c->bounds[xx * 2], n = c->bounds[xx * 2 + 1];
            const int32_t *k = c->k + (size_t)xx * c->ksize;
            int32_t s0 = 1 << (PREC_BITS - 1), s1 = s0, s2 = s0;
            for (int x = 0; x < n; x++) {
                const uint8_t *p = row + (size_t)(x + xmin) * 3;
                s0 += p[0] * k[x];
                s1 += p[1] * k[x];
                s2 += p[2] * k[x];
            }
            out[xx * 3] = clip8(s0);
            out[xx * 3 + 1] = clip8(s1);
            out[xx * 3 + 2] = clip8(s2);
        }
    }
}

/* dst (w x dh) from src (w x sh). */
static void pass_vertical(const uint8_t *src, uint32_t w, uint8_t *dst, uint32_t dh,
                          const struct coeffs *c)
{
    size_t stride = (size_t)w * 3;
    for (uint32_t yy = 0; yy < dh; yy++) {
        int ymin = c->bounds[yy * 2], n = c->bounds[yy * 2 + 1];
        const int32_t *k = c->k + (size_t)yy * c->ksize;
        uint8_t *out = dst + yy * stride;
        for (size_t i = 0; i < stride; i++) {
            int32_t s = 1 << (PREC_BITS - 1);
            for (int y = 0; y < n; y++)
                s += src[(size_t)(y + ymin) * stride + i] * k[y];
            out[i] = clip8(s);
        }
    }
}

enum mvot_status mvot_imgprep_resize_lanczos(const struct mvot_image *in, uint32_t w, uint32_t h,
                                             struct mvot_image *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct coeffs ch = {0}, cv = {0};
    struct mvot_image tmp = {0};
    const struct mvot_image *src = in;
    memset(out, 0, sizeof(*out));
    MVOT_FAIL_IF(in->channels != 3, err, MVOT_ERR_INVALID, WHERE,
                 "resize wants RGB, got %u channels", in->channels);
    MVOT_FAIL_IF(in->w == 0 || in->h == 0 || w == 0 || h == 0 || w > MVOT_PNG_MAX_DIM ||
                     h > MVOT_PNG_MAX_DIM || (uint64_t)w * h > MVOT_PNG_MAX_PIXELS,
                 err, MVOT_ERR_INVALID, WHERE, "resize %ux%u -> %ux%u out of range", in->w, in->h,
                 w, h);
    if (w != in->w) {
        MVOT_TRY(coeffs_compute((int)in->w, (int)w, &ch, err));
        MVOT_TRY(mvot_image_init(&tmp, w, in->h, 3));
        pass_horizontal(in->px, in->w, in->h, tmp.px, w, &ch);
        src = &tmp;
    }
    if (h != in->h) {
        MVOT_TRY(coeffs_compute((int)in->h, (int)h, &cv, err));
        MVOT_TRY(mvot_image_init(out, w, h, 3));
        pass_vertical(src->px, w, out->px, h, &cv);
    } else if (src == &tmp) {
        *out = tmp;
        tmp.px = NULL;
    } else {
        MVOT_TRY(mvot_image_init(out, w, h, 3));
        memcpy(out->px, in->px, (size_t)w * h * 3);
    }
cleanup:
    coeffs_free(&ch);
    coeffs_free(&cv);
    mvot_image_free(&tmp);
    if (st != MVOT_OK)
        mvot_image_free(out);
    return st;
}

enum mvot_status mvot_imgprep_prepare(const struct mvot_image *in, uint32_t S,
                                      struct mvot_image *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_image rgb = {0}, rs = {0};
    uint32_t rw, rh;
    memset(out, 0, sizeof(*out));
    MVOT_FAIL_IF(S == 0 || in->w == 0 || in->h == 0, err, MVOT_ERR_INVALID, WHERE,
                 "empty image or size");
    MVOT_TRY(mvot_imgprep_to_rgb(in, &rgb, err));
    mvot_imgprep_resize_dims(in->w, in->h, S, &rw, &rh);
    if (rw != in->w || rh != in->h) {
        MVOT_TRY(mvot_imgprep_resize_lanczos(&rgb, rw, rh, &rs, err));
    } else {
        rs = rgb;
        rgb.px = NULL;
    }
    if (rs.w == S && rs.h == S) {
        *out = rs;
        rs.px = NULL;
    } else {
        /* HF center_crop: top = (h - S) // 2, left = (w - S) // 2. */
        uint32_t top = (rs.h - S) / 2, left = (rs.w - S) / 2;
        MVOT_TRY(mvot_image_init(out, S, S, 3));
        for (uint32_t y = 0; y < S; y++)
            memcpy(out->px + (size_t)y * S * 3, rs.px + ((size_t)(y + top) * rs.w + left) * 3,
                   (size_t)S * 3);
    }
cleanup:
    mvot_image_free(&rgb);
    mvot_image_free(&rs);
    return st;
}

void mvot_imgprep_normalize(const uint8_t *rgb, uint32_t S, float *chw_out)
{
    float lut[256];
    size_t n = (size_t)S * S;
    /* rescale: float64 product cast to float32; normalize: float32 minus mean 1.0. */
    for (int v = 0; v < 256; v++)
        lut[v] = (float)((double)v * MVOT_IMGPREP_RESCALE) - 1.0f;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            chw_out[(size_t)c * n + i] = lut[rgb[i * 3 + c]];
}

enum mvot_status mvot_imgprep_to_tensor(const struct mvot_image *in, uint32_t S, float *chw_out,
                                        struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_image img = {0};
    if (in->w == S && in->h == S && in->channels == 3) {
        mvot_imgprep_normalize(in->px, S, chw_out);
        return MVOT_OK;
    }
    MVOT_TRY(mvot_imgprep_prepare(in, S, &img, err));
    mvot_imgprep_normalize(img.px, S, chw_out);
cleanup:
    mvot_image_free(&img);
    return st;
}

enum mvot_status mvot_imgprep_from_tensor(const float *chw, uint32_t S, struct mvot_image *out,
                                          struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    size_t n = (size_t)S * S;
    MVOT_FAIL_IF(S == 0, err, MVOT_ERR_INVALID, WHERE, "image size 0");
    MVOT_TRY(mvot_image_init(out, S, S, 3));
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
            double v = ((double)chw[(size_t)c * n + i] + 1.0) / MVOT_IMGPREP_RESCALE;
            /* !(v > 0) also catches NaN. */
            out->px[i * 3 + c] = (uint8_t)(!(v > 0.0) ? 0.0 : v > 255.0 ? 255.0 : v);
        }
cleanup:
    return st;
}
