/* The Chameleon/Anole VQGAN on the CPU in fp32 (docs/chameleon.md §4; see vqgan.h).
 *
 * Activations are planar CHW, like PyTorch, so a GroupNorm group is one contiguous run and a
 * 1x1 conv is a plain GEMM. A 3x3 conv is a GEMM W[Co x 9Ci] * col[9Ci x n] over tiles of
 * whole output rows; each tile's im2col is built by the worker that multiplies it, so the
 * column buffer stays small and hot. Zero padding, the stride-2 Downsample (pad right and
 * bottom only) and the decoder's nearest x2 upsample are folded into the im2col index
 * mapping; no padded or upsampled tensor is ever materialized. With AVX-512 the GEMM is ours
 * (vqgan_avx512.c: weights packed at load, im2col written in its panel layout, bias and
 * residual folded into the accumulators); otherwise OpenBLAS sgemm with the output
 * pre-filled with bias (or bias added to the residual) and beta = 1.
 *
 * Threads: tile boundaries depend only on the shapes, never on the thread count, and each
 * output element is produced by exactly one single-threaded GEMM call, so results are
 * bit-identical for any pool size. OpenBLAS's own threading is turned off
 * (openblas_set_num_threads(1), process-wide) when a model is loaded, because the pool
 * already keeps every core busy and nested threading only adds contention. Concurrent calls
 * on one model are safe: the first takes the pool and cached workspace, others run inline. */
#include "tokenize/vqgan.h"

#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checkpoint.h"
#include "core/safetensors.h"
#include "tokenize/vqgan_internal.h"

#define NGROUPS 32
#define GN_EPS 1e-6
#define NLEVELS 5
#define NRES 2
#define MAX_ALLOCS 1024
/* Target columns (output pixels) per conv tile; rounded to whole output rows. */
#define TILE_COLS 256
/* Positions per nearest-code search task. */
#define QTILE 64

static const uint32_t CH_MULT[NLEVELS] = {1, 1, 2, 2, 4};

struct conv {
    float *w;  /* co x (ci * k * k), PyTorch OIHW flattened */
    float *wp; /* 3x3 only, when the CPU has AVX-512: w packed for mvot_vqgan_gemm_avx512 */
    float *b;  /* co */
    uint32_t co, ci, k;
};

struct norm {
    float *g, *b;
    uint32_t c;
};

struct resblock {
    struct norm n1, n2;
    struct conv c1, c2, nin;
    int has_nin;
};

struct attnblock {
    struct norm n;
    struct conv q, k, v, proj;
};

struct mid {
    struct resblock b1, b2;
    struct attnblock attn;
};

/* Scratch memory for one encode/decode: three activation buffers and one im2col buffer per
 * worker. The model caches one workspace (reused under its mutex, so repeated calls do not
 * pay page faults on hundreds of MB); a concurrent call allocates its own. */
struct workspace {
    float *act[3];
    size_t act_cap;
    float **col;
    int ncol;
    size_t col_cap;
};

static void ws_free(struct workspace *ws);

struct mvot_vqgan {
    struct mvot_pool *pool;
    pthread_mutex_t mu; /* guards the pool and the cached workspace */
    struct workspace *ws;
    uint32_t ch, z, K, D;
    int has_decoder;
    int use_avx512; /* 3x3 convs through our AVX-512 GEMM, else OpenBLAS */
    struct conv enc_in, enc_down[NLEVELS - 1], enc_out, quant_conv;
    struct resblock enc_blk[NLEVELS][NRES];
    struct mid enc_mid;
    struct norm enc_norm_out;
    float *codebook, *code_sq; /* K x D, and ||e||^2 per row */
    struct conv post_quant_conv, dec_in, dec_up[NLEVELS], dec_out;
    struct resblock dec_blk[NLEVELS][NRES + 1];
    struct mid dec_mid;
    struct norm dec_norm_out;
    float *allocs[MAX_ALLOCS];
    size_t nallocs;
};

/* ------------------------------------------------------------------------------------------
 * Loading */

struct loader {
    struct mvot_vqgan *m;
    struct mvot_checkpoint *ck; /* any layout of core/checkpoint.h */
    const char *path;
    const char *prefix;
};

/* prefix+name into full; *t is NULL when the checkpoint lacks it (an error only when a
 * shard the index names cannot be read). */
static enum mvot_status find(struct loader *L, const char *name, char *full, size_t cap,
                             const struct mvot_tensor **t, struct mvot_error *err)
{
    snprintf(full, cap, "%s%s", L->prefix, name);
    return mvot_checkpoint_find(L->ck, full, t, err);
}

/* Loads prefix+name as f32 with exactly the given shape. */
static enum mvot_status load_f32(struct loader *L, const char *name, int ndim, const int64_t *shape,
                                 float **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char full[256];
    const struct mvot_tensor *t = NULL;
    float *buf = NULL;
    MVOT_TRY(find(L, name, full, sizeof full, &t, err));
    MVOT_FAIL_IF(!t, err, MVOT_ERR_NOTFOUND, L->path, "missing tensor %s", full);
    MVOT_TRY(mvot_tensor_expect_shape(t, ndim, shape, mvot_checkpoint_file_of(L->ck, full), err));
    MVOT_FAIL_IF(L->m->nallocs == MAX_ALLOCS, err, MVOT_ERR_INTERNAL, L->path, "too many tensors");
    buf = malloc(sizeof(float) * (size_t)mvot_tensor_numel(t));
    MVOT_FAIL_IF(!buf, err, MVOT_ERR_NOMEM, L->path, "tensor %s: out of memory", full);
    L->m->allocs[L->m->nallocs++] = buf;
    MVOT_TRY(mvot_tensor_to_f32(t, buf, err));
    *out = buf;
cleanup:
    return st;
}

