/* record.c - a record as the server and the tablet both store it: its
 * fields in name order, each with its value, the version (hlc, device)
 * that wrote it and the unit-log position where it last changed; and the
 * merge of an incoming change into it, field by field.
 *
 * The stored blob (docs/protocol.md, "Record blob") names one default
 * version, that of the latest write, and gives a version only to the
 * fields that differ from it, so a record that was written once or edited
 * whole costs no per-field version bytes.
 *
 * The merge (dala_record_apply) takes each field of a change through
 * dala_merge_decide: a fast-forward or a win sets it, a win over a
 * concurrent version and a loss each report a conflict. With the fields'
 * merge policies (dala_record_apply_policies, the server's), a concurrent
 * edit of a field whose policy is HIGHEST or UNION is settled by
 * dala_merge_settle, unless the caller says the edit is history (a late
 * copy of a change merged before, which must not bring its value back).
 * When the settled value is not the newer version's, the field takes it
 * with a fresh version of the caller's, newer than both: devices take a
 * pulled field only when its version is newer than theirs, and a device's
 * next edit based on its own version stays concurrent with the settled
 * value instead of passing for an edit on top of it. The pure decision
 * stays here; storage, history and the clock are the caller's hooks. */
#include "sync_int.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_BLOB_VERSION 1
#define TAG_TYPE_MASK 0x07u
#define TAG_OWN_VERSION 0x08u
#define MAX_RECORD_FIELDS 1024u

void dala_record_clear(dala_record *record)
{
    if (!record) return;
    for (size_t i = 0; i < record->field_count; i++) {
        free(record->fields[i].name);
        free((void *)record->fields[i].value.bytes);
    }
    free(record->fields);
    record->fields = NULL;
    record->field_count = record->alloc = 0;
}

/* Index of `name`, or of where it would go (*found says which). */
static size_t field_position(const dala_record *record, const char *name, int *found)
{
    size_t low = 0, high = record->field_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int cmp = strcmp(record->fields[mid].name, name);
        if (cmp == 0) {
            *found = 1;
            return mid;
        }
        if (cmp < 0) low = mid + 1;
        else high = mid;
    }
    *found = 0;
    return low;
}

dala_record_field *dala_record_find(const dala_record *record, const char *name)
{
    int found;
    size_t i = field_position(record, name, &found);
    return found ? &record->fields[i] : NULL;
}

/* Copies a value's bytes (if any) into fresh memory. */
static int copy_value(dala_value *out, const dala_value *value)
{
    *out = *value;
    out->bytes = NULL;
    if (value->type != DALA_VALUE_TEXT && value->type != DALA_VALUE_BLOB) return DALA_OK;
    uint8_t *bytes = dala_malloc(value->len ? value->len : 1);
    if (!bytes) return dala_error_set(DALA_ENOMEM, "set field: out of memory for %zu bytes", value->len);
    if (value->len) memcpy(bytes, value->bytes, value->len);
    out->bytes = bytes;
    return DALA_OK;
}

static int insert_field(dala_record *record, size_t at, const char *name)
{
    if (record->field_count >= MAX_RECORD_FIELDS)
        return dala_error_set(DALA_ELIMIT, "set field %s: a record holds at most %u fields", name,
                              MAX_RECORD_FIELDS);
    if (record->field_count == record->alloc) {
        size_t alloc = record->alloc ? record->alloc * 2 : 16;
        dala_record_field *fields = dala_realloc(record->fields, alloc * sizeof *fields);
        if (!fields) return dala_error_set(DALA_ENOMEM, "set field %s: out of memory", name);
        record->fields = fields;
        record->alloc = alloc;
    }
    char *copy = dala_strdup(name);
    if (!copy) return dala_error_set(DALA_ENOMEM, "set field %s: out of memory", name);
    memmove(&record->fields[at + 1], &record->fields[at],
            (record->field_count - at) * sizeof *record->fields);
    memset(&record->fields[at], 0, sizeof record->fields[at]);
    record->fields[at].name = copy;
    record->field_count++;
    return DALA_OK;
}

