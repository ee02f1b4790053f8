/* The mvot front end's shared plumbing: exit codes, common options, error printing and the
 * terminal progress bar. Library code never sees argv; each command parses its own options
 * with getopt_long and hands everything else to mvot_cli_common(). */
#ifndef MVOT_TOOLS_CLI_H
#define MVOT_TOOLS_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/progress.h"
#include "core/status.h"

enum { MVOT_EXIT_OK = 0, MVOT_EXIT_FAIL = 1, MVOT_EXIT_USAGE = 2 };

struct mvot_cli {
    const char *cmd;           /* "mvot gen" */
    int threads;               /* >= 1 after parsing (default: all cores) */
    int quiet;                 /* --quiet: no progress, no summary lines on stderr */
    int json;                  /* --json: machine-readable summary on stdout */
    int progress;              /* 1: draw progress on stderr (TTY default, or --progress) */
    struct mvot_progress hook; /* pass to library calls */
};

/* Long options every command accepts; append to a command's table before {0}. */
enum { MVOT_OPT_THREADS = 0x1000, MVOT_OPT_QUIET, MVOT_OPT_JSON, MVOT_OPT_PROGRESS };
#define MVOT_CLI_COMMON_OPTIONS                                                             \
    {"threads", required_argument, 0, MVOT_OPT_THREADS},                                    \
        {"quiet", no_argument, 0, MVOT_OPT_QUIET}, {"json", no_argument, 0, MVOT_OPT_JSON}, \
        {"progress", no_argument, 0, MVOT_OPT_PROGRESS},                                    \
    {                                                                                       \
        "help", no_argument, 0, 'h'                                                         \
    }

/* Help text lines for the common options, to end each command's --help. */
#define MVOT_CLI_COMMON_HELP                                             \
    "Common options:\n"                                                  \
    "  --threads N   worker threads (default: all cores)\n"              \
    "  --quiet       no progress or summary on stderr\n"                 \
    "  --json        print a machine-readable summary on stdout\n"       \
    "  --progress    draw progress even when stderr is not a terminal\n" \
    "  -h, --help    show this help\n"

void mvot_cli_init(struct mvot_cli *cli, const char *cmd);

/* Handles a common option or an unknown one. Returns -1 if the option was consumed and
 * parsing should continue; otherwise the exit code the command must return now (0 after
 * printing help, 2 for a bad or unknown option). `help` is the command's full help text. */
int mvot_cli_common(struct mvot_cli *cli, int opt, const char *arg, const char *help);

/* The text to pass as `arg` to mvot_cli_common: the offending argument for '?' and ':'. */
#define MVOT_CLI_ARG(c, argv) (((c) == '?' || (c) == ':') ? (argv)[optind - 1] : optarg)

/* Option parsing for commands that take only the common options and positional
 * arguments: returns -1 to continue (positionals start at optind), else the exit code. */
int mvot_cli_parse_plain(struct mvot_cli *cli, int argc, char **argv, const char *help);

/* Call after option parsing: sets up the progress hook. */
void mvot_cli_ready(struct mvot_cli *cli);

/* Prints "mvot gen: <message>" as one line on stderr and returns 2. */
int mvot_cli_usage(const struct mvot_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints the error as one line and returns 2 for MVOT_ERR_INVALID, else 1. */
int mvot_cli_fail(const struct mvot_cli *cli, const struct mvot_error *err);
/* A note on stderr unless --quiet. */
/* Prints a reader's one-line warning (e.g. a v1 shard set carries no identity) to stderr,
 * also under --quiet; NULL prints nothing. */
void mvot_cli_warn(const struct mvot_cli *cli, const char *warning);
void mvot_cli_note(const struct mvot_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* With --json, prints j (may be NULL: prints nothing) compactly on one stdout line. */
void mvot_cli_print_json(const struct mvot_cli *cli, const json_t *j);

/* Integer option parsing with range checks; on failure prints a usage line and returns 0. */
int mvot_cli_parse_u64(const struct mvot_cli *cli, const char *opt, const char *arg, uint64_t min,
                       uint64_t max, uint64_t *out);
int mvot_cli_parse_double(const struct mvot_cli *cli, const char *opt, const char *arg, double min,
                          double max, double *out);

/* pack and build copy the image tokenizer into the shard set, so it must be one file: for a
 * folder or an index JSON (accepted elsewhere, core/checkpoint.h) prints a usage line naming
 * `mvot codebook extract-vqgan` and returns 2; else returns -1. */
int mvot_cli_require_one_file(const struct mvot_cli *cli, const char *opt, const char *path);

struct mvot_outdir_lock;
/* The output-folder rules (core/outdir.h, docs/cli.md) for a command whose library call does
 * not apply them itself: `out` must not overlap the n inputs (exit 2), and is locked until
 * the caller's mvot_outdir_unlock(*lock). With `fresh`, `out` must also be new or empty (the
 * command keeps no manifest to know its own files by). Returns -1 to go on, else the exit
 * code after printing the error. */
int mvot_cli_claim_out(const struct mvot_cli *cli, const char *out, const char *const *inputs,
                       size_t n, int fresh, struct mvot_outdir_lock **lock);

/* Ends the progress line (if one is drawn). */
void mvot_cli_progress_done(struct mvot_cli *cli);

#endif
