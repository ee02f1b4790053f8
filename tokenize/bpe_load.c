/* tokenizer.json loader: turns the HF JSON into the immutable struct mvot_bpe. Every
 * component is checked against the supported set and anything else is rejected with one
 * error naming its JSON path (e.g. "tok.json: pre_tokenizer.pretokenizers[2].type: ..."), so a
 * tokenizer is either reproduced exactly or refused. Sequences of normalizers, pre-tokenizers,
 * post-processors and decoders are flattened into arrays at load time. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "tokenize/bpe_internal.h"

#define PATH_MAX_LEN 256

/* Ids must fit in int32 (HF uses u32, but nothing real needs 2^31 and our API is int32); the
 * id space may be sparse but not absurdly so, which bounds the id->token table. */
#define MAX_ID ((int64_t)INT32_MAX)

struct loader {
    struct mvot_bpe *tok;
    const char *name;
    struct mvot_error *err;
    struct bpe_sbuf desc; /* pre-tokenizer chain description */
};

static enum mvot_status fail(struct loader *L, enum mvot_status code, const char *path,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum mvot_status fail(struct loader *L, enum mvot_status code, const char *path,
                             const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mvot_error_set(L->err, code, NULL, "%s: %s: %s", L->name, path, msg);
}

static enum mvot_status get_type(struct loader *L, const json_t *obj, const char *path,
                                 const char **type)
{
    char p[PATH_MAX_LEN];
    if (!json_is_object(obj))
        return fail(L, MVOT_ERR_CORRUPT, path, "expected an object");
    json_t *t = json_object_get(obj, "type");
    snprintf(p, sizeof p, "%s.type", path);
    if (!json_is_string(t))
        return fail(L, MVOT_ERR_CORRUPT, p, "missing or not a string");
    *type = json_string_value(t);
    return MVOT_OK;
}

static enum mvot_status opt_bool(struct loader *L, const json_t *obj, const char *key,
                                 const char *path, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return MVOT_OK;
    if (!json_is_boolean(v)) {
        char p[PATH_MAX_LEN];
        snprintf(p, sizeof p, "%s.%s", path, key);
        return fail(L, MVOT_ERR_CORRUPT, p, "expected a boolean");
    }
    *out = json_is_true(v);
    return MVOT_OK;
}

static enum mvot_status opt_str(struct loader *L, const json_t *obj, const char *key,
                                const char *path, const char **out, size_t *len)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return MVOT_OK;
    if (!json_is_string(v)) {
        char p[PATH_MAX_LEN];
        snprintf(p, sizeof p, "%s.%s", path, key);
        return fail(L, MVOT_ERR_CORRUPT, p, "expected a string");
    }
    *out = json_string_value(v);
    if (len)
        *len = json_string_length(v);
    return MVOT_OK;
}

static char *dup_mem(const char *s, size_t n);

/* A required string field, copied (caller frees *out); missing or null is an error naming it. */
static enum mvot_status req_str_dup(struct loader *L, const json_t *obj, const char *key,
                                    const char *path, char **out, size_t *len)
{
    const char *s = NULL;
    enum mvot_status st = opt_str(L, obj, key, path, &s, len);
    if (st != MVOT_OK)
        return st;
    if (!s) {
        char p[PATH_MAX_LEN];
        snprintf(p, sizeof p, "%s.%s", path, key);
        return fail(L, MVOT_ERR_CORRUPT, p, "missing");
    }
    *out = dup_mem(s, *len);
    return MVOT_OK;
}

static enum mvot_status opt_uint(struct loader *L, const json_t *obj, const char *key,
                                 const char *path, size_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return MVOT_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        char p[PATH_MAX_LEN];
        snprintf(p, sizeof p, "%s.%s", path, key);
        return fail(L, MVOT_ERR_CORRUPT, p, "expected a non-negative integer");
    }
    *out = (size_t)json_integer_value(v);
    return MVOT_OK;
}

/* A single character field (Metaspace replacement, Strip content). */
static enum mvot_status get_char(struct loader *L, const json_t *obj, const char *key,
                                 const char *path, uint32_t *out)
{
    const char *s = NULL;
    size_t len = 0;
    enum mvot_status st = opt_str(L, obj, key, path, &s, &len);
    if (st != MVOT_OK || !s)
        return st;
    size_t cl = 0;
    char p[PATH_MAX_LEN];
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (!len || bpe_utf8_valid_prefix(s, len) != len)
        return fail(L, MVOT_ERR_CORRUPT, p, "expected one character");
    uint32_t cp = bpe_utf8_next(s, len, &cl);
    if (cl != len)
        return fail(L, MVOT_ERR_CORRUPT, p, "expected one character, got \"%.40s\"", s);
    *out = cp;
    return MVOT_OK;
}

/* {"String": s} or {"Regex": s} */
static enum mvot_status get_pattern(struct loader *L, const json_t *obj, const char *path,
                                    struct bpe_regex *re)
{
    char p[PATH_MAX_LEN];
    snprintf(p, sizeof p, "%s.pattern", path);
    json_t *pat = json_object_get(obj, "pattern");
    if (!json_is_object(pat))
        return fail(L, MVOT_ERR_CORRUPT, p, "missing or not an object");
    json_t *s = json_object_get(pat, "String");
    int literal = 1;
    if (!s) {
        s = json_object_get(pat, "Regex");
        literal = 0;
    }
    if (!json_is_string(s))
        return fail(L, MVOT_ERR_CORRUPT, p, "expected {\"String\": ...} or {\"Regex\": ...}");
    char where[PATH_MAX_LEN + 64];
    snprintf(where, sizeof where, "%s: %s", L->name, p);
    return bpe_regex_compile(re, json_string_value(s), json_string_length(s), literal, where,
                             L->err);
}

