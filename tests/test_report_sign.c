/* test_report_sign.c - the sign-off keys and signatures of server/report_sign.c:
 * RFC 6979's P-256/SHA-256 known answers (appendix A.2.5), determinism, a
 * flipped bit anywhere in a note or a signature refused, strict DER (every
 * truncation, garbage, non-minimal and negative integers), public keys that
 * are not points; openssl (Debian package openssl) verifying our signatures
 * and we verifying its; the wrapped private key against a vector made with
 * Python's hashlib and cryptography, and refused under a wrong password, a
 * changed byte or another public key; fingerprints; bad arguments. PBKDF2
 * runs 1000 iterations here to keep the suite fast. */
#include "report_sign.h"
#include "testhelp.h"

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))
#define TEST_ITERATIONS 1000

/* RFC 6979 appendix A.2.5: the P-256 key pair, and the SHA-256 signatures
 * of "sample" and "test". */
static const char rfc_private_hex[] = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
static const char rfc_public_hex[] = "04"
                                     "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
                                     "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
static const char rfc_sample_r[] = "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716";
static const char rfc_sample_s[] = "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8";
static const char rfc_test_r[] = "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367";
static const char rfc_test_s[] = "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083";

/* The order n of P-256. */
static const char p256_order_hex[] = "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";

/* The RFC key wrapped by Python (hashlib.pbkdf2_hmac("sha256", password,
 * salt, 1000, 32), then cryptography's AESGCM with this nonce and the RFC
 * public key as additional data), as report_key_wrap() must have made it. */
static const char vector_password[] = "Сенім-2025 тоқсан";
static const uint8_t vector_salt[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const char vector_wrapped_hex[] = "a0a1a2a3a4a5a6a7a8a9aaab"
                                         "b0b98f6290de7a2f7436a712890faaef7e43f97f141ffe19c65cda44c678ef03"
                                         "bdd7c56a38d3b97a9adc7ea05723055a";
static const char vector_derived_key_hex[] = "c5897ed725f2ea76da30503d13c6cb5499d866206b1be708089396327c9ff463";

/* Decodes `2 * len` hex digits into `out`. */
static void from_hex(uint8_t *out, size_t len, const char *hex)
{
    CHECK_EQ_U64(strlen(hex), 2 * len);
    for (size_t i = 0; i < len; i++) {
        unsigned byte = 0;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1) test_fail(__FILE__, __LINE__, "bad hex %s", hex);
        out[i] = (uint8_t)byte;
    }
}

/* `len` bytes of a note-like text, different for each `seed`. */
static void make_message(uint8_t *out, size_t len, unsigned seed)
{
    static const char text[] = "Block 5: 214 field visits, 37 at high risk; 12 referrals to the crisis centre. ";
    for (size_t i = 0; i < len; i++) out[i] = (uint8_t)(text[(i + seed) % (sizeof text - 1)] ^ (i / 97));
}

/* Deterministic pseudo-random bytes (xorshift32), for garbage. */
static void make_garbage(uint8_t *out, size_t len, uint32_t *state)
{
    for (size_t i = 0; i < len; i++) {
        *state ^= *state << 13;
        *state ^= *state >> 17;
        *state ^= *state << 5;
        out[i] = (uint8_t)*state;
    }
}

/* Splits a DER ECDSA-Sig-Value into r and s as 32-byte big-endian numbers,
 * written here from X.690 without the code under test. 0 if it parses. */
static int split_der(uint8_t r[32], uint8_t s[32], const uint8_t *der, size_t len)
{
    size_t pos = 2;
    uint8_t *parts[2] = {r, s};
    if (len < 2 || der[0] != 0x30 || der[1] != len - 2) return -1;
    for (int k = 0; k < 2; k++) {
        if (pos + 2 > len || der[pos] != 0x02) return -1;
        size_t n = der[pos + 1];
        const uint8_t *value = der + pos + 2;
        if (n == 0 || pos + 2 + n > len) return -1;
        pos += 2 + n;
        if (n == 33 && value[0] == 0) value++, n--;
        if (n > 32) return -1;
        memset(parts[k], 0, 32);
        memcpy(parts[k] + 32 - n, value, n);
    }
    return pos == len ? 0 : -1;
}

/* The DER of INTEGER r, INTEGER s given as raw contents (whatever bytes the
 * test wants, valid or not), in a SEQUENCE. Returns the length. */
static size_t join_der(uint8_t *out, const uint8_t *r, size_t r_len, const uint8_t *s, size_t s_len)
{
    size_t pos = 0;
    out[pos++] = 0x30;
    out[pos++] = (uint8_t)(4 + r_len + s_len);
    out[pos++] = 0x02;
    out[pos++] = (uint8_t)r_len;
    memcpy(out + pos, r, r_len);
    pos += r_len;
    out[pos++] = 0x02;
    out[pos++] = (uint8_t)s_len;
    memcpy(out + pos, s, s_len);
    return pos + s_len;
}

/* A verify that must fail with DALA_EAUTH and a message holding `why`. */
#define CHECK_REFUSED(call, why)                                                  \
    do {                                                                          \
        CHECK_EQ_INT((call), DALA_EAUTH);                                         \
        CHECK_CONTAINS(dala_errmsg(), (why));                                     \
    } while (0)

/* --- keys, signing and verifying ------------------------------------------------ */

static void test_report_key_new_gives_fresh_valid_pairs(void)
{
    uint8_t pub1[REPORT_PUBLIC_KEY_BYTES], priv1[REPORT_PRIVATE_KEY_BYTES];
    uint8_t pub2[REPORT_PUBLIC_KEY_BYTES], priv2[REPORT_PRIVATE_KEY_BYTES];
    uint8_t sig[REPORT_SIGNATURE_MAX_BYTES];
    size_t sig_len;
    CHECK_OK(report_key_new(pub1, priv1));
    CHECK_OK(report_key_new(pub2, priv2));
    CHECK_EQ_INT(pub1[0], 0x04);
    CHECK(memcmp(priv1, priv2, sizeof priv1) != 0);
    CHECK(memcmp(pub1, pub2, sizeof pub1) != 0);
    /* Each private key signs for its own public key only. */
    CHECK_OK(report_sign(sig, &sig_len, priv1, (const uint8_t *)"note", 4));
    CHECK_OK(report_verify(pub1, (const uint8_t *)"note", 4, sig, sig_len));
    CHECK_REFUSED(report_verify(pub2, (const uint8_t *)"note", 4, sig, sig_len), "does not match");
}

