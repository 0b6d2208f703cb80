/* e2e_support.c - see e2e_support.h. */
#include "e2e_support.h"

#include "raw_client.h"
#include "testhelp.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* Stops the harness's in-process server (dala_server_stop is quick). */
void e2e_stop(harness *h)
{
    if (h->server) harness_stop(h);
}

/* ------------------------------------------------------------ record sets */


void set_free(record_set *set)
{
    for (size_t i = 0; i < set->count; i++) free(set->json[i]);
    free(set->ids);
    free(set->json);
    memset(set, 0, sizeof *set);
}

long set_find(const record_set *set, const char *id)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->ids[i], id) == 0) return (long)i;
    return -1;
}

/* Adds `id` (and a copy of `json`, may be NULL). */
void set_add(record_set *set, const char *id, const char *json)
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
void check_same_ids(const record_set *got, const record_set *want, const char *what)
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
char *json_get(const char *json, const char *path)
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

char *sql_text(const char *sql, const char *const *args, size_t count)
{
    sqlite3 *mem = NULL;
    sqlite3_stmt *stmt;
    char *out = NULL;
    if (sqlite3_open(":memory:", &mem) == SQLITE_OK && sqlite3_prepare_v2(mem, sql, -1, &stmt, NULL) == SQLITE_OK) {
        for (size_t i = 0; i < count; i++) sqlite3_bind_text(stmt, (int)i + 1, args[i], -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
            out = strdup((const char *)sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
    } else {
        test_fail(__FILE__, __LINE__, "%s: %s", sql, mem ? sqlite3_errmsg(mem) : "no memory");
    }
    sqlite3_close(mem);
    return out;
}

long long int_of_text(char *text)
{
    long long value = text ? strtoll(text, NULL, 10) : -1;
    free(text);
    return value;
}

long long count_of(const char *json, const char *path)
{
    return int_of_text(SQL_TEXT("SELECT json_array_length(?1, ?2)", json, path));
}

long long count_where(const char *json, const char *path, const char *key, const char *value)
{
    return int_of_text(SQL_TEXT("SELECT count(*) FROM json_each(?1, ?2) WHERE CAST(json_extract(value, '$.' || ?3) AS TEXT) = ?4",
                                json, path, key, value));
}

char *member_where(const char *json, const char *path, const char *key, const char *value, const char *member)
{
    return SQL_TEXT("SELECT json_extract(value, '$.' || ?5) FROM json_each(?1, ?2) "
                    "WHERE CAST(json_extract(value, '$.' || ?3) AS TEXT) = ?4 ORDER BY key LIMIT 1",
                    json, path, key, value, member);
}

void check_text(const char *file, int line, char *got, const char *want, const char *what)
{
    if (want ? !got || strcmp(got, want) : got != NULL)
        test_fail(file, line, "%s is \"%s\", expected \"%s\"", what, got ? got : "(absent)", want ? want : "(absent)");
    free(got);
}

void url_encode(char *out, size_t size, const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && n + 4 < size; p++) {
        if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || strchr("-_.~", *p))
            out[n++] = (char)*p;
        else
            n += (size_t)snprintf(out + n, size - n, "%%%02X", *p);
    }
    out[n] = '\0';
}

/* Whether the objects at `a_path` of `a` and `b_path` of `b` have the same
 * members with equal values (numbers compared as numbers). 1 equal, 0 not,
 * -1 when either is not JSON. `mem` is any SQLite connection. */
