/* The typed episode view (gen/episode.h): parsing and validating a record, freeing, and the
 * reader over an episode archive ({key}.json followed by {key}.0.png .. {key}.L.png per
 * episode, docs/episode-format.md). Every length read from a record is checked against the
 * other fields before anything is allocated from it. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "gen/internal.h"
#include "gen/tarz.h"

void mvot_episode_free(struct mvot_episode *ep)
{
    if (!ep)
        return;
    free(ep->key);
    free(ep->instruction);
    free(ep->init_text);
    for (uint32_t i = 0; i < ep->n_steps; i++) {
        if (ep->step_text)
            free(ep->step_text[i]);
        if (ep->rationale)
            free(ep->rationale[i]);
    }
    free(ep->step_text);
    free(ep->rationale);
    free(ep->answer);
    free(ep->final_text);
    for (uint32_t i = 0; i < ep->n_frames; i++) {
        if (ep->frame_png)
            free(ep->frame_png[i]);
        if (ep->caption)
            free(ep->caption[i]);
    }
    free(ep->frame_png);
    free(ep->frame_png_len);
    free(ep->caption);
    free(ep->cells);
    free(ep->cell_state);
    free(ep->final_rationale);
    json_decref(ep->record);
    memset(ep, 0, sizeof *ep);
}

static char *dup_str(const char *s)
{
    return mvot_strdupf("%s", s);
}

/* Copies an array of n strings at rec[key]. */
static enum mvot_status get_strings(const json_t *rec, const char *key, const char *name,
                                    uint32_t n, char ***out, struct mvot_error *err)
{
    json_t *a;
    enum mvot_status st = mvot_json_get_array(rec, key, name, &a, err);
    if (st != MVOT_OK)
        return st;
    if (json_array_size(a) != n)
        return mvot_error_corrupt(err, name, -1, "%s has %zu entries, want %u", key,
                                  json_array_size(a), n);
    *out = calloc(n ? n : 1, sizeof(char *));
    if (!*out)
        return mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s)
            return mvot_error_corrupt(err, name, -1, "%s[%u] is not a string", key, i);
        (*out)[i] = dup_str(s);
        if (!(*out)[i])
            return mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
    }
    return MVOT_OK;
}

static enum mvot_status get_dup(const json_t *rec, const char *key, const char *name, char **out,
                                struct mvot_error *err)
{
    const char *s;
    enum mvot_status st = mvot_json_get_str(rec, key, name, &s, err);
    if (st != MVOT_OK)
        return st;
    *out = dup_str(s);
    return *out ? MVOT_OK : mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
}

