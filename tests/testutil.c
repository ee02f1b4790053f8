/* Helpers shared by the test executables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/test.h"

char *t_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/mvot-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}
