/* test_json_parse.c - the strict JSON parser (dala_json.h): every type,
 * Kazakh text through escapes and raw UTF-8, surrogate pairs, integers
 * against reals, lookups; refusal with the right code of everything RFC
 * 8259 or Dala forbids, of every truncation of a document, and of every
 * failing allocation, with nothing leaked (under `make asan`) and error
 * messages that quote at most one byte of the text. */
#include "dala_json.h"
#include "dala_sync.h"
#include "sync_int.h"
#include "testhelp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* "Қазақстан" as raw UTF-8 (18 bytes). */
#define KAZAKHSTAN "\xd2\x9a\xd0\xb0\xd0\xb7\xd0\xb0\xd2\x9b\xd1\x81\xd1\x82\xd0\xb0\xd0\xbd"

/* Survey answers as a tablet sends them: every type, nesting, escapes, an
 * array long enough to grow the parser's stacks. Every proper prefix of it
 * is invalid JSON. */
static const char sample_answers[] =
    "{\"form\": \"vaw-household\", \"version\": 3, \"anonymous\": false,\n"
    " \"answers\": {\"q1\": \"" KAZAKHSTAN "\", \"q2\": [\"yes\", \"\\u049b\\u0430\\n\"],\n"
    "  \"q3\": -12.5e-1, \"q4\": null, \"q5\": true, \"q6\": \"\\ud83d\\ude00 \\\"ok\\\"\"},\n"
    " \"scores\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],\n"
    " \"nested\": [[[{}]], [], {\"a\": [0.5]}]}";

/* `text` printable, for failure messages: other bytes as \xNN, cut short. */
static const char *printable(const char *text, size_t len)
{
    static char out[200];
    size_t n = 0;
    for (size_t i = 0; i < len && n + 5 < sizeof out; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c < 0x7f) out[n++] = (char)c;
        else n += (size_t)snprintf(out + n, sizeof out - n, "\\x%02x", c);
    }
    out[n] = '\0';
    return out;
}

/* Parses `len` bytes from a block of exactly that size (so AddressSanitizer
 * sees any read past the end) with `max_nodes`; returns the code. A tree
 * comes back through *out only on success (out may be NULL: freed). */
static int parse_exact(dala_json **out, const char *text, size_t len, size_t max_nodes)
{
    char *copy = malloc(len ? len : 1);
    if (!copy) abort();
    memcpy(copy, text, len);
    dala_json *json = (dala_json *)&json; /* not NULL, so a missing reset shows */
    int rc = dala_json_parse(&json, copy, len, max_nodes);
    free(copy);
    if (rc != DALA_OK && json != NULL) {
        test_fail(__FILE__, __LINE__, "a failed parse returned a tree");
        json = NULL;
    }
    if (out) *out = json;
    else dala_json_free(json);
    return rc;
}

/* Checks that parsing `len` bytes of `text` fails with `code` and an error
 * message holding `needle` (NULL: any). */
static void check_refused(int line, const char *text, size_t len, int code, const char *needle)
{
    int rc = parse_exact(NULL, text, len, 0);
    if (rc != code)
        test_fail(__FILE__, line, "parsing \"%s\" returned %d (%s), expected %d", printable(text, len), rc,
                  dala_errmsg(), code);
    else if (needle && !strstr(dala_errmsg(), needle))
        test_fail(__FILE__, line, "parsing \"%s\": \"%s\" does not contain \"%s\"", printable(text, len),
                  dala_errmsg(), needle);
}

/* A string literal with its length (it may hold NUL bytes). */
#define CHECK_REFUSED(literal, code, needle) check_refused(__LINE__, literal, sizeof literal - 1, code, needle)

/* Parses a NUL-terminated document that must be valid; NULL if it is not. */
static dala_json *parse_ok(int line, const char *text)
{
    dala_json *json = NULL;
    int rc = parse_exact(&json, text, strlen(text), 0);
    if (rc != DALA_OK)
        test_fail(__FILE__, line, "parsing \"%s\" returned %d (%s)", printable(text, strlen(text)), rc,
                  dala_errmsg());
    return json;
}

#define PARSE_OK(text) parse_ok(__LINE__, text)

/* --- valid documents ---------------------------------------------------------- */

