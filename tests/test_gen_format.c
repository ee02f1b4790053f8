/* gen formats: golden pixel hashes for fixed seeds, the config JSON round trip and size-mix
 * parser, the episode reader on hand-made corrupt archives (one per failure class), and the
 * agreement between docs/episode-format.md and the records the code writes. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/png.h"
#include "gen/episode.h"
#include "gen/gen.h"
#include "gen/official.h"
#include "gen/tarz.h"
#include "tests/test.h"

/* The fuzz target, replayed below without libFuzzer. */
#include "tests/fuzz/fuzz_gen_record.c"

/* XXH3 over the decoded pixels of every frame, in order (independent of PNG options). */
static uint64_t pixel_hash(const struct mvot_episode *ep)
{
    struct mvot_hasher h;
    struct mvot_error err = {0};
    if (mvot_hasher_init(&h) != MVOT_OK)
        return 0;
    for (uint32_t k = 0; k < ep->n_frames; k++) {
        struct mvot_image img;
        if (mvot_png_decode(ep->frame_png[k], ep->frame_png_len[k], ep->key, &img, &err) !=
            MVOT_OK) {
            T_FAIL("decode %s.%u: %s", ep->key, k, err.msg);
            continue;
        }
        mvot_hasher_update(&h, img.px, (size_t)img.w * img.h * img.channels);
        mvot_image_free(&img);
    }
    uint64_t v = mvot_hasher_digest(&h);
    mvot_hasher_free(&h);
    return v;
}

/* Golden values for seed 42 (tests/test_gen_golden.inc). A deliberate change to the art or the
 * generators updates them: on a mismatch the test prints the current values to paste, after
 * looking at the frames with `mvot show`. */
struct golden {
    enum mvot_task task;
    uint32_t size;
    uint64_t index;
    uint64_t pixels, record;
};

static const struct golden GOLDEN[] = {
#include "test_gen_golden.inc"
};

static void test_golden_frames(void)
{
    struct mvot_gen_config cfg;
    struct mvot_error err = {0};
    int print = 0;
    for (size_t i = 0; i < sizeof GOLDEN / sizeof GOLDEN[0]; i++) {
        const struct golden *g = &GOLDEN[i];
        mvot_gen_config_default(&cfg);
        cfg.seed = 42;
        cfg.image_size = g->size;
        struct mvot_episode ep;
        ASSERT_OK(mvot_gen_one(&cfg, g->task, g->index, &ep, &err), &err);
        char *dump = mvot_json_dumps(ep.record);
        uint64_t ph = pixel_hash(&ep), rh = mvot_hash64(dump, strlen(dump));
        if (ph != g->pixels || rh != g->record) {
            T_FAIL("golden %s #%llu at %u px: pixels %016llx record %016llx", ep.key,
                   (unsigned long long)g->index, g->size, (unsigned long long)ph,
                   (unsigned long long)rh);
            print = 1;
        }
        /* the same episode twice gives the same bytes (no hidden state) */
        struct mvot_episode again;
        ASSERT_OK(mvot_gen_one(&cfg, g->task, g->index, &again, &err), &err);
        ASSERT_EQ_INT(again.n_frames, ep.n_frames);
        for (uint32_t k = 0; k < ep.n_frames && k < again.n_frames; k++)
            ASSERT_TRUE(ep.frame_png_len[k] == again.frame_png_len[k] &&
                        memcmp(ep.frame_png[k], again.frame_png[k], ep.frame_png_len[k]) == 0);
        mvot_episode_free(&again);
        free(dump);
        mvot_episode_free(&ep);
    }
    if (print) {
        fprintf(stderr, "current values (tests/test_gen_golden.inc):\n");
        for (size_t i = 0; i < sizeof GOLDEN / sizeof GOLDEN[0]; i++) {
            const struct golden *g = &GOLDEN[i];
            mvot_gen_config_default(&cfg);
            cfg.seed = 42;
            cfg.image_size = g->size;
            struct mvot_episode ep;
            if (mvot_gen_one(&cfg, g->task, g->index, &ep, &err) != MVOT_OK)
                continue;
            char *dump = mvot_json_dumps(ep.record);
            fprintf(stderr, "    {MVOT_TASK_%s, %u, %llu, 0x%016llxull, 0x%016llxull},\n",
                    g->task == MVOT_TASK_MAZE         ? "MAZE"
                    : g->task == MVOT_TASK_FROZENLAKE ? "FROZENLAKE"
                                                      : "MINIBEHAVIOR",
                    g->size, (unsigned long long)g->index, (unsigned long long)pixel_hash(&ep),
                    (unsigned long long)mvot_hash64(dump, strlen(dump)));
            free(dump);
            mvot_episode_free(&ep);
        }
    }
}

