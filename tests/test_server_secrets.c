/* test_server_secrets.c - the server's secrets (issue 13): every file
 * dala-server writes is 0600 and its folders 0700 under any umask; the
 * static secret lives in a key file, not in central.db (moved out of an
 * older database, never found in a copy of the database's files), which
 * may be wrapped; a missing key file stops the start; key rotation keeps
 * enrolled tablets syncing, teaches them the new key, and refuses an old
 * epoch once its grace period is over. */
#include "child_server.h"
#include "e2e_support.h"
#include "sdk_int.h"
#include "server_cli.h"
#include "testhelp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DAY_SECONDS (24 * 3600)
/* A NULL-terminated argument list. */
#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define WRAP_HEX "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* ------------------------------------------------------------ a world */

/* A server in this process on the harness's database, with its log, a
 * clock the test moves, and the key file options under test. */
typedef struct world {
    harness h;
    char log[400];
    int64_t clock_offset_s; /* added to the real time (atomic) */
    const char *key_wrap_file;
} world;

static int64_t world_clock(void *context)
{
    world *w = context;
    return (int64_t)time(NULL) + __atomic_load_n(&w->clock_offset_s, __ATOMIC_RELAXED);
}

/* Starts the server again; returns its code (no check: some tests expect
 * a refusal). */
static int world_restart(world *w)
{
    dala_server_options options;
    char listen[32];
    harness_options(&options, listen, &w->h);
    options.quiet = 0;
    options.access_log = w->log;
    options.clock = world_clock;
    options.clock_context = w;
    options.key_wrap_file = w->key_wrap_file;
    return harness_start_with(&w->h, &options);
}

/* The harness's database and tree, then our server on it. 0 on success. */
static int world_open(world *w)
{
    memset(w, 0, sizeof *w);
    if (harness_start(&w->h, 0)) return -1;
    harness_stop(&w->h);
    snprintf(w->log, sizeof w->log, "%s/server.log", w->h.dir);
    int rc = world_restart(w);
    CHECK_OK(rc);
    return rc;
}

static void world_close(world *w)
{
    e2e_stop(&w->h);
}

/* ------------------------------------------------------------ files */

/* How many times `needle` occurs in the file at `path` (0 if none). */
static size_t count_in_file(const char *path, const void *needle, size_t len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    dala_buf all = DALA_BUF_INIT;
    uint8_t chunk[65536];
    size_t n, count = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) dala_buf_append(&all, chunk, n);
    fclose(f);
    for (size_t i = 0; all.len >= len && i <= all.len - len; i++)
        if (memcmp(all.data + i, needle, len) == 0) count++;
    dala_buf_free(&all);
    return count;
}

static size_t text_count(const char *path, const char *text)
{
    return count_in_file(path, text, strlen(text));
}

static int file_mode(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* Checks every file under `dir` is 0600 and every folder 0700; appends
 * the names seen (relative, ' '-separated) to `seen`. */
static void check_private_tree(const char *dir, const char *prefix, dala_buf *seen)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d) return;
    struct dirent *entry;
    while ((entry = readdir(d))) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        char path[1200], name[600];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
        snprintf(name, sizeof name, "%s%s", prefix, entry->d_name);
        if (lstat(path, &st) != 0) continue; /* gone meanwhile (a -journal) */
        dala_buf_append(seen, name, strlen(name));
        dala_buf_append(seen, " ", 1);
        if (S_ISDIR(st.st_mode)) {
            if ((st.st_mode & 0777) != 0700)
                test_fail(__FILE__, __LINE__, "folder %s is %03o, not 0700", path, st.st_mode & 0777);
            char sub[620];
            snprintf(sub, sizeof sub, "%s/", name);
            check_private_tree(path, sub, seen);
        } else if ((st.st_mode & 0777) != 0600) {
            test_fail(__FILE__, __LINE__, "file %s is %03o, not 0600", path, st.st_mode & 0777);
        }
    }
    closedir(d);
    dala_buf_append(seen, "", 1);
    seen->len--; /* NUL-terminated, not counted */
}

