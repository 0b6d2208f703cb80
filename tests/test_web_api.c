/* test_web_api.c - the supervisors' API (docs/web-api.md) against the real
 * dala-server on 127.0.0.1:0, with records written by enrolled tablets
 * through the SDK: sign-in, sessions and CSRF tokens; every route for
 * every role; scope (a record of another department answered exactly like
 * one that does not exist); the lists' filters, Kazakh search and paging;
 * a record's page (labels, history, the audit of sensitive reads, links);
 * returns, approvals and settled conflicts reaching the tablets; revoking;
 * the CSV export; the dashboard and the report deadlines; bad input; and
 * an access log without names, IINs or passwords. */
#include "e2e_support.h"
#include "supervisor.h"
#include "testhelp.h"
#include "web_client.h"
#include "web_int.h" /* web_report_deadlines */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PASSWORD "Dala-test-2026"
#define SURNAME "Әбілқасымова"
#define IIN "900514440018"
#define ID_BYTES DALA_ID_TEXT_BYTES

/* ------------------------------------------------------------ JSON reads */

/* The shared reads (sql_text, count_of, count_where, member_where,
 * CHECK_JSON, CHECK_MEMBER, url_encode) are in e2e_support.h. */

/* The records of a list answer are exactly `ids` (any order). */
static void check_list(const char *file, int line, const char *json, const char *const *ids, size_t count)
{
    long long listed = count_of(json, "$.records");
    if (listed != (long long)count)
        test_fail(file, line, "the list holds %lld records, expected %zu: %.600s", listed, count, json ? json : "");
    for (size_t i = 0; i < count; i++)
        if (count_where(json, "$.records", "id", ids[i]) != 1)
            test_fail(file, line, "record %zu (%s) is not listed once", i, ids[i]);
}

#define CHECK_LIST(json, ...) check_list(__FILE__, __LINE__, (json), STRINGS(__VA_ARGS__))
#define CHECK_LIST_EMPTY(json) CHECK_EQ_INT(count_of((json), "$.records"), 0)

/* --------------------------------------------------- the central database */

static void central_exec(const harness *h, const char *sql)
{
    sqlite3 *db = central_open(h);
    char *error = NULL;
    if (db && sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK)
        test_fail(__FILE__, __LINE__, "%s: %s", sql, error ? error : "failed");
    sqlite3_free(error);
    sqlite3_close(db);
}

/* Everything a change could touch: records (with their log positions,
 * review states and conflict statuses), users, codes, revocations and the
 * audit trail; malloc'd text to compare before and after. */
static char *server_state(const harness *h)
{
    return central_text(h, "SELECT (SELECT count(*) || ':' || coalesce(sum(seq), 0) || ':' || "
                           "group_concat(review_state || coalesce(status, ''), ',') FROM record) || '|' || "
                           "(SELECT count(*) FROM app_user) || '|' || (SELECT count(*) FROM enrol_code) || '|' || "
                           "(SELECT count(*) FROM device WHERE revoked_at IS NOT NULL) || '|' || "
                           "(SELECT count(*) FROM audit)", 0);
}

/* The review state the server keeps for record `id`. */
static char *central_state(const harness *h, const char *id)
{
    char sql[200];
    uint8_t uuid[DALA_UUID_BYTES];
    CHECK_OK(dala_uuid_parse(uuid, id));
    char hex[2 * DALA_UUID_BYTES + 1];
    for (int i = 0; i < DALA_UUID_BYTES; i++) snprintf(hex + 2 * i, 3, "%02x", uuid[i]);
    snprintf(sql, sizeof sql, "SELECT review_state FROM record WHERE lower(hex(id)) = '%s'", hex);
    return central_text(h, sql, 0);
}

/* ------------------------------------------------------------- the world */

/* The server with pd-astana's units A and B (server_harness.c) and a unit
 * of pd-almaty-city; a tablet of each officer; records on them; and one
 * open conflict: both tablets of unit A changed visit_a1's risk level. */
typedef struct world {
    harness h;
    int64_t astana, almaty;
    api_tablets t; /* a1, a2, b1, almaty1 (officer_a's, officer_a2's, officer_b's, Almaty's), Almaty's unit */
    char visit_a1[ID_BYTES], visit_a2[ID_BYTES], visit_b1[ID_BYTES], visit_almaty[ID_BYTES];
    char person[ID_BYTES];   /* SURNAME with IIN, on a1 */
    char conflict[ID_BYTES]; /* about visit_a1's risk_level */
    char winner[16], loser[16];
} world;

static void put_visit(char id[ID_BYTES], dala_store *tablet, const char *date, const char *risk)
{
    char json[200];
    snprintf(json, sizeof json, "{\"visit_date\": \"%s\", \"purpose\": \"preventive_visit\", \"risk_level\": \"%s\"}",
             date, risk);
    CHECK_OK(dala_record_put(id, tablet, "field_visit", NULL, json));
}

/* A victim with `last_name`, the suite's IIN and, if not NULL, `notes`
 * (neither may need JSON escapes). */
static void put_person(char id[ID_BYTES], dala_store *tablet, const char *last_name, const char *notes)
{
    char json[400];
    snprintf(json, sizeof json,
             "{\"role\": \"victim\", \"last_name\": \"%s\", \"first_name\": \"Әсел\", \"sex\": \"female\", "
             "\"birth_date\": \"1990-05-14\", \"iin\": \"" IIN "\"%s%s%s}",
             last_name, notes ? ", \"notes\": \"" : "", notes ? notes : "", notes ? "\"" : "");
    CHECK_OK(dala_record_put(id, tablet, "person", NULL, json));
}

static void set_field(dala_store *tablet, const char *table, const char *id, const char *json)
{
    CHECK_OK(dala_record_put(NULL, tablet, table, id, json));
}

static int64_t device_of(dala_store *tablet)
{
    return (int64_t)device_status(tablet).device_id;
}

/* The id of the one conflict record on the server. */
static void find_conflict(char out[ID_BYTES], const harness *h)
{
    char *hex = central_text(h, "SELECT hex(id) FROM record WHERE tbl = 'conflict'", 0);
    uint8_t id[DALA_UUID_BYTES];
    out[0] = '\0';
    CHECK(hex != NULL && strlen(hex) == 2 * DALA_UUID_BYTES);
    if (hex && strlen(hex) == 2 * DALA_UUID_BYTES) {
        for (int i = 0; i < DALA_UUID_BYTES; i++) {
            unsigned byte;
            sscanf(hex + 2 * i, "%2x", &byte);
            id[i] = (uint8_t)byte;
        }
        dala_uuid_format(out, id);
    }
    free(hex);
}

/* Starts the server again with an access log at `log_path`. */
static int restart_logged(harness *h, const char *log_path)
{
    harness_stop(h);
    dala_server_options options;
    char listen[32];
    harness_options(&options, listen, h);
    options.quiet = 0;
    options.access_log = log_path;
    int rc = harness_start_with(h, &options);
    CHECK_OK(rc);
    return rc;
}

static void world_stop(world *w)
{
    api_tablets_close(&w->t);
    e2e_stop(&w->h);
}

/* Builds the world; `log_path` (may be NULL) gets the access log. Returns
 * 0, or -1 (after failed checks, with everything stopped). */
static int world_start(world *w, const char *log_path)
{
    memset(w, 0, sizeof *w);
    if (harness_start(&w->h, 0)) return -1;
    if (log_path && restart_logged(&w->h, log_path)) return -1;
    w->astana = central_unit_find(&w->h, "pd-astana");
    w->almaty = central_unit_find(&w->h, "pd-almaty-city");
    if (!w->astana || !w->almaty || api_tablets_open(&w->t, &w->h)) {
        world_stop(w);
        return -1;
    }
    put_visit(w->visit_a1, w->t.a1, "2026-10-01", "low");
    put_person(w->person, w->t.a1, SURNAME, NULL);
    put_visit(w->visit_a2, w->t.a2, "2026-10-05", "low");
    put_visit(w->visit_b1, w->t.b1, "2026-10-03", "high");
    put_visit(w->visit_almaty, w->t.almaty1, "2026-10-04", "high");
    sync_ok(w->t.a1);
    sync_ok(w->t.a2);
    sync_ok(w->t.b1);
    sync_ok(w->t.almaty1);
    /* Both tablets of unit A change visit_a1's risk level while offline. */
    set_field(w->t.a1, "field_visit", w->visit_a1, "{\"risk_level\": \"high\"}");
    set_field(w->t.a2, "field_visit", w->visit_a1, "{\"risk_level\": \"medium\"}");
    for (int round = 0; round < 2; round++) {
        sync_ok(w->t.a1);
        sync_ok(w->t.a2);
    }
    char *winner = central_field(&w->h, w->visit_a1, "risk_level");
    CHECK(winner && (strcmp(winner, "high") == 0 || strcmp(winner, "medium") == 0));
    snprintf(w->winner, sizeof w->winner, "%s", winner ? winner : "");
    snprintf(w->loser, sizeof w->loser, "%s", winner && strcmp(winner, "high") == 0 ? "medium" : "high");
    free(winner);
    find_conflict(w->conflict, &w->h);
    return w->conflict[0] ? 0 : (world_stop(w), -1);
}

/* ------------------------------------------------------------- the people */

/* Gives user `login` the suite's password and signs them in
 * (supervisor.h: the password is hashed once and copied). */
static web_login as_user(world *w, const char *login)
{
    return supervisor_sign_in_as(&w->h, login, PASSWORD);
}

static web_login as_new_user(world *w, const char *login, const char *role, int64_t unit)
{
    central_user_add(&w->h, login, role, unit);
    return as_user(w, login);
}

/* ----------------------------------------------------------- route tables */

/* One request and the status it must get. */
typedef struct call {
    const char *method;
    char path[200];
    const char *body; /* JSON; NULL: none */
    int want;
} call;

static call call_of(const char *method, int want, const char *body, const char *path_format, ...)
    __attribute__((format(printf, 4, 5)));

static call call_of(const char *method, int want, const char *body, const char *path_format, ...)
{
    call c = {method, "", body, want};
    va_list args;
    va_start(args, path_format);
    vsnprintf(c.path, sizeof c.path, path_format, args);
    va_end(args);
    return c;
}

static void check_calls(const char *file, int line, world *w, const web_login *who, const call *calls, size_t count)
{
    web_answer a = WEB_ANSWER_INIT;
    for (size_t i = 0; i < count; i++) {
        const call *c = &calls[i];
        int got = web_call(&a, w->h.port, c->method, c->path, who, c->body ? "application/json" : NULL, c->body,
                           c->body ? strlen(c->body) : 0);
        if (got != c->want)
            test_fail(file, line, "%s %s answered %d, expected %d: %.300s", c->method, c->path, got, c->want,
                      a.body ? a.body : "");
    }
    web_answer_free(&a);
}

