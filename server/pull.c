/* pull.c - reading the next page a device may see. The scope comes from
 * the enrolled device, never from the request: its own unit's log, and
 * the records of published tables (survey forms) in the logs of the units
 * above it, which are served first; cursors the device sends for other
 * units are ignored. A page is a range of one unit's log (record_by_unit_seq,
 * after the device's cursor), and each record in it sends the fields
 * written after the cursor's `whole_to` (the end of the log when a page
 * last reached it), grouped by the version that wrote them, so an edit of
 * one field costs one field on the wire.
 *
 * Why `whole_to` and not the cursor: a record sits at the position of its
 * last write, so one created at position 5 and edited at 2000 is not on the
 * page that covers 5; the page that covers 2000 must send its creation
 * too, unless the device had read the whole log before the edit. While a
 * device catches up over several pages, every page sends the fields
 * written since the log end it last reached; a record moved past the
 * device's cursor by an edit is met again on a later page, whole. When a
 * page reaches the end of the log, the device holds every record whole to
 * that end (docs/protocol.md, 10.5). */
#include "server_int.h"
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

/* How many log rows a page may look at per change it can hold. */
#define SCAN_FACTOR 16

/* The decoded rows of one page; changes point into them. */
typedef struct page {
    uint64_t device_id; /* the asking device: its own writes are not echoed */
    int is_published_only; /* a unit above the device's: only published tables */
    size_t row_count;
    dala_record *records;
    uint8_t (*ids)[DALA_UUID_BYTES];
    char (*tables)[DALA_MAX_NAME_BYTES + 1];
    dala_change *changes;
    size_t change_count, change_alloc;
    dala_field *fields;
    size_t field_count, field_alloc;
    uint32_t *partial; /* changes whose record left out fields at or before whole_to */
    size_t partial_count, partial_alloc;
    uint8_t (*gone)[DALA_UUID_BYTES]; /* wanted records the device may not have */
    size_t gone_count;
} page;

static void page_free(page *p)
{
    for (size_t i = 0; i < p->row_count; i++) dala_record_clear(&p->records[i]);
    free(p->records);
    free(p->ids);
    free(p->tables);
    free(p->changes);
    free(p->fields);
    free(p->partial);
    free(p->gone);
}

/* The device's cursor for `unit_id`, or the start of the log. */
static dala_cursor cursor_of(const dala_sync_request *request, uint64_t unit_id)
{
    for (size_t i = 0; i < request->cursor_count; i++)
        if (request->cursors[i].unit_id == unit_id) return request->cursors[i];
    return (dala_cursor){unit_id, 0, 0};
}

static int grow(void **array, size_t *alloc, size_t needed, size_t item)
{
    if (needed <= *alloc) return DALA_OK;
    size_t count = *alloc ? *alloc : 64;
    while (count < needed) count *= 2;
    void *grown = realloc(*array, count * item);
    if (!grown) return dala_error_set(DALA_ENOMEM, "read pull page: out of memory");
    *array = grown;
    *alloc = count;
    return DALA_OK;
}

/* Whether a field goes on the page: written after `whole_to`, by another
 * device than the asking one (`own` 0) or by any (`own` 1). */
static int is_sent(const page *p, const dala_record_field *field, uint64_t whole_to, int own)
{
    return field->seq > whole_to && (own || field->version.device_id != p->device_id);
}

/* Adds the changes of one record: its fields written after `whole_to`
 * (and not by the asking device, unless `own`), one change per version
 * that wrote them; a record that leaves out another's field is listed as
 * partial. Field pointers are fixed up after the page, since `fields` may
 * still move. */
