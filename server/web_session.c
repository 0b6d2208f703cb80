/* web_session.c - signing supervisors in and out. Passwords are kept as
 * PBKDF2-HMAC-SHA256 with a per-user 16-byte salt and a work factor kept
 * per user (WEB_PBKDF2_ITERATIONS for new ones). A session is a random
 * 32-byte token in an HttpOnly, SameSite=Strict cookie, of which only the
 * SHA-256 is stored, with its own CSRF token; it ends after 30 idle
 * minutes or 8 hours, or at once when the account is disabled. Failed
 * sign-ins are throttled per login and per address, and written to the
 * audit trail; a disabled account is refused even with its password. */
#include "web_int.h"

#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SALT_BYTES 16
#define HASH_BYTES 32
#define COOKIE "dala_session"

static int pbkdf2(uint8_t out[HASH_BYTES], const char *password, const uint8_t *salt, size_t salt_len,
                  unsigned iterations)
{
    mbedtls_md_context_t md;
    mbedtls_md_init(&md);
    int rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1) ||
             mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password, strlen(password), salt, salt_len,
                                       iterations, HASH_BYTES, out);
    mbedtls_md_free(&md);
    return rc ? dala_error_set(DALA_ECRYPTO, "hash a password: PBKDF2 failed") : DALA_OK;
}

int server_password_set(sqlite3 *db, int64_t user_id, const char *password)
{
    if (!password || strlen(password) < 10)
        return dala_error_set(DALA_EINVAL, "password: at least 10 characters are needed");
    uint8_t salt[SALT_BYTES], hash[HASH_BYTES];
    int rc = dala_random(salt, sizeof salt);
    if (!rc) rc = pbkdf2(hash, password, salt, sizeof salt, WEB_PBKDF2_ITERATIONS);
    sqlite3_stmt *stmt = NULL;
    if (!rc && sqlite3_prepare_v2(db, "UPDATE app_user SET password_hash = ?2, password_salt = ?3, "
                                      "password_iterations = ?4 WHERE id = ?1", -1, &stmt, NULL))
        rc = server_db_error(db, "set a password");
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, user_id);
        sqlite3_bind_blob(stmt, 2, hash, sizeof hash, SQLITE_STATIC);
        sqlite3_bind_blob(stmt, 3, salt, sizeof salt, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 4, WEB_PBKDF2_ITERATIONS);
        rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(db, "set a password");
        if (!rc && sqlite3_changes(db) == 0) rc = dala_error_set(DALA_ENOTFOUND, "set a password: no such user");
    }
    sqlite3_finalize(stmt);
    mbedtls_platform_zeroize(hash, sizeof hash);
    return rc;
}

/* Whether `password` gives the hash kept in column `column` of the row,
 * with its salt and iteration count in the two columns after it, compared
 * in constant time: DALA_OK, DALA_EAUTH, or the crypto library's failure.
 * A row without a password (none was ever set) matches nothing. */
static int password_matches(sqlite3_stmt *stmt, int column, const char *password)
{
    if (sqlite3_column_bytes(stmt, column) != HASH_BYTES || sqlite3_column_int(stmt, column + 2) <= 0)
        return DALA_EAUTH;
    uint8_t hash[HASH_BYTES];
    int rc = pbkdf2(hash, password, sqlite3_column_blob(stmt, column + 1), (size_t)sqlite3_column_bytes(stmt, column + 1),
                    (unsigned)sqlite3_column_int(stmt, column + 2));
    const uint8_t *stored = sqlite3_column_blob(stmt, column);
    unsigned diff = 0;
    for (size_t i = 0; i < HASH_BYTES; i++) diff |= (unsigned)(hash[i] ^ stored[i]);
    mbedtls_platform_zeroize(hash, sizeof hash);
    return rc ? rc : diff ? DALA_EAUTH : DALA_OK;
}

