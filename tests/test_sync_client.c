/* test_sync_client.c - suite "sync_client": dala_sync against the fake
 * server of sdk_harness.c, which speaks the real sealed protocol. Batches
 * and their numbering, a resend after a lost answer, refusals that do not
 * block the queue, paged pulls with cursors, pending local fields kept,
 * server epoch changes, conflicts, HTTP errors mapped to clear codes, and
 * a pull that fails half way leaving nothing applied. */
#include "testhelp.h"

#include "sdk_harness.h"

#include <stdio.h>
#include <stdlib.h>

/* The fields a new field visit needs. */
#define VISIT "\"visit_date\": \"2024-01-15\", \"purpose\": \"preventive_visit\", \"risk_level\": \"low\""


typedef struct fixture {
    fake_server server;
    dala_store *store;
    char path[600];
    dala_sync_options options;
} fixture;

static void setup(fixture *f)
{
    const char *dir = test_tmpdir();
    fake_server_init(&f->server);
    snprintf(f->path, sizeof f->path, "%s", sdk_path(dir, "dala.db"));
    CHECK_OK(sdk_open_enrolled(&f->store, &f->server, dir));
    dala_sync_options defaults = DALA_SYNC_OPTIONS_INIT;
    f->options = defaults;
    f->options.transport = &f->server.transport;
}

static void teardown(fixture *f)
{
    dala_store_close(f->store);
    fake_server_free(&f->server);
}

static dala_status status_of(dala_store *store)
{
    dala_status status;
    memset(&status, 0, sizeof status);
    CHECK_OK(dala_store_status(&status, store));
    return status;
}

static void put_n(dala_store *store, int n)
{
    for (int i = 0; i < n; i++) {
        char json[128];
        snprintf(json, sizeof json, "{" VISIT ", \"children_count\": %d}", i);
        CHECK_OK(dala_record_put(NULL, store, "field_visit", NULL, json));
    }
}

/* A change another device (99) wrote, for the fake's log. */
static int add_other_change(fake_server *server, const char *record_id, const char *table,
                            uint64_t hlc, const char *field, int64_t value)
{
    dala_field fields[1] = {{field, {DALA_VALUE_INT, value, 0, NULL, 0}, 0}};
    dala_change change = {table, {0}, hlc, 99, 1, fields};
    dala_uuid_parse(change.record_id, record_id);
    return fake_server_add_change(server, &change);
}

static void test_sync_pushes_and_acknowledges(void)
{
    fixture f;
    setup(&f);
    put_n(f.store, 3);
    dala_sync_stats stats;
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(stats.pushed, 3);
    CHECK_EQ_U64(stats.acked, 3);
    CHECK_EQ_U64(stats.rejected, 0);
    CHECK_EQ_U64(stats.pulled, 3); /* the fake echoes the device's own changes */
    CHECK_EQ_U64(stats.round_trips, 1);
    CHECK(stats.bytes_sent > 0 && stats.bytes_received > 0);
    CHECK_EQ_U64(f.server.seen_batch_seq, 1);
    CHECK_EQ_INT(f.server.seen_change_count, 3);
    dala_status status = status_of(f.store);
    CHECK_EQ_U64(status.pending_changes, 0);
    CHECK(status.last_sync_ms > 0);
    CHECK_EQ_INT(sdk_sql(f.path, "SELECT count(*) FROM outbox"), 0);
    CHECK_EQ_INT(sdk_sql(f.path, "SELECT seq FROM pull_cursor WHERE unit_id = 3"), 3);
    /* Synced records carry their unit-log position. */
    char id[DALA_ID_TEXT_BYTES];
    CHECK_OK(dala_record_put(id, f.store, "field_visit", NULL, "{" VISIT "}"));
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    char *json = NULL;
    CHECK_OK(dala_record_get_json(&json, f.store, id));
    CHECK_CONTAINS(json, "\"state\":\"synced\"");
    CHECK_CONTAINS(json, "\"seq\":4");
    dala_free(json);
    CHECK_EQ_U64(f.server.seen_batch_seq, 2);
    /* Nothing to do: one round trip with an empty push. */
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(stats.round_trips, 1);
    CHECK_EQ_U64(stats.pushed, 0);
    CHECK_EQ_U64(f.server.seen_batch_seq, 0);
    teardown(&f);
}

