/* db.c - the central database: connections with Dala's settings (the
 * file made 0600), the schema migrated at start, the server's epoch kept
 * in it (its keys are in the key file: server_keys.c), and one connection
 * per worker thread with its prepared statements. */
#include "server_int.h"
#include "sqlite_settings.h"
#include "sqlite_text.h"
#include "migration.h"
#include "sync_int.h"
#include "backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <sys/statvfs.h>
#include <unistd.h>

extern const dala_migration server_migrations[];

static const char *const statement_sql[STMT_COUNT] = {
    [STMT_DEVICE_BY_ID] = "SELECT user_id, unit_id, public_key, revoked_at IS NOT NULL, lost_at IS NOT NULL "
                          "FROM device WHERE id = ?1",
    [STMT_UNIT_ANCESTORS] = "WITH RECURSIVE up(id, parent_id, depth) AS ("
                            "SELECT id, parent_id, 0 FROM org_unit WHERE id = ?1 UNION ALL "
                            "SELECT o.id, o.parent_id, up.depth + 1 FROM org_unit o JOIN up ON o.id = up.parent_id "
                            "WHERE up.depth < 16) SELECT id FROM up WHERE depth > 0 ORDER BY depth",
    [STMT_RECORD_GET] = "SELECT tbl, unit_id, data FROM record WHERE id = ?1",
    [STMT_RECORD_UPSERT] = SERVER_RECORD_UPSERT_SQL,
    [STMT_HISTORY_ADD] = SERVER_HISTORY_ADD_SQL,
    [STMT_UNIT_NEXT_SEQ] = "SELECT next_seq FROM org_unit WHERE id = ?1",
    [STMT_UNIT_SET_NEXT_SEQ] = "UPDATE org_unit SET next_seq = ?2 WHERE id = ?1",
    /* An older batch applied again (a replay, a restored tablet) leaves the
     * record of the device's latest batch as it is. */
    [STMT_DEVICE_SET_BATCH] = "UPDATE device SET last_batch_seq = ?2, last_results = ?3, "
                              "last_batch_digest = ?4 WHERE id = ?1 AND last_batch_seq <= ?2",
    [STMT_DEVICE_LAST_BATCH] = "SELECT last_batch_seq, last_batch_digest, last_results FROM device WHERE id = ?1",
    /* At most one write a minute per device, so a pull-only sync costs no fsync. */
    [STMT_DEVICE_SET_SYNCED] = "UPDATE device SET last_sync_at = ?2 WHERE id = ?1 "
                               "AND (last_sync_at IS NULL OR last_sync_at < ?2 - 60)",
    [STMT_PULL_PAGE] = "SELECT id, tbl, seq, data, last_writer, prev_seq FROM record "
                       "WHERE unit_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
};

static _Thread_local server_conn *thread_conn;

int server_db_error(sqlite3 *db, const char *what)
{
    int primary = sqlite3_errcode(db);
    /* Other writers holding the database past the busy timeout pass; so
     * may a full disk. Both are told apart so a tablet retries them. */
    int code = primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? DALA_EBUSY
               : primary == SQLITE_FULL                           ? DALA_ENOSPACE
                                                                  : DALA_EIO;
    return dala_error_set(code, "%s: %s (sqlite %d)", what, sqlite3_errmsg(db),
                          sqlite3_extended_errcode(db));
}

/* How long a statement waits for other writers before it answers busy. */
#define BUSY_WAIT_MS 10000

/* The busy handler: polls every 1 to 4 ms for up to BUSY_WAIT_MS. SQLite's
 * own timeout backs off to 100 ms sleeps, and so loses every time to a
 * writer that lets go of the lock for a few milliseconds between long
 * transactions (a bulk import, a report filing): short polls find the gap. */
static int wait_while_busy(void *context, int attempt)
{
    (void)context;
    int64_t waited_us = (int64_t)attempt * 2500; /* the average sleep below */
    if (waited_us >= (int64_t)BUSY_WAIT_MS * 1000) return 0;
    struct timespec pause = {0, (long)(1000000 + (attempt % 4) * 1000000)};
    nanosleep(&pause, NULL);
    return 1;
}

