/* survey.c - asking a questionnaire on the tablet, question by question:
 * the next question follows the skip logic of the answers so far, each
 * answer is checked as it is given (libdala_sync's form rules), and the
 * response is saved as a survey_response record naming the form version
 * it answers, so the server checks it against that same version. */
#include "sdk_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dala_survey {
    dala_store *store;
    char form_id[DALA_ID_TEXT_BYTES];
    char lang[4];
    dala_form *form;
    char **answers;   /* per question: the answer's JSON text, or NULL */
    int *is_passed;   /* per question: an optional one passed over */
    dala_json *given; /* the answers so far as one object (for the skip logic) */
};

/* --------------------------------------------------------- the forms held */

typedef struct form_row {
    char id[DALA_ID_TEXT_BYTES];
    char *code, *title;
    int64_t version;
} form_row;

static char *field_text(const dala_record *record, const char *name)
{
    const dala_record_field *field = dala_record_find(record, name);
    if (!field || field->value.type != DALA_VALUE_TEXT) return strdup("");
    return strndup((const char *)field->value.bytes, field->value.len);
}

static int by_code_then_newest(const void *a, const void *b)
{
    const form_row *x = a, *y = b;
    int order = strcmp(x->code, y->code);
    return order ? order : (x->version < y->version) - (x->version > y->version);
}

/* Reads every form on the tablet, sorted by code, newest version first. */
static int read_forms(form_row **out, size_t *count, sqlite3 *db, const char *lang)
{
    sqlite3_stmt *stmt;
    *out = NULL;
    *count = 0;
    int rc = dala_db_prepare(&stmt, db, "SELECT id, data FROM record WHERE tbl = 'survey_form' AND is_voided = 0");
    int step;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        form_row *grown = realloc(*out, (*count + 1) * sizeof **out);
        if (!grown) {
            rc = dala_error_set(DALA_ENOMEM, "list forms: out of memory");
            break;
        }
        *out = grown;
        form_row *row = &grown[*count];
        dala_record record = DALA_RECORD_INIT;
        rc = dala_record_decode(&record, sqlite3_column_blob(stmt, 1), (size_t)sqlite3_column_bytes(stmt, 1));
        snprintf(row->id, sizeof row->id, "%s", (const char *)sqlite3_column_text(stmt, 0));
        const dala_record_field *version = rc ? NULL : dala_record_find(&record, "version");
        row->version = version && version->value.type == DALA_VALUE_INT ? version->value.integer : 0;
        row->code = field_text(&record, "code");
        row->title = field_text(&record, lang && strcmp(lang, "ru") == 0 ? "title_ru" : "title_kk");
        (*count)++;
        if (!rc && (!row->code || !row->title)) rc = dala_error_set(DALA_ENOMEM, "list forms: out of memory");
        dala_record_clear(&record);
    }
    if (!rc && step != SQLITE_DONE) rc = dala_db_error(db, step, "list forms");
    sqlite3_finalize(stmt);
    if (!rc && *count) qsort(*out, *count, sizeof **out, by_code_then_newest);
    return rc;
}

static void free_forms(form_row *rows, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(rows[i].code);
        free(rows[i].title);
    }
    free(rows);
}

int dala_survey_forms(dala_store *store, const char *lang, dala_form_fn fn, void *context)
{
    if (!store || !fn) return dala_error_set(DALA_EINVAL, "list forms: store and callback are needed");
    form_row *rows;
    size_t count;
    int rc = read_forms(&rows, &count, store->db, lang);
    for (size_t i = 0; !rc && i < count; i++) rc = fn(context, rows[i].id, rows[i].code, rows[i].version, rows[i].title);
    free_forms(rows, count);
    return rc;
}

/* The record id of `form`: an id as it is, a code as its newest version. */
static int resolve_form(char out[DALA_ID_TEXT_BYTES], sqlite3 *db, const char *form)
{
    if (dala_record_id_normalise(out, form) == DALA_OK) return DALA_OK;
    form_row *rows;
    size_t count;
    int rc = read_forms(&rows, &count, db, "kk");
    size_t i = 0;
    while (!rc && i < count && strcmp(rows[i].code, form) != 0) i++;
    if (!rc && i == count) rc = dala_error_set(DALA_ENOTFOUND, "survey: no form %s on this tablet (sync first)", form);
    if (!rc) memcpy(out, rows[i].id, DALA_ID_TEXT_BYTES);
    free_forms(rows, count);
    return rc;
}

/* ------------------------------------------------------------- sessions */

void dala_survey_close(dala_survey *survey)
{
    if (!survey) return;
    for (size_t i = 0; survey->form && survey->answers && i < dala_form_question_count(survey->form); i++)
        free(survey->answers[i]);
    free(survey->answers);
    free(survey->is_passed);
    dala_json_free(survey->given);
    dala_form_free(survey->form);
    free(survey);
}

