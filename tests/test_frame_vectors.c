/* test_frame_vectors.c - the wire format pinned by tests/vectors/frames.txt
 * (made once by tests/vectors/make_frame_vectors.c): from the file's fixed
 * secrets, headers and bodies, every HELLO, REPLY and DATA frame and the
 * handshake hash are recomputed and compared byte for byte, and the
 * file's own frames are opened. Also the header layout and every refusal
 * of dala_frame_header_parse. */
#include "dala_sync.h"
#include "testhelp.h"
#include "vector_file.h"

#include <stdio.h>
#include <stdlib.h>

#define CAP ((size_t)1 << 16)

/* Appends vector `prefix`_`name` of frames.txt to `out`. */
static void load(dala_buf *out, const char *prefix, const char *name)
{
    char full[96];
    snprintf(full, sizeof full, "%s_%s", prefix, name);
    dala_buf_reset(out);
    if (vector_file_read(out, test_data_path("vectors/frames.txt"), full) != DALA_OK)
        test_fail(__FILE__, __LINE__, "vector %s missing or malformed in vectors/frames.txt", full);
}

/* Loads a secret, derives the pair and checks its public key too. */
static void load_key(dala_keypair *out, const char *prefix, const char *role)
{
    char name[64];
    dala_buf secret = DALA_BUF_INIT, public_key = DALA_BUF_INIT;
    memset(out, 0, sizeof *out);
    snprintf(name, sizeof name, "%s_secret", role);
    load(&secret, prefix, name);
    snprintf(name, sizeof name, "%s_public", role);
    load(&public_key, prefix, name);
    CHECK_EQ_INT(secret.len, DALA_KEY_BYTES);
    CHECK_EQ_INT(public_key.len, DALA_KEY_BYTES);
    if (secret.len == DALA_KEY_BYTES && public_key.len == DALA_KEY_BYTES) {
        CHECK_OK(dala_keypair_from_secret(out, secret.data));
        CHECK_EQ_MEM(out->public_key, public_key.data, DALA_KEY_BYTES);
    }
    dala_buf_free(&secret);
    dala_buf_free(&public_key);
}

/* `actual` must equal vector `name` byte for byte. */
static void check_same(const dala_buf *actual, const char *prefix, const char *name)
{
    dala_buf expected = DALA_BUF_INIT;
    load(&expected, prefix, name);
    if (actual->len != expected.len || memcmp(actual->data, expected.data, actual->len) != 0)
        test_fail(__FILE__, __LINE__, "%s_%s: recomputed %zu bytes differ from the %zu in the file",
                  prefix, name, actual->len, expected.len);
    dala_buf_free(&expected);
}

/* The header of vector frame `name`, to seal the same header again. */
static dala_frame_header header_of(const char *prefix, const char *name)
{
    dala_frame_header header;
    dala_buf frame = DALA_BUF_INIT;
    memset(&header, 0, sizeof header);
    load(&frame, prefix, name);
    CHECK_OK(dala_frame_header_parse(&header, frame.data, frame.len));
    dala_buf_free(&frame);
    return header;
}

/* The two ends of the vector sync, and scratch buffers. */
typedef struct vector_sync {
    const char *prefix;
    dala_handshake *initiator, *responder;
    dala_session *device, *server;
    dala_buf frame, body, file_frame, file_body;
} vector_sync;

/* Writes the next frame with the file's header and body for `what`,
 * checks it against the file, then has `reader` open the file's frame. */
static void handshake_step(vector_sync *v, dala_handshake *writer, dala_handshake *reader,
                           const char *what)
{
    char frame_name[32], body_name[32];
    dala_frame_header header;
    snprintf(frame_name, sizeof frame_name, "%s_frame", what);
    snprintf(body_name, sizeof body_name, "%s_body", what);
    header = header_of(v->prefix, frame_name);
    load(&v->file_body, v->prefix, body_name);
    load(&v->file_frame, v->prefix, frame_name);
    dala_buf_reset(&v->frame);
    dala_buf_reset(&v->body);
    CHECK_OK(dala_handshake_write(writer, &v->frame, &header, v->file_body.data, v->file_body.len));
    check_same(&v->frame, v->prefix, frame_name);
    CHECK_OK(dala_handshake_read(reader, &v->body, NULL, v->file_frame.data, v->file_frame.len,
                                 CAP));
    check_same(&v->body, v->prefix, body_name);
}

/* Seals vector DATA frame `frame_name` again and opens the file's copy. */
static void data_step(vector_sync *v, dala_session *sender, dala_session *receiver,
                      const char *frame_name, const char *body_name)
{
    dala_frame_header header = header_of(v->prefix, frame_name);
    load(&v->file_body, v->prefix, body_name);
    load(&v->file_frame, v->prefix, frame_name);
    dala_buf_reset(&v->frame);
    dala_buf_reset(&v->body);
    CHECK_OK(dala_session_seal(sender, &v->frame, &header, v->file_body.data, v->file_body.len));
    check_same(&v->frame, v->prefix, frame_name);
    CHECK_OK(dala_session_open(receiver, &v->body, NULL, v->file_frame.data, v->file_frame.len,
                               CAP));
    check_same(&v->body, v->prefix, body_name);
}

