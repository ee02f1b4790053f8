/* Codebook files: load and save (docs/codebook-format.md, format version 1).
 *
 * A codebook file is safetensors with exactly one tensor, "codebook" [K, D], and string
 * metadata (format, format_version, kind, patch, image_size, K, D, seed, data_hash, stats).
 * Patch codebooks store U8 pixels (every code is a real 16x16 RGB patch, which keeps nearest
 * code search exact in float32, see codebook/assign.h); VQGAN codebooks store F32 latents
 * (F16/BF16 are accepted on load). The loader trusts nothing: every metadata number is
 * parsed strictly and checked against the tensor's shape and dtype, and each failure class
 * has its own one-line message. */
#include "codebook/codebook.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/safetensors.h"

#define CB_FORMAT "mvot-codebook"
#define CB_VERSION 1
#define CB_TENSOR "codebook"
#define CB_MAX_K (1u << 20)
#define CB_MAX_D (1u << 16)

/* Strict unsigned decimal: digits only, no sign or spaces, at most max. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s || strlen(s) > 20)
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

static enum mvot_status meta_str(const json_t *meta, const char *key, const char *path,
                                 const char **out, struct mvot_error *err)
{
    const json_t *v = json_object_get(meta, key);
    if (!v)
        return mvot_error_corrupt(err, path, -1, "__metadata__ lacks \"%s\"", key);
    *out = json_string_value(v); /* the safetensors reader guarantees string values */
    return MVOT_OK;
}

static enum mvot_status meta_u64(const json_t *meta, const char *key, const char *path,
                                 uint64_t max, uint64_t *out, struct mvot_error *err)
{
    const char *s = NULL;
    enum mvot_status st = meta_str(meta, key, path, &s, err);
    if (st != MVOT_OK)
        return st;
    if (parse_u64(s, max, out) != 0)
        return mvot_error_corrupt(err, path, -1,
                                  "__metadata__.%s = \"%s\" is not a decimal integer <= %" PRIu64,
                                  key, s, max);
    return MVOT_OK;
}

void mvot_codebook_free(struct mvot_codebook *cb)
{
    if (!cb)
        return;
    free(cb->vec);
    json_decref(cb->stats);
    memset(cb, 0, sizeof *cb);
}

static enum mvot_status load_tensor(const struct mvot_tensor *t, struct mvot_codebook *cb,
                                    const char *path, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    if (t->ndim != 2 || t->shape[0] != (int64_t)cb->K || t->shape[1] != (int64_t)cb->D) {
        int64_t want[2] = {cb->K, cb->D};
        return mvot_tensor_expect_shape(t, 2, want, path, err);
    }
    size_t n = (size_t)cb->K * cb->D;
    cb->vec = malloc(n * sizeof *cb->vec);
    if (!cb->vec)
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory for %zu floats", n);
    if (cb->kind == MVOT_CB_PATCH) {
        if (t->dtype != MVOT_DT_U8)
            return mvot_error_set(err, MVOT_ERR_UNSUPPORTED, path,
                                  "tensor " CB_TENSOR ": a patch codebook must be U8, found %s",
                                  mvot_dtype_name(t->dtype));
        for (size_t i = 0; i < n; i++)
            cb->vec[i] = (float)t->data[i];
        return MVOT_OK;
    }
    if (t->dtype != MVOT_DT_F32 && t->dtype != MVOT_DT_F16 && t->dtype != MVOT_DT_BF16)
        return mvot_error_set(err, MVOT_ERR_UNSUPPORTED, path,
                              "tensor " CB_TENSOR ": a vqgan codebook must be F32, F16 or BF16, "
                              "found %s",
                              mvot_dtype_name(t->dtype));
    st = mvot_tensor_to_f32(t, cb->vec, err);
    if (st != MVOT_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(cb->vec[i]))
            return mvot_error_corrupt(err, path, -1,
                                      "tensor " CB_TENSOR ": non-finite value at code %zu, dim %zu",
                                      i / cb->D, i % cb->D);
    return MVOT_OK;
}

