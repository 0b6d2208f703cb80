/* test_alloc_failures.c - fault injection: each operation of libdala_sync
 * runs again and again with its 1st, 2nd, 3rd... allocation failing, and
 * must answer DALA_ENOMEM every time, leak nothing (AddressSanitizer's
 * leak check sees to that under `make asan`) and succeed once no
 * allocation fails. */
#include "codec_sample.h"
#include "dala_sync.h"
#include "sync_int.h"
#include "testhelp.h"

typedef int (*operation)(void);

/* Runs `op` with allocation 1, 2, ... failing until it succeeds. */
static void walk(const char *name, operation op)
{
    long failures = 0;
    for (long n = 1; n <= 1000; n++) {
        dala_alloc_fail_after(n);
        int rc = op();
        dala_alloc_fail_after(0);
        if (rc == DALA_OK) {
            CHECK(failures > 0); /* the operation allocates, so some run failed */
            return;
        }
        if (rc != DALA_ENOMEM) {
            test_fail(__FILE__, __LINE__, "%s with allocation %ld failing returned %d (%s)", name, n,
                      rc, dala_errmsg());
            return;
        }
        failures++;
    }
    test_fail(__FILE__, __LINE__, "%s never succeeded", name);
}

static int encode_and_decode_the_sample_batch(void)
{
    dala_change changes[CODEC_SAMPLE_CHANGES];
    dala_buf bytes = DALA_BUF_INIT;
    dala_batch *batch = NULL;
    codec_sample_changes(changes);
    int rc = dala_batch_encode(&bytes, 1, 1, changes, CODEC_SAMPLE_CHANGES);
    if (!rc) rc = dala_batch_decode(&batch, bytes.data, bytes.len, 10);
    if (!rc && batch->change_count != CODEC_SAMPLE_CHANGES) rc = DALA_ECORRUPT;
    dala_batch_free(batch);
    dala_buf_free(&bytes);
    return rc;
}

static int build_merge_and_reload_a_record(void)
{
    dala_change changes[CODEC_SAMPLE_CHANGES];
    dala_record record = DALA_RECORD_INIT, back = DALA_RECORD_INIT;
    dala_buf blob = DALA_BUF_INIT;
    codec_sample_changes(changes);
    int rc = dala_record_apply(NULL, &record, &changes[0], 1, NULL, NULL);
    if (!rc) rc = dala_record_apply(NULL, &record, &changes[1], 2, NULL, NULL);
    if (!rc) rc = dala_record_encode(&blob, &record);
    if (!rc) rc = dala_record_decode(&back, blob.data, blob.len);
    if (!rc) rc = dala_record_to_json(&blob, &back);
    dala_record_clear(&record);
    dala_record_clear(&back);
    dala_buf_free(&blob);
    return rc;
}

static int round_trip_the_sync_messages(void)
{
    const dala_cursor cursors[] = {{3, 40, 40}, {4, 0, 0}};
    const dala_change_result refused[] = {{1, DALA_EINVAL, "field_visit.purpose: is required", 32}};
    const uint8_t wanted[2 * DALA_UUID_BYTES] = {1, 2, 3};
    const uint32_t partial[] = {0, 4};
    dala_sync_request request = {7, 100, 2, cursors, (const uint8_t *)"", 0, 2, wanted, DALA_REQUEST_WIPED}, request_back;
    dala_sync_response response = {7, 1764950000123u, 2, 1, refused, 2, cursors, 0, 3, (const uint8_t *)"", 0,
                                   2, partial, 1, wanted, DALA_DEVICE_LOST, 2, {9}};
    dala_sync_response response_back;
    dala_buf bytes = DALA_BUF_INIT;
    int rc = dala_sync_request_encode(&bytes, &request);
    if (!rc) rc = dala_sync_request_decode(&request_back, bytes.data, bytes.len);
    if (!rc) dala_sync_request_clear(&request_back);
    dala_buf_reset(&bytes);
    if (!rc) rc = dala_sync_response_encode(&bytes, &response);
    if (!rc) rc = dala_sync_response_decode(&response_back, bytes.data, bytes.len);
    if (!rc) dala_sync_response_clear(&response_back);
    dala_buf_free(&bytes);
    return rc;
}

