/* mvot_pack_merge (shards/pack.h, docs/cluster.md): the parts of a split pack -> one set.
 *
 * A part packs a contiguous range of the plan's blocks, and a shard never spans a block, so
 * every shard file of a part is already the file a one-process pack writes, under the same
 * name. The merge therefore moves no bytes through zstd: it checks the parts (identity,
 * exactly once, every shard's hash), places the shard files in the output folder (hard links
 * where the filesystem has them, else copies), and writes the one manifest. Two things in
 * the records depend on what came before a part, and are fixed here: first_sample (a part
 * counts its samples from 0), and the statistics a part counted after its last shard (its
 * "carry": drops with no shard open yet), which a one-process run counts in the next shard. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/copy.h"
#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/outdir.h"
#include "core/partset.h"
#include "shards/format.h"
#include "shards/manifest.h"
#include "shards/pack.h"

/* Fields of a part manifest that are the part's own; all others must agree. */
static const char *const OWN_KEYS[] = {"format",      "shards", "totals",        "splits",
                                       "task_totals", "stats",  "manifest_xxh3", NULL};

/* Checks a part's manifest hash, its place in the block plan and every shard file. */
static enum mvot_status check_part(const struct mvot_part_in *p, int64_t want_first,
                                   int64_t *blocks, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    int64_t first = 0;
    MVOT_TRY(mvot_manifest_check(p->man, p->manifest_path, err));
    MVOT_TRY(mvot_json_get_int(p->part, "first_block", p->manifest_path, &first, err));
    MVOT_TRY(mvot_json_get_int(p->part, "blocks", p->manifest_path, blocks, err));
    MVOT_CORRUPT_IF(first != want_first || *blocks < 0, err, p->manifest_path,
                    "part %lld holds blocks from %lld, want %lld", (long long)p->index,
                    (long long)first, (long long)want_first);
    json_t *recs = json_object_get(p->man, "shards"), *r;
    size_t i;
    json_array_foreach(recs, i, r)
    {
        uint32_t block, n;
        uint64_t want = 0, got = 0;
        const char *file = json_string_value(json_object_get(r, "file"));
        MVOT_CORRUPT_IF(mvot_shard_record_name(r, &block, &n) != 0 ||
                            mvot_manifest_hash(r, "compressed_xxh3", &want) != 0,
                        err, p->manifest_path, "shards[%zu]: malformed record", i);
        char *path = mvot_io_join(p->dir, file);
        MVOT_FAIL_IF(!path, err, MVOT_ERR_NOMEM, p->dir, "out of memory");
        st = mvot_hash_file(path, &got, err);
        if (st == MVOT_OK && got != want)
            st = mvot_error_corrupt(err, path, -1,
                                    "does not match its record (xxh3): re-run part %lld",
                                    (long long)p->index);
        free(path);
        if (st != MVOT_OK)
            goto cleanup;
    }
cleanup:
    return st;
}

/* The one-process records: the parts' in order, first_sample counted over the set, each
 * part's carry added to the next shard. *leftover: the carry after the last shard. */
static json_t *join_records(const struct mvot_partset *ps, json_t **leftover)
{
    json_t *all = json_array(), *carry = NULL;
    uint64_t first = 0;
    for (int64_t k = 0; all && k < ps->count; k++) {
        const struct mvot_part_in *p = ps->slot[k];
        json_t *r;
        size_t i;
        json_array_foreach(json_object_get(p->man, "shards"), i, r)
        {
            json_t *c = json_deep_copy(r);
            json_object_set_new(c, "first_sample", json_integer((json_int_t)first));
            first += (uint64_t)json_integer_value(json_object_get(r, "samples"));
            if (carry) {
                mvot_stats_merge(json_object_get(c, "stats"), carry);
                json_decref(carry);
                carry = NULL;
            }
            json_array_append_new(all, c);
        }
        const json_t *pc = json_object_get(p->part, "carry");
        if (json_is_object(pc)) {
            if (!carry)
                carry = mvot_stats_new();
            mvot_stats_merge(carry, pc);
        }
    }
    *leftover = carry;
    return all;
}

/* One file of the set: its name under the root, where it comes from, and the XXH3 it must
 * have (a shard's record; the tokenizer's and codebook's identities in the manifest). */
struct placed {
    const char *rel; /* borrowed from the manifest */
    char *src;
    uint64_t want;
};

static void placed_free(struct placed *pf, size_t n)
{
    for (size_t i = 0; pf && i < n; i++)
        free(pf[i].src);
    free(pf);
}

/* Every file of the set in manifest order: the shards from their parts, then the tokenizer
 * and codebook copies from part 0. */