#define CHECK_CALLS(w, who, calls) check_calls(__FILE__, __LINE__, (w), (who), (calls), sizeof(calls) / sizeof((calls)[0]))

static char enrol_body[64], user_body[256];

/* The bodies of POST /v1/enrol-codes and POST /v1/users for world `w`. */
static void make_bodies(world *w)
{
    snprintf(enrol_body, sizeof enrol_body, "{\"user_id\": %lld}", (long long)w->h.officer_a);
    snprintf(user_body, sizeof user_body,
             "{\"login\": \"s.amanova\", \"full_name\": \"Салтанат Аманова\", \"role\": \"inspector\", "
             "\"unit_id\": %lld, \"password\": \"Long-enough-1\"}",
             (long long)w->h.unit_a);
}

/* ================================================================ sessions */

static void test_web_api_sign_in_sets_a_strict_http_only_cookie_and_a_csrf_token(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/session", NULL, "{\"login\": \"head.a\", \"password\": \"" PASSWORD "\"}"),
                 200);
    char cookie[256];
    CHECK(web_header(cookie, sizeof cookie, &a, "Set-Cookie"));
    CHECK(strncmp(cookie, "dala_session=", 13) == 0);
    CHECK_CONTAINS(cookie, "HttpOnly");
    CHECK_CONTAINS(cookie, "SameSite=Strict");
    CHECK_CONTAINS(cookie, "Path=/");
    char *csrf = json_get(a.body, "$.csrf"), *expires = json_get(a.body, "$.expires_at");
    CHECK(csrf && strlen(csrf) >= 32);
    long long left = expires ? atoll(expires) - (long long)time(NULL) : 0;
    CHECK(left > WEB_SESSION_MAX_SECONDS - 60 && left <= WEB_SESSION_MAX_SECONDS);
    CHECK_JSON(a.body, "$.user.login", "head.a");
    CHECK_JSON(a.body, "$.user.role", "unit_head");
    /* The page reads its token back after a reload. */
    web_login again = {"", ""};
    snprintf(again.cookie, sizeof again.cookie, "%.*s", (int)strcspn(cookie, ";"), cookie);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/session", &again), 200);
    CHECK_JSON(a.body, "$.csrf", csrf);
    CHECK_JSON(a.body, "$.expires_at", expires);
    CHECK_JSON(a.body, "$.user.login", "head.a");
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/session", &who), 200); /* the first session lives on */
    CHECK_JSON(a.body, "$.csrf", who.csrf);
    free(csrf);
    free(expires);
    web_answer_free(&a);
    world_stop(&w);
}

static void test_web_api_wrong_password_and_unknown_login_get_the_same_401(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    central_user_add(&w.h, "head.a", "unit_head", w.h.unit_a);
    as_user(&w, "head.a");
    web_answer wrong = WEB_ANSWER_INIT, unknown = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_post(&wrong, w.h.port, "/v1/session", NULL, "{\"login\": \"head.a\", \"password\": \"Not-the-one-1\"}"),
                 401);
    CHECK_EQ_INT(web_post(&unknown, w.h.port, "/v1/session", NULL,
                          "{\"login\": \"nobody.here\", \"password\": \"Not-the-one-1\"}"),
                 401);
    CHECK_EQ_STR(wrong.body, unknown.body); /* nothing tells which was wrong */
    char cookie[128];
    CHECK(!web_header(cookie, sizeof cookie, &wrong, "Set-Cookie"));
    CHECK_JSON(wrong.body, "$.code", "EAUTH");
    web_answer_free(&wrong);
    web_answer_free(&unknown);
    world_stop(&w);
}

static void test_web_api_five_failed_sign_ins_block_the_login_even_with_the_right_password(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    central_user_add(&w.h, "head.a", "unit_head", w.h.unit_a);
    central_user_add(&w.h, "head.b", "unit_head", w.h.unit_b);
    web_login who = as_user(&w, "head.a");
    for (int i = 0; i < WEB_SIGN_IN_FAILURES_PER_LOGIN; i++)
        CHECK_EQ_INT(web_sign_in(&who, w.h.port, "head.a", "Not-the-one-1"), 401);
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/session", NULL, "{\"login\": \"head.a\", \"password\": \"" PASSWORD "\"}"),
                 429);
    char retry[32], cookie[128];
    CHECK(web_header(retry, sizeof retry, &a, "Retry-After"));
    CHECK(atoi(retry) > 0 && atoi(retry) <= WEB_SIGN_IN_WINDOW_SECONDS);
    CHECK(!web_header(cookie, sizeof cookie, &a, "Set-Cookie"));
    as_user(&w, "head.b"); /* another login still signs in */
    web_answer_free(&a);
    world_stop(&w);
}

static void test_web_api_twenty_failed_sign_ins_from_one_address_block_it(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_login who;
    char login[32];
    /* Four guesses each at five logins: no login reaches its own limit. */
    for (int i = 0; i < WEB_SIGN_IN_FAILURES_PER_ADDRESS; i++) {
        snprintf(login, sizeof login, "guess.%d", i / 4);
        CHECK_EQ_INT(web_sign_in(&who, w.h.port, login, "Not-the-one-1"), 401);
    }
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/session", NULL, "{\"login\": \"head.a\", \"password\": \"" PASSWORD "\"}"),
                 429);
    char retry[32];
    CHECK(web_header(retry, sizeof retry, &a, "Retry-After") && atoi(retry) > 0);
    web_answer_free(&a);
    world_stop(&w);
}

static void test_web_api_failed_sign_ins_show_in_the_audit_of_the_logins_unit(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login head = as_new_user(&w, "head.a", "unit_head", w.h.unit_a), guess;
    web_login almaty = as_new_user(&w, "almaty.deputy", "deputy", w.almaty);
    web_login admin = as_new_user(&w, "admin", "admin", w.astana);
    CHECK_EQ_INT(web_sign_in(&guess, w.h.port, "a.nurlanova", "Not-the-one-1"), 401);
    CHECK_EQ_INT(web_sign_in(&guess, w.h.port, "nobody.here", "Not-the-one-1"), 401);
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/audit", &head), 200);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "action", "sign_in_failed"), 1);
    CHECK_MEMBER(a.body, "$.entries", "action", "sign_in_failed", "detail", "a.nurlanova");
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/audit", &almaty), 200);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "action", "sign_in_failed"), 0);
    /* A login nobody has is shown to administrators, without the text typed
     * (it may be a password typed in the wrong box). */
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/audit", &admin), 200);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "action", "sign_in_failed"), 2);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "detail", "nobody.here"), 0);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "detail", "unknown login"), 1);
    web_answer_free(&a);
    world_stop(&w);
}

static void test_web_api_sign_out_needs_the_csrf_token_and_ends_the_session(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    central_user_add(&w.h, "head.a", "unit_head", w.h.unit_a);
    web_login who = as_user(&w, "head.a"), no_token = who;
    no_token.csrf[0] = '\0';
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/session", NULL), 401);
    CHECK_EQ_INT(web_delete(&a, w.h.port, "/v1/session", &no_token), 403);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/session", &who), 200); /* still signed in */
    CHECK_EQ_INT(web_delete(&a, w.h.port, "/v1/session", &who), 200);
    CHECK_JSON(a.body, "$.signed_out", "1");
    char cookie[128];
    CHECK(web_header(cookie, sizeof cookie, &a, "Set-Cookie"));
    CHECK_CONTAINS(cookie, "Max-Age=0");
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/session", &who), 401);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records", &who), 401);
    web_answer_free(&a);
    world_stop(&w);
}

static void test_web_api_session_ends_after_30_idle_minutes_or_8_hours(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    central_exec(&w.h, "UPDATE web_session SET seen_at = seen_at - 29 * 60");
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records", &who), 200);
    /* That request restarted the idle clock: 58 minutes after sign-in. */
    central_exec(&w.h, "UPDATE web_session SET seen_at = seen_at - 29 * 60");
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records", &who), 200);
    central_exec(&w.h, "UPDATE web_session SET seen_at = seen_at - 31 * 60");
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records", &who), 401);
    who = as_user(&w, "head.a");
    central_exec(&w.h, "UPDATE web_session SET created_at = created_at - 8 * 3600 - 1");
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records", &who), 401);
    web_answer_free(&a);
    world_stop(&w);
}

/* ==================================================== CSRF and no session */

static void test_web_api_changes_without_the_right_csrf_token_are_refused_and_change_nothing(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    make_bodies(&w);
    central_user_add(&w.h, "head.a", "unit_head", w.h.unit_a);
    central_user_add(&w.h, "admin", "admin", w.astana);
    web_login head = as_user(&w, "head.a"), admin = as_user(&w, "admin");
    call head_calls[] = {
        call_of("POST", 0, "{\"decision\": \"approve\"}", "/v1/records/%s/review", w.visit_a2),
        call_of("POST", 0, "{\"keep\": \"loser\"}", "/v1/conflicts/%s/settle", w.conflict),
        call_of("POST", 0, NULL, "/v1/devices/%lld/revoke", (long long)device_of(w.t.a2)),
        call_of("DELETE", 0, NULL, "/v1/session"),
    };
    call admin_calls[] = {
        call_of("POST", 0, enrol_body, "/v1/enrol-codes"),
        call_of("POST", 0, user_body, "/v1/users"),
    };
    char *before = server_state(&w.h);
    web_login forged[] = {head, head, head, admin, admin, admin};
    forged[0].csrf[0] = forged[3].csrf[0] = '\0';                                    /* no header */
    snprintf(forged[1].csrf, sizeof forged[1].csrf, "%064d", 0);                    /* a made-up token */
    snprintf(forged[4].csrf, sizeof forged[4].csrf, "%064d", 0);
    memcpy(forged[2].csrf, admin.csrf, sizeof admin.csrf);                           /* another session's */
    memcpy(forged[5].csrf, head.csrf, sizeof head.csrf);
    for (size_t i = 0; i < 3; i++) {
        for (size_t c = 0; c < 4; c++) head_calls[c].want = 403;
        for (size_t c = 0; c < 2; c++) admin_calls[c].want = 403;
        CHECK_CALLS(&w, &forged[i], head_calls);
        CHECK_CALLS(&w, &forged[3 + i], admin_calls);
    }
    char *after = server_state(&w.h);
    CHECK_EQ_STR(after, before);
    /* With the right token the same requests go through. */
    for (size_t c = 0; c < 4; c++) head_calls[c].want = 200;
    for (size_t c = 0; c < 2; c++) admin_calls[c].want = 200;
    CHECK_CALLS(&w, &head, head_calls);
    CHECK_CALLS(&w, &admin, admin_calls);
    free(before);
    free(after);
    world_stop(&w);
}

