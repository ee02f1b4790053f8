/* MAZE episodes (docs/tasks.md): a perfect maze by randomized depth-first search with
 * backtracking, a start and an end at a tree distance within the step range, the unique tree
 * path as actions, and 4 lettered candidates with the end at the target letter.
 *
 * Invariant: the open connections always form a spanning tree (n*n - 1 open walls), so the
 * path between two cells is unique and revisits nothing. */
#include <string.h>

#include "gen/internal.h"

const int mvot_dir_dr[4] = {0, 1, 0, -1};
const int mvot_dir_dc[4] = {-1, 0, 1, 0};
const char *const mvot_action_names[6] = {"left", "down", "right", "up", "pickup", "drop"};

/* Is the wall between cell (r,c) and its neighbour in direction dir open? */
static int maze_open(const struct mvot_draft *d, uint32_t r, uint32_t c, int dir)
{
    uint32_t n = d->n;
    switch (dir) {
    case MVOT_DIR_LEFT: return c > 0 && d->open_right[r * n + c - 1];
    case MVOT_DIR_RIGHT: return c + 1 < n && d->open_right[r * n + c];
    case MVOT_DIR_UP: return r > 0 && d->open_down[(r - 1) * n + c];
    case MVOT_DIR_DOWN: return r + 1 < n && d->open_down[r * n + c];
    }
    return 0;
}

static void maze_generate(struct mvot_rng *rng, struct mvot_draft *d)
{
    uint32_t n = d->n, cells = n * n;
    uint8_t visited[MVOT_GEN_MAX_CELLS] = {0};
    uint8_t stack[MVOT_GEN_MAX_CELLS];
    uint32_t sp = 0;
    memset(d->open_down, 0, sizeof d->open_down);
    memset(d->open_right, 0, sizeof d->open_right);
    uint32_t first = (uint32_t)mvot_rng_below(rng, cells);
    visited[first] = 1;
    stack[sp++] = (uint8_t)first;
    while (sp > 0) {
        uint32_t cur = stack[sp - 1], r = cur / n, c = cur % n;
        int cand[4], nc = 0;
        for (int dir = 0; dir < 4; dir++) {
            int rr = (int)r + mvot_dir_dr[dir], cc = (int)c + mvot_dir_dc[dir];
            if (rr < 0 || cc < 0 || rr >= (int)n || cc >= (int)n)
                continue;
            if (!visited[(uint32_t)rr * n + (uint32_t)cc])
                cand[nc++] = dir;
        }
        if (nc == 0) {
            sp--; /* dead end: backtrack, which is where the forks come from */
            continue;
        }
        int dir = cand[mvot_rng_below(rng, (uint64_t)nc)];
        uint32_t rr = (uint32_t)((int)r + mvot_dir_dr[dir]);
        uint32_t cc = (uint32_t)((int)c + mvot_dir_dc[dir]);
        switch (dir) {
        case MVOT_DIR_LEFT: d->open_right[r * n + cc] = 1; break;
        case MVOT_DIR_RIGHT: d->open_right[r * n + c] = 1; break;
        case MVOT_DIR_UP: d->open_down[rr * n + c] = 1; break;
        default: d->open_down[r * n + c] = 1; break;
        }
        visited[rr * n + cc] = 1;
        stack[sp++] = (uint8_t)(rr * n + cc);
    }
}

uint32_t mvot_maze_path(const struct mvot_draft *d, uint32_t from, uint32_t to, uint8_t *path)
{
    uint32_t n = d->n;
    int16_t prev[MVOT_GEN_MAX_CELLS];
    uint8_t queue[MVOT_GEN_MAX_CELLS];
    uint32_t qh = 0, qt = 0;
    for (uint32_t i = 0; i < n * n; i++)
        prev[i] = -1;
    prev[from] = (int16_t)from;
    queue[qt++] = (uint8_t)from;
    while (qh < qt) {
        uint32_t cur = queue[qh++], r = cur / n, c = cur % n;
        if (cur == to)
            break;
        for (int dir = 0; dir < 4; dir++) {
            if (!maze_open(d, r, c, dir))
                continue;
            uint32_t nb =
                (uint32_t)((int)(r * n + c) + mvot_dir_dr[dir] * (int)n + mvot_dir_dc[dir]);
            if (prev[nb] < 0) {
                prev[nb] = (int16_t)cur;
                queue[qt++] = (uint8_t)nb;
            }
        }
    }
    if (prev[to] < 0)
        return 0;
    uint32_t len = 1;
    for (uint32_t x = to; x != from; x = (uint32_t)prev[x])
        len++;
    uint32_t i = len;
    for (uint32_t x = to;; x = (uint32_t)prev[x]) {
        path[--i] = (uint8_t)x;
        if (x == from)
            break;
    }
    return len;
}

