/* CPU-only checks of the references the cuda tests rely on (no GPU needed, no label):
 * the float64 VQGAN reference (ref_vqgan.c) against tokenize/vqgan.c on a random-weight
 * checkpoint (latent max abs error <= 1e-4 * max |z|, codes equal wherever the runner-up is
 * 1e-3 away), and the patch references against tokenize/patchvq.c (identical codes and
 * bytes). Two independent CPU implementations agreeing is what makes either a reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/codebook.h"
#include "core/rng.h"
#include "tests/test.h"
#include "tokenize/imagetok.h"
#include "tokenize/patchvq.h"
#include "tools/cuda/ref_cpu.h"
#include "tools/cuda/ref_vqgan.h"
#include "tools/cuda/vqgan_rand.h"
#include "tokenize/vqgan.h"

static void t_patch_refs(void)
{
    const uint32_t K = 300, P = 16, D = P * P * 3, S = 64, n = 3, g = S / P;
    struct mvot_rng r;
    struct mvot_error err = {0};
    struct mvot_codebook cb = {0};
    struct mvot_patchvq *vq = NULL;
    float *vec = malloc((size_t)K * D * sizeof *vec), *patches = malloc((size_t)n * S * S * 3 * 4);
    uint8_t *img = malloc((size_t)n * S * S * 3), *a = malloc((size_t)S * S * 3),
            *b = malloc((size_t)S * S * 3);
    int32_t *ref = malloc((size_t)n * g * g * 4), *cpu = malloc((size_t)g * g * 4);
    mvot_rng_seed(&r, 3);
    for (size_t i = 0; i < (size_t)K * D; i++)
        vec[i] = (float)mvot_rng_below(&r, 256);
    for (size_t i = 0; i < (size_t)n * S * S * 3; i++)
        img[i] = (uint8_t)mvot_rng_below(&r, 256);
    /* duplicate rows: ties must go to the first index in both */
    memcpy(vec + (size_t)(K - 1) * D, vec + 10 * D, D * sizeof *vec);
    mvot_ref_patchify(img, n, S, P, patches);
    mvot_ref_nearest(vec, K, D, patches, (size_t)n * g * g, ref, NULL, NULL);
    cb.kind = MVOT_CB_PATCH;
    cb.K = K;
    cb.D = D;
    cb.patch = P;
    cb.image_size = S;
    cb.vec = vec;
    ASSERT_OK(mvot_patchvq_create(&cb, 0, &vq, &err), &err);
    for (uint32_t i = 0; vq && i < n; i++) {
        ASSERT_OK(mvot_patchvq_encode(vq, img + (size_t)i * S * S * 3, S, cpu, &err), &err);
        ASSERT_TRUE(memcmp(cpu, ref + (size_t)i * g * g, (size_t)g * g * 4) == 0);
        ASSERT_OK(mvot_patchvq_decode(vq, cpu, S, a, &err), &err);
        mvot_ref_patch_decode(vec, P, S, cpu, 1, b);
        ASSERT_TRUE(memcmp(a, b, (size_t)S * S * 3) == 0);
    }
    mvot_patchvq_free(vq);
    free(vec);
    free(patches);
    free(img);
    free(a);
    free(b);
    free(ref);
    free(cpu);
}

static void t_vqgan_refs(void)
{
    const uint32_t S = 32, N = (S / 16) * (S / 16);
    struct mvot_vqgan_rand_opts o;
    struct mvot_error err = {0};
    struct mvot_vqgan *m = NULL;
    struct mvot_rng r;
    char *dir = t_tmpdir(), path[512];
    float *pix = malloc(3 * S * S * sizeof *pix);
    mvot_vqgan_rand_opts_default(&o);
    o.ch = 32;
    o.z_channels = 64;
    o.K = 256;
    o.D = 64;
    o.dtype = MVOT_DT_BF16;
    snprintf(path, sizeof path, "%s/vq.safetensors", dir);
    ASSERT_OK(mvot_vqgan_rand_write(path, &o, &err), &err);
    mvot_rng_seed(&r, 9);
    for (uint32_t i = 0; i < 3 * S * S; i++)
        pix[i] = (float)((double)mvot_rng_below(&r, 256) * 0.0078) - 1.0f;
    float lr[64 * 4], lc[64 * 4];
    int32_t cr[4], cc[4];
    ASSERT_OK(mvot_ref_vqgan_encode(path, pix, S, cr, lr, &err), &err);
    ASSERT_OK(mvot_vqgan_load(path, NULL, &m, &err), &err);
    if (m)
        ASSERT_OK(mvot_vqgan_encode(m, pix, S, cc, lc, &err), &err);
    double maxerr = 0, maxabs = 0;
    for (uint32_t i = 0; i < 64 * N; i++) {
        maxerr = fmax(maxerr, fabs((double)lr[i] - lc[i]));
        maxabs = fmax(maxabs, fabs(lr[i]));
    }
    printf("  ref_vqgan vs tokenize/vqgan.c: latent max abs err %.3g of %.3g\n", maxerr, maxabs);
    ASSERT_TRUE(maxabs > 0 && maxerr <= 1e-4 * maxabs);
    for (uint32_t i = 0; i < N; i++)
        ASSERT_EQ_INT(cc[i], cr[i]);
    mvot_vqgan_free(m);
    remove(path);
    remove(dir);
    free(dir);
    free(pix);
}

static void t_codebook_file_imagetok(void)
{
    /* The path test_gpu_patchvq takes to reach the CPU tokenizer: save a patch codebook,
     * open it with mvot_imagetok_open, encode, compare with the float64 reference. */
    const uint32_t K = 40, P = 16, D = P * P * 3, S = 128, g = S / P;
    struct mvot_rng r;
    struct mvot_error err = {0};
    struct mvot_codebook cb = {0};
    struct mvot_imagetok *tok = NULL;
    char *dir = t_tmpdir(), path[512];
    float *vec = malloc((size_t)K * D * sizeof *vec), *patches = malloc((size_t)S * S * 3 * 4);
    uint8_t *img = malloc((size_t)S * S * 3);
    int32_t ref[64], cpu[64];
    mvot_rng_seed(&r, 4);
    for (size_t i = 0; i < (size_t)K * D; i++)
        vec[i] = (float)mvot_rng_below(&r, 256);
    for (size_t i = 0; i < (size_t)S * S * 3; i++)
        img[i] = (uint8_t)mvot_rng_below(&r, 256);
    snprintf(path, sizeof path, "%s/cb.safetensors", dir);
    cb.kind = MVOT_CB_PATCH;
    cb.K = K;
    cb.D = D;
    cb.patch = P;
    cb.image_size = S;
    cb.vec = vec;
    ASSERT_OK(mvot_codebook_save(path, &cb, &err), &err);
    ASSERT_OK(mvot_imagetok_open(path, S, 1, &tok, &err), &err);
    mvot_ref_patchify(img, 1, S, P, patches);
    mvot_ref_nearest(vec, K, D, patches, (size_t)g * g, ref, NULL, NULL);
    struct mvot_image im = {S, S, 3, img};
    if (tok) {
        ASSERT_OK(mvot_imagetok_encode(tok, &im, cpu, &err), &err);
        ASSERT_TRUE(memcmp(cpu, ref, sizeof ref) == 0);
    }
    mvot_imagetok_free(tok);
    remove(path);
    remove(dir);
    free(dir);
    free(vec);
    free(patches);
    free(img);
}

TEST_MAIN(t_patch_refs, t_vqgan_refs, t_codebook_file_imagetok)
