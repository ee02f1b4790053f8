/* Internals of the BPE tokenizer shared by tokenize/bpe*.c: the loaded pipeline (normalizers,
 * pre-tokenizers, model, post-processor, decoder), hash maps, regex wrappers and UTF-8 and
 * Unicode helpers. Everything in struct mvot_bpe is immutable after load; per-thread mutable
 * state (scratch buffers and the merge cache) lives in a thread-local struct bpe_tls.
 *
 * Module map: bpe.c runs the encode pipeline (added tokens, per-thread state, batch);
 * bpe_normalize.c, bpe_pretok.c, bpe_model.c and bpe_decode.c hold the four HF component
 * families; bpe_load.c reads tokenizer.json and owns load/free/accessors; bpe_train.c trains;
 * bpe_util.c and bpe_regex.c are the helpers below. */
#ifndef MVOT_TOKENIZE_BPE_INTERNAL_H
#define MVOT_TOKENIZE_BPE_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "tokenize/bpe.h"

/* ---- UTF-8 and Unicode (bpe_util.c) ---- */

/* Decodes one code point at s[0..n) (valid UTF-8 assumed); *len gets its byte length. */
uint32_t bpe_utf8_next(const char *s, size_t n, size_t *len);
/* Appends the UTF-8 bytes of cp to out (4 bytes room); returns the count. */
size_t bpe_utf8_put(uint32_t cp, char *out);
/* Length of the longest valid UTF-8 prefix of s[0..n). */
size_t bpe_utf8_valid_prefix(const char *s, size_t n);
/* Rust char::is_whitespace (Unicode White_Space). */
int bpe_is_whitespace(uint32_t cp);
/* Rust char::is_numeric (Nd, Nl, No). */
int bpe_is_numeric(uint32_t cp);
/* Rust char::is_alphanumeric (Alphabetic or numeric; approximated by L*, Nl, Other_Alphabetic
 * marks via utf8proc categories). */
int bpe_is_alnum(uint32_t cp);
/* HF Punctuation pre-tokenizer predicate: ASCII punctuation or Unicode P*. */
int bpe_is_punct(uint32_t cp);

/* ---- growable buffers ---- */

struct bpe_sbuf {
    char *p;
    size_t n, cap;
};
enum mvot_status bpe_sbuf_reserve(struct bpe_sbuf *b, size_t extra);
enum mvot_status bpe_sbuf_add(struct bpe_sbuf *b, const void *p, size_t n);
void bpe_sbuf_free(struct bpe_sbuf *b);
/* Appends s with every ill-formed UTF-8 subpart replaced by U+FFFD (Rust from_utf8_lossy). */
enum mvot_status bpe_sbuf_add_lossy(struct bpe_sbuf *b, const char *s, size_t n);

/* An arena of stable strings: pointers into it stay valid until bpe_arena_reset. */
struct bpe_arena {
    char **blocks;
    size_t nblocks, capblocks;
    size_t used, size; /* within the last block */
    size_t first_size;
};
char *bpe_arena_alloc(struct bpe_arena *a, size_t n);
void bpe_arena_reset(struct bpe_arena *a); /* keeps the first block */
void bpe_arena_free(struct bpe_arena *a);

/* ---- hash maps (bpe_util.c) ---- */

uint64_t bpe_hash_bytes(const void *p, size_t n);

/* String -> id. Keys are borrowed (they must outlive the map). */
struct bpe_smap_ent {
    const char *s;
    uint32_t len;
    int32_t id;
    uint64_t h;
};
struct bpe_smap {
    struct bpe_smap_ent *e;
    size_t mask, n;
};
enum mvot_status bpe_smap_init(struct bpe_smap *m, size_t expect);
/* Inserts or overwrites (last insert wins, like a Rust HashMap built from JSON). */
enum mvot_status bpe_smap_put(struct bpe_smap *m, const char *s, size_t len, int32_t id);
int32_t bpe_smap_get(const struct bpe_smap *m, const char *s, size_t len); /* -1 absent */
void bpe_smap_free(struct bpe_smap *m);

