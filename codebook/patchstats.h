/* Patch statistics files (.mvps, docs/patch-stats-format.md): the distinct patches of a set
 * of frames with their counts, in canonical order, plus the identity of where they came from
 * (the episode archive's xxh3 and, for a `mvot gen --part` folder, the part index, count and
 * plan hash). They let a split build train the patch codebook without one process reading
 * every frame: each part collects its own file, and training over all of them sums the counts
 * into the same patch set a one-process run builds from the merged archive, so the codebook
 * is byte-identical (training depends on nothing but the sorted set, see train.h).
 *
 * Invariants: a file holds each patch once, sorted by (XXH3 of its bytes, bytes), every count
 * >= 1, as one zstd frame after a fixed header; the header and the entries each carry an
 * XXH3 that the reader checks. The reader
 * streams entries and never allocates from a length before checking it against the file's
 * size and the caller's distinct-patch cap, so a corrupt or hostile file costs at most the
 * cap. Files are written through the atomic writer and never replace a file that is not
 * already a patch statistics file. */
#ifndef MVOT_CODEBOOK_PATCHSTATS_H
#define MVOT_CODEBOOK_PATCHSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "codebook/codebook.h"
#include "codebook/patchset.h"
#include "codebook/train.h"
#include "core/pool.h"
#include "core/progress.h"
#include "core/status.h"

#define MVOT_PATCHSTATS_VERSION 1
#define MVOT_PATCHSTATS_HEADER_BYTES 128
/* "MVPS\r\n\x1a\n": PNG's trick, so a text-mode transfer (CRLF or LF rewriting) or a
 * truncation to 7 bits shows in the first 8 bytes. */
#define MVOT_PATCHSTATS_MAGIC "MVPS\r\n\x1a\n"

/* What a file says about itself (the header, docs/patch-stats-format.md). */
struct mvot_patchstats_info {
    uint32_t patch;         /* patch side in pixels */
    uint32_t image_size;    /* S of the frames (0 when there were none) */
    uint64_t frames;        /* frames read */
    uint64_t patches;       /* patches read (sum of counts) */
    uint64_t distinct;      /* entries in the file */
    uint64_t archive_xxh3;  /* the episode archive the frames came from */
    uint64_t archive_bytes; /* its size */
    uint32_t part_index;    /* gen part index (0 when part_count is 0) */
    uint32_t part_count;    /* gen part count; 0: not a part (a whole set or a bare archive) */
    uint64_t plan_xxh3;     /* the part's plan hash (0 when not a part) */
    uint64_t run_xxh3;      /* XXH3 of the run's manifest without its per-part fields (0: no
                               manifest found beside the archive) */
    uint64_t payload_xxh3;  /* XXH3 of the entries (uncompressed) */
    uint64_t payload_bytes; /* size of the stored (zstd-compressed) payload */
};

/* Reads every frame of an episode set into a patch set and writes it to out_file.
 * `episodes` is a gen output folder, a `mvot gen --part` folder (DIR/episodes.tar.zst with
 * DIR/manifest.json), or an archive file; when a manifest sits beside the archive its
 * archive_xxh3 must match the archive, and a part manifest's index, count and plan hash go
 * into the header. patch is the patch side (train.h's default is 16); max_distinct caps the
 * set's memory (0: MVOT_PATCHSET_DEFAULT_MAX). An empty part (no episodes) is fine and gives
 * a file with no entries. out_file is replaced only if it is already a patch statistics file,
 * and may not lie in a gen folder it reads (MVOT_ERR_INVALID otherwise). pool and prog may
 * be NULL; info (may be NULL) receives the header written. */
enum mvot_status mvot_patchstats_collect(const char *episodes, const char *out_file, uint32_t patch,
                                         uint64_t max_distinct, struct mvot_pool *pool,
                                         const struct mvot_progress *prog,
                                         struct mvot_patchstats_info *info, struct mvot_error *err);

/* Writes ps (sorted into canonical order by the call) with the identity fields of *id
 * (patch, counts, distinct and the payload fields are taken from ps and written back).
 * Same replace rule as collect. */
enum mvot_status mvot_patchstats_save(const char *path, struct mvot_patchset *ps,
                                      struct mvot_patchstats_info *id, struct mvot_error *err);

/* Reads and checks a file's header only (magic, version, header checksum, sizes against the
 * file's length). Errors are one line naming the file and the offset. info may be NULL. */
enum mvot_status mvot_patchstats_read_info(const char *path, struct mvot_patchstats_info *info,
                                           struct mvot_error *err);

/* Reads a whole file into a new patch set (mvot_patchset_free it) with the given cap.
 * Refuses truncated or corrupt files (MVOT_ERR_CORRUPT, naming file and offset) and files
 * with more distinct patches than max_distinct (MVOT_ERR_NOMEM). info may be NULL. */
enum mvot_status mvot_patchstats_load(const char *path, uint64_t max_distinct,
                                      struct mvot_patchset *out, struct mvot_patchstats_info *info,
                                      struct mvot_error *err);

/* The same over bytes in memory (name labels errors): for the fuzz target and tests. */
enum mvot_status mvot_patchstats_load_mem(const uint8_t *data, size_t len, const char *name,
                                          uint64_t max_distinct, struct mvot_patchset *out,
                                          struct mvot_patchstats_info *info,
                                          struct mvot_error *err);

/* Sums n files into one patch set (counts added, as if one process had read every frame).
 * Checks first, from the headers alone: every file has the same patch size; if any file is
 * a gen part then all are, of the same run (count, plan hash, run hash), and parts
 * 0..count-1 are each present exactly once; otherwise no archive is given twice. A missing,
 * duplicated or disagreeing input is MVOT_ERR_INVALID naming it. The merged set obeys
 * max_distinct exactly like mvot_patchset_from_archive (0: MVOT_PATCHSET_DEFAULT_MAX), so a
 * set too large for one process is too large here too. Files are merged in part order (or
 * the order given); prog (may be NULL) counts files. */
enum mvot_status mvot_patchstats_merge_files(const char *const *files, size_t n,
                                             uint64_t max_distinct,
                                             const struct mvot_progress *prog,
                                             struct mvot_patchset *out, struct mvot_error *err);

/* mvot_patchstats_merge_files with opts->patch and opts->max_distinct, then
 * mvot_codebook_train_patchset: byte-identical to mvot_codebook_train_archive over the
 * archive the files were collected from (for parts: the merged one). out is initialised by
 * the call (mvot_codebook_free it). pool and prog may be NULL. */
enum mvot_status mvot_codebook_train_from_stats(const char *const *files, size_t n,
                                                const struct mvot_kmeans_opts *opts,
                                                struct mvot_pool *pool,
                                                const struct mvot_progress *prog,
                                                struct mvot_codebook *out, struct mvot_error *err);

#endif