int server_password_check(sqlite3 *db, int64_t user_id, const char *password)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "SELECT password_hash, password_salt, password_iterations FROM app_user WHERE id = ?1",
                           -1, &stmt, NULL))
        return server_db_error(db, "find the user");
    sqlite3_bind_int64(stmt, 1, user_id);
    int rc = sqlite3_step(stmt) == SQLITE_ROW ? password_matches(stmt, 0, password) : DALA_EAUTH;
    sqlite3_finalize(stmt);
    return rc == DALA_EAUTH ? dala_error_set(rc, "the password is wrong") : rc;
}

/* Fills r->user from a row of (id, login, full_name, role, unit_id). */
static void read_user(web_user *user, sqlite3_stmt *stmt, int first)
{
    user->id = sqlite3_column_int64(stmt, first);
    snprintf(user->login, sizeof user->login, "%s", (const char *)sqlite3_column_text(stmt, first + 1));
    snprintf(user->full_name, sizeof user->full_name, "%s", (const char *)sqlite3_column_text(stmt, first + 2));
    const char *role = (const char *)sqlite3_column_text(stmt, first + 3);
    user->role = web_role_parse(role);
    user->role_name = web_role_name(user->role);
    user->unit_id = sqlite3_column_int64(stmt, first + 4);
}

int web_session_load(web_request *r)
{
    const char *cookies = mg_get_header(r->http, "Cookie");
    char token[80] = "";
    if (!cookies || mg_get_cookie(cookies, COOKIE, token, sizeof token) != 64) return DALA_ESESSION;
    if (mbedtls_sha256_ret((const unsigned char *)token, 64, r->token_hash, 0)) return DALA_ECRYPTO;
    int64_t now = (int64_t)time(NULL);
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, "SELECT u.id, u.login, u.full_name, u.role, u.unit_id, s.csrf, s.seen_at "
                                        "FROM web_session s JOIN app_user u ON u.id = s.user_id "
                                        "WHERE s.token_hash = ?1 AND s.seen_at > ?2 AND s.created_at > ?3 "
                                        "AND u.disabled_at IS NULL",
                           -1, &stmt, NULL))
        return server_db_error(r->conn->db, "find the session");
    sqlite3_bind_blob(stmt, 1, r->token_hash, sizeof r->token_hash, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, now - WEB_SESSION_IDLE_SECONDS);
    sqlite3_bind_int64(stmt, 3, now - WEB_SESSION_MAX_SECONDS);
    int step = sqlite3_step(stmt), rc = DALA_ESESSION;
    int64_t seen_at = 0;
    if (step == SQLITE_ROW) {
        read_user(&r->user, stmt, 0);
        snprintf(r->csrf, sizeof r->csrf, "%s", (const char *)sqlite3_column_text(stmt, 5));
        seen_at = sqlite3_column_int64(stmt, 6);
        rc = DALA_OK;
    } else if (step != SQLITE_DONE) {
        rc = server_db_error(r->conn->db, "find the session");
    }
    sqlite3_finalize(stmt);
    /* The idle clock restarts at most once a minute: reads stay reads. */
    if (!rc && now - seen_at >= 60) {
        sqlite3_stmt *touch;
        if (sqlite3_prepare_v2(r->conn->db, "UPDATE web_session SET seen_at = ?2 WHERE token_hash = ?1", -1, &touch,
                               NULL) == SQLITE_OK) {
            sqlite3_bind_blob(touch, 1, r->token_hash, sizeof r->token_hash, SQLITE_STATIC);
            sqlite3_bind_int64(touch, 2, now);
            sqlite3_step(touch);
        }
        sqlite3_finalize(touch);
    }
    return rc;
}

/* The session answer: who is signed in, the CSRF token, until when. */
static int send_session(web_request *r, int64_t created_at)
{
    char unit[256];
    web_unit_name(unit, sizeof unit, r, r->user.unit_id);
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_object_begin(&j, "user");
    json_int(&j, "id", r->user.id);
    json_string(&j, "login", r->user.login);
    json_string(&j, "full_name", r->user.full_name);
    json_string(&j, "role", r->user.role_name);
    json_int(&j, "unit_id", r->user.unit_id);
    json_string(&j, "unit", unit);
    json_object_end(&j);
    json_string(&j, "csrf", r->csrf);
    json_int(&j, "expires_at", created_at + WEB_SESSION_MAX_SECONDS);
    json_object_end(&j);
    return web_send_json(r, &j);
}

