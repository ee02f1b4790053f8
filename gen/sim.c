/* Replay of a draft (layout + actions) into per-frame world states and the answer, for all
 * three tasks, plus the per-cell state bytes of docs/episode-format.md. The generators call
 * this to accept a plan; the renderer and the record builder read its trace. The tests use an
 * independent re-implementation, not this file. */
#include <string.h>

#include "gen/internal.h"

static enum mvot_status sim_maze(const struct mvot_draft *d, struct mvot_trace *t,
                                 struct mvot_error *err)
{
    struct mvot_wstate s = {.r = d->start_r, .c = d->start_c};
    t->st[0] = s;
    for (uint32_t i = 0; i < d->n_actions; i++) {
        int a = d->actions[i];
        if (a > 3 || !mvot_maze_can_move(d, s.r, s.c, a))
            return mvot_error_set(err, MVOT_ERR_INVALID, "maze replay",
                                  "step %u: %s from (%u,%u) crosses a wall", i + 1,
                                  a <= 5 ? mvot_action_names[a] : "?", s.r, s.c);
        s.r = (uint8_t)(s.r + mvot_dir_dr[a]);
        s.c = (uint8_t)(s.c + mvot_dir_dc[a]);
        s.facing = (uint8_t)a;
        t->st[i + 1] = s;
    }
    t->answer = 0;
    for (int k = 0; k < 4; k++)
        if (d->cand_r[k] == s.r && d->cand_c[k] == s.c)
            t->answer = (char)('A' + k);
    if (!t->answer)
        return mvot_error_set(err, MVOT_ERR_INVALID, "maze replay",
                              "end cell (%u,%u) is not a candidate", s.r, s.c);
    return MVOT_OK;
}

static enum mvot_status sim_frozenlake(const struct mvot_draft *d, struct mvot_trace *t,
                                       struct mvot_error *err)
{
    uint32_t n = d->n;
    struct mvot_wstate s = {.r = d->start_r, .c = d->start_c, .facing = MVOT_DIR_DOWN};
    t->st[0] = s;
    for (uint32_t i = 0; i < d->n_actions; i++) {
        int a = d->actions[i];
        if (a > 3 || s.fell || s.goal)
            return mvot_error_set(err, MVOT_ERR_INVALID, "frozenlake replay",
                                  "step %u: action after the episode stopped", i + 1);
        int r = (int)s.r + mvot_dir_dr[a], c = (int)s.c + mvot_dir_dc[a];
        if (r >= 0 && c >= 0 && r < (int)n && c < (int)n) {
            s.r = (uint8_t)r;
            s.c = (uint8_t)c;
        }
        s.facing = (uint8_t)a;
        char tile = d->desc[s.r * n + s.c];
        s.fell = tile == 'H';
        s.goal = tile == 'G';
        t->st[i + 1] = s;
    }
    if (s.goal) {
        t->answer = 'A';
        t->exec_state = "success";
    } else if (s.fell) {
        t->answer = 'B';
        t->exec_state = "terminated";
    } else {
        t->answer = 'C';
        t->exec_state = "truncated";
    }
    return MVOT_OK;
}

static enum mvot_status sim_minibehavior(const struct mvot_draft *d, struct mvot_trace *t,
                                         struct mvot_error *err)
{
    uint32_t n = d->n;
    struct mvot_wstate s = {.r = d->start_r,
                            .c = d->start_c,
                            .facing = d->facing0,
                            .printer_r = d->printer_r,
                            .printer_c = d->printer_c,
                            .printer_where = MVOT_PR_FLOOR};
    t->st[0] = s;
    for (uint32_t i = 0; i < d->n_actions; i++) {
        int a = d->actions[i];
        uint32_t fr = (uint32_t)((int)s.r + mvot_dir_dr[s.facing]);
        uint32_t fc = (uint32_t)((int)s.c + mvot_dir_dc[s.facing]);
        if (a <= 3) {
            s.facing = (uint8_t)a;
            uint32_t r = (uint32_t)((int)s.r + mvot_dir_dr[a]);
            uint32_t c = (uint32_t)((int)s.c + mvot_dir_dc[a]);
            int printer_there =
                s.printer_where == MVOT_PR_FLOOR && s.printer_r == r && s.printer_c == c;
            if (r < n && c < n && d->kind[r * n + c] == MVOT_MB_FLOOR && !printer_there) {
                s.r = (uint8_t)r;
                s.c = (uint8_t)c;
            }
        } else if (a == MVOT_ACT_PICKUP) {
            /* A printer in any of the four neighbouring cells is picked up, and the agent
             * turns toward it (the paper's figure); the one in front needs no turn. */
            int dir = s.printer_r == fr && s.printer_c == fc ? s.facing : -1;
            for (int k = 0; k < 4 && dir < 0; k++)
                if ((int)s.printer_r == (int)s.r + mvot_dir_dr[k] &&
                    (int)s.printer_c == (int)s.c + mvot_dir_dc[k])
                    dir = k;
            if (s.printer_where != MVOT_PR_CARRIED && dir >= 0) {
                s.facing = (uint8_t)dir;
                s.printer_where = MVOT_PR_CARRIED;
                s.ever_picked = 1;
            }
        } else if (a == MVOT_ACT_DROP) {
            if (s.printer_where == MVOT_PR_CARRIED && fr < n && fc < n &&
                d->kind[fr * n + fc] != MVOT_MB_WALL) {
                s.printer_where =
                    d->kind[fr * n + fc] == MVOT_MB_TABLE ? MVOT_PR_TABLE : MVOT_PR_FLOOR;
                s.printer_r = (uint8_t)fr;
                s.printer_c = (uint8_t)fc;
            }
        } else {
            return mvot_error_set(err, MVOT_ERR_INVALID, "minibehavior replay",
                                  "step %u: bad action %d", i + 1, a);
        }
        t->st[i + 1] = s;
    }
    if (s.printer_where == MVOT_PR_TABLE)
        t->answer = 'A';
    else if (s.printer_where == MVOT_PR_CARRIED)
        t->answer = 'C';
    else if (!s.ever_picked)
        t->answer = 'B';
    else
        t->answer = 'D';
    return MVOT_OK;
}

