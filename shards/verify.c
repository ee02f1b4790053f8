/* mvot verify: every shard is read whole and checked, frame by frame and sample by sample
 * (docs/shard-format.md), and every manifest field is cross-checked against the shards
 * (docs/manifest.md). Checks: the manifest's own hash (v2), options, mode, per-shard records
 * (file name, split, block, sample range, end_ordinal, frames, sizes, hashes, index hash,
 * statistics recomputed from the samples), totals, per-split and per-task totals, copied
 * tokenizer/codebook hashes, seek table (sizes, per-frame XXH64, zstd frame checksums), index
 * frame (split, task and episode of every sample against its json), raw XXH3, tar structure
 * and member order, tokens < vocab, spans covering the sequence with modalities matching
 * the token classes, BOI + N codes + EOI around every image, the separator ending input and
 * label, the sample json, unique keys, and shard-like files the manifest does not list.
 * Shards are checked in parallel; each keeps its own problem list, merged in order. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <zstd.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/mem.h"
#include "gen/episode.h"
#include "shards/format.h"
#include "shards/manifest.h"
#include "shards/pack.h"
#include "shards/reader.h"
#include "shards/trainer_layout.h"
#include "shards/verify.h"
#include "tokenize/bpe.h"
#include "tokenize/chameleon.h"

#define MAX_SHARD_BYTES (8ull << 30)

struct vctx {
    const char *dir;
    int version;
    const char *mode;
    json_t *manifest;
    json_t **stats; /* per shard: statistics recomputed from its samples */
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
    /* One problem, one line: a message quoting a corrupt file may carry its control bytes. */
    for (char *q = msg; *q; q++)
        if ((unsigned char)*q < 0x20)
            *q = '?';
    json_t *j = json_string(msg);
    if (!j) {
        /* Not UTF-8 (a message quoting a corrupt file, or cut inside a sequence): jansson
         * refuses it, and a dropped problem would let verify say "ok" (found by fuzz_manifest
         * on a manifest with a bad escape). Keep it, with the foreign bytes as '?'. */
        for (char *q = msg; *q; q++)
            if ((unsigned char)*q >= 0x80)
                *q = '?';
        j = json_string(msg);
    }
    json_array_append_new(list, j);
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

/* The sample's index fields, its json and the manifest record agree. */
static void check_identity(const struct vctx *c, const char *file, const json_t *rec,
                           const struct mvot_index_entry *ie, const struct mvot_sample *s,
                           json_t *pl)
{
    const json_t *m = s->meta;
    const char *k = s->key;
    const char *split = json_string_value(json_object_get(m, "split"));
    const char *task = json_string_value(json_object_get(m, "task"));
    const char *ep = json_string_value(json_object_get(m, "episode"));
    const char *mode = json_string_value(json_object_get(m, "mode"));
    if (!mode || !c->mode || strcmp(mode, c->mode) != 0)
        problem(pl, "%s: sample %s: mode %s, the manifest says %s", file, k, mode ? mode : "?",
                c->mode ? c->mode : "?");
    if (c->version < 2)
        return;
    const char *rsplit = json_string_value(json_object_get(rec, "split"));
    if (!split || !rsplit || strcmp(split, rsplit) != 0)
        problem(pl, "%s: sample %s: split %s in a %s shard", file, k, split ? split : "?",
                rsplit ? rsplit : "?");
    if (ie->split > 2 || !split || strcmp(mvot_split_name((enum mvot_split)ie->split), split) != 0)
        problem(pl, "%s: sample %s: index split %u differs from its json", file, k, ie->split);
    if (ie->task > 2 || !task || strcmp(mvot_task_name((enum mvot_task)ie->task), task) != 0)
        problem(pl, "%s: sample %s: index task %u differs from its json", file, k, ie->task);
    if (!ep || strlen(ep) != ie->episode_len || strncmp(ep, k, ie->episode_len) != 0)
        problem(pl, "%s: sample %s: index episode length %u differs from its json", file, k,
                ie->episode_len);
}

