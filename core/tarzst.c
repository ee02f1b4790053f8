/* The generic byte-level pieces of our seekable tar.zst files (core/tarzst.h): reproducible
 * ustar members, seekable-zstd frames (the zstd contrib seekable-format layout, our own
 * code), the seek table, and reading one frame back by its entry. Shared by the shard format
 * (docs/shard-format.md) and the episode archive (docs/episode-format.md, "Archive").
 * Invariants: every frame written has content size and checksum; the seek table lists
 * frames in file order; parsers never read past the bytes they were given. */
#include "core/tarzst.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "core/mem.h"

/* ---- tar ---- */

static void put_octal(uint8_t *field, size_t width, uint64_t v)
{
    /* width-1 octal digits, zero padded, then NUL (the POSIX form GNU tar also reads). */
    field[width - 1] = 0;
    for (size_t i = width - 1; i-- > 0;) {
        field[i] = (uint8_t)('0' + (v & 7));
        v >>= 3;
    }
}

uint64_t mvot_tar_member_span(uint64_t size)
{
    return MVOT_TAR_BLOCK + (size + MVOT_TAR_BLOCK - 1) / MVOT_TAR_BLOCK * MVOT_TAR_BLOCK;
}

enum mvot_status mvot_tar_append(struct mvot_buf *out, const char *name, const void *data,
                                 size_t len)
{
    size_t nl = strlen(name);
    if (nl == 0 || nl > MVOT_TAR_NAME_MAX)
        return MVOT_ERR_INVALID;
    if ((uint64_t)len >= (1ull << 33)) /* 11 octal digits */
        return MVOT_ERR_INVALID;
    uint8_t h[MVOT_TAR_BLOCK];
    memset(h, 0, sizeof h);
    memcpy(h, name, nl);
    put_octal(h + 100, 8, 0644);
    put_octal(h + 108, 8, 0);
    put_octal(h + 116, 8, 0);
    put_octal(h + 124, 12, len);
    put_octal(h + 136, 12, 0);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6); /* "ustar\0" */
    h[263] = '0';
    h[264] = '0';
    put_octal(h + 329, 8, 0);
    put_octal(h + 337, 8, 0);
    memset(h + 148, ' ', 8);
    uint32_t sum = 0;
    for (size_t i = 0; i < sizeof h; i++)
        sum += h[i];
    put_octal(h + 148, 7, sum); /* 6 digits + NUL */
    h[155] = ' ';
    enum mvot_status st = mvot_buf_reserve(out, (size_t)mvot_tar_member_span(len));
    if (st != MVOT_OK)
        return st;
    mvot_buf_append(out, h, sizeof h);
    mvot_buf_append(out, data, len);
    size_t pad = (MVOT_TAR_BLOCK - len % MVOT_TAR_BLOCK) % MVOT_TAR_BLOCK;
    static const uint8_t zeros[MVOT_TAR_BLOCK];
    return mvot_buf_append(out, zeros, pad);
}

enum mvot_status mvot_tar_append_end(struct mvot_buf *out)
{
    static const uint8_t zeros[2 * MVOT_TAR_BLOCK];
    return mvot_buf_append(out, zeros, sizeof zeros);
}

static int parse_octal(const uint8_t *f, size_t width, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    while (i < width && f[i] == ' ')
        i++;
    size_t digits = 0;
    for (; i < width && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
        if (v >> 60)
            return -1;
        v = v * 8 + (uint64_t)(f[i] - '0');
    }
    for (; i < width; i++)
        if (f[i] != 0 && f[i] != ' ')
            return -1;
    if (!digits)
        return -1;
    *out = v;
    return 0;
}

enum mvot_status mvot_tar_parse_header(const uint8_t *hdr, const char *where,
                                       struct mvot_tar_member *out, struct mvot_error *err)
{
    memset(out, 0, sizeof *out);
    int zero = 1;
    for (size_t i = 0; i < MVOT_TAR_BLOCK && zero; i++)
        zero = hdr[i] == 0;
    if (zero) {
        out->is_end = 1;
        return MVOT_OK;
    }
    if (memcmp(hdr + 257, "ustar", 6) != 0 || hdr[263] != '0' || hdr[264] != '0')
        return mvot_error_corrupt(err, where, -1, "tar header: bad ustar magic");
    uint64_t want;
    if (parse_octal(hdr + 148, 8, &want) != 0)
        return mvot_error_corrupt(err, where, -1, "tar header: bad checksum field");
    uint32_t sum = 0;
    for (size_t i = 0; i < MVOT_TAR_BLOCK; i++)
        sum += (i >= 148 && i < 156) ? (uint32_t)' ' : hdr[i];
    if (sum != want)
        return mvot_error_corrupt(err, where, -1, "tar header: checksum %" PRIu64 " != %u", want,
                                  sum);
    if (hdr[156] != '0' && hdr[156] != 0)
        return mvot_error_corrupt(err, where, -1, "tar header: member type '%c' is not a file",
                                  hdr[156] >= 32 && hdr[156] < 127 ? hdr[156] : '?');
    if (hdr[345] != 0)
        return mvot_error_corrupt(err, where, -1, "tar header: prefix field is not empty");
    size_t nl = 0;
    while (nl < 100 && hdr[nl])
        nl++;
    if (nl == 0 || nl > MVOT_TAR_NAME_MAX)
        return mvot_error_corrupt(err, where, -1, "tar header: bad name length");
    for (size_t i = 0; i < nl; i++)
        if (hdr[i] < 32 || hdr[i] > 126)
            return mvot_error_corrupt(err, where, -1, "tar header: non-printable name");
    memcpy(out->name, hdr, nl);
    out->name[nl] = 0;
    if (parse_octal(hdr + 124, 12, &out->size) != 0)
        return mvot_error_corrupt(err, where, -1, "tar header %s: bad size field", out->name);
    return MVOT_OK;
}

