/* test_metrics.c - seeing inside a running dala-server: GET /metrics moves
 * after a sync with a refused change, parses as the Prometheus text
 * format 0.0.4, holds no ids, and answers 404 to an address not in
 * metrics_allow; GET /v1/ready checks the database and the disk while
 * GET /v1/health stays as old callers know it. */
#include "raw_client.h"
#include "server_harness.h"
#include "testhelp.h"
#include "web_client.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether `line` is "# HELP name text", "# TYPE name type" or
 * "name{label="value",...} number". */
static int exposition_line_is_valid(const char *line)
{
    if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0) {
        const char *name = line + 7;
        size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
        if (n == 0 || name[n] != ' ') return 0;
        if (line[2] == 'T') {
            const char *type = name + n + 1;
            return strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 || strcmp(type, "histogram") == 0;
        }
        return name[n + 1] != '\0';
    }
    const char *p = line;
    if (!(isalpha((unsigned char)*p) || *p == '_' || *p == ':')) return 0;
    while (isalnum((unsigned char)*p) || *p == '_' || *p == ':') p++;
    if (*p == '{') {
        p++;
        while (*p != '}') {
            size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
            if (n == 0 || p[n] != '=' || p[n + 1] != '"') return 0;
            p += n + 2;
            while (*p && *p != '"') p += *p == '\\' && p[1] ? 2 : 1;
            if (*p != '"') return 0;
            p++;
            if (*p == ',') p++;
            else if (*p != '}') return 0;
        }
        p++;
    }
    if (*p != ' ') return 0;
    p++;
    char *end;
    if (strcmp(p, "+Inf") == 0 || strcmp(p, "-Inf") == 0 || strcmp(p, "NaN") == 0) return 1;
    strtod(p, &end);
    return end != p && *end == '\0';
}

/* Checks every line of `text`; returns how many there were. */
static int check_exposition(char *text)
{
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        lines++;
        if (!exposition_line_is_valid(line)) test_fail(__FILE__, __LINE__, "not an exposition line: %s", line);
    }
    return lines;
}

/* The value of the sample `name` (with its labels, exactly) in `text`;
 * -1 when there is none. */
static double sample(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; (p = strstr(p, name)) != NULL; p += n)
        if ((p == text || p[-1] == '\n') && p[n] == ' ') return strtod(p + n + 1, NULL);
    return -1;
}

static void test_metrics_move_after_a_sync_and_parse(void)
{
    harness h;
    raw_device dev;
    char code[32];
    if (harness_start(&h, 0) || harness_code(&h, code, h.officer_a, h.unit_a)) return;
    CHECK_EQ_INT(raw_enroll(&dev, h.port, code), 0);
    uint64_t now = DALA_HLC_MAKE(dala_wall_clock_ms(), 0);
    dala_field good[3], bad[3];
    dala_change changes[2] = {raw_visit_change(good, 4, now, dev.id, "preventive_visit"),
                              raw_visit_change(bad, 5, now + 1, dev.id, NULL)};
    dala_buf body = DALA_BUF_INIT;
    dala_sync_response response;
    CHECK_EQ_INT(raw_push(h.port, &dev, 1, changes, 2, &body, &response), 200);
    CHECK_EQ_INT(response.rejected_count, 1);
    dala_sync_response_clear(&response);
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/records/0b8c54b1-3f0e-4a8e-9e0b-1d2f3a4b5c6d", NULL), 401);
    /* A request is counted as its log line is written, just after its
     * answer left: the client may ask before that. */
    for (int i = 0; i < 200; i++) {
        CHECK_EQ_INT(web_get(&a, h.port, "/metrics", NULL), 200);
        if (a.body && strstr(a.body, "route=\"/v1/records/{id}\"") && strstr(a.body, "route=\"/v1/sync\""))
            break;
        usleep(10000);
    }
    char type[96];
    CHECK(web_header(type, sizeof type, &a, "Content-Type") && strstr(type, "version=0.0.4") != NULL);
    const char *text = a.body;
    CHECK_EQ_INT((int)sample(text, "dala_sync_changes_applied_total"), 1);
    CHECK_EQ_INT((int)sample(text, "dala_sync_changes_refused_total"), 1);
    CHECK_EQ_INT((int)sample(text, "dala_sync_duration_seconds_count"), 1);
    CHECK_EQ_INT((int)sample(text, "dala_sync_duration_seconds_bucket{le=\"+Inf\"}"), 1);
    CHECK_EQ_INT((int)sample(text, "dala_http_requests_total{route=\"/v1/sync\",status=\"200\"}"), 1);
    CHECK_EQ_INT((int)sample(text, "dala_http_requests_total{route=\"/v1/enroll\",status=\"200\"}"), 1);
    /* A record's route is counted by its template, never its id. */
    CHECK_EQ_INT((int)sample(text, "dala_http_requests_total{route=\"/v1/records/{id}\",status=\"401\"}"), 1);
    CHECK(strstr(text, "0b8c54b1") == NULL);
    CHECK(sample(text, "dala_database_size_bytes") > 0);
    CHECK(sample(text, "dala_wal_size_bytes") >= 0);
    CHECK(sample(text, "dala_checkpoint_age_seconds") >= 0);
    CHECK_EQ_INT((int)sample(text, "dala_web_sessions_open"), 0);
    CHECK_EQ_INT((int)sample(text, "dala_throttled_requests_total{throttle=\"enrol_address\"}"), 0);
    /* A later look counts the earlier ones. */
    CHECK_EQ_INT(web_get(&a, h.port, "/metrics", NULL), 200);
    CHECK(sample(a.body, "dala_http_requests_total{route=\"/metrics\",status=\"200\"}") >= 1);
    char *copy = strdup(a.body);
    CHECK(check_exposition(copy) > 20);
    free(copy);
    web_answer_free(&a);
    dala_buf_free(&body);
    harness_stop(&h);
}

