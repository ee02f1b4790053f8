/* Reproducible tar.zst writer and a bounded reader, over libarchive (gen/tarz.h). */
#include "gen/tarz.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io.h"

struct mvot_tarz_writer {
    struct archive *a;
    struct archive_entry *e;
    struct mvot_atomic_file af;
    char *path;
};

void mvot_tarz_writer_abort(struct mvot_tarz_writer *w)
{
    if (!w)
        return;
    if (w->a)
        archive_write_free(w->a);
    archive_entry_free(w->e);
    mvot_atomic_abort(&w->af);
    free(w->path);
    free(w);
}

enum mvot_status mvot_tarz_writer_open(const char *path, int zstd_level,
                                       struct mvot_tarz_writer **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char opt[64];
    struct mvot_tarz_writer *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
    w->path = mvot_strdupf("%s", path);
    w->a = archive_write_new();
    w->e = archive_entry_new();
    MVOT_FAIL_IF(!w->path || !w->a || !w->e, err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_TRY(mvot_atomic_open(&w->af, path, err));
    snprintf(opt, sizeof opt, "zstd:compression-level=%d", zstd_level);
    /* pax-restricted writes plain ustar headers unless a field needs an extension, and we
     * never set times other than 0 or names longer than ustar allows in practice. */
    MVOT_FAIL_IF(archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
                     archive_write_add_filter_zstd(w->a) != ARCHIVE_OK ||
                     archive_write_set_options(w->a, opt) != ARCHIVE_OK ||
                     archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
                     archive_write_open_FILE(w->a, w->af.fp) != ARCHIVE_OK,
                 err, MVOT_ERR_IO, path, "cannot start archive: %s", archive_error_string(w->a));
    *out = w;
    w = NULL;
cleanup:
    mvot_tarz_writer_abort(w);
    return st;
}

enum mvot_status mvot_tarz_writer_add(struct mvot_tarz_writer *w, const char *name,
                                      const void *data, size_t len, struct mvot_error *err)
{
    archive_entry_clear(w->e);
    archive_entry_set_pathname(w->e, name);
    archive_entry_set_filetype(w->e, AE_IFREG);
    archive_entry_set_perm(w->e, 0644);
    archive_entry_set_size(w->e, (la_int64_t)len);
    archive_entry_set_mtime(w->e, 0, 0);
    archive_entry_set_uid(w->e, 0);
    archive_entry_set_gid(w->e, 0);
    if (archive_write_header(w->a, w->e) != ARCHIVE_OK)
        return mvot_error_set(err, MVOT_ERR_IO, w->path, "member %s: %s", name,
                              archive_error_string(w->a));
    if (len > 0 && archive_write_data(w->a, data, len) != (la_ssize_t)len)
        return mvot_error_set(err, MVOT_ERR_IO, w->path, "member %s: %s", name,
                              archive_error_string(w->a));
    return MVOT_OK;
}

enum mvot_status mvot_tarz_writer_commit(struct mvot_tarz_writer *w, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    if (archive_write_close(w->a) != ARCHIVE_OK) {
        st = mvot_error_set(err, MVOT_ERR_IO, w->path, "cannot finish archive: %s",
                            archive_error_string(w->a));
        mvot_tarz_writer_abort(w);
        return st;
    }
    archive_write_free(w->a);
    w->a = NULL;
    st = mvot_atomic_commit(&w->af, err);
    archive_entry_free(w->e);
    free(w->path);
    free(w);
    return st;
}

struct mvot_tarz_reader {
    struct archive *a;
    int fd; /* ours: libarchive reads it but does not close it */
    char *path;
    char *name;
};

void mvot_tarz_reader_close(struct mvot_tarz_reader *r)
{
    if (!r)
        return;
    if (r->a)
        archive_read_free(r->a);
    if (r->fd >= 0)
        close(r->fd);
    free(r->path);
    free(r->name);
    free(r);
}

const char *mvot_tarz_reader_path(const struct mvot_tarz_reader *r)
{
    return r->path;
}

enum mvot_status mvot_tarz_reader_open(const char *path, struct mvot_tarz_reader **out,
                                       struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_tarz_reader *r = calloc(1, sizeof *r);
    *out = NULL;
    if (!r)
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
    r->fd = -1;
    r->path = mvot_strdupf("%s", path);
    r->a = archive_read_new();
    MVOT_FAIL_IF(!r->path || !r->a, err, MVOT_ERR_NOMEM, path, "out of memory");
    archive_read_support_filter_zstd(r->a);
    archive_read_support_filter_none(r->a);
    archive_read_support_format_tar(r->a);
    r->fd = mvot_io_open_input(path, err); /* a FIFO would block libarchive's open */
    if (r->fd < 0) {
        st = MVOT_ERR_IO;
        goto cleanup;
    }
    if (archive_read_open_fd(r->a, r->fd, 1 << 16) != ARCHIVE_OK) {
        st = mvot_error_set(err, mvot_io_exists(path) ? MVOT_ERR_CORRUPT : MVOT_ERR_IO, path,
                            "cannot open archive: %s", archive_error_string(r->a));
        goto cleanup;
    }
    *out = r;
    r = NULL;
cleanup:
    mvot_tarz_reader_close(r);
    return st;
}

enum mvot_status mvot_tarz_reader_next(struct mvot_tarz_reader *r, const char **name,
                                       uint8_t **data, size_t *len, int *done,
                                       struct mvot_error *err)
{
    struct archive_entry *e;
    *data = NULL;
    *len = 0;
    *done = 0;
    for (;;) {
        int rc = archive_read_next_header(r->a, &e);
        if (rc == ARCHIVE_EOF) {
            *done = 1;
            return MVOT_OK;
        }
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
            return mvot_error_corrupt(err, r->path, -1, "bad archive header: %s",
                                      archive_error_string(r->a));
        if (archive_entry_filetype(e) == AE_IFREG)
            break;
    }
    const char *nm = archive_entry_pathname(e);
    la_int64_t size = archive_entry_size(e);
    if (!nm)
        return mvot_error_corrupt(err, r->path, -1, "member without a name");
    if (size < 0 || (uint64_t)size > MVOT_TARZ_MAX_MEMBER)
        return mvot_error_corrupt(err, r->path, -1, "member %s: size %lld over the cap", nm,
                                  (long long)size);
    free(r->name);
    r->name = mvot_strdupf("%s", nm);
    uint8_t *buf = malloc((size_t)size + 1);
    if (!r->name || !buf) {
        free(buf);
        return mvot_error_set(err, MVOT_ERR_NOMEM, r->path, "out of memory");
    }
    size_t got = 0;
    while (got < (size_t)size) {
        la_ssize_t k = archive_read_data(r->a, buf + got, (size_t)size - got);
        if (k <= 0) {
            free(buf);
            return mvot_error_corrupt(err, r->path, -1, "member %s: truncated data (%s)", r->name,
                                      k < 0 ? archive_error_string(r->a) : "end of archive");
        }
        got += (size_t)k;
    }
    buf[got] = 0;
    *name = r->name;
    *data = buf;
    *len = got;
    return MVOT_OK;
}
