/* Internals shared by the gen modules: the episode "draft" a task generator fills (layout plus
 * actions), the per-frame world state the simulators derive from it, and the entry points of
 * each task. Nothing here is public; later stages read episodes through gen/episode.h.
 *
 * Invariants: a draft is self-contained (layout + actions determine every frame); actions use
 * one direction code for every task (0 left, 1 down, 2 right, 3 up: FrozenLake's ids), with
 * MINIBEHAVIOR's Pick up = 4 and Drop = 5. */
#ifndef MVOT_GEN_INTERNAL_H
#define MVOT_GEN_INTERNAL_H

#include <stdint.h>

#include "core/png.h"
#include "core/rng.h"
#include "core/status.h"
#include "gen/episode.h"
#include "gen/gen.h"

#define MVOT_GEN_MAX_N 10
#define MVOT_GEN_MAX_CELLS (MVOT_GEN_MAX_N * MVOT_GEN_MAX_N)
#define MVOT_GEN_MAX_STEPS 64
#define MVOT_GEN_MAX_EXTRA 16 /* additional actions; also the generator's cap */

enum { MVOT_DIR_LEFT = 0, MVOT_DIR_DOWN = 1, MVOT_DIR_RIGHT = 2, MVOT_DIR_UP = 3 };
enum { MVOT_ACT_PICKUP = 4, MVOT_ACT_DROP = 5 };

extern const int mvot_dir_dr[4];
extern const int mvot_dir_dc[4];
extern const char *const mvot_action_names[6]; /* "left","down","right","up","pickup","drop" */

/* MINIBEHAVIOR cell kinds. */
enum { MVOT_MB_FLOOR = 0, MVOT_MB_WALL = 1, MVOT_MB_TABLE = 2 };

struct mvot_draft {
    enum mvot_task task;
    uint32_t n;
    uint8_t start_r, start_c; /* agent start (all tasks) */
    uint32_t n_actions;       /* rendered/executed actions (L) */
    uint8_t actions[MVOT_GEN_MAX_STEPS];
    char target; /* the answer the generator aimed for ('A'..) */

    /* MAZE: walls as open flags, candidate cells in letter order. */
    uint8_t open_down[MVOT_GEN_MAX_CELLS], open_right[MVOT_GEN_MAX_CELLS];
    uint8_t cand_r[4], cand_c[4];

    /* FROZENLAKE: env_desc (n*n chars of S/F/H/G, NUL-terminated) and the text-only actions
     * after a fall. */
    char desc[MVOT_GEN_MAX_CELLS + 1];
    uint32_t n_extra;
    uint8_t extra[MVOT_GEN_MAX_EXTRA];

    /* MINIBEHAVIOR: cell kinds, printer cell, initial facing. */
    uint8_t kind[MVOT_GEN_MAX_CELLS];
    uint8_t printer_r, printer_c;
    uint8_t facing0;
};

/* Where the printer is. */
enum { MVOT_PR_FLOOR = 0, MVOT_PR_TABLE = 1, MVOT_PR_CARRIED = 2 };

/* The world after a frame (frame 0 = initial). */
struct mvot_wstate {
    uint8_t r, c;   /* agent cell */
    uint8_t facing; /* MVOT_DIR_* (FROZENLAKE: last move, down before any) */
    uint8_t fell;   /* FROZENLAKE: agent is in a hole */
    uint8_t goal;   /* FROZENLAKE: agent is on G */
    uint8_t printer_r, printer_c, printer_where;
    uint8_t ever_picked;
};

/* Replay of a draft: one state per frame plus the outcome. */
struct mvot_trace {
    uint32_t n_frames;
    struct mvot_wstate st[MVOT_GEN_MAX_STEPS + 1];
    char answer;
    const char *exec_state; /* FROZENLAKE: "success" | "terminated" | "truncated"; else NULL */
};

/* Task generators: fill `d` for grid n aiming at answer `target`. Step range [min, max].
 * They retry internally and fail with MVOT_ERR_INVALID when the range cannot be met.
 * border_walks: FROZENLAKE walks may bump into the border; random_table: MINIBEHAVIOR's table
 * is w x h at random instead of the fixed 3x2 (docs/tasks.md). */
enum mvot_status mvot_maze_draft(struct mvot_rng *rng, uint32_t n, char target, uint32_t min_steps,
                                 uint32_t max_steps, struct mvot_draft *d, struct mvot_error *err);
enum mvot_status mvot_frozenlake_draft(struct mvot_rng *rng, uint32_t n, char target,
                                       uint32_t min_steps, uint32_t max_steps, int border_walks,
                                       struct mvot_draft *d, struct mvot_error *err);
/* FROZENLAKE with a map shared by several episodes: the map (S, G, holes; every outcome
 * possible), then one sequence on it for a target (d keeps the map; actions are replaced). */
void mvot_frozenlake_map(struct mvot_rng *rng, uint32_t n, uint32_t min_steps, uint32_t max_steps,
                         int border_walks, uint32_t per_map, struct mvot_draft *d);
