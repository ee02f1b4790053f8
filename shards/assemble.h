/* Example assembly (docs/shard-format.md §4.1; the official prompts in docs/tasks.md): an episode
 * becomes one or more examples, each an input text and a label text holding a literal
 * "<image>" per image plus the frame index of every image, and then a token sequence in the
 * Chameleon layout (docs/shard-format.md §4). Pure functions; safe from many threads. */
#ifndef MVOT_SHARDS_ASSEMBLE_H
#define MVOT_SHARDS_ASSEMBLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "gen/episode.h"
#include "shards/pack.h"
#include "shards/writer.h"
#include "tokenize/bpe.h"
#include "tokenize/chameleon.h"

#define MVOT_IMAGE_PLACEHOLDER "<image>"

enum mvot_example_kind {
    MVOT_EX_VISUALIZATION = 0,
    MVOT_EX_REASONING = 1,
    MVOT_EX_TRAJECTORY = 2,
    MVOT_EX_COT = 3,
    MVOT_EX_DIRECT = 4
};
const char *mvot_example_kind_name(enum mvot_example_kind k);

struct mvot_example {
    char key[128];
    enum mvot_example_kind kind;
    int32_t step;                     /* k for visualization/reasoning, else -1 */
    char *input_text, *label_text;    /* owned; "<image>" marks each image */
    uint32_t n_images;                /* images in sequence order: inputs first, then labels */
    uint32_t n_input_images;          /* images[0 .. n_input_images) are in the input */
    uint32_t *images;                 /* frame indices, owned */
    int32_t prev_frame, target_frame; /* -1: null */
};
void mvot_examples_free(struct mvot_example *ex, size_t n); /* frees members and the array */

/* Number of examples an episode gives in a mode (without building them). */
size_t mvot_assemble_count(const struct mvot_episode *ep, enum mvot_pack_mode mode);

/* Builds the examples of an episode, in order (mvot: visualization k = 0..L-1, then
 * reasoning k = 0..L). *out is a new array of *n examples. */
enum mvot_status mvot_assemble_examples(const struct mvot_episode *ep, enum mvot_pack_mode mode,
                                        struct mvot_example **out, size_t *n,
                                        struct mvot_error *err);

/* What the tokenizer's post-processor adds around one sequence (e.g. "<s>" before), found
 * by encoding a probe with and without special tokens, so the layout follows the loaded
 * tokenizer.json like HF does. */
struct mvot_assembler {
    const struct mvot_bpe *tok;
    const struct mvot_layout *lay;
    uint32_t image_seq_length;
    int32_t prefix[4], suffix[4];
    uint32_t n_prefix, n_suffix;
};
enum mvot_status mvot_assembler_init(struct mvot_assembler *a, const struct mvot_bpe *tok,
                                     const struct mvot_layout *lay, uint32_t image_seq_length,
                                     struct mvot_error *err);

/* Tokens and spans of one example:
 *   prefix enc(input) <sep> suffix | enc(label) <sep>
 * where enc encodes the text segments between "<image>" markers and puts BOI + N codes + EOI
 * for each image. codes[i] holds image_seq_length codes for the i-th image (in the order of
 * the markers across input then label); n_images must equal the number of markers. Loss is
 * 0 on the input part and 1 on the label part. tokens and spans are appended to. */
enum mvot_status mvot_assemble_tokens(const struct mvot_assembler *a, const char *input_text,
                                      const char *label_text, const int32_t *const *codes,
                                      uint32_t n_images, struct mvot_ids *tokens,
                                      struct mvot_spans *spans, struct mvot_error *err);

/* Counts "<image>" markers in a text. */
uint32_t mvot_assemble_count_images(const char *text);

/* Truncation: the longest prefix of at most max_len tokens that does not cut an image
 * (BOI..EOI kept whole). Returns the new length; 0 means nothing supervised survives. */
size_t mvot_assemble_truncate_point(const struct mvot_assembler *a, const uint32_t *tokens,
                                    size_t n, const struct mvot_span *spans, size_t n_spans,
                                    size_t max_len);

/* The sample json (docs/shard-format.md §3), a new object. aug[i]: round trips applied to
 * image i (NULL: none). */
json_t *mvot_assemble_meta(const struct mvot_episode *ep, const struct mvot_example *ex,
                           enum mvot_pack_mode mode, uint32_t image_seq_length, const uint32_t *aug,
                           size_t n_tokens, int64_t truncated_from, int frames_stored);

#endif
