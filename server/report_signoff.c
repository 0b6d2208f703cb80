/* report_signoff.c - the deputy head's signature on a department's
 * consolidated note: the canonical bytes it covers (docs/reports.md), the
 * signer's ECDSA P-256 key kept wrapped under their password
 * (report_sign.c), signing, and checking a signature again from what is
 * stored, for the page's button and `dala-server verify-report`. */
#include "report_note.h"
#include "web_int.h" /* json_out */

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CANONICAL_FORMAT "dala-report-note/1"

/* One unit's narrative of a block, in the canonical bytes. */
static int put_unit_narrative(void *context, int64_t unit_id, const char *text)
{
    json_out *j = context;
    json_object_begin(j, NULL);
    json_int(j, "unit_id", unit_id);
    json_string(j, "narrative", text);
    json_object_end(j);
    return j->rc;
}

/* The unit's id, code and names, as the canonical bytes hold them. */
static void put_unit(json_out *j, sqlite3 *db, int64_t unit_id)
{
    sqlite3_stmt *stmt;
    json_object_begin(j, "unit");
    json_int(j, "id", unit_id);
    if (sqlite3_prepare_v2(db, "SELECT code, name_kk, name_ru, name FROM org_unit WHERE id = ?1", -1, &stmt, NULL)) {
        j->rc = server_db_error(db, "read a unit");
    } else {
        sqlite3_bind_int64(stmt, 1, unit_id);
        if (sqlite3_step(stmt) == SQLITE_ROW) {
            json_string(j, "code", (const char *)sqlite3_column_text(stmt, 0));
            json_string(j, "name_kk", (const char *)sqlite3_column_text(stmt, 1));
            json_string(j, "name_ru", (const char *)(sqlite3_column_text(stmt, 2) ? sqlite3_column_text(stmt, 2)
                                                                                   : sqlite3_column_text(stmt, 3)));
        }
        sqlite3_finalize(stmt);
    }
    json_object_end(j);
}

static void put_time(json_out *j, const char *key, int64_t at)
{
    if (at) json_int(j, key, at);
    else json_null(j, key);
}