static void test_web_api_every_route_without_a_session_answers_401(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    make_bodies(&w);
    central_user_add(&w.h, "head.a", "unit_head", w.h.unit_a);
    web_login who = as_user(&w, "head.a"), made_up = who;
    memset(made_up.cookie + strlen("dala_session="), 'a', 64);
    call calls[] = {
        call_of("GET", 401, NULL, "/v1/session"),
        call_of("GET", 401, NULL, "/v1/meta"),
        call_of("GET", 401, NULL, "/v1/dashboard"),
        call_of("GET", 401, NULL, "/v1/records"),
        call_of("GET", 401, NULL, "/v1/records.csv?table=person"),
        call_of("GET", 401, NULL, "/v1/records/%s", w.person),
        call_of("GET", 401, NULL, "/v1/devices"),
        call_of("GET", 401, NULL, "/v1/users"),
        call_of("GET", 401, NULL, "/v1/audit"),
        call_of("POST", 401, "{\"decision\": \"approve\"}", "/v1/records/%s/review", w.visit_a2),
        call_of("POST", 401, "{\"keep\": \"loser\"}", "/v1/conflicts/%s/settle", w.conflict),
        call_of("POST", 401, NULL, "/v1/devices/%lld/revoke", (long long)device_of(w.t.a1)),
        call_of("POST", 401, enrol_body, "/v1/enrol-codes"),
        call_of("POST", 401, user_body, "/v1/users"),
        call_of("DELETE", 401, NULL, "/v1/session"),
    };
    char *before = server_state(&w.h);
    CHECK_CALLS(&w, NULL, calls);
    CHECK_CALLS(&w, &made_up, calls); /* a cookie of no session is no better */
    char *after = server_state(&w.h);
    CHECK_EQ_STR(after, before);
    free(before);
    free(after);
    world_stop(&w);
}

/* =================================================================== roles */

static void test_web_api_inspector_sees_only_records_from_their_own_tablets(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login who = as_user(&w, "a.nurlanova"); /* officer_a, tablet a1 */
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records", &who), 200);
    CHECK_LIST(a.body, w.visit_a1, w.person); /* not visit_a2, which her colleague wrote */
    char path[128];
    snprintf(path, sizeof path, "/v1/records/%s", w.visit_a2);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 404);
    snprintf(path, sizeof path, "/v1/records/%s", w.visit_a1);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 200);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records.csv?table=field_visit", &who), 200);
    CHECK(strstr(a.body, w.visit_a1) && !strstr(a.body, w.visit_a2));
    snprintf(path, sizeof path, "/v1/records?officer=%lld", (long long)w.h.officer_a2);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 200);
    CHECK_LIST_EMPTY(a.body);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/dashboard", &who), 200);
    CHECK_EQ_INT(int_of_text(SQL_TEXT("SELECT sum(json_extract(value, '$.pending')) FROM json_each(?1, '$.counts')", a.body)),
                 2);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/meta", &who), 200);
    CHECK_EQ_INT(count_of(a.body, "$.officers"), 1);
    CHECK_JSON(a.body, "$.officers[0].full_name", "Aigul Nurlanova");
    web_answer_free(&a);
    world_stop(&w);
}

static void test_web_api_inspector_may_not_decide_manage_devices_read_audit_or_users(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    make_bodies(&w);
    web_login who = as_user(&w, "a.nurlanova");
    call calls[] = {
        call_of("GET", 200, NULL, "/v1/session"),
        call_of("GET", 200, NULL, "/v1/meta"),
        call_of("GET", 200, NULL, "/v1/dashboard"),
        call_of("POST", 403, "{\"decision\": \"approve\"}", "/v1/records/%s/review", w.visit_a1),
        call_of("POST", 403, "{\"keep\": \"loser\"}", "/v1/conflicts/%s/settle", w.conflict),
        call_of("GET", 403, NULL, "/v1/devices"),
        call_of("POST", 403, NULL, "/v1/devices/%lld/revoke", (long long)device_of(w.t.a1)),
        call_of("POST", 403, enrol_body, "/v1/enrol-codes"),
        call_of("GET", 403, NULL, "/v1/users"),
        call_of("POST", 403, user_body, "/v1/users"),
        call_of("GET", 403, NULL, "/v1/audit"),
    };
    char *before = server_state(&w.h);
    CHECK_CALLS(&w, &who, calls);
    char *after = server_state(&w.h);
    CHECK_EQ_STR(after, before);
    free(before);
    free(after);
    world_stop(&w);
}

static void test_web_api_unit_head_sees_their_units_subtree_only(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records", &who), 200);
    CHECK_LIST(a.body, w.visit_a1, w.visit_a2, w.person);
    char path[128], device[24];
    snprintf(path, sizeof path, "/v1/records/%s", w.visit_b1);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 404);
    snprintf(path, sizeof path, "/v1/records?unit=%lld", (long long)w.h.unit_b);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 404);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/devices", &who), 200);
    CHECK_EQ_INT(count_of(a.body, "$.devices"), 2);
    snprintf(device, sizeof device, "%lld", (long long)device_of(w.t.a2));
    CHECK_EQ_INT(count_where(a.body, "$.devices", "id", device), 1);
    snprintf(path, sizeof path, "/v1/devices/%lld/revoke", (long long)device_of(w.t.b1));
    CHECK_EQ_INT(web_post(&a, w.h.port, path, &who, NULL), 404);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/meta", &who), 200);
    CHECK_EQ_INT(count_of(a.body, "$.units"), 1);
    CHECK_EQ_INT(count_of(a.body, "$.officers"), 2);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/audit", &who), 200);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/users", &who), 403);
    /* A deputy of the department sees both units. */
    web_login deputy = as_new_user(&w, "deputy", "deputy", w.astana);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records", &deputy), 200);
    CHECK_LIST(a.body, w.visit_a1, w.visit_a2, w.visit_b1, w.person);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/meta", &deputy), 200);
    CHECK_EQ_INT(count_of(a.body, "$.units"), 4); /* the department, the body, units A and B */
    CHECK_JSON(a.body, "$.units[0].depth", "0");
    CHECK_EQ_INT(count_of(a.body, "$.officers"), 3);
    web_answer_free(&a);
    world_stop(&w);
}

static void test_web_api_analyst_reads_but_may_not_decide(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    make_bodies(&w);
    web_login who = as_new_user(&w, "analyst", "analyst", w.astana);
    call calls[] = {
        call_of("GET", 200, NULL, "/v1/records"),
        call_of("GET", 200, NULL, "/v1/records.csv?table=field_visit"),
        call_of("GET", 200, NULL, "/v1/records/%s", w.visit_b1),
        call_of("GET", 200, NULL, "/v1/audit"),
        call_of("POST", 403, "{\"decision\": \"approve\"}", "/v1/records/%s/review", w.visit_a1),
        call_of("POST", 403, "{\"decision\": \"return\", \"comment\": \"Толтырыңыз\"}", "/v1/records/%s/review",
                w.visit_a1),
        call_of("POST", 403, "{\"keep\": \"loser\"}", "/v1/conflicts/%s/settle", w.conflict),
        call_of("GET", 403, NULL, "/v1/devices"),
        call_of("POST", 403, NULL, "/v1/devices/%lld/revoke", (long long)device_of(w.t.a1)),
        call_of("POST", 403, enrol_body, "/v1/enrol-codes"),
        call_of("GET", 403, NULL, "/v1/users"),
        call_of("POST", 403, user_body, "/v1/users"),
    };
    CHECK_CALLS(&w, &who, calls);
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records", &who), 200);
    CHECK_LIST(a.body, w.visit_a1, w.visit_a2, w.visit_b1, w.person);
    web_answer_free(&a);
    char *state = central_state(&w.h, w.visit_a1);
    CHECK_EQ_STR(state, "pending");
    free(state);
    world_stop(&w);
}

static void test_web_api_admin_manages_devices_and_users_but_reads_no_records(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    make_bodies(&w);
    web_login who = as_new_user(&w, "admin", "admin", w.astana);
    call calls[] = {
        call_of("GET", 403, NULL, "/v1/records"),
        call_of("GET", 403, NULL, "/v1/records.csv?table=person"),
        call_of("GET", 403, NULL, "/v1/records/%s", w.person),
        call_of("POST", 403, "{\"decision\": \"approve\"}", "/v1/records/%s/review", w.visit_a1),
        call_of("POST", 403, "{\"keep\": \"loser\"}", "/v1/conflicts/%s/settle", w.conflict),
        call_of("GET", 200, NULL, "/v1/audit"),
        call_of("POST", 400, NULL, "/v1/users"), /* no body */
        call_of("POST", 400, NULL, "/v1/enrol-codes"),
    };
    CHECK_CALLS(&w, &who, calls);
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/devices", &who), 200);
    CHECK_EQ_INT(count_of(a.body, "$.devices"), 3); /* pd-astana's, not Almaty's */
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/users", &who), 200);
    CHECK_EQ_INT(count_where(a.body, "$.users", "login", "a.nurlanova"), 1);
    CHECK_EQ_INT(count_where(a.body, "$.users", "login", "g.omarova"), 0);
    CHECK(!strstr(a.body, "password"));
    /* A user the administrator adds can sign in. */
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/users", &who, user_body), 200);
    char *id = json_get(a.body, "$.id");
    CHECK(id && atoll(id) > 0);
    free(id);
    web_login added;
    CHECK_EQ_INT(web_sign_in(&added, w.h.port, "s.amanova", "Long-enough-1"), 200);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/session", &added), 200);
    CHECK_JSON(a.body, "$.user.role", "inspector");
    CHECK_JSON(a.body, "$.user.full_name", "Салтанат Аманова");
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/users", &who, user_body), 409); /* the login is taken */
    char body[256];
    snprintf(body, sizeof body,
             "{\"login\": \"short.pw\", \"full_name\": \"X\", \"role\": \"inspector\", \"unit_id\": %lld, "
             "\"password\": \"123456789\"}", (long long)w.h.unit_a);
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/users", &who, body), 400);
    snprintf(body, sizeof body,
             "{\"login\": \"boss\", \"full_name\": \"X\", \"role\": \"boss\", \"unit_id\": %lld, "
             "\"password\": \"Long-enough-1\"}", (long long)w.h.unit_a);
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/users", &who, body), 400);
    snprintf(body, sizeof body,
             "{\"login\": \"elsewhere\", \"full_name\": \"X\", \"role\": \"inspector\", \"unit_id\": %lld, "
             "\"password\": \"Long-enough-1\"}", (long long)w.t.almaty_unit);
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/users", &who, body), 404);
    web_answer_free(&a);
    world_stop(&w);
}

static int is_code(const char *code)
{
    if (!code || strlen(code) != 14) return 0;
    for (int i = 0; i < 14; i++)
        if (i % 5 == 4 ? code[i] != '-' : !(isupper((unsigned char)code[i]) || isdigit((unsigned char)code[i])))
            return 0;
    return 1;
}

