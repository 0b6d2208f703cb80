/* handshake.c - the Noise KK handshake that opens every sync (Noise
 * Protocol Framework rev 34: SymmetricState and CipherState as specified
 * there), with one Dala addition that authenticates the plaintext header.
 *
 * Protocol name: "Noise_KK_25519_AESGCM_SHA256" (suite 1) or
 * "Noise_KK_25519_ChaChaPoly_SHA256" (suite 2), picked by the suite byte of
 * the HELLO header; the REPLY must use the same suite. Both sides know each
 * other's static X25519 key from enrolment; the device is the initiator.
 *
 *   InitializeSymmetric(name): h = name zero-padded to 32 bytes, ck = h
 *   MixHash("Dala sync v1")                       prologue, 12 ASCII bytes
 *   MixHash(initiator static public)              pre-message  -> s
 *   MixHash(responder static public)              pre-message  <- s
 *   HELLO  (initiator -> responder)  -> e, es, ss
 *     MixHash(28-byte frame header)               Dala's addition
 *     e.pub (32 bytes), MixHash(e.pub)
 *     MixKey(DH(e, rs)); MixKey(DH(s, rs))
 *     EncryptAndHash(payload)
 *   REPLY  (responder -> initiator)  <- e, ee, se
 *     MixHash(28-byte frame header)
 *     e.pub (32 bytes), MixHash(e.pub)
 *     MixKey(DH(e, re)); MixKey(se: initiator DH(s, re), responder DH(e, rs))
 *     EncryptAndHash(payload)
 *   Split(): HKDF(ck, "") -> first 32 bytes initiator->responder key,
 *            last 32 bytes responder->initiator key
 *
 * MixHash(d): h = SHA-256(h || d). MixKey(ikm): out = HKDF-SHA256(salt =
 * ck, ikm, info = "", 64 bytes) (RFC 5869, identical to Noise's HKDF with
 * two outputs); ck = out[0..32], k = out[32..64], n = 0. EncryptAndHash(p):
 * c = AEAD(k, nonce(n), ad = h, p) with the 16-byte tag appended;
 * MixHash(c); n++. The payload is the frame's body, compressed first per
 * the header. A handshake frame's body is therefore e.pub(32) ||
 * ciphertext || tag(16), and the header is bound into every later tag
 * through h. The final h is the handshake hash, a channel binding.
 *
 * What KK gives, honestly: the HELLO payload is encrypted under es and ss
 * only, so it is confidential against outsiders and only the holder of the
 * initiator's static key could have written it, but it has no forward
 * secrecy against the responder's static key: whoever later steals the
 * server's key can read recorded HELLOs (and replay a HELLO to a server;
 * the sync layer's batch numbers make a replayed push a no-op). The REPLY
 * and every DATA frame depend on ee and se, so a thief of both static
 * keys still cannot read them without the ephemeral secrets, which live
 * only inside this struct and are wiped when it is freed.
 *
 * A handshake is single-use and walks its two steps in order: a write or
 * read out of turn fails with DALA_EINVAL, and any failed write or read
 * wipes every key and leaves it dead (DALA_EINVAL from then on). Once
 * finished it keeps only h and the two transport keys. */
#include "seal_int.h"

#include <inttypes.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_BYTES 32
#define PROLOGUE "Dala sync v1"
#define NAME_AESGCM "Noise_KK_25519_AESGCM_SHA256"
#define NAME_CHACHAPOLY "Noise_KK_25519_ChaChaPoly_SHA256"

/* Where a handshake stands; each side walks its two steps in order. */
typedef enum hs_state {
    HS_WRITE_HELLO, /* initiator, fresh */
    HS_READ_REPLY,  /* initiator, HELLO sent */
    HS_READ_HELLO,  /* responder, fresh */
    HS_WRITE_REPLY, /* responder, HELLO read */
    HS_DONE,        /* both messages passed: h and the transport keys are set */
    HS_DEAD         /* a step failed: every key is wiped, nothing more works */
} hs_state;