static void test_json_parse_reads_every_type(void)
{
    dala_json *json = PARSE_OK(" {\"n\": null, \"f\": false, \"t\": true, \"num\": -12.5e1,"
                               " \"s\": \"hi\", \"a\": [1, \"x\", []], \"o\": {}} \r\n\t");
    if (!json) return;
    CHECK_EQ_INT(json->type, DALA_JSON_OBJECT);
    CHECK_EQ_INT(json->count, 7);
    CHECK_EQ_STR(json->keys[0], "n");
    CHECK_EQ_STR(json->keys[6], "o");
    CHECK_EQ_INT(dala_json_get(json, "n")->type, DALA_JSON_NULL);
    CHECK_EQ_INT(dala_json_get(json, "f")->type, DALA_JSON_FALSE);
    CHECK_EQ_INT(dala_json_get(json, "t")->type, DALA_JSON_TRUE);
    const dala_json *num = dala_json_get(json, "num");
    CHECK_EQ_INT(num->type, DALA_JSON_NUMBER);
    CHECK(num->number == -125.0);
    CHECK_EQ_INT(num->is_integer, 0);
    CHECK_EQ_STR(dala_json_get_string(json, "s"), "hi");
    CHECK_EQ_INT(dala_json_get(json, "s")->len, 2);
    const dala_json *a = dala_json_get(json, "a");
    CHECK_EQ_INT(a->type, DALA_JSON_ARRAY);
    CHECK_EQ_INT(a->count, 3);
    CHECK_EQ_INT(a->items[0].integer, 1);
    CHECK_EQ_STR(a->items[1].string, "x");
    CHECK_EQ_INT(a->items[2].type, DALA_JSON_ARRAY);
    CHECK_EQ_INT(a->items[2].count, 0);
    CHECK_EQ_INT(dala_json_get(json, "o")->type, DALA_JSON_OBJECT);
    CHECK_EQ_INT(dala_json_get(json, "o")->count, 0);
    dala_json_free(json);

    /* A bare scalar is a whole document too. */
    json = PARSE_OK("\"only\"");
    if (json) CHECK_EQ_STR(json->string, "only");
    dala_json_free(json);
}

static void test_json_parse_decodes_kazakh_from_escapes_and_raw_utf8(void)
{
    dala_json *json = PARSE_OK("[\"" KAZAKHSTAN "\", \"\\u049a\\u0430\\u0437\\u0430\\u049B\\u0441\\u0442\\u0430\\u043d\"]");
    if (!json) return;
    CHECK_EQ_INT(json->items[0].len, sizeof KAZAKHSTAN - 1);
    CHECK_EQ_STR(json->items[0].string, KAZAKHSTAN);
    CHECK_EQ_INT(json->items[1].len, sizeof KAZAKHSTAN - 1);
    CHECK_EQ_STR(json->items[1].string, KAZAKHSTAN);
    dala_json_free(json);

    /* A Kazakh key, looked up by its UTF-8. */
    json = PARSE_OK("{\"\\u049a\\u0430\\u0437\\u0430\\u049b\\u0441\\u0442\\u0430\\u043d\": \"kz\"}");
    CHECK_EQ_STR(dala_json_get_string(json, KAZAKHSTAN), "kz");
    dala_json_free(json);
}

