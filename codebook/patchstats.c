/* Patch statistics files (patchstats.h, docs/patch-stats-format.md): collect from an episode
 * set, save, read, and merge across gen parts into the training set of the patch k-means.
 *
 * The header is fixed-size and checksummed; the payload is one zstd frame holding the sorted
 * entries (patch bytes, then a little-endian u64 count), with their own XXH3. Reading
 * decompresses with fixed buffers straight into the caller's patch set (no copy of the file
 * in memory), checking on the way that the entries are in strictly increasing canonical
 * order, so a file that passes holds each patch once and merging it is the same as having
 * read its frames. */
#include "codebook/patchstats.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zstd.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/partset.h"
#include "gen/gen.h"

/* Header layout (docs/patch-stats-format.md, "Header"). */
enum {
    H_MAGIC = 0,
    H_VERSION = 8,
    H_HEADER_BYTES = 12,
    H_PATCH = 16,
    H_IMAGE_SIZE = 20,
    H_FRAMES = 24,
    H_PATCHES = 32,
    H_DISTINCT = 40,
    H_ARCHIVE_XXH3 = 48,
    H_ARCHIVE_BYTES = 56,
    H_PART_INDEX = 64,
    H_PART_COUNT = 68,
    H_PLAN_XXH3 = 72,
    H_RUN_XXH3 = 80,
    H_PAYLOAD_XXH3 = 88,
    H_PAYLOAD_BYTES = 96,
    H_RESERVED = 104,
    H_HEADER_XXH3 = 120,
};

/* A part count no gen run reaches (tools/part.h allows 100000): bounds the slot table. */
#define PARTS_MAX 1000000u
/* Entries decompressed at a time: about 1 MiB at p = 16. */
#define READ_BATCH 1024
/* zstd level of the payload: the entries of a grid-style part shrink about 24x at level 3,
 * for a few ms per MB. */
#define PAYLOAD_ZSTD_LEVEL 3
/* Largest zstd window a reader accepts (8 MiB): bounds the decoder's memory whatever the
 * file claims; the writer's level uses 2 MiB. */
#define PAYLOAD_WINDOW_LOG_MAX 23

/* Little-endian fields of n bytes (4 or 8). */
static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int k = 0; k < n; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; k--)
        v = (v << 8) | p[k];
    return v;
}

/* The identity fields: where each sits in the header and in struct mvot_patchstats_info
 * (4-byte fields are uint32_t there, 8-byte ones uint64_t). One table for both directions. */
#define INFO_FIELD(at, size, name)                                \
    {                                                             \
        (at), (size), offsetof(struct mvot_patchstats_info, name) \
    }
static const struct {
    int at, size;
    size_t field;
} info_fields[] = {
    INFO_FIELD(H_PATCH, 4, patch),
    INFO_FIELD(H_IMAGE_SIZE, 4, image_size),
    INFO_FIELD(H_FRAMES, 8, frames),
    INFO_FIELD(H_PATCHES, 8, patches),
    INFO_FIELD(H_DISTINCT, 8, distinct),
    INFO_FIELD(H_ARCHIVE_XXH3, 8, archive_xxh3),
    INFO_FIELD(H_ARCHIVE_BYTES, 8, archive_bytes),
    INFO_FIELD(H_PART_INDEX, 4, part_index),
    INFO_FIELD(H_PART_COUNT, 4, part_count),
    INFO_FIELD(H_PLAN_XXH3, 8, plan_xxh3),
    INFO_FIELD(H_RUN_XXH3, 8, run_xxh3),
    INFO_FIELD(H_PAYLOAD_XXH3, 8, payload_xxh3),
    INFO_FIELD(H_PAYLOAD_BYTES, 8, payload_bytes),
};
#define N_INFO_FIELDS (sizeof info_fields / sizeof info_fields[0])

static void encode_header(const struct mvot_patchstats_info *in,
                          uint8_t h[MVOT_PATCHSTATS_HEADER_BYTES])
{
    memset(h, 0, MVOT_PATCHSTATS_HEADER_BYTES);
    memcpy(h + H_MAGIC, MVOT_PATCHSTATS_MAGIC, 8);
    put_le(h + H_VERSION, MVOT_PATCHSTATS_VERSION, 4);
    put_le(h + H_HEADER_BYTES, MVOT_PATCHSTATS_HEADER_BYTES, 4);
    for (size_t i = 0; i < N_INFO_FIELDS; i++) {
        const uint8_t *f = (const uint8_t *)in + info_fields[i].field;
        uint32_t v32;
        uint64_t v64;
        if (info_fields[i].size == 4) {
            memcpy(&v32, f, 4);
            v64 = v32;
        } else {
            memcpy(&v64, f, 8);
        }
        put_le(h + info_fields[i].at, v64, info_fields[i].size);
    }
    put_le(h + H_HEADER_XXH3, mvot_hash64(h, H_HEADER_XXH3), 8);
}