static void test_sync_splits_the_queue_into_numbered_batches(void)
{
    fixture f;
    setup(&f);
    put_n(f.store, 5);
    f.options.max_push_changes = 2;
    f.server.echo_own_changes = 0;
    dala_sync_stats stats;
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(stats.round_trips, 3);
    CHECK_EQ_U64(stats.acked, 5);
    CHECK_EQ_INT(f.server.batches_applied, 3);
    CHECK_EQ_U64(f.server.last_batch_seq, 3);
    CHECK_EQ_INT(sdk_sql(f.path, "SELECT value FROM meta WHERE key = 'last_batch_seq'"), 3);
    teardown(&f);
}

/* The server applied a batch but its answer was lost: the device sends
 * the very same batch (number and bytes) again, and it is not applied
 * twice; changes written meanwhile go in the next batch. */
static void test_sync_resends_the_same_batch_after_a_lost_answer(void)
{
    fixture f;
    setup(&f);
    put_n(f.store, 3);
    f.server.lose_answer = 1;
    dala_sync_stats stats;
    CHECK_EQ_INT(dala_sync(&stats, f.store, &f.options), DALA_EIO);
    CHECK_CONTAINS(dala_errmsg(), "sync: cannot reach fake:0: answer lost");
    CHECK_EQ_INT(f.server.batches_applied, 1);
    CHECK_EQ_U64(status_of(f.store).pending_changes, 3);
    dala_buf first = DALA_BUF_INIT;
    dala_buf_append(&first, f.server.seen_push.data, f.server.seen_push.len);

    put_n(f.store, 1); /* written while offline again */
    f.options.max_push_changes = 10;
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(stats.round_trips, 2);
    CHECK_EQ_INT(f.server.batches_applied, 2);
    CHECK_EQ_U64(f.server.last_batch_seq, 2);
    CHECK_EQ_U64(stats.acked, 4);
    CHECK_EQ_U64(status_of(f.store).pending_changes, 0);
    CHECK_EQ_INT(f.server.log_count, 4); /* not 7: batch 1 applied once */
    dala_buf_free(&first);

    /* A request lost before the server saw it: same outcome, nothing lost. */
    put_n(f.store, 2);
    f.server.lose_request = 1;
    CHECK_EQ_INT(dala_sync(&stats, f.store, &f.options), DALA_EIO);
    CHECK_EQ_U64(status_of(f.store).pending_changes, 2);
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(f.server.last_batch_seq, 3);
    CHECK_EQ_INT(f.server.log_count, 6);
    teardown(&f);
}

/* The batch content is fixed when it is numbered: a resend is byte-equal. */
static void test_sync_resend_is_byte_identical(void)
{
    fixture f;
    setup(&f);
    put_n(f.store, 2);
    f.server.lose_request = 1;
    CHECK_EQ_INT(dala_sync(NULL, f.store, &f.options), DALA_EIO);
    f.server.lose_answer = 1;
    CHECK_EQ_INT(dala_sync(NULL, f.store, &f.options), DALA_EIO);
    dala_buf first = DALA_BUF_INIT;
    dala_buf_append(&first, f.server.seen_push.data, f.server.seen_push.len);
    put_n(f.store, 1);
    f.server.http_status = 503;
    CHECK_EQ_INT(dala_sync(NULL, f.store, &f.options), DALA_EIO);
    CHECK_CONTAINS(dala_errmsg(), "shutting down");
    f.server.http_status = 0;
    f.options.max_pull_changes = 1;
    /* The next request repeats batch 1 exactly. */
    f.server.lose_answer = 1;
    CHECK_EQ_INT(dala_sync(NULL, f.store, &f.options), DALA_EIO);
    CHECK_EQ_U64(f.server.seen_batch_seq, 1);
    CHECK_EQ_INT(f.server.seen_push.len, first.len);
    CHECK(f.server.seen_push.len == first.len &&
          memcmp(f.server.seen_push.data, first.data, first.len) == 0);
    dala_buf_free(&first);
    CHECK_OK(dala_sync(NULL, f.store, &f.options));
    CHECK_EQ_U64(status_of(f.store).pending_changes, 0);
    CHECK_EQ_INT(f.server.log_count, 3);
    teardown(&f);
}

typedef struct refusals {
    int count;
    int64_t first_id;
    char reason[64];
    int code;
} refusals;

