/* key_file.c - "<path>-key": the store's data key, wrapped, and the count
 * of wrong PINs in a row.
 *
 *   offset size
 *    0      8    magic "DALAKEY1"
 *    8      1    kind: 1 PIN (PBKDF2-HMAC-SHA256), 2 the app's key provider
 *    9      1    wrong PINs allowed in a row before the store erases itself
 *   10      1    wrong PINs in a row so far
 *   11      1    0
 *   12      4    PBKDF2 iterations, big-endian (0 for a provider)
 *   16     16    PBKDF2 salt (zeros for a provider)
 *   32      2    wrapped length, big-endian
 *   34      n    wrapped key: for a PIN, nonce (12) || AES-256-GCM of the
 *                data key (32) || tag (16), with bytes 0-8 and 12-31 as
 *                associated data; for a provider, what its wrap gave.
 *
 * The file is replaced whole (write, sync, rename, sync the folder), so a
 * crash leaves the old or the new one. */
#include "sdk_int.h"
#include "key_file.h"
#include "store_files.h"

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAGIC "DALAKEY1"
#define HEADER_BYTES 34
#define PIN_WRAPPED_BYTES (12 + DALA_DATA_KEY_BYTES + 16)

static uint32_t pin_iterations = DALA_PIN_ITERATIONS;

void dala_pin_iterations_set(uint32_t iterations)
{
    pin_iterations = iterations ? iterations : DALA_PIN_ITERATIONS;
}

int dala_store_key_check(const dala_store_key *key)
{
    if (!key) return dala_error_set(DALA_EINVAL, "store key: none given");
    if (key->version != DALA_STORE_KEY_VERSION)
        return dala_error_set(DALA_EINVAL, "store key: version %d, this build knows %d", key->version,
                              DALA_STORE_KEY_VERSION);
    if (!key->pin == !key->provider)
        return dala_error_set(DALA_EINVAL, "store key: give either a PIN or a key provider");
    if (key->pin && (strlen(key->pin) < 4 || strlen(key->pin) > 1024))
        return dala_error_set(DALA_EINVAL, "store key: a PIN has 4 to 1024 characters");
    if (key->provider && (key->provider->version != DALA_KEY_PROVIDER_VERSION || !key->provider->wrap ||
                          !key->provider->unwrap))
        return dala_error_set(DALA_EINVAL, "store key: the key provider is incomplete or of another version");
    if (key->max_wrong_pins < 0 || key->max_wrong_pins > 100)
        return dala_error_set(DALA_EINVAL, "store key: wrong PINs allowed must be 1 to 100 (0: %d)",
                              DALA_DEFAULT_MAX_WRONG_PINS);
    return DALA_OK;
}

/* The bytes that bind a PIN's wrapping: magic, kind, iterations, salt. */
static void pin_binding(uint8_t ad[29], const dala_key_file *file)
{
    uint8_t header[HEADER_BYTES];
    dala_key_file_header(header, file);
    memcpy(ad, header, 9);
    memcpy(ad + 9, header + 12, 20);
}

static int pin_kek(uint8_t kek[32], const char *pin, const dala_key_file *file)
{
    mbedtls_md_context_t md;
    mbedtls_md_init(&md);
    int rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (!rc)
        rc = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)pin, strlen(pin), file->salt, sizeof file->salt,
                                       file->iterations, 32, kek);
    mbedtls_md_free(&md);
    return rc ? dala_error_mbedtls(rc, "derive the key from the PIN") : DALA_OK;
}

void dala_key_file_header(uint8_t out[34], const dala_key_file *file)
{
    memcpy(out, MAGIC, 8);
    out[8] = (uint8_t)file->kind;
    out[9] = (uint8_t)file->max_wrong_pins;
    out[10] = (uint8_t)file->wrong_pins;
    out[11] = 0;
    out[12] = (uint8_t)(file->iterations >> 24), out[13] = (uint8_t)(file->iterations >> 16);
    out[14] = (uint8_t)(file->iterations >> 8), out[15] = (uint8_t)file->iterations;
    memcpy(out + 16, file->salt, 16);
    out[32] = (uint8_t)(file->wrapped_len >> 8), out[33] = (uint8_t)file->wrapped_len;
}

int dala_key_file_wrap(dala_key_file *out, const dala_store_key *key, const uint8_t data_key[DALA_DATA_KEY_BYTES])
{
    memset(out, 0, sizeof *out);
    out->max_wrong_pins = key->max_wrong_pins ? key->max_wrong_pins : DALA_DEFAULT_MAX_WRONG_PINS;
    if (key->provider) {
        out->kind = DALA_KEY_KIND_PROVIDER;
        size_t len = sizeof out->wrapped;
        int rc = key->provider->wrap(key->provider->context, data_key, out->wrapped, &len);
        if (rc) return dala_error_set(rc < 0 ? rc : DALA_EAUTH, "the app's key provider could not wrap the store's key");
        if (len == 0 || len > sizeof out->wrapped)
            return dala_error_set(DALA_ELIMIT, "the key provider wrapped the key into %zu bytes (1 to %d)", len,
                                  DALA_MAX_WRAPPED_KEY_BYTES);
        out->wrapped_len = len;
        return DALA_OK;
    }
    out->kind = DALA_KEY_KIND_PIN;
    out->iterations = pin_iterations;
    uint8_t kek[32], ad[29];
    int rc = dala_random(out->salt, sizeof out->salt);
    if (!rc) rc = dala_random(out->wrapped, 12);
    if (!rc) rc = pin_kek(kek, key->pin, out);
    if (!rc) {
        out->wrapped_len = PIN_WRAPPED_BYTES;
        pin_binding(ad, out);
        mbedtls_gcm_context gcm;
        mbedtls_gcm_init(&gcm);
        int m = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, kek, 256);
        if (!m)
            m = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, DALA_DATA_KEY_BYTES, out->wrapped, 12, ad,
                                          sizeof ad, data_key, out->wrapped + 12, 16,
                                          out->wrapped + 12 + DALA_DATA_KEY_BYTES);
        mbedtls_gcm_free(&gcm);
        if (m) rc = dala_error_mbedtls(m, "wrap the store's key");
    }
    dala_wipe(kek, sizeof kek);
    return rc;
}

