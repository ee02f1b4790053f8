/* Naive float64 VQGAN encoder reference; see ref_vqgan.h. Tensors are read by name on
 * demand (prefix "model.vqmodel." or none); activations are C x H x W double arrays. */
#include "tools/cuda/ref_vqgan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/safetensors.h"
#include "tools/cuda/ref_cpu.h"

struct act {
    int C, H, W;
    double *v;
};

struct ctx {
    struct mvot_safetensors *st;
    const char *prefix;
    const char *path;
    struct mvot_error *err;
    int failed;
};

static float *get(struct ctx *x, const char *name, int64_t *numel, int64_t *dim0)
{
    char full[256];
    snprintf(full, sizeof full, "%s%s", x->prefix, name);
    const struct mvot_tensor *t = mvot_st_find(x->st, full);
    if (!t) {
        if (!x->failed)
            mvot_error_set(x->err, MVOT_ERR_NOTFOUND, x->path, "tensor %s missing", full);
        x->failed = 1;
        return NULL;
    }
    int64_t n = mvot_tensor_numel(t);
    float *f = malloc((size_t)n * sizeof(float));
    if (!f || mvot_tensor_to_f32(t, f, x->err) != MVOT_OK) {
        free(f);
        x->failed = 1;
        return NULL;
    }
    if (numel)
        *numel = n;
    if (dim0)
        *dim0 = t->shape[0];
    return f;
}

static int has(struct ctx *x, const char *name)
{
    char full[256];
    snprintf(full, sizeof full, "%s%s", x->prefix, name);
    return mvot_st_find(x->st, full) != NULL;
}

static struct act mk(int C, int H, int W)
{
    struct act a = {C, H, W, calloc((size_t)C * H * W, sizeof(double))};
    return a;
}

/* mode 0: 3x3 pad 1 (or 1x1 when k == 1); mode 1: pad right/bottom by 1, stride 2. */
static struct act conv(struct ctx *x, const char *name, const struct act *in, int mode)
{
    char b1[200], b2[200];
    int64_t nw = 0, cout = 0;
    snprintf(b1, sizeof b1, "%s.weight", name);
    snprintf(b2, sizeof b2, "%s.bias", name);
    float *w = get(x, b1, &nw, &cout);
    float *b = get(x, b2, NULL, NULL);
    struct act o = {0, 0, 0, NULL};
    if (!w || !b || !in->v)
        goto done;
    int k = (int)lround(sqrt((double)nw / (double)(cout * in->C)));
    int Ho = mode == 1 ? in->H / 2 : in->H, Wo = mode == 1 ? in->W / 2 : in->W;
    o = mk((int)cout, Ho, Wo);
    if (!o.v)
        goto done;
    /* Loop order (co, ci, ky, kx, oy, ox): each weight is read once and the inner loop runs
     * along an output row, so the compiler vectorizes it. Same sums, float64 throughout. */
    for (int co = 0; co < o.C; co++) {
        double *op = o.v + (size_t)co * Ho * Wo;
        for (int i = 0; i < Ho * Wo; i++)
            op[i] = b[co];
        for (int ci = 0; ci < in->C; ci++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) {
                    double wv = w[((size_t)(co * in->C + ci) * k + ky) * k + kx];
                    const double *ip = in->v + (size_t)ci * in->H * in->W;
                    for (int oy = 0; oy < Ho; oy++) {
                        int iy = k == 1 ? oy : mode == 0 ? oy + ky - 1 : 2 * oy + ky;
                        if (iy < 0 || iy >= in->H)
                            continue;
                        for (int ox = 0; ox < Wo; ox++) {
                            int ix = k == 1 ? ox : mode == 0 ? ox + kx - 1 : 2 * ox + kx;
                            if (ix < 0 || ix >= in->W)
                                continue;
                            op[(size_t)oy * Wo + ox] += wv * ip[(size_t)iy * in->W + ix];
                        }
                    }
                }
    }
done:
    free(w);
    free(b);
    return o;
}

