/* mvot: git-style driver. `mvot [--version|--help] <command> [options]`. Dispatches to the
 * table in tools/commands.c; exit codes are 0 ok, 1 runtime failure, 2 usage error. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tools/commands.h"

static void usage(FILE *fp)
{
    fprintf(fp, "usage: mvot <command> [options]\n"
                "       mvot --version | --help\n\n"
                "Builds training data for multimodal visualization-of-thought models.\n\n"
                "Commands:\n");
    for (int i = 0; i < mvot_command_count; i++)
        fprintf(fp, "  %-15s %s\n", mvot_commands[i].name, mvot_commands[i].summary);
    fprintf(fp, "\nRun 'mvot <command> --help' for a command's options. Docs: docs/README.md\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "mvot: missing command (see mvot --help)\n");
        return MVOT_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return MVOT_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("mvot %s\n", MVOT_VERSION);
        return MVOT_EXIT_OK;
    }
    for (int i = 0; i < mvot_command_count; i++) {
        if (strcmp(name, mvot_commands[i].name) == 0) {
            char label[64];
            snprintf(label, sizeof label, "mvot %s", name);
            struct mvot_cli cli;
            mvot_cli_init(&cli, label);
            optind = 1;
            opterr = 0;
            return mvot_commands[i].fn(argc - 1, argv + 1, &cli);
        }
    }
    fprintf(stderr, "mvot: unknown command '%s' (see mvot --help)\n", name);
    return MVOT_EXIT_USAGE;
}
