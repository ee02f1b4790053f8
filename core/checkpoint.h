/* Model checkpoints in the three layouts Hugging Face and our own tools produce, behind one
 * tensor lookup (docs/codebook-format.md, "Checkpoint layouts"):
 *   - a single .safetensors file;
 *   - a model.safetensors.index.json, whose "weight_map" maps each tensor name to the shard
 *     file (in the index's folder) that holds it;
 *   - a model folder holding either of those (the index wins when both exist).
 * Shard files are opened on the first lookup of a tensor they hold, so a checkpoint whose
 * other shards are large or absent still serves the tensors that are present; the index is
 * read with a size cap and every file name in it must stay inside its folder. Errors are one
 * line naming the file (the index, or the shard the index points to). */
#ifndef MVOT_CORE_CHECKPOINT_H
#define MVOT_CORE_CHECKPOINT_H

#include <stdint.h>

#include "core/safetensors.h"
#include "core/status.h"

enum mvot_checkpoint_layout {
    MVOT_CKPT_FILE = 0,  /* one .safetensors file */
    MVOT_CKPT_INDEX = 1, /* model.safetensors.index.json + shard files */
};

/* The largest index JSON read (the 7B Chameleon index is ~60 KB). */
#define MVOT_CKPT_MAX_INDEX_BYTES (64u << 20)

struct mvot_checkpoint;

/* Opens path: a .safetensors file, a *.json index or a folder. *out is NULL on failure. */
enum mvot_status mvot_checkpoint_open(const char *path, struct mvot_checkpoint **out,
                                      struct mvot_error *err);
void mvot_checkpoint_close(struct mvot_checkpoint *c); /* NULL is a no-op */

enum mvot_checkpoint_layout mvot_checkpoint_layout(const struct mvot_checkpoint *c);
/* The path given to open (borrowed). */
const char *mvot_checkpoint_path(const struct mvot_checkpoint *c);
/* The file that holds or would hold `name`: the shard named by the index, else the path
 * given to open. For error messages; borrowed until close. */
const char *mvot_checkpoint_file_of(const struct mvot_checkpoint *c, const char *name);
/* The single file's __metadata__ (borrowed), or NULL (always NULL for an index). */
const json_t *mvot_checkpoint_metadata(const struct mvot_checkpoint *c);

/* Looks a tensor up. *out is NULL and MVOT_OK returned when the checkpoint has no such
 * tensor; an error means the shard file that should hold it is missing, unreadable or does
 * not hold it. *out is borrowed until close. */
enum mvot_status mvot_checkpoint_find(struct mvot_checkpoint *c, const char *name,
                                      const struct mvot_tensor **out, struct mvot_error *err);

/* Names of the tensors starting with prefix, sorted, as a new array of borrowed strings
 * (free the array only; the strings live until close). */
enum mvot_status mvot_checkpoint_names(const struct mvot_checkpoint *c, const char *prefix,
                                       const char ***names, size_t *n, struct mvot_error *err);

/* Identity of the tensors starting with prefix, independent of how they are split across
 * files: XXH3-64 over, for each in name order, the name and its NUL, the dtype name and its
 * NUL, ndim and each dimension as little-endian u64, then the data bytes. Reads every byte of
 * those tensors (shards are opened as needed). */
enum mvot_status mvot_checkpoint_hash_tensors(struct mvot_checkpoint *c, const char *prefix,
                                              uint64_t *out, struct mvot_error *err);

#endif