static void decode_fields(const uint8_t *h, struct mvot_patchstats_info *out)
{
    for (size_t i = 0; i < N_INFO_FIELDS; i++) {
        uint8_t *f = (uint8_t *)out + info_fields[i].field;
        uint64_t v64 = get_le(h + info_fields[i].at, info_fields[i].size);
        uint32_t v32 = (uint32_t)v64;
        if (info_fields[i].size == 4)
            memcpy(f, &v32, 4);
        else
            memcpy(f, &v64, 8);
    }
}

/* Bytes of one stored entry. */
static uint64_t entry_bytes(uint32_t patch)
{
    return (uint64_t)patch * patch * 3 + 8;
}

/* Decodes and checks a header read from a file of file_size bytes (got = bytes read, at most
 * the header size). Every failure names the file and the offset of the bad field. */
static enum mvot_status decode_header(const char *path, const uint8_t *h, size_t got,
                                      uint64_t file_size, struct mvot_patchstats_info *out,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_patchstats_info in;
    memset(&in, 0, sizeof in);
    if (got < 8 || memcmp(h, MVOT_PATCHSTATS_MAGIC, 8) != 0)
        return mvot_error_corrupt(err, path, 0, "not a patch statistics file (magic)");
    if (got < MVOT_PATCHSTATS_HEADER_BYTES)
        return mvot_error_corrupt(err, path, (int64_t)got,
                                  "truncated: the file ends inside the %d-byte header",
                                  MVOT_PATCHSTATS_HEADER_BYTES);
    uint32_t version = (uint32_t)get_le(h + H_VERSION, 4);
    if (version != MVOT_PATCHSTATS_VERSION) {
        st = mvot_error_set(err, MVOT_ERR_UNSUPPORTED, path,
                            "offset %d: format version %u (this build reads %d)", H_VERSION,
                            version, MVOT_PATCHSTATS_VERSION);
        return st;
    }
    if ((uint32_t)get_le(h + H_HEADER_BYTES, 4) != MVOT_PATCHSTATS_HEADER_BYTES)
        return mvot_error_corrupt(err, path, H_HEADER_BYTES, "header size %u, want %d",
                                  (uint32_t)get_le(h + H_HEADER_BYTES, 4),
                                  MVOT_PATCHSTATS_HEADER_BYTES);
    if (mvot_hash64(h, H_HEADER_XXH3) != get_le(h + H_HEADER_XXH3, 8))
        return mvot_error_corrupt(err, path, H_HEADER_XXH3, "header checksum mismatch");
    for (int k = H_RESERVED; k < H_HEADER_XXH3; k++)
        if (h[k])
            return mvot_error_corrupt(err, path, k, "reserved byte is not zero");
    decode_fields(h, &in);
    if (in.patch == 0 || in.patch > 64)
        return mvot_error_corrupt(err, path, H_PATCH, "patch size %u out of range 1..64", in.patch);
    /* Every frame contributes (S/p)^2 patches, so the counts pin each other down. */
    if (in.frames == 0) {
        if (in.image_size || in.patches || in.distinct)
            return mvot_error_corrupt(err, path, H_FRAMES,
                                      "no frames, but image size %u and %llu patches",
                                      in.image_size, (unsigned long long)in.patches);
    } else {
        uint64_t g = in.image_size / in.patch;
        if (in.image_size == 0 || in.image_size % in.patch || in.image_size > 65536)
            return mvot_error_corrupt(err, path, H_IMAGE_SIZE,
                                      "image size %u is not a multiple of the %u-px patch "
                                      "up to 65536",
                                      in.image_size, in.patch);
        if (in.frames > UINT64_MAX / (g * g) || in.patches != in.frames * g * g)
            return mvot_error_corrupt(err, path, H_PATCHES,
                                      "%llu patches do not fit %llu frames of %ux%u",
                                      (unsigned long long)in.patches, (unsigned long long)in.frames,
                                      in.image_size, in.image_size);
        if (in.distinct == 0 || in.distinct > in.patches)
            return mvot_error_corrupt(err, path, H_DISTINCT, "%llu distinct of %llu patches",
                                      (unsigned long long)in.distinct,
                                      (unsigned long long)in.patches);
    }
    if (in.part_count == 0 ? in.part_index || in.plan_xxh3
                           : in.part_count > PARTS_MAX || in.part_index >= in.part_count)
        return mvot_error_corrupt(err, path, H_PART_INDEX, "part %u of %u is out of range",
                                  in.part_index, in.part_count);
    /* The stored payload runs exactly to the end of the file; its entries must be
     * addressable (checked again, entry by entry, while decompressing). */
    if (in.distinct > UINT64_MAX / entry_bytes(in.patch))
        return mvot_error_corrupt(err, path, H_DISTINCT, "%llu entries overflow a 64-bit size",
                                  (unsigned long long)in.distinct);
    uint64_t end = MVOT_PATCHSTATS_HEADER_BYTES + in.payload_bytes;
    if (in.payload_bytes > file_size - MVOT_PATCHSTATS_HEADER_BYTES)
        return mvot_error_corrupt(err, path, (int64_t)file_size,
                                  "truncated: the payload needs %llu bytes, the file ends here",
                                  (unsigned long long)in.payload_bytes);
    if (end != file_size)
        return mvot_error_corrupt(err, path, (int64_t)end, "%llu bytes after the payload",
                                  (unsigned long long)(file_size - end));
    *out = in;
    return st;
}

