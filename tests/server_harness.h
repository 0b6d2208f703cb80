/* server_harness.h - starts a real dala-server in the test process on
 * 127.0.0.1:0 with a fresh database in a temporary folder, with a small
 * organisation tree (a ministry, a department, units A and B) and one
 * officer per unit; and a raw HTTP client for the hostile tests. */
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
} harness;

/* Starts the server and makes the tree; CHECKs on failure. Returns 0 on
 * success. `page` is the server's largest pull page (0: default). */
int harness_start(harness *h, uint32_t page);
/* Stops the server (by its handle, in-process). */
void harness_stop(harness *h);
/* Starts the server again on the same database and port (after
 * harness_stop). */
int harness_restart(harness *h);
/* A fresh enrolment code for `user_id` in `unit_id`; `code` holds 32. */
int harness_code(harness *h, char *code, int64_t user_id, int64_t unit_id);
/* Revokes a device. */
int harness_revoke(harness *h, int64_t device_id);

/* POSTs `body` to `path`; fills the status and the answer (appended to
 * `answer`). Returns 0, or -1 if the server could not be reached. */
int harness_post(harness *h, const char *path, const char *content_type, const void *body,
                 size_t len, int *status, dala_buf *answer);

#endif
