/* The generator run (gen/gen.h): per-episode derived seeds, balanced answers, grid-size mix,
 * deduplication, layout-hash splits with a leakage count, frame rendering and PNG encoding in
 * the pool, and the ordered write of the archive and manifest.
 *
 * Two passes. The plan drafts every episode as text (no frames) and deduplicates in
 * `plan_emit`, which runs in episode order on the calling thread; a duplicate is redrawn there
 * with the next attempt number, and only the final attempt number is kept. The render pass
 * redraws the chosen attempt of each episode in the range being written (all of them, or one
 * part's: docs/cluster.md) and renders and encodes it in the pool. Work items are pure
 * functions of (config, task, index, attempt), so the bytes depend on neither the thread
 * count nor the number of parts. */
#include "gen/gen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/outdir.h"
#include "core/png.h"
#include "core/rng.h"
#include "gen/internal.h"
#include "gen/record.h"
#include "gen/tarz.h"

/* RNG domains: constants naming each use, so streams never overlap. */
#define DOM_EPISODE 0x67656e2d65700000ull /* + task */
#define DOM_BALANCE 0x67656e2d62610000ull /* + task */
#define DOM_ATTEMPT 0x67656e2d61740000ull
#define DOM_FLMAP 0x67656e2d666d0000ull /* FROZENLAKE map shared by a block of episodes */
#define MAX_ATTEMPTS 256
#define GEN_STATE_FORMAT "mvot-gen-state"

static const uint32_t N_OPTIONS[MVOT_TASK_COUNT] = {4, 3, 4};

void mvot_gen_task_grid_range(enum mvot_task t, uint32_t *lo, uint32_t *hi)
{
    *lo = t == MVOT_TASK_MINIBEHAVIOR ? 7 : 3;
    *hi = t == MVOT_TASK_MINIBEHAVIOR ? 10 : 6;
}

const char *mvot_gen_style_name(enum mvot_gen_style s)
{
    return s == MVOT_GEN_STYLE_OFFICIAL ? "official" : "grid";
}

int mvot_gen_style_parse(const char *s, enum mvot_gen_style *out)
{
    if (strcmp(s, "grid") == 0)
        *out = MVOT_GEN_STYLE_GRID;
    else if (strcmp(s, "official") == 0)
        *out = MVOT_GEN_STYLE_OFFICIAL;
    else
        return -1;
    return 0;
}

void mvot_gen_config_default(struct mvot_gen_config *c)
{
    memset(c, 0, sizeof *c);
    c->tasks = (1u << MVOT_TASK_COUNT) - 1;
    c->episodes = 100;
    c->seed = 0;
    c->image_size = 512;
    c->min_steps = 2;
    c->max_steps = 32;
    c->split_frac[0] = 0.8;
    c->split_frac[1] = 0.1;
    c->split_frac[2] = 0.1;
    c->png_level = -1;
    c->zstd_level = 3;
    c->frozenlake_per_map = 1;
}

enum mvot_status mvot_gen_config_validate(const struct mvot_gen_config *c, struct mvot_error *err)
{
    const char *w = "gen config";
    if (c->tasks == 0 || c->tasks >= (1u << MVOT_TASK_COUNT))
        return mvot_error_set(err, MVOT_ERR_INVALID, w, "no task selected");
    if (c->episodes < 1 || c->episodes > 100000000ull)
        return mvot_error_set(err, MVOT_ERR_INVALID, w, "episodes must be 1..100000000, got %llu",
                              (unsigned long long)c->episodes);
    if (c->seed > (uint64_t)INT64_MAX)
        return mvot_error_set(err, MVOT_ERR_INVALID, w, "seed must be below 2^63");
    if (c->image_size != 512 && c->image_size != 256 && c->image_size != 128)
        return mvot_error_set(err, MVOT_ERR_INVALID, w,
                              "image size must be 512, 256 or 128, got %u", c->image_size);
    if (c->min_steps < 1 || c->max_steps > MVOT_GEN_STEPS_LIMIT || c->min_steps > c->max_steps)
        return mvot_error_set(err, MVOT_ERR_INVALID, w, "steps range %u..%u is not within 1..%d",
                              c->min_steps, c->max_steps, MVOT_GEN_STEPS_LIMIT);
    double sum = 0;
    for (int k = 0; k < 3; k++) {
        if (!(c->split_frac[k] >= 0 && c->split_frac[k] <= 1))
            return mvot_error_set(err, MVOT_ERR_INVALID, w, "split fraction %d must be in [0,1]",
                                  k);
        sum += c->split_frac[k];
    }
    if (fabs(sum - 1.0) > 1e-9)
        return mvot_error_set(err, MVOT_ERR_INVALID, w, "split fractions sum to %g, not 1", sum);
    if (c->png_level < -1 || c->png_level > 9)
        return mvot_error_set(err, MVOT_ERR_INVALID, w, "png level must be -1..9");
    if (c->zstd_level < 1 || c->zstd_level > 19)
        return mvot_error_set(err, MVOT_ERR_INVALID, w, "zstd level must be 1..19");
    if (c->frozenlake_per_map < 1 || c->frozenlake_per_map > 64)
        return mvot_error_set(err, MVOT_ERR_INVALID, w, "sequences per map must be 1..64, got %u",
                              c->frozenlake_per_map);
    if (c->style != MVOT_GEN_STYLE_GRID && c->style != MVOT_GEN_STYLE_OFFICIAL)
        return mvot_error_set(err, MVOT_ERR_INVALID, w, "unknown style %d", (int)c->style);
    if (memchr(c->sprites, 0, sizeof c->sprites) == NULL)
        return mvot_error_set(err, MVOT_ERR_INVALID, w, "sprites path is too long");
    /* The sprites replace our art inside the official geometry only: the grid style keeps its
     * own art so that its patch codebook stays exact. */
    if (c->sprites[0] && c->style != MVOT_GEN_STYLE_OFFICIAL)
        return mvot_error_set(err, MVOT_ERR_INVALID, w, "sprites need the official style");
    for (int t = 0; t < MVOT_TASK_COUNT; t++) {
        uint32_t lo, hi;
        mvot_gen_task_grid_range((enum mvot_task)t, &lo, &hi);
        for (uint32_t n = 0; n <= MVOT_GEN_GRID_MAX; n++)
            if (c->size_weight[t][n] && (n < lo || n > hi))
                return mvot_error_set(err, MVOT_ERR_INVALID, w, "%s grid size %u is outside %u..%u",
                                      mvot_task_name((enum mvot_task)t), n, lo, hi);
    }
    return MVOT_OK;
}

