/* publish.c - publishing a questionnaire: a checked form definition
 * becomes a survey_form record held by a unit (the top of the tree unless
 * told otherwise), in that unit's log, so it reaches every tablet below it
 * at the next sync (pull.c). A form version is published once and never
 * changed: responses stay tied to the version they were captured with. */
#include "server_int.h"
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The form's code, version and titles, read from its definition. */
typedef struct form_head {
    dala_json *doc;
    const char *code, *kk, *ru;
    int64_t version;
} form_head;

static int read_head(form_head *out, const char *definition)
{
    char why[64];
    int rc = dala_form_check(definition, strlen(definition), why, sizeof why);
    if (rc == DALA_EINVAL) return dala_error_set(DALA_EINVAL, "publish form: not a valid questionnaire: %s", why);
    if (!rc) rc = dala_json_parse(&out->doc, definition, strlen(definition), 0);
    if (rc) return rc;
    out->code = dala_json_get_string(out->doc, "code");
    out->kk = dala_json_get_string(out->doc, "kk");
    out->ru = dala_json_get_string(out->doc, "ru");
    out->version = dala_json_get(out->doc, "version")->integer;
    return DALA_OK;
}

/* DALA_ECONFLICT if the unit already published this code and version. */
static int check_unpublished(sqlite3 *db, int64_t unit_id, const form_head *head)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "SELECT data FROM record WHERE tbl = 'survey_form' AND unit_id = ?1", -1, &stmt, NULL))
        return server_db_error(db, "publish form");
    sqlite3_bind_int64(stmt, 1, unit_id);
    int rc = DALA_OK;
    while (!rc && sqlite3_step(stmt) == SQLITE_ROW) {
        dala_record form = DALA_RECORD_INIT;
        rc = dala_record_decode(&form, sqlite3_column_blob(stmt, 0), (size_t)sqlite3_column_bytes(stmt, 0));
        const dala_record_field *code = rc ? NULL : dala_record_find(&form, "code");
        const dala_record_field *version = rc ? NULL : dala_record_find(&form, "version");
        if (code && version && code->value.len == strlen(head->code) &&
            memcmp(code->value.bytes, head->code, code->value.len) == 0 && version->value.integer == head->version)
            rc = dala_error_set(DALA_ECONFLICT, "publish form: %s version %lld is already published", head->code,
                                (long long)head->version);
        dala_record_clear(&form);
    }
    sqlite3_finalize(stmt);
    return rc;
}

static dala_value text_value(const char *text)
{
    return (dala_value){DALA_VALUE_TEXT, 0, 0, (const uint8_t *)text, strlen(text)};
}

/* Writes the form record at the next position of the unit's log. */
static int write_form(sqlite3 *db, const uint8_t id[16], int64_t unit_id, const form_head *head,
                      const char *definition)
{
    time_t now = time(NULL);
    char today[11];
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    const struct {
        const char *name;
        dala_value value;
    } fields[] = {
        {"code", text_value(head->code)},
        {"definition", text_value(definition)},
        {"published_on", text_value(today)},
        {"title_kk", text_value(head->kk)},
        {"title_ru", text_value(head->ru)},
        {"version", {DALA_VALUE_INT, head->version, 0, NULL, 0}},
    };
    sqlite3_stmt *stmt = NULL;
    int64_t seq = 0;
    int rc = sqlite3_prepare_v2(db, "UPDATE org_unit SET next_seq = next_seq + 1 WHERE id = ?1 RETURNING next_seq - 1",
                                -1, &stmt, NULL) ? server_db_error(db, "publish form") : DALA_OK;
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, unit_id);
        if (sqlite3_step(stmt) == SQLITE_ROW) seq = sqlite3_column_int64(stmt, 0);
        else rc = dala_error_set(DALA_ENOTFOUND, "publish form: no unit %lld", (long long)unit_id);
        sqlite3_finalize(stmt);
    }
    /* The server writes as device 0, versioned by the wall clock. */
    dala_version version = {(uint64_t)now * 1000 << 16, 0};
    dala_record record = DALA_RECORD_INIT;
    dala_buf blob = DALA_BUF_INIT;
    for (size_t i = 0; !rc && i < sizeof fields / sizeof fields[0]; i++)
        rc = dala_record_set(&record, fields[i].name, &fields[i].value, &version, (uint64_t)seq);
    if (!rc) rc = dala_record_encode(&blob, &record);
    if (!rc && sqlite3_prepare_v2(db, "INSERT INTO record (id, tbl, unit_id, seq, created_by, received_at, data) "
                                      "VALUES (?1, 'survey_form', ?2, ?3, 0, ?4, ?5)", -1, &stmt, NULL))
        rc = server_db_error(db, "publish form");
    if (!rc) {
        sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 2, unit_id);
        sqlite3_bind_int64(stmt, 3, seq);
        sqlite3_bind_int64(stmt, 4, (int64_t)now);
        sqlite3_bind_blob(stmt, 5, blob.data, (int)blob.len, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE) rc = server_db_error(db, "publish form");
        sqlite3_finalize(stmt);
    }
    dala_record_clear(&record);
    dala_buf_free(&blob);
    return rc;
}

int dala_admin_form_publish(char *id_out, dala_admin *admin, const char *definition, int64_t unit_id)
{
    form_head head = {0};
    uint8_t id[DALA_UUID_BYTES];
    id_out[0] = '\0';
    if (!definition) return dala_error_set(DALA_EINVAL, "publish form: no definition");
    int rc = read_head(&head, definition);
    if (!rc && unit_id == 0 && (rc = dala_admin_root_unit(&unit_id, admin)) != DALA_OK) unit_id = 0;
    if (!rc) rc = dala_uuid_v7(id, (uint64_t)time(NULL) * 1000);
    if (!rc) rc = server_db_begin(admin->db);
    if (!rc) {
        rc = check_unpublished(admin->db, unit_id, &head);
        if (!rc) rc = write_form(admin->db, id, unit_id, &head, definition);
        if (!rc) rc = server_db_commit(admin->db);
        if (rc) server_db_rollback(admin->db);
    }
    if (!rc) dala_uuid_format(id_out, id);
    dala_json_free(head.doc);
    return rc;
}