static void test_json_parse_decodes_surrogate_pair_to_one_emoji(void)
{
    dala_json *json = PARSE_OK("[\"\\ud83d\\ude00\", \"\\uD83D\\uDE00\", \"\\udbff\\udfff\", \"\xf0\x9f\x98\x80\"]");
    if (!json) return;
    CHECK_EQ_INT(json->items[0].len, 4);
    CHECK_EQ_STR(json->items[0].string, "\xf0\x9f\x98\x80"); /* U+1F600 */
    CHECK_EQ_STR(json->items[1].string, "\xf0\x9f\x98\x80");
    CHECK_EQ_STR(json->items[2].string, "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
    CHECK_EQ_STR(json->items[3].string, "\xf0\x9f\x98\x80");
    dala_json_free(json);
}

static void test_json_parse_decodes_every_escape(void)
{
    dala_json *json = PARSE_OK("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\u007f\"");
    if (!json) return;
    CHECK_EQ_STR(json->string, "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\x7f");
    CHECK_EQ_INT(json->len, 15);
    dala_json_free(json);
}

static void test_json_parse_tells_integers_from_reals(void)
{
    dala_json *json = PARSE_OK("[42, -7, 1.5, 1e3, 9223372036854775808, 9223372036854775807,"
                               " -9223372036854775808, -9223372036854775809, -0, 9007199254740993, 0, 1E+2]");
    if (!json) return;
    const dala_json *n = json->items;
    CHECK_EQ_INT(n[0].is_integer, 1);
    CHECK_EQ_INT(n[0].integer, 42);
    CHECK(n[0].number == 42.0);
    CHECK_EQ_INT(n[1].is_integer, 1);
    CHECK_EQ_INT(n[1].integer, -7);
    CHECK_EQ_INT(n[2].is_integer, 0);
    CHECK(n[2].number == 1.5);
    CHECK_EQ_INT(n[3].is_integer, 0);
    CHECK(n[3].number == 1000.0);
    CHECK_EQ_INT(n[4].is_integer, 0); /* 2^63: past int64 */
    CHECK(n[4].number == 9223372036854775808.0);
    CHECK_EQ_INT(n[5].is_integer, 1);
    CHECK(n[5].integer == INT64_MAX);
    CHECK_EQ_INT(n[6].is_integer, 1);
    CHECK(n[6].integer == INT64_MIN);
    CHECK_EQ_INT(n[7].is_integer, 0);
    CHECK_EQ_INT(n[8].is_integer, 1);
    CHECK_EQ_INT(n[8].integer, 0);
    CHECK(signbit(n[8].number));
    CHECK_EQ_INT(n[9].is_integer, 1);
    CHECK(n[9].integer == INT64_C(9007199254740993)); /* exact, past a double's 2^53 */
    CHECK_EQ_INT(n[10].is_integer, 1);
    CHECK_EQ_INT(n[10].integer, 0);
    CHECK_EQ_INT(n[11].is_integer, 0);
    CHECK(n[11].number == 100.0);
    dala_json_free(json);
}

static void test_json_parse_reads_numbers_at_the_edges_of_a_double(void)
{
    dala_json *json = PARSE_OK("[1.7976931348623157e308, 4.9e-324, 1e-400, -0.0, 0.1]");
    if (!json) return;
    CHECK(json->items[0].number == 1.7976931348623157e308);
    CHECK(json->items[1].number > 0);
    CHECK(json->items[2].number == 0); /* underflow to zero is a number */
    CHECK(json->items[3].number == 0 && signbit(json->items[3].number));
    CHECK(json->items[4].number == 0.1);
    dala_json_free(json);
}

static void test_json_parse_looks_up_nested_members(void)
{
    dala_json *json = PARSE_OK("{\"code\": \"vaw-household\", \"questions\": [{\"id\": \"q1\", \"type\": \"single\","
                               " \"show_if\": {\"question\": \"q0\", \"in\": [\"yes\"]}}, {\"id\": \"q2\"}], \"n\": 5}");
    if (!json) return;
    CHECK_EQ_STR(dala_json_get_string(json, "code"), "vaw-household");
    const dala_json *questions = dala_json_get(json, "questions");
    CHECK(questions && questions->type == DALA_JSON_ARRAY && questions->count == 2);
    if (!questions || questions->count != 2) goto done;
    const dala_json *show_if = dala_json_get(&questions->items[0], "show_if");
    CHECK_EQ_STR(dala_json_get_string(show_if, "question"), "q0");
    const dala_json *in = dala_json_get(show_if, "in");
    CHECK(in && in->count == 1);
    if (in && in->count == 1) CHECK_EQ_STR(in->items[0].string, "yes");
    CHECK_EQ_STR(dala_json_get_string(&questions->items[1], "id"), "q2");
    CHECK(dala_json_get(&questions->items[1], "show_if") == NULL);  /* absent */
    CHECK(dala_json_get(questions, "id") == NULL);                  /* not an object */
    CHECK(dala_json_get(NULL, "id") == NULL);
    CHECK(dala_json_get_string(json, "n") == NULL);                 /* not a string */
    CHECK(dala_json_get_string(json, "questions") == NULL);
    CHECK(dala_json_get_string(json, "missing") == NULL);
done:
    dala_json_free(json);
}

static void test_json_parse_reads_only_len_bytes(void)
{
    dala_json *json = NULL;
    CHECK_OK(dala_json_parse(&json, "[1]garbage", 3, 0));
    CHECK(json && json->type == DALA_JSON_ARRAY && json->count == 1);
    dala_json_free(json);
    dala_json_free(NULL); /* fine */
}

/* --- refusals ----------------------------------------------------------------- */

static void test_json_parse_rejects_trailing_comma(void)
{
    CHECK_REFUSED("[1, 2,]", DALA_EINVAL, "offset 6: trailing comma in an array");
    CHECK_REFUSED("{\"a\": 1,}", DALA_EINVAL, "trailing comma in an object");
    CHECK_REFUSED("{\"a\": 1, }", DALA_EINVAL, "trailing comma in an object");
    CHECK_REFUSED("[,]", DALA_EINVAL, "expected a value");
    CHECK_REFUSED("[1,,2]", DALA_EINVAL, "expected a value");
    CHECK_REFUSED("{,}", DALA_EINVAL, "expected a string key");
}

static void test_json_parse_rejects_comments(void)
{
    CHECK_REFUSED("// note\n1", DALA_EINVAL, "no comments");
    CHECK_REFUSED("[1 /* note */]", DALA_EINVAL, "expected ',' or ']' in an array, found '/'");
    CHECK_REFUSED("[/* note */ 1]", DALA_EINVAL, "no comments");
    CHECK_REFUSED("{\"a\": 1 # note\n}", DALA_EINVAL, "found '#'");
}

static void test_json_parse_rejects_leading_zero(void)
{
    CHECK_REFUSED("01", DALA_EINVAL, "offset 0: leading zero");
    CHECK_REFUSED("-01", DALA_EINVAL, "leading zero");
    CHECK_REFUSED("[00]", DALA_EINVAL, "offset 1: leading zero");
    CHECK_REFUSED("{\"age\": 007}", DALA_EINVAL, "leading zero");
    dala_json *json = PARSE_OK("[0, -0, 0.5, 0e1, 10]"); /* a lone zero is fine */
    if (json) CHECK_EQ_INT(json->count, 5);
    dala_json_free(json);
}

static void test_json_parse_rejects_malformed_numbers(void)
{
    const char *bad[] = {"-", "1.", ".5", "1e", "1e+", "+1", "NaN", "Infinity", "-Infinity", "0x10",
                         "1.e5", "- 1", "[1.]", "--1", "1e1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_refused(__LINE__, bad[i], strlen(bad[i]), DALA_EINVAL, NULL);
    CHECK_REFUSED("1e400", DALA_EINVAL, "out of the range of a double");
    CHECK_REFUSED("[-1e309]", DALA_EINVAL, "offset 1: number out of the range");
}

static void test_json_parse_rejects_numbers_longer_than_the_cap(void)
{
    char text[DALA_JSON_MAX_NUMBER_BYTES + 2];
    memset(text, '0', sizeof text);
    text[0] = '1';
    check_refused(__LINE__, text, DALA_JSON_MAX_NUMBER_BYTES + 1, DALA_ELIMIT, "number of 513 bytes");
    text[1] = '.'; /* "1.000...": exactly at the cap */
    dala_json *json = NULL;
    CHECK_OK(parse_exact(&json, text, DALA_JSON_MAX_NUMBER_BYTES, 0));
    CHECK(json && json->number == 1.0 && !json->is_integer);
    dala_json_free(json);
}

static void test_json_parse_rejects_lone_surrogates(void)
{
    CHECK_REFUSED("\"\\ud800\"", DALA_EINVAL, "offset 1: lone high surrogate");
    CHECK_REFUSED("\"\\udc00\"", DALA_EINVAL, "lone low surrogate");
    CHECK_REFUSED("\"\\ude00\\ud83d\"", DALA_EINVAL, "lone low surrogate"); /* pair in the wrong order */
    CHECK_REFUSED("\"\\ud83dx\"", DALA_EINVAL, "lone high surrogate");
    CHECK_REFUSED("\"\\ud83d\\u0041\"", DALA_EINVAL, "lone high surrogate");
    CHECK_REFUSED("\"\\ud83d\\ud83d\"", DALA_EINVAL, "lone high surrogate");
    CHECK_REFUSED("\"\\ud83d\\ude0\"", DALA_EINVAL, "lone high surrogate");
    CHECK_REFUSED("{\"\\ud800\": 1}", DALA_EINVAL, "surrogate"); /* in a key too */
}

static void test_json_parse_rejects_bad_escapes(void)
{
    CHECK_REFUSED("\"\\x41\"", DALA_EINVAL, "unknown escape '\\x'");
    CHECK_REFUSED("\"\\U0041\"", DALA_EINVAL, "unknown escape");
    CHECK_REFUSED("\"\\u00g1\"", DALA_EINVAL, "four hex digits");
    CHECK_REFUSED("\"\\u004\"", DALA_EINVAL, "four hex digits");
    CHECK_REFUSED("\"\\'\"", DALA_EINVAL, "unknown escape (backslash, byte 0x27)");
    CHECK_REFUSED("\"\\\xd2\x9a\"", DALA_EINVAL, "byte 0xD2");
}

static void test_json_parse_rejects_nul_in_strings(void)
{
    CHECK_REFUSED("\"a\\u0000b\"", DALA_EINVAL, "offset 2: \\u0000 in a string");
    CHECK_REFUSED("{\"\\u0000\": 1}", DALA_EINVAL, "\\u0000");
    CHECK_REFUSED("\"a\0b\"", DALA_EINVAL, "control character 0x00");
}

static void test_json_parse_rejects_invalid_utf8(void)
{
    CHECK_REFUSED("\"\xc0\x80\"", DALA_EINVAL, "offset 1: invalid UTF-8"); /* overlong NUL */
    CHECK_REFUSED("\"a\xed\xa0\x80\"", DALA_EINVAL, "offset 2: invalid UTF-8"); /* surrogate U+D800 */
    CHECK_REFUSED("\"\xf5\x80\x80\x80\"", DALA_EINVAL, "invalid UTF-8 in a string (byte 0xF5)");
    CHECK_REFUSED("\"\xf4\x90\x80\x80\"", DALA_EINVAL, "invalid UTF-8"); /* past U+10FFFF */
    CHECK_REFUSED("\"\xe0\x80\xaf\"", DALA_EINVAL, "invalid UTF-8");     /* overlong '/' */
    CHECK_REFUSED("\"\xc1\xbf\"", DALA_EINVAL, "invalid UTF-8");
    CHECK_REFUSED("\"\x80\"", DALA_EINVAL, "invalid UTF-8");             /* a lone continuation */
    CHECK_REFUSED("\"\xd2\"", DALA_EINVAL, "invalid UTF-8");             /* cut before the quote */
    CHECK_REFUSED("\"\xe2\x82\"", DALA_EINVAL, "invalid UTF-8");
    CHECK_REFUSED("\"\xd2x\"", DALA_EINVAL, "invalid UTF-8");
    CHECK_REFUSED("\"\xff\"", DALA_EINVAL, "invalid UTF-8");
    CHECK_REFUSED("{\"\xc0\x80\": 1}", DALA_EINVAL, "invalid UTF-8");    /* in a key */
    CHECK_REFUSED("\xd2\x9a", DALA_EINVAL, "expected a value, found byte 0xD2"); /* outside a string */
    CHECK_REFUSED("\xef\xbb\xbf{}", DALA_EINVAL, "byte 0xEF");            /* no byte order mark */
}

static void test_json_parse_rejects_control_characters_in_strings(void)
{
    CHECK_REFUSED("\"a\nb\"", DALA_EINVAL, "offset 2: control character 0x0A in a string");
    CHECK_REFUSED("\"\t\"", DALA_EINVAL, "control character 0x09");
    CHECK_REFUSED("\"\x01\"", DALA_EINVAL, "control character 0x01");
    CHECK_REFUSED("\"\x1f\"", DALA_EINVAL, "control character 0x1F");
    CHECK_REFUSED("{\"a\rb\": 1}", DALA_EINVAL, "control character 0x0D");
    dala_json *json = PARSE_OK("\"\x7f \\u001f\""); /* DEL is allowed, and escapes are */
    if (json) CHECK_EQ_STR(json->string, "\x7f \x1f");
    dala_json_free(json);
}

static void test_json_parse_rejects_duplicate_keys(void)
{
    CHECK_REFUSED("{\"a\": 1, \"a\": 2}", DALA_EINVAL, "json: offset 9: duplicate key");
    CHECK_REFUSED("{\"a\": 1, \"\\u0061\": 2}", DALA_EINVAL, "offset 9: duplicate key"); /* same once decoded */
    CHECK_REFUSED("[{\"q\": {\"x\": 1, \"y\": 2, \"x\": 3}}]", DALA_EINVAL, "offset 24: duplicate key");
    dala_json *json = PARSE_OK("{\"a\": {\"a\": 1}, \"b\": {\"a\": 2}, \"A\": 3}"); /* one per object is fine */
    if (json) CHECK_EQ_INT(json->count, 3);
    dala_json_free(json);

    /* A large object: the earliest repetition is named. */
    char text[8000];
    size_t n = (size_t)snprintf(text, sizeof text, "{");
    size_t repeat_at = 0;
    for (int i = 0; i < 500; i++) {
        if (i == 400) repeat_at = n + (i ? 1 : 0);
        n += (size_t)snprintf(text + n, sizeof text - n, "%s\"k%d\": %d", i ? "," : "", i == 400 ? 250 : i, i);
    }
    snprintf(text + n, sizeof text - n, "}");
    char needle[64];
    snprintf(needle, sizeof needle, "offset %zu: duplicate key", repeat_at);
    check_refused(__LINE__, text, strlen(text), DALA_EINVAL, needle);
}

static void test_json_parse_refuses_nesting_deeper_than_the_cap(void)
{
    char text[2 * (DALA_JSON_MAX_DEPTH + 1) + 1];
    for (int depth = DALA_JSON_MAX_DEPTH; depth <= DALA_JSON_MAX_DEPTH + 1; depth++) {
        memset(text, '[', (size_t)depth);
        memset(text + depth, ']', (size_t)depth);
        int rc = parse_exact(NULL, text, 2 * (size_t)depth, 0);
        CHECK_EQ_INT(rc, depth <= DALA_JSON_MAX_DEPTH ? DALA_OK : DALA_ELIMIT);
    }
    CHECK_CONTAINS(dala_errmsg(), "offset 32: nesting deeper than 32");

    /* Objects, through member values: 32 deep fit, 33 do not. */
    char objects[400];
    for (int depth = DALA_JSON_MAX_DEPTH; depth <= DALA_JSON_MAX_DEPTH + 1; depth++) {
        objects[0] = '\0';
        for (int i = 0; i < depth; i++) strcat(objects, "{\"a\":");
        strcat(objects, "1");
        for (int i = 0; i < depth; i++) strcat(objects, "}");
        check_refused(__LINE__, objects, strlen(objects), depth <= DALA_JSON_MAX_DEPTH ? DALA_OK : DALA_ELIMIT,
                      depth <= DALA_JSON_MAX_DEPTH ? NULL : "nesting deeper");
    }

    /* Deep and unclosed, as an attacker would send it: still the limit. */
    char deep[10000];
    memset(deep, '[', sizeof deep);
    CHECK_EQ_INT(parse_exact(NULL, deep, sizeof deep, 0), DALA_ELIMIT);
}

static void test_json_parse_refuses_more_values_than_max_nodes(void)
{
    /* [1, [2, 3]] holds five values. */
    static const char text[] = "[1, [2, 3]]";
    CHECK_OK(parse_exact(NULL, text, sizeof text - 1, 5));
    CHECK_EQ_INT(parse_exact(NULL, text, sizeof text - 1, 4), DALA_ELIMIT);
    CHECK_CONTAINS(dala_errmsg(), "offset 8: more than 4 values");
    CHECK_EQ_INT(parse_exact(NULL, "{\"a\": 1}", 8, 1), DALA_ELIMIT); /* keys are not values */
    CHECK_OK(parse_exact(NULL, "{\"a\": 1}", 8, 2));

    /* 0 means DALA_JSON_DEFAULT_MAX_NODES: an array and that many values
     * less one fit, one more does not. "[0,0,...,0]" of k items is 2k + 1
     * bytes, its ']' at 2k. */
    size_t k = DALA_JSON_DEFAULT_MAX_NODES - 1;
    char *big = malloc(2 * (k + 1) + 1);
    if (!big) abort();
    big[0] = '[';
    for (size_t i = 0; i <= k; i++) {
        big[1 + 2 * i] = '0';
        big[2 + 2 * i] = ',';
    }
    big[2 * k] = ']';
    CHECK_OK(parse_exact(NULL, big, 2 * k + 1, 0));
    big[2 * k] = ',';
    big[2 * (k + 1)] = ']';
    CHECK_EQ_INT(parse_exact(NULL, big, 2 * (k + 1) + 1, 0), DALA_ELIMIT);
    CHECK_CONTAINS(dala_errmsg(), "more than 100000 values");
    free(big);
}

static void test_json_parse_fails_cleanly_on_every_truncation(void)
{
    size_t len = sizeof sample_answers - 1;
    CHECK_OK(parse_exact(NULL, sample_answers, len, 0));
    for (size_t cut = 0; cut < len; cut++) {
        int rc = parse_exact(NULL, sample_answers, cut, 0);
        if (rc != DALA_EINVAL) {
            test_fail(__FILE__, __LINE__, "the first %zu bytes returned %d (%s)", cut, rc, dala_errmsg());
            break;
        }
        if (strncmp(dala_errmsg(), "json: offset ", 13) != 0) {
            test_fail(__FILE__, __LINE__, "the first %zu bytes: \"%s\"", cut, dala_errmsg());
            break;
        }
    }
    CHECK_REFUSED("\"unterminated", DALA_EINVAL, "offset 13: unterminated string (it opened at offset 0)");
    CHECK_REFUSED("[1, 2", DALA_EINVAL, "offset 5: expected ',' or ']' in an array, found the end of the input");
    CHECK_REFUSED("\"a\\", DALA_EINVAL, "unterminated string");
    CHECK_REFUSED("tru", DALA_EINVAL, "offset 3: expected 'true'");
}

static void test_json_parse_rejects_trailing_garbage(void)
{
    CHECK_REFUSED("1 2", DALA_EINVAL, "offset 2: expected the end of the input after the value, found '2'");
    CHECK_REFUSED("{} x", DALA_EINVAL, "found 'x'");
    CHECK_REFUSED("[]]", DALA_EINVAL, "offset 2");
    CHECK_REFUSED("nullx", DALA_EINVAL, "offset 4");
    CHECK_REFUSED("\"a\"\"b\"", DALA_EINVAL, "offset 3");
    CHECK_REFUSED("{}\0", DALA_EINVAL, "found byte 0x00");
    CHECK_REFUSED("True", DALA_EINVAL, "expected a value");
    CHECK_REFUSED("nul", DALA_EINVAL, "expected 'null'");
    CHECK_REFUSED("falsy", DALA_EINVAL, "offset 4: expected 'false'");
    CHECK_REFUSED("{\"a\" 1}", DALA_EINVAL, "json: offset 5: expected ':' after a key, found '1'");
    CHECK_REFUSED("{\"a\": 1 \"b\": 2}", DALA_EINVAL, "expected ',' or '}' in an object");
    CHECK_REFUSED("{a: 1}", DALA_EINVAL, "expected a string key, found 'a'");
    CHECK_REFUSED("['a']", DALA_EINVAL, "found byte 0x27");
}

static void test_json_parse_rejects_empty_input(void)
{
    CHECK_REFUSED("", DALA_EINVAL, "offset 0: empty input");
    CHECK_REFUSED(" \n\t\r ", DALA_EINVAL, "offset 5: empty input");
    dala_json *json = (dala_json *)&json;
    CHECK_EQ_INT(dala_json_parse(&json, NULL, 0, 0), DALA_EINVAL);
    CHECK(json == NULL);
    CHECK_EQ_INT(dala_json_parse(&json, NULL, 4, 0), DALA_EINVAL);
    CHECK(json == NULL);
}

static void test_json_parse_errors_quote_at_most_one_byte(void)
{
    /* Each holds the word "Qzxv" where the parser stops; the message may
     * show one byte of it, never two. */
    const char *bad[] = {"{\"Qzxv\": 1, \"Qzxv\": 2}", "\"Qzxv\x01\"", "[Qzxv]", "{\"Qzxv\" 1}",
                         "\"Qzxv", "{Qzxv: 1}", "1 Qzxv", "\"\\Qzxv\"", "\"\\uQzxv\"", "tQzxv", "-Qzxv",
                         "1.Qzxv", "[1 Qzxv]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(parse_exact(NULL, bad[i], strlen(bad[i]), 0) == DALA_EINVAL);
        if (strstr(dala_errmsg(), "Qz") || strstr(dala_errmsg(), "zx") || strstr(dala_errmsg(), "xv"))
            test_fail(__FILE__, __LINE__, "parsing \"%s\" quoted it: \"%s\"", bad[i], dala_errmsg());
    }
}

/* --- failing allocations -------------------------------------------------------- */

static void test_json_parse_survives_every_failing_allocation(void)
{
    size_t len = sizeof sample_answers - 1;
    long failures = 0;
    for (long n = 1; n <= 1000; n++) {
        dala_json *json = (dala_json *)&json;
        dala_alloc_fail_after(n);
        int rc = dala_json_parse(&json, sample_answers, len, 0);
        dala_alloc_fail_after(0);
        if (rc == DALA_OK) {
            CHECK(json != NULL);
            CHECK_EQ_STR(dala_json_get_string(dala_json_get(json, "answers"), "q1"), KAZAKHSTAN);
            dala_json_free(json);
            CHECK(failures > 20); /* strings, keys, arrays, stacks: each failed once */
            return;
        }
        if (rc != DALA_ENOMEM || json != NULL) {
            test_fail(__FILE__, __LINE__, "allocation %ld failing: returned %d (%s), tree %p", n, rc,
                      dala_errmsg(), (void *)json);
            return;
        }
        failures++;
    }
    test_fail(__FILE__, __LINE__, "the parse never succeeded");
}

const dala_test json_parse_tests[] = {
    {"json_parse_reads_every_type", test_json_parse_reads_every_type},
    {"json_parse_decodes_kazakh_from_escapes_and_raw_utf8", test_json_parse_decodes_kazakh_from_escapes_and_raw_utf8},
    {"json_parse_decodes_surrogate_pair_to_one_emoji", test_json_parse_decodes_surrogate_pair_to_one_emoji},
    {"json_parse_decodes_every_escape", test_json_parse_decodes_every_escape},
    {"json_parse_tells_integers_from_reals", test_json_parse_tells_integers_from_reals},
    {"json_parse_reads_numbers_at_the_edges_of_a_double", test_json_parse_reads_numbers_at_the_edges_of_a_double},
    {"json_parse_looks_up_nested_members", test_json_parse_looks_up_nested_members},
    {"json_parse_reads_only_len_bytes", test_json_parse_reads_only_len_bytes},
    {"json_parse_rejects_trailing_comma", test_json_parse_rejects_trailing_comma},
    {"json_parse_rejects_comments", test_json_parse_rejects_comments},
    {"json_parse_rejects_leading_zero", test_json_parse_rejects_leading_zero},
    {"json_parse_rejects_malformed_numbers", test_json_parse_rejects_malformed_numbers},
    {"json_parse_rejects_numbers_longer_than_the_cap", test_json_parse_rejects_numbers_longer_than_the_cap},
    {"json_parse_rejects_lone_surrogates", test_json_parse_rejects_lone_surrogates},
    {"json_parse_rejects_bad_escapes", test_json_parse_rejects_bad_escapes},
    {"json_parse_rejects_nul_in_strings", test_json_parse_rejects_nul_in_strings},
    {"json_parse_rejects_invalid_utf8", test_json_parse_rejects_invalid_utf8},
    {"json_parse_rejects_control_characters_in_strings", test_json_parse_rejects_control_characters_in_strings},
    {"json_parse_rejects_duplicate_keys", test_json_parse_rejects_duplicate_keys},
    {"json_parse_refuses_nesting_deeper_than_the_cap", test_json_parse_refuses_nesting_deeper_than_the_cap},
    {"json_parse_refuses_more_values_than_max_nodes", test_json_parse_refuses_more_values_than_max_nodes},
    {"json_parse_fails_cleanly_on_every_truncation", test_json_parse_fails_cleanly_on_every_truncation},
    {"json_parse_rejects_trailing_garbage", test_json_parse_rejects_trailing_garbage},
    {"json_parse_rejects_empty_input", test_json_parse_rejects_empty_input},
    {"json_parse_errors_quote_at_most_one_byte", test_json_parse_errors_quote_at_most_one_byte},
    {"json_parse_survives_every_failing_allocation", test_json_parse_survives_every_failing_allocation},
    {NULL, NULL},
};
