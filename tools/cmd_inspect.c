/* mvot inspect: renders a sample's images from its codes (the shard set's own codebook copy)
 * to PNG, next to the stored source frames, plus a contact sheet. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/json.h"
#include "core/png.h"
#include "shards/inspect.h"
#include "shards/reader.h"
#include "tokenize/bpe.h"
#include "core/outdir.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot inspect SHARDS KEY|INDEX --out DIR\n"
    "\n"
    "Decodes every image of the sample from its codes with the shard set's image tokenizer\n"
    "and writes DIR/{key}.{j}.decoded.png, the stored source frames as DIR/{key}.{j}.source.png,\n"
    "and DIR/{key}.sheet.png (decoded row above source row).\n"
    "\n"
    "Options:\n"
    "  --out DIR   output directory (created)\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum { O_OUT = 0x100 };

int mvot_cmd_inspect(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, O_OUT}, MVOT_CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    const char *out = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == O_OUT) {
            out = optarg;
            continue;
        }
        int r = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
        if (r >= 0)
            return r;
    }
    if (argc - optind != 2 || !out)
        return mvot_cli_usage(cli, "want SHARDS, a KEY or INDEX, and --out DIR");
    mvot_cli_ready(cli);
    const char *dir = argv[optind], *which = argv[optind + 1];
    struct mvot_outdir_lock *lock = NULL;
    int claim = mvot_cli_claim_out(cli, out, &dir, 1, 0, &lock);
    if (claim >= 0)
        return claim;
    struct mvot_error err = {0};
    struct mvot_shard_set *set = NULL;
    struct mvot_sample_view v;
    memset(&v, 0, sizeof v);
    struct mvot_image sheet = {0};
    size_t index = 0;
    int rc = MVOT_EXIT_OK, digits = *which != 0;
    for (const char *p = which; *p; p++)
        digits &= isdigit((unsigned char)*p) != 0;
    enum mvot_status st = mvot_shard_set_open(dir, &set, &err);
    if (st == MVOT_OK) {
        mvot_cli_warn(cli, mvot_shard_set_warning(set));
        if (digits)
            index = (size_t)strtoull(which, NULL, 10);
        else
            st = mvot_shard_set_lookup(set, which, &index, &err);
    }
    if (st == MVOT_OK)
        st = mvot_sample_view_open(set, index, 1, &v, &err);
    if (st == MVOT_OK)
        st = mvot_io_mkdirs(out, &err);
    for (size_t j = 0; st == MVOT_OK && j < v.ni; j++) {
        char name[160];
        snprintf(name, sizeof name, "%s.%zu.decoded.png", v.s.key, j);
        char *p = mvot_io_join(out, name);
        st = p ? mvot_png_write_file(p, &v.imgs[j], NULL, &err)
               : mvot_error_set(&err, MVOT_ERR_NOMEM, "inspect", "out of memory");
        if (st == MVOT_OK)
            printf("%s\n", p);
        free(p);
    }
    for (uint32_t j = 0; st == MVOT_OK && j < v.s.n_png; j++) {
        char name[160];
        snprintf(name, sizeof name, "%s.%u.source.png", v.s.key, j);
        char *p = mvot_io_join(out, name);
        st = p ? mvot_io_write_file(p, v.s.png[j], v.s.png_len[j], &err)
               : mvot_error_set(&err, MVOT_ERR_NOMEM, "inspect", "out of memory");
        if (st == MVOT_OK)
            printf("%s\n", p);
        free(p);
    }
    if (st == MVOT_OK)
        st = mvot_sample_contact_sheet(&v.s, v.imgs, v.ni, &sheet, &err);
    if (st == MVOT_OK) {
        char name[160];
        snprintf(name, sizeof name, "%s.sheet.png", v.s.key);
        char *p = mvot_io_join(out, name);
        st = p ? mvot_png_write_file(p, &sheet, NULL, &err)
               : mvot_error_set(&err, MVOT_ERR_NOMEM, "inspect", "out of memory");
        if (st == MVOT_OK)
            printf("%s\n", p);
        free(p);
    }
    if (st != MVOT_OK)
        rc = mvot_cli_fail(cli, &err);
    mvot_image_free(&sheet);
    mvot_sample_view_free(&v);
    mvot_shard_set_close(set);
    mvot_outdir_unlock(lock);
    return rc;
}