static char *dup_mem(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

/* ---- normalizers ---- */

static enum mvot_status add_norm(struct loader *L, struct bpe_norm *n)
{
    struct mvot_bpe *t = L->tok;
    struct bpe_norm *nn = realloc(t->norms, (t->nnorms + 1) * sizeof *nn);
    if (!nn) {
        bpe_regex_free(&n->re);
        free(n->str);
        return mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
    }
    t->norms = nn;
    t->norms[t->nnorms++] = *n;
    return MVOT_OK;
}

/* A component loader: normalizer, pre-tokenizer, post-processor or decoder. */
typedef enum mvot_status (*component_fn)(struct loader *L, const json_t *j, const char *path,
                                         int depth);

/* A "Sequence" component: loads every element of j[key] with `load`, one level deeper. */
static enum mvot_status load_sequence(struct loader *L, const json_t *j, const char *path,
                                      const char *key, int depth, component_fn load)
{
    char p[PATH_MAX_LEN];
    json_t *arr = json_object_get(j, key);
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (!json_is_array(arr))
        return fail(L, MVOT_ERR_CORRUPT, p, "missing or not an array");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        snprintf(p, sizeof p, "%s.%s[%zu]", path, key, i);
        enum mvot_status st = load(L, json_array_get(arr, i), p, depth + 1);
        if (st != MVOT_OK)
            return st;
    }
    return MVOT_OK;
}

static enum mvot_status load_normalizer(struct loader *L, const json_t *j, const char *path,
                                        int depth)
{
    enum mvot_status st;
    const char *type = NULL;
    char p[PATH_MAX_LEN];
    if (depth > 16)
        return fail(L, MVOT_ERR_UNSUPPORTED, path, "Sequence nested too deeply");
    if ((st = get_type(L, j, path, &type)) != MVOT_OK)
        return st;
    struct bpe_norm n;
    memset(&n, 0, sizeof n);
    if (!strcmp(type, "Sequence"))
        return load_sequence(L, j, path, "normalizers", depth, load_normalizer);
    if (!strcmp(type, "NFC")) {
        n.kind = BPE_N_NFC;
    } else if (!strcmp(type, "NFD")) {
        n.kind = BPE_N_NFD;
    } else if (!strcmp(type, "NFKC")) {
        n.kind = BPE_N_NFKC;
    } else if (!strcmp(type, "NFKD")) {
        n.kind = BPE_N_NFKD;
    } else if (!strcmp(type, "Lowercase")) {
        n.kind = BPE_N_LOWER;
    } else if (!strcmp(type, "Strip")) {
        n.kind = BPE_N_STRIP;
        n.left = n.right = 1;
        if ((st = opt_bool(L, j, "strip_left", path, &n.left)) != MVOT_OK ||
            (st = opt_bool(L, j, "strip_right", path, &n.right)) != MVOT_OK)
            return st;
    } else if (!strcmp(type, "Prepend")) {
        n.kind = BPE_N_PREPEND;
        if ((st = req_str_dup(L, j, "prepend", path, &n.str, &n.str_len)) != MVOT_OK)
            return st;
    } else if (!strcmp(type, "Replace")) {
        n.kind = BPE_N_REPLACE;
        if ((st = req_str_dup(L, j, "content", path, &n.str, &n.str_len)) != MVOT_OK)
            return st;
        if ((st = get_pattern(L, j, path, &n.re)) != MVOT_OK) {
            free(n.str);
            return st;
        }
    } else {
        snprintf(p, sizeof p, "%s.type", path);
        return fail(L, MVOT_ERR_UNSUPPORTED, p, "normalizer \"%.60s\" is not supported", type);
    }
    return add_norm(L, &n);
}

/* ---- pre-tokenizers ---- */

static const char GPT2_RE[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|"
                              "\\s+(?!\\S)|\\s+";

static enum mvot_status add_pretok(struct loader *L, struct bpe_pretok *pt)
{
    struct mvot_bpe *t = L->tok;
    struct bpe_pretok *np = realloc(t->pretoks, (t->npretoks + 1) * sizeof *np);
    if (!np) {
        bpe_regex_free(&pt->re);
        return mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
    }
    t->pretoks = np;
    t->pretoks[t->npretoks++] = *pt;
    return MVOT_OK;
}

static const char *behavior_name(enum bpe_behavior b)
{
    switch (b) {
    case BPE_B_REMOVED: return "Removed";
    case BPE_B_ISOLATED: return "Isolated";
    case BPE_B_MERGED_PREV: return "MergedWithPrevious";
    case BPE_B_MERGED_NEXT: return "MergedWithNext";
    case BPE_B_CONTIGUOUS: return "Contiguous";
    }
    return "?";
}

static enum mvot_status get_behavior(struct loader *L, const json_t *j, const char *path,
                                     enum bpe_behavior *out)
{
    const char *s = NULL;
    enum mvot_status st = opt_str(L, j, "behavior", path, &s, NULL);
    if (st != MVOT_OK || !s)
        return st;
    static const char *names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext",
                                  "Contiguous"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i])) {
            *out = (enum bpe_behavior)i;
            return MVOT_OK;
        }
    char p[PATH_MAX_LEN];
    snprintf(p, sizeof p, "%s.behavior", path);
    return fail(L, MVOT_ERR_UNSUPPORTED, p, "unknown behavior \"%.60s\"", s);
}

static void desc_add(struct loader *L, const char *s)
{
    if (L->desc.n)
        (void)bpe_sbuf_add(&L->desc, " > ", 3);
    (void)bpe_sbuf_add(&L->desc, s, strlen(s));
}