static void check_vector_sync(const char *prefix)
{
    vector_sync v;
    dala_keypair is, rs, ie, re;
    uint8_t hash_i[32], hash_r[32];
    dala_buf hash = DALA_BUF_INIT;

    memset(&v, 0, sizeof v);
    v.prefix = prefix;
    load_key(&is, prefix, "initiator_static");
    load_key(&rs, prefix, "responder_static");
    load_key(&ie, prefix, "initiator_ephemeral");
    load_key(&re, prefix, "responder_ephemeral");
    CHECK_OK(dala_handshake_new(&v.initiator, 1, &is, rs.public_key, &ie));
    CHECK_OK(dala_handshake_new(&v.responder, 0, &rs, is.public_key, &re));
    if (v.initiator == NULL || v.responder == NULL) goto cleanup;

    handshake_step(&v, v.initiator, v.responder, "hello");
    handshake_step(&v, v.responder, v.initiator, "reply");
    CHECK_OK(dala_handshake_hash(hash_i, v.initiator));
    CHECK_OK(dala_handshake_hash(hash_r, v.responder));
    load(&hash, prefix, "handshake_hash");
    CHECK_EQ_INT(hash.len, 32);
    if (hash.len == 32) {
        CHECK_EQ_MEM(hash_i, hash.data, 32);
        CHECK_EQ_MEM(hash_r, hash.data, 32);
    }

    CHECK_OK(dala_session_new(&v.device, v.initiator));
    CHECK_OK(dala_session_new(&v.server, v.responder));
    if (v.device == NULL || v.server == NULL) goto cleanup;
    data_step(&v, v.device, v.server, "data_i2r_frame", "data_i2r_body");
    data_step(&v, v.device, v.server, "data_i2r_second_frame", "data_i2r_body");
    data_step(&v, v.server, v.device, "data_r2i_frame", "data_r2i_body");

cleanup:
    dala_handshake_free(v.initiator);
    dala_handshake_free(v.responder);
    dala_session_free(v.device);
    dala_session_free(v.server);
    dala_buf_free(&v.frame);
    dala_buf_free(&v.body);
    dala_buf_free(&v.file_frame);
    dala_buf_free(&v.file_body);
    dala_buf_free(&hash);
}

static void test_frame_vectors_reproduce_and_open_the_aesgcm_sync(void)
{
    check_vector_sync("aesgcm");
}

static void test_frame_vectors_reproduce_and_open_the_chachapoly_sync(void)
{
    check_vector_sync("chachapoly");
}

/* Opening needs no writing: a responder holding only the server's key
 * opens the file's HELLO, whatever its own ephemeral. */
static void test_frame_vectors_hello_opens_for_any_responder_ephemeral(void)
{
    dala_keypair is, rs;
    dala_handshake *responder = NULL;
    dala_buf frame = DALA_BUF_INIT, body = DALA_BUF_INIT;
    dala_frame_header header;
    load_key(&is, "aesgcm", "initiator_static");
    load_key(&rs, "aesgcm", "responder_static");
    load(&frame, "aesgcm", "hello_frame");
    CHECK_OK(dala_handshake_new(&responder, 0, &rs, is.public_key, NULL));
    CHECK_OK(dala_handshake_read(responder, &body, &header, frame.data, frame.len, CAP));
    check_same(&body, "aesgcm", "hello_body");
    CHECK_EQ_INT(header.frame_type, DALA_FRAME_HELLO);
    CHECK_EQ_U64(header.device_id, UINT64_C(1234567890123));
    CHECK_EQ_INT(header.schema_version, 12);
    CHECK_EQ_INT(header.key_epoch, 7);
    dala_handshake_free(responder);
    dala_buf_free(&frame);
    dala_buf_free(&body);
}

/* A header written out by hand: magic, version 1, DATA, ChaCha20-Poly1305,
 * deflate, then big-endian schema 0x01020304, device 0x0a0b0c0d0e0f1011,
 * epoch 0x21222324, body_len 2. */
static const uint8_t sample_frame[DALA_FRAME_HEADER_BYTES + 2] = {
    'D', 'A', 'L', 'A', 1, 3, 2, 1,
    0x01, 0x02, 0x03, 0x04,
    0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
    0x21, 0x22, 0x23, 0x24,
    0x00, 0x00, 0x00, 0x02,
    0xee, 0xff,
};

