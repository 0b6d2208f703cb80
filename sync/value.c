/* value.c - field values and names on the wire, shared by the batch codec
 * (codec.c) and the record codec (record.c): INT as a zigzag varint, REAL
 * as 8 bytes of IEEE 754 big-endian, TEXT (checked UTF-8) and BLOB as
 * length-prefixed bytes, NULL as nothing (the tag says it). */
#include "sync_int.h"

#include <string.h>

static uint64_t zigzag_encode(int64_t value)
{
    return ((uint64_t)value << 1) ^ (uint64_t)(value >> 63);
}

static int64_t zigzag_decode(uint64_t value)
{
    return (int64_t)(value >> 1) ^ -(int64_t)(value & 1);
}

int dala_value_check(const dala_value *value, const char *field)
{
    switch (value->type) {
    case DALA_VALUE_NULL:
    case DALA_VALUE_INT:
    case DALA_VALUE_REAL: return DALA_OK;
    case DALA_VALUE_TEXT:
    case DALA_VALUE_BLOB:
        if (value->len > DALA_MAX_VALUE_BYTES)
            return dala_error_set(DALA_ELIMIT, "encode field %s: %zu bytes, more than %zu", field,
                                  value->len, DALA_MAX_VALUE_BYTES);
        if (value->len && !value->bytes)
            return dala_error_set(DALA_EINVAL, "encode field %s: no bytes", field);
        if (value->type == DALA_VALUE_TEXT && !dala_utf8_is_valid(value->bytes, value->len))
            return dala_error_set(DALA_EINVAL, "encode field %s: text is not valid UTF-8", field);
        return DALA_OK;
    }
    return dala_error_set(DALA_EINVAL, "encode field %s: unknown value type %d", field,
                          (int)value->type);
}

int dala_value_encode(dala_buf *out, const dala_value *value)
{
    uint8_t real_bytes[8];
    uint64_t bits;
    int rc;
    switch (value->type) {
    case DALA_VALUE_INT: return dala_buf_put_varint(out, zigzag_encode(value->integer));
    case DALA_VALUE_REAL:
        memcpy(&bits, &value->real, sizeof bits);
        dala_store_u64be(real_bytes, bits);
        return dala_buf_append(out, real_bytes, sizeof real_bytes);
    case DALA_VALUE_TEXT:
    case DALA_VALUE_BLOB:
        rc = dala_buf_put_varint(out, value->len);
        return rc ? rc : dala_buf_append(out, value->bytes, value->len);
    default: return DALA_OK; /* NULL: the tag says it all */
    }
}

void dala_value_decode(dala_reader *r, dala_value *value, const char *field)
{
    uint64_t len;
    const uint8_t *bytes;
    switch (value->type) {
    case DALA_VALUE_INT: value->integer = zigzag_decode(dala_read_varint(r)); return;
    case DALA_VALUE_REAL: {
        uint64_t bits = dala_read_u64be(r);
        memcpy(&value->real, &bits, sizeof bits);
        return;
    }
    case DALA_VALUE_TEXT:
    case DALA_VALUE_BLOB:
        len = dala_read_varint_max(r, DALA_MAX_VALUE_BYTES, "value length");
        bytes = dala_read_bytes(r, (size_t)len);
        if (!bytes) return;
        if (value->type == DALA_VALUE_TEXT && !dala_utf8_is_valid(bytes, (size_t)len)) {
            dala_reader_fail(r, DALA_ECORRUPT, "field %s: text is not valid UTF-8", field);
            return;
        }
        value->len = (size_t)len;
        value->bytes = bytes;
        return;
    default: return;
    }
}

const uint8_t *dala_read_name(dala_reader *r, size_t *len, const char *kind)
{
    *len = (size_t)dala_read_varint_max(r, DALA_MAX_NAME_BYTES, kind);
    const uint8_t *bytes = dala_read_bytes(r, *len);
    if (!bytes) return NULL;
    if (!dala_name_is_valid((const char *)bytes, *len)) {
        dala_reader_fail(r, DALA_ECORRUPT, "%s is not [a-z][a-z0-9_]*", kind);
        return NULL;
    }
    return bytes;
}