static int add_record_changes(page *p, size_t row, uint64_t whole_to, int own)
{
    const dala_record *record = &p->records[row];
    size_t first_change = p->change_count;
    int left_out = 0;
    for (size_t i = 0; i < record->field_count; i++) {
        const dala_record_field *field = &record->fields[i];
        if (!is_sent(p, field, whole_to, own)) {
            left_out |= field->version.device_id != p->device_id;
            continue;
        }
        int seen = 0; /* does an earlier field open this version's change? */
        for (size_t j = 0; j < i && !seen; j++)
            seen = is_sent(p, &record->fields[j], whole_to, own) &&
                   dala_version_compare(&record->fields[j].version, &field->version) == 0;
        if (seen) continue;
        int rc = grow((void **)&p->changes, &p->change_alloc, p->change_count + 1, sizeof *p->changes);
        if (rc) return rc;
        dala_change *change = &p->changes[p->change_count++];
        memset(change, 0, sizeof *change);
        change->table = p->tables[row];
        memcpy(change->record_id, p->ids[row], DALA_UUID_BYTES);
        change->hlc = field->version.hlc;
        change->device_id = field->version.device_id;
        change->fields = (dala_field *)(uintptr_t)p->field_count; /* an offset for now */
        for (size_t j = i; j < record->field_count; j++) {
            const dala_record_field *member = &record->fields[j];
            if (!is_sent(p, member, whole_to, own) || dala_version_compare(&member->version, &field->version))
                continue;
            rc = grow((void **)&p->fields, &p->field_alloc, p->field_count + 1, sizeof *p->fields);
            if (rc) return rc;
            p->fields[p->field_count++] = (dala_field){member->name, member->value, 0};
            change->field_count++;
        }
    }
    if (!left_out || p->change_count == first_change) return DALA_OK;
    int rc = grow((void **)&p->partial, &p->partial_alloc, p->partial_count + 1, sizeof *p->partial);
    if (!rc) p->partial[p->partial_count++] = (uint32_t)first_change;
    return rc;
}

/* Reads the rows of one page after `cursor` into `p`; *is_cut says the
 * page stopped before the end of the log, *last_seq is the last position
 * it looked at. */
static int read_rows(page *p, server_conn *conn, uint64_t unit_id, const dala_cursor *cursor, uint32_t limit,
                     int *is_cut, uint64_t *last_seq)
{
    sqlite3_stmt *stmt = server_stmt_get(conn, STMT_PULL_PAGE);
    if (!stmt) return DALA_EIO;
    /* Room for the page and for the records the device wants whole. */
    p->records = calloc(limit + DALA_MAX_WANTED, sizeof *p->records);
    p->ids = calloc(limit + DALA_MAX_WANTED, sizeof *p->ids);
    p->tables = calloc(limit + DALA_MAX_WANTED, sizeof *p->tables);
    if (!p->records || !p->ids || !p->tables) return dala_error_set(DALA_ENOMEM, "read pull page");
    sqlite3_bind_int64(stmt, 1, (int64_t)unit_id);
    sqlite3_bind_int64(stmt, 2, (int64_t)cursor->seq);
    /* Rows passed over unread are cheap, so a page may look at more of them. */
    uint64_t scan_limit = (uint64_t)limit * SCAN_FACTOR, scanned = 0;
    sqlite3_bind_int64(stmt, 3, (int64_t)scan_limit + 1);
    int rc = DALA_OK, step;
    *is_cut = 0;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        /* A page holds at most `limit` changes; one record may add several. */
        if (p->row_count == limit || p->change_count >= limit || scanned == scan_limit) {
            *is_cut = 1;
            break;
        }
        scanned++;
        *last_seq = (uint64_t)sqlite3_column_int64(stmt, 2);
        /* The row's only news since the device held it whole is its own
         * last write: it has all of it, so the row is passed over unread. */
        if ((uint64_t)sqlite3_column_int64(stmt, 4) == p->device_id &&
            (uint64_t)sqlite3_column_int64(stmt, 5) <= cursor->whole_to)
            continue;
        if (p->is_published_only) {
            const dala_table_def *table = dala_domain_table(dala_domain_get(), (const char *)sqlite3_column_text(stmt, 1));
            if (!table || !table->is_published) continue;
        }
        size_t row = p->row_count++;
        memcpy(p->ids[row], sqlite3_column_blob(stmt, 0), DALA_UUID_BYTES);
        snprintf(p->tables[row], sizeof p->tables[row], "%s", (const char *)sqlite3_column_text(stmt, 1));
        rc = dala_record_decode(&p->records[row], sqlite3_column_blob(stmt, 3),
                                (size_t)sqlite3_column_bytes(stmt, 3));
        if (!rc) rc = add_record_changes(p, row, cursor->whole_to, 0);
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE) rc = server_db_error(conn->db, "read pull page");
    sqlite3_reset(stmt);
    return rc;
}

