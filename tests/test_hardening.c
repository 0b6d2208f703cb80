/* test_hardening.c - the small faults found on the way to issue 12, each
 * against the real server (or, for the transport, against a tiny listener
 * of the test's own): a chunked body with a bad chunk size is the client's
 * fault (400 saying what was wrong, on every route that reads a body);
 * enrolment refuses a low-order X25519 key without using up the code;
 * sign-ins and enrolment codes tried by many requests at once pass no more
 * attempts than the limit; the server starts on a full disk (a tmpfs this
 * test mounts as root), serves pulls, refuses pushes clearly and recovers
 * once space is freed; and a connection the server closes or resets is
 * reported as that, a real silence as a timeout. */
#include "e2e_support.h"
#include "raw_client.h"
#include "testhelp.h"
#include "web_client.h"
#include "web_int.h" /* WEB_SIGN_IN_FAILURES_PER_LOGIN, _PER_ADDRESS */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define PASSWORD "Hardening-2026"
#define ENROL_FAILURES_LIMIT 10 /* server.c: throttle_init(&server->enrol_failures, 10, 600) */

/* A user `login` (a unit head of unit A) whose password is PASSWORD. */
static void user_with_password(harness *h, const char *login)
{
    int64_t id = central_user_add(h, login, "unit_head", h->unit_a);
    dala_admin *admin = NULL;
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_user_password(admin, id, PASSWORD);
    dala_admin_close(admin);
    CHECK_OK(rc);
}

static void key_hex(char out[2 * DALA_KEY_BYTES + 1], const uint8_t key[DALA_KEY_BYTES])
{
    for (size_t i = 0; i < DALA_KEY_BYTES; i++) snprintf(out + 2 * i, 3, "%02x", key[i]);
}

/* POSTs a form body to /v1/enroll; the status, the answer in `answer`. */
static int enrol_with(harness *h, const char *code, const char *public_key_hex, dala_buf *answer)
{
    char body[256];
    int n = snprintf(body, sizeof body, "code=%s&public_key=%s", code, public_key_hex), status = -1;
    answer->len = 0;
    if (harness_post(h, "/v1/enroll", "application/x-www-form-urlencoded", body, (size_t)n, &status, answer))
        return -1;
    dala_buf_append(answer, "", 1); /* NUL-terminated for the checks */
    return status;
}

/* ============================================== 1. a bad chunk size is 400 */

/* `body` sent chunked to `path` as `type`, with `extra` headers. */
static int post_chunked(web_answer *a, int port, const char *path, const char *type, const char *extra,
                        const char *body)
{
    char request[1200];
    int n = snprintf(request, sizeof request,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n%sTransfer-Encoding: chunked\r\n"
                     "Connection: close\r\n\r\n%s",
                     path, type, extra, body);
    return web_call_raw(a, port, request, (size_t)n);
}

static void test_hardening_bad_chunk_size_answers_400_saying_what_was_wrong(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    user_with_password(&h, "head.a");
    web_login who;
    CHECK_EQ_INT(web_sign_in(&who, h.port, "head.a", PASSWORD), 200);
    char session[300];
    snprintf(session, sizeof session, "Cookie: %s\r\nX-CSRF-Token: %s\r\n", who.cookie, who.csrf);
    static const struct {
        const char *path, *type;
        int needs_session;
    } routes[] = {
        {"/v1/sync", "application/octet-stream", 0},
        {"/v1/enroll", "application/x-www-form-urlencoded", 0},
        {"/v1/session", "application/json", 0},
        {"/v1/devices/1/revoke", "application/json", 1}, /* any route of the supervisors' API with a body */
    };
    static const char *const bodies[] = {
        "zz\r\n{}\r\n0\r\n\r\n",                  /* not hexadecimal */
        "2 \r\n{}\r\n0\r\n\r\n",                  /* a space before CRLF */
        "-2\r\n{}\r\n0\r\n\r\n",                  /* a sign */
        "1111111111111111111111111111111111111111111111111111111111111111111111\r\n{}\r\n0\r\n\r\n", /* 70 digits */
        "2\r\n{}XX0\r\n\r\n",                     /* chunk data not followed by CRLF */
    };
    web_answer a = WEB_ANSWER_INIT;
    for (size_t r = 0; r < sizeof routes / sizeof routes[0]; r++) {
        for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
            int status = post_chunked(&a, h.port, routes[r].path, routes[r].type, routes[r].needs_session ? session : "",
                                      bodies[b]);
            if (status != 400 || !a.body || !strstr(a.body, "chunk"))
                test_fail(__FILE__, __LINE__, "POST %s with chunked body %zu answered %d, expected 400 naming the "
                          "chunked encoding: %s", routes[r].path, b, status, a.body ? a.body : "");
            CHECK_JSON(a.body, "$.code", "EINVAL");
        }
    }
    /* A well-formed chunked body still reads: a JSON body that is not a
     * sign-in is refused for what it says, not for how it came. */
    CHECK_EQ_INT(post_chunked(&a, h.port, "/v1/session", "application/json", "", "2\r\n{}\r\n0\r\n\r\n"), 400);
    CHECK_CONTAINS(a.body, "login and password");
    web_answer_free(&a);
    e2e_stop(&h);
}

