/* test_sealed_store.c - suite "sealed_store": the tablet's store encrypted
 * at rest (client-sdk/crypt_vfs.c, key_file.c, store_keyed.c,
 * store_encrypt.c). Canary records (a known IIN, surname and phone) are
 * written through the SDK, and every file of the store's folder is
 * scanned for them as plain bytes, UTF-16 and hex; hostile changes to the
 * files give clear errors; wrong PINs count and erase; a plaintext store
 * is sealed in place, and a PIN changed, with the process ended at every
 * step; a kill -9 during puts loses no acknowledged put. */
#include "sdk_int.h" /* first: it orders the two headers of result codes */
#include "testhelp.h"

#include "sdk_harness.h"
#include "key_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CANARY_IIN "900514440018"
#define CANARY_SURNAME "Жаксыбекова"
#define CANARY_PHONE "+77015551234"
#define PIN "2580"
#define FAST_ITERATIONS 1000

static dala_store_key pin_key(const char *pin)
{
    dala_store_key key = {DALA_STORE_KEY_VERSION, pin, NULL, 3};
    return key;
}

/* A keyed store at `dir`/dala.db enrolled with the fake server. */
static int open_enrolled(dala_store **out, fake_server *server, const char *dir, const dala_store_key *key)
{
    dala_enroll_options options = DALA_ENROLL_OPTIONS_INIT;
    options.transport = &server->transport;
    int rc = dala_store_open_keyed(out, sdk_path(dir, "dala.db"), key);
    if (!rc) rc = dala_store_enroll(*out, "http://fake.test:8080/", FAKE_ENROLL_CODE, &options);
    return rc;
}

static int put_victim(dala_store *store, char id[DALA_ID_TEXT_BYTES], int n)
{
    char json[400];
    snprintf(json, sizeof json,
             "{\"role\": \"victim\", \"last_name\": \"" CANARY_SURNAME "\", \"first_name\": \"Айгүл %d\", "
             "\"sex\": \"female\", \"birth_date\": \"1990-05-14\", \"iin\": \"" CANARY_IIN "\", "
             "\"phone\": \"" CANARY_PHONE "\"}",
             n);
    return dala_record_put(id, store, "person", NULL, json);
}

/* --- the canary scan ------------------------------------------------------- */

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)size + 1);
    *len = data && fread(data, 1, (size_t)size, f) == (size_t)size ? (size_t)size : 0;
    fclose(f);
    return data;
}

static size_t count_in(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t len)
{
    size_t found = 0;
    for (size_t i = 0; len && i + len <= hay_len; i++)
        if (memcmp(hay + i, needle, len) == 0) found++;
    return found;
}

/* How often any canary appears in any file of `dir`: as UTF-8, as
 * UTF-16LE and BE (the IIN and phone, ASCII), and as lower-case hex. */
static size_t canaries_in_folder(const char *dir)
{
    static const char *const canaries[] = {CANARY_IIN, CANARY_SURNAME, CANARY_PHONE, "14440018", "5551234"};
    size_t found = 0;
    DIR *d = opendir(dir);
    struct dirent *entry;
    while (d && (entry = readdir(d))) {
        if (entry->d_name[0] == '.') continue;
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        size_t len = 0;
        uint8_t *data = read_all(path, &len);
        for (size_t c = 0; data && c < sizeof canaries / sizeof *canaries; c++) {
            const char *text = canaries[c];
            size_t n = strlen(text);
            uint8_t wide_le[128], wide_be[128];
            char hex[256];
            for (size_t i = 0; i < n && i < 64; i++) {
                wide_le[2 * i] = (uint8_t)text[i], wide_le[2 * i + 1] = 0;
                wide_be[2 * i] = 0, wide_be[2 * i + 1] = (uint8_t)text[i];
                snprintf(hex + 2 * i, 3, "%02x", (uint8_t)text[i]);
            }
            size_t here = count_in(data, len, (const uint8_t *)text, n) +
                          count_in(data, len, (const uint8_t *)hex, 2 * n);
            if (n < 64) here += count_in(data, len, wide_le, 2 * n) + count_in(data, len, wide_be, 2 * n);
            if (here) fprintf(stderr, "    canary %zu found %zu times in %s\n", c, here, entry->d_name);
            found += here;
        }
        free(data);
    }
    if (d) closedir(d);
    return found;
}

