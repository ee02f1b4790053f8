/* Random-weight VQGAN checkpoints; see vqgan_rand.h. Tensors are generated in a fixed
 * order from one seeded stream per tensor (mvot_rng_derive on the tensor index), written
 * with mvot_st_write. */
#include "tools/cuda/vqgan_rand.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

#define RAND_DOMAIN 0x76716761ull /* "vqga" */
#define MAX_T 256

struct tlist {
    struct mvot_tensor_out t[MAX_T];
    char *names[MAX_T];
    void *data[MAX_T];
    size_t n;
    const struct mvot_vqgan_rand_opts *o;
    int failed;
};

/* kind 0: conv weight (uniform, variance 1/fan_in), 1: bias (U(-0.05, 0.05)), 2: norm
 * gamma (1 + U(-0.1, 0.1)), 3: norm beta (U(-0.1, 0.1)), 4: codebook (U(-1, 1)). */
static void add(struct tlist *L, const char *name, int ndim, const int64_t *shape, int kind)
{
    if (L->failed || L->n >= MAX_T) {
        L->failed = 1;
        return;
    }
    size_t numel = 1;
    for (int i = 0; i < ndim; i++)
        numel *= (size_t)shape[i];
    size_t esz = L->o->dtype == MVOT_DT_F32 ? 4 : 2;
    char full[256];
    snprintf(full, sizeof full, "%s%s", L->o->prefix ? "model.vqmodel." : "", name);
    L->names[L->n] = strdup(full);
    L->data[L->n] = malloc(numel * esz);
    if (!L->names[L->n] || !L->data[L->n]) {
        free(L->names[L->n]);
        free(L->data[L->n]);
        L->failed = 1;
        return;
    }
    struct mvot_rng r;
    mvot_rng_derive(&r, L->o->seed, RAND_DOMAIN, L->n);
    double a = 0.1;
    if (kind == 0) {
        size_t fan_in = numel / (size_t)shape[0];
        a = sqrt(3.0 / (double)fan_in);
    }
    for (size_t i = 0; i < numel; i++) {
        double u = 2.0 * mvot_rng_unit(&r) - 1.0;
        double v = kind == 0   ? a * u
                   : kind == 1 ? 0.05 * u
                   : kind == 2 ? 1.0 + 0.1 * u
                   : kind == 3 ? 0.1 * u
                               : u;
        if (L->o->dtype == MVOT_DT_F32) {
            ((float *)L->data[L->n])[i] = (float)v;
        } else if (L->o->dtype == MVOT_DT_BF16) {
            ((uint16_t *)L->data[L->n])[i] = mvot_f32_to_bf16((float)v);
        } else {
            /* f16: round to a value exactly representable (12 bits of mantissa is plenty
             * for weights in [-2, 2]) and encode by hand. */
            float f = (float)v;
            uint32_t bits;
            memcpy(&bits, &f, 4);
            uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
            float af = fabsf(f);
            uint16_t h;
            if (af < 6.1035156e-05f) {
                h = (uint16_t)lrintf(af / 5.9604645e-08f);
            } else {
                int e;
                float m = frexpf(af, &e); /* af = m * 2^e, m in [0.5, 1) */
                uint32_t mant = (uint32_t)lrintf((m * 2.0f - 1.0f) * 1024.0f);
                int ex = e - 1 + 15;
                if (mant == 1024) {
                    mant = 0;
                    ex++;
                }
                h = (uint16_t)((ex << 10) | mant);
            }
            ((uint16_t *)L->data[L->n])[i] = (uint16_t)(sign | h);
        }
    }
    struct mvot_tensor_out *t = &L->t[L->n];
    t->name = L->names[L->n];
    t->dtype = L->o->dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->data = L->data[L->n];
    L->n++;
}

static void conv(struct tlist *L, const char *name, int64_t cout, int64_t cin, int64_t k)
{
    char buf[200];
    int64_t ws[4] = {cout, cin, k, k}, bs[1] = {cout};
    snprintf(buf, sizeof buf, "%s.weight", name);
    add(L, buf, 4, ws, 0);
    snprintf(buf, sizeof buf, "%s.bias", name);
    add(L, buf, 1, bs, 1);
}

