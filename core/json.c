/* JSON helpers over jansson: positioned load errors, deterministic dumps, typed access. */
#include "core/json.h"

#include <stdlib.h>
#include <string.h>

#include "core/io.h"

#define MVOT_JSON_MAX_FILE ((size_t)1 << 31)

enum mvot_status mvot_json_load_buf(const char *data, size_t len, const char *name, json_t **out,
                                    struct mvot_error *err)
{
    json_error_t je;
    /* REJECT_DUPLICATES: a duplicated key in a config or record is a mistake, not data. */
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    *out = NULL;
    if (!j)
        return mvot_error_set(err, MVOT_ERR_CORRUPT, NULL, "%s: line %d, column %d: %s",
                              name ? name : "<json>", je.line, je.column, je.text);
    *out = j;
    return MVOT_OK;
}

enum mvot_status mvot_json_load_file(const char *path, json_t **out, struct mvot_error *err)
{
    uint8_t *buf;
    size_t len;
    enum mvot_status st = mvot_io_read_file(path, MVOT_JSON_MAX_FILE, &buf, &len, err);
    if (st != MVOT_OK)
        return st;
    st = mvot_json_load_buf((const char *)buf, len, path, out, err);
    free(buf);
    return st;
}

/* The shortest "%.Ng" that reads back as the same double (0.1, not jansson's 17-digit
 * 0.10000000000000001), in plain notation when the input was, and with ".0" kept so the
 * value stays a JSON real. Writes at most `cap` bytes to out; returns the length. */
static size_t shortest_real(const char *tok, size_t n, char *out, size_t cap)
{
    char in[64];
    if (n >= sizeof in) {
        memmove(out, tok, n < cap ? n : cap); /* may overlap: rewritten in place */
        return n < cap ? n : cap;
    }
    memcpy(in, tok, n);
    in[n] = 0;
    double v = strtod(in, NULL);
    int plain = !memchr(tok, 'e', n) && !memchr(tok, 'E', n);
    char b[64] = "";
    for (int p = 1; p <= 17; p++) {
        snprintf(b, sizeof b, "%.*g", p, v);
        if (strtod(b, NULL) == v && (!plain || !strchr(b, 'e')))
            break;
    }
    if (!strpbrk(b, ".e"))
        strncat(b, ".0", sizeof b - strlen(b) - 1);
    size_t k = strlen(b);
    if (k > n) { /* never longer than what jansson wrote; keep its text then */
        memcpy(b, tok, n);
        k = n;
    }
    memcpy(out, b, k < cap ? k : cap);
    return k < cap ? k : cap;
}

/* Rewrites every real number of a dumped document (outside strings) in its shortest form. */
static char *shorten_reals(char *s)
{
    if (!s)
        return NULL;
    size_t w = 0, i = 0, n = strlen(s);
    int in_str = 0;
    while (i < n) {
        char c = s[i];
        if (in_str) {
            s[w++] = s[i++];
            if (c == '\\' && i < n)
                s[w++] = s[i++];
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
            s[w++] = s[i++];
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t e = i;
            while (e < n && strchr("0123456789+-.eE", s[e]))
                e++;
            if (memchr(s + i, '.', e - i) || memchr(s + i, 'e', e - i) || memchr(s + i, 'E', e - i))
                w += shortest_real(s + i, e - i, s + w, e - i); /* w <= i: in place */
            else {
                memmove(s + w, s + i, e - i);
                w += e - i;
            }
            i = e;
            continue;
        }
        s[w++] = s[i++];
    }
    s[w] = 0;
    return s;
}

char *mvot_json_dumps(const json_t *j)
{
    return shorten_reals(json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY));
}

char *mvot_json_dumps_pretty(const json_t *j)
{
    return shorten_reals(json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENCODE_ANY));
}

enum mvot_status mvot_json_write_file(const char *path, const json_t *j, struct mvot_error *err)
{
    char *s = mvot_json_dumps_pretty(j);
    if (!s)
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "cannot serialize JSON");
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
    }
    t[n] = '\n';
    t[n + 1] = 0;
    enum mvot_status st = mvot_io_write_file(path, t, n + 1, err);
    free(t);
    return st;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

/* Looks up key; `want` names the expected type for errors. Returns NULL and sets *st when
 * absent (or null) and required. */
static json_t *field(const json_t *obj, const char *key, const char *ctx, int required,
                     enum mvot_status *st, struct mvot_error *err)
{
    *st = MVOT_OK;
    if (!json_is_object(obj)) {
        *st = mvot_error_set(err, MVOT_ERR_CORRUPT, NULL, "%s: expected an object, found %s",
                             ctx ? ctx : "<json>", obj ? type_name(obj) : "nothing");
        return NULL;
    }
    json_t *v = json_object_get(obj, key);
    if ((!v || json_is_null(v)) && required)
        *st = mvot_error_set(err, MVOT_ERR_CORRUPT, NULL, "%s.%s: missing", ctx ? ctx : "<json>",
                             key);
    return json_is_null(v) ? NULL : v;
}

static enum mvot_status mistyped(const char *ctx, const char *key, const char *want,
                                 const json_t *v, struct mvot_error *err)
{
    return mvot_error_set(err, MVOT_ERR_CORRUPT, NULL, "%s.%s: expected %s, found %s",
                          ctx ? ctx : "<json>", key, want, type_name(v));
}

#define GETTER(fname, ctype, check, want, conv, required)                                   \
    enum mvot_status fname(const json_t *obj, const char *key, const char *ctx, ctype *out, \
                           struct mvot_error *err)                                          \
    {                                                                                       \
        enum mvot_status st;                                                                \
        json_t *v = field(obj, key, ctx, required, &st, err);                               \
        if (!v)                                                                             \
            return st;                                                                      \
        if (!(check))                                                                       \
            return mistyped(ctx, key, want, v, err);                                        \
        *out = conv;                                                                        \
        return MVOT_OK;                                                                     \
    }

GETTER(mvot_json_get_int, int64_t, json_is_integer(v), "an integer", json_integer_value(v), 1)
GETTER(mvot_json_opt_int, int64_t, json_is_integer(v), "an integer", json_integer_value(v), 0)
GETTER(mvot_json_get_str, const char *, json_is_string(v), "a string", json_string_value(v), 1)
GETTER(mvot_json_opt_str, const char *, json_is_string(v), "a string", json_string_value(v), 0)
GETTER(mvot_json_get_bool, int, json_is_boolean(v), "a boolean", json_is_true(v), 1)
GETTER(mvot_json_opt_bool, int, json_is_boolean(v), "a boolean", json_is_true(v), 0)
GETTER(mvot_json_get_real, double, json_is_number(v), "a number", json_number_value(v), 1)
GETTER(mvot_json_get_array, json_t *, json_is_array(v), "an array", v, 1)
GETTER(mvot_json_get_object, json_t *, json_is_object(v), "an object", v, 1)
