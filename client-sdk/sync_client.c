/* sync_client.c - dala_sync: the loop of round trips that pushes the
 * outbox and pulls what the device may see (docs/http-api.md, POST
 * /v1/sync; docs/protocol.md).
 *
 * One round trip: take the batch in flight, or number the next one
 * (outbox.c); build the request (push batch, pull cursors, last server
 * epoch); seal it; POST it; open the answer; apply the response in one
 * transaction (pull.c). Repeat while changes wait or the server has more.
 * Nothing is acknowledged locally before the server's answer is
 * committed, so an interruption at any point only means the same batch
 * goes out again.
 *
 * Sealing: the first round trip is a Noise KK handshake (HELLO, REPLY)
 * with the device's static key and the server's. Its transport keys then
 * stay with the store handle, in memory only, as a session: the next
 * round trips within 100 s (the server keeps it 120 s) travel as DATA
 * frames and skip the X25519 work. When the server answers ESESSION
 * (restarted, or the session was replaced), the round trip is made again
 * with a handshake; so it is when the server refuses a DATA frame with
 * any 401, since it cannot tell a frame of a session it replaced (after a
 * replayed HELLO) from a forged one, and the handshake is the
 * authoritative way to learn whether the device itself is refused.
 *
 * A tablet the server names lost (a supervisor marked it) applies nothing
 * of the answer: it erases its store and confirms over the same session
 * (erase_lost_store), and dala_sync returns DALA_EWIPED. */
#include "sdk_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_PAGE_CHANGES 1000u
/* Round trips a sync makes past the end of the log for records it wants whole. */
#define MAX_WANTED_TRIPS 3u
#define DEFAULT_MAX_ROUND_TRIPS 100000u
/* The server keeps a session 120 s from its handshake (docs/protocol.md,
 * 5); the device stops using it sooner, counted from before its HELLO. */
#define DALA_SESSION_LOCAL_MS 100000u

typedef struct sync_run {
    dala_store *store;
    const dala_sync_options *options;
    dala_enrolment enrolment;
    dala_keypair device_key;
    char url[1100];
    uint32_t page_changes;
    uint32_t push_changes;
    int timeout_ms;
    dala_sync_stats *stats;
    uint64_t push_total; /* for progress: changes acknowledged + still waiting */
} sync_run;

/* Maps an HTTP refusal of /v1/sync to a code and a clear message. A 401
 * with code ESESSION only means the server has no session for a DATA
 * frame, and a 401 of a DATA frame (`in_session`) may mean the server's
 * session is no longer this one: DALA_ESESSION, and the caller handshakes
 * again. */
static int sync_refused(sqlite3 *db, int status, const uint8_t *body, size_t len,
                        const char *url, int in_session)
{
    char *why = dala_http_error_member(db, body, len, "error");
    char *code = dala_http_error_member(db, body, len, "code");
    const char *detail = why ? why : "no reason given";
    int rc;
    if (status == 401 && code && strcmp(code, "ESESSION") == 0) {
        rc = dala_error_set(DALA_ESESSION, "the server has no live session for this device: %s", detail);
    } else if (status == 401 && in_session) {
        rc = dala_error_set(DALA_ESESSION, "the server refused a frame of the session: %s", detail);
    } else switch (status) {
    case 401:
    case 403:
        rc = dala_error_set(DALA_EAUTH, "device revoked or unknown (HTTP %d: %s)", status, detail);
        break;
    case 413: rc = dala_error_set(DALA_ELIMIT, "the request is too large for the server: %s", detail); break;
    case 426:
        rc = dala_error_set(DALA_ESCHEMA, "the server no longer reads this app's protocol or schema "
                                          "version; update the app (%s)", detail);
        break;
    case 400: rc = dala_error_set(DALA_ECORRUPT, "the server refused the request: %s", detail); break;
    case 503:
        rc = code && strcmp(code, "EBUSY") == 0
                 ? dala_error_set(DALA_EBUSY, "the server's database is busy: %s", detail)
                 : dala_error_set(DALA_EIO, "the server is shutting down; try again later");
        break;
    case 507:
        rc = dala_error_set(DALA_ENOSPACE, "the server's disk is full; the changes stay on this tablet "
                                           "until it has room: %s", detail);
        break;
    default: rc = dala_error_set(DALA_EIO, "%s answered HTTP %d: %s", url, status, detail); break;
    }
    free(why);
    free(code);
    return rc;
}

