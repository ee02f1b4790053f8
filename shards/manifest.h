/* Manifest pieces (docs/manifest.md): per-shard statistics objects, their sums, and the
 * per-shard records. Statistics are plain JSON objects of counters so that a shard's record
 * can be saved with it and summed again on resume, giving identical totals. */
#ifndef MVOT_SHARDS_MANIFEST_H
#define MVOT_SHARDS_MANIFEST_H

#include <jansson.h>
#include <stdint.h>

#include <stddef.h>

#include "core/status.h"
#include "shards/format.h"

/* A fresh statistics object with every counter at 0. */
json_t *mvot_stats_new(void);
/* Adds n to the integer at a path of object keys (created as needed), e.g.
 * ("answers", "maze", "train", "A"). keys is NULL-terminated. */
void mvot_stats_add(json_t *stats, int64_t n, const char *const *keys);
/* Keeps the maximum instead of adding. */
void mvot_stats_max(json_t *stats, int64_t v, const char *key);
/* Sums src into dst: integers add (keys named "max_*" take the maximum), objects recurse. */
void mvot_stats_merge(json_t *dst, const json_t *src);

/* The manifest record of a committed shard. file is relative to the set's root
 * ("{split}/shard-{block}-{n}.tar.zst"); stats is borrowed (a copy is stored). */
json_t *mvot_shard_record(const char *file, const char *split, uint32_t block,
                          uint64_t first_sample, uint64_t end_ordinal,
                          const struct mvot_shard_info *info, const json_t *stats);

/* The file name of shard n of a split's block, relative to the root:
 * "{split}/shard-{block:05}-{n:06}.tar.zst". Returns the length written (< cap) or -1. */
int mvot_shard_file_name(char *buf, size_t cap, const char *split, uint32_t block, uint32_t n);
/* The inverse for a record: reads block and n from its "file" (which must be exactly what
 * mvot_shard_file_name makes for its "split" and "block"). 0 on success, -1 otherwise. */
int mvot_shard_record_name(const json_t *record, uint32_t *block, uint32_t *n);
/* 1 if name (a plain file name, no folder) looks like a shard of v1 or v2. */
int mvot_shard_file_like(const char *name);

/* The manifest's own identity: XXH3 of its canonical form (compact JSON, sorted keys,
 * without the "manifest_xxh3" field). */
enum mvot_status mvot_manifest_digest(const json_t *manifest, uint64_t *out);
/* Sets "manifest_xxh3" to the digest of the rest. */
enum mvot_status mvot_manifest_seal(json_t *manifest);
/* Checks "manifest_xxh3"; MVOT_ERR_MISMATCH (message naming path) if it is absent or differs. */
enum mvot_status mvot_manifest_check(const json_t *manifest, const char *path,
                                     struct mvot_error *err);

/* The manifest's "splits": per split, the shard records' stats summed, plus shards,
 * raw_bytes and compressed_bytes. New reference. */
json_t *mvot_manifest_split_totals(const json_t *records);
/* The manifest's "task_totals" from its global stats: per task, samples and episodes. */
json_t *mvot_manifest_task_totals(const json_t *stats);

/* Completes a format-2 manifest from its shard records (borrowed, stored as "shards"):
 * "totals", "splits", "task_totals" and "stats" as sums over the records' stats plus
 * `leftover` (statistics counted after the last shard: drops with no shard to hold them; may
 * be NULL), then seals it (manifest_xxh3). pack, retokenize and merge all end here, so a
 * merged set's manifest is made by the same code as a one-process one. */
enum mvot_status mvot_manifest_complete(json_t *manifest, json_t *records, const json_t *leftover);

/* Reads the hex hash field `key` of obj; 0 on success. */
int mvot_manifest_hash(const json_t *obj, const char *key, uint64_t *out);

#endif
