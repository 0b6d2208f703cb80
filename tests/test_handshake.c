/* test_handshake.c - the Noise KK handshake: both suites and both
 * compressions round trip; every flipped bit, every truncation, a wrong
 * key on either side, a REPLY of another handshake, a tampered header and
 * a deflate bomb are all refused; misuse is refused; and what a thief of
 * both static keys can and cannot read. */
#include "frame_sample.h"
#include "testhelp.h"
#include "dala_sync.h"

#include <stdlib.h>

#define DEVICE_ID FRAME_SAMPLE_DEVICE_ID
#define BIG_CAP ((size_t)1 << 20)

static const uint8_t hello_body[] = "push batch 7: 3 changes";
static const uint8_t reply_body[] = "ack batch 7; pull: nothing new";

/* Both ends of one handshake and the frames that passed between them. */
typedef struct fixture {
    dala_keypair device, server;
    dala_keypair device_ephemeral, server_ephemeral;
    dala_handshake *initiator, *responder;
    dala_buf hello, reply;
} fixture;

static void keypair_from_byte(dala_keypair *out, uint8_t seed)
{
    uint8_t secret[DALA_KEY_BYTES];
    for (int i = 0; i < DALA_KEY_BYTES; i++) secret[i] = (uint8_t)(seed + 3 * i);
    CHECK_OK(dala_keypair_from_secret(out, secret));
}

/* Fixed keys (so a frame can be replayed into a fresh handshake), two new
 * handshakes, nothing written yet. */
static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    keypair_from_byte(&f->device, 1);
    keypair_from_byte(&f->server, 2);
    keypair_from_byte(&f->device_ephemeral, 3);
    keypair_from_byte(&f->server_ephemeral, 4);
    CHECK_OK(dala_handshake_new(&f->initiator, 1, &f->device, f->server.public_key,
                                &f->device_ephemeral));
    CHECK_OK(dala_handshake_new(&f->responder, 0, &f->server, f->device.public_key,
                                &f->server_ephemeral));
}

/* Runs both messages with `suite` and `compression`, checking the bodies. */
static void fixture_run(fixture *f, int suite, int compression)
{
    dala_frame_header header = frame_sample_header(suite, compression), seen;
    dala_buf body = DALA_BUF_INIT;

    fixture_init(f);
    CHECK_OK(dala_handshake_write(f->initiator, &f->hello, &header, hello_body, sizeof hello_body));
    CHECK_OK(dala_handshake_read(f->responder, &body, &seen, f->hello.data, f->hello.len, BIG_CAP));
    CHECK_EQ_INT(body.len, sizeof hello_body);
    if (body.len == sizeof hello_body) CHECK_EQ_MEM(body.data, hello_body, body.len);
    CHECK_EQ_INT(seen.frame_type, DALA_FRAME_HELLO);
    CHECK_EQ_U64(seen.device_id, DEVICE_ID);
    dala_buf_reset(&body);
    CHECK_OK(dala_handshake_write(f->responder, &f->reply, &header, reply_body, sizeof reply_body));
    CHECK_OK(dala_handshake_read(f->initiator, &body, &seen, f->reply.data, f->reply.len, BIG_CAP));
    CHECK_EQ_INT(body.len, sizeof reply_body);
    if (body.len == sizeof reply_body) CHECK_EQ_MEM(body.data, reply_body, body.len);
    CHECK_EQ_INT(seen.frame_type, DALA_FRAME_REPLY);
    dala_buf_free(&body);
}

static void fixture_free(fixture *f)
{
    dala_handshake_free(f->initiator);
    dala_handshake_free(f->responder);
    dala_buf_free(&f->hello);
    dala_buf_free(&f->reply);
}

/* Offers `frame` (copied into a buffer of exactly `len` bytes, so a read
 * past its end trips AddressSanitizer) to a fresh responder. */
static int read_hello_copy(const fixture *f, const uint8_t *frame, size_t len, size_t cap)
{
    dala_handshake *responder = NULL;
    dala_buf body = DALA_BUF_INIT;
    uint8_t *copy = malloc(len ? len : 1);
    int rc;

    if (copy == NULL) return DALA_ENOMEM;
    if (len) memcpy(copy, frame, len);
    CHECK_OK(dala_handshake_new(&responder, 0, &f->server, f->device.public_key,
                                &f->server_ephemeral));
    rc = dala_handshake_read(responder, &body, NULL, copy, len, cap);
    if (rc != DALA_OK) CHECK_EQ_INT(body.len, 0);
    dala_handshake_free(responder);
    dala_buf_free(&body);
    free(copy);
    return rc;
}

/* Offers `frame` as a REPLY to a fresh initiator that has just written the
 * fixture's HELLO again (same keys, same ephemeral: the same HELLO). */
