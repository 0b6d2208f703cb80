/* test_domain.c - the domain compiled into libdala_sync (docs/domain.md):
 * labels and messages in Kazakh and Russian, strict parsing of broken
 * definitions, every rule of every record type a tablet writes
 * (one valid record per type, then one edit per broken rule), schema
 * versions, updates checked against the stored record, and refusals as
 * they travel and as an officer reads them. */
#include "dala_sync.h"
#include "sync_int.h" /* dala_alloc_fail_after */
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TODAY "2026-06-15"
/* Records the check may refer to (known_record says they exist). */
#define VICTIM "0190f1c2-7a3b-7c4d-8e5f-000000000001"
#define OFFENDER "0190f1c2-7a3b-7c4d-8e5f-000000000002"
#define OFFENCE "0190f1c2-7a3b-7c4d-8e5f-000000000003"
#define VISIT "0190f1c2-7a3b-7c4d-8e5f-000000000004"
#define FORM_V1 "0190f1c2-7a3b-7c4d-8e5f-000000000011"
#define MISSING "0190f1c2-7a3b-7c4d-8e5f-000000000099"
#define FORM_V1_PATH "../schema/forms/vaw-survey-v1.json"

/* ------------------------------------------------------------ helpers */

/* One field of a change, its value spelled as text. */
typedef struct spec {
    const char *name; /* in an edit: "-name" leaves the field out, "+name" sets it a second time */
    char kind;        /* 't' text, 'i' int, 'r' real, 'n' null, 'L' text of `value` bytes */
    const char *value;
} spec;

/* An edit of a table's valid record and the refusal it must earn. */
typedef struct rule_case {
    spec edit;
    const char *field;   /* the field refused; NULL: the edited record must pass */
    const char *refusal; /* the rule and its argument: "range_min 1" */
    spec also[4];        /* more edits, when one is not enough */
} rule_case;

/* Rows of the tables below. DROP("x") leaves field x out; PASS: the edit
 * must pass; NEEDS: leaving the field out is refused "required"; BAD: a
 * value of the field is refused; REFUSE: an edit earns a refusal of a
 * field (maybe another: "required_when kind"). */
#define DROP(name) {"-" name, 0, NULL}
#define PASS(...) {.edit = __VA_ARGS__}
#define NEEDS(name) {.edit = DROP(name), .field = name, .refusal = "required"}
#define BAD(name, kind, value, why) {.edit = {name, kind, value}, .field = name, .refusal = why}
#define REFUSE(name, why, ...) {.edit = __VA_ARGS__, .field = name, .refusal = why}
#define END {.field = NULL}

typedef struct change_buf {
    dala_change change;
    dala_field fields[64];
} change_buf;

static const uint8_t *filler(void)
{
    static uint8_t bytes[100001];
    if (!bytes[0]) memset(bytes, 'a', sizeof bytes);
    return bytes;
}

static dala_value spec_value(const spec *s)
{
    dala_value v = {.type = DALA_VALUE_TEXT, .bytes = (const uint8_t *)s->value, .len = s->value ? strlen(s->value) : 0};
    if (s->kind == 'i') v = (dala_value){.type = DALA_VALUE_INT, .integer = strtoll(s->value, NULL, 10)};
    else if (s->kind == 'r') v = (dala_value){.type = DALA_VALUE_REAL, .real = strtod(s->value, NULL)};
    else if (s->kind == 'n') v = (dala_value){.type = DALA_VALUE_NULL};
    else if (s->kind == 'L') v.bytes = filler(), v.len = strtoul(s->value, NULL, 10);
    return v;
}

static void add_field(change_buf *b, const char *name, const spec *s)
{
    if (b->change.field_count < sizeof b->fields / sizeof b->fields[0])
        b->fields[b->change.field_count++] = (dala_field){name, spec_value(s), 0};
}

/* The edit of `name` among `edits` with `prefix` ('-', '+' or 0). */
static const spec *find_edit(const spec *edits, size_t count, const char *name, char prefix)
{
    for (size_t i = 0; i < count; i++) {
        const char *n = edits[i].name;
        if (n && (prefix ? n[0] == prefix && strcmp(n + 1, name) == 0 : strcmp(n, name) == 0)) return &edits[i];
    }
    return NULL;
}

/* A change to `table`: the fields of `valid` (ended by a NULL name) with
 * `edits` applied; an edit of a field `valid` lacks adds it. */
static const dala_change *build(change_buf *b, const char *table, const spec *valid, const spec *edits, size_t count)
{
    memset(b, 0, sizeof *b);
    b->change = (dala_change){.table = table, .record_id = {0x01, 0x97, 0x7a, 0x10, 0x42}, .hlc = 2,
                              .device_id = 1, .fields = b->fields};
    for (const spec *s = valid; s->name; s++) {
        const spec *e = find_edit(edits, count, s->name, 0);
        if (!find_edit(edits, count, s->name, '-')) add_field(b, s->name, e ? e : s);
    }
    for (size_t i = 0; i < count; i++) {
        const char *n = edits[i].name;
        int in_valid = 0;
        for (const spec *s = valid; n && s->name; s++) in_valid |= strcmp(s->name, n) == 0;
        if (n && n[0] == '+') add_field(b, n + 1, &edits[i]);
        else if (n && n[0] != '-' && !in_valid) add_field(b, n, &edits[i]);
    }
    return &b->change;
}

/* dala_check_env.record_exists: the records above, each of its table. */
static int known_record(void *context, const char *table, const char *id)
{
    static const char *const records[][2] = {{"person", VICTIM}, {"person", OFFENDER}, {"offence", OFFENCE},
                                             {"field_visit", VISIT}, {"survey_form", FORM_V1}};
    (void)context;
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++)
        if (strcmp(records[i][1], id) == 0 && (strcmp(table, "*") == 0 || strcmp(table, records[i][0]) == 0)) return 1;
    return 0;
}

/* dala_check_env.form_definition: FORM_V1 is the shipped questionnaire. */
static int form_text(void *context, const char *form_id, char **out)
{
    (void)context;
    *out = strcmp(form_id, FORM_V1) == 0 ? test_read_file(test_data_path(FORM_V1_PATH)) : NULL;
    return *out ? DALA_OK : DALA_ENOTFOUND;
}

static dala_check_env env_of(int is_server, uint32_t version, const dala_record *stored)
{
    return (dala_check_env){TODAY, version, is_server, stored, known_record, form_text, NULL};
}

/* Checks the change `valid` with `edits` applied: DALA_OK when `field`
 * is NULL, else a refusal of table.field with `refusal` ("code" or
 * "code arg"). */
