/* web_int.h - what the supervisors' side of dala-server shares: one
 * request as the web routes see it (who is signed in, in which language,
 * the query and the body), a JSON writer, the scope checks and the audit
 * trail. The API is docs/web-api.md; the pages are server/web/. */
#ifndef DALA_WEB_INT_H
#define DALA_WEB_INT_H

#include "server_int.h"
#include "sync_int.h"

/* --- a JSON answer (web_json.c) ----------------------------------------- */

#define JSON_MAX_DEPTH 16

/* Writes JSON with the commas kept for the caller; the first failure
 * (out of memory) sticks in `rc` and later calls do nothing. */
typedef struct json_out {
    dala_buf buf;
    int depth;
    int has_items[JSON_MAX_DEPTH];
    int rc;
} json_out;

#define JSON_OUT_INIT {DALA_BUF_INIT, 0, {0}, DALA_OK}

/* `key` names the member inside an object; NULL inside an array. */
void json_object_begin(json_out *j, const char *key);
void json_object_end(json_out *j);
void json_array_begin(json_out *j, const char *key);
void json_array_end(json_out *j);
/* A string member; NULL text writes null. */
void json_string(json_out *j, const char *key, const char *text);
void json_string_n(json_out *j, const char *key, const void *text, size_t len);
void json_int(json_out *j, const char *key, int64_t value);
void json_bool(json_out *j, const char *key, int value);
void json_null(json_out *j, const char *key);
/* A value that is JSON already (a number, an object). */
void json_raw(json_out *j, const char *key, const char *json, size_t len);
void json_out_free(json_out *j);

/* --- one request (web_request.c) ----------------------------------------- */

#define WEB_MAX_BODY (64 * 1024)
/* Sessions end 30 minutes after the last request, 8 hours after sign-in. */
#define WEB_SESSION_IDLE_SECONDS (30 * 60)
#define WEB_SESSION_MAX_SECONDS (8 * 3600)

typedef enum web_role { ROLE_INSPECTOR, ROLE_UNIT_HEAD, ROLE_DEPUTY, ROLE_ANALYST, ROLE_ADMIN } web_role;

typedef struct web_user {
    int64_t id;
    char login[64];
    char full_name[128];
    web_role role;
    const char *role_name;
    int64_t unit_id;
} web_user;

typedef struct web_request {
    dala_server *server;
    server_conn *conn;
    struct mg_connection *http;
    const struct mg_request_info *info;
    const char *method;
    const char *path;     /* after "/v1/" */
    const char *lang;     /* "kk" or "ru" */
    web_user user;        /* id 0: nobody is signed in */
    char csrf[65];
    uint8_t token_hash[32];
    dala_buf body;
    dala_json *json;      /* the parsed body of a POST, if any */
    int status;           /* the answer's, for the log */
    char headers[512];    /* more header lines for the answer (Set-Cookie) */
} web_request;

/* The value of query parameter `name` into `out` (URL-decoded); 0 if
 * absent or empty. */
int web_query(const web_request *r, const char *name, char *out, size_t size);
/* A query parameter as an integer; `fallback` when absent. DALA_EINVAL
 * (with a message naming it) when present but not a number. */
int web_query_int(int64_t *out, const web_request *r, const char *name, int64_t fallback);
/* A member of the JSON body as text; NULL if absent or not a string. */
const char *web_body_string(const web_request *r, const char *key);

/* Whether the X-CSRF-Token header holds the session's token (compared in
 * constant time). */
int web_csrf_matches(const web_request *r);
/* Sends an answer with Dala's headers (no caching, no sniffing, no
 * framing) and r->headers. */
void web_send(web_request *r, int status, const char *content_type, const void *body, size_t len);
/* Sends `j` as the 200 answer and frees it. */
int web_send_json(web_request *r, json_out *j);
/* Sends the 200 answer {"<key>": true} of a change that has no more to say. */
int web_send_done(web_request *r, const char *key);
/* Sends an error answer ({"error", "code"}); returns `status`. */
int web_send_error(web_request *r, int status, int code, const char *message);
/* Sends the answer a dala_err deserves (its message from dala_errmsg). */
int web_send_failure(web_request *r, int rc);

/* Whether the role may do what a route needs. */
int web_role_may_read_records(web_role role);
int web_role_may_decide(web_role role);
int web_role_may_manage_devices(web_role role);
int web_role_may_read_audit(web_role role);
web_role web_role_parse(const char *name);
const char *web_role_name(web_role role);

