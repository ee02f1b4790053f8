/* Shard set reader (shards/reader.h, docs/shard-format.md). manifest.json gives the shards
 * and their sample ranges; a shard is checked against its manifest record and its seek table
 * and index are loaded on first use, so reading sample i costs one pread of its group frame
 * and its decompression (none when the previous read left that group decompressed). The key map
 * for lookups is built on the first lookup from the indices alone (no decompression). */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/npy.h"
#include "gen/episode.h"
#include "shards/format.h"
#include "shards/manifest.h"
#include "shards/reader.h"

struct shard_meta {
    char *path;
    uint64_t first_sample, samples;
    uint64_t size, index_xxh3; /* v2: expected file size and tail hash */
    int loaded;
    int fd;
    uint64_t *frame_off; /* n_frames + 1 compressed offsets */
    struct mvot_seek_entries ents;
    struct mvot_index index;
};

struct mvot_shard_set {
    char *dir;   /* the root: manifest.json, tokenizer and codebook copies */
    char *split; /* the split folder given, or NULL for the whole set */
    int version;
    char *warning;
    json_t *manifest;
    size_t n_shards;
    struct shard_meta *sh;
    uint64_t total;
    ZSTD_DCtx *dctx;
    struct mvot_buf cbuf, rbuf;
    /* rbuf holds the decompressed frames [cache_f0, cache_f1) of shard cache_shard */
    size_t cache_shard;
    uint32_t cache_f0, cache_f1;
    /* key map: open addressing over global indices (+1; 0 = empty) */
    uint64_t *map;
    size_t map_cap;
};

const char *mvot_shard_set_dir(const struct mvot_shard_set *s)
{
    return s->dir;
}

const char *mvot_shard_set_split(const struct mvot_shard_set *s)
{
    return s->split;
}

int mvot_shard_set_version(const struct mvot_shard_set *s)
{
    return s->version;
}

const char *mvot_shard_set_warning(const struct mvot_shard_set *s)
{
    return s->warning;
}

enum mvot_status mvot_shards_locate(const char *path, char **root, char **split,
                                    struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *m = mvot_io_join(path, "manifest.json"), *parent = NULL, *pm = NULL;
    *root = *split = NULL;
    MVOT_FAIL_IF(!m, err, MVOT_ERR_NOMEM, path, "out of memory");
    if (mvot_io_exists(m)) {
        *root = strdup(path);
        MVOT_FAIL_IF(!*root, err, MVOT_ERR_NOMEM, path, "out of memory");
        goto cleanup;
    }
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && path[b - 1] != '/')
        b--;
    const char *base = path + b;
    size_t bl = n - b;
    int is_split = 0;
    for (int i = 0; i < 3; i++) {
        const char *sn = mvot_split_name((enum mvot_split)i);
        if (strlen(sn) == bl && memcmp(sn, base, bl) == 0)
            is_split = 1;
    }
    MVOT_FAIL_IF(!is_split, err, MVOT_ERR_NOTFOUND, m,
                 "no manifest.json: not a shard set root or one split's folder");
    parent = b ? mvot_strdupf("%.*s", (int)b, path) : strdup(".");
    pm = parent ? mvot_io_join(parent, "manifest.json") : NULL;
    MVOT_FAIL_IF(!pm, err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_FAIL_IF(!mvot_io_exists(pm), err, MVOT_ERR_NOTFOUND, m,
                 "no manifest.json here or in the parent folder");
    *root = parent;
    parent = NULL;
    *split = mvot_strdupf("%.*s", (int)bl, base);
    MVOT_FAIL_IF(!*split, err, MVOT_ERR_NOMEM, path, "out of memory");
cleanup:
    free(m);
    free(parent);
    free(pm);
    if (st != MVOT_OK) {
        free(*root);
        free(*split);
        *root = *split = NULL;
    }
    return st;
}

