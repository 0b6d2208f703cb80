/* make_frame_vectors.c - prints tests/vectors/frames.txt: one whole sync in
 * each suite (HELLO, REPLY, the first DATA frame each way and a second one
 * from the initiator, the handshake hash) from fixed static and ephemeral secrets, fixed headers and bodies,
 * compression none, so another implementation can check itself byte for
 * byte. Run once when the wire format changes on purpose:
 *   build/make_frame_vectors > tests/vectors/frames.txt
 * tests/test_frame_vectors.c recomputes every frame and opens it. */
#include "dala_sync.h"
#include "vector_file.h"

#include <stdio.h>
#include <string.h>

/* The fixed inputs; test_frame_vectors.c reads them back from the file. */
#define SCHEMA_VERSION 12u
#define DEVICE_ID UINT64_C(1234567890123)
#define KEY_EPOCH 7u

static const char hello_body[] = "push: batch 1, 2 changes";
static const char reply_body[] = "ack: batch 1; pull: 1 change";
static const char data_i2r_body[] = "pull: next page";
static const char data_r2i_body[] = "page 2: 0 changes, done";

typedef struct suite_spec {
    const char *prefix;
    int suite;
} suite_spec;

/* secret[i] = first + i: easy to retype, and clamping changes bytes 0 and 31. */
static void fixed_secret(uint8_t out[DALA_KEY_BYTES], uint8_t first)
{
    for (int i = 0; i < DALA_KEY_BYTES; i++) out[i] = (uint8_t)(first + i);
}

static void print_vector(const char *prefix, const char *name, const uint8_t *data, size_t len)
{
    char full[96];
    snprintf(full, sizeof full, "%s_%s", prefix, name);
    vector_file_print(full, data, len);
}

/* Prints a secret and the public key it gives; fills `pair`. */
static int print_key(dala_keypair *pair, const char *prefix, const char *role, uint8_t first)
{
    uint8_t secret[DALA_KEY_BYTES];
    char name[64];
    fixed_secret(secret, first);
    if (dala_keypair_from_secret(pair, secret) != DALA_OK) return -1;
    snprintf(name, sizeof name, "%s_secret", role);
    print_vector(prefix, name, secret, sizeof secret);
    snprintf(name, sizeof name, "%s_public", role);
    print_vector(prefix, name, pair->public_key, DALA_KEY_BYTES);
    return 0;
}

/* One sync in one suite; prints its vectors. Returns 0 or -1. */
static int print_suite(const suite_spec *spec)
{
    dala_keypair is, rs, ie, re;
    dala_handshake *initiator = NULL, *responder = NULL;
    dala_session *device = NULL, *server = NULL;
    dala_buf frame = DALA_BUF_INIT, body = DALA_BUF_INIT;
    dala_frame_header header = {0};
    uint8_t hash[32];
    int failed = 1;

    header.protocol_version = DALA_PROTOCOL_VERSION;
    header.suite = (uint8_t)spec->suite;
    header.compression = DALA_COMPRESS_NONE;
    header.schema_version = SCHEMA_VERSION;
    header.device_id = DEVICE_ID;
    header.key_epoch = KEY_EPOCH;
    printf("\n# Suite %d (%s), compression none.\n", spec->suite, spec->prefix);
    if (print_key(&is, spec->prefix, "initiator_static", 0x10) ||
        print_key(&rs, spec->prefix, "responder_static", 0x30) ||
        print_key(&ie, spec->prefix, "initiator_ephemeral", 0x50) ||
        print_key(&re, spec->prefix, "responder_ephemeral", 0x70))
        goto cleanup;
    if (dala_handshake_new(&initiator, 1, &is, rs.public_key, &ie) ||
        dala_handshake_new(&responder, 0, &rs, is.public_key, &re))
        goto cleanup;

    print_vector(spec->prefix, "hello_body", (const uint8_t *)hello_body, strlen(hello_body));
    if (dala_handshake_write(initiator, &frame, &header, (const uint8_t *)hello_body,
                             strlen(hello_body)) ||
        dala_handshake_read(responder, &body, NULL, frame.data, frame.len, 1 << 20))
        goto cleanup;
    print_vector(spec->prefix, "hello_frame", frame.data, frame.len);

    dala_buf_reset(&frame);
    print_vector(spec->prefix, "reply_body", (const uint8_t *)reply_body, strlen(reply_body));
    if (dala_handshake_write(responder, &frame, &header, (const uint8_t *)reply_body,
                             strlen(reply_body)) ||
        dala_handshake_read(initiator, &body, NULL, frame.data, frame.len, 1 << 20))
        goto cleanup;
    print_vector(spec->prefix, "reply_frame", frame.data, frame.len);
    if (dala_handshake_hash(hash, initiator)) goto cleanup;
    print_vector(spec->prefix, "handshake_hash", hash, sizeof hash);

    if (dala_session_new(&device, initiator) || dala_session_new(&server, responder)) goto cleanup;
    dala_buf_reset(&frame);
    print_vector(spec->prefix, "data_i2r_body", (const uint8_t *)data_i2r_body,
                 strlen(data_i2r_body));
    if (dala_session_seal(device, &frame, &header, (const uint8_t *)data_i2r_body,
                          strlen(data_i2r_body)))
        goto cleanup;
    print_vector(spec->prefix, "data_i2r_frame", frame.data, frame.len);
    /* A second frame, counter 1, pins the byte order of the nonce. */
    dala_buf_reset(&frame);
    if (dala_session_seal(device, &frame, &header, (const uint8_t *)data_i2r_body,
                          strlen(data_i2r_body)))
        goto cleanup;
    print_vector(spec->prefix, "data_i2r_second_frame", frame.data, frame.len);
    dala_buf_reset(&frame);
    print_vector(spec->prefix, "data_r2i_body", (const uint8_t *)data_r2i_body,
                 strlen(data_r2i_body));
    if (dala_session_seal(server, &frame, &header, (const uint8_t *)data_r2i_body,
                          strlen(data_r2i_body)))
        goto cleanup;
    print_vector(spec->prefix, "data_r2i_frame", frame.data, frame.len);
    failed = 0;

cleanup:
    if (failed) fprintf(stderr, "make_frame_vectors: %s: %s\n", spec->prefix, dala_errmsg());
    dala_session_free(device);
    dala_session_free(server);
    dala_handshake_free(initiator);
    dala_handshake_free(responder);
    dala_buf_free(&frame);
    dala_buf_free(&body);
    return failed ? -1 : 0;
}

int main(void)
{
    static const suite_spec suites[] = {{"aesgcm", DALA_SUITE_AES256GCM},
                                        {"chachapoly", DALA_SUITE_CHACHAPOLY}};
    printf("# Dala frame vectors, protocol version %d (docs/protocol.md).\n", DALA_PROTOCOL_VERSION);
    printf("# Made by build/make_frame_vectors; a change here is a wire format change.\n");
    printf("# Secrets are given before clamping. Headers: schema_version %u, device_id %llu,\n",
           SCHEMA_VERSION, (unsigned long long)DEVICE_ID);
    printf("# key_epoch %u. Bodies are ASCII, without a terminating NUL. DATA frames are\n",
           KEY_EPOCH);
    printf("# the first (counter 0) of each direction, i2r being initiator to responder;\n");
    printf("# data_i2r_second_frame is counter 1 with the same body.\n");
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (print_suite(&suites[i]) != 0) return 1;
    return 0;
}
