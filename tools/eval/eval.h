/* tools/eval: scoring model predictions against the ground truth recorded by gen and stored
 * in shards (docs/eval.md, docs/predictions-format.md).
 *
 * The scoring core knows nothing about files: ground truth comes from a source callback
 * (a shard set in the CLI, in-memory samples in tests), text is decoded through a callback
 * and images through a decoder handle. Nothing here prints; diagnostics are collected and
 * returned. Every result is independent of the thread count. */
#ifndef MVOT_TOOLS_EVAL_EVAL_H
#define MVOT_TOOLS_EVAL_EVAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/png.h"
#include "core/pool.h"
#include "core/progress.h"
#include "core/status.h"
#include "shards/reader.h"

/* ---- vocabulary: the id classes the parser needs ---------------------------------- */

struct mvot_eval_vocab {
    int32_t bos, eos, boi, eoi, sep, image; /* -1 when absent */
    uint32_t vocab_size;
    uint32_t n_codes;    /* image codes the tokenizer names (8192 for Chameleon) */
    int32_t *id_to_code; /* vocab_size entries, -1 for ids that are not image codes */
};
/* Builds the id -> code map from code_to_id (n_codes entries). Specials may be -1. */
enum mvot_status mvot_eval_vocab_init(struct mvot_eval_vocab *v, uint32_t vocab_size,
                                      const int32_t *code_to_id, uint32_t n_codes, int32_t bos,
                                      int32_t eos, int32_t boi, int32_t eoi, int32_t sep,
                                      int32_t image, struct mvot_error *err);
/* The stock Chameleon layout (code c = id 4 + c, docs/chameleon.md §1); for tests and fuzzing. */
enum mvot_status mvot_eval_vocab_chameleon(struct mvot_eval_vocab *v, struct mvot_error *err);
void mvot_eval_vocab_free(struct mvot_eval_vocab *v);

/* ---- diagnostics ------------------------------------------------------------------- */

enum mvot_eval_diag_kind {
    MVOT_EVAL_DIAG_MALFORMED_LINE = 0,
    MVOT_EVAL_DIAG_MISSING_KEY,
    MVOT_EVAL_DIAG_NO_PREDICTION,
    MVOT_EVAL_DIAG_UNKNOWN_KEY,
    MVOT_EVAL_DIAG_DUPLICATE_KEY,
    MVOT_EVAL_DIAG_ID_RANGE,
    MVOT_EVAL_DIAG_TRUNCATED_IMAGE,
    MVOT_EVAL_DIAG_IMAGE_SIZE,
    MVOT_EVAL_DIAG_IMAGE_FILE,
    MVOT_EVAL_DIAG_TRUTH,
    MVOT_EVAL_DIAG_COUNT
};
const char *mvot_eval_diag_name(enum mvot_eval_diag_kind k); /* "malformed_line", ... */

