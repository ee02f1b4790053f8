/* Synthetic grid-world frames for the codebook and patch-VQ tests and benchmarks: a white
 * S x S frame with an n x n grid of black walls (cells a multiple of 16 px, like gen's),
 * flat-colored cells, and anti-aliased discs (4x4 supersampled coverage, so edges produce many
 * distinct patches). Deterministic in (seed, index). Header-only; include once per test file. */
#ifndef MVOT_TESTS_CODEBOOK_SYNTH_H
#define MVOT_TESTS_CODEBOOK_SYNTH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/png.h"
#include "core/rng.h"

static const uint8_t synth_palette[6][3] = {{255, 255, 255}, {200, 230, 255}, {30, 60, 160},
                                            {250, 220, 120}, {120, 200, 120}, {230, 80, 60}};

static void synth_fill(struct mvot_image *im, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
                       const uint8_t *c)
{
    for (uint32_t y = y0; y < y1 && y < im->h; y++)
        for (uint32_t x = x0; x < x1 && x < im->w; x++)
            memcpy(im->px + ((size_t)y * im->w + x) * 3, c, 3);
}

/* Disc of radius r at (cx, cy), color c blended by 4x4 supersampled coverage. */
static void synth_disc(struct mvot_image *im, double cx, double cy, double r, const uint8_t *c)
{
    for (int y = (int)(cy - r - 1); y <= (int)(cy + r + 1); y++)
        for (int x = (int)(cx - r - 1); x <= (int)(cx + r + 1); x++) {
            if (x < 0 || y < 0 || x >= (int)im->w || y >= (int)im->h)
                continue;
            int cov = 0;
            for (int sy = 0; sy < 4; sy++)
                for (int sx = 0; sx < 4; sx++) {
                    double dx = x + (sx + 0.5) / 4 - cx, dy = y + (sy + 0.5) / 4 - cy;
                    cov += dx * dx + dy * dy <= r * r;
                }
            uint8_t *p = im->px + ((size_t)y * im->w + (size_t)x) * 3;
            for (int k = 0; k < 3; k++)
                p[k] = (uint8_t)((p[k] * (16 - cov) + c[k] * cov + 8) / 16);
        }
}

/* Frame `index` of a synthetic set. grid_max bounds the grid size (3..grid_max). */
static int synth_frame(uint64_t seed, uint64_t index, uint32_t S, uint32_t grid_max,
                       struct mvot_image *im)
{
    struct mvot_rng r;
    mvot_rng_derive(&r, seed, 0x73796e7468ULL, index);
    if (mvot_image_init(im, S, S, 3) != MVOT_OK)
        return -1;
    uint32_t n = 3 + (uint32_t)mvot_rng_below(&r, grid_max - 2);
    uint32_t cell = S / n / 16 * 16, wall = 2 + (uint32_t)mvot_rng_below(&r, 3);
    synth_fill(im, 0, 0, S, S, synth_palette[0]);
    for (uint32_t gy = 0; gy < n; gy++)
        for (uint32_t gx = 0; gx < n; gx++) {
            uint32_t c = (uint32_t)mvot_rng_below(&r, 6);
            if (c >= 3 && mvot_rng_below(&r, 2))
                c = 0;
            synth_fill(im, gx * cell, gy * cell, (gx + 1) * cell, (gy + 1) * cell,
                       synth_palette[c]);
        }
    static const uint8_t black[3] = {0, 0, 0};
    for (uint32_t k = 0; k <= n; k++) {
        uint32_t o = k * cell;
        synth_fill(im, o > wall / 2 ? o - wall / 2 : 0, 0, o + wall - wall / 2, S, black);
        synth_fill(im, 0, o > wall / 2 ? o - wall / 2 : 0, S, o + wall - wall / 2, black);
    }
    uint32_t discs = 1 + (uint32_t)mvot_rng_below(&r, 3);
    for (uint32_t d = 0; d < discs; d++) {
        uint32_t gx = (uint32_t)mvot_rng_below(&r, n), gy = (uint32_t)mvot_rng_below(&r, n);
        double rad = cell * (0.15 + 0.2 * mvot_rng_unit(&r));
        synth_disc(im, gx * cell + cell / 2.0, gy * cell + cell / 2.0, rad,
                   synth_palette[5 - d % 2]);
    }
    return 0;
}

/* Frames 0..n-1 of a synthetic set (S x S, grids 3..grid_max); free with synth_frames_free. */
static inline struct mvot_image *synth_frames(size_t n, uint32_t S, uint32_t grid_max,
                                              uint64_t seed)
{
    struct mvot_image *f = calloc(n ? n : 1, sizeof *f);
    for (size_t i = 0; f && i < n; i++)
        synth_frame(seed, i, S, grid_max, &f[i]);
    return f;
}

static inline void synth_frames_free(struct mvot_image *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++)
        mvot_image_free(&f[i]);
    free(f);
}

#endif