static void test_web_api_enrolment_code_from_the_admin_enrols_a_tablet(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login who = as_new_user(&w, "admin", "admin", w.astana);
    web_answer a = WEB_ANSWER_INIT;
    char body[64], path[600];
    snprintf(body, sizeof body, "{\"user_id\": %lld}", (long long)w.h.officer_b);
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/enrol-codes", &who, body), 200);
    char *code = json_get(a.body, "$.code"), *svg = json_get(a.body, "$.qr_svg"), *expires = json_get(a.body, "$.expires_at");
    CHECK(is_code(code));
    CHECK(svg && strncmp(svg, "<svg", 4) == 0);
    long long left = expires ? atoll(expires) - (long long)time(NULL) : 0;
    CHECK(left > 14 * 60 && left <= 15 * 60);
    dala_store *tablet = NULL, *second = NULL;
    snprintf(path, sizeof path, "%s/new.db", w.h.dir);
    CHECK_OK(dala_store_open(&tablet, path));
    if (tablet && code) {
        CHECK_OK(dala_store_enroll(tablet, w.h.url, code, NULL));
        CHECK_EQ_U64(device_status(tablet).unit_id, (uint64_t)w.h.unit_b);
        sync_ok(tablet);
        snprintf(path, sizeof path, "%s/second.db", w.h.dir);
        CHECK_OK(dala_store_open(&second, path));
        if (second) CHECK(dala_store_enroll(second, w.h.url, code, NULL) != DALA_OK); /* single use */
        CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/devices", &who), 200);
        char device[24];
        snprintf(device, sizeof device, "%lld", (long long)device_of(tablet));
        CHECK_MEMBER(a.body, "$.devices", "id", device, "officer", "Marina Ivanova");
    }
    dala_store_close(tablet);
    dala_store_close(second);
    free(code);
    free(svg);
    free(expires);
    snprintf(body, sizeof body, "{\"user_id\": %lld}", (long long)w.t.almaty_officer);
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/enrol-codes", &who, body), 404);
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/enrol-codes", &who, "{\"user_id\": \"5\"}"), 400);
    web_answer_free(&a);
    world_stop(&w);
}

/* =================================================================== scope */

static void test_web_api_another_departments_supervisor_gets_404_and_sees_nothing_of_it(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    central_user_add(&w.h, "almaty.deputy", "deputy", w.almaty);
    central_user_add(&w.h, "astana.deputy", "deputy", w.astana);
    web_login who = as_user(&w, "almaty.deputy"), astana = as_user(&w, "astana.deputy");
    web_answer a = WEB_ANSWER_INIT, none = WEB_ANSWER_INIT;
    char path[200];
    const char *missing = "0190f0c2-0000-7000-8000-000000000000";
    char *before = server_state(&w.h);
    /* A record, its review and a conflict about it: as if they did not exist. */
    const char *const routes[][3] = {{"GET", "/v1/records/", ""},
                                     {"POST", "/v1/records/", "/review"},
                                     {"POST", "/v1/conflicts/", "/settle"}};
    const char *bodies[] = {NULL, "{\"decision\": \"approve\"}", "{\"keep\": \"loser\"}"};
    const char *ids[] = {w.person, w.person, w.conflict};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s%s", routes[i][1], ids[i], routes[i][2]);
        int status = web_call(&a, w.h.port, routes[i][0], path, &who, bodies[i] ? "application/json" : NULL, bodies[i],
                              bodies[i] ? strlen(bodies[i]) : 0);
        CHECK_EQ_INT(status, 404);
        CHECK(a.body && !strstr(a.body, SURNAME) && !strstr(a.body, IIN) && !strstr(a.body, "person"));
        snprintf(path, sizeof path, "%s%s%s", routes[i][1], missing, routes[i][2]);
        web_call(&none, w.h.port, routes[i][0], path, &who, bodies[i] ? "application/json" : NULL, bodies[i],
                 bodies[i] ? strlen(bodies[i]) : 0);
        CHECK_EQ_INT(none.status, 404);
        CHECK_EQ_STR(a.body, none.body);
    }
    /* Devices: another department's, one never made, and not a number. */
    snprintf(path, sizeof path, "/v1/devices/%lld/revoke", (long long)device_of(w.t.a1));
    CHECK_EQ_INT(web_post(&a, w.h.port, path, &who, NULL), 404);
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/devices/999999/revoke", &who, NULL), 404);
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/devices/abc/revoke", &who, NULL), 404);
    char *after = server_state(&w.h);
    CHECK_EQ_STR(after, before);
    /* Filters naming Astana's units. */
    snprintf(path, sizeof path, "/v1/records?unit=%lld", (long long)w.h.unit_a);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 404);
    snprintf(path, sizeof path, "/v1/records.csv?table=person&unit=%lld", (long long)w.astana);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 404);
    /* The lists never cross. */
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records", &who), 200);
    CHECK_LIST(a.body, w.visit_almaty);
    char q[100];
    url_encode(q, sizeof q, "әбілқасым");
    snprintf(path, sizeof path, "/v1/records?q=%s", q);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 200);
    CHECK_LIST_EMPTY(a.body);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records.csv?table=person", &who), 200);
    CHECK(!strstr(a.body, SURNAME) && !strstr(a.body, w.person));
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records", &astana), 200);
    CHECK_LIST(a.body, w.visit_a1, w.visit_a2, w.visit_b1, w.person);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/devices", &who), 200);
    CHECK_EQ_INT(count_of(a.body, "$.devices"), 1);
    free(before);
    free(after);
    web_answer_free(&a);
    web_answer_free(&none);
    world_stop(&w);
}

/* =================================================================== lists */

/* GETs `path` (a list) and checks its status. */
static const char *get_list(web_answer *a, world *w, const web_login *who, const char *path)
{
    int status = web_get(a, w->h.port, path, who);
    if (status != 200) test_fail(__FILE__, __LINE__, "GET %s answered %d: %.300s", path, status, a->body ? a->body : "");
    return a->body;
}

static void test_web_api_list_filters_by_table_unit_officer_dates_state_and_risk(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login who = as_new_user(&w, "deputy", "deputy", w.astana);
    web_answer a = WEB_ANSWER_INIT;
    char path[200];
    CHECK_LIST(get_list(&a, &w, &who, "/v1/records?table=person"), w.person);
    CHECK_MEMBER(a.body, "$.records", "id", w.person, "officer", "Aigul Nurlanova");
    CHECK_MEMBER(a.body, "$.records", "id", w.person, "unit", "Esil district unit");
    CHECK_MEMBER(a.body, "$.records", "id", w.person, "state", "pending");
    CHECK_LIST(get_list(&a, &w, &who, "/v1/records?table=field_visit"), w.visit_a1, w.visit_a2, w.visit_b1);
    snprintf(path, sizeof path, "/v1/records?unit=%lld", (long long)w.h.unit_b);
    CHECK_LIST(get_list(&a, &w, &who, path), w.visit_b1);
    snprintf(path, sizeof path, "/v1/records?unit=%lld", (long long)w.h.unit_a);
    CHECK_LIST(get_list(&a, &w, &who, path), w.visit_a1, w.visit_a2, w.person);
    snprintf(path, sizeof path, "/v1/records?officer=%lld", (long long)w.h.officer_a2);
    CHECK_LIST(get_list(&a, &w, &who, path), w.visit_a2);
    snprintf(path, sizeof path, "/v1/records?officer=%lld", (long long)w.h.officer_a);
    CHECK_LIST(get_list(&a, &w, &who, path), w.visit_a1, w.person);
    CHECK_LIST(get_list(&a, &w, &who, "/v1/records?from=2026-10-02&to=2026-10-04"), w.visit_b1);
    CHECK_LIST(get_list(&a, &w, &who, "/v1/records?from=2026-10-05"), w.visit_a2, w.person);
    CHECK_LIST(get_list(&a, &w, &who, "/v1/records?to=2026-10-01"), w.visit_a1);
    CHECK_LIST(get_list(&a, &w, &who, "/v1/records?risk=low"), w.visit_a2);
    snprintf(path, sizeof path, "/v1/records?risk=%s", w.winner);
    if (strcmp(w.winner, "high") == 0) CHECK_LIST(get_list(&a, &w, &who, path), w.visit_a1, w.visit_b1);
    else CHECK_LIST(get_list(&a, &w, &who, path), w.visit_a1);
    snprintf(path, sizeof path, "/v1/records/%s/review", w.visit_b1);
    CHECK_EQ_INT(web_post(&a, w.h.port, path, &who, "{\"decision\": \"return\", \"comment\": \"Мекенжайды жазыңыз\"}"),
                 200);
    CHECK_LIST(get_list(&a, &w, &who, "/v1/records?state=returned"), w.visit_b1);
    CHECK_LIST(get_list(&a, &w, &who, "/v1/records?state=pending"), w.visit_a1, w.visit_a2, w.person);
    snprintf(path, sizeof path, "/v1/records?table=field_visit&unit=%lld&risk=low&state=pending", (long long)w.h.unit_a);
    CHECK_LIST(get_list(&a, &w, &who, path), w.visit_a2);
    /* Filters that are not filters. */
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records?table=nothing", &who), 400);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records?from=2026-13-45", &who), 400);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records?state=lost", &who), 400);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records?unit=abc", &who), 400);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records?after=yesterday", &who), 400);
    web_answer_free(&a);
    world_stop(&w);
}

/* The searches of the Kazakh search test: `ours` is SURNAME's record,
 * `other` Иванова's. */
static void check_searches(world *w, const web_login *who, const char *ours, const char *other)
{
    static const char *const our_queries[] = {"әбілқасым", "ӘБІЛҚАСЫМ", "ӘбІлҚаСыМоВа", "ҚАСЫМ", "Әб"};
    web_answer a = WEB_ANSWER_INIT;
    char q[200], path[300];
    for (size_t i = 0; i < sizeof our_queries / sizeof our_queries[0]; i++) {
        url_encode(q, sizeof q, our_queries[i]);
        snprintf(path, sizeof path, "/v1/records?q=%s", q);
        CHECK_LIST(get_list(&a, w, who, path), ours);
    }
    url_encode(q, sizeof q, "иВАНОВА");
    snprintf(path, sizeof path, "/v1/records?q=%s", q);
    CHECK_LIST(get_list(&a, w, who, path), other);
    url_encode(q, sizeof q, "Әсел"); /* both first names */
    snprintf(path, sizeof path, "/v1/records?q=%s&table=person", q);
    CHECK_LIST(get_list(&a, w, who, path), ours, other);
    url_encode(q, sizeof q, "Сейітова");
    snprintf(path, sizeof path, "/v1/records?q=%s", q);
    CHECK_LIST_EMPTY(get_list(&a, w, who, path));
    web_answer_free(&a);
}

