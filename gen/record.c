/* Episode records (docs/episode-format.md): building the JSON record of a generated draft
 * (texts exactly as the official loader writes them, rationales, layout, states, cell boxes and
 * per-frame cell states), the canonical layout/dedup hashes, and rebuilding a draft from a
 * record (used by export-mvot, show and the import round trip).
 *
 * Invariant: a record is self-describing: layout + actions in it reproduce every state,
 * answer and frame (the tests replay records with an independent checker). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "gen/gen.h"
#include "gen/internal.h"
#include "gen/record.h"

static const char *const DIR_WORD[4] = {"left", "down", "right", "up"};

const char *mvot_record_step_text(int action)
{
    static const char *const t[6] = {"Go left. ", "Go down. ", "Go right. ",
                                     "Go up. ",   "Pick up. ", "Drop. "};
    return action >= 0 && action < 6 ? t[action] : "";
}

static const char MAZE_PREFIX[] =
    "Task: Maze Navigation Simulation\nDetermine the final destination (A, B, C or D) from the "
    "starting point (red point) following the action sequence. The definitions of the actions "
    "are as below. \n* Go up/left/down/right: move one grid space in the absolute "
    "up/left/down/right direction. \nFull Action Sequence: ";
static const char FL_PREFIX[] =
    "Task: FrozenLake\nDetermine whether the agent (elf character) can safely reach the gift "
    "following the action sequence without falling into the holes. If not, identify the failure "
    "reason. The definitions of the actions are as below. \n* Go up/left/down/right: move one "
    "grid space in the absolute up/left/down/right direction. \nReturn A, B or C. \nFull Action "
    "Sequence: ";
static const char FL_OPTIONS[] = "\nA. Action Success. \nB. Action Failed: Fall into the Hole. "
                                 "\nC. Action Failed: Agent Safe but Fail to Reach Destination. \n";
static const char MB_PREFIX[] =
    "Task: MiniBehavior Installing a Printer\nDetermine whether the agent (red triangle) "
    "installs the printer on the table following the action sequence. If not, identify the "
    "failure reason. The definitions of the actions are as below. \n* Go up/left/down/right: "
    "face the absolute up/left/down/right direction and move one grid space if that space is "
    "free. \n* Pick up: pick up an object next to the agent, turning toward it. \n* Drop: "
    "put the carried object down in front of the agent. \nReturn A, B, C or D. \nFull Action "
    "Sequence: ";
static const char MB_OPTIONS[] =
    "\nA. Action Success. \nB. Action Failed: Printer Never Picked Up. \nC. Action Failed: Agent "
    "Still Carrying the Printer. \nD. Action Failed: Printer Dropped on the Floor. \n";

static const char *const FL_OPTION_LIST[3] = {
    "A. Action Success. ", "B. Action Failed: Fall into the Hole. ",
    "C. Action Failed: Agent Safe but Fail to Reach Destination. "};
static const char *const MB_OPTION_LIST[4] = {
    "A. Action Success. ", "B. Action Failed: Printer Never Picked Up. ",
    "C. Action Failed: Agent Still Carrying the Printer. ",
    "D. Action Failed: Printer Dropped on the Floor. "};

/* Canonical bytes of the layout (split key) and of layout + initial state + actions (dedup). */
static size_t layout_bytes(const struct mvot_draft *d, uint8_t *out, int with_episode)
{
    uint32_t n = d->n, cells = n * n;
    size_t k = 0;
    out[k++] = (uint8_t)d->task;
    out[k++] = (uint8_t)n;
    switch (d->task) {
    case MVOT_TASK_MAZE:
        memcpy(out + k, d->open_down, cells);
        k += cells;
        memcpy(out + k, d->open_right, cells);
        k += cells;
        break;
    case MVOT_TASK_FROZENLAKE:
        memcpy(out + k, d->desc, cells);
        k += cells;
        break;
    case MVOT_TASK_MINIBEHAVIOR:
        memcpy(out + k, d->kind, cells);
        k += cells;
        out[k++] = d->printer_r;
        out[k++] = d->printer_c;
        out[k++] = d->start_r;
        out[k++] = d->start_c;
        out[k++] = d->facing0;
        break;
    }
    if (with_episode) {
        out[k++] = d->start_r;
        out[k++] = d->start_c;
        out[k++] = (uint8_t)d->n_actions;
        memcpy(out + k, d->actions, d->n_actions);
        k += d->n_actions;
        out[k++] = (uint8_t)d->n_extra;
        memcpy(out + k, d->extra, d->n_extra);
        k += d->n_extra;
    }
    return k;
}

