/* mvot bpe: the text tokenizer from the command line.
 *   encode  --tokenizer FILE [--jsonl] [--special]   stdin -> ids
 *   decode  --tokenizer FILE [--jsonl] [--skip-special]
 *   train   (--episodes DIR/episodes.tar.zst | --text FILE) [--vocab-size N] --out FILE
 *   info    --tokenizer FILE
 * The --jsonl encode contract is fixed (other tools script against it): one JSON string per
 * input line, one JSON array of ids per output line, no special tokens unless --special. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/io.h"
#include "core/json.h"
#include "core/pool.h"
#include "gen/episode.h"
#include "tokenize/bpe.h"
#include "tokenize/bpe_train.h"
#include "tokenize/chameleon.h"
#include "tools/cli.h"
#include "tools/commands.h"

static const char HELP[] =
    "usage: mvot bpe <encode|decode|train|info> [options]\n"
    "\n"
    "  encode --tokenizer FILE [--jsonl] [--special]\n"
    "      Without --jsonl: all of stdin is one text; prints one JSON array of ids.\n"
    "      With --jsonl: each stdin line is a JSON string; prints one JSON array per line.\n"
    "      --special applies the post-processor (e.g. prepends <s>).\n"
    "  decode --tokenizer FILE [--jsonl] [--skip-special]\n"
    "      Reads JSON arrays of ids (one per line with --jsonl, else one from all of stdin)\n"
    "      and prints the text (a JSON string per line with --jsonl).\n"
    "  train (--episodes DIR/episodes.tar.zst | --text FILE) --out tokenizer.json\n"
    "        [--vocab-size N] [--min-frequency N]\n"
    "      Byte-level BPE in the Chameleon layout (docs/tokenizer.md). The episode corpus is\n"
    "      every instruction, step text, rationale and final text; --text uses one text per\n"
    "      line. Default vocab size 65536 (ids fit in uint16).\n"
    "  corpus (--episodes DIR/episodes.tar.zst | --text FILE)\n"
    "      Prints the training corpus, one JSON string per line (what train would learn from).\n"
    "  info --tokenizer FILE\n"
    "      Vocab size, special ids, image-code range, pre-tokenizer chain, file hash.\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum {
    OPT_TOKENIZER = 1,
    OPT_JSONL,
    OPT_SPECIAL,
    OPT_SKIP,
    OPT_EPISODES,
    OPT_TEXT,
    OPT_OUT,
    OPT_VOCAB,
    OPT_MINFREQ
};

/* Reads one line (without the newline) into a growing buffer; returns -1 at EOF. */
static ssize_t read_line(FILE *fp, char **buf, size_t *cap)
{
    ssize_t n = getline(buf, cap, fp);
    if (n < 0)
        return -1;
    if (n > 0 && (*buf)[n - 1] == '\n')
        (*buf)[--n] = 0;
    if (n > 0 && (*buf)[n - 1] == '\r')
        (*buf)[--n] = 0;
    return n;
}

static int read_all(FILE *fp, struct mvot_buf *b)
{
    char tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, fp)) > 0)
        if (mvot_buf_append(b, tmp, k) != MVOT_OK)
            return -1;
    return ferror(fp) ? -1 : 0;
}

static void print_ids(FILE *out, const int32_t *v, size_t n)
{
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', out);
        fprintf(out, "%" PRId32, v[i]);
    }
    fputs("]\n", out);
}

