/* report_sign.c - ECDSA P-256 keys and signatures for the sign-off of the
 * quarterly report notes, on mbedTLS 2.28: key pairs from dala_random,
 * private keys wrapped under a password (PBKDF2-HMAC-SHA256, then
 * AES-256-GCM with the public key as additional data), deterministic
 * signatures (RFC 6979) written and read as strict DER, and fingerprints.
 *
 * Each call loads the curve into its own contexts and frees them on every
 * path (mbedTLS zeroizes MPIs, GCM and MD contexts as it frees them); the
 * copies of secrets kept on the stack (the scalar, the derived AES key) are
 * wiped before returning. DER is encoded with mbedtls_asn1_write_* but read
 * by hand here: mbedTLS's own reader accepts long-form lengths and
 * non-minimal integers, and a signature should have one encoding only. */
#include "report_sign.h"
#include "sync_int.h"

#include <mbedtls/asn1.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <string.h>

#define HASH_BYTES 32
#define AES_KEY_BYTES 32
#define NONCE_BYTES 12
#define TAG_BYTES 16
/* The most bytes of one P-256 INTEGER in DER: 32, and a 0 before a high bit. */
#define MAX_INTEGER_BYTES 33

/* What each public function is doing, at the front of its messages. */
#define NEW_WHAT "make report signing key"
#define WRAP_WHAT "wrap report signing key"
#define UNWRAP_WHAT "unwrap report signing key"
#define SIGN_WHAT "sign report note"
#define VERIFY_WHAT "verify report note signature"

/* dala_random as an mbedTLS RNG callback, for key generation and for the
 * blinding of scalar multiplications. */
static int report_random(void *unused, unsigned char *out, size_t len)
{
    (void)unused;
    return dala_random(out, len) == DALA_OK ? 0 : MBEDTLS_ERR_ECP_RANDOM_FAILED;
}

/* Reads a 65-byte uncompressed point and checks it is on P-256 (and not
 * the point at infinity). Returns 0 or an mbedTLS error code. */
static int load_public_key(mbedtls_ecp_point *q, const mbedtls_ecp_group *grp,
                           const uint8_t public_key[REPORT_PUBLIC_KEY_BYTES])
{
    int rc;

    if (public_key[0] != 0x04) return MBEDTLS_ERR_ECP_INVALID_KEY;
    rc = mbedtls_ecp_point_read_binary(grp, q, public_key, REPORT_PUBLIC_KEY_BYTES);
    if (rc == 0) rc = mbedtls_ecp_check_pubkey(grp, q);
    return rc;
}

/* Reads a 32-byte scalar and checks 1 <= d < n. 0 or an mbedTLS code. */
static int load_private_key(mbedtls_mpi *d, const mbedtls_ecp_group *grp,
                            const uint8_t private_key[REPORT_PRIVATE_KEY_BYTES])
{
    int rc = mbedtls_mpi_read_binary(d, private_key, REPORT_PRIVATE_KEY_BYTES);
    if (rc == 0) rc = mbedtls_ecp_check_privkey(grp, d);
    return rc;
}

/* Whether d * G is `q`: 0 when it is, 1 when it is not, or a negative
 * mbedTLS code. */
static int pair_mismatch(mbedtls_ecp_group *grp, const mbedtls_mpi *d, const mbedtls_ecp_point *q)
{
    mbedtls_ecp_point derived;
    int rc;

    mbedtls_ecp_point_init(&derived);
    rc = mbedtls_ecp_mul(grp, &derived, d, &grp->G, report_random, NULL);
    if (rc == 0) rc = mbedtls_ecp_point_cmp(&derived, q) == 0 ? 0 : 1;
    mbedtls_ecp_point_free(&derived);
    return rc;
}

/* Checks the arguments that wrap and unwrap share; DALA_EINVAL naming the
 * first bad one, with `what` in front. */
static int check_wrap_arguments(const void *out, const void *in, const uint8_t *public_key,
                                const char *password, const uint8_t *salt, uint32_t iterations,
                                const char *what)
{
    if (out == NULL || in == NULL || public_key == NULL || password == NULL || salt == NULL)
        return dala_error_set(DALA_EINVAL, "%s: a key, the password or the salt is NULL", what);
    if (password[0] == '\0')
        return dala_error_set(DALA_EINVAL, "%s: the password is empty", what);
    if (iterations == 0)
        return dala_error_set(DALA_EINVAL, "%s: PBKDF2 needs at least 1 iteration, not 0", what);
    return DALA_OK;
}