static enum mvot_status get_prepend_scheme(struct loader *L, const json_t *j, const char *path,
                                           enum bpe_prepend *out)
{
    enum mvot_status st;
    const char *s = NULL;
    int aps = -1;
    if ((st = opt_str(L, j, "prepend_scheme", path, &s, NULL)) != MVOT_OK)
        return st;
    if (!s) {
        /* files written before prepend_scheme existed carry add_prefix_space */
        if ((st = opt_bool(L, j, "add_prefix_space", path, &aps)) != MVOT_OK)
            return st;
        *out = aps == 0 ? BPE_PREPEND_NEVER : BPE_PREPEND_ALWAYS;
        return MVOT_OK;
    }
    if (!strcmp(s, "always")) {
        *out = BPE_PREPEND_ALWAYS;
    } else if (!strcmp(s, "first")) {
        *out = BPE_PREPEND_FIRST;
    } else if (!strcmp(s, "never")) {
        *out = BPE_PREPEND_NEVER;
    } else {
        char p[PATH_MAX_LEN];
        snprintf(p, sizeof p, "%s.prepend_scheme", path);
        return fail(L, MVOT_ERR_UNSUPPORTED, p, "unknown prepend_scheme \"%.40s\"", s);
    }
    return MVOT_OK;
}

static enum mvot_status load_pretok(struct loader *L, const json_t *j, const char *path, int depth)
{
    enum mvot_status st;
    const char *type = NULL;
    char p[PATH_MAX_LEN];
    char d[400];
    if (depth > 16)
        return fail(L, MVOT_ERR_UNSUPPORTED, path, "Sequence nested too deeply");
    if ((st = get_type(L, j, path, &type)) != MVOT_OK)
        return st;
    struct bpe_pretok pt;
    memset(&pt, 0, sizeof pt);
    if (!strcmp(type, "Sequence"))
        return load_sequence(L, j, path, "pretokenizers", depth, load_pretok);
    char where[PATH_MAX_LEN + 64];
    snprintf(where, sizeof where, "%s: %s", L->name, path);
    if (!strcmp(type, "ByteLevel")) {
        pt.kind = BPE_PT_BYTELEVEL;
        pt.add_prefix_space = 1;
        pt.use_regex = 1;
        if ((st = opt_bool(L, j, "add_prefix_space", path, &pt.add_prefix_space)) != MVOT_OK ||
            (st = opt_bool(L, j, "use_regex", path, &pt.use_regex)) != MVOT_OK)
            return st;
        if (pt.use_regex && (st = bpe_regex_compile(&pt.re, GPT2_RE, sizeof GPT2_RE - 1, 0, where,
                                                    L->err)) != MVOT_OK)
            return st;
        snprintf(d, sizeof d, "ByteLevel(add_prefix_space=%s, use_regex=%s)",
                 pt.add_prefix_space ? "true" : "false", pt.use_regex ? "true" : "false");
    } else if (!strcmp(type, "Split")) {
        pt.kind = BPE_PT_SPLIT;
        pt.behavior = BPE_B_ISOLATED;
        if ((st = get_behavior(L, j, path, &pt.behavior)) != MVOT_OK ||
            (st = opt_bool(L, j, "invert", path, &pt.invert)) != MVOT_OK ||
            (st = get_pattern(L, j, path, &pt.re)) != MVOT_OK)
            return st;
        snprintf(d, sizeof d, "Split(%s %.300s, %s%s)", pt.re.literal ? "string" : "regex",
                 pt.re.src, behavior_name(pt.behavior), pt.invert ? ", invert" : "");
    } else if (!strcmp(type, "Digits")) {
        pt.kind = BPE_PT_DIGITS;
        if ((st = opt_bool(L, j, "individual_digits", path, &pt.individual)) != MVOT_OK)
            return st;
        snprintf(d, sizeof d, "Digits(%s)", pt.individual ? "individual" : "contiguous");
    } else if (!strcmp(type, "Punctuation")) {
        pt.kind = BPE_PT_PUNCT;
        pt.behavior = BPE_B_ISOLATED;
        if ((st = get_behavior(L, j, path, &pt.behavior)) != MVOT_OK)
            return st;
        snprintf(d, sizeof d, "Punctuation(%s)", behavior_name(pt.behavior));
    } else if (!strcmp(type, "Metaspace")) {
        pt.kind = BPE_PT_METASPACE;
        pt.replacement = 0x2581;
        pt.split = 1;
        if ((st = get_char(L, j, "replacement", path, &pt.replacement)) != MVOT_OK ||
            (st = get_prepend_scheme(L, j, path, &pt.prepend)) != MVOT_OK ||
            (st = opt_bool(L, j, "split", path, &pt.split)) != MVOT_OK)
            return st;
        snprintf(d, sizeof d, "Metaspace(U+%04X, %s, split=%s)", (unsigned)pt.replacement,
                 pt.prepend == BPE_PREPEND_ALWAYS  ? "always"
                 : pt.prepend == BPE_PREPEND_FIRST ? "first"
                                                   : "never",
                 pt.split ? "true" : "false");
    } else if (!strcmp(type, "Whitespace")) {
        static const char WS_RE[] = "\\w+|[^\\w\\s]+";
        pt.kind = BPE_PT_WHITESPACE;
        if ((st = bpe_regex_compile(&pt.re, WS_RE, sizeof WS_RE - 1, 0, where, L->err)) != MVOT_OK)
            return st;
        snprintf(d, sizeof d, "Whitespace");
    } else if (!strcmp(type, "WhitespaceSplit")) {
        pt.kind = BPE_PT_WSSPLIT;
        snprintf(d, sizeof d, "WhitespaceSplit");
    } else if (!strcmp(type, "BertPreTokenizer")) {
        /* whitespace split, then punctuation isolated: exactly two of our steps */
        pt.kind = BPE_PT_WSSPLIT;
        if ((st = add_pretok(L, &pt)) != MVOT_OK)
            return st;
        memset(&pt, 0, sizeof pt);
        pt.kind = BPE_PT_PUNCT;
        pt.behavior = BPE_B_ISOLATED;
        snprintf(d, sizeof d, "BertPreTokenizer");
    } else {
        snprintf(p, sizeof p, "%s.type", path);
        return fail(L, MVOT_ERR_UNSUPPORTED, p, "pre_tokenizer \"%.60s\" is not supported", type);
    }
    desc_add(L, d);
    return add_pretok(L, &pt);
}

