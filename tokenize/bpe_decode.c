/* BPE decode with HF tokenizers semantics: ids become their token strings (unknown ids
 * skipped, special ones optionally), then the decoder chain (ByteLevel, Metaspace, ByteFallback,
 * Fuse, Strip, Replace) runs over the list; without a decoder the tokens are joined by spaces. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "tokenize/bpe_internal.h"

struct tokstr {
    char *s;
    size_t n;
};
struct toklist {
    struct tokstr *v;
    size_t n, cap;
};

static void toklist_free(struct toklist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].s);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int toklist_push(struct toklist *l, const char *s, size_t n)
{
    if (MVOT_GROW(&l->v, &l->cap, l->n + 1, MVOT_GROW_UNCAPPED, NULL) != MVOT_OK)
        return -1;
    char *c = malloc(n + 1);
    if (!c)
        return -1;
    memcpy(c, s, n);
    c[n] = 0;
    l->v[l->n].s = c;
    l->v[l->n].n = n;
    l->n++;
    return 0;
}

static int dec_bytelevel(struct toklist *l)
{
    struct bpe_sbuf raw = {0}, o = {0};
    int rc = 0;
    for (size_t i = 0; i < l->n && !rc; i++) {
        const char *s = l->v[i].s;
        size_t n = l->v[i].n, k = 0, start = raw.n;
        int ok = 1;
        while (k < n) {
            size_t cl;
            int b = bpe_cp_to_byte(bpe_utf8_next(s + k, n - k, &cl));
            if (b < 0) {
                ok = 0;
                break;
            }
            char c = (char)b;
            if (bpe_sbuf_add(&raw, &c, 1))
                rc = -1;
            k += cl;
        }
        if (!ok) {
            raw.n = start;
            if (bpe_sbuf_add(&raw, s, n))
                rc = -1;
        }
    }
    if (!rc)
        rc = bpe_sbuf_add_lossy(&o, raw.p ? raw.p : "", raw.n) ? -1 : 0;
    toklist_free(l);
    if (!rc)
        rc = toklist_push(l, o.p ? o.p : "", o.n);
    bpe_sbuf_free(&raw);
    bpe_sbuf_free(&o);
    return rc;
}

static int dec_metaspace(struct toklist *l, const struct bpe_dec *d)
{
    char rep[4];
    size_t rl = bpe_utf8_put(d->ch, rep);
    for (size_t i = 0; i < l->n; i++) {
        char *s = l->v[i].s;
        size_t n = l->v[i].n, w = 0, k = 0;
        while (k < n) {
            if (n - k >= rl && memcmp(s + k, rep, rl) == 0) {
                if (!(i == 0 && d->prepend_first))
                    s[w++] = ' ';
                k += rl;
            } else {
                s[w++] = s[k++];
            }
        }
        s[w] = 0;
        l->v[i].n = w;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int flush_bytes(struct toklist *nl, struct bpe_sbuf *bytes)
{
    if (!bytes->n)
        return 0;
    int rc = 0;
    if (bpe_utf8_valid_prefix(bytes->p, bytes->n) == bytes->n) {
        rc = toklist_push(nl, bytes->p, bytes->n);
    } else {
        /* HF emits one U+FFFD per byte when the run is not valid UTF-8 */
        for (size_t k = 0; k < bytes->n && !rc; k++)
            rc = toklist_push(nl, "\xEF\xBF\xBD", 3);
    }
    bytes->n = 0;
    return rc;
}

static int dec_bytefallback(struct toklist *l)
{
    struct toklist nl = {0};
    struct bpe_sbuf bytes = {0};
    int rc = 0;
    for (size_t i = 0; i < l->n && !rc; i++) {
        const char *s = l->v[i].s;
        if (l->v[i].n == 6 && !memcmp(s, "<0x", 3) && s[5] == '>' && hexval(s[3]) >= 0 &&
            hexval(s[4]) >= 0) {
            char b = (char)(hexval(s[3]) * 16 + hexval(s[4]));
            rc = bpe_sbuf_add(&bytes, &b, 1) ? -1 : 0;
            continue;
        }
        rc = flush_bytes(&nl, &bytes);
        if (!rc)
            rc = toklist_push(&nl, s, l->v[i].n);
    }
    if (!rc)
        rc = flush_bytes(&nl, &bytes);
    bpe_sbuf_free(&bytes);
    toklist_free(l);
    *l = nl;
    return rc;
}

