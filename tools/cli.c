/* Front-end plumbing: option helpers, one-line errors, and the progress bar. The bar is
 * redrawn at most 10 times a second and only by the thread holding the lock, so worker
 * threads reporting progress never block on the terminal. */
#include "tools/cli.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "core/json.h"
#include "core/log.h"
#include "core/outdir.h"
#include "core/pool.h"

static pthread_mutex_t g_bar_mu = PTHREAD_MUTEX_INITIALIZER;
static double g_bar_last;
static int g_bar_drawn;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One line per phase: done / total, percent, rate and time left (from the phase's start:
 * a new label, or a count going back, starts a new phase). Without a total: count and rate. */
static void draw_progress(void *user, const char *label, uint64_t done, uint64_t total)
{
    static char phase[64];
    static double t0;
    static uint64_t done0, last;
    (void)user;
    if (pthread_mutex_trylock(&g_bar_mu) != 0)
        return;
    double t = now_s();
    if (strncmp(phase, label, sizeof phase - 1) != 0 || done < last) {
        snprintf(phase, sizeof phase, "%s", label);
        t0 = t;
        done0 = done;
    }
    last = done;
    if (done == total || t - g_bar_last >= 0.1) {
        g_bar_last = t;
        double rate = t > t0 ? (double)(done - done0) / (t - t0) : 0.0;
        if (total) {
            char eta[32] = "--:--";
            if (rate > 0 && done <= total) {
                unsigned long left = (unsigned long)((double)(total - done) / rate + 0.5);
                snprintf(eta, sizeof eta, "%lu:%02lu:%02lu", left / 3600, left / 60 % 60,
                         left % 60);
            }
            fprintf(stderr, "\r%-16s %10llu / %-10llu %5.1f%%  %9.1f/s  left %s ", label,
                    (unsigned long long)done, (unsigned long long)total,
                    100.0 * (double)done / (double)total, rate, eta);
        } else {
            fprintf(stderr, "\r%-16s %10llu  %9.1f/s ", label, (unsigned long long)done, rate);
        }
        fflush(stderr);
        g_bar_drawn = 1;
    }
    pthread_mutex_unlock(&g_bar_mu);
}

void mvot_cli_progress_done(struct mvot_cli *cli)
{
    (void)cli;
    pthread_mutex_lock(&g_bar_mu);
    if (g_bar_drawn)
        fputc('\n', stderr);
    g_bar_drawn = 0;
    pthread_mutex_unlock(&g_bar_mu);
}

void mvot_cli_init(struct mvot_cli *cli, const char *cmd)
{
    memset(cli, 0, sizeof *cli);
    cli->cmd = cmd;
    cli->threads = mvot_cpu_count();
    cli->progress = isatty(STDERR_FILENO);
}

void mvot_cli_warn(const struct mvot_cli *cli, const char *warning)
{
    if (warning)
        fprintf(stderr, "%s: warning: %s\n", cli->cmd, warning);
}

int mvot_cli_usage(const struct mvot_cli *cli, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", cli->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return MVOT_EXIT_USAGE;
}

int mvot_cli_fail(const struct mvot_cli *cli, const struct mvot_error *err)
{
    fprintf(stderr, "%s: %s\n", cli->cmd, err->msg[0] ? err->msg : mvot_status_str(err->code));
    /* debug builds know which source line reported it; shown on request only, so messages
     * stay the same in every build */
    const char *site = getenv("MVOT_ERROR_SITE");
    if (err->site_file && site && *site && strcmp(site, "0") != 0)
        fprintf(stderr, "%s: (reported at %s:%d)\n", cli->cmd, err->site_file, err->site_line);
    return err->code == MVOT_ERR_INVALID ? MVOT_EXIT_USAGE : MVOT_EXIT_FAIL;
}

