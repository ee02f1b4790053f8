/* Official MVoT layout export/import (gen/official.h).
 *
 * Export groups episodes by grid size in archive order: maze path_id and frozenlake data_id
 * count up per grid size; frozenlake episodes sharing an env_desc share one env entry (ids
 * "0", "1", ... in order of first appearance). Import walks grid/level files in increasing n
 * and entries in file order, so import followed by export reproduces the official JSON. */
#include "gen/official.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/png.h"
#include "core/json.h"
#include "gen/episode.h"
#include "gen/gen.h"
#include "gen/internal.h"
#include "gen/record.h"
#include "gen/tarz.h"

static const char *const DIRS[4] = {"left", "down", "right", "up"};

/* ---- export ---- */

struct fl_level {
    json_t *data;     /* env id -> env object */
    json_t *desc_ids; /* env_desc -> env id */
    uint32_t next_env, next_data;
};

static enum mvot_status app(json_t *a, json_t *v, struct mvot_error *err)
{
    if (!v || json_array_append_new(a, v) != 0)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "export", "out of memory");
    return MVOT_OK;
}

static enum mvot_status write_frame(const char *out_dir, const char *rel, const uint8_t *png,
                                    size_t len, struct mvot_error *err)
{
    enum mvot_status st;
    char *path = mvot_io_join(out_dir, rel);
    if (!path)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "export", "out of memory");
    char *slash = strrchr(path, '/');
    *slash = 0;
    st = mvot_io_mkdirs(path, err);
    *slash = '/';
    if (st == MVOT_OK)
        st = mvot_io_write_file(path, png, len, err);
    free(path);
    return st;
}

/* An archive frame copied as it is: checked first, so a truncated or empty frame does not
 * become a broken file in the official layout. */
static enum mvot_status copy_frame(const char *out_dir, const char *rel, const uint8_t *png,
                                   size_t len, struct mvot_error *err)
{
    struct mvot_image img = {0};
    enum mvot_status st = mvot_png_decode(png, len, rel, &img, err);
    uint32_t w = img.w, h = img.h;
    mvot_image_free(&img);
    if (st != MVOT_OK) {
        mvot_error_prefix(err, "export: frame is not a complete PNG");
        return st;
    }
    if (!w || !h)
        return mvot_error_corrupt(err, rel, -1, "export: frame is %ux%u", w, h);
    return write_frame(out_dir, rel, png, len, err);
}

static int official_style(const struct mvot_episode *ep)
{
    const char *s = json_string_value(json_object_get(ep->record, "style"));
    return s && strcmp(s, "official") == 0;
}

/* Official-style maze frames are exported as the official frames are: 640x480 pictures with
 * the maze square where the evaluator looks, drawn afresh by our renderer (the archive holds
 * them squashed to S x S, which is what the official loader makes of them anyway). */
static enum mvot_status export_maze_canvas(const struct mvot_episode *ep,
                                           const struct mvot_draft *d, const char *prefix,
                                           const char *out_dir, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_trace t;
    struct mvot_image img = {0};
    struct mvot_png_opts po;
    const struct mvot_style style = {MVOT_GEN_STYLE_OFFICIAL, NULL};
    struct mvot_board b;
    uint8_t *png = NULL;
    size_t len = 0;
    char rel[128];
    mvot_png_opts_default(&po);
    MVOT_TRY(mvot_draft_simulate(d, &t, err));
    MVOT_CORRUPT_IF(t.n_frames != ep->n_frames, err, ep->key,
                    "replay gives %u frames, the record %u", t.n_frames, ep->n_frames);
    MVOT_TRY(mvot_image_init(&img, MVOT_OFFICIAL_MAZE_W, MVOT_OFFICIAL_MAZE_H, 3));
    mvot_board_layout(d->task, d->n, ep->image_size, &style, &b);
    for (uint32_t k = 0; k < t.n_frames; k++) {
        mvot_render_frame(d, &t, k, &b, &img);
        MVOT_TRY(mvot_png_encode(&img, &po, &png, &len, err));
        snprintf(rel, sizeof rel, "%s_%u.jpg", prefix, k + 1);
        MVOT_TRY(write_frame(out_dir, rel, png, len, err));
        free(png);
        png = NULL;
    }
cleanup:
    free(png);
    mvot_image_free(&img);
    return st;
}

