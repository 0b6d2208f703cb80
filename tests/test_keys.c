/* test_keys.c - X25519 against RFC 7748's own vectors (section 5.2 scalar
 * multiplication, 5.2 iterated, 6.1 Alice and Bob), clamping, the refusal
 * of low-order points, and the thread-local DRBG with its helpers. */
#include "testhelp.h"
#include "dala_sync.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Decodes 64 hex digits into 32 bytes; the strings here are well formed. */
static void hex32(uint8_t out[32], const char *hex)
{
    for (int i = 0; i < 32; i++) {
        unsigned byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
            test_fail(__FILE__, __LINE__, "bad hex in test data: %s", hex);
            return;
        }
        out[i] = (uint8_t)byte;
    }
}

/* X25519(scalar, u) must give `expected`, all as RFC 7748 hex. */
static void check_x25519(const char *scalar_hex, const char *u_hex, const char *expected_hex)
{
    uint8_t scalar[32], u[32], expected[32], out[32];
    hex32(scalar, scalar_hex);
    hex32(u, u_hex);
    hex32(expected, expected_hex);
    CHECK_OK(dala_x25519(out, scalar, u));
    CHECK_EQ_MEM(out, expected, 32);
}

static void test_x25519_matches_rfc7748_section_5_2_vectors(void)
{
    check_x25519("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                 "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
                 "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
    /* The u-coordinate's top bit is set here: it must be masked. */
    check_x25519("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                 "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
                 "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

static void test_x25519_matches_rfc7748_iterated_1_and_1000_times(void)
{
    uint8_t k[32] = {9}, u[32] = {9}, result[32], after_1[32], after_1000[32];
    hex32(after_1, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    hex32(after_1000, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
    for (int i = 1; i <= 1000; i++) {
        CHECK_OK(dala_x25519(result, k, u));
        memcpy(u, k, 32);
        memcpy(k, result, 32);
        if (i == 1) CHECK_EQ_MEM(k, after_1, 32);
    }
    CHECK_EQ_MEM(k, after_1000, 32);
}

static void test_keypair_matches_rfc7748_section_6_1_alice_and_bob(void)
{
    uint8_t alice_secret[32], bob_secret[32], alice_public[32], bob_public[32], shared[32];
    uint8_t alice_shared[32], bob_shared[32];
    dala_keypair alice, bob;
    hex32(alice_secret, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    hex32(alice_public, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    hex32(bob_secret, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    hex32(bob_public, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    hex32(shared, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    CHECK_OK(dala_keypair_from_secret(&alice, alice_secret));
    CHECK_OK(dala_keypair_from_secret(&bob, bob_secret));
    CHECK_EQ_MEM(alice.public_key, alice_public, 32);
    CHECK_EQ_MEM(bob.public_key, bob_public, 32);
    CHECK_OK(dala_x25519(alice_shared, alice.secret, bob.public_key));
    CHECK_OK(dala_x25519(bob_shared, bob.secret, alice.public_key));
    CHECK_EQ_MEM(alice_shared, shared, 32);
    CHECK_EQ_MEM(bob_shared, shared, 32);
}

static void test_keypair_from_secret_stores_the_clamped_secret(void)
{
    uint8_t secret[32], clamped[32];
    dala_keypair pair, again;
    memset(secret, 0xff, sizeof secret);
    memcpy(clamped, secret, sizeof clamped);
    clamped[0] = 0xf8;  /* & 248 */
    clamped[31] = 0x7f; /* & 127, | 64 */
    CHECK_OK(dala_keypair_from_secret(&pair, secret));
    CHECK_EQ_MEM(pair.secret, clamped, 32);
    /* Clamping is idempotent: the stored secret gives the same pair. */
    CHECK_OK(dala_keypair_from_secret(&again, pair.secret));
    CHECK_EQ_MEM(again.public_key, pair.public_key, 32);
    memset(secret, 0, sizeof secret);
    CHECK_OK(dala_keypair_from_secret(&pair, secret));
    CHECK_EQ_INT(pair.secret[0], 0);
    CHECK_EQ_INT(pair.secret[31], 64);
}

static void test_x25519_rejects_every_low_order_point(void)
{
    /* The points of order 1, 2, 4 and 8 and their non-canonical encodings
     * (RFC 7748 s.6.1's all-zero check; the list libsodium refuses). */
    static const char *const low_order[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
    };
    uint8_t secret[32], point[32], out[32];
    dala_keypair pair;
    for (int i = 0; i < 32; i++) secret[i] = (uint8_t)(i * 7 + 1);
    CHECK_OK(dala_keypair_from_secret(&pair, secret));
    for (size_t i = 0; i < sizeof low_order / sizeof low_order[0]; i++) {
        memset(out, 0x55, sizeof out);
        hex32(point, low_order[i]);
        CHECK_EQ_INT(dala_x25519(out, pair.secret, point), DALA_EAUTH);
        CHECK(strstr(dala_errmsg(), "low-order") != NULL);
    }
}

static void test_x25519_accepts_non_canonical_u_as_reduced_mod_p(void)
{
    uint8_t nine[32] = {9}, p_plus_nine[32], high_bit_nine[32] = {9}, secret[32];
    uint8_t a[32], b[32], c[32];
    /* p + 9 = 2^255 - 10, little-endian. */
    memset(p_plus_nine, 0xff, sizeof p_plus_nine);
    p_plus_nine[0] = 0xf6;
    p_plus_nine[31] = 0x7f;
    high_bit_nine[31] = 0x80;
    for (int i = 0; i < 32; i++) secret[i] = (uint8_t)(200 - i);
    CHECK_OK(dala_x25519(a, secret, nine));
    CHECK_OK(dala_x25519(b, secret, p_plus_nine));
    CHECK_OK(dala_x25519(c, secret, high_bit_nine));
    CHECK_EQ_MEM(a, b, 32);
    CHECK_EQ_MEM(a, c, 32);
}

static void test_keypair_generate_gives_fresh_pairs_that_agree(void)
{
    dala_keypair a, b;
    uint8_t ab[32], ba[32];
    CHECK_OK(dala_keypair_generate(&a));
    CHECK_OK(dala_keypair_generate(&b));
    CHECK(memcmp(a.secret, b.secret, 32) != 0);
    CHECK_EQ_INT(a.secret[0] & 7, 0);
    CHECK_EQ_INT(a.secret[31] & 0xc0, 0x40);
    CHECK_OK(dala_x25519(ab, a.secret, b.public_key));
    CHECK_OK(dala_x25519(ba, b.secret, a.public_key));
    CHECK_EQ_MEM(ab, ba, 32);
    dala_keypair_wipe(&a);
    dala_keypair_wipe(NULL);
    for (int i = 0; i < 32; i++) CHECK_EQ_INT(a.secret[i], 0);
}

static void test_random_fills_requests_past_one_drbg_call(void)
{
    /* mbedTLS's CTR-DRBG gives at most 1024 bytes a call. */
    enum { LEN = 5000 };
    uint8_t *a = calloc(1, LEN), *b = calloc(1, LEN);
    size_t zero_tail = 0;
    CHECK(a != NULL && b != NULL);
    if (a == NULL || b == NULL) goto cleanup;
    CHECK_OK(dala_random(a, LEN));
    CHECK_OK(dala_random(b, LEN));
    CHECK(memcmp(a, b, LEN) != 0);
    for (size_t i = LEN - 64; i < LEN; i++) zero_tail += a[i] == 0;
    CHECK(zero_tail < 64); /* the end of the buffer was filled too */
    CHECK_OK(dala_random(a, 0));
cleanup:
    free(a);
    free(b);
}

static void test_random_differs_between_parent_and_forked_child(void)
{
    uint8_t parent[32], child[32];
    int fds[2], status = 0;
    pid_t pid;
    CHECK_OK(dala_random(parent, sizeof parent)); /* the parent's DRBG exists before fork */
    CHECK(pipe(fds) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        uint8_t drawn[32];
        int ok = dala_random(drawn, sizeof drawn) == DALA_OK;
        ssize_t written = ok ? write(fds[1], drawn, sizeof drawn) : -1;
        _exit(written == (ssize_t)sizeof drawn ? 0 : 1);
    }
    close(fds[1]);
    CHECK_EQ_INT(read(fds[0], child, sizeof child), (long long)sizeof child);
    close(fds[0]);
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_OK(dala_random(parent, sizeof parent));
    /* Without the reseed the child would repeat the parent's next bytes. */
    CHECK(memcmp(parent, child, sizeof parent) != 0);
}

static void *draw_in_thread(void *out)
{
    return dala_random(out, 32) == DALA_OK ? out : NULL;
}

static void test_random_gives_each_thread_its_own_stream(void)
{
    uint8_t a[32], b[32];
    pthread_t ta, tb;
    void *ra = NULL, *rb = NULL;
    CHECK_EQ_INT(pthread_create(&ta, NULL, draw_in_thread, a), 0);
    CHECK_EQ_INT(pthread_create(&tb, NULL, draw_in_thread, b), 0);
    CHECK_EQ_INT(pthread_join(ta, &ra), 0);
    CHECK_EQ_INT(pthread_join(tb, &rb), 0);
    CHECK(ra == a && rb == b);
    CHECK(memcmp(a, b, sizeof a) != 0);
}

static void test_ct_compare_tells_equal_from_different(void)
{
    uint8_t a[40], b[40];
    for (int i = 0; i < 40; i++) a[i] = b[i] = (uint8_t)i;
    CHECK_EQ_INT(dala_ct_compare(a, b, sizeof a), 0);
    CHECK_EQ_INT(dala_ct_compare(a, b, 0), 0);
    for (int i = 0; i < 40; i++) {
        b[i] ^= 0x80;
        CHECK(dala_ct_compare(a, b, sizeof a) != 0);
        b[i] ^= 0x80;
    }
}

static void test_wipe_zeroes_memory(void)
{
    uint8_t secret[33];
    memset(secret, 0xa5, sizeof secret);
    dala_wipe(secret, sizeof secret);
    for (size_t i = 0; i < sizeof secret; i++) CHECK_EQ_INT(secret[i], 0);
    dala_wipe(NULL, 0);
}

const dala_test keys_tests[] = {
    {"x25519_matches_rfc7748_section_5_2_vectors", test_x25519_matches_rfc7748_section_5_2_vectors},
    {"x25519_matches_rfc7748_iterated_1_and_1000_times",
     test_x25519_matches_rfc7748_iterated_1_and_1000_times},
    {"keypair_matches_rfc7748_section_6_1_alice_and_bob",
     test_keypair_matches_rfc7748_section_6_1_alice_and_bob},
    {"keypair_from_secret_stores_the_clamped_secret",
     test_keypair_from_secret_stores_the_clamped_secret},
    {"x25519_rejects_every_low_order_point", test_x25519_rejects_every_low_order_point},
    {"x25519_accepts_non_canonical_u_as_reduced_mod_p",
     test_x25519_accepts_non_canonical_u_as_reduced_mod_p},
    {"keypair_generate_gives_fresh_pairs_that_agree",
     test_keypair_generate_gives_fresh_pairs_that_agree},
    {"random_fills_requests_past_one_drbg_call", test_random_fills_requests_past_one_drbg_call},
    {"random_differs_between_parent_and_forked_child",
     test_random_differs_between_parent_and_forked_child},
    {"random_gives_each_thread_its_own_stream", test_random_gives_each_thread_its_own_stream},
    {"ct_compare_tells_equal_from_different", test_ct_compare_tells_equal_from_different},
    {"wipe_zeroes_memory", test_wipe_zeroes_memory},
    {NULL, NULL},
};
