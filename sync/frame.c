/* frame.c - the frame's 28-byte plaintext header (layout in seal_int.h) and
 * the two halves of a sealed body that the handshake and the session share:
 * "compress, then AEAD" on the way out, and "verify the tag, then inflate
 * with a cap" on the way in. Nothing here decides keys or nonces; the
 * callers do (handshake.c for the Noise messages, session.c for DATA).
 *
 * Order matters on the way in: a body is decrypted only once its tag has
 * verified (mbedTLS's auth_decrypt functions compare tags in constant
 * time), and inflated only after that, with dala_inflate's cap, so
 * neither an attacker's bytes nor a peer's bomb decides how much memory
 * or time is spent. */
#include "seal_int.h"

#include <mbedtls/chachapoly.h>
#include <mbedtls/gcm.h>
#include <stdio.h>
#include <string.h>

const char *dala_frame_type_name(int frame_type)
{
    switch (frame_type) {
    case DALA_FRAME_HELLO: return "HELLO";
    case DALA_FRAME_REPLY: return "REPLY";
    case DALA_FRAME_DATA: return "DATA";
    default: return "unknown";
    }
}

static int suite_is_known(int suite)
{
    return suite == DALA_SUITE_AES256GCM || suite == DALA_SUITE_CHACHAPOLY;
}

static int compression_is_known(int compression)
{
    return compression == DALA_COMPRESS_NONE || compression == DALA_COMPRESS_DEFLATE;
}

void dala_nonce_build(uint8_t out[DALA_NONCE_BYTES], int suite, uint64_t n)
{
    memset(out, 0, DALA_NONCE_BYTES);
    if (suite == DALA_SUITE_AES256GCM) {
        dala_store_u64be(out + 4, n);
        return;
    }
    for (int i = 0; i < 8; i++) out[4 + i] = (uint8_t)(n >> (8 * i));
}

void dala_frame_header_store(uint8_t out[DALA_FRAME_HEADER_BYTES], const dala_frame_header *header)
{
    memcpy(out, DALA_FRAME_MAGIC, 4);
    out[4] = header->protocol_version;
    out[5] = header->frame_type;
    out[6] = header->suite;
    out[7] = header->compression;
    dala_store_u32be(out + 8, header->schema_version);
    dala_store_u64be(out + 12, header->device_id);
    dala_store_u32be(out + 20, header->key_epoch);
    dala_store_u32be(out + 24, header->body_len);
}

int dala_frame_header_parse(dala_frame_header *out, const uint8_t *frame, size_t len)
{
    dala_frame_header h;

    if (frame == NULL || len < DALA_FRAME_HEADER_BYTES)
        return dala_error_set(DALA_ECORRUPT, "parse frame header: frame of %zu bytes is shorter "
                                             "than the %d-byte header", len, DALA_FRAME_HEADER_BYTES);
    if (memcmp(frame, DALA_FRAME_MAGIC, 4) != 0)
        return dala_error_set(DALA_ECORRUPT, "parse frame header: bad magic (not a Dala frame)");
    h.protocol_version = frame[4];
    h.frame_type = frame[5];
    h.suite = frame[6];
    h.compression = frame[7];
    h.schema_version = dala_load_u32be(frame + 8);
    h.device_id = dala_load_u64be(frame + 12);
    h.key_epoch = dala_load_u32be(frame + 20);
    h.body_len = dala_load_u32be(frame + 24);
    if (h.protocol_version != DALA_PROTOCOL_VERSION)
        return dala_error_set(DALA_ESCHEMA, "parse frame header: protocol version %u, this "
                              "library speaks version %d", h.protocol_version, DALA_PROTOCOL_VERSION);
    if (h.frame_type < DALA_FRAME_HELLO || h.frame_type > DALA_FRAME_DATA)
        return dala_error_set(DALA_ECORRUPT, "parse frame header: unknown frame type %u",
                              h.frame_type);
    if (!suite_is_known(h.suite))
        return dala_error_set(DALA_ESCHEMA, "parse frame header: unknown suite %u", h.suite);
    if (!compression_is_known(h.compression))
        return dala_error_set(DALA_ESCHEMA, "parse frame header: unknown compression %u",
                              h.compression);
    if (len > DALA_MAX_FRAME_BYTES)
        return dala_error_set(DALA_ELIMIT, "parse frame header: frame of %zu bytes is over the "
                              "limit of %zu", len, DALA_MAX_FRAME_BYTES);
    if ((size_t)h.body_len != len - DALA_FRAME_HEADER_BYTES)
        return dala_error_set(DALA_ECORRUPT, "parse frame header: header says %u body bytes, "
                              "frame has %zu", h.body_len, len - DALA_FRAME_HEADER_BYTES);
    *out = h;
    return DALA_OK;
}

