/* test_proxy.c - dala-server behind a TLS front (trusted_proxies): only a
 * configured proxy's X-Forwarded-For and X-Forwarded-Proto are believed.
 * Then the sign-in and enrolment throttles key on the real client (the
 * right-most forwarded address that is not a proxy) and the session
 * cookie is Secure for https; sent straight to the server, the same
 * headers change nothing. Also the address lists themselves (CIDR, IPv6). */
#include "client_addr.h"
#include "server_cli.h"
#include "server_harness.h"
#include "testhelp.h"
#include "web_client.h"

#include <stdio.h>
#include <string.h>

#define PASSWORD "proxy-test-password"

/* Gives a.nurlanova a password, so a right one can be tried too. */
static int set_password(harness *h)
{
    dala_admin *admin;
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_user_password(admin, h->officer_a, PASSWORD);
    dala_admin_close(admin);
    CHECK_OK(rc);
    return rc;
}

/* POST /v1/session for `login` with `password`, with the extra header
 * lines `headers` ("" for none). Returns the status; the answer in `out`. */
static int sign_in_via(web_answer *out, const harness *h, const char *headers, const char *login,
                       const char *password)
{
    char body[256], request[1024];
    int body_len = snprintf(body, sizeof body, "{\"login\":\"%s\",\"password\":\"%s\"}", login, password);
    int len = snprintf(request, sizeof request,
                       "POST /v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       "Content-Length: %d\r\n%sConnection: close\r\n\r\n%s",
                       body_len, headers, body);
    return web_call_raw(out, h->port, request, (size_t)len);
}

/* Fails `count` sign-ins with unknown logins (so no per-login limit is
 * met) through `headers`; returns how many were answered 429. */
static int fail_sign_ins(const harness *h, const char *headers, int count)
{
    web_answer a = WEB_ANSWER_INIT;
    int throttled = 0;
    for (int i = 0; i < count; i++) {
        char login[32];
        snprintf(login, sizeof login, "nobody%d", i);
        int status = sign_in_via(&a, h, headers, login, "wrong password");
        if (status == 429) throttled++;
        else CHECK_EQ_INT(status, 401);
    }
    web_answer_free(&a);
    return throttled;
}

static void start_with_proxies(harness *h, const char *trusted)
{
    dala_server_options options;
    char listen[32];
    harness_stop(h);
    harness_options(&options, listen, h);
    options.trusted_proxies = trusted;
    CHECK_OK(harness_start_with(h, &options));
}

static void test_proxy_address_lists_match_addresses_and_ranges(void)
{
    addr_list list;
    CHECK_OK(addr_list_parse(&list, "127.0.0.1, 10.0.0.0/8,2001:db8::/32 ::1", "test"));
    CHECK_EQ_INT((int)list.count, 4);
    CHECK(addr_list_contains(&list, "127.0.0.1"));
    CHECK(!addr_list_contains(&list, "127.0.0.2"));
    CHECK(addr_list_contains(&list, "10.200.3.4"));
    CHECK(addr_list_contains(&list, "::ffff:10.1.2.3")); /* IPv4-mapped, as a dual-stack socket gives it */
    CHECK(!addr_list_contains(&list, "11.0.0.1"));
    CHECK(addr_list_contains(&list, "2001:db8:1::5"));
    CHECK(!addr_list_contains(&list, "2001:db9::1"));
    CHECK(addr_list_contains(&list, "::1"));
    CHECK(!addr_list_contains(&list, "not an address"));
    CHECK_OK(addr_list_parse(&list, NULL, "test"));
    CHECK_EQ_INT((int)list.count, 0);
    CHECK_EQ_INT(addr_list_parse(&list, "10.0.0.1/33", "test"), DALA_EINVAL);
    CHECK_EQ_INT(addr_list_parse(&list, "proxy.example", "test"), DALA_EINVAL);
    CHECK_EQ_INT(addr_list_parse(&list, "10.0.0.1/", "test"), DALA_EINVAL);
}

