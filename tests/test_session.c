/* test_session.c - DATA frames under the transport keys of a finished
 * handshake: round trips both ways in both suites, the explicit counter,
 * replays and reordering, frames of another session, every flipped bit,
 * every truncation, tampered headers, a deflate bomb, and the frame limit
 * of a session. */
#include "frame_sample.h"
#include "testhelp.h"
#include "dala_sync.h"

#include <stdint.h>
#include <stdlib.h>

#define DEVICE_ID FRAME_SAMPLE_DEVICE_ID
#define BIG_CAP ((size_t)1 << 20)

static const uint8_t sample_body[] = "sync page 3 of 9: 250 changes";

/* A device session and a server session that belong together. */
typedef struct pair {
    dala_session *device, *server;
    int suite;
} pair;

/* Runs a fresh handshake (new keys each time) and splits both sides. */
static void pair_open(pair *p, int suite)
{
    dala_keypair device, server;
    dala_handshake *initiator = NULL, *responder = NULL;
    dala_buf frame = DALA_BUF_INIT, body = DALA_BUF_INIT;
    dala_frame_header header = frame_sample_header(suite, DALA_COMPRESS_NONE);

    memset(p, 0, sizeof *p);
    p->suite = suite;
    CHECK_OK(dala_keypair_generate(&device));
    CHECK_OK(dala_keypair_generate(&server));
    CHECK_OK(dala_handshake_new(&initiator, 1, &device, server.public_key, NULL));
    CHECK_OK(dala_handshake_new(&responder, 0, &server, device.public_key, NULL));
    CHECK_OK(dala_handshake_write(initiator, &frame, &header, NULL, 0));
    CHECK_OK(dala_handshake_read(responder, &body, NULL, frame.data, frame.len, 0));
    dala_buf_reset(&frame);
    CHECK_OK(dala_handshake_write(responder, &frame, &header, NULL, 0));
    CHECK_OK(dala_handshake_read(initiator, &body, NULL, frame.data, frame.len, 0));
    CHECK_OK(dala_session_new(&p->device, initiator));
    CHECK_OK(dala_session_new(&p->server, responder));
    dala_handshake_free(initiator);
    dala_handshake_free(responder);
    dala_buf_free(&frame);
    dala_buf_free(&body);
    dala_keypair_wipe(&device);
    dala_keypair_wipe(&server);
}

static void pair_close(pair *p)
{
    dala_session_free(p->device);
    dala_session_free(p->server);
}

/* Opens a copy of `frame` of exactly `len` bytes (so AddressSanitizer sees
 * any read past it) in `session`; `body` must come back unchanged on
 * failure. */
static int open_copy(dala_session *session, const uint8_t *frame, size_t len, size_t cap)
{
    dala_buf body = DALA_BUF_INIT;
    uint8_t *copy = malloc(len ? len : 1);
    int rc;
    if (copy == NULL) return DALA_ENOMEM;
    if (len) memcpy(copy, frame, len);
    rc = dala_session_open(session, &body, NULL, copy, len, cap);
    if (rc != DALA_OK) CHECK_EQ_INT(body.len, 0);
    dala_buf_free(&body);
    free(copy);
    return rc;
}

static void test_session_round_trips_frames_both_ways_in_both_suites(void)
{
    static const int suites[] = {DALA_SUITE_AES256GCM, DALA_SUITE_CHACHAPOLY};
    for (int s = 0; s < 2; s++) {
        pair p;
        pair_open(&p, suites[s]);
        for (int i = 0; i < 6; i++) {
            int compression = i % 2 ? DALA_COMPRESS_DEFLATE : DALA_COMPRESS_NONE;
            dala_frame_header header = frame_sample_header(suites[s], compression), seen;
            dala_session *from = i < 3 ? p.device : p.server, *to = i < 3 ? p.server : p.device;
            dala_buf frame = DALA_BUF_INIT, body = DALA_BUF_INIT;
            CHECK_OK(dala_session_seal(from, &frame, &header, sample_body, sizeof sample_body));
            CHECK_OK(dala_session_open(to, &body, &seen, frame.data, frame.len, BIG_CAP));
            CHECK_EQ_INT(body.len, sizeof sample_body);
            if (body.len == sizeof sample_body) CHECK_EQ_MEM(body.data, sample_body, body.len);
            CHECK_EQ_INT(seen.frame_type, DALA_FRAME_DATA);
            CHECK_EQ_INT(seen.compression, compression);
            CHECK_EQ_U64(seen.device_id, DEVICE_ID);
            /* A frame opens only in the other direction. */
            CHECK_EQ_INT(open_copy(from, frame.data, frame.len, BIG_CAP), DALA_EAUTH);
            dala_buf_free(&frame);
            dala_buf_free(&body);
        }
        pair_close(&p);
    }
}

