/* BPE normalizers with HF tokenizers semantics: NFC/NFD/NFKC/NFKD (utf8proc), Lowercase (Rust
 * char::to_lowercase, including the one multi-character mapping), Strip, Prepend and Replace.
 * Each works on a growable buffer and swaps it with a scratch buffer, so the chain allocates
 * at most twice whatever its length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tokenize/bpe_internal.h"

static int all_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)s[i] >= 0x80)
            return 0;
    return 1;
}

static enum mvot_status norm_unicode(enum bpe_norm_kind k, struct bpe_sbuf *cur,
                                     struct bpe_sbuf *tmp)
{
    if (all_ascii(cur->p, cur->n))
        return MVOT_OK;
    if (k == BPE_N_NFC) {
        /* code points below U+0300 are NFC-stable and never combine: skip the work */
        int quick = 1;
        for (size_t i = 0; i < cur->n; i++)
            if ((uint8_t)cur->p[i] >= 0xCC) {
                quick = 0;
                break;
            }
        if (quick)
            return MVOT_OK;
    }
    int opts = UTF8PROC_STABLE;
    switch (k) {
    case BPE_N_NFC: opts |= UTF8PROC_COMPOSE; break;
    case BPE_N_NFD: opts |= UTF8PROC_DECOMPOSE; break;
    case BPE_N_NFKC: opts |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    default: opts |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
    }
    utf8proc_uint8_t *o = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)cur->p, (utf8proc_ssize_t)cur->n,
                                      &o, (utf8proc_option_t)opts);
    if (r < 0)
        return r == UTF8PROC_ERROR_NOMEM ? MVOT_ERR_NOMEM : MVOT_ERR_CORRUPT;
    tmp->n = 0;
    enum mvot_status st = bpe_sbuf_add(tmp, o, (size_t)r);
    free(o);
    if (st == MVOT_OK) {
        struct bpe_sbuf x = *cur;
        *cur = *tmp;
        *tmp = x;
    }
    return st;
}

