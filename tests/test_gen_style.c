/* Frame styles of gen (docs/tasks.md, "Styles"): the official style's cell boxes are the
 * official evaluator's boxes (maze) and S/n cells from the corner (MiniBehavior, FrozenLake);
 * --sprites draws a user's Gymnasium FrozenLake sprites (synthetic ones here: flat colours,
 * elves half transparent) in Gymnasium's order; the style and sprites round-trip through the
 * config JSON and are refused where they do not apply. Also the font's descenders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/png.h"
#include "gen/gen.h"
#include "gen/internal.h"
#include "gen/render.h"
#include "tests/test.h"

static void one_size(struct mvot_gen_config *c, enum mvot_task t, uint32_t n)
{
    c->tasks = 1u << t;
    memset(c->size_weight, 0, sizeof c->size_weight);
    c->size_weight[t][n] = 1;
}

static void test_maze_boxes_are_the_evaluators(void)
{
    struct mvot_gen_config c;
    struct mvot_error err = {0};
    mvot_gen_config_default(&c);
    c.style = MVOT_GEN_STYLE_OFFICIAL;
    for (uint32_t n = 3; n <= 6; n++) {
        struct mvot_episode ep;
        one_size(&c, MVOT_TASK_MAZE, n);
        ASSERT_OK(mvot_gen_one(&c, MVOT_TASK_MAZE, 0, &ep, &err), &err);
        ASSERT_EQ_INT(ep.grid, n);
        uint32_t q = 362 / n; /* evaluator.py: get_pixel_location and int(362 / maze_size) */
        for (uint32_t i = 0; i < n * n && ep.cells; i++) {
            uint32_t r = i / n, col = i % n;
            ASSERT_EQ_INT(ep.cells[i].y0, (61 + r * q) * 512 / 480);
            ASSERT_EQ_INT(ep.cells[i].x0, (147 + col * q) * 512 / 640);
            ASSERT_EQ_INT(ep.cells[i].y1, (61 + r * q + q) * 512 / 480);
            ASSERT_EQ_INT(ep.cells[i].x1, (147 + col * q + q) * 512 / 640);
        }
        ASSERT_EQ_STR(json_string_value(json_object_get(ep.record, "style")), "official");
        mvot_episode_free(&ep);
    }
    /* n = 3 spelled out: the box of cell (0, 0) at 512 px */
    one_size(&c, MVOT_TASK_MAZE, 3);
    struct mvot_episode ep;
    ASSERT_OK(mvot_gen_one(&c, MVOT_TASK_MAZE, 0, &ep, &err), &err);
    if (ep.cells) {
        ASSERT_EQ_INT(ep.cells[0].x0, 117);
        ASSERT_EQ_INT(ep.cells[0].y0, 65);
        ASSERT_EQ_INT(ep.cells[0].x1, 213);
        ASSERT_EQ_INT(ep.cells[0].y1, 193);
    }
    mvot_episode_free(&ep);
}

static void test_corner_cells(void)
{
    struct mvot_gen_config c;
    struct mvot_error err = {0};
    mvot_gen_config_default(&c);
    c.style = MVOT_GEN_STYLE_OFFICIAL;
    const uint32_t sizes[] = {512, 256, 128};
    for (int s = 0; s < 3; s++) {
        c.image_size = sizes[s];
        for (uint32_t n = 7; n <= 10; n += 3) {
            struct mvot_episode ep;
            one_size(&c, MVOT_TASK_MINIBEHAVIOR, n);
            ASSERT_OK(mvot_gen_one(&c, MVOT_TASK_MINIBEHAVIOR, 1, &ep, &err), &err);
            uint32_t cell = sizes[s] / n;
            for (uint32_t i = 0; i < n * n && ep.cells; i++) {
                ASSERT_EQ_INT(ep.cells[i].x0, (i % n) * cell);
                ASSERT_EQ_INT(ep.cells[i].y0, (i / n) * cell);
                ASSERT_EQ_INT(ep.cells[i].x1, (i % n + 1) * cell);
            }
            mvot_episode_free(&ep);
        }
    }
    /* the grid style's records carry no "style" field (their bytes did not change) */
    c.style = MVOT_GEN_STYLE_GRID;
    c.image_size = 512;
    struct mvot_episode ep;
    ASSERT_OK(mvot_gen_one(&c, MVOT_TASK_MINIBEHAVIOR, 1, &ep, &err), &err);
    ASSERT_TRUE(json_object_get(ep.record, "style") == NULL);
    ASSERT_EQ_INT(ep.cells[0].x0 % 16, 0);
    mvot_episode_free(&ep);
}

