/* Episode record building and parsing inside gen (docs/episode-format.md). Internal to gen and
 * its tools: later stages read records through gen/episode.h. */
#ifndef MVOT_GEN_RECORD_H
#define MVOT_GEN_RECORD_H

#include <jansson.h>
#include <stdint.h>

#include "core/status.h"
#include "gen/episode.h"
#include "gen/internal.h"

#define MVOT_EPISODE_VERSION 1

struct mvot_record_meta {
    const char *key;
    uint32_t image_size;
    uint64_t seed;
    enum mvot_split split;
    const struct mvot_style *style; /* NULL: the grid style */
};

/* The official step text of an action ("Go up. ", "Pick up. ", "Drop. "). */
const char *mvot_record_step_text(int action);
/* The question with "Full Action Sequence: ..." (malloc'd; NULL on OOM). */
char *mvot_record_instruction(const struct mvot_draft *d);
/* XXH3 of the canonical layout (split key) and of layout + initial state + actions (dedup). */
uint64_t mvot_record_layout_hash(const struct mvot_draft *d);
uint64_t mvot_record_dedup_hash(const struct mvot_draft *d);

/* Builds the full record of a replayed draft; *out is a new reference. */
enum mvot_status mvot_record_build(const struct mvot_draft *d, const struct mvot_trace *t,
                                   const struct mvot_record_meta *m, json_t **out,
                                   struct mvot_error *err);
/* Rebuilds the draft (layout + actions) from a record; `name` labels errors. d->target is the
 * record's stored answer (not checked here). */
enum mvot_status mvot_record_to_draft(const json_t *rec, const char *name, struct mvot_draft *d,
                                      struct mvot_error *err);

/* Builds the record of a replayed draft and renders every frame at m->image_size; when encode
 * is set, png[k]/png_len[k] receive the PNG bytes (malloc'd, t->n_frames of them). png_level
 * -1 uses mvot_png_opts_default(). On failure nothing is left allocated. */
enum mvot_status mvot_gen_encode_draft(const struct mvot_draft *d, const struct mvot_trace *t,
                                       const struct mvot_record_meta *m, int png_level, int encode,
                                       json_t **rec, uint8_t **png, size_t *png_len,
                                       struct mvot_error *err);

/* Split of a layout hash under the given train/dev/test fractions. */
enum mvot_split mvot_gen_split_of(const double frac[3], uint64_t layout_hash);

#endif