static void test_session_writes_counter_from_zero_upwards(void)
{
    pair p;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    dala_buf frame = DALA_BUF_INIT;
    pair_open(&p, DALA_SUITE_AES256GCM);
    for (uint64_t counter = 0; counter < 3; counter++) {
        size_t start = frame.len;
        CHECK_OK(dala_session_seal(p.device, &frame, &header, sample_body, sizeof sample_body));
        CHECK_EQ_INT(frame.len - start, 28 + 8 + sizeof sample_body + 16);
        for (int i = 0; i < 8; i++)
            CHECK_EQ_INT(frame.data[start + 28 + i], (uint8_t)(counter >> (56 - 8 * i)));
    }
    dala_buf_free(&frame);
    pair_close(&p);
}

static void test_session_rejects_a_replayed_frame(void)
{
    pair p;
    dala_frame_header header = frame_sample_header(DALA_SUITE_CHACHAPOLY, DALA_COMPRESS_DEFLATE);
    dala_buf frame = DALA_BUF_INIT;
    pair_open(&p, DALA_SUITE_CHACHAPOLY);
    CHECK_OK(dala_session_seal(p.device, &frame, &header, sample_body, sizeof sample_body));
    CHECK_OK(open_copy(p.server, frame.data, frame.len, BIG_CAP));
    CHECK_EQ_INT(open_copy(p.server, frame.data, frame.len, BIG_CAP), DALA_EAUTH);
    CHECK(strstr(dala_errmsg(), "replayed or reordered frame") != NULL);
    dala_buf_free(&frame);
    pair_close(&p);
}

static void test_session_rejects_reordered_frames_but_accepts_gaps(void)
{
    pair p;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    dala_buf frames[4] = {DALA_BUF_INIT, DALA_BUF_INIT, DALA_BUF_INIT, DALA_BUF_INIT};
    pair_open(&p, DALA_SUITE_AES256GCM);
    for (int i = 0; i < 4; i++)
        CHECK_OK(dala_session_seal(p.server, &frames[i], &header, sample_body, sizeof sample_body));
    CHECK_OK(open_copy(p.device, frames[1].data, frames[1].len, BIG_CAP)); /* 0 lost */
    CHECK_EQ_INT(open_copy(p.device, frames[0].data, frames[0].len, BIG_CAP), DALA_EAUTH);
    CHECK_OK(open_copy(p.device, frames[3].data, frames[3].len, BIG_CAP)); /* 2 lost */
    CHECK_EQ_INT(open_copy(p.device, frames[2].data, frames[2].len, BIG_CAP), DALA_EAUTH);
    for (int i = 0; i < 4; i++) dala_buf_free(&frames[i]);
    pair_close(&p);
}

static void test_session_rejects_a_frame_of_another_session(void)
{
    pair a, b;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    dala_buf frame = DALA_BUF_INIT;
    pair_open(&a, DALA_SUITE_AES256GCM);
    pair_open(&b, DALA_SUITE_AES256GCM);
    CHECK_OK(dala_session_seal(a.device, &frame, &header, sample_body, sizeof sample_body));
    CHECK_EQ_INT(open_copy(b.server, frame.data, frame.len, BIG_CAP), DALA_EAUTH);
    CHECK(strstr(dala_errmsg(), "authentication tag does not verify") != NULL);
    /* The failure did not move B's window, nor spoil A. */
    CHECK_OK(open_copy(a.server, frame.data, frame.len, BIG_CAP));
    dala_buf_free(&frame);
    pair_close(&a);
    pair_close(&b);
}

