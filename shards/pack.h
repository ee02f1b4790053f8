/* Packing episodes into training shards (docs/shard-format.md, docs/manifest.md).
 *
 * mvot_pack_run reads an episode archive, orders its episodes (per split, tasks interleaved
 * in proportion, seeded), assembles token sequences in one of the modes of
 * shards/assemble.h, encodes every image once per episode, and writes one set of seekable
 * .tar.zst shards per split (ROOT/{split}/) plus ROOT/manifest.json (format version 2). Output
 * bytes depend only on the inputs and the options, never on the thread count; an interrupted run
 * resumes from its last complete shard and ends byte-identical to an uninterrupted one.
 * mvot_pack_retokenize rebuilds a shard set from its stored frames and texts with a new tokenizer
 * and/or codebook. */
#ifndef MVOT_SHARDS_PACK_H
#define MVOT_SHARDS_PACK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/png.h"
#include "core/pool.h"
#include "core/progress.h"
#include "core/status.h"
#include "shards/assemble.h"

/* Optional external image encoder (e.g. the CUDA VQGAN). When set in the pack options it
 * replaces the CPU imagetok for encoding; decoding (augmentation round trips, inspect)
 * still uses the CPU imagetok opened from the codebook/VQ file.
 * - imgs: n images, each already S x S RGB (channels 3), S = 16 * sqrt(image_seq_length);
 *   pack applies the Chameleon preprocessing (tokenize/imgprep.h) before the call.
 * - codes: n * image_seq_length codes, row-major per image, written by the call.
 * - encode_batch is called from one thread at a time (pack serializes calls), with
 *   batches of up to MVOT_PACK_ENCODE_BATCH images.
 * - name: recorded as "image_encoder" in the manifest (NULL is treated as "external"). */
struct mvot_image_encoder {
    enum mvot_status (*encode_batch)(void *ctx, const struct mvot_image *imgs, size_t n,
                                     int32_t *codes, struct mvot_error *err);
    void *ctx;
    const char *name;
};

#define MVOT_PACK_ENCODE_BATCH 64

enum mvot_length_policy {
    MVOT_LENGTH_DROP = 0,    /* samples longer than max_length are dropped (counted) */
    MVOT_LENGTH_TRUNCATE = 1 /* cut before the first image/token past max_length (counted) */
};
const char *mvot_length_policy_name(enum mvot_length_policy p);
int mvot_length_policy_parse(const char *s, enum mvot_length_policy *out); /* 0 ok, -1 unknown */

struct mvot_pack_opts {
    enum mvot_pack_mode mode;
    uint32_t image_seq_length; /* N codes per image: 1024, 256 or 64 (S = 512, 256, 128) */
    uint32_t shard_samples;    /* roll a shard after this many samples; 0: no limit */
    uint64_t shard_bytes;      /* roll once a shard's raw tar bytes reach this; 0: no limit */
    uint32_t augment;          /* K: each input image gets k ~ U{0..K} VQ round trips */
    uint64_t seed;             /* seed of the augmentation draws and the episode order */
    uint32_t max_length;       /* 0: unlimited */
    enum mvot_length_policy length_policy;
    int zstd_level;   /* 1..19, default 3 */
    int store_frames; /* 1 (default): store {key}.{j}.png source frames */
    int force;        /* 1: replace an earlier pack in out_dir made with other inputs or options,
                         removing only the files its manifest or state lists */
    /* A split build (docs/cluster.md): with part_count > 0, write only the shards of blocks
     * [B*part_index/part_count, B*(part_index+1)/part_count) of the plan's B blocks, with a
     * part manifest (format "mvot-shards-part") for mvot_pack_merge. Not an output option:
     * the merged set is the same for every part_count. */
    uint32_t part_index, part_count;
    uint32_t stop_after_shards; /* tests only: return after committing this many new shards
                                   (the run is left resumable); 0: off */
    const struct mvot_image_encoder *encoder; /* NULL: CPU imagetok */
    const json_t *config; /* optional object embedded as manifest "build_config" */
};
void mvot_pack_opts_default(struct mvot_pack_opts *o);

