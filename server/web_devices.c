/* web_devices.c - tablets and people: the devices of the scope with their
 * last sync, revoking a tablet (its next sync is refused), marking a lost
 * one (its next sync erases it, and it confirms the wipe), enrolment
 * codes for an officer (as text and as a QR code the tablet's camera
 * reads), and the users of the scope. Unit heads and deputies see,
 * revoke and mark lost devices; the administrator also makes codes, adds
 * users, and disables, enables, edits and gives a new password to a user of
 * the scope (server/admin.c does each, audited, in one transaction). */
#include "qr.h"
#include "web_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Enrolment codes made on the pages live 15 minutes. */
#define WEB_CODE_SECONDS (15 * 60)

int web_route_devices(web_request *r)
{
    if (!web_role_may_manage_devices(r->user.role))
        return web_send_error(r, 403, DALA_EAUTH, "devices: this role does not manage devices");
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db,
                           WEB_SCOPE_CTE "SELECT d.id, u.full_name, d.user_id, d.unit_id, d.enrolled_at, d.last_sync_at, "
                                         "d.revoked_at, d.lost_at, d.wipe_confirmed_at, lb.full_name "
                                         "FROM device d JOIN app_user u ON u.id = d.user_id "
                                         "LEFT JOIN app_user lb ON lb.id = d.lost_by_user_id "
                                         "WHERE d.unit_id IN (SELECT id FROM scope) ORDER BY d.id",
                           -1, &stmt, NULL))
        return web_send_failure(r, server_db_error(r->conn->db, "list devices"));
    sqlite3_bind_int64(stmt, 1, r->user.unit_id);
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_array_begin(&j, "devices");
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        char unit[256];
        web_unit_name(unit, sizeof unit, r, sqlite3_column_int64(stmt, 3));
        json_object_begin(&j, NULL);
        json_int(&j, "id", sqlite3_column_int64(stmt, 0));
        json_string(&j, "officer", (const char *)sqlite3_column_text(stmt, 1));
        json_int(&j, "user_id", sqlite3_column_int64(stmt, 2));
        json_string(&j, "unit", unit);
        json_int(&j, "enrolled_at", sqlite3_column_int64(stmt, 4));
        static const char *const times[] = {"last_sync_at", "revoked_at", "lost_at", "wipe_confirmed_at"};
        for (int c = 5; c <= 8; c++) {
            const char *key = times[c - 5];
            if (sqlite3_column_type(stmt, c) == SQLITE_NULL) json_null(&j, key);
            else json_int(&j, key, sqlite3_column_int64(stmt, c));
        }
        /* Who marked it lost; null when not lost or marked by the administration command. */
        if (sqlite3_column_type(stmt, 9) == SQLITE_NULL) json_null(&j, "lost_by");
        else json_string(&j, "lost_by", (const char *)sqlite3_column_text(stmt, 9));
        json_object_end(&j);
    }
    sqlite3_finalize(stmt);
    json_array_end(&j);
    json_object_end(&j);
    return web_send_json(r, &j);
}

/* The unit of a device or a user (`sql` takes its id), checked against the
 * scope: DALA_ENOTFOUND when out of it. */
static int unit_in_scope(int64_t *unit_id, web_request *r, const char *sql, int64_t id, const char *what)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, sql, -1, &stmt, NULL)) return server_db_error(r->conn->db, what);
    sqlite3_bind_int64(stmt, 1, id);
    int step = sqlite3_step(stmt), visible = 0, rc = DALA_OK;
    *unit_id = step == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    if (step == SQLITE_ROW) rc = web_unit_in_scope(&visible, r, *unit_id);
    if (!rc && !visible) rc = dala_error_set(DALA_ENOTFOUND, "%s: none in your scope", what);
    return rc;
}

static int parse_id(int64_t *out, const char *text)
{
    char *end;
    long long value = strtoll(text, &end, 10);
    *out = value;
    return *end || end == text || value <= 0 ? DALA_ENOTFOUND : DALA_OK;
}