static void test_frame_header_parse_reads_every_field_big_endian(void)
{
    dala_frame_header header;
    CHECK_OK(dala_frame_header_parse(&header, sample_frame, sizeof sample_frame));
    CHECK_EQ_INT(header.protocol_version, 1);
    CHECK_EQ_INT(header.frame_type, DALA_FRAME_DATA);
    CHECK_EQ_INT(header.suite, DALA_SUITE_CHACHAPOLY);
    CHECK_EQ_INT(header.compression, DALA_COMPRESS_DEFLATE);
    CHECK_EQ_U64(header.schema_version, 0x01020304u);
    CHECK_EQ_U64(header.device_id, UINT64_C(0x0a0b0c0d0e0f1011));
    CHECK_EQ_U64(header.key_epoch, 0x21222324u);
    CHECK_EQ_U64(header.body_len, 2);
}

/* Parses a copy of sample_frame with byte `offset` set to `value`. */
static int parse_with(size_t offset, uint8_t value)
{
    uint8_t frame[sizeof sample_frame];
    dala_frame_header header;
    memcpy(frame, sample_frame, sizeof frame);
    frame[offset] = value;
    return dala_frame_header_parse(&header, frame, sizeof frame);
}

static void test_frame_header_parse_refuses_each_malformed_field(void)
{
    dala_frame_header header;
    for (size_t len = 0; len < DALA_FRAME_HEADER_BYTES; len++)
        CHECK_EQ_INT(dala_frame_header_parse(&header, sample_frame, len), DALA_ECORRUPT);
    CHECK_EQ_INT(dala_frame_header_parse(&header, NULL, 0), DALA_ECORRUPT);
    CHECK_EQ_INT(parse_with(0, 'd'), DALA_ECORRUPT);
    CHECK(strstr(dala_errmsg(), "magic") != NULL);
    CHECK_EQ_INT(parse_with(4, 2), DALA_ESCHEMA);
    CHECK(strstr(dala_errmsg(), "protocol version 2") != NULL);
    CHECK(strstr(dala_errmsg(), "version 1") != NULL);
    CHECK_EQ_INT(parse_with(4, 0), DALA_ESCHEMA);
    CHECK_EQ_INT(parse_with(5, 0), DALA_ECORRUPT);
    CHECK_EQ_INT(parse_with(5, 4), DALA_ECORRUPT);
    CHECK_EQ_INT(parse_with(6, 0), DALA_ESCHEMA);
    CHECK_EQ_INT(parse_with(6, 3), DALA_ESCHEMA);
    CHECK_EQ_INT(parse_with(7, 2), DALA_ESCHEMA);
    CHECK_EQ_INT(parse_with(27, 1), DALA_ECORRUPT); /* body_len says 1, frame has 2 */
    CHECK_EQ_INT(parse_with(27, 3), DALA_ECORRUPT);
    CHECK_EQ_INT(parse_with(24, 0x80), DALA_ECORRUPT);
    CHECK_EQ_INT(dala_frame_header_parse(&header, sample_frame, sizeof sample_frame - 1),
                 DALA_ECORRUPT);
}

static void test_frame_header_parse_refuses_frames_over_the_limit(void)
{
    size_t len = DALA_MAX_FRAME_BYTES + 1;
    uint8_t *frame = calloc(1, len);
    dala_frame_header header;
    CHECK(frame != NULL);
    if (frame == NULL) return;
    memcpy(frame, sample_frame, DALA_FRAME_HEADER_BYTES);
    for (int i = 0; i < 4; i++) frame[24 + i] = (uint8_t)((len - 28) >> (24 - 8 * i));
    CHECK_EQ_INT(dala_frame_header_parse(&header, frame, len), DALA_ELIMIT);
    /* Exactly at the limit is fine. */
    len--;
    for (int i = 0; i < 4; i++) frame[24 + i] = (uint8_t)((len - 28) >> (24 - 8 * i));
    CHECK_OK(dala_frame_header_parse(&header, frame, len));
    free(frame);
}

const dala_test frame_vectors_tests[] = {
    {"frame_vectors_reproduce_and_open_the_aesgcm_sync",
     test_frame_vectors_reproduce_and_open_the_aesgcm_sync},
    {"frame_vectors_reproduce_and_open_the_chachapoly_sync",
     test_frame_vectors_reproduce_and_open_the_chachapoly_sync},
    {"frame_vectors_hello_opens_for_any_responder_ephemeral",
     test_frame_vectors_hello_opens_for_any_responder_ephemeral},
    {"frame_header_parse_reads_every_field_big_endian",
     test_frame_header_parse_reads_every_field_big_endian},
    {"frame_header_parse_refuses_each_malformed_field",
     test_frame_header_parse_refuses_each_malformed_field},
    {"frame_header_parse_refuses_frames_over_the_limit",
     test_frame_header_parse_refuses_frames_over_the_limit},
    {NULL, NULL},
};
