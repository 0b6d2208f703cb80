/* enroll.c - making a store an enrolled device, and loading that
 * enrolment for writes and syncs.
 *
 * The device draws an X25519 key pair, redeems a single-use code at POST
 * /v1/enroll (docs/http-api.md) with its public key, and keeps what the
 * server answers (device id, unit, officer, the server's public key, key
 * and server epochs) with the URL and its secret key in the meta table.
 * The answer is read with SQLite's JSON functions.
 *
 * Known limits: the secret key is stored in the SQLite file as it is (a
 * tablet app should keep the file in app-private storage under the
 * platform's disk encryption; a hook to wrap it with the platform keystore
 * belongs here). Enrolment over plain http:// trusts the network to hand
 * over the right server key, unless the caller passes the key's
 * fingerprint learnt out of band (expected_server_key), which is checked. */
#include "sdk_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENROLL_MAX_ANSWER_BYTES ((size_t)64 << 10)
#define ENROLL_MAX_CODE_BYTES 128
#define ENROLL_MAX_URL_BYTES 1024

void dala_enrolment_wipe(dala_enrolment *enrolment)
{
    if (!enrolment) return;
    free(enrolment->server_url);
    dala_wipe(enrolment, sizeof *enrolment);
}

/* Reads a 32-byte key from meta. */
static int load_key(uint8_t out[DALA_KEY_BYTES], sqlite3 *db, const char *key)
{
    uint8_t *bytes;
    size_t len;
    int rc = dala_meta_get_bytes(&bytes, &len, db, key);
    if (!rc && len != DALA_KEY_BYTES)
        rc = dala_error_set(DALA_ECORRUPT, "store meta %s: %zu bytes, not %d", key, len, DALA_KEY_BYTES);
    if (!rc) memcpy(out, bytes, DALA_KEY_BYTES);
    if (bytes) dala_wipe(bytes, len);
    free(bytes);
    return rc;
}

int dala_enrolment_load(dala_enrolment *out, sqlite3 *db)
{
    int64_t device_id, unit_id, key_epoch, server_epoch;
    size_t url_len;
    memset(out, 0, sizeof *out);
    int rc = dala_meta_get_int(&device_id, db, "device_id", 0);
    if (!rc && device_id <= 0)
        return dala_error_set(DALA_EINVAL, "store is not enrolled: enroll the device first");
    if (!rc) rc = dala_meta_get_int(&unit_id, db, "unit_id", 0);
    if (!rc) rc = dala_meta_get_int(&key_epoch, db, "key_epoch", 0);
    if (!rc) rc = dala_meta_get_int(&server_epoch, db, "server_epoch", 0);
    if (!rc) rc = load_key(out->server_public_key, db, "server_public_key");
    if (!rc) rc = load_key(out->device_secret_key, db, "device_secret_key");
    if (!rc) rc = dala_meta_get_bytes((uint8_t **)&out->server_url, &url_len, db, "server_url");
    if (!rc && !out->server_url) rc = dala_error_set(DALA_ECORRUPT, "store meta: no server_url");
    if (rc) {
        dala_enrolment_wipe(out);
        return rc;
    }
    out->device_id = (uint64_t)device_id;
    out->unit_id = (uint64_t)unit_id;
    out->key_epoch = (uint32_t)key_epoch;
    out->server_epoch = (uint64_t)server_epoch;
    return DALA_OK;
}

/* --- the request -------------------------------------------------------------- */

/* Appends `text` form-urlencoded (RFC 3986 unreserved characters as they are). */
static int put_urlencoded(dala_buf *out, const char *text)
{
    static const char digits[] = "0123456789ABCDEF";
    int rc = DALA_OK;
    for (const unsigned char *p = (const unsigned char *)text; !rc && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            rc = dala_buf_append(out, p, 1);
        } else {
            char escaped[3] = {'%', digits[*p >> 4], digits[*p & 15]};
            rc = dala_buf_append(out, escaped, 3);
        }
    }
    return rc;
}

/* What the server answered, checked. */
typedef struct enrol_answer {
    int64_t device_id, unit_id, key_epoch;
    uint64_t server_epoch;
    uint8_t server_key[DALA_KEY_BYTES];
    char server_key_hex[2 * DALA_KEY_BYTES + 1];
    char officer[128];
} enrol_answer;

/* Reads a non-negative integer member given as a number or a decimal string. */
static int answer_uint(uint64_t *out, sqlite3_stmt *stmt, int column, const char *name)
{
    int type = sqlite3_column_type(stmt, column);
    if (type == SQLITE_INTEGER && sqlite3_column_int64(stmt, column) >= 0) {
        *out = (uint64_t)sqlite3_column_int64(stmt, column);
        return DALA_OK;
    }
    const char *text = (const char *)sqlite3_column_text(stmt, column);
    char *end;
    if (type == SQLITE_TEXT && text[0] >= '0' && text[0] <= '9' && strlen(text) <= 20) {
        unsigned long long value = strtoull(text, &end, 10);
        if (*end == '\0') {
            *out = value;
            return DALA_OK;
        }
    }
    return dala_error_set(DALA_ECORRUPT, "the answer's %s is missing or not a number", name);
}

