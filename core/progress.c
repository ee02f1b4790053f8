/* Forwards progress to the front end's hook, if any. */
#include "core/progress.h"

#include <stddef.h>

void mvot_progress_report(const struct mvot_progress *p, const char *label, uint64_t done,
                          uint64_t total)
{
    if (p && p->fn)
        p->fn(p->user, label, done, total);
}
