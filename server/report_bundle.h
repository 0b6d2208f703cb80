/* report_bundle.h - a signed report note as a file (report_bundle.c): the
 * canonical bytes, the signature and the public key, base64 in JSON, as
 * the department sends it on. Written by report_note_bundle
 * (report_signoff.c); checked here with no database. */
#ifndef DALA_REPORT_BUNDLE_H
#define DALA_REPORT_BUNDLE_H

#include <stddef.h>

#define REPORT_BUNDLE_FORMAT "dala-signed-report/1"
#define REPORT_BUNDLE_MAX_BYTES ((size_t)16 << 20)

/* Checks a signed note's file: DALA_OK with `summary` naming the unit,
 * quarter, signer and key fingerprint; DALA_EAUTH with the reason
 * otherwise (not JSON, another format, bad base64, a key that is not
 * P-256, a signature that does not match). The key travels with the file,
 * so the reader compares its fingerprint with the one the department gave
 * them. */
int report_bundle_verify(char *summary, size_t size, const char *json, size_t len);

#endif /* DALA_REPORT_BUNDLE_H */
