/* survey.c - questionnaires (docs/domain.md, "Surveys"): checks a form
 * definition before it is published, and checks a response's answers
 * against the form version it was captured with: known questions, skip
 * logic, required answers, types and constraints, and anonymity. */
#include "sync_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUESTIONS 500
#define MAX_FORM_NODES 50000
#define MAX_ANSWER_NODES 20000

typedef struct question {
    const dala_json *json;
    const char *id;
    const char *type; /* single, multi, text, number, date */
    int is_required;
    const dala_json *options;
    int show_if;               /* index of the question it depends on, or -1 */
    const dala_json *show_in;  /* the answers of that question that show this one */
} question;

struct dala_form {
    dala_json *doc;
    int is_anonymous;
    size_t count;
    question questions[MAX_QUESTIONS];
};
typedef struct dala_form form;

static int form_error(char *why, size_t size, const char *what, const char *id)
{
    snprintf(why, size, "%s%s%s", what, id ? " " : "", id ? id : "");
    return dala_error_set(DALA_EINVAL, "form: %s", why);
}

/* Option values and question ids: [a-z0-9_], 1..63 bytes. */
static int is_token(const char *text)
{
    size_t len = text ? strlen(text) : 0;
    for (size_t i = 0; i < len; i++)
        if (!((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= '0' && text[i] <= '9') || text[i] == '_')) return 0;
    return len > 0 && len <= DALA_MAX_NAME_BYTES;
}

static const dala_json *find_option(const question *q, const char *value, size_t len)
{
    for (size_t i = 0; q->options && i < q->options->count; i++) {
        const char *option = dala_json_get_string(&q->options->items[i], "value");
        if (option && strlen(option) == len && memcmp(option, value, len) == 0) return &q->options->items[i];
    }
    return NULL;
}

static int has_labels(const dala_json *object)
{
    const char *kk = dala_json_get_string(object, "kk"), *ru = dala_json_get_string(object, "ru");
    return kk && ru && *kk && *ru;
}

static int is_whole(const dala_json *value, int64_t low, int64_t high)
{
    return value && value->type == DALA_JSON_NUMBER && value->is_integer && value->integer >= low &&
           value->integer <= high;
}

static int read_options(question *q, char *why, size_t size)
{
    int is_choice = strcmp(q->type, "single") == 0 || strcmp(q->type, "multi") == 0;
    if (!is_choice) return q->options ? form_error(why, size, "options on a question without choices:", q->id) : DALA_OK;
    if (!q->options || q->options->type != DALA_JSON_ARRAY || q->options->count == 0 || q->options->count > 200)
        return form_error(why, size, "no options for", q->id);
    for (size_t i = 0; i < q->options->count; i++) {
        const dala_json *option = &q->options->items[i];
        const char *value = dala_json_get_string(option, "value");
        if (!is_token(value) || !has_labels(option)) return form_error(why, size, "a bad option in", q->id);
        if (find_option(q, value, strlen(value)) != option) return form_error(why, size, "an option twice in", q->id);
    }
    return DALA_OK;
}

static int read_show_if(form *f, question *q, char *why, size_t size)
{
    const dala_json *show_if = dala_json_get(q->json, "show_if");
    q->show_if = -1;
    if (!show_if) return DALA_OK;
    const char *target = dala_json_get_string(show_if, "question");
    q->show_in = dala_json_get(show_if, "in");
    for (size_t i = 0; target && i < f->count; i++)
        if (strcmp(f->questions[i].id, target) == 0) q->show_if = (int)i;
    if (q->show_if < 0 || !f->questions[q->show_if].options) return form_error(why, size, "show_if must name an earlier choice question:", q->id);
    if (!q->show_in || q->show_in->type != DALA_JSON_ARRAY || q->show_in->count == 0)
        return form_error(why, size, "show_if needs answers in \"in\":", q->id);
    for (size_t i = 0; i < q->show_in->count; i++) {
        const dala_json *value = &q->show_in->items[i];
        if (value->type != DALA_JSON_STRING || !find_option(&f->questions[q->show_if], value->string, value->len))
            return form_error(why, size, "show_if names an answer its question lacks:", q->id);
    }
    return DALA_OK;
}

