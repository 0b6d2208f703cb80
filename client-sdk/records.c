/* records.c - a device's records: writing one (row and outbox entry in
 * one transaction, with the field versions the merge needs), voiding,
 * reading one as JSON, and listing them.
 *
 * A local write gives every field it sets the version (hlc, device_id) of
 * a fresh timestamp from the persisted clock, and records in the change,
 * per field, the version it replaced (base_hlc), so the server can tell a
 * fast-forward from a concurrent edit. The clock is read and saved inside
 * the write's transaction, so two stores on one file never reuse a
 * timestamp. */
#include "sdk_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int dala_record_id_normalise(char out[DALA_ID_TEXT_BYTES], const char *text)
{
    uint8_t uuid[DALA_UUID_BYTES];
    if (!text || dala_uuid_parse(uuid, text) != DALA_OK)
        return dala_error_set(DALA_EINVAL, "record id: not a UUID (8-4-4-4-12 hex digits)");
    dala_uuid_format(out, uuid);
    return DALA_OK;
}

int dala_record_load(char **table_out, uint64_t *unit_out, dala_record *record, sqlite3 *db,
                     const char *record_id)
{
    sqlite3_stmt *stmt;
    *table_out = NULL;
    *unit_out = 0;
    dala_record_clear(record);
    int rc = dala_db_prepare_cached(&stmt, db, "SELECT tbl, unit_id, data FROM record WHERE id = ?1");
    if (rc) return rc;
    sqlite3_bind_text(stmt, 1, record_id, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_DONE) {
        rc = dala_error_set(DALA_ENOTFOUND, "record %s: not found", record_id);
    } else if (step != SQLITE_ROW) {
        rc = dala_db_error(db, step, "read record");
    } else {
        *unit_out = (uint64_t)sqlite3_column_int64(stmt, 1);
        rc = dala_record_decode(record, sqlite3_column_blob(stmt, 2),
                                (size_t)sqlite3_column_bytes(stmt, 2));
        if (rc) dala_error_set(rc, "record %s: stored blob: %s", record_id, dala_errmsg());
        else if (!(*table_out = strdup((const char *)sqlite3_column_text(stmt, 0))))
            rc = dala_error_set(DALA_ENOMEM, "read record: out of memory");
    }
    dala_db_release(stmt);
    return rc;
}

/* The greatest field version's hlc: when the record last changed. */
static uint64_t latest_hlc(const dala_record *record)
{
    uint64_t latest = 0;
    for (size_t i = 0; i < record->field_count; i++)
        if (record->fields[i].version.hlc > latest) latest = record->fields[i].version.hlc;
    return latest;
}

static int is_voided(const dala_record *record)
{
    const dala_record_field *reason = dala_record_find(record, "void_reason");
    return reason && reason->value.type == DALA_VALUE_TEXT && reason->value.len > 0;
}

int dala_record_store(sqlite3 *db, const char *record_id, const char *table, uint64_t unit_id,
                      const dala_record *record)
{
    dala_buf blob = DALA_BUF_INIT;
    sqlite3_stmt *stmt;
    int rc = dala_record_encode(&blob, record);
    if (!rc) rc = dala_db_prepare_cached(&stmt, db,
                                  "INSERT INTO record(id, tbl, unit_id, updated_hlc, is_voided, data) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET "
                                  "updated_hlc = excluded.updated_hlc, "
                                  "is_voided = excluded.is_voided, data = excluded.data");
    if (rc) goto done;
    sqlite3_bind_text(stmt, 1, record_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, table, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)unit_id);
    sqlite3_bind_int64(stmt, 4, (sqlite3_int64)latest_hlc(record));
    sqlite3_bind_int(stmt, 5, is_voided(record));
    sqlite3_bind_blob(stmt, 6, blob.data, (int)blob.len, SQLITE_STATIC);
    rc = dala_db_step_done(stmt, "write record");
    dala_db_release(stmt);
done:
    dala_buf_free(&blob);
    return rc;
}

/* Issues the write's timestamp: after everything the persisted clock has
 * issued or seen and after every version the write replaces (a pulled
 * version may be a little ahead of this clock), so base_hlc < hlc. */
