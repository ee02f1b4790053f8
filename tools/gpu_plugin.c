/* Loader of the GPU module (tools/gpu_plugin.h) and the forwarders of tools/cuda/gpu_vq.h.
 *
 * The module is opened once (pthread_once) with RTLD_NOW | RTLD_LOCAL and checked: the
 * symbol MVOT_GPU_API_SYMBOL, the ABI number, the table size and the version must all match
 * this binary, so a stale module from another build is refused with a reason rather than
 * called with the wrong layout. The forwarders load on first use; without a module, the
 * *_free functions do nothing (the pointers they get can only be NULL then), status
 * functions fail with MVOT_ERR_UNSUPPORTED and the reason, mvot_gpu_device_count() returns 0. */
#include "tools/gpu_plugin.h"

#include <stdio.h>

#ifndef MVOT_HAVE_CUDA

int mvot_gpu_plugin_load(char *why, size_t cap)
{
    if (why && cap)
        snprintf(why, cap, "CUDA support was not compiled in");
    return 0;
}

#else /* MVOT_HAVE_CUDA */

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cuda/gpu_vq.h"

#define MODULE_NAME "libmvot-cuda.so"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const struct mvot_gpu_api *loaded;
static char reason[9216]; /* holds two paths of up to 4 KB */

/* Opens `path` and checks its table; 0 on success, else fills reason. */
static int open_module(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    const struct mvot_gpu_api *(*get)(void);
    const struct mvot_gpu_api *a;
    if (!h) {
        const char *e = dlerror();
        snprintf(reason, sizeof reason, "%s", e ? e : path);
        return -1;
    }
    /* object-to-function pointer: implementation-defined in C, required to work by POSIX */
    get = (const struct mvot_gpu_api *(*)(void))dlsym(h, MVOT_GPU_API_SYMBOL);
    a = get ? get() : NULL;
    if (!a) {
        snprintf(reason, sizeof reason, "%s has no %s", path, MVOT_GPU_API_SYMBOL);
    } else if (a->abi != MVOT_GPU_API_ABI || a->size != sizeof *a ||
               strcmp(a->version, MVOT_VERSION) != 0) {
        snprintf(reason, sizeof reason,
                 "%s is from another build (API %u, %u bytes, version %s; want %u, %zu, %s)", path,
                 a->abi, a->size, a->version, MVOT_GPU_API_ABI, sizeof *a, MVOT_VERSION);
    } else {
        loaded = a;
        return 0; /* kept open for the life of the process */
    }
    dlclose(h);
    return -1;
}

static void load_once(void)
{
    const char *env = getenv("MVOT_GPU_PLUGIN");
    char exe[4096], path[4200];
    ssize_t n;
    char *slash;
    if (env && *env) {
        open_module(env);
        return;
    }
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || (size_t)n >= sizeof exe - 1) {
        snprintf(reason, sizeof reason, "cannot read /proc/self/exe to find %s", MODULE_NAME);
        return;
    }
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    /* A module that exists but does not open (no libcudart, say) is the answer: a second
     * copy would fail the same way and hide the first reason. */
    snprintf(path, sizeof path, "%s/cuda/%s", exe, MODULE_NAME);
    if (access(path, F_OK) == 0) {
        open_module(path);
        return;
    }
    snprintf(path, sizeof path, "%s/%s", exe, MODULE_NAME);
    if (access(path, F_OK) == 0) {
        open_module(path);
        return;
    }
#ifdef MVOT_PLUGIN_LIBDIR
    /* installed: <prefix>/bin/mvot and <prefix>/<libdir>/libmvot-cuda.so */
    snprintf(path, sizeof path, "%s/../%s/%s", exe, MVOT_PLUGIN_LIBDIR, MODULE_NAME);
    if (access(path, F_OK) == 0) {
        open_module(path);
        return;
    }
    snprintf(reason, sizeof reason, "no %s in %.900s/cuda, beside mvot or in ../%s", MODULE_NAME,
             exe, MVOT_PLUGIN_LIBDIR);
#else
    snprintf(reason, sizeof reason, "no %s in %s/cuda or %s", MODULE_NAME, exe, exe);
#endif
}

int mvot_gpu_plugin_load(char *why, size_t cap)
{
    pthread_once(&once, load_once);
    if (loaded)
        return 1;
    if (why && cap)
        snprintf(why, cap, "CUDA support is not available: %s", reason);
    return 0;
}

/* ---- forwarders ------------------------------------------------------------------------ */

static const struct mvot_gpu_api *api(void)
{
    return mvot_gpu_plugin_load(NULL, 0) ? loaded : NULL;
}

static enum mvot_status unavailable(struct mvot_error *err)
{
    return mvot_error_set(err, MVOT_ERR_UNSUPPORTED, "gpu", "CUDA support is not available: %s",
                          reason);
}

void mvot_gpu_opts_default(struct mvot_gpu_opts *o)
{
    if (api())
        loaded->opts_default(o);
    else
        memset(o, 0, sizeof *o);
}

int mvot_gpu_device_count(char *why, size_t whycap)
{
    if (api())
        return loaded->device_count(why, whycap);
    mvot_gpu_plugin_load(why, whycap);
    return 0;
}