static void try_change(const char *table, const spec *valid, const spec *edits, size_t count,
                       const dala_check_env *env, const char *field, const char *refusal)
{
    change_buf b;
    dala_invalid got;
    char rule[128];
    int rc = dala_change_check(&got, build(&b, table, valid, edits, count), env);
    snprintf(rule, sizeof rule, "%s%s%s", got.code, got.arg[0] ? " " : "", got.arg);
    if (field ? rc == DALA_EINVAL && !strcmp(got.table, table) && !strcmp(got.field, field) && !strcmp(rule, refusal)
              : rc == DALA_OK)
        return;
    test_fail(__FILE__, __LINE__, "%s with %s = %s%s: got %d (%s.%s: %s), expected %s%s%s", table,
              count && edits[0].name ? edits[0].name : "nothing changed", count && edits[0].value ? edits[0].value : "",
              count > 1 && edits[1].name ? " and more" : "", rc, got.table, got.field, rc == DALA_EINVAL ? rule : "-",
              field ? field : "DALA_OK", field ? ": " : "", field ? refusal : "");
}

/* Checks `valid` passes and each case gets its result. */
static void check_rules(const char *table, const spec *valid, const rule_case *cases, const dala_check_env *env)
{
    try_change(table, valid, NULL, 0, env, NULL, NULL);
    for (const rule_case *c = cases; c->edit.name; c++) {
        const spec edits[] = {c->edit, c->also[0], c->also[1], c->also[2], c->also[3]};
        try_change(table, valid, edits, 5, env, c->field, c->refusal);
    }
}

/* ------------------------------------------------- the definition itself */

static void test_domain_compiled_in_loads_at_version_3_accepting_1(void)
{
    const dala_domain *domain = dala_domain_get();
    CHECK(domain != NULL);
    if (!domain) return;
    CHECK_EQ_INT(domain->schema_version, 3);
    CHECK_EQ_INT(domain->oldest_device_schema, 1);
    CHECK_EQ_INT(dala_schema_version(), 3);
    CHECK_EQ_INT(dala_schema_oldest(), 1);
    CHECK(dala_domain_get() == domain); /* parsed once */
}

static int has_text(const char *text)
{
    return text && *text;
}

static void test_domain_every_table_field_and_enum_value_has_kk_and_ru_labels(void)
{
    static const char *const type_names[] = {"text", "int", "real", "bool", "date", "time",
                                             "enum", "set", "ref", "iin", "phone", "json"};
    const dala_domain *domain = dala_domain_get();
    CHECK(domain && domain->table_count >= 11 && domain->enum_count > 0);
    for (size_t t = 0; domain && t < domain->table_count; t++) {
        const dala_table_def *table = &domain->tables[t];
        if (!has_text(table->kk) || !has_text(table->ru)) test_fail(__FILE__, __LINE__, "table %s lacks a label", table->name);
        for (size_t f = 0; f < table->field_count; f++)
            if (!has_text(table->fields[f].kk) || !has_text(table->fields[f].ru))
                test_fail(__FILE__, __LINE__, "field %s.%s lacks a label", table->name, table->fields[f].name);
    }
    for (size_t e = 0; domain && e < domain->enum_count; e++)
        for (size_t v = 0; v < domain->enums[e].count; v++) {
            const dala_enum_value *value = &domain->enums[e].values[v];
            if (!has_text(value->kk) || !has_text(value->ru))
                test_fail(__FILE__, __LINE__, "enum value %s.%s lacks a label", domain->enums[e].name, value->value);
        }
    /* A "type" refusal renders its argument through this enumeration. */
    const dala_enum *names = dala_domain_enum(domain, "type_name");
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (!dala_enum_find(names, type_names[i], strlen(type_names[i])))
            test_fail(__FILE__, __LINE__, "type_name lacks %s", type_names[i]);
}

static void test_domain_every_engine_message_exists_in_kk_ru_en_with_its_argument_slot(void)
{
    /* Every code validate.c, survey.c and server/sync_route.c refuse with;
     * has_arg: the refusal carries an argument, so the message shows it. */
    static const struct { const char *code; int has_arg; } codes[] = {
        {"required", 0}, {"type", 1}, {"too_long", 1}, {"range_min", 1}, {"range_max", 1}, {"not_choice", 0},
        {"set_repeat", 0}, {"not_date", 0}, {"not_time", 0}, {"future", 0}, {"before", 1}, {"iin_format", 0},
        {"iin_check", 0}, {"iin_birth", 0}, {"iin_sex", 0}, {"phone", 0}, {"no_record", 0}, {"required_when", 1},
        {"forbidden_when", 1}, {"unknown_field", 0}, {"unknown_table", 0}, {"not_writable", 0}, {"repeated", 0},
        {"too_new", 1}, {"cleared", 0}, {"json", 0}, {"form_missing", 0}, {"form_bad", 1}, {"answer_unknown", 1},
        {"answer_hidden", 1}, {"answer_required", 1}, {"answer_type", 1}, {"answer_choice", 1}, {"answer_range", 1},
        {"answer_too_long", 1}, {"too_many_choices", 1}, {"anonymous_identifier", 0}, {"device_too_old", 1},
        {"device_too_new", 1}};
    static const char *const langs[] = {"kk", "ru", "en"};
    const dala_domain *domain = dala_domain_get();
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        for (size_t l = 0; l < 3; l++) {
            const char *message = dala_domain_message(domain, codes[i].code, langs[l]);
            int slots = 0, others = 0;
            for (const char *p = message; p && (p = strchr(p, '%')); p++) {
                if (p[1] == 's') slots++;
                else others++;
            }
            if (!message || slots != codes[i].has_arg || others)
                test_fail(__FILE__, __LINE__, "message %s in %s: \"%s\" has %d %%s and %d other %%, expected %d %%s",
                          codes[i].code, langs[l], message ? message : "(none)", slots, others, codes[i].has_arg);
        }
    /* en is its own text, not the fallback to kk. */
    const char *en = dala_domain_message(domain, "required", "en"), *kk = dala_domain_message(domain, "required", "kk");
    CHECK(en && kk && strcmp(en, kk) != 0);
    CHECK(dala_domain_message(domain, "no_such_code", "kk") == NULL);
}

static void test_domain_kazakh_messages_use_kazakh_letters(void)
{
    static const char *const letters[] = {"ә", "ғ", "қ", "ң", "ө", "ұ", "ү", "һ", "і"};
    static const char *const codes[] = {"required", "future", "iin_check", "cleared", "too_new", "answer_required"};
    const dala_domain *domain = dala_domain_get();
    int kazakh = 0, in_russian = 0;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        for (size_t j = 0; j < sizeof letters / sizeof letters[0]; j++) {
            const char *kk = dala_domain_message(domain, codes[i], "kk"), *ru = dala_domain_message(domain, codes[i], "ru");
            kazakh += kk && strstr(kk, letters[j]);
            in_russian += ru && strstr(ru, letters[j]);
        }
    CHECK(kazakh > 0);
    CHECK_EQ_INT(in_russian, 0);
}

