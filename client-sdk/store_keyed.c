/* store_keyed.c - opening a sealed store: what the files on disk say (a
 * new store, an older plaintext one, a sealed one), unlocking its data key
 * with a PIN or the app's key provider (wrong PINs counted before each
 * try, the store erased after too many), a new PIN, and erasing. */
#include "sdk_int.h"
#include "crypt_vfs.h"
#include "key_file.h"
#include "store_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum store_state { STORE_NEW, STORE_PLAIN, STORE_SEALED };

void dala_crash_point(const char *step)
{
    const char *at = getenv("DALA_TEST_CRASH_AT");
    if (at && strcmp(at, step) == 0) _exit(86);
}

/* What the database file holds: nothing yet, SQLite's plaintext header,
 * or anything else (sealed pages). */
static int store_state(int *out, const char *path)
{
    uint8_t head[16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) return dala_error_set(DALA_EIO, "open %s: %s", path, strerror(errno));
        *out = STORE_NEW;
        return DALA_OK;
    }
    ssize_t n = read(fd, head, sizeof head);
    close(fd);
    if (n < 0) return dala_error_set(DALA_EIO, "read %s: %s", path, strerror(errno));
    if (n == 0) *out = STORE_NEW;
    else if (n == sizeof head && memcmp(head, "SQLite format 3", 16) == 0) *out = STORE_PLAIN;
    else *out = STORE_SEALED;
    return DALA_OK;
}

static int name_of(char *out, size_t size, const char *path, const char *suffix)
{
    if ((size_t)snprintf(out, size, "%s%s", path, suffix) >= size)
        return dala_error_set(DALA_EINVAL, "open store: path too long");
    return DALA_OK;
}

/* Unlocks with a PIN: the count goes up and is on disk before the try, so
 * killing the app mid-try cannot win a free guess; a right PIN sets it
 * back to 0. The last wrong PIN allowed erases the store. */
static int unlock_with_pin(uint8_t data_key[DALA_DATA_KEY_BYTES], dala_key_file *file, const char *key_path,
                           const char *path, const dala_store_key *key)
{
    if (file->wrong_pins >= file->max_wrong_pins) {
        dala_store_erase_files(path);
        return dala_error_set(DALA_EWIPED, "the store %s was erased: %d wrong PINs in a row", path, file->wrong_pins);
    }
    file->wrong_pins++;
    int rc = dala_key_file_write(key_path, file);
    if (rc) return rc;
    dala_crash_point("pin: counted");
    rc = dala_key_file_unwrap(data_key, file, key);
    if (rc == DALA_EAUTH) {
        if (file->wrong_pins >= file->max_wrong_pins) {
            dala_store_erase_files(path);
            return dala_error_set(DALA_EWIPED, "the store %s erased itself: %d wrong PINs in a row", path,
                                  file->wrong_pins);
        }
        return dala_error_set(DALA_EAUTH, "wrong PIN: %d of %d tries left before the store erases itself",
                              file->max_wrong_pins - file->wrong_pins, file->max_wrong_pins);
    }
    if (rc) return rc;
    file->wrong_pins = 0;
    rc = dala_key_file_write(key_path, file);
    if (rc) dala_wipe(data_key, DALA_DATA_KEY_BYTES);
    return rc;
}

/* Finds or makes the data key for the files as they are. */
static int obtain_data_key(uint8_t data_key[DALA_DATA_KEY_BYTES], const char *path, const dala_store_key *key)
{
    char key_path[4096], copy_path[4096];
    int rc = name_of(key_path, sizeof key_path, path, DALA_STORE_KEY_SUFFIX);
    if (!rc) rc = name_of(copy_path, sizeof copy_path, path, DALA_STORE_COPY_SUFFIX);
    int state = STORE_NEW;
    if (!rc) rc = store_state(&state, path);
    if (rc) return rc;
    dala_key_file file;
    int read = dala_key_file_read(&file, key_path);
    if (state == STORE_SEALED) {
        if (read == DALA_ENOTFOUND)
            /* No key: an erase cut short, or a file that is no store at
             * all. Either way nothing can read it; it is left alone. */
            return dala_error_set(DALA_EWIPED, "%s has no key file: it is an erased store (dala_store_erase "
                                  "removes what is left) or not a Dala store", path);
        if (read) return read;
        if (file.kind == DALA_KEY_KIND_PIN && key->pin) return unlock_with_pin(data_key, &file, key_path, path, key);
        return dala_key_file_unwrap(data_key, &file, key);
    }
    /* New, or plaintext: a key file or a copy left now is from an attempt
     * that never committed; nothing is sealed under it. */
    unlink(key_path);
    unlink(copy_path);
    rc = dala_random(data_key, DALA_DATA_KEY_BYTES);
    if (!rc) rc = dala_key_file_wrap(&file, key, data_key);
    if (!rc && state == STORE_NEW) rc = dala_key_file_write(key_path, &file);
    if (!rc && state == STORE_PLAIN) rc = dala_store_encrypt_in_place(path, data_key, &file);
    dala_wipe(&file, sizeof file);
    if (rc) dala_wipe(data_key, DALA_DATA_KEY_BYTES);
    return rc;
}

int dala_store_open_keyed(dala_store **out, const char *path, const dala_store_key *key)
{
    if (!out) return dala_error_set(DALA_EINVAL, "open store: out is NULL");
    *out = NULL;
    if (!path || !*path) return dala_error_set(DALA_EINVAL, "open store: no path");
    int rc = dala_store_key_check(key);
    if (!rc) rc = dala_crypt_vfs_register();
    uint8_t data_key[DALA_DATA_KEY_BYTES];
    int folder = -1;
    if (!rc) rc = dala_folder_lock(&folder, path);
    if (!rc) rc = obtain_data_key(data_key, path, key);
    dala_folder_unlock(folder);
    if (rc) return rc;
    dala_store *store = NULL;
    char uri[4200];
    rc = dala_store_new(&store, path);
    if (!rc) rc = dala_keyring_add(&store->keyring_id, data_key);
    dala_wipe(data_key, sizeof data_key);
    if (!rc) rc = dala_crypt_uri(uri, sizeof uri, path, store->keyring_id);
    if (!rc) rc = dala_store_connect(store, uri, 1);
    if (rc) {
        dala_store_close(store);
        return rc;
    }
    *out = store;
    return DALA_OK;
}

int dala_store_set_key(dala_store *store, const dala_store_key *key)
{
    if (!store) return dala_error_set(DALA_EINVAL, "set the store's key: store is NULL");
    int rc = dala_store_key_check(key);
    if (rc) return rc;
    if (!store->keyring_id) return dala_error_set(DALA_EINVAL, "set the store's key: the store is not sealed");
    char key_path[4096];
    uint8_t data_key[DALA_DATA_KEY_BYTES];
    dala_key_file file;
    rc = name_of(key_path, sizeof key_path, store->path, DALA_STORE_KEY_SUFFIX);
    if (!rc) rc = dala_keyring_get(data_key, store->keyring_id);
    if (!rc) rc = dala_key_file_wrap(&file, key, data_key);
    int folder = -1;
    if (!rc) rc = dala_folder_lock(&folder, store->path);
    if (!rc) rc = dala_key_file_write(key_path, &file);
    dala_folder_unlock(folder);
    dala_wipe(data_key, sizeof data_key);
    dala_wipe(&file, sizeof file);
    return rc;
}

int dala_store_erase(const char *path)
{
    if (!path || !*path) return dala_error_set(DALA_EINVAL, "erase store: no path");
    return dala_store_erase_files(path);
}
