/* test_records_gen.c - suite `records_gen`: the record generator that the
 * tests and benchmarks build on is deterministic, realistic in size and
 * language, valid for the codec, and its JSON says what its fields say. */
#include "dala_sync.h"
#include "records_gen.h"
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>

#define SAMPLE_RECORDS 1000

/* ------------------------------------------------------------ helpers */

/* Whether `len` bytes are well-formed UTF-8 (no overlongs, surrogates or
 * code points past U+10FFFF). Written here, apart from the library's own
 * check, so the two cannot share a mistake. */
static int is_valid_utf8(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        size_t n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                 : (c & 0xf8) == 0xf0 ? 3 : 4;
        if (n == 4 || n > len - i - 1) return 0;
        uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1fu) : n == 2 ? (c & 0x0fu) : (c & 0x07u);
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        static const uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += n + 1;
    }
    return 1;
}

/* Whether the text has one of the letters Kazakh adds to Cyrillic. */
static int has_kazakh_letter(const char *s)
{
    static const char *const letters[] = {"ә", "ғ", "қ", "ң", "ө", "ұ", "ү", "һ", "і",
                                          "Ә", "Ғ", "Қ", "Ң", "Ө", "Ұ", "Ү", "Һ", "І"};
    for (size_t i = 0; i < sizeof letters / sizeof letters[0]; i++)
        if (strstr(s, letters[i])) return 1;
    return 0;
}

/* Whether the text has a Russian function word (Kazakh has none of them). */
static int has_russian_word(const char *s)
{
    static const char *const words[] = {" и ", " в ", " во ", " с ", " со ", " на ",
                                        " по ", " не ", " за ", " об ", " из ", " от ",
                                        " у ", " к ", " что ", " как "};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(s, words[i])) return 1;
    return 0;
}

/* A text field's value as a NUL-terminated copy in `out` (cap bytes). */
static const char *field_text(const gen_record *rec, const char *name, char *out, size_t cap)
{
    const dala_field *field = gen_record_field(rec, name);
    out[0] = '\0';
    if (!field || field->value.type != DALA_VALUE_TEXT || field->value.len >= cap) return out;
    memcpy(out, field->value.bytes, field->value.len);
    out[field->value.len] = '\0';
    return out;
}

/* Whether `name` follows the codec's rule: [a-z][a-z0-9_]*, 1-63 bytes. */
static int is_codec_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > DALA_MAX_NAME_BYTES || name[0] < 'a' || name[0] > 'z') return 0;
    for (size_t i = 1; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '_'))
            return 0;
    return 1;
}

/* ------------------------------------------------- a strict JSON reader */

/* Just enough JSON (RFC 8259) for a flat object of strings and numbers. */
typedef struct json_cursor {
    const char *pos;
    const char *end;
} json_cursor;

static int json_expect(json_cursor *c, char ch)
{
    if (c->pos >= c->end || *c->pos != ch) return 0;
    c->pos++;
    return 1;
}