/* ========================================= 2. low-order keys at enrolment */

static void test_hardening_enrolment_refuses_low_order_keys_and_the_code_stays_usable(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    /* The points of order 1, 2, 4 and 8 and non-canonical encodings of
     * them (as tests/test_keys.c lists them). */
    static const char *const low_order[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
    };
    char code[32];
    if (harness_code(&h, code, h.officer_a, h.unit_a)) {
        e2e_stop(&h);
        return;
    }
    dala_buf answer = DALA_BUF_INIT;
    for (size_t i = 0; i < sizeof low_order / sizeof low_order[0]; i++) {
        int status = enrol_with(&h, code, low_order[i], &answer);
        if (status != 400 || !strstr((const char *)answer.data, "low-order"))
            test_fail(__FILE__, __LINE__, "key %s answered %d: %s", low_order[i], status,
                      answer.len ? (const char *)answer.data : "");
    }
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM device", 0, 0), 0);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM enrol_code WHERE used_at IS NOT NULL", 0, 0), 0);
    /* Nine refused keys are not nine guessed codes: the address is not throttled. */
    dala_keypair pair;
    char good[2 * DALA_KEY_BYTES + 1];
    CHECK_OK(dala_keypair_generate(&pair));
    key_hex(good, pair.public_key);
    dala_keypair_wipe(&pair);
    CHECK_EQ_INT(enrol_with(&h, code, good, &answer), 200);
    CHECK_CONTAINS((const char *)answer.data, "\"device_id\"");
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM device", 0, 0), 1);
    dala_buf_free(&answer);
    e2e_stop(&h);
}

/* =============================================== 3. throttles under a crowd */

#define CROWD 32

typedef struct attempt {
    pthread_barrier_t *start;
    harness *h;
    char login[32], code[32];
    int is_enrol;
    int status;
} attempt;

static void *try_once(void *context)
{
    attempt *a = context;
    pthread_barrier_wait(a->start);
    if (a->is_enrol) {
        dala_buf answer = DALA_BUF_INIT;
        a->status = enrol_with(a->h, a->code, "0900000000000000000000000000000000000000000000000000000000000000",
                               &answer);
        dala_buf_free(&answer);
    } else {
        web_login who;
        a->status = web_sign_in(&who, a->h->port, a->login, "Not-the-password-1");
    }
    return NULL;
}

/* Runs `count` attempts at once (logins or codes as `fill` sets them) and
 * counts the answers with `status`. */
static int crowd(harness *h, int count, int is_enrol, void (*fill)(attempt *, int), int status)
{
    attempt attempts[CROWD];
    pthread_t threads[CROWD];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)count);
    for (int i = 0; i < count; i++) {
        memset(&attempts[i], 0, sizeof attempts[i]);
        attempts[i].start = &start;
        attempts[i].h = h;
        attempts[i].is_enrol = is_enrol;
        fill(&attempts[i], i);
        CHECK(pthread_create(&threads[i], NULL, try_once, &attempts[i]) == 0);
    }
    int matched = 0;
    for (int i = 0; i < count; i++) {
        pthread_join(threads[i], NULL);
        if (attempts[i].status == status) matched++;
        else if (attempts[i].status != 429)
            test_fail(__FILE__, __LINE__, "attempt %d answered %d, expected %d or 429", i, attempts[i].status,
                      status);
    }
    pthread_barrier_destroy(&start);
    return matched;
}

