/* message.c - the codec of the two messages a sync round trip carries
 * inside its sealed frames: the device's request (push batch and pull
 * cursors) and the server's response (acknowledgement, refused changes,
 * new cursors, "more follows", the pulled batch). Same rules as the batch
 * codec: varints, length-prefixed bytes, strict and canonical. */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

static int put_blob(dala_buf *out, const uint8_t *data, size_t len)
{
    int rc = dala_buf_put_varint(out, len);
    return rc ? rc : dala_buf_append(out, data, len);
}

static int put_cursors(dala_buf *out, const dala_cursor *cursors, size_t count)
{
    if (count > DALA_MAX_CURSORS)
        return dala_error_set(DALA_ELIMIT, "encode message: %zu cursors, more than %u", count,
                              DALA_MAX_CURSORS);
    int rc = dala_buf_put_varint(out, count);
    for (size_t i = 0; !rc && i < count; i++) {
        if (cursors[i].whole_to > cursors[i].seq)
            return dala_error_set(DALA_EINVAL, "encode message: cursor %zu is whole to %llu, past its "
                                  "position %llu", i, (unsigned long long)cursors[i].whole_to,
                                  (unsigned long long)cursors[i].seq);
        rc = dala_buf_put_varint(out, cursors[i].unit_id);
        if (!rc) rc = dala_buf_put_varint(out, cursors[i].seq);
        if (!rc) rc = dala_buf_put_varint(out, cursors[i].whole_to);
    }
    return rc;
}

/* Record ids, at most DALA_MAX_WANTED: a count, then 16 bytes each. */
static int put_ids(dala_buf *out, const uint8_t *ids, size_t count)
{
    if (count > DALA_MAX_WANTED)
        return dala_error_set(DALA_ELIMIT, "encode message: %zu record ids, more than %u", count, DALA_MAX_WANTED);
    int rc = dala_buf_put_varint(out, count);
    return rc || !count ? rc : dala_buf_append(out, ids, count * DALA_UUID_BYTES);
}

int dala_sync_request_encode(dala_buf *out, const dala_sync_request *request)
{
    if (request->max_pull_changes > DALA_MAX_CHANGES_PER_BATCH)
        return dala_error_set(DALA_ELIMIT, "encode request: page of %u changes, more than %u",
                              request->max_pull_changes, DALA_MAX_CHANGES_PER_BATCH);
    size_t start = out->len;
    int rc = dala_buf_put_u8(out, DALA_MESSAGE_VERSION);
    if (!rc) rc = dala_buf_put_varint(out, request->server_epoch);
    if (!rc) rc = dala_buf_put_varint(out, request->max_pull_changes);
    if (!rc) rc = put_cursors(out, request->cursors, request->cursor_count);
    if (!rc) rc = put_ids(out, request->wanted, request->wanted_count);
    if (!rc) rc = put_blob(out, request->push, request->push_len);
    if (!rc) rc = dala_buf_put_varint(out, request->flags);
    if (rc) out->len = start;
    return rc;
}

/* What a decoder would refuse is never encoded: counts, indexes and codes
 * within the decoder's limits. */
static int check_results(const dala_sync_response *response)
{
    if (response->rejected_count > DALA_MAX_CHANGES_PER_BATCH)
        return dala_error_set(DALA_ELIMIT, "encode response: %zu refusals, more than %u",
                              response->rejected_count, DALA_MAX_CHANGES_PER_BATCH);
    for (size_t i = 0; i < response->rejected_count; i++) {
        const dala_change_result *r = &response->rejected[i];
        if (r->index > DALA_MAX_CHANGES_PER_BATCH || r->code >= 0 || r->code < -1000)
            return dala_error_set(DALA_EINVAL, "encode response: refusal %zu has index %u, code %d",
                                  i, r->index, (int)r->code);
    }
    return DALA_OK;
}

