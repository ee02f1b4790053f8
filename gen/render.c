/* Frame renderer for the three tasks (docs/tasks.md, "Frames" and "Rendering geometry").
 * Every frame is drawn from scratch at the output resolution from the draft and the replayed
 * state, with integer primitives only, so frames are byte-identical on every machine and
 * thread count. The art is our own procedural drawing, sized relative to the cell.
 *
 * Invariant: the board origin and the cell size are multiples of 16 px whenever
 * 16 * n <= available size, so cell boundaries fall on the 16-px token grid. */
#include <string.h>

#include "gen/internal.h"
#include "gen/render.h"

void mvot_board_layout(enum mvot_task task, uint32_t n, uint32_t image_size, struct mvot_board *b)
{
    uint32_t avail = task == MVOT_TASK_MAZE ? image_size - 32 : image_size;
    uint32_t k = avail / (16 * n);
    b->n = n;
    if (k >= 1) {
        b->cell = 16 * k;
        b->x0 = 16 * ((image_size - n * b->cell) / 32);
    } else {
        b->cell = image_size / n;
        b->x0 = (image_size - n * b->cell) / 2;
    }
    b->y0 = b->x0;
}

static const struct mvot_rgb WHITE = {255, 255, 255}, BLACK = {0, 0, 0};
static const struct mvot_rgb RED = {228, 26, 28};

/* Cell centre and size helpers in quarter pixels. */
struct geo {
    int x0, y0, cell; /* pixels */
};
static int cxq(const struct geo *g, uint32_t c)
{
    return MVOT_Q * (g->x0 + (int)c * g->cell) + MVOT_Q * g->cell / 2;
}
static int cyq(const struct geo *g, uint32_t r)
{
    return MVOT_Q * (g->y0 + (int)r * g->cell) + MVOT_Q * g->cell / 2;
}
/* A fraction num/den of the cell, in quarter pixels. */
static int fq(const struct geo *g, int num, int den)
{
    return MVOT_Q * g->cell * num / den;
}

static void fill(struct mvot_image *img, struct mvot_rgb c)
{
    mvot_draw_rect(img, 0, 0, (int)img->w, (int)img->h, c);
}

/* ---- MAZE ---- */

static void arrow(struct mvot_image *img, const struct geo *g, int ax, int ay, int bx, int by)
{
    int w = fq(g, 1, 28) > MVOT_Q * 2 ? fq(g, 1, 28) : MVOT_Q * 2;
    int hl = fq(g, 1, 7), hw = fq(g, 1, 14);
    /* unit direction: moves are axis-aligned */
    int dx = bx > ax ? 1 : bx < ax ? -1 : 0, dy = by > ay ? 1 : by < ay ? -1 : 0;
    mvot_draw_line(img, ax, ay, bx - dx * hl / 2, by - dy * hl / 2, w, RED);
    int tri[6] = {bx,
                  by,
                  bx - dx * hl - dy * hw,
                  by - dy * hl - dx * hw,
                  bx - dx * hl + dy * hw,
                  by - dy * hl + dx * hw};
    mvot_draw_triangle(img, tri, RED);
}