/* The hex secret of `epoch` in a plain key file, into `hex` (65 bytes);
 * 0 if found. */
static int key_file_secret(char hex[65], const char *key_path, unsigned epoch)
{
    char *text = test_read_file(key_path);
    int found = -1;
    for (char *line = text; line && *line && found; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        unsigned e;
        long long created, after;
        if (sscanf(line, "key %u created %lld destroy-after %lld secret %64s", &e, &created, &after, hex) == 4 &&
            e == epoch)
            found = 0;
    }
    free(text);
    return found;
}

static void hex_to_bytes(uint8_t *out, const char *hex, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned byte = 0;
        sscanf(hex + 2 * i, "%2x", &byte);
        out[i] = (uint8_t)byte;
    }
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    CHECK(fd >= 0);
    if (fd < 0) return;
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    fchmod(fd, mode);
    close(fd);
}

/* One statement on the central database from outside the server. */
static void central_exec(const harness *h, const char *sql, const void *blob, int blob_len)
{
    sqlite3 *db = central_open(h);
    sqlite3_stmt *stmt = NULL;
    CHECK(db && sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK);
    if (stmt && blob) sqlite3_bind_blob(stmt, 1, blob, blob_len, SQLITE_STATIC);
    if (stmt) CHECK_EQ_INT(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

/* The key epoch in the header of a frame the tablet sent. */
static long long frame_epoch(const dala_buf *frame)
{
    dala_frame_header header;
    if (!frame->len || dala_frame_header_parse(&header, frame->data, frame->len)) return -1;
    return header.key_epoch;
}

/* Captures a record and syncs through a transport that keeps the frames;
 * the key epoch of the first and last frame accepted. */
static int sync_noting_epochs(dala_store *store, records_gen *gen, record_set *captured, long long *first,
                              long long *last)
{
    fault_transport fault;
    fault_init(&fault, FAULT_NONE, 0);
    capture(captured, store, gen, 1);
    int rc = sync_via(store, &fault.transport, 0, NULL);
    *first = frame_epoch(&fault.first_accepted);
    *last = frame_epoch(&fault.last_accepted);
    fault_free(&fault);
    return rc;
}

/* -------------------------------------------------- the real process */

/* The port the child wrote, once the whole line is there; 0 before. */
static int port_of(const char *path)
{
    FILE *f = fopen(path, "r");
    int port = 0;
    char newline = 0;
    if (f && !(fscanf(f, "%d%c", &port, &newline) == 2 && newline == '\n')) port = 0;
    if (f) fclose(f);
    return port;
}

/* Starts `dala-server serve` with `args` (NULL-terminated) after the
 * fixed ones, its output into c->log_file; 0 once its port file is there. */
static int serve_child(child_server *c, const char *const *args)
{
    const char *argv[24] = {c->binary, "serve", "--listen", "127.0.0.1:0", "--port-file", c->port_file};
    size_t n = 6;
    while (*args && n < 23) argv[n++] = *args++;
    argv[n] = NULL;
    int log_fd = open(c->log_file, O_WRONLY | O_CREAT | O_APPEND, 0600);
    pid_t pid = fork();
    if (pid == 0) {
        if (log_fd >= 0) {
            dup2(log_fd, STDOUT_FILENO);
            dup2(log_fd, STDERR_FILENO);
        }
        execv(c->binary, (char *const *)argv);
        _exit(127);
    }
    if (log_fd >= 0) close(log_fd);
    CHECK(pid > 0);
    if (pid <= 0) return -1;
    c->pid = pid;
    for (uint64_t started = monotonic_ms(); monotonic_ms() - started < 10000; usleep(2000)) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            c->pid = 0;
            test_fail(__FILE__, __LINE__, "dala-server exited at start (status 0x%x); see %s", status, c->log_file);
            return -1;
        }
        if ((c->port = port_of(c->port_file)) > 0) return 0;
    }
    test_fail(__FILE__, __LINE__, "dala-server wrote no port file; see %s", c->log_file);
    child_server_kill(c);
    return -1;
}

