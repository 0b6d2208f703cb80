/* outbox.c - the queue of local changes waiting for the server.
 *
 * Every local write appends one entry (the change as a one-change batch)
 * in the write's own transaction. A sync gathers pending entries into a
 * push batch: the batch's number (last_batch_seq + 1) and each entry's
 * place in it are written once, in one transaction, before anything is
 * sent, so after an interruption the very same batch goes out again and
 * the server, which applies each number once, does not apply it twice.
 * When the server acknowledges the batch, its entries are deleted, except
 * those it refused, which stay with the code and reason until dismissed:
 * a refused change never blocks the rest of the queue. */
#include "sdk_int.h"

#include <stdlib.h>
#include <string.h>

int dala_outbox_append(sqlite3 *db, const dala_change *change, const char *record_id)
{
    dala_buf blob = DALA_BUF_INIT;
    sqlite3_stmt *stmt;
    int rc = dala_batch_encode(&blob, dala_device_schema_version(), 0, change, 1);
    if (!rc && blob.len > DALA_MAX_CHANGE_BYTES)
        rc = dala_error_set(DALA_ELIMIT, "put record %s: the change is %zu bytes, more than %zu",
                            record_id, blob.len, DALA_MAX_CHANGE_BYTES);
    if (!rc) rc = dala_db_prepare(&stmt, db, "INSERT INTO outbox(record_id, tbl, hlc, change, "
                                             "created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (rc) goto done;
    sqlite3_bind_text(stmt, 1, record_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, change->table, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)change->hlc);
    sqlite3_bind_blob(stmt, 4, blob.data, (int)blob.len, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 5, (sqlite3_int64)dala_wall_clock_ms());
    rc = dala_db_step_done(stmt, "queue change");
    sqlite3_finalize(stmt);
done:
    dala_buf_free(&blob);
    return rc;
}

/* The number of the batch in flight (assigned, not yet acknowledged), or 0. */
static int inflight_seq(uint64_t *out, sqlite3 *db)
{
    sqlite3_stmt *stmt;
    *out = 0;
    int rc = dala_db_prepare(&stmt, db, "SELECT min(batch_seq) FROM outbox "
                                        "WHERE state = 'pending' AND batch_seq IS NOT NULL");
    if (rc) return rc;
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) *out = (uint64_t)sqlite3_column_int64(stmt, 0);
    else rc = dala_db_error(db, step, "find batch in flight");
    sqlite3_finalize(stmt);
    return rc;
}

/* Inside a transaction: numbers the next pending entries as a new batch,
 * in one statement: at most `max_changes` of them, and no more bytes than
 * DALA_MAX_BATCH_BYTES (but always the first). Leaves *seq_out 0 when
 * nothing waits. */
static int assemble(uint64_t *seq_out, sqlite3 *db, size_t max_changes)
{
    sqlite3_stmt *mark = NULL;
    int64_t last;
    *seq_out = 0;
    int rc = dala_meta_get_int(&last, db, "last_batch_seq", 0);
    if (!rc) rc = dala_db_prepare(&mark, db,
        "UPDATE outbox SET batch_seq = ?1, batch_index = picked.idx FROM ("
        " SELECT id, idx FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS idx,"
        "   sum(length(change)) OVER (ORDER BY id) AS running FROM outbox"
        "   WHERE state = 'pending' AND batch_seq IS NULL ORDER BY id LIMIT ?2)"
        " WHERE running <= ?3 OR idx = 0) AS picked WHERE outbox.id = picked.id");
    if (rc) return rc;
    uint64_t seq = (uint64_t)last + 1;
    sqlite3_bind_int64(mark, 1, (sqlite3_int64)seq);
    sqlite3_bind_int64(mark, 2, (sqlite3_int64)max_changes);
    sqlite3_bind_int64(mark, 3, (sqlite3_int64)DALA_MAX_BATCH_BYTES);
    rc = dala_db_step_done(mark, "number push batch");
    int count = rc ? 0 : sqlite3_changes(db);
    sqlite3_finalize(mark);
    if (!rc && count) rc = dala_meta_set_int(db, "last_batch_seq", (int64_t)seq);
    if (!rc && count) *seq_out = seq;
    return rc;
}

