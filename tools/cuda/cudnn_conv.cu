// Optional cuDNN convolutions for the VQGAN encoder (docs/cuda.md, "cuDNN convolutions").
//
// Compiled against cudnn.h only when CMake finds it (MVOT_HAVE_CUDNN); libcudnn is never
// linked: it is dlopen()ed when a context is created ($MVOT_CUDNN_LIB when set, then
// libcudnn.so.9, libcudnn.so, then the file CMake found beside the toolkit), so the module
// still loads where there is no cuDNN. Any
// failure (no library, wrong major version, cudnnCreate, no usable algorithm, a failed
// call) returns 0 and the caller runs its im2col + cuBLAS path instead; the first failure
// disables cuDNN for the context and keeps its reason for mvot_gpu_describe.
//
// Math: FP32 contexts use CUDNN_FMA_MATH (CUDNN_DEFAULT_MATH permits TF32 on Ampere and
// later) and exclude the FFT algorithms, whose rounding error is larger; TF32 contexts use
// CUDNN_DEFAULT_MATH, which on Ampere and later allows TF32 tensor cores (as PyTorch does
// with allow_tf32). Results that would convert to FP16 are never taken. The algorithm for each
// shape is measured once with cudnnFindConvolutionForwardAlgorithmEx on a scratch output (the real
// output already holds bias + residual) and cached; out = conv(in) + out (beta = 1), as the GEMM
// path.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tools/cuda/gpu_internal.cuh"

#ifdef MVOT_HAVE_CUDNN
#include <cudnn.h>
#include <dlfcn.h>

#define WS_BYTES ((size_t)256 << 20)

namespace
{

struct algo_key {
    int v[16];
};
struct algo_entry {
    algo_key key;
    cudnnConvolutionFwdAlgo_t algo;
    cudnnMathType_t math;
    size_t ws;
    int packed; // 1: through packed NCHW copies (the strided layout was refused)
};

} // namespace

struct mvot_gpu_cudnn {
    void *lib;
    cudnnHandle_t h;
    size_t version;
    void *ws;
    float *xbuf, *ybuf; // packed NCHW copies (only when the strided layout is refused)
    size_t xcap, ycap;
    std::vector<algo_entry> *cache;
#define F(name) decltype(&::name) name
    F(cudnnGetVersion);
    F(cudnnGetErrorString);
    F(cudnnCreate);
    F(cudnnDestroy);
    F(cudnnSetStream);
    F(cudnnCreateTensorDescriptor);
    F(cudnnSetTensor4dDescriptorEx);
    F(cudnnDestroyTensorDescriptor);
    F(cudnnCreateFilterDescriptor);
    F(cudnnSetFilter4dDescriptor);
    F(cudnnDestroyFilterDescriptor);
    F(cudnnCreateConvolutionDescriptor);
    F(cudnnSetConvolution2dDescriptor);
    F(cudnnSetConvolutionMathType);
    F(cudnnDestroyConvolutionDescriptor);
    F(cudnnFindConvolutionForwardAlgorithmEx);
    F(cudnnConvolutionForward);
#undef F
};

static void disable(struct mvot_gpu *g, const char *what, cudnnStatus_t s)
{
    snprintf(g->dnn_why, sizeof g->dnn_why, "%s: %s", what,
             g->dnn && g->dnn->cudnnGetErrorString ? g->dnn->cudnnGetErrorString(s) : "failed");
    mvot_gpu_cudnn_free(g);
}