static void test_report_sign_round_trips_and_is_deterministic(void)
{
    uint8_t pub[REPORT_PUBLIC_KEY_BYTES], priv[REPORT_PRIVATE_KEY_BYTES], message[300];
    uint8_t sig1[REPORT_SIGNATURE_MAX_BYTES], sig2[REPORT_SIGNATURE_MAX_BYTES];
    uint8_t other[REPORT_SIGNATURE_MAX_BYTES];
    size_t len1, len2, other_len;
    make_message(message, sizeof message, 1);
    CHECK_OK(report_key_new(pub, priv));
    CHECK_OK(report_sign(sig1, &len1, priv, message, sizeof message));
    CHECK(len1 >= 8 && len1 <= REPORT_SIGNATURE_MAX_BYTES);
    CHECK_OK(report_verify(pub, message, sizeof message, sig1, len1));
    /* RFC 6979: the same key and note give the same bytes every time... */
    CHECK_OK(report_sign(sig2, &len2, priv, message, sizeof message));
    CHECK_EQ_U64(len2, len1);
    CHECK_EQ_MEM(sig2, sig1, len1);
    /* ...and another note another signature. */
    CHECK_OK(report_sign(other, &other_len, priv, message, sizeof message - 1));
    CHECK(other_len != len1 || memcmp(other, sig1, len1) != 0);
    /* An empty note can be signed too, NULL or not. */
    CHECK_OK(report_sign(sig1, &len1, priv, NULL, 0));
    CHECK_OK(report_verify(pub, (const uint8_t *)"", 0, sig1, len1));
    CHECK_REFUSED(report_verify(pub, message, 1, sig1, len1), "does not match");
}

static void test_report_sign_gives_the_r_and_s_of_rfc6979_a25(void)
{
    static const struct {
        const char *message, *r, *s;
        size_t der_len;
    } cases[] = {
        {"sample", rfc_sample_r, rfc_sample_s, 72}, /* r and s both need a leading 00 */
        {"test", rfc_test_r, rfc_test_s, 71},       /* r needs one; s is 32 bytes, 01... */
    };
    uint8_t priv[32], pub[65], sig[REPORT_SIGNATURE_MAX_BYTES], r[32], s[32], want[32];
    size_t sig_len;
    from_hex(priv, sizeof priv, rfc_private_hex);
    from_hex(pub, sizeof pub, rfc_public_hex);
    for (size_t i = 0; i < COUNT(cases); i++) {
        const uint8_t *message = (const uint8_t *)cases[i].message;
        size_t len = strlen(cases[i].message);
        CHECK_OK(report_sign(sig, &sig_len, priv, message, len));
        CHECK_EQ_U64(sig_len, cases[i].der_len);
        CHECK_EQ_INT(split_der(r, s, sig, sig_len), 0);
        from_hex(want, 32, cases[i].r);
        CHECK_EQ_MEM(r, want, 32);
        from_hex(want, 32, cases[i].s);
        CHECK_EQ_MEM(s, want, 32);
        CHECK_OK(report_verify(pub, message, len, sig, sig_len));
    }
}

static void test_report_verify_accepts_the_rfc6979_signature_under_the_rfc_public_key(void)
{
    uint8_t pub[65], r[33] = {0}, s[33] = {0}, der[REPORT_SIGNATURE_MAX_BYTES];
    from_hex(pub, sizeof pub, rfc_public_hex);
    from_hex(r + 1, 32, rfc_sample_r);
    from_hex(s + 1, 32, rfc_sample_s);
    size_t len = join_der(der, r, 33, s, 33);
    CHECK_OK(report_verify(pub, (const uint8_t *)"sample", 6, der, len));
    CHECK_REFUSED(report_verify(pub, (const uint8_t *)"test", 4, der, len), "does not match");
}

static void test_report_verify_refuses_a_flipped_bit_in_every_byte_of_the_note(void)
{
    uint8_t pub[REPORT_PUBLIC_KEY_BYTES], priv[REPORT_PRIVATE_KEY_BYTES], message[300];
    uint8_t sig[REPORT_SIGNATURE_MAX_BYTES];
    size_t sig_len;
    int accepted = 0;
    make_message(message, sizeof message, 2);
    CHECK_OK(report_key_new(pub, priv));
    CHECK_OK(report_sign(sig, &sig_len, priv, message, sizeof message));
    /* Every byte, each with one of its 8 bits flipped in turn, so every
     * bit position is covered too. */
    for (size_t i = 0; i < sizeof message; i++) {
        message[i] ^= (uint8_t)(1u << (i % 8));
        if (report_verify(pub, message, sizeof message, sig, sig_len) != DALA_EAUTH) accepted++;
        else CHECK_CONTAINS(dala_errmsg(), "does not match");
        message[i] ^= (uint8_t)(1u << (i % 8));
    }
    CHECK_EQ_INT(accepted, 0);
    CHECK_OK(report_verify(pub, message, sizeof message, sig, sig_len));
    /* One byte fewer, or the signature of a prefix, does not do either. */
    CHECK_REFUSED(report_verify(pub, message, sizeof message - 1, sig, sig_len), "does not match");
}

static void test_report_verify_refuses_every_flipped_bit_of_the_signature(void)
{
    uint8_t pub[REPORT_PUBLIC_KEY_BYTES], priv[REPORT_PRIVATE_KEY_BYTES], message[300];
    uint8_t sig[REPORT_SIGNATURE_MAX_BYTES];
    size_t sig_len;
    int accepted = 0, other_code = 0;
    make_message(message, sizeof message, 3);
    CHECK_OK(report_key_new(pub, priv));
    CHECK_OK(report_sign(sig, &sig_len, priv, message, sizeof message));
    for (size_t i = 0; i < sig_len; i++)
        for (int bit = 0; bit < 8; bit++) {
            sig[i] ^= (uint8_t)(1u << bit);
            int rc = report_verify(pub, message, sizeof message, sig, sig_len);
            if (rc == DALA_OK) accepted++;
            else if (rc != DALA_EAUTH) other_code++;
            sig[i] ^= (uint8_t)(1u << bit);
        }
    CHECK_EQ_INT(accepted, 0);
    CHECK_EQ_INT(other_code, 0);
    CHECK_OK(report_verify(pub, message, sizeof message, sig, sig_len));
}