/* The unit of a record the device wants whole, or 0 when it may not have
 * it (no such record, or out of its sight). */
static int wanted_unit(int64_t *unit_out, server_conn *conn, const server_device *device, const uint8_t *id)
{
    char id_text[DALA_UUID_TEXT_LEN + 1];
    *unit_out = 0;
    dala_uuid_format(id_text, id);
    int found = server_record_in_sight(NULL, conn, device, "*", id_text);
    if (found < 0) return found;
    if (!found) return DALA_OK;
    sqlite3_stmt *stmt = server_stmt_get(conn, STMT_RECORD_GET);
    if (!stmt) return DALA_EIO;
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(stmt), rc = DALA_OK;
    if (step == SQLITE_ROW) *unit_out = sqlite3_column_int64(stmt, 1);
    else if (step != SQLITE_DONE) rc = server_db_error(conn->db, "read a wanted record");
    sqlite3_reset(stmt);
    return rc;
}

/* Adds the records the device wants whole that belong to the page's unit,
 * with every field; lists those it may not have as gone. One already on
 * the page is left there. */
static int add_wanted(page *p, server_conn *conn, const server_device *device, const dala_sync_request *request,
                      uint64_t unit_id)
{
    int rc = DALA_OK;
    for (size_t w = 0; !rc && w < request->wanted_count; w++) {
        const uint8_t *id = request->wanted + w * DALA_UUID_BYTES;
        int64_t unit = 0;
        rc = wanted_unit(&unit, conn, device, id);
        if (rc) break;
        if (unit == 0) {
            uint8_t(*grown)[DALA_UUID_BYTES] = realloc(p->gone, (p->gone_count + 1) * sizeof *grown);
            if (!grown) return dala_error_set(DALA_ENOMEM, "read pull page: out of memory");
            p->gone = grown;
            memcpy(p->gone[p->gone_count++], id, DALA_UUID_BYTES);
            continue;
        }
        /* Served with a page of its own unit, and once. */
        int is_deferred = (uint64_t)unit != unit_id;
        for (size_t r = 0; r < p->row_count && !is_deferred; r++)
            is_deferred = memcmp(p->ids[r], id, DALA_UUID_BYTES) == 0;
        if (is_deferred) continue;
        sqlite3_stmt *stmt = server_stmt_get(conn, STMT_RECORD_GET);
        if (!stmt) return DALA_EIO;
        sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
        if (sqlite3_step(stmt) == SQLITE_ROW) {
            size_t row = p->row_count++;
            memcpy(p->ids[row], id, DALA_UUID_BYTES);
            snprintf(p->tables[row], sizeof p->tables[row], "%s", (const char *)sqlite3_column_text(stmt, 0));
            rc = dala_record_decode(&p->records[row], sqlite3_column_blob(stmt, 2),
                                    (size_t)sqlite3_column_bytes(stmt, 2));
            if (!rc) rc = add_record_changes(p, row, 0, 1);
        }
        sqlite3_reset(stmt);
    }
    return rc;
}

/* Whether the device wants whole a record of `unit_id`. */
static int wants_from(int *out, server_conn *conn, const server_device *device, const dala_sync_request *request,
                      int64_t unit_id)
{
    *out = 0;
    int rc = DALA_OK;
    for (size_t w = 0; !rc && !*out && w < request->wanted_count; w++) {
        int64_t unit = 0;
        rc = wanted_unit(&unit, conn, device, request->wanted + w * DALA_UUID_BYTES);
        *out = unit == unit_id;
    }
    return rc;
}

/* The last position written in a unit's log. */
static int log_end(uint64_t *out, server_conn *conn, int64_t unit_id)
{
    sqlite3_stmt *stmt = server_stmt_get(conn, STMT_UNIT_NEXT_SEQ);
    if (!stmt) return DALA_EIO;
    sqlite3_bind_int64(stmt, 1, unit_id);
    int rc = sqlite3_step(stmt) == SQLITE_ROW ? DALA_OK : server_db_error(conn->db, "read unit log");
    *out = rc ? 0 : (uint64_t)sqlite3_column_int64(stmt, 0) - 1;
    sqlite3_reset(stmt);
    return rc;
}