/* Adds one sample to recomputed per-shard statistics, as pack counts it. */
static void count_sample(json_t *st, const struct mvot_sample *s)
{
    const json_t *m = s->meta;
    uint64_t text = 0, image = 0, special = 0, sup = 0, images = 0;
    for (size_t j = 0; j < s->n_spans; j++) {
        uint64_t len = s->spans[j].length;
        if (s->spans[j].modality == MVOT_MOD_TEXT)
            text += len;
        else if (s->spans[j].modality == MVOT_MOD_IMAGE) {
            image += len;
            images++;
        } else
            special += len;
        if (s->spans[j].loss)
            sup += len;
    }
    const char *kind = json_string_value(json_object_get(m, "kind"));
    const char *task = json_string_value(json_object_get(m, "task"));
    const char *split = json_string_value(json_object_get(m, "split"));
    const char *answer = json_string_value(json_object_get(m, "answer"));
    kind = kind ? kind : "?";
    task = task ? task : "?";
    split = split ? split : "?";
    mvot_stats_add(st, 1, (const char *const[]){"samples", NULL});
    mvot_stats_add(st, (int64_t)s->n_tokens, (const char *const[]){"tokens", NULL});
    mvot_stats_add(st, (int64_t)text, (const char *const[]){"text_tokens", NULL});
    mvot_stats_add(st, (int64_t)image, (const char *const[]){"image_tokens", NULL});
    mvot_stats_add(st, (int64_t)special, (const char *const[]){"special_tokens", NULL});
    mvot_stats_add(st, (int64_t)sup, (const char *const[]){"supervised_tokens", NULL});
    mvot_stats_add(st, (int64_t)images, (const char *const[]){"images", NULL});
    mvot_stats_add(st, !json_is_null(json_object_get(m, "truncated")),
                   (const char *const[]){"truncated", NULL});
    mvot_stats_max(st, (int64_t)s->n_tokens, "max_sample_tokens");
    mvot_stats_add(st, 1, (const char *const[]){"kinds", kind, NULL});
    mvot_stats_add(st, 1, (const char *const[]){"tasks", task, split, NULL});
    /* an episode's first example: visualization step 0 in mvot mode, the only one else
     * (its count is a lower bound: pack counts the episodes of dropped samples too) */
    json_t *step = json_object_get(m, "step");
    if (strcmp(kind, "reasoning") != 0 &&
        (!json_is_integer(step) || json_integer_value(step) == 0)) {
        mvot_stats_add(st, 1, (const char *const[]){"episodes", NULL});
        mvot_stats_add(st, 1,
                       (const char *const[]){"answers", task, split, answer ? answer : "?", NULL});
    }
}

/* Counters that dropped samples may raise above what the stored samples show. */
static int lower_bound_key(const char *path)
{
    return strcmp(path, "dropped") == 0 || strcmp(path, "episodes") == 0 ||
           strncmp(path, "answers", 7) == 0;
}

/* Compares statistics objects both ways: integers equal (lower-bound keys: got >= want). */
static void stats_compare(const json_t *want, const json_t *got, const char *what, const char *path,
                          json_t *pl)
{
    const char *k;
    json_t *v;
    char sub[256];
    json_object_foreach((json_t *)want, k, v)
    {
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
        json_t *g = json_object_get(got, k);
        if (json_is_object(v)) {
            if (!json_is_object(g))
                problem(pl, "%s: %s is missing", what, sub);
            else
                stats_compare(v, g, what, sub, pl);
        } else if (!json_is_integer(g) ||
                   (lower_bound_key(sub) ? json_integer_value(g) < json_integer_value(v)
                                         : json_integer_value(g) != json_integer_value(v))) {
            problem(pl,
                    "%s: %s is %" JSON_INTEGER_FORMAT ", the samples give %" JSON_INTEGER_FORMAT,
                    what, sub, json_integer_value(g), json_integer_value(v));
        }
    }
    json_object_foreach((json_t *)got, k, v)
    {
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", k);
        json_t *w = json_object_get(want, k);
        if (!w && !(json_is_integer(v) && (json_integer_value(v) == 0 || lower_bound_key(sub))) &&
            !(json_is_object(v) && lower_bound_key(sub)))
            problem(pl, "%s: %s is not in the samples", what, sub);
        else if (json_is_integer(v) && json_integer_value(v) < 0)
            problem(pl, "%s: %s is negative", what, sub);
    }
}

