/* Progress reporting hook. Library loops call mvot_progress_step; the CLI decides whether
 * and how to draw (a bar on a TTY, nothing otherwise unless --progress). Calls are
 * thread-safe and rate-limited by the receiver, not here. */
#ifndef MVOT_CORE_PROGRESS_H
#define MVOT_CORE_PROGRESS_H

#include <stdint.h>

typedef void (*mvot_progress_fn)(void *user, const char *label, uint64_t done, uint64_t total);

struct mvot_progress {
    mvot_progress_fn fn; /* NULL: silent */
    void *user;
};

/* Reports `done` of `total` units for the phase `label`. p may be NULL. */
void mvot_progress_report(const struct mvot_progress *p, const char *label, uint64_t done,
                          uint64_t total);

#endif