/* Tree distances from `from` to every cell (breadth-first over open walls). */
static void maze_dist(const struct mvot_draft *d, uint32_t from, int *dist)
{
    uint32_t n = d->n;
    uint8_t queue[MVOT_GEN_MAX_CELLS];
    uint32_t qh = 0, qt = 0;
    for (uint32_t i = 0; i < n * n; i++)
        dist[i] = -1;
    dist[from] = 0;
    queue[qt++] = (uint8_t)from;
    while (qh < qt) {
        uint32_t cur = queue[qh++], r = cur / n, c = cur % n;
        for (int dir = 0; dir < 4; dir++) {
            if (!maze_open(d, r, c, dir))
                continue;
            uint32_t nb = (uint32_t)((int)cur + mvot_dir_dr[dir] * (int)n + mvot_dir_dc[dir]);
            if (dist[nb] < 0) {
                dist[nb] = dist[cur] + 1;
                queue[qt++] = (uint8_t)nb;
            }
        }
    }
}

enum mvot_status mvot_maze_draft(struct mvot_rng *rng, uint32_t n, char target, uint32_t min_steps,
                                 uint32_t max_steps, struct mvot_draft *d, struct mvot_error *err)
{
    enum mvot_status st = mvot_draft_begin(d, MVOT_TASK_MAZE, n, target, err);
    if (st != MVOT_OK)
        return st;
    uint32_t cells = n * n;
    for (int maze_try = 0; maze_try < 64; maze_try++) {
        maze_generate(rng, d);
        for (int start_try = 0; start_try < 8; start_try++) {
            uint32_t start = (uint32_t)mvot_rng_below(rng, cells);
            int dist[MVOT_GEN_MAX_CELLS];
            uint8_t ends[MVOT_GEN_MAX_CELLS];
            uint32_t n_ends = 0;
            maze_dist(d, start, dist);
            for (uint32_t i = 0; i < cells; i++)
                if (dist[i] >= 1 && (uint32_t)dist[i] >= min_steps &&
                    (uint32_t)dist[i] <= max_steps)
                    ends[n_ends++] = (uint8_t)i;
            if (n_ends == 0)
                continue;
            uint32_t end = ends[mvot_rng_below(rng, n_ends)];
            uint8_t path[MVOT_GEN_MAX_CELLS];
            uint32_t len = mvot_maze_path(d, start, end, path);
            if (len < 2)
                return mvot_error_set(err, MVOT_ERR_INTERNAL, "gen maze", "no tree path");
            d->start_r = (uint8_t)(start / n);
            d->start_c = (uint8_t)(start % n);
            d->n_actions = len - 1;
            for (uint32_t i = 0; i + 1 < len; i++) {
                int dr = (int)(path[i + 1] / n) - (int)(path[i] / n);
                int dc = (int)(path[i + 1] % n) - (int)(path[i] % n);
                for (int dir = 0; dir < 4; dir++)
                    if (mvot_dir_dr[dir] == dr && mvot_dir_dc[dir] == dc)
                        d->actions[i] = (uint8_t)dir;
            }
            /* Candidates: the end at the target letter, three others (not the start) in a
             * random order in the remaining letters. */
            uint8_t others[MVOT_GEN_MAX_CELLS];
            uint32_t n_others = 0;
            for (uint32_t i = 0; i < cells; i++)
                if (i != start && i != end)
                    others[n_others++] = (uint8_t)i;
            mvot_rng_shuffle(rng, others, n_others, 1);
            uint32_t t = (uint32_t)(target - 'A'), k = 0;
            for (uint32_t slot = 0; slot < 4; slot++) {
                uint32_t cell = slot == t ? end : others[k++];
                d->cand_r[slot] = (uint8_t)(cell / n);
                d->cand_c[slot] = (uint8_t)(cell % n);
            }
            return MVOT_OK;
        }
    }
    return mvot_error_set(err, MVOT_ERR_INVALID, "gen maze", "no %ux%u maze path with %u..%u steps",
                          n, n, min_steps, max_steps);
}

int mvot_maze_can_move(const struct mvot_draft *d, uint32_t r, uint32_t c, int dir)
{
    return maze_open(d, r, c, dir);
}
