/* Status codes and error context shared by every stage.
 *
 * Every fallible library call returns an enum mvot_status and, on failure, fills a
 * caller-provided struct mvot_error with a one-line message that already names the
 * file and the place (offset, line or JSON path), so the CLI prints it unchanged.
 * Passing a NULL error is allowed: the status alone is then returned. */
#ifndef MVOT_CORE_STATUS_H
#define MVOT_CORE_STATUS_H

#include <stdint.h>

/* enum mvot_status, struct mvot_error and mvot_status_str() are part of the public API
 * (include/mvot/status.h); included by relative path so that every target compiling core/
 * finds it, whatever its include directories. */
#include "../include/mvot/status.h"

/* Records an error and returns st. `where` (may be NULL) is prefixed as "where: ".
 * A NULL err is allowed. */
enum mvot_status mvot_error_set(struct mvot_error *err, enum mvot_status st, const char *where,
                                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The one path for every corrupt-input report (a natural breakpoint when debugging a
 * reader). Formats "file: offset N: message"; offset < 0 omits the offset. */
enum mvot_status mvot_error_corrupt(struct mvot_error *err, const char *file, int64_t offset,
                                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Prefixes an existing error message with more context ("ctx: old message"). */
void mvot_error_prefix(struct mvot_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void mvot_error_clear(struct mvot_error *err);

/* Propagation in the zstd FORWARD_IF_ERROR / RETURN_ERROR_IF style. Both jump to the
 * function's single `cleanup:` label with `st` set, so resources are released once. */
#define MVOT_TRY(expr)     \
    do {                   \
        st = (expr);       \
        if (st != MVOT_OK) \
            goto cleanup;  \
    } while (0)

#define MVOT_FAIL_IF(cond, err, code, where, ...)                     \
    do {                                                              \
        if (cond) {                                                   \
            st = mvot_error_set((err), (code), (where), __VA_ARGS__); \
            goto cleanup;                                             \
        }                                                             \
    } while (0)

#endif
