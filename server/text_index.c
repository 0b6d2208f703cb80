/* text_index.c - keeps the supervisors' text search index (record_text,
 * an FTS5 trigram table, migration 004) up to date. Writes only mark a
 * record text_dirty, so a sync never pays for indexing; the server's
 * maintenance thread calls server_text_index_catch_up every few seconds,
 * which replaces the indexed text of each marked record with the text of
 * its TEXT fields and clears the mark, unless the record was written again
 * meanwhile (its log position moved). */
#include "server_int.h"
#include "sync_int.h"

#include <string.h>

/* The record's TEXT values, one per line. */
static int record_body(dala_buf *out, const void *blob, size_t len)
{
    dala_record record = DALA_RECORD_INIT;
    dala_buf_reset(out);
    int rc = dala_record_decode(&record, blob, len);
    for (size_t i = 0; !rc && i < record.field_count; i++) {
        const dala_value *v = &record.fields[i].value;
        if (v->type != DALA_VALUE_TEXT || v->len == 0) continue;
        rc = dala_buf_append(out, v->bytes, v->len);
        if (!rc) rc = dala_buf_append(out, "\n", 1);
    }
    dala_record_clear(&record);
    return rc;
}

static int index_rows(sqlite3 *db, sqlite3_stmt *dirty, sqlite3_stmt *remove, sqlite3_stmt *add, sqlite3_stmt *clean,
                      size_t *indexed)
{
    dala_buf body = DALA_BUF_INIT;
    int rc = DALA_OK, step;
    while (!rc && (step = sqlite3_step(dirty)) == SQLITE_ROW) {
        int64_t rowid = sqlite3_column_int64(dirty, 0);
        rc = record_body(&body, sqlite3_column_blob(dirty, 2), (size_t)sqlite3_column_bytes(dirty, 2));
        if (rc == DALA_ECORRUPT) rc = DALA_OK; /* a blob that does not decode is indexed as empty */
        sqlite3_bind_int64(remove, 1, rowid);
        sqlite3_bind_int64(add, 1, rowid);
        sqlite3_bind_text(add, 2, body.len ? (const char *)body.data : "", (int)body.len, SQLITE_STATIC);
        sqlite3_bind_int64(clean, 1, rowid);
        sqlite3_bind_int64(clean, 2, sqlite3_column_int64(dirty, 1));
        if (!rc && (sqlite3_step(remove) != SQLITE_DONE || sqlite3_step(add) != SQLITE_DONE ||
                    sqlite3_step(clean) != SQLITE_DONE))
            rc = server_db_error(db, "index record text");
        sqlite3_reset(remove);
        sqlite3_reset(add);
        sqlite3_reset(clean);
        if (!rc) (*indexed)++;
    }
    if (!rc && step != SQLITE_DONE) rc = server_db_error(db, "index record text");
    dala_buf_free(&body);
    return rc;
}

int server_text_index_catch_up(sqlite3 *db, size_t max_rows, size_t *indexed)
{
    sqlite3_stmt *dirty = NULL, *remove = NULL, *add = NULL, *clean = NULL;
    *indexed = 0;
    int rc = DALA_OK;
    if (sqlite3_prepare_v2(db, "SELECT rowid, seq, data FROM record WHERE text_dirty = 1 LIMIT ?1", -1, &dirty, NULL) ||
        sqlite3_prepare_v2(db, "DELETE FROM record_text WHERE rowid = ?1", -1, &remove, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO record_text (rowid, body) VALUES (?1, ?2)", -1, &add, NULL) ||
        sqlite3_prepare_v2(db, "UPDATE record SET text_dirty = 0 WHERE rowid = ?1 AND seq = ?2", -1, &clean, NULL))
        rc = server_db_error(db, "prepare the text index");
    if (!rc) {
        sqlite3_bind_int64(dirty, 1, (int64_t)max_rows);
        rc = server_db_begin(db);
        if (!rc) rc = index_rows(db, dirty, remove, add, clean, indexed);
        sqlite3_reset(dirty); /* the read ends before COMMIT */
        if (!rc) rc = server_db_commit(db);
        if (rc) server_db_rollback(db);
    }
    sqlite3_finalize(dirty);
    sqlite3_finalize(remove);
    sqlite3_finalize(add);
    sqlite3_finalize(clean);
    return rc;
}