static int next_timestamp(uint64_t *out, sqlite3 *db, const dala_field_list *fields)
{
    int64_t saved;
    int rc = dala_meta_get_int(&saved, db, "hlc", 0);
    if (rc) return rc;
    uint64_t floor = (uint64_t)saved;
    for (size_t i = 0; i < fields->count; i++)
        if (fields->fields[i].base_hlc > floor) floor = fields->fields[i].base_hlc;
    uint64_t now_ms;
    rc = dala_device_clock_ms(&now_ms, db);
    if (rc) return rc;
    dala_hlc clock;
    dala_hlc_init(&clock, floor);
    rc = dala_hlc_now(out, &clock, now_ms);
    if (!rc) rc = dala_meta_set_int(db, "hlc", (int64_t)dala_hlc_state(&clock));
    return rc;
}

/* The body of a write, inside the caller's transaction. `table` NULL: the
 * record must exist (a void) and keeps its table. */
static int write_in_transaction(sqlite3 *db, const char *id, const char *table,
                                dala_field_list *fields)
{
    dala_record record = DALA_RECORD_INIT;
    char *stored_table = NULL;
    uint64_t unit_id = 0;
    int64_t device_id, own_unit;
    int rc = dala_meta_get_int(&device_id, db, "device_id", 0);
    if (!rc) rc = dala_meta_get_int(&own_unit, db, "unit_id", 0);
    if (!rc && device_id <= 0)
        rc = dala_error_set(DALA_EINVAL, "store is not enrolled: enroll the device first");
    if (rc) return rc;
    rc = dala_record_load(&stored_table, &unit_id, &record, db, id);
    if (rc == DALA_ENOTFOUND && table) {
        rc = DALA_OK;
        unit_id = (uint64_t)own_unit;
    }
    if (rc) goto done;
    if (!table && !dala_table_is_writable(stored_table)) {
        rc = dala_error_set(DALA_EINVAL, "record %s: table %s is written by the server only", id,
                            stored_table);
        goto done;
    }
    if (table && stored_table && strcmp(table, stored_table) != 0) {
        rc = dala_error_set(DALA_EINVAL, "record %s belongs to table %s, not %s", id, stored_table,
                            table);
        goto done;
    }
    if (!table) table = stored_table;
    for (size_t i = 0; i < fields->count; i++) {
        const dala_record_field *current = dala_record_find(&record, fields->fields[i].name);
        fields->fields[i].base_hlc = current ? current->version.hlc : 0;
    }
    dala_change change = {table, {0}, 0, (uint64_t)device_id, fields->count, fields->fields};
    dala_uuid_parse(change.record_id, id);
    /* The rules the server applies again: refuse here what it would refuse. */
    rc = dala_device_check(db, &change, stored_table ? &record : NULL);
    if (!rc) rc = next_timestamp(&change.hlc, db, fields);
    dala_version version = {change.hlc, (uint64_t)device_id};
    for (size_t i = 0; !rc && i < fields->count; i++)
        rc = dala_record_set(&record, fields->fields[i].name, &fields->fields[i].value, &version, 0);
    if (!rc) rc = dala_record_store(db, id, table, unit_id, &record);
    if (!rc) rc = dala_outbox_append(db, &change, id);
done:
    free(stored_table);
    dala_record_clear(&record);
    return rc;
}

/* Writes `fields` to record `id` in one transaction. */
static int write_fields(dala_store *store, const char *id, const char *table,
                        dala_field_list *fields)
{
    int rc = dala_db_begin(store->db);
    if (rc) return rc;
    rc = write_in_transaction(store->db, id, table, fields);
    if (rc) {
        dala_db_rollback(store->db);
        return rc;
    }
    return dala_db_commit(store->db);
}

/* dala_record_put without the error prefix. */
static int put_record(char *id_out, dala_store *store, const char *table, const char *record_id,
                      const char *fields_json)
{
    char id[DALA_ID_TEXT_BYTES];
    if (!store) return dala_error_set(DALA_EINVAL, "store is NULL");
    if (!table || !dala_table_is_writable(table)) {
        int printable = table && dala_name_is_valid(table, strlen(table));
        return dala_error_set(DALA_EINVAL, "table %s is not one devices write",
                              printable ? table : "(invalid name)");
    }
    int rc;
    if (record_id) {
        rc = dala_record_id_normalise(id, record_id);
    } else {
        uint8_t uuid[DALA_UUID_BYTES];
        rc = dala_uuid_v7(uuid, dala_wall_clock_ms());
        if (!rc) dala_uuid_format(id, uuid);
    }
    if (rc) return rc;
    dala_field_list fields;
    rc = dala_fields_parse(&fields, store->db, fields_json);
    if (rc) return rc;
    rc = write_fields(store, id, table, &fields);
    dala_field_list_free(&fields);
    if (!rc && id_out) memcpy(id_out, id, DALA_ID_TEXT_BYTES);
    return rc;
}

