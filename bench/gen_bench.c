/* gen benchmark (not a test; run through bench/gen_bench.sh).
 *
 *   gen_bench frames   EPISODES SIZE     frames/s per core for each task: render only, and
 *                                        render + PNG encode (share of time in PNG)
 *   gen_bench png      EPISODES          PNG options compared on real 512-px frames: CPU time,
 *                                        bytes, and the ratio to zlib-compressing the same
 *                                        filtered rows with the same zlib settings
 *
 * Times are CPU time of this process (CLOCK_PROCESS_CPUTIME_ID), single-threaded, so a busy
 * machine slows the wall clock but not the numbers. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "core/png.h"
#include "gen/episode.h"
#include "gen/gen.h"

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const struct mvot_error *err)
{
    fprintf(stderr, "gen_bench: %s\n", err->msg);
    exit(1);
}

static int cmd_frames(uint64_t episodes, uint32_t size)
{
    struct mvot_gen_config cfg;
    struct mvot_error err = {0};
    mvot_gen_config_default(&cfg);
    cfg.image_size = size;
    printf("{\"size\": %u, \"tasks\": {", size);
    for (int t = 0; t < MVOT_TASK_COUNT; t++) {
        uint64_t frames = 0;
        uint32_t f;
        double t0 = cpu_s();
        for (uint64_t i = 0; i < episodes; i++) {
            if (mvot_gen_render_bench(&cfg, (enum mvot_task)t, i, 0, &f, &err) != MVOT_OK)
                die(&err);
            frames += f;
        }
        double t1 = cpu_s();
        for (uint64_t i = 0; i < episodes; i++)
            if (mvot_gen_render_bench(&cfg, (enum mvot_task)t, i, 1, &f, &err) != MVOT_OK)
                die(&err);
        double t2 = cpu_s();
        double render = t1 - t0, full = t2 - t1;
        printf("%s\"%s\": {\"frames\": %llu, \"render_fps\": %.1f, \"full_fps\": %.1f, "
               "\"png_share\": %.3f}",
               t ? ", " : "", mvot_task_name((enum mvot_task)t), (unsigned long long)frames,
               (double)frames / render, (double)frames / full, (full - render) / full);
    }
    printf("}}\n");
    return 0;
}

/* Applies one PNG filter type (0 none, 1 sub, 2 up) to every row, like PNG does, into out
 * (h rows of 1 + w*3 bytes). */
static void filter_rows(const struct mvot_image *img, int type, uint8_t *out)
{
    size_t stride = (size_t)img->w * 3;
    for (uint32_t y = 0; y < img->h; y++) {
        const uint8_t *row = img->px + y * stride, *prev = y ? row - stride : NULL;
        uint8_t *o = out + y * (stride + 1);
        o[0] = (uint8_t)type;
        for (size_t i = 0; i < stride; i++) {
            uint8_t v = row[i];
            if (type == 1)
                v = (uint8_t)(v - (i >= 3 ? row[i - 3] : 0));
            else if (type == 2)
                v = (uint8_t)(v - (prev ? prev[i] : 0));
            o[1 + i] = v;
        }
    }
}

static size_t deflate_buf(const uint8_t *in, size_t len, int level, int strategy, uint8_t *out,
                          size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, level, Z_DEFLATED, 15, 8, strategy);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    deflate(&zs, Z_FINISH);
    size_t n = zs.total_out;
    deflateEnd(&zs);
    return n;
}

struct popt {
    const char *name;
    int level, strategy, filters, single; /* single: the one filter type, or -1 (adaptive) */
};

