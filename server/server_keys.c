/* server_keys.c - the server's key epochs through their life. The key
 * file (key_file.c) holds one X25519 secret per epoch; the highest held
 * epoch is current: enrolment hands it out, and answers to a device that
 * used an older one carry it (docs/protocol.md, "Server keys and
 * rotation"). Every change of the key file (made, moved out of an older
 * database, rotated, old secrets destroyed) is made under the database's
 * write lock (BEGIN IMMEDIATE), so `admin rotate-key` and a running server
 * never interleave their read-modify-write; the file is written durably
 * before the transaction that depends on it commits.
 *
 * A running server notices a rotation made by another process by the key
 * file's identity (device, inode, size, modification time): one stat() at
 * each sync, about a microsecond, and the next sync after a rotation
 * already runs with the new keys, with nothing for the operator to do (a
 * SIGHUP would be one more step to forget, and a missed one would leave
 * the new key unused). The maintenance thread checks every minute too, so
 * secrets past their destroy-after time are destroyed without a sync; and
 * a secret past that time is refused at once, destroyed or not. */
#include "server_int.h"
#include "sync_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

const server_key *server_keyring_current(const server_keyring *ring)
{
    for (size_t i = ring->count; i-- > 0;)
        if (!ring->keys[i].destroyed_at) return &ring->keys[i];
    return NULL;
}

const server_key *server_keyring_find(const server_keyring *ring, uint32_t epoch)
{
    for (size_t i = 0; i < ring->count; i++)
        if (ring->keys[i].epoch == epoch) return &ring->keys[i];
    return NULL;
}

void server_keyring_wipe(server_keyring *ring)
{
    dala_wipe(ring, sizeof *ring);
}

/* The earliest destroy-after time of a held key; 0 if none. */
static int64_t next_destroy(const server_keyring *ring)
{
    int64_t first = 0;
    for (size_t i = 0; i < ring->count; i++) {
        const server_key *key = &ring->keys[i];
        if (!key->destroyed_at && key->destroy_after && (!first || key->destroy_after < first))
            first = key->destroy_after;
    }
    return first;
}

/* Destroys the secrets past their destroy-after time (never the current
 * one), leaving their epochs as "destroyed" lines so no epoch is used
 * twice; only the newest SERVER_MAX_KEYS / 2 of those are kept. */
static void destroy_expired(server_keyring *ring, int64_t now, server_key_report *report)
{
    const server_key *current = server_keyring_current(ring);
    for (size_t i = 0; i < ring->count; i++) {
        server_key *key = &ring->keys[i];
        if (key == current || key->destroyed_at || !key->destroy_after || now < key->destroy_after) continue;
        dala_keypair_wipe(&key->pair);
        memset(&key->pair, 0, sizeof key->pair);
        key->destroyed_at = now;
        if (report->destroyed_count < SERVER_MAX_KEYS) report->destroyed[report->destroyed_count++] = key->epoch;
    }
    size_t gone = 0, keep_gone = SERVER_MAX_KEYS / 2;
    for (size_t i = 0; i < ring->count; i++) gone += ring->keys[i].destroyed_at != 0;
    for (size_t i = 0; i < ring->count && gone > keep_gone;) {
        if (!ring->keys[i].destroyed_at || i + 1 == ring->count) {
            i++;
            continue;
        }
        memmove(&ring->keys[i], &ring->keys[i + 1], (ring->count - i - 1) * sizeof ring->keys[0]);
        ring->count--;
        gone--;
    }
}

/* Adds a fresh key as the new current epoch; the held ones are destroyed
 * `grace_seconds` from now. */
static int add_epoch(server_keyring *ring, int64_t now, int64_t grace_seconds, server_key_report *report)
{
    const server_key *current = server_keyring_current(ring);
    if (ring->count == SERVER_MAX_KEYS) {
        destroy_expired(ring, now, report); /* makes room among the destroyed */
        if (ring->count == SERVER_MAX_KEYS)
            return dala_error_set(DALA_ELIMIT, "rotate key: %d epochs are still held; wait until older ones "
                                               "are destroyed", SERVER_MAX_KEYS);
        current = server_keyring_current(ring);
    }
    uint32_t epoch = ring->count ? ring->keys[ring->count - 1].epoch + 1 : SERVER_FIRST_KEY_EPOCH;
    if (current) {
        report->previous_epoch = current->epoch;
        report->previous_destroy_after = now + grace_seconds;
    }
    for (size_t i = 0; i < ring->count; i++) {
        server_key *key = &ring->keys[i];
        if (!key->destroyed_at && (!key->destroy_after || key->destroy_after > now + grace_seconds))
            key->destroy_after = now + grace_seconds;
    }
    server_key *key = &ring->keys[ring->count];
    memset(key, 0, sizeof *key);
    int rc = dala_keypair_generate(&key->pair);
    if (rc) return rc;
    key->epoch = epoch;
    key->created_at = now;
    ring->count++;
    report->new_epoch = epoch;
    return DALA_OK;
}