/* Reads and checks the header of a stream of file_size bytes; fp is left at the first entry. */
static enum mvot_status read_header(const char *path, FILE *fp, uint64_t file_size,
                                    struct mvot_patchstats_info *info, struct mvot_error *err)
{
    uint8_t h[MVOT_PATCHSTATS_HEADER_BYTES];
    size_t got = fread(h, 1, sizeof h, fp);
    if (ferror(fp))
        return mvot_error_set(err, MVOT_ERR_IO, path, "read error");
    return decode_header(path, h, got, file_size, info, err);
}

/* Opens a file and reads its header; *fp is left at the first entry. */
static enum mvot_status open_stats(const char *path, FILE **fp, struct mvot_patchstats_info *info,
                                   struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct stat sb;
    *fp = mvot_io_fopen_input(path, err);
    if (!*fp)
        return MVOT_ERR_IO;
    MVOT_FAIL_IF(fstat(fileno(*fp), &sb) != 0, err, MVOT_ERR_IO, path, "cannot stat");
    MVOT_TRY(read_header(path, *fp, (uint64_t)sb.st_size, info, err));
cleanup:
    if (st != MVOT_OK) {
        fclose(*fp);
        *fp = NULL;
    }
    return st;
}

enum mvot_status mvot_patchstats_read_info(const char *path, struct mvot_patchstats_info *info,
                                           struct mvot_error *err)
{
    FILE *fp = NULL;
    struct mvot_patchstats_info in;
    enum mvot_status st = open_stats(path, &fp, &in, err);
    if (fp)
        fclose(fp);
    if (st == MVOT_OK && info)
        *info = in;
    return st;
}

/* (hash, bytes) order of mvot_patchset_sort. */
static int entry_cmp(uint64_t ha, const uint8_t *a, uint64_t hb, const uint8_t *b, size_t D)
{
    if (ha != hb)
        return ha < hb ? -1 : 1;
    return memcmp(a, b, D);
}

/* The zstd-compressed payload of an open file, decompressed on demand with fixed buffers. */
struct payload_rd {
    const char *path;
    FILE *fp;
    ZSTD_DCtx *dctx;
    uint8_t *in;
    size_t in_cap;
    ZSTD_inBuffer ib;
    uint64_t size, left; /* stored payload bytes, and those not yet read from fp */
    int frame_done;
};

/* File offset of the next compressed byte to decode (where a problem was found). */
static int64_t pr_offset(const struct payload_rd *r)
{
    return (int64_t)(MVOT_PATCHSTATS_HEADER_BYTES + r->size - r->left - (r->ib.size - r->ib.pos));
}

/* Decompresses exactly n bytes into out. want_more = 0 checks instead that the frame ends
 * here (n is then 1 and nothing may come out). */
static enum mvot_status pr_read(struct payload_rd *r, uint8_t *out, size_t n, int want_more,
                                struct mvot_error *err)
{
    ZSTD_outBuffer ob = {out, n, 0};
    while (want_more ? ob.pos < ob.size : !r->frame_done) {
        if (r->frame_done)
            return mvot_error_corrupt(err, r->path, pr_offset(r),
                                      "the payload ends before its last entry");
        if (r->ib.pos == r->ib.size) {
            if (r->left == 0)
                return mvot_error_corrupt(err, r->path, pr_offset(r),
                                          "truncated: the payload's zstd frame is cut short");
            size_t m = r->left < r->in_cap ? (size_t)r->left : r->in_cap;
            size_t got = fread(r->in, 1, m, r->fp);
            if (ferror(r->fp))
                return mvot_error_set(err, MVOT_ERR_IO, r->path, "read error at offset %lld",
                                      (long long)pr_offset(r));
            if (got < m) /* the size was checked against the header: the file shrank */
                return mvot_error_corrupt(err, r->path, pr_offset(r) + (int64_t)got, "truncated");
            r->left -= got;
            r->ib = (ZSTD_inBuffer){r->in, got, 0};
        }
        size_t ret = ZSTD_decompressStream(r->dctx, &ob, &r->ib);
        if (ZSTD_isError(ret))
            return mvot_error_corrupt(err, r->path, pr_offset(r), "payload: %s",
                                      ZSTD_getErrorName(ret));
        if (ret == 0)
            r->frame_done = 1;
        if (!want_more && ob.pos)
            return mvot_error_corrupt(err, r->path, pr_offset(r),
                                      "the payload holds more than its entries");
    }
    if (!want_more && (r->left || r->ib.pos < r->ib.size))
        return mvot_error_corrupt(err, r->path, pr_offset(r),
                                  "bytes after the payload's zstd frame");
    return MVOT_OK;
}

