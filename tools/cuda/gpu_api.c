/* The one symbol a GPU module exports (gpu_module.map): mvot_gpu_api_v2, the table of
 * gpu_vq.h's functions that tools/gpu_plugin.c finds with dlsym. Compiled into
 * libmvot-cuda.so (the kernels) and libmvot-cuda-mock.so (gpu_mock.c); every other symbol of
 * a module, its own copy of core/ included, stays local, so nothing in it can bind to or
 * replace a symbol of the mvot binary. */
#include "tools/cuda/gpu_vq.h"

static const struct mvot_gpu_api api = {
    .abi = MVOT_GPU_API_ABI,
    .size = sizeof(struct mvot_gpu_api),
    .version = MVOT_VERSION,
    .opts_default = mvot_gpu_opts_default,
    .device_count = mvot_gpu_device_count,
    .create = mvot_gpu_create,
    .gpu_free = mvot_gpu_free,
    .describe = mvot_gpu_describe,
    .tf32 = mvot_gpu_tf32,
    .timing_get = mvot_gpu_timing_get,
    .timing_reset = mvot_gpu_timing_reset,
    .codebook_create = mvot_gpu_codebook_create,
    .codebook_free = mvot_gpu_codebook_free,
    .nearest = mvot_gpu_nearest,
    .nearest_bench = mvot_gpu_nearest_bench,
    .patchvq_create = mvot_gpu_patchvq_create,
    .patchvq_free = mvot_gpu_patchvq_free,
    .patchvq_encode = mvot_gpu_patchvq_encode,
    .patchvq_decode = mvot_gpu_patchvq_decode,
    .vqgan_load = mvot_gpu_vqgan_load,
    .vqgan_free = mvot_gpu_vqgan_free,
    .vqgan_get_info = mvot_gpu_vqgan_get_info,
    .vqgan_set_batch = mvot_gpu_vqgan_set_batch,
    .vqgan_encode = mvot_gpu_vqgan_encode,
    .vqgan_encode_f32 = mvot_gpu_vqgan_encode_f32,
    .conv_path = mvot_gpu_conv_path,
};

const struct mvot_gpu_api *mvot_gpu_api_v2(void)
{
    return &api;
}
