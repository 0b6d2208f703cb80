/* torture.h - what the torture battery's files share (issue 12).
 *
 * A scenario builds a world: a fresh central database with its own units
 * and officers, the real `dala-server serve` as a child process, and
 * tablets (real libdala stores) enrolled through the admin API. Tablets
 * capture generated field visits, one of them edits its own earlier
 * records, and every write is also kept in the model: what each record
 * must end up as. Faults come from the scenario (the fault proxy, kill -9,
 * a writer holding the database, slow clients). Every scenario ends with
 * the convergence check, and prints its figures: sessions, faults by kind,
 * changes acknowledged, lost, duplicated, stuck (these three must be 0).
 *
 * Failures print what differed by record id, field name and count, never
 * a value: the records are victims' data. */
#ifndef DALA_TORTURE_H
#define DALA_TORTURE_H

#include "child_server.h"
#include "e2e_support.h"
#include "fault_proxy.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#define TORTURE_MAX_TABLETS 64
#define TORTURE_MAX_UNITS 8

/* How long a run is allowed to be. */
typedef enum torture_mode { MODE_SHORT, MODE_FULL, MODE_SOAK } torture_mode;

typedef struct torture_run {
    torture_mode mode;
    uint64_t seed;
    int soak_minutes;
    int keep_files;      /* leave the temporary folder for a post-mortem */
    char root[128];      /* /tmp/dala-torture-XXXXXX */
    char bin_dir[4096];  /* where dala and dala-server are */
} torture_run;

extern torture_run g_run;

/* The figures of one scenario (all counters, read at the end). */
typedef struct figures {
    atomic_ullong sessions, sessions_ok, sessions_conflict, sessions_failed, sessions_over_time;
    atomic_ullong faults[PROXY_FAULT_KINDS];
    atomic_ullong hello_duplicates, server_kills, tablet_kills, concurrent_syncs, contention_holds;
    atomic_ullong trickle_connections;
    atomic_ullong captured, edited, acked;
    atomic_ullong lost, duplicated, stuck, partial, extra, differing, integrity;
} figures;

/* The model: what every record must end up as. */
typedef struct model_entry {
    char id[DALA_ID_TEXT_BYTES];
    char table[24];   /* the server's records only: their table */
    char *json;       /* the fields as the owner wrote them, edits merged in */
    int64_t unit;
    int owner;        /* the writing tablet's index */
    unsigned writes;  /* dala_record_put calls that succeeded on it */
} model_entry;

typedef struct model {
    pthread_mutex_t lock;
    model_entry *entries;
    size_t count, alloc;
    long *slots; /* open addressing: index into entries, -1 empty */
    size_t slot_count;
} model;

typedef struct world world;

/* A tablet: a store, its unit and officer, its generator, and (for the
 * editor) the records it captured, kept to make consistent edits of. */
typedef struct tablet {
    world *w;
    int index;
    char name[24];
    char path[600];
    dala_store *store;
    int64_t unit, officer;
    uint64_t device_id;
    records_gen gen;
    int is_editor;
    gen_record *kept;
    size_t kept_count, kept_alloc;
    atomic_int via_port; /* where its syncs go: the server's or the proxy's port */
    dala_transport transport;
    int last_rc;
} tablet;


struct world {
    char name[32];
    harness h; /* dir, db_path, url and port; h.server stays NULL */
    child_server server; /* dala-server as a child process (tests/child_server.h) */
    uint32_t page;
    int64_t units[TORTURE_MAX_UNITS];
    size_t unit_count;
    tablet *tablets[TORTURE_MAX_TABLETS];
    size_t tablet_count;
    model model;
    figures fig;
    uint64_t prng;
    pthread_mutex_t prng_lock;
    uint64_t started_ms;
    /* When set (before the first tablet), the tablets' stores are sealed
     * under this PIN (the `dala` command's scenario); else plaintext. */
    const char *pin;
};

/* ----------------------------------------------------------- failures */

/* Prints "FAIL <scenario>: ..." and counts a failure of the run. */
void torture_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Failures so far (torture_fail and test_fail from the shared helpers). */
unsigned long torture_failures(void);
/* A line of progress on stdout (flushed). */
void torture_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------ world.c */

