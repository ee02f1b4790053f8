/* The episode archive, version 2 (docs/episode-format.md, "Archive"): a reproducible ustar
 * archive in which each episode's members are one independent zstd frame, then the tar end
 * marker as its own frame, a skippable episode index frame (key, task, split, steps, frame
 * of every episode) and a seek table in the zstd contrib seekable format (core/tarzst.h). It
 * is still a plain .tar.zst for any zstd decoder and tar reader.
 * Writer: members are added between begin/end calls, one episode at a time; equal inputs give
 * byte-identical files; the file is written atomically; finished frames can be copied in
 * verbatim (the merge of gen parts). Readers: a streaming one (libarchive) for version 1
 * (one zstd stream, no index) and version 2 alike, returning members in order, capped in
 * size; and random access to a version 2 archive through its index, which decompresses one
 * episode's frame per read. Every length read from a file is checked before use. */
#ifndef MVOT_GEN_TARZ_H
#define MVOT_GEN_TARZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "core/tarzst.h"

#define MVOT_TARZ_MAX_MEMBER ((size_t)256 << 20)
/* No episode frame over this many raw bytes is written or read. */
#define MVOT_TARZ_MAX_EPISODE ((size_t)1 << 30)
/* The archive format version this code writes (the gen manifest's archive_version). */
#define MVOT_ARCHIVE_VERSION 2
/* The episode index frame: its skippable magic, tag and version. */
#define MVOT_EPINDEX_MAGIC 0x184D2A5Bu
#define MVOT_EPINDEX_TAG "MVEI"
#define MVOT_EPINDEX_VERSION 1u
/* The longest key the index holds (gen/episode.c refuses longer keys too). */
#define MVOT_EPINDEX_KEY_MAX 64u

/* What the index knows of one episode. */
struct mvot_tarz_episode {
    const char *key;
    uint8_t task, split; /* enum mvot_task, enum mvot_split */
    uint32_t steps;
};

/* One episode's frame, built away from the writer (in a worker thread, say) and appended
 * with mvot_tarz_writer_copy: the bytes are those begin/add/end would write. Caller-owned:
 * init, add members, finish, then free. */
struct mvot_tarz_frame {
    struct mvot_buf tar;   /* the members as ustar bytes */
    struct mvot_buf bytes; /* after finish: the compressed frame */
    struct mvot_seek_entry e;
    void *cctx; /* a ZSTD_CCtx: the caller's (borrowed) or, when NULL at finish, one of its own */
    int own_cctx;
};
void mvot_tarz_frame_init(struct mvot_tarz_frame *f, void *cctx);
void mvot_tarz_frame_free(struct mvot_tarz_frame *f); /* NULL is a no-op */
/* Adds a member (a reproducible ustar member; name up to 99 bytes); where names errors. */
enum mvot_status mvot_tarz_frame_add(struct mvot_tarz_frame *f, const char *where, const char *name,
                                     const void *data, size_t len, struct mvot_error *err);
/* Compresses the members at zstd_level into f->bytes and f->e. */
enum mvot_status mvot_tarz_frame_finish(struct mvot_tarz_frame *f, int zstd_level,
                                        const char *where, struct mvot_error *err);

struct mvot_tarz_writer;
/* zstd_level 1..19. */
enum mvot_status mvot_tarz_writer_open(const char *path, int zstd_level,
                                       struct mvot_tarz_writer **out, struct mvot_error *err);
/* Starts an episode: the members added until mvot_tarz_writer_end form its frame. */
enum mvot_status mvot_tarz_writer_begin(struct mvot_tarz_writer *w,
                                        const struct mvot_tarz_episode *ep, struct mvot_error *err);
/* Adds a member to the open episode (a reproducible ustar member; name up to 99 bytes). */
enum mvot_status mvot_tarz_writer_add(struct mvot_tarz_writer *w, const char *name,
                                      const void *data, size_t len, struct mvot_error *err);
/* Compresses the open episode's members as one frame and appends it. */
enum mvot_status mvot_tarz_writer_end(struct mvot_tarz_writer *w, struct mvot_error *err);
/* Appends a finished episode frame verbatim (csize bytes at frame; e its seek entry), as
 * another archive of the same level holds it. */
enum mvot_status mvot_tarz_writer_copy(struct mvot_tarz_writer *w,
                                       const struct mvot_tarz_episode *ep, const void *frame,
                                       const struct mvot_seek_entry *e, struct mvot_error *err);
/* Writes the end marker, the index and the seek table and renames the archive into place;
 * frees w in every case. */
enum mvot_status mvot_tarz_writer_commit(struct mvot_tarz_writer *w, struct mvot_error *err);
/* Discards a writer (deletes the temp file). NULL is a no-op. */
void mvot_tarz_writer_abort(struct mvot_tarz_writer *w);

/* Streaming reader. */
struct mvot_tarz_reader;
enum mvot_status mvot_tarz_reader_open(const char *path, struct mvot_tarz_reader **out,
                                       struct mvot_error *err);
/* A reader over the ustar members held in buf[0..len) (one episode's frame, decompressed);
 * path names it in errors. buf is borrowed and must outlive the reader. */
enum mvot_status mvot_tarz_reader_open_mem(const char *path, const uint8_t *buf, size_t len,
                                           struct mvot_tarz_reader **out, struct mvot_error *err);
/* Next regular member. *name is valid until the next call; *data is malloc'd (caller frees,
 * NUL-terminated past *len). *done = 1 at the end. */
enum mvot_status mvot_tarz_reader_next(struct mvot_tarz_reader *r, const char **name,
                                       uint8_t **data, size_t *len, int *done,
                                       struct mvot_error *err);
void mvot_tarz_reader_close(struct mvot_tarz_reader *r); /* NULL is a no-op */
/* The archive path (for error messages). */
const char *mvot_tarz_reader_path(const struct mvot_tarz_reader *r);

/* Random access to a version 2 archive. */
struct mvot_tarz_index;
/* Opens path's index (footer -> seek table -> index frame, all checked against the file
 * size). A file without the seekable footer is a version 1 archive: *out = NULL and MVOT_OK.
 * A footer with a bad table or index is corrupt. */
enum mvot_status mvot_tarz_index_open(const char *path, struct mvot_tarz_index **out,
                                      struct mvot_error *err);
void mvot_tarz_index_close(struct mvot_tarz_index *ix); /* NULL is a no-op */
size_t mvot_tarz_index_count(const struct mvot_tarz_index *ix);
/* Episode i's index entry; valid until the index is closed. */
const struct mvot_tarz_episode *mvot_tarz_index_get(const struct mvot_tarz_index *ix, size_t i);
const char *mvot_tarz_index_path(const struct mvot_tarz_index *ix);
/* Episode i's frame: its seek entry and file offset. */
void mvot_tarz_index_frame(const struct mvot_tarz_index *ix, size_t i, struct mvot_seek_entry *e,
                           uint64_t *offset);
/* Reads episode i's frame: raw = 1 gives its decompressed members (checked against the seek
 * table's checksum), raw = 0 its compressed bytes. *data is valid until the next read. */
enum mvot_status mvot_tarz_index_read(struct mvot_tarz_index *ix, size_t i, int raw,
                                      const uint8_t **data, size_t *len, struct mvot_error *err);

#endif
