/* MINIBEHAVIOR printer installation (docs/tasks.md, "MINIBEHAVIOR"): a walled room with a
 * table of several cells, a printer on the floor and an agent with a facing. Sequences are
 * planned for a target answer (A installed, B never picked up, C still carried, D dropped on the
 * floor) and accepted only when the replay gives that answer.
 *
 * Invariant: the dynamics used here for planning are those of mvot_draft_simulate; the planner
 * keeps its own copy of the world state and every plan is re-checked by replay. */
#include <string.h>

#include "gen/internal.h"

struct mb_world {
    const struct mvot_draft *d;
    uint32_t r, c;
    int facing;
    uint32_t pr, pc;
    int where;
};

static int mb_free(const struct mb_world *w, uint32_t r, uint32_t c)
{
    uint32_t n = w->d->n;
    if (r >= n || c >= n || w->d->kind[r * n + c] != MVOT_MB_FLOOR)
        return 0;
    return !(w->where == MVOT_PR_FLOOR && w->pr == r && w->pc == c);
}

static int push(struct mvot_draft *d, int a)
{
    if (d->n_actions >= MVOT_GEN_MAX_STEPS)
        return 0;
    d->actions[d->n_actions++] = (uint8_t)a;
    return 1;
}

/* Applies a Go action to the planner's world (same rules as the simulator). */
static void mb_go(struct mb_world *w, int dir)
{
    w->facing = dir;
    uint32_t r = (uint32_t)((int)w->r + mvot_dir_dr[dir]);
    uint32_t c = (uint32_t)((int)w->c + mvot_dir_dc[dir]);
    if (mb_free(w, r, c)) {
        w->r = r;
        w->c = c;
    }
}

/* Random walk of k real moves (only into free cells). */
static int mb_walk(struct mvot_rng *rng, struct mvot_draft *d, struct mb_world *w, uint32_t k)
{
    for (uint32_t i = 0; i < k; i++) {
        int dirs[4], nd = 0;
        for (int dir = 0; dir < 4; dir++)
            if (mb_free(w, (uint32_t)((int)w->r + mvot_dir_dr[dir]),
                        (uint32_t)((int)w->c + mvot_dir_dc[dir])))
                dirs[nd++] = dir;
        if (nd == 0)
            return 1;
        int dir = dirs[mvot_rng_below(rng, (uint64_t)nd)];
        if (!push(d, dir))
            return 0;
        mb_go(w, dir);
    }
    return 1;
}

/* Target predicate kinds for go_face. */
enum { FACE_PRINTER, FACE_TABLE, FACE_FLOOR };

static int is_target(const struct mb_world *w, int what, uint32_t r, uint32_t c)
{
    uint32_t n = w->d->n;
    if (r >= n || c >= n)
        return 0;
    switch (what) {
    case FACE_PRINTER: return w->where != MVOT_PR_CARRIED && w->pr == r && w->pc == c;
    case FACE_TABLE: return w->d->kind[r * n + c] == MVOT_MB_TABLE;
    default: return mb_free(w, r, c);
    }
}

/* Breadth-first path over free cells to a random free cell x from which a neighbour y matches
 * `what`; then faces y. For FACE_TABLE/FACE_PRINTER facing is a blocked Go (a turn); for
 * FACE_FLOOR the last move into x must itself point at a free y (we cannot turn in place
 * toward a free cell without moving), so x is chosen among cells entered in that direction.
 * Returns 1 on success. */
static int go_face(struct mvot_rng *rng, struct mvot_draft *d, struct mb_world *w, int what)
{
    uint32_t n = d->n, cells = n * n;
    int16_t prev[MVOT_GEN_MAX_CELLS];
    int8_t pdir[MVOT_GEN_MAX_CELLS];
    uint8_t queue[MVOT_GEN_MAX_CELLS];
    uint32_t qh = 0, qt = 0;
    for (uint32_t i = 0; i < cells; i++) {
        prev[i] = -1;
        pdir[i] = -1;
    }
    uint32_t from = w->r * n + w->c;
    prev[from] = (int16_t)from;
    queue[qt++] = (uint8_t)from;
    while (qh < qt) {
        uint32_t cur = queue[qh++];
        int order[4] = {0, 1, 2, 3};
        mvot_rng_shuffle(rng, order, 4, sizeof order[0]);
        for (int k = 0; k < 4; k++) {
            uint32_t r = (uint32_t)((int)(cur / n) + mvot_dir_dr[order[k]]);
            uint32_t c = (uint32_t)((int)(cur % n) + mvot_dir_dc[order[k]]);
            if (!mb_free(w, r, c) || prev[r * n + c] >= 0)
                continue;
            prev[r * n + c] = (int16_t)cur;
            pdir[r * n + c] = (int8_t)order[k];
            queue[qt++] = (uint8_t)(r * n + c);
        }
    }
    /* Candidate (x, dir) pairs. */
    uint16_t cand[MVOT_GEN_MAX_CELLS * 4];
    uint32_t nc = 0;
    for (uint32_t x = 0; x < cells; x++) {
        if (prev[x] < 0)
            continue;
        for (int dir = 0; dir < 4; dir++) {
            uint32_t r = (uint32_t)((int)(x / n) + mvot_dir_dr[dir]);
            uint32_t c = (uint32_t)((int)(x % n) + mvot_dir_dc[dir]);
            if (!is_target(w, what, r, c))
                continue;
            if (what == FACE_FLOOR && (x == from || pdir[x] != dir))
                continue;
            cand[nc++] = (uint16_t)(x * 4 + (uint32_t)dir);
        }
    }
    if (nc == 0)
        return 0;
    uint32_t pick = cand[mvot_rng_below(rng, nc)], x = pick / 4;
    int dir = (int)(pick % 4);
    uint8_t rev[MVOT_GEN_MAX_CELLS];
    uint32_t k = 0;
    for (uint32_t y = x; y != from; y = (uint32_t)prev[y])
        rev[k++] = (uint8_t)pdir[y];
    while (k > 0) {
        int a = rev[--k];
        if (!push(d, a))
            return 0;
        mb_go(w, a);
    }
    if (w->facing != dir) {
        if (!push(d, dir))
            return 0;
        mb_go(w, dir); /* blocked: only turns */
    }
    return 1;
}

