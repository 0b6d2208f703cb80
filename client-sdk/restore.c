/* restore.c - what a tablet does when the server's epoch changes, that is
 * when the central database was restored from an older copy. The server
 * may have lost changes it had acknowledged after that copy was made, and
 * the tablet deleted those outbox entries when they were acknowledged; but
 * its records still carry every field version it wrote. So it offers them
 * all again: one change per record and version of its own, queued like any
 * write. The server takes back what it lost and sees the rest as
 * duplicates (the same version changes nothing). Batch numbers go on as
 * they were: the server applies any batch but the one it applied last. */
#include "sdk_int.h"

#include <stdlib.h>
#include <string.h>

/* Queues one change per version of `device_id` among the record's fields. */
static int offer_record(sqlite3 *db, const char *record_id, const char *table,
                        const dala_record *record, uint64_t device_id)
{
    dala_field *fields = calloc(record->field_count ? record->field_count : 1, sizeof *fields);
    if (!fields) return dala_error_set(DALA_ENOMEM, "offer records again: out of memory");
    int rc = DALA_OK;
    for (size_t i = 0; !rc && i < record->field_count; i++) {
        const dala_record_field *first = &record->fields[i];
        if (first->version.device_id != device_id) continue;
        int seen = 0; /* an earlier field opened this version's change */
        for (size_t j = 0; j < i && !seen; j++)
            seen = dala_version_compare(&record->fields[j].version, &first->version) == 0;
        if (seen) continue;
        dala_change change = {table, {0}, first->version.hlc, device_id, 0, fields};
        rc = dala_uuid_parse(change.record_id, record_id);
        for (size_t j = i; !rc && j < record->field_count; j++)
            if (dala_version_compare(&record->fields[j].version, &first->version) == 0)
                fields[change.field_count++] = (dala_field){record->fields[j].name,
                                                            record->fields[j].value, 0};
        if (!rc) rc = dala_outbox_append(db, &change, record_id);
    }
    free(fields);
    return rc;
}

int dala_restore_offer_again(sqlite3 *db)
{
    int64_t device_id;
    int rc = dala_meta_get_int(&device_id, db, "device_id", 0);
    sqlite3_stmt *stmt = NULL;
    if (!rc) rc = dala_db_prepare(&stmt, db, "SELECT id, tbl, data FROM record WHERE tbl != 'conflict'");
    int step = SQLITE_DONE;
    dala_record record = DALA_RECORD_INIT;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        rc = dala_record_decode(&record, sqlite3_column_blob(stmt, 2),
                                (size_t)sqlite3_column_bytes(stmt, 2));
        if (!rc) rc = offer_record(db, (const char *)sqlite3_column_text(stmt, 0),
                                   (const char *)sqlite3_column_text(stmt, 1), &record,
                                   (uint64_t)device_id);
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE) rc = dala_db_error(db, step, "read records");
    dala_record_clear(&record);
    sqlite3_finalize(stmt);
    return rc;
}