static struct act gnorm(struct ctx *x, const char *name, const struct act *in, int swish)
{
    char b1[200], b2[200];
    snprintf(b1, sizeof b1, "%s.weight", name);
    snprintf(b2, sizeof b2, "%s.bias", name);
    float *g = get(x, b1, NULL, NULL), *b = get(x, b2, NULL, NULL);
    struct act o = {0, 0, 0, NULL};
    if (!g || !b || !in->v)
        goto done;
    o = mk(in->C, in->H, in->W);
    if (!o.v)
        goto done;
    size_t HW = (size_t)in->H * in->W;
    int cpg = in->C / 32;
    for (int gi = 0; gi < 32; gi++) {
        const double *p = in->v + (size_t)gi * cpg * HW;
        size_t n = (size_t)cpg * HW;
        double mean = 0, var = 0;
        for (size_t i = 0; i < n; i++)
            mean += p[i];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++)
            var += (p[i] - mean) * (p[i] - mean);
        var /= (double)n;
        double r = 1.0 / sqrt(var + 1e-6);
        for (size_t i = 0; i < n; i++) {
            int c = gi * cpg + (int)(i / HW);
            double v = (p[i] - mean) * r * g[c] + b[c];
            if (swish)
                v = v / (1.0 + exp(-v));
            o.v[(size_t)gi * cpg * HW + i] = v;
        }
    }
done:
    free(g);
    free(b);
    return o;
}

static void addto(struct act *a, const struct act *b)
{
    if (!a->v || !b->v)
        return;
    for (size_t i = 0; i < (size_t)a->C * a->H * a->W; i++)
        a->v[i] += b->v[i];
}

static struct act resblock(struct ctx *x, const char *name, struct act *in)
{
    char b[200];
    snprintf(b, sizeof b, "%s.norm1", name);
    struct act h1 = gnorm(x, b, in, 1);
    snprintf(b, sizeof b, "%s.conv1", name);
    struct act h2 = conv(x, b, &h1, 0);
    free(h1.v);
    snprintf(b, sizeof b, "%s.norm2", name);
    struct act h3 = gnorm(x, b, &h2, 1);
    free(h2.v);
    snprintf(b, sizeof b, "%s.conv2", name);
    struct act h4 = conv(x, b, &h3, 0);
    free(h3.v);
    snprintf(b, sizeof b, "%s.nin_shortcut.weight", name);
    if (has(x, b)) {
        snprintf(b, sizeof b, "%s.nin_shortcut", name);
        struct act s = conv(x, b, in, 0);
        addto(&h4, &s);
        free(s.v);
    } else {
        addto(&h4, in);
    }
    return h4;
}

static struct act attn(struct ctx *x, struct act *in)
{
    struct act h = gnorm(x, "encoder.mid.attn_1.norm", in, 0);
    struct act q = conv(x, "encoder.mid.attn_1.q", &h, 0);
    struct act k = conv(x, "encoder.mid.attn_1.k", &h, 0);
    struct act v = conv(x, "encoder.mid.attn_1.v", &h, 0);
    struct act o = mk(in->C, in->H, in->W), r = {0, 0, 0, NULL};
    int N = in->H * in->W, C = in->C;
    double *w = malloc((size_t)N * sizeof(double));
    if (q.v && k.v && v.v && o.v && w) {
        double scale = 1.0 / sqrt((double)C);
        for (int i = 0; i < N; i++) {
            double m = -INFINITY, sum = 0;
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int c = 0; c < C; c++)
                    s += q.v[(size_t)c * N + i] * k.v[(size_t)c * N + j];
                w[j] = s * scale;
                m = w[j] > m ? w[j] : m;
            }
            for (int j = 0; j < N; j++) {
                w[j] = exp(w[j] - m);
                sum += w[j];
            }
            for (int c = 0; c < C; c++) {
                double s = 0;
                for (int j = 0; j < N; j++)
                    s += v.v[(size_t)c * N + j] * w[j];
                o.v[(size_t)c * N + i] = s / sum;
            }
        }
        r = conv(x, "encoder.mid.attn_1.proj_out", &o, 0);
        addto(&r, in);
    } else {
        x->failed = 1;
    }
    free(w);
    free(h.v);
    free(q.v);
    free(k.v);
    free(v.v);
    free(o.v);
    return r;
}

