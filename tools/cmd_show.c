/* `mvot show EPISODES --key KEY --out sheet.png`: a contact sheet of one episode for a person
 * to look at: the question on top, the frames in order with the step text, rationale and
 * caption under each, and the final answer, all drawn with the built-in glyphs (gen/render.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/png.h"
#include "gen/episode.h"
#include "gen/render.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot show EPISODES (--key KEY | --index N) --out SHEET.png [options]\n"
    "\n"
    "Draw a contact sheet of one episode of EPISODES (a gen output dir or episodes.tar.zst):\n"
    "the question, every frame in order with its step text and rationale, and the answer.\n"
    "\n"
    "Options:\n"
    "  --key KEY       episode key, e.g. maze-000003\n"
    "  --index N       the N-th episode of the archive (0-based), if no --key\n"
    "  --out FILE      output PNG (required)\n"
    "  --thumb S       thumbnail size in px (default 256; frames are box-filtered down by an\n"
    "                  integer factor, so S must divide the frame size)\n"
    "  --cols N        frames per row (default 4)\n"
    "\n" MVOT_CLI_COMMON_HELP;

#define TEXT_SCALE 2
#define LINE_H (MVOT_LINE_H * TEXT_SCALE)
#define PAD 12

static const struct mvot_rgb INK = {20, 20, 20}, PAPER = {250, 250, 248}, DIM = {90, 90, 90};

/* Greedy word wrap of `s` into lines of at most `width` chars at text scale `scale`; draws each
 * line (or only counts when img is NULL). Returns the number of lines. */
static int wrap(struct mvot_image *img, int x, int y, int scale, int width, const char *s,
                struct mvot_rgb c, int max_lines)
{
    int lines = 0;
    char buf[512];
    while (*s && lines < max_lines) {
        if (*s == '\n') {
            s++;
            continue;
        }
        size_t len = strcspn(s, "\n");
        size_t take = len;
        if ((int)take > width) {
            take = (size_t)width;
            while (take > 0 && s[take] != ' ')
                take--;
            if (take == 0)
                take = (size_t)width;
        }
        if (take >= sizeof buf)
            take = sizeof buf - 1;
        memcpy(buf, s, take);
        buf[take] = 0;
        if (img)
            mvot_draw_text(img, x, y + lines * MVOT_LINE_H * scale, scale, buf, c);
        lines++;
        s += take;
        while (*s == ' ')
            s++;
    }
    return lines;
}

/* Box-filter downsample by an integer factor into dst at (x, y). */
static void paste(struct mvot_image *dst, int x, int y, const struct mvot_image *src, int f)
{
    uint32_t w = src->w / (uint32_t)f, h = src->h / (uint32_t)f, ch = src->channels;
    for (uint32_t yy = 0; yy < h; yy++)
        for (uint32_t xx = 0; xx < w; xx++) {
            uint32_t acc[3] = {0, 0, 0};
            for (int dy = 0; dy < f; dy++)
                for (int dx = 0; dx < f; dx++) {
                    const uint8_t *p =
                        src->px + ((size_t)(yy * (uint32_t)f + (uint32_t)dy) * src->w +
                                   xx * (uint32_t)f + (uint32_t)dx) *
                                      ch;
                    acc[0] += p[0];
                    acc[1] += p[1];
                    acc[2] += p[2];
                }
            uint8_t *q = dst->px + ((size_t)(y + (int)yy) * dst->w + (size_t)x + xx) * 3;
            for (int k = 0; k < 3; k++)
                q[k] = (uint8_t)(acc[k] / (uint32_t)(f * f));
        }
}

/* The text under frame k: its number and step text, the rest of the rationale, the caption,
 * wrapped to `width` chars at `scale`. Draws when img is set; returns the line count. */
static int tile_text(struct mvot_image *img, int x, int y, int scale, int width,
                     const struct mvot_episode *ep, uint32_t k)
{
    char line[600];
    int lh = MVOT_LINE_H * scale;
    snprintf(line, sizeof line, "%u: %s", k, k == 0 ? ep->init_text : ep->step_text[k - 1]);
    int used = wrap(img, x, y, scale, width, line, INK, 1000);
    if (k > 0) {
        const char *rat = ep->rationale[k - 1];
        const char *dot = strstr(rat, ". ");
        used += wrap(img, x, y + used * lh, scale, width, dot ? dot + 2 : rat, DIM, 1000);
    }
    if (ep->caption)
        used += wrap(img, x, y + used * lh, scale, width, ep->caption[k], DIM, 1000);
    return used;
}

