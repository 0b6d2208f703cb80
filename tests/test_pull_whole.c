/* test_pull_whole.c - a tablet never holds a record in part, and batch
 * numbers never strand a tablet's changes; against the real server.
 *
 * A record sits in its unit's log at the position of its last write. A
 * tablet that catches up over several pages meets a record edited after
 * its creation only on the page of the edit; that page must bring the
 * record whole, not the edited fields alone (server/pull.c). And the
 * server decides whether a batch is new inside its write transaction, by
 * number and digest, so two copies of one request, or an old request
 * arriving late, apply nothing twice and leave no disagreement about
 * numbers (server/apply.c). */
#include "e2e_support.h"
#include "raw_client.h"
#include "testhelp.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 10

/* How many records the store at `path` still asks for whole. */
static long long sdk_wanted_count(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    long long count = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM wanted", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        count = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return count;
}

/* Edits the `field` of record `id` on `store` to `value` (JSON). */
static void edit_field(dala_store *store, const char *id, const char *field, const char *value_json)
{
    char json[256];
    snprintf(json, sizeof json, "{\"%s\": %s}", field, value_json);
    CHECK_OK(dala_record_put(NULL, store, "field_visit", id, json));
}

/* A unit whose writer tablet captured and synced records; the late
 * tablet of the unit is enrolled by each test when it needs it. */
typedef struct busy_unit {
    harness h;
    record_set captured;
    dala_store *writer, *late;
} busy_unit;

/* Starts the server (pages of PAGE), enrols the writer, captures `count`
 * records from generator `seed` and syncs them. 0, or -1 after a CHECK. */
static int busy_unit_open(busy_unit *u, uint64_t seed, int count)
{
    memset(u, 0, sizeof *u);
    if (harness_start(&u->h, PAGE)) return -1;
    records_gen gen;
    records_gen_init(&gen, seed);
    if (!(u->writer = device_enrol(&u->h, "w", u->h.officer_a, u->h.unit_a))) return -1;
    capture(&u->captured, u->writer, &gen, count);
    sync_ok(u->writer);
    return 0;
}

/* Enrols the unit's second tablet, "late". */
static int busy_unit_enrol_late(busy_unit *u)
{
    u->late = device_enrol(&u->h, "late", u->h.officer_a2, u->h.unit_a);
    return u->late ? 0 : -1;
}

/* The captured values no longer hold once records were edited: the
 * convergence check then compares with the server's. */
static void busy_unit_forget_values(busy_unit *u)
{
    for (size_t i = 0; i < u->captured.count; i++) {
        free(u->captured.json[i]);
        u->captured.json[i] = NULL;
    }
}

static void busy_unit_close(busy_unit *u)
{
    dala_store_close(u->writer);
    dala_store_close(u->late);
    set_free(&u->captured);
    e2e_stop(&u->h);
}

/* A unit with four pages of history whose early records were edited
 * later: a tablet enrolled afterwards pulls every record whole. */
static void test_pull_new_tablet_of_a_busy_unit_gets_edited_records_whole(void)
{
    busy_unit u;
    if (busy_unit_open(&u, 4101, 4 * PAGE)) goto done;
    /* The first records move to the end of the log. */
    for (int i = 0; i < 5; i++) edit_field(u.writer, u.captured.ids[i], "children_count", "3");
    sync_ok(u.writer);
    busy_unit_forget_values(&u);
    if (busy_unit_enrol_late(&u)) goto done;
    dala_sync_stats stats;
    CHECK_OK(sync_via(u.late, NULL, 0, &stats));
    CHECK(stats.round_trips >= 4); /* it did catch up over several pages */
    dala_store *devices[] = {u.writer, u.late};
    check_converged(&u.h, u.h.unit_a, &u.captured, devices, 2);
done:
    busy_unit_close(&u);
}

/* Edits land while a tablet is half-way through catching up: records it
 * has already paged past and records still ahead of it both arrive whole. */
static void test_pull_edits_during_a_catch_up_arrive_whole(void)
{
    busy_unit u;
    if (busy_unit_open(&u, 4102, 5 * PAGE) || busy_unit_enrol_late(&u)) goto done;
    /* Two pages in, the writer edits a record the late tablet has seen
     * (the first) and ones it has not reached yet. */
    dala_sync_options options = DALA_SYNC_OPTIONS_INIT;
    options.max_round_trips = 2;
    CHECK_EQ_INT(dala_sync(NULL, u.late, &options), DALA_ELIMIT);
    edit_field(u.writer, u.captured.ids[0], "children_count", "1");
    edit_field(u.writer, u.captured.ids[3 * PAGE], "children_count", "2");
    edit_field(u.writer, u.captured.ids[4 * PAGE + 1], "measures_taken", "\"Түсіндіру жұмысы жүргізілді\"");
    sync_ok(u.writer);
    sync_ok(u.late);
    busy_unit_forget_values(&u);
    dala_store *devices[] = {u.writer, u.late};
    check_converged(&u.h, u.h.unit_a, &u.captured, devices, 2);
done:
    busy_unit_close(&u);
}

