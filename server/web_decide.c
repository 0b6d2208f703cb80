/* web_decide.c - what supervisors decide: approving a record or returning
 * it with a comment (a `review` record of the record's unit, which reaches
 * the officer's tablet at its next sync), and settling a conflict by
 * keeping one of its two values (keeping the losing one writes it into the
 * record as a new version, so the tablets get it too). Unit heads and
 * deputies decide, within their scope; every decision is audited. */
#include "web_int.h"

#include <stdio.h>
#include <string.h>

/* The record's review state, into `out`. */
static int review_state(char out[16], web_request *r, const uint8_t id[DALA_UUID_BYTES])
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, "SELECT review_state FROM record WHERE id = ?1", -1, &stmt, NULL))
        return server_db_error(r->conn->db, "read the review state");
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(stmt) == SQLITE_ROW ? DALA_OK : server_db_error(r->conn->db, "read the review state");
    if (!rc) snprintf(out, 16, "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    return rc;
}

int web_route_review(web_request *r, const char *id_text)
{
    if (!web_role_may_decide(r->user.role))
        return web_send_error(r, 403, DALA_EAUTH, "review: only unit heads and deputies decide");
    char table[64], state[16], normal[DALA_UUID_TEXT_LEN + 1], review_id[DALA_UUID_TEXT_LEN + 1];
    int64_t unit_id;
    uint8_t id[DALA_UUID_BYTES];
    int rc = web_record_load(table, &unit_id, NULL, r, id_text, id);
    if (rc) return web_send_failure(r, rc);
    const dala_table_def *def = dala_domain_table(dala_domain_get(), table);
    if (!def || def->is_server_written)
        return web_send_error(r, 400, DALA_EINVAL, "review: records of this type are not reviewed");
    const char *decision = web_body_string(r, "decision"), *comment = web_body_string(r, "comment");
    if (!decision || (strcmp(decision, "approve") != 0 && strcmp(decision, "return") != 0))
        return web_send_error(r, 400, DALA_EINVAL, "review: decision is approve or return");
    if (strcmp(decision, "return") == 0 && (!comment || !*comment))
        return web_send_error(r, 400, DALA_EINVAL, "review: a return needs a comment saying what to correct");
    rc = review_state(state, r, id);
    if (rc) return web_send_failure(r, rc);
    if ((strcmp(decision, "approve") == 0 && strcmp(state, "approved") == 0) ||
        (strcmp(decision, "return") == 0 && strcmp(state, "returned") == 0))
        return web_send_error(r, 409, DALA_ECONFLICT, "review: the record is already in that state");
    dala_uuid_format(normal, id);
    struct dala_admin admin = {r->conn->db};
    rc = dala_admin_review(review_id, &admin, normal, decision, comment, r->user.full_name);
    if (!rc) rc = web_audit(r, "review", unit_id, id, decision);
    if (rc) return web_send_failure(r, rc);
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_string(&j, "review_id", review_id);
    json_string(&j, "state", strcmp(decision, "approve") == 0 ? "approved" : "returned");
    json_object_end(&j);
    return web_send_json(r, &j);
}

static dala_field text_field(const char *name, const void *text, size_t len)
{
    return (dala_field){name, {DALA_VALUE_TEXT, 0, 0, text, len}, 0};
}

/* Keeps one side of an open conflict, in one transaction. */
static int settle(web_request *r, const dala_record *conflict, const char *conflict_id, const char *keep)
{
    const dala_record_field *record_id = dala_record_find(conflict, "record_id");
    const dala_record_field *field = dala_record_find(conflict, "field");
    const dala_record_field *loser = dala_record_find(conflict, "loser_value");
    if (!record_id || !field || record_id->value.type != DALA_VALUE_TEXT || field->value.type != DALA_VALUE_TEXT ||
        record_id->value.len != DALA_UUID_TEXT_LEN || field->value.len >= 64)
        return dala_error_set(DALA_ECORRUPT, "settle: the conflict record is incomplete");
    char target[DALA_UUID_TEXT_LEN + 1], name[64];
    snprintf(target, sizeof target, "%.*s", (int)record_id->value.len, (const char *)record_id->value.bytes);
    snprintf(name, sizeof name, "%.*s", (int)field->value.len, (const char *)field->value.bytes);
    dala_field settled[] = {text_field("status", "settled", 7), text_field("kept", keep, strlen(keep)),
                            text_field("settled_by", r->user.full_name, strlen(r->user.full_name))};
    int rc = server_db_begin(r->conn->db);
    if (rc) return rc;
    if (strcmp(keep, "loser") == 0) {
        dala_field value = {name, loser ? loser->value : (dala_value){DALA_VALUE_NULL, 0, 0, NULL, 0}, 0};
        rc = server_record_update(r->conn->db, target, server_hlc_now(r->server), &value, 1);
    }
    if (!rc) rc = server_record_update(r->conn->db, conflict_id, server_hlc_now(r->server), settled, 3);
    if (!rc) rc = server_db_commit(r->conn->db);
    if (rc) server_db_rollback(r->conn->db);
    return rc;
}

int web_route_settle(web_request *r, const char *id_text)
{
    if (!web_role_may_decide(r->user.role))
        return web_send_error(r, 403, DALA_EAUTH, "settle: only unit heads and deputies settle conflicts");
    char table[64], normal[DALA_UUID_TEXT_LEN + 1];
    int64_t unit_id;
    uint8_t id[DALA_UUID_BYTES];
    dala_record conflict = DALA_RECORD_INIT;
    int rc = web_record_load(table, &unit_id, &conflict, r, id_text, id);
    if (!rc && strcmp(table, DALA_TABLE_CONFLICT) != 0) rc = dala_error_set(DALA_ENOTFOUND, "settle: no such conflict");
    const char *keep = web_body_string(r, "keep");
    if (!rc && (!keep || (strcmp(keep, "winner") != 0 && strcmp(keep, "loser") != 0)))
        rc = dala_error_set(DALA_EINVAL, "settle: keep is winner or loser");
    const dala_record_field *status = rc ? NULL : dala_record_find(&conflict, "status");
    if (!rc && (!status || status->value.len != 4 || memcmp(status->value.bytes, "open", 4) != 0))
        rc = dala_error_set(DALA_ECONFLICT, "settle: the conflict is settled already");
    dala_uuid_format(normal, id);
    if (!rc) rc = settle(r, &conflict, normal, keep);
    if (!rc) rc = web_audit(r, "settle", unit_id, id, keep);
    dala_record_clear(&conflict);
    if (rc) return web_send_failure(r, rc);
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_string(&j, "status", "settled");
    json_string(&j, "kept", keep);
    json_object_end(&j);
    return web_send_json(r, &j);
}
