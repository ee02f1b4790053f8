/* Fuzz target for the episode archive readers (gen/episode.c over gen/tarz.c: the streaming
 * reader over libarchive, and random access through a version 2 archive's index): any bytes,
 * stored as a file, either read back as episodes whose frames are all present PNGs with
 * consistent counts, or fail with a status and a message; never a crash or a hang.
 * Replayed without libFuzzer by tests/test_gen_format.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io.h"
#include "gen/episode.h"
#include "gen/tarz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_episode(const struct mvot_episode *ep)
{
    if (ep->n_frames != ep->n_steps + 1)
        abort();
    for (uint32_t k = 0; k < ep->n_frames; k++)
        if (!ep->frame_png[k] || ep->frame_png_len[k] < 8 ||
            memcmp(ep->frame_png[k], "\x89PNG", 4) != 0)
            abort();
}

/* Random access: every episode the index lists reads back or fails with a message. */
static void read_indexed(const char *path)
{
    struct mvot_error err = {0};
    struct mvot_tarz_index *ix = NULL;
    if (mvot_tarz_index_open(path, &ix, &err) != MVOT_OK) {
        if (err.msg[0] == 0)
            abort();
        return;
    }
    for (size_t i = 0; ix && i < mvot_tarz_index_count(ix); i++) {
        struct mvot_episode ep;
        if (mvot_episode_archive_read(ix, i, &ep, &err) != MVOT_OK) {
            if (err.msg[0] == 0)
                abort();
            continue;
        }
        check_episode(&ep);
        mvot_episode_free(&ep);
    }
    mvot_tarz_index_close(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/mvot-fuzz-archive-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    FILE *fp = fdopen(fd, "wb");
    if (!fp || (size && fwrite(data, 1, size, fp) != size)) {
        if (fp)
            fclose(fp);
        unlink(path);
        return 0;
    }
    fclose(fp);
    struct mvot_error err = {0};
    struct mvot_episode_reader *r = NULL;
    if (mvot_episode_reader_open(path, &r, &err) == MVOT_OK) {
        for (int guard = 0; guard < 100000; guard++) {
            struct mvot_episode ep;
            int done = 0;
            if (mvot_episode_reader_next(r, &ep, &done, &err) != MVOT_OK) {
                if (err.msg[0] == 0)
                    abort();
                break;
            }
            if (done)
                break;
            check_episode(&ep);
            mvot_episode_free(&ep);
        }
        mvot_episode_reader_close(r);
    } else if (err.msg[0] == 0) {
        abort();
    }
    read_indexed(path);
    unlink(path);
    return 0;
}
