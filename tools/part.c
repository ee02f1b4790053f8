/* `--part` parsing (tools/part.h). getenv lives here, in the front end, so library code only
 * ever sees the resolved (index, count) pair. Numbers go through mvot_cli_parse_u64, whose
 * usage line names the option or the variable that was wrong. */
#include "tools/part.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io.h"

static int set_part(const struct mvot_cli *cli, const char *from, uint64_t i, uint64_t n,
                    struct mvot_part *out)
{
    if (i >= n)
        return mvot_cli_usage(cli, "--part: %s: part index %llu is not below the count %llu", from,
                              (unsigned long long)i, (unsigned long long)n),
               0;
    out->index = (uint32_t)i;
    out->count = (uint32_t)n;
    return 1;
}

/* A required numeric variable; prints a usage line naming it when unset or malformed. */
static int env_u64(const struct mvot_cli *cli, const char *name, uint64_t min, uint64_t max,
                   uint64_t *out)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return mvot_cli_usage(cli, "--part auto: %s is not set", name), 0;
    return mvot_cli_parse_u64(cli, name, v, min, max, out);
}

static int parse_auto(const struct mvot_cli *cli, struct mvot_part *out)
{
    uint64_t id, n, min = 0;
    const char *v;
    if ((v = getenv("SLURM_ARRAY_TASK_ID")) && *v) {
        if (!env_u64(cli, "SLURM_ARRAY_TASK_ID", 0, UINT32_MAX, &id) ||
            !env_u64(cli, "SLURM_ARRAY_TASK_COUNT", 1, MVOT_PART_COUNT_MAX, &n))
            return 0;
        /* Arrays may start at any index (--array=1-4); a step (--array=0-6:2) leaves holes
         * that land out of range below. */
        if ((v = getenv("SLURM_ARRAY_TASK_MIN")) && *v &&
            !mvot_cli_parse_u64(cli, "SLURM_ARRAY_TASK_MIN", v, 0, id, &min))
            return 0;
        return set_part(cli, "SLURM_ARRAY_TASK_ID", id - min, n, out);
    }
    if ((v = getenv("JOB_COMPLETION_INDEX")) && *v) {
        if (!env_u64(cli, "JOB_COMPLETION_INDEX", 0, UINT32_MAX, &id) ||
            !env_u64(cli, "MVOT_PART_COUNT", 1, MVOT_PART_COUNT_MAX, &n))
            return 0;
        return set_part(cli, "JOB_COMPLETION_INDEX", id, n, out);
    }
    return mvot_cli_usage(cli, "--part auto: not in a Slurm array (SLURM_ARRAY_TASK_ID) or a "
                               "Kubernetes Indexed Job (JOB_COMPLETION_INDEX); use --part I/N"),
           0;
}

int mvot_cli_parse_part(const struct mvot_cli *cli, const char *arg, struct mvot_part *out)
{
    char buf[32];
    uint64_t i, n;
    if (strcmp(arg, "auto") == 0)
        return parse_auto(cli, out);
    const char *slash = strchr(arg, '/');
    size_t il = slash ? (size_t)(slash - arg) : 0;
    if (!slash || il >= sizeof buf)
        return mvot_cli_usage(cli, "--part: expected I/N or auto, got '%s'", arg), 0;
    memcpy(buf, arg, il);
    buf[il] = 0;
    if (!mvot_cli_parse_u64(cli, "--part I", buf, 0, MVOT_PART_COUNT_MAX - 1, &i) ||
        !mvot_cli_parse_u64(cli, "--part N", slash + 1, 1, MVOT_PART_COUNT_MAX, &n))
        return 0;
    return set_part(cli, arg, i, n, out);
}

char *mvot_part_dir(const char *out, const struct mvot_part *p)
{
    return mvot_strdupf("%s/part-%05u-of-%05u", out, p->index, p->count);
}

int mvot_cli_part_out(const struct mvot_cli *cli, const struct mvot_part *p, const char **out,
                      char **owned)
{
    if (!p->count)
        return -1;
    *owned = mvot_part_dir(*out, p);
    if (!*owned) {
        fprintf(stderr, "%s: out of memory\n", cli->cmd);
        return MVOT_EXIT_FAIL;
    }
    *out = *owned;
    return -1;
}
