/* .npy format 1.0: "\x93NUMPY", version 1.0, u16 header length, a Python-dict header padded
 * with spaces to a multiple of 64 bytes (numpy's own alignment) and ending in '\n'. */
#include "core/npy.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

size_t mvot_npy_itemsize(const char *descr)
{
    static const struct {
        const char *d;
        size_t s;
    } t[] = {{"<u2", 2}, {"<u4", 4}, {"<i4", 4}, {"<i8", 8}, {"<f4", 4}, {"|u1", 1}, {"<i2", 2}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(descr, t[i].d) == 0)
            return t[i].s;
    return 0;
}

enum mvot_status mvot_npy_encode(struct mvot_buf *out, const char *descr, int ndim,
                                 const uint64_t *shape, const void *data)
{
    size_t item = mvot_npy_itemsize(descr);
    if (!item || ndim < 0 || ndim > 4)
        return MVOT_ERR_INVALID;
    char hdr[256];
    int o = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    uint64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        o += snprintf(hdr + o, sizeof hdr - (size_t)o, "%" PRIu64 ",%s", shape[i],
                      i + 1 < ndim ? " " : "");
        numel *= shape[i];
    }
    if (ndim > 1) /* numpy writes (3,) for 1-D but (2, 3) without the trailing comma */
        o--;
    o += snprintf(hdr + o, sizeof hdr - (size_t)o, "), }");
    size_t total = 10 + (size_t)o + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)o + pad + 1;
    uint8_t pre[10] = {
        0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)(hlen & 0xff), (uint8_t)(hlen >> 8)};
    enum mvot_status st = mvot_buf_append(out, pre, 10);
    if (st == MVOT_OK)
        st = mvot_buf_append(out, hdr, (size_t)o);
    for (size_t i = 0; st == MVOT_OK && i < pad; i++)
        st = mvot_buf_append(out, " ", 1);
    if (st == MVOT_OK)
        st = mvot_buf_append(out, "\n", 1);
    if (st == MVOT_OK)
        st = mvot_buf_append(out, data, (size_t)numel * item);
    return st;
}

/* Finds "'key': " in the header and returns the text after it, or NULL. */
static const char *find_key(const char *h, size_t hl, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl <= hl; i++)
        if (memcmp(h + i, key, kl) == 0)
            return h + i + kl;
    return NULL;
}

enum mvot_status mvot_npy_parse(const uint8_t *buf, size_t len, const char *name,
                                struct mvot_npy *out, struct mvot_error *err)
{
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return mvot_error_corrupt(err, name, 0, "not a .npy array (bad magic)");
    if (buf[6] != 1)
        return mvot_error_corrupt(err, name, 6, "unsupported .npy version %u", buf[6]);
    size_t hl = (size_t)buf[8] | (size_t)buf[9] << 8;
    if (hl > len - 10 || hl > 1024)
        return mvot_error_corrupt(err, name, 8, "header length %zu runs past the data", hl);
    char h[1025];
    memcpy(h, buf + 10, hl);
    h[hl] = 0;
    const char *d = find_key(h, hl, "'descr': '");
    const char *f = find_key(h, hl, "'fortran_order': ");
    const char *s = find_key(h, hl, "'shape': (");
    if (!d || !f || !s)
        return mvot_error_corrupt(err, name, 10, "header lacks descr, fortran_order or shape");
    size_t i = 0;
    while (d[i] && d[i] != '\'' && i < sizeof out->descr - 1) {
        out->descr[i] = d[i];
        i++;
    }
    out->descr[i] = 0;
    size_t item = mvot_npy_itemsize(out->descr);
    if (!item)
        return mvot_error_corrupt(err, name, 10, "unsupported dtype '%s'", out->descr);
    if (strncmp(f, "False", 5) != 0)
        return mvot_error_corrupt(err, name, 10, "Fortran-order arrays are not supported");
    uint64_t numel = 1;
    for (const char *p = s; *p && *p != ')';) {
        if (*p == ' ' || *p == ',') {
            p++;
            continue;
        }
        if (*p < '0' || *p > '9' || out->ndim >= 4)
            return mvot_error_corrupt(err, name, 10, "bad shape in header");
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            if (v > (UINT64_MAX - 9) / 10)
                return mvot_error_corrupt(err, name, 10, "shape overflows");
            v = v * 10 + (uint64_t)(*p++ - '0');
        }
        if (v && numel > UINT64_MAX / v)
            return mvot_error_corrupt(err, name, 10, "shape overflows");
        out->shape[out->ndim++] = v;
        numel *= v;
    }
    size_t dl = len - 10 - hl;
    if (numel > UINT64_MAX / item || numel * item != dl)
        return mvot_error_corrupt(err, name, (int64_t)(10 + hl),
                                  "data is %zu bytes, shape needs %" PRIu64, dl, numel * item);
    out->data = buf + 10 + hl;
    out->nbytes = dl;
    return MVOT_OK;
}

enum mvot_status mvot_npy_write_file(const char *path, const char *descr, int ndim,
                                     const uint64_t *shape, const void *data,
                                     struct mvot_error *err)
{
    struct mvot_buf b;
    mvot_buf_init(&b, 0);
    enum mvot_status st = mvot_npy_encode(&b, descr, ndim, shape, data);
    if (st != MVOT_OK)
        st = mvot_error_set(err, st, path, "cannot encode .npy");
    else
        st = mvot_io_write_file(path, b.data, b.len, err);
    mvot_buf_free(&b);
    return st;
}