void mvot_cli_note(const struct mvot_cli *cli, const char *fmt, ...)
{
    if (cli->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

int mvot_cli_parse_u64(const struct mvot_cli *cli, const char *opt, const char *arg, uint64_t min,
                       uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = arg && *arg != '-' ? strtoull(arg, &end, 10) : 0;
    if (!arg || *arg == '-' || errno || end == arg || *end || v < min || v > max) {
        mvot_cli_usage(cli, "%s: expected an integer in [%llu, %llu], got '%s'", opt,
                       (unsigned long long)min, (unsigned long long)max, arg ? arg : "");
        return 0;
    }
    *out = v;
    return 1;
}

int mvot_cli_require_one_file(const struct mvot_cli *cli, const char *opt, const char *path)
{
    struct stat sb;
    size_t n = strlen(path);
    int is_json = n >= 5 && strcmp(path + n - 5, ".json") == 0;
    if ((stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) || is_json)
        return mvot_cli_usage(cli,
                              "%s %s: the shard set keeps a copy of the image tokenizer, so give "
                              "one .safetensors file: mvot codebook extract-vqgan --vqgan %s "
                              "--out vqgan.safetensors",
                              opt, path, path);
    return -1;
}

int mvot_cli_parse_double(const struct mvot_cli *cli, const char *opt, const char *arg, double min,
                          double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = arg ? strtod(arg, &end) : 0;
    if (!arg || errno || end == arg || *end || !(v >= min && v <= max)) {
        mvot_cli_usage(cli, "%s: expected a number in [%g, %g], got '%s'", opt, min, max,
                       arg ? arg : "");
        return 0;
    }
    *out = v;
    return 1;
}

int mvot_cli_common(struct mvot_cli *cli, int opt, const char *arg, const char *help)
{
    uint64_t v;
    switch (opt) {
    case MVOT_OPT_THREADS:
        if (!mvot_cli_parse_u64(cli, "--threads", arg, 1, 1024, &v))
            return MVOT_EXIT_USAGE;
        cli->threads = (int)v;
        return -1;
    case MVOT_OPT_QUIET: cli->quiet = 1; return -1;
    case MVOT_OPT_JSON: cli->json = 1; return -1;
    case MVOT_OPT_PROGRESS: cli->progress = 2; return -1;
    case 'h': fputs(help, stdout); return MVOT_EXIT_OK;
    case ':': return mvot_cli_usage(cli, "option %s needs a value (see --help)", arg ? arg : "");
    default:
        /* getopt already names the bad option on stderr when opterr is set; we keep opterr
         * off so the one line printed is ours. */
        return mvot_cli_usage(cli, "unknown or malformed option %s (see %s --help)", arg ? arg : "",
                              cli->cmd);
    }
}

void mvot_cli_print_json(const struct mvot_cli *cli, const json_t *j)
{
    if (!cli->json || !j)
        return;
    char *s = mvot_json_dumps(j);
    if (s)
        printf("%s\n", s);
    free(s);
}

int mvot_cli_parse_plain(struct mvot_cli *cli, int argc, char **argv, const char *help)
{
    static const struct option opts[] = {MVOT_CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int r = mvot_cli_common(cli, c, MVOT_CLI_ARG(c, argv), help);
        if (r >= 0)
            return r;
    }
    return -1;
}

static void log_to_stderr(enum mvot_log_level level, const char *msg, void *user)
{
    const struct mvot_cli *cli = user;
    if (level == MVOT_LOG_DEBUG || (cli->quiet && level < MVOT_LOG_WARN))
        return;
    fprintf(stderr, "%s: %s%s\n", cli->cmd, level == MVOT_LOG_WARN ? "warning: " : "", msg);
}

void mvot_cli_ready(struct mvot_cli *cli)
{
    if (cli->quiet && cli->progress != 2)
        cli->progress = 0;
    cli->hook.fn = cli->progress ? draw_progress : NULL;
    cli->hook.user = cli;
    mvot_log_set_callback(log_to_stderr, cli);
    /* Every stage parallelizes with its own pool (one GEMM per worker, deterministic
     * chunking); OpenBLAS's own threads would only oversubscribe the cores. */
    openblas_set_num_threads(1);
}

int mvot_cli_claim_out(const struct mvot_cli *cli, const char *out, const char *const *inputs,
                       size_t n, int fresh, struct mvot_outdir_lock **lock)
{
    struct mvot_error err = {0};
    *lock = NULL;
    if (mvot_outdir_check_overlap(out, inputs, n, &err) != MVOT_OK ||
        (fresh && mvot_outdir_check_foreign(out, NULL, 0, "the output", &err) != MVOT_OK) ||
        mvot_outdir_lock(out, cli->cmd, lock, &err) != MVOT_OK)
        return mvot_cli_fail(cli, &err);
    return -1;
}
