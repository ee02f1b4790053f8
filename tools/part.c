/* `--part` parsing (tools/part.h). getenv lives here, in the front end, so library code only
 * ever sees the resolved (index, count) pair. */
#include "tools/part.h"

#include <stdlib.h>
#include <string.h>

/* Strict decimal: digits only, no sign, no spaces, at most 9 digits. -1 on anything else. */
static int64_t parse_dec(const char *s, size_t len)
{
    int64_t v = 0;
    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int check_range(const struct mvot_cli *cli, const char *from, int64_t i, int64_t n,
                       struct mvot_part *out)
{
    if (n < 1 || n > MVOT_PART_COUNT_MAX)
        return mvot_cli_usage(cli, "--part: %s: part count %lld is not in 1..%d", from,
                              (long long)n, MVOT_PART_COUNT_MAX),
               0;
    if (i < 0 || i >= n)
        return mvot_cli_usage(cli, "--part: %s: part index %lld is not in 0..%lld", from,
                              (long long)i, (long long)n - 1),
               0;
    out->index = (uint32_t)i;
    out->count = (uint32_t)n;
    return 1;
}

/* The value of an environment variable as a strict decimal; -2 when unset or empty. */
static int64_t env_dec(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return -2;
    return parse_dec(v, strlen(v));
}

static int parse_auto(const struct mvot_cli *cli, struct mvot_part *out)
{
    int64_t id = env_dec("SLURM_ARRAY_TASK_ID");
    if (id != -2) {
        int64_t n = env_dec("SLURM_ARRAY_TASK_COUNT"), min = env_dec("SLURM_ARRAY_TASK_MIN");
        if (id < 0 || n < 0 || min == -1)
            return mvot_cli_usage(cli,
                                  "--part auto: SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT or "
                                  "SLURM_ARRAY_TASK_MIN is not a plain number"),
                   0;
        /* Arrays may start at any index (--array=1-4); a step (--array=0-6:2) leaves holes
         * that land out of range below. */
        return check_range(cli, "SLURM_ARRAY_TASK_ID", min >= 0 ? id - min : id, n, out);
    }
    id = env_dec("JOB_COMPLETION_INDEX");
    if (id != -2) {
        int64_t n = env_dec("MVOT_PART_COUNT");
        if (n == -2)
            return mvot_cli_usage(cli, "--part auto: JOB_COMPLETION_INDEX is set but "
                                       "MVOT_PART_COUNT (the Job's completions) is not"),
                   0;
        if (id < 0 || n < 0)
            return mvot_cli_usage(cli, "--part auto: JOB_COMPLETION_INDEX or MVOT_PART_COUNT "
                                       "is not a plain number"),
                   0;
        return check_range(cli, "JOB_COMPLETION_INDEX", id, n, out);
    }
    return mvot_cli_usage(cli, "--part auto: not in a Slurm array (SLURM_ARRAY_TASK_ID) or a "
                               "Kubernetes Indexed Job (JOB_COMPLETION_INDEX); use --part I/N"),
           0;
}

int mvot_cli_parse_part(const struct mvot_cli *cli, const char *arg, struct mvot_part *out)
{
    if (strcmp(arg, "auto") == 0)
        return parse_auto(cli, out);
    const char *slash = strchr(arg, '/');
    if (!slash)
        return mvot_cli_usage(cli, "--part: expected I/N or auto, got '%s'", arg), 0;
    int64_t i = parse_dec(arg, (size_t)(slash - arg));
    int64_t n = parse_dec(slash + 1, strlen(slash + 1));
    if (i < 0 || n < 0)
        return mvot_cli_usage(cli, "--part: expected I/N or auto, got '%s'", arg), 0;
    return check_range(cli, arg, i, n, out);
}