int dala_frame_expect(dala_frame_header *out, const uint8_t *frame, size_t len, int frame_type,
                      size_t min_body_len, const char *what)
{
    int rc = dala_frame_header_parse(out, frame, len);

    if (rc != DALA_OK) return dala_error_prefix(rc, what);
    if (out->frame_type != frame_type)
        return dala_error_set(DALA_ECORRUPT, "%s: expected a %s frame, got %s", what,
                              dala_frame_type_name(frame_type),
                              dala_frame_type_name(out->frame_type));
    if (out->body_len < min_body_len)
        return dala_error_set(DALA_ECORRUPT, "%s: body of %u bytes is shorter than the %zu "
                              "bytes of keys, counters and tag it must hold", what,
                              out->body_len, min_body_len);
    return DALA_OK;
}

int dala_frame_begin(dala_buf *frame, uint8_t header_bytes[DALA_FRAME_HEADER_BYTES],
                     const dala_frame_header *header, int frame_type, size_t body_len,
                     const char *what)
{
    dala_frame_header h = *header;

    if (h.protocol_version != DALA_PROTOCOL_VERSION)
        return dala_error_set(DALA_EINVAL, "%s: header has protocol version %u, this library "
                              "speaks version %d", what, h.protocol_version, DALA_PROTOCOL_VERSION);
    if (!suite_is_known(h.suite))
        return dala_error_set(DALA_EINVAL, "%s: unknown suite %u", what, h.suite);
    if (!compression_is_known(h.compression))
        return dala_error_set(DALA_EINVAL, "%s: unknown compression %u", what, h.compression);
    if (body_len > DALA_MAX_FRAME_BYTES - DALA_FRAME_HEADER_BYTES)
        return dala_error_set(DALA_ELIMIT, "%s: sealed frame of %zu bytes would pass the limit "
                              "of %zu", what, body_len + DALA_FRAME_HEADER_BYTES,
                              DALA_MAX_FRAME_BYTES);
    h.frame_type = (uint8_t)frame_type;
    h.body_len = (uint32_t)body_len;
    dala_frame_header_store(header_bytes, &h);
    return dala_buf_append(frame, header_bytes, DALA_FRAME_HEADER_BYTES);
}

/* The caller's cap, held to the library's ceiling (so SIZE_MAX means
 * "as much as any peer may send", never unbounded). */
static size_t effective_cap(size_t max_body_bytes)
{
    return max_body_bytes < DALA_MAX_BODY_BYTES ? max_body_bytes : DALA_MAX_BODY_BYTES;
}

int dala_body_compress(dala_buf *out, int compression, const uint8_t *body, size_t len,
                       const char *what)
{
    int rc;

    if (body == NULL && len > 0) return dala_error_set(DALA_EINVAL, "%s: body is NULL", what);
    if (len > DALA_MAX_BODY_BYTES)
        return dala_error_set(DALA_ELIMIT, "%s: body of %zu bytes is over the limit of %zu that "
                              "a receiver accepts", what, len, DALA_MAX_BODY_BYTES);
    if (len == 0) body = (const uint8_t *)"";
    if (compression == DALA_COMPRESS_DEFLATE) rc = dala_deflate(out, body, len, -1);
    else rc = len > 0 ? dala_buf_append(out, body, len) : DALA_OK;
    return rc == DALA_OK ? DALA_OK : dala_error_prefix(rc, what);
}

/* One AEAD operation with a context made for it and freed (zeroized) after. */
static int aead_crypt(int suite, int encrypt, const uint8_t key[DALA_KEY_BYTES], uint64_t n,
                      const uint8_t *ad, size_t ad_len, const uint8_t *in, size_t len,
                      uint8_t *out, uint8_t *tag_out, const uint8_t *tag_in)
{
    uint8_t nonce[DALA_NONCE_BYTES];
    int rc;

    dala_nonce_build(nonce, suite, n);
    if (suite == DALA_SUITE_AES256GCM) {
        mbedtls_gcm_context gcm;
        mbedtls_gcm_init(&gcm);
        rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256);
        if (rc == 0 && encrypt)
            rc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len, nonce, sizeof nonce,
                                           ad, ad_len, in, out, DALA_TAG_BYTES, tag_out);
        else if (rc == 0)
            rc = mbedtls_gcm_auth_decrypt(&gcm, len, nonce, sizeof nonce, ad, ad_len, tag_in,
                                          DALA_TAG_BYTES, in, out);
        mbedtls_gcm_free(&gcm);
    } else {
        mbedtls_chachapoly_context chachapoly;
        mbedtls_chachapoly_init(&chachapoly);
        rc = mbedtls_chachapoly_setkey(&chachapoly, key);
        if (rc == 0 && encrypt)
            rc = mbedtls_chachapoly_encrypt_and_tag(&chachapoly, len, nonce, ad, ad_len, in, out,
                                                    tag_out);
        else if (rc == 0)
            rc = mbedtls_chachapoly_auth_decrypt(&chachapoly, len, nonce, ad, ad_len, tag_in, in,
                                                 out);
        mbedtls_chachapoly_free(&chachapoly);
    }
    return rc;
}

