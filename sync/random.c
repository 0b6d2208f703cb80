/* random.c - the library's source of secret randomness, and the two small
 * primitives every secret-handling file needs: a constant-time comparison
 * and a wipe the compiler cannot remove.
 *
 * Each thread owns one AES-256 CTR-DRBG (NIST SP 800-90A, mbedtls_ctr_drbg)
 * seeded from mbedtls_entropy (the kernel's getrandom or /dev/urandom) with
 * the personalisation string "dala" || thread id || process id. The state
 * lives behind a pthread key whose destructor wipes and frees it when the
 * thread ends, so no lock is ever taken on the hot path and threads never
 * share a generator. A forked child inherits its parent's state byte for
 * byte; to keep parent and child from drawing the same bytes, every call
 * compares getpid() with the pid that seeded the state and reseeds from
 * fresh system entropy (with the new pid as additional input) when it
 * changed. */
#include "seal_int.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/platform_util.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* One thread's generator: the entropy pool it reseeds from, the DRBG, and
 * the process that seeded it. */
typedef struct thread_rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    pid_t seeded_pid;
} thread_rng;

static pthread_key_t rng_key;
static pthread_once_t rng_key_once = PTHREAD_ONCE_INIT;
static int rng_key_error;

/* Frees a thread's generator: mbedTLS's free functions zeroize their
 * contexts; the whole struct is wiped again before it goes back to malloc. */
static void thread_rng_destroy(void *state)
{
    thread_rng *rng = state;
    if (rng == NULL) return;
    mbedtls_ctr_drbg_free(&rng->drbg);
    mbedtls_entropy_free(&rng->entropy);
    mbedtls_platform_zeroize(rng, sizeof *rng);
    free(rng);
}

static void rng_key_create(void)
{
    rng_key_error = pthread_key_create(&rng_key, thread_rng_destroy);
}

/* Creates and seeds a generator for the calling thread. */
static int thread_rng_new(thread_rng **out)
{
    uint8_t personal[4 + sizeof(pid_t) + sizeof(pid_t)];
    pid_t tid = gettid(), pid = getpid();
    thread_rng *rng;
    int rc;

    *out = NULL;
    rng = dala_calloc(1, sizeof *rng);
    if (rng == NULL) return dala_error_set(DALA_ENOMEM, "seed random generator: out of memory");
    mbedtls_entropy_init(&rng->entropy);
    mbedtls_ctr_drbg_init(&rng->drbg);
    memcpy(personal, "dala", 4);
    memcpy(personal + 4, &tid, sizeof tid);
    memcpy(personal + 4 + sizeof tid, &pid, sizeof pid);
    rc = mbedtls_ctr_drbg_seed(&rng->drbg, mbedtls_entropy_func, &rng->entropy, personal,
                               sizeof personal);
    if (rc != 0) {
        thread_rng_destroy(rng);
        return dala_error_mbedtls(rc, "seed random generator from system entropy");
    }
    rng->seeded_pid = pid;
    *out = rng;
    return DALA_OK;
}

/* The calling thread's generator, created on first use and reseeded when
 * the process has forked since it was last used. */
static int thread_rng_get(thread_rng **out)
{
    thread_rng *rng;
    pid_t pid;
    int rc;

    *out = NULL;
    if (pthread_once(&rng_key_once, rng_key_create) != 0 || rng_key_error != 0)
        return dala_error_set(DALA_ECRYPTO, "set up random generator: pthread_key_create failed");
    rng = pthread_getspecific(rng_key);
    if (rng == NULL) {
        rc = thread_rng_new(&rng);
        if (rc != DALA_OK) return rc;
        if (pthread_setspecific(rng_key, rng) != 0) {
            thread_rng_destroy(rng);
            return dala_error_set(DALA_ENOMEM, "set up random generator: pthread_setspecific failed");
        }
    }
    pid = getpid();
    if (rng->seeded_pid != pid) {
        rc = mbedtls_ctr_drbg_reseed(&rng->drbg, (const unsigned char *)&pid, sizeof pid);
        if (rc != 0) return dala_error_mbedtls(rc, "reseed random generator after fork");
        rng->seeded_pid = pid;
    }
    *out = rng;
    return DALA_OK;
}

int dala_random(void *out, size_t len)
{
    uint8_t *pos = out;
    thread_rng *rng;
    int rc = thread_rng_get(&rng);

    if (rc != DALA_OK) return rc;
    /* The DRBG hands out at most MBEDTLS_CTR_DRBG_MAX_REQUEST bytes a call. */
    while (len > 0) {
        size_t chunk = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;
        rc = mbedtls_ctr_drbg_random(&rng->drbg, pos, chunk);
        if (rc != 0) return dala_error_mbedtls(rc, "draw random bytes");
        pos += chunk;
        len -= chunk;
    }
    return DALA_OK;
}

int dala_random_mbedtls(void *unused, unsigned char *out, size_t len)
{
    (void)unused;
    /* mbedTLS only needs "failed"; the detail is already in dala_errmsg(). */
    return dala_random(out, len) == DALA_OK ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

int dala_ct_compare(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a, *y = b;
    unsigned diff = 0;

    for (size_t i = 0; i < len; i++) diff |= (unsigned)(x[i] ^ y[i]);
    /* diff is 0..255: (diff + 255) >> 8 is 0 for 0 and 1 otherwise, no branch. */
    return (int)((diff + 255u) >> 8);
}

void dala_wipe(void *data, size_t len)
{
    if (data != NULL && len > 0) mbedtls_platform_zeroize(data, len);
}
