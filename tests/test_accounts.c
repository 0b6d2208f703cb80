/* test_accounts.c - suite "accounts": users disabled, enabled again,
 * renamed, moved, given another role and a new password, on the command
 * line (`dala-server admin user-disable`, `user-enable`, `user-edit`,
 * `user-password`) and on the administrator's routes (POST
 * /v1/users/{id}[/disable|/enable|/password]), against the real server on
 * 127.0.0.1 (server_harness.h: a department with units A and B, officers
 * a and a2 in A, b in B).
 *
 * What the suite proves: disabling ends the user's web sessions at once
 * (their cookie answers 401 on the next request) and refuses their sign-in
 * with a plain 403 even with the right password, deletes their unused
 * enrolment codes and makes no new one (a tablet cannot enrol with a code
 * made before), while their enrolled tablet keeps syncing until revoked;
 * enabling lets them sign in again; a rename, a move and a role change show
 * in their next request; a new password works, the old one fails, and the
 * sessions of the old one end; each change is audited once (a move under
 * both units); a unit head, a deputy and an inspector get 403 on every
 * route, a user outside the administrator's scope 404, a change without
 * the CSRF token 403; an administrator cannot disable or demote
 * themselves. */
#include "e2e_support.h"
#include "supervisor.h"
#include "web_client.h"

#include "records_gen.h"
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PASSWORD "Dala-test-2026"
#define NEW_PASSWORD "Another-pass-77"
#define CLI_TIMEOUT_MS 20000

/* ---------------------------------------------------------------- helpers */

/* `dala-server admin --db <h's> ARGS...` with its standard input read
 * from `stdin_path` (NULL: /dev/null). Returns the exit status (-1 if it
 * did not run); its stdout and stderr go to `out` and `err` (malloc'd, may
 * be NULL). */
static int admin_cli(const harness *h, const char *stdin_path, char **out, char **err, const char *const *args)
{
    const char *argv[16] = {test_binary_path("dala-server"), "admin", "--db", h->db_path};
    int n = 4;
    for (int i = 0; args[i] && n < 15; i++) argv[n++] = args[i];
    argv[n] = NULL;
    char out_path[600], err_path[600];
    snprintf(out_path, sizeof out_path, "%s/admin-out.txt", h->dir);
    snprintf(err_path, sizeof err_path, "%s/admin-err.txt", h->dir);
    int status;
    if (run_with_timeout(&status, argv, stdin_path ? stdin_path : "/dev/null", out_path, err_path, CLI_TIMEOUT_MS))
        return -1;
    char *o = test_read_file(out_path), *e = test_read_file(err_path);
    if (out) *out = o;
    else free(o);
    if (err) *err = e;
    else free(e);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define ADMIN(h, ...) admin_cli((h), NULL, NULL, NULL, (const char *const[]){__VA_ARGS__, NULL})

/* How many audit entries of `action` mention `login`, about unit `unit`
 * (0: any unit). */
static long long audit_count(const harness *h, const char *action, const char *login, int64_t unit)
{
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit WHERE action = '%s' AND instr(detail, '%s') > 0 "
             "AND (?1 = 0 OR unit_id = ?1)", action, login);
    return central_int(h, sql, unit, 0);
}

/* The department the harness's units A and B sit in (A through a body). */
static int64_t department_of(const harness *h)
{
    return central_unit_find(h, "pd-astana");
}

/* A user `login` with `role` at `unit` who can sign in with PASSWORD. */
static int64_t user_with_password(const harness *h, const char *login, const char *role, int64_t unit)
{
    int64_t id = central_user_add(h, login, role, unit);
    if (id) supervisor_password_set(h, login, PASSWORD);
    return id;
}

/* The status of GET /v1/session with `who`'s cookie. */
static int session_status(const harness *h, const web_login *who)
{
    web_answer a = WEB_ANSWER_INIT;
    int status = web_get(&a, h->port, "/v1/session", who);
    web_answer_free(&a);
    return status;
}

