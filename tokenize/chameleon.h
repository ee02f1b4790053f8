/* The Chameleon/Anole token layout (docs/chameleon.md §1), derived from a loaded tokenizer by
 * token names, never by assumed offsets. The built-in default tokenizer uses the same
 * layout, so every shard has this structure. */
#ifndef MVOT_TOKENIZE_CHAMELEON_H
#define MVOT_TOKENIZE_CHAMELEON_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "tokenize/bpe.h"

#define MVOT_CHAMELEON_CODES 8192

struct mvot_layout {
    int32_t bos, pad, eos, unk; /* <s> <pad> </s> <unk> */
    int32_t boi;                /* <racm3:break> */
    int32_t eoi;                /* <eoss> */
    int32_t sep;                /* <reserved08706> */
    int32_t image;              /* <image> placeholder */
    uint32_t n_codes;           /* image codes present (8192 for Chameleon) */
    int32_t code_to_id[MVOT_CHAMELEON_CODES];
    uint32_t vocab_size;
    int32_t code_base; /* code_to_id[0] when the codes are contiguous (id = base + code) */
    int contiguous;    /* 1 when code_to_id[c] == code_base + c for every code */
};

/* Builds the layout from IMGIMG<letters>Z names and the special-token names. */
enum mvot_status mvot_layout_from_bpe(const struct mvot_bpe *tok, struct mvot_layout *out,
                                      struct mvot_error *err);
/* Code for an id, or -1 if the id is not an image code. */
int32_t mvot_layout_id_to_code(const struct mvot_layout *l, int32_t id);
/* The vocab name of image code c, e.g. "IMGIMGBAZ" for 10, into buf (>= 16 bytes). */
void mvot_layout_code_name(uint32_t code, char *buf, size_t cap);

/* The HF ChameleonProcessor text expansion: every "<image>" in text becomes
 * "<racm3:break>" + image_seq_len x "<image>" + "<eoss>", and, when append_sep, the separator
 * "<reserved08706>" (the tokenizer's sep_token) is appended to the end (the processor does this
 * unless return_for_text_completion). The result is a malloc'd NUL-terminated string (*out_len
 * bytes); encoding it with mvot_bpe_encode(add_special=1) prepends <s>, giving exactly the ids
 * HF produces before the placeholders are overwritten with VQ codes. */
enum mvot_status mvot_layout_expand_images(const char *text, size_t len, uint32_t image_seq_len,
                                           int append_sep, char **out, size_t *out_len,
                                           struct mvot_error *err);
/* Expand, then encode with add_special (BOS) into out. */
enum mvot_status mvot_layout_encode_prompt(const struct mvot_bpe *tok, const char *text, size_t len,
                                           uint32_t image_seq_len, int append_sep,
                                           struct mvot_ids *out, struct mvot_error *err);

#endif
