/* report_sign.h - the cryptography of the quarterly report notes' sign-off:
 * the deputy head who signs a department's note holds an ECDSA P-256 key
 * pair; the private key is kept wrapped under a key derived from their
 * password, and a signature is deterministic ECDSA (RFC 6979) over
 * SHA-256 of the note's bytes, in DER, so any tool (openssl dgst -verify)
 * can check it against the public key. What the bytes of a note are, and
 * where keys and signatures are stored, is the caller's business.
 *
 * Formats, fixed once stored:
 *   public key   65 bytes, the uncompressed point 04 || X || Y (SEC 1)
 *   private key  32 bytes, the scalar big-endian, 1 <= d < n
 *   wrapped key  60 bytes, nonce (12) || AES-256-GCM ciphertext (32) ||
 *                tag (16); the key is PBKDF2-HMAC-SHA256(password, salt,
 *                iterations) of 32 bytes; the additional data is the
 *                65-byte public key
 *   signature    DER ECDSA-Sig-Value, SEQUENCE { INTEGER r, INTEGER s },
 *                70 to 72 bytes as a rule (fewer when r or s is short)
 *
 * Every function is safe to call from several threads at once (each call
 * has its own mbedTLS contexts; randomness is dala_random's per-thread
 * generator). Secrets on the stack are wiped before returning; mbedTLS
 * wipes its own contexts as they are freed. */
#ifndef DALA_REPORT_SIGN_H
#define DALA_REPORT_SIGN_H

#include "dala_sync.h"

#include <stddef.h>
#include <stdint.h>

#define REPORT_PUBLIC_KEY_BYTES 65    /* uncompressed P-256 point 04||X||Y */
#define REPORT_PRIVATE_KEY_BYTES 32
#define REPORT_SALT_BYTES 16
#define REPORT_WRAPPED_KEY_BYTES 60   /* nonce 12 || ciphertext 32 || GCM tag 16 */
#define REPORT_SIGNATURE_MAX_BYTES 72 /* DER ECDSA-Sig-Value */
#define REPORT_FINGERPRINT_BYTES 20   /* "ab12 cd34 ef56 7890" and its NUL */

/**
 * Makes a new ECDSA P-256 key pair from dala_random's CSPRNG (a per-thread
 * CTR-DRBG seeded from the system's entropy).
 *
 * @param[out] public_key   65 bytes, 04 || X || Y.
 * @param[out] private_key  32 bytes; the caller wipes them after use.
 * @return DALA_OK, DALA_EINVAL (a NULL buffer) or DALA_ECRYPTO (no
 *         entropy, or mbedTLS failed). On failure both outputs are zeroed.
 */
int report_key_new(uint8_t public_key[REPORT_PUBLIC_KEY_BYTES],
                   uint8_t private_key[REPORT_PRIVATE_KEY_BYTES]);

/**
 * Wraps a private key for storage under a password: PBKDF2-HMAC-SHA256
 * (password, salt, iterations) gives a 32-byte AES key, and AES-256-GCM
 * with a fresh random 12-byte nonce encrypts the scalar, with the public
 * key as additional data, so the wrapped key cannot be moved to another
 * public key. Wrapping the same key twice gives different bytes (the
 * nonce). The pair is checked first: the private key must give the public
 * key, so a mismatched pair is never stored.
 *
 * @param[out] out      60 bytes, nonce || ciphertext || tag.
 * @param private_key   32 bytes, a valid P-256 scalar.
 * @param public_key    65 bytes, the pair's public key.
 * @param password      NUL-terminated, not empty; its bytes as they are (the
 *                      caller normalises Unicode if it wants to).
 * @param salt          16 bytes, random per key, stored beside it.
 * @param iterations    PBKDF2 iterations, at least 1 (production uses
 *                      hundreds of thousands; the time is the caller's).
 * @return DALA_OK, DALA_EINVAL (a NULL argument, an empty password,
 *         iterations 0, a private key out of range, a public key that is
 *         not a P-256 point, or a pair that does not match) or DALA_ECRYPTO.
 *         On failure `out` is zeroed.
 */