static void render_maze(const struct mvot_draft *d, const struct mvot_trace *t, uint32_t k,
                        const struct geo *g, struct mvot_image *img)
{
    uint32_t n = d->n;
    int C = g->cell;
    fill(img, WHITE);
    /* faint connection lines on every open interior boundary */
    const struct mvot_rgb faint = {235, 235, 235};
    int fw = C / 40 > 1 ? C / 40 : 1;
    for (uint32_t r = 0; r < n; r++)
        for (uint32_t c = 0; c < n; c++) {
            int x = g->x0 + (int)c * C, y = g->y0 + (int)r * C;
            if (c + 1 < n && d->open_right[r * n + c])
                mvot_draw_rect(img, x + C - fw, y, x + C + fw, y + C, faint);
            if (r + 1 < n && d->open_down[r * n + c])
                mvot_draw_rect(img, x, y + C - fw, x + C, y + C + fw, faint);
        }
    /* walls: closed interior boundaries and the outer frame */
    int ww = C / 16 > 2 ? C / 16 : 2, wh = ww / 2;
    for (uint32_t r = 0; r < n; r++)
        for (uint32_t c = 0; c < n; c++) {
            int x = g->x0 + (int)c * C, y = g->y0 + (int)r * C;
            if (c + 1 < n && !d->open_right[r * n + c])
                mvot_draw_rect(img, x + C - wh, y - wh, x + C + ww - wh, y + C + ww - wh, BLACK);
            if (r + 1 < n && !d->open_down[r * n + c])
                mvot_draw_rect(img, x - wh, y + C - wh, x + C + ww - wh, y + C + ww - wh, BLACK);
        }
    int bx0 = g->x0, by0 = g->y0, bx1 = g->x0 + (int)n * C, by1 = g->y0 + (int)n * C;
    mvot_draw_rect(img, bx0 - wh, by0 - wh, bx1 + ww - wh, by0 + ww - wh, BLACK);
    mvot_draw_rect(img, bx0 - wh, by1 - wh, bx1 + ww - wh, by1 + ww - wh, BLACK);
    mvot_draw_rect(img, bx0 - wh, by0 - wh, bx0 + ww - wh, by1 + ww - wh, BLACK);
    mvot_draw_rect(img, bx1 - wh, by0 - wh, bx1 + ww - wh, by1 + ww - wh, BLACK);
    /* letters */
    int scale = C * 2 / 5 / MVOT_GLYPH_H;
    if (scale < 1)
        scale = 1;
    for (int j = 0; j < 4; j++) {
        char s[2] = {(char)('A' + j), 0};
        int tw = mvot_text_width(s, scale), th = MVOT_GLYPH_H * scale;
        int x = g->x0 + d->cand_c[j] * C + (C - tw) / 2;
        int y = g->y0 + d->cand_r[j] * C + (C - th) / 2;
        mvot_draw_text(img, x, y, scale, s, BLACK);
    }
    /* path arrows so far, start dot, x on the current cell */
    for (uint32_t i = 0; i < k; i++)
        arrow(img, g, cxq(g, t->st[i].c), cyq(g, t->st[i].r), cxq(g, t->st[i + 1].c),
              cyq(g, t->st[i + 1].r));
    int dot = fq(g, 1, 14);
    mvot_draw_ellipse(img, cxq(g, d->start_c), cyq(g, d->start_r), dot, dot, RED);
    int xs = fq(g, 1, 12), xw = fq(g, 1, 50) > MVOT_Q ? fq(g, 1, 50) : MVOT_Q;
    int cx = cxq(g, t->st[k].c), cy = cyq(g, t->st[k].r);
    mvot_draw_line(img, cx - xs, cy - xs, cx + xs, cy + xs, xw, RED);
    mvot_draw_line(img, cx - xs, cy + xs, cx + xs, cy - xs, xw, RED);
}

/* ---- FROZENLAKE ---- */

static const struct mvot_rgb ICE = {236, 245, 250}, ICE_EDGE = {180, 200, 230};
static const struct mvot_rgb SNOW = {255, 255, 255}, ICE_STREAK = {204, 230, 255};

static void ice_tile(struct mvot_image *img, int x, int y, int C, uint32_t salt)
{
    mvot_draw_rect(img, x, y, x + C, y + C, ICE);
    /* wind-blown snow: short streaks on a few rows whose offset depends on the cell */
    int sw = C / 32 > 1 ? C / 32 : 1;
    for (int i = 0; i < 4; i++) {
        int yy = y + C * (2 + 5 * i) / 22 + (int)((salt * 7 + (uint32_t)i * 3) % 5) * C / 40;
        int xx = x + (int)((salt * 13 + (uint32_t)i * 11) % 7) * C / 14;
        int len = C * (3 + (int)((salt + (uint32_t)i) % 3)) / 10;
        mvot_draw_rect(img, xx, yy, xx + len, yy + sw, SNOW);
        mvot_draw_rect(img, xx + len / 3, yy + sw, xx + len, yy + 2 * sw, ICE_STREAK);
    }
    mvot_draw_rect(img, x, y, x + C, y + 1, ICE_EDGE);
    mvot_draw_rect(img, x, y + C - 1, x + C, y + C, ICE_EDGE);
    mvot_draw_rect(img, x, y, x + 1, y + C, ICE_EDGE);
    mvot_draw_rect(img, x + C - 1, y, x + C, y + C, ICE_EDGE);
}