static void test_web_api_text_search_finds_kazakh_letters_in_any_case(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    char other[ID_BYTES];
    put_person(other, w.t.a1, "Иванова", NULL);
    sync_ok(w.t.a1);
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    check_searches(&w, &who, w.person, other);
    /* Again once the text index has caught up with every record. */
    sqlite3 *db = central_open(&w.h);
    size_t indexed = 0;
    if (db) CHECK_OK(server_text_index_catch_up(db, 1000, &indexed));
    sqlite3_close(db);
    /* Every unit's log is indexed to its end. */
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM org_unit o LEFT JOIN text_index_cursor c ON c.unit_id = o.id "
                                   "WHERE o.next_seq - 1 > coalesce(c.seq, 0)", 0, 0), 0);
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM record_text", 0, 0),
                 central_int(&w.h, "SELECT count(*) FROM record", 0, 0));
    check_searches(&w, &who, w.person, other);
    /* A record renamed after it was indexed: found by its new name at once
     * (it is past the cursor), and no longer by its old one. */
    set_field(w.t.a1, "person", other, "{\"last_name\": \"Жаңаева\"}");
    sync_ok(w.t.a1);
    web_answer a = WEB_ANSWER_INIT;
    char q[120], path[200];
    url_encode(q, sizeof q, "ЖАҢАЕВА");
    snprintf(path, sizeof path, "/v1/records?q=%s", q);
    CHECK_LIST(get_list(&a, &w, &who, path), other);
    url_encode(q, sizeof q, "иВАНОВА");
    snprintf(path, sizeof path, "/v1/records?q=%s", q);
    CHECK_LIST_EMPTY(get_list(&a, &w, &who, path));
    web_answer_free(&a);
    world_stop(&w);
}

static void test_web_api_paging_by_two_gives_every_record_once_newest_first(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    char extra[3][ID_BYTES];
    put_visit(extra[0], w.t.a1, "2026-09-01", "low");
    put_visit(extra[1], w.t.a1, "2026-10-01", "low"); /* the same day as visit_a1 */
    put_visit(extra[2], w.t.a1, "2026-08-15", "medium");
    sync_ok(w.t.a1);
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    record_set seen = {0};
    char path[200], last_date[16] = "9999-99-99";
    char *next = NULL;
    int pages = 0;
    do {
        snprintf(path, sizeof path, "/v1/records?limit=2%s%s", next ? "&after=" : "", next ? next : "");
        free(next);
        get_list(&a, &w, &who, path);
        long long count = count_of(a.body, "$.records");
        CHECK(count >= 1 && count <= 2); /* next is null on the last page: none comes empty */
        for (long long i = 0; i < count; i++) {
            char item[64];
            snprintf(item, sizeof item, "$.records[%lld].id", i);
            char *id = json_get(a.body, item);
            snprintf(item, sizeof item, "$.records[%lld].date", i);
            char *date = json_get(a.body, item);
            CHECK(id && set_find(&seen, id) < 0);
            CHECK(date && strcmp(date, last_date) <= 0);
            if (id) set_add(&seen, id, NULL);
            if (date) snprintf(last_date, sizeof last_date, "%s", date);
            free(id);
            free(date);
        }
        next = json_get(a.body, "$.next");
    } while (next && ++pages < 10);
    free(next);
    CHECK_EQ_INT(pages, 2); /* three pages */
    CHECK_EQ_INT(seen.count, 6);
    const char *all[] = {w.visit_a1, w.visit_a2, w.person, extra[0], extra[1], extra[2]};
    for (size_t i = 0; i < 6; i++) CHECK(set_find(&seen, all[i]) >= 0);
    set_free(&seen);
    web_answer_free(&a);
    world_stop(&w);
}

/* ============================================================= one record */

static void test_web_api_record_labels_are_kazakh_by_default_and_russian_on_request(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    /* A value with quotes, markup, a backslash and a line break comes back intact. */
    set_field(w.t.a1, "person", w.person, "{\"notes\": \"Ол: \\\"</script>\\\"\\n\\\\ екі жол\"}");
    sync_ok(w.t.a1);
    central_user_add(&w.h, "head.a", "unit_head", w.h.unit_a);
    web_login who = as_user(&w, "head.a"), russian = who;
    snprintf(russian.cookie + strlen(russian.cookie), sizeof russian.cookie - strlen(russian.cookie), "; dala_lang=ru");
    web_answer a = WEB_ANSWER_INIT;
    char path[200];
    snprintf(path, sizeof path, "/v1/records/%s", w.person);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 200);
    CHECK_JSON(a.body, "$.table_label", "Тұлға");
    CHECK_JSON(a.body, "$.state_label", "Қаралмаған");
    CHECK_MEMBER(a.body, "$.fields", "name", "last_name", "label", "Тегі");
    CHECK_MEMBER(a.body, "$.fields", "name", "last_name", "value", SURNAME);
    CHECK_MEMBER(a.body, "$.fields", "name", "sex", "value", "female");
    CHECK_MEMBER(a.body, "$.fields", "name", "sex", "display", "Әйел");
    CHECK_MEMBER(a.body, "$.fields", "name", "iin", "sensitive", "1");
    CHECK_MEMBER(a.body, "$.fields", "name", "notes", "value", "Ол: \"</script>\"\n\\ екі жол");
    snprintf(path, sizeof path, "/v1/records/%s?lang=ru", w.person);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 200);
    CHECK_JSON(a.body, "$.table_label", "Лицо");
    CHECK_JSON(a.body, "$.state_label", "Не рассмотрена");
    CHECK_MEMBER(a.body, "$.fields", "name", "last_name", "label", "Фамилия");
    CHECK_MEMBER(a.body, "$.fields", "name", "sex", "display", "Женский");
    snprintf(path, sizeof path, "/v1/records/%s", w.person);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &russian), 200); /* the page's switch */
    CHECK_JSON(a.body, "$.table_label", "Лицо");
    snprintf(path, sizeof path, "/v1/records/%s?lang=kk", w.person);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &russian), 200); /* the query comes first */
    CHECK_JSON(a.body, "$.table_label", "Тұлға");
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records?lang=ru", &who), 200);
    CHECK_MEMBER(a.body, "$.records", "id", w.person, "table_label", "Лицо");
    web_answer_free(&a);
    world_stop(&w);
}

static void test_web_api_record_history_names_the_device_and_fields_of_each_write(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    set_field(w.t.a1, "person", w.person, "{\"employment\": \"employed\"}");
    sync_ok(w.t.a1);
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    char path[200], device[24];
    snprintf(device, sizeof device, "%lld", (long long)device_of(w.t.a1));
    snprintf(path, sizeof path, "/v1/records/%s", w.person);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 200);
    CHECK_EQ_INT(count_of(a.body, "$.history"), 2);
    CHECK_JSON(a.body, "$.history[0].device", device);
    CHECK_JSON(a.body, "$.history[0].officer", "Aigul Nurlanova");
    CHECK_EQ_INT(int_of_text(SQL_TEXT("SELECT count(*) FROM json_each(?1, '$.history[0].fields') WHERE value IN "
                                  "('role', 'last_name', 'first_name', 'sex', 'birth_date', 'iin')", a.body)),
                 6);
    CHECK_JSON(a.body, "$.history[1].device", device);
    CHECK_JSON(a.body, "$.history[1].fields", "[\"employment\"]");
    CHECK_MEMBER(a.body, "$.fields", "name", "employment", "device", device);
    char *history = json_get(a.body, "$.history"); /* names fields, never their values */
    CHECK(history && !strstr(history, IIN) && !strstr(history, SURNAME));
    free(history);
    web_answer_free(&a);
    world_stop(&w);
}

/* GET /v1/audit?limit=2 page by page gives the entries of one long page,
 * newest first, each once, and the last page has next null. */
static void check_audit_pages(world *w, const web_login *who)
{
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, w->h.port, "/v1/audit?limit=500", who), 200);
    char *all = SQL_TEXT("SELECT group_concat(json_extract(value, '$.id'), ',') FROM json_each(?1, '$.entries')", a.body);
    CHECK_JSON(a.body, "$.next", NULL);
    dala_buf paged = DALA_BUF_INIT;
    char path[80], *next = NULL;
    int pages = 0;
    do {
        snprintf(path, sizeof path, "/v1/audit?limit=2%s%s", next ? "&after=" : "", next ? next : "");
        free(next);
        CHECK_EQ_INT(web_get(&a, w->h.port, path, who), 200);
        CHECK(count_of(a.body, "$.entries") >= 1);
        char *ids = SQL_TEXT("SELECT group_concat(json_extract(value, '$.id'), ',') FROM json_each(?1, '$.entries')", a.body);
        if (paged.len) dala_buf_append(&paged, ",", 1);
        if (ids) dala_buf_append(&paged, ids, strlen(ids));
        free(ids);
        next = json_get(a.body, "$.next");
    } while (next && ++pages < 50);
    free(next);
    dala_buf_append(&paged, "", 1);
    CHECK_EQ_STR((const char *)paged.data, all);
    CHECK(all && strchr(all, ',')); /* more than one page's worth */
    free(all);
    dala_buf_free(&paged);
    web_answer_free(&a);
}

/* How many read_sensitive entries of record `id` the audit shows `who`. */
static long long sensitive_reads(world *w, const web_login *who, const char *id)
{
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, w->h.port, "/v1/audit", who), 200);
    long long count = int_of_text(SQL_TEXT("SELECT count(*) FROM json_each(?1, '$.entries') WHERE "
                                       "json_extract(value, '$.action') = 'read_sensitive' AND "
                                       "json_extract(value, '$.record_id') = ?2", a.body, id));
    CHECK(a.body && !strstr(a.body, SURNAME) && !strstr(a.body, IIN)); /* entries hold no values */
    web_answer_free(&a);
    return count;
}

static void test_web_api_reading_sensitive_fields_is_audited_and_reading_others_is_not(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    central_user_add(&w.h, "head.a", "unit_head", w.h.unit_a);
    web_login head = as_user(&w, "head.a"), inspector = as_user(&w, "a.nurlanova");
    web_answer a = WEB_ANSWER_INIT;
    char path[200];
    char *before = central_text(&w.h, "SELECT count(*) FROM audit WHERE action = 'read_sensitive'", 0);
    snprintf(path, sizeof path, "/v1/records/%s", w.visit_a2); /* no sensitive field filled */
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &head), 200);
    char *after = central_text(&w.h, "SELECT count(*) FROM audit WHERE action = 'read_sensitive'", 0);
    CHECK_EQ_STR(after, before);
    CHECK_EQ_INT(sensitive_reads(&w, &head, w.person), 0);
    snprintf(path, sizeof path, "/v1/records/%s", w.person);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &inspector), 200);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &head), 200);
    CHECK_EQ_INT(sensitive_reads(&w, &head, w.person), 2);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/audit", &head), 200);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "user", "Aigul Nurlanova"), 2); /* her sign-in and her read */
    /* The trail is scoped like the records: unit B's and Almaty's people see none of it. */
    web_login head_b = as_new_user(&w, "head.b", "unit_head", w.h.unit_b);
    web_login almaty = as_new_user(&w, "almaty.deputy", "deputy", w.almaty);
    CHECK_EQ_INT(sensitive_reads(&w, &head_b, w.person), 0);
    CHECK_EQ_INT(sensitive_reads(&w, &almaty, w.person), 0);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/audit", &almaty), 200);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "user", "Aigul Nurlanova"), 0);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "user", "almaty.deputy"), 1);
    check_audit_pages(&w, &head);
    free(before);
    free(after);
    web_answer_free(&a);
    world_stop(&w);
}

