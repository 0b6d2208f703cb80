/* dala_json.h - a small, strict, bounded JSON parser for libdala_sync: the
 * domain definition (schema/domain/records.json), survey questionnaires,
 * and the survey answers that arrive from tablets, which are hostile input.
 *
 * It accepts RFC 8259 JSON and nothing looser: one value with optional
 * whitespace around it; no comments, trailing commas, leading zeros,
 * NaN or Infinity; strings of valid UTF-8 without control characters.
 * It refuses what RFC 8259 leaves open and Dala has no use for: duplicate
 * member names, "\u0000", lone surrogates, numbers out of a double's range.
 * Nesting depth, the number of values and the length of a number are
 * capped, so a document costs memory in proportion to its length.
 */
#ifndef DALA_JSON_H
#define DALA_JSON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Arrays and objects nest at most this deep (a top-level array is 1). */
#define DALA_JSON_MAX_DEPTH 32
/* The cap on values in one document when dala_json_parse gets 0. */
#define DALA_JSON_DEFAULT_MAX_NODES 100000
/* A number is at most this many bytes of text ("-1.5e3" is 6). */
#define DALA_JSON_MAX_NUMBER_BYTES 512

typedef enum dala_json_type {
    DALA_JSON_NULL,
    DALA_JSON_FALSE,
    DALA_JSON_TRUE,
    DALA_JSON_NUMBER,
    DALA_JSON_STRING,
    DALA_JSON_ARRAY,
    DALA_JSON_OBJECT
} dala_json_type;

/* One parsed value; the fields a type does not use are zero. */
typedef struct dala_json {
    dala_json_type type;
    double number;           /* NUMBER */
    int is_integer;          /* NUMBER written without fraction or exponent and within int64 */
    int64_t integer;         /* NUMBER when is_integer */
    char *string;            /* STRING: decoded UTF-8, NUL-terminated (holds no NUL: \u0000 is refused) */
    size_t len;              /* STRING: bytes, without the terminating NUL */
    struct dala_json *items; /* ARRAY items, or OBJECT member values, in document order */
    char **keys;             /* OBJECT: member names (decoded, NUL-terminated), parallel to items */
    size_t count;            /* ARRAY/OBJECT: number of items */
} dala_json;

/**
 * Parse `len` bytes of JSON text into a tree.
 *
 * Numbers are read in the "C" locale whatever the program's LC_NUMERIC
 * (a Kazakh or Russian locale's decimal comma does not apply). A NUMBER's `number` is
 * always set; an integer within int64 also sets `is_integer` and `integer`
 * exactly (9007199254740993 keeps its last digit there).
 *
 * @param[out] out   the tree, which belongs to the caller (dala_json_free);
 *                   NULL on failure.
 * @param text       the document, borrowed; need not be NUL-terminated.
 *                   NULL is allowed when `len` is 0.
 * @param len        bytes of `text`; the caller caps it.
 * @param max_nodes  the most values (of any type, keys not counted) the
 *                   document may hold; 0 means DALA_JSON_DEFAULT_MAX_NODES.
 * @return DALA_OK; DALA_EINVAL for anything that is not strict JSON,
 *         including duplicate keys and truncated text; DALA_ELIMIT for
 *         nesting deeper than DALA_JSON_MAX_DEPTH, more than `max_nodes`
 *         values or a number longer than DALA_JSON_MAX_NUMBER_BYTES;
 *         DALA_ENOMEM. dala_errmsg() then gives the byte offset and what was
 *         wrong ("json: offset 17: expected ':' after a key, found '='"),
 *         quoting at most one byte of the text.
 */
int dala_json_parse(dala_json **out, const char *text, size_t len, size_t max_nodes);

/* Free a tree from dala_json_parse, wiping its strings first (they may be a
 * survivor's answers). NULL is fine. */
void dala_json_free(dala_json *json);

/* The value of member `key` of `object`, borrowed from the tree; NULL if
 * `object` is NULL or not an OBJECT, or has no such member. Linear in the
 * number of members. */
const dala_json *dala_json_get(const dala_json *object, const char *key);

/* The decoded text of member `key` of `object`, borrowed from the tree;
 * NULL if the member is absent or not a STRING. */
const char *dala_json_get_string(const dala_json *object, const char *key);

#ifdef __cplusplus
}
#endif

#endif /* DALA_JSON_H */
