/* `--part I/N` and `--part auto`: which slice of a job this process runs (docs/cluster.md).
 * The one place that parses a part, so every command that splits its work reads the same
 * syntax and the same scheduler variables. */
#ifndef MVOT_TOOLS_PART_H
#define MVOT_TOOLS_PART_H

#include <stdint.h>

#include "tools/cli.h"

/* Upper bound on N: a part manifest per part has to stay cheap to merge. */
#define MVOT_PART_COUNT_MAX 100000

struct mvot_part {
    uint32_t index; /* 0-based, < count */
    uint32_t count; /* >= 1 */
};

/* Parses "I/N" (0 <= I < N <= MVOT_PART_COUNT_MAX) or "auto". auto takes the index from
 * SLURM_ARRAY_TASK_ID minus SLURM_ARRAY_TASK_MIN (0 when unset) and the count from
 * SLURM_ARRAY_TASK_COUNT; outside a Slurm array it takes Kubernetes' JOB_COMPLETION_INDEX
 * and MVOT_PART_COUNT (set it to the Job's completions). Returns 1 on success; otherwise
 * prints one usage line naming the option or variable and returns 0 (exit with
 * MVOT_EXIT_USAGE). */
int mvot_cli_parse_part(const struct mvot_cli *cli, const char *arg, struct mvot_part *out);

/* The folder a part writes under the shared --out: OUT/part-IIIII-of-NNNNN. One folder per
 * part, so every task of an array gets the same command line and no two parts share a file.
 * New string (free it), NULL if out of memory. */
char *mvot_part_dir(const char *out, const struct mvot_part *p);
/* For a command's --out: with p->count > 0 points *out at the part's folder (*owned holds the
 * string: free it), else leaves both alone. Returns -1 to go on, else an exit code (after
 * printing why). */
int mvot_cli_part_out(const struct mvot_cli *cli, const struct mvot_part *p, const char **out,
                      char **owned);

#endif
