/* raw_client.h - a bare sync client for tests and benchmarks: enrols a
 * device with its own keys and sends hand-built frames, so hostile cases
 * (tampered, replayed, out-of-scope) and bulk loads can bypass the SDK. */
#ifndef DALA_RAW_CLIENT_H
#define DALA_RAW_CLIENT_H

#include "dala_sync.h"

typedef struct raw_device {
    dala_keypair keys;
    uint64_t id;
    uint8_t server_public[DALA_KEY_BYTES];
} raw_device;

/* POSTs `body` to 127.0.0.1:`port``path`; fills the status and appends
 * the answer. Returns 0, or -1 if the server could not be reached. */
int raw_post(int port, const char *path, const char *content_type, const void *body, size_t len,
             int *status, dala_buf *answer);

/* Enrols a fresh key pair with `code`. Returns 0 or -1. */
int raw_enroll(raw_device *dev, int port, const char *code);

/* Seals `request` as a HELLO of `dev`; `*hs` keeps the handshake. */
int raw_seal_request(dala_handshake **hs, dala_buf *frame, const raw_device *dev,
                     const dala_sync_request *request);

/* Posts a sealed frame; on 200 opens the REPLY with `hs` (if not NULL)
 * into `body`; on another status appends the answer to `error` (may be
 * NULL). Returns the HTTP status, or -1 if unreachable. */
int raw_post_frame(int port, dala_handshake *hs, const dala_buf *frame, dala_buf *body,
                   dala_buf *error);

/* Pushes `changes` as batch `seq` in one round trip; decodes the answer
 * into `response`, which borrows from `body`. Returns the HTTP status. */
int raw_push(int port, const raw_device *dev, uint64_t seq, const dala_change *changes,
             size_t count, dala_buf *body, dala_sync_response *response);

/* One field visit change of record `id_seed` (its 16 id bytes all
 * `id_seed`), with a visit date and a low risk level, and `purpose`
 * (NULL: left out, which the schema refuses). `fields` holds 3; the
 * change borrows it and `purpose`. */
dala_change raw_visit_change(dala_field *fields, uint8_t id_seed, uint64_t hlc, uint64_t device,
                             const char *purpose);

/* --- sockets on 127.0.0.1, for the tests' own fronts and stallers --- */

/* A TCP socket listening on 127.0.0.1 on a port the system picks, with
 * `backlog`; the port in `*port`. Returns the socket, or -1 with errno
 * set (nothing left open). */
int raw_listen_loopback(int *port, int backlog);
/* A TCP socket connected to 127.0.0.1:`port`, or -1 (nothing left open). */
int raw_connect(int port);
/* Sends all `len` bytes of `data` (no SIGPIPE). Returns 0, or -1 when
 * the peer is gone. */
int raw_send_all(int fd, const void *data, size_t len);

#endif
