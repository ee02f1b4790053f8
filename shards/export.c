/* mvot export (shards/export.h, docs/export-format.md). One pass over the set in its own
 * order; each sample goes to the outputs of its split. Megatron .bin files stream; their
 * .idx files, which need every length, are written at the end. Every name is checked to be
 * free before the first write; each file appears complete or not at all (atomic writer),
 * and manifest.json, written last, marks a complete export. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/outdir.h"
#include "shards/export.h"
#include "shards/format.h"
#include "shards/manifest.h"
#include "shards/reader.h"
#include "shards/trainer_layout.h"
#include "shards/writer.h"

static const char *const SPLITS[] = {"train", "dev", "test"};
#define N_SPLITS 3

static const char *const FORMATS[] = {"megatron", "jsonl", "tar"};

const char *mvot_export_format_name(enum mvot_export_format f)
{
    return (unsigned)f < 3 ? FORMATS[f] : "?";
}

int mvot_export_format_parse(const char *s, enum mvot_export_format *out)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, FORMATS[i]) == 0) {
            *out = (enum mvot_export_format)i;
            return 0;
        }
    return -1;
}

void mvot_export_opts_default(struct mvot_export_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = MVOT_EXPORT_MEGATRON;
    o->tar_samples = MVOT_EXPORT_TAR_SAMPLES;
}

/* One output file: atomic writer plus the running size and hash for the manifest. */
struct outf {
    struct mvot_atomic_file af;
    struct mvot_hasher h;
    uint64_t bytes;
    char *name; /* relative to the output dir */
    int open;
};

struct split_out {
    const char *name;
    uint64_t expected; /* samples of this split in the source manifest */
    uint64_t samples, tokens, supervised, max_tokens;
    json_t *fit;                    /* over_mvot_* counters */
    struct outf data, labels, text; /* megatron .bin pair, or the jsonl file */
    struct outf tar;
    uint32_t tar_no, in_tar;
    int32_t *lengths;
    size_t cap;
};

struct exporter {
    const struct mvot_export_opts *o;
    const char *out_dir;
    struct split_out sp[N_SPLITS];
    json_t *files; /* [{file, bytes, xxh3}] in commit order */
    struct mvot_buf line;
    int wide;
};

static enum mvot_status outf_open(struct exporter *e, struct outf *f, const char *name,
                                  struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *path = NULL;
    f->name = strdup(name);
    path = mvot_io_join(e->out_dir, name);
    MVOT_FAIL_IF(!f->name || !path, err, MVOT_ERR_NOMEM, "export", "out of memory");
    MVOT_FAIL_IF(mvot_io_exists(path), err, MVOT_ERR_INVALID, path,
                 "exists; export never replaces a file (choose an empty --out)");
    MVOT_FAIL_IF(mvot_hasher_init(&f->h) != MVOT_OK, err, MVOT_ERR_NOMEM, path, "out of memory");
    st = mvot_atomic_open(&f->af, path, err);
    if (st != MVOT_OK) {
        mvot_hasher_free(&f->h);
        goto cleanup;
    }
    f->open = 1;
    f->bytes = 0;
cleanup:
    free(path);
    return st;
}

static enum mvot_status outf_write(struct outf *f, const void *data, size_t len,
                                   struct mvot_error *err)
{
    mvot_hasher_update(&f->h, data, len);
    f->bytes += len;
    return mvot_io_write_all(f->af.fp, data, len, f->af.final_path, err);
}

static enum mvot_status outf_commit(struct exporter *e, struct outf *f, struct mvot_error *err)
{
    char hex[17];
    mvot_hash_hex(mvot_hasher_digest(&f->h), hex);
    mvot_hasher_free(&f->h);
    f->open = 0;
    enum mvot_status st = mvot_atomic_commit(&f->af, err);
    if (st == MVOT_OK)
        json_array_append_new(e->files, json_pack("{s:s,s:I,s:s}", "file", f->name, "bytes",
                                                  (json_int_t)f->bytes, "xxh3", hex));
    free(f->name);
    f->name = NULL;
    return st;
}

static void outf_abort(struct outf *f)
{
    if (f->open) {
        mvot_atomic_abort(&f->af);
        mvot_hasher_free(&f->h);
        f->open = 0;
    }
    free(f->name);
    f->name = NULL;
}