/* ---- post-processors ---- */

static enum mvot_status push_ids(struct loader *L, int32_t **v, size_t *n, const int32_t *ids,
                                 size_t k, int front)
{
    if (!k)
        return MVOT_OK;
    int32_t *nv = realloc(*v, (*n + k + 1) * sizeof *nv);
    if (!nv)
        return mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
    if (front) {
        memmove(nv + k, nv, *n * sizeof *nv);
        memcpy(nv, ids, k * sizeof *nv);
    } else {
        memcpy(nv + *n, ids, k * sizeof *nv);
    }
    *v = nv;
    *n += k;
    return MVOT_OK;
}

static enum mvot_status get_id_pair(struct loader *L, const json_t *j, const char *key,
                                    const char *path, int32_t *id)
{
    json_t *v = json_object_get(j, key);
    char p[PATH_MAX_LEN];
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_integer(json_array_get(v, 1)))
        return fail(L, MVOT_ERR_CORRUPT, p, "expected [token, id]");
    json_int_t x = json_integer_value(json_array_get(v, 1));
    if (x < 0 || x > MAX_ID)
        return fail(L, MVOT_ERR_CORRUPT, p, "id out of range");
    *id = (int32_t)x;
    return MVOT_OK;
}

static enum mvot_status load_template(struct loader *L, const json_t *j, const char *path)
{
    enum mvot_status st;
    struct mvot_bpe *t = L->tok;
    char p[PATH_MAX_LEN];
    json_t *single = json_object_get(j, "single");
    json_t *specials = json_object_get(j, "special_tokens");
    snprintf(p, sizeof p, "%s.single", path);
    if (!json_is_array(single))
        return fail(L, MVOT_ERR_CORRUPT, p, "missing or not an array");
    int32_t *pre = NULL, *post = NULL;
    size_t npre = 0, npost = 0;
    int seen_seq = 0;
    st = MVOT_OK;
    for (size_t i = 0; i < json_array_size(single) && st == MVOT_OK; i++) {
        json_t *it = json_array_get(single, i);
        snprintf(p, sizeof p, "%s.single[%zu]", path, i);
        json_t *sp = json_object_get(it, "SpecialToken");
        json_t *sq = json_object_get(it, "Sequence");
        if (sq) {
            json_t *sid = json_object_get(sq, "id");
            if (seen_seq || !json_is_string(sid) || strcmp(json_string_value(sid), "A") != 0) {
                st = fail(L, MVOT_ERR_UNSUPPORTED, p,
                          "a single template must hold sequence A exactly once");
                break;
            }
            seen_seq = 1;
            continue;
        }
        json_t *name = sp ? json_object_get(sp, "id") : NULL;
        if (!json_is_string(name)) {
            st = fail(L, MVOT_ERR_CORRUPT, p, "expected SpecialToken or Sequence");
            break;
        }
        json_t *def =
            json_is_object(specials) ? json_object_get(specials, json_string_value(name)) : NULL;
        json_t *ids = def ? json_object_get(def, "ids") : NULL;
        if (!json_is_array(ids)) {
            char q[PATH_MAX_LEN * 2];
            snprintf(q, sizeof q, "%s.special_tokens", path);
            st = fail(L, MVOT_ERR_CORRUPT, q, "no entry with ids for \"%.60s\"",
                      json_string_value(name));
            break;
        }
        for (size_t k = 0; k < json_array_size(ids); k++) {
            json_t *x = json_array_get(ids, k);
            if (!json_is_integer(x) || json_integer_value(x) < 0 ||
                json_integer_value(x) > MAX_ID) {
                st = fail(L, MVOT_ERR_CORRUPT, p, "special token id out of range");
                break;
            }
            int32_t id = (int32_t)json_integer_value(x);
            st = seen_seq ? push_ids(L, &post, &npost, &id, 1, 0)
                          : push_ids(L, &pre, &npre, &id, 1, 0);
            if (st != MVOT_OK)
                break;
        }
    }
    if (st == MVOT_OK && !seen_seq)
        st = fail(L, MVOT_ERR_UNSUPPORTED, path, "single template lacks sequence A");
    /* an outer processor wraps what inner ones produced */
    if (st == MVOT_OK)
        st = push_ids(L, &t->post_pre, &t->npost_pre, pre, npre, 1);
    if (st == MVOT_OK)
        st = push_ids(L, &t->post_post, &t->npost_post, post, npost, 0);
    t->has_template = 1;
    free(pre);
    free(post);
    return st;
}

static enum mvot_status load_post(struct loader *L, const json_t *j, const char *path, int depth)
{
    enum mvot_status st;
    const char *type = NULL;
    char p[PATH_MAX_LEN];
    if (depth > 16)
        return fail(L, MVOT_ERR_UNSUPPORTED, path, "Sequence nested too deeply");
    if ((st = get_type(L, j, path, &type)) != MVOT_OK)
        return st;
    if (!strcmp(type, "Sequence"))
        return load_sequence(L, j, path, "processors", depth, load_post);
    if (!strcmp(type, "ByteLevel"))
        return MVOT_OK; /* only trims offsets; ids are unchanged */
    if (!strcmp(type, "TemplateProcessing"))
        return load_template(L, j, path);
    if (!strcmp(type, "RobertaProcessing") || !strcmp(type, "BertProcessing")) {
        int32_t cls, sep;
        if ((st = get_id_pair(L, j, "cls", path, &cls)) != MVOT_OK ||
            (st = get_id_pair(L, j, "sep", path, &sep)) != MVOT_OK)
            return st;
        struct mvot_bpe *t = L->tok;
        t->has_template = 1;
        if ((st = push_ids(L, &t->post_pre, &t->npost_pre, &cls, 1, 1)) != MVOT_OK)
            return st;
        return push_ids(L, &t->post_post, &t->npost_post, &sep, 1, 0);
    }
    snprintf(p, sizeof p, "%s.type", path);
    return fail(L, MVOT_ERR_UNSUPPORTED, p, "post_processor \"%.60s\" is not supported", type);
}