struct dala_handshake {
    int is_initiator;
    hs_state state;
    int suite;                    /* fixed by the HELLO header */
    dala_keypair s;               /* local static */
    dala_keypair e;               /* local ephemeral */
    uint8_t rs[DALA_KEY_BYTES];   /* remote static public */
    uint8_t re[DALA_KEY_BYTES];   /* remote ephemeral public */
    uint8_t ck[HASH_BYTES];       /* SymmetricState chaining key */
    uint8_t h[HASH_BYTES];        /* SymmetricState handshake hash */
    uint8_t k[DALA_KEY_BYTES];    /* CipherState key (always set before use in KK) */
    uint64_t n;                   /* CipherState nonce */
    uint8_t key_i2r[DALA_KEY_BYTES]; /* Split(), once done */
    int keys_taken;                  /* the keys moved to a session */
    uint8_t key_r2i[DALA_KEY_BYTES];
};

static const char *state_name(hs_state state)
{
    switch (state) {
    case HS_WRITE_HELLO: return "waiting to write its HELLO";
    case HS_READ_REPLY: return "waiting to read the REPLY";
    case HS_READ_HELLO: return "waiting to read the HELLO";
    case HS_WRITE_REPLY: return "waiting to write its REPLY";
    case HS_DONE: return "finished";
    default: return "dead after a failed step";
    }
}

/* Wipes every secret and marks the handshake unusable. */
static void handshake_kill(dala_handshake *hs)
{
    int is_initiator = hs->is_initiator;
    dala_wipe(hs, sizeof *hs);
    hs->is_initiator = is_initiator;
    hs->state = HS_DEAD;
}

/* ------------------------------------------------------- SymmetricState */

/* MixHash(data): h = SHA-256(h || data). */
static int mix_hash(dala_handshake *hs, const uint8_t *data, size_t len)
{
    mbedtls_sha256_context sha;
    int rc;

    mbedtls_sha256_init(&sha);
    rc = mbedtls_sha256_starts_ret(&sha, 0);
    if (rc == 0) rc = mbedtls_sha256_update_ret(&sha, hs->h, HASH_BYTES);
    if (rc == 0) rc = mbedtls_sha256_update_ret(&sha, data, len);
    if (rc == 0) rc = mbedtls_sha256_finish_ret(&sha, hs->h);
    mbedtls_sha256_free(&sha);
    return rc == 0 ? DALA_OK : dala_error_mbedtls(rc, "handshake: SHA-256");
}

/* Noise's HKDF with two outputs: HKDF-SHA256(salt = ck, ikm, info = "",
 * L = 64) split in halves. The outputs may alias `ck`. */
static int hkdf2(uint8_t out1[32], uint8_t out2[32], const uint8_t ck[HASH_BYTES],
                 const uint8_t *ikm, size_t ikm_len)
{
    uint8_t okm[64];
    int rc = mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), ck, HASH_BYTES, ikm,
                          ikm_len, (const unsigned char *)"", 0, okm, sizeof okm);

    if (rc == 0) {
        memcpy(out1, okm, 32);
        memcpy(out2, okm + 32, 32);
    }
    dala_wipe(okm, sizeof okm);
    return rc == 0 ? DALA_OK : dala_error_mbedtls(rc, "handshake: HKDF-SHA256");
}

/* MixKey(DH(secret, public)): ck, k = HKDF(ck, dh); n = 0. */
static int mix_dh(dala_handshake *hs, const uint8_t secret[DALA_KEY_BYTES],
                  const uint8_t public_key[DALA_KEY_BYTES], const char *what)
{
    uint8_t dh[DALA_KEY_BYTES];
    int rc = dala_x25519(dh, secret, public_key);

    if (rc != DALA_OK) return dala_error_prefix(rc, what);
    rc = hkdf2(hs->ck, hs->k, hs->ck, dh, sizeof dh);
    hs->n = 0;
    dala_wipe(dh, sizeof dh);
    return rc;
}

/* InitializeSymmetric(name) for `suite`, then the prologue and both
 * pre-messages (initiator's static key first). */