/* The AES key: PBKDF2-HMAC-SHA256(password, salt, iterations), 32 bytes.
 * 0 or an mbedTLS code; `key` is wiped on failure. */
static int derive_wrapping_key(uint8_t key[AES_KEY_BYTES], const char *password,
                               const uint8_t salt[REPORT_SALT_BYTES], uint32_t iterations)
{
    mbedtls_md_context_t md;
    int rc;

    mbedtls_md_init(&md);
    rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (rc == 0)
        rc = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password, strlen(password),
                                       salt, REPORT_SALT_BYTES, iterations, AES_KEY_BYTES, key);
    mbedtls_md_free(&md);
    if (rc != 0) dala_wipe(key, AES_KEY_BYTES);
    return rc;
}

/* AES-256-GCM over the 32-byte scalar with the public key as additional
 * data, with a context made for this one call and freed (zeroized) after:
 * encrypts `in` into `out` and writes `tag`, or checks `tag` and decrypts.
 * 0 or an mbedTLS code (MBEDTLS_ERR_GCM_AUTH_FAILED for a tag that does
 * not verify; mbedTLS zeroes `out` then). */
static int gcm_crypt(int encrypt, const uint8_t key[AES_KEY_BYTES], const uint8_t nonce[NONCE_BYTES],
                     const uint8_t public_key[REPORT_PUBLIC_KEY_BYTES],
                     const uint8_t in[REPORT_PRIVATE_KEY_BYTES],
                     uint8_t out[REPORT_PRIVATE_KEY_BYTES], uint8_t *tag_out, const uint8_t *tag_in)
{
    mbedtls_gcm_context gcm;
    int rc;

    mbedtls_gcm_init(&gcm);
    rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, AES_KEY_BYTES * 8);
    if (rc == 0 && encrypt)
        rc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, REPORT_PRIVATE_KEY_BYTES, nonce,
                                       NONCE_BYTES, public_key, REPORT_PUBLIC_KEY_BYTES, in, out,
                                       TAG_BYTES, tag_out);
    else if (rc == 0)
        rc = mbedtls_gcm_auth_decrypt(&gcm, REPORT_PRIVATE_KEY_BYTES, nonce, NONCE_BYTES,
                                      public_key, REPORT_PUBLIC_KEY_BYTES, tag_in, TAG_BYTES, in,
                                      out);
    mbedtls_gcm_free(&gcm);
    return rc;
}

int report_key_new(uint8_t public_key[REPORT_PUBLIC_KEY_BYTES],
                   uint8_t private_key[REPORT_PRIVATE_KEY_BYTES])
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi d;
    size_t written = 0;
    int rc, result = DALA_OK;

    if (public_key == NULL || private_key == NULL)
        return dala_error_set(DALA_EINVAL, NEW_WHAT ": a key buffer is NULL");
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&d);
    rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (rc == 0) rc = mbedtls_ecp_gen_keypair(&grp, &d, &q, report_random, NULL);
    if (rc == 0) rc = mbedtls_mpi_write_binary(&d, private_key, REPORT_PRIVATE_KEY_BYTES);
    if (rc == 0)
        rc = mbedtls_ecp_point_write_binary(&grp, &q, MBEDTLS_ECP_PF_UNCOMPRESSED, &written,
                                            public_key, REPORT_PUBLIC_KEY_BYTES);
    if (rc == 0 && written != REPORT_PUBLIC_KEY_BYTES) rc = MBEDTLS_ERR_ECP_BAD_INPUT_DATA;
    if (rc != 0) {
        result = dala_error_mbedtls(rc, NEW_WHAT);
        dala_wipe(public_key, REPORT_PUBLIC_KEY_BYTES);
        dala_wipe(private_key, REPORT_PRIVATE_KEY_BYTES);
    }
    mbedtls_mpi_free(&d);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return result;
}