static void test_session_rejects_every_single_bit_flip(void)
{
    pair p;
    dala_frame_header header = frame_sample_header(DALA_SUITE_CHACHAPOLY, DALA_COMPRESS_NONE);
    dala_buf frame = DALA_BUF_INIT;
    pair_open(&p, DALA_SUITE_CHACHAPOLY);
    /* Frame 1, offered to a session that has opened nothing yet: every
     * flip must fail on the header or the tag, never on the replay window. */
    CHECK_OK(dala_session_seal(p.device, &frame, &header, sample_body, sizeof sample_body));
    dala_buf_reset(&frame);
    CHECK_OK(dala_session_seal(p.device, &frame, &header, sample_body, sizeof sample_body));
    for (size_t bit = 0; bit < frame.len * 8; bit++) {
        int rc;
        frame.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        rc = open_copy(p.server, frame.data, frame.len, BIG_CAP);
        frame.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (rc == DALA_OK) test_fail(__FILE__, __LINE__, "DATA with bit %zu flipped opened", bit);
        if (bit / 8 >= DALA_FRAME_HEADER_BYTES && rc != DALA_EAUTH)
            test_fail(__FILE__, __LINE__, "body bit %zu: %d, expected DALA_EAUTH", bit, rc);
    }
    CHECK_OK(open_copy(p.server, frame.data, frame.len, BIG_CAP));
    dala_buf_free(&frame);
    pair_close(&p);
}

static void test_session_rejects_truncated_frames_at_every_length(void)
{
    pair p;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE);
    dala_buf frame = DALA_BUF_INIT;
    uint8_t *relabelled;
    pair_open(&p, DALA_SUITE_AES256GCM);
    CHECK_OK(dala_session_seal(p.device, &frame, &header, sample_body, sizeof sample_body));
    relabelled = malloc(frame.len);
    CHECK(relabelled != NULL);
    for (size_t len = 0; relabelled != NULL && len < frame.len; len++) {
        CHECK(open_copy(p.server, frame.data, len, BIG_CAP) != DALA_OK);
        if (len < DALA_FRAME_HEADER_BYTES) continue;
        /* body_len rewritten to match the cut, to reach the counter and tag checks */
        memcpy(relabelled, frame.data, len);
        relabelled[26] = (uint8_t)((len - DALA_FRAME_HEADER_BYTES) >> 8);
        relabelled[27] = (uint8_t)(len - DALA_FRAME_HEADER_BYTES);
        int rc = open_copy(p.server, relabelled, len, BIG_CAP);
        CHECK(rc == DALA_ECORRUPT || rc == DALA_EAUTH);
    }
    CHECK_OK(open_copy(p.server, frame.data, frame.len, BIG_CAP));
    free(relabelled);
    dala_buf_free(&frame);
    pair_close(&p);
}

static void test_session_rejects_tampered_header_fields(void)
{
    static const size_t offsets[] = {8, 11, 12, 19, 20, 23};
    pair p;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    dala_buf frame = DALA_BUF_INIT;
    pair_open(&p, DALA_SUITE_AES256GCM);
    CHECK_OK(dala_session_seal(p.device, &frame, &header, sample_body, sizeof sample_body));
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        frame.data[offsets[i]] ^= 0x01; /* schema_version, device_id, key_epoch */
        CHECK_EQ_INT(open_copy(p.server, frame.data, frame.len, BIG_CAP), DALA_EAUTH);
        frame.data[offsets[i]] ^= 0x01;
    }
    /* Changing the compression byte is caught by the tag too. */
    frame.data[7] = DALA_COMPRESS_DEFLATE;
    CHECK_EQ_INT(open_copy(p.server, frame.data, frame.len, BIG_CAP), DALA_EAUTH);
    frame.data[7] = DALA_COMPRESS_NONE;
    CHECK_OK(open_copy(p.server, frame.data, frame.len, BIG_CAP));
    dala_buf_free(&frame);
    pair_close(&p);
}