static enum mvot_status export_maze(const struct mvot_episode *ep, const struct mvot_draft *d,
                                    json_t *list, const char *out_dir, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint32_t id = (uint32_t)json_array_size(list), n = d->n;
    char prefix[64], rel[128];
    json_t *e = json_object(), *locs = json_array(), *al = json_array(), *cand = json_array();
    json_t *layout = json_object_get(ep->record, "layout");
    json_t *states = json_object_get(ep->record, "states");
    if (!e || !locs || !al || !cand) {
        json_decref(e);
        json_decref(locs);
        json_decref(al);
        json_decref(cand);
        return mvot_error_set(err, MVOT_ERR_NOMEM, "export", "out of memory");
    }
    json_object_set_new(e, "path_locs", locs);
    json_object_set_new(e, "action_list", al);
    json_object_set_new(e, "candidate_locs", cand);
    MVOT_TRY(app(list, e, err));
    snprintf(prefix, sizeof prefix, "maze/grid%u/path_%u", n, id);
    json_object_set_new(e, "path_id", json_integer(id));
    json_object_set_new(e, "grid_num", json_integer(n));
    json_object_set_new(e, "file_prefix", json_string(prefix));
    json_object_set_new(e, "maze_info", json_copy(json_object_get(layout, "maze_info")));
    for (size_t k = 0; k < json_array_size(states); k++)
        MVOT_TRY(app(locs, json_copy(json_array_get(states, k)), err));
    for (uint32_t i = 0; i < d->n_actions; i++) {
        snprintf(rel, sizeof rel, "%s-1", DIRS[d->actions[i] & 3]);
        MVOT_TRY(app(al, json_string(rel), err));
    }
    json_t *c = json_object_get(layout, "candidates");
    for (size_t k = 0; k < json_array_size(c); k++)
        MVOT_TRY(app(cand, json_copy(json_array_get(c, k)), err));
    if (official_style(ep)) {
        MVOT_TRY(export_maze_canvas(ep, d, prefix, out_dir, err));
    } else {
        for (uint32_t k = 0; k < ep->n_frames; k++) {
            snprintf(rel, sizeof rel, "%s_%u.jpg", prefix, k + 1);
            MVOT_TRY(copy_frame(out_dir, rel, ep->frame_png[k], ep->frame_png_len[k], err));
        }
    }
cleanup:
    return st;
}

static enum mvot_status export_frozenlake(const struct mvot_episode *ep, const struct mvot_draft *d,
                                          struct fl_level *lv, const char *out_dir,
                                          struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char id[32], rel[128];
    uint32_t n = d->n;
    json_t *env;
    json_t *idv = json_object_get(lv->desc_ids, d->desc);
    if (idv) {
        env = json_object_get(lv->data, json_string_value(idv));
    } else {
        snprintf(id, sizeof id, "%u", lv->next_env++);
        env = json_pack("{s:[],s:[],s:[],s:[],s:[],s:[],s:s}", "actions", "states", "rewards",
                        "exec_states", "additional_actions", "data_id", "env_desc", d->desc);
        if (!env || json_object_set_new(lv->data, id, env) != 0 ||
            json_object_set_new(lv->desc_ids, d->desc, json_string(id)) != 0)
            return mvot_error_set(err, MVOT_ERR_NOMEM, "export", "out of memory");
    }
    json_t *acts = json_array(), *sts = json_array(), *extra = json_array();
    MVOT_TRY(app(json_object_get(env, "actions"), acts, err));
    MVOT_TRY(app(json_object_get(env, "states"), sts, err));
    MVOT_TRY(app(json_object_get(env, "additional_actions"), extra, err));
    for (uint32_t i = 0; i < d->n_actions; i++)
        MVOT_TRY(app(acts, json_integer(d->actions[i]), err));
    for (uint32_t i = 0; i < d->n_extra; i++)
        MVOT_TRY(app(extra, json_integer(d->extra[i]), err));
    json_t *states = json_object_get(ep->record, "states");
    for (size_t k = 0; k < json_array_size(states); k++) {
        json_t *p = json_array_get(states, k);
        json_int_t r = json_integer_value(json_array_get(p, 0)),
                   c = json_integer_value(json_array_get(p, 1));
        MVOT_TRY(app(sts, json_integer(r * (json_int_t)n + c), err));
    }
    const char *exec = json_string_value(json_object_get(ep->record, "exec_state"));
    MVOT_CORRUPT_IF(!exec, err, ep->key, "frozenlake record without exec_state");
    MVOT_TRY(app(json_object_get(env, "exec_states"), json_string(exec), err));
    MVOT_TRY(app(json_object_get(env, "rewards"),
                 json_real(strcmp(exec, "success") == 0 ? 1.0 : 0.0), err));
    uint32_t data_id = lv->next_data++;
    MVOT_TRY(app(json_object_get(env, "data_id"), json_integer(data_id), err));
    for (uint32_t k = 0; k < ep->n_frames; k++) {
        snprintf(rel, sizeof rel, "frozenlake/level%u/%u/%u.png", n, data_id, k);
        MVOT_TRY(copy_frame(out_dir, rel, ep->frame_png[k], ep->frame_png_len[k], err));
    }
cleanup:
    return st;
}