/* Encodes a batch of JSON-string lines in parallel and prints them in order. */
static int encode_lines(struct mvot_cli *cli, const struct mvot_bpe *tok, struct mvot_pool *pool,
                        char **lines, size_t nl, size_t first_line, int special)
{
    int rc = MVOT_EXIT_OK;
    struct mvot_error err = {0};
    const char **texts = calloc(nl ? nl : 1, sizeof *texts);
    size_t *lens = calloc(nl ? nl : 1, sizeof *lens);
    json_t **js = calloc(nl ? nl : 1, sizeof *js);
    struct mvot_ids *outs = calloc(nl ? nl : 1, sizeof *outs);
    if (!texts || !lens || !js || !outs) {
        fprintf(stderr, "%s: out of memory\n", cli->cmd);
        rc = MVOT_EXIT_FAIL;
        goto done;
    }
    for (size_t i = 0; i < nl; i++) {
        json_error_t je;
        js[i] = json_loads(lines[i], JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (!js[i] || !json_is_string(js[i])) {
            fprintf(stderr, "%s: stdin line %zu: expected a JSON string%s%s\n", cli->cmd,
                    first_line + i + 1, js[i] ? "" : ": ", js[i] ? "" : je.text);
            rc = MVOT_EXIT_FAIL;
            goto done;
        }
        texts[i] = json_string_value(js[i]);
        lens[i] = json_string_length(js[i]);
    }
    if (mvot_bpe_encode_batch(tok, texts, lens, nl, special, pool, outs, &err) != MVOT_OK) {
        rc = mvot_cli_fail(cli, &err);
        goto done;
    }
    for (size_t i = 0; i < nl; i++)
        print_ids(stdout, outs[i].v, outs[i].n);
done:
    for (size_t i = 0; js && i < nl; i++) {
        json_decref(js[i]);
        if (outs)
            mvot_ids_free(&outs[i]);
    }
    free(texts);
    free(lens);
    free(js);
    free(outs);
    return rc;
}

static int do_encode(struct mvot_cli *cli, const struct mvot_bpe *tok, int jsonl, int special)
{
    struct mvot_error err = {0};
    if (!jsonl) {
        struct mvot_buf b;
        mvot_buf_init(&b, 0);
        if (read_all(stdin, &b)) {
            mvot_buf_free(&b);
            fprintf(stderr, "%s: reading stdin failed\n", cli->cmd);
            return MVOT_EXIT_FAIL;
        }
        struct mvot_ids ids = {0};
        enum mvot_status st = mvot_bpe_encode(tok, (const char *)(b.data ? b.data : (uint8_t *)""),
                                              b.len, special, &ids, &err);
        mvot_buf_free(&b);
        if (st != MVOT_OK) {
            mvot_ids_free(&ids); /* a failed encode may have appended ids already */
            return mvot_cli_fail(cli, &err);
        }
        print_ids(stdout, ids.v, ids.n);
        mvot_ids_free(&ids);
        return MVOT_EXIT_OK;
    }
    struct mvot_pool *pool = cli->threads > 1 ? mvot_pool_create(cli->threads) : NULL;
    enum { BATCH = 4096 };
    char **lines = calloc(BATCH, sizeof *lines);
    size_t *caps = calloc(BATCH, sizeof *caps);
    int rc = MVOT_EXIT_OK;
    size_t nl = 0, done_lines = 0;
    if (!lines || !caps) {
        fprintf(stderr, "%s: out of memory\n", cli->cmd);
        rc = MVOT_EXIT_FAIL;
        goto out;
    }
    for (;;) {
        ssize_t n = read_line(stdin, &lines[nl], &caps[nl]);
        if (n >= 0)
            nl++;
        if (nl == BATCH || (n < 0 && nl)) {
            rc = encode_lines(cli, tok, pool, lines, nl, done_lines, special);
            done_lines += nl;
            nl = 0;
            if (rc != MVOT_EXIT_OK)
                break;
        }
        if (n < 0)
            break;
    }
out:
    for (size_t i = 0; lines && i < BATCH; i++)
        free(lines[i]);
    free(lines);
    free(caps);
    mvot_pool_free(pool);
    if (fflush(stdout) != 0 && rc == MVOT_EXIT_OK) {
        fprintf(stderr, "%s: writing stdout failed\n", cli->cmd);
        rc = MVOT_EXIT_FAIL;
    }
    return rc;
}

static int decode_one(struct mvot_cli *cli, const struct mvot_bpe *tok, const char *text,
                      size_t len, const char *where, int skip, int as_json)
{
    struct mvot_error err = {0};
    json_t *j = NULL;
    if (mvot_json_load_buf(text, len, where, &j, &err) != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    if (!json_is_array(j)) {
        json_decref(j);
        fprintf(stderr, "%s: %s: expected a JSON array of ids\n", cli->cmd, where);
        return MVOT_EXIT_FAIL;
    }
    size_t n = json_array_size(j);
    int32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    int rc = MVOT_EXIT_OK;
    for (size_t i = 0; ids && i < n; i++) {
        json_t *x = json_array_get(j, i);
        if (!json_is_integer(x) || json_integer_value(x) < INT32_MIN ||
            json_integer_value(x) > INT32_MAX) {
            fprintf(stderr, "%s: %s: element %zu is not a 32-bit integer\n", cli->cmd, where, i);
            rc = MVOT_EXIT_FAIL;
            break;
        }
        ids[i] = (int32_t)json_integer_value(x);
        if (ids[i] < 0 || (uint32_t)ids[i] >= mvot_bpe_vocab_size(tok)) {
            fprintf(stderr,
                    "%s: %s: element %zu: id %" PRId32 " is outside the vocabulary (0..%u)\n",
                    cli->cmd, where, i, ids[i], mvot_bpe_vocab_size(tok) - 1);
            rc = MVOT_EXIT_FAIL;
            break;
        }
    }
    json_decref(j);
    if (!ids || rc != MVOT_EXIT_OK) {
        free(ids);
        return MVOT_EXIT_FAIL;
    }
    char *s = NULL;
    size_t sl = 0;
    if (mvot_bpe_decode_n(tok, ids, n, skip, &s, &sl, &err) != MVOT_OK) {
        free(ids);
        return mvot_cli_fail(cli, &err);
    }
    free(ids);
    if (as_json) {
        json_t *js = json_stringn(s, sl);
        char *d = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
        if (d)
            puts(d);
        free(d);
        json_decref(js);
    } else {
        fwrite(s, 1, sl, stdout);
    }
    free(s);
    return MVOT_EXIT_OK;
}

static int do_decode(struct mvot_cli *cli, const struct mvot_bpe *tok, int jsonl, int skip)
{
    if (!jsonl) {
        struct mvot_buf b;
        mvot_buf_init(&b, 0);
        if (read_all(stdin, &b)) {
            mvot_buf_free(&b);
            fprintf(stderr, "%s: reading stdin failed\n", cli->cmd);
            return MVOT_EXIT_FAIL;
        }
        int rc = decode_one(cli, tok, (const char *)(b.data ? b.data : (uint8_t *)""), b.len,
                            "stdin", skip, 0);
        mvot_buf_free(&b);
        return rc;
    }
    char *line = NULL;
    size_t cap = 0, no = 0;
    ssize_t n;
    int rc = MVOT_EXIT_OK;
    while (rc == MVOT_EXIT_OK && (n = read_line(stdin, &line, &cap)) >= 0) {
        char where[64];
        snprintf(where, sizeof where, "stdin line %zu", ++no);
        rc = decode_one(cli, tok, line, (size_t)n, where, skip, 1);
    }
    free(line);
    return rc;
}

static int do_info(struct mvot_cli *cli, const struct mvot_bpe *tok, const char *path)
{
    uint32_t vs = mvot_bpe_vocab_size(tok);
    char hex[17];
    mvot_hash_hex(mvot_bpe_file_hash(tok), hex);
    struct mvot_layout *lay = malloc(sizeof *lay);
    struct mvot_error lerr = {0};
    int has_layout = lay && mvot_layout_from_bpe(tok, lay, &lerr) == MVOT_OK;
    json_t *specials = json_object();
    for (uint32_t id = 0; id < vs; id++)
        if (mvot_bpe_is_special(tok, (int32_t)id))
            json_object_set_new(specials, mvot_bpe_id_to_token(tok, (int32_t)id), json_integer(id));
    if (cli->json) {
        json_t *j = json_pack("{s:s, s:i, s:s, s:s, s:o}", "tokenizer", path, "vocab_size", (int)vs,
                              "file_xxh3", hex, "pre_tokenizer", mvot_bpe_pretok_chain(tok),
                              "special_ids", specials);
        if (j && has_layout) {
            json_object_set_new(j, "image_codes",
                                json_pack("{s:i, s:i, s:i, s:b}", "count", (int)lay->n_codes,
                                          "first_id", lay->code_to_id[0], "last_id",
                                          lay->code_to_id[lay->n_codes - 1], "contiguous",
                                          lay->contiguous));
            json_object_set_new(j, "layout",
                                json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "bos",
                                          lay->bos, "pad", lay->pad, "eos", lay->eos, "unk",
                                          lay->unk, "boi", lay->boi, "eoi", lay->eoi, "sep",
                                          lay->sep, "image", lay->image));
        } else if (j) {
            json_object_set_new(j, "image_codes", json_null());
        }
        char *d = j ? mvot_json_dumps(j) : NULL;
        if (d)
            puts(d);
        free(d);
        json_decref(j);
    } else {
        printf("tokenizer:     %s\n", path);
        printf("file xxh3:     %s\n", hex);
        printf("vocab size:    %u\n", vs);
        printf("pre-tokenizer: %s\n", mvot_bpe_pretok_chain(tok));
        printf("special ids:  ");
        const char *k;
        json_t *v;
        size_t shown = 0, total = json_object_size(specials);
        json_object_foreach(specials, k, v)
        {
            if (shown++ == 16) {
                printf(" ... (%zu in all)", total);
                break;
            }
            printf(" %s=%" JSON_INTEGER_FORMAT, k, json_integer_value(v));
        }
        printf("\n");
        if (has_layout)
            printf("image codes:   %u codes, ids %d..%d%s (boi %d, eoi %d, sep %d, image %d)\n",
                   lay->n_codes, lay->code_to_id[0], lay->code_to_id[lay->n_codes - 1],
                   lay->contiguous ? " contiguous" : " (not contiguous)", lay->boi, lay->eoi,
                   lay->sep, lay->image);
        else
            printf("image codes:   none (%s)\n", lerr.msg);
        json_decref(specials);
    }
    free(lay);
    return MVOT_EXIT_OK;
}

/* Texts of the training corpus, owned by the struct. */
struct corpus {
    char **t;
    size_t *n;
    size_t len, cap;
};

static int corpus_add(struct corpus *c, const char *s, size_t n)
{
    if (!s || !n)
        return 0;
    if (c->len == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 1024;
        char **nt = realloc(c->t, nc * sizeof *nt);
        if (!nt)
            return -1;
        c->t = nt;
        size_t *nn = realloc(c->n, nc * sizeof *nn);
        if (!nn)
            return -1;
        c->n = nn;
        c->cap = nc;
    }
    char *d = malloc(n);
    if (!d)
        return -1;
    memcpy(d, s, n);
    c->t[c->len] = d;
    c->n[c->len] = n;
    c->len++;
    return 0;
}

static void corpus_free(struct corpus *c)
{
    for (size_t i = 0; i < c->len; i++)
        free(c->t[i]);
    free(c->t);
    free(c->n);
}

static int load_episodes(struct mvot_cli *cli, const char *path, struct corpus *c)
{
    struct mvot_error err = {0};
    struct mvot_episode_reader *r = NULL;
    if (mvot_episode_reader_open(path, &r, &err) != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    int rc = MVOT_EXIT_OK;
    for (;;) {
        struct mvot_episode ep;
        int done = 0;
        memset(&ep, 0, sizeof ep);
        if (mvot_episode_reader_next(r, &ep, &done, &err) != MVOT_OK) {
            rc = mvot_cli_fail(cli, &err);
            break;
        }
        if (done)
            break;
        int bad = corpus_add(c, ep.instruction, ep.instruction ? strlen(ep.instruction) : 0) ||
                  corpus_add(c, ep.init_text, ep.init_text ? strlen(ep.init_text) : 0) ||
                  corpus_add(c, ep.final_text, ep.final_text ? strlen(ep.final_text) : 0);
        for (uint32_t k = 0; k < ep.n_steps && !bad; k++) {
            if (ep.step_text)
                bad |=
                    corpus_add(c, ep.step_text[k], ep.step_text[k] ? strlen(ep.step_text[k]) : 0);
            if (ep.rationale)
                bad |=
                    corpus_add(c, ep.rationale[k], ep.rationale[k] ? strlen(ep.rationale[k]) : 0);
        }
        mvot_episode_free(&ep);
        if (bad) {
            fprintf(stderr, "%s: out of memory\n", cli->cmd);
            rc = MVOT_EXIT_FAIL;
            break;
        }
    }
    mvot_episode_reader_close(r);
    return rc;
}

static int load_text_lines(struct mvot_cli *cli, const char *path, struct corpus *c)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "%s: %s: cannot open\n", cli->cmd, path);
        return MVOT_EXIT_FAIL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = MVOT_EXIT_OK;
    while ((n = read_line(fp, &line, &cap)) >= 0)
        if (corpus_add(c, line, (size_t)n)) {
            fprintf(stderr, "%s: out of memory\n", cli->cmd);
            rc = MVOT_EXIT_FAIL;
            break;
        }
    free(line);
    fclose(fp);
    return rc;
}

