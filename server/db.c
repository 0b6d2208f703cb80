/* db.c - the central database: connections with Dala's settings, the
 * schema migrated at start, the server's key and epoch kept in it, and one
 * connection per worker thread with its prepared statements. */
#include "server_int.h"
#include "sqlite_text.h"
#include "migration.h"
#include "sync_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const dala_migration server_migrations[];

static const char *const statement_sql[STMT_COUNT] = {
    [STMT_DEVICE_BY_ID] = "SELECT user_id, unit_id, public_key, revoked_at IS NOT NULL, "
                          "last_batch_seq FROM device WHERE id = ?1",
    [STMT_UNIT_ANCESTORS] = "WITH RECURSIVE up(id, parent_id, depth) AS ("
                            "SELECT id, parent_id, 0 FROM org_unit WHERE id = ?1 UNION ALL "
                            "SELECT o.id, o.parent_id, up.depth + 1 FROM org_unit o JOIN up ON o.id = up.parent_id "
                            "WHERE up.depth < 16) SELECT id FROM up WHERE depth > 0 ORDER BY depth",
    [STMT_RECORD_GET] = "SELECT tbl, unit_id, data FROM record WHERE id = ?1",
    [STMT_RECORD_UPSERT] = SERVER_RECORD_UPSERT_SQL,
    [STMT_HISTORY_ADD] = SERVER_HISTORY_ADD_SQL,
    [STMT_UNIT_NEXT_SEQ] = "SELECT next_seq FROM org_unit WHERE id = ?1",
    [STMT_UNIT_SET_NEXT_SEQ] = "UPDATE org_unit SET next_seq = ?2 WHERE id = ?1",
    [STMT_DEVICE_SET_BATCH] = "UPDATE device SET last_batch_seq = ?2, last_results = ?3 WHERE id = ?1",
    /* At most one write a minute per device, so a pull-only sync costs no fsync. */
    [STMT_DEVICE_SET_SYNCED] = "UPDATE device SET last_sync_at = ?2 WHERE id = ?1 "
                               "AND (last_sync_at IS NULL OR last_sync_at < ?2 - 60)",
    [STMT_PULL_PAGE] = "SELECT id, tbl, seq, data, last_writer, prev_seq FROM record "
                       "WHERE unit_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
};

static _Thread_local server_conn *thread_conn;

int server_db_error(sqlite3 *db, const char *what)
{
    return dala_error_set(DALA_EIO, "%s: %s (sqlite %d)", what, sqlite3_errmsg(db),
                          sqlite3_extended_errcode(db));
}

int server_db_open(sqlite3 **out, const char *path)
{
    sqlite3 *db = NULL;
    *out = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        int rc = dala_error_set(DALA_EIO, "open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 10000);
    /* Kazakh order and case-insensitive search (collation kk, dala_fold). */
    if (dala_sqlite_text_register(db) != SQLITE_OK) {
        sqlite3_close(db);
        return dala_error_set(DALA_ENOMEM, "open %s: registering the Kazakh collation failed", path);
    }
    const char *pragmas = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                          "PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 4000;";
    if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
        int rc = server_db_error(db, path);
        sqlite3_close(db);
        return rc;
    }
    *out = db;
    return DALA_OK;
}

int server_db_begin(sqlite3 *db)
{
    return sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK
               ? DALA_OK
               : server_db_error(db, "begin transaction");
}

int server_db_commit(sqlite3 *db)
{
    return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK
               ? DALA_OK
               : server_db_error(db, "commit");
}

