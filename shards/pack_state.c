/* Pack setup, identities, resume state and the manifest (shards/pack_internal.h,
 * docs/manifest.md). Resume: each committed shard's record (with its statistics and the
 * enumeration ordinal it ends at) is saved to .pack-state.json, so a rerun skips exactly the
 * committed samples and sums the same records into the same manifest. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/copy.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/outdir.h"
#include "shards/format.h"
#include "shards/manifest.h"
#include "shards/pack_internal.h"

json_t *mvot__pack_hex_json(uint64_t h)
{
    char b[17];
    mvot_hash_hex(h, b);
    return json_string(b);
}

json_t *mvot__pack_options_json(const struct mvot_pack_opts *o)
{
    char *s = mvot_pack_opts_to_json(o);
    json_t *j = NULL;
    if (s)
        mvot_json_load_buf(s, strlen(s), "options", &j, NULL);
    free(s);
    return j ? j : json_object();
}

enum mvot_status mvot__pack_setup(struct pack *p, const char *tokenizer_path,
                                  const char *codebook_path, struct pack_ids *ids,
                                  struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const struct mvot_pack_opts *o = p->o;
    MVOT_TRY(mvot_pack_opts_validate(o, "pack", err));
    p->N = o->image_seq_length;
    p->S = p->N == 1024 ? 512 : p->N == 256 ? 256 : 128;
    MVOT_TRY(mvot_bpe_load_file(tokenizer_path, &p->tok, err));
    MVOT_TRY(mvot_layout_from_bpe(p->tok, &p->lay, err));
    MVOT_TRY(mvot_assembler_init(&p->as, p->tok, &p->lay, p->N, err));
    p->wide = mvot_bpe_vocab_size(p->tok) > 65536;
    MVOT_TRY(mvot_imagetok_open(codebook_path, p->S, 1, &p->it, err));
    mvot_imagetok_get_info(p->it, &p->info);
    /* Augmentation re-encodes decoded images, so it needs a decoder. With a patch codebook the
     * decoded patches are codebook entries, which encode to the same codes: a round trip
     * changes nothing, so none is done (the summary says so). */
    MVOT_FAIL_IF(o->augment && !p->info.can_decode, err, MVOT_ERR_INVALID, codebook_path,
                 "--augment %u needs a decoder to turn codes back into images, and this "
                 "checkpoint has none",
                 o->augment);
    p->augment = p->info.kind == MVOT_IMAGETOK_PATCH ? 0 : o->augment;
    MVOT_FAIL_IF(p->info.grid * p->info.grid != p->N, err, MVOT_ERR_MISMATCH, codebook_path,
                 "gives %u codes per image, want %u", p->info.grid * p->info.grid, p->N);
    MVOT_FAIL_IF(p->info.K > p->lay.n_codes, err, MVOT_ERR_MISMATCH, codebook_path,
                 "has %u codes but the tokenizer only %u image code tokens", p->info.K,
                 p->lay.n_codes);
    MVOT_TRY(mvot_io_mkdirs(p->out_dir, err));

    ids->tokenizer = json_object();
    json_object_set_new(ids->tokenizer, "file", json_string("tokenizer.json"));
    json_object_set_new(ids->tokenizer, "xxh3", mvot__pack_hex_json(mvot_bpe_file_hash(p->tok)));
    json_object_set_new(ids->tokenizer, "vocab_size", json_integer(mvot_bpe_vocab_size(p->tok)));
    json_object_set_new(ids->tokenizer, "token_dtype", json_string(p->wide ? "uint32" : "uint16"));
    json_t *sp = json_object();
    json_object_set_new(sp, "bos", json_integer(p->lay.bos));
    json_object_set_new(sp, "pad", json_integer(p->lay.pad));
    json_object_set_new(sp, "eos", json_integer(p->lay.eos));
    json_object_set_new(sp, "unk", json_integer(p->lay.unk));
    json_object_set_new(sp, "boi", json_integer(p->lay.boi));
    json_object_set_new(sp, "eoi", json_integer(p->lay.eoi));
    json_object_set_new(sp, "sep", json_integer(p->lay.sep));
    json_object_set_new(sp, "image", json_integer(p->lay.image));
    json_object_set_new(ids->tokenizer, "special", sp);
    json_object_set_new(ids->tokenizer, "image_codes", json_integer(p->lay.n_codes));
    ids->codebook = json_object();
    const char *cbname =
        p->info.kind == MVOT_IMAGETOK_VQGAN ? "vqgan.safetensors" : "codebook.safetensors";
    json_object_set_new(ids->codebook, "file", json_string(cbname));
    json_object_set_new(ids->codebook, "xxh3", mvot__pack_hex_json(p->info.hash));
    json_object_set_new(ids->codebook, "kind",
                        json_string(p->info.kind == MVOT_IMAGETOK_VQGAN ? "vqgan" : "patch"));
    json_object_set_new(ids->codebook, "K", json_integer(p->info.K));
    json_object_set_new(ids->codebook, "D", json_integer(p->info.D));
    json_object_set_new(ids->codebook, "image_size", json_integer(p->info.image_size));