static enum mvot_status load_conv(struct loader *L, const char *name, uint32_t co, uint32_t ci,
                                  uint32_t k, struct conv *c, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char nm[224];
    int64_t ws[4] = {co, ci, k, k}, bs[1] = {co};
    c->co = co;
    c->ci = ci;
    c->k = k;
    snprintf(nm, sizeof nm, "%s.weight", name);
    MVOT_TRY(load_f32(L, nm, 4, ws, &c->w, err));
    snprintf(nm, sizeof nm, "%s.bias", name);
    MVOT_TRY(load_f32(L, nm, 1, bs, &c->b, err));
    if (k == 3 && L->m->use_avx512) {
        size_t nf = mvot_vqgan_packed_a_floats(co, ci * 9);
        size_t bytes = (sizeof(float) * nf + 63) / 64 * 64;
        MVOT_FAIL_IF(L->m->nallocs == MAX_ALLOCS, err, MVOT_ERR_INTERNAL, L->path,
                     "too many tensors");
        c->wp = aligned_alloc(64, bytes);
        MVOT_FAIL_IF(!c->wp, err, MVOT_ERR_NOMEM, L->path, "%s: out of memory", name);
        L->m->allocs[L->m->nallocs++] = c->wp;
        mvot_vqgan_pack_a(c->w, co, ci * 9, c->wp);
    }
cleanup:
    return st;
}

static enum mvot_status load_norm(struct loader *L, const char *name, uint32_t c, struct norm *n,
                                  struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char nm[224];
    int64_t s[1] = {c};
    n->c = c;
    snprintf(nm, sizeof nm, "%s.weight", name);
    MVOT_TRY(load_f32(L, nm, 1, s, &n->g, err));
    snprintf(nm, sizeof nm, "%s.bias", name);
    MVOT_TRY(load_f32(L, nm, 1, s, &n->b, err));
cleanup:
    return st;
}

static enum mvot_status load_resblock(struct loader *L, const char *name, uint32_t cin,
                                      uint32_t cout, struct resblock *r, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char nm[224];
    snprintf(nm, sizeof nm, "%s.norm1", name);
    MVOT_TRY(load_norm(L, nm, cin, &r->n1, err));
    snprintf(nm, sizeof nm, "%s.conv1", name);
    MVOT_TRY(load_conv(L, nm, cout, cin, 3, &r->c1, err));
    snprintf(nm, sizeof nm, "%s.norm2", name);
    MVOT_TRY(load_norm(L, nm, cout, &r->n2, err));
    snprintf(nm, sizeof nm, "%s.conv2", name);
    MVOT_TRY(load_conv(L, nm, cout, cout, 3, &r->c2, err));
    r->has_nin = cin != cout;
    if (r->has_nin) {
        snprintf(nm, sizeof nm, "%s.nin_shortcut", name);
        MVOT_TRY(load_conv(L, nm, cout, cin, 1, &r->nin, err));
    }
cleanup:
    return st;
}

static enum mvot_status load_mid(struct loader *L, const char *name, uint32_t c, struct mid *md,
                                 struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char nm[224];
    snprintf(nm, sizeof nm, "%s.mid.block_1", name);
    MVOT_TRY(load_resblock(L, nm, c, c, &md->b1, err));
    snprintf(nm, sizeof nm, "%s.mid.attn_1.norm", name);
    MVOT_TRY(load_norm(L, nm, c, &md->attn.n, err));
    snprintf(nm, sizeof nm, "%s.mid.attn_1.q", name);
    MVOT_TRY(load_conv(L, nm, c, c, 1, &md->attn.q, err));
    snprintf(nm, sizeof nm, "%s.mid.attn_1.k", name);
    MVOT_TRY(load_conv(L, nm, c, c, 1, &md->attn.k, err));
    snprintf(nm, sizeof nm, "%s.mid.attn_1.v", name);
    MVOT_TRY(load_conv(L, nm, c, c, 1, &md->attn.v, err));
    snprintf(nm, sizeof nm, "%s.mid.attn_1.proj_out", name);
    MVOT_TRY(load_conv(L, nm, c, c, 1, &md->attn.proj, err));
    snprintf(nm, sizeof nm, "%s.mid.block_2", name);
    MVOT_TRY(load_resblock(L, nm, c, c, &md->b2, err));
cleanup:
    return st;
}

/* Reads dimension `dim` of a tensor that must exist with `ndim` dimensions. */
static enum mvot_status probe_dim(struct loader *L, const char *name, int ndim, int dim,
                                  uint32_t *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char full[256];
    const struct mvot_tensor *t = NULL;
    MVOT_TRY(find(L, name, full, sizeof full, &t, err));
    MVOT_FAIL_IF(!t, err, MVOT_ERR_NOTFOUND, L->path, "missing tensor %s", full);
    MVOT_FAIL_IF(t->ndim != ndim || t->shape[dim] <= 0 || t->shape[dim] > 65536, err,
                 MVOT_ERR_MISMATCH, mvot_checkpoint_file_of(L->ck, full),
                 "tensor %s: unexpected shape", full);
    *out = (uint32_t)t->shape[dim];
cleanup:
    return st;
}