int dala_aead_seal(dala_buf *out, int suite, const uint8_t key[DALA_KEY_BYTES], uint64_t n,
                   const uint8_t *ad, size_t ad_len, const uint8_t *plain, size_t plain_len)
{
    uint8_t *dest;
    int rc = dala_buf_reserve(out, plain_len + DALA_TAG_BYTES);

    if (rc != DALA_OK) return rc;
    dest = out->data + out->len;
    rc = aead_crypt(suite, 1, key, n, ad, ad_len, plain, plain_len, dest, dest + plain_len, NULL);
    if (rc != 0) {
        dala_wipe(dest, plain_len + DALA_TAG_BYTES);
        return dala_error_mbedtls(rc, "AEAD encrypt");
    }
    out->len += plain_len + DALA_TAG_BYTES;
    return DALA_OK;
}

int dala_aead_open(dala_buf *out, int suite, const uint8_t key[DALA_KEY_BYTES], uint64_t n,
                   const uint8_t *ad, size_t ad_len, const uint8_t *sealed, size_t sealed_len,
                   const char *what)
{
    size_t plain_len;
    uint8_t *dest;
    int rc;

    if (sealed_len < DALA_TAG_BYTES)
        return dala_error_set(DALA_ECORRUPT, "%s: %zu sealed bytes cannot hold a tag", what,
                              sealed_len);
    plain_len = sealed_len - DALA_TAG_BYTES;
    rc = dala_buf_reserve(out, plain_len);
    if (rc != DALA_OK) return dala_error_prefix(rc, what);
    dest = out->data != NULL ? out->data + out->len : NULL;
    rc = aead_crypt(suite, 0, key, n, ad, ad_len, sealed, plain_len, dest, NULL,
                    sealed + plain_len);
    if (rc != 0) {
        if (dest != NULL) dala_wipe(dest, plain_len);
        if (rc == MBEDTLS_ERR_GCM_AUTH_FAILED || rc == MBEDTLS_ERR_CHACHAPOLY_AUTH_FAILED)
            return dala_error_set(DALA_EAUTH, "%s: authentication tag does not verify (wrong "
                                  "key, tampered frame, or frame of another session)", what);
        return dala_error_prefix(dala_error_mbedtls(rc, "AEAD decrypt"), what);
    }
    out->len += plain_len;
    return DALA_OK;
}

int dala_body_check_cap(int compression, size_t plain_len, size_t max_body_bytes,
                        const char *what)
{
    if (compression == DALA_COMPRESS_NONE && plain_len > effective_cap(max_body_bytes))
        return dala_error_set(DALA_ELIMIT, "%s: body of %zu bytes is over the cap of %zu",
                              what, plain_len, effective_cap(max_body_bytes));
    return DALA_OK;
}

int dala_body_finish(dala_buf *body, int compression, const uint8_t *plain, size_t plain_len,
                     size_t max_body_bytes, const char *what)
{
    size_t start = body->len;
    int rc;

    if (compression == DALA_COMPRESS_DEFLATE) {
        rc = dala_inflate(body, plain_len ? plain : (const uint8_t *)"", plain_len,
                          effective_cap(max_body_bytes));
    } else {
        rc = dala_body_check_cap(compression, plain_len, max_body_bytes, what);
        if (rc != DALA_OK) return rc;
        rc = plain_len > 0 ? dala_buf_append(body, plain, plain_len) : DALA_OK;
    }
    if (rc != DALA_OK) {
        dala_buf_truncate_wipe(body, start);
        return dala_error_prefix(rc, what);
    }
    return DALA_OK;
}

void dala_buf_truncate_wipe(dala_buf *buf, size_t len)
{
    if (buf->len > len) {
        dala_wipe(buf->data + len, buf->len - len);
        buf->len = len;
    }
}

int dala_error_prefix(int code, const char *context)
{
    char detail[400];

    snprintf(detail, sizeof detail, "%s", dala_errmsg());
    return dala_error_set(code, "%s: %s", context, detail);
}
