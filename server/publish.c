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

static dala_field text_field(const char *name, const char *text)
{
    return (dala_field){name, {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)text, strlen(text)}, 0};
}

int dala_admin_form_publish(char *id_out, dala_admin *admin, const char *definition, int64_t unit_id)
{
    form_head head = {0};
    id_out[0] = '\0';
    if (!definition) return dala_error_set(DALA_EINVAL, "publish form: no definition");
    int rc = read_head(&head, definition);
    if (!rc && unit_id == 0 && (rc = dala_admin_root_unit(&unit_id, admin)) != DALA_OK) unit_id = 0;
    char today[11];
    server_today(today);
    dala_field fields[] = {
        text_field("code", head.code ? head.code : ""),
        text_field("definition", definition),
        text_field("published_on", today),
        text_field("title_kk", head.kk ? head.kk : ""),
        text_field("title_ru", head.ru ? head.ru : ""),
        {"version", {DALA_VALUE_INT, head.version, 0, NULL, 0}, 0},
    };
    if (!rc) rc = server_db_begin(admin->db);
    if (!rc) {
        rc = check_unpublished(admin->db, unit_id, &head);
        if (!rc) rc = server_record_write(id_out, admin->db, unit_id, "survey_form", fields, 6);
        if (!rc) rc = server_db_commit(admin->db);
        if (rc) server_db_rollback(admin->db);
    }
    dala_json_free(head.doc);
    return rc ? dala_error_wrap(rc, "publish form") : DALA_OK;
}
