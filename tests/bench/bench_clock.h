/* bench_clock.h - what both benchmarks measure with: a monotonic clock
 * and the median of repeated runs. */
#ifndef DALA_BENCH_CLOCK_H
#define DALA_BENCH_CLOCK_H

#include <stddef.h>

/* Seconds on the monotonic clock. */
double now_seconds(void);
/* Sorts `n` values in place, smallest first (for percentiles). */
void sort_doubles(double *values, size_t n);
/* The median of `n` values (sorts them in place). */
double median(double *values, size_t n);

#endif
