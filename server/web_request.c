/* web_request.c - the API under /v1/ that the supervisors' pages and other
 * systems use (docs/web-api.md): one CivetWeb handler finds the session,
 * checks the CSRF token of every change, reads a bounded JSON body, picks
 * the language, and hands the request to its route. Roles and scope are
 * checked by each route on the server, whatever the pages show. */
#include "web_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- the answer ---------------------------------------------------------- */

void web_send(web_request *r, int status, const char *content_type, const void *body, size_t len)
{
    r->status = status;
    mg_printf(r->http,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n"
              "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n%s\r\n",
              status, http_status_text(status), content_type, len, r->headers);
    mg_write(r->http, body, len);
}

int web_send_json(web_request *r, json_out *j)
{
    if (j->rc) {
        int rc = j->rc;
        json_out_free(j);
        return web_send_failure(r, rc);
    }
    dala_buf_append(&j->buf, "\n", 1);
    web_send(r, 200, "application/json; charset=utf-8", j->buf.data, j->buf.len);
    json_out_free(j);
    return 200;
}

int web_send_done(web_request *r, const char *key)
{
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_bool(&j, key, 1);
    json_object_end(&j);
    return web_send_json(r, &j);
}

int web_send_error(web_request *r, int status, int code, const char *message)
{
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_string(&j, "error", message);
    json_string(&j, "code", http_code_name(code));
    json_object_end(&j);
    dala_buf_append(&j.buf, "\n", 1);
    if (status == 401 || status == 403 || status == 404) r->headers[0] = '\0'; /* no cookie with a refusal */
    web_send(r, status, "application/json; charset=utf-8", j.rc ? "{}" : (const char *)j.buf.data, j.rc ? 2 : j.buf.len);
    json_out_free(&j);
    return status;
}

int web_send_failure(web_request *r, int rc)
{
    int status = rc == DALA_EAUTH ? 403 : http_status_for(rc);
    return web_send_error(r, status, rc, dala_errmsg());
}

/* --- the request --------------------------------------------------------- */

int web_query(const web_request *r, const char *name, char *out, size_t size)
{
    const char *query = r->info->query_string;
    out[0] = '\0';
    if (!query) return 0;
    return mg_get_var(query, strlen(query), name, out, size) > 0;
}

int web_query_int(int64_t *out, const web_request *r, const char *name, int64_t fallback)
{
    char text[32], *end;
    *out = fallback;
    if (!web_query(r, name, text, sizeof text)) return DALA_OK;
    long long value = strtoll(text, &end, 10);
    if (*end || end == text) return dala_error_set(DALA_EINVAL, "%s: not a number", name);
    *out = value;
    return DALA_OK;
}

const char *web_body_string(const web_request *r, const char *key)
{
    return r->json ? dala_json_get_string(r->json, key) : NULL;
}

/* The language: ?lang=, else the cookie the page's switch sets, else Kazakh. */
static const char *pick_language(const web_request *r)
{
    char lang[8] = "";
    if (!web_query(r, "lang", lang, sizeof lang)) {
        const char *cookies = mg_get_header(r->http, "Cookie");
        if (cookies) mg_get_cookie(cookies, "dala_lang", lang, sizeof lang);
    }
    return strcmp(lang, "ru") == 0 ? "ru" : "kk";
}

/* Compares the X-CSRF-Token header with the session's, in constant time. */
int web_csrf_matches(const web_request *r)
{
    const char *sent = mg_get_header(r->http, "X-CSRF-Token");
    size_t len = strlen(r->csrf);
    if (!sent || strlen(sent) != len || len == 0) return 0;
    unsigned diff = 0;
    for (size_t i = 0; i < len; i++) diff |= (unsigned)(sent[i] ^ r->csrf[i]);
    return diff == 0;
}

/* Reads a POST's body: JSON, at most WEB_MAX_BODY bytes. */
static int read_json_body(web_request *r)
{
    const char *type = mg_get_header(r->http, "Content-Type");
    /* No body: a length of 0, or none given and not chunked (CivetWeb says -1). */
    if (r->info->content_length == 0 || (r->info->content_length < 0 && !mg_get_header(r->http, "Transfer-Encoding")))
        return DALA_OK;
    if (!type || strncmp(type, "application/json", 16) != 0)
        return dala_error_set(DALA_EINVAL, "the body must be application/json");
    int rc = http_read_body(r->http, &r->body, WEB_MAX_BODY);
    if (!rc && r->body.len) rc = dala_json_parse(&r->json, (const char *)r->body.data, r->body.len, 1000);
    if (!rc && r->json && r->json->type != DALA_JSON_OBJECT)
        rc = dala_error_set(DALA_EINVAL, "the body must be a JSON object");
    return rc;
}

/* Whether `path` is `prefix` + an id + `suffix`; the id goes to `id`. */
static int match_id(const char *path, const char *prefix, const char *suffix, char *id, size_t size)
{
    size_t p = strlen(prefix), s = strlen(suffix), n = strlen(path);
    if (n <= p + s || strncmp(path, prefix, p) != 0 || strcmp(path + n - s, suffix) != 0) return 0;
    size_t len = n - p - s;
    if (len >= size || memchr(path + p, '/', len)) return 0;
    memcpy(id, path + p, len);
    id[len] = '\0';
    return 1;
}