/* Runs `dala-server admin` with `args`; its output into `out` (may be NULL). */
static int run_admin(const char *binary, const char *const *args, const char *out)
{
    const char *argv[20] = {binary, "admin"};
    size_t n = 2;
    while (*args && n < 19) argv[n++] = *args++;
    argv[n] = NULL;
    int status = 0;
    if (run_with_timeout(&status, argv, NULL, out ? out : "/dev/null", "/dev/null", 20000) != 0) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int have_binary(const char *path)
{
    if (access(path, X_OK) == 0) return 1;
    test_fail(__FILE__, __LINE__, "%s is missing: run `make build-all` first (or set DALA_BUILD)", path);
    return 0;
}

/* ---------------------------------------------------------- file modes */

static void test_secrets_every_file_of_the_server_is_private_under_umask_000(void)
{
    char srv[400], db[500], keys[500], log[500], code_out[500], code[64] = "", url[64];
    child_server c;
    memset(&c, 0, sizeof c);
    const char *dir = test_tmpdir();
    snprintf(c.binary, sizeof c.binary, "%s", test_binary_path("dala-server"));
    if (!have_binary(c.binary)) return;
    /* Folders the server makes itself: its own, and the key file's. */
    snprintf(srv, sizeof srv, "%s/server", dir);
    snprintf(db, sizeof db, "%s/central.db", srv);
    snprintf(keys, sizeof keys, "%s/keys/server.keys", srv);
    snprintf(log, sizeof log, "%s/access.log", srv);
    snprintf(c.port_file, sizeof c.port_file, "%s/port", srv);
    snprintf(c.log_file, sizeof c.log_file, "%s/stderr.log", dir);
    snprintf(code_out, sizeof code_out, "%s/code.txt", dir);

    mode_t caller_umask = umask(0);
    CHECK_EQ_INT(run_admin(c.binary, ARGS("--db", db, "unit-add", "--kind", "unit", "--name", "Esil district unit",
                                             "--parent", "pd-astana"), NULL), 0);
    CHECK_EQ_INT(run_admin(c.binary, ARGS("--db", db, "user-add", "--login", "a.nurlanova", "--name",
                                             "Aigul Nurlanova", "--role", "inspector", "--unit",
                                             "Esil district unit"), NULL), 0);
    CHECK_EQ_INT(run_admin(c.binary, ARGS("--db", db, "code", "--login", "a.nurlanova"), code_out), 0);
    int started = serve_child(&c, ARGS("--db", db, "--log", log, "--key-file", keys));
    umask(caller_umask);
    char *code_text = test_read_file(code_out);
    if (code_text) sscanf(code_text, "%63s", code);
    free(code_text);
    if (started) return;

    /* A tablet enrols and syncs: the database, its WAL and index, the epoch
     * mark, the reserve, the key file, the log and the port file exist. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d", c.port);
    char store_path[500];
    snprintf(store_path, sizeof store_path, "%s/tablet.db", dir);
    dala_store *store = NULL;
    records_gen gen;
    record_set captured = {0};
    records_gen_init(&gen, 13);
    CHECK_OK(dala_store_open(&store, store_path));
    if (store) CHECK_OK(dala_store_enroll(store, url, code, NULL));
    if (store) capture(&captured, store, &gen, 3);
    if (store) sync_ok(store);

    dala_buf seen = DALA_BUF_INIT;
    check_private_tree(srv, "", &seen);
    const char *want[] = {"central.db ", "central.db-wal ", "central.db-shm ", "central.db.epoch ", "keys ",
                          "keys/server.keys ", "access.log ", "port "};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) CHECK_CONTAINS((const char *)seen.data, want[i]);
    CHECK_EQ_INT(file_mode(srv), 0700);

    child_server_stop(&c);
    dala_buf_reset(&seen);
    check_private_tree(srv, "", &seen);
    CHECK_CONTAINS((const char *)seen.data, "central.db.epoch ");
    dala_buf_free(&seen);
    dala_store_close(store);
    set_free(&captured);
}

static void test_secrets_files_an_older_build_left_readable_are_tightened_once(void)
{
    world w;
    char path[600];
    if (world_open(&w)) return;
    world_close(&w);
    /* As an older build under umask 022 left them. */
    const char *suffixes[] = {"", ".epoch", ".keys"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", w.h.db_path, suffixes[i]);
        CHECK_EQ_INT(chmod(path, 0644), 0);
    }
    CHECK_OK(world_restart(&w));
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", w.h.db_path, suffixes[i]);
        CHECK_EQ_INT(file_mode(path), 0600);
    }
    world_close(&w);
    CHECK_OK(world_restart(&w));
    world_close(&w);
    CHECK_EQ_INT(text_count(w.log, "made the database's files private"), 1);
    CHECK_EQ_INT(text_count(w.log, "made the key file"), 1);
    CHECK_EQ_INT(file_mode(w.log), 0600);
}