/* A fresh world in g_run.root/<name>: database, `unit_count` units, the
 * server started with pull pages of `page` changes. 0, or -1 after a
 * failure. */
int world_open(world *w, const char *name, size_t unit_count, uint32_t page, uint64_t seed);
/* Enrols a new tablet in units[unit_index] (directly at the server). */
tablet *world_add_tablet(world *w, size_t unit_index, int is_editor);
/* Stops the server (SIGTERM, must exit 0), closes the stores, frees. */
void world_close(world *w);
/* The world's PRNG, thread-safe: a number in [0, bound). */
uint64_t world_random(world *w, uint64_t bound);
/* splitmix64, for PRNGs kept elsewhere. */
uint64_t torture_splitmix(uint64_t *state);

/* --------------------------------------------------------- server_child.c */

/* Starts `dala-server serve` on the world's database at 127.0.0.1:`port`
 * (0: any free one) and waits for its port file. 0 or -1. */
int server_child_start(world *w, int port);
/* kill -9, then reaps it. */
void server_child_kill(world *w);
/* SIGTERM: it must finish and exit 0 within 10 s. */
void server_child_stop(world *w);

/* --------------------------------------------------------- tablet.c */

/* Captures `count` new field visits; adds them to the model. */
int tablet_capture(tablet *t, int count);
/* Edits `count` of the tablet's own records captured at least `min_age`
 * records ago (the editor only); adds the edits to the model. */
int tablet_edit(tablet *t, int count, size_t min_age);
/* One dala_sync to wherever t->via_port points; counts the session in the
 * world's figures. `elapsed_ms` (may be NULL) gets its duration. */
int tablet_sync(tablet *t, int timeout_ms, uint32_t max_push, uint64_t *elapsed_ms);
/* Closes and reopens the store (after another process used it). */
int tablet_reopen(tablet *t);
/* `PRAGMA integrity_check` through the tablet's open store (sealed or
 * not): 1 if "ok", else 0 with what it said in `result`. */
int tablet_integrity(char *result, size_t size, tablet *t);

/* --------------------------------------------------------- model.c */

void model_init(model *m);
void model_free(model *m);
/* Records a successful write of `fields_json` to record `id`. */
void model_write(model *m, const char *id, int64_t unit, int owner, const char *fields_json);
/* The entry of `id`, or NULL; stable until the next model_write. */
const model_entry *model_find(model *m, const char *id);

/* --------------------------------------------------------- convergence.c */

/* Ends a scenario: up to `rounds` clean syncs per tablet directly to the
 * server (each must succeed within its timeout once the first has), then
 * the check (issue 12): every record on every tablet is on the server once
 * with the same values and as the model says; every server record of a
 * unit is whole on each tablet of the unit; nothing pending or refused;
 * integrity_check ok everywhere. Adds to the figures; fails the run on any
 * difference. */
void world_converge(world *w, int rounds);

/* --------------------------------------------------------- contention.c */

typedef struct contention contention;
/* Starts a thread holding BEGIN IMMEDIATE on the central database for
 * `hold_ms` every `period_ms`. */
contention *contention_start(world *w, int hold_ms, int period_ms);
/* Stops it; returns how many times it held the lock. NULL is fine. */
uint64_t contention_stop(contention *c);

/* --------------------------------------------------------- trickle.c */

typedef struct trickle trickle;
/* Opens `count` connections to the server, each sending an HTTP request
 * one byte every `interval_ms`. */
trickle *trickle_start(int port, int count, int interval_ms);
/* Closes them all; returns how many connected. NULL is fine. */
int trickle_stop(trickle *t);

/* --------------------------------------------------------- figures.c */

/* Prints the scenario's one line of figures and checks lost, duplicated
 * and stuck are 0; adds them to the run's totals. */
void figures_report(world *w);
/* Prints the run's totals, which took `elapsed_ms`. */
void figures_report_total(uint64_t elapsed_ms);
/* The median and maximum of `n` durations (sorted in place). */
void latency_summary(uint64_t *samples, size_t n, uint64_t *median, uint64_t *max);

/* --------------------------------------------------------- scenarios */

void scenario_network(void);
void scenario_kill_server(void);
void scenario_kill_tablet(void);
void scenario_slow_clients(void);
void scenario_soak(void);

#endif