static enum mvot_status norm_lower(struct bpe_sbuf *cur, struct bpe_sbuf *tmp)
{
    tmp->n = 0;
    if (bpe_sbuf_reserve(tmp, cur->n * 2 + 8) != MVOT_OK)
        return MVOT_ERR_NOMEM;
    size_t i = 0;
    while (i < cur->n) {
        uint8_t c = (uint8_t)cur->p[i];
        if (c < 0x80) {
            tmp->p[tmp->n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            i++;
            continue;
        }
        size_t l;
        uint32_t cp = bpe_utf8_next(cur->p + i, cur->n - i, &l);
        i += l;
        if (bpe_sbuf_reserve(tmp, 8) != MVOT_OK)
            return MVOT_ERR_NOMEM;
        if (cp == 0x130) { /* the one multi-character lowercase mapping: i + combining dot */
            tmp->n += bpe_utf8_put('i', tmp->p + tmp->n);
            tmp->n += bpe_utf8_put(0x307, tmp->p + tmp->n);
            continue;
        }
        tmp->n += bpe_utf8_put((uint32_t)utf8proc_tolower((utf8proc_int32_t)cp), tmp->p + tmp->n);
    }
    struct bpe_sbuf x = *cur;
    *cur = *tmp;
    *tmp = x;
    return MVOT_OK;
}

static void norm_strip(struct bpe_sbuf *cur, int left, int right)
{
    size_t b = 0, e = cur->n;
    if (left)
        while (b < e) {
            size_t l;
            uint32_t cp = bpe_utf8_next(cur->p + b, e - b, &l);
            if (!bpe_is_whitespace(cp))
                break;
            b += l;
        }
    if (right)
        while (e > b) {
            size_t k = e - 1;
            while (k > b && ((uint8_t)cur->p[k] & 0xC0) == 0x80)
                k--;
            size_t l;
            uint32_t cp = bpe_utf8_next(cur->p + k, e - k, &l);
            if (!bpe_is_whitespace(cp))
                break;
            e = k;
        }
    if (b)
        memmove(cur->p, cur->p + b, e - b);
    cur->n = e - b;
}

enum mvot_status bpe_replace_all(const struct bpe_regex *re, pcre2_match_data *md,
                                 const char *content, size_t clen, const char *s, size_t n,
                                 struct bpe_sbuf *out)
{
    struct bpe_match_iter it = {re, md, s, n, 0, SIZE_MAX, 0};
    size_t b, e, prev = 0;
    out->n = 0;
    while (bpe_match_next(&it, &b, &e)) {
        if (bpe_sbuf_add(out, s + prev, b - prev) != MVOT_OK ||
            bpe_sbuf_add(out, content, clen) != MVOT_OK)
            return MVOT_ERR_NOMEM;
        prev = e;
    }
    if (it.failed)
        return MVOT_ERR_INTERNAL;
    return bpe_sbuf_add(out, s + prev, n - prev);
}

/* Chained Replace/Prepend normalizers can multiply the text at every step (a 125-byte input
 * reached 12 GB); no real tokenizer comes near this cap, checked after every step. */
#define BPE_NORM_GROWTH 64
#define BPE_NORM_SLACK 4096

enum mvot_status bpe_normalize_with(const struct mvot_bpe *tok, pcre2_match_data *md,
                                    struct bpe_sbuf *cur, struct bpe_sbuf *tmp)
{
    enum mvot_status st = MVOT_OK;
    size_t limit = cur->n > (SIZE_MAX - BPE_NORM_SLACK) / BPE_NORM_GROWTH
                       ? SIZE_MAX
                       : cur->n * BPE_NORM_GROWTH + BPE_NORM_SLACK;
    for (size_t i = 0; i < tok->nnorms && st == MVOT_OK; i++) {
        if (cur->n > limit)
            return MVOT_ERR_UNSUPPORTED; /* the callers name it as the normalizer cap */
        const struct bpe_norm *nm = &tok->norms[i];
        switch (nm->kind) {
        case BPE_N_NFC:
        case BPE_N_NFD:
        case BPE_N_NFKC:
        case BPE_N_NFKD: st = norm_unicode(nm->kind, cur, tmp); break;
        case BPE_N_LOWER: st = norm_lower(cur, tmp); break;
        case BPE_N_STRIP: norm_strip(cur, nm->left, nm->right); break;
        case BPE_N_PREPEND:
            if (cur->n && nm->str_len) {
                tmp->n = 0;
                if (bpe_sbuf_add(tmp, nm->str, nm->str_len) != MVOT_OK ||
                    bpe_sbuf_add(tmp, cur->p, cur->n) != MVOT_OK)
                    return MVOT_ERR_NOMEM;
                struct bpe_sbuf x = *cur;
                *cur = *tmp;
                *tmp = x;
            }
            break;
        case BPE_N_REPLACE:
            if (cur->n) {
                st = bpe_replace_all(&nm->re, md, nm->str, nm->str_len, cur->p, cur->n, tmp);
                if (st == MVOT_OK) {
                    struct bpe_sbuf x = *cur;
                    *cur = *tmp;
                    *tmp = x;
                }
            }
            break;
        }
    }
    return st == MVOT_OK && cur->n > limit ? MVOT_ERR_UNSUPPORTED : st;
}

enum mvot_status bpe_norm_fail(const struct mvot_bpe *tok, enum mvot_status st, size_t n,
                               struct mvot_error *err)
{
    switch (st) {
    case MVOT_ERR_INTERNAL:
        return mvot_error_set(err, st, tok->name, "regex match failed on a %zu-byte text", n);
    case MVOT_ERR_UNSUPPORTED:
        return mvot_error_set(err, st, tok->name,
                              "the normalizers grow a %zu-byte text past their cap of %dx the "
                              "input + %d bytes (chained Replace normalizers?)",
                              n, BPE_NORM_GROWTH, BPE_NORM_SLACK);
    case MVOT_ERR_CORRUPT:
        return mvot_error_set(err, st, tok->name, "normalizer failed on %zu bytes", n);
    default: return mvot_error_set(err, st, tok->name, "out of memory on a %zu-byte text", n);
    }
}

enum mvot_status bpe_normalize(const struct mvot_bpe *tok, const char *s, size_t n,
                               struct bpe_sbuf *out, struct mvot_error *err)
{
    enum mvot_status st;
    struct bpe_sbuf tmp = {0};
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    out->n = 0;
    if (!md || bpe_sbuf_add(out, s, n) != MVOT_OK) {
        st = MVOT_ERR_NOMEM;
    } else {
        st = bpe_normalize_with(tok, md, out, &tmp);
    }
    pcre2_match_data_free(md);
    bpe_sbuf_free(&tmp);
    if (st != MVOT_OK)
        return bpe_norm_fail(tok, st, n, err);
    return MVOT_OK;
}
