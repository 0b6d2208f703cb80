/* codec.c - the binary codec of change batches (docs/protocol.md, "Batch").
 *
 * A batch is what one sync pushes or one page pulls: a codec version, the
 * schema version the changes were written under, the device's batch
 * number and the changes. Integers are LEB128 varints, timestamps 8 bytes
 * big-endian, strings length-prefixed. The encoding is canonical: one
 * batch has exactly one encoding, and the decoder refuses every other
 * (overlong varints, redundant per-field bases, trailing bytes), so a
 * decode followed by an encode gives back the input bytes.
 *
 * Decoding makes two passes over untrusted bytes: the first checks
 * everything and counts what must be allocated, the second fills one
 * allocation, so a lying count costs nothing before it is caught. */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

/* Field tag byte: the value type in the low 3 bits, "own base follows" in
 * bit 3; the high bits are reserved and must be zero. */
#define TAG_TYPE_MASK 0x07u
#define TAG_OWN_BASE 0x08u
/* The smallest encoded change: table (2), id (16), hlc (8), device (1),
 * base (1), field count (1), one NULL field (3). */
#define MIN_CHANGE_BYTES 32u

/* Where the second decoding pass puts things; NULL in the first pass. */
typedef struct decode_sink {
    dala_field *fields;   /* next free field slot */
    char *names;          /* next free byte for NUL-terminated names */
    const uint8_t *input; /* start of the input */
    const uint8_t *copy;  /* start of the batch's copy of the input */
} decode_sink;

typedef struct decode_totals {
    size_t fields;
    size_t name_bytes; /* including a NUL per name */
} decode_totals;

/* ---------------------------------------------------------------- encode */

int dala_batch_encode_header(dala_buf *out, uint32_t schema_version, uint64_t batch_seq,
                             size_t count);

static int check_change(const dala_change *change)
{
    if (!change->table || !dala_name_is_valid(change->table, strlen(change->table)))
        return dala_error_set(DALA_EINVAL, "encode change: table name is not [a-z][a-z0-9_]* of "
                                           "at most %d bytes", DALA_MAX_NAME_BYTES);
    if (change->field_count == 0 || change->field_count > DALA_MAX_FIELDS_PER_CHANGE)
        return dala_error_set(DALA_ELIMIT, "encode change of %s: %zu fields, must be 1 to %d",
                              change->table, change->field_count, DALA_MAX_FIELDS_PER_CHANGE);
    for (size_t i = 0; i < change->field_count; i++) {
        const dala_field *field = &change->fields[i];
        if (!field->name || !dala_name_is_valid(field->name, strlen(field->name)))
            return dala_error_set(DALA_EINVAL, "encode change of %s: field %zu has an invalid name",
                                  change->table, i);
        if (field->base_hlc >= change->hlc)
            return dala_error_set(DALA_EINVAL, "encode field %s.%s: base_hlc is not older than the "
                                               "change's hlc", change->table, field->name);
        int rc = dala_value_check(&field->value, field->name);
        if (rc) return rc;
    }
    return DALA_OK;
}

static int put_bytes(dala_buf *out, const void *bytes, size_t len)
{
    int rc = dala_buf_put_varint(out, len);
    return rc ? rc : dala_buf_append(out, bytes, len);
}

/* A base travels as 0 (no base) or as hlc - base, which is at least 1. */
static uint64_t base_delta(uint64_t hlc, uint64_t base)
{
    return base ? hlc - base : 0;
}

static int encode_change(dala_buf *out, const dala_change *change)
{
    uint64_t common_base = change->fields[0].base_hlc;
    int rc = put_bytes(out, change->table, strlen(change->table));
    if (!rc) rc = dala_buf_append(out, change->record_id, DALA_UUID_BYTES);
    if (!rc) rc = dala_buf_put_u64be(out, change->hlc);
    if (!rc) rc = dala_buf_put_varint(out, change->device_id);
    if (!rc) rc = dala_buf_put_varint(out, base_delta(change->hlc, common_base));
    if (!rc) rc = dala_buf_put_varint(out, change->field_count);
    for (size_t i = 0; !rc && i < change->field_count; i++) {
        const dala_field *field = &change->fields[i];
        int own_base = field->base_hlc != common_base;
        rc = put_bytes(out, field->name, strlen(field->name));
        if (!rc) rc = dala_buf_put_u8(out, (uint8_t)(field->value.type | (own_base ? TAG_OWN_BASE : 0)));
        if (!rc && own_base) rc = dala_buf_put_varint(out, base_delta(change->hlc, field->base_hlc));
        if (!rc) rc = dala_value_encode(out, &field->value);
    }
    return rc;
}