int report_key_wrap(uint8_t out[REPORT_WRAPPED_KEY_BYTES],
                    const uint8_t private_key[REPORT_PRIVATE_KEY_BYTES],
                    const uint8_t public_key[REPORT_PUBLIC_KEY_BYTES], const char *password,
                    const uint8_t salt[REPORT_SALT_BYTES], uint32_t iterations)
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi d;
    uint8_t key[AES_KEY_BYTES];
    int rc, result = check_wrap_arguments(out, private_key, public_key, password, salt,
                                          iterations, WRAP_WHAT);

    if (result != DALA_OK) return result;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&d);
    memset(key, 0, sizeof key);

    rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (rc != 0) {
        result = dala_error_mbedtls(rc, WRAP_WHAT ": load P-256");
        goto cleanup;
    }
    if (load_public_key(&q, &grp, public_key) != 0) {
        result = dala_error_set(DALA_EINVAL, WRAP_WHAT ": the public key is not a P-256 point");
        goto cleanup;
    }
    if (load_private_key(&d, &grp, private_key) != 0) {
        result = dala_error_set(DALA_EINVAL, WRAP_WHAT ": the private key is not a P-256 "
                                             "scalar (0, or not below the group order)");
        goto cleanup;
    }
    rc = pair_mismatch(&grp, &d, &q);
    if (rc > 0) {
        result = dala_error_set(DALA_EINVAL, WRAP_WHAT ": the private key does not give the "
                                             "public key; refused so no useless key is stored");
        goto cleanup;
    }
    if (rc != 0) {
        result = dala_error_mbedtls(rc, WRAP_WHAT ": check the key pair");
        goto cleanup;
    }
    result = dala_random(out, NONCE_BYTES);
    if (result != DALA_OK) {
        result = dala_error_wrap(result, WRAP_WHAT ": draw nonce");
        goto cleanup;
    }
    rc = derive_wrapping_key(key, password, salt, iterations);
    if (rc == 0)
        rc = gcm_crypt(1, key, out, public_key, private_key, out + NONCE_BYTES,
                       out + NONCE_BYTES + REPORT_PRIVATE_KEY_BYTES, NULL);
    if (rc != 0) result = dala_error_mbedtls(rc, WRAP_WHAT ": PBKDF2 and AES-256-GCM");

cleanup:
    if (result != DALA_OK) dala_wipe(out, REPORT_WRAPPED_KEY_BYTES);
    dala_wipe(key, sizeof key);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return result;
}

int report_key_unwrap(uint8_t private_key[REPORT_PRIVATE_KEY_BYTES],
                      const uint8_t wrapped[REPORT_WRAPPED_KEY_BYTES],
                      const uint8_t public_key[REPORT_PUBLIC_KEY_BYTES], const char *password,
                      const uint8_t salt[REPORT_SALT_BYTES], uint32_t iterations)
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi d;
    uint8_t key[AES_KEY_BYTES], scalar[REPORT_PRIVATE_KEY_BYTES];
    int rc, result = check_wrap_arguments(private_key, wrapped, public_key, password, salt,
                                          iterations, UNWRAP_WHAT);

    if (result != DALA_OK) return result;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&d);
    memset(key, 0, sizeof key);
    memset(scalar, 0, sizeof scalar);

    rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (rc != 0) {
        result = dala_error_mbedtls(rc, UNWRAP_WHAT ": load P-256");
        goto cleanup;
    }
    if (load_public_key(&q, &grp, public_key) != 0) {
        result = dala_error_set(DALA_EAUTH, UNWRAP_WHAT ": the public key is not a P-256 "
                                            "point (changed in storage?)");
        goto cleanup;
    }
    rc = derive_wrapping_key(key, password, salt, iterations);
    if (rc == 0)
        rc = gcm_crypt(0, key, wrapped, public_key, wrapped + NONCE_BYTES, scalar, NULL,
                       wrapped + NONCE_BYTES + REPORT_PRIVATE_KEY_BYTES);
    if (rc == MBEDTLS_ERR_GCM_AUTH_FAILED) {
        result = dala_error_set(DALA_EAUTH, UNWRAP_WHAT ": wrong password, or the wrapped key "
                                            "was changed or belongs to another public key "
                                            "(GCM tag does not verify)");
        goto cleanup;
    }
    if (rc != 0) {
        result = dala_error_mbedtls(rc, UNWRAP_WHAT ": PBKDF2 and AES-256-GCM");
        goto cleanup;
    }
    /* Only a holder of the password could have wrapped a bad scalar, but
     * the promise is a key that signs for `public_key`: check it. */
    if (load_private_key(&d, &grp, scalar) != 0) {
        result = dala_error_set(DALA_EAUTH, UNWRAP_WHAT ": the unwrapped scalar is not a "
                                            "valid P-256 private key");
        goto cleanup;
    }
    rc = pair_mismatch(&grp, &d, &q);
    if (rc > 0) {
        result = dala_error_set(DALA_EAUTH, UNWRAP_WHAT ": the unwrapped private key does not "
                                            "give the public key");
        goto cleanup;
    }
    if (rc != 0) {
        result = dala_error_mbedtls(rc, UNWRAP_WHAT ": check the key pair");
        goto cleanup;
    }
    memcpy(private_key, scalar, REPORT_PRIVATE_KEY_BYTES);