static int read_question(form *f, question *q, char *why, size_t size)
{
    static const char *const types[] = {"single", "multi", "text", "number", "date", NULL};
    static const char *const keys[] = {"id", "type", "required", "kk", "ru", "options", "max_choices", "min", "max",
                                       "integer", "max_len", "not_future", "show_if", NULL};
    if (q->json->type != DALA_JSON_OBJECT) return form_error(why, size, "a question is not an object", NULL);
    q->id = dala_json_get_string(q->json, "id");
    if (!is_token(q->id)) return form_error(why, size, "a question has no valid id", NULL);
    for (size_t i = 0; i < q->json->count; i++) {
        const char *const *key = keys;
        while (*key && strcmp(*key, q->json->keys[i])) key++;
        if (!*key) return form_error(why, size, "an unknown key in", q->id);
    }
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->questions[i].id, q->id) == 0) return form_error(why, size, "a question id twice:", q->id);
    q->type = dala_json_get_string(q->json, "type");
    const char *const *type = types;
    while (q->type && *type && strcmp(*type, q->type)) type++;
    if (!q->type || !*type) return form_error(why, size, "an unknown question type in", q->id);
    if (!has_labels(q->json)) return form_error(why, size, "no kk and ru labels for", q->id);
    const dala_json *required = dala_json_get(q->json, "required");
    q->is_required = required && required->type == DALA_JSON_TRUE;
    q->options = dala_json_get(q->json, "options");
    int rc = read_options(q, why, size);
    if (!rc) rc = read_show_if(f, q, why, size);
    const dala_json *max_choices = dala_json_get(q->json, "max_choices"), *max_len = dala_json_get(q->json, "max_len");
    if (!rc && max_choices && !is_whole(max_choices, 1, 200)) rc = form_error(why, size, "a bad max_choices in", q->id);
    if (!rc && max_len && !is_whole(max_len, 1, 100000)) rc = form_error(why, size, "a bad max_len in", q->id);
    return rc;
}

static int form_read(form *f, const char *json, size_t len, char *why, size_t size)
{
    memset(f, 0, sizeof *f);
    int rc = dala_json_parse(&f->doc, json, len, MAX_FORM_NODES);
    if (rc == DALA_EINVAL || rc == DALA_ELIMIT) return form_error(why, size, "not valid JSON", NULL);
    if (rc) return rc; /* out of memory is not a broken form */
    const char *code = dala_json_get_string(f->doc, "code");
    const dala_json *anonymous = dala_json_get(f->doc, "anonymous");
    const dala_json *questions = dala_json_get(f->doc, "questions");
    if (!code || !*code || strlen(code) > 64) return form_error(why, size, "no code", NULL);
    if (!is_whole(dala_json_get(f->doc, "version"), 1, 1000)) return form_error(why, size, "no version 1..1000", NULL);
    if (!has_labels(f->doc)) return form_error(why, size, "no kk and ru titles", NULL);
    if (anonymous && anonymous->type != DALA_JSON_TRUE && anonymous->type != DALA_JSON_FALSE)
        return form_error(why, size, "anonymous must be true or false", NULL);
    f->is_anonymous = !anonymous || anonymous->type == DALA_JSON_TRUE;
    if (!questions || questions->type != DALA_JSON_ARRAY || questions->count == 0 || questions->count > MAX_QUESTIONS)
        return form_error(why, size, "no questions (1..500)", NULL);
    for (size_t i = 0; !rc && i < questions->count; i++) {
        f->questions[i].json = &questions->items[i];
        rc = read_question(f, &f->questions[i], why, size);
        f->count = i + 1;
    }
    return rc;
}

void dala_form_free(dala_form *f)
{
    if (!f) return;
    dala_json_free(f->doc);
    free(f);
}

int dala_form_parse(dala_form **out, const char *json, size_t len, char *why, size_t why_size)
{
    *out = NULL;
    form *f = dala_calloc(1, sizeof *f);
    if (!f) return dala_error_set(DALA_ENOMEM, "read form");
    int rc = form_read(f, json, len, why, why_size);
    if (rc) dala_form_free(f);
    else *out = f;
    return rc;
}

