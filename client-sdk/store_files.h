/* store_files.h - the files that make up one tablet store, named from the
 * database's path, and the file-system steps that keep changes to them
 * durable (write a file whole, sync it and its folder, replace by rename).
 *
 *   <path>              the database, sealed page by page (crypt_vfs.c)
 *   <path>-wal, -shm    SQLite's WAL (sealed pages) and WAL index (no data)
 *   <path>-key          the wrapped data key and the wrong-PIN counter (key_file.c)
 *   <path>-encrypting   a plaintext store's encrypted copy while it is made */
#ifndef DALA_STORE_FILES_H
#define DALA_STORE_FILES_H

#include <stddef.h>

#define DALA_STORE_KEY_SUFFIX "-key"
#define DALA_STORE_COPY_SUFFIX "-encrypting"

/* fsyncs the folder that holds `path`, so a rename or unlink in it is
 * durable. DALA_OK or DALA_EIO. */
int dala_sync_folder_of(const char *path);

/* Writes `len` bytes to `path` through "<path>.new": written, synced,
 * renamed over `path`, folder synced. Mode 0600. Killed at any moment,
 * `path` holds either its old bytes or the new ones. */
int dala_file_replace(const char *path, const void *data, size_t len);

/* Holds an exclusive lock (flock) on the folder of `path` while a store's
 * key file is read, counted and written, so two processes opening one
 * store at once neither race on "<path>-key.new" nor both count the same
 * wrong PIN. Released by dala_folder_unlock. */
int dala_folder_lock(int *fd_out, const char *path);
void dala_folder_unlock(int fd);

/* Overwrites every byte of the open file `fd` with zeros and syncs it.
 * 0, or -1 with errno set. */
int dala_file_zero(int fd);

/* Overwrites with zeros, syncs and removes every file of the store at
 * `path`, the key first. Missing files are fine. */
int dala_store_erase_files(const char *path);

#endif
