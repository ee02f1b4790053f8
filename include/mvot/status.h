/* libmvot public API: status codes and error messages (included by <mvot/mvot.h>).
 *
 * Every fallible call returns an enum mvot_status (MVOT_OK = 0, errors negative) and, on
 * failure, fills a caller-provided struct mvot_error with one line that already names the
 * file and the place (offset, line or JSON path). A NULL error pointer is allowed: the status
 * alone is then returned. The numeric values are stable across releases. */
#ifndef MVOT_STATUS_H
#define MVOT_STATUS_H

/* Marks the functions libmvot exports; everything else in the library is hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define MVOT_API __attribute__((visibility("default")))
#else
#define MVOT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum mvot_status {
    MVOT_OK = 0,
    MVOT_ERR_IO = -1,          /* open/read/write/rename failed */
    MVOT_ERR_NOMEM = -2,       /* allocation failed or a size cap was exceeded */
    MVOT_ERR_CORRUPT = -3,     /* input bytes are malformed */
    MVOT_ERR_INVALID = -4,     /* a caller or config value is out of range */
    MVOT_ERR_UNSUPPORTED = -5, /* valid input this build does not handle */
    MVOT_ERR_NOTFOUND = -6,    /* a named item (tensor, key, file) is missing */
    MVOT_ERR_MISMATCH = -7,    /* a check failed: hash, shape, vocab, agreement */
    MVOT_ERR_INTERNAL = -8     /* a bug: an invariant of our own was broken */
};

#define MVOT_ERROR_MSG_MAX 512

struct mvot_error {
    enum mvot_status code;
    char msg[MVOT_ERROR_MSG_MAX]; /* complete one-line message, context included */
};

/* Short stable name of a status, e.g. "corrupt input". Never NULL; static storage. */
MVOT_API const char *mvot_status_str(enum mvot_status st);

#ifdef __cplusplus
}
#endif

#endif
