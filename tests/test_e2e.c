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
#include "server_harness.h" /* dala_sync.h, which must come before dala.h */

#include "dala.h"
#include "raw_client.h"
#include "records_gen.h"
#include "testhelp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The fields a new field visit needs. */
#define VISIT "\"visit_date\": \"2024-01-15\", \"purpose\": \"preventive_visit\""
/* Every round trip's bound: a hung test fails instead of hanging. */
#define E2E_TIMEOUT_MS 10000

#define CHECK_CONTAINS(haystack, needle)                                                  \
    do {                                                                                  \
        const char *check_h_ = (haystack);                                                \
        if (!check_h_ || !strstr(check_h_, (needle)))                                     \
            test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",               \
                      check_h_ ? check_h_ : "(null)", (needle));                          \
    } while (0)

static uint64_t monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* CivetWeb 1.15's mg_stop (under dala_server_stop, in process or in a
 * dala-server child) returns once its listening thread wakes from poll(),
 * which happens on a connection or after 2 s. A poker connects to the port
 * and hangs up every few ms while a server stops, saving 2 s a stop. */
typedef struct port_poker {
    int port, is_running;
    atomic_int done;
    pthread_t thread;
} port_poker;

static void *poke_port(void *context)
{
    port_poker *poker = context;
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)poker->port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    while (!atomic_load(&poker->done)) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0) {
            (void)connect(fd, (const struct sockaddr *)&address, sizeof address);
            close(fd);
        }
        usleep(5000);
    }
    return NULL;
}

static void poker_start(port_poker *poker, int port)
{
    poker->port = port;
    atomic_init(&poker->done, 0);
    poker->is_running = pthread_create(&poker->thread, NULL, poke_port, poker) == 0;
}

static void poker_stop(port_poker *poker)
{
    atomic_store(&poker->done, 1);
    if (poker->is_running) pthread_join(poker->thread, NULL);
    poker->is_running = 0;
}

/* Stops the harness's in-process server, quickly. */
static void e2e_stop(harness *h)
{
    port_poker poker;
    if (!h->server) return;
    poker_start(&poker, h->port);
    harness_stop(h);
    poker_stop(&poker);
}

/* ------------------------------------------------------------ record sets */

/* Record ids, each with the fields JSON it was captured with (NULL when
 * the set comes from a listing). */
typedef struct record_set {
    size_t count, alloc;
    char (*ids)[DALA_ID_TEXT_BYTES];
    char **json;
} record_set;

static void set_free(record_set *set)
{
    for (size_t i = 0; i < set->count; i++) free(set->json[i]);
    free(set->ids);
    free(set->json);
    memset(set, 0, sizeof *set);
}

static long set_find(const record_set *set, const char *id)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->ids[i], id) == 0) return (long)i;
    return -1;
}

/* Adds `id` (and a copy of `json`, may be NULL). */
static void set_add(record_set *set, const char *id, const char *json)
{
    if (set->count == set->alloc) {
        size_t alloc = set->alloc ? set->alloc * 2 : 64;
        char(*ids)[DALA_ID_TEXT_BYTES] = realloc(set->ids, alloc * sizeof *ids);
        if (ids) set->ids = ids;
        char **texts = ids ? realloc(set->json, alloc * sizeof *texts) : NULL;
        if (!texts) {
            test_fail(__FILE__, __LINE__, "record set: out of memory");
            return;
        }
        set->json = texts;
        set->alloc = alloc;
    }
    snprintf(set->ids[set->count], DALA_ID_TEXT_BYTES, "%s", id);
    set->json[set->count++] = json ? strdup(json) : NULL;
}

/* Checks that `got` holds exactly the ids of `want`; names `what` and at
 * most a few missing ids. */
