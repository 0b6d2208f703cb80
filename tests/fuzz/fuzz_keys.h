/* fuzz_keys.h - the fixed X25519 keys of the frame fuzz target and of the
 * seed corpus that make_corpus.c seals with them, so that the corpus's
 * valid HELLO frames open in the target and the fuzzer starts from frames
 * that pass the tag. Test keys only: they are public by being here. */
#ifndef DALA_FUZZ_KEYS_H
#define DALA_FUZZ_KEYS_H

#include "dala_sync.h"

#include <string.h>

/* Which fixed key: the server's static key, the device's static key, and
 * the ephemeral keys each side uses in the corpus and the target. */
enum fuzz_key {
    FUZZ_KEY_SERVER = 1,
    FUZZ_KEY_DEVICE = 2,
    FUZZ_KEY_SERVER_EPHEMERAL = 3,
    FUZZ_KEY_DEVICE_EPHEMERAL = 4,
    FUZZ_KEY_OTHER_SERVER = 5 /* a server the device did not enrol with */
};

/* The device id every corpus frame carries. */
#define FUZZ_DEVICE_ID 1097

/* Derives fixed key `which` from a fixed 32-byte secret (clamped by the
 * library). DALA_OK or the library's error. */
static inline int fuzz_key_derive(dala_keypair *out, enum fuzz_key which)
{
    uint8_t secret[DALA_KEY_BYTES];
    for (size_t i = 0; i < sizeof secret; i++) secret[i] = (uint8_t)(7 * i + 1);
    secret[1] = (uint8_t)which; /* clamping touches bytes 0 and 31 only */
    int rc = dala_keypair_from_secret(out, secret);
    dala_wipe(secret, sizeof secret);
    return rc;
}

#endif /* DALA_FUZZ_KEYS_H */
