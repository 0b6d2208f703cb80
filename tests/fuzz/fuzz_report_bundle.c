/* fuzz_report_bundle.c - libFuzzer target: a signed report note's file as
 * the Committee would receive it, from anywhere. The first byte picks what
 * the rest is:
 *   even: a whole signed.json file for report_bundle_verify (JSON, base64,
 *         a P-256 point, a DER signature);
 *   odd:  a DER signature alone, checked by report_verify under a fixed
 *         key over a fixed message (the strict DER reader of report_sign.c).
 * Neither may crash, leak or read outside its input; a refusal is
 * DALA_EAUTH (or DALA_ENOMEM) and never DALA_OK for bytes that were not
 * signed; a summary is always a terminated string. */
#include "dala_sync.h"
#include "report_bundle.h"
#include "report_sign.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The uncompressed P-256 point of RFC 6979 A.2.5's key. */
static const uint8_t rfc6979_key[REPORT_PUBLIC_KEY_BYTES] = {
    0x04, 0x60, 0xFE, 0xD4, 0xBA, 0x25, 0x5A, 0x9D, 0x31, 0xC9, 0x61, 0xEB, 0x74, 0xC6, 0x35, 0x6D, 0x68,
    0xC0, 0x49, 0xB8, 0x92, 0x3B, 0x61, 0xFA, 0x6C, 0xE6, 0x69, 0x62, 0x2E, 0x60, 0xF2, 0x9F, 0xB6, 0x79,
    0x03, 0xFE, 0x10, 0x08, 0xB8, 0xBC, 0x99, 0xA4, 0x1A, 0xE9, 0xE9, 0x56, 0x28, 0xBC, 0x64, 0xF2, 0xF1,
    0xB2, 0x0C, 0x2D, 0x7E, 0x9F, 0x51, 0x77, 0xA3, 0xC2, 0x94, 0xD4, 0x46, 0x22, 0x99
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > REPORT_BUNDLE_MAX_BYTES) return 0;
    const uint8_t *rest = data + 1;
    size_t len = size - 1;
    if (data[0] % 2 == 0) {
        char *json = malloc(len + 1), summary[256];
        if (!json) return 0;
        memcpy(json, rest, len);
        json[len] = '\0';
        memset(summary, 'x', sizeof summary);
        int rc = report_bundle_verify(summary, sizeof summary, json, len);
        if (rc != DALA_OK && rc != DALA_EAUTH && rc != DALA_ENOMEM) abort();
        if (!memchr(summary, '\0', sizeof summary)) abort();
        free(json);
    } else {
        /* "sample" is what RFC 6979 signed; a fuzzer that finds the RFC's
         * signature may pass, anything else must be refused. */
        int rc = report_verify(rfc6979_key, (const uint8_t *)"sample", 6, rest, len);
        if (rc != DALA_OK && rc != DALA_EAUTH && rc != DALA_ENOMEM && rc != DALA_EINVAL) abort();
    }
    return 0;
}
