/* Output-folder safety: overlap checks, the per-folder lock and owned-file removal
 * (core/outdir.h). Paths are compared after realpath(3), so "S", "./S" and a symlink to S
 * are one folder. */
#define _GNU_SOURCE
#include "core/outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io.h"

struct mvot_outdir_lock {
    int fd;
    long stale_pid;
    char *dir;
};

/* realpath of `path`, or of its deepest existing ancestor with the rest appended; NULL on
 * OOM or when nothing of it resolves. */
static char *resolve(const char *path)
{
    char *r = realpath(path, NULL);
    if (r)
        return r;
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = 0;
    char *slash = strrchr(copy, '/');
    char *parent, *rest;
    if (!slash) {
        parent = realpath(".", NULL);
        rest = copy;
    } else {
        *slash = 0;
        parent = resolve(*copy ? copy : "/");
        rest = slash + 1;
    }
    char *out =
        parent ? mvot_strdupf("%s%s%s", parent, strcmp(parent, "/") ? "/" : "", rest) : NULL;
    free(parent);
    free(copy);
    return out;
}

/* 1 if `in` equals `outer` or lies below it. */
static int is_within(const char *in, const char *outer)
{
    size_t n = strlen(outer);
    if (strcmp(outer, "/") == 0)
        return 1;
    return strncmp(in, outer, n) == 0 && (in[n] == 0 || in[n] == '/');
}

enum mvot_status mvot_outdir_check_overlap(const char *out_dir, const char *const *inputs, size_t n,
                                           struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *out = resolve(out_dir), *in = NULL;
    MVOT_FAIL_IF(!out, err, MVOT_ERR_NOMEM, out_dir, "cannot resolve the path");
    for (size_t i = 0; i < n; i++) {
        if (!inputs[i])
            continue;
        free(in);
        in = realpath(inputs[i], NULL);
        if (!in)
            continue;
        MVOT_FAIL_IF(strcmp(in, out) == 0, err, MVOT_ERR_INVALID, out_dir,
                     "the output folder is the input %s; choose another output folder", inputs[i]);
        MVOT_FAIL_IF(is_within(in, out), err, MVOT_ERR_INVALID, out_dir,
                     "the output folder contains the input %s; choose another output folder",
                     inputs[i]);
        MVOT_FAIL_IF(is_within(out, in), err, MVOT_ERR_INVALID, out_dir,
                     "the output folder lies inside the input %s; choose another output folder",
                     inputs[i]);
    }
cleanup:
    free(in);
    free(out);
    return st;
}

enum mvot_status mvot_outdir_lock(const char *out_dir, const char *command,
                                  struct mvot_outdir_lock **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_outdir_lock *l = NULL;
    char *path = NULL;
    char rec[512];
    *out = NULL;
    MVOT_TRY(mvot_io_mkdirs(out_dir, err));
    l = calloc(1, sizeof *l);
    if (l)
        l->fd = -1; /* unlock on a failed path must not close descriptor 0 */
    path = mvot_io_join(out_dir, MVOT_OUTDIR_LOCK_FILE);
    MVOT_FAIL_IF(!l || !path, err, MVOT_ERR_NOMEM, out_dir, "out of memory");
    l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    MVOT_FAIL_IF(l->fd < 0, err, MVOT_ERR_IO, path, "cannot open the lock file: %s",
                 strerror(errno));
    int locked = flock(l->fd, LOCK_EX | LOCK_NB) == 0, e = errno;
    /* read after locking: a record seen before could be a run that just ended */
    ssize_t got = pread(l->fd, rec, sizeof rec - 1, 0);
    rec[got > 0 ? got : 0] = 0;
    rec[strcspn(rec, "\n")] = 0;
    if (!locked) {
        MVOT_FAIL_IF(e == EWOULDBLOCK, err, MVOT_ERR_IO, out_dir,
                     "in use by another run (%s); wait for it to finish or stop it",
                     rec[0] ? rec : "holder unknown");
        MVOT_FAIL_IF(1, err, MVOT_ERR_IO, path, "cannot lock: %s", strerror(e));
    }
    /* A record left in the file is a killed run's ("pid P host H command ..."). */
    if (strncmp(rec, "pid ", 4) == 0)
        l->stale_pid = strtol(rec + 4, NULL, 10);
    char host[256] = "?";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "?");
    host[sizeof host - 1] = 0;
    int len = snprintf(rec, sizeof rec, "pid %ld host %s command %s\n", (long)getpid(), host,
                       command ? command : "?");
    if (len < 0 || (size_t)len >= sizeof rec)
        len = (int)strlen(rec);
    MVOT_FAIL_IF(ftruncate(l->fd, 0) != 0 || pwrite(l->fd, rec, (size_t)len, 0) != len, err,
                 MVOT_ERR_IO, path, "cannot write the lock record: %s", strerror(errno));
    l->dir = strdup(out_dir);
    MVOT_FAIL_IF(!l->dir, err, MVOT_ERR_NOMEM, out_dir, "out of memory");
    *out = l;
    l = NULL;
