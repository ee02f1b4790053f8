/* Whole-file copies and links (core/copy.h). */
#include "core/copy.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/io.h"

enum mvot_status mvot_io_copy_file(const char *src, const char *dst, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_atomic_file af = {0};
    FILE *in = NULL;
    uint8_t *buf = NULL;
    uint64_t hs = 0, hd = 0;
    if (mvot_io_exists(dst) && mvot_hash_file(src, &hs, NULL) == MVOT_OK &&
        mvot_hash_file(dst, &hd, NULL) == MVOT_OK && hs == hd)
        return MVOT_OK;
    in = mvot_io_fopen_input(src, err);
    if (!in) {
        st = MVOT_ERR_IO;
        goto cleanup;
    }
    buf = malloc(1 << 20);
    MVOT_FAIL_IF(!buf, err, MVOT_ERR_NOMEM, src, "out of memory");
    MVOT_TRY(mvot_atomic_open(&af, dst, err));
    for (;;) {
        size_t n = fread(buf, 1, 1 << 20, in);
        if (n)
            MVOT_TRY(mvot_io_write_all(af.fp, buf, n, dst, err));
        if (n < (1 << 20)) {
            MVOT_FAIL_IF(ferror(in), err, MVOT_ERR_IO, src, "read failed");
            break;
        }
    }
    MVOT_TRY(mvot_atomic_commit(&af, err));
cleanup:
    mvot_atomic_abort(&af);
    if (in)
        fclose(in);
    free(buf);
    return st;
}

enum mvot_status mvot_io_link_or_copy(const char *src, const char *dst, struct mvot_error *err)
{
    if (link(src, dst) == 0)
        return MVOT_OK;
    /* no hard links here (another filesystem, or one without them): copy */
    if (errno == EXDEV || errno == EPERM || errno == ENOTSUP || errno == EMLINK || errno == ENOSYS)
        return mvot_io_copy_file(src, dst, err);
    return mvot_error_set(err, MVOT_ERR_IO, dst, "cannot link %s here: %s", src, strerror(errno));
}