/* Picks the log to read: the first unit above the device (from the top)
 * with news the device has not read, or a record it wants whole, else the
 * device's own unit. */
static int pick_log(uint64_t *unit_out, int *is_above, server_conn *conn, const server_device *device,
                    const dala_sync_request *request)
{
    int64_t ancestors[SERVER_MAX_TREE_DEPTH];
    size_t count;
    *unit_out = (uint64_t)device->unit_id;
    *is_above = 0;
    int rc = server_unit_ancestors(ancestors, SERVER_MAX_TREE_DEPTH, &count, conn, device->unit_id);
    for (size_t i = count; !rc && i-- > 0;) {
        uint64_t end;
        int wanted = 0;
        rc = log_end(&end, conn, ancestors[i]);
        if (!rc && end <= cursor_of(request, (uint64_t)ancestors[i]).seq)
            rc = wants_from(&wanted, conn, device, request, ancestors[i]);
        if (!rc && (wanted || end > cursor_of(request, (uint64_t)ancestors[i]).seq)) {
            *unit_out = (uint64_t)ancestors[i];
            *is_above = 1;
            break;
        }
    }
    return rc;
}

int server_read_pull(dala_sync_response *response, dala_buf *pull, dala_cursor **cursors_out,
                     void **gone_out, server_conn *conn, const server_device *device,
                     const dala_sync_request *request, uint32_t max_pull_changes)
{
    uint32_t limit = request->max_pull_changes;
    if (limit == 0 || limit > max_pull_changes) limit = max_pull_changes;
    uint64_t unit_id = 0, last_seq = 0;
    dala_cursor cursor = {0, 0, 0};
    page p;
    memset(&p, 0, sizeof p);
    p.device_id = (uint64_t)device->id;
    int is_cut = 0;
    /* One read transaction, so the page is a consistent snapshot. */
    int rc = sqlite3_exec(conn->db, "BEGIN", NULL, NULL, NULL) ? server_db_error(conn->db, "begin read") : DALA_OK;
    if (!rc) rc = pick_log(&unit_id, &p.is_published_only, conn, device, request);
    cursor = cursor_of(request, unit_id);
    last_seq = cursor.seq;
    if (!rc) rc = read_rows(&p, conn, unit_id, &cursor, limit, &is_cut, &last_seq);
    if (!rc) rc = add_wanted(&p, conn, device, request, unit_id);
    for (size_t i = 0; i < p.change_count; i++)
        p.changes[i].fields = p.fields + (uintptr_t)p.changes[i].fields;
    sqlite3_exec(conn->db, "COMMIT", NULL, NULL, NULL);
    if (!rc) rc = dala_batch_encode(pull, dala_schema_version(), 0, p.changes, p.change_count);
    dala_cursor *cursors = rc ? NULL : malloc(sizeof *cursors);
    if (!rc && !cursors) rc = dala_error_set(DALA_ENOMEM, "read pull page");
    if (!rc) {
        /* A page that reached the end of the log leaves the device holding
         * every record of it whole to that end. */
        cursors[0] = (dala_cursor){unit_id, last_seq, is_cut ? cursor.whole_to : last_seq};
        response->cursors = cursors;
        response->cursor_count = 1;
        /* After a page from above, the device's own log may still have news. */
        response->has_more = is_cut || p.is_published_only;
        response->pull_unit_id = unit_id;
        response->pull = pull->data;
        response->pull_len = pull->len;
        response->partial = p.partial; /* handed over: the response frees it */
        response->partial_count = p.partial_count;
        p.partial = NULL;
        response->gone = (const uint8_t *)p.gone; /* the caller frees it with the cursors */
        response->gone_count = p.gone_count;
        *gone_out = p.gone;
        p.gone = NULL;
        *cursors_out = cursors;
    }
    page_free(&p);
    return rc;
}
