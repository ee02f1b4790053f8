/* mvot verify: every shard is read whole and checked, frame by frame and sample by sample
 * (docs/shard-format.md). Checks: manifest fields, copied tokenizer/codebook hashes, file
 * XXH3 and size, seek table (sizes, per-frame XXH64, zstd frame checksums), index frame,
 * raw XXH3, tar structure and member order, tokens < vocab, spans covering the sequence
 * with modalities matching the token classes, BOI + N codes + EOI around every image, the
 * separator ending input and label, the sample json, unique keys.
 * Shards are checked in parallel; each keeps its own problem list, merged in order. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zstd.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "shards/format.h"
#include "shards/manifest.h"
#include "shards/reader.h"
#include "shards/verify.h"
#include "tokenize/bpe.h"
#include "tokenize/chameleon.h"

#define MAX_SHARD_BYTES (8ull << 30)

struct vctx {
    const char *dir;
    json_t *manifest;
    json_t *shards;
    size_t n_shards;
    uint32_t vocab;
    uint32_t N;
    int32_t boi, eoi, sep, bos;
    uint8_t *cls;      /* per id: 0 text, 1 image code, 2 special; NULL if no tokenizer */
    json_t **problems; /* per shard */
    uint64_t *samples, *tokens, *raw, *comp;
    char ***keys; /* per shard: keys (for the uniqueness check) */
    size_t *n_keys;
    const struct mvot_progress *prog;
};