int dala_record_put(char *id_out, dala_store *store, const char *table, const char *record_id,
                    const char *fields_json)
{
    if (id_out) id_out[0] = '\0';
    int rc = put_record(id_out, store, table, record_id, fields_json);
    return rc ? dala_error_wrap(rc, "put record") : DALA_OK;
}

/* dala_record_void without the error prefix. */
static int void_record(dala_store *store, const char *record_id, const char *reason)
{
    char id[DALA_ID_TEXT_BYTES];
    if (!store) return dala_error_set(DALA_EINVAL, "store is NULL");
    int rc = dala_record_id_normalise(id, record_id);
    if (rc) return rc;
    size_t len = reason ? strlen(reason) : 0;
    if (len == 0) return dala_error_set(DALA_EINVAL, "record %s: a reason is required", id);
    if (len > DALA_RECORD_MAX_VALUE_BYTES)
        return dala_error_set(DALA_ELIMIT, "record %s: reason longer than %zu bytes", id,
                              DALA_RECORD_MAX_VALUE_BYTES);
    if (!dala_utf8_is_valid((const uint8_t *)reason, len))
        return dala_error_set(DALA_EINVAL, "record %s: reason is not valid UTF-8", id);
    dala_field field = {"void_reason", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)reason, len}, 0};
    dala_field_list fields = {1, &field};
    return write_fields(store, id, NULL, &fields);
}

int dala_record_void(dala_store *store, const char *record_id, const char *reason)
{
    int rc = void_record(store, record_id, reason);
    return rc ? dala_error_wrap(rc, "void record") : DALA_OK;
}

/* --- reading ---------------------------------------------------------------- */

/* The record's state from its outbox entries (SQL shared by get and list). */
#define STATE_SQL                                                                     \
    "CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.record_id = r.id AND o.state = " \
    "'rejected') THEN 2 WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.record_id = r.id " \
    "AND o.state = 'pending') THEN 1 ELSE 0 END"

static const char *state_name(int state)
{
    return state == DALA_RECORD_REJECTED ? "rejected" : state == DALA_RECORD_PENDING ? "pending"
                                                                                      : "synced";
}

/* "2026-11-24T19:04:37.123Z" from Unix milliseconds. */
static void format_time(char out[32], uint64_t ms)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000));
}

static int append_text(dala_buf *out, const char *text)
{
    return dala_buf_append(out, text, strlen(text));
}

/* Appends "versions": {...} for every field. */
static int append_versions(dala_buf *out, const dala_record *record)
{
    int rc = append_text(out, "\"versions\":{");
    for (size_t i = 0; !rc && i < record->field_count; i++) {
        const dala_record_field *field = &record->fields[i];
        char time_text[32], line[256];
        format_time(time_text, DALA_HLC_MS(field->version.hlc));
        snprintf(line, sizeof line,
                 "%s\"%s\":{\"hlc\":\"%llu\",\"time\":\"%s\",\"device_id\":%llu,\"seq\":%llu}",
                 i ? "," : "", field->name, (unsigned long long)field->version.hlc, time_text,
                 (unsigned long long)field->version.device_id, (unsigned long long)field->seq);
        rc = append_text(out, line);
    }
    return rc ? rc : append_text(out, "}");
}

static int get_json(char **json_out, dala_store *store, const char *record_id)
{
    char id[DALA_ID_TEXT_BYTES], head[256];
    if (!json_out) return dala_error_set(DALA_EINVAL, "json_out is NULL");
    *json_out = NULL;
    if (!store) return dala_error_set(DALA_EINVAL, "store is NULL");
    int rc = dala_record_id_normalise(id, record_id);
    if (rc) return rc;
    dala_record record = DALA_RECORD_INIT;
    dala_buf out = DALA_BUF_INIT;
    char *table = NULL;
    uint64_t unit_id;
    sqlite3_stmt *stmt = NULL;
    rc = dala_record_load(&table, &unit_id, &record, store->db, id);
    if (!rc) rc = dala_db_prepare(&stmt, store->db, "SELECT " STATE_SQL " FROM record r WHERE r.id = ?1");
    if (rc) goto done;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? dala_error_set(DALA_ENOTFOUND, "record %s: not found", id)
                                 : dala_db_error(store->db, step, "read record state");
        goto done;
    }
    snprintf(head, sizeof head,
             "{\"id\":\"%s\",\"table\":\"%s\",\"unit_id\":%llu,\"state\":\"%s\",\"voided\":%s,"
             "\"fields\":", id, table, (unsigned long long)unit_id,
             state_name(sqlite3_column_int(stmt, 0)), is_voided(&record) ? "true" : "false");
    rc = append_text(&out, head);
    if (!rc) rc = dala_record_to_json(&out, &record);
    if (!rc) rc = append_text(&out, ",");
    if (!rc) rc = append_versions(&out, &record);
    if (!rc) rc = dala_buf_append(&out, "}", 2); /* with the NUL */
    if (!rc && !(*json_out = malloc(out.len))) rc = dala_error_set(DALA_ENOMEM, "get record: out of memory");
    if (!rc) memcpy(*json_out, out.data, out.len);
