/* The sample index frame of the shard format (docs/shard-format.md §2). The generic pieces
 * (ustar members, seekable-zstd frames, the seek table) are in core/tarzst.c.
 * Invariants: parsers never read past the bytes they were given. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "shards/format.h"

/* ---- index frame ---- */

void mvot_index_free(struct mvot_index *ix)
{
    if (!ix)
        return;
    for (size_t i = 0; i < ix->n; i++)
        free(ix->v[i].key);
    free(ix->v);
    memset(ix, 0, sizeof *ix);
}

enum mvot_status mvot_index_push(struct mvot_index *ix, const struct mvot_index_entry *e)
{
    if (ix->n == ix->cap) {
        size_t nc = ix->cap ? ix->cap * 2 : 64;
        struct mvot_index_entry *nv = realloc(ix->v, nc * sizeof *nv);
        if (!nv)
            return MVOT_ERR_NOMEM;
        ix->v = nv;
        ix->cap = nc;
    }
    char *k = strdup(e->key);
    if (!k)
        return MVOT_ERR_NOMEM;
    ix->v[ix->n] = *e;
    ix->v[ix->n++].key = k;
    return MVOT_OK;
}

/* v2 entry: u32 frame, u32 offset, u32 length, u8 split, u8 task, u16 episode length,
 * u16 key length, key bytes. */
#define ENTRY_V2_FIXED 16u
#define ENTRY_V1_FIXED 10u

enum mvot_status mvot_index_encode(const struct mvot_index *ix, struct mvot_buf *out)
{
    struct mvot_buf c;
    mvot_buf_init(&c, 0);
    enum mvot_status st = mvot_buf_append(&c, MVOT_INDEX_TAG, 4);
    uint8_t b[ENTRY_V2_FIXED];
    mvot_wr32(b, MVOT_INDEX_VERSION);
    mvot_wr32(b + 4, (uint32_t)ix->n);
    if (st == MVOT_OK)
        st = mvot_buf_append(&c, b, 8);
    for (size_t i = 0; st == MVOT_OK && i < ix->n; i++) {
        const struct mvot_index_entry *e = &ix->v[i];
        size_t kl = strlen(e->key);
        if (kl > MVOT_TAR_NAME_MAX || e->episode_len > kl || e->n_frames != 1) {
            st = MVOT_ERR_INVALID;
            break;
        }
        mvot_wr32(b, e->first_frame);
        mvot_wr32(b + 4, e->offset);
        mvot_wr32(b + 8, e->length);
        b[12] = e->split;
        b[13] = e->task;
        b[14] = (uint8_t)e->episode_len;
        b[15] = (uint8_t)(e->episode_len >> 8);
        st = mvot_buf_append(&c, b, ENTRY_V2_FIXED);
        b[0] = (uint8_t)kl;
        b[1] = (uint8_t)(kl >> 8);
        if (st == MVOT_OK)
            st = mvot_buf_append(&c, b, 2);
        if (st == MVOT_OK)
            st = mvot_buf_append(&c, e->key, kl);
    }
    if (st == MVOT_OK) {
        mvot_wr32(b, mvot_seek_checksum(c.data, c.len));
        st = mvot_buf_append(&c, b, 4);
    }
    if (st == MVOT_OK && c.len > 0xffffffffu)
        st = MVOT_ERR_INVALID;
    if (st == MVOT_OK) {
        mvot_wr32(b, MVOT_INDEX_MAGIC);
        mvot_wr32(b + 4, (uint32_t)c.len);
        st = mvot_buf_append(out, b, 8);
        if (st == MVOT_OK)
            st = mvot_buf_append(out, c.data, c.len);
    }
    mvot_buf_free(&c);
    return st;
}

/* Reads one entry at c[*pos] (content bytes before the checksum: cl); 0 on success. */
static int read_entry(const uint8_t *c, size_t cl, size_t *pos, uint32_t version,
                      struct mvot_index_entry *e, char key[MVOT_TAR_NAME_MAX + 1])
{
    size_t fixed = version == 1 ? ENTRY_V1_FIXED : ENTRY_V2_FIXED + 2;
    if (*pos + fixed > cl)
        return -1;
    const uint8_t *p = c + *pos;
    size_t kl;
    memset(e, 0, sizeof *e);
    if (version == 1) {
        e->first_frame = mvot_rd32(p);
        e->n_frames = mvot_rd32(p + 4);
        kl = (size_t)p[8] | (size_t)p[9] << 8;
        e->split = e->task = MVOT_INDEX_UNKNOWN;
    } else {
        e->first_frame = mvot_rd32(p);
        e->n_frames = 1;
        e->offset = mvot_rd32(p + 4);
        e->length = mvot_rd32(p + 8);
        e->split = p[12];
        e->task = p[13];
        e->episode_len = (uint16_t)(p[14] | p[15] << 8);
        kl = (size_t)p[16] | (size_t)p[17] << 8;
    }
    *pos += fixed;
    if (kl == 0 || kl > MVOT_TAR_NAME_MAX || kl > cl - *pos || e->episode_len > kl)
        return -1;
    memcpy(key, c + *pos, kl);
    key[kl] = 0;
    *pos += kl;
    return strlen(key) == kl ? 0 : -1;
}

