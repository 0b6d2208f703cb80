/* http.c - the CivetWeb side of dala-server: starting and stopping the
 * server, the routes, a body reader with a cap, JSON error answers, and
 * the access log (one line per request: no contents, no personal data).
 * No document_root, no directory listing: every answer comes from a
 * handler here. */
#include "server_int.h"
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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
        if (n < 0) return dala_error_set(DALA_EIO, "read request body: the connection failed");
        out->len += (size_t)n;
        if (out->len > max_bytes)
            return dala_error_set(DALA_ELIMIT, "read request body: more than the %zu bytes allowed",
                                  max_bytes);
    }
}

static const char *code_name(int code)
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
    default: return "EUNKNOWN";
    }
}

int http_status_for(int code)
{
    switch (code) {
    case DALA_ECORRUPT:
    case DALA_EINVAL: return 400;
    case DALA_EAUTH: return 401;
    case DALA_ENOTFOUND: return 404;
    case DALA_ECONFLICT: return 409;
    case DALA_ELIMIT: return 413;
    case DALA_ESCHEMA: return 426;
    default: return 500;
    }
}

static const char *status_text(int status)
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
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    default: return "Internal Server Error";
    }
}

/* Appends `text` as a JSON string body (quotes and control bytes escaped). */
static void json_escape_into(dala_buf *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            char pair[2] = {'\\', (char)c};
            dala_buf_append(out, pair, 2);
        } else if (c < 0x20) {
            char escaped[7];
            snprintf(escaped, sizeof escaped, "\\u%04x", c);
            dala_buf_append(out, escaped, 6);
        } else {
            dala_buf_append(out, p, 1);
        }
    }
}

void http_send_error(struct mg_connection *conn, int status, int code, const char *message)
{
    dala_buf body = DALA_BUF_INIT;
    dala_buf_append(&body, "{\"error\":\"", 10);
    json_escape_into(&body, message);
    dala_buf_append(&body, "\",\"code\":\"", 10);
    json_escape_into(&body, code_name(code));
    dala_buf_append(&body, "\"}\n", 3);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
              status, status_text(status), body.len);
    mg_write(conn, body.data, body.len);
    mg_set_user_connection_data(conn, (void *)(intptr_t)status);
    dala_buf_free(&body);
}

void http_send_ok(struct mg_connection *conn, const char *content_type, const void *body, size_t len)
{
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\n\r\n",
              content_type, len);
    mg_write(conn, body, len);
    mg_set_user_connection_data(conn, (void *)(intptr_t)200);
}

void server_log_request(dala_server *server, const struct mg_connection *conn, int status,
                        int64_t device_id, double elapsed_ms)
{
    if (server->options.quiet) return;
    const struct mg_request_info *info = mg_get_request_info(conn);
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    pthread_mutex_lock(&server->lock);
    fprintf(server->log, "%s %s %s %d device=%lld in=%lld ms=%.1f\n", when, info->request_method,
            info->local_uri, status, (long long)device_id, info->content_length, elapsed_ms);
    fflush(server->log);
    pthread_mutex_unlock(&server->lock);
}

/* Any path without a handler: a JSON 404, never a file. */
static int route_not_found(struct mg_connection *conn, void *server)
{
    http_send_error(conn, 404, DALA_ENOTFOUND, "no such resource");
    server_log_request(server, conn, 404, 0, 0);
    return 404;
}

static void *thread_started(const struct mg_context *ctx, int thread_type)
{
    (void)ctx;
    (void)thread_type;
    return NULL;
}

static void thread_stopping(const struct mg_context *ctx, int thread_type, void *thread_data)
{
    (void)ctx;
    (void)thread_type;
    (void)thread_data;
    server_conn_release();
}

static int log_message(const struct mg_connection *conn, const char *message)
{
    const struct mg_context *ctx = mg_get_context(conn);
    dala_server *server = ctx ? mg_get_user_data(ctx) : NULL;
    if (server && !server->options.quiet) {
        pthread_mutex_lock(&server->lock);
        fprintf(server->log, "civetweb: %s\n", message);
        pthread_mutex_unlock(&server->lock);
    }
    return 1;
}

