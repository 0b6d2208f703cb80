/* admin.c - the administration dala-server offers from the same binary:
 * the organisation tree, users with roles, single-use enrolment codes
 * bound to an officer and a unit, revoking a tablet and marking one lost
 * (its next sync erases it). It works on the database file directly, with
 * the server running or not (SQLite's WAL lets both write safely). */
#include "server_int.h"
#include "migration.h"
#include "sync_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <time.h>

extern const dala_migration server_migrations[];

/* Codes avoid letters and digits that are easy to misread (0/O, 1/I). */
static const char code_alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

int dala_admin_open(dala_admin **out, const char *db_path)
{
    *out = NULL;
    dala_admin *admin = calloc(1, sizeof *admin);
    if (!admin) return dala_error_set(DALA_ENOMEM, "open administration: out of memory");
    int rc = server_db_open(&admin->db, db_path);
    if (!rc) rc = dala_migrate(admin->db, server_migrations, db_path);
    if (rc) {
        dala_admin_close(admin);
        return rc;
    }
    *out = admin;
    return DALA_OK;
}

void dala_admin_close(dala_admin *admin)
{
    if (!admin) return;
    sqlite3_close(admin->db);
    free(admin);
}

/* Runs one statement with text/integer arguments ("t" or "i" per '?'). */
static int run(dala_admin *admin, int64_t *id_out, const char *what, const char *sql,
               const char *types, ...)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(admin->db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return server_db_error(admin->db, what);
    va_list args;
    va_start(args, types);
    for (int i = 0; types[i]; i++) {
        if (types[i] == 't') sqlite3_bind_text(stmt, i + 1, va_arg(args, const char *), -1, SQLITE_TRANSIENT);
        else if (types[i] == 'b') {
            const void *blob = va_arg(args, const void *);
            sqlite3_bind_blob(stmt, i + 1, blob, va_arg(args, int), SQLITE_TRANSIENT);
        } else sqlite3_bind_int64(stmt, i + 1, va_arg(args, int64_t));
    }
    va_end(args);
    int step = sqlite3_step(stmt), rc = DALA_OK;
    if (step == SQLITE_ROW && id_out) *id_out = sqlite3_column_int64(stmt, 0);
    else if (step == SQLITE_DONE && id_out && !sqlite3_stmt_readonly(stmt))
        *id_out = sqlite3_last_insert_rowid(admin->db);
    if (step == SQLITE_CONSTRAINT || sqlite3_errcode(admin->db) == SQLITE_CONSTRAINT)
        rc = dala_error_set(DALA_EINVAL, "%s: %s", what, sqlite3_errmsg(admin->db));
    else if (step != SQLITE_ROW && step != SQLITE_DONE) rc = server_db_error(admin->db, what);
    sqlite3_finalize(stmt);
    return rc;
}

int dala_admin_unit_add(int64_t *id_out, dala_admin *admin, int64_t parent_id, const char *kind,
                        const char *name)
{
    if (!name || !*name) return dala_error_set(DALA_EINVAL, "add unit: a name is needed");
    if (parent_id == 0)
        return run(admin, id_out, "add unit", "INSERT INTO org_unit (kind, name) VALUES (?1, ?2)", "tt",
                   kind, name);
    return run(admin, id_out, "add unit",
               "INSERT INTO org_unit (parent_id, kind, name) VALUES (?1, ?2, ?3)", "itt", parent_id,
               kind, name);
}

int dala_admin_user_add(int64_t *id_out, dala_admin *admin, const char *login,
                        const char *full_name, const char *role, int64_t unit_id)
{
    if (!login || !*login) return dala_error_set(DALA_EINVAL, "add user: a login is needed");
    return run(admin, id_out, "add user",
               "INSERT INTO app_user (login, full_name, role, unit_id, created_at) "
               "VALUES (?1, ?2, ?3, ?4, ?5)",
               "tttii", login, full_name ? full_name : login, role, unit_id, (int64_t)time(NULL));
}

int dala_admin_user_password(dala_admin *admin, int64_t user_id, const char *password)
{
    return server_password_set(admin->db, user_id, password);
}

int dala_admin_code_new(char *code_out, dala_admin *admin, int64_t user_id, int64_t unit_id,
                        int ttl_seconds)
{
    uint8_t random[12], hash[32];
    if (ttl_seconds < 1 || ttl_seconds > 24 * 3600)
        return dala_error_set(DALA_EINVAL, "make code: lifetime must be 1 s to 24 h");
    int rc = dala_random(random, sizeof random);
    if (rc) return rc;
    size_t n = 0;
    for (size_t i = 0; i < sizeof random; i++) {
        if (i && i % 4 == 0) code_out[n++] = '-';
        code_out[n++] = code_alphabet[random[i] & 31];
    }
    code_out[n] = '\0';
    rc = server_code_hash(hash, code_out);
    if (!rc) rc = run(admin, NULL, "make code",
                      "INSERT INTO enrol_code (code_hash, user_id, unit_id, expires_at) "
                      "SELECT ?1, ?2, ?3, ?4 FROM app_user WHERE id = ?2",
                      "biii", hash, 32, user_id, unit_id, (int64_t)time(NULL) + ttl_seconds);
    if (!rc && sqlite3_changes(admin->db) != 1)
        rc = dala_error_set(DALA_ENOTFOUND, "make code: no user %lld", (long long)user_id);
    return rc;
}

