/* Internals shared by the pack modules (not installed, not API):
 *   pack.c        mvot_pack_run: chunks, emitting samples into shards
 *   pack_order.c  the plan: episode order, blocks, a part's range
 *   pack_encode.c stage A: every frame encoded once per needed augmentation level
 *   pack_sample.c stage B: one example -> tokens, spans, json, tar members
 *   pack_state.c  setup, identities, resume state, manifest
 *   pack_opts.c   options: defaults, JSON in and out, validation
 *   retokenize.c  mvot_pack_retokenize
 * Work flows in chunks of "units" (an episode, or for retokenize one old sample) that share
 * frames; "items" are the examples of the units still to be written, in output order. */
#ifndef MVOT_SHARDS_PACK_INTERNAL_H
#define MVOT_SHARDS_PACK_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "core/outdir.h"
#include "gen/episode.h"
#include "shards/assemble.h"
#include "shards/pack.h"
#include "shards/reader.h"
#include "shards/trainer_layout.h"
#include "shards/writer.h"
#include "tokenize/bpe.h"
#include "tokenize/chameleon.h"
#include "tokenize/imagetok.h"

#define MVOT_PACK_DOMAIN_AUGMENT 0x4155474du /* "AUGM" */
#define MVOT_PACK_DOMAIN_ORDER 0x4f524452u   /* "ORDR" */
#define MVOT_PACK_STATE_FILE ".pack-state.json"
#define MVOT_PACK_CHUNK_FRAMES 256
#define MVOT_PACK_CHUNK_UNITS 64

struct pack_unit {
    struct mvot_episode ep; /* pack: the episode (owned); retokenize: unused */
    int has_ep;
    struct mvot_sample old; /* retokenize: the old sample (owned) */
    struct mvot_example *ex;
    size_t n_ex;
    uint32_t n_frames;
    uint8_t **png;
    size_t *png_len;
    uint32_t *maxk;  /* per frame: highest augmentation level needed */
    uint32_t levels; /* max over frames + 1 */
    int32_t *codes;  /* (level * n_frames + frame) * N */
    uint8_t *needed; /* per (level, frame): 1 if some example uses it */
};

/* Where a unit's samples go: the shard they may share is fixed by these. */
struct pack_place {
    uint8_t split;     /* enum mvot_split of the samples */
    uint32_t block;    /* the plan's block within the split (docs/shard-format.md §5) */
    int64_t n;         /* retokenize: the source shard's number in its block; -1: the next */
    int64_t src_shard; /* retokenize: the source shard (output shards follow it); else -1 */
};

struct pack_item {
    size_t unit, ex;
    uint64_t ordinal;
    uint32_t *aug; /* per image of the example */
    struct pack_place at;
};

struct pack_result {
    int dropped, truncated, first_of_episode;
    const char *kind;
    char task[16], split[8], answer[8];
    struct mvot_packed_sample ps;
    uint64_t text, image, special, supervised, images;
    struct mvot_trainer_fit fit; /* against the official trainer's lengths (manifest counts) */
};

struct pack_ids {
    json_t *tokenizer, *codebook, *episodes;
};

struct pack {
    const struct mvot_pack_opts *o;
    struct pack_ids ids; /* owned */
    struct mvot_pool *pool;
    const struct mvot_progress *prog;
    struct mvot_bpe *tok;
    struct mvot_layout lay;
    struct mvot_assembler as;
    struct mvot_imagetok *it;
    struct mvot_imagetok_info info;
    uint32_t augment; /* K in effect: 0 with a patch codebook, whose round trip is the identity */
    uint32_t N, S;
    int wide;
    int retok;
    pthread_mutex_t enc_mu;

    /* chunk */
    struct pack_unit *units;
    size_t n_units, cap_units;
    struct pack_item *items;
    size_t n_items, cap_items;
    enum mvot_status *job_st;
    struct mvot_error *job_err;

    /* output */
    const char *out_dir;
    struct mvot_shard_writer *w;
    uint8_t w_split;     /* split of the open shard */
    uint32_t w_block;    /* block of the open shard */
    uint32_t w_n;        /* its number within the block */
    int64_t w_src_shard; /* retokenize: source shard of the open shard */
    char w_episode[128]; /* episode of the last sample written to the open shard */
    /* per split, the last committed shard's block and n (the next one's n follows it) */
    int have_last[3];
    uint32_t last_block[3], last_n[3];
    char w_file[64];  /* the open shard's name under the root */
    char pending[64]; /* the shard being or next written, as the state file lists it; or "" */
    uint64_t shard_first_sample;
    uint64_t samples_written;
    json_t *records;   /* array of shard records (committed) */
    json_t *cur_stats; /* stats of the open (or next) shard */
    json_t *state_base;
    struct mvot_outdir_lock *lock; /* held for the whole run */
    uint32_t new_shards;
    int stopped;
    uint64_t ordinal_total;
    uint64_t done_items, total_hint;
};