static void test_session_rejects_handshake_frames_and_other_suites(void)
{
    pair p;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    dala_buf frame = DALA_BUF_INIT;
    pair_open(&p, DALA_SUITE_AES256GCM);
    CHECK_OK(dala_session_seal(p.device, &frame, &header, sample_body, sizeof sample_body));
    frame.data[5] = DALA_FRAME_HELLO;
    CHECK_EQ_INT(open_copy(p.server, frame.data, frame.len, BIG_CAP), DALA_ECORRUPT);
    CHECK(strstr(dala_errmsg(), "expected a DATA frame, got HELLO") != NULL);
    frame.data[5] = DALA_FRAME_DATA;
    frame.data[6] = DALA_SUITE_CHACHAPOLY;
    CHECK_EQ_INT(open_copy(p.server, frame.data, frame.len, BIG_CAP), DALA_EAUTH);
    /* The sender will not seal with a suite the keys were not made for. */
    dala_buf_reset(&frame);
    header.suite = DALA_SUITE_CHACHAPOLY;
    CHECK_EQ_INT(dala_session_seal(p.device, &frame, &header, NULL, 0), DALA_EINVAL);
    CHECK_EQ_INT(frame.len, 0);
    dala_buf_free(&frame);
    pair_close(&p);
}

static void test_session_refuses_deflate_bomb_past_the_cap(void)
{
    size_t bomb_len = (size_t)16 << 20;
    uint8_t *zeros = calloc(1, bomb_len);
    pair p;
    dala_frame_header header = frame_sample_header(DALA_SUITE_CHACHAPOLY, DALA_COMPRESS_DEFLATE);
    dala_buf frame = DALA_BUF_INIT;
    CHECK(zeros != NULL);
    if (zeros == NULL) return;
    pair_open(&p, DALA_SUITE_CHACHAPOLY);
    CHECK_OK(dala_session_seal(p.device, &frame, &header, zeros, bomb_len));
    CHECK(frame.len < 64 * 1024);
    CHECK_EQ_INT(open_copy(p.server, frame.data, frame.len, 1 << 20), DALA_ELIMIT);
    /* An authentic frame that failed the cap may be opened again with a
     * larger one: only delivered frames move the window. */
    CHECK_OK(open_copy(p.server, frame.data, frame.len, bomb_len));
    /* Uncompressed bodies are held to the cap before any decryption. */
    header.compression = DALA_COMPRESS_NONE;
    dala_buf_reset(&frame);
    CHECK_OK(dala_session_seal(p.device, &frame, &header, zeros, 4096));
    CHECK_EQ_INT(open_copy(p.server, frame.data, frame.len, 4095), DALA_ELIMIT);
    CHECK_OK(open_copy(p.server, frame.data, frame.len, 4096));
    dala_buf_free(&frame);
    pair_close(&p);
    free(zeros);
}

static void test_session_rejects_frames_over_the_size_limit(void)
{
    size_t len = DALA_MAX_FRAME_BYTES + 1;
    uint8_t *big = calloc(1, len);
    pair p;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    dala_buf frame = DALA_BUF_INIT;
    CHECK(big != NULL);
    if (big == NULL) return;
    pair_open(&p, DALA_SUITE_AES256GCM);
    CHECK_OK(dala_session_seal(p.device, &frame, &header, NULL, 0));
    memcpy(big, frame.data, DALA_FRAME_HEADER_BYTES);
    for (int i = 0; i < 4; i++) big[24 + i] = (uint8_t)((len - 28) >> (24 - 8 * i));
    CHECK_EQ_INT(open_copy(p.server, big, len, BIG_CAP), DALA_ELIMIT);
    dala_buf_reset(&frame);
    CHECK_EQ_INT(dala_session_seal(p.device, &frame, &header, big, len), DALA_ELIMIT);
    CHECK_EQ_INT(frame.len, 0);
    dala_buf_free(&frame);
    pair_close(&p);
    free(big);
}

