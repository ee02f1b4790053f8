/* Replay driver for tests/fuzz/fuzz_gen_archive.c (the episode archive reader): the corpus,
 * then deterministic byte flips and truncations of every corpus archive. The target aborts on
 * anything inconsistent it accepts, so finishing is the assertion; the originals must read. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
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

TEST_MAIN(test_archive_fuzz_replay)