static int open_survey(dala_survey *s, const char *form)
{
    char *table = NULL;
    uint64_t unit_id;
    dala_record record = DALA_RECORD_INIT;
    char why[64];
    int rc = resolve_form(s->form_id, s->store->db, form);
    if (!rc) rc = dala_record_load(&table, &unit_id, &record, s->store->db, s->form_id);
    const dala_record_field *definition = rc ? NULL : dala_record_find(&record, "definition");
    if (!rc && (strcmp(table, "survey_form") != 0 || !definition || definition->value.type != DALA_VALUE_TEXT))
        rc = dala_error_set(DALA_ENOTFOUND, "survey: record %s is not a form", s->form_id);
    if (!rc && dala_form_parse(&s->form, (const char *)definition->value.bytes, definition->value.len, why, sizeof why))
        rc = dala_error_set(DALA_ECORRUPT, "survey: form %s is not a valid questionnaire: %s", s->form_id, why);
    size_t count = rc ? 0 : dala_form_question_count(s->form);
    if (!rc && (!(s->answers = calloc(count, sizeof *s->answers)) || !(s->is_passed = calloc(count, sizeof *s->is_passed))))
        rc = dala_error_set(DALA_ENOMEM, "survey: out of memory");
    if (!rc) rc = dala_json_parse(&s->given, "{}", 2, 0);
    free(table);
    dala_record_clear(&record);
    return rc;
}

int dala_survey_open(dala_survey **out, dala_store *store, const char *form_id, const char *lang)
{
    *out = NULL;
    if (!store || !form_id) return dala_error_set(DALA_EINVAL, "survey: store and form are needed");
    dala_survey *s = calloc(1, sizeof *s);
    if (!s) return dala_error_set(DALA_ENOMEM, "survey: out of memory");
    s->store = store;
    snprintf(s->lang, sizeof s->lang, "%s", lang && strcmp(lang, "ru") == 0 ? "ru" : "kk");
    int rc = open_survey(s, form_id);
    if (rc) {
        dala_survey_close(s);
        return rc;
    }
    *out = s;
    return DALA_OK;
}

int dala_survey_is_anonymous(const dala_survey *survey)
{
    return survey && dala_form_is_anonymous(survey->form);
}

static int put_text(dala_buf *out, const char *text)
{
    return dala_buf_append(out, text, strlen(text));
}

/* Appends the answers so far as one JSON object: {"q1": ..., ...}. */
static int answers_json(dala_buf *out, const dala_survey *s)
{
    int rc = put_text(out, "{");
    for (size_t i = 0, n = 0; !rc && i < dala_form_question_count(s->form); i++) {
        if (!s->answers[i]) continue;
        const char *id = dala_json_get_string(dala_form_question(s->form, i), "id");
        char key[DALA_MAX_NAME_BYTES + 8];
        snprintf(key, sizeof key, "%s\"%s\":", n++ ? "," : "", id);
        rc = put_text(out, key);
        if (!rc) rc = put_text(out, s->answers[i]);
    }
    if (!rc) rc = put_text(out, "}");
    return rc;
}

/* Rebuilds `given` after an answer changed. */
static int refresh_given(dala_survey *s)
{
    dala_buf text = DALA_BUF_INIT;
    int rc = answers_json(&text, s);
    dala_json *given = NULL;
    if (!rc) rc = dala_json_parse(&given, (const char *)text.data, text.len, 0);
    dala_buf_free(&text);
    if (rc) return rc;
    dala_json_free(s->given);
    s->given = given;
    return DALA_OK;
}

static size_t question_index(const dala_survey *s, const char *id)
{
    size_t i = 0, count = dala_form_question_count(s->form);
    while (id && i < count && strcmp(dala_json_get_string(dala_form_question(s->form, i), "id"), id) != 0) i++;
    return i;
}

static int get_bound(const dala_json *question, const char *key, double *out)
{
    const dala_json *value = dala_json_get(question, key);
    if (value && value->type == DALA_JSON_NUMBER) *out = value->number;
    return value && value->type == DALA_JSON_NUMBER;
}