void dala_push_batch_free(dala_push_batch *batch)
{
    if (!batch) return;
    dala_buf_free(&batch->encoded);
    memset(batch, 0, sizeof *batch);
}

/* Encodes batch `seq` from its entries, in their batch order: the entries
 * are already encoded, so they are joined, not decoded again. */
static int load_batch(dala_push_batch *out, sqlite3 *db, uint64_t seq)
{
    sqlite3_stmt *count_stmt, *stmt;
    int rc = dala_db_prepare(&count_stmt, db, "SELECT count(*) FROM outbox WHERE state = 'pending' "
                                              "AND batch_seq = ?1");
    if (rc) return rc;
    sqlite3_bind_int64(count_stmt, 1, (sqlite3_int64)seq);
    if (sqlite3_step(count_stmt) == SQLITE_ROW) out->count = (size_t)sqlite3_column_int64(count_stmt, 0);
    sqlite3_finalize(count_stmt);
    rc = dala_db_prepare(&stmt, db, "SELECT change FROM outbox WHERE state = 'pending' AND "
                                    "batch_seq = ?1 ORDER BY batch_index");
    if (rc) return rc;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)seq);
    out->batch_seq = seq;
    rc = dala_batch_encode_header(&out->encoded, dala_device_schema_version(), seq, out->count);
    int step = SQLITE_DONE;
    size_t appended = 0;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        rc = dala_batch_append_part(&out->encoded, sqlite3_column_blob(stmt, 0),
                                    (size_t)sqlite3_column_bytes(stmt, 0));
        appended++;
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE) rc = dala_db_error(db, step, "read outbox");
    if (!rc && appended != out->count)
        rc = dala_error_set(DALA_ECORRUPT, "outbox batch %llu changed while read",
                            (unsigned long long)seq);
    sqlite3_finalize(stmt);
    return rc;
}

int dala_outbox_next_batch(dala_push_batch *out, sqlite3 *db, size_t max_changes)
{
    uint64_t seq, restamped;
    memset(out, 0, sizeof *out);
    int rc = dala_db_begin(db);
    if (!rc) rc = inflight_seq(&seq, db);
    /* Changes stamped by a clock far ahead are stamped again before they
     * are numbered: the server would refuse them. */
    if (!rc && seq == 0) rc = dala_clock_restamp(&restamped, db);
    if (!rc && seq == 0) rc = assemble(&seq, db, max_changes);
    if (!rc) rc = dala_db_commit(db);
    else dala_db_rollback(db);
    if (!rc && seq) rc = load_batch(out, db, seq);
    /* Nothing to push: an empty batch, so the request still says so. */
    if (!rc && !seq) rc = dala_batch_encode_header(&out->encoded, dala_device_schema_version(), 0, 0);
    if (rc) dala_push_batch_free(out);
    return rc;
}