static int sign_in_status(const harness *h, const char *login, const char *password, web_answer *answer)
{
    web_login session;
    int status = web_sign_in(&session, h->port, login, password);
    if (answer) {
        char body[256];
        snprintf(body, sizeof body, "{\"login\": \"%s\", \"password\": \"%s\"}", login, password);
        web_post(answer, h->port, "/v1/session", NULL, body);
    }
    return status;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *file = fopen(path, "w");
    CHECK(file != NULL);
    if (!file) return;
    fputs(text, file);
    fclose(file);
    chmod(path, mode);
}

/* ------------------------------------------------------ the command line */

static void test_accounts_cli_disable_ends_sessions_and_refuses_sign_in_until_enabled(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    user_with_password(&h, "d.head", "unit_head", h.unit_a);
    web_login session;
    CHECK_EQ_INT(web_sign_in(&session, h.port, "d.head", PASSWORD), 200);
    web_login second;
    CHECK_EQ_INT(web_sign_in(&second, h.port, "d.head", PASSWORD), 200);
    CHECK_EQ_INT(session_status(&h, &session), 200);

    char *out = NULL, *err = NULL;
    CHECK_EQ_INT(admin_cli(&h, NULL, &out, &err, (const char *const[]){"user-disable", "--login", "d.head", NULL}), 0);
    CHECK_CONTAINS(out, "d.head disabled: 2 web sessions ended");
    free(out);
    free(err);
    /* Both sessions end at once: their next request is 401. */
    CHECK_EQ_INT(session_status(&h, &session), 401);
    CHECK_EQ_INT(session_status(&h, &second), 401);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM web_session s JOIN app_user u ON u.id = s.user_id "
                                 "WHERE u.login = 'd.head'", 0, 0), 0);
    /* The right password is refused, saying why; a wrong one stays a plain 401. */
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(sign_in_status(&h, "d.head", PASSWORD, &a), 403);
    CHECK_CONTAINS(a.body, "disabled");
    CHECK_EQ_INT(sign_in_status(&h, "d.head", "Wrong-password-1", NULL), 401);
    CHECK_EQ_INT(audit_count(&h, "user_disable", "d.head", h.unit_a), 1);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM audit WHERE action = 'sign_in_disabled'", 0, 0), 2);
    /* Twice is a plain error, and nothing changes. */
    CHECK_EQ_INT(admin_cli(&h, NULL, NULL, &err, (const char *const[]){"user-disable", "--login", "d.head", NULL}), 1);
    CHECK_CONTAINS(err, "disabled already");
    free(err);

    CHECK_EQ_INT(ADMIN(&h, "user-enable", "--login", "d.head"), 0);
    CHECK_EQ_INT(sign_in_status(&h, "d.head", PASSWORD, NULL), 200);
    CHECK_EQ_INT(audit_count(&h, "user_enable", "d.head", h.unit_a), 1);
    CHECK_EQ_INT(admin_cli(&h, NULL, NULL, &err, (const char *const[]){"user-enable", "--login", "d.head", NULL}), 1);
    CHECK_CONTAINS(err, "is not disabled");
    free(err);
    CHECK_EQ_INT(admin_cli(&h, NULL, NULL, &err, (const char *const[]){"user-disable", "--login", "nobody", NULL}), 1);
    CHECK_CONTAINS(err, "no user nobody");
    free(err);
    web_answer_free(&a);
    e2e_stop(&h);
}

/* A disabled officer enrols no tablet: the code made before is gone and
 * no new one is made; the tablet enrolled before keeps syncing (nothing it
 * captured is stranded) until it is revoked. */
