/* key_file.c - the server's key file ("<db>.keys" unless --key-file says
 * otherwise): its X25519 secrets, one line per key epoch, as text, or the
 * same text sealed with AES-256-GCM under a wrapping key (64 hex digits
 * from --key-wrap-file or DALA_SERVER_KEY_WRAP). Reading is strict and
 * bounded; writing replaces the file atomically (files.c). Every buffer
 * that held a secret is wiped before it is freed.
 *
 * Plain:                                   Wrapped:
 *   dala-server-keys 1                       dala-server-keys-wrapped 1
 *   # comments                               <hex: nonce 12 | sealed text | tag 16>
 *   key 2 created T destroy-after 0 secret HEX64
 *   key 1 created T destroy-after T secret HEX64
 *   destroyed 0 created T at T
 *
 * The wrapped form's header line is the AEAD's additional data. */
#include "server_int.h"
#include "sync_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mbedtls/gcm.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLAIN_HEADER "dala-server-keys 1"
#define WRAPPED_HEADER "dala-server-keys-wrapped 1"
#define MAX_KEY_FILE_BYTES (64 * 1024)
#define NONCE_BYTES 12
#define TAG_BYTES 16

static int hex_append(dala_buf *out, const uint8_t *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    int rc = DALA_OK;
    for (size_t i = 0; !rc && i < len; i++) {
        char pair[2] = {digits[data[i] >> 4], digits[data[i] & 15]};
        rc = dala_buf_append(out, pair, 2);
    }
    return rc;
}

void server_key_fingerprint(char out[SERVER_FINGERPRINT_BYTES], const uint8_t public_key[DALA_KEY_BYTES])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t hash[32];
    char *pos = out;
    out[0] = '\0';
    if (mbedtls_sha256_ret(public_key, DALA_KEY_BYTES, hash, 0) != 0) return;
    for (int i = 0; i < 8; i++) {
        if (i > 0 && i % 2 == 0) *pos++ = ' ';
        *pos++ = digits[hash[i] >> 4];
        *pos++ = digits[hash[i] & 15];
    }
    *pos = '\0';
}

void server_key_config_wipe(server_key_config *config)
{
    dala_wipe(config->wrap_key, sizeof config->wrap_key);
    config->has_wrap_key = 0;
}

/* The wrapping key from 64 hex digits, spaces and newlines around them
 * allowed. */
static int wrap_key_parse(server_key_config *config, const char *text, const char *from)
{
    char digits[2 * SERVER_WRAP_KEY_BYTES + 1];
    size_t n = 0;
    int rc = DALA_OK;
    for (const char *p = text; *p && !rc; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') continue;
        if (n == sizeof digits - 1) rc = DALA_EINVAL;
        else digits[n++] = *p;
    }
    digits[n] = '\0';
    if (rc || n != sizeof digits - 1 || dala_hex_decode(config->wrap_key, SERVER_WRAP_KEY_BYTES, digits))
        rc = dala_error_set(DALA_EINVAL, "the key wrapping key in %s is not 64 hex digits", from);
    else config->has_wrap_key = 1;
    dala_wipe(digits, sizeof digits);
    return rc;
}

int server_key_config_init(server_key_config *out, const char *db_path, const char *key_file,
                           const char *key_wrap_file)
{
    memset(out, 0, sizeof *out);
    int n = key_file ? snprintf(out->path, sizeof out->path, "%s", key_file)
                     : snprintf(out->path, sizeof out->path, "%s.keys", db_path);
    if (n < 0 || (size_t)n >= sizeof out->path)
        return dala_error_set(DALA_EINVAL, "the key file's path is too long");
    if (key_wrap_file) {
        char text[256];
        int fd = open(key_wrap_file, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0) return dala_error_set(DALA_EIO, "open key wrapping file %s: %s", key_wrap_file, strerror(errno));
        if (fstat(fd, &st) != 0 || (st.st_mode & 077)) {
            close(fd);
            return dala_error_set(DALA_EAUTH, "the key wrapping file %s is readable or writable by others: "
                                              "make it 0600 (or 0400) first", key_wrap_file);
        }
        ssize_t len = read(fd, text, sizeof text - 1);
        close(fd);
        if (len < 0) return dala_error_set(DALA_EIO, "read %s: %s", key_wrap_file, strerror(errno));
        text[len] = '\0';
        int rc = wrap_key_parse(out, text, key_wrap_file);
        dala_wipe(text, sizeof text);
        return rc;
    }
    const char *env = getenv(SERVER_KEY_WRAP_ENV);
    return env && *env ? wrap_key_parse(out, env, "the environment variable " SERVER_KEY_WRAP_ENV) : DALA_OK;
}

/* --- plain text ---------------------------------------------------------- */

