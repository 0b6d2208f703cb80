/* web_client.c - see web_client.h. */
#include "web_client.h"

#include "dala_json.h"
#include "dala_sync.h"
#include "sync_int.h" /* dala_json_put_string */

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Every answer's bound: a hung server fails the test instead of hanging it. */
#define WEB_TIMEOUT_MS 20000

void web_answer_free(web_answer *answer)
{
    if (!answer) return;
    free(answer->headers);
    free(answer->body);
    *answer = (web_answer)WEB_ANSWER_INIT;
}

/* Appends the text of `buf` and a NUL; returns the malloc'd text (the
 * dala_buf's memory), or NULL when memory ran out. */
static char *buf_text(dala_buf *buf, size_t *len)
{
    size_t used = buf->len;
    if (dala_buf_append(buf, "", 1)) {
        dala_buf_free(buf);
        return NULL;
    }
    if (len) *len = used;
    return (char *)buf->data;
}

/* Keeps the answer's status, headers and body in `out`. */
static void read_answer(web_answer *out, struct mg_connection *conn)
{
    const struct mg_response_info *info = mg_get_response_info(conn);
    dala_buf headers = DALA_BUF_INIT, body = DALA_BUF_INIT;
    for (int i = 0; i < info->num_headers; i++) {
        const struct mg_header *h = &info->http_headers[i];
        dala_buf_append(&headers, h->name, strlen(h->name));
        dala_buf_append(&headers, ": ", 2);
        dala_buf_append(&headers, h->value, strlen(h->value));
        dala_buf_append(&headers, "\r\n", 2);
    }
    out->status = info->status_code;
    char chunk[16384];
    int n;
    while ((n = mg_read(conn, chunk, sizeof chunk)) > 0) dala_buf_append(&body, chunk, (size_t)n);
    out->headers = buf_text(&headers, NULL);
    out->body = buf_text(&body, &out->body_len);
}

int web_call(web_answer *out, int port, const char *method, const char *path, const web_login *login,
             const char *content_type, const void *body, size_t len)
{
    web_answer_free(out);
    out->status = -1;
    char error[256];
    struct mg_connection *conn = mg_connect_client("127.0.0.1", port, 0, error, sizeof error);
    if (!conn) return -1;
    int has_length = len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "DELETE") == 0;
    mg_printf(conn, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, path);
    if (login && login->cookie[0]) mg_printf(conn, "Cookie: %s\r\n", login->cookie);
    if (login && login->csrf[0]) mg_printf(conn, "X-CSRF-Token: %s\r\n", login->csrf);
    if (content_type) mg_printf(conn, "Content-Type: %s\r\n", content_type);
    if (has_length) mg_printf(conn, "Content-Length: %zu\r\n", len);
    mg_printf(conn, "\r\n");
    if (len) mg_write(conn, body, len);
    if (mg_get_response(conn, error, sizeof error, WEB_TIMEOUT_MS) >= 0) read_answer(out, conn);
    mg_close_connection(conn);
    return out->status;
}

int web_call_raw(web_answer *out, int port, const char *request, size_t len)
{
    web_answer_free(out);
    out->status = -1;
    char error[256];
    struct mg_connection *conn = mg_connect_client("127.0.0.1", port, 0, error, sizeof error);
    if (!conn) return -1;
    mg_write(conn, request, len);
    if (mg_get_response(conn, error, sizeof error, WEB_TIMEOUT_MS) >= 0) read_answer(out, conn);
    mg_close_connection(conn);
    return out->status;
}

int web_get(web_answer *out, int port, const char *path, const web_login *login)
{
    return web_call(out, port, "GET", path, login, NULL, NULL, 0);
}

int web_post(web_answer *out, int port, const char *path, const web_login *login, const char *json)
{
    return web_call(out, port, "POST", path, login, json ? "application/json" : NULL, json,
                    json ? strlen(json) : 0);
}

int web_delete(web_answer *out, int port, const char *path, const web_login *login)
{
    return web_call(out, port, "DELETE", path, login, NULL, NULL, 0);
}

int web_header(char *out, size_t size, const web_answer *answer, const char *name)
{
    size_t name_len = strlen(name);
    out[0] = '\0';
    for (const char *line = answer->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        if (!end) break;
        if ((size_t)(end - line) > name_len + 1 && strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            const char *value = line + name_len + 1;
            while (*value == ' ') value++;
            snprintf(out, size, "%.*s", (int)(end - value), value);
            return 1;
        }
        line = end + 2;
    }
    return 0;
}

/* The sign-in body {"login": ..., "password": ...}, escaped; malloc'd. */
static char *sign_in_body(const char *login, const char *password)
{
    dala_buf body = DALA_BUF_INIT;
    int rc = dala_buf_append(&body, "{\"login\":", 9);
    if (!rc) rc = dala_json_put_string(&body, login, strlen(login));
    if (!rc) rc = dala_buf_append(&body, ",\"password\":", 12);
    if (!rc) rc = dala_json_put_string(&body, password, strlen(password));
    if (!rc) rc = dala_buf_append(&body, "}", 1);
    if (rc) {
        dala_buf_free(&body);
        return NULL;
    }
    return buf_text(&body, NULL);
}

int web_sign_in(web_login *out, int port, const char *login, const char *password)
{
    memset(out, 0, sizeof *out);
    char *body = sign_in_body(login, password);
    if (!body) return -1;
    web_answer answer = WEB_ANSWER_INIT;
    int status = web_post(&answer, port, "/v1/session", NULL, body);
    free(body);
    char cookie[256];
    dala_json *json = NULL;
    if (status == 200 && web_header(cookie, sizeof cookie, &answer, "Set-Cookie") &&
        dala_json_parse(&json, answer.body, answer.body_len, 0) == DALA_OK) {
        const char *csrf = dala_json_get_string(json, "csrf");
        size_t cookie_len = strcspn(cookie, ";");
        if (csrf && cookie_len < sizeof out->cookie && strlen(csrf) < sizeof out->csrf) {
            snprintf(out->cookie, sizeof out->cookie, "%.*s", (int)cookie_len, cookie);
            snprintf(out->csrf, sizeof out->csrf, "%s", csrf);
        }
    }
    dala_json_free(json);
    web_answer_free(&answer);
    return status;
}
