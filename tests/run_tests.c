/* run_tests.c - runs every suite, or the suites named on the command line
 * (`run_tests codec seal`). Ends with exactly one line "N passed, N failed"
 * and exits non-zero when any test failed. */
#include "testhelp.h"
#include "suites.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct suite {
    const char *name;
    const dala_test *tests;
} suite;

static const suite all_suites[] = {
#define DALA_SUITE(name) {#name, name##_tests},
    DALA_SUITES
#undef DALA_SUITE
};

static int current_failed;
static char tmp_root[256];
static unsigned tmp_count;

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "    %s:%d: ", file, line);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    current_failed = 1;
}

const char *test_tmpdir(void)
{
    static char path[512];
    if (!tmp_root[0]) {
        snprintf(tmp_root, sizeof tmp_root, "/tmp/dala-tests-XXXXXX");
        if (!mkdtemp(tmp_root)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    snprintf(path, sizeof path, "%s/%u", tmp_root, ++tmp_count);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        perror(path);
        exit(2);
    }
    return path;
}

const char *test_binary_path(const char *name)
{
    static char path[PATH_MAX + 64];
    char exe[PATH_MAX];
    const char *dir = getenv("DALA_BUILD");
    if (!dir || !*dir) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
        if (slash) *slash = '\0';
        dir = slash ? exe : "build";
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static int is_selected(const char *name, int argc, char **argv)
{
    if (argc < 2) return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t s = 0; s < sizeof all_suites / sizeof all_suites[0]; s++) {
        if (!is_selected(all_suites[s].name, argc, argv)) continue;
        printf("%s\n", all_suites[s].name);
        for (const dala_test *t = all_suites[s].tests; t->name; t++) {
            current_failed = 0;
            t->run();
            printf("  %s %s\n", current_failed ? "FAIL" : "ok  ", t->name);
            if (current_failed) failed++;
            else passed++;
        }
    }
    if (tmp_root[0] && failed == 0) {
        char command[300];
        snprintf(command, sizeof command, "rm -rf '%s'", tmp_root);
        if (system(command) != 0) fprintf(stderr, "could not remove %s\n", tmp_root);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
