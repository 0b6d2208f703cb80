/* test_durability.c - suite "durability": what the server acknowledged
 * survives I/O errors and power loss. A SQLite VFS shim
 * (tests/torture/fault_vfs.h) sits under every connection of this process,
 * the in-process server's and the tablets' stores alike:
 *
 * - I/O errors: the Nth write, sync or read of the central database, or of
 *   one tablet's store, fails once, or persistently (every later one too),
 *   while two tablets push through the real server. Afterwards every change
 *   a tablet holds as acknowledged (its outbox entry deleted after the
 *   server's answer) is on the server, every database passes
 *   `PRAGMA integrity_check`, and once the fault is removed everything
 *   converges (check_converged in e2e_support.h).
 * - Power loss: the server's machine loses power at random moments while
 *   tablets push; the writes its files had not synced are thrown away,
 *   whole or torn, and the server restarts on the same files. Every
 *   acknowledged change is there. The same run with `synchronous=NORMAL`
 *   (DALA_TEST_SYNCHRONOUS, read by server/db.c and client-sdk/store.c)
 *   must lose an acknowledged change: the proof that the test can fail.
 *
 * Each test prints one line of figures: changes captured, acknowledged,
 * lost, stuck, and the faults injected. Ids and counts only, never a
 * record's contents. */
#include "e2e_support.h"

#include "records_gen.h"
#include "testhelp.h"
#include "torture/fault_vfs.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TABLETS 2

/* The central database and its WAL: the server's side of the shim. */
#define SERVER_FILES "/central.db"
/* The first tablet's store and its WAL: the tablet's side. */
#define TABLET_FILES "/t0.db"

typedef struct figures {
    size_t captured, acknowledged, lost, stuck;
    unsigned faults;
} figures;

static void print_figures(const char *test, const figures *f)
{
    printf("    figures: %s: captured %zu, acknowledged %zu, lost %zu, stuck %zu, faults injected %u\n", test,
           f->captured, f->acknowledged, f->lost, f->stuck, f->faults);
}

/* A server, the shim under it, and tablets of unit A. */
typedef struct rig {
    harness h;
    dala_store *tablets[TABLETS];
    char paths[TABLETS][600];
    record_set captured, acked;
    records_gen gen;
    int started;
} rig;

static int rig_start(rig *r, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    int rc = fault_vfs_install();
    CHECK_EQ_INT(rc, SQLITE_OK);
    if (rc) return -1;
    if (harness_start(&r->h, 0)) {
        fault_vfs_uninstall();
        return -1;
    }
    r->started = 1;
    records_gen_init(&r->gen, seed);
    for (int t = 0; t < TABLETS; t++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", t);
        snprintf(r->paths[t], sizeof r->paths[t], "%s/%s.db", r->h.dir, name);
        r->tablets[t] = device_enrol(&r->h, name, t ? r->h.officer_a2 : r->h.officer_a, r->h.unit_a);
        if (!r->tablets[t]) return -1;
    }
    return 0;
}

static void rig_stop(rig *r)
{
    for (int t = 0; t < TABLETS; t++) dala_store_close(r->tablets[t]);
    if (r->started) e2e_stop(&r->h);
    fault_vfs_uninstall();
    set_free(&r->captured);
    set_free(&r->acked);
}

/* Captures `count` generated field visits on `store`, keeping those the
 * store accepted (a put may fail while a fault is injected on its side).
 * Returns how many were accepted. */
static int capture_tolerant(record_set *into, dala_store *store, records_gen *gen, int count)
{
    int accepted = 0;
    for (int i = 0; i < count; i++) {
        gen_record rec;
        char id[DALA_ID_TEXT_BYTES];
        if (records_gen_next(gen, &rec) != DALA_OK) {
            test_fail(__FILE__, __LINE__, "records_gen_next failed");
            return accepted;
        }
        char *json = gen_fields_json(&rec);
        if (json && dala_record_put(id, store, GEN_TABLE, rec.id_text, json) == DALA_OK) {
            set_add(into, id, json);
            accepted++;
        }
        free(json);
        gen_record_free(&rec);
    }
    return accepted;
}

/* How many of `acked` the server's database lacks; names a few. */
static size_t count_missing_on_server(const harness *h, const record_set *acked, int report)
{
    record_set on_server = {0};
    size_t missing = 0;
    central_records(&on_server, h, h->unit_a, GEN_TABLE);
    for (size_t i = 0; i < acked->count; i++)
        if (set_find(&on_server, acked->ids[i]) < 0) {
            if (report && missing < 3)
                test_fail(__FILE__, __LINE__, "acknowledged record %s is not on the server", acked->ids[i]);
            missing++;
        }
    set_free(&on_server);
    return missing;
}