/* ------------------------------------------------------- the key file */

static void test_secrets_the_static_secret_leaves_a_database_of_an_older_build(void)
{
    world w;
    char keys[600], hex[65], wal[600];
    uint8_t secret[DALA_KEY_BYTES];
    records_gen gen;
    record_set captured = {0};
    records_gen_init(&gen, 7);
    if (world_open(&w)) return;
    dala_store *device = device_enrol(&w.h, "a1", w.h.officer_a, w.h.unit_a);
    if (!device) goto done;
    capture(&captured, device, &gen, 3);
    sync_ok(device);
    world_close(&w);

    /* The database as an older build kept it: the secret of the key the
     * tablet enrolled with in server_meta, no key file. */
    snprintf(keys, sizeof keys, "%s.keys", w.h.db_path);
    snprintf(wal, sizeof wal, "%s-wal", w.h.db_path);
    CHECK_EQ_INT(key_file_secret(hex, keys, 1), 0);
    hex_to_bytes(secret, hex, DALA_KEY_BYTES);
    central_exec(&w.h, "INSERT INTO server_meta (key, value) VALUES ('static_secret', ?1)", secret, DALA_KEY_BYTES);
    central_exec(&w.h, "DELETE FROM server_meta WHERE key = 'key_file_made'", NULL, 0);
    CHECK_EQ_INT(unlink(keys), 0);
    CHECK_EQ_INT(count_in_file(w.h.db_path, secret, sizeof secret), 1); /* the scan sees it */

    /* The first start moves it out; the tablet keeps syncing on epoch 1. */
    CHECK_OK(world_restart(&w));
    CHECK_EQ_INT(text_count(w.log, "moved the server's secret out of"), 1);
    CHECK_EQ_INT(file_mode(keys), 0600);
    char again[65] = "";
    CHECK_EQ_INT(key_file_secret(again, keys, 1), 0);
    CHECK_EQ_STR(again, hex);
    long long first = 0, last = 0;
    CHECK_OK(sync_noting_epochs(device, &gen, &captured, &first, &last));
    CHECK_EQ_INT(first, 1);
    capture(&captured, device, &gen, 5);
    sync_ok(device);
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM server_meta WHERE key = 'static_secret'", 0, 0), 0);
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM server_meta WHERE key = 'key_file_made'", 0, 0), 1);

    /* No copy in the database's files, running or stopped. */
    const char *files[] = {w.h.db_path, wal};
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < 2; i++) {
            CHECK_EQ_INT(count_in_file(files[i], secret, sizeof secret), 0);
            CHECK_EQ_INT(count_in_file(files[i], hex, 64), 0);
        }
        if (pass == 0) world_close(&w);
    }
    CHECK_OK(world_restart(&w));
    CHECK_EQ_INT(text_count(w.log, "moved the server's secret out of"), 1); /* once */
    sync_ok(device);
    check_converged(&w.h, w.h.unit_a, &captured, &device, 1);
