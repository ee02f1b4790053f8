/* Logging hook. The library never prints: it hands messages to a callback that the
 * front end installs (tools/ prints them to stderr). With no callback, messages are dropped. */
#ifndef MVOT_CORE_LOG_H
#define MVOT_CORE_LOG_H

enum mvot_log_level { MVOT_LOG_DEBUG = 0, MVOT_LOG_INFO = 1, MVOT_LOG_WARN = 2 };

typedef void (*mvot_log_fn)(enum mvot_log_level level, const char *msg, void *user);

/* Installs the process-wide callback (NULL to silence). Call before starting threads. */
void mvot_log_set_callback(mvot_log_fn fn, void *user);

/* Thread-safe; the callback may be called from worker threads concurrently. */
void mvot_log(enum mvot_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
