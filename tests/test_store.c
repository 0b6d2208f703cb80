/* test_store.c - suite "store": the local store of libdala. Opening and
 * migrating, enrolment (against the fake server of sdk_harness.c), record
 * writes with their outbox entry in one transaction, reads, listings,
 * voids, the persisted clock, and clear refusals of bad arguments. */
#include "testhelp.h"

#include "sdk_harness.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* --- helpers ------------------------------------------------------------------ */

/* The fields a new field visit needs. */
#define VISIT "\"visit_date\": \"2024-01-15\", \"purpose\": \"preventive_visit\", \"risk_level\": \"low\""

static uint64_t pending_of(dala_store *store)
{
    dala_status status;
    if (dala_store_status(&status, store) != DALA_OK) return UINT64_MAX;
    return status.pending_changes;
}

/* The change of the outbox entry `n` (1-based, in write order), decoded. */
static dala_batch *outbox_change(const char *db_path, int n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    dala_batch *batch = NULL;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT change FROM outbox ORDER BY id LIMIT 1 OFFSET %d", n - 1);
    if (sqlite3_open(db_path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        dala_batch_decode(&batch, sqlite3_column_blob(stmt, 0), (size_t)sqlite3_column_bytes(stmt, 0), 1);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return batch;
}

static const dala_field *find_field(const dala_change *change, const char *name)
{
    for (size_t i = 0; i < change->field_count; i++)
        if (strcmp(change->fields[i].name, name) == 0) return &change->fields[i];
    return NULL;
}

/* Whether `haystack` contains `needle`; prints both when not. */

/* --- open and migrate ----------------------------------------------------------- */

static void test_store_open_creates_private_migrated_file(void)
{
    const char *dir = test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s", sdk_path(dir, "dala.db"));
    dala_store *store = NULL;
    CHECK_OK(dala_store_open(&store, path));
    CHECK(store != NULL);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    dala_status status;
    CHECK_OK(dala_store_status(&status, store));
    CHECK_EQ_INT(status.is_enrolled, 0);
    CHECK_EQ_U64(status.record_count, 0);
    CHECK_EQ_STR(status.officer, "");
    dala_store_close(store);
    CHECK_EQ_INT(sdk_sql(path, "PRAGMA user_version"), 2);
    CHECK_EQ_INT(sdk_sql(path, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                   "('meta', 'record', 'outbox', 'pull_cursor')"), 4);
    /* Reopening applies nothing twice. */
    CHECK_OK(dala_store_open(&store, path));
    dala_store_close(store);
    CHECK_EQ_INT(sdk_sql(path, "PRAGMA user_version"), 2);
}

static void test_store_runs_in_wal_mode(void)
{
    const char *path = sdk_path(test_tmpdir(), "dala.db");
    dala_store *store = NULL;
    CHECK_OK(dala_store_open(&store, path));
    sqlite3 *db;
    sqlite3_stmt *stmt;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(stmt), SQLITE_ROW);
    CHECK_EQ_STR((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    dala_store_close(store);
}

static void test_store_open_refuses_newer_schema(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s", sdk_path(test_tmpdir(), "dala.db"));
    dala_store *store = NULL;
    CHECK_OK(dala_store_open(&store, path));
    dala_store_close(store);
    CHECK_EQ_INT(sdk_sql(path, "PRAGMA user_version = 999"), 0);
    CHECK_EQ_INT(dala_store_open(&store, path), DALA_ESCHEMA);
    CHECK(store == NULL);
    CHECK_CONTAINS(dala_errmsg(), "schema version 999 is newer than this build's 2");
}

static void test_store_open_refuses_non_database(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s", sdk_path(test_tmpdir(), "notes.txt"));
    FILE *file = fopen(path, "w");
    CHECK(file != NULL);
    for (int i = 0; file && i < 100; i++) fputs("this is not a database file at all\n", file);
    if (file) fclose(file);
    dala_store *store = (dala_store *)1;
    CHECK_EQ_INT(dala_store_open(&store, path), DALA_ECORRUPT);
    CHECK(store == NULL);
    CHECK_CONTAINS(dala_errmsg(), path);
}

static void test_store_open_bad_arguments(void)
{
    dala_store *store = (dala_store *)1;
    CHECK_EQ_INT(dala_store_open(NULL, "x.db"), DALA_EINVAL);
    CHECK_EQ_INT(dala_store_open(&store, NULL), DALA_EINVAL);
    CHECK(store == NULL);
    CHECK_EQ_INT(dala_store_open(&store, ""), DALA_EINVAL);
    CHECK_EQ_INT(dala_store_open(&store, "/nonexistent-dir/sub/dala.db"), DALA_EIO);
    CHECK_CONTAINS(dala_errmsg(), "/nonexistent-dir/sub/dala.db");
    dala_store_close(NULL); /* fine */
    dala_free(NULL);
}

/* --- enrolment ---------------------------------------------------------------- */

static void test_enroll_keeps_the_answer(void)
{
    fake_server server;
    fake_server_init(&server);
    dala_store *store = NULL;
    CHECK_OK(sdk_open_enrolled(&store, &server, test_tmpdir()));
    dala_status status;
    CHECK_OK(dala_store_status(&status, store));
    CHECK_EQ_INT(status.is_enrolled, 1);
    CHECK_EQ_U64(status.device_id, FAKE_DEVICE_ID);
    CHECK_EQ_U64(status.unit_id, FAKE_UNIT_ID);
    CHECK_EQ_STR(status.officer, "a.nurlanova");
    CHECK_EQ_STR(status.server_url, "http://fake.test:8080"); /* trailing slash dropped */
    CHECK_EQ_U64(status.last_sync_ms, 0);
    /* A second enrolment of the same store is refused. */
    dala_enroll_options options = DALA_ENROLL_OPTIONS_INIT;
    options.transport = &server.transport;
    CHECK_EQ_INT(dala_store_enroll(store, "http://fake.test:8080", FAKE_ENROLL_CODE, &options),
                 DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "already enrolled as device 12");
    dala_store_close(store);
    fake_server_free(&server);
}

static void test_enroll_refusals_are_clear(void)
{
    fake_server server;
    fake_server_init(&server);
    dala_store *store = NULL;
    CHECK_OK(dala_store_open(&store, sdk_path(test_tmpdir(), "dala.db")));
    dala_enroll_options options = DALA_ENROLL_OPTIONS_INIT;
    options.transport = &server.transport;
    CHECK_EQ_INT(dala_store_enroll(store, "http://fake.test", "WRONG-CODE", &options), DALA_EAUTH);
    CHECK_CONTAINS(dala_errmsg(), "enroll: the server refused the code");
    CHECK_EQ_INT(dala_store_enroll(store, "http://fake.test", "", &options), DALA_EINVAL);
    CHECK_EQ_INT(dala_store_enroll(store, "fake.test", FAKE_ENROLL_CODE, &options), DALA_EINVAL);
    CHECK_EQ_INT(dala_store_enroll(NULL, "http://fake.test", FAKE_ENROLL_CODE, &options), DALA_EINVAL);
    /* A key that differs from the one learnt out of band is refused. */
    options.expected_server_key = "00112233445566778899aabbccddeeff";
    CHECK_EQ_INT(dala_store_enroll(store, "http://fake.test", FAKE_ENROLL_CODE, &options), DALA_EAUTH);
    CHECK_CONTAINS(dala_errmsg(), "is not the expected");
    dala_status status;
    CHECK_OK(dala_store_status(&status, store));
    CHECK_EQ_INT(status.is_enrolled, 0);
    /* The right fingerprint passes. */
    char fingerprint[17];
    for (int i = 0; i < 8; i++) snprintf(fingerprint + 2 * i, 3, "%02X", server.server_key.public_key[i]);
    options.expected_server_key = fingerprint;
    CHECK_OK(dala_store_enroll(store, "http://fake.test", FAKE_ENROLL_CODE, &options));
    dala_store_close(store);
    fake_server_free(&server);
}

static void test_enroll_unreachable_server_names_it(void)
{
    dala_store *store = NULL;
    CHECK_OK(dala_store_open(&store, sdk_path(test_tmpdir(), "dala.db")));
    /* Port 9 (discard) on loopback: nothing listens in the test machines. */
    CHECK_EQ_INT(dala_store_enroll(store, "http://127.0.0.1:9", FAKE_ENROLL_CODE, NULL), DALA_EIO);
    CHECK_CONTAINS(dala_errmsg(), "enroll: cannot reach 127.0.0.1:9: connection refused");
    /* https goes the same way: through the TLS transport, to the same refusal. */
    CHECK_EQ_INT(dala_store_enroll(store, "https://127.0.0.1:9", FAKE_ENROLL_CODE, NULL), DALA_EIO);
    CHECK_CONTAINS(dala_errmsg(), "enroll: cannot reach 127.0.0.1:9: connection refused");
    dala_store_close(store);
}

/* --- writes --------------------------------------------------------------------- */

static void test_put_requires_enrolment(void)
{
    dala_store *store = NULL;
    CHECK_OK(dala_store_open(&store, sdk_path(test_tmpdir(), "dala.db")));
    CHECK_EQ_INT(dala_record_put(NULL, store, "field_visit", NULL, "{\"visit_date\": \"2024-01-15\", \"purpose\": \"preventive_visit\"}"), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "not enrolled");
    dala_store_close(store);
}

static void test_put_writes_row_and_outbox_entry(void)
{
    fake_server server;
    fake_server_init(&server);
    const char *dir = test_tmpdir();
    char path[600], id[DALA_ID_TEXT_BYTES];
    snprintf(path, sizeof path, "%s", sdk_path(dir, "dala.db"));
    dala_store *store = NULL;
    CHECK_OK(sdk_open_enrolled(&store, &server, dir));
    CHECK_OK(dala_record_put(id, store, "field_visit", NULL,
                             "{\"address\": \"Абай к-сі 10\", " VISIT ", \"children_count\": 2}"));
    CHECK_EQ_INT(strlen(id), 36);
    CHECK_EQ_INT(id[14], '7'); /* a UUIDv7 */
    CHECK_EQ_U64(pending_of(store), 1);
    CHECK_EQ_INT(sdk_sql(path, "SELECT count(*) FROM record"), 1);

    dala_batch *batch = outbox_change(path, 1);
    CHECK(batch != NULL);
    if (batch) {
        const dala_change *change = &batch->changes[0];
        char change_id[DALA_ID_TEXT_BYTES];
        dala_uuid_format(change_id, change->record_id);
        CHECK_EQ_STR(change_id, id);
        CHECK_EQ_STR(change->table, "field_visit");
        CHECK_EQ_U64(change->device_id, FAKE_DEVICE_ID);
        CHECK_EQ_INT(change->field_count, 5);
        CHECK_EQ_U64(find_field(change, "children_count")->base_hlc, 0);
        CHECK_EQ_INT(find_field(change, "children_count")->value.type, DALA_VALUE_INT);
        CHECK_EQ_INT(find_field(change, "children_count")->value.integer, 2);
        CHECK(DALA_HLC_MS(change->hlc) + 5000 > dala_wall_clock_ms());
    }
    dala_batch_free(batch);

    char *json = NULL;
    CHECK_OK(dala_record_get_json(&json, store, id));
    CHECK_CONTAINS(json, "\"table\":\"field_visit\"");
    CHECK_CONTAINS(json, "\"unit_id\":3");
    CHECK_CONTAINS(json, "\"state\":\"pending\"");
    CHECK_CONTAINS(json, "\"address\":\"Абай к-сі 10\"");
    CHECK_CONTAINS(json, "\"children_count\":2");
    CHECK_CONTAINS(json, "\"device_id\":12,\"seq\":0");
    dala_free(json);
    dala_store_close(store);
    fake_server_free(&server);
}

static void test_put_again_carries_the_base_version(void)
{
    fake_server server;
    fake_server_init(&server);
    const char *dir = test_tmpdir();
    char path[600], id[DALA_ID_TEXT_BYTES], again[DALA_ID_TEXT_BYTES];
    snprintf(path, sizeof path, "%s", sdk_path(dir, "dala.db"));
    dala_store *store = NULL;
    CHECK_OK(sdk_open_enrolled(&store, &server, dir));
    CHECK_OK(dala_record_put(id, store, "field_visit", NULL, "{\"visit_date\": \"2024-01-15\", \"purpose\": \"preventive_visit\", \"risk_level\": \"low\"}"));
    /* Upper case ids are the same record. */
    for (char *p = id; *p; p++) *p = (char)toupper((unsigned char)*p);
    CHECK_OK(dala_record_put(again, store, "field_visit", id, "{\"risk_level\": \"high\", \"victim_count\": 1}"));
    for (char *p = id; *p; p++) *p = (char)tolower((unsigned char)*p);
    CHECK_EQ_STR(again, id);
    CHECK_EQ_U64(pending_of(store), 2);
    dala_batch *first = outbox_change(path, 1), *second = outbox_change(path, 2);
    CHECK(first && second);
    if (first && second) {
        const dala_change *one = &first->changes[0], *two = &second->changes[0];
        CHECK(two->hlc > one->hlc);
        CHECK_EQ_U64(find_field(two, "risk_level")->base_hlc, one->hlc);
        CHECK_EQ_U64(find_field(two, "victim_count")->base_hlc, 0);
    }
    dala_batch_free(first);
    dala_batch_free(second);
    char *json = NULL;
    CHECK_OK(dala_record_get_json(&json, store, id));
    CHECK_CONTAINS(json, "\"fields\":{\"purpose\":\"preventive_visit\",\"risk_level\":\"high\","
                         "\"victim_count\":1,\"visit_date\":\"2024-01-15\"}");
    dala_free(json);
    dala_store_close(store);
    fake_server_free(&server);
}

static void test_put_maps_json_types(void)
{
    fake_server server;
    fake_server_init(&server);
    const char *dir = test_tmpdir();
    char path[600], id[DALA_ID_TEXT_BYTES];
    snprintf(path, sizeof path, "%s", sdk_path(dir, "dala.db"));
    dala_store *store = NULL;
    CHECK_OK(sdk_open_enrolled(&store, &server, dir));
    CHECK_OK(dala_record_put(id, store, "field_visit", NULL,
                             "{\"visit_date\": \"2024-01-15\", \"purpose\": \"call_response\", \"risk_level\": \"high\","
                             " \"district\": null, \"offender_present\": true, \"victim_count\": false,"
                             " \"children_count\": 4, \"latitude\": 51.125,"
                             " \"findings\": \"қазақ\\n\\\"тілі\\\"\", \"household\": [1, \"x\"],"
                             " \"persons_met\": {\"k\": [true]}}"));
    dala_batch *batch = outbox_change(path, 1);
    CHECK(batch != NULL);
    if (batch) {
        const dala_change *c = &batch->changes[0];
        CHECK_EQ_INT(find_field(c, "district")->value.type, DALA_VALUE_NULL);
        CHECK_EQ_INT(find_field(c, "offender_present")->value.integer, 1);
        CHECK_EQ_INT(find_field(c, "victim_count")->value.type, DALA_VALUE_INT);
        CHECK_EQ_INT(find_field(c, "victim_count")->value.integer, 0);
        CHECK(find_field(c, "children_count")->value.integer == 4);
        CHECK_EQ_INT(find_field(c, "latitude")->value.type, DALA_VALUE_REAL);
        CHECK(find_field(c, "latitude")->value.real == 51.125);
        const dala_value *text = &find_field(c, "findings")->value;
        CHECK_EQ_INT(text->type, DALA_VALUE_TEXT);
        CHECK(text->len == strlen("қазақ\n\"тілі\"") && !memcmp(text->bytes, "қазақ\n\"тілі\"", text->len));
        const dala_value *arr = &find_field(c, "household")->value;
        CHECK(arr->type == DALA_VALUE_TEXT && arr->len == 7 && !memcmp(arr->bytes, "[1,\"x\"]", 7));
        const dala_value *obj = &find_field(c, "persons_met")->value;
        CHECK(obj->type == DALA_VALUE_TEXT && obj->len == 12 && !memcmp(obj->bytes, "{\"k\":[true]}", 12));
    }
    dala_batch_free(batch);
    dala_store_close(store);
    fake_server_free(&server);
}

/* Every refusal names what is wrong (never a value) and writes nothing. */
static void test_put_refuses_bad_input_clearly(void)
{
    fake_server server;
    fake_server_init(&server);
    dala_store *store = NULL;
    char id[DALA_ID_TEXT_BYTES];
    CHECK_OK(sdk_open_enrolled(&store, &server, test_tmpdir()));
    CHECK_OK(dala_record_put(id, store, "field_visit", NULL, "{" VISIT "}"));
    static const struct {
        const char *table;
        int existing; /* edit the record made above */
        const char *json;
        int code;
        const char *message;
    } cases[] = {
        /* arguments and JSON */
        {"no_such_table", 0, "{" VISIT "}", DALA_EINVAL, "table no_such_table is not one devices write"},
        {"conflict", 0, "{" VISIT "}", DALA_EINVAL, "table conflict is not"},
        {"Bad Table", 0, "{" VISIT "}", DALA_EINVAL, "(invalid name)"},
        {NULL, 0, "{" VISIT "}", DALA_EINVAL, "not one devices write"},
        {"field_visit", 0, "{" VISIT, DALA_EINVAL, "not valid JSON"},
        {"field_visit", 0, "[1, 2]", DALA_EINVAL, "a JSON object is expected, not array"},
        {"field_visit", 0, "{}", DALA_EINVAL, "the object is empty"},
        {"field_visit", 0, NULL, DALA_EINVAL, "fields: NULL"},
        {"field_visit", 0, "{\"Name\": 1}", DALA_EINVAL, "field \"Name\": a name is [a-z][a-z0-9_]*"},
        {"field_visit", 0, "{\"1a\": 1}", DALA_EINVAL, "field \"1a\""},
        {"field_visit", 1, "{\"city\": \"a\", \"city\": \"b\"}", DALA_EINVAL, "field \"city\": given twice"},
        {"field_visit", 1, "{\"victim_count\": 99999999999999999999}", DALA_EINVAL,
         "field \"victim_count\": integer out of"},
        {"field_visit", 1, "{\"latitude\": 1e999}", DALA_EINVAL, "field \"latitude\": number out of range"},
        {"field_visit", 1, "{\"city\": \"x\\u0000y\"}", DALA_EINVAL, "NUL character"},
        {"field_visit", 1, "{\"city\": \"\xff\xfe\"}", DALA_EINVAL, "field \"city\": text is not valid UTF-8"},
        /* the shared record rules */
        {"field_visit", 0, "{\"city\": \"Astana\"}", DALA_EINVAL, "field_visit.visit_date: required"},
        {"field_visit", 0, "{" VISIT ", \"colour\": \"red\"}", DALA_EINVAL,
         "field_visit.colour: unknown_field"},
        {"field_visit", 1, "{\"purpose\": \"party\"}", DALA_EINVAL, "field_visit.purpose: not_choice"},
        {"field_visit", 1, "{\"visit_date\": \"2999-01-01\"}", DALA_EINVAL, "field_visit.visit_date: future"},
        {"field_visit", 1, "{\"visit_date\": \"15.01.2024\"}", DALA_EINVAL, "field_visit.visit_date: not_date"},
        {"field_visit", 1, "{\"children_count\": \"two\"}", DALA_EINVAL, "field_visit.children_count: type int"},
        {"field_visit", 1, "{\"purpose\": null}", DALA_EINVAL, "field_visit.purpose: cleared"},
        /* the smallest JSON integer arrives as an integer, and meets the rule's bound */
        {"field_visit", 1, "{\"children_count\": -9223372036854775808}", DALA_EINVAL,
         "field_visit.children_count: range_min 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = dala_record_put(NULL, store, cases[i].table, cases[i].existing ? id : NULL, cases[i].json);
        if (rc != cases[i].code)
            test_fail(__FILE__, __LINE__, "case %zu: %d, expected %d (%s)", i, rc, cases[i].code,
                      dala_errmsg());
        CHECK_CONTAINS(dala_errmsg(), cases[i].message);
        CHECK_CONTAINS(dala_errmsg(), "put record: ");
    }
    CHECK_EQ_INT(dala_record_put(NULL, store, "field_visit", "not-a-uuid", "{" VISIT "}"), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "not a UUID");
    /* A backslash before "u0000" that is itself escaped is text, not NUL. */
    CHECK_OK(dala_record_put(NULL, store, "field_visit", id, "{\"findings\": \"\\\\u0000\"}"));
    CHECK_EQ_U64(pending_of(store), 2);
    CHECK_EQ_INT(dala_record_put(NULL, NULL, "field_visit", NULL, "{" VISIT "}"), DALA_EINVAL);
    dala_store_close(store);
    fake_server_free(&server);
}

static void test_put_enforces_limits(void)
{
    fake_server server;
    fake_server_init(&server);
    dala_store *store = NULL;
    CHECK_OK(sdk_open_enrolled(&store, &server, test_tmpdir()));
    /* More than 256 fields is refused before anything else is looked at. */
    size_t size = 300 * 16 + 16, len = 0;
    char *json = malloc(size);
    CHECK(json != NULL);
    if (json) {
        json[len++] = '{';
        for (int i = 0; i < 257; i++)
            len += (size_t)snprintf(json + len, size - len, "%s\"f%d\": %d", i ? ", " : "", i, i);
        snprintf(json + len, size - len, "}");
        CHECK_EQ_INT(dala_record_put(NULL, store, "field_visit", NULL, json), DALA_ELIMIT);
        CHECK_CONTAINS(dala_errmsg(), "more than 256");
    }
    free(json);
    /* A value past 1 MiB is refused as such; within it, the rule's own length. */
    size_t big = DALA_RECORD_MAX_VALUE_BYTES + 1;
    json = malloc(big + 128);
    static const size_t lengths[] = {20000, 20001, DALA_RECORD_MAX_VALUE_BYTES + 1};
    static const int expected[] = {DALA_OK, DALA_EINVAL, DALA_ELIMIT};
    for (size_t i = 0; json && i < 3; i++) {
        int n = snprintf(json, 128, "{" VISIT ", \"findings\": \"");
        memset(json + n, 'x', lengths[i]);
        memcpy(json + n + lengths[i], "\"}", 3);
        CHECK_EQ_INT(dala_record_put(NULL, store, "field_visit", NULL, json), expected[i]);
    }
    CHECK_CONTAINS(dala_errmsg(), "field \"findings\": 1048577 bytes");
    free(json);
    CHECK_EQ_U64(pending_of(store), 1);
    dala_store_close(store);
    fake_server_free(&server);
}

/* A failure inside the write's transaction leaves neither row nor entry. */
static void test_put_is_one_transaction(void)
{
    fake_server server;
    fake_server_init(&server);
    const char *dir = test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s", sdk_path(dir, "dala.db"));
    dala_store *store = NULL;
    CHECK_OK(sdk_open_enrolled(&store, &server, dir));
    CHECK_EQ_INT(sdk_sql(path, "CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox "
                                   "BEGIN SELECT RAISE(ABORT, 'injected disk failure'); END"), 0);
    CHECK(dala_record_put(NULL, store, "field_visit", NULL, "{" VISIT "}") != DALA_OK);
    CHECK_CONTAINS(dala_errmsg(), "injected disk failure");
    CHECK_EQ_INT(sdk_sql(path, "SELECT count(*) FROM record"), 0);
    CHECK_EQ_INT(sdk_sql(path, "SELECT count(*) FROM outbox"), 0);
    int64_t hlc_before = sdk_sql(path, "SELECT coalesce(max(value), 0) FROM meta WHERE key = 'hlc'");
    CHECK_EQ_INT(hlc_before, 0); /* the clock's step was rolled back too */
    CHECK_EQ_INT(sdk_sql(path, "DROP TRIGGER fail_outbox"), 0);
    CHECK_OK(dala_record_put(NULL, store, "field_visit", NULL, "{" VISIT "}"));
    CHECK_EQ_INT(sdk_sql(path, "SELECT count(*) FROM record"), 1);
    CHECK_EQ_INT(sdk_sql(path, "SELECT count(*) FROM outbox"), 1);
    dala_store_close(store);
    fake_server_free(&server);
}

/* The clock survives a reopen, even when the wall clock is behind it. */
static void test_hlc_persists_across_reopen(void)
{
    fake_server server;
    fake_server_init(&server);
    const char *dir = test_tmpdir();
    char path[600], sql[200];
    snprintf(path, sizeof path, "%s", sdk_path(dir, "dala.db"));
    dala_store *store = NULL;
    CHECK_OK(sdk_open_enrolled(&store, &server, dir));
    CHECK_OK(dala_record_put(NULL, store, "field_visit", NULL, "{" VISIT "}"));
    dala_store_close(store);
    /* As if an earlier write had happened an hour ahead of this clock. */
    uint64_t ahead = DALA_HLC_MAKE(dala_wall_clock_ms() + 3600 * 1000, 5);
    snprintf(sql, sizeof sql, "UPDATE meta SET value = %llu WHERE key = 'hlc'", (unsigned long long)ahead);
    CHECK_EQ_INT(sdk_sql(path, sql), 0);
    CHECK_OK(dala_store_open(&store, path));
    CHECK_OK(dala_record_put(NULL, store, "field_visit", NULL, "{" VISIT ", \"city\": \"Астана\"}"));
    dala_batch *second = outbox_change(path, 2);
    CHECK(second != NULL);
    if (second) CHECK_EQ_U64(second->changes[0].hlc, ahead + 1);
    dala_batch_free(second);
    CHECK_EQ_INT(sdk_sql(path, "SELECT value FROM meta WHERE key = 'hlc'"), (long long)(ahead + 1));
    dala_store_close(store);
    fake_server_free(&server);
}

static void test_void_records_a_reason(void)
{
    fake_server server;
    fake_server_init(&server);
    dala_store *store = NULL;
    char id[DALA_ID_TEXT_BYTES], *json = NULL;
    CHECK_OK(sdk_open_enrolled(&store, &server, test_tmpdir()));
    CHECK_OK(dala_record_put(id, store, "field_visit", NULL, "{" VISIT ", \"city\": \"Astana\"}"));
    CHECK_OK(dala_record_void(store, id, "entered twice"));
    CHECK_OK(dala_record_get_json(&json, store, id));
    CHECK_CONTAINS(json, "\"voided\":true");
    CHECK_CONTAINS(json, "\"void_reason\":\"entered twice\"");
    CHECK_CONTAINS(json, "\"city\":\"Astana\"");
    dala_free(json);
    CHECK_EQ_U64(pending_of(store), 2);
    CHECK_EQ_INT(dala_record_void(store, id, ""), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "void record: ");
    CHECK_EQ_INT(dala_record_void(store, id, NULL), DALA_EINVAL);
    CHECK_EQ_INT(dala_record_void(store, "0190f1c2-0000-7000-8000-000000000000", "x"), DALA_ENOTFOUND);
    CHECK_CONTAINS(dala_errmsg(), "not found");
    CHECK_EQ_INT(dala_record_get_json(&json, store, "0190f1c2-0000-7000-8000-000000000000"),
                 DALA_ENOTFOUND);
    CHECK(json == NULL);
    dala_store_close(store);
    fake_server_free(&server);
}

typedef struct listing {
    int count;
    int stop_after;
    char ids[8][DALA_ID_TEXT_BYTES];
    char tables[8][32];
    int voided[8];
    int state[8];
} listing;

static int collect(void *context, const dala_record_info *info)
{
    listing *l = context;
    if (l->count < 8) {
        snprintf(l->ids[l->count], DALA_ID_TEXT_BYTES, "%s", info->id);
        snprintf(l->tables[l->count], 32, "%s", info->table);
        l->voided[l->count] = info->is_voided;
        l->state[l->count] = (int)info->state;
    }
    l->count++;
    return l->stop_after && l->count == l->stop_after ? 42 : 0;
}

static void test_list_records_newest_first(void)
{
    fake_server server;
    fake_server_init(&server);
    dala_store *store = NULL;
    char a[DALA_ID_TEXT_BYTES], b[DALA_ID_TEXT_BYTES], c[DALA_ID_TEXT_BYTES];
    CHECK_OK(sdk_open_enrolled(&store, &server, test_tmpdir()));
    CHECK_OK(dala_record_put(a, store, "field_visit", NULL, "{" VISIT "}"));
    CHECK_OK(dala_record_put(b, store, "field_visit", NULL, "{" VISIT "}"));
    CHECK_OK(dala_record_put(c, store, "field_visit", NULL, "{" VISIT "}"));
    CHECK_OK(dala_record_void(store, a, "duplicate"));
    listing all = {0};
    CHECK_OK(dala_record_list(store, NULL, collect, &all));
    CHECK_EQ_INT(all.count, 3);
    CHECK_EQ_STR(all.ids[0], a); /* voided last, so newest */
    CHECK_EQ_INT(all.voided[0], 1);
    CHECK_EQ_STR(all.ids[1], c);
    CHECK_EQ_STR(all.ids[2], b);
    CHECK_EQ_STR(all.tables[2], "field_visit");
    CHECK_EQ_INT(all.state[2], DALA_RECORD_PENDING);
    listing visits = {0}, conflicts = {0};
    CHECK_OK(dala_record_list(store, "field_visit", collect, &visits));
    CHECK_EQ_INT(visits.count, 3);
    CHECK_OK(dala_record_list(store, "conflict", collect, &conflicts));
    CHECK_EQ_INT(conflicts.count, 0);
    listing stopped = {0};
    stopped.stop_after = 1;
    CHECK_EQ_INT(dala_record_list(store, NULL, collect, &stopped), 42);
    CHECK_EQ_INT(stopped.count, 1);
    CHECK_EQ_INT(dala_record_list(store, NULL, NULL, NULL), DALA_EINVAL);
    dala_status status;
    CHECK_OK(dala_store_status(&status, store));
    CHECK_EQ_U64(status.record_count, 3);
    CHECK_EQ_U64(status.pending_changes, 4);
    dala_store_close(store);
    fake_server_free(&server);
}

/* Two handles on one file (an app and the `dala` command) see each
 * other's writes, and their clocks never issue the same timestamp. */
static void test_two_handles_share_the_file(void)
{
    fake_server server;
    fake_server_init(&server);
    const char *dir = test_tmpdir();
    char path[600], id[DALA_ID_TEXT_BYTES];
    snprintf(path, sizeof path, "%s", sdk_path(dir, "dala.db"));
    dala_store *one = NULL, *two = NULL;
    CHECK_OK(sdk_open_enrolled(&one, &server, dir));
    CHECK_OK(dala_store_open(&two, path));
    for (int i = 0; i < 20; i++) {
        CHECK_OK(dala_record_put(id, i % 2 ? one : two, "field_visit", NULL, "{" VISIT "}"));
    }
    CHECK_EQ_U64(pending_of(one), 20);
    CHECK_EQ_INT(sdk_sql(path, "SELECT count(DISTINCT hlc) FROM outbox"), 20);
    dala_store_close(one);
    dala_store_close(two);
    fake_server_free(&server);
}

static void test_writable_tables_follow_the_shared_rules(void)
{
    CHECK(dala_table_is_writable("field_visit"));
    CHECK(!dala_table_is_writable(DALA_TABLE_CONFLICT));
    CHECK(!dala_table_is_writable("no_such_table"));
    CHECK(!dala_table_is_writable("Field Visit"));
    CHECK(!dala_table_is_writable(NULL));
}

static void test_search_finds_any_case_and_sorts_in_kazakh_order(void)
{
    fake_server server;
    fake_server_init(&server);
    dala_store *store = NULL;
    CHECK_OK(sdk_open_enrolled(&store, &server, test_tmpdir()));
    /* Put in an order that is neither the alphabet's nor the bytes'. */
    static const char *const names[] = {"Ұлдана", "Іңкәр", "Бақыт", "Қайрат", "Әлия", "Айгүл", "Ғалым", "Өмір"};
    static const int alphabet_order[] = {5, 4, 2, 6, 3, 7, 0, 1}; /* А Ә Б Ғ Қ Ө Ұ І */
    char ids[8][DALA_ID_TEXT_BYTES], json[256];
    for (int i = 0; i < 8; i++) {
        snprintf(json, sizeof json, "{\"role\": \"victim\", \"last_name\": \"Сейітова\", \"first_name\": \"%s\", "
                                    "\"sex\": \"female\"}", names[i]);
        CHECK_OK(dala_record_put(ids[i], store, "person", NULL, json));
    }
    listing sorted = {0};
    CHECK_OK(dala_record_search(store, "person", NULL, "first_name", collect, &sorted));
    CHECK_EQ_INT(sorted.count, 8);
    for (int i = 0; i < 8 && sorted.count == 8; i++) CHECK_EQ_STR(sorted.ids[i], ids[alphabet_order[i]]);
    /* The query in capitals finds the name in small letters, and only it. */
    listing found = {0};
    CHECK_OK(dala_record_search(store, "person", "ҚАЙ", "first_name", collect, &found));
    CHECK_EQ_INT(found.count, 1);
    CHECK_EQ_STR(found.ids[0], ids[3]);
    listing everyone = {0};
    CHECK_OK(dala_record_search(store, "person", "сейітова", NULL, collect, &everyone));
    CHECK_EQ_INT(everyone.count, 8);
    CHECK_EQ_INT(dala_record_search(store, "person", NULL, "first name", collect, &everyone), DALA_EINVAL);
    dala_store_close(store);
    fake_server_free(&server);
}

const dala_test store_tests[] = {
    {"store_open_creates_private_migrated_file", test_store_open_creates_private_migrated_file},
    {"store_runs_in_wal_mode", test_store_runs_in_wal_mode},
    {"store_open_refuses_newer_schema", test_store_open_refuses_newer_schema},
    {"store_open_refuses_non_database", test_store_open_refuses_non_database},
    {"store_open_bad_arguments", test_store_open_bad_arguments},
    {"enroll_keeps_the_answer", test_enroll_keeps_the_answer},
    {"enroll_refusals_are_clear", test_enroll_refusals_are_clear},
    {"enroll_unreachable_server_names_it", test_enroll_unreachable_server_names_it},
    {"put_requires_enrolment", test_put_requires_enrolment},
    {"put_writes_row_and_outbox_entry", test_put_writes_row_and_outbox_entry},
    {"put_again_carries_the_base_version", test_put_again_carries_the_base_version},
    {"put_maps_json_types", test_put_maps_json_types},
    {"put_refuses_bad_input_clearly", test_put_refuses_bad_input_clearly},
    {"put_enforces_limits", test_put_enforces_limits},
    {"put_is_one_transaction", test_put_is_one_transaction},
    {"hlc_persists_across_reopen", test_hlc_persists_across_reopen},
    {"void_records_a_reason", test_void_records_a_reason},
    {"list_records_newest_first", test_list_records_newest_first},
    {"two_handles_share_the_file", test_two_handles_share_the_file},
    {"writable_tables_follow_the_shared_rules", test_writable_tables_follow_the_shared_rules},
    {"search_finds_any_case_and_sorts_in_kazakh_order", test_search_finds_any_case_and_sorts_in_kazakh_order},
    {NULL, NULL},
};
