/* test_backup.c - suite "backup": the encrypted backup file and restores
 * (server/backup.c), against a real server in this process.
 *
 * What the suite proves: an operator's key pair is made 0600/0644 and
 * never overwritten; a backup taken while tablets sync restores the
 * database, its epoch file and the key file byte for byte, with a fresh
 * epoch that the epoch file agrees with; the backup file holds no
 * plaintext (no record text, no server secret) and opens with no other
 * key; a flipped byte anywhere, a file cut at any chunk boundary or inside
 * a chunk, a dropped, swapped or appended chunk are each refused with
 * nothing restored; a database that exists is replaced only with force and
 * never while a server holds it; a key file that differs is kept or
 * replaced only as the operator says; the commands answer --help and
 * refuse bad flags; a migration takes a copy first, or refuses without
 * one unless told. */
#include "backup.h"
#include "e2e_support.h"
#include "migration.h"
#include "sqlite_text.h"
#include "sync_int.h"
#include "testhelp.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern const dala_migration server_migrations[];

static mode_t mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_mode & 0777 : 0;
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* The whole of a file, binary; NULL if unreadable. */
static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    uint8_t *data = malloc(size > 0 ? (size_t)size : 1);
    *len = data && fread(data, 1, (size_t)size, file) == (size_t)size ? (size_t)size : 0;
    fclose(file);
    return data;
}

static int write_all_to(const char *path, const uint8_t *data, size_t len)
{
    FILE *file = fopen(path, "wb");
    if (!file) return -1;
    int ok = fwrite(data, 1, len, file) == len;
    return fclose(file) == 0 && ok ? 0 : -1;
}

static int same_files(const char *a, const char *b)
{
    size_t alen = 0, blen = 0;
    uint8_t *x = read_all(a, &alen), *y = read_all(b, &blen);
    int same = x && y && alen == blen && memcmp(x, y, alen) == 0;
    free(x);
    free(y);
    return same;
}

static int contains(const uint8_t *data, size_t len, const void *needle, size_t needle_len)
{
    return needle_len && len >= needle_len && memmem(data, len, needle, needle_len) != NULL;
}

/* A world: the harness's server, an operator key, one tablet with records synced. */
typedef struct world {
    harness h;
    char key[400], pub[420], out[400], restored[400];
    dala_store *tablet;
    record_set captured;
    records_gen gen;
} world;

static int world_start(world *w, int records)
{
    memset(w, 0, sizeof *w);
    if (harness_start(&w->h, 0)) return -1;
    snprintf(w->key, sizeof w->key, "%s/operator.key", w->h.dir);
    snprintf(w->pub, sizeof w->pub, "%s.pub", w->key);
    snprintf(w->out, sizeof w->out, "%s/central.backup", w->h.dir);
    snprintf(w->restored, sizeof w->restored, "%s/restored/central.db", w->h.dir);
    CHECK_OK(dala_backup_keygen(w->key, NULL));
    records_gen_init(&w->gen, 4242);
    w->tablet = device_enrol(&w->h, "a1", w->h.officer_a, w->h.unit_a);
    if (!w->tablet) return -1;
    capture(&w->captured, w->tablet, &w->gen, records);
    sync_ok(w->tablet);
    return 0;
}

static void world_stop(world *w)
{
    dala_store_close(w->tablet);
    set_free(&w->captured);
    e2e_stop(&w->h);
}

/* A database opened to read beside a running server: it waits out the
 * server's brief locks (a checkpoint, the epoch mark) instead of reading
 * nothing. NULL-safe to close. */
