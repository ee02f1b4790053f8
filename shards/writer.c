/* Shard writer (docs/shard-format.md): sample members -> tar -> one zstd frame per episode
 * group (closed at an episode change or before MVOT_FRAME_MAX_RAW), then the tar trailer
 * frame, the index frame and the seek table. Raw and compressed XXH3 are computed while the
 * bytes stream out, in sample order; the tail (index + seek table) is hashed on its own for
 * the manifest's index_xxh3. Invariant: every byte written goes through the streaming
 * hashers exactly once. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "core/hash.h"
#include "core/npy.h"
#include "shards/writer.h"

void mvot_packed_sample_free(struct mvot_packed_sample *p)
{
    if (!p)
        return;
    free(p->key);
    mvot_buf_free(&p->raw);
    memset(p, 0, sizeof *p);
}

void mvot_spans_free(struct mvot_spans *s)
{
    if (!s)
        return;
    free(s->v);
    memset(s, 0, sizeof *s);
}

enum mvot_status mvot_spans_add(struct mvot_spans *s, uint32_t count, uint8_t modality,
                                uint8_t loss)
{
    if (count == 0)
        return MVOT_OK;
    if (s->n && s->v[s->n - 1].modality == modality && s->v[s->n - 1].loss == loss) {
        s->v[s->n - 1].length += count;
        return MVOT_OK;
    }
    uint32_t start = s->n ? s->v[s->n - 1].start + s->v[s->n - 1].length : 0;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        struct mvot_span *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return MVOT_ERR_NOMEM;
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = (struct mvot_span){start, count, modality, loss};
    return MVOT_OK;
}

static enum mvot_status member(struct mvot_buf *raw, const char *key, const char *ext,
                               const void *data, size_t len, struct mvot_error *err)
{
    char name[MVOT_TAR_NAME_MAX + 64];
    int n = snprintf(name, sizeof name, "%s.%s", key, ext);
    if (n < 0 || (size_t)n > MVOT_TAR_NAME_MAX)
        return mvot_error_set(err, MVOT_ERR_INVALID, key, "member name %s.%s is too long for tar",
                              key, ext);
    enum mvot_status st = mvot_tar_append(raw, name, data, len);
    if (st != MVOT_OK)
        return mvot_error_set(err, st, name, "cannot add tar member");
    return MVOT_OK;
}

enum mvot_status mvot_packed_sample_build(const struct mvot_sample_parts *pp,
                                          struct mvot_packed_sample *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_buf npy;
    void *tok = NULL;
    uint32_t *sp = NULL;
    memset(out, 0, sizeof *out);
    mvot_buf_init(&npy, 0);
    mvot_buf_init(&out->raw, 0);
    out->key = strdup(pp->key);
    MVOT_FAIL_IF(!out->key, err, MVOT_ERR_NOMEM, pp->key, "out of memory");
    MVOT_FAIL_IF(pp->episode_len > strlen(pp->key) || pp->split > 2 || pp->task > 2, err,
                 MVOT_ERR_INVALID, pp->key, "bad episode length, split or task");
    out->episode_len = pp->episode_len;
    out->split = pp->split;
    out->task = pp->task;
    for (const char *c = pp->key; *c; c++)
        MVOT_FAIL_IF(!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                       (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'),
                     err, MVOT_ERR_INVALID, pp->key,
                     "sample key has a character outside [A-Za-z0-9_-]");

    /* one allocation for all members (npy headers are at most 128 bytes here): growing the
     * buffer member by member copied the PNGs several times */
    size_t item = pp->wide ? 4 : 2;
    uint64_t est = mvot_tar_member_span(128 + (uint64_t)pp->n_tokens * item) +
                   mvot_tar_member_span(128 + (uint64_t)pp->n_spans * 16) +
                   mvot_tar_member_span(pp->json_len);
    for (uint32_t j = 0; j < pp->n_png; j++)
        est += mvot_tar_member_span(pp->png_len[j]);
    MVOT_FAIL_IF(est > MVOT_SAMPLE_MAX_RAW || mvot_buf_reserve(&out->raw, (size_t)est) != MVOT_OK,
                 err, MVOT_ERR_NOMEM, pp->key, "sample too large or out of memory");

    /* tokens */
    tok = malloc(pp->n_tokens ? pp->n_tokens * item : 1);
    MVOT_FAIL_IF(!tok, err, MVOT_ERR_NOMEM, pp->key, "out of memory");
    for (size_t i = 0; i < pp->n_tokens; i++) {
        uint32_t t = pp->tokens[i];
        if (pp->wide) {
            mvot_wr32((uint8_t *)tok + 4 * i, t);
        } else {
            MVOT_FAIL_IF(t > 0xffff, err, MVOT_ERR_INVALID, pp->key,
                         "token %u at %zu does not fit uint16", t, i);
            ((uint8_t *)tok)[2 * i] = (uint8_t)t;
            ((uint8_t *)tok)[2 * i + 1] = (uint8_t)(t >> 8);
        }
    }
    uint64_t shape[2] = {pp->n_tokens, 4};
    MVOT_FAIL_IF(mvot_npy_encode(&npy, pp->wide ? "<u4" : "<u2", 1, shape, tok) != MVOT_OK, err,
                 MVOT_ERR_NOMEM, pp->key, "cannot encode tokens.npy");
    MVOT_TRY(member(&out->raw, pp->key, "tokens.npy", npy.data, npy.len, err));

    /* spans */
    npy.len = 0;
    sp = malloc(pp->n_spans ? pp->n_spans * 16 : 1);
    MVOT_FAIL_IF(!sp, err, MVOT_ERR_NOMEM, pp->key, "out of memory");
    for (size_t i = 0; i < pp->n_spans; i++) {
        uint8_t *p = (uint8_t *)sp + 16 * i;
        mvot_wr32(p, pp->spans[i].start);
        mvot_wr32(p + 4, pp->spans[i].length);
        mvot_wr32(p + 8, pp->spans[i].modality);
        mvot_wr32(p + 12, pp->spans[i].loss);
    }
    shape[0] = pp->n_spans;
    MVOT_FAIL_IF(mvot_npy_encode(&npy, "<u4", 2, shape, sp) != MVOT_OK, err, MVOT_ERR_NOMEM,
                 pp->key, "cannot encode spans.npy");
    MVOT_TRY(member(&out->raw, pp->key, "spans.npy", npy.data, npy.len, err));

    MVOT_TRY(member(&out->raw, pp->key, "json", pp->json, pp->json_len, err));
    for (uint32_t j = 0; j < pp->n_png; j++) {
        char ext[32];
        snprintf(ext, sizeof ext, "%u.png", j);
        MVOT_TRY(member(&out->raw, pp->key, ext, pp->png[j], pp->png_len[j], err));
    }
    out->n_tokens = pp->n_tokens;
