/* fields.c - turns the JSON object an app passes to dala_record_put into
 * checked field values, with SQLite's JSON functions (json_valid,
 * json_type, json_each) rather than a parser of our own: null, booleans as
 * 1/0, 64-bit integers, finite reals and UTF-8 strings; arrays and objects
 * are kept as their JSON text. Every rule a change must keep on the wire
 * (names, counts, sizes) is checked here first, so the caller gets an
 * error that names the field instead of a codec failure. Error details
 * name fields, never their values. */
#include "sdk_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dala_field_list_free(dala_field_list *list)
{
    if (!list) return;
    for (size_t i = 0; i < list->count; i++) {
        free((void *)list->fields[i].name);
        free((void *)list->fields[i].value.bytes);
    }
    free(list->fields);
    memset(list, 0, sizeof *list);
}

/* A field name for an error message: the name itself if it is short
 * printable ASCII (names are schema identifiers, not data), else "#n". */
static const char *name_for_message(char *out, size_t size, const char *name, size_t index)
{
    size_t len = strlen(name);
    int printable = len > 0 && len <= DALA_MAX_NAME_BYTES;
    for (size_t i = 0; printable && i < len; i++)
        if (!isprint((unsigned char)name[i]) || name[i] == '"') printable = 0;
    if (printable) snprintf(out, size, "\"%s\"", name);
    else snprintf(out, size, "#%zu", index + 1);
    return out;
}

/* Whether the JSON text holds a \u0000 escape, which SQLite's JSON
 * functions would silently cut the string at. */
static int has_nul_escape(const char *json)
{
    for (const char *p = strstr(json, "\\u0000"); p; p = strstr(p + 1, "\\u0000")) {
        size_t backslashes = 0;
        for (const char *q = p; q > json && q[-1] == '\\'; q--) backslashes++;
        if (backslashes % 2 == 0) return 1; /* this backslash is not itself escaped */
    }
    return 0;
}

