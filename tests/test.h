/* Minimal test harness: each test executable is a list of TEST functions run by main().
 * Assertions print both values with file:line and count failures; the run ends with
 * "N passed, N failed, N skipped" and exits 1 on any failure, 77 (ctest: SKIPPED) when a case
 * skipped and none failed, else 0. Header-only on purpose: every test file includes it once
 * and defines its own main via TEST_MAIN. */
#ifndef MVOT_TESTS_TEST_H
#define MVOT_TESTS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_failed_asserts __attribute__((unused));

#define T_FAIL(...)                                     \
    do {                                                \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                   \
        fputc('\n', stderr);                            \
        t_failed_asserts++;                             \
    } while (0)

#define ASSERT_TRUE(c)                          \
    do {                                        \
        if (!(c))                               \
            T_FAIL("assertion failed: %s", #c); \
    } while (0)

#define ASSERT_EQ_INT(a, b)                                   \
    do {                                                      \
        long long _a = (long long)(a), _b = (long long)(b);   \
        if (_a != _b)                                         \
            T_FAIL("%s == %s: %lld != %lld", #a, #b, _a, _b); \
    } while (0)

#define ASSERT_EQ_U64(a, b)                                                            \
    do {                                                                               \
        unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b); \
        if (_a != _b)                                                                  \
            T_FAIL("%s == %s: %llu != %llu", #a, #b, _a, _b);                          \
    } while (0)

#define ASSERT_EQ_STR(a, b)                                                                       \
    do {                                                                                          \
        const char *_a = (a), *_b = (b);                                                          \
        if (!_a || !_b || strcmp(_a, _b) != 0)                                                    \
            T_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); \
    } while (0)

#define ASSERT_NEAR(a, b, tol)                                                        \
    do {                                                                              \
        double _a = (double)(a), _b = (double)(b);                                    \
        if (!(_a - _b <= (tol) && _b - _a <= (tol)))                                  \
            T_FAIL("%s ~= %s: %.9g vs %.9g (tol %g)", #a, #b, _a, _b, (double)(tol)); \
    } while (0)

/* The string must appear in the text. */
#define ASSERT_CONTAINS(text, needle)                                         \
    do {                                                                      \
        const char *_t = (text), *_n = (needle);                              \
        if (!_t || !strstr(_t, _n))                                           \
            T_FAIL("\"%s\" does not contain \"%s\"", _t ? _t : "(null)", _n); \
    } while (0)

/* Asserts a status is MVOT_OK, printing the error message otherwise. */
#define ASSERT_OK(expr, errp)                                      \
    do {                                                           \
        int _st = (int)(expr);                                     \
        if (_st != 0)                                              \
            T_FAIL("%s failed (%d): %s", #expr, _st, (errp)->msg); \
    } while (0)

/* A test that cannot run here (missing reference data, python module, device) calls T_SKIP
 * with the reason and returns. A run in which nothing failed and something skipped exits 77,
 * which ctest reports as SKIPPED (SKIP_RETURN_CODE): a skip never shows as a pass. */
static int t_skipped_cases __attribute__((unused));
#define T_SKIP(...)          \
    do {                     \
        printf("SKIP: ");    \
        printf(__VA_ARGS__); \
        putchar('\n');       \
        t_skipped_cases++;   \
        return;              \
    } while (0)

/* Is NAME among argv[1..argc-1]? Marks the argument as used in USED. */
static inline int t_selected(const char *name, int argc, char **argv, unsigned char *used)
{
    int hit = 0;
    for (int a = 1; a < argc; a++)
        if (strcmp(argv[a], name) == 0)
            hit = used[a] = 1;
    return hit;
}

/* TEST_MAIN(t1, t2, ...) defines main running each test. Arguments: none runs every test;
 * NAME... runs those (an unknown name is an error, exit 2, so a renamed test cannot turn its
 * ctest entry into an empty pass); --list prints the names, one a line. ctest runs each name
 * as its own entry (tests/CMakeLists.txt reads them from the TEST_MAIN line). */
#define TEST_MAIN(...)                                                                             \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        void (*fns[])(void) = {__VA_ARGS__};                                                       \
        const char *names = #__VA_ARGS__;                                                          \
        int passed = 0, failed = 0, skipped = 0;                                                   \
        int list = argc > 1 && strcmp(argv[1], "--list") == 0;                                     \
        unsigned char used[64] = {0};                                                              \
        if (argc > 64) {                                                                           \
            fprintf(stderr, "%s: at most 63 test names\n", argv[0]);                               \
            return 2;                                                                              \
        }                                                                                          \
        size_t n = sizeof fns / sizeof fns[0];                                                     \
        const char *p = names;                                                                     \
        for (size_t i = 0; i < n; i++) {                                                           \
            while (*p == ' ' || *p == ',')                                                         \
                p++;                                                                               \
            size_t len = strcspn(p, ", ");                                                         \
            char name[128];                                                                        \
            snprintf(name, sizeof name, "%.*s", (int)len, p);                                      \
            p += len;                                                                              \
            if (list) {                                                                            \
                printf("%s\n", name);                                                              \
                continue;                                                                          \
            }                                                                                      \
            if (argc > 1 && !t_selected(name, argc, argv, used))                                   \
                continue;                                                                          \
            int before = t_failed_asserts, skips_before = t_skipped_cases;                         \
            fns[i]();                                                                              \
            if (t_failed_asserts != before) {                                                      \
                failed++;                                                                          \
                printf("FAIL %s\n", name);                                                         \
            } else if (t_skipped_cases != skips_before) {                                          \
                skipped++;                                                                         \
                printf("skip %s\n", name);                                                         \
            } else {                                                                               \
                passed++;                                                                          \
                printf("ok   %s\n", name);                                                         \
            }                                                                                      \
        }                                                                                          \
        if (list)                                                                                  \
            return 0;                                                                              \
        for (int a = 1; a < argc; a++)                                                             \
            if (!used[a]) {                                                                        \
                fprintf(stderr, "%s: no test named '%s' (--list shows them)\n", argv[0], argv[a]); \
                return 2;                                                                          \
            }                                                                                      \
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);                     \
        return failed ? 1 : skipped ? 77 : 0;                                                      \
    }

/* A fresh temp directory for a test (mkdtemp under $TMPDIR or /tmp); caller frees the
 * string. The directory and everything in it is removed when the test program exits. */
char *t_tmpdir(void);

/* The reference data folder (official samples, prompts, third-party name lists) from
 * $MVOT_REFERENCE_DIR, which ctest sets from the CMake cache setting of the same name; NULL
 * when unset or missing. Tests that need it T_SKIP on NULL. The string is static. */
const char *t_reference_dir(void);

/* A file of the source tree, $MVOT_SRC/rel (which ctest sets), read whole and NUL-terminated,
 * for tests that hold a spec in docs/ to the code; caller frees. NULL (with the reason on
 * stderr) when MVOT_SRC is unset or the file unreadable: the test then fails, never skips. */
char *t_read_source(const char *rel);

#endif