static int load_cursors(dala_cursor **out, size_t *count, sqlite3 *db)
{
    sqlite3_stmt *stmt;
    size_t alloc = 0;
    *out = NULL;
    *count = 0;
    int rc = dala_db_prepare(&stmt, db, "SELECT unit_id, seq, whole_to FROM pull_cursor ORDER BY unit_id");
    if (rc) return rc;
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*count == DALA_MAX_CURSORS) {
            rc = dala_error_set(DALA_ELIMIT, "more than %u pull cursors", DALA_MAX_CURSORS);
            break;
        }
        if (*count == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            dala_cursor *grown = realloc(*out, alloc * sizeof *grown);
            if (!grown) {
                rc = dala_error_set(DALA_ENOMEM, "load cursors: out of memory");
                break;
            }
            *out = grown;
        }
        (*out)[*count].unit_id = (uint64_t)sqlite3_column_int64(stmt, 0);
        (*out)[*count].seq = (uint64_t)sqlite3_column_int64(stmt, 1);
        (*out)[*count].whole_to = (uint64_t)sqlite3_column_int64(stmt, 2);
        (*count)++;
    }
    if (!rc && step != SQLITE_DONE) rc = dala_db_error(db, step, "read pull cursors");
    sqlite3_finalize(stmt);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* The records this device met in part and asks for whole, at most
 * DALA_MAX_WANTED, as 16-byte ids into `ids`. */
static int load_wanted(uint8_t ids[DALA_MAX_WANTED][DALA_UUID_BYTES], size_t *count, sqlite3 *db)
{
    sqlite3_stmt *stmt;
    *count = 0;
    int rc = dala_db_prepare(&stmt, db, "SELECT record_id FROM wanted ORDER BY record_id LIMIT ?1");
    if (rc) return rc;
    sqlite3_bind_int(stmt, 1, DALA_MAX_WANTED);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW)
        if (dala_uuid_parse(ids[*count], (const char *)sqlite3_column_text(stmt, 0)) == DALA_OK) (*count)++;
    if (!rc && step != SQLITE_DONE) rc = dala_db_error(db, step, "read wanted records");
    sqlite3_finalize(stmt);
    return rc;
}

/* Encodes the sync request: the push batch, the cursors, the last epoch,
 * the records wanted whole. */
static int build_request(dala_buf *out, sync_run *run, const dala_push_batch *batch)
{
    dala_cursor *cursors = NULL;
    size_t cursor_count = 0, wanted_count = 0;
    int64_t server_epoch;
    uint8_t wanted[DALA_MAX_WANTED][DALA_UUID_BYTES];
    int rc = load_cursors(&cursors, &cursor_count, run->store->db);
    if (!rc) rc = dala_meta_get_int(&server_epoch, run->store->db, "server_epoch", 0);
    if (!rc) rc = load_wanted(wanted, &wanted_count, run->store->db);
    if (!rc) {
        dala_sync_request request = {(uint64_t)server_epoch, run->page_changes, cursor_count, cursors,
                                     batch->encoded.data, batch->encoded.len, wanted_count, wanted[0], 0};
        rc = dala_sync_request_encode(out, &request);
    }
    free(cursors);
    return rc;
}

