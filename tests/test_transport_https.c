/* test_transport_https.c - suite "transport_https": the built-in
 * transport over https:// with a CA file. The `openssl` command makes a
 * throwaway CA, a server certificate for 127.0.0.1 and localhost signed by
 * it, a certificate for another name signed by it, and a second CA that
 * signed nothing here. A small TLS front (mbedTLS, in a thread, on
 * 127.0.0.1:0) terminates TLS and forwards each request to the real
 * dala-server, as nginx does in `make deploy-test`. Proven: enrolment and
 * sync over https:// with the right CA file, through the SDK and the
 * `dala` command (--ca-file, $DALA_CA_FILE); a clear certificate error
 * with a CA that did not sign the certificate, with the system's CAs, and
 * with a certificate for another host name, the enrolment code unspent;
 * a CA file that cannot be read said at once; plain http:// still works;
 * the command's help names --ca-file. */
#include "e2e_support.h"
#include "raw_client.h"
#include "testhelp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* The files `openssl` makes in the test's folder. */
typedef struct pki {
    char ca[600], wrong_ca[600], cert[600], key[600], other_cert[600], other_key[600];
} pki;

static int make_pki(pki *out, const char *dir)
{
    char script[4096];
    snprintf(out->ca, sizeof out->ca, "%s/ca.pem", dir);
    snprintf(out->wrong_ca, sizeof out->wrong_ca, "%s/wrong-ca.pem", dir);
    snprintf(out->cert, sizeof out->cert, "%s/server.pem", dir);
    snprintf(out->key, sizeof out->key, "%s/server.key", dir);
    snprintf(out->other_cert, sizeof out->other_cert, "%s/other.pem", dir);
    snprintf(out->other_key, sizeof out->other_key, "%s/other.key", dir);
    /* P-256 keys: quick to make, and mbedTLS and OpenSSL both speak them. */
    snprintf(script, sizeof script,
             "set -e; cd '%s'; ec='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
             "openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj '/CN=Dala test CA'\n"
             "openssl req -x509 $ec -keyout wrong-ca.key -out wrong-ca.pem -days 2 -subj '/CN=Another CA'\n"
             "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > server.ext\n"
             "printf 'subjectAltName=DNS:other.example\\nextendedKeyUsage=serverAuth\\n' > other.ext\n"
             "for name in server other; do\n"
             "  openssl req $ec -keyout $name.key -out $name.csr -subj \"/CN=$name\"\n"
             "  openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
             "-extfile $name.ext -out $name.pem\n"
             "done\n",
             dir);
    char log[700];
    snprintf(log, sizeof log, "%s/openssl.log", dir);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    int status;
    if (run_with_timeout(&status, argv, "/dev/null", log, NULL, 30000) || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        char *text = test_read_file(log);
        test_fail(__FILE__, __LINE__, "openssl could not make the certificates: %s", text ? text : "");
        free(text);
        return -1;
    }
    return 0;
}

/* --- the TLS front -------------------------------------------------------- */

typedef struct tls_front {
    int fd, port, upstream_port;
    atomic_int stop, served, failed_handshakes;
    pthread_t thread;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    mbedtls_ssl_config config;
} tls_front;

/* The request's head and Content-Length body, over TLS; 0 or -1. */
static int tls_read_request(dala_buf *out, mbedtls_ssl_context *ssl)
{
    uint8_t chunk[16384];
    size_t head = 0;
    long body = 0;
    while (!head || out->len < head + (size_t)body) {
        int n = mbedtls_ssl_read(ssl, chunk, sizeof chunk);
        if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
        if (n <= 0 || dala_buf_append(out, chunk, (size_t)n)) return -1;
        if (head) continue;
        const char *end = memmem(out->data, out->len, "\r\n\r\n", 4);
        if (!end) continue;
        head = (size_t)(end - (const char *)out->data) + 4;
        const char *length = memmem(out->data, head, "Content-Length:", 15);
        body = length ? atol(length + 15) : 0;
    }
    return 0;
}

/* Forwards the request to the server (it closes after answering, as
 * the transport asks) and reads its whole answer; 0 or -1. */