/* Reads the seek table at the end of buf (a whole shard in memory) into *ents; 0 on success,
 * else a problem was reported. */
static int parse_seek_table(const uint8_t *buf, size_t len, const char *file, json_t *pl,
                            struct mvot_seek_entries *ents, uint64_t *tsize_out, uint64_t *csum_out,
                            uint64_t *dsum_out)
{
    if (len < 8 + MVOT_SEEK_FOOTER_SIZE || mvot_rd32(buf + len - 4) != MVOT_SEEK_FOOTER_MAGIC) {
        problem(pl, "%s: no seek table footer", file);
        return -1;
    }
    uint32_t nf = mvot_rd32(buf + len - 9);
    uint64_t tsize = (uint64_t)nf * MVOT_SEEK_ENTRY_SIZE + MVOT_SEEK_FOOTER_SIZE + 8;
    if (buf[len - 5] != MVOT_SEEK_DESC_CHECKSUM || nf == 0 || nf > MVOT_SHARD_MAX_FRAMES ||
        tsize > len) {
        problem(pl, "%s: bad seek table footer (%u frames, descriptor 0x%02x)", file, nf,
                buf[len - 5]);
        return -1;
    }
    const uint8_t *t = buf + len - tsize;
    if (mvot_rd32(t) != MVOT_SEEK_SKIPPABLE_MAGIC || mvot_rd32(t + 4) != tsize - 8) {
        problem(pl, "%s: bad seek table frame header", file);
        return -1;
    }
    ents->v = malloc(nf * sizeof *ents->v);
    if (!ents->v) {
        problem(pl, "%s: out of memory", file);
        return -1;
    }
    ents->n = ents->cap = nf;
    uint64_t csum = 0, dsum = 0;
    for (uint32_t i = 0; i < nf; i++) {
        ents->v[i].csize = mvot_rd32(t + 8 + 12 * (size_t)i);
        ents->v[i].dsize = mvot_rd32(t + 12 + 12 * (size_t)i);
        ents->v[i].checksum = mvot_rd32(t + 16 + 12 * (size_t)i);
        csum += ents->v[i].csize;
        dsum += ents->v[i].dsize;
    }
    if (csum > len - tsize || dsum > MAX_SHARD_BYTES) {
        problem(pl, "%s: seek table sizes (%" PRIu64 " compressed) exceed the file", file, csum);
        return -1;
    }
    *tsize_out = tsize;
    *csum_out = csum;
    *dsum_out = dsum;
    return 0;
}

/* Decompresses every frame into *raw, checking each against its seek entry; 1 if all are
 * good. *raw grows with bytes that really decompressed, one frame of at most
 * MVOT_FRAME_MAX_RAW at a time, never to the sum the seek table claims: a 10 KB shard claiming
 * 4 GB made verify allocate it all up front (found by fuzz_manifest). */