static int collect_refusal(void *context, const dala_rejection *rejection)
{
    refusals *r = context;
    if (r->count++ == 0) {
        r->first_id = rejection->outbox_id;
        r->code = rejection->code;
        snprintf(r->reason, sizeof r->reason, "%s", rejection->reason);
    }
    return 0;
}

static void test_sync_refusals_do_not_block_the_rest(void)
{
    fixture f;
    setup(&f);
    char ids[3][DALA_ID_TEXT_BYTES];
    for (int i = 0; i < 3; i++) CHECK_OK(dala_record_put(ids[i], f.store, "field_visit", NULL, "{" VISIT "}"));
    f.server.refuse_index[0] = 1;
    f.server.refuse_count = 1;
    dala_sync_stats stats;
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(stats.acked, 3);
    CHECK_EQ_U64(stats.rejected, 1);
    dala_status status = status_of(f.store);
    CHECK_EQ_U64(status.pending_changes, 0);
    CHECK_EQ_U64(status.rejected_changes, 1);
    refusals r = {0};
    CHECK_OK(dala_rejection_list(f.store, collect_refusal, &r));
    CHECK_EQ_INT(r.count, 1);
    CHECK_EQ_STR(r.reason, "refused by the test");
    CHECK_EQ_INT(r.code, DALA_EINVAL);
    char *json = NULL;
    CHECK_OK(dala_record_get_json(&json, f.store, ids[1]));
    CHECK_CONTAINS(json, "\"state\":\"rejected\"");
    dala_free(json);
    CHECK_OK(dala_record_get_json(&json, f.store, ids[2]));
    CHECK_CONTAINS(json, "\"state\":\"synced\"");
    dala_free(json);
    /* Later changes still flow; the refusal stays until dismissed. */
    put_n(f.store, 1);
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(stats.acked, 1);
    CHECK_OK(dala_rejection_dismiss(f.store, r.first_id));
    CHECK_EQ_INT(dala_rejection_dismiss(f.store, r.first_id), DALA_ENOTFOUND);
    CHECK_EQ_U64(status_of(f.store).rejected_changes, 0);
    teardown(&f);
}

static void test_sync_pulls_in_pages_and_keeps_cursors(void)
{
    fixture f;
    setup(&f);
    uint64_t base = DALA_HLC_MAKE(dala_wall_clock_ms() - 60000, 0);
    for (int i = 0; i < 5; i++) {
        char id[DALA_ID_TEXT_BYTES] = "0190f1c2-0000-7000-8000-000000000000";
        id[35] = (char)('0' + i);
        CHECK_OK(add_other_change(&f.server, id, "field_visit", base + (uint64_t)i, "children_count", i));
    }
    f.options.max_pull_changes = 2;
    dala_sync_stats stats;
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(stats.round_trips, 3);
    CHECK_EQ_U64(stats.pulled, 5);
    CHECK_EQ_U64(status_of(f.store).record_count, 5);
    CHECK_EQ_INT(sdk_sql(f.path, "SELECT seq FROM pull_cursor WHERE unit_id = 3"), 5);
    CHECK_EQ_INT(sdk_sql(f.path, "SELECT count(*) FROM record WHERE unit_id = 3"), 5);
    char *json = NULL;
    CHECK_OK(dala_record_get_json(&json, f.store, "0190f1c2-0000-7000-8000-000000000004"));
    CHECK_CONTAINS(json, "\"fields\":{\"children_count\":4}");
    CHECK_CONTAINS(json, "\"device_id\":99,\"seq\":5");
    CHECK_CONTAINS(json, "\"state\":\"synced\"");
    dala_free(json);
    /* The next sync asks from the cursor and pulls nothing again. */
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(f.server.seen_cursor_seq, 5);
    CHECK_EQ_U64(stats.pulled, 0);
    /* A local edit of a pulled record is based on the pulled version. */
    CHECK_OK(dala_record_put(NULL, f.store, "field_visit", "0190f1c2-0000-7000-8000-000000000004",
                             "{\"children_count\": 40}"));
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(stats.acked, 1);
    teardown(&f);
}

/* A pulled value does not overwrite a field whose local change is still
 * waiting to be pushed; other fields of the record are taken. */
