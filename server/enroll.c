/* enroll.c - POST /v1/enroll: a tablet redeems a single-use enrolment code
 * (bound to an officer and a unit, valid for minutes) with its X25519
 * public key, and gets its device id and the server's public key. Only a
 * hash of each code is stored; failed attempts are counted per address so
 * codes cannot be guessed. Also GET /v1/health. */
#include "server_int.h"
#include "sync_int.h"

#include <mbedtls/sha256.h>
#include <string.h>
#include <time.h>

#define MAX_ENROLL_BODY 1024
int server_code_hash(uint8_t out[32], const char *code)
{
    char normal[32];
    size_t n = 0;
    for (const char *p = code; *p && n < sizeof normal - 1; p++) {
        if (*p == '-' || *p == ' ') continue;
        normal[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    }
    return mbedtls_sha256_ret((const unsigned char *)normal, n, out, 0) ? DALA_ECRYPTO : DALA_OK;
}

static int parse_hex_key(uint8_t out[DALA_KEY_BYTES], const char *hex)
{
    if (strlen(hex) != 2 * DALA_KEY_BYTES) return DALA_EINVAL;
    for (size_t i = 0; i < DALA_KEY_BYTES; i++) {
        unsigned byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) return DALA_EINVAL;
        out[i] = (uint8_t)byte;
    }
    return DALA_OK;
}

/* Refuses a device key the Noise KK handshake could never use: one of the
 * low-order X25519 points (all zeros, 1, the points of order 8 and their
 * non-canonical encodings), for which X25519 with any secret gives a known
 * all-zero result. The check is the exchange the handshake makes with the
 * server's static key (dala_x25519 refuses exactly these points), so a
 * key accepted here is one a sync can use. DALA_EINVAL, saying why. */
static int check_device_key(dala_server *server, const uint8_t public_key[DALA_KEY_BYTES])
{
    uint8_t shared[DALA_KEY_BYTES];
    server_key_pick_result current;
    int rc = server_key_pick_current(&current, server);
    if (!rc) rc = dala_x25519(shared, current.pair.secret, public_key);
    server_key_pick_wipe(&current);
    dala_wipe(shared, sizeof shared);
    if (rc == DALA_EAUTH)
        return dala_error_set(DALA_EINVAL, "enrol: public_key is a low-order X25519 point (such as all zeros), "
                                           "which would give a known shared secret; make a fresh key pair");
    return rc; /* a failure of the crypto library, already described */
}

typedef struct enrolment {
    int64_t device_id, user_id, unit_id;
    char login[128];
} enrolment;

