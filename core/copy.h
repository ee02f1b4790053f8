/* Copying and linking whole files into an output folder: what a command does when its output
 * holds a byte copy of an input (pack's tokenizer and codebook) or the same file under a new
 * name (mvot merge's shards). */
#ifndef MVOT_CORE_COPY_H
#define MVOT_CORE_COPY_H

#include "core/status.h"

/* Copies src to dst through the atomic writer; nothing is done when dst already holds the
 * same bytes. */
enum mvot_status mvot_io_copy_file(const char *src, const char *dst, struct mvot_error *err);
/* Puts src's bytes at dst (which must not exist): a hard link where the filesystem has them
 * (no data moves; both names share one file, which is fine for files nobody edits in place),
 * else mvot_io_copy_file. */
enum mvot_status mvot_io_link_or_copy(const char *src, const char *dst, struct mvot_error *err);

#endif
