/* The dataset card: a README.md for a shard set in the Hugging Face Hub's layout (YAML
 * front matter, then prose), made from the set's manifest alone so it is reproducible and
 * always says what the manifest says (docs/dataset-card.md). */
#ifndef MVOT_SHARDS_CARD_H
#define MVOT_SHARDS_CARD_H

#include <jansson.h>

#include "core/status.h"

/* The card text for a manifest (NUL-terminated, caller frees). Front matter: license
 * (cc-by-4.0), tags, size category, one config per split listing that split's shard files
 * (sets of format version 1 mix splits in every shard: one config "all"), features. */
enum mvot_status mvot_dataset_card(const json_t *manifest, char **out, struct mvot_error *err);

/* Writes dir/README.md (atomically) from dir/manifest.json. */
enum mvot_status mvot_dataset_card_write(const char *dir, struct mvot_error *err);

#endif
