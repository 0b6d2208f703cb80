/* store.c - the local store: opening the SQLite file (WAL,
 * synchronous=FULL, busy timeout, mode 0600) and bringing it to the device
 * schema (schema/device/, applied by the migration runner the server
 * shares, schema/migrate.c); the meta table of enrolment and sync state;
 * transactions; and the translation of SQLite's result codes into
 * dala_err. */
#include "sdk_int.h"
#include "sqlite_settings.h"
#include "sqlite_text.h"
#include "crypt_vfs.h"

#include <pthread.h>

#include "migration.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Generated from the files of schema/device/ by scripts/embed-sql.sh. */
extern const dala_migration dala_device_migrations[];

void dala_free(void *memory)
{
    free(memory);
}

/* --- SQLite helpers ------------------------------------------------------- */

int dala_db_error(sqlite3 *db, int sqlite_rc, const char *what)
{
    int code;
    switch (sqlite_rc & 0xff) {
    case SQLITE_NOMEM: code = DALA_ENOMEM; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: code = DALA_ECORRUPT; break;
    case SQLITE_IOERR: code = (sqlite_rc == SQLITE_IOERR_DATA) ? DALA_ECORRUPT : DALA_EIO; break;
    case SQLITE_TOOBIG: code = DALA_ELIMIT; break;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE: code = DALA_EINVAL; break;
    default: code = DALA_EIO; break; /* IOERR, FULL, CANTOPEN, BUSY, LOCKED, READONLY, ... */
    }
    if (dala_crypt_vfs_take_failure() && (code == DALA_EIO || code == DALA_ECORRUPT))
        return dala_error_set(DALA_ECORRUPT, "%s: a sealed page of the store failed its check: the file was "
                              "changed or damaged (sqlite %d)", what, sqlite_rc);
    const char *message = db ? sqlite3_errmsg(db) : sqlite3_errstr(sqlite_rc);
    return dala_error_set(code, "%s: %s (sqlite %d)", what, message, sqlite_rc);
}

int dala_db_prepare(sqlite3_stmt **out, sqlite3 *db, const char *sql)
{
    int rc = sqlite3_prepare_v2(db, sql, -1, out, NULL);
    if (rc != SQLITE_OK) {
        *out = NULL;
        return dala_db_error(db, rc, "prepare statement");
    }
    return DALA_OK;
}

/* The statement cache: a table shared by every open store (a few entries
 * each), keyed by connection and SQL text address, guarded by a mutex
 * (stores may live on different threads); it grows as stores open. */
typedef struct cached_statement {
    sqlite3 *db;
    const char *sql;
    sqlite3_stmt *stmt;
} cached_statement;

static cached_statement *statement_cache;
static size_t statement_cache_count, statement_cache_alloc;
static pthread_mutex_t statement_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* Adds an entry; the lock is held. */
static int cache_add(sqlite3 *db, const char *sql, sqlite3_stmt *stmt)
{
    if (statement_cache_count == statement_cache_alloc) {
        size_t alloc = statement_cache_alloc ? statement_cache_alloc * 2 : 16;
        cached_statement *grown = realloc(statement_cache, alloc * sizeof *grown);
        if (!grown) return DALA_ENOMEM;
        statement_cache = grown;
        statement_cache_alloc = alloc;
    }
    statement_cache[statement_cache_count++] = (cached_statement){db, sql, stmt};
    return DALA_OK;
}

int dala_db_prepare_cached(sqlite3_stmt **out, sqlite3 *db, const char *sql)
{
    pthread_mutex_lock(&statement_cache_lock);
    for (size_t i = 0; i < statement_cache_count; i++)
        if (statement_cache[i].db == db && statement_cache[i].sql == sql) {
            *out = statement_cache[i].stmt;
            pthread_mutex_unlock(&statement_cache_lock);
            return DALA_OK;
        }
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    int kept = rc == SQLITE_OK && cache_add(db, sql, *out) == DALA_OK;
    pthread_mutex_unlock(&statement_cache_lock);
    if (rc != SQLITE_OK) {
        *out = NULL;
        return dala_db_error(db, rc, "prepare statement");
    }
    if (!kept) {
        sqlite3_finalize(*out);
        *out = NULL;
        return dala_error_set(DALA_ENOMEM, "cache statement: out of memory");
    }
    return DALA_OK;
}