/* Synthetic sprites: each a flat colour 16x16; elves opaque on the left half only. */
static const char *const sprite_names[MVOT_SPRITE_COUNT] = {
    "ice.png",      "hole.png",     "cracked_hole.png", "goal.png",   "stool.png",
    "elf_left.png", "elf_down.png", "elf_right.png",    "elf_up.png",
};
static const uint8_t colour[MVOT_SPRITE_COUNT][3] = {
    {200, 220, 240}, {10, 20, 120}, {90, 10, 10},  {250, 200, 0}, {120, 70, 30},
    {0, 200, 0},     {0, 150, 50},  {0, 100, 100}, {0, 50, 150},
};

static int write_sprites(const char *dir, int skip)
{
    for (int i = 0; i < MVOT_SPRITE_COUNT; i++) {
        if (i == skip)
            continue;
        int elf = i >= MVOT_SPRITE_ELF;
        struct mvot_image im;
        struct mvot_png_opts po;
        struct mvot_error err = {0};
        uint8_t *png = NULL;
        size_t len = 0;
        if (mvot_image_init(&im, 16, 16, elf ? 4 : 3) != MVOT_OK)
            return -1;
        for (uint32_t p = 0; p < 256; p++) {
            memcpy(im.px + p * im.channels, colour[i], 3);
            if (elf)
                im.px[p * 4 + 3] = (p % 16) < 8 ? 255 : 0;
        }
        mvot_png_opts_default(&po);
        char *path = mvot_strdupf("%s/%s", dir, sprite_names[i]);
        int bad = !path || mvot_png_encode(&im, &po, &png, &len, &err) != MVOT_OK ||
                  mvot_io_write_file(path, png, len, &err) != MVOT_OK;
        free(path);
        free(png);
        mvot_image_free(&im);
        if (bad)
            return -1;
    }
    return 0;
}

static void pixel(const struct mvot_image *im, uint32_t x, uint32_t y, uint8_t out[3])
{
    memcpy(out, im->px + ((size_t)y * im->w + x) * im->channels, 3);
}

static void test_sprites(void)
{
    struct mvot_gen_config c;
    struct mvot_error err = {0};
    char *dir = t_tmpdir();
    ASSERT_TRUE(dir && write_sprites(dir, -1) == 0);
    mvot_gen_config_default(&c);
    c.style = MVOT_GEN_STYLE_OFFICIAL;
    c.image_size = 256;
    one_size(&c, MVOT_TASK_FROZENLAKE, 4);
    snprintf(c.sprites, sizeof c.sprites, "%s", dir ? dir : "");
    int checked_fall = 0, checked = 0;
    for (uint64_t idx = 0; idx < 12; idx++) {
        struct mvot_episode ep;
        ASSERT_OK(mvot_gen_one(&c, MVOT_TASK_FROZENLAKE, idx, &ep, &err), &err);
        const char *desc =
            json_string_value(json_object_get(json_object_get(ep.record, "layout"), "env_desc"));
        const char *exec = json_string_value(json_object_get(ep.record, "exec_state"));
        json_t *states = json_object_get(ep.record, "states");
        for (uint32_t k = 0; k < ep.n_frames && desc; k++) {
            struct mvot_image im;
            ASSERT_OK(mvot_png_decode(ep.frame_png[k], ep.frame_png_len[k], "frame", &im, &err),
                      &err);
            json_t *st = json_array_get(states, k);
            uint32_t ar = (uint32_t)json_integer_value(json_array_get(st, 0));
            uint32_t ac = (uint32_t)json_integer_value(json_array_get(st, 1));
            int fell = k + 1 == ep.n_frames && exec && strcmp(exec, "terminated") == 0;
            for (uint32_t i = 0; i < 16; i++) {
                const struct mvot_cell_box *b = &ep.cells[i];
                ASSERT_EQ_INT(b->x1 - b->x0, 256 / 4);
                uint8_t right[3], left[3];
                /* the right half shows the tile under a half-transparent elf */
                pixel(&im, b->x0 + (b->x1 - b->x0) * 3 / 4, (b->y0 + b->y1) / 2, right);
                pixel(&im, b->x0 + (b->x1 - b->x0) / 4, (b->y0 + b->y1) / 2, left);
                char tile = desc[i];
                int want = tile == 'H'   ? MVOT_SPRITE_HOLE
                           : tile == 'G' ? MVOT_SPRITE_GOAL
                           : tile == 'S' ? MVOT_SPRITE_STOOL
                                         : MVOT_SPRITE_ICE;
                int here = i == ar * 4 + ac;
                if (here && fell) {
                    want = MVOT_SPRITE_CRACKED_HOLE;
                    checked_fall = 1;
                }
                ASSERT_TRUE(memcmp(right, colour[want], 3) == 0);
                if (here && !fell) {
                    int facing = 1; /* down before any move, then the last move */
                    if (k > 0)
                        facing = (int)json_integer_value(
                            json_array_get(json_object_get(ep.record, "action_ids"), k - 1));
                    ASSERT_TRUE(memcmp(left, colour[MVOT_SPRITE_ELF + facing], 3) == 0);
                }
                checked++;
            }
            mvot_image_free(&im);
        }
        mvot_episode_free(&ep);
    }
    ASSERT_TRUE(checked > 0);
    ASSERT_TRUE(checked_fall);

    /* a missing sprite names the file */
    char *dir2 = t_tmpdir();
    ASSERT_TRUE(dir2 && write_sprites(dir2, MVOT_SPRITE_GOAL) == 0);
    snprintf(c.sprites, sizeof c.sprites, "%s", dir2 ? dir2 : "");
    struct mvot_episode ep;
    ASSERT_TRUE(mvot_gen_one(&c, MVOT_TASK_FROZENLAKE, 0, &ep, &err) != MVOT_OK);
    ASSERT_CONTAINS(err.msg, "goal.png");
    char cmd[2200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir ? dir : "/nonexistent",
             dir2 ? dir2 : "/nonexistent");
    ASSERT_EQ_INT(system(cmd), 0);
    free(dir);
    free(dir2);
}

