/* AVX-512 kernels for the VQGAN (see vqgan_internal.h): the 3x3-conv GEMM, the packed im2col
 * that feeds it, and GroupNorm's affine + swish. Compiled with per-function target
 * attributes, so the build stays baseline x86-64 and the caller checks the CPU at run time.
 *
 * Why our own: Debian's OpenBLAS 0.3.21 picks its Haswell (AVX2) kernels on current AMD
 * EPYC parts that have full-width AVX-512, leaving about half the FLOPs unused, and the
 * library may not steer it (OPENBLAS_CORETYPE is read from the environment at load time).
 * GEMM. The conv's im2col writes B straight into 32-column panels and the weights are packed
 * once at load, so no packing happens per call, and bias and residual are folded into the
 * accumulator initialization.
 *
 * Blocking: the caller builds im2col for one block of 256 K-rows at a time (N x 256 floats,
 * L2-resident) and calls the GEMM on it; for each B panel (256 x 32 floats = 32 KB,
 * L1-resident) the kernel sweeps every 8-row block of A (L2-resident). 16 zmm accumulators hold an
 * 8 x 32 tile of C; each k step is 2 loads of B and 8 broadcast FMAs pairs. The summation order of
 * every C element is fixed (k ascending within blocks, blocks ascending). */
#include "tokenize/vqgan_internal.h"

#include <string.h>

#define MR MVOT_VQ_MR
#define NR MVOT_VQ_NR

size_t mvot_vqgan_packed_a_floats(uint32_t co, uint32_t k)
{
    return (size_t)((co + MR - 1) / MR) * MR * k;
}

void mvot_vqgan_pack_a(const float *w, uint32_t co, uint32_t k, float *out)
{
    uint32_t nmb = (co + MR - 1) / MR;
    for (uint32_t mb = 0; mb < nmb; mb++)
        for (uint32_t kk = 0; kk < k; kk++)
            for (uint32_t r = 0; r < MR; r++) {
                uint32_t row = mb * MR + r;
                out[((size_t)mb * k + kk) * MR + r] = row < co ? w[(size_t)row * k + kk] : 0.0f;
            }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

int mvot_vqgan_have_avx512(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}

__attribute__((target("avx512f"))) static void kernel(int kc, const float *restrict a,
                                                      const float *restrict b, float *restrict c,
                                                      size_t ldc, int rows, int cols, int first,
                                                      int accumulate, const float *bias)
{
    __m512 acc[MR][2];
    __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 m1 = cols >= 32   ? (__mmask16)0xFFFF
                   : cols <= 16 ? (__mmask16)0
                                : (__mmask16)((1u << (cols - 16)) - 1);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        if (i >= rows) {
            acc[i][0] = _mm512_setzero_ps();
            acc[i][1] = _mm512_setzero_ps();
        } else if (first) {
            __m512 bi = _mm512_set1_ps(bias[i]);
            if (accumulate) {
                acc[i][0] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, c + i * ldc), bi);
                acc[i][1] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, c + i * ldc + 16), bi);
            } else {
                acc[i][0] = bi;
                acc[i][1] = bi;
            }
        } else {
            acc[i][0] = _mm512_maskz_loadu_ps(m0, c + i * ldc);
            acc[i][1] = _mm512_maskz_loadu_ps(m1, c + i * ldc + 16);
        }
    }
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_loadu_ps(b + (size_t)k * NR);
        __m512 b1 = _mm512_loadu_ps(b + (size_t)k * NR + 16);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(a[k * MR + i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
        if (i < rows) {
            _mm512_mask_storeu_ps(c + i * ldc, m0, acc[i][0]);
            _mm512_mask_storeu_ps(c + i * ldc + 16, m1, acc[i][1]);
        }
}

void mvot_vqgan_gemm_avx512(const float *ap, uint32_t k, uint32_t k0, uint32_t kc, const float *bp,
                            const float *bias, uint32_t co, uint32_t n, float *c, size_t ldc,
                            int accumulate)
{
    uint32_t npan = (n + NR - 1) / NR, nmb = (co + MR - 1) / MR;
    for (uint32_t p = 0; p < npan; p++) {
        const float *bpan = bp + (size_t)p * kc * NR;
        int cols = (int)(n - p * NR < NR ? n - p * NR : NR);
        for (uint32_t mb = 0; mb < nmb; mb++) {
            const float *apan = ap + ((size_t)mb * k + k0) * MR;
            int rows = (int)(co - mb * MR < MR ? co - mb * MR : MR);
            kernel((int)kc, apan, bpan, c + (size_t)mb * MR * ldc + (size_t)p * NR, ldc, rows, cols,
                   k0 == 0, accumulate, bias + mb * MR);
        }
    }
}

/* e^x, Cephes-style: 2^n * p(r) with |r| <= ln2/2, inputs clamped to [-87, 88]; a few ulp. */
__attribute__((target("avx512f"))) static inline __m512 exp16(__m512 x)
{
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

__attribute__((target("avx512f"))) void mvot_vqgan_affine_avx512(const float *x, float *y, size_t n,
                                                                 float a, float b, int swish)
{
    __m512 va = _mm512_set1_ps(a), vb = _mm512_set1_ps(b), one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), va, vb);
        if (swish) /* v * sigmoid(v) = v / (1 + e^-v) */
            v = _mm512_div_ps(v, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), v))));
        _mm512_mask_storeu_ps(y + i, m, v);
    }
}

