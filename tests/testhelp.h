/* testhelp.h - Dala's small test runner. CHECK macros print file:line and
 * both values, mark the running test failed and carry on. Each test file
 * ends with a table of its tests; run_tests.c lists the suites. */
#ifndef DALA_TESTHELP_H
#define DALA_TESTHELP_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct dala_test {
    const char *name;
    void (*run)(void);
} dala_test;

/* Counts a failed check against the running test and prints where. */
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Makes a fresh empty folder for this test; returns its path (borrowed). */
const char *test_tmpdir(void);
/* Path of a file under tests/ (e.g. "vectors/frame.txt"); borrowed. */
const char *test_data_path(const char *relative);
/* A file's whole text, NUL-terminated and malloc'ed; NULL (after a
 * failed check) if it cannot be read. */
char *test_read_file(const char *path);
/* Path of a built program (dala, dala-server): in $DALA_BUILD, else beside
 * this run_tests (build/ or build/asan/); borrowed until the next call. */
const char *test_binary_path(const char *name);

#define CHECK(expr)                                                               \
    do {                                                                          \
        if (!(expr)) test_fail(__FILE__, __LINE__, "CHECK(%s) failed", #expr);    \
    } while (0)

#define CHECK_EQ_INT(actual, expected)                                            \
    do {                                                                          \
        long long check_a_ = (long long)(actual), check_e_ = (long long)(expected); \
        if (check_a_ != check_e_)                                                 \
            test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld",      \
                      #actual, check_a_, #expected, check_e_);                    \
    } while (0)

#define CHECK_EQ_U64(actual, expected)                                            \
    do {                                                                          \
        uint64_t check_a_ = (uint64_t)(actual), check_e_ = (uint64_t)(expected);  \
        if (check_a_ != check_e_)                                                 \
            test_fail(__FILE__, __LINE__, "%s == %" PRIu64 ", expected %" PRIu64, \
                      #actual, check_a_, check_e_);                               \
    } while (0)

#define CHECK_EQ_STR(actual, expected)                                            \
    do {                                                                          \
        const char *check_a_ = (actual), *check_e_ = (expected);                  \
        if (check_a_ == NULL || check_e_ == NULL || strcmp(check_a_, check_e_))   \
            test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"",        \
                      #actual, check_a_ ? check_a_ : "(null)",                   \
                      check_e_ ? check_e_ : "(null)");                            \
    } while (0)

#define CHECK_EQ_MEM(actual, expected, len)                                       \
    do {                                                                          \
        if (memcmp((actual), (expected), (len)))                                  \
            test_fail(__FILE__, __LINE__, "%s and %s differ in %zu bytes",        \
                      #actual, #expected, (size_t)(len));                         \
    } while (0)

/* A text that must contain `needle`. */
#define CHECK_CONTAINS(haystack, needle)                                                  \
    do {                                                                                  \
        const char *check_h_ = (haystack);                                                \
        if (!check_h_ || !strstr(check_h_, (needle)))                                     \
            test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",               \
                      check_h_ ? check_h_ : "(null)", (needle));                          \
    } while (0)

/* A Dala call that must succeed; prints dala_errmsg() when it does not. */
#define CHECK_OK(call)                                                            \
    do {                                                                          \
        int check_rc_ = (call);                                                   \
        if (check_rc_ != 0)                                                       \
            test_fail(__FILE__, __LINE__, "%s returned %d (%s)", #call, check_rc_, \
                      dala_errmsg());                                             \
    } while (0)

#endif /* DALA_TESTHELP_H */
