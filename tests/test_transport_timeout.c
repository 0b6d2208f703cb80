/* test_transport_timeout.c - suite "transport_timeout": the built-in
 * transport gives up on an answer that stalls. A small endpoint on
 * 127.0.0.1:0, in a thread, reads each request whole and either answers
 * it itself (headers and half of a 1024-byte body, then silence; or a
 * byte now and then) or forwards it to the real dala-server and relays
 * the answer, stalling half way through the next sync answer when told
 * to. Proven: the stalled answer fails with "the server stopped
 * answering" about timeout_ms after its last byte, through the transport,
 * dala_sync and `dala sync --timeout-ms 2000`; a trickle is stopped by the
 * cap on the whole exchange; and the same tablet's next sync completes
 * with every record on the server once. */
#include "e2e_support.h"
#include "raw_client.h"
#include "testhelp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define OWN_BODY_BYTES 1024
/* The longest the endpoint holds a stalled connection (the client gives
 * up long before). */
#define HOLD_MS 10000

typedef enum endpoint_kind {
    ANSWER_HALF,    /* its own answer: headers and half the body, then silence */
    ANSWER_TRICKLE, /* its own answer: headers, then a byte every 200 ms */
    FORWARD         /* to the real server; the next stall_syncs sync answers stall half way */
} endpoint_kind;

typedef struct endpoint {
    endpoint_kind kind;
    int fd, port, upstream_port;
    atomic_int stop, stall_syncs, stalled;
    pthread_t thread;
} endpoint;

/* Waits up to `ms` for `fd` to be readable; 1 when it is. */
static int readable(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) > 0;
}

/* Reads one HTTP message's head and its Content-Length body (or, with
 * `to_eof`, all until the peer closes) into `out`; 0 or -1. */
static int read_message(dala_buf *out, int fd, int to_eof)
{
    char chunk[16384];
    long body = -1;
    size_t head = 0;
    for (;;) {
        if (!to_eof && head && out->len >= head + (size_t)body) return 0;
        if (!readable(fd, 5000)) return -1;
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n < 0) return -1;
        if (n == 0) return to_eof ? 0 : -1;
        if (dala_buf_append(out, chunk, (size_t)n)) return -1;
        if (!head) {
            const char *end = memmem(out->data, out->len, "\r\n\r\n", 4);
            if (!end) continue;
            head = (size_t)(end - (const char *)out->data) + 4;
            const char *length = memmem(out->data, head, "Content-Length:", 15);
            if (!length) length = memmem(out->data, head, "content-length:", 15);
            body = length ? atol(length + 15) : 0;
        }
    }
}

/* Holds a stalled connection until the client closes it (or HOLD_MS). */
static void hold(int conn)
{
    char byte;
    if (readable(conn, HOLD_MS)) (void)recv(conn, &byte, 1, 0);
}

static void answer_own(endpoint *e, int conn)
{
    char head[200], body[OWN_BODY_BYTES];
    memset(body, 'x', sizeof body);
    int head_len = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                                               "Content-Length: %d\r\n\r\n", OWN_BODY_BYTES);
    if (raw_send_all(conn, head, (size_t)head_len)) return;
    if (e->kind == ANSWER_HALF) {
        if (raw_send_all(conn, body, OWN_BODY_BYTES / 2) == 0) hold(conn);
        return;
    }
    for (int i = 0; i < HOLD_MS / 200 && !e->stop; i++) {
        if (raw_send_all(conn, body, 1)) return;
        if (readable(conn, 200)) return; /* the client closed */
    }
}

static void forward(endpoint *e, int conn, const dala_buf *request)
{
    dala_buf answer = DALA_BUF_INIT;
    int up = raw_connect(e->upstream_port);
    if (up < 0 || raw_send_all(up, (const char *)request->data, request->len) || read_message(&answer, up, 1)) {
        if (up >= 0) close(up);
        dala_buf_free(&answer);
        return;
    }
    close(up);
    const char *end = memmem(answer.data, answer.len, "\r\n\r\n", 4);
    int is_sync = request->len > 14 && memcmp(request->data, "POST /v1/sync ", 14) == 0;
    if (is_sync && end && atomic_load(&e->stall_syncs) > 0) {
        atomic_fetch_sub(&e->stall_syncs, 1);
        size_t head = (size_t)(end - (const char *)answer.data) + 4;
        if (raw_send_all(conn, (const char *)answer.data, head + (answer.len - head) / 2) == 0) {
            atomic_fetch_add(&e->stalled, 1);
            hold(conn);
        }
    } else {
        (void)raw_send_all(conn, (const char *)answer.data, answer.len);
    }
    dala_buf_free(&answer);
}