enum mvot_status mvot_shard_set_open(const char *path, struct mvot_shard_set **out,
                                     struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *mpath = NULL;
    struct mvot_shard_set *s = calloc(1, sizeof *s);
    MVOT_FAIL_IF(!s, err, MVOT_ERR_NOMEM, path, "out of memory");
    mvot_buf_init(&s->cbuf, 0);
    mvot_buf_init(&s->rbuf, 0);
    s->cache_shard = SIZE_MAX;
    MVOT_TRY(mvot_shards_locate(path, &s->dir, &s->split, err));
    mpath = mvot_io_join(s->dir, "manifest.json");
    s->dctx = ZSTD_createDCtx();
    MVOT_FAIL_IF(!mpath || !s->dctx, err, MVOT_ERR_NOMEM, path, "out of memory");
    MVOT_TRY(mvot_json_load_file(mpath, &s->manifest, err));
    const char *fmt = NULL;
    int64_t ver = 0;
    MVOT_TRY(mvot_json_get_str(s->manifest, "format", mpath, &fmt, err));
    MVOT_TRY(mvot_json_get_int(s->manifest, "version", mpath, &ver, err));
    MVOT_CORRUPT_IF(strcmp(fmt, MVOT_SHARD_FORMAT_NAME) != 0, err, mpath, "format \"%s\" is not %s",
                    fmt, MVOT_SHARD_FORMAT_NAME);
    MVOT_FAIL_IF(ver < MVOT_SHARD_VERSION_MIN || ver > MVOT_SHARD_VERSION, err,
                 MVOT_ERR_UNSUPPORTED, mpath,
                 "shard format version %" PRId64 " (this build reads %d..%d)", ver,
                 MVOT_SHARD_VERSION_MIN, MVOT_SHARD_VERSION);
    s->version = (int)ver;
    if (ver >= 2) {
        MVOT_TRY(mvot_manifest_check(s->manifest, mpath, err));
    } else {
        MVOT_FAIL_IF(s->split, err, MVOT_ERR_INVALID, path,
                     "a version 1 set has no split folders; give its root");
        s->warning = mvot_strdupf("%s: shard format version 1 carries no identity: shards are "
                                  "not checked against the manifest (retokenize migrates it)",
                                  s->dir);
        MVOT_FAIL_IF(!s->warning, err, MVOT_ERR_NOMEM, path, "out of memory");
    }
    json_t *shards = NULL;
    MVOT_TRY(mvot_json_get_array(s->manifest, "shards", mpath, &shards, err));
    s->sh = calloc(json_array_size(shards) ? json_array_size(shards) : 1, sizeof *s->sh);
    MVOT_FAIL_IF(!s->sh, err, MVOT_ERR_NOMEM, path, "out of memory");
    uint64_t all = 0;
    for (size_t i = 0; i < json_array_size(shards); i++) {
        json_t *e = json_array_get(shards, i);
        const char *file = NULL, *split = NULL;
        int64_t n = 0, first = 0, size = 0;
        MVOT_TRY(mvot_json_get_str(e, "file", "manifest.json: shards[]", &file, err));
        MVOT_TRY(mvot_json_get_int(e, "samples", "manifest.json: shards[]", &n, err));
        MVOT_TRY(mvot_json_get_int(e, "first_sample", "manifest.json: shards[]", &first, err));
        int bad = n < 0 || (uint64_t)first != all || strstr(file, "..") || file[0] == '/';
        if (ver >= 2) {
            MVOT_TRY(mvot_json_get_str(e, "split", "manifest.json: shards[]", &split, err));
            MVOT_TRY(
                mvot_json_get_int(e, "compressed_bytes", "manifest.json: shards[]", &size, err));
            size_t sl = strlen(split);
            bad = bad || strncmp(file, split, sl) != 0 || file[sl] != '/' ||
                  strchr(file + sl + 1, '/') || size <= 0 ||
                  mvot_manifest_hash(e, "index_xxh3", &s->sh[s->n_shards].index_xxh3) != 0;
        } else {
            bad = bad || strchr(file, '/');
        }
        MVOT_CORRUPT_IF(bad, err, mpath,
                        "shards[%zu]: bad file name, split, size, index hash or sample range", i);
        all += (uint64_t)n;
        if (s->split && strcmp(split, s->split) != 0)
            continue;
        struct shard_meta *m = &s->sh[s->n_shards++];
        m->fd = -1;
        m->path = mvot_io_join(s->dir, file);
        MVOT_FAIL_IF(!m->path, err, MVOT_ERR_NOMEM, path, "out of memory");
        m->first_sample = s->total;
        m->samples = (uint64_t)n;
        m->size = (uint64_t)size;
        s->total += (uint64_t)n;
    }
    *out = s;
    s = NULL;
cleanup:
    free(mpath);
    mvot_shard_set_close(s);
    return st;
}

