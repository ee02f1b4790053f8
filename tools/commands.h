/* The subcommand table. Adding a command: write tools/cmd_<name>.c with a
 * `int mvot_cmd_<name>(int argc, char **argv, struct mvot_cli *cli)` and add one row to
 * tools/commands.c. argv[0] is the command name; options follow. */
#ifndef MVOT_TOOLS_COMMANDS_H
#define MVOT_TOOLS_COMMANDS_H

#include "tools/cli.h"

typedef int (*mvot_cmd_fn)(int argc, char **argv, struct mvot_cli *cli);

struct mvot_command {
    const char *name;
    const char *summary;
    mvot_cmd_fn fn;
};

extern const struct mvot_command mvot_commands[];
extern const int mvot_command_count;

int mvot_cmd_build(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_gen(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_export_mvot(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_import_mvot(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_show(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_stats(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_bpe(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_codebook(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_tokenize_image(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_pack(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_verify(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_cat(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_inspect(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_retokenize(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_eval(int argc, char **argv, struct mvot_cli *cli);
int mvot_cmd_gpucheck(int argc, char **argv, struct mvot_cli *cli);

/* Shared by commands not built yet: says so on one line and returns 2. */
int mvot_cmd_not_implemented(int argc, char **argv, struct mvot_cli *cli);

#endif
