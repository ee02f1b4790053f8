/* FROZENLAKE episodes (docs/tasks.md): a walk from S drawn without looking at the target
 * outcome, then a solvable map built around it so that the walk ends in that outcome: A
 * success (the walk ends on G), B fell into a hole (possibly followed by text-only additional
 * actions), C safe but short. S and G may be on any cell; holes elsewhere at probability 1/4.
 *
 * Invariant: the rendered actions stop at the first H or G; every episode is replayed by
 * mvot_draft_simulate before it is accepted, so the target always equals the replayed answer. */
#include <string.h>

#include "core/hash.h"
#include "gen/internal.h"

#define FL_HOLE_P_NUM 1 /* hole probability 1/4 */
#define FL_HOLE_P_DEN 4

/* Cell reached from `cell` by dir, clamped at the border. */
static uint32_t fl_step(uint32_t n, uint32_t cell, int dir)
{
    int r = (int)(cell / n) + mvot_dir_dr[dir], c = (int)(cell % n) + mvot_dir_dc[dir];
    if (r < 0 || c < 0 || r >= (int)n || c >= (int)n)
        return cell;
    return (uint32_t)r * n + (uint32_t)c;
}

/* Is G reachable from S over cells that are not holes? */
static int fl_solvable(const struct mvot_draft *d, uint32_t s)
{
    uint32_t n = d->n;
    uint8_t seen[MVOT_GEN_MAX_CELLS] = {0}, queue[MVOT_GEN_MAX_CELLS];
    uint32_t qh = 0, qt = 0;
    seen[s] = 1;
    queue[qt++] = (uint8_t)s;
    while (qh < qt) {
        uint32_t cur = queue[qh++];
        if (d->desc[cur] == 'G')
            return 1;
        for (int dir = 0; dir < 4; dir++) {
            uint32_t nb = fl_step(n, cur, dir);
            if (!seen[nb] && d->desc[nb] != 'H') {
                seen[nb] = 1;
                queue[qt++] = (uint8_t)nb;
            }
        }
    }
    return 0;
}

/* Length of a walk: uniform in the step range capped at 2n. */
static uint32_t walk_length(struct mvot_rng *rng, uint32_t n, uint32_t min_steps,
                            uint32_t max_steps)
{
    uint32_t hi = max_steps < 2 * n ? max_steps : 2 * n;
    if (hi < min_steps)
        hi = min_steps;
    return min_steps + (uint32_t)mvot_rng_below(rng, hi - min_steps + 1);
}

/* One walk step from cell: uniform over the moves that stay on the board, or over all four. */
static int walk_step(struct mvot_rng *rng, uint32_t n, uint32_t cell, int border_walks)
{
    int dirs[4], nd = 0;
    for (int dir = 0; dir < 4; dir++)
        if (border_walks || fl_step(n, cell, dir) != cell)
            dirs[nd++] = dir;
    return dirs[mvot_rng_below(rng, (uint64_t)nd)];
}

/* The first `stop` of the L drawn actions are executed; the rest become additional actions. */
static void split_at(struct mvot_draft *d, uint32_t stop, uint32_t L)
{
    d->n_extra = L - stop;
    for (uint32_t i = stop; i < L; i++)
        d->extra[i - stop] = d->actions[i];
    d->n_actions = stop;
}

/* The walk, drawn before and independently of the target answer: S uniform over all cells,
 * a length uniform in the step range capped at 2n, each action uniform over the moves that
 * stay on the board (over all four with border_walks). Kept only if its last cell is new
 * (so that it can be G or a hole) and it leaves at least one cell unvisited (room for G when
 * the answer is C); otherwise redrawn, whatever the target. pos[i] is the cell after i moves. */
struct fl_walk {
    int border_walks;
    uint32_t len;                        /* L */
    uint8_t pos[MVOT_GEN_MAX_STEPS + 1]; /* pos[i]: the cell after i moves */
};