static dala_keypair device, server; /* made before the walk */

static int handshake_and_exchange_data_frames(void)
{
    dala_handshake *initiator = NULL, *responder = NULL;
    dala_session *device_session = NULL, *server_session = NULL;
    dala_buf frame = DALA_BUF_INIT, body = DALA_BUF_INIT;
    dala_frame_header header = {DALA_PROTOCOL_VERSION, 0, DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE,
                                1, 9, 1, 0};
    const uint8_t page[] = "a page of the unit log";
    int rc = dala_handshake_new(&initiator, 1, &device, server.public_key, NULL);
    if (!rc) rc = dala_handshake_new(&responder, 0, &server, device.public_key, NULL);
    if (!rc) rc = dala_handshake_write(initiator, &frame, &header, page, sizeof page);
    if (!rc) rc = dala_handshake_read(responder, &body, NULL, frame.data, frame.len, 1 << 20);
    dala_buf_reset(&frame);
    if (!rc) rc = dala_handshake_write(responder, &frame, &header, page, sizeof page);
    if (!rc) rc = dala_handshake_read(initiator, &body, NULL, frame.data, frame.len, 1 << 20);
    if (!rc) rc = dala_session_new(&device_session, initiator);
    if (!rc) rc = dala_session_new(&server_session, responder);
    dala_buf_reset(&frame);
    header.frame_type = DALA_FRAME_DATA;
    if (!rc) rc = dala_session_seal(device_session, &frame, &header, page, sizeof page);
    if (!rc) rc = dala_session_open(server_session, &body, NULL, frame.data, frame.len, 1 << 20);
    dala_session_free(device_session);
    dala_session_free(server_session);
    dala_handshake_free(initiator);
    dala_handshake_free(responder);
    dala_buf_free(&frame);
    dala_buf_free(&body);
    return rc;
}

static int apply_concurrent_edits_to_a_field_state(void)
{
    dala_field_state state = DALA_FIELD_STATE_INIT;
    const dala_field_head edits[] = {
        {{100, 1}, 0, 1}, {{200, 2}, 100, 2}, {{150, 3}, 100, 3}, {{300, 4}, 150, 4}, {{250, 5}, 0, 5},
    };
    int rc = DALA_OK;
    for (size_t i = 0; !rc && i < sizeof edits / sizeof edits[0]; i++)
        rc = dala_field_state_apply(NULL, &state, &edits[i]);
    dala_field_state_free(&state);
    return rc;
}

static void test_alloc_failures_in_the_batch_codec_answer_enomem(void)
{
    walk("batch codec", encode_and_decode_the_sample_batch);
}

static void test_alloc_failures_in_records_answer_enomem(void)
{
    walk("record merge and blob", build_merge_and_reload_a_record);
}

static void test_alloc_failures_in_sync_messages_answer_enomem(void)
{
    walk("sync messages", round_trip_the_sync_messages);
}

static void test_alloc_failures_in_handshakes_and_sessions_answer_enomem(void)
{
    CHECK_OK(dala_keypair_generate(&device));
    CHECK_OK(dala_keypair_generate(&server));
    walk("handshake and session", handshake_and_exchange_data_frames);
    dala_keypair_wipe(&device);
    dala_keypair_wipe(&server);
}

static void test_alloc_failures_in_the_merge_state_answer_enomem(void)
{
    walk("field merge state", apply_concurrent_edits_to_a_field_state);
}

const dala_test alloc_failures_tests[] = {
    {"alloc_failures_in_the_batch_codec_answer_enomem", test_alloc_failures_in_the_batch_codec_answer_enomem},
    {"alloc_failures_in_records_answer_enomem", test_alloc_failures_in_records_answer_enomem},
    {"alloc_failures_in_sync_messages_answer_enomem", test_alloc_failures_in_sync_messages_answer_enomem},
    {"alloc_failures_in_handshakes_and_sessions_answer_enomem", test_alloc_failures_in_handshakes_and_sessions_answer_enomem},
    {"alloc_failures_in_the_merge_state_answer_enomem", test_alloc_failures_in_the_merge_state_answer_enomem},
    {NULL, NULL},
};