int report_note_canonical(dala_buf *out, sqlite3 *db, const report_note *note)
{
    report_figures figures = REPORT_FIGURES_INIT;
    report_unit_filing *units = NULL;
    size_t count = 0;
    int rc = report_note_figures(&figures, db, note);
    if (!rc) rc = report_note_units(&units, &count, db, note);
    if (rc) goto done;
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_string(&j, "format", CANONICAL_FORMAT);
    put_unit(&j, db, note->unit_id);
    json_int(&j, "year", note->year);
    json_int(&j, "quarter", note->quarter);
    json_string(&j, "level", note->level);
    put_time(&j, "consolidated_at", note->consolidated_at);
    json_array_begin(&j, "units");
    for (size_t i = 0; i < count; i++) {
        char name[256] = "";
        sqlite3_stmt *stmt;
        if (sqlite3_prepare_v2(db, "SELECT coalesce(name_ru, name) FROM org_unit WHERE id = ?1", -1, &stmt, NULL) == 0) {
            sqlite3_bind_int64(stmt, 1, units[i].unit_id);
            if (sqlite3_step(stmt) == SQLITE_ROW) snprintf(name, sizeof name, "%s", sqlite3_column_text(stmt, 0));
            sqlite3_finalize(stmt);
        }
        json_object_begin(&j, NULL);
        json_int(&j, "unit_id", units[i].unit_id);
        json_string(&j, "name_ru", name);
        json_string(&j, "state", units[i].state);
        put_time(&j, "submitted_at", units[i].submitted_at);
        json_bool(&j, "late", units[i].late);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_array_begin(&j, "blocks");
    for (int block = 1; block <= REPORT_BLOCKS; block++) {
        json_object_begin(&j, NULL);
        json_int(&j, "block", block);
        json_string(&j, "narrative", note->narrative[block - 1] ? note->narrative[block - 1] : "");
        json_array_begin(&j, "figures");
        for (size_t i = 0; i < figures.count; i++) {
            const report_figure *f = &figures.items[i];
            if (f->block != block) continue;
            json_object_begin(&j, NULL);
            json_string(&j, "group", f->group);
            json_string(&j, "value", f->value);
            json_int(&j, "now", f->count[REPORT_NOW]);
            json_int(&j, "last", f->count[REPORT_LAST]);
            json_object_end(&j);
        }
        json_array_end(&j);
        json_array_begin(&j, "units");
        if (strcmp(note->level, "department") == 0) {
            int failed = report_note_unit_narratives(db, note, block, put_unit_narrative, &j);
            if (failed && !j.rc) j.rc = failed;
        }
        json_array_end(&j);
        json_object_end(&j);
    }
    json_array_end(&j);
    json_object_begin(&j, "signer");
    json_int(&j, "id", note->signer_id);
    json_string(&j, "name", note->signer_name);
    json_object_end(&j);
    put_time(&j, "signed_at", note->signed_at);
    json_object_end(&j);
    rc = j.rc;
    if (!rc) rc = dala_buf_append(out, j.buf.data, j.buf.len);
    json_out_free(&j);
done:
    free(units);
    report_figures_free(&figures);
    return rc;
}

/* --- the signer's key ------------------------------------------------------- */

typedef struct signer_key {
    int64_t id;
    uint8_t public_key[REPORT_PUBLIC_KEY_BYTES];
    uint8_t private_key[REPORT_PRIVATE_KEY_BYTES];
} signer_key;

/* Makes, wraps and stores a new key for `user_id`, retiring the old. */
static int key_create(signer_key *key, sqlite3 *db, int64_t user_id, const char *password, int64_t now)
{
    uint8_t salt[REPORT_SALT_BYTES], wrapped[REPORT_WRAPPED_KEY_BYTES];
    int rc = report_key_new(key->public_key, key->private_key);
    if (!rc) rc = dala_random(salt, sizeof salt);
    if (!rc) rc = report_key_wrap(wrapped, key->private_key, key->public_key, password, salt, WEB_PBKDF2_ITERATIONS);
    sqlite3_stmt *stmt = NULL;
    if (!rc && sqlite3_prepare_v2(db, "UPDATE signing_key SET retired_at = ?2 WHERE user_id = ?1 AND retired_at IS NULL",
                                  -1, &stmt, NULL) == 0) {
        sqlite3_bind_int64(stmt, 1, user_id);
        sqlite3_bind_int64(stmt, 2, now);
        if (sqlite3_step(stmt) != SQLITE_DONE) rc = server_db_error(db, "retire a signing key");
        sqlite3_finalize(stmt);
        stmt = NULL;
    }
    if (!rc && sqlite3_prepare_v2(db, "INSERT INTO signing_key (user_id, public_key, wrapped, salt, iterations, "
                                      "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &stmt, NULL))
        rc = server_db_error(db, "store a signing key");
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, user_id);
        sqlite3_bind_blob(stmt, 2, key->public_key, REPORT_PUBLIC_KEY_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(stmt, 3, wrapped, sizeof wrapped, SQLITE_STATIC);
        sqlite3_bind_blob(stmt, 4, salt, sizeof salt, SQLITE_STATIC);
        sqlite3_bind_int(stmt, 5, WEB_PBKDF2_ITERATIONS);
        sqlite3_bind_int64(stmt, 6, now);
        if (sqlite3_step(stmt) != SQLITE_DONE) rc = server_db_error(db, "store a signing key");
        key->id = sqlite3_last_insert_rowid(db);
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* The signer's key, unwrapped with the password they just gave (checked
 * first); a key wrapped under an earlier password is replaced. */
static int key_for(signer_key *key, int *replaced, sqlite3 *db, int64_t user_id, const char *password, int64_t now)
{
    int rc = server_password_check(db, user_id, password);
    if (rc) return rc;
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "SELECT id, public_key, wrapped, salt, iterations FROM signing_key "
                               "WHERE user_id = ?1 AND retired_at IS NULL", -1, &stmt, NULL))
        return server_db_error(db, "read a signing key");
    sqlite3_bind_int64(stmt, 1, user_id);
    int has_key = 0;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        has_key = 1;
        key->id = sqlite3_column_int64(stmt, 0);
        if (sqlite3_column_bytes(stmt, 1) != REPORT_PUBLIC_KEY_BYTES ||
            sqlite3_column_bytes(stmt, 2) != REPORT_WRAPPED_KEY_BYTES || sqlite3_column_bytes(stmt, 3) != REPORT_SALT_BYTES) {
            rc = DALA_EAUTH;
        } else {
            memcpy(key->public_key, sqlite3_column_blob(stmt, 1), REPORT_PUBLIC_KEY_BYTES);
            rc = report_key_unwrap(key->private_key, sqlite3_column_blob(stmt, 2), key->public_key, password,
                                   sqlite3_column_blob(stmt, 3), (uint32_t)sqlite3_column_int(stmt, 4));
        }
    }
    sqlite3_finalize(stmt);
    if (has_key && rc != DALA_EAUTH) return rc; /* opened, or the crypto library failed: never a new key then */
    /* No key yet, or one that the signer's current password does not open
     * (set again since; or its bytes were changed): a new key, and the
     * caller tells the audit trail that the old one was replaced. */
    *replaced = has_key;
    return key_create(key, db, user_id, password, now);
}