static int initialize(dala_handshake *hs, int suite, const char *what)
{
    const char *name = suite == DALA_SUITE_AES256GCM ? NAME_AESGCM : NAME_CHACHAPOLY;
    const uint8_t *initiator_static = hs->is_initiator ? hs->s.public_key : hs->rs;
    const uint8_t *responder_static = hs->is_initiator ? hs->rs : hs->s.public_key;
    int rc;

    if (suite != DALA_SUITE_AES256GCM && suite != DALA_SUITE_CHACHAPOLY)
        return dala_error_set(DALA_EINVAL, "%s: unknown suite %d", what, suite);
    hs->suite = suite;
    memset(hs->h, 0, HASH_BYTES);
    memcpy(hs->h, name, strlen(name)); /* both names fit in 32 bytes */
    memcpy(hs->ck, hs->h, HASH_BYTES);
    rc = mix_hash(hs, (const uint8_t *)PROLOGUE, strlen(PROLOGUE));
    if (rc == DALA_OK) rc = mix_hash(hs, initiator_static, DALA_KEY_BYTES);
    if (rc == DALA_OK) rc = mix_hash(hs, responder_static, DALA_KEY_BYTES);
    return rc;
}

/* EncryptAndHash(plain), appending ciphertext || tag to `frame`. */
static int encrypt_and_hash(dala_handshake *hs, dala_buf *frame, const uint8_t *plain,
                            size_t plain_len)
{
    size_t start = frame->len;
    int rc = dala_aead_seal(frame, hs->suite, hs->k, hs->n, hs->h, HASH_BYTES, plain, plain_len);

    if (rc == DALA_OK) rc = mix_hash(hs, frame->data + start, frame->len - start);
    hs->n++;
    return rc;
}

/* DecryptAndHash(sealed), appending the plaintext to `plain`. */
static int decrypt_and_hash(dala_handshake *hs, dala_buf *plain, const uint8_t *sealed,
                            size_t sealed_len, const char *what)
{
    int rc = dala_aead_open(plain, hs->suite, hs->k, hs->n, hs->h, HASH_BYTES, sealed,
                            sealed_len, what);

    if (rc == DALA_OK) rc = mix_hash(hs, sealed, sealed_len);
    hs->n++;
    return rc;
}

/* Split(): the two transport keys; then only h and those keys are kept. */
static int split(dala_handshake *hs)
{
    int rc = hkdf2(hs->key_i2r, hs->key_r2i, hs->ck, (const uint8_t *)"", 0);

    if (rc != DALA_OK) return rc;
    dala_wipe(hs->ck, sizeof hs->ck);
    dala_wipe(hs->k, sizeof hs->k);
    dala_keypair_wipe(&hs->s);
    dala_keypair_wipe(&hs->e);
    hs->state = HS_DONE;
    return DALA_OK;
}

/* ------------------------------------------------------------ messages */

/* The DH tokens of the message being written or read, in pattern order:
 * HELLO es, ss; REPLY ee, se. */
static int mix_message_dh(dala_handshake *hs, int frame_type, const char *what)
{
    int rc;

    if (frame_type == DALA_FRAME_HELLO && hs->is_initiator) {
        rc = mix_dh(hs, hs->e.secret, hs->rs, what);                 /* es */
        if (rc == DALA_OK) rc = mix_dh(hs, hs->s.secret, hs->rs, what); /* ss */
    } else if (frame_type == DALA_FRAME_HELLO) {
        rc = mix_dh(hs, hs->s.secret, hs->re, what);                 /* es */
        if (rc == DALA_OK) rc = mix_dh(hs, hs->s.secret, hs->rs, what); /* ss */
    } else if (hs->is_initiator) {
        rc = mix_dh(hs, hs->e.secret, hs->re, what);                 /* ee */
        if (rc == DALA_OK) rc = mix_dh(hs, hs->s.secret, hs->re, what); /* se */
    } else {
        rc = mix_dh(hs, hs->e.secret, hs->re, what);                 /* ee */
        if (rc == DALA_OK) rc = mix_dh(hs, hs->e.secret, hs->rs, what); /* se */
    }
    return rc;
}

int dala_handshake_new(dala_handshake **out, int is_initiator, const dala_keypair *local,
                       const uint8_t remote_public[DALA_KEY_BYTES],
                       const dala_keypair *ephemeral)
{
    dala_handshake *hs;
    int rc;

    if (out == NULL) return dala_error_set(DALA_EINVAL, "start handshake: out is NULL");
    *out = NULL;
    if (local == NULL || remote_public == NULL)
        return dala_error_set(DALA_EINVAL, "start handshake: local key or remote key is NULL");
    hs = dala_calloc(1, sizeof *hs);
    if (hs == NULL) return dala_error_set(DALA_ENOMEM, "start handshake: out of memory");
    hs->is_initiator = is_initiator != 0;
    hs->state = hs->is_initiator ? HS_WRITE_HELLO : HS_READ_HELLO;
    hs->s = *local;
    memcpy(hs->rs, remote_public, DALA_KEY_BYTES);
    if (ephemeral != NULL) {
        hs->e = *ephemeral;
    } else {
        rc = dala_keypair_generate(&hs->e);
        if (rc != DALA_OK) {
            dala_handshake_free(hs);
            return dala_error_prefix(rc, "start handshake: draw ephemeral key");
        }
    }
    *out = hs;
    return DALA_OK;
}