static int read_reply_copy(const fixture *f, const uint8_t *frame, size_t len, int suite,
                           int compression)
{
    dala_frame_header header = frame_sample_header(suite, compression);
    dala_handshake *initiator = NULL;
    dala_buf hello = DALA_BUF_INIT, body = DALA_BUF_INIT;
    uint8_t *copy = malloc(len ? len : 1);
    int rc;

    if (copy == NULL) return DALA_ENOMEM;
    if (len) memcpy(copy, frame, len);
    CHECK_OK(dala_handshake_new(&initiator, 1, &f->device, f->server.public_key,
                                &f->device_ephemeral));
    CHECK_OK(dala_handshake_write(initiator, &hello, &header, hello_body, sizeof hello_body));
    rc = dala_handshake_read(initiator, &body, NULL, copy, len, BIG_CAP);
    dala_handshake_free(initiator);
    dala_buf_free(&hello);
    dala_buf_free(&body);
    free(copy);
    return rc;
}

static void test_handshake_round_trips_bodies_in_both_suites_and_compressions(void)
{
    static const int suites[] = {DALA_SUITE_AES256GCM, DALA_SUITE_CHACHAPOLY};
    static const int compressions[] = {DALA_COMPRESS_NONE, DALA_COMPRESS_DEFLATE};
    for (int s = 0; s < 2; s++) {
        for (int c = 0; c < 2; c++) {
            fixture f;
            dala_frame_header parsed;
            uint8_t hash_i[32], hash_r[32];
            fixture_run(&f, suites[s], compressions[c]);
            CHECK_OK(dala_frame_header_parse(&parsed, f.hello.data, f.hello.len));
            CHECK_EQ_INT(parsed.suite, suites[s]);
            CHECK_EQ_INT(parsed.compression, compressions[c]);
            if (compressions[c] == DALA_COMPRESS_NONE)
                CHECK_EQ_INT(f.hello.len, DALA_FRAME_HEADER_BYTES + 32 + sizeof hello_body + 16);
            CHECK_OK(dala_handshake_hash(hash_i, f.initiator));
            CHECK_OK(dala_handshake_hash(hash_r, f.responder));
            CHECK_EQ_MEM(hash_i, hash_r, 32);
            fixture_free(&f);
        }
    }
}

static void test_handshake_round_trips_empty_and_large_bodies(void)
{
    enum { LARGE = 300000 };
    static const int compressions[] = {DALA_COMPRESS_NONE, DALA_COMPRESS_DEFLATE};
    uint8_t *large = malloc(LARGE);
    CHECK(large != NULL);
    if (large == NULL) return;
    for (size_t i = 0; i < LARGE; i++) large[i] = (uint8_t)(i % 251 ^ i / 1000);
    for (int c = 0; c < 2; c++) {
        fixture f;
        dala_frame_header header = frame_sample_header(DALA_SUITE_CHACHAPOLY, compressions[c]);
        dala_buf body = DALA_BUF_INIT;
        fixture_init(&f);
        CHECK_OK(dala_handshake_write(f.initiator, &f.hello, &header, NULL, 0));
        CHECK_OK(dala_handshake_read(f.responder, &body, NULL, f.hello.data, f.hello.len, 0));
        CHECK_EQ_INT(body.len, 0);
        CHECK_OK(dala_handshake_write(f.responder, &f.reply, &header, large, LARGE));
        CHECK_OK(dala_handshake_read(f.initiator, &body, NULL, f.reply.data, f.reply.len, LARGE));
        CHECK_EQ_INT(body.len, LARGE);
        if (body.len == LARGE) CHECK_EQ_MEM(body.data, large, LARGE);
        dala_buf_free(&body);
        fixture_free(&f);
    }
    free(large);
}