int dala_survey_next(dala_question *out, dala_survey *s)
{
    if (!out || !s) return dala_error_set(DALA_EINVAL, "survey: nothing to ask");
    for (size_t i = 0; i < dala_form_question_count(s->form); i++) {
        if (s->answers[i] || s->is_passed[i] || !dala_form_is_shown(s->form, i, s->given)) continue;
        const dala_json *q = dala_form_question(s->form, i);
        const dala_json *options = dala_json_get(q, "options"), *max_choices = dala_json_get(q, "max_choices");
        const dala_json *required = dala_json_get(q, "required"), *integer = dala_json_get(q, "integer");
        const dala_json *max_len = dala_json_get(q, "max_len");
        memset(out, 0, sizeof *out);
        out->id = dala_json_get_string(q, "id");
        out->label = dala_json_get_string(q, s->lang);
        out->type = dala_json_get_string(q, "type");
        out->is_required = required && required->type == DALA_JSON_TRUE;
        out->option_count = options ? options->count : 0;
        out->max_choices = max_choices ? (size_t)max_choices->integer : 0;
        out->has_min = get_bound(q, "min", &out->min);
        out->has_max = get_bound(q, "max", &out->max);
        out->is_integer = integer && integer->type == DALA_JSON_TRUE;
        out->max_len = strcmp(out->type, "text") == 0 ? (max_len ? (size_t)max_len->integer : 1000) : 0;
        return DALA_OK;
    }
    return DALA_ENOTFOUND;
}

int dala_survey_option(dala_choice *out, const dala_survey *s, const char *question_id, size_t index)
{
    if (!out || !s) return DALA_ENOTFOUND;
    size_t i = question_index(s, question_id);
    const dala_json *options = dala_json_get(dala_form_question(s->form, i), "options");
    if (!options || index >= options->count) return DALA_ENOTFOUND;
    *out = (dala_choice){dala_json_get_string(&options->items[index], "value"),
                         dala_json_get_string(&options->items[index], s->lang)};
    return DALA_OK;
}

/* A refusal of an answer, worded as the server would word it. */
static int refuse_answer(const char *code, const char *question_id)
{
    return dala_error_set(DALA_EINVAL, "survey_response.answers: %s %s", code, question_id ? question_id : "");
}

int dala_survey_answer(dala_survey *s, const char *question_id, const char *answer_json)
{
    if (!s || !question_id) return dala_error_set(DALA_EINVAL, "survey: a question id is needed");
    size_t i = question_index(s, question_id);
    if (i == dala_form_question_count(s->form)) return refuse_answer("answer_unknown", NULL);
    if (!dala_form_is_shown(s->form, i, s->given)) return refuse_answer("answer_hidden", question_id);
    const dala_json *required = dala_json_get(dala_form_question(s->form, i), "required");
    if (!answer_json) {
        if (required && required->type == DALA_JSON_TRUE) return refuse_answer("answer_required", question_id);
        s->is_passed[i] = 1;
        return DALA_OK;
    }
    dala_json *answer = NULL;
    if (dala_json_parse(&answer, answer_json, strlen(answer_json), 1000)) return refuse_answer("answer_type", question_id);
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    strftime(today, sizeof today, "%Y-%m-%d", localtime_r(&now, &tm));
    dala_survey_verdict verdict;
    int rc = dala_form_check_answer(&verdict, s->form, i, answer, today);
    dala_json_free(answer);
    if (rc == DALA_EINVAL) return refuse_answer(verdict.code, verdict.arg[0] ? verdict.arg : question_id);
    if (rc) return rc;
    char *copy = strdup(answer_json);
    if (!copy) return dala_error_set(DALA_ENOMEM, "survey: out of memory");
    free(s->answers[i]);
    s->answers[i] = copy;
    return refresh_given(s);
}

int dala_survey_save(char *id_out, dala_survey *s, const char *fields_json)
{
    if (id_out) id_out[0] = '\0';
    if (!s) return dala_error_set(DALA_EINVAL, "survey: nothing to save");
    /* {"form_id": ..., "answers": {...}, <the caller's fields>} */
    const char *inner = fields_json ? strchr(fields_json, '{') : NULL;
    const char *end = inner ? strrchr(inner, '}') : NULL;
    if (fields_json && (!inner || !end)) return dala_error_set(DALA_EINVAL, "survey: fields must be a JSON object");
    dala_buf text = DALA_BUF_INIT;
    char head[128];
    snprintf(head, sizeof head, "{\"form_id\":\"%s\",\"answers\":", s->form_id);
    int rc = put_text(&text, head);
    if (!rc) rc = answers_json(&text, s);
    int has_more = 0;
    for (const char *p = inner ? inner + 1 : NULL; p && p < end; p++) has_more |= !strchr(" \t\r\n", *p);
    if (!rc && has_more) {
        rc = put_text(&text, ",");
        if (!rc) rc = dala_buf_append(&text, inner + 1, (size_t)(end - inner - 1));
    }
    if (!rc) rc = dala_buf_append(&text, "}", 2); /* with the NUL */
    if (!rc) rc = dala_record_put(id_out, s->store, "survey_response", NULL, (const char *)text.data);
    dala_buf_free(&text);
    return rc;
}
