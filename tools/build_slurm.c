/* `mvot build --slurm` (docs/cluster.md): writes OUT/build-config.json, one plain sbatch file
 * per stage into OUT/slurm/ and OUT/slurm/submit.sh, which submits them in order, each with
 * --dependency=afterok on the one before; then runs submit.sh (unless --dry-run) and prints
 * the job ids. Every job's body is one `mvot build --stage` line, so how the config maps to
 * each step lives in one place (tools/build_stage.c), and the files stay short enough to
 * edit by hand. Paths in them are absolute: jobs start on other nodes, in other folders. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/io.h"
#include "core/json.h"
#include "core/outdir.h"
#include "tools/build.h"

enum job_kind {
    JOB_ONE,   /* one task, no part */
    JOB_ARRAY, /* --array=0-(N-1), --part auto */
    JOB_MERGE  /* one task that merges N parts, --parts N */
};

/* The chain, in submission order; each job waits for the one before it. */
static const struct job {
    const char *file; /* OUT/slurm/FILE.sbatch */
    const char *stage;
    enum job_kind kind;
} JOBS[] = {{"1-plan", "plan", JOB_ONE},
            {"2-render", "render", JOB_ARRAY},
            {"3-train", "train", JOB_MERGE},
            {"4-pack", "pack", JOB_ARRAY},
            {"5-finish", "finish", JOB_MERGE}};
#define N_JOBS (sizeof JOBS / sizeof JOBS[0])

/* Absolute paths the files name. */
struct slurm_paths {
    char out[2 * PATH_MAX], dir[2 * PATH_MAX + 8], exe[PATH_MAX], cwd[PATH_MAX];
};

/* A value written unquoted into #SBATCH lines and shell commands must not need quoting
 * there: no blanks, quotes, shell or `%` pattern characters. */
static int plain_word(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("._/+,=@:-", *s)))
            return 0;
    return 1;
}

/* The absolute paths of OUT, its slurm folder, this program and the working folder (the
 * jobs' --chdir, so relative --tokenizer/--codebook paths in the config still resolve);
 * checked before anything is written. -1 to go on, else the exit code. */
static int resolve_paths(const struct mvot_build *b, const struct mvot_build_slurm *s,
                         struct slurm_paths *p)
{
    ssize_t n = readlink("/proc/self/exe", p->exe, sizeof p->exe - 1);
    if (n <= 0 || !getcwd(p->cwd, sizeof p->cwd)) {
        fprintf(stderr, "%s: cannot resolve the absolute paths for the sbatch files\n",
                b->cli->cmd);
        return MVOT_EXIT_FAIL;
    }
    const char *rel = b->out;
    while (strncmp(rel, "./", 2) == 0)
        rel += 2;
    snprintf(p->out, sizeof p->out, "%s%s%s", rel[0] == '/' ? "" : p->cwd, rel[0] == '/' ? "" : "/",
             rel);
    p->exe[n] = 0;
    snprintf(p->dir, sizeof p->dir, "%s/slurm", p->out);
    const char *check[][2] = {{"--out", p->out},
                              {"the mvot program path", p->exe},
                              {"the working folder", p->cwd},
                              {"--partition", s->partition ? s->partition : "-"},
                              {"--time", s->time ? s->time : "-"}};
    for (size_t i = 0; i < sizeof check / sizeof check[0]; i++)
        if (!plain_word(check[i][1]))
            return mvot_cli_usage(b->cli,
                                  "--slurm: %s \"%s\" has a character the sbatch files cannot "
                                  "hold unquoted (use letters, digits and ._/+,=@:-)",
                                  check[i][0], check[i][1]);
    return -1;
}

static enum mvot_status write_job(const struct job *j, const struct mvot_build_slurm *s,
                                  const struct slurm_paths *p, struct mvot_buf *t)
{
    mvot_buf_printf(t,
                    "#!/bin/bash\n"
                    "# Stage %s of the build in %s, written by `mvot build --slurm`\n"
                    "# (docs/cluster.md). Edit freely; submit.sh beside it submits the stages.\n"
                    "#SBATCH --job-name=mvot-%s\n",
                    j->stage, p->out, j->stage);
    if (j->kind == JOB_ARRAY)
        mvot_buf_printf(t, "#SBATCH --array=0-%u\n", s->parts - 1);
    mvot_buf_printf(t, "#SBATCH --cpus-per-task=%u\n", s->cpus);
    if (s->time)
        mvot_buf_printf(t, "#SBATCH --time=%s\n", s->time);
    if (s->partition)
        mvot_buf_printf(t, "#SBATCH --partition=%s\n", s->partition);
    mvot_buf_printf(t,
                    "#SBATCH --requeue\n"
                    "#SBATCH --kill-on-invalid-dep=yes\n"
                    "#SBATCH --chdir=%s\n"
                    "#SBATCH --output=%s/logs/%%x-%s.log\n"
                    "exec %s build --config %s/build-config.json --out %s --stage %s",
                    p->cwd, p->dir, j->kind == JOB_ARRAY ? "%A_%a" : "%j", p->exe, p->out, p->out,
                    j->stage);
    if (j->kind == JOB_ARRAY)
        mvot_buf_printf(t, " --part auto");
    else if (j->kind == JOB_MERGE)
        mvot_buf_printf(t, " --parts %u", s->parts);
    return mvot_buf_printf(t, " --threads \"${SLURM_CPUS_PER_TASK:-1}\"\n");
}