static sqlite3 *open_to_read(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static long long db_int(const char *path, const char *sql)
{
    sqlite3 *db = open_to_read(path);
    sqlite3_stmt *stmt = NULL;
    long long value = -1;
    if (db && sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
}

/* The epoch as the file beside the database says it. */
static unsigned long long epoch_in_file(const char *db_path, long long *mark)
{
    char path[450];
    unsigned long long epoch = 0;
    snprintf(path, sizeof path, "%s.epoch", db_path);
    FILE *file = fopen(path, "r");
    if (!file || fscanf(file, "%llu %lld", &epoch, mark) != 2) epoch = 0;
    if (file) fclose(file);
    return epoch;
}

static unsigned long long epoch_of(const char *db_path)
{
    sqlite3 *db = open_to_read(db_path);
    sqlite3_stmt *stmt = NULL;
    unsigned long long epoch = 0;
    if (db && sqlite3_prepare_v2(db, "SELECT value FROM server_meta WHERE key = 'epoch'", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_bytes(stmt, 0) == 8)
        epoch = dala_load_u64be(sqlite3_column_blob(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return epoch;
}

/* ================================================================ tests */

static void test_backup_keygen_writes_a_private_and_a_public_key_and_never_overwrites(void)
{
    char key[400], pub[420], fingerprint[24];
    snprintf(key, sizeof key, "%s/op.key", test_tmpdir());
    snprintf(pub, sizeof pub, "%s.pub", key);
    CHECK_OK(dala_backup_keygen(key, fingerprint));
    CHECK_EQ_INT(mode_of(key), 0600);
    CHECK_EQ_INT(mode_of(pub), 0644);
    CHECK_EQ_INT((int)strlen(fingerprint), 19);
    char *text = test_read_file(pub);
    CHECK(text && strncmp(text, "dala-backup-public-key 1\n", 25) == 0);
    CHECK(text && strstr(text, fingerprint) != NULL);
    free(text);
    size_t before_len = 0;
    uint8_t *before = read_all(key, &before_len);
    CHECK_EQ_INT(dala_backup_keygen(key, NULL), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "never overwritten");
    size_t after_len = 0;
    uint8_t *after = read_all(key, &after_len);
    CHECK(before && after && before_len == after_len && memcmp(before, after, before_len) == 0);
    free(before);
    free(after);
    /* A private key others may read is refused by restore. */
    chmod(key, 0640);
    CHECK_EQ_INT(dala_backup_restore(NULL, pub, key, pub, NULL, 0) == DALA_OK, 0);
}

typedef struct sync_loop {
    dala_store *tablet;
    records_gen *gen;
    record_set *captured;
    _Atomic int stop;
    int rounds;
} sync_loop;

static void *keep_syncing(void *arg)
{
    sync_loop *loop = arg;
    while (!loop->stop && loop->rounds < 200) {
        capture(loop->captured, loop->tablet, loop->gen, 2);
        sync_ok(loop->tablet);
        loop->rounds++;
    }
    return NULL;
}

static void test_backup_taken_while_tablets_sync_restores_database_epoch_and_keys(void)
{
    world w;
    if (world_start(&w, 20)) goto done;
    char keys[400];
    snprintf(keys, sizeof keys, "%s.keys", w.h.db_path);

    /* Backups while a tablet captures and syncs without pause. */
    sync_loop loop = {w.tablet, &w.gen, &w.captured, 0, 0};
    pthread_t thread;
    CHECK_EQ_INT(pthread_create(&thread, NULL, keep_syncing, &loop), 0);
    dala_backup_stats stats;
    for (int i = 0; i < 3; i++) {
        remove(w.out);
        CHECK_OK(dala_backup_write(&stats, w.h.db_path, NULL, w.out, w.pub));
    }
    loop.stop = 1;
    pthread_join(thread, NULL);
    printf("    backups taken while a tablet synced %d times; file %llu bytes, database %llu bytes\n", loop.rounds,
           (unsigned long long)stats.file_bytes, (unsigned long long)stats.database_bytes);
    CHECK_EQ_INT(mode_of(w.out), 0600);
    CHECK(stats.has_epoch_file && stats.has_key_file && !stats.is_key_file_wrapped);
    CHECK(stats.file_bytes < stats.database_bytes); /* compressed */

    /* No temporary file is left beside the database or the backup. */
    char command[700];
    snprintf(command, sizeof command, "ls -a '%s' | grep -q -e backup- -e '\\.tmp$'", w.h.dir);
    CHECK(system(command) != 0);

    dala_restore_result res;
    CHECK_OK(dala_backup_restore(&res, w.out, w.key, w.restored, NULL, 0));
    CHECK_EQ_INT(mode_of(w.restored), 0600);
    CHECK_EQ_INT(res.key_file_action, DALA_RESTORE_KEYS_WRITTEN);
    char restored_keys[450];
    snprintf(restored_keys, sizeof restored_keys, "%s.keys", w.restored);
    CHECK(same_files(keys, restored_keys));
    CHECK_EQ_INT(mode_of(restored_keys), 0600);
    CHECK(res.created[0] != '\0');

    /* The epoch: the backup's, then a fresh one, and the file agrees. */
    CHECK_EQ_U64(res.epoch_before, epoch_of(w.h.db_path));
    CHECK(res.epoch_after != res.epoch_before && res.epoch_after != 0);
    CHECK_EQ_U64(epoch_of(w.restored), res.epoch_after);
    long long mark = 0;
    CHECK_EQ_U64(epoch_in_file(w.restored, &mark), res.epoch_after);
    CHECK_EQ_INT(mark, res.high_water);
    CHECK_EQ_INT(mode_of(strcat(strcpy((char[460]){0}, w.restored), ".epoch")), 0600);

    /* The restored copy is whole: every record acknowledged before the
     * last backup at least, and SQLite's check passes. */
    char result[64];
    CHECK(integrity_of(result, sizeof result, w.restored));
    long long held = db_int(w.restored, "SELECT count(*) FROM record WHERE tbl = 'field_visit'");
    CHECK(held >= 20 && held <= (long long)w.captured.count);
done:
    world_stop(&w);
}

static void test_backup_file_holds_no_plaintext_and_opens_with_no_other_key(void)
{
    world w;
    if (world_start(&w, 10)) goto done;
    CHECK_OK(dala_backup_write(NULL, w.h.db_path, NULL, w.out, w.pub));
    size_t len = 0;
    uint8_t *file = read_all(w.out, &len);
    CHECK(file && len > 96);
    CHECK(file && memcmp(file, "dala-backup\0", 12) == 0);

    /* Record text, the key file's secret line and SQLite's header are not in it. */
    char *keys_text = NULL;
    char keys[400];
    snprintf(keys, sizeof keys, "%s.keys", w.h.db_path);
    keys_text = test_read_file(keys);
    char *secret = keys_text ? strstr(keys_text, "secret ") : NULL;
    CHECK(secret != NULL);
    CHECK(!contains(file, len, "SQLite format 3", 15));
    CHECK(secret && !contains(file, len, secret + 7, 64));
    CHECK(!contains(file, len, "dala-server-keys", 16));
    /* Every captured record's fields JSON contains some Cyrillic text;
     * take a long run of it as the canary. */
    int canaries = 0;
    for (size_t i = 0; i < w.captured.count; i++) {
        const char *json = w.captured.json[i];
        const char *value = json ? strstr(json, "\"findings\":\"") : NULL;
        if (value) CHECK(!contains(file, len, value + 12, 24));
        canaries += value != NULL;
    }
    CHECK_EQ_INT(canaries, (int)w.captured.count);
    free(keys_text);
    free(file);

    /* Another operator's key: refused, nothing written. */
    char other[400];
    snprintf(other, sizeof other, "%s/other.key", w.h.dir);
    CHECK_OK(dala_backup_keygen(other, NULL));
    CHECK_EQ_INT(dala_backup_restore(NULL, w.out, other, w.restored, NULL, 0), DALA_EAUTH);
    CHECK_CONTAINS(dala_errmsg(), "another operator key");
    CHECK(!exists(w.restored));
    /* A public key file where the private one belongs: refused. */
    CHECK_EQ_INT(dala_backup_restore(NULL, w.out, w.pub, w.restored, NULL, 0), DALA_EINVAL);
    CHECK(!exists(w.restored));
done:
    world_stop(&w);
}

/* The chunks of a backup file: offsets of each chunk's start, and its length whole. */
static size_t chunk_offsets(const uint8_t *file, size_t len, size_t *offsets, size_t max)
{
    size_t count = 0, at = 96;
    while (at + 5 <= len && count < max) {
        uint32_t n = dala_load_u32be(file + at + 1);
        offsets[count++] = at;
        at += 5 + n + 16;
    }
    return count;
}

static void check_refused(world *w, const char *what, const uint8_t *data, size_t len, int want)
{
    char path[450];
    snprintf(path, sizeof path, "%s/bad.backup", w->h.dir);
    if (write_all_to(path, data, len)) {
        test_fail(__FILE__, __LINE__, "%s: cannot write the spoiled file", what);
        return;
    }
    int rc = dala_backup_restore(NULL, path, w->key, w->restored, NULL, 0);
    if (rc == DALA_OK || (want && rc != want))
        test_fail(__FILE__, __LINE__, "%s: restore answered %d (%s), wanted %d", what, rc, dala_errmsg(), want);
    if (exists(w->restored)) {
        test_fail(__FILE__, __LINE__, "%s: a database was restored", what);
        remove(w->restored);
    }
}

static void test_backup_changed_cut_reordered_or_extended_files_restore_nothing(void)
{
    world w;
    uint8_t *file = NULL, *copy = NULL;
    if (world_start(&w, 5)) goto done;
    /* Incompressible bytes make a backup of several chunks. */
    sqlite3 *db = central_open(&w.h);
    CHECK(db && sqlite3_exec(db, "CREATE TABLE filler (b BLOB); INSERT INTO filler VALUES (randomblob(2600000))",
                             NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK_OK(dala_backup_write(NULL, w.h.db_path, NULL, w.out, w.pub));
    size_t len = 0;
    file = read_all(w.out, &len);
    size_t offsets[16];
    size_t chunks = file ? chunk_offsets(file, len, offsets, 16) : 0;
    CHECK(chunks >= 3);
    if (chunks < 3) goto done;
    copy = malloc(len + 64);
    char what[96];

    /* A flipped bit: in the header, in each chunk's head, body and tag. */
    size_t spots[] = {0, 17, 21, 30, 60, 90, offsets[0], offsets[0] + 3, offsets[0] + 100, offsets[1] - 1,
                      offsets[1] + 2, offsets[2] + 50, len - 1};
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
        memcpy(copy, file, len);
        copy[spots[i]] ^= 0x04;
        snprintf(what, sizeof what, "byte %zu flipped", spots[i]);
        check_refused(&w, what, copy, len, 0);
    }
    /* Cut: at every chunk boundary, inside a chunk, in the header. */
    size_t cuts[] = {0, 50, 96, offsets[1], offsets[2], offsets[1] + 7, offsets[chunks - 1] + 3, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        snprintf(what, sizeof what, "cut at %zu of %zu", cuts[i], len);
        check_refused(&w, what, file, cuts[i], cuts[i] < 96 ? DALA_ECORRUPT : 0);
    }
    /* The last chunk dropped: the file ends without one marked last. */
    check_refused(&w, "last chunk dropped", file, offsets[chunks - 1], DALA_ECORRUPT);
    /* Two full chunks swapped: their tags fail. */
    size_t full = offsets[1] - offsets[0];
    memcpy(copy, file, len);
    memcpy(copy + offsets[0], file + offsets[1], full);
    memcpy(copy + offsets[1], file + offsets[0], full);
    check_refused(&w, "chunks 0 and 1 swapped", copy, len, DALA_EAUTH);
    /* A chunk repeated in place of the next one. */
    memcpy(copy, file, len);
    memcpy(copy + offsets[1], file + offsets[0], full);
    check_refused(&w, "chunk 0 repeated", copy, len, DALA_EAUTH);
    /* A middle chunk marked last, with the rest cut. */
    memcpy(copy, file, len);
    copy[offsets[1]] = 1;
    check_refused(&w, "chunk 1 marked last", copy, offsets[2], 0);
    /* Bytes after the last chunk, or a chunk appended. */
    memcpy(copy, file, len);
    memcpy(copy + len, "x", 1);
    check_refused(&w, "a byte appended", copy, len + 1, DALA_ECORRUPT);
    /* A newer format version. */
    memcpy(copy, file, len);
    copy[19] = 2;
    check_refused(&w, "version 2", copy, len, DALA_ESCHEMA);
    /* Not a backup at all. */
    check_refused(&w, "a database file", (const uint8_t *)"SQLite format 3\0", 16, DALA_ECORRUPT);

    /* The untouched file restores. */
    CHECK_OK(dala_backup_restore(NULL, w.out, w.key, w.restored, NULL, 0));
    CHECK_EQ_INT(db_int(w.restored, "SELECT length(b) FROM filler"), 2600000);
done:
    free(copy);
    free(file);
    world_stop(&w);
}

static void test_restore_replaces_a_database_only_with_force_and_never_under_a_server(void)
{
    world w;
    if (world_start(&w, 6)) goto done;
    CHECK_OK(dala_backup_write(NULL, w.h.db_path, NULL, w.out, w.pub));
    capture(&w.captured, w.tablet, &w.gen, 3);
    sync_ok(w.tablet);

    /* The live database, with its server running: refused either way. */
    CHECK_EQ_INT(dala_backup_restore(NULL, w.out, w.key, w.h.db_path, NULL, 0), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "--force");
    CHECK_EQ_INT(dala_backup_restore(NULL, w.out, w.key, w.h.db_path, NULL, DALA_RESTORE_FORCE), DALA_EBUSY);
    CHECK_CONTAINS(dala_errmsg(), "stop it first");
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM record WHERE tbl = 'field_visit'", 0, 0), 9);

    /* Stopped: replaced, with the key file the same, and a fresh epoch. */
    unsigned long long live_epoch = epoch_of(w.h.db_path);
    e2e_stop(&w.h);
    dala_restore_result res;
    CHECK_OK(dala_backup_restore(&res, w.out, w.key, w.h.db_path, NULL, DALA_RESTORE_FORCE));
    CHECK_EQ_INT(res.key_file_action, DALA_RESTORE_KEYS_SAME);
    CHECK_EQ_U64(res.epoch_before, live_epoch);
    CHECK(res.epoch_after != live_epoch);
    char result[64];
    CHECK(integrity_of(result, sizeof result, w.h.db_path));
    CHECK_EQ_INT(db_int(w.h.db_path, "SELECT count(*) FROM record WHERE tbl = 'field_visit'"), 6);

    /* The server starts on it and keeps the restore's epoch. */
    CHECK_OK(harness_restart(&w.h));
    CHECK_EQ_U64(epoch_of(w.h.db_path), res.epoch_after);
    /* The tablet sees the restore and gives back the 3 the copy lacked. */
    sync_ok(w.tablet);
    sync_ok(w.tablet);
    check_converged(&w.h, w.h.unit_a, &w.captured, &w.tablet, 1);
    check_unit_log_once(&w.h, w.h.unit_a);
done:
    world_stop(&w);
}

static void test_restore_keeps_or_replaces_a_different_key_file_only_as_told(void)
{
    world w;
    if (world_start(&w, 2)) goto done;
    char keys[400], saved[420];
    snprintf(keys, sizeof keys, "%s.keys", w.h.db_path);
    snprintf(saved, sizeof saved, "%s.saved", keys);
    CHECK_OK(dala_backup_write(NULL, w.h.db_path, NULL, w.out, w.pub));
    /* The key file there differs from the backup's (as after a rotation). */
    e2e_stop(&w.h);
    FILE *file = fopen(keys, "a");
    CHECK(file && fputs("# a note the operator added\n", file) >= 0);
    if (file) fclose(file);
    CHECK_EQ_INT(system(strcat(strcat(strcat(strcpy((char[900]){0}, "cp "), keys), " "), saved)), 0);

    CHECK_EQ_INT(dala_backup_restore(NULL, w.out, w.key, w.h.db_path, NULL, DALA_RESTORE_FORCE), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "--keep-keys");
    dala_restore_result res;
    CHECK_OK(dala_backup_restore(&res, w.out, w.key, w.h.db_path, NULL, DALA_RESTORE_FORCE | DALA_RESTORE_KEEP_KEYS));
    CHECK_EQ_INT(res.key_file_action, DALA_RESTORE_KEYS_KEPT);
    CHECK(same_files(keys, saved));
    CHECK_OK(dala_backup_restore(&res, w.out, w.key, w.h.db_path, NULL,
                                 DALA_RESTORE_FORCE | DALA_RESTORE_KEYS_FROM_BACKUP));
    CHECK_EQ_INT(res.key_file_action, DALA_RESTORE_KEYS_REPLACED);
    CHECK(!same_files(keys, saved));
    CHECK_OK(harness_restart(&w.h));
    sync_ok(w.tablet);
    check_converged(&w.h, w.h.unit_a, &w.captured, &w.tablet, 1);
done:
    world_stop(&w);
}

/* Runs a command function with its output sent to a file; its exit code. */
static int run_cli(int (*command)(int, char **), const char *out_path, int argc, const char **argv)
{
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    FILE *out = fopen(out_path, "w");
    if (!out) return -1;
    dup2(fileno(out), 1);
    dup2(fileno(out), 2);
    int code = command(argc, (char **)argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    fclose(out);
    return code;
}

static void test_backup_commands_answer_help_and_refuse_bad_flags(void)
{
    world w;
    if (world_start(&w, 3)) goto done;
    char said[400], key2[400], restored[400];
    snprintf(said, sizeof said, "%s/said.txt", w.h.dir);
    snprintf(key2, sizeof key2, "%s/cli.key", w.h.dir);
    snprintf(restored, sizeof restored, "%s/cli/central.db", w.h.dir);
    const char *help[] = {"backup", "--help"};
    CHECK_EQ_INT(run_cli(server_cli_backup, said, 2, help), 0);
    char *text = test_read_file(said);
    CHECK(text && strstr(text, "usage: dala-server backup") != NULL);
    free(text);
    help[0] = "restore";
    CHECK_EQ_INT(run_cli(server_cli_restore, said, 2, help), 0);
    help[0] = "backup-keygen";
    CHECK_EQ_INT(run_cli(server_cli_backup_keygen, said, 2, help), 0);
    const char *bad[] = {"backup", "--db", w.h.db_path, "--oops"};
    CHECK_EQ_INT(run_cli(server_cli_backup, said, 4, bad), 2);
    const char *missing[] = {"restore", "--in", w.out};
    CHECK_EQ_INT(run_cli(server_cli_restore, said, 3, missing), 2);

    const char *keygen[] = {"backup-keygen", "--out", key2};
    CHECK_EQ_INT(run_cli(server_cli_backup_keygen, said, 3, keygen), 0);
    char pub2[420];
    snprintf(pub2, sizeof pub2, "%s.pub", key2);
    const char *backup[] = {"backup", "--db", w.h.db_path, "--out", w.out, "--to", pub2};
    CHECK_EQ_INT(run_cli(server_cli_backup, said, 7, backup), 0);
    text = test_read_file(said);
    CHECK(text && strstr(text, "key file: included, plain") != NULL);
    free(text);
    const char *restore[] = {"restore", "--in", w.out, "--key", key2, "--db", restored};
    CHECK_EQ_INT(run_cli(server_cli_restore, said, 7, restore), 0);
    text = test_read_file(said);
    CHECK(text && strstr(text, "every tablet will see a restored server") != NULL);
    free(text);
    CHECK_EQ_INT(run_cli(server_cli_restore, said, 7, restore), 1); /* it exists now */
    text = test_read_file(said);
    CHECK(text && strstr(text, "--force") != NULL);
    free(text);
done:
    world_stop(&w);
}

/* A database of schema `version`: the first migrations only, with a mark. */
static void make_old_database(const char *path, int version)
{
    dala_migration before[64];
    int n = 0;
    for (const dala_migration *m = server_migrations; m->name && n < 63; m++)
        if (atoi(m->name) <= version) before[n++] = *m;
    before[n] = (dala_migration){0, 0};
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK_EQ_INT(dala_sqlite_text_register(db), SQLITE_OK); /* migrations use its functions */
    CHECK_OK(dala_migrate(db, before, path));
    CHECK(sqlite3_exec(db, "INSERT INTO server_meta (key, value) VALUES ('test_mark', 'before')", NULL, NULL, NULL) ==
          SQLITE_OK);
    sqlite3_close(db);
    chmod(path, 0600);
}

static int start_on(dala_server **out, const char *path)
{
    dala_server_options options = DALA_SERVER_OPTIONS_INIT;
    options.db_path = path;
    options.listen = "127.0.0.1:0";
    options.num_threads = 2;
    options.quiet = 1;
    return dala_server_start(out, &options);
}

static int count_before_copies(const char *dir)
{
    char command[600];
    snprintf(command, sizeof command, "exit $(ls '%s' | grep -c '\\.before-')", dir);
    int status = system(command);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_migration_takes_a_copy_first_and_a_fresh_database_needs_none(void)
{
    const char *dir = test_tmpdir();
    int latest = dala_migration_latest(server_migrations);
    char path[400], copy[420], fresh[450];
    snprintf(path, sizeof path, "%s/central.db", dir);
    snprintf(copy, sizeof copy, "%s.before-%d", path, latest);
    make_old_database(path, latest - 1);
    dala_server *server = NULL;
    CHECK_OK(start_on(&server, path));
    dala_server_stop(server);
    CHECK(exists(copy));
    CHECK_EQ_INT(mode_of(copy), 0600);
    char result[64];
    CHECK(integrity_of(result, sizeof result, copy));
    CHECK_EQ_INT(db_int(copy, "PRAGMA user_version"), latest - 1);
    CHECK_EQ_INT(db_int(copy, "SELECT count(*) FROM server_meta WHERE key = 'test_mark'"), 1);
    CHECK_EQ_INT(db_int(path, "PRAGMA user_version"), latest);
    /* Current now: the next start copies nothing. */
    server = NULL;
    CHECK_OK(start_on(&server, path));
    dala_server_stop(server);
    CHECK_EQ_INT(count_before_copies(dir), 1);

    /* A fresh database is made at the latest schema with no copy. */
    char fresh_dir[420];
    snprintf(fresh_dir, sizeof fresh_dir, "%s/fresh", dir);
    snprintf(fresh, sizeof fresh, "%s/central.db", fresh_dir);
    server = NULL;
    CHECK_OK(start_on(&server, fresh));
    dala_server_stop(server);
    CHECK_EQ_INT(db_int(fresh, "PRAGMA user_version"), latest);
    CHECK_EQ_INT(count_before_copies(fresh_dir), 0);
}

static void test_migration_without_a_copy_is_refused_unless_told(void)
{
    const char *dir = test_tmpdir();
    int latest = dala_migration_latest(server_migrations);
    char path[400], copy[420];
    snprintf(path, sizeof path, "%s/central.db", dir);
    snprintf(copy, sizeof copy, "%s.before-%d", path, latest);
    make_old_database(path, latest - 1);
    /* The copy cannot be made: a dangling link stands where it goes. */
    CHECK_EQ_INT(symlink("/nonexistent/dala-test", copy), 0);
    dala_server *server = NULL;
    int rc = start_on(&server, path);
    CHECK(rc != DALA_OK);
    CHECK_CONTAINS(dala_errmsg(), "--no-backup-before-migrate");
    dala_server_stop(server);
    CHECK_EQ_INT(db_int(path, "PRAGMA user_version"), latest - 1);

    setenv("DALA_NO_BACKUP_BEFORE_MIGRATE", "1", 1);
    server = NULL;
    CHECK_OK(start_on(&server, path));
    unsetenv("DALA_NO_BACKUP_BEFORE_MIGRATE");
    dala_server_stop(server);
    CHECK_EQ_INT(db_int(path, "PRAGMA user_version"), latest);
}

const dala_test backup_tests[] = {
    {"backup_keygen_writes_a_private_and_a_public_key_and_never_overwrites", test_backup_keygen_writes_a_private_and_a_public_key_and_never_overwrites},
    {"backup_taken_while_tablets_sync_restores_database_epoch_and_keys", test_backup_taken_while_tablets_sync_restores_database_epoch_and_keys},
    {"backup_file_holds_no_plaintext_and_opens_with_no_other_key", test_backup_file_holds_no_plaintext_and_opens_with_no_other_key},
    {"backup_changed_cut_reordered_or_extended_files_restore_nothing", test_backup_changed_cut_reordered_or_extended_files_restore_nothing},
    {"restore_replaces_a_database_only_with_force_and_never_under_a_server", test_restore_replaces_a_database_only_with_force_and_never_under_a_server},
    {"restore_keeps_or_replaces_a_different_key_file_only_as_told", test_restore_keeps_or_replaces_a_different_key_file_only_as_told},
    {"backup_commands_answer_help_and_refuse_bad_flags", test_backup_commands_answer_help_and_refuse_bad_flags},
    {"migration_takes_a_copy_first_and_a_fresh_database_needs_none", test_migration_takes_a_copy_first_and_a_fresh_database_needs_none},
    {"migration_without_a_copy_is_refused_unless_told", test_migration_without_a_copy_is_refused_unless_told},
    {NULL, NULL},
};