int json_objects_equal(sqlite3 *mem, const char *a, const char *a_path, const char *b,
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

int json_append_string(dala_buf *out, const uint8_t *text, size_t len)
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
char *gen_fields_json(const gen_record *rec)
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
/* The app's keystore in the tests: a fixed mask stands in for a key the
 * platform keeps. */
static int keystore_wrap(void *context, const uint8_t *data_key, uint8_t *wrapped, size_t *len)
{
    (void)context;
    for (int i = 0; i < 32; i++) wrapped[i] = data_key[i] ^ (uint8_t)(0xa5 + i);
    *len = 32;
    return DALA_OK;
}

static int keystore_unwrap(void *context, const uint8_t *wrapped, size_t len, uint8_t *data_key)
{
    (void)context;
    if (len != 32) return DALA_EAUTH;
    for (int i = 0; i < 32; i++) data_key[i] = wrapped[i] ^ (uint8_t)(0xa5 + i);
    return DALA_OK;
}

const dala_store_key *test_keystore_key(void)
{
    static const dala_key_provider provider = {DALA_KEY_PROVIDER_VERSION, keystore_wrap, keystore_unwrap, NULL};
    static const dala_store_key key = {DALA_STORE_KEY_VERSION, NULL, &provider, 0};
    return &key;
}

static dala_store *enrol_store(harness *h, const char *name, int64_t officer, int64_t unit, int sealed)
{
    char code[32], path[600];
    dala_store *store = NULL;
    snprintf(path, sizeof path, "%s/%s.db", h->dir, name);
    if (harness_code(h, code, officer, unit)) return NULL;
    CHECK_OK(sealed ? dala_store_open_keyed(&store, path, test_keystore_key()) : dala_store_open(&store, path));
    if (!store) return NULL;
    int rc = dala_store_enroll(store, h->url, code, NULL);
    CHECK_OK(rc);
    if (rc) {
        dala_store_close(store);
        return NULL;
    }
    return store;
}

dala_store *device_enrol(harness *h, const char *name, int64_t officer, int64_t unit)
{
    return enrol_store(h, name, officer, unit, 0);
}

dala_store *device_enrol_sealed(harness *h, const char *name, int64_t officer, int64_t unit)
{
    return enrol_store(h, name, officer, unit, 1);
}

dala_status device_status(dala_store *store)
{
    dala_status status;
    memset(&status, 0, sizeof status);
    CHECK_OK(dala_store_status(&status, store));
    return status;
}

/* Captures `count` generated field visits on `store`; adds each id and
 * its JSON to `into`. */
void capture(record_set *into, dala_store *store, records_gen *gen, int count)
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


int add_listed(void *context, const dala_record_info *info)
{
    listing *l = context;
    if (l->state < 0 || (int)info->state == l->state) set_add(l->set, info->id, NULL);
    return 0;
}

/* Adds the ids of the device's field visits in `state` (-1: any) to `out`. */
void device_records(record_set *out, dala_store *store, int state)
{
    listing l = {out, state};
    CHECK_OK(dala_record_list(store, GEN_TABLE, add_listed, &l));
}

int api_tablets_open(api_tablets *out, harness *h)
{
    memset(out, 0, sizeof *out);
    dala_admin *admin = NULL;
    int64_t almaty = 0, body = 0;
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_unit_find(&almaty, admin, "pd-almaty-city");
    if (!rc) rc = dala_admin_unit_add(&body, admin, almaty, "body", "Almaly district police");
    if (!rc) rc = dala_admin_unit_add(&out->almaty_unit, admin, body, "unit", "Almaly district unit");
    if (!rc)
        rc = dala_admin_user_add(&out->almaty_officer, admin, "g.omarova", "Gulnar Omarova", "inspector", out->almaty_unit);
    dala_admin_close(admin);
    CHECK_OK(rc);
    if (rc) return -1;
    out->a1 = device_enrol(h, "a1", h->officer_a, h->unit_a);
    out->a2 = device_enrol(h, "a2", h->officer_a2, h->unit_a);
    out->b1 = device_enrol(h, "b1", h->officer_b, h->unit_b);
    out->almaty1 = device_enrol(h, "almaty1", out->almaty_officer, out->almaty_unit);
    if (out->a1 && out->a2 && out->b1 && out->almaty1) return 0;
    api_tablets_close(out);
    return -1;
}

void api_tablets_close(api_tablets *t)
{
    dala_store_close(t->a1);
    dala_store_close(t->a2);
    dala_store_close(t->b1);
    dala_store_close(t->almaty1);
    memset(t, 0, sizeof *t);
}

char *device_field(dala_store *store, const char *id, const char *field)
{
    char *json = NULL, path[80];
    CHECK_OK(dala_record_get_json(&json, store, id));
    snprintf(path, sizeof path, "$.fields.%s", field);
    char *value = json_get(json, path);
    dala_free(json);
    return value;
}

dala_version device_field_version(dala_store *store, const char *id, const char *field)
{
    dala_version version = {0, 0};
    char *json = NULL, path[96];
    CHECK_OK(dala_record_get_json(&json, store, id));
    snprintf(path, sizeof path, "$.versions.%s.hlc", field);
    char *hlc = json_get(json, path);
    snprintf(path, sizeof path, "$.versions.%s.device_id", field);
    char *device = json_get(json, path);
    CHECK(hlc && device);
    if (hlc && device) version = (dala_version){strtoull(hlc, NULL, 10), strtoull(device, NULL, 10)};
    free(hlc);
    free(device);
    dala_free(json);
    return version;
}

/* A dala_conflict_log_fn: counts the conflicts into the conflict_copy at
 * `context` and copies the first. */
static int copy_conflict(void *context, const dala_conflict *conflict)
{
    conflict_copy *copy = context;
    if (copy->count++ == 0) {
        snprintf(copy->conflict_id, sizeof copy->conflict_id, "%s", conflict->conflict_id);
        snprintf(copy->record_id, sizeof copy->record_id, "%s", conflict->record_id);
        snprintf(copy->field, sizeof copy->field, "%s", conflict->field);
        snprintf(copy->loser_value, sizeof copy->loser_value, "%s", conflict->loser_value_json);
        snprintf(copy->status, sizeof copy->status, "%s", conflict->status);
        copy->winner = (dala_version){conflict->winner_hlc, conflict->winner_device};
        copy->loser = (dala_version){conflict->loser_hlc, conflict->loser_device};
    }
    return 0;
}

conflict_copy sole_conflict_at(const char *file, int line, dala_store *store, const char *id, const char *field,
                               const char *loser_value)
{
    conflict_copy copy;
    memset(&copy, 0, sizeof copy);
    int rc = dala_conflict_list(store, copy_conflict, &copy);
    if (rc) test_fail(file, line, "dala_conflict_list returned %d (%s)", rc, dala_errmsg());
    if (copy.count != 1) test_fail(file, line, "%zu conflicts listed, expected 1", copy.count);
    if (strcmp(copy.record_id, id) || strcmp(copy.field, field) || strcmp(copy.loser_value, loser_value))
        test_fail(file, line, "the conflict is about %s of %s with loser %s, expected %s of %s with loser %s",
                  copy.field, copy.record_id, copy.loser_value, field, id, loser_value);
    return copy;
}

/* One dala_sync through `transport` (NULL: the built-in one), pushing at
 * most `max_push` changes a round trip (0: the default). */
int sync_via(dala_store *store, const dala_transport *transport, uint32_t max_push,
                    dala_sync_stats *stats)
{
    dala_sync_options options = DALA_SYNC_OPTIONS_INIT;
    options.transport = transport;
    options.max_push_changes = max_push;
    options.timeout_ms = E2E_TIMEOUT_MS;
    return dala_sync(stats, store, &options);
}

void sync_ok(dala_store *store)
{
    CHECK_OK(sync_via(store, NULL, 0, NULL));
}

void sync_taken(dala_store *store)
{
    sync_ok(store);
    dala_status status = device_status(store);
    if (status.pending_changes || status.rejected_changes)
        test_fail(__FILE__, __LINE__, "device %llu: %llu changes left to push, %llu refused",
                  (unsigned long long)status.device_id, (unsigned long long)status.pending_changes,
                  (unsigned long long)status.rejected_changes);
}

/* ------------------------------------------------------- fault transport */



int fault_post(void *context, const char *url, const char *content_type, const void *body,
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

void fault_init(fault_transport *fault, fault_kind kind, unsigned fail_at)
{
    memset(fault, 0, sizeof *fault);
    fault->transport.version = DALA_TRANSPORT_VERSION;
    fault->transport.post = fault_post;
    fault->transport.context = fault;
    fault->kind = kind;
    fault->fail_at = fail_at;
}

/* Spoils the next sync POST with `kind`. */
void fault_arm_next(fault_transport *fault, fault_kind kind)
{
    fault->kind = kind;
    fault->fail_at = fault->posts + 1;
}

void fault_free(fault_transport *fault)
{
    dala_buf_free(&fault->first_accepted);
    dala_buf_free(&fault->last_accepted);
}

/* ------------------------------------------------------ central database */

/* Opens the server's database beside the server (or after it died). */
sqlite3 *central_open(const harness *h)
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
long long central_int(const harness *h, const char *sql, int64_t a, int64_t b)
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

char *central_text(const harness *h, const char *sql, int64_t a)
{
    sqlite3 *db = central_open(h);
    sqlite3_stmt *stmt;
    char *out = NULL;
    if (db && sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
        if (sqlite3_bind_parameter_count(stmt) >= 1) sqlite3_bind_int64(stmt, 1, a);
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
            out = strdup((const char *)sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
    } else if (db) {
        test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return out;
}

int64_t central_user_add(const harness *h, const char *login, const char *role, int64_t unit)
{
    dala_admin *admin = NULL;
    int64_t id = 0;
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_user_add(&id, admin, login, login, role, unit);
    dala_admin_close(admin);
    CHECK_OK(rc);
    return id;
}

int64_t central_unit_find(const harness *h, const char *code)
{
    dala_admin *admin = NULL;
    int64_t id = 0;
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_unit_find(&id, admin, code);
    dala_admin_close(admin);
    CHECK_OK(rc);
    return rc ? 0 : id;
}

int64_t central_unit_add(const harness *h, int64_t parent, const char *kind, const char *name)
{
    dala_admin *admin = NULL;
    int64_t id = 0;
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_unit_add(&id, admin, parent, kind, name);
    dala_admin_close(admin);
    CHECK_OK(rc);
    return rc ? 0 : id;
}

/* Adds the ids of the server's records of `unit` in `table` to `out`. */
void central_records(record_set *out, const harness *h, int64_t unit, const char *table)
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
char *central_fields_json(sqlite3 *db, const char *id)
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
char *central_field(const harness *h, const char *id, const char *field)
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
void check_unit_log_once(const harness *h, int64_t unit)
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
void check_converged(const harness *h, int64_t unit, const record_set *want,
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

/* ------------------------------------------------------ questionnaires */

char *form_text(int version, const char *code)
{
    char relative[64];
    snprintf(relative, sizeof relative, "../schema/forms/vaw-survey-v%d.json", version);
    char *text = test_read_file(test_data_path(relative));
    const char *at = text && code ? strstr(text, "\"vaw-household\"") : NULL;
    if (!at) return text;
    dala_buf out = DALA_BUF_INIT;
    dala_buf_append(&out, text, (size_t)(at - text));
    dala_buf_append(&out, "\"", 1);
    dala_buf_append(&out, code, strlen(code));
    dala_buf_append(&out, "\"", 1);
    at += strlen("\"vaw-household\"");
    dala_buf_append(&out, at, strlen(at) + 1);
    free(text);
    return (char *)out.data;
}

void publish_form(harness *h, int version, const char *code, const char *unit_code, char id[DALA_ID_TEXT_BYTES])
{
    dala_admin *admin;
    int64_t unit = 0;
    char *text = form_text(version, code);
    CHECK_OK(dala_admin_open(&admin, h->db_path));
    if (unit_code) CHECK_OK(dala_admin_unit_find(&unit, admin, unit_code));
    CHECK_OK(dala_admin_form_publish(id, admin, text, unit));
    dala_admin_close(admin);
    free(text);
}

/* -------------------------------------------------------------- programs */

int run_with_timeout(int *wait_status, const char *const *argv, const char *stdin_path, const char *stdout_path,
                     const char *stderr_path, uint64_t timeout_ms)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int in_fd = stdin_path ? open(stdin_path, O_RDONLY) : 0;
        int out_fd = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err_fd = stderr_path ? open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : out_fd;
        if (in_fd < 0 || out_fd < 0 || err_fd < 0) _exit(127);
        dup2(in_fd, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    uint64_t deadline = monotonic_ms() + timeout_ms;
    *wait_status = 0;
    while (waitpid(pid, wait_status, WNOHANG) == 0) {
        if (monotonic_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, wait_status, 0);
            return -1;
        }
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return 0;
}

int write_pin_file(const char *path, const char *pin)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t len = strlen(pin);
    int ok = fd >= 0 && fchmod(fd, 0600) == 0 && write(fd, pin, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    if (fd >= 0) close(fd);
    if (!ok) test_fail(__FILE__, __LINE__, "cannot write the PIN file %s", path);
    return ok ? 0 : -1;
}

void note_acked(record_set *acked, dala_store *device)
{
    record_set synced = {0};
    device_records(&synced, device, DALA_RECORD_SYNCED);
    for (size_t i = 0; i < synced.count; i++)
        if (set_find(acked, synced.ids[i]) < 0) set_add(acked, synced.ids[i], NULL);
    set_free(&synced);
}

int integrity_of(char *result, size_t size, const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt;
    snprintf(result, size, "(no answer)");
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 10000) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL) == SQLITE_OK) {
        if (sqlite3_step(stmt) == SQLITE_ROW) snprintf(result, size, "%s", (const char *)sqlite3_column_text(stmt, 0));
        sqlite3_finalize(stmt);
    } else {
        snprintf(result, size, "%s", db ? sqlite3_errmsg(db) : "no memory");
    }
    sqlite3_close(db);
    return strcmp(result, "ok") == 0;
}

void check_integrity(const char *path)
{
    char result[200];
    if (!integrity_of(result, sizeof result, path))
        test_fail(__FILE__, __LINE__, "integrity_check of %s: %s", path, result);
}

int run_dala(char **out, uint64_t *took_ms, const char *dir, const char *env, const char *input,
             const char *const *args, uint64_t timeout_ms)
{
    char in_path[600], out_path[600], store[600], pin[600];
    const char *argv[32];
    size_t argc = 0;
    snprintf(in_path, sizeof in_path, "%s/dala-in.txt", dir);
    snprintf(out_path, sizeof out_path, "%s/dala-out.txt", dir);
    snprintf(store, sizeof store, "%s/tablet.db", dir);
    snprintf(pin, sizeof pin, "%s/tablet.pin", dir);
    *out = NULL;
    if (took_ms) *took_ms = 0;
    if (input) {
        FILE *in = fopen(in_path, "w");
        if (!in) return -1;
        fputs(input, in);
        fclose(in);
    }
    if (write_pin_file(pin, CLI_TEST_PIN)) return -1;
    if (env) {
        argv[argc++] = "/usr/bin/env";
        argv[argc++] = env;
    }
    argv[argc++] = test_binary_path("dala");
    argv[argc++] = "--store";
    argv[argc++] = store;
    argv[argc++] = "--pin-file";
    argv[argc++] = pin;
    for (size_t i = 0; args[i] && argc < 31; i++) argv[argc++] = args[i];
    argv[argc] = NULL;
    int status;
    uint64_t started = monotonic_ms();
    int rc = run_with_timeout(&status, argv, input ? in_path : "/dev/null", out_path, NULL, timeout_ms);
    if (took_ms) *took_ms = monotonic_ms() - started;
    if (rc) return -1;
    *out = test_read_file(out_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int timed_post(const dala_transport *transport, int port, size_t max_answer_bytes, int timeout_ms, char *message,
               size_t size, uint64_t *took_ms)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/sync", port);
    int status = 0;
    void *answer = NULL;
    size_t answer_len = 0;
    uint64_t started = monotonic_ms();
    int rc = transport->post(transport->context, url, "application/octet-stream", "0123456789abcdef", 16, &status,
                             &answer, &answer_len, max_answer_bytes, timeout_ms);
    *took_ms = monotonic_ms() - started;
    snprintf(message, size, "%s", rc ? dala_errmsg() : "");
    free(answer);
    return rc;
}