enum mvot_status mvot_frozenlake_on_map(struct mvot_rng *rng, char target, uint32_t min_steps,
                                        uint32_t max_steps, int border_walks, struct mvot_draft *d,
                                        struct mvot_error *err);
enum mvot_status mvot_minibehavior_draft(struct mvot_rng *rng, uint32_t n, char target,
                                         uint32_t min_steps, uint32_t max_steps, int random_table,
                                         struct mvot_draft *d, struct mvot_error *err);

/* Clears d and sets task, n and target after checking them against the task's grid range and
 * answer letters; MVOT_ERR_INVALID otherwise. */
enum mvot_status mvot_draft_begin(struct mvot_draft *d, enum mvot_task task, uint32_t n,
                                  char target, struct mvot_error *err);

/* The search both planned tasks share: after mvot_draft_begin(d, task, n, target), draw an
 * action sequence without looking at the target (`sequence`, 0 when none fits the step
 * range), then up to `placements` layouts for it (`place`, 0 when an attempt cannot be built),
 * until the replay gives the target; up to 64 sequences. */
struct mvot_draft_plan {
    enum mvot_task task;
    uint32_t n;
    char target;
    int (*sequence)(struct mvot_rng *rng, struct mvot_draft *d, uint32_t min_steps,
                    uint32_t max_steps, void *ctx);
    int (*place)(struct mvot_rng *rng, struct mvot_draft *d, uint32_t min_steps, void *ctx);
    uint32_t placements;
    void *ctx;
    const char *what; /* error context, e.g. "gen frozenlake" */
};
enum mvot_status mvot_draft_search(struct mvot_rng *rng, struct mvot_draft *d, uint32_t min_steps,
                                   uint32_t max_steps, const struct mvot_draft_plan *plan,
                                   struct mvot_error *err);

/* Replays a draft. Returns MVOT_ERR_INVALID if an action is impossible for the task (e.g. a
 * maze move through a wall or a FrozenLake action after the episode stopped). */
enum mvot_status mvot_draft_simulate(const struct mvot_draft *d, struct mvot_trace *t,
                                     struct mvot_error *err);

/* MAZE tree path helper (breadth-first over open walls); returns the cell count of the path
 * from (r0,c0) to (r1,c1) written into path (as r*n+c), or 0 if unreachable. */
int mvot_maze_can_move(const struct mvot_draft *d, uint32_t r, uint32_t c, int dir);
uint32_t mvot_maze_path(const struct mvot_draft *d, uint32_t from, uint32_t to, uint8_t *path);

/* FrozenLake sprites read from a user's folder under Gymnasium's file names (we ship none),
 * decoded to RGB or RGBA; elf images in direction-code order (left, down, right, up). */
enum {
    MVOT_SPRITE_ICE,
    MVOT_SPRITE_HOLE,
    MVOT_SPRITE_CRACKED_HOLE,
    MVOT_SPRITE_GOAL,
    MVOT_SPRITE_STOOL,
    MVOT_SPRITE_ELF, /* + direction code */
    MVOT_SPRITE_COUNT = MVOT_SPRITE_ELF + 4
};
struct mvot_sprites {
    struct mvot_image img[MVOT_SPRITE_COUNT];
};
/* Loads every sprite from dir; an absent or unreadable file is an error naming it. */
enum mvot_status mvot_sprites_load(const char *dir, struct mvot_sprites *s, struct mvot_error *err);
void mvot_sprites_free(struct mvot_sprites *s); /* NULL is a no-op */

/* How frames are drawn: the style and, for FrozenLake, optional sprites (borrowed). */
struct mvot_style {
    enum mvot_gen_style kind;
    const struct mvot_sprites *sprites; /* NULL: our own art */
};

/* Geometry of the board in a frame: cell (r, c) covers [xs[c], xs[c+1]) x [ys[r], ys[r+1]).
 * The grid style has square cells of one size; the official maze does not. */
struct mvot_board {
    uint32_t n;
    uint32_t xs[MVOT_GEN_MAX_N + 1], ys[MVOT_GEN_MAX_N + 1];
    const struct mvot_style *style; /* borrowed; NULL = grid style */
};
/* style may be NULL (grid style); the board keeps the pointer. */
void mvot_board_layout(enum mvot_task task, uint32_t n, uint32_t image_size,
                       const struct mvot_style *style, struct mvot_board *b);

/* The official maze canvas (docs/tasks.md, "Styles"): an official-style maze frame of this size
 * is the official picture itself; any other size gets it scaled per axis. */
#define MVOT_OFFICIAL_MAZE_W 640
#define MVOT_OFFICIAL_MAZE_H 480

/* Renders frame k of a draft into img (RGB, already allocated): image_size x image_size, or
 * for the official maze any size (the 640x480 canvas scaled to it). */
void mvot_render_frame(const struct mvot_draft *d, const struct mvot_trace *t, uint32_t k,
                       const struct mvot_board *b, struct mvot_image *img);

/* Per-cell state bytes of frame k (docs/episode-format.md), n*n of them. */
void mvot_cell_states(const struct mvot_draft *d, const struct mvot_trace *t, uint32_t k,
                      uint8_t *out);

#endif