static void test_config_json(void)
{
    struct mvot_gen_config a, b;
    struct mvot_error err = {0};
    mvot_gen_config_default(&a);
    a.episodes = 7;
    a.seed = 99;
    a.image_size = 256;
    a.min_steps = 2;
    a.max_steps = 9;
    a.tasks = 1u << MVOT_TASK_FROZENLAKE | 1u << MVOT_TASK_MINIBEHAVIOR;
    ASSERT_OK(mvot_gen_parse_sizes(&a, "frozenlake=3:2,frozenlake=4,minibehavior=7-8", &err), &err);
    ASSERT_EQ_INT(a.size_weight[MVOT_TASK_FROZENLAKE][3], 2);
    ASSERT_EQ_INT(a.size_weight[MVOT_TASK_FROZENLAKE][4], 1);
    ASSERT_EQ_INT(a.size_weight[MVOT_TASK_MINIBEHAVIOR][4], 0);
    ASSERT_EQ_INT(a.size_weight[MVOT_TASK_MINIBEHAVIOR][4 + 3], 1);
    /* a bare size applies to every selected task */
    struct mvot_gen_config m;
    mvot_gen_config_default(&m);
    m.tasks = 1u << MVOT_TASK_MAZE | 1u << MVOT_TASK_FROZENLAKE;
    ASSERT_OK(mvot_gen_parse_sizes(&m, "3-4:5", &err), &err);
    ASSERT_EQ_INT(m.size_weight[MVOT_TASK_MAZE][4], 5);
    ASSERT_EQ_INT(m.size_weight[MVOT_TASK_FROZENLAKE][3], 5);
    ASSERT_EQ_INT(m.size_weight[MVOT_TASK_FROZENLAKE][5], 0);
    json_t *j = mvot_gen_config_to_json(&a);
    ASSERT_TRUE(j != NULL);
    ASSERT_OK(mvot_gen_config_from_json(j, &b, &err), &err);
    json_t *j2 = mvot_gen_config_to_json(&b);
    ASSERT_TRUE(json_equal(j, j2));
    ASSERT_EQ_INT(b.episodes, 7);
    ASSERT_EQ_INT(b.tasks, a.tasks);
    json_decref(j);
    json_decref(j2);
    /* rejected specs and configs */
    const char *bad[] = {"2", "maze=7", "minibehavior=6", "3-", "x", "3:0x", "", "nosuch=3", "6-3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mvot_gen_config_default(&a);
        a.tasks = 1u << MVOT_TASK_MAZE | (strstr(bad[i], "minibehavior") ? 1u << 2 : 0);
        if (mvot_gen_parse_sizes(&a, bad[i], &err) != MVOT_ERR_INVALID)
            T_FAIL("size spec \"%s\" was accepted", bad[i]);
    }
    json_t *bj = json_pack("{s:i}", "episodes", 0);
    ASSERT_EQ_INT(mvot_gen_config_from_json(bj, &b, &err), MVOT_ERR_INVALID);
    json_decref(bj);
    bj = json_pack("{s:i}", "frobnicate", 1);
    ASSERT_EQ_INT(mvot_gen_config_from_json(bj, &b, &err), MVOT_ERR_INVALID);
    json_decref(bj);
}