/* Checks a login and password; DALA_EAUTH for either being wrong,
 * DALA_ECONFLICT for the right password of a disabled account (said only
 * to whoever knows the password). */
static int check_password(web_request *r, const char *login, const char *password)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, "SELECT id, login, full_name, role, unit_id, password_hash, password_salt, "
                                        "password_iterations, disabled_at IS NOT NULL FROM app_user WHERE login = ?1",
                           -1, &stmt, NULL))
        return server_db_error(r->conn->db, "find the user");
    sqlite3_bind_text(stmt, 1, login, -1, SQLITE_STATIC);
    int rc = DALA_EAUTH;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_bytes(stmt, 5) == HASH_BYTES) {
        rc = password_matches(stmt, 5, password);
        if (!rc) read_user(&r->user, stmt, 0);
        if (!rc && sqlite3_column_int(stmt, 8)) rc = DALA_ECONFLICT;
    } else {
        /* An unknown login costs the same time as a wrong password. */
        static const uint8_t salt[SALT_BYTES];
        uint8_t hash[HASH_BYTES];
        pbkdf2(hash, password, salt, sizeof salt, WEB_PBKDF2_ITERATIONS);
        mbedtls_platform_zeroize(hash, sizeof hash);
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* The unit of the user a login names (0 if none): a failed sign-in is
 * audited there, for that unit's heads to see. */
static int64_t login_unit(web_request *r, const char *login)
{
    sqlite3_stmt *stmt;
    int64_t unit = 0;
    if (sqlite3_prepare_v2(r->conn->db, "SELECT unit_id FROM app_user WHERE login = ?1", -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, login, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) == SQLITE_ROW) unit = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return unit;
}

static int sign_in(web_request *r)
{
    /* Behind a trusted proxy, the real client's address (client_addr.h). */
    client_addr client;
    server_client_addr(&client, r->server, r->http);
    const char *addr = client.address;
    time_t now = time(NULL);
    const char *type = mg_get_header(r->http, "Content-Type");
    int rc = !type || strncmp(type, "application/json", 16) != 0
                 ? dala_error_set(DALA_EINVAL, "sign in: the body must be application/json")
                 : http_read_body(r->http, &r->body, 4096);
    if (!rc) rc = dala_json_parse(&r->json, (const char *)r->body.data, r->body.len, 64);
    const char *login = web_body_string(r, "login"), *password = web_body_string(r, "password");
    if (!rc && (!login || !password || !*login || strlen(login) > 60 || strlen(password) > 1024))
        rc = dala_error_set(DALA_EINVAL, "sign in: the body needs login and password");
    if (rc) return web_send_failure(r, rc);
    /* The attempt is taken from both limits before the slow hash and
     * counts as failed unless it turns out right, so requests running at
     * once cannot all pass a check made before any of them failed. */
    throttle *per_login = &r->server->sign_in_failures, *per_address = &r->server->sign_in_addresses;
    time_t login_window = 0, address_window = 0;
    int wait = throttle_reserve(per_login, login, now, &login_window);
    if (!wait) {
        wait = throttle_reserve(per_address, addr, now, &address_window);
        if (wait) throttle_give_back(per_login, login, login_window);
    }
    if (wait) {
        snprintf(r->headers, sizeof r->headers, "Retry-After: %d\r\n", wait);
        return web_send_error(r, 429, DALA_EAUTH, "sign in: too many failed attempts; try again later");
    }
    rc = check_password(r, login, password);
    if (rc != DALA_EAUTH) {
        throttle_give_back(per_login, login, login_window);
        throttle_give_back(per_address, addr, address_window);
    }
    if (rc == DALA_EAUTH) {
        /* A login nobody has is not written down: it may be a password typed in the wrong box. */
        int64_t unit = login_unit(r, login);
        web_audit(r, "sign_in_failed", unit, NULL, unit ? login : "unknown login");
        return web_send_error(r, 401, DALA_EAUTH, "sign in: wrong login or password");
    }
    if (rc == DALA_ECONFLICT) {
        web_audit(r, "sign_in_disabled", r->user.unit_id, NULL, login);
        memset(&r->user, 0, sizeof r->user);
        return web_send_error(r, 403, DALA_EAUTH, "sign in: this account is disabled; ask your administrator");
    }
    uint8_t token[32], csrf[32];
    char token_hex[65];
    if (!rc) rc = dala_random(token, sizeof token);
    if (!rc) rc = dala_random(csrf, sizeof csrf);
    if (rc) return web_send_failure(r, rc);
    dala_hex_encode(token_hex, token, sizeof token);
    dala_hex_encode(r->csrf, csrf, sizeof csrf);
    mbedtls_sha256_ret((const unsigned char *)token_hex, 64, r->token_hash, 0);
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, "INSERT INTO web_session (token_hash, user_id, csrf, created_at, seen_at) "
                                        "VALUES (?1, ?2, ?3, ?4, ?4)", -1, &stmt, NULL))
        return web_send_failure(r, server_db_error(r->conn->db, "start a session"));
    sqlite3_bind_blob(stmt, 1, r->token_hash, sizeof r->token_hash, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, r->user.id);
    sqlite3_bind_text(stmt, 3, r->csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, (int64_t)now);
    rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(r->conn->db, "start a session");
    sqlite3_finalize(stmt);
    mbedtls_platform_zeroize(token, sizeof token);
    if (rc) return web_send_failure(r, rc);
    web_audit(r, "sign_in", r->user.unit_id, NULL, NULL);
    /* Secure when the browser speaks https: to CivetWeb's own TLS, or to
     * a trusted TLS front that says so in X-Forwarded-Proto; on the plain
     * HTTP of 127.0.0.1 a Secure cookie would never be sent back. */
    snprintf(r->headers, sizeof r->headers,
             "Set-Cookie: " COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s\r\n", token_hex,
             WEB_SESSION_MAX_SECONDS, client.is_https ? "; Secure" : "");
    return send_session(r, (int64_t)now);
}