static void test_config_json(void)
{
    struct mvot_gen_config c, back;
    struct mvot_error err = {0};
    mvot_gen_config_default(&c);
    c.style = MVOT_GEN_STYLE_OFFICIAL;
    snprintf(c.sprites, sizeof c.sprites, "%s", "/some/gymnasium/img");
    json_t *j = mvot_gen_config_to_json(&c);
    ASSERT_EQ_STR(json_string_value(json_object_get(j, "style")), "official");
    ASSERT_OK(mvot_gen_config_from_json(j, &back, &err), &err);
    ASSERT_EQ_INT(back.style, MVOT_GEN_STYLE_OFFICIAL);
    ASSERT_EQ_STR(back.sprites, "/some/gymnasium/img");
    /* sprites belong to the official style only */
    json_object_set_new(j, "style", json_string("grid"));
    ASSERT_TRUE(mvot_gen_config_from_json(j, &back, &err) != MVOT_OK);
    ASSERT_CONTAINS(err.msg, "sprites");
    json_object_set_new(j, "style", json_string("pretty"));
    ASSERT_TRUE(mvot_gen_config_from_json(j, &back, &err) != MVOT_OK);
    ASSERT_CONTAINS(err.msg, "style");
    json_decref(j);
    mvot_gen_config_default(&c);
    j = mvot_gen_config_to_json(&c);
    ASSERT_EQ_STR(json_string_value(json_object_get(j, "style")), "grid");
    ASSERT_TRUE(json_object_get(j, "sprites") == NULL);
    json_decref(j);
}

/* Ink rows of one glyph drawn at scale 1: g, j, p, q, y reach two rows below the baseline
 * (rows 7 and 8), every other glyph stays within rows 0..6. */
static void test_font_descenders(void)
{
    const char *all = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?";
    for (const char *c = all; *c; c++) {
        struct mvot_image im;
        char s[2] = {*c, 0};
        ASSERT_OK(mvot_image_init(&im, 8, 12, 3), &(struct mvot_error){0});
        memset(im.px, 0, (size_t)8 * 12 * 3);
        mvot_draw_text(&im, 0, 0, 1, s, (struct mvot_rgb){255, 255, 255});
        int below = 0;
        for (int y = MVOT_GLYPH_H; y < 12; y++)
            for (int x = 0; x < 8; x++)
                below += im.px[((size_t)y * 8 + (size_t)x) * 3] != 0;
        int want = strchr("gjpqy", *c) != NULL;
        if ((below > 0) != want)
            T_FAIL("glyph '%c': %d ink pixels below the baseline", *c, below);
        mvot_image_free(&im);
    }
    ASSERT_EQ_INT(MVOT_LINE_H, MVOT_GLYPH_H + MVOT_GLYPH_DESC + 1);
}

TEST_MAIN(test_maze_boxes_are_the_evaluators, test_corner_cells, test_sprites, test_config_json,
          test_font_descenders)
