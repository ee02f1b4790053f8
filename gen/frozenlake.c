/* FROZENLAKE episodes (docs/tasks.md): a solvable map with S and G off the corners and holes
 * at probability 0.25, and an action sequence built to reach the target outcome: A success,
 * B fell into a hole (optionally followed by text-only additional actions), C safe but short.
 *
 * Invariant: the rendered actions stop at the first H or G; a built sequence is replayed by
 * mvot_draft_simulate before it is accepted, so the target always equals the replayed answer. */
#include <string.h>

#include "gen/internal.h"

#define FL_HOLE_P_NUM 1 /* hole probability 1/4 */
#define FL_HOLE_P_DEN 4
#define FL_EXTRA_MAX 3 /* text-only actions after a fall: 1..3 */

static char fl_at(const struct mvot_draft *d, uint32_t cell)
{
    return d->desc[cell];
}

/* Cell reached from `cell` by dir, clamped at the border. */
static uint32_t fl_step(uint32_t n, uint32_t cell, int dir)
{
    int r = (int)(cell / n) + mvot_dir_dr[dir], c = (int)(cell % n) + mvot_dir_dc[dir];
    if (r < 0 || c < 0 || r >= (int)n || c >= (int)n)
        return cell;
    return (uint32_t)r * n + (uint32_t)c;
}

static int is_corner(uint32_t n, uint32_t cell)
{
    uint32_t r = cell / n, c = cell % n;
    return (r == 0 || r == n - 1) && (c == 0 || c == n - 1);
}

/* Breadth-first distances from `from` over safe cells (not H; G only as an end point, since the
 * episode stops there). prev[] gives the tree. Random neighbour order breaks ties. */
static void fl_bfs(struct mvot_rng *rng, const struct mvot_draft *d, uint32_t from, int *dist,
                   int *prev_dir, int16_t *prev)
{
    uint32_t n = d->n;
    uint8_t queue[MVOT_GEN_MAX_CELLS];
    uint32_t qh = 0, qt = 0;
    for (uint32_t i = 0; i < n * n; i++) {
        dist[i] = -1;
        prev[i] = -1;
        prev_dir[i] = -1;
    }
    dist[from] = 0;
    queue[qt++] = (uint8_t)from;
    while (qh < qt) {
        uint32_t cur = queue[qh++];
        if (fl_at(d, cur) == 'G' || fl_at(d, cur) == 'H')
            continue;
        int order[4] = {0, 1, 2, 3};
        mvot_rng_shuffle(rng, order, 4, sizeof order[0]);
        for (int k = 0; k < 4; k++) {
            uint32_t nb = fl_step(n, cur, order[k]);
            if (nb == cur || dist[nb] >= 0 || fl_at(d, nb) == 'H')
                continue;
            dist[nb] = dist[cur] + 1;
            prev[nb] = (int16_t)cur;
            prev_dir[nb] = order[k];
            queue[qt++] = (uint8_t)nb;
        }
    }
}

/* Appends the BFS path from the BFS root to `to`. Returns 0 if it does not fit. */
static int append_path(struct mvot_draft *d, const int *prev_dir, const int16_t *prev, uint32_t to,
                       uint32_t root)
{
    uint8_t rev[MVOT_GEN_MAX_CELLS];
    uint32_t k = 0;
    for (uint32_t x = to; x != root; x = (uint32_t)prev[x])
        rev[k++] = (uint8_t)prev_dir[x];
    if (d->n_actions + k > MVOT_GEN_MAX_STEPS)
        return 0;
    while (k > 0)
        d->actions[d->n_actions++] = rev[--k];
    return 1;
}

static void fl_map(struct mvot_rng *rng, struct mvot_draft *d)
{
    uint32_t n = d->n, cells = n * n;
    for (;;) {
        uint32_t s, g;
        do
            s = (uint32_t)mvot_rng_below(rng, cells);
        while (is_corner(n, s));
        do
            g = (uint32_t)mvot_rng_below(rng, cells);
        while (is_corner(n, g) || g == s);
        for (uint32_t i = 0; i < cells; i++)
            d->desc[i] = mvot_rng_below(rng, FL_HOLE_P_DEN) < FL_HOLE_P_NUM ? 'H' : 'F';
        d->desc[s] = 'S';
        d->desc[g] = 'G';
        d->desc[cells] = '\0';
        /* Keep only maps where G is reachable and some hole borders the safe region. */
        int dist[MVOT_GEN_MAX_CELLS], pd[MVOT_GEN_MAX_CELLS];
        int16_t prev[MVOT_GEN_MAX_CELLS];
        fl_bfs(rng, d, s, dist, pd, prev);
        int hole_next = 0;
        for (uint32_t i = 0; i < cells; i++)
            if (dist[i] >= 0 && d->desc[i] != 'G')
                for (int dir = 0; dir < 4; dir++)
                    if (d->desc[fl_step(n, i, dir)] == 'H')
                        hole_next = 1;
        if (dist[g] >= 0 && hole_next) {
            d->start_r = (uint8_t)(s / n);
            d->start_c = (uint8_t)(s % n);
            return;
        }
    }
}