static int parse_answer(enrol_answer *out, sqlite3 *db, const uint8_t *body, size_t len)
{
    sqlite3_stmt *stmt;
    uint64_t device_id, unit_id, key_epoch;
    memset(out, 0, sizeof *out);
    int rc = dala_db_prepare(&stmt, db,
                             "SELECT json_extract(?1, '$.device_id'), json_extract(?1, '$.unit_id'),"
                             " json_extract(?1, '$.key_epoch'), json_extract(?1, '$.server_epoch'),"
                             " json_extract(?1, '$.server_public_key'), json_extract(?1, '$.officer')"
                             " WHERE json_valid(?1) AND json_type(?1) = 'object'");
    if (rc) return rc;
    sqlite3_bind_text(stmt, 1, (const char *)body, (int)len, SQLITE_STATIC);
    int step = sqlite3_step(stmt);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? dala_error_set(DALA_ECORRUPT, "the answer is not a JSON object")
                                 : dala_db_error(db, step, "read the answer");
        goto done;
    }
    rc = answer_uint(&device_id, stmt, 0, "device_id");
    if (!rc) rc = answer_uint(&unit_id, stmt, 1, "unit_id");
    if (!rc) rc = answer_uint(&key_epoch, stmt, 2, "key_epoch");
    if (!rc) rc = answer_uint(&out->server_epoch, stmt, 3, "server_epoch");
    if (!rc && (device_id == 0 || device_id > INT64_MAX || unit_id > INT64_MAX ||
                key_epoch > UINT32_MAX))
        rc = dala_error_set(DALA_ECORRUPT, "device_id, unit_id or key_epoch out of range");
    const char *key_hex = (const char *)sqlite3_column_text(stmt, 4);
    if (!rc && (sqlite3_column_type(stmt, 4) != SQLITE_TEXT ||
                dala_hex_decode(out->server_key, DALA_KEY_BYTES, key_hex) != DALA_OK))
        rc = dala_error_set(DALA_ECORRUPT, "the answer's server_public_key is not 64 hex digits");
    if (!rc) {
        dala_hex_encode(out->server_key_hex, out->server_key, DALA_KEY_BYTES);
        const char *officer = (const char *)sqlite3_column_text(stmt, 5);
        if (sqlite3_column_type(stmt, 5) == SQLITE_TEXT &&
            dala_utf8_is_valid((const uint8_t *)officer, strlen(officer)))
            snprintf(out->officer, sizeof out->officer, "%s", officer);
        out->device_id = (int64_t)device_id;
        out->unit_id = (int64_t)unit_id;
        out->key_epoch = (int64_t)key_epoch;
    }
done:
    sqlite3_finalize(stmt);
    return rc;
}

/* Maps a refusal of /v1/enroll to a code and a clear message. */
static int enrol_refused(sqlite3 *db, int status, const uint8_t *body, size_t len, const char *url)
{
    char *why = dala_http_error_member(db, body, len, "error");
    const char *detail = why ? why : "no reason given";
    int rc;
    if (status == 403)
        rc = dala_error_set(DALA_EAUTH, "the server refused the code: unknown, used or expired");
    else if (status == 429)
        rc = dala_error_set(DALA_ELIMIT, "too many failed attempts from this address; wait "
                                         "and try again");
    else if (status == 400)
        rc = dala_error_set(DALA_EINVAL, "the server refused the request: %s", detail);
    else
        rc = dala_error_set(DALA_EIO, "%s answered HTTP %d: %s", url, status, detail);
    free(why);
    return rc;
}

/* Checks the answer's key against the fingerprint learnt out of band. */
static int check_expected_key(const char *expected, const enrol_answer *answer)
{
    size_t len = strlen(expected);
    if (len < 16 || len > 2 * DALA_KEY_BYTES)
        return dala_error_set(DALA_EINVAL, "expected server key must be 16 to 64 hex digits");
    for (size_t i = 0; i < len; i++) {
        int digit = dala_hex_digit(expected[i]);
        if (digit < 0) return dala_error_set(DALA_EINVAL, "expected server key is not hex");
        if (digit != dala_hex_digit(answer->server_key_hex[i]))
            return dala_error_set(DALA_EAUTH, "the server's key %.16s... is not the expected "
                                              "%.16s...; refusing it", answer->server_key_hex, expected);
    }
    return DALA_OK;
}

