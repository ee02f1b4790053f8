/* Process-wide log hook. The callback is set once before threads start, so reads need no
 * lock; formatting happens on the caller's stack. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

static mvot_log_fn g_fn;
static void *g_user;

void mvot_log_set_callback(mvot_log_fn fn, void *user)
{
    g_fn = fn;
    g_user = user;
}

void mvot_log(enum mvot_log_level level, const char *fmt, ...)
{
    if (!g_fn)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_fn(level, buf, g_user);
}