static enum mvot_status plan_files(const struct mvot_partset *ps, const json_t *manifest,
                                   struct placed **out, size_t *n, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const json_t *recs = json_object_get(manifest, "shards");
    size_t ns = json_array_size(recs), i = 0;
    struct placed *pf = calloc(ns + 2, sizeof *pf);
    MVOT_FAIL_IF(!pf, err, MVOT_ERR_NOMEM, "merge", "out of memory");
    for (int64_t k = 0; k < ps->count; k++)
        for (size_t j = 0; j < json_array_size(json_object_get(ps->slot[k]->man, "shards"));
             j++, i++) {
            const json_t *r = json_array_get(recs, i);
            pf[i].rel = json_string_value(json_object_get(r, "file"));
            pf[i].src = mvot_io_join(ps->slot[k]->dir, pf[i].rel);
            MVOT_FAIL_IF(!pf[i].src || mvot_manifest_hash(r, "compressed_xxh3", &pf[i].want), err,
                         MVOT_ERR_NOMEM, "merge", "out of memory");
        }
    static const char *const ids[] = {"tokenizer", "codebook"};
    for (size_t k = 0; k < 2; k++, i++) {
        const json_t *id = json_object_get(manifest, ids[k]);
        pf[i].rel = json_string_value(json_object_get(id, "file"));
        MVOT_CORRUPT_IF(!pf[i].rel || strchr(pf[i].rel, '/') ||
                            mvot_manifest_hash(id, "xxh3", &pf[i].want) != 0,
                        err, ps->slot[0]->manifest_path, "%s: no file name or xxh3", ids[k]);
        pf[i].src = mvot_io_join(ps->slot[0]->dir, pf[i].rel);
        MVOT_FAIL_IF(!pf[i].src, err, MVOT_ERR_NOMEM, "merge", "out of memory");
        /* the shards were checked with their part; these two are checked here */
        uint64_t got = 0;
        MVOT_TRY(mvot_hash_file(pf[i].src, &got, err));
        MVOT_CORRUPT_IF(got != pf[i].want, err, pf[i].src,
                        "does not match the manifest's %s xxh3: re-run part 0", ids[k]);
    }
cleanup:
    *out = pf;
    *n = pf ? ns + 2 : 0; /* calloc'd: entries not reached are empty */
    return st;
}

/* The output folder may already hold some of these files (a killed or repeated merge): each
 * must be the part's own file (a link) or have exactly its bytes, or the merge stops before
 * writing anything. */
