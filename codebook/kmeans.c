/* Weighted k-means over distinct patches (train.h gives the algorithm; this file the
 * mechanics). Invariants that make the result byte-identical for any thread count:
 * - points are the patch set in canonical order; every random draw comes from
 *   mvot_rng_derive(seed, domain, index) and is consumed on the calling thread;
 * - centers are integer pixels, so assignment distances are exact integers (assign.h) and
 *   argmin ties go to the lowest code;
 * - the parallel step (assignment over fixed chunks of points) writes per-point results only;
 *   every reduction (means, inertia, prefix sums) runs sequentially in point order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codebook/assign.h"
#include "codebook/train.h"
#include "core/hash.h"
#include "core/rng.h"

#define DOMAIN_SUBSAMPLE 0x6b6d2d73756273ULL /* "km-subs" */
#define DOMAIN_INIT 0x6b6d2d696e6974ULL      /* "km-init" */
#define ASSIGN_CHUNK 2048

void mvot_kmeans_opts_default(struct mvot_kmeans_opts *o)
{
    o->K = 8192;
    o->patch = 16;
    o->seed = 0;
    o->max_iters = 20;
    o->max_patches = 65536;
    o->max_distinct = 0;
}

/* ---- parallel nearest-center assignment ------------------------------------------------ */

struct assign_job {
    const struct mvot_cb_search *s;
    const uint8_t *x;
    size_t n;
    uint32_t D;
    int32_t *code;
    int64_t *dist;
    enum mvot_status *st; /* per chunk */
};

static void assign_chunk(void *ctx, size_t c, int worker)
{
    (void)worker;
    struct assign_job *j = ctx;
    size_t i0 = c * ASSIGN_CHUNK, m = j->n - i0 < ASSIGN_CHUNK ? j->n - i0 : ASSIGN_CHUNK;
    j->st[c] = mvot_cb_search_nearest(j->s, j->x + i0 * j->D, m, j->code + i0, j->dist + i0, NULL);
}

/* Nearest of `K` centers (uint8 K x D) for each of n points. */
static enum mvot_status assign_all(const uint8_t *centers, uint32_t K, const uint8_t *x, size_t n,
                                   uint32_t D, struct mvot_pool *pool, int32_t *code, int64_t *dist,
                                   struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_cb_search *s = NULL;
    size_t nchunks = (n + ASSIGN_CHUNK - 1) / ASSIGN_CHUNK;
    enum mvot_status *cst = calloc(nchunks ? nchunks : 1, sizeof *cst);
    MVOT_FAIL_IF(!cst, err, MVOT_ERR_NOMEM, "k-means", "out of memory");
    MVOT_TRY(mvot_cb_search_create(centers, K, D, &s, err));
    struct assign_job j = {s, x, n, D, code, dist, cst};
    mvot_pool_for(pool, nchunks, assign_chunk, &j);
    for (size_t c = 0; c < nchunks; c++)
        MVOT_FAIL_IF(cst[c] != MVOT_OK, err, cst[c], "k-means",
                     "assignment failed (out of memory)");
cleanup:
    mvot_cb_search_free(s);
    free(cst);
    return st;
}

/* ---- subsampling ------------------------------------------------------------------------ */