enum mvot_status mvot_official_export(const char *episodes, const char *out_dir,
                                      const struct mvot_progress *prog, json_t **summary,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_episode_reader *r = NULL;
    json_t *maze[MVOT_GEN_MAX_N + 1] = {0};
    struct fl_level fl[MVOT_GEN_MAX_N + 1];
    uint64_t counts[MVOT_TASK_COUNT] = {0}, frames = 0;
    char rel[64];
    memset(fl, 0, sizeof fl);
    if (summary)
        *summary = NULL;
    MVOT_TRY(mvot_episode_reader_open(episodes, &r, err));
    MVOT_TRY(mvot_io_mkdirs(out_dir, err));
    for (;;) {
        struct mvot_episode ep;
        struct mvot_draft d;
        int done = 0;
        MVOT_TRY(mvot_episode_reader_next(r, &ep, &done, err));
        if (done)
            break;
        st = mvot_record_to_draft(ep.record, ep.key, &d, err);
        if (st == MVOT_OK && ep.task == MVOT_TASK_MAZE) {
            if (!maze[d.n])
                maze[d.n] = json_array();
            st = maze[d.n] ? export_maze(&ep, &d, maze[d.n], out_dir, err)
                           : mvot_error_set(err, MVOT_ERR_NOMEM, "export", "out of memory");
        } else if (st == MVOT_OK && ep.task == MVOT_TASK_FROZENLAKE) {
            if (!fl[d.n].data) {
                fl[d.n].data = json_object();
                fl[d.n].desc_ids = json_object();
            }
            st = fl[d.n].data && fl[d.n].desc_ids
                     ? export_frozenlake(&ep, &d, &fl[d.n], out_dir, err)
                     : mvot_error_set(err, MVOT_ERR_NOMEM, "export", "out of memory");
        }
        counts[ep.task]++;
        if (ep.task != MVOT_TASK_MINIBEHAVIOR)
            frames += ep.n_frames;
        mvot_episode_free(&ep);
        if (st != MVOT_OK)
            goto cleanup;
        mvot_progress_report(prog, "export-mvot", counts[0] + counts[1] + counts[2], 0);
    }
    for (uint32_t n = 0; n <= MVOT_GEN_MAX_N; n++) {
        if (maze[n]) {
            snprintf(rel, sizeof rel, "maze/grid%u.json", n);
            char *p = mvot_io_join(out_dir, rel);
            MVOT_FAIL_IF(!p, err, MVOT_ERR_NOMEM, "export", "out of memory");
            char *dir = mvot_io_join(out_dir, "maze");
            st = dir ? mvot_io_mkdirs(dir, err) : MVOT_ERR_NOMEM;
            free(dir);
            if (st == MVOT_OK)
                st = mvot_json_write_file(p, maze[n], err);
            free(p);
            if (st != MVOT_OK)
                goto cleanup;
        }
        if (fl[n].data) {
            snprintf(rel, sizeof rel, "frozenlake/level%u", n);
            char *dir = mvot_io_join(out_dir, rel);
            char *p = dir ? mvot_io_join(dir, "data.json") : NULL;
            st = p ? mvot_io_mkdirs(dir, err) : MVOT_ERR_NOMEM;
            if (st == MVOT_OK)
                st = mvot_json_write_file(p, fl[n].data, err);
            free(dir);
            free(p);
            if (st != MVOT_OK)
                goto cleanup;
        }
    }
    if (summary)
        *summary = json_pack("{s:I,s:I,s:I,s:I}", "maze", (json_int_t)counts[0], "frozenlake",
                             (json_int_t)counts[1], "minibehavior_skipped", (json_int_t)counts[2],
                             "frames", (json_int_t)frames);
cleanup:
    if (st == MVOT_ERR_NOMEM && err && err->msg[0] == 0)
        mvot_error_set(err, st, "export", "out of memory");
    mvot_episode_reader_close(r);
    for (uint32_t n = 0; n <= MVOT_GEN_MAX_N; n++) {
        json_decref(maze[n]);
        json_decref(fl[n].data);
        json_decref(fl[n].desc_ids);
    }
    return st;
}