cleanup:
    if (result != DALA_OK) dala_wipe(private_key, REPORT_PRIVATE_KEY_BYTES);
    dala_wipe(key, sizeof key);
    dala_wipe(scalar, sizeof scalar);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return result;
}

/* Writes SEQUENCE { INTEGER r, INTEGER s } into `out` (72 bytes of room),
 * building it backwards from the end of a scratch buffer as mbedTLS's
 * writers do. 0 or an mbedTLS code. */
static int write_der_signature(uint8_t out[REPORT_SIGNATURE_MAX_BYTES], size_t *out_len,
                               const mbedtls_mpi *r, const mbedtls_mpi *s)
{
    uint8_t scratch[REPORT_SIGNATURE_MAX_BYTES];
    unsigned char *p = scratch + sizeof scratch;
    size_t len = 0;
    int rc;

    if ((rc = mbedtls_asn1_write_mpi(&p, scratch, s)) < 0) return rc;
    len += (size_t)rc;
    if ((rc = mbedtls_asn1_write_mpi(&p, scratch, r)) < 0) return rc;
    len += (size_t)rc;
    if ((rc = mbedtls_asn1_write_len(&p, scratch, len)) < 0) return rc;
    len += (size_t)rc;
    if ((rc = mbedtls_asn1_write_tag(&p, scratch, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) < 0)
        return rc;
    len += (size_t)rc;
    memcpy(out, p, len);
    *out_len = len;
    return 0;
}

int report_sign(uint8_t signature[REPORT_SIGNATURE_MAX_BYTES], size_t *signature_len,
                const uint8_t private_key[REPORT_PRIVATE_KEY_BYTES], const uint8_t *message,
                size_t len)
{
    mbedtls_ecp_group grp;
    mbedtls_mpi d, r, s;
    uint8_t hash[HASH_BYTES];
    int rc, result = DALA_OK;

    if (signature_len != NULL) *signature_len = 0;
    if (signature == NULL || signature_len == NULL || private_key == NULL)
        return dala_error_set(DALA_EINVAL, SIGN_WHAT ": the signature, its length or the "
                                           "private key is NULL");
    if (message == NULL && len > 0)
        return dala_error_set(DALA_EINVAL, SIGN_WHAT ": the message is NULL with a length of %zu",
                              len);
    mbedtls_ecp_group_init(&grp);
    mbedtls_mpi_init(&d);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);

    rc = mbedtls_sha256_ret(message, len, hash, 0);
    if (rc == 0) rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (rc != 0) {
        result = dala_error_mbedtls(rc, SIGN_WHAT ": hash the note, load P-256");
        goto cleanup;
    }
    if (load_private_key(&d, &grp, private_key) != 0) {
        result = dala_error_set(DALA_EINVAL, SIGN_WHAT ": the private key is not a P-256 "
                                             "scalar (0, or not below the group order)");
        goto cleanup;
    }
    rc = mbedtls_ecdsa_sign_det_ext(&grp, &r, &s, &d, hash, sizeof hash, MBEDTLS_MD_SHA256,
                                    report_random, NULL);
    if (rc == 0) rc = write_der_signature(signature, signature_len, &r, &s);
    if (rc != 0) result = dala_error_mbedtls(rc, SIGN_WHAT ": ECDSA");

cleanup:
    if (result != DALA_OK) {
        dala_wipe(signature, REPORT_SIGNATURE_MAX_BYTES);
        *signature_len = 0;
    }
    dala_wipe(hash, sizeof hash);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&d);
    mbedtls_ecp_group_free(&grp);
    return result;
}

/* Reads one DER INTEGER at *pos, before `end`, into `x`: tag 02, a
 * short-form length of 1 to 33, the value positive and minimal (a leading
 * 00 only before a byte with its high bit set). Moves *pos past it.
 * DALA_OK, DALA_EAUTH (bad encoding, naming `name`) or DALA_ECRYPTO. */
