/* cmd_ask.c - capture on a terminal, one question at a time: the fields of
 * a record type (`dala capture --table T --ask`) or a questionnaire with
 * its skip logic (`dala capture --form CODE`). Labels and refusals come in
 * the officer's language (--lang). Answers are read line by line from
 * standard input, so the same flow runs from a script; then each answer
 * is echoed, so the transcript reads as the conversation did. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_BYTES 4096

/* Type hints in the officer's language: {type, kk, ru}. */
static const char *const type_hints[][3] = {
    {"date", "ЖЖЖЖ-АА-КК", "ГГГГ-ММ-ДД"},     {"time", "СС:ММ", "ЧЧ:ММ"},
    {"int", "бүтін сан", "целое число"},       {"real", "сан", "число"},
    {"bool", "иә / жоқ", "да / нет"},          {"iin", "12 цифр", "12 цифр"},
    {"phone", "+7 7xx xxx xx xx", "+7 7xx xxx xx xx"}, {"ref", "жазба id", "id записи"},
    {"number", "сан", "число"},                {"set", "нөмірлер үтір арқылы", "номера через запятую"},
    {"multi", "нөмірлер үтір арқылы", "номера через запятую"},
};

static const char *hint_of(const char *type)
{
    for (size_t i = 0; i < sizeof type_hints / sizeof type_hints[0]; i++)
        if (strcmp(type_hints[i][0], type) == 0) return type_hints[i][cli_is_russian() ? 2 : 1];
    return NULL;
}

/* Reads one answer line (without its newline); 0 at the end of input. */
static int read_answer(char *line, size_t size)
{
    if (!fgets(line, (int)size, stdin)) return 0;
    line[strcspn(line, "\r\n")] = '\0';
    if (!isatty(0)) printf("%s\n", line);
    return 1;
}

static void print_refusal(void)
{
    char text[600];
    dala_reason_render(text, sizeof text, dala_errmsg(), cli_lang());
    printf("  ! %s\n", text);
}

/* "1,3" or "low,high" into values of the choices; the JSON array of them
 * (multi) or the one value as a JSON string. NULL if a number is out of range. */
static char *choices_json(const char *line, int is_many, dala_choice (*choice_at)(void *, size_t, int *),
                          void *context)
{
    char *json = NULL, *copy = strdup(line), *save = NULL;
    size_t len = 0, alloc = 0, count = 0;
    int ok = copy && !cli_append(&json, &len, &alloc, is_many ? "[" : "");
    for (char *item = copy ? strtok_r(copy, ", ", &save) : NULL; ok && item; item = strtok_r(NULL, ", ", &save)) {
        char *end;
        long number = strtol(item, &end, 10);
        int found = 1;
        dala_choice choice = *end == '\0' && number > 0 ? choice_at(context, (size_t)number - 1, &found)
                                                         : (dala_choice){item, item};
        ok = found && (is_many || count == 0) && !cli_append(&json, &len, &alloc, count++ ? "," : "") &&
             !cli_json_string(&json, &len, &alloc, choice.value);
    }
    if (ok && is_many) ok = !cli_append(&json, &len, &alloc, "]");
    free(copy);
    if (!ok || count == 0) {
        free(json);
        return NULL;
    }
    return json;
}

/* ------------------------------------------------------------ record types */

typedef struct field_ask {
    const char *table;
    const dala_field_info *field;
} field_ask;

static dala_choice field_choice(void *context, size_t index, int *found)
{
    field_ask *ask = context;
    dala_choice choice = {"", ""};
    *found = dala_schema_choice(&choice, ask->table, ask->field->name, index, cli_lang()) == DALA_OK;
    return choice;
}