void server_db_rollback(sqlite3 *db)
{
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* Reads a blob from server_meta into `out` (exactly `len` bytes). */
static int meta_get(sqlite3 *db, const char *key, void *out, size_t len)
{
    sqlite3_stmt *stmt;
    int rc = DALA_ENOTFOUND;
    if (sqlite3_prepare_v2(db, "SELECT value FROM server_meta WHERE key = ?1", -1, &stmt, NULL))
        return server_db_error(db, "read server settings");
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW && (size_t)sqlite3_column_bytes(stmt, 0) == len) {
        memcpy(out, sqlite3_column_blob(stmt, 0), len);
        rc = DALA_OK;
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int meta_put(sqlite3 *db, const char *key, const void *value, size_t len)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO server_meta (key, value) VALUES (?1, ?2)", -1, &stmt, NULL))
        return server_db_error(db, "write server settings");
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 2, value, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(db, "write server settings");
    sqlite3_finalize(stmt);
    return rc;
}

/* The unit logs' high-water mark: the sum of every unit's next position.
 * It only grows while the database lives; a restored copy is behind it. */
static int64_t log_high_water(sqlite3 *db)
{
    sqlite3_stmt *stmt;
    int64_t mark = 0;
    if (sqlite3_prepare_v2(db, "SELECT total(next_seq) FROM org_unit", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        mark = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return mark;
}

static void epoch_file_path(char *out, size_t size, const char *db_path)
{
    snprintf(out, size, "%s.epoch", db_path);
}

int server_epoch_mark(const dala_server *server, sqlite3 *db)
{
    char path[4096], tmp[4112];
    epoch_file_path(path, sizeof path, server->db_path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *file = fopen(tmp, "w");
    if (!file || fprintf(file, "%llu %lld\n", (unsigned long long)server->epoch,
                         (long long)log_high_water(db)) < 0 ||
        fclose(file) != 0 || rename(tmp, path) != 0)
        return dala_error_set(DALA_EIO, "write %s: cannot record the server epoch", path);
    return DALA_OK;
}

/* The epoch and the logs' high-water mark are also kept in a file beside
 * the database ("<db>.epoch", written at start, every minute and at stop).
 * A database behind that mark, or of another epoch, was replaced by an
 * older copy (a restore): a fresh epoch then tells every device to drop
 * its cursors and pull afresh instead of silently missing what the restore
 * lost. */
static int reconcile_epoch(uint8_t epoch[8], sqlite3 *db, const char *db_path)
{
    char path[4096];
    epoch_file_path(path, sizeof path, db_path);
    unsigned long long beside_epoch = 0;
    long long beside_mark = 0;
    FILE *file = fopen(path, "r");
    int has_beside = file && fscanf(file, "%llu %lld", &beside_epoch, &beside_mark) == 2;
    if (file) fclose(file);
    if (!has_beside) return DALA_OK;
    if (beside_epoch == dala_load_u64be(epoch) && log_high_water(db) >= beside_mark) return DALA_OK;
    int rc = dala_random(epoch, 8);
    epoch[0] &= 0x7f;
    if (!rc) rc = meta_put(db, "epoch", epoch, 8);
    return rc;
}

/* Loads the server's static key and epoch, making them on first start. */
static int load_identity(dala_server *server, sqlite3 *db)
{
    uint8_t secret[DALA_KEY_BYTES], epoch[8];
    int rc = server_db_begin(db);
    if (rc) return rc;
    rc = meta_get(db, "static_secret", secret, sizeof secret);
    if (rc == DALA_ENOTFOUND) {
        rc = dala_random(secret, sizeof secret);
        if (!rc) rc = dala_random(epoch, sizeof epoch);
        epoch[0] &= 0x7f; /* keep it positive as a SQLite integer and in JSON */
        if (!rc) rc = meta_put(db, "static_secret", secret, sizeof secret);
        if (!rc) rc = meta_put(db, "epoch", epoch, sizeof epoch);
    } else if (!rc) {
        rc = meta_get(db, "epoch", epoch, sizeof epoch);
    }
    if (!rc) rc = reconcile_epoch(epoch, db, server->db_path);
    if (!rc) rc = dala_keypair_from_secret(&server->keys, secret);
    if (!rc) rc = server_db_commit(db);
    else server_db_rollback(db);
    server->epoch = dala_load_u64be(epoch);
    if (!rc) rc = server_epoch_mark(server, db);
    dala_wipe(secret, sizeof secret);
    return rc;
}

int server_db_prepare(dala_server *server)
{
    sqlite3 *db;
    int rc = server_db_open(&db, server->db_path);
    if (rc) return rc;
    rc = dala_migrate(db, server_migrations, server->db_path);
    if (!rc) rc = load_identity(server, db);
    sqlite3_close(db);
    return rc;
}

static void conn_close(server_conn *conn)
{
    if (!conn) return;
    for (int i = 0; i < STMT_COUNT; i++) sqlite3_finalize(conn->stmts[i]);
    sqlite3_close(conn->db);
    free(conn);
}

server_conn *server_conn_get(dala_server *server)
{
    if (thread_conn && thread_conn->server == server) return thread_conn;
    conn_close(thread_conn);
    thread_conn = NULL;
    server_conn *conn = calloc(1, sizeof *conn);
    if (!conn) {
        dala_error_set(DALA_ENOMEM, "open worker connection: out of memory");
        return NULL;
    }
    conn->server = server;
    if (server_db_open(&conn->db, server->db_path)) {
        free(conn);
        return NULL;
    }
    thread_conn = conn;
    return conn;
}

void server_conn_release(void)
{
    conn_close(thread_conn);
    thread_conn = NULL;
}

sqlite3_stmt *server_stmt_get(server_conn *conn, server_stmt which)
{
    sqlite3_stmt *stmt = conn->stmts[which];
    if (!stmt) {
        if (sqlite3_prepare_v3(conn->db, statement_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                               &conn->stmts[which], NULL) != SQLITE_OK) {
            server_db_error(conn->db, "prepare statement");
            return NULL;
        }
        return conn->stmts[which];
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return stmt;
}