static int parse_uint(const char *s, size_t len, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

enum mvot_status mvot_gen_parse_sizes(struct mvot_gen_config *c, const char *spec,
                                      struct mvot_error *err)
{
    uint32_t w[MVOT_TASK_COUNT][MVOT_GEN_GRID_MAX + 1];
    int touched[MVOT_TASK_COUNT] = {0};
    memset(w, 0, sizeof w);
    const char *p = spec;
    if (!*p)
        return mvot_error_set(err, MVOT_ERR_INVALID, "--sizes", "empty size list");
    while (*p) {
        size_t len = strcspn(p, ",");
        char item[64];
        if (len == 0 || len >= sizeof item)
            return mvot_error_set(err, MVOT_ERR_INVALID, "--sizes", "bad item in \"%s\"", spec);
        memcpy(item, p, len);
        item[len] = 0;
        p += len;
        if (*p == ',')
            p++;
        uint32_t mask = c->tasks;
        char *body = item, *eq = strchr(item, '=');
        if (eq) {
            *eq = 0;
            enum mvot_task t;
            if (mvot_task_parse(item, &t) != 0)
                return mvot_error_set(err, MVOT_ERR_INVALID, "--sizes", "unknown task \"%s\"",
                                      item);
            mask = 1u << t;
            body = eq + 1;
        }
        uint32_t lo, hi, weight = 1;
        char *colon = strchr(body, ':');
        size_t rl = colon ? (size_t)(colon - body) : strlen(body);
        if (colon && parse_uint(colon + 1, strlen(colon + 1), 1000000, &weight) != 0)
            return mvot_error_set(err, MVOT_ERR_INVALID, "--sizes", "bad weight in \"%s\"", body);
        char *dash = memchr(body, '-', rl);
        if (dash) {
            if (parse_uint(body, (size_t)(dash - body), 1000, &lo) != 0 ||
                parse_uint(dash + 1, rl - (size_t)(dash - body) - 1, 1000, &hi) != 0 || lo > hi)
                return mvot_error_set(err, MVOT_ERR_INVALID, "--sizes", "bad range \"%.*s\"",
                                      (int)rl, body);
        } else {
            if (parse_uint(body, rl, 1000, &lo) != 0)
                return mvot_error_set(err, MVOT_ERR_INVALID, "--sizes", "bad size \"%.*s\"",
                                      (int)rl, body);
            hi = lo;
        }
        for (int t = 0; t < MVOT_TASK_COUNT; t++) {
            if (!(mask & (1u << t)))
                continue;
            uint32_t tl, th;
            mvot_gen_task_grid_range((enum mvot_task)t, &tl, &th);
            if (lo < tl || hi > th)
                return mvot_error_set(err, MVOT_ERR_INVALID, "--sizes",
                                      "%s grid size %u..%u is outside %u..%u",
                                      mvot_task_name((enum mvot_task)t), lo, hi, tl, th);
            for (uint32_t n = lo; n <= hi; n++)
                w[t][n] += weight;
            touched[t] = 1;
        }
    }
    for (int t = 0; t < MVOT_TASK_COUNT; t++)
        if (touched[t])
            memcpy(c->size_weight[t], w[t], sizeof w[t]);
    return MVOT_OK;
}

json_t *mvot_gen_config_to_json(const struct mvot_gen_config *c)
{
    json_t *o = json_object(), *tasks = json_array(), *sizes = json_object();
    json_t *split = json_pack("{s:f,s:f,s:f}", "train", c->split_frac[0], "dev", c->split_frac[1],
                              "test", c->split_frac[2]);
    if (!o || !tasks || !sizes || !split)
        goto fail;
    for (int t = 0; t < MVOT_TASK_COUNT; t++) {
        if (!(c->tasks & (1u << t)))
            continue;
        json_array_append_new(tasks, json_string(mvot_task_name((enum mvot_task)t)));
        json_t *row = json_object();
        uint32_t lo, hi, any = 0;
        mvot_gen_task_grid_range((enum mvot_task)t, &lo, &hi);
        for (uint32_t n = 0; n <= MVOT_GEN_GRID_MAX; n++)
            any |= c->size_weight[t][n];
        for (uint32_t n = lo; n <= hi && row; n++) {
            uint32_t wt = any ? c->size_weight[t][n] : 1;
            char k[8];
            snprintf(k, sizeof k, "%u", n);
            if (wt)
                json_object_set_new(row, k, json_integer(wt));
        }
        json_object_set_new(sizes, mvot_task_name((enum mvot_task)t), row);
    }
    json_object_set_new(o, "tasks", tasks);
    json_object_set_new(o, "sizes", sizes);
    json_object_set_new(o, "split", split);
    json_object_set_new(o, "episodes", json_integer((json_int_t)c->episodes));
    json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
    json_object_set_new(o, "image_size", json_integer(c->image_size));
    json_object_set_new(o, "min_steps", json_integer(c->min_steps));
    json_object_set_new(o, "max_steps", json_integer(c->max_steps));
    json_object_set_new(o, "png_level", json_integer(c->png_level));
    json_object_set_new(o, "zstd_level", json_integer(c->zstd_level));
    json_object_set_new(o, "style", json_string(mvot_gen_style_name(c->style)));
    if (c->sprites[0])
        json_object_set_new(o, "sprites", json_string(c->sprites));
    json_object_set_new(o, "frozenlake_border_walks", json_integer(c->frozenlake_border_walks));
    json_object_set_new(o, "minibehavior_random_table", json_integer(c->minibehavior_random_table));
    json_object_set_new(o, "frozenlake_per_map", json_integer(c->frozenlake_per_map));
    return o;
fail:
    json_decref(o);
    json_decref(tasks);
    json_decref(sizes);
    json_decref(split);
    return NULL;
}

enum mvot_status mvot_gen_config_from_json(const json_t *j, struct mvot_gen_config *c,
                                           struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const char *ctx = "gen config";
    const char *key;
    json_t *v;
    int64_t iv;
    mvot_gen_config_default(c);
    if (!json_is_object(j))
        return mvot_error_set(err, MVOT_ERR_INVALID, ctx, "not an object");
    json_object_foreach((json_t *)j, key, v)
    {
        if (strcmp(key, "tasks") == 0) {
            size_t i;
            json_t *x;
            MVOT_FAIL_IF(!json_is_array(v), err, MVOT_ERR_INVALID, ctx, "tasks: want an array");
            c->tasks = 0;
            json_array_foreach(v, i, x)
            {
                enum mvot_task t;
                MVOT_FAIL_IF(!json_is_string(x) || mvot_task_parse(json_string_value(x), &t) != 0,
                             err, MVOT_ERR_INVALID, ctx, "tasks[%zu]: unknown task", i);
                c->tasks |= 1u << t;
            }
        } else if (strcmp(key, "sizes") == 0) {
            const char *tk;
            json_t *row;
            MVOT_FAIL_IF(!json_is_object(v), err, MVOT_ERR_INVALID, ctx, "sizes: want an object");
            json_object_foreach(v, tk, row)
            {
                enum mvot_task t;
                const char *nk;
                json_t *wv;
                MVOT_FAIL_IF(mvot_task_parse(tk, &t) != 0 || !json_is_object(row), err,
                             MVOT_ERR_INVALID, ctx, "sizes.%s: unknown task or not an object", tk);
                memset(c->size_weight[t], 0, sizeof c->size_weight[t]);
                json_object_foreach(row, nk, wv)
                {
                    uint32_t n;
                    MVOT_FAIL_IF(parse_uint(nk, strlen(nk), MVOT_GEN_GRID_MAX, &n) != 0 ||
                                     !json_is_integer(wv) || json_integer_value(wv) < 0 ||
                                     json_integer_value(wv) > 1000000,
                                 err, MVOT_ERR_INVALID, ctx, "sizes.%s.%s: bad size or weight", tk,
                                 nk);
                    c->size_weight[t][n] = (uint32_t)json_integer_value(wv);
                }
            }
        } else if (strcmp(key, "split") == 0) {
            const char *names[3] = {"train", "dev", "test"};
            MVOT_FAIL_IF(!json_is_object(v), err, MVOT_ERR_INVALID, ctx, "split: want an object");
            for (int k = 0; k < 3; k++) {
                json_t *x = json_object_get(v, names[k]);
                MVOT_FAIL_IF(!json_is_number(x), err, MVOT_ERR_INVALID, ctx,
                             "split.%s: want a number", names[k]);
                c->split_frac[k] = json_number_value(x);
            }
        } else if (strcmp(key, "style") == 0) {
            MVOT_FAIL_IF(!json_is_string(v) ||
                             mvot_gen_style_parse(json_string_value(v), &c->style) != 0,
                         err, MVOT_ERR_INVALID, ctx, "style: want \"grid\" or \"official\"");
        } else if (strcmp(key, "sprites") == 0) {
            MVOT_FAIL_IF(!json_is_string(v) || json_string_length(v) == 0 ||
                             json_string_length(v) >= sizeof c->sprites,
                         err, MVOT_ERR_INVALID, ctx, "sprites: want a folder path");
            memcpy(c->sprites, json_string_value(v), json_string_length(v) + 1);
        } else {
            MVOT_FAIL_IF(!json_is_integer(v), err, MVOT_ERR_INVALID, ctx, "%s: want an integer",
                         key);
            iv = json_integer_value(v);
            if (strcmp(key, "episodes") == 0 && iv >= 0)
                c->episodes = (uint64_t)iv;
            else if (strcmp(key, "seed") == 0 && iv >= 0)
                c->seed = (uint64_t)iv;
            else if (strcmp(key, "image_size") == 0 && iv >= 0 && iv <= 65536)
                c->image_size = (uint32_t)iv;
            else if (strcmp(key, "min_steps") == 0 && iv >= 0 && iv <= 65536)
                c->min_steps = (uint32_t)iv;
            else if (strcmp(key, "max_steps") == 0 && iv >= 0 && iv <= 65536)
                c->max_steps = (uint32_t)iv;
            else if (strcmp(key, "png_level") == 0 && iv >= -1 && iv <= 9)
                c->png_level = (int)iv;
            else if (strcmp(key, "zstd_level") == 0 && iv >= 1 && iv <= 19)
                c->zstd_level = (int)iv;
            else if (strcmp(key, "frozenlake_border_walks") == 0 && (iv == 0 || iv == 1))
                c->frozenlake_border_walks = (int)iv;
            else if (strcmp(key, "minibehavior_random_table") == 0 && (iv == 0 || iv == 1))
                c->minibehavior_random_table = (int)iv;
            else if (strcmp(key, "frozenlake_per_map") == 0 && iv >= 1 && iv <= 64)
                c->frozenlake_per_map = (uint32_t)iv;
            else
                MVOT_FAIL_IF(1, err, MVOT_ERR_INVALID, ctx, "%s: unknown key or bad value", key);
        }
    }
    st = mvot_gen_config_validate(c, err);
cleanup:
    return st;
}

/* ---- one episode ---- */

static uint32_t pick_size(const struct mvot_gen_config *c, enum mvot_task t, struct mvot_rng *rng)
{
    uint32_t lo, hi;
    uint64_t total = 0;
    mvot_gen_task_grid_range(t, &lo, &hi);
    for (uint32_t n = lo; n <= hi; n++)
        total += c->size_weight[t][n];
    if (total == 0)
        return lo + (uint32_t)mvot_rng_below(rng, hi - lo + 1);
    uint64_t x = mvot_rng_below(rng, total);
    for (uint32_t n = lo; n <= hi; n++) {
        if (x < c->size_weight[t][n])
            return n;
        x -= c->size_weight[t][n];
    }
    return hi;
}

static char balanced_target(const struct mvot_gen_config *c, enum mvot_task t, uint64_t index)
{
    uint32_t k = N_OPTIONS[t], perm[4] = {0, 1, 2, 3};
    struct mvot_rng rng;
    mvot_rng_derive(&rng, c->seed, DOM_BALANCE + (uint64_t)t, index / k);
    mvot_rng_shuffle(&rng, perm, k, sizeof perm[0]);
    return (char)('A' + perm[index % k]);
}

enum mvot_split mvot_gen_split_of(const double frac[3], uint64_t layout_hash)
{
    double u = (double)(layout_hash >> 11) * (1.0 / 9007199254740992.0);
    if (u < frac[0])
        return MVOT_SPLIT_TRAIN;
    if (u < frac[0] + frac[1])
        return MVOT_SPLIT_DEV;
    return frac[2] > 0 ? MVOT_SPLIT_TEST : (frac[1] > 0 ? MVOT_SPLIT_DEV : MVOT_SPLIT_TRAIN);
}

struct ep_result {
    enum mvot_task task;
    uint64_t index;
    struct mvot_draft d;
    struct mvot_trace t;
    uint64_t seed, dedup, layout, path; /* path: MAZE only, else 0 */
    enum mvot_split split;
    char key[48];
    json_t *rec;
    uint32_t n_frames;
    uint8_t *png[MVOT_GEN_MAX_STEPS + 1];
    size_t png_len[MVOT_GEN_MAX_STEPS + 1];
    struct mvot_tarz_frame frame; /* rendering: the archive frame, compressed by the worker */
};

static void result_free(struct ep_result *r)
{
    if (!r)
        return;
    mvot_tarz_frame_free(&r->frame);
    json_decref(r->rec);
    for (uint32_t k = 0; k < r->n_frames; k++)
        free(r->png[k]);
    free(r);
}

static enum mvot_status make_draft(const struct mvot_gen_config *c, struct ep_result *r,
                                   uint32_t attempt, struct mvot_error *err)
{
    uint64_t base = mvot_rng_mix(c->seed, DOM_EPISODE + (uint64_t)r->task, r->index);
    uint64_t s = attempt == 0 ? base : mvot_rng_mix(base, DOM_ATTEMPT, attempt);
    struct mvot_rng rng;
    mvot_rng_seed(&rng, s);
    uint32_t n = pick_size(c, r->task, &rng);
    char target = balanced_target(c, r->task, r->index);
    enum mvot_status st;
    switch (r->task) {
    case MVOT_TASK_MAZE:
        st = mvot_maze_draft(&rng, n, target, c->min_steps, c->max_steps, &r->d, err);
        break;
    case MVOT_TASK_FROZENLAKE:
        if (c->frozenlake_per_map > 1) {
            /* The block's map (and grid size) comes from the block's own generator, so every
             * episode of the block, on any attempt, sees the same map. */
            struct mvot_rng brng;
            mvot_rng_derive(&brng, c->seed, DOM_FLMAP, r->index / c->frozenlake_per_map);
            n = pick_size(c, r->task, &brng);
            mvot_frozenlake_map(&brng, n, c->min_steps, c->max_steps, c->frozenlake_border_walks,
                                c->frozenlake_per_map, &r->d);
            st = mvot_frozenlake_on_map(&rng, target, c->min_steps, c->max_steps,
                                        c->frozenlake_border_walks, &r->d, err);
        } else {
            st = mvot_frozenlake_draft(&rng, n, target, c->min_steps, c->max_steps,
                                       c->frozenlake_border_walks, &r->d, err);
        }
        break;
    default:
        st = mvot_minibehavior_draft(&rng, n, target, c->min_steps, c->max_steps,
                                     c->minibehavior_random_table, &r->d, err);
        break;
    }
    if (st != MVOT_OK) {
        mvot_error_prefix(err, "%s-%06llu", mvot_task_name(r->task), (unsigned long long)r->index);
        return st;
    }
    st = mvot_draft_simulate(&r->d, &r->t, err);
    if (st != MVOT_OK)
        return st;
    if (r->t.answer != target)
        return mvot_error_set(err, MVOT_ERR_INTERNAL, "gen", "%s-%06llu: answer %c != target %c",
                              mvot_task_name(r->task), (unsigned long long)r->index, r->t.answer,
                              target);
    r->seed = s;
    r->dedup = mvot_record_dedup_hash(&r->d);
    r->path = 0;
    if (r->task == MVOT_TASK_MAZE) {
        /* The official loader's remove_duplicates drops a maze whose path (start and cells
         * visited) another maze of its grid size already has, whatever the walls. */
        uint8_t key[3 + MVOT_GEN_MAX_STEPS];
        key[0] = (uint8_t)r->d.n;
        key[1] = r->d.start_r;
        key[2] = r->d.start_c;
        memcpy(key + 3, r->d.actions, r->d.n_actions);
        r->path = mvot_hash64(key, 3 + (size_t)r->d.n_actions) | 1;
    }
    r->layout = mvot_record_layout_hash(&r->d);
    r->split = mvot_gen_split_of(c->split_frac, r->layout);
    return MVOT_OK;
}

enum mvot_status mvot_gen_encode_draft(const struct mvot_draft *d, const struct mvot_trace *t,
                                       const struct mvot_record_meta *m, int png_level, int encode,
                                       json_t **rec, uint8_t **png, size_t *png_len,
                                       struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_image img = {0};
    struct mvot_png_opts po;
    struct mvot_board b;
    uint32_t done = 0;
    *rec = NULL;
    mvot_png_opts_default(&po);
    if (png_level >= 0)
        po.zlib_level = png_level;
    MVOT_TRY(mvot_record_build(d, t, m, rec, err));
    MVOT_FAIL_IF(mvot_image_init(&img, m->image_size, m->image_size, 3) != MVOT_OK, err,
                 MVOT_ERR_NOMEM, "gen", "out of memory");
    mvot_board_layout(d->task, d->n, m->image_size, m->style, &b);
    for (uint32_t k = 0; k < t->n_frames; k++) {
        mvot_render_frame(d, t, k, &b, &img);
        if (encode) {
            MVOT_TRY(mvot_png_encode(&img, &po, &png[k], &png_len[k], err));
            done = k + 1;
        }
    }
cleanup:
    if (st != MVOT_OK) {
        for (uint32_t k = 0; k < done; k++) {
            free(png[k]);
            png[k] = NULL;
        }
        json_decref(*rec);
        *rec = NULL;
    }
    mvot_image_free(&img);
    return st;
}

/* The frame style of a config, with its sprites loaded into *sp when it names a folder
 * (*sp is zeroed either way, for mvot_sprites_free). */
static enum mvot_status style_open(const struct mvot_gen_config *c, struct mvot_sprites *sp,
                                   struct mvot_style *out, struct mvot_error *err)
{
    memset(sp, 0, sizeof *sp);
    out->kind = c->style;
    out->sprites = NULL;
    if (!c->sprites[0])
        return MVOT_OK;
    enum mvot_status st = mvot_sprites_load(c->sprites, sp, err);
    if (st == MVOT_OK)
        out->sprites = sp;
    return st;
}

/* Builds the record and renders + encodes every frame. */
static enum mvot_status finish(const struct mvot_gen_config *c, const struct mvot_style *style,
                               struct ep_result *r, int encode, struct mvot_error *err)
{
    struct mvot_record_meta m = {r->key, c->image_size, r->seed, r->split, style};
    enum mvot_status st = mvot_gen_encode_draft(&r->d, &r->t, &m, c->png_level, encode, &r->rec,
                                                r->png, r->png_len, err);
    if (st == MVOT_OK && encode)
        r->n_frames = r->t.n_frames;
    return st;
}

static void set_key(struct ep_result *r)
{
    snprintf(r->key, sizeof r->key, "%s-%06llu", mvot_task_name(r->task),
             (unsigned long long)r->index);
}

/* ---- the run ---- */

struct u64_set {
    uint64_t *keys;
    uint8_t *vals; /* 0 = empty, else payload | 0x80 */
    size_t cap;
};

static int set_init(struct u64_set *s, size_t n)
{
    s->cap = 16;
    while (s->cap < 2 * n + 16)
        s->cap *= 2;
    s->keys = calloc(s->cap, sizeof *s->keys);
    s->vals = calloc(s->cap, 1);
    return s->keys && s->vals ? 0 : -1;
}

static void set_free(struct u64_set *s)
{
    free(s->keys);
    free(s->vals);
}

/* Returns the slot for key (found or empty). The table never fills: cap > 2 * inserts. */
static size_t set_slot(const struct u64_set *s, uint64_t key)
{
    size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull) & (s->cap - 1);
    while (s->vals[i] && s->keys[i] != key)
        i = (i + 1) & (s->cap - 1);
    return i;
}

