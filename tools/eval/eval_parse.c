/* Predictions parsing (docs/predictions-format.md): one JSONL line into a struct
 * mvot_eval_pred, the split of raw generated ids into text and images, and the answer regex.
 *
 * Invariants: nothing here fails on hostile input. Every problem becomes a diagnostic with
 * the line number; sizes are capped before allocation; ids are range-checked against the
 * vocabulary before any table lookup. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/mem.h"
#include "tools/eval/eval.h"

/* Caps against absurd lines: a 1024-token image times a few hundred steps fits easily. */
#define EVAL_MAX_IDS (1u << 22)
#define EVAL_MAX_IMAGES 4096u
#define EVAL_MAX_CODES (1u << 16)
#define EVAL_MAX_DIAGS 10000u

static const char *const diag_names[MVOT_EVAL_DIAG_COUNT] = {
    "malformed_line",  "missing_key",     "no_prediction", "unknown_key", "duplicate_key",
    "id_out_of_range", "truncated_image", "image_size",    "image_file",  "truth_error"};

const char *mvot_eval_diag_name(enum mvot_eval_diag_kind k)
{
    return (unsigned)k < MVOT_EVAL_DIAG_COUNT ? diag_names[k] : "unknown";
}

void mvot_eval_diags_add(struct mvot_eval_diags *d, size_t line, enum mvot_eval_diag_kind k,
                         const char *fmt, ...)
{
    if (!d || (unsigned)k >= MVOT_EVAL_DIAG_COUNT)
        return;
    d->counts[k]++;
    if (d->n >= EVAL_MAX_DIAGS)
        return; /* counted, not stored: a file of garbage must not eat memory */
    if (MVOT_GROW(&d->v, &d->alloc, d->n + 1, MVOT_GROW_UNCAPPED, NULL) != MVOT_OK)
        return;
    struct mvot_eval_diag *g = &d->v[d->n++];
    g->line = line;
    g->kind = k;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->msg, sizeof g->msg, fmt, ap);
    va_end(ap);
}

void mvot_eval_diags_free(struct mvot_eval_diags *d)
{
    if (!d)
        return;
    free(d->v);
    memset(d, 0, sizeof *d);
}

/* ---- vocabulary -------------------------------------------------------------------- */

enum mvot_status mvot_eval_vocab_init(struct mvot_eval_vocab *v, uint32_t vocab_size,
                                      const int32_t *code_to_id, uint32_t n_codes, int32_t bos,
                                      int32_t eos, int32_t boi, int32_t eoi, int32_t sep,
                                      int32_t image, struct mvot_error *err)
{
    memset(v, 0, sizeof *v);
    if (vocab_size == 0 || vocab_size > (1u << 24))
        return mvot_error_set(err, MVOT_ERR_INVALID, "eval", "vocabulary size %u out of range",
                              vocab_size);
    v->id_to_code = malloc((size_t)vocab_size * sizeof *v->id_to_code);
    if (!v->id_to_code)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory");
    for (uint32_t i = 0; i < vocab_size; i++)
        v->id_to_code[i] = -1;
    for (uint32_t c = 0; c < n_codes; c++) {
        int32_t id = code_to_id[c];
        if (id >= 0 && (uint32_t)id < vocab_size)
            v->id_to_code[id] = (int32_t)c;
    }
    v->vocab_size = vocab_size;
    v->n_codes = n_codes;
    v->bos = bos;
    v->eos = eos;
    v->boi = boi;
    v->eoi = eoi;
    v->sep = sep;
    v->image = image;
    return MVOT_OK;
}

enum mvot_status mvot_eval_vocab_chameleon(struct mvot_eval_vocab *v, struct mvot_error *err)
{
    int32_t *c2i = malloc(8192 * sizeof *c2i);
    if (!c2i)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "eval", "out of memory");
    for (int32_t c = 0; c < 8192; c++)
        c2i[c] = 4 + c;
    enum mvot_status st =
        mvot_eval_vocab_init(v, 65536, c2i, 8192, 0, 2, 8197, 8196, 8710, 8711, err);
    free(c2i);
    return st;
}

void mvot_eval_vocab_free(struct mvot_eval_vocab *v)
{
    if (!v)
        return;
    free(v->id_to_code);
    memset(v, 0, sizeof *v);
}

