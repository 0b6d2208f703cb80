/* test_e2e.c - suite "e2e": libdala (client-sdk/) against a real
 * dala-server, end to end. Most tests start the server in this process on
 * 127.0.0.1:0 (server_harness.h: units A and B, officers a and a2 in A, b
 * in B) and enrol SDK stores with real codes; the crash test runs the
 * dala-server binary as a child and kills it with SIGKILL. A transport
 * that wraps the built-in one (dala_transport_builtin) drops a request,
 * loses an answer after the server committed it, or flips a bit of a frame
 * on the round trip a test names, so each interruption lands exactly where
 * the test says.
 *
 * What the suite proves: a batch whose answer was lost is applied once; a
 * sync interrupted before sending, after sending, in the middle of a paged
 * pull, or on a fresh device's first round trip, resumes with nothing lost
 * or doubled; a server killed during a push burst loses no change it
 * acknowledged; units never see each other's records; concurrent edits of
 * one field converge on the greater (hlc, device) with the loser kept as a
 * conflict, and edits of different fields merge; revoked devices,
 * unreachable servers, tampered and replayed frames change nothing; a
 * change the server refuses is listed with its reason while the rest of its
 * batch is acknowledged.
 *
 * "Converged" (check_converged) means: the server's unit holds exactly the
 * captured record ids, with the captured field values; every device named
 * holds exactly those ids with the server's values; nothing waits to be
 * pushed. "Once" (check_unit_log_once) means every write took one position
 * of the unit's log: rows == next_seq - 1, so no record was written twice
 * and no position was burnt. */
#include "child_server.h"
#include "e2e_support.h"

#include "raw_client.h"
#include "records_gen.h"
#include "testhelp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ================================================================ tests */

static void test_e2e_resent_batch_after_lost_answer_is_applied_once(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    record_set captured = {0};
    records_gen gen;
    fault_transport fault;
    dala_sync_stats stats;
    records_gen_init(&gen, 101);
    fault_init(&fault, FAULT_LOSE_ANSWER, 1);
    dala_store *device = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    if (!device) goto done;
    int64_t device_id = (int64_t)device_status(device).device_id;
    capture(&captured, device, &gen, 12);

    /* The server commits batch 1; its answer never reaches the device. */
    CHECK_EQ_INT(sync_via(device, &fault.transport, 0, &stats), DALA_EIO);
    CHECK_CONTAINS(dala_errmsg(), "answer lost by the test");
    CHECK_EQ_INT(fault.delivered, 1);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE unit_id = ?1", h.unit_a, 0), 12);
    CHECK_EQ_U64(device_status(device).pending_changes, 12);

    /* The next sync sends the same batch 1; the server acknowledges it
     * again without applying it again. */
    CHECK_OK(sync_via(device, &fault.transport, 0, &stats));
    CHECK_EQ_U64(stats.pushed, 12);
    CHECK_EQ_U64(stats.acked, 12);
    CHECK_EQ_U64(stats.rejected, 0);
    CHECK_EQ_INT(central_int(&h, "SELECT last_batch_seq FROM device WHERE id = ?1", device_id, 0), 1);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'conflict'", 0, 0), 0);
    check_unit_log_once(&h, h.unit_a);
    check_converged(&h, h.unit_a, &captured, &device, 1);
done:
    dala_store_close(device);
    fault_free(&fault);
    set_free(&captured);
    e2e_stop(&h);
}

/* Captures 20 records on a device of unit A and syncs them in batches of
 * 8 with the second round trip spoiled by `kind`; checks what the server
 * holds then (`committed` records), resumes with a clean sync, and checks
 * that a second device of the unit and the server hold the 20 once each. */
static void push_interrupted_then_resumed(fault_kind kind, int committed)
{
    harness h;
    if (harness_start(&h, 0)) return;
    record_set captured = {0};
    records_gen gen;
    fault_transport fault;
    records_gen_init(&gen, 200 + (uint64_t)kind);
    fault_init(&fault, kind, 2);
    dala_store *writer = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    dala_store *reader = device_enrol(&h, "a2", h.officer_a2, h.unit_a);
    if (!writer || !reader) goto done;
    capture(&captured, writer, &gen, 20);

    CHECK_EQ_INT(sync_via(writer, &fault.transport, 8, NULL), DALA_EIO);
    CHECK_CONTAINS(dala_errmsg(), kind == FAULT_DROP_REQUEST ? "request dropped" : "answer lost");
    CHECK_EQ_INT(fault.delivered, kind == FAULT_LOSE_ANSWER ? 2 : 1);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE unit_id = ?1", h.unit_a, 0), committed);
    CHECK_EQ_U64(device_status(writer).pending_changes, 12); /* batch 1 acked, 2 in flight, 3 waits */

    CHECK_OK(sync_via(writer, &fault.transport, 8, NULL));
    sync_ok(reader);
    dala_store *devices[] = {writer, reader};
    check_converged(&h, h.unit_a, &captured, devices, 2);
    check_unit_log_once(&h, h.unit_a);
    CHECK_EQ_INT(central_int(&h, "SELECT max(last_batch_seq) FROM device", 0, 0), 3);
done:
    dala_store_close(writer);
    dala_store_close(reader);
    fault_free(&fault);
    set_free(&captured);
    e2e_stop(&h);
}