static void hole(struct mvot_image *img, const struct geo *g, uint32_t r, uint32_t c, int cracked)
{
    int cx = cxq(g, c), cy = cyq(g, r);
    const struct mvot_rgb rim = {30, 119, 191}, water = {70, 160, 225}, shine = {160, 215, 245};
    const struct mvot_rgb deep = {12, 40, 80}, dark = {25, 70, 130};
    mvot_draw_ellipse(img, cx, cy, fq(g, 42, 100), fq(g, 38, 100), rim);
    if (!cracked) {
        mvot_draw_ellipse(img, cx, cy, fq(g, 37, 100), fq(g, 33, 100), water);
        for (int i = -1; i <= 1; i++)
            mvot_draw_line(img, cx + i * fq(g, 12, 100) - fq(g, 12, 100), cy + fq(g, 12, 100),
                           cx + i * fq(g, 12, 100) + fq(g, 8, 100), cy - fq(g, 12, 100),
                           fq(g, 1, 25), shine);
        return;
    }
    mvot_draw_ellipse(img, cx, cy, fq(g, 37, 100), fq(g, 33, 100), dark);
    mvot_draw_ellipse(img, cx, cy, fq(g, 22, 100), fq(g, 18, 100), deep);
    /* cracks radiating from the centre */
    static const int cr[6][4] = {{-40, -10, -20, -4}, {38, -16, 18, -2}, {-10, 34, -4, 14},
                                 {12, -34, 4, -14},   {30, 22, 12, 8},   {-32, 24, -12, 6}};
    const struct mvot_rgb crack = {225, 240, 250};
    for (int i = 0; i < 6; i++)
        mvot_draw_line(img, cx + fq(g, cr[i][0], 100), cy + fq(g, cr[i][1], 100),
                       cx + fq(g, cr[i][2], 100), cy + fq(g, cr[i][3], 100), fq(g, 1, 30), crack);
}

static void gift(struct mvot_image *img, const struct geo *g, uint32_t r, uint32_t c)
{
    int x = g->x0 + (int)c * g->cell, y = g->y0 + (int)r * g->cell, C = g->cell;
    const struct mvot_rgb box = {70, 82, 128}, lid = {86, 100, 150}, ribbon = {236, 146, 40};
    mvot_draw_rect(img, x + C * 24 / 100, y + C * 42 / 100, x + C * 76 / 100, y + C * 80 / 100,
                   box);
    mvot_draw_rect(img, x + C * 20 / 100, y + C * 34 / 100, x + C * 80 / 100, y + C * 46 / 100,
                   lid);
    mvot_draw_rect(img, x + C * 45 / 100, y + C * 34 / 100, x + C * 55 / 100, y + C * 80 / 100,
                   ribbon);
    mvot_draw_rect(img, x + C * 20 / 100, y + C * 38 / 100, x + C * 80 / 100, y + C * 42 / 100,
                   ribbon);
    int bx = cxq(g, c), by = MVOT_Q * (y + C * 30 / 100);
    mvot_draw_ellipse(img, bx - fq(g, 9, 100), by, fq(g, 9, 100), fq(g, 6, 100), ribbon);
    mvot_draw_ellipse(img, bx + fq(g, 9, 100), by, fq(g, 9, 100), fq(g, 6, 100), ribbon);
}

static void stool(struct mvot_image *img, const struct geo *g, uint32_t r, uint32_t c)
{
    int x = g->x0 + (int)c * g->cell, y = g->y0 + (int)r * g->cell, C = g->cell;
    const struct mvot_rgb seat = {128, 74, 56}, leg = {90, 50, 40};
    mvot_draw_rect(img, x + C * 40 / 100, y + C * 44 / 100, x + C * 60 / 100, y + C * 54 / 100,
                   seat);
    mvot_draw_rect(img, x + C * 41 / 100, y + C * 54 / 100, x + C * 45 / 100, y + C * 62 / 100,
                   leg);
    mvot_draw_rect(img, x + C * 55 / 100, y + C * 54 / 100, x + C * 59 / 100, y + C * 62 / 100,
                   leg);
}