done:
    world_close(&w);
    dala_wipe(secret, sizeof secret);
    dala_store_close(device);
    set_free(&captured);
}

static void test_secrets_a_missing_key_file_stops_the_start_instead_of_making_a_new_key(void)
{
    world w;
    char keys[600];
    if (world_open(&w)) return;
    world_close(&w);
    snprintf(keys, sizeof keys, "%s.keys", w.h.db_path);
    CHECK_EQ_INT(unlink(keys), 0);
    int rc = world_restart(&w);
    CHECK_EQ_INT(rc, DALA_ENOTFOUND);
    CHECK_CONTAINS(dala_errmsg(), "key file");
    CHECK_CONTAINS(dala_errmsg(), "restore it");
    CHECK(access(keys, F_OK) != 0);
    world_close(&w);
}

static void test_secrets_a_wrapped_key_file_opens_only_with_its_key(void)
{
    world w;
    char keys[600], wrap[600], wrong[600], loose[600];
    if (world_open(&w)) return;
    world_close(&w);
    snprintf(keys, sizeof keys, "%s.keys", w.h.db_path);
    snprintf(wrap, sizeof wrap, "%s/wrap.key", w.h.dir);
    snprintf(wrong, sizeof wrong, "%s/wrong.key", w.h.dir);
    snprintf(loose, sizeof loose, "%s/loose.key", w.h.dir);
    write_file(wrap, WRAP_HEX "\n", 0600);
    write_file(loose, WRAP_HEX "\n", 0644);
    char plain_secret[65];
    CHECK_EQ_INT(key_file_secret(plain_secret, keys, 1), 0);

    /* A plain key file is wrapped at the first start with a wrapping key. */
    w.key_wrap_file = wrap;
    CHECK_OK(world_restart(&w));
    CHECK_EQ_INT(text_count(w.log, "wrapped the key file"), 1);
    CHECK_EQ_INT(text_count(keys, "dala-server-keys-wrapped 1\n"), 1);
    CHECK_EQ_INT(text_count(keys, "secret"), 0);
    CHECK_EQ_INT(text_count(keys, plain_secret), 0);
    dala_store *device = device_enrol(&w.h, "a1", w.h.officer_a, w.h.unit_a);
    if (device) sync_ok(device);
    world_close(&w);

    w.key_wrap_file = NULL;
    CHECK_EQ_INT(world_restart(&w), DALA_EAUTH);
    CHECK_CONTAINS(dala_errmsg(), "wrapping key");
    world_close(&w);
    w.key_wrap_file = wrong;
    write_file(wrong, "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n", 0600);
    CHECK_EQ_INT(world_restart(&w), DALA_EAUTH);
    CHECK_CONTAINS(dala_errmsg(), "does not open");
    world_close(&w);
    w.key_wrap_file = loose;
    CHECK_EQ_INT(world_restart(&w), DALA_EAUTH);
    CHECK_CONTAINS(dala_errmsg(), "0600");
    world_close(&w);

    /* The same key from the environment. */
    w.key_wrap_file = NULL;
    setenv("DALA_SERVER_KEY_WRAP", WRAP_HEX, 1);
    CHECK_OK(world_restart(&w));
    unsetenv("DALA_SERVER_KEY_WRAP");
    if (device) sync_ok(device);
    world_close(&w);
    dala_store_close(device);
}

/* ---------------------------------------------------------- rotation */

static int rotate(const harness *h, dala_key_rotation *out, int64_t grace_seconds)
{
    dala_admin *admin = NULL;
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_rotate_key(out, admin, NULL, NULL, grace_seconds);
    dala_admin_close(admin);
    CHECK_OK(rc);
    return rc;
}

