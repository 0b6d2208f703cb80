/* keys.c - X25519 (RFC 7748) key pairs and the Diffie-Hellman function,
 * on mbedTLS's Montgomery-curve arithmetic (MBEDTLS_ECP_DP_CURVE25519).
 *
 * Keys travel as RFC 7748's 32-byte little-endian strings. mbedTLS refuses
 * a private scalar that is not clamped, so the scalar is clamped on the
 * way in (RFC 7748 s.5: k[0] &= 248, k[31] &= 127, k[31] |= 64), exactly
 * as the RFC's X25519 function does; a dala_keypair stores its secret
 * already clamped. The peer's u-coordinate has its top bit masked and is
 * reduced mod p, so non-canonical encodings are accepted as the RFC asks.
 * A low-order peer key, which would force a shared secret of all zeros,
 * is refused with DALA_EAUTH. mbedtls_ecp_mul gets Dala's DRBG so it can
 * randomise its projective coordinates against side channels. */
#include "seal_int.h"

#include <mbedtls/bignum.h>
#include <mbedtls/ecp.h>
#include <string.h>

/* The base point's u-coordinate, 9, as a 32-byte little-endian string. */
static const uint8_t base_point[DALA_KEY_BYTES] = {9};

static void clamp_scalar(uint8_t k[DALA_KEY_BYTES])
{
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
}

/* Whether all 32 bytes are zero, in time independent of the contents. */
static int is_all_zero(const uint8_t bytes[DALA_KEY_BYTES])
{
    static const uint8_t zeros[DALA_KEY_BYTES];
    return dala_ct_compare(bytes, zeros, DALA_KEY_BYTES) == 0;
}

/* Loads the peer's u-coordinate into `point` (Z = 1): top bit masked,
 * then reduced mod p, per RFC 7748 s.5. */
static int load_peer_point(mbedtls_ecp_point *point, const mbedtls_ecp_group *grp,
                           const uint8_t peer_public[DALA_KEY_BYTES])
{
    uint8_t u[DALA_KEY_BYTES];
    int rc;

    memcpy(u, peer_public, sizeof u);
    u[31] &= 127;
    rc = mbedtls_mpi_read_binary_le(&point->X, u, sizeof u);
    if (rc == 0) rc = mbedtls_mpi_mod_mpi(&point->X, &point->X, &grp->P);
    if (rc == 0) rc = mbedtls_mpi_lset(&point->Z, 1);
    dala_wipe(u, sizeof u);
    return rc;
}

int dala_x25519(uint8_t out[DALA_KEY_BYTES], const uint8_t secret[DALA_KEY_BYTES],
                const uint8_t peer_public[DALA_KEY_BYTES])
{
    mbedtls_ecp_group grp;
    mbedtls_ecp_point peer, shared;
    mbedtls_mpi scalar;
    uint8_t k[DALA_KEY_BYTES];
    int rc, result = DALA_OK;

    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&peer);
    mbedtls_ecp_point_init(&shared);
    mbedtls_mpi_init(&scalar);
    memcpy(k, secret, sizeof k);
    clamp_scalar(k);

    rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_CURVE25519);
    if (rc == 0) rc = mbedtls_mpi_read_binary_le(&scalar, k, sizeof k);
    if (rc == 0) rc = load_peer_point(&peer, &grp, peer_public);
    if (rc != 0) {
        result = dala_error_mbedtls(rc, "X25519: load key");
        goto cleanup;
    }
    rc = mbedtls_ecp_mul(&grp, &shared, &scalar, &peer, dala_random_mbedtls, NULL);
    /* The scalar is clamped, so INVALID_KEY can only mean the peer's point:
     * mbedTLS refuses the known low-order points itself. */
    if (rc == MBEDTLS_ERR_ECP_INVALID_KEY || rc == MBEDTLS_ERR_MPI_NOT_ACCEPTABLE) {
        result = dala_error_set(DALA_EAUTH, "X25519: the peer's public key is a low-order "
                                            "point, refused so it cannot force a known secret");
        goto cleanup;
    }
    if (rc == 0) rc = mbedtls_mpi_write_binary_le(&shared.X, out, DALA_KEY_BYTES);
    if (rc != 0) {
        result = dala_error_mbedtls(rc, "X25519: scalar multiplication");
        goto cleanup;
    }
    if (is_all_zero(out)) {
        result = dala_error_set(DALA_EAUTH, "X25519: the shared secret is all zeros (low-order "
                                            "peer public key), refused");
        goto cleanup;
    }

cleanup:
    if (result != DALA_OK) dala_wipe(out, DALA_KEY_BYTES);
    dala_wipe(k, sizeof k);
    mbedtls_mpi_free(&scalar); /* mbedTLS zeroizes MPIs as it frees them */
    mbedtls_ecp_point_free(&shared);
    mbedtls_ecp_point_free(&peer);
    mbedtls_ecp_group_free(&grp);
    return result;
}

int dala_keypair_from_secret(dala_keypair *out, const uint8_t secret[DALA_KEY_BYTES])
{
    dala_keypair pair;
    int rc;

    memcpy(pair.secret, secret, DALA_KEY_BYTES);
    clamp_scalar(pair.secret);
    rc = dala_x25519(pair.public_key, pair.secret, base_point);
    if (rc != DALA_OK) {
        dala_keypair_wipe(&pair);
        return dala_error_prefix(rc, "derive X25519 public key");
    }
    *out = pair;
    dala_keypair_wipe(&pair);
    return DALA_OK;
}

int dala_keypair_generate(dala_keypair *out)
{
    uint8_t secret[DALA_KEY_BYTES];
    int rc = dala_random(secret, sizeof secret);

    if (rc == DALA_OK) rc = dala_keypair_from_secret(out, secret);
    dala_wipe(secret, sizeof secret);
    return rc;
}

void dala_keypair_wipe(dala_keypair *pair)
{
    if (pair != NULL) dala_wipe(pair, sizeof *pair);
}
