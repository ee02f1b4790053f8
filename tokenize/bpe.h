/* HF tokenizer.json (BPE models) loader, encoder and decoder, id-for-id with the HF
 * tokenizers library. A loaded tokenizer is immutable and safe to use from many threads. */
#ifndef MVOT_TOKENIZE_BPE_H
#define MVOT_TOKENIZE_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* A growable id list. */
struct mvot_ids {
    int32_t *v;
    size_t n, cap;
};
void mvot_ids_free(struct mvot_ids *ids);
enum mvot_status mvot_ids_push(struct mvot_ids *ids, int32_t id);
enum mvot_status mvot_ids_append(struct mvot_ids *ids, const int32_t *v, size_t n);

struct mvot_bpe;

enum mvot_status mvot_bpe_load_file(const char *path, struct mvot_bpe **out,
                                    struct mvot_error *err);
/* From an in-memory tokenizer.json; `name` labels errors. */
enum mvot_status mvot_bpe_load_mem(const char *json, size_t len, const char *name,
                                   struct mvot_bpe **out, struct mvot_error *err);
void mvot_bpe_free(struct mvot_bpe *tok);

/* Appends the ids of `text` (UTF-8, len bytes) to out. add_special applies the
 * post_processor (e.g. BOS), as HF encode(add_special_tokens=True). Invalid UTF-8 is read as
 * U+FFFD per maximal invalid subsequence (what HF sees after a lossy conversion). Safe to
 * call from many threads on one handle. On failure out may hold a partial result. */
enum mvot_status mvot_bpe_encode(const struct mvot_bpe *tok, const char *text, size_t len,
                                 int add_special, struct mvot_ids *out, struct mvot_error *err);
/* Decodes to a malloc'd NUL-terminated string (caller frees). */
enum mvot_status mvot_bpe_decode(const struct mvot_bpe *tok, const int32_t *ids, size_t n,
                                 int skip_special, char **out, struct mvot_error *err);
/* Same, also giving the byte length (the text may hold NUL characters). */
enum mvot_status mvot_bpe_decode_n(const struct mvot_bpe *tok, const int32_t *ids, size_t n,
                                   int skip_special, char **out, size_t *out_len,
                                   struct mvot_error *err);

/* Encodes n texts on the pool's threads (NULL pool: inline); outs[i] gets the ids of texts[i]
 * appended. On failure the error of the lowest failing index is returned. */
struct mvot_pool;
enum mvot_status mvot_bpe_encode_batch(const struct mvot_bpe *tok, const char *const *texts,
                                       const size_t *lens, size_t n, int add_special,
                                       struct mvot_pool *pool, struct mvot_ids *outs,
                                       struct mvot_error *err);

uint32_t mvot_bpe_vocab_size(const struct mvot_bpe *tok); /* max id + 1, added tokens included */
int32_t mvot_bpe_token_to_id(const struct mvot_bpe *tok, const char *token); /* -1 if absent */
const char *mvot_bpe_id_to_token(const struct mvot_bpe *tok, int32_t id);    /* NULL if absent */
uint64_t mvot_bpe_file_hash(const struct mvot_bpe *tok); /* XXH3 of the tokenizer.json bytes */

/* The flattened pre-tokenizer chain, e.g. "Split(regex ..., Isolated) > ByteLevel(...)".
 * Borrowed; valid while tok lives. */
const char *mvot_bpe_pretok_chain(const struct mvot_bpe *tok);
/* 1 if id is a special added token (what decode skips with skip_special). */
int mvot_bpe_is_special(const struct mvot_bpe *tok, int32_t id);

#endif
