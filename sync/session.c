/* session.c - DATA frames under the transport keys of a finished Noise KK
 * handshake: one key per direction (Noise Split), each with its own
 * counter.
 *
 * A DATA frame is the 28-byte header (frame_type 3) and then the body
 *
 *   counter (u64, big-endian) || ciphertext || tag (16 bytes)
 *
 * sealed with the sending direction's key, the nonce of `counter` (the
 * suite's rule in seal_int.h), and associated data = the 28 header bytes
 * || the 8 counter bytes; the plaintext is the body compressed per the
 * header. The counter is explicit so a receiver needs no state beyond the
 * highest counter it has opened: sending counts 0, 1, 2, ... and stops
 * after DALA_SESSION_MAX_FRAMES frames (a key then never sees a repeated
 * nonce, nor enough traffic to wear AES-GCM's bounds); opening accepts
 * only a counter above every counter opened before, so a replayed or
 * reordered frame is refused. Frames are meant to travel in order over
 * one HTTP exchange; a lost frame costs nothing, a late one is refused.
 *
 * Unlike Noise's own transport messages, the counter is on the wire and
 * the header is associated data; everything else is Noise's CipherState. */
#include "seal_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNTER_BYTES 8
#define AD_BYTES (DALA_FRAME_HEADER_BYTES + COUNTER_BYTES)

struct dala_session {
    int suite;
    uint8_t send_key[DALA_KEY_BYTES];
    uint8_t recv_key[DALA_KEY_BYTES];
    uint64_t sealed_count;   /* frames sealed so far: the next counter to use */
    uint64_t highest_opened; /* meaningful once has_opened */
    int has_opened;
};

int dala_session_new(dala_session **out, dala_handshake *hs)
{
    dala_session *session;
    int rc;

    if (out == NULL) return dala_error_set(DALA_EINVAL, "start session: out is NULL");
    *out = NULL;
    session = dala_calloc(1, sizeof *session);
    if (session == NULL) return dala_error_set(DALA_ENOMEM, "start session: out of memory");
    rc = dala_handshake_transport_keys(&session->suite, session->send_key, session->recv_key, hs);
    if (rc != DALA_OK) {
        dala_session_free(session);
        return rc;
    }
    *out = session;
    return DALA_OK;
}

void dala_session_free(dala_session *session)
{
    if (session == NULL) return;
    dala_wipe(session, sizeof *session);
    free(session);
}

/* The steps of a seal after the argument checks; `plain` is scratch. */
static int seal_frame(dala_session *session, dala_buf *frame, dala_buf *plain,
                      const dala_frame_header *header, const uint8_t *body, size_t body_len)
{
    const char *what = "seal DATA frame";
    uint8_t ad[AD_BYTES];
    uint64_t counter = session->sealed_count;
    int rc;

    if (header->suite != session->suite)
        return dala_error_set(DALA_EINVAL, "%s: suite %u, but the session's keys are for "
                              "suite %d", what, header->suite, session->suite);
    rc = dala_body_compress(plain, header->compression, body, body_len, what);
    if (rc == DALA_OK)
        rc = dala_frame_begin(frame, ad, header, DALA_FRAME_DATA,
                              COUNTER_BYTES + plain->len + DALA_TAG_BYTES, what);
    if (rc != DALA_OK) return rc;
    dala_store_u64be(ad + DALA_FRAME_HEADER_BYTES, counter);
    rc = dala_buf_append(frame, ad + DALA_FRAME_HEADER_BYTES, COUNTER_BYTES);
    if (rc == DALA_OK)
        rc = dala_aead_seal(frame, session->suite, session->send_key, counter, ad, sizeof ad,
                            plain->data, plain->len);
    return rc == DALA_OK ? DALA_OK : dala_error_prefix(rc, what);
}

int dala_session_seal(dala_session *session, dala_buf *frame, const dala_frame_header *header,
                      const uint8_t *body, size_t body_len)
{
    dala_buf plain = DALA_BUF_INIT;
    size_t start;
    int rc;

    if (session == NULL || frame == NULL || header == NULL)
        return dala_error_set(DALA_EINVAL, "seal DATA frame: NULL argument");
    if (session->sealed_count >= DALA_SESSION_MAX_FRAMES)
        return dala_error_set(DALA_ELIMIT, "seal DATA frame: the session has sealed its %" PRIu64
                              " frames; start a new handshake", DALA_SESSION_MAX_FRAMES);
    start = frame->len;
    rc = seal_frame(session, frame, &plain, header, body, body_len);
    dala_buf_free(&plain);
    if (rc != DALA_OK) {
        dala_buf_truncate_wipe(frame, start);
        return rc;
    }
    session->sealed_count++;
    return DALA_OK;
}

/* The checks that need no key: the header, the suite, the counter's order. */
static int check_frame(const dala_session *session, dala_frame_header *header, uint64_t *counter,
                       const uint8_t *frame, size_t len, char *what, size_t what_size)
{
    int rc = dala_frame_expect(header, frame, len, DALA_FRAME_DATA, COUNTER_BYTES + DALA_TAG_BYTES,
                               "open DATA frame");

    if (rc != DALA_OK) return rc;
    *counter = dala_load_u64be(frame + DALA_FRAME_HEADER_BYTES);
    snprintf(what, what_size, "open DATA frame %" PRIu64 " from device %" PRIu64, *counter,
             header->device_id);
    if (header->suite != session->suite)
        return dala_error_set(DALA_EAUTH, "%s: sealed with suite %u, but the session's keys are "
                              "for suite %d", what, header->suite, session->suite);
    if (session->has_opened && *counter <= session->highest_opened)
        return dala_error_set(DALA_EAUTH, "%s: replayed or reordered frame (frames up to %" PRIu64
                              " were already opened)", what, session->highest_opened);
    return DALA_OK;
}

int dala_session_open(dala_session *session, dala_buf *body, dala_frame_header *header_out,
                      const uint8_t *frame, size_t len, size_t max_body_bytes)
{
    dala_buf plain = DALA_BUF_INIT;
    dala_frame_header header;
    uint64_t counter;
    char what[96];
    int rc;

    if (session == NULL || body == NULL || (frame == NULL && len > 0))
        return dala_error_set(DALA_EINVAL, "open DATA frame: NULL argument");
    rc = check_frame(session, &header, &counter, frame, len, what, sizeof what);
    if (rc == DALA_OK)
        rc = dala_body_check_cap(header.compression, len - AD_BYTES - DALA_TAG_BYTES,
                                 max_body_bytes, what);
    if (rc == DALA_OK)
        rc = dala_aead_open(&plain, session->suite, session->recv_key, counter, frame, AD_BYTES,
                            frame + AD_BYTES, len - AD_BYTES, what);
    if (rc == DALA_OK)
        rc = dala_body_finish(body, header.compression, plain.data, plain.len, max_body_bytes,
                              what);
    dala_buf_free(&plain);
    if (rc != DALA_OK) return rc;
    /* Only a frame that was delivered whole moves the window. */
    session->highest_opened = counter;
    session->has_opened = 1;
    if (header_out != NULL) *header_out = header;
    return DALA_OK;
}
