/* transport.c - the SDK's side of the pluggable transport: the built-in
 * transport objects (the static default, and those an app makes with a CA
 * file through dala_transport_http_new), the checks every transport's
 * answer passes (dala_transport_post: version, status, size cap), and the
 * reason read out of an error answer. The built-in exchange itself, over
 * libcurl, is transport_curl.c. */
#include "sdk_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A transport of dala_transport_http_new: the public struct first, so
 * the app's pointer is this one, and its context points back here. */
typedef struct http_transport {
    dala_transport transport;
    dala_http_config config;
    char *ca_file; /* config.ca_file's copy */
} http_transport;

int dala_transport_error(int code, const char *detail)
{
    return dala_error_set(code, "%s", detail ? detail : dala_strerror(code));
}

static int builtin_post(void *context, const char *url, const char *content_type, const void *body,
                        size_t body_len, int *status_out, void **response_out, size_t *response_len_out,
                        size_t max_response_bytes, int timeout_ms)
{
    static const dala_http_config defaults = {NULL, 0};
    const http_transport *made = context;
    return dala_http_post(made ? &made->config : &defaults, url, content_type, body, body_len, status_out,
                          response_out, response_len_out, max_response_bytes, timeout_ms);
}

static const dala_transport builtin = {DALA_TRANSPORT_VERSION, builtin_post, NULL};

const dala_transport *dala_transport_builtin(void)
{
    return &builtin;
}

int dala_transport_http_new(dala_transport **out, const dala_http_options *options)
{
    static const dala_http_options defaults = DALA_HTTP_OPTIONS_INIT;
    *out = NULL;
    if (!options) options = &defaults;
    if (options->version != DALA_HTTP_OPTIONS_VERSION)
        return dala_error_set(DALA_EINVAL, "transport: options version %d is not %d", options->version,
                              DALA_HTTP_OPTIONS_VERSION);
    if (options->max_exchange_ms < 0)
        return dala_error_set(DALA_EINVAL, "transport: max_exchange_ms %d is negative", options->max_exchange_ms);
    /* A CA file that cannot be read is said now, not at the first sync. */
    if (options->ca_file) {
        FILE *file = fopen(options->ca_file, "r");
        if (!file)
            return dala_error_set(DALA_EINVAL, "CA file %s: %s", options->ca_file, strerror(errno));
        fclose(file);
    }
    http_transport *made = calloc(1, sizeof *made);
    if (!made || (options->ca_file && !(made->ca_file = strdup(options->ca_file)))) {
        free(made);
        return dala_error_set(DALA_ENOMEM, "transport: out of memory");
    }
    made->config.ca_file = made->ca_file;
    made->config.max_exchange_ms = options->max_exchange_ms;
    made->transport.version = DALA_TRANSPORT_VERSION;
    made->transport.post = builtin_post;
    made->transport.context = made;
    *out = &made->transport;
    return DALA_OK;
}

void dala_transport_http_free(dala_transport *transport)
{
    /* Only what dala_transport_http_new made points back at itself. */
    if (!transport || transport->post != builtin_post || transport->context != (void *)transport) return;
    http_transport *made = (http_transport *)transport;
    free(made->ca_file);
    free(made);
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