static void norm(struct tlist *L, const char *name, int64_t c)
{
    char buf[200];
    int64_t s[1] = {c};
    snprintf(buf, sizeof buf, "%s.weight", name);
    add(L, buf, 1, s, 2);
    snprintf(buf, sizeof buf, "%s.bias", name);
    add(L, buf, 1, s, 3);
}

static void resblock(struct tlist *L, const char *name, int64_t cin, int64_t cout)
{
    char buf[200];
    snprintf(buf, sizeof buf, "%s.norm1", name);
    norm(L, buf, cin);
    snprintf(buf, sizeof buf, "%s.conv1", name);
    conv(L, buf, cout, cin, 3);
    snprintf(buf, sizeof buf, "%s.norm2", name);
    norm(L, buf, cout);
    snprintf(buf, sizeof buf, "%s.conv2", name);
    conv(L, buf, cout, cout, 3);
    if (cin != cout) {
        snprintf(buf, sizeof buf, "%s.nin_shortcut", name);
        conv(L, buf, cout, cin, 1);
    }
}

void mvot_vqgan_rand_opts_default(struct mvot_vqgan_rand_opts *o)
{
    o->ch = 128;
    o->z_channels = 256;
    o->K = 8192;
    o->D = 256;
    o->seed = 1;
    o->dtype = MVOT_DT_F32;
    o->prefix = 1;
}

enum mvot_status mvot_vqgan_rand_write(const char *path, const struct mvot_vqgan_rand_opts *o,
                                       struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    static const uint32_t mult[5] = {1, 1, 2, 2, 4};
    struct tlist *L = calloc(1, sizeof *L);
    char buf[200];
    int64_t c, cprev;
    MVOT_FAIL_IF(!L, err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_FAIL_IF(o->ch == 0 || o->ch % 32 != 0 || o->z_channels == 0 || o->K == 0 || o->D == 0, err,
                 MVOT_ERR_INVALID, path, "bad random VQGAN shape (ch %u must be a multiple of 32)",
                 o->ch);
    L->o = o;
    conv(L, "encoder.conv_in", o->ch, 3, 3);
    cprev = o->ch;
    for (int l = 0; l < 5; l++) {
        c = (int64_t)o->ch * mult[l];
        for (int j = 0; j < 2; j++) {
            snprintf(buf, sizeof buf, "encoder.down.%d.block.%d", l, j);
            resblock(L, buf, j == 0 ? cprev : c, c);
        }
        if (l < 4) {
            snprintf(buf, sizeof buf, "encoder.down.%d.downsample.conv", l);
            conv(L, buf, c, c, 3);
        }
        cprev = c;
    }
    resblock(L, "encoder.mid.block_1", cprev, cprev);
    norm(L, "encoder.mid.attn_1.norm", cprev);
    conv(L, "encoder.mid.attn_1.q", cprev, cprev, 1);
    conv(L, "encoder.mid.attn_1.k", cprev, cprev, 1);
    conv(L, "encoder.mid.attn_1.v", cprev, cprev, 1);
    conv(L, "encoder.mid.attn_1.proj_out", cprev, cprev, 1);
    resblock(L, "encoder.mid.block_2", cprev, cprev);
    norm(L, "encoder.norm_out", cprev);
    conv(L, "encoder.conv_out", o->z_channels, cprev, 3);
    conv(L, "quant_conv", o->D, o->z_channels, 1);
    {
        int64_t s[2] = {o->K, o->D};
        add(L, "quantize.embedding.weight", 2, s, 4);
    }
    MVOT_FAIL_IF(L->failed, err, MVOT_ERR_NOMEM, path, "out of memory building tensors");
    MVOT_TRY(mvot_st_write(path, L->t, L->n, NULL, err));
cleanup:
    if (L) {
        for (size_t i = 0; i < L->n; i++) {
            free(L->names[i]);
            free(L->data[i]);
        }
        free(L);
    }
    return st;
}
