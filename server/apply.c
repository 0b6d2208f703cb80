/* apply.c - applying a device's push in one transaction. The same batch
 * sent again (its number and digest those of the last one applied) is
 * answered again, never applied twice; any other batch is applied whatever
 * its number, since a change merged twice changes nothing, so no
 * disagreement about numbers can strand a device's changes. Each change is validated, scope-checked against the
 * device's unit and merged field by field into its record (under the
 * schema's merge policies: a concurrent edit of the risk level keeps the
 * higher risk, of a set the union, stamped with a server version when the
 * newer edit does not hold that value), each write takes the next
 * position in the unit's log, and every concurrent loser is kept as a
 * conflict record that syncs like any other. A refused change
 * is answered with its reason and never blocks the rest. */
#include "server_int.h"
#include "sync_int.h"

#include <mbedtls/sha256.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REASON 200
#define BATCH_DIGEST_BYTES 32

/* What one push needs while it runs. */
typedef struct apply_context {
    dala_server *server;
    server_conn *conn;
    const server_device *device;
    uint64_t next_seq; /* the unit log's next position */
    int64_t now;
    char today[11];            /* the latest date anywhere now (UTC+14): "not in the future" */
    uint32_t schema_version;   /* the batch's: its changes are checked by that version's rules */
    push_result *result;
    const dala_change *change; /* the change being applied */
    dala_record record;        /* scratch */
    dala_buf blob;             /* scratch */
    dala_buf history;          /* scratch: the changed fields' names */
} apply_context;

void push_result_free(push_result *result)
{
    free(result->rejected);
    dala_buf_free(&result->reasons);
    memset(result, 0, sizeof *result);
}

int server_device_load(server_device *out, server_conn *conn, int64_t device_id)
{
    sqlite3_stmt *stmt = server_stmt_get(conn, STMT_DEVICE_BY_ID);
    if (!stmt) return DALA_EIO;
    memset(out, 0, sizeof *out);
    sqlite3_bind_int64(stmt, 1, device_id);
    int step = sqlite3_step(stmt);
    /* Worded as a failed tag, so the answer does not tell which ids exist. */
    if (step == SQLITE_DONE)
        return dala_error_set(DALA_EAUTH, "sync: the frame does not open (unknown device or wrong key)");
    if (step != SQLITE_ROW || sqlite3_column_bytes(stmt, 2) != DALA_KEY_BYTES)
        return server_db_error(conn->db, "load device");
    out->id = device_id;
    out->user_id = sqlite3_column_int64(stmt, 0);
    out->unit_id = sqlite3_column_int64(stmt, 1);
    memcpy(out->public_key, sqlite3_column_blob(stmt, 2), DALA_KEY_BYTES);
    out->is_revoked = sqlite3_column_int(stmt, 3);
    out->is_lost = sqlite3_column_int(stmt, 4);
    sqlite3_reset(stmt);
    return DALA_OK;
}

/* Records that change `index` was refused and why. */
static int reject(apply_context *ctx, size_t index, int code, const char *reason)
{
    push_result *result = ctx->result;
    size_t len = strnlen(reason, MAX_REASON);
    dala_change_result *grown = realloc(result->rejected, (result->rejected_count + 1) * sizeof *grown);
    if (!grown) return dala_error_set(DALA_ENOMEM, "apply push: out of memory");
    result->rejected = grown;
    /* Offsets for now; turned into pointers once `reasons` stops moving. */
    grown[result->rejected_count++] = (dala_change_result){(uint32_t)index, code,
                                                            (const char *)(uintptr_t)result->reasons.len, len};
    return dala_buf_append(&result->reasons, reason, len);
}

static void fix_reason_pointers(push_result *result)
{
    for (size_t i = 0; i < result->rejected_count; i++)
        result->rejected[i].reason =
            (const char *)result->reasons.data + (uintptr_t)result->rejected[i].reason;
}

