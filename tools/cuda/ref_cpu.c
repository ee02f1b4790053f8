/* CPU references for the tools/cuda kernels; see ref_cpu.h. */
#include "tools/cuda/ref_cpu.h"

#include <math.h>

void mvot_ref_nearest(const float *vec, uint32_t K, uint32_t D, const float *q, size_t n,
                      int32_t *codes, double *best, double *second)
{
    for (size_t i = 0; i < n; i++) {
        double b = INFINITY, s2 = INFINITY;
        int32_t bk = 0;
        for (uint32_t k = 0; k < K; k++) {
            double s = 0;
            for (uint32_t d = 0; d < D; d++) {
                double t = (double)q[i * D + d] - (double)vec[(size_t)k * D + d];
                s += t * t;
            }
            if (s < b) {
                s2 = b;
                b = s;
                bk = (int32_t)k;
            } else if (s < s2) {
                s2 = s;
            }
        }
        codes[i] = bk;
        if (best)
            best[i] = b;
        if (second)
            second[i] = s2;
    }
}

void mvot_ref_patchify(const uint8_t *rgb, size_t n, uint32_t S, uint32_t P, float *out)
{
    uint32_t g = S / P, D = P * P * 3;
    for (size_t img = 0; img < n; img++)
        for (uint32_t py = 0; py < g; py++)
            for (uint32_t px = 0; px < g; px++) {
                float *o = out + ((img * g + py) * g + px) * D;
                for (uint32_t y = 0; y < P; y++)
                    for (uint32_t x = 0; x < P; x++)
                        for (uint32_t c = 0; c < 3; c++)
                            o[(y * P + x) * 3 + c] =
                                rgb[((img * S + py * P + y) * S + px * P + x) * 3 + c];
            }
}

void mvot_ref_patch_decode(const float *vec, uint32_t P, uint32_t S, const int32_t *codes, size_t n,
                           uint8_t *rgb)
{
    uint32_t g = S / P, D = P * P * 3;
    for (size_t img = 0; img < n; img++)
        for (uint32_t Y = 0; Y < S; Y++)
            for (uint32_t X = 0; X < S; X++)
                for (uint32_t c = 0; c < 3; c++) {
                    int32_t code = codes[(img * g + Y / P) * g + X / P];
                    float v = floorf(vec[(size_t)code * D + ((Y % P) * P + X % P) * 3 + c] + 0.5f);
                    v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
                    rgb[((img * S + Y) * S + X) * 3 + c] = (uint8_t)v;
                }
}
