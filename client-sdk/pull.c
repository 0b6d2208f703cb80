/* pull.c - takes in one sync response, in one transaction: the
 * acknowledgement of the batch in flight (refused changes marked, the
 * rest dropped from the outbox), a change of server epoch (cursors
 * dropped), the pulled page merged into the local records, the new pull
 * cursors, and the time of the sync. Either all of it is committed or
 * none, so a page is applied exactly when its cursor advances.
 *
 * The server is the authority on merged state. Per field, a pulled value
 * replaces the local one unless the device still has a pending change of
 * that field (it will be pushed, and the server merges it) or holds a
 * newer version already (the merge's winner is always the greatest
 * version, so an older pulled one has lost). Conflicts come down as
 * records of table "conflict" and are stored like any other. */
#include "sdk_int.h"

#include <stdlib.h>
#include <string.h>

/* The position the response's cursor gives for `unit_id`, or 0. */
static uint64_t response_cursor(const dala_sync_response *response, uint64_t unit_id)
{
    for (size_t i = 0; i < response->cursor_count; i++)
        if (response->cursors[i].unit_id == unit_id) return response->cursors[i].seq;
    return 0;
}

/* Whether the pulled field should replace the local one. */
static int takes_pulled(const dala_record *pending, const dala_record_field *current,
                        const dala_field *field, const dala_version *incoming, uint64_t seq)
{
    if (dala_record_find(pending, field->name)) return 0;
    if (!current) return 1;
    int order = dala_version_compare(&current->version, incoming);
    if (order > 0) return 0;
    return order < 0 || current->seq != seq; /* the same version: only note its position */
}

/* Whether the page sent the record of change `index` in part: the
 * partial list names the first change of each such record, ascending, and
 * a record's changes follow one another, so the nearest entry at or below
 * `index` decides (a binary search: pages hold thousands of changes). */
static int is_partial(const dala_sync_response *response, const dala_batch *page, size_t index)
{
    size_t low = 0, high = response->partial_count;
    while (low < high) { /* the first entry above index */
        size_t mid = low + (high - low) / 2;
        if (response->partial[mid] <= index) low = mid + 1;
        else high = mid;
    }
    if (low == 0) return 0;
    size_t first = response->partial[low - 1];
    return first < page->change_count &&
           memcmp(page->changes[first].record_id, page->changes[index].record_id, DALA_UUID_BYTES) == 0;
}

/* A record met in part that this device does not hold: asked for whole
 * (the wanted table) instead of stored. */
static int want_whole(sqlite3 *db, const char *id, uint64_t unit_id)
{
    sqlite3_stmt *stmt;
    int rc = dala_db_prepare(&stmt, db, "INSERT OR IGNORE INTO wanted(record_id, unit_id) VALUES (?1, ?2)");
    if (rc) return rc;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, (sqlite3_int64)unit_id);
    rc = dala_db_step_done(stmt, "ask for a record whole");
    sqlite3_finalize(stmt);
    return rc;
}

/* Merges one pulled change into its local record; a change of a record
 * this device lacks, sent in part, is not stored but asked for whole. */