enum mvot_status mvot_gpu_create(const struct mvot_gpu_opts *opts, struct mvot_gpu **out,
                                 struct mvot_error *err)
{
    *out = NULL;
    return api() ? loaded->create(opts, out, err) : unavailable(err);
}

void mvot_gpu_free(struct mvot_gpu *g)
{
    if (g)
        loaded->gpu_free(g);
}

void mvot_gpu_describe(const struct mvot_gpu *g, char *buf, size_t cap)
{
    if (api())
        loaded->describe(g, buf, cap);
    else
        mvot_gpu_plugin_load(buf, cap);
}

int mvot_gpu_tf32(const struct mvot_gpu *g)
{
    return g ? loaded->tf32(g) : 0;
}

void mvot_gpu_timing_get(const struct mvot_gpu *g, struct mvot_gpu_timing *out)
{
    if (g)
        loaded->timing_get(g, out);
    else
        memset(out, 0, sizeof *out);
}

void mvot_gpu_timing_reset(struct mvot_gpu *g)
{
    if (g)
        loaded->timing_reset(g);
}

/* Every handle below was made through the module, so a non-NULL one implies it is loaded. */
enum mvot_status mvot_gpu_codebook_create(struct mvot_gpu *g, const float *vec, uint32_t K,
                                          uint32_t D, struct mvot_gpu_codebook **out,
                                          struct mvot_error *err)
{
    *out = NULL;
    return g ? loaded->codebook_create(g, vec, K, D, out, err) : unavailable(err);
}

void mvot_gpu_codebook_free(struct mvot_gpu_codebook *cb)
{
    if (cb)
        loaded->codebook_free(cb);
}

enum mvot_status mvot_gpu_nearest(struct mvot_gpu *g, const struct mvot_gpu_codebook *cb,
                                  const float *queries, size_t n, int32_t *codes,
                                  struct mvot_error *err)
{
    return g ? loaded->nearest(g, cb, queries, n, codes, err) : unavailable(err);
}

enum mvot_status mvot_gpu_nearest_bench(struct mvot_gpu *g, const struct mvot_gpu_codebook *cb,
                                        const float *host_queries, size_t n, int iters,
                                        size_t chunk_rows, double *search_ms, double *gemm_ms,
                                        struct mvot_error *err)
{
    return g ? loaded->nearest_bench(g, cb, host_queries, n, iters, chunk_rows, search_ms, gemm_ms,
                                     err)
             : unavailable(err);
}

enum mvot_status mvot_gpu_patchvq_create(struct mvot_gpu *g, const float *vec, uint32_t K,
                                         uint32_t P, uint32_t S, struct mvot_gpu_patchvq **out,
                                         struct mvot_error *err)
{
    *out = NULL;
    return g ? loaded->patchvq_create(g, vec, K, P, S, out, err) : unavailable(err);
}

void mvot_gpu_patchvq_free(struct mvot_gpu_patchvq *pv)
{
    if (pv)
        loaded->patchvq_free(pv);
}

enum mvot_status mvot_gpu_patchvq_encode(struct mvot_gpu_patchvq *pv, const uint8_t *rgb, size_t n,
                                         int32_t *codes, struct mvot_error *err)
{
    return pv ? loaded->patchvq_encode(pv, rgb, n, codes, err) : unavailable(err);
}

enum mvot_status mvot_gpu_patchvq_decode(struct mvot_gpu_patchvq *pv, const int32_t *codes,
                                         size_t n, uint8_t *rgb, struct mvot_error *err)
{
    return pv ? loaded->patchvq_decode(pv, codes, n, rgb, err) : unavailable(err);
}

enum mvot_status mvot_gpu_vqgan_load(struct mvot_gpu *g, const char *path,
                                     struct mvot_gpu_vqgan **out, struct mvot_error *err)
{
    *out = NULL;
    return g ? loaded->vqgan_load(g, path, out, err) : unavailable(err);
}

void mvot_gpu_vqgan_free(struct mvot_gpu_vqgan *m)
{
    if (m)
        loaded->vqgan_free(m);
}

void mvot_gpu_vqgan_get_info(const struct mvot_gpu_vqgan *m, struct mvot_gpu_vqgan_info *out)
{
    if (m)
        loaded->vqgan_get_info(m, out);
    else
        memset(out, 0, sizeof *out);
}

void mvot_gpu_vqgan_set_batch(struct mvot_gpu_vqgan *m, uint32_t batch)
{
    if (m)
        loaded->vqgan_set_batch(m, batch);
}

enum mvot_status mvot_gpu_vqgan_encode(struct mvot_gpu_vqgan *m, const uint8_t *rgb, size_t n,
                                       uint32_t S, int32_t *codes, float *latent,
                                       struct mvot_error *err)
{
    return m ? loaded->vqgan_encode(m, rgb, n, S, codes, latent, err) : unavailable(err);
}

enum mvot_status mvot_gpu_vqgan_encode_f32(struct mvot_gpu_vqgan *m, const float *chw, size_t n,
                                           uint32_t S, int32_t *codes, float *latent,
                                           struct mvot_error *err)
{
    return m ? loaded->vqgan_encode_f32(m, chw, n, S, codes, latent, err) : unavailable(err);
}

#endif /* MVOT_HAVE_CUDA */
