/* Regexes for tokenizer.json patterns. HF compiles them with Oniguruma (Ruby syntax, Unicode);
 * we translate the few constructs whose meaning differs in PCRE2 and compile with UTF + UCP +
 * JIT. Differences handled: \s and \S (Oniguruma's white space includes U+0085 NEL, PCRE2's
 * does not), \w and \W (Oniguruma: letters, marks, decimal digits, connector punctuation), \h
 * and \H (Oniguruma: hex digit, PCRE2: horizontal space), and ^/$ (line anchors in Ruby syntax,
 * so PCRE2_MULTILINE). Iteration reproduces the onig crate's find_iter, which skips an empty
 * match that immediately follows the previous match. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "tokenize/bpe_internal.h"

#define WORD_CLASS "\\p{L}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}"

static int out_add(char **o, size_t *n, size_t *cap, const char *s, size_t len)
{
    if (MVOT_GROW(o, cap, *n + len + 1, MVOT_GROW_UNCAPPED, NULL) != MVOT_OK)
        return -1;
    memcpy(*o + *n, s, len);
    *n += len;
    (*o)[*n] = 0;
    return 0;
}

char *bpe_regex_translate(const char *pat, size_t len, size_t *out_len)
{
    size_t cap = len * 2 + 16, n = 0;
    char *o = malloc(cap);
    if (!o)
        return NULL;
    o[0] = 0;
    int in_class = 0;
    size_t class_start = 0;
    for (size_t i = 0; i < len; i++) {
        char c = pat[i];
        const char *rep = NULL;
        if (c == '\\' && i + 1 < len) {
            char d = pat[i + 1];
            switch (d) {
            case 's': rep = in_class ? "\\s\\x{85}" : "[\\s\\x{85}]"; break;
            case 'S': rep = in_class ? NULL : "[^\\s\\x{85}]"; break;
            case 'w': rep = in_class ? WORD_CLASS : "[" WORD_CLASS "]"; break;
            case 'W': rep = in_class ? NULL : "[^" WORD_CLASS "]"; break;
            case 'h': rep = in_class ? "0-9a-fA-F" : "[0-9a-fA-F]"; break;
            case 'H': rep = in_class ? NULL : "[^0-9a-fA-F]"; break;
            default: break;
            }
            if (rep) {
                if (out_add(&o, &n, &cap, rep, strlen(rep)))
                    goto oom;
            } else if (out_add(&o, &n, &cap, pat + i, 2)) {
                goto oom;
            }
            i++;
            continue;
        }
        if (!in_class && c == '[') {
            in_class = 1;
            class_start = i + 1;
            if (class_start < len && pat[class_start] == '^')
                class_start++;
        } else if (in_class && c == '[' && i + 1 < len && pat[i + 1] == ':') {
            /* POSIX class [:name:] copied whole */
            const char *end = NULL;
            for (size_t k = i + 2; k + 1 < len; k++)
                if (pat[k] == ':' && pat[k + 1] == ']') {
                    end = pat + k + 2;
                    break;
                }
            if (end) {
                size_t l = (size_t)(end - (pat + i));
                if (out_add(&o, &n, &cap, pat + i, l))
                    goto oom;
                i += l - 1;
                continue;
            }
        } else if (in_class && c == ']' && i != class_start) {
            in_class = 0;
        }
        if (out_add(&o, &n, &cap, &c, 1))
            goto oom;
    }
    *out_len = n;
    return o;
oom:
    free(o);
    return NULL;
}

enum mvot_status bpe_regex_compile(struct bpe_regex *re, const char *pat, size_t len, int literal,
                                   const char *where, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *tr = NULL;
    memset(re, 0, sizeof *re);
    re->literal = literal;
    re->src = malloc(len + 1);
    MVOT_FAIL_IF(!re->src, err, MVOT_ERR_NOMEM, where, "out of memory");
    memcpy(re->src, pat, len);
    re->src[len] = 0;
    MVOT_CORRUPT_IF(bpe_utf8_valid_prefix(pat, len) != len, err, where,
                    "pattern is not valid UTF-8");
    int ec = 0;
    PCRE2_SIZE eo = 0;
    if (literal) {
        re->code = pcre2_compile((PCRE2_SPTR)pat, len, PCRE2_LITERAL | PCRE2_UTF, &ec, &eo, NULL);
    } else {
        size_t tl = 0;
        tr = bpe_regex_translate(pat, len, &tl);
        MVOT_FAIL_IF(!tr, err, MVOT_ERR_NOMEM, where, "out of memory");
        re->code = pcre2_compile((PCRE2_SPTR)tr, tl, PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &ec,
                                 &eo, NULL);
    }
    if (!re->code) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(ec, buf, sizeof buf);
        MVOT_FAIL_IF(1, err, MVOT_ERR_UNSUPPORTED, where,
                     "regex /%.200s/ does not compile: %s at offset %zu", re->src, (char *)buf,
                     (size_t)eo);
    }
    /* JIT is an optimization: when unavailable the interpreter gives the same matches */
    (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
cleanup:
    free(tr);
    if (st != MVOT_OK)
        bpe_regex_free(re);
    return st;
}

void bpe_regex_free(struct bpe_regex *re)
{
    if (!re)
        return;
    pcre2_code_free(re->code);
    free(re->src);
    memset(re, 0, sizeof *re);
}

int bpe_match_next(struct bpe_match_iter *it, size_t *b, size_t *e)
{
    for (;;) {
        if (it->failed || it->pos > it->n)
            return 0;
        int rc = pcre2_match(it->re->code, (PCRE2_SPTR)it->s, it->n, it->pos, PCRE2_NO_UTF_CHECK,
                             it->md, NULL);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
            rc = pcre2_match(it->re->code, (PCRE2_SPTR)it->s, it->n, it->pos,
                             PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, it->md, NULL);
        if (rc < 0) {
            if (rc != PCRE2_ERROR_NOMATCH)
                it->failed = rc;
            return 0;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(it->md);
        size_t mb = ov[0], me = ov[1];
        if (mb == me && it->last_end == me) {
            if (it->pos >= it->n) {
                it->pos = it->n + 1;
                return 0;
            }
            size_t l = 1;
            (void)bpe_utf8_next(it->s + it->pos, it->n - it->pos, &l);
            it->pos += l;
            continue;
        }
        it->pos = me;
        it->last_end = me;
        *b = mb;
        *e = me;
        return 1;
    }
}