/* --- sessions and passwords (web_session.c) ----------------------------- */

#define WEB_SIGN_IN_FAILURES_PER_LOGIN 5
#define WEB_SIGN_IN_FAILURES_PER_ADDRESS 20
#define WEB_SIGN_IN_WINDOW_SECONDS (15 * 60)

/* Finds the session of the request's cookie and fills r->user and
 * r->csrf; DALA_ESESSION if there is none or it expired. */
int web_session_load(web_request *r);

/* --- scope (web_scope.c) ------------------------------------------------ */

/* The SQL of the units in the user's subtree, as a CTE named `scope`;
 * it takes the user's unit as parameter ?1. */
#define WEB_SCOPE_CTE                                                                  \
    "WITH RECURSIVE scope(id) AS (SELECT ?1 UNION ALL "                                 \
    "SELECT o.id FROM org_unit o JOIN scope ON o.parent_id = scope.id) "

/* Whether unit `unit_id` is in the user's subtree. */
int web_unit_in_scope(int *out, web_request *r, int64_t unit_id);
/* Loads record `id_text` if the user may read it: its table, unit and
 * blob (decoded into `record`). DALA_ENOTFOUND for a record that does
 * not exist or is out of scope alike. */
int web_record_load(char table[64], int64_t *unit_id, dala_record *record, web_request *r, const char *id_text,
                    uint8_t id[DALA_UUID_BYTES]);
/* A unit's name in the request's language. */
void web_unit_name(char *out, size_t size, web_request *r, int64_t unit_id);

/* --- labels of the pages (web_meta.c) ------------------------------------ */

/* The label of a review state ("pending", "returned", "corrected",
 * "approved") in `lang`; NULL for anything else. */
const char *web_state_label(const char *state, const char *lang);

/* The quarterly report notes due around a date: the quarter whose notes
 * are due next (until the 10th of a quarter's first month, the quarter
 * just ended), the units' day (the 5th) and the departments' (the 10th) of
 * the month after it, and the days left until each (negative: overdue). */
typedef struct web_deadlines {
    int year, quarter;
    char unit_due[16], department_due[16];
    int unit_days_left, department_days_left;
} web_deadlines;

void web_report_deadlines(web_deadlines *out, int year, int month, int day);

/* One CSV cell (web_records.c): quoted, quotes doubled, and a leading
 * = + - @ made inert so a spreadsheet does not run it as a formula; ends
 * the row when `is_last`. */
int web_csv_cell(dala_buf *out, const char *text, size_t len, int is_last);

/* --- audit (web_audit.c) ------------------------------------------------ */

/* Adds one audit entry: `action` by the signed-in user (0 if none), about
 * `unit_id` (0: none) and record `record_id` (NULL: none). */
int web_audit(web_request *r, const char *action, int64_t unit_id, const uint8_t *record_id, const char *detail);

/* --- routes ------------------------------------------------------------- */

int web_route_session(web_request *r);
int web_route_meta(web_request *r);
int web_route_dashboard(web_request *r);
int web_route_records(web_request *r);
int web_route_records_csv(web_request *r);
int web_route_record(web_request *r, const char *id);
int web_route_review(web_request *r, const char *id);
int web_route_settle(web_request *r, const char *id);
int web_route_devices(web_request *r);
int web_route_revoke(web_request *r, const char *id);
int web_route_device_lost(web_request *r, const char *id);
int web_route_enrol_code(web_request *r);
int web_route_users(web_request *r);
/* users/{id}, users/{id}/disable, users/{id}/enable, users/{id}/password. */
int web_route_user(web_request *r, const char *rest);
int web_route_audit(web_request *r);

/* --- the pages' files (web_assets.c, generated by scripts/embed-assets.sh) */

typedef struct web_asset {
    const char *name;         /* "app.js"; index.html is also served at "/" */
    const char *content_type;
    const char *data;
    const size_t *len;
} web_asset;

extern const web_asset web_assets[];
extern const size_t web_asset_count;

/* The CivetWeb handlers: the API under /v1/ and the pages' assets. */
int route_web_api(struct mg_connection *conn, void *server);
int route_web_asset(struct mg_connection *conn, void *server);

#endif /* DALA_WEB_INT_H */
