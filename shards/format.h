/* Byte-level pieces of the shard format (docs/shard-format.md), shared by the writer, the
 * reader, verify and the tests: reproducible ustar headers, seekable-zstd frames and seek
 * table, and the sample index frame. Every parser here treats its input as hostile: lengths
 * are checked against the bytes present before they are used. */
#ifndef MVOT_SHARDS_FORMAT_H
#define MVOT_SHARDS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/io.h"
#include "core/status.h"

#define MVOT_SHARD_VERSION 2
#define MVOT_SHARD_VERSION_MIN 1 /* v1 sets are still read (without identity checks) */
#define MVOT_SHARD_FORMAT_NAME "mvot-shards"
/* The manifest of one part of a split pack (docs/cluster.md): not a set; mvot merge joins them */
#define MVOT_SHARD_PART_FORMAT_NAME "mvot-shards-part"

/* zstd contrib seekable format values, and our index frame's skippable magic. */
#define MVOT_SEEK_SKIPPABLE_MAGIC 0x184D2A5Eu
#define MVOT_SEEK_FOOTER_MAGIC 0x8F92EAB1u
#define MVOT_SEEK_FOOTER_SIZE 9u
#define MVOT_SEEK_ENTRY_SIZE 12u
#define MVOT_SEEK_DESC_CHECKSUM 0x80u
#define MVOT_INDEX_MAGIC 0x184D2A5Au
#define MVOT_INDEX_TAG "MVIX"
#define MVOT_INDEX_VERSION 2u
#define MVOT_INDEX_VERSION_V1 1u

/* v1: a sample's bytes are split into frames of at most this many raw bytes. v2: an episode
 * group (one frame) closes before it would exceed this many raw bytes, unless it is empty. */
#define MVOT_FRAME_MAX_RAW (4u << 20)
/* v2 group frames are compressed with this window so a whole group is one match window. */
#define MVOT_GROUP_WINDOW_LOG 22
/* The split and task codes of the v2 index (the order of gen/episode.h). */
#define MVOT_INDEX_UNKNOWN 0xffu
/* Reader caps: no single sample or frame beyond these is accepted from a file. */
#define MVOT_SAMPLE_MAX_RAW (256u << 20)
#define MVOT_SHARD_MAX_FRAMES (16u << 20)

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

/* The sample index. v1 entries name whole frames (offset 0, length = the frames' bytes,
 * split/task unknown, episode_len 0); v2 entries a byte range of one group frame. */
struct mvot_index_entry {
    uint32_t first_frame, n_frames;
    uint32_t offset, length; /* within the decompressed bytes of those frames */
    uint8_t split, task;     /* enum mvot_split / mvot_task, MVOT_INDEX_UNKNOWN in v1 */
    uint16_t episode_len;    /* the episode key is key[0 .. episode_len) */
    char *key;               /* owned */
};
struct mvot_index {
    struct mvot_index_entry *v;
    size_t n, cap;
};
void mvot_index_free(struct mvot_index *ix);
/* Appends a copy of e (its key is duplicated). */
enum mvot_status mvot_index_push(struct mvot_index *ix, const struct mvot_index_entry *e);
/* Encodes a version 2 index frame. */
enum mvot_status mvot_index_encode(const struct mvot_index *ix, struct mvot_buf *out);
/* Parses a whole index frame (skippable header included), version 1 or 2, into *out and
 * *version. ents are the seek table's data frames (the trailer excluded, n_frames of them):
 * v1 entries must cover frames 0..n_frames contiguously; v2 entries must cover every
 * group's decompressed bytes contiguously, in order. */
enum mvot_status mvot_index_parse(const uint8_t *buf, size_t len,
                                  const struct mvot_seek_entry *ents, uint32_t n_frames,
                                  const char *name, struct mvot_index *out, uint32_t *version,
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

/* What a committed shard holds (the manifest's per-shard record, minus stats). Here, not in
 * writer.h, so the manifest module needs no writer and the modules form no cycle. */
struct mvot_shard_info {
    uint64_t samples, tokens, frames;
    uint64_t raw_bytes, compressed_bytes;
    uint64_t raw_xxh3, compressed_xxh3;
    uint64_t index_xxh3; /* XXH3 of the index and seek table frames (the file's tail) */
};

#endif