static void elf(struct mvot_image *img, const struct geo *g, uint32_t r, uint32_t c, int facing)
{
    int x = g->x0 + (int)c * g->cell, y = g->y0 + (int)r * g->cell, C = g->cell;
    const struct mvot_rgb hat = {46, 150, 70}, skin = {242, 200, 160}, tunic = {200, 50, 50};
    const struct mvot_rgb belt = {60, 40, 30}, boots = {70, 45, 30}, eye = {30, 30, 30};
    const struct mvot_rgb hair = {150, 90, 40};
    /* legs and body */
    mvot_draw_rect(img, x + C * 40 / 100, y + C * 70 / 100, x + C * 47 / 100, y + C * 80 / 100,
                   boots);
    mvot_draw_rect(img, x + C * 53 / 100, y + C * 70 / 100, x + C * 60 / 100, y + C * 80 / 100,
                   boots);
    mvot_draw_rect(img, x + C * 36 / 100, y + C * 50 / 100, x + C * 64 / 100, y + C * 71 / 100,
                   tunic);
    mvot_draw_rect(img, x + C * 36 / 100, y + C * 62 / 100, x + C * 64 / 100, y + C * 65 / 100,
                   belt);
    /* head */
    int hx0 = x + C * 38 / 100, hx1 = x + C * 62 / 100, hy0 = y + C * 32 / 100,
        hy1 = y + C * 51 / 100;
    mvot_draw_rect(img, hx0, hy0, hx1, hy1, facing == MVOT_DIR_UP ? hair : skin);
    /* pointed hat, tip leaning away from the facing side */
    int lean = facing == MVOT_DIR_LEFT ? 1 : facing == MVOT_DIR_RIGHT ? -1 : 0;
    int tri[6] = {MVOT_Q * (x + C * 34 / 100),
                  MVOT_Q * (y + C * 34 / 100),
                  MVOT_Q * (x + C * 66 / 100),
                  MVOT_Q * (y + C * 34 / 100),
                  MVOT_Q * (x + C * (50 + 14 * lean) / 100),
                  MVOT_Q * (y + C * 14 / 100)};
    mvot_draw_triangle(img, tri, hat);
    /* eyes show the facing: both for down, one on the side for left/right, none from behind */
    int es = C / 24 > 1 ? C / 24 : 1, ey = y + C * 40 / 100;
    if (facing == MVOT_DIR_DOWN) {
        mvot_draw_rect(img, x + C * 43 / 100, ey, x + C * 43 / 100 + es, ey + es, eye);
        mvot_draw_rect(img, x + C * 55 / 100, ey, x + C * 55 / 100 + es, ey + es, eye);
    } else if (facing == MVOT_DIR_LEFT) {
        mvot_draw_rect(img, x + C * 40 / 100, ey, x + C * 40 / 100 + es, ey + es, eye);
        mvot_draw_rect(img, x + C * 30 / 100, y + C * 52 / 100, x + C * 36 / 100, y + C * 58 / 100,
                       skin); /* hand reaching forward */
    } else if (facing == MVOT_DIR_RIGHT) {
        mvot_draw_rect(img, x + C * 58 / 100, ey, x + C * 58 / 100 + es, ey + es, eye);
        mvot_draw_rect(img, x + C * 64 / 100, y + C * 52 / 100, x + C * 70 / 100, y + C * 58 / 100,
                       skin);
    }
}

static void render_frozenlake(const struct mvot_draft *d, const struct mvot_trace *t, uint32_t k,
                              const struct geo *g, struct mvot_image *img)
{
    uint32_t n = d->n;
    const struct mvot_wstate *s = &t->st[k];
    fill(img, WHITE);
    for (uint32_t r = 0; r < n; r++)
        for (uint32_t c = 0; c < n; c++) {
            ice_tile(img, g->x0 + (int)c * g->cell, g->y0 + (int)r * g->cell, g->cell, r * n + c);
            char tile = d->desc[r * n + c];
            int here = s->r == r && s->c == c;
            if (tile == 'H')
                hole(img, g, r, c, here && s->fell);
            else if (tile == 'G')
                gift(img, g, r, c);
            else if (tile == 'S' && !here)
                stool(img, g, r, c);
        }
    if (!s->fell)
        elf(img, g, s->r, s->c, s->facing);
}