/* A row of server_meta: 1 and its value in `out` (`len` bytes exactly)
 * if present, 0 if absent, or an error. */
static int meta_read(uint8_t *out, size_t len, sqlite3 *db, const char *key)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "SELECT value FROM server_meta WHERE key = ?1", -1, &stmt, NULL))
        return server_db_error(db, "read server settings");
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt), rc = 0;
    if (step == SQLITE_ROW) {
        rc = 1;
        if (out && (size_t)sqlite3_column_bytes(stmt, 0) != len)
            rc = dala_error_set(DALA_ECORRUPT, "server setting %s: %d bytes, not %zu", key,
                                sqlite3_column_bytes(stmt, 0), len);
        else if (out) memcpy(out, sqlite3_column_blob(stmt, 0), len);
    } else if (step != SQLITE_DONE) {
        rc = server_db_error(db, "read server settings");
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int meta_exec(sqlite3 *db, const char *sql, const char *key)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL)) return server_db_error(db, "write server settings");
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(db, "write server settings");
    sqlite3_finalize(stmt);
    return rc;
}

/* The body of server_keys_update, inside its transaction. */
static int update_in_transaction(server_keyring *ring, sqlite3 *db, const server_key_config *config, int64_t now,
                                 int64_t rotate_grace_seconds, server_key_report *report)
{
    uint8_t legacy[DALA_KEY_BYTES];
    int is_wrapped = 0, is_dirty = 0;
    int has_legacy = meta_read(legacy, sizeof legacy, db, SERVER_META_STATIC_SECRET);
    int has_marker = has_legacy < 0 ? has_legacy : meta_read(NULL, 0, db, SERVER_META_KEY_FILE_MADE);
    int rc = has_marker < 0 ? has_marker : server_key_file_read(ring, &is_wrapped, config);
    if (rc == DALA_ENOTFOUND && has_marker)
        rc = dala_error_set(DALA_ENOTFOUND, "the key file %s is missing, but the keys of this database's devices "
                                            "were kept there: restore it from its backup (or give its place with "
                                            "--key-file); a new key would strand every enrolled tablet",
                            config->path);
    else if (rc == DALA_ENOTFOUND) {
        /* Moved out of an older database as epoch 1, or made new. */
        memset(ring, 0, sizeof *ring);
        server_key *key = &ring->keys[0];
        rc = has_legacy ? dala_keypair_from_secret(&key->pair, legacy) : dala_keypair_generate(&key->pair);
        key->epoch = SERVER_FIRST_KEY_EPOCH;
        key->created_at = now;
        ring->count = 1;
        report->is_moved = has_legacy;
        report->is_made = !has_legacy;
        is_dirty = 1;
    } else if (!rc && has_legacy) {
        /* A move that stopped after the file was written: it must hold the same key. */
        dala_keypair pair;
        const server_key *same = NULL;
        rc = dala_keypair_from_secret(&pair, legacy);
        for (size_t i = 0; !rc && i < ring->count && !same; i++)
            if (!ring->keys[i].destroyed_at &&
                dala_ct_compare(ring->keys[i].pair.secret, pair.secret, DALA_KEY_BYTES) == 0)
                same = &ring->keys[i];
        dala_keypair_wipe(&pair);
        if (!rc && !same)
            rc = dala_error_set(DALA_ECORRUPT, "the key file %s and the database disagree: the database still "
                                               "holds a server secret the key file does not", config->path);
        report->is_moved = 1;
    }
    if (!rc && config->has_wrap_key && !is_wrapped) {
        report->is_wrapped = !report->is_made && !report->is_moved;
        is_dirty = 1;
    }
    if (!rc && rotate_grace_seconds >= 0) {
        rc = add_epoch(ring, now, rotate_grace_seconds, report);
        is_dirty = 1;
    }
    if (!rc) {
        destroy_expired(ring, now, report);
        is_dirty |= report->destroyed_count > 0;
    }
    /* The file first, durably; then the rows that say it exists. */
    if (!rc && is_dirty) rc = server_key_file_write(ring, config);
    if (!rc && has_legacy)
        rc = meta_exec(db, "DELETE FROM server_meta WHERE key = ?1", SERVER_META_STATIC_SECRET);
    if (!rc && !has_marker)
        rc = meta_exec(db, "INSERT OR REPLACE INTO server_meta (key, value) VALUES (?1, X'01')",
                       SERVER_META_KEY_FILE_MADE);
    dala_wipe(legacy, sizeof legacy);
    if (rc) server_keyring_wipe(ring);
    return rc;
}