cleanup:
    mvot_outdir_unlock(l);
    free(path);
    return st;
}

void mvot_outdir_unlock(struct mvot_outdir_lock *l)
{
    if (!l)
        return;
    if (l->fd >= 0) {
        if (l->dir && ftruncate(l->fd, 0) != 0) {
            /* the record stays: the next run then treats us as killed, which only makes it
             * look for temp files of ours, and there are none */
        }
        close(l->fd); /* closing the last descriptor releases the flock */
    }
    free(l->dir);
    free(l);
}

long mvot_outdir_stale_pid(const struct mvot_outdir_lock *l)
{
    return l ? l->stale_pid : 0;
}

void mvot_outdir_clean_stale(const struct mvot_outdir_lock *l, const char *const *names, size_t n)
{
    if (!l || l->stale_pid <= 0)
        return;
    DIR *d = opendir(l->dir);
    if (!d)
        return;
    struct dirent *de;
    char want[PATH_MAX];
    while ((de = readdir(d))) {
        for (size_t i = 0; i < n; i++) {
            if (!names[i])
                continue;
            int k = snprintf(want, sizeof want, ".%s.tmp.%ld.", names[i], l->stale_pid);
            if (k <= 0 || (size_t)k >= sizeof want || strncmp(de->d_name, want, (size_t)k) != 0)
                continue;
            char *p = mvot_io_join(l->dir, de->d_name);
            if (p)
                unlink(p);
            free(p);
            break;
        }
    }
    closedir(d);
}

enum mvot_status mvot_outdir_remove(const char *out_dir, const char *const *names, size_t n,
                                    struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *p = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        /* our manifests name plain files in the folder itself, never a path */
        MVOT_FAIL_IF(!names[i][0] || strchr(names[i], '/') || strcmp(names[i], ".") == 0 ||
                         strcmp(names[i], "..") == 0,
                     err, MVOT_ERR_CORRUPT, out_dir, "refusing to remove \"%s\": not a file name",
                     names[i]);
        free(p);
        p = mvot_io_join(out_dir, names[i]);
        MVOT_FAIL_IF(!p, err, MVOT_ERR_NOMEM, out_dir, "out of memory");
        MVOT_FAIL_IF(unlink(p) != 0 && errno != ENOENT, err, MVOT_ERR_IO, p, "cannot remove: %s",
                     strerror(errno));
    }
cleanup:
    free(p);
    return st;
}

enum mvot_status mvot_outdir_check_foreign(const char *out_dir, const char *const *names, size_t n,
                                           const char *what, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    DIR *d = opendir(out_dir);
    if (!d)
        return errno == ENOENT
                   ? MVOT_OK
                   : mvot_error_set(err, MVOT_ERR_IO, out_dir, "cannot list: %s", strerror(errno));
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *e = de->d_name;
        if (strcmp(e, ".") == 0 || strcmp(e, "..") == 0 || strcmp(e, MVOT_OUTDIR_LOCK_FILE) == 0)
            continue;
        size_t i = 0;
        while (i < n && (!names[i] || strcmp(names[i], e) != 0))
            i++;
        MVOT_FAIL_IF(i == n, err, MVOT_ERR_INVALID, out_dir,
                     "holds %s, which is not part of %s written by this command (no manifest of "
                     "ours lists it); write into an empty or new folder",
                     e, what);
    }
cleanup:
    closedir(d);
    return st;
}
