/* File I/O with atomic replacement. The temp name is "<dir>/.<base>.tmp.<pid>.<n>" so it is
 * hidden, unique per process and writer, and on the same filesystem as the target (rename
 * is only atomic within one filesystem). */
#include "core/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"

char *mvot_strdupf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = NULL;
    if (n >= 0 && (s = malloc((size_t)n + 1)) != NULL)
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

char *mvot_io_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    if (dl == 0)
        return mvot_strdupf("%s", name);
    return mvot_strdupf("%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", name);
}

int mvot_io_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

int mvot_io_open_input(const char *path, struct mvot_error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        mvot_error_set(err, MVOT_ERR_IO, path, "cannot open: %s", strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        mvot_error_set(err, MVOT_ERR_IO, path, "cannot stat: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        mvot_error_set(err, MVOT_ERR_IO, path, "not a regular file (%s)",
                       S_ISFIFO(sb.st_mode)   ? "a FIFO"
                       : S_ISDIR(sb.st_mode)  ? "a directory"
                       : S_ISSOCK(sb.st_mode) ? "a socket"
                                              : "a device");
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1) {
        mvot_error_set(err, MVOT_ERR_IO, path, "fcntl failed: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

FILE *mvot_io_fopen_input(const char *path, struct mvot_error *err)
{
    int fd = mvot_io_open_input(path, err);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        mvot_error_set(err, MVOT_ERR_IO, path, "cannot open: %s", strerror(errno));
        close(fd);
    }
    return fp;
}

enum mvot_status mvot_io_read_file(const char *path, size_t max_bytes, uint8_t **out, size_t *len,
                                   struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    FILE *fp = mvot_io_fopen_input(path, err);
    *out = NULL;
    *len = 0;
    if (!fp)
        return MVOT_ERR_IO;
    for (;;) {
        if (n == cap) {
            /* Grow geometrically; allow one byte past the limit to detect "too large". */
            MVOT_FAIL_IF(n > max_bytes, err, MVOT_ERR_NOMEM, path,
                         "file is larger than the %zu-byte limit", max_bytes);
            size_t ncap = cap ? cap * 2 : 65536;
            if (max_bytes < SIZE_MAX / 4 && ncap > max_bytes + 1)
                ncap = max_bytes + 1;
            uint8_t *nb = realloc(buf, ncap + 1);
            MVOT_FAIL_IF(!nb, err, MVOT_ERR_NOMEM, path, "out of memory reading file");
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    MVOT_FAIL_IF(ferror(fp), err, MVOT_ERR_IO, path, "read error: %s", strerror(errno));
    MVOT_FAIL_IF(n > max_bytes, err, MVOT_ERR_NOMEM, path, "file is larger than the %zu-byte limit",
                 max_bytes);
    buf[n] = 0;
    *out = buf;
    *len = n;
    buf = NULL;
cleanup:
    if (fp)
        fclose(fp);
    free(buf);
    return st;
}

static atomic_uint g_tmp_counter;

enum mvot_status mvot_atomic_open(struct mvot_atomic_file *af, const char *path,
                                  struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    memset(af, 0, sizeof *af);
    const char *slash = strrchr(path, '/');
    unsigned n = atomic_fetch_add(&g_tmp_counter, 1);
    if (slash)
        af->tmp_path = mvot_strdupf("%.*s/.%s.tmp.%ld.%u", (int)(slash - path), path, slash + 1,
                                    (long)getpid(), n);
    else
        af->tmp_path = mvot_strdupf(".%s.tmp.%ld.%u", path, (long)getpid(), n);
    af->final_path = mvot_strdupf("%s", path);
    MVOT_FAIL_IF(!af->tmp_path || !af->final_path, err, MVOT_ERR_NOMEM, path, "out of memory");
    af->fp = fopen(af->tmp_path, "wb");
    MVOT_FAIL_IF(!af->fp, err, MVOT_ERR_IO, path, "cannot create temp file %s: %s", af->tmp_path,
                 strerror(errno));
cleanup:
    if (st != MVOT_OK)
        mvot_atomic_abort(af);
    return st;
}

static void fsync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? mvot_strdupf("%.*s", (int)(slash - path), path) : mvot_strdupf(".");
    if (!dir)
        return;
    int fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: some filesystems refuse fsync on directories */
        close(fd);
    }
    free(dir);
}

enum mvot_status mvot_atomic_commit(struct mvot_atomic_file *af, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    MVOT_FAIL_IF(!af->fp, err, MVOT_ERR_INTERNAL, af->final_path, "atomic file is not open");
    MVOT_FAIL_IF(fflush(af->fp) != 0 || ferror(af->fp), err, MVOT_ERR_IO, af->final_path,
                 "write failed: %s", strerror(errno));
    MVOT_FAIL_IF(fsync(fileno(af->fp)) != 0, err, MVOT_ERR_IO, af->final_path, "fsync failed: %s",
                 strerror(errno));
    int rc = fclose(af->fp);
    af->fp = NULL;
    MVOT_FAIL_IF(rc != 0, err, MVOT_ERR_IO, af->final_path, "close failed: %s", strerror(errno));
    MVOT_FAIL_IF(rename(af->tmp_path, af->final_path) != 0, err, MVOT_ERR_IO, af->final_path,
                 "rename failed: %s", strerror(errno));
    fsync_parent_dir(af->final_path);
    free(af->tmp_path);
    af->tmp_path = NULL;
cleanup:
    mvot_atomic_abort(af);
    return st;
}

void mvot_atomic_abort(struct mvot_atomic_file *af)
{
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
    }
    if (af->tmp_path) {
        unlink(af->tmp_path);
        free(af->tmp_path);
        af->tmp_path = NULL;
    }
    free(af->final_path);
    af->final_path = NULL;
}

enum mvot_status mvot_io_write_all(FILE *fp, const void *data, size_t len, const char *path,
                                   struct mvot_error *err)
{
    if (len && fwrite(data, 1, len, fp) != len)
        return mvot_error_set(err, MVOT_ERR_IO, path, "write failed: %s", strerror(errno));
    return MVOT_OK;
}

enum mvot_status mvot_io_write_file(const char *path, const void *data, size_t len,
                                    struct mvot_error *err)
{
    struct mvot_atomic_file af;
    enum mvot_status st = mvot_atomic_open(&af, path, err);
    if (st != MVOT_OK)
        return st;
    st = mvot_io_write_all(af.fp, data, len, path, err);
    if (st != MVOT_OK) {
        mvot_atomic_abort(&af);
        return st;
    }
    return mvot_atomic_commit(&af, err);
}

enum mvot_status mvot_io_mkdirs(const char *path, struct mvot_error *err)
{
    char *p = mvot_strdupf("%s", path);
    if (!p)
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
    enum mvot_status st = MVOT_OK;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                st = mvot_error_set(err, MVOT_ERR_IO, p, "cannot create directory: %s",
                                    strerror(errno));
                break;
            }
            *s = c;
            if (c == '\0')
                break;
        }
    }
    free(p);
    return st;
}

void mvot_buf_init(struct mvot_buf *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->cap = cap;
}

void mvot_buf_free(struct mvot_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

enum mvot_status mvot_buf_reserve(struct mvot_buf *b, size_t extra)
{
    size_t cap = b->cap ? b->cap : SIZE_MAX / 2;
    if (extra > cap || b->len > cap - extra)
        return MVOT_ERR_NOMEM;
    size_t need = b->len + extra;
    if (need + 1 <= b->alloc)
        return MVOT_OK;
    return MVOT_GROW(&b->data, &b->alloc, need + 1, MVOT_GROW_UNCAPPED, NULL);
}

enum mvot_status mvot_buf_append(struct mvot_buf *b, const void *data, size_t len)
{
    enum mvot_status st = mvot_buf_reserve(b, len);
    if (st != MVOT_OK)
        return st;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0; /* always NUL-terminated for text use */
    return MVOT_OK;
}

enum mvot_status mvot_buf_printf(struct mvot_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    enum mvot_status st = n < 0 ? MVOT_ERR_INVALID : mvot_buf_reserve(b, (size_t)n);
    if (st == MVOT_OK) {
        vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
    return st;
}