/* The options that change output bytes, as JSON text (the manifest's "options" object:
 * mode, image_seq_length, shard_samples, shard_bytes, augment, seed, max_length,
 * length_policy, zstd_level, store_frames). New string, free() it; NULL if out of memory. */
char *mvot_pack_opts_to_json(const struct mvot_pack_opts *o);
/* Reads those fields from JSON text into *o (fields absent keep their value in *o; force,
 * the part, stop_after_shards, encoder and config are never read). Unknown keys, wrong types and
 * out-of-range values are MVOT_ERR_INVALID naming `where` and the key. */
enum mvot_status mvot_pack_opts_from_json(const char *json, const char *where,
                                          struct mvot_pack_opts *o, struct mvot_error *err);
/* Checks every field's range (MVOT_ERR_INVALID naming `where` and the field). */
enum mvot_status mvot_pack_opts_validate(const struct mvot_pack_opts *o, const char *where,
                                         struct mvot_error *err);

/* Packs `episodes` (an episode archive .tar.zst, or a gen output dir holding
 * episodes.tar.zst and manifest.json) into out_dir using the tokenizer.json and the
 * codebook / VQGAN file. Copies both into out_dir. pool may be NULL (one thread); prog may
 * be NULL. On success *summary (may be NULL) receives a new object: samples, shards,
 * tokens, raw/compressed bytes, dropped/truncated counts, resumed_shards, interrupted.
 * out_dir follows core/outdir.h: overlapping an input, or holding a file no pack manifest or
 * state of ours lists, fails with MVOT_ERR_INVALID before anything is written; another run
 * holding its lock fails with MVOT_ERR_IO naming it. */
enum mvot_status mvot_pack_run(const char *episodes, const char *tokenizer_path,
                               const char *codebook_path, const char *out_dir,
                               const struct mvot_pack_opts *opts, struct mvot_pool *pool,
                               const struct mvot_progress *prog, json_t **summary,
                               struct mvot_error *err);

/* Rebuilds the shard set in in_dir (root or one split's folder, version 1 or 2) into out_dir
 * as version 2 from its stored frames and texts (no gen). Shard boundaries follow the
 * source: every output shard holds the samples of one source shard and one split.
 * tokenizer_path / codebook_path: the new files, NULL to keep the set's own. Mode, image
 * size and length policy come from the old manifest; opts supplies threads-independent
 * writer settings (shard roll, zstd level, encoder). The new manifest records the previous
 * identities under "retokenized_from". */
enum mvot_status mvot_pack_retokenize(const char *in_dir, const char *tokenizer_path,
                                      const char *codebook_path, const char *out_dir,
                                      const struct mvot_pack_opts *opts, struct mvot_pool *pool,
                                      const struct mvot_progress *prog, json_t **summary,
                                      struct mvot_error *err);

/* Joins the part folders of a split pack (mvot_pack_run with part_count > 0; any order) into
 * out_dir: checks that every part has the same identity (format, tool version, options,
 * tokenizer, codebook, episode archive: everything but the part's own fields), that parts
 * 0..count-1 are each present exactly once, and that every shard file hashes to its record;
 * then places the shards under their names in out_dir (a hard link, or a copy where the
 * filesystem has none) with the tokenizer and codebook, and writes the manifest the
 * one-process pack writes, byte for byte. MVOT_ERR_INVALID names a missing, duplicated or
 * disagreeing part; MVOT_ERR_MISMATCH a damaged one. The part folders are only read. */
enum mvot_status mvot_pack_merge(const char *const *part_dirs, size_t n_parts, const char *out_dir,
                                 const struct mvot_progress *prog, json_t **summary,
                                 struct mvot_error *err);

#endif