static int render_sheet(struct mvot_cli *cli, const struct mvot_episode *ep, const char *out,
                        uint64_t thumb, uint64_t cols)
{
    struct mvot_error err = {0};
    struct mvot_image sheet = {0};
    int rc = MVOT_EXIT_FAIL;
    if (ep->image_size % thumb != 0)
        return mvot_cli_usage(cli, "--thumb %llu does not divide the frame size %u",
                              (unsigned long long)thumb, ep->image_size);
    int f = (int)(ep->image_size / thumb), T = (int)thumb;
    if (cols > ep->n_frames)
        cols = ep->n_frames;
    int rows = (int)((ep->n_frames + cols - 1) / cols);
    int W = (int)cols * (T + PAD) + PAD;
    int chars = (W - 2 * PAD) / (6 * TEXT_SCALE);
    /* Captions at half size under small thumbnails, so that a tile line holds about 20
     * characters; every tile's text is wrapped to its tile and the rows are as tall as the
     * longest text, so nothing is cut and no text runs into its neighbour. */
    int ts = T >= 20 * 6 * TEXT_SCALE ? TEXT_SCALE : 1, tlh = MVOT_LINE_H * ts;
    int tile_chars = (T + PAD / 2) / (6 * ts), tile_lines = 1;
    for (uint32_t k = 0; k < ep->n_frames; k++) {
        int n = tile_text(NULL, 0, 0, ts, tile_chars, ep, k);
        tile_lines = n > tile_lines ? n : tile_lines;
    }
    int head = wrap(NULL, 0, 0, TEXT_SCALE, chars, ep->instruction, INK, 1000) + 1;
    int tile_h = T + 4 + tile_lines * tlh;
    int tail = wrap(NULL, 0, 0, TEXT_SCALE, chars, ep->final_rationale ? ep->final_rationale : "",
                    DIM, 2) +
               1;
    int H = PAD + head * LINE_H + PAD + rows * (tile_h + PAD) + tail * LINE_H + PAD;
    if (mvot_image_init(&sheet, (uint32_t)W, (uint32_t)H, 3) != MVOT_OK) {
        fprintf(stderr, "%s: cannot allocate a %dx%d sheet\n", cli->cmd, W, H);
        return MVOT_EXIT_FAIL;
    }
    mvot_draw_rect(&sheet, 0, 0, W, H, PAPER);
    int y = PAD;
    char line[600];
    snprintf(line, sizeof line, "%s  (%s, %ux%u, %s)", ep->key, mvot_task_name(ep->task), ep->grid,
             ep->grid, mvot_split_name(ep->split));
    mvot_draw_text(&sheet, PAD, y, TEXT_SCALE, line, DIM);
    y += LINE_H;
    y += wrap(&sheet, PAD, y, TEXT_SCALE, chars, ep->instruction, INK, 1000) * LINE_H + PAD;
    for (uint32_t k = 0; k < ep->n_frames; k++) {
        int x = PAD + (int)(k % cols) * (T + PAD), ty = y + (int)(k / cols) * (tile_h + PAD);
        struct mvot_image fr;
        if (mvot_png_decode(ep->frame_png[k], ep->frame_png_len[k], ep->key, &fr, &err) !=
            MVOT_OK) {
            mvot_image_free(&sheet);
            return mvot_cli_fail(cli, &err);
        }
        if (fr.w == ep->image_size && fr.h == ep->image_size)
            paste(&sheet, x, ty, &fr, f);
        mvot_image_free(&fr);
        tile_text(&sheet, x, ty + T + 4, ts, tile_chars, ep, k);
    }
    y += rows * (tile_h + PAD);
    y += wrap(&sheet, PAD, y, TEXT_SCALE, chars, ep->final_rationale ? ep->final_rationale : "",
              DIM, 2) *
         LINE_H;
    mvot_draw_text(&sheet, PAD, y, TEXT_SCALE, ep->final_text, INK);
    if (mvot_png_write_file(out, &sheet, NULL, &err) != MVOT_OK)
        rc = mvot_cli_fail(cli, &err);
    else
        rc = MVOT_EXIT_OK;
    mvot_image_free(&sheet);
    return rc;
}

int mvot_cmd_show(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {{"key", required_argument, 0, 'k'},
                                         {"index", required_argument, 0, 'i'},
                                         {"out", required_argument, 0, 'o'},
                                         {"thumb", required_argument, 0, 't'},
                                         {"cols", required_argument, 0, 'c'},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    const char *key = NULL, *out = NULL;
    uint64_t index = 0, thumb = 256, cols = 4;
    int have_index = 0, c;
    while ((c = getopt_long(argc, argv, ":hk:i:o:t:c:", opts, NULL)) != -1) {
        switch (c) {
        case 'k': key = optarg; break;
        case 'o': out = optarg; break;
        case 'i':
            if (!mvot_cli_parse_u64(cli, "--index", optarg, 0, UINT32_MAX, &index))
                return MVOT_EXIT_USAGE;
            have_index = 1;
            break;
        case 't':
            if (!mvot_cli_parse_u64(cli, "--thumb", optarg, 16, 4096, &thumb))
                return MVOT_EXIT_USAGE;
            break;
        case 'c':
            if (!mvot_cli_parse_u64(cli, "--cols", optarg, 1, 64, &cols))
                return MVOT_EXIT_USAGE;
            break;
        default: {
            int rc = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
            if (rc >= 0)
                return rc;
        }
        }
    }
    if (optind + 1 != argc)
        return mvot_cli_usage(cli, "expected one EPISODES argument (see --help)");
    if (!out)
        return mvot_cli_usage(cli, "--out FILE is required (see --help)");
    if (!key && !have_index)
        return mvot_cli_usage(cli, "give --key KEY or --index N (see --help)");
    mvot_cli_ready(cli);
    struct mvot_error err = {0};
    struct mvot_episode_reader *r = NULL;
    if (mvot_episode_reader_open(argv[optind], &r, &err) != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    int rc = -1;
    for (uint64_t i = 0; rc < 0; i++) {
        struct mvot_episode ep;
        int done = 0;
        if (mvot_episode_reader_next(r, &ep, &done, &err) != MVOT_OK) {
            rc = mvot_cli_fail(cli, &err);
            break;
        }
        if (done) {
            fprintf(stderr, "%s: episode %s not found in %s\n", cli->cmd, key ? key : "index",
                    argv[optind]);
            rc = MVOT_EXIT_FAIL;
            break;
        }
        if (key ? strcmp(ep.key, key) == 0 : i == index)
            rc = render_sheet(cli, &ep, out, thumb, cols);
        mvot_episode_free(&ep);
    }
    mvot_episode_reader_close(r);
    if (rc == MVOT_EXIT_OK)
        mvot_cli_note(cli, "wrote %s\n", out);
    return rc;
}
