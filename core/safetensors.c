/* safetensors reader and writer. The reader trusts nothing in the header: every length and
 * offset is checked against the bytes that exist before use. */
#include "core/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io.h"
#include "core/json.h"

#define ST_MAX_HEADER ((uint64_t)100 << 20) /* the reference implementation's own cap */

struct mvot_safetensors {
    char *path;
    void *map;
    size_t map_len;
    const uint8_t *data;
    size_t len;
    json_t *header;
    struct mvot_tensor *t;
    size_t n;
};

size_t mvot_dtype_size(enum mvot_dtype dt)
{
    switch (dt) {
    case MVOT_DT_F32:
    case MVOT_DT_I32: return 4;
    case MVOT_DT_F16:
    case MVOT_DT_BF16:
    case MVOT_DT_U16: return 2;
    case MVOT_DT_I64: return 8;
    case MVOT_DT_U8: return 1;
    }
    return 0;
}

const char *mvot_dtype_name(enum mvot_dtype dt)
{
    switch (dt) {
    case MVOT_DT_F32: return "F32";
    case MVOT_DT_F16: return "F16";
    case MVOT_DT_BF16: return "BF16";
    case MVOT_DT_I32: return "I32";
    case MVOT_DT_I64: return "I64";
    case MVOT_DT_U8: return "U8";
    case MVOT_DT_U16: return "U16";
    }
    return "?";
}

static int parse_dtype(const char *s, enum mvot_dtype *out)
{
    static const enum mvot_dtype all[] = {MVOT_DT_F32, MVOT_DT_F16, MVOT_DT_BF16, MVOT_DT_I32,
                                          MVOT_DT_I64, MVOT_DT_U8,  MVOT_DT_U16};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, mvot_dtype_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return -1;
}

