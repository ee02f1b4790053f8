/* libmvot: the public C API of mvot-data (the one header to include).
 *
 * A small, stable surface over the stages the `mvot` tool runs: generate episodes into a
 * folder, pack them into shards, verify a shard set, read a sample's tokens back, and encode
 * or decode text with a tokenizer.json. Configuration and reports cross the API as JSON text
 * (the same keys as `mvot build --config` and the manifests, docs/cli.md); handles are
 * opaque. Internals (core/, gen/, tokenize/, codebook/, shards/) are not part of it and are
 * not exported from the shared library.
 *
 * Memory: every buffer the library returns through a `char **` or `int32_t **` out-parameter
 * is owned by the caller and released with mvot_free(). Strings returned as `const char *`
 * are borrowed; each function says how long they live. Handles are not thread-safe unless a
 * function says so.
 *
 * Link with pkg-config (`pkg-config --cflags --libs mvot`) or CMake (`find_package(mvot)`,
 * then `target_link_libraries(app PRIVATE mvot::mvot)`; mvot::mvot_static for the static
 * library). */
#ifndef MVOT_MVOT_H
#define MVOT_MVOT_H

#include <stddef.h>
#include <stdint.h>

#include "mvot/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Raised when a function of this header changes incompatibly. */
#define MVOT_API_VERSION 1

/* The library version, e.g. "0.1.0". Static storage. */
MVOT_API const char *mvot_version(void);

/* Releases a buffer returned by this library. NULL is a no-op. */
MVOT_API void mvot_free(void *p);

/* ---- generate ---- */

/* Generates episodes into out_dir (created if missing): episodes.tar.zst and manifest.json
 * (docs/episode-format.md). config_json is an object with the keys of `mvot build`'s "gen"
 * section (tasks, episodes, seed, image_size, sizes, min_steps, max_steps, ...), NULL or "{}"
 * for the defaults; an unknown key is MVOT_ERR_INVALID. threads <= 0 uses every core; the
 * output is byte-identical for any thread count. summary_json (may be NULL) receives the
 * manifest as JSON text. */
MVOT_API enum mvot_status mvot_gen(const char *config_json, const char *out_dir, int threads,
                                   char **summary_json, struct mvot_error *err);

/* ---- pack ---- */

/* Packs the episodes (a gen folder or an episodes.tar.zst) into a shard set in out_dir with
 * the tokenizer.json and the codebook or VQGAN safetensors file (docs/shard-format.md).
 * options_json (NULL: defaults) may set: "mode" ("mvot", "trajectory", "cot", "direct"),
 * "image_seq_length" (1024, 256 or 64), "shard_samples", "augment", "seed", "max_length",
 * "length_policy" ("drop" or "truncate"), "zstd_level", "store_frames" (bool); any other
 * key is MVOT_ERR_INVALID. threads <= 0 uses every core. summary_json (may be NULL) receives
 * the counts (samples, shards, tokens, bytes, dropped, truncated). */
MVOT_API enum mvot_status mvot_pack(const char *episodes, const char *tokenizer,
                                    const char *codebook, const char *out_dir,
                                    const char *options_json, int threads, char **summary_json,
                                    struct mvot_error *err);

/* ---- verify ---- */

/* Checks every rule of the shard format on the set in dir. Returns MVOT_OK when the check
 * ran, whatever it found: *ok is 1 when there were no problems. report_json (may be NULL)
 * receives the report: ok, n_problems, problems (one line each), shards, samples, tokens. */
MVOT_API enum mvot_status mvot_verify(const char *dir, int threads, int *ok, char **report_json,
                                      struct mvot_error *err);

/* ---- read a shard set ---- */

struct mvot_shards;

/* Opens the shard set in dir (manifest.json and its shards). Close with mvot_shards_close. */
MVOT_API enum mvot_status mvot_shards_open(const char *dir, struct mvot_shards **out,
                                           struct mvot_error *err);
/* NULL is a no-op. */
MVOT_API void mvot_shards_close(struct mvot_shards *s);
/* Number of samples in the set. */
MVOT_API uint64_t mvot_shards_count(const struct mvot_shards *s);
/* The manifest as JSON text; borrowed, valid until mvot_shards_close. NULL if out of memory. */
MVOT_API const char *mvot_shards_manifest(struct mvot_shards *s);
/* Reads sample `index` (manifest order): its key, its input_ids and its labels (the token
 * where the span is supervised, -100 elsewhere), both n_tokens long. Each out-parameter may
 * be NULL; the others are caller-owned (mvot_free). Decompresses only that sample. */
MVOT_API enum mvot_status mvot_shards_read(struct mvot_shards *s, uint64_t index, char **key,
                                           int32_t **input_ids, int32_t **labels, size_t *n_tokens,
                                           struct mvot_error *err);

/* ---- tokenizer.json (BPE) ---- */

struct mvot_tokenizer;

/* Loads a Hugging Face tokenizer.json with a BPE model. The handle is immutable: encode and
 * decode may run on it from many threads at once. Free with mvot_tokenizer_free. */
MVOT_API enum mvot_status mvot_tokenizer_load(const char *path, struct mvot_tokenizer **out,
                                              struct mvot_error *err);
/* NULL is a no-op. */
MVOT_API void mvot_tokenizer_free(struct mvot_tokenizer *t);
/* Largest id + 1, added tokens included. */
MVOT_API uint32_t mvot_tokenizer_vocab_size(const struct mvot_tokenizer *t);
/* The ids of text (UTF-8, len bytes), as HF tokenizers' encode gives them; add_special applies
 * the post-processor (e.g. BOS). *ids (caller frees with mvot_free) holds *n ids. */
MVOT_API enum mvot_status mvot_tokenizer_encode(const struct mvot_tokenizer *t, const char *text,
                                                size_t len, int add_special, int32_t **ids,
                                                size_t *n, struct mvot_error *err);
/* The text of n ids, NUL-terminated (caller frees with mvot_free); skip_special drops the
 * special added tokens. */
MVOT_API enum mvot_status mvot_tokenizer_decode(const struct mvot_tokenizer *t, const int32_t *ids,
                                                size_t n, int skip_special, char **text,
                                                struct mvot_error *err);

#ifdef __cplusplus
}
#endif

#endif