/* Writes a record row with the next log position, with the columns the
 * lists and the safety panel read (record_columns.c); `writer` is the
 * device of this write (0: the server). */
static int write_record(apply_context *ctx, const uint8_t id[16], const char *table, uint64_t seq,
                        int64_t writer)
{
    dala_buf_reset(&ctx->blob);
    int rc = dala_record_encode(&ctx->blob, &ctx->record);
    if (rc) return rc;
    sqlite3_stmt *stmt = server_stmt_get(ctx->conn, STMT_RECORD_UPSERT);
    if (!stmt) return DALA_EIO;
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, table, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, ctx->device->unit_id);
    sqlite3_bind_int64(stmt, 4, (int64_t)seq);
    sqlite3_bind_int64(stmt, 5, ctx->device->id);
    sqlite3_bind_int64(stmt, 6, ctx->now);
    sqlite3_bind_blob(stmt, 7, ctx->blob.data, (int)ctx->blob.len, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 8, writer);
    record_columns columns;
    server_record_columns(&columns, table, &ctx->record, ctx->now);
    server_record_columns_bind(stmt, 9, &columns);
    server_record_keys_bind(stmt, 14, &columns);
    if (writer) sqlite3_bind_int64(stmt, 13, ctx->device->user_id);
    else sqlite3_bind_null(stmt, 13);
    rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(ctx->conn->db, "write record");
    sqlite3_reset(stmt);
    return rc;
}

/* The integer `name` of a conflict record, or -1. */
static int64_t conflict_int(const dala_record *row, const char *name)
{
    const dala_record_field *field = dala_record_find(row, name);
    return field && field->value.type == DALA_VALUE_INT ? field->value.integer : -1;
}

/* Whether the server already keeps this losing version of the field as a
 * conflict of the record: a change merged again (a late copy of an old
 * batch) must not record its conflict twice. Conflicts are rare, so the
 * record's few conflict rows are read and decoded here. */