/* Validates an opened file and fills out (file_hash is left to the caller). */
static enum mvot_status load_st(const struct mvot_safetensors *sf, struct mvot_codebook *out,
                                struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_codebook cb = {0};
    const char *s = NULL;
    const char *path = mvot_st_path(sf);
    uint64_t v;
    const json_t *meta = mvot_st_metadata(sf);
    MVOT_CORRUPT_IF(!meta, err, path,
                    "no __metadata__: not an mvot codebook (a VQGAN checkpoint? use "
                    "`mvot codebook import`)");
    MVOT_TRY(meta_str(meta, "format", path, &s, err));
    MVOT_CORRUPT_IF(strcmp(s, CB_FORMAT) != 0, err, path,
                    "__metadata__.format is \"%s\", expected \"" CB_FORMAT "\"", s);
    MVOT_TRY(meta_u64(meta, "format_version", path, UINT32_MAX, &v, err));
    MVOT_FAIL_IF(v != CB_VERSION, err, MVOT_ERR_UNSUPPORTED, path,
                 "codebook format version %" PRIu64 " is not supported (this build reads %d)", v,
                 CB_VERSION);
    MVOT_TRY(meta_str(meta, "kind", path, &s, err));
    if (strcmp(s, "patch") == 0)
        cb.kind = MVOT_CB_PATCH;
    else if (strcmp(s, "vqgan") == 0)
        cb.kind = MVOT_CB_VQGAN;
    else
        MVOT_CORRUPT_IF(1, err, path,
                        "__metadata__.kind is \"%s\", expected \"patch\" or \"vqgan\"", s);
    MVOT_TRY(meta_u64(meta, "K", path, CB_MAX_K, &v, err));
    MVOT_CORRUPT_IF(v == 0, err, path, "__metadata__.K is 0");
    cb.K = (uint32_t)v;
    MVOT_TRY(meta_u64(meta, "D", path, CB_MAX_D, &v, err));
    MVOT_CORRUPT_IF(v == 0, err, path, "__metadata__.D is 0");
    cb.D = (uint32_t)v;
    MVOT_TRY(meta_u64(meta, "patch", path, MVOT_CODEBOOK_MAX_PATCH, &v, err));
    cb.patch = (uint32_t)v;
    MVOT_TRY(meta_u64(meta, "image_size", path, 16384, &v, err));
    cb.image_size = (uint32_t)v;
    MVOT_TRY(meta_u64(meta, "seed", path, UINT64_MAX, &cb.seed, err));
    MVOT_TRY(meta_str(meta, "data_hash", path, &s, err));
    MVOT_CORRUPT_IF(mvot_hash_parse_hex(s, &cb.data_hash) != 0, err, path,
                    "__metadata__.data_hash \"%s\" is not 16 hex digits", s);
    if (cb.kind == MVOT_CB_PATCH) {
        MVOT_CORRUPT_IF(cb.patch == 0, err, path, "__metadata__.patch is 0 for a patch codebook");
        MVOT_FAIL_IF(cb.D != cb.patch * cb.patch * 3, err, MVOT_ERR_MISMATCH, path,
                     "D = %" PRIu32 " does not match patch %" PRIu32 " (patch*patch*3 = %" PRIu32
                     ")",
                     cb.D, cb.patch, cb.patch * cb.patch * 3);
        MVOT_FAIL_IF(cb.image_size && cb.image_size % cb.patch, err, MVOT_ERR_MISMATCH, path,
                     "image_size %" PRIu32 " is not a multiple of patch %" PRIu32, cb.image_size,
                     cb.patch);
    } else {
        MVOT_CORRUPT_IF(cb.patch != 0, err, path,
                        "__metadata__.patch must be 0 for a vqgan codebook");
    }
    MVOT_TRY(meta_str(meta, "stats", path, &s, err));
    {
        struct mvot_error jerr = {0};
        if (mvot_json_load_buf(s, strlen(s), "stats", &cb.stats, &jerr) != MVOT_OK ||
            !json_is_object(cb.stats))
            MVOT_CORRUPT_IF(1, err, path, "__metadata__.stats is not a JSON object: %s", jerr.msg);
    }
    const struct mvot_tensor *t = mvot_st_find(sf, CB_TENSOR);
    MVOT_FAIL_IF(!t, err, MVOT_ERR_NOTFOUND, path, "tensor \"" CB_TENSOR "\" is missing");
    MVOT_CORRUPT_IF(mvot_st_count(sf) != 1, err, path,
                    "%zu tensors, expected only \"" CB_TENSOR "\"", mvot_st_count(sf));
    MVOT_TRY(load_tensor(t, &cb, path, err));
    *out = cb;
    memset(&cb, 0, sizeof cb);
cleanup:
    mvot_codebook_free(&cb);
    return st;
}

enum mvot_status mvot_codebook_load(const char *path, struct mvot_codebook *out,
                                    struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_safetensors *sf = NULL;
    memset(out, 0, sizeof *out);
    MVOT_TRY(mvot_st_open(path, &sf, err));
    MVOT_TRY(load_st(sf, out, err));
    st = mvot_hash_file(path, &out->file_hash, err);
cleanup:
    if (st != MVOT_OK)
        mvot_codebook_free(out);
    mvot_st_close(sf);
    return st;
}

