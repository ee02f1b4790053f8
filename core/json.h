/* JSON over jansson. Loads report errors as "file: line L, column C: message"; dumps are
 * deterministic (sorted keys, compact, no trailing spaces) so equal documents give equal
 * bytes. Accessors report the JSON path of what is missing or mistyped. */
#ifndef MVOT_CORE_JSON_H
#define MVOT_CORE_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Parses a file. On success *out is a new reference (json_decref it). */
enum mvot_status mvot_json_load_file(const char *path, json_t **out, struct mvot_error *err);

/* Parses a buffer; `name` labels errors (e.g. the file name or "stdin line 3"). */
enum mvot_status mvot_json_load_buf(const char *data, size_t len, const char *name, json_t **out,
                                    struct mvot_error *err);

/* Deterministic compact dump: sorted keys, no indentation. Caller frees with free(). */
char *mvot_json_dumps(const json_t *j);
/* Same, with 2-space indentation for files people read (manifests, reports). */
char *mvot_json_dumps_pretty(const json_t *j);

/* Atomically writes the pretty dump plus a trailing newline. */
enum mvot_status mvot_json_write_file(const char *path, const json_t *j, struct mvot_error *err);

/* Typed field access. `ctx` names the object for errors (e.g. "tokenizer.json: model").
 * Missing or mistyped fields fail with MVOT_ERR_CORRUPT naming ctx.key and the type wanted. */
enum mvot_status mvot_json_get_int(const json_t *obj, const char *key, const char *ctx,
                                   int64_t *out, struct mvot_error *err);
enum mvot_status mvot_json_get_str(const json_t *obj, const char *key, const char *ctx,
                                   const char **out, struct mvot_error *err);
enum mvot_status mvot_json_get_bool(const json_t *obj, const char *key, const char *ctx, int *out,
                                    struct mvot_error *err);
enum mvot_status mvot_json_get_real(const json_t *obj, const char *key, const char *ctx,
                                    double *out, struct mvot_error *err);
/* Borrowed reference to an array/object field. */
enum mvot_status mvot_json_get_array(const json_t *obj, const char *key, const char *ctx,
                                     json_t **out, struct mvot_error *err);
enum mvot_status mvot_json_get_object(const json_t *obj, const char *key, const char *ctx,
                                      json_t **out, struct mvot_error *err);

/* Optional variants: absent or null leaves *out untouched and returns MVOT_OK; present but
 * mistyped fails. */
enum mvot_status mvot_json_opt_int(const json_t *obj, const char *key, const char *ctx,
                                   int64_t *out, struct mvot_error *err);
enum mvot_status mvot_json_opt_str(const json_t *obj, const char *key, const char *ctx,
                                   const char **out, struct mvot_error *err);
enum mvot_status mvot_json_opt_bool(const json_t *obj, const char *key, const char *ctx, int *out,
                                    struct mvot_error *err);

#endif