enum mvot_status mvot_index_parse(const uint8_t *buf, size_t len,
                                  const struct mvot_seek_entry *ents, uint32_t n_frames,
                                  const char *name, struct mvot_index *out, uint32_t *version,
                                  struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    memset(out, 0, sizeof *out);
    if (len < 8 + 16 || mvot_rd32(buf) != MVOT_INDEX_MAGIC || mvot_rd32(buf + 4) != len - 8)
        return mvot_error_corrupt(err, name, -1, "bad index frame header");
    const uint8_t *c = buf + 8;
    size_t cl = len - 8;
    uint32_t ver = mvot_rd32(c + 4);
    if (memcmp(c, MVOT_INDEX_TAG, 4) != 0 ||
        (ver != MVOT_INDEX_VERSION && ver != MVOT_INDEX_VERSION_V1))
        return mvot_error_corrupt(err, name, -1, "index frame: bad tag or version %u", ver);
    if (mvot_seek_checksum(c, cl - 4) != mvot_rd32(c + cl - 4))
        return mvot_error_corrupt(err, name, -1, "index frame: checksum mismatch");
    *version = ver;
    uint32_t n = mvot_rd32(c + 8);
    size_t pos = 12;
    uint32_t next = 0; /* v1: next frame; v2: current group */
    uint64_t at = 0;   /* v2: next offset in the current group */
    if ((uint64_t)n * ENTRY_V1_FIXED > cl)
        return mvot_error_corrupt(err, name, -1, "index frame: %u samples exceed its size", n);
    for (uint32_t i = 0; i < n; i++) {
        struct mvot_index_entry e;
        char key[MVOT_TAR_NAME_MAX + 1];
        if (read_entry(c, cl - 4, &pos, ver, &e, key) != 0) {
            st = mvot_error_corrupt(err, name, -1, "index frame: bad or truncated sample %u", i);
            goto cleanup;
        }
        e.key = key;
        int ok;
        if (ver == 1) {
            ok = e.first_frame == next && e.n_frames && e.first_frame <= n_frames &&
                 e.n_frames <= n_frames - e.first_frame;
            if (ok) {
                uint64_t sz = 0;
                for (uint32_t f = 0; f < e.n_frames; f++)
                    sz += ents[e.first_frame + f].dsize;
                ok = sz <= MVOT_SAMPLE_MAX_RAW;
                e.length = (uint32_t)sz;
                next = e.first_frame + e.n_frames;
            }
        } else {
            if (e.first_frame != next) { /* a new group starts: the previous one is covered */
                ok = e.first_frame == next + 1 && next < n_frames && at == ents[next].dsize &&
                     e.offset == 0;
                next = e.first_frame;
                at = 0;
            } else {
                ok = e.offset == at;
            }
            ok = ok && next < n_frames && e.length > 0 && e.length <= MVOT_SAMPLE_MAX_RAW &&
                 (uint64_t)e.offset + e.length <= ents[next].dsize && e.split <= 2 && e.task <= 2;
            at = (uint64_t)e.offset + e.length;
        }
        if (!ok) {
            st = mvot_error_corrupt(err, name, -1,
                                    "index frame: sample %u (frame %u, +%u bytes at %u) out of "
                                    "order or beyond its frame, or bad split/task",
                                    i, e.first_frame, e.length, e.offset);
            goto cleanup;
        }
        if (mvot_index_push(out, &e) != MVOT_OK) {
            st = mvot_error_set(err, MVOT_ERR_NOMEM, name, "out of memory");
            goto cleanup;
        }
    }
    /* v1: the frames are all samples'; v2: the last group is covered to its end */
    if (ver == 1 ? next != n_frames
                 : (n ? (next + 1 != n_frames || at != ents[next].dsize) : n_frames != 0)) {
        st = mvot_error_corrupt(err, name, -1,
                                "index frame: samples do not cover the %u data frames", n_frames);
        goto cleanup;
    }
    if (pos != cl - 4) {
        st = mvot_error_corrupt(err, name, -1, "index frame: %zu trailing bytes", cl - 4 - pos);
        goto cleanup;
    }
cleanup:
    if (st != MVOT_OK)
        mvot_index_free(out);
    return st;
}