int dala_batch_encode(dala_buf *out, uint32_t schema_version, uint64_t batch_seq,
                      const dala_change *changes, size_t change_count)
{
    if (change_count > DALA_MAX_CHANGES_PER_BATCH)
        return dala_error_set(DALA_ELIMIT, "encode batch: %zu changes, more than %u", change_count,
                              DALA_MAX_CHANGES_PER_BATCH);
    if (change_count && !changes) return dala_error_set(DALA_EINVAL, "encode batch: no changes");
    for (size_t i = 0; i < change_count; i++) {
        int rc = check_change(&changes[i]);
        if (rc) return rc;
    }
    size_t start = out->len;
    int rc = dala_batch_encode_header(out, schema_version, batch_seq, change_count);
    for (size_t i = 0; !rc && i < change_count; i++) rc = encode_change(out, &changes[i]);
    if (rc) out->len = start;
    return rc;
}

static size_t decode_header(dala_reader *r, dala_batch *batch, size_t max_changes);

int dala_batch_encode_header(dala_buf *out, uint32_t schema_version, uint64_t batch_seq,
                             size_t count)
{
    if (count > DALA_MAX_CHANGES_PER_BATCH)
        return dala_error_set(DALA_ELIMIT, "encode batch: %zu changes, more than %u", count,
                              DALA_MAX_CHANGES_PER_BATCH);
    size_t start = out->len;
    int rc = dala_buf_put_u8(out, DALA_CODEC_VERSION);
    if (!rc) rc = dala_buf_put_varint(out, schema_version);
    if (!rc) rc = dala_buf_put_varint(out, batch_seq);
    if (!rc) rc = dala_buf_put_varint(out, count);
    if (rc) out->len = start;
    return rc;
}

int dala_batch_append_part(dala_buf *out, const uint8_t *part, size_t len)
{
    dala_reader r;
    dala_batch header;
    dala_reader_init(&r, part, len, "outbox part");
    size_t count = decode_header(&r, &header, 1);
    if (!r.err && count != 1) dala_reader_fail(&r, DALA_ECORRUPT, "a part must hold one change");
    if (r.err) return r.err;
    return dala_buf_append(out, r.pos, dala_reader_remaining(&r));
}

/* ---------------------------------------------------------------- decode */

/* Reads a name into the sink (NUL-terminated) or just checks it. */
static const char *decode_name(dala_reader *r, decode_sink *sink, decode_totals *totals,
                               const char *kind)
{
    size_t len;
    const uint8_t *bytes = dala_read_name(r, &len, kind);
    if (!bytes) return NULL;
    totals->name_bytes += (size_t)len + 1;
    if (!sink) return "";
    char *name = sink->names;
    memcpy(name, bytes, (size_t)len);
    name[len] = '\0';
    sink->names += len + 1;
    return name;
}

/* Reads a base encoded relative to `hlc`; see base_delta. */
static uint64_t decode_base(dala_reader *r, uint64_t hlc)
{
    uint64_t delta = dala_read_varint(r);
    if (r->err || delta == 0) return 0;
    if (delta >= hlc) {
        dala_reader_fail(r, DALA_ECORRUPT, "base is not older than the change (delta %llu)",
                         (unsigned long long)delta);
        return 0;
    }
    return hlc - delta;
}

static void decode_field(dala_reader *r, dala_field *field, decode_sink *sink,
                         decode_totals *totals, uint64_t hlc, uint64_t common_base, int is_first)
{
    const char *name = decode_name(r, sink, totals, "field name");
    uint8_t tag = dala_read_u8(r);
    if (r->err) return;
    if ((tag & ~(TAG_TYPE_MASK | TAG_OWN_BASE)) || (tag & TAG_TYPE_MASK) > DALA_VALUE_BLOB) {
        dala_reader_fail(r, DALA_ECORRUPT, "field tag 0x%02x has reserved bits or an unknown type",
                         tag);
        return;
    }
    uint64_t base = common_base;
    if (tag & TAG_OWN_BASE) {
        base = decode_base(r, hlc);
        if (!r->err && (is_first || base == common_base)) {
            dala_reader_fail(r, DALA_ECORRUPT, "redundant per-field base (non-canonical)");
            return;
        }
    }
    memset(field, 0, sizeof *field);
    field->name = name;
    field->base_hlc = base;
    field->value.type = (dala_value_type)(tag & TAG_TYPE_MASK);
    dala_value_decode(r, &field->value, name ? name : "?");
    if (sink && field->value.bytes) field->value.bytes = sink->copy + (field->value.bytes - sink->input);
}