int server_keys_update(server_keyring *out, sqlite3 *db, const server_key_config *config, int64_t now,
                       int64_t rotate_grace_seconds, server_key_report *report)
{
    memset(report, 0, sizeof *report);
    memset(out, 0, sizeof *out);
    /* Freed rows and cells are overwritten with zeros, so the static secret
     * an older build kept in the database leaves no copy in its pages. */
    int rc = sqlite3_exec(db, "PRAGMA secure_delete = ON", NULL, NULL, NULL) == SQLITE_OK
                 ? server_db_begin(db)
                 : server_db_error(db, "turn on secure_delete");
    if (!rc) rc = update_in_transaction(out, db, config, now, rotate_grace_seconds, report);
    if (!rc) rc = server_db_commit(db);
    else server_db_rollback(db);
    sqlite3_exec(db, "PRAGMA secure_delete = OFF", NULL, NULL, NULL);
    if (rc) {
        server_keyring_wipe(out);
        memset(report, 0, sizeof *report);
        return rc;
    }
    /* Nor in the WAL: its frames go into the database and the file is cut
     * to nothing. Another connection reading an older snapshot holds it
     * back; the maintenance thread's checkpoint then finishes it. */
    if (report->is_moved) {
        int log_frames = -1, done_frames = -1;
        int step = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &done_frames);
        report->is_checkpoint_partial = step != SQLITE_OK || log_frames != 0;
    }
    return DALA_OK;
}

/* --- the running server -------------------------------------------------- */

static void log_line(dala_server *server, const char *level, const char *fmt, ...) DALA_PRINTF(3, 4);

static void log_line(dala_server *server, const char *level, const char *fmt, ...)
{
    if (server->options.quiet) return;
    char when[32], text[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    server_log_time(when);
    pthread_mutex_lock(&server->lock);
    fprintf(server->log, "%s %s: %s\n", when, level, text);
    fflush(server->log);
    pthread_mutex_unlock(&server->lock);
}

static void log_report(dala_server *server, const server_key_report *report)
{
    const char *path = server->key_config.path;
    if (report->is_made) log_line(server, "note", "made the server's key (epoch 1) in %s", path);
    if (report->is_moved)
        log_line(server, "note", "moved the server's secret out of %s into the key file %s; the database no "
                                 "longer holds it", server->db_path, path);
    if (report->is_checkpoint_partial)
        log_line(server, "warning", "the database's WAL could not be emptied at once (another process reads "
                                    "it); the minute's checkpoint will");
    if (report->is_wrapped) log_line(server, "note", "wrapped the key file %s with the key wrapping key given", path);
    for (size_t i = 0; i < report->destroyed_count; i++)
        log_line(server, "note", "destroyed the secret of key epoch %u after its grace period: tablets still on "
                                 "it must enrol again", (unsigned)report->destroyed[i]);
}

/* The key file's identity; zeros when it cannot be read. */
static server_file_stamp stamp_of(const char *path)
{
    server_file_stamp stamp;
    struct stat st;
    memset(&stamp, 0, sizeof stamp);
    if (stat(path, &st) == 0) {
        stamp.device = (uint64_t)st.st_dev;
        stamp.inode = (uint64_t)st.st_ino;
        stamp.size = (int64_t)st.st_size;
        stamp.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    }
    return stamp;
}

/* Puts `ring` in place of the server's keys (the old ones wiped). */
static void install(dala_server *server, server_keyring *ring, const server_file_stamp *stamp)
{
    pthread_mutex_lock(&server->keys_lock);
    server_keyring_wipe(&server->keyring);
    server->keyring = *ring;
    server->key_file_seen = *stamp;
    __atomic_store_n(&server->keys_next_destroy, next_destroy(ring), __ATOMIC_RELAXED);
    pthread_mutex_unlock(&server->keys_lock);
    server_keyring_wipe(ring);
}

int server_keys_start(dala_server *server, sqlite3 *db)
{
    server_keyring ring;
    server_key_report report;
    int rc = server_key_config_init(&server->key_config, server->db_path, server->options.key_file,
                                    server->options.key_wrap_file);
    if (!rc && server_file_tighten(server->key_config.path) > 0)
        log_line(server, "note", "made the key file %s 0600 (it was readable by others)", server->key_config.path);
    if (!rc) rc = server_keys_update(&ring, db, &server->key_config, server_now(server), -1, &report);
    if (rc) return rc;
    server_file_stamp stamp = stamp_of(server->key_config.path);
    install(server, &ring, &stamp);
    log_report(server, &report);
    return DALA_OK;
}

/* Seconds between tries after a reload failed (a busy database, a key
 * file being replaced by hand). */
#define RELOAD_RETRY_SECONDS 60

void server_keys_refresh(dala_server *server, sqlite3 *db)
{
    int64_t now = server_now(server), due = __atomic_load_n(&server->keys_next_destroy, __ATOMIC_RELAXED);
    server_file_stamp stamp = stamp_of(server->key_config.path);
    pthread_mutex_lock(&server->keys_lock);
    int is_changed = memcmp(&stamp, &server->key_file_seen, sizeof stamp) != 0;
    pthread_mutex_unlock(&server->keys_lock);
    if ((!is_changed && !(due && now >= due)) || now < __atomic_load_n(&server->keys_retry_at, __ATOMIC_RELAXED))
        return;
    /* One thread reloads; the others go on with the keys they have. */
    if (pthread_mutex_trylock(&server->keys_refresh_lock) != 0) return;
    server_keyring ring;
    server_key_report report;
    int rc = server_keys_update(&ring, db, &server->key_config, now, -1, &report);
    if (rc) {
        log_line(server, "warning", "reading the key file again failed; the keys loaded before stay in use: %s",
                 dala_errmsg());
        __atomic_store_n(&server->keys_retry_at, now + RELOAD_RETRY_SECONDS, __ATOMIC_RELAXED);
    } else {
        stamp = stamp_of(server->key_config.path);
        const server_key *current = server_keyring_current(&ring);
        uint32_t before = 0;
        pthread_mutex_lock(&server->keys_lock);
        const server_key *old = server_keyring_current(&server->keyring);
        if (old) before = old->epoch;
        pthread_mutex_unlock(&server->keys_lock);
        if (current && current->epoch != before)
            log_line(server, "note", "key epoch %u is now current (was %u)", (unsigned)current->epoch,
                     (unsigned)before);
        install(server, &ring, &stamp);
        log_report(server, &report);
    }
    pthread_mutex_unlock(&server->keys_refresh_lock);
}

/* The key of `epoch`, or the current one when `is_current`. */
static int pick(server_key_pick_result *out, dala_server *server, uint32_t epoch, int is_current)
{
    int64_t now = server_now(server);
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&server->keys_lock);
    const server_key *current = server_keyring_current(&server->keyring);
    const server_key *key = is_current ? current : server_keyring_find(&server->keyring, epoch);
    int is_live = key && !key->destroyed_at && (!key->destroy_after || now < key->destroy_after);
    if (is_live) out->pair = key->pair;
    if (current) {
        out->current_epoch = current->epoch;
        memcpy(out->current_public_key, current->pair.public_key, DALA_KEY_BYTES);
    }
    int64_t ended = key ? (key->destroyed_at ? key->destroyed_at : key->destroy_after) : 0;
    pthread_mutex_unlock(&server->keys_lock);
    if (is_live) return DALA_OK;
    if (!key)
        return dala_error_set(DALA_EAUTH, "sync: the frame is sealed to server key epoch %u, which this server "
                                          "never had: enrol the device again", (unsigned)epoch);
    return dala_error_set(DALA_EAUTH, "sync: the frame is sealed to server key epoch %u, whose secret was "
                                      "destroyed at the end of its grace period (unix time %lld): enrol the "
                                      "device again", (unsigned)epoch, (long long)ended);
}

