/* The dataset card: a README.md for a shard set in the Hugging Face Hub's layout (YAML
 * front matter, then prose), made from the set's manifest alone so it is reproducible and
 * always says what the manifest says (docs/dataset-card.md). */
#ifndef MVOT_SHARDS_CARD_H
#define MVOT_SHARDS_CARD_H

#include <jansson.h>

#include "core/status.h"

/* The card text for a manifest (NUL-terminated, caller frees). Front matter: license
 * (cc-by-4.0), tags, size category, one config per split listing that split's shard files
 * (sets of format version 1 mix splits in every shard: one config "all"), features. prefix
 * (may be NULL) goes before every shard path: the shard set's folder as seen from the
 * card's, e.g. "shards/". */
enum mvot_status mvot_dataset_card(const json_t *manifest, const char *prefix, char **out,
                                   struct mvot_error *err);

/* Writes the card of the shard set in shards_dir (its manifest.json) to card_path,
 * atomically, with prefix as above. */
enum mvot_status mvot_dataset_card_write(const char *shards_dir, const char *card_path,
                                         const char *prefix, struct mvot_error *err);

#endif
