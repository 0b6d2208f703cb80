/* sdk_harness.c - the fake server and store helpers of sdk_harness.h. */
#include "sdk_harness.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- answers ---------------------------------------------------------------- */

static int answer(int status, const void *body, size_t len, int *status_out, void **response_out,
                  size_t *response_len_out)
{
    void *copy = malloc(len ? len : 1);
    if (!copy) return DALA_ENOMEM;
    if (len) memcpy(copy, body, len);
    *status_out = status;
    *response_out = copy;
    *response_len_out = len;
    return DALA_OK;
}

static int answer_error(int status, const char *message, int *status_out, void **response_out,
                        size_t *response_len_out)
{
    char json[256];
    const char *code = status == 401 && strstr(message, "session") ? "ESESSION"
                       : status == 503 && strstr(message, "locked") ? "EBUSY"
                       : status == 507                             ? "ENOSPACE"
                                                                   : "EAUTH";
    int n = snprintf(json, sizeof json, "{\"error\": \"%s\", \"code\": \"%s\"}", message, code);
    return answer(status, json, (size_t)n, status_out, response_out, response_len_out);
}

/* --- enrolment ------------------------------------------------------------ */

/* The value of `name` in a form body, copied into `out` (no decoding:
 * the SDK sends codes and keys that need none here). */
static int form_value(char *out, size_t size, const char *form, size_t len, const char *name)
{
    size_t name_len = strlen(name);
    for (size_t i = 0; i + name_len < len; i++) {
        if ((i == 0 || form[i - 1] == '&') && strncmp(form + i, name, name_len) == 0 &&
            form[i + name_len] == '=') {
            size_t start = i + name_len + 1, end = start;
            while (end < len && form[end] != '&') end++;
            if (end - start >= size) return -1;
            memcpy(out, form + start, end - start);
            out[end - start] = '\0';
            return 0;
        }
    }
    return -1;
}

static int fake_enroll(fake_server *server, const char *body, size_t len, int *status_out,
                       void **response_out, size_t *response_len_out)
{
    char code[64], key_hex[80], server_hex[2 * DALA_KEY_BYTES + 1], json[512];
    if (form_value(code, sizeof code, body, len, "code") ||
        form_value(key_hex, sizeof key_hex, body, len, "public_key") || strlen(key_hex) != 64)
        return answer_error(400, "malformed body", status_out, response_out, response_len_out);
    if (strcmp(code, FAKE_ENROLL_CODE) != 0)
        return answer_error(403, "code refused", status_out, response_out, response_len_out);
    for (int i = 0; i < DALA_KEY_BYTES; i++) {
        unsigned byte;
        sscanf(key_hex + 2 * i, "%2x", &byte);
        server->device_public[i] = (uint8_t)byte;
    }
    server->has_device = 1;
    for (int i = 0; i < DALA_KEY_BYTES; i++)
        snprintf(server_hex + 2 * i, 3, "%02x", server->server_key.public_key[i]);
    int n = snprintf(json, sizeof json,
                     "{\"device_id\": %llu, \"unit_id\": %llu, \"officer\": \"a.nurlanova\", "
                     "\"server_public_key\": \"%s\", \"key_epoch\": %u, \"server_epoch\": \"%llu\"}",
                     (unsigned long long)server->device_id, (unsigned long long)server->unit_id,
                     server_hex, server->key_epoch, (unsigned long long)server->server_epoch);
    return answer(200, json, (size_t)n, status_out, response_out, response_len_out);
}

/* --- the unit log --------------------------------------------------------- */

int fake_server_add_change(fake_server *server, const dala_change *change)
{
    if (server->log_count == server->log_alloc) {
        size_t alloc = server->log_alloc ? server->log_alloc * 2 : 16;
        dala_buf *log = realloc(server->log, alloc * sizeof *log);
        if (!log) return DALA_ENOMEM;
        server->log = log;
        server->log_alloc = alloc;
    }
    dala_buf entry = DALA_BUF_INIT;
    int rc = dala_batch_encode(&entry, 1, 0, change, 1);
    if (rc) return rc;
    server->log[server->log_count++] = entry;
    return DALA_OK;
}

static int is_refused(const fake_server *server, size_t index)
{
    for (size_t i = 0; i < server->refuse_count; i++)
        if (server->refuse_index[i] == index) return 1;
    return 0;
}

/* Applies a push as the real server would by its numbering rules: 0 =
 * nothing, the last applied = repeat, any other = apply. (The real server
 * also compares the batch's digest; the fake's devices never reuse one.) */
