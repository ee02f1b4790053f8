/* Minimal test harness: each test executable is a list of TEST functions run by main().
 * Assertions print both values with file:line and count failures; the run ends with
 * "N passed, N failed" and exits non-zero on any failure. Header-only on purpose: every
 * test file includes it once and defines its own main via TEST_MAIN. */
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

struct t_case {
    const char *name;
    void (*fn)(void);
};

/* TEST_MAIN(t1, t2, ...) defines main running each test; argv[1] may name one test. */
#define TEST_MAIN(...)                                        \
    int main(int argc, char **argv)                           \
    {                                                         \
        void (*fns[])(void) = {__VA_ARGS__};                  \
        const char *names = #__VA_ARGS__;                     \
        int passed = 0, failed = 0;                           \
        size_t n = sizeof fns / sizeof fns[0];                \
        const char *p = names;                                \
        for (size_t i = 0; i < n; i++) {                      \
            while (*p == ' ' || *p == ',')                    \
                p++;                                          \
            size_t len = strcspn(p, ", ");                    \
            char name[128];                                   \
            snprintf(name, sizeof name, "%.*s", (int)len, p); \
            p += len;                                         \
            if (argc > 1 && strcmp(argv[1], name) != 0)       \
                continue;                                     \
            int before = t_failed_asserts;                    \
            fns[i]();                                         \
            if (t_failed_asserts == before) {                 \
                passed++;                                     \
                printf("ok   %s\n", name);                    \
            } else {                                          \
                failed++;                                     \
                printf("FAIL %s\n", name);                    \
            }                                                 \
        }                                                     \
        printf("%d passed, %d failed\n", passed, failed);     \
        return failed ? 1 : 0;                                \
    }

/* A fresh temp directory for a test (mkdtemp under $TMPDIR or /tmp); caller frees. */
char *t_tmpdir(void);

#endif