/* ---- decoders ---- */

static enum mvot_status add_dec(struct loader *L, struct bpe_dec *d)
{
    struct mvot_bpe *t = L->tok;
    struct bpe_dec *nd = realloc(t->decs, (t->ndecs + 1) * sizeof *nd);
    if (!nd) {
        bpe_regex_free(&d->re);
        free(d->content);
        return mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
    }
    t->decs = nd;
    t->decs[t->ndecs++] = *d;
    return MVOT_OK;
}

static enum mvot_status load_decoder(struct loader *L, const json_t *j, const char *path, int depth)
{
    enum mvot_status st;
    const char *type = NULL;
    char p[PATH_MAX_LEN];
    if (depth > 16)
        return fail(L, MVOT_ERR_UNSUPPORTED, path, "Sequence nested too deeply");
    if ((st = get_type(L, j, path, &type)) != MVOT_OK)
        return st;
    struct bpe_dec d;
    memset(&d, 0, sizeof d);
    if (!strcmp(type, "Sequence"))
        return load_sequence(L, j, path, "decoders", depth, load_decoder);
    if (!strcmp(type, "ByteLevel")) {
        d.kind = BPE_D_BYTELEVEL;
    } else if (!strcmp(type, "Metaspace")) {
        enum bpe_prepend ps = BPE_PREPEND_ALWAYS;
        d.kind = BPE_D_METASPACE;
        d.ch = 0x2581;
        if ((st = get_char(L, j, "replacement", path, &d.ch)) != MVOT_OK ||
            (st = get_prepend_scheme(L, j, path, &ps)) != MVOT_OK)
            return st;
        d.prepend_first = ps != BPE_PREPEND_NEVER;
    } else if (!strcmp(type, "ByteFallback")) {
        d.kind = BPE_D_BYTEFALLBACK;
    } else if (!strcmp(type, "Fuse")) {
        d.kind = BPE_D_FUSE;
    } else if (!strcmp(type, "Strip")) {
        d.kind = BPE_D_STRIP;
        d.ch = ' ';
        if ((st = get_char(L, j, "content", path, &d.ch)) != MVOT_OK ||
            (st = opt_uint(L, j, "start", path, &d.start)) != MVOT_OK ||
            (st = opt_uint(L, j, "stop", path, &d.stop)) != MVOT_OK)
            return st;
    } else if (!strcmp(type, "Replace")) {
        d.kind = BPE_D_REPLACE;
        if ((st = req_str_dup(L, j, "content", path, &d.content, &d.content_len)) != MVOT_OK)
            return st;
        if ((st = get_pattern(L, j, path, &d.re)) != MVOT_OK) {
            free(d.content);
            return st;
        }
    } else {
        snprintf(p, sizeof p, "%s.type", path);
        return fail(L, MVOT_ERR_UNSUPPORTED, p, "decoder \"%.60s\" is not supported", type);
    }
    return add_dec(L, &d);
}

/* ---- model ---- */

static enum mvot_status check_id(struct loader *L, const json_t *v, const char *path, int32_t *out)
{
    if (!json_is_integer(v))
        return fail(L, MVOT_ERR_CORRUPT, path, "id is not an integer");
    json_int_t x = json_integer_value(v);
    if (x < 0)
        return fail(L, MVOT_ERR_CORRUPT, path, "negative id");
    if (x > MAX_ID)
        return fail(L, MVOT_ERR_UNSUPPORTED, path,
                    "id over 2^31-1: vocabularies over 2^31 are not supported");
    *out = (int32_t)x;
    return MVOT_OK;
}

static enum mvot_status load_model(struct loader *L, const json_t *root, const json_t **vocab_out,
                                   const json_t **merges_out)
{
    enum mvot_status st;
    struct mvot_bpe *t = L->tok;
    const json_t *m = json_object_get(root, "model");
    if (!json_is_object(m))
        return fail(L, MVOT_ERR_CORRUPT, "model", "missing or not an object");
    json_t *type = json_object_get(m, "type");
    if (type && !json_is_string(type))
        return fail(L, MVOT_ERR_CORRUPT, "model.type", "not a string");
    if (type && strcmp(json_string_value(type), "BPE") != 0)
        return fail(L, MVOT_ERR_UNSUPPORTED, "model.type",
                    "model \"%.60s\" is not supported (only BPE)", json_string_value(type));
    json_t *dropout = json_object_get(m, "dropout");
    if (dropout && !json_is_null(dropout) &&
        !(json_is_number(dropout) && json_number_value(dropout) == 0.0))
        return fail(L, MVOT_ERR_UNSUPPORTED, "model.dropout",
                    "BPE dropout is not supported (must be null)");
    if ((st = opt_bool(L, m, "fuse_unk", "model", &t->fuse_unk)) != MVOT_OK ||
        (st = opt_bool(L, m, "byte_fallback", "model", &t->byte_fallback)) != MVOT_OK ||
        (st = opt_bool(L, m, "ignore_merges", "model", &t->ignore_merges)) != MVOT_OK)
        return st;
    const json_t *vocab = json_object_get(m, "vocab");
    const json_t *merges = json_object_get(m, "merges");
    if (!json_is_object(vocab))
        return fail(L, MVOT_ERR_CORRUPT, "model.vocab", "missing or not an object");
    if (!json_is_array(merges))
        return fail(L, MVOT_ERR_CORRUPT, "model.merges", "missing or not an array");
    *vocab_out = vocab;
    *merges_out = merges;
    return MVOT_OK;
}