/* A list whose rows show people's names, and a search through every
 * field, are reads of sensitive fields: each request leaves one entry,
 * which never holds the words searched for. */
/* How many read_sensitive entries about no one record have a detail LIKE `pattern`. */
static long long list_reads(const harness *h, const char *pattern)
{
    char *sql = sqlite3_mprintf("SELECT count(*) FROM audit WHERE action = 'read_sensitive' AND record_id IS NULL "
                                "AND detail LIKE %Q", pattern);
    char *count = central_text(h, sql, 0);
    long long n = count ? atoll(count) : -1;
    free(count);
    sqlite3_free(sql);
    return n;
}

static void test_web_api_lists_showing_names_and_searches_are_audited_without_the_words(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    central_user_add(&w.h, "head.a", "unit_head", w.h.unit_a);
    web_login head = as_user(&w, "head.a");
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records?table=person", &head), 200);
    CHECK_EQ_INT(list_reads(&w.h, "list of person: % rows, % showing names"), 1);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records?table=interaction", &head), 200);
    CHECK_EQ_INT(list_reads(&w.h, "list of interaction%"), 0); /* no names shown, no entry */
    char path[200], q[120];
    url_encode(q, sizeof q, SURNAME);
    snprintf(path, sizeof path, "/v1/records?q=%s", q);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &head), 200);
    CHECK_EQ_INT(list_reads(&w.h, "list: % rows, % showing names, text search"), 1);
    char *trail = central_text(&w.h, "SELECT group_concat(coalesce(detail, ''), '|') FROM audit", 0);
    CHECK(trail && !strstr(trail, SURNAME));
    free(trail);
    web_answer_free(&a);
    world_stop(&w);
}

static void test_web_api_record_links_show_an_offence_naming_its_victim_both_ways(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    char offence[ID_BYTES], json[300];
    snprintf(json, sizeof json,
             "{\"kind\": \"administrative\", \"sphere\": \"family_domestic\", \"article\": \"koap.73\", "
             "\"committed_on\": \"2026-09-20\", \"victim_id\": \"%s\"}", w.person);
    CHECK_OK(dala_record_put(offence, w.t.a1, "offence", NULL, json));
    sync_ok(w.t.a1);
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    char path[200];
    snprintf(path, sizeof path, "/v1/records/%s", offence);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 200);
    CHECK_EQ_INT(count_of(a.body, "$.links"), 1);
    CHECK_MEMBER(a.body, "$.links", "id", w.person, "direction", "to");
    CHECK_MEMBER(a.body, "$.links", "id", w.person, "via", "victim_id");
    CHECK_MEMBER(a.body, "$.links", "id", w.person, "table", "person");
    snprintf(path, sizeof path, "/v1/records/%s", w.person);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 200);
    CHECK_EQ_INT(count_of(a.body, "$.links"), 1);
    CHECK_MEMBER(a.body, "$.links", "id", offence, "direction", "from");
    CHECK_MEMBER(a.body, "$.links", "id", offence, "via", "victim_id");
    web_answer_free(&a);
    world_stop(&w);
}

/* ================================================================ deciding */

/* The review records a tablet holds about `record_id`: how many, and the
 * comment of the last one listed into `comment` (malloc'd, or NULL). */
static int tablet_reviews(dala_store *tablet, const char *record_id, char **comment)
{
    record_set reviews = {0};
    listing l = {&reviews, -1};
    int found = 0;
    *comment = NULL;
    CHECK_OK(dala_record_list(tablet, "review", add_listed, &l));
    for (size_t i = 0; i < reviews.count; i++) {
        char *json = NULL;
        CHECK_OK(dala_record_get_json(&json, tablet, reviews.ids[i]));
        char *about = json_get(json, "$.fields.record_id");
        if (about && strcmp(about, record_id) == 0) {
            found++;
            free(*comment);
            *comment = json_get(json, "$.fields.comment");
        }
        free(about);
        dala_free(json);
    }
    set_free(&reviews);
    return found;
}

static void test_web_api_return_needs_a_comment_reaches_the_tablet_and_a_correction_follows(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    char review[200], page[200];
    const char *comment = "Мекенжайды нақтылаңыз";
    snprintf(review, sizeof review, "/v1/records/%s/review", w.visit_a2);
    snprintf(page, sizeof page, "/v1/records/%s", w.visit_a2);
    CHECK_EQ_INT(web_post(&a, w.h.port, review, &who, "{\"decision\": \"return\"}"), 400);
    CHECK_EQ_INT(web_post(&a, w.h.port, review, &who, "{\"decision\": \"return\", \"comment\": \"\"}"), 400);
    CHECK_EQ_INT(web_post(&a, w.h.port, review, &who, "{\"decision\": \"maybe\"}"), 400);
    CHECK_EQ_INT(web_post(&a, w.h.port, review, &who, "{\"decision\": \"return\", \"comment\": \"Мекенжайды нақтылаңыз\"}"),
                 200);
    CHECK_JSON(a.body, "$.state", "returned");
    char *review_id = json_get(a.body, "$.review_id");
    CHECK(review_id && strlen(review_id) == 36);
    CHECK_EQ_INT(web_get(&a, w.h.port, page, &who), 200);
    CHECK_JSON(a.body, "$.state", "returned");
    CHECK_JSON(a.body, "$.reviews[0].comment", comment);
    CHECK_JSON(a.body, "$.reviews[0].reviewer", "head.a");
    /* The officer's tablet gets the decision at its next sync. */
    sync_ok(w.t.a2);
    char *got = NULL;
    CHECK_EQ_INT(tablet_reviews(w.t.a2, w.visit_a2, &got), 1);
    CHECK_EQ_STR(got, comment);
    free(got);
    CHECK_EQ_INT(web_post(&a, w.h.port, review, &who, "{\"decision\": \"return\", \"comment\": \"Тағы да\"}"), 409);
    /* She corrects it. */
    set_field(w.t.a2, "field_visit", w.visit_a2, "{\"children_count\": 2}");
    sync_ok(w.t.a2);
    CHECK_EQ_INT(web_get(&a, w.h.port, page, &who), 200);
    CHECK_JSON(a.body, "$.state", "corrected");
    CHECK_EQ_INT(web_post(&a, w.h.port, review, &who, "{\"decision\": \"approve\"}"), 200);
    CHECK_JSON(a.body, "$.state", "approved");
    CHECK_EQ_INT(web_get(&a, w.h.port, page, &who), 200);
    CHECK_JSON(a.body, "$.state", "approved");
    CHECK_EQ_INT(count_of(a.body, "$.reviews"), 2);
    CHECK_EQ_INT(web_post(&a, w.h.port, review, &who, "{\"decision\": \"approve\"}"), 409);
    free(review_id);
    web_answer_free(&a);
    world_stop(&w);
}

/* The status of conflict `id` as a tablet holds it, into `out`. */
typedef struct conflict_status {
    const char *id;
    char status[16];
} conflict_status;

static int copy_status(void *context, const dala_conflict *conflict)
{
    conflict_status *c = context;
    if (strcmp(conflict->conflict_id, c->id) == 0) snprintf(c->status, sizeof c->status, "%s", conflict->status);
    return 0;
}

static void test_web_api_settling_for_the_loser_reaches_the_server_and_both_tablets(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    char page[200], settle[200];
    snprintf(page, sizeof page, "/v1/records/%s", w.visit_a1);
    snprintf(settle, sizeof settle, "/v1/conflicts/%s/settle", w.conflict);
    CHECK_EQ_INT(web_get(&a, w.h.port, page, &who), 200);
    CHECK_EQ_INT(count_of(a.body, "$.conflicts"), 1);
    CHECK_JSON(a.body, "$.conflicts[0].id", w.conflict);
    CHECK_JSON(a.body, "$.conflicts[0].field", "risk_level");
    CHECK_JSON(a.body, "$.conflicts[0].status", "open");
    CHECK_JSON(a.body, "$.conflicts[0].winner.value", w.winner);
    CHECK_JSON(a.body, "$.conflicts[0].loser.value", w.loser);
    char *winner_officer = json_get(a.body, "$.conflicts[0].winner.officer");
    char *loser_officer = json_get(a.body, "$.conflicts[0].loser.officer");
    CHECK(winner_officer && loser_officer && strcmp(winner_officer, loser_officer) != 0);
    free(winner_officer);
    free(loser_officer);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records", &who), 200);
    CHECK_MEMBER(a.body, "$.records", "id", w.visit_a1, "open_conflicts", "1");
    CHECK_EQ_INT(web_post(&a, w.h.port, settle, &who, "{\"keep\": \"both\"}"), 400);
    CHECK_EQ_INT(web_post(&a, w.h.port, settle, &who, "{\"keep\": \"loser\"}"), 200);
    CHECK_JSON(a.body, "$.status", "settled");
    char *held = central_field(&w.h, w.visit_a1, "risk_level");
    CHECK_EQ_STR(held, w.loser);
    free(held);
    for (int round = 0; round < 2; round++) {
        sync_ok(w.t.a1);
        sync_ok(w.t.a2);
    }
    dala_store *tablets[] = {w.t.a1, w.t.a2};
    for (int t = 0; t < 2; t++) {
        held = device_field(tablets[t], w.visit_a1, "risk_level");
        CHECK_EQ_STR(held, w.loser);
        free(held);
        conflict_status c = {w.conflict, ""};
        CHECK_OK(dala_conflict_list(tablets[t], copy_status, &c));
        CHECK_EQ_STR(c.status, "settled");
    }
    held = central_field(&w.h, w.visit_a1, "risk_level"); /* and no tablet undid it */
    CHECK_EQ_STR(held, w.loser);
    free(held);
    CHECK_EQ_INT(web_post(&a, w.h.port, settle, &who, "{\"keep\": \"loser\"}"), 409);
    CHECK_EQ_INT(web_post(&a, w.h.port, settle, &who, "{\"keep\": \"winner\"}"), 409);
    CHECK_EQ_INT(web_get(&a, w.h.port, page, &who), 200);
    CHECK_JSON(a.body, "$.conflicts[0].status", "settled");
    CHECK_JSON(a.body, "$.conflicts[0].settled_by", "head.a");
    CHECK_MEMBER(a.body, "$.fields", "name", "risk_level", "value", w.loser);
    web_answer_free(&a);
    world_stop(&w);
}

