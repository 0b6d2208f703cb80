/* test_survey.c - questionnaires (docs/domain.md, "Surveys"): the shipped
 * forms pass the form check and broken ones are refused saying why; a
 * survey_response's answers are checked, through dala_change_check, against
 * the form version the response names: known questions and options, skip
 * logic, required answers, bounds, and anonymity (no IIN in a text answer,
 * no person reference). */
#include "dala_sync.h"
#include "sync_int.h" /* dala_alloc_fail_after */
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TODAY "2026-06-15"
#define RESPONDENT "0190f1c2-7a3b-7c4d-8e5f-000000000001"
#define FORM_V1 "0190f1c2-7a3b-7c4d-8e5f-000000000011"
#define FORM_V2 "0190f1c2-7a3b-7c4d-8e5f-000000000012"
#define FORM_SMALL "0190f1c2-7a3b-7c4d-8e5f-000000000013" /* small_form */
#define FORM_NAMED "0190f1c2-7a3b-7c4d-8e5f-000000000014" /* small_form, not anonymous */
#define FORM_DRAFT "0190f1c2-7a3b-7c4d-8e5f-000000000015" /* a survey_form record never published */

/* A form of the test's own: a required question behind skip logic, a
 * date, a multi; and the text the form-check cases below edit. */
static const char small_form[] =
    "{\"code\": \"test-small\", \"version\": 1, \"kk\": \"Сынақ сауалнамасы\", \"ru\": \"Тестовая анкета\","
    " \"anonymous\": true, \"questions\": ["
    "{\"id\": \"q1\", \"type\": \"single\", \"required\": true, \"kk\": \"Көмек алдыңыз ба?\", \"ru\": \"Получали помощь?\","
    " \"options\": [{\"value\": \"yes\", \"kk\": \"Иә\", \"ru\": \"Да\"}, {\"value\": \"no\", \"kk\": \"Жоқ\", \"ru\": \"Нет\"}]},"
    " {\"id\": \"q2\", \"type\": \"text\", \"required\": true, \"kk\": \"Қандай көмек?\", \"ru\": \"Какую помощь?\","
    " \"show_if\": {\"question\": \"q1\", \"in\": [\"yes\"]}},"
    " {\"id\": \"q3\", \"type\": \"date\", \"not_future\": true, \"kk\": \"Қашан?\", \"ru\": \"Когда?\"},"
    " {\"id\": \"q4\", \"type\": \"multi\", \"kk\": \"Кім көмектесті?\", \"ru\": \"Кто помог?\", \"options\": ["
    "{\"value\": \"police\", \"kk\": \"Полиция\", \"ru\": \"Полиция\"}, {\"value\": \"ngo\", \"kk\": \"ҮЕҰ\", \"ru\": \"НПО\"}]}]}";

/* `text` with its first `from` replaced by `to`, in `out`; "" if `text`
 * lacks `from` (a failed check says so). */
