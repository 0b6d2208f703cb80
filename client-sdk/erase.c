/* erase.c - erasing a tablet's store: after too many wrong PINs, or when
 * the server names the tablet lost. The store's files (the database, its
 * WAL, WAL index and journal, the wrapped data key, a half-made encrypted
 * copy) are overwritten with zeros, synced and removed. Destroying the
 * wrapped key is what makes the data unreadable for good (a crypto-erase):
 * flash storage may keep old copies of any block, but every copy of the
 * database is sealed under a data key that no longer exists anywhere.
 *
 * An erased store stays usable as a handle: its connection is swapped for
 * an empty in-memory store, so every later call finds nothing and is not
 * enrolled, and dala_store_status reports it erased. */
#include "sdk_int.h"
#include "store_files.h"

#include "migration.h"
#include "sqlite_text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const dala_migration dala_device_migrations[];

int dala_file_zero(int fd)
{
    static const uint8_t zeros[65536];
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    for (off_t at = 0; at < st.st_size;) {
        size_t n = (size_t)(st.st_size - at) < sizeof zeros ? (size_t)(st.st_size - at) : sizeof zeros;
        ssize_t written = pwrite(fd, zeros, n, at);
        if (written <= 0) return -1;
        at += written;
    }
    return fdatasync(fd);
}

/* Overwrites a file's bytes with zeros, syncs and removes it. A missing
 * file is fine; any other failure is returned (DALA_EIO) after the
 * remaining steps still ran, so a half-erased store is never left because
 * one write failed. */
static int shred_file(const char *path)
{
    int rc = DALA_OK;
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) return DALA_OK;
        rc = dala_error_set(DALA_EIO, "erase %s: %s", path, strerror(errno));
    } else {
        if (dala_file_zero(fd) != 0) rc = dala_error_set(DALA_EIO, "erase %s: overwrite: %s", path, strerror(errno));
        close(fd);
    }
    if (unlink(path) != 0 && errno != ENOENT && !rc)
        rc = dala_error_set(DALA_EIO, "erase %s: remove: %s", path, strerror(errno));
    return rc;
}

int dala_store_erase_files(const char *path)
{
    /* The key first: once it is gone, what is left cannot be read. */
    static const char *const suffixes[] = {DALA_STORE_KEY_SUFFIX, DALA_STORE_KEY_SUFFIX ".new",
                                           DALA_STORE_COPY_SUFFIX, "", "-wal", "-shm", "-journal"};
    int rc = DALA_OK;
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char name[4096];
        if ((size_t)snprintf(name, sizeof name, "%s%s", path, suffixes[i]) >= sizeof name)
            return dala_error_set(DALA_EINVAL, "erase store: path too long");
        int shredded = shred_file(name);
        if (shredded && !rc) rc = shredded;
    }
    if (!rc) rc = dala_sync_folder_of(path);
    return rc;
}

int dala_store_wipe(dala_store *store, const char *why)
{
    if (!store) return dala_error_set(DALA_EINVAL, "erase store: store is NULL");
    /* Keys in memory go first, then the connection (so SQLite holds no
     * file open), then the files. */
    dala_session_free(store->session);
    store->session = NULL;
    dala_keypair_wipe(&store->device_key);
    store->has_device_key = 0;
    dala_store_forget_key(store);
    dala_db_cache_drop(store->db);
    sqlite3_close_v2(store->db);
    store->db = NULL;
    int erased = dala_store_erase_files(store->path);
    /* The empty stand-in: the schema in memory, nothing enrolled. */
    int rc = sqlite3_open_v2(":memory:", &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) rc = dala_sqlite_text_register(store->db);
    int migrated = rc == SQLITE_OK ? dala_migrate(store->db, dala_device_migrations, ":memory:")
                                   : dala_error_set(DALA_ENOMEM, "erase store: no memory for an empty store");
    store->wiped = 1;
    if (erased) return erased;
    if (migrated) return migrated;
    return dala_error_set(DALA_EWIPED, "the store %s was erased: %s", store->path, why);
}
