/* mvot gpucheck: recomputes image codes on the GPU (tools/cuda/gpu_vq.h) and checks them.
 *
 * Shard mode (a shard dir): every stored frame {key}.{j}.png is encoded again with the
 * codebook / VQGAN file the manifest names, and compared with the codes stored in the j-th
 * image span of the sample (ids mapped to codes through the tokenizer.json layout). When
 * the pack used augmentation, only label images are compared (inputs were re-encoded on
 * purpose). Image mode (PNG files + --codebook/--vqgan): the GPU codes are compared with the
 * CPU tokenizer (tokenize/imagetok.h) on every image. For a VQGAN, --cpu-check N images also
 * go through tokenize/vqgan.c for the latent error. Reports agreement, images/s and the
 * H2D / compute / D2H split; --min-agreement X makes agreement < X exit 1.
 *
 * Builds without CUDA keep the command: it says so in one line and exits 2, as it does
 * when CUDA is compiled in but the GPU module cannot be loaded (tools/gpu_plugin.h) or no
 * device is present. --cpu-reference never loads the module. */
#include <stdio.h>
#include <string.h>

#include "tools/commands.h"
#include "tools/gpu_plugin.h"

#define GPUCHECK_HELP                                                                        \
    "usage: mvot gpucheck SHARD_DIR [options]\n"                                             \
    "       mvot gpucheck (--codebook FILE | --vqgan FILE) [--image-size S] IMAGE.png...\n"  \
    "\n"                                                                                     \
    "Recomputes image codes on a CUDA GPU and reports the agreement with the stored codes\n" \
    "(shard mode) or with the CPU tokenizer (image mode), images/s and the time split.\n"    \
    "Without CUDA compiled in, or without a device, it says so in one line and exits 2.\n"   \
    "\n"                                                                                     \
    "Options:\n"                                                                             \
    "  --codebook FILE     patch codebook (image mode)\n"                                    \
    "  --vqgan FILE        VQGAN checkpoint (image mode)\n"                                  \
    "  --image-size S      frame side in image mode (default 512)\n"                         \
    "  --max-samples N     shard mode: check at most N samples (default all)\n"              \
    "  --max-images N      stop after N images (default all)\n"                              \
    "  --batch N           images per GPU call (default 64)\n"                               \
    "  --cpu-check N       VQGAN: also run N images through the CPU encoder for the\n"       \
    "                      latent error (default 1; 0 = off)\n"                              \
    "  --min-agreement X   exit 1 when the code agreement is below X (0..1, default 0)\n"    \
    "  --tf32              TF32 tensor-core GEMMs (default FP32)\n"                          \
    "  --device N          CUDA device (default 0)\n"                                        \
    "  --cpu-reference     shard mode: encode with the CPU tokenizer instead of the GPU\n"   \
    "                      (checks the shard reading itself; needs no "                      \
    "device)\n" MVOT_CLI_COMMON_HELP

#ifndef MVOT_HAVE_CUDA

int mvot_cmd_gpucheck(int argc, char **argv, struct mvot_cli *cli)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(GPUCHECK_HELP, stdout);
            return MVOT_EXIT_OK;
        }
    fprintf(stderr, "%s: CUDA support was not compiled in\n", cli->cmd);
    return MVOT_EXIT_USAGE;
}

#else /* MVOT_HAVE_CUDA */

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "codebook/codebook.h"
#include "core/json.h"
#include "core/png.h"
#include "shards/reader.h"
#include "tokenize/bpe.h"
#include "tokenize/chameleon.h"
#include "tokenize/imagetok.h"
#include "tokenize/imgprep.h"
#include "tokenize/vqgan.h"
#include "tools/cuda/gpu_vq.h"

enum {
    OPT_CODEBOOK = 0x2000,
    OPT_VQGAN,
    OPT_SIZE,
    OPT_MAXS,
    OPT_MAXI,
    OPT_BATCH,
    OPT_CPU,
    OPT_MINAG,
    OPT_TF32,
    OPT_DEVICE,
    OPT_CPUREF
};

