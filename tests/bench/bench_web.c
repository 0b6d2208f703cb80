/* bench_web.c - the supervisors' lists over HTTP at scale, for
 * bench_server: a unit head signs in, then pages through GET /v1/records
 * by its `next` cursor, filters and searches; each figure is the median
 * of `samples` requests. Requests go through CivetWeb's client on
 * 127.0.0.1, as a browser's would, and their answers are read whole. */
#include "bench/bench_web.h"

#include "bench/bench_common.h"
#include "dala_server.h"
#include "dala_sync.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One request; the answer's body into `body`, its status returned. */
static int request(dala_buf *body, int port, const char *method, const char *path, const char *cookie,
                   const char *json)
{
    char error[256] = "";
    struct mg_connection *conn = mg_connect_client("127.0.0.1", port, 0, error, sizeof error);
    if (!conn) fail("connect: %s", error);
    size_t len = json ? strlen(json) : 0;
    mg_printf(conn, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, path);
    if (cookie) mg_printf(conn, "Cookie: %s\r\n", cookie);
    if (json) mg_printf(conn, "Content-Type: application/json\r\nContent-Length: %zu\r\n", len);
    mg_printf(conn, "\r\n");
    if (json) mg_write(conn, json, len);
    if (mg_get_response(conn, error, sizeof error, 30000) < 0) fail("response: %s", error);
    const struct mg_response_info *info = mg_get_response_info(conn);
    int status = info->status_code;
    dala_buf_reset(body);
    char chunk[16384];
    int n;
    while ((n = mg_read(conn, chunk, sizeof chunk)) > 0) dala_buf_append(body, chunk, (size_t)n);
    dala_buf_append(body, "", 1);
    body->len--;
    for (int i = 0; i < info->num_headers; i++)
        if (strcasecmp(info->http_headers[i].name, "Set-Cookie") == 0 && cookie == NULL && json) {
            /* The sign-in's cookie is kept in the body's place for the caller. */
            const char *value = info->http_headers[i].value;
            dala_buf_reset(body);
            dala_buf_append(body, value, strcspn(value, ";"));
            dala_buf_append(body, "", 1);
            body->len--;
        }
    mg_close_connection(conn);
    return status;
}

/* The `next` cursor of a list answer, or "" on the last page. */
static void next_cursor(char *out, size_t size, const dala_buf *body)
{
    const char *at = strstr((const char *)body->data, "\"next\":\"");
    out[0] = '\0';
    if (!at) return;
    at += 8;
    size_t len = strcspn(at, "\"");
    if (len < size) {
        memcpy(out, at, len);
        out[len] = '\0';
    }
}

static size_t count_rows(const dala_buf *body)
{
    size_t n = 0;
    for (const char *p = (const char *)body->data; (p = strstr(p, "\"table\":")); p++) n++;
    return n;
}

/* The median ms of `samples` GETs of `path`. */
static double timed_get(int port, const char *cookie, const char *path, size_t samples, dala_buf *body)
{
    double *ms = must_alloc(samples, sizeof *ms);
    for (size_t i = 0; i < samples; i++) {
        double start = now_seconds();
        int status = request(body, port, "GET", path, cookie, NULL);
        ms[i] = (now_seconds() - start) * 1e3;
        if (status != 200) fail("%s: %s", path, (const char *)body->data);
    }
    double m = median(ms, samples);
    free(ms);
    return m;
}

void bench_web_lists(web_figures *out, int port, const char *db_path, int64_t unit_id, size_t samples)
{
    memset(out, 0, sizeof *out);
    dala_admin *admin;
    int64_t head;
    const char *password = "bench-password-2026";
    if (dala_admin_open(&admin, db_path) ||
        dala_admin_user_add(&head, admin, "bench.head", "Bench Head", "unit_head", unit_id) ||
        dala_admin_user_password(admin, head, password))
        fail("add a unit head: %s", dala_errmsg());
    dala_admin_close(admin);

    out->index_wait_s = bench_wait_for_index(&out->index_lag, db_path, 300);
    dala_buf body = DALA_BUF_INIT;
    char cookie[128], path[256], cursor[96];
    double start = now_seconds();
    int status = request(&body, port, "POST", "/v1/session", NULL,
                         "{\"login\":\"bench.head\",\"password\":\"bench-password-2026\"}");
    out->sign_in_ms = (now_seconds() - start) * 1e3;
    if (status != 200 || body.len >= sizeof cookie) fail("sign in: %s", (const char *)body.data);
    snprintf(cookie, sizeof cookie, "%s", (const char *)body.data);

    out->first_page_ms = timed_get(port, cookie, "/v1/records?limit=50", samples, &body);
    /* Walk 200 pages (10,000 records) down by the cursor, then time that page. */
    out->deep_pages = 200;
    snprintf(path, sizeof path, "/v1/records?limit=50");
    for (size_t page = 0; page < out->deep_pages; page++) {
        if (request(&body, port, "GET", path, cookie, NULL) != 200) fail("%s: %s", path, (const char *)body.data);
        out->records_seen += count_rows(&body);
        next_cursor(cursor, sizeof cursor, &body);
        if (!cursor[0]) fail("paging: the list ended before the deep page");
        snprintf(path, sizeof path, "/v1/records?limit=50&after=%s", cursor);
    }
    out->deep_page_ms = timed_get(port, cookie, path, samples, &body);
    out->filtered_ms = timed_get(port, cookie, "/v1/records?limit=50&risk=high&state=pending", samples, &body);
    out->found_ms = timed_get(port, cookie, "/v1/records?limit=50&q=%D0%96%D3%98%D0%91%D0%86%D0%A0%D0%9B%D0%95%D0%9D%D0%A3%D0%A8%D0%86", samples, &body);
    out->search_ms = timed_get(port, cookie, "/v1/records?limit=50&q=zzqqxx-absent", samples, &body);
    start = now_seconds();
    if (request(&body, port, "GET", "/v1/records.csv?table=field_visit", cookie, NULL) != 200)
        fail("export: %s", (const char *)body.data);
    out->export_s = now_seconds() - start;
    out->export_bytes = body.len;
    dala_buf_free(&body);
}
