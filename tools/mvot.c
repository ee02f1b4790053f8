/* mvot: git-style driver. `mvot [--version|--help] <command> [options]`. Dispatches to the
 * table in tools/commands.c; exit codes are 0 ok, 1 runtime failure, 2 usage error. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/commands.h"

/* OpenBLAS starts its worker threads when the library loads, before main, and they cost
 * about 0.1 s of CPU per process (spinning), although every mvot stage runs BLAS on one thread
 * per pool worker (mvot_cli_ready sets 1). Each part of a split run would pay that again. The
 * library reads OPENBLAS_NUM_THREADS only at load time, and libc resets the environment after
 * the executable's preinit functions run, so the one reliable way is to start over once with
 * the variable set: exec of our own image, same pid and arguments. A value the user set is
 * kept (and then nothing is re-executed); if the exec fails we simply go on. Not under
 * valgrind (its preload in LD_PRELOAD), which would not follow the exec. */
static void blas_one_thread(char **argv)
{
    const char *pre = getenv("LD_PRELOAD");
    if (getenv("OPENBLAS_NUM_THREADS") || (pre && strstr(pre, "vgpreload")) ||
        setenv("OPENBLAS_NUM_THREADS", "1", 0) != 0)
        return;
    execv("/proc/self/exe", argv);
}

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
    blas_one_thread(argv);
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
