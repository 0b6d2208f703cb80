/* store_encrypt.c - sealing a store an older build left in plaintext, in
 * place, on its first open with a key. The steps, and what a kill at each
 * leaves (the open after it decides by the database's first bytes: the
 * plaintext header means "not yet", store_keyed.c):
 *
 *   1. hold the plaintext store exclusively, fold its WAL into it;
 *   2. VACUUM INTO "<path>-encrypting" through the sealing VFS, with
 *      room reserved in every page for its nonce and tag; sync the copy;
 *   3. write "<path>-key" (the data key, wrapped);
 *   4. rename the copy over the database, sync the folder: the commit;
 *   5. overwrite the old plaintext file's blocks with zeros, close it.
 *
 * Killed before 4, the plaintext store is whole and opens again (the copy
 * and key are discarded and made anew); after 4, the sealed store is
 * whole. No other process may hold the store meanwhile: one that did
 * would go on writing to the old, renamed-over file. */
#include "sdk_int.h"
#include "crypt_vfs.h"
#include "key_file.h"
#include "store_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = fd >= 0 && fsync(fd) == 0 ? DALA_OK : dala_error_set(DALA_EIO, "sync %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return rc;
}

/* Steps 1 and 2: the sealed copy of the plaintext store. */
static int make_sealed_copy(sqlite3 *plain, const char *path, const char *copy_path, const uint8_t data_key[32])
{
    int rc = dala_db_exec(plain, "PRAGMA locking_mode=EXCLUSIVE; PRAGMA temp_store=MEMORY", "hold the store");
    if (!rc) rc = dala_db_exec(plain, "PRAGMA wal_checkpoint(TRUNCATE)", "fold the WAL into the store");
    sqlite3_stmt *stmt = NULL;
    if (!rc) rc = dala_db_prepare(&stmt, plain, "PRAGMA page_size");
    if (!rc && sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0) != DALA_PAGE_BYTES)
        rc = dala_error_set(DALA_ESCHEMA, "encrypt %s: its pages are %d bytes; only %d-byte pages can be sealed",
                            path, sqlite3_column_int(stmt, 0), DALA_PAGE_BYTES);
    sqlite3_finalize(stmt);
    if (rc) return rc;
    int reserve = DALA_PAGE_RESERVE_BYTES;
    sqlite3_file_control(plain, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
    uint64_t key_id = 0;
    char uri[4200];
    rc = dala_keyring_add(&key_id, data_key);
    if (!rc) rc = dala_crypt_uri(uri, sizeof uri, copy_path, key_id);
    if (!rc) rc = dala_db_prepare(&stmt, plain, "VACUUM INTO ?1");
    if (!rc) {
        sqlite3_bind_text(stmt, 1, uri, -1, SQLITE_STATIC);
        rc = dala_db_step_done(stmt, "write the sealed copy");
        sqlite3_finalize(stmt);
    }
    dala_keyring_release(key_id);
    if (!rc) rc = sync_file(copy_path);
    return rc;
}

int dala_store_encrypt_in_place(const char *path, const uint8_t data_key[32], const dala_key_file *key_file)
{
    char copy_path[4096], key_path[4096];
    if ((size_t)snprintf(copy_path, sizeof copy_path, "%s%s", path, DALA_STORE_COPY_SUFFIX) >= sizeof copy_path ||
        (size_t)snprintf(key_path, sizeof key_path, "%s%s", path, DALA_STORE_KEY_SUFFIX) >= sizeof key_path)
        return dala_error_set(DALA_EINVAL, "encrypt store: path too long");
    sqlite3 *plain = NULL;
    int rc = DALA_OK, old_fd = -1, committed = 0;
    if (sqlite3_open_v2(path, &plain, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        rc = dala_db_error(plain, sqlite3_errcode(plain), "open the plaintext store");
    if (!rc) {
        sqlite3_busy_timeout(plain, DALA_BUSY_TIMEOUT_MS);
        sqlite3_extended_result_codes(plain, 1);
        rc = make_sealed_copy(plain, path, copy_path, data_key);
    }
    dala_crash_point("encrypt: copy made");
    if (!rc) rc = dala_key_file_write(key_path, key_file);
    dala_crash_point("encrypt: key written");
    if (!rc && (old_fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
        rc = dala_error_set(DALA_EIO, "open %s: %s", path, strerror(errno));
    if (!rc && rename(copy_path, path) != 0) rc = dala_error_set(DALA_EIO, "rename %s: %s", copy_path, strerror(errno));
    else if (!rc) committed = 1;
    if (!rc) rc = dala_sync_folder_of(path);
    dala_crash_point("encrypt: renamed");
    sqlite3_close_v2(plain);
    if (!rc) dala_file_zero(old_fd); /* step 5; best effort: the commit is done */
    if (old_fd >= 0) close(old_fd);
    if (rc && !committed) {
        unlink(copy_path);
        unlink(key_path);
    }
    return rc;
}