/* Writes an archive with the given members. */
static void write_archive(const char *path, const char *const *names, const char *const *data,
                          const size_t *lens, size_t n)
{
    struct mvot_tarz_writer *w;
    struct mvot_error err = {0};
    /* one frame holding every member: the streaming reader, under test, ignores the index */
    struct mvot_tarz_episode te = {"x", 0, 0, 0};
    ASSERT_OK(mvot_tarz_writer_open(path, 3, &w, &err), &err);
    ASSERT_OK(mvot_tarz_writer_begin(w, &te, &err), &err);
    for (size_t i = 0; i < n; i++)
        ASSERT_OK(mvot_tarz_writer_add(w, names[i], data[i], lens[i], &err), &err);
    ASSERT_OK(mvot_tarz_writer_end(w, &err), &err);
    ASSERT_OK(mvot_tarz_writer_commit(w, &err), &err);
}

/* Reads the whole archive; returns the status of the first failure (or OK) and the count. */
static enum mvot_status read_all(const char *path, int *count, struct mvot_error *err)
{
    struct mvot_episode_reader *r;
    enum mvot_status st = mvot_episode_reader_open(path, &r, err);
    *count = 0;
    while (st == MVOT_OK) {
        struct mvot_episode ep;
        int done = 0;
        st = mvot_episode_reader_next(r, &ep, &done, err);
        if (st != MVOT_OK || done)
            break;
        (*count)++;
        mvot_episode_free(&ep);
    }
    mvot_episode_reader_close(r);
    return st;
}