int report_key_wrap(uint8_t out[REPORT_WRAPPED_KEY_BYTES],
                    const uint8_t private_key[REPORT_PRIVATE_KEY_BYTES],
                    const uint8_t public_key[REPORT_PUBLIC_KEY_BYTES], const char *password,
                    const uint8_t salt[REPORT_SALT_BYTES], uint32_t iterations);

/**
 * Unwraps a key made by report_key_wrap() with the same password, salt,
 * iterations and public key, and checks that the scalar really gives
 * `public_key`.
 *
 * @param[out] private_key  32 bytes, written only on DALA_OK (zeroed on
 *                          any failure); the caller wipes them after use.
 * @return DALA_OK; DALA_EAUTH when the password is wrong, a byte of the
 *         wrapped key was changed, the wrapped key belongs to another public
 *         key (all three: the GCM tag does not verify), or when `public_key`
 *         is not a P-256 point or the scalar does not give it (the message
 *         says which); DALA_EINVAL for a NULL argument, an empty password or
 *         iterations 0; DALA_ECRYPTO when mbedTLS fails.
 */
int report_key_unwrap(uint8_t private_key[REPORT_PRIVATE_KEY_BYTES],
                      const uint8_t wrapped[REPORT_WRAPPED_KEY_BYTES],
                      const uint8_t public_key[REPORT_PUBLIC_KEY_BYTES], const char *password,
                      const uint8_t salt[REPORT_SALT_BYTES], uint32_t iterations);

/**
 * Signs SHA-256(message) with deterministic ECDSA (RFC 6979, HMAC-SHA256
 * nonces): the same key and message always give the same signature. The
 * blinding of the scalar multiplication draws from dala_random.
 *
 * @param[out] signature      the DER signature, at most 72 bytes.
 * @param[out] signature_len  its length; 0 on failure.
 * @param private_key         32 bytes, a valid P-256 scalar.
 * @param message             the bytes signed; may be NULL when `len` is 0.
 * @return DALA_OK, DALA_EINVAL (a NULL argument, or a private key that is 0
 *         or not below the group order) or DALA_ECRYPTO. On failure
 *         `signature` is zeroed.
 */
int report_sign(uint8_t signature[REPORT_SIGNATURE_MAX_BYTES], size_t *signature_len,
                const uint8_t private_key[REPORT_PRIVATE_KEY_BYTES], const uint8_t *message,
                size_t len);

/**
 * Checks a DER signature of SHA-256(message) under `public_key`. The DER
 * is read strictly: one SEQUENCE of two INTEGERs, short-form lengths, each
 * integer positive and minimally encoded, nothing after them; so a valid
 * signature has exactly one encoding. (ECDSA itself still accepts both s
 * and n - s; a caller that needs a unique signature per note must not use
 * the signature bytes as an identifier.)
 *
 * @param public_key     65 bytes from storage or the network; checked to be
 *                       a point of P-256.
 * @param message        may be NULL when `len` is 0.
 * @param signature      the DER bytes; `signature_len` of them are read.
 * @return DALA_OK when the signature is valid; DALA_EAUTH otherwise, with
 *         dala_errmsg() saying why: "bad encoding" (including an empty or
 *         over-long signature), "not a P-256 point" (the public key), or
 *         "signature does not match"; DALA_EINVAL for a NULL public key or
 *         signature, or a NULL message with a length; DALA_ECRYPTO when
 *         mbedTLS fails.
 */
int report_verify(const uint8_t public_key[REPORT_PUBLIC_KEY_BYTES], const uint8_t *message,
                  size_t len, const uint8_t *signature, size_t signature_len);

/**
 * The key's fingerprint for people to read aloud and compare: the first 16
 * hex digits (lower case) of SHA-256 of the 65 public key bytes, in groups
 * of four, "ab12 cd34 ef56 7890". The bytes are hashed as they are; nothing
 * checks that they are a point. 64 bits tell keys apart for people; they
 * do not stop a forger who can choose among billions of keys.
 *
 * @param[out] out  20 bytes: 19 characters and a NUL. The empty string when
 *                  `public_key` is NULL; nothing is written when `out` is.
 */
void report_key_fingerprint(char out[REPORT_FINGERPRINT_BYTES],
                            const uint8_t public_key[REPORT_PUBLIC_KEY_BYTES]);

#endif /* DALA_REPORT_SIGN_H */
