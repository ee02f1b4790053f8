/* XXH3 helpers. All content hashes in manifests are XXH3-64 printed as 16 lowercase hex
 * digits; seeds and dedup keys use the raw 64-bit values. */
#ifndef MVOT_CORE_HASH_H
#define MVOT_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

uint64_t mvot_hash64(const void *data, size_t len);
uint64_t mvot_hash64_seed(const void *data, size_t len, uint64_t seed);

/* Streaming hash for large or chunked inputs. */
struct mvot_hasher {
    void *state; /* XXH3_state_t */
};
enum mvot_status mvot_hasher_init(struct mvot_hasher *h);
void mvot_hasher_update(struct mvot_hasher *h, const void *data, size_t len);
uint64_t mvot_hasher_digest(const struct mvot_hasher *h);
void mvot_hasher_free(struct mvot_hasher *h);

/* Writes 16 hex digits and a NUL into out[17]. */
void mvot_hash_hex(uint64_t h, char out[17]);
/* Parses 16 hex digits; returns 0 on success, -1 on malformed input. */
int mvot_hash_parse_hex(const char *s, uint64_t *out);

/* Hashes a whole file (streamed). */
enum mvot_status mvot_hash_file(const char *path, uint64_t *out, struct mvot_error *err);

#endif
