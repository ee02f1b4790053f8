/* The episode archive (gen/tarz.h, docs/episode-format.md "Archive"): the version 2 writer
 * (one zstd frame per episode, an end marker frame, the episode index and the seek table),
 * the streaming reader over libarchive (versions 1 and 2) or over one episode's decompressed
 * frame, and random access through the index. Parsers treat the file as hostile. */
#include "gen/tarz.h"

#include <archive.h>
#include <archive_entry.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "core/io.h"

/* ---- writer ---- */

struct ep_slot {
    char *key; /* owned */
    uint8_t task, split;
    uint32_t steps;
};

void mvot_tarz_frame_init(struct mvot_tarz_frame *f, void *cctx)
{
    memset(f, 0, sizeof *f);
    mvot_buf_init(&f->tar, 0);
    mvot_buf_init(&f->bytes, 0);
    f->cctx = cctx;
}

void mvot_tarz_frame_free(struct mvot_tarz_frame *f)
{
    if (!f)
        return;
    mvot_buf_free(&f->tar);
    mvot_buf_free(&f->bytes);
    if (f->own_cctx)
        ZSTD_freeCCtx(f->cctx);
    f->cctx = NULL;
    f->own_cctx = 0;
}

enum mvot_status mvot_tarz_frame_add(struct mvot_tarz_frame *f, const char *where, const char *name,
                                     const void *data, size_t len, struct mvot_error *err)
{
    if (len > MVOT_TARZ_MAX_MEMBER ||
        f->tar.len + mvot_tar_member_span(len) > MVOT_TARZ_MAX_EPISODE)
        return mvot_error_set(err, MVOT_ERR_INVALID, where, "member %s: %zu bytes over the cap",
                              name, len);
    enum mvot_status st = mvot_tar_append(&f->tar, name, data, len);
    if (st == MVOT_ERR_INVALID)
        return mvot_error_set(err, st, where, "member %s: name too long for ustar", name);
    if (st != MVOT_OK)
        return mvot_error_set(err, st, where, "out of memory");
    return MVOT_OK;
}

enum mvot_status mvot_tarz_frame_finish(struct mvot_tarz_frame *f, int zstd_level,
                                        const char *where, struct mvot_error *err)
{
    struct mvot_seek_entries one = {&f->e, 0, 1}; /* room for exactly this frame's entry */
    if (!f->cctx) {
        f->cctx = ZSTD_createCCtx();
        f->own_cctx = 1;
        if (!f->cctx)
            return mvot_error_set(err, MVOT_ERR_NOMEM, where, "out of memory");
    }
    f->bytes.len = 0;
    enum mvot_status st =
        mvot_seekzstd_compress(f->cctx, zstd_level, f->tar.data, f->tar.len, &f->bytes, &one, err);
    if (st != MVOT_OK)
        mvot_error_prefix(err, "%s", where);
    return st;
}

struct mvot_tarz_writer {
    struct mvot_atomic_file af;
    char *path;
    int level, open_ep;
    ZSTD_CCtx *cctx;
    struct mvot_tarz_frame cur; /* the open episode (or the end marker) */
    struct mvot_seek_entries ents;
    struct ep_slot *eps;
    size_t n_eps, cap_eps;
};

void mvot_tarz_writer_abort(struct mvot_tarz_writer *w)
{
    if (!w)
        return;
    mvot_atomic_abort(&w->af);
    mvot_tarz_frame_free(&w->cur);
    ZSTD_freeCCtx(w->cctx);
    mvot_seek_entries_free(&w->ents);
    for (size_t i = 0; i < w->n_eps; i++)
        free(w->eps[i].key);
    free(w->eps);
    free(w->path);
    free(w);
}