static void test_accounts_disabled_officer_enrols_no_tablet_and_hers_syncs_until_revoked(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    records_gen gen;
    records_gen_init(&gen, 15);
    record_set captured = {0};
    dala_store *tablet = device_enrol(&h, "a1", h.officer_a, h.unit_a), *spare = NULL;
    if (!tablet) goto done;
    char code[32], path[600], *out = NULL;
    CHECK_OK(harness_code(&h, code, h.officer_a, h.unit_a));
    char *login = central_text(&h, "SELECT login FROM app_user WHERE id = ?1", h.officer_a);
    CHECK_EQ_INT(admin_cli(&h, NULL, &out, NULL, (const char *const[]){"user-disable", "--login", login, NULL}), 0);
    CHECK_CONTAINS(out, "1 tablet still syncs until revoked or marked lost");
    free(out);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM enrol_code WHERE user_id = ?1 AND used_at IS NULL",
                             h.officer_a, 0), 0);
    snprintf(path, sizeof path, "%s/spare.db", h.dir);
    CHECK_OK(dala_store_open(&spare, path));
    if (spare) CHECK(dala_store_enroll(spare, h.url, code, NULL) != DALA_OK);
    char *err = NULL;
    CHECK_EQ_INT(admin_cli(&h, NULL, NULL, &err, (const char *const[]){"code", "--login", login, NULL}), 1);
    CHECK_CONTAINS(err, "the account is disabled");
    free(err);

    capture(&captured, tablet, &gen, 2);
    sync_taken(tablet);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE unit_id = ?1 AND tbl = 'field_visit'", h.unit_a, 0), 2);
    CHECK_OK(harness_revoke(&h, central_int(&h, "SELECT id FROM device WHERE user_id = ?1", h.officer_a, 0)));
    capture(&captured, tablet, &gen, 1);
    CHECK(dala_sync(NULL, tablet, NULL) != DALA_OK);
    free(login);
done:
    dala_store_close(spare);
    dala_store_close(tablet);
    set_free(&captured);
    e2e_stop(&h);
}

static void test_accounts_cli_edit_renames_moves_and_changes_role_audited(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    int64_t id = user_with_password(&h, "e.insp", "inspector", h.unit_a);
    web_login session;
    CHECK_EQ_INT(web_sign_in(&session, h.port, "e.insp", PASSWORD), 200);
    char *unit_b = central_text(&h, "SELECT name FROM org_unit WHERE id = ?1", h.unit_b);
    CHECK_EQ_INT(ADMIN(&h, "user-edit", "--login", "e.insp", "--name", "Ерлан Инспекторов", "--unit", unit_b,
                       "--role", "unit_head"), 0);
    CHECK_EQ_INT(central_int(&h, "SELECT unit_id FROM app_user WHERE id = ?1", id, 0), h.unit_b);
    char *name = central_text(&h, "SELECT full_name || '/' || role FROM app_user WHERE id = ?1", id);
    CHECK_EQ_STR(name, "Ерлан Инспекторов/unit_head");
    free(name);
    /* The session goes on, with the new role and unit from its next request. */
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/session", &session), 200);
    CHECK_JSON(a.body, "$.user.role", "unit_head");
    char *unit_id = json_get(a.body, "$.user.unit_id");
    CHECK_EQ_INT(unit_id ? atoll(unit_id) : 0, h.unit_b);
    free(unit_id);
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/audit", &session), 200); /* a unit head reads the audit trail */
    /* Audited under the old unit and the new one, naming what changed. */
    CHECK_EQ_INT(audit_count(&h, "user_edit", "e.insp", h.unit_a), 1);
    CHECK_EQ_INT(audit_count(&h, "user_edit", "e.insp", h.unit_b), 1);
    char *detail = central_text(&h, "SELECT detail FROM audit WHERE action = 'user_edit' LIMIT 1", 0);
    CHECK_CONTAINS(detail, "role inspector -> unit_head");
    CHECK(detail && !strstr(detail, "Ерлан"));
    free(detail);

    /* A bad role in plain words; nothing changed. */
    char *err = NULL;
    CHECK_EQ_INT(admin_cli(&h, NULL, NULL, &err,
                           (const char *const[]){"user-edit", "--login", "e.insp", "--role", "boss", NULL}), 1);
    CHECK_CONTAINS(err, "role must be one of: inspector, unit_head, deputy, analyst, admin");
    CHECK(err && !strstr(err, "CHECK"));
    free(err);
    CHECK_EQ_INT(admin_cli(&h, NULL, NULL, &err, (const char *const[]){"user-edit", "--login", "e.insp", NULL}), 2);
    free(err);
    CHECK_EQ_INT(audit_count(&h, "user_edit", "e.insp", 0), 2);
    free(unit_b);
    web_answer_free(&a);
    e2e_stop(&h);
}

