/* transport_curl.c - the built-in transport's one POST, over libcurl
 * (Debian's libcurl4, OpenSSL flavour): http:// and https://, HTTP/1.1,
 * a new connection each time, no redirects, no proxy from the
 * environment, the answer read into memory under a cap whatever
 * Content-Length says.
 *
 * Time limits. `timeout_ms` is the longest silence: connecting (with the
 * TLS handshake), sending, the wait for the answer, and each pause in the
 * middle of it. The exchange runs in curl's multi interface so that this
 * file watches the bytes move and gives up to the millisecond (curl's own
 * low-speed limit counts whole seconds): an answer that stops half way
 * fails timeout_ms after its last byte, "the server stopped answering:
 * ...". A server that trickles a byte now and then is stopped by the cap
 * on the whole exchange (CURLOPT_TIMEOUT_MS; ten times timeout_ms unless
 * the transport was made with another).
 *
 * https://: the certificate must chain to a CA of the transport's CA file
 * (and only those: the system's CA folder is not consulted then), else of
 * the system's, and must name the URL's host; TLS 1.2 at least.
 *
 * Failures say which host:port and why, never what was sent: "cannot
 * reach 127.0.0.1:9: connection refused", "the connection was reset by
 * 127.0.0.1:8080 after 3 ms, before it answered", "no answer from
 * 127.0.0.1:8080 within 300 ms", "the certificate of 127.0.0.1:8443 is
 * refused (checked against CA file ca.pem): ...". */
#include "sdk_int.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One exchange in flight: what the callbacks fill and the messages read. */
typedef struct exchange {
    char where[300];      /* "host:port", for messages */
    dala_buf answer;
    size_t max_bytes;
    int rc;               /* a failure of a callback (ENOMEM, ELIMIT) */
    int has_status;       /* the status line came */
    uint64_t header_bytes; /* received before the body */
    const char *ca_file;  /* the transport's, or NULL: the system's CAs */
    long max_exchange_ms;
} exchange;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_code = CURLE_OK;

static void curl_init(void)
{
    curl_init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* Keeps the body, failing (curl then stops) past the cap. */
static size_t on_body(char *data, size_t size, size_t count, void *context)
{
    exchange *ex = context;
    size_t len = size * count;
    if (ex->answer.len + len > ex->max_bytes) {
        ex->rc = dala_error_set(DALA_ELIMIT, "answer from %s is more than %zu bytes", ex->where, ex->max_bytes);
        return 0;
    }
    int rc = dala_buf_append(&ex->answer, data, len);
    if (rc) {
        ex->rc = rc;
        return 0;
    }
    return len;
}

static size_t on_header(char *data, size_t size, size_t count, void *context)
{
    exchange *ex = context;
    size_t len = size * count;
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) ex->has_status = 1;
    ex->header_bytes += len;
    return len;
}

/* Fills ex->where with the URL's host and port (the scheme's default when
 * it names none); DALA_EINVAL for a URL that is not http:// or https://. */
