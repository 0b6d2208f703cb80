/* review.c - review decisions: a supervisor approves a record or returns
 * it with a comment. A decision is a `review` record of the reviewed
 * record's unit, written by the server (server_record.c), so it reaches the
 * officer's tablet at its next sync like any other change. */
#include "server_int.h"
#include "sync_int.h"

#include <string.h>

static dala_field text_field(const char *name, const char *text)
{
    if (!text) return (dala_field){name, {DALA_VALUE_NULL, 0, 0, NULL, 0}, 0};
    return (dala_field){name, {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)text, strlen(text)}, 0};
}

/* The unit holding record `id_text`; DALA_ENOTFOUND if there is none. */
static int record_unit(int64_t *unit_id, sqlite3 *db, const char *id_text)
{
    uint8_t id[DALA_UUID_BYTES];
    sqlite3_stmt *stmt;
    if (dala_uuid_parse(id, id_text)) return dala_error_set(DALA_EINVAL, "%s is not a record id", id_text);
    if (sqlite3_prepare_v2(db, "SELECT unit_id FROM record WHERE id = ?1 AND tbl != 'conflict'", -1, &stmt, NULL))
        return server_db_error(db, "find the reviewed record");
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    int step = sqlite3_step(stmt);
    *unit_id = step == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    if (step == SQLITE_DONE) return dala_error_set(DALA_ENOTFOUND, "no record %s", id_text);
    return step == SQLITE_ROW ? DALA_OK : server_db_error(db, "find the reviewed record");
}

/* The reviewed record's state follows the decision (the lists filter by it). */
static int set_state(sqlite3 *db, const uint8_t id[DALA_UUID_BYTES], const char *decision)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "UPDATE record SET review_state = ?2 WHERE id = ?1", -1, &stmt, NULL))
        return server_db_error(db, "mark the reviewed record");
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, strcmp(decision, "approve") == 0 ? "approved" : "returned", -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(db, "mark the reviewed record");
    sqlite3_finalize(stmt);
    return rc;
}

int dala_admin_review(char *id_out, dala_admin *admin, const char *record_id, const char *decision,
                      const char *comment, const char *reviewer)
{
    id_out[0] = '\0';
    if (!record_id || !decision || !reviewer)
        return dala_error_set(DALA_EINVAL, "review: a record, a decision and a reviewer are needed");
    char id[DALA_UUID_TEXT_LEN + 1], today[11];
    uint8_t parsed[DALA_UUID_BYTES];
    if (dala_uuid_parse(parsed, record_id)) return dala_error_set(DALA_EINVAL, "review: %s is not a record id", record_id);
    dala_uuid_format(id, parsed); /* references are kept in lowercase */
    server_today(today);
    dala_field fields[] = {text_field("record_id", id), text_field("decision", decision),
                           text_field("comment", comment && *comment ? comment : NULL),
                           text_field("reviewer", reviewer), text_field("decided_on", today)};
    int64_t unit_id = 0;
    int rc = server_db_begin(admin->db);
    if (!rc) {
        rc = record_unit(&unit_id, admin->db, id);
        if (!rc) rc = server_record_write(id_out, admin->db, unit_id, "review", fields, 5);
        if (!rc) rc = set_state(admin->db, parsed, decision);
        if (!rc) rc = server_db_commit(admin->db);
        if (rc) server_db_rollback(admin->db);
    }
    return rc ? dala_error_wrap(rc, "review") : DALA_OK;
}
