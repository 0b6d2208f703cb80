/* fuzz_frame_open.c - libFuzzer target: a server receiving any bytes as a
 * device's HELLO. It parses the plaintext header, then runs the
 * responder's side of the Noise KK handshake with fixed keys
 * (fuzz_keys.h) and opens the frame with a 1 MiB cap on the body; when the
 * frame opens, it answers with a REPLY and splits the session, as the
 * server would. Nothing may crash, leak or read outside the input, and an
 * opened body never exceeds the cap. The seed corpus (make_corpus.c) holds
 * HELLOs sealed with the same keys, so mutations start past the tag. */
#include "dala_sync.h"
#include "fuzz_keys.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_BODY_BYTES ((size_t)1 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fixed keys, derived once: X25519 is too slow to redo per input. */
static dala_keypair server_key, device_key, server_ephemeral;

static void derive_keys_once(void)
{
    static int derived;
    if (derived) return;
    if (fuzz_key_derive(&server_key, FUZZ_KEY_SERVER) != DALA_OK ||
        fuzz_key_derive(&device_key, FUZZ_KEY_DEVICE) != DALA_OK ||
        fuzz_key_derive(&server_ephemeral, FUZZ_KEY_SERVER_EPHEMERAL) != DALA_OK) {
        fprintf(stderr, "fuzz_frame_open: deriving the fixed keys failed: %s\n", dala_errmsg());
        abort();
    }
    derived = 1;
}

/* Once a HELLO has opened, the server must be able to answer it. */
static void answer(dala_handshake *hs, const dala_frame_header *hello)
{
    dala_frame_header header = *hello;
    dala_buf reply = DALA_BUF_INIT;
    dala_session *session = NULL;
    header.compression = DALA_COMPRESS_DEFLATE;
    if (dala_handshake_write(hs, &reply, &header, NULL, 0) != DALA_OK ||
        dala_session_new(&session, hs) != DALA_OK) {
        fprintf(stderr, "fuzz_frame_open: an opened HELLO could not be answered: %s\n",
                dala_errmsg());
        abort();
    }
    dala_session_free(session);
    dala_buf_free(&reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dala_frame_header header;
    dala_handshake *hs = NULL;
    dala_buf body = DALA_BUF_INIT;
    derive_keys_once();
    (void)dala_frame_header_parse(&header, data, size);
    if (dala_handshake_new(&hs, 0, &server_key, device_key.public_key, &server_ephemeral) != DALA_OK)
        abort();
    if (dala_handshake_read(hs, &body, &header, data, size, MAX_BODY_BYTES) == DALA_OK) {
        if (body.len > MAX_BODY_BYTES) abort();
        answer(hs, &header);
    }
    dala_buf_free(&body);
    dala_handshake_free(hs);
    return 0;
}