static int parse_url(exchange *ex, const char *url)
{
    CURLU *parsed = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = DALA_OK;
    if (!parsed) return dala_error_set(DALA_ENOMEM, "%s: out of memory", url);
    if (curl_url_set(parsed, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(parsed, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(parsed, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        rc = dala_error_set(DALA_EINVAL, "%s: not a URL the built-in transport reads", url);
    else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        rc = dala_error_set(DALA_EINVAL, "%s: not an http:// or https:// URL", url);
    else
        snprintf(ex->where, sizeof ex->where, "%s:%s", host, port);
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(parsed);
    return rc;
}

/* curl's "Failed to connect to h port p after 0 ms: Connection refused"
 * becomes "connection refused"; an errno says it best when there is one. */
static const char *connect_reason(char *out, size_t size, CURL *easy, const char *errbuf)
{
    long os_errno = 0;
    curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    const char *colon = strrchr(errbuf, ':');
    snprintf(out, size, "%s", os_errno ? strerror((int)os_errno) : colon ? colon + 2 : errbuf);
    out[0] = (char)tolower((unsigned char)out[0]);
    return out[0] ? out : "unknown failure";
}

/* The words of a failed exchange, recorded in dala_errmsg(). */
static int exchange_failed(exchange *ex, CURL *easy, CURLcode code, const char *errbuf, uint64_t lasted_ms)
{
    const char *ca_file = ex->ca_file;
    char reason[256];
    curl_off_t content_length = -1;
    curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &content_length);
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(code);
    int is_reset = strstr(detail, "reset") || strstr(detail, "Broken pipe");
    if (ex->rc) return ex->rc; /* a callback said why */
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return dala_error_set(DALA_EIO, "cannot reach %s: unknown host name", ex->where);
    case CURLE_COULDNT_CONNECT:
        return dala_error_set(DALA_EIO, "cannot reach %s: %s", ex->where,
                              connect_reason(reason, sizeof reason, easy, detail));
    case CURLE_GOT_NOTHING:
        return dala_error_set(DALA_EIO, "the connection was closed by %s after %llu ms, before it answered",
                              ex->where, (unsigned long long)lasted_ms);
    case CURLE_SEND_ERROR:
        return dala_error_set(DALA_EIO, "the connection was %s by %s after %llu ms, while the request was sent",
                              is_reset ? "reset" : "closed", ex->where, (unsigned long long)lasted_ms);
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
        if (!ex->has_status)
            return dala_error_set(DALA_EIO, "the connection was %s by %s after %llu ms, before it answered",
                                  is_reset ? "reset" : "closed", ex->where, (unsigned long long)lasted_ms);
        if (content_length >= 0)
            return dala_error_set(DALA_EIO, "answer from %s broke off after %zu of %lld bytes", ex->where,
                                  ex->answer.len, (long long)content_length);
        return dala_error_set(DALA_EIO, "answer from %s broke off after %zu bytes", ex->where, ex->answer.len);
    case CURLE_FILESIZE_EXCEEDED:
        return dala_error_set(DALA_ELIMIT, "answer from %s is %lld bytes, more than %zu", ex->where,
                              (long long)content_length, ex->max_bytes);
    case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t connected_us = 0;
        curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected_us);
        if (!connected_us)
            return dala_error_set(DALA_EIO, "cannot reach %s: no connection within %llu ms", ex->where,
                                  (unsigned long long)lasted_ms);
        return dala_error_set(DALA_EIO, "the exchange with %s took longer than %ld ms in all (%zu bytes of "
                                        "the answer had come)", ex->where, ex->max_exchange_ms, ex->answer.len);
    }
    case CURLE_PEER_FAILED_VERIFICATION:
        return dala_error_set(DALA_EIO, "the certificate of %s is refused (checked against %s%s): %s", ex->where,
                              ca_file ? "CA file " : "the system's CAs", ca_file ? ca_file : "", detail);
    case CURLE_SSL_CACERT_BADFILE:
        return dala_error_set(DALA_EINVAL, "CA file %s cannot be used: %s", ca_file ? ca_file : "(system)", detail);
    case CURLE_SSL_CONNECT_ERROR:
        return dala_error_set(DALA_EIO, "the TLS handshake with %s failed: %s", ex->where, detail);
    case CURLE_OUT_OF_MEMORY:
        return dala_error_set(DALA_ENOMEM, "POST to %s: out of memory", ex->where);
    default:
        return dala_error_set(DALA_EIO, "POST to %s failed: %s", ex->where, detail);
    }
}

/* Nothing moved for timeout_ms: says where the exchange stood. */
static int exchange_stalled(exchange *ex, CURL *easy, size_t body_len, int timeout_ms, int is_https)
{
    curl_off_t connected_us = 0, tls_us = 0, sent = 0, content_length = -1;
    curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connected_us);
    curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &tls_us);
    curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &sent);
    curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &content_length);
    if (!connected_us)
        return dala_error_set(DALA_EIO, "cannot reach %s: no connection within %d ms", ex->where, timeout_ms);
    if (is_https && !tls_us)
        return dala_error_set(DALA_EIO, "the TLS handshake with %s did not finish within %d ms", ex->where,
                              timeout_ms);
    if (!ex->has_status && (size_t)sent < body_len)
        return dala_error_set(DALA_EIO, "the server stopped reading the request: %s took %lld of %zu bytes, "
                                        "then nothing for %d ms", ex->where, (long long)sent, body_len, timeout_ms);
    if (!ex->has_status)
        return dala_error_set(DALA_EIO, "no answer from %s within %d ms", ex->where, timeout_ms);
    if (content_length >= 0)
        return dala_error_set(DALA_EIO, "the server stopped answering: %s sent %zu of %lld bytes of its answer, "
                                        "then nothing for %d ms", ex->where, ex->answer.len,
                              (long long)content_length, timeout_ms);
    return dala_error_set(DALA_EIO, "the server stopped answering: %s sent %zu bytes of its answer, then nothing "
                                    "for %d ms", ex->where, ex->answer.len, timeout_ms);
}

/* Drives the exchange until it ends, or nothing moves for timeout_ms.
 * Returns curl's result in *code, or 1 when it stalled. */