static void test_web_api_revoked_tablet_is_refused_at_its_next_sync(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    char path[200], device[24], later[ID_BYTES];
    snprintf(device, sizeof device, "%lld", (long long)device_of(w.t.a1));
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/devices", &who), 200);
    CHECK_MEMBER(a.body, "$.devices", "id", device, "revoked_at", NULL);
    CHECK_MEMBER(a.body, "$.devices", "id", device, "officer", "Aigul Nurlanova");
    snprintf(path, sizeof path, "/v1/devices/%s/revoke", device);
    CHECK_EQ_INT(web_post(&a, w.h.port, path, &who, NULL), 200);
    CHECK_JSON(a.body, "$.revoked", "1");
    put_visit(later, w.t.a1, "2026-11-01", "low");
    CHECK_EQ_INT(sync_via(w.t.a1, NULL, 0, NULL), DALA_EAUTH);
    CHECK_EQ_U64(device_status(w.t.a1).pending_changes, 1);
    sync_ok(w.t.a2); /* the others go on */
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/devices", &who), 200);
    char *revoked = member_where(a.body, "$.devices", "id", device, "revoked_at");
    CHECK(revoked && atoll(revoked) > 0);
    free(revoked);
    CHECK_EQ_INT(web_post(&a, w.h.port, path, &who, NULL), 409);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/audit", &who), 200);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "action", "revoke"), 1);
    web_answer_free(&a);
    world_stop(&w);
}

/* ===================================================================== CSV */

static size_t count_text(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void test_web_api_csv_export_is_labelled_formula_safe_and_audited(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    char other[ID_BYTES];
    put_person(other, w.t.a1, "Иванова", "=1+2");
    sync_ok(w.t.a1);
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records.csv?table=person", &who), 200);
    char type[64];
    CHECK(web_header(type, sizeof type, &a, "Content-Type"));
    CHECK_EQ_STR(type, "text/csv; charset=utf-8");
    const char *text = a.body ? a.body : "";
    if (strncmp(text, "\xef\xbb\xbf", 3) == 0) text += 3;
    CHECK(strncmp(text, "\"id\",", 5) == 0);
    const char *first_row_end = strstr(text, "\r\n");
    CHECK(first_row_end && strstr(text, "\"Тегі\"") && strstr(text, "\"Тегі\"") < first_row_end);
    CHECK(strstr(text, "\"ЖСН\"") && strstr(text, "\"ЖСН\"") < first_row_end);
    CHECK_EQ_INT(count_text(text, "\r\n"), 3); /* the labels and two people */
    CHECK_EQ_INT(count_text(text, w.person), 1);
    CHECK_EQ_INT(count_text(text, other), 1);
    CHECK_CONTAINS(text, SURNAME);
    CHECK_CONTAINS(text, "\"'=1+2\"");
    CHECK_EQ_INT(count_text(text, "\"Әйел\""), 2); /* choices by their labels */
    CHECK(!strstr(text, "female"));
    CHECK(!strstr(text, "\"=1+2\""));
    CHECK(!strstr(text, w.visit_a1));
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records.csv?table=person&lang=ru", &who), 200);
    CHECK_CONTAINS(a.body, "\"Фамилия\"");
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/audit", &who), 200);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "action", "export"), 2);
    CHECK_MEMBER(a.body, "$.entries", "action", "export", "detail", "person: 2 rows");
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records.csv", &who), 400);
    web_answer_free(&a);
    world_stop(&w);
}

/* =============================================================== dashboard */

static void check_dashboard(const char *file, int line, world *w, const web_login *who, long long waiting,
                            long long returned, long long conflicts)
{
    web_answer a = WEB_ANSWER_INIT;
    if (web_get(&a, w->h.port, "/v1/dashboard", who) != 200) test_fail(file, line, "dashboard: %d", a.status);
    long long got[] = {int_of_text(json_get(a.body, "$.waiting")), int_of_text(json_get(a.body, "$.returned")),
                       int_of_text(json_get(a.body, "$.open_conflicts"))};
    long long want[] = {waiting, returned, conflicts};
    const char *names[] = {"waiting", "returned", "open_conflicts"};
    for (int i = 0; i < 3; i++)
        if (got[i] != want[i]) test_fail(file, line, "dashboard %s is %lld, expected %lld", names[i], got[i], want[i]);
    /* The counts by type agree with the lists. */
    static const char *const states[] = {"pending", "corrected", "returned", "approved"};
    for (int s = 0; s < 4; s++) {
        char sql[160], path[64];
        snprintf(sql, sizeof sql, "SELECT coalesce(sum(json_extract(value, '$.%s')), 0) FROM json_each(?1, '$.counts')",
                 states[s]);
        long long counted = int_of_text(SQL_TEXT(sql, a.body));
        snprintf(path, sizeof path, "/v1/records?state=%s", states[s]);
        web_answer list = WEB_ANSWER_INIT;
        web_get(&list, w->h.port, path, who);
        if (counted != count_of(list.body, "$.records"))
            test_fail(file, line, "dashboard counts %lld %s, the list shows %lld", counted, states[s],
                      count_of(list.body, "$.records"));
        web_answer_free(&list);
    }
    web_answer_free(&a);
}

#define CHECK_DASHBOARD(w, who, waiting, returned, conflicts) \
    check_dashboard(__FILE__, __LINE__, (w), (who), (waiting), (returned), (conflicts))

static void test_web_api_dashboard_counts_match_the_records(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    char path[200];
    CHECK_DASHBOARD(&w, &who, 3, 0, 1); /* visit_a1, visit_a2, person; the conflict on visit_a1 */
    snprintf(path, sizeof path, "/v1/records/%s/review", w.visit_a2);
    CHECK_EQ_INT(web_post(&a, w.h.port, path, &who, "{\"decision\": \"return\", \"comment\": \"Толтырыңыз\"}"), 200);
    CHECK_DASHBOARD(&w, &who, 2, 1, 1);
    set_field(w.t.a2, "field_visit", w.visit_a2, "{\"children_count\": 1}");
    sync_ok(w.t.a2);
    CHECK_DASHBOARD(&w, &who, 3, 0, 1); /* corrected, waiting again */
    snprintf(path, sizeof path, "/v1/conflicts/%s/settle", w.conflict);
    CHECK_EQ_INT(web_post(&a, w.h.port, path, &who, "{\"keep\": \"winner\"}"), 200);
    CHECK_DASHBOARD(&w, &who, 3, 0, 0);
    char *held = central_field(&w.h, w.visit_a1, "risk_level");
    CHECK_EQ_STR(held, w.winner);
    free(held);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/dashboard", &who), 200);
    CHECK_EQ_INT(count_of(a.body, "$.stale_devices"), 0);
    snprintf(path, sizeof path, "%lld", (long long)w.h.unit_a);
    CHECK_JSON(a.body, "$.scope.unit_id", path);
    time_t now = time(NULL);
    struct tm today;
    localtime_r(&now, &today);
    web_deadlines d;
    web_report_deadlines(&d, today.tm_year + 1900, today.tm_mon + 1, today.tm_mday);
    CHECK_JSON(a.body, "$.deadlines.unit_due", d.unit_due);
    CHECK_JSON(a.body, "$.deadlines.department_due", d.department_due);
    CHECK_EQ_INT(int_of_text(json_get(a.body, "$.deadlines.unit_days_left")), d.unit_days_left);
    CHECK_EQ_INT(int_of_text(json_get(a.body, "$.deadlines.quarter")), d.quarter);
    /* A tablet silent for four days shows. */
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE device SET last_sync_at = strftime('%%s', 'now') - 4 * 86400 WHERE id = %lld",
             (long long)device_of(w.t.a2));
    central_exec(&w.h, sql);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/dashboard", &who), 200);
    CHECK_EQ_INT(count_of(a.body, "$.stale_devices"), 1);
    CHECK_JSON(a.body, "$.stale_devices[0].officer", "Dana Sadykova");
    web_answer_free(&a);
    world_stop(&w);
}

static void check_deadlines(const char *file, int line, int year, int month, int day, int quarter_year, int quarter,
                            const char *unit_due, int unit_left, int department_left)
{
    web_deadlines d;
    web_report_deadlines(&d, year, month, day);
    if (d.year != quarter_year || d.quarter != quarter || strcmp(d.unit_due, unit_due) != 0 ||
        d.unit_days_left != unit_left || d.department_days_left != department_left)
        test_fail(file, line, "on %04d-%02d-%02d: %d Q%d, units %s (%d), departments %s (%d); expected %d Q%d, %s (%d), (%d)",
                  year, month, day, d.year, d.quarter, d.unit_due, d.unit_days_left, d.department_due,
                  d.department_days_left, quarter_year, quarter, unit_due, unit_left, department_left);
}

#define CHECK_DEADLINES(...) check_deadlines(__FILE__, __LINE__, __VA_ARGS__)

static void test_web_api_report_deadlines_follow_the_quarter(void)
{
    CHECK_DEADLINES(2026, 11, 29, 2026, 4, "2027-01-05", 37, 42);
    CHECK_DEADLINES(2027, 1, 3, 2026, 4, "2027-01-05", 2, 7);
    CHECK_DEADLINES(2027, 1, 7, 2026, 4, "2027-01-05", -2, 3);
    CHECK_DEADLINES(2027, 1, 10, 2026, 4, "2027-01-05", -5, 0);
    CHECK_DEADLINES(2027, 1, 11, 2027, 1, "2027-04-05", 84, 89);
    CHECK_DEADLINES(2026, 4, 5, 2026, 1, "2026-04-05", 0, 5);
    CHECK_DEADLINES(2026, 6, 30, 2026, 2, "2026-07-05", 5, 10);
    web_deadlines d;
    web_report_deadlines(&d, 2026, 11, 29);
    CHECK_EQ_STR(d.department_due, "2027-01-10");
}

/* =============================================================== bad input */