static void check_same_ids(const record_set *got, const record_set *want, const char *what)
{
    int reported = 0;
    if (got->count != want->count)
        test_fail(__FILE__, __LINE__, "%s holds %zu records, expected %zu", what, got->count,
                  want->count);
    for (size_t i = 0; i < want->count && reported < 3; i++)
        if (set_find(got, want->ids[i]) < 0) {
            test_fail(__FILE__, __LINE__, "%s lacks record %s", what, want->ids[i]);
            reported++;
        }
}

/* ------------------------------------------------------------------ JSON */

/* The value at `path` of a JSON text, as text (strings unquoted, objects as
 * JSON), malloc'd; NULL if absent. Uses SQLite's JSON functions. */
static char *json_get(const char *json, const char *path)
{
    sqlite3 *mem = NULL;
    sqlite3_stmt *stmt;
    char *out = NULL;
    if (json && sqlite3_open(":memory:", &mem) == SQLITE_OK &&
        sqlite3_prepare_v2(mem, "SELECT json_extract(?1, ?2)", -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, json, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, path, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
            out = strdup((const char *)sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
    }
    sqlite3_close(mem);
    return out;
}

/* Whether the objects at `a_path` of `a` and `b_path` of `b` have the same
 * members with equal values (numbers compared as numbers). 1 equal, 0 not,
 * -1 when either is not JSON. `mem` is any SQLite connection. */
static int json_objects_equal(sqlite3 *mem, const char *a, const char *a_path, const char *b,
                              const char *b_path)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM json_each(?1, ?2)) = (SELECT count(*) FROM json_each(?3, ?4))"
        " AND NOT EXISTS (SELECT 1 FROM json_each(?1, ?2) x WHERE NOT EXISTS ("
        "   SELECT 1 FROM json_each(?3, ?4) y WHERE y.key = x.key AND y.atom IS x.atom AND"
        "   (y.type = x.type OR (x.type IN ('integer', 'real') AND y.type IN ('integer', 'real')))))";
    sqlite3_stmt *stmt;
    int equal = -1;
    if (sqlite3_prepare_v2(mem, sql, -1, &stmt, NULL) != SQLITE_OK) return -1;
    sqlite3_bind_text(stmt, 1, a, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, a_path, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, b, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, b_path, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW) equal = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return equal;
}

static int json_append_string(dala_buf *out, const uint8_t *text, size_t len)
{
    int rc = dala_buf_append(out, "\"", 1);
    for (size_t i = 0; !rc && i < len; i++) {
        char escaped[8];
        if (text[i] == '"' || text[i] == '\\') {
            snprintf(escaped, sizeof escaped, "\\%c", text[i]);
            rc = dala_buf_append(out, escaped, 2);
        } else if (text[i] < 0x20) {
            snprintf(escaped, sizeof escaped, "\\u%04x", text[i]);
            rc = dala_buf_append(out, escaped, 6);
        } else {
            rc = dala_buf_append(out, &text[i], 1);
        }
    }
    return rc ? rc : dala_buf_append(out, "\"", 1);
}

/* The JSON a device passes to dala_record_put for a generated record:
 * every field but unit_id and officer_id, which the server takes from the
 * enrolled device. malloc'd; NULL on failure. */
static char *gen_fields_json(const gen_record *rec)
{
    dala_buf out = DALA_BUF_INIT;
    int rc = dala_buf_append(&out, "{", 1);
    int first = 1;
    for (size_t i = 0; !rc && i < rec->field_count; i++) {
        const dala_field *field = &rec->fields[i];
        char number[64];
        if (!strcmp(field->name, "unit_id") || !strcmp(field->name, "officer_id")) continue;
        if (!first) rc = dala_buf_append(&out, ",", 1);
        first = 0;
        if (!rc) rc = json_append_string(&out, (const uint8_t *)field->name, strlen(field->name));
        if (!rc) rc = dala_buf_append(&out, ":", 1);
        if (rc) break;
        switch (field->value.type) {
        case DALA_VALUE_INT:
            snprintf(number, sizeof number, "%lld", (long long)field->value.integer);
            rc = dala_buf_append(&out, number, strlen(number));
            break;
        case DALA_VALUE_REAL: /* exact, and always with a point: stays a real */
            snprintf(number, sizeof number, "%.17g", field->value.real);
            if (!strpbrk(number, ".e")) strcat(number, ".0");
            rc = dala_buf_append(&out, number, strlen(number));
            break;
        case DALA_VALUE_TEXT: rc = json_append_string(&out, field->value.bytes, field->value.len); break;
        default: rc = dala_buf_append(&out, "null", 4); break;
        }
    }
    if (!rc) rc = dala_buf_append(&out, "}", 2); /* with the NUL */
    if (rc) {
        dala_buf_free(&out);
        return NULL;
    }
    return (char *)out.data; /* a dala_buf's memory is malloc'd */
}