/* The plan is text only: every episode is drafted (layout, actions, answer, split) and
 * deduplicated in episode order, and only its final attempt number is kept (a byte per
 * episode), with the set's statistics and a hash of the outcome. Rendering then redraws the
 * chosen attempt of each episode in the range being written. Every part of a split run
 * (docs/cluster.md) computes the same plan, so a part needs no other part's output. */
struct run_ctx {
    const struct mvot_gen_config *cfg;
    struct mvot_style style;
    struct mvot_sprites sprites;
    uint32_t task_list[MVOT_TASK_COUNT], n_tasks;
    struct mvot_tarz_writer *tar;
    const struct mvot_progress *prog;
    uint64_t total, planned, first, count, written; /* written: of [first, first + count) */
    uint8_t *attempt;                               /* [total]: < MAX_ATTEMPTS */
    struct mvot_hasher plan_hash;
    struct u64_set dedup, layouts, paths;
    uint64_t counts[MVOT_TASK_COUNT][3], answers[MVOT_TASK_COUNT][4];
    uint64_t grids[MVOT_TASK_COUNT][MVOT_GEN_GRID_MAX + 1], frames[MVOT_TASK_COUNT];
    uint64_t steps[MVOT_TASK_COUNT], dup_rejected, leakage, n_layouts;
};