static void test_e2e_sync_dropped_before_send_resumes_without_loss(void)
{
    push_interrupted_then_resumed(FAULT_DROP_REQUEST, 8);
}

static void test_e2e_sync_with_answer_lost_after_commit_resumes_without_doubles(void)
{
    push_interrupted_then_resumed(FAULT_LOSE_ANSWER, 16);
}

static void test_e2e_sync_interrupted_mid_pull_resumes_without_loss(void)
{
    enum { PAGE = 50, WRITTEN = 300, OWN = 7 };
    harness h;
    if (harness_start(&h, PAGE)) return;
    record_set captured = {0};
    records_gen gen;
    fault_transport lose, drop;
    records_gen_init(&gen, 300);
    fault_init(&lose, FAULT_LOSE_ANSWER, 3);
    fault_init(&drop, FAULT_DROP_REQUEST, 5);
    dala_store *writer = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    dala_store *reader = device_enrol(&h, "a2", h.officer_a2, h.unit_a);
    dala_store *late = device_enrol(&h, "a3", h.officer_a2, h.unit_a);
    if (!writer || !reader || !late) goto done;
    capture(&captured, writer, &gen, WRITTEN);
    sync_ok(writer);

    /* The reader pushes its own records on the first round trip and pulls
     * a page per round trip; the answer of the third is lost: it keeps
     * exactly the two pages it applied. */
    capture(&captured, reader, &gen, OWN);
    CHECK_EQ_INT(sync_via(reader, &lose.transport, 0, NULL), DALA_EIO);
    CHECK_EQ_U64(device_status(reader).record_count, OWN + 2 * PAGE);
    CHECK_EQ_U64(device_status(reader).pending_changes, 0);
    /* Another device of the unit loses its fifth request: four pages. */
    CHECK_EQ_INT(sync_via(late, &drop.transport, 0, NULL), DALA_EIO);
    CHECK_EQ_U64(device_status(late).record_count, 4 * PAGE);

    CHECK_OK(sync_via(reader, &lose.transport, 0, NULL));
    CHECK_OK(sync_via(late, &drop.transport, 0, NULL));
    sync_ok(writer);
    dala_store *devices[] = {writer, reader, late};
    check_converged(&h, h.unit_a, &captured, devices, 3);
    check_unit_log_once(&h, h.unit_a);
done:
    dala_store_close(writer);
    dala_store_close(reader);
    dala_store_close(late);
    fault_free(&lose);
    fault_free(&drop);
    set_free(&captured);
    e2e_stop(&h);
}

static void test_e2e_fresh_device_first_round_trip_fails_then_resumes(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    record_set captured = {0};
    records_gen gen;
    fault_transport fault;
    records_gen_init(&gen, 400);
    fault_init(&fault, FAULT_DROP_REQUEST, 1);
    dala_store *writer = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    dala_store *fresh = device_enrol(&h, "a2", h.officer_a2, h.unit_a);
    if (!writer || !fresh) goto done;
    capture(&captured, writer, &gen, 30);
    sync_ok(writer);
    capture(&captured, fresh, &gen, 5);

    /* The very first round trip (the first handshake) never leaves. */
    CHECK_EQ_INT(sync_via(fresh, &fault.transport, 0, NULL), DALA_EIO);
    CHECK_EQ_INT(fault.delivered, 0);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record", 0, 0), 30);
    CHECK_EQ_U64(device_status(fresh).record_count, 5);
    CHECK_EQ_U64(device_status(fresh).last_sync_ms, 0);

    /* Then its answer is lost: the server applied the push and made a
     * session the device never learnt of; the device applied nothing. */
    fault_arm_next(&fault, FAULT_LOSE_ANSWER);
    CHECK_EQ_INT(sync_via(fresh, &fault.transport, 0, NULL), DALA_EIO);
    CHECK_EQ_INT(fault.delivered, 1);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record", 0, 0), 35);
    CHECK_EQ_U64(device_status(fresh).record_count, 5);
    CHECK_EQ_U64(device_status(fresh).pending_changes, 5);

    CHECK_OK(sync_via(fresh, &fault.transport, 0, NULL));
    sync_ok(writer);
    dala_store *devices[] = {writer, fresh};
    check_converged(&h, h.unit_a, &captured, devices, 2);
    check_unit_log_once(&h, h.unit_a);
    CHECK_EQ_INT(central_int(&h, "SELECT last_batch_seq FROM device WHERE id = ?1",
                             (int64_t)device_status(fresh).device_id, 0), 1);
done:
    dala_store_close(writer);
    dala_store_close(fresh);
    fault_free(&fault);
    set_free(&captured);
    e2e_stop(&h);
}

