/* sqlite_text.c - hands libdala_sync's Kazakh text functions (dala_text.h)
 * to SQLite, whose own ordering is by bytes (Kazakh letters after я) and
 * whose lower() and LIKE fold only ASCII; and reads fields out of stored
 * record blobs, so lists can be searched and sorted in SQL. Compiled into
 * both the server and the tablet SDK, which register them on every
 * connection they open. */
#include "sqlite_text.h"
#include "dala_sync.h"

#include <string.h>

#define TEXT_FUNCTION_FLAGS (SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS)

/* The collation `kk`; SQLite hands over UTF-8 with lengths. */
static int collate_kk(void *unused, int a_len, const void *a, int b_len, const void *b)
{
    (void)unused;
    return dala_text_compare(a, (size_t)a_len, b, (size_t)b_len);
}

/* dala_fold(text): the folded text, or NULL for NULL. */
static void sql_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    /* sqlite3_value_text first: it may convert, and _bytes then counts
     * the converted text. */
    const char *text = (const char *)sqlite3_value_text(argv[0]);
    if (!text) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    size_t len = (size_t)sqlite3_value_bytes(argv[0]);
    size_t need = dala_text_fold(NULL, 0, text, len);
    char *folded = sqlite3_malloc64(need + 1);
    if (!folded) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    dala_text_fold(folded, need + 1, text, len);
    sqlite3_result_text64(ctx, folded, need, sqlite3_free, SQLITE_UTF8);
}

/* dala_contains(text, query): 1 or 0, or NULL when either is NULL. */
static void sql_contains(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    const char *text = (const char *)sqlite3_value_text(argv[0]);
    size_t text_len = (size_t)sqlite3_value_bytes(argv[0]);
    const char *query = (const char *)sqlite3_value_text(argv[1]);
    size_t query_len = (size_t)sqlite3_value_bytes(argv[1]);
    if (!text || !query) {
        sqlite3_result_error_nomem(ctx);
        return;
    }
    sqlite3_result_int(ctx, dala_text_contains(text, text_len, query, query_len));
}

/* dala_record_text(data, field): a field of a record blob as text (TEXT
 * as it is, numbers in decimal), NULL when it is absent or the blob does
 * not decode. */
static void sql_record_text(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *name = (const char *)sqlite3_value_text(argv[1]);
    dala_record record = DALA_RECORD_INIT;
    if (!name || dala_record_decode(&record, sqlite3_value_blob(argv[0]), (size_t)sqlite3_value_bytes(argv[0]))) {
        sqlite3_result_null(ctx);
        return;
    }
    const dala_record_field *field = dala_record_find(&record, name);
    if (!field) sqlite3_result_null(ctx);
    else if (field->value.type == DALA_VALUE_TEXT)
        sqlite3_result_text64(ctx, (const char *)field->value.bytes, field->value.len, SQLITE_TRANSIENT, SQLITE_UTF8);
    else if (field->value.type == DALA_VALUE_INT) sqlite3_result_int64(ctx, field->value.integer);
    else if (field->value.type == DALA_VALUE_REAL) sqlite3_result_double(ctx, field->value.real);
    else sqlite3_result_null(ctx);
    dala_record_clear(&record);
}

/* dala_record_matches(data, query): 1 if any TEXT field of a record blob
 * holds `query` in any case (Kazakh letters folded), else 0. */
static void sql_record_matches(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *query = (const char *)sqlite3_value_text(argv[1]);
    size_t query_len = query ? (size_t)sqlite3_value_bytes(argv[1]) : 0;
    dala_record record = DALA_RECORD_INIT;
    int found = 0;
    if (query && !dala_record_decode(&record, sqlite3_value_blob(argv[0]), (size_t)sqlite3_value_bytes(argv[0])))
        for (size_t i = 0; !found && i < record.field_count; i++) {
            const dala_value *value = &record.fields[i].value;
            found = value->type == DALA_VALUE_TEXT &&
                    dala_text_contains((const char *)value->bytes, value->len, query, query_len);
        }
    dala_record_clear(&record);
    sqlite3_result_int(ctx, found);
}

int dala_sqlite_text_register(sqlite3 *db)
{
    int rc = sqlite3_create_collation_v2(db, "kk", SQLITE_UTF8, NULL, collate_kk, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "dala_fold", 1, TEXT_FUNCTION_FLAGS, NULL, sql_fold,
                                        NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "dala_contains", 2, TEXT_FUNCTION_FLAGS, NULL,
                                        sql_contains, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "dala_record_text", 2, TEXT_FUNCTION_FLAGS, NULL, sql_record_text,
                                        NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_create_function_v2(db, "dala_record_matches", 2, TEXT_FUNCTION_FLAGS, NULL,
                                        sql_record_matches, NULL, NULL, NULL);
    return rc;
}
