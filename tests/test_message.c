/* test_message.c - the sync request and response codec: round trips, and
 * strict refusal of truncated, trailing, oversized and unknown-version
 * messages. */
#include "dala_sync.h"
#include "testhelp.h"

#include <stdlib.h>

static void test_message_request_round_trips(void)
{
    const dala_cursor cursors[] = {{12, 400, 350}, {13, 0, 0}};
    const uint8_t push[] = {1, 2, 3, 4};
    uint8_t wanted[2 * DALA_UUID_BYTES];
    for (size_t i = 0; i < sizeof wanted; i++) wanted[i] = (uint8_t)i;
    dala_sync_request request = {77, 500, 2, cursors, push, sizeof push, 2, wanted, DALA_REQUEST_WIPED}, back;
    dala_buf bytes = DALA_BUF_INIT;
    CHECK_OK(dala_sync_request_encode(&bytes, &request));
    CHECK_OK(dala_sync_request_decode(&back, bytes.data, bytes.len));
    CHECK_EQ_U64(back.server_epoch, 77);
    CHECK_EQ_INT(back.flags, DALA_REQUEST_WIPED);
    CHECK_EQ_INT(back.max_pull_changes, 500);
    CHECK_EQ_INT(back.cursor_count, 2);
    if (back.cursor_count == 2) {
        CHECK_EQ_U64(back.cursors[0].unit_id, 12);
        CHECK_EQ_U64(back.cursors[0].seq, 400);
        CHECK_EQ_U64(back.cursors[0].whole_to, 350);
        CHECK_EQ_U64(back.cursors[1].unit_id, 13);
    }
    CHECK_EQ_INT(back.push_len, sizeof push);
    if (back.push_len == sizeof push) CHECK_EQ_MEM(back.push, push, sizeof push);
    CHECK_EQ_INT(back.wanted_count, 2);
    if (back.wanted_count == 2) CHECK_EQ_MEM(back.wanted, wanted, sizeof wanted);
    dala_sync_request_clear(&back);
    dala_buf_free(&bytes);
}

static void test_message_response_round_trips_with_reasons(void)
{
    const char *reason = "field_visit.visit_date: күн болашақта / дата в будущем";
    const dala_change_result rejected[] = {{3, DALA_EINVAL, reason, strlen(reason)}};
    const dala_cursor cursors[] = {{12, 401, 401}};
    const uint8_t pull[] = {9, 9};
    const uint32_t partial[] = {0, 7, 300};
    uint8_t gone[DALA_UUID_BYTES] = {0xab};
    dala_sync_response response = {77, 1764950000123u, 5, 1, rejected, 1, cursors, 1, 12, pull, sizeof pull,
                                   3, partial, 1, gone, DALA_DEVICE_LOST, 4, {0x5a}}, back;
    dala_buf bytes = DALA_BUF_INIT;
    CHECK_OK(dala_sync_response_encode(&bytes, &response));
    CHECK_OK(dala_sync_response_decode(&back, bytes.data, bytes.len));
    CHECK_EQ_U64(back.acked_batch_seq, 5);
    CHECK_EQ_U64(back.server_time_ms, 1764950000123u);
    CHECK_EQ_INT(back.rejected_count, 1);
    if (back.rejected_count == 1) {
        CHECK_EQ_INT(back.rejected[0].index, 3);
        CHECK_EQ_INT(back.rejected[0].code, DALA_EINVAL);
        CHECK_EQ_INT(back.rejected[0].reason_len, strlen(reason));
    }
    CHECK_EQ_INT(back.has_more, 1);
    CHECK_EQ_U64(back.pull_unit_id, 12);
    CHECK_EQ_INT(back.pull_len, 2);
    CHECK_EQ_INT(back.partial_count, 3);
    if (back.partial_count == 3) CHECK_EQ_INT(back.partial[2], 300);
    CHECK_EQ_INT(back.gone_count, 1);
    if (back.gone_count == 1) CHECK_EQ_MEM(back.gone, gone, sizeof gone);
    CHECK_EQ_INT(back.device_state, DALA_DEVICE_LOST);
    CHECK_EQ_INT(back.next_key_epoch, 4);
    CHECK_EQ_MEM(back.next_server_key, response.next_server_key, DALA_KEY_BYTES);
    dala_sync_response_clear(&back);
    /* Without a newer key the 32 bytes are not sent; a device state past
     * "lost" is refused on both ends. */
    response.next_key_epoch = 0;
    dala_buf_reset(&bytes);
    CHECK_OK(dala_sync_response_encode(&bytes, &response));
    size_t without_key = bytes.len;
    dala_buf_reset(&bytes);
    response.next_key_epoch = 4;
    CHECK_OK(dala_sync_response_encode(&bytes, &response));
    CHECK_EQ_INT(bytes.len - without_key, DALA_KEY_BYTES);
    bytes.data[bytes.len - DALA_KEY_BYTES - 2] = 2;
    CHECK_EQ_INT(dala_sync_response_decode(&back, bytes.data, bytes.len), DALA_ECORRUPT);
    response.device_state = 2;
    dala_buf_reset(&bytes);
    CHECK_EQ_INT(dala_sync_response_encode(&bytes, &response), DALA_EINVAL);
    response.device_state = DALA_DEVICE_ACTIVE;
    /* Partial indexes must ascend, on both ends; a cursor is never whole
     * past its own position. */
    const uint32_t unordered[] = {7, 7};
    response.partial = unordered;
    response.partial_count = 2;
    dala_buf_reset(&bytes);
    CHECK_EQ_INT(dala_sync_response_encode(&bytes, &response), DALA_EINVAL);
    const dala_cursor ahead[] = {{12, 401, 402}};
    response.partial_count = 0;
    response.cursors = ahead;
    CHECK_EQ_INT(dala_sync_response_encode(&bytes, &response), DALA_EINVAL);
    dala_buf_free(&bytes);
}

