/* checks.c - the tablet's side of the rules both ends share (libdala_sync's
 * dala_change_check): a change is checked before it is queued, against the
 * local store (the records it refers to, the published forms it answers),
 * with the rules of the schema version this app declares; and a refusal,
 * local or from the server, is rendered in the officer's language. */
#include "sdk_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t declared_version = -1; /* -1: the domain's (tests stand in for other apps) */

uint32_t dala_device_schema_version(void)
{
    return declared_version >= 0 ? (uint32_t)declared_version : dala_schema_version();
}

void dala_device_schema_set(int64_t version)
{
    declared_version = version < 0 ? -1 : version > UINT32_MAX ? UINT32_MAX : version;
}

int dala_table_is_writable(const char *table)
{
    const dala_table_def *def = table ? dala_domain_table(dala_domain_get(), table) : NULL;
    return def && !def->is_server_written && def->since <= dala_device_schema_version();
}

/* dala_check_env.record_exists over the local store. */
static int local_record_exists(void *context, const char *table, const char *id)
{
    sqlite3 *db = context;
    sqlite3_stmt *stmt;
    int rc = dala_db_prepare_cached(&stmt, db, "SELECT 1 FROM record WHERE id = ?1 AND (?2 = '*' OR tbl = ?2)");
    if (rc) return rc;
    sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, table, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt);
    rc = step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : dala_db_error(db, step, "look up a referenced record");
    dala_db_release(stmt);
    return rc;
}

/* dala_check_env.form_definition: a form this tablet received by sync. */
static int local_form(void *context, const char *form_id, char **out)
{
    char *table = NULL;
    uint64_t unit_id;
    dala_record form = DALA_RECORD_INIT;
    *out = NULL;
    int rc = dala_record_load(&table, &unit_id, &form, context, form_id);
    const dala_record_field *definition = rc ? NULL : dala_record_find(&form, "definition");
    if (!rc && (strcmp(table, "survey_form") != 0 || !definition || definition->value.type != DALA_VALUE_TEXT))
        rc = DALA_ENOTFOUND;
    if (!rc && !(*out = strndup((const char *)definition->value.bytes, definition->value.len)))
        rc = dala_error_set(DALA_ENOMEM, "read a form: out of memory");
    free(table);
    dala_record_clear(&form);
    return rc;
}

/* Today's local date, "YYYY-MM-DD": dates in records may not be later. */
static void local_date(char out[16])
{
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm) || strftime(out, 16, "%Y-%m-%d", &tm) != 10) snprintf(out, 16, "9999-12-31");
}

int dala_device_check(sqlite3 *db, const dala_change *change, const dala_record *stored)
{
    char today[16], reason[DALA_MAX_REASON_BYTES];
    local_date(today);
    dala_check_env env = {today, dala_device_schema_version(), 0, stored, local_record_exists, local_form, db};
    dala_invalid invalid;
    int rc = dala_change_check(&invalid, change, &env);
    if (rc != DALA_EINVAL) return rc;
    /* The message is the refusal as the server would word it, so an app
     * renders local and server refusals alike (dala_reason_render). */
    dala_invalid_format(reason, sizeof reason, &invalid);
    return dala_error_set(DALA_EINVAL, "%s", reason);
}

/* A server's refusal of the whole sync for the app's schema version
 * ("... device_too_old 1: ..."), in the officer's language; 0 if `text`
 * is not one. */
static int render_version_refusal(char *out, size_t size, const char *text, const char *lang)
{
    static const char *const codes[] = {"device_too_old", "device_too_new"};
    for (size_t i = 0; i < 2; i++) {
        const char *at = strstr(text, codes[i]);
        unsigned version;
        if (!at || sscanf(at + strlen(codes[i]), " %u", &version) != 1) continue;
        const char *message = dala_domain_message(dala_domain_get(), codes[i], lang);
        const char *slot = message ? strstr(message, "%s") : NULL;
        if (!slot) return 0;
        snprintf(out, size, "%.*s%u%s", (int)(slot - message), message, version, slot + 2);
        return 1;
    }
    return 0;
}

int dala_reason_render(char *out, size_t size, const char *reason, const char *lang)
{
    dala_invalid invalid;
    char copy[DALA_MAX_REASON_BYTES * 2]; /* `reason` may be dala_errmsg() itself */
    if (!out || size == 0) return dala_error_set(DALA_EINVAL, "render reason: no room");
    snprintf(copy, sizeof copy, "%s", reason ? reason : "");
    if (render_version_refusal(out, size, copy, lang)) return DALA_OK;
    /* A refusal may come after what was being done ("put record: ..."). */
    for (const char *p = copy; p; p = strstr(p, ": ") ? strstr(p, ": ") + 2 : NULL) {
        if (dala_invalid_parse(&invalid, p) == DALA_OK) {
            dala_invalid_render(out, size, &invalid, lang);
            return DALA_OK;
        }
    }
    snprintf(out, size, "%s", copy);
    return DALA_OK;
}