static void shard_unload(struct shard_meta *m)
{
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
    free(m->frame_off);
    m->frame_off = NULL;
    mvot_seek_entries_free(&m->ents);
    mvot_index_free(&m->index);
    m->loaded = 0;
}

void mvot_shard_set_close(struct mvot_shard_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_shards; i++) {
        shard_unload(&s->sh[i]);
        free(s->sh[i].path);
    }
    free(s->sh);
    free(s->dir);
    free(s->split);
    free(s->warning);
    json_decref(s->manifest);
    ZSTD_freeDCtx(s->dctx);
    mvot_buf_free(&s->cbuf);
    mvot_buf_free(&s->rbuf);
    free(s->map);
    free(s);
}

const json_t *mvot_shard_set_manifest(const struct mvot_shard_set *s)
{
    return s->manifest;
}

size_t mvot_shard_set_count(const struct mvot_shard_set *s)
{
    return (size_t)s->total;
}

/* Opens a shard, checks it against its manifest record (v2: size and the XXH3 of the index
 * and seek table, so a swapped, foreign or replaced file is refused before use) and loads
 * its seek table and index. */
static enum mvot_status shard_load(const struct mvot_shard_set *s, struct shard_meta *m,
                                   struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint8_t *tail = NULL;
    uint32_t iver = 0;
    if (m->loaded)
        return MVOT_OK;
    m->fd = mvot_io_open_input(m->path, err);
    if (m->fd < 0)
        return MVOT_ERR_IO;
    struct stat sb;
    MVOT_FAIL_IF(fstat(m->fd, &sb) != 0, err, MVOT_ERR_IO, m->path, "cannot stat");
    MVOT_FAIL_IF(!S_ISREG(sb.st_mode), err, MVOT_ERR_IO, m->path, "not a regular file");
    uint64_t size = (uint64_t)sb.st_size, table = 0;
    MVOT_FAIL_IF(s->version >= 2 && size != m->size, err, MVOT_ERR_MISMATCH, m->path,
                 "%" PRIu64 " bytes, the manifest says %" PRIu64
                 ": not the shard the manifest lists (swapped, foreign or damaged)",
                 size, m->size);
    MVOT_TRY(mvot_seek_table_read(m->fd, size, m->path, &m->ents, &table, err));
    m->frame_off = malloc((m->ents.n + 1) * sizeof *m->frame_off);
    MVOT_FAIL_IF(!m->frame_off, err, MVOT_ERR_NOMEM, m->path, "out of memory");
    m->frame_off[0] = 0;
    for (size_t i = 0; i < m->ents.n; i++)
        m->frame_off[i + 1] = m->frame_off[i] + m->ents.v[i].csize;
    uint64_t ioff = m->frame_off[m->ents.n];
    uint64_t ilen = size - table - ioff; /* seek_table_read checked ioff <= size - table */
    MVOT_CORRUPT_IF(m->ents.n == 0 || ilen > (64u << 20), err, m->path,
                    "bad index frame size %" PRIu64, ilen);
    tail = malloc((size_t)(ilen + table));
    MVOT_FAIL_IF(!tail, err, MVOT_ERR_NOMEM, m->path, "out of memory");
    MVOT_FAIL_IF(pread(m->fd, tail, (size_t)(ilen + table), (off_t)ioff) != (ssize_t)(ilen + table),
                 err, MVOT_ERR_IO, m->path, "cannot read the index frame");
    MVOT_FAIL_IF(s->version >= 2 && mvot_hash64(tail, (size_t)(ilen + table)) != m->index_xxh3, err,
                 MVOT_ERR_MISMATCH, m->path,
                 "index/seek table XXH3 differs from the manifest: not the shard the manifest "
                 "lists (swapped, foreign or damaged)");
    MVOT_TRY(mvot_index_parse(tail, (size_t)ilen, m->ents.v, (uint32_t)m->ents.n - 1, m->path,
                              &m->index, &iver, err));
    MVOT_CORRUPT_IF((int)iver != s->version, err, m->path, "index version %u in a version %d set",
                    iver, s->version);
    MVOT_CORRUPT_IF(m->index.n != m->samples, err, m->path,
                    "index has %zu samples, manifest says %" PRIu64, m->index.n, m->samples);
    m->loaded = 1;
cleanup:
    free(tail);
    if (st != MVOT_OK)
        shard_unload(m);
    return st;
}