/* Reads a string into `out` (unescaped, NUL-terminated); 0 if malformed. */
static int json_read_string(json_cursor *c, char *out, size_t cap)
{
    size_t len = 0;
    if (!json_expect(c, '"')) return 0;
    while (c->pos < c->end && *c->pos != '"') {
        unsigned char ch = (unsigned char)*c->pos++;
        if (ch < 0x20) return 0;
        if (ch == '\\') {
            if (c->pos >= c->end) return 0;
            char esc = *c->pos++;
            const char *simple = strchr("\"\\/bfnrt", esc);
            if (!simple || esc == '\0') {
                unsigned cp;
                if (esc != 'u' || c->end - c->pos < 4 || sscanf(c->pos, "%4x", &cp) != 1 || cp >= 0x80)
                    return 0; /* the generator escapes only ASCII controls */
                c->pos += 4;
                ch = (unsigned char)cp;
            } else {
                ch = (unsigned char)"\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            }
        }
        if (len + 1 >= cap) return 0;
        out[len++] = (char)ch;
    }
    out[len] = '\0';
    return json_expect(c, '"');
}

/* Reads a number by the RFC's grammar; `*is_integer` when it has no
 * fraction or exponent. */
static int json_read_number(json_cursor *c, int *is_integer, long long *integer, double *real)
{
    const char *start = c->pos, *p = c->pos;
    if (p < c->end && *p == '-') p++;
    if (p >= c->end || *p < '0' || *p > '9') return 0;
    if (*p == '0') p++;
    else while (p < c->end && *p >= '0' && *p <= '9') p++;
    *is_integer = 1;
    if (p < c->end && *p == '.') {
        *is_integer = 0;
        if (++p >= c->end || *p < '0' || *p > '9') return 0;
        while (p < c->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < c->end && (*p == 'e' || *p == 'E')) return 0; /* never written */
    char number[64];
    if ((size_t)(p - start) >= sizeof number) return 0;
    memcpy(number, start, (size_t)(p - start));
    number[p - start] = '\0';
    *integer = strtoll(number, NULL, 10);
    *real = strtod(number, NULL);
    c->pos = p;
    return 1;
}

/* Checks that one JSON member (name and value) equals `field`. */
static int json_member_matches(json_cursor *c, const dala_field *field)
{
    static char text[4096];
    if (!json_read_string(c, text, sizeof text) || strcmp(text, field->name) != 0) return 0;
    if (!json_expect(c, ':')) return 0;
    if (field->value.type == DALA_VALUE_TEXT)
        return json_read_string(c, text, sizeof text) && strlen(text) == field->value.len &&
               memcmp(text, field->value.bytes, field->value.len) == 0;
    int is_integer;
    long long integer;
    double real;
    if (!json_read_number(c, &is_integer, &integer, &real)) return 0;
    if (field->value.type == DALA_VALUE_INT) return is_integer && integer == field->value.integer;
    return field->value.type == DALA_VALUE_REAL && real == field->value.real;
}

/* Whether `json` is exactly {"id":"<id>", then each field in order}. */
static int json_matches_record(const char *json, size_t len, const char *id,
                               const dala_field *fields, size_t count)
{
    char text[64];
    json_cursor c = {json, json + len};
    if (!json_expect(&c, '{') || !json_read_string(&c, text, sizeof text) || strcmp(text, "id"))
        return 0;
    if (!json_expect(&c, ':') || !json_read_string(&c, text, sizeof text) || strcmp(text, id))
        return 0;
    for (size_t i = 0; i < count; i++)
        if (!json_expect(&c, ',') || !json_member_matches(&c, &fields[i])) return 0;
    return json_expect(&c, '}') && c.pos == c.end;
}

/* -------------------------------------------------------------- tests */

static void test_records_gen_same_seed_same_records(void)
{
    records_gen a, b;
    records_gen_init(&a, 42);
    records_gen_init(&b, 42);
    for (int i = 0; i < 200; i++) {
        gen_record ra, rb;
        CHECK_OK(records_gen_next(&a, &ra));
        CHECK_OK(records_gen_next(&b, &rb));
        CHECK_EQ_MEM(ra.id, rb.id, DALA_UUID_BYTES);
        CHECK_EQ_INT(ra.json_len, rb.json_len);
        if (ra.json_len == rb.json_len) CHECK_EQ_MEM(ra.json, rb.json, ra.json_len);
        gen_delta da, db;
        CHECK_OK(records_gen_delta(&a, &da, &ra, NULL, 1, 2, 7));
        CHECK_OK(records_gen_delta(&b, &db, &rb, NULL, 1, 2, 7));
        CHECK_EQ_STR(da.json, db.json);
        gen_record_free(&ra);
        gen_record_free(&rb);
    }
}

static void test_records_gen_different_seeds_differ(void)
{
    static const uint64_t seeds[] = {0, 1, 2, UINT64_MAX};
    char first[4][DALA_UUID_TEXT_LEN + 1];
    for (size_t s = 0; s < 4; s++) {
        records_gen gen;
        gen_record rec;
        records_gen_init(&gen, seeds[s]);
        CHECK_OK(records_gen_next(&gen, &rec));
        memcpy(first[s], rec.id_text, sizeof first[s]);
        for (size_t t = 0; t < s; t++) CHECK(strcmp(first[s], first[t]) != 0);
        gen_record_free(&rec);
    }
}

static void test_records_gen_json_averages_1100_to_1300_bytes(void)
{
    static const uint64_t seeds[] = {1, 2024};
    for (size_t s = 0; s < 2; s++) {
        records_gen gen;
        size_t total = 0;
        records_gen_init(&gen, seeds[s]);
        for (int i = 0; i < SAMPLE_RECORDS; i++) {
            gen_record rec;
            CHECK_OK(records_gen_next(&gen, &rec));
            total += rec.json_len;
            gen_record_free(&rec);
        }
        size_t mean = total / SAMPLE_RECORDS;
        if (mean < 1100 || mean > 1300)
            test_fail(__FILE__, __LINE__, "seed %llu: mean JSON %zu bytes, expected 1100-1300",
                      (unsigned long long)seeds[s], mean);
    }
}

static void test_records_gen_findings_are_300_to_600_bytes(void)
{
    records_gen gen;
    records_gen_init(&gen, 5);
    for (int i = 0; i < SAMPLE_RECORDS; i++) {
        gen_record rec;
        CHECK_OK(records_gen_next(&gen, &rec));
        const dala_field *findings = gen_record_field(&rec, "findings");
        CHECK(findings != NULL);
        if (findings && (findings->value.len < 300 || findings->value.len > 600))
            test_fail(__FILE__, __LINE__, "record %d: findings of %zu bytes", i, findings->value.len);
        gen_record_free(&rec);
    }
}

static void test_records_gen_json_is_utf8_with_kazakh_and_russian(void)
{
    records_gen gen;
    char findings[1024];
    records_gen_init(&gen, 11);
    for (int i = 0; i < SAMPLE_RECORDS; i++) {
        gen_record rec;
        CHECK_OK(records_gen_next(&gen, &rec));
        CHECK(is_valid_utf8((const uint8_t *)rec.json, rec.json_len));
        CHECK_EQ_INT(strlen(rec.json), rec.json_len);
        field_text(&rec, "findings", findings, sizeof findings);
        CHECK(has_kazakh_letter(findings));
        CHECK(has_russian_word(findings));
        gen_record_free(&rec);
    }
}

static void test_records_gen_json_matches_the_fields(void)
{
    records_gen gen;
    records_gen_init(&gen, 12);
    for (int i = 0; i < SAMPLE_RECORDS; i++) {
        gen_record rec;
        CHECK_OK(records_gen_next(&gen, &rec));
        if (!json_matches_record(rec.json, rec.json_len, rec.id_text, rec.fields, rec.field_count))
            test_fail(__FILE__, __LINE__, "record %d: JSON differs from fields: %s", i, rec.json);
        gen_record_free(&rec);
    }
}

static void test_records_gen_escapes_quotes_in_json(void)
{
    records_gen gen;
    int quoted = 0;
    records_gen_init(&gen, 13);
    for (int i = 0; i < SAMPLE_RECORDS && !quoted; i++) {
        gen_record rec;
        CHECK_OK(records_gen_next(&gen, &rec));
        quoted = strstr(rec.json, "\\\"") != NULL; /* НПО "..." in the findings */
        gen_record_free(&rec);
    }
    CHECK(quoted);
}

static void test_records_gen_field_names_are_valid_for_codec(void)
{
    records_gen gen;
    gen_record rec;
    records_gen_init(&gen, 3);
    CHECK_OK(records_gen_next(&gen, &rec));
    CHECK(is_codec_name(GEN_TABLE));
    CHECK_EQ_INT(rec.field_count, GEN_RECORD_FIELDS);
    for (size_t i = 0; i < rec.field_count; i++) {
        if (!is_codec_name(rec.fields[i].name))
            test_fail(__FILE__, __LINE__, "field name \"%s\" is not valid", rec.fields[i].name);
        for (size_t k = 0; k < i; k++) CHECK(strcmp(rec.fields[i].name, rec.fields[k].name) != 0);
        CHECK(rec.fields[i].value.type == DALA_VALUE_TEXT || rec.fields[i].value.type == DALA_VALUE_INT ||
              rec.fields[i].value.type == DALA_VALUE_REAL);
        CHECK_EQ_U64(rec.fields[i].base_hlc, 0);
    }
    gen_record_free(&rec);
}

static void test_records_gen_ids_are_uuid_v7_of_the_save_time(void)
{
    records_gen gen;
    records_gen_init(&gen, 4);
    for (int i = 0; i < 100; i++) {
        gen_record rec;
        uint8_t parsed[DALA_UUID_BYTES];
        CHECK_OK(records_gen_next(&gen, &rec));
        CHECK_EQ_INT(rec.id[6] >> 4, 7);
        CHECK_EQ_INT(rec.id[8] >> 6, 2);
        uint64_t ms = 0;
        for (int k = 0; k < 6; k++) ms = ms << 8 | rec.id[k];
        CHECK_EQ_U64(ms, rec.created_ms);
        CHECK(ms > UINT64_C(1704067200000)); /* 2024 or later */
        CHECK_OK(dala_uuid_parse(parsed, rec.id_text));
        CHECK_EQ_MEM(parsed, rec.id, DALA_UUID_BYTES);
        gen_record_free(&rec);
    }
}

/* Makes `count` records and their changes, hlc 1000 + i, device 77. */
static void make_changes(records_gen *gen, gen_record *recs, dala_change *changes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        CHECK_OK(records_gen_next(gen, &recs[i]));
        gen_record_change(&changes[i], &recs[i], 1000 + i, 77);
    }
}

/* Whether two fields have the same name, value and base. */
static int same_field(const dala_field *a, const dala_field *b)
{
    if (strcmp(a->name, b->name) || a->value.type != b->value.type || a->base_hlc != b->base_hlc)
        return 0;
    switch (a->value.type) {
    case DALA_VALUE_INT: return a->value.integer == b->value.integer;
    case DALA_VALUE_REAL: return a->value.real == b->value.real;
    default:
        return a->value.len == b->value.len && memcmp(a->value.bytes, b->value.bytes, a->value.len) == 0;
    }
}

static void check_same_change(const dala_change *got, const dala_change *want)
{
    CHECK_EQ_STR(got->table, want->table);
    CHECK_EQ_MEM(got->record_id, want->record_id, DALA_UUID_BYTES);
    CHECK_EQ_U64(got->hlc, want->hlc);
    CHECK_EQ_U64(got->device_id, want->device_id);
    CHECK_EQ_INT(got->field_count, want->field_count);
    for (size_t f = 0; f < got->field_count && f < want->field_count; f++)
        if (!same_field(&got->fields[f], &want->fields[f]))
            test_fail(__FILE__, __LINE__, "field %s differs after decoding", want->fields[f].name);
}

static void test_records_gen_batch_round_trips_through_codec(void)
{
    enum { COUNT = 100 };
    static gen_record recs[COUNT];
    static dala_change changes[COUNT];
    records_gen gen;
    dala_buf encoded = DALA_BUF_INIT, again = DALA_BUF_INIT;
    dala_batch *batch = NULL;
    records_gen_init(&gen, 6);
    make_changes(&gen, recs, changes, COUNT);
    CHECK_OK(dala_batch_encode(&encoded, GEN_SCHEMA_VERSION, 9, changes, COUNT));
    CHECK_OK(dala_batch_decode(&batch, encoded.data, encoded.len, COUNT));
    if (batch) {
        CHECK_EQ_INT(batch->schema_version, GEN_SCHEMA_VERSION);
        CHECK_EQ_U64(batch->batch_seq, 9);
        CHECK_EQ_INT(batch->change_count, COUNT);
        for (size_t i = 0; i < batch->change_count && i < COUNT; i++)
            check_same_change(&batch->changes[i], &changes[i]);
        CHECK_OK(dala_batch_encode(&again, batch->schema_version, batch->batch_seq, batch->changes,
                                   batch->change_count));
        CHECK_EQ_INT(again.len, encoded.len);
        if (again.len == encoded.len) CHECK_EQ_MEM(again.data, encoded.data, encoded.len);
    }
    dala_batch_free(batch);
    dala_buf_free(&encoded);
    dala_buf_free(&again);
    for (size_t i = 0; i < COUNT; i++) gen_record_free(&recs[i]);
}

/* One edit of `field` (NULL: drawn) of a fresh record: checks its shape
 * and that it survives the codec. */
static void check_delta(records_gen *gen, const char *field)
{
    gen_record rec;
    gen_delta delta;
    dala_buf encoded = DALA_BUF_INIT;
    dala_batch *batch = NULL;
    CHECK_OK(records_gen_next(gen, &rec));
    CHECK_OK(records_gen_delta(gen, &delta, &rec, field, 500, 900, 3));
    CHECK_EQ_INT(delta.change.field_count, 1);
    CHECK(delta.change.fields == &delta.field);
    CHECK_EQ_U64(delta.field.base_hlc, 500);
    CHECK_EQ_U64(delta.change.hlc, 900);
    CHECK_EQ_MEM(delta.change.record_id, rec.id, DALA_UUID_BYTES);
    if (field) CHECK_EQ_STR(delta.field.name, field);
    const dala_field *old = gen_record_field(&rec, delta.field.name);
    CHECK(old != NULL && !same_field(old, &delta.field));
    CHECK(json_matches_record(delta.json, delta.json_len, rec.id_text, &delta.field, 1));
    gen_record_free(&rec); /* the edit must not point into the record */
    CHECK_OK(dala_batch_encode(&encoded, GEN_SCHEMA_VERSION, 0, &delta.change, 1));
    CHECK_OK(dala_batch_decode(&batch, encoded.data, encoded.len, 1));
    if (batch && batch->change_count == 1) check_same_change(&batch->changes[0], &delta.change);
    dala_batch_free(batch);
    dala_buf_free(&encoded);
}

static void test_records_gen_delta_changes_one_field(void)
{
    static const char *const fields[] = {"risk_level", "findings", "follow_up_date",
                                         "measures_taken", "protective_order", "referral",
                                         "children_count"};
    records_gen gen;
    records_gen_init(&gen, 8);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        for (int k = 0; k < 20; k++) check_delta(&gen, fields[i]);
    for (int k = 0; k < 200; k++) check_delta(&gen, NULL);
}

static void test_records_gen_delta_of_findings_keeps_earlier_sentences(void)
{
    records_gen gen;
    gen_record rec;
    gen_delta delta;
    records_gen_init(&gen, 9);
    CHECK_OK(records_gen_next(&gen, &rec));
    CHECK_OK(records_gen_delta(&gen, &delta, &rec, "findings", 1, 2, 3));
    const dala_field *old = gen_record_field(&rec, "findings");
    const dala_value *now = &delta.field.value;
    size_t common = 0, first_end = 0;
    while (common < old->value.len && common < now->len &&
           old->value.bytes[common] == now->bytes[common])
        common++;
    while (first_end + 1 < old->value.len &&
           !(old->value.bytes[first_end] == '.' && old->value.bytes[first_end + 1] == ' '))
        first_end++;
    CHECK(common > first_end);             /* the first sentence stays */
    CHECK(old->value.len - common < 300);  /* only the last one changed */
    CHECK(now->len > common);
    gen_record_free(&rec);
}

static void test_records_gen_delta_rejects_other_fields(void)
{
    records_gen gen;
    gen_record rec;
    gen_delta delta;
    records_gen_init(&gen, 10);
    CHECK_OK(records_gen_next(&gen, &rec));
    CHECK_EQ_INT(records_gen_delta(&gen, &delta, &rec, "latitude", 1, 2, 3), DALA_EINVAL);
    CHECK_EQ_INT(records_gen_delta(&gen, &delta, &rec, "no_such_field", 1, 2, 3), DALA_EINVAL);
    gen_record_free(&rec);
}

const dala_test records_gen_tests[] = {
    {"same_seed_same_records", test_records_gen_same_seed_same_records},
    {"different_seeds_differ", test_records_gen_different_seeds_differ},
    {"json_averages_1100_to_1300_bytes", test_records_gen_json_averages_1100_to_1300_bytes},
    {"findings_are_300_to_600_bytes", test_records_gen_findings_are_300_to_600_bytes},
    {"json_is_utf8_with_kazakh_and_russian", test_records_gen_json_is_utf8_with_kazakh_and_russian},
    {"json_matches_the_fields", test_records_gen_json_matches_the_fields},
    {"escapes_quotes_in_json", test_records_gen_escapes_quotes_in_json},
    {"field_names_are_valid_for_codec", test_records_gen_field_names_are_valid_for_codec},
    {"ids_are_uuid_v7_of_the_save_time", test_records_gen_ids_are_uuid_v7_of_the_save_time},
    {"batch_round_trips_through_codec", test_records_gen_batch_round_trips_through_codec},
    {"delta_changes_one_field", test_records_gen_delta_changes_one_field},
    {"delta_of_findings_keeps_earlier_sentences", test_records_gen_delta_of_findings_keeps_earlier_sentences},
    {"delta_rejects_other_fields", test_records_gen_delta_rejects_other_fields},
    {NULL, NULL},
};