uint64_t mvot_record_layout_hash(const struct mvot_draft *d)
{
    uint8_t buf[4 * MVOT_GEN_MAX_CELLS];
    return mvot_hash64(buf, layout_bytes(d, buf, 0));
}

uint64_t mvot_record_dedup_hash(const struct mvot_draft *d)
{
    uint8_t buf[4 * MVOT_GEN_MAX_CELLS];
    return mvot_hash64(buf, layout_bytes(d, buf, 1));
}

static json_t *jpair(uint32_t r, uint32_t c)
{
    return json_pack("[ii]", (json_int_t)r, (json_int_t)c);
}

static enum mvot_status jset(json_t *o, const char *k, json_t *v)
{
    if (!v || json_object_set_new(o, k, v) != 0)
        return MVOT_ERR_NOMEM;
    return MVOT_OK;
}

static enum mvot_status jappend(json_t *a, json_t *v)
{
    if (!v || json_array_append_new(a, v) != 0)
        return MVOT_ERR_NOMEM;
    return MVOT_OK;
}

/* Rationale of step i (1-based in the text, 0-based here). */
static char *rationale(const struct mvot_draft *d, const struct mvot_trace *t, uint32_t i)
{
    const struct mvot_wstate *a = &t->st[i], *b = &t->st[i + 1];
    int act = d->actions[i];
    const char *st = mvot_record_step_text(act);
    size_t sl = strlen(st);
    char head[16];
    snprintf(head, sizeof head, "%.*s", (int)(sl - 1), st); /* without the trailing space */
    uint32_t n = d->n;
    switch (d->task) {
    case MVOT_TASK_MAZE:
        return mvot_strdupf("%s The agent moves from (%u,%u) to (%u,%u).", head, a->r, a->c, b->r,
                            b->c);
    case MVOT_TASK_FROZENLAKE:
        if (a->r == b->r && a->c == b->c)
            return mvot_strdupf("%s The agent hits the border and stays at (%u,%u).", head, a->r,
                                a->c);
        if (b->fell)
            return mvot_strdupf("%s The agent moves from (%u,%u) to (%u,%u) and falls into the "
                                "hole.",
                                head, a->r, a->c, b->r, b->c);
        if (b->goal)
            return mvot_strdupf("%s The agent moves from (%u,%u) to (%u,%u) and reaches the gift.",
                                head, a->r, a->c, b->r, b->c);
        return mvot_strdupf("%s The agent moves from (%u,%u) to (%u,%u).", head, a->r, a->c, b->r,
                            b->c);
    case MVOT_TASK_MINIBEHAVIOR: {
        if (act <= 3) {
            if (a->r != b->r || a->c != b->c)
                return mvot_strdupf("%s The agent moves from (%u,%u) to (%u,%u).", head, a->r, a->c,
                                    b->r, b->c);
            uint32_t fr = (uint32_t)((int)a->r + mvot_dir_dr[act]);
            uint32_t fc = (uint32_t)((int)a->c + mvot_dir_dc[act]);
            const char *what = "the wall";
            if (a->printer_where == MVOT_PR_FLOOR && a->printer_r == fr && a->printer_c == fc)
                what = "the printer";
            else if (d->kind[fr * n + fc] == MVOT_MB_TABLE)
                what = "the table";
            return mvot_strdupf("%s The agent turns %s at (%u,%u); %s at (%u,%u) blocks the way.",
                                head, DIR_WORD[act], a->r, a->c, what, fr, fc);
        }
        uint32_t fr = (uint32_t)((int)a->r + mvot_dir_dr[a->facing]);
        uint32_t fc = (uint32_t)((int)a->c + mvot_dir_dc[a->facing]);
        if (act == MVOT_ACT_PICKUP) {
            if (b->printer_where == MVOT_PR_CARRIED && a->printer_where != MVOT_PR_CARRIED) {
                if (b->facing != a->facing)
                    return mvot_strdupf(
                        "%s The agent turns %s and picks up printer_0 from (%u,%u).", head,
                        DIR_WORD[b->facing], a->printer_r, a->printer_c);
                return mvot_strdupf("%s The agent picks up printer_0 from (%u,%u).", head, fr, fc);
            }
            if (a->printer_where == MVOT_PR_CARRIED)
                return mvot_strdupf("%s The agent already carries printer_0; nothing happens.",
                                    head);
            return mvot_strdupf(
                "%s printer_0 is not next to the agent at (%u,%u); nothing happens.", head, a->r,
                a->c);
        }
        if (a->printer_where != MVOT_PR_CARRIED)
            return mvot_strdupf("%s The agent carries nothing; nothing happens.", head);
        if (b->printer_where == MVOT_PR_TABLE)
            return mvot_strdupf("%s The agent puts printer_0 on the table at (%u,%u).", head, fr,
                                fc);
        if (b->printer_where == MVOT_PR_FLOOR)
            return mvot_strdupf("%s The agent drops printer_0 on the floor at (%u,%u).", head, fr,
                                fc);
        return mvot_strdupf("%s The wall at (%u,%u) is in the way; the agent keeps printer_0.",
                            head, fr, fc);
    }
    }
    return NULL;
}