enum mvot_status mvot_draft_simulate(const struct mvot_draft *d, struct mvot_trace *t,
                                     struct mvot_error *err)
{
    memset(t, 0, sizeof *t);
    if (d->n_actions > MVOT_GEN_MAX_STEPS || d->n < 3 || d->n > MVOT_GEN_MAX_N)
        return mvot_error_set(err, MVOT_ERR_INVALID, "replay", "bad draft");
    t->n_frames = d->n_actions + 1;
    switch (d->task) {
    case MVOT_TASK_MAZE: return sim_maze(d, t, err);
    case MVOT_TASK_FROZENLAKE: return sim_frozenlake(d, t, err);
    case MVOT_TASK_MINIBEHAVIOR: return sim_minibehavior(d, t, err);
    }
    return mvot_error_set(err, MVOT_ERR_INVALID, "replay", "bad task");
}

void mvot_cell_states(const struct mvot_draft *d, const struct mvot_trace *t, uint32_t k,
                      uint8_t *out)
{
    uint32_t n = d->n, cells = n * n;
    const struct mvot_wstate *s = &t->st[k];
    memset(out, 0, cells);
    switch (d->task) {
    case MVOT_TASK_MAZE:
        out[d->start_r * n + d->start_c] |= 0x02;
        for (uint32_t j = 0; j < 4; j++)
            out[d->cand_r[j] * n + d->cand_c[j]] |= (uint8_t)(0x04 | (j << 4));
        if (k > 0)
            for (uint32_t i = 0; i <= k; i++)
                out[t->st[i].r * n + t->st[i].c] |= 0x08;
        out[s->r * n + s->c] |= 0x01;
        break;
    case MVOT_TASK_FROZENLAKE:
        for (uint32_t i = 0; i < cells; i++) {
            if (d->desc[i] == 'H')
                out[i] |= 0x02;
            else if (d->desc[i] == 'G')
                out[i] |= 0x04;
            else if (d->desc[i] == 'S')
                out[i] |= 0x08;
        }
        out[s->r * n + s->c] |= (uint8_t)(0x01 | (s->fell ? 0x10 : 0) | (s->facing << 5));
        break;
    case MVOT_TASK_MINIBEHAVIOR:
        for (uint32_t i = 0; i < cells; i++) {
            if (d->kind[i] == MVOT_MB_WALL)
                out[i] |= 0x02;
            else if (d->kind[i] == MVOT_MB_TABLE)
                out[i] |= 0x04;
        }
        if (s->printer_where != MVOT_PR_CARRIED)
            out[s->printer_r * n + s->printer_c] |= 0x08;
        out[s->r * n + s->c] |=
            (uint8_t)(0x01 | (s->facing << 4) | (s->printer_where == MVOT_PR_CARRIED ? 0x40 : 0));
        break;
    }
}

enum mvot_status mvot_draft_search(struct mvot_rng *rng, struct mvot_draft *d, uint32_t min_steps,
                                   uint32_t max_steps, const struct mvot_draft_plan *plan,
                                   struct mvot_error *err)
{
    enum mvot_status st = mvot_draft_begin(d, plan->task, plan->n, plan->target, err);
    if (st != MVOT_OK)
        return st;
    for (int seq_try = 0; seq_try < 64; seq_try++) {
        if (!plan->sequence(rng, d, min_steps, max_steps, plan->ctx))
            break;
        for (uint32_t place_try = 0; place_try < plan->placements; place_try++) {
            if (!plan->place(rng, d, min_steps, plan->ctx))
                continue;
            struct mvot_trace t;
            if (mvot_draft_simulate(d, &t, NULL) == MVOT_OK && t.answer == d->target)
                return MVOT_OK;
        }
    }
    return mvot_error_set(err, MVOT_ERR_INVALID, plan->what,
                          "no %ux%u episode with answer %c and %u..%u steps", d->n, d->n, d->target,
                          min_steps, max_steps);
}

enum mvot_status mvot_draft_begin(struct mvot_draft *d, enum mvot_task task, uint32_t n,
                                  char target, struct mvot_error *err)
{
    static const uint32_t lo[MVOT_TASK_COUNT] = {3, 3, 7}, hi[MVOT_TASK_COUNT] = {6, 6, 10};
    static const char last[MVOT_TASK_COUNT] = {'D', 'C', 'D'};
    if ((unsigned)task >= MVOT_TASK_COUNT || n < lo[task] || n > hi[task] || target < 'A' ||
        target > last[task])
        return mvot_error_set(err, MVOT_ERR_INVALID, "gen", "%s: bad grid %u or target %c",
                              mvot_task_name(task), n, target);
    memset(d, 0, sizeof *d);
    d->task = task;
    d->n = n;
    d->target = target;
    return MVOT_OK;
}
