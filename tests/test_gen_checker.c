/* Independent checker for generated episodes. It re-derives every state, answer, text, cell
 * state and hash of a record from its layout and actions alone, with its own implementation of
 * the task rules of docs/tasks.md (it includes no gen internals), and validates those rules
 * against the official MVoT samples first, so the checker itself is tied to a peer.
 *
 * Tests: official samples decode (maze_info walls match paths; FrozenLake replays match the
 * official states/outcomes/rewards); 1000+ generated episodes at 128 px replay exactly; answer
 * balance; no layout in two splits; unique dedup hashes; frames decode at the right size; and
 * probe pixels of every 7th episode agree with the record (walls, holes, tables, agent). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/png.h"
#include "gen/episode.h"
#include "gen/gen.h"
#include "tests/test.h"

static const int DR[4] = {0, 1, 0, -1}, DC[4] = {-1, 0, 1, 0}; /* left down right up */
static const char *const ACT[6] = {"left", "down", "right", "up", "pickup", "drop"};

static int fl_corners; /* FROZENLAKE S or G on a corner, over the checked episodes */
/* Sampling options of the run being checked (docs/tasks.md), and what they allowed. */
static int opt_border_walks, opt_random_table, seen_bumps, seen_other_tables;

static int act_id(const char *s)
{
    for (int i = 0; i < 6; i++)
        if (s && strcmp(s, ACT[i]) == 0)
            return i;
    return -1;
}

/* The official MVoT sample episodes in the reference data folder, or NULL. */
static const char *samples_dir(void)
{
    static char buf[1024];
    const char *ref = t_reference_dir();
    if (!ref)
        return NULL;
    snprintf(buf, sizeof buf, "%s/mvot-data-samples", ref);
    return mvot_io_exists(buf) ? buf : NULL;
}

/* ---- maze rules ---- */

/* Is the wall between (r,c) and its neighbour in direction d open, per maze_info? */
static int maze_open(const char *info, int n, int r, int c, int d)
{
    int rr = r + DR[d], cc = c + DC[d];
    if (rr < 0 || cc < 0 || rr >= n || cc >= n)
        return 0;
    if (d == 1)
        return info[r * n + c] == 'T';
    if (d == 3)
        return info[rr * n + c] == 'T';
    if (d == 2)
        return info[n * n + r * n + c] == 'T';
    return info[n * n + r * n + cc] == 'T';
}

/* A spanning tree: n²-1 open walls, none pointing out of the grid, all cells connected. */
static int maze_is_tree(const char *info, int n)
{
    int open = 0, seen[100] = {0}, stack[100], sp = 0, count = 0;
    for (int k = 0; k < 2 * n * n; k++)
        open += info[k] == 'T';
    for (int k = 0; k < n; k++) {
        if (info[(n - 1) * n + k] == 'T' || info[n * n + k * n + n - 1] == 'T')
            return 0;
    }
    if (open != n * n - 1)
        return 0;
    seen[0] = 1;
    stack[sp++] = 0;
    while (sp) {
        int x = stack[--sp];
        count++;
        for (int d = 0; d < 4; d++)
            if (maze_open(info, n, x / n, x % n, d)) {
                int y = (x / n + DR[d]) * n + x % n + DC[d];
                if (!seen[y]) {
                    seen[y] = 1;
                    stack[sp++] = y;
                }
            }
    }
    return count == n * n;
}