static int apply_push(fake_server *server, const dala_batch *push)
{
    if (push->batch_seq == 0 || push->batch_seq == server->last_batch_seq) return 200;
    server->refusal_count = 0;
    for (size_t i = 0; i < push->change_count; i++) {
        if (is_refused(server, i) && server->refusal_count < FAKE_MAX_REFUSALS) {
            dala_change_result *r = &server->refusals[server->refusal_count++];
            r->index = (uint32_t)i;
            r->code = DALA_EINVAL;
            r->reason = "refused by the test";
            r->reason_len = strlen(r->reason);
        } else if (server->echo_own_changes && fake_server_add_change(server, &push->changes[i])) {
            return 500;
        }
    }
    server->refuse_count = 0;
    server->last_batch_seq = push->batch_seq;
    server->batches_applied++;
    return 200;
}

/* Encodes log entries [from, to) as one pulled batch. */
static int encode_page(dala_buf *out, fake_server *server, size_t from, size_t to)
{
    size_t count = to - from;
    dala_batch **parts = calloc(count ? count : 1, sizeof *parts);
    dala_change *changes = calloc(count ? count : 1, sizeof *changes);
    int rc = parts && changes ? DALA_OK : DALA_ENOMEM;
    for (size_t i = 0; !rc && i < count; i++) {
        rc = dala_batch_decode(&parts[i], server->log[from + i].data, server->log[from + i].len, 1);
        if (!rc) changes[i] = parts[i]->changes[0];
    }
    if (!rc) rc = dala_batch_encode(out, 1, 0, changes, count);
    for (size_t i = 0; parts && i < count; i++) dala_batch_free(parts[i]);
    free(parts);
    free(changes);
    return rc;
}

/* --- sync ------------------------------------------------------------------- */

/* Builds the response to a decoded request; returns an HTTP status. */
static int respond(dala_buf *out, fake_server *server, const dala_sync_request *request)
{
    dala_batch *push = NULL;
    if (dala_batch_decode(&push, request->push, request->push_len, DALA_MAX_CHANGES_PER_BATCH))
        return 400;
    server->seen_batch_seq = push->batch_seq;
    server->seen_change_count = push->change_count;
    dala_buf_reset(&server->seen_push);
    dala_buf_append(&server->seen_push, request->push, request->push_len);
    int status = apply_push(server, push);
    dala_batch_free(push);
    if (status != 200) return status;

    uint64_t cursor = 0;
    server->seen_cursor_count = request->cursor_count;
    server->seen_server_epoch = request->server_epoch;
    for (size_t i = 0; i < request->cursor_count; i++)
        if (request->cursors[i].unit_id == server->unit_id) cursor = request->cursors[i].seq;
    server->seen_cursor_seq = cursor;
    if (request->server_epoch != server->server_epoch) cursor = 0; /* pull afresh */
    size_t from = cursor < server->log_count ? (size_t)cursor : server->log_count;
    size_t to = from + request->max_pull_changes;
    if (to > server->log_count) to = server->log_count;
    dala_buf page = DALA_BUF_INIT;
    if (encode_page(&page, server, from, to)) return 500;
    dala_cursor cursors[1] = {{server->unit_id, to, to}};
    dala_sync_response response = {server->server_epoch, (uint64_t)time(NULL) * 1000u, server->seen_batch_seq,
                                   server->refusal_count, server->refusals, 1, cursors,
                                   to < server->log_count, server->unit_id, page.data, page.len, 0, NULL, 0, NULL, 0, 0, {0}};
    int rc = dala_sync_response_encode(out, &response);
    dala_buf_free(&page);
    return rc ? 500 : 200;
}

/* Opens a HELLO (through a fresh handshake, kept in *hs) or a DATA frame
 * (through the live session); returns an HTTP status. */
static int open_request(dala_buf *request_bytes, dala_frame_header *header, dala_handshake **hs,
                        fake_server *server, const uint8_t *body, size_t len)
{
    if (dala_frame_header_parse(header, body, len)) return 400;
    if (header->frame_type == DALA_FRAME_DATA) {
        server->data_requests++;
        if (!server->session || server->forget_session) {
            server->forget_session = 0;
            dala_session_free(server->session);
            server->session = NULL;
            return 499; /* answered 401 ESESSION */
        }
        return dala_session_open(server->session, request_bytes, header, body, len,
                                 DALA_MAX_BODY_BYTES) ? 401 : 200;
    }
    server->hello_requests++;
    if (!server->has_device ||
        dala_handshake_new(hs, 0, &server->server_key, server->device_public, NULL) ||
        dala_handshake_read(*hs, request_bytes, header, body, len, DALA_MAX_BODY_BYTES))
        return 401;
    return 200;
}