int server_db_open(sqlite3 **out, const char *path)
{
    sqlite3 *db = NULL;
    *out = NULL;
    /* Made here 0600 (in a folder made 0700), not by SQLite with 0644 less
     * the umask; SQLite gives the -wal and -shm files the database's mode. */
    int rc = server_file_create(path);
    if (rc) return dala_error_wrap(rc, "open database");
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        rc = dala_error_set(DALA_EIO, "open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_handler(db, wait_while_busy, NULL);
    /* Kazakh order and case-insensitive search (collation kk, dala_fold). */
    if (dala_sqlite_text_register(db) != SQLITE_OK) {
        sqlite3_close(db);
        return dala_error_set(DALA_ENOMEM, "open %s: registering the Kazakh collation failed", path);
    }
    const char *pragmas = "PRAGMA journal_mode = WAL; "
                          "PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 4000;";
    if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, dala_sqlite_synchronous_pragma(), NULL, NULL, NULL) != SQLITE_OK) {
        rc = server_db_error(db, path);
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
    FILE *file = server_file_open_write(tmp, 0);
    int is_written = file && fprintf(file, "%llu %lld\n", (unsigned long long)server->epoch,
                                     (long long)log_high_water(db)) >= 0;
    /* fclose writes the buffer: on a full disk this is where it fails. */
    if (file && fclose(file) != 0) is_written = 0;
    if (is_written && rename(tmp, path) == 0) return DALA_OK;
    int error = errno;
    remove(tmp); /* the file from before stays as it was */
    return dala_error_set(error == ENOSPC ? DALA_ENOSPACE : DALA_EIO,
                          "write %s: cannot record the server epoch: %s", path, strerror(error));
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

/* Loads the server's epoch, making it on first start; then its keys
 * (server_keys.c), from the key file beside the database, made or moved
 * there out of a database an older build kept its secret in. */
static int load_identity(dala_server *server, sqlite3 *db)
{
    uint8_t epoch[8];
    int rc = server_db_begin(db);
    if (rc) return rc;
    rc = meta_get(db, "epoch", epoch, sizeof epoch);
    if (rc == DALA_ENOTFOUND) {
        rc = dala_random(epoch, sizeof epoch);
        epoch[0] &= 0x7f; /* keep it positive as a SQLite integer and in JSON */
        if (!rc) rc = meta_put(db, "epoch", epoch, sizeof epoch);
    }
    if (!rc) rc = reconcile_epoch(epoch, db, server->db_path);
    if (!rc) rc = server_db_commit(db);
    else server_db_rollback(db);
    server->epoch = dala_load_u64be(epoch);
    if (!rc) rc = server_keys_start(server, db);
    return rc;
}

/* Before a database of an older schema is migrated, a copy of it as it
 * is: "<db>.before-<N>", N the schema this build migrates it to (mode
 * 0600, SQLite's online backup API, fsynced). A fresh database (schema 0)
 * needs none, nor one already current. A copy already there is kept: it
 * is from an earlier try at this same upgrade, so it holds the database
 * as it was before any step of it. A copy that cannot be made (no room)
 * stops the start, unless DALA_NO_BACKUP_BEFORE_MIGRATE=1 (the serve
 * flag --no-backup-before-migrate) says to migrate without one. */
int dala_db_migrate(sqlite3 *db, const char *db_path, char *note, size_t note_size)
{
    sqlite3_stmt *stmt = NULL;
    int current = 0, latest = dala_migration_latest(server_migrations);
    if (note && note_size) note[0] = '\0';
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        current = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    if (current > 0 && current < latest) {
        const char *skip = getenv("DALA_NO_BACKUP_BEFORE_MIGRATE");
        char copy[4200];
        snprintf(copy, sizeof copy, "%s.before-%d", db_path, latest);
        if (skip && strcmp(skip, "1") == 0) {
            if (note) snprintf(note, note_size, "migrating %s from schema %d to %d without a copy before "
                               "(--no-backup-before-migrate)", db_path, current, latest);
        } else if (access(copy, F_OK) == 0) {
            if (note) snprintf(note, note_size, "migrating %s from schema %d to %d; the copy from before, %s, "
                               "was made by an earlier try and is kept", db_path, current, latest, copy);
        } else {
            int rc = dala_backup_copy_db(db, copy);
            if (rc) {
                char why[600];
                snprintf(why, sizeof why, "%s", dala_errmsg());
                return dala_error_set(rc, "migrate %s from schema %d to %d: the copy before it failed (%s); free "
                                      "some room, or start with --no-backup-before-migrate to migrate without a copy",
                                      db_path, current, latest, why);
            }
            if (note) snprintf(note, note_size, "migrating %s from schema %d to %d; a copy from before is in %s",
                               db_path, current, latest, copy);
        }
    }
    return dala_migrate(db, server_migrations, db_path);
}

/* The files beside the database that an older build made 0644 (less the
 * umask) are made 0600 before anything opens them; the log says so once,
 * since the next start finds nothing to do. */
static void tighten_old_files(char *note, size_t size, const char *db_path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal", ".epoch", ".reserve"};
    size_t used = 0;
    note[0] = '\0';
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s%s", db_path, suffixes[i]);
        int done = server_file_tighten(path);
        if (done != 0 && used < size)
            used += (size_t)snprintf(note + used, size - used, "%s%s%s", used ? ", " : "", path,
                                     done < 0 ? " (failed: not its owner?)" : "");
    }
}

