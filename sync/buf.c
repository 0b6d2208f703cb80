/* buf.c - the growable byte buffer (dala_buf), the bounded reader that
 * every decoder in libdala_sync reads through, LEB128 varints, the
 * name and UTF-8 checks the codec applies to untrusted bytes, and the
 * hex that keys are written in. */
#include "sync_int.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static size_t buf_ceiling(const dala_buf *buf)
{
    return buf->cap_bytes ? buf->cap_bytes : DALA_BUF_DEFAULT_CAP;
}

int dala_buf_reserve(dala_buf *buf, size_t extra)
{
    size_t ceiling = buf_ceiling(buf);
    if (extra > ceiling || buf->len > ceiling - extra)
        return dala_error_set(DALA_ELIMIT, "grow buffer of %zu bytes by %zu: past its cap of %zu bytes",
                              buf->len, extra, ceiling);
    size_t needed = buf->len + extra;
    if (needed <= buf->alloc) return DALA_OK;
    size_t alloc = buf->alloc ? buf->alloc : 256;
    while (alloc < needed) alloc = alloc > ceiling / 2 ? ceiling : alloc * 2;
    /* Not realloc: the old block may hold record contents or keys, so it
     * is wiped before it goes back to the allocator. */
    uint8_t *data = dala_malloc(alloc);
    if (!data) return dala_error_set(DALA_ENOMEM, "grow buffer to %zu bytes: out of memory", alloc);
    if (buf->data) {
        memcpy(data, buf->data, buf->len);
        dala_wipe(buf->data, buf->alloc);
        free(buf->data);
    }
    buf->data = data;
    buf->alloc = alloc;
    return DALA_OK;
}

int dala_buf_append(dala_buf *buf, const void *data, size_t len)
{
    if (len == 0) return DALA_OK;
    int rc = dala_buf_reserve(buf, len);
    if (rc) return rc;
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    return DALA_OK;
}

void dala_buf_reset(dala_buf *buf)
{
    buf->len = 0;
}

void dala_buf_free(dala_buf *buf)
{
    if (!buf) return;
    if (buf->data) {
        dala_wipe(buf->data, buf->alloc);
        free(buf->data);
    }
    buf->data = NULL;
    buf->len = buf->alloc = 0;
}

/* --- fixed-width integers ------------------------------------------------ */

void dala_store_u32be(uint8_t *out, uint32_t value)
{
    for (int i = 3; i >= 0; i--, value >>= 8) out[i] = (uint8_t)value;
}

void dala_store_u64be(uint8_t *out, uint64_t value)
{
    for (int i = 7; i >= 0; i--, value >>= 8) out[i] = (uint8_t)value;
}

uint32_t dala_load_u32be(const uint8_t *in)
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

uint64_t dala_load_u64be(const uint8_t *in)
{
    return (uint64_t)dala_load_u32be(in) << 32 | dala_load_u32be(in + 4);
}

int dala_buf_put_u8(dala_buf *buf, uint8_t value)
{
    return dala_buf_append(buf, &value, 1);
}

int dala_buf_put_u32be(dala_buf *buf, uint32_t value)
{
    uint8_t bytes[4];
    dala_store_u32be(bytes, value);
    return dala_buf_append(buf, bytes, sizeof bytes);
}

int dala_buf_put_u64be(dala_buf *buf, uint64_t value)
{
    uint8_t bytes[8];
    dala_store_u64be(bytes, value);
    return dala_buf_append(buf, bytes, sizeof bytes);
}

/* --- varints --------------------------------------------------------------- */

size_t dala_varint_encode(uint8_t *out, uint64_t value)
{
    size_t n = 0;
    while (value >= 0x80) {
        out[n++] = (uint8_t)(value | 0x80);
        value >>= 7;
    }
    out[n++] = (uint8_t)value;
    return n;
}

int dala_buf_put_varint(dala_buf *buf, uint64_t value)
{
    uint8_t bytes[DALA_VARINT_MAX_BYTES];
    return dala_buf_append(buf, bytes, dala_varint_encode(bytes, value));
}

/* --- the bounded reader ---------------------------------------------------- */

void dala_reader_init(dala_reader *r, const uint8_t *data, size_t len, const char *what)
{
    r->pos = data;
    r->end = data + len;
    r->err = DALA_OK;
    r->what = what;
}

size_t dala_reader_remaining(const dala_reader *r)
{
    return r->err ? 0 : (size_t)(r->end - r->pos);
}