__attribute__((target("avx512f"))) void mvot_vqgan_im2col_same_avx512(const float *in, uint32_t h,
                                                                      uint32_t w, uint32_t y0,
                                                                      uint32_t y1, uint32_t k0,
                                                                      uint32_t k1, float *col)
{
    size_t kc = k1 - k0, ncols = (size_t)(y1 - y0) * w, plane = (size_t)h * w;
    __m512 zero = _mm512_setzero_ps();
    for (uint32_t krow = k0; krow < k1; krow++) {
        uint32_t c = krow / 9, t = krow % 9;
        int32_t ky = (int32_t)(t / 3), kx = (int32_t)(t % 3);
        size_t r = krow - k0;
        for (uint32_t oy = y0; oy < y1; oy++) {
            int32_t iy = (int32_t)oy + ky - 1;
            size_t n0 = (size_t)(oy - y0) * w;
            /* The source row shifted by kx - 1; lanes outside [0, w) load as zero
             * (masked-off lanes never touch memory). */
            const float *row = iy >= 0 && (uint32_t)iy < h ? in + c * plane + (size_t)iy * w : NULL;
            for (uint32_t ox = 0; ox < w; ox += 16) {
                size_t n = n0 + ox;
                float *dst = col + ((n >> 5) * kc + r) * 32 + (n & 31);
                __m512 v = zero;
                if (row) {
                    int32_t s = (int32_t)ox + kx - 1;
                    uint32_t mask = 0xFFFF;
                    if (s < 0)
                        mask &= ~1u;
                    if ((uint32_t)(s + 16) > w)
                        mask &= (1u << (w - (uint32_t)s)) - 1;
                    v = _mm512_maskz_loadu_ps((__mmask16)mask, row + s);
                }
                _mm512_storeu_ps(dst, v);
            }
        }
        if (ncols & 31) /* zero the upper half of the last panel */
            _mm512_storeu_ps(col + ((ncols >> 5) * kc + r) * 32 + 16, zero);
    }
}

#else

int mvot_vqgan_have_avx512(void)
{
    return 0;
}

void mvot_vqgan_gemm_avx512(const float *ap, uint32_t k, uint32_t k0, uint32_t kc, const float *bp,
                            const float *bias, uint32_t co, uint32_t n, float *c, size_t ldc,
                            int accumulate)
{
    /* Never called: mvot_vqgan_have_avx512() is 0 on this target. */
    (void)ap, (void)k, (void)k0, (void)kc, (void)bp, (void)bias, (void)co, (void)n, (void)c;
    (void)ldc, (void)accumulate;
}

void mvot_vqgan_affine_avx512(const float *x, float *y, size_t n, float a, float b, int swish)
{
    (void)x, (void)y, (void)n, (void)a, (void)b, (void)swish;
}

void mvot_vqgan_im2col_same_avx512(const float *in, uint32_t h, uint32_t w, uint32_t y0,
                                   uint32_t y1, uint32_t k0, uint32_t k1, float *col)
{
    (void)in, (void)h, (void)w, (void)y0, (void)y1, (void)k0, (void)k1, (void)col;
}

#endif
