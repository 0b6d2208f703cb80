/* bench_common.h - what both benchmarks share: a monotonic clock, the
 * median of repeated runs, an allocation that ends the run when memory is
 * short, and the PASS/MISS verdict beside a goal. */
#ifndef DALA_BENCH_COMMON_H
#define DALA_BENCH_COMMON_H

#include <stddef.h>

/* Seconds on the monotonic clock. */
double now_seconds(void);
/* Sorts `n` values in place, smallest first (for percentiles). */
void sort_doubles(double *values, size_t n);
/* The median of `n` values (sorts them in place). */
double median(double *values, size_t n);

/* calloc, or a message and exit(1): a benchmark has no use for half a run. */
void *must_alloc(size_t count, size_t size);
/* The number after the flag at argv[*i] (advancing *i); calls `usage`
 * (which exits) when it is missing or not a number. */
unsigned long long bench_number_arg(int argc, char **argv, int *i, void (*usage)(void));
/* "PASS" or "MISS". */
const char *pass_or_miss(int passed);

#endif