static void test_official_maze_samples(void)
{
    const char *dir = samples_dir();
    if (!dir)
        T_SKIP("no mvot-data-samples in the reference data (MVOT_REFERENCE_DIR)");
    char *path = mvot_strdupf("%s/maze/grid3.json", dir);
    json_t *j = NULL;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_json_load_file(path, &j, &err), &err);
    ASSERT_TRUE(json_is_array(j) && json_array_size(j) == 6);
    size_t i;
    json_t *e;
    json_array_foreach(j, i, e)
    {
        int n = (int)json_integer_value(json_object_get(e, "grid_num"));
        const char *info = json_string_value(json_object_get(e, "maze_info"));
        json_t *locs = json_object_get(e, "path_locs"), *al = json_object_get(e, "action_list");
        json_t *cand = json_object_get(e, "candidate_locs");
        ASSERT_EQ_INT(n, 3);
        ASSERT_EQ_INT(strlen(info), 2 * n * n);
        ASSERT_TRUE(maze_is_tree(info, n));
        ASSERT_EQ_INT(json_array_size(al) + 1, json_array_size(locs));
        int seen[100] = {0};
        for (size_t k = 0; k + 1 < json_array_size(locs); k++) {
            int r0 = (int)json_integer_value(json_array_get(json_array_get(locs, k), 0));
            int c0 = (int)json_integer_value(json_array_get(json_array_get(locs, k), 1));
            int r1 = (int)json_integer_value(json_array_get(json_array_get(locs, k + 1), 0));
            int c1 = (int)json_integer_value(json_array_get(json_array_get(locs, k + 1), 1));
            const char *a = json_string_value(json_array_get(al, k));
            char want[16];
            int d = -1;
            for (int q = 0; q < 4; q++)
                if (DR[q] == r1 - r0 && DC[q] == c1 - c0)
                    d = q;
            ASSERT_TRUE(d >= 0);
            snprintf(want, sizeof want, "%s-1", d >= 0 ? ACT[d] : "?");
            ASSERT_EQ_STR(a, want);
            ASSERT_TRUE(d >= 0 && maze_open(info, n, r0, c0, d)); /* walls match the path */
            ASSERT_TRUE(!seen[r0 * n + c0]);                      /* unique tree path */
            seen[r0 * n + c0] = 1;
        }
        /* the end is among the candidates, the start is not */
        json_t *end = json_array_get(locs, json_array_size(locs) - 1),
               *start = json_array_get(locs, 0);
        int has_end = 0, has_start = 0;
        for (size_t k = 0; k < json_array_size(cand); k++) {
            has_end |= json_equal(json_array_get(cand, k), end);
            has_start |= json_equal(json_array_get(cand, k), start);
        }
        ASSERT_TRUE(has_end && !has_start);
    }
    json_decref(j);
    free(path);
}

/* FrozenLake replay: deterministic, border clamp, stop on H/G. Returns the outcome. */
static const char *fl_replay(const char *desc, int n, const int *acts, int L, int *states,
                             int *stopped_early, int *facing_out)
{
    int s = (int)(strchr(desc, 'S') - desc), facing = 1;
    states[0] = s;
    *stopped_early = 0;
    for (int i = 0; i < L; i++) {
        if (desc[s] == 'H' || desc[s] == 'G') {
            *stopped_early = 1;
            return "invalid";
        }
        int r = s / n + DR[acts[i]], c = s % n + DC[acts[i]];
        if (r >= 0 && c >= 0 && r < n && c < n)
            s = r * n + c;
        facing = acts[i];
        states[i + 1] = s;
        if (facing_out)
            facing_out[i + 1] = facing;
    }
    if (facing_out)
        facing_out[0] = 1;
    return desc[s] == 'G' ? "success" : desc[s] == 'H' ? "terminated" : "truncated";
}

static void test_official_frozenlake_samples(void)
{
    const char *dir = samples_dir();
    if (!dir)
        T_SKIP("no mvot-data-samples in the reference data (MVOT_REFERENCE_DIR)");
    char *path = mvot_strdupf("%s/frozenlake/level3/data.json", dir);
    json_t *j = NULL;
    struct mvot_error err = {0};
    ASSERT_OK(mvot_json_load_file(path, &j, &err), &err);
    const char *key;
    json_t *env;
    int checked = 0;
    json_object_foreach(j, key, env)
    {
        const char *desc = json_string_value(json_object_get(env, "env_desc"));
        json_t *acts = json_object_get(env, "actions"), *sts = json_object_get(env, "states");
        json_t *ex = json_object_get(env, "exec_states"), *rw = json_object_get(env, "rewards");
        json_t *add = json_object_get(env, "additional_actions");
        int n = 3;
        ASSERT_EQ_INT(strlen(desc), 9);
        for (size_t e = 0; e < json_array_size(acts); e++) {
            json_t *a = json_array_get(acts, e);
            int L = (int)json_array_size(a), ids[64], states[65], early;
            for (int i = 0; i < L && i < 64; i++)
                ids[i] = (int)json_integer_value(json_array_get(a, (size_t)i));
            const char *out = fl_replay(desc, n, ids, L, states, &early, NULL);
            ASSERT_TRUE(!early);
            ASSERT_EQ_STR(out, json_string_value(json_array_get(ex, e)));
            ASSERT_EQ_INT(json_array_size(json_array_get(sts, e)), L + 1);
            for (int i = 0; i <= L; i++)
                ASSERT_EQ_INT(states[i], json_integer_value(
                                             json_array_get(json_array_get(sts, e), (size_t)i)));
            double want_r = strcmp(out, "success") == 0 ? 1.0 : 0.0;
            ASSERT_NEAR(json_real_value(json_array_get(rw, e)), want_r, 0);
            if (json_array_size(json_array_get(add, e)) > 0)
                ASSERT_EQ_STR(out, "terminated");
            checked++;
        }
    }
    ASSERT_EQ_INT(checked, 12);
    json_decref(j);
    free(path);
}