enum mvot_status mvot_episode_from_json(json_t *record, const char *name, struct mvot_episode *out,
                                        struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_episode ep;
    const char *s;
    int64_t v;
    json_t *a;
    memset(&ep, 0, sizeof ep);
    memset(out, 0, sizeof *out);
    if (!json_is_object(record))
        return mvot_error_corrupt(err, name, -1, "episode record is not an object");
    ep.record = json_incref(record);
    MVOT_TRY(mvot_json_get_str(record, "format", name, &s, err));
    MVOT_CORRUPT_IF(strcmp(s, "mvot-episode") != 0, err, name, "format \"%s\" is not mvot-episode",
                    s);
    MVOT_TRY(mvot_json_get_int(record, "version", name, &v, err));
    MVOT_FAIL_IF(v != MVOT_EPISODE_VERSION, err, MVOT_ERR_UNSUPPORTED, name,
                 "episode version %lld (this build reads %d)", (long long)v, MVOT_EPISODE_VERSION);
    MVOT_TRY(get_dup(record, "key", name, &ep.key, err));
    /* keys name tar members ({key}.json): no path, nothing hidden */
    MVOT_CORRUPT_IF(!ep.key[0] || ep.key[0] == '.' || strpbrk(ep.key, "/\\") || strlen(ep.key) > 64,
                    err, name, "key \"%.80s\" is not a plain member name", ep.key);
    MVOT_TRY(mvot_json_get_str(record, "task", name, &s, err));
    if (mvot_task_parse(s, &ep.task) != 0) {
        st = mvot_error_corrupt(err, name, -1, "unknown task \"%s\"", s);
        goto cleanup;
    }
    MVOT_TRY(mvot_json_get_int(record, "grid", name, &v, err));
    if (v < 3 || v > MVOT_GEN_MAX_N) {
        st = mvot_error_corrupt(err, name, -1, "grid %lld out of range", (long long)v);
        goto cleanup;
    }
    ep.grid = (uint32_t)v;
    MVOT_TRY(mvot_json_get_int(record, "image_size", name, &v, err));
    if (v < 16 || v > 4096) {
        st = mvot_error_corrupt(err, name, -1, "image_size %lld out of range", (long long)v);
        goto cleanup;
    }
    ep.image_size = (uint32_t)v;
    MVOT_TRY(mvot_json_get_str(record, "seed", name, &s, err));
    if (mvot_hash_parse_hex(s, &ep.seed) != 0) {
        st = mvot_error_corrupt(err, name, -1, "seed is not 16 hex digits");
        goto cleanup;
    }
    MVOT_TRY(mvot_json_get_str(record, "layout_hash", name, &s, err));
    if (mvot_hash_parse_hex(s, &ep.layout_hash) != 0) {
        st = mvot_error_corrupt(err, name, -1, "layout_hash is not 16 hex digits");
        goto cleanup;
    }
    MVOT_TRY(mvot_json_get_str(record, "split", name, &s, err));
    {
        int found = 0;
        for (int k = 0; k < 3; k++)
            if (strcmp(s, mvot_split_name((enum mvot_split)k)) == 0) {
                ep.split = (enum mvot_split)k;
                found = 1;
            }
        if (!found) {
            st = mvot_error_corrupt(err, name, -1, "unknown split \"%s\"", s);
            goto cleanup;
        }
    }
    MVOT_TRY(get_dup(record, "instruction", name, &ep.instruction, err));
    MVOT_TRY(get_dup(record, "init_text", name, &ep.init_text, err));
    MVOT_TRY(get_dup(record, "answer", name, &ep.answer, err));
    {
        /* FrozenLake answers A..C, maze and MiniBehavior A..D (docs/episode-format.md) */
        char last = ep.task == MVOT_TASK_FROZENLAKE ? 'C' : 'D';
        MVOT_CORRUPT_IF(strlen(ep.answer) != 1 || ep.answer[0] < 'A' || ep.answer[0] > last, err,
                        name, "answer \"%.20s\" is not one of A..%c for %s", ep.answer, last,
                        mvot_task_name(ep.task));
    }
    MVOT_TRY(get_dup(record, "final_text", name, &ep.final_text, err));
    MVOT_TRY(get_dup(record, "final_rationale", name, &ep.final_rationale, err));
    MVOT_TRY(mvot_json_get_int(record, "n_frames", name, &v, err));
    if (v < 1 || v > MVOT_GEN_MAX_STEPS + 1) {
        st = mvot_error_corrupt(err, name, -1, "n_frames %lld out of range", (long long)v);
        goto cleanup;
    }
    ep.n_frames = (uint32_t)v;
    MVOT_TRY(mvot_json_get_array(record, "step_texts", name, &a, err));
    if (json_array_size(a) + 1 != ep.n_frames) {
        st = mvot_error_corrupt(err, name, -1, "%zu step texts for %u frames", json_array_size(a),
                                ep.n_frames);
        goto cleanup;
    }
    ep.n_steps = ep.n_frames - 1;
    MVOT_TRY(get_strings(record, "step_texts", name, ep.n_steps, &ep.step_text, err));
    MVOT_TRY(get_strings(record, "rationales", name, ep.n_steps, &ep.rationale, err));
    if (json_object_get(record, "captions"))
        MVOT_TRY(get_strings(record, "captions", name, ep.n_frames, &ep.caption, err));

    /* cells */
    uint32_t cells = ep.grid * ep.grid;
    MVOT_TRY(mvot_json_get_array(record, "cells", name, &a, err));
    if (json_array_size(a) != cells) {
        st =
            mvot_error_corrupt(err, name, -1, "%zu cell boxes, want %u", json_array_size(a), cells);
        goto cleanup;
    }
    ep.cells = calloc(cells, sizeof *ep.cells);
    ep.cell_state = calloc((size_t)cells * ep.n_frames, 1);
    ep.frame_png = calloc(ep.n_frames, sizeof *ep.frame_png);
    ep.frame_png_len = calloc(ep.n_frames, sizeof *ep.frame_png_len);
    MVOT_FAIL_IF(!ep.cells || !ep.cell_state || !ep.frame_png || !ep.frame_png_len, err,
                 MVOT_ERR_NOMEM, name, "out of memory");
    for (uint32_t i = 0; i < cells; i++) {
        json_t *b = json_array_get(a, i);
        json_int_t q[4];
        MVOT_CORRUPT_IF(!json_is_array(b) || json_array_size(b) != 4, err, name,
                        "cells[%u] is not [x0,y0,x1,y1]", i);
        for (int k = 0; k < 4; k++) {
            json_t *x = json_array_get(b, (size_t)k);
            MVOT_CORRUPT_IF(!json_is_integer(x), err, name, "cells[%u][%d] is not an integer", i,
                            k);
            q[k] = json_integer_value(x);
        }
        MVOT_CORRUPT_IF(q[0] < 0 || q[1] < 0 || q[2] <= q[0] || q[3] <= q[1] ||
                            q[2] > (json_int_t)ep.image_size || q[3] > (json_int_t)ep.image_size,
                        err, name, "cells[%u] is outside the %u px frame", i, ep.image_size);
        ep.cells[i] =
            (struct mvot_cell_box){(uint16_t)q[0], (uint16_t)q[1], (uint16_t)q[2], (uint16_t)q[3]};
    }
    MVOT_TRY(mvot_json_get_array(record, "cell_states", name, &a, err));
    MVOT_CORRUPT_IF(json_array_size(a) != ep.n_frames, err, name,
                    "%zu cell_states rows for %u frames", json_array_size(a), ep.n_frames);
    for (uint32_t k = 0; k < ep.n_frames; k++) {
        json_t *row = json_array_get(a, k);
        MVOT_CORRUPT_IF(!json_is_array(row) || json_array_size(row) != cells, err, name,
                        "cell_states[%u] does not have %u entries", k, cells);
        for (uint32_t i = 0; i < cells; i++) {
            json_t *x = json_array_get(row, i);
            MVOT_CORRUPT_IF(!json_is_integer(x) || json_integer_value(x) < 0 ||
                                json_integer_value(x) > 255,
                            err, name, "cell_states[%u][%u] is not a byte", k, i);
            ep.cell_state[(size_t)k * cells + i] = (uint8_t)json_integer_value(x);
        }
    }
    *out = ep;
    return MVOT_OK;
cleanup:
    mvot_episode_free(&ep);
    return st;
}