/* Seals the answer as a REPLY (then keeps the handshake's session) or DATA. */
static int seal_answer(dala_buf *frame, fake_server *server, dala_handshake *hs,
                       dala_frame_header *header, const dala_buf *answer)
{
    header->compression = DALA_COMPRESS_DEFLATE;
    if (!hs) return dala_session_seal(server->session, frame, header, answer->data, answer->len);
    header->frame_type = DALA_FRAME_REPLY;
    int rc = dala_handshake_write(hs, frame, header, answer->data, answer->len);
    if (!rc) {
        dala_session_free(server->session);
        server->session = NULL;
        rc = dala_session_new(&server->session, hs);
    }
    return rc;
}

static int fake_sync(fake_server *server, const uint8_t *body, size_t len, int *status_out,
                     void **response_out, size_t *response_len_out)
{
    server->sync_requests++;
    if (server->lose_request) {
        server->lose_request--;
        return dala_transport_error(DALA_EIO, "cannot reach fake:0: request lost by the test");
    }
    if (server->http_status)
        return answer_error(server->http_status, "refused by the test", status_out, response_out,
                            response_len_out);
    if (server->busy_answers) {
        server->busy_answers--;
        return answer_error(503, "database is locked", status_out, response_out, response_len_out);
    }
    dala_handshake *hs = NULL;
    dala_buf request_bytes = DALA_BUF_INIT, response_bytes = DALA_BUF_INIT, frame = DALA_BUF_INIT;
    dala_frame_header header;
    dala_sync_request request;
    memset(&request, 0, sizeof request);
    int status = open_request(&request_bytes, &header, &hs, server, body, len);
    if (status != 200) goto done;
    status = 400;
    if (dala_sync_request_decode(&request, request_bytes.data, request_bytes.len)) goto done;
    status = respond(&response_bytes, server, &request);
    if (status == 200 && seal_answer(&frame, server, hs, &header, &response_bytes)) status = 500;
done:;
    int rc;
    if (status == 200 && server->lose_answer) {
        server->lose_answer--;
        rc = dala_transport_error(DALA_EIO, "cannot reach fake:0: answer lost by the test");
    } else if (status == 200) {
        if (server->corrupt_reply) frame.data[frame.len - 1] ^= 1;
        rc = answer(200, frame.data, frame.len, status_out, response_out, response_len_out);
    } else {
        rc = answer_error(status == 499 ? 401 : status,
                          status == 499 ? "no live session for this device"
                                        : "fake server refused the request",
                          status_out, response_out, response_len_out);
    }
    dala_sync_request_clear(&request);
    dala_handshake_free(hs);
    dala_buf_free(&request_bytes);
    dala_buf_free(&response_bytes);
    dala_buf_free(&frame);
    return rc;
}

static int fake_post(void *context, const char *url, const char *content_type, const void *body,
                     size_t body_len, int *status_out, void **response_out,
                     size_t *response_len_out, size_t max_response_bytes, int timeout_ms)
{
    fake_server *server = context;
    (void)content_type;
    (void)max_response_bytes;
    (void)timeout_ms;
    if (strstr(url, "/v1/enroll"))
        return fake_enroll(server, body, body_len, status_out, response_out, response_len_out);
    if (strstr(url, "/v1/sync"))
        return fake_sync(server, body, body_len, status_out, response_out, response_len_out);
    return answer_error(404, "no such route", status_out, response_out, response_len_out);
}

void fake_server_init(fake_server *server)
{
    memset(server, 0, sizeof *server);
    server->transport.version = DALA_TRANSPORT_VERSION;
    server->transport.post = fake_post;
    server->transport.context = server;
    server->device_id = FAKE_DEVICE_ID;
    server->unit_id = FAKE_UNIT_ID;
    server->server_epoch = 9081726354u;
    server->key_epoch = 1;
    server->echo_own_changes = 1;
    dala_keypair_generate(&server->server_key);
}

void fake_server_free(fake_server *server)
{
    for (size_t i = 0; i < server->log_count; i++) dala_buf_free(&server->log[i]);
    free(server->log);
    dala_buf_free(&server->seen_push);
    dala_session_free(server->session);
    dala_keypair_wipe(&server->server_key);
    memset(server, 0, sizeof *server);
}

/* --- stores ----------------------------------------------------------------- */

const char *sdk_path(const char *dir, const char *name)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

int sdk_open_enrolled(dala_store **out, fake_server *server, const char *dir)
{
    dala_enroll_options options = DALA_ENROLL_OPTIONS_INIT;
    options.transport = &server->transport;
    int rc = dala_store_open(out, sdk_path(dir, "dala.db"));
    if (!rc) rc = dala_store_enroll(*out, "http://fake.test:8080/", FAKE_ENROLL_CODE, &options);
    if (rc) {
        dala_store_close(*out);
        *out = NULL;
    }
    return rc;
}

long long sdk_sql(const char *db_path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    long long result = -1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
        int step = sqlite3_step(stmt);
        if (step == SQLITE_ROW) result = sqlite3_column_int64(stmt, 0);
        else if (step == SQLITE_DONE) result = 0;
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return result;
}