static const char *MEMBER_NPY_TOKENS = "tokens.npy";
static const char *MEMBER_NPY_SPANS = "spans.npy";

enum mvot_status mvot_sample_parse_tar(const uint8_t *raw, size_t len, const char *key,
                                       const char *where, struct mvot_sample *out,
                                       struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    memset(out, 0, sizeof *out);
    size_t pos = 0;
    int stage = 0; /* 0 tokens, 1 spans, 2 json, 3+ pngs */
    while (pos < len) {
        struct mvot_tar_member m;
        MVOT_CORRUPT_IF(len - pos < MVOT_TAR_BLOCK, err, where, "truncated tar header at %zu", pos);
        MVOT_TRY(mvot_tar_parse_header(raw + pos, where, &m, err));
        MVOT_CORRUPT_IF(m.is_end, err, where, "end-of-archive block inside a sample");
        uint64_t span = mvot_tar_member_span(m.size);
        MVOT_CORRUPT_IF(m.size > len || span > len - pos, err, where,
                        "member %s (%" PRIu64 " bytes) runs past the sample", m.name, m.size);
        const uint8_t *data = raw + pos + MVOT_TAR_BLOCK;
        char *dot = strchr(m.name, '.');
        MVOT_CORRUPT_IF(!dot, err, where, "member %s has no extension", m.name);
        *dot = 0;
        const char *ext = dot + 1;
        if (!out->key) {
            MVOT_CORRUPT_IF(key && strcmp(key, m.name) != 0, err, where,
                            "member key %s, index says %s", m.name, key);
            out->key = strdup(m.name);
            MVOT_FAIL_IF(!out->key, err, MVOT_ERR_NOMEM, where, "out of memory");
        } else {
            MVOT_CORRUPT_IF(strcmp(out->key, m.name) != 0, err, where,
                            "member of %s inside sample %s", m.name, out->key);
        }
        if (stage == 0 || stage == 1) {
            const char *want = stage == 0 ? MEMBER_NPY_TOKENS : MEMBER_NPY_SPANS;
            MVOT_CORRUPT_IF(strcmp(ext, want) != 0, err, where, "%s: member .%s where .%s belongs",
                            out->key, ext, want);
            struct mvot_npy npy;
            MVOT_TRY(mvot_npy_parse(data, (size_t)m.size, where, &npy, err));
            if (stage == 0) {
                int wide = strcmp(npy.descr, "<u4") == 0;
                MVOT_CORRUPT_IF((!wide && strcmp(npy.descr, "<u2") != 0) || npy.ndim != 1, err,
                                where, "%s.tokens.npy: want 1-D <u2 or <u4", out->key);
                out->n_tokens = (size_t)npy.shape[0];
                out->tokens = malloc(out->n_tokens ? out->n_tokens * 4 : 1);
                MVOT_FAIL_IF(!out->tokens, err, MVOT_ERR_NOMEM, where, "out of memory");
                for (size_t i = 0; i < out->n_tokens; i++)
                    out->tokens[i] =
                        wide ? mvot_rd32(npy.data + 4 * i)
                             : (uint32_t)npy.data[2 * i] | (uint32_t)npy.data[2 * i + 1] << 8;
            } else {
                MVOT_CORRUPT_IF(strcmp(npy.descr, "<u4") != 0 || npy.ndim != 2 || npy.shape[1] != 4,
                                err, where, "%s.spans.npy: want <u4 (n, 4)", out->key);
                out->n_spans = (size_t)npy.shape[0];
                out->spans = malloc(out->n_spans ? out->n_spans * sizeof *out->spans : 1);
                MVOT_FAIL_IF(!out->spans, err, MVOT_ERR_NOMEM, where, "out of memory");
                for (size_t i = 0; i < out->n_spans; i++) {
                    const uint8_t *p = npy.data + 16 * i;
                    uint32_t mod = mvot_rd32(p + 8), loss = mvot_rd32(p + 12);
                    MVOT_CORRUPT_IF(mod > MVOT_MOD_SPECIAL || loss > 1, err, where,
                                    "%s: span %zu has modality %u, loss %u", out->key, i, mod,
                                    loss);
                    out->spans[i] = (struct mvot_span){mvot_rd32(p), mvot_rd32(p + 4), (uint8_t)mod,
                                                       (uint8_t)loss};
                }
            }
        } else if (stage == 2) {
            MVOT_CORRUPT_IF(strcmp(ext, "json") != 0, err, where,
                            "%s: member .%s where .json belongs", out->key, ext);
            MVOT_TRY(
                mvot_json_load_buf((const char *)data, (size_t)m.size, where, &out->meta, err));
            MVOT_CORRUPT_IF(!json_is_object(out->meta), err, where, "%s.json is not an object",
                            out->key);
        } else {
            char want[32];
            snprintf(want, sizeof want, "%u.png", out->n_png);
            MVOT_CORRUPT_IF(strcmp(ext, want) != 0, err, where, "%s: member .%s where .%s belongs",
                            out->key, ext, want);
            MVOT_CORRUPT_IF(out->n_png >= 4096, err, where, "too many frames");
            uint8_t **np = realloc(out->png, (out->n_png + 1) * sizeof *np);
            if (np)
                out->png = np;
            size_t *nl = realloc(out->png_len, (out->n_png + 1) * sizeof *nl);
            if (nl)
                out->png_len = nl;
            MVOT_FAIL_IF(!np || !nl, err, MVOT_ERR_NOMEM, where, "out of memory");
            out->png[out->n_png] = malloc(m.size ? (size_t)m.size : 1);
            MVOT_FAIL_IF(!out->png[out->n_png], err, MVOT_ERR_NOMEM, where, "out of memory");
            memcpy(out->png[out->n_png], data, (size_t)m.size);
            out->png_len[out->n_png] = (size_t)m.size;
            out->n_png++;
        }
        stage++;
        pos += (size_t)span;
    }
    MVOT_CORRUPT_IF(stage < 3, err, where, "sample has %d of its 3 required members", stage);
cleanup:
    if (st != MVOT_OK)
        mvot_sample_free(out);
    return st;
}