static enum mvot_status load_encoder(struct loader *L, struct mvot_vqgan *m, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char nm[224];
    uint32_t ch = m->ch, cin = ch;
    MVOT_TRY(load_conv(L, "encoder.conv_in", ch, 3, 3, &m->enc_in, err));
    for (int i = 0; i < NLEVELS; i++) {
        uint32_t cout = ch * CH_MULT[i];
        for (int j = 0; j < NRES; j++) {
            snprintf(nm, sizeof nm, "encoder.down.%d.block.%d", i, j);
            MVOT_TRY(load_resblock(L, nm, cin, cout, &m->enc_blk[i][j], err));
            cin = cout;
        }
        if (i != NLEVELS - 1) {
            snprintf(nm, sizeof nm, "encoder.down.%d.downsample.conv", i);
            MVOT_TRY(load_conv(L, nm, cin, cin, 3, &m->enc_down[i], err));
        }
    }
    MVOT_TRY(load_mid(L, "encoder", cin, &m->enc_mid, err));
    MVOT_TRY(load_norm(L, "encoder.norm_out", cin, &m->enc_norm_out, err));
    MVOT_TRY(load_conv(L, "encoder.conv_out", m->z, cin, 3, &m->enc_out, err));
    MVOT_TRY(load_conv(L, "quant_conv", m->D, m->z, 1, &m->quant_conv, err));
cleanup:
    return st;
}

static enum mvot_status load_decoder(struct loader *L, struct mvot_vqgan *m, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char nm[224];
    uint32_t ch = m->ch, cin = ch * CH_MULT[NLEVELS - 1];
    MVOT_TRY(load_conv(L, "post_quant_conv", m->z, m->D, 1, &m->post_quant_conv, err));
    MVOT_TRY(load_conv(L, "decoder.conv_in", cin, m->z, 3, &m->dec_in, err));
    MVOT_TRY(load_mid(L, "decoder", cin, &m->dec_mid, err));
    for (int i = NLEVELS - 1; i >= 0; i--) {
        uint32_t cout = ch * CH_MULT[i];
        for (int j = 0; j < NRES + 1; j++) {
            snprintf(nm, sizeof nm, "decoder.up.%d.block.%d", i, j);
            MVOT_TRY(load_resblock(L, nm, cin, cout, &m->dec_blk[i][j], err));
            cin = cout;
        }
        if (i != 0) {
            snprintf(nm, sizeof nm, "decoder.up.%d.upsample.conv", i);
            MVOT_TRY(load_conv(L, nm, cin, cin, 3, &m->dec_up[i], err));
        }
    }
    MVOT_TRY(load_norm(L, "decoder.norm_out", cin, &m->dec_norm_out, err));
    MVOT_TRY(load_conv(L, "decoder.conv_out", 3, cin, 3, &m->dec_out, err));
cleanup:
    return st;
}

enum mvot_status mvot_vqgan_load(const char *path, struct mvot_pool *pool, struct mvot_vqgan **out,
                                 struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_vqgan *m = NULL;
    struct loader L = {0};
    char full[256];
    int64_t cb_shape[2];
    *out = NULL;
    m = calloc(1, sizeof(*m));
    MVOT_FAIL_IF(!m, err, MVOT_ERR_NOMEM, path, "out of memory");
    pthread_mutex_init(&m->mu, NULL);
    m->ws = calloc(1, sizeof(*m->ws));
    MVOT_FAIL_IF(!m->ws, err, MVOT_ERR_NOMEM, path, "out of memory");
    m->pool = pool;
    m->use_avx512 = mvot_vqgan_have_avx512();
    const struct mvot_tensor *t = NULL;
    MVOT_TRY(mvot_checkpoint_open(path, &L.ck, err));
    L.m = m;
    L.path = path;
    L.prefix = "model.vqmodel.";
    MVOT_TRY(find(&L, "encoder.conv_in.weight", full, sizeof full, &t, err));
    if (!t)
        L.prefix = "";
    /* Widths come from the file: ch from conv_in, z from conv_out, K x D from the codebook. */
    MVOT_TRY(probe_dim(&L, "encoder.conv_in.weight", 4, 0, &m->ch, err));
    MVOT_TRY(probe_dim(&L, "encoder.conv_out.weight", 4, 0, &m->z, err));
    MVOT_TRY(probe_dim(&L, "quantize.embedding.weight", 2, 0, &m->K, err));
    MVOT_TRY(probe_dim(&L, "quantize.embedding.weight", 2, 1, &m->D, err));
    MVOT_FAIL_IF(m->ch % NGROUPS != 0, err, MVOT_ERR_UNSUPPORTED, path,
                 "encoder.conv_in has %u output channels; GroupNorm(32) needs a multiple of 32",
                 m->ch);
    MVOT_TRY(load_encoder(&L, m, err));
    cb_shape[0] = m->K;
    cb_shape[1] = m->D;
    MVOT_TRY(load_f32(&L, "quantize.embedding.weight", 2, cb_shape, &m->codebook, err));
    m->code_sq = malloc(sizeof(float) * m->K);
    MVOT_FAIL_IF(!m->code_sq, err, MVOT_ERR_NOMEM, path, "out of memory");
    for (uint32_t k = 0; k < m->K; k++) {
        float s = 0.0f;
        for (uint32_t d = 0; d < m->D; d++)
            s += m->codebook[(size_t)k * m->D + d] * m->codebook[(size_t)k * m->D + d];
        m->code_sq[k] = s;
    }
    MVOT_TRY(find(&L, "decoder.conv_in.weight", full, sizeof full, &t, err));
    m->has_decoder = t != NULL;
    if (m->has_decoder)
        MVOT_TRY(load_decoder(&L, m, err));
    /* Our pool supplies the parallelism; see the file comment. */
    openblas_set_num_threads(1);
    *out = m;
    m = NULL;
cleanup:
    mvot_checkpoint_close(L.ck);
    mvot_vqgan_free(m);
    return st;
}