/* The scan itself must find what is there: on a plaintext store. */
static void test_sealed_store_canary_scan_finds_a_plaintext_store(void)
{
    fake_server server;
    fake_server_init(&server);
    const char *dir = test_tmpdir();
    dala_store *store = NULL;
    CHECK_OK(sdk_open_enrolled(&store, &server, dir));
    char id[DALA_ID_TEXT_BYTES];
    CHECK_OK(put_victim(store, id, 1));
    CHECK(canaries_in_folder(dir) > 0);
    dala_store_close(store);
    fake_server_free(&server);
}

static void test_sealed_store_holds_no_canary_after_puts_syncs_and_a_checkpoint(void)
{
    dala_pin_iterations_set(FAST_ITERATIONS);
    fake_server server;
    fake_server_init(&server);
    const char *dir = test_tmpdir();
    dala_store_key key = pin_key(PIN);
    dala_store *store = NULL;
    CHECK_OK(open_enrolled(&store, &server, dir, &key));
    char id[DALA_ID_TEXT_BYTES];
    for (int i = 0; i < 200 && store; i++) CHECK_OK(put_victim(store, id, i));
    dala_sync_options options = DALA_SYNC_OPTIONS_INIT;
    options.transport = &server.transport;
    dala_sync_stats result;
    CHECK_OK(dala_sync(&result, store, &options));
    CHECK_EQ_INT(canaries_in_folder(dir), 0); /* the WAL is full of pages now */
    dala_store_close(store);
    store = NULL;
    CHECK_EQ_INT(canaries_in_folder(dir), 0); /* checkpointed at close */
    /* It opens again with the PIN and reads back. */
    CHECK_OK(dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &key));
    char *json = NULL;
    CHECK_OK(dala_record_get_json(&json, store, id));
    CHECK(json && strstr(json, CANARY_IIN));
    dala_free(json);
    dala_status status;
    CHECK_OK(dala_store_status(&status, store));
    CHECK_EQ_INT(status.is_sealed, 1);
    CHECK_EQ_INT(status.is_erased, 0);
    dala_store_close(store);
    fake_server_free(&server);
    dala_pin_iterations_set(0);
}

/* A store with `n` canary records, closed; its record ids in `ids`. */
static void make_sealed_store(const char *dir, int n, char ids[][DALA_ID_TEXT_BYTES])
{
    fake_server server;
    fake_server_init(&server);
    dala_store_key key = pin_key(PIN);
    dala_store *store = NULL;
    CHECK_OK(open_enrolled(&store, &server, dir, &key));
    for (int i = 0; i < n && store; i++) CHECK_OK(put_victim(store, ids[i], i));
    dala_store_close(store);
    fake_server_free(&server);
}

static int count_records(dala_store *store)
{
    dala_status status;
    return dala_store_status(&status, store) == DALA_OK ? (int)status.record_count : -1;
}

static void test_sealed_store_wrong_pins_count_and_the_last_erases_it(void)
{
    dala_pin_iterations_set(FAST_ITERATIONS);
    const char *dir = test_tmpdir();
    char ids[3][DALA_ID_TEXT_BYTES];
    make_sealed_store(dir, 3, ids);
    char path[600];
    snprintf(path, sizeof path, "%s", sdk_path(dir, "dala.db"));
    size_t before_len = 0, after_len = 0;
    uint8_t *before = read_all(path, &before_len);
    dala_store *store = NULL;
    dala_store_key wrong = pin_key("0000"), right = pin_key(PIN);
    CHECK_EQ_INT(dala_store_open_keyed(&store, path, &wrong), DALA_EAUTH);
    CHECK(strstr(dala_errmsg(), "wrong PIN: 2 of 3 tries left") != NULL);
    CHECK(store == NULL);
    uint8_t *after = read_all(path, &after_len);
    CHECK(before && after && before_len == after_len && memcmp(before, after, before_len) == 0);
    free(before);
    free(after);
    /* A right PIN sets the count back. */
    CHECK_OK(dala_store_open_keyed(&store, path, &right));
    CHECK_EQ_INT(count_records(store), 3);
    dala_store_close(store);
    CHECK_EQ_INT(dala_store_open_keyed(&store, path, &wrong), DALA_EAUTH);
    CHECK_EQ_INT(dala_store_open_keyed(&store, path, &wrong), DALA_EAUTH);
    CHECK(strstr(dala_errmsg(), "1 of 3") != NULL);
    CHECK_EQ_INT(dala_store_open_keyed(&store, path, &wrong), DALA_EWIPED);
    CHECK(strstr(dala_errmsg(), "3 wrong PINs in a row") != NULL);
    struct stat st;
    CHECK(stat(path, &st) != 0);
    CHECK(stat(sdk_path(dir, "dala.db-key"), &st) != 0);
    /* The right PIN now makes a new, empty store: nothing is left. */
    CHECK_OK(dala_store_open_keyed(&store, path, &right));
    CHECK_EQ_INT(count_records(store), 0);
    dala_store_close(store);
    dala_pin_iterations_set(0);
}