void mvot_sample_labels(const struct mvot_sample *s, int32_t *labels)
{
    for (size_t i = 0; i < s->n_tokens; i++)
        labels[i] = -100;
    for (size_t k = 0; k < s->n_spans; k++) {
        const struct mvot_span *sp = &s->spans[k];
        if (!sp->loss)
            continue;
        for (uint64_t i = sp->start; i < (uint64_t)sp->start + sp->length && i < s->n_tokens; i++)
            labels[i] = (int32_t)s->tokens[i];
    }
}

/* Decompresses frames [f0, f1) of shard k into s->rbuf, unless they are there already
 * (consecutive samples of one episode share their group frame). */
static enum mvot_status load_frames(struct mvot_shard_set *s, size_t k, uint32_t f0, uint32_t f1,
                                    const char *key, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct shard_meta *m = &s->sh[k];
    if (s->cache_shard == k && s->cache_f0 == f0 && s->cache_f1 == f1)
        return MVOT_OK;
    s->cache_shard = SIZE_MAX;
    uint64_t c0 = m->frame_off[f0], c1 = m->frame_off[f1];
    uint64_t draw = 0;
    for (uint32_t f = f0; f < f1; f++)
        draw += m->ents.v[f].dsize;
    MVOT_CORRUPT_IF(c1 - c0 > MVOT_SAMPLE_MAX_RAW || draw > MVOT_SAMPLE_MAX_RAW, err, m->path,
                    "sample %s: %" PRIu64 " bytes exceed the cap", key, draw);
    s->cbuf.len = 0;
    s->rbuf.len = 0;
    MVOT_FAIL_IF(mvot_buf_reserve(&s->cbuf, (size_t)(c1 - c0)) != MVOT_OK ||
                     mvot_buf_reserve(&s->rbuf, (size_t)draw) != MVOT_OK,
                 err, MVOT_ERR_NOMEM, m->path, "out of memory");
    MVOT_FAIL_IF(pread(m->fd, s->cbuf.data, (size_t)(c1 - c0), (off_t)c0) != (ssize_t)(c1 - c0),
                 err, MVOT_ERR_IO, m->path, "cannot read sample %s", key);
    size_t cpos = 0, rpos = 0;
    for (uint32_t f = f0; f < f1; f++) {
        const struct mvot_seek_entry *fe = &m->ents.v[f];
        size_t r = ZSTD_decompressDCtx(s->dctx, s->rbuf.data + rpos, fe->dsize, s->cbuf.data + cpos,
                                       fe->csize);
        if (ZSTD_isError(r) || r != fe->dsize) {
            st = mvot_error_corrupt(err, m->path, (int64_t)(c0 + cpos), "sample %s: frame %u: %s",
                                    key, f,
                                    ZSTD_isError(r) ? ZSTD_getErrorName(r) : "size mismatch");
            goto cleanup;
        }
        cpos += fe->csize;
        rpos += fe->dsize;
    }
    s->rbuf.len = rpos;
    s->cache_shard = k;
    s->cache_f0 = f0;
    s->cache_f1 = f1;
cleanup:
    return st;
}