static void test_report_verify_refuses_another_key(void)
{
    uint8_t pub[REPORT_PUBLIC_KEY_BYTES], priv[REPORT_PRIVATE_KEY_BYTES];
    uint8_t other_pub[REPORT_PUBLIC_KEY_BYTES], other_priv[REPORT_PRIVATE_KEY_BYTES];
    uint8_t sig[REPORT_SIGNATURE_MAX_BYTES], other_sig[REPORT_SIGNATURE_MAX_BYTES];
    size_t sig_len, other_len;
    const uint8_t *note = (const uint8_t *)"Алматы, Бостандық: Q3 note";
    size_t len = strlen((const char *)note);
    CHECK_OK(report_key_new(pub, priv));
    CHECK_OK(report_key_new(other_pub, other_priv));
    CHECK_OK(report_sign(sig, &sig_len, priv, note, len));
    CHECK_OK(report_sign(other_sig, &other_len, other_priv, note, len));
    CHECK_REFUSED(report_verify(other_pub, note, len, sig, sig_len), "does not match");
    CHECK_REFUSED(report_verify(pub, note, len, other_sig, other_len), "does not match");
    CHECK_OK(report_verify(other_pub, note, len, other_sig, other_len));
}

static void test_report_verify_refuses_truncated_and_garbage_der_with_eauth(void)
{
    uint8_t pub[REPORT_PUBLIC_KEY_BYTES], priv[REPORT_PRIVATE_KEY_BYTES];
    uint8_t sig[REPORT_SIGNATURE_MAX_BYTES], bad[128];
    size_t sig_len;
    uint32_t state = 0x5eed1234u;
    const uint8_t *note = (const uint8_t *)"note";
    CHECK_OK(report_key_new(pub, priv));
    CHECK_OK(report_sign(sig, &sig_len, priv, note, 4));
    /* Every truncation, down to none at all. */
    for (size_t len = 0; len < sig_len; len++)
        CHECK_REFUSED(report_verify(pub, note, 4, sig, len), "bad encoding");
    /* A byte after it, outside and then inside the sequence. */
    memcpy(bad, sig, sig_len);
    bad[sig_len] = 0;
    CHECK_REFUSED(report_verify(pub, note, 4, bad, sig_len + 1), "bad encoding");
    bad[1] = (uint8_t)(bad[1] + 1);
    CHECK_REFUSED(report_verify(pub, note, 4, bad, sig_len + 1), "bad encoding");
    /* The same sequence with a long-form length (BER, not DER). */
    bad[0] = 0x30;
    bad[1] = 0x81;
    bad[2] = (uint8_t)(sig_len - 2);
    memcpy(bad + 3, sig + 2, sig_len - 2);
    CHECK_REFUSED(report_verify(pub, note, 4, bad, sig_len + 1), "bad encoding");
    /* Raw r || s (IEEE P1363), as some tools write it. */
    uint8_t r[32], s[32];
    CHECK_EQ_INT(split_der(r, s, sig, sig_len), 0);
    memcpy(bad, r, 32);
    memcpy(bad + 32, s, 32);
    CHECK_REFUSED(report_verify(pub, note, 4, bad, 64), "bad encoding");
    /* Garbage of every length up to 128, random and behind a plausible
     * header, is refused with EAUTH and never read past its end. */
    for (size_t len = 0; len <= sizeof bad; len++)
        for (int round = 0; round < 4; round++) {
            make_garbage(bad, len, &state);
            if (round >= 2 && len >= 4) {
                bad[0] = 0x30, bad[1] = (uint8_t)(len - 2), bad[2] = 0x02;
                bad[3] = (uint8_t)(round == 2 ? 32 : 33);
            }
            CHECK_EQ_INT(report_verify(pub, note, 4, bad, len), DALA_EAUTH);
        }
}

static void test_report_verify_reads_integers_strictly(void)
{
    uint8_t pub[REPORT_PUBLIC_KEY_BYTES], priv[REPORT_PRIVATE_KEY_BYTES];
    uint8_t sig[REPORT_SIGNATURE_MAX_BYTES], bad[128], r[34] = {0}, s[34] = {0}, n[32];
    size_t sig_len, len;
    const uint8_t *note = (const uint8_t *)"note";
    from_hex(n, sizeof n, p256_order_hex);
    CHECK_OK(report_key_new(pub, priv));
    /* Sign notes until one gives an r and s of 32 bytes below 0x80, so the
     * cases below can be built from a valid signature (one in four). */
    uint8_t message[8];
    memcpy(message, "note-000", 8);
    for (int tries = 0;; tries++) {
        message[7] = (uint8_t)('0' + tries % 10), message[6] = (uint8_t)('0' + tries / 10);
        CHECK_OK(report_sign(sig, &sig_len, priv, message, sizeof message));
        CHECK_EQ_INT(split_der(r + 2, s + 2, sig, sig_len), 0);
        if ((r[2] & 0x80) == 0 && (s[2] & 0x80) == 0 && r[2] != 0 && s[2] != 0) break;
        if (tries == 99) {
            test_fail(__FILE__, __LINE__, "no signature with short r and s in 100 tries");
            return;
        }
    }
    note = message;
    CHECK_OK(report_verify(pub, note, 8, bad, join_der(bad, r + 2, 32, s + 2, 32)));
    /* A needless leading zero on r, then on s. */
    len = join_der(bad, r + 1, 33, s + 2, 32);
    CHECK_REFUSED(report_verify(pub, note, 8, bad, len), "leading zero");
    len = join_der(bad, r + 2, 32, s + 1, 33);
    CHECK_REFUSED(report_verify(pub, note, 8, bad, len), "leading zero");
    /* r with its top bit set and no 00: a negative number. */
    r[2] |= 0x80;
    len = join_der(bad, r + 2, 32, s + 2, 32);
    CHECK_REFUSED(report_verify(pub, note, 8, bad, len), "negative");
    r[2] &= 0x7F;
    /* An INTEGER of 34 bytes, and one of length 0. */
    len = join_der(bad, r, 34, s + 2, 32);
    CHECK_REFUSED(report_verify(pub, note, 8, bad, len), "bad encoding");
    len = join_der(bad, r, 0, s + 2, 32);
    CHECK_REFUSED(report_verify(pub, note, 8, bad, len), "bad encoding");
    /* Another tag in place of INTEGER. */
    len = join_der(bad, r + 2, 32, s + 2, 32);
    bad[2] = 0x04;
    CHECK_REFUSED(report_verify(pub, note, 8, bad, len), "not a DER INTEGER");
    /* r = 0, r = n and s = n are well encoded but out of range. */
    static const uint8_t zero[1] = {0};
    len = join_der(bad, zero, 1, s + 2, 32);
    CHECK_REFUSED(report_verify(pub, note, 8, bad, len), "does not match");
    uint8_t n_der[33] = {0};
    memcpy(n_der + 1, n, 32);
    len = join_der(bad, n_der, 33, s + 2, 32);
    CHECK_REFUSED(report_verify(pub, note, 8, bad, len), "does not match");
    len = join_der(bad, r + 2, 32, n_der, 33);
    CHECK_REFUSED(report_verify(pub, note, 8, bad, len), "does not match");
}