/* The config keys and their flags, the flags after --config winning. */
static void test_proxy_config_keys_and_flags_fill_the_options(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/dala-server.conf", test_tmpdir());
    FILE *file = fopen(path, "w");
    if (file) {
        fputs("trusted_proxies = 127.0.0.1, 10.1.0.0/16\nmetrics_allow = 10.9.0.5\nready_min_free_mb = 1024\n", file);
        fclose(file);
    }
    dala_server_options options = DALA_SERVER_OPTIONS_INIT;
    const char *port_file = NULL;
    CHECK_EQ_INT((int)options.ready_min_free_mb, 256);
    CHECK(options.trusted_proxies == NULL && options.metrics_allow == NULL);
    char *argv[] = {"serve", "--config", path, "--metrics-allow", "::1", "--request-timeout-ms", "12000", NULL};
    CHECK_EQ_INT(server_cli_parse_serve(&options, &port_file, 7, argv), 0);
    CHECK_EQ_STR(options.trusted_proxies, "127.0.0.1, 10.1.0.0/16");
    CHECK_EQ_STR(options.metrics_allow, "::1");
    CHECK_EQ_INT((int)options.ready_min_free_mb, 1024);
    CHECK_EQ_INT(options.request_timeout_ms, 12000);
    char *argv2[] = {"serve", "--trusted-proxies", "10.0.0.1", "--ready-min-free-mb", "0", NULL};
    CHECK_EQ_INT(server_cli_parse_serve(&options, &port_file, 5, argv2), 0);
    CHECK_EQ_STR(options.trusted_proxies, "10.0.0.1");
    CHECK_EQ_INT((int)options.ready_min_free_mb, 0);
    char *argv3[] = {"serve", "--ready-min-free-mb", "lots", NULL};
    CHECK(server_cli_parse_serve(&options, &port_file, 3, argv3) != 0);
}

static void test_proxy_bad_trusted_proxies_stop_the_start(void)
{
    harness h;
    dala_server_options options;
    char listen[32];
    if (harness_start_for_options(&h, &options, listen)) return;
    options.trusted_proxies = "127.0.0.1,front.example";
    CHECK_EQ_INT(harness_start_with(&h, &options), DALA_EINVAL);
    CHECK(strstr(dala_errmsg(), "front.example") != NULL);
    options.trusted_proxies = "127.0.0.1";
    CHECK_OK(harness_start_with(&h, &options));
    harness_stop(&h);
}

/* Sent straight to the server (no trusted proxy), X-Forwarded-For is
 * ignored: every attempt counts against 127.0.0.1, whatever it claims. */
static void test_proxy_forged_forwarded_for_is_not_believed(void)
{
    harness h;
    if (harness_start(&h, 0) || set_password(&h)) return;
    web_answer a = WEB_ANSWER_INIT;
    int throttled = 0;
    for (int i = 0; i < 25; i++) {
        char headers[96], login[32];
        snprintf(headers, sizeof headers, "X-Forwarded-For: 10.0.%d.%d\r\n", i / 200, 1 + i % 200);
        snprintf(login, sizeof login, "nobody%d", i);
        if (sign_in_via(&a, &h, headers, login, "wrong password") == 429) throttled++;
    }
    CHECK_EQ_INT(throttled, 5); /* 20 per address, then refused */
    /* Another forged address is the same 127.0.0.1: still refused. */
    CHECK_EQ_INT(sign_in_via(&a, &h, "X-Forwarded-For: 10.99.0.1\r\n", "a.nurlanova", PASSWORD), 429);
    web_answer_free(&a);
    harness_stop(&h);
}

/* From a trusted proxy, the client it names is throttled, not the proxy:
 * 25 failures from 10.0.0.1 block 10.0.0.1 only. */
static void test_proxy_trusted_forwarded_for_keys_the_throttle(void)
{
    harness h;
    if (harness_start(&h, 0) || set_password(&h)) return;
    start_with_proxies(&h, "127.0.0.1");
    CHECK_EQ_INT(fail_sign_ins(&h, "X-Forwarded-For: 10.0.0.1\r\n", 25), 5);
    web_answer a = WEB_ANSWER_INIT;
    /* The right-most address not a proxy is the client: a client that
     * puts another address in front of its own is still 10.0.0.1. */
    CHECK_EQ_INT(sign_in_via(&a, &h, "X-Forwarded-For: 10.0.0.2, 10.0.0.1\r\n", "nobody", "x"), 429);
    CHECK_EQ_INT(sign_in_via(&a, &h, "X-Forwarded-For: 10.0.0.1, 127.0.0.1\r\n", "nobody", "x"), 429);
    /* Another client through the same proxy is not blocked. */
    CHECK_EQ_INT(sign_in_via(&a, &h, "X-Forwarded-For: 10.0.0.2\r\n", "nobody", "x"), 401);
    CHECK_EQ_INT(sign_in_via(&a, &h, "X-Forwarded-For: 10.0.0.2\r\n", "a.nurlanova", PASSWORD), 200);
    /* Nor is the proxy's own address, for what it sends as itself. */
    CHECK_EQ_INT(sign_in_via(&a, &h, "", "a.nurlanova", PASSWORD), 200);
    web_answer_free(&a);
    harness_stop(&h);
}

