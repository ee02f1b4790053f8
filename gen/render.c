/* Frame renderer for the three tasks (docs/tasks.md, "Frames" and "Rendering geometry").
 * Every frame is drawn from scratch at the output resolution from the draft and the replayed
 * state, with integer primitives only, so frames are byte-identical on every machine and
 * thread count. The art is our own procedural drawing, sized relative to the cell.
 *
 * Invariant (grid style): the board origin and the cell size are multiples of 16 px whenever
 * 16 * n <= available size, so cell boundaries fall on the 16-px token grid. The official
 * style gives up that invariant to draw the geometry the official evaluator looks at. */
#include <string.h>

#include "gen/internal.h"
#include "gen/render.h"

/* The official maze canvas: 640x480 with the maze square at column 147, row 61, side 362 px,
 * the numbers the official evaluator uses to find cells (see render_maze_official). */
#define OFF_W MVOT_OFFICIAL_MAZE_W
#define OFF_H MVOT_OFFICIAL_MAZE_H
#define OFF_X0 147
#define OFF_Y0 61
#define OFF_SIDE 362

static int official(const struct mvot_style *s)
{
    return s && s->kind == MVOT_GEN_STYLE_OFFICIAL;
}

void mvot_board_layout(enum mvot_task task, uint32_t n, uint32_t image_size,
                       const struct mvot_style *style, struct mvot_board *b)
{
    uint32_t cell, x0;
    b->n = n;
    b->style = style;
    if (official(style) && task == MVOT_TASK_MAZE) {
        /* The evaluator's boxes: cells of 362 // n canvas px from the square's corner, each
         * edge scaled to the frame and truncated (int(x / 640 * 512) at S = 512). */
        uint32_t q = OFF_SIDE / n;
        for (uint32_t i = 0; i <= n; i++) {
            b->xs[i] = (OFF_X0 + i * q) * image_size / OFF_W;
            b->ys[i] = (OFF_Y0 + i * q) * image_size / OFF_H;
        }
        return;
    }
    if (official(style)) {
        /* MiniBehavior as the evaluator assumes (cells of S // n from the top-left corner),
         * FrozenLake as Gymnasium draws it. */
        cell = image_size / n;
        x0 = 0;
    } else {
        uint32_t avail = task == MVOT_TASK_MAZE ? image_size - 32 : image_size;
        uint32_t k = avail / (16 * n);
        if (k >= 1) {
            cell = 16 * k;
            x0 = 16 * ((image_size - n * cell) / 32);
        } else {
            cell = image_size / n;
            x0 = (image_size - n * cell) / 2;
        }
    }
    for (uint32_t i = 0; i <= n; i++)
        b->xs[i] = b->ys[i] = x0 + i * cell;
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

/* ---- MAZE, official geometry ----
 * The official frames are 640x480 pictures that the official loader and the model see squashed
 * to a square, and the evaluator looks for the red path in that squashed square. We draw the
 * squashed picture directly at S x S: every length below is in half pixels of the 640x480
 * canvas (proportions measured on the official sample frames) and maps to quarter pixels of
 * the frame per axis, so the dot becomes an ellipse exactly as in a resized official frame. */
struct ogeo {
    int W, H, q; /* frame size (640x480 gives the canvas itself); cell in canvas px (362 // n) */
};
static int ox(const struct ogeo *o, int v2)
{
    return (int)((int64_t)v2 * MVOT_Q * o->W / (2 * OFF_W));
}
static int oy(const struct ogeo *o, int v2)
{
    return (int)((int64_t)v2 * MVOT_Q * o->H / (2 * OFF_H));
}
/* Cell centre / edge in canvas half pixels. */
static int ocx(const struct ogeo *o, int c)
{
    return 2 * OFF_X0 + (2 * c + 1) * o->q;
}
static int ocy(const struct ogeo *o, int r)
{
    return 2 * OFF_Y0 + (2 * r + 1) * o->q;
}

/* Filled box given in canvas half pixels: the frame pixels whose centres fall inside. */
static void obox(struct mvot_image *img, const struct ogeo *o, int x0, int y0, int x1, int y1,
                 struct mvot_rgb c)
{
    int qx0 = ox(o, x0 < x1 ? x0 : x1), qx1 = ox(o, x0 < x1 ? x1 : x0);
    int qy0 = oy(o, y0 < y1 ? y0 : y1), qy1 = oy(o, y0 < y1 ? y1 : y0);
    /* pixel p's centre 4p+2 lies in [q0, q1) for p in [ceil((q0-2)/4), ceil((q1-2)/4)) */
    mvot_draw_rect(img, (qx0 + 1) / MVOT_Q, (qy0 + 1) / MVOT_Q, (qx1 + 1) / MVOT_Q,
                   (qy1 + 1) / MVOT_Q, c);
}

/* Canvas proportions, in half pixels: faint grid line and wall half widths, path half width,
 * start dot radius, arrowhead length and half width, the x mark's half size and width. */
enum { O_FAINT = 7, O_WALL = 9, O_PATH = 5, O_DOT = 15, O_HEAD = 48, O_HEADW = 15 };
enum { O_XS = 12, O_XW = 3, O_CAP_H = 62, O_CAP_W = 54 };

static void render_maze_official(const struct mvot_draft *d, const struct mvot_trace *t, uint32_t k,
                                 const struct mvot_board *b, struct mvot_image *img)
{
    const int n = (int)d->n;
    const struct ogeo o = {(int)img->w, (int)img->h, OFF_SIDE / n};
    const int L = 2 * OFF_X0, T = 2 * OFF_Y0, side = 2 * o.q * n;
    const struct mvot_rgb faint = {246, 246, 246}, red = {255, 0, 0};
    fill(img, WHITE);
    for (int i = 1; i < n; i++) {
        obox(img, &o, L + 2 * i * o.q - O_FAINT, T, L + 2 * i * o.q + O_FAINT, T + side, faint);
        obox(img, &o, L, T + 2 * i * o.q - O_FAINT, L + side, T + 2 * i * o.q + O_FAINT, faint);
    }
    /* walls with square caps half a wall past each end, so that corners close */
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++) {
            int x = L + 2 * c * o.q, y = T + 2 * r * o.q, e = 2 * o.q;
            if (c + 1 < n && !d->open_right[r * n + c])
                obox(img, &o, x + e - O_WALL, y - O_WALL, x + e + O_WALL, y + e + O_WALL, BLACK);
            if (r + 1 < n && !d->open_down[r * n + c])
                obox(img, &o, x - O_WALL, y + e - O_WALL, x + e + O_WALL, y + e + O_WALL, BLACK);
        }
    obox(img, &o, L - O_WALL, T - O_WALL, L + side + O_WALL, T + O_WALL, BLACK);
    obox(img, &o, L - O_WALL, T + side - O_WALL, L + side + O_WALL, T + side + O_WALL, BLACK);
    obox(img, &o, L - O_WALL, T - O_WALL, L + O_WALL, T + side + O_WALL, BLACK);
    obox(img, &o, L + side - O_WALL, T - O_WALL, L + side + O_WALL, T + side + O_WALL, BLACK);
    /* letters: cap height and width of the official labels, rounded to whole font pixels */
    int sy = (oy(&o, O_CAP_H) + 2 * MVOT_GLYPH_H) / (MVOT_Q * MVOT_GLYPH_H);
    int sx = (ox(&o, O_CAP_W) + 2 * MVOT_GLYPH_W) / (MVOT_Q * MVOT_GLYPH_W);
    for (int j = 0; j < 4; j++) {
        char s[2] = {(char)('A' + j), 0};
        int x = ox(&o, ocx(&o, d->cand_c[j])) / MVOT_Q - MVOT_GLYPH_W * (sx < 1 ? 1 : sx) / 2;
        int y = oy(&o, ocy(&o, d->cand_r[j])) / MVOT_Q - MVOT_GLYPH_H * (sy < 1 ? 1 : sy) / 2;
        mvot_draw_text_xy(img, x, y, sx, sy, s, BLACK);
    }
    /* path: a line from centre to centre ending in an arrowhead whose tip is the centre */
    for (uint32_t i = 0; i < k; i++) {
        int ax = ocx(&o, t->st[i].c), ay = ocy(&o, t->st[i].r);
        int bx = ocx(&o, t->st[i + 1].c), by = ocy(&o, t->st[i + 1].r);
        int dx = bx > ax ? 1 : bx < ax ? -1 : 0, dy = by > ay ? 1 : by < ay ? -1 : 0;
        int baseX = bx - dx * O_HEAD, baseY = by - dy * O_HEAD;
        obox(img, &o, ax - dy * O_PATH, ay - dx * O_PATH, baseX + dy * O_PATH, baseY + dx * O_PATH,
             red);
        int tri[6] = {ox(&o, bx),
                      oy(&o, by),
                      ox(&o, baseX - dy * O_HEADW),
                      oy(&o, baseY - dx * O_HEADW),
                      ox(&o, baseX + dy * O_HEADW),
                      oy(&o, baseY + dx * O_HEADW)};
        mvot_draw_triangle(img, tri, red);
    }
    mvot_draw_ellipse(img, ox(&o, ocx(&o, d->start_c)), oy(&o, ocy(&o, d->start_r)), ox(&o, O_DOT),
                      oy(&o, O_DOT), red);
    int cx = ocx(&o, t->st[k].c), cy = ocy(&o, t->st[k].r), xw = ox(&o, O_XW);
    mvot_draw_line(img, ox(&o, cx - O_XS), oy(&o, cy - O_XS), ox(&o, cx + O_XS), oy(&o, cy + O_XS),
                   xw, red);
    mvot_draw_line(img, ox(&o, cx - O_XS), oy(&o, cy + O_XS), ox(&o, cx + O_XS), oy(&o, cy - O_XS),
                   xw, red);
    (void)b;
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
    mvot_draw_outline(img, x, y, x + C, y + C, 1, ICE_EDGE);
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

/* A sprite scaled to a C x C cell by nearest neighbour (as pygame's plain scale) and laid over
 * the frame with its alpha. */
static void blit(struct mvot_image *img, int x, int y, int C, const struct mvot_image *sp)
{
    for (int j = 0; j < C; j++) {
        if (y + j < 0 || y + j >= (int)img->h)
            continue;
        const uint8_t *srow =
            sp->px + (size_t)((uint32_t)j * sp->h / (uint32_t)C) * sp->w * sp->channels;
        for (int i = 0; i < C; i++) {
            if (x + i < 0 || x + i >= (int)img->w)
                continue;
            const uint8_t *p = srow + (size_t)((uint32_t)i * sp->w / (uint32_t)C) * sp->channels;
            uint8_t *q = img->px + ((size_t)(y + j) * img->w + (size_t)(x + i)) * img->channels;
            unsigned a = sp->channels == 4 ? p[3] : 255;
            for (int ch = 0; ch < 3; ch++)
                q[ch] = (uint8_t)((p[ch] * a + q[ch] * (255 - a) + 127) / 255);
        }
    }
}

/* Gymnasium's drawing order: ice everywhere, then the hole, goal or start stool of the tile, a
 * one-pixel cell border, and on the agent's cell the elf facing its last move or, after a fall,
 * the cracked hole. */
static void render_frozenlake_sprites(const struct mvot_draft *d, const struct mvot_trace *t,
                                      uint32_t k, const struct geo *g,
                                      const struct mvot_sprites *sp, struct mvot_image *img)
{
    uint32_t n = d->n;
    int C = g->cell;
    const struct mvot_wstate *s = &t->st[k];
    fill(img, WHITE);
    for (uint32_t r = 0; r < n; r++)
        for (uint32_t c = 0; c < n; c++) {
            int x = g->x0 + (int)c * C, y = g->y0 + (int)r * C;
            char tile = d->desc[r * n + c];
            blit(img, x, y, C, &sp->img[MVOT_SPRITE_ICE]);
            if (tile == 'H')
                blit(img, x, y, C, &sp->img[MVOT_SPRITE_HOLE]);
            else if (tile == 'G')
                blit(img, x, y, C, &sp->img[MVOT_SPRITE_GOAL]);
            else if (tile == 'S')
                blit(img, x, y, C, &sp->img[MVOT_SPRITE_STOOL]);
            mvot_draw_outline(img, x, y, x + C, y + C, 1, ICE_EDGE);
        }
    int x = g->x0 + (int)s->c * C, y = g->y0 + (int)s->r * C;
    blit(img, x, y, C,
         &sp->img[s->fell ? MVOT_SPRITE_CRACKED_HOLE : MVOT_SPRITE_ELF + (s->facing & 3)]);
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
    /* every board but the official maze has square cells of one size */
    struct geo g = {(int)b->xs[0], (int)b->ys[0], (int)(b->xs[1] - b->xs[0])};
    const struct mvot_sprites *sp = b->style ? b->style->sprites : NULL;
    switch (d->task) {
    case MVOT_TASK_MAZE:
        if (official(b->style))
            render_maze_official(d, t, k, b, img);
        else
            render_maze(d, t, k, &g, img);
        break;
    case MVOT_TASK_FROZENLAKE:
        if (official(b->style) && sp)
            render_frozenlake_sprites(d, t, k, &g, sp, img);
        else
            render_frozenlake(d, t, k, &g, img);
        break;
    case MVOT_TASK_MINIBEHAVIOR: render_minibehavior(d, t, k, &g, img); break;
    }
}