static int decompress_frames(ZSTD_DCtx *dctx, const uint8_t *buf,
                             const struct mvot_seek_entries *ents, uint8_t **raw, const char *file,
                             json_t *pl)
{
    uint64_t cpos = 0, rpos = 0;
    size_t rcap = 0;
    int frames_ok = 1;
    for (uint32_t i = 0; i < ents->n; i++) {
        const struct mvot_seek_entry *fe = &ents->v[i];
        unsigned long long cs = ZSTD_getFrameContentSize(buf + cpos, fe->csize);
        size_t fcs = ZSTD_findFrameCompressedSize(buf + cpos, fe->csize);
        if (fe->dsize > MVOT_FRAME_MAX_RAW) {
            problem(pl, "%s: frame %u: %u raw bytes, over the %u-byte frame limit", file, i,
                    fe->dsize, MVOT_FRAME_MAX_RAW);
            return 0;
        } else if (ZSTD_isError(fcs) || fcs != fe->csize || cs != fe->dsize) {
            problem(pl, "%s: frame %u at %" PRIu64 ": zstd frame does not match its seek entry",
                    file, i, cpos);
            frames_ok = 0;
        } else {
            if (MVOT_GROW(raw, &rcap, (size_t)rpos + fe->dsize, MAX_SHARD_BYTES, NULL) != MVOT_OK) {
                problem(pl, "%s: out of memory", file);
                return 0;
            }
            size_t r = ZSTD_decompressDCtx(dctx, *raw + rpos, fe->dsize, buf + cpos, fe->csize);
            if (ZSTD_isError(r) || r != fe->dsize) {
                problem(pl, "%s: frame %u at %" PRIu64 ": %s", file, i, cpos,
                        ZSTD_isError(r) ? ZSTD_getErrorName(r) : "short");
                frames_ok = 0;
            } else if (mvot_seek_checksum(*raw + rpos, fe->dsize) != fe->checksum) {
                problem(pl, "%s: frame %u: seek table checksum mismatch", file, i);
                frames_ok = 0;
            }
        }
        cpos += fe->csize;
        rpos += fe->dsize;
    }
    return frames_ok;
}

/* Parses and checks every sample the index lists, recomputing the shard's statistics. */
static void check_samples(struct vctx *c, size_t si, const json_t *rec, const char *file,
                          const uint8_t *raw, const struct mvot_seek_entries *ents,
                          const struct mvot_index *ix, json_t *pl)
{
    struct mvot_error e;
    uint64_t *foff = malloc((ents->n + 1) * sizeof *foff);
    if (!foff)
        return;
    foff[0] = 0;
    for (uint32_t i = 0; i < ents->n; i++)
        foff[i + 1] = foff[i] + ents->v[i].dsize;
    uint64_t tokens = 0;
    for (size_t j = 0; j < ix->n; j++) {
        struct mvot_sample s;
        const struct mvot_index_entry *ie = &ix->v[j];
        c->keys[si][j] = strdup(ie->key);
        c->n_keys[si] = j + 1;
        char where[256];
        snprintf(where, sizeof where, "%s: sample %s", file, ie->key);
        if (mvot_sample_parse_tar(raw + foff[ie->first_frame] + ie->offset, ie->length, ie->key,
                                  where, &s, &e) != MVOT_OK) {
            problem(pl, "%s", e.msg);
            continue;
        }
        tokens += s.n_tokens;
        check_sample(c, file, &s, pl);
        check_identity(c, file, rec, ie, &s, pl);
        count_sample(c->stats[si], &s);
        if (c->version >= 2) { /* format 2 counts the samples over the official lengths */
            struct mvot_trainer_fit fit;
            mvot_trainer_fit(s.spans, s.n_spans, s.n_tokens, &fit);
            mvot_trainer_fit_count(c->stats[si], &fit);
        }
        mvot_sample_free(&s);
    }
    free(foff);
    c->tokens[si] = tokens;
    json_t *nt = json_object_get(rec, "tokens");
    if (!json_is_integer(nt) || (uint64_t)json_integer_value(nt) != tokens)
        problem(pl, "%s: %" PRIu64 " tokens, manifest says %" JSON_INTEGER_FORMAT, file, tokens,
                json_integer_value(nt));
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
    if (!file || strstr(file, "..") || file[0] == '/' ||
        (c->version < 2 ? strchr(file, '/') != NULL : strchr(file, '/') == NULL)) {
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

    uint64_t tsize = 0, csum = 0, dsum = 0;
    if (parse_seek_table(buf, len, file, pl, &ents, &tsize, &csum, &dsum) != 0)
        goto done;
    uint32_t nf = (uint32_t)ents.n;
    int frames_ok = decompress_frames(dctx, buf, &ents, &raw, file, pl);
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
    uint32_t iver = 0;
    if (c->version >= 2) {
        if (mvot_manifest_hash(rec, "index_xxh3", &want) != 0)
            problem(pl, "%s: manifest has no index_xxh3", file);
        else if (mvot_hash64(buf + csum, (size_t)(len - csum)) != want)
            problem(pl, "%s: index/seek table XXH3 differs from the manifest", file);
    }
    json_t *jf = json_object_get(rec, "frames");
    if (!json_is_integer(jf) || (uint64_t)json_integer_value(jf) != nf)
        problem(pl, "%s: %u frames, manifest says %" JSON_INTEGER_FORMAT, file, nf,
                json_integer_value(jf));
    if (mvot_index_parse(buf + csum, (size_t)(len - tsize - csum), ents.v, nf - 1, file, &ix, &iver,
                         &e) != MVOT_OK) {
        problem(pl, "%s: %s", file, e.msg);
        goto done;
    }
    if ((int)iver != c->version)
        problem(pl, "%s: index version %u in a version %d set", file, iver, c->version);
    json_t *ns = json_object_get(rec, "samples");
    if (!json_is_integer(ns) || (uint64_t)json_integer_value(ns) != ix.n)
        problem(pl, "%s: index has %zu samples, manifest says %" JSON_INTEGER_FORMAT, file, ix.n,
                json_integer_value(ns));
    c->samples[si] = ix.n;
    c->keys[si] = calloc(ix.n ? ix.n : 1, sizeof(char *));
    if (!frames_ok || !c->keys[si])
        goto done;
    check_samples(c, si, rec, file, raw, &ents, &ix, pl);
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

static int split_index(const char *s)
{
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, mvot_split_name((enum mvot_split)i)) == 0)
            return i;
    return -1;
}