/* ---- seekable zstd ---- */

uint32_t mvot_seek_checksum(const void *data, size_t len)
{
    return (uint32_t)XXH64(data, len, 0);
}

void mvot_seek_entries_free(struct mvot_seek_entries *e)
{
    if (!e)
        return;
    free(e->v);
    memset(e, 0, sizeof *e);
}

enum mvot_status mvot_seek_entries_push(struct mvot_seek_entries *e, struct mvot_seek_entry x)
{
    enum mvot_status st = MVOT_GROW(&e->v, &e->cap, e->n + 1, MVOT_GROW_UNCAPPED, NULL);
    if (st == MVOT_OK)
        e->v[e->n++] = x;
    return st;
}

enum mvot_status mvot_seekzstd_compress(void *cctx, int level, const uint8_t *src, size_t len,
                                        struct mvot_buf *out, struct mvot_seek_entries *ents,
                                        struct mvot_error *err)
{
    ZSTD_CCtx *cc = cctx;
    enum mvot_status st = MVOT_OK;
    if (len > UINT32_MAX)
        return mvot_error_set(err, MVOT_ERR_INVALID, "zstd", "frame of %zu bytes", len);
    ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters);
    if (ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, MVOT_SEEK_WINDOW_LOG)))
        return mvot_error_set(err, MVOT_ERR_INVALID, "zstd", "bad compression level %d", level);
    size_t bound = ZSTD_compressBound(len);
    st = mvot_buf_reserve(out, bound);
    if (st != MVOT_OK)
        return mvot_error_set(err, st, "zstd", "out of memory");
    size_t c = ZSTD_compress2(cc, out->data + out->len, bound, src, len);
    if (ZSTD_isError(c))
        return mvot_error_set(err, MVOT_ERR_INTERNAL, "zstd", "compress: %s", ZSTD_getErrorName(c));
    out->len += c;
    struct mvot_seek_entry e = {(uint32_t)c, (uint32_t)len, mvot_seek_checksum(src, len)};
    st = mvot_seek_entries_push(ents, e);
    if (st != MVOT_OK)
        return mvot_error_set(err, st, "zstd", "out of memory");
    return MVOT_OK;
}

enum mvot_status mvot_seek_table_encode(const struct mvot_seek_entry *e, size_t n,
                                        struct mvot_buf *out)
{
    if (n > MVOT_SEEK_MAX_FRAMES)
        return MVOT_ERR_INVALID;
    size_t content = n * MVOT_SEEK_ENTRY_SIZE + MVOT_SEEK_FOOTER_SIZE;
    enum mvot_status st = mvot_buf_reserve(out, 8 + content);
    if (st != MVOT_OK)
        return st;
    uint8_t b[12];
    mvot_wr32(b, MVOT_SEEK_SKIPPABLE_MAGIC);
    mvot_wr32(b + 4, (uint32_t)content);
    mvot_buf_append(out, b, 8);
    for (size_t i = 0; i < n; i++) {
        mvot_wr32(b, e[i].csize);
        mvot_wr32(b + 4, e[i].dsize);
        mvot_wr32(b + 8, e[i].checksum);
        mvot_buf_append(out, b, 12);
    }
    mvot_wr32(b, (uint32_t)n);
    b[4] = MVOT_SEEK_DESC_CHECKSUM;
    mvot_wr32(b + 5, MVOT_SEEK_FOOTER_MAGIC);
    return mvot_buf_append(out, b, MVOT_SEEK_FOOTER_SIZE);
}

enum mvot_status mvot_tarzst_pread(int fd, void *buf, size_t n, uint64_t off, const char *name,
                                   struct mvot_error *err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));
        if (r < 0)
            return mvot_error_set(err, MVOT_ERR_IO, name, "read failed at offset %" PRIu64,
                                  off + got);
        if (r == 0)
            return mvot_error_corrupt(err, name, (int64_t)(off + got), "unexpected end of file");
        got += (size_t)r;
    }
    return MVOT_OK;
}