struct keyed {
    double key;
    size_t idx;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Efraimidis-Spirakis weighted sampling without replacement: keep the m points with the
 * smallest -ln(u)/w, u drawn per point from its hash, so frequent patches are kept first.
 * Returns the kept indices in ascending (canonical) order. */
static enum mvot_status subsample(const struct mvot_patchset *ps, uint64_t seed, size_t m,
                                  size_t **out, struct mvot_error *err)
{
    struct keyed *k = malloc(ps->n * sizeof *k);
    size_t *idx = malloc(m * sizeof *idx);
    if (!k || !idx) {
        free(k);
        free(idx);
        return mvot_error_set(err, MVOT_ERR_NOMEM, "k-means", "out of memory");
    }
    for (size_t i = 0; i < ps->n; i++) {
        uint64_t r = mvot_rng_mix(seed, DOMAIN_SUBSAMPLE, ps->hash[i]);
        double u = ((double)(r >> 11) + 0.5) * (1.0 / 9007199254740992.0); /* (0, 1) */
        k[i].key = -log(u) / (double)ps->count[i];
        k[i].idx = i;
    }
    qsort(k, ps->n, sizeof *k, cmp_keyed);
    for (size_t i = 0; i < m; i++)
        idx[i] = k[i].idx;
    qsort(idx, m, sizeof *idx, cmp_size);
    free(k);
    *out = idx;
    return MVOT_OK;
}

/* ---- k-means++ initialisation ----------------------------------------------------------- */

/* Draws one index with probability proportional to p[i] given prefix sums cum[i] (cum[n-1] is
 * the total). Returns n if the total is 0. */
static size_t draw(const double *cum, size_t n, struct mvot_rng *r)
{
    double total = cum[n - 1];
    if (!(total > 0))
        return n;
    double t = mvot_rng_unit(r) * total;
    size_t lo = 0, hi = n - 1;
    while (lo < hi) { /* first i with cum[i] > t */
        size_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* k-means++ D^2 sampling, weighted by counts. Exact k-means++ updates D^2 after every
 * center, which at K = 8192 is K sequential passes; here centers are drawn in batches that
 * grow with the number already chosen (1, 1, 2, 4, ... up to K/64), and D^2 is updated by
 * one GEMM pass per batch. Early centers therefore follow exact k-means++, later ones are
 * drawn from a D^2 that is at most one batch stale. */
static enum mvot_status init_pp(const uint8_t *x, const uint64_t *w, size_t n, uint32_t D,
                                uint32_t K, uint64_t seed, struct mvot_pool *pool,
                                const struct mvot_progress *prog, uint8_t *centers, int32_t *code,
                                int64_t *d2, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    int64_t *nd = malloc(n * sizeof *nd);
    int32_t *nc_code = malloc(n * sizeof *nc_code);
    double *cum = malloc(n * sizeof *cum);
    uint8_t *chosen = calloc(n, 1);
    size_t *batch = malloc(((size_t)K / 64 + 2) * sizeof *batch);
    uint32_t nc = 0, round = 0;
    MVOT_FAIL_IF(!nd || !nc_code || !cum || !chosen || !batch, err, MVOT_ERR_NOMEM, "k-means",
                 "out of memory");
    for (size_t i = 0; i < n; i++) {
        d2[i] = INT64_MAX;
        code[i] = -1;
    }
    const uint32_t bcap = K / 64 ? K / 64 : 1;
    while (nc < K) {
        struct mvot_rng r;
        mvot_rng_derive(&r, seed, DOMAIN_INIT, round);
        uint32_t want = nc == 0 ? 1 : nc < bcap ? nc : bcap;
        if (want > K - nc)
            want = K - nc;
        double acc = 0;
        for (size_t i = 0; i < n; i++) {
            /* Points already chosen have D^2 = 0, so they are never drawn again. */
            acc += (double)w[i] * (d2[i] == INT64_MAX ? 1.0 : (double)d2[i]);
            cum[i] = acc;
        }
        uint32_t got = 0;
        for (uint32_t tries = 0; got < want && tries < 16 * want; tries++) {
            size_t i = draw(cum, n, &r);
            if (i >= n || chosen[i])
                continue;
            chosen[i] = 1;
            batch[got++] = i;
        }
        /* Rare: repeated draws of the same points. Fill deterministically with the farthest
         * remaining points so the batch is always complete. */
        while (got < want) {
            size_t best = n;
            for (size_t i = 0; i < n; i++)
                if (!chosen[i] && (best == n || (double)w[i] * (double)d2[i] >
                                                    (double)w[best] * (double)d2[best]))
                    best = i;
            MVOT_FAIL_IF(best == n, err, MVOT_ERR_INTERNAL, "k-means",
                         "ran out of points while seeding");
            chosen[best] = 1;
            batch[got++] = best;
        }
        for (uint32_t b = 0; b < got; b++)
            memcpy(centers + (size_t)(nc + b) * D, x + batch[b] * D, D);
        /* Update D^2 with the new batch only. */
        MVOT_TRY(assign_all(centers + (size_t)nc * D, got, x, n, D, pool, nc_code, nd, err));
        /* Strictly nearer only: on a tie the earlier (lower-index) center stays, so after the
         * last batch (code, d2) is exactly the full first-index assignment. */
        for (size_t i = 0; i < n; i++)
            if (nd[i] < d2[i]) {
                d2[i] = nd[i];
                code[i] = (int32_t)nc + nc_code[i];
            }
        nc += got;
        round++;
        mvot_progress_report(prog, "k-means++ init", nc, K);
    }
cleanup:
    free(nd);
    free(nc_code);
    free(cum);
    free(chosen);
    free(batch);
    return st;
}

/* ---- Lloyd ------------------------------------------------------------------------------ */

struct order_rec {
    double key; /* w * dist, larger first */
    size_t idx;
};

static int cmp_order(const void *a, const void *b)
{
    const struct order_rec *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* One center update: integer-rounded weighted means; empty clusters take the points with the
 * largest weighted distance to their centers (each point at most once). Only clusters in
 * `touched` (membership changed since the last update, or empty) are recomputed: the others'
 * means are the same as last time. moved[k] is set when center k changed. */
static enum mvot_status update_centers(const uint8_t *x, const uint64_t *w, size_t n, uint32_t D,
                                       uint32_t K, const int32_t *code, const int64_t *dist,
                                       uint8_t *touched, uint8_t *centers, uint8_t *moved,
                                       uint32_t *n_empty, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint64_t *W = calloc(K, sizeof *W), *sum = NULL;
    int32_t *slot = malloc((size_t)K * sizeof *slot);
    struct order_rec *ord = NULL;
    size_t nt = 0;
    MVOT_FAIL_IF(!W || !slot, err, MVOT_ERR_NOMEM, "k-means", "out of memory");
    for (size_t i = 0; i < n; i++)
        W[code[i]] += w[i];
    for (uint32_t k = 0; k < K; k++) {
        touched[k] |= W[k] == 0;
        slot[k] = touched[k] ? (int32_t)nt++ : -1;
        moved[k] = 0;
    }
    sum = calloc(nt ? nt * D : 1, sizeof *sum);
    MVOT_FAIL_IF(!sum, err, MVOT_ERR_NOMEM, "k-means", "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (slot[code[i]] < 0)
            continue;
        uint64_t *s = sum + (size_t)slot[code[i]] * D;
        const uint8_t *p = x + i * D;
        for (uint32_t j = 0; j < D; j++)
            s[j] += w[i] * p[j];
    }
    *n_empty = 0;
    for (uint32_t k = 0; k < K; k++) {
        if (slot[k] < 0)
            continue;
        if (W[k] == 0) {
            (*n_empty)++;
            continue;
        }
        uint8_t *c = centers + (size_t)k * D;
        const uint64_t *sk = sum + (size_t)slot[k] * D;
        for (uint32_t j = 0; j < D; j++) { /* round half up: floor((2s + W) / 2W) */
            uint8_t v = (uint8_t)((2 * sk[j] + W[k]) / (2 * W[k]));
            moved[k] |= v != c[j];
            c[j] = v;
        }
    }
    if (*n_empty) {
        ord = malloc(n * sizeof *ord);
        MVOT_FAIL_IF(!ord, err, MVOT_ERR_NOMEM, "k-means", "out of memory");
        for (size_t i = 0; i < n; i++)
            ord[i] = (struct order_rec){(double)w[i] * (double)dist[i], i};
        qsort(ord, n, sizeof *ord, cmp_order);
        size_t next = 0;
        for (uint32_t k = 0; k < K && next < n; k++)
            if (W[k] == 0) {
                memcpy(centers + (size_t)k * D, x + ord[next++].idx * D, D);
                moved[k] = 1;
            }
    }
cleanup:
    free(sum);
    free(W);
    free(slot);
    free(ord);
    return st;
}

/* Re-assignment after a center update, equal to a full assignment but cheaper: a point
 * whose own center did not move keeps its exact distance d to it, every other unmoved center
 * was (and still is) no nearer (and no earlier on a tie, since the previous argmin took the
 * first index), so its new nearest is its own center or one of the moved ones. Only points
 * whose own center moved need the full search. */
static enum mvot_status reassign(const uint8_t *centers, uint32_t K, const uint8_t *moved,
                                 const uint8_t *x, size_t n, uint32_t D, struct mvot_pool *pool,
                                 int32_t *code, int64_t *dist, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint32_t *mv = NULL;
    uint8_t *mc = NULL, *gx = NULL;
    size_t *full = NULL, *part = NULL;
    int32_t *c2 = NULL;
    int64_t *d2 = NULL;
    size_t nm = 0, nf = 0, np = 0;
    mv = malloc((size_t)K * sizeof *mv);
    full = malloc(n * sizeof *full);
    part = malloc(n * sizeof *part);
    MVOT_FAIL_IF(!mv || !full || !part, err, MVOT_ERR_NOMEM, "k-means", "out of memory");
    for (uint32_t k = 0; k < K; k++)
        if (moved[k])
            mv[nm++] = k;
    if (nm == 0)
        goto cleanup;
    for (size_t i = 0; i < n; i++) {
        if (moved[code[i]])
            full[nf++] = i;
        else
            part[np++] = i;
    }
    size_t most = nf > np ? nf : np;
    gx = malloc((most ? most : 1) * D);
    c2 = malloc((most ? most : 1) * sizeof *c2);
    d2 = malloc((most ? most : 1) * sizeof *d2);
    mc = malloc(nm * D);
    MVOT_FAIL_IF(!gx || !c2 || !d2 || !mc, err, MVOT_ERR_NOMEM, "k-means", "out of memory");
    if (nf) {
        for (size_t i = 0; i < nf; i++)
            memcpy(gx + i * D, x + full[i] * D, D);
        MVOT_TRY(assign_all(centers, K, gx, nf, D, pool, c2, d2, err));
        for (size_t i = 0; i < nf; i++) {
            code[full[i]] = c2[i];
            dist[full[i]] = d2[i];
        }
    }
    if (np) {
        for (size_t k = 0; k < nm; k++)
            memcpy(mc + k * D, centers + (size_t)mv[k] * D, D);
        for (size_t i = 0; i < np; i++)
            memcpy(gx + i * D, x + part[i] * D, D);
        MVOT_TRY(assign_all(mc, (uint32_t)nm, gx, np, D, pool, c2, d2, err));
        for (size_t i = 0; i < np; i++) {
            size_t p = part[i];
            int32_t cand = (int32_t)mv[c2[i]];
            if (d2[i] < dist[p] || (d2[i] == dist[p] && cand < code[p])) {
                code[p] = cand;
                dist[p] = d2[i];
            }
        }
    }
cleanup:
    free(mv);
    free(mc);
    free(gx);
    free(full);
    free(part);
    free(c2);
    free(d2);
    return st;
}

/* ---- final ordering --------------------------------------------------------------------- */

struct code_rec {
    uint64_t use;
    const uint8_t *bytes;
    size_t D;
};

static int cmp_code(const void *a, const void *b)
{
    const struct code_rec *x = a, *y = b;
    if (x->use != y->use)
        return x->use > y->use ? -1 : 1;
    return memcmp(x->bytes, y->bytes, x->D);
}

/* Fills out->vec from integer centers ordered by usage (desc), then bytes. */
static enum mvot_status finish_codes(const uint8_t *centers, const uint64_t *use, uint32_t K,
                                     uint32_t D, struct mvot_codebook *out, uint32_t *dead,
                                     struct mvot_error *err)
{
    struct code_rec *r = malloc((size_t)K * sizeof *r);
    out->vec = malloc((size_t)K * D * sizeof *out->vec);
    if (!r || !out->vec) {
        free(r);
        return mvot_error_set(err, MVOT_ERR_NOMEM, "k-means", "out of memory");
    }
    for (uint32_t k = 0; k < K; k++)
        r[k] = (struct code_rec){use[k], centers + (size_t)k * D, D};
    qsort(r, K, sizeof *r, cmp_code);
    *dead = 0;
    for (uint32_t k = 0; k < K; k++) {
        *dead += r[k].use == 0;
        for (uint32_t j = 0; j < D; j++)
            out->vec[(size_t)k * D + j] = (float)r[k].bytes[j];
    }
    free(r);
    out->K = K;
    out->D = D;
    return MVOT_OK;
}

static double psnr_of(double mse)
{
    return 10.0 * log10(255.0 * 255.0 / mse);
}

/* Lloyd iterations from k-means++ seeds until no point moves or max_iters: centers and use
 * (the weight per code) are the result; hist gets one entry per iteration. */
static enum mvot_status run_kmeans(const uint8_t *x, const uint64_t *w, size_t n, uint32_t D,
                                   uint32_t K, uint64_t wsum, const struct mvot_kmeans_opts *opts,
                                   struct mvot_pool *pool, const struct mvot_progress *prog,
                                   uint8_t *centers, uint64_t *use, json_t *hist, uint32_t *iters,
                                   int *converged, double *mse, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    int32_t *code = malloc(n * sizeof *code), *prev = malloc(n * sizeof *prev);
    int64_t *dist = malloc(n * sizeof *dist);
    uint8_t *moved = malloc(K), *touched = malloc(K);
    MVOT_FAIL_IF(!code || !prev || !dist || !moved || !touched, err, MVOT_ERR_NOMEM, "k-means",
                 "out of memory");
    /* The seeding's last D^2 update leaves the full assignment for iteration 0. */
    MVOT_TRY(init_pp(x, w, n, D, K, opts->seed, pool, prog, centers, code, dist, err));
    *converged = 0;
    for (uint32_t it = 0;; it++) {
        if (it > 0)
            MVOT_TRY(reassign(centers, K, moved, x, n, D, pool, code, dist, err));
        size_t changed = 0;
        double inertia = 0;
        memset(touched, it == 0, K);
        for (size_t i = 0; i < n; i++) {
            if (it == 0 || code[i] != prev[i]) {
                changed++;
                if (it > 0)
                    touched[code[i]] = touched[prev[i]] = 1;
            }
            inertia += (double)w[i] * (double)dist[i];
        }
        *mse = inertia / ((double)wsum * D);
        memcpy(prev, code, n * sizeof *code);
        *iters = it;
        uint32_t n_empty = 0;
        int stop = (it > 0 && changed == 0) || it == opts->max_iters;
        *converged = it > 0 && changed == 0;
        if (!stop)
            MVOT_TRY(
                update_centers(x, w, n, D, K, code, dist, touched, centers, moved, &n_empty, err));
        json_array_append_new(hist, json_pack("{s:i, s:I, s:f, s:i}", "iter", (int)it, "changed",
                                              (json_int_t)changed, "mse", *mse, "reseeded",
                                              (int)n_empty));
        mvot_progress_report(prog, "k-means", it, opts->max_iters);
        if (stop)
            break;
    }
    for (size_t i = 0; i < n; i++)
        use[code[i]] += w[i];
cleanup:
    free(code);
    free(prev);
    free(dist);
    free(moved);
    free(touched);
    return st;
}

enum mvot_status mvot_codebook_train_patchset(struct mvot_patchset *ps,
                                              const struct mvot_kmeans_opts *opts,
                                              struct mvot_pool *pool,
                                              const struct mvot_progress *prog,
                                              struct mvot_codebook *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const uint32_t D = ps->D;
    size_t *keep = NULL;
    uint8_t *xs = NULL, *centers = NULL;
    uint64_t *ws = NULL, *use = NULL;
    json_t *stats = NULL, *hist = NULL;
    memset(out, 0, sizeof *out);
    MVOT_FAIL_IF(opts->K == 0 || opts->K > (1u << 20), err, MVOT_ERR_INVALID, "k-means",
                 "K = %u out of range 1..%u", opts->K, 1u << 20);
    MVOT_FAIL_IF(ps->patch != opts->patch, err, MVOT_ERR_INVALID, "k-means",
                 "patch set has %u-px patches, options say %u", ps->patch, opts->patch);
    MVOT_FAIL_IF(ps->patch > MVOT_CODEBOOK_MAX_PATCH, err, MVOT_ERR_INVALID, "k-means",
                 "patch %u exceeds %u", ps->patch, MVOT_CODEBOOK_MAX_PATCH);
    MVOT_FAIL_IF(ps->n == 0, err, MVOT_ERR_INVALID, "k-means", "no patches to train on");
    MVOT_FAIL_IF(opts->max_patches == 0, err, MVOT_ERR_INVALID, "k-means", "max_patches is 0");
    MVOT_TRY(mvot_patchset_data_hash(ps, &out->data_hash, err)); /* also sorts canonically */

    stats = json_object();
    hist = json_array();
    MVOT_FAIL_IF(!stats || !hist, err, MVOT_ERR_NOMEM, "k-means", "out of memory");
    json_object_set_new(stats, "k_requested", json_integer(opts->K));
    json_object_set_new(stats, "frames", json_integer((json_int_t)ps->frames));
    json_object_set_new(stats, "patches", json_integer((json_int_t)ps->total));
    json_object_set_new(stats, "distinct", json_integer((json_int_t)ps->n));

    /* The points k-means sees: all distinct patches, or a weighted subsample. */
    size_t n = ps->n;
    const uint8_t *x = ps->bytes;
    const uint64_t *w = ps->count;
    /* The cap never goes below 2K: k-means needs more points than codes (a subsample of K or
     * fewer would just copy points and look "exact" while ignoring most of the data). */
    uint64_t cap =
        opts->max_patches > 2 * (uint64_t)opts->K ? opts->max_patches : 2 * (uint64_t)opts->K;
    if (n > cap) {
        n = (size_t)cap;
        MVOT_TRY(subsample(ps, opts->seed, n, &keep, err));
        xs = malloc(n * D);
        ws = malloc(n * sizeof *ws);
        MVOT_FAIL_IF(!xs || !ws, err, MVOT_ERR_NOMEM, "k-means", "out of memory");
        for (size_t i = 0; i < n; i++) {
            memcpy(xs + i * D, ps->bytes + keep[i] * D, D);
            ws[i] = ps->count[keep[i]];
        }
        x = xs;
        w = ws;
    }
    uint64_t wsum = 0;
    for (size_t i = 0; i < n; i++)
        wsum += w[i];
    json_object_set_new(stats, "points", json_integer((json_int_t)n));
    json_object_set_new(stats, "points_weight", json_integer((json_int_t)wsum));
    json_object_set_new(stats, "max_patches", json_integer((json_int_t)opts->max_patches));

    uint32_t K = n <= opts->K ? (uint32_t)n : opts->K;
    centers = malloc((size_t)K * D);
    use = calloc(K, sizeof *use);
    MVOT_FAIL_IF(!centers || !use, err, MVOT_ERR_NOMEM, "k-means", "out of memory");
    int converged = 1;
    uint32_t iters = 0;
    double mse = 0;
    if (n <= opts->K) {
        /* Exact: every distinct patch is a code. */
        memcpy(centers, x, n * D);
        memcpy(use, w, n * sizeof *use);
        json_object_set_new(stats, "algorithm", json_string("exact"));
    } else {
        json_object_set_new(stats, "algorithm", json_string("kmeans"));
        json_object_set_new(stats, "init", json_string("kmeans++ (D^2 sampling, growing batches)"));
        json_object_set_new(stats, "max_iters", json_integer(opts->max_iters));
        MVOT_TRY(run_kmeans(x, w, n, D, K, wsum, opts, pool, prog, centers, use, hist, &iters,
                            &converged, &mse, err));
    }
    uint32_t dead = 0;
    MVOT_TRY(finish_codes(centers, use, K, D, out, &dead, err));
    out->kind = MVOT_CB_PATCH;
    out->patch = ps->patch;
    out->image_size = ps->image_size;
    out->seed = opts->seed;
    json_object_set_new(stats, "K", json_integer(K));
    json_object_set_new(stats, "iterations", json_integer(iters));
    json_object_set_new(stats, "converged", json_boolean(converged));
    json_object_set_new(stats, "dead_codes", json_integer(dead));
    json_object_set_new(stats, "mse", json_real(mse));
    json_object_set_new(stats, "psnr_db", mse > 0 ? json_real(psnr_of(mse)) : json_null());
    json_object_set_new(stats, "history", hist);
    hist = NULL;
    out->stats = stats;
    stats = NULL;
cleanup:
    if (st != MVOT_OK)
        mvot_codebook_free(out);
    json_decref(stats);
    json_decref(hist);
    free(keep);
    free(xs);
    free(ws);
    free(centers);
    free(use);
    return st;
}

enum mvot_status mvot_codebook_train_frames(const struct mvot_image *frames, size_t n,
                                            const struct mvot_kmeans_opts *opts,
                                            struct mvot_pool *pool,
                                            const struct mvot_progress *prog,
                                            struct mvot_codebook *out, struct mvot_error *err)
{
    struct mvot_patchset ps;
    memset(out, 0, sizeof *out);
    enum mvot_status st = mvot_patchset_from_frames(frames, n, opts->patch,
                                                    (size_t)opts->max_distinct, pool, &ps, err);
    if (st != MVOT_OK)
        return st;
    st = mvot_codebook_train_patchset(&ps, opts, pool, prog, out, err);
    mvot_patchset_free(&ps);
    return st;
}
