/* On-demand loading of the GPU code (docs/cuda.md, "Loading"). The mvot binary links no CUDA
 * library: mvot_gpu_plugin_load() dlopen()s libmvot-cuda.so the first time a command needs the
 * GPU, and tools/gpu_plugin.c defines the functions of tools/cuda/gpu_vq.h as forwarders to
 * the module's table, so cmd_gpucheck.c and tools/cuda/gpu_encoder.c call them as before.
 *
 * Where the module is looked for, in order:
 *   $MVOT_GPU_PLUGIN           when set and not empty: that file only (the CPU mock
 *                              libmvot-cuda-mock.so in tests, or a module elsewhere);
 *   DIR/cuda/libmvot-cuda.so   DIR = the directory of the running executable (/proc/self/exe),
 *   DIR/libmvot-cuda.so        i.e. the build tree's tools/cuda/, or beside an installed mvot. */
#ifndef MVOT_TOOLS_GPU_PLUGIN_H
#define MVOT_TOOLS_GPU_PLUGIN_H

#include <stddef.h>

/* 1 when the GPU module is loaded (the first call loads it; thread-safe, the result is kept).
 * Else 0, and `why` (if given) receives one line: "CUDA support was not compiled in" in a
 * build without CUDA, otherwise "CUDA support is not available: <reason>" (module missing,
 * dlopen failure such as a missing libcudart, or a module from another build). A loaded
 * module may still find no device: see mvot_gpu_device_count(). */
int mvot_gpu_plugin_load(char *why, size_t cap);

#endif