static int do_train(struct mvot_cli *cli, const char *episodes, const char *text, const char *out,
                    const struct mvot_bpe_train_opts *o)
{
    struct corpus c = {0};
    int rc = episodes ? load_episodes(cli, episodes, &c) : load_text_lines(cli, text, &c);
    if (rc != MVOT_EXIT_OK) {
        corpus_free(&c);
        return rc;
    }
    struct mvot_pool *pool = cli->threads > 1 ? mvot_pool_create(cli->threads) : NULL;
    struct mvot_error err = {0};
    enum mvot_status st =
        mvot_bpe_train_texts((const char *const *)c.t, c.n, c.len, o, pool, out, &err);
    mvot_pool_free(pool);
    if (st != MVOT_OK) {
        corpus_free(&c);
        return mvot_cli_fail(cli, &err);
    }
    struct mvot_bpe *tok = NULL;
    st = mvot_bpe_load_file(out, &tok, &err);
    if (st != MVOT_OK) {
        corpus_free(&c);
        return mvot_cli_fail(cli, &err);
    }
    char hex[17];
    mvot_hash_hex(mvot_bpe_file_hash(tok), hex);
    if (cli->json) {
        json_t *j = json_pack("{s:s, s:I, s:I, s:s}", "out", out, "texts", (json_int_t)c.len,
                              "vocab_size", (json_int_t)mvot_bpe_vocab_size(tok), "file_xxh3", hex);
        mvot_cli_print_json(cli, j);
        json_decref(j);
    }
    mvot_cli_note(cli, "%s: %zu texts -> %s (vocab %u, xxh3 %s)", cli->cmd, c.len, out,
                  mvot_bpe_vocab_size(tok), hex);
    mvot_bpe_free(tok);
    corpus_free(&c);
    return MVOT_EXIT_OK;
}