int dala_record_set(dala_record *record, const char *name, const dala_value *value,
                    const dala_version *version, uint64_t seq)
{
    if (!dala_name_is_valid(name, strlen(name)))
        return dala_error_set(DALA_EINVAL, "set field: invalid name");
    int rc = dala_value_check(value, name);
    if (rc) return rc;
    dala_value copy;
    rc = copy_value(&copy, value);
    if (rc) return rc;
    int found;
    size_t at = field_position(record, name, &found);
    if (!found && (rc = insert_field(record, at, name))) {
        free((void *)copy.bytes);
        return rc;
    }
    dala_record_field *field = &record->fields[at];
    free((void *)field->value.bytes);
    field->value = copy;
    field->version = *version;
    field->seq = seq;
    return DALA_OK;
}

/* --- the blob --------------------------------------------------------------- */

/* The default version: that of the latest write (greatest version). */
static const dala_record_field *latest_field(const dala_record *record)
{
    const dala_record_field *latest = NULL;
    for (size_t i = 0; i < record->field_count; i++)
        if (!latest || dala_version_compare(&record->fields[i].version, &latest->version) > 0)
            latest = &record->fields[i];
    return latest;
}

static int same_stamp(const dala_record_field *a, const dala_record_field *b)
{
    return a->version.hlc == b->version.hlc && a->version.device_id == b->version.device_id &&
           a->seq == b->seq;
}

int dala_record_encode(dala_buf *out, const dala_record *record)
{
    static const dala_record_field none = {NULL, {DALA_VALUE_NULL, 0, 0, NULL, 0}, {0, 0}, 0};
    const dala_record_field *latest = latest_field(record);
    if (!latest) latest = &none;
    size_t start = out->len;
    int rc = dala_buf_put_u8(out, RECORD_BLOB_VERSION);
    if (!rc) rc = dala_buf_put_u64be(out, latest->version.hlc);
    if (!rc) rc = dala_buf_put_varint(out, latest->version.device_id);
    if (!rc) rc = dala_buf_put_varint(out, latest->seq);
    if (!rc) rc = dala_buf_put_varint(out, record->field_count);
    for (size_t i = 0; !rc && i < record->field_count; i++) {
        const dala_record_field *field = &record->fields[i];
        int own = !same_stamp(field, latest);
        size_t name_len = strlen(field->name);
        rc = dala_buf_put_varint(out, name_len);
        if (!rc) rc = dala_buf_append(out, field->name, name_len);
        if (!rc) rc = dala_buf_put_u8(out, (uint8_t)(field->value.type | (own ? TAG_OWN_VERSION : 0)));
        if (!rc && own) {
            rc = dala_buf_put_u64be(out, field->version.hlc);
            if (!rc) rc = dala_buf_put_varint(out, field->version.device_id);
            if (!rc) rc = dala_buf_put_varint(out, field->seq);
        }
        if (!rc) rc = dala_value_encode(out, &field->value);
    }
    if (rc) out->len = start;
    return rc;
}