done:
    sqlite3_finalize(stmt);
    dala_buf_free(&out);
    dala_record_clear(&record);
    free(table);
    return rc;
}

int dala_record_get_json(char **json_out, dala_store *store, const char *record_id)
{
    int rc = get_json(json_out, store, record_id);
    return rc ? dala_error_wrap(rc, "get record") : DALA_OK;
}

/* Calls `fn` for each row of a listing statement (id, tbl, unit_id,
 * updated_hlc, is_voided, state). */
static int each_listed(sqlite3 *db, sqlite3_stmt *stmt, dala_record_fn fn, void *context)
{
    int rc = DALA_OK, step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        dala_record_info info;
        info.id = (const char *)sqlite3_column_text(stmt, 0);
        info.table = (const char *)sqlite3_column_text(stmt, 1);
        info.unit_id = (uint64_t)sqlite3_column_int64(stmt, 2);
        info.updated_ms = DALA_HLC_MS((uint64_t)sqlite3_column_int64(stmt, 3));
        info.is_voided = sqlite3_column_int(stmt, 4);
        info.state = (dala_record_state)sqlite3_column_int(stmt, 5);
        rc = fn(context, &info);
    }
    if (!rc && step != SQLITE_DONE) rc = dala_db_error(db, step, "list records");
    sqlite3_finalize(stmt);
    return rc;
}

int dala_record_list(dala_store *store, const char *table, dala_record_fn fn, void *context)
{
    if (!store || !fn) return dala_error_set(DALA_EINVAL, "list records: store or callback is NULL");
    sqlite3_stmt *stmt;
    int rc = dala_db_prepare(&stmt, store->db,
                             "SELECT r.id, r.tbl, r.unit_id, r.updated_hlc, r.is_voided, " STATE_SQL
                             " FROM record r WHERE ?1 IS NULL OR r.tbl = ?1"
                             " ORDER BY r.updated_hlc DESC, r.id");
    if (rc) return rc;
    if (table) sqlite3_bind_text(stmt, 1, table, -1, SQLITE_STATIC);
    return each_listed(store->db, stmt, fn, context);
}

int dala_record_search(dala_store *store, const char *table, const char *query, const char *sort_field,
                     dala_record_fn fn, void *context)
{
    if (!store || !fn || !table) return dala_error_set(DALA_EINVAL, "search records: store, table and callback are needed");
    if (sort_field && !dala_name_is_valid(sort_field, strlen(sort_field)))
        return dala_error_set(DALA_EINVAL, "search records: the sort field is not a field name");
    /* The collation kk and the blob readers are registered by the store. */
    sqlite3_stmt *stmt;
    int rc = dala_db_prepare(&stmt, store->db,
                             "SELECT r.id, r.tbl, r.unit_id, r.updated_hlc, r.is_voided, " STATE_SQL
                             " FROM record r WHERE r.tbl = ?1 AND (?2 IS NULL OR dala_record_matches(r.data, ?2))"
                             " ORDER BY dala_record_text(r.data, ?3) IS NULL, dala_record_text(r.data, ?3) COLLATE kk,"
                             " r.updated_hlc DESC, r.id");
    if (rc) return rc;
    sqlite3_bind_text(stmt, 1, table, -1, SQLITE_STATIC);
    if (query && *query) sqlite3_bind_text(stmt, 2, query, -1, SQLITE_STATIC);
    if (sort_field) sqlite3_bind_text(stmt, 3, sort_field, -1, SQLITE_STATIC);
    return each_listed(store->db, stmt, fn, context);
}