static int apply_change(sqlite3 *db, const dala_change *change, int is_partial_record, uint64_t unit_id,
                        uint64_t seq, dala_hlc *clock)
{
    char id[DALA_ID_TEXT_BYTES];
    dala_record record = DALA_RECORD_INIT, pending = DALA_RECORD_INIT;
    char *table = NULL;
    uint64_t stored_unit;
    dala_uuid_format(id, change->record_id);
    int rc = dala_record_load(&table, &stored_unit, &record, db, id);
    int is_new = rc == DALA_ENOTFOUND;
    if (is_new) rc = DALA_OK;
    if (!rc && is_new && is_partial_record) {
        rc = want_whole(db, id, unit_id);
        free(table);
        dala_record_clear(&record);
        return rc;
    }
    if (!rc && !is_new && strcmp(table, change->table) != 0)
        rc = dala_error_set(DALA_ECORRUPT, "pulled change of record %s names table %s; it is "
                                           "stored as %s", id, change->table, table);
    if (!rc) rc = dala_outbox_pending_fields(&pending, db, id);
    dala_version incoming = {change->hlc, change->device_id};
    size_t changed = 0;
    for (size_t i = 0; !rc && i < change->field_count; i++) {
        const dala_field *field = &change->fields[i];
        if (!takes_pulled(&pending, dala_record_find(&record, field->name), field, &incoming, seq))
            continue;
        rc = dala_record_set(&record, field->name, &field->value, &incoming, seq);
        changed++;
    }
    if (!rc && (is_new || changed))
        rc = dala_record_store(db, id, change->table, is_new ? unit_id : stored_unit, &record);
    /* Keep the clock past what was seen, so a later local edit of these
     * fields has hlc > base_hlc; a version far ahead of this clock (the
     * tablet's clock is behind) is not adopted here: the write path
     * moves past the field's version when it edits it. */
    uint64_t seen;
    if (!rc) (void)dala_hlc_receive(&seen, clock, change->hlc, dala_wall_clock_ms());
    free(table);
    dala_record_clear(&record);
    dala_record_clear(&pending);
    return rc;
}

/* Drops from the wanted records those now held, and those the server
 * says this device may not have. */
