/* test_restore_drill.c - suite "restore_drill" (`make restore-drill`): the
 * drill an operator would run, end to end against a real server in this
 * process. Three tablets in two units capture and sync; a backup is taken
 * while one of them syncs; more captures and syncs follow, acknowledged by
 * the server; the server is stopped and the backup restored over its
 * database (the database, its epoch file and its key file, as
 * `dala-server restore --force` does); every tablet syncs again.
 *
 * What it proves: the server ends with every record any tablet ever had
 * acknowledged, and every record captured, each once (0 lost, 0
 * duplicated: no record missing, none twice in a unit's log, no position
 * burnt, no conflict made by the offers again), every tablet of a unit
 * holds the same records with the server's values and nothing waits. The
 * figures are printed. This is the case of issue 15: a database put back
 * together with its epoch file used to look unchanged to the tablets. */
#include "backup.h"
#include "e2e_support.h"
#include "testhelp.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TABLETS 3

typedef struct drill_sync {
    dala_store *tablet;
    records_gen *gen;
    record_set *captured;
    _Atomic int stop;
    int rounds;
} drill_sync;

static void *sync_while_backing_up(void *arg)
{
    drill_sync *s = arg;
    while (!s->stop && s->rounds < 100) {
        capture(s->captured, s->tablet, s->gen, 1);
        sync_ok(s->tablet);
        s->rounds++;
    }
    return NULL;
}

/* Syncs until nothing waits (at most 5 round trips). */
static void sync_until_idle(dala_store *tablet)
{
    for (int i = 0; i < 5; i++) {
        sync_ok(tablet);
        if (device_status(tablet).pending_changes == 0) return;
    }
    test_fail(__FILE__, __LINE__, "a tablet still has changes waiting after 5 syncs");
}

