/* server_record.c - records the server writes itself (published forms,
 * review decisions): checked by the domain rules with the server as the
 * writer, and written at the next position of their unit's log as device
 * 0, so they reach the unit's tablets at their next sync like any other
 * change. Used by the administration, inside its transaction. */
#include "server_int.h"
#include "sync_int.h"

#include <string.h>
#include <time.h>

typedef struct write_context {
    sqlite3 *db;
    int64_t unit_id;
} write_context;

/* dala_check_env.record_exists: a record of the same unit. */
static int same_unit_record(void *context, const char *table, const char *id_text)
{
    write_context *w = context;
    uint8_t id[DALA_UUID_BYTES];
    sqlite3_stmt *stmt;
    if (dala_uuid_parse(id, id_text)) return 0;
    if (sqlite3_prepare_v2(w->db, "SELECT 1 FROM record WHERE id = ?1 AND unit_id = ?2 AND (?3 = '*' OR tbl = ?3)",
                           -1, &stmt, NULL))
        return server_db_error(w->db, "look up a referenced record");
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, w->unit_id);
    sqlite3_bind_text(stmt, 3, table, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : server_db_error(w->db, "look up a referenced record");
}

void server_today(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Takes the unit log's next position. */
static int next_position(int64_t *seq, sqlite3 *db, int64_t unit_id)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "UPDATE org_unit SET next_seq = next_seq + 1 WHERE id = ?1 RETURNING next_seq - 1", -1,
                           &stmt, NULL))
        return server_db_error(db, "take a log position");
    sqlite3_bind_int64(stmt, 1, unit_id);
    int rc = sqlite3_step(stmt) == SQLITE_ROW ? DALA_OK
                                               : dala_error_set(DALA_ENOTFOUND, "no unit %lld", (long long)unit_id);
    *seq = rc ? 0 : sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return rc;
}

/* Writes the record's row (new or not) as the server, at log position
 * `seq`, with its list columns and safety keys (a settled conflict may
 * change a visit's risk, a void clears an offence's numbers) and one
 * history row naming `fields`. */
static int store_row(sqlite3 *db, const uint8_t id[16], const char *table, int64_t unit_id, int64_t seq,
                     const dala_record *record, const dala_field *fields, size_t count)
{
    dala_buf blob = DALA_BUF_INIT, names = DALA_BUF_INIT;
    sqlite3_stmt *stmt = NULL, *history = NULL;
    int64_t now = (int64_t)time(NULL);
    int rc = dala_record_encode(&blob, record);
    if (!rc && (sqlite3_prepare_v2(db, SERVER_RECORD_UPSERT_SQL, -1, &stmt, NULL) ||
                sqlite3_prepare_v2(db, SERVER_HISTORY_ADD_SQL, -1, &history, NULL)))
        rc = server_db_error(db, "write a record");
    if (!rc) {
        record_columns columns;
        server_record_columns(&columns, table, record, now);
        sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, table, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, unit_id);
        sqlite3_bind_int64(stmt, 4, seq);
        sqlite3_bind_int64(stmt, 5, 0);
        sqlite3_bind_int64(stmt, 6, now);
        sqlite3_bind_blob(stmt, 7, blob.data, (int)blob.len, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 8, 0);
        server_record_columns_bind(stmt, 9, &columns);
        server_record_keys_bind(stmt, 14, &columns);
        rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(db, "write a record");
    }
    if (!rc) rc = server_history_add(history, id, seq, now, 0, 0, fields, count, &names);
    sqlite3_finalize(stmt);
    sqlite3_finalize(history);
    dala_buf_free(&blob);
    dala_buf_free(&names);
    return rc;
}

/* Checks a server write of `fields` to record `id` of `table` by the
 * domain's rules (against `stored` for an update). */
