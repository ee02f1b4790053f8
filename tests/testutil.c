/* Helpers shared by the test executables: temp directories that remove themselves when the
 * program exits (a full ctest run must not leave folders behind), and the reference data
 * location handed down by ctest. */
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