static void test_secrets_a_tablet_enrolled_before_a_rotation_keeps_syncing_and_learns_the_new_key(void)
{
    world w;
    records_gen gen;
    record_set captured = {0};
    dala_store *devices[2] = {NULL, NULL};
    dala_key_rotation rotation;
    long long first = 0, last = 0;
    records_gen_init(&gen, 21);
    if (world_open(&w)) return;
    devices[0] = device_enrol(&w.h, "a1", w.h.officer_a, w.h.unit_a);
    if (!devices[0]) goto done;
    CHECK_OK(sync_noting_epochs(devices[0], &gen, &captured, &first, &last));
    CHECK_EQ_INT(first, 1);

    int64_t before = (int64_t)time(NULL);
    if (rotate(&w.h, &rotation, 30LL * DAY_SECONDS)) goto done;
    CHECK_EQ_INT(rotation.epoch, 2);
    CHECK_EQ_INT(rotation.previous_epoch, 1);
    CHECK(rotation.previous_destroy_after >= before + 30LL * DAY_SECONDS);
    CHECK(rotation.previous_destroy_after <= (int64_t)time(NULL) + 30LL * DAY_SECONDS);
    CHECK_EQ_INT(strlen(rotation.fingerprint), 19);

    /* The running server took the rotation from the key file: the tablet's
     * old epoch still opens, and the answer teaches the new key. */
    CHECK_OK(sync_noting_epochs(devices[0], &gen, &captured, &first, &last));
    CHECK_EQ_INT(first, 1);
    CHECK_EQ_INT(text_count(w.log, "key epoch 2 is now current"), 1);
    CHECK_OK(sync_noting_epochs(devices[0], &gen, &captured, &first, &last));
    CHECK_EQ_INT(first, 2);
    CHECK_EQ_INT(last, 2);

    /* A tablet enrolled now starts on epoch 2. */
    devices[1] = device_enrol(&w.h, "a2", w.h.officer_a2, w.h.unit_a);
    if (devices[1]) CHECK_OK(sync_noting_epochs(devices[1], &gen, &captured, &first, &last));
    CHECK_EQ_INT(first, 2);
    sync_ok(devices[0]);
    check_converged(&w.h, w.h.unit_a, &captured, devices, 2);
done:
    world_close(&w);
    dala_store_close(devices[0]);
    dala_store_close(devices[1]);
    set_free(&captured);
}

static void test_secrets_after_the_grace_period_an_old_epoch_must_enrol_again(void)
{
    world w;
    records_gen gen;
    record_set captured = {0};
    dala_key_rotation rotation;
    char keys[600], old_secret[65];
    long long first = 0, last = 0;
    dala_store *early = NULL, *mid = NULL, *late = NULL;
    records_gen_init(&gen, 22);
    if (world_open(&w)) return;
    snprintf(keys, sizeof keys, "%s.keys", w.h.db_path);
    early = device_enrol(&w.h, "a1", w.h.officer_a, w.h.unit_a);
    mid = device_enrol(&w.h, "a2", w.h.officer_a2, w.h.unit_a);
    late = device_enrol(&w.h, "a3", w.h.officer_a2, w.h.unit_a);
    if (!early || !mid || !late) goto done;
    sync_ok(early);
    sync_ok(mid);
    sync_ok(late);
    CHECK_EQ_INT(key_file_secret(old_secret, keys, 1), 0);
    if (rotate(&w.h, &rotation, 30LL * DAY_SECONDS)) goto done;
    sync_ok(early); /* learns epoch 2 at once */

    /* 29 days on, epoch 1 still opens (and teaches epoch 2). */
    __atomic_store_n(&w.clock_offset_s, 29LL * DAY_SECONDS, __ATOMIC_RELAXED);
    CHECK_OK(sync_noting_epochs(mid, &gen, &captured, &first, &last));
    CHECK_EQ_INT(first, 1);
    CHECK_EQ_INT(key_file_secret(old_secret, keys, 1), 0);

    /* 31 days on, its secret is destroyed: the tablet that slept through
     * the grace period must enrol again; the others go on. */
    __atomic_store_n(&w.clock_offset_s, 31LL * DAY_SECONDS, __ATOMIC_RELAXED);
    CHECK_OK(sync_noting_epochs(early, &gen, &captured, &first, &last));
    CHECK_EQ_INT(first, 2);
    CHECK_EQ_INT(text_count(keys, old_secret), 0);
    CHECK_EQ_INT(text_count(keys, "destroyed 1 "), 1);
    CHECK_EQ_INT(text_count(w.log, "destroyed the secret of key epoch 1"), 1);
    int rc = sync_via(late, NULL, 0, NULL);
    CHECK_EQ_INT(rc, DALA_EAUTH);
    CHECK_CONTAINS(dala_errmsg(), "enrol");
    CHECK_OK(sync_noting_epochs(mid, &gen, &captured, &first, &last));
    CHECK_EQ_INT(first, 2);
done:
    world_close(&w);
    dala_store_close(early);
    dala_store_close(mid);
    dala_store_close(late);
    set_free(&captured);
}