/* How many records this device still asks for whole. */
static int count_wanted(uint64_t *out, sqlite3 *db)
{
    sqlite3_stmt *stmt;
    *out = 0;
    int rc = dala_db_prepare(&stmt, db, "SELECT count(*) FROM wanted");
    if (rc) return rc;
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) *out = (uint64_t)sqlite3_column_int64(stmt, 0);
    else rc = dala_db_error(db, step, "count wanted records");
    sqlite3_finalize(stmt);
    return rc;
}

/* POSTs a sealed frame (a DATA frame when `in_session`); DALA_OK only
 * for a 200 answer, left in *reply. */
static int post_frame(uint8_t **reply, size_t *reply_len, sync_run *run, const dala_buf *frame,
                      size_t change_count, int in_session)
{
    int status = 0;
    int rc = dala_transport_post(run->options->transport, run->url, "application/octet-stream",
                                 frame->data, frame->len, &status, reply, reply_len,
                                 DALA_MAX_FRAME_BYTES, run->timeout_ms);
    if (rc) return rc;
    run->stats->round_trips++;
    run->stats->bytes_sent += frame->len;
    run->stats->bytes_received += *reply_len;
    run->stats->pushed += change_count;
    if (status == 200) return DALA_OK;
    rc = sync_refused(run->store->db, status, *reply, *reply_len, run->enrolment.server_url,
                      in_session);
    free(*reply);
    *reply = NULL;
    return rc;
}

static void drop_session(dala_store *store)
{
    dala_session_free(store->session);
    store->session = NULL;
    store->session_expires_ms = 0;
}

static dala_frame_header request_header(const sync_run *run, int frame_type)
{
    dala_frame_header header = {DALA_PROTOCOL_VERSION, (uint8_t)frame_type, DALA_SUITE_AES256GCM,
                                DALA_COMPRESS_DEFLATE, dala_device_schema_version(),
                                run->enrolment.device_id, run->enrolment.key_epoch, 0};
    return header;
}

/* Checks that an opened answer is about this device. */
static int check_answer_header(const sync_run *run, const dala_frame_header *header)
{
    if (header->device_id == run->enrolment.device_id) return DALA_OK;
    return dala_error_set(DALA_EAUTH, "the server's answer names device %llu, not %llu",
                          (unsigned long long)header->device_id,
                          (unsigned long long)run->enrolment.device_id);
}

/* One exchange under the live session: a DATA frame each way. */
static int exchange_in_session(dala_buf *body, sync_run *run, const dala_buf *request,
                               size_t change_count)
{
    dala_store *store = run->store;
    dala_buf frame = DALA_BUF_INIT;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    dala_frame_header header = request_header(run, DALA_FRAME_DATA), answer;
    int rc = dala_session_seal(store->session, &frame, &header, request->data, request->len);
    if (rc == DALA_ELIMIT) rc = dala_error_set(DALA_ESESSION, "the session has sealed its last frame");
    if (!rc) rc = post_frame(&reply, &reply_len, run, &frame, change_count, 1);
    if (!rc) {
        rc = dala_session_open(store->session, body, &answer, reply, reply_len, DALA_MAX_BODY_BYTES);
        if (rc) dala_error_set(rc, "the server's answer does not open with the session's key: %s",
                               dala_errmsg());
        else rc = check_answer_header(run, &answer);
        if (rc) drop_session(store);
    }
    if (rc == DALA_ESESSION) drop_session(store);
    dala_buf_free(&frame);
    free(reply);
    return rc;
}

/* One exchange that opens with a handshake (HELLO, REPLY); keeps the
 * handshake's keys as the live session for the next round trips. */
