/* Packing episodes into training shards (docs/shard-format.md, docs/manifest.md).
 *
 * mvot_pack_run reads an episode archive, assembles token sequences in one of the modes of
 * docs/shard-format.md §4.1 (shards/assemble.h), encodes every image once per episode, and writes
 * seekable .tar.zst shards plus manifest.json. Output bytes depend only on the inputs and
 * the options, never on the thread count; an interrupted run resumes from its last complete
 * shard and ends byte-identical to an uninterrupted one. mvot_pack_retokenize rebuilds a
 * shard set from its stored frames and texts with a new tokenizer and/or codebook. */
#ifndef MVOT_SHARDS_PACK_H
#define MVOT_SHARDS_PACK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/png.h"
#include "core/pool.h"
#include "core/progress.h"
#include "core/status.h"

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

enum mvot_pack_mode {
    MVOT_PACK_MVOT = 0,       /* official loader: L visualization + L+1 reasoning examples */
    MVOT_PACK_TRAJECTORY = 1, /* one interleaved sequence per episode */
    MVOT_PACK_COT = 2,        /* text-only rationale with coordinates, then the answer */
    MVOT_PACK_DIRECT = 3      /* question + initial image, then the answer */
};
const char *mvot_pack_mode_name(enum mvot_pack_mode m);
int mvot_pack_mode_parse(const char *s, enum mvot_pack_mode *out); /* 0 ok, -1 unknown */

enum mvot_length_policy {
    MVOT_LENGTH_DROP = 0,    /* samples longer than max_length are dropped (counted) */
    MVOT_LENGTH_TRUNCATE = 1 /* cut before the first image/token past max_length (counted) */
};

struct mvot_pack_opts {
    enum mvot_pack_mode mode;
    uint32_t image_seq_length; /* N codes per image: 1024, 256 or 64 (S = 512, 256, 128) */
    uint32_t shard_samples;    /* roll a shard after this many samples; 0: no limit */
    uint64_t shard_bytes;      /* roll once a shard's raw tar bytes reach this; 0: no limit */
    uint32_t augment;          /* K: each input image gets k ~ U{0..K} VQ round trips */
    uint64_t seed;             /* seed of the augmentation draws */
    uint32_t max_length;       /* 0: unlimited */
    enum mvot_length_policy length_policy;
    int zstd_level;   /* 1..19, default 3 */
    int store_frames; /* 1 (default): store {key}.{j}.png source frames */
    int force;        /* 1: replace an earlier pack in out_dir made with other inputs or options,
                         removing only the files its manifest or state lists */
    uint32_t stop_after_shards; /* tests only: return after committing this many new shards
                                   (the run is left resumable); 0: off */
    const struct mvot_image_encoder *encoder; /* NULL: CPU imagetok */
    const json_t *config; /* optional object embedded as manifest "build_config" */
};
void mvot_pack_opts_default(struct mvot_pack_opts *o);

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

/* Rebuilds the shard set in in_dir into out_dir from its stored frames and texts (no gen).
 * tokenizer_path / codebook_path: the new files, NULL to keep the set's own. Mode, image
 * size and length policy come from the old manifest; opts supplies threads-independent
 * writer settings (shard roll, zstd level, encoder). The new manifest records the previous
 * identities under "retokenized_from". */
enum mvot_status mvot_pack_retokenize(const char *in_dir, const char *tokenizer_path,
                                      const char *codebook_path, const char *out_dir,
                                      const struct mvot_pack_opts *opts, struct mvot_pool *pool,
                                      const struct mvot_progress *prog, json_t **summary,
                                      struct mvot_error *err);

#endif
