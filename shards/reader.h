/* Shard directory reader: manifest.json plus seekable .tar.zst shards
 * (docs/shard-format.md). Samples are found through each shard's seek table and index, so
 * reading one sample decompresses only its own frames. */
#ifndef MVOT_SHARDS_READER_H
#define MVOT_SHARDS_READER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Span modalities and the loss flag, as stored in {key}.spans.npy. */
enum mvot_modality { MVOT_MOD_TEXT = 0, MVOT_MOD_IMAGE = 1, MVOT_MOD_SPECIAL = 2 };

struct mvot_span {
    uint32_t start, length;
    uint8_t modality; /* enum mvot_modality */
    uint8_t loss;     /* 1: supervised (label = token), 0: label -100 */
};

struct mvot_sample {
    char *key;
    uint32_t *tokens; /* n_tokens ids */
    size_t n_tokens;
    struct mvot_span *spans;
    size_t n_spans;
    json_t *meta; /* {key}.json (owned reference) */
    /* Source frames stored in the shard, PNG bytes (owned); 0 if the shard has none. */
    uint32_t n_png;
    uint8_t **png;
    size_t *png_len;
};
void mvot_sample_free(struct mvot_sample *s);

struct mvot_shard_set;

/* Where a set's manifest is: path itself, or (one split's folder, ROOT/train) its parent.
 * Sets *root and *split (NULL for the whole set), new strings the caller frees. */
enum mvot_status mvot_shards_locate(const char *path, char **root, char **split,
                                    struct mvot_error *err);
/* Opens a shard set: its root folder (holding manifest.json) or, for version 2, one split's
 * folder (ROOT/train), which reads the root's manifest restricted to that split. Version 2
 * manifests must match their manifest_xxh3 (MVOT_ERR_MISMATCH otherwise); every v2 shard is
 * checked against its record (size, index_xxh3) before its first use, MVOT_ERR_MISMATCH
 * naming the file on a difference. Version 1 sets open with a warning (see below). */
enum mvot_status mvot_shard_set_open(const char *path, struct mvot_shard_set **out,
                                     struct mvot_error *err);
void mvot_shard_set_close(struct mvot_shard_set *s);
const json_t *mvot_shard_set_manifest(const struct mvot_shard_set *s); /* borrowed */
size_t mvot_shard_set_count(const struct mvot_shard_set *s);
/* Sample i in manifest order. Not thread-safe per handle. */
enum mvot_status mvot_shard_set_get(struct mvot_shard_set *s, size_t i, struct mvot_sample *out,
                                    struct mvot_error *err);
/* Lookup by key; MVOT_ERR_NOTFOUND if absent. */
enum mvot_status mvot_shard_set_find(struct mvot_shard_set *s, const char *key,
                                     struct mvot_sample *out, struct mvot_error *err);

/* The set's root folder: manifest.json, tokenizer and codebook (borrowed). */
const char *mvot_shard_set_dir(const struct mvot_shard_set *s);
/* The split the set was opened at ("train"...), or NULL for the whole set (borrowed). */
const char *mvot_shard_set_split(const struct mvot_shard_set *s);
/* The format version of the set (1 or 2). */
int mvot_shard_set_version(const struct mvot_shard_set *s);
/* A one-line warning the caller should show (a v1 set carries no identity), or NULL. */
const char *mvot_shard_set_warning(const struct mvot_shard_set *s);
/* The position (0-based, in the opened view) of the shard holding sample i. */
size_t mvot_shard_set_shard_of(const struct mvot_shard_set *s, size_t i);
/* The number of shards in the opened view, and the index (in the view) of shard k's first
 * sample; k >= the shard count gives the sample count. A part of a split run (docs/cluster.md)
 * takes the samples of a contiguous range of shards. */
size_t mvot_shard_set_shards(const struct mvot_shard_set *s);
size_t mvot_shard_set_first_sample(const struct mvot_shard_set *s, size_t k);
/* What the index says of a sample, without reading it (format 2; format 1 sets give
 * split and task MVOT_INDEX_UNKNOWN, 0xff, and episode_len 0). key is borrowed, valid while
 * the set is open. */
struct mvot_sample_info {
    const char *key;
    uint8_t split, task;  /* enum mvot_split / mvot_task */
    uint16_t episode_len; /* the episode key is key[0 .. episode_len) */
};
enum mvot_status mvot_shard_set_info(struct mvot_shard_set *s, size_t i,
                                     struct mvot_sample_info *out, struct mvot_error *err);
/* Global index of the sample with this key; MVOT_ERR_NOTFOUND if absent. */
enum mvot_status mvot_shard_set_lookup(struct mvot_shard_set *s, const char *key, size_t *index,
                                       struct mvot_error *err);

/* Parses one sample's tar members (docs/shard-format.md §1: tokens.npy, spans.npy, json,
 * then {j}.png in order) from its decompressed bytes. `key` (may be NULL) is the key the
 * members must carry; `where` labels errors. Checks structure only: verify checks meaning.
 * out is initialized by the call; free it with mvot_sample_free. */
enum mvot_status mvot_sample_parse_tar(const uint8_t *raw, size_t len, const char *key,
                                       const char *where, struct mvot_sample *out,
                                       struct mvot_error *err);

/* Labels of a sample: token where its span has loss 1, else -100. labels holds n_tokens. */
void mvot_sample_labels(const struct mvot_sample *s, int32_t *labels);

#endif