/* Parses one line into `ring`; -1 when it is not a key line. */
static int parse_line(server_keyring *ring, const char *line)
{
    server_key key;
    char hex[2 * DALA_KEY_BYTES + 2];
    uint8_t secret[DALA_KEY_BYTES];
    long long created = -1, when = -1;
    unsigned epoch = 0;
    int end = 0, bad = 0;
    memset(&key, 0, sizeof key);
    if (sscanf(line, "key %u created %lld destroy-after %lld secret %65s%n", &epoch, &created, &when, hex, &end) == 4 &&
        line[end] == '\0') {
        bad = dala_hex_decode(secret, DALA_KEY_BYTES, hex) || dala_keypair_from_secret(&key.pair, secret);
        key.destroy_after = when;
    } else if (sscanf(line, "destroyed %u created %lld at %lld%n", &epoch, &created, &when, &end) == 3 &&
               line[end] == '\0') {
        key.destroyed_at = when > 0 ? when : 1;
    } else {
        bad = 1;
    }
    dala_wipe(secret, sizeof secret);
    dala_wipe(hex, sizeof hex);
    if (bad || epoch == 0 || created < 0 || when < 0 || ring->count == SERVER_MAX_KEYS ||
        (ring->count && ring->keys[ring->count - 1].epoch <= epoch)) {
        dala_keypair_wipe(&key.pair);
        return -1;
    }
    key.epoch = epoch;
    key.created_at = created;
    ring->keys[ring->count++] = key;
    dala_wipe(&key, sizeof key);
    return 0;
}

/* Parses the plain text (newest epoch first) into `ring`, oldest first. */
static int parse_plain(server_keyring *ring, char *text, const char *path)
{
    memset(ring, 0, sizeof *ring);
    int line_no = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        line_no++;
        if (line_no == 1 ? strcmp(line, PLAIN_HEADER) != 0 : *line != '#' && *line && parse_line(ring, line)) {
            server_keyring_wipe(ring);
            return dala_error_set(DALA_ECORRUPT, "read key file %s: line %d is not what dala-server writes "
                                                 "(epochs newest first)", path, line_no);
        }
    }
    /* Parsed newest first; kept oldest first. */
    for (size_t i = 0; i < ring->count / 2; i++) {
        server_key swap = ring->keys[i];
        ring->keys[i] = ring->keys[ring->count - 1 - i];
        ring->keys[ring->count - 1 - i] = swap;
        dala_wipe(&swap, sizeof swap);
    }
    if (!server_keyring_current(ring)) {
        server_keyring_wipe(ring);
        return dala_error_set(DALA_ECORRUPT, "read key file %s: it holds no key", path);
    }
    return DALA_OK;
}

static int format_plain(dala_buf *out, const server_keyring *ring)
{
    char line[160];
    int rc = dala_buf_append(out, PLAIN_HEADER "\n", strlen(PLAIN_HEADER) + 1);
    static const char note[] = "# dala-server's X25519 secrets, one line per key epoch, newest first\n"
                               "# (docs/protocol.md, \"Server keys and rotation\"). Keep this file 0600 and\n"
                               "# apart from copies of the database. Written by dala-server: do not edit.\n";
    if (!rc) rc = dala_buf_append(out, note, strlen(note));
    for (size_t i = ring->count; !rc && i-- > 0;) {
        const server_key *key = &ring->keys[i];
        int n = key->destroyed_at
                    ? snprintf(line, sizeof line, "destroyed %" PRIu32 " created %lld at %lld\n", key->epoch,
                               (long long)key->created_at, (long long)key->destroyed_at)
                    : snprintf(line, sizeof line, "key %" PRIu32 " created %lld destroy-after %lld secret ", key->epoch,
                               (long long)key->created_at, (long long)key->destroy_after);
        rc = dala_buf_append(out, line, (size_t)n);
        if (!rc && !key->destroyed_at) {
            rc = hex_append(out, key->pair.secret, DALA_KEY_BYTES);
            if (!rc) rc = dala_buf_append(out, "\n", 1);
        }
    }
    return rc;
}

/* --- wrapping ------------------------------------------------------------ */

static int gcm_seal(int encrypt, const uint8_t key[SERVER_WRAP_KEY_BYTES], const uint8_t nonce[NONCE_BYTES],
                    const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[TAG_BYTES])
{
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    int rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, SERVER_WRAP_KEY_BYTES * 8);
    const uint8_t *ad = (const uint8_t *)WRAPPED_HEADER;
    if (!rc && encrypt)
        rc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len, nonce, NONCE_BYTES, ad,
                                       strlen(WRAPPED_HEADER), in, out, TAG_BYTES, tag);
    else if (!rc)
        rc = mbedtls_gcm_auth_decrypt(&gcm, len, nonce, NONCE_BYTES, ad, strlen(WRAPPED_HEADER), tag, TAG_BYTES,
                                      in, out);
    mbedtls_gcm_free(&gcm);
    return rc;
}