/* The end-to-end test: the real server process, three tablets,
 * `dala-server admin rotate-key` from another process. */
static void test_secrets_three_tablets_keep_syncing_across_a_rotation_by_the_command(void)
{
    harness h;
    child_server c;
    records_gen gen;
    record_set captured = {0};
    dala_store *devices[3] = {NULL, NULL, NULL};
    char out[600];
    memset(&c, 0, sizeof c);
    records_gen_init(&gen, 33);
    if (harness_start(&h, 0)) return;
    e2e_stop(&h);
    snprintf(c.binary, sizeof c.binary, "%s", test_binary_path("dala-server"));
    snprintf(c.port_file, sizeof c.port_file, "%s/port", h.dir);
    snprintf(c.log_file, sizeof c.log_file, "%s/dala-server.log", h.dir);
    snprintf(out, sizeof out, "%s/rotate.txt", h.dir);
    if (!have_binary(c.binary) || child_server_start(&c, h.db_path, 0, 0, 10000)) return;
    h.port = c.port;
    snprintf(h.url, sizeof h.url, "http://127.0.0.1:%d", c.port);
    const int64_t officers[3] = {h.officer_a, h.officer_a2, h.officer_a};
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        devices[i] = device_enrol(&h, name, officers[i], h.unit_a);
        if (!devices[i]) goto done;
        capture(&captured, devices[i], &gen, 4);
        sync_ok(devices[i]);
    }

    CHECK_EQ_INT(run_admin(c.binary, ARGS("--db", h.db_path, "rotate-key", "--grace-days", "7"), out), 0);
    char *printed = test_read_file(out);
    CHECK_CONTAINS(printed, "key epoch 2 is current, fingerprint ");
    CHECK_CONTAINS(printed, "key epoch 1 stays usable");
    CHECK_CONTAINS(printed, "destroyed after 20");
    free(printed);

    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 3; i++) {
            long long first = 0, last = 0;
            CHECK_OK(sync_noting_epochs(devices[i], &gen, &captured, &first, &last));
            CHECK_EQ_INT(first, round == 0 ? 1 : 2);
        }
    for (int i = 0; i < 3; i++) sync_ok(devices[i]);
    check_converged(&h, h.unit_a, &captured, devices, 3);
    child_server_stop(&c);
done:
    if (c.pid) child_server_kill(&c);
    for (int i = 0; i < 3; i++) dala_store_close(devices[i]);
    set_free(&captured);
}