static void test_web_api_bad_bodies_routes_and_methods_get_clear_errors(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    char review[200];
    snprintf(review, sizeof review, "/v1/records/%s/review", w.visit_a2);
    CHECK_EQ_INT(web_post(&a, w.h.port, review, &who, "{\"decision\": approve}"), 400);
    CHECK_JSON(a.body, "$.code", "EINVAL");
    CHECK_EQ_INT(web_post(&a, w.h.port, review, &who, "[\"approve\"]"), 400);
    const char *approve = "{\"decision\": \"approve\"}";
    CHECK_EQ_INT(web_call(&a, w.h.port, "POST", review, &who, "text/plain", approve, strlen(approve)), 400);
    CHECK_EQ_INT(web_call(&a, w.h.port, "POST", review, &who, NULL, approve, strlen(approve)), 400);
    CHECK_EQ_INT(web_post(&a, w.h.port, review, &who, NULL), 400); /* no body: no decision */
    /* 64 KiB is the most a body may hold. */
    size_t cap = 64 * 1024;
    char *big = malloc(cap + 2);
    if (big) {
        memset(big, ' ', cap + 1);
        memcpy(big, approve, strlen(approve));
        CHECK_EQ_INT(web_call(&a, w.h.port, "POST", review, &who, "application/json", big, cap + 1), 413);
        CHECK_JSON(a.body, "$.code", "ELIMIT");
        char *state = central_state(&w.h, w.visit_a2);
        CHECK_EQ_STR(state, "pending");
        free(state);
        CHECK_EQ_INT(web_call(&a, w.h.port, "POST", review, &who, "application/json; charset=utf-8", big, cap), 200);
        free(big);
    }
    /* Routes and methods. */
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/no-such-thing", &who), 404);
    char type[64];
    CHECK(web_header(type, sizeof type, &a, "Content-Type") && strncmp(type, "application/json", 16) == 0);
    CHECK_JSON(a.body, "$.code", "ENOTFOUND");
    CHECK(web_header(type, sizeof type, &a, "Cache-Control") && strcmp(type, "no-store") == 0);
    CHECK_EQ_INT(web_delete(&a, w.h.port, "/v1/records", &who), 405);
    CHECK(a.body && strstr(a.body, "\"error\""));
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/enrol-codes", &who), 405);
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/meta", &who, "{}"), 405);
    CHECK_EQ_INT(web_call(&a, w.h.port, "PUT", "/v1/session", &who, "application/json", "{}", 2), 405);
    snprintf(review, sizeof review, "/v1/records/%s", w.visit_a2);
    CHECK_EQ_INT(web_post(&a, w.h.port, review, &who, "{}"), 405);
    /* Sign-in bodies. */
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/session", NULL, "login=head.a&password=" PASSWORD), 400);
    const char *form = "{\"login\": \"head.a\", \"password\": \"" PASSWORD "\"}";
    CHECK_EQ_INT(web_call(&a, w.h.port, "POST", "/v1/session", NULL, "text/plain", form, strlen(form)), 400);
    CHECK_EQ_INT(web_post(&a, w.h.port, "/v1/session", NULL, "{\"login\": \"head.a\"}"), 400);
    web_answer_free(&a);
    world_stop(&w);
}

/* A request with neither Content-Length nor Transfer-Encoding has no body
 * (RFC 9112, 6.3), as `curl -X POST` sends a revoke: it is not a body of
 * the wrong type, and a wrong method stays a wrong method. */
static void test_web_api_request_without_content_length_has_no_body(void)
{
    world w;
    if (world_start(&w, NULL)) return;
    web_login who = as_new_user(&w, "head.a", "unit_head", w.h.unit_a);
    web_answer a = WEB_ANSWER_INIT;
    char request[600];
    int n = snprintf(request, sizeof request,
                     "POST /v1/devices/%lld/revoke HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\nX-CSRF-Token: %s\r\n"
                     "Connection: close\r\n\r\n", (long long)device_of(w.t.a2), who.cookie, who.csrf);
    CHECK_EQ_INT(web_call_raw(&a, w.h.port, request, (size_t)n), 200);
    CHECK_JSON(a.body, "$.revoked", "1");
    static const char *const methods[] = {"PUT", "DELETE", "OPTIONS"};
    for (size_t i = 0; i < 3; i++) {
        n = snprintf(request, sizeof request,
                     "%s /v1/records HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\nX-CSRF-Token: %s\r\n"
                     "Connection: close\r\n\r\n", methods[i], who.cookie, who.csrf);
        if (web_call_raw(&a, w.h.port, request, (size_t)n) != 405)
            test_fail(__FILE__, __LINE__, "%s /v1/records answered %d, expected 405: %s", methods[i], a.status,
                      a.body ? a.body : "");
    }
    web_answer_free(&a);
    world_stop(&w);
}

/* ==================================================================== logs */

static void test_web_api_access_log_holds_no_names_iins_or_passwords(void)
{
    char log_path[300];
    snprintf(log_path, sizeof log_path, "%s/access.log", test_tmpdir());
    world w;
    if (world_start(&w, log_path)) return;
    central_user_add(&w.h, "head.a", "unit_head", w.h.unit_a);
    web_login who = as_user(&w, "head.a"), failed;
    CHECK_EQ_INT(web_sign_in(&failed, w.h.port, "head.a", "Wrong-secret-42"), 401);
    web_answer a = WEB_ANSWER_INIT;
    char q[200], path[300];
    url_encode(q, sizeof q, SURNAME);
    snprintf(path, sizeof path, "/v1/records?q=%s&table=person", q);
    CHECK_LIST(get_list(&a, &w, &who, path), w.person);
    snprintf(path, sizeof path, "/v1/records?q=%s", IIN);
    CHECK_LIST(get_list(&a, &w, &who, path), w.person);
    snprintf(path, sizeof path, "/v1/records/%s", w.person);
    CHECK_EQ_INT(web_get(&a, w.h.port, path, &who), 200);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/records.csv?table=person", &who), 200);
    web_answer_free(&a);
    world_stop(&w); /* closes the log */
    char *log = test_read_file(log_path);
    CHECK(log && strstr(log, "/v1/records") && strstr(log, "/v1/sync")); /* it did log */
    const char *secrets[] = {SURNAME, q, "Әсел", IIN, PASSWORD, "Wrong-secret-42", "1990-05-14"};
    for (size_t i = 0; log && i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(log, secrets[i])) test_fail(__FILE__, __LINE__, "the access log holds \"%s\"", secrets[i]);
    free(log);
}

const dala_test web_api_tests[] = {
    {"web_api_sign_in_sets_a_strict_http_only_cookie_and_a_csrf_token",
     test_web_api_sign_in_sets_a_strict_http_only_cookie_and_a_csrf_token},
    {"web_api_wrong_password_and_unknown_login_get_the_same_401", test_web_api_wrong_password_and_unknown_login_get_the_same_401},
    {"web_api_lists_showing_names_and_searches_are_audited_without_the_words",
     test_web_api_lists_showing_names_and_searches_are_audited_without_the_words},
    {"web_api_five_failed_sign_ins_block_the_login_even_with_the_right_password",
     test_web_api_five_failed_sign_ins_block_the_login_even_with_the_right_password},
    {"web_api_twenty_failed_sign_ins_from_one_address_block_it", test_web_api_twenty_failed_sign_ins_from_one_address_block_it},
    {"web_api_failed_sign_ins_show_in_the_audit_of_the_logins_unit",
     test_web_api_failed_sign_ins_show_in_the_audit_of_the_logins_unit},
    {"web_api_sign_out_needs_the_csrf_token_and_ends_the_session", test_web_api_sign_out_needs_the_csrf_token_and_ends_the_session},
    {"web_api_session_ends_after_30_idle_minutes_or_8_hours", test_web_api_session_ends_after_30_idle_minutes_or_8_hours},
    {"web_api_changes_without_the_right_csrf_token_are_refused_and_change_nothing",
     test_web_api_changes_without_the_right_csrf_token_are_refused_and_change_nothing},
    {"web_api_every_route_without_a_session_answers_401", test_web_api_every_route_without_a_session_answers_401},
    {"web_api_inspector_sees_only_records_from_their_own_tablets", test_web_api_inspector_sees_only_records_from_their_own_tablets},
    {"web_api_inspector_may_not_decide_manage_devices_read_audit_or_users",
     test_web_api_inspector_may_not_decide_manage_devices_read_audit_or_users},
    {"web_api_unit_head_sees_their_units_subtree_only", test_web_api_unit_head_sees_their_units_subtree_only},
    {"web_api_analyst_reads_but_may_not_decide", test_web_api_analyst_reads_but_may_not_decide},
    {"web_api_admin_manages_devices_and_users_but_reads_no_records",
     test_web_api_admin_manages_devices_and_users_but_reads_no_records},
    {"web_api_enrolment_code_from_the_admin_enrols_a_tablet", test_web_api_enrolment_code_from_the_admin_enrols_a_tablet},
    {"web_api_another_departments_supervisor_gets_404_and_sees_nothing_of_it",
     test_web_api_another_departments_supervisor_gets_404_and_sees_nothing_of_it},
    {"web_api_list_filters_by_table_unit_officer_dates_state_and_risk",
     test_web_api_list_filters_by_table_unit_officer_dates_state_and_risk},
    {"web_api_text_search_finds_kazakh_letters_in_any_case", test_web_api_text_search_finds_kazakh_letters_in_any_case},
    {"web_api_paging_by_two_gives_every_record_once_newest_first", test_web_api_paging_by_two_gives_every_record_once_newest_first},
    {"web_api_record_labels_are_kazakh_by_default_and_russian_on_request",
     test_web_api_record_labels_are_kazakh_by_default_and_russian_on_request},
    {"web_api_record_history_names_the_device_and_fields_of_each_write",
     test_web_api_record_history_names_the_device_and_fields_of_each_write},
    {"web_api_reading_sensitive_fields_is_audited_and_reading_others_is_not",
     test_web_api_reading_sensitive_fields_is_audited_and_reading_others_is_not},
    {"web_api_record_links_show_an_offence_naming_its_victim_both_ways",
     test_web_api_record_links_show_an_offence_naming_its_victim_both_ways},
    {"web_api_return_needs_a_comment_reaches_the_tablet_and_a_correction_follows",
     test_web_api_return_needs_a_comment_reaches_the_tablet_and_a_correction_follows},
    {"web_api_settling_for_the_loser_reaches_the_server_and_both_tablets",
     test_web_api_settling_for_the_loser_reaches_the_server_and_both_tablets},
    {"web_api_revoked_tablet_is_refused_at_its_next_sync", test_web_api_revoked_tablet_is_refused_at_its_next_sync},
    {"web_api_csv_export_is_labelled_formula_safe_and_audited", test_web_api_csv_export_is_labelled_formula_safe_and_audited},
    {"web_api_dashboard_counts_match_the_records", test_web_api_dashboard_counts_match_the_records},
    {"web_api_report_deadlines_follow_the_quarter", test_web_api_report_deadlines_follow_the_quarter},
    {"web_api_bad_bodies_routes_and_methods_get_clear_errors", test_web_api_bad_bodies_routes_and_methods_get_clear_errors},
    {"web_api_request_without_content_length_has_no_body", test_web_api_request_without_content_length_has_no_body},
    {"web_api_access_log_holds_no_names_iins_or_passwords", test_web_api_access_log_holds_no_names_iins_or_passwords},
    {NULL, NULL},
};