int dala_form_check(const char *json, size_t len, char *why, size_t why_size)
{
    dala_form *f;
    int rc = dala_form_parse(&f, json, len, why, why_size);
    dala_form_free(f);
    return rc;
}

int dala_form_is_anonymous(const dala_form *f)
{
    return f->is_anonymous;
}

size_t dala_form_question_count(const dala_form *f)
{
    return f->count;
}

const dala_json *dala_form_question(const dala_form *f, size_t index)
{
    return index < f->count ? f->questions[index].json : NULL;
}

/* ------------------------------------------------------------- answers */

static int verdict(dala_survey_verdict *out, const char *code, const char *id)
{
    snprintf(out->code, sizeof out->code, "%s", code);
    snprintf(out->arg, sizeof out->arg, "%s", id && is_token(id) ? id : "");
    return dala_error_set(DALA_EINVAL, "survey answers: %s %s", out->code, out->arg);
}

/* Whether a text holds a valid IIN (12 digits in a row, check digit
 * right): an anonymous response must not identify anyone. */
static int holds_iin(const char *text, size_t len)
{
    size_t run = 0;
    for (size_t i = 0; i <= len; i++) {
        int is_digit = i < len && text[i] >= '0' && text[i] <= '9';
        if (is_digit) {
            run++;
            continue;
        }
        for (size_t start = i - run; run >= 12 && start + 12 <= i; start++)
            if (!dala_iin_check(NULL, text + start, 12)) return 1;
        run = 0;
    }
    return 0;
}

/* Whether question `q`'s answer is one of `in` (any choice, for multi). */
static int answer_in(const dala_json *answer, const dala_json *in)
{
    size_t count = answer->type == DALA_JSON_ARRAY ? answer->count : 1;
    for (size_t i = 0; i < count; i++) {
        const dala_json *choice = answer->type == DALA_JSON_ARRAY ? &answer->items[i] : answer;
        for (size_t j = 0; choice->type == DALA_JSON_STRING && j < in->count; j++)
            if (strcmp(choice->string, in->items[j].string) == 0) return 1;
    }
    return 0;
}

static int check_choices(dala_survey_verdict *out, const question *q, const dala_json *a)
{
    if (strcmp(q->type, "single") == 0)
        return a->type == DALA_JSON_STRING && find_option(q, a->string, a->len) ? DALA_OK : verdict(out, "answer_choice", q->id);
    if (a->type != DALA_JSON_ARRAY || a->count == 0) return verdict(out, "answer_type", q->id);
    for (size_t i = 0; i < a->count; i++) {
        const dala_json *choice = &a->items[i];
        if (choice->type != DALA_JSON_STRING || !find_option(q, choice->string, choice->len))
            return verdict(out, "answer_choice", q->id);
        for (size_t j = 0; j < i; j++)
            if (strcmp(a->items[j].string, choice->string) == 0) return verdict(out, "answer_choice", q->id);
    }
    const dala_json *max = dala_json_get(q->json, "max_choices");
    return max && (int64_t)a->count > max->integer ? verdict(out, "too_many_choices", q->id) : DALA_OK;
}

static int check_answer(dala_survey_verdict *out, const form *f, const question *q, const dala_json *a,
                        const char *today)
{
    if (q->options) return check_choices(out, q, a);
    if (strcmp(q->type, "number") == 0) {
        const dala_json *min = dala_json_get(q->json, "min"), *max = dala_json_get(q->json, "max");
        const dala_json *integer = dala_json_get(q->json, "integer");
        if (a->type != DALA_JSON_NUMBER) return verdict(out, "answer_type", q->id);
        if (integer && integer->type == DALA_JSON_TRUE && a->number != floor(a->number)) return verdict(out, "answer_type", q->id);
        if ((min && min->type == DALA_JSON_NUMBER && a->number < min->number) ||
            (max && max->type == DALA_JSON_NUMBER && a->number > max->number))
            return verdict(out, "answer_range", q->id);
        return DALA_OK;
    }
    if (a->type != DALA_JSON_STRING) return verdict(out, "answer_type", q->id);
    if (strcmp(q->type, "date") == 0) {
        const dala_json *not_future = dala_json_get(q->json, "not_future");
        if (!dala_date_is_valid(a->string, a->len)) return verdict(out, "answer_type", q->id);
        if (not_future && not_future->type == DALA_JSON_TRUE && today && memcmp(a->string, today, 10) > 0)
            return verdict(out, "answer_range", q->id);
        return DALA_OK;
    }
    const dala_json *max_len = dala_json_get(q->json, "max_len");
    if ((int64_t)a->len > (max_len ? max_len->integer : 1000)) return verdict(out, "answer_too_long", q->id);
    if (f->is_anonymous && holds_iin(a->string, a->len)) return verdict(out, "anonymous_identifier", q->id);
    return DALA_OK;
}

