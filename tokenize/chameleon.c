/* The Chameleon/Anole token layout (docs/chameleon.md §1) read from a loaded tokenizer by token
 * names: image code c is the vocab entry "IMGIMG" + one letter per decimal digit of c (A=0 ..
 * J=9) + "Z"; the specials are found by their names. Nothing assumes an offset. */
#include <stdlib.h>
#include <string.h>

#include "tokenize/chameleon.h"

void mvot_layout_code_name(uint32_t code, char *buf, size_t cap)
{
    char digits[12];
    size_t nd = 0;
    do {
        digits[nd++] = (char)('A' + code % 10);
        code /= 10;
    } while (code && nd < sizeof digits);
    size_t need = 6 + nd + 2;
    if (cap < need) {
        if (cap)
            buf[0] = 0;
        return;
    }
    memcpy(buf, "IMGIMG", 6);
    for (size_t i = 0; i < nd; i++)
        buf[6 + i] = digits[nd - 1 - i];
    buf[6 + nd] = 'Z';
    buf[7 + nd] = 0;
}

enum mvot_status mvot_layout_from_bpe(const struct mvot_bpe *tok, struct mvot_layout *out,
                                      struct mvot_error *err)
{
    static const char *names[] = {"<s>",    "<pad>",           "</s>",   "<unk>", "<racm3:break>",
                                  "<eoss>", "<reserved08706>", "<image>"};
    int32_t ids[8];
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 8; i++) {
        ids[i] = mvot_bpe_token_to_id(tok, names[i]);
        /* <pad> and <unk> are informational; the rest are needed to build samples */
        if (ids[i] < 0 && i != 1 && i != 3)
            return mvot_error_set(err, MVOT_ERR_MISMATCH, "layout",
                                  "tokenizer has no \"%s\" token: not a Chameleon-layout vocab",
                                  names[i]);
    }
    out->bos = ids[0];
    out->pad = ids[1];
    out->eos = ids[2];
    out->unk = ids[3];
    out->boi = ids[4];
    out->eoi = ids[5];
    out->sep = ids[6];
    out->image = ids[7];
    out->vocab_size = mvot_bpe_vocab_size(tok);
    int contiguous = 1;
    for (uint32_t c = 0; c < MVOT_CHAMELEON_CODES; c++) {
        char name[24];
        mvot_layout_code_name(c, name, sizeof name);
        int32_t id = mvot_bpe_token_to_id(tok, name);
        if (id < 0)
            return mvot_error_set(err, MVOT_ERR_MISMATCH, "layout",
                                  "tokenizer has no image token \"%s\" (code %u)", name, c);
        out->code_to_id[c] = id;
        if (id != out->code_to_id[0] + (int32_t)c)
            contiguous = 0;
    }
    out->n_codes = MVOT_CHAMELEON_CODES;
    out->code_base = out->code_to_id[0];
    out->contiguous = contiguous;
    return MVOT_OK;
}

int32_t mvot_layout_id_to_code(const struct mvot_layout *l, int32_t id)
{
    if (l->contiguous) {
        int64_t c = (int64_t)id - l->code_base;
        return c >= 0 && c < (int64_t)l->n_codes ? (int32_t)c : -1;
    }
    for (uint32_t c = 0; c < l->n_codes; c++)
        if (l->code_to_id[c] == id)
            return (int32_t)c;
    return -1;
}

enum mvot_status mvot_layout_expand_images(const char *text, size_t len, uint32_t image_seq_len,
                                           int append_sep, char **out, size_t *out_len,
                                           struct mvot_error *err)
{
    static const char IMG[] = "<image>", BOI[] = "<racm3:break>", EOI[] = "<eoss>",
                      SEP[] = "<reserved08706>";
    const size_t il = sizeof IMG - 1;
    size_t count = 0;
    for (size_t i = 0; i + il <= len; i++)
        if (!memcmp(text + i, IMG, il)) {
            count++;
            i += il - 1;
        }
    size_t one = sizeof BOI - 1 + (size_t)image_seq_len * il + sizeof EOI - 1;
    if (count && one > (SIZE_MAX / 2 - len) / count)
        return mvot_error_set(err, MVOT_ERR_INVALID, "layout", "expanded prompt is too large");
    size_t total = len + count * one + (append_sep ? sizeof SEP - 1 : 0);
    char *o = malloc(total + 1);
    if (!o)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "layout", "out of memory");
    size_t w = 0;
    for (size_t i = 0; i < len;) {
        if (i + il <= len && !memcmp(text + i, IMG, il)) {
            memcpy(o + w, BOI, sizeof BOI - 1);
            w += sizeof BOI - 1;
            for (uint32_t k = 0; k < image_seq_len; k++) {
                memcpy(o + w, IMG, il);
                w += il;
            }
            memcpy(o + w, EOI, sizeof EOI - 1);
            w += sizeof EOI - 1;
            i += il;
        } else {
            o[w++] = text[i++];
        }
    }
    if (append_sep) {
        memcpy(o + w, SEP, sizeof SEP - 1);
        w += sizeof SEP - 1;
    }
    o[w] = 0;
    *out = o;
    *out_len = w;
    return MVOT_OK;
}

enum mvot_status mvot_layout_encode_prompt(const struct mvot_bpe *tok, const char *text, size_t len,
                                           uint32_t image_seq_len, int append_sep,
                                           struct mvot_ids *out, struct mvot_error *err)
{
    char *s = NULL;
    size_t n = 0;
    enum mvot_status st =
        mvot_layout_expand_images(text, len, image_seq_len, append_sep, &s, &n, err);
    if (st != MVOT_OK)
        return st;
    st = mvot_bpe_encode(tok, s, n, 1, out, err);
    free(s);
    return st;
}