/* Splits a legacy "a b" merge at its first space (HF splits into exactly two parts). */
static int merge_parts(const json_t *x, const char **a, size_t *al, const char **b, size_t *bl)
{
    if (json_is_string(x)) {
        const char *s = json_string_value(x);
        size_t n = json_string_length(x);
        const char *sp = memchr(s, ' ', n);
        if (!sp || memchr(sp + 1, ' ', n - (size_t)(sp + 1 - s)))
            return -1;
        *a = s;
        *al = (size_t)(sp - s);
        *b = sp + 1;
        *bl = n - *al - 1;
        return 0;
    }
    if (json_is_array(x) && json_array_size(x) == 2 && json_is_string(json_array_get(x, 0)) &&
        json_is_string(json_array_get(x, 1))) {
        *a = json_string_value(json_array_get(x, 0));
        *al = json_string_length(json_array_get(x, 0));
        *b = json_string_value(json_array_get(x, 1));
        *bl = json_string_length(json_array_get(x, 1));
        return 0;
    }
    return -1;
}

static enum mvot_status build_model(struct loader *L, const json_t *root, const json_t *vocab,
                                    const json_t *merges)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_bpe *t = L->tok;
    const json_t *m = json_object_get(root, "model");
    char p[PATH_MAX_LEN];
    /* all strings (vocab keys, added contents) live in one block */
    size_t total = 0;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)vocab, key, val) total += strlen(key) + 1;
    const json_t *added = json_object_get(root, "added_tokens");
    if (added && !json_is_null(added) && !json_is_array(added))
        return fail(L, MVOT_ERR_CORRUPT, "added_tokens", "not an array");
    size_t nadded = json_is_array(added) ? json_array_size(added) : 0;
    t->strings = malloc(total + 1);
    if (!t->strings)
        return mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
    if ((st = bpe_smap_init(&t->vocab, json_object_size(vocab))) != MVOT_OK)
        return mvot_error_set(L->err, st, L->name, "out of memory");
    int64_t max_id = -1;
    char *w = t->strings;
    json_object_foreach((json_t *)vocab, key, val)
    {
        int32_t id;
        char q[PATH_MAX_LEN * 2];
        snprintf(q, sizeof q, "model.vocab[\"%.80s\"]", key);
        if ((st = check_id(L, val, q, &id)) != MVOT_OK)
            return st;
        size_t kl = strlen(key);
        if (bpe_utf8_valid_prefix(key, kl) != kl)
            return fail(L, MVOT_ERR_CORRUPT, q, "token is not valid UTF-8");
        memcpy(w, key, kl + 1);
        if (bpe_smap_put(&t->vocab, w, kl, id) != MVOT_OK)
            return mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
        w += kl + 1;
        if (id > max_id)
            max_id = id;
    }

    /* model options that name tokens */
    const char *unk = NULL, *pre = NULL, *suf = NULL;
    size_t unk_len = 0, pre_len = 0, suf_len = 0;
    if ((st = opt_str(L, m, "unk_token", "model", &unk, &unk_len)) != MVOT_OK ||
        (st = opt_str(L, m, "continuing_subword_prefix", "model", &pre, &pre_len)) != MVOT_OK ||
        (st = opt_str(L, m, "end_of_word_suffix", "model", &suf, &suf_len)) != MVOT_OK)
        return st;
    t->unk_id = -1;
    if (unk) {
        t->unk_id = bpe_smap_get(&t->vocab, unk, unk_len);
        if (t->unk_id < 0)
            return fail(L, MVOT_ERR_CORRUPT, "model.unk_token", "\"%.80s\" is not in the vocab",
                        unk);
    }
    if (pre && pre_len) {
        t->prefix = dup_mem(pre, pre_len);
        t->prefix_len = pre_len;
    }
    if (suf && suf_len) {
        t->suffix = dup_mem(suf, suf_len);
        t->suffix_len = suf_len;
    }
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->byte_fallback_id[b] = bpe_smap_get(&t->vocab, name, 6);
    }

    /* merges */
    size_t nm = json_array_size(merges);
    if ((st = bpe_pmap_init(&t->merges, nm)) != MVOT_OK)
        return mvot_error_set(L->err, st, L->name, "out of memory");
    struct bpe_sbuf cat = {0};
    for (size_t i = 0; i < nm; i++) {
        const char *a, *b;
        size_t al, bl;
        snprintf(p, sizeof p, "model.merges[%zu]", i);
        if (merge_parts(json_array_get(merges, i), &a, &al, &b, &bl) != 0) {
            st = fail(L, MVOT_ERR_CORRUPT, p, "expected \"a b\" or [\"a\", \"b\"]");
            break;
        }
        int32_t ia = bpe_smap_get(&t->vocab, a, al), ib = bpe_smap_get(&t->vocab, b, bl);
        if (ia < 0 || ib < 0) {
            char tokq[96];
            snprintf(tokq, sizeof tokq, "%.*s",
                     (int)(ia < 0 ? (al > 80 ? 80 : al) : (bl > 80 ? 80 : bl)), ia < 0 ? a : b);
            st = fail(L, MVOT_ERR_CORRUPT, p, "token \"%s\" is not in the vocab", tokq);
            break;
        }
        if (bl < t->prefix_len) {
            st = fail(L, MVOT_ERR_CORRUPT, p,
                      "right token is shorter than continuing_subword_prefix");
            break;
        }
        cat.n = 0;
        if (bpe_sbuf_add(&cat, a, al) != MVOT_OK ||
            bpe_sbuf_add(&cat, b + t->prefix_len, bl - t->prefix_len) != MVOT_OK) {
            st = mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
            break;
        }
        int32_t nid = bpe_smap_get(&t->vocab, cat.p, cat.n);
        if (nid < 0) {
            char tokq[96];
            snprintf(tokq, sizeof tokq, "%.*s", (int)(cat.n > 80 ? 80 : cat.n), cat.p);
            st = fail(L, MVOT_ERR_CORRUPT, p, "merged token \"%s\" is not in the vocab", tokq);
            break;
        }
        bpe_pmap_put(&t->merges, ia, ib, (uint32_t)i, nid);
    }
    bpe_sbuf_free(&cat);
    if (st != MVOT_OK)
        return st;

    /* added tokens */
    if (nadded) {
        t->added = calloc(nadded, sizeof *t->added);
        if (!t->added)
            return mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
    }
    for (size_t i = 0; i < nadded; i++) {
        json_t *a = json_array_get(added, i);
        struct bpe_added *x = &t->added[t->nadded];
        snprintf(p, sizeof p, "added_tokens[%zu]", i);
        if (!json_is_object(a))
            return fail(L, MVOT_ERR_CORRUPT, p, "expected an object");
        char q[PATH_MAX_LEN * 2];
        snprintf(q, sizeof q, "%s.id", p);
        if ((st = check_id(L, json_object_get(a, "id"), q, &x->id)) != MVOT_OK)
            return st;
        const char *c = NULL;
        size_t cl = 0;
        if ((st = opt_str(L, a, "content", p, &c, &cl)) != MVOT_OK)
            return st;
        if (!c) {
            snprintf(q, sizeof q, "%s.content", p);
            return fail(L, MVOT_ERR_CORRUPT, q, "missing");
        }
        x->content = dup_mem(c, cl);
        x->len = cl;
        if (!x->content)
            return mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
        t->nadded++;
        if ((st = opt_bool(L, a, "special", p, &x->special)) != MVOT_OK)
            return st;
        x->normalized = !x->special;
        if ((st = opt_bool(L, a, "normalized", p, &x->normalized)) != MVOT_OK ||
            (st = opt_bool(L, a, "lstrip", p, &x->lstrip)) != MVOT_OK ||
            (st = opt_bool(L, a, "rstrip", p, &x->rstrip)) != MVOT_OK ||
            (st = opt_bool(L, a, "single_word", p, &x->single_word)) != MVOT_OK)
            return st;
        /* HF ignores the id written in the file: an added token takes the id of the same
         * content if already known (added or model vocab), else the next free id after the
         * added ones, starting at the model's entry count. Empty contents are skipped. */
        if (!x->len) {
            free(x->content);
            t->nadded--;
            continue;
        }
        int32_t same = -1;
        for (size_t k = 0; k + 1 < t->nadded; k++)
            if (t->added[k].len == x->len && !memcmp(t->added[k].content, x->content, x->len))
                same = (int32_t)k;
        if (same >= 0) {
            /* a later entry with the same content replaces the earlier one's flags */
            x->id = t->added[same].id;
            free(t->added[same].content);
            t->added[same] = *x;
            memset(x, 0, sizeof *x);
            t->nadded--;
            continue;
        }
        int32_t vid = bpe_smap_get(&t->vocab, x->content, x->len);
        if (vid >= 0) {
            x->id = vid;
        } else {
            int64_t mx = -1;
            for (size_t k = 0; k + 1 < t->nadded; k++)
                if (t->added[k].id > mx)
                    mx = t->added[k].id;
            int64_t vs = (int64_t)t->vocab.n;
            int64_t nid = (mx >= vs || vs == 0) ? mx + 1 : vs;
            if (nid > MAX_ID)
                return fail(L, MVOT_ERR_UNSUPPORTED, p, "id over 2^31-1");
            x->id = (int32_t)nid;
        }
        if (x->id > max_id)
            max_id = x->id;
    }

    /* id -> token table */
    size_t nent = json_object_size(vocab) + nadded;
    if (max_id >= 0 && (uint64_t)max_id > (uint64_t)nent * 16 + (1u << 20))
        return fail(L, MVOT_ERR_UNSUPPORTED, "model.vocab",
                    "ids are too sparse (max id far beyond the entry count)");
    t->vocab_size = (uint32_t)(max_id + 1);
    size_t vs = t->vocab_size ? t->vocab_size : 1;
    t->id_str = calloc(vs, sizeof *t->id_str);
    t->id_len = calloc(vs, sizeof *t->id_len);
    t->id_special = calloc(vs, 1);
    if (!t->id_str || !t->id_len || !t->id_special)
        return mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
    for (size_t i = 0; i <= t->vocab.mask; i++) {
        const struct bpe_smap_ent *e = &t->vocab.e[i];
        if (!e->s)
            continue;
        /* several strings for one id: keep the smallest, so the choice is deterministic */
        if (t->id_str[e->id] &&
            (t->id_len[e->id] < e->len ||
             (t->id_len[e->id] == e->len && memcmp(t->id_str[e->id], e->s, e->len) <= 0)))
            continue;
        t->id_str[e->id] = e->s;
        t->id_len[e->id] = e->len;
    }
    for (size_t i = 0; i < t->nadded; i++) {
        t->id_str[t->added[i].id] = t->added[i].content;
        t->id_len[t->added[i].id] = (uint32_t)t->added[i].len;
    }
    struct bpe_smap specials = {0};
    if (bpe_smap_init(&specials, t->nadded + 1) != MVOT_OK)
        return mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
    for (size_t i = 0; i < t->nadded; i++)
        if (t->added[i].special)
            (void)bpe_smap_put(&specials, t->added[i].content, t->added[i].len, 1);
    for (uint32_t id = 0; id < t->vocab_size; id++)
        if (t->id_str[id] && bpe_smap_get(&specials, t->id_str[id], t->id_len[id]) >= 0)
            t->id_special[id] = 1;
    bpe_smap_free(&specials);
    return MVOT_OK;
}

