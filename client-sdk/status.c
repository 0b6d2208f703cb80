/* status.c - what an officer (or the app's status screen) asks of a
 * store: its enrolment and counts (dala_store_status), the changes the
 * server refused with its reasons, and the conflict log, which is simply
 * the records of table "conflict" the server syncs down. */
#include "sdk_int.h"

#include <stdlib.h>
#include <string.h>

/* Replaces *slot with a copy of meta `key` ("" when absent). */
static int status_text(char **slot, sqlite3 *db, const char *key)
{
    uint8_t *bytes;
    size_t len;
    int rc = dala_meta_get_bytes(&bytes, &len, db, key);
    if (rc) return rc;
    if (!bytes && !(bytes = (uint8_t *)strdup("")))
        return dala_error_set(DALA_ENOMEM, "store status: out of memory");
    free(*slot);
    *slot = (char *)bytes;
    return DALA_OK;
}

static int count_rows(uint64_t *out, sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt;
    int rc = dala_db_prepare(&stmt, db, sql);
    if (rc) return rc;
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) *out = (uint64_t)sqlite3_column_int64(stmt, 0);
    else rc = dala_db_error(db, step, "store status");
    sqlite3_finalize(stmt);
    return rc;
}

int dala_store_status(dala_status *out, dala_store *store)
{
    int64_t device_id = 0, unit_id = 0, last_sync = 0, skew = 0;
    if (!out || !store) return dala_error_set(DALA_EINVAL, "store status: out or store is NULL");
    memset(out, 0, sizeof *out);
    /* One read transaction, so the counts agree with each other. */
    int rc = dala_db_exec(store->db, "BEGIN", "store status");
    if (rc) return rc;
    rc = dala_meta_get_int(&device_id, store->db, "device_id", 0);
    if (!rc) rc = dala_meta_get_int(&unit_id, store->db, "unit_id", 0);
    if (!rc) rc = dala_meta_get_int(&last_sync, store->db, "last_sync_at", 0);
    if (!rc) rc = dala_clock_skew_ms(&skew, store->db);
    if (!rc) rc = status_text(&store->status_officer, store->db, "officer");
    if (!rc) rc = status_text(&store->status_url, store->db, "server_url");
    if (!rc) rc = count_rows(&out->record_count, store->db, "SELECT count(*) FROM record");
    if (!rc) rc = dala_outbox_count(&out->pending_changes, store->db, "pending");
    if (!rc) rc = dala_outbox_count(&out->rejected_changes, store->db, "rejected");
    if (!rc) rc = count_rows(&out->conflict_count, store->db,
                             "SELECT count(*) FROM record WHERE tbl = 'conflict'");
    dala_db_rollback(store->db); /* ends the read transaction */
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->is_enrolled = device_id > 0;
    out->is_sealed = store->keyring_id != 0;
    out->is_erased = store->wiped;
    out->device_id = (uint64_t)device_id;
    out->unit_id = (uint64_t)unit_id;
    out->last_sync_ms = (uint64_t)last_sync;
    out->clock_skew_ms = skew;
    out->officer = store->status_officer;
    out->server_url = store->status_url;
    return DALA_OK;
}

int dala_rejection_list(dala_store *store, dala_rejection_fn fn, void *context)
{
    if (!store || !fn) return dala_error_set(DALA_EINVAL, "list rejections: store or callback is NULL");
    sqlite3_stmt *stmt;
    int rc = dala_db_prepare(&stmt, store->db,
                             "SELECT id, record_id, tbl, hlc, reject_code, coalesce(reject_reason, '') "
                             "FROM outbox WHERE state = 'rejected' ORDER BY id");
    if (rc) return rc;
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        dala_rejection rejection;
        rejection.outbox_id = sqlite3_column_int64(stmt, 0);
        rejection.record_id = (const char *)sqlite3_column_text(stmt, 1);
        rejection.table = (const char *)sqlite3_column_text(stmt, 2);
        rejection.hlc = (uint64_t)sqlite3_column_int64(stmt, 3);
        rejection.code = sqlite3_column_int(stmt, 4);
        rejection.reason = (const char *)sqlite3_column_text(stmt, 5);
        rc = fn(context, &rejection);
    }
    if (!rc && step != SQLITE_DONE) rc = dala_db_error(store->db, step, "list rejections");
    sqlite3_finalize(stmt);
    return rc;
}