/* The manifest-level checks of a v2 record that need no shard bytes: name, split order,
 * block and number, sample range, end_ordinal. */
static void check_records(struct vctx *c, json_t *pl)
{
    int last = -1, have_block = 0;
    uint32_t last_block = 0, last_n = 0;
    uint64_t first = 0, end = 0;
    for (size_t i = 0; i < c->n_shards; i++) {
        json_t *r = json_array_get(c->shards, i);
        json_t *fs = json_object_get(r, "first_sample");
        if (!json_is_integer(fs) || (uint64_t)json_integer_value(fs) != first)
            problem(pl, "manifest.json: shards[%zu].first_sample is not %" PRIu64, i, first);
        first += (uint64_t)json_integer_value(json_object_get(r, "samples"));
        json_t *eo = json_object_get(r, "end_ordinal"), *st = json_object_get(r, "stats");
        json_int_t enumerated = json_integer_value(json_object_get(r, "samples")) +
                                json_integer_value(json_object_get(st, "dropped"));
        if (!json_is_integer(eo) || (uint64_t)json_integer_value(eo) != end + (uint64_t)enumerated)
            problem(pl,
                    "manifest.json: shards[%zu].end_ordinal is not %" PRIu64
                    " (the previous end + samples + dropped)",
                    i, end + (uint64_t)enumerated);
        end = (uint64_t)json_integer_value(eo);
        if (c->version < 2) {
            char want[64];
            const char *f1 = json_string_value(json_object_get(r, "file"));
            snprintf(want, sizeof want, "shard-%06zu.tar.zst", i);
            if (!f1 || strcmp(f1, want) != 0)
                problem(pl, "manifest.json: shards[%zu].file is not %s", i, want);
            continue;
        }
        const char *split = json_string_value(json_object_get(r, "split"));
        int sp = split_index(split);
        if (sp < 0 || sp < last) {
            problem(pl, "manifest.json: shards[%zu].split %s is unknown or out of order", i,
                    split ? split : "?");
            continue;
        }
        if (sp != last)
            have_block = 0;
        last = sp;
        /* per split the blocks ascend; n counts the shards of a block from 0 */
        uint32_t block = 0, n = 0;
        if (mvot_shard_record_name(r, &block, &n) != 0) {
            problem(pl,
                    "manifest.json: shards[%zu].file or .block is not {split}/shard-{block:05}-"
                    "{n:06}.tar.zst with its split and block",
                    i);
            continue;
        }
        int same = have_block && block == last_block;
        if ((same && n != last_n + 1) || (!same && n != 0) || (have_block && block < last_block))
            problem(pl,
                    "manifest.json: shards[%zu] is shard %u of block %u, which does not follow "
                    "shard %u of block %u",
                    i, n, block, last_n, last_block);
        have_block = 1;
        last_block = block;
        last_n = n;
    }
}