/* ------------------------------------------------ kill -9 of the server */

/* Reaps the child after a SIGKILL (sent here or by the killer thread),
 * which must be what ended it. */
static void child_reap_killed(child_server *c)
{
    if (!c->pid) return;
    int status = child_server_kill(c);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* A thread that SIGKILLs the child `delay_us` after being armed. */
typedef struct killer {
    pid_t pid;
    int delay_us;
    atomic_int armed, cancelled, fired;
} killer;

static void *killer_run(void *context)
{
    killer *k = context;
    uint64_t started = monotonic_ms();
    while (!atomic_load(&k->armed) && !atomic_load(&k->cancelled) && monotonic_ms() - started < 10000)
        usleep(100);
    if (atomic_load(&k->cancelled)) return NULL;
    if (k->delay_us) usleep((useconds_t)k->delay_us);
    kill(k->pid, SIGKILL);
    atomic_store(&k->fired, 1);
    return NULL;
}

/* One burst: capture 60 records and sync them in batches of 20, over and
 * over; before the third sync, arm the killer, which kills the server
 * `delay_us` later, in the middle of that sync's round trips. Ends at the
 * first sync that fails. Returns the number of syncs that succeeded. */
static int push_burst_until_killed(record_set *captured, record_set *acked, dala_store *device,
                                   records_gen *gen, child_server *c, int delay_us)
{
    killer k = {c->pid, delay_us, 0, 0, 0};
    pthread_t thread;
    int succeeded = 0, rc = DALA_OK;
    if (pthread_create(&thread, NULL, killer_run, &k) != 0) {
        test_fail(__FILE__, __LINE__, "pthread_create failed");
        return 0;
    }
    for (int round = 0; round < 50 && rc == DALA_OK; round++) {
        capture(captured, device, gen, 60);
        if (round == 2) atomic_store(&k.armed, 1);
        rc = sync_via(device, NULL, 20, NULL);
        note_acked(acked, device);
        if (rc == DALA_OK) succeeded++;
    }
    atomic_store(&k.cancelled, 1);
    pthread_join(thread, NULL);
    CHECK(atomic_load(&k.fired));
    if (rc != DALA_EIO) /* the burst must end because the server died */
        test_fail(__FILE__, __LINE__, "the burst ended with %d (%s), not DALA_EIO", rc, dala_errmsg());
    child_reap_killed(c);
    return succeeded;
}

static void test_e2e_server_killed_during_push_burst_loses_no_acknowledged_change(void)
{
    static const int delays_us[] = {0, 1500, 4000};
    harness h;
    child_server c;
    record_set captured = {0}, acked = {0}, on_disk = {0};
    records_gen gen;
    dala_store *device = NULL;
    memset(&c, 0, sizeof c);
    records_gen_init(&gen, 500);
    /* The database and its organisation tree, then the server as a child. */
    if (harness_start(&h, 0)) return;
    e2e_stop(&h);
    snprintf(c.binary, sizeof c.binary, "%s", test_binary_path("dala-server"));
    snprintf(c.port_file, sizeof c.port_file, "%s/port", h.dir);
    snprintf(c.log_file, sizeof c.log_file, "%s/dala-server.log", h.dir);
    if (access(c.binary, X_OK) != 0) {
        test_fail(__FILE__, __LINE__, "%s is missing: run `make build-all` first (or set DALA_BUILD)",
                  c.binary);
        return;
    }
    if (child_server_start(&c, h.db_path, 0, 0, 10000)) return;
    h.port = c.port;
    snprintf(h.url, sizeof h.url, "http://127.0.0.1:%d", c.port);
    if (!(device = device_enrol(&h, "a1", h.officer_a, h.unit_a))) goto done;

    for (size_t kill_no = 0; kill_no < sizeof delays_us / sizeof delays_us[0]; kill_no++) {
        int succeeded = push_burst_until_killed(&captured, &acked, device, &gen, &c, delays_us[kill_no]);
        CHECK(succeeded >= 2);
        /* The server is dead: what it acknowledged must be in its file. */
        record_set pending = {0};
        set_free(&on_disk);
        central_records(&on_disk, &h, h.unit_a, GEN_TABLE);
        for (size_t i = 0, missing = 0; i < acked.count && missing < 3; i++)
            if (set_find(&on_disk, acked.ids[i]) < 0) {
                test_fail(__FILE__, __LINE__, "kill %zu: acknowledged record %s is not on the server",
                          kill_no, acked.ids[i]);
                missing++;
            }
        for (size_t i = 0; i < on_disk.count; i++)
            CHECK(set_find(&captured, on_disk.ids[i]) >= 0);
        check_unit_log_once(&h, h.unit_a);
        device_records(&pending, device, DALA_RECORD_PENDING);
        CHECK_EQ_U64(pending.count + acked.count, captured.count);
        CHECK_EQ_U64(device_status(device).pending_changes, pending.count);
        set_free(&pending);

        /* The same database, the same port: the device catches up. */
        if (child_server_start(&c, h.db_path, h.port, 0, 10000)) goto done;
        CHECK_EQ_INT(c.port, h.port);
        CHECK_OK(sync_via(device, NULL, 20, NULL));
        note_acked(&acked, device);
        CHECK_EQ_U64(acked.count, captured.count);
    }
    check_converged(&h, h.unit_a, &captured, &device, 1);
    check_unit_log_once(&h, h.unit_a);
    child_server_stop(&c);
done:
    if (c.pid) child_reap_killed(&c);
    dala_store_close(device);
    set_free(&captured);
    set_free(&acked);
    set_free(&on_disk);
}

/* ---------------------------------------------------------------- scope */

static void test_e2e_records_of_one_unit_never_reach_another(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    record_set in_a = {0}, in_b = {0}, held_a = {0}, held_b = {0}, held_a2 = {0};
    records_gen gen;
    records_gen_init(&gen, 600);
    dala_store *a = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    dala_store *b = device_enrol(&h, "b1", h.officer_b, h.unit_b);
    dala_store *a2 = NULL;
    if (!a || !b) goto done;
    capture(&in_a, a, &gen, 6);
    capture(&in_b, b, &gen, 6);
    for (int round = 0; round < 2; round++) {
        sync_ok(a);
        sync_ok(b);
    }
    if (!(a2 = device_enrol(&h, "a2", h.officer_a2, h.unit_a))) goto done;
    sync_ok(a2);

    device_records(&held_a, a, -1);
    device_records(&held_b, b, -1);
    device_records(&held_a2, a2, -1);
    for (size_t i = 0; i < in_a.count; i++) {
        CHECK(set_find(&held_b, in_a.ids[i]) < 0);
        CHECK(set_find(&held_a2, in_a.ids[i]) >= 0);
    }
    for (size_t i = 0; i < in_b.count; i++) {
        CHECK(set_find(&held_a, in_b.ids[i]) < 0);
        CHECK(set_find(&held_a2, in_b.ids[i]) < 0);
    }
    dala_store *unit_a_devices[] = {a, a2};
    check_converged(&h, h.unit_a, &in_a, unit_a_devices, 2);
    check_converged(&h, h.unit_b, &in_b, &b, 1);
    CHECK_EQ_U64(device_status(b).record_count, in_b.count);
    CHECK_EQ_U64(device_status(a2).record_count, in_a.count);
done:
    dala_store_close(a);
    dala_store_close(b);
    dala_store_close(a2);
    set_free(&in_a);
    set_free(&in_b);
    set_free(&held_a);
    set_free(&held_b);
    set_free(&held_a2);
    e2e_stop(&h);
}

/* ------------------------------------------------------------ conflicts */

/* device_field, device_field_version and SOLE_CONFLICT are in
 * e2e_support.h. */

/* Two devices of unit A holding the same synced record `id_out`. */
static int share_a_record(harness *h, dala_store **a1, dala_store **a2, char *id_out)
{
    *a1 = device_enrol(h, "a1", h->officer_a, h->unit_a);
    *a2 = device_enrol(h, "a2", h->officer_a2, h->unit_a);
    if (!*a1 || !*a2) return -1;
    int rc = dala_record_put(id_out, *a1, GEN_TABLE, NULL,
                             "{" VISIT ", \"risk_level\": \"low\", \"children_count\": 1}");
    CHECK_OK(rc);
    sync_ok(*a1);
    sync_ok(*a2);
    char *risk = device_field(*a2, id_out, "risk_level");
    CHECK_EQ_STR(risk, "low");
    free(risk);
    return rc;
}

static void test_e2e_concurrent_edits_of_one_field_converge_and_keep_the_conflict(void)
{
    harness h;
    char id[DALA_ID_TEXT_BYTES];
    dala_store *a1 = NULL, *a2 = NULL;
    if (harness_start(&h, 0)) return;
    if (share_a_record(&h, &a1, &a2, id)) goto done;

    /* Both edit the same field while offline: a field without a merge
     * policy, so the newer version wins (risk_level's policy is
     * test_merge_policy.c's). */
    CHECK_OK(dala_record_put(NULL, a1, GEN_TABLE, id, "{\"children_count\": 2}"));
    CHECK_OK(dala_record_put(NULL, a2, GEN_TABLE, id, "{\"children_count\": 3}"));
    dala_version v1 = device_field_version(a1, id, "children_count");
    dala_version v2 = device_field_version(a2, id, "children_count");
    int first_wins = dala_version_compare(&v1, &v2) > 0;
    const char *winner = first_wins ? "2" : "3", *loser = first_wins ? "3" : "2";
    dala_version win = first_wins ? v1 : v2, lose = first_wins ? v2 : v1;
    for (int round = 0; round < 2; round++) {
        sync_ok(a1);
        sync_ok(a2);
    }

    char *on_a1 = device_field(a1, id, "children_count"), *on_a2 = device_field(a2, id, "children_count");
    char *on_server = central_field(&h, id, "children_count");
    CHECK_EQ_STR(on_a1, winner);
    CHECK_EQ_STR(on_a2, winner);
    CHECK_EQ_STR(on_server, winner);
    free(on_a1);
    free(on_a2);
    free(on_server);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'conflict'", 0, 0), 1);
    dala_store *devices[] = {a1, a2};
    for (int d = 0; d < 2; d++) {
        conflict_copy copy = SOLE_CONFLICT(devices[d], id, "children_count", loser);
        CHECK_EQ_STR(copy.status, "open");
        CHECK_EQ_U64(copy.winner.hlc, win.hlc);
        CHECK_EQ_U64(copy.winner.device_id, win.device_id);
        CHECK_EQ_U64(copy.loser.hlc, lose.hlc);
        CHECK_EQ_U64(copy.loser.device_id, lose.device_id);
        CHECK_EQ_U64(device_status(devices[d]).conflict_count, 1);
        CHECK_EQ_U64(device_status(devices[d]).pending_changes, 0);
        dala_version held = device_field_version(devices[d], id, "children_count");
        CHECK_EQ_U64(held.hlc, win.hlc);
        CHECK_EQ_U64(held.device_id, win.device_id);
    }
done:
    dala_store_close(a1);
    dala_store_close(a2);
    e2e_stop(&h);
}

static void test_e2e_edits_of_different_fields_merge_without_conflict(void)
{
    harness h;
    char id[DALA_ID_TEXT_BYTES];
    dala_store *a1 = NULL, *a2 = NULL;
    if (harness_start(&h, 0)) return;
    if (share_a_record(&h, &a1, &a2, id)) goto done;

    CHECK_OK(dala_record_put(NULL, a1, GEN_TABLE, id, "{\"referral\": \"lawyer\"}"));
    CHECK_OK(dala_record_put(NULL, a2, GEN_TABLE, id, "{\"children_count\": 3}"));
    for (int round = 0; round < 2; round++) {
        sync_ok(a1);
        sync_ok(a2);
    }
    dala_store *devices[] = {a1, a2};
    for (int d = 0; d < 2; d++) {
        char *referral = device_field(devices[d], id, "referral");
        char *children = device_field(devices[d], id, "children_count");
        char *risk = device_field(devices[d], id, "risk_level");
        CHECK_EQ_STR(referral, "lawyer");
        CHECK_EQ_STR(children, "3");
        CHECK_EQ_STR(risk, "low");
        free(referral);
        free(children);
        free(risk);
        CHECK_EQ_U64(device_status(devices[d]).conflict_count, 0);
        CHECK_EQ_U64(device_status(devices[d]).pending_changes, 0);
    }
    char *referral = central_field(&h, id, "referral"), *children = central_field(&h, id, "children_count");
    CHECK_EQ_STR(referral, "lawyer");
    CHECK_EQ_STR(children, "3");
    free(referral);
    free(children);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'conflict'", 0, 0), 0);
    dala_version r1 = device_field_version(a1, id, "referral"), r2 = device_field_version(a2, id, "referral");
    dala_version c1 = device_field_version(a1, id, "children_count");
    dala_version c2 = device_field_version(a2, id, "children_count");
    CHECK(dala_version_compare(&r1, &r2) == 0);
    CHECK(dala_version_compare(&c1, &c2) == 0);
done:
    dala_store_close(a1);
    dala_store_close(a2);
    e2e_stop(&h);
}

/* ------------------------------------------------------ refusals, faults */

static void test_e2e_revoked_device_is_refused_and_keeps_its_changes(void)
{
    harness h;
    char path[600];
    if (harness_start(&h, 0)) return;
    record_set captured = {0};
    records_gen gen;
    records_gen_init(&gen, 700);
    dala_store *device = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    if (!device) goto done;
    capture(&captured, device, &gen, 2);
    sync_ok(device); /* the device now has a live session */
    capture(&captured, device, &gen, 3);
    CHECK_OK(harness_revoke(&h, (int64_t)device_status(device).device_id));

    /* Within the session (DATA frames)... */
    CHECK_EQ_INT(sync_via(device, NULL, 0, NULL), DALA_EAUTH);
    CHECK_CONTAINS(dala_errmsg(), "revoked");
    CHECK_EQ_U64(device_status(device).pending_changes, 3);
    /* ...and with a handshake, from a new handle with no session. */
    snprintf(path, sizeof path, "%s/a1.db", h.dir);
    dala_store_close(device);
    device = NULL;
    CHECK_OK(dala_store_open(&device, path));
    if (!device) goto done;
    CHECK_EQ_INT(sync_via(device, NULL, 0, NULL), DALA_EAUTH);
    CHECK_CONTAINS(dala_errmsg(), "is revoked");
    CHECK_EQ_U64(device_status(device).pending_changes, 3);
    CHECK_EQ_U64(device_status(device).record_count, 5);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record", 0, 0), 2);
    check_unit_log_once(&h, h.unit_a);
done:
    dala_store_close(device);
    set_free(&captured);
    e2e_stop(&h);
}

static void test_e2e_unreachable_server_returns_eio_and_loses_nothing(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    record_set captured = {0};
    records_gen gen;
    records_gen_init(&gen, 800);
    dala_store *device = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    if (!device) goto done;
    capture(&captured, device, &gen, 4);
    e2e_stop(&h); /* nothing listens on the port now */

    CHECK_EQ_INT(sync_via(device, NULL, 0, NULL), DALA_EIO);
    CHECK_CONTAINS(dala_errmsg(), "cannot reach");
    CHECK_EQ_U64(device_status(device).pending_changes, 4);
    CHECK_EQ_U64(device_status(device).record_count, 4);

    /* The server comes back on the same port and database. */
    dala_server_options options = DALA_SERVER_OPTIONS_INIT;
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", h.port);
    options.db_path = h.db_path;
    options.listen = listen;
    options.num_threads = 4;
    options.quiet = 1;
    CHECK_OK(dala_server_start(&h.server, &options));
    if (!h.server) goto done;
    sync_ok(device);
    check_converged(&h, h.unit_a, &captured, &device, 1);
    check_unit_log_once(&h, h.unit_a);
done:
    dala_store_close(device);
    set_free(&captured);
    e2e_stop(&h);
}

static void copy_file(const char *from, const char *to)
{
    char command[1400];
    snprintf(command, sizeof command, "cp '%s' '%s'", from, to);
    CHECK_EQ_INT(system(command), 0);
}

static void test_e2e_restored_server_gets_back_what_it_lost_from_the_devices(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    record_set captured = {0};
    records_gen gen;
    records_gen_init(&gen, 900);
    char backup[400], wal[400];
    dala_store *device = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    dala_store *other = device_enrol(&h, "a2", h.officer_a2, h.unit_a);
    if (!device || !other) goto done;
    capture(&captured, device, &gen, 5);
    sync_ok(device);

    /* The nightly copy of the central database. */
    e2e_stop(&h);
    snprintf(backup, sizeof backup, "%s/backup.db", h.dir);
    copy_file(h.db_path, backup);
    CHECK_OK(harness_restart(&h));

    /* A day's work, acknowledged by the server, then the disk fails and
     * the operator puts the copy back. */
    capture(&captured, device, &gen, 4);
    sync_ok(device);
    CHECK_EQ_U64(device_status(device).pending_changes, 0);
    e2e_stop(&h);
    copy_file(backup, h.db_path);
    snprintf(wal, sizeof wal, "%s-wal", h.db_path);
    remove(wal);
    CHECK_OK(harness_restart(&h));
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE unit_id = ?1", h.unit_a, 0), 5);

    /* The device learns of the restore and offers its versions again; the
     * server takes back the 4 it lost, and the other device gets all 9. */
    sync_ok(device);
    sync_ok(device);
    sync_ok(other);
    dala_store *both[] = {device, other};
    check_converged(&h, h.unit_a, &captured, both, 2);
    check_unit_log_once(&h, h.unit_a);
done:
    dala_store_close(device);
    dala_store_close(other);
    set_free(&captured);
    e2e_stop(&h);
}

static void test_e2e_tampered_and_replayed_frames_change_nothing(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    record_set captured = {0};
    records_gen gen;
    fault_transport fault;
    dala_buf answer = DALA_BUF_INIT;
    dala_frame_header header;
    int status = 0;
    records_gen_init(&gen, 900);
    fault_init(&fault, FAULT_TAMPER_REQUEST, 1);
    dala_store *device = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    if (!device) goto done;
    int64_t device_id = (int64_t)device_status(device).device_id;

    /* A tampered HELLO does not open: refused, nothing applied. */
    capture(&captured, device, &gen, 3);
    CHECK_EQ_INT(sync_via(device, &fault.transport, 0, NULL), DALA_EAUTH);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record", 0, 0), 0);
    CHECK_EQ_U64(device_status(device).pending_changes, 3);
    CHECK_OK(sync_via(device, &fault.transport, 0, NULL));
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record", 0, 0), 3);

    /* A tampered DATA frame within the session: refused; the device
     * handshakes again in the same call, and its batch is applied once. */
    capture(&captured, device, &gen, 2);
    fault_arm_next(&fault, FAULT_TAMPER_REQUEST);
    unsigned posts = fault.posts;
    CHECK_OK(sync_via(device, &fault.transport, 0, NULL));
    CHECK_EQ_INT(fault.posts - posts, 2);
    CHECK_OK(dala_frame_header_parse(&header, fault.last_accepted.data, fault.last_accepted.len));
    CHECK_EQ_INT(header.frame_type, DALA_FRAME_HELLO);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record", 0, 0), 5);
    CHECK_EQ_INT(central_int(&h, "SELECT last_batch_seq FROM device WHERE id = ?1", device_id, 0), 2);
    capture(&captured, device, &gen, 1);
    CHECK_OK(sync_via(device, &fault.transport, 0, NULL));
    long long next_seq = central_int(&h, "SELECT next_seq FROM org_unit WHERE id = ?1", h.unit_a, 0);

    /* The last accepted DATA frame, replayed: refused. */
    CHECK_OK(dala_frame_header_parse(&header, fault.last_accepted.data, fault.last_accepted.len));
    CHECK_EQ_INT(header.frame_type, DALA_FRAME_DATA);
    CHECK_EQ_INT(harness_post(&h, "/v1/sync", "application/octet-stream", fault.last_accepted.data,
                              fault.last_accepted.len, &status, &answer), 0);
    CHECK_EQ_INT(status, 401);
    /* The accepted HELLO that carried batch 1, replayed: opened again
     * (HELLOs have no replay cache), but its batch is not applied again. */
    CHECK_OK(dala_frame_header_parse(&header, fault.first_accepted.data, fault.first_accepted.len));
    CHECK_EQ_INT(header.frame_type, DALA_FRAME_HELLO);
    dala_buf_reset(&answer);
    CHECK_EQ_INT(harness_post(&h, "/v1/sync", "application/octet-stream", fault.first_accepted.data,
                              fault.first_accepted.len, &status, &answer), 0);
    CHECK_EQ_INT(status, 200);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record", 0, 0), 6);
    CHECK_EQ_INT(central_int(&h, "SELECT next_seq FROM org_unit WHERE id = ?1", h.unit_a, 0), next_seq);
    CHECK_EQ_INT(central_int(&h, "SELECT last_batch_seq FROM device WHERE id = ?1", device_id, 0), 3);

    /* The replay replaced the device's session on the server: its next
     * DATA frame is refused, and it handshakes again within the call. */
    capture(&captured, device, &gen, 1);
    posts = fault.posts;
    CHECK_OK(sync_via(device, &fault.transport, 0, NULL));
    CHECK_EQ_INT(fault.posts - posts, 2);
    check_converged(&h, h.unit_a, &captured, &device, 1);
    check_unit_log_once(&h, h.unit_a);
done:
    dala_store_close(device);
    dala_buf_free(&answer);
    fault_free(&fault);
    set_free(&captured);
    e2e_stop(&h);
}

typedef struct rejection_copy {
    size_t count;
    int64_t outbox_id;
    char record_id[DALA_ID_TEXT_BYTES], table[32], reason[256];
    int code;
} rejection_copy;

static int copy_rejection(void *context, const dala_rejection *rejection)
{
    rejection_copy *copy = context;
    if (copy->count++ == 0) {
        copy->outbox_id = rejection->outbox_id;
        copy->code = rejection->code;
        snprintf(copy->record_id, sizeof copy->record_id, "%s", rejection->record_id);
        snprintf(copy->table, sizeof copy->table, "%s", rejection->table);
        snprintf(copy->reason, sizeof copy->reason, "%s", rejection->reason);
    }
    return 0;
}

static int find_state(void *context, const dala_record_info *info)
{
    const char *wanted = *(const char **)context;
    return strcmp(info->id, wanted) == 0 ? 100 + (int)info->state : 0;
}

static void test_e2e_edit_of_another_units_record_is_refused_and_the_rest_acked(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    record_set own = {0};
    records_gen gen;
    dala_sync_stats stats;
    char foreign[DALA_ID_TEXT_BYTES];
    records_gen_init(&gen, 1000);
    dala_store *a = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    dala_store *b = device_enrol(&h, "b1", h.officer_b, h.unit_b);
    if (!a || !b) goto done;
    CHECK_OK(dala_record_put(foreign, b, GEN_TABLE, NULL, "{" VISIT ", \"risk_level\": \"low\"}"));
    sync_ok(b);

    /* A's device writes B's record by its id, between two of its own: the
     * device cannot know, the server refuses it with a reason. */
    capture(&own, a, &gen, 1);
    CHECK_OK(dala_record_put(NULL, a, GEN_TABLE, foreign,
                             "{\"visit_date\": \"2024-02-01\", \"purpose\": \"call_response\", "
                             "\"risk_level\": \"high\"}"));
    capture(&own, a, &gen, 1);
    CHECK_OK(sync_via(a, NULL, 0, &stats));
    CHECK_EQ_U64(stats.acked, 3);
    CHECK_EQ_U64(stats.rejected, 1);

    rejection_copy copy;
    memset(&copy, 0, sizeof copy);
    CHECK_OK(dala_rejection_list(a, copy_rejection, &copy));
    CHECK_EQ_INT(copy.count, 1);
    CHECK_EQ_STR(copy.record_id, foreign);
    CHECK_EQ_STR(copy.table, GEN_TABLE);
    CHECK_EQ_INT(copy.code, DALA_EAUTH);
    CHECK_CONTAINS(copy.reason, "outside this device's unit");
    dala_status status = device_status(a);
    CHECK_EQ_U64(status.pending_changes, 0);
    CHECK_EQ_U64(status.rejected_changes, 1);
    const char *wanted = foreign;
    CHECK_EQ_INT(dala_record_list(a, GEN_TABLE, find_state, &wanted), 100 + DALA_RECORD_REJECTED);

    /* The rest of the batch is on the server; B's record is unchanged. */
    check_converged(&h, h.unit_a, &own, NULL, 0);
    char *risk = central_field(&h, foreign, "risk_level"), *purpose = central_field(&h, foreign, "purpose");
    CHECK_EQ_STR(risk, "low");
    CHECK_EQ_STR(purpose, "preventive_visit");
    free(risk);
    free(purpose);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE unit_id = ?1", h.unit_b, 0), 1);
    sync_ok(b);
    risk = device_field(b, foreign, "risk_level");
    CHECK_EQ_STR(risk, "low");
    free(risk);

    /* Dismissed, the refusal is gone; the device keeps its local copy. */
    CHECK_OK(dala_rejection_dismiss(a, copy.outbox_id));
    CHECK_EQ_U64(device_status(a).rejected_changes, 0);
done:
    dala_store_close(a);
    dala_store_close(b);
    set_free(&own);
    e2e_stop(&h);
}

const dala_test e2e_tests[] = {
    {"e2e_restored_server_gets_back_what_it_lost_from_the_devices", test_e2e_restored_server_gets_back_what_it_lost_from_the_devices},
    {"e2e_resent_batch_after_lost_answer_is_applied_once", test_e2e_resent_batch_after_lost_answer_is_applied_once},
    {"e2e_sync_dropped_before_send_resumes_without_loss", test_e2e_sync_dropped_before_send_resumes_without_loss},
    {"e2e_sync_with_answer_lost_after_commit_resumes_without_doubles", test_e2e_sync_with_answer_lost_after_commit_resumes_without_doubles},
    {"e2e_sync_interrupted_mid_pull_resumes_without_loss", test_e2e_sync_interrupted_mid_pull_resumes_without_loss},
    {"e2e_fresh_device_first_round_trip_fails_then_resumes", test_e2e_fresh_device_first_round_trip_fails_then_resumes},
    {"e2e_server_killed_during_push_burst_loses_no_acknowledged_change", test_e2e_server_killed_during_push_burst_loses_no_acknowledged_change},
    {"e2e_records_of_one_unit_never_reach_another", test_e2e_records_of_one_unit_never_reach_another},
    {"e2e_concurrent_edits_of_one_field_converge_and_keep_the_conflict", test_e2e_concurrent_edits_of_one_field_converge_and_keep_the_conflict},
    {"e2e_edits_of_different_fields_merge_without_conflict", test_e2e_edits_of_different_fields_merge_without_conflict},
    {"e2e_revoked_device_is_refused_and_keeps_its_changes", test_e2e_revoked_device_is_refused_and_keeps_its_changes},
    {"e2e_unreachable_server_returns_eio_and_loses_nothing", test_e2e_unreachable_server_returns_eio_and_loses_nothing},
    {"e2e_tampered_and_replayed_frames_change_nothing", test_e2e_tampered_and_replayed_frames_change_nothing},
    {"e2e_edit_of_another_units_record_is_refused_and_the_rest_acked", test_e2e_edit_of_another_units_record_is_refused_and_the_rest_acked},
    {NULL, NULL},
};