/* Checks the text is one JSON object. */
static int check_object(sqlite3 *db, const char *json)
{
    sqlite3_stmt *stmt;
    int rc = dala_db_prepare(&stmt, db, "SELECT CASE WHEN json_valid(?1) THEN json_type(?1) END");
    if (rc) return rc;
    sqlite3_bind_text(stmt, 1, json, -1, SQLITE_STATIC);
    int step = sqlite3_step(stmt);
    if (step != SQLITE_ROW) rc = dala_db_error(db, step, "check fields JSON");
    else if (sqlite3_column_type(stmt, 0) == SQLITE_NULL)
        rc = dala_error_set(DALA_EINVAL, "fields: not valid JSON");
    else if (strcmp((const char *)sqlite3_column_text(stmt, 0), "object") != 0)
        rc = dala_error_set(DALA_EINVAL, "fields: a JSON object is expected, not %s",
                            (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    return rc;
}

/* Fills `value` from one json_each row (columns: key, type, value). */
static int read_value(dala_value *value, sqlite3_stmt *stmt, const char *shown)
{
    const char *type = (const char *)sqlite3_column_text(stmt, 1);
    memset(value, 0, sizeof *value);
    if (strcmp(type, "null") == 0) {
        value->type = DALA_VALUE_NULL;
    } else if (strcmp(type, "true") == 0 || strcmp(type, "false") == 0) {
        value->type = DALA_VALUE_INT;
        value->integer = type[0] == 't';
    } else if (strcmp(type, "integer") == 0) {
        if (sqlite3_column_type(stmt, 2) != SQLITE_INTEGER)
            return dala_error_set(DALA_EINVAL, "field %s: integer out of the 64-bit range", shown);
        value->type = DALA_VALUE_INT;
        value->integer = sqlite3_column_int64(stmt, 2);
    } else if (strcmp(type, "real") == 0) {
        value->type = DALA_VALUE_REAL;
        value->real = sqlite3_column_double(stmt, 2);
        if (!isfinite(value->real))
            return dala_error_set(DALA_EINVAL, "field %s: number out of range", shown);
    } else { /* text, array, object: the text (arrays and objects as JSON) */
        const unsigned char *text = sqlite3_column_text(stmt, 2);
        size_t len = (size_t)sqlite3_column_bytes(stmt, 2);
        if (!text && sqlite3_errcode(sqlite3_db_handle(stmt)) == SQLITE_NOMEM)
            return dala_error_set(DALA_ENOMEM, "field %s: out of memory", shown);
        if (len > DALA_RECORD_MAX_VALUE_BYTES)
            return dala_error_set(DALA_ELIMIT, "field %s: %zu bytes, more than %zu", shown, len,
                                  DALA_RECORD_MAX_VALUE_BYTES);
        if (!dala_utf8_is_valid(text, len))
            return dala_error_set(DALA_EINVAL, "field %s: text is not valid UTF-8", shown);
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy) return dala_error_set(DALA_ENOMEM, "field %s: out of memory", shown);
        if (len) memcpy(copy, text, len);
        value->type = DALA_VALUE_TEXT;
        value->bytes = copy;
        value->len = len;
    }
    return DALA_OK;
}

/* Adds one json_each row to the list, checking its name. */
static int add_field(dala_field_list *list, sqlite3_stmt *stmt, size_t alloc)
{
    char shown[DALA_MAX_NAME_BYTES + 8];
    const char *name = (const char *)sqlite3_column_text(stmt, 0);
    if (!name) return dala_error_set(DALA_ENOMEM, "fields: out of memory");
    name_for_message(shown, sizeof shown, name, list->count);
    if (list->count >= alloc)
        return dala_error_set(DALA_ELIMIT, "fields: more than %d", DALA_RECORD_MAX_FIELDS);
    if (!dala_name_is_valid(name, strlen(name)))
        return dala_error_set(DALA_EINVAL, "field %s: a name is [a-z][a-z0-9_]*, 1 to %d bytes",
                              shown, DALA_MAX_NAME_BYTES);
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->fields[i].name, name) == 0)
            return dala_error_set(DALA_EINVAL, "field %s: given twice", shown);
    dala_field *field = &list->fields[list->count];
    memset(field, 0, sizeof *field);
    int rc = read_value(&field->value, stmt, shown);
    if (rc) return rc;
    if (!(field->name = strdup(name))) {
        free((void *)field->value.bytes);
        return dala_error_set(DALA_ENOMEM, "fields: out of memory");
    }
    list->count++;
    return DALA_OK;
}

int dala_fields_parse(dala_field_list *out, sqlite3 *db, const char *fields_json)
{
    memset(out, 0, sizeof *out);
    if (!fields_json) return dala_error_set(DALA_EINVAL, "fields: NULL");
    if (has_nul_escape(fields_json))
        return dala_error_set(DALA_EINVAL, "fields: text with a NUL character (\\u0000) is refused");
    int rc = check_object(db, fields_json);
    if (rc) return rc;
    out->fields = calloc(DALA_RECORD_MAX_FIELDS, sizeof *out->fields);
    if (!out->fields) return dala_error_set(DALA_ENOMEM, "fields: out of memory");
    sqlite3_stmt *stmt;
    rc = dala_db_prepare(&stmt, db, "SELECT key, type, value FROM json_each(?1)");
    if (rc) goto done;
    sqlite3_bind_text(stmt, 1, fields_json, -1, SQLITE_STATIC);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW)
        rc = add_field(out, stmt, DALA_RECORD_MAX_FIELDS);
    if (!rc && step != SQLITE_DONE) rc = dala_db_error(db, step, "read fields JSON");
    sqlite3_finalize(stmt);
    if (!rc && out->count == 0) rc = dala_error_set(DALA_EINVAL, "fields: the object is empty");
done:
    if (rc) dala_field_list_free(out);
    return rc;
}