static void test_secrets_a_device_ignores_a_key_epoch_not_newer_than_its_own(void)
{
    world w;
    if (world_open(&w)) return;
    dala_store *device = device_enrol(&w.h, "a1", w.h.officer_a, w.h.unit_a);
    if (!device) goto done;
    sync_ok(device);
    uint8_t *enrolled = NULL, *now_key = NULL;
    size_t len = 0;
    int64_t server_epoch = 0, epoch = 0;
    CHECK_OK(dala_meta_get_bytes(&enrolled, &len, device->db, "server_public_key"));
    CHECK_OK(dala_meta_get_int(&server_epoch, device->db, "server_epoch", 0));

    /* Answers naming the device's own epoch, or none, with another key:
     * nothing changes. A newer epoch is taken. */
    const uint32_t offered[] = {1, 0, 5};
    for (size_t i = 0; i < 3; i++) {
        dala_sync_response response;
        dala_pull_result result;
        memset(&response, 0, sizeof response);
        response.server_epoch = (uint64_t)server_epoch;
        response.server_time_ms = dala_wall_clock_ms();
        response.next_key_epoch = offered[i];
        memset(response.next_server_key, 0x5a, DALA_KEY_BYTES);
        CHECK_OK(dala_pull_apply(&result, device->db, 0, 0, &response, 1000, dala_boot_clock_ms()));
        CHECK_OK(dala_meta_get_int(&epoch, device->db, "key_epoch", 0));
        CHECK_OK(dala_meta_get_bytes(&now_key, &len, device->db, "server_public_key"));
        CHECK_EQ_INT(epoch, offered[i] == 5 ? 5 : 1);
        if (now_key && enrolled)
            CHECK(!memcmp(now_key, offered[i] == 5 ? response.next_server_key : enrolled, DALA_KEY_BYTES));
        free(now_key);
        now_key = NULL;
    }
    free(enrolled);
done:
    world_close(&w);
    dala_store_close(device);
}

static void test_secrets_the_key_file_and_its_wrapping_come_from_the_config_or_flags(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/dala-server.conf", test_tmpdir());
    write_file(path, "key_file = /var/lib/dala/keys/central.keys\nkey_wrap_file = /run/dala/wrap.key\n", 0600);
    dala_server_options options = DALA_SERVER_OPTIONS_INIT;
    const char *port_file = NULL;
    char *argv[] = {"serve", "--config", path, "--key-file", "/srv/dala.keys", NULL};
    CHECK_EQ_INT(server_cli_parse_serve(&options, &port_file, 5, argv), 0);
    CHECK_EQ_STR(options.key_file, "/srv/dala.keys"); /* the flag after --config wins */
    CHECK_EQ_STR(options.key_wrap_file, "/run/dala/wrap.key");
}

const dala_test server_secrets_tests[] = {
    {"the_key_file_and_its_wrapping_come_from_the_config_or_flags",
     test_secrets_the_key_file_and_its_wrapping_come_from_the_config_or_flags},
    {"every_file_of_the_server_is_private_under_umask_000",
     test_secrets_every_file_of_the_server_is_private_under_umask_000},
    {"files_an_older_build_left_readable_are_tightened_once",
     test_secrets_files_an_older_build_left_readable_are_tightened_once},
    {"the_static_secret_leaves_a_database_of_an_older_build",
     test_secrets_the_static_secret_leaves_a_database_of_an_older_build},
    {"a_missing_key_file_stops_the_start_instead_of_making_a_new_key",
     test_secrets_a_missing_key_file_stops_the_start_instead_of_making_a_new_key},
    {"a_wrapped_key_file_opens_only_with_its_key", test_secrets_a_wrapped_key_file_opens_only_with_its_key},
    {"a_tablet_enrolled_before_a_rotation_keeps_syncing_and_learns_the_new_key",
     test_secrets_a_tablet_enrolled_before_a_rotation_keeps_syncing_and_learns_the_new_key},
    {"after_the_grace_period_an_old_epoch_must_enrol_again",
     test_secrets_after_the_grace_period_an_old_epoch_must_enrol_again},
    {"three_tablets_keep_syncing_across_a_rotation_by_the_command",
     test_secrets_three_tablets_keep_syncing_across_a_rotation_by_the_command},
    {"a_device_ignores_a_key_epoch_not_newer_than_its_own",
     test_secrets_a_device_ignores_a_key_epoch_not_newer_than_its_own},
    {NULL, NULL},
};