static int exchange_with_handshake(dala_buf *body, sync_run *run, const dala_buf *request,
                                   size_t change_count)
{
    dala_handshake *hs = NULL;
    dala_buf frame = DALA_BUF_INIT;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    dala_frame_header header = request_header(run, DALA_FRAME_HELLO), answer;
    uint64_t started_ms = dala_wall_clock_ms();
    int rc = dala_handshake_new(&hs, 1, &run->device_key, run->enrolment.server_public_key, NULL);
    if (!rc) rc = dala_handshake_write(hs, &frame, &header, request->data, request->len);
    if (!rc) rc = post_frame(&reply, &reply_len, run, &frame, change_count, 0);
    if (!rc) {
        rc = dala_handshake_read(hs, body, &answer, reply, reply_len, DALA_MAX_BODY_BYTES);
        if (rc) dala_error_set(rc, "the server's reply does not open with its enrolled key: %s",
                               dala_errmsg());
        else rc = check_answer_header(run, &answer);
    }
    /* A session is a saving, not a need: without one, the next round trip
     * handshakes again. */
    if (!rc && dala_session_new(&run->store->session, hs) == DALA_OK)
        run->store->session_expires_ms = started_ms + DALA_SESSION_LOCAL_MS;
    dala_handshake_free(hs);
    dala_buf_free(&frame);
    free(reply);
    return rc;
}

/* One round trip: on DALA_OK `body` holds the opened answer, which
 * `response` borrows from. Uses the live session when there is one, and
 * handshakes when there is none or the server has forgotten it. */
static int round_trip(dala_sync_response *response, dala_buf *body, sync_run *run,
                      const dala_push_batch *batch)
{
    dala_buf request = DALA_BUF_INIT;
    int rc = build_request(&request, run, batch);
    if (rc) goto done;
    if (run->store->session && dala_wall_clock_ms() >= run->store->session_expires_ms)
        drop_session(run->store);
    rc = DALA_ESESSION;
    if (run->store->session) rc = exchange_in_session(body, run, &request, batch->count);
    if (rc == DALA_ESESSION) {
        dala_buf_reset(body);
        rc = exchange_with_handshake(body, run, &request, batch->count);
    }
    if (rc) goto done;
    rc = dala_sync_response_decode(response, body->data, body->len);
    if (rc) dala_error_set(rc, "the server's response: %s", dala_errmsg());
    /* A lost device's answer acknowledges nothing: the store is erased next. */
    if (!rc && batch->batch_seq && response->device_state != DALA_DEVICE_LOST &&
        response->acked_batch_seq != batch->batch_seq) {
        rc = dala_error_set(DALA_EIO, "the server answered without acknowledging batch %llu "
                                      "(it acknowledged %llu)", (unsigned long long)batch->batch_seq,
                            (unsigned long long)response->acked_batch_seq);
        dala_sync_response_clear(response);
    }
done:
    dala_buf_free(&request);
    return rc;
}

/* Tells the server the store is erased: one request with
 * DALA_REQUEST_WIPED and nothing else, sealed under `session` (borrowed),
 * the session of the answer that named the tablet lost. */
static int confirm_wipe(sync_run *run, dala_session *session)
{
    dala_sync_request request;
    dala_buf encoded = DALA_BUF_INIT, frame = DALA_BUF_INIT, body = DALA_BUF_INIT;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    dala_frame_header header = request_header(run, DALA_FRAME_DATA);
    memset(&request, 0, sizeof request);
    request.flags = DALA_REQUEST_WIPED;
    int rc = dala_sync_request_encode(&encoded, &request);
    if (!rc) rc = dala_session_seal(session, &frame, &header, encoded.data, encoded.len);
    if (!rc) rc = post_frame(&reply, &reply_len, run, &frame, 0, 1);
    if (!rc) rc = dala_session_open(session, &body, NULL, reply, reply_len, DALA_MAX_BODY_BYTES);
    dala_buf_free(&encoded);
    dala_buf_free(&frame);
    dala_buf_free(&body);
    free(reply);
    return rc;
}

/* The server says a supervisor marked this tablet lost (docs/protocol.md,
 * 10.8): the store is erased (records, outbox, keys: dala_store_wipe), then
 * the server is told so over the live session, which is then freed. The
 * session is taken from the store first, since the wipe frees it. Returns
 * DALA_EWIPED once the store is gone, or the wipe's failure. */