void mvot_gpu_cudnn_init(struct mvot_gpu *g)
{
    const char *env = getenv("MVOT_CUDNN_LIB");
#ifdef MVOT_CUDNN_BUILD_LIB
    const char *built = MVOT_CUDNN_BUILD_LIB; // found at configure time, tried last
#else
    const char *built = NULL;
#endif
    const char *names[4] = {env && env[0] ? env : NULL, "libcudnn.so.9", "libcudnn.so", built};
    char first_err[96] = "not found";
    struct mvot_gpu_cudnn *d;
    void *lib = NULL;
    cudnnStatus_t s;
    g->dnn_why[0] = 0;
    for (int i = 0; i < 4 && !lib; i++) {
        if (!names[i])
            continue;
        // NODELETE: cuDNN is never unmapped (it may leave exit handlers and threads behind),
        // so contexts can come and go.
        lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!lib && i <= 1) { // MVOT_CUDNN_LIB's error, else libcudnn.so.9's
            const char *e = dlerror();
            if (e && !strcmp(first_err, "not found"))
                snprintf(first_err, sizeof first_err, "%s", e);
        }
    }
    if (!lib) {
        snprintf(g->dnn_why, sizeof g->dnn_why, "libcudnn not loaded: %s", first_err);
        return;
    }
    d = new (std::nothrow) mvot_gpu_cudnn();
    if (!d) {
        dlclose(lib);
        snprintf(g->dnn_why, sizeof g->dnn_why, "out of memory");
        return;
    }
    d->lib = lib;
    g->dnn = d;
#define F(name)                                                                  \
    do {                                                                         \
        d->name = (decltype(d->name))dlsym(lib, #name);                          \
        if (!d->name) {                                                          \
            snprintf(g->dnn_why, sizeof g->dnn_why, "libcudnn lacks %s", #name); \
            mvot_gpu_cudnn_free(g);                                              \
            return;                                                              \
        }                                                                        \
    } while (0)
    F(cudnnGetVersion);
    F(cudnnGetErrorString);
    F(cudnnCreate);
    F(cudnnDestroy);
    F(cudnnSetStream);
    F(cudnnCreateTensorDescriptor);
    F(cudnnSetTensor4dDescriptorEx);
    F(cudnnDestroyTensorDescriptor);
    F(cudnnCreateFilterDescriptor);
    F(cudnnSetFilter4dDescriptor);
    F(cudnnDestroyFilterDescriptor);
    F(cudnnCreateConvolutionDescriptor);
    F(cudnnSetConvolution2dDescriptor);
    F(cudnnSetConvolutionMathType);
    F(cudnnDestroyConvolutionDescriptor);
    F(cudnnFindConvolutionForwardAlgorithmEx);
    F(cudnnConvolutionForward);
#undef F
    d->version = d->cudnnGetVersion();
    if (d->version / 10000 != CUDNN_MAJOR) {
        snprintf(g->dnn_why, sizeof g->dnn_why, "libcudnn version %zu, built for %d.x", d->version,
                 CUDNN_MAJOR);
        mvot_gpu_cudnn_free(g);
        return;
    }
    s = d->cudnnCreate(&d->h);
    if (s != CUDNN_STATUS_SUCCESS) {
        d->h = NULL;
        disable(g, "cudnnCreate", s);
        return;
    }
    s = d->cudnnSetStream(d->h, g->stream);
    if (s != CUDNN_STATUS_SUCCESS) {
        disable(g, "cudnnSetStream", s);
        return;
    }
    d->cache = new (std::nothrow) std::vector<algo_entry>();
    if (!d->cache || cudaMalloc(&d->ws, WS_BYTES) != cudaSuccess) {
        d->ws = NULL;
        cudaGetLastError();
        snprintf(g->dnn_why, sizeof g->dnn_why, "cannot allocate the cuDNN workspace");
        mvot_gpu_cudnn_free(g);
    }
}

void mvot_gpu_cudnn_free(struct mvot_gpu *g)
{
    struct mvot_gpu_cudnn *d = g->dnn;
    if (!d)
        return;
    if (d->h)
        d->cudnnDestroy(d->h);
    if (d->ws)
        cudaFree(d->ws);
    cudaFree(d->xbuf);
    cudaFree(d->ybuf);
    delete d->cache;
    dlclose(d->lib);
    delete d;
    g->dnn = NULL;
}

int mvot_gpu_cudnn_version(const struct mvot_gpu *g)
{
    return g->dnn ? (int)g->dnn->version : 0;
}

// Packed NCHW copies for the fallback layout: x[i][c][p] = in[i*ns + c*cs + p] ...
__global__ void pack_kernel(const float *__restrict__ in, int n, int C, int HW, int ns, int cs,
                            float *__restrict__ out)
{
    size_t total = (size_t)n * C * HW;
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total;
         o += (size_t)gridDim.x * blockDim.x) {
        size_t p = o % HW, c = (o / HW) % C, i = o / ((size_t)HW * C);
        out[o] = in[i * ns + c * cs + p];
    }
}

