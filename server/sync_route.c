/* sync_route.c - POST /v1/sync: one round trip that opens the device's
 * sealed HELLO, applies its push, reads its next pull page and answers
 * with a sealed REPLY; or, within a live session (sessions.c), the same
 * with DATA frames both ways and no handshake. A device marked lost gets
 * its state and nothing else (answer_lost). The device is known by the
 * id in the frame header and proven by its key (the frame opens only with
 * the key enrolled for that id); its unit comes from the server's records.
 * Errors are plain JSON answers with a status that says what went wrong. */
#include "server_int.h"
#include "sync_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct sync_call {
    dala_server *server;
    struct mg_connection *conn;
    server_conn *db;
    server_device device;
    dala_frame_header header;
    server_key_pick_result key; /* the key of the frame's epoch, and the current one's public half */
    dala_handshake *handshake;
    dala_session *session; /* a DATA round trip, or the one a handshake made */
    int64_t session_expires_ms;
    dala_buf frame, body, answer, pull, reply;
    dala_sync_request request;
    push_result push;
    dala_cursor *cursors;
    void *gone;             /* record ids the device may not have */
    uint32_t *partial;      /* changes of records the page sent in part */
    int status;
} sync_call;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Opens the frame: a HELLO through a fresh handshake, a DATA frame through
 * the device's live session. */
static int open_frame(sync_call *call)
{
    if (call->header.frame_type == DALA_FRAME_DATA) {
        int rc = session_table_take(&call->session, &call->session_expires_ms, call->server->sessions,
                                    call->device.id, (int64_t)now_ms());
        if (!rc) rc = dala_session_open(call->session, &call->body, NULL, call->frame.data,
                                        call->frame.len, DALA_MAX_BODY_BYTES);
        /* Not this session's frame (a forgery, or the device's session was
         * replaced by a replayed HELLO): the device should handshake again.
         * The session itself stays, so a forgery costs the device nothing. */
        if (rc == DALA_EAUTH)
            rc = dala_error_set(DALA_ESESSION, "sync: the DATA frame does not open under the live "
                                "session; handshake again");
        return rc;
    }
    if (call->header.frame_type != DALA_FRAME_HELLO)
        return dala_error_set(DALA_ECORRUPT, "sync: expected a HELLO or DATA frame, got type %u",
                              call->header.frame_type);
    int rc = dala_handshake_new(&call->handshake, 0, &call->key.pair, call->device.public_key, NULL);
    if (!rc) rc = dala_handshake_read(call->handshake, &call->body, NULL, call->frame.data,
                                      call->frame.len, DALA_MAX_BODY_BYTES);
    return rc;
}

/* Seals the answer as a REPLY (then keeps the new session) or as DATA. */
static int seal_answer(sync_call *call)
{
    dala_frame_header header = call->header;
    header.compression = DALA_COMPRESS_DEFLATE;
    header.schema_version = dala_schema_version();
    if (call->session)
        return dala_session_seal(call->session, &call->reply, &header, call->answer.data, call->answer.len);
    int rc = dala_handshake_write(call->handshake, &call->reply, &header, call->answer.data,
                                  call->answer.len);
    if (!rc && dala_session_new(&call->session, call->handshake) == DALA_OK)
        call->session_expires_ms = (int64_t)now_ms() + DALA_SESSION_SECONDS * 1000;
    return rc;
}

/* A device of a schema version this server no longer accepts is told to
 * update; one newer than the server, that the server is behind. */
static int check_schema_version(uint32_t version)
{
    if (version < dala_schema_oldest())
        return dala_error_set(DALA_ESCHEMA, "sync: device_too_old %u: this app's schema version %u is older than "
                              "the oldest this server accepts (%u); update the app", dala_schema_oldest(), version,
                              dala_schema_oldest());
    if (version > dala_schema_version())
        return dala_error_set(DALA_ESCHEMA, "sync: device_too_new %u: this app's schema version %u is newer than "
                              "the server's (%u); the server must be updated first", dala_schema_version(), version,
                              dala_schema_version());
    return DALA_OK;
}