/* ---- generated episodes ---- */

static int pair_at(json_t *a, size_t i, int *r, int *c)
{
    json_t *p = json_array_get(a, i);
    if (!json_is_array(p) || json_array_size(p) != 2)
        return -1;
    *r = (int)json_integer_value(json_array_get(p, 0));
    *c = (int)json_integer_value(json_array_get(p, 1));
    return 0;
}

static void get_rc(json_t *p, int *r, int *c)
{
    *r = (int)json_integer_value(json_array_get(p, 0));
    *c = (int)json_integer_value(json_array_get(p, 1));
}

static const char *step_text(int a)
{
    static const char *const t[6] = {"Go left. ", "Go down. ", "Go right. ",
                                     "Go up. ",   "Pick up. ", "Drop. "};
    return t[a];
}

struct checked {
    char answer;
    int n_options;
};

/* Replays one record against the rules; failures are reported through the asserts. */
static void check_episode(const struct mvot_episode *ep, struct checked *out)
{
    json_t *rec = ep->record, *layout = json_object_get(rec, "layout");
    json_t *acts = json_object_get(rec, "actions"), *states = json_object_get(rec, "states");
    const char *task = json_string_value(json_object_get(rec, "task"));
    int n = (int)ep->grid, L = (int)json_array_size(acts), ids[64];
    uint8_t cs[65][100];
    char answer = 0;
    memset(cs, 0, sizeof cs);
    ASSERT_TRUE(L >= 2 && L <= 32); /* default step range 2.. (official samples: 2..7) */
    ASSERT_EQ_INT(ep->n_frames, L + 1);
    ASSERT_EQ_INT(ep->n_steps, L);
    for (int i = 0; i < L; i++) {
        ids[i] = act_id(json_string_value(json_array_get(acts, (size_t)i)));
        ASSERT_TRUE(ids[i] >= 0);
        if (ids[i] < 0)
            return;
        ASSERT_EQ_STR(ep->step_text[i], step_text(ids[i]));
        ASSERT_TRUE(strncmp(ep->rationale[i], step_text(ids[i]), strlen(step_text(ids[i])) - 1) ==
                    0);
    }
    /* The instruction's action sequence, built independently. */
    char seq[2048] = "";
    for (int i = 0; i < L; i++)
        strncat(seq, step_text(ids[i]), sizeof seq - strlen(seq) - 1);
    json_t *extra = json_object_get(rec, "additional_actions");
    for (size_t i = 0; extra && i < json_array_size(extra); i++)
        strncat(seq, step_text(act_id(json_string_value(json_array_get(extra, i)))),
                sizeof seq - strlen(seq) - 1);
    char want_seq[2100];
    snprintf(want_seq, sizeof want_seq, "Full Action Sequence: %s\n", seq);
    ASSERT_CONTAINS(ep->instruction, want_seq);
    int cells = n * n;
    uint8_t layout_bytes[512];
    size_t lb = 0;

    if (strcmp(task, "maze") == 0) {
        const char *info = json_string_value(json_object_get(layout, "maze_info"));
        json_t *cand = json_object_get(layout, "candidates");
        int r, c, sr, sc;
        ASSERT_TRUE(info && strlen(info) == (size_t)(2 * cells));
        if (!info || strlen(info) != (size_t)(2 * cells))
            return;
        ASSERT_TRUE(maze_is_tree(info, n));
        ASSERT_TRUE(n >= 3 && n <= 6);
        get_rc(json_object_get(layout, "start"), &sr, &sc);
        r = sr;
        c = sc;
        int visited[100] = {0}, path[65];
        visited[r * n + c] = 1;
        path[0] = r * n + c;
        for (int i = 0; i < L; i++) {
            ASSERT_TRUE(ids[i] < 4 && maze_open(info, n, r, c, ids[i]));
            r += DR[ids[i]];
            c += DC[ids[i]];
            ASSERT_TRUE(!visited[r * n + c]); /* tree path: no revisits */
            visited[r * n + c] = 1;
            path[i + 1] = r * n + c;
        }
        ASSERT_EQ_INT(json_array_size(cand), 4);
        int cidx[4];
        for (int k = 0; k < 4; k++) {
            int cr, cc;
            pair_at(cand, (size_t)k, &cr, &cc);
            cidx[k] = cr * n + cc;
            ASSERT_TRUE(cidx[k] != sr * n + sc);
            for (int q = 0; q < k; q++)
                ASSERT_TRUE(cidx[q] != cidx[k]);
            if (cidx[k] == r * n + c)
                answer = (char)('A' + k);
        }
        ASSERT_TRUE(answer != 0);
        for (int k = 0; k <= L; k++) {
            cs[k][sr * n + sc] |= 0x02;
            for (int q = 0; q < 4; q++)
                cs[k][cidx[q]] |= (uint8_t)(0x04 | (q << 4));
            if (k > 0)
                for (int q = 0; q <= k; q++)
                    cs[k][path[q]] |= 0x08;
            cs[k][path[k]] |= 0x01;
            int pr, pc;
            pair_at(states, (size_t)k, &pr, &pc);
            ASSERT_EQ_INT(pr * n + pc, path[k]);
        }
        ASSERT_EQ_STR(ep->init_text, "Initial maze: ");
        char fin[64];
        snprintf(fin, sizeof fin, "Action sequence finished. The answer is %c.", answer);
        ASSERT_EQ_STR(ep->final_text, fin);
        layout_bytes[lb++] = 0;
        layout_bytes[lb++] = (uint8_t)n;
        for (int k = 0; k < 2 * cells; k++)
            layout_bytes[lb++] = info[k] == 'T';
        out->n_options = 4;
    } else if (strcmp(task, "frozenlake") == 0) {
        const char *desc = json_string_value(json_object_get(layout, "env_desc"));
        ASSERT_TRUE(desc && strlen(desc) == (size_t)cells);
        if (!desc || strlen(desc) != (size_t)cells)
            return;
        int s = (int)(strchr(desc, 'S') - desc), g = (int)(strchr(desc, 'G') - desc);
        /* S and G may be anywhere, corners included (counted for the run's check). */
        fl_corners += (s / n == 0 || s / n == n - 1) && (s % n == 0 || s % n == n - 1);
        fl_corners += (g / n == 0 || g / n == n - 1) && (g % n == 0 || g % n == n - 1);
        /* No walk into the border by default, additional actions included. */
        int wr = s / n, wc = s % n, bumps = 0;
        for (size_t i = 0; i < (size_t)L + json_array_size(extra); i++) {
            int a = i < (size_t)L ? ids[i]
                                  : act_id(json_string_value(json_array_get(extra, i - (size_t)L)));
            if (a < 0 || a > 3)
                continue;
            wr += DR[a];
            wc += DC[a];
            if (wr < 0 || wc < 0 || wr >= n || wc >= n) {
                bumps++;
                wr -= DR[a];
                wc -= DC[a];
            }
        }
        if (!opt_border_walks)
            ASSERT_EQ_INT(bumps, 0);
        seen_bumps += bumps;
        /* solvable: BFS S->G avoiding holes */
        int seen[100] = {0}, q[100], qh = 0, qt = 0;
        seen[s] = 1;
        q[qt++] = s;
        while (qh < qt) {
            int x = q[qh++];
            for (int d = 0; d < 4; d++) {
                int rr = x / n + DR[d], cc = x % n + DC[d];
                if (rr < 0 || cc < 0 || rr >= n || cc >= n)
                    continue;
                int y = rr * n + cc;
                if (!seen[y] && desc[y] != 'H') {
                    seen[y] = 1;
                    q[qt++] = y;
                }
            }
        }
        ASSERT_TRUE(seen[g]);
        int st[65], early, fac[65];
        const char *outc = fl_replay(desc, n, ids, L, st, &early, fac);
        ASSERT_TRUE(!early); /* never an action after H/G */
        ASSERT_EQ_STR(json_string_value(json_object_get(rec, "exec_state")), outc);
        answer = strcmp(outc, "success") == 0 ? 'A' : strcmp(outc, "terminated") == 0 ? 'B' : 'C';
        if (json_array_size(extra) > 0)
            ASSERT_EQ_INT(answer, 'B');
        for (int k = 0; k <= L; k++) {
            int pr, pc;
            pair_at(states, (size_t)k, &pr, &pc);
            ASSERT_EQ_INT(pr * n + pc, st[k]);
            for (int i = 0; i < cells; i++)
                cs[k][i] = desc[i] == 'H'   ? 0x02
                           : desc[i] == 'G' ? 0x04
                           : desc[i] == 'S' ? 0x08
                                            : 0;
            cs[k][st[k]] |= (uint8_t)(0x01 | (desc[st[k]] == 'H' ? 0x10 : 0) | (fac[k] << 5));
        }
        ASSERT_EQ_STR(ep->init_text, "Initial State: ");
        char fin[64];
        snprintf(fin, sizeof fin, "Action sequence stopped. The answer is %c.", answer);
        ASSERT_EQ_STR(ep->final_text, fin);
        ASSERT_CONTAINS(ep->instruction, "\nA. Action Success. \nB. Action Failed: Fall into the "
                                         "Hole. \nC. Action Failed: Agent Safe but Fail to Reach "
                                         "Destination. \n");
        layout_bytes[lb++] = 1;
        layout_bytes[lb++] = (uint8_t)n;
        memcpy(layout_bytes + lb, desc, (size_t)cells);
        lb += (size_t)cells;
        out->n_options = 3;
    } else {
        json_t *rows = json_object_get(layout, "rows");
        char kind[100];
        int tables = 0;
        ASSERT_TRUE(n >= 7 && n <= 10);
        for (int r = 0; r < n; r++) {
            const char *row = json_string_value(json_array_get(rows, (size_t)r));
            ASSERT_TRUE(row && strlen(row) == (size_t)n);
            if (!row || strlen(row) != (size_t)n)
                return;
            for (int c = 0; c < n; c++) {
                kind[r * n + c] = row[c];
                int border = r == 0 || c == 0 || r == n - 1 || c == n - 1;
                ASSERT_TRUE(border == (row[c] == '#'));
                tables += row[c] == 'T';
            }
        }
        /* the fixed table of InstallingAPrinter: 3 columns by 2 rows (--random-table: 2..6
         * cells) */
        ASSERT_TRUE(tables >= 2 && tables <= 6);
        seen_other_tables += tables != 6;
        for (int r = 0; r < n && !opt_random_table; r++)
            for (int c = 0; c < n; c++)
                if (kind[r * n + c] == 'T' && kind[(r - 1) * n + c] != 'T' &&
                    kind[r * n + c - 1] != 'T')
                    ASSERT_TRUE(c + 2 < n && kind[r * n + c + 1] == 'T' &&
                                kind[r * n + c + 2] == 'T' && kind[(r + 1) * n + c] == 'T');
        int ar, ac, pr, pc, where = 0 /* 0 floor 1 table 2 carried */, picked = 0;
        get_rc(json_object_get(layout, "agent"), &ar, &ac);
        get_rc(json_object_get(layout, "printer"), &pr, &pc);
        const char *fs = json_string_value(json_object_get(layout, "facing"));
        int f = -1;
        for (int d = 0; d < 4; d++)
            if (fs && strcmp(fs, ACT[d]) == 0)
                f = d;
        ASSERT_TRUE(f >= 0 && kind[ar * n + ac] == '.' && kind[pr * n + pc] == '.');
        ASSERT_TRUE(ar != pr || ac != pc);
        layout_bytes[lb++] = 2;
        layout_bytes[lb++] = (uint8_t)n;
        for (int i = 0; i < cells; i++)
            layout_bytes[lb++] = kind[i] == '#' ? 1 : kind[i] == 'T' ? 2 : 0;
        layout_bytes[lb++] = (uint8_t)pr;
        layout_bytes[lb++] = (uint8_t)pc;
        layout_bytes[lb++] = (uint8_t)ar;
        layout_bytes[lb++] = (uint8_t)ac;
        layout_bytes[lb++] = (uint8_t)f;
        for (int k = 0; k <= L; k++) {
            if (k > 0) {
                int a = ids[k - 1];
                int fr = ar + DR[f], fc = ac + DC[f];
                if (a < 4) {
                    f = a;
                    int r = ar + DR[a], c = ac + DC[a];
                    if (kind[r * n + c] == '.' && !(where == 0 && pr == r && pc == c)) {
                        ar = r;
                        ac = c;
                    }
                } else if (a == 4) {
                    /* an adjacent printer is picked up; the agent turns toward it */
                    int dir = pr == fr && pc == fc ? f : -1;
                    for (int d = 0; d < 4 && dir < 0; d++)
                        if (pr == ar + DR[d] && pc == ac + DC[d])
                            dir = d;
                    if (where != 2 && dir >= 0) {
                        f = dir;
                        where = 2;
                        picked = 1;
                    }
                } else if (where == 2 && kind[fr * n + fc] != '#') {
                    where = kind[fr * n + fc] == 'T' ? 1 : 0;
                    pr = fr;
                    pc = fc;
                }
            }
            int sr, sc;
            pair_at(states, (size_t)k, &sr, &sc);
            ASSERT_TRUE(sr == ar && sc == ac);
            ASSERT_EQ_STR(ep->caption ? ep->caption[k] : NULL,
                          where == 2 ? "Carrying objects: printer_0." : "Carrying objects: None.");
            for (int i = 0; i < cells; i++)
                cs[k][i] = kind[i] == '#' ? 0x02 : kind[i] == 'T' ? 0x04 : 0;
            if (where != 2)
                cs[k][pr * n + pc] |= 0x08;
            cs[k][ar * n + ac] |= (uint8_t)(0x01 | (f << 4) | (where == 2 ? 0x40 : 0));
        }
        answer = where == 1 ? 'A' : where == 2 ? 'C' : !picked ? 'B' : 'D';
        char fin[64];
        snprintf(fin, sizeof fin, "Action sequence finished. The answer is %c.", answer);
        ASSERT_EQ_STR(ep->final_text, fin);
        ASSERT_CONTAINS(ep->instruction, "Return A, B, C or D. ");
        out->n_options = 4;
    }
    char ans[2] = {answer, 0};
    ASSERT_EQ_STR(ep->answer, ans);
    out->answer = answer;
    /* cell states and cell boxes */
    for (int k = 0; k <= L; k++)
        for (int i = 0; i < cells; i++)
            if (ep->cell_state[(size_t)k * (size_t)cells + (size_t)i] != cs[k][i]) {
                T_FAIL("%s frame %d cell %d: state 0x%02x, checker 0x%02x", ep->key, k, i,
                       ep->cell_state[(size_t)k * (size_t)cells + (size_t)i], cs[k][i]);
                k = L + 1;
                break;
            }
    int cell = ep->cells[0].x1 - ep->cells[0].x0;
    for (int i = 0; i < cells; i++) {
        const struct mvot_cell_box *b = &ep->cells[i];
        ASSERT_EQ_INT(b->x1 - b->x0, cell);
        ASSERT_EQ_INT(b->y1 - b->y0, cell);
        ASSERT_EQ_INT(b->x0, ep->cells[0].x0 + (i % n) * cell);
        ASSERT_EQ_INT(b->y0, ep->cells[0].y0 + (i / n) * cell);
        if (16 * n <= (int)ep->image_size - (strcmp(task, "maze") == 0 ? 32 : 0))
            ASSERT_TRUE(b->x0 % 16 == 0 && b->y0 % 16 == 0 && cell % 16 == 0);
    }
    /* layout hash (split key) recomputed from the documented canonical bytes */
    ASSERT_EQ_U64(mvot_hash64(layout_bytes, lb), ep->layout_hash);
}