/* Adds the samples per split of a statistics object ({task: {split: n}} in its "tasks"). */
static void add_split_counts(const json_t *stats, uint64_t counts[N_SPLITS])
{
    const json_t *tasks = json_object_get(stats, "tasks");
    const char *task;
    json_t *per;
    json_object_foreach((json_t *)tasks, task, per)
    {
        for (int i = 0; i < N_SPLITS; i++)
            counts[i] += (uint64_t)json_integer_value(json_object_get(per, SPLITS[i]));
    }
}

/* Samples per split: the one place that reads the set's per-split totals. The whole set: the
 * manifest's stats; a part: the stats of its shards' records [s0, s1). */
static void split_counts(const json_t *manifest, int part, size_t s0, size_t s1,
                         uint64_t counts[N_SPLITS])
{
    memset(counts, 0, N_SPLITS * sizeof *counts);
    if (!part) {
        add_split_counts(json_object_get(manifest, "stats"), counts);
        return;
    }
    for (size_t k = s0; k < s1; k++)
        add_split_counts(
            json_object_get(json_array_get(json_object_get(manifest, "shards"), k), "stats"),
            counts);
}

static uint32_t tar_count(const struct exporter *e, const struct split_out *s)
{
    return (uint32_t)((s->expected + e->o->tar_samples - 1) / e->o->tar_samples);
}

/* The names a split's export writes, in order (tars: every one it will write). */
static void split_names(const struct exporter *e, const struct split_out *s, json_t *names)
{
    switch (e->o->format) {
    case MVOT_EXPORT_MEGATRON:
        json_array_append_new(names, json_sprintf("%s.bin", s->name));
        json_array_append_new(names, json_sprintf("%s.idx", s->name));
        json_array_append_new(names, json_sprintf("%s_labels.bin", s->name));
        json_array_append_new(names, json_sprintf("%s_labels.idx", s->name));
        break;
    case MVOT_EXPORT_JSONL:
        json_array_append_new(
            names, json_sprintf(e->o->prompts ? "%s-prompts.jsonl" : "%s.jsonl", s->name));
        break;
    case MVOT_EXPORT_TAR:
        for (uint32_t n = 0; n < tar_count(e, s); n++)
            json_array_append_new(names, json_sprintf("%s-%06u.tar", s->name, n));
        break;
    }
}

/* Opens the set for reading. With a split asked and a set that has a folder per split
 * (format version 2), the split's folder is opened so that only its shards are read;
 * otherwise the whole set, whose samples are then sorted by the split in their json. */
static enum mvot_status open_set(const char *shards, const char *split, struct mvot_shard_set **set,
                                 struct mvot_error *err)
{
    char *sub = split ? mvot_io_join(shards, split) : NULL;
    char *man = sub ? mvot_io_join(shards, "manifest.json") : NULL;
    int use_sub = sub && man && mvot_io_exists(man) && mvot_io_exists(sub);
    enum mvot_status st = mvot_shard_set_open(use_sub ? sub : shards, set, err);
    free(sub);
    free(man);
    return st;
}

/* The sample's tar members exactly as a shard stores them (docs/shard-format.md §1), built by
 * the shard writer's own code so the two cannot drift. */
static enum mvot_status sample_members(struct exporter *e, const struct mvot_sample *s,
                                       struct mvot_packed_sample *ps, struct mvot_error *err)
{
    char *json = mvot_json_dumps(s->meta);
    if (!json)
        return mvot_error_set(err, MVOT_ERR_NOMEM, s->key, "out of memory");
    struct mvot_sample_parts parts = {
        .key = s->key,
        .tokens = s->tokens,
        .n_tokens = s->n_tokens,
        .wide = e->wide,
        .spans = s->spans,
        .n_spans = s->n_spans,
        .json = json,
        .json_len = strlen(json),
        .n_png = s->n_png,
        .png = (const uint8_t *const *)s->png,
        .png_len = s->png_len,
    };
    enum mvot_status st = mvot_packed_sample_build(&parts, ps, err);
    free(json);
    return st;
}

static enum mvot_status write_i32(struct outf *f, const int32_t *v, size_t n,
                                  struct mvot_error *err)
{
    uint8_t buf[4096];
    enum mvot_status st = MVOT_OK;
    for (size_t i = 0; i < n && st == MVOT_OK;) {
        size_t k = 0;
        for (; i < n && k + 4 <= sizeof buf; i++, k += 4)
            mvot_wr32(buf + k, (uint32_t)v[i]);
        st = outf_write(f, buf, k, err);
    }
    return st;
}

