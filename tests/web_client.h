/* web_client.h - a small HTTP/1.1 client for the tests of the supervisors'
 * API (docs/web-api.md): one request per connection to 127.0.0.1 through
 * CivetWeb's client, as raw_client.c posts frames, but with any method, the
 * session cookie and the CSRF token of a signed-in user, and the answer's
 * status, headers and body kept for the test to look at. harness_post
 * cannot carry those headers nor return the answer's, hence this file. */
#ifndef DALA_WEB_CLIENT_H
#define DALA_WEB_CLIENT_H

#include <stddef.h>

/* An answer. Reuse one for several calls: each call frees what the last
 * one left; web_answer_free at the end. */
typedef struct web_answer {
    int status;    /* the HTTP status; -1 if the server could not be reached */
    char *headers; /* the header lines, "Name: value\r\n" each; NUL-terminated; malloc'd */
    char *body;    /* the body, NUL-terminated (it may hold other NULs); malloc'd */
    size_t body_len;
} web_answer;

#define WEB_ANSWER_INIT {0, NULL, NULL, 0}

/* What a signed-in browser sends: the cookie and the CSRF token. An empty
 * string leaves the header out (to test a missing cookie or token). */
typedef struct web_login {
    char cookie[96]; /* "dala_session=<64 hex digits>" */
    char csrf[96];   /* the X-CSRF-Token header's value */
} web_login;

/**
 * Sends one request to 127.0.0.1:`port` and reads the whole answer.
 *
 * @param out           the answer; what it held before is freed first.
 * @param method        "GET", "POST", "DELETE", ...
 * @param path          the path with its query, already URL-encoded.
 * @param login         cookie and CSRF token to send; NULL sends neither.
 * @param content_type  the body's type; NULL sends no Content-Type.
 * @param body, len     the body (borrowed); len 0 sends Content-Length: 0
 *                      for POST and DELETE, nothing for other methods.
 * @return the HTTP status, or -1 if the server could not be reached.
 */
int web_call(web_answer *out, int port, const char *method, const char *path, const web_login *login,
             const char *content_type, const void *body, size_t len);

/* Sends `request` (`len` bytes: the request line, headers and body, as
 * is) and reads the answer, for requests web_call would not make. Returns
 * the status, or -1. */
int web_call_raw(web_answer *out, int port, const char *request, size_t len);

/* GET `path`. Returns the status, as web_call. */
int web_get(web_answer *out, int port, const char *path, const web_login *login);
/* POST `json` (NULL: no body) as application/json. Returns the status. */
int web_post(web_answer *out, int port, const char *path, const web_login *login, const char *json);
/* DELETE `path` without a body. Returns the status. */
int web_delete(web_answer *out, int port, const char *path, const web_login *login);

/* The value of the answer's header `name` (any case) into `out` (cut to
 * `size`); 1 if present, else 0 with `out` empty. */
int web_header(char *out, size_t size, const web_answer *answer, const char *name);

/* Frees what `answer` holds and makes it empty again; NULL is fine. */
void web_answer_free(web_answer *answer);

/**
 * Signs in with POST /v1/session; on 200 fills `out` with the session
 * cookie (from Set-Cookie) and the CSRF token (from the answer's "csrf").
 *
 * @return the HTTP status (200, 401, 429, ...), or -1 if unreachable;
 *         `out` is empty unless 200 came with both a cookie and a token.
 */
int web_sign_in(web_login *out, int port, const char *login, const char *password);

#endif /* DALA_WEB_CLIENT_H */