static void *endpoint_run(void *context)
{
    endpoint *e = context;
    while (!e->stop) {
        if (!readable(e->fd, 100)) continue;
        int conn = accept(e->fd, NULL, NULL);
        if (conn < 0) continue;
        dala_buf request = DALA_BUF_INIT;
        if (read_message(&request, conn, 0) == 0) {
            if (e->kind == FORWARD) forward(e, conn, &request);
            else answer_own(e, conn);
        }
        dala_buf_free(&request);
        close(conn);
    }
    return NULL;
}

static int endpoint_start(endpoint *e, endpoint_kind kind, int upstream_port)
{
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->upstream_port = upstream_port;
    e->fd = raw_listen_loopback(&e->port, 8);
    if (e->fd < 0 || pthread_create(&e->thread, NULL, endpoint_run, e) != 0) {
        test_fail(__FILE__, __LINE__, "start an endpoint: %s", strerror(errno));
        if (e->fd >= 0) close(e->fd);
        return -1;
    }
    return 0;
}

static void endpoint_stop(endpoint *e)
{
    e->stop = 1;
    pthread_join(e->thread, NULL);
    close(e->fd);
}

/* One POST through `transport` to the endpoint (timed_post, answers of
 * at most 1 MiB). */
static int post_to(const dala_transport *transport, const endpoint *e, int timeout_ms, char *message, size_t size,
                   uint64_t *took_ms)
{
    return timed_post(transport, e->port, 1 << 20, timeout_ms, message, size, took_ms);
}

static void test_transport_timeout_answer_that_stops_half_way_fails_within_the_timeout(void)
{
    endpoint e;
    if (endpoint_start(&e, ANSWER_HALF, 0)) return;
    char message[400], want[200];
    uint64_t took_ms;
    CHECK_EQ_INT(post_to(dala_transport_builtin(), &e, 2000, message, sizeof message, &took_ms), DALA_EIO);
    endpoint_stop(&e);
    snprintf(want, sizeof want, "the server stopped answering: 127.0.0.1:%d sent 512 of 1024 bytes of its answer, "
                                "then nothing for 2000 ms", e.port);
    CHECK_EQ_STR(message, want);
    CHECK(took_ms >= 1950);
    CHECK(took_ms < 3000);
    printf("    figure: an answer stalled half way given up after %llu ms (timeout 2000 ms)\n",
           (unsigned long long)took_ms);
}

/* Bytes that keep coming, slowly, do not count as a stall; the cap on the
 * whole exchange stops them. */
static void test_transport_timeout_trickling_answer_is_stopped_by_the_cap_on_the_whole_exchange(void)
{
    endpoint e;
    if (endpoint_start(&e, ANSWER_TRICKLE, 0)) return;
    dala_http_options options = DALA_HTTP_OPTIONS_INIT;
    options.max_exchange_ms = 1500;
    dala_transport *transport = NULL;
    CHECK_OK(dala_transport_http_new(&transport, &options));
    char message[400];
    uint64_t took_ms = 0;
    if (transport) CHECK_EQ_INT(post_to(transport, &e, 1000, message, sizeof message, &took_ms), DALA_EIO);
    endpoint_stop(&e);
    dala_transport_http_free(transport);
    if (!transport) return;
    CHECK_CONTAINS(message, "took longer than");
    CHECK_CONTAINS(message, "in all");
    CHECK(took_ms >= 1400);
    CHECK(took_ms < 2500);
}

/* dala_sync through a front that stalls the answer to the sync: a clear
 * error within about the timeout, nothing acknowledged on the tablet; the
 * next sync (the same batch again, which the server applies once)
 * completes, and the server holds every record once. */