/* Reports shard-like files in the root and the split folders that no record lists. */
static void check_unlisted(const struct vctx *c, json_t *pl)
{
    for (int sp = -1; sp < 3; sp++) {
        const char *sub = sp < 0 ? NULL : mvot_split_name((enum mvot_split)sp);
        char *d = sub ? mvot_io_join(c->dir, sub) : strdup(c->dir);
        DIR *dd = d ? opendir(d) : NULL;
        struct dirent *de;
        while (dd && (de = readdir(dd))) {
            const char *n = de->d_name;
            if (n[0] == '.' || !mvot_shard_file_like(n))
                continue;
            char rel[512];
            snprintf(rel, sizeof rel, "%s%s%s", sub ? sub : "", sub ? "/" : "", n);
            int found = 0;
            for (size_t i = 0; i < c->n_shards && !found; i++) {
                const char *f =
                    json_string_value(json_object_get(json_array_get(c->shards, i), "file"));
                found = f && strcmp(f, rel) == 0;
            }
            if (!found)
                problem(pl, "%s: a shard-like file the manifest does not list", rel);
        }
        if (dd)
            closedir(dd);
        free(d);
    }
}

/* totals, stats, splits and task_totals against the per-shard records. */
static void check_totals(const struct vctx *c, json_t *pl)
{
    json_t *sum = mvot_stats_new();
    uint64_t raw = 0, comp = 0;
    for (size_t i = 0; i < c->n_shards; i++) {
        json_t *r = json_array_get(c->shards, i);
        mvot_stats_merge(sum, json_object_get(r, "stats"));
        raw += (uint64_t)json_integer_value(json_object_get(r, "raw_bytes"));
        comp += (uint64_t)json_integer_value(json_object_get(r, "compressed_bytes"));
    }
    json_t *tot = json_object_get(c->manifest, "totals"),
           *gst = json_object_get(c->manifest, "stats");
    json_t *want = json_deep_copy(sum);
    json_object_del(want, "kinds");
    json_object_del(want, "tasks");
    json_object_del(want, "answers");
    json_object_set_new(want, "raw_bytes", json_integer((json_int_t)raw));
    json_object_set_new(want, "compressed_bytes", json_integer((json_int_t)comp));
    json_object_set_new(want, "shards", json_integer((json_int_t)c->n_shards));
    if (!json_is_object(tot))
        problem(pl, "manifest.json: no totals object");
    else
        stats_compare(want, tot, "manifest.json: totals", "", pl);
    json_t *ws = json_object();
    json_object_set(ws, "kinds", json_object_get(sum, "kinds"));
    json_object_set(ws, "tasks", json_object_get(sum, "tasks"));
    json_object_set(ws, "answers", json_object_get(sum, "answers"));
    if (!json_is_object(gst))
        problem(pl, "manifest.json: no stats object");
    else
        stats_compare(ws, gst, "manifest.json: stats", "", pl);
    if (c->version >= 2) {
        json_t *splits = mvot_manifest_split_totals(c->shards);
        json_t *ms = json_object_get(c->manifest, "splits");
        if (!json_is_object(ms))
            problem(pl, "manifest.json: no splits object");
        else
            stats_compare(splits, ms, "manifest.json: splits", "", pl);
        json_t *tt = mvot_manifest_task_totals(gst);
        if (!json_equal(tt, json_object_get(c->manifest, "task_totals")))
            problem(pl, "manifest.json: task_totals differ from the sums of stats");
        json_decref(tt);
        json_decref(splits);
    }
    json_decref(ws);
    json_decref(want);
    json_decref(sum);
}