int web_route_revoke(web_request *r, const char *id_text)
{
    if (!web_role_may_manage_devices(r->user.role))
        return web_send_error(r, 403, DALA_EAUTH, "revoke: this role does not manage devices");
    int64_t device_id, unit_id;
    int rc = parse_id(&device_id, id_text);
    if (rc) rc = dala_error_set(DALA_ENOTFOUND, "revoke: no such device in your scope");
    if (!rc) rc = unit_in_scope(&unit_id, r, "SELECT unit_id FROM device WHERE id = ?1", device_id, "revoke device");
    struct dala_admin admin = {r->conn->db};
    if (!rc) rc = dala_admin_device_revoke(&admin, device_id);
    if (rc == DALA_ENOTFOUND && !dala_errmsg()[0]) dala_error_set(rc, "revoke: no such device");
    if (rc == DALA_ENOTFOUND && strstr(dala_errmsg(), "no active")) rc = dala_error_set(DALA_ECONFLICT, "revoke: the device is revoked already");
    char detail[32];
    snprintf(detail, sizeof detail, "device %lld", (long long)device_id);
    if (!rc) rc = web_audit(r, "revoke", unit_id, NULL, detail);
    if (rc) return web_send_failure(r, rc);
    return web_send_done(r, "revoked");
}

/* Marks a device lost: its next sync erases the tablet (docs/protocol.md,
 * 10.8). Scoped as revoking is; the audit entry is written with the mark. */
int web_route_device_lost(web_request *r, const char *id_text)
{
    if (!web_role_may_manage_devices(r->user.role))
        return web_send_error(r, 403, DALA_EAUTH, "mark lost: this role does not manage devices");
    int64_t device_id, unit_id;
    int rc = parse_id(&device_id, id_text);
    if (rc) rc = dala_error_set(DALA_ENOTFOUND, "mark lost: no such device in your scope");
    if (!rc) rc = unit_in_scope(&unit_id, r, "SELECT unit_id FROM device WHERE id = ?1", device_id, "mark device lost");
    struct dala_admin admin = {r->conn->db};
    if (!rc) rc = dala_admin_device_lost(&admin, device_id, r->user.id);
    if (rc) return web_send_failure(r, rc);
    return web_send_done(r, "lost");
}

int web_route_enrol_code(web_request *r)
{
    if (r->user.role != ROLE_ADMIN)
        return web_send_error(r, 403, DALA_EAUTH, "enrolment codes: only the administrator makes them");
    const dala_json *user = r->json ? dala_json_get(r->json, "user_id") : NULL;
    if (!user || user->type != DALA_JSON_NUMBER || !user->is_integer)
        return web_send_error(r, 400, DALA_EINVAL, "enrolment code: user_id (a number) is needed");
    int64_t unit_id;
    char code[32], detail[48];
    int rc = unit_in_scope(&unit_id, r, "SELECT unit_id FROM app_user WHERE id = ?1", user->integer, "enrolment code");
    struct dala_admin admin = {r->conn->db};
    if (!rc) rc = dala_admin_code_new(code, &admin, user->integer, unit_id, WEB_CODE_SECONDS);
    dala_buf svg = DALA_BUF_INIT;
    if (!rc) rc = qr_svg(&svg, code);
    snprintf(detail, sizeof detail, "user %lld", (long long)user->integer);
    if (!rc) rc = web_audit(r, "enrol_code", unit_id, NULL, detail);
    if (rc) {
        dala_buf_free(&svg);
        return web_send_failure(r, rc);
    }
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_string(&j, "code", code);
    json_int(&j, "expires_at", (int64_t)time(NULL) + WEB_CODE_SECONDS);
    json_string_n(&j, "qr_svg", svg.data, svg.len);
    json_object_end(&j);
    dala_buf_free(&svg);
    return web_send_json(r, &j);
}