static enum mvot_status write_u64(struct outf *f, uint64_t v, struct mvot_error *err)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return outf_write(f, b, 8, err);
}

/* A Megatron .idx for sequences of the given lengths, int32 items, one document each
 * (docs/export-format.md §1). */
static enum mvot_status write_idx(struct exporter *e, const char *name, const int32_t *len,
                                  size_t n, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct outf f = {0};
    uint8_t code = MVOT_MEGATRON_DTYPE_INT32;
    MVOT_TRY(outf_open(e, &f, name, err));
    MVOT_TRY(outf_write(&f, MVOT_MEGATRON_MAGIC, MVOT_MEGATRON_MAGIC_LEN, err));
    MVOT_TRY(write_u64(&f, MVOT_MEGATRON_VERSION, err));
    MVOT_TRY(outf_write(&f, &code, 1, err));
    MVOT_TRY(write_u64(&f, n, err));
    MVOT_TRY(write_u64(&f, n + 1, err));
    MVOT_TRY(write_i32(&f, len, n, err));
    uint64_t ptr = 0;
    for (size_t i = 0; i < n; i++) {
        MVOT_TRY(write_u64(&f, ptr, err));
        ptr += (uint64_t)len[i] * 4u;
    }
    for (size_t i = 0; i <= n; i++)
        MVOT_TRY(write_u64(&f, i, err));
    st = outf_commit(e, &f, err);
cleanup:
    outf_abort(&f);
    return st;
}

/* `,"name":[v0,v1,...]`. Digits are written by hand: a printf per token made the jsonl
 * export four times slower than the others. */
static enum mvot_status jsonl_ids(struct mvot_buf *b, const char *name, const int32_t *v, size_t n)
{
    enum mvot_status st = mvot_buf_printf(b, ",\"%s\":[", name);
    if (st == MVOT_OK)
        st = mvot_buf_reserve(b, n * 12 + 2); /* "-2147483648," at most per id */
    if (st != MVOT_OK)
        return st;
    char *out = (char *)b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        char tmp[12];
        int k = 0;
        int64_t x = v[i];
        if (i)
            *out++ = ',';
        if (x < 0) {
            *out++ = '-';
            x = -x;
        }
        do {
            tmp[k++] = (char)('0' + x % 10);
            x /= 10;
        } while (x);
        while (k)
            *out++ = tmp[--k];
    }
    b->len = (size_t)(out - (char *)b->data);
    return mvot_buf_printf(b, "]");
}

/* Ends the open tar with its two zero blocks and commits it. */
static enum mvot_status close_tar(struct exporter *e, struct split_out *s, struct mvot_error *err)
{
    struct mvot_buf end;
    mvot_buf_init(&end, 0);
    enum mvot_status st = mvot_tar_append_end(&end);
    if (st == MVOT_OK)
        st = outf_write(&s->tar, end.data, end.len, err);
    else
        mvot_error_set(err, st, s->tar.name, "out of memory");
    mvot_buf_free(&end);
    return st == MVOT_OK ? outf_commit(e, &s->tar, err) : st;
}