int dala_key_file_unwrap(uint8_t data_key[DALA_DATA_KEY_BYTES], const dala_key_file *file, const dala_store_key *key)
{
    if (file->kind == DALA_KEY_KIND_PROVIDER) {
        if (!key->provider)
            return dala_error_set(DALA_EAUTH, "this store is locked by the app's key provider, not a PIN");
        int rc = key->provider->unwrap(key->provider->context, file->wrapped, file->wrapped_len, data_key);
        if (rc) {
            dala_wipe(data_key, DALA_DATA_KEY_BYTES);
            return dala_error_set(DALA_EAUTH, "the app's key provider could not unwrap the store's key");
        }
        return DALA_OK;
    }
    if (!key->pin) return dala_error_set(DALA_EAUTH, "this store is locked by a PIN, not a key provider");
    if (file->wrapped_len != PIN_WRAPPED_BYTES)
        return dala_error_set(DALA_ECORRUPT, "the store's key file holds a wrapped key of %zu bytes", file->wrapped_len);
    uint8_t kek[32], ad[29];
    int rc = pin_kek(kek, key->pin, file);
    if (!rc) {
        pin_binding(ad, file);
        mbedtls_gcm_context gcm;
        mbedtls_gcm_init(&gcm);
        int m = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, kek, 256);
        if (!m)
            m = mbedtls_gcm_auth_decrypt(&gcm, DALA_DATA_KEY_BYTES, file->wrapped, 12, ad, sizeof ad,
                                         file->wrapped + 12 + DALA_DATA_KEY_BYTES, 16, file->wrapped + 12, data_key);
        mbedtls_gcm_free(&gcm);
        if (m == MBEDTLS_ERR_GCM_AUTH_FAILED) rc = dala_error_set(DALA_EAUTH, "wrong PIN");
        else if (m) rc = dala_error_mbedtls(m, "unwrap the store's key");
    }
    dala_wipe(kek, sizeof kek);
    if (rc) dala_wipe(data_key, DALA_DATA_KEY_BYTES);
    return rc;
}

int dala_key_file_read(dala_key_file *out, const char *path)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return DALA_ENOTFOUND;
        return dala_error_set(DALA_EIO, "read %s: %s", path, strerror(errno));
    }
    uint8_t bytes[HEADER_BYTES + DALA_MAX_WRAPPED_KEY_BYTES + 1];
    ssize_t n = read(fd, bytes, sizeof bytes);
    close(fd);
    if (n < 0) return dala_error_set(DALA_EIO, "read %s: %s", path, strerror(errno));
    if (n < HEADER_BYTES || memcmp(bytes, MAGIC, 8) != 0)
        return dala_error_set(DALA_ECORRUPT, "%s is not a Dala store key file", path);
    out->kind = bytes[8];
    out->max_wrong_pins = bytes[9];
    out->wrong_pins = bytes[10];
    out->iterations = (uint32_t)bytes[12] << 24 | (uint32_t)bytes[13] << 16 | (uint32_t)bytes[14] << 8 | bytes[15];
    memcpy(out->salt, bytes + 16, 16);
    out->wrapped_len = (size_t)bytes[32] << 8 | bytes[33];
    if ((out->kind != DALA_KEY_KIND_PIN && out->kind != DALA_KEY_KIND_PROVIDER) || out->max_wrong_pins < 1 ||
        out->max_wrong_pins > 100 || out->wrapped_len == 0 || out->wrapped_len > DALA_MAX_WRAPPED_KEY_BYTES ||
        (size_t)n != HEADER_BYTES + out->wrapped_len ||
        (out->kind == DALA_KEY_KIND_PIN && (out->iterations < 1000 || out->iterations > 100000000)))
        return dala_error_set(DALA_ECORRUPT, "the store key file %s is damaged", path);
    memcpy(out->wrapped, bytes + HEADER_BYTES, out->wrapped_len);
    return DALA_OK;
}

int dala_key_file_write(const char *path, const dala_key_file *file)
{
    uint8_t bytes[HEADER_BYTES + DALA_MAX_WRAPPED_KEY_BYTES];
    dala_key_file_header(bytes, file);
    memcpy(bytes + HEADER_BYTES, file->wrapped, file->wrapped_len);
    return dala_file_replace(path, bytes, HEADER_BYTES + file->wrapped_len);
}