cleanup:
    free(tok);
    free(sp);
    mvot_buf_free(&npy);
    if (st != MVOT_OK)
        mvot_packed_sample_free(out);
    return st;
}

struct mvot_shard_writer {
    struct mvot_atomic_file af;
    int level;
    void *cctx; /* ZSTD_CCtx */
    struct mvot_hasher raw_h, comp_h;
    struct mvot_seek_entries frames;
    struct mvot_index index;
    struct mvot_buf group, comp; /* the open group's raw bytes; scratch for its frame */
    const char *group_key;       /* the open group's episode: key of its first sample */
    uint16_t group_ep_len;
    struct mvot_shard_info info;
};

enum mvot_status mvot_shard_writer_open(const char *path, int level, struct mvot_shard_writer **out,
                                        struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_shard_writer *w = calloc(1, sizeof *w);
    MVOT_FAIL_IF(!w, err, MVOT_ERR_NOMEM, path, "out of memory");
    w->level = level;
    mvot_buf_init(&w->group, 0);
    mvot_buf_init(&w->comp, 0);
    w->cctx = ZSTD_createCCtx();
    MVOT_FAIL_IF(!w->cctx || mvot_hasher_init(&w->raw_h) != MVOT_OK ||
                     mvot_hasher_init(&w->comp_h) != MVOT_OK,
                 err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_TRY(mvot_atomic_open(&w->af, path, err));
    *out = w;
    w = NULL;
cleanup:
    mvot_shard_writer_abort(w);
    return st;
}

static enum mvot_status write_comp(struct mvot_shard_writer *w, const void *data, size_t len,
                                   struct mvot_error *err)
{
    mvot_hasher_update(&w->comp_h, data, len);
    w->info.compressed_bytes += len;
    return mvot_io_write_all(w->af.fp, data, len, w->af.final_path, err);
}

/* Compresses raw as one frame and writes it. */
static enum mvot_status write_frame(struct mvot_shard_writer *w, const uint8_t *raw, size_t len,
                                    struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    MVOT_FAIL_IF(w->frames.n + 1 > MVOT_SHARD_MAX_FRAMES, err, MVOT_ERR_INVALID, w->af.final_path,
                 "too many frames in one shard");
    w->comp.len = 0;
    MVOT_TRY(mvot_seekzstd_compress(w->cctx, w->level, raw, len, &w->comp, &w->frames, err));
    mvot_hasher_update(&w->raw_h, raw, len);
    w->info.raw_bytes += len;
    MVOT_TRY(write_comp(w, w->comp.data, w->comp.len, err));
cleanup:
    return st;
}

static enum mvot_status close_group(struct mvot_shard_writer *w, struct mvot_error *err)
{
    if (!w->group.len)
        return MVOT_OK;
    enum mvot_status st = write_frame(w, w->group.data, w->group.len, err);
    w->group.len = 0;
    w->group_key = NULL;
    return st;
}

enum mvot_status mvot_shard_writer_add(struct mvot_shard_writer *w,
                                       const struct mvot_packed_sample *p, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    MVOT_FAIL_IF(p->raw.len > MVOT_SAMPLE_MAX_RAW, err, MVOT_ERR_INVALID, p->key,
                 "sample of %zu bytes exceeds the %u-byte cap", p->raw.len, MVOT_SAMPLE_MAX_RAW);
    if (w->group.len &&
        (p->episode_len != w->group_ep_len || memcmp(p->key, w->group_key, p->episode_len) != 0 ||
         w->group.len + p->raw.len > MVOT_FRAME_MAX_RAW))
        MVOT_TRY(close_group(w, err));
    struct mvot_index_entry e = {(uint32_t)w->frames.n, 1,        (uint32_t)w->group.len,
                                 (uint32_t)p->raw.len,  p->split, p->task,
                                 p->episode_len,        p->key};
    MVOT_FAIL_IF(mvot_index_push(&w->index, &e) != MVOT_OK ||
                     mvot_buf_append(&w->group, p->raw.data, p->raw.len) != MVOT_OK,
                 err, MVOT_ERR_NOMEM, w->af.final_path, "out of memory");
    w->group_key = w->index.v[w->index.n - 1].key;
    w->group_ep_len = p->episode_len;
    w->info.samples++;
    w->info.tokens += p->n_tokens;
cleanup:
    return st;
}

uint64_t mvot_shard_writer_samples(const struct mvot_shard_writer *w)
{
    return w->info.samples;
}

uint64_t mvot_shard_writer_raw_bytes(const struct mvot_shard_writer *w)
{
    return w->info.raw_bytes + w->group.len;
}

enum mvot_status mvot_shard_writer_commit(struct mvot_shard_writer *w, struct mvot_shard_info *info,
                                          struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_buf tail;
    static const uint8_t end[2 * MVOT_TAR_BLOCK];
    mvot_buf_init(&tail, 0);
    MVOT_TRY(close_group(w, err));
    MVOT_TRY(write_frame(w, end, sizeof end, err));
    MVOT_FAIL_IF(mvot_index_encode(&w->index, &tail) != MVOT_OK, err, MVOT_ERR_NOMEM,
                 w->af.final_path, "cannot encode the index frame");
    MVOT_FAIL_IF(mvot_seek_table_encode(w->frames.v, w->frames.n, &tail) != MVOT_OK, err,
                 MVOT_ERR_INVALID, w->af.final_path, "cannot encode the seek table");
    MVOT_TRY(write_comp(w, tail.data, tail.len, err));
    MVOT_TRY(mvot_atomic_commit(&w->af, err));
    w->info.frames = w->frames.n;
    w->info.raw_xxh3 = mvot_hasher_digest(&w->raw_h);
    w->info.compressed_xxh3 = mvot_hasher_digest(&w->comp_h);
    w->info.index_xxh3 = mvot_hash64(tail.data, tail.len);
    if (info)
        *info = w->info;
cleanup:
    mvot_buf_free(&tail);
    mvot_shard_writer_abort(w);
    return st;
}

void mvot_shard_writer_abort(struct mvot_shard_writer *w)
{
    if (!w)
        return;
    mvot_atomic_abort(&w->af);
    mvot_hasher_free(&w->raw_h);
    mvot_hasher_free(&w->comp_h);
    mvot_seek_entries_free(&w->frames);
    mvot_index_free(&w->index);
    mvot_buf_free(&w->group);
    mvot_buf_free(&w->comp);
    ZSTD_freeCCtx(w->cctx);
    free(w);
}
