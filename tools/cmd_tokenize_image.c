/* `mvot tokenize-image`: one PNG -> its image codes as a 1-D int64 .npy in row-major grid
 * order, or back with --decode. A fixed contract (scripts rely on it). The tokenizer is a
 * patch codebook (--codebook) or a Chameleon/Anole VQGAN checkpoint (--vqgan); both go
 * through tokenize/imagetok.h, which detects the kind from the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/npy.h"
#include "core/png.h"
#include "tokenize/imagetok.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot tokenize-image (--codebook FILE | --vqgan FILE) --in IMAGE.png --out CODES.npy\n"
    "       mvot tokenize-image (--codebook FILE | --vqgan FILE) --decode --in CODES.npy\n"
    "                           --out IMAGE.png\n"
    "\n"
    "Encodes one PNG into its image codes, written as a 1-D int64 .npy in row-major grid order\n"
    "((S/16)^2 codes), or decodes such codes back into a PNG. Images that are not S x S RGB go\n"
    "through the Chameleon preprocessing (alpha on white, LANCZOS resize, center crop).\n"
    "\n"
    "Options:\n"
    "  --codebook FILE   a patch codebook (mvot codebook train)\n"
    "  --vqgan CKPT      a Chameleon/Anole VQGAN checkpoint: a .safetensors file, a\n"
    "                    model.safetensors.index.json or a model folder (the model.vqmodel.*\n"
    "                    tensors are found through the index's weight_map); --decode needs\n"
    "                    one with decoder.* tensors\n"
    "  --in FILE         input PNG (or .npy codes with --decode)\n"
    "  --out FILE        output .npy (or PNG with --decode)\n"
    "  --decode          codes -> image\n"
    "  --image-size S    512, 256 or 128 (default 512: 1024 codes)\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum { O_CODEBOOK = 1, O_VQGAN, O_IN, O_OUT, O_DECODE, O_SIZE };

static int encode(struct mvot_cli *cli, const struct mvot_imagetok *t, const char *in,
                  const char *out)
{
    struct mvot_error err = {0};
    struct mvot_image img = {0};
    struct mvot_imagetok_info info;
    mvot_imagetok_get_info(t, &info);
    size_t n = (size_t)info.grid * info.grid;
    int32_t *codes = malloc(n * sizeof *codes);
    int64_t *c64 = malloc(n * sizeof *c64);
    int rc = MVOT_EXIT_OK;
    if (!codes || !c64) {
        rc = mvot_cli_usage(cli, "out of memory");
        goto done;
    }
    enum mvot_status st = mvot_png_read_file(in, &img, &err);
    if (st == MVOT_OK)
        st = mvot_imagetok_encode(t, &img, codes, &err);
    if (st == MVOT_OK) {
        for (size_t i = 0; i < n; i++)
            c64[i] = codes[i];
        uint64_t shape[1] = {n};
        st = mvot_npy_write_file(out, "<i8", 1, shape, c64, &err);
    }
    if (st != MVOT_OK) {
        rc = mvot_cli_fail(cli, &err);
        goto done;
    }
    mvot_cli_note(cli, "%s: %zu codes (%ux%u grid) from %s (%ux%u)\n", out, n, info.grid, info.grid,
                  in, img.w, img.h);
    if (cli->json) {
        json_t *j = json_pack("{s:s, s:s, s:i, s:i}", "in", in, "out", out, "codes", (int)n, "grid",
                              (int)info.grid);
        char *d = mvot_json_dumps(j);
        if (d)
            puts(d);
        free(d);
        json_decref(j);
    }
done:
    mvot_image_free(&img);
    free(codes);
    free(c64);
    return rc;
}

static int decode(struct mvot_cli *cli, const struct mvot_imagetok *t, const char *in,
                  const char *out)
{
    struct mvot_error err = {0};
    struct mvot_imagetok_info info;
    struct mvot_image img = {0};
    struct mvot_npy npy;
    uint8_t *buf = NULL;
    size_t len = 0;
    int32_t *codes = NULL;
    int rc = MVOT_EXIT_OK;
    mvot_imagetok_get_info(t, &info);
    size_t n = (size_t)info.grid * info.grid;
    enum mvot_status st = mvot_io_read_file(in, (size_t)64 << 20, &buf, &len, &err);
    if (st == MVOT_OK)
        st = mvot_npy_parse(buf, len, in, &npy, &err);
    if (st != MVOT_OK) {
        rc = mvot_cli_fail(cli, &err);
        goto done;
    }
    if (npy.ndim != 1 || npy.shape[0] != n) {
        rc = mvot_cli_usage(cli, "%s: expected a 1-D array of %zu codes for %u px images", in, n,
                            info.image_size);
        goto done;
    }
    codes = malloc(n * sizeof *codes);
    if (!codes) {
        rc = mvot_cli_usage(cli, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        int64_t v;
        if (strcmp(npy.descr, "<i8") == 0) {
            memcpy(&v, npy.data + i * 8, 8);
        } else if (strcmp(npy.descr, "<i4") == 0) {
            int32_t w;
            memcpy(&w, npy.data + i * 4, 4);
            v = w;
        } else {
            rc = mvot_cli_usage(cli, "%s: codes must be int64 (or int32), found %s", in, npy.descr);
            goto done;
        }
        if (v < 0 || v >= (int64_t)info.K) {
            rc = mvot_cli_usage(cli, "%s: code %lld at position %zu is outside 0..%u", in,
                                (long long)v, i, info.K - 1);
            goto done;
        }
        codes[i] = (int32_t)v;
    }
    st = mvot_imagetok_decode(t, codes, &img, &err);
    if (st == MVOT_OK)
        st = mvot_png_write_file(out, &img, NULL, &err);
    if (st != MVOT_OK) {
        rc = mvot_cli_fail(cli, &err);
        goto done;
    }
    mvot_cli_note(cli, "%s: %ux%u image from %zu codes\n", out, img.w, img.h, n);
done:
    mvot_image_free(&img);
    free(buf);
    free(codes);
    return rc;
}

int mvot_cmd_tokenize_image(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {{"codebook", required_argument, 0, O_CODEBOOK},
                                         {"vqgan", required_argument, 0, O_VQGAN},
                                         {"in", required_argument, 0, O_IN},
                                         {"out", required_argument, 0, O_OUT},
                                         {"decode", no_argument, 0, O_DECODE},
                                         {"image-size", required_argument, 0, O_SIZE},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    const char *cbf = NULL, *vqf = NULL, *in = NULL, *out = NULL;
    int dec = 0, c;
    uint64_t size = 512;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_CODEBOOK: cbf = optarg; break;
        case O_VQGAN: vqf = optarg; break;
        case O_IN: in = optarg; break;
        case O_OUT: out = optarg; break;
        case O_DECODE: dec = 1; break;
        case O_SIZE:
            if (!mvot_cli_parse_u64(cli, "--image-size", optarg, 1, 4096, &size))
                return MVOT_EXIT_USAGE;
            if (size != 512 && size != 256 && size != 128)
                return mvot_cli_usage(cli, "--image-size: use 512, 256 or 128, got %s", optarg);
            break;
        default: {
            int rc = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
            if (rc >= 0)
                return rc;
        }
        }
    }
    if (optind < argc)
        return mvot_cli_usage(cli, "unexpected argument '%s'", argv[optind]);
    if (!cbf == !vqf)
        return mvot_cli_usage(cli, "give exactly one of --codebook and --vqgan");
    if (!in || !out)
        return mvot_cli_usage(cli, "--in and --out are required");
    mvot_cli_ready(cli);
    struct mvot_error err = {0};
    struct mvot_imagetok *t = NULL;
    if (mvot_imagetok_open(cbf ? cbf : vqf, (uint32_t)size, cli->threads, &t, &err) != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    struct mvot_imagetok_info info;
    mvot_imagetok_get_info(t, &info);
    int rc;
    if ((cbf && info.kind != MVOT_IMAGETOK_PATCH) || (vqf && info.kind != MVOT_IMAGETOK_VQGAN))
        rc = mvot_cli_usage(cli, "%s is a %s file: use %s", cbf ? cbf : vqf,
                            info.kind == MVOT_IMAGETOK_PATCH ? "patch codebook" : "VQGAN",
                            info.kind == MVOT_IMAGETOK_PATCH ? "--codebook" : "--vqgan");
    else if (dec && !info.can_decode)
        rc = mvot_cli_usage(cli, "%s: %s", vqf ? vqf : cbf, MVOT_IMAGETOK_NO_DECODER);
    else
        rc = dec ? decode(cli, t, in, out) : encode(cli, t, in, out);
    mvot_imagetok_free(t);
    return rc;
}
