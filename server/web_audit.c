/* web_audit.c - the audit trail: who read a person's sensitive fields,
 * exported a list, decided, settled, revoked, marked a tablet lost or
 * signed in, and when, and when a lost tablet confirmed its wipe. Each
 * entry carries the unit of what it touched, so the trail is scoped like
 * the records; entries hold no field values. Visible to unit heads and
 * above (GET /v1/audit). */
#include "web_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int server_audit_add(sqlite3 *db, int64_t user_id, const char *action, int64_t unit_id, const uint8_t *record_id,
                     const char *detail)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "INSERT INTO audit (at, user_id, action, unit_id, record_id, detail) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &stmt, NULL))
        return server_db_error(db, "write the audit trail");
    sqlite3_bind_int64(stmt, 1, (int64_t)time(NULL));
    if (user_id) sqlite3_bind_int64(stmt, 2, user_id);
    sqlite3_bind_text(stmt, 3, action, -1, SQLITE_STATIC);
    if (unit_id) sqlite3_bind_int64(stmt, 4, unit_id);
    if (record_id) sqlite3_bind_blob(stmt, 5, record_id, DALA_UUID_BYTES, SQLITE_STATIC);
    if (detail) sqlite3_bind_text(stmt, 6, detail, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(db, "write the audit trail");
    sqlite3_finalize(stmt);
    return rc;
}

int web_audit(web_request *r, const char *action, int64_t unit_id, const uint8_t *record_id, const char *detail)
{
    return server_audit_add(r->conn->db, r->user.id, action, unit_id, record_id, detail);
}

int web_route_audit(web_request *r)
{
    if (!web_role_may_read_audit(r->user.role))
        return web_send_error(r, 403, DALA_EAUTH, "audit: inspectors do not read the audit trail");
    int64_t after = 0, limit = 0;
    int rc = web_query_int(&after, r, "after", INT64_MAX);
    if (!rc) rc = web_query_int(&limit, r, "limit", 100);
    if (rc) return web_send_failure(r, rc);
    if (limit < 1 || limit > 500) limit = 100;
    sqlite3_stmt *stmt;
    /* Entries about units of the scope, sign-ins of the scope's people, and
     * for administrators the failed sign-ins of logins nobody has. */
    if (sqlite3_prepare_v2(r->conn->db,
                           WEB_SCOPE_CTE
                           "SELECT a.id, a.at, coalesce(u.full_name, ''), a.action, a.record_id, a.unit_id, "
                           "coalesce(a.detail, '') FROM audit a LEFT JOIN app_user u ON u.id = a.user_id "
                           "WHERE a.id < ?2 AND (a.unit_id IN (SELECT id FROM scope) OR "
                           "(a.unit_id IS NULL AND u.unit_id IN (SELECT id FROM scope)) OR "
                           "(?4 AND a.unit_id IS NULL AND a.user_id IS NULL)) "
                           "ORDER BY a.id DESC LIMIT ?3",
                           -1, &stmt, NULL))
        return web_send_failure(r, server_db_error(r->conn->db, "read the audit trail"));
    sqlite3_bind_int64(stmt, 1, r->user.unit_id);
    sqlite3_bind_int64(stmt, 2, after);
    sqlite3_bind_int64(stmt, 3, limit + 1); /* one more: whether another page follows */
    sqlite3_bind_int(stmt, 4, r->user.role == ROLE_ADMIN);
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_array_begin(&j, "entries");
    int64_t last = 0, rows = 0;
    int has_more = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        if (rows == limit) {
            has_more = 1;
            break;
        }
        char id[DALA_UUID_TEXT_LEN + 1], unit[256] = "";
        last = sqlite3_column_int64(stmt, 0);
        rows++;
        json_object_begin(&j, NULL);
        json_int(&j, "id", last);
        json_int(&j, "at", sqlite3_column_int64(stmt, 1));
        json_string(&j, "user", (const char *)sqlite3_column_text(stmt, 2));
        json_string(&j, "action", (const char *)sqlite3_column_text(stmt, 3));
        if (sqlite3_column_bytes(stmt, 4) == DALA_UUID_BYTES) {
            dala_uuid_format(id, sqlite3_column_blob(stmt, 4));
            json_string(&j, "record_id", id);
        } else {
            json_null(&j, "record_id");
        }
        if (sqlite3_column_type(stmt, 5) != SQLITE_NULL) web_unit_name(unit, sizeof unit, r, sqlite3_column_int64(stmt, 5));
        json_string(&j, "unit", unit);
        json_string(&j, "detail", (const char *)sqlite3_column_text(stmt, 6));
        json_object_end(&j);
    }
    sqlite3_finalize(stmt);
    json_array_end(&j);
    if (has_more) json_int(&j, "next", last);
    else json_null(&j, "next");
    json_object_end(&j);
    return web_send_json(r, &j);
}