enum mvot_status mvot_tarz_writer_open(const char *path, int zstd_level,
                                       struct mvot_tarz_writer **out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_tarz_writer *w = calloc(1, sizeof *w);
    *out = NULL;
    if (!w)
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
    w->level = zstd_level;
    w->path = mvot_strdupf("%s", path);
    w->cctx = ZSTD_createCCtx();
    mvot_tarz_frame_init(&w->cur, w->cctx);
    MVOT_FAIL_IF(!w->path || !w->cctx, err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_FAIL_IF(zstd_level < 1 || zstd_level > ZSTD_maxCLevel(), err, MVOT_ERR_INVALID, path,
                 "zstd level %d out of range", zstd_level);
    MVOT_TRY(mvot_atomic_open(&w->af, path, err));
    *out = w;
    w = NULL;
cleanup:
    mvot_tarz_writer_abort(w);
    return st;
}

static int key_ok(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > MVOT_EPINDEX_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (key[i] <= 32 || key[i] > 126 || key[i] == '/' || key[i] == '\\')
            return 0;
    return key[0] != '.';
}

static enum mvot_status push_episode(struct mvot_tarz_writer *w, const struct mvot_tarz_episode *ep,
                                     struct mvot_error *err)
{
    if (!key_ok(ep->key) || ep->task > 2 || ep->split > 2)
        return mvot_error_set(err, MVOT_ERR_INVALID, w->path, "episode %s: bad key, task or split",
                              ep->key);
    if (w->n_eps == w->cap_eps) {
        size_t nc = w->cap_eps ? w->cap_eps * 2 : 256;
        struct ep_slot *nv = realloc(w->eps, nc * sizeof *nv);
        if (!nv)
            return mvot_error_set(err, MVOT_ERR_NOMEM, w->path, "out of memory");
        w->eps = nv;
        w->cap_eps = nc;
    }
    struct ep_slot *s = &w->eps[w->n_eps];
    s->key = mvot_strdupf("%s", ep->key);
    if (!s->key)
        return mvot_error_set(err, MVOT_ERR_NOMEM, w->path, "out of memory");
    s->task = ep->task;
    s->split = ep->split;
    s->steps = ep->steps;
    w->n_eps++;
    return MVOT_OK;
}

enum mvot_status mvot_tarz_writer_begin(struct mvot_tarz_writer *w,
                                        const struct mvot_tarz_episode *ep, struct mvot_error *err)
{
    if (w->open_ep)
        return mvot_error_set(err, MVOT_ERR_INTERNAL, w->path, "episode %s begun inside another",
                              ep->key);
    enum mvot_status st = push_episode(w, ep, err);
    if (st == MVOT_OK) {
        w->open_ep = 1;
        w->cur.tar.len = 0;
    }
    return st;
}

enum mvot_status mvot_tarz_writer_add(struct mvot_tarz_writer *w, const char *name,
                                      const void *data, size_t len, struct mvot_error *err)
{
    if (!w->open_ep)
        return mvot_error_set(err, MVOT_ERR_INTERNAL, w->path, "member %s outside an episode",
                              name);
    return mvot_tarz_frame_add(&w->cur, w->path, name, data, len, err);
}

static enum mvot_status write_bytes(struct mvot_tarz_writer *w, const void *p, size_t n,
                                    struct mvot_error *err)
{
    if (n && fwrite(p, 1, n, w->af.fp) != n)
        return mvot_error_set(err, MVOT_ERR_IO, w->path, "write failed");
    return MVOT_OK;
}

/* Compresses the current members as the next frame and writes it. */
static enum mvot_status put_frame(struct mvot_tarz_writer *w, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    MVOT_TRY(mvot_tarz_frame_finish(&w->cur, w->level, w->path, err));
    if (mvot_seek_entries_push(&w->ents, w->cur.e) != MVOT_OK)
        return mvot_error_set(err, MVOT_ERR_NOMEM, w->path, "out of memory");
    MVOT_TRY(write_bytes(w, w->cur.bytes.data, w->cur.bytes.len, err));
cleanup:
    return st;
}

enum mvot_status mvot_tarz_writer_end(struct mvot_tarz_writer *w, struct mvot_error *err)
{
    if (!w->open_ep)
        return mvot_error_set(err, MVOT_ERR_INTERNAL, w->path, "no episode to end");
    w->open_ep = 0;
    return put_frame(w, err);
}

enum mvot_status mvot_tarz_writer_copy(struct mvot_tarz_writer *w,
                                       const struct mvot_tarz_episode *ep, const void *frame,
                                       const struct mvot_seek_entry *e, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    if (w->open_ep)
        return mvot_error_set(err, MVOT_ERR_INTERNAL, w->path, "frame copied inside an episode");
    MVOT_TRY(push_episode(w, ep, err));
    if (mvot_seek_entries_push(&w->ents, *e) != MVOT_OK)
        return mvot_error_set(err, MVOT_ERR_NOMEM, w->path, "out of memory");
    MVOT_TRY(write_bytes(w, frame, e->csize, err));
cleanup:
    return st;
}

/* The index frame: magic, size, then "MVEI", u32 version, u32 count, per episode u32 frame,
 * u8 task, u8 split, u32 steps, u8 key length, key; then the checksum of all of it. */
#define EPI_HEAD 12u
#define EPI_FIXED 11u

static enum mvot_status encode_index(const struct mvot_tarz_writer *w, struct mvot_buf *out)
{
    enum mvot_status st = MVOT_OK;
    uint8_t b[EPI_FIXED];
    size_t start = out->len;
    mvot_wr32(b, MVOT_EPINDEX_MAGIC);
    mvot_wr32(b + 4, 0); /* the size, once known */
    st = mvot_buf_append(out, b, 8);
    if (st == MVOT_OK)
        st = mvot_buf_append(out, MVOT_EPINDEX_TAG, 4);
    mvot_wr32(b, MVOT_EPINDEX_VERSION);
    mvot_wr32(b + 4, (uint32_t)w->n_eps);
    if (st == MVOT_OK)
        st = mvot_buf_append(out, b, 8);
    for (size_t i = 0; st == MVOT_OK && i < w->n_eps; i++) {
        const struct ep_slot *s = &w->eps[i];
        size_t kl = strlen(s->key);
        mvot_wr32(b, (uint32_t)i);
        b[4] = s->task;
        b[5] = s->split;
        mvot_wr32(b + 6, s->steps);
        b[10] = (uint8_t)kl;
        st = mvot_buf_append(out, b, EPI_FIXED);
        if (st == MVOT_OK)
            st = mvot_buf_append(out, s->key, kl);
    }
    if (st == MVOT_OK) {
        size_t cl = out->len - start - 8;
        mvot_wr32(b, mvot_seek_checksum(out->data + start + 8, cl));
        st = mvot_buf_append(out, b, 4);
        if (st == MVOT_OK && cl + 4 > UINT32_MAX)
            st = MVOT_ERR_INVALID;
        if (st == MVOT_OK)
            mvot_wr32(out->data + start + 4, (uint32_t)(cl + 4));
    }
    return st;
}

enum mvot_status mvot_tarz_writer_commit(struct mvot_tarz_writer *w, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_buf tail;
    mvot_buf_init(&tail, 0);
    MVOT_FAIL_IF(w->open_ep, err, MVOT_ERR_INTERNAL, w->path, "archive closed inside an episode");
    MVOT_FAIL_IF(w->n_eps >= MVOT_SEEK_MAX_FRAMES, err, MVOT_ERR_INVALID, w->path,
                 "%zu episodes: over the seek table's cap", w->n_eps);
    /* The tar end marker is a frame of its own, so episode frames copy between archives. */
    w->cur.tar.len = 0;
    MVOT_FAIL_IF(mvot_tar_append_end(&w->cur.tar) != MVOT_OK, err, MVOT_ERR_NOMEM, w->path,
                 "out of memory");
    MVOT_TRY(put_frame(w, err));
    MVOT_FAIL_IF(encode_index(w, &tail) != MVOT_OK ||
                     mvot_seek_table_encode(w->ents.v, w->ents.n, &tail) != MVOT_OK,
                 err, MVOT_ERR_NOMEM, w->path, "out of memory");
    MVOT_TRY(write_bytes(w, tail.data, tail.len, err));
    st = mvot_atomic_commit(&w->af, err);
cleanup:
    mvot_buf_free(&tail);
    mvot_tarz_writer_abort(w); /* after a commit the atomic file is closed: abort frees only */
    return st;
}

/* ---- streaming reader ---- */

struct mvot_tarz_reader {
    struct archive *a;
    int fd; /* ours: libarchive reads it but does not close it */
    char *path;
    char *name;
    const uint8_t *mem; /* the in-memory backend (a is NULL): borrowed */
    size_t mem_len, mem_pos;
};

void mvot_tarz_reader_close(struct mvot_tarz_reader *r)
{
    if (!r)
        return;
    if (r->a)
        archive_read_free(r->a);
    if (r->fd >= 0)
        close(r->fd);
    free(r->path);
    free(r->name);
    free(r);
}

const char *mvot_tarz_reader_path(const struct mvot_tarz_reader *r)
{
    return r->path;
}

enum mvot_status mvot_tarz_reader_open(const char *path, struct mvot_tarz_reader **out,
                                       struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_tarz_reader *r = calloc(1, sizeof *r);
    *out = NULL;
    if (!r)
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
    r->fd = -1;
    r->path = mvot_strdupf("%s", path);
    r->a = archive_read_new();
    MVOT_FAIL_IF(!r->path || !r->a, err, MVOT_ERR_NOMEM, path, "out of memory");
    archive_read_support_filter_zstd(r->a);
    archive_read_support_filter_none(r->a);
    archive_read_support_format_tar(r->a);
    r->fd = mvot_io_open_input(path, err); /* a FIFO would block libarchive's open */
    if (r->fd < 0) {
        st = MVOT_ERR_IO;
        goto cleanup;
    }
    if (archive_read_open_fd(r->a, r->fd, 1 << 16) != ARCHIVE_OK) {
        if (mvot_io_exists(path))
            st = mvot_error_corrupt(err, path, -1, "cannot open archive: %s",
                                    archive_error_string(r->a));
        else
            st = mvot_error_set(err, MVOT_ERR_IO, path, "cannot open archive: %s",
                                archive_error_string(r->a));
        goto cleanup;
    }
    *out = r;
    r = NULL;
cleanup:
    mvot_tarz_reader_close(r);
    return st;
}

enum mvot_status mvot_tarz_reader_open_mem(const char *path, const uint8_t *buf, size_t len,
                                           struct mvot_tarz_reader **out, struct mvot_error *err)
{
    struct mvot_tarz_reader *r = calloc(1, sizeof *r);
    *out = NULL;
    if (r)
        r->path = mvot_strdupf("%s", path);
    if (!r || !r->path) {
        free(r);
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
    }
    r->fd = -1;
    r->mem = buf;
    r->mem_len = len;
    *out = r;
    return MVOT_OK;
}

/* The next member of the in-memory backend: ustar headers as the writer makes them. */
static enum mvot_status mem_next(struct mvot_tarz_reader *r, const char **name, uint8_t **data,
                                 size_t *len, int *done, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_tar_member m;
    if (r->mem_len - r->mem_pos < MVOT_TAR_BLOCK) {
        MVOT_CORRUPT_IF(r->mem_pos != r->mem_len, err, r->path, "%zu stray bytes after member %s",
                        r->mem_len - r->mem_pos, r->name ? r->name : "(none)");
        *done = 1;
        return MVOT_OK;
    }
    MVOT_TRY(mvot_tar_parse_header(r->mem + r->mem_pos, r->path, &m, err));
    if (m.is_end) {
        *done = 1;
        return MVOT_OK;
    }
    MVOT_CORRUPT_IF(m.size > MVOT_TARZ_MAX_MEMBER ||
                        mvot_tar_member_span(m.size) > r->mem_len - r->mem_pos,
                    err, r->path, "member %s: size %" PRIu64 " beyond its frame", m.name, m.size);
    free(r->name);
    r->name = mvot_strdupf("%s", m.name);
    *data = malloc((size_t)m.size + 1);
    MVOT_FAIL_IF(!r->name || !*data, err, MVOT_ERR_NOMEM, r->path, "out of memory");
    memcpy(*data, r->mem + r->mem_pos + MVOT_TAR_BLOCK, (size_t)m.size);
    (*data)[m.size] = 0;
    *len = (size_t)m.size;
    *name = r->name;
    r->mem_pos += (size_t)mvot_tar_member_span(m.size);
cleanup:
    if (st != MVOT_OK) {
        free(*data);
        *data = NULL;
    }
    return st;
}

enum mvot_status mvot_tarz_reader_next(struct mvot_tarz_reader *r, const char **name,
                                       uint8_t **data, size_t *len, int *done,
                                       struct mvot_error *err)
{
    struct archive_entry *e;
    *data = NULL;
    *len = 0;
    *done = 0;
    if (r->mem)
        return mem_next(r, name, data, len, done, err);
    for (;;) {
        int rc = archive_read_next_header(r->a, &e);
        if (rc == ARCHIVE_EOF) {
            *done = 1;
            return MVOT_OK;
        }
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
            return mvot_error_corrupt(err, r->path, -1, "bad archive header: %s",
                                      archive_error_string(r->a));
        if (archive_entry_filetype(e) == AE_IFREG)
            break;
    }
    const char *nm = archive_entry_pathname(e);
    la_int64_t size = archive_entry_size(e);
    if (!nm)
        return mvot_error_corrupt(err, r->path, -1, "member without a name");
    if (size < 0 || (uint64_t)size > MVOT_TARZ_MAX_MEMBER)
        return mvot_error_corrupt(err, r->path, -1, "member %s: size %lld over the cap", nm,
                                  (long long)size);
    free(r->name);
    r->name = mvot_strdupf("%s", nm);
    uint8_t *buf = malloc((size_t)size + 1);
    if (!r->name || !buf) {
        free(buf);
        return mvot_error_set(err, MVOT_ERR_NOMEM, r->path, "out of memory");
    }
    size_t got = 0;
    while (got < (size_t)size) {
        la_ssize_t k = archive_read_data(r->a, buf + got, (size_t)size - got);
        if (k <= 0) {
            free(buf);
            return mvot_error_corrupt(err, r->path, -1, "member %s: truncated data (%s)", r->name,
                                      k < 0 ? archive_error_string(r->a) : "end of archive");
        }
        got += (size_t)k;
    }
    buf[got] = 0;
    *name = r->name;
    *data = buf;
    *len = got;
    return MVOT_OK;
}

/* ---- random access (version 2) ---- */

struct mvot_tarz_index {
    int fd;
    char *path;
    struct mvot_seek_entries ents; /* episodes, then the end marker */
    uint64_t *off;                 /* [ents.n]: file offset of each frame */
    struct mvot_tarz_episode *eps;
    char *keys; /* the keys' bytes, NUL-separated: eps[i].key points in here */
    size_t n;
    ZSTD_DCtx *dctx;
    struct mvot_buf cbuf, raw;
};

void mvot_tarz_index_close(struct mvot_tarz_index *ix)
{
    if (!ix)
        return;
    if (ix->fd >= 0)
        close(ix->fd);
    free(ix->path);
    mvot_seek_entries_free(&ix->ents);
    free(ix->off);
    free(ix->eps);
    free(ix->keys);
    ZSTD_freeDCtx(ix->dctx);
    mvot_buf_free(&ix->cbuf);
    mvot_buf_free(&ix->raw);
    free(ix);
}

size_t mvot_tarz_index_count(const struct mvot_tarz_index *ix)
{
    return ix->n;
}

const struct mvot_tarz_episode *mvot_tarz_index_get(const struct mvot_tarz_index *ix, size_t i)
{
    return &ix->eps[i];
}

const char *mvot_tarz_index_path(const struct mvot_tarz_index *ix)
{
    return ix->path;
}

void mvot_tarz_index_frame(const struct mvot_tarz_index *ix, size_t i, struct mvot_seek_entry *e,
                           uint64_t *offset)
{
    *e = ix->ents.v[i];
    *offset = ix->off[i];
}

/* Parses the index frame buf[0..len) (at file offset at) for n episodes into ix. */
static enum mvot_status parse_index(struct mvot_tarz_index *ix, const uint8_t *buf, size_t len,
                                    uint64_t at, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const char *p = ix->path;
    const int64_t o = (int64_t)at;
    if (len < 8 + EPI_HEAD + 4 || mvot_rd32(buf) != MVOT_EPINDEX_MAGIC ||
        mvot_rd32(buf + 4) != len - 8)
        return mvot_error_corrupt(err, p, o, "bad episode index frame header");
    const uint8_t *c = buf + 8;
    size_t cl = len - 8 - 4; /* the content before the checksum */
    uint32_t ver = mvot_rd32(c + 4), n = mvot_rd32(c + 8);
    if (memcmp(c, MVOT_EPINDEX_TAG, 4) != 0 || ver != MVOT_EPINDEX_VERSION)
        return mvot_error_corrupt(err, p, o, "episode index: bad tag or version %u", ver);
    if (mvot_seek_checksum(c, cl) != mvot_rd32(c + cl))
        return mvot_error_corrupt(err, p, o, "episode index: checksum mismatch");
    if ((uint64_t)n + 1 != ix->ents.n)
        return mvot_error_corrupt(err, p, o, "episode index: %u episodes for %zu frames", n,
                                  ix->ents.n);
    ix->eps = calloc(n ? n : 1, sizeof *ix->eps);
    ix->keys = malloc(cl); /* keys and their NULs take less than the content */
    if (!ix->eps || !ix->keys)
        return mvot_error_set(err, MVOT_ERR_NOMEM, p, "out of memory");
    size_t pos = EPI_HEAD, kpos = 0;
    for (uint32_t i = 0; i < n; i++) {
        MVOT_CORRUPT_IF(cl - pos < EPI_FIXED, err, p, "episode index: truncated at episode %u", i);
        const uint8_t *q = c + pos;
        size_t kl = q[10];
        pos += EPI_FIXED;
        MVOT_CORRUPT_IF(mvot_rd32(q) != i || q[4] > 2 || q[5] > 2 || kl > cl - pos, err, p,
                        "episode index: episode %u has a bad frame, task, split or key", i);
        struct mvot_tarz_episode *e = &ix->eps[i];
        char *key = ix->keys + kpos;
        memcpy(key, c + pos, kl);
        key[kl] = 0;
        MVOT_CORRUPT_IF(strlen(key) != kl || !key_ok(key), err, p,
                        "episode index: episode %u has a bad key", i);
        e->key = key;
        e->task = q[4];
        e->split = q[5];
        e->steps = mvot_rd32(q + 6);
        pos += kl;
        kpos += kl + 1;
    }
    MVOT_CORRUPT_IF(pos != cl, err, p, "episode index: %zu trailing bytes", cl - pos);
    ix->n = n;
cleanup:
    return st;
}

enum mvot_status mvot_tarz_index_open(const char *path, struct mvot_tarz_index **out,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_tarz_index *ix = calloc(1, sizeof *ix);
    uint8_t *ibuf = NULL;
    struct stat sb;
    uint8_t foot[MVOT_SEEK_FOOTER_SIZE];
    uint64_t table = 0, end = 0;
    *out = NULL;
    if (!ix)
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
    ix->fd = -1;
    mvot_buf_init(&ix->cbuf, 0);
    mvot_buf_init(&ix->raw, 0);
    ix->path = mvot_strdupf("%s", path);
    ix->dctx = ZSTD_createDCtx();
    MVOT_FAIL_IF(!ix->path || !ix->dctx, err, MVOT_ERR_NOMEM, path, "out of memory");
    ix->fd = mvot_io_open_input(path, err);
    if (ix->fd < 0) {
        st = MVOT_ERR_IO;
        goto cleanup;
    }
    MVOT_FAIL_IF(fstat(ix->fd, &sb) != 0, err, MVOT_ERR_IO, path, "cannot stat");
    uint64_t size = (uint64_t)sb.st_size;
    if (!S_ISREG(sb.st_mode) || size < MVOT_SEEK_FOOTER_SIZE)
        goto cleanup; /* a pipe or a tiny file: no index to seek by */
    MVOT_TRY(mvot_tarzst_pread(ix->fd, foot, sizeof foot, size - sizeof foot, path, err));
    if (mvot_rd32(foot + 5) != MVOT_SEEK_FOOTER_MAGIC)
        goto cleanup; /* version 1: one zstd stream */
    MVOT_TRY(mvot_seek_table_read(ix->fd, size, path, &ix->ents, &table, err));
    MVOT_CORRUPT_IF(ix->ents.n < 1, err, path, "seek table without the end marker frame");
    ix->off = malloc(ix->ents.n * sizeof *ix->off);
    MVOT_FAIL_IF(!ix->off, err, MVOT_ERR_NOMEM, path, "out of memory");
    for (size_t i = 0; i < ix->ents.n; i++) { /* seek_table_read checked the sum fits */
        ix->off[i] = end;
        end += ix->ents.v[i].csize;
    }
    MVOT_CORRUPT_IF(ix->ents.v[ix->ents.n - 1].dsize != 2 * MVOT_TAR_BLOCK, err, path,
                    "seek table: the last frame is not the tar end marker");
    uint64_t ilen = size - table - end; /* seek_table_read checked end <= size - table */
    /* an index entry takes at most EPI_FIXED + key bytes */
    uint64_t imax = 8 + EPI_HEAD + 4 + (uint64_t)ix->ents.n * (EPI_FIXED + MVOT_EPINDEX_KEY_MAX);
    if (ilen < 8 + EPI_HEAD + 4 || ilen > imax) {
        st = mvot_error_corrupt(err, path, (int64_t)end,
                                "episode index of %" PRIu64 " bytes (want 24..%" PRIu64 ")", ilen,
                                imax);
        goto cleanup;
    }
    ibuf = malloc((size_t)ilen);
    MVOT_FAIL_IF(!ibuf, err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_TRY(mvot_tarzst_pread(ix->fd, ibuf, (size_t)ilen, end, path, err));
    MVOT_TRY(parse_index(ix, ibuf, (size_t)ilen, end, err));
    *out = ix;
    ix = NULL;
cleanup:
    free(ibuf);
    mvot_tarz_index_close(ix);
    return st;
}

enum mvot_status mvot_tarz_index_read(struct mvot_tarz_index *ix, size_t i, int raw,
                                      const uint8_t **data, size_t *len, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const struct mvot_seek_entry *e = &ix->ents.v[i];
    if (raw) {
        MVOT_TRY(mvot_seekzstd_read_frame(ix->fd, ix->off[i], e, MVOT_TARZ_MAX_EPISODE, ix->dctx,
                                          &ix->cbuf, &ix->raw, ix->path, err));
        *data = ix->raw.data;
        *len = ix->raw.len;
    } else {
        ix->cbuf.len = 0;
        MVOT_FAIL_IF(mvot_buf_reserve(&ix->cbuf, e->csize) != MVOT_OK, err, MVOT_ERR_NOMEM,
                     ix->path, "out of memory");
        MVOT_TRY(mvot_tarzst_pread(ix->fd, ix->cbuf.data, e->csize, ix->off[i], ix->path, err));
        *data = ix->cbuf.data;
        *len = e->csize;
    }
cleanup:
    return st;
}