static int dec_fuse(struct toklist *l)
{
    struct bpe_sbuf o = {0};
    int rc = 0;
    for (size_t i = 0; i < l->n && !rc; i++)
        rc = bpe_sbuf_add(&o, l->v[i].s, l->v[i].n) ? -1 : 0;
    toklist_free(l);
    if (!rc)
        rc = toklist_push(l, o.p ? o.p : "", o.n);
    bpe_sbuf_free(&o);
    return rc;
}

static int dec_strip(struct toklist *l, const struct bpe_dec *d)
{
    char c[4];
    size_t cl = bpe_utf8_put(d->ch, c);
    for (size_t i = 0; i < l->n; i++) {
        char *s = l->v[i].s;
        size_t n = l->v[i].n, b = 0, e = n;
        for (size_t k = 0; k < d->start && e - b >= cl && !memcmp(s + b, c, cl); k++)
            b += cl;
        for (size_t k = 0; k < d->stop && e - b >= cl && !memcmp(s + e - cl, c, cl); k++)
            e -= cl;
        memmove(s, s + b, e - b);
        s[e - b] = 0;
        l->v[i].n = e - b;
    }
    return 0;
}

static int dec_replace(struct toklist *l, const struct bpe_dec *d, pcre2_match_data *md)
{
    struct bpe_sbuf o = {0};
    int rc = 0;
    for (size_t i = 0; i < l->n && !rc; i++) {
        if (bpe_replace_all(&d->re, md, d->content, d->content_len, l->v[i].s, l->v[i].n, &o) !=
            MVOT_OK) {
            rc = -1;
            break;
        }
        char *c = malloc(o.n + 1);
        if (!c) {
            rc = -1;
            break;
        }
        memcpy(c, o.p ? o.p : "", o.n);
        c[o.n] = 0;
        free(l->v[i].s);
        l->v[i].s = c;
        l->v[i].n = o.n;
    }
    bpe_sbuf_free(&o);
    return rc;
}

enum mvot_status mvot_bpe_decode(const struct mvot_bpe *tok, const int32_t *ids, size_t n,
                                 int skip_special, char **out, struct mvot_error *err)
{
    size_t len;
    return mvot_bpe_decode_n(tok, ids, n, skip_special, out, &len, err);
}

enum mvot_status mvot_bpe_decode_n(const struct mvot_bpe *tok, const int32_t *ids, size_t n,
                                   int skip_special, char **out, size_t *out_len,
                                   struct mvot_error *err)
{
    struct toklist l = {0};
    struct bpe_sbuf o = {0};
    pcre2_match_data *md = NULL;
    int rc = 0;
    *out = NULL;
    for (size_t i = 0; i < n && !rc; i++) {
        int32_t id = ids[i];
        /* unknown ids are skipped, as HF does */
        if (id < 0 || (uint32_t)id >= tok->vocab_size || !tok->id_str[id])
            continue;
        if (skip_special && tok->id_special[id])
            continue;
        rc = toklist_push(&l, tok->id_str[id], tok->id_len[id]);
    }
    if (!rc && tok->has_decoder) {
        md = pcre2_match_data_create(1, NULL);
        rc = md ? 0 : -1;
        for (size_t k = 0; k < tok->ndecs && !rc; k++) {
            const struct bpe_dec *d = &tok->decs[k];
            switch (d->kind) {
            case BPE_D_BYTELEVEL: rc = dec_bytelevel(&l); break;
            case BPE_D_METASPACE: rc = dec_metaspace(&l, d); break;
            case BPE_D_BYTEFALLBACK: rc = dec_bytefallback(&l); break;
            case BPE_D_FUSE: rc = dec_fuse(&l); break;
            case BPE_D_STRIP: rc = dec_strip(&l, d); break;
            case BPE_D_REPLACE: rc = dec_replace(&l, d, md); break;
            }
        }
    }
    for (size_t i = 0; i < l.n && !rc; i++) {
        if (!tok->has_decoder && i > 0)
            rc = bpe_sbuf_add(&o, " ", 1) ? -1 : 0;
        if (!rc)
            rc = bpe_sbuf_add(&o, l.v[i].s, l.v[i].n) ? -1 : 0;
    }
    if (!rc)
        rc = bpe_sbuf_add(&o, "", 1) ? -1 : 0;
    pcre2_match_data_free(md);
    toklist_free(&l);
    if (rc) {
        bpe_sbuf_free(&o);
        return mvot_error_set(err, MVOT_ERR_NOMEM, tok->name, "out of memory decoding %zu ids", n);
    }
    *out = o.p;
    *out_len = o.n - 1;
    return MVOT_OK;
}