/* pack_order.c */
struct pack_slot {
    struct mvot_episode ep;
    int live;        /* ep still owned here (not moved into a unit nor freed) */
    uint64_t h;      /* XXH3(key, seed) */
    uint32_t rank;   /* position among its task's episodes of its split */
    uint64_t mid2;   /* 2 x (samples of the task's episodes before it) + its own samples */
    uint64_t mass2;  /* 2 x samples of its task in its split */
    uint32_t block;  /* the plan's block within its split */
    uint32_t gblock; /* the block's number over all splits (parts take ranges of these) */
};

struct pack_plan {
    struct pack_slot *v; /* archive order */
    size_t n, cap;
    struct pack_slot **order;   /* output order (pointers into v) */
    uint32_t first, end, total; /* the part's global blocks [first, end) of total */
};

/* Reads the archive and plans (see pack_order.c). With o->part_count, only the episodes of
 * the part's blocks are kept whole; the others hold key, task, split and steps. */
enum mvot_status mvot__pack_plan_load(const char *arch, const struct mvot_pack_opts *o,
                                      struct pack_plan *pl, struct mvot_error *err);
void mvot__pack_plan_free(struct pack_plan *pl);

/* pack.c */
enum mvot_status mvot__pack_init(struct pack *p, const struct mvot_pack_opts *o,
                                 const char *out_dir, struct mvot_pool *pool,
                                 const struct mvot_progress *prog);
void mvot__pack_free(struct pack *p);
enum mvot_status mvot__pack_new_unit(struct pack *p, struct pack_unit **out,
                                     struct mvot_error *err);
/* Counts a unit's frames into the current chunk and flushes the chunk when it is full. */
enum mvot_status mvot__pack_chunk_add(struct pack *p, size_t *chunk_frames, size_t frames,
                                      struct mvot_error *err);
enum mvot_status mvot__pack_flush_chunk(struct pack *p, struct mvot_error *err);
/* Commits the open shard; next (NULL at the end) is where the following item goes, so the
 * state saved here can name the next shard before it exists. */
enum mvot_status mvot__pack_commit_shard(struct pack *p, uint64_t end_ordinal,
                                         const struct pack_place *next, struct mvot_error *err);
/* The output folder rules (core/outdir.h): no overlap with an input, one run at a time. */
enum mvot_status mvot__pack_open_out(struct pack *p, const char *const *inputs, size_t n,
                                     const char *command, struct mvot_error *err);

/* pack_encode.c */
/* Registers unit ui's examples (those at or past resume_ordinal) as items placed at `at`;
 * marks the frame levels they need. old_aug[e][i]: retokenize's stored
 * augmentation levels, NULL to draw them. */
enum mvot_status mvot__pack_add_unit_items(struct pack *p, size_t ui, uint64_t first_ordinal,
                                           uint64_t resume_ordinal, const struct pack_place *at,
                                           const uint32_t *const *old_aug, struct mvot_error *err);
enum mvot_status mvot__pack_encode_chunk(struct pack *p, struct mvot_error *err);
int32_t *mvot__pack_codes_at(struct pack *p, struct pack_unit *u, uint32_t level, uint32_t frame);

/* pack_sample.c: mvot_pool_map_ordered callbacks building item i's pack_result */
enum mvot_status mvot__pack_work(void *vc, size_t i, int worker, void **out,
                                 struct mvot_error *err);
void mvot__pack_discard(void *vc, void *res);

/* pack_state.c */
/* Turns a manifest into a part's (docs/cluster.md): format "mvot-shards-part" and the part
 * object; the part holds units [first, first + count) of `total` (pack: blocks; retokenize:
 * source shards). */
void mvot__pack_part_manifest(json_t *m, const struct mvot_pack_opts *o, uint64_t first,
                              uint64_t count, uint64_t total);
enum mvot_status mvot__pack_setup(struct pack *p, const char *tokenizer_path,
                                  const char *codebook_path, struct pack_ids *ids,
                                  struct mvot_error *err);
enum mvot_status mvot__pack_copy_identities(struct pack *p, const char *tokenizer_path,
                                            const char *codebook_path, const struct pack_ids *ids,
                                            struct mvot_error *err);
/* Completes config (the caller's own keys) with what every run hashes (options, tokenizer
 * and codebook identities, tool, format version), sets cfg_hex (17 bytes) to its hash and
 * loads previous progress made with that hash. */
enum mvot_status mvot__pack_begin(struct pack *p, const struct pack_ids *ids, json_t *config,
                                  char cfg_hex[17], uint64_t *resume_ordinal,
                                  struct mvot_error *err);
enum mvot_status mvot__pack_save_state(struct pack *p, struct mvot_error *err);
json_t *mvot__pack_manifest_base(const struct pack *p, const struct mvot_pack_opts *o,
                                 const char *cfg_hex, const struct pack_ids *ids);
json_t *mvot__pack_options_json(const struct mvot_pack_opts *o);
/* Commits the last shard, writes the manifest (totals, per-split totals, manifest_xxh3). */
enum mvot_status mvot__pack_finish(struct pack *p, json_t *manifest, json_t **summary,
                                   uint64_t resumed, struct mvot_error *err);
json_t *mvot__pack_hex_json(uint64_t h);

#endif