static void check_all_integrity(const rig *r)
{
    check_integrity(r->h.db_path);
    for (int t = 0; t < TABLETS; t++) check_integrity(r->paths[t]);
}

static size_t pending_on_tablets(rig *r)
{
    size_t pending = 0;
    for (int t = 0; t < TABLETS; t++) pending += device_status(r->tablets[t]).pending_changes;
    return pending;
}

/* Syncs every tablet until a round passes with every sync succeeding
 * (at most `rounds` rounds); returns the failures of the last round. */
static int sync_all(rig *r, int rounds)
{
    int failed = 0;
    for (int round = 0; round < rounds; round++) {
        failed = 0;
        for (int t = 0; t < TABLETS; t++)
            if (sync_via(r->tablets[t], NULL, 10, NULL) != DALA_OK) failed++;
        if (!failed && round > 0) break; /* a second clean round pulls what the first pushed */
    }
    return failed;
}

/* ------------------------------------------------------------ I/O errors */

typedef struct io_fault {
    const char *side; /* SERVER_FILES or TABLET_FILES */
    fault_vfs_op op;
    unsigned nth;
    int persistent;
} io_fault;

static const char *op_name(fault_vfs_op op)
{
    return op == FAULT_VFS_WRITE ? "write" : op == FAULT_VFS_SYNC ? "sync" : "read";
}

/* Two tablets push while `fault` is injected; then the acknowledged
 * changes are checked on the server, every database's integrity, and,
 * after the fault is removed, convergence. Adds to `total`. */
static void run_io_fault(const io_fault *fault, uint64_t seed, figures *total)
{
    rig r;
    int syncs_failed = 0, puts_refused = 0;
    if (rig_start(&r, seed)) goto done;
    /* Something synced before the fault, so it also meets a warm server. */
    for (int t = 0; t < TABLETS; t++) capture_tolerant(&r.captured, r.tablets[t], &r.gen, 10);
    if (sync_all(&r, 2)) test_fail(__FILE__, __LINE__, "syncs before any fault failed");

    /* Changes wait in the outboxes, so the first operations the fault
     * meets are syncs: the server applying, the tablet committing acks. */
    for (int t = 0; t < TABLETS; t++) capture_tolerant(&r.captured, r.tablets[t], &r.gen, 15);
    unsigned before = fault_vfs_failures();
    fault_vfs_inject(fault->op, fault->side, fault->nth, fault->persistent);
    for (int round = 0; round < 4; round++)
        for (int t = 0; t < TABLETS; t++) {
            if (sync_via(r.tablets[t], NULL, 5, NULL) != DALA_OK) syncs_failed++;
            puts_refused += 15 - capture_tolerant(&r.captured, r.tablets[t], &r.gen, 15);
        }
    fault_vfs_clear();
    unsigned injected = fault_vfs_failures() - before;
    if (injected == 0)
        test_fail(__FILE__, __LINE__, "%s side, %s %u%s: the fault never fired", fault->side, op_name(fault->op),
                  fault->nth, fault->persistent ? " and after" : "");
    /* Persistent errors on the server fail syncs (on a tablet, a warm page
     * cache may meet them only in a checkpoint, which SQLite retries). */
    if (fault->persistent && strcmp(fault->side, SERVER_FILES) == 0 && syncs_failed == 0)
        test_fail(__FILE__, __LINE__, "%s errors on the server from the %uth on: every sync succeeded",
                  op_name(fault->op), fault->nth);
    printf("    %s side, %s error %s: %u injected, %d syncs failed, %d puts refused\n",
           strcmp(fault->side, SERVER_FILES) == 0 ? "server" : "tablet", op_name(fault->op),
           fault->persistent ? "persistent" : "once", injected, syncs_failed, puts_refused);

    /* What the tablets hold as acknowledged is on the server. */
    for (int t = 0; t < TABLETS; t++) note_acked(&r.acked, r.tablets[t]);
    size_t lost = count_missing_on_server(&r.h, &r.acked, 1);
    check_all_integrity(&r);

    /* The fault removed: everything converges. */
    if (sync_all(&r, 4)) test_fail(__FILE__, __LINE__, "syncs still fail after the fault was removed");
    size_t stuck = pending_on_tablets(&r);
    check_converged(&r.h, r.h.unit_a, &r.captured, r.tablets, TABLETS);
    check_all_integrity(&r);
    note_acked(&r.acked, r.tablets[0]);
    total->captured += r.captured.count;
    total->acknowledged += r.acked.count;
    total->lost += lost;
    total->stuck += stuck;
    total->faults += injected;
done:
    rig_stop(&r);
}