struct check {
    struct mvot_gpu *g;
    struct mvot_gpu_patchvq *pv;
    struct mvot_gpu_vqgan *vq;
    const char *model_path;
    int is_vqgan;
    uint32_t S, grid, K;
    /* the batch being filled */
    size_t batch, nb;
    uint8_t *rgb;    /* batch x S*S*3 */
    int32_t *stored; /* batch x grid^2 (shard mode) */
    int32_t *codes;  /* batch x grid^2 */
    int have_stored;
    int cpu_only; /* --cpu-reference: c->cpu encodes, no GPU */
    int threads;
    const struct mvot_cli *cli; /* shard mode: prints the set's warning */
    /* results */
    uint64_t images, ncodes, agree, images_exact;
    double wall_s;
    /* image mode CPU comparison */
    struct mvot_imagetok *cpu;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static enum mvot_status flush(struct check *c, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    size_t per = (size_t)c->grid * c->grid;
    double t0;
    if (c->nb == 0)
        return MVOT_OK;
    t0 = now_s();
    if (c->cpu_only) {
        for (size_t i = 0; i < c->nb; i++) {
            struct mvot_image im = {c->S, c->S, 3, c->rgb + i * (size_t)c->S * c->S * 3};
            MVOT_TRY(mvot_imagetok_encode(c->cpu, &im, c->codes + i * per, err));
        }
    } else if (c->pv)
        MVOT_TRY(mvot_gpu_patchvq_encode(c->pv, c->rgb, c->nb, c->codes, err));
    else
        MVOT_TRY(mvot_gpu_vqgan_encode(c->vq, c->rgb, c->nb, c->S, c->codes, NULL, err));
    c->wall_s += now_s() - t0;
    if (!c->have_stored) {
        /* image mode: the CPU tokenizer is the reference */
        for (size_t i = 0; i < c->nb; i++) {
            struct mvot_image im = {c->S, c->S, 3, c->rgb + i * (size_t)c->S * c->S * 3};
            MVOT_TRY(mvot_imagetok_encode(c->cpu, &im, c->stored + i * per, err));
        }
    }
    for (size_t i = 0; i < c->nb; i++) {
        uint64_t a = 0;
        for (size_t j = 0; j < per; j++)
            a += c->codes[i * per + j] == c->stored[i * per + j];
        c->agree += a;
        c->images_exact += a == per;
    }
    c->images += c->nb;
    c->ncodes += c->nb * per;
    c->nb = 0;
cleanup:
    return st;
}

/* Decodes a PNG into slot c->nb, preparing it to S x S RGB when needed. */
static enum mvot_status add_png(struct check *c, const uint8_t *data, size_t len, const char *name,
                                struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_image im = {0}, prep = {0};
    const struct mvot_image *use = &im;
    size_t bytes = (size_t)c->S * c->S * 3;
    MVOT_TRY(mvot_png_decode(data, len, name, &im, err));
    if (!(im.w == c->S && im.h == c->S && im.channels == 3)) {
        MVOT_TRY(mvot_imgprep_prepare(&im, c->S, &prep, err));
        use = &prep;
    }
    memcpy(c->rgb + c->nb * bytes, use->px, bytes);
cleanup:
    mvot_image_free(&im);
    mvot_image_free(&prep);
    return st;
}

static int in_int_array(const json_t *arr, json_int_t v)
{
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) if (json_is_integer(x) && json_integer_value(x) == v) return 1;
    return 0;
}

static enum mvot_status open_model(struct check *c, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_codebook cb = {0};
    if (c->cpu_only) {
        struct mvot_imagetok_info ti;
        MVOT_TRY(mvot_imagetok_open(c->model_path, c->S, c->threads, &c->cpu, err));
        mvot_imagetok_get_info(c->cpu, &ti);
        c->K = ti.K;
        c->grid = ti.grid;
    } else if (c->is_vqgan) {
        struct mvot_gpu_vqgan_info info;
        MVOT_TRY(mvot_gpu_vqgan_load(c->g, c->model_path, &c->vq, err));
        mvot_gpu_vqgan_get_info(c->vq, &info);
        c->K = info.K;
        c->grid = c->S / 16;
    } else {
        MVOT_TRY(mvot_codebook_load(c->model_path, &cb, err));
        MVOT_FAIL_IF(cb.kind != MVOT_CB_PATCH, err, MVOT_ERR_UNSUPPORTED, c->model_path,
                     "a %s codebook cannot encode images (give the VQGAN checkpoint)",
                     mvot_codebook_kind_name(cb.kind));
        MVOT_FAIL_IF(cb.patch == 0 || c->S % cb.patch != 0, err, MVOT_ERR_INVALID, c->model_path,
                     "image size %u is not a multiple of the patch %u", c->S, cb.patch);
        MVOT_TRY(mvot_gpu_patchvq_create(c->g, cb.vec, cb.K, cb.patch, c->S, &c->pv, err));
        c->K = cb.K;
        c->grid = c->S / cb.patch;
    }
    c->rgb = malloc(c->batch * (size_t)c->S * c->S * 3);
    c->stored = malloc(c->batch * (size_t)c->grid * c->grid * sizeof(int32_t));
    c->codes = malloc(c->batch * (size_t)c->grid * c->grid * sizeof(int32_t));
    MVOT_FAIL_IF(!c->rgb || !c->stored || !c->codes, err, MVOT_ERR_NOMEM, "gpucheck",
                 "out of memory for a batch of %zu images", c->batch);
cleanup:
    mvot_codebook_free(&cb);
    return st;
}