static void test_report_verify_accepts_n_minus_s_as_every_ecdsa_verifier_does(void)
{
    /* ECDSA's one malleability, kept here on purpose and pinned by this
     * test: (r, n - s) verifies too. Callers must not use signature bytes
     * as an identifier of a sign-off. */
    uint8_t pub[65], priv[32], sig[REPORT_SIGNATURE_MAX_BYTES], r[33] = {0}, s[32], neg[33] = {0};
    uint8_t der[REPORT_SIGNATURE_MAX_BYTES];
    size_t sig_len;
    mbedtls_mpi n, s_mpi;
    mbedtls_mpi_init(&n);
    mbedtls_mpi_init(&s_mpi);
    from_hex(priv, sizeof priv, rfc_private_hex);
    from_hex(pub, sizeof pub, rfc_public_hex);
    CHECK_OK(report_sign(sig, &sig_len, priv, (const uint8_t *)"sample", 6));
    CHECK_EQ_INT(split_der(r + 1, s, sig, sig_len), 0);
    CHECK_EQ_INT(mbedtls_mpi_read_string(&n, 16, p256_order_hex), 0);
    CHECK_EQ_INT(mbedtls_mpi_read_binary(&s_mpi, s, 32), 0);
    CHECK_EQ_INT(mbedtls_mpi_sub_mpi(&s_mpi, &n, &s_mpi), 0);
    CHECK_EQ_INT(mbedtls_mpi_write_binary(&s_mpi, neg + 1, 32), 0);
    /* For "sample" r and s have their top bits set; n - s does not. */
    CHECK(neg[1] != 0 && (neg[1] & 0x80) == 0);
    size_t len = join_der(der, r, 33, neg + 1, 32);
    CHECK_OK(report_verify(pub, (const uint8_t *)"sample", 6, der, len));
    mbedtls_mpi_free(&s_mpi);
    mbedtls_mpi_free(&n);
}

static void test_report_verify_refuses_a_public_key_that_is_not_a_p256_point(void)
{
    uint8_t pub[65], bad[65], priv[32], sig[REPORT_SIGNATURE_MAX_BYTES];
    size_t sig_len;
    from_hex(priv, sizeof priv, rfc_private_hex);
    from_hex(pub, sizeof pub, rfc_public_hex);
    CHECK_OK(report_sign(sig, &sig_len, priv, (const uint8_t *)"sample", 6));
    /* Compressed and hybrid prefixes, and the encoding of infinity. */
    static const uint8_t prefixes[] = {0x00, 0x02, 0x03, 0x06, 0x07, 0x05};
    for (size_t i = 0; i < COUNT(prefixes); i++) {
        memcpy(bad, pub, sizeof bad);
        bad[0] = prefixes[i];
        CHECK_REFUSED(report_verify(bad, (const uint8_t *)"sample", 6, sig, sig_len), "not a P-256 point");
    }
    /* A flipped bit of Y (or X) takes the point off the curve. */
    for (size_t i = 1; i < sizeof bad; i += 16) {
        memcpy(bad, pub, sizeof bad);
        bad[i] ^= 1;
        CHECK_REFUSED(report_verify(bad, (const uint8_t *)"sample", 6, sig, sig_len), "not a P-256 point");
    }
    /* Coordinates of all ones are not below p; all zeros is not on the curve. */
    memset(bad, 0xFF, sizeof bad);
    bad[0] = 0x04;
    CHECK_REFUSED(report_verify(bad, (const uint8_t *)"sample", 6, sig, sig_len), "not a P-256 point");
    memset(bad + 1, 0, sizeof bad - 1);
    CHECK_REFUSED(report_verify(bad, (const uint8_t *)"sample", 6, sig, sig_len), "not a P-256 point");
}

/* --- openssl, independently ------------------------------------------------------ */

/* Whether an openssl test can start: openssl can be run and the folder
 * named by the template `dir` ("...XXXXXX", rewritten in place) was made.
 * If not, a failed check saying why (for openssl, what to install). */
static int openssl_ready(char *dir)
{
    if (system("command -v openssl >/dev/null 2>&1") != 0) {
        test_fail(__FILE__, __LINE__, "openssl not found: install openssl (apt-get install openssl)");
        return 0;
    }
    if (mkdtemp(dir) == NULL) {
        test_fail(__FILE__, __LINE__, "mkdtemp %s failed", dir);
        return 0;
    }
    return 1;
}

/* Writes `len` bytes to dir/name. */
static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "wb");
    CHECK(file != NULL);
    if (file == NULL) return;
    CHECK_EQ_U64(fwrite(data, 1, len, file), len);
    CHECK_EQ_INT(fclose(file), 0);
}

/* Runs `command` in `dir` through the shell, with stderr joined to stdout;
 * returns its exit status (-1 if it could not run) and its output. */