enum mvot_status mvot_vqgan_extract(const char *checkpoint, const char *out, size_t *n_tensors,
                                    struct mvot_error *err)
{
    static const char *const roots[] = {"encoder.", "decoder.", "quantize.", "quant_conv.",
                                        "post_quant_conv."};
    enum mvot_status st = MVOT_OK;
    struct mvot_checkpoint *ck = NULL;
    const char **names = NULL, **all = NULL;
    size_t n = 0, n_all = 0, k = 0;
    struct mvot_tensor_out *t = NULL;
    MVOT_TRY(mvot_checkpoint_open(checkpoint, &ck, err));
    MVOT_TRY(mvot_checkpoint_names(ck, "model.vqmodel.", &names, &n, err));
    if (n == 0) { /* a bare VQGAN: its own top-level modules */
        MVOT_TRY(mvot_checkpoint_names(ck, "", &all, &n_all, err));
        for (size_t i = 0; i < n_all; i++)
            for (size_t r = 0; r < sizeof roots / sizeof roots[0]; r++)
                if (strncmp(all[i], roots[r], strlen(roots[r])) == 0) {
                    all[n++] = all[i];
                    break;
                }
        free(names);
        names = all;
        all = NULL;
    }
    MVOT_FAIL_IF(n == 0, err, MVOT_ERR_NOTFOUND, checkpoint,
                 "no VQGAN tensors (model.vqmodel.*, encoder.*, quantize.*, ...)");
    t = calloc(n, sizeof *t);
    MVOT_FAIL_IF(!t, err, MVOT_ERR_NOMEM, checkpoint, "out of memory");
    for (k = 0; k < n; k++) {
        const struct mvot_tensor *x = NULL;
        MVOT_TRY(mvot_checkpoint_find(ck, names[k], &x, err));
        t[k] = (struct mvot_tensor_out){x->name, x->dtype, x->ndim, {0}, x->data};
        memcpy(t[k].shape, x->shape, sizeof t[k].shape);
    }
    MVOT_TRY(mvot_st_write(out, t, n, NULL, err));
    if (n_tensors)
        *n_tensors = n;
cleanup:
    free(t);
    free(names);
    free(all);
    mvot_checkpoint_close(ck);
    return st;
}

void mvot_vqgan_free(struct mvot_vqgan *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nallocs; i++)
        free(m->allocs[i]);
    free(m->code_sq);
    ws_free(m->ws);
    free(m->ws);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void mvot_vqgan_get_info(const struct mvot_vqgan *m, struct mvot_vqgan_info *out)
{
    out->ch = m->ch;
    out->z_channels = m->z;
    out->K = m->K;
    out->D = m->D;
    out->has_decoder = m->has_decoder;
}

void mvot_vqgan_set_blas_only(struct mvot_vqgan *m, int on)
{
    m->use_avx512 = !on && mvot_vqgan_have_avx512();
}

int mvot_vqgan_uses_avx512(const struct mvot_vqgan *m)
{
    return m->use_avx512;
}

const float *mvot_vqgan_codebook(const struct mvot_vqgan *m)
{
    return m->codebook;
}

/* ------------------------------------------------------------------------------------------
 * Portable elementwise kernels: GroupNorm's apply on CPUs without AVX-512 (the AVX-512 one is
 * in vqgan_avx512.c), and the attention softmax's exp everywhere. */

/* e^x for x in [-87, 88] (clamped), Cephes-style: 2^n * p(r), |r| <= ln2/2; a few ulp. */
static inline float exp_approx(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    /* Round to nearest by the 1.5 * 2^23 trick (no floorf call, no SSE4.1 needed). */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* y = swish(x * a + b) over n values. */
static void affine_swish(const float *restrict x, float *restrict y, size_t n, float a, float b)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i] * a + b;
        y[i] = v / (1.0f + exp_approx(-v));
    }
}

static void affine(const float *restrict x, float *restrict y, size_t n, float a, float b)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * a + b;
}

/* Sum and sum of squares of n floats, in double, via 8 float lanes per block of 512 so the
 * inner loop vectorizes and float rounding stays bounded. */
static void sum_sq(const float *x, size_t n, double *s, double *q)
{
    double ds = 0.0, dq = 0.0;
    size_t i = 0;
    while (i < n) {
        size_t end = n - i > 512 ? i + 512 : n;
        float as[8] = {0}, aq[8] = {0};
        for (; i + 8 <= end; i += 8)
            for (int j = 0; j < 8; j++) {
                as[j] += x[i + j];
                aq[j] += x[i + j] * x[i + j];
            }
        for (; i < end; i++) {
            as[0] += x[i];
            aq[0] += x[i] * x[i];
        }
        for (int j = 0; j < 8; j++) {
            ds += as[j];
            dq += aq[j];
        }
    }
    *s = ds;
    *q = dq;
}

/* ------------------------------------------------------------------------------------------
 * Per-call state: the pool (if this call got it), one im2col buffer per worker, activations. */

struct run {
    const struct mvot_vqgan *m;
    struct mvot_pool *pool;
    float **col; /* one buffer per worker */
    struct workspace *ws;
    struct workspace own;
    int locked;
};

static void run_for(struct run *r, size_t n, mvot_pool_fn fn, void *ctx)
{
    mvot_pool_for(r->pool, n, fn, ctx);
}

/* GroupNorm (+ optional swish): stats per group in parallel, then apply per channel. */
struct gn_job {
    const float *x;
    float *y;
    const struct norm *nm;
    size_t hw;
    double mean[NGROUPS], rstd[NGROUPS];
    int swish, avx512;
};

static void gn_stats_task(void *ctx, size_t g, int worker)
{
    struct gn_job *j = ctx;
    size_t cpg = j->nm->c / NGROUPS, n = cpg * j->hw;
    double s, q;
    (void)worker;
    sum_sq(j->x + g * n, n, &s, &q);
    double mean = s / (double)n, var = q / (double)n - mean * mean;
    j->mean[g] = mean;
    j->rstd[g] = 1.0 / sqrt((var > 0 ? var : 0) + GN_EPS);
}