static int check_write(sqlite3 *db, int64_t unit_id, const uint8_t id[16], const char *table, uint64_t hlc,
                       const dala_record *stored, dala_field *fields, size_t count)
{
    dala_change change = {table, {0}, hlc, 0, count, fields};
    memcpy(change.record_id, id, DALA_UUID_BYTES);
    char today[11];
    server_today(today);
    write_context w = {db, unit_id};
    dala_check_env env = {today, 0, 1, stored, same_unit_record, NULL, &w};
    dala_invalid invalid;
    int rc = dala_change_check(&invalid, &change, &env);
    if (rc == DALA_EINVAL) {
        char reason[DALA_MAX_REASON_BYTES];
        dala_invalid_format(reason, sizeof reason, &invalid);
        return dala_error_set(DALA_EINVAL, "%s", reason);
    }
    return rc;
}

/* Sets `fields` in `record` as the server's version `hlc` at `seq`. */
static int set_fields(dala_record *record, const dala_field *fields, size_t count, uint64_t hlc, int64_t seq)
{
    dala_version version = {hlc, 0};
    int rc = DALA_OK;
    for (size_t i = 0; !rc && i < count; i++)
        if (fields[i].value.type != DALA_VALUE_NULL || dala_record_find(record, fields[i].name))
            rc = dala_record_set(record, fields[i].name, &fields[i].value, &version, (uint64_t)seq);
    return rc;
}

int server_record_write(char id_out[DALA_UUID_TEXT_LEN + 1], sqlite3 *db, int64_t unit_id, const char *table,
                        dala_field *fields, size_t count)
{
    uint8_t id[DALA_UUID_BYTES];
    uint64_t now_ms = (uint64_t)time(NULL) * 1000;
    /* The server writes as device 0, versioned by the wall clock. */
    uint64_t hlc = DALA_HLC_MAKE(now_ms, 0);
    int rc = dala_uuid_v7(id, now_ms);
    if (!rc) rc = check_write(db, unit_id, id, table, hlc, NULL, fields, count);
    int64_t seq = 0;
    if (!rc) rc = next_position(&seq, db, unit_id);
    dala_record record = DALA_RECORD_INIT;
    if (!rc) rc = set_fields(&record, fields, count, hlc, seq);
    if (!rc) rc = store_row(db, id, table, unit_id, seq, &record, fields, count);
    if (!rc) dala_uuid_format(id_out, id);
    dala_record_clear(&record);
    return rc;
}

int server_record_update(sqlite3 *db, const char *id_text, uint64_t hlc, dala_field *fields, size_t count)
{
    uint8_t id[DALA_UUID_BYTES];
    if (dala_uuid_parse(id, id_text)) return dala_error_set(DALA_EINVAL, "%s is not a record id", id_text);
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "SELECT tbl, unit_id, data FROM record WHERE id = ?1", -1, &stmt, NULL))
        return server_db_error(db, "read a record");
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(stmt), rc = DALA_OK;
    dala_record record = DALA_RECORD_INIT;
    char table[64] = "";
    int64_t unit_id = 0, seq = 0;
    if (step == SQLITE_ROW) {
        snprintf(table, sizeof table, "%s", (const char *)sqlite3_column_text(stmt, 0));
        unit_id = sqlite3_column_int64(stmt, 1);
        rc = dala_record_decode(&record, sqlite3_column_blob(stmt, 2), (size_t)sqlite3_column_bytes(stmt, 2));
    } else {
        rc = step == SQLITE_DONE ? dala_error_set(DALA_ENOTFOUND, "no record %s", id_text)
                                 : server_db_error(db, "read a record");
    }
    sqlite3_finalize(stmt);
    /* Conflict records are the server's own and have no schema entry. */
    if (!rc && strcmp(table, DALA_TABLE_CONFLICT) != 0)
        rc = check_write(db, unit_id, id, table, hlc, &record, fields, count);
    if (!rc) rc = next_position(&seq, db, unit_id);
    if (!rc) rc = set_fields(&record, fields, count, hlc, seq);
    if (!rc) rc = store_row(db, id, table, unit_id, seq, &record, fields, count);
    dala_record_clear(&record);
    return rc;
}
