/* Byte-level BPE training that writes an HF tokenizer.json in the Chameleon layout
 * (docs/chameleon.md §1): ids 0..3 <s> <pad> </s> <unk>, 4..8195 the IMGIMG image-code names, 8196
 * <eoss>, 8197 <racm3:break>, 8198..8710 <reserved%05d> (named id-4, so 8710 is
 * <reserved08706>), 8711 <image>, then the 256 byte tokens (GPT-2 bytes_to_unicode, in byte
 * order), then one token per merge. The pre-tokenizer is the Chameleon Sequence of
 * docs/chameleon.md §2. Training is deterministic: the most frequent pair wins, ties go to the
 * smaller (left bytes, right bytes); the result does not depend on the thread count. The file
 * records the corpus XXH3 and the parameters under the top-level key "mvot_training", which HF
 * tokenizers ignores. */
#ifndef MVOT_TOKENIZE_BPE_TRAIN_H
#define MVOT_TOKENIZE_BPE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

struct mvot_pool;

#define MVOT_BPE_RESERVED 8712u /* ids 0..8711 are the Chameleon specials and image codes */

struct mvot_bpe_train_opts {
    uint32_t vocab_size;    /* total ids including the reserved block; default 65536 (uint16) */
    uint32_t min_frequency; /* a pair must occur at least this often to be merged; default 2 */
};

void mvot_bpe_train_opts_default(struct mvot_bpe_train_opts *o);

/* Trains on n texts (texts[i] has lens[i] bytes) and atomically writes out_path. Stops early
 * when no pair reaches min_frequency. pool (may be NULL) parallelizes pre-tokenization. */
enum mvot_status mvot_bpe_train_texts(const char *const *texts, const size_t *lens, size_t n,
                                      const struct mvot_bpe_train_opts *opts,
                                      struct mvot_pool *pool, const char *out_path,
                                      struct mvot_error *err);

/* The tokenizer.json text of the untrained layout (no merges): the reserved block and the 256
 * byte tokens with the Chameleon pre-tokenizer. Used by tests and as the trainer's base. The
 * caller frees the string. */
char *mvot_bpe_layout_json(void);

#endif
