/* admin.c - the administration dala-server offers from the same binary:
 * the organisation tree (units with Kazakh and Russian names), users with
 * roles (added, disabled and enabled again, renamed, moved, given a new
 * password, each audited), single-use enrolment codes bound to an officer
 * and a unit, revoking a tablet and marking one lost (its next sync erases
 * it). It works on the database file directly, with the server running or
 * not (SQLite's WAL lets both write safely). Its errors are plain words:
 * SQLite's own constraint text never reaches the operator. */
#include "server_int.h"
#include "backup.h"
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
    if (!rc) rc = dala_db_migrate(admin->db, db_path, NULL, 0); /* a copy of an older schema first */
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

/* The plain words for a refused constraint. The functions below check
 * their input first and say precisely what is wrong; this is the last
 * line, so that SQLite's "CHECK constraint failed: ..." never shows. */
static const char *constraint_words(int extended_code)
{
    switch (extended_code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: return "one with that name or code exists already";
    case SQLITE_CONSTRAINT_NOTNULL: return "a required value is missing";
    case SQLITE_CONSTRAINT_FOREIGNKEY: return "it names a unit or user that does not exist";
    default: return "a value is not one the database allows";
    }
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
        rc = dala_error_set(DALA_EINVAL, "%s: %s", what, constraint_words(sqlite3_extended_errcode(admin->db)));
    else if (step != SQLITE_ROW && step != SQLITE_DONE) rc = server_db_error(admin->db, what);
    sqlite3_finalize(stmt);
    return rc;
}

static const char *const unit_kinds[] = {"ministry", "committee", "department", "body", "unit", NULL};
static const char *const user_roles[] = {"inspector", "unit_head", "deputy", "analyst", "admin", NULL};

static int is_one_of(const char *value, const char *const *list)
{
    for (size_t i = 0; value && list[i]; i++)
        if (strcmp(value, list[i]) == 0) return 1;
    return 0;
}

int dala_admin_role_check(const char *role)
{
    if (is_one_of(role, user_roles)) return DALA_OK;
    return dala_error_set(DALA_EINVAL, "role must be one of: inspector, unit_head, deputy, analyst, admin");
}

int dala_admin_unit_add(int64_t *id_out, dala_admin *admin, int64_t parent_id, const char *kind,
                        const char *name)
{
    return dala_admin_unit_add_named(id_out, admin, parent_id, kind, name, NULL, NULL);
}

int dala_admin_unit_add_named(int64_t *id_out, dala_admin *admin, int64_t parent_id, const char *kind,
                              const char *name, const char *name_kk, const char *name_ru)
{
    if (name && !*name) name = NULL;
    if (name_kk && !*name_kk) name_kk = NULL;
    if (name_ru && !*name_ru) name_ru = NULL;
    if (!name && !name_kk && !name_ru)
        return dala_error_set(DALA_EINVAL, "add unit: a name is needed (--name, or --name-kk and --name-ru)");
    if (!is_one_of(kind, unit_kinds))
        return dala_error_set(DALA_EINVAL, "add unit: kind must be one of: ministry, committee, department, body, unit");
    /* `name` is what administrators look it up by: the Russian name, as
     * the seeded tree has it, unless a plain name is given. */
    if (!name_kk) name_kk = name ? name : name_ru;
    if (!name_ru) name_ru = name ? name : name_kk;
    if (!name) name = name_ru;
    return run(admin, id_out, "add unit",
               "INSERT INTO org_unit (parent_id, kind, name, name_kk, name_ru) VALUES (nullif(?1, 0), ?2, ?3, ?4, ?5)",
               "itttt", parent_id, kind, name, name_kk, name_ru);
}