/* A small definition that parses, and edits that each break one rule. */
static const char minimal_domain[] =
    "{\"schema_version\": 2, \"oldest_device_schema\": 1,"
    " \"messages\": {\"required\": {\"kk\": \"міндетті\", \"ru\": \"обязательно\", \"en\": \"is required\"}},"
    " \"enums\": {\"sex\": [{\"value\": \"female\", \"kk\": \"Әйел\", \"ru\": \"Женский\"}]},"
    " \"tables\": [{\"name\": \"person\", \"kk\": \"Тұлға\", \"ru\": \"Лицо\", \"fields\": ["
    "{\"name\": \"sex\", \"type\": \"enum\", \"kk\": \"Жынысы\", \"ru\": \"Пол\", \"enum\": \"sex\"},"
    " {\"name\": \"birth_date\", \"type\": \"date\", \"kk\": \"Туған күні\", \"ru\": \"Дата рождения\"},"
    " {\"name\": \"seen_on\", \"type\": \"date\", \"kk\": \"Күні\", \"ru\": \"Дата\", \"not_before\": \"birth_date\"},"
    " {\"name\": \"parent_id\", \"type\": \"ref\", \"kk\": \"Ата-анасы\", \"ru\": \"Родитель\", \"ref\": \"person\"}]}]}";

/* Parses the minimal definition with `from` replaced by `to`. */
static int parse_edited(const char *from, const char *to)
{
    char text[4096];
    const char *at = strstr(minimal_domain, from);
    if (!at) {
        test_fail(__FILE__, __LINE__, "the minimal definition lacks \"%s\"", from);
        return DALA_OK;
    }
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - minimal_domain), minimal_domain, to, at + strlen(from));
    dala_domain *domain = (dala_domain *)1; /* a failed parse must set it to NULL */
    int rc = dala_domain_parse(&domain, text, strlen(text));
    if (!rc) dala_domain_free(domain);
    else CHECK(domain == NULL);
    return rc;
}

static void test_domain_parse_refuses_broken_definitions(void)
{
    static const char *const cases[][3] = {
        {"\"oldest_device_schema\": 1,", "\"oldest_device_schema\": 1, \"colour\": 1,", "unknown key colour"},
        {", \"kk\": \"Туған күні\", \"ru\": \"Дата рождения\"", "", "needs kk and ru labels"},
        {"\"enum\": \"sex\"", "\"enum\": \"gender\"", "unknown enum"},
        {"\"enum\": \"sex\"", "\"enum\": \"sex\", \"colour\": \"red\"", "field sex: unknown key colour"},
        {"\"not_before\": \"birth_date\"", "\"not_before\": \"death_date\"", "names a field the table lacks"},
        {"\"ref\": \"person\"", "\"ref\": \"people\"", "unknown table"},
        {"]}]}", "]}, {\"name\": \"person\", \"kk\": \"Тұлға\", \"ru\": \"Лицо\", \"fields\": [{\"name\": \"note\", "
                 "\"type\": \"text\", \"kk\": \"Ескертпе\", \"ru\": \"Примечание\"}]}]}", "listed twice"},
        {"\"oldest_device_schema\": 1", "\"oldest_device_schema\": 3", "oldest_device_schema <= schema_version"},
        {", \"en\": \"is required\"", "", "needs kk, ru and en"},
    };
    dala_domain *domain = NULL;
    CHECK_OK(dala_domain_parse(&domain, minimal_domain, strlen(minimal_domain)));
    CHECK(domain && domain->table_count == 1 && domain->tables[0].field_count == 5); /* + void_reason */
    dala_domain_free(domain);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = parse_edited(cases[i][0], cases[i][1]);
        if (rc != DALA_ESCHEMA) test_fail(__FILE__, __LINE__, "case %zu (%s): rc %d", i, cases[i][2], rc);
        else CHECK_CONTAINS(dala_errmsg(), cases[i][2]);
    }
}

/* A refused definition leaves nothing allocated (AddressSanitizer's leak
 * check sees to that under `make asan`), an enumeration's labels too. */
static void test_domain_parse_refusing_a_broken_enum_leaks_nothing(void)
{
    CHECK_EQ_INT(parse_edited("\"value\": \"female\", \"kk\": \"Әйел\", \"ru\": \"Женский\"", "\"value\": \"female\""),
                 DALA_ESCHEMA);
    CHECK_CONTAINS(dala_errmsg(), "needs kk and ru labels");
}

/* records.json parsed with its 1st, 2nd, ... allocation failing: DALA_ENOMEM
 * each time, nothing leaked, and success once none fails. */