static void test_handshake_rejects_every_single_bit_flip_of_hello(void)
{
    fixture f;
    fixture_run(&f, DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    for (size_t bit = 0; bit < f.hello.len * 8; bit++) {
        int rc;
        f.hello.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        rc = read_hello_copy(&f, f.hello.data, f.hello.len, BIG_CAP);
        f.hello.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (rc == DALA_OK) test_fail(__FILE__, __LINE__, "HELLO with bit %zu flipped opened", bit);
        /* Past the structural fields (magic, version, type, suite,
         * compression, body_len), a flip can only show as a bad tag. */
        if (bit / 8 >= 8 && bit / 8 < 24 && rc != DALA_EAUTH)
            test_fail(__FILE__, __LINE__, "header bit %zu: %d, expected DALA_EAUTH", bit, rc);
        if (bit / 8 >= DALA_FRAME_HEADER_BYTES && rc != DALA_EAUTH)
            test_fail(__FILE__, __LINE__, "body bit %zu: %d, expected DALA_EAUTH", bit, rc);
    }
    CHECK_OK(read_hello_copy(&f, f.hello.data, f.hello.len, BIG_CAP));
    fixture_free(&f);
}

static void test_handshake_rejects_every_single_bit_flip_of_reply(void)
{
    fixture f;
    fixture_run(&f, DALA_SUITE_CHACHAPOLY, DALA_COMPRESS_DEFLATE);
    for (size_t bit = 0; bit < f.reply.len * 8; bit++) {
        int rc;
        f.reply.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        rc = read_reply_copy(&f, f.reply.data, f.reply.len, DALA_SUITE_CHACHAPOLY,
                             DALA_COMPRESS_DEFLATE);
        f.reply.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (rc == DALA_OK) test_fail(__FILE__, __LINE__, "REPLY with bit %zu flipped opened", bit);
        if (bit / 8 >= DALA_FRAME_HEADER_BYTES && rc != DALA_EAUTH)
            test_fail(__FILE__, __LINE__, "body bit %zu: %d, expected DALA_EAUTH", bit, rc);
    }
    CHECK_OK(read_reply_copy(&f, f.reply.data, f.reply.len, DALA_SUITE_CHACHAPOLY,
                             DALA_COMPRESS_DEFLATE));
    fixture_free(&f);
}

static void test_handshake_rejects_truncated_frames_at_every_length(void)
{
    fixture f;
    uint8_t *relabelled;
    fixture_run(&f, DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE);
    relabelled = malloc(f.hello.len);
    CHECK(relabelled != NULL);
    for (size_t len = 0; relabelled != NULL && len < f.hello.len; len++) {
        /* Cut short as it is... */
        CHECK(read_hello_copy(&f, f.hello.data, len, BIG_CAP) != DALA_OK);
        CHECK(read_reply_copy(&f, f.reply.data, len < f.reply.len ? len : 0,
                              DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE) != DALA_OK);
        /* ...and cut short with body_len rewritten to match, so the cut
         * reaches the key and tag checks. */
        if (len < DALA_FRAME_HEADER_BYTES) continue;
        memcpy(relabelled, f.hello.data, len);
        relabelled[24] = relabelled[25] = 0;
        relabelled[26] = (uint8_t)((len - DALA_FRAME_HEADER_BYTES) >> 8);
        relabelled[27] = (uint8_t)(len - DALA_FRAME_HEADER_BYTES);
        int rc = read_hello_copy(&f, relabelled, len, BIG_CAP);
        CHECK(rc == DALA_ECORRUPT || rc == DALA_EAUTH);
    }
    free(relabelled);
    fixture_free(&f);
}

static void test_handshake_rejects_hello_sealed_for_another_server_key(void)
{
    fixture f;
    dala_keypair other_server;
    dala_handshake *initiator = NULL;
    dala_buf hello = DALA_BUF_INIT, body = DALA_BUF_INIT;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    fixture_init(&f);
    keypair_from_byte(&other_server, 99);
    CHECK_OK(dala_handshake_new(&initiator, 1, &f.device, other_server.public_key, NULL));
    CHECK_OK(dala_handshake_write(initiator, &hello, &header, hello_body, sizeof hello_body));
    CHECK_EQ_INT(dala_handshake_read(f.responder, &body, NULL, hello.data, hello.len, BIG_CAP),
                 DALA_EAUTH);
    CHECK(strstr(dala_errmsg(), "open HELLO from device 42") != NULL);
    CHECK(strstr(dala_errmsg(), "authentication tag does not verify") != NULL);
    CHECK_EQ_INT(body.len, 0);
    dala_handshake_free(initiator);
    dala_buf_free(&hello);
    dala_buf_free(&body);
    fixture_free(&f);
}

static void test_handshake_rejects_hello_from_an_unexpected_device_key(void)
{
    fixture f;
    dala_keypair impostor;
    dala_handshake *initiator = NULL;
    dala_buf hello = DALA_BUF_INIT, body = DALA_BUF_INIT;
    dala_frame_header header = frame_sample_header(DALA_SUITE_CHACHAPOLY, DALA_COMPRESS_DEFLATE);
    fixture_init(&f);
    /* The impostor knows the server's public key and claims device 42. */
    keypair_from_byte(&impostor, 77);
    CHECK_OK(dala_handshake_new(&initiator, 1, &impostor, f.server.public_key, NULL));
    CHECK_OK(dala_handshake_write(initiator, &hello, &header, hello_body, sizeof hello_body));
    CHECK_EQ_INT(dala_handshake_read(f.responder, &body, NULL, hello.data, hello.len, BIG_CAP),
                 DALA_EAUTH);
    dala_handshake_free(initiator);
    dala_buf_free(&hello);
    dala_buf_free(&body);
    fixture_free(&f);
}

static void test_handshake_rejects_reply_from_a_responder_with_the_wrong_key(void)
{
    fixture f;
    dala_keypair other_server;
    dala_handshake *fake = NULL;
    dala_buf body = DALA_BUF_INIT, reply = DALA_BUF_INIT;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    fixture_init(&f);
    CHECK_OK(dala_handshake_write(f.initiator, &f.hello, &header, hello_body, sizeof hello_body));
    /* A server without the real key cannot even read the HELLO... */
    keypair_from_byte(&other_server, 55);
    CHECK_OK(dala_handshake_new(&fake, 0, &other_server, f.device.public_key, NULL));
    CHECK_EQ_INT(dala_handshake_read(fake, &body, NULL, f.hello.data, f.hello.len, BIG_CAP),
                 DALA_EAUTH);
    dala_handshake_free(fake);
    /* ...and a REPLY it makes from a HELLO of its own is refused. */
    CHECK_OK(dala_handshake_new(&fake, 0, &other_server, f.device.public_key, NULL));
    {
        dala_handshake *own = NULL;
        dala_buf own_hello = DALA_BUF_INIT;
        CHECK_OK(dala_handshake_new(&own, 1, &f.device, other_server.public_key, NULL));
        CHECK_OK(dala_handshake_write(own, &own_hello, &header, hello_body, sizeof hello_body));
        CHECK_OK(dala_handshake_read(fake, &body, NULL, own_hello.data, own_hello.len, BIG_CAP));
        CHECK_OK(dala_handshake_write(fake, &reply, &header, reply_body, sizeof reply_body));
        dala_handshake_free(own);
        dala_buf_free(&own_hello);
    }
    CHECK_EQ_INT(dala_handshake_read(f.initiator, &body, NULL, reply.data, reply.len, BIG_CAP),
                 DALA_EAUTH);
    dala_handshake_free(fake);
    dala_buf_free(&reply);
    dala_buf_free(&body);
    fixture_free(&f);
}

static void test_handshake_rejects_reply_of_another_handshake(void)
{
    fixture first;
    dala_handshake *initiator = NULL, *responder = NULL;
    dala_buf hello = DALA_BUF_INIT, reply = DALA_BUF_INIT, body = DALA_BUF_INIT;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    /* The same two parties, fresh ephemerals: a second, parallel handshake. */
    fixture_init(&first);
    CHECK_OK(dala_handshake_write(first.initiator, &first.hello, &header, hello_body,
                                  sizeof hello_body));
    CHECK_OK(dala_handshake_new(&initiator, 1, &first.device, first.server.public_key, NULL));
    CHECK_OK(dala_handshake_new(&responder, 0, &first.server, first.device.public_key, NULL));
    CHECK_OK(dala_handshake_write(initiator, &hello, &header, hello_body, sizeof hello_body));
    CHECK_OK(dala_handshake_read(responder, &body, NULL, hello.data, hello.len, BIG_CAP));
    CHECK_OK(dala_handshake_write(responder, &reply, &header, reply_body, sizeof reply_body));
    CHECK_EQ_INT(dala_handshake_read(first.initiator, &body, NULL, reply.data, reply.len,
                                     BIG_CAP), DALA_EAUTH);
    dala_handshake_free(initiator);
    dala_handshake_free(responder);
    dala_buf_free(&hello);
    dala_buf_free(&reply);
    dala_buf_free(&body);
    fixture_free(&first);
}

/* Rewrites one header field of a copy of `frame` and offers it. */
static void check_tampered_field(const fixture *f, const dala_buf *frame, int is_hello,
                                 size_t offset, uint8_t xor_mask)
{
    uint8_t *copy = malloc(frame->len);
    int rc;
    CHECK(copy != NULL);
    if (copy == NULL) return;
    memcpy(copy, frame->data, frame->len);
    copy[offset] ^= xor_mask;
    rc = is_hello ? read_hello_copy(f, copy, frame->len, BIG_CAP)
                  : read_reply_copy(f, copy, frame->len, DALA_SUITE_AES256GCM,
                                    DALA_COMPRESS_NONE);
    if (rc != DALA_EAUTH)
        test_fail(__FILE__, __LINE__, "%s with header byte %zu changed: %d, expected DALA_EAUTH",
                  is_hello ? "HELLO" : "REPLY", offset, rc);
    free(copy);
}

static void test_handshake_rejects_tampered_header_fields(void)
{
    fixture f;
    fixture_run(&f, DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    for (int is_hello = 0; is_hello < 2; is_hello++) {
        const dala_buf *frame = is_hello ? &f.hello : &f.reply;
        check_tampered_field(&f, frame, is_hello, 11, 0x01); /* schema_version 5 -> 4 */
        check_tampered_field(&f, frame, is_hello, 19, 0x03); /* device_id 42 -> 41 */
        check_tampered_field(&f, frame, is_hello, 12, 0x80); /* device_id, top byte */
        check_tampered_field(&f, frame, is_hello, 23, 0x01); /* key_epoch 2 -> 3 */
    }
    fixture_free(&f);
}

static void test_handshake_rejects_unknown_protocol_version(void)
{
    fixture f;
    fixture_run(&f, DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    f.hello.data[4] = 2;
    CHECK_EQ_INT(read_hello_copy(&f, f.hello.data, f.hello.len, BIG_CAP), DALA_ESCHEMA);
    CHECK(strstr(dala_errmsg(), "protocol version 2") != NULL);
    CHECK(strstr(dala_errmsg(), "version 1") != NULL);
    fixture_free(&f);
}

static void test_handshake_rejects_frames_over_the_size_limit(void)
{
    fixture f;
    size_t len = DALA_MAX_FRAME_BYTES + 1;
    uint8_t *big = calloc(1, len);
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    dala_buf frame = DALA_BUF_INIT;
    fixture_run(&f, DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    CHECK(big != NULL);
    if (big == NULL) goto cleanup;
    /* Received: a header that tells the truth about a body too large. */
    memcpy(big, f.hello.data, DALA_FRAME_HEADER_BYTES);
    big[24] = (uint8_t)((len - 28) >> 24);
    big[25] = (uint8_t)((len - 28) >> 16);
    big[26] = (uint8_t)((len - 28) >> 8);
    big[27] = (uint8_t)(len - 28);
    CHECK_EQ_INT(read_hello_copy(&f, big, len, BIG_CAP), DALA_ELIMIT);
    /* Sent: a body that would make such a frame is refused before sealing. */
    {
        dala_handshake *initiator = NULL;
        CHECK_OK(dala_handshake_new(&initiator, 1, &f.device, f.server.public_key, NULL));
        CHECK_EQ_INT(dala_handshake_write(initiator, &frame, &header, big, len), DALA_ELIMIT);
        CHECK_EQ_INT(frame.len, 0);
        dala_handshake_free(initiator);
    }
cleanup:
    free(big);
    dala_buf_free(&frame);
    fixture_free(&f);
}

static void test_handshake_refuses_deflate_bomb_past_the_cap(void)
{
    size_t bomb_len = (size_t)16 << 20;
    uint8_t *zeros = calloc(1, bomb_len);
    fixture f;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE);
    dala_buf body = DALA_BUF_INIT;
    CHECK(zeros != NULL);
    if (zeros == NULL) return;
    fixture_init(&f);
    CHECK_OK(dala_handshake_write(f.initiator, &f.hello, &header, zeros, bomb_len));
    CHECK(f.hello.len < 64 * 1024); /* 16 MiB of zeros deflate to ~16 KiB */
    /* Correctly sealed, so the tag verifies; the cap stops the inflate. */
    CHECK_EQ_INT(dala_handshake_read(f.responder, &body, NULL, f.hello.data, f.hello.len,
                                     1 << 20), DALA_ELIMIT);
    CHECK_EQ_INT(body.len, 0);
    /* Uncompressed bodies are held to the cap too. */
    CHECK_EQ_INT(read_hello_copy(&f, f.hello.data, f.hello.len, bomb_len), DALA_OK);
    header.compression = DALA_COMPRESS_NONE;
    {
        dala_handshake *initiator = NULL;
        dala_buf hello = DALA_BUF_INIT;
        CHECK_OK(dala_handshake_new(&initiator, 1, &f.device, f.server.public_key, NULL));
        CHECK_OK(dala_handshake_write(initiator, &hello, &header, zeros, 2048));
        CHECK_EQ_INT(read_hello_copy(&f, hello.data, hello.len, 2047), DALA_ELIMIT);
        CHECK_EQ_INT(read_hello_copy(&f, hello.data, hello.len, 2048), DALA_OK);
        dala_handshake_free(initiator);
        dala_buf_free(&hello);
    }
    dala_buf_free(&body);
    fixture_free(&f);
    free(zeros);
}

static void test_handshake_refuses_out_of_order_use(void)
{
    fixture f;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    dala_buf frame = DALA_BUF_INIT, body = DALA_BUF_INIT;
    dala_session *session = NULL;
    uint8_t hash[32];
    fixture_init(&f);
    /* Nothing written yet: the initiator cannot read, the responder cannot write. */
    CHECK_EQ_INT(dala_handshake_read(f.initiator, &body, NULL, frame.data, 0, BIG_CAP),
                 DALA_EINVAL);
    CHECK_EQ_INT(dala_handshake_write(f.responder, &frame, &header, NULL, 0), DALA_EINVAL);
    CHECK_EQ_INT(dala_handshake_hash(hash, f.initiator), DALA_EINVAL);
    CHECK_EQ_INT(dala_session_new(&session, f.initiator), DALA_EINVAL);
    CHECK(session == NULL);
    CHECK_OK(dala_handshake_write(f.initiator, &f.hello, &header, NULL, 0));
    CHECK_EQ_INT(dala_handshake_write(f.initiator, &frame, &header, NULL, 0), DALA_EINVAL);
    CHECK_OK(dala_handshake_read(f.responder, &body, NULL, f.hello.data, f.hello.len, BIG_CAP));
    CHECK_EQ_INT(dala_handshake_read(f.responder, &body, NULL, f.hello.data, f.hello.len,
                                     BIG_CAP), DALA_EINVAL);
    CHECK_OK(dala_handshake_write(f.responder, &f.reply, &header, NULL, 0));
    CHECK_EQ_INT(dala_handshake_write(f.responder, &frame, &header, NULL, 0), DALA_EINVAL);
    CHECK_OK(dala_handshake_read(f.initiator, &body, NULL, f.reply.data, f.reply.len, BIG_CAP));
    CHECK_EQ_INT(dala_handshake_read(f.initiator, &body, NULL, f.reply.data, f.reply.len,
                                     BIG_CAP), DALA_EINVAL);
    CHECK_EQ_INT(frame.len, 0);
    dala_buf_free(&frame);
    dala_buf_free(&body);
    fixture_free(&f);
}

static void test_handshake_is_dead_after_a_failed_read(void)
{
    fixture f;
    dala_frame_header header = frame_sample_header(DALA_SUITE_CHACHAPOLY, DALA_COMPRESS_NONE);
    dala_buf body = DALA_BUF_INIT;
    uint8_t hash[32];
    fixture_init(&f);
    CHECK_OK(dala_handshake_write(f.initiator, &f.hello, &header, hello_body, sizeof hello_body));
    f.hello.data[f.hello.len - 1] ^= 1;
    CHECK_EQ_INT(dala_handshake_read(f.responder, &body, NULL, f.hello.data, f.hello.len,
                                     BIG_CAP), DALA_EAUTH);
    f.hello.data[f.hello.len - 1] ^= 1;
    CHECK_EQ_INT(dala_handshake_read(f.responder, &body, NULL, f.hello.data, f.hello.len,
                                     BIG_CAP), DALA_EINVAL);
    CHECK(strstr(dala_errmsg(), "dead") != NULL);
    CHECK_EQ_INT(dala_handshake_write(f.responder, &f.reply, &header, NULL, 0), DALA_EINVAL);
    CHECK_EQ_INT(dala_handshake_hash(hash, f.responder), DALA_EINVAL);
    dala_buf_free(&body);
    fixture_free(&f);
}

static void test_handshake_reply_must_use_the_hello_suite(void)
{
    fixture f;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    dala_buf body = DALA_BUF_INIT, frame = DALA_BUF_INIT;
    fixture_run(&f, DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    /* The responder will not write a REPLY in another suite... */
    {
        dala_handshake *responder = NULL;
        CHECK_OK(dala_handshake_new(&responder, 0, &f.server, f.device.public_key, NULL));
        CHECK_OK(dala_handshake_read(responder, &body, NULL, f.hello.data, f.hello.len, BIG_CAP));
        header.suite = DALA_SUITE_CHACHAPOLY;
        CHECK_EQ_INT(dala_handshake_write(responder, &frame, &header, NULL, 0), DALA_EINVAL);
        CHECK_EQ_INT(frame.len, 0);
        dala_handshake_free(responder);
    }
    /* ...and the initiator refuses a REPLY whose suite byte was changed. */
    f.reply.data[6] = DALA_SUITE_CHACHAPOLY;
    CHECK_EQ_INT(read_reply_copy(&f, f.reply.data, f.reply.len, DALA_SUITE_AES256GCM,
                                 DALA_COMPRESS_NONE), DALA_EAUTH);
    dala_buf_free(&body);
    dala_buf_free(&frame);
    fixture_free(&f);
}

static void test_handshake_rejects_frames_of_the_wrong_type(void)
{
    fixture f;
    fixture_run(&f, DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    CHECK_EQ_INT(read_hello_copy(&f, f.reply.data, f.reply.len, BIG_CAP), DALA_ECORRUPT);
    CHECK(strstr(dala_errmsg(), "expected a HELLO frame, got REPLY") != NULL);
    CHECK_EQ_INT(read_reply_copy(&f, f.hello.data, f.hello.len, DALA_SUITE_AES256GCM,
                                 DALA_COMPRESS_NONE), DALA_ECORRUPT);
    fixture_free(&f);
}

static void test_handshake_rejects_a_low_order_ephemeral_key(void)
{
    fixture f;
    fixture_run(&f, DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    memset(f.hello.data + DALA_FRAME_HEADER_BYTES, 0, DALA_KEY_BYTES);
    CHECK_EQ_INT(read_hello_copy(&f, f.hello.data, f.hello.len, BIG_CAP), DALA_EAUTH);
    CHECK(strstr(dala_errmsg(), "low-order") != NULL);
    memset(f.reply.data + DALA_FRAME_HEADER_BYTES, 0, DALA_KEY_BYTES);
    f.reply.data[DALA_FRAME_HEADER_BYTES] = 1;
    CHECK_EQ_INT(read_reply_copy(&f, f.reply.data, f.reply.len, DALA_SUITE_AES256GCM,
                                 DALA_COMPRESS_NONE), DALA_EAUTH);
    fixture_free(&f);
}

static void test_handshake_refuses_bad_headers_from_the_caller(void)
{
    fixture f;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    dala_buf frame = DALA_BUF_INIT;
    fixture_init(&f);
    header.protocol_version = 0;
    CHECK_EQ_INT(dala_handshake_write(f.initiator, &frame, &header, NULL, 0), DALA_EINVAL);
    dala_handshake_free(f.initiator);
    CHECK_OK(dala_handshake_new(&f.initiator, 1, &f.device, f.server.public_key, NULL));
    header = frame_sample_header(3, DALA_COMPRESS_NONE);
    CHECK_EQ_INT(dala_handshake_write(f.initiator, &frame, &header, NULL, 0), DALA_EINVAL);
    dala_handshake_free(f.initiator);
    CHECK_OK(dala_handshake_new(&f.initiator, 1, &f.device, f.server.public_key, NULL));
    header = frame_sample_header(DALA_SUITE_AES256GCM, 9);
    CHECK_EQ_INT(dala_handshake_write(f.initiator, &frame, &header, NULL, 0), DALA_EINVAL);
    CHECK_EQ_INT(frame.len, 0);
    dala_buf_free(&frame);
    fixture_free(&f);
}

static void test_handshake_hash_differs_between_handshakes(void)
{
    fixture a, b;
    uint8_t hash_a[32], hash_b[32];
    fixture_run(&a, DALA_SUITE_AES256GCM, DALA_COMPRESS_NONE);
    fixture_run(&b, DALA_SUITE_CHACHAPOLY, DALA_COMPRESS_NONE);
    CHECK_OK(dala_handshake_hash(hash_a, a.initiator));
    CHECK_OK(dala_handshake_hash(hash_b, b.initiator));
    CHECK(memcmp(hash_a, hash_b, 32) != 0);
    fixture_free(&a);
    fixture_free(&b);
}

/* Forward secrecy, and its limit. A thief who later steals BOTH static
 * secrets, but never saw the ephemeral secrets, replays the captured
 * traffic into fresh handshakes of their own.
 *
 * The HELLO is sealed under es and ss only (Noise KK's first message), so
 * the thief reads it: a HELLO payload has no forward secrecy against the
 * server's static key. That is the price of carrying the push in the
 * first message (one round trip); the push is data the device is about to
 * hand the server anyway. The REPLY and all DATA frames also depend on ee
 * and se, which need an ephemeral secret: those stay closed. */
static void test_handshake_stolen_static_keys_open_hello_but_not_reply_or_data(void)
{
    static const uint8_t device_data[] = "field visit 0190f1c2: notes";
    static const uint8_t server_data[] = "review: returned with a comment";
    fixture f;
    dala_frame_header header = frame_sample_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE);
    dala_session *device_session = NULL, *server_session = NULL, *thief_session = NULL;
    dala_handshake *thief_responder = NULL, *thief_initiator = NULL;
    dala_buf data_up = DALA_BUF_INIT, data_down = DALA_BUF_INIT, body = DALA_BUF_INIT;
    dala_buf scratch = DALA_BUF_INIT;

    /* The real sync, captured on the wire. */
    fixture_run(&f, DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE);
    CHECK_OK(dala_session_new(&device_session, f.initiator));
    CHECK_OK(dala_session_new(&server_session, f.responder));
    CHECK_OK(dala_session_seal(device_session, &data_up, &header, device_data, sizeof device_data));
    CHECK_OK(dala_session_seal(server_session, &data_down, &header, server_data,
                               sizeof server_data));

    /* The thief plays the server with its stolen key: the HELLO opens. */
    CHECK_OK(dala_handshake_new(&thief_responder, 0, &f.server, f.device.public_key, NULL));
    CHECK_OK(dala_handshake_read(thief_responder, &body, NULL, f.hello.data, f.hello.len,
                                 BIG_CAP));
    CHECK_EQ_INT(body.len, sizeof hello_body);
    if (body.len == sizeof hello_body) CHECK_EQ_MEM(body.data, hello_body, body.len);
    /* Its own REPLY gives it keys of its own, not the captured session's. */
    CHECK_OK(dala_handshake_write(thief_responder, &scratch, &header, NULL, 0));
    CHECK_OK(dala_session_new(&thief_session, thief_responder));
    dala_buf_reset(&body);
    CHECK_EQ_INT(dala_session_open(thief_session, &body, NULL, data_up.data, data_up.len,
                                   BIG_CAP), DALA_EAUTH);
    CHECK_EQ_INT(body.len, 0);

    /* The thief plays the device with its stolen key: a fresh ephemeral
     * makes a different HELLO, and the captured REPLY does not open. */
    dala_buf_reset(&scratch);
    CHECK_OK(dala_handshake_new(&thief_initiator, 1, &f.device, f.server.public_key, NULL));
    CHECK_OK(dala_handshake_write(thief_initiator, &scratch, &header, hello_body,
                                  sizeof hello_body));
    CHECK_EQ_INT(dala_handshake_read(thief_initiator, &body, NULL, f.reply.data, f.reply.len,
                                     BIG_CAP), DALA_EAUTH);
    CHECK_EQ_INT(body.len, 0);
    dala_handshake_free(thief_initiator);

    /* Playing both ends with both stolen keys finishes a handshake, but its
     * device-side keys do not open the captured server-to-device DATA. */
    dala_handshake_free(thief_responder);
    dala_session_free(thief_session);
    CHECK_OK(dala_handshake_new(&thief_initiator, 1, &f.device, f.server.public_key, NULL));
    CHECK_OK(dala_handshake_new(&thief_responder, 0, &f.server, f.device.public_key, NULL));
    dala_buf_reset(&scratch);
    CHECK_OK(dala_handshake_write(thief_initiator, &scratch, &header, NULL, 0));
    CHECK_OK(dala_handshake_read(thief_responder, &body, NULL, scratch.data, scratch.len,
                                 BIG_CAP));
    dala_buf_reset(&scratch);
    CHECK_OK(dala_handshake_write(thief_responder, &scratch, &header, NULL, 0));
    CHECK_OK(dala_handshake_read(thief_initiator, &body, NULL, scratch.data, scratch.len,
                                 BIG_CAP));
    CHECK_OK(dala_session_new(&thief_session, thief_initiator));
    CHECK_EQ_INT(dala_session_open(thief_session, &body, NULL, data_down.data, data_down.len,
                                   BIG_CAP), DALA_EAUTH);
    /* The real device still opens it: the capture itself was sound. */
    CHECK_OK(dala_session_open(device_session, &body, NULL, data_down.data, data_down.len,
                               BIG_CAP));

    dala_session_free(device_session);
    dala_session_free(server_session);
    dala_session_free(thief_session);
    dala_handshake_free(thief_responder);
    dala_handshake_free(thief_initiator);
    dala_buf_free(&data_up);
    dala_buf_free(&data_down);
    dala_buf_free(&body);
    dala_buf_free(&scratch);
    fixture_free(&f);
}

static void test_handshake_free_accepts_null(void)
{
    dala_handshake *hs = (dala_handshake *)1;
    dala_keypair pair;
    uint8_t remote[32] = {9};
    dala_handshake_free(NULL);
    keypair_from_byte(&pair, 5);
    CHECK_EQ_INT(dala_handshake_new(&hs, 1, NULL, remote, NULL), DALA_EINVAL);
    CHECK(hs == NULL);
    CHECK_EQ_INT(dala_handshake_new(&hs, 1, &pair, NULL, NULL), DALA_EINVAL);
}

const dala_test handshake_tests[] = {
    {"handshake_round_trips_bodies_in_both_suites_and_compressions",
     test_handshake_round_trips_bodies_in_both_suites_and_compressions},
    {"handshake_round_trips_empty_and_large_bodies",
     test_handshake_round_trips_empty_and_large_bodies},
    {"handshake_rejects_every_single_bit_flip_of_hello",
     test_handshake_rejects_every_single_bit_flip_of_hello},
    {"handshake_rejects_every_single_bit_flip_of_reply",
     test_handshake_rejects_every_single_bit_flip_of_reply},
    {"handshake_rejects_truncated_frames_at_every_length",
     test_handshake_rejects_truncated_frames_at_every_length},
    {"handshake_rejects_hello_sealed_for_another_server_key",
     test_handshake_rejects_hello_sealed_for_another_server_key},
    {"handshake_rejects_hello_from_an_unexpected_device_key",
     test_handshake_rejects_hello_from_an_unexpected_device_key},
    {"handshake_rejects_reply_from_a_responder_with_the_wrong_key",
     test_handshake_rejects_reply_from_a_responder_with_the_wrong_key},
    {"handshake_rejects_reply_of_another_handshake",
     test_handshake_rejects_reply_of_another_handshake},
    {"handshake_rejects_tampered_header_fields", test_handshake_rejects_tampered_header_fields},
    {"handshake_rejects_unknown_protocol_version",
     test_handshake_rejects_unknown_protocol_version},
    {"handshake_rejects_frames_over_the_size_limit",
     test_handshake_rejects_frames_over_the_size_limit},
    {"handshake_refuses_deflate_bomb_past_the_cap",
     test_handshake_refuses_deflate_bomb_past_the_cap},
    {"handshake_refuses_out_of_order_use", test_handshake_refuses_out_of_order_use},
    {"handshake_is_dead_after_a_failed_read", test_handshake_is_dead_after_a_failed_read},
    {"handshake_reply_must_use_the_hello_suite", test_handshake_reply_must_use_the_hello_suite},
    {"handshake_rejects_frames_of_the_wrong_type",
     test_handshake_rejects_frames_of_the_wrong_type},
    {"handshake_rejects_a_low_order_ephemeral_key",
     test_handshake_rejects_a_low_order_ephemeral_key},
    {"handshake_refuses_bad_headers_from_the_caller",
     test_handshake_refuses_bad_headers_from_the_caller},
    {"handshake_hash_differs_between_handshakes", test_handshake_hash_differs_between_handshakes},
    {"handshake_stolen_static_keys_open_hello_but_not_reply_or_data",
     test_handshake_stolen_static_keys_open_hello_but_not_reply_or_data},
    {"handshake_free_accepts_null", test_handshake_free_accepts_null},
    {NULL, NULL},
};