static void one_login(attempt *a, int i)
{
    (void)i;
    snprintf(a->login, sizeof a->login, "head.a");
}

static void many_logins(attempt *a, int i)
{
    snprintf(a->login, sizeof a->login, "guess.%d", i);
}

static void wrong_code(attempt *a, int i)
{
    snprintf(a->code, sizeof a->code, "WRNG-%04d-CODE", i);
}

static long long failed_sign_ins(harness *h)
{
    return central_int(h, "SELECT count(*) FROM audit WHERE action = 'sign_in_failed'", 0, 0);
}

static void test_hardening_parallel_wrong_passwords_reach_the_check_no_more_than_the_login_limit(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    user_with_password(&h, "head.a");
    int checked = crowd(&h, CROWD, 0, one_login, 401);
    if (checked > WEB_SIGN_IN_FAILURES_PER_LOGIN)
        test_fail(__FILE__, __LINE__, "%d of %d wrong passwords at once reached the check; the limit is %d", checked,
                  CROWD, WEB_SIGN_IN_FAILURES_PER_LOGIN);
    CHECK(checked >= 1);
    CHECK_EQ_INT(failed_sign_ins(&h), checked); /* the server's own count of password checks that failed */
    web_login who;
    CHECK_EQ_INT(web_sign_in(&who, h.port, "head.a", PASSWORD), checked == WEB_SIGN_IN_FAILURES_PER_LOGIN ? 429 : 200);
    e2e_stop(&h);
}

static void test_hardening_parallel_wrong_passwords_reach_the_check_no_more_than_the_address_limit(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    /* Each its own login: only the address's limit holds them. */
    int checked = crowd(&h, CROWD, 0, many_logins, 401);
    if (checked > WEB_SIGN_IN_FAILURES_PER_ADDRESS)
        test_fail(__FILE__, __LINE__, "%d of %d wrong sign-ins at once from one address reached the check; the "
                  "limit is %d", checked, CROWD, WEB_SIGN_IN_FAILURES_PER_ADDRESS);
    CHECK_EQ_INT(failed_sign_ins(&h), checked);
    e2e_stop(&h);
}

/* An attempt is counted before the hash and given back when it was right:
 * signing in many times does not use up the limit. */
static void test_hardening_right_passwords_give_their_attempt_back(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    user_with_password(&h, "head.a");
    web_login who;
    for (int i = 0; i < WEB_SIGN_IN_FAILURES_PER_LOGIN - 1; i++)
        CHECK_EQ_INT(web_sign_in(&who, h.port, "head.a", "Not-the-password-1"), 401);
    for (int i = 0; i < 8; i++) CHECK_EQ_INT(web_sign_in(&who, h.port, "head.a", PASSWORD), 200);
    CHECK_EQ_INT(web_sign_in(&who, h.port, "head.a", "Not-the-password-1"), 401); /* the last one allowed */
    CHECK_EQ_INT(web_sign_in(&who, h.port, "head.a", PASSWORD), 429);
    e2e_stop(&h);
}

static void test_hardening_parallel_wrong_enrolment_codes_pass_no_more_than_the_limit(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    int checked = crowd(&h, CROWD, 1, wrong_code, 403);
    if (checked > ENROL_FAILURES_LIMIT)
        test_fail(__FILE__, __LINE__, "%d of %d wrong codes at once were looked up; the limit is %d", checked, CROWD,
                  ENROL_FAILURES_LIMIT);
    CHECK(checked >= 1);
    /* The address is blocked now, for a right code too. */
    char code[32];
    dala_buf answer = DALA_BUF_INIT;
    if (!harness_code(&h, code, h.officer_a, h.unit_a))
        CHECK_EQ_INT(enrol_with(&h, code, "0900000000000000000000000000000000000000000000000000000000000000", &answer),
                     checked == ENROL_FAILURES_LIMIT ? 429 : 200);
    dala_buf_free(&answer);
    e2e_stop(&h);
}

/* ============================================= 4. starting on a full disk */

/* Fills the file system of `dir` with `path` until a write fails;
 * returns the bytes still free (0 when it is full). */