int64_t mvot_tensor_numel(const struct mvot_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

static int cmp_offset(const void *a, const void *b)
{
    const struct mvot_tensor *x = a, *y = b;
    return x->data < y->data ? -1 : x->data > y->data;
}

static enum mvot_status parse(struct mvot_safetensors *st, struct mvot_error *err)
{
    const char *name = st->path;
    enum mvot_status s = MVOT_OK;
    if (st->len < 8)
        return mvot_error_corrupt(err, name, 0, "file too short for a safetensors header");
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | st->data[i];
    /* An index JSON given where a checkpoint file belongs would otherwise read as an absurd
     * length; say what it is (core/checkpoint.h opens index files). */
    if ((hlen > ST_MAX_HEADER || hlen > st->len - 8) && st->data[0] == '{')
        return mvot_error_corrupt(err, name, 0,
                                  "a JSON file (a model.safetensors.index.json?), not safetensors");
    if (hlen > ST_MAX_HEADER)
        return mvot_error_corrupt(err, name, 0,
                                  "header length %" PRIu64 " exceeds the safetensors header cap "
                                  "of %" PRIu64 " bytes (100 MiB)",
                                  hlen, ST_MAX_HEADER);
    if (hlen > st->len - 8)
        return mvot_error_corrupt(err, name, 0,
                                  "header length %" PRIu64 " exceeds the %zu bytes that follow",
                                  hlen, st->len - 8);
    s = mvot_json_load_buf((const char *)st->data + 8, (size_t)hlen, name, &st->header, err);
    if (s != MVOT_OK)
        return s;
    if (!json_is_object(st->header))
        return mvot_error_corrupt(err, name, 8, "header is not a JSON object");
    const uint8_t *base = st->data + 8 + hlen;
    size_t dlen = st->len - 8 - (size_t)hlen;
    size_t cap = json_object_size(st->header);
    st->t = calloc(cap ? cap : 1, sizeof *st->t);
    if (!st->t)
        return mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
    const char *key;
    json_t *v;
    json_object_foreach(st->header, key, v)
    {
        if (strcmp(key, "__metadata__") == 0) {
            const char *mk;
            json_t *mv;
            if (!json_is_object(v))
                return mvot_error_corrupt(err, name, 8, "__metadata__ is not an object");
            json_object_foreach(v, mk, mv) if (!json_is_string(mv)) return mvot_error_corrupt(
                err, name, 8, "__metadata__.%s is not a string", mk);
            continue;
        }
        struct mvot_tensor *t = &st->t[st->n];
        const char *dts;
        json_t *shape, *offs;
        if (!json_is_object(v) || !json_is_string(json_object_get(v, "dtype")) ||
            !json_is_array(shape = json_object_get(v, "shape")) ||
            !json_is_array(offs = json_object_get(v, "data_offsets")) || json_array_size(offs) != 2)
            return mvot_error_corrupt(err, name, 8,
                                      "tensor %s: needs dtype, shape and data_offsets[2]", key);
        dts = json_string_value(json_object_get(v, "dtype"));
        if (parse_dtype(dts, &t->dtype) != 0)
            return mvot_error_set(err, MVOT_ERR_UNSUPPORTED, name,
                                  "tensor %s: unsupported dtype %s", key, dts);
        if (json_array_size(shape) > MVOT_ST_MAX_DIMS)
            return mvot_error_corrupt(err, name, 8, "tensor %s: more than %d dimensions", key,
                                      MVOT_ST_MAX_DIMS);
        t->ndim = (int)json_array_size(shape);
        uint64_t numel = 1;
        for (int i = 0; i < t->ndim; i++) {
            json_t *d = json_array_get(shape, (size_t)i);
            if (!json_is_integer(d) || json_integer_value(d) < 0)
                return mvot_error_corrupt(err, name, 8, "tensor %s: bad shape entry %d", key, i);
            t->shape[i] = json_integer_value(d);
            uint64_t dim = (uint64_t)t->shape[i];
            if (dim && numel > UINT64_MAX / dim)
                return mvot_error_corrupt(err, name, 8, "tensor %s: shape overflows", key);
            numel *= dim;
        }
        json_t *b0 = json_array_get(offs, 0), *b1 = json_array_get(offs, 1);
        if (!json_is_integer(b0) || !json_is_integer(b1) || json_integer_value(b0) < 0 ||
            json_integer_value(b1) < json_integer_value(b0))
            return mvot_error_corrupt(err, name, 8, "tensor %s: bad data_offsets", key);
        uint64_t begin = (uint64_t)json_integer_value(b0), end = (uint64_t)json_integer_value(b1);
        if (end > dlen)
            return mvot_error_corrupt(err, name, 8 + (int64_t)hlen,
                                      "tensor %s: data [%" PRIu64 ", %" PRIu64
                                      ") runs past the %zu data bytes",
                                      key, begin, end, dlen);
        size_t es = mvot_dtype_size(t->dtype);
        if (numel > UINT64_MAX / es || numel * es != end - begin)
            return mvot_error_corrupt(err, name, 8,
                                      "tensor %s: %" PRIu64 " bytes do not match shape x %s", key,
                                      end - begin, dts);
        t->name = key;
        t->data = base + begin;
        t->nbytes = (size_t)(end - begin);
        st->n++;
    }
    /* Overlapping tensors would let one write alias another; the format forbids them. */
    struct mvot_tensor *sorted = malloc((st->n ? st->n : 1) * sizeof *sorted);
    if (!sorted)
        return mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
    memcpy(sorted, st->t, st->n * sizeof *sorted);
    qsort(sorted, st->n, sizeof *sorted, cmp_offset);
    for (size_t i = 1; i < st->n; i++)
        if (sorted[i].data < sorted[i - 1].data + sorted[i - 1].nbytes) {
            s = mvot_error_corrupt(err, name, 8, "tensors %s and %s overlap", sorted[i - 1].name,
                                   sorted[i].name);
            break;
        }
    free(sorted);
    return s;
}

enum mvot_status mvot_st_open_mem(const uint8_t *data, size_t len, const char *name,
                                  struct mvot_safetensors **out, struct mvot_error *err)
{
    *out = NULL;
    struct mvot_safetensors *st = calloc(1, sizeof *st);
    if (!st)
        return mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
    st->path = mvot_strdupf("%s", name ? name : "<memory>");
    st->data = data;
    st->len = len;
    enum mvot_status s = st->path ? parse(st, err) : MVOT_ERR_NOMEM;
    if (s != MVOT_OK) {
        mvot_st_close(st);
        return s;
    }
    *out = st;
    return MVOT_OK;
}

enum mvot_status mvot_st_open(const char *path, struct mvot_safetensors **out,
                              struct mvot_error *err)
{
    *out = NULL;
    int fd = mvot_io_open_input(path, err);
    if (fd < 0)
        return MVOT_ERR_IO;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size < 0) {
        close(fd);
        return mvot_error_set(err, MVOT_ERR_IO, path, "cannot stat: %s", strerror(errno));
    }
    size_t len = (size_t)sb.st_size;
    void *map = NULL;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            close(fd);
            return mvot_error_set(err, MVOT_ERR_IO, path, "mmap failed: %s", strerror(errno));
        }
    }
    close(fd);
    static const uint8_t empty[1];
    enum mvot_status s = mvot_st_open_mem(map ? map : empty, len, path, out, err);
    if (s != MVOT_OK) {
        if (map)
            munmap(map, len);
        return s;
    }
    (*out)->map = map;
    (*out)->map_len = len;
    return MVOT_OK;
}

void mvot_st_close(struct mvot_safetensors *st)
{
    if (!st)
        return;
    if (st->map)
        munmap(st->map, st->map_len);
    json_decref(st->header);
    free(st->t);
    free(st->path);
    free(st);
}

size_t mvot_st_count(const struct mvot_safetensors *st)
{
    return st->n;
}