static int run_exchange(CURLcode *code, CURLM *multi, CURL *easy, exchange *ex, int timeout_ms)
{
    uint64_t last_move_ms = monotonic_ms(), moved = 0;
    *code = CURLE_OK;
    for (;;) {
        int running = 0;
        CURLMcode multi_code = curl_multi_perform(multi, &running);
        if (multi_code != CURLM_OK) {
            *code = multi_code == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_RECV_ERROR;
            return 0;
        }
        if (!running) break;
        curl_off_t sent = 0;
        curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &sent);
        uint64_t now_ms = monotonic_ms(), total = (uint64_t)sent + ex->header_bytes + ex->answer.len;
        if (total != moved) {
            moved = total;
            last_move_ms = now_ms;
        }
        uint64_t silent_ms = now_ms - last_move_ms;
        if (silent_ms >= (uint64_t)timeout_ms) return 1;
        if (curl_multi_poll(multi, NULL, 0, (int)((uint64_t)timeout_ms - silent_ms), NULL) != CURLM_OK) {
            *code = CURLE_RECV_ERROR;
            return 0;
        }
    }
    int left = 0;
    CURLMsg *message;
    while ((message = curl_multi_info_read(multi, &left)))
        if (message->msg == CURLMSG_DONE && message->easy_handle == easy) *code = message->data.result;
    return 0;
}

int dala_http_post(const dala_http_config *config, const char *url, const char *content_type,
                   const void *body, size_t body_len, int *status_out, void **response_out,
                   size_t *response_len_out, size_t max_response_bytes, int timeout_ms)
{
    exchange ex;
    char errbuf[CURL_ERROR_SIZE] = "", header[300];
    CURL *easy = NULL;
    CURLM *multi = NULL;
    struct curl_slist *headers = NULL;
    memset(&ex, 0, sizeof ex);
    ex.max_bytes = max_response_bytes;
    ex.answer.cap_bytes = max_response_bytes + 1;
    if (timeout_ms <= 0) timeout_ms = DALA_DEFAULT_TIMEOUT_MS;
    ex.ca_file = config->ca_file;
    ex.max_exchange_ms = config->max_exchange_ms > 0 ? config->max_exchange_ms : 10L * timeout_ms;
    int rc = parse_url(&ex, url);
    if (rc) return rc;
    pthread_once(&curl_once, curl_init);
    if (curl_init_code != CURLE_OK)
        return dala_error_set(DALA_EIO, "libcurl did not start: %s", curl_easy_strerror(curl_init_code));
    snprintf(header, sizeof header, "Content-Type: %s", content_type);
    easy = curl_easy_init();
    multi = curl_multi_init();
    /* No "Expect: 100-continue" round trip before a large body; the
     * server may free its worker as soon as it has answered. */
    const char *const lines[] = {header, "Expect:", "Connection: close"};
    int is_listed = 1;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0] && is_listed; i++) {
        struct curl_slist *more = curl_slist_append(headers, lines[i]);
        if (more) headers = more;
        else is_listed = 0;
    }
    if (!easy || !multi || !is_listed) {
        rc = dala_error_set(DALA_ENOMEM, "POST to %s: out of memory", ex.where);
        goto done;
    }
    int is_https = strncasecmp(url, "https:", 6) == 0;
    CURLcode set = CURLE_OK;
#define SET(option, value) \
    if (set == CURLE_OK) set = curl_easy_setopt(easy, option, value)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROXY, ""); /* never a proxy from the environment */
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_FORBID_REUSE, 1L);
    SET(CURLOPT_USERAGENT, "libdala/1");
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDS, body ? body : "");
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, ex.max_exchange_ms);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_response_bytes);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (config->ca_file) {
        SET(CURLOPT_CAINFO, config->ca_file);
        SET(CURLOPT_CAPATH, (char *)NULL); /* that file's CAs only */
    }
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, &ex);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, &ex);
#undef SET
    if (set != CURLE_OK) {
        rc = dala_error_set(DALA_EIO, "POST to %s: libcurl refused an option: %s", ex.where,
                            curl_easy_strerror(set));
        goto done;
    }
    if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
        rc = dala_error_set(DALA_ENOMEM, "POST to %s: out of memory", ex.where);
        goto done;
    }
    uint64_t started_ms = monotonic_ms();
    CURLcode code;
    if (run_exchange(&code, multi, easy, &ex, timeout_ms))
        rc = exchange_stalled(&ex, easy, body_len, timeout_ms, is_https);
    else if (code != CURLE_OK)
        rc = exchange_failed(&ex, easy, code, errbuf, monotonic_ms() - started_ms);
    if (!rc) {
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        *status_out = (int)status;
    }
    curl_multi_remove_handle(multi, easy);
done:
    curl_easy_cleanup(easy);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    if (rc) {
        dala_buf_free(&ex.answer);
        return rc;
    }
    *response_out = ex.answer.data; /* a dala_buf's memory is malloc'd */
    *response_len_out = ex.answer.len;
    return DALA_OK;
}