/* Top-level fields: format, version, manifest hash, options, mode, image size. Returns 0
 * when the shards cannot be checked at all. */
static int check_head(struct vctx *c, const char *mpath, json_t *pl)
{
    const char *fmt = json_string_value(json_object_get(c->manifest, "format"));
    json_t *ver = json_object_get(c->manifest, "version");
    if (!fmt || strcmp(fmt, MVOT_SHARD_FORMAT_NAME) != 0 || !json_is_integer(ver) ||
        json_integer_value(ver) < MVOT_SHARD_VERSION_MIN ||
        json_integer_value(ver) > MVOT_SHARD_VERSION) {
        problem(pl, "manifest.json: not an %s version %d..%d manifest", MVOT_SHARD_FORMAT_NAME,
                MVOT_SHARD_VERSION_MIN, MVOT_SHARD_VERSION);
        return 0;
    }
    c->version = (int)json_integer_value(ver);
    struct mvot_error e;
    if (c->version >= 2 && mvot_manifest_check(c->manifest, mpath, &e) != MVOT_OK)
        problem(pl, "%s", e.msg);
    json_t *opts = json_object_get(c->manifest, "options");
    char *oj = mvot_json_dumps(opts);
    struct mvot_pack_opts o;
    mvot_pack_opts_default(&o);
    if (!json_is_object(opts) || !oj ||
        mvot_pack_opts_from_json(oj, "manifest.json: options", &o, &e) != MVOT_OK)
        problem(pl, "%s", json_is_object(opts) && oj ? e.msg : "manifest.json: no options object");
    free(oj);
    c->mode = json_string_value(json_object_get(c->manifest, "mode"));
    const char *omode = json_string_value(json_object_get(opts, "mode"));
    enum mvot_pack_mode pm;
    if (!c->mode || mvot_pack_mode_parse(c->mode, &pm) != 0 || !omode || strcmp(omode, c->mode))
        problem(pl, "manifest.json: mode \"%s\" is unknown or differs from options.mode",
                c->mode ? c->mode : "?");
    c->N = (uint32_t)json_integer_value(json_object_get(c->manifest, "image_seq_length"));
    json_t *S = json_object_get(c->manifest, "image_size");
    if (c->N != 1024 && c->N != 256 && c->N != 64)
        problem(pl, "manifest.json: image_seq_length %u", c->N);
    else if (json_integer_value(json_object_get(opts, "image_seq_length")) != (json_int_t)c->N ||
             !json_is_integer(S) ||
             json_integer_value(S) != (c->N == 1024  ? 512
                                       : c->N == 256 ? 256
                                                     : 128))
        problem(pl, "manifest.json: image_size/image_seq_length disagree with each other or "
                    "with options");
    return 1;
}