static void decode_change(dala_reader *r, dala_change *change, decode_sink *sink,
                          decode_totals *totals)
{
    dala_change scratch;
    dala_field scratch_field;
    if (!change) change = &scratch;
    memset(change, 0, sizeof *change);
    change->table = decode_name(r, sink, totals, "table name");
    const uint8_t *id = dala_read_bytes(r, DALA_UUID_BYTES);
    if (id) memcpy(change->record_id, id, DALA_UUID_BYTES);
    change->hlc = dala_read_u64be(r);
    change->device_id = dala_read_varint(r);
    uint64_t common_base = decode_base(r, change->hlc);
    uint64_t count = dala_read_varint_max(r, DALA_MAX_FIELDS_PER_CHANGE, "field count");
    if (!r->err && count == 0) dala_reader_fail(r, DALA_ECORRUPT, "a change with no fields");
    if (!r->err && change->hlc == 0) dala_reader_fail(r, DALA_ECORRUPT, "a change with hlc 0");
    if (r->err) return;
    change->field_count = (size_t)count;
    change->fields = sink ? sink->fields : NULL;
    for (size_t i = 0; i < count && !r->err; i++) {
        dala_field *field = sink ? sink->fields++ : &scratch_field;
        decode_field(r, field, sink, totals, change->hlc, common_base, i == 0);
    }
    totals->fields += (size_t)count;
}

/* Reads the batch header; returns the change count. */
static size_t decode_header(dala_reader *r, dala_batch *batch, size_t max_changes)
{
    uint8_t version = dala_read_u8(r);
    if (!r->err && version != DALA_CODEC_VERSION) {
        dala_reader_fail(r, DALA_ESCHEMA, "codec version %u is not supported; this build reads %d",
                         version, DALA_CODEC_VERSION);
        return 0;
    }
    batch->schema_version = (uint32_t)dala_read_varint_max(r, UINT32_MAX, "schema version");
    batch->batch_seq = dala_read_varint(r);
    size_t limit = max_changes < DALA_MAX_CHANGES_PER_BATCH ? max_changes : DALA_MAX_CHANGES_PER_BATCH;
    size_t count = (size_t)dala_read_varint_max(r, limit, "change count");
    if (!r->err && count > dala_reader_remaining(r) / MIN_CHANGE_BYTES)
        dala_reader_fail(r, DALA_ECORRUPT, "truncated: %zu changes cannot fit in %zu bytes", count,
                         dala_reader_remaining(r));
    return count;
}

/* One pass over the input: checks it all (sink NULL) or fills the batch. */
static int decode_pass(dala_batch *batch, decode_sink *sink, decode_totals *totals,
                       const uint8_t *data, size_t len, size_t max_changes)
{
    dala_reader r;
    dala_reader_init(&r, data, len, "batch");
    size_t count = decode_header(&r, batch, max_changes);
    batch->change_count = count;
    for (size_t i = 0; i < count && !r.err; i++)
        decode_change(&r, sink ? &batch->changes[i] : NULL, sink, totals);
    if (!r.err && dala_reader_remaining(&r))
        dala_reader_fail(&r, DALA_ECORRUPT, "%zu trailing bytes after the last change",
                         dala_reader_remaining(&r));
    return r.err;
}

int dala_batch_decode(dala_batch **out, const uint8_t *data, size_t len, size_t max_changes)
{
    *out = NULL;
    dala_batch header = {0};
    decode_totals totals = {0, 0};
    int rc = decode_pass(&header, NULL, &totals, data, len, max_changes);
    if (rc) return rc;

    size_t changes_bytes = header.change_count * sizeof(dala_change);
    size_t fields_bytes = totals.fields * sizeof(dala_field);
    size_t total = sizeof(dala_batch) + changes_bytes + fields_bytes + len + totals.name_bytes;
    uint8_t *storage = dala_malloc(total);
    if (!storage) return dala_error_set(DALA_ENOMEM, "decode batch: cannot allocate %zu bytes", total);

    dala_batch *batch = (dala_batch *)storage;
    *batch = header;
    batch->storage = storage;
    batch->changes = (dala_change *)(storage + sizeof(dala_batch));
    decode_sink sink;
    sink.fields = (dala_field *)(storage + sizeof(dala_batch) + changes_bytes);
    uint8_t *copy = (uint8_t *)sink.fields + fields_bytes;
    if (len) memcpy(copy, data, len);
    sink.copy = copy;
    sink.input = data;
    sink.names = (char *)copy + len;
    totals.fields = totals.name_bytes = 0;
    rc = decode_pass(batch, &sink, &totals, data, len, max_changes);
    if (rc) { /* cannot happen: the first pass accepted the same bytes */
        free(storage);
        return rc;
    }
    *out = batch;
    return DALA_OK;
}

void dala_batch_free(dala_batch *batch)
{
    if (batch) free(batch->storage);
}
