/* web_scope.c - what a signed-in person may see, decided on the server
 * for every request: supervisors their unit's subtree of the organisation
 * tree, inspectors only the records created on their own tablets,
 * administrators no records at all. A record out of scope is answered
 * exactly like one that does not exist. */
#include "web_int.h"

#include <stdio.h>
#include <string.h>

int web_unit_in_scope(int *out, web_request *r, int64_t unit_id)
{
    *out = unit_id == r->user.unit_id;
    if (*out) return DALA_OK;
    int64_t ancestors[SERVER_MAX_TREE_DEPTH];
    size_t count;
    int rc = server_unit_ancestors(ancestors, SERVER_MAX_TREE_DEPTH, &count, r->conn, unit_id);
    for (size_t i = 0; !rc && i < count; i++)
        if (ancestors[i] == r->user.unit_id) *out = 1;
    return rc;
}

int web_record_load(char table[64], int64_t *unit_id, dala_record *record, web_request *r, const char *id_text,
                    uint8_t id[DALA_UUID_BYTES])
{
    if (!web_role_may_read_records(r->user.role))
        return dala_error_set(DALA_EAUTH, "the %s role reads no records", r->user.role_name);
    if (dala_uuid_parse(id, id_text)) return dala_error_set(DALA_ENOTFOUND, "no such record in your scope");
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, "SELECT tbl, unit_id, data, officer_id FROM record WHERE id = ?1", -1, &stmt,
                           NULL))
        return server_db_error(r->conn->db, "read a record");
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(stmt), rc = DALA_ENOTFOUND, visible = 0;
    if (step == SQLITE_ROW) {
        snprintf(table, 64, "%s", (const char *)sqlite3_column_text(stmt, 0));
        *unit_id = sqlite3_column_int64(stmt, 1);
        rc = web_unit_in_scope(&visible, r, *unit_id);
        if (!rc && visible && r->user.role == ROLE_INSPECTOR)
            visible = sqlite3_column_int64(stmt, 3) == r->user.id;
        if (!rc && visible && record)
            rc = dala_record_decode(record, sqlite3_column_blob(stmt, 2), (size_t)sqlite3_column_bytes(stmt, 2));
        if (!rc && !visible) rc = DALA_ENOTFOUND;
    } else if (step != SQLITE_DONE) {
        rc = server_db_error(r->conn->db, "read a record");
    }
    sqlite3_finalize(stmt);
    if (rc == DALA_ENOTFOUND) dala_error_set(rc, "no such record in your scope");
    return rc;
}

void web_unit_name(char *out, size_t size, web_request *r, int64_t unit_id)
{
    sqlite3_stmt *stmt;
    out[0] = '\0';
    if (sqlite3_prepare_v2(r->conn->db, "SELECT name, name_kk, name_ru FROM org_unit WHERE id = ?1", -1, &stmt, NULL))
        return;
    sqlite3_bind_int64(stmt, 1, unit_id);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        int column = strcmp(r->lang, "ru") == 0 ? 2 : 1;
        const unsigned char *name = sqlite3_column_text(stmt, column);
        snprintf(out, size, "%s", name ? (const char *)name : (const char *)sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
}