/* Byte-level fast path tables: the model can start from raw bytes. */
/* See seg_metaspace in bpe_internal.h. */
static void check_metaspace_segments(struct mvot_bpe *t)
{
    static const char MS[] = "\xE2\x96\x81";
    t->seg_metaspace = 0;
    if (t->prefix || t->suffix || t->ignore_merges || t->bytelevel_last ||
        bpe_smap_get(&t->vocab, MS, 3) < 0)
        return;
    for (size_t i = 0; i <= t->vocab.mask; i++) {
        const struct bpe_smap_ent *e = &t->vocab.e[i];
        if (!e->s)
            continue;
        for (size_t k = 1; k + 3 <= e->len; k++)
            if (!memcmp(e->s + k, MS, 3)) {
                /* allowed only when everything before is a run of U+2581 */
                for (size_t q = 0; q < k; q += 3)
                    if (memcmp(e->s + q, MS, 3) != 0)
                        return;
            }
    }
    t->seg_metaspace = 1;
}

static enum mvot_status build_bytelevel(struct loader *L)
{
    struct mvot_bpe *t = L->tok;
    t->bytelevel_last = t->npretoks && t->pretoks[t->npretoks - 1].kind == BPE_PT_BYTELEVEL;
    t->bytelevel_model = t->bytelevel_last && !t->prefix && !t->suffix;
    for (int b = 0; b < 256; b++) {
        char buf[4];
        size_t l = bpe_utf8_put(bpe_byte_to_cp((uint8_t)b), buf);
        t->byte_id[b] = bpe_smap_get(&t->vocab, buf, l);
    }
    if (!t->bytelevel_model || !t->ignore_merges)
        return MVOT_OK;
    size_t total = 0;
    for (size_t i = 0; i <= t->vocab.mask; i++)
        if (t->vocab.e[i].s)
            total += t->vocab.e[i].len;
    t->raw_strings = malloc(total + 1);
    if (!t->raw_strings || bpe_smap_init(&t->raw_vocab, t->vocab.n) != MVOT_OK)
        return mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
    char *w = t->raw_strings;
    for (size_t i = 0; i <= t->vocab.mask; i++) {
        const struct bpe_smap_ent *e = &t->vocab.e[i];
        if (!e->s)
            continue;
        char *start = w;
        size_t k = 0;
        int ok = 1;
        while (k < e->len) {
            size_t cl = 1;
            uint32_t cp = bpe_utf8_next(e->s + k, e->len - k, &cl);
            int byte = bpe_cp_to_byte(cp);
            if (byte < 0) {
                ok = 0;
                break;
            }
            *w++ = (char)byte;
            k += cl;
        }
        if (!ok) {
            w = start;
            continue;
        }
        if (bpe_smap_put(&t->raw_vocab, start, (size_t)(w - start), e->id) != MVOT_OK)
            return mvot_error_set(L->err, MVOT_ERR_NOMEM, L->name, "out of memory");
    }
    return MVOT_OK;
}