static int erase_lost_store(sync_run *run)
{
    dala_store *store = run->store;
    dala_session *session = store->session;
    store->session = NULL;
    store->session_expires_ms = 0;
    int rc = dala_store_wipe(store, "the server says this tablet was marked lost");
    int confirmed = rc == DALA_EWIPED && session && confirm_wipe(run, session) == DALA_OK;
    dala_session_free(session);
    if (rc == DALA_EWIPED)
        rc = dala_error_set(DALA_EWIPED, "a supervisor marked this tablet lost: its store was erased (records, "
                            "outbox and keys)%s", confirmed ? "" : "; the server could not be told");
    return rc;
}

static void report(sync_run *run, dala_sync_phase phase, uint64_t done, uint64_t total)
{
    if (run->options->progress) run->options->progress(run->options->progress_context, phase, done, total);
}

/* A round trip the server answered busy (503 EBUSY, Retry-After: 1) is
 * tried again after 0.25, 0.5, 1, 2 and 4 s, growing so that tablets do
 * not crowd a busy server: the same batch, which the server applies once.
 * About 8 s in all, then DALA_EBUSY and the changes stay queued. */
#define BUSY_RETRIES 5
#define BUSY_FIRST_WAIT_MS 250u

static void sleep_ms(uint32_t ms)
{
    struct timespec pause = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    nanosleep(&pause, NULL);
}

/* One round trip, tried again while the server answers busy. */
static int round_trip_patiently(dala_sync_response *response, dala_buf *body, uint64_t *sent_boot_ms,
                                sync_run *run, const dala_push_batch *batch)
{
    int rc = DALA_OK;
    for (int attempt = 0;; attempt++) {
        *sent_boot_ms = dala_boot_clock_ms();
        dala_buf_reset(body);
        rc = round_trip(response, body, run, batch);
        if (rc != DALA_EBUSY || attempt == BUSY_RETRIES) break;
        run->stats->busy_retries++;
        sleep_ms(BUSY_FIRST_WAIT_MS << attempt);
    }
    return rc;
}

/* Runs round trips until nothing waits on either side. */
static int run_loop(sync_run *run)
{
    uint64_t waiting = 0, wanted = 0;
    unsigned idle_wanted = 0;
    int rc = dala_outbox_count(&waiting, run->store->db, "pending");
    run->push_total = waiting;
    if (!rc && waiting) report(run, DALA_SYNC_PUSH, 0, run->push_total);
    uint32_t max_trips = run->options->max_round_trips ? run->options->max_round_trips
                                                       : DEFAULT_MAX_ROUND_TRIPS;
    for (uint32_t trip = 0; !rc; trip++) {
        if (trip == max_trips) {
            rc = dala_error_set(DALA_ELIMIT, "stopped after %u round trips with work left", max_trips);
            break;
        }
        dala_push_batch batch;
        dala_sync_response response;
        dala_buf body = DALA_BUF_INIT;
        dala_pull_result result;
        memset(&response, 0, sizeof response);
        rc = dala_outbox_next_batch(&batch, run->store->db, run->push_changes);
        if (rc) break;
        uint64_t sent_boot_ms = 0;
        rc = round_trip_patiently(&response, &body, &sent_boot_ms, run, &batch);
        /* A page holds at most page_changes records, but a record can
         * come as several changes (one per version): cap by the codec. A
         * tablet marked lost erases its store instead. */
        if (!rc && response.device_state == DALA_DEVICE_LOST) rc = erase_lost_store(run);
        else if (!rc) rc = dala_pull_apply(&result, run->store->db, batch.batch_seq, batch.count,
                                      &response, DALA_MAX_CHANGES_PER_BATCH, sent_boot_ms);
        /* A newer server key, kept by dala_pull_apply: the next round trip
         * handshakes with it, so it is proven while the old one still works. */
        if (!rc && response.next_key_epoch > run->enrolment.key_epoch) {
            run->enrolment.key_epoch = response.next_key_epoch;
            memcpy(run->enrolment.server_public_key, response.next_server_key, DALA_KEY_BYTES);
            drop_session(run->store);
        }
        int has_more = response.has_more;
        dala_sync_response_clear(&response);
        dala_buf_free(&body);
        dala_push_batch_free(&batch);
        if (rc) break;
        run->stats->acked += result.acked;
        run->stats->rejected += result.rejected;
        run->stats->pulled += result.pulled;
        run->stats->clock_skew_ms = result.clock_skew_ms;
        rc = dala_outbox_count(&waiting, run->store->db, "pending");
        if (!rc) rc = count_wanted(&wanted, run->store->db);
        if (rc) break;
        if (run->stats->acked + waiting > run->push_total) run->push_total = run->stats->acked + waiting;
        if (result.acked) report(run, DALA_SYNC_PUSH, run->stats->acked, run->push_total);
        if (result.pulled) report(run, DALA_SYNC_PULL, run->stats->pulled, 0);
        /* Records met in part are asked for whole, a few round trips at most
         * past the end of the log. */
        idle_wanted = wanted && !waiting && !has_more ? idle_wanted + 1 : 0;
        if (!waiting && !has_more && !result.epoch_reset && (!wanted || idle_wanted > MAX_WANTED_TRIPS)) break;
    }
    if (!rc) report(run, DALA_SYNC_DONE, run->stats->round_trips, 0);
    return rc;
}