/* ---- pixels agree with the record ---- */

static const uint8_t *px_at(const struct mvot_image *img, int x, int y)
{
    return img->px + ((size_t)y * img->w + (size_t)x) * img->channels;
}

static int is_red(const uint8_t *p)
{
    return p[0] > 180 && p[1] < 80 && p[2] < 80;
}

/* Checks what each frame shows at a few probe points against the record alone: maze walls
 * black exactly where maze_info is closed, the red start dot, the red x on the agent's cell;
 * frozenlake hole/gift/elf; minibehavior wall/table colours and the red agent. */
static void check_pixels(const struct mvot_episode *ep)
{
    struct mvot_error err = {0};
    json_t *rec = ep->record, *layout = json_object_get(rec, "layout");
    json_t *states = json_object_get(rec, "states");
    const char *task = json_string_value(json_object_get(rec, "task"));
    int n = (int)ep->grid;
    for (uint32_t k = 0; k < ep->n_frames; k++) {
        struct mvot_image img;
        if (mvot_png_decode(ep->frame_png[k], ep->frame_png_len[k], ep->key, &img, &err) !=
            MVOT_OK) {
            T_FAIL("%s", err.msg);
            return;
        }
        int ar, ac;
        get_rc(json_array_get(states, k), &ar, &ac);
        const struct mvot_cell_box *b = &ep->cells[ar * n + ac];
        int cx = (b->x0 + b->x1) / 2, cy = (b->y0 + b->y1) / 2;
        if (strcmp(task, "maze") == 0) {
            const char *info = json_string_value(json_object_get(layout, "maze_info"));
            ASSERT_TRUE(is_red(px_at(&img, cx, cy))); /* x (or the start dot) on the agent */
            for (int r = 0; r < n; r++)
                for (int c = 0; c + 1 < n; c++) {
                    const struct mvot_cell_box *q = &ep->cells[r * n + c];
                    /* a quarter down the shared edge: away from letters, arrows and dots */
                    const uint8_t *p = px_at(&img, q->x1, q->y0 + (q->y1 - q->y0) / 4);
                    int black = p[0] < 60 && p[1] < 60 && p[2] < 60;
                    if (black != (info[n * n + r * n + c] == 'F'))
                        T_FAIL("%s frame %u: wall right of (%d,%d) drawn %d, maze_info %c", ep->key,
                               k, r, c, black, info[n * n + r * n + c]);
                }
            for (int r = 0; r + 1 < n; r++)
                for (int c = 0; c < n; c++) {
                    const struct mvot_cell_box *q = &ep->cells[r * n + c];
                    const uint8_t *p = px_at(&img, q->x0 + (q->x1 - q->x0) / 4, q->y1);
                    int black = p[0] < 60 && p[1] < 60 && p[2] < 60;
                    if (black != (info[r * n + c] == 'F'))
                        T_FAIL("%s frame %u: wall below (%d,%d) drawn %d, maze_info %c", ep->key, k,
                               r, c, black, info[r * n + c]);
                }
        } else if (strcmp(task, "frozenlake") == 0) {
            const char *desc = json_string_value(json_object_get(layout, "env_desc"));
            for (int i = 0; i < n * n; i++) {
                const struct mvot_cell_box *q = &ep->cells[i];
                const uint8_t *p =
                    px_at(&img, (q->x0 + q->x1) / 2 - (q->x1 - q->x0) / 3, (q->y0 + q->y1) / 2);
                int blue = p[0] < 120 && p[2] > p[0] + 60; /* water, rim or cracked hole, not ice */
                if (blue != (desc[i] == 'H'))
                    T_FAIL("%s frame %u: cell %d hole drawn %d, env_desc %c", ep->key, k, i, blue,
                           desc[i]);
            }
            /* the elf's red tunic, unless it fell */
            if (desc[ar * n + ac] != 'H') {
                int h = b->y1 - b->y0;
                ASSERT_TRUE(is_red(px_at(&img, cx, b->y0 + h * 55 / 100)));
            }
        } else {
            json_t *rows = json_object_get(layout, "rows");
            for (int r = 0; r < n; r++)
                for (int c = 0; c < n; c++) {
                    char kind = json_string_value(json_array_get(rows, (size_t)r))[c];
                    const struct mvot_cell_box *q = &ep->cells[r * n + c];
                    const uint8_t *p = px_at(&img, q->x0 + 2, q->y0 + (q->y1 - q->y0) / 2);
                    int grey = p[0] >= 95 && p[0] <= 130 && abs(p[0] - p[1]) < 4;
                    int tan = p[0] > 150 && p[1] > 100 && p[2] < 130 && p[0] > p[2] + 40;
                    uint8_t st = ep->cell_state[(size_t)k * (size_t)(n * n) + (size_t)(r * n + c)];
                    if (st & 0x09) /* the printer or the agent may cover the probe */
                        continue;
                    if ((kind == '#') != grey || (kind == 'T') != tan)
                        T_FAIL("%s frame %u: (%d,%d) drawn wall %d table %d, rows say %c", ep->key,
                               k, r, c, grey, tan, kind);
                }
            ASSERT_TRUE(is_red(px_at(&img, cx, cy)));
        }
        mvot_image_free(&img);
    }
}

