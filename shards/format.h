/* Byte-level pieces of the shard format (docs/shard-format.md), shared by the writer, the
 * reader, verify and the tests: the sample index frame, over the generic ustar members,
 * seekable-zstd frames and seek table of core/tarzst.h. Every parser here treats its input as
 * hostile: lengths are checked against the bytes present before they are used. */
#ifndef MVOT_SHARDS_FORMAT_H
#define MVOT_SHARDS_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "core/io.h"
#include "core/status.h"
#include "core/tarzst.h"

#define MVOT_SHARD_VERSION 2
#define MVOT_SHARD_VERSION_MIN 1 /* v1 sets are still read (without identity checks) */
#define MVOT_SHARD_FORMAT_NAME "mvot-shards"
/* The manifest of one part of a split pack (docs/cluster.md): not a set; mvot merge joins them */
#define MVOT_SHARD_PART_FORMAT_NAME "mvot-shards-part"

/* Our index frame's skippable magic (the seekable-format values are in core/tarzst.h). */
#define MVOT_INDEX_MAGIC 0x184D2A5Au
#define MVOT_INDEX_TAG "MVIX"
#define MVOT_INDEX_VERSION 2u
#define MVOT_INDEX_VERSION_V1 1u

/* v1: a sample's bytes are split into frames of at most this many raw bytes. v2: an episode
 * group (one frame) closes before it would exceed this many raw bytes, unless it is empty. */
#define MVOT_FRAME_MAX_RAW (4u << 20)
/* v2 group frames are compressed with this window so a whole group is one match window. */
#define MVOT_GROUP_WINDOW_LOG MVOT_SEEK_WINDOW_LOG
/* The split and task codes of the v2 index (the order of gen/episode.h). */
#define MVOT_INDEX_UNKNOWN 0xffu
/* Reader caps: no single sample or frame beyond these is accepted from a file. */
#define MVOT_SAMPLE_MAX_RAW (256u << 20)
#define MVOT_SHARD_MAX_FRAMES MVOT_SEEK_MAX_FRAMES

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

/* What a committed shard holds (the manifest's per-shard record, minus stats). Here, not in
 * writer.h, so the manifest module needs no writer and the modules form no cycle. */
struct mvot_shard_info {
    uint64_t samples, tokens, frames;
    uint64_t raw_bytes, compressed_bytes;
    uint64_t raw_xxh3, compressed_xxh3;
    uint64_t index_xxh3; /* XXH3 of the index and seek table frames (the file's tail) */
};

#endif