/* The route of a signed-in request; 0 when the path has none. */
static int dispatch(web_request *r)
{
    const char *path = r->path;
    char id[48];
    int is_get = strcmp(r->method, "GET") == 0, is_post = strcmp(r->method, "POST") == 0;
    if (strcmp(path, "meta") == 0) return is_get ? web_route_meta(r) : 405;
    if (strcmp(path, "dashboard") == 0) return is_get ? web_route_dashboard(r) : 405;
    if (strcmp(path, "records") == 0) return is_get ? web_route_records(r) : 405;
    if (strcmp(path, "records.csv") == 0) return is_get ? web_route_records_csv(r) : 405;
    if (match_id(path, "records/", "/review", id, sizeof id)) return is_post ? web_route_review(r, id) : 405;
    if (match_id(path, "records/", "", id, sizeof id)) return is_get ? web_route_record(r, id) : 405;
    if (match_id(path, "conflicts/", "/settle", id, sizeof id)) return is_post ? web_route_settle(r, id) : 405;
    if (strcmp(path, "devices") == 0) return is_get ? web_route_devices(r) : 405;
    if (match_id(path, "devices/", "/revoke", id, sizeof id)) return is_post ? web_route_revoke(r, id) : 405;
    if (match_id(path, "devices/", "/lost", id, sizeof id)) return is_post ? web_route_device_lost(r, id) : 405;
    if (strcmp(path, "enrol-codes") == 0) return is_post ? web_route_enrol_code(r) : 405;
    if (strcmp(path, "users") == 0) return is_get || is_post ? web_route_users(r) : 405;
    if (strncmp(path, "users/", 6) == 0) return web_route_user(r, path + 6);
    if (strcmp(path, "audit") == 0) return is_get ? web_route_audit(r) : 405;
    if (strcmp(path, "reports") == 0) return web_route_reports(r);
    if (strncmp(path, "reports/", 8) == 0) {
        /* reports/{id} and reports/{id}/{action} */
        const char *rest = path + 8, *slash = strchr(rest, '/');
        size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
        if (len == 0 || len >= sizeof id || (slash && strchr(slash + 1, '/'))) return 0;
        memcpy(id, rest, len);
        id[len] = '\0';
        return web_route_report(r, id, slash ? slash + 1 : "");
    }
    return 0;
}

static int handle(web_request *r)
{
    if (strcmp(r->path, "session") == 0) return web_route_session(r);
    int rc = web_session_load(r);
    if (rc == DALA_ESESSION) return web_send_error(r, 401, rc, "sign in first (no session, or it expired)");
    if (rc) return web_send_failure(r, rc);
    int is_change = strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
    if (is_change && !web_csrf_matches(r))
        return web_send_error(r, 403, DALA_EAUTH, "the X-CSRF-Token header is missing or wrong");
    if (is_change && (rc = read_json_body(r))) return web_send_failure(r, rc);
    int status = dispatch(r);
    if (status == 0) return web_send_error(r, 404, DALA_ENOTFOUND, "no such resource");
    if (status == 405) return web_send_error(r, 405, DALA_EINVAL, "this resource does not take that method");
    return status;
}

int route_web_api(struct mg_connection *conn, void *context)
{
    dala_server *server = context;
    web_request r;
    memset(&r, 0, sizeof r);
    r.server = server;
    r.http = conn;
    r.info = mg_get_request_info(conn);
    r.method = r.info->request_method;
    r.path = r.info->local_uri + strlen("/v1/");
    r.lang = pick_language(&r);
    r.body = (dala_buf)DALA_BUF_INIT;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    r.conn = server_conn_get(server);
    if (!r.conn) web_send_failure(&r, DALA_EIO);
    else handle(&r);
    clock_gettime(CLOCK_MONOTONIC, &end);
    server_log_request(server, conn, r.status, 0,
                       (double)(end.tv_sec - start.tv_sec) * 1e3 + (double)(end.tv_nsec - start.tv_nsec) / 1e6);
    dala_json_free(r.json);
    dala_buf_free(&r.body);
    return r.status ? r.status : 500;
}

/* --- roles --------------------------------------------------------------- */

web_role web_role_parse(const char *name)
{
    if (strcmp(name, "unit_head") == 0) return ROLE_UNIT_HEAD;
    if (strcmp(name, "deputy") == 0) return ROLE_DEPUTY;
    if (strcmp(name, "analyst") == 0) return ROLE_ANALYST;
    if (strcmp(name, "admin") == 0) return ROLE_ADMIN;
    return ROLE_INSPECTOR;
}

const char *web_role_name(web_role role)
{
    static const char *const names[] = {"inspector", "unit_head", "deputy", "analyst", "admin"};
    return names[role];
}

int web_role_may_read_records(web_role role) { return role != ROLE_ADMIN; }
int web_role_may_decide(web_role role) { return role == ROLE_UNIT_HEAD || role == ROLE_DEPUTY; }
int web_role_may_manage_devices(web_role role)
{
    return role == ROLE_UNIT_HEAD || role == ROLE_DEPUTY || role == ROLE_ADMIN;
}
int web_role_may_read_audit(web_role role) { return role != ROLE_INSPECTOR; }
