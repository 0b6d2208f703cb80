/* supervisor.c - see supervisor.h. */
#include "supervisor.h"

#include "e2e_support.h" /* central_open, central_user_add */
#include "testhelp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The password last hashed by the server's code, as it keeps it. */
static struct {
    char password[128];
    uint8_t hash[64], salt[64];
    int hash_len, salt_len, iterations;
} hashed;

/* Copies the hashed password between `user_id`'s row and `hashed`: reads
 * it when `is_read`, else writes it. */
static void copy_hash(const harness *h, int64_t user_id, int is_read)
{
    sqlite3 *db = central_open(h);
    sqlite3_stmt *stmt = NULL;
    const char *sql = is_read ? "SELECT password_hash, password_salt, password_iterations FROM app_user WHERE id = ?1"
                              : "UPDATE app_user SET password_hash = ?2, password_salt = ?3, password_iterations = ?4 "
                                "WHERE id = ?1";
    if (!db || sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        test_fail(__FILE__, __LINE__, "%s: %s", sql, db ? sqlite3_errmsg(db) : "no database");
    } else if (is_read) {
        sqlite3_bind_int64(stmt, 1, user_id);
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_bytes(stmt, 0) <= 64 && sqlite3_column_bytes(stmt, 1) <= 64) {
            hashed.hash_len = sqlite3_column_bytes(stmt, 0);
            hashed.salt_len = sqlite3_column_bytes(stmt, 1);
            memcpy(hashed.hash, sqlite3_column_blob(stmt, 0), (size_t)hashed.hash_len);
            memcpy(hashed.salt, sqlite3_column_blob(stmt, 1), (size_t)hashed.salt_len);
            hashed.iterations = sqlite3_column_int(stmt, 2);
        }
        CHECK(hashed.iterations > 0 && hashed.hash_len > 0);
    } else {
        sqlite3_bind_int64(stmt, 1, user_id);
        sqlite3_bind_blob(stmt, 2, hashed.hash, hashed.hash_len, SQLITE_STATIC);
        sqlite3_bind_blob(stmt, 3, hashed.salt, hashed.salt_len, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 4, hashed.iterations);
        CHECK(sqlite3_step(stmt) == SQLITE_DONE && sqlite3_changes(db) == 1);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

int supervisor_password_set(const harness *h, const char *login, const char *password)
{
    int is_hashed = hashed.iterations > 0 && strcmp(hashed.password, password) == 0;
    dala_admin *admin = NULL;
    int64_t id = 0;
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_user_find(&id, admin, login);
    if (!rc && !is_hashed) rc = dala_admin_user_password(admin, id, password);
    dala_admin_close(admin);
    CHECK_OK(rc);
    if (rc) return -1;
    if (!is_hashed) {
        memset(&hashed, 0, sizeof hashed);
        snprintf(hashed.password, sizeof hashed.password, "%s", password);
    }
    copy_hash(h, id, !is_hashed);
    return 0;
}

web_login supervisor_sign_in_as(const harness *h, const char *login, const char *password)
{
    web_login session;
    memset(&session, 0, sizeof session);
    if (supervisor_password_set(h, login, password)) return session;
    int status = web_sign_in(&session, h->port, login, password);
    if (status != 200 || !session.cookie[0] || !session.csrf[0])
        test_fail(__FILE__, __LINE__, "%s signs in: %d, cookie \"%s\", token \"%s\"", login, status, session.cookie,
                  session.csrf);
    return session;
}

void supervisor_add(supervisor *u, const harness *h, const char *login, const char *role, int64_t unit,
                    const char *password)
{
    central_user_add(h, login, role, unit);
    memset(u, 0, sizeof *u);
    u->login = login;
    u->password = password;
}

void supervisor_sign_in(supervisor *u, const harness *h)
{
    if (!u->has_password) {
        if (supervisor_password_set(h, u->login, u->password)) return;
        u->has_password = 1;
    }
    int status = web_sign_in(&u->session, h->port, u->login, u->password);
    if (status != 200 || !u->session.cookie[0] || !u->session.csrf[0])
        test_fail(__FILE__, __LINE__, "%s signs in: %d", u->login, status);
}

int supervisor_call(web_answer *out, const harness *h, supervisor *u, const char *method, const char *json,
                    const char *path_format, ...)
{
    char path[600];
    va_list args;
    va_start(args, path_format);
    vsnprintf(path, sizeof path, path_format, args);
    va_end(args);
    if (!u->session.cookie[0]) supervisor_sign_in(u, h);
    int status = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        status = web_call(out, h->port, method, path, &u->session, json ? "application/json" : NULL, json,
                          json ? strlen(json) : 0);
        if (status != 401 || attempt) break;
        supervisor_sign_in(u, h);
    }
    return status;
}