/* Shard mode: walks the samples, compares every (compared) image span. */
static enum mvot_status run_shards(struct check *c, const char *dir, uint64_t max_samples,
                                   uint64_t max_images, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_shard_set *set = NULL;
    struct mvot_bpe *bpe = NULL;
    struct mvot_layout *lay = NULL;
    struct mvot_sample s = {0};
    const json_t *man, *cbj;
    const char *cbfile, *tokfile, *kind;
    char path[4096];
    json_int_t augment = 0;
    size_t per, n;
    MVOT_TRY(mvot_shard_set_open(dir, &set, err));
    mvot_cli_warn(c->cli, mvot_shard_set_warning(set));
    dir = mvot_shard_set_dir(set); /* the root (tokenizer, codebook), also for a split folder */
    man = mvot_shard_set_manifest(set);
    cbj = json_object_get(man, "codebook");
    cbfile = json_string_value(json_object_get(cbj, "file"));
    kind = json_string_value(json_object_get(cbj, "kind"));
    tokfile = json_string_value(json_object_get(json_object_get(man, "tokenizer"), "file"));
    MVOT_CORRUPT_IF(!cbfile || !tokfile, err, dir,
                    "manifest.json: codebook.file or tokenizer.file missing");
    c->S = (uint32_t)json_integer_value(json_object_get(man, "image_size"));
    MVOT_CORRUPT_IF(c->S == 0 || c->S % 16 != 0, err, dir, "manifest.json: bad image_size");
    augment = json_integer_value(json_object_get(json_object_get(man, "options"), "augment"));
    snprintf(path, sizeof path, "%s/%s", dir, cbfile);
    c->model_path = strdup(path);
    MVOT_FAIL_IF(!c->model_path, err, MVOT_ERR_NOMEM, "gpucheck", "out of memory");
    c->is_vqgan = kind && strcmp(kind, "vqgan") == 0;
    MVOT_TRY(open_model(c, err));
    snprintf(path, sizeof path, "%s/%s", dir, tokfile);
    MVOT_TRY(mvot_bpe_load_file(path, &bpe, err));
    lay = malloc(sizeof *lay);
    MVOT_FAIL_IF(!lay, err, MVOT_ERR_NOMEM, "gpucheck", "out of memory");
    MVOT_TRY(mvot_layout_from_bpe(bpe, lay, err));
    per = (size_t)c->grid * c->grid;
    n = mvot_shard_set_count(set);
    if (max_samples && max_samples < n)
        n = (size_t)max_samples;
    c->have_stored = 1;
    for (size_t i = 0; i < n && (!max_images || c->images + c->nb < max_images); i++) {
        const json_t *images, *labels;
        size_t span_img = 0;
        MVOT_TRY(mvot_shard_set_get(set, i, &s, err));
        images = json_object_get(s.meta, "images");
        labels = json_object_get(s.meta, "label_images");
        MVOT_FAIL_IF(s.n_png == 0, err, MVOT_ERR_UNSUPPORTED, dir,
                     "sample %s: no stored frames (packed without --store-frames)", s.key);
        for (size_t k = 0; k < s.n_spans; k++) {
            const struct mvot_span *sp = &s.spans[k];
            size_t j = span_img++, got = 0;
            if (sp->modality != MVOT_MOD_IMAGE) {
                span_img--;
                continue;
            }
            MVOT_CORRUPT_IF(j >= s.n_png, err, dir, "sample %s: image span %zu has no stored frame",
                            s.key, j);
            if (augment > 0 && !in_int_array(labels, json_integer_value(json_array_get(images, j))))
                continue;
            if (max_images && c->images + c->nb >= max_images)
                break;
            int32_t *dst = c->stored + c->nb * per;
            for (uint32_t t = 0; t < sp->length && sp->start + t < s.n_tokens; t++) {
                int32_t code = mvot_layout_id_to_code(lay, (int32_t)s.tokens[sp->start + t]);
                if (code >= 0 && got < per)
                    dst[got] = code;
                got += code >= 0;
            }
            MVOT_CORRUPT_IF(got != per, err, dir,
                            "sample %s: image span %zu holds %zu codes, expected %zu", s.key, j,
                            got, per);
            snprintf(path, sizeof path, "%s.%zu.png", s.key, j);
            MVOT_TRY(add_png(c, s.png[j], s.png_len[j], path, err));
            if (++c->nb == c->batch)
                MVOT_TRY(flush(c, err));
        }
        mvot_sample_free(&s);
    }
    MVOT_TRY(flush(c, err));
cleanup:
    mvot_sample_free(&s);
    free(lay);
    mvot_bpe_free(bpe);
    mvot_shard_set_close(set);
    return st;
}

