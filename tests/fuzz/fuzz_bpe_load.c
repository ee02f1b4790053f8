/* Fuzz target for the tokenizer.json loader (tokenize/bpe_load.c): any bytes either load into
 * a tokenizer that then encodes and decodes a few fixed texts with every id inside the
 * vocabulary, or fail with a status and a non-empty message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenize/bpe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *texts[] = {"hello ab", "<s>x</s>  12 3\n\tZ", "\xff\xc3(", "é 日本 😀", ""};
    struct mvot_bpe *tok = NULL;
    struct mvot_error err = {0};
    if (mvot_bpe_load_mem((const char *)data, size, "fuzz", &tok, &err) != MVOT_OK) {
        if (!err.msg[0] || tok)
            abort(); /* every failure explains itself and returns nothing */
        return 0;
    }
    uint32_t vs = mvot_bpe_vocab_size(tok);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct mvot_ids ids = {0};
        if (mvot_bpe_encode(tok, texts[i], strlen(texts[i]), (int)(i & 1), &ids, &err) != MVOT_OK) {
            if (!err.msg[0])
                abort();
            mvot_ids_free(&ids);
            continue;
        }
        for (size_t k = 0; k < ids.n; k++)
            if (ids.v[k] < 0 || (uint32_t)ids.v[k] >= vs)
                abort();
        char *s = NULL;
        if (mvot_bpe_decode(tok, ids.v, ids.n, (int)(i & 1), &s, &err) != MVOT_OK)
            abort();
        free(s);
        mvot_ids_free(&ids);
    }
    mvot_bpe_free(tok);
    return 0;
}