/* The real count: a PIN's key takes PBKDF2 at 600 000 iterations. */
static void test_sealed_store_pin_key_uses_owasp_count(void)
{
    dala_pin_iterations_set(0);
    const char *dir = test_tmpdir();
    dala_store_key key = pin_key("passphrase of the unit");
    dala_store *store = NULL;
    CHECK_OK(dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &key));
    dala_store_close(store);
    dala_key_file file;
    CHECK_OK(dala_key_file_read(&file, sdk_path(dir, "dala.db-key")));
    CHECK_EQ_INT(file.iterations, 600000);
    CHECK_EQ_INT(file.kind, DALA_KEY_KIND_PIN);
    CHECK_EQ_INT(file.max_wrong_pins, 3);
}

/* The app's keystore, stood in by AES-GCM under a fixed key. */
static int provider_wrap(void *context, const uint8_t *data_key, uint8_t *wrapped, size_t *len)
{
    const uint8_t *mask = context;
    for (int i = 0; i < 32; i++) wrapped[i] = data_key[i] ^ mask[i];
    wrapped[32] = 0x5a;
    *len = 33;
    return DALA_OK;
}

static int provider_unwrap(void *context, const uint8_t *wrapped, size_t len, uint8_t *data_key)
{
    const uint8_t *mask = context;
    if (len != 33 || wrapped[32] != 0x5a || mask[0] == 0xff) return DALA_EAUTH;
    for (int i = 0; i < 32; i++) data_key[i] = wrapped[i] ^ mask[i];
    return DALA_OK;
}

static void test_sealed_store_opens_with_the_apps_key_provider_and_changes_to_a_pin(void)
{
    dala_pin_iterations_set(FAST_ITERATIONS);
    const char *dir = test_tmpdir();
    uint8_t mask[32] = {1, 2, 3};
    dala_key_provider provider = {DALA_KEY_PROVIDER_VERSION, provider_wrap, provider_unwrap, mask};
    dala_store_key by_provider = {DALA_STORE_KEY_VERSION, NULL, &provider, 0};
    dala_store *store = NULL;
    fake_server server;
    fake_server_init(&server);
    CHECK_OK(open_enrolled(&store, &server, dir, &by_provider));
    char id[DALA_ID_TEXT_BYTES];
    CHECK_OK(put_victim(store, id, 1));
    dala_store_close(store);
    /* The keystore refusing is a clear error, not a count. */
    mask[0] = 0xff;
    CHECK_EQ_INT(dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &by_provider), DALA_EAUTH);
    CHECK(strstr(dala_errmsg(), "key provider") != NULL);
    mask[0] = 1;
    CHECK_OK(dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &by_provider));
    /* A PIN instead, without sealing the data again. */
    size_t len_before = 0;
    uint8_t *db_before = read_all(sdk_path(dir, "dala.db"), &len_before);
    dala_store_key pin = pin_key("7391");
    CHECK_OK(dala_store_set_key(store, &pin));
    dala_store_close(store);
    CHECK_EQ_INT(dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &by_provider), DALA_EAUTH);
    CHECK_OK(dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &pin));
    CHECK_EQ_INT(count_records(store), 1);
    dala_store_close(store);
    free(db_before);
    CHECK_EQ_INT(canaries_in_folder(dir), 0);
    fake_server_free(&server);
    dala_pin_iterations_set(0);
}

