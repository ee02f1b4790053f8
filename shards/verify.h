/* Shard directory verification: re-reads every shard and checks every rule of
 * docs/shard-format.md and docs/manifest.md, reporting each problem with its shard and sample.
 * Corrupt input is reported, never trusted: no length from a file is used unchecked. */
#ifndef MVOT_SHARDS_VERIFY_H
#define MVOT_SHARDS_VERIFY_H

#include <jansson.h>

#include "core/pool.h"
#include "core/progress.h"
#include "core/status.h"

#define MVOT_VERIFY_MAX_PROBLEMS 1000

/* Verifies dir. Returns MVOT_OK when the check ran (problems or not) and sets *report to a
 * new object: "ok" (bool), "problems" (array of one-line strings, at most
 * MVOT_VERIFY_MAX_PROBLEMS kept), "n_problems", "shards", "samples", "tokens", "raw_bytes",
 * "compressed_bytes". Only allocation failures return an error. Shards are checked in
 * parallel on pool (may be NULL); the report does not depend on the thread count. */
enum mvot_status mvot_shards_verify(const char *dir, struct mvot_pool *pool,
                                    const struct mvot_progress *prog, json_t **report,
                                    struct mvot_error *err);

#endif
