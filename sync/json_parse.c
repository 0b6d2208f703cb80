/* json_parse.c - the strict JSON parser of dala_json.h, for definitions
 * and for survey answers from tablets (hostile input).
 *
 * A recursive descent over the bytes, at most DALA_JSON_MAX_DEPTH deep.
 * The finished children of the containers still open wait on one scratch
 * stack (and their member names on another); when a container closes they
 * move into an array of exactly their number, so a tree costs its nodes
 * and its strings and nothing more. Whatever waits on the stacks when
 * parsing fails is freed with them, so every error path is one cleanup.
 * A string's buffer is as long as its text between the quotes, which is
 * never shorter than what it decodes to. */
#include "dala_json.h"
#include "sync_int.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A member name waiting on the key stack, with where it began (for the
 * duplicate-key error). */
typedef struct member_key {
    char *name;
    size_t offset;
} member_key;

typedef struct parser {
    const uint8_t *start, *pos, *end;
    size_t value_count, max_values;
    int depth;
    dala_json *values; /* finished children of the open containers */
    size_t values_len, values_cap;
    member_key *keys; /* member names of the open objects */
    size_t keys_len, keys_cap;
    member_key *sorted; /* scratch for the duplicate check */
    size_t sorted_cap;
} parser;

static int parse_value(parser *p, dala_json *out);

/* --- errors ---------------------------------------------------------------- */

/* Records "json: offset N: <detail>" for the byte at `at` and returns `code`. */
static int fail_at(const parser *p, const uint8_t *at, int code, const char *fmt, ...) DALA_PRINTF(4, 5);

static int fail_at(const parser *p, const uint8_t *at, int code, const char *fmt, ...)
{
    char detail[160];
    va_list args;
    va_start(args, fmt);
    vsnprintf(detail, sizeof detail, fmt, args);
    va_end(args);
    return dala_error_set(code, "json: offset %zu: %s", (size_t)(at - p->start), detail);
}

/* "expected <what>, found <the byte at pos>": the byte itself when it is
 * printable ASCII, its hex value otherwise; never more of the text. */
static int fail_expected(const parser *p, const char *what)
{
    if (p->pos == p->end)
        return fail_at(p, p->pos, DALA_EINVAL, "expected %s, found the end of the input", what);
    uint8_t c = *p->pos;
    if (c >= 0x20 && c < 0x7f && c != '\'')
        return fail_at(p, p->pos, DALA_EINVAL, "expected %s, found '%c'", what, c);
    return fail_at(p, p->pos, DALA_EINVAL, "expected %s, found byte 0x%02X", what, c);
}

static int fail_nomem(const parser *p)
{
    return fail_at(p, p->pos, DALA_ENOMEM, "out of memory");
}

/* --- trees ------------------------------------------------------------------ */

/* Frees what `node` owns (not `node` itself), wiping the text, and leaves
 * it NULL. Recursion is bounded by the depth cap of the parser that made
 * the tree. */
static void json_clear(dala_json *node)
{
    switch (node->type) {
    case DALA_JSON_STRING:
        dala_wipe(node->string, node->len);
        free(node->string);
        break;
    case DALA_JSON_OBJECT:
    case DALA_JSON_ARRAY:
        for (size_t i = 0; i < node->count; i++) {
            json_clear(&node->items[i]);
            if (node->keys) {
                dala_wipe(node->keys[i], strlen(node->keys[i]));
                free(node->keys[i]);
            }
        }
        free(node->items);
        free(node->keys);
        break;
    default: break;
    }
    memset(node, 0, sizeof *node);
}

void dala_json_free(dala_json *json)
{
    if (!json) return;
    json_clear(json);
    free(json);
}

const dala_json *dala_json_get(const dala_json *object, const char *key)
{
    if (!object || object->type != DALA_JSON_OBJECT || !key) return NULL;
    for (size_t i = 0; i < object->count; i++)
        if (strcmp(object->keys[i], key) == 0) return &object->items[i];
    return NULL;
}

const char *dala_json_get_string(const dala_json *object, const char *key)
{
    const dala_json *value = dala_json_get(object, key);
    return value && value->type == DALA_JSON_STRING ? value->string : NULL;
}

/* --- the scratch stacks ------------------------------------------------------ */

/* `array` (of *cap elements of `size` bytes) doubled, or NULL with `array`
 * untouched when that is too big or memory runs out. */
static void *grow_array(void *array, size_t *cap, size_t size)
{
    size_t new_cap = *cap ? *cap * 2 : 16;
    if (new_cap > SIZE_MAX / 2 / size) return NULL;
    void *grown = dala_realloc(array, new_cap * size);
    if (grown) *cap = new_cap;
    return grown;
}