/* --------------------------------------------------------------- devices */

/* Opens `name`.db in the harness's folder and enrols it as a device of
 * `officer` in `unit` with a fresh code; NULL (after a CHECK) on failure. */
static dala_store *device_enrol(harness *h, const char *name, int64_t officer, int64_t unit)
{
    char code[32], path[600];
    dala_store *store = NULL;
    snprintf(path, sizeof path, "%s/%s.db", h->dir, name);
    if (harness_code(h, code, officer, unit)) return NULL;
    CHECK_OK(dala_store_open(&store, path));
    if (!store) return NULL;
    int rc = dala_store_enroll(store, h->url, code, NULL);
    CHECK_OK(rc);
    if (rc) {
        dala_store_close(store);
        return NULL;
    }
    return store;
}

static dala_status device_status(dala_store *store)
{
    dala_status status;
    memset(&status, 0, sizeof status);
    CHECK_OK(dala_store_status(&status, store));
    return status;
}

/* Captures `count` generated field visits on `store`; adds each id and
 * its JSON to `into`. */
static void capture(record_set *into, dala_store *store, records_gen *gen, int count)
{
    for (int i = 0; i < count; i++) {
        gen_record rec;
        char id[DALA_ID_TEXT_BYTES];
        if (records_gen_next(gen, &rec) != DALA_OK) {
            test_fail(__FILE__, __LINE__, "records_gen_next failed");
            return;
        }
        char *json = gen_fields_json(&rec);
        CHECK(json != NULL);
        int rc = json ? dala_record_put(id, store, GEN_TABLE, rec.id_text, json) : DALA_ENOMEM;
        CHECK_OK(rc);
        if (!rc) set_add(into, id, json);
        free(json);
        gen_record_free(&rec);
        if (rc) return;
    }
}

typedef struct listing {
    record_set *set;
    int state; /* a dala_record_state, or -1 for any */
} listing;

static int add_listed(void *context, const dala_record_info *info)
{
    listing *l = context;
    if (l->state < 0 || (int)info->state == l->state) set_add(l->set, info->id, NULL);
    return 0;
}

/* Adds the ids of the device's field visits in `state` (-1: any) to `out`. */
static void device_records(record_set *out, dala_store *store, int state)
{
    listing l = {out, state};
    CHECK_OK(dala_record_list(store, GEN_TABLE, add_listed, &l));
}

/* One dala_sync through `transport` (NULL: the built-in one), pushing at
 * most `max_push` changes a round trip (0: the default). */
static int sync_via(dala_store *store, const dala_transport *transport, uint32_t max_push,
                    dala_sync_stats *stats)
{
    dala_sync_options options = DALA_SYNC_OPTIONS_INIT;
    options.transport = transport;
    options.max_push_changes = max_push;
    options.timeout_ms = E2E_TIMEOUT_MS;
    return dala_sync(stats, store, &options);
}

static void sync_ok(dala_store *store)
{
    CHECK_OK(sync_via(store, NULL, 0, NULL));
}

/* ------------------------------------------------------- fault transport */

