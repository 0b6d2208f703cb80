/* supervisor.h - the supervisors of the API tests (test_web_api.c,
 * test_safety.c, test_reports.c, test_report_department.c): users of the
 * server's database given the suite's password (hashed once per run and
 * copied, since PBKDF2 is slow on purpose), signed in through POST
 * /v1/session, and requests made as one of them, who signs in when need be
 * and again when the server answers 401. */
#ifndef DALA_SUPERVISOR_H
#define DALA_SUPERVISOR_H

#include "server_harness.h"
#include "web_client.h"

#include <stdint.h>

/* A supervisor of the pages, signed in on first use. */
typedef struct supervisor {
    const char *login;    /* borrowed */
    const char *password; /* borrowed; given to the user before the first sign-in */
    int has_password;     /* the user's row holds the password already */
    web_login session;    /* the cookie and CSRF token; empty until signed in */
} supervisor;

/* Gives user `login` of the server's database the password `password`.
 * The server's own code hashes it for the first user of a run (and again
 * whenever another password is asked for); the hash, salt and iteration
 * count are then copied into each next user's row: PBKDF2 takes 0.05 to
 * 0.2 s, and every sign-in still checks the password in full. Returns 0,
 * or -1 after a failed check. */
int supervisor_password_set(const harness *h, const char *login, const char *password);

/* Gives user `login` the password `password` and signs them in. Returns
 * the session; a failed check, and an empty session, unless the server
 * answered 200 with a cookie and a CSRF token. */
web_login supervisor_sign_in_as(const harness *h, const char *login, const char *password);

/* Adds user `login` with `role` at `unit` (central_user_add) and makes `u`
 * them, to sign in with `password` (both borrowed). No request is made. */
void supervisor_add(supervisor *u, const harness *h, const char *login, const char *role, int64_t unit,
                    const char *password);

/* Signs `u` in, giving them their password first if they have none yet;
 * a failed check unless it worked. */
void supervisor_sign_in(supervisor *u, const harness *h);

/* One request as `u` to the path `path_format` makes; `json` NULL sends no
 * body, else it goes as application/json. Signs in first if need be, and
 * once more on 401 (a moved clock may end a session). Returns the status,
 * the answer in `out` (web_call). */
int supervisor_call(web_answer *out, const harness *h, supervisor *u, const char *method, const char *json,
                    const char *path_format, ...) __attribute__((format(printf, 6, 7)));

#endif /* DALA_SUPERVISOR_H */
