/* mvot_pack_retokenize (shards/pack.h): rebuilds a shard set (v1 or v2) as version 2 from
 * its stored frames and texts with a new tokenizer and/or codebook. Each old sample is one
 * unit; its texts, frames and augmentation levels are taken as stored, so only the token
 * ids change. Output shards follow the source's boundaries (one per source shard and split),
 * which is also how a v1 set (shards mixing splits) is migrated. */
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/json.h"
#include "shards/format.h"
#include "shards/manifest.h"
#include "shards/pack_internal.h"

/* Where a sample of source shard src goes: the source's own block and number in a set that
 * has blocks (so a part starting inside a block names its shards as one process does), else
 * block = the source's position among its split's shards and the next number (a v1 set, or a
 * format 2 set written before blocks, whose shards were numbered per split). */
static struct pack_place src_place(const json_t *om, size_t src, uint8_t split)
{
    json_t *recs = json_object_get(om, "shards");
    json_t *r = json_array_get(recs, src);
    struct pack_place at = {split, 0, -1, (int64_t)src};
    uint32_t block, n;
    if (mvot_shard_record_name(r, &block, &n) == 0) {
        at.block = block;
        at.n = n;
        return at;
    }
    const char *sp = json_string_value(json_object_get(r, "split"));
    for (size_t i = 0; i < src; i++) {
        const char *si = json_string_value(json_object_get(json_array_get(recs, i), "split"));
        at.block += !sp || !si || strcmp(sp, si) == 0;
    }
    return at;
}