/* A corrupt payload, reported at the reader's position in the file. */
#define PAYLOAD_CORRUPT_IF(cond, r, ...)                                        \
    do {                                                                        \
        if (cond) {                                                             \
            st = mvot_error_corrupt(err, (r)->path, pr_offset(r), __VA_ARGS__); \
            goto cleanup;                                                       \
        }                                                                       \
    } while (0)

/* Streams the entries of an open file (positioned after the header) into ps, checking order,
 * counts and the payload checksum. */
static enum mvot_status read_entries(const char *path, FILE *fp,
                                     const struct mvot_patchstats_info *in,
                                     struct mvot_patchset *ps, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const size_t D = ps->D, eb = D + 8;
    uint8_t *buf = malloc(READ_BATCH * eb), *prev = malloc(D), one;
    uint64_t prev_hash = 0, sum = 0;
    struct mvot_hasher hs = {0};
    int hs_ok = 0;
    struct payload_rd r = {path,
                           fp,
                           ZSTD_createDCtx(),
                           NULL,
                           ZSTD_DStreamInSize(),
                           {0},
                           in->payload_bytes,
                           in->payload_bytes,
                           0};
    r.in = malloc(r.in_cap);
    MVOT_FAIL_IF(!buf || !prev || !r.dctx || !r.in, err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_FAIL_IF(
        ZSTD_isError(ZSTD_DCtx_setParameter(r.dctx, ZSTD_d_windowLogMax, PAYLOAD_WINDOW_LOG_MAX)),
        err, MVOT_ERR_INTERNAL, path, "cannot configure zstd");
    MVOT_FAIL_IF(mvot_hasher_init(&hs) != MVOT_OK, err, MVOT_ERR_NOMEM, path,
                 "cannot create a hasher");
    hs_ok = 1;
    for (uint64_t i = 0; i < in->distinct;) {
        size_t m = in->distinct - i < READ_BATCH ? (size_t)(in->distinct - i) : READ_BATCH;
        MVOT_TRY(pr_read(&r, buf, m * eb, 1, err));
        mvot_hasher_update(&hs, buf, m * eb);
        for (size_t j = 0; j < m; j++, i++) {
            const uint8_t *e = buf + j * eb;
            uint64_t h = mvot_hash64(e, D), c = get_le(e + D, 8);
            PAYLOAD_CORRUPT_IF(c == 0, &r, "entry %llu: count is 0", (unsigned long long)i);
            PAYLOAD_CORRUPT_IF(c > in->patches - sum, &r,
                               "entry %llu: count %llu exceeds the header's total",
                               (unsigned long long)i, (unsigned long long)c);
            PAYLOAD_CORRUPT_IF(i > 0 && entry_cmp(prev_hash, prev, h, e, D) >= 0, &r,
                               "entry %llu is out of canonical order", (unsigned long long)i);
            MVOT_TRY(mvot_patchset_add(ps, e, h, c, err));
            sum += c;
            prev_hash = h;
            memcpy(prev, e, D);
        }
    }
    MVOT_TRY(pr_read(&r, &one, 1, 0, err));
    PAYLOAD_CORRUPT_IF(mvot_hasher_digest(&hs) != in->payload_xxh3, &r,
                       "payload checksum mismatch (XXH3 of the %llu entries)",
                       (unsigned long long)in->distinct);
    PAYLOAD_CORRUPT_IF(sum != in->patches, &r, "counts sum to %llu, the header says %llu patches",
                       (unsigned long long)sum, (unsigned long long)in->patches);
cleanup:
    if (hs_ok)
        mvot_hasher_free(&hs);
    ZSTD_freeDCtx(r.dctx);
    free(r.in);
    free(buf);
    free(prev);
    return st;
}

/* Adds the entries, frames and image size of an open stream (after its header) to ps. */
static enum mvot_status add_stream(const char *path, FILE *fp,
                                   const struct mvot_patchstats_info *info,
                                   struct mvot_patchset *ps, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    MVOT_FAIL_IF(info->patch != ps->patch, err, MVOT_ERR_INVALID, path, "%u-px patches, want %u",
                 info->patch, ps->patch);
    MVOT_FAIL_IF(info->frames && ps->image_size && info->image_size != ps->image_size, err,
                 MVOT_ERR_INVALID, path, "frames of %ux%u mixed with frames of %ux%u",
                 info->image_size, info->image_size, ps->image_size, ps->image_size);
    MVOT_TRY(read_entries(path, fp, info, ps, err));
    if (info->frames)
        ps->image_size = info->image_size;
    ps->frames += info->frames;
cleanup:
    return st;
}

/* add_stream over a file, whose header is returned in *info. */
static enum mvot_status add_file(const char *path, struct mvot_patchset *ps,
                                 struct mvot_patchstats_info *info, struct mvot_error *err)
{
    FILE *fp = NULL;
    enum mvot_status st = open_stats(path, &fp, info, err);
    if (st == MVOT_OK)
        st = add_stream(path, fp, info, ps, err);
    if (fp)
        fclose(fp);
    return st;
}

/* A new set sized for *in (refused over the cap before anything grows), filled from fp. */
static enum mvot_status load_stream(const char *path, FILE *fp,
                                    const struct mvot_patchstats_info *in, uint64_t max_distinct,
                                    struct mvot_patchset *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    MVOT_TRY(mvot_patchset_init(out, in->patch, (size_t)max_distinct, err));
    MVOT_FAIL_IF(in->distinct > out->max_distinct, err, MVOT_ERR_NOMEM, path,
                 "%llu distinct patches, more than the cap of %zu",
                 (unsigned long long)in->distinct, out->max_distinct);
    MVOT_TRY(add_stream(path, fp, in, out, err));
cleanup:
    if (st != MVOT_OK)
        mvot_patchset_free(out);
    return st;
}

enum mvot_status mvot_patchstats_load(const char *path, uint64_t max_distinct,
                                      struct mvot_patchset *out, struct mvot_patchstats_info *info,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_patchstats_info in;
    FILE *fp = NULL;
    memset(out, 0, sizeof *out);
    MVOT_TRY(open_stats(path, &fp, &in, err));
    MVOT_TRY(load_stream(path, fp, &in, max_distinct, out, err));
    if (info)
        *info = in;
cleanup:
    if (fp)
        fclose(fp);
    return st;
}

enum mvot_status mvot_patchstats_load_mem(const uint8_t *data, size_t len, const char *name,
                                          uint64_t max_distinct, struct mvot_patchset *out,
                                          struct mvot_patchstats_info *info, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_patchstats_info in;
    static const uint8_t none = 0;
    /* fmemopen refuses a zero-sized buffer; an empty stream reads nothing either way */
    FILE *fp = fmemopen((void *)(len ? data : &none), len ? len : 1, "rb");
    memset(out, 0, sizeof *out);
    MVOT_FAIL_IF(!fp, err, MVOT_ERR_NOMEM, name, "cannot open a memory stream");
    MVOT_TRY(read_header(name, fp, len, &in, err));
    MVOT_TRY(load_stream(name, fp, &in, max_distinct, out, err));
    if (info)
        *info = in;
cleanup:
    if (fp)
        fclose(fp);
    return st;
}

/* ---- writing ----------------------------------------------------------------------------- */

/* A file may be replaced only by a new version of itself: anything else at the path (a file
 * of another kind, a folder) was not made by us. */
static enum mvot_status check_replace(const char *path, struct mvot_error *err)
{
    if (!mvot_io_exists(path))
        return MVOT_OK;
    uint8_t m[8];
    size_t got = 0;
    FILE *fp = mvot_io_fopen_input(path, NULL);
    if (fp) {
        got = fread(m, 1, sizeof m, fp);
        fclose(fp);
    }
    if (got == sizeof m && memcmp(m, MVOT_PATCHSTATS_MAGIC, 8) == 0)
        return MVOT_OK;
    return mvot_error_set(err, MVOT_ERR_INVALID, path,
                          "exists and is not a patch statistics file; choose a new name");
}

/* Compresses src (len bytes; end = last call) into the file, counting the bytes written. */
static enum mvot_status compress_to(ZSTD_CCtx *cctx, FILE *fp, const char *path, const void *src,
                                    size_t len, int end, uint8_t *out, size_t out_cap,
                                    uint64_t *written, struct mvot_error *err)
{
    ZSTD_inBuffer ib = {src, len, 0};
    for (;;) {
        ZSTD_outBuffer ob = {out, out_cap, 0};
        size_t left = ZSTD_compressStream2(cctx, &ob, &ib, end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left))
            return mvot_error_set(err, MVOT_ERR_INTERNAL, path, "zstd: %s",
                                  ZSTD_getErrorName(left));
        enum mvot_status st = mvot_io_write_all(fp, out, ob.pos, path, err);
        if (st != MVOT_OK)
            return st;
        *written += ob.pos;
        if (end ? left == 0 : ib.pos == ib.size)
            return MVOT_OK;
    }
}