static void gn_apply_task(void *ctx, size_t c, int worker)
{
    struct gn_job *j = ctx;
    size_t g = c / (j->nm->c / NGROUPS);
    double a = j->rstd[g] * j->nm->g[c];
    float fa = (float)a, fb = (float)(j->nm->b[c] - j->mean[g] * a);
    (void)worker;
    if (j->avx512)
        mvot_vqgan_affine_avx512(j->x + c * j->hw, j->y + c * j->hw, j->hw, fa, fb, j->swish);
    else if (j->swish)
        affine_swish(j->x + c * j->hw, j->y + c * j->hw, j->hw, fa, fb);
    else
        affine(j->x + c * j->hw, j->y + c * j->hw, j->hw, fa, fb);
}

static void group_norm(struct run *r, const struct norm *nm, const float *x, float *y, size_t hw,
                       int swish)
{
    struct gn_job j = {
        .x = x, .y = y, .nm = nm, .hw = hw, .swish = swish, .avx512 = r->m->use_avx512};
    run_for(r, NGROUPS, gn_stats_task, &j);
    run_for(r, nm->c, gn_apply_task, &j);
}

/* Convolution. Modes map an output pixel and a kernel tap to an input pixel. */
enum conv_mode {
    CONV_SAME,  /* 3x3, stride 1, zero pad 1 */
    CONV_DOWN,  /* pad right/bottom by one zero, 3x3 stride 2, no padding (taming Downsample) */
    CONV_UP2,   /* nearest x2 upsample, then 3x3 stride 1 pad 1 (taming Upsample) */
    CONV_POINT, /* 1x1 */
};

struct conv_job {
    struct run *r;
    const struct conv *cv;
    enum conv_mode mode;
    const float *in;
    float *out;
    uint32_t ih, iw, oh, ow;
    uint32_t rows; /* output rows per tile */
    int accumulate;
};

/* Input coordinate for output coordinate o and tap t (0..2), or -1 for a zero. */
static inline int32_t src_coord(enum conv_mode mode, int32_t o, int32_t t, int32_t n)
{
    int32_t u;
    switch (mode) {
    case CONV_SAME: u = o + t - 1; return u >= 0 && u < n ? u : -1;
    case CONV_DOWN: u = 2 * o + t; return u < n ? u : -1;
    case CONV_UP2: u = o + t - 1; return u >= 0 && u < 2 * n ? u >> 1 : -1;
    default: return o;
    }
}

/* K-rows [k0, k1) (row = ci*9 + ky*3 + kx) of the im2col of output rows [y0, y1):
 * unpacked, col[row * ncols + (oy - y0) * ow + ox] (k0 must be 0); with `packed`, the same
 * rows go into ceil(ncols / 32) panels of (k1 - k0) x 32 (the AVX-512 GEMM's B layout, zero
 * past ncols) through an L1-resident row buffer. */
static void im2col(const struct conv_job *j, uint32_t y0, uint32_t y1, uint32_t k0, uint32_t k1,
                   float *col, int packed)
{
    size_t ncols = (size_t)(y1 - y0) * j->ow;
    size_t plane = (size_t)j->ih * j->iw, kc = k1 - k0;
    size_t npan = (ncols + MVOT_VQ_NR - 1) / MVOT_VQ_NR;
    int32_t xmap[3][2048];
    float tmp[2048 + MVOT_VQ_NR];
    memset(tmp, 0, sizeof tmp);
    for (int kx = 0; kx < 3; kx++)
        for (uint32_t ox = 0; ox < j->ow; ox++)
            xmap[kx][ox] = src_coord(j->mode, (int32_t)ox, kx, (int32_t)j->iw);
    for (uint32_t krow = k0; krow < k1; krow++) {
        uint32_t ci = krow / 9, t = krow % 9;
        int ky = (int)(t / 3), kx = (int)(t % 3);
        const float *src = j->in + ci * plane;
        float *dst = packed ? tmp : col + (size_t)krow * ncols;
        const int32_t *xm = xmap[kx];
        for (uint32_t oy = y0; oy < y1; oy++, dst += j->ow) {
            int32_t iy = src_coord(j->mode, (int32_t)oy, ky, (int32_t)j->ih);
            if (iy < 0) {
                memset(dst, 0, sizeof(float) * j->ow);
                continue;
            }
            const float *row = src + (size_t)iy * j->iw;
            if (j->mode == CONV_SAME) {
                /* The common case: a shifted contiguous copy with zero edges. */
                uint32_t lo = kx == 0 ? 1 : 0, hi = kx == 2 ? j->ow - 1 : j->ow;
                if (lo)
                    dst[0] = 0.0f;
                memcpy(dst + lo, row + lo + kx - 1, sizeof(float) * (hi - lo));
                if (hi < j->ow)
                    dst[hi] = 0.0f;
            } else {
                for (uint32_t ox = 0; ox < j->ow; ox++)
                    dst[ox] = xm[ox] < 0 ? 0.0f : row[xm[ox]];
            }
        }
        /* tmp[ncols..) stays zero, so the last panel is zero-padded. */
        for (size_t p = 0; packed && p < npan; p++)
            memcpy(col + (p * kc + (krow - k0)) * MVOT_VQ_NR, tmp + p * MVOT_VQ_NR,
                   sizeof(float) * MVOT_VQ_NR);
    }
}