int dala_outbox_mark_acked(uint64_t *rejected_out, sqlite3 *db, uint64_t batch_seq,
                           const dala_change_result *rejected, size_t rejected_count,
                           uint64_t server_time_ms)
{
    sqlite3_stmt *mark = NULL, *drop = NULL, *requeue = NULL;
    *rejected_out = 0;
    int rc = dala_db_prepare(&mark, db, "UPDATE outbox SET state = 'rejected', reject_code = ?1, "
                                        "reject_reason = ?2 WHERE batch_seq = ?3 AND "
                                        "batch_index = ?4 AND state = 'pending'");
    /* Refused for the clock, and truly ahead of the server's: queued again
     * unnumbered, and stamped again before the next batch. A change the
     * server refuses for the clock although it is not ahead (the server's
     * own clock is wrong) stays refused, so nothing loops. */
    if (!rc) rc = dala_db_prepare(&requeue, db, "UPDATE outbox SET batch_seq = NULL, batch_index = NULL "
                                                "WHERE batch_seq = ?1 AND batch_index = ?2 AND "
                                                "state = 'pending' AND hlc > ?3");
    for (size_t i = 0; !rc && i < rejected_count; i++) {
        if (rejected[i].code == DALA_ECLOCK && server_time_ms) {
            sqlite3_bind_int64(requeue, 1, (sqlite3_int64)batch_seq);
            sqlite3_bind_int64(requeue, 2, (sqlite3_int64)rejected[i].index);
            sqlite3_bind_int64(requeue, 3, (sqlite3_int64)DALA_HLC_MAKE(server_time_ms + DALA_HLC_DEFAULT_MAX_DRIFT_MS, 0));
            rc = dala_db_step_done(requeue, "queue a change to stamp again");
            sqlite3_reset(requeue);
            if (!rc && sqlite3_changes(db) > 0) continue;
        }
        if (rc) break;
        sqlite3_bind_int(mark, 1, rejected[i].code < 0 ? rejected[i].code : DALA_EINVAL);
        sqlite3_bind_text(mark, 2, rejected[i].reason ? rejected[i].reason : "",
                          (int)rejected[i].reason_len, SQLITE_STATIC);
        sqlite3_bind_int64(mark, 3, (sqlite3_int64)batch_seq);
        sqlite3_bind_int64(mark, 4, (sqlite3_int64)rejected[i].index);
        rc = dala_db_step_done(mark, "mark refused change");
        *rejected_out += (uint64_t)sqlite3_changes(db);
        sqlite3_reset(mark);
    }
    if (!rc) rc = dala_db_prepare(&drop, db, "DELETE FROM outbox WHERE batch_seq = ?1 AND "
                                             "state = 'pending'");
    if (!rc) {
        sqlite3_bind_int64(drop, 1, (sqlite3_int64)batch_seq);
        rc = dala_db_step_done(drop, "drop acknowledged changes");
    }
    sqlite3_finalize(mark);
    sqlite3_finalize(requeue);
    sqlite3_finalize(drop);
    return rc;
}

int dala_outbox_pending_fields(dala_record *names, sqlite3 *db, const char *record_id)
{
    static const dala_value null_value = {DALA_VALUE_NULL, 0, 0, NULL, 0};
    static const dala_version no_version = {0, 0};
    sqlite3_stmt *stmt;
    dala_record_clear(names);
    int rc = dala_db_prepare_cached(&stmt, db, "SELECT change FROM outbox WHERE record_id = ?1 "
                                               "AND state = 'pending'");
    if (rc) return rc;
    sqlite3_bind_text(stmt, 1, record_id, -1, SQLITE_STATIC);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        dala_batch *part = NULL;
        rc = dala_batch_decode(&part, sqlite3_column_blob(stmt, 0),
                               (size_t)sqlite3_column_bytes(stmt, 0), 1);
        for (size_t c = 0; !rc && c < part->change_count; c++)
            for (size_t f = 0; !rc && f < part->changes[c].field_count; f++)
                rc = dala_record_set(names, part->changes[c].fields[f].name, &null_value,
                                     &no_version, 0);
        dala_batch_free(part);
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE) rc = dala_db_error(db, step, "read outbox");
    dala_db_release(stmt);
    return rc;
}

int dala_outbox_count(uint64_t *out, sqlite3 *db, const char *state)
{
    sqlite3_stmt *stmt;
    *out = 0;
    int rc = dala_db_prepare(&stmt, db, "SELECT count(*) FROM outbox WHERE state = ?1");
    if (rc) return rc;
    sqlite3_bind_text(stmt, 1, state, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) *out = (uint64_t)sqlite3_column_int64(stmt, 0);
    else rc = dala_db_error(db, step, "count outbox");
    sqlite3_finalize(stmt);
    return rc;
}