struct mvot_eval_diag {
    size_t line; /* 1-based line of the predictions file */
    enum mvot_eval_diag_kind kind;
    char msg[200];
};
/* A small growable list (capped: diagnostics past `cap` are counted, not stored). */
struct mvot_eval_diags {
    struct mvot_eval_diag *v;
    size_t n, alloc;
    size_t counts[MVOT_EVAL_DIAG_COUNT];
};
void mvot_eval_diags_add(struct mvot_eval_diags *d, size_t line, enum mvot_eval_diag_kind k,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void mvot_eval_diags_free(struct mvot_eval_diags *d);

/* ---- predictions ------------------------------------------------------------------- */

enum mvot_eval_form { MVOT_EVAL_FORM_IDS = 0, MVOT_EVAL_FORM_CODES = 1, MVOT_EVAL_FORM_PNG = 2 };

struct mvot_eval_pimage {
    int32_t *codes; /* form 1/2: codes (n_codes), NULL for form 3 */
    size_t n_codes;
    char *path; /* form 3 */
    int bad;    /* 1: malformed (a diagnostic was recorded); scored as wrong */
};

struct mvot_eval_pred {
    size_t line;
    char *key;
    enum mvot_eval_form form;
    int32_t *ids; /* form 1, as given */
    size_t n_ids;
    char *text;    /* forms 2/3 (cut at the separator); form 1 after mvot_eval_split_ids */
    int32_t *tids; /* form 1: text ids after the cut, images removed */
    size_t n_tids;
    struct mvot_eval_pimage *images;
    size_t n_images;
};
void mvot_eval_pred_free(struct mvot_eval_pred *p);

/* Parses one JSONL line (no newline) into *out. Returns 1 if the line is usable, 0 if it
 * must be skipped (a diagnostic was added), -1 for a blank line. Never fails otherwise;
 * safe on arbitrary bytes (the fuzz entry point). image_codes are range-checked against
 * n_codes (0: unchecked). */
int mvot_eval_parse_line(const char *line, size_t len, size_t lineno, uint32_t n_codes,
                         struct mvot_eval_pred *out, struct mvot_eval_diags *d);

/* Form 1: strips the prompt prefix when present, cuts at the first separator or </s>, and
 * splits text ids from images. Images whose code count is not `codes_per_image` are bad.
 * Fills p->tids and p->images. Returns MVOT_ERR_NOMEM only. */
enum mvot_status mvot_eval_split_ids(const struct mvot_eval_vocab *v, struct mvot_eval_pred *p,
                                     const uint32_t *prompt, size_t n_prompt,
                                     size_t codes_per_image, struct mvot_eval_diags *d);

/* The answer letter of `The answer is (\w)\.` (first match; \w as Python: letters, digits,
 * underscore, any Unicode letter or digit). Writes the UTF-8 of the character into out
 * (>= 5 bytes) and returns 1, or returns 0 when there is no match. */
int mvot_eval_answer(const char *text, char out[8]);

/* ---- per-cell visual scoring ------------------------------------------------------- */

struct mvot_eval_tol {
    uint32_t pixel_tol; /* a pixel differs if max over channels |a - b| > pixel_tol */
    double cell_tol;    /* a cell matches if its fraction of differing pixels <= cell_tol */
    uint32_t inset;     /* pixels dropped at each side of a cell box (shared borders) */
};
void mvot_eval_tol_default(struct mvot_eval_tol *t);

struct mvot_eval_box {
    uint32_t x0, y0, x1, y1; /* [x0, x1) x [y0, y1) */
};

/* Predicted-cell classes. */
enum mvot_eval_cell {
    MVOT_EVAL_CELL_OK = 0,    /* matches the target */
    MVOT_EVAL_CELL_PREV = 1,  /* modified cell still shows the previous state */
    MVOT_EVAL_CELL_WRONG = 2, /* modified cell matches neither */
    MVOT_EVAL_CELL_EXTRA = 3  /* unmodified cell differs from the target */
};

struct mvot_eval_iscore {
    int v_acc;      /* every modified (and target-agent) cell shows the target */
    int v_red;      /* some other cell differs from the target */
    int correct;    /* v_acc && !v_red */
    uint32_t n_mod; /* modified cells (plus target-agent cells) */
    uint32_t n_mod_ok;
    uint32_t n_extra; /* unmodified cells that differ */
    /* confusion flags (docs/eval.md) */
    int missing_agent, duplicated_agent, wrong_position, artifacts;
    double max_diff; /* worst fraction over cells that should match the target */
    uint8_t *cls;    /* n_cells enum mvot_eval_cell (owned; free with mvot_eval_iscore_free) */
    uint32_t n_cells;
};
void mvot_eval_iscore_free(struct mvot_eval_iscore *s);

/* Fraction of differing pixels of one cell between two S x S images (3 or 4 channels). */
double mvot_eval_cell_diff(const struct mvot_eval_tol *t, const struct mvot_eval_box *b,
                           const struct mvot_image *a, const struct mvot_image *c);

/* Scores a predicted image against the target (and previous, may be NULL) frame.
 * st_prev / st_target: one state byte per cell (bit 0x01 = agent); st_prev may be NULL
 * (then no cell counts as modified except target-agent cells). */
enum mvot_status mvot_eval_score_image(const struct mvot_eval_tol *t,
                                       const struct mvot_eval_box *cells, uint32_t n_cells,
                                       const uint8_t *st_prev, const uint8_t *st_target,
                                       const struct mvot_image *pred,
                                       const struct mvot_image *target,
                                       const struct mvot_image *prev, struct mvot_eval_iscore *out,
                                       struct mvot_error *err);

/* ---- image decoding ---------------------------------------------------------------- */

typedef enum mvot_status (*mvot_eval_decode_fn)(void *ctx, const int32_t *codes,
                                                struct mvot_image *out, struct mvot_error *err);

struct mvot_eval_decoder {
    uint32_t image_size; /* S */
    uint32_t grid;       /* codes per side */
    uint32_t K, D;
    const float *codebook; /* K x D (borrowed); NULL: no codebook distance */
    mvot_eval_decode_fn decode;
    void *ctx;
    int is_patch; /* 1: decode pastes one patch per code; a per-code LUT is built */
    uint8_t *lut; /* K x P x P x 3 decoded patches (owned), or NULL */
};
/* For a patch decoder, decodes every code once into a LUT, then checks on a few random code
 * grids that pasting LUT patches reproduces decode() exactly; if not, the LUT is dropped
 * and decode() is used. */
enum mvot_status mvot_eval_decoder_prepare(struct mvot_eval_decoder *d, struct mvot_pool *pool,
                                           struct mvot_error *err);
/* Decodes codes into an S x S RGB image (out is initialized by the call). */
enum mvot_status mvot_eval_decoder_decode(const struct mvot_eval_decoder *d, const int32_t *codes,
                                          struct mvot_image *out, struct mvot_error *err);
/* Euclidean distance between two codebook vectors (0 when a == b). */
double mvot_eval_code_dist(const struct mvot_eval_decoder *d, int32_t a, int32_t b);
void mvot_eval_decoder_free(struct mvot_eval_decoder *d); /* frees the LUT only */

/* ---- the run ----------------------------------------------------------------------- */

/* Ground truth by key. `worker` is in [0, threads) so a source may keep one reader per
 * worker. Returns MVOT_ERR_NOTFOUND for an unknown key. */
typedef enum mvot_status (*mvot_eval_get_fn)(void *ctx, const char *key, int worker,
                                             struct mvot_sample *out, struct mvot_error *err);
/* Text decoding for form 1 and for the truth label (special tokens skipped). */
typedef enum mvot_status (*mvot_eval_text_fn)(void *ctx, const int32_t *ids, size_t n, char **out,
                                              struct mvot_error *err);

struct mvot_eval_opts {
    struct mvot_eval_tol tol;
    const char *pred_dir; /* base of form-3 PNG paths ("." if NULL) */
    const char *out_dir;  /* failure PNGs go to out_dir/failures/ (NULL: none) */
    size_t max_failures;  /* failure PNGs written at most */
    size_t max_roundtrip; /* lines whose truth codes get the round-trip check (default all;
                             fewer saves one decode per line with a slow VQGAN decoder) */
    mvot_eval_get_fn get; /* required */
    void *get_ctx;
    mvot_eval_text_fn text; /* required */
    void *text_ctx;
};
void mvot_eval_opts_default(struct mvot_eval_opts *o);

struct mvot_eval_result {
    json_t *report; /* report.json content (owned) */
    struct mvot_eval_diags diags;
    size_t lines, scored;
    size_t failures_written;
};
void mvot_eval_result_free(struct mvot_eval_result *r); /* NULL is a no-op */

/* Scores the predictions in `jsonl` (len bytes). */
enum mvot_status mvot_eval_run(const struct mvot_eval_opts *o, const struct mvot_eval_vocab *v,
                               const struct mvot_eval_decoder *dec, const char *jsonl, size_t len,
                               struct mvot_pool *pool, const struct mvot_progress *prog,
                               struct mvot_eval_result **out, struct mvot_error *err);

/* The summary of --json: accuracy, v_acc, v_red, v_steps, v_ratio and counts (new ref). */
json_t *mvot_eval_summary(const struct mvot_eval_result *r);

/* Writes report.json and report.md into dir (atomically; creates dir). */
enum mvot_status mvot_eval_write_report(const struct mvot_eval_result *r, const char *dir,
                                        struct mvot_error *err);
/* The Markdown report as a malloc'd string. */
char *mvot_eval_report_md(const json_t *report);

/* ---- truth from a shard directory -------------------------------------------------- */

/* A shard directory opened for eval: one shard-set handle per worker, the tokenizer and the
 * image tokenizer named by its manifest, the vocabulary and the decoder built from them. */
struct mvot_eval_truth;
enum mvot_status mvot_eval_truth_open(const char *dir, int threads, struct mvot_pool *pool,
                                      struct mvot_eval_truth **out, struct mvot_error *err);
void mvot_eval_truth_close(struct mvot_eval_truth *t); /* NULL is a no-op */
/* Sets o->get / o->text (and their contexts) to read from t. */
void mvot_eval_truth_bind(struct mvot_eval_truth *t, struct mvot_eval_opts *o);
const struct mvot_eval_vocab *mvot_eval_truth_vocab(const struct mvot_eval_truth *t);
const struct mvot_eval_decoder *mvot_eval_truth_decoder(const struct mvot_eval_truth *t);
/* {"truth": dir, "image_tokenizer": "patch"|"vqgan", "image_tokenizer_xxh3", "patch_lut"}. */
json_t *mvot_eval_truth_info(const struct mvot_eval_truth *t);

#endif
