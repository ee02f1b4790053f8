/* mvot eval: scores model predictions (docs/predictions-format.md) against the ground truth
 * of a shard directory and writes report.json, report.md and failure pictures
 * (docs/eval.md). The scoring lives in tools/eval/; this file binds it to the shard set, its
 * tokenizer and its image tokenizer (both named by the manifest), and owns all printing. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"
#include "core/json.h"
#include "core/outdir.h"
#include "tools/commands.h"
#include "tools/eval/eval.h"

static const char HELP[] =
    "usage: mvot eval --truth SHARD_DIR --pred FILE.jsonl [--out DIR] [options]\n"
    "\n"
    "Scores predictions (one JSON object per line with \"key\" and \"output_ids\", or \"text\"\n"
    "with \"image_codes\" or \"images\"; docs/predictions-format.md) against the shards'\n"
    "ground truth: answer accuracy, image-token match and codebook distance, and per-cell\n"
    "visual metrics V-Acc, V-Red, V-Steps, V-Ratio (docs/eval.md). Problems in a line are\n"
    "reported with its line number and counted; they never stop the run. Exit status 1 when\n"
    "truth samples could not be read (the scores would be incomplete), or with --strict when\n"
    "any line had a problem.\n"
    "\n"
    "Options:\n"
    "  --truth DIR         shard directory (manifest.json, shards, tokenizer, codebook)\n"
    "  --pred FILE         predictions, JSONL\n"
    "  --out DIR           write DIR/report.json, DIR/report.md, DIR/failures/*.png\n"
    "  --max-failures N    failure pictures written at most (default 100)\n"
    "  --pixel-tol N       a pixel differs if a channel differs by more than N (default 48)\n"
    "  --cell-tol F        a cell matches if at most F of its pixels differ (default 0.015)\n"
    "  --inset N           pixels ignored at each side of a cell box (default 2)\n"
    "  --roundtrip N       round-trip check of the truth codes on the first N lines only\n"
    "                      (default: every line; saves a decode per line with a VQGAN)\n"
    "  --strict            exit 1 when any prediction line had a problem (malformed line,\n"
    "                      unknown, duplicate or missing key, bad ids or images)\n"
    "\n" MVOT_CLI_COMMON_HELP;

enum { O_TRUTH = 1, O_PRED, O_OUT, O_MAXFAIL, O_PIXTOL, O_CELLTOL, O_INSET, O_ROUNDTRIP, O_STRICT };

static void print_rate(const char *name, const json_t *v)
{
    if (json_is_number(v))
        fprintf(stderr, "  %-12s %.2f%%\n", name, 100.0 * json_number_value(v));
    else
        fprintf(stderr, "  %-12s -\n", name);
}

int mvot_cmd_eval(int argc, char **argv, struct mvot_cli *cli)
{
    static const struct option opts[] = {{"truth", required_argument, 0, O_TRUTH},
                                         {"pred", required_argument, 0, O_PRED},
                                         {"out", required_argument, 0, O_OUT},
                                         {"max-failures", required_argument, 0, O_MAXFAIL},
                                         {"pixel-tol", required_argument, 0, O_PIXTOL},
                                         {"cell-tol", required_argument, 0, O_CELLTOL},
                                         {"inset", required_argument, 0, O_INSET},
                                         {"roundtrip", required_argument, 0, O_ROUNDTRIP},
                                         {"strict", no_argument, 0, O_STRICT},
                                         MVOT_CLI_COMMON_OPTIONS,
                                         {0, 0, 0, 0}};
    struct mvot_eval_opts eo;
    const char *truth = NULL, *pred = NULL, *out = NULL;
    uint64_t u;
    double d;
    int c, strict = 0;
    mvot_eval_opts_default(&eo);
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_TRUTH: truth = optarg; break;
        case O_PRED: pred = optarg; break;
        case O_OUT: out = optarg; break;
        case O_STRICT: strict = 1; break;
        case O_MAXFAIL:
            if (!mvot_cli_parse_u64(cli, "--max-failures", optarg, 0, 1000000, &u))
                return MVOT_EXIT_USAGE;
            eo.max_failures = (size_t)u;
            break;
        case O_PIXTOL:
            if (!mvot_cli_parse_u64(cli, "--pixel-tol", optarg, 0, 255, &u))
                return MVOT_EXIT_USAGE;
            eo.tol.pixel_tol = (uint32_t)u;
            break;
        case O_CELLTOL:
            if (!mvot_cli_parse_double(cli, "--cell-tol", optarg, 0.0, 1.0, &d))
                return MVOT_EXIT_USAGE;
            eo.tol.cell_tol = d;
            break;
        case O_ROUNDTRIP:
            if (!mvot_cli_parse_u64(cli, "--roundtrip", optarg, 0, SIZE_MAX, &u))
                return MVOT_EXIT_USAGE;
            eo.max_roundtrip = (size_t)u;
            break;
        case O_INSET:
            if (!mvot_cli_parse_u64(cli, "--inset", optarg, 0, 64, &u))
                return MVOT_EXIT_USAGE;
            eo.tol.inset = (uint32_t)u;
            break;
        default: {
            int r = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), HELP);
            if (r >= 0)
                return r;
        }
        }
    }
    if (optind < argc)
        return mvot_cli_usage(cli, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!truth || !pred)
        return mvot_cli_usage(cli, "--truth SHARD_DIR and --pred FILE.jsonl are required");
    mvot_cli_ready(cli);
    struct mvot_outdir_lock *lock = NULL;
    const char *inputs[] = {truth, pred};
    if (out) {
        int claim = mvot_cli_claim_out(cli, out, inputs, 2, 0, &lock);
        if (claim >= 0)
            return claim;
    }

    struct mvot_error err = {0};
    struct mvot_eval_truth *tr = NULL;
    struct mvot_pool *pool = NULL;
    struct mvot_eval_result *res = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    char *pdir = NULL;
    enum mvot_status st = MVOT_OK;
    int rc = MVOT_EXIT_OK;

    /* Frames are 0.75 MB each: keep them in the heap instead of a fresh mmap per image, whose
     * page faults cost more than the scoring (glibc; measured in BENCHMARKS.md "## Eval"). */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    pool = mvot_pool_create(cli->threads);
    MVOT_FAIL_IF(!pool, &err, MVOT_ERR_NOMEM, "eval", "cannot start threads");
    MVOT_TRY(mvot_eval_truth_open(truth, mvot_pool_threads(pool), pool, &tr, &err));
    MVOT_TRY(mvot_io_read_file(pred, (size_t)16 << 30, &data, &len, &err));
    const char *slash = strrchr(pred, '/');
    pdir = slash ? mvot_strdupf("%.*s", (int)(slash - pred), pred) : strdup(".");
    MVOT_FAIL_IF(!pdir, &err, MVOT_ERR_NOMEM, "eval", "out of memory");
    if (!*pdir) { /* "/file.jsonl" */
        free(pdir);
        pdir = strdup("/");
        MVOT_FAIL_IF(!pdir, &err, MVOT_ERR_NOMEM, "eval", "out of memory");
    }
    eo.pred_dir = pdir;
    eo.out_dir = out;
    mvot_eval_truth_bind(tr, &eo);
    MVOT_TRY(mvot_eval_run(&eo, mvot_eval_truth_vocab(tr), mvot_eval_truth_decoder(tr),
                           (const char *)data, len, pool, &cli->hook, &res, &err));
    mvot_cli_progress_done(cli);
    /* Who scored what, recorded with the numbers. */
    json_t *info = mvot_eval_truth_info(tr);
    json_object_set_new(info, "predictions", json_string(pred));
    json_object_set_new(res->report, "source", info);
    if (out)
        MVOT_TRY(mvot_eval_write_report(res, out, &err));

    const json_t *rec = json_object_get(res->report, "reconstruction");
    json_int_t rec_n = json_integer_value(json_object_get(rec, "images"));
    json_int_t rec_ok = json_integer_value(json_object_get(rec, "correct"));
    if (rec_ok < rec_n) /* printed even with --quiet: the visual numbers are not trustworthy */
        fprintf(stderr,
                "%s: warning: only %lld of %lld truth images survive the VQ round trip at this "
                "tolerance (worst cell %.4f); visual metrics are not meaningful until it is "
                "100%% (raise --cell-tol/--pixel-tol or use a finer tokenizer; docs/eval.md)\n",
                cli->cmd, (long long)rec_ok, (long long)rec_n,
                json_number_value(json_object_get(rec, "max_cell_diff")));
    if (!cli->quiet) {
        size_t shown = 0;
        for (size_t i = 0; i < res->diags.n && shown < 50; i++, shown++)
            fprintf(stderr, "%s: %s: %s\n", cli->cmd, pred, res->diags.v[i].msg);
        size_t total = 0;
        for (int k = 0; k < MVOT_EVAL_DIAG_COUNT; k++)
            total += res->diags.counts[k];
        if (total > shown)
            fprintf(stderr, "%s: ... %zu more diagnostics (report.json has the first 1000)\n",
                    cli->cmd, total - shown);
        if (total) {
            fprintf(stderr, "%s: diagnostics:", cli->cmd);
            for (int k = 0; k < MVOT_EVAL_DIAG_COUNT; k++)
                if (res->diags.counts[k])
                    fprintf(stderr, " %s %zu", mvot_eval_diag_name((enum mvot_eval_diag_kind)k),
                            res->diags.counts[k]);
            fputc('\n', stderr);
        }
        const json_t *ov = json_object_get(res->report, "overall");
        fprintf(stderr, "%s: %zu lines, %zu scored\n", cli->cmd, res->lines, res->scored);
        print_rate("accuracy", json_object_get(ov, "accuracy"));
        print_rate("V-Acc", json_object_get(ov, "v_acc"));
        print_rate("V-Red", json_object_get(ov, "v_red"));
        const json_t *vs = json_object_get(ov, "v_steps");
        if (json_is_number(vs))
            fprintf(stderr, "  %-12s %.3f\n", "V-Steps", json_number_value(vs));
        print_rate("V-Ratio", json_object_get(ov, "v_ratio"));
        print_rate("code match", json_object_get(ov, "code_match"));
        if (out)
            fprintf(stderr, "%s: wrote %s/report.json, report.md, %zu failure pictures\n", cli->cmd,
                    out, res->failures_written);
    }
    if (cli->json) {
        json_t *sum = mvot_eval_summary(res);
        char *s = sum ? mvot_json_dumps(sum) : NULL;
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(sum);
    }
    /* Unreadable truth is a runtime failure, never a quiet "0 scored". */
    size_t n_truth = res->diags.counts[MVOT_EVAL_DIAG_TRUTH], n_diag = 0;
    for (int k = 0; k < MVOT_EVAL_DIAG_COUNT; k++)
        n_diag += res->diags.counts[k];
    if (n_truth) {
        fprintf(stderr,
                "%s: %s: %zu predictions could not be scored: their truth samples are "
                "unreadable\n",
                cli->cmd, truth, n_truth);
        rc = MVOT_EXIT_FAIL;
    } else if (strict && n_diag) {
        fprintf(stderr, "%s: %s: %zu problems in the predictions (--strict)\n", cli->cmd, pred,
                n_diag);
        rc = MVOT_EXIT_FAIL;
    }
cleanup:
    if (st != MVOT_OK)
        rc = mvot_cli_fail(cli, &err);
    mvot_outdir_unlock(lock);
    mvot_eval_result_free(res);
    mvot_eval_truth_close(tr);
    mvot_pool_free(pool);
    free(data);
    free(pdir);
    return rc;
}