cleanup:
    return st;
}

enum mvot_status mvot__pack_copy_identities(struct pack *p, const char *tokenizer_path,
                                            const char *codebook_path, const struct pack_ids *ids,
                                            struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *t = mvot_io_join(p->out_dir, "tokenizer.json");
    char *c = mvot_io_join(p->out_dir, json_string_value(json_object_get(ids->codebook, "file")));
    MVOT_FAIL_IF(!t || !c, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    MVOT_TRY(mvot_io_copy_file(tokenizer_path, t, err));
    MVOT_TRY(mvot_io_copy_file(codebook_path, c, err));
cleanup:
    free(t);
    free(c);
    return st;
}

enum mvot_status mvot__pack_save_state(struct pack *p, struct mvot_error *err)
{
    char *path = mvot_io_join(p->out_dir, MVOT_PACK_STATE_FILE);
    if (!path)
        return mvot_error_set(err, MVOT_ERR_NOMEM, "pack", "out of memory");
    json_t *s = json_deep_copy(p->state_base);
    json_object_set(s, "shards", p->records);
    /* the shard being written: a kill between its rename and the next save leaves it
     * unlisted, and this is how the rerun knows it is ours */
    json_t *pending = json_array();
    if (p->pending[0])
        json_array_append_new(pending, json_string(p->pending));
    json_object_set_new(s, "pending", pending);
    enum mvot_status st = mvot_json_write_file(path, s, err);
    json_decref(s);
    free(path);
    return st;
}

/* Files of ours by folder, as plain names: [0..2] the split folders, [3] the root. */
enum { ROOT_FOLDER = 3, N_FOLDERS = 4 };
struct by_folder {
    json_t *v[N_FOLDERS];
};

static int by_folder_init(struct by_folder *f)
{
    int ok = 1;
    for (int k = 0; k < N_FOLDERS; k++)
        ok &= (f->v[k] = json_array()) != NULL;
    return ok;
}

static void by_folder_free(struct by_folder *f)
{
    for (int k = 0; k < N_FOLDERS; k++)
        json_decref(f->v[k]);
}

/* Files a state or manifest names ("train/shard-…", a plain name, or arrays of them) go to
 * their folder; anything else (a deeper path, an unknown folder) is never ours. */
static void own(struct by_folder *f, const json_t *v)
{
    size_t i;
    json_t *x;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) own(f, x);
        return;
    }
    const char *rel = json_string_value(v);
    if (!rel || !*rel)
        return;
    const char *sl = strchr(rel, '/');
    if (!sl) {
        json_array_append_new(f->v[ROOT_FOLDER], json_string(rel));
        return;
    }
    for (int k = 0; k < 3; k++) {
        const char *sn = mvot_split_name((enum mvot_split)k);
        if (strlen(sn) == (size_t)(sl - rel) && strncmp(rel, sn, strlen(sn)) == 0 && sl[1] &&
            !strchr(sl + 1, '/'))
            json_array_append_new(f->v[k], json_string(sl + 1));
    }
}

/* Adds the files an earlier run of ours recorded in `doc` (our state file or our manifest):
 * its shards, the shards it was about to write, and its tokenizer and codebook copies. Only
 * these may be deleted or overwritten. */
static void add_owned(struct by_folder *f, const json_t *doc)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(doc, "shards"), i, v) own(f, json_object_get(v, "file"));
    own(f, json_object_get(doc, "files"));
    own(f, json_object_get(doc, "pending"));
    own(f, json_object_get(json_object_get(doc, "tokenizer"), "file"));
    own(f, json_object_get(json_object_get(doc, "codebook"), "file"));
}

/* The strings of a JSON array as a malloc'd vector (borrowed from the array; non-strings
 * become NULL, which the core/outdir.h calls skip). */
