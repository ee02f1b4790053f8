/* Chameleon image preprocessing, bit-exact with HF ChameleonImageProcessor (docs/chameleon.md §3):
 * RGBA composited on white in float64, Pillow's LANCZOS resize of the shortest edge to S
 * (Pillow's 22-bit fixed-point two-pass resampler, reproduced byte for byte), floor center
 * crop to S x S, then pixel values f32(f32(u8 * 0.0078) - 1) in planar CHW order.
 * Every function is pure and thread-safe; output images are initialized by the call and
 * owned by the caller (mvot_image_free). */
#ifndef MVOT_TOKENIZE_IMGPREP_H
#define MVOT_TOKENIZE_IMGPREP_H

#include <stdint.h>

#include "core/png.h"
#include "core/status.h"

/* Chameleon's rescale factor (a literal 0.0078, not 1/127.5). */
#define MVOT_IMGPREP_RESCALE 0.0078

/* The size HF resizes to: the shortest edge becomes S and the long edge int(S*long/short).
 * Squares map to S x S. */
void mvot_imgprep_resize_dims(uint32_t w, uint32_t h, uint32_t S, uint32_t *out_w, uint32_t *out_h);

/* RGB or RGBA in, RGB out. RGBA with any alpha < 255 is composited on white as
 * uint8((1 - a/255) * 255 + (a/255) * c) in float64; otherwise alpha is dropped. */
enum mvot_status mvot_imgprep_to_rgb(const struct mvot_image *in, struct mvot_image *out,
                                     struct mvot_error *err);

/* Pillow Image.resize((w, h), LANCZOS) on an RGB image (3 channels; 4-channel input is
 * rejected: composite first). A pass whose size is unchanged is skipped, like Pillow. */
enum mvot_status mvot_imgprep_resize_lanczos(const struct mvot_image *in, uint32_t w, uint32_t h,
                                             struct mvot_image *out, struct mvot_error *err);

/* The whole uint8 part: to_rgb, resize (skipped when already right), floor center crop.
 * `out` becomes S x S RGB. */
enum mvot_status mvot_imgprep_prepare(const struct mvot_image *in, uint32_t S,
                                      struct mvot_image *out, struct mvot_error *err);

/* S x S x 3 interleaved uint8 -> 3 x S x S planar floats f32(f32(u8*0.0078) - 1). */
void mvot_imgprep_normalize(const uint8_t *rgb, uint32_t S, float *chw_out);

/* prepare + normalize. chw_out holds 3*S*S floats. */
enum mvot_status mvot_imgprep_to_tensor(const struct mvot_image *in, uint32_t S, float *chw_out,
                                        struct mvot_error *err);

/* Postprocess: 3 x S x S planar floats -> S x S RGB, uint8(clip((x + 1) / 0.0078, 0, 255))
 * with truncation; NaN maps to 0. `out` is initialized by the call. */
enum mvot_status mvot_imgprep_from_tensor(const float *chw, uint32_t S, struct mvot_image *out,
                                          struct mvot_error *err);

#endif