/* Reads one field of a blob and sets it in `out`; names must ascend. */
static void decode_record_field(dala_reader *r, dala_record *out, const dala_record_field *stamp)
{
    size_t name_len;
    const uint8_t *name_bytes = dala_read_name(r, &name_len, "field name");
    uint8_t tag = dala_read_u8(r);
    if (r->err) return;
    if ((tag & ~(TAG_TYPE_MASK | TAG_OWN_VERSION)) || (tag & TAG_TYPE_MASK) > DALA_VALUE_BLOB) {
        dala_reader_fail(r, DALA_ECORRUPT, "field tag 0x%02x has reserved bits or an unknown type", tag);
        return;
    }
    char name[DALA_MAX_NAME_BYTES + 1];
    memcpy(name, name_bytes, name_len);
    name[name_len] = '\0';
    if (out->field_count && strcmp(out->fields[out->field_count - 1].name, name) >= 0) {
        dala_reader_fail(r, DALA_ECORRUPT, "field %s is out of order or repeated", name);
        return;
    }
    dala_record_field field = *stamp;
    if (tag & TAG_OWN_VERSION) {
        field.version.hlc = dala_read_u64be(r);
        field.version.device_id = dala_read_varint(r);
        field.seq = dala_read_varint(r);
        if (!r->err && same_stamp(&field, stamp)) {
            dala_reader_fail(r, DALA_ECORRUPT, "field %s repeats the default version (non-canonical)", name);
            return;
        }
    }
    field.value.type = (dala_value_type)(tag & TAG_TYPE_MASK);
    dala_value_decode(r, &field.value, name);
    if (r->err) return;
    int rc = dala_record_set(out, name, &field.value, &field.version, field.seq);
    if (rc) dala_reader_fail(r, rc, "%s", dala_errmsg());
}

int dala_record_decode(dala_record *out, const uint8_t *data, size_t len)
{
    dala_reader r;
    dala_record_field stamp;
    memset(&stamp, 0, sizeof stamp);
    dala_record_clear(out);
    dala_reader_init(&r, data, len, "record");
    uint8_t version = dala_read_u8(&r);
    if (!r.err && version != RECORD_BLOB_VERSION)
        dala_reader_fail(&r, DALA_ESCHEMA, "record blob version %u is not supported", version);
    stamp.version.hlc = dala_read_u64be(&r);
    stamp.version.device_id = dala_read_varint(&r);
    stamp.seq = dala_read_varint(&r);
    size_t count = (size_t)dala_read_varint_max(&r, MAX_RECORD_FIELDS, "field count");
    for (size_t i = 0; i < count && !r.err; i++) decode_record_field(&r, out, &stamp);
    if (!r.err && dala_reader_remaining(&r))
        dala_reader_fail(&r, DALA_ECORRUPT, "%zu trailing bytes", dala_reader_remaining(&r));
    const dala_record_field *latest = r.err ? NULL : latest_field(out);
    if (latest && !same_stamp(latest, &stamp))
        dala_reader_fail(&r, DALA_ECORRUPT, "the default version is not the latest (non-canonical)");
    if (r.err) dala_record_clear(out);
    return r.err;
}

/* --- merge ------------------------------------------------------------------ */

static int report(dala_conflict_fn on_conflict, void *context, const char *field,
                  const dala_version *winner, const dala_value *winner_value,
                  const dala_version *loser, const dala_value *loser_value)
{
    if (!on_conflict) return DALA_OK;
    dala_record_conflict conflict = {field, *winner, *loser, winner_value, loser_value};
    return on_conflict(context, &conflict);
}

/* What one dala_record_apply_policies call works with. */
typedef struct merge_run {
    dala_record *record;
    uint64_t seq;
    dala_conflict_fn on_conflict;
    void *context;
    const dala_merge_hooks *hooks;
    dala_buf joined; /* a union's value */
} merge_run;

/* Settles a concurrent edit of a field by its policy. Sets *is_settled
 * when the policy put a value the newer version does not hold (then the
 * field is set and the conflict reported); leaves it 0 when the plain rule
 * stands: the edit is history, or the newer version's value won. */