static void test_accounts_cli_password_reset_from_stdin_or_file_old_one_fails(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    user_with_password(&h, "p.head", "unit_head", h.unit_a);
    web_login session;
    CHECK_EQ_INT(web_sign_in(&session, h.port, "p.head", PASSWORD), 200);
    char stdin_path[600], file_path[600];
    snprintf(stdin_path, sizeof stdin_path, "%s/new-password.txt", h.dir);
    write_file(stdin_path, NEW_PASSWORD "\n", 0600);
    CHECK_EQ_INT(admin_cli(&h, stdin_path, NULL, NULL, (const char *const[]){"user-password", "--login", "p.head", NULL}), 0);
    CHECK_EQ_INT(session_status(&h, &session), 401); /* the old password's session ended */
    CHECK_EQ_INT(sign_in_status(&h, "p.head", PASSWORD, NULL), 401);
    CHECK_EQ_INT(sign_in_status(&h, "p.head", NEW_PASSWORD, NULL), 200);
    CHECK_EQ_INT(audit_count(&h, "user_password", "p.head", h.unit_a), 1);

    /* From a file only its owner reads; one others may read is refused. */
    snprintf(file_path, sizeof file_path, "%s/third.txt", h.dir);
    write_file(file_path, "Third-password-3\n", 0644);
    char *err = NULL;
    CHECK_EQ_INT(admin_cli(&h, NULL, NULL, &err, (const char *const[]){"user-password", "--login", "p.head",
                                                                       "--password-file", file_path, NULL}), 2);
    CHECK_CONTAINS(err, "can be read by others");
    free(err);
    chmod(file_path, 0600);
    CHECK_EQ_INT(ADMIN(&h, "user-password", "--login", "p.head", "--password-file", file_path), 0);
    CHECK_EQ_INT(sign_in_status(&h, "p.head", NEW_PASSWORD, NULL), 401);
    CHECK_EQ_INT(sign_in_status(&h, "p.head", "Third-password-3", NULL), 200);
    /* Too short: refused in plain words, the password kept. */
    write_file(stdin_path, "short\n", 0600);
    CHECK_EQ_INT(admin_cli(&h, stdin_path, NULL, &err, (const char *const[]){"user-password", "--login", "p.head", NULL}), 1);
    CHECK_CONTAINS(err, "at least 10 characters");
    free(err);
    CHECK_EQ_INT(sign_in_status(&h, "p.head", "Third-password-3", NULL), 200);
    CHECK_EQ_INT(audit_count(&h, "user_password", "p.head", 0), 2);
    e2e_stop(&h);
}

/* ------------------------------------------------------------- the routes */

