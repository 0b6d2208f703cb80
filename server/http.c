/* http.c - answering HTTP in dala-server: the body reader with a cap
 * (chunked bodies included, CivetWeb de-chunks in mg_read), JSON error
 * answers with a status that fits the dala_err, and the access log (one
 * line per request: no contents, no personal data; every request also
 * counted for /metrics), which SIGHUP reopens for logrotate. */
#include "server_int.h"
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Whether the request's body comes in chunks (Transfer-Encoding: chunked):
 * CivetWeb then reports no Content-Length and de-chunks inside mg_read. */
static int is_chunked(struct mg_connection *conn)
{
    const char *coding = mg_get_header(conn, "Transfer-Encoding");
    return coding && strcasestr(coding, "chunked") != NULL;
}

/* Reads the body into `out`, at most `max_bytes`: DALA_ELIMIT beyond that;
 * DALA_EINVAL for a chunked body CivetWeb could not de-chunk (a chunk-size
 * line that is not hexadecimal digits then CRLF, chunk data not followed
 * by CRLF, or a body that ended before its zero-size last chunk: the
 * client's fault, so 400 and not 500); DALA_EIO when the connection failed
 * under a body of known length. */
int http_read_body(struct mg_connection *conn, dala_buf *out, size_t max_bytes)
{
    const struct mg_request_info *info = mg_get_request_info(conn);
    if (info->content_length > 0 && (uint64_t)info->content_length > max_bytes)
        return dala_error_set(DALA_ELIMIT, "read request body: %lld bytes, more than the %zu allowed",
                              info->content_length, max_bytes);
    out->cap_bytes = max_bytes + 1;
    if (info->content_length > 0) {
        int rc = dala_buf_reserve(out, (size_t)info->content_length);
        if (rc) return rc;
    }
    for (;;) {
        int rc = dala_buf_reserve(out, 16384);
        if (rc == DALA_ELIMIT) rc = dala_buf_reserve(out, 1);
        if (rc) return dala_error_set(DALA_ELIMIT, "read request body: more than the %zu bytes allowed",
                                      max_bytes);
        size_t room = out->alloc - out->len;
        if (room > out->cap_bytes - out->len) room = out->cap_bytes - out->len;
        int n = mg_read(conn, out->data + out->len, room);
        if (n == 0) return DALA_OK;
        if (n < 0 && info->content_length < 0 && is_chunked(conn))
            return dala_error_set(DALA_EINVAL,
                                  "read request body: bad chunked encoding after %zu bytes of data: each chunk "
                                  "needs its size in hexadecimal digits and CRLF, its data and CRLF, and the body "
                                  "ends with a chunk of size 0 (or the body was cut short)", out->len);
        if (n < 0) return dala_error_set(DALA_EIO, "read request body: the connection failed after %zu bytes",
                                         out->len);
        out->len += (size_t)n;
        if (out->len > max_bytes)
            return dala_error_set(DALA_ELIMIT, "read request body: more than the %zu bytes allowed",
                                  max_bytes);
    }
}

const char *http_code_name(int code)
{
    switch (code) {
    case DALA_ENOMEM: return "ENOMEM";
    case DALA_EIO: return "EIO";
    case DALA_ECORRUPT: return "ECORRUPT";
    case DALA_EAUTH: return "EAUTH";
    case DALA_ECONFLICT: return "ECONFLICT";
    case DALA_ESCHEMA: return "ESCHEMA";
    case DALA_EINVAL: return "EINVAL";
    case DALA_ELIMIT: return "ELIMIT";
    case DALA_ECLOCK: return "ECLOCK";
    case DALA_ECRYPTO: return "ECRYPTO";
    case DALA_ENOTFOUND: return "ENOTFOUND";
    case DALA_ESESSION: return "ESESSION";
    case DALA_EBUSY: return "EBUSY";
    case DALA_ENOSPACE: return "ENOSPACE";
    default: return "EUNKNOWN";
    }
}

int http_status_for(int code)
{
    switch (code) {
    case DALA_ECORRUPT:
    case DALA_EINVAL: return 400;
    case DALA_EAUTH:
    case DALA_ESESSION: return 401;
    case DALA_ENOTFOUND: return 404;
    case DALA_ECONFLICT: return 409;
    case DALA_ELIMIT: return 413;
    case DALA_ESCHEMA: return 426;
    case DALA_EBUSY: return 503;
    case DALA_ENOSPACE: return 507;
    default: return 500;
    }
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    default: return "Internal Server Error";
    }
}

void http_send_error(struct mg_connection *conn, int status, int code, const char *message)
{
    dala_buf body = DALA_BUF_INIT;
    const char *name = http_code_name(code);
    dala_buf_append(&body, "{\"error\":", 9);
    dala_json_put_string(&body, message, strlen(message));
    dala_buf_append(&body, ",\"code\":", 8);
    dala_json_put_string(&body, name, strlen(name));
    dala_buf_append(&body, "}\n", 2);
    /* A busy database or a full disk passes: the client may come back. */
    const char *retry = status == 503 ? "Retry-After: 1\r\n" : status == 507 ? "Retry-After: 60\r\n" : "";
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\n%sConnection: close\r\n\r\n",
              status, http_status_text(status), body.len, retry);
    mg_write(conn, body.data, body.len);
    dala_buf_free(&body);
}

void http_send_ok(struct mg_connection *conn, const char *content_type, const void *body, size_t len)
{
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\n\r\n",
              content_type, len);
    mg_write(conn, body, len);
}

void server_log_time(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void server_log_request(dala_server *server, const struct mg_connection *conn, int status,
                        int64_t device_id, double elapsed_ms)
{
    const struct mg_request_info *info = mg_get_request_info(conn);
    metrics_count_request(&server->metrics, info->local_uri, status);
    if (server->options.quiet) return;
    char when[32];
    server_log_time(when);
    pthread_mutex_lock(&server->lock);
    fprintf(server->log, "%s %s %s %d device=%lld in=%lld ms=%.1f\n", when, info->request_method,
            info->local_uri, status, (long long)device_id, info->content_length, elapsed_ms);
    fflush(server->log);
    pthread_mutex_unlock(&server->lock);
}

int dala_server_log_reopen(dala_server *server)
{
    if (!server || !server->owns_log || !server->options.access_log) return DALA_OK;
    /* Opened before the lock is taken: requests never wait on the disk. */
    FILE *fresh = server_file_open_append(server->options.access_log);
    if (!fresh) {
        int rc = dala_error_set(DALA_EIO, "reopen log %s: cannot open it; the old one stays",
                                server->options.access_log);
        pthread_mutex_lock(&server->lock);
        fprintf(server->log, "dala-server: %s\n", dala_errmsg());
        fflush(server->log);
        pthread_mutex_unlock(&server->lock);
        return rc;
    }
    pthread_mutex_lock(&server->lock);
    FILE *old = server->log;
    server->log = fresh;
    pthread_mutex_unlock(&server->lock);
    fclose(old);
    return DALA_OK;
}