static enum mvot_status run_images(struct check *c, char **files, int nfiles, uint64_t max_images,
                                   int threads, struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    uint8_t *data = NULL;
    MVOT_TRY(open_model(c, err));
    MVOT_TRY(mvot_imagetok_open(c->model_path, c->S, threads, &c->cpu, err));
    for (int i = 0; i < nfiles && (!max_images || c->images + c->nb < max_images); i++) {
        struct mvot_image im = {0};
        MVOT_TRY(mvot_png_read_file(files[i], &im, err));
        size_t bytes = (size_t)c->S * c->S * 3;
        if (im.w == c->S && im.h == c->S && im.channels == 3) {
            memcpy(c->rgb + c->nb * bytes, im.px, bytes);
        } else {
            struct mvot_image prep = {0};
            st = mvot_imgprep_prepare(&im, c->S, &prep, err);
            if (st == MVOT_OK)
                memcpy(c->rgb + c->nb * bytes, prep.px, bytes);
            mvot_image_free(&prep);
        }
        mvot_image_free(&im);
        if (st != MVOT_OK)
            goto cleanup;
        if (++c->nb == c->batch)
            MVOT_TRY(flush(c, err));
    }
    MVOT_TRY(flush(c, err));
cleanup:
    free(data);
    return st;
}

/* VQGAN: n images of the last batch through tokenize/vqgan.c, latent and code comparison. */
static enum mvot_status cpu_latent_check(struct check *c, uint32_t n, json_t *out,
                                         struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_vqgan *m = NULL;
    struct mvot_gpu_vqgan_info info;
    size_t per = (size_t)c->grid * c->grid, D;
    float *lg = NULL, *lc = NULL, *pix = NULL;
    int32_t *cg = NULL, *cc = NULL;
    double maxerr = 0, maxabs = 0, se = 0, sr = 0;
    uint64_t agree = 0;
    mvot_gpu_vqgan_get_info(c->vq, &info);
    D = info.D;
    MVOT_TRY(mvot_vqgan_load(c->model_path, NULL, &m, err));
    lg = malloc(n * per * D * sizeof(float));
    lc = malloc(per * D * sizeof(float));
    pix = malloc((size_t)3 * c->S * c->S * sizeof(float));
    cg = malloc(n * per * sizeof(int32_t));
    cc = malloc(per * sizeof(int32_t));
    MVOT_FAIL_IF(!lg || !lc || !pix || !cg || !cc, err, MVOT_ERR_NOMEM, "gpucheck",
                 "out of memory");
    MVOT_TRY(mvot_gpu_vqgan_encode(c->vq, c->rgb, n, c->S, cg, lg, err));
    for (uint32_t i = 0; i < n; i++) {
        mvot_imgprep_normalize(c->rgb + (size_t)i * c->S * c->S * 3, c->S, pix);
        MVOT_TRY(mvot_vqgan_encode(m, pix, c->S, cc, lc, err));
        for (size_t k = 0; k < per * D; k++) {
            double d = fabs((double)lg[i * per * D + k] - lc[k]);
            maxerr = fmax(maxerr, d);
            maxabs = fmax(maxabs, fabs(lc[k]));
            se += d * d;
            sr += (double)lc[k] * lc[k];
        }
        for (size_t k = 0; k < per; k++)
            agree += cg[i * per + k] == cc[k];
    }
    json_object_set_new(out, "images", json_integer(n));
    json_object_set_new(out, "latent_max_abs_err", json_real(maxerr));
    json_object_set_new(out, "latent_max_abs", json_real(maxabs));
    json_object_set_new(out, "latent_rel_l2_err", json_real(sr > 0 ? sqrt(se / sr) : 0));
    json_object_set_new(out, "code_agreement", json_real((double)agree / (double)(n * per)));
cleanup:
    mvot_vqgan_free(m);
    free(lg);
    free(lc);
    free(pix);
    free(cg);
    free(cc);
    return st;
}