enum mvot_status mvot_seek_table_read(int fd, uint64_t file_size, const char *name,
                                      struct mvot_seek_entries *ents, uint64_t *table_frame_size,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint8_t *tab = NULL;
    memset(ents, 0, sizeof *ents);
    if (file_size < 8 + MVOT_SEEK_FOOTER_SIZE)
        return mvot_error_corrupt(err, name, -1, "too small for a seek table");
    uint8_t foot[MVOT_SEEK_FOOTER_SIZE];
    MVOT_TRY(mvot_tarzst_pread(fd, foot, sizeof foot, file_size - sizeof foot, name, err));
    if (mvot_rd32(foot + 5) != MVOT_SEEK_FOOTER_MAGIC) {
        st = mvot_error_corrupt(err, name, (int64_t)(file_size - 4), "no seekable magic");
        goto cleanup;
    }
    uint32_t n = mvot_rd32(foot);
    if (foot[4] != MVOT_SEEK_DESC_CHECKSUM) {
        st = mvot_error_corrupt(err, name, (int64_t)(file_size - 5),
                                "seek table descriptor 0x%02x (want checksums, 0x80)", foot[4]);
        goto cleanup;
    }
    uint64_t content = (uint64_t)n * MVOT_SEEK_ENTRY_SIZE + MVOT_SEEK_FOOTER_SIZE;
    if (n > MVOT_SEEK_MAX_FRAMES || content + 8 > file_size) {
        st = mvot_error_corrupt(err, name, -1, "seek table of %u frames exceeds the file", n);
        goto cleanup;
    }
    uint64_t start = file_size - content - 8;
    tab = malloc((size_t)content + 8);
    if (!tab) {
        st = mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
        goto cleanup;
    }
    MVOT_TRY(mvot_tarzst_pread(fd, tab, (size_t)content + 8, start, name, err));
    if (mvot_rd32(tab) != MVOT_SEEK_SKIPPABLE_MAGIC || mvot_rd32(tab + 4) != content) {
        st = mvot_error_corrupt(err, name, (int64_t)start, "bad seek table frame header");
        goto cleanup;
    }
    ents->v = malloc((n ? n : 1) * sizeof *ents->v);
    if (!ents->v) {
        st = mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
        goto cleanup;
    }
    ents->n = ents->cap = n;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p = tab + 8 + (size_t)i * MVOT_SEEK_ENTRY_SIZE;
        ents->v[i].csize = mvot_rd32(p);
        ents->v[i].dsize = mvot_rd32(p + 4);
        ents->v[i].checksum = mvot_rd32(p + 8);
        total += ents->v[i].csize;
    }
    if (total > start) {
        st = mvot_error_corrupt(err, name, -1,
                                "seek table frames (%" PRIu64 " bytes) overlap the table", total);
        goto cleanup;
    }
    *table_frame_size = content + 8;
cleanup:
    free(tab);
    if (st != MVOT_OK)
        mvot_seek_entries_free(ents);
    return st;
}

enum mvot_status mvot_seekzstd_read_frame(int fd, uint64_t off, const struct mvot_seek_entry *e,
                                          uint64_t max_raw, void *dctx, struct mvot_buf *cbuf,
                                          struct mvot_buf *out, const char *name,
                                          struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    if (e->dsize > max_raw)
        return mvot_error_corrupt(err, name, (int64_t)off, "frame of %u raw bytes over the cap",
                                  e->dsize);
    cbuf->len = 0;
    out->len = 0;
    if (mvot_buf_reserve(cbuf, e->csize) != MVOT_OK || mvot_buf_reserve(out, e->dsize) != MVOT_OK)
        return mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
    MVOT_TRY(mvot_tarzst_pread(fd, cbuf->data, e->csize, off, name, err));
    unsigned long long cs = ZSTD_getFrameContentSize(cbuf->data, e->csize);
    size_t fcs = ZSTD_findFrameCompressedSize(cbuf->data, e->csize);
    MVOT_CORRUPT_IF(ZSTD_isError(fcs) || fcs != e->csize || cs != e->dsize, err, name,
                    "frame at offset %" PRIu64 ": not one zstd frame of %u bytes holding %u", off,
                    e->csize, e->dsize);
    size_t r = ZSTD_decompressDCtx(dctx, out->data, e->dsize, cbuf->data, e->csize);
    MVOT_CORRUPT_IF(ZSTD_isError(r) || r != e->dsize, err, name, "frame at offset %" PRIu64 ": %s",
                    off, ZSTD_isError(r) ? ZSTD_getErrorName(r) : "short");
    MVOT_CORRUPT_IF(mvot_seek_checksum(out->data, e->dsize) != e->checksum, err, name,
                    "frame at offset %" PRIu64 ": checksum differs from the seek table", off);
    out->len = e->dsize;
cleanup:
    return st;
}