/* A file that is no store, or a store whose key is gone, is never
 * destroyed by an open: it answers DALA_EWIPED and stays as it was. */
static void test_sealed_store_leaves_a_file_without_key_alone(void)
{
    const char *dir = test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s", sdk_path(dir, "notes.txt"));
    FILE *f = fopen(path, "wb");
    fputs("an officer's own notes, not a store", f);
    fclose(f);
    dala_store *store = NULL;
    dala_store_key key = pin_key(PIN);
    CHECK_EQ_INT(dala_store_open_keyed(&store, path, &key), DALA_EWIPED);
    CHECK(strstr(dala_errmsg(), "no key file") != NULL);
    size_t len = 0;
    uint8_t *kept = read_all(path, &len);
    CHECK(kept && len == strlen("an officer's own notes, not a store"));
    free(kept);
    CHECK_OK(dala_store_erase(path));
    struct stat st;
    CHECK(stat(path, &st) != 0);
}

/* Temporary files (sorts and temporary tables that spill) go through the
 * sealing VFS under a key of their own: with temp_store=FILE and a tiny
 * cache, a temporary table of 3000 rows and a sort over it spill, and read
 * back whole and in order. */
static void test_sealed_store_temp_files_spill_sealed_and_read_back(void)
{
    const char *dir = test_tmpdir();
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    mkdir(tmp, 0700);
    setenv("SQLITE_TMPDIR", tmp, 1);
    dala_store *store = NULL;
    dala_store_key key = pin_key(PIN);
    dala_pin_iterations_set(FAST_ITERATIONS);
    CHECK_OK(dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &key));
    if (store) {
        CHECK_OK(dala_db_exec(store->db, "PRAGMA temp_store=FILE; PRAGMA cache_size=8; "
                                         "CREATE TEMP TABLE spill(n INTEGER, pad BLOB); "
                                         "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000) "
                                         "INSERT INTO spill SELECT (i * 7919) % 3001, randomblob(600) FROM c",
                              "fill a temporary table"));
        sqlite3_stmt *stmt = NULL;
        CHECK_OK(dala_db_prepare(&stmt, store->db, "SELECT n FROM spill ORDER BY pad, n"));
        int rows = 0;
        while (stmt && sqlite3_step(stmt) == SQLITE_ROW) rows++;
        sqlite3_finalize(stmt);
        CHECK_EQ_INT(rows, 3000);
        CHECK_OK(dala_db_prepare(&stmt, store->db, "SELECT count(*), sum(n) FROM (SELECT n FROM spill ORDER BY n)"));
        CHECK(stmt && sqlite3_step(stmt) == SQLITE_ROW);
        if (stmt) {
            long long expected = 0;
            for (int i = 1; i <= 3000; i++) expected += (i * 7919LL) % 3001;
            CHECK_EQ_INT(sqlite3_column_int(stmt, 0), 3000);
            CHECK(sqlite3_column_int64(stmt, 1) == expected);
        }
        sqlite3_finalize(stmt);
    }
    dala_store_close(store);
    unsetenv("SQLITE_TMPDIR");
    dala_pin_iterations_set(0);
}

/* --- hostile files ------------------------------------------------------- */

static int open_and_read_all(const char *path)
{
    dala_store *store = NULL;
    dala_store_key key = pin_key(PIN);
    int rc = dala_store_open_keyed(&store, path, &key);
    if (!rc) {
        dala_status status;
        rc = dala_store_status(&status, store);
        if (!rc) rc = dala_db_exec(store->db, "PRAGMA integrity_check", "check the store");
    }
    dala_store_close(store);
    return rc;
}

static void copy_file(const char *from, const char *to)
{
    size_t len = 0;
    uint8_t *data = read_all(from, &len);
    FILE *f = fopen(to, "wb");
    if (f && data) fwrite(data, 1, len, f);
    if (f) fclose(f);
    free(data);
}