enum mvot_status bpe_load_json(struct mvot_bpe *tok, const char *json, size_t len,
                               struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *root = NULL;
    struct loader L = {tok, tok->name, err, {0}};
    const json_t *vocab = NULL, *merges = NULL;
    st = mvot_json_load_buf(json, len, tok->name, &root, err);
    if (st == MVOT_OK && !json_is_object(root))
        st = fail(&L, MVOT_ERR_CORRUPT, "(root)", "expected an object");
    else if (st == MVOT_OK && !json_object_get(root, "model"))
        st = fail(&L, MVOT_ERR_CORRUPT, "model", "missing");
    if (st != MVOT_OK) {
        /* a wrong file handed over as the tokenizer: say so, not only what broke */
        size_t n = err ? strlen(err->msg) : 0;
        if (err && n < sizeof err->msg)
            snprintf(err->msg + n, sizeof err->msg - n, " (not a tokenizer.json)");
        goto cleanup;
    }
    static const char *unsupported_if_set[] = {"truncation", "padding"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(root, unsupported_if_set[i]);
        if (v && !json_is_null(v)) {
            st = fail(&L, MVOT_ERR_UNSUPPORTED, unsupported_if_set[i],
                      "must be null (it changes ids; set it in the consumer instead)");
            goto cleanup;
        }
    }
    MVOT_TRY(load_model(&L, root, &vocab, &merges));
    json_t *j = json_object_get(root, "normalizer");
    if (j && !json_is_null(j))
        MVOT_TRY(load_normalizer(&L, j, "normalizer", 0));
    j = json_object_get(root, "pre_tokenizer");
    if (j && !json_is_null(j))
        MVOT_TRY(load_pretok(&L, j, "pre_tokenizer", 0));
    j = json_object_get(root, "post_processor");
    if (j && !json_is_null(j))
        MVOT_TRY(load_post(&L, j, "post_processor", 0));
    j = json_object_get(root, "decoder");
    if (j && !json_is_null(j)) {
        tok->has_decoder = 1;
        MVOT_TRY(load_decoder(&L, j, "decoder", 0));
    }
    MVOT_TRY(build_model(&L, root, vocab, merges));
    /* normalized added tokens are matched against their normalized form */
    struct bpe_sbuf nb = {0};
    for (size_t i = 0; i < tok->nadded; i++) {
        struct bpe_added *a = &tok->added[i];
        if (!a->normalized)
            continue;
        st = bpe_normalize(tok, a->content, a->len, &nb, err);
        if (st == MVOT_OK) {
            a->norm = dup_mem(nb.p ? nb.p : "", nb.n);
            a->norm_len = nb.n;
            if (!a->norm)
                st = mvot_error_set(err, MVOT_ERR_NOMEM, tok->name, "out of memory");
        }
        if (st != MVOT_OK)
            break;
    }
    bpe_sbuf_free(&nb);
    MVOT_TRY(st);
    if (bpe_trie_build(&tok->trie_raw, tok->added, tok->nadded, 0) != MVOT_OK ||
        bpe_trie_build(&tok->trie_norm, tok->added, tok->nadded, 1) != MVOT_OK) {
        st = mvot_error_set(err, MVOT_ERR_NOMEM, tok->name, "out of memory");
        goto cleanup;
    }
    MVOT_TRY(build_bytelevel(&L));
    check_metaspace_segments(tok);
    tok->chain_desc = dup_mem(L.desc.p ? L.desc.p : "(none)", L.desc.p ? L.desc.n : 6);
cleanup:
    bpe_sbuf_free(&L.desc);
    json_decref(root);
    return st;
}
