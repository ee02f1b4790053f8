/* Exports of a shard set to formats other training stacks read directly
 * (docs/export-format.md): Megatron-Core indexed datasets, JSON lines, and plain
 * (uncompressed) WebDataset tars. One output per split; every file is written through the
 * atomic writer, none that exists is ever replaced, and DIR/manifest.json, written last,
 * names the source set and every file with its size and hash. */
#ifndef MVOT_SHARDS_EXPORT_H
#define MVOT_SHARDS_EXPORT_H

#include <jansson.h>
#include <stdint.h>

#include "core/progress.h"
#include "core/status.h"

#define MVOT_EXPORT_FORMAT_NAME "mvot-export"
#define MVOT_EXPORT_VERSION 1
/* Megatron-Core's .idx header, version and the dtype code of int32 (its DType enum). */
#define MVOT_MEGATRON_MAGIC "MMIDIDX\0\0"
#define MVOT_MEGATRON_MAGIC_LEN 9u
#define MVOT_MEGATRON_VERSION 1u
#define MVOT_MEGATRON_DTYPE_INT32 4u
#define MVOT_EXPORT_TAR_SAMPLES 1000u

enum mvot_export_format { MVOT_EXPORT_MEGATRON = 0, MVOT_EXPORT_JSONL = 1, MVOT_EXPORT_TAR = 2 };
const char *mvot_export_format_name(enum mvot_export_format f);
int mvot_export_format_parse(const char *s, enum mvot_export_format *out); /* 0 ok, -1 unknown */

struct mvot_export_opts {
    enum mvot_export_format format;
    const char *split;    /* "train", "dev" or "test"; NULL: every split the set holds */
    int prompts;          /* jsonl: only key and the input (prompt) ids */
    uint32_t tar_samples; /* tar: samples per tar file (>= 1) */
    /* A split run (docs/cluster.md): with part_count > 0 only the samples of shards
     * [S*part_index/part_count, S*(part_index+1)/part_count) of the S shards; a part may be
     * empty. The caller gives each part its own out_dir (one Megatron prefix per part). */
    uint32_t part_index, part_count;
};
void mvot_export_opts_default(struct mvot_export_opts *o);

/* Exports the shard set at `shards` into out_dir (created if needed). Fails with
 * MVOT_ERR_INVALID, before writing anything, when a file it would write already exists or
 * the split holds no sample. prog may be NULL. *summary (may be NULL) receives the manifest
 * written (new reference). */
enum mvot_status mvot_export_run(const char *shards, const char *out_dir,
                                 const struct mvot_export_opts *o, const struct mvot_progress *prog,
                                 json_t **summary, struct mvot_error *err);

#endif