int dala_admin_unit_rename(dala_admin *admin, int64_t unit_id, const char *name_kk, const char *name_ru,
                           int64_t by_user_id)
{
    if (name_kk && !*name_kk) name_kk = NULL;
    if (name_ru && !*name_ru) name_ru = NULL;
    if (!name_kk && !name_ru) return dala_error_set(DALA_EINVAL, "edit unit: give --name-kk, --name-ru or both");
    char detail[64];
    snprintf(detail, sizeof detail, "unit %lld:%s%s", (long long)unit_id, name_kk ? " kk name" : "",
             name_ru ? " ru name" : "");
    int rc = server_db_begin(admin->db);
    if (rc) return rc;
    /* The Russian name is also the name administrators look units up by. */
    rc = run(admin, NULL, "edit unit",
             "UPDATE org_unit SET name_kk = coalesce(?2, name_kk), name_ru = coalesce(?3, name_ru), "
             "name = coalesce(?3, name) WHERE id = ?1", "itt", unit_id, name_kk, name_ru);
    if (!rc && sqlite3_changes(admin->db) != 1)
        rc = dala_error_set(DALA_ENOTFOUND, "edit unit: no unit %lld", (long long)unit_id);
    if (!rc) rc = server_audit_add(admin->db, by_user_id, "unit_edit", unit_id, NULL, detail);
    if (!rc) rc = server_db_commit(admin->db);
    if (rc) server_db_rollback(admin->db);
    return rc;
}

int dala_admin_user_add(int64_t *id_out, dala_admin *admin, const char *login,
                        const char *full_name, const char *role, int64_t unit_id)
{
    int64_t existing = 0;
    if (!login || !*login) return dala_error_set(DALA_EINVAL, "add user: a login is needed");
    int rc = dala_admin_role_check(role);
    if (!rc && run(admin, &existing, "add user", "SELECT id FROM app_user WHERE login = ?1", "t", login) == DALA_OK &&
        existing)
        rc = dala_error_set(DALA_ECONFLICT, "add user: the login %s is taken", login);
    if (rc) return rc;
    return run(admin, id_out, "add user",
               "INSERT INTO app_user (login, full_name, role, unit_id, created_at) "
               "VALUES (?1, ?2, ?3, ?4, ?5)",
               "tttii", login, full_name ? full_name : login, role, unit_id, (int64_t)time(NULL));
}

/* --- accounts: disable, enable, edit, a new password --------------------- */

/* A user's row as the account changes read it. */
typedef struct account {
    char login[128], full_name[256], role[16];
    int64_t unit_id, disabled_at;
} account;