/* The net under the rule above: a tablet whose cursor claims it holds the
 * log whole when it does not (here set by hand) is sent edits of records
 * it lacks; it stores none of them in part, asks for them whole, and
 * holds them whole by the end of the same sync. */
static void test_pull_record_met_in_part_is_fetched_whole(void)
{
    busy_unit u;
    record_set edited = {0};
    if (busy_unit_open(&u, 4103, 20)) goto done;
    harness *h = &u.h;
    long long created_to = central_int(h, "SELECT next_seq - 1 FROM org_unit WHERE id = ?1", h->unit_a, 0);
    for (int i = 0; i < 3; i++) {
        edit_field(u.writer, u.captured.ids[i * 5], "children_count", "4");
        set_add(&edited, u.captured.ids[i * 5], NULL);
    }
    sync_ok(u.writer);
    if (busy_unit_enrol_late(&u)) goto done;
    char path[600], sql[200];
    snprintf(path, sizeof path, "%s/late.db", h->dir);
    snprintf(sql, sizeof sql, "INSERT INTO pull_cursor(unit_id, seq, whole_to) VALUES (%lld, %lld, %lld)",
             (long long)h->unit_a, created_to, created_to);
    sqlite3 *db = NULL;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    sync_ok(u.late);
    record_set held = {0};
    device_records(&held, u.late, -1);
    check_same_ids(&held, &edited, "the late tablet");
    /* Each whole: the same fields and values as the server's, creation too. */
    sqlite3 *central = central_open(h), *mem = NULL;
    CHECK_EQ_INT(sqlite3_open(":memory:", &mem), SQLITE_OK);
    for (size_t i = 0; central && i < edited.count; i++) {
        char *device_json = NULL, *server_json = central_fields_json(central, edited.ids[i]);
        CHECK_OK(dala_record_get_json(&device_json, u.late, edited.ids[i]));
        CHECK(server_json && device_json && json_objects_equal(mem, device_json, "$.fields", server_json, "$") == 1);
        char *date = device_json ? json_get(device_json, "$.fields.visit_date") : NULL;
        CHECK(date != NULL);
        free(date);
        free(server_json);
        dala_free(device_json);
    }
    sqlite3_close(mem);
    sqlite3_close(central);
    CHECK_EQ_INT(sdk_wanted_count(path), 0);
    set_free(&held);
done:
    set_free(&edited);
    busy_unit_close(&u);
}

/* One sealed request posted by several threads at once. */
typedef struct poster {
    harness *h;
    const dala_buf *frame;
    int status;
    dala_buf answer;
} poster;

static void *post_copy(void *context)
{
    poster *p = context;
    if (harness_post(p->h, "/v1/sync", "application/octet-stream", p->frame->data, p->frame->len, &p->status,
                     &p->answer))
        p->status = -1;
    return NULL;
}

/* Seals batch `seq` of one new field visit (record id filled with `seed`)
 * as a HELLO of `dev`. */
static void seal_visit_batch(dala_buf *frame, const raw_device *dev, uint64_t seq, uint8_t seed)
{
    static const char *date = "2026-11-20";
    dala_field fields[3] = {
        {"visit_date", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)date, 10}, 0},
        {"risk_level", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"low", 3}, 0},
        {"purpose", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"preventive_visit", 16}, 0},
    };
    dala_change change = {"field_visit", {0}, DALA_HLC_MAKE(dala_wall_clock_ms(), seed), dev->id, 3, fields};
    memset(change.record_id, seed, sizeof change.record_id);
    dala_buf batch = DALA_BUF_INIT;
    dala_handshake *hs = NULL;
    CHECK_OK(dala_batch_encode(&batch, dala_schema_version(), seq, &change, 1));
    dala_sync_request request = {0, 100, 0, NULL, batch.data, batch.len, 0, NULL, 0};
    CHECK_OK(raw_seal_request(&hs, frame, dev, &request));
    dala_handshake_free(hs);
    dala_buf_free(&batch);
}