/* The command line of gpucheck. */
struct gpucheck_args {
    const char *codebook, *vqgan;
    uint64_t size, max_s, max_i, batch, cpu_n, dev;
    double min_ag;
    int tf32, cpu_only;
};

/* Parses argv into a. Returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct mvot_cli *cli, struct gpucheck_args *a)
{
    static const struct option opts[] = {{"codebook", required_argument, 0, OPT_CODEBOOK},
                                         {"vqgan", required_argument, 0, OPT_VQGAN},
                                         {"image-size", required_argument, 0, OPT_SIZE},
                                         {"max-samples", required_argument, 0, OPT_MAXS},
                                         {"max-images", required_argument, 0, OPT_MAXI},
                                         {"batch", required_argument, 0, OPT_BATCH},
                                         {"cpu-check", required_argument, 0, OPT_CPU},
                                         {"min-agreement", required_argument, 0, OPT_MINAG},
                                         {"tf32", no_argument, 0, OPT_TF32},
                                         {"device", required_argument, 0, OPT_DEVICE},
                                         {"cpu-reference", no_argument, 0, OPT_CPUREF},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    int ch;
    memset(a, 0, sizeof *a);
    a->size = 512;
    a->batch = 64;
    a->cpu_n = 1;
    while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (ch) {
        case OPT_CODEBOOK: a->codebook = optarg; break;
        case OPT_VQGAN: a->vqgan = optarg; break;
        case OPT_SIZE:
            if (!mvot_cli_parse_u64(cli, "--image-size", optarg, 16, 4096, &a->size))
                return MVOT_EXIT_USAGE;
            break;
        case OPT_MAXS:
            if (!mvot_cli_parse_u64(cli, "--max-samples", optarg, 1, UINT64_MAX, &a->max_s))
                return MVOT_EXIT_USAGE;
            break;
        case OPT_MAXI:
            if (!mvot_cli_parse_u64(cli, "--max-images", optarg, 1, UINT64_MAX, &a->max_i))
                return MVOT_EXIT_USAGE;
            break;
        case OPT_BATCH:
            if (!mvot_cli_parse_u64(cli, "--batch", optarg, 1, 4096, &a->batch))
                return MVOT_EXIT_USAGE;
            break;
        case OPT_CPU:
            if (!mvot_cli_parse_u64(cli, "--cpu-check", optarg, 0, 1024, &a->cpu_n))
                return MVOT_EXIT_USAGE;
            break;
        case OPT_MINAG:
            if (!mvot_cli_parse_double(cli, "--min-agreement", optarg, 0.0, 1.0, &a->min_ag))
                return MVOT_EXIT_USAGE;
            break;
        case OPT_TF32: a->tf32 = 1; break;
        case OPT_CPUREF: a->cpu_only = 1; break;
        case OPT_DEVICE:
            if (!mvot_cli_parse_u64(cli, "--device", optarg, 0, 64, &a->dev))
                return MVOT_EXIT_USAGE;
            break;
        default: {
            int r = mvot_cli_common(cli, ch, MVOT_CLI_ARG(ch, argv), GPUCHECK_HELP);
            if (r >= 0)
                return r;
        }
        }
    }
    mvot_cli_ready(cli);
    if (a->codebook && a->vqgan)
        return mvot_cli_usage(cli, "give --codebook or --vqgan, not both");
    if (!a->codebook && !a->vqgan && argc - optind != 1)
        return mvot_cli_usage(cli, "expected one shard directory (or --codebook/--vqgan and PNGs)");
    if ((a->codebook || a->vqgan) && argc - optind < 1)
        return mvot_cli_usage(cli, "expected PNG files after --%s",
                              a->codebook ? "codebook" : "vqgan");
    if (a->cpu_only && (a->codebook || a->vqgan))
        return mvot_cli_usage(cli, "--cpu-reference applies to shard mode only");
    return -1;
}

/* The JSON summary of a finished check, without the CPU check and the verdict;
 * *agreement is the code agreement it reports. */