static int settle_wanted(sqlite3 *db, const dala_sync_response *response)
{
    sqlite3_stmt *stmt;
    /* Correlated, so it reads the (mostly empty) wanted table, not every record. */
    int rc = dala_db_exec(db, "DELETE FROM wanted WHERE EXISTS (SELECT 1 FROM record WHERE record.id = wanted.record_id)",
                          "settle wanted");
    if (rc || !response->gone_count) return rc;
    rc = dala_db_prepare(&stmt, db, "DELETE FROM wanted WHERE record_id = ?1");
    for (size_t i = 0; !rc && i < response->gone_count; i++) {
        char id[DALA_ID_TEXT_BYTES];
        dala_uuid_format(id, response->gone + i * DALA_UUID_BYTES);
        sqlite3_bind_text(stmt, 1, id, -1, SQLITE_TRANSIENT);
        rc = dala_db_step_done(stmt, "drop a gone record");
        sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int save_cursors(sqlite3 *db, const dala_sync_response *response)
{
    sqlite3_stmt *stmt;
    int rc = dala_db_prepare(&stmt, db, "INSERT INTO pull_cursor(unit_id, seq, whole_to) VALUES (?1, ?2, ?3) "
                                        "ON CONFLICT(unit_id) DO UPDATE SET seq = excluded.seq, "
                                        "whole_to = excluded.whole_to");
    for (size_t i = 0; !rc && i < response->cursor_count; i++) {
        sqlite3_bind_int64(stmt, 1, (sqlite3_int64)response->cursors[i].unit_id);
        sqlite3_bind_int64(stmt, 2, (sqlite3_int64)response->cursors[i].seq);
        sqlite3_bind_int64(stmt, 3, (sqlite3_int64)response->cursors[i].whole_to);
        rc = dala_db_step_done(stmt, "save pull cursor");
        sqlite3_reset(stmt);
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* A new server epoch: the server was restored. Drops the cursors; if there
 * were any, the page (computed from them) is not applied, and the next
 * round trip pulls afresh; and offers the device's own versions again
 * (restore.c). */
static int check_epoch(int *reset_out, sqlite3 *db, const dala_sync_response *response)
{
    int64_t stored;
    uint64_t server_epoch = response->server_epoch;
    *reset_out = 0;
    int rc = dala_meta_get_int(&stored, db, "server_epoch", 0);
    if (rc || (uint64_t)stored == server_epoch) return rc;
    if (stored != 0) {
        rc = dala_db_exec(db, "DELETE FROM pull_cursor", "drop pull cursors");
        *reset_out = !rc && sqlite3_changes(db) > 0;
        if (!rc) rc = dala_restore_offer_again(db);
    }
    return rc ? rc : dala_meta_set_int(db, "server_epoch", (int64_t)server_epoch);
}

/* After a rotation of the server's key (`dala-server admin rotate-key`),
 * an answer to a request made under an older key epoch carries the newer
 * epoch and its public key. The answer opened under the key the device
 * holds, so they are the server's; they are kept (from the next handshake
 * on) only when the epoch is newer than the device's, so neither a replay
 * nor anything else can take the device back to an older key. */
static int adopt_server_key(sqlite3 *db, const dala_sync_response *response)
{
    int64_t epoch;
    if (!response->next_key_epoch) return DALA_OK;
    int rc = dala_meta_get_int(&epoch, db, "key_epoch", 0);
    if (rc || (int64_t)response->next_key_epoch <= epoch) return rc;
    rc = dala_meta_set_blob(db, "server_public_key", response->next_server_key, DALA_KEY_BYTES);
    return rc ? rc : dala_meta_set_int(db, "key_epoch", (int64_t)response->next_key_epoch);
}

/* The body of dala_pull_apply, inside its transaction. */
static int apply_in_transaction(dala_pull_result *out, sqlite3 *db, uint64_t inflight_seq,
                                size_t inflight_count, const dala_sync_response *response,
                                const dala_batch *page, uint64_t sent_boot_ms)
{
    /* The answer acknowledges exactly the batch this request carried. */
    int rc = DALA_OK;
    if (inflight_seq && response->acked_batch_seq == inflight_seq) {
        rc = dala_outbox_mark_acked(&out->rejected, db, inflight_seq, response->rejected,
                                    response->rejected_count, response->server_time_ms);
        out->acked = inflight_count;
    }
    if (!rc) rc = dala_clock_observe(&out->clock_skew_ms, db, response->server_time_ms, sent_boot_ms);
    if (!rc) rc = adopt_server_key(db, response);
    if (!rc) rc = check_epoch(&out->epoch_reset, db, response);
    if (!rc && !out->epoch_reset && page) {
        int64_t saved;
        dala_hlc clock;
        uint64_t seq = response_cursor(response, response->pull_unit_id);
        rc = dala_meta_get_int(&saved, db, "hlc", 0);
        dala_hlc_init(&clock, (uint64_t)saved);
        for (size_t i = 0; !rc && i < page->change_count; i++)
            rc = apply_change(db, &page->changes[i], is_partial(response, page, i), response->pull_unit_id, seq,
                              &clock);
        if (!rc) rc = settle_wanted(db, response);
        if (!rc) rc = dala_meta_set_int(db, "hlc", (int64_t)dala_hlc_state(&clock));
        out->pulled = rc ? 0 : page->change_count;
    }
    if (!rc && !out->epoch_reset) rc = save_cursors(db, response);
    if (!rc) rc = dala_meta_set_int(db, "last_sync_at", (int64_t)dala_wall_clock_ms());
    return rc;
}

int dala_pull_apply(dala_pull_result *out, sqlite3 *db, uint64_t inflight_seq,
                    size_t inflight_count, const dala_sync_response *response,
                    size_t max_changes, uint64_t sent_boot_ms)
{
    dala_batch *page = NULL;
    memset(out, 0, sizeof *out);
    if (response->pull_len) {
        int rc = dala_batch_decode(&page, response->pull, response->pull_len, max_changes);
        if (rc) return dala_error_set(rc, "sync: pulled page: %s", dala_errmsg());
    }
    int rc = dala_db_begin(db);
    if (!rc) rc = apply_in_transaction(out, db, inflight_seq, inflight_count, response, page, sent_boot_ms);
    if (!rc) rc = dala_db_commit(db);
    else dala_db_rollback(db);
    if (rc) memset(out, 0, sizeof *out);
    dala_batch_free(page);
    return rc;
}