/* Episode g of the global order: tasks in enum order, then index. */
static struct ep_result *new_result(const struct run_ctx *ctx, uint64_t g)
{
    struct ep_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->task = (enum mvot_task)ctx->task_list[g / ctx->cfg->episodes];
    r->index = g % ctx->cfg->episodes;
    set_key(r);
    return r;
}

static enum mvot_status plan_work(void *vctx, size_t i, int worker, void **result,
                                  struct mvot_error *err)
{
    struct run_ctx *ctx = vctx;
    (void)worker;
    struct ep_result *r = new_result(ctx, i);
    if (!r)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "gen", "out of memory");
    enum mvot_status st = make_draft(ctx->cfg, r, 0, err);
    if (st != MVOT_OK) {
        result_free(r);
        return st;
    }
    *result = r;
    return MVOT_OK;
}

static void discard(void *vctx, void *result)
{
    (void)vctx;
    result_free(result);
}

static int path_taken(const struct run_ctx *ctx, const struct ep_result *r)
{
    return r->path && ctx->paths.vals[set_slot(&ctx->paths, r->path)];
}

static void hash_u64(struct mvot_hasher *h, uint64_t v)
{
    uint8_t b[8];
    for (int k = 0; k < 8; k++)
        b[k] = (uint8_t)(v >> (8 * k)); /* little-endian whatever the host */
    mvot_hasher_update(h, b, sizeof b);
}

