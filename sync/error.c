/* error.c - Dala's result codes and the thread-local detail of the last
 * failure (dala_errmsg). Codes of zlib and mbedTLS are translated where
 * they are called; mbedTLS codes through dala_error_mbedtls here. */
#include "sync_int.h"

#include <mbedtls/error.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[512];

const char *dala_strerror(int code)
{
    switch (code) {
    case DALA_OK: return "success";
    case DALA_ENOMEM: return "out of memory";
    case DALA_EIO: return "input/output error";
    case DALA_ECORRUPT: return "malformed data";
    case DALA_EAUTH: return "authentication failed";
    case DALA_ECONFLICT: return "conflicting change";
    case DALA_ESCHEMA: return "unsupported version";
    case DALA_EINVAL: return "invalid argument";
    case DALA_ELIMIT: return "limit exceeded";
    case DALA_ECLOCK: return "timestamp too far ahead";
    case DALA_ECRYPTO: return "cryptographic library failure";
    case DALA_ENOTFOUND: return "not found";
    case DALA_ESESSION: return "sync session expired";
    case DALA_EBUSY: return "busy, try again shortly";
    case DALA_ENOSPACE: return "no space left on the disk";
    case DALA_EWIPED: return "the store was erased";
    default: return "unknown error";
    }
}

const char *dala_errmsg(void)
{
    return last_error;
}

int dala_error_set(int code, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
    return code;
}

int dala_error_mbedtls(int mbedtls_code, const char *what)
{
    char detail[128];
    mbedtls_strerror(mbedtls_code, detail, sizeof detail);
    return dala_error_set(DALA_ECRYPTO, "%s: %s (mbedtls -0x%04x)", what, detail,
                          (unsigned)-mbedtls_code);
}

int dala_error_wrap(int code, const char *prefix)
{
    char detail[512];
    size_t n = strlen(prefix);
    snprintf(detail, sizeof detail, "%s", dala_errmsg());
    if (strncmp(detail, prefix, n) == 0 && detail[n] == ':') return code;
    return dala_error_set(code, "%s: %s", prefix, detail);
}
