/* test_server.c - dala-server on 127.0.0.1:0, driven with raw frames so
 * the hostile cases can be built by hand: enrolment is single-use, every
 * malformed, tampered, replayed, oversized or out-of-scope request gets a
 * clear error and changes nothing, a re-sent batch is applied once, a
 * refused change does not block the rest, and a revoked device is refused. */
#include "raw_client.h"
#include "server_harness.h"
#include "testhelp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>

static int enroll(harness *h, raw_device *dev, int64_t user, int64_t unit)
{
    char code[32];
    if (harness_code(h, code, user, unit)) return -1;
    int rc = raw_enroll(dev, h->port, code);
    CHECK_EQ_INT(rc, 0);
    return rc;
}

static void seal_request(dala_handshake **hs, dala_buf *frame, const raw_device *dev,
                         const dala_sync_request *request)
{
    CHECK_OK(raw_seal_request(hs, frame, dev, request));
}

static int post_frame(harness *h, dala_handshake *hs, const dala_buf *frame, dala_buf *body,
                      dala_buf *error)
{
    return raw_post_frame(h->port, hs, frame, body, error);
}

static int count_records(harness *h, const char *where)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    char sql[256];
    int count = -1;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM record WHERE %s", where);
    if (sqlite3_open(h->db_path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
        if (sqlite3_step(stmt) == SQLITE_ROW) count = sqlite3_column_int(stmt, 0);
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return count;
}

static int push(harness *h, const raw_device *dev, uint64_t seq, const dala_change *changes,
                size_t count, dala_buf *body, dala_sync_response *response)
{
    return raw_push(h->port, dev, seq, changes, count, body, response);
}

static void test_server_health_and_unknown_paths_answer_json(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    dala_buf answer = DALA_BUF_INIT;
    int status = 0;
    CHECK_EQ_INT(harness_post(&h, "/etc/passwd", "text/plain", "x", 1, &status, &answer), 0);
    CHECK_EQ_INT(status, 404);
    dala_buf_append(&answer, "", 1);
    CHECK(strstr((const char *)answer.data, "\"error\"") != NULL);
    dala_buf_free(&answer);
    harness_stop(&h);
}

static void test_server_enrolment_code_works_once(void)
{
    harness h;
    raw_device dev, again;
    if (harness_start(&h, 0)) return;
    CHECK_EQ_INT(enroll(&h, &dev, h.officer_a, h.unit_a), 0);
    CHECK(dev.id > 0);
    /* The same code a second time: refused. */
    char code[32], body[256];
    CHECK_OK(harness_code(&h, code, h.officer_a, h.unit_a));
    int n = snprintf(body, sizeof body, "code=%s&public_key=%064d", code, 5);
    dala_buf answer = DALA_BUF_INIT;
    int status = 0;
    harness_post(&h, "/v1/enroll", "application/x-www-form-urlencoded", body, (size_t)n, &status, &answer);
    CHECK_EQ_INT(status, 200);
    dala_buf_reset(&answer);
    harness_post(&h, "/v1/enroll", "application/x-www-form-urlencoded", body, (size_t)n, &status, &answer);
    CHECK_EQ_INT(status, 403);
    /* A malformed key: refused with a reason. */
    n = snprintf(body, sizeof body, "code=%s&public_key=zz", code);
    dala_buf_reset(&answer);
    harness_post(&h, "/v1/enroll", "application/x-www-form-urlencoded", body, (size_t)n, &status, &answer);
    CHECK_EQ_INT(status, 400);
    (void)again;
    dala_buf_free(&answer);
    harness_stop(&h);
}

static void test_server_refuses_malformed_oversized_and_tampered_frames(void)
{
    harness h;
    raw_device dev;
    if (harness_start(&h, 0)) return;
    if (enroll(&h, &dev, h.officer_a, h.unit_a)) goto done;
    dala_buf error = DALA_BUF_INIT, frame = DALA_BUF_INIT, body = DALA_BUF_INIT;
    CHECK_EQ_INT(post_frame(&h, NULL, &(dala_buf){(uint8_t *)"garbage", 7, 7, 0}, &body, &error), 400);
    dala_buf_append(&error, "", 1);
    CHECK(strstr((const char *)error.data, "header") != NULL);

    dala_field fields[3];
    dala_change change = raw_visit_change(fields, 1, DALA_HLC_MAKE(dala_wall_clock_ms(), 0), dev.id, "preventive_visit");
    dala_buf batch = DALA_BUF_INIT;
    CHECK_OK(dala_batch_encode(&batch, 1, 1, &change, 1));
    dala_sync_request request = {0, 100, 0, NULL, batch.data, batch.len, 0, NULL, 0};
    dala_handshake *hs = NULL;
    seal_request(&hs, &frame, &dev, &request);
    frame.data[frame.len - 5] ^= 0x01; /* one bit of the tag */
    CHECK_EQ_INT(post_frame(&h, NULL, &frame, &body, NULL), 401);
    CHECK_EQ_INT(count_records(&h, "1"), 0);

    /* 33 MiB: past the server's body cap. */
    size_t big = (size_t)33 << 20;
    dala_buf huge = DALA_BUF_INIT;
    CHECK_OK(dala_buf_reserve(&huge, big));
    memset(huge.data, 0x44, big);
    huge.len = big;
    CHECK_EQ_INT(post_frame(&h, NULL, &huge, &body, NULL), 413);
    dala_buf_free(&huge);
    dala_handshake_free(hs);
    dala_buf_free(&batch);
    dala_buf_free(&frame);
    dala_buf_free(&body);
    dala_buf_free(&error);
done:
    harness_stop(&h);
}

static void test_server_applies_a_resent_batch_once(void)
{
    harness h;
    raw_device dev;
    if (harness_start(&h, 0)) return;
    if (enroll(&h, &dev, h.officer_a, h.unit_a)) goto done;
    dala_field fields[3];
    dala_change change = raw_visit_change(fields, 2, DALA_HLC_MAKE(dala_wall_clock_ms(), 0), dev.id, "call_response");
    dala_buf batch = DALA_BUF_INIT, frame = DALA_BUF_INIT, body = DALA_BUF_INIT;
    CHECK_OK(dala_batch_encode(&batch, 1, 1, &change, 1));
    dala_sync_request request = {0, 100, 0, NULL, batch.data, batch.len, 0, NULL, 0};
    for (int attempt = 0; attempt < 3; attempt++) {
        /* The very same batch, in a fresh handshake each time (as after a lost answer). */
        dala_handshake *hs = NULL;
        dala_buf_reset(&frame);
        dala_buf_reset(&body);
        seal_request(&hs, &frame, &dev, &request);
        CHECK_EQ_INT(post_frame(&h, hs, &frame, &body, NULL), 200);
        dala_sync_response response;
        CHECK_OK(dala_sync_response_decode(&response, body.data, body.len));
        CHECK_EQ_U64(response.acked_batch_seq, 1);
        dala_sync_response_clear(&response);
        dala_handshake_free(hs);
    }
    CHECK_EQ_INT(count_records(&h, "tbl = 'field_visit'"), 1);
    CHECK_EQ_INT(count_records(&h, "seq > 1"), 0); /* written once: one log position */
    dala_buf_free(&batch);
    dala_buf_free(&frame);
    dala_buf_free(&body);
done:
    harness_stop(&h);
}

/* A batch number past the next (a restored server, a duplicated request
 * answered late) is applied and acknowledged: numbers never strand changes. */
static void test_server_applies_a_batch_after_a_gap(void)
{
    harness h;
    raw_device dev;
    if (harness_start(&h, 0)) return;
    if (enroll(&h, &dev, h.officer_a, h.unit_a)) goto done;
    dala_field fields[3];
    dala_change change = raw_visit_change(fields, 3, DALA_HLC_MAKE(dala_wall_clock_ms(), 0), dev.id, "call_response");
    dala_buf body = DALA_BUF_INIT;
    dala_sync_response response;
    CHECK_EQ_INT(push(&h, &dev, 5, &change, 1, &body, &response), 200);
    CHECK_EQ_U64(response.acked_batch_seq, 5);
    dala_sync_response_clear(&response);
    CHECK_EQ_INT(count_records(&h, "1"), 1);
    dala_buf_free(&body);
done:
    harness_stop(&h);
}

static void test_server_refused_change_does_not_block_the_rest(void)
{
    harness h;
    raw_device dev;
    if (harness_start(&h, 0)) return;
    if (enroll(&h, &dev, h.officer_a, h.unit_a)) goto done;
    uint64_t now = DALA_HLC_MAKE(dala_wall_clock_ms(), 0);
    dala_field good_fields[3], bad_fields[3], late_fields[3];
    dala_change changes[3] = {raw_visit_change(good_fields, 4, now, dev.id, "preventive_visit"),
                              raw_visit_change(bad_fields, 5, now + 1, dev.id, NULL), /* no purpose */
                              raw_visit_change(late_fields, 6, now + 2, dev.id, "follow_up_visit")};
    dala_buf body = DALA_BUF_INIT;
    dala_sync_response response;
    CHECK_EQ_INT(push(&h, &dev, 1, changes, 3, &body, &response), 200);
    CHECK_EQ_U64(response.acked_batch_seq, 1);
    CHECK_EQ_INT(response.rejected_count, 1);
    if (response.rejected_count == 1) {
        CHECK_EQ_INT(response.rejected[0].index, 1);
        CHECK(response.rejected[0].reason_len > 0 &&
              strstr(response.rejected[0].reason, "purpose") != NULL);
    }
    CHECK_EQ_INT(count_records(&h, "tbl = 'field_visit'"), 2);
    dala_sync_response_clear(&response);
    dala_buf_free(&body);
done:
    harness_stop(&h);
}

static void test_server_keeps_units_apart(void)
{
    harness h;
    raw_device a, b;
    if (harness_start(&h, 0)) return;
    if (enroll(&h, &a, h.officer_a, h.unit_a) || enroll(&h, &b, h.officer_b, h.unit_b)) goto done;
    uint64_t now = DALA_HLC_MAKE(dala_wall_clock_ms(), 0);
    dala_field fields[3];
    dala_change change = raw_visit_change(fields, 7, now, a.id, "preventive_visit");
    dala_buf body = DALA_BUF_INIT;
    dala_sync_response response;
    CHECK_EQ_INT(push(&h, &a, 1, &change, 1, &body, &response), 200);
    dala_sync_response_clear(&response);

    /* B pulls, even claiming unit A's cursor: nothing of A arrives. */
    dala_cursor claim = {(uint64_t)h.unit_a, 0, 0};
    dala_buf empty = DALA_BUF_INIT, frame = DALA_BUF_INIT;
    CHECK_OK(dala_batch_encode(&empty, 1, 0, NULL, 0));
    dala_sync_request request = {0, 100, 1, &claim, empty.data, empty.len, 0, NULL, 0};
    dala_handshake *hs = NULL;
    dala_buf_reset(&body);
    seal_request(&hs, &frame, &b, &request);
    CHECK_EQ_INT(post_frame(&h, hs, &frame, &body, NULL), 200);
    CHECK_OK(dala_sync_response_decode(&response, body.data, body.len));
    CHECK_EQ_U64(response.pull_unit_id, (uint64_t)h.unit_b);
    dala_batch *pulled = NULL;
    CHECK_OK(dala_batch_decode(&pulled, response.pull, response.pull_len, 1000));
    CHECK(pulled && pulled->change_count == 0);
    dala_batch_free(pulled);
    dala_sync_response_clear(&response);
    dala_handshake_free(hs);

    /* B edits A's record by id: refused, the record is unchanged. */
    dala_field edit_fields[3];
    dala_change edit = raw_visit_change(edit_fields, 7, now + 5, b.id, "call_response");
    dala_buf_reset(&body);
    CHECK_EQ_INT(push(&h, &b, 1, &edit, 1, &body, &response), 200);
    CHECK_EQ_INT(response.rejected_count, 1);
    CHECK_EQ_INT(count_records(&h, "unit_id != (SELECT unit_id FROM record WHERE tbl = 'field_visit' LIMIT 1)"), 0);
    dala_sync_response_clear(&response);

    /* A change that claims another unit's id: refused. */
    dala_field claim_fields[4];
    dala_change claimed = raw_visit_change(claim_fields, 8, now + 6, b.id, "call_response");
    claim_fields[claimed.field_count++] = (dala_field){"unit_id", {DALA_VALUE_INT, h.unit_a, 0, NULL, 0}, 0};
    dala_buf_reset(&body);
    CHECK_EQ_INT(push(&h, &b, 2, &claimed, 1, &body, &response), 200);
    CHECK_EQ_INT(response.rejected_count, 1);
    dala_sync_response_clear(&response);
    dala_buf_free(&empty);
    dala_buf_free(&frame);
    dala_buf_free(&body);
done:
    harness_stop(&h);
}

static void test_server_refuses_revoked_and_unknown_devices(void)
{
    harness h;
    raw_device dev;
    if (harness_start(&h, 0)) return;
    if (enroll(&h, &dev, h.officer_a, h.unit_a)) goto done;
    dala_buf body = DALA_BUF_INIT;
    dala_sync_response response;
    dala_field fields[3];
    dala_change change = raw_visit_change(fields, 9, DALA_HLC_MAKE(dala_wall_clock_ms(), 0), dev.id, "call_response");
    CHECK_OK(harness_revoke(&h, (int64_t)dev.id));
    CHECK_EQ_INT(push(&h, &dev, 1, &change, 1, &body, &response), 403);
    raw_device stranger = dev;
    stranger.id = 999;
    CHECK_EQ_INT(push(&h, &stranger, 1, &change, 1, &body, &response), 401);
    CHECK_EQ_INT(count_records(&h, "1"), 0);
    dala_buf_free(&body);
done:
    harness_stop(&h);
}

static void test_server_session_serves_data_frames_and_refuses_replays(void)
{
    harness h;
    raw_device dev;
    if (harness_start(&h, 0)) return;
    if (enroll(&h, &dev, h.officer_a, h.unit_a)) goto done;
    dala_buf empty = DALA_BUF_INIT, frame = DALA_BUF_INIT, body = DALA_BUF_INIT, error = DALA_BUF_INIT;
    CHECK_OK(dala_batch_encode(&empty, 1, 0, NULL, 0));
    dala_sync_request request = {0, 100, 0, NULL, empty.data, empty.len, 0, NULL, 0};

    /* Before any handshake there is no session: told to handshake. */
    dala_buf request_bytes = DALA_BUF_INIT;
    CHECK_OK(dala_sync_request_encode(&request_bytes, &request));
    dala_frame_header header = {DALA_PROTOCOL_VERSION, DALA_FRAME_DATA, DALA_SUITE_AES256GCM,
                                DALA_COMPRESS_DEFLATE, 1, dev.id, 1, 0};
    dala_handshake *hs = NULL;
    seal_request(&hs, &frame, &dev, &request);
    CHECK_EQ_INT(post_frame(&h, hs, &frame, &body, NULL), 200);
    dala_session *session = NULL;
    CHECK_OK(dala_session_new(&session, hs));

    /* Within the session: a DATA frame, answered with DATA. */
    dala_buf_reset(&frame);
    CHECK_OK(dala_session_seal(session, &frame, &header, request_bytes.data, request_bytes.len));
    dala_buf answer = DALA_BUF_INIT;
    int status = 0;
    CHECK_EQ_INT(harness_post(&h, "/v1/sync", "application/octet-stream", frame.data, frame.len,
                              &status, &answer), 0);
    CHECK_EQ_INT(status, 200);
    dala_buf_reset(&body);
    CHECK_OK(dala_session_open(session, &body, NULL, answer.data, answer.len, 1 << 20));
    dala_sync_response response;
    CHECK_OK(dala_sync_response_decode(&response, body.data, body.len));
    CHECK_EQ_U64(response.pull_unit_id, (uint64_t)h.unit_a);
    dala_sync_response_clear(&response);

    /* The same DATA frame again: a replay, refused. */
    CHECK_EQ_INT(post_frame(&h, NULL, &frame, &body, &error), 401);

    /* A DATA frame of a session the server never made: refused. */
    raw_device other;
    CHECK_EQ_INT(enroll(&h, &other, h.officer_a2, h.unit_a), 0);
    header.device_id = other.id;
    dala_buf_reset(&frame);
    CHECK_OK(dala_session_seal(session, &frame, &header, request_bytes.data, request_bytes.len));
    dala_buf_reset(&error);
    CHECK_EQ_INT(post_frame(&h, NULL, &frame, &body, &error), 401);
    dala_buf_append(&error, "", 1);
    CHECK(strstr((const char *)error.data, "ESESSION") != NULL);

    dala_session_free(session);
    dala_handshake_free(hs);
    dala_buf_free(&answer);
    dala_buf_free(&request_bytes);
    dala_buf_free(&empty);
    dala_buf_free(&frame);
    dala_buf_free(&body);
    dala_buf_free(&error);
done:
    harness_stop(&h);
}

/* The server epoch a pull-only round trip reports. */
static uint64_t server_epoch(harness *h, const raw_device *dev)
{
    dala_buf empty = DALA_BUF_INIT, frame = DALA_BUF_INIT, body = DALA_BUF_INIT;
    dala_handshake *hs = NULL;
    dala_sync_response response;
    uint64_t epoch = 0;
    CHECK_OK(dala_batch_encode(&empty, 1, 0, NULL, 0));
    dala_sync_request request = {0, 10, 0, NULL, empty.data, empty.len, 0, NULL, 0};
    seal_request(&hs, &frame, dev, &request);
    if (post_frame(h, hs, &frame, &body, NULL) == 200 &&
        dala_sync_response_decode(&response, body.data, body.len) == DALA_OK) {
        epoch = response.server_epoch;
        dala_sync_response_clear(&response);
    }
    dala_handshake_free(hs);
    dala_buf_free(&empty);
    dala_buf_free(&frame);
    dala_buf_free(&body);
    return epoch;
}

static int copy_file(const char *from, const char *to)
{
    char command[1024];
    snprintf(command, sizeof command, "cp '%s' '%s'", from, to);
    return system(command);
}

static void test_server_epoch_survives_restarts_and_changes_after_a_restore(void)
{
    harness h;
    raw_device dev;
    char backup[400], wal[400];
    if (harness_start(&h, 0)) return;
    if (enroll(&h, &dev, h.officer_a, h.unit_a)) goto done;
    uint64_t first = server_epoch(&h, &dev);
    CHECK(first != 0);
    harness_stop(&h);
    snprintf(backup, sizeof backup, "%s/backup.db", h.dir);
    CHECK_EQ_INT(copy_file(h.db_path, backup), 0); /* a clean copy: the WAL was checkpointed at stop */
    CHECK_OK(harness_restart(&h));
    CHECK_EQ_U64(server_epoch(&h, &dev), first); /* a restart is not a restore */

    dala_field fields[3];
    dala_change change = raw_visit_change(fields, 10, DALA_HLC_MAKE(dala_wall_clock_ms(), 0), dev.id, "call_response");
    dala_buf body = DALA_BUF_INIT;
    dala_sync_response response;
    CHECK_EQ_INT(push(&h, &dev, 1, &change, 1, &body, &response), 200);
    dala_sync_response_clear(&response);
    dala_buf_free(&body);
    harness_stop(&h);

    /* The operator restores the older copy. */
    CHECK_EQ_INT(copy_file(backup, h.db_path), 0);
    snprintf(wal, sizeof wal, "%s-wal", h.db_path);
    remove(wal);
    CHECK_OK(harness_restart(&h));
    uint64_t after = server_epoch(&h, &dev);
    CHECK(after != 0 && after != first);
done:
    harness_stop(&h);
}

/* Sends `frame` as a chunked body of `chunk` bytes per chunk over a plain
 * socket; returns the HTTP status of the answer (0 if none). */
static int post_chunked(int port, const uint8_t *frame, size_t len, size_t chunk)
{
    int fd = raw_connect(port);
    if (fd < 0) return 0;
    const char *head = "POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n"
                       "Connection: close\r\n\r\n";
    int ok = write(fd, head, strlen(head)) > 0;
    for (size_t at = 0; ok && at < len; at += chunk) {
        size_t n = len - at < chunk ? len - at : chunk;
        char size_line[32];
        int m = snprintf(size_line, sizeof size_line, "%zx\r\n", n);
        ok = write(fd, size_line, (size_t)m) == m && write(fd, frame + at, n) == (ssize_t)n &&
             write(fd, "\r\n", 2) == 2;
    }
    if (ok) ok = write(fd, "0\r\n\r\n", 5) == 5;
    char answer[256] = "";
    ssize_t got = read(fd, answer, sizeof answer - 1);
    close(fd);
    int status = 0;
    if (got > 12) sscanf(answer, "HTTP/1.1 %d", &status);
    return status;
}

static void test_server_reads_chunked_bodies_within_the_cap(void)
{
    harness h;
    raw_device dev;
    if (harness_start(&h, 0)) return;
    if (enroll(&h, &dev, h.officer_a, h.unit_a)) goto done;
    dala_field fields[3];
    dala_change change = raw_visit_change(fields, 11, DALA_HLC_MAKE(dala_wall_clock_ms(), 0), dev.id, "call_response");
    dala_buf batch = DALA_BUF_INIT, frame = DALA_BUF_INIT;
    CHECK_OK(dala_batch_encode(&batch, 1, 1, &change, 1));
    dala_sync_request request = {0, 100, 0, NULL, batch.data, batch.len, 0, NULL, 0};
    dala_handshake *hs = NULL;
    seal_request(&hs, &frame, &dev, &request);
    CHECK_EQ_INT(post_chunked(h.port, frame.data, frame.len, 7), 200); /* a real push, in 7-byte chunks */
    CHECK_EQ_INT(count_records(&h, "tbl = 'field_visit'"), 1);
    /* 33 MiB in chunks, no Content-Length: refused at the cap, nothing stored. */
    size_t big = (size_t)33 << 20;
    uint8_t *huge = calloc(1, big);
    CHECK_EQ_INT(post_chunked(h.port, huge, big, 1 << 20), 413);
    free(huge);
    CHECK_EQ_INT(count_records(&h, "1"), 1);
    dala_handshake_free(hs);
    dala_buf_free(&batch);
    dala_buf_free(&frame);
done:
    harness_stop(&h);
}

const dala_test server_tests[] = {
    {"server_reads_chunked_bodies_within_the_cap", test_server_reads_chunked_bodies_within_the_cap},
    {"server_epoch_survives_restarts_and_changes_after_a_restore", test_server_epoch_survives_restarts_and_changes_after_a_restore},
    {"server_session_serves_data_frames_and_refuses_replays", test_server_session_serves_data_frames_and_refuses_replays},
    {"server_health_and_unknown_paths_answer_json", test_server_health_and_unknown_paths_answer_json},
    {"server_enrolment_code_works_once", test_server_enrolment_code_works_once},
    {"server_refuses_malformed_oversized_and_tampered_frames", test_server_refuses_malformed_oversized_and_tampered_frames},
    {"server_applies_a_resent_batch_once", test_server_applies_a_resent_batch_once},
    {"server_applies_a_batch_after_a_gap", test_server_applies_a_batch_after_a_gap},
    {"server_refused_change_does_not_block_the_rest", test_server_refused_change_does_not_block_the_rest},
    {"server_keeps_units_apart", test_server_keeps_units_apart},
    {"server_refuses_revoked_and_unknown_devices", test_server_refuses_revoked_and_unknown_devices},
    {NULL, NULL},
};
