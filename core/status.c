/* Status names and error formatting. Messages are truncated, never overflowed. */
#include "core/status.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *mvot_status_str(enum mvot_status st)
{
    switch (st) {
    case MVOT_OK: return "ok";
    case MVOT_ERR_IO: return "I/O error";
    case MVOT_ERR_NOMEM: return "out of memory or over a size limit";
    case MVOT_ERR_CORRUPT: return "corrupt input";
    case MVOT_ERR_INVALID: return "invalid argument";
    case MVOT_ERR_UNSUPPORTED: return "unsupported";
    case MVOT_ERR_NOTFOUND: return "not found";
    case MVOT_ERR_MISMATCH: return "mismatch";
    case MVOT_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

static void vset(struct mvot_error *err, enum mvot_status st, const char *prefix, const char *fmt,
                 va_list ap)
{
    size_t off = 0;
    err->code = st;
    err->msg[0] = '\0';
    err->site_file = NULL;
    err->site_line = 0;
    if (prefix && *prefix) {
        int n = snprintf(err->msg, sizeof err->msg, "%s: ", prefix);
        off = n < 0 ? 0 : ((size_t)n >= sizeof err->msg ? sizeof err->msg - 1 : (size_t)n);
    }
    vsnprintf(err->msg + off, sizeof err->msg - off, fmt, ap);
    /* One line for the user: fold any newline a caller let through. */
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

/* The corruption path itself: every MVOT_ERR_CORRUPT report ends here (break on it). */
__attribute__((noinline)) static enum mvot_status report_corrupt(struct mvot_error *err,
                                                                 const char *file, int64_t offset,
                                                                 const char *fmt, va_list ap)
{
    if (!err)
        return MVOT_ERR_CORRUPT;
    char prefix[320];
    if (offset >= 0)
        snprintf(prefix, sizeof prefix, "%s: offset %" PRId64, file ? file : "<input>", offset);
    else
        snprintf(prefix, sizeof prefix, "%s", file ? file : "");
    vset(err, MVOT_ERR_CORRUPT, prefix, fmt, ap);
    return MVOT_ERR_CORRUPT;
}

enum mvot_status mvot_error_set(struct mvot_error *err, enum mvot_status st, const char *where,
                                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (st == MVOT_ERR_CORRUPT)
        st = report_corrupt(err, where, -1, fmt, ap);
    else if (err)
        vset(err, st, where, fmt, ap);
    va_end(ap);
    return st;
}

enum mvot_status mvot_error_corrupt(struct mvot_error *err, const char *file, int64_t offset,
                                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum mvot_status st = report_corrupt(err, file, offset, fmt, ap);
    va_end(ap);
    return st;
}

void mvot_error_prefix(struct mvot_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char old[MVOT_ERROR_MSG_MAX];
    char pre[MVOT_ERROR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    /* Truncation is acceptable: messages are capped at MVOT_ERROR_MSG_MAX by design. */
    size_t pl = strlen(pre);
    if (pl > sizeof err->msg - 3)
        pl = sizeof err->msg - 3;
    memcpy(err->msg, pre, pl);
    memcpy(err->msg + pl, ": ", 2);
    size_t rest = sizeof err->msg - pl - 2;
    size_t ol = strlen(old);
    if (ol > rest - 1)
        ol = rest - 1;
    memcpy(err->msg + pl + 2, old, ol);
    err->msg[pl + 2 + ol] = 0;
}

void mvot_error_clear(struct mvot_error *err)
{
    if (err) {
        err->code = MVOT_OK;
        err->msg[0] = '\0';
        err->site_file = NULL;
        err->site_line = 0;
    }
}

void mvot_error_site(struct mvot_error *err, const char *file, int line)
{
    if (err) {
        err->site_file = file;
        err->site_line = line;
    }
}