enum mvot_status mvot_patchstats_save(const char *path, struct mvot_patchset *ps,
                                      struct mvot_patchstats_info *id, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_atomic_file af = {0};
    struct mvot_hasher hs = {0};
    const size_t eb = (size_t)ps->D + 8;
    uint8_t h[MVOT_PATCHSTATS_HEADER_BYTES];
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    size_t out_cap = ZSTD_CStreamOutSize();
    uint8_t *batch = malloc(READ_BATCH * eb), *out = malloc(out_cap);
    MVOT_FAIL_IF(!cctx || !batch || !out, err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_TRY(check_replace(path, err));
    MVOT_TRY(mvot_patchset_sort(ps, err));
    MVOT_FAIL_IF(mvot_hasher_init(&hs) != MVOT_OK, err, MVOT_ERR_NOMEM, path,
                 "cannot create a hasher");
    /* The content size goes into the frame header; the frame checksum catches damage to
     * the compressed bytes before the entries are even looked at. */
    MVOT_FAIL_IF(
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, PAYLOAD_ZSTD_LEVEL)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)) ||
            ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx, (uint64_t)ps->n * eb)),
        err, MVOT_ERR_INTERNAL, path, "cannot configure zstd");
    id->patch = ps->patch;
    id->image_size = ps->frames ? ps->image_size : 0;
    id->frames = ps->frames;
    id->patches = ps->total;
    id->distinct = ps->n;
    id->payload_bytes = 0;
    MVOT_TRY(mvot_atomic_open(&af, path, err));
    memset(h, 0, sizeof h); /* the header is written last, when the payload is known */
    MVOT_TRY(mvot_io_write_all(af.fp, h, sizeof h, path, err));
    for (size_t i = 0; i < ps->n || i == 0;) {
        size_t m = ps->n - i < READ_BATCH ? ps->n - i : READ_BATCH;
        for (size_t j = 0; j < m; j++) {
            memcpy(batch + j * eb, ps->bytes + (i + j) * ps->D, ps->D);
            put_le(batch + j * eb + ps->D, ps->count[i + j], 8);
        }
        mvot_hasher_update(&hs, batch, m * eb);
        i += m;
        MVOT_TRY(compress_to(cctx, af.fp, path, batch, m * eb, i == ps->n, out, out_cap,
                             &id->payload_bytes, err));
        if (i == ps->n)
            break;
    }
    id->payload_xxh3 = mvot_hasher_digest(&hs);
    encode_header(id, h);
    MVOT_FAIL_IF(fseek(af.fp, 0, SEEK_SET) != 0, err, MVOT_ERR_IO, path, "cannot seek");
    MVOT_TRY(mvot_io_write_all(af.fp, h, sizeof h, path, err));
    MVOT_TRY(mvot_atomic_commit(&af, err));
