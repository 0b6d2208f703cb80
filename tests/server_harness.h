/* server_harness.h - starts a real dala-server in the test process on
 * 127.0.0.1:0 with a fresh database in a temporary folder, with a small
 * organisation tree (a ministry, a department, units A and B) and one
 * officer per unit; starts it again with other options (an access log, a
 * clock the test sets); and a raw HTTP client for the hostile tests. */
#ifndef DALA_SERVER_HARNESS_H
#define DALA_SERVER_HARNESS_H

#include "dala_server.h"
#include "dala_sync.h"

typedef struct harness {
    dala_server *server;
    char dir[256];
    char db_path[300];
    char url[64];
    int port;
    uint32_t page;
    int64_t unit_a, unit_b, officer_a, officer_a2, officer_b;
    _Atomic int64_t clock_s; /* the time of harness_clock, unix seconds; 0: the system's */
} harness;

/* Starts the server and makes the tree; CHECKs on failure. Returns 0 on
 * success. `page` is the server's largest pull page (0: default). */
int harness_start(harness *h, uint32_t page);
/* Stops the server (by its handle, in-process). */
void harness_stop(harness *h);
/* Starts the server again on the same database and port (after
 * harness_stop). */
int harness_restart(harness *h);
/* Fills `out` with the options harness_restart starts the server with:
 * the harness's database, listening on its port (0 before the first
 * start) through `listen`, the caller's 32 bytes that `out` points into,
 * 8 threads, no request log (quiet). A test changes what it needs, then
 * calls harness_start_with. */
void harness_options(dala_server_options *out, char listen[32], const harness *h);
/* Starts the server with `options` and notes its port and URL in `h`.
 * Returns dala_server_start's code, unchecked: some tests expect a
 * refusal. */
int harness_start_with(harness *h, const dala_server_options *options);
/* For a test of other options: harness_start(h, 0) (the tree, on a port
 * now known), then stops the server and fills `out` through `listen` as
 * harness_options does. The test changes what it needs and calls
 * harness_start_with. Returns 0, or harness_start's code (then there is
 * nothing to stop). */
int harness_start_for_options(harness *h, dala_server_options *out, char listen[32]);

/* The process's TZ as it was before harness_start_clocked. */
typedef struct harness_tz {
    char saved[64];
    int was_set;
} harness_tz;

/* The tree with its server on the test's clock, in UTC: sets the
 * process's TZ to UTC (the report deadlines are the server's local time,
 * and the times harness_clock_set takes are UTC), keeping the old one in
 * `keep` for harness_tz_restore; then harness_start and
 * harness_restart_clocked. Returns 0 on success. */
int harness_start_clocked(harness *h, harness_tz *keep);
/* Puts back the TZ that harness_start_clocked replaced. */
void harness_tz_restore(const harness_tz *keep);
/* Sets the time harness_clock gives to `when`, "2026-10-05 23:00" in UTC
 * (harness_utc_seconds); NULL gives the system's time again. */
void harness_clock_set(harness *h, const char *when);
/* "2026-10-05 23:00" or "2026-10-05" in UTC as unix seconds; a failed
 * check on any other text. */
int64_t harness_utc_seconds(const char *when);
/* Stops the server and starts it again on the same database and port
 * with harness_clock as its clock; CHECKs on failure. Returns 0 on
 * success. */
int harness_restart_clocked(harness *h);
/* A dala_server_options.clock whose context is a harness: its clock_s
 * when set, else the system's time. */
int64_t harness_clock(void *context);

/* A fresh enrolment code for `user_id` in `unit_id`; `code` holds 32. */
int harness_code(harness *h, char *code, int64_t user_id, int64_t unit_id);
/* Revokes a device. */
int harness_revoke(harness *h, int64_t device_id);

/* POSTs `body` to `path`; fills the status and the answer (appended to
 * `answer`). Returns 0, or -1 if the server could not be reached. */
int harness_post(harness *h, const char *path, const char *content_type, const void *body,
                 size_t len, int *status, dala_buf *answer);

#endif