static void test_sealed_store_detects_a_flipped_byte_in_every_page(void)
{
    dala_pin_iterations_set(FAST_ITERATIONS);
    const char *dir = test_tmpdir();
    char ids[40][DALA_ID_TEXT_BYTES];
    make_sealed_store(dir, 40, ids);
    char path[600], saved[600], key_saved[600];
    snprintf(path, sizeof path, "%s", sdk_path(dir, "dala.db"));
    snprintf(saved, sizeof saved, "%s", sdk_path(dir, "saved.db"));
    snprintf(key_saved, sizeof key_saved, "%s", sdk_path(dir, "saved.db-key"));
    copy_file(path, saved);
    copy_file(sdk_path(dir, "dala.db-key"), key_saved);
    CHECK_OK(open_and_read_all(path));
    size_t len = 0;
    uint8_t *pristine = read_all(saved, &len);
    CHECK(len >= 4 * 4096 && len % 4096 == 0);
    int detected = 0, pages = (int)(len / 4096);
    for (int page = 0; page < pages; page++) {
        uint8_t *changed = malloc(len);
        memcpy(changed, pristine, len);
        changed[page * 4096 + (page * 613) % 4096] ^= 0x20;
        FILE *f = fopen(path, "wb");
        fwrite(changed, 1, len, f);
        fclose(f);
        copy_file(key_saved, sdk_path(dir, "dala.db-key"));
        int rc = open_and_read_all(path);
        if (rc == DALA_ECORRUPT) detected++;
        else fprintf(stderr, "    page %d changed: %s (%s)\n", page, dala_strerror(rc), dala_errmsg());
        free(changed);
    }
    CHECK_EQ_INT(detected, pages);
    /* Cut short in the middle of a page. */
    FILE *f = fopen(path, "wb");
    fwrite(pristine, 1, len - 1000, f);
    fclose(f);
    CHECK_EQ_INT(open_and_read_all(path), DALA_ECORRUPT);
    free(pristine);
    dala_pin_iterations_set(0);
}

static void test_sealed_store_refuses_a_page_from_another_store(void)
{
    dala_pin_iterations_set(FAST_ITERATIONS);
    char dir_a[600], dir_b[700];
    snprintf(dir_a, sizeof dir_a, "%s", test_tmpdir());
    snprintf(dir_b, sizeof dir_b, "%s/b", dir_a);
    mkdir(dir_b, 0700);
    char ids[20][DALA_ID_TEXT_BYTES];
    make_sealed_store(dir_a, 20, ids);
    make_sealed_store(dir_b, 20, ids);
    char path_a[600], path_b[600];
    snprintf(path_a, sizeof path_a, "%s", sdk_path(dir_a, "dala.db"));
    snprintf(path_b, sizeof path_b, "%s", sdk_path(dir_b, "dala.db"));
    size_t len_a = 0, len_b = 0;
    uint8_t *a = read_all(path_a, &len_a), *b = read_all(path_b, &len_b);
    CHECK(a && b && len_a >= 3 * 4096 && len_b >= 3 * 4096);
    if (a && b && len_a >= 3 * 4096 && len_b >= 3 * 4096) {
        memcpy(a + 2 * 4096, b + 2 * 4096, 4096); /* page 3 of B into A */
        FILE *f = fopen(path_a, "wb");
        fwrite(a, 1, len_a, f);
        fclose(f);
        CHECK_EQ_INT(open_and_read_all(path_a), DALA_ECORRUPT);
    }
    /* A page moved within the same store fails too. */
    if (b && len_b >= 3 * 4096) {
        memcpy(b + 2 * 4096, b + 1 * 4096, 4096);
        FILE *f = fopen(path_b, "wb");
        fwrite(b, 1, len_b, f);
        fclose(f);
        CHECK_EQ_INT(open_and_read_all(path_b), DALA_ECORRUPT);
    }
    free(a);
    free(b);
    dala_pin_iterations_set(0);
}

/* Two processes opening one store at once, over and over: every open
 * succeeds and the wrong-PIN count ends at 0 (the key file is read,
 * counted and written under a lock). */