static int account_read(account *out, dala_admin *admin, int64_t user_id, const char *what)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(admin->db, "SELECT login, full_name, role, unit_id, coalesce(disabled_at, 0) "
                                      "FROM app_user WHERE id = ?1", -1, &stmt, NULL))
        return server_db_error(admin->db, what);
    sqlite3_bind_int64(stmt, 1, user_id);
    int step = sqlite3_step(stmt), rc = DALA_OK;
    if (step == SQLITE_ROW) {
        snprintf(out->login, sizeof out->login, "%s", (const char *)sqlite3_column_text(stmt, 0));
        snprintf(out->full_name, sizeof out->full_name, "%s", (const char *)sqlite3_column_text(stmt, 1));
        snprintf(out->role, sizeof out->role, "%s", (const char *)sqlite3_column_text(stmt, 2));
        out->unit_id = sqlite3_column_int64(stmt, 3);
        out->disabled_at = sqlite3_column_int64(stmt, 4);
    } else if (step == SQLITE_DONE) {
        rc = dala_error_set(DALA_ENOTFOUND, "%s: no user %lld", what, (long long)user_id);
    } else {
        rc = server_db_error(admin->db, what);
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Deletes every web session of a user: they end at their next request. */
static int end_sessions(int64_t *ended, dala_admin *admin, int64_t user_id, const char *what)
{
    int rc = run(admin, NULL, what, "DELETE FROM web_session WHERE user_id = ?1", "i", user_id);
    if (!rc && ended) *ended = sqlite3_changes(admin->db);
    return rc;
}

int dala_admin_user_disable(dala_admin_disabled *out, dala_admin *admin, int64_t user_id, int64_t by_user_id)
{
    static const char what[] = "disable user";
    dala_admin_disabled result = {0, 0};
    account user;
    char detail[200];
    int rc = server_db_begin(admin->db);
    if (rc) return rc;
    rc = account_read(&user, admin, user_id, what);
    if (!rc && user.disabled_at)
        rc = dala_error_set(DALA_ECONFLICT, "%s: %s is disabled already", what, user.login);
    if (!rc) rc = run(admin, NULL, what, "UPDATE app_user SET disabled_at = ?2, disabled_by_user_id = nullif(?3, 0) "
                      "WHERE id = ?1", "iii", user_id, (int64_t)time(NULL), by_user_id);
    if (!rc) rc = end_sessions(&result.sessions_ended, admin, user_id, what);
    /* Codes not yet used die with the account: it enrols no tablet. */
    if (!rc) rc = run(admin, NULL, what, "DELETE FROM enrol_code WHERE user_id = ?1 AND used_at IS NULL", "i", user_id);
    if (!rc) rc = run(admin, &result.active_tablets, what, "SELECT count(*) FROM device WHERE user_id = ?1 "
                      "AND revoked_at IS NULL AND lost_at IS NULL", "i", user_id);
    if (!rc) snprintf(detail, sizeof detail, "%s; sessions ended: %lld; tablets still active: %lld", user.login,
                      (long long)result.sessions_ended, (long long)result.active_tablets);
    if (!rc) rc = server_audit_add(admin->db, by_user_id, "user_disable", user.unit_id, NULL, detail);
    if (!rc) rc = server_db_commit(admin->db);
    if (rc) server_db_rollback(admin->db);
    if (!rc && out) *out = result;
    return rc;
}

int dala_admin_user_enable(dala_admin *admin, int64_t user_id, int64_t by_user_id)
{
    static const char what[] = "enable user";
    account user;
    int rc = server_db_begin(admin->db);
    if (rc) return rc;
    rc = account_read(&user, admin, user_id, what);
    if (!rc && !user.disabled_at) rc = dala_error_set(DALA_ECONFLICT, "%s: %s is not disabled", what, user.login);
    if (!rc) rc = run(admin, NULL, what, "UPDATE app_user SET disabled_at = NULL, disabled_by_user_id = NULL "
                      "WHERE id = ?1", "i", user_id);
    if (!rc) rc = server_audit_add(admin->db, by_user_id, "user_enable", user.unit_id, NULL, user.login);
    if (!rc) rc = server_db_commit(admin->db);
    if (rc) server_db_rollback(admin->db);
    return rc;
}

int dala_admin_user_edit(dala_admin *admin, int64_t user_id, const char *full_name, const char *role,
                         int64_t unit_id, int64_t by_user_id)
{
    static const char what[] = "edit user";
    account user;
    int64_t unit_exists = 0;
    if (full_name && (!*full_name || strlen(full_name) > 200))
        return dala_error_set(DALA_EINVAL, "%s: a name is 1 to 200 bytes", what);
    if (role && dala_admin_role_check(role)) return DALA_EINVAL;
    if (!full_name && !role && !unit_id)
        return dala_error_set(DALA_EINVAL, "%s: nothing to change (give a name, a unit or a role)", what);
    int rc = server_db_begin(admin->db);
    if (rc) return rc;
    rc = account_read(&user, admin, user_id, what);
    if (!rc && unit_id) rc = run(admin, &unit_exists, what, "SELECT count(*) FROM org_unit WHERE id = ?1", "i", unit_id);
    if (!rc && unit_id && !unit_exists) rc = dala_error_set(DALA_ENOTFOUND, "%s: no unit %lld", what, (long long)unit_id);
    /* What changed, by name, never the values (the names are people's). */
    char detail[256] = "";
    int changed = 0;
    if (!rc) {
        size_t n = (size_t)snprintf(detail, sizeof detail, "%s:", user.login);
        if (full_name && strcmp(full_name, user.full_name) != 0 && n < sizeof detail)
            changed = 1, n += (size_t)snprintf(detail + n, sizeof detail - n, " name");
        if (role && strcmp(role, user.role) != 0 && n < sizeof detail)
            changed = 1, n += (size_t)snprintf(detail + n, sizeof detail - n, " role %s -> %s", user.role, role);
        if (unit_id && unit_id != user.unit_id && n < sizeof detail)
            changed = 1, snprintf(detail + n, sizeof detail - n, " unit %lld -> %lld", (long long)user.unit_id,
                                  (long long)unit_id);
        if (!changed) rc = dala_error_set(DALA_EINVAL, "%s: nothing to change: %s has that already", what, user.login);
    }
    if (!rc) rc = run(admin, NULL, what, "UPDATE app_user SET full_name = coalesce(?2, full_name), "
                      "role = coalesce(?3, role), unit_id = coalesce(nullif(?4, 0), unit_id) WHERE id = ?1",
                      "itti", user_id, full_name, role, unit_id);
    /* Filed under the unit the user was in and, when moved, the new one
     * too: the heads of both see it. */
    if (!rc) rc = server_audit_add(admin->db, by_user_id, "user_edit", user.unit_id, NULL, detail);
    if (!rc && unit_id && unit_id != user.unit_id)
        rc = server_audit_add(admin->db, by_user_id, "user_edit", unit_id, NULL, detail);
    if (!rc) rc = server_db_commit(admin->db);
    if (rc) server_db_rollback(admin->db);
    return rc;
}

int dala_admin_user_password_reset(dala_admin *admin, int64_t user_id, const char *password, int64_t by_user_id)
{
    static const char what[] = "set password";
    account user;
    int rc = server_db_begin(admin->db);
    if (rc) return rc;
    rc = account_read(&user, admin, user_id, what);
    if (!rc) rc = server_password_set(admin->db, user_id, password);
    /* Whoever knew the old password is signed out with it. */
    if (!rc) rc = end_sessions(NULL, admin, user_id, what);
    if (!rc) rc = server_audit_add(admin->db, by_user_id, "user_password", user.unit_id, NULL, user.login);
    if (!rc) rc = server_db_commit(admin->db);
    if (rc) server_db_rollback(admin->db);
    return rc;
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
                      "SELECT ?1, ?2, ?3, ?4 FROM app_user WHERE id = ?2 AND disabled_at IS NULL",
                      "biii", hash, 32, user_id, unit_id, (int64_t)time(NULL) + ttl_seconds);
    if (!rc && sqlite3_changes(admin->db) != 1) {
        int64_t exists = 0;
        run(admin, &exists, "make code", "SELECT count(*) FROM app_user WHERE id = ?1", "i", user_id);
        rc = exists ? dala_error_set(DALA_ECONFLICT, "make code: the account is disabled; enable it first")
                    : dala_error_set(DALA_ENOTFOUND, "make code: no user %lld", (long long)user_id);
    }
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

/* `thing` names what was looked for in the message: "no unit X". */
static int find(int64_t *id_out, dala_admin *admin, const char *sql, const char *key, const char *what,
                const char *thing)
{
    *id_out = 0;
    int rc = run(admin, id_out, what, sql, "t", key);
    if (!rc && *id_out == 0) rc = dala_error_set(DALA_ENOTFOUND, "%s: no %s %s", what, thing, key);
    return rc;
}

int dala_admin_unit_find(int64_t *id_out, dala_admin *admin, const char *name)
{
    return find(id_out, admin, "SELECT id FROM org_unit WHERE code = ?1 UNION ALL "
                "SELECT id FROM org_unit WHERE name = ?1 UNION ALL SELECT id FROM org_unit WHERE name_ru = ?1 "
                "UNION ALL SELECT id FROM org_unit WHERE name_kk = ?1 LIMIT 1", name, "find unit",
                "unit");
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
    return find(id_out, admin, "SELECT id FROM app_user WHERE login = ?1", login, "find user", "user");
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
