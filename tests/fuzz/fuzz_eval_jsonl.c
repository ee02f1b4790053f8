/* Fuzz target for the predictions JSONL parser (tools/eval/eval_parse.c): every line goes
 * through mvot_eval_parse_line, form-1 lines through mvot_eval_split_ids (Chameleon layout,
 * 1024 codes per image, the line's first ids taken as a prompt), and every text through the
 * answer regex. Nothing may crash, leak or read out of bounds, whatever the bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tools/eval/eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mvot_eval_vocab v;
    static int ready;
    if (!ready) {
        if (mvot_eval_vocab_chameleon(&v, NULL) != MVOT_OK)
            return 0;
        ready = 1;
    }
    struct mvot_eval_diags d = {0};
    const char *s = (const char *)data;
    size_t line = 0;
    for (size_t p = 0; p <= size;) {
        const char *nl = memchr(s + p, '\n', size - p);
        size_t e = nl ? (size_t)(nl - s) : size;
        struct mvot_eval_pred pred;
        line++;
        if (mvot_eval_parse_line(s + p, e - p, line, 8192, &pred, &d) == 1) {
            char ans[8];
            if (pred.form == MVOT_EVAL_FORM_IDS) {
                uint32_t prompt[4];
                size_t np = pred.n_ids < 4 ? pred.n_ids : 4;
                for (size_t i = 0; i < np; i++)
                    prompt[i] = (uint32_t)pred.ids[i];
                (void)mvot_eval_split_ids(&v, &pred, prompt, np, 1024, &d);
            } else {
                (void)mvot_eval_answer(pred.text, ans);
            }
            mvot_eval_pred_free(&pred);
        }
        if (!nl)
            break;
        p = e + 1;
    }
    /* Raw bytes as text for the regex (NUL-terminated copy). */
    char buf[512];
    size_t n = size < sizeof buf - 1 ? size : sizeof buf - 1;
    memcpy(buf, data, n);
    buf[n] = 0;
    char ans[8];
    (void)mvot_eval_answer(buf, ans);
    mvot_eval_diags_free(&d);
    return 0;
}
