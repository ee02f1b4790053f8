/* Conversion between our episode archives and the official MVoT data layout
 * (docs/episode-format.md, "Official layout"):
 *   maze/grid{n}.json + maze/grid{n}/path_{id}_{k}.jpg (k = 1..L+1)
 *   frozenlake/level{n}/data.json + frozenlake/level{n}/{data_id}/{i}.png (i = 0..L)
 * MINIBEHAVIOR has no official layout and is skipped by export (counted in the summary). */
#ifndef MVOT_GEN_OFFICIAL_H
#define MVOT_GEN_OFFICIAL_H

#include <jansson.h>
#include <stdint.h>

#include "core/progress.h"
#include "core/status.h"

/* Writes the official layout of every MAZE and FROZENLAKE episode of `episodes` (an archive or
 * a gen output dir) under out_dir. Maze frames keep their PNG bytes under the official .jpg
 * names (PIL, which the official loader uses, identifies images by content); official-style
 * maze episodes get their frames drawn afresh at 640x480, the official frame size. *summary (may be
 * NULL) receives counts. */
enum mvot_status mvot_official_export(const char *episodes, const char *out_dir,
                                      const struct mvot_progress *prog, json_t **summary,
                                      struct mvot_error *err);

/* Reads an official data directory (maze/grid{n}.json, frozenlake/level{n}/data.json) into an
 * episode archive + manifest in out_dir, replaying every episode with our rules (a mismatch
 * with the official states or outcomes is an error) and rendering frames natively at
 * image_size. */
enum mvot_status mvot_official_import(const char *src_dir, const char *out_dir, uint32_t image_size,
                                      const struct mvot_progress *prog, json_t **summary,
                                      struct mvot_error *err);

#endif