static void test_domain_parse_with_each_allocation_failing_answers_enomem(void)
{
    char *json = test_read_file(test_data_path("../schema/domain/records.json"));
    long failures = 0, parsed = 0, wrong = 0;
    for (long n = 1; json && !parsed && n <= 100000; n++) {
        dala_domain *domain = NULL;
        dala_alloc_fail_after(n);
        int rc = dala_domain_parse(&domain, json, strlen(json));
        dala_alloc_fail_after(0);
        dala_domain_free(domain);
        if ((parsed = rc == DALA_OK)) break;
        if (rc != DALA_ENOMEM && wrong++ < 3)
            test_fail(__FILE__, __LINE__, "allocation %ld failing: %d (%s)", n, rc, dala_errmsg());
        failures++;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK(parsed);
    CHECK(failures > 10);
    free(json);
}

/* ------------------------------------------- each record type's rules */

static const spec field_visit_valid[] = {
    {"visit_date", 't', "2026-06-01"}, {"visit_time", 't', "14:30"}, {"purpose", 't', "protective_order_check"},
    {"unit_id", 'i', "12"}, {"officer_id", 'i', "305"}, {"city", 't', "Алматы"}, {"district", 't', "Алатау ауданы"},
    {"address", 't', "Шаңырақ-2, 14 үй"}, {"latitude", 'r', "43.2567"}, {"longitude", 'i', "77"},
    {"household", 't', "Ерлі-зайыптылар, екі бала"}, {"persons_met", 't', "Жәбірленуші"},
    {"contact_status", 't', "met_victim"}, {"victim_count", 'i', "1"}, {"children_count", 'i', "2"},
    {"offender_present", 'i', "0"}, {"findings", 't', "Қорғау нұсқамасы сақталуда"}, {"risk_level", 't', "high"},
    {"measures_taken", 't', "Әңгіме жүргізілді"}, {"referral", 't', "crisis_centre"}, {"protective_order", 't', "active"},
    {"follow_up_date", 't', "2026-06-22"}, {"victim_id", 't', VICTIM}, {"offender_id", 't', OFFENDER}, {NULL, 0, NULL}};

static const rule_case field_visit_cases[] = {
    PASS({"visit_date", 't', TODAY}), /* today is not the future */ PASS({"visit_time", 't', "00:00"}),
    PASS({"visit_time", 't', "14:30:15"}) /* v1 seconds */, PASS({"visit_time", 't', "23:59"}),
    PASS({"latitude", 'r', "-90"}), PASS({"longitude", 'r', "180"}), PASS({"unit_id", 'i', "1"}),
    PASS({"victim_count", 'i', "50"}), PASS({"follow_up_date", 't', "2026-06-01"}), PASS({"victim_id", 'n', NULL}),
    NEEDS("visit_date"), NEEDS("purpose"), NEEDS("risk_level"), BAD("visit_date", 'n', NULL, "required"),
    BAD("visit_date", 'i', "20260601", "type date"), BAD("visit_date", 't', "2026-02-29", "not_date"),
    BAD("visit_date", 't', "2026-6-1", "not_date"), BAD("visit_date", 't', "2026-06-16", "future"),
    BAD("visit_time", 't', "24:00", "not_time"), BAD("visit_time", 't', "12:60", "not_time"),
    BAD("visit_time", 't', "12:30:60", "not_time"), BAD("visit_time", 't', "1430", "not_time"),
    BAD("purpose", 't', "social_call", "not_choice"), BAD("purpose", 't', "Preventive_visit", "not_choice"),
    BAD("unit_id", 'i', "0", "range_min 1"), BAD("unit_id", 'r', "12", "type int"),
    BAD("officer_id", 't', "305", "type int"), BAD("city", 'L', "201", "too_long 200"),
    BAD("district", 'L', "201", "too_long 200"), BAD("address", 'L', "501", "too_long 500"),
    BAD("findings", 'L', "20001", "too_long 20000"), BAD("household", 't', "\xff\xfe", "type text"),
    BAD("latitude", 'r', "90.5", "range_max 90"), BAD("latitude", 'r', "-90.01", "range_min -90"),
    BAD("latitude", 'r', "nan", "type real"), BAD("longitude", 'i', "181", "range_max 180"),
    BAD("longitude", 't', "77.0", "type real"), BAD("victim_count", 'i', "-1", "range_min 0"),
    BAD("children_count", 'i', "51", "range_max 50"), BAD("offender_present", 'i', "2", "type bool"),
    BAD("contact_status", 't', "", "not_choice"), BAD("risk_level", 't', "extreme", "not_choice"),
    BAD("referral", 't', "court", "not_choice"), BAD("protective_order", 't', "revoked", "not_choice"),
    BAD("follow_up_date", 't', "2026-05-31", "before visit_date"), BAD("victim_id", 't', MISSING, "no_record"),
    BAD("victim_id", 't', OFFENCE, "no_record"), /* an offence is no person */
    BAD("offender_id", 't', "not-a-record-id", "no_record"), BAD("colour", 't', "red", "unknown_field"),
    REFUSE("purpose", "repeated", {"+purpose", 't', "call_response"}), END};

static const spec person_valid[] = {
    {"role", 't', "victim"}, {"last_name", 't', "Сейітқызы"}, {"first_name", 't', "Айгүл"},
    {"patronymic", 't', "Ермекқызы"}, {"sex", 't', "female"}, {"birth_date", 't', "1985-03-12"},
    {"iin", 't', "850312408153"}, {"phone", 't', "+7 701 123-45-67"}, {"address", 't', "Алматы, Шаңырақ-2, 14 үй"},
    {"victim_categories", 't', "dependent,large_family"}, {"employment", 't', "unemployed"},
    {"alcohol_abuse", 'i', "0"}, {"prior_record", 'i', "0"}, {"notes", 't', "Үш баласы бар"}, {NULL, 0, NULL}};

static const rule_case person_cases[] = {
    {.edit = {"iin", 't', "050721503422"}, .also = {{"sex", 't', "male"}, {"birth_date", 't', "2005-07-21"}}},
    PASS(DROP("iin")), PASS(DROP("birth_date")), PASS({"phone", 't', "87011234567"}),
    PASS({"phone", 't', "+7-701-123-45-67"}), PASS({"victim_categories", 't', "minor"}),
    {.edit = {"role", 't', "offender"}, .also = {DROP("victim_categories")}}, NEEDS("role"), NEEDS("last_name"),
    NEEDS("first_name"), NEEDS("sex"), BAD("last_name", 'L', "101", "too_long 100"),
    BAD("first_name", 'L', "101", "too_long 100"), BAD("patronymic", 'L', "101", "too_long 100"),
    BAD("address", 'L', "501", "too_long 500"), BAD("notes", 'L', "2001", "too_long 2000"),
    BAD("role", 't', "witness", "not_choice"), BAD("sex", 't', "f", "not_choice"),
    BAD("employment", 't', "retired", "not_choice"), BAD("birth_date", 't', "1985-02-30", "not_date"),
    BAD("birth_date", 't', "2027-03-12", "future"), BAD("iin", 't', "85031240815", "iin_format"),
    BAD("iin", 't', "850312408154", "iin_check"), BAD("iin", 'i', "850312408153", "type iin"),
    REFUSE("iin", "iin_birth", {"birth_date", 't', "1985-03-13"}), REFUSE("iin", "iin_sex", {"sex", 't', "male"}),
    BAD("phone", 't', "12345", "phone"), BAD("phone", 't', "+7 (701) 123-45-67", "phone"),
    BAD("phone", 't', "+7701123456789012", "phone"), /* 16 digits */ BAD("phone", 't', "+7 701 123-45-67-", "phone"),
    BAD("phone", 't', "+7  701 1234567", "phone"), BAD("victim_categories", 't', "minor,minor", "set_repeat"),
    BAD("victim_categories", 't', "minor,wealthy", "not_choice"),
    BAD("victim_categories", 't', "minor,", "not_choice"), BAD("victim_categories", 't', "", "not_choice"),
    REFUSE("victim_categories", "forbidden_when role", {"role", 't', "offender"}),
    BAD("alcohol_abuse", 'i', "2", "type bool"), BAD("prior_record", 't', "yes", "type bool"),
    BAD("nationality", 't', "kz", "unknown_field"), REFUSE("iin", "repeated", {"+iin", 't', "850312408153"}), END};

static const spec offence_valid[] = {
    {"kind", 't', "criminal"}, {"sphere", 't', "family_domestic"}, {"article", 't', "uk.106"},
    {"committed_on", 't', "2026-05-20"}, {"place", 't', "Тұрғын үй"}, {"victim_id", 't', VICTIM},
    {"offender_id", 't', OFFENDER}, {"relationship", 't', "spouse"}, {"circumstances", 't', "Тұрмыстық жанжал"},
    {"causes", 't', "alcohol,jealousy"}, {"offender_alcohol", 'i', "1"}, {"offender_prior_record", 'i', "0"},
    {"offender_employment", 't', "unemployed"}, {"registration_no", 't', "261234567890"},
    {"registered_on", 't', "2026-05-21"}, {"outcome", 't', "under_investigation"}, {NULL, 0, NULL}};

static const rule_case offence_cases[] = {
    PASS({"registered_on", 't', "2026-05-20"}), PASS(DROP("offender_id")), NEEDS("kind"), NEEDS("sphere"),
    NEEDS("article"), NEEDS("committed_on"), NEEDS("victim_id"), BAD("kind", 't', "civil", "not_choice"),
    BAD("sphere", 't', "school", "not_choice"), BAD("article", 'L', "51", "too_long 50"),
    BAD("article", 't', "ст.106", "not_catalogued"), BAD("article", 't', "uk.106.1", "not_catalogued"),
    BAD("article", 't', "uk.109", "not_in_force committed_on"), /* beating left the Criminal Code in 2017 */
    BAD("article", 't', "koap.73", "article_kind kind"), REFUSE("article", "article_kind kind", {"kind", 't', "administrative"}),
    REFUSE("article", "not_in_force committed_on", {"committed_on", 't', "2014-12-31"}),
    PASS({"violence_types", 't', "physical,psychological"}), PASS({"children_involved", 't', "witnessed"}),
    PASS({"erdr_no", 't', "261234567890"}), BAD("violence_types", 't', "verbal", "not_choice"),
    BAD("committed_on", 't', "2026-06-16", "future"), BAD("committed_on", 't', "20.05.2026", "not_date"),
    BAD("place", 'L', "501", "too_long 500"), BAD("victim_id", 't', MISSING, "no_record"),
    BAD("offender_id", 't', OFFENCE, "no_record"), BAD("relationship", 't', "neighbour", "not_choice"),
    BAD("circumstances", 'L', "4001", "too_long 4000"), BAD("causes", 't', "alcohol,alcohol", "set_repeat"),
    BAD("causes", 't', "poverty", "not_choice"), BAD("offender_alcohol", 'i', "-1", "type bool"),
    BAD("offender_prior_record", 'r', "1", "type bool"), BAD("offender_employment", 't', "retired", "not_choice"),
    BAD("registration_no", 'L', "51", "too_long 50"), BAD("registered_on", 't', "2026-05-19", "before committed_on"),
    BAD("registered_on", 't', "2026-06-16", "future"), BAD("outcome", 't', "acquitted", "not_choice"),
    BAD("weapon", 't', "knife", "unknown_field"), REFUSE("kind", "repeated", {"+kind", 't', "administrative"}), END};

static const spec protective_measure_valid[] = {
    {"kind", 't', "protective_order"}, {"person_id", 't', OFFENDER}, {"offence_id", 't', OFFENCE},
    {"issued_on", 't', "2026-06-01"}, {"valid_until", 't', "2026-07-01"}, {"issued_by", 't', "Алатау АПБ"},
    {"decision_no", 't', "ҚН-118"}, {"breached", 'i', "1"}, {"breached_on", 't', "2026-06-10"},
    {"referral_to", 't', "psychologist"}, {"notes", 't', "Ескертілді"}, {NULL, 0, NULL}};

static const rule_case protective_measure_cases[] = {
    {.edit = {"kind", 't', "preventive_talk"}, .also = {DROP("valid_until")}},
    {.edit = {"breached", 'i', "0"}, .also = {DROP("breached_on")}},
    PASS({"valid_until", 't', "2026-06-01"}),
    {.edit = {"kind", 't', "special_requirements"},
     .also = {{"requirements", 't', "Жақындамау"}, {"court", 't', "Алматы қаласының №2 соты"}, {"act_date", 't', "2026-05-30"},
              {"term_months", 'i', "6"}}},
    {.edit = {"kind", 't', "special_requirements"}, .field = "court", .refusal = "required_when kind",
     .also = {{"requirements", 't', "Жақындамау"}}},
    {.edit = {"kind", 't', "administrative_detention"}, .field = "detention_hours", .refusal = "required_when kind",
     .also = {DROP("valid_until")}},
    {.edit = {"kind", 't', "administrative_detention"}, .also = {DROP("valid_until"), {"detention_hours", 'i', "3"}}},
    PASS({"bans", 't', "no_contact,no_visit"}), PASS({"served_on", 't', "2026-06-02"}),
    BAD("served_on", 't', "2026-05-31", "before issued_on"), BAD("bans", 't', "no_contact,no_contact", "set_repeat"),
    BAD("term_days", 'i', "0", "range_min 1"), BAD("breach_offence_id", 't', VICTIM, "no_record"),
    NEEDS("kind"), NEEDS("person_id"), NEEDS("issued_on"), BAD("kind", 't', "fine", "not_choice"),
    BAD("person_id", 't', MISSING, "no_record"),
    BAD("offence_id", 't', VICTIM, "no_record"), /* a person is no offence */
    BAD("issued_on", 't', "2026-06-16", "future"), BAD("issued_on", 't', "2026-06-31", "not_date"),
    BAD("valid_until", 't', "2026-05-31", "before issued_on"),
    REFUSE("valid_until", "required_when kind", DROP("valid_until")),
    REFUSE("requirements", "required_when kind", {"kind", 't', "special_requirements"}),
    REFUSE("breached_on", "required_when breached", DROP("breached_on")),
    BAD("breached_on", 't', "2026-05-30", "before issued_on"), BAD("breached_on", 't', "2026-06-16", "future"),
    {.edit = {"kind", 't', "referral"}, .field = "referral_to", .refusal = "required_when kind", .also = {DROP("referral_to")}},
    BAD("referral_to", 't', "court", "not_choice"), BAD("breached", 'i', "3", "type bool"),
    BAD("issued_by", 'L', "201", "too_long 200"), BAD("decision_no", 'L', "51", "too_long 50"),
    BAD("requirements", 'L', "2001", "too_long 2000"), BAD("notes", 'L', "2001", "too_long 2000"),
    BAD("expires", 't', "2026-07-01", "unknown_field"),
    REFUSE("issued_on", "repeated", {"+issued_on", 't', "2026-06-02"}), END};

static const spec legal_aid_valid[] = {
    {"given_on", 't', "2026-06-02"}, {"channel", 't', "phone"}, {"topic", 't', "domestic_violence"},
    {"aid_kind", 't', "both"}, {"referral", 't', "lawyer"}, {"outcome", 't', "Кеңес берілді"},
    {"is_anonymous", 'i', "0"}, {"person_id", 't', VICTIM}, {NULL, 0, NULL}};

static const rule_case legal_aid_cases[] = {
    {.edit = {"is_anonymous", 'i', "1"}, .also = {DROP("person_id")}},
    NEEDS("given_on"), NEEDS("channel"), NEEDS("topic"), NEEDS("aid_kind"), NEEDS("is_anonymous"),
    BAD("given_on", 't', "2026-06-16", "future"), BAD("given_on", 't', "2026-06-02T10:00", "not_date"),
    BAD("channel", 't', "email", "not_choice"), BAD("topic", 't', "tax", "not_choice"),
    BAD("aid_kind", 't', "medical", "not_choice"), BAD("referral", 't', "court", "not_choice"),
    BAD("outcome", 'L', "2001", "too_long 2000"), BAD("is_anonymous", 't', "no", "type bool"),
    REFUSE("person_id", "forbidden_when is_anonymous", {"is_anonymous", 'i', "1"}),
    BAD("person_id", 't', MISSING, "no_record"), BAD("lawyer", 't', "Ахметова", "unknown_field"),
    REFUSE("topic", "repeated", {"+topic", 't', "other"}), END};

static const spec suicide_check_valid[] = {
    {"kind", 't', "attempt"}, {"event_date", 't', "2026-05-01"}, {"checked_on", 't', "2026-05-02"},
    {"person_id", 't', VICTIM}, {"age", 'i', "34"}, {"signs_of_violence", 'i', "1"}, {"incitement_found", 'i', "0"},
    {"findings", 't', "Тексеру жүргізілді"}, {"outcome", 't', "case_opened"}, {"registration_no", 't', "2619"},
    {NULL, 0, NULL}};

static const rule_case suicide_check_cases[] = {
    PASS({"age", 'i', "0"}), PASS({"age", 'i', "120"}), PASS({"checked_on", 't', "2026-05-01"}), NEEDS("kind"),
    NEEDS("event_date"), NEEDS("signs_of_violence"), BAD("kind", 't', "suspected", "not_choice"),
    BAD("event_date", 't', "2026-06-16", "future"), BAD("event_date", 't', "2026-05-00", "not_date"),
    BAD("checked_on", 't', "2026-04-30", "before event_date"), BAD("checked_on", 't', "2026-06-16", "future"),
    BAD("person_id", 't', MISSING, "no_record"), BAD("age", 'i', "121", "range_max 120"),
    BAD("age", 'i', "-1", "range_min 0"), BAD("age", 'r', "34.5", "type int"),
    BAD("signs_of_violence", 't', "yes", "type bool"), BAD("incitement_found", 'i', "2", "type bool"),
    BAD("findings", 'L', "4001", "too_long 4000"), BAD("outcome", 't', "closed", "not_choice"),
    BAD("registration_no", 'L', "51", "too_long 50"), BAD("cause", 't', "unknown", "unknown_field"),
    REFUSE("age", "repeated", {"+age", 'i', "35"}), END};

static const spec interaction_valid[] = {
    {"held_on", 't', "2026-06-03"}, {"kind", 't', "training"}, {"partner", 't', "Дағдарыс орталығы"},
    {"topic", 't', "Қорғау нұсқамалары"}, {"participants", 'i', "25"}, {"outcome", 't', "Өткізілді"}, {NULL, 0, NULL}};

static const rule_case interaction_cases[] = {
    PASS({"participants", 'i', "0"}), PASS({"participants", 'i', "1000000"}), NEEDS("held_on"), NEEDS("kind"),
    NEEDS("topic"), BAD("held_on", 't', "2026-06-16", "future"), BAD("held_on", 'i', "20260603", "type date"),
    BAD("kind", 't', "party", "not_choice"), BAD("partner", 'L', "301", "too_long 300"),
    BAD("topic", 'L', "501", "too_long 500"), BAD("participants", 'i', "-1", "range_min 0"),
    BAD("participants", 'r', "2.5", "type int"), BAD("outcome", 'L', "2001", "too_long 2000"),
    BAD("venue", 't', "Әкімдік", "unknown_field"), REFUSE("held_on", "repeated", {"+held_on", 't', "2026-06-04"}),
    END};

static const spec work_plan_valid[] = {
    {"year", 'i', "2026"}, {"quarter", 'i', "3"}, {"title", 't', "III тоқсанның жұмыс жоспары"},
    {"items", 't', "1. Профилактикалық бару"}, {"state", 't', "approved"}, {"approved_by", 't', "Бөлім бастығы"},
    {"approved_on", 't', "2026-06-10"}, {NULL, 0, NULL}};

static const rule_case work_plan_cases[] = {
    {.edit = {"state", 't', "draft"}, .also = {DROP("approved_by"), DROP("approved_on")}},
    PASS({"year", 'i', "2015"}), PASS({"quarter", 'i', "4"}), NEEDS("year"), NEEDS("quarter"), NEEDS("title"),
    NEEDS("items"), NEEDS("state"), BAD("year", 'i', "2014", "range_min 2015"),
    BAD("year", 'i', "2101", "range_max 2100"), BAD("quarter", 'i', "0", "range_min 1"),
    BAD("quarter", 'i', "5", "range_max 4"), BAD("quarter", 't', "3", "type int"),
    BAD("title", 'L', "301", "too_long 300"), BAD("items", 'L', "20001", "too_long 20000"),
    BAD("state", 't', "archived", "not_choice"), REFUSE("approved_by", "required_when state", DROP("approved_by")),
    REFUSE("approved_on", "required_when state", DROP("approved_on")),
    BAD("approved_on", 't', "2026-06-16", "future"), BAD("approved_by", 'L', "201", "too_long 200"),
    BAD("budget", 'i', "100", "unknown_field"), REFUSE("year", "repeated", {"+year", 'i', "2027"}), END};

#define V1_ANSWERS                                                                                            \
    "{\"q1\":\"age_25_34\",\"q2\":\"village\",\"q3\":\"married\",\"q4\":\"higher\",\"q5\":\"homemaker\",\"q6\":3," \
    "\"q7\":\"no\",\"q17\":\"heard\",\"q18\":\"both\",\"q19\":4}"

static const spec survey_response_valid[] = {
    {"form_id", 't', FORM_V1}, {"collected_on", 't', "2026-06-10"}, {"region", 't', "Алматы облысы"},
    {"settlement_type", 't', "rural"}, {"answers", 't', V1_ANSWERS}, {NULL, 0, NULL}};

static const rule_case survey_response_cases[] = {
    PASS(DROP("region")), PASS({"collected_on", 't', TODAY}), NEEDS("collected_on"), NEEDS("answers"),
    BAD("collected_on", 't', "2026-06-16", "future"), BAD("collected_on", 't', "2026-02-29", "not_date"),
    BAD("region", 'L', "101", "too_long 100"), BAD("settlement_type", 't', "suburb", "not_choice"),
    BAD("form_id", 't', MISSING, "no_record"), BAD("answers", 't', "{\"q1\":", "json"),
    BAD("answers", 'L', "100001", "too_long 100000"),
    BAD("answers", 't', "{\"q1\":\"age_25_34\"}", "answer_required q2"),
    BAD("respondent", 't', "Айгүл", "unknown_field"),
    REFUSE("collected_on", "repeated", {"+collected_on", 't', "2026-06-11"}), END};

/* Each record type a tablet writes: its valid record passes, and each
 * case of its table gets its result. */
#define RULES_TEST(table)                                                  \
    static void test_##table##_refuses_each_broken_rule(void)              \
    {                                                                      \
        dala_check_env env = env_of(0, 0, NULL);                           \
        check_rules(#table, table##_valid, table##_cases, &env);           \
    }
RULES_TEST(field_visit)
RULES_TEST(person)
RULES_TEST(offence)
RULES_TEST(protective_measure)
RULES_TEST(legal_aid)
RULES_TEST(suicide_check)
RULES_TEST(interaction)
RULES_TEST(work_plan)
RULES_TEST(survey_response)

/* The bound of a refusal is shown to officers: it reads as written in
 * records.json (interaction.participants: max 1000000), not as 1e+06. */
static void test_range_refusal_names_a_large_bound_in_full(void)
{
    static const rule_case cases[] = {BAD("participants", 'i', "1000001", "range_max 1000000"), END};
    dala_check_env env = env_of(0, 0, NULL);
    check_rules("interaction", interaction_valid, cases, &env);
}

/* A response without a form is refused as the other required fields
 * are: "required", not "refers to a questionnaire that is not published". */
static void test_survey_response_without_form_id_is_refused_as_required(void)
{
    static const rule_case cases[] = {NEEDS("form_id"), END};
    dala_check_env env = env_of(0, 0, NULL);
    check_rules("survey_response", survey_response_valid, cases, &env);
}

static void test_server_tables_are_refused_from_devices_and_accepted_from_the_server(void)
{
    static const spec review_valid[] = {
        {"record_id", 't', VISIT}, {"decision", 't', "return"}, {"comment", 't', "Қауіп деңгейін негіздеңіз"},
        {"reviewer", 't', "Бөлім бастығы"}, {"decided_on", 't', "2026-06-14"}, {NULL, 0, NULL}};
    static const rule_case review_cases[] = {
        REFUSE("comment", "required_when decision", DROP("comment")), BAD("record_id", 't', MISSING, "no_record"),
        BAD("decision", 't', "reject", "not_choice"), BAD("decided_on", 't', "2026-06-16", "future"), END};
    static const rule_case form_cases[] = {
        BAD("definition", 't', "{\"code\": \"x\"}", "form_bad no version 1..1000"),
        BAD("version", 'i', "0", "range_min 1"), NEEDS("title_ru"), END};
    char *form = test_read_file(test_data_path(FORM_V1_PATH));
    const spec form_valid[] = {
        {"code", 't', "vaw-household"}, {"version", 'i', "1"}, {"title_kk", 't', "Сауалнама"}, {"title_ru", 't', "Анкета"},
        {"definition", 't', form ? form : ""}, {"published_on", 't', "2026-06-01"}, {NULL, 0, NULL}};
    dala_check_env device = env_of(0, 0, NULL), server = env_of(1, 0, NULL);
    try_change("review", review_valid, NULL, 0, &device, "", "not_writable");
    try_change("survey_form", form_valid, NULL, 0, &device, "", "not_writable");
    check_rules("review", review_valid, review_cases, &server);
    check_rules("survey_form", form_valid, form_cases, &server);
    try_change("diary", review_valid, NULL, 0, &server, "", "unknown_table");
    free(form);
}

/* ------------------------------------------------------ schema versions */

static void test_schema_v1_device_need_not_send_risk_level(void)
{
    static const spec v1_visit[] = {DROP("risk_level"), DROP("victim_id"), DROP("offender_id")};
    dala_check_env v1 = env_of(0, 1, NULL), v2 = env_of(0, 2, NULL), current = env_of(0, 0, NULL);
    try_change("field_visit", field_visit_valid, v1_visit, 3, &v1, NULL, NULL);
    try_change("field_visit", field_visit_valid, v1_visit, 3, &v2, "risk_level", "required");
    try_change("field_visit", field_visit_valid, v1_visit, 3, &current, "risk_level", "required");
}

static void test_schema_v1_device_cannot_write_what_version_2_introduced(void)
{
    static const spec with_victim[] = {DROP("risk_level"), DROP("offender_id")};
    dala_check_env v1 = env_of(0, 1, NULL);
    try_change("person", person_valid, NULL, 0, &v1, "", "too_new 2");
    try_change("field_visit", field_visit_valid, with_victim, 2, &v1, "victim_id", "too_new 2");
}

/* ------------------------------------------------------------- updates */

static const spec nothing[] = {{NULL, 0, NULL}};

/* Checks updates (`cases` applied to an empty change) of a record stored
 * with the fields of `stored`. */
static void check_updates(const char *table, const spec *stored, uint32_t version, const rule_case *cases)
{
    const dala_version written = {1, 1};
    dala_record record = DALA_RECORD_INIT;
    for (const spec *s = stored; s->name; s++) {
        dala_value value = spec_value(s);
        CHECK_OK(dala_record_set(&record, s->name, &value, &written, 1));
    }
    dala_check_env env = env_of(0, version, &record);
    check_rules(table, nothing, cases, &env);
    dala_record_clear(&record);
}

static void test_update_cannot_clear_a_required_field(void)
{
    static const rule_case visit[] = {
        BAD("visit_date", 'n', NULL, "cleared"), BAD("risk_level", 'n', NULL, "cleared"),
        BAD("purpose", 'n', NULL, "cleared"), PASS({"city", 'n', NULL}), PASS({"purpose", 't', "follow_up_visit"}), END};
    static const rule_case visit_from_v1[] = {PASS({"risk_level", 'n', NULL}), END}; /* required since 2 */
    static const rule_case person[] = {BAD("last_name", 'n', NULL, "cleared"), PASS({"iin", 'n', NULL}), END};
    check_updates("field_visit", field_visit_valid, 0, visit);
    check_updates("field_visit", field_visit_valid, 1, visit_from_v1);
    check_updates("person", person_valid, 0, person);
}

static void test_update_cross_field_rules_consult_the_stored_record(void)
{
    static const rule_case visit[] = {
        BAD("follow_up_date", 't', "2026-05-20", "before visit_date"), PASS({"follow_up_date", 't', "2026-06-05"}),
        END};
    static const rule_case person[] = {
        REFUSE("iin", "iin_sex", {"sex", 't', "male"}), REFUSE("iin", "iin_birth", {"birth_date", 't', "1985-03-13"}),
        REFUSE("victim_categories", "forbidden_when role", {"role", 't', "offender"}), END};
    static const rule_case aid[] = {REFUSE("person_id", "forbidden_when is_anonymous", {"is_anonymous", 'i', "1"}), END};
    static const rule_case measure[] = {REFUSE("valid_until", "required_when kind", {"valid_until", 'n', NULL}), END};
    check_updates("field_visit", field_visit_valid, 0, visit);
    check_updates("person", person_valid, 0, person);
    check_updates("legal_aid", legal_aid_valid, 0, aid);
    check_updates("protective_measure", protective_measure_valid, 0, measure);
}

/* ------------------------------------------------------------ refusals */

static void test_refusal_format_and_parse_round_trip(void)
{
    static const dala_invalid cases[] = {{"person", "iin", "iin_check", ""},
                                         {"field_visit", "follow_up_date", "before", "visit_date"},
                                         {"review", "", "not_writable", ""},
                                         {"survey_form", "definition", "form_bad", "show_if names an answer its question lacks: q2"}};
    static const char *const reasons[] = {"person.iin: iin_check", "field_visit.follow_up_date: before visit_date",
                                          "review.: not_writable",
                                          "survey_form.definition: form_bad show_if names an answer its question lacks: q2"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char reason[256];
        dala_invalid back;
        dala_invalid_format(reason, sizeof reason, &cases[i]);
        CHECK_EQ_STR(reason, reasons[i]);
        CHECK_OK(dala_invalid_parse(&back, reason));
        CHECK_EQ_STR(back.table, cases[i].table);
        CHECK_EQ_STR(back.field, cases[i].field);
        CHECK_EQ_STR(back.code, cases[i].code);
        CHECK_EQ_STR(back.arg, cases[i].arg);
    }
}

static void test_refusal_parse_refuses_malformed_reasons(void)
{
    static const char *const bad[] = {"field_visit.visit_date required", "field_visit visit_date: required",
                                      "field_visit.visit_date: ", "", "a.b: code_far_too_long_to_be_any_rule_code_at_all",
                                      "open data/dala.db: unable to open database file"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dala_invalid out;
        if (dala_invalid_parse(&out, bad[i]) != DALA_EINVAL) test_fail(__FILE__, __LINE__, "\"%s\" parsed", bad[i]);
    }
}

static void test_refusal_renders_labels_and_message_in_kk_and_ru(void)
{
    /* The field's label (the table's for a whole record), ": ", the
     * message, its %s showing the argument: another field's label, a
     * type's name, or a bound as it is. */
    static const struct { dala_invalid invalid; const char *lang, *label, *arg; } cases[] = {
        {{"person", "iin", "iin_check", ""}, "kk", "ЖСН", ""},
        {{"person", "iin", "iin_check", ""}, "ru", "ИИН", ""},
        {{"review", "", "not_writable", ""}, "kk", "Жазбаны қарау", ""},
        {{"suicide_check", "age", "range_max", "120"}, "ru", "Возраст", "120"},
        {{"field_visit", "follow_up_date", "before", "visit_date"}, "kk", "Қайта бару күні", "Бару күні"},
        {{"field_visit", "follow_up_date", "before", "visit_date"}, "ru", "Дата повторного посещения", "Дата посещения"},
        {{"legal_aid", "person_id", "forbidden_when", "is_anonymous"}, "ru", "Обратившееся лицо", "Анонимное обращение"},
        {{"protective_measure", "valid_until", "required_when", "kind"}, "kk", "Қолданылу мерзімі (дейін)", "Шара түрі"},
        {{"field_visit", "visit_date", "type", "date"}, "kk", "Бару күні", "күн"},
    };
    char out[512], expected[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *message = dala_domain_message(dala_domain_get(), cases[i].invalid.code, cases[i].lang);
        const char *slot = message ? strstr(message, "%s") : NULL;
        if (slot) snprintf(expected, sizeof expected, "%s: %.*s%s%s", cases[i].label, (int)(slot - message), message, cases[i].arg, slot + 2);
        else snprintf(expected, sizeof expected, "%s: %s", cases[i].label, message ? message : "?");
        dala_invalid_render(out, sizeof out, &cases[i].invalid, cases[i].lang);
        CHECK_EQ_STR(out, expected);
    }
    /* And as an officer reads it, word for word. */
    dala_invalid_render(out, sizeof out, &cases[0].invalid, "kk");
    CHECK_EQ_STR(out, "ЖСН: бақылау цифры дұрыс емес");
    dala_invalid_render(out, sizeof out, &cases[4].invalid, "ru");
    CHECK_EQ_STR(out, "Дата повторного посещения: раньше даты, указанной в поле «Дата посещения»");
}

static void test_refusal_with_an_unknown_code_renders_the_code(void)
{
    const dala_invalid unknown = {"field_visit", "visit_date", "no_such_rule", ""};
    char out[256];
    dala_invalid_render(out, sizeof out, &unknown, "kk");
    CHECK_EQ_STR(out, "Бару күні: no_such_rule");
    dala_invalid_render(out, sizeof out, &unknown, "ru");
    CHECK_EQ_STR(out, "Дата посещения: no_such_rule");
}

const dala_test domain_tests[] = {
    {"domain_compiled_in_loads_at_version_3_accepting_1", test_domain_compiled_in_loads_at_version_3_accepting_1},
    {"domain_every_table_field_and_enum_value_has_kk_and_ru_labels", test_domain_every_table_field_and_enum_value_has_kk_and_ru_labels},
    {"domain_every_engine_message_exists_in_kk_ru_en_with_its_argument_slot", test_domain_every_engine_message_exists_in_kk_ru_en_with_its_argument_slot},
    {"domain_kazakh_messages_use_kazakh_letters", test_domain_kazakh_messages_use_kazakh_letters},
    {"domain_parse_refuses_broken_definitions", test_domain_parse_refuses_broken_definitions},
    {"domain_parse_refusing_a_broken_enum_leaks_nothing", test_domain_parse_refusing_a_broken_enum_leaks_nothing},
    {"domain_parse_with_each_allocation_failing_answers_enomem", test_domain_parse_with_each_allocation_failing_answers_enomem},
    {"field_visit_refuses_each_broken_rule", test_field_visit_refuses_each_broken_rule},
    {"person_refuses_each_broken_rule", test_person_refuses_each_broken_rule},
    {"offence_refuses_each_broken_rule", test_offence_refuses_each_broken_rule},
    {"protective_measure_refuses_each_broken_rule", test_protective_measure_refuses_each_broken_rule},
    {"legal_aid_refuses_each_broken_rule", test_legal_aid_refuses_each_broken_rule},
    {"suicide_check_refuses_each_broken_rule", test_suicide_check_refuses_each_broken_rule},
    {"interaction_refuses_each_broken_rule", test_interaction_refuses_each_broken_rule},
    {"work_plan_refuses_each_broken_rule", test_work_plan_refuses_each_broken_rule},
    {"survey_response_refuses_each_broken_rule", test_survey_response_refuses_each_broken_rule},
    {"range_refusal_names_a_large_bound_in_full", test_range_refusal_names_a_large_bound_in_full},
    {"survey_response_without_form_id_is_refused_as_required", test_survey_response_without_form_id_is_refused_as_required},
    {"server_tables_are_refused_from_devices_and_accepted_from_the_server", test_server_tables_are_refused_from_devices_and_accepted_from_the_server},
    {"schema_v1_device_need_not_send_risk_level", test_schema_v1_device_need_not_send_risk_level},
    {"schema_v1_device_cannot_write_what_version_2_introduced", test_schema_v1_device_cannot_write_what_version_2_introduced},
    {"update_cannot_clear_a_required_field", test_update_cannot_clear_a_required_field},
    {"update_cross_field_rules_consult_the_stored_record", test_update_cross_field_rules_consult_the_stored_record},
    {"refusal_format_and_parse_round_trip", test_refusal_format_and_parse_round_trip},
    {"refusal_parse_refuses_malformed_reasons", test_refusal_parse_refuses_malformed_reasons},
    {"refusal_renders_labels_and_message_in_kk_and_ru", test_refusal_renders_labels_and_message_in_kk_and_ru},
    {"refusal_with_an_unknown_code_renders_the_code", test_refusal_with_an_unknown_code_renders_the_code},
    {NULL, NULL},
};