void dala_db_release(sqlite3_stmt *stmt)
{
    if (!stmt) return;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

void dala_db_cache_drop(sqlite3 *db)
{
    pthread_mutex_lock(&statement_cache_lock);
    size_t kept = 0;
    for (size_t i = 0; i < statement_cache_count; i++) {
        if (statement_cache[i].db == db) sqlite3_finalize(statement_cache[i].stmt);
        else statement_cache[kept++] = statement_cache[i];
    }
    statement_cache_count = kept;
    if (kept == 0) {
        free(statement_cache);
        statement_cache = NULL;
        statement_cache_alloc = 0;
    }
    pthread_mutex_unlock(&statement_cache_lock);
}

int dala_db_step_done(sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return DALA_OK;
    return dala_db_error(sqlite3_db_handle(stmt), rc, what);
}

int dala_db_exec(sqlite3 *db, const char *sql, const char *what)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? DALA_OK : dala_db_error(db, rc, what);
}

int dala_db_begin(sqlite3 *db)
{
    return dala_db_exec(db, "BEGIN IMMEDIATE", "begin transaction");
}

int dala_db_commit(sqlite3 *db)
{
    int rc = dala_db_exec(db, "COMMIT", "commit transaction");
    if (rc) dala_db_rollback(db);
    return rc;
}

void dala_db_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* --- meta ----------------------------------------------------------------- */

int dala_meta_get_int(int64_t *out, sqlite3 *db, const char *key, int64_t fallback)
{
    sqlite3_stmt *stmt;
    int rc = dala_db_prepare(&stmt, db, "SELECT value FROM meta WHERE key = ?1");
    if (rc) return rc;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    *out = fallback;
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) *out = sqlite3_column_int64(stmt, 0);
    else if (step != SQLITE_DONE) rc = dala_db_error(db, step, "read store meta");
    sqlite3_finalize(stmt);
    return rc;
}

int dala_meta_get_bytes(uint8_t **out, size_t *len, sqlite3 *db, const char *key)
{
    sqlite3_stmt *stmt;
    *out = NULL;
    *len = 0;
    int rc = dala_db_prepare(&stmt, db, "SELECT value FROM meta WHERE key = ?1");
    if (rc) return rc;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
        const void *bytes = sqlite3_column_type(stmt, 0) == SQLITE_BLOB
                                ? sqlite3_column_blob(stmt, 0)
                                : (const void *)sqlite3_column_text(stmt, 0);
        size_t n = (size_t)sqlite3_column_bytes(stmt, 0);
        *out = malloc(n + 1);
        if (!*out) rc = dala_error_set(DALA_ENOMEM, "read store meta: out of memory");
        else {
            if (n) memcpy(*out, bytes, n);
            (*out)[n] = 0;
            *len = n;
        }
    } else if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = dala_db_error(db, step, "read store meta");
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Binds the value (by `bind`) and upserts it under `key`. */
static int meta_set(sqlite3 *db, const char *key, int kind, int64_t integer, const void *bytes,
                    size_t len)
{
    sqlite3_stmt *stmt;
    int rc = dala_db_prepare(&stmt, db, "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (rc) return rc;
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    if (kind == SQLITE_INTEGER) sqlite3_bind_int64(stmt, 2, integer);
    else if (kind == SQLITE_TEXT) sqlite3_bind_text(stmt, 2, bytes, (int)len, SQLITE_STATIC);
    else sqlite3_bind_blob(stmt, 2, bytes, (int)len, SQLITE_STATIC);
    rc = dala_db_step_done(stmt, "write store meta");
    sqlite3_finalize(stmt);
    return rc;
}

int dala_meta_set_int(sqlite3 *db, const char *key, int64_t value)
{
    return meta_set(db, key, SQLITE_INTEGER, value, NULL, 0);
}

int dala_meta_set_text(sqlite3 *db, const char *key, const char *value)
{
    return meta_set(db, key, SQLITE_TEXT, 0, value, strlen(value));
}

int dala_meta_set_blob(sqlite3 *db, const char *key, const void *value, size_t len)
{
    return meta_set(db, key, SQLITE_BLOB, 0, value, len);
}

/* --- open, migrate, close ------------------------------------------------- */

/* Creates the file with mode 0600 before SQLite does (SQLite would use
 * 0644 under the usual umask); its -wal and -shm files take the same. */
static int create_private_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return dala_error_set(DALA_EIO, "open %s: %s", path, strerror(errno));
    close(fd);
    return DALA_OK;
}