static json_t *summarize(const struct check *c, const struct gpucheck_args *a, const char *desc,
                         const struct mvot_gpu_timing *tm, double *agreement)
{
    json_t *sum = json_object();
    json_object_set_new(sum, "device", json_string(desc));
    json_object_set_new(sum, "precision",
                        json_string(c->cpu_only ? "cpu"
                                    : a->tf32   ? "tf32"
                                                : "fp32"));
    json_object_set_new(sum, "tokenizer", json_string(c->is_vqgan ? "vqgan" : "patch"));
    json_object_set_new(sum, "reference", json_string(a->codebook || a->vqgan ? "cpu" : "stored"));
    json_object_set_new(sum, "image_size", json_integer(c->S));
    json_object_set_new(sum, "images", json_integer((json_int_t)c->images));
    json_object_set_new(sum, "codes", json_integer((json_int_t)c->ncodes));
    json_object_set_new(sum, "codes_agree", json_integer((json_int_t)c->agree));
    json_object_set_new(sum, "images_exact", json_integer((json_int_t)c->images_exact));
    *agreement = c->ncodes ? (double)c->agree / (double)c->ncodes : 0.0;
    double gpu_ms = tm->h2d_ms + tm->compute_ms + tm->d2h_ms;
    json_object_set_new(sum, "agreement", json_real(*agreement));
    json_object_set_new(sum, "h2d_ms", json_real(tm->h2d_ms));
    json_object_set_new(sum, "compute_ms", json_real(tm->compute_ms));
    json_object_set_new(sum, "d2h_ms", json_real(tm->d2h_ms));
    json_object_set_new(sum, "encode_wall_s", json_real(c->wall_s));
    json_object_set_new(sum, "gpu_images_per_s",
                        json_real(gpu_ms > 0 ? (double)c->images / (gpu_ms / 1000.0) : 0));
    json_object_set_new(sum, "wall_images_per_s",
                        json_real(c->wall_s > 0 ? (double)c->images / c->wall_s : 0));
    return sum;
}

/* The one-line human report (and the CPU check's, when there was one). */
static void print_notes(const struct mvot_cli *cli, const struct check *c, const char *desc,
                        const struct mvot_gpu_timing *tm, double agreement, const json_t *cpu)
{
    double gpu_ms = tm->h2d_ms + tm->compute_ms + tm->d2h_ms;
    mvot_cli_note(cli,
                  "%s: %llu images on %s: %llu/%llu codes agree (%.6f), %llu images exact; "
                  "%.1f images/s (GPU time), %.1f images/s (wall); H2D %.2f ms, compute %.2f ms, "
                  "D2H %.2f ms\n",
                  cli->cmd, (unsigned long long)c->images, desc, (unsigned long long)c->agree,
                  (unsigned long long)c->ncodes, agreement, (unsigned long long)c->images_exact,
                  gpu_ms > 0 ? (double)c->images / (gpu_ms / 1000.0) : 0.0,
                  c->wall_s > 0 ? (double)c->images / c->wall_s : 0.0, tm->h2d_ms, tm->compute_ms,
                  tm->d2h_ms);
    if (cpu)
        mvot_cli_note(cli,
                      "%s: CPU check on %lld images: latent max abs err %.3g (max |z| %.3g), "
                      "code agreement %.4f\n",
                      cli->cmd, (long long)json_integer_value(json_object_get(cpu, "images")),
                      json_real_value(json_object_get(cpu, "latent_max_abs_err")),
                      json_real_value(json_object_get(cpu, "latent_max_abs")),
                      json_real_value(json_object_get(cpu, "code_agreement")));
}