static enum mvot_status plan_emit(void *vctx, size_t i, void *result, struct mvot_error *err)
{
    struct run_ctx *ctx = vctx;
    struct ep_result *r = result;
    enum mvot_status st = MVOT_OK;
    uint32_t used = 0;
    size_t slot = set_slot(&ctx->dedup, r->dedup);
    for (uint32_t attempt = 1; ctx->dedup.vals[slot] || path_taken(ctx, r); attempt++) {
        /* A duplicate: redraw here, in order, so the outcome is thread-independent. */
        ctx->dup_rejected++;
        MVOT_FAIL_IF(attempt >= MAX_ATTEMPTS, err, MVOT_ERR_INVALID, "gen",
                     "%s: no unique episode after %d attempts (too many episodes for the grid "
                     "sizes and step range?)",
                     r->key, MAX_ATTEMPTS);
        MVOT_TRY(make_draft(ctx->cfg, r, attempt, err));
        used = attempt;
        slot = set_slot(&ctx->dedup, r->dedup);
    }
    ctx->attempt[i] = (uint8_t)used;
    ctx->dedup.keys[slot] = r->dedup;
    ctx->dedup.vals[slot] = 0x80;
    if (r->path) {
        size_t ps = set_slot(&ctx->paths, r->path);
        ctx->paths.keys[ps] = r->path;
        ctx->paths.vals[ps] = 0x80;
    }
    size_t ls = set_slot(&ctx->layouts, r->layout);
    if (!ctx->layouts.vals[ls]) {
        ctx->layouts.keys[ls] = r->layout;
        ctx->n_layouts++;
    }
    uint8_t before = ctx->layouts.vals[ls], bit = (uint8_t)(1u << r->split);
    if ((before & 0x07) && !(before & bit))
        ctx->leakage++; /* the layout was already seen in another split */
    ctx->layouts.vals[ls] = (uint8_t)(before | bit | 0x80);
    /* The seed fixes the draft for a given config; the dedup hash guards the draft code. */
    hash_u64(&ctx->plan_hash, r->seed);
    hash_u64(&ctx->plan_hash, r->dedup);
    ctx->counts[r->task][r->split]++;
    ctx->answers[r->task][r->t.answer - 'A']++;
    ctx->grids[r->task][r->d.n]++;
    ctx->frames[r->task] += r->t.n_frames;
    ctx->steps[r->task] += r->d.n_actions;
    ctx->planned++;
    mvot_progress_report(ctx->prog, "gen: plan", ctx->planned, ctx->total);
cleanup:
    result_free(r);
    return st;
}

/* The plan goes to the pool in batches: drafting one episode is a few microseconds, less
 * than handing an item to a thread, so one item per episode made more threads slower. The
 * batches are emitted in order, episode by episode, exactly as single items were. */
#define PLAN_BATCH 256

struct plan_batch {
    size_t first, n;
    void *r[PLAN_BATCH];
};

static void plan_batch_discard(void *vctx, void *result)
{
    struct plan_batch *pb = result;
    for (size_t k = 0; pb && k < pb->n; k++)
        discard(vctx, pb->r[k]);
    free(pb);
}

static enum mvot_status plan_batch_work(void *vctx, size_t b, int worker, void **result,
                                        struct mvot_error *err)
{
    struct run_ctx *ctx = vctx;
    struct plan_batch *pb = calloc(1, sizeof *pb);
    if (!pb)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "gen", "out of memory");
    pb->first = b * PLAN_BATCH;
    size_t end = pb->first + PLAN_BATCH < ctx->total ? pb->first + PLAN_BATCH : ctx->total;
    for (size_t i = pb->first; i < end; i++, pb->n++) {
        enum mvot_status st = plan_work(vctx, i, worker, &pb->r[pb->n], err);
        if (st != MVOT_OK) {
            plan_batch_discard(vctx, pb);
            return st;
        }
    }
    *result = pb;
    return MVOT_OK;
}

