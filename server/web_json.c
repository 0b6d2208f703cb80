/* web_json.c - writing the JSON answers of the supervisors' API: objects,
 * arrays and members with their commas kept here, strings escaped by
 * libdala_sync's one escaper. */
#include "web_int.h"

#include <stdio.h>
#include <string.h>

static void put(json_out *j, const char *text, size_t len)
{
    if (!j->rc) j->rc = dala_buf_append(&j->buf, text, len);
}

/* The comma before an item, and "key": inside an object. */
static void item(json_out *j, const char *key)
{
    if (j->rc) return;
    if (j->depth > 0 && j->has_items[j->depth - 1]) put(j, ",", 1);
    if (j->depth > 0) j->has_items[j->depth - 1] = 1;
    if (key) {
        if (!j->rc) j->rc = dala_json_put_string(&j->buf, key, strlen(key));
        put(j, ":", 1);
    }
}

static void open_nested(json_out *j, const char *key, const char *bracket)
{
    item(j, key);
    put(j, bracket, 1);
    if (j->depth >= JSON_MAX_DEPTH && !j->rc) j->rc = dala_error_set(DALA_ELIMIT, "json answer nests too deep");
    if (!j->rc) j->has_items[j->depth++] = 0;
}

void json_object_begin(json_out *j, const char *key) { open_nested(j, key, "{"); }
void json_array_begin(json_out *j, const char *key) { open_nested(j, key, "["); }

void json_object_end(json_out *j)
{
    if (j->depth > 0) j->depth--;
    put(j, "}", 1);
}

void json_array_end(json_out *j)
{
    if (j->depth > 0) j->depth--;
    put(j, "]", 1);
}

void json_string_n(json_out *j, const char *key, const void *text, size_t len)
{
    item(j, key);
    if (!j->rc) j->rc = dala_json_put_string(&j->buf, text, len);
}

void json_string(json_out *j, const char *key, const char *text)
{
    if (!text) json_null(j, key);
    else json_string_n(j, key, text, strlen(text));
}

void json_int(json_out *j, const char *key, int64_t value)
{
    char number[24];
    int n = snprintf(number, sizeof number, "%lld", (long long)value);
    item(j, key);
    put(j, number, (size_t)n);
}

void json_bool(json_out *j, const char *key, int value)
{
    item(j, key);
    put(j, value ? "true" : "false", value ? 4 : 5);
}

void json_null(json_out *j, const char *key)
{
    item(j, key);
    put(j, "null", 4);
}

void json_raw(json_out *j, const char *key, const char *json, size_t len)
{
    item(j, key);
    put(j, json, len);
}

void json_out_free(json_out *j)
{
    dala_buf_free(&j->buf);
}