static int conflict_is_known(int *known, apply_context *ctx, const dala_record_conflict *conflict)
{
    sqlite3_stmt *stmt;
    *known = 0;
    if (sqlite3_prepare_v2(ctx->conn->db, "SELECT data FROM record WHERE about = ?1 AND tbl = '" DALA_TABLE_CONFLICT "'",
                           -1, &stmt, NULL))
        return server_db_error(ctx->conn->db, "read conflicts");
    sqlite3_bind_blob(stmt, 1, ctx->change->record_id, DALA_UUID_BYTES, SQLITE_STATIC);
    dala_record row = DALA_RECORD_INIT;
    int rc = DALA_OK, step;
    while (!rc && !*known && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        rc = dala_record_decode(&row, sqlite3_column_blob(stmt, 0), (size_t)sqlite3_column_bytes(stmt, 0));
        const dala_record_field *field = rc ? NULL : dala_record_find(&row, "field");
        *known = field && field->value.type == DALA_VALUE_TEXT && field->value.len == strlen(conflict->field) &&
                 memcmp(field->value.bytes, conflict->field, field->value.len) == 0 &&
                 conflict_int(&row, "loser_hlc") == (int64_t)conflict->loser.hlc &&
                 conflict_int(&row, "loser_device") == (int64_t)conflict->loser.device_id;
        dala_record_clear(&row);
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Whether the incoming change's edit of `field` is history rather than a
 * concurrent edit: its own version was once the record's (it was merged
 * before, and a later write replaced it), or its device wrote the field
 * again later (a device writes a field knowing its own last write). Both
 * meet a change merged a second time, from a late copy of an old batch:
 * its loss is no conflict, and no merge policy may bring its value back
 * (dala_merge_hooks.is_history). */
static int change_is_history(void *context, int *is_history, const char *field)
{
    apply_context *ctx = context;
    sqlite3_stmt *stmt;
    *is_history = 0;
    if (sqlite3_prepare_v2(ctx->conn->db, "SELECT 1 FROM record_change WHERE record_id = ?1 AND device_id = ?2 "
                           "AND hlc >= ?3 AND instr(',' || fields || ',', ',' || ?4 || ',') > 0 LIMIT 1",
                           -1, &stmt, NULL))
        return server_db_error(ctx->conn->db, "read a record's history");
    sqlite3_bind_blob(stmt, 1, ctx->change->record_id, DALA_UUID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, (int64_t)ctx->change->device_id);
    sqlite3_bind_int64(stmt, 3, (int64_t)ctx->change->hlc);
    sqlite3_bind_text(stmt, 4, field, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt), rc = DALA_OK;
    if (step == SQLITE_ROW) *is_history = 1;
    else if (step != SQLITE_DONE) rc = server_db_error(ctx->conn->db, "read a record's history");
    sqlite3_finalize(stmt);
    return rc;
}

/* Keeps a concurrent loser as a conflict record of the server's, once. Not
 * a conflict: two versions of one device (a device writes a field again
 * knowing its own last write), a losing change that is history
 * (change_is_history), a loser already kept. A value a merge policy
 * settled on is the server's (device 0), and the loser it displaced may be
 * the server's too (an earlier settled value, a supervisor's edit): that
 * is a conflict all the same. */
static int keep_conflict(void *context, const dala_record_conflict *conflict)
{
    apply_context *ctx = context;
    if (conflict->winner.device_id == conflict->loser.device_id && conflict->winner.device_id != 0) return DALA_OK;
    int skip = 0, rc = DALA_OK;
    if (conflict->loser.hlc == ctx->change->hlc && conflict->loser.device_id == ctx->change->device_id)
        rc = change_is_history(ctx, &skip, conflict->field);
    if (!rc && !skip) rc = conflict_is_known(&skip, ctx, conflict);
    if (rc || skip) return rc;
    dala_record saved = ctx->record; /* the record being merged; restored below */
    uint8_t id[DALA_UUID_BYTES];
    char record_id[DALA_UUID_TEXT_LEN + 1];
    rc = dala_uuid_v7(id, (uint64_t)ctx->now * 1000);
    if (rc) return rc;
    dala_uuid_format(record_id, ctx->change->record_id);
    dala_version version = {server_hlc_now(ctx->server), 0};
    uint64_t seq = ctx->next_seq++;
    dala_record row = DALA_RECORD_INIT;
    const struct {
        const char *name;
        dala_value value;
    } fields[] = {
        {"record_id", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)record_id, DALA_UUID_TEXT_LEN}},
        {"record_table", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)ctx->change->table, strlen(ctx->change->table)}},
        {"field", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)conflict->field, strlen(conflict->field)}},
        {"winner_hlc", {DALA_VALUE_INT, (int64_t)conflict->winner.hlc, 0, NULL, 0}},
        {"winner_device", {DALA_VALUE_INT, (int64_t)conflict->winner.device_id, 0, NULL, 0}},
        {"loser_hlc", {DALA_VALUE_INT, (int64_t)conflict->loser.hlc, 0, NULL, 0}},
        {"loser_device", {DALA_VALUE_INT, (int64_t)conflict->loser.device_id, 0, NULL, 0}},
        {"winner_value", *conflict->winner_value},
        {"loser_value", *conflict->loser_value},
        {"status", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"open", 4}},
    };
    for (size_t i = 0; !rc && i < sizeof fields / sizeof fields[0]; i++)
        rc = dala_record_set(&row, fields[i].name, &fields[i].value, &version, seq);
    ctx->record = row;
    if (!rc) rc = write_record(ctx, id, DALA_TABLE_CONFLICT, seq, 0);
    dala_record_clear(&row);
    ctx->record = saved;
    return rc;
}