static void conv_task(void *ctx, size_t tile, int worker)
{
    struct conv_job *j = ctx;
    const struct conv *cv = j->cv;
    uint32_t y0 = (uint32_t)tile * j->rows;
    uint32_t y1 = y0 + j->rows < j->oh ? y0 + j->rows : j->oh;
    size_t ohw = (size_t)j->oh * j->ow, c0 = (size_t)y0 * j->ow;
    int n = (int)((y1 - y0) * j->ow);
    float *out = j->out + c0;
    if (cv->wp && j->r->m->use_avx512 && j->mode != CONV_POINT) {
        /* Bias and residual are folded into the kernel's accumulator setup. */
        float *col = j->r->col[worker];
        uint32_t kdim = cv->ci * 9;
        for (uint32_t k0 = 0; k0 < kdim; k0 += MVOT_VQ_KC) {
            uint32_t k1 = k0 + MVOT_VQ_KC < kdim ? k0 + MVOT_VQ_KC : kdim;
            if (j->mode == CONV_SAME && j->ow % 16 == 0)
                mvot_vqgan_im2col_same_avx512(j->in, j->ih, j->iw, y0, y1, k0, k1, col);
            else
                im2col(j, y0, y1, k0, k1, col, 1);
            mvot_vqgan_gemm_avx512(cv->wp, kdim, k0, k1 - k0, col, cv->b, cv->co, (uint32_t)n, out,
                                   ohw, j->accumulate);
        }
        return;
    }
    for (uint32_t o = 0; o < cv->co; o++) {
        float *dst = out + o * ohw, b = cv->b[o];
        if (j->accumulate)
            for (int i = 0; i < n; i++)
                dst[i] += b;
        else
            for (int i = 0; i < n; i++)
                dst[i] = b;
    }
    if (j->mode == CONV_POINT) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)cv->co, n, (int)cv->ci, 1.0f,
                    cv->w, (int)cv->ci, j->in + c0, (int)ohw, 1.0f, out, (int)ohw);
        return;
    }
    float *col = j->r->col[worker];
    int kdim = (int)cv->ci * 9;
    im2col(j, y0, y1, 0, (uint32_t)kdim, col, 0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)cv->co, n, kdim, 1.0f, cv->w, kdim,
                col, n, 1.0f, out, (int)ohw);
}

static uint32_t tile_rows(uint32_t ow)
{
    return ow >= TILE_COLS ? 1 : TILE_COLS / ow;
}

/* out = conv(in) + bias, or out += conv(in) + bias when accumulate (the residual path). */
static void conv2d(struct run *r, const struct conv *cv, enum conv_mode mode, const float *in,
                   uint32_t ih, uint32_t iw, float *out, int accumulate)
{
    struct conv_job j = {.r = r,
                         .cv = cv,
                         .mode = mode,
                         .in = in,
                         .out = out,
                         .ih = ih,
                         .iw = iw,
                         .accumulate = accumulate};
    j.oh = mode == CONV_DOWN ? ih / 2 : mode == CONV_UP2 ? ih * 2 : ih;
    j.ow = mode == CONV_DOWN ? iw / 2 : mode == CONV_UP2 ? iw * 2 : iw;
    j.rows = tile_rows(j.ow);
    run_for(r, (j.oh + j.rows - 1) / j.rows, conv_task, &j);
}

/* Activation buffers: x is the residual stream, t and y are scratch; all hold `cap` floats. */
struct acts {
    float *x, *t, *y;
    uint32_t c, h, w;
};

static void swap(float **a, float **b)
{
    float *t = *a;
    *a = *b;
    *b = t;
}

static void resblock(struct run *r, const struct resblock *b, struct acts *a)
{
    size_t hw = (size_t)a->h * a->w;
    group_norm(r, &b->n1, a->x, a->t, hw, 1);
    conv2d(r, &b->c1, CONV_SAME, a->t, a->h, a->w, a->y, 0);
    group_norm(r, &b->n2, a->y, a->t, hw, 1);
    if (b->has_nin) {
        conv2d(r, &b->nin, CONV_POINT, a->x, a->h, a->w, a->y, 0);
        conv2d(r, &b->c2, CONV_SAME, a->t, a->h, a->w, a->y, 1);
        swap(&a->x, &a->y);
    } else {
        conv2d(r, &b->c2, CONV_SAME, a->t, a->h, a->w, a->x, 1);
    }
    a->c = b->c2.co;
}

struct attn_job {
    const float *q, *k, *v;
    float *s, *o;
    uint32_t c, hw, rows;
    float scale;
};

/* Query rows [i0, i1): scores, softmax over keys, then o[:, i0:i1] = v * p^T. */
static void attn_task(void *ctx, size_t tile, int worker)
{
    struct attn_job *j = ctx;
    uint32_t i0 = (uint32_t)tile * j->rows;
    uint32_t i1 = i0 + j->rows < j->hw ? i0 + j->rows : j->hw;
    int n = (int)(i1 - i0), hw = (int)j->hw;
    float *s = j->s + (size_t)i0 * j->hw;
    (void)worker;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, hw, (int)j->c, 1.0f, j->q + i0, hw,
                j->k, hw, 0.0f, s, hw);
    for (int i = 0; i < n; i++) {
        float *row = s + (size_t)i * j->hw, mx = -INFINITY, sum = 0.0f;
        for (int k = 0; k < hw; k++) {
            row[k] *= j->scale;
            mx = row[k] > mx ? row[k] : mx;
        }
        for (int k = 0; k < hw; k++) {
            row[k] = exp_approx(row[k] - mx);
            sum += row[k];
        }
        float inv = 1.0f / sum;
        for (int k = 0; k < hw; k++)
            row[k] *= inv;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)j->c, n, hw, 1.0f, j->v, hw, s, hw,
                0.0f, j->o + i0, hw);
}

