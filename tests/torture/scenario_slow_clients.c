/* scenario_slow_clients.c - 100 connections trickling an HTTP request a
 * byte every ~100 ms while tablets sync: the server must keep answering
 * syncs. Prints the sync latency (median and max) without and with them;
 * every sync must succeed within its timeout. */
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SLOW_CLIENTS 100
#define SLOW_TIMEOUT_MS 10000

typedef struct latency_run {
    tablet *t;
    int syncs;
    uint64_t *samples; /* syncs of them */
} latency_run;

static void *latency_thread(void *context)
{
    latency_run *r = context;
    for (int i = 0; i < r->syncs; i++) {
        tablet_capture(r->t, 20);
        tablet_edit(r->t, 3, 10);
        int rc = tablet_sync(r->t, SLOW_TIMEOUT_MS, 0, &r->samples[i]);
        if (rc) { /* one is enough to tell: the rest would wait as long */
            torture_fail("%s: a sync of %s failed after %llu ms: %d (%s)", r->t->w->name, r->t->name,
                         (unsigned long long)r->samples[i], rc, dala_errmsg());
            r->syncs = i + 1;
            break;
        }
    }
    return NULL;
}

/* Every tablet syncs `syncs` times at once; prints the latencies. */
static void measure(world *w, int syncs, const char *label)
{
    pthread_t threads[TORTURE_MAX_TABLETS];
    latency_run runs[TORTURE_MAX_TABLETS];
    size_t n = w->tablet_count, started = 0;
    uint64_t *samples = calloc(n * (size_t)syncs, sizeof *samples), median, max;
    if (!samples) return;
    for (size_t i = 0; i < n; i++) {
        runs[i] = (latency_run){w->tablets[i], syncs, samples + i * (size_t)syncs};
        if (pthread_create(&threads[i], NULL, latency_thread, &runs[i]) != 0) break;
        started++;
    }
    size_t done = 0;
    for (size_t i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        for (int k = 0; k < runs[i].syncs; k++) samples[done++] = runs[i].samples[k];
    }
    latency_summary(samples, done, &median, &max);
    torture_note("slow-clients: sync latency %s: median %llu ms, max %llu ms (%zu syncs)", label,
                 (unsigned long long)median, (unsigned long long)max, done);
    free(samples);
}

void scenario_slow_clients(void)
{
    int syncs = g_run.mode != MODE_SHORT ? 10 : 5;
    world w;
    torture_note("slow-clients: 4 tablets sync without, then beside %d connections trickling a byte every 100 ms",
                 SLOW_CLIENTS);
    if (world_open(&w, "slow-clients", 1, 0, g_run.seed ^ 0x534c4fu)) goto done;
    for (int i = 0; i < 4; i++)
        if (!world_add_tablet(&w, 0, i == 0)) goto done;
    measure(&w, syncs, "without slow clients");
    trickle *slow = trickle_start(w.h.port, SLOW_CLIENTS, 100);
    usleep(1000 * 1000); /* let them all connect and start */
    measure(&w, syncs, "with 100 slow clients");
    atomic_fetch_add(&w.fig.trickle_connections, (unsigned long long)trickle_stop(slow));
    world_converge(&w, 2);
done:
    figures_report(&w);
    world_close(&w);
}