/* ---- MINIBEHAVIOR ---- */

static void printer(struct mvot_image *img, int x, int y, int C)
{
    const struct mvot_rgb body = {214, 214, 220}, top = {150, 152, 160}, slot = {40, 40, 44};
    const struct mvot_rgb paper = {255, 255, 255}, led = {60, 200, 90};
    mvot_draw_rect(img, x + C * 18 / 100, y + C * 40 / 100, x + C * 82 / 100, y + C * 78 / 100,
                   body);
    mvot_draw_rect(img, x + C * 26 / 100, y + C * 28 / 100, x + C * 74 / 100, y + C * 42 / 100,
                   top);
    mvot_draw_rect(img, x + C * 32 / 100, y + C * 18 / 100, x + C * 68 / 100, y + C * 30 / 100,
                   paper);
    mvot_draw_rect(img, x + C * 28 / 100, y + C * 58 / 100, x + C * 72 / 100, y + C * 62 / 100,
                   slot);
    mvot_draw_rect(img, x + C * 70 / 100, y + C * 46 / 100, x + C * 76 / 100, y + C * 52 / 100,
                   led);
}

static void render_minibehavior(const struct mvot_draft *d, const struct mvot_trace *t, uint32_t k,
                                const struct geo *g, struct mvot_image *img)
{
    uint32_t n = d->n;
    int C = g->cell;
    const struct mvot_wstate *s = &t->st[k];
    const struct mvot_rgb floor = {28, 28, 32}, line = {72, 72, 78}, wall = {112, 112, 116};
    const struct mvot_rgb wall_edge = {90, 90, 94}, table = {205, 165, 112},
                          table_edge = {160, 118, 70};
    const struct mvot_rgb agent = {222, 40, 40};
    fill(img, floor);
    for (uint32_t r = 0; r < n; r++)
        for (uint32_t c = 0; c < n; c++) {
            int x = g->x0 + (int)c * C, y = g->y0 + (int)r * C;
            uint8_t kind = d->kind[r * n + c];
            if (kind == MVOT_MB_WALL) {
                mvot_draw_rect(img, x, y, x + C, y + C, wall_edge);
                mvot_draw_rect(img, x + 1, y + 1, x + C - 1, y + C - 1, wall);
            } else {
                mvot_draw_rect(img, x, y, x + C, y + C, line);
                mvot_draw_rect(img, x + 1, y + 1, x + C - 1, y + C - 1, floor);
                if (kind == MVOT_MB_TABLE) {
                    int e = C / 16 > 1 ? C / 16 : 1;
                    mvot_draw_rect(img, x + 1, y + 1, x + C - 1, y + C - 1, table_edge);
                    mvot_draw_rect(img, x + 1 + e, y + 1 + e, x + C - 1 - e, y + C - 1 - e, table);
                }
            }
        }
    if (s->printer_where != MVOT_PR_CARRIED)
        printer(img, g->x0 + s->printer_c * C, g->y0 + s->printer_r * C, C);
    int cx = cxq(g, s->c), cy = cyq(g, s->r), a = fq(g, 36, 100), b = fq(g, 30, 100);
    int dx = mvot_dir_dc[s->facing], dy = mvot_dir_dr[s->facing];
    int tri[6] = {cx + dx * a,          cy + dy * a,          cx - dx * a + dy * b,
                  cy - dy * a + dx * b, cx - dx * a - dy * b, cy - dy * a - dx * b};
    mvot_draw_triangle(img, tri, agent);
    if (s->printer_where == MVOT_PR_CARRIED) /* carried: a small printer in the corner */
        printer(img, g->x0 + s->c * C, g->y0 + s->r * C, C / 2);
}

void mvot_render_frame(const struct mvot_draft *d, const struct mvot_trace *t, uint32_t k,
                       const struct mvot_board *b, struct mvot_image *img)
{
    struct geo g = {(int)b->x0, (int)b->y0, (int)b->cell};
    switch (d->task) {
    case MVOT_TASK_MAZE: render_maze(d, t, k, &g, img); break;
    case MVOT_TASK_FROZENLAKE: render_frozenlake(d, t, k, &g, img); break;
    case MVOT_TASK_MINIBEHAVIOR: render_minibehavior(d, t, k, &g, img); break;
    }
}