enum mvot_status mvot_shards_verify(const char *path, struct mvot_pool *pool,
                                    const struct mvot_progress *prog, json_t **report,
                                    struct mvot_error *err)
{
    struct vctx c;
    memset(&c, 0, sizeof c);
    c.prog = prog;
    json_t *global = json_array();
    json_t *all = json_array();
    json_t *warnings = json_array();
    char *root = NULL, *split = NULL, *mpath = NULL;
    struct mvot_error e;
    if (!global || !all || !warnings) {
        json_decref(global);
        json_decref(all);
        json_decref(warnings);
        return mvot_error_set(err, MVOT_ERR_NOMEM, path, "out of memory");
    }
    uint64_t S = 0, T = 0, R = 0, C = 0;
    if (mvot_shards_locate(path, &root, &split, &e) != MVOT_OK) {
        problem(global, "%s", e.msg);
        goto report;
    }
    c.dir = root;
    mpath = mvot_io_join(root, "manifest.json");
    if (!mpath || mvot_json_load_file(mpath, &c.manifest, &e) != MVOT_OK) {
        problem(global, "%s", mpath ? e.msg : "out of memory");
        goto report;
    }
    if (!check_head(&c, mpath, global))
        goto report;
    if (c.version < 2)
        json_array_append_new(warnings,
                              json_string("shard format version 1 carries no identity (no "
                                          "manifest or index hashes, shards mix splits); "
                                          "`mvot retokenize` migrates it to version 2"));
    load_vocab(&c, global);
    c.shards = json_object_get(c.manifest, "shards");
    if (!json_is_array(c.shards)) {
        problem(global, "manifest.json: no shards list");
        goto report;
    }
    c.n_shards = json_array_size(c.shards);
    size_t ns = c.n_shards ? c.n_shards : 1;
    c.problems = calloc(ns, sizeof *c.problems);
    c.stats = calloc(ns, sizeof *c.stats);
    c.samples = calloc(ns, sizeof *c.samples);
    c.tokens = calloc(ns, sizeof *c.tokens);
    c.raw = calloc(ns, sizeof *c.raw);
    c.comp = calloc(ns, sizeof *c.comp);
    c.keys = calloc(ns, sizeof *c.keys);
    c.n_keys = calloc(ns, sizeof *c.n_keys);
    if (!c.problems || !c.stats || !c.samples || !c.tokens || !c.raw || !c.comp || !c.keys ||
        !c.n_keys) {
        problem(global, "out of memory");
        goto report;
    }
    for (size_t i = 0; i < c.n_shards; i++) {
        c.problems[i] = json_array();
        c.stats[i] = mvot_stats_new();
    }
    check_records(&c, global);
    mvot_pool_for(pool, c.n_shards, check_shard, &c);
    for (size_t i = 0; i < c.n_shards; i++) {
        char what[128];
        const char *f = json_string_value(json_object_get(json_array_get(c.shards, i), "file"));
        snprintf(what, sizeof what, "manifest.json: shards[%zu] (%s).stats", i, f ? f : "?");
        json_t *rs = json_object_get(json_array_get(c.shards, i), "stats");
        if (!json_is_object(rs))
            problem(c.problems[i], "%s is missing", what);
        else if (json_array_size(c.problems[i]) == 0)
            stats_compare(c.stats[i], rs, what, "", c.problems[i]);
    }
    check_totals(&c, global);
    check_unlisted(&c, global);
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
    for (size_t i = 0; c.stats && i < c.n_shards; i++)
        json_decref(c.stats[i]);
    for (size_t i = 0; c.keys && i < c.n_shards; i++) {
        for (size_t j = 0; j < c.n_keys[i]; j++)
            free(c.keys[i][j]);
        free(c.keys[i]);
    }
    json_t *r = json_object();
    json_object_set_new(r, "ok", json_boolean(n_problems == 0));
    json_object_set_new(r, "n_problems", json_integer((json_int_t)n_problems));
    json_object_set_new(r, "problems", all);
    json_object_set_new(r, "warnings", warnings);
    json_object_set_new(r, "version", json_integer(c.version));
    json_object_set_new(r, "shards", json_integer((json_int_t)c.n_shards));
    json_object_set_new(r, "samples", json_integer((json_int_t)S));
    json_object_set_new(r, "tokens", json_integer((json_int_t)T));
    json_object_set_new(r, "raw_bytes", json_integer((json_int_t)R));
    json_object_set_new(r, "compressed_bytes", json_integer((json_int_t)C));
    *report = r;
    json_decref(global);
    json_decref(c.manifest);
    free(c.problems);
    free(c.stats);
    free(c.samples);
    free(c.tokens);
    free(c.raw);
    free(c.comp);
    free(c.keys);
    free(c.n_keys);
    free(c.cls);
    free(mpath);
    free(root);
    free(split);
    return MVOT_OK;
}
