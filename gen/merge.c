/* Merging the parts of a split `mvot gen` run (gen/gen.h, docs/cluster.md). Every part holds
 * the whole set's manifest plus its own archive; the merge checks that the parts agree and
 * cover 0..N-1 once each, then copies their members in part order into one archive through
 * the writer's frame copy: every episode is its own zstd frame at the set's level, so the
 * frames are copied verbatim (no recompression) and only the end marker, the episode index
 * and the seek table are written anew; archive and manifest come out byte-identical to a
 * one-process run. The parts' archives were checked against their manifests' xxh3 first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/partset.h"
#include "gen/gen.h"
#include "gen/internal.h"
#include "gen/tarz.h"

/* What each gen part has of its own: its place in the plan, and its archive. */
struct part_in {
    const char *dir;
    json_t *man;
    int64_t index, first, episodes;
};

static enum mvot_status read_part(const struct mvot_part_in *b, struct part_in *p,
                                  struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    p->dir = b->dir;
    p->man = b->man;
    p->index = b->index;
    MVOT_TRY(mvot_json_get_int(b->part, "first", b->manifest_path, &p->first, err));
    MVOT_TRY(mvot_json_get_int(b->part, "episodes", b->manifest_path, &p->episodes, err));
    MVOT_CORRUPT_IF(p->first < 0 || p->episodes < 0, err, b->manifest_path,
                    "part %lld: episodes out of range", (long long)p->index);
cleanup:
    return st;
}

/* Checks the part's archive against its manifest (before anything is written). */
static enum mvot_status check_archive(const struct part_in *p, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const char *want = NULL;
    uint64_t h, bytes, want_h;
    int64_t want_bytes;
    char *path = mvot_io_join(p->dir, "episodes.tar.zst");
    MVOT_FAIL_IF(!path, err, MVOT_ERR_NOMEM, p->dir, "out of memory");
    MVOT_TRY(mvot_json_get_str(p->man, "archive_xxh3", p->dir, &want, err));
    MVOT_TRY(mvot_json_get_int(p->man, "archive_bytes", p->dir, &want_bytes, err));
    MVOT_TRY(mvot_gen_archive_identity(path, &h, &bytes, err));
    MVOT_CORRUPT_IF(
        mvot_hash_parse_hex(want, &want_h) != 0 || want_h != h || (int64_t)bytes != want_bytes, err,
        path, "archive does not match its manifest (xxh3 or size): re-run part %lld",
        (long long)p->index);
cleanup:
    free(path);
    return st;
}

/* Appends the part's episode frames to w verbatim (they are independent frames at the set's
 * level, so the result is what one process writes); the number of episodes in *episodes. */
static enum mvot_status copy_part(const struct part_in *p, struct mvot_tarz_writer *w,
                                  int64_t *episodes, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_tarz_index *ix = NULL;
    char *path = mvot_io_join(p->dir, "episodes.tar.zst");
    *episodes = 0;
    MVOT_FAIL_IF(!path, err, MVOT_ERR_NOMEM, p->dir, "out of memory");
    MVOT_TRY(mvot_tarz_index_open(path, &ix, err));
    MVOT_CORRUPT_IF(!ix, err, path,
                    "archive has no episode index (version 1, an older mvot): re-run part %lld",
                    (long long)p->index);
    for (size_t i = 0; i < mvot_tarz_index_count(ix); i++) {
        const uint8_t *frame;
        size_t len;
        struct mvot_seek_entry e;
        uint64_t off;
        mvot_tarz_index_frame(ix, i, &e, &off);
        MVOT_TRY(mvot_tarz_index_read(ix, i, 0, &frame, &len, err));
        MVOT_TRY(mvot_tarz_writer_copy(w, mvot_tarz_index_get(ix, i), frame, &e, err));
        (*episodes)++;
    }
cleanup:
    mvot_tarz_index_close(ix);
    free(path);
    return st;
}