int dala_admin_device_revoke(dala_admin *admin, int64_t device_id)
{
    int rc = run(admin, NULL, "revoke device",
                 "UPDATE device SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", "ii",
                 device_id, (int64_t)time(NULL));
    if (!rc && sqlite3_changes(admin->db) != 1)
        rc = dala_error_set(DALA_ENOTFOUND, "revoke device: no active device %lld", (long long)device_id);
    return rc;
}

int dala_admin_device_lost(dala_admin *admin, int64_t device_id, int64_t by_user_id)
{
    int64_t unit_id = 0;
    char detail[80];
    snprintf(detail, sizeof detail, by_user_id ? "device %lld" : "device %lld, by the administration command",
             (long long)device_id);
    int rc = server_db_begin(admin->db);
    if (rc) return rc;
    rc = run(admin, &unit_id, "mark device lost", "SELECT unit_id FROM device WHERE id = ?1", "i", device_id);
    if (!rc && !unit_id) rc = dala_error_set(DALA_ENOTFOUND, "mark device lost: no device %lld", (long long)device_id);
    if (!rc) rc = run(admin, NULL, "mark device lost",
                      "UPDATE device SET lost_at = ?2, lost_by_user_id = nullif(?3, 0) WHERE id = ?1 AND lost_at IS NULL",
                      "iii", device_id, (int64_t)time(NULL), by_user_id);
    if (!rc && sqlite3_changes(admin->db) != 1)
        rc = dala_error_set(DALA_ECONFLICT, "mark device lost: device %lld is marked lost already", (long long)device_id);
    if (!rc) rc = server_audit_add(admin->db, by_user_id, "device_lost", unit_id, NULL, detail);
    if (!rc) rc = server_db_commit(admin->db);
    if (rc) server_db_rollback(admin->db);
    return rc;
}

static int find(int64_t *id_out, dala_admin *admin, const char *sql, const char *key, const char *what)
{
    *id_out = 0;
    int rc = run(admin, id_out, what, sql, "t", key);
    if (!rc && *id_out == 0) rc = dala_error_set(DALA_ENOTFOUND, "%s: no %s", what, key);
    return rc;
}

int dala_admin_unit_find(int64_t *id_out, dala_admin *admin, const char *name)
{
    return find(id_out, admin, "SELECT id FROM org_unit WHERE code = ?1 UNION ALL "
                "SELECT id FROM org_unit WHERE name = ?1 LIMIT 1", name, "find unit");
}

int dala_admin_root_unit(int64_t *id_out, dala_admin *admin)
{
    *id_out = 0;
    int rc = run(admin, id_out, "find the top unit",
                 "SELECT id FROM org_unit WHERE parent_id IS NULL ORDER BY id LIMIT 1", "");
    if (!rc && *id_out == 0) rc = dala_error_set(DALA_ENOTFOUND, "find the top unit: the tree is empty");
    return rc;
}

int dala_admin_user_find(int64_t *id_out, dala_admin *admin, const char *login)
{
    return find(id_out, admin, "SELECT id FROM app_user WHERE login = ?1", login, "find user");
}

int dala_admin_user_unit(int64_t *unit_id_out, dala_admin *admin, int64_t user_id)
{
    *unit_id_out = 0;
    int rc = run(admin, unit_id_out, "find user's unit", "SELECT unit_id FROM app_user WHERE id = ?1",
                 "i", user_id);
    if (!rc && *unit_id_out == 0)
        rc = dala_error_set(DALA_ENOTFOUND, "find user's unit: no user %lld", (long long)user_id);
    return rc;
}

int dala_admin_record_list(dala_admin *admin, dala_admin_record_fn fn, void *context)
{
    static const char sql[] =
        "SELECT r.id, r.tbl, u.name, r.seq FROM record r JOIN org_unit u ON u.id = r.unit_id "
        "WHERE r.tbl != 'conflict' ORDER BY u.id, r.seq";
    sqlite3_stmt *stmt, *conflicts;
    if (sqlite3_prepare_v2(admin->db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return server_db_error(admin->db, "list records");
    if (sqlite3_prepare_v2(admin->db, "SELECT data FROM record WHERE tbl = 'conflict' AND unit_id = "
                           "(SELECT unit_id FROM record WHERE id = ?1)", -1, &conflicts, NULL) != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return server_db_error(admin->db, "list records");
    }
    int rc = DALA_OK;
    while (!rc && sqlite3_step(stmt) == SQLITE_ROW) {
        char id[DALA_UUID_TEXT_LEN + 1];
        dala_uuid_format(id, sqlite3_column_blob(stmt, 0));
        int open = 0;
        sqlite3_bind_blob(conflicts, 1, sqlite3_column_blob(stmt, 0), DALA_UUID_BYTES, SQLITE_TRANSIENT);
        while (sqlite3_step(conflicts) == SQLITE_ROW) {
            dala_record conflict = DALA_RECORD_INIT;
            if (dala_record_decode(&conflict, sqlite3_column_blob(conflicts, 0),
                                   (size_t)sqlite3_column_bytes(conflicts, 0)) == DALA_OK) {
                const dala_record_field *about = dala_record_find(&conflict, "record_id");
                open += about && about->value.len == DALA_UUID_TEXT_LEN &&
                        memcmp(about->value.bytes, id, DALA_UUID_TEXT_LEN) == 0;
            }
            dala_record_clear(&conflict);
        }
        sqlite3_reset(conflicts);
        rc = fn(context, id, (const char *)sqlite3_column_text(stmt, 1),
                (const char *)sqlite3_column_text(stmt, 2), sqlite3_column_int64(stmt, 3), open);
    }
    sqlite3_finalize(stmt);
    sqlite3_finalize(conflicts);
    return rc;
}