/* Redeems the code in one transaction; DALA_EAUTH if unknown, used or expired. */
static int redeem(enrolment *out, sqlite3 *db, const uint8_t code_hash[32],
                  const uint8_t public_key[DALA_KEY_BYTES])
{
    sqlite3_stmt *find = NULL, *insert = NULL, *use = NULL;
    int64_t now = (int64_t)time(NULL);
    int rc = server_db_begin(db);
    if (rc) return rc;
    rc = DALA_EAUTH;
    sqlite3_prepare_v2(db, "SELECT c.user_id, c.unit_id, u.login FROM enrol_code c JOIN app_user u "
                           "ON u.id = c.user_id WHERE c.code_hash = ?1 AND c.used_at IS NULL "
                           "AND c.expires_at > ?2", -1, &find, NULL);
    sqlite3_bind_blob(find, 1, code_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(find, 2, now);
    if (sqlite3_step(find) != SQLITE_ROW) goto done;
    out->user_id = sqlite3_column_int64(find, 0);
    out->unit_id = sqlite3_column_int64(find, 1);
    snprintf(out->login, sizeof out->login, "%s", (const char *)sqlite3_column_text(find, 2));
    rc = DALA_EIO;
    sqlite3_prepare_v2(db, "INSERT INTO device (user_id, unit_id, public_key, enrolled_at) "
                           "VALUES (?1, ?2, ?3, ?4)", -1, &insert, NULL);
    sqlite3_bind_int64(insert, 1, out->user_id);
    sqlite3_bind_int64(insert, 2, out->unit_id);
    sqlite3_bind_blob(insert, 3, public_key, DALA_KEY_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(insert, 4, now);
    if (sqlite3_step(insert) != SQLITE_DONE) goto done;
    out->device_id = sqlite3_last_insert_rowid(db);
    sqlite3_prepare_v2(db, "UPDATE enrol_code SET used_at = ?2, device_id = ?3 WHERE code_hash = ?1",
                       -1, &use, NULL);
    sqlite3_bind_blob(use, 1, code_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(use, 2, now);
    sqlite3_bind_int64(use, 3, out->device_id);
    if (sqlite3_step(use) != SQLITE_DONE) goto done;
    rc = server_db_commit(db);
done:
    if (rc == DALA_EIO) server_db_error(db, "enrol device");
    sqlite3_finalize(find);
    sqlite3_finalize(insert);
    sqlite3_finalize(use);
    if (rc) server_db_rollback(db);
    return rc;
}

/* The answer hands out the current key epoch and its public key. */
static void send_enrolment(struct mg_connection *conn, dala_server *server, const enrolment *e)
{
    char key_hex[2 * DALA_KEY_BYTES + 1], body[512];
    server_key_pick_result current;
    (void)server_key_pick_current(&current, server); /* fills the current epoch whatever it returns */
    server_key_pick_wipe(&current);
    for (size_t i = 0; i < DALA_KEY_BYTES; i++)
        snprintf(key_hex + 2 * i, 3, "%02x", current.current_public_key[i]);
    int n = snprintf(body, sizeof body,
                     "{\"device_id\":%lld,\"unit_id\":%lld,\"officer\":\"%s\","
                     "\"server_public_key\":\"%s\",\"key_epoch\":%u,\"server_epoch\":\"%llu\"}\n",
                     (long long)e->device_id, (long long)e->unit_id, e->login, key_hex,
                     (unsigned)current.current_epoch, (unsigned long long)server->epoch);
    http_send_ok(conn, "application/json", body, (size_t)n);
}

int route_enroll(struct mg_connection *conn, void *context)
{
    dala_server *server = context;
    const struct mg_request_info *info = mg_get_request_info(conn);
    dala_buf body = DALA_BUF_INIT;
    char code[64] = "", key_hex[80] = "";
    uint8_t public_key[DALA_KEY_BYTES], code_hash[32];
    enrolment e = {0};
    int status = 200, rc;
    if (strcmp(info->request_method, "POST") != 0) {
        status = 405;
        http_send_error(conn, status, DALA_EINVAL, "enrol: use POST");
        goto done;
    }
    /* The attempt is taken before the code is looked up and given back
     * unless the code was wrong, so parallel guesses cannot pass the limit. */
    time_t window = 0;
    client_addr client; /* behind a trusted proxy, the real client */
    server_client_addr(&client, server, conn);
    if (throttle_reserve(&server->enrol_failures, client.address, time(NULL), &window)) {
        status = 429;
        http_send_error(conn, status, DALA_EAUTH, "enrol: too many failed attempts; wait ten minutes");
        goto done;
    }
    rc = http_read_body(conn, &body, MAX_ENROLL_BODY);
    if (!rc && (mg_get_var((const char *)body.data, body.len, "code", code, sizeof code) <= 0 ||
                mg_get_var((const char *)body.data, body.len, "public_key", key_hex, sizeof key_hex) <= 0 ||
                parse_hex_key(public_key, key_hex)))
        rc = dala_error_set(DALA_EINVAL, "enrol: the body needs code and public_key (64 hex digits)");
    if (!rc) rc = check_device_key(server, public_key); /* before the code is looked at: it stays unused */
    if (!rc) rc = server_code_hash(code_hash, code);
    server_conn *db = rc ? NULL : server_conn_get(server);
    if (!rc && !db) rc = DALA_EIO;
    if (!rc) server_keys_refresh(server, db->db); /* a rotation by `admin rotate-key` hands out its key */
    if (!rc) rc = redeem(&e, db->db, code_hash, public_key);
    if (rc == DALA_EAUTH)
        dala_error_set(rc, "enrol: the code is unknown, already used or expired");
    else
        throttle_give_back(&server->enrol_failures, client.address, window);
    if (rc) {
        status = rc == DALA_EAUTH ? 403 : http_status_for(rc);
        http_send_error(conn, status, rc, dala_errmsg());
    } else {
        send_enrolment(conn, server, &e);
    }
done:
    server_log_request(server, conn, status, e.device_id, 0);
    dala_buf_free(&body);
    return status;
}

int route_health(struct mg_connection *conn, void *context)
{
    char body[160];
    int n = snprintf(body, sizeof body,
                     "{\"status\":\"ok\",\"schema_version\":%u,\"oldest_device_schema\":%u,"
                     "\"protocol_version\":%d}\n",
                     dala_schema_version(), dala_schema_oldest(), DALA_PROTOCOL_VERSION);
    http_send_ok(conn, "application/json", body, (size_t)n);
    server_log_request(context, conn, 200, 0, 0);
    return 200;
}