static enum mvot_status plan_batch_emit(void *vctx, size_t b, void *result, struct mvot_error *err)
{
    struct plan_batch *pb = result;
    enum mvot_status st = MVOT_OK;
    (void)b;
    size_t k = 0;
    for (; k < pb->n && st == MVOT_OK; k++) {
        st = plan_emit(vctx, pb->first + k, pb->r[k], err); /* frees its result */
        pb->r[k] = NULL;
    }
    for (; k < pb->n; k++)
        discard(vctx, pb->r[k]);
    free(pb);
    return st;
}

/* The episode's archive frame: its members, compressed here in the worker, so that the
 * ordered emit only appends bytes (the frame does not depend on the thread that makes it).
 * The PNGs are freed once in the frame. */
static enum mvot_status build_frame(const struct run_ctx *ctx, struct ep_result *r,
                                    struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *json = mvot_json_dumps(r->rec), *name = mvot_strdupf("%s.json", r->key);
    MVOT_FAIL_IF(!json || !name, err, MVOT_ERR_NOMEM, "gen", "out of memory");
    MVOT_TRY(mvot_tarz_frame_add(&r->frame, "gen", name, json, strlen(json), err));
    for (uint32_t k = 0; k < r->n_frames; k++) {
        free(name);
        name = mvot_strdupf("%s.%u.png", r->key, k);
        MVOT_FAIL_IF(!name, err, MVOT_ERR_NOMEM, "gen", "out of memory");
        MVOT_TRY(mvot_tarz_frame_add(&r->frame, "gen", name, r->png[k], r->png_len[k], err));
        free(r->png[k]);
        r->png[k] = NULL;
    }
    MVOT_TRY(mvot_tarz_frame_finish(&r->frame, (int)ctx->cfg->zstd_level, "gen", err));
    mvot_buf_free(&r->frame.tar);
cleanup:
    free(name);
    free(json);
    return st;
}

static enum mvot_status render_work(void *vctx, size_t i, int worker, void **result,
                                    struct mvot_error *err)
{
    struct run_ctx *ctx = vctx;
    (void)worker;
    uint64_t g = ctx->first + i;
    struct ep_result *r = new_result(ctx, g);
    if (!r)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "gen", "out of memory");
    enum mvot_status st = make_draft(ctx->cfg, r, ctx->attempt[g], err);
    if (st == MVOT_OK)
        st = finish(ctx->cfg, &ctx->style, r, 1, err);
    if (st == MVOT_OK)
        st = build_frame(ctx, r, err);
    if (st != MVOT_OK) {
        result_free(r);
        return st;
    }
    *result = r;
    return MVOT_OK;
}

static enum mvot_status render_emit(void *vctx, size_t i, void *result, struct mvot_error *err)
{
    struct run_ctx *ctx = vctx;
    struct ep_result *r = result;
    enum mvot_status st = MVOT_OK;
    (void)i;
    struct mvot_tarz_episode te = {r->key, (uint8_t)r->task, (uint8_t)r->split, r->n_frames - 1};
    MVOT_TRY(mvot_tarz_writer_copy(ctx->tar, &te, r->frame.bytes.data, &r->frame.e, err));
    ctx->written++;
    mvot_progress_report(ctx->prog, "gen", ctx->written, ctx->count);
cleanup:
    result_free(r);
    return st;
}

static json_t *split_obj(const uint64_t *v)
{
    return json_pack("{s:I,s:I,s:I}", "train", (json_int_t)v[0], "dev", (json_int_t)v[1], "test",
                     (json_int_t)v[2]);
}

static json_t *build_manifest(const struct run_ctx *ctx, uint64_t archive_hash,
                              uint64_t archive_bytes)
{
    const struct mvot_gen_config *c = ctx->cfg;
    json_t *m = json_object(), *tasks = json_object();
    uint64_t splits[3] = {0}, frames = 0;
    char hex[17];
    for (uint32_t k = 0; k < ctx->n_tasks; k++) {
        uint32_t t = ctx->task_list[k];
        json_t *to = json_object(), *ans = json_object(), *grids = json_object();
        uint64_t tot = ctx->counts[t][0] + ctx->counts[t][1] + ctx->counts[t][2];
        for (uint32_t a = 0; a < N_OPTIONS[t]; a++) {
            char l[2] = {(char)('A' + a), 0};
            json_object_set_new(ans, l, json_integer((json_int_t)ctx->answers[t][a]));
        }
        for (uint32_t n = 0; n <= MVOT_GEN_GRID_MAX; n++)
            if (ctx->grids[t][n]) {
                char l[8];
                snprintf(l, sizeof l, "%u", n);
                json_object_set_new(grids, l, json_integer((json_int_t)ctx->grids[t][n]));
            }
        json_object_set_new(to, "episodes", json_integer((json_int_t)tot));
        json_object_set_new(to, "splits", split_obj(ctx->counts[t]));
        json_object_set_new(to, "answers", ans);
        json_object_set_new(to, "grids", grids);
        json_object_set_new(to, "frames", json_integer((json_int_t)ctx->frames[t]));
        json_object_set_new(to, "steps", json_integer((json_int_t)ctx->steps[t]));
        json_object_set_new(tasks, mvot_task_name((enum mvot_task)t), to);
        for (int s = 0; s < 3; s++)
            splits[s] += ctx->counts[t][s];
        frames += ctx->frames[t];
    }
    json_object_set_new(m, "format", json_string(MVOT_GEN_MANIFEST_FORMAT));
    json_object_set_new(m, "version", json_integer(1));
    json_object_set_new(m, "episode_format_version", json_integer(MVOT_EPISODE_VERSION));
    json_object_set_new(m, "archive_version", json_integer(MVOT_ARCHIVE_VERSION));
    json_object_set_new(m, "tool", json_string("mvot-data"));
    json_object_set_new(m, "tool_version", json_string(MVOT_VERSION));
    json_object_set_new(m, "config", mvot_gen_config_to_json(c));
    json_object_set_new(m, "seed", json_integer((json_int_t)c->seed));
    json_object_set_new(m, "image_size", json_integer(c->image_size));
    json_object_set_new(m, "archive", json_string("episodes.tar.zst"));
    mvot_hash_hex(archive_hash, hex);
    json_object_set_new(m, "archive_xxh3", json_string(hex));
    json_object_set_new(m, "archive_bytes", json_integer((json_int_t)archive_bytes));
    json_object_set_new(m, "episodes", json_integer((json_int_t)ctx->planned));
    json_object_set_new(m, "frames", json_integer((json_int_t)frames));
    json_object_set_new(m, "tasks", tasks);
    json_object_set_new(m, "splits", split_obj(splits));
    json_object_set_new(m, "leakage", json_integer((json_int_t)ctx->leakage));
    json_object_set_new(m, "distinct_layouts", json_integer((json_int_t)ctx->n_layouts));
    json_object_set_new(m, "duplicates_rejected", json_integer((json_int_t)ctx->dup_rejected));
    return m;
}

