/* json.c - records as JSON objects, for the `dala` command, the SDK's
 * readers and the server's pages: TEXT as escaped strings, BLOB as base64
 * strings, INT and REAL as numbers, NULL (and non-finite reals) as null.
 * Only writing lives here; parsing JSON is SQLite's json_each on the SDK
 * side. */
#include "sync_int.h"

#include <stdio.h>
#include <string.h>

int dala_json_put_string(dala_buf *out, const void *bytes, size_t len)
{
    const uint8_t *text = bytes;
    static const char hex[] = "0123456789abcdef";
    int rc = dala_buf_append(out, "\"", 1);
    size_t run = 0; /* bytes copied verbatim in one go */
    for (size_t i = 0; !rc && i <= len; i++) {
        uint8_t c = i < len ? text[i] : 0;
        int needs_escape = i < len && (c < 0x20 || c == '"' || c == '\\');
        if (i < len && !needs_escape) {
            run++;
            continue;
        }
        rc = dala_buf_append(out, text + i - run, run);
        run = 0;
        if (rc || i == len) break;
        char escape[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\') rc = dala_buf_append(out, (char[2]){'\\', (char)c}, 2);
        else if (c == '\n') rc = dala_buf_append(out, "\\n", 2);
        else if (c == '\t') rc = dala_buf_append(out, "\\t", 2);
        else if (c == '\r') rc = dala_buf_append(out, "\\r", 2);
        else rc = dala_buf_append(out, escape, sizeof escape);
    }
    return rc ? rc : dala_buf_append(out, "\"", 1);
}

static int put_base64(dala_buf *out, const uint8_t *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int rc = dala_buf_append(out, "\"", 1);
    for (size_t i = 0; !rc && i < len; i += 3) {
        uint32_t n = (uint32_t)data[i] << 16;
        if (i + 1 < len) n |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len) n |= data[i + 2];
        char quad[4] = {alphabet[n >> 18 & 63], alphabet[n >> 12 & 63],
                        i + 1 < len ? alphabet[n >> 6 & 63] : '=', i + 2 < len ? alphabet[n & 63] : '='};
        rc = dala_buf_append(out, quad, 4);
    }
    return rc ? rc : dala_buf_append(out, "\"", 1);
}

static int put_json_value(dala_buf *out, const dala_value *value)
{
    char number[40];
    int n;
    switch (value->type) {
    case DALA_VALUE_INT:
        n = snprintf(number, sizeof number, "%lld", (long long)value->integer);
        return dala_buf_append(out, number, (size_t)n);
    case DALA_VALUE_REAL:
        if (value->real != value->real || value->real - value->real != 0) /* NaN or infinite */
            return dala_buf_append(out, "null", 4);
        n = snprintf(number, sizeof number, "%.17g", value->real);
        return dala_buf_append(out, number, (size_t)n);
    case DALA_VALUE_TEXT: return dala_json_put_string(out, value->bytes, value->len);
    case DALA_VALUE_BLOB: return put_base64(out, value->bytes, value->len);
    default: return dala_buf_append(out, "null", 4);
    }
}

int dala_record_to_json(dala_buf *out, const dala_record *record)
{
    size_t start = out->len;
    int rc = dala_buf_append(out, "{", 1);
    for (size_t i = 0; !rc && i < record->field_count; i++) {
        const dala_record_field *field = &record->fields[i];
        if (i) rc = dala_buf_append(out, ",", 1);
        if (!rc) rc = dala_json_put_string(out, (const uint8_t *)field->name, strlen(field->name));
        if (!rc) rc = dala_buf_append(out, ":", 1);
        if (!rc) rc = put_json_value(out, &field->value);
    }
    if (!rc) rc = dala_buf_append(out, "}", 1);
    if (rc) out->len = start;
    return rc;
}