static void problem(json_t *list, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(json_t *list, const char *fmt, ...)
{
    if (json_array_size(list) >= MVOT_VERIFY_MAX_PROBLEMS + 1)
        return;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_array_append_new(list, json_string(msg));
}

static int token_class(const struct vctx *c, uint32_t id)
{
    if (c->cls)
        return c->cls[id];
    if ((int32_t)id == c->boi || (int32_t)id == c->eoi || (int32_t)id == c->sep ||
        (int32_t)id == c->bos)
        return MVOT_MOD_SPECIAL;
    return -1; /* unknown without a tokenizer */
}

static void check_sample(const struct vctx *c, const char *file, const struct mvot_sample *s,
                         json_t *pl)
{
    const char *k = s->key;
    /* tokens */
    for (size_t i = 0; i < s->n_tokens; i++)
        if (s->tokens[i] >= c->vocab) {
            problem(pl, "%s: sample %s: token %u at %zu >= vocab %u", file, k, s->tokens[i], i,
                    c->vocab);
            return;
        }
    /* spans: contiguous, maximal, classes */
    uint64_t pos = 0;
    size_t n_img = 0;
    for (size_t j = 0; j < s->n_spans; j++) {
        const struct mvot_span *sp = &s->spans[j];
        if (sp->start != pos || sp->length == 0 || (uint64_t)sp->start + sp->length > s->n_tokens) {
            problem(pl,
                    "%s: sample %s: span %zu [%u, +%u) does not continue at %" PRIu64
                    " within %zu tokens",
                    file, k, j, sp->start, sp->length, pos, s->n_tokens);
            return;
        }
        if (j && s->spans[j - 1].modality == sp->modality && s->spans[j - 1].loss == sp->loss)
            problem(pl, "%s: sample %s: spans %zu and %zu are not maximal runs", file, k, j - 1, j);
        for (uint64_t i = sp->start; i < (uint64_t)sp->start + sp->length; i++) {
            int cl = token_class(c, s->tokens[i]);
            if (cl >= 0 && cl != sp->modality) {
                problem(pl,
                        "%s: sample %s: token %u at %" PRIu64 " is class %d in a span of "
                        "modality %u",
                        file, k, s->tokens[i], i, cl, sp->modality);
                return;
            }
        }
        if (sp->modality == MVOT_MOD_IMAGE) {
            n_img++;
            uint32_t a = sp->start, b = sp->start + sp->length;
            if (sp->length != c->N)
                problem(pl, "%s: sample %s: image at %u has %u codes, want %u", file, k, a,
                        sp->length, c->N);
            if (a == 0 || (int32_t)s->tokens[a - 1] != c->boi || b >= s->n_tokens ||
                (int32_t)s->tokens[b] != c->eoi)
                problem(pl, "%s: sample %s: image at %u is not enclosed by BOI %d ... EOI %d", file,
                        k, a, c->boi, c->eoi);
        }
        pos = (uint64_t)sp->start + sp->length;
    }
    if (pos != s->n_tokens) {
        problem(pl, "%s: sample %s: spans cover %" PRIu64 " of %zu tokens", file, k, pos,
                s->n_tokens);
        return;
    }
    /* every BOI opens an image and every EOI closes one */
    for (size_t i = 0; i < s->n_tokens; i++) {
        if ((int32_t)s->tokens[i] == c->boi &&
            (i + c->N + 1 >= s->n_tokens || (int32_t)s->tokens[i + c->N + 1] != c->eoi))
            problem(pl, "%s: sample %s: BOI at %zu is not followed by %u codes and EOI", file, k, i,
                    c->N);
    }
    /* input ends with <sep> at loss 0, label is supervised and ends with <sep> */
    int32_t first_loss = -1;
    for (size_t j = 0; j < s->n_spans; j++)
        if (s->spans[j].loss) {
            first_loss = (int32_t)s->spans[j].start;
            break;
        }
    if (first_loss <= 0 || (int32_t)s->tokens[first_loss - 1] != c->sep)
        problem(pl, "%s: sample %s: the input does not end with the separator %d before the label",
                file, k, c->sep);
    for (size_t j = 0; j + 1 < s->n_spans; j++)
        if (s->spans[j].loss && !s->spans[j + 1].loss)
            problem(pl, "%s: sample %s: unsupervised tokens after the label started", file, k);
    json_t *m = s->meta;
    const json_t *tr = json_object_get(m, "truncated");
    if (json_is_null(tr) && s->n_tokens && (int32_t)s->tokens[s->n_tokens - 1] != c->sep)
        problem(pl, "%s: sample %s: does not end with the separator %d", file, k, c->sep);
    /* json */
    static const char *const need[] = {"key",        "episode",      "task",       "grid",
                                       "image_size", "split",        "mode",       "kind",
                                       "step",       "answer",       "images",     "label_images",
                                       "prev_frame", "target_frame", "cells",      "cell_states",
                                       "final_text", "input_text",   "label_text", "n_tokens"};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (!json_object_get(m, need[i]))
            problem(pl, "%s: sample %s: json lacks \"%s\"", file, k, need[i]);
    const char *jk = json_string_value(json_object_get(m, "key"));
    if (jk && strcmp(jk, k) != 0)
        problem(pl, "%s: sample %s: json key is %s", file, k, jk);
    json_t *nt = json_object_get(m, "n_tokens");
    if (json_is_integer(nt) && (uint64_t)json_integer_value(nt) != s->n_tokens)
        problem(pl, "%s: sample %s: json n_tokens %" JSON_INTEGER_FORMAT " != %zu", file, k,
                json_integer_value(nt), s->n_tokens);
    json_t *images = json_object_get(m, "images");
    if (json_is_null(tr) && json_is_array(images) && json_array_size(images) != n_img)
        problem(pl, "%s: sample %s: %zu images in json, %zu in tokens", file, k,
                json_array_size(images), n_img);
    json_t *fs = json_object_get(m, "frames_stored");
    if (json_is_true(fs) && json_is_array(images) && json_array_size(images) != s->n_png)
        problem(pl, "%s: sample %s: %zu images in json, %u frames stored", file, k,
                json_array_size(images), s->n_png);
    for (uint32_t j = 0; j < s->n_png; j++) {
        static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        if (s->png_len[j] < 8 || memcmp(s->png[j], sig, 8) != 0)
            problem(pl, "%s: sample %s: frame %u is not a PNG", file, k, j);
    }
}

static void check_shard(void *vc, size_t si, int worker)
{
    (void)worker;
    struct vctx *c = vc;
    json_t *pl = c->problems[si];
    json_t *rec = json_array_get(c->shards, si);
    const char *file = json_string_value(json_object_get(rec, "file"));
    uint8_t *buf = NULL, *raw = NULL;
    size_t len = 0;
    struct mvot_seek_entries ents = {0};
    struct mvot_index ix = {0};
    struct mvot_error e;
    char *path = NULL;
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!file || strchr(file, '/')) {
        problem(pl, "manifest.json: shards[%zu]: bad file name", si);
        goto done;
    }
    path = mvot_io_join(c->dir, file);
    if (!path || !dctx || mvot_io_read_file(path, MAX_SHARD_BYTES, &buf, &len, &e) != MVOT_OK) {
        problem(pl, "%s: cannot read: %s", file, path && dctx ? e.msg : "out of memory");
        goto done;
    }
    c->comp[si] = len;
    uint64_t want = 0;
    if (mvot_manifest_hash(rec, "compressed_xxh3", &want) != 0)
        problem(pl, "%s: manifest has no compressed_xxh3", file);
    else if (mvot_hash64(buf, len) != want)
        problem(pl, "%s: compressed XXH3 differs from the manifest", file);
    json_t *cb = json_object_get(rec, "compressed_bytes");
    if (!json_is_integer(cb) || (uint64_t)json_integer_value(cb) != len)
        problem(pl, "%s: %zu bytes, manifest says %" JSON_INTEGER_FORMAT, file, len,
                json_integer_value(cb));

    /* seek table, through a memory "file" */
    if (len < 8 + MVOT_SEEK_FOOTER_SIZE || mvot_rd32(buf + len - 4) != MVOT_SEEK_FOOTER_MAGIC) {
        problem(pl, "%s: no seek table footer", file);
        goto done;
    }
    uint32_t nf = mvot_rd32(buf + len - 9);
    uint64_t tsize = (uint64_t)nf * MVOT_SEEK_ENTRY_SIZE + MVOT_SEEK_FOOTER_SIZE + 8;
    if (buf[len - 5] != MVOT_SEEK_DESC_CHECKSUM || nf == 0 || nf > MVOT_SHARD_MAX_FRAMES ||
        tsize > len) {
        problem(pl, "%s: bad seek table footer (%u frames, descriptor 0x%02x)", file, nf,
                buf[len - 5]);
        goto done;
    }
    const uint8_t *t = buf + len - tsize;
    if (mvot_rd32(t) != MVOT_SEEK_SKIPPABLE_MAGIC || mvot_rd32(t + 4) != tsize - 8) {
        problem(pl, "%s: bad seek table frame header", file);
        goto done;
    }
    ents.v = malloc(nf * sizeof *ents.v);
    if (!ents.v) {
        problem(pl, "%s: out of memory", file);
        goto done;
    }
    ents.n = ents.cap = nf;
    uint64_t csum = 0, dsum = 0;
    for (uint32_t i = 0; i < nf; i++) {
        ents.v[i].csize = mvot_rd32(t + 8 + 12 * (size_t)i);
        ents.v[i].dsize = mvot_rd32(t + 12 + 12 * (size_t)i);
        ents.v[i].checksum = mvot_rd32(t + 16 + 12 * (size_t)i);
        csum += ents.v[i].csize;
        dsum += ents.v[i].dsize;
    }
    if (csum > len - tsize || dsum > MAX_SHARD_BYTES) {
        problem(pl, "%s: seek table sizes (%" PRIu64 " compressed) exceed the file", file, csum);
        goto done;
    }
    /* The raw buffer grows with bytes that really decompressed, one frame of at most
     * MVOT_FRAME_MAX_RAW at a time, never to the sum the seek table claims: a 10 KB shard
     * claiming 4 GB made verify allocate it all up front (found by fuzz_manifest). Once a frame
     * is bad the raw bytes are unused, so later frames are checked against their headers only. */
    size_t rcap = 1;
    raw = malloc(rcap);
    if (!raw) {
        problem(pl, "%s: out of memory", file);
        goto done;
    }
    uint64_t cpos = 0, rpos = 0;
    int frames_ok = 1;
    for (uint32_t i = 0; i < nf; i++) {
        const struct mvot_seek_entry *fe = &ents.v[i];
        unsigned long long cs = ZSTD_getFrameContentSize(buf + cpos, fe->csize);
        size_t fcs = ZSTD_findFrameCompressedSize(buf + cpos, fe->csize);
        if (fe->dsize > MVOT_FRAME_MAX_RAW) {
            problem(pl, "%s: frame %u: %u raw bytes, over the %u-byte frame limit", file, i,
                    fe->dsize, MVOT_FRAME_MAX_RAW);
            frames_ok = 0;
        } else if (ZSTD_isError(fcs) || fcs != fe->csize || cs != fe->dsize) {
            problem(pl, "%s: frame %u at %" PRIu64 ": zstd frame does not match its seek entry",
                    file, i, cpos);
            frames_ok = 0;
        } else if (frames_ok) {
            if (rpos + fe->dsize > rcap) {
                size_t grow = rcap * 2 > rpos + fe->dsize ? rcap * 2 : (size_t)(rpos + fe->dsize);
                uint8_t *nr = realloc(raw, grow);
                if (!nr) {
                    problem(pl, "%s: out of memory", file);
                    goto done;
                }
                raw = nr;
                rcap = grow;
            }
            size_t r = ZSTD_decompressDCtx(dctx, raw + rpos, fe->dsize, buf + cpos, fe->csize);
            if (ZSTD_isError(r) || r != fe->dsize) {
                problem(pl, "%s: frame %u at %" PRIu64 ": %s", file, i, cpos,
                        ZSTD_isError(r) ? ZSTD_getErrorName(r) : "short");
                frames_ok = 0;
            } else if (mvot_seek_checksum(raw + rpos, fe->dsize) != fe->checksum) {
                problem(pl, "%s: frame %u: seek table checksum mismatch", file, i);
                frames_ok = 0;
            }
        }
        cpos += fe->csize;
        rpos += fe->dsize;
    }
    if (frames_ok) {
        c->raw[si] = dsum;
        if (mvot_manifest_hash(rec, "raw_xxh3", &want) != 0 || mvot_hash64(raw, dsum) != want)
            problem(pl, "%s: raw XXH3 differs from the manifest", file);
        json_t *rb = json_object_get(rec, "raw_bytes");
        if (!json_is_integer(rb) || (uint64_t)json_integer_value(rb) != dsum)
            problem(pl, "%s: %" PRIu64 " raw bytes, manifest says %" JSON_INTEGER_FORMAT, file,
                    dsum, json_integer_value(rb));
        static const uint8_t zero_end[1024];
        const struct mvot_seek_entry *last = &ents.v[nf - 1];
        if (last->dsize != 1024 || memcmp(raw + dsum - 1024, zero_end, 1024) != 0)
            problem(pl, "%s: the last frame is not the tar end-of-archive blocks", file);
    }
    /* index frame */
    if (mvot_index_parse(buf + csum, (size_t)(len - tsize - csum), nf, file, &ix, &e) != MVOT_OK) {
        problem(pl, "%s: %s", file, e.msg);
        goto done;
    }
    json_t *ns = json_object_get(rec, "samples");
    if (!json_is_integer(ns) || (uint64_t)json_integer_value(ns) != ix.n)
        problem(pl, "%s: index has %zu samples, manifest says %" JSON_INTEGER_FORMAT, file, ix.n,
                json_integer_value(ns));
    if (ix.n && ix.v[ix.n - 1].first_frame + ix.v[ix.n - 1].n_frames + 1 != nf)
        problem(pl, "%s: index covers %u of %u frames (samples + trailer)", file,
                ix.v[ix.n - 1].first_frame + ix.v[ix.n - 1].n_frames, nf);
    c->samples[si] = ix.n;
    c->keys[si] = calloc(ix.n ? ix.n : 1, sizeof(char *));
    if (!frames_ok || !c->keys[si])
        goto done;
    uint64_t *foff = malloc((nf + 1) * sizeof *foff);
    if (!foff)
        goto done;
    foff[0] = 0;
    for (uint32_t i = 0; i < nf; i++)
        foff[i + 1] = foff[i] + ents.v[i].dsize;
    uint64_t tokens = 0;
    for (size_t j = 0; j < ix.n; j++) {
        struct mvot_sample s;
        const struct mvot_index_entry *ie = &ix.v[j];
        c->keys[si][j] = strdup(ie->key);
        c->n_keys[si] = j + 1;
        char where[256];
        snprintf(where, sizeof where, "%s: sample %s", file, ie->key);
        if (mvot_sample_parse_tar(
                raw + foff[ie->first_frame],
                (size_t)(foff[ie->first_frame + ie->n_frames] - foff[ie->first_frame]), ie->key,
                where, &s, &e) != MVOT_OK) {
            problem(pl, "%s", e.msg);
            continue;
        }
        tokens += s.n_tokens;
        check_sample(c, file, &s, pl);
        mvot_sample_free(&s);
    }
    free(foff);
    c->tokens[si] = tokens;
    json_t *nt = json_object_get(rec, "tokens");
    if (!json_is_integer(nt) || (uint64_t)json_integer_value(nt) != tokens)
        problem(pl, "%s: %" PRIu64 " tokens, manifest says %" JSON_INTEGER_FORMAT, file, tokens,
                json_integer_value(nt));
done:
    mvot_progress_report(c->prog, "verify", si + 1, c->n_shards);
    ZSTD_freeDCtx(dctx);
    mvot_index_free(&ix);
    mvot_seek_entries_free(&ents);
    free(buf);
    free(raw);
    free(path);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads the copied tokenizer for the token classes; problems if it is missing or differs. */
static void load_vocab(struct vctx *c, json_t *pl)
{
    json_t *tj = json_object_get(c->manifest, "tokenizer");
    json_t *spj = json_object_get(tj, "special");
    c->vocab = (uint32_t)json_integer_value(json_object_get(tj, "vocab_size"));
    c->boi = (int32_t)json_integer_value(json_object_get(spj, "boi"));
    c->eoi = (int32_t)json_integer_value(json_object_get(spj, "eoi"));
    c->sep = (int32_t)json_integer_value(json_object_get(spj, "sep"));
    c->bos = (int32_t)json_integer_value(json_object_get(spj, "bos"));
    if (!c->vocab || !spj)
        problem(pl, "manifest.json: tokenizer.vocab_size or tokenizer.special missing");
    const char *fn[2] = {
        json_string_value(json_object_get(tj, "file")),
        json_string_value(json_object_get(json_object_get(c->manifest, "codebook"), "file"))};
    const json_t *obj[2] = {tj, json_object_get(c->manifest, "codebook")};
    for (int i = 0; i < 2; i++) {
        uint64_t want = 0, got = 0;
        if (!fn[i] || strchr(fn[i], '/')) {
            problem(pl, "manifest.json: %s.file missing", i ? "codebook" : "tokenizer");
            continue;
        }
        char *p = mvot_io_join(c->dir, fn[i]);
        struct mvot_error e;
        if (!p || mvot_hash_file(p, &got, &e) != MVOT_OK)
            problem(pl, "%s: cannot read the copy in the shard dir", fn[i]);
        else if (mvot_manifest_hash(obj[i], "xxh3", &want) != 0 || want != got)
            problem(pl, "%s: XXH3 differs from the manifest", fn[i]);
        if (i == 0 && p && got == want) {
            struct mvot_bpe *tok = NULL;
            struct mvot_layout *lay = malloc(sizeof *lay);
            if (lay && mvot_bpe_load_file(p, &tok, &e) == MVOT_OK &&
                mvot_layout_from_bpe(tok, lay, &e) == MVOT_OK) {
                if (mvot_bpe_vocab_size(tok) != c->vocab || lay->boi != c->boi ||
                    lay->eoi != c->eoi || lay->sep != c->sep)
                    problem(pl, "tokenizer.json: vocab/special ids differ from the manifest");
                c->cls = calloc(c->vocab ? c->vocab : 1, 1);
                for (uint32_t id = 0; c->cls && id < c->vocab; id++)
                    c->cls[id] = mvot_layout_id_to_code(lay, (int32_t)id) >= 0 ? MVOT_MOD_IMAGE
                                 : ((int32_t)id == lay->bos || (int32_t)id == lay->eos ||
                                    (int32_t)id == lay->pad || (int32_t)id == lay->boi ||
                                    (int32_t)id == lay->eoi || (int32_t)id == lay->sep ||
                                    (int32_t)id == lay->image)
                                     ? MVOT_MOD_SPECIAL
                                     : MVOT_MOD_TEXT;
            } else {
                problem(pl, "tokenizer.json: %s", e.msg);
            }
            mvot_bpe_free(tok);
            free(lay);
        }
        free(p);
    }
}

enum mvot_status mvot_shards_verify(const char *dir, struct mvot_pool *pool,
                                    const struct mvot_progress *prog, json_t **report,
                                    struct mvot_error *err)
{
    struct vctx c;
    memset(&c, 0, sizeof c);
    c.dir = dir;
    c.prog = prog;
    json_t *global = json_array();
    json_t *all = json_array();
    char *mpath = mvot_io_join(dir, "manifest.json");
    struct mvot_error e;
    if (!global || !all || !mpath) {
        json_decref(global);
        json_decref(all);
        free(mpath);
        return mvot_error_set(err, MVOT_ERR_NOMEM, dir, "out of memory");
    }
    uint64_t S = 0, T = 0, R = 0, C = 0;
    if (mvot_json_load_file(mpath, &c.manifest, &e) != MVOT_OK) {
        problem(global, "%s", e.msg);
        goto report;
    }
    const char *fmt = json_string_value(json_object_get(c.manifest, "format"));
    if (!fmt || strcmp(fmt, MVOT_SHARD_FORMAT_NAME) != 0 ||
        json_integer_value(json_object_get(c.manifest, "version")) != MVOT_SHARD_VERSION) {
        problem(global, "manifest.json: not an %s version %d manifest", MVOT_SHARD_FORMAT_NAME,
                MVOT_SHARD_VERSION);
        goto report;
    }
    c.N = (uint32_t)json_integer_value(json_object_get(c.manifest, "image_seq_length"));
    if (c.N != 1024 && c.N != 256 && c.N != 64)
        problem(global, "manifest.json: image_seq_length %u", c.N);
    load_vocab(&c, global);
    c.shards = json_object_get(c.manifest, "shards");
    if (!json_is_array(c.shards)) {
        problem(global, "manifest.json: no shards list");
        goto report;
    }
    c.n_shards = json_array_size(c.shards);
    size_t ns = c.n_shards ? c.n_shards : 1;
    c.problems = calloc(ns, sizeof *c.problems);
    c.samples = calloc(ns, sizeof *c.samples);
    c.tokens = calloc(ns, sizeof *c.tokens);
    c.raw = calloc(ns, sizeof *c.raw);
    c.comp = calloc(ns, sizeof *c.comp);
    c.keys = calloc(ns, sizeof *c.keys);
    c.n_keys = calloc(ns, sizeof *c.n_keys);
    if (!c.problems || !c.samples || !c.tokens || !c.raw || !c.comp || !c.keys || !c.n_keys) {
        problem(global, "out of memory");
        goto report;
    }
    for (size_t i = 0; i < c.n_shards; i++) {
        c.problems[i] = json_array();
        json_t *r = json_array_get(c.shards, i);
        json_t *fs = json_object_get(r, "first_sample");
        if (!json_is_integer(fs) || (uint64_t)json_integer_value(fs) != S)
            problem(global, "manifest.json: shards[%zu].first_sample is not %" PRIu64, i, S);
        S += (uint64_t)json_integer_value(json_object_get(r, "samples"));
    }
    S = 0;
    mvot_pool_for(pool, c.n_shards, check_shard, &c);
    /* unique keys over the whole dir */
    size_t nk = 0;
    for (size_t i = 0; i < c.n_shards; i++)
        nk += c.n_keys[i];
    char **keys = malloc((nk ? nk : 1) * sizeof *keys);
    if (keys) {
        size_t o = 0;
        for (size_t i = 0; i < c.n_shards; i++)
            for (size_t j = 0; j < c.n_keys[i]; j++)
                keys[o++] = c.keys[i][j] ? c.keys[i][j] : (char *)"";
        qsort(keys, nk, sizeof *keys, cmp_str);
        for (size_t i = 1; i < nk; i++)
            if (strcmp(keys[i - 1], keys[i]) == 0)
                problem(global, "sample key %s appears more than once", keys[i]);
        free(keys);
    }
    for (size_t i = 0; i < c.n_shards; i++) {
        S += c.samples[i];
        T += c.tokens[i];
        R += c.raw[i];
        C += c.comp[i];
    }
    json_t *tot = json_object_get(c.manifest, "totals");
    if (json_integer_value(json_object_get(tot, "samples")) != (json_int_t)S)
        problem(global,
                "manifest.json: totals.samples %" JSON_INTEGER_FORMAT ", shards hold %" PRIu64,
                json_integer_value(json_object_get(tot, "samples")), S);
    if (json_integer_value(json_object_get(tot, "tokens")) != (json_int_t)T)
        problem(global,
                "manifest.json: totals.tokens %" JSON_INTEGER_FORMAT ", shards hold %" PRIu64,
                json_integer_value(json_object_get(tot, "tokens")), T);
report:;
    size_t n_problems = json_array_size(global);
    for (size_t i = 0; i < json_array_size(global); i++)
        json_array_append(all, json_array_get(global, i));
    for (size_t i = 0; c.problems && i < c.n_shards; i++) {
        n_problems += json_array_size(c.problems[i]);
        for (size_t j = 0; j < json_array_size(c.problems[i]); j++)
            if (json_array_size(all) < MVOT_VERIFY_MAX_PROBLEMS)
                json_array_append(all, json_array_get(c.problems[i], j));
        json_decref(c.problems[i]);
    }
    for (size_t i = 0; c.keys && i < c.n_shards; i++) {
        for (size_t j = 0; j < c.n_keys[i]; j++)
            free(c.keys[i][j]);
        free(c.keys[i]);
    }
    json_t *r = json_object();
    json_object_set_new(r, "ok", json_boolean(n_problems == 0));
    json_object_set_new(r, "n_problems", json_integer((json_int_t)n_problems));
    json_object_set_new(r, "problems", all);
    json_object_set_new(r, "shards", json_integer((json_int_t)c.n_shards));
    json_object_set_new(r, "samples", json_integer((json_int_t)S));
    json_object_set_new(r, "tokens", json_integer((json_int_t)T));
    json_object_set_new(r, "raw_bytes", json_integer((json_int_t)R));
    json_object_set_new(r, "compressed_bytes", json_integer((json_int_t)C));
    *report = r;
    json_decref(global);
    json_decref(c.manifest);
    free(c.problems);
    free(c.samples);
    free(c.tokens);
    free(c.raw);
    free(c.comp);
    free(c.keys);
    free(c.n_keys);
    free(c.cls);
    free(mpath);
    return MVOT_OK;
}
