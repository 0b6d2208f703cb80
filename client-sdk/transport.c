/* transport.c - the built-in transport: one HTTP/1.1 POST per call over
 * CivetWeb's client API (mg_connect_client, mg_write, mg_get_response,
 * mg_read), plain http:// only. Sync frames are sealed end to end, so
 * they need no TLS; Debian's CivetWeb 1.15 crashes with TLS under OpenSSL
 * 3 anyway (DESIGN.md). An app that wants TLS for enrolment, a proxy or
 * the platform's HTTP stack passes its own dala_transport.
 *
 * Every answer is read into memory with a cap, whatever Content-Length
 * says (or when it says nothing, or the body is chunked). Failures say
 * which host:port and why ("cannot reach 127.0.0.1:9: connection
 * refused"), never what was sent. A connection the server (or a proxy)
 * closed or reset before answering is reported as that, with the time it
 * lasted ("the connection was reset by 127.0.0.1:8080 after 3 ms"), and
 * only a wait that ran its whole timeout_ms as "no answer within": CivetWeb
 * answers both with the same failure, so the wait's length and the
 * socket's error tell them apart.
 *
 * Known limit: timeout_ms bounds the wait for the answer's status line
 * and headers (mg_get_response). CivetWeb 1.15 has no timeout for a
 * client's body reads (its client context has no request_timeout_ms and
 * no API sets one), so a server that stalls in the middle of a body holds
 * the call until the connection closes. */
#include "sdk_int.h"

#include <civetweb.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct http_url {
    char host[256];
    int port;
    const char *path; /* borrowed from the URL; "/" if empty */
} http_url;

static pthread_once_t civetweb_once = PTHREAD_ONCE_INIT;

static void civetweb_init(void)
{
    mg_init_library(0);
}

int dala_transport_error(int code, const char *detail)
{
    return dala_error_set(code, "%s", detail ? detail : dala_strerror(code));
}

/* Splits "http://host[:port][/path]" (host may be "[v6]"). */
static int parse_url(http_url *out, const char *url)
{
    if (strncasecmp(url, "https://", 8) == 0)
        return dala_error_set(DALA_EINVAL, "%s: https is not supported by the built-in transport "
                                           "(sync frames are sealed end to end: use http://, or "
                                           "pass a transport)", url);
    if (strncasecmp(url, "http://", 7) != 0)
        return dala_error_set(DALA_EINVAL, "%s: not an http:// URL", url);
    const char *host = url + 7, *end;
    if (*host == '[') {
        end = strchr(host, ']');
        if (!end) return dala_error_set(DALA_EINVAL, "%s: unterminated [ in host", url);
        host++;
    } else {
        end = host + strcspn(host, ":/?#");
    }
    size_t host_len = (size_t)(end - host);
    if (host_len == 0 || host_len >= sizeof out->host)
        return dala_error_set(DALA_EINVAL, "%s: no host, or a host too long", url);
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    if (*end == ']') end++;
    out->port = 80;
    if (*end == ':') {
        char *after;
        long port = strtol(end + 1, &after, 10);
        if (after == end + 1 || port < 1 || port > 65535 || (*after && *after != '/'))
            return dala_error_set(DALA_EINVAL, "%s: bad port", url);
        out->port = (int)port;
        end = after;
    }
    if (*end && *end != '/') return dala_error_set(DALA_EINVAL, "%s: bad URL after the host", url);
    out->path = *end ? end : "/";
    return DALA_OK;
}

/* CivetWeb's "connect(h:p): error Connection refused" becomes
 * "connection refused"; other texts pass lowercased at the start. */
static const char *connect_reason(char *ebuf)
{
    const char *reason = ebuf;
    const char *marker = strstr(ebuf, "error ");
    if (strncmp(ebuf, "connect(", 8) == 0 && marker) reason = marker + 6;
    else if (strncmp(ebuf, "connect(", 8) == 0 && strstr(ebuf, "): ")) reason = strstr(ebuf, "): ") + 3;
    if (!*reason) return "unknown failure";
    ebuf[reason - ebuf] = (char)tolower((unsigned char)*reason);
    return reason;
}