static void attnblock(struct run *r, const struct attnblock *b, struct acts *a)
{
    size_t hw = (size_t)a->h * a->w, chw = a->c * hw;
    struct attn_job j = {.c = a->c, .hw = (uint32_t)hw, .rows = 32};
    float *q = a->y, *k = q + chw, *v = k + chw, *o = v + chw, *s = o + chw;
    group_norm(r, &b->n, a->x, a->t, hw, 0);
    conv2d(r, &b->q, CONV_POINT, a->t, a->h, a->w, q, 0);
    conv2d(r, &b->k, CONV_POINT, a->t, a->h, a->w, k, 0);
    conv2d(r, &b->v, CONV_POINT, a->t, a->h, a->w, v, 0);
    j.q = q;
    j.k = k;
    j.v = v;
    j.s = s;
    j.o = o;
    j.scale = 1.0f / sqrtf((float)a->c);
    run_for(r, (hw + j.rows - 1) / j.rows, attn_task, &j);
    conv2d(r, &b->proj, CONV_POINT, o, a->h, a->w, a->x, 1);
}

static void midblock(struct run *r, const struct mid *md, struct acts *a)
{
    resblock(r, &md->b1, a);
    attnblock(r, &md->attn, a);
    resblock(r, &md->b2, a);
}

/* Floats each activation buffer needs for side S, and the im2col buffer per worker. */
static void sizes(const struct mvot_vqgan *m, uint32_t S, size_t *act, size_t *col)
{
    size_t g = S / 16, ghw = g * g, cmax = (size_t)m->ch * CH_MULT[NLEVELS - 1];
    size_t a = (size_t)m->ch * S * S;
    /* Mid attention keeps q, k, v, o and the score matrix in one scratch buffer. */
    size_t attn = 4 * cmax * ghw + ghw * ghw;
    size_t zmax = m->z > m->D ? m->z : m->D;
    a = a > attn ? a : attn;
    a = a > zmax * ghw ? a : zmax * ghw;
    a = a > 3 * (size_t)S * S ? a : 3 * (size_t)S * S;
    /* im2col: no conv has more than max(4ch, z) input channels, and a tile holds at most
     * max(TILE_COLS, S) output pixels (whole rows). The code search reuses the buffer. */
    size_t kmax = 9 * (cmax > m->z ? cmax : m->z);
    size_t cols = S > TILE_COLS ? S : TILE_COLS;
    size_t c = kmax * (cols + MVOT_VQ_NR); /* + the packed layout's zero padding */
    c = c > (size_t)QTILE * m->K ? c : (size_t)QTILE * m->K;
    *act = a;
    *col = c;
}

static enum mvot_status check_size(uint32_t S, struct mvot_error *err)
{
    if (S < 16 || S > 2048 || S % 16 != 0)
        return mvot_error_set(err, MVOT_ERR_INVALID, "vqgan",
                              "image size %u is not a multiple of 16 in [16, 2048]", S);
    return MVOT_OK;
}

static void ws_free(struct workspace *ws)
{
    if (!ws)
        return;
    for (int i = 0; i < 3; i++)
        free(ws->act[i]);
    for (int i = 0; i < ws->ncol; i++)
        free(ws->col[i]);
    free(ws->col);
    memset(ws, 0, sizeof(*ws));
}

/* Grows ws to at least the given sizes (contents are scratch). */
static enum mvot_status ws_reserve(struct workspace *ws, int ncol, size_t act, size_t col,
                                   struct mvot_error *err)
{
    if (ws->act_cap < act) {
        for (int i = 0; i < 3; i++) {
            free(ws->act[i]);
            ws->act[i] = NULL;
        }
        ws->act_cap = 0;
        for (int i = 0; i < 3; i++)
            if (!(ws->act[i] = malloc(sizeof(float) * act)))
                return mvot_error_set(err, MVOT_ERR_NOMEM, "vqgan",
                                      "out of memory (3 x %zu floats)", act);
        ws->act_cap = act;
    }
    if (ws->ncol < ncol || ws->col_cap < col) {
        for (int i = 0; i < ws->ncol; i++)
            free(ws->col[i]);
        free(ws->col);
        ws->ncol = 0;
        ws->col_cap = 0;
        if (!(ws->col = calloc((size_t)ncol, sizeof(float *))))
            return mvot_error_set(err, MVOT_ERR_NOMEM, "vqgan", "out of memory");
        ws->ncol = ncol;
        for (int i = 0; i < ncol; i++)
            if (!(ws->col[i] = malloc(sizeof(float) * col)))
                return mvot_error_set(err, MVOT_ERR_NOMEM, "vqgan", "out of memory (%zu floats)",
                                      col);
        ws->col_cap = col;
    }
    return MVOT_OK;
}

static void run_end(struct run *r)
{
    ws_free(&r->own);
    if (r->locked)
        pthread_mutex_unlock((pthread_mutex_t *)&r->m->mu);
}

static enum mvot_status run_begin(const struct mvot_vqgan *m, uint32_t S, struct run *r,
                                  struct acts *a, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    size_t act, col;
    int nworkers = 1;
    memset(r, 0, sizeof(*r));
    memset(a, 0, sizeof(*a));
    r->m = m;
    MVOT_TRY(check_size(S, err));
    /* The pool and the cached workspace serve one call at a time; a concurrent call runs
     * inline on its own memory. Tiling does not depend on it, so neither do the results. */
    r->ws = &r->own;
    if (pthread_mutex_trylock((pthread_mutex_t *)&m->mu) == 0) {
        r->locked = 1;
        r->ws = m->ws;
        if (m->pool && mvot_pool_threads(m->pool) > 1) {
            r->pool = m->pool;
            nworkers = mvot_pool_threads(m->pool);
        }
    }
    sizes(m, S, &act, &col);
    MVOT_TRY(ws_reserve(r->ws, nworkers, act, col, err));
    r->col = r->ws->col;
    a->x = r->ws->act[0];
    a->t = r->ws->act[1];
    a->y = r->ws->act[2];
cleanup:
    return st;
}