// ... and out[i*ns + c*cs + p] += y[i][c][p] on the way back.
__global__ void unpack_add_kernel(const float *__restrict__ y, int n, int C, int HW, int ns, int cs,
                                  float *__restrict__ out)
{
    size_t total = (size_t)n * C * HW;
    for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < total;
         o += (size_t)gridDim.x * blockDim.x) {
        size_t p = o % HW, c = (o / HW) % C, i = o / ((size_t)HW * C);
        out[i * ns + c * cs + p] += y[o];
    }
}

static unsigned grid_for(size_t n)
{
    size_t b = (n + 255) / 256;
    return (unsigned)(b > 262144 ? 262144 : b < 1 ? 1 : b);
}

// Grows one of the packed scratch buffers to at least `floats`.
static int reserve(float **buf, size_t *cap, size_t floats)
{
    if (*cap >= floats)
        return 1;
    cudaFree(*buf);
    *buf = NULL;
    *cap = 0;
    if (cudaMalloc((void **)buf, floats * sizeof(float)) != cudaSuccess) {
        cudaGetLastError();
        *buf = NULL;
        return 0;
    }
    *cap = floats;
    return 1;
}

// Runs Find on the given descriptors and keeps the fastest algorithm allowed in this
// precision (FP32: FMA math, no FFT) whose workspace fits; ne->algo stays COUNT when none.
static cudnnStatus_t find_algo(struct mvot_gpu *g, cudnnTensorDescriptor_t xd, const float *x,
                               cudnnFilterDescriptor_t wd, const float *w,
                               cudnnConvolutionDescriptor_t cd, cudnnTensorDescriptor_t yd,
                               float *y, algo_entry *ne, int *got)
{
    struct mvot_gpu_cudnn *d = g->dnn;
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    cudnnStatus_t s;
    *got = 0;
    ne->algo = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
    s = d->cudnnSetConvolutionMathType(cd, g->tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH);
    if (s != CUDNN_STATUS_SUCCESS)
        return s;
    s = d->cudnnFindConvolutionForwardAlgorithmEx(d->h, xd, x, wd, w, cd, yd, y,
                                                  CUDNN_CONVOLUTION_FWD_ALGO_COUNT, got, perf,
                                                  d->ws, WS_BYTES);
    if (s != CUDNN_STATUS_SUCCESS)
        return s;
    for (int i = 0; i < *got; i++) {
        const cudnnConvolutionFwdAlgoPerf_t &p = perf[i];
        if (p.status != CUDNN_STATUS_SUCCESS || p.memory > WS_BYTES ||
            p.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION) // would round to FP16
            continue;
        if (!g->tf32 &&
            (p.mathType == CUDNN_TENSOR_OP_MATH || p.algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT ||
             p.algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING))
            continue;
        ne->algo = p.algo;
        ne->math = g->tf32 ? p.mathType : CUDNN_FMA_MATH;
        ne->ws = p.memory;
        break;
    }
    return CUDNN_STATUS_SUCCESS;
}