void dala_handshake_free(dala_handshake *hs)
{
    if (hs == NULL) return;
    dala_wipe(hs, sizeof *hs);
    free(hs);
}

/* The steps of a write after the state check; `plain` is scratch. */
static int write_message(dala_handshake *hs, dala_buf *frame, dala_buf *plain,
                         const dala_frame_header *header, const uint8_t *body, size_t body_len,
                         int frame_type, const char *what)
{
    uint8_t header_bytes[DALA_FRAME_HEADER_BYTES];
    int rc = DALA_OK;

    if (hs->is_initiator) rc = initialize(hs, header->suite, what);
    else if (header->suite != hs->suite)
        rc = dala_error_set(DALA_EINVAL, "%s: suite %u, but the HELLO used suite %d", what,
                            header->suite, hs->suite);
    if (rc == DALA_OK) rc = dala_body_compress(plain, header->compression, body, body_len, what);
    if (rc == DALA_OK)
        rc = dala_frame_begin(frame, header_bytes, header, frame_type,
                              DALA_KEY_BYTES + plain->len + DALA_TAG_BYTES, what);
    if (rc == DALA_OK) rc = mix_hash(hs, header_bytes, sizeof header_bytes);
    if (rc == DALA_OK) rc = dala_buf_append(frame, hs->e.public_key, DALA_KEY_BYTES);
    if (rc == DALA_OK) rc = mix_hash(hs, hs->e.public_key, DALA_KEY_BYTES);
    if (rc == DALA_OK) rc = mix_message_dh(hs, frame_type, what);
    if (rc == DALA_OK) rc = encrypt_and_hash(hs, frame, plain->data, plain->len);
    return rc;
}

int dala_handshake_write(dala_handshake *hs, dala_buf *frame, const dala_frame_header *header,
                         const uint8_t *body, size_t body_len)
{
    dala_buf plain = DALA_BUF_INIT;
    int frame_type, rc;
    char what[64];
    size_t start;

    if (hs == NULL || frame == NULL || header == NULL)
        return dala_error_set(DALA_EINVAL, "write handshake frame: NULL argument");
    frame_type = hs->is_initiator ? DALA_FRAME_HELLO : DALA_FRAME_REPLY;
    snprintf(what, sizeof what, "write %s", dala_frame_type_name(frame_type));
    if (hs->state != (hs->is_initiator ? HS_WRITE_HELLO : HS_WRITE_REPLY))
        return dala_error_set(DALA_EINVAL, "%s: out of order, the handshake is %s", what,
                              state_name(hs->state));
    start = frame->len;
    rc = write_message(hs, frame, &plain, header, body, body_len, frame_type, what);
    if (rc == DALA_OK) {
        if (hs->is_initiator) hs->state = HS_READ_REPLY;
        else rc = split(hs);
    }
    dala_buf_free(&plain);
    if (rc != DALA_OK) {
        dala_buf_truncate_wipe(frame, start);
        handshake_kill(hs);
    }
    return rc;
}

