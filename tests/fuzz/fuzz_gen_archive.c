/* Fuzz target for the episode archive reader (gen/episode.c over gen/tarz.c and libarchive):
 * any bytes, stored as a file, either read back as episodes whose frames are all present PNGs
 * with consistent counts, or fail with a status and a message; never a crash or a hang.
 * Replayed without libFuzzer by tests/test_gen_format.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io.h"
#include "gen/episode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
            if (ep.n_frames != ep.n_steps + 1)
                abort();
            for (uint32_t k = 0; k < ep.n_frames; k++)
                if (!ep.frame_png[k] || ep.frame_png_len[k] < 8 ||
                    memcmp(ep.frame_png[k], "\x89PNG", 4) != 0)
                    abort();
            mvot_episode_free(&ep);
        }
        mvot_episode_reader_close(r);
    } else if (err.msg[0] == 0) {
        abort();
    }
    unlink(path);
    return 0;
}