int mvot_gpu_cudnn_conv(struct mvot_gpu *g, const struct mvot_gpu_conv_geom *c, const float *in,
                        const float *w, float *out)
{
    struct mvot_gpu_cudnn *d = g->dnn;
    cudnnTensorDescriptor_t xd = NULL, yd = NULL, xpd = NULL, ypd = NULL;
    cudnnFilterDescriptor_t wd = NULL;
    cudnnConvolutionDescriptor_t cd = NULL;
    cudnnStatus_t s = CUDNN_STATUS_SUCCESS;
    const char *what = "descriptors";
    const algo_entry *e = NULL;
    float one = 1.0f, zero = 0.0f;
    int ok = 0, strided = 0;
    size_t xn = (size_t)c->n * c->cin * c->h * c->w, yn = (size_t)c->n * c->cout * c->ho * c->wo;
    algo_key key;
    if (!d)
        return 0;
    memset(&key, 0, sizeof key);
    {
        int v[16] = {c->n,  c->cin, c->h,    c->w,    c->x_ns, c->x_cs,   c->cout, c->k,
                     c->ho, c->wo,  c->y_ns, c->y_cs, c->pad,  c->stride, g->tf32, 0};
        memcpy(key.v, v, sizeof v);
    }
#define DNN(call, name)                \
    do {                               \
        what = name;                   \
        s = (call);                    \
        if (s != CUDNN_STATUS_SUCCESS) \
            goto done;                 \
    } while (0)
    DNN(d->cudnnCreateTensorDescriptor(&xd), "cudnnCreateTensorDescriptor");
    DNN(d->cudnnCreateTensorDescriptor(&yd), "cudnnCreateTensorDescriptor");
    DNN(d->cudnnCreateTensorDescriptor(&xpd), "cudnnCreateTensorDescriptor");
    DNN(d->cudnnCreateTensorDescriptor(&ypd), "cudnnCreateTensorDescriptor");
    DNN(d->cudnnCreateFilterDescriptor(&wd), "cudnnCreateFilterDescriptor");
    DNN(d->cudnnCreateConvolutionDescriptor(&cd), "cudnnCreateConvolutionDescriptor");
    // The same tensors as packed NCHW copies, for a cuDNN that refuses the strided layout.
    DNN(d->cudnnSetTensor4dDescriptorEx(xpd, CUDNN_DATA_FLOAT, c->n, c->cin, c->h, c->w,
                                        c->cin * c->h * c->w, c->h * c->w, c->w, 1),
        "cudnnSetTensor4dDescriptorEx(x packed)");
    DNN(d->cudnnSetTensor4dDescriptorEx(ypd, CUDNN_DATA_FLOAT, c->n, c->cout, c->ho, c->wo,
                                        c->cout * c->ho * c->wo, c->ho * c->wo, c->wo, 1),
        "cudnnSetTensor4dDescriptorEx(y packed)");
    DNN(d->cudnnSetFilter4dDescriptor(wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, c->cout, c->cin,
                                      c->k, c->k),
        "cudnnSetFilter4dDescriptor");
    DNN(d->cudnnSetConvolution2dDescriptor(cd, c->pad, c->pad, c->stride, c->stride, 1, 1,
                                           CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
        "cudnnSetConvolution2dDescriptor");
    // Activations are [C][B][H][W]: per image HW-packed planes, strided n and c. A cuDNN
    // that refuses these descriptors gets the packed copies instead (strided = 0).
    strided = d->cudnnSetTensor4dDescriptorEx(xd, CUDNN_DATA_FLOAT, c->n, c->cin, c->h, c->w,
                                              c->x_ns, c->x_cs, c->w, 1) == CUDNN_STATUS_SUCCESS &&
              d->cudnnSetTensor4dDescriptorEx(yd, CUDNN_DATA_FLOAT, c->n, c->cout, c->ho, c->wo,
                                              c->y_ns, c->y_cs, c->wo, 1) == CUDNN_STATUS_SUCCESS;
    for (const algo_entry &a : *d->cache)
        if (!memcmp(&a.key, &key, sizeof key))
            e = &a;
    if (!e) {
        // Measure on a scratch output: Find writes y, and out already holds bias + residual.
        float *ytmp = NULL;
        size_t extent =
            (size_t)(c->cout - 1) * c->y_cs + (size_t)(c->n - 1) * c->y_ns + (size_t)c->ho * c->wo;
        algo_entry ne;
        int got = 0, got_strided = 0;
        ne.key = key;
        ne.packed = 0;
        ne.algo = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
        if (!strided) {
            // packed copies only
        } else if (cudaMalloc((void **)&ytmp, extent * sizeof(float)) == cudaSuccess) {
            s = find_algo(g, xd, in, wd, w, cd, yd, ytmp, &ne, &got_strided);
            cudaFree(ytmp);
        } else {
            cudaGetLastError();
        }
        if (ne.algo == CUDNN_CONVOLUTION_FWD_ALGO_COUNT) {
            // Packed NCHW copies around the conv (two transposes, still far cheaper than the
            // conv itself at these sizes).
            if (!reserve(&d->xbuf, &d->xcap, xn) || !reserve(&d->ybuf, &d->ycap, yn)) {
                snprintf(g->dnn_why, sizeof g->dnn_why, "no memory for cuDNN's packed copies");
                goto done_noreason;
            }
            ne.packed = 1;
            DNN(find_algo(g, xpd, d->xbuf, wd, w, cd, ypd, d->ybuf, &ne, &got),
                "cudnnFindConvolutionForwardAlgorithmEx");
        }
        if (ne.algo == CUDNN_CONVOLUTION_FWD_ALGO_COUNT) {
            snprintf(g->dnn_why, sizeof g->dnn_why,
                     "no cuDNN algorithm for conv %dx%d/%d %d->%d at %dx%d (%d strided, %d packed "
                     "results)",
                     c->k, c->k, c->stride, c->cin, c->cout, c->h, c->w, got_strided, got);
            goto done_noreason;
        }
        d->cache->push_back(ne);
        e = &d->cache->back();
    }
    DNN(d->cudnnSetConvolutionMathType(cd, e->math), "cudnnSetConvolutionMathType");
    if (!e->packed && strided) {
        DNN(d->cudnnConvolutionForward(d->h, &one, xd, in, wd, w, cd, e->algo, d->ws, e->ws, &one,
                                       yd, out),
            "cudnnConvolutionForward");
    } else {
        if (!reserve(&d->xbuf, &d->xcap, xn) || !reserve(&d->ybuf, &d->ycap, yn)) {
            snprintf(g->dnn_why, sizeof g->dnn_why, "no memory for cuDNN's packed copies");
            goto done_noreason;
        }
        pack_kernel<<<grid_for(xn), 256, 0, g->stream>>>(in, c->n, c->cin, c->h * c->w, c->x_ns,
                                                         c->x_cs, d->xbuf);
        if (cudaGetLastError() != cudaSuccess) {
            snprintf(g->dnn_why, sizeof g->dnn_why, "pack kernel launch failed");
            goto done_noreason;
        }
        DNN(d->cudnnConvolutionForward(d->h, &one, xpd, d->xbuf, wd, w, cd, e->algo, d->ws, e->ws,
                                       &zero, ypd, d->ybuf),
            "cudnnConvolutionForward");
        unpack_add_kernel<<<grid_for(yn), 256, 0, g->stream>>>(
            d->ybuf, c->n, c->cout, c->ho * c->wo, c->y_ns, c->y_cs, out);
        if (cudaGetLastError() != cudaSuccess) {
            snprintf(g->dnn_why, sizeof g->dnn_why, "unpack kernel launch failed");
            goto done_noreason;
        }
    }
    ok = 1;
#undef DNN
done:
    if (!ok)
        snprintf(g->dnn_why, sizeof g->dnn_why, "%s: %s", what, d->cudnnGetErrorString(s));
done_noreason:
    if (cd)
        d->cudnnDestroyConvolutionDescriptor(cd);
    if (wd)
        d->cudnnDestroyFilterDescriptor(wd);
    if (ypd)
        d->cudnnDestroyTensorDescriptor(ypd);
    if (xpd)
        d->cudnnDestroyTensorDescriptor(xpd);
    if (yd)
        d->cudnnDestroyTensorDescriptor(yd);
    if (xd)
        d->cudnnDestroyTensorDescriptor(xd);
    if (!ok) {
        // Keep the reason, drop the library: every later conv of this context uses im2col.
        char why[sizeof g->dnn_why];
        memcpy(why, g->dnn_why, sizeof why);
        mvot_gpu_cudnn_free(g);
        memcpy(g->dnn_why, why, sizeof why);
    }
    return ok;
}

#else // no cudnn.h at configure time

void mvot_gpu_cudnn_init(struct mvot_gpu *g)
{
    snprintf(g->dnn_why, sizeof g->dnn_why, "built without cudnn.h");
}

void mvot_gpu_cudnn_free(struct mvot_gpu *g)
{
    (void)g;
}

int mvot_gpu_cudnn_version(const struct mvot_gpu *g)
{
    (void)g;
    return 0;
}

int mvot_gpu_cudnn_conv(struct mvot_gpu *g, const struct mvot_gpu_conv_geom *c, const float *in,
                        const float *w, float *out)
{
    (void)g;
    (void)c;
    (void)in;
    (void)w;
    (void)out;
    return 0;
}

#endif
