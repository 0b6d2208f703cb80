/* torture_testhelp.c - the runner functions the shared test helpers
 * (e2e_support.c, server_harness.c) call, for the torture program, which
 * has no run_tests.c: a failed check counts as a failure of the run, and
 * temporary folders live under the run's own root in /tmp. Also the
 * battery's own failure and progress lines. Thread-safe: tablets run in
 * threads. */
#include "torture.h"
#include "testhelp.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_ulong failures;
static atomic_uint tmp_count;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list args;
    pthread_mutex_lock(&print_lock);
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    pthread_mutex_unlock(&print_lock);
    atomic_fetch_add(&failures, 1);
}

void torture_fail(const char *fmt, ...)
{
    va_list args;
    pthread_mutex_lock(&print_lock);
    fputs("FAIL ", stderr);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    pthread_mutex_unlock(&print_lock);
    atomic_fetch_add(&failures, 1);
}

unsigned long torture_failures(void)
{
    return atomic_load(&failures);
}

void torture_note(const char *fmt, ...)
{
    va_list args;
    pthread_mutex_lock(&print_lock);
    va_start(args, fmt);
    vfprintf(stdout, fmt, args);
    va_end(args);
    fputc('\n', stdout);
    fflush(stdout);
    pthread_mutex_unlock(&print_lock);
}

/* A fresh folder under the run's root (made by main). Returns a static
 * buffer, as run_tests.c does; the battery calls it from one thread. */
const char *test_tmpdir(void)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/t%u", g_run.root, atomic_fetch_add(&tmp_count, 1) + 1);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        perror(path);
        exit(2);
    }
    return path;
}

const char *test_binary_path(const char *name)
{
    static char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", g_run.bin_dir, name);
    return path;
}