/* ------------------------------------------------------------------------------------------
 * Nearest code: argmin_k (|z|^2 + |e_k|^2) - 2 z.e_k, the HF expression term for term. */

struct quant_job {
    struct run *r;
    const float *z; /* D x n, CHW */
    size_t n;
    int32_t *codes;
};

static void quant_task(void *ctx, size_t tile, int worker)
{
    struct quant_job *j = ctx;
    const struct mvot_vqgan *m = j->r->m;
    size_t p0 = tile * QTILE, p1 = p0 + QTILE < j->n ? p0 + QTILE : j->n;
    int np = (int)(p1 - p0);
    float *dots = j->r->col[worker]; /* np x K */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, np, (int)m->K, (int)m->D, 1.0f, j->z + p0,
                (int)j->n, m->codebook, (int)m->D, 0.0f, dots, (int)m->K);
    for (int p = 0; p < np; p++) {
        float zz = 0.0f;
        for (uint32_t d = 0; d < m->D; d++) {
            float v = j->z[(size_t)d * j->n + p0 + p];
            zz += v * v;
        }
        const float *row = dots + (size_t)p * m->K;
        float best = INFINITY;
        int32_t arg = 0;
        for (uint32_t k = 0; k < m->K; k++) {
            float dist = (zz + m->code_sq[k]) - 2.0f * row[k];
            if (dist < best) { /* strict: the first index wins ties */
                best = dist;
                arg = (int32_t)k;
            }
        }
        j->codes[p0 + p] = arg;
    }
}

/* ------------------------------------------------------------------------------------------
 * Encoder and decoder */

enum mvot_status mvot_vqgan_encode(const struct mvot_vqgan *m, const float *pixels, uint32_t S,
                                   int32_t *codes, float *latent, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct run r;
    struct acts a;
    MVOT_TRY(run_begin(m, S, &r, &a, err));
    a.c = m->ch;
    a.h = a.w = S;
    conv2d(&r, &m->enc_in, CONV_SAME, pixels, S, S, a.x, 0);
    for (int i = 0; i < NLEVELS; i++) {
        for (int j = 0; j < NRES; j++)
            resblock(&r, &m->enc_blk[i][j], &a);
        if (i != NLEVELS - 1) {
            conv2d(&r, &m->enc_down[i], CONV_DOWN, a.x, a.h, a.w, a.y, 0);
            swap(&a.x, &a.y);
            a.h /= 2;
            a.w /= 2;
        }
    }
    midblock(&r, &m->enc_mid, &a);
    group_norm(&r, &m->enc_norm_out, a.x, a.t, (size_t)a.h * a.w, 1);
    conv2d(&r, &m->enc_out, CONV_SAME, a.t, a.h, a.w, a.y, 0);
    conv2d(&r, &m->quant_conv, CONV_POINT, a.y, a.h, a.w, a.t, 0);
    {
        size_t n = (size_t)a.h * a.w;
        struct quant_job q = {.r = &r, .z = a.t, .n = n, .codes = codes};
        if (latent)
            memcpy(latent, a.t, sizeof(float) * m->D * n);
        run_for(&r, (n + QTILE - 1) / QTILE, quant_task, &q);
    }
cleanup:
    run_end(&r);
    return st;
}

enum mvot_status mvot_vqgan_decode(const struct mvot_vqgan *m, const int32_t *codes, uint32_t S,
                                   float *pixels, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct run r;
    struct acts a;
    size_t g = S / 16, n = g * g;
    memset(&r, 0, sizeof r);
    memset(&a, 0, sizeof a);
    MVOT_FAIL_IF(!m->has_decoder, err, MVOT_ERR_UNSUPPORTED, "vqgan",
                 "this checkpoint has no decoder.* tensors (encoder-only)");
    MVOT_TRY(check_size(S, err));
    for (size_t i = 0; i < n; i++)
        MVOT_FAIL_IF(codes[i] < 0 || (uint32_t)codes[i] >= m->K, err, MVOT_ERR_INVALID, "vqgan",
                     "code %zu is %d, outside the codebook of %u", i, codes[i], m->K);
    MVOT_TRY(run_begin(m, S, &r, &a, err));
    /* Codebook rows into D x n planar layout. */
    for (size_t p = 0; p < n; p++)
        for (uint32_t d = 0; d < m->D; d++)
            a.t[(size_t)d * n + p] = m->codebook[(size_t)codes[p] * m->D + d];
    a.h = a.w = (uint32_t)g;
    conv2d(&r, &m->post_quant_conv, CONV_POINT, a.t, a.h, a.w, a.y, 0);
    conv2d(&r, &m->dec_in, CONV_SAME, a.y, a.h, a.w, a.x, 0);
    a.c = m->dec_in.co;
    midblock(&r, &m->dec_mid, &a);
    for (int i = NLEVELS - 1; i >= 0; i--) {
        for (int j = 0; j < NRES + 1; j++)
            resblock(&r, &m->dec_blk[i][j], &a);
        if (i != 0) {
            conv2d(&r, &m->dec_up[i], CONV_UP2, a.x, a.h, a.w, a.y, 0);
            swap(&a.x, &a.y);
            a.h *= 2;
            a.w *= 2;
        }
    }
    group_norm(&r, &m->dec_norm_out, a.x, a.t, (size_t)a.h * a.w, 1);
    conv2d(&r, &m->dec_out, CONV_SAME, a.t, a.h, a.w, pixels, 0);
cleanup:
    run_end(&r);
    return st;
}