static int fl_walk(struct mvot_rng *rng, struct mvot_draft *d, uint32_t min_steps,
                   uint32_t max_steps, void *ctx)
{
    struct fl_walk *w = ctx;
    uint8_t *pos = w->pos;
    uint32_t n = d->n, cells = n * n;
    for (int t = 0; t < 256; t++) {
        uint32_t L = walk_length(rng, n, min_steps, max_steps);
        uint8_t seen[MVOT_GEN_MAX_CELLS] = {0};
        uint32_t cur = (uint32_t)mvot_rng_below(rng, cells), distinct = 1, fresh_end = 0;
        pos[0] = (uint8_t)cur;
        seen[cur] = 1;
        for (uint32_t i = 0; i < L; i++) {
            int dir = walk_step(rng, n, cur, w->border_walks);
            d->actions[i] = (uint8_t)dir;
            cur = fl_step(n, cur, dir);
            pos[i + 1] = (uint8_t)cur;
            fresh_end = !seen[cur];
            distinct += !seen[cur];
            seen[cur] = 1;
        }
        if (fresh_end && distinct < cells) {
            w->len = L;
            return 1;
        }
    }
    return 0;
}

/* Builds the map around the walk for the target: the cells before the stop are frozen (S
 * first), the stop cell is G (A), a hole (B) or frozen (C); other cells are holes with
 * probability 1/4, and G goes on an unvisited cell when it is not the stop. B stops at the
 * walk's end, or with probability 1/4 at an earlier first visit of a cell, the rest of the
 * walk becoming text-only additional actions. Maps where G cannot be reached are redrawn. */
static int fl_build(struct mvot_rng *rng, struct mvot_draft *d, uint32_t min_steps, void *ctx)
{
    const struct fl_walk *w = ctx;
    const uint8_t *pos = w->pos;
    uint32_t n = d->n, cells = n * n, L = w->len, stop = L;
    if (d->target == 'B' && mvot_rng_below(rng, 4) == 0) {
        uint8_t seen[MVOT_GEN_MAX_CELLS] = {0};
        uint32_t early[MVOT_GEN_MAX_STEPS], ne = 0;
        seen[pos[0]] = 1;
        for (uint32_t i = 1; i < L; i++) {
            if (!seen[pos[i]] && i >= min_steps && L - i <= MVOT_GEN_MAX_EXTRA)
                early[ne++] = i;
            seen[pos[i]] = 1;
        }
        if (ne)
            stop = early[mvot_rng_below(rng, ne)];
    }
    for (int t = 0; t < 64; t++) {
        uint8_t onpath[MVOT_GEN_MAX_CELLS] = {0};
        for (uint32_t i = 0; i < cells; i++)
            d->desc[i] = mvot_rng_below(rng, FL_HOLE_P_DEN) < FL_HOLE_P_NUM ? 'H' : 'F';
        d->desc[cells] = '\0';
        for (uint32_t i = 0; i <= stop; i++) {
            onpath[pos[i]] = 1;
            d->desc[pos[i]] = 'F';
        }
        d->desc[pos[0]] = 'S';
        if (d->target == 'A')
            d->desc[pos[stop]] = 'G';
        else {
            if (d->target == 'B')
                d->desc[pos[stop]] = 'H';
            uint32_t free_cells[MVOT_GEN_MAX_CELLS], nf = 0;
            for (uint32_t i = 0; i < cells; i++)
                if (!onpath[i])
                    free_cells[nf++] = i;
            if (nf == 0)
                return 0;
            d->desc[free_cells[mvot_rng_below(rng, nf)]] = 'G';
        }
        if (!fl_solvable(d, pos[0]))
            continue;
        d->start_r = (uint8_t)(pos[0] / n);
        d->start_c = (uint8_t)(pos[0] % n);
        split_at(d, stop, L);
        return 1;
    }
    return 0;
}

enum mvot_status mvot_frozenlake_draft(struct mvot_rng *rng, uint32_t n, char target,
                                       uint32_t min_steps, uint32_t max_steps, int border_walks,
                                       struct mvot_draft *d, struct mvot_error *err)
{
    struct fl_walk w = {.border_walks = border_walks};
    struct mvot_draft_plan plan = {MVOT_TASK_FROZENLAKE, n, target, fl_walk, fl_build, 1, &w,
                                   "gen frozenlake"};
    return mvot_draft_search(rng, d, min_steps, max_steps, &plan, err);
}

/* ---- several sequences on one map (--sequences-per-map K > 1) ----
 * The official data draws about 12 sequences per map. Sharing a map means choosing each
 * sequence knowing the map and the target, which lets the text hint at the answer (the walks
 * that end in each outcome differ in length and shape), so this is an option, not the
 * default; `mvot stats` measures what it leaks. */