/* A part's manifest is the whole set's manifest (statistics from the plan) with its own
 * archive's hash and size, format "mvot-gen-part" and a "part" object (docs/cluster.md). */
static enum mvot_status mark_part(json_t *m, const struct run_ctx *ctx,
                                  const struct mvot_gen_part *part, struct mvot_error *err)
{
    char hex[17];
    mvot_hash_hex(mvot_hasher_digest(&ctx->plan_hash), hex);
    json_t *p = json_pack("{s:I,s:I,s:I,s:I,s:s}", "index", (json_int_t)part->index, "count",
                          (json_int_t)part->count, "first", (json_int_t)ctx->first, "episodes",
                          (json_int_t)ctx->count, "plan_xxh3", hex);
    if (!p || json_object_set_new(m, "part", p) != 0 ||
        json_object_set_new(m, "format", json_string(MVOT_GEN_PART_FORMAT)) != 0)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "gen", "out of memory");
    return MVOT_OK;
}

enum mvot_status mvot_gen_archive_identity(const char *path, uint64_t *hash, uint64_t *bytes,
                                           struct mvot_error *err)
{
    enum mvot_status st = mvot_hash_file(path, hash, err);
    if (st != MVOT_OK)
        return st;
    FILE *fp = fopen(path, "rb");
    long sz = -1;
    if (fp && fseek(fp, 0, SEEK_END) == 0)
        sz = ftell(fp);
    if (fp)
        fclose(fp);
    if (sz < 0)
        return mvot_error_set(err, MVOT_ERR_IO, path, "cannot stat archive");
    *bytes = (uint64_t)sz;
    return MVOT_OK;
}

/* The files gen writes into its folder. */
static const char *const gen_files[] = {"episodes.tar.zst", "manifest.json", MVOT_GEN_STATE_FILE};

/* Makes sure out_dir holds nothing but an earlier gen run's files (docs/cli.md, "Output
 * folders"): a gen manifest, or the state file a killed run wrote before its archive; temp
 * files of a killed run are removed. Then records this run in the state file, so a kill
 * before the manifest still leaves files the rerun knows as its own. */
static enum mvot_status claim_out_dir(const char *out_dir, const struct mvot_outdir_lock *lock,
                                      const char *man_path, const char *state_path,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *m = NULL, *state = NULL;
    int ours = 0;
    const char *paths[2] = {state_path, man_path};
    const char *formats[2] = {GEN_STATE_FORMAT, MVOT_GEN_MANIFEST_FORMAT};
    for (int i = 0; i < 2 && !ours; i++) {
        if (mvot_io_exists(paths[i]) && mvot_json_load_file(paths[i], &m, NULL) == MVOT_OK) {
            const char *f = json_string_value(json_object_get(m, "format"));
            /* a part folder (mvot gen --part) is gen's too */
            ours = f &&
                   (strcmp(f, formats[i]) == 0 || (i == 1 && strcmp(f, MVOT_GEN_PART_FORMAT) == 0));
        }
        json_decref(m);
        m = NULL;
    }
    mvot_outdir_clean_stale(lock, gen_files, 3);
    MVOT_TRY(mvot_outdir_check_foreign(out_dir, gen_files, ours ? 3 : 0, "an episode set", err));
    state =
        json_pack("{s:s,s:[s,s]}", "format", GEN_STATE_FORMAT, "files", gen_files[0], gen_files[1]);
    MVOT_FAIL_IF(!state, err, MVOT_ERR_NOMEM, "gen", "out of memory");
    MVOT_TRY(mvot_json_write_file(state_path, state, err));
cleanup:
    json_decref(m);
    json_decref(state);
    return st;
}

enum mvot_status mvot_gen_out_open(const char *out_dir, const char *command, struct mvot_gen_out *o,
                                   struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    memset(o, 0, sizeof *o);
    MVOT_TRY(mvot_outdir_lock(out_dir, command, &o->lock, err));
    o->tar_path = mvot_io_join(out_dir, "episodes.tar.zst");
    o->man_path = mvot_io_join(out_dir, "manifest.json");
    o->state_path = mvot_io_join(out_dir, MVOT_GEN_STATE_FILE);
    MVOT_FAIL_IF(!o->tar_path || !o->man_path || !o->state_path, err, MVOT_ERR_NOMEM, out_dir,
                 "out of memory");
    MVOT_TRY(claim_out_dir(out_dir, o->lock, o->man_path, o->state_path, err));
cleanup:
    return st;
}

void mvot_gen_out_free(struct mvot_gen_out *o)
{
    free(o->tar_path);
    free(o->man_path);
    free(o->state_path);
    mvot_outdir_unlock(o->lock);
    memset(o, 0, sizeof *o);
}

enum mvot_status mvot_gen_run(const struct mvot_gen_config *cfg, const char *out_dir,
                              struct mvot_pool *pool, const struct mvot_progress *prog,
                              json_t **summary, struct mvot_error *err)
{
    return mvot_gen_run_part(cfg, NULL, out_dir, pool, prog, summary, err);
}

/* Sets ctx up for cfg and part (NULL: the whole set) and runs the plan: every episode
 * drafted as text and deduplicated in global order, the same work in every part. */
static enum mvot_status plan_all(struct run_ctx *ctx, const struct mvot_gen_config *cfg,
                                 const struct mvot_gen_part *part, struct mvot_pool *pool,
                                 const struct mvot_progress *prog, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    MVOT_TRY(mvot_gen_config_validate(cfg, err));
    MVOT_FAIL_IF(part && (part->count == 0 || part->index >= part->count), err, MVOT_ERR_INVALID,
                 "gen", "part %u/%u is out of range", part->index, part->count);
    MVOT_TRY(style_open(cfg, &ctx->sprites, &ctx->style, err));
    MVOT_FAIL_IF(mvot_hasher_init(&ctx->plan_hash) != MVOT_OK, err, MVOT_ERR_NOMEM, "gen",
                 "out of memory");
    ctx->cfg = cfg;
    ctx->prog = prog;
    for (uint32_t t = 0; t < MVOT_TASK_COUNT; t++)
        if (cfg->tasks & (1u << t))
            ctx->task_list[ctx->n_tasks++] = t;
    ctx->total = cfg->episodes * ctx->n_tasks;
    /* Part I of N writes episodes [total*I/N, total*(I+1)/N) of the global order: contiguous,
     * so the parts' archives in part order hold the one-process member sequence. */
    ctx->first = part ? ctx->total * part->index / part->count : 0;
    ctx->count = part ? ctx->total * (part->index + 1) / part->count - ctx->first : ctx->total;
    ctx->attempt = calloc((size_t)ctx->total, 1);
    MVOT_FAIL_IF(!ctx->attempt || set_init(&ctx->dedup, ctx->total) != 0 ||
                     set_init(&ctx->layouts, ctx->total) != 0 ||
                     set_init(&ctx->paths, ctx->total) != 0,
                 err, MVOT_ERR_NOMEM, "gen", "out of memory for %llu episodes",
                 (unsigned long long)ctx->total);
    mvot_progress_report(prog, "gen: plan", 0, ctx->total);
    MVOT_TRY(mvot_pool_map_ordered(pool, (size_t)((ctx->total + PLAN_BATCH - 1) / PLAN_BATCH), 0,
                                   plan_batch_work, plan_batch_emit, plan_batch_discard, ctx, err));
    MVOT_FAIL_IF(ctx->leakage != 0, err, MVOT_ERR_INTERNAL, "gen",
                 "%llu layouts appear in more than one split", (unsigned long long)ctx->leakage);
cleanup:
    return st;
}