static long long device_batch(const harness *h, const raw_device *dev)
{
    return central_int(h, "SELECT last_batch_seq FROM device WHERE id = ?1", (int64_t)dev->id, 0);
}

/* A proxy that sends each request four times at once, and an old request
 * that arrives after a newer one was applied: each batch is applied once,
 * the server's record of the device's batches never goes back, and the
 * next batch is taken. */
static void test_pull_duplicated_and_late_requests_leave_numbers_agreeing(void)
{
    harness h;
    raw_device dev;
    char code[32];
    if (harness_start(&h, 0)) return;
    dala_buf frames[3] = {DALA_BUF_INIT, DALA_BUF_INIT, DALA_BUF_INIT};
    if (harness_code(&h, code, h.officer_a, h.unit_a) || raw_enroll(&dev, h.port, code)) {
        test_fail(__FILE__, __LINE__, "enrolment failed");
        goto done;
    }
    for (int b = 0; b < 3; b++) seal_visit_batch(&frames[b], &dev, (uint64_t)b + 1, (uint8_t)(b + 1));
    for (int b = 0; b < 2; b++) {
        poster posters[4];
        pthread_t threads[4];
        for (int t = 0; t < 4; t++) {
            posters[t] = (poster){&h, &frames[b], 0, DALA_BUF_INIT};
            CHECK_EQ_INT(pthread_create(&threads[t], NULL, post_copy, &posters[t]), 0);
        }
        for (int t = 0; t < 4; t++) {
            pthread_join(threads[t], NULL);
            CHECK_EQ_INT(posters[t].status, 200);
            dala_buf_free(&posters[t].answer);
        }
        CHECK_EQ_INT(device_batch(&h, &dev), b + 1);
    }
    long long next_seq = central_int(&h, "SELECT next_seq FROM org_unit WHERE id = ?1", h.unit_a, 0);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record", 0, 0), 2);
    CHECK_EQ_INT(next_seq, 3); /* two writes, two log positions */
    /* Batch 1 again, late: applies nothing, moves no number back. */
    int status = 0;
    dala_buf answer = DALA_BUF_INIT;
    CHECK_EQ_INT(harness_post(&h, "/v1/sync", "application/octet-stream", frames[0].data, frames[0].len, &status,
                              &answer), 0);
    CHECK_EQ_INT(status, 200);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record", 0, 0), 2);
    CHECK_EQ_INT(central_int(&h, "SELECT next_seq FROM org_unit WHERE id = ?1", h.unit_a, 0), next_seq);
    CHECK_EQ_INT(device_batch(&h, &dev), 2);
    /* Batch 3 is taken. */
    dala_buf_reset(&answer);
    CHECK_EQ_INT(harness_post(&h, "/v1/sync", "application/octet-stream", frames[2].data, frames[2].len, &status,
                              &answer), 0);
    CHECK_EQ_INT(status, 200);
    CHECK_EQ_INT(device_batch(&h, &dev), 3);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record", 0, 0), 3);
    dala_buf_free(&answer);
done:
    for (int b = 0; b < 3; b++) dala_buf_free(&frames[b]);
    harness_stop(&h);
}

/* Seals batch `seq` of `dev`: one change of record `seed` (its id filled
 * with that byte) setting risk_level to `risk` at `hlc` on `base`, with the
 * visit's other required fields when `base` is 0 (its creation). */
static void seal_risk_batch(dala_buf *frame, const raw_device *dev, uint64_t seq, uint8_t seed, const char *risk,
                            uint64_t hlc, uint64_t base)
{
    static const char *date = "2026-11-20";
    dala_field fields[3] = {
        {"risk_level", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)risk, strlen(risk)}, base},
        {"visit_date", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)date, 10}, 0},
        {"purpose", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"preventive_visit", 16}, 0},
    };
    dala_change change = {"field_visit", {0}, hlc, dev->id, base ? 1 : 3, fields};
    memset(change.record_id, seed, sizeof change.record_id);
    dala_buf batch = DALA_BUF_INIT;
    dala_handshake *hs = NULL;
    CHECK_OK(dala_batch_encode(&batch, dala_schema_version(), seq, &change, 1));
    dala_sync_request request = {0, 100, 0, NULL, batch.data, batch.len, 0, NULL, 0};
    CHECK_OK(raw_seal_request(&hs, frame, dev, &request));
    dala_handshake_free(hs);
    dala_buf_free(&batch);
}

static int post_sync(harness *h, const dala_buf *frame)
{
    int status = 0;
    dala_buf answer = DALA_BUF_INIT;
    if (harness_post(h, "/v1/sync", "application/octet-stream", frame->data, frame->len, &status, &answer))
        status = -1;
    dala_buf_free(&answer);
    return status;
}

