/* crypt_vfs.h - the SQLite VFS that seals every page the tablet's store
 * writes with ChaCha20-Poly1305 (docs/security.md), and the keyring that hands
 * each store's page key to the files SQLite opens for it.
 *
 * A store opened through this VFS has 4096-byte pages with 28 reserved
 * bytes each: the plaintext's first 4068 bytes are encrypted, and the last
 * 28 hold the page's random 12-byte nonce and 16-byte tag. The associated
 * data binds a page to its place (file kind and position), so a page moved
 * within the store, or taken from another store, fails to open. */
#ifndef DALA_CRYPT_VFS_H
#define DALA_CRYPT_VFS_H

#include <stddef.h>
#include <stdint.h>

#define DALA_CRYPT_VFS_NAME "dala-crypt"
#define DALA_PAGE_BYTES 4096
#define DALA_PAGE_NONCE_BYTES 12
#define DALA_PAGE_TAG_BYTES 16
#define DALA_PAGE_RESERVE_BYTES (DALA_PAGE_NONCE_BYTES + DALA_PAGE_TAG_BYTES)
#define DALA_DATA_KEY_BYTES 32

/* Registers the VFS once per process (not as the default). DALA_OK or
 * DALA_ENOMEM. */
int dala_crypt_vfs_register(void);

/* Puts a store's data key in the keyring; *id_out names it in the URI
 * parameter "dala_key" of every file of that store. The key is copied
 * (the page key derived from it, HKDF-SHA256, is what files use). */
int dala_keyring_add(uint64_t *id_out, const uint8_t data_key[DALA_DATA_KEY_BYTES]);

/* Copies the data key of `id` out (for wrapping it anew). DALA_ENOTFOUND
 * when released. */
int dala_keyring_get(uint8_t data_key[DALA_DATA_KEY_BYTES], uint64_t id);

/* Wipes and forgets a key; files already open keep their own copy until
 * they close. 0 is ignored. */
void dala_keyring_release(uint64_t id);

/* Whether a sealed page failed its check (or a file was cut short) on
 * this thread since the last call; clears it. */
int dala_crypt_vfs_take_failure(void);

/* Writes "file:<path, escaped>?vfs=dala-crypt&dala_key=<id>" for sqlite3_open_v2 or
 * VACUUM INTO. DALA_EINVAL when it does not fit. */
int dala_crypt_uri(char *out, size_t size, const char *path, uint64_t key_id);

#endif