/* ---- import ---- */

struct importer {
    struct mvot_tarz_writer *tar;
    uint32_t image_size;
    uint64_t counts[MVOT_TASK_COUNT], frames, splits[3];
    const struct mvot_progress *prog;
};

static const double IMPORT_SPLIT[3] = {0.8, 0.1, 0.1};

/* Replays, renders and appends one draft; origin is merged into the record. */
static enum mvot_status import_draft(struct importer *im, struct mvot_draft *d, json_t *origin,
                                     const char *where, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_trace t;
    char key[48];
    json_t *rec = NULL;
    uint8_t *png[MVOT_GEN_MAX_STEPS + 1] = {0};
    size_t png_len[MVOT_GEN_MAX_STEPS + 1] = {0};
    char *json = NULL, *name = NULL;
    MVOT_TRY(mvot_draft_simulate(d, &t, err));
    snprintf(key, sizeof key, "%s-%06llu", mvot_task_name(d->task),
             (unsigned long long)im->counts[d->task]);
    enum mvot_split split = mvot_gen_split_of(IMPORT_SPLIT, mvot_record_layout_hash(d));
    struct mvot_record_meta m = {key, im->image_size, 0, split, NULL};
    MVOT_TRY(mvot_gen_encode_draft(d, &t, &m, -1, 1, &rec, png, png_len, err));
    json_object_set_new(rec, "origin", json_incref(origin));
    json = mvot_json_dumps(rec);
    name = mvot_strdupf("%s.json", key);
    MVOT_FAIL_IF(!json || !name, err, MVOT_ERR_NOMEM, where, "out of memory");
    struct mvot_tarz_episode te = {key, (uint8_t)d->task, (uint8_t)split, t.n_frames - 1};
    MVOT_TRY(mvot_tarz_writer_begin(im->tar, &te, err));
    MVOT_TRY(mvot_tarz_writer_add(im->tar, name, json, strlen(json), err));
    for (uint32_t k = 0; k < t.n_frames; k++) {
        free(name);
        name = mvot_strdupf("%s.%u.png", key, k);
        MVOT_FAIL_IF(!name, err, MVOT_ERR_NOMEM, where, "out of memory");
        MVOT_TRY(mvot_tarz_writer_add(im->tar, name, png[k], png_len[k], err));
    }
    MVOT_TRY(mvot_tarz_writer_end(im->tar, err));
    im->counts[d->task]++;
    im->frames += t.n_frames;
    im->splits[split]++;
    mvot_progress_report(im->prog, "import-mvot", im->counts[0] + im->counts[1], 0);
cleanup:
    for (uint32_t k = 0; k <= MVOT_GEN_MAX_STEPS; k++)
        free(png[k]);
    json_decref(rec);
    free(json);
    free(name);
    return st;
}

static int get_rc(const json_t *p, uint32_t n, uint8_t *r, uint8_t *c)
{
    if (!json_is_array(p) || json_array_size(p) != 2)
        return -1;
    json_int_t rr = json_integer_value(json_array_get(p, 0));
    json_int_t cc = json_integer_value(json_array_get(p, 1));
    if (!json_is_integer(json_array_get(p, 0)) || !json_is_integer(json_array_get(p, 1)) ||
        rr < 0 || cc < 0 || rr >= (json_int_t)n || cc >= (json_int_t)n)
        return -1;
    *r = (uint8_t)rr;
    *c = (uint8_t)cc;
    return 0;
}