static int run_in(const char *dir, const char *command, char *output, size_t output_size)
{
    char line[1024];
    snprintf(line, sizeof line, "cd '%s' && %s 2>&1", dir, command);
    FILE *pipe = popen(line, "r");
    if (pipe == NULL) return -1;
    size_t n = fread(output, 1, output_size - 1, pipe);
    output[n] = '\0';
    int status = pclose(pipe);
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Loads a 65-byte public key (and the private scalar, if given) into an
 * mbedTLS pk context of type ECKEY, for writing as PEM. */
static int load_pk(mbedtls_pk_context *pk, const uint8_t pub[65], const uint8_t *priv)
{
    int rc = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    mbedtls_ecp_keypair *ec = rc == 0 ? mbedtls_pk_ec(*pk) : NULL;
    if (rc == 0) rc = mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP256R1);
    if (rc == 0) rc = mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, pub, 65);
    if (rc == 0 && priv != NULL) rc = mbedtls_mpi_read_binary(&ec->d, priv, 32);
    return rc;
}

/* Removes the files the openssl tests may have left in `dir`, then `dir`. */
static void remove_dir(const char *dir)
{
    static const char *const names[] = {"pub.pem", "key.pem", "sig.der", "msg.bin", "theirs.der"};
    char path[512];
    for (size_t i = 0; i < COUNT(names); i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    CHECK_EQ_INT(rmdir(dir), 0);
}

static void test_report_openssl_verifies_our_signatures_and_refuses_a_tampered_note(void)
{
    static const char verify[] = "openssl dgst -sha256 -verify pub.pem -signature sig.der msg.bin";
    uint8_t pub[65], priv[32], message[300], sig[REPORT_SIGNATURE_MAX_BYTES];
    unsigned char pem[1024];
    char dir[] = "/tmp/dala-report-sign-XXXXXX", output[1024];
    size_t sig_len;
    mbedtls_pk_context pk;
    if (!openssl_ready(dir)) return;
    mbedtls_pk_init(&pk);
    make_message(message, sizeof message, 4);
    /* A fresh key, then the RFC's (whose "sample" signature is 72 bytes). */
    for (int round = 0; round < 2; round++) {
        size_t len = sizeof message;
        if (round == 0) {
            CHECK_OK(report_key_new(pub, priv));
        } else {
            from_hex(priv, sizeof priv, rfc_private_hex);
            from_hex(pub, sizeof pub, rfc_public_hex);
            memcpy(message, "sample", 6);
            len = 6;
        }
        CHECK_OK(report_sign(sig, &sig_len, priv, message, len));
        mbedtls_pk_free(&pk);
        mbedtls_pk_init(&pk);
        CHECK_EQ_INT(load_pk(&pk, pub, NULL), 0);
        CHECK_EQ_INT(mbedtls_pk_write_pubkey_pem(&pk, pem, sizeof pem), 0);
        write_file(dir, "pub.pem", pem, strlen((const char *)pem));
        write_file(dir, "sig.der", sig, sig_len);
        write_file(dir, "msg.bin", message, len);
        int status = run_in(dir, verify, output, sizeof output);
        CHECK_EQ_INT(status, 0);
        CHECK_CONTAINS(output, "Verified OK");
        /* One flipped bit in the note: openssl refuses it too. */
        message[len / 2] ^= 0x10;
        write_file(dir, "msg.bin", message, len);
        status = run_in(dir, verify, output, sizeof output);
        CHECK(status != 0);
        CHECK_CONTAINS(output, "Verification failure");
        CHECK(strstr(output, "Verified OK") == NULL);
        message[len / 2] ^= 0x10;
    }
    mbedtls_pk_free(&pk);
    remove_dir(dir);
}

static void test_report_verify_accepts_signatures_made_by_openssl(void)
{
    uint8_t pub[65], priv[32], message[300], theirs[256];
    unsigned char pem[2048];
    char dir[] = "/tmp/dala-report-sign-XXXXXX", output[1024], path[512];
    mbedtls_pk_context pk;
    if (!openssl_ready(dir)) return;
    mbedtls_pk_init(&pk);
    make_message(message, sizeof message, 5);
    CHECK_OK(report_key_new(pub, priv));
    CHECK_EQ_INT(load_pk(&pk, pub, priv), 0);
    CHECK_EQ_INT(mbedtls_pk_write_key_pem(&pk, pem, sizeof pem), 0);
    write_file(dir, "key.pem", pem, strlen((const char *)pem));
    write_file(dir, "msg.bin", message, sizeof message);
    /* openssl draws a random k, so its signatures differ from ours and
     * from each other; three of them all verify here. */
    for (int round = 0; round < 3; round++) {
        int status = run_in(dir, "openssl dgst -sha256 -sign key.pem -out theirs.der msg.bin",
                            output, sizeof output);
        CHECK_EQ_INT(status, 0);
        snprintf(path, sizeof path, "%s/theirs.der", dir);
        FILE *file = fopen(path, "rb");
        CHECK(file != NULL);
        if (file == NULL) break;
        size_t len = fread(theirs, 1, sizeof theirs, file);
        fclose(file);
        CHECK_OK(report_verify(pub, message, sizeof message, theirs, len));
        CHECK_REFUSED(report_verify(pub, message, sizeof message - 1, theirs, len), "does not match");
    }
    mbedtls_platform_zeroize(pem, sizeof pem);
    mbedtls_platform_zeroize(priv, sizeof priv);
    mbedtls_pk_free(&pk);
    remove_dir(dir);
}

/* --- wrapped private keys --------------------------------------------------------- */

static void test_report_key_wrap_and_unwrap_round_trip(void)
{
    uint8_t pub[65], priv[32], back[32], salt[16], wrapped1[60], wrapped2[60];
    memset(salt, 0x5A, sizeof salt);
    CHECK_OK(report_key_new(pub, priv));
    CHECK_OK(report_key_wrap(wrapped1, priv, pub, "correct horse", salt, TEST_ITERATIONS));
    CHECK_OK(report_key_unwrap(back, wrapped1, pub, "correct horse", salt, TEST_ITERATIONS));
    CHECK_EQ_MEM(back, priv, 32);
    /* The scalar does not show through, and a second wrap has another nonce. */
    CHECK(memmem(wrapped1, sizeof wrapped1, priv, 8) == NULL);
    CHECK_OK(report_key_wrap(wrapped2, priv, pub, "correct horse", salt, TEST_ITERATIONS));
    CHECK(memcmp(wrapped1, wrapped2, 12) != 0);
    CHECK(memcmp(wrapped1 + 12, wrapped2 + 12, 48) != 0);
    CHECK_OK(report_key_unwrap(back, wrapped2, pub, "correct horse", salt, TEST_ITERATIONS));
    CHECK_EQ_MEM(back, priv, 32);
}

static void test_report_key_unwrap_opens_the_python_made_vector(void)
{
    uint8_t pub[65], priv[32], back[32], wrapped[60];
    from_hex(priv, sizeof priv, rfc_private_hex);
    from_hex(pub, sizeof pub, rfc_public_hex);
    from_hex(wrapped, sizeof wrapped, vector_wrapped_hex);
    CHECK_OK(report_key_unwrap(back, wrapped, pub, vector_password, vector_salt, TEST_ITERATIONS));
    CHECK_EQ_MEM(back, priv, 32);
}

static void test_report_key_wrap_is_pbkdf2_then_aes_gcm_as_openssl_derives_it(void)
{
    /* openssl derives the key from the password; mbedTLS's GCM, called
     * directly, opens our wrapped bytes with it: the stored format is what
     * the header says, not only what report_key_unwrap() happens to read. */
    uint8_t pub[65], priv[32], wrapped[60], key[32], want_key[32], plain[32];
    char dir[] = "/tmp/dala-report-sign-XXXXXX", output[1024], command[512];
    if (!openssl_ready(dir)) return;
    from_hex(pub, sizeof pub, rfc_public_hex);
    from_hex(priv, sizeof priv, rfc_private_hex);
    CHECK_OK(report_key_wrap(wrapped, priv, pub, vector_password, vector_salt, TEST_ITERATIONS));
    snprintf(command, sizeof command,
             "openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt 'pass:%s' "
             "-kdfopt hexsalt:000102030405060708090a0b0c0d0e0f -kdfopt iter:%d PBKDF2",
             vector_password, TEST_ITERATIONS);
    CHECK_EQ_INT(run_in(dir, command, output, sizeof output), 0);
    /* openssl prints the key as hex pairs joined by colons. */
    size_t n = 0;
    for (const char *p = output; *p && n < sizeof key; p++) {
        unsigned byte;
        if (sscanf(p, "%2x", &byte) == 1) key[n++] = (uint8_t)byte, p += 2;
        else break;
    }
    CHECK_EQ_U64(n, sizeof key);
    from_hex(want_key, sizeof want_key, vector_derived_key_hex);
    CHECK_EQ_MEM(key, want_key, 32);
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    CHECK_EQ_INT(mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256), 0);
    CHECK_EQ_INT(mbedtls_gcm_auth_decrypt(&gcm, 32, wrapped, 12, pub, 65, wrapped + 44, 16,
                                          wrapped + 12, plain),
                 0);
    CHECK_EQ_MEM(plain, priv, 32);
    mbedtls_gcm_free(&gcm);
    CHECK_EQ_INT(rmdir(dir), 0);
}