static void test_transport_timeout_stalled_sync_fails_in_time_and_the_next_sync_loses_nothing(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    endpoint e;
    record_set captured = {0}, held = {0};
    records_gen gen;
    records_gen_init(&gen, 1500);
    dala_store *device = NULL;
    if (endpoint_start(&e, FORWARD, h.port)) goto done;
    char server_url[64];
    snprintf(server_url, sizeof server_url, "%s", h.url);
    snprintf(h.url, sizeof h.url, "http://127.0.0.1:%d", e.port); /* the tablet knows the front only */
    device = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    snprintf(h.url, sizeof h.url, "%s", server_url);
    if (!device) goto stop;
    capture(&captured, device, &gen, 5);

    atomic_store(&e.stall_syncs, 1);
    dala_sync_options options = DALA_SYNC_OPTIONS_INIT;
    options.timeout_ms = 2000;
    uint64_t started = monotonic_ms();
    CHECK_EQ_INT(dala_sync(NULL, device, &options), DALA_EIO);
    uint64_t took_ms = monotonic_ms() - started;
    CHECK_CONTAINS(dala_errmsg(), "sync: the server stopped answering: 127.0.0.1:");
    CHECK_CONTAINS(dala_errmsg(), "then nothing for 2000 ms");
    CHECK_EQ_INT(atomic_load(&e.stalled), 1);
    CHECK(took_ms < 3000);
    printf("    figure: dala_sync with a stalled answer failed after %llu ms (timeout 2000 ms)\n",
           (unsigned long long)took_ms);
    CHECK_EQ_U64(device_status(device).pending_changes, 5);

    dala_sync_stats stats;
    CHECK_OK(dala_sync(&stats, device, &options));
    CHECK_EQ_U64(device_status(device).pending_changes, 0);
    central_records(&held, &h, h.unit_a, "field_visit");
    check_same_ids(&held, &captured, "the server after the stalled sync and the next one");
    check_unit_log_once(&h, h.unit_a);
stop:
    endpoint_stop(&e);
done:
    dala_store_close(device);
    set_free(&captured);
    set_free(&held);
    harness_stop(&h);
}

/* run_dala, timed, killed after 30 s. */
static int run_dala_timed(char **out, uint64_t *took_ms, const char *dir, const char *const *args)
{
    return run_dala(out, took_ms, dir, NULL, NULL, args, 30000);
}

/* The command as issue 15 reported it: `dala sync --timeout-ms 2000`
 * against a front that stalls half way fails with a clear error in about
 * 2 s (beyond what opening the store takes), and the next sync completes. */
static void test_transport_timeout_dala_sync_command_gives_up_in_time(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    endpoint e;
    char code[32], front[64], *out = NULL;
    uint64_t took_ms = 0, open_ms = 0;
    if (endpoint_start(&e, FORWARD, h.port)) goto done;
    snprintf(front, sizeof front, "http://127.0.0.1:%d", e.port);
    if (harness_code(&h, code, h.officer_a, h.unit_a)) goto stop;
    const char *enroll[] = {"enroll", "--server", front, "--code", code, NULL};
    CHECK_EQ_INT(run_dala_timed(&out, &took_ms, h.dir, enroll), 0);
    free(out);
    const char *capture_visit[] = {"capture", "--table", "field_visit", "--set", "visit_date=2026-11-24",
                                   "--set", "purpose=preventive_visit", "--set", "risk_level=low", NULL};
    CHECK_EQ_INT(run_dala_timed(&out, &took_ms, h.dir, capture_visit), 0);
    free(out);
    const char *status[] = {"status", NULL};
    CHECK_EQ_INT(run_dala_timed(&out, &open_ms, h.dir, status), 0); /* what opening the store costs */
    free(out);

    atomic_store(&e.stall_syncs, 1);
    const char *sync[] = {"sync", "--timeout-ms", "2000", NULL};
    CHECK_EQ_INT(run_dala_timed(&out, &took_ms, h.dir, sync), 1);
    CHECK_CONTAINS(out, "dala: sync: the server stopped answering: 127.0.0.1:");
    free(out);
    CHECK(took_ms < open_ms + 3000);
    printf("    figure: `dala sync --timeout-ms 2000` against a stalled answer exited after %llu ms "
           "(opening the store alone: %llu ms)\n", (unsigned long long)took_ms, (unsigned long long)open_ms);

    CHECK_EQ_INT(run_dala_timed(&out, &took_ms, h.dir, sync), 0);
    CHECK_CONTAINS(out, "1 acknowledged, 0 refused");
    free(out);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE unit_id = ?1", h.unit_a, 0), 1);
stop:
    endpoint_stop(&e);
done:
    harness_stop(&h);
}

const dala_test transport_timeout_tests[] = {
    {"transport_timeout_answer_that_stops_half_way_fails_within_the_timeout",
     test_transport_timeout_answer_that_stops_half_way_fails_within_the_timeout},
    {"transport_timeout_trickling_answer_is_stopped_by_the_cap_on_the_whole_exchange",
     test_transport_timeout_trickling_answer_is_stopped_by_the_cap_on_the_whole_exchange},
    {"transport_timeout_stalled_sync_fails_in_time_and_the_next_sync_loses_nothing",
     test_transport_timeout_stalled_sync_fails_in_time_and_the_next_sync_loses_nothing},
    {"transport_timeout_dala_sync_command_gives_up_in_time", test_transport_timeout_dala_sync_command_gives_up_in_time},
    {NULL, NULL},
};