static int read_der_integer(mbedtls_mpi *x, const uint8_t **pos, const uint8_t *end,
                            const char *name)
{
    const uint8_t *p = *pos;
    size_t len;
    int rc;

    if (end - p < 2 || p[0] != MBEDTLS_ASN1_INTEGER)
        return dala_error_set(DALA_EAUTH, VERIFY_WHAT ": bad encoding: %s is not a DER INTEGER",
                              name);
    len = p[1];
    p += 2;
    if (len == 0 || len > MAX_INTEGER_BYTES || (size_t)(end - p) < len)
        return dala_error_set(DALA_EAUTH, VERIFY_WHAT ": bad encoding: %s has length %zu "
                                          "(1 to %d, within the sequence)",
                              name, len, MAX_INTEGER_BYTES);
    if (p[0] & 0x80)
        return dala_error_set(DALA_EAUTH, VERIFY_WHAT ": bad encoding: %s is negative", name);
    if (len > 1 && p[0] == 0 && !(p[1] & 0x80))
        return dala_error_set(DALA_EAUTH, VERIFY_WHAT ": bad encoding: %s has a needless "
                                          "leading zero",
                              name);
    rc = mbedtls_mpi_read_binary(x, p, len);
    if (rc != 0) return dala_error_mbedtls(rc, VERIFY_WHAT ": read an integer");
    *pos = p + len;
    return DALA_OK;
}

/* Reads a strict DER ECDSA-Sig-Value into r and s; see report_verify(). */
static int read_der_signature(mbedtls_mpi *r, mbedtls_mpi *s, const uint8_t *signature,
                              size_t len)
{
    const uint8_t *p = signature, *end = signature + len;
    int rc;

    if (len < 2 || len > REPORT_SIGNATURE_MAX_BYTES)
        return dala_error_set(DALA_EAUTH, VERIFY_WHAT ": bad encoding: %zu bytes (a P-256 "
                                          "signature in DER has 8 to %d)",
                              len, REPORT_SIGNATURE_MAX_BYTES);
    /* 72 bytes at most, so the sequence's length is always short-form. */
    if (p[0] != (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) || p[1] != len - 2)
        return dala_error_set(DALA_EAUTH, VERIFY_WHAT ": bad encoding: not one DER SEQUENCE "
                                          "of exactly %zu bytes",
                              len);
    p += 2;
    rc = read_der_integer(r, &p, end, "r");
    if (rc == DALA_OK) rc = read_der_integer(s, &p, end, "s");
    if (rc == DALA_OK && p != end)
        rc = dala_error_set(DALA_EAUTH, VERIFY_WHAT ": bad encoding: %td bytes after s",
                            end - p);
    return rc;
}

int report_verify(const uint8_t public_key[REPORT_PUBLIC_KEY_BYTES], const uint8_t *message,
                  size_t len, const uint8_t *signature, size_t signature_len)
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, s;
    uint8_t hash[HASH_BYTES];
    int rc, result;

    if (public_key == NULL || signature == NULL)
        return dala_error_set(DALA_EINVAL, VERIFY_WHAT ": the public key or the signature is "
                                           "NULL");
    if (message == NULL && len > 0)
        return dala_error_set(DALA_EINVAL, VERIFY_WHAT ": the message is NULL with a length "
                                           "of %zu",
                              len);
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);

    result = read_der_signature(&r, &s, signature, signature_len);
    if (result != DALA_OK) goto cleanup;
    rc = mbedtls_sha256_ret(message, len, hash, 0);
    if (rc == 0) rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1);
    if (rc != 0) {
        result = dala_error_mbedtls(rc, VERIFY_WHAT ": hash the note, load P-256");
        goto cleanup;
    }
    if (load_public_key(&q, &grp, public_key) != 0) {
        result = dala_error_set(DALA_EAUTH, VERIFY_WHAT ": the public key is not a P-256 point "
                                            "(65 bytes 04 || X || Y on the curve)");
        goto cleanup;
    }
    /* r and s out of 1..n-1 fail here too, as VERIFY_FAILED. */
    rc = mbedtls_ecdsa_verify(&grp, hash, sizeof hash, &q, &r, &s);
    if (rc == MBEDTLS_ERR_ECP_VERIFY_FAILED)
        result = dala_error_set(DALA_EAUTH, VERIFY_WHAT ": the signature does not match the "
                                            "note and the key");
    else if (rc != 0)
        result = dala_error_mbedtls(rc, VERIFY_WHAT ": ECDSA");

cleanup:
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
    return result;
}

void report_key_fingerprint(char out[REPORT_FINGERPRINT_BYTES],
                            const uint8_t public_key[REPORT_PUBLIC_KEY_BYTES])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t hash[HASH_BYTES];
    char *pos = out;

    if (out == NULL) return;
    out[0] = '\0';
    if (public_key == NULL || mbedtls_sha256_ret(public_key, REPORT_PUBLIC_KEY_BYTES, hash, 0) != 0)
        return;
    for (int i = 0; i < 8; i++) {
        if (i > 0 && i % 2 == 0) *pos++ = ' ';
        *pos++ = hex[hash[i] >> 4];
        *pos++ = hex[hash[i] & 15];
    }
    *pos = '\0';
}