/* Moves `value` onto the value stack; on failure frees it. */
static int push_value(parser *p, dala_json *value)
{
    if (p->values_len == p->values_cap) {
        void *grown = grow_array(p->values, &p->values_cap, sizeof *p->values);
        if (!grown) {
            json_clear(value);
            return fail_nomem(p);
        }
        p->values = grown;
    }
    p->values[p->values_len++] = *value;
    return DALA_OK;
}

/* Moves `name` onto the key stack; on failure frees it. */
static int push_key(parser *p, char *name, size_t len, size_t offset)
{
    if (p->keys_len == p->keys_cap) {
        void *grown = grow_array(p->keys, &p->keys_cap, sizeof *p->keys);
        if (!grown) {
            dala_wipe(name, len);
            free(name);
            return fail_nomem(p);
        }
        p->keys = grown;
    }
    p->keys[p->keys_len++] = (member_key){name, offset};
    return DALA_OK;
}

static void parser_free(parser *p)
{
    for (size_t i = 0; i < p->values_len; i++) json_clear(&p->values[i]);
    for (size_t i = 0; i < p->keys_len; i++) {
        dala_wipe(p->keys[i].name, strlen(p->keys[i].name));
        free(p->keys[i].name);
    }
    free(p->values);
    free(p->keys);
    free(p->sorted);
}

/* --- scalars ----------------------------------------------------------------- */

static void skip_whitespace(parser *p)
{
    while (p->pos < p->end && (*p->pos == ' ' || *p->pos == '\t' || *p->pos == '\n' || *p->pos == '\r'))
        p->pos++;
}

/* `word` ("true", "false", "null") at pos, as a value of `type`. */
static int parse_word(parser *p, const char *word, dala_json_type type, dala_json *out)
{
    size_t n = strlen(word);
    for (size_t i = 0; i < n; i++, p->pos++) {
        if (p->pos == p->end || *p->pos != (uint8_t)word[i]) {
            char what[16];
            snprintf(what, sizeof what, "'%s'", word);
            return fail_expected(p, what);
        }
    }
    out->type = type;
    return DALA_OK;
}

static int is_digit(const parser *p, const uint8_t *at)
{
    return at < p->end && *at >= '0' && *at <= '9';
}

/* The "C" locale, made once: JSON's decimal point is '.' whatever the
 * locale an app embedding the library set (Kazakh uses a comma). */
static locale_t c_locale_made;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale_made = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static locale_t json_c_locale(void)
{
    pthread_once(&c_locale_once, make_c_locale);
    return c_locale_made;
}

/* A number: the RFC 8259 grammar checked here, the value read by strtod
 * from a bounded copy, an integer's exact value kept beside it. */