static void test_accounts_web_admin_disables_enables_edits_and_resets(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    int64_t department = department_of(&h);
    int64_t admin_id = user_with_password(&h, "w.admin", "admin", department);
    int64_t target = user_with_password(&h, "w.head", "unit_head", h.unit_a);
    web_login admin, head;
    CHECK_EQ_INT(web_sign_in(&admin, h.port, "w.admin", PASSWORD), 200);
    CHECK_EQ_INT(web_sign_in(&head, h.port, "w.head", PASSWORD), 200);
    web_answer a = WEB_ANSWER_INIT;
    char path[96], body[256];

    /* Without the CSRF token nothing happens. */
    web_login no_token = admin;
    no_token.csrf[0] = '\0';
    snprintf(path, sizeof path, "/v1/users/%lld/disable", (long long)target);
    CHECK_EQ_INT(web_post(&a, h.port, path, &no_token, NULL), 403);
    CHECK_EQ_INT(session_status(&h, &head), 200);

    CHECK_EQ_INT(web_post(&a, h.port, path, &admin, NULL), 200);
    CHECK_JSON(a.body, "$.sessions_ended", "1");
    CHECK_EQ_INT(session_status(&h, &head), 401);
    CHECK_EQ_INT(sign_in_status(&h, "w.head", PASSWORD, NULL), 403);
    CHECK_EQ_INT(web_post(&a, h.port, path, &admin, NULL), 409);
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/users", &admin), 200);
    CHECK_EQ_INT(count_where(a.body, "$.users", "login", "w.head"), 1);
    CHECK(strstr(a.body, "\"disabled_at\": null") || strstr(a.body, "\"disabled_at\":null"));
    snprintf(body, sizeof body, "{\"user_id\": %lld}", (long long)target);
    CHECK_EQ_INT(web_post(&a, h.port, "/v1/enrol-codes", &admin, body), 409);
    /* The administrator's own account is not theirs to disable. */
    snprintf(path, sizeof path, "/v1/users/%lld/disable", (long long)admin_id);
    CHECK_EQ_INT(web_post(&a, h.port, path, &admin, NULL), 409);

    snprintf(path, sizeof path, "/v1/users/%lld/enable", (long long)target);
    CHECK_EQ_INT(web_post(&a, h.port, path, &admin, NULL), 200);
    CHECK_EQ_INT(web_sign_in(&head, h.port, "w.head", PASSWORD), 200);
    CHECK_EQ_INT(web_post(&a, h.port, path, &admin, NULL), 409);

    /* Rename, move to unit B, make a deputy: the next request sees it. */
    snprintf(path, sizeof path, "/v1/users/%lld", (long long)target);
    snprintf(body, sizeof body, "{\"full_name\": \"Жанар Бастық\", \"role\": \"deputy\", \"unit_id\": %lld}",
             (long long)h.unit_b);
    CHECK_EQ_INT(web_post(&a, h.port, path, &admin, body), 200);
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/session", &head), 200);
    CHECK_JSON(a.body, "$.user.role", "deputy");
    CHECK_JSON(a.body, "$.user.full_name", "Жанар Бастық");
    CHECK_EQ_INT(central_int(&h, "SELECT unit_id FROM app_user WHERE id = ?1", target, 0), h.unit_b);
    CHECK_EQ_INT(web_post(&a, h.port, path, &admin, "{\"role\": \"boss\"}"), 400);
    CHECK_CONTAINS(a.body, "role must be one of: inspector, unit_head, deputy, analyst, admin");
    CHECK_EQ_INT(web_post(&a, h.port, path, &admin, "{}"), 400);
    CHECK_EQ_INT(web_post(&a, h.port, path, &admin, "{\"unit_id\": 999999}"), 404);
    snprintf(path, sizeof path, "/v1/users/%lld", (long long)admin_id);
    CHECK_EQ_INT(web_post(&a, h.port, path, &admin, "{\"role\": \"analyst\"}"), 409);

    /* A new password: the old one fails, the new one works, sessions end. */
    snprintf(path, sizeof path, "/v1/users/%lld/password", (long long)target);
    CHECK_EQ_INT(web_post(&a, h.port, path, &admin, "{\"password\": \"short\"}"), 400);
    CHECK_EQ_INT(web_post(&a, h.port, path, &admin, "{\"password\": \"" NEW_PASSWORD "\"}"), 200);
    CHECK_EQ_INT(session_status(&h, &head), 401);
    CHECK_EQ_INT(sign_in_status(&h, "w.head", PASSWORD, NULL), 401);
    CHECK_EQ_INT(sign_in_status(&h, "w.head", NEW_PASSWORD, NULL), 200);

    /* Each audited once, by the administrator. */
    static const char *const actions[] = {"user_disable", "user_enable", "user_password"};
    for (size_t i = 0; i < 3; i++) CHECK_EQ_INT(audit_count(&h, actions[i], "w.head", 0), 1);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM audit WHERE user_id = ?1 AND action IN "
                                 "('user_disable', 'user_enable', 'user_edit', 'user_password')", admin_id, 0), 5);
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/audit", &admin), 200);
    CHECK_CONTAINS(a.body, "user_disable");
    CHECK_CONTAINS(a.body, "user_edit");
    web_answer_free(&a);
    e2e_stop(&h);
}