int dala_store_connect(dala_store *store, const char *name, int sealed)
{
    const char *path = store->path;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | (sealed ? SQLITE_OPEN_URI : 0);
    int sqlite_rc = sqlite3_open_v2(name, &store->db, flags, sealed ? DALA_CRYPT_VFS_NAME : NULL);
    if (sqlite_rc != SQLITE_OK && dala_crypt_vfs_take_failure())
        return dala_error_set(DALA_ECORRUPT, "open %s: its first page failed its check: the file was changed or "
                              "damaged, or is not a store sealed with this key (sqlite %d)", path, sqlite_rc);
    if (sqlite_rc != SQLITE_OK)
        return dala_error_set(sqlite_rc == SQLITE_NOMEM ? DALA_ENOMEM : DALA_EIO, "open %s: %s (sqlite %d)", path,
                              store->db ? sqlite3_errmsg(store->db) : sqlite3_errstr(sqlite_rc), sqlite_rc);
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_timeout(store->db, DALA_BUSY_TIMEOUT_MS);
    /* Kazakh order and case-insensitive search (collation kk, dala_fold). */
    if (dala_sqlite_text_register(store->db) != SQLITE_OK)
        return dala_error_set(DALA_ENOMEM, "open %s: registering the Kazakh collation failed", path);
    int rc = DALA_OK;
    if (sealed) {
        /* A new sealed store: 4096-byte pages with room for each page's
         * nonce and tag (crypt_vfs.h); sorts and temporary tables stay in
         * memory. An existing store keeps what its first page says. */
        int reserve = DALA_PAGE_RESERVE_BYTES;
        sqlite3_file_control(store->db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
        rc = dala_db_exec(store->db, "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384",
                          "keep temporary data and 16 MiB of opened pages in memory");
    }
    /* The first statement reads the file: a non-database fails here. */
    if (!rc) rc = dala_db_exec(store->db, "PRAGMA journal_mode=WAL", "set WAL mode");
    if (!rc) rc = dala_db_exec(store->db, "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON", "set pragmas");
    if (!rc) rc = dala_db_exec(store->db, dala_sqlite_synchronous_pragma(), "set durability");
    if (!rc) rc = dala_migrate(store->db, dala_device_migrations, path);
    if (rc) {
        /* Name the file in the detail, keeping SQLite's reason. */
        char detail[400];
        snprintf(detail, sizeof detail, "%s", dala_errmsg());
        if (!strstr(detail, path)) dala_error_set(rc, "open %s: %s", path, detail);
    }
    return rc;
}

int dala_store_new(dala_store **out, const char *path)
{
    *out = NULL;
    int rc = create_private_file(path);
    if (rc) return rc;
    dala_store *store = calloc(1, sizeof *store);
    if (!store || !(store->path = strdup(path))) {
        free(store);
        return dala_error_set(DALA_ENOMEM, "open store %s: out of memory", path);
    }
    *out = store;
    return DALA_OK;
}

int dala_store_open(dala_store **out, const char *path)
{
    if (!out) return dala_error_set(DALA_EINVAL, "open store: out is NULL");
    *out = NULL;
    if (!path || !*path) return dala_error_set(DALA_EINVAL, "open store: no path");
    dala_store *store;
    int rc = dala_store_new(&store, path);
    if (!rc) rc = dala_store_connect(store, path, 0);
    if (rc) {
        dala_store_close(store);
        return rc;
    }
    *out = store;
    return DALA_OK;
}

void dala_store_close(dala_store *store)
{
    if (!store) return;
    dala_session_free(store->session); /* wipes its keys */
    dala_keypair_wipe(&store->device_key);
    dala_db_cache_drop(store->db);
    sqlite3_close_v2(store->db);
    dala_store_forget_key(store); /* after the files that use it closed */
    free(store->path);
    free(store->status_officer);
    free(store->status_url);
    free(store);
}
