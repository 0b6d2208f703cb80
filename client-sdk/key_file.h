/* key_file.h - the store's wrapped data key and wrong-PIN count
 * ("<path>-key", layout in key_file.c). */
#ifndef DALA_KEY_FILE_H
#define DALA_KEY_FILE_H

#include "crypt_vfs.h"
#include "dala.h"

#include <stddef.h>
#include <stdint.h>

/* OWASP's current count for PBKDF2-HMAC-SHA256 (Password Storage Cheat
 * Sheet, 2023). */
#define DALA_PIN_ITERATIONS 600000u

#define DALA_KEY_KIND_PIN 1
#define DALA_KEY_KIND_PROVIDER 2

typedef struct dala_key_file {
    int kind;
    int max_wrong_pins;
    int wrong_pins;
    uint32_t iterations;
    uint8_t salt[16];
    size_t wrapped_len;
    uint8_t wrapped[DALA_MAX_WRAPPED_KEY_BYTES];
} dala_key_file;

/* DALA_OK or DALA_EINVAL naming what is wrong with `key`. */
int dala_store_key_check(const dala_store_key *key);

/* A new key file wrapping `data_key` under `key` (fresh salt and nonce;
 * no wrong PINs). */
int dala_key_file_wrap(dala_key_file *out, const dala_store_key *key, const uint8_t data_key[DALA_DATA_KEY_BYTES]);

/* DALA_OK; DALA_EAUTH "wrong PIN" (or the provider refused, or the other
 * kind of key was given); DALA_ECORRUPT. */
int dala_key_file_unwrap(uint8_t data_key[DALA_DATA_KEY_BYTES], const dala_key_file *file, const dala_store_key *key);

/* DALA_ENOTFOUND (no file: no error recorded), DALA_ECORRUPT, DALA_EIO. */
int dala_key_file_read(dala_key_file *out, const char *path);
int dala_key_file_write(const char *path, const dala_key_file *file);
void dala_key_file_header(uint8_t out[34], const dala_key_file *file);

/* For tests only: PBKDF2's count for keys made from now on (0: the
 * default). A store keeps the count it was made with. */
void dala_pin_iterations_set(uint32_t iterations);

#endif