static enum mvot_status import_maze_file(struct importer *im, const char *path, uint32_t n,
                                         struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *j = NULL, *e;
    size_t i;
    MVOT_TRY(mvot_json_load_file(path, &j, err));
    if (!json_is_array(j)) {
        st = mvot_error_corrupt(err, path, -1, "expected a list of paths");
        goto cleanup;
    }
    json_array_foreach(j, i, e)
    {
        struct mvot_draft d;
        memset(&d, 0, sizeof d);
        d.task = MVOT_TASK_MAZE;
        d.n = n;
        const char *info = json_string_value(json_object_get(e, "maze_info"));
        json_t *locs = json_object_get(e, "path_locs"), *al = json_object_get(e, "action_list");
        json_t *cand = json_object_get(e, "candidate_locs");
        if (json_integer_value(json_object_get(e, "grid_num")) != (json_int_t)n || !info ||
            strlen(info) != 2 * n * n || !json_is_array(locs) || !json_is_array(al) ||
            json_array_size(locs) != json_array_size(al) + 1 || json_array_size(al) < 1 ||
            json_array_size(al) > MVOT_GEN_MAX_STEPS || json_array_size(cand) != 4) {
            st = mvot_error_corrupt(err, path, -1, "entry %zu: malformed maze entry", i);
            goto cleanup;
        }
        for (uint32_t k = 0; k < n * n; k++) {
            d.open_down[k] = info[k] == 'T';
            d.open_right[k] = info[n * n + k] == 'T';
        }
        uint8_t r0, c0;
        if (get_rc(json_array_get(locs, 0), n, &d.start_r, &d.start_c) != 0) {
            st = mvot_error_corrupt(err, path, -1, "entry %zu: bad path_locs[0]", i);
            goto cleanup;
        }
        r0 = d.start_r;
        c0 = d.start_c;
        d.n_actions = (uint32_t)json_array_size(al);
        for (uint32_t k = 0; k < d.n_actions; k++) {
            const char *a = json_string_value(json_array_get(al, k));
            int id = -1;
            for (int q = 0; q < 4 && a; q++)
                if (strncmp(a, DIRS[q], strlen(DIRS[q])) == 0 &&
                    strcmp(a + strlen(DIRS[q]), "-1") == 0)
                    id = q;
            uint8_t r1, c1;
            if (id < 0 || get_rc(json_array_get(locs, k + 1), n, &r1, &c1) != 0 ||
                (int)r1 != (int)r0 + mvot_dir_dr[id] || (int)c1 != (int)c0 + mvot_dir_dc[id]) {
                st = mvot_error_corrupt(
                    err, path, -1, "entry %zu: action_list[%u] does not match path_locs", i, k);
                goto cleanup;
            }
            d.actions[k] = (uint8_t)id;
            r0 = r1;
            c0 = c1;
        }
        for (uint32_t k = 0; k < 4; k++)
            if (get_rc(json_array_get(cand, k), n, &d.cand_r[k], &d.cand_c[k]) != 0) {
                st = mvot_error_corrupt(err, path, -1, "entry %zu: bad candidate_locs", i);
                goto cleanup;
            }
        json_t *origin = json_pack("{s:s,s:O?,s:O?}", "source", "mvot-official", "path_id",
                                   json_object_get(e, "path_id"), "file_prefix",
                                   json_object_get(e, "file_prefix"));
        st = import_draft(im, &d, origin, path, err);
        json_decref(origin);
        if (st != MVOT_OK) {
            mvot_error_prefix(err, "%s: entry %zu", path, i);
            goto cleanup;
        }
    }
cleanup:
    json_decref(j);
    return st;
}