static enum mvot_status add_sample(struct exporter *e, struct split_out *s,
                                   const struct mvot_sample *smp, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    int32_t *ids = NULL, *lab = NULL;
    struct mvot_packed_sample ps;
    memset(&ps, 0, sizeof ps);
    size_t n = smp->n_tokens;
    ids = malloc((n ? n : 1) * sizeof *ids);
    lab = malloc((n ? n : 1) * sizeof *lab);
    MVOT_FAIL_IF(!ids || !lab, err, MVOT_ERR_NOMEM, smp->key, "out of memory");
    MVOT_FAIL_IF(n > INT32_MAX, err, MVOT_ERR_UNSUPPORTED, smp->key,
                 "%zu tokens do not fit a Megatron int32 length", n);
    for (size_t i = 0; i < n; i++)
        ids[i] = (int32_t)smp->tokens[i];
    mvot_sample_labels(smp, lab);
    struct mvot_trainer_fit fit;
    mvot_trainer_fit(smp->spans, smp->n_spans, n, &fit);
    mvot_trainer_fit_count(s->fit, &fit);
    s->samples++;
    s->tokens += n;
    s->max_tokens = n > s->max_tokens ? n : s->max_tokens;
    for (size_t i = 0; i < n; i++)
        s->supervised += lab[i] != -100;

    switch (e->o->format) {
    case MVOT_EXPORT_MEGATRON:
        if (s->samples > s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 1024;
            int32_t *nl = realloc(s->lengths, cap * sizeof *nl);
            MVOT_FAIL_IF(!nl, err, MVOT_ERR_NOMEM, smp->key, "out of memory");
            s->lengths = nl;
            s->cap = cap;
        }
        s->lengths[s->samples - 1] = (int32_t)n;
        MVOT_TRY(write_i32(&s->data, ids, n, err));
        MVOT_TRY(write_i32(&s->labels, lab, n, err));
        break;
    case MVOT_EXPORT_JSONL: {
        struct mvot_buf *b = &e->line;
        b->len = 0;
        /* keys, splits and task names are plain [A-Za-z0-9_-]: no escaping needed */
        MVOT_TRY(mvot_buf_printf(b, "{\"key\":\"%s\"", smp->key));
        if (!e->o->prompts) {
            const char *task = json_string_value(json_object_get(smp->meta, "task"));
            MVOT_TRY(
                mvot_buf_printf(b, ",\"split\":\"%s\",\"task\":\"%s\"", s->name, task ? task : ""));
        }
        MVOT_TRY(jsonl_ids(b, "input_ids", ids, e->o->prompts ? fit.input : n));
        if (!e->o->prompts)
            MVOT_TRY(jsonl_ids(b, "labels", lab, n));
        MVOT_TRY(mvot_buf_printf(b, "}\n"));
        MVOT_TRY(outf_write(&s->text, b->data, b->len, err));
        break;
    }
    case MVOT_EXPORT_TAR:
        if (!s->tar.open) {
            char name[64];
            snprintf(name, sizeof name, "%s-%06u.tar", s->name, s->tar_no);
            MVOT_TRY(outf_open(e, &s->tar, name, err));
        }
        MVOT_TRY(sample_members(e, smp, &ps, err));
        MVOT_TRY(outf_write(&s->tar, ps.raw.data, ps.raw.len, err));
        if (++s->in_tar == e->o->tar_samples) {
            MVOT_TRY(close_tar(e, s, err));
            s->tar_no++;
            s->in_tar = 0;
        }
        break;
    }
cleanup:
    mvot_packed_sample_free(&ps);
    free(ids);
    free(lab);
    return st;
}

static enum mvot_status finish_split(struct exporter *e, struct split_out *s,
                                     struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char name[64];
    MVOT_FAIL_IF(s->samples != s->expected, err, MVOT_ERR_MISMATCH, "export",
                 "the set's manifest counts %llu %s samples, its shards hold %llu",
                 (unsigned long long)s->expected, s->name, (unsigned long long)s->samples);
    switch (e->o->format) {
    case MVOT_EXPORT_MEGATRON:
        MVOT_TRY(outf_commit(e, &s->data, err));
        MVOT_TRY(outf_commit(e, &s->labels, err));
        snprintf(name, sizeof name, "%s.idx", s->name);
        MVOT_TRY(write_idx(e, name, s->lengths, s->samples, err));
        snprintf(name, sizeof name, "%s_labels.idx", s->name);
        MVOT_TRY(write_idx(e, name, s->lengths, s->samples, err));
        break;
    case MVOT_EXPORT_JSONL: MVOT_TRY(outf_commit(e, &s->text, err)); break;
    case MVOT_EXPORT_TAR:
        if (s->tar.open)
            MVOT_TRY(close_tar(e, s, err));
        break;
    }
cleanup:
    return st;
}

static json_t *split_record(const struct split_out *s)
{
    json_t *r = json_pack("{s:I,s:I,s:I,s:I}", "samples", (json_int_t)s->samples, "tokens",
                          (json_int_t)s->tokens, "supervised_tokens", (json_int_t)s->supervised,
                          "max_sample_tokens", (json_int_t)s->max_tokens);
    json_object_update(r, s->fit);
    return r;
}