static int cmd_png(uint64_t episodes)
{
    struct mvot_gen_config cfg;
    struct mvot_error err = {0};
    mvot_gen_config_default(&cfg);
    cfg.image_size = 512;
    /* Collect real frames of every task. */
    size_t cap = 4096, n = 0;
    struct mvot_image *imgs = malloc(cap * sizeof *imgs);
    for (int t = 0; t < MVOT_TASK_COUNT; t++)
        for (uint64_t i = 0; i < episodes; i++) {
            struct mvot_episode ep;
            if (mvot_gen_one(&cfg, (enum mvot_task)t, i, &ep, &err) != MVOT_OK)
                die(&err);
            for (uint32_t k = 0; k < ep.n_frames && n < cap; k++)
                if (mvot_png_decode(ep.frame_png[k], ep.frame_png_len[k], "f", &imgs[n++], &err) !=
                    MVOT_OK)
                    die(&err);
            mvot_episode_free(&ep);
        }
    struct mvot_png_opts def;
    mvot_png_opts_default(&def);
    static const struct popt opts[] = {
        {"l1-rle-none", 1, Z_RLE, PNG_FILTER_NONE, 0},
        {"l1-rle-sub", 1, Z_RLE, PNG_FILTER_SUB, 1},
        {"l1-rle-up", 1, Z_RLE, PNG_FILTER_UP, 2},
        {"l1-rle-none|sub|up", 1, Z_RLE, PNG_FILTER_NONE | PNG_FILTER_SUB | PNG_FILTER_UP, -1},
        {"l1-default-up", 1, Z_DEFAULT_STRATEGY, PNG_FILTER_UP, 2},
        {"l1-default-none", 1, Z_DEFAULT_STRATEGY, PNG_FILTER_NONE, 0},
        {"l1-default-sub", 1, Z_DEFAULT_STRATEGY, PNG_FILTER_SUB, 1},
        {"l2-default-none", 2, Z_DEFAULT_STRATEGY, PNG_FILTER_NONE, 0},
        {"l1-filtered-none", 1, Z_FILTERED, PNG_FILTER_NONE, 0},
        {"l3-rle-up", 3, Z_RLE, PNG_FILTER_UP, 2},
        {"l6-default-all", 6, Z_DEFAULT_STRATEGY, PNG_ALL_FILTERS, -1},
    };
    size_t raw = (size_t)512 * (512 * 3 + 1);
    uint8_t *filt = malloc(raw), *zout = malloc(compressBound(raw));
    printf("{\"frames\": %zu, \"default\": {\"level\": %d, \"strategy\": %d, \"filters\": %d}, "
           "\"options\": [",
           n, def.zlib_level, def.zlib_strategy, def.filters);
    for (size_t o = 0; o < sizeof opts / sizeof opts[0]; o++) {
        struct mvot_png_opts po = {opts[o].level, opts[o].strategy, opts[o].filters};
        size_t bytes = 0, zbytes = 0;
        double t0 = cpu_s();
        for (size_t i = 0; i < n; i++) {
            uint8_t *buf;
            size_t len;
            if (mvot_png_encode(&imgs[i], &po, &buf, &len, &err) != MVOT_OK)
                die(&err);
            bytes += len;
            free(buf);
        }
        double t1 = cpu_s(), tz = 0;
        if (opts[o].single >= 0) {
            /* Only the deflate of the already-filtered rows is timed: the format's floor. */
            for (size_t i = 0; i < n; i++) {
                filter_rows(&imgs[i], opts[o].single, filt);
                double a = cpu_s();
                zbytes += deflate_buf(filt, raw, opts[o].level, opts[o].strategy, zout,
                                      compressBound(raw));
                tz += cpu_s() - a;
            }
        }
        double tp = t1 - t0;
        printf("%s{\"name\": \"%s\", \"png_ms\": %.3f, \"png_kb\": %.1f", o ? ", " : "",
               opts[o].name, 1e3 * tp / (double)n, (double)bytes / 1024.0 / (double)n);
        if (tz > 0)
            printf(", \"filter_zlib_ms\": %.3f, \"zlib_kb\": %.1f, \"png_over_zlib\": %.2f",
                   1e3 * tz / (double)n, (double)zbytes / 1024.0 / (double)n, tp / tz);
        printf("}");
    }
    printf("]}\n");
    for (size_t i = 0; i < n; i++)
        mvot_image_free(&imgs[i]);
    free(imgs);
    free(filt);
    free(zout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "frames") == 0)
        return cmd_frames(strtoull(argv[2], NULL, 10), (uint32_t)strtoul(argv[3], NULL, 10));
    if (argc >= 3 && strcmp(argv[1], "png") == 0)
        return cmd_png(strtoull(argv[2], NULL, 10));
    fprintf(stderr, "usage: gen_bench frames EPISODES SIZE | gen_bench png EPISODES\n");
    return 2;
}