static unsigned long long fill_disk(const char *path, const char *dir)
{
    FILE *file = fopen(path, "wb");
    CHECK(file != NULL);
    if (!file) return (unsigned long long)-1;
    setvbuf(file, NULL, _IONBF, 0);
    static const char zeros[65536];
    for (size_t size = sizeof zeros; size >= 1; size /= 2)
        while (fwrite(zeros, 1, size, file) == size) {}
    fclose(file);
    struct statvfs disk;
    if (statvfs(dir, &disk) != 0) return (unsigned long long)-1;
    return (unsigned long long)disk.f_bavail * disk.f_frsize;
}

/* Starts a server on `h->db_path` at `h->port` with its log at `log_path`. */
static int start_logged(harness *h, const char *log_path)
{
    dala_server_options options = DALA_SERVER_OPTIONS_INIT;
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", h->port);
    options.db_path = h->db_path;
    options.listen = listen;
    options.num_threads = 4;
    options.access_log = log_path;
    int rc = dala_server_start(&h->server, &options);
    if (!rc) {
        h->port = dala_server_port(h->server);
        snprintf(h->url, sizeof h->url, "http://127.0.0.1:%d", h->port);
    }
    return rc;
}

/* The tree of server_harness.c (two units, their officers) in `h->db_path`. */
static int make_tree(harness *h)
{
    dala_admin *admin;
    int64_t department, body;
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_unit_find(&department, admin, "pd-astana");
    if (!rc) rc = dala_admin_unit_add(&body, admin, department, "body", "Esil district police");
    if (!rc) rc = dala_admin_unit_add(&h->unit_a, admin, body, "unit", "Esil district unit");
    if (!rc) rc = dala_admin_user_add(&h->officer_a, admin, "a.nurlanova", "Aigul Nurlanova", "inspector", h->unit_a);
    if (!rc) rc = dala_admin_user_add(&h->officer_a2, admin, "d.sadykova", "Dana Sadykova", "inspector", h->unit_a);
    dala_admin_close(admin);
    CHECK_OK(rc);
    return rc;
}

static void test_hardening_server_starts_on_a_full_disk_serves_pulls_refuses_pushes_and_recovers(void)
{
    harness h;
    memset(&h, 0, sizeof h);
    char disk[270], fill[300], log_path[300], fresh[300];
    snprintf(h.dir, sizeof h.dir, "%s", test_tmpdir()); /* the tablets' stores and the log: not on the small disk */
    snprintf(disk, sizeof disk, "%.250s/disk", h.dir);
    snprintf(h.db_path, sizeof h.db_path, "%s/central.db", disk);
    snprintf(fill, sizeof fill, "%s/fill", disk);
    snprintf(fresh, sizeof fresh, "%s/fresh.db", disk);
    snprintf(log_path, sizeof log_path, "%s/server.log", h.dir);
    if (mkdir(disk, 0700) != 0 || mount("tmpfs", disk, "tmpfs", 0, "size=6m,mode=0700") != 0) {
        test_fail(__FILE__, __LINE__, "mount -t tmpfs -o size=6m on %s failed: %s (this test mounts a small disk and "
                  "needs root, as CI runs)", disk, strerror(errno));
        return;
    }
    dala_store *a1 = NULL, *a2 = NULL;
    record_set first = {0}, later = {0}, held = {0};
    records_gen gen;
    records_gen_init(&gen, 12);
    if (make_tree(&h) || harness_restart(&h)) goto done;
    a1 = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    a2 = device_enrol(&h, "a2", h.officer_a2, h.unit_a);
    if (!a1 || !a2) goto done;
    capture(&first, a1, &gen, 20);
    sync_ok(a1);
    harness_stop(&h);

    /* Full: not one byte more fits. */
    unsigned long long left = fill_disk(fill, disk);
    CHECK_EQ_U64(left, 0);

    /* A database that still needs its migrations cannot start without
     * room, and says why. */
    dala_server *fresh_server = NULL;
    dala_server_options options = DALA_SERVER_OPTIONS_INIT;
    options.db_path = fresh;
    options.listen = "127.0.0.1:0";
    options.quiet = 1;
    CHECK(dala_server_start(&fresh_server, &options) != DALA_OK);
    CHECK_CONTAINS(dala_errmsg(), "disk is full");
    dala_server_stop(fresh_server);
    remove(fresh);

    /* The migrated one starts, and says in its log that the disk is full. */
    int rc = start_logged(&h, log_path);
    CHECK_OK(rc);
    if (rc) goto done;
    char *log = test_read_file(log_path);
    CHECK_CONTAINS(log, "warning");
    CHECK_CONTAINS(log, "full");
    free(log);

    /* Pulls are served: the second tablet gets the first one's records. */
    CHECK_OK(sync_via(a2, NULL, 0, NULL));
    device_records(&held, a2, -1);
    check_same_ids(&held, &first, "a2 after a pull from the full server");

    /* Pushes are refused, clearly, and stay on the tablet. */
    capture(&later, a1, &gen, 400);
    rc = sync_via(a1, NULL, 0, NULL);
    CHECK_EQ_INT(rc, DALA_ENOSPACE);
    CHECK_CONTAINS(dala_errmsg(), "full");
    CHECK(device_status(a1).pending_changes > 0);

    /* Space freed: the pending changes go through, and reach the other tablet. */
    remove(fill);
    sync_ok(a1);
    CHECK_EQ_U64(device_status(a1).pending_changes, 0);
    sync_ok(a2);
    set_free(&held);
    device_records(&held, a2, -1);
    CHECK_EQ_U64(held.count, first.count + later.count);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'field_visit'", 0, 0),
                 (long long)(first.count + later.count));

    /* The next start with room keeps a reserve for the next full disk. */
    char reserve[340];
    struct stat kept;
    snprintf(reserve, sizeof reserve, "%s.reserve", h.db_path);
    CHECK(stat(reserve, &kept) != 0); /* released at the full start, not made again on a full disk */
    harness_stop(&h);
    if (harness_restart(&h)) goto done;
    CHECK(stat(reserve, &kept) == 0 && kept.st_size == 64 * 1024);

