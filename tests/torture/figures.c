/* figures.c - the figures printed at the end of each scenario and of the
 * run, one line each (issue 12): sessions, faults injected by kind,
 * changes acknowledged, and the three that must be 0: lost, duplicated,
 * stuck. Records held in part or differing, records nobody wrote and
 * failed integrity checks must be 0 as well. */
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static figures totals;
static unsigned scenarios_run;

#define LOAD(f, name) ((unsigned long long)atomic_load(&(f)->name))

static void print_line(const char *what, figures *f, uint64_t elapsed_ms)
{
    char faults[512];
    size_t n = 0;
    faults[0] = '\0';
    for (int k = 1; k < PROXY_FAULT_KINDS; k++)
        n += (size_t)snprintf(faults + n, sizeof faults - n, "%s%s %llu", n ? ", " : "", proxy_fault_name(k),
                              LOAD(f, faults[k]));
    snprintf(faults + n, sizeof faults - n,
             ", hello-dup %llu, server-kill %llu, tablet-kill %llu, concurrent-sync %llu, db-hold %llu, trickle %llu",
             LOAD(f, hello_duplicates), LOAD(f, server_kills), LOAD(f, tablet_kills), LOAD(f, concurrent_syncs),
             LOAD(f, contention_holds), LOAD(f, trickle_connections));
    torture_note("figures %s: %.1f s; sessions %llu (ok %llu, 409 %llu, failed %llu); faults: %s; "
                 "captured %llu, edited %llu, acknowledged %llu; lost %llu, duplicated %llu, stuck %llu, "
                 "partial %llu, differing %llu, unwritten %llu, integrity %llu",
                 what, (double)elapsed_ms / 1000.0, LOAD(f, sessions), LOAD(f, sessions_ok),
                 LOAD(f, sessions_conflict), LOAD(f, sessions_failed), faults, LOAD(f, captured), LOAD(f, edited),
                 LOAD(f, acked), LOAD(f, lost), LOAD(f, duplicated), LOAD(f, stuck), LOAD(f, partial),
                 LOAD(f, differing), LOAD(f, extra), LOAD(f, integrity));
}

/* Adds every counter of `from` to `to`. */
static void add_figures(figures *to, figures *from)
{
    atomic_ullong *a = (atomic_ullong *)to, *b = (atomic_ullong *)from;
    for (size_t i = 0; i < sizeof *to / sizeof *a; i++) atomic_fetch_add(&a[i], atomic_load(&b[i]));
}

void figures_report(world *w)
{
    figures *f = &w->fig;
    print_line(w->name, f, monotonic_ms() - w->started_ms);
    if (LOAD(f, lost) || LOAD(f, duplicated) || LOAD(f, stuck) || LOAD(f, partial) || LOAD(f, differing) ||
        LOAD(f, extra) || LOAD(f, integrity))
        torture_fail("%s: lost %llu, duplicated %llu, stuck %llu, partial %llu, differing %llu, unwritten %llu, "
                     "integrity %llu: all must be 0", w->name, LOAD(f, lost), LOAD(f, duplicated), LOAD(f, stuck),
                     LOAD(f, partial), LOAD(f, differing), LOAD(f, extra), LOAD(f, integrity));
    add_figures(&totals, f);
    scenarios_run++;
}

void figures_report_total(uint64_t elapsed_ms)
{
    char what[64];
    snprintf(what, sizeof what, "run (%u scenarios)", scenarios_run);
    print_line(what, &totals, elapsed_ms);
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void latency_summary(uint64_t *samples, size_t n, uint64_t *median, uint64_t *max)
{
    *median = *max = 0;
    if (!n) return;
    qsort(samples, n, sizeof *samples, compare_u64);
    *median = samples[n / 2];
    *max = samples[n - 1];
}