/* Opens the wrapped form's hex body into `plain` (NUL-terminated). */
static int unwrap(dala_buf *plain, const char *hex, const server_key_config *config)
{
    size_t hex_len = strcspn(hex, "\n"), len = hex_len / 2;
    if (!config->has_wrap_key)
        return dala_error_set(DALA_EAUTH, "the key file %s is wrapped: give its wrapping key (--key-wrap-file or "
                                          SERVER_KEY_WRAP_ENV ")", config->path);
    if (hex_len % 2 || len < NONCE_BYTES + TAG_BYTES || (hex[hex_len] && strcmp(hex + hex_len, "\n")))
        return dala_error_set(DALA_ECORRUPT, "read key file %s: the wrapped keys are cut or changed", config->path);
    uint8_t *sealed = malloc(len);
    int rc = sealed ? DALA_OK : dala_error_set(DALA_ENOMEM, "read key file: out of memory");
    char *copy = rc ? NULL : strndup(hex, hex_len);
    if (!rc && (!copy || dala_hex_decode(sealed, len, copy)))
        rc = dala_error_set(DALA_ECORRUPT, "read key file %s: the wrapped keys are not hex", config->path);
    size_t text_len = len - NONCE_BYTES - TAG_BYTES;
    if (!rc) rc = dala_buf_reserve(plain, text_len + 1);
    if (!rc && gcm_seal(0, config->wrap_key, sealed, sealed + NONCE_BYTES, text_len, plain->data,
                        sealed + NONCE_BYTES + text_len))
        rc = dala_error_set(DALA_EAUTH, "the key file %s does not open with the wrapping key given (a wrong "
                                        "key, or the file was changed)", config->path);
    if (!rc) {
        plain->len = text_len;
        plain->data[text_len] = '\0';
    }
    free(copy);
    free(sealed);
    return rc;
}

static int wrap(dala_buf *out, const dala_buf *plain, const server_key_config *config)
{
    uint8_t nonce[NONCE_BYTES], tag[TAG_BYTES];
    uint8_t *sealed = malloc(plain->len ? plain->len : 1);
    int rc = sealed ? dala_random(nonce, sizeof nonce) : dala_error_set(DALA_ENOMEM, "wrap keys: out of memory");
    if (!rc && gcm_seal(1, config->wrap_key, nonce, plain->data, plain->len, sealed, tag))
        rc = dala_error_set(DALA_ECRYPTO, "wrap the key file: AES-256-GCM failed");
    if (!rc) rc = dala_buf_append(out, WRAPPED_HEADER "\n", strlen(WRAPPED_HEADER) + 1);
    if (!rc) rc = hex_append(out, nonce, sizeof nonce);
    if (!rc) rc = hex_append(out, sealed, plain->len);
    if (!rc) rc = hex_append(out, tag, sizeof tag);
    if (!rc) rc = dala_buf_append(out, "\n", 1);
    free(sealed);
    return rc;
}

/* --- the file ------------------------------------------------------------ */

int server_key_file_read(server_keyring *out, int *is_wrapped, const server_key_config *config)
{
    memset(out, 0, sizeof *out);
    *is_wrapped = 0;
    int fd = open(config->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return DALA_ENOTFOUND;
    if (fd < 0) return dala_error_set(DALA_EIO, "open key file %s: %s", config->path, strerror(errno));
    dala_buf raw = DALA_BUF_INIT, plain = DALA_BUF_INIT;
    raw.cap_bytes = MAX_KEY_FILE_BYTES + 1;
    int rc = dala_buf_reserve(&raw, MAX_KEY_FILE_BYTES + 1);
    ssize_t n = 0;
    while (!rc && raw.len <= MAX_KEY_FILE_BYTES &&
           (n = read(fd, raw.data + raw.len, MAX_KEY_FILE_BYTES + 1 - raw.len)) != 0) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = dala_error_set(DALA_EIO, "read key file %s: %s", config->path, strerror(errno));
        else raw.len += (size_t)n;
    }
    close(fd);
    if (!rc && raw.len > MAX_KEY_FILE_BYTES)
        rc = dala_error_set(DALA_ELIMIT, "read key file %s: larger than %d bytes", config->path, MAX_KEY_FILE_BYTES);
    if (!rc) raw.data[raw.len] = '\0';
    char *text = rc ? NULL : (char *)raw.data;
    size_t wrapped_len = strlen(WRAPPED_HEADER);
    if (text && strncmp(text, WRAPPED_HEADER "\n", wrapped_len + 1) == 0) {
        *is_wrapped = 1;
        rc = unwrap(&plain, text + wrapped_len + 1, config);
        text = rc ? NULL : (char *)plain.data;
    }
    if (!rc && strlen(text) != (text == (char *)raw.data ? raw.len : plain.len))
        rc = dala_error_set(DALA_ECORRUPT, "read key file %s: it holds a NUL byte", config->path);
    if (!rc) rc = parse_plain(out, text, config->path);
    dala_buf_free(&raw);
    dala_buf_free(&plain);
    return rc;
}

int server_key_file_write(const server_keyring *ring, const server_key_config *config)
{
    dala_buf plain = DALA_BUF_INIT, wrapped = DALA_BUF_INIT;
    int rc = format_plain(&plain, ring);
    if (!rc && config->has_wrap_key) rc = wrap(&wrapped, &plain, config);
    const dala_buf *out = config->has_wrap_key ? &wrapped : &plain;
    if (!rc) rc = server_file_replace(config->path, out->data, out->len);
    dala_buf_free(&plain);
    dala_buf_free(&wrapped);
    return rc;
}
