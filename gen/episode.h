/* The in-memory episode: everything later stages need from gen, read back from an
 * episode archive (docs/episode-format.md). The JSON record is the source of truth; the
 * typed fields below are parsed from it for convenience. */
#ifndef MVOT_GEN_EPISODE_H
#define MVOT_GEN_EPISODE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* The record's "version" field (docs/episode-format.md). */
#define MVOT_EPISODE_VERSION 1

enum mvot_task { MVOT_TASK_MAZE = 0, MVOT_TASK_FROZENLAKE = 1, MVOT_TASK_MINIBEHAVIOR = 2 };
#define MVOT_TASK_COUNT 3
enum mvot_split { MVOT_SPLIT_TRAIN = 0, MVOT_SPLIT_DEV = 1, MVOT_SPLIT_TEST = 2 };

const char *mvot_task_name(enum mvot_task t);            /* "maze", "frozenlake", "minibehavior" */
int mvot_task_parse(const char *s, enum mvot_task *out); /* 0 ok, -1 unknown */
const char *mvot_split_name(enum mvot_split s);          /* "train", "dev", "test" */

/* Pixel box of one grid cell in a frame: [x0, x1) x [y0, y1). */
struct mvot_cell_box {
    uint16_t x0, y0, x1, y1;
};

struct mvot_episode {
    enum mvot_task task;
    char *key;           /* unique within an archive, e.g. "maze-000042"; safe as a tar name */
    uint32_t grid;       /* n: grid cells per side (walls included for minibehavior) */
    uint32_t image_size; /* S: frames are S x S */
    uint64_t seed;       /* the episode's own derived seed */
    enum mvot_split split;
    uint64_t layout_hash; /* XXH3 of the canonical layout (split assignment key) */

    /* Text, exactly as the official loader builds it (docs/tasks.md, "Prompts"). */
    char *instruction; /* task prefix including "Full Action Sequence: ...\n" (and options) */
    char *init_text;   /* "Initial maze: " or "Initial State: " */
    uint32_t n_steps;  /* L: rendered actions; frames are L + 1 */
    char **step_text;  /* L strings "Go up. " (trailing space kept) */
    char **rationale;  /* L CoT strings with coordinates */
    char *answer;      /* "A".."D" */
    char *final_text;  /* e.g. "Action sequence finished. The answer is A." */

    /* Frames as PNG bytes (owned). Frame 0 is the initial state. */
    uint32_t n_frames;
    uint8_t **frame_png;
    size_t *frame_png_len;

    /* Ground truth for eval: cell boxes (grid*grid, row-major) and, per frame, one state
     * byte per cell (codes defined per task in docs/episode-format.md). */
    struct mvot_cell_box *cells;
    uint8_t *cell_state; /* n_frames * grid * grid */

    json_t *record; /* the full JSON record (owned reference) */

    /* Added by gen after the first version of this header (append-only): */
    char **caption;        /* n_frames captions after each frame ("Carrying objects: None."), or
                              NULL for tasks without captions (MAZE, FROZENLAKE) */
    char *final_rationale; /* CoT sentence before the answer, e.g. "The agent ends at (0,0)..." */
};

void mvot_episode_free(struct mvot_episode *ep); /* frees members; NULL is a no-op */

/* Builds the typed view from a JSON record. The frame arrays are allocated with n_frames
 * NULL entries, for the caller (the archive reader) to fill with PNG bytes it hands over.
 * The episode takes its own reference to `record`. `name` labels errors. */
enum mvot_status mvot_episode_from_json(json_t *record, const char *name, struct mvot_episode *out,
                                        struct mvot_error *err);

/* Episode archive reader (tar.zst written by gen). Episodes come back in archive order.
 * `path` is the archive, or a gen output directory holding episodes.tar.zst. */
struct mvot_episode_reader;
enum mvot_status mvot_episode_reader_open(const char *path, struct mvot_episode_reader **out,
                                          struct mvot_error *err);
/* *done = 1 at end. Otherwise fills *ep (caller frees with mvot_episode_free). */
enum mvot_status mvot_episode_reader_next(struct mvot_episode_reader *r, struct mvot_episode *ep,
                                          int *done, struct mvot_error *err);
void mvot_episode_reader_close(struct mvot_episode_reader *r);

/* Random access to a version 2 archive (gen/tarz.h: mvot_tarz_index_open): reads episode i
 * by decompressing its frame only, and checks that its record agrees with the index (key,
 * task, split, steps). Fills *ep (caller frees with mvot_episode_free). */
struct mvot_tarz_index;
enum mvot_status mvot_episode_archive_read(struct mvot_tarz_index *ix, size_t i,
                                           struct mvot_episode *ep, struct mvot_error *err);

/* Totals of the gen manifest beside an archive (DIR/manifest.json for DIR/episodes.tar.zst),
 * for progress bars only: 0 when absent or unreadable; never trusted for anything else. */
void mvot_episode_archive_totals(const char *archive_path, uint64_t *episodes, uint64_t *frames);

#endif
