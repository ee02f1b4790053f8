/* The parts of a split run (docs/cluster.md): what every merge checks before it writes.
 * A part folder holds a manifest.json with the run's whole identity plus a "part" object
 * (index, count, ...). The parts given must have one format, agree on everything but their
 * own fields, and cover indices 0..count-1 exactly once, in any order. */
#ifndef MVOT_CORE_PARTSET_H
#define MVOT_CORE_PARTSET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

struct mvot_part_in {
    const char *dir;
    char *manifest_path;
    json_t *man;   /* the part's manifest */
    json_t *ident; /* the manifest without the per-part fields */
    json_t *part;  /* borrowed from man */
    int64_t index, count;
};

struct mvot_partset {
    struct mvot_part_in *in;    /* as given */
    struct mvot_part_in **slot; /* [count]: the part with that index */
    size_t n;
    int64_t count;
};

/* Loads the manifests of dirs[0..n), checks that each has format `format`, that they agree
 * on every field except "part" and the NULL-terminated `own_keys` (named in the error:
 * the first field that differs), that the part objects agree on `shared_part_keys`
 * (NULL-terminated; e.g. a plan hash), and that each index 0..count-1 is given once.
 * MVOT_ERR_INVALID names the folder; nothing is written. Free with mvot_partset_free. */
enum mvot_status mvot_partset_load(const char *const *dirs, size_t n, const char *format,
                                   const char *const *own_keys, const char *const *shared_part_keys,
                                   struct mvot_partset *ps, struct mvot_error *err);
void mvot_partset_free(struct mvot_partset *ps);

/* A part manifest without "part" and the NULL-terminated own_keys: what every part of one run
 * shares (the patch statistics hash it as the run's identity, codebook/patchstats.h). New
 * reference; NULL if out of memory. */
json_t *mvot_partset_identity(const json_t *man, const char *const *own_keys);

#endif