static enum mvot_status read_sample(struct mvot_shard_set *s, size_t k, size_t j,
                                    struct mvot_sample *out, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct shard_meta *m = &s->sh[k];
    const struct mvot_index_entry *e = &m->index.v[j];
    MVOT_TRY(load_frames(s, k, e->first_frame, e->first_frame + e->n_frames, e->key, err));
    MVOT_CORRUPT_IF((uint64_t)e->offset + e->length > s->rbuf.len, err, m->path,
                    "sample %s: byte range beyond its frame", e->key);
    char where[512];
    snprintf(where, sizeof where, "%s: sample %s", m->path, e->key);
    MVOT_TRY(mvot_sample_parse_tar(s->rbuf.data + e->offset, e->length, e->key, where, out, err));
cleanup:
    return st;
}

size_t mvot_shard_set_shards(const struct mvot_shard_set *s)
{
    return s->n_shards;
}

size_t mvot_shard_set_first_sample(const struct mvot_shard_set *s, size_t k)
{
    return k < s->n_shards ? (size_t)s->sh[k].first_sample : mvot_shard_set_count(s);
}

size_t mvot_shard_set_shard_of(const struct mvot_shard_set *s, size_t i)
{
    size_t lo = 0, hi = s->n_shards;
    while (hi - lo > 1) { /* last shard with first_sample <= i */
        size_t mid = (lo + hi) / 2;
        if (s->sh[mid].first_sample <= i)
            lo = mid;
        else
            hi = mid;
    }
    while (lo + 1 < s->n_shards && i >= s->sh[lo].first_sample + s->sh[lo].samples)
        lo++; /* skips empty shards */
    return lo;
}

enum mvot_status mvot_shard_set_info(struct mvot_shard_set *s, size_t i,
                                     struct mvot_sample_info *out, struct mvot_error *err)
{
    if ((uint64_t)i >= s->total)
        return mvot_error_set(err, MVOT_ERR_NOTFOUND, s->dir, "sample %zu of %" PRIu64, i,
                              s->total);
    size_t k = mvot_shard_set_shard_of(s, i);
    struct shard_meta *m = &s->sh[k];
    enum mvot_status st = shard_load(s, m, err);
    if (st != MVOT_OK)
        return st;
    const struct mvot_index_entry *e = &m->index.v[i - m->first_sample];
    *out = (struct mvot_sample_info){e->key, e->split, e->task, e->episode_len};
    return MVOT_OK;
}