enum mvot_status mvot_gen_merge(const char *const *part_dirs, size_t n_parts, const char *out_dir,
                                const struct mvot_progress *prog, json_t **summary,
                                struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_partset ps = {0};
    struct part_in *slot = NULL; /* [count], by index */
    struct mvot_tarz_writer *w = NULL;
    struct mvot_gen_config cfg;
    json_t *manifest = NULL;
    struct mvot_gen_out out = {0};
    int64_t count = 0, next = 0, total = 0;
    if (summary)
        *summary = NULL;
    MVOT_TRY(mvot_partset_load(part_dirs, n_parts, MVOT_GEN_PART_FORMAT, MVOT_GEN_PART_OWN_KEYS,
                               (const char *const[]){"plan_xxh3", NULL}, &ps, err));
    count = ps.count;
    slot = calloc((size_t)count, sizeof *slot);
    MVOT_FAIL_IF(!slot, err, MVOT_ERR_NOMEM, "merge", "out of memory");
    for (int64_t i = 0; i < count; i++)
        MVOT_TRY(read_part(ps.slot[i], &slot[i], err));
    json_t *in0 = ps.in[0].ident;
    MVOT_TRY(mvot_json_get_int(ps.in[0].man, "episodes", ps.in[0].dir, &total, err));
    for (int64_t i = 0; i < count; i++) {
        MVOT_CORRUPT_IF(slot[i].first != next, err, slot[i].dir,
                        "part %lld starts at episode %lld, want %lld", (long long)i,
                        (long long)slot[i].first, (long long)next);
        next += slot[i].episodes;
    }
    MVOT_CORRUPT_IF(next != total, err, slot[count - 1].dir,
                    "parts hold %lld episodes, the set %lld", (long long)next, (long long)total);
    MVOT_TRY(mvot_gen_config_from_json(json_object_get(ps.in[0].man, "config"), &cfg, err));
    for (int64_t i = 0; i < count; i++)
        MVOT_TRY(check_archive(&slot[i], err));

    /* The same output-folder contract as mvot gen: the merged folder is an episode set. */
    MVOT_TRY(mvot_gen_out_open(out_dir, "mvot merge", &out, err));
    MVOT_TRY(mvot_tarz_writer_open(out.tar_path, cfg.zstd_level, &w, err));
    for (int64_t i = 0; i < count; i++) {
        int64_t got;
        MVOT_TRY(copy_part(&slot[i], w, &got, err));
        MVOT_CORRUPT_IF(got != slot[i].episodes, err, slot[i].dir,
                        "archive holds %lld episodes, its manifest %lld", (long long)got,
                        (long long)slot[i].episodes);
        mvot_progress_report(prog, "merge", (uint64_t)i + 1, (uint64_t)count);
    }
    st = mvot_tarz_writer_commit(w, err);
    w = NULL;
    if (st != MVOT_OK)
        goto cleanup;
    {
        uint64_t h, bytes;
        char hex[17];
        MVOT_TRY(mvot_gen_archive_identity(out.tar_path, &h, &bytes, err));
        mvot_hash_hex(h, hex);
        manifest = json_deep_copy(in0);
        MVOT_FAIL_IF(
            !manifest ||
                json_object_set_new(manifest, "format", json_string("mvot-gen-manifest")) != 0 ||
                json_object_set_new(manifest, "archive_xxh3", json_string(hex)) != 0 ||
                json_object_set_new(manifest, "archive_bytes", json_integer((json_int_t)bytes)) !=
                    0,
            err, MVOT_ERR_NOMEM, "merge", "out of memory");
    }
    MVOT_TRY(mvot_json_write_file(out.man_path, manifest, err));
    unlink(out.state_path);
    if (summary) {
        *summary = manifest;
        manifest = NULL;
    }
cleanup:
    mvot_tarz_writer_abort(w);
    mvot_partset_free(&ps);
    free(slot);
    json_decref(manifest);
    mvot_gen_out_free(&out);
    return st;
}
