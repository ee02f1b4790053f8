/* Text tokenizer benchmark: encode throughput of our BPE on one tokenizer.json and one corpus,
 * single-thread and batched on N threads, plus the cost of pre-tokenization alone (added
 * tokens, normalizer and the pre-tokenizer regexes, no BPE model). The corpus is split into
 * documents at line boundaries of about --chunk bytes, the same split bench/bpe_hf_bench.js
 * gives HF tokenizers. Each figure is the best of --reps passes after one warm-up pass (both
 * libraries keep a per-word cache, warm in both).
 *   bpe_bench TOKENIZER.json CORPUS.txt [--reps N] [--threads N] [--chunk BYTES] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/io.h"
#include "core/mem.h"
#include "core/pool.h"
#include "tokenize/bpe.h"
#include "tokenize/bpe_internal.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int count_piece(void *ctx, const char *s, size_t n)
{
    (void)s;
    (void)n;
    (*(size_t *)ctx)++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bpe_bench TOKENIZER.json CORPUS.txt [--reps N] [--threads N] "
                        "[--chunk BYTES]\n");
        return 2;
    }
    int reps = 5, threads = 2;
    size_t chunk = 16384;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--reps"))
            reps = (int)strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--threads"))
            threads = (int)strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--chunk"))
            chunk = (size_t)strtoull(argv[i + 1], NULL, 10);
    }
    struct mvot_error err = {0};
    struct mvot_bpe *tok = NULL;
    double t0 = now();
    if (mvot_bpe_load_file(argv[1], &tok, &err) != MVOT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double t_load = now() - t0;
    uint8_t *data = NULL;
    size_t len = 0;
    if (mvot_io_read_file(argv[2], (size_t)1 << 32, &data, &len, &err) != MVOT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    /* documents: cut after the first newline at or past `chunk` bytes */
    size_t nd = 0, cap = 1024;
    const char **docs = malloc(cap * sizeof *docs);
    size_t *lens = malloc(cap * sizeof *lens);
    for (size_t b = 0; b < len;) {
        size_t e = b + chunk < len ? b + chunk : len;
        while (e < len && data[e - 1] != '\n')
            e++;
        if (nd == cap) {
            cap = mvot_grow_cap(cap, nd + 1, MVOT_GROW_UNCAPPED);
            if (mvot_realloc_n(&docs, cap, sizeof *docs) ||
                mvot_realloc_n(&lens, cap, sizeof *lens)) {
                fprintf(stderr, "bpe_bench: out of memory\n");
                return 1;
            }
        }
        docs[nd] = (const char *)data + b;
        lens[nd++] = e - b;
        b = e;
    }
    struct mvot_ids *outs = calloc(nd, sizeof *outs);
    size_t ntok = 0;
    double best1 = 1e30, bestn = 1e30, bestp = 1e30;
    for (int r = 0; r <= reps; r++) {
        ntok = 0;
        double t = now();
        for (size_t i = 0; i < nd; i++) {
            outs[i].n = 0;
            if (mvot_bpe_encode(tok, docs[i], lens[i], 0, &outs[i], &err) != MVOT_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            ntok += outs[i].n;
        }
        t = now() - t;
        if (r && t < best1)
            best1 = t;
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < nd; i++)
        for (size_t k = 0; k < outs[i].n; k++)
            sum = sum * 31 + (uint32_t)outs[i].v[k];
    struct mvot_pool *pool = mvot_pool_create(threads);
    for (int r = 0; r <= reps; r++) {
        for (size_t i = 0; i < nd; i++)
            outs[i].n = 0;
        double t = now();
        if (mvot_bpe_encode_batch(tok, docs, lens, nd, 0, pool, outs, &err) != MVOT_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        t = now() - t;
        if (r && t < bestn)
            bestn = t;
    }
    size_t npieces = 0;
    for (int r = 0; r <= reps; r++) {
        npieces = 0;
        double t = now();
        for (size_t i = 0; i < nd; i++)
            if (bpe_pretokenize(tok, docs[i], lens[i], count_piece, &npieces, &err) != MVOT_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
        t = now() - t;
        if (r && t < bestp)
            bestp = t;
    }
    double mb = (double)len / 1e6;
    printf("{\"tokenizer\": \"%s\", \"corpus_bytes\": %zu, \"documents\": %zu, \"tokens\": %zu, "
           "\"pieces\": %zu, \"ids_checksum\": %" PRIu64 ", \"load_s\": %.3f, "
           "\"encode_1t_mb_s\": %.2f, \"encode_%dt_mb_s\": %.2f, \"pretokenize_1t_mb_s\": %.2f}\n",
           argv[1], len, nd, ntok, npieces, sum, t_load, mb / best1, threads, mb / bestn,
           mb / bestp);
    for (size_t i = 0; i < nd; i++)
        mvot_ids_free(&outs[i]);
    free(outs);
    free(docs);
    free(lens);
    free(data);
    mvot_pool_free(pool);
    mvot_bpe_free(tok);
    return 0;
}