enum mvot_status mvot_codebook_load_mem(const uint8_t *data, size_t len, const char *name,
                                        struct mvot_codebook *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_safetensors *sf = NULL;
    memset(out, 0, sizeof *out);
    MVOT_TRY(mvot_st_open_mem(data, len, name, &sf, err));
    MVOT_TRY(load_st(sf, out, err));
    out->file_hash = mvot_hash64(data, len);
cleanup:
    mvot_st_close(sf);
    return st;
}

/* Metadata as written; the key set is docs/codebook-format.md's table (checked by a test). */
static json_t *build_metadata(const struct mvot_codebook *cb)
{
    char buf[32], hex[17];
    json_t *m = json_object();
    if (!m)
        return NULL;
    char *stats = cb->stats ? mvot_json_dumps(cb->stats) : NULL;
    json_object_set_new(m, "format", json_string(CB_FORMAT));
    snprintf(buf, sizeof buf, "%d", CB_VERSION);
    json_object_set_new(m, "format_version", json_string(buf));
    json_object_set_new(m, "kind", json_string(mvot_codebook_kind_name(cb->kind)));
    snprintf(buf, sizeof buf, "%" PRIu32, cb->patch);
    json_object_set_new(m, "patch", json_string(buf));
    snprintf(buf, sizeof buf, "%" PRIu32, cb->image_size);
    json_object_set_new(m, "image_size", json_string(buf));
    snprintf(buf, sizeof buf, "%" PRIu32, cb->K);
    json_object_set_new(m, "K", json_string(buf));
    snprintf(buf, sizeof buf, "%" PRIu32, cb->D);
    json_object_set_new(m, "D", json_string(buf));
    snprintf(buf, sizeof buf, "%" PRIu64, cb->seed);
    json_object_set_new(m, "seed", json_string(buf));
    mvot_hash_hex(cb->data_hash, hex);
    json_object_set_new(m, "data_hash", json_string(hex));
    json_object_set_new(m, "stats", json_string(stats ? stats : "{}"));
    free(stats);
    return m;
}

enum mvot_status mvot_codebook_save(const char *path, struct mvot_codebook *cb,
                                    struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *meta = NULL;
    uint8_t *u8 = NULL;
    size_t n = (size_t)cb->K * cb->D;
    MVOT_FAIL_IF(cb->K == 0 || cb->K > CB_MAX_K || cb->D == 0 || cb->D > CB_MAX_D || !cb->vec, err,
                 MVOT_ERR_INVALID, path, "bad codebook shape K=%" PRIu32 " D=%" PRIu32, cb->K,
                 cb->D);
    struct mvot_tensor_out t = {CB_TENSOR, MVOT_DT_F32, 2, {cb->K, cb->D}, cb->vec};
    if (cb->kind == MVOT_CB_PATCH) {
        MVOT_FAIL_IF(cb->patch == 0 || cb->patch > MVOT_CODEBOOK_MAX_PATCH ||
                         cb->D != cb->patch * cb->patch * 3,
                     err, MVOT_ERR_INVALID, path,
                     "patch codebook: D = %" PRIu32 " does not match patch %" PRIu32, cb->D,
                     cb->patch);
        u8 = malloc(n);
        MVOT_FAIL_IF(!u8, err, MVOT_ERR_NOMEM, path, "out of memory");
        for (size_t i = 0; i < n; i++) {
            float f = cb->vec[i];
            MVOT_FAIL_IF(!(f >= 0.0f && f <= 255.0f) || f != (float)(int)f, err, MVOT_ERR_INVALID,
                         path, "patch codebook value %g at code %zu is not an integer in [0, 255]",
                         (double)f, i / cb->D);
            u8[i] = (uint8_t)f;
        }
        t.dtype = MVOT_DT_U8;
        t.data = u8;
    } else {
        MVOT_FAIL_IF(cb->patch != 0, err, MVOT_ERR_INVALID, path, "a vqgan codebook has patch 0");
        for (size_t i = 0; i < n; i++)
            MVOT_FAIL_IF(!isfinite(cb->vec[i]), err, MVOT_ERR_INVALID, path,
                         "non-finite value at code %zu", i / cb->D);
    }
    meta = build_metadata(cb);
    MVOT_FAIL_IF(!meta, err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_TRY(mvot_st_write(path, &t, 1, meta, err));
    MVOT_TRY(mvot_hash_file(path, &cb->file_hash, err));
cleanup:
    json_decref(meta);
    free(u8);
    return st;
}

/* ---- names ---- */

const char *mvot_codebook_kind_name(enum mvot_codebook_kind k)
{
    return k == MVOT_CB_PATCH ? "patch" : k == MVOT_CB_VQGAN ? "vqgan" : "?";
}
