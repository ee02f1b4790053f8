/* Shared setup for the cuda-labelled tests: skip (exit 77, one line) without a device, and
 * small deterministic data generators. Header-only; each test includes it once. */
#ifndef MVOT_TOOLS_CUDA_TEST_GPU_COMMON_H
#define MVOT_TOOLS_CUDA_TEST_GPU_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "core/rng.h"
#include "tools/cuda/gpu_vq.h"

static struct mvot_gpu *t_gpu_ctx[2]; /* [0]: FP32, [1]: TF32 */

/* First test of every executable: makes the contexts or skips the whole run. */
__attribute__((unused)) static void t_gpu_setup(void)
{
    char why[256];
    struct mvot_error err = {0};
    if (mvot_gpu_device_count(why, sizeof why) == 0) {
        printf("skip: %s\n", why);
        exit(77);
    }
    for (int i = 0; i < 2; i++) {
        struct mvot_gpu_opts o;
        mvot_gpu_opts_default(&o);
        o.tf32 = i;
        o.conv = MVOT_GPU_CONV_CUDNN; /* exercise cuDNN where it loads; im2col is the default */
        if (mvot_gpu_create(&o, &t_gpu_ctx[i], &err) != MVOT_OK) {
            printf("skip: %s\n", err.msg);
            exit(77);
        }
    }
    char desc[256];
    mvot_gpu_describe(t_gpu_ctx[0], desc, sizeof desc);
    printf("device: %s\n", desc);
}

__attribute__((unused)) static void t_gpu_teardown(void)
{
    mvot_gpu_free(t_gpu_ctx[0]);
    mvot_gpu_free(t_gpu_ctx[1]);
}

static inline float t_unif(struct mvot_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)mvot_rng_unit(r);
}

#endif
