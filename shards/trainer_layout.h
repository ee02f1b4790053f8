/* The official MVoT trainer's sequence layout, as far as sample lengths go (docs/training.md,
 * "The official layout"): its tokenizing dataset pads the input part (<s> ... <sep>) to
 * 2600 tokens and the label part, tokenized with its own <s> that is then dropped, to 1300,
 * and never truncates. A sample fits when its input part (the tokens before the first
 * supervised one) has at most 2600 tokens and its label part at most 1299. */
#ifndef MVOT_SHARDS_TRAINER_LAYOUT_H
#define MVOT_SHARDS_TRAINER_LAYOUT_H

#include <jansson.h>
#include <stddef.h>

#include "shards/reader.h"

#define MVOT_TRAINER_SOURCE_LENGTH 2600u
#define MVOT_TRAINER_TARGET_LENGTH 1300u
/* Label positions of a row: the target length less the dropped <s>. */
#define MVOT_TRAINER_LABEL_BLOCK (MVOT_TRAINER_TARGET_LENGTH - 1u)

struct mvot_trainer_fit {
    size_t input, label;          /* tokens of the input and label parts */
    int over_source, over_target; /* 1 when a part exceeds its block */
};

/* Splits a sample (its spans; n_tokens tokens) into input and label parts and checks them
 * against the official lengths. */
void mvot_trainer_fit(const struct mvot_span *spans, size_t n_spans, size_t n_tokens,
                      struct mvot_trainer_fit *out);

/* Adds one sample's fit to a statistics object (shards/manifest.h counters):
 * "over_mvot_source", "over_mvot_target" and "over_mvot_lengths" (either), each created at 0
 * so a set without over-long samples still reports the counts. */
void mvot_trainer_fit_count(json_t *stats, const struct mvot_trainer_fit *fit);

#endif