/* Stores the enrolment in one transaction, unless another got there first. */
static int save_enrolment(sqlite3 *db, const enrol_answer *answer, const char *url,
                          const dala_keypair *pair)
{
    int64_t existing;
    int rc = dala_db_begin(db);
    if (rc) return rc;
    rc = dala_meta_get_int(&existing, db, "device_id", 0);
    if (!rc && existing > 0)
        rc = dala_error_set(DALA_EINVAL, "store is already enrolled as device %lld",
                            (long long)existing);
    if (!rc) rc = dala_meta_set_int(db, "device_id", answer->device_id);
    if (!rc) rc = dala_meta_set_int(db, "unit_id", answer->unit_id);
    if (!rc) rc = dala_meta_set_text(db, "officer", answer->officer);
    if (!rc) rc = dala_meta_set_text(db, "server_url", url);
    if (!rc) rc = dala_meta_set_blob(db, "server_public_key", answer->server_key, DALA_KEY_BYTES);
    if (!rc) rc = dala_meta_set_blob(db, "device_secret_key", pair->secret, DALA_KEY_BYTES);
    if (!rc) rc = dala_meta_set_int(db, "key_epoch", answer->key_epoch);
    if (!rc) rc = dala_meta_set_int(db, "server_epoch", (int64_t)answer->server_epoch);
    if (rc) {
        dala_db_rollback(db);
        return rc;
    }
    return dala_db_commit(db);
}

/* Checks the arguments and copies the URL without its trailing slashes. */
static int check_arguments(char **url_out, dala_store *store, const char *server_url,
                           const char *code, const dala_enroll_options *options)
{
    *url_out = NULL;
    if (!store || !server_url || !code)
        return dala_error_set(DALA_EINVAL, "store, server URL or code is NULL");
    if (options && options->version != DALA_ENROLL_OPTIONS_VERSION)
        return dala_error_set(DALA_EINVAL, "options version %d is not %d", options->version,
                              DALA_ENROLL_OPTIONS_VERSION);
    size_t code_len = strlen(code);
    if (code_len == 0 || code_len > ENROLL_MAX_CODE_BYTES)
        return dala_error_set(DALA_EINVAL, "the code must be 1 to %d characters",
                              ENROLL_MAX_CODE_BYTES);
    size_t url_len = strlen(server_url);
    while (url_len > 0 && server_url[url_len - 1] == '/') url_len--;
    if (url_len == 0 || url_len > ENROLL_MAX_URL_BYTES || !strstr(server_url, "://"))
        return dala_error_set(DALA_EINVAL, "server URL must look like http://host:port or https://host:port");
    int64_t existing;
    int rc = dala_meta_get_int(&existing, store->db, "device_id", 0);
    if (!rc && existing > 0)
        rc = dala_error_set(DALA_EINVAL, "store is already enrolled as device %lld",
                            (long long)existing);
    if (!rc && !(*url_out = strndup(server_url, url_len)))
        rc = dala_error_set(DALA_ENOMEM, "out of memory");
    return rc;
}

int dala_store_enroll(dala_store *store, const char *server_url, const char *code,
                      const dala_enroll_options *options)
{
    static const dala_enroll_options defaults = DALA_ENROLL_OPTIONS_INIT;
    char *url = NULL, endpoint[ENROLL_MAX_URL_BYTES + 16], public_hex[2 * DALA_KEY_BYTES + 1];
    dala_keypair pair;
    dala_buf form = DALA_BUF_INIT;
    uint8_t *answer_body = NULL;
    size_t answer_len = 0;
    int status = 0;
    enrol_answer answer;
    memset(&pair, 0, sizeof pair);
    int rc = check_arguments(&url, store, server_url, code, options);
    if (rc) return dala_error_wrap(rc, "enroll");
    if (!options) options = &defaults;
    rc = dala_keypair_generate(&pair);
    if (rc) goto done;
    dala_hex_encode(public_hex, pair.public_key, DALA_KEY_BYTES);
    rc = dala_buf_append(&form, "code=", 5);
    if (!rc) rc = put_urlencoded(&form, code);
    if (!rc) rc = dala_buf_append(&form, "&public_key=", 12);
    if (!rc) rc = dala_buf_append(&form, public_hex, strlen(public_hex));
    if (rc) goto done;
    snprintf(endpoint, sizeof endpoint, "%s/v1/enroll", url);
    rc = dala_transport_post(options->transport, endpoint, "application/x-www-form-urlencoded",
                             form.data, form.len, &status, &answer_body, &answer_len,
                             ENROLL_MAX_ANSWER_BYTES,
                             options->timeout_ms > 0 ? options->timeout_ms : DALA_DEFAULT_TIMEOUT_MS);
    if (!rc && status != 200) rc = enrol_refused(store->db, status, answer_body, answer_len, url);
    if (!rc) rc = parse_answer(&answer, store->db, answer_body, answer_len);
    if (!rc && options->expected_server_key) rc = check_expected_key(options->expected_server_key, &answer);
    if (!rc) rc = save_enrolment(store->db, &answer, url, &pair);
done:
    if (rc) dala_error_wrap(rc, "enroll");
    dala_keypair_wipe(&pair);
    dala_buf_free(&form); /* it held the code */
    free(answer_body);
    free(url);
    return rc;
}