/* One proposal on the fixed map: a walk as fl_walk draws it, executed until it enters H or G.
 * Ending on G before the walk's end is rejected (the official data has no actions after a
 * success); after a fall the rest are additional actions. Returns 1 with d filled if the
 * outcome is d->target. */
static int fl_propose(struct mvot_rng *rng, struct mvot_draft *d, uint32_t min_steps,
                      uint32_t max_steps, int border_walks)
{
    uint32_t n = d->n, L = walk_length(rng, n, min_steps, max_steps);
    uint32_t cur = (uint32_t)d->start_r * n + d->start_c, stop = L;
    char end = 'F';
    for (uint32_t i = 0; i < L; i++) {
        int dir = walk_step(rng, n, cur, border_walks);
        d->actions[i] = (uint8_t)dir;
        cur = fl_step(n, cur, dir);
        char t = d->desc[cur];
        if (stop == L && (t == 'H' || t == 'G')) {
            stop = i + 1;
            end = t;
        }
    }
    if (end == 'G' && stop != L)
        return 0;
    if (stop < min_steps || L - stop > MVOT_GEN_MAX_EXTRA)
        return 0;
    char outcome = end == 'G' ? 'A' : end == 'H' ? 'B' : 'C';
    if (outcome != d->target)
        return 0;
    split_at(d, stop, L);
    return 1;
}

void mvot_frozenlake_map(struct mvot_rng *rng, uint32_t n, uint32_t min_steps, uint32_t max_steps,
                         int border_walks, uint32_t per_map, struct mvot_draft *d)
{
    uint32_t cells = n * n;
    memset(d, 0, sizeof *d);
    d->task = MVOT_TASK_FROZENLAKE;
    d->n = n;
    for (;;) {
        uint32_t s = (uint32_t)mvot_rng_below(rng, cells), g;
        do
            g = (uint32_t)mvot_rng_below(rng, cells);
        while (g == s);
        for (uint32_t i = 0; i < cells; i++)
            d->desc[i] = mvot_rng_below(rng, FL_HOLE_P_DEN) < FL_HOLE_P_NUM ? 'H' : 'F';
        d->desc[s] = 'S';
        d->desc[g] = 'G';
        d->desc[cells] = '\0';
        d->start_r = (uint8_t)(s / n);
        d->start_c = (uint8_t)(s % n);
        if (!fl_solvable(d, s))
            continue;
        /* Keep the map only if each outcome comes up with enough distinct sequences for its
         * share of the block (per_map / 3, plus one) within 1024 proposals, so the
         * deduplication rarely has to search long. */
        uint32_t need = per_map / 3 + 2, found = need;
        for (char t = 'A'; found >= need && t <= 'C'; t++) {
            uint64_t seen[MVOT_GEN_MAX_STEPS];
            d->target = t;
            found = 0;
            for (int k = 0; k < 1024 && found < need; k++) {
                if (!fl_propose(rng, d, min_steps, max_steps, border_walks))
                    continue;
                uint8_t key[2 * MVOT_GEN_MAX_STEPS];
                memcpy(key, d->actions, d->n_actions);
                memcpy(key + d->n_actions, d->extra, d->n_extra);
                uint64_t h = mvot_hash64(key, d->n_actions + d->n_extra) ^ d->n_actions;
                uint32_t j = 0;
                while (j < found && seen[j] != h)
                    j++;
                if (j == found)
                    seen[found++] = h;
            }
        }
        if (found >= need)
            return;
    }
}

enum mvot_status mvot_frozenlake_on_map(struct mvot_rng *rng, char target, uint32_t min_steps,
                                        uint32_t max_steps, int border_walks, struct mvot_draft *d,
                                        struct mvot_error *err)
{
    d->target = target;
    for (int k = 0; k < 65536; k++)
        if (fl_propose(rng, d, min_steps, max_steps, border_walks))
            return MVOT_OK;
    return mvot_error_set(err, MVOT_ERR_INVALID, "gen frozenlake",
                          "no sequence with answer %c and %u..%u steps on the shared %ux%u map",
                          target, min_steps, max_steps, d->n, d->n);
}