int dala_sync_response_encode(dala_buf *out, const dala_sync_response *response)
{
    int checked = check_results(response);
    if (checked) return checked;
    size_t start = out->len;
    int rc = dala_buf_put_u8(out, DALA_MESSAGE_VERSION);
    if (!rc) rc = dala_buf_put_varint(out, response->server_epoch);
    if (!rc) rc = dala_buf_put_varint(out, response->server_time_ms);
    if (!rc) rc = dala_buf_put_varint(out, response->acked_batch_seq);
    if (!rc) rc = dala_buf_put_varint(out, response->rejected_count);
    for (size_t i = 0; !rc && i < response->rejected_count; i++) {
        const dala_change_result *r = &response->rejected[i];
        size_t reason_len = r->reason_len < DALA_MAX_REASON_BYTES ? r->reason_len : DALA_MAX_REASON_BYTES;
        /* Never cut a UTF-8 sequence: back off its continuation bytes. */
        while (reason_len < r->reason_len && reason_len > 0 && (r->reason[reason_len] & 0xc0) == 0x80)
            reason_len--;
        rc = dala_buf_put_varint(out, r->index);
        if (!rc) rc = dala_buf_put_varint(out, (uint64_t)-(int64_t)r->code);
        if (!rc) rc = put_blob(out, (const uint8_t *)r->reason, reason_len);
    }
    if (!rc) rc = put_cursors(out, response->cursors, response->cursor_count);
    if (!rc) rc = dala_buf_put_u8(out, response->has_more ? 1 : 0);
    if (!rc) rc = dala_buf_put_varint(out, response->pull_unit_id);
    if (!rc) rc = put_blob(out, response->pull, response->pull_len);
    if (!rc) rc = dala_buf_put_varint(out, response->partial_count);
    for (size_t i = 0; !rc && i < response->partial_count; i++) {
        if (response->partial[i] >= DALA_MAX_CHANGES_PER_BATCH || (i && response->partial[i] <= response->partial[i - 1]))
            rc = dala_error_set(DALA_EINVAL, "encode response: partial indexes must ascend below %u",
                                DALA_MAX_CHANGES_PER_BATCH);
        else
            rc = dala_buf_put_varint(out, response->partial[i]);
    }
    if (!rc) rc = put_ids(out, response->gone, response->gone_count);
    if (!rc && response->device_state > DALA_DEVICE_LOST)
        rc = dala_error_set(DALA_EINVAL, "encode response: device state %u", response->device_state);
    if (!rc) rc = dala_buf_put_u8(out, response->device_state);
    if (!rc) rc = dala_buf_put_varint(out, response->next_key_epoch);
    if (!rc && response->next_key_epoch)
        rc = dala_buf_append(out, response->next_server_key, DALA_KEY_BYTES);
    if (rc) out->len = start;
    return rc;
}

static void read_version(dala_reader *r)
{
    uint8_t version = dala_read_u8(r);
    if (!r->err && version != DALA_MESSAGE_VERSION)
        dala_reader_fail(r, DALA_ESCHEMA, "message version %u is not supported; this build reads %d",
                         version, DALA_MESSAGE_VERSION);
}

static const uint8_t *read_blob(dala_reader *r, size_t *len, size_t max, const char *what)
{
    *len = (size_t)dala_read_varint_max(r, max, what);
    return dala_read_bytes(r, *len);
}

static dala_cursor *read_cursors(dala_reader *r, size_t *count)
{
    *count = (size_t)dala_read_varint_max(r, DALA_MAX_CURSORS, "cursor count");
    if (r->err || *count == 0) return NULL;
    if (*count > dala_reader_remaining(r) / 3) {
        dala_reader_fail(r, DALA_ECORRUPT, "truncated: %zu cursors cannot fit", *count);
        return NULL;
    }
    dala_cursor *cursors = dala_calloc(*count, sizeof *cursors);
    if (!cursors) {
        dala_reader_fail(r, DALA_ENOMEM, "out of memory for %zu cursors", *count);
        return NULL;
    }
    for (size_t i = 0; i < *count && !r->err; i++) {
        cursors[i].unit_id = dala_read_varint(r);
        cursors[i].seq = dala_read_varint(r);
        cursors[i].whole_to = dala_read_varint(r);
        if (!r->err && cursors[i].whole_to > cursors[i].seq)
            dala_reader_fail(r, DALA_ECORRUPT, "cursor %zu is whole to %llu, past its position %llu", i,
                             (unsigned long long)cursors[i].whole_to, (unsigned long long)cursors[i].seq);
    }
    return cursors;
}

static const uint8_t *read_ids(dala_reader *r, size_t *count)
{
    *count = (size_t)dala_read_varint_max(r, DALA_MAX_WANTED, "record id count");
    if (r->err || *count == 0) return NULL;
    return dala_read_bytes(r, *count * DALA_UUID_BYTES);
}

/* Ascending change indexes below DALA_MAX_CHANGES_PER_BATCH. */
static uint32_t *read_partial(dala_reader *r, size_t *count)
{
    *count = (size_t)dala_read_varint_max(r, DALA_MAX_CHANGES_PER_BATCH, "partial count");
    if (r->err || *count == 0) return NULL;
    if (*count > dala_reader_remaining(r)) {
        dala_reader_fail(r, DALA_ECORRUPT, "truncated: %zu partial indexes cannot fit", *count);
        return NULL;
    }
    uint32_t *indexes = dala_calloc(*count, sizeof *indexes);
    if (!indexes) {
        dala_reader_fail(r, DALA_ENOMEM, "out of memory for %zu partial indexes", *count);
        return NULL;
    }
    for (size_t i = 0; i < *count && !r->err; i++) {
        indexes[i] = (uint32_t)dala_read_varint_max(r, DALA_MAX_CHANGES_PER_BATCH - 1, "partial index");
        if (!r->err && i && indexes[i] <= indexes[i - 1])
            dala_reader_fail(r, DALA_ECORRUPT, "partial indexes do not ascend");
    }
    return indexes;
}

