/* scenario_kill_server.c - kill -9 of the server at random moments while
 * several tablets push (issue 12's second run). Between kills each tablet
 * captures more records and the editor tablet edits some of its own
 * earlier ones: an edit moves a record to a later log position, which is
 * what let a tablet catching up over several pages receive it only in part.
 * After each kill, with the server dead, every change a tablet holds as
 * acknowledged must be in the server's file; then the server starts again
 * on the same database and port. The convergence check ends the run. */
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct pusher {
    tablet *t;
    atomic_int *stop;
    int capture_first, capture_each, edits;
} pusher;

/* A tablet's life between two kills: capture, edit, then sync and capture
 * a little more, over and over, until told to stop. */
static void *pusher_run(void *context)
{
    pusher *p = context;
    tablet_capture(p->t, p->capture_first);
    tablet_edit(p->t, p->edits, 20);
    while (!atomic_load(p->stop)) {
        int rc = tablet_sync(p->t, 5000, 50, NULL);
        if (rc == DALA_OK) tablet_capture(p->t, p->capture_each);
        else usleep(20000); /* the server is down, or refused: try again */
    }
    return NULL;
}

/* With the server dead: every record a tablet holds as acknowledged is in
 * the server's file. Counts the ones that are not as lost. */
static void check_acknowledged_on_disk(world *w, int kill_no)
{
    model on_disk;
    model_init(&on_disk);
    for (size_t u = 0; u < w->unit_count; u++) {
        record_set ids = {0};
        central_records(&ids, &w->h, w->units[u], GEN_TABLE);
        for (size_t i = 0; i < ids.count; i++) model_write(&on_disk, ids.ids[i], w->units[u], -1, "{}");
        set_free(&ids);
    }
    for (size_t i = 0; i < w->tablet_count; i++) {
        record_set synced = {0};
        int reported = 0;
        device_records(&synced, w->tablets[i]->store, DALA_RECORD_SYNCED);
        for (size_t r = 0; r < synced.count; r++)
            if (!model_find(&on_disk, synced.ids[r])) {
                atomic_fetch_add(&w->fig.lost, 1);
                if (reported++ < 3)
                    torture_fail("%s: kill %d: record %s acknowledged to %s is not in the server's file", w->name,
                                 kill_no, synced.ids[r], w->tablets[i]->name);
            }
        set_free(&synced);
    }
    model_free(&on_disk);
}

void scenario_kill_server(void)
{
    int is_full = g_run.mode != MODE_SHORT;
    int kills = is_full ? 22 : 8, tablets = 4;
    world w;
    torture_note("kill-server: %d tablets push while the server is killed with kill -9 %d times", tablets, kills);
    if (world_open(&w, "kill-server", 2, 100, g_run.seed ^ 0x4b494c4cu)) goto done;
    for (int i = 0; i < tablets; i++)
        if (!world_add_tablet(&w, i == tablets - 1 ? 1 : 0, i == 0)) goto done;
    for (int kill_no = 1; kill_no <= kills; kill_no++) {
        atomic_int stop = 0;
        pthread_t threads[TORTURE_MAX_TABLETS];
        pusher pushers[TORTURE_MAX_TABLETS];
        size_t started = 0;
        for (size_t i = 0; i < w.tablet_count; i++) {
            pushers[i] = (pusher){w.tablets[i], &stop, is_full ? 60 : 40, 10, is_full ? 25 : 15};
            if (pthread_create(&threads[i], NULL, pusher_run, &pushers[i]) == 0) started++;
            else break;
        }
        /* A random moment: while they capture, push, or pull. */
        usleep((useconds_t)(50 + world_random(&w, 1200)) * 1000u);
        server_child_kill(&w);
        atomic_fetch_add(&w.fig.server_kills, 1);
        atomic_store(&stop, 1);
        for (size_t i = 0; i < started; i++) pthread_join(threads[i], NULL);
        check_acknowledged_on_disk(&w, kill_no);
        if (server_child_start(&w, w.h.port)) goto done;
    }
    world_converge(&w, 3);
done:
    figures_report(&w);
    world_close(&w);
}
