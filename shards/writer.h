/* Shard writer: turns samples into tar members and compresses the consecutive samples of one
 * episode together as one zstd frame (a "group", docs/shard-format.md §2). Building a
 * sample's tar members is pure and runs in worker threads; appending to the writer (which
 * groups and compresses) runs on one thread, in sample order, so the shard bytes never
 * depend on the thread count. A shard appears under its final name only when committed
 * (temp file + rename). */
#ifndef MVOT_SHARDS_WRITER_H
#define MVOT_SHARDS_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "core/io.h"
#include "core/status.h"
#include "shards/format.h"
#include "shards/reader.h"

/* A sample serialized, ready to append. */
struct mvot_packed_sample {
    char *key;            /* owned */
    uint16_t episode_len; /* the episode key is key[0 .. episode_len) */
    uint8_t split, task;  /* enum mvot_split / mvot_task */
    struct mvot_buf raw;  /* its tar members, uncompressed */
    uint64_t n_tokens;
};
void mvot_packed_sample_free(struct mvot_packed_sample *p);

/* The parts of a sample (docs/shard-format.md §1). wide: store tokens as <u4 (vocab >
 * 65536), else <u2 (every token must then be < 65536). pngs may be NULL when n_png is 0. */
struct mvot_sample_parts {
    const char *key;
    uint16_t episode_len; /* key[0 .. episode_len) names the episode (frame grouping) */
    uint8_t split, task;  /* recorded in the index */
    const uint32_t *tokens;
    size_t n_tokens;
    int wide;
    const struct mvot_span *spans;
    size_t n_spans;
    const char *json; /* compact JSON text */
    size_t json_len;
    uint32_t n_png;
    const uint8_t *const *png;
    const size_t *png_len;
};

/* Serializes the parts as tar members. out is initialized by the call. */
enum mvot_status mvot_packed_sample_build(const struct mvot_sample_parts *parts,
                                          struct mvot_packed_sample *out, struct mvot_error *err);

struct mvot_shard_writer;
/* Starts writing `path` (through a temp file). level: zstd level of every frame. */
enum mvot_status mvot_shard_writer_open(const char *path, int level, struct mvot_shard_writer **out,
                                        struct mvot_error *err);
/* Appends a sample (its bytes are copied; the caller still owns p). A sample of another
 * episode than the previous one, or one that would grow the open group past
 * MVOT_FRAME_MAX_RAW, first closes (compresses and writes) the open group. */
enum mvot_status mvot_shard_writer_add(struct mvot_shard_writer *w,
                                       const struct mvot_packed_sample *p, struct mvot_error *err);
uint64_t mvot_shard_writer_samples(const struct mvot_shard_writer *w);
uint64_t mvot_shard_writer_raw_bytes(const struct mvot_shard_writer *w);
/* Writes trailer, index and seek table, renames into place, frees the writer. */
enum mvot_status mvot_shard_writer_commit(struct mvot_shard_writer *w, struct mvot_shard_info *info,
                                          struct mvot_error *err);
/* Deletes the temp file and frees; NULL is a no-op. */
void mvot_shard_writer_abort(struct mvot_shard_writer *w);

/* Spans of a token sequence: maximal runs of equal (modality, loss). */
struct mvot_spans {
    struct mvot_span *v;
    size_t n, cap;
};
void mvot_spans_free(struct mvot_spans *s);
/* Extends the last run or starts a new one for `count` tokens at the end. */
enum mvot_status mvot_spans_add(struct mvot_spans *s, uint32_t count, uint8_t modality,
                                uint8_t loss);

#endif
