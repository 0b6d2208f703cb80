/* bench_common.h - what the benchmarks share: a monotonic clock, the
 * median of repeated runs, an allocation that ends the run when memory is
 * short, messages and exits named after the program, the table of figures
 * with the PASS/MISS verdict beside a goal, the removal of a temporary
 * folder, and (for the benchmarks that run dala-server) the wait for its
 * text index. */
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

/* ------------------------------------------------ messages and failures */

/* Prints "<program>: <message>" on stderr (the program's name as it was
 * started: bench_report, bench_server, ...) and exits 1: a benchmark that
 * measured a failure would print nonsense. exit() runs the program's
 * atexit clean-up, so call it from the main thread only. */
__attribute__((format(printf, 1, 2), noreturn)) void fail(const char *format, ...);
/* Exits through fail() with the library's detail (dala_strerror,
 * dala_errmsg) when `rc` is not DALA_OK; `what` names the call. */
void must(int rc, const char *what);
/* Progress of the untimed setup, "<program>: <message>" on stderr, so the
 * table on stdout stays whole. */
__attribute__((format(printf, 1, 2))) void note(const char *format, ...);

/* ------------------------------------------------------------ the table */

/* The table holds at most this many rows; add_row drops any past it. */
#define BENCH_MAX_ROWS 48

/* snprintf into `out` of `size` bytes, cut to fit: the texts of a row. */
__attribute__((format(printf, 3, 4))) void fill(char *out, size_t size, const char *format, ...);
/* `n` with thousands separators into `out` (100000 -> "100,000"); returns
 * `out`. */
const char *grouped(char *out, size_t size, size_t n);
/* Adds a line to the table, printed whole at the end by print_table (the
 * setup notes go to stderr meanwhile). Each text is copied and cut to its
 * column: label 47 bytes, measured 23, goal 23, verdict 7, notes 199. */
void add_row(const char *label, const char *measured, const char *goal, const char *verdict, const char *notes);
/* Prints the table on stdout: a header line (measured, goal), then the
 * rows in the order they were added. */
void print_table(void);

/* Removes the folder at `path` and everything in it, without following
 * links; nothing when `path` is empty. */
void remove_tree(const char *path);

/* ------------------------------------- the server's text index (SQLite) */

/* Only bench_server and bench_report link SQLite; bench_sync links
 * bench_common.o without it. So what reads the central database is here,
 * static inline: it is compiled only into the programs that call it. */
#include <sqlite3.h>
#include <unistd.h>

/* Records past the text index's cursors (not yet indexed), summed over
 * the units; log positions count writes, so this is an upper bound. -1 if
 * the query fails. */
static inline long long bench_index_lag(sqlite3 *db)
{
    sqlite3_stmt *stmt;
    long long lag = -1;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(sum(o.next_seq - 1 - coalesce(c.seq, 0)), 0) FROM org_unit o "
                               "LEFT JOIN text_index_cursor c ON c.unit_id = o.id", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        lag = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return lag;
}

/* Waits, at most `max_seconds`, until the server's text indexer has read
 * every unit's log of the database at `db_path` to its end, so it does not
 * run beside the timed requests. Returns the seconds waited; the lag when
 * the wait began in *lag_at_start (may be NULL). Exits through fail() when
 * the database does not open or the index does not catch up in time. */
static inline double bench_wait_for_index(long long *lag_at_start, const char *db_path, double max_seconds)
{
    sqlite3 *db;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) fail("open %s read-only", db_path);
    sqlite3_busy_timeout(db, 1000);
    double start = now_seconds();
    if (lag_at_start) *lag_at_start = bench_index_lag(db);
    while (bench_index_lag(db) != 0 && now_seconds() - start < max_seconds) usleep(100000);
    if (bench_index_lag(db) != 0) fail("the text index did not catch up within %.0f minutes", max_seconds / 60);
    sqlite3_close(db);
    return now_seconds() - start;
}

#endif