static const char **name_vec(const json_t *arr)
{
    const char **v = calloc(json_array_size(arr) + 1, sizeof *v);
    for (size_t i = 0; v && i < json_array_size(arr); i++)
        v[i] = json_string_value(json_array_get(arr, i));
    return v;
}

/* Calls one core/outdir.h function per folder with that folder's names. what: 0 clean the
 * killed run's temp files, 1 remove the files, 2 refuse files not listed. */
static enum mvot_status per_folder(struct pack *p, const struct by_folder *f, int what,
                                   struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    for (int k = 0; k < N_FOLDERS && st == MVOT_OK; k++) {
        const char *sub = k == ROOT_FOLDER ? NULL : mvot_split_name((enum mvot_split)k);
        char *dir = sub ? mvot_io_join(p->out_dir, sub) : strdup(p->out_dir);
        const char **names = name_vec(f->v[k]);
        size_t n = json_array_size(f->v[k]);
        if (!dir || !names)
            st = mvot_error_set(err, MVOT_ERR_NOMEM, "pack", "out of memory");
        else if (what == 0)
            mvot_outdir_clean_stale_in(p->lock, sub, names, n);
        else if (what == 1)
            st = mvot_outdir_remove(dir, names, n, err);
        else if (k != ROOT_FOLDER || mvot_io_exists(dir))
            st = mvot_outdir_check_foreign(dir, names, n, "a shard set", err);
        free(dir);
        free(names);
    }
    return st;
}

/* Loads previous progress (state file, else a complete manifest of ours) if it has our
 * config hash, keeping the longest prefix of records whose shard files hash right. Files are
 * removed only when our state or manifest lists them (docs/cli.md, "Output folders"); any
 * other entry in the root or a split folder stops the run before anything is written. */
static enum mvot_status load_progress(struct pack *p, const char *config_hex, int force,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *spath = mvot_io_join(p->out_dir, MVOT_PACK_STATE_FILE);
    char *mpath = mvot_io_join(p->out_dir, "manifest.json");
    json_t *prev = NULL, *man = NULL, *files = NULL;
    struct by_folder owned = {{0}}, stale = {{0}}, check = {{0}};
    MVOT_FAIL_IF(!spath || !mpath || !by_folder_init(&owned) || !by_folder_init(&stale) ||
                     !by_folder_init(&check),
                 err, MVOT_ERR_NOMEM, "pack", "out of memory");
    if (mvot_io_exists(spath) && mvot_json_load_file(spath, &prev, NULL) == MVOT_OK &&
        json_is_string(json_object_get(prev, "config_xxh3")))
        json_array_append_new(owned.v[ROOT_FOLDER], json_string(MVOT_PACK_STATE_FILE));
    else {
        json_decref(prev);
        prev = NULL;
    }
    const char *fmt = NULL;
    if (mvot_io_exists(mpath) && mvot_json_load_file(mpath, &man, NULL) == MVOT_OK &&
        (fmt = json_string_value(json_object_get(man, "format"))) &&
        (strcmp(fmt, MVOT_SHARD_FORMAT_NAME) == 0 || strcmp(fmt, MVOT_SHARD_PART_FORMAT_NAME) == 0))
        json_array_append_new(owned.v[ROOT_FOLDER], json_string("manifest.json"));
    else {
        json_decref(man); /* not ours (a gen manifest, say): the foreign check refuses it */
        man = NULL;
    }
    add_owned(&owned, prev);
    add_owned(&owned, man);
    if (!prev)
        prev = json_incref(man);
    /* a killed run's temp files: those of its own files and of the files every run writes */
    files = json_pack("[s,s,s,s]", MVOT_PACK_STATE_FILE, "manifest.json", "tokenizer.json",
                      p->info.kind == MVOT_IMAGETOK_VQGAN ? "vqgan.safetensors"
                                                          : "codebook.safetensors");
    for (int k = 0; k < N_FOLDERS; k++)
        json_array_extend(stale.v[k], owned.v[k]);
    json_array_extend(stale.v[ROOT_FOLDER], files);
    MVOT_TRY(per_folder(p, &stale, 0, err));
    /* the split folders are ours to write into (a foreign file inside one is refused) */
    for (int k = 0; k < N_FOLDERS; k++) {
        json_array_extend(check.v[k], owned.v[k]);
        json_array_clear(stale.v[k]);
    }
    for (int k = 0; k < 3; k++)
        json_array_append_new(check.v[ROOT_FOLDER],
                              json_string(mvot_split_name((enum mvot_split)k)));
    MVOT_TRY(per_folder(p, &check, 2, err));
    if (prev) {
        const char *h = json_string_value(json_object_get(prev, "config_xxh3"));
        if (!h || strcmp(h, config_hex) != 0) {
            MVOT_FAIL_IF(!force, err, MVOT_ERR_INVALID, p->out_dir,
                         "holds a pack made with other inputs or options (config %s, now %s); "
                         "use --force to replace it",
                         h ? h : "?", config_hex);
            MVOT_TRY(per_folder(p, &owned, 1, err));
            json_decref(prev);
            prev = NULL;
        }
    }
    json_t *recs = prev ? json_object_get(prev, "shards") : NULL;
    for (size_t i = 0; i < json_array_size(recs); i++) {
        json_t *r = json_array_get(recs, i);
        uint64_t h = 0, got = 0;
        /* the records are ours (the config hash matched) and in order; what is checked here
         * is that each names its file as the writer does and that the file is whole */
        uint32_t block, n;
        if (mvot_shard_record_name(r, &block, &n) != 0 ||
            mvot_manifest_hash(r, "compressed_xxh3", &h) != 0)
            break;
        char *path = mvot_io_join(p->out_dir, json_string_value(json_object_get(r, "file")));
        int ok = path && mvot_hash_file(path, &got, NULL) == MVOT_OK && got == h;
        free(path);
        if (!ok)
            break;
        json_array_append(p->records, r);
    }
    /* our shards past the kept prefix, and the ones a killed run was writing */
    for (size_t i = json_array_size(p->records); i < json_array_size(recs); i++)
        own(&stale, json_object_get(json_array_get(recs, i), "file"));
    own(&stale, json_object_get(prev, "pending"));
    json_array_remove(files, 0); /* keeps the copies of the tokenizer and codebook */
    json_array_remove(files, 0);
    json_object_set_new(p->state_base, "files", files);
    files = NULL;
    /* Save the kept records as state before the manifest goes, so a kill from here on still
     * resumes and the next run knows every file of ours; the manifest is rewritten last, and
     * until then the dir is incomplete. */
    MVOT_TRY(mvot__pack_save_state(p, err));
    if (man)
        unlink(mpath);
    MVOT_TRY(per_folder(p, &stale, 1, err));
cleanup:
    json_decref(files);
    json_decref(prev);
    json_decref(man);
    by_folder_free(&owned);
    by_folder_free(&stale);
    by_folder_free(&check);
    free(spath);
    free(mpath);
    return st;
}

