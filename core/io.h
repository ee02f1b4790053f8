/* File I/O. Every final output is written through an atomic writer: bytes go to a
 * hidden temp file in the same directory, which is fsynced, renamed over the final name
 * and the directory fsynced, so a reader never sees a half-written file under its final
 * name, even after a crash. */
#ifndef MVOT_CORE_IO_H
#define MVOT_CORE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"

/* Opens an input file read-only, refusing anything but a regular file (a FIFO, device or
 * directory named like a shard would block or mislead a reader): the open itself does not
 * block (O_NONBLOCK, cleared again), then fstat decides. Returns the descriptor (caller
 * closes) or -1 with err set (MVOT_ERR_IO). */
int mvot_io_open_input(const char *path, struct mvot_error *err);
/* The same as a stdio stream ("rb"); NULL with err set. */
FILE *mvot_io_fopen_input(const char *path, struct mvot_error *err);

/* Reads a whole file into a malloc'd buffer (caller frees; a NUL is appended past *len).
 * Files larger than max_bytes fail with MVOT_ERR_NOMEM naming the file. */
enum mvot_status mvot_io_read_file(const char *path, size_t max_bytes, uint8_t **out, size_t *len,
                                   struct mvot_error *err);

/* Atomically replaces `path` with the given bytes. */
enum mvot_status mvot_io_write_file(const char *path, const void *data, size_t len,
                                    struct mvot_error *err);

/* Streaming atomic writer. `fp` is a normal stdio stream on the temp file. */
struct mvot_atomic_file {
    FILE *fp;
    char *tmp_path;
    char *final_path;
};

enum mvot_status mvot_atomic_open(struct mvot_atomic_file *af, const char *path,
                                  struct mvot_error *err);
/* Flushes, fsyncs, renames and fsyncs the directory. Closes the file on success or failure. */
enum mvot_status mvot_atomic_commit(struct mvot_atomic_file *af, struct mvot_error *err);
/* Closes and deletes the temp file; safe on a never-opened or already-finished writer. */
void mvot_atomic_abort(struct mvot_atomic_file *af);

/* Writes all bytes or fails with the path in the message. */
enum mvot_status mvot_io_write_all(FILE *fp, const void *data, size_t len, const char *path,
                                   struct mvot_error *err);

/* mkdir -p. Existing directories are fine. */
enum mvot_status mvot_io_mkdirs(const char *path, struct mvot_error *err);

/* 1 if path exists (any type), else 0. */
int mvot_io_exists(const char *path);

/* Joins a directory and a name into a malloc'd string ("dir/name"). NULL on OOM. */
char *mvot_io_join(const char *dir, const char *name);

/* malloc'd printf. NULL on OOM. */
char *mvot_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer with a hard cap (curl dynbuf style): appends past `cap` fail. */
struct mvot_buf {
    uint8_t *data;
    size_t len;
    size_t alloc;
    size_t cap; /* 0 means SIZE_MAX/2 */
};
void mvot_buf_init(struct mvot_buf *b, size_t cap);
void mvot_buf_free(struct mvot_buf *b);
enum mvot_status mvot_buf_append(struct mvot_buf *b, const void *data, size_t len);
enum mvot_status mvot_buf_reserve(struct mvot_buf *b, size_t extra);
enum mvot_status mvot_buf_printf(struct mvot_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