static void ctx_free(struct run_ctx *ctx)
{
    mvot_tarz_writer_abort(ctx->tar);
    free(ctx->attempt);
    mvot_hasher_free(&ctx->plan_hash);
    set_free(&ctx->dedup);
    set_free(&ctx->layouts);
    set_free(&ctx->paths);
    mvot_sprites_free(&ctx->sprites);
}

enum mvot_status mvot_gen_plan(const struct mvot_gen_config *cfg, struct mvot_pool *pool,
                               const struct mvot_progress *prog, json_t **summary,
                               struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct run_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    if (summary)
        *summary = NULL;
    MVOT_TRY(plan_all(&ctx, cfg, NULL, pool, prog, err));
    uint64_t frames = 0;
    for (uint32_t t = 0; t < MVOT_TASK_COUNT; t++)
        frames += ctx.frames[t];
    char hex[17];
    mvot_hash_hex(mvot_hasher_digest(&ctx.plan_hash), hex);
    if (summary) {
        *summary = json_pack("{s:I,s:I,s:I,s:s}", "episodes", (json_int_t)ctx.planned, "frames",
                             (json_int_t)frames, "duplicates_rejected",
                             (json_int_t)ctx.dup_rejected, "plan_xxh3", hex);
        MVOT_FAIL_IF(!*summary, err, MVOT_ERR_NOMEM, "gen", "out of memory");
    }
cleanup:
    ctx_free(&ctx);
    return st;
}

enum mvot_status mvot_gen_run_part(const struct mvot_gen_config *cfg,
                                   const struct mvot_gen_part *part, const char *out_dir,
                                   struct mvot_pool *pool, const struct mvot_progress *prog,
                                   json_t **summary, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct run_ctx ctx;
    struct mvot_gen_out out = {0};
    json_t *manifest = NULL;
    memset(&ctx, 0, sizeof ctx);
    if (summary)
        *summary = NULL;
    MVOT_TRY(plan_all(&ctx, cfg, part, pool, prog, err));
    MVOT_TRY(mvot_gen_out_open(out_dir, "mvot gen", &out, err));
    MVOT_TRY(mvot_tarz_writer_open(out.tar_path, cfg->zstd_level, &ctx.tar, err));
    mvot_progress_report(prog, "gen", 0, ctx.count);
    MVOT_TRY(mvot_pool_map_ordered(pool, (size_t)ctx.count, 0, render_work, render_emit, discard,
                                   &ctx, err));
    st = mvot_tarz_writer_commit(ctx.tar, err);
    ctx.tar = NULL;
    if (st != MVOT_OK)
        goto cleanup;
    uint64_t h, sz;
    MVOT_TRY(mvot_gen_archive_identity(out.tar_path, &h, &sz, err));
    manifest = build_manifest(&ctx, h, sz);
    MVOT_FAIL_IF(!manifest, err, MVOT_ERR_NOMEM, "gen", "out of memory");
    if (part)
        MVOT_TRY(mark_part(manifest, &ctx, part, err));
    MVOT_TRY(mvot_json_write_file(out.man_path, manifest, err));
    unlink(out.state_path);
    if (summary) {
        *summary = manifest;
        manifest = NULL;
    }
cleanup:
    ctx_free(&ctx);
    json_decref(manifest);
    mvot_gen_out_free(&out);
    return st;
}

/* ---- single-episode entry points ---- */

static enum mvot_status one(const struct mvot_gen_config *cfg, enum mvot_task task, uint64_t index,
                            int encode, struct ep_result **out, struct mvot_error *err)
{
    enum mvot_status st = mvot_gen_config_validate(cfg, err);
    struct ep_result *r = NULL;
    struct mvot_sprites sp;
    struct mvot_style style;
    *out = NULL;
    if (st != MVOT_OK)
        return st;
    st = style_open(cfg, &sp, &style, err);
    if (st != MVOT_OK)
        return st;
    r = calloc(1, sizeof *r);
    if (!r) {
        mvot_sprites_free(&sp);
        return mvot_error_set(err, MVOT_ERR_NOMEM, "gen", "out of memory");
    }
    r->task = task;
    r->index = index;
    set_key(r);
    st = make_draft(cfg, r, 0, err);
    if (st == MVOT_OK)
        st = finish(cfg, &style, r, encode, err);
    mvot_sprites_free(&sp);
    if (st != MVOT_OK) {
        result_free(r);
        return st;
    }
    *out = r;
    return MVOT_OK;
}

enum mvot_status mvot_gen_one(const struct mvot_gen_config *cfg, enum mvot_task task,
                              uint64_t index, struct mvot_episode *out, struct mvot_error *err)
{
    struct ep_result *r;
    enum mvot_status st = one(cfg, task, index, 1, &r, err);
    memset(out, 0, sizeof *out);
    if (st != MVOT_OK)
        return st;
    st = mvot_episode_from_json(r->rec, r->key, out, err);
    if (st == MVOT_OK) {
        for (uint32_t k = 0; k < r->n_frames; k++) {
            out->frame_png[k] = r->png[k];
            out->frame_png_len[k] = r->png_len[k];
            r->png[k] = NULL;
        }
    }
    result_free(r);
    return st;
}

enum mvot_status mvot_gen_render_bench(const struct mvot_gen_config *cfg, enum mvot_task task,
                                       uint64_t index, int encode, uint32_t *frames,
                                       struct mvot_error *err)
{
    struct ep_result *r;
    enum mvot_status st = one(cfg, task, index, encode, &r, err);
    if (st != MVOT_OK)
        return st;
    *frames = r->t.n_frames;
    result_free(r);
    return MVOT_OK;
}