int report_note_sign(sqlite3 *db, int64_t note_id, int64_t user_id, const char *name, const char *password,
                     int64_t now, int *key_replaced)
{
    *key_replaced = 0;
    if (!password || !password[0]) return dala_error_set(DALA_EINVAL, "sign: your password is needed to sign");
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) return server_db_error(db, "begin");
    report_note note;
    signer_key key = {0};
    dala_buf bytes = DALA_BUF_INIT;
    uint8_t signature[REPORT_SIGNATURE_MAX_BYTES];
    size_t signature_len = 0;
    int rc = report_note_load(&note, db, note_id), loaded = !rc;
    if (!rc && strcmp(note.level, "department") != 0)
        rc = dala_error_set(DALA_EINVAL, "sign: only a department's consolidated note is signed");
    else if (!rc && strcmp(note.state, "consolidated") != 0)
        rc = dala_error_set(DALA_ECONFLICT, "sign: the note is %s; it is signed once consolidated", note.state);
    if (!rc) rc = key_for(&key, key_replaced, db, user_id, password, now);
    if (!rc) {
        note.signer_id = user_id;
        snprintf(note.signer_name, sizeof note.signer_name, "%s", name);
        note.signed_at = now;
        rc = report_note_canonical(&bytes, db, &note);
    }
    if (!rc) rc = report_sign(signature, &signature_len, key.private_key, bytes.data, bytes.len);
    sqlite3_stmt *stmt = NULL;
    if (!rc && sqlite3_prepare_v2(db, "UPDATE report_note SET state = 'signed', signer_id = ?2, signer_name = ?3, "
                                      "signed_at = ?4, public_key = ?5, signature = ?6 WHERE id = ?1", -1, &stmt, NULL))
        rc = server_db_error(db, "sign a report note");
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, note_id);
        sqlite3_bind_int64(stmt, 2, user_id);
        sqlite3_bind_text(stmt, 3, note.signer_name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 4, now);
        sqlite3_bind_blob(stmt, 5, key.public_key, REPORT_PUBLIC_KEY_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(stmt, 6, signature, signature_len, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE) rc = server_db_error(db, "sign a report note");
    }
    sqlite3_finalize(stmt);
    mbedtls_platform_zeroize(key.private_key, sizeof key.private_key);
    dala_buf_free(&bytes);
    if (loaded) report_note_free(&note);
    if (!rc && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) rc = server_db_error(db, "commit");
    if (rc) {
        char kept[256];
        snprintf(kept, sizeof kept, "%s", dala_errmsg()); /* the rollback must not hide why */
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        dala_error_set(rc, "%s", kept);
    }
    return rc;
}

