/* Placeholders for commands whose stage is not built yet. They never pretend: they say so
 * and exit 2. Each is a weak symbol, so a real tools/cmd_<name>.c replaces it at link time
 * without touching this file (delete the line below when it lands, for tidiness). */
#include <stdio.h>
#include <string.h>

#include "tools/commands.h"

int mvot_cmd_not_implemented(int argc, char **argv, struct mvot_cli *cli)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: %s ...\n\nThis command is not implemented yet.\n", cli->cmd);
            return MVOT_EXIT_OK;
        }
    return mvot_cli_usage(cli, "not implemented yet");
}

#define STUB(fn)                                                              \
    __attribute__((weak)) int fn(int argc, char **argv, struct mvot_cli *cli) \
    {                                                                         \
        return mvot_cmd_not_implemented(argc, argv, cli);                     \
    }

STUB(mvot_cmd_build)
STUB(mvot_cmd_gen)
STUB(mvot_cmd_export_mvot)
STUB(mvot_cmd_import_mvot)
STUB(mvot_cmd_show)
STUB(mvot_cmd_bpe)
STUB(mvot_cmd_codebook)
STUB(mvot_cmd_tokenize_image)
STUB(mvot_cmd_pack)
STUB(mvot_cmd_verify)
STUB(mvot_cmd_cat)
STUB(mvot_cmd_inspect)
STUB(mvot_cmd_retokenize)
STUB(mvot_cmd_eval)
STUB(mvot_cmd_gpucheck)