/* What the wrapper does to the round trip it spoils. */
typedef enum fault_kind {
    FAULT_NONE = 0,
    FAULT_DROP_REQUEST,  /* fail before anything is sent */
    FAULT_LOSE_ANSWER,   /* deliver, let the server answer, report DALA_EIO */
    FAULT_TAMPER_REQUEST /* flip one bit of the frame's tag, deliver that */
} fault_kind;

/* The built-in transport with one sync POST spoiled. It also keeps copies
 * of frames the server accepted (HTTP 200), for replays. */
typedef struct fault_transport {
    dala_transport transport; /* pass &fault->transport to dala_sync */
    fault_kind kind;
    unsigned fail_at;   /* the sync POST to spoil, counting from 1; 0: none */
    unsigned posts;     /* sync POSTs seen, the spoiled one included */
    unsigned delivered; /* of those, reached the server and were answered */
    dala_buf first_accepted, last_accepted;
} fault_transport;

static int fault_post(void *context, const char *url, const char *content_type, const void *body,
                      size_t body_len, int *status_out, void **response_out,
                      size_t *response_len_out, size_t max_response_bytes, int timeout_ms)
{
    fault_transport *fault = context;
    const dala_transport *builtin = dala_transport_builtin();
    int is_sync = strstr(url, "/v1/sync") != NULL;
    fault_kind spoil = is_sync && ++fault->posts == fault->fail_at ? fault->kind : FAULT_NONE;
    if (spoil == FAULT_DROP_REQUEST)
        return dala_transport_error(DALA_EIO, "cannot reach the server: request dropped by the test");
    dala_buf sent = DALA_BUF_INIT;
    if (dala_buf_append(&sent, body, body_len)) return DALA_ENOMEM;
    if (spoil == FAULT_TAMPER_REQUEST && sent.len) sent.data[sent.len - 1] ^= 0x01;
    int rc = builtin->post(builtin->context, url, content_type, sent.data, sent.len, status_out,
                           response_out, response_len_out, max_response_bytes, timeout_ms);
    if (rc == DALA_OK && is_sync) {
        fault->delivered++;
        if (*status_out == 200) {
            if (!fault->first_accepted.len) dala_buf_append(&fault->first_accepted, sent.data, sent.len);
            dala_buf_reset(&fault->last_accepted);
            dala_buf_append(&fault->last_accepted, sent.data, sent.len);
        }
    }
    dala_buf_free(&sent);
    if (rc == DALA_OK && spoil == FAULT_LOSE_ANSWER) {
        free(*response_out);
        *response_out = NULL;
        *response_len_out = 0;
        return dala_transport_error(DALA_EIO, "cannot reach the server: answer lost by the test");
    }
    return rc;
}

static void fault_init(fault_transport *fault, fault_kind kind, unsigned fail_at)
{
    memset(fault, 0, sizeof *fault);
    fault->transport.version = DALA_TRANSPORT_VERSION;
    fault->transport.post = fault_post;
    fault->transport.context = fault;
    fault->kind = kind;
    fault->fail_at = fail_at;
}

/* Spoils the next sync POST with `kind`. */
static void fault_arm_next(fault_transport *fault, fault_kind kind)
{
    fault->kind = kind;
    fault->fail_at = fault->posts + 1;
}

static void fault_free(fault_transport *fault)
{
    dala_buf_free(&fault->first_accepted);
    dala_buf_free(&fault->last_accepted);
}

/* ------------------------------------------------------ central database */