static void test_sync_keeps_pending_local_fields(void)
{
    fixture f;
    setup(&f);
    const char *id = "0190f1c2-1111-7000-8000-000000000001";
    f.server.echo_own_changes = 0;
    CHECK_OK(dala_record_put(NULL, f.store, "field_visit", NULL, "{" VISIT "}"));
    CHECK_OK(dala_record_put(NULL, f.store, "field_visit", id, "{" VISIT ", \"children_count\": 1}"));
    /* Another device wrote a and b later (by its clock). */
    uint64_t later = DALA_HLC_MAKE(dala_wall_clock_ms() + 1000, 0);
    dala_field fields[2] = {{"children_count", {DALA_VALUE_INT, 2, 0, NULL, 0}, 0},
                            {"victim_count", {DALA_VALUE_INT, 3, 0, NULL, 0}, 0}};
    dala_change change = {"field_visit", {0}, later, 99, 2, fields};
    dala_uuid_parse(change.record_id, id);
    CHECK_OK(fake_server_add_change(&f.server, &change));
    /* One change per batch: the first round trip pulls while a's change waits. */
    f.options.max_push_changes = 1;
    f.options.max_round_trips = 1;
    CHECK_EQ_INT(dala_sync(NULL, f.store, &f.options), DALA_ELIMIT);
    char *json = NULL;
    CHECK_OK(dala_record_get_json(&json, f.store, id));
    CHECK_CONTAINS(json, "\"children_count\":1,");
    CHECK_CONTAINS(json, "\"victim_count\":3,");
    CHECK_CONTAINS(json, "\"state\":\"pending\"");
    dala_free(json);
    teardown(&f);
}

/* An older pulled version than the one held is not taken. */
static void test_sync_ignores_older_pulled_versions(void)
{
    fixture f;
    setup(&f);
    char id[DALA_ID_TEXT_BYTES];
    f.server.echo_own_changes = 0;
    CHECK_OK(dala_record_put(id, f.store, "field_visit", NULL, "{" VISIT ", \"children_count\": 1}"));
    CHECK_OK(dala_sync(NULL, f.store, &f.options));
    CHECK_OK(add_other_change(&f.server, id, "field_visit", DALA_HLC_MAKE(1000, 0), "children_count", 7));
    CHECK_OK(dala_sync(NULL, f.store, &f.options));
    char *json = NULL;
    CHECK_OK(dala_record_get_json(&json, f.store, id));
    CHECK_CONTAINS(json, "\"children_count\":1,");
    dala_free(json);
    teardown(&f);
}

static void test_sync_new_server_epoch_pulls_afresh_and_offers_own_versions_again(void)
{
    fixture f;
    setup(&f);
    put_n(f.store, 2);
    CHECK_OK(dala_sync(NULL, f.store, &f.options));
    CHECK_EQ_INT(sdk_sql(f.path, "SELECT seq FROM pull_cursor WHERE unit_id = 3"), 2);
    f.server.server_epoch = 777; /* the server was restored */
    dala_sync_stats stats;
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(stats.round_trips, 2);
    CHECK_EQ_U64(f.server.seen_cursor_count, 0); /* the second asked without cursors */
    CHECK_EQ_U64(f.server.seen_server_epoch, 777);
    /* It pulled afresh, and offered its own 2 records again, in case the
     * restore lost them (this fake server echoes them back: 2 + 2). */
    CHECK_EQ_U64(stats.pushed, 2);
    CHECK_EQ_U64(stats.pulled, 4);
    CHECK_EQ_INT(sdk_sql(f.path, "SELECT value FROM meta WHERE key = 'server_epoch'"), 777);
    teardown(&f);
}

typedef struct conflicts {
    int count;
    char field[32];
    char loser_value[64];
    char status[16];
    uint64_t winner_device, loser_device;
} conflicts;

static int collect_conflict(void *context, const dala_conflict *conflict)
{
    conflicts *c = context;
    c->count++;
    snprintf(c->field, sizeof c->field, "%s", conflict->field);
    snprintf(c->loser_value, sizeof c->loser_value, "%s", conflict->loser_value_json);
    snprintf(c->status, sizeof c->status, "%s", conflict->status);
    c->winner_device = conflict->winner_device;
    c->loser_device = conflict->loser_device;
    return 0;
}

