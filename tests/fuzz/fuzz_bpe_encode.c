/* Fuzz target for encode/decode (tokenize/bpe.c): the input's first byte picks a tokenizer
 * and flags, the rest is the text (any bytes, invalid UTF-8 included). Checks: encode never
 * fails, ids are inside the vocabulary, and on the byte-level Chameleon-layout tokenizer
 * (whose pre-tokenizers only split and whose decoder inverts the byte mapping)
 * decode(encode(text)) gives back the text exactly whenever the text is valid UTF-8. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize/bpe.h"
#include "tokenize/bpe_train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A sentencepiece-style tokenizer with byte fallback, unk fusing and a normalizer chain. */
static const char SP_JSON[] =
    "{\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true,\"normalized\":false},"
    "{\"id\":1,\"content\":\"<s>\",\"special\":true,\"normalized\":false},"
    "{\"id\":2,\"content\":\"ab\",\"special\":false,\"normalized\":true,\"lstrip\":true,"
    "\"rstrip\":true,\"single_word\":true}],"
    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFKC\"},"
    "{\"type\":\"Lowercase\"},{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"\\\\s+\"},"
    "\"content\":\" \"}]},"
    "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Metaspace\","
    "\"replacement\":\"\\u2581\",\"prepend_scheme\":\"first\",\"split\":true},"
    "{\"type\":\"Digits\",\"individual_digits\":false},{\"type\":\"Punctuation\","
    "\"behavior\":\"MergedWithPrevious\"}]},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":"
    "\"<s>\"}},{\"Sequence\":{\"id\":\"A\"}}],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\","
    "\"ids\":[1]}}},"
    "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Metaspace\",\"replacement\":"
    "\"\\u2581\",\"prepend_scheme\":\"first\"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},"
    "{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":1}]},"
    "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"byte_fallback\":true,"
    "\"vocab\":{\"<unk>\":0,\"<s>\":1,\"ab\":2,\"\\u2581\":3,\"a\":4,\"b\":5,\"<0x41>\":6,"
    "\"<0xC3>\":7,\"<0xA9>\":8,\"\\u2581a\":9,\"1\":10,\"12\":11,\"2\":12},"
    "\"merges\":[[\"a\",\"b\"],[\"\\u2581\",\"a\"],[\"1\",\"2\"]]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mvot_bpe *toks[2];
    static int ready;
    struct mvot_error err = {0};
    if (!ready) {
        char *layout = mvot_bpe_layout_json();
        if (!layout || mvot_bpe_load_mem(layout, strlen(layout), "layout", &toks[0], &err) ||
            mvot_bpe_load_mem(SP_JSON, sizeof SP_JSON - 1, "sp", &toks[1], &err))
            abort();
        free(layout);
        ready = 1;
    }
    if (size < 1)
        return 0;
    const struct mvot_bpe *tok = toks[data[0] & 1];
    int special = (data[0] >> 1) & 1;
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    struct mvot_ids ids = {0};
    if (mvot_bpe_encode(tok, text, n, special, &ids, &err) != MVOT_OK)
        abort();
    uint32_t vs = mvot_bpe_vocab_size(tok);
    for (size_t k = 0; k < ids.n; k++)
        if (ids.v[k] < 0 || (uint32_t)ids.v[k] >= vs)
            abort();
    char *s = NULL;
    size_t sl = 0;
    if (mvot_bpe_decode_n(tok, ids.v, ids.n, special, &s, &sl, &err) != MVOT_OK)
        abort();
    if (tok == toks[0]) {
        int valid = 1;
        /* a tiny UTF-8 validity check, independent of the library's */
        for (size_t i = 0; i < n && valid;) {
            uint8_t c = (uint8_t)text[i];
            size_t l = c < 0x80                ? 1
                       : c >= 0xC2 && c < 0xE0 ? 2
                       : c >= 0xE0 && c < 0xF0 ? 3
                       : c >= 0xF0 && c < 0xF5 ? 4
                                               : 0;
            if (!l || i + l > n)
                valid = 0;
            for (size_t k = 1; valid && k < l; k++)
                if (((uint8_t)text[i + k] & 0xC0) != 0x80)
                    valid = 0;
            if (valid && l == 3 &&
                ((c == 0xE0 && (uint8_t)text[i + 1] < 0xA0) ||
                 (c == 0xED && (uint8_t)text[i + 1] > 0x9F)))
                valid = 0;
            if (valid && l == 4 &&
                ((c == 0xF0 && (uint8_t)text[i + 1] < 0x90) ||
                 (c == 0xF4 && (uint8_t)text[i + 1] > 0x8F)))
                valid = 0;
            i += l ? l : 1;
        }
        /* with skip_special, specials vanish; without, decode must give the text back */
        if (valid && !special && (sl != n || memcmp(s, text, n) != 0))
            abort();
    }
    free(s);
    mvot_ids_free(&ids);
    return 0;
}