/* (left id, right id) -> (rank, merged id). */
struct bpe_pmap_ent {
    uint64_t key; /* UINT64_MAX = empty */
    uint32_t rank;
    int32_t id;
};
struct bpe_pmap {
    struct bpe_pmap_ent *e;
    size_t mask, n;
};
enum mvot_status bpe_pmap_init(struct bpe_pmap *m, size_t expect);
void bpe_pmap_put(struct bpe_pmap *m, int32_t a, int32_t b, uint32_t rank, int32_t id);
void bpe_pmap_free(struct bpe_pmap *m);

static inline const struct bpe_pmap_ent *bpe_pmap_get(const struct bpe_pmap *m, int32_t a,
                                                      int32_t b)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & m->mask;
    for (;;) {
        const struct bpe_pmap_ent *x = &m->e[i];
        if (x->key == key)
            return x;
        if (x->key == UINT64_MAX)
            return NULL;
        i = (i + 1) & m->mask;
    }
}

/* ---- regexes (bpe_regex.c) ---- */

/* A compiled pattern: a literal string or an Oniguruma regex translated to PCRE2. */
struct bpe_regex {
    pcre2_code *code;
    char *src; /* the pattern as written in the JSON (for messages and info) */
    int literal;
};
/* Compiles; `where` names the JSON path for errors. */
enum mvot_status bpe_regex_compile(struct bpe_regex *re, const char *pat, size_t len, int literal,
                                   const char *where, struct mvot_error *err);
void bpe_regex_free(struct bpe_regex *re);
/* Translates Oniguruma syntax to PCRE2 (malloc'd, NUL-terminated); NULL on OOM. */
char *bpe_regex_translate(const char *pat, size_t len, size_t *out_len);

/* Iterates non-overlapping matches like the onig crate's find_iter (an empty match right after
 * the previous match is skipped by advancing one character). */
struct bpe_match_iter {
    const struct bpe_regex *re;
    pcre2_match_data *md;
    const char *s;
    size_t n;
    size_t pos;      /* where the next search starts */
    size_t last_end; /* end of the previous match; SIZE_MAX before the first */
    int failed;      /* a match error occurred (treated as no further matches) */
};
/* Returns 1 with [*b, *e) for the next match, 0 at the end. */
int bpe_match_next(struct bpe_match_iter *it, size_t *b, size_t *e);

/* ---- the loaded tokenizer ---- */

enum bpe_norm_kind {
    BPE_N_NFC,
    BPE_N_NFD,
    BPE_N_NFKC,
    BPE_N_NFKD,
    BPE_N_LOWER,
    BPE_N_STRIP,
    BPE_N_PREPEND,
    BPE_N_REPLACE
};
struct bpe_norm {
    enum bpe_norm_kind kind;
    int left, right; /* Strip */
    char *str;       /* Prepend text / Replace content */
    size_t str_len;
    struct bpe_regex re; /* Replace pattern */
};

enum bpe_behavior {
    BPE_B_REMOVED,
    BPE_B_ISOLATED,
    BPE_B_MERGED_PREV,
    BPE_B_MERGED_NEXT,
    BPE_B_CONTIGUOUS
};
enum bpe_pt_kind {
    BPE_PT_BYTELEVEL,
    BPE_PT_SPLIT,
    BPE_PT_DIGITS,
    BPE_PT_PUNCT,
    BPE_PT_METASPACE,
    BPE_PT_WHITESPACE,
    BPE_PT_WSSPLIT
};
enum bpe_prepend { BPE_PREPEND_ALWAYS, BPE_PREPEND_FIRST, BPE_PREPEND_NEVER };
struct bpe_pretok {
    enum bpe_pt_kind kind;
    int add_prefix_space, use_regex; /* ByteLevel */
    struct bpe_regex re;             /* Split, Whitespace, ByteLevel(use_regex) */
    enum bpe_behavior behavior;      /* Split, Punctuation */
    int invert;                      /* Split */
    int individual;                  /* Digits */
    uint32_t replacement;            /* Metaspace */
    enum bpe_prepend prepend;        /* Metaspace */
    int split;                       /* Metaspace */
};