static void print_field_prompt(const char *table, const dala_field_info *f)
{
    const char *hint = hint_of(f->type);
    printf("%s%s%s%s%s:", f->label, f->is_required ? " *" : "", hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
    for (size_t i = 0; i < f->choice_count; i++) {
        dala_choice choice;
        if (dala_schema_choice(&choice, table, f->name, i, cli_lang()) != DALA_OK) continue;
        if (f->catalogue) printf("%s%zu) %s %s", i ? "\n  " : "\n  ", i + 1, choice.value, choice.label);
        else printf("%s%zu) %s", i ? "  " : "\n  ", i + 1, choice.label);
    }
    if (strcmp(f->type, "ref") == 0) printf("\n");
    else printf("\n> ");
    fflush(stdout);
}

/* The JSON value of one typed line; NULL when it cannot be one. */
static char *field_value_json(const char *table, const dala_field_info *f, const char *line)
{
    char *json = NULL;
    size_t len = 0, alloc = 0;
    if (f->choice_count) {
        field_ask ask = {table, f};
        return choices_json(line, strcmp(f->type, "set") == 0, field_choice, &ask);
    }
    if (strcmp(f->type, "bool") == 0) {
        static const char *const yes[] = {"1", "иә", "да", "yes"}, *const no[] = {"0", "жоқ", "нет", "no"};
        for (size_t i = 0; i < 4; i++)
            if (strcmp(line, yes[i]) == 0 || strcmp(line, no[i]) == 0)
                return strdup(strcmp(line, yes[i]) == 0 ? "true" : "false");
        return NULL;
    }
    if (strcmp(f->type, "int") == 0 || strcmp(f->type, "real") == 0) {
        char *end;
        (void)strtod(line, &end);
        return *end == '\0' && end != line ? strdup(line) : NULL;
    }
    if (strcmp(f->type, "set") == 0 && cli_json_string(&json, &len, &alloc, line)) return NULL;
    return cli_json_string(&json, &len, &alloc, line) ? NULL : json;
}

/* The answers given so far: one JSON value per field name. */
typedef struct field_answers {
    size_t count;
    const char *names[256];
    char *values[256];
} field_answers;

static void forget(field_answers *a, const char *name)
{
    for (size_t i = 0; i < a->count; i++) {
        if (strcmp(a->names[i], name) != 0) continue;
        free(a->values[i]);
        a->names[i] = a->names[--a->count];
        a->values[i] = a->values[a->count];
        return;
    }
}

static char *answers_object(const field_answers *a)
{
    char *json = NULL;
    size_t len = 0, alloc = 0;
    int rc = cli_append(&json, &len, &alloc, "{");
    for (size_t i = 0; !rc && i < a->count; i++) {
        rc = cli_append(&json, &len, &alloc, i ? ", " : "");
        if (!rc) rc = cli_json_string(&json, &len, &alloc, a->names[i]);
        if (!rc) rc = cli_append(&json, &len, &alloc, ": ");
        if (!rc) rc = cli_append(&json, &len, &alloc, a->values[i]);
    }
    if (!rc) rc = cli_append(&json, &len, &alloc, "}");
    if (rc) free(json);
    return rc ? NULL : json;
}

/* The records a reference may name, newest first: at most 9, to pick by
 * number from their summaries. */
typedef struct ref_choices {
    size_t count;
    char ids[9][DALA_ID_TEXT_BYTES];
} ref_choices;

static int add_ref_choice(void *context, const dala_record_info *info)
{
    ref_choices *c = context;
    if (info->is_voided) return 0;
    snprintf(c->ids[c->count++], DALA_ID_TEXT_BYTES, "%s", info->id);
    return c->count == 9;
}

static void list_ref_choices(ref_choices *c, dala_store *store, const dala_field_info *f)
{
    c->count = 0;
    if (f->ref && strcmp(f->ref, "*") && dala_record_list(store, f->ref, add_ref_choice, c) >= 0)
        for (size_t i = 0; i < c->count; i++) {
            char summary[160];
            if (dala_record_summary(summary, sizeof summary, store, c->ids[i], cli_lang())) summary[0] = '\0';
            printf("  %zu) %s\n", i + 1, summary[0] ? summary : c->ids[i]);
        }
    printf("> ");
    fflush(stdout);
}

/* Asks one field until the line is a value of its type (or is skipped).
 * 0 at the end of input. */
static int ask_field(field_answers *a, dala_store *store, const char *table, const dala_field_info *f)
{
    char line[LINE_BYTES];
    ref_choices refs;
    for (;;) {
        print_field_prompt(table, f);
        if (!strcmp(f->type, "ref")) list_ref_choices(&refs, store, f);
        if (!read_answer(line, sizeof line)) return 0;
        char *end;
        long pick = !strcmp(f->type, "ref") ? strtol(line, &end, 10) : 0;
        if (pick > 0 && (size_t)pick <= refs.count && *end == '\0') snprintf(line, sizeof line, "%s", refs.ids[pick - 1]);
        if (line[0] == '\0') {
            if (!f->is_required) return 1;
            printf("  ! %s\n", cli_is_russian() ? "обязательно для заполнения" : "толтырылуы міндетті");
            continue;
        }
        char *value = field_value_json(table, f, line);
        if (!value) {
            printf("  ! %s\n", cli_is_russian() ? "не то значение: повторите" : "мән сәйкес емес: қайталаңыз");
            continue;
        }
        a->names[a->count] = f->name;
        a->values[a->count++] = value;
        return 1;
    }
}

/* The field a refusal names ("... table.field: rule"), or "". */
static void refused_field(char *out, size_t size, const char *reason)
{
    const char *p = reason, *dot, *colon;
    while ((colon = strstr(p, ": ")) && (!(dot = strchr(p, '.')) || dot > colon)) p = colon + 2;
    dot = colon ? strchr(p, '.') : NULL;
    snprintf(out, size, "%.*s", dot ? (int)(colon - dot - 1) : 0, dot ? dot + 1 : "");
}

int cli_ask_record(dala_store *store, const char *table)
{
    field_answers answers = {0};
    char refused[64] = "";
    int exit_code = CLI_FAILED;
    /* Every field once; after a refusal, the refused field again. */
    for (int attempt = 0; attempt < 20; attempt++) {
        dala_field_info f;
        int is_complete = 1;
        size_t asked = 0;
        for (size_t i = 0; is_complete && dala_schema_field(&f, table, i, cli_lang()) == DALA_OK; i++) {
            /* Claims and void reasons are not asked; json fields come from --form. */
            if (!strcmp(f.name, "void_reason") || !strcmp(f.type, "json") || !strcmp(f.name, "unit_id") ||
                !strcmp(f.name, "officer_id") || (refused[0] && strcmp(refused, f.name)) || answers.count == 256)
                continue;
            is_complete = ask_field(&answers, store, table, &f);
            asked++;
        }
        if (!is_complete) {
            fprintf(stderr, "dala: capture: standard input ended before the record was complete\n");
            break;
        }
        if (!asked && attempt) break; /* the refused field is not one to ask */
        char *json = answers_object(&answers), id[DALA_ID_TEXT_BYTES];
        int rc = json ? dala_record_put(id, store, table, NULL, json) : DALA_ENOMEM;
        free(json);
        if (!rc) {
            printf("%s\n", id);
            exit_code = CLI_OK;
            break;
        }
        if (rc != DALA_EINVAL) {
            exit_code = cli_fail(rc);
            break;
        }
        print_refusal();
        refused_field(refused, sizeof refused, dala_errmsg());
        if (!refused[0]) break;
        forget(&answers, refused);
    }
    for (size_t i = 0; i < answers.count; i++) free(answers.values[i]);
    return exit_code;
}

/* ---------------------------------------------------------------- surveys */

typedef struct question_ask {
    dala_survey *survey;
    const char *id;
} question_ask;

static dala_choice question_choice(void *context, size_t index, int *found)
{
    question_ask *ask = context;
    dala_choice choice = {"", ""};
    *found = dala_survey_option(&choice, ask->survey, ask->id, index) == DALA_OK;
    return choice;
}

static void print_question(dala_survey *survey, const dala_question *q)
{
    const char *hint = strcmp(q->type, "single") && strcmp(q->type, "text") ? hint_of(q->type) : NULL;
    printf("\n%s. %s%s%s%s%s\n", q->id, q->label, q->is_required ? " *" : "", hint ? " (" : "", hint ? hint : "",
           hint ? ")" : "");
    for (size_t i = 0; i < q->option_count; i++) {
        dala_choice choice;
        if (dala_survey_option(&choice, survey, q->id, i) == DALA_OK) printf("  %zu) %s\n", i + 1, choice.label);
    }
    printf("> ");
    fflush(stdout);
}

/* The JSON of one typed answer; NULL when it cannot be one. */
static char *answer_json(dala_survey *survey, const dala_question *q, const char *line)
{
    char *json = NULL;
    size_t len = 0, alloc = 0;
    if (q->option_count) {
        question_ask ask = {survey, q->id};
        return choices_json(line, strcmp(q->type, "multi") == 0, question_choice, &ask);
    }
    if (strcmp(q->type, "number") == 0) {
        char *end;
        (void)strtod(line, &end);
        return *end == '\0' && end != line ? strdup(line) : NULL;
    }
    return cli_json_string(&json, &len, &alloc, line) ? NULL : json;
}

int cli_ask_survey(dala_store *store, const char *form, const char *fields_json)
{
    dala_survey *survey;
    int rc = dala_survey_open(&survey, store, form, cli_lang());
    if (rc) return cli_fail(rc);
    if (dala_survey_is_anonymous(survey))
        printf("%s\n", cli_is_russian() ? "Анкета анонимная: не называйте имён и ИИН."
                                        : "Сауалнама жасырын: аты-жөнді және ЖСН-ді айтпаңыз.");
    dala_question q;
    char line[LINE_BYTES];
    while ((rc = dala_survey_next(&q, survey)) == DALA_OK) {
        print_question(survey, &q);
        if (!read_answer(line, sizeof line)) {
            dala_survey_close(survey);
            fprintf(stderr, "dala: capture: standard input ended before the questionnaire was complete\n");
            return CLI_FAILED;
        }
        char *answer = line[0] ? answer_json(survey, &q, line) : NULL;
        if (line[0] && !answer) {
            printf("  ! %s\n", cli_is_russian() ? "не тот ответ: повторите" : "жауап сәйкес емес: қайталаңыз");
            continue;
        }
        if (dala_survey_answer(survey, q.id, answer) == DALA_EINVAL) print_refusal();
        free(answer);
    }
    char id[DALA_ID_TEXT_BYTES];
    rc = rc == DALA_ENOTFOUND ? dala_survey_save(id, survey, fields_json) : rc;
    dala_survey_close(survey);
    if (rc == DALA_EINVAL) {
        print_refusal();
        return CLI_FAILED;
    }
    if (rc) return cli_fail(rc);
    printf("%s\n", id);
    return CLI_OK;
}