/* Reads, parses and opens the frame, and decodes the request. */
static int open_request(sync_call *call)
{
    size_t cap = call->server->options.max_body_bytes;
    if (cap > DALA_MAX_FRAME_BYTES) cap = DALA_MAX_FRAME_BYTES;
    int rc = http_read_body(call->conn, &call->frame, cap);
    if (!rc) rc = dala_frame_header_parse(&call->header, call->frame.data, call->frame.len);
    if (!rc) rc = check_schema_version(call->header.schema_version);
    if (!rc && !(call->db = server_conn_get(call->server))) rc = DALA_EIO;
    /* Any key epoch whose secret is still held (server_keys.c): a rotation
     * made by `admin rotate-key` is picked up here first. */
    if (!rc) server_keys_refresh(call->server, call->db->db);
    if (!rc) rc = server_key_pick(&call->key, call->server, call->header.key_epoch);
    if (!rc) rc = server_device_load(&call->device, call->db, (int64_t)call->header.device_id);
    if (!rc) rc = open_frame(call);
    /* Only a device that proved its key learns that it is revoked. One
     * marked lost as well is told it is lost (answer_lost), so it erases. */
    if (!rc && call->device.is_revoked && !call->device.is_lost) {
        call->status = 403;
        return dala_error_set(DALA_EAUTH, "sync: device %lld is revoked", (long long)call->device.id);
    }
    if (!rc) rc = dala_sync_request_decode(&call->request, call->body.data, call->body.len);
    return rc;
}

/* The number of changes a push batch says it holds, read from its header
 * alone (codec version, schema version, batch number, count); 0 if the
 * header does not read. For /metrics. */
static uint64_t push_change_count(const uint8_t *push, size_t len)
{
    if (!push || !len) return 0;
    dala_reader r;
    dala_reader_init(&r, push, len, "push header");
    dala_read_u8(&r);
    dala_read_varint(&r);
    dala_read_varint(&r);
    uint64_t count = dala_read_varint(&r);
    return r.err ? 0 : count;
}

/* Applies the push, reads the pull, and seals the answer. */
static int answer_request(sync_call *call)
{
    int rc = server_apply_push(&call->push, call->server, call->db, &call->device,
                               call->request.push, call->request.push_len);
    dala_sync_response response;
    memset(&response, 0, sizeof response);
    response.server_epoch = call->server->epoch;
    response.server_time_ms = dala_wall_clock_ms(); /* the device measures its clock against it */
    response.acked_batch_seq = call->push.acked_batch_seq;
    response.rejected_count = call->push.rejected_count;
    response.rejected = call->push.rejected;
    /* A device on an older key epoch learns the current key, inside the
     * answer sealed under the old one. */
    if (call->header.key_epoch < call->key.current_epoch) {
        response.next_key_epoch = call->key.current_epoch;
        memcpy(response.next_server_key, call->key.current_public_key, DALA_KEY_BYTES);
    }
    if (!rc) rc = server_read_pull(&response, &call->pull, &call->cursors, &call->gone, call->db, &call->device,
                                   &call->request, call->server->options.max_pull_changes);
    call->partial = (uint32_t *)response.partial;
    if (!rc) rc = dala_sync_response_encode(&call->answer, &response);
    if (!rc) rc = seal_answer(call);
    return rc;
}

/* Records, once, that a lost device erased its store: the moment and an
 * audit entry, in one transaction. */
static int note_wipe_confirmed(sync_call *call)
{
    sqlite3 *db = call->db->db;
    sqlite3_stmt *stmt;
    char detail[48];
    snprintf(detail, sizeof detail, "device %lld", (long long)call->device.id);
    int rc = server_db_begin(db);
    if (rc) return rc;
    if (sqlite3_prepare_v2(db, "UPDATE device SET wipe_confirmed_at = ?2 WHERE id = ?1 AND wipe_confirmed_at IS NULL",
                           -1, &stmt, NULL) != SQLITE_OK) {
        rc = server_db_error(db, "note the wipe");
    } else {
        sqlite3_bind_int64(stmt, 1, call->device.id);
        sqlite3_bind_int64(stmt, 2, (int64_t)time(NULL));
        rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(db, "note the wipe");
        sqlite3_finalize(stmt);
    }
    if (!rc && sqlite3_changes(db) == 1)
        rc = server_audit_add(db, 0, "device_wiped", call->device.unit_id, NULL, detail);
    if (!rc) rc = server_db_commit(db);
    if (rc) server_db_rollback(db);
    return rc;
}