int mvot_cmd_gpucheck(int argc, char **argv, struct mvot_cli *cli)
{
    struct gpucheck_args a;
    int rc = parse_args(argc, argv, cli, &a);
    if (rc >= 0)
        return rc;
    rc = MVOT_EXIT_OK;
    struct check c;
    struct mvot_gpu_opts go;
    struct mvot_error err = {0};
    struct mvot_gpu_timing tm;
    enum mvot_status st = MVOT_OK;
    char why[256], desc[256];
    json_t *sum = NULL, *cpu = NULL;
    double agreement = 0;
    memset(&c, 0, sizeof c);
    memset(&go, 0, sizeof go);
    c.cpu_only = a.cpu_only;
    c.threads = cli->threads;
    c.cli = cli;
    if (c.cpu_only) {
        snprintf(desc, sizeof desc, "CPU (--cpu-reference)");
    } else {
        /* the module (and with it libcudart) is loaded only here, not for --cpu-reference */
        if (!mvot_gpu_plugin_load(why, sizeof why)) {
            fprintf(stderr, "%s: %s\n", cli->cmd, why);
            return MVOT_EXIT_USAGE;
        }
        mvot_gpu_opts_default(&go);
        go.tf32 = a.tf32;
        go.device = (int)a.dev;
        if (mvot_gpu_device_count(why, sizeof why) == 0) {
            fprintf(stderr, "%s: %s\n", cli->cmd, why);
            return MVOT_EXIT_USAGE;
        }
        MVOT_TRY(mvot_gpu_create(&go, &c.g, &err));
        mvot_gpu_describe(c.g, desc, sizeof desc);
    }
    c.batch = (size_t)a.batch;
    if (a.codebook || a.vqgan) {
        c.S = (uint32_t)a.size;
        c.model_path = strdup(a.codebook ? a.codebook : a.vqgan);
        c.is_vqgan = a.vqgan != NULL;
        MVOT_FAIL_IF(!c.model_path, &err, MVOT_ERR_NOMEM, "gpucheck", "out of memory");
        MVOT_TRY(run_images(&c, argv + optind, argc - optind, a.max_i, cli->threads, &err));
    } else {
        MVOT_TRY(run_shards(&c, argv[optind], a.max_s, a.max_i, &err));
    }
    memset(&tm, 0, sizeof tm);
    if (c.g)
        mvot_gpu_timing_get(c.g, &tm);
    sum = summarize(&c, &a, desc, &tm, &agreement);
    if (c.is_vqgan && !c.cpu_only && a.cpu_n > 0 && c.images > 0) {
        /* The last batch's images are still in the staging buffer. */
        uint64_t last = c.images % c.batch ? c.images % c.batch : c.batch;
        uint32_t n = (uint32_t)(a.cpu_n < last ? a.cpu_n : last);
        cpu = json_object();
        MVOT_TRY(cpu_latent_check(&c, n, cpu, &err));
        json_object_set(sum, "cpu_check", cpu);
    }
    json_object_set_new(sum, "min_agreement", json_real(a.min_ag));
    json_object_set_new(sum, "ok", json_boolean(c.images > 0 && agreement >= a.min_ag));
    mvot_cli_print_json(cli, sum);
    print_notes(cli, &c, desc, &tm, agreement, cpu);
    if (c.images == 0) {
        fprintf(stderr, "%s: no images were checked\n", cli->cmd);
        rc = MVOT_EXIT_FAIL;
    } else if (agreement < a.min_ag) {
        fprintf(stderr, "%s: agreement %.6f is below --min-agreement %.6f\n", cli->cmd, agreement,
                a.min_ag);
        rc = MVOT_EXIT_FAIL;
    }
cleanup:
    if (st != MVOT_OK)
        rc = mvot_cli_fail(cli, &err);
    json_decref(sum);
    json_decref(cpu);
    mvot_imagetok_free(c.cpu);
    mvot_gpu_patchvq_free(c.pv);
    mvot_gpu_vqgan_free(c.vq);
    mvot_gpu_free(c.g);
    free((void *)c.model_path);
    free(c.rgb);
    free(c.stored);
    free(c.codes);
    return rc;
}

#endif /* MVOT_HAVE_CUDA */