int dala_rejection_dismiss(dala_store *store, int64_t outbox_id)
{
    if (!store) return dala_error_set(DALA_EINVAL, "dismiss rejection: store is NULL");
    sqlite3_stmt *stmt;
    int rc = dala_db_prepare(&stmt, store->db, "DELETE FROM outbox WHERE id = ?1 AND state = 'rejected'");
    if (rc) return rc;
    sqlite3_bind_int64(stmt, 1, outbox_id);
    rc = dala_db_step_done(stmt, "dismiss rejection");
    if (!rc && sqlite3_changes(store->db) == 0)
        rc = dala_error_set(DALA_ENOTFOUND, "dismiss rejection: no refused change %lld",
                            (long long)outbox_id);
    sqlite3_finalize(stmt);
    return rc;
}

/* --- the conflict log -------------------------------------------------------- */

/* A TEXT field's value as a NUL-terminated copy; "" when absent or not TEXT. */
static char *text_field(const dala_record *record, const char *name)
{
    const dala_record_field *field = dala_record_find(record, name);
    if (!field || field->value.type != DALA_VALUE_TEXT) return strdup("");
    return strndup((const char *)field->value.bytes, field->value.len);
}

static uint64_t int_field(const dala_record *record, const char *name)
{
    const dala_record_field *field = dala_record_find(record, name);
    return field && field->value.type == DALA_VALUE_INT ? (uint64_t)field->value.integer : 0;
}

/* The losing value as JSON, through the record JSON writer. */
static char *value_json(const dala_record *record, const char *name)
{
    static const char prefix[] = "{\"v\":";
    dala_record single = DALA_RECORD_INIT;
    dala_buf json = DALA_BUF_INIT;
    char *text = NULL;
    const dala_record_field *field = dala_record_find(record, name);
    dala_value null_value = {DALA_VALUE_NULL, 0, 0, NULL, 0};
    if (dala_record_set(&single, "v", field ? &field->value : &null_value,
                        field ? &field->version : &(dala_version){0, 0}, 0) == DALA_OK &&
        dala_record_to_json(&json, &single) == DALA_OK)
        text = strndup((const char *)json.data + sizeof prefix - 1, json.len - sizeof prefix);
    dala_record_clear(&single);
    dala_buf_free(&json);
    return text;
}

/* Hands one conflict record to the callback. */
static int report_conflict(const char *id, const dala_record *record, dala_conflict_log_fn fn,
                           void *context)
{
    char *record_id = text_field(record, "record_id"), *table = text_field(record, "record_table");
    char *field = text_field(record, "field"), *loser_value = value_json(record, "loser_value");
    char *status = text_field(record, "status");
    int rc;
    if (!record_id || !table || !field || !loser_value || !status) {
        rc = dala_error_set(DALA_ENOMEM, "list conflicts: out of memory");
    } else {
        dala_conflict conflict = {id, record_id, table, field,
                                  int_field(record, "winner_hlc"), int_field(record, "winner_device"),
                                  int_field(record, "loser_hlc"), int_field(record, "loser_device"),
                                  loser_value, status};
        rc = fn(context, &conflict);
    }
    free(status);
    free(record_id);
    free(table);
    free(field);
    free(loser_value);
    return rc;
}

int dala_conflict_list(dala_store *store, dala_conflict_log_fn fn, void *context)
{
    if (!store || !fn) return dala_error_set(DALA_EINVAL, "list conflicts: store or callback is NULL");
    sqlite3_stmt *stmt;
    int rc = dala_db_prepare(&stmt, store->db, "SELECT id, data FROM record WHERE tbl = 'conflict' "
                                               "ORDER BY updated_hlc DESC, id");
    if (rc) return rc;
    int step = SQLITE_DONE;
    dala_record record = DALA_RECORD_INIT;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(stmt, 0);
        rc = dala_record_decode(&record, sqlite3_column_blob(stmt, 1),
                                (size_t)sqlite3_column_bytes(stmt, 1));
        if (rc) dala_error_set(rc, "list conflicts: record %s: %s", id, dala_errmsg());
        else rc = report_conflict(id, &record, fn, context);
        dala_record_clear(&record);
    }
    if (!rc && step != SQLITE_DONE) rc = dala_db_error(store->db, step, "list conflicts");
    sqlite3_finalize(stmt);
    return rc;
}