done:
    dala_store_close(a1);
    dala_store_close(a2);
    if (h.server) harness_stop(&h);
    set_free(&first);
    set_free(&later);
    set_free(&held);
    if (umount2(disk, MNT_DETACH) != 0)
        test_fail(__FILE__, __LINE__, "umount %s: %s", disk, strerror(errno));
}

/* ===================================== 5. a cut connection is not a timeout */

/* What the listener does with the one connection it accepts. */
typedef enum listener_kind {
    CLOSE_AT_ONCE,      /* close as soon as it is accepted, reading nothing */
    CLOSE_AFTER_READ,   /* read the request, then close (a FIN) */
    RESET_AFTER_READ,   /* read the request, then reset (SO_LINGER 0: an RST) */
    SILENT              /* read the request and say nothing until the client leaves */
} listener_kind;

typedef struct listener {
    int fd, port;
    listener_kind kind;
    pthread_t thread;
} listener;

static void *listener_run(void *context)
{
    listener *l = context;
    int conn = accept(l->fd, NULL, NULL);
    if (conn < 0) return NULL;
    if (l->kind != CLOSE_AT_ONCE) {
        /* The whole request, its head and its 16-byte body, within a
         * second: a byte left unread would turn the close into a reset. */
        char buf[4096];
        struct pollfd p = {conn, POLLIN, 0};
        size_t got = 0;
        for (;;) {
            buf[got] = '\0';
            const char *end = strstr(buf, "\r\n\r\n");
            if ((end && got >= (size_t)(end - buf) + 4 + 16) || got >= sizeof buf - 1 || poll(&p, 1, 1000) <= 0) break;
            ssize_t n = recv(conn, buf + got, sizeof buf - 1 - got, 0);
            if (n <= 0) break;
            got += (size_t)n;
        }
    }
    if (l->kind == RESET_AFTER_READ) {
        struct linger hard = {1, 0};
        setsockopt(conn, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    }
    if (l->kind == SILENT) {
        char byte;
        struct pollfd p = {conn, POLLIN, 0};
        if (poll(&p, 1, 10000) > 0) (void)recv(conn, &byte, 1, 0); /* until the client closes */
    }
    close(conn);
    return NULL;
}

static int listener_start(listener *l, listener_kind kind)
{
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->fd = raw_listen_loopback(&l->port, 1);
    if (l->fd < 0 || pthread_create(&l->thread, NULL, listener_run, l) != 0) {
        test_fail(__FILE__, __LINE__, "start a listener: %s", strerror(errno));
        if (l->fd >= 0) close(l->fd);
        return -1;
    }
    return 0;
}

static void listener_stop(listener *l)
{
    pthread_join(l->thread, NULL);
    close(l->fd);
}

/* One POST through the built-in transport to the listener (timed_post,
 * answers of at most 4 KiB). */
static int post_to(const listener *l, int timeout_ms, char *message, size_t size, uint64_t *took_ms)
{
    return timed_post(dala_transport_builtin(), l->port, 4096, timeout_ms, message, size, took_ms);
}

static void check_cut(listener_kind kind, const char *want)
{
    listener l;
    if (listener_start(&l, kind)) return;
    char message[400], where[64];
    uint64_t took_ms;
    CHECK_EQ_INT(post_to(&l, 5000, message, sizeof message, &took_ms), DALA_EIO);
    listener_stop(&l);
    snprintf(where, sizeof where, "by 127.0.0.1:%d after ", l.port);
    CHECK_CONTAINS(message, where);
    if (want) CHECK_CONTAINS(message, want);
    else if (!strstr(message, "the connection was closed") && !strstr(message, "the connection was reset"))
        test_fail(__FILE__, __LINE__, "\"%s\" says neither closed nor reset", message);
    if (strstr(message, "within") || took_ms > 2000)
        test_fail(__FILE__, __LINE__, "after %llu ms of a 5000 ms timeout: \"%s\"", (unsigned long long)took_ms,
                  message);
}

static void test_hardening_connection_closed_at_once_is_reported_as_cut_not_as_a_timeout(void)
{
    check_cut(CLOSE_AT_ONCE, NULL);
}

static void test_hardening_connection_closed_after_the_request_is_reported_as_closed(void)
{
    check_cut(CLOSE_AFTER_READ, "the connection was closed by");
}

static void test_hardening_connection_reset_after_the_request_is_reported_as_reset(void)
{
    check_cut(RESET_AFTER_READ, "the connection was reset by");
}

static void test_hardening_server_that_never_answers_is_reported_as_a_timeout(void)
{
    listener l;
    if (listener_start(&l, SILENT)) return;
    char message[400], want[96];
    uint64_t took_ms;
    CHECK_EQ_INT(post_to(&l, 300, message, sizeof message, &took_ms), DALA_EIO);
    listener_stop(&l);
    snprintf(want, sizeof want, "no answer from 127.0.0.1:%d within 300 ms", l.port);
    CHECK_CONTAINS(message, want);
    CHECK(took_ms >= 290);
}

const dala_test hardening_tests[] = {
    {"hardening_bad_chunk_size_answers_400_saying_what_was_wrong",
     test_hardening_bad_chunk_size_answers_400_saying_what_was_wrong},
    {"hardening_enrolment_refuses_low_order_keys_and_the_code_stays_usable",
     test_hardening_enrolment_refuses_low_order_keys_and_the_code_stays_usable},
    {"hardening_parallel_wrong_passwords_reach_the_check_no_more_than_the_login_limit",
     test_hardening_parallel_wrong_passwords_reach_the_check_no_more_than_the_login_limit},
    {"hardening_parallel_wrong_passwords_reach_the_check_no_more_than_the_address_limit",
     test_hardening_parallel_wrong_passwords_reach_the_check_no_more_than_the_address_limit},
    {"hardening_right_passwords_give_their_attempt_back", test_hardening_right_passwords_give_their_attempt_back},
    {"hardening_parallel_wrong_enrolment_codes_pass_no_more_than_the_limit",
     test_hardening_parallel_wrong_enrolment_codes_pass_no_more_than_the_limit},
    {"hardening_server_starts_on_a_full_disk_serves_pulls_refuses_pushes_and_recovers",
     test_hardening_server_starts_on_a_full_disk_serves_pulls_refuses_pushes_and_recovers},
    {"hardening_connection_closed_at_once_is_reported_as_cut_not_as_a_timeout",
     test_hardening_connection_closed_at_once_is_reported_as_cut_not_as_a_timeout},
    {"hardening_connection_closed_after_the_request_is_reported_as_closed",
     test_hardening_connection_closed_after_the_request_is_reported_as_closed},
    {"hardening_connection_reset_after_the_request_is_reported_as_reset",
     test_hardening_connection_reset_after_the_request_is_reported_as_reset},
    {"hardening_server_that_never_answers_is_reported_as_a_timeout",
     test_hardening_server_that_never_answers_is_reported_as_a_timeout},
    {NULL, NULL},
};