static void test_restore_drill_three_tablets_lose_nothing_and_double_nothing(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    struct timespec began;
    clock_gettime(CLOCK_MONOTONIC, &began);
    record_set captured[2] = {{0}, {0}}, acked = {0};
    records_gen gen[TABLETS];
    dala_store *tablets[TABLETS] = {0};
    static const char *const names[TABLETS] = {"a1", "a2", "b1"};
    int64_t officers[TABLETS] = {h.officer_a, h.officer_a2, h.officer_b};
    int64_t units[TABLETS] = {h.unit_a, h.unit_a, h.unit_b};
    int unit_of[TABLETS] = {0, 0, 1};
    char key[400], pub[420], backup[400];
    snprintf(key, sizeof key, "%s/operator.key", h.dir);
    snprintf(pub, sizeof pub, "%s.pub", key);
    snprintf(backup, sizeof backup, "%s/central.backup", h.dir);
    CHECK_OK(dala_backup_keygen(key, NULL));
    for (int t = 0; t < TABLETS; t++) {
        records_gen_init(&gen[t], 7000 + (uint64_t)t);
        tablets[t] = device_enrol(&h, names[t], officers[t], units[t]);
        if (!tablets[t]) goto done;
    }

    /* Day one: every tablet captures and syncs. */
    for (int t = 0; t < TABLETS; t++) {
        capture(&captured[unit_of[t]], tablets[t], &gen[t], 25);
        sync_taken(tablets[t]);
    }
    for (int t = 0; t < TABLETS; t++) sync_ok(tablets[t]);

    /* The backup, taken while tablet a1 goes on capturing and syncing. */
    drill_sync during = {tablets[0], &gen[0], &captured[0], 0, 0};
    pthread_t thread;
    CHECK_EQ_INT(pthread_create(&thread, NULL, sync_while_backing_up, &during), 0);
    struct timespec pause = {0, 30 * 1000000};
    nanosleep(&pause, NULL);
    dala_backup_stats stats;
    CHECK_OK(dala_backup_write(&stats, h.db_path, NULL, backup, pub));
    during.stop = 1;
    pthread_join(thread, NULL);
    long long in_backup = -1;
    {
        /* What the backup holds, read from a scratch restore. */
        char scratch[400];
        snprintf(scratch, sizeof scratch, "%s/scratch/central.db", h.dir);
        CHECK_OK(dala_backup_restore(NULL, backup, key, scratch, NULL, 0));
        sqlite3 *db = NULL;
        sqlite3_stmt *stmt = NULL;
        if (sqlite3_open_v2(scratch, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
            sqlite3_prepare_v2(db, "SELECT count(*) FROM record WHERE tbl = 'field_visit'", -1, &stmt, NULL) == SQLITE_OK &&
            sqlite3_step(stmt) == SQLITE_ROW)
            in_backup = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
        sqlite3_close(db);
    }

    /* Day two: more captures, acknowledged; and a few never sent. */
    for (int t = 0; t < TABLETS; t++) {
        capture(&captured[unit_of[t]], tablets[t], &gen[t], 20);
        sync_taken(tablets[t]);
    }
    for (int t = 0; t < TABLETS; t++) sync_ok(tablets[t]);
    for (int t = 0; t < TABLETS; t++) note_acked(&acked, tablets[t]);
    capture(&captured[0], tablets[1], &gen[1], 5);
    long long before_restore = central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'field_visit'", 0, 0);

    /* The disk fails; the operator stops the server and restores. */
    e2e_stop(&h);
    dala_restore_result res;
    CHECK_OK(dala_backup_restore(&res, backup, key, h.db_path, NULL, DALA_RESTORE_FORCE));
    CHECK_EQ_INT(res.key_file_action, DALA_RESTORE_KEYS_SAME);
    CHECK(res.epoch_after != res.epoch_before);
    if (harness_restart(&h)) goto done;
    long long after_restore = central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'field_visit'", 0, 0);
    CHECK_EQ_INT(after_restore, in_backup);

    /* Every tablet syncs again: each sees the new epoch and offers its own
     * versions again; then once more round, so each pulls the others'. */
    for (int t = 0; t < TABLETS; t++) sync_until_idle(tablets[t]);
    for (int t = 0; t < TABLETS; t++) sync_until_idle(tablets[t]);

    /* The figures. */
    record_set central_a = {0}, central_b = {0};
    central_records(&central_a, &h, h.unit_a, GEN_TABLE);
    central_records(&central_b, &h, h.unit_b, GEN_TABLE);
    long long lost = 0;
    for (size_t i = 0; i < acked.count; i++)
        if (set_find(&central_a, acked.ids[i]) < 0 && set_find(&central_b, acked.ids[i]) < 0) lost++;
    long long captured_total = (long long)(captured[0].count + captured[1].count);
    long long missing = 0;
    for (int u = 0; u < 2; u++)
        for (size_t i = 0; i < captured[u].count; i++)
            if (set_find(u ? &central_b : &central_a, captured[u].ids[i]) < 0) missing++;
    long long rows = central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'field_visit'", 0, 0);
    long long distinct_rows = central_int(&h, "SELECT count(DISTINCT id) FROM record WHERE tbl = 'field_visit'", 0, 0);
    long long conflicts = central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'conflict'", 0, 0);
    long long duplicated = (rows - distinct_rows) + (rows > captured_total ? rows - captured_total : 0);
    struct timespec ended;
    clock_gettime(CLOCK_MONOTONIC, &ended);
    double seconds = (double)(ended.tv_sec - began.tv_sec) + (double)(ended.tv_nsec - began.tv_nsec) / 1e9;
    printf("    restore drill: %d tablets in 2 units; backup %llu bytes (database %llu) taken while a tablet synced %d "
           "times\n",
           TABLETS, (unsigned long long)stats.file_bytes, (unsigned long long)stats.database_bytes, during.rounds);
    printf("    records: %lld in the backup, %lld on the server before the restore, %lld after it; %zu acknowledged to "
           "the tablets, %lld captured in all\n",
           in_backup, before_restore, after_restore, acked.count, captured_total);
    printf("    after every tablet synced again: %lld on the server, %lld lost (of those acknowledged), %lld missing "
           "(of those captured), %lld duplicated, %lld conflicts; %.1f s\n",
           rows, lost, missing, duplicated, conflicts, seconds);
    CHECK_EQ_INT(lost, 0);
    CHECK_EQ_INT(missing, 0);
    CHECK_EQ_INT(duplicated, 0);
    CHECK_EQ_INT(conflicts, 0);
    CHECK_EQ_INT(rows, captured_total);
    CHECK(before_restore > in_backup); /* the restore did lose something to give back */
    dala_store *unit_a_tablets[] = {tablets[0], tablets[1]};
    check_converged(&h, h.unit_a, &captured[0], unit_a_tablets, 2);
    check_converged(&h, h.unit_b, &captured[1], &tablets[2], 1);
    check_unit_log_once(&h, h.unit_a);
    check_unit_log_once(&h, h.unit_b);
    set_free(&central_a);
    set_free(&central_b);
done:
    for (int t = 0; t < TABLETS; t++) dala_store_close(tablets[t]);
    set_free(&captured[0]);
    set_free(&captured[1]);
    set_free(&acked);
    e2e_stop(&h);
}

const dala_test restore_drill_tests[] = {
    {"restore_drill_three_tablets_lose_nothing_and_double_nothing", test_restore_drill_three_tablets_lose_nothing_and_double_nothing},
    {NULL, NULL},
};
