/* bench_common.c - see bench_common.h. */
#include "bench_common.h"

#include <stdio.h>

#include <stdlib.h>
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