static int parse_number(parser *p, dala_json *out)
{
    const uint8_t *s = p->pos, *q = s;
    int is_negative = *q == '-', is_integer = 1;
    if (is_negative) q++;
    if (!is_digit(p, q)) {
        p->pos = q;
        return fail_expected(p, "a digit after '-'");
    }
    if (*q == '0') {
        q++;
        if (is_digit(p, q)) return fail_at(p, s, DALA_EINVAL, "leading zero in a number");
    } else {
        while (is_digit(p, q)) q++;
    }
    if (q < p->end && *q == '.') {
        is_integer = 0;
        if (!is_digit(p, ++q)) {
            p->pos = q;
            return fail_expected(p, "a digit after '.' in a number");
        }
        while (is_digit(p, q)) q++;
    }
    if (q < p->end && (*q == 'e' || *q == 'E')) {
        is_integer = 0;
        q++;
        if (q < p->end && (*q == '+' || *q == '-')) q++;
        if (!is_digit(p, q)) {
            p->pos = q;
            return fail_expected(p, "a digit in the exponent of a number");
        }
        while (is_digit(p, q)) q++;
    }
    size_t n = (size_t)(q - s);
    if (n > DALA_JSON_MAX_NUMBER_BYTES)
        return fail_at(p, s, DALA_ELIMIT, "number of %zu bytes, more than the limit of %d", n,
                       DALA_JSON_MAX_NUMBER_BYTES);

    char copy[DALA_JSON_MAX_NUMBER_BYTES + 1], *stop;
    memcpy(copy, s, n);
    copy[n] = '\0';
    locale_t c_locale = json_c_locale();
    if (!c_locale) return fail_at(p, s, DALA_ENOMEM, "no C locale to read numbers in");
    double number = strtod_l(copy, &stop, c_locale);
    if (stop != copy + n) return fail_at(p, s, DALA_EINVAL, "a number that does not read whole");
    if (!isfinite(number)) return fail_at(p, s, DALA_EINVAL, "number out of the range of a double");

    /* The exact integer: magnitude up to 2^63 for a negative one, 2^63 - 1
     * otherwise; past that it is a NUMBER only. */
    uint64_t magnitude = 0, limit = is_negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (const uint8_t *d = s + is_negative; is_integer && d < q; d++) {
        unsigned digit = (unsigned)(*d - '0');
        if (magnitude > (limit - digit) / 10) is_integer = 0;
        else magnitude = magnitude * 10 + digit;
    }
    out->type = DALA_JSON_NUMBER;
    out->number = number;
    out->is_integer = is_integer;
    if (is_integer)
        out->integer = !is_negative ? (int64_t)magnitude
                       : magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN
                                                             : -(int64_t)magnitude;
    p->pos = q;
    return DALA_OK;
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The four hex digits at `at` (before `close`), or -1. */
static long read_hex4(const uint8_t *at, const uint8_t *close)
{
    if (close - at < 4) return -1;
    long value = 0;
    for (int i = 0; i < 4; i++) {
        int digit = hex_value(at[i]);
        if (digit < 0) return -1;
        value = value << 4 | digit;
    }
    return value;
}

static uint8_t *put_utf8(uint8_t *w, unsigned long cp)
{
    if (cp < 0x80) {
        *w++ = (uint8_t)cp;
    } else if (cp < 0x800) {
        *w++ = (uint8_t)(0xc0 | cp >> 6);
        *w++ = (uint8_t)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *w++ = (uint8_t)(0xe0 | cp >> 12);
        *w++ = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        *w++ = (uint8_t)(0x80 | (cp & 0x3f));
    } else {
        *w++ = (uint8_t)(0xf0 | cp >> 18);
        *w++ = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
        *w++ = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        *w++ = (uint8_t)(0x80 | (cp & 0x3f));
    }
    return w;
}

/* Decodes the escape at *r (a backslash before `close`) into *w, moving
 * both on. \u escapes become UTF-8; a surrogate pair becomes one code
 * point; a lone surrogate and \u0000 are refused. */
static int decode_escape(const parser *p, const uint8_t **r, uint8_t **w, const uint8_t *close)
{
    const uint8_t *at = *r;
    static const char plain[] = "\"\\/bfnrt", decoded[] = "\"\\/\b\f\n\r\t";
    const char *which = at[1] ? strchr(plain, at[1]) : NULL;
    if (which) {
        *(*w)++ = (uint8_t)decoded[which - plain];
        *r = at + 2;
        return DALA_OK;
    }
    if (at[1] != 'u') {
        if (at[1] >= 0x20 && at[1] < 0x7f && at[1] != '\'')
            return fail_at(p, at, DALA_EINVAL, "unknown escape '\\%c' in a string", at[1]);
        return fail_at(p, at, DALA_EINVAL, "unknown escape (backslash, byte 0x%02X) in a string", at[1]);
    }
    long cp = read_hex4(at + 2, close);
    if (cp < 0) return fail_at(p, at, DALA_EINVAL, "expected four hex digits after '\\u'");
    if (cp == 0) return fail_at(p, at, DALA_EINVAL, "\\u0000 in a string");
    size_t used = 6;
    if (cp >= 0xdc00 && cp <= 0xdfff) return fail_at(p, at, DALA_EINVAL, "lone low surrogate \\u escape");
    if (cp >= 0xd800 && cp <= 0xdbff) {
        long low = close - at >= 12 && at[6] == '\\' && at[7] == 'u' ? read_hex4(at + 8, close) : -1;
        if (low < 0xdc00 || low > 0xdfff)
            return fail_at(p, at, DALA_EINVAL, "lone high surrogate \\u escape (no low surrogate after it)");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        used = 12;
    }
    *w = put_utf8(*w, (unsigned long)cp);
    *r = at + used;
    return DALA_OK;
}

/* The length of the UTF-8 sequence a lead byte announces; 0 for a byte
 * that cannot lead (dala_utf8_is_valid then checks the whole sequence). */
static size_t utf8_lead_len(uint8_t c)
{
    if (c >= 0xc2 && c <= 0xdf) return 2;
    if (c >= 0xe0 && c <= 0xef) return 3;
    if (c >= 0xf0 && c <= 0xf4) return 4;
    return 0;
}

/* The string at pos (on its opening quote), decoded into a new buffer
 * that *out owns, of *out_len bytes plus a NUL. */
static int parse_string(parser *p, char **out, size_t *out_len)
{
    const uint8_t *open = p->pos, *close = open + 1;
    while (close < p->end && *close != '"') close += *close == '\\' && close + 1 < p->end ? 2 : 1;
    if (close >= p->end) return fail_at(p, p->end, DALA_EINVAL, "unterminated string (it opened at offset %zu)",
                                        (size_t)(open - p->start));

    uint8_t *text = dala_malloc((size_t)(close - open)); /* the text, less one quote, plus a NUL */
    if (!text) return fail_nomem(p);
    const uint8_t *r = open + 1;
    uint8_t *w = text;
    int rc = DALA_OK;
    while (!rc && r < close) {
        uint8_t c = *r;
        size_t n;
        if (c == '\\') {
            rc = decode_escape(p, &r, &w, close);
        } else if (c < 0x20) {
            rc = fail_at(p, r, DALA_EINVAL, "control character 0x%02X in a string", c);
        } else if (c < 0x80) {
            *w++ = c;
            r++;
        } else if ((n = utf8_lead_len(c)) == 0 || n > (size_t)(close - r) || !dala_utf8_is_valid(r, n)) {
            rc = fail_at(p, r, DALA_EINVAL, "invalid UTF-8 in a string (byte 0x%02X)", c);
        } else {
            memcpy(w, r, n);
            w += n;
            r += n;
        }
    }
    if (rc) {
        dala_wipe(text, (size_t)(w - text));
        free(text);
        return rc;
    }
    *w = '\0';
    *out = (char *)text;
    *out_len = (size_t)(w - text);
    p->pos = close + 1;
    return DALA_OK;
}

/* --- containers --------------------------------------------------------------- */

static int enter_container(parser *p)
{
    if (++p->depth > DALA_JSON_MAX_DEPTH)
        return fail_at(p, p->pos, DALA_ELIMIT, "nesting deeper than %d", DALA_JSON_MAX_DEPTH);
    p->pos++; /* the '[' or '{' */
    skip_whitespace(p);
    return DALA_OK;
}

/* Moves the values above `base` on the value stack into a new array. */
static int take_values(parser *p, size_t base, dala_json **items)
{
    size_t count = p->values_len - base;
    *items = NULL;
    if (count == 0) return DALA_OK;
    *items = dala_malloc(count * sizeof **items);
    if (!*items) return fail_nomem(p);
    memcpy(*items, p->values + base, count * sizeof **items);
    p->values_len = base;
    return DALA_OK;
}

static int parse_array(parser *p, dala_json *out)
{
    size_t base = p->values_len;
    int rc = enter_container(p);
    if (rc) return rc;
    if (p->pos < p->end && *p->pos == ']') {
        p->pos++;
    } else {
        for (;;) {
            dala_json item;
            if ((rc = parse_value(p, &item)) || (rc = push_value(p, &item))) return rc;
            skip_whitespace(p);
            if (p->pos < p->end && *p->pos == ']') {
                p->pos++;
                break;
            }
            if (p->pos == p->end || *p->pos != ',') return fail_expected(p, "',' or ']' in an array");
            p->pos++;
            skip_whitespace(p);
            if (p->pos < p->end && *p->pos == ']')
                return fail_at(p, p->pos, DALA_EINVAL, "trailing comma in an array");
        }
    }
    size_t count = p->values_len - base;
    if ((rc = take_values(p, base, &out->items))) return rc;
    out->type = DALA_JSON_ARRAY;
    out->count = count;
    p->depth--;
    return DALA_OK;
}

static int compare_keys(const void *a, const void *b)
{
    const member_key *x = a, *y = b;
    int order = strcmp(x->name, y->name);
    if (order) return order;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Refuses an object whose `count` names (on the key stack from `base`)
 * repeat one, naming the earliest repetition: sorted by name then offset,
 * O(n log n), so a hostile object of many keys stays cheap. */
static int check_duplicate_keys(parser *p, size_t base, size_t count)
{
    if (count < 2) return DALA_OK;
    while (p->sorted_cap < count) {
        void *grown = grow_array(p->sorted, &p->sorted_cap, sizeof *p->sorted);
        if (!grown) return fail_nomem(p);
        p->sorted = grown;
    }
    memcpy(p->sorted, p->keys + base, count * sizeof *p->sorted);
    qsort(p->sorted, count, sizeof *p->sorted, compare_keys);
    size_t first = SIZE_MAX;
    for (size_t i = 1; i < count; i++)
        if (p->sorted[i].offset < first && strcmp(p->sorted[i - 1].name, p->sorted[i].name) == 0)
            first = p->sorted[i].offset;
    if (first != SIZE_MAX) return fail_at(p, p->start + first, DALA_EINVAL, "duplicate key");
    return DALA_OK;
}

/* One "name": value member, each half onto its stack. */
static int parse_member(parser *p)
{
    if (p->pos == p->end || *p->pos != '"') return fail_expected(p, "a string key");
    size_t offset = (size_t)(p->pos - p->start), len;
    char *name;
    int rc = parse_string(p, &name, &len);
    if (rc || (rc = push_key(p, name, len, offset))) return rc;
    skip_whitespace(p);
    if (p->pos == p->end || *p->pos != ':') return fail_expected(p, "':' after a key");
    p->pos++;
    dala_json value;
    if ((rc = parse_value(p, &value))) return rc;
    return push_value(p, &value);
}

static int parse_object(parser *p, dala_json *out)
{
    size_t base = p->values_len, key_base = p->keys_len;
    int rc = enter_container(p);
    if (rc) return rc;
    if (p->pos < p->end && *p->pos == '}') {
        p->pos++;
    } else {
        for (;;) {
            if ((rc = parse_member(p))) return rc;
            skip_whitespace(p);
            if (p->pos < p->end && *p->pos == '}') {
                p->pos++;
                break;
            }
            if (p->pos == p->end || *p->pos != ',') return fail_expected(p, "',' or '}' in an object");
            p->pos++;
            skip_whitespace(p);
            if (p->pos < p->end && *p->pos == '}')
                return fail_at(p, p->pos, DALA_EINVAL, "trailing comma in an object");
        }
    }
    size_t count = p->values_len - base;
    if ((rc = check_duplicate_keys(p, key_base, count))) return rc;
    char **names = NULL;
    if (count) {
        names = dala_malloc(count * sizeof *names);
        if (!names) return fail_nomem(p);
    }
    if ((rc = take_values(p, base, &out->items))) {
        free(names);
        return rc;
    }
    for (size_t i = 0; i < count; i++) names[i] = p->keys[key_base + i].name;
    p->keys_len = key_base;
    out->type = DALA_JSON_OBJECT;
    out->keys = names;
    out->count = count;
    p->depth--;
    return DALA_OK;
}

/* --- values ------------------------------------------------------------------- */

/* One value after optional whitespace. On success *out owns the value; on
 * failure it owns nothing (and the value stack holds what was finished). */
static int parse_value(parser *p, dala_json *out)
{
    memset(out, 0, sizeof *out);
    skip_whitespace(p);
    if (p->pos == p->end) return fail_expected(p, "a value");
    if (p->value_count == p->max_values)
        return fail_at(p, p->pos, DALA_ELIMIT, "more than %zu values", p->max_values);
    p->value_count++;
    switch (*p->pos) {
    case '{': return parse_object(p, out);
    case '[': return parse_array(p, out);
    case '"': {
        int rc = parse_string(p, &out->string, &out->len);
        if (!rc) out->type = DALA_JSON_STRING;
        return rc;
    }
    case 't': return parse_word(p, "true", DALA_JSON_TRUE, out);
    case 'f': return parse_word(p, "false", DALA_JSON_FALSE, out);
    case 'n': return parse_word(p, "null", DALA_JSON_NULL, out);
    case '/': return fail_at(p, p->pos, DALA_EINVAL, "expected a value, found '/' (JSON has no comments)");
    default:
        if (*p->pos == '-' || (*p->pos >= '0' && *p->pos <= '9')) return parse_number(p, out);
        return fail_expected(p, "a value");
    }
}

int dala_json_parse(dala_json **out, const char *text, size_t len, size_t max_nodes)
{
    *out = NULL;
    if (!text && len) return dala_error_set(DALA_EINVAL, "json: no text but a length of %zu", len);
    const uint8_t *bytes = text ? (const uint8_t *)text : (const uint8_t *)"";
    parser p = {.start = bytes, .pos = bytes, .end = bytes + len,
                .max_values = max_nodes ? max_nodes : DALA_JSON_DEFAULT_MAX_NODES};
    dala_json root = {0};
    skip_whitespace(&p);
    int rc = p.pos == p.end ? fail_at(&p, p.pos, DALA_EINVAL, "empty input, expected a value")
                            : parse_value(&p, &root);
    if (!rc) {
        skip_whitespace(&p);
        if (p.pos != p.end) rc = fail_expected(&p, "the end of the input after the value");
    }
    if (!rc) {
        *out = dala_malloc(sizeof **out);
        if (!*out) rc = fail_nomem(&p);
        else **out = root;
    }
    if (rc) json_clear(&root);
    parser_free(&p);
    return rc;
}
