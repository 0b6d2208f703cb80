/* scope.c - what a device may see, derived on the server from the device,
 * never from what it claims: the records of its own unit, and the records
 * of published tables (survey forms) held by the units above it. The
 * checks of a change ask here whether the records it refers to exist. */
#include "server_int.h"
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

int server_unit_ancestors(int64_t *out, size_t max, size_t *count, server_conn *conn, int64_t unit_id)
{
    *count = 0;
    sqlite3_stmt *stmt = server_stmt_get(conn, STMT_UNIT_ANCESTORS);
    if (!stmt) return DALA_EIO;
    sqlite3_bind_int64(stmt, 1, unit_id);
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW && *count < max) out[(*count)++] = sqlite3_column_int64(stmt, 0);
    int rc = step == SQLITE_ROW || step == SQLITE_DONE ? DALA_OK : server_db_error(conn->db, "read unit ancestors");
    sqlite3_reset(stmt);
    return rc;
}

/* Whether a record of `table` held by `unit_id` is in the device's sight. */
static int is_in_sight(server_conn *conn, const server_device *device, const char *table, int64_t unit_id, int *out)
{
    *out = unit_id == device->unit_id;
    const dala_table_def *def = dala_domain_table(dala_domain_get(), table);
    if (*out || !def || !def->is_published) return DALA_OK;
    int64_t ancestors[SERVER_MAX_TREE_DEPTH];
    size_t count;
    int rc = server_unit_ancestors(ancestors, SERVER_MAX_TREE_DEPTH, &count, conn, device->unit_id);
    for (size_t i = 0; !rc && i < count; i++)
        if (ancestors[i] == unit_id) *out = 1;
    return rc;
}

int server_record_in_sight(dala_record *record_out, server_conn *conn, const server_device *device,
                           const char *table, const char *id_text)
{
    uint8_t id[DALA_UUID_BYTES];
    if (dala_uuid_parse(id, id_text)) return 0;
    sqlite3_stmt *stmt = server_stmt_get(conn, STMT_RECORD_GET);
    if (!stmt) return DALA_EIO;
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(stmt), rc = DALA_OK, found = 0;
    if (step == SQLITE_ROW) {
        const char *tbl = (const char *)sqlite3_column_text(stmt, 0);
        if (strcmp(table, "*") == 0 || strcmp(table, tbl) == 0)
            rc = is_in_sight(conn, device, tbl, sqlite3_column_int64(stmt, 1), &found);
        if (!rc && found && record_out)
            rc = dala_record_decode(record_out, sqlite3_column_blob(stmt, 2), (size_t)sqlite3_column_bytes(stmt, 2));
    } else if (step != SQLITE_DONE) {
        rc = server_db_error(conn->db, "read a referenced record");
    }
    sqlite3_reset(stmt);
    return rc ? rc : found;
}