static void test_sealed_store_concurrent_opens_all_succeed(void)
{
    dala_pin_iterations_set(FAST_ITERATIONS);
    const char *dir = test_tmpdir();
    char ids[1][DALA_ID_TEXT_BYTES];
    make_sealed_store(dir, 1, ids);
    fflush(NULL);
    pid_t children[2];
    for (int c = 0; c < 2; c++) {
        children[c] = fork();
        if (children[c] == 0) {
            dala_store_key key = pin_key(PIN);
            for (int i = 0; i < 20; i++) {
                dala_store *store = NULL;
                if (dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &key)) _exit(1);
                dala_store_close(store);
            }
            _exit(0);
        }
    }
    for (int c = 0; c < 2; c++) {
        int status = -1;
        waitpid(children[c], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    dala_key_file file;
    CHECK_OK(dala_key_file_read(&file, sdk_path(dir, "dala.db-key")));
    CHECK_EQ_INT(file.wrong_pins, 0);
    dala_pin_iterations_set(0);
}

/* --- killed at every step ------------------------------------------------ */

/* Runs `fn` in a child with DALA_TEST_CRASH_AT=step; returns its exit
 * status (86: ended at the step). */
static int run_child_crashing_at(const char *step, void (*fn)(const char *dir), const char *dir)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setenv("DALA_TEST_CRASH_AT", step, 1);
        fn(dir);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void open_with_pin(const char *dir)
{
    dala_store *store = NULL;
    dala_store_key key = pin_key(PIN);
    int rc = dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &key);
    dala_store_close(store);
    _exit(rc ? 1 : 0);
}

static void change_pin(const char *dir)
{
    dala_store *store = NULL;
    dala_store_key key = pin_key(PIN), next = pin_key("97531");
    int rc = dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &key);
    if (!rc) rc = dala_store_set_key(store, &next);
    dala_store_close(store);
    _exit(rc ? 1 : 0);
}

static void test_sealed_store_encrypts_a_plaintext_store_in_place_killed_at_every_step(void)
{
    dala_pin_iterations_set(FAST_ITERATIONS);
    static const char *const steps[] = {"encrypt: copy made", "replace: written", "replace: renamed",
                                        "encrypt: key written", "encrypt: renamed", "none"};
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/%zu", test_tmpdir(), s);
        mkdir(dir, 0700);
        /* An older build's store: plaintext, 30 canary records. */
        fake_server server;
        fake_server_init(&server);
        dala_store *store = NULL;
        CHECK_OK(sdk_open_enrolled(&store, &server, dir));
        char id[DALA_ID_TEXT_BYTES];
        for (int i = 0; i < 30 && store; i++) CHECK_OK(put_victim(store, id, i));
        dala_store_close(store);
        fake_server_free(&server);
        int status = run_child_crashing_at(steps[s], open_with_pin, dir);
        CHECK_EQ_INT(status, strcmp(steps[s], "none") == 0 ? 0 : 86);
        /* Whichever store is there opens whole: the plaintext one by the
         * plaintext opener, or the sealed one by the PIN. */
        char path[700];
        snprintf(path, sizeof path, "%s/dala.db", dir);
        size_t len = 0;
        uint8_t *head = read_all(path, &len);
        int plain = head && len >= 16 && memcmp(head, "SQLite format 3", 16) == 0;
        free(head);
        int sealed_expected = s >= 4;
        CHECK_EQ_INT(plain, !sealed_expected);
        dala_store_key key = pin_key(PIN);
        CHECK_OK(dala_store_open_keyed(&store, path, &key)); /* finishes the job when it was cut short */
        CHECK_EQ_INT(count_records(store), 30);
        dala_store_close(store);
        CHECK_EQ_INT(canaries_in_folder(dir), 0);
    }
    dala_pin_iterations_set(0);
}

static void test_sealed_store_pin_change_killed_at_every_step_keeps_one_pin_working(void)
{
    dala_pin_iterations_set(FAST_ITERATIONS);
    static const char *const steps[] = {"pin: counted", "replace: written", "replace: renamed", "none"};
    for (size_t s = 0; s < sizeof steps / sizeof *steps; s++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/%zu", test_tmpdir(), s);
        mkdir(dir, 0700);
        char ids[5][DALA_ID_TEXT_BYTES];
        make_sealed_store(dir, 5, ids);
        int status = run_child_crashing_at(steps[s], change_pin, dir);
        CHECK(status == 0 || status == 86);
        dala_store *store = NULL;
        dala_store_key old_pin = pin_key(PIN), new_pin = pin_key("97531");
        int with_old = dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &old_pin);
        if (with_old) CHECK_OK(dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &new_pin));
        CHECK_EQ_INT(count_records(store), 5);
        dala_store_close(store);
        if (strcmp(steps[s], "none") == 0) CHECK_EQ_INT(with_old, DALA_EAUTH);
    }
    dala_pin_iterations_set(0);
}