/* Resume position from the kept records. */
static void resume_point(struct pack *p, uint64_t *resume_ordinal)
{
    size_t n = json_array_size(p->records);
    *resume_ordinal = 0;
    p->samples_written = 0;
    memset(p->have_last, 0, sizeof p->have_last);
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(p->records, i);
        const char *split = json_string_value(json_object_get(r, "split"));
        for (int k = 0; split && k < 3; k++)
            if (strcmp(split, mvot_split_name((enum mvot_split)k)) == 0)
                p->have_last[k] = mvot_shard_record_name(r, &p->last_block[k], &p->last_n[k]) == 0;
        p->samples_written += (uint64_t)json_integer_value(json_object_get(r, "samples"));
        *resume_ordinal = (uint64_t)json_integer_value(json_object_get(r, "end_ordinal"));
    }
}

enum mvot_status mvot__pack_begin(struct pack *p, const struct pack_ids *ids, json_t *config,
                                  char cfg_hex[17], uint64_t *resume_ordinal,
                                  struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_object_set_new(config, "options", mvot__pack_options_json(p->o));
    json_object_set(config, "tokenizer", json_object_get(ids->tokenizer, "xxh3"));
    json_object_set(config, "codebook", json_object_get(ids->codebook, "xxh3"));
    json_object_set_new(config, "tool", json_string("mvot-data " MVOT_VERSION));
    json_object_set_new(config, "format_version", json_integer(MVOT_SHARD_VERSION));
    char *dump = mvot_json_dumps(config);
    MVOT_FAIL_IF(!dump, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    mvot_hash_hex(mvot_hash64(dump, strlen(dump)), cfg_hex);
    p->state_base = json_object();
    json_object_set_new(p->state_base, "config_xxh3", json_string(cfg_hex));
    MVOT_TRY(mvot_io_mkdirs(p->out_dir, err));
    MVOT_TRY(load_progress(p, cfg_hex, p->o->force, err));
    resume_point(p, resume_ordinal);
cleanup:
    free(dump);
    return st;
}

/* Commits the last shard and writes the manifest. */
/* The manifest fields pack and retokenize share: format, tool, mode, sizes, options, config
 * hash, identities and which encoder made the image codes. New reference. */
json_t *mvot__pack_manifest_base(const struct pack *p, const struct mvot_pack_opts *o,
                                 const char *cfg_hex, const struct pack_ids *ids)
{
    json_t *m = json_object();
    json_object_set_new(m, "format", json_string(MVOT_SHARD_FORMAT_NAME));
    json_object_set_new(m, "version", json_integer(MVOT_SHARD_VERSION));
    json_object_set_new(m, "tool", json_string("mvot-data " MVOT_VERSION));
    json_object_set_new(m, "mode", json_string(mvot_pack_mode_name(o->mode)));
    json_object_set_new(m, "image_seq_length", json_integer(p->N));
    json_object_set_new(m, "image_size", json_integer(p->S));
    json_object_set_new(m, "options", mvot__pack_options_json(o));
    json_object_set_new(m, "config_xxh3", json_string(cfg_hex));
    json_object_set(m, "tokenizer", ids->tokenizer);
    json_object_set(m, "codebook", ids->codebook);
    json_object_set_new(
        m, "image_encoder",
        json_string(o->encoder ? (o->encoder->name ? o->encoder->name : "external") : "cpu"));
    return m;
}

void mvot__pack_part_manifest(json_t *m, const struct mvot_pack_opts *o, uint64_t first,
                              uint64_t count, uint64_t total)
{
    json_object_set_new(m, "format", json_string(MVOT_SHARD_PART_FORMAT_NAME));
    json_object_set_new(m, "part",
                        json_pack("{s:I,s:I,s:I,s:I,s:I}", "index", (json_int_t)o->part_index,
                                  "count", (json_int_t)o->part_count, "first_block",
                                  (json_int_t)first, "blocks", (json_int_t)count, "total_blocks",
                                  (json_int_t)total));
}

enum mvot_status mvot__pack_finish(struct pack *p, json_t *manifest, json_t **summary,
                                   uint64_t resumed, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    char *mpath = NULL, *spath = NULL;
    if (p->stopped) {
        if (summary) {
            *summary = json_object();
            json_object_set_new(*summary, "interrupted", json_true());
            json_object_set_new(*summary, "shards",
                                json_integer((json_int_t)json_array_size(p->records)));
        }
        return MVOT_OK;
    }
    if (p->w)
        MVOT_TRY(mvot__pack_commit_shard(p, p->ordinal_total, NULL, err));
    /* a part's statistics after its last shard (drops): the merge adds them to the next
     * part's first shard, where a one-process run counts them */
    if (json_is_object(json_object_get(manifest, "part")))
        json_object_set(json_object_get(manifest, "part"), "carry", p->cur_stats);
    MVOT_FAIL_IF(mvot_manifest_complete(manifest, p->records, p->cur_stats) != MVOT_OK, err,
                 MVOT_ERR_NOMEM, "pack", "out of memory");
    mpath = mvot_io_join(p->out_dir, "manifest.json");
    spath = mvot_io_join(p->out_dir, MVOT_PACK_STATE_FILE);
    MVOT_FAIL_IF(!mpath || !spath, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    MVOT_TRY(mvot_json_write_file(mpath, manifest, err));
    unlink(spath);
    if (summary) {
        json_t *totals = json_object_get(manifest, "totals");
        uint64_t raw = (uint64_t)json_integer_value(json_object_get(totals, "raw_bytes"));
        uint64_t comp = (uint64_t)json_integer_value(json_object_get(totals, "compressed_bytes"));
        *summary = json_deep_copy(totals);
        json_object_set(*summary, "splits", json_object_get(manifest, "splits"));
        json_object_set_new(*summary, "interrupted", json_false());
        if (p->o->augment && !p->augment)
            json_object_set_new(*summary, "augment_identity", json_true());
        json_object_set_new(*summary, "resumed_shards", json_integer((json_int_t)resumed));
        json_object_set_new(*summary, "ratio", json_real(comp ? (double)raw / (double)comp : 0));
    }
cleanup:
    free(mpath);
    free(spath);
    return st;
}
