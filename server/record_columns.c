/* record_columns.c - what the supervisors' lists filter and sort by, taken
 * from a record when it is written and kept beside its blob (migration
 * 004): its date, its risk level, the record a conflict or a review is
 * about, and a conflict's status. The same derivation serves the writes
 * of tablets (apply.c) and of the server (server_record.c). */
#include "server_int.h"
#include "sync_int.h"

#include <string.h>
#include <time.h>

/* The text of field `name`, if it holds text of at most `max` bytes. */
static const dala_value *text_of(const dala_record *record, const char *name, size_t max)
{
    const dala_record_field *field = dala_record_find(record, name);
    if (!field || field->value.type != DALA_VALUE_TEXT || field->value.len > max) return NULL;
    return &field->value;
}

void server_record_columns(record_columns *out, const char *table, const dala_record *record, int64_t received_at)
{
    memset(out, 0, sizeof *out);
    /* The date: the type's first required date field, else the arrival day. */
    const dala_table_def *def = dala_domain_table(dala_domain_get(), table);
    for (size_t i = 0; def && i < def->field_count && !out->occurred_on[0]; i++) {
        if (def->fields[i].type != DALA_FIELD_DATE || !def->fields[i].is_required) continue;
        const dala_value *date = text_of(record, def->fields[i].name, 10);
        if (date) memcpy(out->occurred_on, date->bytes, date->len);
    }
    if (!out->occurred_on[0]) {
        time_t when = (time_t)received_at;
        struct tm tm;
        gmtime_r(&when, &tm);
        strftime(out->occurred_on, sizeof out->occurred_on, "%Y-%m-%d", &tm);
    }
    out->risk = text_of(record, "risk_level", 32);
    if (strcmp(table, DALA_TABLE_CONFLICT) == 0 || strcmp(table, "review") == 0) {
        const dala_value *about = text_of(record, "record_id", DALA_UUID_TEXT_LEN);
        char id[DALA_UUID_TEXT_LEN + 1];
        if (about && about->len == DALA_UUID_TEXT_LEN) {
            memcpy(id, about->bytes, about->len);
            id[about->len] = '\0';
            out->has_about = dala_uuid_parse(out->about, id) == DALA_OK;
        }
        out->status = text_of(record, "status", 16);
    }
}

void server_record_columns_bind(sqlite3_stmt *stmt, int first, const record_columns *columns)
{
    sqlite3_bind_text(stmt, first, columns->occurred_on, -1, SQLITE_TRANSIENT);
    if (columns->risk)
        sqlite3_bind_text(stmt, first + 1, (const char *)columns->risk->bytes, (int)columns->risk->len, SQLITE_STATIC);
    else sqlite3_bind_null(stmt, first + 1);
    if (columns->has_about) sqlite3_bind_blob(stmt, first + 2, columns->about, DALA_UUID_BYTES, SQLITE_TRANSIENT);
    else sqlite3_bind_null(stmt, first + 2);
    if (columns->status)
        sqlite3_bind_text(stmt, first + 3, (const char *)columns->status->bytes, (int)columns->status->len,
                          SQLITE_STATIC);
    else sqlite3_bind_null(stmt, first + 3);
}

int server_history_add(sqlite3_stmt *stmt, const uint8_t id[DALA_UUID_BYTES], int64_t seq, int64_t at,
                       int64_t device_id, uint64_t hlc, const dala_field *fields, size_t count, dala_buf *scratch)
{
    dala_buf_reset(scratch);
    int rc = DALA_OK;
    for (size_t i = 0; !rc && i < count; i++) {
        if (i) rc = dala_buf_append(scratch, ",", 1);
        if (!rc) rc = dala_buf_append(scratch, fields[i].name, strlen(fields[i].name));
    }
    if (rc) return rc;
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, seq);
    sqlite3_bind_int64(stmt, 3, at);
    sqlite3_bind_int64(stmt, 4, device_id);
    sqlite3_bind_text(stmt, 5, (const char *)scratch->data, (int)scratch->len, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, (int64_t)hlc);
    rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(sqlite3_db_handle(stmt), "write history");
    sqlite3_reset(stmt);
    return rc;
}