cleanup:
    if (st != MVOT_OK)
        mvot_atomic_abort(&af);
    if (hs.state)
        mvot_hasher_free(&hs);
    ZSTD_freeCCtx(cctx);
    free(batch);
    free(out);
    return st;
}

/* ---- collecting ------------------------------------------------------------------------- */

/* The gen manifest beside an archive, if any: its archive hash must match, and a part
 * manifest gives the part fields. *empty_part is set for a part with no episodes (its archive
 * has no frames, which for a whole set would be an error). */
static enum mvot_status read_manifest(const char *man_path, struct mvot_patchstats_info *id,
                                      int *empty_part, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *man = NULL, *ident = NULL, *part = NULL;
    const char *fmt = NULL, *want = NULL, *plan = NULL;
    char *dump = NULL;
    int64_t index, count, episodes;
    uint64_t want_h;
    MVOT_TRY(mvot_json_load_file(man_path, &man, err));
    MVOT_TRY(mvot_json_get_str(man, "format", man_path, &fmt, err));
    MVOT_FAIL_IF(
        strcmp(fmt, MVOT_GEN_PART_FORMAT) != 0 && strcmp(fmt, MVOT_GEN_MANIFEST_FORMAT) != 0, err,
        MVOT_ERR_INVALID, man_path, "format \"%s\" is not an episode set's manifest", fmt);
    MVOT_TRY(mvot_json_get_str(man, "archive_xxh3", man_path, &want, err));
    MVOT_CORRUPT_IF(mvot_hash_parse_hex(want, &want_h) != 0 || want_h != id->archive_xxh3, err,
                    man_path, "archive_xxh3 %s does not match the archive beside it", want);
    if (strcmp(fmt, MVOT_GEN_PART_FORMAT) == 0) {
        MVOT_TRY(mvot_json_get_object(man, "part", man_path, &part, err));
        MVOT_TRY(mvot_json_get_int(part, "index", man_path, &index, err));
        MVOT_TRY(mvot_json_get_int(part, "count", man_path, &count, err));
        MVOT_TRY(mvot_json_get_int(part, "episodes", man_path, &episodes, err));
        MVOT_TRY(mvot_json_get_str(part, "plan_xxh3", man_path, &plan, err));
        MVOT_CORRUPT_IF(count < 1 || count > PARTS_MAX || index < 0 || index >= count ||
                            episodes < 0 || mvot_hash_parse_hex(plan, &id->plan_xxh3) != 0,
                        err, man_path, "part %lld/%lld is out of range", (long long)index,
                        (long long)count);
        id->part_index = (uint32_t)index;
        id->part_count = (uint32_t)count;
        *empty_part = episodes == 0;
    }
    /* the fields merge compares (core/partset.h): all but the part's own */
    ident = mvot_partset_identity(man, MVOT_GEN_PART_OWN_KEYS);
    dump = ident ? mvot_json_dumps(ident) : NULL;
    MVOT_FAIL_IF(!dump, err, MVOT_ERR_NOMEM, man_path, "out of memory");
    id->run_xxh3 = mvot_hash64(dump, strlen(dump));
cleanup:
    free(dump);
    json_decref(ident);
    json_decref(man);
    return st;
}