int dala_reader_fail(dala_reader *r, int code, const char *fmt, ...)
{
    if (r->err) return r->err;
    char detail[320];
    va_list args;
    va_start(args, fmt);
    vsnprintf(detail, sizeof detail, fmt, args);
    va_end(args);
    r->err = code;
    r->pos = r->end;
    return dala_error_set(code, "decode %s: %s", r->what, detail);
}

const uint8_t *dala_read_bytes(dala_reader *r, size_t len)
{
    if (r->err) return NULL;
    if (len > (size_t)(r->end - r->pos)) {
        dala_reader_fail(r, DALA_ECORRUPT, "truncated: needed %zu bytes, %zu left", len,
                         (size_t)(r->end - r->pos));
        return NULL;
    }
    const uint8_t *start = r->pos;
    r->pos += len;
    return start;
}

uint8_t dala_read_u8(dala_reader *r)
{
    const uint8_t *p = dala_read_bytes(r, 1);
    return p ? p[0] : 0;
}

uint32_t dala_read_u32be(dala_reader *r)
{
    const uint8_t *p = dala_read_bytes(r, 4);
    return p ? dala_load_u32be(p) : 0;
}

uint64_t dala_read_u64be(dala_reader *r)
{
    const uint8_t *p = dala_read_bytes(r, 8);
    return p ? dala_load_u64be(p) : 0;
}

uint64_t dala_read_varint(dala_reader *r)
{
    uint64_t value = 0;
    for (unsigned i = 0; i < DALA_VARINT_MAX_BYTES; i++) {
        if (r->err) return 0;
        if (r->pos == r->end) {
            dala_reader_fail(r, DALA_ECORRUPT, "truncated varint");
            return 0;
        }
        uint8_t byte = *r->pos++;
        if (i == 9 && byte > 1) {
            dala_reader_fail(r, DALA_ECORRUPT, "varint larger than 64 bits");
            return 0;
        }
        value |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            if (byte == 0 && i > 0) {
                dala_reader_fail(r, DALA_ECORRUPT, "overlong varint (non-minimal encoding)");
                return 0;
            }
            return value;
        }
    }
    dala_reader_fail(r, DALA_ECORRUPT, "varint longer than %d bytes", DALA_VARINT_MAX_BYTES);
    return 0;
}

uint64_t dala_read_varint_max(dala_reader *r, uint64_t max, const char *field)
{
    uint64_t value = dala_read_varint(r);
    if (!r->err && value > max) {
        dala_reader_fail(r, DALA_ELIMIT, "%s is %llu, more than the limit of %llu", field,
                         (unsigned long long)value, (unsigned long long)max);
        return 0;
    }
    return value;
}

/* --- checks ---------------------------------------------------------------- */

int dala_name_is_valid(const char *name, size_t len)
{
    if (len == 0 || len > DALA_MAX_NAME_BYTES) return 0;
    if (name[0] < 'a' || name[0] > 'z') return 0;
    for (size_t i = 1; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return 0;
    }
    return 1;
}

/* The length of the UTF-8 sequence starting at `p` (at most `left` bytes),
 * or 0 if it is not well-formed (RFC 3629: no overlongs, no surrogates,
 * nothing past U+10FFFF). */
static size_t utf8_sequence_len(const uint8_t *p, size_t left)
{
    uint8_t c = p[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else
        return 0;
    if (left < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return n;
}

int dala_utf8_is_valid(const uint8_t *data, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* Fast path: eight ASCII bytes at a time. */
        if (len - i >= 8) {
            uint64_t word;
            memcpy(&word, data + i, 8);
            if (!(word & UINT64_C(0x8080808080808080))) {
                i += 8;
                continue;
            }
        }
        size_t n = utf8_sequence_len(data + i, len - i);
        if (n == 0) return 0;
        i += n;
    }
    return 1;
}

/* ------------------------------------------------------------ hex */

void dala_hex_encode(char *out, const uint8_t *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = '\0';
}

int dala_hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int dala_hex_decode(uint8_t *out, size_t len, const char *hex)
{
    if (!hex || strlen(hex) != 2 * len) return DALA_EINVAL;
    for (size_t i = 0; i < len; i++) {
        int high = dala_hex_digit(hex[2 * i]), low = dala_hex_digit(hex[2 * i + 1]);
        if (high < 0 || low < 0) return DALA_EINVAL;
        out[i] = (uint8_t)(high << 4 | low);
    }
    return DALA_OK;
}
