/* contention.c - write contention on the central database: a thread with
 * its own SQLite connection that takes the write lock (BEGIN IMMEDIATE)
 * and holds it for `hold_ms` every `period_ms`, as a busy server's other
 * writers (an export, the supervisors, a report) do. The server's syncs
 * must wait or answer a retryable busy status; the two ends must never
 * end up disagreeing (issue 12). */
#include "torture.h"

#include <stdlib.h>
#include <unistd.h>

struct contention {
    world *w;
    int hold_ms, period_ms;
    atomic_int stop;
    atomic_ullong holds;
    pthread_t thread;
};

static void *contention_run(void *context)
{
    contention *c = context;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(c->w->h.db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        torture_fail("%s: contention: cannot open the central database: %s", c->w->name,
                     db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    while (!atomic_load(&c->stop)) {
        uint64_t started = monotonic_ms();
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
            atomic_fetch_add(&c->holds, 1);
            usleep((useconds_t)c->hold_ms * 1000u);
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        }
        uint64_t spent = monotonic_ms() - started;
        if (spent < (uint64_t)c->period_ms) usleep((useconds_t)(c->period_ms - (int)spent) * 1000u);
    }
    sqlite3_close(db);
    return NULL;
}

contention *contention_start(world *w, int hold_ms, int period_ms)
{
    contention *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->w = w;
    c->hold_ms = hold_ms;
    c->period_ms = period_ms;
    if (pthread_create(&c->thread, NULL, contention_run, c) != 0) {
        free(c);
        torture_fail("%s: contention: cannot start its thread", w->name);
        return NULL;
    }
    return c;
}

uint64_t contention_stop(contention *c)
{
    if (!c) return 0;
    atomic_store(&c->stop, 1);
    pthread_join(c->thread, NULL);
    uint64_t holds = atomic_load(&c->holds);
    free(c);
    return holds;
}