static void test_generated_episodes_replay(void)
{
    char *dir = t_tmpdir();
    struct mvot_gen_config cfg;
    struct mvot_error err = {0};
    mvot_gen_config_default(&cfg);
    cfg.episodes = 334; /* x3 tasks = 1002 episodes */
    cfg.seed = 12345;
    cfg.image_size = 128;
    cfg.max_steps = 24;
    struct mvot_pool *pool = mvot_pool_create(2);
    json_t *summary = NULL;
    ASSERT_OK(mvot_gen_run(&cfg, dir, pool, NULL, &summary, &err), &err);
    mvot_pool_free(pool);
    ASSERT_EQ_INT(json_integer_value(json_object_get(summary, "leakage")), 0);

    struct mvot_episode_reader *r = NULL;
    ASSERT_OK(mvot_episode_reader_open(dir, &r, &err), &err);
    int counts[3][4] = {{0}}, total = 0, fails_before = t_failed_asserts;
    uint64_t *layouts = calloc(1100, sizeof *layouts), *dedups = calloc(1100, sizeof *dedups);
    int *splits = calloc(1100, sizeof *splits);
    uint64_t *paths = calloc(1100, sizeof *paths);
    for (;;) {
        struct mvot_episode ep;
        int done = 0;
        if (mvot_episode_reader_next(r, &ep, &done, &err) != MVOT_OK) {
            T_FAIL("reader: %s", err.msg);
            break;
        }
        if (done)
            break;
        struct checked c = {0};
        check_episode(&ep, &c);
        if (total % 7 == 0)
            check_pixels(&ep);
        if (c.answer >= 'A' && c.answer <= 'D')
            counts[ep.task][c.answer - 'A']++;
        const char *dh = json_string_value(json_object_get(ep.record, "dedup_hash"));
        if (ep.task == MVOT_TASK_MAZE && total < 1100) {
            /* the official loader's remove_duplicates key: the path (cells visited) */
            char *sj = json_dumps(json_object_get(ep.record, "states"), JSON_COMPACT);
            paths[total] = sj ? mvot_hash64_seed(sj, strlen(sj), ep.grid) : 0;
            free(sj);
        }
        if (total < 1100) {
            layouts[total] = ep.layout_hash;
            splits[total] = (int)ep.split;
            ASSERT_TRUE(dh && mvot_hash_parse_hex(dh, &dedups[total]) == 0);
        }
        /* frame 0 and the last frame decode at the declared size */
        for (uint32_t k = 0; k<ep.n_frames; k += ep.n_frames - 1> 0 ? ep.n_frames - 1 : 1) {
            struct mvot_image img;
            ASSERT_OK(mvot_png_decode(ep.frame_png[k], ep.frame_png_len[k], ep.key, &img, &err),
                      &err);
            ASSERT_TRUE(img.w == 128 && img.h == 128 && img.channels == 3);
            mvot_image_free(&img);
        }
        total++;
        mvot_episode_free(&ep);
        if (t_failed_asserts - fails_before > 20)
            break; /* enough to diagnose */
    }
    mvot_episode_reader_close(r);
    ASSERT_EQ_INT(total, 1002);
    /* balance: within one per task */
    for (int t = 0; t < 3; t++) {
        int k = t == 1 ? 3 : 4, lo = 1 << 30, hi = 0;
        for (int a = 0; a < k; a++) {
            lo = counts[t][a] < lo ? counts[t][a] : lo;
            hi = counts[t][a] > hi ? counts[t][a] : hi;
        }
        ASSERT_TRUE(hi - lo <= 1);
        ASSERT_EQ_INT(counts[t][0] + counts[t][1] + counts[t][2] + counts[t][3], 334);
    }
    /* no layout in two splits; dedup hashes unique */
    int leaks = 0, dups = 0;
    for (int i = 0; i < total && i < 1100; i++)
        for (int j = i + 1; j < total && j < 1100; j++) {
            if (layouts[i] == layouts[j] && splits[i] != splits[j])
                leaks++;
            if (dedups[i] == dedups[j])
                dups++;
            if (paths[i] && paths[i] == paths[j])
                dups++;
        }
    ASSERT_EQ_INT(leaks, 0);
    ASSERT_EQ_INT(dups, 0);
    /* the manifest agrees with what we read */
    json_t *tasks = json_object_get(summary, "tasks");
    ASSERT_EQ_INT(json_integer_value(json_object_get(
                      json_object_get(json_object_get(tasks, "maze"), "answers"), "A")),
                  counts[0][0]);
    ASSERT_TRUE(fl_corners > 0);
    free(paths);
    free(layouts);
    free(dedups);
    free(splits);
    json_decref(summary);
    free(dir);
}