static void test_sync_brings_the_conflict_log(void)
{
    fixture f;
    setup(&f);
    uint64_t hlc = DALA_HLC_MAKE(dala_wall_clock_ms(), 0);
    const char *loser = "Абай к-сі 12";
    dala_field fields[] = {
        {"field", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"address", 7}, 0},
        {"loser_device", {DALA_VALUE_INT, FAKE_DEVICE_ID, 0, NULL, 0}, 0},
        {"loser_hlc", {DALA_VALUE_INT, 1000, 0, NULL, 0}, 0},
        {"loser_value", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)loser, strlen(loser)}, 0},
        {"record_id", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"0190f1c2-0000-7000-8000-000000000009", 36}, 0},
        {"record_table", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"field_visit", 11}, 0},
        {"status", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"open", 4}, 0},
        {"winner_device", {DALA_VALUE_INT, 99, 0, NULL, 0}, 0},
        {"winner_hlc", {DALA_VALUE_INT, 2000, 0, NULL, 0}, 0},
    };
    dala_change change = {"conflict", {0}, hlc, 0, sizeof fields / sizeof fields[0], fields};
    dala_uuid_parse(change.record_id, "0190f1c2-cccc-7000-8000-000000000001");
    CHECK_OK(fake_server_add_change(&f.server, &change));
    CHECK_OK(dala_sync(NULL, f.store, &f.options));
    CHECK_EQ_U64(status_of(f.store).conflict_count, 1);
    conflicts c = {0};
    CHECK_OK(dala_conflict_list(f.store, collect_conflict, &c));
    CHECK_EQ_INT(c.count, 1);
    CHECK_EQ_STR(c.field, "address");
    CHECK_EQ_STR(c.loser_value, "\"Абай к-сі 12\"");
    CHECK_EQ_STR(c.status, "open");
    CHECK_EQ_U64(c.winner_device, 99);
    CHECK_EQ_U64(c.loser_device, FAKE_DEVICE_ID);
    /* Conflict records are the server's: a device cannot write or void them. */
    CHECK_EQ_INT(dala_record_void(f.store, "0190f1c2-cccc-7000-8000-000000000001", "x"), DALA_EINVAL);
    teardown(&f);
}

static void test_sync_maps_http_refusals(void)
{
    static const struct {
        int status, code;
        const char *message;
    } cases[] = {
        {401, DALA_EAUTH, "sync: device revoked or unknown (HTTP 401"},
        {403, DALA_EAUTH, "device revoked or unknown (HTTP 403: refused by the test)"},
        {507, DALA_ENOSPACE, "the changes stay on this tablet"},
        {413, DALA_ELIMIT, "too large"},
        {426, DALA_ESCHEMA, "update the app"},
        {400, DALA_ECORRUPT, "refused the request"},
        {500, DALA_EIO, "http://fake.test:8080 answered HTTP 500"},
    };
    fixture f;
    setup(&f);
    put_n(f.store, 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.server.http_status = cases[i].status;
        CHECK_EQ_INT(dala_sync(NULL, f.store, &f.options), cases[i].code);
        CHECK_CONTAINS(dala_errmsg(), cases[i].message);
    }
    CHECK_EQ_U64(status_of(f.store).pending_changes, 1);
    f.server.http_status = 0;
    f.server.corrupt_reply = 1;
    CHECK_EQ_INT(dala_sync(NULL, f.store, &f.options), DALA_EAUTH);
    CHECK_CONTAINS(dala_errmsg(), "does not open with its enrolled key");
    CHECK_EQ_U64(status_of(f.store).pending_changes, 1); /* applied by the server, not acked here */
    f.server.corrupt_reply = 0;
    CHECK_OK(dala_sync(NULL, f.store, &f.options));
    CHECK_EQ_INT(f.server.log_count, 1);
    teardown(&f);
}

/* A server whose database is busy answers 503 EBUSY: the device tries
 * the same round trip again after a pause, and the batch is applied once. */