static void test_accounts_web_only_the_administrator_in_scope_manages_accounts(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    int64_t target = user_with_password(&h, "s.insp", "inspector", h.unit_b);
    user_with_password(&h, "s.head", "unit_head", h.unit_b);
    user_with_password(&h, "s.deputy", "deputy", department_of(&h));
    user_with_password(&h, "s.insp2", "inspector", h.unit_b);
    user_with_password(&h, "s.admin_a", "admin", h.unit_a);
    static const char *const logins[] = {"s.head", "s.deputy", "s.insp2"};
    static const char *const suffixes[] = {"/disable", "/enable", "/password", ""};
    web_answer a = WEB_ANSWER_INIT;
    char path[96];
    for (size_t i = 0; i < 3; i++) {
        web_login who;
        CHECK_EQ_INT(web_sign_in(&who, h.port, logins[i], PASSWORD), 200);
        for (size_t s = 0; s < 4; s++) {
            snprintf(path, sizeof path, "/v1/users/%lld%s", (long long)target, suffixes[s]);
            int status = web_post(&a, h.port, path, &who, "{\"password\": \"" NEW_PASSWORD "\", \"role\": \"admin\"}");
            if (status != 403) test_fail(__FILE__, __LINE__, "%s POST %s: %d, want 403", logins[i], path, status);
        }
    }
    /* An administrator of unit A does not see unit B's users. */
    web_login admin_a;
    CHECK_EQ_INT(web_sign_in(&admin_a, h.port, "s.admin_a", PASSWORD), 200);
    for (size_t s = 0; s < 4; s++) {
        snprintf(path, sizeof path, "/v1/users/%lld%s", (long long)target, suffixes[s]);
        int status = web_post(&a, h.port, path, &admin_a, "{\"password\": \"" NEW_PASSWORD "\", \"role\": \"admin\"}");
        if (status != 404) test_fail(__FILE__, __LINE__, "admin of A POST %s: %d, want 404", path, status);
    }
    CHECK_EQ_INT(web_post(&a, h.port, "/v1/users/abc/disable", &admin_a, NULL), 404);
    CHECK_EQ_INT(web_post(&a, h.port, "/v1/users/1/frobnicate", &admin_a, NULL), 404);
    snprintf(path, sizeof path, "/v1/users/%lld/disable", (long long)target);
    CHECK_EQ_INT(web_get(&a, h.port, path, &admin_a), 405);
    /* Nothing changed. */
    CHECK_EQ_INT(central_int(&h, "SELECT disabled_at IS NULL AND role = 'inspector' FROM app_user WHERE id = ?1",
                             target, 0), 1);
    CHECK_EQ_INT(sign_in_status(&h, "s.insp", PASSWORD, NULL), 200);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM audit WHERE action LIKE 'user_%'", 0, 0), 0);
    web_answer_free(&a);
    e2e_stop(&h);
}

const dala_test accounts_tests[] = {
    {"accounts_cli_disable_ends_sessions_and_refuses_sign_in_until_enabled",
     test_accounts_cli_disable_ends_sessions_and_refuses_sign_in_until_enabled},
    {"accounts_disabled_officer_enrols_no_tablet_and_hers_syncs_until_revoked",
     test_accounts_disabled_officer_enrols_no_tablet_and_hers_syncs_until_revoked},
    {"accounts_cli_edit_renames_moves_and_changes_role_audited",
     test_accounts_cli_edit_renames_moves_and_changes_role_audited},
    {"accounts_cli_password_reset_from_stdin_or_file_old_one_fails",
     test_accounts_cli_password_reset_from_stdin_or_file_old_one_fails},
    {"accounts_web_admin_disables_enables_edits_and_resets", test_accounts_web_admin_disables_enables_edits_and_resets},
    {"accounts_web_only_the_administrator_in_scope_manages_accounts",
     test_accounts_web_only_the_administrator_in_scope_manages_accounts},
    {NULL, NULL},
};