static int cmp_num_keys(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strlen(x), ly = strlen(y);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

static enum mvot_status import_fl_file(struct importer *im, const char *path, uint32_t n,
                                       struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *j = NULL, *env;
    const char *key;
    const char **keys = NULL;
    size_t nk = 0;
    MVOT_TRY(mvot_json_load_file(path, &j, err));
    if (!json_is_object(j)) {
        st = mvot_error_corrupt(err, path, -1, "expected an object of envs");
        goto cleanup;
    }
    keys = calloc(json_object_size(j) + 1, sizeof *keys);
    MVOT_FAIL_IF(!keys, err, MVOT_ERR_NOMEM, path, "out of memory");
    json_object_foreach(j, key, env) keys[nk++] = key;
    qsort(keys, nk, sizeof *keys, cmp_num_keys);
    for (size_t q = 0; q < nk; q++) {
        env = json_object_get(j, keys[q]);
        const char *desc = json_string_value(json_object_get(env, "env_desc"));
        json_t *acts = json_object_get(env, "actions"), *sts = json_object_get(env, "states");
        json_t *ex = json_object_get(env, "exec_states"),
               *add = json_object_get(env, "additional_actions");
        json_t *ids = json_object_get(env, "data_id");
        size_t ne = json_array_size(acts);
        if (!desc || strlen(desc) != n * n || strspn(desc, "SFHG") != n * n ||
            json_array_size(sts) != ne || json_array_size(ex) != ne || json_array_size(add) != ne ||
            json_array_size(ids) != ne) {
            st = mvot_error_corrupt(err, path, -1, "env %s: malformed (env_desc or list lengths)",
                                    keys[q]);
            goto cleanup;
        }
        for (size_t e = 0; e < ne; e++) {
            struct mvot_draft d;
            memset(&d, 0, sizeof d);
            d.task = MVOT_TASK_FROZENLAKE;
            d.n = n;
            memcpy(d.desc, desc, n * n);
            const char *s = strchr(desc, 'S');
            if (!s) {
                st = mvot_error_corrupt(err, path, -1, "env %s: no S in env_desc", keys[q]);
                goto cleanup;
            }
            d.start_r = (uint8_t)((uint32_t)(s - desc) / n);
            d.start_c = (uint8_t)((uint32_t)(s - desc) % n);
            json_t *a = json_array_get(acts, e), *x = json_array_get(add, e);
            if (json_array_size(a) < 1 || json_array_size(a) > MVOT_GEN_MAX_STEPS ||
                json_array_size(x) > MVOT_GEN_MAX_EXTRA ||
                json_array_size(json_array_get(sts, e)) != json_array_size(a) + 1) {
                st = mvot_error_corrupt(err, path, -1, "env %s, episode %zu: bad lengths", keys[q],
                                        e);
                goto cleanup;
            }
            d.n_actions = (uint32_t)json_array_size(a);
            d.n_extra = (uint32_t)json_array_size(x);
            for (uint32_t k = 0; k < d.n_actions + d.n_extra; k++) {
                json_t *v =
                    k < d.n_actions ? json_array_get(a, k) : json_array_get(x, k - d.n_actions);
                json_int_t id = json_integer_value(v);
                if (!json_is_integer(v) || id < 0 || id > 3) {
                    st = mvot_error_corrupt(err, path, -1, "env %s, episode %zu: bad action id",
                                            keys[q], e);
                    goto cleanup;
                }
                if (k < d.n_actions)
                    d.actions[k] = (uint8_t)id;
                else
                    d.extra[k - d.n_actions] = (uint8_t)id;
            }
            /* Our replay must agree with the official states and outcome. */
            struct mvot_trace t;
            st = mvot_draft_simulate(&d, &t, err);
            if (st != MVOT_OK) {
                mvot_error_prefix(err, "%s: env %s, episode %zu", path, keys[q], e);
                goto cleanup;
            }
            for (uint32_t k = 0; k <= d.n_actions; k++)
                if (json_integer_value(json_array_get(json_array_get(sts, e), k)) !=
                    (json_int_t)(t.st[k].r * n + t.st[k].c)) {
                    st = mvot_error_corrupt(err, path, -1,
                                            "env %s, episode %zu: state %u differs from our replay",
                                            keys[q], e, k);
                    goto cleanup;
                }
            const char *want = json_string_value(json_array_get(ex, e));
            if (!want || strcmp(want, t.exec_state) != 0) {
                st = mvot_error_corrupt(err, path, -1,
                                        "env %s, episode %zu: exec_state %s, our replay says %s",
                                        keys[q], e, want ? want : "(none)", t.exec_state);
                goto cleanup;
            }
            json_t *origin = json_pack("{s:s,s:s,s:O?}", "source", "mvot-official", "env", keys[q],
                                       "data_id", json_array_get(ids, e));
            st = import_draft(im, &d, origin, path, err);
            json_decref(origin);
            if (st != MVOT_OK)
                goto cleanup;
        }
    }
cleanup:
    free(keys);
    json_decref(j);
    return st;
}

enum mvot_status mvot_official_import(const char *src_dir, const char *out_dir, uint32_t image_size,
                                      const struct mvot_progress *prog, json_t **summary,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct importer im;
    char rel[64];
    char *path = NULL, *tar_path = NULL, *man_path = NULL;
    json_t *man = NULL;
    memset(&im, 0, sizeof im);
    im.image_size = image_size;
    im.prog = prog;
    if (summary)
        *summary = NULL;
    MVOT_FAIL_IF(image_size != 512 && image_size != 256 && image_size != 128, err, MVOT_ERR_INVALID,
                 "import", "image size must be 512, 256 or 128");
    MVOT_TRY(mvot_io_mkdirs(out_dir, err));
    tar_path = mvot_io_join(out_dir, "episodes.tar.zst");
    man_path = mvot_io_join(out_dir, "manifest.json");
    MVOT_FAIL_IF(!tar_path || !man_path, err, MVOT_ERR_NOMEM, "import", "out of memory");
    MVOT_TRY(mvot_tarz_writer_open(tar_path, 3, &im.tar, err));
    for (uint32_t n = 3; n <= 6; n++) {
        snprintf(rel, sizeof rel, "maze/grid%u.json", n);
        free(path);
        path = mvot_io_join(src_dir, rel);
        MVOT_FAIL_IF(!path, err, MVOT_ERR_NOMEM, "import", "out of memory");
        if (mvot_io_exists(path))
            MVOT_TRY(import_maze_file(&im, path, n, err));
    }
    for (uint32_t n = 3; n <= 6; n++) {
        snprintf(rel, sizeof rel, "frozenlake/level%u/data.json", n);
        free(path);
        path = mvot_io_join(src_dir, rel);
        MVOT_FAIL_IF(!path, err, MVOT_ERR_NOMEM, "import", "out of memory");
        if (mvot_io_exists(path))
            MVOT_TRY(import_fl_file(&im, path, n, err));
    }
    MVOT_FAIL_IF(im.counts[0] + im.counts[1] == 0, err, MVOT_ERR_NOTFOUND, src_dir,
                 "no maze/grid{3..6}.json or frozenlake/level{3..6}/data.json found");
    st = mvot_tarz_writer_commit(im.tar, err);
    im.tar = NULL;
    if (st != MVOT_OK)
        goto cleanup;
    uint64_t h;
    char hex[17];
    MVOT_TRY(mvot_hash_file(tar_path, &h, err));
    mvot_hash_hex(h, hex);
    man = json_pack(
        "{s:s,s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:{s:I,s:I},s:{s:I,s:I,s:I},s:i}", "format",
        "mvot-gen-manifest", "version", 1, "episode_format_version", MVOT_EPISODE_VERSION,
        "archive_version", MVOT_ARCHIVE_VERSION, "tool", "mvot-data", "tool_version", MVOT_VERSION,
        "source", "mvot-official-import", "archive", "episodes.tar.zst", "archive_xxh3", hex,
        "episodes", (json_int_t)(im.counts[0] + im.counts[1]), "frames", (json_int_t)im.frames,
        "tasks", "maze", (json_int_t)im.counts[0], "frozenlake", (json_int_t)im.counts[1], "splits",
        "train", (json_int_t)im.splits[0], "dev", (json_int_t)im.splits[1], "test",
        (json_int_t)im.splits[2], "image_size", (int)image_size);
    MVOT_FAIL_IF(!man, err, MVOT_ERR_NOMEM, "import", "out of memory");
    MVOT_TRY(mvot_json_write_file(man_path, man, err));
    if (summary) {
        *summary = man;
        man = NULL;
    }
cleanup:
    mvot_tarz_writer_abort(im.tar);
    json_decref(man);
    free(path);
    free(tar_path);
    free(man_path);
    return st;
}