static char *edited(char *out, size_t size, const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    if (!at) {
        test_fail(__FILE__, __LINE__, "the form lacks \"%s\"", from);
        out[0] = 0;
        return out;
    }
    snprintf(out, size, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

/* The published forms, as dala_check_env.form_definition finds them. */
typedef struct forms {
    char *v1, *v2;
    char named[sizeof small_form + 8];
} forms;

static void forms_load(forms *f)
{
    f->v1 = test_read_file(test_data_path("../schema/forms/vaw-survey-v1.json"));
    f->v2 = test_read_file(test_data_path("../schema/forms/vaw-survey-v2.json"));
    edited(f->named, sizeof f->named, small_form, "\"anonymous\": true", "\"anonymous\": false");
}

static void forms_free(forms *f)
{
    free(f->v1);
    free(f->v2);
}

static int form_definition(void *context, const char *form_id, char **out)
{
    const forms *f = context;
    const char *text = !strcmp(form_id, FORM_V1)      ? f->v1
                       : !strcmp(form_id, FORM_V2)    ? f->v2
                       : !strcmp(form_id, FORM_SMALL) ? small_form
                       : !strcmp(form_id, FORM_NAMED) ? f->named
                                                      : NULL;
    *out = text ? strdup(text) : NULL;
    return !text ? DALA_ENOTFOUND : *out ? DALA_OK : DALA_ENOMEM;
}

/* The respondent and every form record exist (the draft too: it is just
 * not published). */
static int record_exists(void *context, const char *table, const char *id)
{
    static const char *const forms_ids[] = {FORM_V1, FORM_V2, FORM_SMALL, FORM_NAMED, FORM_DRAFT};
    (void)context;
    if (!strcmp(table, "person")) return !strcmp(id, RESPONDENT);
    for (size_t i = 0; !strcmp(table, "survey_form") && i < sizeof forms_ids / sizeof forms_ids[0]; i++)
        if (!strcmp(id, forms_ids[i])) return 1;
    return 0;
}

/* ------------------------------------------------------------- answers */

/* One answer: a question id and its JSON; json NULL leaves it unanswered. */
typedef struct answer {
    const char *id, *json;
} answer;

/* An answer set as JSON: `base` (ended by a NULL id) with `edits`
 * replacing, dropping or adding answers. */
static const char *answers_json(char *out, size_t size, const answer *base, const answer *edits, size_t count)
{
    size_t used = (size_t)snprintf(out, size, "{");
    for (const answer *a = base; a->id; a++) {
        const answer *e = NULL;
        for (size_t i = 0; i < count; i++)
            if (edits[i].id && !strcmp(edits[i].id, a->id)) e = &edits[i];
        const char *json = e ? e->json : a->json;
        if (json && used < size) used += (size_t)snprintf(out + used, size - used, "%s\"%s\":%s", used > 1 ? "," : "", a->id, json);
    }
    for (size_t i = 0; i < count; i++) {
        int in_base = 0;
        for (const answer *a = base; edits[i].id && a->id; a++) in_base |= !strcmp(a->id, edits[i].id);
        if (edits[i].id && edits[i].json && !in_base && used < size)
            used += (size_t)snprintf(out + used, size - used, "%s\"%s\":%s", used > 1 ? "," : "", edits[i].id, edits[i].json);
    }
    if (used < size) snprintf(out + used, size - used, "}");
    return out;
}

/* A complete answer set to v1 when nothing happened (q8..q16 hidden), and
 * one when something did. */
static const answer v1_no[] = {
    {"q1", "\"age_25_34\""}, {"q2", "\"village\""}, {"q3", "\"married\""}, {"q4", "\"higher\""}, {"q5", "\"homemaker\""},
    {"q6", "3"}, {"q7", "\"no\""}, {"q17", "\"heard\""}, {"q18", "\"both\""}, {"q19", "4"}, {NULL, NULL}};
static const answer v1_yes[] = {
    {"q1", "\"age_35_44\""}, {"q2", "\"city\""}, {"q3", "\"divorced\""}, {"q4", "\"vocational\""}, {"q5", "\"employed\""},
    {"q6", "0"}, {"q7", "\"yes\""}, {"q8", "[\"physical\",\"economic\"]"}, {"q9", "\"former_partner\""},
    {"q10", "\"several_times\""}, {"q11", "\"usually\""}, {"q12", "\"no_children\""}, {"q13", "\"yes_untreated\""},
    {"q14", "\"no\""}, {"q15", "[\"shame\",\"fear_revenge\",\"dependence\"]"}, {"q16", "[\"relatives\",\"crisis_centre\"]"},
    {"q17", "\"know_well\""}, {"q18", "\"hotlines_only\""}, {"q19", "2"},
    {"q20", "\"Ауылда дағдарыс орталығы керек\""}, {NULL, NULL}};
static const answer small_no[] = {{"q1", "\"no\""}, {NULL, NULL}};
static const answer v2_more[] = {{"q21", "\"no\""}, {"q22", "\"heard\""}}; /* v2's new required questions */

/* One response to check: the answers `base` with `edits`, to `form_id`. */
typedef struct answer_case {
    const char *form_id;
    const answer *base;
    answer edits[2];
    const char *field;   /* the field refused; NULL: the response passes */
    const char *refusal; /* "code" or "code arg" */
} answer_case;

/* Checks a survey_response (form_id, collected_on, answers if not NULL,
 * person_id if not NULL), new or an update of `stored`. */
static int check_response(dala_invalid *got, forms *f, const dala_record *stored, const char *form_id,
                          const char *answers, const char *person_id)
{
    dala_field fields[4];
    size_t count = 0;
    const char *names[] = {"form_id", "collected_on", "answers", "person_id"};
    const char *values[] = {form_id, stored ? NULL : "2026-06-10", answers, person_id};
    for (size_t i = 0; i < 4; i++)
        if (values[i])
            fields[count++] = (dala_field){names[i], {.type = DALA_VALUE_TEXT, .bytes = (const uint8_t *)values[i], .len = strlen(values[i])}, 0};
    dala_change change = {.table = "survey_response", .record_id = {0x01, 0x97}, .hlc = 2, .device_id = 1,
                          .field_count = count, .fields = fields};
    dala_check_env env = {TODAY, 0, 0, stored, record_exists, form_definition, f};
    return dala_change_check(got, &change, &env);
}

/* The same, and its result: DALA_OK when `field` is NULL, else a refusal
 * of `field` with `refusal` ("code" or "code arg"). */
static void try_response(const char *what, forms *f, const dala_record *stored, const char *form_id,
                         const char *answers, const char *person_id, const char *field, const char *refusal)
{
    dala_invalid got;
    char rule[128];
    int rc = check_response(&got, f, stored, form_id, answers, person_id);
    snprintf(rule, sizeof rule, "%s%s%s", got.code, got.arg[0] ? " " : "", got.arg);
    if (field ? rc == DALA_EINVAL && !strcmp(got.field, field) && !strcmp(rule, refusal) : rc == DALA_OK) return;
    test_fail(__FILE__, __LINE__, "%s: got %d (%s: %s), expected %s%s%s", what, rc, got.field, rc == DALA_EINVAL ? rule : "-",
              field ? field : "DALA_OK", field ? ": " : "", field ? refusal : "");
}

/* Checks each case as a new response. */
static void check_answers(const answer_case *cases, size_t count)
{
    forms f;
    forms_load(&f);
    for (size_t i = 0; i < count; i++) {
        char json[8192], what[96];
        const answer_case *c = &cases[i];
        answers_json(json, sizeof json, c->base, c->edits, 2);
        snprintf(what, sizeof what, "case %zu (%s = %.40s)", i, c->edits[0].id ? c->edits[0].id : "as is",
                 c->edits[0].json ? c->edits[0].json : "unanswered");
        try_response(what, &f, NULL, c->form_id, json, NULL, c->field, c->refusal);
    }
    forms_free(&f);
}

#define COUNT(array) (sizeof array / sizeof array[0])

/* --------------------------------------------------------------- tests */

static void test_survey_shipped_forms_pass_the_form_check(void)
{
    forms f;
    forms_load(&f);
    char why[128] = "";
    CHECK(f.v1 && f.v2);
    if (f.v1) CHECK_OK(dala_form_check(f.v1, strlen(f.v1), why, sizeof why));
    if (f.v2) CHECK_OK(dala_form_check(f.v2, strlen(f.v2), why, sizeof why));
    CHECK_OK(dala_form_check(small_form, strlen(small_form), why, sizeof why));
    CHECK_OK(dala_form_check(f.named, strlen(f.named), why, sizeof why));
    forms_free(&f);
}

static void test_survey_form_check_refuses_broken_forms_saying_why(void)
{
    static const char *const cases[][3] = {
        {"\"version\": 1,", "\"version\": 1,,", "not valid JSON"},
        {"\"questions\": [", "\"questions\": [], \"unused\": [", "no questions"},
        {"\"id\": \"q2\"", "\"id\": \"q1\"", "a question id twice: q1"},
        {"\"type\": \"date\"", "\"type\": \"datetime\"", "an unknown question type in q3"},
        {"\"type\": \"date\"", "\"type\": \"single\"", "no options for q3"},
        {"\"question\": \"q1\"", "\"question\": \"q4\"", "show_if must name an earlier choice question: q2"},
        {"\"question\": \"q1\"", "\"question\": \"q2\"", "show_if must name an earlier choice question: q2"},
        {"\"in\": [\"yes\"]", "\"in\": [\"maybe\"]", "show_if names an answer its question lacks: q2"},
        {"\"kk\": \"Қашан?\", ", "", "no kk and ru labels for q3"},
        {"\"ru\": \"Когда?\"", "\"ru\": \"\"", "no kk and ru labels for q3"},
        {"\"kk\": \"Сынақ сауалнамасы\", ", "", "no kk and ru titles"},
        {", \"kk\": \"ҮЕҰ\", \"ru\": \"НПО\"", "", "a bad option in q4"},
        {"\"value\": \"ngo\"", "\"value\": \"police\"", "an option twice in q4"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char form[sizeof small_form + 64], why[128] = "";
        edited(form, sizeof form, small_form, cases[i][0], cases[i][1]);
        int rc = dala_form_check(form, strlen(form), why, sizeof why);
        if (rc != DALA_EINVAL) test_fail(__FILE__, __LINE__, "case %zu (%s): rc %d", i, cases[i][2], rc);
        CHECK_CONTAINS(why, cases[i][2]);
    }
}

static void test_survey_complete_answers_to_v1_pass(void)
{
    static const answer_case cases[] = {
        {FORM_V1, v1_no, {{NULL, NULL}}, NULL, NULL},
        {FORM_V1, v1_yes, {{NULL, NULL}}, NULL, NULL},
        {FORM_V1, v1_yes, {{"q8", "[\"physical\",\"psychological\",\"economic\",\"sexual\",\"stalking\"]"}}, NULL, NULL},
        {FORM_V1, v1_no, {{"q6", "0"}, {"q19", "1"}}, NULL, NULL}, /* the bounds themselves */
        {FORM_V1, v1_no, {{"q6", "20"}, {"q19", "5"}}, NULL, NULL},
        {FORM_V1, v1_no, {{"q20", "\"\""}}, NULL, NULL},
        {FORM_V1, v1_no, {{"q8", "null"}}, NULL, NULL}, /* null: unanswered */
        {FORM_V1, v1_yes, {{"q15", NULL}, {"q20", NULL}}, NULL, NULL}, /* shown but optional */
    };
    check_answers(cases, COUNT(cases));
}

static void test_survey_skip_logic_hides_and_requires_questions(void)
{
    static const answer_case cases[] = {
        {FORM_V1, v1_no, {{"q8", "[\"physical\"]"}}, "answers", "answer_hidden q8"},
        {FORM_V1, v1_no, {{"q14", "\"no\""}}, "answers", "answer_hidden q14"},
        {FORM_V1, v1_yes, {{"q14", "\"yes\""}}, "answers", "answer_hidden q15"}, /* q15 needs q14 = no */
        {FORM_V1, v1_yes, {{"q7", "\"refuse\""}}, "answers", "answer_hidden q8"},
        {FORM_V1, v1_no, {{"q19", NULL}}, "answers", "answer_required q19"},
        {FORM_V1, v1_no, {{"q1", NULL}}, "answers", "answer_required q1"},
        {FORM_V1, v1_no, {{"q7", "null"}}, "answers", "answer_required q7"},
        {FORM_SMALL, small_no, {{NULL, NULL}}, NULL, NULL}, /* q2 required, but hidden */
        {FORM_SMALL, small_no, {{"q1", "\"yes\""}}, "answers", "answer_required q2"},
        {FORM_SMALL, small_no, {{"q1", "\"yes\""}, {"q2", "\"Кеңес\""}}, NULL, NULL},
        {FORM_SMALL, small_no, {{"q2", "\"Кеңес\""}}, "answers", "answer_hidden q2"},
    };
    check_answers(cases, COUNT(cases));
}

static void test_survey_answers_name_known_questions_and_options(void)
{
    static const answer_case cases[] = {
        {FORM_V1, v1_no, {{"q99", "\"yes\""}}, "answers", "answer_unknown q99"},
        {FORM_V1, v1_no, {{"q1", "\"age_10_17\""}}, "answers", "answer_choice q1"},
        {FORM_V1, v1_no, {{"q1", "\"Age_25_34\""}}, "answers", "answer_choice q1"},
        {FORM_V1, v1_no, {{"q1", "[\"age_25_34\"]"}}, "answers", "answer_choice q1"},
        {FORM_V1, v1_no, {{"q1", "1"}}, "answers", "answer_choice q1"},
        {FORM_V1, v1_yes, {{"q8", "[\"physical\",\"physical\"]"}}, "answers", "answer_choice q8"},
        {FORM_V1, v1_yes, {{"q8", "[\"physical\",\"hunger\"]"}}, "answers", "answer_choice q8"},
        {FORM_V1, v1_yes, {{"q8", "[\"physical\",\"psychological\",\"economic\",\"sexual\",\"stalking\",\"refuse\"]"}},
         "answers", "too_many_choices q8"},
        {FORM_V1, v1_yes, {{"q15", "[\"shame\",\"fear_revenge\",\"children\",\"no_trust\"]"}}, "answers", "too_many_choices q15"},
        {FORM_V1, v1_yes, {{"q8", "\"physical\""}}, "answers", "answer_type q8"},
        {FORM_V1, v1_yes, {{"q8", "[]"}}, "answers", "answer_type q8"},
    };
    check_answers(cases, COUNT(cases));
}

static void test_survey_number_text_and_date_answers_keep_their_bounds(void)
{
    char long_text[1200], kazakh_text[1200], longer_kazakh[1200];
    memset(long_text, 'a', 1003);
    long_text[0] = long_text[1002] = '"';
    long_text[1003] = 0;
    strcpy(kazakh_text, "\"");
    for (int i = 0; i < 500; i++) strcat(kazakh_text, "ә"); /* 1000 bytes: at the limit */
    strcat(strcpy(longer_kazakh, kazakh_text), "ә\"");
    strcat(kazakh_text, "\"");
    const answer_case cases[] = {
        {FORM_V1, v1_no, {{"q6", "21"}}, "answers", "answer_range q6"},
        {FORM_V1, v1_no, {{"q6", "-1"}}, "answers", "answer_range q6"},
        {FORM_V1, v1_no, {{"q19", "0"}}, "answers", "answer_range q19"},
        {FORM_V1, v1_no, {{"q19", "6"}}, "answers", "answer_range q19"},
        {FORM_V1, v1_no, {{"q6", "2.5"}}, "answers", "answer_type q6"},
        {FORM_V1, v1_no, {{"q6", "\"3\""}}, "answers", "answer_type q6"},
        {FORM_V1, v1_no, {{"q20", long_text}}, "answers", "answer_too_long q20"},
        {FORM_V1, v1_no, {{"q20", kazakh_text}}, NULL, NULL},
        {FORM_V1, v1_no, {{"q20", longer_kazakh}}, "answers", "answer_too_long q20"}, /* 1002 bytes, 501 letters */
        {FORM_V1, v1_no, {{"q20", "5"}}, "answers", "answer_type q20"},
        {FORM_SMALL, small_no, {{"q3", "\"" TODAY "\""}}, NULL, NULL},
        {FORM_SMALL, small_no, {{"q3", "\"2026-06-16\""}}, "answers", "answer_range q3"},
        {FORM_SMALL, small_no, {{"q3", "\"2026-02-30\""}}, "answers", "answer_type q3"},
    };
    check_answers(cases, COUNT(cases));
}

static void test_survey_anonymous_form_refuses_identifying_answers(void)
{
    /* 850312408153: a valid IIN computed with the published algorithm for a
     * made-up person; 850312408154 has a wrong check digit. */
    static const answer_case cases[] = {
        {FORM_V1, v1_no, {{"q20", "\"Менің ЖСН 850312408153, хабарласыңыз\""}}, "answers", "anonymous_identifier q20"},
        {FORM_V1, v1_no, {{"q20", "\"ИИН:850312408153\""}}, "answers", "anonymous_identifier q20"},
        {FORM_V1, v1_no, {{"q20", "\"8850312408153\""}}, "answers", "anonymous_identifier q20"}, /* inside 13 digits */
        {FORM_V1, v1_no, {{"q20", "\"Нөмір 850312408154\""}}, NULL, NULL}, /* 12 digits, but no IIN */
        {FORM_V1, v1_no, {{"q20", "\"8 701 123 45 67\""}}, NULL, NULL},
    };
    check_answers(cases, COUNT(cases));
    forms f;
    char json[4096], small[256];
    forms_load(&f);
    answers_json(json, sizeof json, v1_no, NULL, 0);
    try_response("person_id on an anonymous form", &f, NULL, FORM_V1, json, RESPONDENT, "person_id", "anonymous_identifier");
    /* A form that is not anonymous may name its respondent. */
    static const answer named[] = {{"q1", "\"yes\""}, {"q2", "\"ЖСН 850312408153\""}, {NULL, NULL}};
    answers_json(small, sizeof small, named, NULL, 0);
    try_response("an IIN on a named form", &f, NULL, FORM_NAMED, small, RESPONDENT, NULL, NULL);
    try_response("the same on an anonymous form", &f, NULL, FORM_SMALL, small, NULL, "answers", "anonymous_identifier q2");
    forms_free(&f);
}

static void test_survey_response_to_an_unpublished_form_or_not_json_is_refused(void)
{
    forms f;
    char json[4096];
    forms_load(&f);
    answers_json(json, sizeof json, v1_no, NULL, 0);
    try_response("a draft form", &f, NULL, FORM_DRAFT, json, NULL, "form_id", "form_missing");
    try_response("answers not JSON", &f, NULL, FORM_V1, "{\"q1\": \"age_25_34\",", NULL, "answers", "json");
    try_response("answers twice", &f, NULL, FORM_V1, "{\"q1\": \"age_25_34\", \"q1\": \"age_65_plus\"}", NULL, "answers", "json");
    try_response("answers not an object", &f, NULL, FORM_V1, "[\"age_25_34\"]", NULL, "answers", "json"); /* an object is the only shape */
    forms_free(&f);
}

static void test_survey_response_is_checked_against_the_version_it_names(void)
{
    static const answer_case cases[] = {
        {FORM_V2, v1_no, {{NULL, NULL}}, "answers", "answer_required q21"},
        {FORM_V2, v1_no, {v2_more[0]}, "answers", "answer_required q22"},
        {FORM_V2, v1_no, {v2_more[0], v2_more[1]}, NULL, NULL},
        {FORM_V1, v1_no, {v2_more[0]}, "answers", "answer_unknown q21"},
        {FORM_V1, v1_yes, {{"q9", "\"sibling\""}}, "answers", "answer_choice q9"}, /* an option v2 added */
        {FORM_V1, v1_no, {{NULL, NULL}}, NULL, NULL}, /* v1 responses stay accepted */
    };
    check_answers(cases, COUNT(cases));
    /* The same answers, v2's option and new questions, under v2. */
    forms f;
    char json[8192];
    const answer sibling[] = {{"q9", "\"sibling\""}, {"q21", "\"refuse\""}, {"q22", "\"know\""}, {NULL, NULL}};
    forms_load(&f);
    answers_json(json, sizeof json, v1_yes, sibling, 3);
    try_response("sibling under v2", &f, NULL, FORM_V2, json, NULL, NULL, NULL);
    forms_free(&f);
}

/* A response, then a form, checked with the 1st, 2nd, ... allocation
 * failing: DALA_ENOMEM, never a verdict on the answers or the form (a
 * valid response refused for good because memory ran short once), nothing
 * leaked (AddressSanitizer's leak check under `make asan`), and DALA_OK
 * once none fails. */
static void test_survey_checks_with_each_allocation_failing_answer_enomem(void)
{
    forms f;
    char json[8192];
    long failures = 0, passed = 0, wrong = 0;
    forms_load(&f);
    CHECK(dala_domain_get() != NULL); /* the domain is parsed before any allocation fails */
    answers_json(json, sizeof json, v1_yes, NULL, 0);
    for (long n = 1; !passed && n <= 100000; n++) {
        dala_invalid got;
        dala_alloc_fail_after(n);
        int rc = check_response(&got, &f, NULL, FORM_V1, json, NULL);
        dala_alloc_fail_after(0);
        if ((passed = rc == DALA_OK)) break;
        if (rc != DALA_ENOMEM && wrong++ < 3)
            test_fail(__FILE__, __LINE__, "allocation %ld failing: %d (%s: %s)", n, rc, rc == DALA_EINVAL ? got.field : "",
                      rc == DALA_EINVAL ? got.code : "");
        failures++;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK(passed);
    CHECK(failures > 0);
    /* The form check alike: a valid form is never called broken. */
    char why[128];
    long checked = 0, form_wrong = 0;
    for (long n = 1; f.v1 && !checked && n <= 100000; n++) {
        dala_alloc_fail_after(n);
        int rc = dala_form_check(f.v1, strlen(f.v1), why, sizeof why);
        dala_alloc_fail_after(0);
        checked = rc == DALA_OK;
        if (rc && rc != DALA_ENOMEM && form_wrong++ < 3)
            test_fail(__FILE__, __LINE__, "form check, allocation %ld failing: %d (%s)", n, rc, rc == DALA_EINVAL ? why : "");
    }
    CHECK_EQ_INT(form_wrong, 0);
    CHECK(checked);
    forms_free(&f);
}

/* A survey_response stored with `answers` to `form_id`. */
static void store_response(dala_record *record, const char *form_id, const char *answers)
{
    const char *names[] = {"form_id", "collected_on", "answers"}, *values[] = {form_id, "2026-06-10", answers};
    const dala_version version = {1, 1};
    for (size_t i = 0; i < 3; i++) {
        dala_value value = {.type = DALA_VALUE_TEXT, .bytes = (const uint8_t *)values[i], .len = strlen(values[i])};
        CHECK_OK(dala_record_set(record, names[i], &value, &version, 1));
    }
}

static void test_survey_update_of_answers_is_checked_against_the_stored_form(void)
{
    forms f;
    char stored_json[4096], json[4096];
    const answer hidden[] = {{"q8", "[\"physical\"]"}}, older[] = {{"q1", "\"age_45_54\""}};
    dala_record stored = DALA_RECORD_INIT;
    forms_load(&f);
    store_response(&stored, FORM_V1, answers_json(stored_json, sizeof stored_json, v1_no, NULL, 0));
    try_response("answers alone, valid", &f, &stored, NULL, answers_json(json, sizeof json, v1_no, older, 1), NULL, NULL, NULL);
    try_response("answers alone, q8 hidden", &f, &stored, NULL, answers_json(json, sizeof json, v1_no, hidden, 1), NULL,
                 "answers", "answer_hidden q8");
    dala_record_clear(&stored);
    forms_free(&f);
}

/* An anonymous response keeps no person reference, whichever change
 * brings it: linking a person later is refused as at creation. */
static void test_survey_update_linking_a_person_to_an_anonymous_response_is_refused(void)
{
    forms f;
    char json[4096];
    dala_record stored = DALA_RECORD_INIT;
    forms_load(&f);
    store_response(&stored, FORM_V1, answers_json(json, sizeof json, v1_no, NULL, 0));
    try_response("person_id alone", &f, &stored, NULL, NULL, RESPONDENT, "person_id", "anonymous_identifier");
    dala_record_clear(&stored);
    forms_free(&f);
}

/* Answers are checked against the version the response names, also when
 * an update changes only the version it names. */
static void test_survey_update_moving_a_response_to_another_version_rechecks_its_answers(void)
{
    forms f;
    char json[4096];
    dala_record stored = DALA_RECORD_INIT;
    forms_load(&f);
    store_response(&stored, FORM_V1, answers_json(json, sizeof json, v1_no, NULL, 0));
    try_response("form_id alone, to v2", &f, &stored, FORM_V2, NULL, NULL, "answers", "answer_required q21");
    dala_record_clear(&stored);
    forms_free(&f);
}

const dala_test survey_tests[] = {
    {"survey_shipped_forms_pass_the_form_check", test_survey_shipped_forms_pass_the_form_check},
    {"survey_form_check_refuses_broken_forms_saying_why", test_survey_form_check_refuses_broken_forms_saying_why},
    {"survey_complete_answers_to_v1_pass", test_survey_complete_answers_to_v1_pass},
    {"survey_skip_logic_hides_and_requires_questions", test_survey_skip_logic_hides_and_requires_questions},
    {"survey_answers_name_known_questions_and_options", test_survey_answers_name_known_questions_and_options},
    {"survey_number_text_and_date_answers_keep_their_bounds", test_survey_number_text_and_date_answers_keep_their_bounds},
    {"survey_anonymous_form_refuses_identifying_answers", test_survey_anonymous_form_refuses_identifying_answers},
    {"survey_response_to_an_unpublished_form_or_not_json_is_refused", test_survey_response_to_an_unpublished_form_or_not_json_is_refused},
    {"survey_response_is_checked_against_the_version_it_names", test_survey_response_is_checked_against_the_version_it_names},
    {"survey_checks_with_each_allocation_failing_answer_enomem", test_survey_checks_with_each_allocation_failing_answer_enomem},
    {"survey_update_of_answers_is_checked_against_the_stored_form", test_survey_update_of_answers_is_checked_against_the_stored_form},
    {"survey_update_linking_a_person_to_an_anonymous_response_is_refused", test_survey_update_linking_a_person_to_an_anonymous_response_is_refused},
    {"survey_update_moving_a_response_to_another_version_rechecks_its_answers", test_survey_update_moving_a_response_to_another_version_rechecks_its_answers},
    {NULL, NULL},
};
