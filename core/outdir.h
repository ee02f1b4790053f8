/* Output folders that commands write into: the rules that keep a user's data safe
 * (docs/cli.md, "Output folders").
 *
 * - An output folder that is, contains or lies inside one of the command's inputs is a
 *   usage error (mvot_outdir_check_overlap).
 * - One writer per folder: an exclusive flock(2) on OUT/.mvot.lock, a file we create and
 *   never delete (deleting it would let two runs lock two different inodes). The file holds
 *   the holder's "pid host command" while a run is in progress and is emptied on release,
 *   so a record found at lock time belongs to a run that was killed.
 * - A command deletes or overwrites only files its own manifest or state file lists; the
 *   caller passes those names (mvot_outdir_remove, mvot_outdir_check_foreign). The temp
 *   files a killed run left behind are recognized by the killed holder's pid, recorded in
 *   the lock file, together with the owned names (mvot_outdir_clean_stale), never by a
 *   name pattern alone.
 * Library code: errors come back through struct mvot_error, nothing is printed. */
#ifndef MVOT_CORE_OUTDIR_H
#define MVOT_CORE_OUTDIR_H

#include <stddef.h>

#include "core/status.h"

#define MVOT_OUTDIR_LOCK_FILE ".mvot.lock"

struct mvot_outdir_lock;

/* Fails with MVOT_ERR_INVALID when out_dir is, contains or lies inside inputs[i] (n paths,
 * files or folders; NULL entries are skipped). out_dir need not exist yet: its deepest
 * existing ancestor is resolved. Inputs that do not exist are skipped (their own open
 * reports them). */
enum mvot_status mvot_outdir_check_overlap(const char *out_dir, const char *const *inputs, size_t n,
                                           struct mvot_error *err);

/* Creates out_dir (mkdir -p) and takes the exclusive lock, or fails with MVOT_ERR_IO naming
 * the holder (pid, host, command) when another process holds it. `command` (e.g.
 * "mvot pack") is recorded for such messages. On success *out receives a handle the caller
 * releases with mvot_outdir_unlock. */
enum mvot_status mvot_outdir_lock(const char *out_dir, const char *command,
                                  struct mvot_outdir_lock **out, struct mvot_error *err);

/* Releases the lock and empties the holder record. NULL is a no-op. */
void mvot_outdir_unlock(struct mvot_outdir_lock *l);

/* Pid of a killed earlier holder recorded in the lock file (0 when the last run ended
 * normally or the folder is new). */
long mvot_outdir_stale_pid(const struct mvot_outdir_lock *l);

/* Removes the atomic-writer temp files (core/io.h: ".<name>.tmp.<pid>.<n>") that the killed
 * earlier holder left for each of the n owned names. No-op without a killed holder. */
void mvot_outdir_clean_stale(const struct mvot_outdir_lock *l, const char *const *names, size_t n);

/* Removes out_dir/names[i] for each name (files the caller's own manifest lists); names
 * that do not exist are fine. Fails with MVOT_ERR_IO naming the first file it cannot
 * remove. */
enum mvot_status mvot_outdir_remove(const char *out_dir, const char *const *names, size_t n,
                                    struct mvot_error *err);

/* Fails with MVOT_ERR_INVALID naming the first entry of out_dir that is neither the lock
 * file nor one of the n names, i.e. a file this command did not make; `what` says what the
 * command writes ("a shard set"). A missing out_dir is fine. */
enum mvot_status mvot_outdir_check_foreign(const char *out_dir, const char *const *names, size_t n,
                                           const char *what, struct mvot_error *err);

#endif
