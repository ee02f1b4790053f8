/* The episode archive (gen/tarz.c): the replay driver for tests/fuzz/fuzz_gen_archive.c (the
 * corpus, then deterministic byte flips and truncations of every corpus archive; the target
 * aborts on anything inconsistent it accepts, so finishing is the assertion; the originals
 * must read); random access returning what streaming returns; hand-made corruptions of a
 * version 2 archive's seek table, index and frames, each refused in one line naming the
 * file; and the doc's version 2 values checked against the code. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "gen/gen.h"
#include "gen/tarz.h"
#include "tests/test.h"

#include "tests/fuzz/fuzz_gen_archive.c"

static void test_archive_fuzz_replay(void)
{
    const char *src = getenv("MVOT_SRC");
    char *dir = mvot_strdupf("%s/tests/fuzz/corpus/fuzz_gen_archive", src ? src : "..");
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    ASSERT_TRUE(d != NULL);
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = mvot_io_join(dir, e->d_name);
        uint8_t *buf;
        size_t len;
        struct mvot_error err = {0};
        ASSERT_OK(mvot_io_read_file(path, 1 << 22, &buf, &len, &err), &err);
        LLVMFuzzerTestOneInput(buf, len);
        files++;
        if (strstr(e->d_name, ".tar")) {
            /* the corpus archives themselves are valid */
            struct mvot_episode_reader *r = NULL;
            int n = 0, done = 0;
            ASSERT_OK(mvot_episode_reader_open(path, &r, &err), &err);
            while (r && !done) {
                struct mvot_episode ep;
                if (mvot_episode_reader_next(r, &ep, &done, &err) != MVOT_OK) {
                    T_FAIL("%s: %s", e->d_name, err.msg);
                    break;
                }
                if (!done) {
                    n++;
                    mvot_episode_free(&ep);
                }
            }
            mvot_episode_reader_close(r);
            ASSERT_EQ_INT(n, 2);
            uint8_t *copy = malloc(len);
            for (uint32_t i = 0; i < 150 && copy; i++) {
                memcpy(copy, buf, len);
                uint64_t h = mvot_hash64(&i, sizeof i);
                size_t at = (size_t)(h % len);
                /* bias flips toward the tar headers and the first record, where parsing is */
                if (i % 2 == 0)
                    at = (size_t)(h % (len < 2048 ? len : 2048));
                else if (i % 4 == 1) /* and the tail: a version 2 index and seek table */
                    at = len - 1 - (size_t)(h % (len < 600 ? len : 600));
                copy[at] ^= (uint8_t)(1u << ((h >> 32) % 8));
                LLVMFuzzerTestOneInput(copy, (h >> 40) % 5 == 0 ? (size_t)((h >> 8) % len) : len);
            }
            free(copy);
        }
        free(buf);
        free(path);
    }
    if (d)
        closedir(d);
    ASSERT_TRUE(files >= 3);
    free(dir);
}

/* A small version 2 set of every task in dir/set; returns the archive path (caller frees). */
static char *make_set(const char *dir)
{
    struct mvot_gen_config cfg;
    struct mvot_error err = {0};
    mvot_gen_config_default(&cfg);
    cfg.episodes = 3;
    cfg.image_size = 128;
    cfg.max_steps = 4;
    cfg.seed = 5;
    char *out = mvot_io_join(dir, "set");
    ASSERT_OK(mvot_gen_run(&cfg, out, NULL, NULL, NULL, &err), &err);
    char *arch = mvot_io_join(out, "episodes.tar.zst");
    free(out);
    return arch;
}