/* ---- archive reader ---- */

struct mvot_episode_reader {
    struct mvot_tarz_reader *tar;
    uint64_t index;
};

enum mvot_status mvot_episode_reader_open(const char *path, struct mvot_episode_reader **out,
                                          struct mvot_error *err)
{
    struct stat sb;
    char *tmp = NULL;
    enum mvot_status st;
    *out = NULL;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        tmp = mvot_io_join(path, "episodes.tar.zst");
        if (!tmp)
            return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
        path = tmp;
    }
    struct mvot_episode_reader *r = calloc(1, sizeof *r);
    if (!r) {
        free(tmp);
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
    }
    st = mvot_tarz_reader_open(path, &r->tar, err);
    free(tmp);
    if (st != MVOT_OK) {
        free(r);
        return st;
    }
    *out = r;
    return MVOT_OK;
}

void mvot_episode_reader_close(struct mvot_episode_reader *r)
{
    if (!r)
        return;
    mvot_tarz_reader_close(r->tar);
    free(r);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

/* Reads the next episode's members from tar (the archive's stream or one episode's frame). */
static enum mvot_status read_episode(struct mvot_tarz_reader *tar, struct mvot_episode *ep,
                                     int *done, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const char *name, *path = mvot_tarz_reader_path(tar);
    uint8_t *data = NULL;
    size_t len;
    json_t *rec = NULL;
    char *want = NULL;
    memset(ep, 0, sizeof *ep);
    *done = 0;
    MVOT_TRY(mvot_tarz_reader_next(tar, &name, &data, &len, done, err));
    if (*done)
        return MVOT_OK;
    if (!ends_with(name, ".json")) {
        st = mvot_error_corrupt(err, path, -1, "member %s: expected an episode .json record", name);
        goto cleanup;
    }
    {
        const char *member = name; /* the record's key must name its own member */
        char *label = mvot_strdupf("%s: %s", path, name);
        if (!label) {
            st = mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
            goto cleanup;
        }
        st = mvot_json_load_buf((const char *)data, len, label, &rec, err);
        if (st == MVOT_OK)
            st = mvot_episode_from_json(rec, label, ep, err);
        if (st == MVOT_OK && (strlen(member) != strlen(ep->key) + 5 ||
                              strncmp(member, ep->key, strlen(ep->key)) != 0))
            st = mvot_error_corrupt(err, path, -1,
                                    "member %s holds the record of key %s (want "
                                    "{key}.json)",
                                    member, ep->key);
        free(label);
        if (st != MVOT_OK)
            goto cleanup;
    }
    free(data);
    data = NULL;
    for (uint32_t k = 0; k < ep->n_frames; k++) {
        int end = 0;
        free(want);
        want = mvot_strdupf("%s.%u.png", ep->key, k);
        MVOT_FAIL_IF(!want, err, MVOT_ERR_NOMEM, path, "out of memory");
        MVOT_TRY(mvot_tarz_reader_next(tar, &name, &data, &len, &end, err));
        if (end || strcmp(name, want) != 0) {
            st = mvot_error_corrupt(err, path, -1, "episode %s: expected member %s, found %s",
                                    ep->key, want, end ? "end of archive" : name);
            goto cleanup;
        }
        if (len < 8 || memcmp(data, "\x89PNG\r\n\x1a\n", 8) != 0) {
            st = mvot_error_corrupt(err, path, -1, "member %s is not a PNG", want);
            goto cleanup;
        }
        ep->frame_png[k] = data;
        ep->frame_png_len[k] = len;
        data = NULL;
    }
cleanup:
    free(data);
    free(want);
    json_decref(rec);
    if (st != MVOT_OK)
        mvot_episode_free(ep);
    return st;
}

enum mvot_status mvot_episode_reader_next(struct mvot_episode_reader *r, struct mvot_episode *ep,
                                          int *done, struct mvot_error *err)
{
    enum mvot_status st = read_episode(r->tar, ep, done, err);
    if (st == MVOT_OK && !*done)
        r->index++;
    return st;
}

enum mvot_status mvot_episode_archive_read(struct mvot_tarz_index *ix, size_t i,
                                           struct mvot_episode *ep, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_tarz_reader *tar = NULL;
    const struct mvot_tarz_episode *want = mvot_tarz_index_get(ix, i);
    const uint8_t *raw;
    size_t len;
    char *label = NULL;
    int done = 0, end = 0;
    memset(ep, 0, sizeof *ep);
    MVOT_TRY(mvot_tarz_index_read(ix, i, 1, &raw, &len, err));
    label = mvot_strdupf("%s: episode %zu", mvot_tarz_index_path(ix), i);
    MVOT_FAIL_IF(!label, err, MVOT_ERR_NOMEM, mvot_tarz_index_path(ix), "out of memory");
    MVOT_TRY(mvot_tarz_reader_open_mem(label, raw, len, &tar, err));
    MVOT_TRY(read_episode(tar, ep, &done, err));
    MVOT_CORRUPT_IF(done, err, label, "frame holds no episode");
    {
        const char *name;
        uint8_t *extra = NULL;
        size_t elen;
        MVOT_TRY(mvot_tarz_reader_next(tar, &name, &extra, &elen, &end, err));
        free(extra);
        MVOT_CORRUPT_IF(!end, err, label, "frame holds more than episode %s (member %s)", ep->key,
                        name);
    }
    /* the plan of a split pack is made from the index: it must say what the records say */
    MVOT_CORRUPT_IF(strcmp(ep->key, want->key) != 0 || (unsigned)ep->task != want->task ||
                        (unsigned)ep->split != want->split || ep->n_steps != want->steps,
                    err, label, "record %s differs from the index (key %s, task, split or steps)",
                    ep->key, want->key);
cleanup:
    mvot_tarz_reader_close(tar);
    free(label);
    if (st != MVOT_OK)
        mvot_episode_free(ep);
    return st;
}

void mvot_episode_archive_totals(const char *archive_path, uint64_t *episodes, uint64_t *frames)
{
    const char *slash = strrchr(archive_path, '/');
    char *mp = slash ? mvot_strdupf("%.*s/manifest.json", (int)(slash - archive_path), archive_path)
                     : mvot_strdupf("manifest.json");
    json_t *m = NULL;
    *episodes = *frames = 0;
    if (mp && mvot_io_exists(mp) && mvot_json_load_file(mp, &m, NULL) == MVOT_OK) {
        json_int_t e = json_integer_value(json_object_get(m, "episodes"));
        json_int_t f = json_integer_value(json_object_get(m, "frames"));
        *episodes = e > 0 ? (uint64_t)e : 0;
        *frames = f > 0 ? (uint64_t)f : 0;
    }
    json_decref(m);
    free(mp);
}

/* ---- task and split names, shared by every stage that reads episodes ---- */

const char *mvot_task_name(enum mvot_task t)
{
    switch (t) {
    case MVOT_TASK_MAZE: return "maze";
    case MVOT_TASK_FROZENLAKE: return "frozenlake";
    case MVOT_TASK_MINIBEHAVIOR: return "minibehavior";
    }
    return "?";
}

int mvot_task_parse(const char *s, enum mvot_task *out)
{
    for (int t = 0; t < MVOT_TASK_COUNT; t++)
        if (strcmp(s, mvot_task_name((enum mvot_task)t)) == 0) {
            *out = (enum mvot_task)t;
            return 0;
        }
    return -1;
}

const char *mvot_split_name(enum mvot_split s)
{
    switch (s) {
    case MVOT_SPLIT_TRAIN: return "train";
    case MVOT_SPLIT_DEV: return "dev";
    case MVOT_SPLIT_TEST: return "test";
    }
    return "?";
}