static void run_io_faults(const char *test, const char *side, int persistent)
{
    /* The Nth operation is counted from the moment the fault is armed. */
    static const struct {
        fault_vfs_op op;
        unsigned nth_server, nth_tablet;
    } plan[] = {
        {FAULT_VFS_WRITE, 6, 9},
        {FAULT_VFS_SYNC, 3, 4},
        {FAULT_VFS_READ, 4, 30},
    };
    figures total = {0, 0, 0, 0, 0};
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        int is_server = strcmp(side, SERVER_FILES) == 0;
        io_fault fault = {side, plan[i].op, is_server ? plan[i].nth_server : plan[i].nth_tablet, persistent};
        run_io_fault(&fault, 1000 + i * 10 + (uint64_t)persistent + (is_server ? 0 : 5), &total);
    }
    CHECK_EQ_U64(total.lost, 0);
    CHECK_EQ_U64(total.stuck, 0);
    print_figures(test, &total);
}

static void test_durability_server_io_error_once_loses_no_acknowledged_change(void)
{
    run_io_faults("server io error once", SERVER_FILES, 0);
}

static void test_durability_server_io_errors_persistent_lose_no_acknowledged_change(void)
{
    run_io_faults("server io errors persistent", SERVER_FILES, 1);
}

static void test_durability_tablet_io_error_once_loses_no_acknowledged_change(void)
{
    run_io_faults("tablet io error once", TABLET_FILES, 0);
}

static void test_durability_tablet_io_errors_persistent_lose_no_acknowledged_change(void)
{
    run_io_faults("tablet io errors persistent", TABLET_FILES, 1);
}

/* ------------------------------------------------------------ power loss */

/* A thread that cuts the server's power `delay_us` after it starts. */
typedef struct cutter {
    int delay_us;
} cutter;

static void *cutter_run(void *context)
{
    cutter *c = context;
    usleep((useconds_t)c->delay_us);
    fault_vfs_power_cut();
    return NULL;
}

/* Power-loss rounds on the server: tablets capture and push, then the
 * power goes, on even rounds at a random moment (a thread), on odd rounds
 * at a random write of the central files (inside a transaction); the
 * unsynced writes are dropped (torn on every other round of each kind),
 * and the acknowledged changes are looked for in the files before the
 * server restarts on them. Stops early once a loss is seen when
 * `stop_at_loss`. Returns the acknowledged changes missing. */
static size_t power_loss_rounds(rig *r, int rounds, uint64_t seed, int stop_at_loss, figures *f)
{
    size_t lost_total = 0;
    uint64_t random = seed;
    printf("    power-loss rounds with seed %llu\n", (unsigned long long)seed);
    fault_vfs_track(SERVER_FILES);
    for (int round = 0; round < rounds; round++) {
        /* Acknowledged pushes first, so every cut lands after some. */
        for (int t = 0; t < TABLETS; t++) {
            capture_tolerant(&r->captured, r->tablets[t], &r->gen, 8);
            if (sync_via(r->tablets[t], NULL, 4, NULL) != DALA_OK)
                test_fail(__FILE__, __LINE__, "round %d: a sync before the cut failed: %s", round, dala_errmsg());
        }
        random = random * 6364136223846793005ull + 1442695040888963407ull;
        unsigned pick = (unsigned)(random >> 33);
        int by_write = round % 2 == 1, torn = (round / 2) % 2 == 1;
        cutter c = {(int)(pick % 40000)};
        pthread_t thread;
        if (by_write) {
            fault_vfs_power_cut_at_write(1 + pick % 60);
        } else if (pthread_create(&thread, NULL, cutter_run, &c) != 0) {
            test_fail(__FILE__, __LINE__, "pthread_create failed");
            break;
        }
        /* Keep pushing until the power is gone: the cut lands anywhere. */
        for (int burst = 0; burst < 400 && !fault_vfs_powered_off(); burst++) {
            dala_store *tablet = r->tablets[burst % TABLETS];
            capture_tolerant(&r->captured, tablet, &r->gen, 4);
            (void)sync_via(tablet, NULL, 2, NULL);
        }
        if (!by_write) pthread_join(thread, NULL);
        CHECK(fault_vfs_powered_off());
        if (!fault_vfs_powered_off()) fault_vfs_power_cut();
        /* Whatever was in flight ends with the machine; then its files. */
        e2e_stop(&r->h);
        for (int t = 0; t < TABLETS; t++) note_acked(&r->acked, r->tablets[t]);
        fault_vfs_loss loss;
        CHECK_EQ_INT(fault_vfs_power_restore(&loss, random, torn), 0);
        f->faults++;
        check_integrity(r->h.db_path);
        size_t lost = count_missing_on_server(&r->h, &r->acked, !stop_at_loss);
        lost_total += lost;
        printf("    round %d: power cut %s %u, %u writes dropped (%llu bytes, %u torn), %zu acknowledged "
               "so far, %zu missing\n",
               round, by_write ? "at central write" : "after us", by_write ? 1 + pick % 60 : (unsigned)c.delay_us,
               loss.writes_dropped, (unsigned long long)loss.bytes_dropped, loss.torn, r->acked.count, lost);
        if (harness_restart(&r->h)) break;
        if (stop_at_loss && lost_total) break;
    }
    return lost_total;
}