static void test_random_access_matches_streaming(void)
{
    char *dir = t_tmpdir();
    char *arch = make_set(dir);
    struct mvot_error err = {0};
    struct mvot_episode_reader *r = NULL;
    struct mvot_tarz_index *ix = NULL;
    ASSERT_OK(mvot_episode_reader_open(arch, &r, &err), &err);
    ASSERT_OK(mvot_tarz_index_open(arch, &ix, &err), &err);
    ASSERT_TRUE(ix != NULL);
    size_t n = 0;
    for (int done = 0; r && ix;) {
        struct mvot_episode a, b;
        ASSERT_OK(mvot_episode_reader_next(r, &a, &done, &err), &err);
        if (done)
            break;
        ASSERT_TRUE(n < mvot_tarz_index_count(ix));
        if (n >= mvot_tarz_index_count(ix))
            break;
        const struct mvot_tarz_episode *te = mvot_tarz_index_get(ix, n);
        ASSERT_EQ_STR(te->key, a.key);
        ASSERT_EQ_INT(te->task, a.task);
        ASSERT_EQ_INT(te->split, a.split);
        ASSERT_EQ_INT(te->steps, a.n_steps);
        ASSERT_OK(mvot_episode_archive_read(ix, n, &b, &err), &err);
        ASSERT_EQ_STR(b.key, a.key);
        ASSERT_EQ_INT(b.n_frames, a.n_frames);
        char *ja = mvot_json_dumps(a.record), *jb = mvot_json_dumps(b.record);
        ASSERT_EQ_STR(ja, jb);
        free(ja);
        free(jb);
        for (uint32_t k = 0; k < a.n_frames && k < b.n_frames; k++) {
            ASSERT_EQ_INT(a.frame_png_len[k], b.frame_png_len[k]);
            ASSERT_TRUE(memcmp(a.frame_png[k], b.frame_png[k], a.frame_png_len[k]) == 0);
        }
        mvot_episode_free(&a);
        mvot_episode_free(&b);
        n++;
    }
    ASSERT_EQ_INT(n, 9);
    ASSERT_EQ_INT(mvot_tarz_index_count(ix), 9);
    /* reading out of order gives the same episode */
    struct mvot_episode c;
    ASSERT_OK(mvot_episode_archive_read(ix, 7, &c, &err), &err);
    ASSERT_EQ_STR(c.key, mvot_tarz_index_get(ix, 7)->key);
    mvot_episode_free(&c);
    mvot_tarz_index_close(ix);
    mvot_episode_reader_close(r);
    /* a version 1 archive (the corpus's) has no index, and that is not an error */
    const char *src = getenv("MVOT_SRC");
    char *v1 =
        mvot_strdupf("%s/tests/fuzz/corpus/fuzz_gen_archive/two-maze.tar.zst", src ? src : "..");
    ix = (struct mvot_tarz_index *)1;
    ASSERT_OK(mvot_tarz_index_open(v1, &ix, &err), &err);
    ASSERT_TRUE(ix == NULL);
    free(v1);
    free(arch);
    free(dir);
}

/* Writes buf with byte at ^= x (or truncated to cut bytes when cut) to path. */
static void write_variant(const char *path, const uint8_t *buf, size_t len, size_t at, uint8_t x,
                          size_t cut)
{
    uint8_t *c = malloc(len);
    struct mvot_error err = {0};
    memcpy(c, buf, len);
    if (at < len)
        c[at] ^= x;
    ASSERT_OK(mvot_io_write_file(path, c, cut ? cut : len, &err), &err);
    free(c);
}

/* Opens path's index and reads every episode; returns the first failure's status. */
static enum mvot_status read_indexed_all(const char *path, struct mvot_error *err)
{
    struct mvot_tarz_index *ix = NULL;
    enum mvot_status st = mvot_tarz_index_open(path, &ix, err);
    if (st == MVOT_OK && !ix)
        return mvot_error_set(err, MVOT_ERR_INTERNAL, path, "no index");
    for (size_t i = 0; st == MVOT_OK && i < mvot_tarz_index_count(ix); i++) {
        struct mvot_episode ep;
        st = mvot_episode_archive_read(ix, i, &ep, err);
        if (st == MVOT_OK)
            mvot_episode_free(&ep);
    }
    mvot_tarz_index_close(ix);
    return st;
}