static char *final_rationale(const struct mvot_draft *d, const struct mvot_trace *t)
{
    const struct mvot_wstate *s = &t->st[t->n_frames - 1];
    switch (d->task) {
    case MVOT_TASK_MAZE:
        return mvot_strdupf("The agent ends at (%u,%u), which is marked %c.", s->r, s->c,
                            t->answer);
    case MVOT_TASK_FROZENLAKE:
        if (t->answer == 'A')
            return mvot_strdupf("The agent reached the gift at (%u,%u).", s->r, s->c);
        if (t->answer == 'B')
            return mvot_strdupf("The agent fell into the hole at (%u,%u).", s->r, s->c);
        return mvot_strdupf("The agent is safe at (%u,%u) but did not reach the gift.", s->r, s->c);
    case MVOT_TASK_MINIBEHAVIOR:
        switch (t->answer) {
        case 'A':
            return mvot_strdupf("printer_0 is on the table at (%u,%u).", s->printer_r,
                                s->printer_c);
        case 'B': return mvot_strdupf("The agent never picked up printer_0.");
        case 'C': return mvot_strdupf("The agent still carries printer_0.");
        default:
            return mvot_strdupf("printer_0 lies on the floor at (%u,%u).", s->printer_r,
                                s->printer_c);
        }
    }
    return NULL;
}