static void test_reader_corrupt(void)
{
    char *dir = t_tmpdir();
    struct mvot_gen_config cfg;
    struct mvot_error err = {0};
    struct mvot_episode ep;
    mvot_gen_config_default(&cfg);
    cfg.image_size = 128;
    ASSERT_OK(mvot_gen_one(&cfg, MVOT_TASK_MAZE, 0, &ep, &err), &err);
    char *rec = mvot_json_dumps(ep.record);
    char *p = mvot_io_join(dir, "a.tar.zst");
    char json_name[64], png0[64], png1[64];
    snprintf(json_name, sizeof json_name, "%s.json", ep.key);
    snprintf(png0, sizeof png0, "%s.0.png", ep.key);
    /* a good archive with one episode (all its frames) */
    {
        const char *names[66], *data[66];
        size_t lens[66], n = 0;
        names[n] = json_name, data[n] = rec, lens[n++] = strlen(rec);
        char fname[66][64];
        for (uint32_t k = 0; k < ep.n_frames; k++) {
            snprintf(fname[k], sizeof fname[k], "%s.%u.png", ep.key, k);
            names[n] = fname[k], data[n] = (const char *)ep.frame_png[k],
            lens[n++] = ep.frame_png_len[k];
        }
        write_archive(p, names, data, lens, n);
        int count;
        ASSERT_OK(read_all(p, &count, &err), &err);
        ASSERT_EQ_INT(count, 1);
        /* truncation at several points never crashes and fails cleanly */
        uint8_t *bytes;
        size_t len;
        ASSERT_OK(mvot_io_read_file(p, 1 << 26, &bytes, &len, &err), &err);
        for (size_t cut = 0; cut < len; cut += len / 7 + 1) {
            char *q = mvot_io_join(dir, "cut.tar.zst");
            ASSERT_OK(mvot_io_write_file(q, bytes, cut, &err), &err);
            if (read_all(q, &count, &err) == MVOT_OK && count == 1)
                T_FAIL("archive cut at %zu of %zu bytes read as complete", cut, len);
            free(q);
        }
        free(bytes);
    }
    /* one failure class each: missing frame, wrong member order, non-PNG frame, bad JSON,
     * record inconsistent with itself, a member that is not a record */
    snprintf(png1, sizeof png1, "%s.1.png", ep.key);
    const char notpng[] = "definitely not a png";
    json_t *bad = json_deep_copy(ep.record);
    json_object_set_new(bad, "n_frames", json_integer(ep.n_frames + 5));
    char *bad_rec = mvot_json_dumps(bad);
    json_object_set_new(bad, "n_frames", json_integer(ep.n_frames));
    json_array_remove(json_object_get(bad, "cells"), 0);
    char *bad_cells = mvot_json_dumps(bad);
    json_decref(bad);
    struct {
        const char *what;
        const char *names[3];
        const char *data[3];
        size_t lens[3];
        size_t n;
        const char *msg;
    } cases[] = {
        {"missing frames",
         {json_name, png0},
         {rec, (const char *)ep.frame_png[0]},
         {strlen(rec), ep.frame_png_len[0]},
         2,
         "end of archive"},
        {"frames out of order",
         {json_name, png1, png0},
         {rec, (const char *)ep.frame_png[1], (const char *)ep.frame_png[0]},
         {strlen(rec), ep.frame_png_len[1], ep.frame_png_len[0]},
         3,
         "expected member"},
        {"frame not a PNG",
         {json_name, png0},
         {rec, notpng},
         {strlen(rec), strlen(notpng)},
         2,
         "not a PNG"},
        {"bad JSON", {json_name}, {"{\"format\": "}, {11}, 1, json_name},
        {"n_frames disagrees", {json_name}, {bad_rec}, {strlen(bad_rec)}, 1, "step texts"},
        {"cell boxes missing", {json_name}, {bad_cells}, {strlen(bad_cells)}, 1, "cell boxes"},
        {"not a record",
         {png0},
         {(const char *)ep.frame_png[0]},
         {ep.frame_png_len[0]},
         1,
         "expected an episode .json"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int count;
        write_archive(p, cases[i].names, cases[i].data, cases[i].lens, cases[i].n);
        mvot_error_clear(&err);
        enum mvot_status st = read_all(p, &count, &err);
        if (st == MVOT_OK)
            T_FAIL("case \"%s\" was accepted", cases[i].what);
        else if (!strstr(err.msg, cases[i].msg))
            T_FAIL("case \"%s\": message \"%s\" lacks \"%s\"", cases[i].what, err.msg,
                   cases[i].msg);
    }
    /* not an archive at all */
    ASSERT_OK(mvot_io_write_file(p, "hello", 5, &err), &err);
    int count;
    ASSERT_TRUE(read_all(p, &count, &err) != MVOT_OK);
    free(bad_rec);
    free(bad_cells);
    free(rec);
    free(p);
    mvot_episode_free(&ep);
    free(dir);
}

/* Fails for every top-level field of record that has no row in the spec's field table
 * (doc); marks each in seen (may be NULL). Returns the number of fields. */
static int check_fields_documented(json_t *record, const char *doc, const char *what, json_t *seen)
{
    const char *key;
    json_t *v;
    int n = 0;
    json_object_foreach(record, key, v)
    {
        char row[80];
        snprintf(row, sizeof row, "\n| `%s` |", key);
        if (!strstr(doc, row))
            T_FAIL("%s field \"%s\" is not in docs/episode-format.md", what, key);
        if (seen)
            json_object_set_new(seen, key, json_true());
        n++;
    }
    return n;
}

/* Every top-level record field is in the spec's field table, and every field of the table is
 * written by some task. */
static void test_spec_matches_records(void)
{
    const char *src = getenv("MVOT_SRC");
    char *path = mvot_strdupf("%s/docs/episode-format.md", src ? src : "..");
    uint8_t *doc = NULL;
    size_t len;
    struct mvot_error err = {0};
    if (mvot_io_read_file(path, 1 << 20, &doc, &len, &err) != MVOT_OK) {
        T_FAIL("%s", err.msg);
        free(path);
        return;
    }
    struct mvot_gen_config cfg;
    mvot_gen_config_default(&cfg);
    cfg.image_size = 128;
    json_t *seen = json_object();
    /* every task in the default style, then one episode in the official style ("style") */
    for (int t = 0; t <= MVOT_TASK_COUNT; t++) {
        struct mvot_episode ep;
        if (t == MVOT_TASK_COUNT)
            cfg.style = MVOT_GEN_STYLE_OFFICIAL;
        ASSERT_OK(mvot_gen_one(&cfg, (enum mvot_task)(t % MVOT_TASK_COUNT), 1, &ep, &err), &err);
        check_fields_documented(ep.record, (const char *)doc, "record", seen);
        mvot_episode_free(&ep);
    }
    /* records made by import-mvot add this field; test_spec_matches_imported_records
     * checks it against real imports where the reference samples are present */
    json_object_set_new(seen, "origin", json_true());
    /* the table rows, back to the records */
    const char *q = (const char *)doc;
    while ((q = strstr(q, "\n| `")) != NULL) {
        q += 4;
        const char *e = strchr(q, '`');
        if (!e)
            break;
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(e - q), q);
        if (strcmp(name, "DIR/episodes.tar.zst") != 0 && strcmp(name, "DIR/manifest.json") != 0 &&
            !json_object_get(seen, name))
            T_FAIL("docs/episode-format.md documents \"%s\", which no record has", name);
    }
    json_decref(seen);
    free(doc);
    free(path);
}