/* Starting on a full disk. The first connection to a WAL database builds
 * SQLite's WAL index (the 32 KiB "<db>-shm" file, removed at the last
 * close), and the start writes the epoch file: with no room left on the
 * disk the open failed, and the server could not start even to serve
 * pulls. So a start that finds room keeps a reserve of START_RESERVE_BYTES
 * beside the database ("<db>.reserve"), and a start that finds less room
 * than that frees the reserve first, saying so in the log. The server then
 * runs as on any full disk: pulls are served, writes are refused with
 * DALA_ENOSPACE until space is freed, and the next start with room keeps a
 * reserve again. An epoch file that cannot be written is a warning, not a
 * failure: the one written before stays, and restores are still detected
 * against its mark. A database that needs a migration cannot be migrated
 * without room: that start fails, saying how much room there is. */
#define START_RESERVE_BYTES (64 * 1024)

int server_db_prepare(dala_server *server)
{
    char reserve[4200], dir[4096], warnings[4][700];
    int warning_count = 0;
    snprintf(reserve, sizeof reserve, "%s.reserve", server->db_path);
    snprintf(dir, sizeof dir, "%s", server->db_path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else slash[slash == dir ? 1 : 0] = '\0'; /* "/db" is in "/" */
    struct statvfs disk;
    uint64_t free_bytes = statvfs(dir, &disk) == 0 ? (uint64_t)disk.f_bavail * disk.f_frsize : UINT64_MAX;
    int is_full = free_bytes < START_RESERVE_BYTES, is_released = is_full && remove(reserve) == 0;
    char tightened[480];
    tighten_old_files(tightened, sizeof tightened, server->db_path);
    if (tightened[0])
        snprintf(warnings[warning_count++], sizeof warnings[0],
                 "made the database's files private (mode 0600; an older dala-server left them readable by "
                 "other users): %s", tightened);

    sqlite3 *db;
    int rc = server_db_open(&db, server->db_path);
    if (!rc) {
        char migrated[700];
        rc = dala_db_migrate(db, server->db_path, migrated, sizeof migrated);
        if (!rc && migrated[0]) snprintf(warnings[warning_count++], sizeof warnings[0], "%s", migrated);
        if (!rc) rc = load_identity(server, db);
        if (!rc && server_epoch_mark(server, db))
            snprintf(warnings[warning_count++], sizeof warnings[0],
                     "%s; restores are detected against the mark written before", dala_errmsg());
        sqlite3_close(db);
    }
    if (rc && is_full) {
        char why[600];
        snprintf(why, sizeof why, "%s", dala_errmsg());
        return dala_error_set(rc, "%s (the disk is full: %llu bytes free%s; free some space)", why,
                              (unsigned long long)free_bytes,
                              is_released ? ", with the start reserve released" : ", and no start reserve left");
    }
    if (rc) return rc;
    if (is_full)
        snprintf(warnings[warning_count++], sizeof warnings[0],
                 "the disk holding %s is full (%llu bytes free)%s: pulls are served, writes are refused "
                 "until space is freed", server->db_path, (unsigned long long)free_bytes,
                 is_released ? "; the start reserve beside it was released so the server could start" : "");
    /* The reserve is kept only where it leaves as much room again. */
    FILE *file = free_bytes >= 2 * START_RESERVE_BYTES ? server_file_open_write(reserve, 1) : NULL;
    if (file) {
        static const char zeros[4096];
        size_t written = 0;
        while (written < START_RESERVE_BYTES && fwrite(zeros, 1, sizeof zeros, file) == sizeof zeros)
            written += sizeof zeros;
        if (fclose(file) != 0 || written < START_RESERVE_BYTES) remove(reserve);
    }
    if (warning_count && !server->options.quiet) {
        char when[32];
        server_log_time(when);
        pthread_mutex_lock(&server->lock);
        for (int i = 0; i < warning_count; i++) fprintf(server->log, "%s warning: %s\n", when, warnings[i]);
        fflush(server->log);
        pthread_mutex_unlock(&server->lock);
    }
    return DALA_OK;
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