static void test_report_key_unwrap_refuses_a_wrong_password_salt_or_count(void)
{
    uint8_t pub[65], priv[32], back[32], wrapped[60], salt[16], other_salt[16];
    memset(salt, 1, sizeof salt);
    memcpy(other_salt, salt, sizeof salt);
    other_salt[15] ^= 1;
    CHECK_OK(report_key_new(pub, priv));
    CHECK_OK(report_key_wrap(wrapped, priv, pub, "Сенім", salt, TEST_ITERATIONS));
    memset(back, 0xAA, sizeof back);
    CHECK_REFUSED(report_key_unwrap(back, wrapped, pub, "Сенiм", salt, TEST_ITERATIONS), "wrong password");
    /* Nothing of a failed unwrap is left in the output. */
    static const uint8_t zeros[32];
    CHECK_EQ_MEM(back, zeros, 32);
    CHECK_REFUSED(report_key_unwrap(back, wrapped, pub, "Сенім ", salt, TEST_ITERATIONS), "wrong password");
    CHECK_REFUSED(report_key_unwrap(back, wrapped, pub, "Сенім", other_salt, TEST_ITERATIONS), "wrong password");
    CHECK_REFUSED(report_key_unwrap(back, wrapped, pub, "Сенім", salt, TEST_ITERATIONS + 1), "wrong password");
    CHECK_OK(report_key_unwrap(back, wrapped, pub, "Сенім", salt, TEST_ITERATIONS));
}

static void test_report_key_unwrap_refuses_every_changed_byte(void)
{
    uint8_t pub[65], priv[32], back[32], wrapped[60], salt[16] = {9};
    int accepted = 0;
    CHECK_OK(report_key_new(pub, priv));
    CHECK_OK(report_key_wrap(wrapped, priv, pub, "pw", salt, TEST_ITERATIONS));
    /* Nonce, ciphertext and tag: every byte, a different bit each time. */
    for (size_t i = 0; i < sizeof wrapped; i++) {
        wrapped[i] ^= (uint8_t)(1u << (i % 8));
        if (report_key_unwrap(back, wrapped, pub, "pw", salt, TEST_ITERATIONS) != DALA_EAUTH) accepted++;
        wrapped[i] ^= (uint8_t)(1u << (i % 8));
    }
    CHECK_EQ_INT(accepted, 0);
    CHECK_OK(report_key_unwrap(back, wrapped, pub, "pw", salt, TEST_ITERATIONS));
}

static void test_report_key_unwrap_refuses_a_wrapped_key_with_another_public_key(void)
{
    uint8_t pub[65], priv[32], other_pub[65], other_priv[32], back[32], wrapped[60], salt[16] = {3};
    CHECK_OK(report_key_new(pub, priv));
    CHECK_OK(report_key_new(other_pub, other_priv));
    CHECK_OK(report_key_wrap(wrapped, priv, pub, "pw", salt, TEST_ITERATIONS));
    CHECK_REFUSED(report_key_unwrap(back, wrapped, other_pub, "pw", salt, TEST_ITERATIONS),
                  "another public key");
    /* A public key changed into a non-point in storage is named as such. */
    other_pub[64] ^= 1;
    CHECK_REFUSED(report_key_unwrap(back, wrapped, other_pub, "pw", salt, TEST_ITERATIONS),
                  "not a P-256 point");
}

/* Wraps any 32 bytes as report_key_wrap() would, without its checks, by
 * calling mbedTLS's PBKDF2 and GCM directly (nonce all 7s). */