/* The sampling options: border walks, random tables and FrozenLake maps shared by blocks of
 * 12 consecutive episodes replay by the same rules, and do what they say. */
static void test_options_replay(void)
{
    char *dir = t_tmpdir();
    struct mvot_gen_config cfg;
    struct mvot_error err = {0};
    mvot_gen_config_default(&cfg);
    cfg.tasks = (1u << MVOT_TASK_FROZENLAKE) | (1u << MVOT_TASK_MINIBEHAVIOR);
    cfg.episodes = 48;
    cfg.seed = 9;
    cfg.image_size = 128;
    cfg.frozenlake_border_walks = opt_border_walks = 1;
    cfg.minibehavior_random_table = opt_random_table = 1;
    cfg.frozenlake_per_map = 12;
    ASSERT_OK(mvot_gen_run(&cfg, dir, NULL, NULL, NULL, &err), &err);
    struct mvot_episode_reader *r = NULL;
    ASSERT_OK(mvot_episode_reader_open(dir, &r, &err), &err);
    uint64_t fl_layout[48] = {0};
    int total = 0;
    for (;;) {
        struct mvot_episode ep;
        int done = 0;
        if (mvot_episode_reader_next(r, &ep, &done, &err) != MVOT_OK || done)
            break;
        struct checked c = {0};
        check_episode(&ep, &c);
        if (ep.task == MVOT_TASK_FROZENLAKE && total < 48)
            fl_layout[total] = ep.layout_hash;
        total++;
        mvot_episode_free(&ep);
    }
    mvot_episode_reader_close(r);
    ASSERT_EQ_INT(total, 96);
    for (int i = 0; i < 48; i++)
        ASSERT_TRUE(fl_layout[i] == fl_layout[i - i % 12]); /* one map per block of 12 */
    ASSERT_TRUE(fl_layout[0] != fl_layout[12]);
    ASSERT_TRUE(seen_bumps > 0);
    ASSERT_TRUE(seen_other_tables > 0);
    opt_border_walks = opt_random_table = 0;
    free(dir);
}

TEST_MAIN(test_official_maze_samples, test_official_frozenlake_samples,
          test_generated_episodes_replay, test_options_replay)