/* The enrolment throttle (ten failed codes) keys on the same client. */
static void test_proxy_enrolment_throttle_keys_on_the_client(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    start_with_proxies(&h, "127.0.0.0/8");
    web_answer a = WEB_ANSWER_INIT;
    static const char body[] = "code=AAAA-BBBB-CCCC&public_key="
                               "0900000000000000000000000000000000000000000000000000000000000000";
    char request[512];
    int statuses[12] = {0};
    for (int i = 0; i < 12; i++) {
        int len = snprintf(request, sizeof request,
                           "POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                           "Content-Length: %zu\r\nX-Forwarded-For: %s\r\nConnection: close\r\n\r\n%s",
                           strlen(body), i < 11 ? "10.0.0.1" : "10.0.0.2", body);
        statuses[i] = web_call_raw(&a, h.port, request, (size_t)len);
    }
    CHECK_EQ_INT(statuses[0], 403);
    CHECK_EQ_INT(statuses[9], 403);
    CHECK_EQ_INT(statuses[10], 429); /* the eleventh from 10.0.0.1 */
    CHECK_EQ_INT(statuses[11], 403); /* 10.0.0.2 may still try */
    web_answer_free(&a);
    harness_stop(&h);
}

/* Whether the answer's Set-Cookie carries the Secure attribute. */
static int cookie_is_secure(const web_answer *a)
{
    char cookie[256];
    return web_header(cookie, sizeof cookie, a, "Set-Cookie") && strstr(cookie, "Secure") != NULL;
}

static void test_proxy_cookie_is_secure_only_with_trusted_https(void)
{
    harness h;
    if (harness_start(&h, 0) || set_password(&h)) return;
    web_answer a = WEB_ANSWER_INIT;
    /* Straight to the server: a forged X-Forwarded-Proto changes nothing. */
    CHECK_EQ_INT(sign_in_via(&a, &h, "X-Forwarded-Proto: https\r\n", "a.nurlanova", PASSWORD), 200);
    CHECK(!cookie_is_secure(&a));
    start_with_proxies(&h, "127.0.0.1");
    CHECK_EQ_INT(sign_in_via(&a, &h, "X-Forwarded-For: 10.0.0.7\r\nX-Forwarded-Proto: https\r\n", "a.nurlanova",
                             PASSWORD), 200);
    CHECK(cookie_is_secure(&a));
    CHECK_EQ_INT(sign_in_via(&a, &h, "X-Forwarded-Proto: HTTPS\r\n", "a.nurlanova", PASSWORD), 200);
    CHECK(cookie_is_secure(&a));
    /* The trusted front says plain http, or says nothing: not Secure. */
    CHECK_EQ_INT(sign_in_via(&a, &h, "X-Forwarded-Proto: http\r\n", "a.nurlanova", PASSWORD), 200);
    CHECK(!cookie_is_secure(&a));
    CHECK_EQ_INT(sign_in_via(&a, &h, "", "a.nurlanova", PASSWORD), 200);
    CHECK(!cookie_is_secure(&a));
    /* Trusted, but not this peer: ignored again. */
    start_with_proxies(&h, "10.1.1.1");
    CHECK_EQ_INT(sign_in_via(&a, &h, "X-Forwarded-Proto: https\r\n", "a.nurlanova", PASSWORD), 200);
    CHECK(!cookie_is_secure(&a));
    web_answer_free(&a);
    harness_stop(&h);
}

const dala_test proxy_tests[] = {
    {"proxy_address_lists_match_addresses_and_ranges", test_proxy_address_lists_match_addresses_and_ranges},
    {"proxy_config_keys_and_flags_fill_the_options", test_proxy_config_keys_and_flags_fill_the_options},
    {"proxy_bad_trusted_proxies_stop_the_start", test_proxy_bad_trusted_proxies_stop_the_start},
    {"proxy_forged_forwarded_for_is_not_believed", test_proxy_forged_forwarded_for_is_not_believed},
    {"proxy_trusted_forwarded_for_keys_the_throttle", test_proxy_trusted_forwarded_for_keys_the_throttle},
    {"proxy_enrolment_throttle_keys_on_the_client", test_proxy_enrolment_throttle_keys_on_the_client},
    {"proxy_cookie_is_secure_only_with_trusted_https", test_proxy_cookie_is_secure_only_with_trusted_https},
    {NULL, NULL},
};