static int list_users(web_request *r)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db,
                           WEB_SCOPE_CTE "SELECT id, login, full_name, role, unit_id, disabled_at FROM app_user "
                                         "WHERE unit_id IN (SELECT id FROM scope) ORDER BY full_name COLLATE kk",
                           -1, &stmt, NULL))
        return web_send_failure(r, server_db_error(r->conn->db, "list users"));
    sqlite3_bind_int64(stmt, 1, r->user.unit_id);
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_array_begin(&j, "users");
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        char unit[256];
        web_unit_name(unit, sizeof unit, r, sqlite3_column_int64(stmt, 4));
        json_object_begin(&j, NULL);
        json_int(&j, "id", sqlite3_column_int64(stmt, 0));
        json_string(&j, "login", (const char *)sqlite3_column_text(stmt, 1));
        json_string(&j, "full_name", (const char *)sqlite3_column_text(stmt, 2));
        json_string(&j, "role", (const char *)sqlite3_column_text(stmt, 3));
        json_int(&j, "unit_id", sqlite3_column_int64(stmt, 4));
        json_string(&j, "unit", unit);
        if (sqlite3_column_type(stmt, 5) == SQLITE_NULL) json_null(&j, "disabled_at");
        else json_int(&j, "disabled_at", sqlite3_column_int64(stmt, 5));
        json_object_end(&j);
    }
    sqlite3_finalize(stmt);
    json_array_end(&j);
    json_object_end(&j);
    return web_send_json(r, &j);
}

static int add_user(web_request *r)
{
    const char *login = web_body_string(r, "login"), *full_name = web_body_string(r, "full_name");
    const char *role = web_body_string(r, "role"), *password = web_body_string(r, "password");
    const dala_json *unit = dala_json_get(r->json, "unit_id");
    if (!login || !full_name || !role || !password || !unit || unit->type != DALA_JSON_NUMBER || !unit->is_integer)
        return web_send_error(r, 400, DALA_EINVAL, "add user: login, full_name, role, unit_id and password are needed");
    int visible = 0;
    int64_t id = 0, existing = 0;
    struct dala_admin admin = {r->conn->db};
    if (strcmp(web_role_name(web_role_parse(role)), role) != 0)
        return web_send_error(r, 400, DALA_EINVAL, "add user: role is inspector, unit_head, deputy, analyst or admin");
    if (dala_admin_user_find(&existing, &admin, login) == DALA_OK)
        return web_send_error(r, 409, DALA_ECONFLICT, "add user: that login is taken");
    int rc = web_unit_in_scope(&visible, r, unit->integer);
    if (!rc && !visible) rc = dala_error_set(DALA_ENOTFOUND, "add user: no such unit in your scope");
    if (!rc && strlen(password) < 10) rc = dala_error_set(DALA_EINVAL, "add user: the password needs 10 characters or more");
    if (!rc) rc = server_db_begin(r->conn->db);
    if (!rc) {
        rc = dala_admin_user_add(&id, &admin, login, full_name, role, unit->integer);
        if (!rc) rc = server_password_set(r->conn->db, id, password);
        if (!rc) rc = server_db_commit(r->conn->db);
        if (rc) server_db_rollback(r->conn->db);
    }
    if (!rc) rc = web_audit(r, "user_add", unit->integer, NULL, login);
    if (rc) return web_send_failure(r, rc);
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_int(&j, "id", id);
    json_object_end(&j);
    return web_send_json(r, &j);
}

int web_route_users(web_request *r)
{
    if (r->user.role != ROLE_ADMIN) return web_send_error(r, 403, DALA_EAUTH, "users: only the administrator manages users");
    return strcmp(r->method, "POST") == 0 ? add_user(r) : list_users(r);
}

/* --- one account: POST /v1/users/{id}[/disable|/enable|/password] -------- */