/* One safe-walk step from cell: a uniform action not entering H or G; a border (no-op) move
 * is re-drawn with probability 3/4. Returns -1 if no action is safe. */
static int safe_step(struct mvot_rng *rng, const struct mvot_draft *d, uint32_t cell)
{
    int any = 0;
    for (int dir = 0; dir < 4; dir++) {
        char t = fl_at(d, fl_step(d->n, cell, dir));
        if (t != 'H' && t != 'G')
            any = 1;
    }
    if (!any)
        return -1;
    for (;;) {
        int dir = (int)mvot_rng_below(rng, 4);
        uint32_t nb = fl_step(d->n, cell, dir);
        char t = fl_at(d, nb);
        if (t == 'H' || t == 'G')
            continue;
        if (nb == cell && mvot_rng_below(rng, 4) != 0)
            continue;
        return dir;
    }
}

/* Walks w safe steps from the current end of the sequence; returns the final cell or -1. */
static int safe_walk(struct mvot_rng *rng, struct mvot_draft *d, uint32_t cell, uint32_t w)
{
    for (uint32_t i = 0; i < w; i++) {
        int dir = safe_step(rng, d, cell);
        if (dir < 0 || d->n_actions >= MVOT_GEN_MAX_STEPS)
            return -1;
        d->actions[d->n_actions++] = (uint8_t)dir;
        cell = fl_step(d->n, cell, dir);
    }
    return (int)cell;
}

static int fl_sequence(struct mvot_rng *rng, struct mvot_draft *d, uint32_t min_steps,
                       uint32_t max_steps)
{
    uint32_t n = d->n, cells = n * n;
    uint32_t s = (uint32_t)d->start_r * n + d->start_c;
    int dist[MVOT_GEN_MAX_CELLS], pd[MVOT_GEN_MAX_CELLS];
    int16_t prev[MVOT_GEN_MAX_CELLS];
    d->n_actions = 0;
    d->n_extra = 0;
    if (d->target == 'C') {
        uint32_t hi = max_steps < 2 * n + 2 ? max_steps : 2 * n + 2;
        uint32_t lo = min_steps < 1 ? 1 : min_steps;
        if (lo > hi)
            return 0;
        uint32_t w = lo + (uint32_t)mvot_rng_below(rng, hi - lo + 1);
        return safe_walk(rng, d, s, w) >= 0;
    }
    uint32_t w = (uint32_t)mvot_rng_below(rng, n + 1);
    int cur = safe_walk(rng, d, s, w);
    if (cur < 0)
        return 0;
    fl_bfs(rng, d, (uint32_t)cur, dist, pd, prev);
    if (d->target == 'A') {
        uint32_t g = (uint32_t)(strchr(d->desc, 'G') - d->desc);
        if (dist[g] < 0)
            return 0;
        return append_path(d, pd, prev, g, (uint32_t)cur);
    }
    /* B: a reachable safe cell next to a hole, then the step into it. */
    uint16_t pairs[MVOT_GEN_MAX_CELLS * 4];
    uint32_t np = 0;
    for (uint32_t x = 0; x < cells; x++) {
        if (dist[x] < 0 || d->desc[x] == 'H' || d->desc[x] == 'G')
            continue;
        for (int dir = 0; dir < 4; dir++)
            if (d->desc[fl_step(n, x, dir)] == 'H')
                pairs[np++] = (uint16_t)(x * 4 + (uint32_t)dir);
    }
    if (np == 0)
        return 0;
    uint32_t pick = pairs[mvot_rng_below(rng, np)];
    if (!append_path(d, pd, prev, pick / 4, (uint32_t)cur) || d->n_actions >= MVOT_GEN_MAX_STEPS)
        return 0;
    d->actions[d->n_actions++] = (uint8_t)(pick % 4);
    if (mvot_rng_below(rng, 3) == 0) {
        d->n_extra = 1 + (uint32_t)mvot_rng_below(rng, FL_EXTRA_MAX);
        for (uint32_t i = 0; i < d->n_extra; i++)
            d->extra[i] = (uint8_t)mvot_rng_below(rng, 4);
    }
    return 1;
}

enum mvot_status mvot_frozenlake_draft(struct mvot_rng *rng, uint32_t n, char target,
                                       uint32_t min_steps, uint32_t max_steps, struct mvot_draft *d,
                                       struct mvot_error *err)
{
    if (n < 3 || n > 6 || target < 'A' || target > 'C')
        return mvot_error_set(err, MVOT_ERR_INVALID, "gen frozenlake", "bad grid %u or target %c",
                              n, target);
    memset(d, 0, sizeof *d);
    d->task = MVOT_TASK_FROZENLAKE;
    d->n = n;
    d->target = target;
    return mvot_draft_search(rng, d, min_steps, max_steps, fl_map, fl_sequence, "gen frozenlake",
                             err);
}