int mvot_cmd_bpe(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {{"tokenizer", required_argument, 0, OPT_TOKENIZER},
                                         {"jsonl", no_argument, 0, OPT_JSONL},
                                         {"special", no_argument, 0, OPT_SPECIAL},
                                         {"skip-special", no_argument, 0, OPT_SKIP},
                                         {"episodes", required_argument, 0, OPT_EPISODES},
                                         {"text", required_argument, 0, OPT_TEXT},
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"vocab-size", required_argument, 0, OPT_VOCAB},
                                         {"min-frequency", required_argument, 0, OPT_MINFREQ},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (!sub || sub[0] == '-') {
        for (int i = 1; i < argc; i++)
            if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
                fputs(HELP, stdout);
                return MVOT_EXIT_OK;
            }
        return mvot_cli_usage(cli, "expected a subcommand: encode, decode, train or info");
    }
    const char *tokp = NULL, *episodes = NULL, *text = NULL, *out = NULL;
    int jsonl = 0, special = 0, skip = 0;
    struct mvot_bpe_train_opts to;
    mvot_bpe_train_opts_default(&to);
    int c;
    /* options follow the subcommand */
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        uint64_t v;
        switch (c) {
        case OPT_TOKENIZER: tokp = optarg; break;
        case OPT_JSONL: jsonl = 1; break;
        case OPT_SPECIAL: special = 1; break;
        case OPT_SKIP: skip = 1; break;
        case OPT_EPISODES: episodes = optarg; break;
        case OPT_TEXT: text = optarg; break;
        case OPT_OUT: out = optarg; break;
        case OPT_VOCAB:
            if (!mvot_cli_parse_u64(cli, "--vocab-size", optarg, MVOT_BPE_RESERVED + 256, 1u << 24,
                                    &v))
                return MVOT_EXIT_USAGE;
            to.vocab_size = (uint32_t)v;
            break;
        case OPT_MINFREQ:
            if (!mvot_cli_parse_u64(cli, "--min-frequency", optarg, 1, UINT32_MAX, &v))
                return MVOT_EXIT_USAGE;
            to.min_frequency = (uint32_t)v;
            break;
        default: {
            int r = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv + 1), HELP);
            if (r >= 0)
                return r;
        }
        }
    }
    if (optind < argc - 1)
        return mvot_cli_usage(cli, "unexpected argument '%s'", argv[optind + 1]);
    mvot_cli_ready(cli);

    if (!strcmp(sub, "corpus")) {
        if (!!episodes == !!text)
            return mvot_cli_usage(cli, "corpus needs exactly one of --episodes or --text");
        struct corpus cp = {0};
        int rc = episodes ? load_episodes(cli, episodes, &cp) : load_text_lines(cli, text, &cp);
        for (size_t i = 0; rc == MVOT_EXIT_OK && i < cp.len; i++) {
            json_t *js = json_stringn(cp.t[i], cp.n[i]);
            char *d = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
            if (!d) {
                fprintf(stderr, "%s: text %zu is not valid UTF-8\n", cli->cmd, i);
                rc = MVOT_EXIT_FAIL;
            } else {
                puts(d);
            }
            free(d);
            json_decref(js);
        }
        corpus_free(&cp);
        return rc;
    }
    if (!strcmp(sub, "train")) {
        if (!!episodes == !!text)
            return mvot_cli_usage(cli, "train needs exactly one of --episodes or --text");
        if (!out)
            return mvot_cli_usage(cli, "train needs --out FILE");
        return do_train(cli, episodes, text, out, &to);
    }
    int is_enc = !strcmp(sub, "encode"), is_dec = !strcmp(sub, "decode"),
        is_info = !strcmp(sub, "info");
    if (!is_enc && !is_dec && !is_info)
        return mvot_cli_usage(cli, "unknown subcommand '%s' (encode, decode, train, info)", sub);
    if (!tokp)
        return mvot_cli_usage(cli, "%s needs --tokenizer FILE", sub);
    struct mvot_error err = {0};
    struct mvot_bpe *tok = NULL;
    if (mvot_bpe_load_file(tokp, &tok, &err) != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    int rc;
    if (is_enc)
        rc = do_encode(cli, tok, jsonl, special);
    else if (is_dec)
        rc = do_decode(cli, tok, jsonl, skip);
    else
        rc = do_info(cli, tok, tokp);
    mvot_bpe_free(tok);
    return rc;
}