enum mvot_status mvot_pack_retokenize(const char *in_dir, const char *tokenizer_path,
                                      const char *codebook_path, const char *out_dir,
                                      const struct mvot_pack_opts *opts_in, struct mvot_pool *pool,
                                      const struct mvot_progress *prog, json_t **summary,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct pack p;
    struct mvot_shard_set *set = NULL;
    struct mvot_pack_opts o = *opts_in;
    char *old_tok = NULL, *old_cb = NULL, *oj = NULL, *in_root = NULL, *in_split = NULL;
    json_t *manifest = NULL, *config = NULL;
    uint32_t **old_aug = NULL;
    if (summary)
        *summary = NULL;
    MVOT_FAIL_IF(mvot__pack_init(&p, &o, out_dir, pool, prog) != MVOT_OK, err, MVOT_ERR_NOMEM,
                 "pack", "out of memory");
    p.retok = 1;
    /* the input is the whole set, also when in_dir is one of its split folders */
    MVOT_TRY(mvot_shards_locate(in_dir, &in_root, &in_split, err));
    MVOT_TRY(mvot__pack_open_out(&p,
                                 (const char *[]){in_dir, in_root, tokenizer_path, codebook_path},
                                 4, "mvot retokenize", err));
    MVOT_TRY(mvot_shard_set_open(in_dir, &set, err));
    const json_t *om = mvot_shard_set_manifest(set);
    /* everything but the writer's level comes from the source; boundaries follow it */
    oj = mvot_json_dumps(json_object_get(om, "options"));
    MVOT_CORRUPT_IF(!oj, err, in_dir, "manifest.json: no options object");
    MVOT_TRY(mvot_pack_opts_from_json(oj, "manifest.json: options", &o, err));
    o.zstd_level = opts_in->zstd_level;
    MVOT_TRY(mvot_pack_opts_validate(&o, "retokenize", err));
    o.store_frames = 1;
    const char *root = mvot_shard_set_dir(set);
    const char *cbf = json_string_value(json_object_get(json_object_get(om, "codebook"), "file"));
    old_tok = mvot_io_join(root, "tokenizer.json");
    old_cb = cbf && !strchr(cbf, '/') ? mvot_io_join(root, cbf) : NULL;
    MVOT_FAIL_IF(!old_tok || !old_cb, err, MVOT_ERR_NOMEM, "pack", "out of memory");
    if (!tokenizer_path)
        tokenizer_path = old_tok;
    if (!codebook_path)
        codebook_path = old_cb;
    MVOT_TRY(mvot__pack_setup(&p, tokenizer_path, codebook_path, &p.ids, err));
    p.ids.episodes = json_deep_copy(json_object_get(om, "episodes"));

    config = json_object();
    json_object_set(config, "retokenized_from", json_object_get(om, "config_xxh3"));
    if (mvot_shard_set_split(set))
        json_object_set_new(config, "split", json_string(mvot_shard_set_split(set)));
    char cfg_hex[17];
    uint64_t resume_ordinal = 0;
    MVOT_TRY(mvot__pack_begin(&p, &p.ids, config, cfg_hex, &resume_ordinal, err));
    MVOT_TRY(mvot__pack_copy_identities(&p, tokenizer_path, codebook_path, &p.ids, err));
    uint64_t resumed = json_array_size(p.records);

    /* a part (docs/cluster.md) takes a contiguous 1/count of the source's shards */
    size_t ns = mvot_shard_set_shards(set);
    uint64_t pi = o.part_count ? o.part_index : 0, pc = o.part_count ? o.part_count : 1;
    size_t s0 = (size_t)(ns * pi / pc), s1 = (size_t)(ns * (pi + 1) / pc);
    size_t i0 = mvot_shard_set_first_sample(set, s0), i1 = mvot_shard_set_first_sample(set, s1);
    p.total_hint = i1 - i0;
    p.done_items = resume_ordinal > i0 ? resume_ordinal - i0 : 0;
    size_t chunk_frames = 0;
    for (size_t i = i0 > resume_ordinal ? i0 : (size_t)resume_ordinal; i < i1; i++) {
        struct pack_unit *u;
        MVOT_TRY(mvot__pack_new_unit(&p, &u, err));
        MVOT_TRY(mvot_shard_set_get(set, i, &u->old, err));
        const json_t *m = u->old.meta;
        const char *in_t = json_string_value(json_object_get(m, "input_text"));
        const char *lb_t = json_string_value(json_object_get(m, "label_text"));
        json_t *imgs = json_object_get(m, "images"), *aug = json_object_get(m, "augment");
        json_t *limgs = json_object_get(m, "label_images");
        uint32_t ni = (uint32_t)json_array_size(imgs);
        MVOT_CORRUPT_IF(!in_t || !lb_t || ni != u->old.n_png || json_array_size(aug) != ni, err,
                        u->old.key,
                        "sample lacks input_text/label_text, or its %u frames (stored %u) and "
                        "augment list disagree; was it packed with --no-frames?",
                        ni, u->old.n_png);
        u->n_frames = ni;
        u->png = u->old.png;
        u->png_len = u->old.png_len;
        u->old.png = NULL; /* moved into the unit */
        u->old.png_len = NULL;
        u->old.n_png = 0;
        u->ex = calloc(1, sizeof *u->ex);
        MVOT_FAIL_IF(!u->ex, err, MVOT_ERR_NOMEM, "pack", "out of memory");
        u->n_ex = 1;
        snprintf(u->ex->key, sizeof u->ex->key, "%s", u->old.key);
        u->ex->input_text = strdup(in_t);
        u->ex->label_text = strdup(lb_t);
        u->ex->images = malloc((ni ? ni : 1) * sizeof *u->ex->images);
        MVOT_FAIL_IF(!u->ex->input_text || !u->ex->label_text || !u->ex->images, err,
                     MVOT_ERR_NOMEM, "pack", "out of memory");
        for (uint32_t k = 0; k < ni; k++)
            u->ex->images[k] = k; /* frame j of the sample is stored member j */
        u->ex->n_images = ni;
        u->ex->n_input_images = ni - (uint32_t)json_array_size(limgs);
        u->ex->step = -1;
        u->ex->prev_frame = u->ex->target_frame = -1;
        uint32_t *a = calloc(ni ? ni : 1, sizeof *a);
        MVOT_FAIL_IF(!a, err, MVOT_ERR_NOMEM, "pack", "out of memory");
        for (uint32_t k = 0; k < ni; k++) {
            json_int_t v = json_integer_value(json_array_get(aug, k));
            a[k] = v < 0 ? 0 : v > 64 ? 64 : (uint32_t)v;
        }
        old_aug = &a;
        const char *sp = json_string_value(json_object_get(m, "split"));
        int split = -1;
        for (int k = 0; sp && k < 3; k++)
            if (strcmp(sp, mvot_split_name((enum mvot_split)k)) == 0)
                split = k;
        if (split < 0) {
            free(a);
            st = mvot_error_corrupt(err, u->old.key, -1, "sample json: split missing or unknown");
            goto cleanup;
        }
        struct pack_place at = src_place(om, mvot_shard_set_shard_of(set, i), (uint8_t)split);
        st = mvot__pack_add_unit_items(&p, p.n_units - 1, i, 0, &at,
                                       (const uint32_t *const *)old_aug, err);
        free(a);
        old_aug = NULL;
        if (st != MVOT_OK)
            goto cleanup;
        MVOT_TRY(mvot__pack_chunk_add(&p, &chunk_frames, ni, err));
        if (p.stopped)
            break;
    }
    if (!p.stopped)
        MVOT_TRY(mvot__pack_flush_chunk(&p, err));
    p.ordinal_total = i1;

    manifest = mvot__pack_manifest_base(&p, &o, cfg_hex, &p.ids);
    if (o.part_count)
        mvot__pack_part_manifest(manifest, &o, s0, s1 - s0, ns);
    json_object_set(manifest, "episodes", p.ids.episodes);
    if (json_object_get(om, "build_config"))
        json_object_set(manifest, "build_config", json_object_get(om, "build_config"));
    json_t *from = json_object();
    json_object_set(from, "tokenizer", json_object_get(om, "tokenizer"));
    json_object_set(from, "codebook", json_object_get(om, "codebook"));
    json_object_set(from, "config_xxh3", json_object_get(om, "config_xxh3"));
    json_object_set(from, "format_version", json_object_get(om, "version"));
    json_object_set(from, "manifest_xxh3", json_object_get(om, "manifest_xxh3"));
    json_object_set_new(manifest, "retokenized_from", from);
    MVOT_TRY(mvot__pack_finish(&p, manifest, summary, resumed, err));
    if (summary && *summary && mvot_shard_set_warning(set))
        json_object_set_new(*summary, "warning", json_string(mvot_shard_set_warning(set)));
cleanup:
    mvot_shard_set_close(set);
    mvot__pack_free(&p);
    json_decref(manifest);
    json_decref(config);
    free(oj);
    free(in_root);
    free(in_split);
    free(old_tok);
    free(old_cb);
    return st;
}
