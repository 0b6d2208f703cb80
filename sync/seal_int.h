/* seal_int.h - internals shared by the files that seal and open frames:
 * random.c (the DRBG as an mbedTLS callback), keys.c, frame.c (the header
 * and the "compress, then AEAD" body), handshake.c and session.c.
 *
 * Byte-level facts of the frame (docs/protocol.md is written from these):
 *
 *   offset size  field            (integers big-endian)
 *    0      4    magic            "DALA"
 *    4      1    protocol_version 1
 *    5      1    frame_type       1 HELLO, 2 REPLY, 3 DATA
 *    6      1    suite            1 AES-256-GCM, 2 ChaCha20-Poly1305
 *    7      1    compression      0 none, 1 raw deflate (RFC 1951, level 4)
 *    8      4    schema_version   u32
 *   12      8    device_id        u64
 *   20      4    key_epoch        u32
 *   24      4    body_len         u32, bytes after the header
 *   28      ...  body
 *
 * The AEAD nonce for counter n is 12 bytes: 4 zero bytes, then n as 8
 * bytes, big-endian for AES-256-GCM and little-endian for
 * ChaCha20-Poly1305 (the Noise spec's rule for each cipher). Tags are 16
 * bytes and follow the ciphertext. */
#ifndef DALA_SEAL_INT_H
#define DALA_SEAL_INT_H

#include "sync_int.h"

#define DALA_NONCE_BYTES 12
#define DALA_FRAME_MAGIC "DALA"

/* mbedTLS-style RNG callback over dala_random, for mbedtls_ecp_mul's
 * blinding: returns 0 or an mbedTLS error code. `unused` may be NULL. */
int dala_random_mbedtls(void *unused, unsigned char *out, size_t len);

/* "HELLO", "REPLY", "DATA", or "unknown" for other values: for messages. */
const char *dala_frame_type_name(int frame_type);

/* Writes the 12-byte nonce for counter `n` under `suite` (see above). */
void dala_nonce_build(uint8_t out[DALA_NONCE_BYTES], int suite, uint64_t n);

/* Serialises `header` into its 28 bytes, exactly as given. */
void dala_frame_header_store(uint8_t out[DALA_FRAME_HEADER_BYTES], const dala_frame_header *header);

/* Compresses `body` per `compression` (DALA_COMPRESS_NONE copies it),
 * appending to `out`. A body past DALA_MAX_BODY_BYTES is refused
 * (DALA_ELIMIT): no receiver would accept it. `what` names the attempt
 * for error messages. */
int dala_body_compress(dala_buf *out, int compression, const uint8_t *body, size_t len,
                       const char *what);

/* Starts a sealed frame: checks the caller's `header` (protocol version,
 * suite, compression; DALA_EINVAL when wrong), sets its type to
 * `frame_type` and body_len to `body_len`, refuses frames past
 * DALA_MAX_FRAME_BYTES (DALA_ELIMIT), and appends the 28 header bytes to
 * `frame`. The bytes written are copied to `header_bytes` as well. */
int dala_frame_begin(dala_buf *frame, uint8_t header_bytes[DALA_FRAME_HEADER_BYTES],
                     const dala_frame_header *header, int frame_type, size_t body_len,
                     const char *what);

/* Parses a received frame's header and checks that it is `frame_type` and
 * that its body holds at least `min_body_len` bytes (DALA_ECORRUPT). */
int dala_frame_expect(dala_frame_header *out, const uint8_t *frame, size_t len, int frame_type,
                      size_t min_body_len, const char *what);

/* Encrypts `plain` under `key` with the nonce of counter `n` and
 * associated data `ad`, appending ciphertext || 16-byte tag to `out`.
 * `plain` may be NULL when `plain_len` is 0. */
int dala_aead_seal(dala_buf *out, int suite, const uint8_t key[DALA_KEY_BYTES], uint64_t n,
                   const uint8_t *ad, size_t ad_len, const uint8_t *plain, size_t plain_len);

/* Verifies the tag of `sealed` (ciphertext || tag, `sealed_len` >= 16) in
 * constant time and only then appends the plaintext to `out`. DALA_EAUTH
 * when the tag does not verify, with `what` ("open HELLO from device 42")
 * in the message; `out` is left unchanged then. */
int dala_aead_open(dala_buf *out, int suite, const uint8_t key[DALA_KEY_BYTES], uint64_t n,
                   const uint8_t *ad, size_t ad_len, const uint8_t *sealed, size_t sealed_len,
                   const char *what);

/* Before opening: with compression none the plaintext is the ciphertext's
 * length, so a body past `max_body_bytes` is refused (DALA_ELIMIT) before
 * any decryption. Deflated bodies are capped while inflating instead.
 * Here and in dala_body_finish a cap above DALA_MAX_BODY_BYTES counts as
 * DALA_MAX_BODY_BYTES, the most any peer may send. */
int dala_body_check_cap(int compression, size_t plain_len, size_t max_body_bytes,
                        const char *what);

/* After the tag verified: appends the body that `plain` carries to `body`,
 * inflating it per `compression` with a cap of `max_body_bytes`
 * (DALA_ELIMIT past it, DALA_ECORRUPT for a bad stream). On failure `body`
 * is wiped back to its length on entry. */
int dala_body_finish(dala_buf *body, int compression, const uint8_t *plain, size_t plain_len,
                     size_t max_body_bytes, const char *what);

/* The transport keys of a finished handshake, from the local side's point
 * of view: `send` seals what this side sends, `recv` opens what it gets
 * (Noise Split: the first key is initiator->responder). DALA_EINVAL when
 * the handshake has not finished. */
int dala_handshake_transport_keys(int *suite, uint8_t send[DALA_KEY_BYTES],
                                  uint8_t recv[DALA_KEY_BYTES], dala_handshake *hs);

/* Cuts `buf` back to `len` bytes, wiping what was past it. */
void dala_buf_truncate_wipe(dala_buf *buf, size_t len);

/* Re-records the current error with `context` in front ("open HELLO from
 * device 42: <detail>") and returns `code`. */
int dala_error_prefix(int code, const char *context);

#endif /* DALA_SEAL_INT_H */
