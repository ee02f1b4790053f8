/* Reproducible zstd-compressed tar archives over libarchive (docs/episode-format.md,
 * "Archive"). The writer stores regular files only, with mtime 0, uid/gid 0, mode 0644, no
 * user/group names, in the order added, in the POSIX ustar/pax-restricted format, so equal
 * inputs give byte-identical archives. The file is written atomically. The reader returns
 * members in order with their bytes, capped in size. */
#ifndef MVOT_GEN_TARZ_H
#define MVOT_GEN_TARZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define MVOT_TARZ_MAX_MEMBER ((size_t)256 << 20)

struct mvot_tarz_writer;
/* zstd_level 1..19. */
enum mvot_status mvot_tarz_writer_open(const char *path, int zstd_level,
                                       struct mvot_tarz_writer **out, struct mvot_error *err);
enum mvot_status mvot_tarz_writer_add(struct mvot_tarz_writer *w, const char *name,
                                      const void *data, size_t len, struct mvot_error *err);
/* Finishes the archive and renames it into place; frees w in every case. */
enum mvot_status mvot_tarz_writer_commit(struct mvot_tarz_writer *w, struct mvot_error *err);
/* Discards a writer (deletes the temp file). NULL is a no-op. */
void mvot_tarz_writer_abort(struct mvot_tarz_writer *w);

struct mvot_tarz_reader;
enum mvot_status mvot_tarz_reader_open(const char *path, struct mvot_tarz_reader **out,
                                       struct mvot_error *err);
/* Next regular member. *name is valid until the next call; *data is malloc'd (caller frees,
 * NUL-terminated past *len). *done = 1 at the end. */
enum mvot_status mvot_tarz_reader_next(struct mvot_tarz_reader *r, const char **name,
                                       uint8_t **data, size_t *len, int *done,
                                       struct mvot_error *err);
void mvot_tarz_reader_close(struct mvot_tarz_reader *r); /* NULL is a no-op */
/* The archive path (for error messages). */
const char *mvot_tarz_reader_path(const struct mvot_tarz_reader *r);

#endif