int server_key_pick(server_key_pick_result *out, dala_server *server, uint32_t epoch)
{
    return pick(out, server, epoch, 0);
}

int server_key_pick_current(server_key_pick_result *out, dala_server *server)
{
    return pick(out, server, 0, 1);
}

void server_key_pick_wipe(server_key_pick_result *result)
{
    dala_keypair_wipe(&result->pair);
}

/* --- administration ------------------------------------------------------ */

int dala_admin_rotate_key(dala_key_rotation *out, dala_admin *admin, const char *key_file,
                          const char *key_wrap_file, int64_t grace_seconds)
{
    server_key_config config;
    server_keyring ring;
    server_key_report report;
    memset(out, 0, sizeof *out);
    if (grace_seconds < 0) return dala_error_set(DALA_EINVAL, "rotate key: the grace period is negative");
    const char *db_path = sqlite3_db_filename(admin->db, "main");
    int rc = server_key_config_init(&config, db_path ? db_path : "", key_file, key_wrap_file);
    if (!rc) rc = server_keys_update(&ring, admin->db, &config, (int64_t)time(NULL), grace_seconds, &report);
    if (!rc) {
        const server_key *current = server_keyring_current(&ring);
        out->epoch = current->epoch;
        memcpy(out->public_key, current->pair.public_key, DALA_KEY_BYTES);
        server_key_fingerprint(out->fingerprint, current->pair.public_key);
        out->previous_epoch = report.previous_epoch;
        out->previous_destroy_after = report.previous_destroy_after;
        out->destroyed_count = report.destroyed_count;
    }
    server_keyring_wipe(&ring);
    server_key_config_wipe(&config);
    return rc;
}