static void test_session_holds_bodies_to_the_library_ceiling(void)
{
    size_t len = DALA_MAX_BODY_BYTES + 1;
    uint8_t *zeros = calloc(1, len);
    pair p;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE);
    dala_buf frame = DALA_BUF_INIT, body = DALA_BUF_INIT;
    CHECK(zeros != NULL);
    if (zeros == NULL) return;
    pair_open(&p, DALA_SUITE_AES256GCM);
    /* A body no receiver would accept is not sealed, however well it deflates. */
    CHECK_EQ_INT(dala_session_seal(p.device, &frame, &header, zeros, len), DALA_ELIMIT);
    CHECK_EQ_INT(frame.len, 0);
    /* The largest body is, and "no cap" (SIZE_MAX) means the ceiling. */
    CHECK_OK(dala_session_seal(p.device, &frame, &header, zeros, len - 1));
    CHECK_OK(dala_session_open(p.server, &body, NULL, frame.data, frame.len, SIZE_MAX));
    CHECK_EQ_INT(body.len, len - 1);
    dala_buf_free(&frame);
    dala_buf_free(&body);
    pair_close(&p);
    free(zeros);
}

static void test_session_refuses_to_seal_past_its_frame_limit(void)
{
    pair p;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    dala_buf frame = DALA_BUF_INIT;
    uint64_t sealed = 0;
    int rc;
    pair_open(&p, DALA_SUITE_AES256GCM);
    for (;;) {
        dala_buf_reset(&frame);
        rc = dala_session_seal(p.server, &frame, &header, NULL, 0);
        if (rc != DALA_OK) break;
        sealed++;
    }
    CHECK_EQ_INT(rc, DALA_ELIMIT);
    CHECK_EQ_U64(sealed, DALA_SESSION_MAX_FRAMES);
    CHECK_EQ_INT(frame.len, 0);
    /* The other direction has its own count. */
    CHECK_OK(dala_session_seal(p.device, &frame, &header, NULL, 0));
    dala_buf_free(&frame);
    pair_close(&p);
}

static void test_session_new_refuses_an_unfinished_handshake(void)
{
    dala_keypair device, server;
    dala_handshake *initiator = NULL;
    dala_session *session = (dala_session *)1;
    CHECK_OK(dala_keypair_generate(&device));
    CHECK_OK(dala_keypair_generate(&server));
    CHECK_OK(dala_handshake_new(&initiator, 1, &device, server.public_key, NULL));
    CHECK_EQ_INT(dala_session_new(&session, initiator), DALA_EINVAL);
    CHECK(session == NULL);
    CHECK_EQ_INT(dala_session_new(&session, NULL), DALA_EINVAL);
    dala_handshake_free(initiator);
    dala_session_free(NULL);
}

const dala_test session_tests[] = {
    {"session_round_trips_frames_both_ways_in_both_suites",
     test_session_round_trips_frames_both_ways_in_both_suites},
    {"session_writes_counter_from_zero_upwards", test_session_writes_counter_from_zero_upwards},
    {"session_rejects_a_replayed_frame", test_session_rejects_a_replayed_frame},
    {"session_rejects_reordered_frames_but_accepts_gaps",
     test_session_rejects_reordered_frames_but_accepts_gaps},
    {"session_rejects_a_frame_of_another_session", test_session_rejects_a_frame_of_another_session},
    {"session_rejects_every_single_bit_flip", test_session_rejects_every_single_bit_flip},
    {"session_rejects_truncated_frames_at_every_length",
     test_session_rejects_truncated_frames_at_every_length},
    {"session_rejects_tampered_header_fields", test_session_rejects_tampered_header_fields},
    {"session_rejects_handshake_frames_and_other_suites",
     test_session_rejects_handshake_frames_and_other_suites},
    {"session_refuses_deflate_bomb_past_the_cap", test_session_refuses_deflate_bomb_past_the_cap},
    {"session_rejects_frames_over_the_size_limit",
     test_session_rejects_frames_over_the_size_limit},
    {"session_holds_bodies_to_the_library_ceiling",
     test_session_holds_bodies_to_the_library_ceiling},
    {"session_refuses_to_seal_past_its_frame_limit",
     test_session_refuses_to_seal_past_its_frame_limit},
    {"session_new_refuses_an_unfinished_handshake",
     test_session_new_refuses_an_unfinished_handshake},
    {NULL, NULL},
};