static void wrap_by_hand(uint8_t wrapped[60], const uint8_t scalar[32], const uint8_t pub[65],
                         const char *password, const uint8_t salt[16])
{
    uint8_t key[32];
    mbedtls_md_context_t md;
    mbedtls_gcm_context gcm;
    mbedtls_md_init(&md);
    mbedtls_gcm_init(&gcm);
    memset(wrapped, 7, 12);
    CHECK_EQ_INT(mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1), 0);
    CHECK_EQ_INT(mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password, strlen(password),
                                           salt, 16, TEST_ITERATIONS, 32, key),
                 0);
    CHECK_EQ_INT(mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256), 0);
    CHECK_EQ_INT(mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, 32, wrapped, 12, pub, 65,
                                           scalar, wrapped + 12, 16, wrapped + 44),
                 0);
    mbedtls_gcm_free(&gcm);
    mbedtls_md_free(&md);
}

static void test_report_key_unwrap_refuses_a_scalar_that_does_not_give_the_public_key(void)
{
    /* The tag verifies (the password is right) but what was wrapped is not
     * the key of `pub`: another key's scalar, 0, or n. */
    uint8_t pub[65], priv[32], other_pub[65], other_priv[32], back[32], wrapped[60], n[32];
    static const uint8_t salt[16] = {4}, zeros[32];
    CHECK_OK(report_key_new(pub, priv));
    CHECK_OK(report_key_new(other_pub, other_priv));
    wrap_by_hand(wrapped, priv, pub, "pw", salt);
    CHECK_OK(report_key_unwrap(back, wrapped, pub, "pw", salt, TEST_ITERATIONS));
    CHECK_EQ_MEM(back, priv, 32);
    wrap_by_hand(wrapped, other_priv, pub, "pw", salt);
    CHECK_REFUSED(report_key_unwrap(back, wrapped, pub, "pw", salt, TEST_ITERATIONS),
                  "does not give the public key");
    CHECK_EQ_MEM(back, zeros, 32);
    wrap_by_hand(wrapped, zeros, pub, "pw", salt);
    CHECK_REFUSED(report_key_unwrap(back, wrapped, pub, "pw", salt, TEST_ITERATIONS),
                  "not a valid P-256 private key");
    from_hex(n, sizeof n, p256_order_hex);
    wrap_by_hand(wrapped, n, pub, "pw", salt);
    CHECK_REFUSED(report_key_unwrap(back, wrapped, pub, "pw", salt, TEST_ITERATIONS),
                  "not a valid P-256 private key");
}

static void test_report_key_wrap_refuses_a_mismatched_or_invalid_pair(void)
{
    uint8_t pub[65], priv[32], other_pub[65], other_priv[32], wrapped[60], salt[16] = {0};
    uint8_t n[32];
    CHECK_OK(report_key_new(pub, priv));
    CHECK_OK(report_key_new(other_pub, other_priv));
    static const uint8_t zeros[60];
    memset(wrapped, 0xAA, sizeof wrapped);
    CHECK_EQ_INT(report_key_wrap(wrapped, priv, other_pub, "pw", salt, TEST_ITERATIONS), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "does not give the public key");
    CHECK_EQ_MEM(wrapped, zeros, sizeof zeros); /* a failed wrap leaves zeros */
    /* The scalars 0 and n are not keys. */
    memset(other_priv, 0, sizeof other_priv);
    CHECK_EQ_INT(report_key_wrap(wrapped, other_priv, pub, "pw", salt, TEST_ITERATIONS), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "not a P-256 scalar");
    from_hex(n, sizeof n, p256_order_hex);
    CHECK_EQ_INT(report_key_wrap(wrapped, n, pub, "pw", salt, TEST_ITERATIONS), DALA_EINVAL);
    pub[0] = 0x02;
    CHECK_EQ_INT(report_key_wrap(wrapped, priv, pub, "pw", salt, TEST_ITERATIONS), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "not a P-256 point");
}

/* --- fingerprints and arguments ---------------------------------------------------- */

static void test_report_key_fingerprint_is_16_hex_digits_in_groups_of_4(void)
{
    uint8_t pub[65], other_pub[65], priv[32];
    char print[REPORT_FINGERPRINT_BYTES], other[REPORT_FINGERPRINT_BYTES];
    /* SHA-256 of the RFC public key starts b18b86ce1389e46d (sha256sum). */
    from_hex(pub, sizeof pub, rfc_public_hex);
    report_key_fingerprint(print, pub);
    CHECK_EQ_STR(print, "b18b 86ce 1389 e46d");
    CHECK_OK(report_key_new(other_pub, priv));
    report_key_fingerprint(other, other_pub);
    CHECK_EQ_U64(strlen(other), 19);
    for (int i = 0; i < 19; i++) {
        if (i % 5 == 4) CHECK_EQ_INT(other[i], ' ');
        else CHECK(strchr("0123456789abcdef", other[i]) != NULL && other[i] != '\0');
    }
    CHECK(strcmp(print, other) != 0);
    report_key_fingerprint(print, NULL);
    CHECK_EQ_STR(print, "");
    report_key_fingerprint(NULL, pub); /* does nothing, does not crash */
}