enum bpe_dec_kind {
    BPE_D_BYTELEVEL,
    BPE_D_METASPACE,
    BPE_D_BYTEFALLBACK,
    BPE_D_FUSE,
    BPE_D_STRIP,
    BPE_D_REPLACE
};
struct bpe_dec {
    enum bpe_dec_kind kind;
    uint32_t ch;         /* Metaspace replacement / Strip content */
    int prepend_first;   /* Metaspace: drop replacement chars in the first token */
    size_t start, stop;  /* Strip */
    struct bpe_regex re; /* Replace */
    char *content;       /* Replace */
    size_t content_len;
};

struct bpe_added {
    char *content;
    size_t len;
    char *norm; /* content after the normalizer (for normalized tokens) */
    size_t norm_len;
    int32_t id;
    int special, normalized, lstrip, rstrip, single_word;
};

/* A byte trie over added-token contents for leftmost-longest matching: children of a node
 * are a linked list of edges; the root's children are a direct table. */
struct bpe_trie {
    int32_t *edge_next, *edge_to; /* per edge */
    uint8_t *edge_byte;
    int32_t *node_first, *node_term;
    size_t nnodes, nedges;
    int32_t root_next[256]; /* direct children of the root, -1 if none */
    int nonempty;
};

struct mvot_bpe {
    char *name;
    uint64_t file_hash;
    uint64_t serial; /* unique per loaded handle: keys the per-thread cache */

    /* model */
    struct bpe_smap vocab; /* model vocab string -> id */
    char *strings;         /* backing store for vocab and added-token strings */
    struct bpe_pmap merges;
    int32_t unk_id;
    int fuse_unk, byte_fallback, ignore_merges;
    char *prefix, *suffix; /* continuing_subword_prefix / end_of_word_suffix, NULL if none */
    size_t prefix_len, suffix_len;
    int32_t byte_fallback_id[256]; /* <0xHH> ids, -1 absent */

    /* byte-level fast path: the model sees bytes, not the mapped characters */
    int bytelevel_model; /* final pre-tokenizer is ByteLevel and no prefix/suffix */
    /* When no vocab token holds a non-U+2581 character followed by U+2581 (true of
     * sentencepiece-style vocabularies), no merge can cross the point before a U+2581 that
     * follows another character, so a word may be cut there and each part merged (and cached)
     * alone with the same result. Only with no prefix/suffix and no ignore_merges. */
    int seg_metaspace;
    int32_t byte_id[256];      /* id of the byte's mapped character, -1 absent */
    struct bpe_smap raw_vocab; /* raw bytes -> id for byte-level tokens (ignore_merges) */
    char *raw_strings;

    /* id -> token */
    uint32_t vocab_size;
    const char **id_str;
    uint32_t *id_len;
    uint8_t *id_special;

    struct bpe_added *added;
    size_t nadded;
    struct bpe_trie trie_raw, trie_norm;

    struct bpe_norm *norms;
    size_t nnorms;
    struct bpe_pretok *pretoks;
    size_t npretoks;
    int bytelevel_last; /* pretoks ends with ByteLevel */

    /* post-processor (single sequence): ids before and after */
    int32_t *post_pre, *post_post;
    size_t npost_pre, npost_post;
    int has_template;

    struct bpe_dec *decs;
    size_t ndecs;
    int has_decoder;

    char *chain_desc; /* "Split(...) > ByteLevel" for info */
};

/* GPT-2 bytes_to_unicode: the code point that stands for byte b. */
uint32_t bpe_byte_to_cp(uint8_t b);
/* Inverse; -1 if cp is not a byte-level character. */
int bpe_cp_to_byte(uint32_t cp);

/* bpe_load.c */
enum mvot_status bpe_load_json(struct mvot_bpe *tok, const char *json, size_t len,
                               struct mvot_error *err);
/* The added-token trie (bpe_util.c). */
enum mvot_status bpe_trie_build(struct bpe_trie *t, const struct bpe_added *a, size_t n,
                                int use_norm);
void bpe_trie_free(struct bpe_trie *t);
/* Longest match starting at s[0..n): returns added index or -1, *len the match length. */
int32_t bpe_trie_longest(const struct bpe_trie *t, const char *s, size_t n, size_t *len);

void bpe_free_contents(struct mvot_bpe *tok);

/* Runs the whole pre-tokenization (added tokens, normalizer, pre-tokenizers) and hands each
 * final piece to cb instead of the model: raw bytes for byte-level tokenizers. cb returns
 * nonzero to fail (reported as out of memory). Added tokens found in the text are dropped. */