/* POST /v1/users/{id}: {"full_name"?, "role"?, "unit_id"?}. */
static int edit_user(web_request *r, int64_t user_id)
{
    const dala_json *unit = r->json ? dala_json_get(r->json, "unit_id") : NULL;
    const char *full_name = web_body_string(r, "full_name"), *role = web_body_string(r, "role");
    if (unit && (unit->type != DALA_JSON_NUMBER || !unit->is_integer))
        return web_send_error(r, 400, DALA_EINVAL, "edit user: unit_id is a number");
    if (!full_name && !role && !unit)
        return web_send_error(r, 400, DALA_EINVAL, "edit user: give full_name, role or unit_id");
    if (role && dala_admin_role_check(role)) return web_send_failure(r, DALA_EINVAL);
    /* An administrator who demotes themselves is locked out of this page. */
    if (role && user_id == r->user.id && strcmp(role, r->user.role_name) != 0)
        return web_send_error(r, 409, DALA_ECONFLICT, "edit user: you cannot change your own role");
    int visible = 1, rc = DALA_OK;
    if (unit) rc = web_unit_in_scope(&visible, r, unit->integer);
    if (!rc && !visible) rc = dala_error_set(DALA_ENOTFOUND, "edit user: no such unit in your scope");
    struct dala_admin admin = {r->conn->db};
    if (!rc) rc = dala_admin_user_edit(&admin, user_id, full_name, role, unit ? unit->integer : 0, r->user.id);
    if (rc) return web_send_failure(r, rc);
    return web_send_done(r, "changed");
}

static int disable_user(web_request *r, int64_t user_id)
{
    if (user_id == r->user.id)
        return web_send_error(r, 409, DALA_ECONFLICT, "disable user: you cannot disable your own account");
    dala_admin_disabled done;
    struct dala_admin admin = {r->conn->db};
    int rc = dala_admin_user_disable(&done, &admin, user_id, r->user.id);
    if (rc) return web_send_failure(r, rc);
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_bool(&j, "disabled", 1);
    json_int(&j, "sessions_ended", done.sessions_ended);
    json_int(&j, "active_tablets", done.active_tablets);
    json_object_end(&j);
    return web_send_json(r, &j);
}

static int set_password(web_request *r, int64_t user_id)
{
    const char *password = web_body_string(r, "password");
    if (!password) return web_send_error(r, 400, DALA_EINVAL, "set password: password is needed");
    if (strlen(password) < 10 || strlen(password) > 1024)
        return web_send_error(r, 400, DALA_EINVAL, "set password: the password needs 10 to 1024 characters");
    struct dala_admin admin = {r->conn->db};
    int rc = dala_admin_user_password_reset(&admin, user_id, password, r->user.id);
    if (rc) return web_send_failure(r, rc);
    return web_send_done(r, "password_set");
}

int web_route_user(web_request *r, const char *rest)
{
    if (r->user.role != ROLE_ADMIN) return web_send_error(r, 403, DALA_EAUTH, "users: only the administrator manages users");
    char id_text[24];
    const char *slash = strchr(rest, '/'), *action = slash ? slash + 1 : "";
    size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
    int64_t user_id = 0, unit_id = 0;
    int rc = len && len < sizeof id_text ? DALA_OK : DALA_ENOTFOUND;
    if (!rc) {
        memcpy(id_text, rest, len);
        id_text[len] = '\0';
        rc = parse_id(&user_id, id_text);
    }
    if (rc) return web_send_error(r, 404, DALA_ENOTFOUND, "users: no such user in your scope");
    if (strcmp(action, "") != 0 && strcmp(action, "disable") != 0 && strcmp(action, "enable") != 0 &&
        strcmp(action, "password") != 0)
        return web_send_error(r, 404, DALA_ENOTFOUND, "no such resource");
    if (strcmp(r->method, "POST") != 0)
        return web_send_error(r, 405, DALA_EINVAL, "this resource does not take that method");
    rc = unit_in_scope(&unit_id, r, "SELECT unit_id FROM app_user WHERE id = ?1", user_id, "users");
    if (rc) return web_send_failure(r, rc);
    if (strcmp(action, "disable") == 0) return disable_user(r, user_id);
    if (strcmp(action, "password") == 0) return set_password(r, user_id);
    if (strcmp(action, "enable") == 0) {
        struct dala_admin admin = {r->conn->db};
        rc = dala_admin_user_enable(&admin, user_id, r->user.id);
        return rc ? web_send_failure(r, rc) : web_send_done(r, "enabled");
    }
    return edit_user(r, user_id);
}