static void test_message_rejects_every_truncation_and_trailing_bytes(void)
{
    const dala_cursor cursors[] = {{12, 400, 0}};
    const uint8_t push[] = {1, 2, 3};
    dala_sync_request request = {1, 10, 1, cursors, push, sizeof push, 0, NULL, 0}, back;
    dala_buf bytes = DALA_BUF_INIT;
    CHECK_OK(dala_sync_request_encode(&bytes, &request));
    for (size_t len = 0; len < bytes.len; len++) {
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, bytes.data, len);
        if (dala_sync_request_decode(&back, cut, len) == DALA_OK)
            test_fail(__FILE__, __LINE__, "request cut to %zu bytes accepted", len);
        free(cut);
    }
    uint8_t extra = 0;
    CHECK_OK(dala_buf_append(&bytes, &extra, 1));
    CHECK_EQ_INT(dala_sync_request_decode(&back, bytes.data, bytes.len), DALA_ECORRUPT);
    dala_buf_free(&bytes);
}

static void test_message_rejects_an_unknown_version(void)
{
    const uint8_t bytes[] = {DALA_MESSAGE_VERSION + 1, 0, 0, 0, 0};
    dala_sync_request back;
    CHECK_EQ_INT(dala_sync_request_decode(&back, bytes, sizeof bytes), DALA_ESCHEMA);
}

static void test_message_rejects_too_many_cursors(void)
{
    dala_buf bytes = DALA_BUF_INIT;
    const uint8_t head[] = {DALA_MESSAGE_VERSION, 0, 0};
    CHECK_OK(dala_buf_append(&bytes, head, sizeof head));
    uint8_t count[3] = {0x81, 0x80, 0x01}; /* 16385 cursors */
    CHECK_OK(dala_buf_append(&bytes, count, sizeof count));
    dala_sync_request back;
    CHECK_EQ_INT(dala_sync_request_decode(&back, bytes.data, bytes.len), DALA_ELIMIT);
    dala_buf_free(&bytes);
}

const dala_test message_tests[] = {
    {"message_request_round_trips", test_message_request_round_trips},
    {"message_response_round_trips_with_reasons", test_message_response_round_trips_with_reasons},
    {"message_rejects_every_truncation_and_trailing_bytes", test_message_rejects_every_truncation_and_trailing_bytes},
    {"message_rejects_an_unknown_version", test_message_rejects_an_unknown_version},
    {"message_rejects_too_many_cursors", test_message_rejects_too_many_cursors},
    {NULL, NULL},
};
