/* PNG read/write over libpng, 8-bit RGB or RGBA. libpng's longjmp error path is contained
 * here; callers only see statuses. Reads are capped in width, height and pixel count so a
 * hostile header cannot make us allocate gigabytes. */
#ifndef MVOT_CORE_PNG_H
#define MVOT_CORE_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* An interleaved 8-bit image. `px` holds h rows of w*channels bytes, no padding. */
struct mvot_image {
    uint32_t w, h;
    uint32_t channels; /* 3 (RGB) or 4 (RGBA) */
    uint8_t *px;
};

/* Allocates a zeroed image. */
enum mvot_status mvot_image_init(struct mvot_image *img, uint32_t w, uint32_t h, uint32_t channels);
void mvot_image_free(struct mvot_image *img);

/* Composites n RGBA pixels on white into RGB as uint8((1 - a/255) * 255 + (a/255) * c) in
 * float64, truncating: numpy's arithmetic in HF's Chameleon preprocessing, so every consumer
 * (tokenizers, codebooks, eval) sees the same RGB for the same RGBA. rgb may equal rgba (in
 * place). Opaque pixels come out unchanged. */
void mvot_rgba_over_white(const uint8_t *rgba, size_t n, uint8_t *rgb);

/* Makes an RGBA image RGB in place by mvot_rgba_over_white; other images are left alone. */
void mvot_image_drop_alpha(struct mvot_image *img);

#define MVOT_PNG_MAX_DIM 16384u
#define MVOT_PNG_MAX_PIXELS (64u * 1024u * 1024u)

/* Decodes a PNG (any bit depth / color type) into 8-bit RGB, or RGBA when the file has
 * alpha (tRNS or an alpha channel). `name` labels errors. */
enum mvot_status mvot_png_decode(const uint8_t *data, size_t len, const char *name,
                                 struct mvot_image *out, struct mvot_error *err);
enum mvot_status mvot_png_read_file(const char *path, struct mvot_image *out,
                                    struct mvot_error *err);

struct mvot_png_opts {
    int zlib_level;    /* 0..9 */
    int zlib_strategy; /* Z_DEFAULT_STRATEGY, Z_RLE, Z_FILTERED, ... */
    int filters;       /* PNG_FILTER_* mask, or 0 for libpng's default */
};
/* The defaults chosen by measurement for our synthetic frames (see BENCHMARKS.md). */
void mvot_png_opts_default(struct mvot_png_opts *o);

/* Encodes into a malloc'd buffer (caller frees). Deterministic: no time or text chunks. */
enum mvot_status mvot_png_encode(const struct mvot_image *img, const struct mvot_png_opts *o,
                                 uint8_t **out, size_t *out_len, struct mvot_error *err);
/* Atomic write of the encoding. o may be NULL for the defaults. */
enum mvot_status mvot_png_write_file(const char *path, const struct mvot_image *img,
                                     const struct mvot_png_opts *o, struct mvot_error *err);

#endif
