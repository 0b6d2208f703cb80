/* scenario_soak.c - `make soak`: 50 tablets in five units for
 * --minutes N (default 10) with every fault at once: the fault proxy on
 * every sync, the database held 150 ms every 155 ms, 6 slow clients, and
 * the server killed with kill -9 every 15-45 s. Ends with the convergence
 * check and the same figures as the battery. */
#include "torture.h"

#include <stdio.h>
#include <unistd.h>

#define SOAK_TABLETS 50
#define SOAK_UNITS 5
/* A few: the slow-clients scenario shows what 100 of them do; here they
 * are one fault among others. */
#define SOAK_SLOW_CLIENTS 6

typedef struct soak_tablet {
    tablet *t;
    uint64_t deadline_ms;
} soak_tablet;

static void *soak_tablet_run(void *context)
{
    soak_tablet *s = context;
    /* About a record a second a tablet, with edits: a busy unit many times
     * over, yet a volume the closing check reads in a minute or two (50
     * tablets at ten records a second made 360,000 records in ten minutes
     * and a check of hours). */
    while (monotonic_ms() < s->deadline_ms) {
        tablet_capture(s->t, 1 + (int)world_random(s->t->w, 3));
        tablet_edit(s->t, 1, 30);
        tablet_sync(s->t, 3000, 50, NULL);
        usleep((useconds_t)(1000 + world_random(s->t->w, 2000)) * 1000u);
    }
    return NULL;
}

void scenario_soak(void)
{
    world w;
    fault_proxy *proxy = NULL;
    contention *busy = NULL;
    trickle *slow = NULL;
    pthread_t threads[SOAK_TABLETS];
    soak_tablet runs[SOAK_TABLETS];
    size_t started = 0;
    torture_note("soak: %d tablets for %d minutes: fault proxy, database held, slow clients, server kills",
                 SOAK_TABLETS, g_run.soak_minutes);
    if (world_open(&w, "soak", SOAK_UNITS, 200, g_run.seed ^ 0x534f414bu)) goto done;
    for (int i = 0; i < SOAK_TABLETS; i++)
        if (!world_add_tablet(&w, (size_t)i % SOAK_UNITS, i < SOAK_UNITS)) goto done;
    proxy_options options = {w.h.port, g_run.seed, 20, 30, 3000};
    if (proxy_start(&proxy, &options)) {
        torture_fail("soak: the fault proxy does not start");
        goto done;
    }
    for (size_t i = 0; i < w.tablet_count; i++) atomic_store(&w.tablets[i]->via_port, proxy_port(proxy));
    busy = contention_start(&w, 150, 155);
    slow = trickle_start(w.h.port, SOAK_SLOW_CLIENTS, 100);
    uint64_t deadline = monotonic_ms() + (uint64_t)g_run.soak_minutes * 60000u;
    for (size_t i = 0; i < w.tablet_count; i++) {
        runs[i] = (soak_tablet){w.tablets[i], deadline};
        if (pthread_create(&threads[i], NULL, soak_tablet_run, &runs[i]) != 0) break;
        started++;
    }
    while (monotonic_ms() + 50000 < deadline) {
        usleep((useconds_t)(15000 + world_random(&w, 30000)) * 1000u);
        server_child_kill(&w);
        atomic_fetch_add(&w.fig.server_kills, 1);
        if (server_child_start(&w, w.h.port)) break;
    }
    for (size_t i = 0; i < started; i++) pthread_join(threads[i], NULL);
    started = 0;
    atomic_fetch_add(&w.fig.trickle_connections, (unsigned long long)trickle_stop(slow));
    slow = NULL;
    proxy_stop(proxy);
    world_converge(&w, 3);
done:
    for (size_t i = 0; i < started; i++) pthread_join(threads[i], NULL);
    trickle_stop(slow);
    if (proxy) {
        proxy_stop(proxy);
        for (int k = 0; k < PROXY_FAULT_KINDS; k++) atomic_fetch_add(&w.fig.faults[k], proxy_count(proxy, k));
        atomic_fetch_add(&w.fig.hello_duplicates, proxy_hello_duplicates(proxy));
        proxy_free(proxy);
    }
    atomic_fetch_add(&w.fig.contention_holds, contention_stop(busy));
    figures_report(&w);
    world_close(&w);
}