static void check_end(dala_reader *r)
{
    if (!r->err && dala_reader_remaining(r))
        dala_reader_fail(r, DALA_ECORRUPT, "%zu trailing bytes", dala_reader_remaining(r));
}

int dala_sync_request_decode(dala_sync_request *out, const uint8_t *data, size_t len)
{
    dala_reader r;
    dala_cursor *cursors;
    memset(out, 0, sizeof *out);
    dala_reader_init(&r, data, len, "sync request");
    read_version(&r);
    out->server_epoch = dala_read_varint(&r);
    out->max_pull_changes = (uint32_t)dala_read_varint_max(&r, DALA_MAX_CHANGES_PER_BATCH, "page size");
    out->cursors = cursors = read_cursors(&r, &out->cursor_count);
    out->wanted = read_ids(&r, &out->wanted_count);
    out->push = read_blob(&r, &out->push_len, DALA_MAX_BODY_BYTES, "push length");
    out->flags = (uint32_t)dala_read_varint_max(&r, DALA_REQUEST_WIPED, "request flags");
    check_end(&r);
    if (r.err) dala_sync_request_clear(out);
    return r.err;
}

static dala_change_result *read_results(dala_reader *r, size_t *count)
{
    *count = (size_t)dala_read_varint_max(r, DALA_MAX_CHANGES_PER_BATCH, "refused count");
    if (r->err || *count == 0) return NULL;
    if (*count > dala_reader_remaining(r) / 3) {
        dala_reader_fail(r, DALA_ECORRUPT, "truncated: %zu results cannot fit", *count);
        return NULL;
    }
    dala_change_result *results = dala_calloc(*count, sizeof *results);
    if (!results) {
        dala_reader_fail(r, DALA_ENOMEM, "out of memory for %zu results", *count);
        return NULL;
    }
    for (size_t i = 0; i < *count && !r->err; i++) {
        results[i].index = (uint32_t)dala_read_varint_max(r, DALA_MAX_CHANGES_PER_BATCH, "index");
        results[i].code = -(int32_t)dala_read_varint_max(r, 1000, "result code");
        results[i].reason = (const char *)read_blob(r, &results[i].reason_len,
                                                    DALA_MAX_REASON_BYTES, "reason length");
        if (!r->err && !dala_utf8_is_valid((const uint8_t *)results[i].reason, results[i].reason_len))
            dala_reader_fail(r, DALA_ECORRUPT, "a reason is not valid UTF-8");
    }
    return results;
}

int dala_sync_response_decode(dala_sync_response *out, const uint8_t *data, size_t len)
{
    dala_reader r;
    memset(out, 0, sizeof *out);
    dala_reader_init(&r, data, len, "sync response");
    read_version(&r);
    out->server_epoch = dala_read_varint(&r);
    out->server_time_ms = dala_read_varint(&r);
    out->acked_batch_seq = dala_read_varint(&r);
    out->rejected = read_results(&r, &out->rejected_count);
    out->cursors = read_cursors(&r, &out->cursor_count);
    uint8_t more = dala_read_u8(&r);
    if (!r.err && more > 1) dala_reader_fail(&r, DALA_ECORRUPT, "more-follows flag is %u", more);
    out->has_more = more;
    out->pull_unit_id = dala_read_varint(&r);
    out->pull = read_blob(&r, &out->pull_len, DALA_MAX_BODY_BYTES, "pull length");
    out->partial = read_partial(&r, &out->partial_count);
    out->gone = read_ids(&r, &out->gone_count);
    out->device_state = dala_read_u8(&r);
    if (!r.err && out->device_state > DALA_DEVICE_LOST)
        dala_reader_fail(&r, DALA_ECORRUPT, "device state %u", out->device_state);
    out->next_key_epoch = (uint32_t)dala_read_varint_max(&r, UINT32_MAX, "next key epoch");
    if (!r.err && out->next_key_epoch) {
        const uint8_t *key = dala_read_bytes(&r, DALA_KEY_BYTES);
        if (!r.err) memcpy(out->next_server_key, key, DALA_KEY_BYTES);
    }
    check_end(&r);
    if (r.err) dala_sync_response_clear(out);
    return r.err;
}

void dala_sync_request_clear(dala_sync_request *request)
{
    if (!request) return;
    free((void *)request->cursors);
    memset(request, 0, sizeof *request);
}

void dala_sync_response_clear(dala_sync_response *response)
{
    if (!response) return;
    free((void *)response->cursors);
    free((void *)response->rejected);
    free((void *)response->partial);
    memset(response, 0, sizeof *response);
}
