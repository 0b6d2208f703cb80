/* fuzz_json_parse.c - libFuzzer target: dala_json_parse on any bytes, as
 * survey answers from a tablet would arrive, with a cap of 4096 values.
 * It must never crash, leak or read outside the input. A refusal must
 * give back no tree; an accepted tree must keep every promise of
 * dala_json.h (depth, value count, UTF-8 strings without NUL, no duplicate
 * keys, finite numbers, exact integers), and written back out as JSON it
 * must parse again into the same tree. */
#include "dala_json.h"
#include "dala_sync.h"
#include "sync_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VALUES 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks the promises of dala_json.h on `node` at `depth` (a top-level
 * container is 1); adds the values to *count. */
static void check_tree(const dala_json *node, int depth, size_t *count)
{
    (*count)++;
    switch (node->type) {
    case DALA_JSON_NULL:
    case DALA_JSON_FALSE:
    case DALA_JSON_TRUE: break;
    case DALA_JSON_NUMBER:
        if (!isfinite(node->number)) abort();
        if (node->is_integer && (double)node->integer != node->number) abort();
        break;
    case DALA_JSON_STRING:
        if (strlen(node->string) != node->len) abort();
        if (!dala_utf8_is_valid((const uint8_t *)node->string, node->len)) abort();
        break;
    case DALA_JSON_ARRAY:
    case DALA_JSON_OBJECT:
        if (depth > DALA_JSON_MAX_DEPTH) abort();
        if ((node->count == 0) != (node->items == NULL)) abort();
        for (size_t i = 0; i < node->count; i++) {
            if (node->type == DALA_JSON_OBJECT) {
                const char *key = node->keys[i];
                if (!dala_utf8_is_valid((const uint8_t *)key, strlen(key))) abort();
                if (dala_json_get(node, key) != &node->items[i]) abort(); /* the first of its name */
            }
            check_tree(&node->items[i], depth + 1, count);
        }
        break;
    default: abort();
    }
}

static void put(dala_buf *out, const char *text, size_t len)
{
    if (dala_buf_append(out, text, len) != DALA_OK) abort();
}

/* `text` as a JSON string: quotes, backslashes and control characters
 * (which escapes may have decoded to) escaped, the rest raw. */
static void write_string(dala_buf *out, const char *text)
{
    put(out, "\"", 1);
    for (const char *c = text; *c; c++) {
        char escape[8];
        if ((unsigned char)*c < 0x20) {
            snprintf(escape, sizeof escape, "\\u%04x", (unsigned)*c);
            put(out, escape, 6);
            continue;
        }
        if (*c == '"' || *c == '\\') put(out, "\\", 1);
        put(out, c, 1);
    }
    put(out, "\"", 1);
}

static void write_json(dala_buf *out, const dala_json *node)
{
    char number[40];
    switch (node->type) {
    case DALA_JSON_NULL: put(out, "null", 4); break;
    case DALA_JSON_FALSE: put(out, "false", 5); break;
    case DALA_JSON_TRUE: put(out, "true", 4); break;
    case DALA_JSON_NUMBER:
        if (node->is_integer) snprintf(number, sizeof number, "%lld", (long long)node->integer);
        else snprintf(number, sizeof number, "%.17g", node->number);
        put(out, number, strlen(number));
        break;
    case DALA_JSON_STRING: write_string(out, node->string); break;
    default:
        put(out, node->type == DALA_JSON_ARRAY ? "[" : "{", 1);
        for (size_t i = 0; i < node->count; i++) {
            if (i) put(out, ",", 1);
            if (node->type == DALA_JSON_OBJECT) {
                write_string(out, node->keys[i]);
                put(out, ":", 1);
            }
            write_json(out, &node->items[i]);
        }
        put(out, node->type == DALA_JSON_ARRAY ? "]" : "}", 1);
    }
}

/* Whether two trees hold the same values (a real written as "%.17g" may
 * come back as an integer: only the number is compared then). */
static int same_tree(const dala_json *a, const dala_json *b)
{
    if (a->type != b->type) return 0;
    switch (a->type) {
    case DALA_JSON_NUMBER:
        if (a->is_integer && b->is_integer) return a->integer == b->integer;
        return a->number == b->number;
    case DALA_JSON_STRING: return a->len == b->len && memcmp(a->string, b->string, a->len) == 0;
    case DALA_JSON_ARRAY:
    case DALA_JSON_OBJECT:
        if (a->count != b->count) return 0;
        for (size_t i = 0; i < a->count; i++) {
            if (a->type == DALA_JSON_OBJECT && strcmp(a->keys[i], b->keys[i]) != 0) return 0;
            if (!same_tree(&a->items[i], &b->items[i])) return 0;
        }
        return 1;
    default: return 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dala_json *json = (dala_json *)&json;
    int rc = dala_json_parse(&json, (const char *)data, size, MAX_VALUES);
    if (rc != DALA_OK) {
        if (json != NULL) abort();
        if (rc != DALA_EINVAL && rc != DALA_ELIMIT) abort();
        if (strncmp(dala_errmsg(), "json: offset ", 13) != 0) abort();
        return 0;
    }
    size_t count = 0;
    check_tree(json, 1, &count);
    if (count > MAX_VALUES) abort();

    dala_buf text = DALA_BUF_INIT;
    dala_json *again = NULL;
    write_json(&text, json);
    if (dala_json_parse(&again, (const char *)text.data, text.len, MAX_VALUES) != DALA_OK) abort();
    if (!same_tree(json, again)) abort();
    dala_json_free(again);
    dala_json_free(json);
    dala_buf_free(&text);
    return 0;
}
