/* uuid.c - record ids: UUIDs parsed from and formatted as canonical text,
 * and version 7 UUIDs (time-ordered, RFC 9562) minted on the device, so
 * records sort by creation time and ids never collide across tablets. */
#include "sync_int.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int dala_uuid_parse(uint8_t out[DALA_UUID_BYTES], const char *text)
{
    size_t byte = 0;
    for (size_t i = 0; i < DALA_UUID_TEXT_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') goto invalid;
            continue;
        }
        int high = hex_value(text[i]);
        if (high < 0) goto invalid;
        int low = hex_value(text[++i]);
        if (low < 0) goto invalid;
        out[byte++] = (uint8_t)(high << 4 | low);
    }
    if (text[DALA_UUID_TEXT_LEN] != '\0') goto invalid;
    return DALA_OK;
invalid:
    return dala_error_set(DALA_EINVAL, "parse record id: not a UUID of the form 8-4-4-4-12 hex digits");
}

void dala_uuid_format(char *out, const uint8_t uuid[DALA_UUID_BYTES])
{
    static const char digits[] = "0123456789abcdef";
    size_t pos = 0;
    for (size_t i = 0; i < DALA_UUID_BYTES; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[pos++] = '-';
        out[pos++] = digits[uuid[i] >> 4];
        out[pos++] = digits[uuid[i] & 15];
    }
    out[pos] = '\0';
}

int dala_uuid_v7(uint8_t out[DALA_UUID_BYTES], uint64_t unix_ms)
{
    if (unix_ms > DALA_HLC_MAX_MS)
        return dala_error_set(DALA_EINVAL, "mint record id: time %llu ms does not fit in 48 bits",
                              (unsigned long long)unix_ms);
    int rc = dala_random(out + 6, DALA_UUID_BYTES - 6);
    if (rc) return rc;
    for (int i = 5; i >= 0; i--, unix_ms >>= 8) out[i] = (uint8_t)unix_ms;
    out[6] = (uint8_t)(0x70 | (out[6] & 0x0f)); /* version 7 */
    out[8] = (uint8_t)(0x80 | (out[8] & 0x3f)); /* variant 10 */
    return DALA_OK;
}