static int sign_out(web_request *r)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, "DELETE FROM web_session WHERE token_hash = ?1", -1, &stmt, NULL))
        return web_send_failure(r, server_db_error(r->conn->db, "end the session"));
    sqlite3_bind_blob(stmt, 1, r->token_hash, sizeof r->token_hash, SQLITE_STATIC);
    int rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(r->conn->db, "end the session");
    sqlite3_finalize(stmt);
    if (rc) return web_send_failure(r, rc);
    web_audit(r, "sign_out", r->user.unit_id, NULL, NULL);
    snprintf(r->headers, sizeof r->headers,
             "Set-Cookie: " COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0\r\n");
    return web_send_done(r, "signed_out");
}

int web_route_session(web_request *r)
{
    if (strcmp(r->method, "POST") == 0) return sign_in(r);
    int rc = web_session_load(r);
    if (rc == DALA_ESESSION) return web_send_error(r, 401, rc, "no session (or it expired)");
    if (rc) return web_send_failure(r, rc);
    if (strcmp(r->method, "GET") == 0) {
        sqlite3_stmt *stmt;
        int64_t created = (int64_t)time(NULL);
        if (sqlite3_prepare_v2(r->conn->db, "SELECT created_at FROM web_session WHERE token_hash = ?1", -1, &stmt,
                               NULL) == SQLITE_OK) {
            sqlite3_bind_blob(stmt, 1, r->token_hash, sizeof r->token_hash, SQLITE_STATIC);
            if (sqlite3_step(stmt) == SQLITE_ROW) created = sqlite3_column_int64(stmt, 0);
        }
        sqlite3_finalize(stmt);
        return send_session(r, created);
    }
    if (strcmp(r->method, "DELETE") == 0) {
        if (!web_csrf_matches(r))
            return web_send_error(r, 403, DALA_EAUTH, "the X-CSRF-Token header is missing or wrong");
        return sign_out(r);
    }
    return web_send_error(r, 405, DALA_EINVAL, "session: use GET, POST or DELETE");
}