/* "DIR" -> DIR/episodes.tar.zst and DIR/manifest.json; "DIR/episodes.tar.zst" -> the same;
 * any other archive name has no manifest. */
static enum mvot_status resolve_input(const char *episodes, char **archive, char **manifest,
                                      struct mvot_error *err)
{
    struct stat sb;
    const char *base = strrchr(episodes, '/');
    base = base ? base + 1 : episodes;
    *archive = *manifest = NULL;
    if (stat(episodes, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        *archive = mvot_io_join(episodes, "episodes.tar.zst");
        *manifest = mvot_io_join(episodes, "manifest.json");
    } else {
        *archive = mvot_strdupf("%s", episodes);
        if (strcmp(base, "episodes.tar.zst") == 0)
            *manifest = mvot_strdupf("%.*s/manifest.json",
                                     base == episodes ? 1 : (int)(base - 1 - episodes),
                                     base == episodes ? "." : episodes);
        else
            *manifest = mvot_strdupf("%s", "");
    }
    if (!*archive || !*manifest) {
        free(*archive);
        free(*manifest);
        *archive = *manifest = NULL;
        return mvot_error_set(err, MVOT_ERR_NOMEM, episodes, "out of memory");
    }
    return MVOT_OK;
}

/* realpath of the folder holding `path` (NULL if it does not resolve). */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? mvot_strdupf("%.*s", slash == path ? 1 : (int)(slash - path), path)
                      : mvot_strdupf(".");
    char *r = dir ? realpath(dir, NULL) : NULL;
    free(dir);
    return r;
}

/* A gen folder holds only gen's own files (a re-run of gen, or merge, refuses anything
 * else), so the statistics may not be written into the folder they are read from. */
static enum mvot_status check_out_place(const char *out_file, const char *man_path,
                                        struct mvot_error *err)
{
    char *a = folder_of(out_file), *b = folder_of(man_path);
    int same = a && b && strcmp(a, b) == 0;
    free(a);
    free(b);
    if (same)
        return mvot_error_set(err, MVOT_ERR_INVALID, out_file,
                              "inside the episode folder it reads, which holds only gen's "
                              "files; write it elsewhere");
    return MVOT_OK;
}

enum mvot_status mvot_patchstats_collect(const char *episodes, const char *out_file, uint32_t patch,
                                         uint64_t max_distinct, struct mvot_pool *pool,
                                         const struct mvot_progress *prog,
                                         struct mvot_patchstats_info *info, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *archive = NULL, *man_path = NULL;
    struct mvot_patchset ps;
    struct mvot_patchstats_info id;
    int empty_part = 0;
    memset(&ps, 0, sizeof ps);
    memset(&id, 0, sizeof id);
    /* Refuse a foreign --out before the long read, not after it. */
    MVOT_TRY(check_replace(out_file, err));
    MVOT_TRY(resolve_input(episodes, &archive, &man_path, err));
    MVOT_TRY(mvot_gen_archive_identity(archive, &id.archive_xxh3, &id.archive_bytes, err));
    if (man_path[0] && mvot_io_exists(man_path)) {
        MVOT_TRY(check_out_place(out_file, man_path, err));
        MVOT_TRY(read_manifest(man_path, &id, &empty_part, err));
    }
    if (empty_part)
        MVOT_TRY(mvot_patchset_init(&ps, patch, (size_t)max_distinct, err));
    else
        MVOT_TRY(
            mvot_patchset_from_archive(archive, patch, (size_t)max_distinct, pool, prog, &ps, err));
    MVOT_TRY(mvot_patchstats_save(out_file, &ps, &id, err));
    if (info)
        *info = id;
cleanup:
    mvot_patchset_free(&ps);
    free(archive);
    free(man_path);
    return st;
}

/* ---- merging and training ---------------------------------------------------------------- */