/* Opens the server's database beside the server (or after it died). */
static sqlite3 *central_open(const harness *h)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(h->db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        test_fail(__FILE__, __LINE__, "open %s: %s", h->db_path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* The first column of the first row of `sql` with ?1 = a, ?2 = b; -1 on
 * failure. */
static long long central_int(const harness *h, const char *sql, int64_t a, int64_t b)
{
    sqlite3 *db = central_open(h);
    sqlite3_stmt *stmt;
    long long value = -1;
    if (db && sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
        if (sqlite3_bind_parameter_count(stmt) >= 1) sqlite3_bind_int64(stmt, 1, a);
        if (sqlite3_bind_parameter_count(stmt) >= 2) sqlite3_bind_int64(stmt, 2, b);
        if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
    } else if (db) {
        test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return value;
}

/* Adds the ids of the server's records of `unit` in `table` to `out`. */
static void central_records(record_set *out, const harness *h, int64_t unit, const char *table)
{
    sqlite3 *db = central_open(h);
    sqlite3_stmt *stmt;
    if (!db) return;
    if (sqlite3_prepare_v2(db, "SELECT id FROM record WHERE unit_id = ?1 AND tbl = ?2", -1, &stmt,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, unit);
        sqlite3_bind_text(stmt, 2, table, -1, SQLITE_STATIC);
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            char id[DALA_ID_TEXT_BYTES];
            CHECK_EQ_INT(sqlite3_column_bytes(stmt, 0), DALA_UUID_BYTES);
            dala_uuid_format(id, sqlite3_column_blob(stmt, 0));
            set_add(out, id, NULL);
        }
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
}

/* The field values the server holds for record `id`, as the JSON object
 * dala_record_to_json writes (the devices' writer too); malloc'd, NULL if
 * the record is missing or does not decode. */
static char *central_fields_json(sqlite3 *db, const char *id)
{
    uint8_t uuid[DALA_UUID_BYTES];
    sqlite3_stmt *stmt;
    dala_buf json = DALA_BUF_INIT;
    int rc = DALA_ENOTFOUND;
    if (dala_uuid_parse(uuid, id) ||
        sqlite3_prepare_v2(db, "SELECT data FROM record WHERE id = ?1", -1, &stmt, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_blob(stmt, 1, uuid, DALA_UUID_BYTES, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        dala_record record = DALA_RECORD_INIT;
        rc = dala_record_decode(&record, sqlite3_column_blob(stmt, 0),
                                (size_t)sqlite3_column_bytes(stmt, 0));
        if (!rc) rc = dala_record_to_json(&json, &record);
        if (!rc) rc = dala_buf_append(&json, "", 1);
        dala_record_clear(&record);
    }
    sqlite3_finalize(stmt);
    if (rc) {
        dala_buf_free(&json);
        return NULL;
    }
    return (char *)json.data;
}

/* One field's value on the server, as text (json_get); malloc'd or NULL. */
static char *central_field(const harness *h, const char *id, const char *field)
{
    char path[80], *json, *value = NULL;
    sqlite3 *db = central_open(h);
    if (!db) return NULL;
    snprintf(path, sizeof path, "$.%s", field);
    if ((json = central_fields_json(db, id))) value = json_get(json, path);
    free(json);
    sqlite3_close(db);
    return value;
}

/* Every write of the unit took one log position: as many records as
 * positions handed out. Holds while no record was written twice (no edits,
 * no conflicts). */
static void check_unit_log_once(const harness *h, int64_t unit)
{
    long long rows = central_int(h, "SELECT count(*) FROM record WHERE unit_id = ?1", unit, 0);
    long long next = central_int(h, "SELECT next_seq FROM org_unit WHERE id = ?1", unit, 0);
    CHECK_EQ_INT(rows, next - 1);
    CHECK_EQ_INT(central_int(h, "SELECT count(DISTINCT seq) FROM record WHERE unit_id = ?1", unit, 0),
                 rows);
}

/* The server's unit holds exactly `want` (ids, and the captured values
 * where `want` has them), and every device of `devices` holds exactly the
 * same ids with the server's values, with nothing left to push. */
static void check_converged(const harness *h, int64_t unit, const record_set *want,
                            dala_store *const *devices, size_t device_count)
{
    record_set central = {0};
    sqlite3 *mem = NULL, *db = central_open(h);
    int mismatches = 0;
    central_records(&central, h, unit, GEN_TABLE);
    check_same_ids(&central, want, "the server's unit");
    CHECK_EQ_INT(sqlite3_open(":memory:", &mem), SQLITE_OK);
    for (size_t i = 0; db && i < want->count && mismatches < 3; i++) {
        char *server_json = central_fields_json(db, want->ids[i]);
        if (!server_json) {
            test_fail(__FILE__, __LINE__, "record %s: not readable on the server", want->ids[i]);
            mismatches++;
            continue;
        }
        if (want->json[i] && json_objects_equal(mem, server_json, "$", want->json[i], "$") != 1) {
            test_fail(__FILE__, __LINE__, "record %s: the server holds %s, captured %s", want->ids[i],
                      server_json, want->json[i]);
            mismatches++;
        }
        for (size_t d = 0; d < device_count; d++) {
            char *device_json = NULL;
            int rc = dala_record_get_json(&device_json, devices[d], want->ids[i]);
            if (rc) {
                test_fail(__FILE__, __LINE__, "device %zu: record %s: %s", d, want->ids[i], dala_errmsg());
                mismatches++;
            } else if (json_objects_equal(mem, device_json, "$.fields", server_json, "$") != 1) {
                test_fail(__FILE__, __LINE__, "device %zu: record %s is %s; the server holds %s", d,
                          want->ids[i], device_json, server_json);
                mismatches++;
            }
            dala_free(device_json);
        }
        free(server_json);
    }
    for (size_t d = 0; d < device_count; d++) {
        record_set held = {0};
        char what[32];
        snprintf(what, sizeof what, "device %zu", d);
        device_records(&held, devices[d], -1);
        check_same_ids(&held, want, what);
        CHECK_EQ_U64(device_status(devices[d]).pending_changes, 0);
        set_free(&held);
    }
    sqlite3_close(mem);
    sqlite3_close(db);
    set_free(&central);
}

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

/* dala-server as a child process of the test. */
typedef struct child_server {
    pid_t pid;
    int port;
    char binary[PATH_MAX + 32], port_file[600], log_file[600];
} child_server;

/* The dala-server binary: $DALA_BUILD/dala-server, else the one beside
 * this run_tests (build/ or build/asan/), else build/dala-server. */
static void child_find_binary(child_server *c)
{
    const char *dir = getenv("DALA_BUILD");
    char exe[PATH_MAX];
    if (!dir || !*dir) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        char *slash = n > 0 ? (exe[n] = '\0', strrchr(exe, '/')) : NULL;
        if (slash) *slash = '\0';
        dir = slash ? exe : "build";
    }
    snprintf(c->binary, sizeof c->binary, "%s/dala-server", dir);
}

/* Starts `dala-server serve` on `db` at 127.0.0.1:`port` (0: any) and
 * waits (at most 10 s) for its port file. Returns 0, or -1 after a CHECK. */
static int child_start(child_server *c, const char *db, int port)
{
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    unlink(c->port_file);
    int log_fd = open(c->log_file, O_WRONLY | O_CREAT | O_APPEND, 0600);
    char *argv[] = {"dala-server", "serve", "--db", (char *)db, "--listen", listen,
                    "--port-file", c->port_file, "--quiet", NULL};
    pid_t pid = fork();
    if (pid == 0) {
        if (log_fd >= 0) {
            dup2(log_fd, STDOUT_FILENO);
            dup2(log_fd, STDERR_FILENO);
        }
        execv(c->binary, argv);
        _exit(127);
    }
    if (log_fd >= 0) close(log_fd);
    if (pid < 0) {
        test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
        return -1;
    }
    c->pid = pid;
    for (uint64_t started = monotonic_ms(); monotonic_ms() - started < 10000;) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            c->pid = 0;
            test_fail(__FILE__, __LINE__, "%s exited at start (status 0x%x); see %s", c->binary,
                      status, c->log_file);
            return -1;
        }
        FILE *f = fopen(c->port_file, "r");
        if (f) {
            int found = 0;
            char newline = 0;
            int complete = fscanf(f, "%d%c", &found, &newline) == 2 && newline == '\n';
            fclose(f);
            if (complete) {
                c->port = found;
                return 0;
            }
        }
        usleep(2000);
    }
    test_fail(__FILE__, __LINE__, "%s wrote no port file in 10 s; see %s", c->binary, c->log_file);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    c->pid = 0;
    return -1;
}

/* Reaps the child after a SIGKILL (sent here or by the killer thread). */
static void child_reap_killed(child_server *c)
{
    int status = 0;
    if (!c->pid) return;
    kill(c->pid, SIGKILL); /* already dead: harmless, the pid is not reaped yet */
    CHECK_EQ_INT(waitpid(c->pid, &status, 0), c->pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    c->pid = 0;
}

/* Whether the file at `path` contains `text` (in its first 64 KiB). */
static int log_mentions(const char *path, const char *text)
{
    char buffer[65536];
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buffer, 1, sizeof buffer - 1, f);
    fclose(f);
    buffer[n] = '\0';
    return strstr(buffer, text) != NULL;
}

/* Stops the child with SIGTERM (it finishes requests in flight) and
 * checks that it exits 0 within 10 s; SIGKILL after that. */
static void child_stop(child_server *c)
{
    int status = 0;
    port_poker poker;
    if (!c->pid) return;
    poker_start(&poker, c->port);
    kill(c->pid, SIGTERM);
    uint64_t started = monotonic_ms();
    while (waitpid(c->pid, &status, WNOHANG) == 0) {
        if (monotonic_ms() - started > 10000) {
            test_fail(__FILE__, __LINE__, "dala-server ignored SIGTERM for 10 s");
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            break;
        }
        usleep(2000);
    }
    poker_stop(&poker);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        test_fail(__FILE__, __LINE__, "dala-server did not exit 0 after SIGTERM (status 0x%x)%s; see %s",
                  status, log_mentions(c->log_file, "LeakSanitizer") ? ": LeakSanitizer found leaks" : "",
                  c->log_file);
    c->pid = 0;
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

/* Adds to `acked` the device's records it holds as acknowledged. */
static void note_acked(record_set *acked, dala_store *device)
{
    record_set synced = {0};
    device_records(&synced, device, DALA_RECORD_SYNCED);
    for (size_t i = 0; i < synced.count; i++)
        if (set_find(acked, synced.ids[i]) < 0) set_add(acked, synced.ids[i], NULL);
    set_free(&synced);
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
    child_find_binary(&c);
    snprintf(c.port_file, sizeof c.port_file, "%s/port", h.dir);
    snprintf(c.log_file, sizeof c.log_file, "%s/dala-server.log", h.dir);
    if (access(c.binary, X_OK) != 0) {
        test_fail(__FILE__, __LINE__, "%s is missing: run `make build-all` first (or set DALA_BUILD)",
                  c.binary);
        return;
    }
    if (child_start(&c, h.db_path, 0)) return;
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
        if (child_start(&c, h.db_path, h.port)) goto done;
        CHECK_EQ_INT(c.port, h.port);
        CHECK_OK(sync_via(device, NULL, 20, NULL));
        note_acked(&acked, device);
        CHECK_EQ_U64(acked.count, captured.count);
    }
    check_converged(&h, h.unit_a, &captured, &device, 1);
    check_unit_log_once(&h, h.unit_a);
    child_stop(&c);
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

/* A field's version on a device, from dala_record_get_json. */
static dala_version device_field_version(dala_store *store, const char *id, const char *field)
{
    dala_version version = {0, 0};
    char *json = NULL, path[96];
    CHECK_OK(dala_record_get_json(&json, store, id));
    snprintf(path, sizeof path, "$.versions.%s.hlc", field);
    char *hlc = json_get(json, path);
    snprintf(path, sizeof path, "$.versions.%s.device_id", field);
    char *device = json_get(json, path);
    if (hlc && device) {
        version.hlc = strtoull(hlc, NULL, 10);
        version.device_id = strtoull(device, NULL, 10);
    }
    CHECK(hlc && device);
    free(hlc);
    free(device);
    dala_free(json);
    return version;
}

/* A field's value on a device, as text (json_get); malloc'd or NULL. */
static char *device_field(dala_store *store, const char *id, const char *field)
{
    char *json = NULL, path[80];
    CHECK_OK(dala_record_get_json(&json, store, id));
    snprintf(path, sizeof path, "$.fields.%s", field);
    char *value = json_get(json, path);
    dala_free(json);
    return value;
}

typedef struct conflict_copy {
    size_t count;
    char record_id[DALA_ID_TEXT_BYTES], field[64], loser_value[64], status[16];
    dala_version winner, loser;
} conflict_copy;

static int copy_conflict(void *context, const dala_conflict *conflict)
{
    conflict_copy *copy = context;
    if (copy->count++ == 0) {
        snprintf(copy->record_id, sizeof copy->record_id, "%s", conflict->record_id);
        snprintf(copy->field, sizeof copy->field, "%s", conflict->field);
        snprintf(copy->loser_value, sizeof copy->loser_value, "%s", conflict->loser_value_json);
        snprintf(copy->status, sizeof copy->status, "%s", conflict->status);
        copy->winner = (dala_version){conflict->winner_hlc, conflict->winner_device};
        copy->loser = (dala_version){conflict->loser_hlc, conflict->loser_device};
    }
    return 0;
}

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

    /* Both edit the same field while offline. */
    CHECK_OK(dala_record_put(NULL, a1, GEN_TABLE, id, "{\"risk_level\": \"high\"}"));
    CHECK_OK(dala_record_put(NULL, a2, GEN_TABLE, id, "{\"risk_level\": \"medium\"}"));
    dala_version v1 = device_field_version(a1, id, "risk_level");
    dala_version v2 = device_field_version(a2, id, "risk_level");
    int first_wins = dala_version_compare(&v1, &v2) > 0;
    const char *winner = first_wins ? "high" : "medium", *loser = first_wins ? "\"medium\"" : "\"high\"";
    dala_version win = first_wins ? v1 : v2, lose = first_wins ? v2 : v1;
    for (int round = 0; round < 2; round++) {
        sync_ok(a1);
        sync_ok(a2);
    }

    char *on_a1 = device_field(a1, id, "risk_level"), *on_a2 = device_field(a2, id, "risk_level");
    char *on_server = central_field(&h, id, "risk_level");
    CHECK_EQ_STR(on_a1, winner);
    CHECK_EQ_STR(on_a2, winner);
    CHECK_EQ_STR(on_server, winner);
    free(on_a1);
    free(on_a2);
    free(on_server);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'conflict'", 0, 0), 1);
    dala_store *devices[] = {a1, a2};
    for (int d = 0; d < 2; d++) {
        conflict_copy copy;
        memset(&copy, 0, sizeof copy);
        CHECK_OK(dala_conflict_list(devices[d], copy_conflict, &copy));
        CHECK_EQ_INT(copy.count, 1);
        CHECK_EQ_STR(copy.record_id, id);
        CHECK_EQ_STR(copy.field, "risk_level");
        CHECK_EQ_STR(copy.loser_value, loser);
        CHECK_EQ_STR(copy.status, "open");
        CHECK_EQ_U64(copy.winner.hlc, win.hlc);
        CHECK_EQ_U64(copy.winner.device_id, win.device_id);
        CHECK_EQ_U64(copy.loser.hlc, lose.hlc);
        CHECK_EQ_U64(copy.loser.device_id, lose.device_id);
        CHECK_EQ_U64(device_status(devices[d]).conflict_count, 1);
        CHECK_EQ_U64(device_status(devices[d]).pending_changes, 0);
        dala_version held = device_field_version(devices[d], id, "risk_level");
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