/* Eleven wrong enrolment codes: the throttle's refusal is counted. */
static void test_metrics_count_throttled_requests(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    static const char body[] = "code=AAAA-BBBB-CCCC&public_key="
                               "0900000000000000000000000000000000000000000000000000000000000000";
    dala_buf answer = DALA_BUF_INIT;
    int status = 0;
    for (int i = 0; i < 12; i++)
        harness_post(&h, "/v1/enroll", "application/x-www-form-urlencoded", body, strlen(body), &status, &answer);
    CHECK_EQ_INT(status, 429);
    web_answer a = WEB_ANSWER_INIT;
    /* The last request is counted just after its answer left. */
    for (int i = 0; i < 200; i++) {
        CHECK_EQ_INT(web_get(&a, h.port, "/metrics", NULL), 200);
        if (sample(a.body, "dala_http_requests_total{route=\"/v1/enroll\",status=\"429\"}") == 2) break;
        usleep(10000);
    }
    CHECK_EQ_INT((int)sample(a.body, "dala_throttled_requests_total{throttle=\"enrol_address\"}"), 2);
    CHECK_EQ_INT((int)sample(a.body, "dala_http_requests_total{route=\"/v1/enroll\",status=\"429\"}"), 2);
    web_answer_free(&a);
    dala_buf_free(&answer);
    harness_stop(&h);
}

static void test_metrics_are_not_found_for_other_addresses(void)
{
    harness h;
    dala_server_options options;
    char listen[32];
    if (harness_start_for_options(&h, &options, listen)) return;
    options.metrics_allow = "10.20.30.40, 2001:db8::/32";
    CHECK_OK(harness_start_with(&h, &options));
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, h.port, "/metrics", NULL), 404);
    CHECK(a.body && strstr(a.body, "dala_") == NULL);
    harness_stop(&h);
    /* A bad list stops the start, saying which entry. */
    options.metrics_allow = "10.20.30.40,localhost";
    CHECK_EQ_INT(harness_start_with(&h, &options), DALA_EINVAL);
    CHECK(strstr(dala_errmsg(), "localhost") != NULL);
    options.metrics_allow = "127.0.0.0/8";
    CHECK_OK(harness_start_with(&h, &options));
    CHECK_EQ_INT(web_get(&a, h.port, "/metrics", NULL), 200);
    web_answer_free(&a);
    harness_stop(&h);
}

static void test_metrics_ready_checks_database_and_disk(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    web_answer a = WEB_ANSWER_INIT;
    /* /v1/health as it always was. */
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/health", NULL), 200);
    CHECK(a.body && strstr(a.body, "\"status\":\"ok\"") && strstr(a.body, "\"schema_version\":"));
    /* The harness's disk has 256 MiB free (the default threshold). */
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/ready", NULL), 200);
    CHECK(a.body && strstr(a.body, "\"status\":\"ready\""));
    CHECK_EQ_INT(web_post(&a, h.port, "/v1/ready", NULL, NULL), 405);
    /* A threshold no disk meets: 503, saying why. */
    dala_server_options options;
    char listen[32];
    harness_stop(&h);
    harness_options(&options, listen, &h);
    options.ready_min_free_mb = (int64_t)1 << 40;
    CHECK_OK(harness_start_with(&h, &options));
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/ready", NULL), 503);
    CHECK(a.body && strstr(a.body, "\"status\":\"not_ready\"") && strstr(a.body, "ready_min_free_mb"));
    char retry[16];
    CHECK(web_header(retry, sizeof retry, &a, "Retry-After"));
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/health", NULL), 200); /* alive all the same */
    web_answer_free(&a);
    harness_stop(&h);
}

const dala_test metrics_tests[] = {
    {"metrics_move_after_a_sync_and_parse", test_metrics_move_after_a_sync_and_parse},
    {"metrics_count_throttled_requests", test_metrics_count_throttled_requests},
    {"metrics_are_not_found_for_other_addresses", test_metrics_are_not_found_for_other_addresses},
    {"metrics_ready_checks_database_and_disk", test_metrics_ready_checks_database_and_disk},
    {NULL, NULL},
};
