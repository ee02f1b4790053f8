/* Drawing primitives over struct mvot_image (8-bit RGB), shared by the frame renderer and the
 * contact sheet of `mvot show`. All geometry is integer (quarter-pixel units for shapes), so
 * output bytes do not depend on the compiler's floating-point contraction or the CPU. Text
 * uses a built-in 5x7 bitmap font (printable ASCII) drawn at an integer scale: no font files. */
#ifndef MVOT_GEN_RENDER_H
#define MVOT_GEN_RENDER_H

#include <stdint.h>

#include "core/png.h"

struct mvot_rgb {
    uint8_t r, g, b;
};

/* Filled rectangle [x0,x1) x [y0,y1) in pixels, clipped to the image. */
void mvot_draw_rect(struct mvot_image *img, int x0, int y0, int x1, int y1, struct mvot_rgb c);

/* Outline of the rectangle [x0,x1) x [y0,y1), t px thick, drawn inside it, clipped. */
void mvot_draw_outline(struct mvot_image *img, int x0, int y0, int x1, int y1, int t,
                       struct mvot_rgb c);

/* Shapes in quarter-pixel units (pixel (x,y) has its centre at (4x+2, 4y+2)). */
#define MVOT_Q 4
void mvot_draw_ellipse(struct mvot_image *img, int cx, int cy, int rx, int ry, struct mvot_rgb c);
/* Segment with round caps, total width w. */
void mvot_draw_line(struct mvot_image *img, int x0, int y0, int x1, int y1, int w,
                    struct mvot_rgb c);
/* Filled triangle (either winding). */
void mvot_draw_triangle(struct mvot_image *img, const int xy[6], struct mvot_rgb c);

/* Text at pixel (x, y) = top-left, each font pixel a scale x scale block, 6*scale advance.
 * Capitals are MVOT_GLYPH_H rows high; g, j, p, q, y reach MVOT_GLYPH_DESC rows further
 * down, so lines need MVOT_LINE_H * scale px. Characters outside printable ASCII draw as '?'. */
void mvot_draw_text(struct mvot_image *img, int x, int y, int scale, const char *s,
                    struct mvot_rgb c);
/* The same with separate horizontal and vertical scales (for squashed frames). */
void mvot_draw_text_xy(struct mvot_image *img, int x, int y, int sx, int sy, const char *s,
                       struct mvot_rgb c);
int mvot_text_width(const char *s, int scale);
#define MVOT_GLYPH_W 5
#define MVOT_GLYPH_H 7
#define MVOT_GLYPH_DESC 2
#define MVOT_LINE_H (MVOT_GLYPH_H + MVOT_GLYPH_DESC + 1) /* font rows per line of text */

#endif