static enum mvot_status write_submit(const struct slurm_paths *p, struct mvot_buf *t)
{
    mvot_buf_printf(t,
                    "#!/bin/bash\n"
                    "# Submits the stages of the build in %s in order, each once the one before\n"
                    "# it succeeded (afterok); written by `mvot build --slurm` (docs/cluster.md).\n"
                    "# Prints one \"STAGE JOBID\" line per job.\n"
                    "set -euo pipefail\n"
                    "S=%s\n",
                    p->out, p->dir);
    const char *prev = NULL;
    for (size_t i = 0; i < N_JOBS; i++) {
        mvot_buf_printf(t, "%s=$(sbatch --parsable ", JOBS[i].stage);
        if (prev)
            mvot_buf_printf(t, "--dependency=afterok:\"$%s\" ", prev);
        mvot_buf_printf(t, "\"$S/%s.sbatch\" | cut -d';' -f1)\necho \"%s $%s\"\n", JOBS[i].file,
                        JOBS[i].stage, JOBS[i].stage);
        prev = JOBS[i].stage;
    }
    return mvot_buf_printf(t, "\n");
}

/* One file of OUT/slurm from the text t (emptied after). */
static enum mvot_status put_file(const char *dir, const char *name, struct mvot_buf *t,
                                 enum mvot_status st, struct mvot_error *err)
{
    char *path = mvot_io_join(dir, name);
    if (st != MVOT_OK || !path)
        st = mvot_error_set(err, MVOT_ERR_NOMEM, dir, "out of memory");
    else
        st = mvot_io_write_file(path, t->data, t->len, err);
    free(path);
    t->len = 0;
    return st;
}

/* OUT/slurm/logs, the sbatch files and submit.sh. */
static enum mvot_status write_files(const struct mvot_build_slurm *s, const struct slurm_paths *p,
                                    struct mvot_error *err)
{
    enum mvot_status st = MVOT_OK;
    struct mvot_buf t;
    mvot_buf_init(&t, 0);
    char *logs = mvot_io_join(p->dir, "logs"), name[64];
    MVOT_FAIL_IF(!logs, err, MVOT_ERR_NOMEM, p->dir, "out of memory");
    MVOT_TRY(mvot_io_mkdirs(logs, err)); /* Slurm opens --output there before the job runs */
    for (size_t i = 0; i < N_JOBS; i++) {
        snprintf(name, sizeof name, "%s.sbatch", JOBS[i].file);
        MVOT_TRY(put_file(p->dir, name, &t, write_job(&JOBS[i], s, p, &t), err));
    }
    MVOT_TRY(put_file(p->dir, "submit.sh", &t, write_submit(p, &t), err));
cleanup:
    free(logs);
    mvot_buf_free(&t);
    return st;
}

/* Runs submit.sh and prints its "STAGE JOBID" lines; *jobs receives them. -1 on success,
 * else the exit code. */
static int submit(const struct mvot_build *b, const struct slurm_paths *p, json_t *jobs)
{
    char cmd[sizeof p->dir + 32], line[256];
    snprintf(cmd, sizeof cmd, "bash %s/submit.sh", p->dir); /* a plain word: no quoting */
    fflush(stdout);
    FILE *fp = popen(cmd, "r");
    if (!fp) {
        fprintf(stderr, "%s: cannot run %s/submit.sh\n", b->cli->cmd, p->dir);
        return MVOT_EXIT_FAIL;
    }
    while (fgets(line, sizeof line, fp)) { /* our own script's "STAGE JOBID" lines */
        char *id = strchr(line, ' ');
        if (!id)
            continue;
        *id++ = 0;
        id[strcspn(id, "\r\n")] = 0;
        json_object_set_new(jobs, line, json_string(id));
        mvot_cli_note(b->cli, "build: submitted %s as job %s\n", line, id);
    }
    int status = pclose(fp);
    if (status != 0) {
        fprintf(stderr,
                "%s: %s/submit.sh failed (exit %d; sbatch's message is above): the jobs listed "
                "before it were submitted, cancel them with scancel\n",
                b->cli->cmd, p->dir, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return MVOT_EXIT_FAIL;
    }
    return -1;
}

int mvot_build_slurm(struct mvot_build *b, const struct mvot_build_slurm *s)
{
    struct mvot_error err = {0};
    struct mvot_outdir_lock *lock = NULL;
    struct slurm_paths *p = calloc(1, sizeof *p);
    json_t *jobs = json_object(), *summary = NULL;
    int rc = MVOT_EXIT_FAIL;
    enum mvot_status st = MVOT_OK;
    if (!p || !jobs) {
        fprintf(stderr, "%s: out of memory\n", b->cli->cmd);
        goto done;
    }
    if ((rc = resolve_paths(b, s, p)) >= 0)
        goto done;
    if ((st = mvot_build_claim(b, &lock, &err)) != MVOT_OK ||
        (st = mvot_build_check_shards(b, &err)) != MVOT_OK)
        goto fail;
    if ((st = mvot_json_write_file(b->cfg_out, b->cfg, &err)) != MVOT_OK ||
        (st = write_files(s, p, &err)) != MVOT_OK)
        goto fail;
    mvot_outdir_unlock(lock); /* the plan job locks OUT, and may start at once */
    lock = NULL;
    mvot_cli_note(b->cli, "build: wrote %u-part Slurm jobs into %s\n", s->parts, p->dir);
    if (s->dry_run)
        mvot_cli_note(b->cli, "build: submit them with: bash %s/submit.sh\n", p->dir);
    else if ((rc = submit(b, p, jobs)) >= 0)
        goto done;
    summary = json_pack("{s:s,s:s,s:I,s:O}", "out", b->out, "slurm", p->dir, "parts",
                        (json_int_t)s->parts, "jobs", jobs);
    mvot_cli_print_json(b->cli, summary);
    rc = MVOT_EXIT_OK;
    goto done;
fail:
    rc = mvot_cli_fail(b->cli, &err);
done:
    mvot_outdir_unlock(lock);
    json_decref(summary);
    json_decref(jobs);
    free(p);
    return rc;
}