static uint64_t monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* A connection that ended before the answer's status line and headers:
 * `error` is the socket's errno (ECONNRESET or EPIPE: reset), `waited_ms`
 * how long the wait for the answer ran (a wait of the whole `timeout_ms`
 * is a timeout; -1: none), `lasted_ms` the time since the connection was
 * made, `detail` CivetWeb's words or "". DALA_EIO. */
static int connection_lost(const http_url *url, int error, uint64_t waited_ms, int timeout_ms,
                           uint64_t lasted_ms, const char *when, const char *detail)
{
    if (strcmp(detail, "No data received") == 0) detail = ""; /* CivetWeb's words for "nothing came" */
    const char *sep = detail[0] ? ": " : "";
    int is_reset = error == ECONNRESET || error == EPIPE;
    if (!is_reset && timeout_ms >= 0 && waited_ms * 10 >= (uint64_t)timeout_ms * 9)
        return dala_error_set(DALA_EIO, "no answer from %s:%d within %d ms%s%s", url->host, url->port,
                              timeout_ms, sep, detail);
    return dala_error_set(DALA_EIO, "the connection was %s by %s:%d after %llu ms, %s%s%s",
                          is_reset ? "reset" : "closed", url->host, url->port, (unsigned long long)lasted_ms,
                          when, sep, detail);
}

