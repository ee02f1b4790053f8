/* MINIBEHAVIOR printer installation (docs/tasks.md, "MINIBEHAVIOR"): a walled room with a
 * table (3x2 by default), a printer on the floor and an agent with a facing. The action
 * sequence is drawn first, without looking at the target answer (A installed, B never picked
 * up, C still carried, D dropped on the floor); then table, agent and printer are placed until
 * the replay gives the target, so only positions decide the answer.
 *
 * Invariant: the dynamics used here for placing are those of mvot_draft_simulate, and every
 * episode is accepted by replay. */
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

/* Applies a Go action to the placer's world (same rules as the simulator). */
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

/* The room: a wall ring and the table, either mini_behavior InstallingAPrinter's fixed 3x2
 * (3 columns, 2 rows) or, with random_table, w x h with 1 <= w, h <= 3 and 2 <= w*h <= 6; the
 * table is placed uniformly in the interior. */
static void mb_room(struct mvot_rng *rng, struct mvot_draft *d, int random_table)
{
    uint32_t n = d->n, cells = n * n;
    for (uint32_t i = 0; i < cells; i++) {
        uint32_t r = i / n, c = i % n;
        d->kind[i] = (r == 0 || c == 0 || r == n - 1 || c == n - 1) ? MVOT_MB_WALL : MVOT_MB_FLOOR;
    }
    uint32_t tw = 3, th = 2;
    while (random_table) {
        tw = 1 + (uint32_t)mvot_rng_below(rng, 3);
        th = 1 + (uint32_t)mvot_rng_below(rng, 3);
        if (tw * th >= 2 && tw * th <= 6)
            break;
    }
    uint32_t inner = n - 2;
    uint32_t tr = 1 + (uint32_t)mvot_rng_below(rng, inner - th + 1);
    uint32_t tc = 1 + (uint32_t)mvot_rng_below(rng, inner - tw + 1);
    for (uint32_t r = tr; r < tr + th; r++)
        for (uint32_t c = tc; c < tc + tw; c++)
            d->kind[r * n + c] = MVOT_MB_TABLE;
}

static uint32_t random_floor(struct mvot_rng *rng, const struct mvot_draft *d)
{
    uint32_t cells = d->n * d->n, p;
    do
        p = (uint32_t)mvot_rng_below(rng, cells);
    while (d->kind[p] != MVOT_MB_FLOOR);
    return p;
}

/* The action sequence, drawn before and independently of the target answer, so that the text
 * tells nothing about the answer: W1 Pick-up W2 Drop W3 with W1 0..4, W2 1..6 and W3 0..2
 * uniform "Go" actions in uniform directions (lengths redrawn until the total is in the step
 * range). W2 is never empty: a Drop right after a successful Pick up always faces the printer's
 * old, now free, cell, which could only give D. */
static int mb_actions(struct mvot_rng *rng, struct mvot_draft *d, uint32_t min_steps,
                      uint32_t max_steps, void *ctx)
{
    (void)ctx;
    for (int t = 0; t < 256; t++) {
        uint32_t a = (uint32_t)mvot_rng_below(rng, 5), b = 1 + (uint32_t)mvot_rng_below(rng, 6);
        uint32_t c = (uint32_t)mvot_rng_below(rng, 3), len = a + b + c + 2;
        if (len < min_steps || len > max_steps)
            continue;
        d->n_actions = 0;
        for (uint32_t i = 0; i < len; i++) {
            int act = (int)mvot_rng_below(rng, 4);
            if (i == a)
                act = MVOT_ACT_PICKUP;
            else if (i == a + 1 + b)
                act = MVOT_ACT_DROP;
            d->actions[d->n_actions++] = (uint8_t)act;
        }
        return 1;
    }
    return 0;
}

/* One random placement of table, agent and printer for the drawn actions. For answers that
 * need a pick-up, the printer goes next to where the agent stands at the Pick up, on a cell
 * the agent has not entered before (so it blocked nothing on the way there); B places it
 * anywhere. The caller replays the result; positions alone decide the answer. */
static int mb_place(struct mvot_rng *rng, struct mvot_draft *d, uint32_t min_steps, void *ctx)
{
    const int random_table = *(const int *)ctx;
    uint32_t n = d->n;
    (void)min_steps;
    mb_room(rng, d, random_table);
    uint32_t a = random_floor(rng, d);
    d->start_r = (uint8_t)(a / n);
    d->start_c = (uint8_t)(a % n);
    d->facing0 = (uint8_t)mvot_rng_below(rng, 4);
    /* The agent's way to the first Pick up, with no printer in the room yet. */
    uint8_t entered[MVOT_GEN_MAX_CELLS] = {0};
    struct mb_world w = {
        .d = d, .r = d->start_r, .c = d->start_c, .facing = d->facing0, .where = MVOT_PR_CARRIED};
    entered[a] = 1;
    for (uint32_t i = 0; i < d->n_actions && d->actions[i] <= 3; i++) {
        mb_go(&w, d->actions[i]);
        entered[w.r * n + w.c] = 1;
    }
    uint32_t cand[4], nc = 0;
    if (d->target != 'B') {
        for (int dir = 0; dir < 4; dir++) {
            uint32_t r = (uint32_t)((int)w.r + mvot_dir_dr[dir]);
            uint32_t c = (uint32_t)((int)w.c + mvot_dir_dc[dir]);
            if (d->kind[r * n + c] == MVOT_MB_FLOOR && !entered[r * n + c])
                cand[nc++] = r * n + c;
        }
        if (nc == 0)
            return 0;
    }
    uint32_t p;
    if (nc)
        p = cand[mvot_rng_below(rng, nc)];
    else
        do
            p = random_floor(rng, d);
        while (entered[p]);
    d->printer_r = (uint8_t)(p / n);
    d->printer_c = (uint8_t)(p % n);
    return 1;
}

enum mvot_status mvot_minibehavior_draft(struct mvot_rng *rng, uint32_t n, char target,
                                         uint32_t min_steps, uint32_t max_steps, int random_table,
                                         struct mvot_draft *d, struct mvot_error *err)
{
    /* Every drawn sequence can end in each answer; a sequence is redrawn only when 4096
     * placements miss the target, which is rare, so the answer stays independent of it. */
    struct mvot_draft_plan plan = {
        MVOT_TASK_MINIBEHAVIOR, n, target, mb_actions, mb_place, 4096, &random_table,
        "gen minibehavior"};
    return mvot_draft_search(rng, d, min_steps, max_steps, &plan, err);
}