int dala_sync(dala_sync_stats *out, dala_store *store, const dala_sync_options *options)
{
    static const dala_sync_options defaults = DALA_SYNC_OPTIONS_INIT;
    dala_sync_stats stats;
    sync_run run;
    memset(&stats, 0, sizeof stats);
    memset(&run, 0, sizeof run);
    if (out) memset(out, 0, sizeof *out);
    if (!store) return dala_error_set(DALA_EINVAL, "sync: store is NULL");
    if (store->wiped) return dala_error_set(DALA_EWIPED, "sync: the store was erased");
    if (!options) options = &defaults;
    if (options->version != DALA_SYNC_OPTIONS_VERSION)
        return dala_error_set(DALA_EINVAL, "sync: options version %d is not %d", options->version,
                              DALA_SYNC_OPTIONS_VERSION);
    run.store = store;
    run.options = options;
    run.stats = &stats;
    run.page_changes = options->max_pull_changes ? options->max_pull_changes : DEFAULT_PAGE_CHANGES;
    run.push_changes = options->max_push_changes ? options->max_push_changes : DEFAULT_PAGE_CHANGES;
    if (run.page_changes > DALA_MAX_CHANGES_PER_BATCH) run.page_changes = DALA_MAX_CHANGES_PER_BATCH;
    if (run.push_changes > DALA_MAX_CHANGES_PER_BATCH) run.push_changes = DALA_MAX_CHANGES_PER_BATCH;
    run.timeout_ms = options->timeout_ms > 0 ? options->timeout_ms : DALA_DEFAULT_TIMEOUT_MS;
    int rc = dala_enrolment_load(&run.enrolment, store->db);
    if (!rc && !store->has_device_key) {
        rc = dala_keypair_from_secret(&store->device_key, run.enrolment.device_secret_key);
        store->has_device_key = rc == DALA_OK;
    }
    if (!rc) run.device_key = store->device_key;
    if (!rc) snprintf(run.url, sizeof run.url, "%s/v1/sync", run.enrolment.server_url);
    if (!rc) rc = run_loop(&run);
    if (rc) dala_error_wrap(rc, "sync");
    dala_keypair_wipe(&run.device_key);
    dala_enrolment_wipe(&run.enrolment);
    if (out) *out = stats;
    return rc;
}