/* dala_merge_hooks.fresh_version: a version of the server's (device 0)
 * for a value a merge policy settled on, newer than `above` so that every
 * tablet takes it. The server clock is past every change it received since
 * it started; a field version from before a restart with the clock set
 * back is passed by one. */
static int fresh_version(void *context, dala_version *out, const dala_version *above)
{
    apply_context *ctx = context;
    uint64_t hlc = server_hlc_now(ctx->server);
    if (hlc <= above->hlc) {
        if (above->hlc == UINT64_MAX)
            return dala_error_set(DALA_ECLOCK, "merge: no version is newer than the field's");
        hlc = above->hlc + 1;
    }
    *out = (dala_version){hlc, 0};
    return DALA_OK;
}

/* Loads the stored record of a change; *exists says whether there is one.
 * A record of another unit or another table refuses the change. */
static int load_record(apply_context *ctx, int *exists, char *reason, size_t reason_size)
{
    sqlite3_stmt *stmt = server_stmt_get(ctx->conn, STMT_RECORD_GET);
    if (!stmt) return DALA_EIO;
    sqlite3_bind_blob(stmt, 1, ctx->change->record_id, DALA_UUID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(stmt), rc = DALA_OK;
    *exists = step == SQLITE_ROW;
    dala_record_clear(&ctx->record);
    if (step == SQLITE_ROW) {
        if (sqlite3_column_int64(stmt, 1) != ctx->device->unit_id) {
            snprintf(reason, reason_size, "the record is outside this device's unit");
            rc = DALA_EAUTH;
        } else if (strcmp((const char *)sqlite3_column_text(stmt, 0), ctx->change->table) != 0) {
            snprintf(reason, reason_size, "the record id belongs to another table");
            rc = DALA_EINVAL;
        } else {
            rc = dala_record_decode(&ctx->record, sqlite3_column_blob(stmt, 2),
                                    (size_t)sqlite3_column_bytes(stmt, 2));
        }
    } else if (step != SQLITE_DONE) {
        rc = server_db_error(ctx->conn->db, "read record");
    }
    sqlite3_reset(stmt);
    return rc;
}

/* Checks a change's claim of unit or officer against the device's. */
static int check_claims(apply_context *ctx, char *reason, size_t reason_size)
{
    for (size_t i = 0; i < ctx->change->field_count; i++) {
        const dala_field *field = &ctx->change->fields[i];
        int64_t own = strcmp(field->name, "unit_id") == 0      ? ctx->device->unit_id
                      : strcmp(field->name, "officer_id") == 0 ? ctx->device->user_id
                                                               : -1;
        if (own >= 0 && field->value.integer != own) {
            snprintf(reason, reason_size, "%s.%s: not this device's", ctx->change->table, field->name);
            return DALA_EAUTH;
        }
    }
    return DALA_OK;
}

/* dala_check_env.record_exists: a reference must name a record in sight. */
static int referenced_exists(void *context, const char *table, const char *id)
{
    apply_context *ctx = context;
    return server_record_in_sight(NULL, ctx->conn, ctx->device, table, id);
}

/* dala_check_env.form_definition: the published form a response names. */
static int published_form(void *context, const char *form_id, char **out)
{
    apply_context *ctx = context;
    dala_record form = DALA_RECORD_INIT;
    *out = NULL;
    int rc = server_record_in_sight(&form, ctx->conn, ctx->device, "survey_form", form_id);
    const dala_record_field *definition = rc == 1 ? dala_record_find(&form, "definition") : NULL;
    if (rc >= 0) rc = definition && definition->value.type == DALA_VALUE_TEXT ? DALA_OK : DALA_ENOTFOUND;
    if (!rc && !(*out = strndup((const char *)definition->value.bytes, definition->value.len)))
        rc = dala_error_set(DALA_ENOMEM, "read a published form");
    dala_record_clear(&form);
    return rc;
}

/* Checks a change with the domain's rules of the batch's schema version;
 * a refusal fills `reason` and returns DALA_EINVAL. */
static int check_change(apply_context *ctx, int exists, char *reason, size_t reason_size)
{
    dala_check_env env = {ctx->today, ctx->schema_version, 0, exists ? &ctx->record : NULL,
                          referenced_exists, published_form, ctx};
    dala_invalid invalid;
    int rc = dala_change_check(&invalid, ctx->change, &env);
    if (rc == DALA_EINVAL) dala_invalid_format(reason, reason_size, &invalid);
    return rc;
}

/* Applies one change; a refusal is recorded, not returned. */
static int apply_change(apply_context *ctx, size_t index)
{
    char reason[MAX_REASON] = "";
    int exists = 0, rc;
    if (ctx->change->device_id != (uint64_t)ctx->device->id) {
        snprintf(reason, sizeof reason, "the change names device %llu, but device %lld sent it",
                 (unsigned long long)ctx->change->device_id, (long long)ctx->device->id);
        return reject(ctx, index, DALA_EAUTH, reason);
    }
    if (server_hlc_receive(ctx->server, ctx->change->hlc)) {
        snprintf(reason, sizeof reason, "the device's clock is too far ahead of the server's");
        return reject(ctx, index, DALA_ECLOCK, reason);
    }
    rc = load_record(ctx, &exists, reason, sizeof reason);
    if (rc == DALA_EAUTH || (rc == DALA_EINVAL && reason[0])) return reject(ctx, index, rc, reason);
    if (rc) return rc;
    /* Validation first: a claim must have the right type before its value is read. */
    rc = check_change(ctx, exists, reason, sizeof reason);
    if (!rc) rc = check_claims(ctx, reason, sizeof reason);
    if (rc == DALA_EINVAL || rc == DALA_EAUTH) return reject(ctx, index, rc, reason);
    if (rc) return rc;
    uint64_t seq = ctx->next_seq++;
    size_t changed = 0;
    /* The merge policies of the domain this server runs (they settle values, not what a writer may send). */
    dala_merge_hooks hooks = {dala_domain_table(dala_domain_get(), ctx->change->table), fresh_version,
                              change_is_history, ctx};
    rc = dala_record_apply_policies(&changed, &ctx->record, ctx->change, seq, keep_conflict, ctx, &hooks);
    if (rc) return rc;
    if (!changed && exists) {
        if (ctx->next_seq == seq + 1) ctx->next_seq = seq; /* nothing written (a duplicate): the position is given back */
        return DALA_OK;
    }
    rc = write_record(ctx, ctx->change->record_id, ctx->change->table, seq, ctx->device->id);
    sqlite3_stmt *history = rc ? NULL : server_stmt_get(ctx->conn, STMT_HISTORY_ADD);
    if (!rc) rc = history ? server_history_add(history, ctx->change->record_id, (int64_t)seq, ctx->now, ctx->device->id,
                                               ctx->change->hlc,
                                               ctx->change->fields, ctx->change->field_count, &ctx->history)
                          : DALA_EIO;
    return rc;
}

static int read_next_seq(apply_context *ctx)
{
    sqlite3_stmt *stmt = server_stmt_get(ctx->conn, STMT_UNIT_NEXT_SEQ);
    if (!stmt) return DALA_EIO;
    sqlite3_bind_int64(stmt, 1, ctx->device->unit_id);
    int rc = sqlite3_step(stmt) == SQLITE_ROW ? DALA_OK : server_db_error(ctx->conn->db, "read unit log");
    ctx->next_seq = (uint64_t)sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
    return rc;
}

/* Stores the unit log position, and the batch's number, digest and
 * refusals, so that the same batch sent again is answered from them. */
static int finish_batch(apply_context *ctx, uint64_t batch_seq, const uint8_t digest[BATCH_DIGEST_BYTES])
{
    sqlite3_stmt *stmt = server_stmt_get(ctx->conn, STMT_UNIT_SET_NEXT_SEQ);
    if (!stmt) return DALA_EIO;
    sqlite3_bind_int64(stmt, 1, ctx->device->unit_id);
    sqlite3_bind_int64(stmt, 2, (int64_t)ctx->next_seq);
    int rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(ctx->conn->db, "advance unit log");
    sqlite3_reset(stmt);
    if (rc) return rc;
    dala_sync_response refusals;
    memset(&refusals, 0, sizeof refusals);
    refusals.rejected_count = ctx->result->rejected_count;
    refusals.rejected = ctx->result->rejected;
    dala_buf_reset(&ctx->blob);
    fix_reason_pointers(ctx->result);
    rc = dala_sync_response_encode(&ctx->blob, &refusals);
    if (rc || !(stmt = server_stmt_get(ctx->conn, STMT_DEVICE_SET_BATCH))) return rc ? rc : DALA_EIO;
    sqlite3_bind_int64(stmt, 1, ctx->device->id);
    sqlite3_bind_int64(stmt, 2, (int64_t)batch_seq);
    sqlite3_bind_blob(stmt, 3, ctx->blob.data, (int)ctx->blob.len, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 4, digest, BATCH_DIGEST_BYTES, SQLITE_STATIC);
    rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(ctx->conn->db, "record batch");
    sqlite3_reset(stmt);
    return rc;
}

/* Inside the push's write transaction, so two copies of one request (a
 * duplicating proxy, a retry) are decided one after the other: whether
 * this batch is the one last applied for the device (same number, same
 * digest); if so, fills `result` with that batch's stored refusals and
 * sets *is_repeat. */
static int find_repeat(int *is_repeat, push_result *result, server_conn *conn, const server_device *device,
                       uint64_t batch_seq, const uint8_t digest[BATCH_DIGEST_BYTES])
{
    sqlite3_stmt *stmt = server_stmt_get(conn, STMT_DEVICE_LAST_BATCH);
    if (!stmt) return DALA_EIO;
    *is_repeat = 0;
    sqlite3_bind_int64(stmt, 1, device->id);
    int step = sqlite3_step(stmt), rc = DALA_OK;
    if (step != SQLITE_ROW) rc = server_db_error(conn->db, "read last batch");
    if (!rc && (uint64_t)sqlite3_column_int64(stmt, 0) == batch_seq &&
        sqlite3_column_bytes(stmt, 1) == BATCH_DIGEST_BYTES &&
        memcmp(sqlite3_column_blob(stmt, 1), digest, BATCH_DIGEST_BYTES) == 0) {
        *is_repeat = 1;
        if (sqlite3_column_bytes(stmt, 2) > 0) {
            dala_sync_response stored;
            rc = dala_sync_response_decode(&stored, sqlite3_column_blob(stmt, 2),
                                           (size_t)sqlite3_column_bytes(stmt, 2));
            for (size_t i = 0; !rc && i < stored.rejected_count; i++) {
                const dala_change_result *r = &stored.rejected[i];
                apply_context ctx = {.result = result};
                char reason[MAX_REASON + 1];
                snprintf(reason, sizeof reason, "%.*s", (int)r->reason_len, r->reason);
                rc = reject(&ctx, r->index, r->code, reason);
            }
            dala_sync_response_clear(&stored);
            fix_reason_pointers(result);
        }
    }
    sqlite3_reset(stmt);
    return rc;
}

/* What tells one batch from another with the same number: SHA-256 over
 * each change's record, version and field names. A device stamps every
 * write with a new version, so two batches with equal digests carry the
 * same writes; hashing these few bytes, not the values, keeps the cost of
 * a push of 1,000 records under a tenth of a millisecond. */
static int batch_digest(uint8_t digest[BATCH_DIGEST_BYTES], const dala_batch *batch)
{
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    int rc = mbedtls_sha256_starts_ret(&sha, 0);
    for (size_t i = 0; !rc && i < batch->change_count; i++) {
        const dala_change *change = &batch->changes[i];
        uint8_t version[16];
        dala_store_u64be(version, change->hlc);
        dala_store_u64be(version + 8, change->device_id);
        rc = mbedtls_sha256_update_ret(&sha, change->record_id, DALA_UUID_BYTES);
        if (!rc) rc = mbedtls_sha256_update_ret(&sha, version, sizeof version);
        for (size_t f = 0; !rc && f < change->field_count; f++)
            rc = mbedtls_sha256_update_ret(&sha, (const uint8_t *)change->fields[f].name,
                                           strlen(change->fields[f].name) + 1);
    }
    if (!rc) rc = mbedtls_sha256_finish_ret(&sha, digest);
    mbedtls_sha256_free(&sha);
    return rc ? dala_error_set(DALA_ECRYPTO, "sync: hashing the push failed") : DALA_OK;
}

/* Checks what a batch says of itself before anything is applied. */
static int check_batch(const dala_batch *batch)
{
    if (batch->change_count && (batch->schema_version < dala_schema_oldest() ||
                                batch->schema_version > dala_schema_version()))
        return dala_error_set(DALA_ESCHEMA, "sync: the push is of schema version %u; this server accepts %u to %u",
                              batch->schema_version, dala_schema_oldest(), dala_schema_version());
    if (batch->change_count && batch->batch_seq == 0)
        return dala_error_set(DALA_ECORRUPT, "sync: a push of changes needs a batch number above 0");
    return DALA_OK;
}

/* Applies every change of the batch and records it as the last one. */
static int apply_batch(apply_context *ctx, const dala_batch *batch, const uint8_t digest[BATCH_DIGEST_BYTES])
{
    int rc = read_next_seq(ctx);
    for (size_t i = 0; !rc && i < batch->change_count; i++) {
        ctx->change = &batch->changes[i];
        rc = apply_change(ctx, i);
    }
    return rc ? rc : finish_batch(ctx, batch->batch_seq, digest);
}

int server_apply_push(push_result *result, dala_server *server, server_conn *conn,
                      const server_device *device, const uint8_t *push, size_t push_len)
{
    memset(result, 0, sizeof *result);
    if (push_len == 0) return DALA_OK; /* a pull only */
    dala_batch *batch = NULL;
    int rc = dala_batch_decode(&batch, push, push_len, DALA_MAX_CHANGES_PER_BATCH);
    if (!rc) rc = check_batch(batch);
    if (rc || batch->change_count == 0) {
        dala_batch_free(batch);
        return rc;
    }
    uint8_t digest[BATCH_DIGEST_BYTES];
    rc = batch_digest(digest, batch);
    if (rc) {
        dala_batch_free(batch);
        return rc;
    }
    apply_context ctx = {.server = server, .conn = conn, .device = device, .result = result};
    ctx.record = (dala_record)DALA_RECORD_INIT;
    time_t now = time(NULL), latest = now + 14 * 3600;
    struct tm tm;
    gmtime_r(&latest, &tm);
    strftime(ctx.today, sizeof ctx.today, "%Y-%m-%d", &tm);
    ctx.now = (int64_t)now;
    ctx.schema_version = batch->schema_version;
    int is_repeat = 0;
    rc = server_db_begin(conn->db);
    if (!rc) rc = find_repeat(&is_repeat, result, conn, device, batch->batch_seq, digest);
    if (!rc && !is_repeat) rc = apply_batch(&ctx, batch, digest);
    if (!rc) rc = server_db_commit(conn->db);
    if (rc) {
        server_db_rollback(conn->db);
        push_result_free(result);
    } else {
        result->acked_batch_seq = batch->batch_seq;
    }
    dala_record_clear(&ctx.record);
    dala_buf_free(&ctx.blob);
    dala_buf_free(&ctx.history);
    dala_batch_free(batch);
    return rc;
}