int report_note_verify(sqlite3 *db, int64_t note_id)
{
    report_note note;
    int rc = report_note_load(&note, db, note_id);
    if (rc) return rc;
    dala_buf bytes = DALA_BUF_INIT;
    if (strcmp(note.state, "signed") != 0 || !note.signature_len) {
        rc = dala_error_set(DALA_EAUTH, "the note is %s, not signed", note.state);
        goto done;
    }
    /* The key must be one the signer has held (retired keys still count). */
    sqlite3_stmt *stmt;
    int known = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM signing_key WHERE user_id = ?1 AND public_key = ?2", -1, &stmt, NULL) ==
        0) {
        sqlite3_bind_int64(stmt, 1, note.signer_id);
        sqlite3_bind_blob(stmt, 2, note.public_key, REPORT_PUBLIC_KEY_BYTES, SQLITE_STATIC);
        known = sqlite3_step(stmt) == SQLITE_ROW;
        sqlite3_finalize(stmt);
    }
    if (!known) {
        rc = dala_error_set(DALA_EAUTH, "the signing key is not one its signer holds");
        goto done;
    }
    rc = report_note_canonical(&bytes, db, &note);
    if (!rc) rc = report_verify(note.public_key, bytes.data, bytes.len, note.signature, note.signature_len);
    if (rc == DALA_EAUTH) {
        char why[200];
        snprintf(why, sizeof why, "%s", dala_errmsg());
        dala_error_set(rc, "the signature does not verify over the note as stored (%s)", why);
    }
done:
    dala_buf_free(&bytes);
    report_note_free(&note);
    return rc;
}

/* --- the signed note as a file --------------------------------------------- */


/* `len` bytes as base64 into `out` (NUL-terminated, malloc'd). */
static int base64_of(char **out, const uint8_t *bytes, size_t len)
{
    size_t size = 4 * ((len + 2) / 3) + 1, written = 0;
    *out = malloc(size);
    if (!*out) return dala_error_set(DALA_ENOMEM, "signed note: out of memory");
    if (mbedtls_base64_encode((unsigned char *)*out, size, &written, bytes, len)) {
        free(*out);
        *out = NULL;
        return dala_error_set(DALA_ECRYPTO, "signed note: base64 failed");
    }
    return DALA_OK;
}

int report_note_bundle(dala_buf *out, sqlite3 *db, const report_note *note)
{
    if (strcmp(note->state, "signed") != 0 || !note->signature_len)
        return dala_error_set(DALA_ECONFLICT, "signed note: the note is %s, not signed", note->state);
    dala_buf bytes = DALA_BUF_INIT;
    char *note_b64 = NULL, *signature_b64 = NULL, *key_b64 = NULL, fingerprint[REPORT_FINGERPRINT_BYTES];
    int rc = report_note_canonical(&bytes, db, note);
    if (!rc) rc = base64_of(&note_b64, bytes.data, bytes.len);
    if (!rc) rc = base64_of(&signature_b64, note->signature, note->signature_len);
    if (!rc) rc = base64_of(&key_b64, note->public_key, REPORT_PUBLIC_KEY_BYTES);
    if (!rc) {
        report_key_fingerprint(fingerprint, note->public_key);
        json_out j = JSON_OUT_INIT;
        json_object_begin(&j, NULL);
        json_string(&j, "format", REPORT_BUNDLE_FORMAT);
        json_string(&j, "note", note_b64);
        json_string(&j, "signature", signature_b64);
        json_string(&j, "public_key", key_b64);
        json_string(&j, "fingerprint", fingerprint);
        json_object_end(&j);
        rc = j.rc;
        if (!rc) rc = dala_buf_append(out, j.buf.data, j.buf.len);
        json_out_free(&j);
    }
    free(note_b64);
    free(signature_b64);
    free(key_b64);
    dala_buf_free(&bytes);
    return rc;
}
