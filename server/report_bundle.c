/* report_bundle.c - checking a signed report note's file (signed.json,
 * docs/reports.md) with no database: the Committee's side of the sign-off,
 * for `dala-server verify-report --file`. The file comes from outside, so
 * every part of it is read as hostile (tests/fuzz/fuzz_report_bundle.c). */
#include "report_bundle.h"
#include "dala_json.h"
#include "report_sign.h"
#include "sync_int.h"

#include <mbedtls/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Member `key` of `bundle` decoded from base64 into `out` (malloc'd). */
static int decoded(uint8_t **out, size_t *len, const dala_json *bundle, const char *key)
{
    const char *text = dala_json_get_string(bundle, key);
    *out = NULL;
    *len = 0;
    if (!text) return dala_error_set(DALA_EAUTH, "signed note: no \"%s\"", key);
    size_t size = strlen(text) / 4 * 3 + 3;
    *out = malloc(size);
    if (!*out) return dala_error_set(DALA_ENOMEM, "signed note: out of memory");
    if (mbedtls_base64_decode(*out, size, len, (const unsigned char *)text, strlen(text))) {
        free(*out);
        *out = NULL;
        return dala_error_set(DALA_EAUTH, "signed note: \"%s\" is not base64", key);
    }
    return DALA_OK;
}

int report_bundle_verify(char *summary, size_t size, const char *json, size_t len)
{
    dala_json *bundle = NULL, *note = NULL;
    uint8_t *bytes = NULL, *signature = NULL, *key = NULL;
    size_t bytes_len = 0, signature_len = 0, key_len = 0;
    summary[0] = '\0';
    int rc = dala_json_parse(&bundle, json, len, 1000);
    if (rc) rc = dala_error_set(DALA_EAUTH, "signed note: not JSON");
    const char *format = rc ? NULL : dala_json_get_string(bundle, "format");
    if (!rc && (!format || strcmp(format, REPORT_BUNDLE_FORMAT) != 0))
        rc = dala_error_set(DALA_EAUTH, "signed note: not a %s file", REPORT_BUNDLE_FORMAT);
    if (!rc) rc = decoded(&bytes, &bytes_len, bundle, "note");
    if (!rc) rc = decoded(&signature, &signature_len, bundle, "signature");
    if (!rc) rc = decoded(&key, &key_len, bundle, "public_key");
    if (!rc && key_len != REPORT_PUBLIC_KEY_BYTES) rc = dala_error_set(DALA_EAUTH, "signed note: the key is not P-256");
    if (!rc) rc = report_verify(key, bytes, bytes_len, signature, signature_len);
    /* What was signed, for the reader to check: the unit, the quarter,
     * the signer and the key's fingerprint (compare it with the one the
     * department published). */
    if (!rc && dala_json_parse(&note, (const char *)bytes, bytes_len, 1000000) == DALA_OK) {
        const dala_json *unit = dala_json_get(note, "unit"), *signer = dala_json_get(note, "signer");
        const dala_json *year = dala_json_get(note, "year"), *quarter = dala_json_get(note, "quarter");
        const dala_json *at = dala_json_get(note, "signed_at");
        char fingerprint[REPORT_FINGERPRINT_BYTES];
        report_key_fingerprint(fingerprint, key);
        snprintf(summary, size, "%s, %lld Q%lld, signed by %s at %lld, key %s",
                 unit ? (dala_json_get_string(unit, "name_ru") ? dala_json_get_string(unit, "name_ru") : "?") : "?",
                 year && year->is_integer ? (long long)year->integer : 0LL,
                 quarter && quarter->is_integer ? (long long)quarter->integer : 0LL,
                 signer && dala_json_get_string(signer, "name") ? dala_json_get_string(signer, "name") : "?",
                 at && at->is_integer ? (long long)at->integer : 0LL, fingerprint);
    }
    dala_json_free(note);
    dala_json_free(bundle);
    free(bytes);
    free(signature);
    free(key);
    return rc;
}