const struct mvot_tensor *mvot_st_at(const struct mvot_safetensors *st, size_t i)
{
    return i < st->n ? &st->t[i] : NULL;
}

const struct mvot_tensor *mvot_st_find(const struct mvot_safetensors *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->t[i].name, name) == 0)
            return &st->t[i];
    return NULL;
}

const json_t *mvot_st_metadata(const struct mvot_safetensors *st)
{
    return json_object_get(st->header, "__metadata__");
}

const char *mvot_st_path(const struct mvot_safetensors *st)
{
    return st->path;
}

float mvot_bf16_to_f32(uint16_t v)
{
    uint32_t u = (uint32_t)v << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t mvot_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it a quiet NaN */
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

float mvot_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { /* subnormal: normalize */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) {
                man <<= 1;
                exp--;
            }
            man &= 0x3ff;
            u = sign | exp << 23 | man << 13;
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | man << 13;
    } else {
        u = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

enum mvot_status mvot_tensor_to_f32(const struct mvot_tensor *t, float *out, struct mvot_error *err)
{
    size_t n = (size_t)mvot_tensor_numel(t);
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case MVOT_DT_F32: memcpy(out, p, n * 4); return MVOT_OK;
    case MVOT_DT_BF16:
        for (size_t i = 0; i < n; i++)
            out[i] = mvot_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return MVOT_OK;
    case MVOT_DT_F16:
        for (size_t i = 0; i < n; i++)
            out[i] = mvot_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        return MVOT_OK;
    default:
        return mvot_error_set(err, MVOT_ERR_UNSUPPORTED, NULL,
                              "tensor %s: dtype %s is not a float type", t->name,
                              mvot_dtype_name(t->dtype));
    }
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t o = 0;
    o += (size_t)snprintf(buf + o, cap - o, "[");
    for (int i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (o < cap)
        snprintf(buf + o, cap - o, "]");
}

enum mvot_status mvot_tensor_expect_shape(const struct mvot_tensor *t, int ndim,
                                          const int64_t *shape, const char *file,
                                          struct mvot_error *err)
{
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = t->shape[i] == shape[i];
    if (ok)
        return MVOT_OK;
    char want[128], got[128];
    shape_str(want, sizeof want, ndim, shape);
    shape_str(got, sizeof got, t->ndim, t->shape);
    return mvot_error_set(err, MVOT_ERR_MISMATCH, file, "tensor %s: expected shape %s, found %s",
                          t->name, want, got);
}

enum mvot_status mvot_st_write(const char *path, const struct mvot_tensor_out *tensors, size_t n,
                               const json_t *metadata, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *hdr = json_object();
    char *hs = NULL;
    struct mvot_atomic_file af = {0};
    uint64_t off = 0;
    MVOT_FAIL_IF(!hdr, err, MVOT_ERR_NOMEM, path, "out of memory");
    if (metadata)
        json_object_set_new(hdr, "__metadata__", json_deep_copy(metadata));
    for (size_t i = 0; i < n; i++) {
        const struct mvot_tensor_out *t = &tensors[i];
        json_t *shape = json_array();
        uint64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) {
            json_array_append_new(shape, json_integer(t->shape[d]));
            numel *= (uint64_t)t->shape[d];
        }
        uint64_t bytes = numel * mvot_dtype_size(t->dtype);
        json_object_set_new(hdr, t->name,
                            json_pack("{s:s, s:o, s:[I,I]}", "dtype", mvot_dtype_name(t->dtype),
                                      "shape", shape, "data_offsets", (json_int_t)off,
                                      (json_int_t)(off + bytes)));
        off += bytes;
    }
    hs = mvot_json_dumps(hdr);
    MVOT_FAIL_IF(!hs, err, MVOT_ERR_NOMEM, path, "out of memory");
    size_t hl = strlen(hs);
    size_t padded = (hl + 7) & ~(size_t)7; /* align tensor data to 8 bytes, padded with spaces */
    MVOT_TRY(mvot_atomic_open(&af, path, err));
    uint8_t len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    MVOT_TRY(mvot_io_write_all(af.fp, len8, 8, path, err));
    MVOT_TRY(mvot_io_write_all(af.fp, hs, hl, path, err));
    MVOT_TRY(mvot_io_write_all(af.fp, "        ", padded - hl, path, err));
    for (size_t i = 0; i < n; i++) {
        const struct mvot_tensor_out *t = &tensors[i];
        uint64_t numel = 1;
        for (int d = 0; d < t->ndim; d++)
            numel *= (uint64_t)t->shape[d];
        MVOT_TRY(mvot_io_write_all(af.fp, t->data, numel * mvot_dtype_size(t->dtype), path, err));
    }
    st = mvot_atomic_commit(&af, err);
cleanup:
    if (st != MVOT_OK)
        mvot_atomic_abort(&af);
    free(hs);
    json_decref(hdr);
    return st;
}