static enum mvot_status check_existing(const char *out_dir, const struct placed *pf, size_t n,
                                       struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    for (size_t i = 0; i < n && st == MVOT_OK; i++) {
        char *dst = mvot_io_join(out_dir, pf[i].rel);
        struct stat a, b;
        uint64_t h = 0;
        if (!dst)
            st = mvot_error_set(err, MVOT_ERR_NOMEM, out_dir, "out of memory");
        else if (stat(dst, &a) != 0 ||
                 (stat(pf[i].src, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino))
            st = MVOT_OK; /* absent, or already our link */
        else if ((st = mvot_hash_file(dst, &h, err)) == MVOT_OK && h != pf[i].want)
            st = mvot_error_set(err, MVOT_ERR_INVALID, dst,
                                "already exists with other bytes than the parts' %s; merge into "
                                "a new or empty folder",
                                pf[i].src);
        free(dst);
    }
    return st;
}

/* Removes a killed merge's temp files (a copy cut short), then refuses any entry of the
 * output folder that is not the set's own (see check_existing). */
static enum mvot_status check_foreign(const char *out_dir, const struct placed *pf, size_t n,
                                      const struct mvot_outdir_lock *lock, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *root = json_pack("[s]", "manifest.json");
    for (int k = 0; k < 3; k++)
        json_array_append_new(root, json_string(mvot_split_name((enum mvot_split)k)));
    for (int k = -1; k < 3 && st == MVOT_OK; k++) {
        const char *sub = k < 0 ? NULL : mvot_split_name((enum mvot_split)k);
        json_t *names = k < 0 ? json_incref(root) : json_array();
        size_t sl = sub ? strlen(sub) : 0;
        for (size_t i = 0; i < n; i++) {
            const char *s = pf[i].rel;
            if (!sub && !strchr(s, '/'))
                json_array_append_new(names, json_string(s));
            else if (sub && strncmp(s, sub, sl) == 0 && s[sl] == '/')
                json_array_append_new(names, json_string(s + sl + 1));
        }
        const char **v = calloc(json_array_size(names) + 1, sizeof *v);
        char *dir = sub ? mvot_io_join(out_dir, sub) : strdup(out_dir);
        for (size_t j = 0; v && j < json_array_size(names); j++)
            v[j] = json_string_value(json_array_get(names, j));
        if (!v || !dir)
            st = mvot_error_set(err, MVOT_ERR_NOMEM, out_dir, "out of memory");
        else if (mvot_io_exists(dir)) {
            mvot_outdir_clean_stale_in(lock, sub, v, json_array_size(names));
            st = mvot_outdir_check_foreign(dir, v, json_array_size(names), "a shard set", err);
        }
        free(v);
        free(dir);
        json_decref(names);
    }
    json_decref(root);
    return st;
}

/* Places every file (those already there were checked equal). */
static enum mvot_status place_files(const char *out_dir, const struct placed *pf, size_t n,
                                    const struct mvot_progress *prog, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    for (size_t i = 0; i < n && st == MVOT_OK; i++) {
        char *dst = mvot_io_join(out_dir, pf[i].rel);
        char *slash = dst ? strrchr(dst, '/') : NULL;
        if (!dst)
            st = mvot_error_set(err, MVOT_ERR_NOMEM, out_dir, "out of memory");
        else if (!mvot_io_exists(dst)) {
            *slash = 0;
            st = mvot_io_mkdirs(dst, err);
            *slash = '/';
            if (st == MVOT_OK)
                st = mvot_io_link_or_copy(pf[i].src, dst, err);
        }
        free(dst);
        mvot_progress_report(prog, "merge", i + 1, n);
    }
    return st;
}

enum mvot_status mvot_pack_merge(const char *const *part_dirs, size_t n_parts, const char *out_dir,
                                 const struct mvot_progress *prog, json_t **summary,
                                 struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_partset ps = {0};
    struct mvot_outdir_lock *lock = NULL;
    json_t *records = NULL, *leftover = NULL, *manifest = NULL;
    struct placed *pf = NULL;
    size_t npf = 0;
    char *mpath = NULL;
    int64_t next = 0, blocks = 0, total = 0;
    if (summary)
        *summary = NULL;
    MVOT_TRY(mvot_partset_load(part_dirs, n_parts, MVOT_SHARD_PART_FORMAT_NAME, OWN_KEYS,
                               (const char *const[]){"total_blocks", NULL}, &ps, err));
    for (int64_t k = 0; k < ps.count; k++) {
        MVOT_TRY(check_part(ps.slot[k], next, &blocks, err));
        next += blocks;
    }
    MVOT_TRY(mvot_json_get_int(ps.in[0].part, "total_blocks", ps.in[0].manifest_path, &total, err));
    MVOT_CORRUPT_IF(next != total, err, ps.slot[ps.count - 1]->manifest_path,
                    "parts hold %lld blocks, the plan %lld", (long long)next, (long long)total);

    records = join_records(&ps, &leftover);
    manifest = json_deep_copy(ps.in[0].ident);
    MVOT_FAIL_IF(!records || !manifest, err, MVOT_ERR_NOMEM, "merge", "out of memory");
    json_object_set_new(manifest, "format", json_string(MVOT_SHARD_FORMAT_NAME));
    MVOT_FAIL_IF(mvot_manifest_complete(manifest, records, leftover) != MVOT_OK, err,
                 MVOT_ERR_NOMEM, "merge", "out of memory");
    MVOT_TRY(plan_files(&ps, manifest, &pf, &npf, err));

    MVOT_TRY(mvot_outdir_check_overlap(out_dir, part_dirs, n_parts, err));
    MVOT_TRY(mvot_outdir_lock(out_dir, "mvot merge", &lock, err));
    MVOT_TRY(check_foreign(out_dir, pf, npf, lock, err));
    MVOT_TRY(check_existing(out_dir, pf, npf, err));
    MVOT_TRY(place_files(out_dir, pf, npf, prog, err));
    mpath = mvot_io_join(out_dir, "manifest.json");
    MVOT_FAIL_IF(!mpath, err, MVOT_ERR_NOMEM, "merge", "out of memory");
    MVOT_TRY(mvot_json_write_file(mpath, manifest, err)); /* last: the set is complete */
    if (summary) {
        *summary = json_deep_copy(json_object_get(manifest, "totals"));
        json_object_set_new(*summary, "parts", json_integer((json_int_t)ps.count));
    }
cleanup:
    placed_free(pf, npf);
    free(mpath);
    json_decref(records);
    json_decref(leftover);
    json_decref(manifest);
    mvot_outdir_unlock(lock);
    mvot_partset_free(&ps);
    return st;
}
