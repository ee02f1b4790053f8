/* Helpers shared by the test executables: temp directories that remove themselves when the
 * program exits (a full ctest run must not leave folders behind), the reference data
 * location handed down by ctest, and files of the source tree (specs in docs/). */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/test.h"

/* Folders made by t_tmpdir, removed at exit. A fixed cap keeps this free of allocation
 * failure paths; no test program makes more than a handful. */
#define T_MAX_TMPDIRS 64
static char *g_tmpdirs[T_MAX_TMPDIRS];
static int g_ntmpdirs;

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_tmpdirs(void)
{
    for (int i = 0; i < g_ntmpdirs; i++) {
        nftw(g_tmpdirs[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(g_tmpdirs[i]);
    }
    g_ntmpdirs = 0;
}

char *t_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/mvot-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    if (!d)
        return NULL;
    if (g_ntmpdirs == 0)
        atexit(rm_tmpdirs);
    if (g_ntmpdirs < T_MAX_TMPDIRS)
        g_tmpdirs[g_ntmpdirs++] = strdup(d);
    else
        fprintf(stderr, "testutil: more than %d temp dirs; %s is left behind\n", T_MAX_TMPDIRS, d);
    return strdup(d);
}

const char *t_reference_dir(void)
{
    const char *d = getenv("MVOT_REFERENCE_DIR");
    struct stat st;
    if (!d || !*d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return d;
}

char *t_read_source(const char *rel)
{
    const char *src = getenv("MVOT_SRC");
    char path[4096];
    if (!src || !*src) {
        fprintf(stderr, "testutil: MVOT_SRC is not set; cannot read %s\n", rel);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", src, rel);
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;
    if (fp && fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, fp) == (size_t)n) {
        buf[n] = 0;
    } else {
        fprintf(stderr, "testutil: cannot read %s\n", path);
        free(buf);
        buf = NULL;
    }
    if (fp)
        fclose(fp);
    return buf;
}