static void mb_layout(struct mvot_rng *rng, struct mvot_draft *d)
{
    uint32_t n = d->n, cells = n * n;
    for (uint32_t i = 0; i < cells; i++) {
        uint32_t r = i / n, c = i % n;
        d->kind[i] = (r == 0 || c == 0 || r == n - 1 || c == n - 1) ? MVOT_MB_WALL : MVOT_MB_FLOOR;
    }
    uint32_t tw, th;
    do {
        tw = 1 + (uint32_t)mvot_rng_below(rng, 3);
        th = 1 + (uint32_t)mvot_rng_below(rng, 3);
    } while (tw * th < 2 || tw * th > 6);
    uint32_t inner = n - 2;
    uint32_t tr = 1 + (uint32_t)mvot_rng_below(rng, inner - th + 1);
    uint32_t tc = 1 + (uint32_t)mvot_rng_below(rng, inner - tw + 1);
    for (uint32_t r = tr; r < tr + th; r++)
        for (uint32_t c = tc; c < tc + tw; c++)
            d->kind[r * n + c] = MVOT_MB_TABLE;
    uint32_t p, a;
    do
        p = (uint32_t)mvot_rng_below(rng, cells);
    while (d->kind[p] != MVOT_MB_FLOOR);
    do
        a = (uint32_t)mvot_rng_below(rng, cells);
    while (d->kind[a] != MVOT_MB_FLOOR || a == p);
    d->printer_r = (uint8_t)(p / n);
    d->printer_c = (uint8_t)(p % n);
    d->start_r = (uint8_t)(a / n);
    d->start_c = (uint8_t)(a % n);
    d->facing0 = (uint8_t)mvot_rng_below(rng, 4);
}

/* The step bounds are enforced by mvot_draft_search; the plan's length follows the layout. */
static int mb_sequence(struct mvot_rng *rng, struct mvot_draft *d, uint32_t min_steps,
                       uint32_t max_steps)
{
    (void)min_steps;
    (void)max_steps;
    struct mb_world w = {.d = d,
                         .r = d->start_r,
                         .c = d->start_c,
                         .facing = d->facing0,
                         .pr = d->printer_r,
                         .pc = d->printer_c,
                         .where = MVOT_PR_FLOOR};
    d->n_actions = 0;
    if (!mb_walk(rng, d, &w, (uint32_t)mvot_rng_below(rng, 3)))
        return 0;
    if (d->target == 'B') {
        switch (mvot_rng_below(rng, 3)) {
        case 0: /* walk up to the printer and stop */
            return go_face(rng, d, &w, FACE_PRINTER) && d->n_actions > 0;
        case 1: /* pick up while facing something else */
            if (!mb_walk(rng, d, &w, 1 + (uint32_t)mvot_rng_below(rng, 4)))
                return 0;
            if (is_target(&w, FACE_PRINTER, (uint32_t)((int)w.r + mvot_dir_dr[w.facing]),
                          (uint32_t)((int)w.c + mvot_dir_dc[w.facing])))
                return 0;
            return push(d, MVOT_ACT_PICKUP);
        default: /* wander */
            return mb_walk(rng, d, &w, 2 + (uint32_t)mvot_rng_below(rng, 5)) && d->n_actions > 0;
        }
    }
    if (!go_face(rng, d, &w, FACE_PRINTER) || !push(d, MVOT_ACT_PICKUP))
        return 0;
    w.where = MVOT_PR_CARRIED;
    if (d->target == 'C') {
        uint32_t mark = d->n_actions;
        if (!go_face(rng, d, &w, FACE_TABLE))
            return 0;
        /* Keep a random prefix of the way to the table; never the Drop. */
        d->n_actions = mark + (uint32_t)mvot_rng_below(rng, d->n_actions - mark + 1);
        return 1;
    }
    if (!go_face(rng, d, &w, d->target == 'A' ? FACE_TABLE : FACE_FLOOR)) {
        if (d->target == 'A')
            return 0;
        /* D fallback: right after Pick up the agent faces the printer's old, now free cell. */
    }
    return push(d, MVOT_ACT_DROP);
}

enum mvot_status mvot_minibehavior_draft(struct mvot_rng *rng, uint32_t n, char target,
                                         uint32_t min_steps, uint32_t max_steps,
                                         struct mvot_draft *d, struct mvot_error *err)
{
    if (n < 7 || n > 10 || target < 'A' || target > 'D')
        return mvot_error_set(err, MVOT_ERR_INVALID, "gen minibehavior", "bad grid %u or target %c",
                              n, target);
    memset(d, 0, sizeof *d);
    d->task = MVOT_TASK_MINIBEHAVIOR;
    d->n = n;
    d->target = target;
    return mvot_draft_search(rng, d, min_steps, max_steps, mb_layout, mb_sequence,
                             "gen minibehavior", err);
}