/* Old batches merged again after later writes (a duplicating proxy, a
 * replay): no conflict is kept twice, and none at all for a change that
 * is history (its device wrote the field again, or it was once the
 * record's value). One true conflict stays one. */
static void test_pull_old_batches_merged_again_keep_no_new_conflict(void)
{
    harness h;
    raw_device a, b;
    char code[32];
    if (harness_start(&h, 0)) return;
    dala_buf a1 = DALA_BUF_INIT, a2 = DALA_BUF_INIT, a3 = DALA_BUF_INIT, b1 = DALA_BUF_INIT, b2 = DALA_BUF_INIT;
    if (harness_code(&h, code, h.officer_a, h.unit_a) || raw_enroll(&a, h.port, code) ||
        harness_code(&h, code, h.officer_a2, h.unit_a) || raw_enroll(&b, h.port, code)) {
        test_fail(__FILE__, __LINE__, "enrolment failed");
        goto done;
    }
    uint64_t ms = dala_wall_clock_ms();
    uint64_t h1 = DALA_HLC_MAKE(ms, 1), h2 = DALA_HLC_MAKE(ms, 2), h3 = DALA_HLC_MAKE(ms, 3),
             h4 = DALA_HLC_MAKE(ms, 4), h5 = DALA_HLC_MAKE(ms, 5);
    seal_risk_batch(&a1, &a, 1, 9, "low", h1, 0);    /* A creates the visit */
    seal_risk_batch(&b1, &b, 1, 9, "medium", h2, h1); /* B edits on top of it */
    seal_risk_batch(&a2, &a, 2, 9, "high", h3, h1);  /* A edits concurrently: a true conflict */
    seal_risk_batch(&a3, &a, 3, 9, "low", h4, h3);   /* A again, on its own */
    seal_risk_batch(&b2, &b, 2, 9, "medium", h5, h4); /* B on top of A's last */
    const char *conflicts = "SELECT count(*) FROM record WHERE tbl = 'conflict'";
    CHECK_EQ_INT(post_sync(&h, &a1), 200);
    CHECK_EQ_INT(post_sync(&h, &b1), 200);
    CHECK_EQ_INT(post_sync(&h, &a2), 200);
    CHECK_EQ_INT(central_int(&h, conflicts, 0, 0), 1);
    /* A's creation again (its device wrote the field since), B's losing
     * edit again (kept already): nothing new. */
    CHECK_EQ_INT(post_sync(&h, &a1), 200);
    CHECK_EQ_INT(post_sync(&h, &b1), 200);
    CHECK_EQ_INT(central_int(&h, conflicts, 0, 0), 1);
    CHECK_EQ_INT(post_sync(&h, &a3), 200);
    CHECK_EQ_INT(post_sync(&h, &b2), 200);
    /* A's last edit again, now under B's: it was the record's value once. */
    CHECK_EQ_INT(post_sync(&h, &a3), 200);
    CHECK_EQ_INT(post_sync(&h, &a2), 200);
    CHECK_EQ_INT(post_sync(&h, &b1), 200);
    CHECK_EQ_INT(central_int(&h, conflicts, 0, 0), 1);
    char id[DALA_ID_TEXT_BYTES];
    uint8_t raw_id[DALA_UUID_BYTES];
    memset(raw_id, 9, sizeof raw_id);
    dala_uuid_format(id, raw_id);
    char *risk = central_field(&h, id, "risk_level");
    CHECK_EQ_STR(risk, "medium");
    free(risk);
done:
    dala_buf_free(&a1);
    dala_buf_free(&a2);
    dala_buf_free(&a3);
    dala_buf_free(&b1);
    dala_buf_free(&b2);
    harness_stop(&h);
}

const dala_test pull_whole_tests[] = {
    {"pull_new_tablet_of_a_busy_unit_gets_edited_records_whole",
     test_pull_new_tablet_of_a_busy_unit_gets_edited_records_whole},
    {"pull_edits_during_a_catch_up_arrive_whole", test_pull_edits_during_a_catch_up_arrive_whole},
    {"pull_record_met_in_part_is_fetched_whole", test_pull_record_met_in_part_is_fetched_whole},
    {"pull_duplicated_and_late_requests_leave_numbers_agreeing",
     test_pull_duplicated_and_late_requests_leave_numbers_agreeing},
    {"pull_old_batches_merged_again_keep_no_new_conflict", test_pull_old_batches_merged_again_keep_no_new_conflict},
    {NULL, NULL},
};