/* Every top-level field of a record made by import-mvot (from the official samples in the
 * reference data) is in the spec's field table. */
static void test_spec_matches_imported_records(void)
{
    char samples[1024];
    const char *ref = t_reference_dir();
    snprintf(samples, sizeof samples, "%s/mvot-data-samples", ref ? ref : "");
    if (!ref || !mvot_io_exists(samples))
        T_SKIP("no mvot-data-samples in the reference data (MVOT_REFERENCE_DIR)");
    const char *src = getenv("MVOT_SRC");
    char *path = mvot_strdupf("%s/docs/episode-format.md", src ? src : "..");
    uint8_t *doc = NULL;
    size_t len;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_io_read_file(path, 1 << 20, &doc, &len, &err), &err);
    free(path);
    if (!doc)
        return;
    char *tmp = t_tmpdir();
    struct mvot_episode_reader *r = NULL;
    ASSERT_OK(mvot_official_import(samples, tmp, 128, NULL, NULL, &err), &err);
    ASSERT_OK(mvot_episode_reader_open(tmp, &r, &err), &err);
    struct mvot_episode ep;
    int done = 0, fields = 0, has_origin = 0;
    if (r && mvot_episode_reader_next(r, &ep, &done, &err) == MVOT_OK && !done) {
        has_origin = json_object_get(ep.record, "origin") != NULL;
        fields = check_fields_documented(ep.record, (const char *)doc, "imported record", NULL);
        mvot_episode_free(&ep);
    }
    ASSERT_TRUE(fields > 0);
    ASSERT_TRUE(has_origin); /* the field test_spec_matches_records takes on trust */
    mvot_episode_reader_close(r);
    free(tmp);
    free(doc);
}

/* mvot_gen_plan is the plan every run makes first: its hash is the one part manifests record,
 * its totals are the run's, and a config whose plan cannot finish fails there as in a run. */
static void test_plan_alone(void)
{
    char *dir = t_tmpdir();
    struct mvot_gen_config cfg;
    struct mvot_error err = {0};
    json_t *plan = NULL, *man = NULL;
    mvot_gen_config_default(&cfg);
    cfg.episodes = 4;
    cfg.image_size = 128;
    cfg.max_steps = 5;
    ASSERT_OK(mvot_gen_plan(&cfg, NULL, NULL, &plan, &err), &err);
    struct mvot_gen_part part = {1, 3};
    ASSERT_OK(mvot_gen_run_part(&cfg, &part, dir, NULL, NULL, &man, &err), &err);
    if (plan && man) {
        ASSERT_EQ_STR(
            json_string_value(json_object_get(plan, "plan_xxh3")),
            json_string_value(json_object_get(json_object_get(man, "part"), "plan_xxh3")));
        ASSERT_EQ_INT(json_integer_value(json_object_get(plan, "episodes")), 12);
        ASSERT_EQ_INT(json_integer_value(json_object_get(plan, "frames")),
                      json_integer_value(json_object_get(man, "frames")));
        ASSERT_EQ_INT(json_integer_value(json_object_get(plan, "duplicates_rejected")),
                      json_integer_value(json_object_get(man, "duplicates_rejected")));
    }
    json_decref(plan);
    json_decref(man);
    /* far more one-step 3x3 mazes than there are: the plan gives up, naming an episode */
    cfg.tasks = 1u << MVOT_TASK_MAZE;
    cfg.episodes = 2000;
    cfg.min_steps = cfg.max_steps = 1;
    ASSERT_OK(mvot_gen_parse_sizes(&cfg, "3", &err), &err);
    plan = NULL;
    ASSERT_TRUE(mvot_gen_plan(&cfg, NULL, NULL, &plan, &err) == MVOT_ERR_INVALID);
    ASSERT_CONTAINS(err.msg, "no unique episode");
    ASSERT_TRUE(plan == NULL);
    free(dir);
}

