/* text_index.c - keeps the supervisors' text search index (record_text,
 * an FTS5 trigram table, migration 004) up to date. The indexer follows
 * each unit's log as a tablet does, from its own cursor
 * (text_index_cursor): every record written past the cursor gets its
 * indexed text replaced by the text of its TEXT fields, and the cursor
 * moves on. Writes pay nothing for it; the server's maintenance thread
 * calls it in quiet moments, and a search reads the records past the
 * cursors directly (web_records.c). */
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

typedef struct indexer {
    sqlite3 *db;
    sqlite3_stmt *units, *rows, *remove, *add, *move;
    dala_buf body;
} indexer;

/* Indexes up to `max_rows` records of one unit past `cursor`. */
static int index_unit(indexer *ix, int64_t unit_id, int64_t cursor, size_t max_rows, size_t *indexed)
{
    int64_t last = cursor;
    int rc = DALA_OK, step;
    sqlite3_bind_int64(ix->rows, 1, unit_id);
    sqlite3_bind_int64(ix->rows, 2, cursor);
    sqlite3_bind_int64(ix->rows, 3, (int64_t)max_rows);
    while (!rc && (step = sqlite3_step(ix->rows)) == SQLITE_ROW) {
        int64_t rowid = sqlite3_column_int64(ix->rows, 0);
        last = sqlite3_column_int64(ix->rows, 1);
        rc = record_body(&ix->body, sqlite3_column_blob(ix->rows, 2), (size_t)sqlite3_column_bytes(ix->rows, 2));
        if (rc == DALA_ECORRUPT) rc = DALA_OK; /* a blob that does not decode is indexed as empty */
        sqlite3_bind_int64(ix->remove, 1, rowid);
        sqlite3_bind_int64(ix->add, 1, rowid);
        sqlite3_bind_text(ix->add, 2, ix->body.len ? (const char *)ix->body.data : "", (int)ix->body.len, SQLITE_STATIC);
        if (!rc && (sqlite3_step(ix->remove) != SQLITE_DONE || sqlite3_step(ix->add) != SQLITE_DONE))
            rc = server_db_error(ix->db, "index record text");
        sqlite3_reset(ix->remove);
        sqlite3_reset(ix->add);
        if (!rc) (*indexed)++;
    }
    if (!rc && step != SQLITE_DONE) rc = server_db_error(ix->db, "index record text");
    sqlite3_reset(ix->rows);
    if (!rc && last != cursor) {
        sqlite3_bind_int64(ix->move, 1, unit_id);
        sqlite3_bind_int64(ix->move, 2, last);
        rc = sqlite3_step(ix->move) == SQLITE_DONE ? DALA_OK : server_db_error(ix->db, "move the text index cursor");
        sqlite3_reset(ix->move);
    }
    return rc;
}

/* Walks the units whose logs ran past the cursor, until `max_rows`. */
static int index_units(indexer *ix, size_t max_rows, size_t *indexed)
{
    int rc = DALA_OK, step;
    while (!rc && *indexed < max_rows && (step = sqlite3_step(ix->units)) == SQLITE_ROW)
        rc = index_unit(ix, sqlite3_column_int64(ix->units, 0), sqlite3_column_int64(ix->units, 1),
                        max_rows - *indexed, indexed);
    sqlite3_reset(ix->units); /* the read ends before COMMIT */
    return rc;
}

int server_text_index_catch_up(sqlite3 *db, size_t max_rows, size_t *indexed)
{
    indexer ix = {db, NULL, NULL, NULL, NULL, NULL, DALA_BUF_INIT};
    *indexed = 0;
    int rc = DALA_OK;
    if (sqlite3_prepare_v2(db, "SELECT o.id, coalesce(c.seq, 0) FROM org_unit o LEFT JOIN text_index_cursor c "
                               "ON c.unit_id = o.id WHERE o.next_seq - 1 > coalesce(c.seq, 0)", -1, &ix.units, NULL) ||
        sqlite3_prepare_v2(db, "SELECT rowid, seq, data FROM record WHERE unit_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                           -1, &ix.rows, NULL) ||
        sqlite3_prepare_v2(db, "DELETE FROM record_text WHERE rowid = ?1", -1, &ix.remove, NULL) ||
        sqlite3_prepare_v2(db, "INSERT INTO record_text (rowid, body) VALUES (?1, ?2)", -1, &ix.add, NULL) ||
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO text_index_cursor (unit_id, seq) VALUES (?1, ?2)", -1, &ix.move,
                           NULL))
        rc = server_db_error(db, "prepare the text index");
    if (!rc) rc = server_db_begin(db);
    if (!rc) {
        rc = index_units(&ix, max_rows, indexed);
        if (!rc) rc = server_db_commit(db);
        if (rc) server_db_rollback(db);
    }
    sqlite3_finalize(ix.units);
    sqlite3_finalize(ix.rows);
    sqlite3_finalize(ix.remove);
    sqlite3_finalize(ix.add);
    sqlite3_finalize(ix.move);
    dala_buf_free(&ix.body);
    return rc;
}