static enum mvot_status check_inputs(const char *const *files, size_t n,
                                     const struct mvot_patchstats_info *in, size_t *order,
                                     struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    size_t *slot = NULL; /* part index -> input number + 1 */
    uint32_t count = in[0].part_count;
    for (size_t k = 0; k < n; k++) {
        MVOT_FAIL_IF(in[k].patch != in[0].patch, err, MVOT_ERR_INVALID, files[k],
                     "%u-px patches, but %s has %u-px ones", in[k].patch, files[0], in[0].patch);
        MVOT_FAIL_IF((in[k].part_count != 0) != (count != 0), err, MVOT_ERR_INVALID, files[k],
                     "%s a gen part, but %s %s", in[k].part_count ? "is" : "is not", files[0],
                     count ? "is" : "is not");
        MVOT_FAIL_IF(in[k].part_count != count, err, MVOT_ERR_INVALID, files[k],
                     "part of %u, but %s is a part of %u: not the same run", in[k].part_count,
                     files[0], count);
        MVOT_FAIL_IF(in[k].plan_xxh3 != in[0].plan_xxh3 || in[k].run_xxh3 != in[0].run_xxh3, err,
                     MVOT_ERR_INVALID, files[k], "not the same run as %s (%s hash differs)",
                     files[0], in[k].plan_xxh3 != in[0].plan_xxh3 ? "plan" : "run");
    }
    if (count == 0) {
        /* Whole sets or bare archives: merged in the order given, each archive once. */
        for (size_t k = 0; k < n; k++) {
            order[k] = k;
            for (size_t j = 0; j < k; j++)
                MVOT_FAIL_IF(in[j].archive_xxh3 == in[k].archive_xxh3 &&
                                 in[j].archive_bytes == in[k].archive_bytes,
                             err, MVOT_ERR_INVALID, files[k],
                             "the same archive is given twice (also %s)", files[j]);
        }
        goto cleanup;
    }
    slot = calloc(count, sizeof *slot);
    MVOT_FAIL_IF(!slot, err, MVOT_ERR_NOMEM, files[0], "out of memory");
    for (size_t k = 0; k < n; k++) {
        uint32_t i = in[k].part_index;
        MVOT_FAIL_IF(slot[i], err, MVOT_ERR_INVALID, files[k],
                     "part %u/%u is given twice (also %s)", i, count, files[slot[i] - 1]);
        slot[i] = k + 1;
    }
    for (uint32_t i = 0; i < count; i++)
        MVOT_FAIL_IF(!slot[i], err, MVOT_ERR_INVALID, "patch statistics",
                     "part %u/%u is missing (%zu of %u parts given)", i, count, n, count);
    for (uint32_t i = 0; i < count; i++)
        order[i] = slot[i] - 1;
cleanup:
    free(slot);
    return st;
}

enum mvot_status mvot_patchstats_merge_files(const char *const *files, size_t n,
                                             uint64_t max_distinct,
                                             const struct mvot_progress *prog,
                                             struct mvot_patchset *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_patchstats_info *in = NULL;
    size_t *order = NULL;
    memset(out, 0, sizeof *out);
    MVOT_FAIL_IF(n == 0, err, MVOT_ERR_INVALID, "patch statistics", "no files given");
    in = calloc(n, sizeof *in);
    order = calloc(n, sizeof *order);
    MVOT_FAIL_IF(!in || !order, err, MVOT_ERR_NOMEM, "patch statistics", "out of memory");
    /* Headers first: a missing or foreign part is reported before any long read. */
    for (size_t k = 0; k < n; k++)
        MVOT_TRY(mvot_patchstats_read_info(files[k], &in[k], err));
    MVOT_TRY(check_inputs(files, n, in, order, err));
    MVOT_TRY(mvot_patchset_init(out, in[0].patch, (size_t)max_distinct, err));
    mvot_progress_report(prog, "reading patch statistics", 0, n);
    for (size_t k = 0; k < n; k++) {
        struct mvot_patchstats_info again;
        const char *f = files[order[k]];
        MVOT_TRY(add_file(f, out, &again, err));
        /* The file changed since its header was checked: the checks above no longer hold. */
        MVOT_FAIL_IF(memcmp(&again, &in[order[k]], sizeof again) != 0, err, MVOT_ERR_IO, f,
                     "changed while being read");
        mvot_progress_report(prog, "reading patch statistics", k + 1, n);
    }
cleanup:
    if (st != MVOT_OK)
        mvot_patchset_free(out);
    free(in);
    free(order);
    return st;
}

enum mvot_status mvot_codebook_train_from_stats(const char *const *files, size_t n,
                                                const struct mvot_kmeans_opts *opts,
                                                struct mvot_pool *pool,
                                                const struct mvot_progress *prog,
                                                struct mvot_codebook *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_patchset ps;
    memset(out, 0, sizeof *out);
    MVOT_TRY(mvot_patchstats_merge_files(files, n, opts->max_distinct, prog, &ps, err));
    MVOT_FAIL_IF(ps.patch != opts->patch, err, MVOT_ERR_INVALID, files[0],
                 "%u-px patches, but training wants %u", ps.patch, opts->patch);
    /* The same refusal as an archive without frames (mvot_patchset_from_archive). */
    MVOT_FAIL_IF(ps.frames == 0, err, MVOT_ERR_NOTFOUND, files[0], "no frames in %zu file%s", n,
                 n == 1 ? "" : "s");
    MVOT_TRY(mvot_codebook_train_patchset(&ps, opts, pool, prog, out, err));
cleanup:
    mvot_patchset_free(&ps);
    return st;
}
