/* sdk_harness.h - helpers for the tests of libdala (client-sdk/): a fake
 * server that answers the SDK's transport in-process, and a store opened
 * and enrolled against it.
 *
 * The fake speaks the real protocol of docs/http-api.md with libdala_sync
 * (Noise KK handshake, sync messages, batch codec), so the SDK's sealing,
 * batching and paging are exercised for real; what it fakes is the
 * server's storage: pushed changes are appended to one unit's log as they
 * come, without merge or validation, and pulled back in pages (the real
 * server leaves out the asking device's own fields; the fake echoes them
 * unless told not to). After a handshake it keeps the session, and opens
 * DATA frames with it, as the real one does. Knobs let
 * a test refuse changes, answer an HTTP error, lose a request or its
 * answer, corrupt a reply, or change the server epoch. The end-to-end
 * tests against dala-server itself live elsewhere. */
#ifndef DALA_SDK_HARNESS_H
#define DALA_SDK_HARNESS_H

#include "dala_sync.h"

#include "dala.h"

#define FAKE_MAX_REFUSALS 16
#define FAKE_ENROLL_CODE "K7QX-M2PD-9WTR"
#define FAKE_DEVICE_ID 12
#define FAKE_UNIT_ID 3

typedef struct fake_server {
    dala_transport transport; /* pass &server->transport to the SDK */
    dala_keypair server_key;
    uint8_t device_public[DALA_KEY_BYTES];
    int has_device;
    uint64_t device_id, unit_id, server_epoch;
    uint32_t key_epoch;

    dala_session *session; /* the device's live session, after a handshake */

    /* The unit's log: each entry a one-change batch; seq = index + 1. */
    dala_buf *log;
    size_t log_count, log_alloc;
    uint64_t last_batch_seq;
    dala_change_result refusals[FAKE_MAX_REFUSALS]; /* of the last applied batch */
    size_t refusal_count;

    /* Knobs, for the next requests. */
    int http_status;        /* answer /v1/sync with this status (0: normal) */
    int busy_answers;       /* answer this many /v1/sync requests 503 EBUSY, then normally */
    int lose_request;       /* fail before the server sees the request */
    int lose_answer;        /* apply, then fail as if the answer was lost */
    int corrupt_reply;      /* flip a bit of the sealed reply */
    int echo_own_changes;   /* pushed changes enter the log (default 1) */
    int forget_session;     /* answer the next DATA frame ESESSION, as after a restart */
    uint32_t refuse_index[FAKE_MAX_REFUSALS]; /* indexes of the next applied batch to refuse */
    size_t refuse_count;

    /* What the fake saw. */
    unsigned sync_requests;
    unsigned hello_requests;   /* of those, handshakes */
    unsigned data_requests;    /* of those, DATA frames */
    unsigned batches_applied;
    uint64_t seen_batch_seq;   /* of the last request */
    size_t seen_change_count;
    size_t seen_cursor_count;
    uint64_t seen_cursor_seq;  /* the request's cursor of the fake's unit, 0 if none */
    uint64_t seen_server_epoch;
    dala_buf seen_push;        /* the last request's push bytes */
} fake_server;

/* Starts a fake with a fresh server key; free with fake_server_free. */
void fake_server_init(fake_server *server);
void fake_server_free(fake_server *server);

/* Appends another device's change to the unit's log (copied). */
int fake_server_add_change(fake_server *server, const dala_change *change);

/* Opens `dir`/dala.db and enrols it with the fake. */
int sdk_open_enrolled(dala_store **out, fake_server *server, const char *dir);

/* A path under `dir`, in a static buffer (one at a time). */
const char *sdk_path(const char *dir, const char *name);

/* Runs an SQL statement on a store file through a second connection (to
 * look at rows, or to plant a fault); returns the first column of the
 * first row as an integer, or -1 on failure. */
long long sdk_sql(const char *db_path, const char *sql);

#endif /* DALA_SDK_HARNESS_H */