static void test_report_functions_refuse_bad_arguments_with_einval(void)
{
    uint8_t pub[65], priv[32], wrapped[60], salt[16] = {0}, sig[REPORT_SIGNATURE_MAX_BYTES];
    size_t sig_len = 99;
    CHECK_OK(report_key_new(pub, priv));
    CHECK_EQ_INT(report_key_new(NULL, priv), DALA_EINVAL);
    CHECK_EQ_INT(report_key_new(pub, NULL), DALA_EINVAL);

    CHECK_EQ_INT(report_key_wrap(NULL, priv, pub, "pw", salt, 1), DALA_EINVAL);
    CHECK_EQ_INT(report_key_wrap(wrapped, NULL, pub, "pw", salt, 1), DALA_EINVAL);
    CHECK_EQ_INT(report_key_wrap(wrapped, priv, NULL, "pw", salt, 1), DALA_EINVAL);
    CHECK_EQ_INT(report_key_wrap(wrapped, priv, pub, NULL, salt, 1), DALA_EINVAL);
    CHECK_EQ_INT(report_key_wrap(wrapped, priv, pub, "pw", NULL, 1), DALA_EINVAL);
    CHECK_EQ_INT(report_key_wrap(wrapped, priv, pub, "", salt, 1), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "password is empty");
    CHECK_EQ_INT(report_key_wrap(wrapped, priv, pub, "pw", salt, 0), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "at least 1 iteration");
    /* One iteration is allowed (and quick). */
    CHECK_OK(report_key_wrap(wrapped, priv, pub, "pw", salt, 1));

    CHECK_EQ_INT(report_key_unwrap(NULL, wrapped, pub, "pw", salt, 1), DALA_EINVAL);
    CHECK_EQ_INT(report_key_unwrap(priv, NULL, pub, "pw", salt, 1), DALA_EINVAL);
    CHECK_EQ_INT(report_key_unwrap(priv, wrapped, NULL, "pw", salt, 1), DALA_EINVAL);
    CHECK_EQ_INT(report_key_unwrap(priv, wrapped, pub, NULL, salt, 1), DALA_EINVAL);
    CHECK_EQ_INT(report_key_unwrap(priv, wrapped, pub, "pw", NULL, 1), DALA_EINVAL);
    CHECK_EQ_INT(report_key_unwrap(priv, wrapped, pub, "", salt, 1), DALA_EINVAL);
    CHECK_EQ_INT(report_key_unwrap(priv, wrapped, pub, "pw", salt, 0), DALA_EINVAL);
    CHECK_OK(report_key_unwrap(priv, wrapped, pub, "pw", salt, 1));

    CHECK_EQ_INT(report_sign(NULL, &sig_len, priv, (const uint8_t *)"x", 1), DALA_EINVAL);
    CHECK_EQ_U64(sig_len, 0);
    CHECK_EQ_INT(report_sign(sig, NULL, priv, (const uint8_t *)"x", 1), DALA_EINVAL);
    CHECK_EQ_INT(report_sign(sig, &sig_len, NULL, (const uint8_t *)"x", 1), DALA_EINVAL);
    CHECK_EQ_INT(report_sign(sig, &sig_len, priv, NULL, 1), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "NULL with a length of 1");
    uint8_t zero_key[32] = {0};
    CHECK_EQ_INT(report_sign(sig, &sig_len, zero_key, (const uint8_t *)"x", 1), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "not a P-256 scalar");
    CHECK_EQ_U64(sig_len, 0);

    CHECK_OK(report_sign(sig, &sig_len, priv, (const uint8_t *)"x", 1));
    CHECK_EQ_INT(report_verify(NULL, (const uint8_t *)"x", 1, sig, sig_len), DALA_EINVAL);
    CHECK_EQ_INT(report_verify(pub, NULL, 1, sig, sig_len), DALA_EINVAL);
    CHECK_EQ_INT(report_verify(pub, (const uint8_t *)"x", 1, NULL, sig_len), DALA_EINVAL);
    CHECK_OK(report_verify(pub, (const uint8_t *)"x", 1, sig, sig_len));
}

const dala_test report_sign_tests[] = {
    {"report_key_new_gives_fresh_valid_pairs", test_report_key_new_gives_fresh_valid_pairs},
    {"report_sign_round_trips_and_is_deterministic", test_report_sign_round_trips_and_is_deterministic},
    {"report_sign_gives_the_r_and_s_of_rfc6979_a25", test_report_sign_gives_the_r_and_s_of_rfc6979_a25},
    {"report_verify_accepts_the_rfc6979_signature_under_the_rfc_public_key", test_report_verify_accepts_the_rfc6979_signature_under_the_rfc_public_key},
    {"report_verify_refuses_a_flipped_bit_in_every_byte_of_the_note", test_report_verify_refuses_a_flipped_bit_in_every_byte_of_the_note},
    {"report_verify_refuses_every_flipped_bit_of_the_signature", test_report_verify_refuses_every_flipped_bit_of_the_signature},
    {"report_verify_refuses_another_key", test_report_verify_refuses_another_key},
    {"report_verify_refuses_truncated_and_garbage_der_with_eauth", test_report_verify_refuses_truncated_and_garbage_der_with_eauth},
    {"report_verify_reads_integers_strictly", test_report_verify_reads_integers_strictly},
    {"report_verify_accepts_n_minus_s_as_every_ecdsa_verifier_does", test_report_verify_accepts_n_minus_s_as_every_ecdsa_verifier_does},
    {"report_verify_refuses_a_public_key_that_is_not_a_p256_point", test_report_verify_refuses_a_public_key_that_is_not_a_p256_point},
    {"report_openssl_verifies_our_signatures_and_refuses_a_tampered_note", test_report_openssl_verifies_our_signatures_and_refuses_a_tampered_note},
    {"report_verify_accepts_signatures_made_by_openssl", test_report_verify_accepts_signatures_made_by_openssl},
    {"report_key_wrap_and_unwrap_round_trip", test_report_key_wrap_and_unwrap_round_trip},
    {"report_key_unwrap_opens_the_python_made_vector", test_report_key_unwrap_opens_the_python_made_vector},
    {"report_key_wrap_is_pbkdf2_then_aes_gcm_as_openssl_derives_it", test_report_key_wrap_is_pbkdf2_then_aes_gcm_as_openssl_derives_it},
    {"report_key_unwrap_refuses_a_wrong_password_salt_or_count", test_report_key_unwrap_refuses_a_wrong_password_salt_or_count},
    {"report_key_unwrap_refuses_every_changed_byte", test_report_key_unwrap_refuses_every_changed_byte},
    {"report_key_unwrap_refuses_a_wrapped_key_with_another_public_key", test_report_key_unwrap_refuses_a_wrapped_key_with_another_public_key},
    {"report_key_unwrap_refuses_a_scalar_that_does_not_give_the_public_key", test_report_key_unwrap_refuses_a_scalar_that_does_not_give_the_public_key},
    {"report_key_wrap_refuses_a_mismatched_or_invalid_pair", test_report_key_wrap_refuses_a_mismatched_or_invalid_pair},
    {"report_key_fingerprint_is_16_hex_digits_in_groups_of_4", test_report_key_fingerprint_is_16_hex_digits_in_groups_of_4},
    {"report_functions_refuse_bad_arguments_with_einval", test_report_functions_refuse_bad_arguments_with_einval},
    {NULL, NULL},
};