char *mvot_record_instruction(const struct mvot_draft *d)
{
    struct mvot_buf b;
    mvot_buf_init(&b, 1 << 16);
    const char *prefix = d->task == MVOT_TASK_MAZE         ? MAZE_PREFIX
                         : d->task == MVOT_TASK_FROZENLAKE ? FL_PREFIX
                                                           : MB_PREFIX;
    enum mvot_status st = mvot_buf_append(&b, prefix, strlen(prefix));
    for (uint32_t i = 0; i < d->n_actions && st == MVOT_OK; i++) {
        const char *s = mvot_record_step_text(d->actions[i]);
        st = mvot_buf_append(&b, s, strlen(s));
    }
    for (uint32_t i = 0; i < d->n_extra && st == MVOT_OK; i++) {
        const char *s = mvot_record_step_text(d->extra[i]);
        st = mvot_buf_append(&b, s, strlen(s));
    }
    const char *suffix = d->task == MVOT_TASK_MAZE         ? "\n"
                         : d->task == MVOT_TASK_FROZENLAKE ? FL_OPTIONS
                                                           : MB_OPTIONS;
    if (st == MVOT_OK)
        st = mvot_buf_append(&b, suffix, strlen(suffix) + 1); /* with the NUL */
    if (st != MVOT_OK) {
        mvot_buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}

static const char *facing_name(int f)
{
    return DIR_WORD[f & 3];
}

static json_t *layout_json(const struct mvot_draft *d)
{
    uint32_t n = d->n, cells = n * n;
    json_t *o = json_object();
    if (!o)
        return NULL;
    int ok = 1;
    if (d->task == MVOT_TASK_MAZE) {
        char info[2 * MVOT_GEN_MAX_CELLS + 1];
        for (uint32_t k = 0; k < cells; k++) {
            info[k] = d->open_down[k] ? 'T' : 'F';
            info[cells + k] = d->open_right[k] ? 'T' : 'F';
        }
        info[2 * cells] = 0;
        json_t *cand = json_array();
        for (int j = 0; j < 4 && cand; j++)
            ok &= json_array_append_new(cand, jpair(d->cand_r[j], d->cand_c[j])) == 0;
        ok &= jset(o, "maze_info", json_string(info)) == MVOT_OK;
        ok &= jset(o, "candidates", cand) == MVOT_OK;
        ok &= jset(o, "start", jpair(d->start_r, d->start_c)) == MVOT_OK;
    } else if (d->task == MVOT_TASK_FROZENLAKE) {
        ok &= jset(o, "env_desc", json_string(d->desc)) == MVOT_OK;
        ok &= jset(o, "start", jpair(d->start_r, d->start_c)) == MVOT_OK;
    } else {
        json_t *rows = json_array();
        for (uint32_t r = 0; r < n && rows; r++) {
            char row[MVOT_GEN_MAX_N + 1];
            for (uint32_t c = 0; c < n; c++) {
                uint8_t k = d->kind[r * n + c];
                row[c] = k == MVOT_MB_WALL ? '#' : k == MVOT_MB_TABLE ? 'T' : '.';
            }
            row[n] = 0;
            ok &= json_array_append_new(rows, json_string(row)) == 0;
        }
        ok &= jset(o, "rows", rows) == MVOT_OK;
        ok &= jset(o, "printer", jpair(d->printer_r, d->printer_c)) == MVOT_OK;
        ok &= jset(o, "agent", jpair(d->start_r, d->start_c)) == MVOT_OK;
        ok &= jset(o, "facing", json_string(facing_name(d->facing0))) == MVOT_OK;
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

enum mvot_status mvot_record_build(const struct mvot_draft *d, const struct mvot_trace *t,
                                   const struct mvot_record_meta *m, json_t **out,
                                   struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    json_t *o = json_object(), *extra = NULL;
    char *s = NULL;
    char hex[17];
    uint32_t n = d->n, cells = n * n, L = d->n_actions;
    *out = NULL;
    MVOT_FAIL_IF(!o, err, MVOT_ERR_NOMEM, "episode record", "out of memory");
#define SET(k, v) MVOT_TRY(jset(o, (k), (v)))
    SET("format", json_string("mvot-episode"));
    SET("version", json_integer(MVOT_EPISODE_VERSION));
    SET("key", json_string(m->key));
    SET("task", json_string(mvot_task_name(d->task)));
    SET("grid", json_integer(n));
    SET("image_size", json_integer(m->image_size));
    /* Only the official style is named: grid-style records stay as they were. */
    if (m->style && m->style->kind != MVOT_GEN_STYLE_GRID)
        SET("style", json_string(mvot_gen_style_name(m->style->kind)));
    mvot_hash_hex(m->seed, hex);
    SET("seed", json_string(hex));
    SET("split", json_string(mvot_split_name(m->split)));
    mvot_hash_hex(mvot_record_layout_hash(d), hex);
    SET("layout_hash", json_string(hex));
    mvot_hash_hex(mvot_record_dedup_hash(d), hex);
    SET("dedup_hash", json_string(hex));
    SET("layout", layout_json(d));

    extra = json_array();
    json_t *acts = json_array(), *ids = json_array(), *states = json_array();
    json_t *steps = json_array(), *rats = json_array();
    SET("actions", acts);
    SET("action_ids", ids);
    SET("states", states);
    SET("step_texts", steps);
    SET("rationales", rats);
    for (uint32_t i = 0; i < L; i++) {
        MVOT_TRY(jappend(acts, json_string(mvot_action_names[d->actions[i]])));
        MVOT_TRY(jappend(ids, json_integer(d->actions[i])));
        MVOT_TRY(jappend(steps, json_string(mvot_record_step_text(d->actions[i]))));
        s = rationale(d, t, i);
        MVOT_FAIL_IF(!s, err, MVOT_ERR_NOMEM, "episode record", "out of memory");
        MVOT_TRY(jappend(rats, json_string(s)));
        free(s);
        s = NULL;
    }
    for (uint32_t k = 0; k <= L; k++)
        MVOT_TRY(jappend(states, jpair(t->st[k].r, t->st[k].c)));
    if (d->task == MVOT_TASK_FROZENLAKE) {
        SET("additional_actions", extra);
        extra = NULL;
        json_t *ex = json_object_get(o, "additional_actions");
        for (uint32_t i = 0; i < d->n_extra; i++)
            MVOT_TRY(jappend(ex, json_string(mvot_action_names[d->extra[i]])));
        SET("exec_state", json_string(t->exec_state));
    } else {
        json_decref(extra);
        extra = NULL;
    }
    if (d->task == MVOT_TASK_MINIBEHAVIOR) {
        json_t *caps = json_array(), *fac = json_array();
        SET("captions", caps);
        SET("facings", fac);
        for (uint32_t k = 0; k <= L; k++) {
            MVOT_TRY(jappend(caps, json_string(t->st[k].printer_where == MVOT_PR_CARRIED
                                                   ? "Carrying objects: printer_0."
                                                   : "Carrying objects: None.")));
            MVOT_TRY(jappend(fac, json_string(facing_name(t->st[k].facing))));
        }
    }
    json_t *opts = json_array();
    SET("options", opts);
    if (d->task == MVOT_TASK_MAZE) {
        for (int j = 0; j < 4; j++)
            MVOT_TRY(jappend(opts, jpair(d->cand_r[j], d->cand_c[j])));
    } else if (d->task == MVOT_TASK_FROZENLAKE) {
        for (int j = 0; j < 3; j++)
            MVOT_TRY(jappend(opts, json_string(FL_OPTION_LIST[j])));
    } else {
        for (int j = 0; j < 4; j++)
            MVOT_TRY(jappend(opts, json_string(MB_OPTION_LIST[j])));
    }
    char ans[2] = {t->answer, 0};
    SET("answer", json_string(ans));
    s = mvot_record_instruction(d);
    MVOT_FAIL_IF(!s, err, MVOT_ERR_NOMEM, "episode record", "out of memory");
    SET("instruction", json_string(s));
    free(s);
    s = NULL;
    SET("init_text", json_string(d->task == MVOT_TASK_MAZE ? "Initial maze: " : "Initial State: "));
    s = mvot_strdupf("Action sequence %s. The answer is %c.",
                     d->task == MVOT_TASK_FROZENLAKE ? "stopped" : "finished", t->answer);
    MVOT_FAIL_IF(!s, err, MVOT_ERR_NOMEM, "episode record", "out of memory");
    SET("final_text", json_string(s));
    free(s);
    s = final_rationale(d, t);
    MVOT_FAIL_IF(!s, err, MVOT_ERR_NOMEM, "episode record", "out of memory");
    SET("final_rationale", json_string(s));
    free(s);
    s = NULL;

    /* Frames, cell boxes and per-frame cell states. */
    struct mvot_board b;
    mvot_board_layout(d->task, n, m->image_size, m->style, &b);
    json_t *frames = json_array(), *boxes = json_array(), *cst = json_array();
    SET("n_frames", json_integer(L + 1));
    SET("frames", frames);
    SET("cells", boxes);
    SET("cell_states", cst);
    for (uint32_t k = 0; k <= L; k++) {
        s = mvot_strdupf("%s.%u.png", m->key, k);
        MVOT_FAIL_IF(!s, err, MVOT_ERR_NOMEM, "episode record", "out of memory");
        MVOT_TRY(jappend(frames, json_string(s)));
        free(s);
        s = NULL;
    }
    for (uint32_t i = 0; i < cells; i++) {
        uint32_t r = i / n, c = i % n;
        MVOT_TRY(jappend(boxes, json_pack("[iiii]", (json_int_t)b.xs[c], (json_int_t)b.ys[r],
                                          (json_int_t)b.xs[c + 1], (json_int_t)b.ys[r + 1])));
    }
    for (uint32_t k = 0; k <= L; k++) {
        uint8_t cs[MVOT_GEN_MAX_CELLS];
        mvot_cell_states(d, t, k, cs);
        json_t *row = json_array();
        MVOT_TRY(jappend(cst, row));
        for (uint32_t i = 0; i < cells; i++)
            MVOT_TRY(jappend(row, json_integer(cs[i])));
    }
#undef SET
    *out = o;
    o = NULL;
cleanup:
    if (st == MVOT_ERR_NOMEM && err && err->code != MVOT_ERR_NOMEM)
        mvot_error_set(err, st, "episode record", "out of memory");
    json_decref(o);
    json_decref(extra);
    free(s);
    return st;
}

/* ---- record -> draft ---- */

static enum mvot_status get_pair(const json_t *a, uint32_t n, const char *ctx, uint8_t *r,
                                 uint8_t *c, struct mvot_error *err)
{
    if (!json_is_array(a) || json_array_size(a) != 2 || !json_is_integer(json_array_get(a, 0)) ||
        !json_is_integer(json_array_get(a, 1)))
        return mvot_error_corrupt(err, ctx, -1, "expected [row, col]");
    json_int_t rr = json_integer_value(json_array_get(a, 0));
    json_int_t cc = json_integer_value(json_array_get(a, 1));
    if (rr < 0 || cc < 0 || rr >= (json_int_t)n || cc >= (json_int_t)n)
        return mvot_error_corrupt(err, ctx, -1, "cell (%lld,%lld) outside the %ux%u grid",
                                  (long long)rr, (long long)cc, n, n);
    *r = (uint8_t)rr;
    *c = (uint8_t)cc;
    return MVOT_OK;
}

static int parse_action(const char *s)
{
    for (int a = 0; a < 6; a++)
        if (strcmp(s, mvot_action_names[a]) == 0)
            return a;
    return -1;
}

static int parse_facing(const char *s)
{
    for (int a = 0; a < 4; a++)
        if (strcmp(s, DIR_WORD[a]) == 0)
            return a;
    return -1;
}

enum mvot_status mvot_record_to_draft(const json_t *rec, const char *name, struct mvot_draft *d,
                                      struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    const char *task_s, *s;
    int64_t grid;
    json_t *layout, *acts;
    char ctx[256];
    memset(d, 0, sizeof *d);
    MVOT_TRY(mvot_json_get_str(rec, "task", name, &task_s, err));
    MVOT_TRY(mvot_json_get_int(rec, "grid", name, &grid, err));
    MVOT_TRY(mvot_json_get_object(rec, "layout", name, &layout, err));
    MVOT_TRY(mvot_json_get_array(rec, "actions", name, &acts, err));
    if (mvot_task_parse(task_s, &d->task) != 0)
        return mvot_error_corrupt(err, name, -1, "unknown task \"%s\"", task_s);
    int lo = d->task == MVOT_TASK_MINIBEHAVIOR ? 7 : 3,
        hi = d->task == MVOT_TASK_MINIBEHAVIOR ? 10 : 6;
    if (grid < lo || grid > hi)
        return mvot_error_corrupt(err, name, -1, "grid %lld outside %d..%d", (long long)grid, lo,
                                  hi);
    uint32_t n = (uint32_t)grid, cells = n * n;
    d->n = n;
    if (json_array_size(acts) > MVOT_GEN_MAX_STEPS)
        return mvot_error_corrupt(err, name, -1, "%zu actions > %d", json_array_size(acts),
                                  MVOT_GEN_MAX_STEPS);
    d->n_actions = (uint32_t)json_array_size(acts);
    for (uint32_t i = 0; i < d->n_actions; i++) {
        const char *a = json_string_value(json_array_get(acts, i));
        int id = a ? parse_action(a) : -1;
        if (id < 0 || (d->task != MVOT_TASK_MINIBEHAVIOR && id > 3))
            return mvot_error_corrupt(err, name, -1, "actions[%u]: bad action", i);
        d->actions[i] = (uint8_t)id;
    }
    snprintf(ctx, sizeof ctx, "%s: layout", name);
    if (d->task == MVOT_TASK_MAZE) {
        json_t *cand;
        MVOT_TRY(mvot_json_get_str(layout, "maze_info", ctx, &s, err));
        if (strlen(s) != 2 * cells)
            return mvot_error_corrupt(err, ctx, -1, "maze_info has %zu chars, want %u", strlen(s),
                                      2 * cells);
        for (uint32_t k = 0; k < 2 * cells; k++) {
            if (s[k] != 'T' && s[k] != 'F')
                return mvot_error_corrupt(err, ctx, -1, "maze_info[%u] is not T/F", k);
            (k < cells ? d->open_down : d->open_right)[k % cells] = s[k] == 'T';
        }
        MVOT_TRY(mvot_json_get_array(layout, "candidates", ctx, &cand, err));
        if (json_array_size(cand) != 4)
            return mvot_error_corrupt(err, ctx, -1, "want 4 candidates");
        for (uint32_t j = 0; j < 4; j++)
            MVOT_TRY(get_pair(json_array_get(cand, j), n, ctx, &d->cand_r[j], &d->cand_c[j], err));
        MVOT_TRY(get_pair(json_object_get(layout, "start"), n, ctx, &d->start_r, &d->start_c, err));
    } else if (d->task == MVOT_TASK_FROZENLAKE) {
        json_t *ex;
        MVOT_TRY(mvot_json_get_str(layout, "env_desc", ctx, &s, err));
        if (strlen(s) != cells || strspn(s, "SFHG") != cells)
            return mvot_error_corrupt(err, ctx, -1, "env_desc is not %u chars of S/F/H/G", cells);
        memcpy(d->desc, s, cells);
        const char *sp = strchr(s, 'S');
        if (!sp || strchr(sp + 1, 'S') || !strchr(s, 'G'))
            return mvot_error_corrupt(err, ctx, -1, "env_desc needs one S and a G");
        d->start_r = (uint8_t)((uint32_t)(sp - s) / n);
        d->start_c = (uint8_t)((uint32_t)(sp - s) % n);
        MVOT_TRY(mvot_json_get_array(rec, "additional_actions", name, &ex, err));
        if (json_array_size(ex) > MVOT_GEN_MAX_EXTRA)
            return mvot_error_corrupt(err, name, -1, "more than %d additional_actions",
                                      MVOT_GEN_MAX_EXTRA);
        d->n_extra = 0;
        for (size_t i = 0; i < json_array_size(ex); i++) {
            const char *a = json_string_value(json_array_get(ex, i));
            int id = a ? parse_action(a) : -1;
            if (id < 0 || id > 3)
                return mvot_error_corrupt(err, name, -1, "additional_actions[%zu]: bad", i);
            d->extra[d->n_extra++] = (uint8_t)id;
        }
    } else {
        json_t *rows;
        MVOT_TRY(mvot_json_get_array(layout, "rows", ctx, &rows, err));
        if (json_array_size(rows) != n)
            return mvot_error_corrupt(err, ctx, -1, "want %u rows", n);
        for (uint32_t r = 0; r < n; r++) {
            const char *row = json_string_value(json_array_get(rows, r));
            if (!row || strlen(row) != n || strspn(row, "#.T") != n)
                return mvot_error_corrupt(err, ctx, -1, "rows[%u] is not %u chars of #.T", r, n);
            for (uint32_t c = 0; c < n; c++)
                d->kind[r * n + c] = row[c] == '#'   ? MVOT_MB_WALL
                                     : row[c] == 'T' ? MVOT_MB_TABLE
                                                     : MVOT_MB_FLOOR;
        }
        MVOT_TRY(get_pair(json_object_get(layout, "printer"), n, ctx, &d->printer_r, &d->printer_c,
                          err));
        MVOT_TRY(get_pair(json_object_get(layout, "agent"), n, ctx, &d->start_r, &d->start_c, err));
        MVOT_TRY(mvot_json_get_str(layout, "facing", ctx, &s, err));
        int f = parse_facing(s);
        if (f < 0)
            return mvot_error_corrupt(err, ctx, -1, "bad facing \"%s\"", s);
        d->facing0 = (uint8_t)f;
    }
    const char *ans;
    if (mvot_json_get_str(rec, "answer", name, &ans, NULL) == MVOT_OK && ans[0])
        d->target = ans[0];
cleanup:
    return st;
}