static void test_durability_power_loss_loses_no_acknowledged_change(void)
{
    rig r;
    figures f = {0, 0, 0, 0, 0};
    if (rig_start(&r, 7000)) goto done;
    f.lost = power_loss_rounds(&r, 10, (uint64_t)time(NULL), 0, &f);
    CHECK_EQ_U64(f.lost, 0);
    /* After the last restart, every tablet delivers what is left. */
    if (sync_all(&r, 4)) test_fail(__FILE__, __LINE__, "syncs fail after the last restart: %s", dala_errmsg());
    f.stuck = pending_on_tablets(&r);
    CHECK_EQ_U64(f.stuck, 0);
    check_converged(&r.h, r.h.unit_a, &r.captured, r.tablets, TABLETS);
    check_all_integrity(&r);
    for (int t = 0; t < TABLETS; t++) note_acked(&r.acked, r.tablets[t]);
    f.captured = r.captured.count;
    f.acknowledged = r.acked.count;
    print_figures("power loss, synchronous=FULL", &f);
done:
    rig_stop(&r);
}

/* The proof that the power-loss test can fail: with commits no longer
 * synced (synchronous=NORMAL, on the server and the stores), a power loss
 * right after acknowledged pushes must lose some of them. */
static void test_durability_power_loss_with_synchronous_normal_shows_a_loss(void)
{
    rig r;
    figures f = {0, 0, 0, 0, 0};
    setenv("DALA_TEST_SYNCHRONOUS", "NORMAL", 1);
    if (rig_start(&r, 8000)) goto done;
    f.lost = power_loss_rounds(&r, 8, (uint64_t)time(NULL), 1, &f);
    f.captured = r.captured.count;
    f.acknowledged = r.acked.count;
    if (f.lost == 0)
        test_fail(__FILE__, __LINE__,
                  "with synchronous=NORMAL no acknowledged change was lost over %u power cuts: the power-loss "
                  "test cannot tell a durable server from one that is not (is DALA_TEST_SYNCHRONOUS read?)",
                  f.faults);
    print_figures("power loss, synchronous=NORMAL (must lose)", &f);
done:
    rig_stop(&r);
    unsetenv("DALA_TEST_SYNCHRONOUS");
}

const dala_test durability_tests[] = {
    {"durability_server_io_error_once_loses_no_acknowledged_change",
     test_durability_server_io_error_once_loses_no_acknowledged_change},
    {"durability_server_io_errors_persistent_lose_no_acknowledged_change",
     test_durability_server_io_errors_persistent_lose_no_acknowledged_change},
    {"durability_tablet_io_error_once_loses_no_acknowledged_change",
     test_durability_tablet_io_error_once_loses_no_acknowledged_change},
    {"durability_tablet_io_errors_persistent_lose_no_acknowledged_change",
     test_durability_tablet_io_errors_persistent_lose_no_acknowledged_change},
    {"durability_power_loss_loses_no_acknowledged_change", test_durability_power_loss_loses_no_acknowledged_change},
    {"durability_power_loss_with_synchronous_normal_shows_a_loss",
     test_durability_power_loss_with_synchronous_normal_shows_a_loss},
    {NULL, NULL},
};