static int settle_concurrent(int *is_settled, merge_run *run, const dala_field_def *def,
                             dala_record_field *current, const dala_field *field, const dala_version *incoming)
{
    const dala_merge_hooks *hooks = run->hooks;
    *is_settled = 0;
    int is_history = 0, rc = DALA_OK;
    if (hooks->is_history) rc = hooks->is_history(hooks->context, &is_history, field->name);
    if (rc || is_history) return rc;
    const dala_merge_side ours = {&current->value, current->version}, theirs = {&field->value, *incoming};
    const dala_merge_side *newer = dala_version_compare(incoming, &current->version) > 0 ? &theirs : &ours;
    const dala_merge_side *older = newer == &ours ? &theirs : &ours, *stands;
    rc = dala_merge_settle(&stands, &run->joined, def, &ours, &theirs);
    if (rc || stands == newer) return rc;

    dala_version fresh;
    assert(hooks->fresh_version != NULL);
    rc = hooks->fresh_version(hooks->context, &fresh, &newer->version);
    if (rc) return rc;
    if (dala_version_compare(&fresh, &newer->version) <= 0)
        return dala_error_set(DALA_ECLOCK,
                              "merge %s: the settled value's version (%" PRIu64 ", %" PRIu64
                              ") is not newer than (%" PRIu64 ", %" PRIu64 ")",
                              field->name, fresh.hlc, fresh.device_id, newer->version.hlc,
                              newer->version.device_id);
    dala_value joined = {DALA_VALUE_TEXT, 0, 0, run->joined.data, run->joined.len};
    const dala_value *settled = stands ? stands->value : &joined;
    const dala_merge_side *loser = stands ? newer : older;
    /* Reported first: the values are borrowed from the record's field. */
    rc = report(run->on_conflict, run->context, field->name, &fresh, settled, &loser->version, loser->value);
    if (!rc) rc = dala_record_set(run->record, field->name, settled, &fresh, run->seq);
    *is_settled = !rc;
    return rc;
}

/* Merges one field of a change; *changed says whether it took a value. */
static int apply_field(int *changed, merge_run *run, const dala_field *field, const dala_version *incoming)
{
    dala_record_field *current = dala_record_find(run->record, field->name);
    dala_merge_outcome outcome =
        dala_merge_decide(current ? &current->version : NULL, incoming, field->base_hlc);
    int rc = DALA_OK;
    *changed = 0;
    const dala_field_def *def = run->hooks ? dala_domain_field(run->hooks->table, field->name) : NULL;
    if (current && def && def->merge != DALA_MERGE_NEWEST &&
        (outcome == DALA_MERGE_WINS || outcome == DALA_MERGE_LOSES)) {
        rc = settle_concurrent(changed, run, def, current, field, incoming);
        if (rc || *changed) return rc;
    }
    if (outcome == DALA_MERGE_LOSES)
        rc = report(run->on_conflict, run->context, field->name, &current->version, &current->value, incoming,
                    &field->value);
    else if (outcome == DALA_MERGE_WINS && current)
        rc = report(run->on_conflict, run->context, field->name, incoming, &field->value, &current->version,
                    &current->value);
    if (!rc && (outcome == DALA_MERGE_FAST_FORWARD || outcome == DALA_MERGE_WINS)) {
        rc = dala_record_set(run->record, field->name, &field->value, incoming, run->seq);
        *changed = !rc;
    }
    return rc;
}

int dala_record_apply_policies(size_t *changed_out, dala_record *record, const dala_change *change,
                               uint64_t seq, dala_conflict_fn on_conflict, void *context,
                               const dala_merge_hooks *hooks)
{
    merge_run run = {record, seq, on_conflict, context, hooks && hooks->table ? hooks : NULL, DALA_BUF_INIT};
    dala_version incoming = {change->hlc, change->device_id};
    size_t changed = 0;
    int rc = DALA_OK;
    for (size_t i = 0; !rc && i < change->field_count; i++) {
        int is_changed = 0;
        rc = apply_field(&is_changed, &run, &change->fields[i], &incoming);
        changed += (size_t)is_changed;
    }
    dala_buf_free(&run.joined);
    if (!rc && changed_out) *changed_out = changed;
    return rc;
}

int dala_record_apply(size_t *changed_out, dala_record *record, const dala_change *change,
                      uint64_t seq, dala_conflict_fn on_conflict, void *context)
{
    return dala_record_apply_policies(changed_out, record, change, seq, on_conflict, context, NULL);
}