static int write_all(struct mg_connection *conn, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        int n = mg_write(conn, p, len);
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads the body after the status line and headers, into at most `max`. */
static int read_body(dala_buf *body, struct mg_connection *conn, const http_url *url, size_t max)
{
    const struct mg_response_info *info = mg_get_response_info(conn);
    if (info && info->content_length > 0 && (unsigned long long)info->content_length > max)
        return dala_error_set(DALA_ELIMIT, "answer from %s:%d is %lld bytes, more than %zu",
                              url->host, url->port, info->content_length, max);
    body->cap_bytes = max + 1;
    char chunk[16384];
    for (;;) {
        int n = mg_read(conn, chunk, sizeof chunk);
        if (n == 0) break;
        if (n < 0)
            return dala_error_set(DALA_EIO, "answer from %s:%d broke off after %zu bytes",
                                  url->host, url->port, body->len);
        if (body->len + (size_t)n > max)
            return dala_error_set(DALA_ELIMIT, "answer from %s:%d is more than %zu bytes",
                                  url->host, url->port, max);
        int rc = dala_buf_append(body, chunk, (size_t)n);
        if (rc) return rc;
    }
    if (info && info->content_length >= 0 && body->len != (size_t)info->content_length)
        return dala_error_set(DALA_EIO, "answer from %s:%d broke off after %zu of %lld bytes",
                              url->host, url->port, body->len, info->content_length);
    return DALA_OK;
}

static int builtin_post(void *context, const char *url_text, const char *content_type,
                        const void *body, size_t body_len, int *status_out, void **response_out,
                        size_t *response_len_out, size_t max_response_bytes, int timeout_ms)
{
    (void)context;
    http_url url;
    char ebuf[256] = "", head[2048];
    int rc = parse_url(&url, url_text);
    if (rc) return rc;
    pthread_once(&civetweb_once, civetweb_init);
    struct mg_connection *conn = mg_connect_client(url.host, url.port, 0, ebuf, sizeof ebuf);
    if (!conn)
        return dala_error_set(DALA_EIO, "cannot reach %s:%d: %s", url.host, url.port,
                              connect_reason(ebuf));
    int head_len = snprintf(head, sizeof head,
                            "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\n"
                            "Content-Length: %zu\r\nConnection: close\r\n"
                            "User-Agent: libdala/1\r\n\r\n",
                            url.path, url.host, url.port, content_type, body_len);
    dala_buf answer = DALA_BUF_INIT;
    uint64_t connected_ms = monotonic_ms();
    if (head_len < 0 || (size_t)head_len >= sizeof head) {
        rc = dala_error_set(DALA_EINVAL, "POST %s:%d: request line too long", url.host, url.port);
    } else {
        errno = 0;
        if (write_all(conn, head, (size_t)head_len) || write_all(conn, body, body_len)) {
            rc = connection_lost(&url, errno, 0, -1, monotonic_ms() - connected_ms, "while the request was sent",
                                 "");
        } else {
            uint64_t wait_from_ms = monotonic_ms();
            errno = 0;
            if (mg_get_response(conn, ebuf, sizeof ebuf, timeout_ms) < 0) {
                int error = errno;
                uint64_t now_ms = monotonic_ms();
                rc = connection_lost(&url, error, now_ms - wait_from_ms, timeout_ms, now_ms - connected_ms,
                                     "before it answered", ebuf);
            } else {
                *status_out = mg_get_response_info(conn)->status_code;
                rc = read_body(&answer, conn, &url, max_response_bytes);
            }
        }
    }
    mg_close_connection(conn);
    if (rc) {
        dala_buf_free(&answer);
        return rc;
    }
    *response_out = answer.data; /* a dala_buf's memory is malloc'd */
    *response_len_out = answer.len;
    return DALA_OK;
}

static const dala_transport builtin = {DALA_TRANSPORT_VERSION, builtin_post, NULL};

const dala_transport *dala_transport_builtin(void)
{
    return &builtin;
}

int dala_transport_post(const dala_transport *transport, const char *url,
                        const char *content_type, const void *body, size_t body_len,
                        int *status_out, uint8_t **response_out, size_t *response_len_out,
                        size_t max_response_bytes, int timeout_ms)
{
    void *response = NULL;
    size_t len = 0;
    int status = 0;
    *response_out = NULL;
    *response_len_out = 0;
    if (!transport) transport = &builtin;
    if (transport->version != DALA_TRANSPORT_VERSION || !transport->post)
        return dala_error_set(DALA_EINVAL, "transport: version %d is not %d, or no post function",
                              transport->version, DALA_TRANSPORT_VERSION);
    int rc = transport->post(transport->context, url, content_type, body, body_len, &status,
                             &response, &len, max_response_bytes, timeout_ms);
    if (rc > 0) rc = dala_error_set(DALA_EIO, "transport returned %d", rc);
    if (!rc && len > max_response_bytes)
        rc = dala_error_set(DALA_ELIMIT, "answer of %zu bytes, more than %zu", len, max_response_bytes);
    if (!rc && len && !response) rc = dala_error_set(DALA_EIO, "transport gave no answer bytes");
    if (rc) {
        free(response);
        return rc;
    }
    *status_out = status;
    *response_out = response;
    *response_len_out = len;
    return DALA_OK;
}

char *dala_http_error_member(sqlite3 *db, const uint8_t *body, size_t len, const char *member)
{
    sqlite3_stmt *stmt;
    char *text = NULL;
    if (!body || !len || dala_db_prepare(&stmt, db, "SELECT CASE WHEN json_valid(?1) THEN "
                                                    "json_extract(?1, '$.' || ?2) END") != DALA_OK)
        return NULL;
    sqlite3_bind_text(stmt, 1, (const char *)body, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, member, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_type(stmt, 0) == SQLITE_TEXT) {
        const char *value = (const char *)sqlite3_column_text(stmt, 0);
        size_t value_len = strnlen(value, 300); /* enough for a message; cut there */
        while (value_len > 0 && ((unsigned char)value[value_len] & 0xc0) == 0x80) value_len--;
        if (dala_utf8_is_valid((const uint8_t *)value, strlen(value))) text = strndup(value, value_len);
    }
    sqlite3_finalize(stmt);
    return text;
}