/* The answer to a device marked lost (docs/protocol.md, 10.8): its state
 * and the server's clock, nothing else. Nothing of the request is taken:
 * no push applied, no page read, no cursor moved. A request that says the
 * store was erased (DALA_REQUEST_WIPED) is noted first. */
static int answer_lost(sync_call *call)
{
    int rc = call->request.flags & DALA_REQUEST_WIPED ? note_wipe_confirmed(call) : DALA_OK;
    dala_sync_response response;
    memset(&response, 0, sizeof response);
    response.server_epoch = call->server->epoch;
    response.server_time_ms = dala_wall_clock_ms();
    response.device_state = DALA_DEVICE_LOST;
    if (!rc) rc = dala_sync_response_encode(&call->answer, &response);
    if (!rc) rc = seal_answer(call);
    return rc;
}

/* Notes when the device last synced (at most once a minute). After the
 * answer has left: under other writers this write may wait, and an
 * answer held back behind it is an acknowledgement the device may lose. */
static void note_synced(sync_call *call)
{
    sqlite3_stmt *stmt = server_stmt_get(call->db, STMT_DEVICE_SET_SYNCED);
    if (!stmt) return;
    sqlite3_bind_int64(stmt, 1, call->device.id);
    sqlite3_bind_int64(stmt, 2, (int64_t)time(NULL));
    sqlite3_step(stmt);
    sqlite3_reset(stmt);
}

/* A session goes back for the device's next sync, whatever happened (a
 * forged frame must not cost the device its session), and before the
 * answer leaves: a device that syncs again at once must find it. */
static void give_back_session(sync_call *call)
{
    if (call->session)
        session_table_put(call->server->sessions, call->device.id, call->session,
                          call->session_expires_ms, (int64_t)now_ms());
    call->session = NULL;
}

static void sync_call_free(sync_call *call)
{
    give_back_session(call);
    dala_handshake_free(call->handshake);
    server_key_pick_wipe(&call->key);
    dala_buf_free(&call->frame);
    dala_buf_free(&call->body);
    dala_buf_free(&call->answer);
    dala_buf_free(&call->pull);
    dala_buf_free(&call->reply);
    dala_sync_request_clear(&call->request);
    push_result_free(&call->push);
    free(call->cursors);
    free(call->gone);
    free(call->partial);
}

int route_sync(struct mg_connection *conn, void *context)
{
    double started = now_ms();
    sync_call call;
    memset(&call, 0, sizeof call);
    call.server = context;
    server_note_sync(call.server, 1);
    call.conn = conn;
    int rc;
    if (strcmp(mg_get_request_info(conn)->request_method, "POST") != 0) {
        call.status = 405;
        rc = dala_error_set(DALA_EINVAL, "sync: use POST");
    } else {
        rc = open_request(&call);
        if (!rc) rc = call.device.is_lost ? answer_lost(&call) : answer_request(&call);
    }
    give_back_session(&call);
    /* Counted before the answer leaves, so a client that asks /metrics
     * next sees its sync; changes once the push committed (acknowledged),
     * and a batch answered again after a lost answer counts again. */
    uint64_t pushed = call.push.acked_batch_seq ? push_change_count(call.request.push, call.request.push_len) : 0;
    uint64_t refused = call.push.rejected_count;
    metrics_count_sync(&call.server->metrics, now_ms() - started, pushed > refused ? pushed - refused : 0, refused);
    if (rc) {
        if (!call.status) call.status = http_status_for(rc);
        http_send_error(conn, call.status, rc, dala_errmsg());
    } else {
        call.status = 200;
        http_send_ok(conn, "application/octet-stream", call.reply.data, call.reply.len);
        note_synced(&call);
    }
    double elapsed_ms = now_ms() - started;
    server_log_request(call.server, conn, call.status, call.device.id, elapsed_ms);
    server_note_sync(call.server, 0);
    sync_call_free(&call);
    return call.status;
}