/* ---- predictions ------------------------------------------------------------------- */

void mvot_eval_pred_free(struct mvot_eval_pred *p)
{
    if (!p)
        return;
    free(p->key);
    free(p->ids);
    free(p->text);
    free(p->tids);
    for (size_t i = 0; i < p->n_images; i++) {
        free(p->images[i].codes);
        free(p->images[i].path);
    }
    free(p->images);
    memset(p, 0, sizeof *p);
}

/* Cuts text at the first literal separator or </s>, as the official evaluator does. */
static void cut_text(char *s)
{
    char *a = strstr(s, "<reserved08706>");
    char *b = strstr(s, "</s>");
    char *c = a && (!b || a < b) ? a : b;
    if (c)
        *c = 0;
}

/* Reads an integer array into int32 values; values outside int32 become INT32_MIN so the
 * id range check reports them. Returns 0 if some element is not an integer. */
static int read_int_array(const json_t *a, size_t cap, int32_t **out, size_t *n)
{
    size_t len = json_array_size(a);
    *out = NULL;
    *n = 0;
    if (len > cap)
        return 0;
    int32_t *v = malloc((len ? len : 1) * sizeof *v);
    if (!v)
        return 0;
    for (size_t i = 0; i < len; i++) {
        const json_t *e = json_array_get(a, i);
        if (!json_is_integer(e)) {
            free(v);
            return 0;
        }
        json_int_t x = json_integer_value(e);
        v[i] = (x < INT32_MIN || x > INT32_MAX) ? INT32_MIN : (int32_t)x;
    }
    *out = v;
    *n = len;
    return 1;
}

static int blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