/* The given answer to each question (NULL: none) and whether the skip
 * logic shows it. DALA_EINVAL for an answer to an unknown question. */
static int read_given(dala_survey_verdict *out, const form *f, const dala_json *answers, const dala_json **given,
                      int *is_shown)
{
    for (size_t i = 0; i < f->count; i++) given[i] = NULL;
    for (size_t i = 0; i < answers->count; i++) {
        size_t q = 0;
        while (q < f->count && strcmp(f->questions[q].id, answers->keys[i])) q++;
        if (q == f->count) return verdict(out, "answer_unknown", answers->keys[i]);
        if (answers->items[i].type != DALA_JSON_NULL) given[q] = &answers->items[i];
    }
    for (size_t i = 0; i < f->count; i++) {
        const question *q = &f->questions[i];
        is_shown[i] = q->show_if < 0 || (is_shown[q->show_if] && given[q->show_if] && answer_in(given[q->show_if], q->show_in));
    }
    return DALA_OK;
}

int dala_form_is_shown(const dala_form *f, size_t index, const dala_json *answers)
{
    const dala_json *given[MAX_QUESTIONS];
    int is_shown[MAX_QUESTIONS];
    dala_survey_verdict ignored;
    if (index >= f->count || answers->type != DALA_JSON_OBJECT) return 0;
    return read_given(&ignored, f, answers, given, is_shown) == DALA_OK && is_shown[index];
}

int dala_form_check_answer(dala_survey_verdict *out, const dala_form *f, size_t index, const dala_json *answer,
                           const char *today)
{
    memset(out, 0, sizeof *out);
    out->is_anonymous = f->is_anonymous;
    if (index >= f->count) return verdict(out, "answer_unknown", NULL);
    return check_answer(out, f, &f->questions[index], answer, today);
}

static int check_answers(dala_survey_verdict *out, const form *f, const dala_json *answers, const char *today)
{
    if (answers->type != DALA_JSON_OBJECT) return verdict(out, "json", NULL);
    const dala_json *given[MAX_QUESTIONS];
    int is_shown[MAX_QUESTIONS];
    int rc = read_given(out, f, answers, given, is_shown);
    for (size_t i = 0; !rc && i < f->count; i++) {
        const question *q = &f->questions[i];
        if (!is_shown[i] && given[i]) return verdict(out, "answer_hidden", q->id);
        if (is_shown[i] && q->is_required && !given[i]) return verdict(out, "answer_required", q->id);
        if (given[i]) rc = check_answer(out, f, q, given[i], today);
    }
    return rc;
}

int dala_survey_check(dala_survey_verdict *out, const char *form_json, size_t form_len, const char *answers,
                      size_t answers_len, const char *today)
{
    memset(out, 0, sizeof *out);
    char why[64];
    form *f = dala_calloc(1, sizeof *f);
    if (!f) return dala_error_set(DALA_ENOMEM, "survey check");
    dala_json *doc = NULL;
    int rc = form_read(f, form_json, form_len, why, sizeof why);
    if (rc == DALA_EINVAL) rc = verdict(out, "form_missing", NULL); /* a broken form was never publishable */
    out->is_anonymous = f->is_anonymous;
    if (!rc) {
        rc = dala_json_parse(&doc, answers, answers_len, MAX_ANSWER_NODES);
        if (rc == DALA_EINVAL || rc == DALA_ELIMIT) rc = verdict(out, "json", NULL);
    }
    if (!rc) rc = check_answers(out, f, doc, today);
    dala_json_free(doc);
    dala_json_free(f->doc);
    free(f);
    return rc;
}