static void test_sync_retries_a_busy_server_with_backoff(void)
{
    fixture f;
    setup(&f);
    put_n(f.store, 3);
    f.server.busy_answers = 2;
    dala_sync_stats stats;
    uint64_t started = dala_wall_clock_ms();
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK(dala_wall_clock_ms() - started >= 700); /* 0.25 s, then 0.5 s */
    CHECK_EQ_U64(stats.busy_retries, 2);
    CHECK_EQ_U64(stats.acked, 3);
    CHECK_EQ_U64(f.server.batches_applied, 1);
    CHECK_EQ_U64(status_of(f.store).pending_changes, 0);
    /* Busy for longer than the retries: a clear error, nothing lost. */
    put_n(f.store, 1);
    f.server.busy_answers = 100;
    CHECK_EQ_INT(dala_sync(&stats, f.store, &f.options), DALA_EBUSY);
    CHECK_CONTAINS(dala_errmsg(), "busy");
    CHECK_EQ_U64(stats.busy_retries, 5);
    CHECK_EQ_U64(status_of(f.store).pending_changes, 1);
    f.server.busy_answers = 0;
    CHECK_OK(dala_sync(NULL, f.store, &f.options));
    CHECK_EQ_U64(status_of(f.store).pending_changes, 0);
    teardown(&f);
}

static void test_sync_unreachable_server_names_host_and_port(void)
{
    fixture f;
    setup(&f);
    CHECK_EQ_INT(sdk_sql(f.path, "UPDATE meta SET value = 'http://127.0.0.1:9' WHERE key = 'server_url'"), 0);
    f.options.transport = NULL; /* the built-in one */
    f.options.timeout_ms = 2000;
    dala_sync_stats stats;
    CHECK_EQ_INT(dala_sync(&stats, f.store, &f.options), DALA_EIO);
    CHECK_EQ_STR(dala_errmsg(), "sync: cannot reach 127.0.0.1:9: connection refused");
    CHECK_EQ_U64(stats.round_trips, 0);
    teardown(&f);
}

static void test_sync_needs_enrolment_and_good_options(void)
{
    dala_store *store = NULL;
    CHECK_OK(dala_store_open(&store, sdk_path(test_tmpdir(), "dala.db")));
    CHECK_EQ_INT(dala_sync(NULL, store, NULL), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "sync: store is not enrolled");
    dala_sync_options options = DALA_SYNC_OPTIONS_INIT;
    options.version = 99;
    CHECK_EQ_INT(dala_sync(NULL, store, &options), DALA_EINVAL);
    CHECK_EQ_INT(dala_sync(NULL, NULL, NULL), DALA_EINVAL);
    dala_store_close(store);
}

/* A page that fails half way is not applied at all, and its cursor does
 * not move; the next sync applies it whole. */
static void test_sync_failed_page_applies_nothing(void)
{
    fixture f;
    setup(&f);
    uint64_t hlc = DALA_HLC_MAKE(dala_wall_clock_ms() - 1000, 0);
    CHECK_OK(add_other_change(&f.server, "0190f1c2-0000-7000-8000-000000000001", "field_visit", hlc, "children_count", 1));
    CHECK_OK(add_other_change(&f.server, "0190f1c2-0000-7000-8000-000000000002", "field_visit", hlc + 1, "children_count", 2));
    CHECK_EQ_INT(sdk_sql(f.path, "CREATE TRIGGER fail_second BEFORE INSERT ON record "
                                     "WHEN NEW.id LIKE '%0002' BEGIN SELECT RAISE(ABORT, 'injected'); END"), 0);
    CHECK(dala_sync(NULL, f.store, &f.options) != DALA_OK);
    CHECK_EQ_INT(sdk_sql(f.path, "SELECT count(*) FROM record"), 0);
    CHECK_EQ_INT(sdk_sql(f.path, "SELECT count(*) FROM pull_cursor"), 0);
    CHECK_EQ_INT(sdk_sql(f.path, "DROP TRIGGER fail_second"), 0);
    dala_sync_stats stats;
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(stats.pulled, 2);
    CHECK_EQ_INT(sdk_sql(f.path, "SELECT count(*) FROM record"), 2);
    teardown(&f);
}

typedef struct progress_log {
    int calls;
    uint64_t last_push_done, last_push_total;
    int saw_done;
} progress_log;

static void on_progress(void *context, dala_sync_phase phase, uint64_t done, uint64_t total)
{
    progress_log *log = context;
    log->calls++;
    if (phase == DALA_SYNC_PUSH) {
        log->last_push_done = done;
        log->last_push_total = total;
    }
    if (phase == DALA_SYNC_DONE) log->saw_done = 1;
}