enum mvot_status mvot_shard_set_get(struct mvot_shard_set *s, size_t i, struct mvot_sample *out,
                                    struct mvot_error *err)
{
    memset(out, 0, sizeof *out);
    if ((uint64_t)i >= s->total)
        return mvot_error_set(err, MVOT_ERR_NOTFOUND, s->dir, "sample %zu of %" PRIu64, i,
                              s->total);
    size_t lo = mvot_shard_set_shard_of(s, i);
    struct shard_meta *m = &s->sh[lo];
    enum mvot_status st = shard_load(s, m, err);
    if (st != MVOT_OK)
        return st;
    return read_sample(s, lo, (size_t)(i - m->first_sample), out, err);
}

static uint64_t key_hash(const char *k)
{
    return mvot_hash64(k, strlen(k));
}

static enum mvot_status build_map(struct mvot_shard_set *s, struct mvot_error *err)
{
    /* Every index first: shard_load checks each manifest sample count against its index, so
     * the map is sized by samples that exist, not by a count a corrupt manifest claims (a
     * claimed 2^62 made the doubling below wrap to 0 and spin forever, and 10^9 asked for
     * 16 GB before any shard was looked at; found by fuzz_shard_read). */
    for (size_t k = 0; k < s->n_shards; k++) {
        enum mvot_status st = shard_load(s, &s->sh[k], err);
        if (st != MVOT_OK)
            return st;
    }
    size_t cap = 16;
    while (cap < s->total * 2 + 2) {
        if (cap > SIZE_MAX / 2 / sizeof *s->map)
            return mvot_error_set(err, MVOT_ERR_NOMEM, s->dir, "%" PRIu64 " samples: too many",
                                  (uint64_t)s->total);
        cap *= 2;
    }
    s->map = calloc(cap, sizeof *s->map);
    if (!s->map)
        return mvot_error_set(err, MVOT_ERR_NOMEM, s->dir, "out of memory");
    s->map_cap = cap;
    for (size_t k = 0; k < s->n_shards; k++) {
        for (size_t j = 0; j < s->sh[k].index.n; j++) {
            size_t h = (size_t)key_hash(s->sh[k].index.v[j].key) & (cap - 1);
            while (s->map[h])
                h = (h + 1) & (cap - 1);
            s->map[h] = s->sh[k].first_sample + j + 1;
        }
    }
    return MVOT_OK;
}

static const char *key_at(struct mvot_shard_set *s, uint64_t g)
{
    size_t k = 0;
    while (k + 1 < s->n_shards && s->sh[k + 1].first_sample <= g)
        k++;
    while (k < s->n_shards && g >= s->sh[k].first_sample + s->sh[k].samples)
        k++;
    return k < s->n_shards ? s->sh[k].index.v[g - s->sh[k].first_sample].key : "";
}

enum mvot_status mvot_shard_set_lookup(struct mvot_shard_set *s, const char *key, size_t *index,
                                       struct mvot_error *err)
{
    if (!s->map) {
        enum mvot_status st = build_map(s, err);
        if (st != MVOT_OK)
            return st;
    }
    size_t h = (size_t)key_hash(key) & (s->map_cap - 1);
    while (s->map[h]) {
        uint64_t g = s->map[h] - 1;
        if (strcmp(key_at(s, g), key) == 0) {
            *index = (size_t)g;
            return MVOT_OK;
        }
        h = (h + 1) & (s->map_cap - 1);
    }
    return mvot_error_set(err, MVOT_ERR_NOTFOUND, s->dir, "no sample with key %s", key);
}

enum mvot_status mvot_shard_set_find(struct mvot_shard_set *s, const char *key,
                                     struct mvot_sample *out, struct mvot_error *err)
{
    size_t i = 0;
    memset(out, 0, sizeof *out);
    enum mvot_status st = mvot_shard_set_lookup(s, key, &i, err);
    if (st != MVOT_OK)
        return st;
    return mvot_shard_set_get(s, i, out, err);
}

/* ---- sample lifetime ---- */

void mvot_sample_free(struct mvot_sample *s)
{
    if (!s)
        return;
    free(s->key);
    free(s->tokens);
    free(s->spans);
    json_decref(s->meta);
    for (uint32_t i = 0; i < s->n_png; i++)
        free(s->png[i]);
    free(s->png);
    free(s->png_len);
    memset(s, 0, sizeof *s);
}
