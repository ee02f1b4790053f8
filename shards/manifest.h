/* Manifest pieces (docs/manifest.md): per-shard statistics objects, their sums, and the
 * per-shard records. Statistics are plain JSON objects of counters so that a shard's record
 * can be saved with it and summed again on resume, giving identical totals. */
#ifndef MVOT_SHARDS_MANIFEST_H
#define MVOT_SHARDS_MANIFEST_H

#include <jansson.h>
#include <stdint.h>

#include "core/status.h"
#include "shards/writer.h"

/* A fresh statistics object with every counter at 0. */
json_t *mvot_stats_new(void);
/* Adds n to the integer at a path of object keys (created as needed), e.g.
 * ("answers", "maze", "train", "A"). keys is NULL-terminated. */
void mvot_stats_add(json_t *stats, int64_t n, const char *const *keys);
/* Keeps the maximum instead of adding. */
void mvot_stats_max(json_t *stats, int64_t v, const char *key);
/* Sums src into dst: integers add (keys named "max_*" take the maximum), objects recurse. */
void mvot_stats_merge(json_t *dst, const json_t *src);

/* The manifest record of a committed shard. stats is borrowed (a copy is stored). */
json_t *mvot_shard_record(const char *file, uint64_t first_sample, uint64_t end_ordinal,
                          const struct mvot_shard_info *info, const json_t *stats);

/* Reads the hex hash field `key` of obj; 0 on success. */
int mvot_manifest_hash(const json_t *obj, const char *key, uint64_t *out);

#endif
