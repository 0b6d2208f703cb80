/* bench_common.c - see bench_common.h. */
#include "bench_common.h"

#include "dala_sync.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void sort_doubles(double *values, size_t n)
{
    qsort(values, n, sizeof *values, compare_doubles);
}

double median(double *values, size_t n)
{
    sort_doubles(values, n);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void *must_alloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size);
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    return p;
}

const char *pass_or_miss(int passed)
{
    return passed ? "PASS" : "MISS";
}

unsigned long long bench_number_arg(int argc, char **argv, int *i, void (*usage)(void))
{
    char *end;
    if (*i + 1 >= argc) usage();
    unsigned long long value = strtoull(argv[++*i], &end, 10);
    if (*end != '\0' || argv[*i][0] == '\0') usage();
    return value;
}

/* ------------------------------------------------ messages and failures */

/* "<program>: <message>\n" on stderr. The program's name is glibc's
 * program_invocation_short_name (errno.h, _GNU_SOURCE), as err(3) prints
 * it. */
static void vmessage(const char *format, va_list args)
{
    fprintf(stderr, "%s: ", program_invocation_short_name);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
}

void fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vmessage(format, args);
    va_end(args);
    exit(1);
}

void must(int rc, const char *what)
{
    if (rc != DALA_OK) fail("%s: %s (%s)", what, dala_strerror(rc), dala_errmsg());
}

void note(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vmessage(format, args);
    va_end(args);
}

/* ------------------------------------------------------------ the table */

/* One line of the table; each column cut to its array. */
typedef struct row {
    char label[48], measured[24], goal[24], verdict[8], notes[200];
} row;

static row rows[BENCH_MAX_ROWS];
static size_t row_count;

void fill(char *out, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(out, size, format, args);
    va_end(args);
}

const char *grouped(char *out, size_t size, size_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%zu", n), o = 0;
    for (int i = 0; i < len && (size_t)o + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0) out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return out;
}

void add_row(const char *label, const char *measured, const char *goal, const char *verdict, const char *notes)
{
    if (row_count == BENCH_MAX_ROWS) return;
    row *r = &rows[row_count++];
    snprintf(r->label, sizeof r->label, "%s", label);
    snprintf(r->measured, sizeof r->measured, "%s", measured);
    snprintf(r->goal, sizeof r->goal, "%s", goal);
    snprintf(r->verdict, sizeof r->verdict, "%s", verdict);
    snprintf(r->notes, sizeof r->notes, "%s", notes);
}

static void print_row(const char *label, const char *measured, const char *goal, const char *verdict,
                      const char *notes)
{
    printf("%-34s %14s  %-14s %-5s %s\n", label, measured, goal, verdict, notes);
}

void print_table(void)
{
    print_row("", "measured", "goal", "", "");
    for (size_t i = 0; i < row_count; i++)
        print_row(rows[i].label, rows[i].measured, rows[i].goal, rows[i].verdict, rows[i].notes);
}

/* ------------------------------------------------------------ the files */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void remove_tree(const char *path)
{
    if (path[0]) nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
}