static void test_index_corrupt(void)
{
    char *dir = t_tmpdir();
    char *arch = make_set(dir);
    char *bad = mvot_io_join(dir, "bad.tar.zst");
    uint8_t *buf;
    size_t len;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_io_read_file(arch, 1 << 24, &buf, &len, &err), &err);
    ASSERT_OK(read_indexed_all(arch, &err), &err);
    /* where things are: the table's footer, its first entry, the index, frame 0 */
    uint32_t nf = mvot_rd32(buf + len - 9);
    size_t table = 8 + (size_t)nf * 12 + 9, tab0 = len - table;
    uint64_t frames = 0;
    for (uint32_t i = 0; i < nf; i++)
        frames += mvot_rd32(buf + tab0 + 8 + (size_t)i * 12);
    struct {
        const char *what;
        size_t at;
        uint8_t x;
        size_t cut;
        const char *want; /* in the message */
    } cases[] = {
        {"footer frame count", len - 9, 0x40, 0, "seek table"},
        {"footer descriptor", len - 5, 0x01, 0, "descriptor"},
        {"table frame header", tab0 + 1, 0x01, 0, "seek table"},
        {"table csize", tab0 + 8 + 1, 0x10, 0, ""},
        {"table checksum of frame 0", tab0 + 8 + 8, 0x01, 0, "checksum"},
        {"index magic", (size_t)frames, 0x01, 0, "index"},
        {"index tag", (size_t)frames + 9, 0x01, 0, "index"},
        {"index entry", (size_t)frames + 8 + 12 + 4, 0x01, 0, "index"},
        {"index checksum", tab0 - 1, 0x01, 0, "checksum"},
        {"frame 0 data", 200, 0x08, 0, "frame"},
        {"frame 0 header", 0, 0x01, 0, "frame"},
        {"truncated tail", len, 0, len - 3, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_variant(bad, buf, len, cases[i].at, cases[i].x, cases[i].cut);
        memset(&err, 0, sizeof err);
        enum mvot_status st = read_indexed_all(bad, &err);
        if (st == MVOT_OK) {
            T_FAIL("%s: accepted", cases[i].what);
            continue;
        }
        /* a truncated tail has no footer: it reads as version 1, with no index */
        if (cases[i].cut) {
            ASSERT_EQ_INT(st, MVOT_ERR_INTERNAL);
            continue;
        }
        ASSERT_EQ_INT(st, MVOT_ERR_CORRUPT);
        ASSERT_TRUE(strstr(err.msg, "bad.tar.zst") != NULL);
        ASSERT_TRUE(strchr(err.msg, '\n') == NULL);
        if (!strstr(err.msg, cases[i].want))
            T_FAIL("%s: message \"%s\" lacks \"%s\"", cases[i].what, err.msg, cases[i].want);
    }
    unlink(bad);
    free(buf);
    free(bad);
    free(arch);
    free(dir);
}

/* docs/episode-format.md states the version 2 values the code uses. */
static void test_spec_matches_code(void)
{
    char *doc = t_read_source("docs/episode-format.md");
    char v[64];
    ASSERT_TRUE(doc != NULL);
    if (!doc)
        return;
    snprintf(v, sizeof v, "**archive version %d**", MVOT_ARCHIVE_VERSION);
    ASSERT_CONTAINS(doc, v);
    snprintf(v, sizeof v, "`0x%08X`", MVOT_EPINDEX_MAGIC);
    ASSERT_CONTAINS(doc, v);
    snprintf(v, sizeof v, "`0x%08X`", MVOT_SEEK_SKIPPABLE_MAGIC);
    ASSERT_CONTAINS(doc, v);
    snprintf(v, sizeof v, "`0x%08X`", MVOT_SEEK_FOOTER_MAGIC);
    ASSERT_CONTAINS(doc, v);
    snprintf(v, sizeof v, "| index version | 4 | %u ", MVOT_EPINDEX_VERSION);
    ASSERT_CONTAINS(doc, v);
    snprintf(v, sizeof v, "window log %d", MVOT_SEEK_WINDOW_LOG);
    ASSERT_CONTAINS(doc, v);
    snprintf(v, sizeof v, "| key length | 1 | 1..%u |", MVOT_EPINDEX_KEY_MAX);
    ASSERT_CONTAINS(doc, v);
    snprintf(v, sizeof v, "at most %u GiB", (unsigned)(MVOT_TARZ_MAX_EPISODE >> 30));
    ASSERT_CONTAINS(doc, v);
    ASSERT_CONTAINS(doc, "`\"" MVOT_EPINDEX_TAG "\"`");
    ASSERT_CONTAINS(doc, "`archive_version`");
    free(doc);
}

TEST_MAIN(test_archive_fuzz_replay, test_random_access_matches_streaming, test_index_corrupt,
          test_spec_matches_code)