static int forward(dala_buf *answer, int upstream_port, const dala_buf *request)
{
    int up = raw_connect(upstream_port), rc = -1;
    if (up >= 0 && raw_send_all(up, request->data, request->len) == 0) {
        uint8_t chunk[16384];
        struct pollfd p = {up, POLLIN, 0};
        for (;;) {
            if (poll(&p, 1, 10000) <= 0) break;
            ssize_t n = recv(up, chunk, sizeof chunk, 0);
            if (n == 0) rc = 0;
            if (n <= 0 || dala_buf_append(answer, chunk, (size_t)n)) break;
        }
    }
    if (up >= 0) close(up);
    return rc;
}

static void serve_one(tls_front *front, int conn)
{
    mbedtls_ssl_context ssl;
    mbedtls_net_context client = {conn};
    dala_buf request = DALA_BUF_INIT, answer = DALA_BUF_INIT;
    mbedtls_ssl_init(&ssl);
    int rc = mbedtls_ssl_setup(&ssl, &front->config);
    if (!rc) {
        mbedtls_ssl_set_bio(&ssl, &client, mbedtls_net_send, NULL, mbedtls_net_recv_timeout);
        while ((rc = mbedtls_ssl_handshake(&ssl)) == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {}
    }
    if (rc) {
        atomic_fetch_add(&front->failed_handshakes, 1); /* the client refused the certificate */
    } else if (tls_read_request(&request, &ssl) == 0 && forward(&answer, front->upstream_port, &request) == 0) {
        size_t done = 0;
        while (done < answer.len) {
            int n = mbedtls_ssl_write(&ssl, answer.data + done, answer.len - done);
            if (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE) continue;
            if (n <= 0) break;
            done += (size_t)n;
        }
        mbedtls_ssl_close_notify(&ssl);
        atomic_fetch_add(&front->served, 1);
    }
    mbedtls_ssl_free(&ssl);
    dala_buf_free(&request);
    dala_buf_free(&answer);
}

static void *front_run(void *context)
{
    tls_front *front = context;
    while (!front->stop) {
        struct pollfd p = {front->fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        int conn = accept(front->fd, NULL, NULL);
        if (conn < 0) continue;
        serve_one(front, conn);
        close(conn);
    }
    return NULL;
}

static void front_free(tls_front *front)
{
    mbedtls_ssl_config_free(&front->config);
    mbedtls_pk_free(&front->key);
    mbedtls_x509_crt_free(&front->cert);
    mbedtls_ctr_drbg_free(&front->drbg);
    mbedtls_entropy_free(&front->entropy);
}

/* Starts a front with `cert` and `key` before the server on
 * `upstream_port`. 0, or -1 after a failed check. */
static int front_start(tls_front *front, const char *cert, const char *key, int upstream_port)
{
    memset(front, 0, sizeof *front);
    front->upstream_port = upstream_port;
    mbedtls_entropy_init(&front->entropy);
    mbedtls_ctr_drbg_init(&front->drbg);
    mbedtls_x509_crt_init(&front->cert);
    mbedtls_pk_init(&front->key);
    mbedtls_ssl_config_init(&front->config);
    int rc = mbedtls_ctr_drbg_seed(&front->drbg, mbedtls_entropy_func, &front->entropy,
                                   (const unsigned char *)"dala-tls-front", 14);
    if (!rc) rc = mbedtls_x509_crt_parse_file(&front->cert, cert);
    if (!rc) rc = mbedtls_pk_parse_keyfile(&front->key, key, NULL);
    if (!rc) rc = mbedtls_ssl_config_defaults(&front->config, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                              MBEDTLS_SSL_PRESET_DEFAULT);
    if (!rc) {
        mbedtls_ssl_conf_rng(&front->config, mbedtls_ctr_drbg_random, &front->drbg);
        mbedtls_ssl_conf_read_timeout(&front->config, 5000);
        rc = mbedtls_ssl_conf_own_cert(&front->config, &front->cert, &front->key);
    }
    if (rc) {
        test_fail(__FILE__, __LINE__, "the TLS front's certificate or key: mbedTLS -0x%04x", (unsigned)-rc);
        front_free(front);
        return -1;
    }
    front->fd = raw_listen_loopback(&front->port, 8);
    if (front->fd < 0 || pthread_create(&front->thread, NULL, front_run, front) != 0) {
        test_fail(__FILE__, __LINE__, "start the TLS front: %s", strerror(errno));
        if (front->fd >= 0) close(front->fd);
        front_free(front);
        return -1;
    }
    return 0;
}

static void front_stop(tls_front *front)
{
    front->stop = 1;
    pthread_join(front->thread, NULL);
    close(front->fd);
    front_free(front);
}

/* --- through the SDK --------------------------------------------------------- */

/* Why the last enrol_at failed: dala_errmsg() as enrolment left it. */
static char enrol_error[600];

/* A store at DIR/NAME.db enrolled at `url` through `transport`, or NULL
 * with the code in *rc and why in enrol_error. */
static dala_store *enrol_at(int *rc, harness *h, const char *name, const char *url, const dala_transport *transport)
{
    enrol_error[0] = '\0';
    char code[32], path[600];
    dala_store *store = NULL;
    snprintf(path, sizeof path, "%s/%s.db", h->dir, name);
    *rc = harness_code(h, code, h->officer_a, h->unit_a) ? DALA_EIO : dala_store_open(&store, path);
    if (*rc) return NULL;
    dala_enroll_options options = DALA_ENROLL_OPTIONS_INIT;
    options.transport = transport;
    options.timeout_ms = E2E_TIMEOUT_MS;
    *rc = dala_store_enroll(store, url, code, &options);
    if (*rc) {
        snprintf(enrol_error, sizeof enrol_error, "%s", dala_errmsg());
        dala_store_close(store);
        return NULL;
    }
    return store;
}

static int sync_through(dala_store *store, const dala_transport *transport)
{
    dala_sync_options options = DALA_SYNC_OPTIONS_INIT;
    options.transport = transport;
    options.timeout_ms = E2E_TIMEOUT_MS;
    return dala_sync(NULL, store, &options);
}

/* The PKI in h's folder and a TLS front before h's server that shows the
 * certificate for 127.0.0.1 (`for_another_host`: the one for another
 * name); the front's https URL in `url` (64 bytes). 0, or -1 after a
 * failed check (then there is no front to stop). */
static int front_open(pki *files, tls_front *front, char *url, harness *h, int for_another_host)
{
    if (make_pki(files, h->dir)) return -1;
    if (front_start(front, for_another_host ? files->other_cert : files->cert,
                    for_another_host ? files->other_key : files->key, h->port))
        return -1;
    snprintf(url, 64, "https://127.0.0.1:%d", front->port);
    return 0;
}

/* A transport that trusts only the CA in `ca_file`; NULL after a failed
 * check. */
static dala_transport *transport_trusting(const char *ca_file)
{
    dala_http_options options = DALA_HTTP_OPTIONS_INIT;
    options.ca_file = ca_file;
    dala_transport *transport = NULL;
    CHECK_OK(dala_transport_http_new(&transport, &options));
    return transport;
}

static void test_transport_https_enrols_and_syncs_through_a_tls_front_with_the_right_ca(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    pki files;
    tls_front front;
    record_set captured = {0}, held = {0};
    records_gen gen;
    records_gen_init(&gen, 1600);
    dala_transport *transport = NULL;
    char url[64];
    if (front_open(&files, &front, url, &h, 0)) goto done;
    transport = transport_trusting(files.ca);
    int rc;
    dala_store *device = enrol_at(&rc, &h, "a1", url, transport);
    CHECK_OK(rc);
    if (device) {
        capture(&captured, device, &gen, 4);
        CHECK_OK(sync_through(device, transport));
        CHECK_EQ_U64(device_status(device).pending_changes, 0);
        CHECK_EQ_STR(device_status(device).server_url, url);
        dala_store_close(device);
    }
    front_stop(&front);
    CHECK(atomic_load(&front.served) >= 2); /* the enrolment and at least one round trip */
    CHECK_EQ_INT(atomic_load(&front.failed_handshakes), 0);
    central_records(&held, &h, h.unit_a, "field_visit");
    check_same_ids(&held, &captured, "the server after a sync over https");
done:
    dala_transport_http_free(transport);
    set_free(&captured);
    set_free(&held);
    harness_stop(&h);
}

/* A CA that did not sign the server's certificate, or the system's CAs
 * (which know nothing of the department's own CA): a certificate error
 * naming the CA file, nothing reaches the server, and the same code then
 * enrols with the right CA. */
static void test_transport_https_wrong_ca_is_refused_with_a_certificate_error(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    pki files;
    tls_front front;
    dala_transport *wrong = NULL;
    char url[64], want[800];
    if (front_open(&files, &front, url, &h, 0)) goto done;
    wrong = transport_trusting(files.wrong_ca);
    int rc;
    dala_store *device = enrol_at(&rc, &h, "a1", url, wrong);
    CHECK(device == NULL);
    CHECK_EQ_INT(rc, DALA_EIO);
    snprintf(want, sizeof want, "enroll: the certificate of 127.0.0.1:%d is refused (checked against CA file %s): ", front.port,
             files.wrong_ca);
    CHECK_CONTAINS(enrol_error, want);
    CHECK_CONTAINS(enrol_error, "certificate");
    printf("    said: %s\n", enrol_error);
    dala_store_close(device);

    device = enrol_at(&rc, &h, "a2", url, NULL); /* the built-in default: the system's CAs */
    CHECK(device == NULL);
    CHECK_EQ_INT(rc, DALA_EIO);
    CHECK_CONTAINS(enrol_error, "is refused (checked against the system's CAs): ");
    dala_store_close(device);
    CHECK_EQ_INT(atomic_load(&front.served), 0);
    CHECK_EQ_INT(atomic_load(&front.failed_handshakes), 2);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM device", 0, 0), 0);
    front_stop(&front);
done:
    dala_transport_http_free(wrong);
    harness_stop(&h);
}

/* A certificate the right CA signed, but for another host name. */
static void test_transport_https_certificate_for_another_host_is_refused(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    pki files;
    tls_front front;
    dala_transport *transport = NULL;
    char url[64];
    if (front_open(&files, &front, url, &h, 1)) goto done;
    transport = transport_trusting(files.ca);
    int rc;
    dala_store *device = enrol_at(&rc, &h, "a1", url, transport);
    CHECK(device == NULL);
    CHECK_EQ_INT(rc, DALA_EIO);
    CHECK_CONTAINS(enrol_error, "is refused (checked against CA file ");
    CHECK_CONTAINS(enrol_error, "'127.0.0.1'"); /* the host the certificate does not name */
    printf("    said: %s\n", enrol_error);
    dala_store_close(device);
    CHECK_EQ_INT(atomic_load(&front.served), 0);
    front_stop(&front);
done:
    dala_transport_http_free(transport);
    harness_stop(&h);
}

/* http:// is untouched by a CA file; a CA file that cannot be read is
 * said when the transport is made. */
static void test_transport_https_plain_http_still_works_and_a_missing_ca_file_is_said(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    pki files;
    dala_transport *transport = NULL;
    record_set captured = {0};
    records_gen gen;
    records_gen_init(&gen, 1700);
    if (make_pki(&files, h.dir)) goto done;
    dala_http_options options = DALA_HTTP_OPTIONS_INIT;
    options.ca_file = "/nonexistent/ca.pem";
    CHECK_EQ_INT(dala_transport_http_new(&transport, &options), DALA_EINVAL);
    CHECK_EQ_STR(dala_errmsg(), "CA file /nonexistent/ca.pem: No such file or directory");
    CHECK(transport == NULL);
    options.ca_file = files.ca;
    CHECK_OK(dala_transport_http_new(&transport, &options));
    int rc;
    dala_store *device = enrol_at(&rc, &h, "a1", h.url, transport);
    CHECK_OK(rc);
    if (device) {
        capture(&captured, device, &gen, 2);
        CHECK_OK(sync_through(device, transport));
        CHECK_OK(sync_through(device, NULL));
        CHECK_EQ_U64(device_status(device).pending_changes, 0);
        dala_store_close(device);
    }
done:
    dala_transport_http_free(transport);
    dala_transport_http_free(NULL);
    dala_transport_http_free((dala_transport *)dala_transport_builtin()); /* not freed: static */
    set_free(&captured);
    harness_stop(&h);
}

/* --- through the dala command ---------------------------------------------------- */

/* run_dala with `env` (NULL: none), killed after 30 s. */
static int run_dala_env(char **out, const char *dir, const char *env, const char *const *args)
{
    return run_dala(out, NULL, dir, env, NULL, args, 30000);
}

static void test_transport_https_dala_command_enrols_and_syncs_with_ca_file(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    pki files;
    tls_front front;
    char code[32], url[64], env[700], *out = NULL;
    if (front_open(&files, &front, url, &h, 0)) goto done;
    if (harness_code(&h, code, h.officer_a, h.unit_a)) goto stop;
    const char *missing[] = {"enroll", "--server", url, "--code", code, "--ca-file", "/nonexistent/ca.pem", NULL};
    CHECK_EQ_INT(run_dala_env(&out, h.dir, NULL, missing), 1);
    CHECK_CONTAINS(out, "dala: CA file /nonexistent/ca.pem: No such file or directory");
    free(out);
    const char *wrong[] = {"enroll", "--server", url, "--code", code, "--ca-file", files.wrong_ca, NULL};
    CHECK_EQ_INT(run_dala_env(&out, h.dir, NULL, wrong), 1);
    CHECK_CONTAINS(out, "is refused (checked against CA file ");
    free(out);
    const char *enroll[] = {"enroll", "--server", url, "--code", code, "--ca-file", files.ca, NULL};
    CHECK_EQ_INT(run_dala_env(&out, h.dir, NULL, enroll), 0);
    CHECK_CONTAINS(out, "enrolled as device");
    free(out);
    const char *capture_visit[] = {"capture", "--table", "field_visit", "--set", "visit_date=2026-11-24",
                                   "--set", "purpose=preventive_visit", "--set", "risk_level=low", NULL};
    CHECK_EQ_INT(run_dala_env(&out, h.dir, NULL, capture_visit), 0);
    free(out);
    const char *sync[] = {"sync", NULL};
    CHECK_EQ_INT(run_dala_env(&out, h.dir, NULL, sync), 1); /* the system's CAs do not know this one */
    CHECK_CONTAINS(out, "is refused (checked against the system's CAs)");
    free(out);
    snprintf(env, sizeof env, "DALA_CA_FILE=%s", files.ca);
    CHECK_EQ_INT(run_dala_env(&out, h.dir, env, sync), 0);
    CHECK_CONTAINS(out, "1 acknowledged, 0 refused");
    free(out);
    const char *sync_with_file[] = {"sync", "--ca-file", files.ca, NULL};
    CHECK_EQ_INT(run_dala_env(&out, h.dir, NULL, sync_with_file), 0);
    free(out);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE unit_id = ?1", h.unit_a, 0), 1);
stop:
    front_stop(&front);
done:
    harness_stop(&h);
}

/* The options are told: `dala enroll --help` and `dala sync --help` name
 * --ca-file and $DALA_CA_FILE, and exit 0, as do `dala --version` and
 * every other command's --help (issue 15: `dala sync --help` failed). */
static void test_transport_https_dala_help_names_the_ca_file_and_every_command_answers_help(void)
{
    const char *dir = test_tmpdir();
    char *out = NULL;
    const char *version[] = {"--version", NULL};
    CHECK_EQ_INT(run_dala_env(&out, dir, NULL, version), 0);
    CHECK(out && strncmp(out, "dala ", 5) == 0);
    free(out);
    static const char *const commands[] = {"enroll", "capture", "forms", "list", "show", "void", "sync", "status",
                                           "set-pin"};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        char want[64];
        const char *help[] = {commands[i], "--help", NULL};
        CHECK_EQ_INT(run_dala_env(&out, dir, NULL, help), 0);
        snprintf(want, sizeof want, "usage: dala %s", commands[i]);
        CHECK_CONTAINS(out, want);
        if (strcmp(commands[i], "enroll") == 0 || strcmp(commands[i], "sync") == 0) {
            CHECK_CONTAINS(out, "--ca-file FILE");
            CHECK_CONTAINS(out, "$DALA_CA_FILE");
        }
        free(out);
    }
}

const dala_test transport_https_tests[] = {
    {"transport_https_enrols_and_syncs_through_a_tls_front_with_the_right_ca",
     test_transport_https_enrols_and_syncs_through_a_tls_front_with_the_right_ca},
    {"transport_https_wrong_ca_is_refused_with_a_certificate_error",
     test_transport_https_wrong_ca_is_refused_with_a_certificate_error},
    {"transport_https_certificate_for_another_host_is_refused",
     test_transport_https_certificate_for_another_host_is_refused},
    {"transport_https_plain_http_still_works_and_a_missing_ca_file_is_said",
     test_transport_https_plain_http_still_works_and_a_missing_ca_file_is_said},
    {"transport_https_dala_command_enrols_and_syncs_with_ca_file",
     test_transport_https_dala_command_enrols_and_syncs_with_ca_file},
    {"transport_https_dala_help_names_the_ca_file_and_every_command_answers_help",
     test_transport_https_dala_help_names_the_ca_file_and_every_command_answers_help},
    {NULL, NULL},
};
