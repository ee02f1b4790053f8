/* Generic pieces of our seekable tar.zst files, shared by the shard format
 * (docs/shard-format.md §1-2) and the episode archive (docs/episode-format.md, "Archive"):
 * reproducible ustar members, seekable-zstd frames (each frame independent, with content size
 * and checksum) and the seek table of the zstd contrib seekable format. A file built of them
 * is still a plain .tar.zst for any zstd decoder (skippable frames are ignored). Every parser
 * here treats its input as hostile: lengths are checked against the bytes present before
 * they are used. */
#ifndef MVOT_CORE_TARZST_H
#define MVOT_CORE_TARZST_H

#include <stddef.h>
#include <stdint.h>

#include "core/io.h"
#include "core/status.h"

/* zstd contrib seekable format values. */
#define MVOT_SEEK_SKIPPABLE_MAGIC 0x184D2A5Eu
#define MVOT_SEEK_FOOTER_MAGIC 0x8F92EAB1u
#define MVOT_SEEK_FOOTER_SIZE 9u
#define MVOT_SEEK_ENTRY_SIZE 12u
#define MVOT_SEEK_DESC_CHECKSUM 0x80u
/* Frames are compressed with this window (4 MiB), so a frame up to that size is one match
 * window and a decoder needs no more than that (plus the frame) in memory. */
#define MVOT_SEEK_WINDOW_LOG 22
/* Reader cap: no seek table with more frames than this is accepted from a file. */
#define MVOT_SEEK_MAX_FRAMES (16u << 20)

#define MVOT_TAR_BLOCK 512u
#define MVOT_TAR_NAME_MAX 99u

/* Writes one reproducible ustar member (header + data + zero padding) into out. Fails with
 * MVOT_ERR_INVALID when the name does not fit the 100-byte name field. */
enum mvot_status mvot_tar_append(struct mvot_buf *out, const char *name, const void *data,
                                 size_t len);
/* The two zero blocks that end an archive. */
enum mvot_status mvot_tar_append_end(struct mvot_buf *out);

/* A parsed member header. */
struct mvot_tar_member {
    char name[MVOT_TAR_NAME_MAX + 2];
    uint64_t size;
    int is_end; /* an all-zero block */
};
/* Parses the 512-byte header at hdr; checks magic, checksum, type and octal fields. */
enum mvot_status mvot_tar_parse_header(const uint8_t *hdr, const char *where,
                                       struct mvot_tar_member *out, struct mvot_error *err);
/* Bytes of a member with `size` data bytes, header and padding included. */
uint64_t mvot_tar_member_span(uint64_t size);

/* One frame of the seek table. */
struct mvot_seek_entry {
    uint32_t csize, dsize, checksum;
};

/* Low 32 bits of XXH64(seed 0): the seek table's and the index's checksum. */
uint32_t mvot_seek_checksum(const void *data, size_t len);

/* Compresses src as ONE frame (content size and checksum on, window MVOT_GROUP_WINDOW_LOG).
 * cctx is a ZSTD_CCtx owned by the caller. Appends the frame to out and its entry to ents. */
struct mvot_seek_entries {
    struct mvot_seek_entry *v;
    size_t n, cap;
};
void mvot_seek_entries_free(struct mvot_seek_entries *e);
enum mvot_status mvot_seek_entries_push(struct mvot_seek_entries *e, struct mvot_seek_entry x);
enum mvot_status mvot_seekzstd_compress(void *cctx, int level, const uint8_t *src, size_t len,
                                        struct mvot_buf *out, struct mvot_seek_entries *ents,
                                        struct mvot_error *err);

/* The seek table skippable frame for n entries. */
enum mvot_status mvot_seek_table_encode(const struct mvot_seek_entry *e, size_t n,
                                        struct mvot_buf *out);
/* Parses the seek table at the end of a file of file_size bytes, reading through fd with
 * pread. On success *ents holds the entries (caller frees) and *table_frame_size the size of
 * the whole skippable frame. */
enum mvot_status mvot_seek_table_read(int fd, uint64_t file_size, const char *name,
                                      struct mvot_seek_entries *ents, uint64_t *table_frame_size,
                                      struct mvot_error *err);

/* Little-endian helpers. */
static inline uint32_t mvot_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void mvot_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Reads exactly n bytes at off through fd; a short file is corrupt (naming name and the
 * offset), a failed read an I/O error. */
enum mvot_status mvot_tarzst_pread(int fd, void *buf, size_t n, uint64_t off, const char *name,
                                   struct mvot_error *err);

/* Decompresses frame e, which starts at byte off of the file behind fd, into out (replacing
 * its contents; at most e->dsize bytes, and e->dsize must not exceed max_raw). cbuf is scratch
 * for the compressed bytes, dctx a caller-owned ZSTD_DCtx. The frame must be one whole zstd
 * frame of exactly e->csize bytes decoding to e->dsize bytes whose checksum matches e's.
 * Errors name name and the frame's offset. */
enum mvot_status mvot_seekzstd_read_frame(int fd, uint64_t off, const struct mvot_seek_entry *e,
                                          uint64_t max_raw, void *dctx, struct mvot_buf *cbuf,
                                          struct mvot_buf *out, const char *name,
                                          struct mvot_error *err);

#endif