enum mvot_status mvot_ref_vqgan_encode(const char *path, const float *pixels, uint32_t S,
                                       int32_t *codes, float *latent, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct ctx x = {NULL, "model.vqmodel.", path, err, 0};
    struct act a = {0, 0, 0, NULL}, t;
    float *cb = NULL, *zq = NULL;
    char b[200];
    MVOT_TRY(mvot_st_open(path, &x.st, err));
    if (!has(&x, "encoder.conv_in.weight"))
        x.prefix = "";
    a = mk(3, (int)S, (int)S);
    MVOT_FAIL_IF(!a.v, err, MVOT_ERR_NOMEM, path, "out of memory");
    for (size_t i = 0; i < (size_t)3 * S * S; i++)
        a.v[i] = pixels[i];
    t = conv(&x, "encoder.conv_in", &a, 0);
    free(a.v);
    a = t;
    for (int l = 0;; l++) {
        snprintf(b, sizeof b, "encoder.down.%d.block.0.conv1.weight", l);
        if (!has(&x, b))
            break;
        for (int j = 0;; j++) {
            snprintf(b, sizeof b, "encoder.down.%d.block.%d.conv1.weight", l, j);
            if (!has(&x, b))
                break;
            snprintf(b, sizeof b, "encoder.down.%d.block.%d", l, j);
            t = resblock(&x, b, &a);
            free(a.v);
            a = t;
        }
        snprintf(b, sizeof b, "encoder.down.%d.downsample.conv.weight", l);
        if (has(&x, b)) {
            snprintf(b, sizeof b, "encoder.down.%d.downsample.conv", l);
            t = conv(&x, b, &a, 1);
            free(a.v);
            a = t;
        }
    }
    t = resblock(&x, "encoder.mid.block_1", &a);
    free(a.v);
    a = t;
    t = attn(&x, &a);
    free(a.v);
    a = t;
    t = resblock(&x, "encoder.mid.block_2", &a);
    free(a.v);
    a = t;
    t = gnorm(&x, "encoder.norm_out", &a, 1);
    free(a.v);
    a = t;
    t = conv(&x, "encoder.conv_out", &a, 0);
    free(a.v);
    a = t;
    t = conv(&x, "quant_conv", &a, 0);
    free(a.v);
    a = t;
    MVOT_FAIL_IF(x.failed || !a.v, err, err && err->code ? err->code : MVOT_ERR_NOMEM, path, "%s",
                 err && err->msg[0] ? err->msg : "reference encoder failed");
    {
        int64_t nk = 0, K = 0;
        cb = get(&x, "quantize.embedding.weight", &nk, &K);
        MVOT_FAIL_IF(!cb, err, MVOT_ERR_NOTFOUND, path, "quantize.embedding.weight missing");
        size_t N = (size_t)a.H * a.W, D = (size_t)a.C;
        zq = malloc(N * D * sizeof(float));
        MVOT_FAIL_IF(!zq, err, MVOT_ERR_NOMEM, path, "out of memory");
        for (size_t n = 0; n < N; n++)
            for (size_t d = 0; d < D; d++)
                zq[n * D + d] = (float)a.v[d * N + n];
        if (latent)
            for (size_t i = 0; i < N * D; i++)
                latent[i] = (float)a.v[i];
        /* The quantizer sees the float latent, as every implementation does. */
        mvot_ref_nearest(cb, (uint32_t)K, (uint32_t)D, zq, N, codes, NULL, NULL);
    }
cleanup:
    free(a.v);
    free(cb);
    free(zq);
    mvot_st_close(x.st);
    return st;
}