/* The steps of a read after the state check; `plain` is scratch. */
static int read_message(dala_handshake *hs, dala_buf *body, dala_frame_header *header,
                        const uint8_t *frame, size_t len, size_t max_body_bytes,
                        int frame_type)
{
    const size_t min_body = DALA_KEY_BYTES + DALA_TAG_BYTES;
    dala_buf plain = DALA_BUF_INIT;
    const uint8_t *sealed;
    size_t sealed_len;
    char what[80];
    int rc;

    snprintf(what, sizeof what, "open %s", dala_frame_type_name(frame_type));
    rc = dala_frame_expect(header, frame, len, frame_type, min_body, what);
    if (rc != DALA_OK) return rc;
    snprintf(what, sizeof what, "open %s from device %" PRIu64, dala_frame_type_name(frame_type),
             header->device_id);
    if (!hs->is_initiator) rc = initialize(hs, header->suite, what);
    else if (header->suite != hs->suite)
        rc = dala_error_set(DALA_EAUTH, "%s: sealed with suite %u, but the HELLO used suite %d",
                            what, header->suite, hs->suite);
    sealed = frame + DALA_FRAME_HEADER_BYTES + DALA_KEY_BYTES;
    sealed_len = header->body_len - DALA_KEY_BYTES;
    if (rc == DALA_OK)
        rc = dala_body_check_cap(header->compression, sealed_len - DALA_TAG_BYTES,
                                 max_body_bytes, what);
    if (rc == DALA_OK) rc = mix_hash(hs, frame, DALA_FRAME_HEADER_BYTES);
    if (rc == DALA_OK) {
        memcpy(hs->re, frame + DALA_FRAME_HEADER_BYTES, DALA_KEY_BYTES);
        rc = mix_hash(hs, hs->re, DALA_KEY_BYTES);
    }
    if (rc == DALA_OK) rc = mix_message_dh(hs, frame_type, what);
    if (rc == DALA_OK) rc = decrypt_and_hash(hs, &plain, sealed, sealed_len, what);
    if (rc == DALA_OK)
        rc = dala_body_finish(body, header->compression, plain.data, plain.len, max_body_bytes,
                              what);
    dala_buf_free(&plain);
    return rc;
}

int dala_handshake_read(dala_handshake *hs, dala_buf *body, dala_frame_header *header_out,
                        const uint8_t *frame, size_t len, size_t max_body_bytes)
{
    dala_frame_header header;
    int frame_type, rc;

    if (hs == NULL || body == NULL || (frame == NULL && len > 0))
        return dala_error_set(DALA_EINVAL, "open handshake frame: NULL argument");
    frame_type = hs->is_initiator ? DALA_FRAME_REPLY : DALA_FRAME_HELLO;
    if (hs->state != (hs->is_initiator ? HS_READ_REPLY : HS_READ_HELLO))
        return dala_error_set(DALA_EINVAL, "open %s: out of order, the handshake is %s",
                              dala_frame_type_name(frame_type), state_name(hs->state));
    rc = read_message(hs, body, &header, frame, len, max_body_bytes, frame_type);
    if (rc == DALA_OK) {
        if (hs->is_initiator) rc = split(hs);
        else hs->state = HS_WRITE_REPLY;
    }
    if (rc != DALA_OK) {
        handshake_kill(hs);
        return rc;
    }
    if (header_out != NULL) *header_out = header;
    return DALA_OK;
}

int dala_handshake_hash(uint8_t out[32], const dala_handshake *hs)
{
    if (out == NULL || hs == NULL)
        return dala_error_set(DALA_EINVAL, "handshake hash: NULL argument");
    if (hs->state != HS_DONE)
        return dala_error_set(DALA_EINVAL, "handshake hash: the handshake is %s, not finished",
                              state_name(hs->state));
    memcpy(out, hs->h, HASH_BYTES);
    return DALA_OK;
}

int dala_handshake_transport_keys(int *suite, uint8_t send[DALA_KEY_BYTES],
                                  uint8_t recv[DALA_KEY_BYTES], dala_handshake *hs)
{
    if (hs == NULL || hs->state != HS_DONE)
        return dala_error_set(DALA_EINVAL, "start session: the handshake is %s, not finished",
                              hs == NULL ? "NULL" : state_name(hs->state));
    if (hs->keys_taken)
        return dala_error_set(DALA_EINVAL, "start session: this handshake's keys already went to a "
                                           "session (a second one would repeat nonces)");
    *suite = hs->suite;
    memcpy(send, hs->is_initiator ? hs->key_i2r : hs->key_r2i, DALA_KEY_BYTES);
    memcpy(recv, hs->is_initiator ? hs->key_r2i : hs->key_i2r, DALA_KEY_BYTES);
    /* Moved, not copied: the handshake keeps only its hash. */
    dala_wipe(hs->key_i2r, sizeof hs->key_i2r);
    dala_wipe(hs->key_r2i, sizeof hs->key_r2i);
    hs->keys_taken = 1;
    return DALA_OK;
}