static void test_sync_reports_progress(void)
{
    fixture f;
    setup(&f);
    put_n(f.store, 4);
    progress_log log = {0};
    f.options.progress = on_progress;
    f.options.progress_context = &log;
    f.options.max_push_changes = 2;
    CHECK_OK(dala_sync(NULL, f.store, &f.options));
    CHECK_EQ_U64(log.last_push_done, 4);
    CHECK_EQ_U64(log.last_push_total, 4);
    CHECK_EQ_INT(log.saw_done, 1);
    teardown(&f);
}

/* After a handshake, the next round trips (and syncs on the same handle)
 * travel as DATA frames; a server that forgot the session makes the
 * device handshake again, and nothing is lost on the way. */
static void test_sync_reuses_the_session_and_recovers_it(void)
{
    fixture f;
    setup(&f);
    put_n(f.store, 5);
    f.options.max_push_changes = 2;
    dala_sync_stats stats;
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(stats.round_trips, 3);
    CHECK_EQ_INT(f.server.hello_requests, 1);
    CHECK_EQ_INT(f.server.data_requests, 2);
    put_n(f.store, 1);
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_INT(f.server.hello_requests, 1);
    CHECK_EQ_INT(f.server.data_requests, 3);
    /* The server restarted: ESESSION, then a handshake in the same sync. */
    put_n(f.store, 1);
    f.server.forget_session = 1;
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_U64(stats.round_trips, 2);
    CHECK_EQ_U64(stats.acked, 1);
    CHECK_EQ_INT(f.server.hello_requests, 2);
    CHECK_EQ_INT(f.server.data_requests, 4);
    CHECK_EQ_INT(f.server.batches_applied, 5);
    CHECK_EQ_U64(status_of(f.store).pending_changes, 0);
    /* A reply that does not open costs the session: the next sync handshakes. */
    f.server.corrupt_reply = 1;
    CHECK_EQ_INT(dala_sync(NULL, f.store, &f.options), DALA_EAUTH);
    CHECK_CONTAINS(dala_errmsg(), "does not open with the session's key");
    f.server.corrupt_reply = 0;
    CHECK_OK(dala_sync(&stats, f.store, &f.options));
    CHECK_EQ_INT(f.server.hello_requests, 3);
    /* Another handle on the same file starts with a handshake of its own. */
    dala_store *other = NULL;
    CHECK_OK(dala_store_open(&other, f.path));
    CHECK_OK(dala_sync(NULL, other, &f.options));
    CHECK_EQ_INT(f.server.hello_requests, 4);
    dala_store_close(other);
    teardown(&f);
}

const dala_test sync_client_tests[] = {
    {"sync_reuses_the_session_and_recovers_it", test_sync_reuses_the_session_and_recovers_it},
    {"sync_pushes_and_acknowledges", test_sync_pushes_and_acknowledges},
    {"sync_splits_the_queue_into_numbered_batches", test_sync_splits_the_queue_into_numbered_batches},
    {"sync_resends_the_same_batch_after_a_lost_answer", test_sync_resends_the_same_batch_after_a_lost_answer},
    {"sync_resend_is_byte_identical", test_sync_resend_is_byte_identical},
    {"sync_refusals_do_not_block_the_rest", test_sync_refusals_do_not_block_the_rest},
    {"sync_pulls_in_pages_and_keeps_cursors", test_sync_pulls_in_pages_and_keeps_cursors},
    {"sync_keeps_pending_local_fields", test_sync_keeps_pending_local_fields},
    {"sync_ignores_older_pulled_versions", test_sync_ignores_older_pulled_versions},
    {"sync_new_server_epoch_pulls_afresh_and_offers_own_versions_again", test_sync_new_server_epoch_pulls_afresh_and_offers_own_versions_again},
    {"sync_brings_the_conflict_log", test_sync_brings_the_conflict_log},
    {"sync_maps_http_refusals", test_sync_maps_http_refusals},
    {"sync_retries_a_busy_server_with_backoff", test_sync_retries_a_busy_server_with_backoff},
    {"sync_unreachable_server_names_host_and_port", test_sync_unreachable_server_names_host_and_port},
    {"sync_needs_enrolment_and_good_options", test_sync_needs_enrolment_and_good_options},
    {"sync_failed_page_applies_nothing", test_sync_failed_page_applies_nothing},
    {"sync_reports_progress", test_sync_reports_progress},
    {NULL, NULL},
};