static int start_civetweb(dala_server *server)
{
    char threads[16], timeout[16];
    snprintf(threads, sizeof threads, "%d", server->options.num_threads);
    snprintf(timeout, sizeof timeout, "%d", server->options.request_timeout_ms);
    const char *config[] = {"listening_ports", server->listen,
                            "num_threads", threads,
                            "request_timeout_ms", timeout,
                            "enable_directory_listing", "no",
                            "enable_keep_alive", "yes",
                            "keep_alive_timeout_ms", "5000",
                            NULL};
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.init_thread = thread_started;
    callbacks.exit_thread = thread_stopping;
    callbacks.log_message = log_message;
    server->ctx = mg_start(&callbacks, server, config);
    if (!server->ctx)
        return dala_error_set(DALA_EIO, "start HTTP server on %s: cannot listen there (in use?)",
                              server->listen);
    mg_set_request_handler(server->ctx, "/v1/health$", route_health, server);
    mg_set_request_handler(server->ctx, "/v1/enroll$", route_enroll, server);
    mg_set_request_handler(server->ctx, "/v1/sync$", route_sync, server);
    mg_set_request_handler(server->ctx, "/", route_not_found, server);
    return DALA_OK;
}

int dala_server_start(dala_server **out, const dala_server_options *options)
{
    *out = NULL;
    if (!options || options->version != DALA_SERVER_OPTIONS_VERSION || !options->db_path ||
        !options->listen || options->num_threads < 1 || options->max_body_bytes == 0)
        return dala_error_set(DALA_EINVAL, "start server: incomplete or unknown options");
    dala_server *server = calloc(1, sizeof *server);
    if (!server) return dala_error_set(DALA_ENOMEM, "start server: out of memory");
    server->options = *options;
    server->db_path = strdup(options->db_path);
    server->listen = strdup(options->listen);
    pthread_mutex_init(&server->lock, NULL);
    dala_hlc_init(&server->clock, 0);
    server->log = stderr;
    int rc = DALA_OK;
    if (!server->db_path || !server->listen) rc = dala_error_set(DALA_ENOMEM, "start server: out of memory");
    if (!rc && options->access_log) {
        server->log = fopen(options->access_log, "a");
        server->owns_log = server->log != NULL;
        if (!server->log) rc = dala_error_set(DALA_EIO, "open log %s", options->access_log);
    }
    mg_init_library(0);
    if (!rc) rc = server_db_prepare(server);
    if (!rc) rc = start_civetweb(server);
    if (rc) {
        dala_server_stop(server);
        return rc;
    }
    *out = server;
    return DALA_OK;
}

int dala_server_port(const dala_server *server)
{
    struct mg_server_port ports[4];
    int n = mg_get_server_ports(server->ctx, 4, ports);
    return n > 0 ? ports[0].port : -1;
}

void dala_server_stop(dala_server *server)
{
    if (!server) return;
    if (server->ctx) mg_stop(server->ctx); /* waits for the requests in flight */
    if (server->owns_log) fclose(server->log);
    dala_keypair_wipe(&server->keys);
    pthread_mutex_destroy(&server->lock);
    free(server->db_path);
    free(server->listen);
    free(server);
}

uint64_t server_hlc_now(dala_server *server)
{
    uint64_t now = 0;
    pthread_mutex_lock(&server->lock);
    dala_hlc_now(&now, &server->clock, dala_wall_clock_ms());
    pthread_mutex_unlock(&server->lock);
    return now;
}

int server_hlc_receive(dala_server *server, uint64_t remote)
{
    uint64_t now;
    pthread_mutex_lock(&server->lock);
    int rc = dala_hlc_receive(&now, &server->clock, remote, dala_wall_clock_ms());
    pthread_mutex_unlock(&server->lock);
    return rc;
}