enum mvot_status mvot_export_run(const char *shards, const char *out_dir,
                                 const struct mvot_export_opts *o, const struct mvot_progress *prog,
                                 json_t **summary, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct exporter e;
    struct mvot_shard_set *set = NULL;
    struct mvot_outdir_lock *lock = NULL;
    struct mvot_sample smp = {0};
    json_t *names = json_array(), *manifest = NULL, *splits = json_object();
    char *mpath = NULL, *src_manifest = NULL;
    memset(&e, 0, sizeof e);
    e.o = o;
    e.out_dir = out_dir;
    e.files = json_array();
    mvot_buf_init(&e.line, 0);
    if (summary)
        *summary = NULL;
    MVOT_FAIL_IF(!names || !splits || !e.files, err, MVOT_ERR_NOMEM, "export", "out of memory");
    MVOT_FAIL_IF(o->tar_samples == 0, err, MVOT_ERR_INVALID, "export",
                 "samples per tar must be at least 1");
    MVOT_TRY(open_set(shards, o->split, &set, err));
    const json_t *sm = mvot_shard_set_manifest(set);
    const char *dtype =
        json_string_value(json_object_get(json_object_get(sm, "tokenizer"), "token_dtype"));
    e.wide = dtype && strcmp(dtype, "uint32") == 0;
    /* a part: a contiguous 1/count of the shards (shard k's samples start at first_sample) */
    size_t ns = mvot_shard_set_shards(set);
    uint64_t pi = o->part_count ? o->part_index : 0, pc = o->part_count ? o->part_count : 1;
    size_t s0 = (size_t)(ns * pi / pc), s1 = (size_t)(ns * (pi + 1) / pc);
    size_t i0 = mvot_shard_set_first_sample(set, s0), i1 = mvot_shard_set_first_sample(set, s1);
    uint64_t counts[N_SPLITS];
    split_counts(sm, o->part_count > 0, s0, s1, counts);
    /* a set opened at one split's folder (ROOT/train) exports that split */
    const char *only = o->split ? o->split : mvot_shard_set_split(set);
    int any = 0;
    for (int i = 0; i < N_SPLITS; i++) {
        struct split_out *s = &e.sp[i];
        s->name = SPLITS[i];
        if (only && strcmp(only, SPLITS[i]) != 0)
            continue;
        s->expected = counts[i];
        any |= s->expected > 0;
        if (s->expected)
            split_names(&e, s, names);
    }
    /* a part may be empty (more parts than shards): its manifest says so */
    MVOT_FAIL_IF(only && !any && !o->part_count, err, MVOT_ERR_INVALID, shards,
                 "holds no %s samples", only);
    MVOT_FAIL_IF(!any && !o->part_count, err, MVOT_ERR_INVALID, shards, "holds no samples");
    /* not into the set itself; one writer per folder; every name is checked before the
     * first byte is written (docs/cli.md, "Output folders") */
    const char *inputs[1] = {shards};
    MVOT_TRY(mvot_outdir_check_overlap(out_dir, inputs, 1, err));
    MVOT_TRY(mvot_outdir_lock(out_dir, "mvot export", &lock, err));
    json_array_append_new(names, json_string("manifest.json"));
    for (size_t i = 0; i < json_array_size(names); i++) {
        char *p = mvot_io_join(out_dir, json_string_value(json_array_get(names, i)));
        MVOT_FAIL_IF(!p, err, MVOT_ERR_NOMEM, "export", "out of memory");
        int exists = mvot_io_exists(p);
        if (exists)
            mvot_error_set(err, MVOT_ERR_INVALID, p,
                           "exists; export never replaces a file (choose an empty --out)");
        free(p);
        if (exists) {
            st = MVOT_ERR_INVALID;
            goto cleanup;
        }
    }
    for (int i = 0; i < N_SPLITS; i++) {
        struct split_out *s = &e.sp[i];
        if (!s->expected)
            continue;
        s->fit = json_object();
        struct mvot_trainer_fit none = {0};
        mvot_trainer_fit_count(s->fit, &none); /* the counters exist even at 0 */
        char name[64];
        if (o->format == MVOT_EXPORT_MEGATRON) {
            snprintf(name, sizeof name, "%s.bin", s->name);
            MVOT_TRY(outf_open(&e, &s->data, name, err));
            snprintf(name, sizeof name, "%s_labels.bin", s->name);
            MVOT_TRY(outf_open(&e, &s->labels, name, err));
        } else if (o->format == MVOT_EXPORT_JSONL) {
            snprintf(name, sizeof name, o->prompts ? "%s-prompts.jsonl" : "%s.jsonl", s->name);
            MVOT_TRY(outf_open(&e, &s->text, name, err));
        }
    }
    for (size_t i = i0; i < i1; i++) {
        MVOT_TRY(mvot_shard_set_get(set, i, &smp, err));
        const char *split = json_string_value(json_object_get(smp.meta, "split"));
        struct split_out *s = NULL;
        for (int k = 0; split && k < N_SPLITS; k++)
            if (strcmp(split, SPLITS[k]) == 0)
                s = &e.sp[k];
        MVOT_CORRUPT_IF(!split || !s, err, smp.key, "sample json has no valid split");
        /* a split the manifest does not count, or (with --split) one that is not exported */
        MVOT_FAIL_IF(!s->fit && !only, err, MVOT_ERR_MISMATCH, smp.key,
                     "the set's manifest counts no %s samples, its shards hold one", split);
        if (s->fit)
            MVOT_TRY(add_sample(&e, s, &smp, err));
        mvot_sample_free(&smp);
        memset(&smp, 0, sizeof smp);
        mvot_progress_report(prog, "export", i + 1 - i0, i1 - i0);
    }
    for (int i = 0; i < N_SPLITS; i++)
        if (e.sp[i].fit) {
            MVOT_TRY(finish_split(&e, &e.sp[i], err));
            json_object_set_new(splits, e.sp[i].name, split_record(&e.sp[i]));
        }

    src_manifest = mvot_io_join(mvot_shard_set_dir(set), "manifest.json");
    uint64_t mh = 0;
    char mhex[17] = "";
    if (src_manifest && mvot_io_exists(src_manifest) &&
        mvot_hash_file(src_manifest, &mh, NULL) == MVOT_OK)
        mvot_hash_hex(mh, mhex);
    manifest = json_object();
    json_object_set_new(manifest, "format", json_string(MVOT_EXPORT_FORMAT_NAME));
    json_object_set_new(manifest, "version", json_integer(MVOT_EXPORT_VERSION));
    json_object_set_new(manifest, "tool", json_string("mvot-data " MVOT_VERSION));
    json_object_set_new(manifest, "export",
                        json_pack("{s:s,s:o,s:b,s:I}", "format", mvot_export_format_name(o->format),
                                  "split", only ? json_string(only) : json_null(), "prompts",
                                  o->prompts, "tar_samples", (json_int_t)o->tar_samples));
    json_object_set_new(manifest, "source",
                        json_pack("{s:O,s:O,s:O,s:s,s:I}", "format", json_object_get(sm, "format"),
                                  "version", json_object_get(sm, "version"), "config_xxh3",
                                  json_object_get(sm, "config_xxh3"), "manifest_file_xxh3", mhex,
                                  "samples", (json_int_t)(i1 - i0)));
    if (o->part_count)
        json_object_set_new(manifest, "part",
                            json_pack("{s:I,s:I,s:I,s:I,s:I}", "index", (json_int_t)o->part_index,
                                      "count", (json_int_t)o->part_count, "first_shard",
                                      (json_int_t)s0, "shards", (json_int_t)(s1 - s0),
                                      "first_sample", (json_int_t)i0));
    json_object_set(manifest, "tokenizer", json_object_get(sm, "tokenizer"));
    json_object_set(manifest, "splits", splits);
    json_object_set(manifest, "files", e.files);
    mpath = mvot_io_join(out_dir, "manifest.json");
    MVOT_FAIL_IF(!mpath, err, MVOT_ERR_NOMEM, "export", "out of memory");
    MVOT_TRY(mvot_json_write_file(mpath, manifest, err));
    if (summary)
        *summary = json_incref(manifest);
cleanup:
    for (int i = 0; i < N_SPLITS; i++) {
        struct split_out *s = &e.sp[i];
        outf_abort(&s->data);
        outf_abort(&s->labels);
        outf_abort(&s->text);
        outf_abort(&s->tar);
        free(s->lengths);
        json_decref(s->fit);
    }
    mvot_sample_free(&smp);
    mvot_shard_set_close(set);
    mvot_outdir_unlock(lock);
    mvot_buf_free(&e.line);
    json_decref(e.files);
    json_decref(names);
    json_decref(splits);
    json_decref(manifest);
    free(mpath);
    free(src_manifest);
    return st;
}