typedef int (*bpe_piece_fn)(void *ctx, const char *s, size_t n);
enum mvot_status bpe_pretokenize(const struct mvot_bpe *tok, const char *text, size_t len,
                                 bpe_piece_fn cb, void *ctx, struct mvot_error *err);

/* Runs the normalizer chain over s; the result is written to out (cleared first). */
enum mvot_status bpe_normalize(const struct mvot_bpe *tok, const char *s, size_t n,
                               struct bpe_sbuf *out, struct mvot_error *err);

/* ---- encode-time state (bpe.c) ---- */

/* A piece of text between pipeline steps; s points into the input, t->arena or t->nbuf. */
struct bpe_piece {
    const char *s;
    uint32_t len;
    uint8_t at_start; /* begins at original offset 0 (Metaspace prepend_scheme "first") */
};
struct bpe_pieces {
    struct bpe_piece *v;
    size_t n, cap;
};
struct bpe_event {
    size_t b, e;
    int match;
};
struct bpe_cache_ent {
    uint64_t h;
    uint32_t koff, klen, ioff, ni;
    uint32_t gen; /* the slot is in use only when gen equals the table's generation */
};

#define BPE_CACHE_SLOTS ((size_t)1 << 16)
#define BPE_CACHE_MAX_KEY 256

struct bpe_tls {
    uint64_t serial;
    struct bpe_arena arena;
    struct bpe_pieces pa, pb;
    struct bpe_event *ev;
    size_t nev, capev;
    pcre2_match_data *md;
    struct bpe_sbuf lossy, nbuf, wbuf;
    /* model scratch */
    int32_t *sym, *prv, *nxt;
    uint32_t *rank;
    uint64_t *heap;
    size_t capsym;
    /* cache */
    struct bpe_cache_ent *ce;
    size_t cn;
    uint32_t gen; /* bumping it empties the cache in O(1) */
    struct bpe_sbuf ckeys;
    int32_t *cids;
    size_t cids_n, cids_cap;
    /* when set, final pieces go here instead of the model (bpe_pretokenize) */
    bpe_piece_fn piece_cb;
    void *piece_ctx;
};

/* Appends a piece; -1 on out of memory. */
int bpe_pieces_push(struct bpe_pieces *p, const char *s, size_t len, int at_start);

/* ---- the components (bpe_normalize.c, bpe_pretok.c, bpe_model.c) ---- */

/* Runs tok's normalizers over cur in place; tmp is scratch. */
enum mvot_status bpe_normalize_with(const struct mvot_bpe *tok, pcre2_match_data *md,
                                    struct bpe_sbuf *cur, struct bpe_sbuf *tmp);
/* Reports a failed normalize/encode of an n-byte text (regex failure, the normalizer growth
 * cap, a normalizer error, or out of memory) and returns st. */
enum mvot_status bpe_norm_fail(const struct mvot_bpe *tok, enum mvot_status st, size_t n,
                               struct mvot_error *err);
/* Writes s with every match of re replaced by content to out (cleared first); the Replace
 * normalizer and the Replace decoder. */
enum mvot_status bpe_replace_all(const struct bpe_regex *re, pcre2_match_data *md,
                                 const char *content, size_t clen, const char *s, size_t n,
                                 struct bpe_sbuf *out);
/* One pre-tokenizer over every piece of in, results in out; is_last tells a ByteLevel step
 * whether a later step needs its mapped characters. */
enum mvot_status bpe_pretok_step(const struct mvot_bpe *tok, struct bpe_tls *t,
                                 const struct bpe_pretok *pt, int is_last,
                                 const struct bpe_pieces *in, struct bpe_pieces *out);
/* s with every byte replaced by its bytes_to_unicode character, in t->arena; NULL on OOM. */
char *bpe_map_bytes(struct bpe_tls *t, const char *s, size_t n, size_t *out_len);
/* Empties t's merge cache. */
void bpe_cache_clear(struct bpe_tls *t);
/* Tokenizes one final piece into out; `raw` means s holds raw bytes of a byte-level piece. */
enum mvot_status bpe_model_piece(const struct mvot_bpe *tok, struct bpe_tls *t, const char *s,
                                 size_t n, int raw, struct mvot_ids *out);

#endif