int mvot_eval_parse_line(const char *line, size_t len, size_t lineno, uint32_t n_codes,
                         struct mvot_eval_pred *out, struct mvot_eval_diags *d)
{
    memset(out, 0, sizeof *out);
    out->line = lineno;
    if (blank(line, len))
        return -1;
    json_error_t jerr;
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    int ok = 0;
    if (!j) {
        mvot_eval_diags_add(d, lineno, MVOT_EVAL_DIAG_MALFORMED_LINE,
                            "line %zu: not JSON: column %d: %s", lineno, jerr.column, jerr.text);
        return 0;
    }
    if (!json_is_object(j)) {
        mvot_eval_diags_add(d, lineno, MVOT_EVAL_DIAG_MALFORMED_LINE, "line %zu: not a JSON object",
                            lineno);
        goto done;
    }
    const json_t *key = json_object_get(j, "key");
    if (!json_is_string(key) || json_string_length(key) == 0) {
        mvot_eval_diags_add(d, lineno, MVOT_EVAL_DIAG_MISSING_KEY, "line %zu: no \"key\" string",
                            lineno);
        goto done;
    }
    out->key = strdup(json_string_value(key));
    if (!out->key)
        goto done;
    const json_t *ids = json_object_get(j, "output_ids");
    const json_t *text = json_object_get(j, "text");
    const json_t *codes = json_object_get(j, "image_codes");
    const json_t *imgs = json_object_get(j, "images");
    if (ids && (text || codes || imgs)) {
        mvot_eval_diags_add(d, lineno, MVOT_EVAL_DIAG_NO_PREDICTION,
                            "line %zu: key %s: \"output_ids\" mixed with text/images fields",
                            lineno, out->key);
        goto done;
    }
    if (codes && imgs) {
        mvot_eval_diags_add(d, lineno, MVOT_EVAL_DIAG_NO_PREDICTION,
                            "line %zu: key %s: both \"image_codes\" and \"images\"", lineno,
                            out->key);
        goto done;
    }
    if (ids) {
        if (!json_is_array(ids) || !read_int_array(ids, EVAL_MAX_IDS, &out->ids, &out->n_ids)) {
            mvot_eval_diags_add(d, lineno, MVOT_EVAL_DIAG_MALFORMED_LINE,
                                "line %zu: key %s: \"output_ids\" is not an array of at most "
                                "%u integers",
                                lineno, out->key, EVAL_MAX_IDS);
            goto done;
        }
        out->form = MVOT_EVAL_FORM_IDS;
        ok = 1;
        goto done;
    }
    if (!text) {
        mvot_eval_diags_add(d, lineno, MVOT_EVAL_DIAG_NO_PREDICTION,
                            "line %zu: key %s: no \"output_ids\" and no \"text\"", lineno,
                            out->key);
        goto done;
    }
    if (!json_is_string(text)) {
        mvot_eval_diags_add(d, lineno, MVOT_EVAL_DIAG_MALFORMED_LINE,
                            "line %zu: key %s: \"text\" is not a string", lineno, out->key);
        goto done;
    }
    out->text = strdup(json_string_value(text));
    if (!out->text)
        goto done;
    cut_text(out->text);
    const json_t *list = codes ? codes : imgs;
    out->form = imgs ? MVOT_EVAL_FORM_PNG : MVOT_EVAL_FORM_CODES;
    if (list && (!json_is_array(list) || json_array_size(list) > EVAL_MAX_IMAGES)) {
        mvot_eval_diags_add(d, lineno, MVOT_EVAL_DIAG_MALFORMED_LINE,
                            "line %zu: key %s: \"%s\" is not an array of at most %u images", lineno,
                            out->key, codes ? "image_codes" : "images", EVAL_MAX_IMAGES);
        goto done;
    }
    size_t n = list ? json_array_size(list) : 0;
    if (n) {
        out->images = calloc(n, sizeof *out->images);
        if (!out->images)
            goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(list, i);
        struct mvot_eval_pimage *im = &out->images[out->n_images++];
        if (imgs) {
            if (!json_is_string(e)) {
                mvot_eval_diags_add(d, lineno, MVOT_EVAL_DIAG_MALFORMED_LINE,
                                    "line %zu: key %s: images[%zu] is not a string", lineno,
                                    out->key, i);
                goto done;
            }
            im->path = strdup(json_string_value(e));
            if (!im->path)
                goto done;
            continue;
        }
        if (!json_is_array(e) || !read_int_array(e, EVAL_MAX_CODES, &im->codes, &im->n_codes)) {
            mvot_eval_diags_add(d, lineno, MVOT_EVAL_DIAG_MALFORMED_LINE,
                                "line %zu: key %s: image_codes[%zu] is not an array of at most "
                                "%u integers",
                                lineno, out->key, i, EVAL_MAX_CODES);
            goto done;
        }
        size_t bad = 0, first = 0;
        for (size_t k = 0; k < im->n_codes; k++)
            if (im->codes[k] < 0 || (n_codes && (uint32_t)im->codes[k] >= n_codes)) {
                if (!bad++)
                    first = k;
            }
        if (bad) {
            im->bad = 1;
            mvot_eval_diags_add(d, lineno, MVOT_EVAL_DIAG_ID_RANGE,
                                "line %zu: key %s: image %zu: %zu codes out of range [0, %u) "
                                "(first: %d at %zu)",
                                lineno, out->key, i, bad, n_codes, im->codes[first], first);
        }
    }
    ok = 1;
done:
    json_decref(j);
    if (!ok) {
        size_t keep = out->line;
        mvot_eval_pred_free(out);
        out->line = keep;
    }
    return ok;
}

static enum mvot_status push_id(int32_t **v, size_t *n, size_t *cap, int32_t x)
{
    if (MVOT_GROW(v, cap, *n + 1, MVOT_GROW_UNCAPPED, NULL) != MVOT_OK)
        return MVOT_ERR_NOMEM;
    (*v)[(*n)++] = x;
    return MVOT_OK;
}