/* A child puts records and reports each acknowledged one on a pipe; it is
 * killed with SIGKILL mid-run; every reported record is there. */
static void test_sealed_store_kill_during_puts_loses_no_acknowledged_put(void)
{
    dala_pin_iterations_set(FAST_ITERATIONS);
    const char *dir = test_tmpdir();
    char ids[1][DALA_ID_TEXT_BYTES];
    make_sealed_store(dir, 1, ids);
    int pipe_fds[2];
    CHECK(pipe(pipe_fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipe_fds[0]);
        dala_store *store = NULL;
        dala_store_key key = pin_key(PIN);
        if (dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &key)) _exit(1);
        for (int i = 0;; i++) {
            char id[DALA_ID_TEXT_BYTES];
            if (put_victim(store, id, i)) _exit(2);
            if (write(pipe_fds[1], id, DALA_ID_TEXT_BYTES) != DALA_ID_TEXT_BYTES) _exit(3);
        }
    }
    close(pipe_fds[1]);
    char (*acked)[DALA_ID_TEXT_BYTES] = calloc(100000, DALA_ID_TEXT_BYTES);
    int count = 0;
    while (count < 300 && read(pipe_fds[0], acked[count], DALA_ID_TEXT_BYTES) == DALA_ID_TEXT_BYTES) count++;
    kill(pid, SIGKILL);
    while (count < 100000 && read(pipe_fds[0], acked[count], DALA_ID_TEXT_BYTES) == DALA_ID_TEXT_BYTES) count++;
    waitpid(pid, NULL, 0);
    close(pipe_fds[0]);
    CHECK(count >= 300);
    dala_store *store = NULL;
    dala_store_key key = pin_key(PIN);
    CHECK_OK(dala_store_open_keyed(&store, sdk_path(dir, "dala.db"), &key));
    int missing = 0;
    for (int i = 0; i < count && store; i++) {
        char *json = NULL;
        if (dala_record_get_json(&json, store, acked[i]) != DALA_OK) missing++;
        dala_free(json);
    }
    CHECK_EQ_INT(missing, 0);
    dala_store_close(store);
    CHECK_EQ_INT(canaries_in_folder(dir), 0);
    free(acked);
    dala_pin_iterations_set(0);
}

const dala_test sealed_store_tests[] = {
    {"sealed_store_canary_scan_finds_a_plaintext_store", test_sealed_store_canary_scan_finds_a_plaintext_store},
    {"sealed_store_holds_no_canary_after_puts_syncs_and_a_checkpoint", test_sealed_store_holds_no_canary_after_puts_syncs_and_a_checkpoint},
    {"sealed_store_wrong_pins_count_and_the_last_erases_it", test_sealed_store_wrong_pins_count_and_the_last_erases_it},
    {"sealed_store_pin_key_uses_owasp_count", test_sealed_store_pin_key_uses_owasp_count},
    {"sealed_store_opens_with_the_apps_key_provider_and_changes_to_a_pin", test_sealed_store_opens_with_the_apps_key_provider_and_changes_to_a_pin},
    {"sealed_store_temp_files_spill_sealed_and_read_back", test_sealed_store_temp_files_spill_sealed_and_read_back},
    {"sealed_store_leaves_a_file_without_key_alone", test_sealed_store_leaves_a_file_without_key_alone},
    {"sealed_store_detects_a_flipped_byte_in_every_page", test_sealed_store_detects_a_flipped_byte_in_every_page},
    {"sealed_store_refuses_a_page_from_another_store", test_sealed_store_refuses_a_page_from_another_store},
    {"sealed_store_concurrent_opens_all_succeed", test_sealed_store_concurrent_opens_all_succeed},
    {"sealed_store_encrypts_a_plaintext_store_in_place_killed_at_every_step", test_sealed_store_encrypts_a_plaintext_store_in_place_killed_at_every_step},
    {"sealed_store_pin_change_killed_at_every_step_keeps_one_pin_working", test_sealed_store_pin_change_killed_at_every_step_keeps_one_pin_working},
    {"sealed_store_kill_during_puts_loses_no_acknowledged_put", test_sealed_store_kill_during_puts_loses_no_acknowledged_put},
    {NULL, NULL},
};