/* Replays the fuzz corpus, then structured mutations (every top-level and layout field set to
 * each wrong type in turn) and deterministic byte flips of every valid corpus record. The
 * target aborts on any inconsistency it accepts, so reaching the end is the assertion. */
static void run_one(json_t *rec)
{
    char *s = mvot_json_dumps(rec);
    if (s)
        LLVMFuzzerTestOneInput((const uint8_t *)s, strlen(s));
    free(s);
}

static void mutate_fields(json_t *rec, json_t *obj)
{
    /* Key names are copied first: deleting and re-adding a key while iterating would free the
     * iterator's key and move it to the end of the object. */
    size_t nk = json_object_size(obj), k = 0;
    char **keys = calloc(nk ? nk : 1, sizeof *keys);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) keys[k++] = mvot_strdupf("%s", key);
    for (k = 0; k < nk; k++) {
        json_t *keep = json_incref(json_object_get(obj, keys[k]));
        json_t *repl[] = {json_null(),  json_integer(-1), json_integer(1 << 30), json_string("x"),
                          json_array(), json_object(),    json_real(2.5)};
        for (size_t i = 0; i < sizeof repl / sizeof repl[0]; i++) {
            json_object_set_new(obj, keys[k], repl[i]);
            run_one(rec);
        }
        if (json_is_array(keep) && json_array_size(keep) > 0) {
            json_t *shorter = json_deep_copy(keep);
            json_array_remove(shorter, 0);
            json_object_set_new(obj, keys[k], shorter);
            run_one(rec);
            json_t *longer = json_deep_copy(keep);
            json_array_append(longer, json_array_get(keep, 0));
            json_object_set_new(obj, keys[k], longer);
            run_one(rec);
        }
        json_object_del(obj, keys[k]);
        run_one(rec);
        json_object_set_new(obj, keys[k], keep);
        free(keys[k]);
    }
    free(keys);
}

static void test_fuzz_replay(void)
{
    const char *src = getenv("MVOT_SRC");
    char *dir = mvot_strdupf("%s/tests/fuzz/corpus/fuzz_gen_record", src ? src : "..");
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0, valid = 0;
    ASSERT_TRUE(d != NULL);
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = mvot_io_join(dir, e->d_name);
        uint8_t *buf;
        size_t len;
        struct mvot_error err = {0};
        ASSERT_OK(mvot_io_read_file(path, 1 << 20, &buf, &len, &err), &err);
        LLVMFuzzerTestOneInput(buf, len);
        files++;
        json_t *rec = NULL;
        struct mvot_episode ep;
        if (mvot_json_load_buf((const char *)buf, len, path, &rec, &err) == MVOT_OK &&
            mvot_episode_from_json(rec, path, &ep, &err) == MVOT_OK) {
            valid++;
            mvot_episode_free(&ep);
            mutate_fields(rec, rec);
            json_t *layout = json_object_get(rec, "layout");
            if (json_is_object(layout))
                mutate_fields(rec, layout);
            uint8_t *copy = malloc(len);
            for (uint32_t i = 0; i < 400 && copy; i++) {
                memcpy(copy, buf, len);
                uint64_t h = mvot_hash64(&i, sizeof i);
                copy[h % len] ^= (uint8_t)(1u << ((h >> 32) % 8));
                LLVMFuzzerTestOneInput(copy, (h >> 40) % 4 == 0 ? (h >> 8) % len : len);
            }
            free(copy);
        }
        json_decref(rec);
        free(buf);
        free(path);
    }
    if (d)
        closedir(d);
    ASSERT_TRUE(files >= 5);
    ASSERT_EQ_INT(valid, 3);
    free(dir);
}

