/* scenario_network.c - tablets syncing through the fault proxy while a
 * writer holds the central database (issue 12's first run): at least 200
 * sync sessions, with requests dropped, cut, sent twice (a duplicated
 * HELLO left tablets stuck with 409 in the field), held back, delayed,
 * reset and stalled, and the database's write lock taken for 150 ms every
 * 155 ms. Then every tablet syncs through a clean path, where each sync
 * must succeed within its timeout (in the field, the server then answered
 * nothing for 30 s), and the convergence check ends it. */
#include "torture.h"

#include <stdio.h>
#include <string.h>

typedef struct network_tablet {
    tablet *t;
    int sessions;
} network_tablet;

/* A tablet's day on a bad network: capture, edit (the editor), sync. The
 * app is started afresh for most syncs (the store opened again), so the
 * session begins with a HELLO, which the proxy often sends twice. */
static void *network_tablet_run(void *context)
{
    network_tablet *n = context;
    for (int s = 0; s < n->sessions; s++) {
        if (world_random(n->t->w, 4) != 0 && tablet_reopen(n->t)) break;
        tablet_capture(n->t, 15 + (int)world_random(n->t->w, 30));
        tablet_edit(n->t, 6, 30);
        tablet_sync(n->t, 3000, 50, NULL);
    }
    return NULL;
}

/* Copies what the proxy injected into the figures. */
static void add_proxy_figures(world *w, const fault_proxy *proxy)
{
    for (int k = 0; k < PROXY_FAULT_KINDS; k++) atomic_fetch_add(&w->fig.faults[k], proxy_count(proxy, k));
    atomic_fetch_add(&w->fig.hello_duplicates, proxy_hello_duplicates(proxy));
}

void scenario_network(void)
{
    int is_full = g_run.mode != MODE_SHORT;
    int tablets = 6, sessions = is_full ? 40 : 34;
    world w;
    fault_proxy *proxy = NULL;
    contention *busy = NULL;
    torture_note("network: %d tablets, %d sync sessions through the fault proxy, the database held 150 ms "
                 "every 155 ms", tablets, tablets * sessions);
    if (world_open(&w, "network", 2, 100, g_run.seed ^ 0x4e4554u)) goto done;
    for (int i = 0; i < tablets; i++)
        if (!world_add_tablet(&w, i < 4 ? 0 : 1, i == 0)) goto done;
    proxy_options options = {w.h.port, g_run.seed, 30, 50, 3000};
    if (proxy_start(&proxy, &options)) {
        torture_fail("network: the fault proxy does not start");
        goto done;
    }
    for (size_t i = 0; i < w.tablet_count; i++) atomic_store(&w.tablets[i]->via_port, proxy_port(proxy));
    busy = contention_start(&w, 150, 155);

    pthread_t threads[TORTURE_MAX_TABLETS];
    network_tablet runs[TORTURE_MAX_TABLETS];
    size_t started = 0;
    for (size_t i = 0; i < w.tablet_count; i++) {
        runs[i] = (network_tablet){w.tablets[i], sessions};
        if (pthread_create(&threads[i], NULL, network_tablet_run, &runs[i]) != 0) break;
        started++;
    }
    for (size_t i = 0; i < started; i++) pthread_join(threads[i], NULL);
    torture_note("network: %llu sessions through the proxy: %llu ok, %llu answered 409, %llu failed",
                 (unsigned long long)atomic_load(&w.fig.sessions), (unsigned long long)atomic_load(&w.fig.sessions_ok),
                 (unsigned long long)atomic_load(&w.fig.sessions_conflict),
                 (unsigned long long)atomic_load(&w.fig.sessions_failed));
    proxy_stop(proxy); /* waits for late replays and stalls */
    add_proxy_figures(&w, proxy);
    proxy_free(proxy);
    proxy = NULL;
    /* The clean path, with the database still busy. */
    world_converge(&w, 3);
done:
    if (proxy) {
        proxy_stop(proxy);
        add_proxy_figures(&w, proxy);
        proxy_free(proxy);
    }
    atomic_fetch_add(&w.fig.contention_holds, contention_stop(busy));
    figures_report(&w);
    world_close(&w);
}