enum mvot_status mvot_eval_split_ids(const struct mvot_eval_vocab *v, struct mvot_eval_pred *p,
                                     const uint32_t *prompt, size_t n_prompt,
                                     size_t codes_per_image, struct mvot_eval_diags *d)
{
    size_t start = 0, end = p->n_ids, tcap = 0, ccap = 0, imcap = 0;
    if (n_prompt && p->n_ids >= n_prompt) {
        size_t i = 0;
        while (i < n_prompt && p->ids[i] >= 0 && (uint32_t)p->ids[i] == prompt[i])
            i++;
        if (i == n_prompt)
            start = n_prompt;
    }
    for (size_t i = start; i < p->n_ids; i++)
        if (p->ids[i] == v->sep || p->ids[i] == v->eos) {
            end = i;
            break;
        }
    struct mvot_eval_pimage *cur = NULL;
    size_t oor = 0, oor_first = 0;
    int32_t oor_val = 0;
    for (size_t i = start; i < end; i++) {
        int32_t id = p->ids[i];
        if (id < 0 || (uint32_t)id >= v->vocab_size) {
            if (!oor++) {
                oor_first = i;
                oor_val = id;
            }
            if (cur)
                cur->bad = 1;
            continue;
        }
        if (id == v->boi) {
            if (cur) { /* BOI inside an image: the first one never ended */
                cur->bad = 1;
                mvot_eval_diags_add(d, p->line, MVOT_EVAL_DIAG_TRUNCATED_IMAGE,
                                    "line %zu: key %s: image %zu: BOI at position %zu before its "
                                    "EOI",
                                    p->line, p->key, p->n_images - 1, i);
            }
            if (p->n_images == EVAL_MAX_IMAGES)
                break;
            if (MVOT_GROW(&p->images, &imcap, p->n_images + 1, EVAL_MAX_IMAGES, NULL) != MVOT_OK)
                return MVOT_ERR_NOMEM;
            cur = &p->images[p->n_images++];
            memset(cur, 0, sizeof *cur);
            ccap = 0;
            continue;
        }
        if (id == v->eoi) {
            if (!cur)
                continue; /* a stray EOI is a special token of the text: skipped */
            if (!cur->bad && cur->n_codes != codes_per_image) {
                cur->bad = 1;
                mvot_eval_diags_add(d, p->line, MVOT_EVAL_DIAG_IMAGE_SIZE,
                                    "line %zu: key %s: image %zu has %zu codes, expected %zu",
                                    p->line, p->key, p->n_images - 1, cur->n_codes,
                                    codes_per_image);
            }
            cur = NULL;
            continue;
        }
        if (cur) {
            int32_t c = v->id_to_code[id];
            if (c < 0) {
                if (!cur->bad)
                    mvot_eval_diags_add(d, p->line, MVOT_EVAL_DIAG_ID_RANGE,
                                        "line %zu: key %s: image %zu: id %d at position %zu is "
                                        "not an image code",
                                        p->line, p->key, p->n_images - 1, id, i);
                cur->bad = 1;
                continue;
            }
            if (cur->n_codes < EVAL_MAX_CODES &&
                push_id(&cur->codes, &cur->n_codes, &ccap, c) != MVOT_OK)
                return MVOT_ERR_NOMEM;
            continue;
        }
        if (push_id(&p->tids, &p->n_tids, &tcap, id) != MVOT_OK)
            return MVOT_ERR_NOMEM;
    }
    if (cur) {
        cur->bad = 1;
        mvot_eval_diags_add(d, p->line, MVOT_EVAL_DIAG_TRUNCATED_IMAGE,
                            "line %zu: key %s: image %zu: no EOI before the end of the output "
                            "(%zu codes)",
                            p->line, p->key, p->n_images - 1, cur->n_codes);
    }
    if (oor)
        mvot_eval_diags_add(d, p->line, MVOT_EVAL_DIAG_ID_RANGE,
                            "line %zu: key %s: %zu ids out of range [0, %u) (first: %d at "
                            "position %zu)",
                            p->line, p->key, oor, v->vocab_size, oor_val, oor_first);
    return MVOT_OK;
}

/* ---- answers ----------------------------------------------------------------------- */

/* Python's \w on str: alphanumeric per the Unicode database, or '_'. */
static int is_word(utf8proc_int32_t c)
{
    if (c == '_')
        return 1;
    if (c < 128)
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO: return 1;
    default: return 0;
    }
}

int mvot_eval_answer(const char *text, char out[8])
{
    static const char pat[] = "The answer is ";
    const size_t pl = sizeof pat - 1;
    if (!text)
        return 0;
    for (const char *p = strstr(text, pat); p; p = strstr(p + 1, pat)) {
        const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)p + pl;
        utf8proc_int32_t c;
        utf8proc_ssize_t n = utf8proc_iterate(s, -1, &c);
        if (n <= 0 || c == 0 || !is_word(c) || s[n] != '.')
            continue;
        memcpy(out, s, (size_t)n);
        out[n] = 0;
        return 1;
    }
    return 0;
}