/* The instruction strings equal the official loader's prompts in
 * official-prompts.md of the reference data (the first code block after each task heading),
 * with "\n" unescaped and <ACTION_SEQ> replaced by the episode's step texts. */
static char *official_prompt(const char *doc, const char *heading)
{
    const char *h = strstr(doc, heading);
    const char *b = h ? strstr(h, "```\n") : NULL;
    const char *e = b ? strstr(b + 4, "\n```") : NULL;
    if (!e)
        return NULL;
    b += 4;
    char *out = malloc((size_t)(e - b) + 1), *o = out;
    for (const char *q = b; q < e && out; q++) {
        if (q[0] == '\\' && q[1] == 'n') {
            *o++ = '\n';
            q++;
        } else {
            *o++ = *q;
        }
    }
    if (out)
        *o = 0;
    return out;
}

static void test_official_prompts(void)
{
    const char *ref = t_reference_dir();
    if (!ref)
        T_SKIP("no reference data (MVOT_REFERENCE_DIR)");
    char *path = mvot_strdupf("%s/official-prompts.md", ref);
    uint8_t *doc;
    size_t len;
    struct mvot_error err = {0};
    if (mvot_io_read_file(path, 1 << 20, &doc, &len, &err) != MVOT_OK) {
        free(path);
        T_SKIP("%s", err.msg);
    }
    struct mvot_gen_config cfg;
    mvot_gen_config_default(&cfg);
    cfg.image_size = 128;
    const char *heading[2] = {"## MAZE", "## FROZENLAKE"};
    for (int t = 0; t < 2; t++) {
        char *tmpl = official_prompt((const char *)doc, heading[t]);
        ASSERT_TRUE(tmpl && strstr(tmpl, "<ACTION_SEQ>"));
        if (!tmpl)
            continue;
        for (uint64_t i = 0; i < 6; i++) {
            struct mvot_episode ep;
            ASSERT_OK(mvot_gen_one(&cfg, (enum mvot_task)t, i, &ep, &err), &err);
            struct mvot_buf seq;
            mvot_buf_init(&seq, 0);
            for (uint32_t k = 0; k < ep.n_steps; k++)
                mvot_buf_append(&seq, ep.step_text[k], strlen(ep.step_text[k]));
            json_t *extra = json_object_get(ep.record, "additional_actions");
            for (size_t k = 0; k < json_array_size(extra); k++) {
                char word[32];
                snprintf(word, sizeof word, "Go %s. ", json_string_value(json_array_get(extra, k)));
                mvot_buf_append(&seq, word, strlen(word));
            }
            char *at = strstr(tmpl, "<ACTION_SEQ>");
            char *want = mvot_strdupf("%.*s%.*s%s", (int)(at - tmpl), tmpl, (int)seq.len,
                                      (const char *)seq.data, at + strlen("<ACTION_SEQ>"));
            ASSERT_EQ_STR(ep.instruction, want);
            free(want);
            mvot_buf_free(&seq);
            mvot_episode_free(&ep);
        }
        free(tmpl);
    }
    /* init texts and final labels as the official loader writes them */
    struct mvot_episode ep;
    ASSERT_OK(mvot_gen_one(&cfg, MVOT_TASK_MAZE, 0, &ep, &err), &err);
    ASSERT_CONTAINS((const char *)doc, "`<INIT_STATE>` = `Initial maze: <image>`");
    ASSERT_EQ_STR(ep.init_text, "Initial maze: ");
    mvot_episode_free(&ep);
    free(doc);
    free(path);
}

TEST_MAIN(test_golden_frames, test_official_prompts, test_fuzz_replay, test_config_json,
          test_plan_alone, test_reader_corrupt, test_spec_matches_records,
          test_spec_matches_imported_records)
