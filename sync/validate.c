/* validate.c - the check every change passes on the tablet before it is
 * queued and on the server before it is accepted, with the rules of the
 * domain definition (domain.c, docs/domain.md), so both ends refuse the
 * same things for the same reasons. A refusal names the field, the rule
 * and its argument, never the value: reasons travel and get logged, and
 * values are victims' data. */
#include "sync_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct check_run {
    const dala_domain *domain;
    const dala_table_def *table;
    const dala_change *change;
    const dala_check_env *env;
    uint32_t version; /* the writer's schema version */
    dala_invalid *out;
} check_run;

static int refuse(check_run *r, const char *field, const char *code, const char *arg)
{
    snprintf(r->out->table, sizeof r->out->table, "%s", r->change->table);
    snprintf(r->out->field, sizeof r->out->field, "%s", field ? field : "");
    snprintf(r->out->code, sizeof r->out->code, "%s", code);
    snprintf(r->out->arg, sizeof r->out->arg, "%s", arg ? arg : "");
    return dala_error_set(DALA_EINVAL, "validate %s.%s: %s%s%s", r->out->table, r->out->field, code,
                          arg ? " " : "", arg ? arg : "");
}

static const dala_field *change_field(const dala_change *change, const char *name)
{
    for (size_t i = 0; i < change->field_count; i++)
        if (strcmp(change->fields[i].name, name) == 0) return &change->fields[i];
    return NULL;
}

/* The value `name` will hold once the change applies: the change's, else
 * the stored record's. NULL when it will be empty. */
static const dala_value *value_of(const check_run *r, const char *name)
{
    const dala_field *field = change_field(r->change, name);
    const dala_value *value = field ? &field->value : NULL;
    if (!field && r->env->stored) {
        const dala_record_field *stored = dala_record_find(r->env->stored, name);
        value = stored ? &stored->value : NULL;
    }
    return value && value->type != DALA_VALUE_NULL ? value : NULL;
}

static int text_is(const dala_value *value, const char *text)
{
    return value->type == DALA_VALUE_TEXT && value->len == strlen(text) && memcmp(value->bytes, text, value->len) == 0;
}

static int condition_holds(const check_run *r, const dala_condition *cond)
{
    const dala_value *value = cond->field ? value_of(r, cond->field) : NULL;
    for (size_t i = 0; value && i < cond->count; i++) {
        char number[24];
        if (value->type == DALA_VALUE_INT) {
            snprintf(number, sizeof number, "%lld", (long long)value->integer);
            if (strcmp(number, cond->values[i]) == 0) return 1;
        } else if (text_is(value, cond->values[i])) return 1;
    }
    return 0;
}

static int is_digits(const uint8_t *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] < '0' || text[i] > '9') return 0;
    return len > 0;
}

/* "HH:MM", or "HH:MM:SS" as version-1 tablets may still write it. */
static int is_time(const dala_value *v)
{
    int has_seconds = v->len == 8 && v->bytes[5] == ':' && is_digits(v->bytes + 6, 2) && v->bytes[6] < '6';
    return (v->len == 5 || has_seconds) && v->bytes[2] == ':' && is_digits(v->bytes, 2) &&
           is_digits(v->bytes + 3, 2) && (v->bytes[0] - '0') * 10 + v->bytes[1] - '0' < 24 && v->bytes[3] < '6';
}

static int is_phone(const dala_value *v)
{
    size_t count = 0, i = v->len && v->bytes[0] == '+';
    for (int last_digit = 0; i < v->len; i++) {
        uint8_t c = v->bytes[i];
        if (c >= '0' && c <= '9') count++, last_digit = 1;
        else if ((c == ' ' || c == '-') && last_digit) last_digit = 0;
        else return 0;
    }
    return count >= 10 && count <= 15 && v->bytes[v->len - 1] >= '0' && v->bytes[v->len - 1] <= '9';
}

/* Checks a SET value: enumeration values joined by ',', each once. */
static const char *check_set(const dala_field_def *def, const dala_value *v)
{
    const uint8_t *p = v->bytes, *end = v->bytes + v->len;
    const dala_enum_value *seen[64];
    size_t seen_count = 0;
    while (p <= end) {
        const uint8_t *comma = memchr(p, ',', (size_t)(end - p));
        const uint8_t *stop = comma ? comma : end;
        const dala_enum_value *item = dala_enum_find(def->choices, (const char *)p, (size_t)(stop - p));
        if (!item) return "not_choice";
        for (size_t i = 0; i < seen_count; i++)
            if (seen[i] == item) return "set_repeat";
        if (seen_count == sizeof seen / sizeof seen[0]) return "not_choice";
        seen[seen_count++] = item;
        p = stop + 1;
    }
    return NULL;
}

static int wrong_type(check_run *r, const dala_field_def *def)
{
    return refuse(r, def->name, "type", dala_field_type_name(def->type));
}

static int check_ref(check_run *r, const dala_field_def *def, const dala_value *v)
{
    uint8_t id[DALA_UUID_BYTES];
    char text[DALA_UUID_TEXT_LEN + 1];
    if (v->len != DALA_UUID_TEXT_LEN) return refuse(r, def->name, "no_record", NULL);
    memcpy(text, v->bytes, v->len);
    text[v->len] = 0;
    if (dala_uuid_parse(id, text)) return refuse(r, def->name, "no_record", NULL);
    dala_uuid_format(text, id);
    /* Stores keep ids in lowercase: a reference is stored as it is found. */
    if (memcmp(text, v->bytes, DALA_UUID_TEXT_LEN) != 0) return wrong_type(r, def);
    if (!r->env->record_exists) return DALA_OK;
    int exists = r->env->record_exists(r->env->context, def->ref, text);
    if (exists < 0) return exists;
    return exists ? DALA_OK : refuse(r, def->name, "no_record", NULL);
}

static int check_survey_answers(check_run *r, const dala_field_def *def, const dala_value *answers)
{
    const dala_value *form_id = value_of(r, "form_id");
    if (!form_id) return refuse(r, "form_id", "required", NULL);
    if (!r->env->form_definition) return refuse(r, "form_id", "form_missing", NULL);
    char id[DALA_UUID_TEXT_LEN + 1], *form = NULL;
    snprintf(id, sizeof id, "%.*s", (int)(form_id->len < DALA_UUID_TEXT_LEN ? form_id->len : DALA_UUID_TEXT_LEN),
             (const char *)form_id->bytes);
    int rc = r->env->form_definition(r->env->context, id, &form);
    if (rc == DALA_ENOTFOUND) return refuse(r, "form_id", "form_missing", NULL);
    if (rc) return rc;
    dala_survey_verdict verdict;
    rc = dala_survey_check(&verdict, form, strlen(form), (const char *)answers->bytes, answers->len, r->env->today);
    free(form);
    if (rc == DALA_EINVAL) return refuse(r, def->name, verdict.code, verdict.arg[0] ? verdict.arg : NULL);
    if (!rc && verdict.is_anonymous && value_of(r, "person_id"))
        return refuse(r, "person_id", "anonymous_identifier", NULL);
    return rc;
}

static int check_json(check_run *r, const dala_field_def *def, const dala_value *v)
{
    if (strcmp(def->check, "form_definition") == 0) {
        char why[64];
        int rc = dala_form_check((const char *)v->bytes, v->len, why, sizeof why);
        return rc == DALA_EINVAL ? refuse(r, def->name, "form_bad", why) : rc;
    }
    return check_survey_answers(r, def, v);
}

static int check_bounds(check_run *r, const dala_field_def *def, double number)
{
    char bound[32];
    if (def->has_min && number < def->min) {
        snprintf(bound, sizeof bound, "%.15g", def->min); /* 1000000, not 1e+06 */
        return refuse(r, def->name, "range_min", bound);
    }
    if (def->has_max && number > def->max) {
        snprintf(bound, sizeof bound, "%.15g", def->max);
        return refuse(r, def->name, "range_max", bound);
    }
    return DALA_OK;
}

/* Checks one value against its field's type and rules. */
static int check_value(check_run *r, const dala_field_def *def, const dala_value *v)
{
    int is_text = v->type == DALA_VALUE_TEXT;
    if (def->type == DALA_FIELD_INT || def->type == DALA_FIELD_BOOL) {
        if (v->type != DALA_VALUE_INT) return wrong_type(r, def);
        if (def->type == DALA_FIELD_BOOL && v->integer != 0 && v->integer != 1) return wrong_type(r, def);
        return check_bounds(r, def, (double)v->integer);
    }
    if (def->type == DALA_FIELD_REAL) {
        if (v->type != DALA_VALUE_REAL && v->type != DALA_VALUE_INT) return wrong_type(r, def);
        double number = v->type == DALA_VALUE_REAL ? v->real : (double)v->integer;
        if (!isfinite(number)) return wrong_type(r, def);
        return check_bounds(r, def, number);
    }
    if (!is_text || !dala_utf8_is_valid(v->bytes, v->len)) return wrong_type(r, def);
    if (v->len > def->max_len) {
        char bound[24];
        snprintf(bound, sizeof bound, "%zu", def->max_len);
        return refuse(r, def->name, "too_long", bound);
    }
    const char *code = NULL;
    if (def->catalogue && r->version >= def->catalogue_since && !dala_article_find((const char *)v->bytes, v->len))
        return refuse(r, def->name, "not_catalogued", NULL);
    switch (def->type) {
    case DALA_FIELD_DATE:
        if (!dala_date_is_valid((const char *)v->bytes, v->len)) code = "not_date";
        else if (def->is_not_future && r->env->today && memcmp(v->bytes, r->env->today, 10) > 0) code = "future";
        break;
    case DALA_FIELD_TIME: code = is_time(v) ? NULL : "not_time"; break;
    case DALA_FIELD_ENUM: code = dala_enum_find(def->choices, (const char *)v->bytes, v->len) ? NULL : "not_choice"; break;
    case DALA_FIELD_SET: code = check_set(def, v); break;
    case DALA_FIELD_IIN: code = dala_iin_check(NULL, (const char *)v->bytes, v->len); break;
    case DALA_FIELD_PHONE: code = is_phone(v) ? NULL : "phone"; break;
    case DALA_FIELD_REF: return check_ref(r, def, v);
    case DALA_FIELD_JSON: return check_json(r, def, v);
    default: break;
    }
    return code ? refuse(r, def->name, code, NULL) : DALA_OK;
}

static int touches(const check_run *r, const char *a, const char *b)
{
    return (a && change_field(r->change, a)) || (b && change_field(r->change, b));
}

/* An IIN agrees with the birth date and the sex beside it. */
static int check_iin_agrees(check_run *r, const dala_field_def *def)
{
    const dala_value *iin = value_of(r, def->name);
    dala_iin parsed;
    if (!iin || dala_iin_check(&parsed, (const char *)iin->bytes, iin->len)) return DALA_OK;
    const dala_value *birth = def->birth_field ? value_of(r, def->birth_field) : NULL;
    if (birth && birth->type == DALA_VALUE_TEXT && birth->len == 10) {
        char expected[11];
        snprintf(expected, sizeof expected, "%04d-%02d-%02d", parsed.year, parsed.month, parsed.day);
        if (memcmp(birth->bytes, expected, 10) != 0) return refuse(r, def->name, "iin_birth", NULL);
    }
    const dala_value *sex = def->sex_field ? value_of(r, def->sex_field) : NULL;
    if (sex && !text_is(sex, parsed.sex == 'f' ? "female" : "male")) return refuse(r, def->name, "iin_sex", NULL);
    return DALA_OK;
}

/* A catalogued article was in force on the record's date and goes with
 * its kind (a crime or criminal misdemeanour with `criminal`). */
static int check_article_agrees(check_run *r, const dala_field_def *def)
{
    const dala_value *id = value_of(r, def->name);
    const dala_article *article = id && id->type == DALA_VALUE_TEXT ? dala_article_find((const char *)id->bytes, id->len) : NULL;
    if (!article) return DALA_OK; /* refused as a value already, or free text of an older tablet */
    const dala_value *day = def->catalogue_date ? value_of(r, def->catalogue_date) : NULL;
    if (day && day->type == DALA_VALUE_TEXT && day->len == 10) {
        char text[11];
        memcpy(text, day->bytes, 10);
        text[10] = '\0';
        if (!dala_article_in_force(article, text)) return refuse(r, def->name, "not_in_force", def->catalogue_date);
    }
    const dala_value *kind = def->catalogue_kind ? value_of(r, def->catalogue_kind) : NULL;
    if (kind && !text_is(kind, dala_article_offence_kind(article))) return refuse(r, def->name, "article_kind", def->catalogue_kind);
    return DALA_OK;
}

/* Stored answers stay checked against the form they name, and anonymous,
 * when a change sets the form or the person alone. */
static int recheck_stored_answers(check_run *r, const dala_field_def *def)
{
    if (!def->check || strcmp(def->check, "survey_answers") || change_field(r->change, def->name) ||
        !touches(r, "form_id", "person_id"))
        return DALA_OK;
    const dala_value *answers = value_of(r, def->name);
    return answers ? check_survey_answers(r, def, answers) : DALA_OK;
}

/* The rules between fields, checked when the change touches one of the
 * fields involved (an old record is not refused for a rule it predates). */
static int check_cross_field(check_run *r)
{
    for (size_t i = 0; i < r->table->field_count; i++) {
        const dala_field_def *def = &r->table->fields[i];
        if (def->since > r->version) continue;
        int rc = recheck_stored_answers(r, def);
        if (rc) return rc;
        const dala_value *value = value_of(r, def->name);
        if (def->not_before && value && touches(r, def->name, def->not_before)) {
            const dala_value *other = value_of(r, def->not_before);
            if (other && other->type == DALA_VALUE_TEXT && other->len == 10 && value->len == 10 &&
                memcmp(value->bytes, other->bytes, 10) < 0)
                return refuse(r, def->name, "before", def->not_before);
        }
        if (def->required_when.field && !value && touches(r, def->name, def->required_when.field) &&
            condition_holds(r, &def->required_when))
            return refuse(r, def->name, "required_when", def->required_when.field);
        if (def->forbidden_when.field && value && touches(r, def->name, def->forbidden_when.field) &&
            condition_holds(r, &def->forbidden_when))
            return refuse(r, def->name, "forbidden_when", def->forbidden_when.field);
        if (def->catalogue && r->version >= def->catalogue_since &&
            (touches(r, def->name, def->catalogue_date) || touches(r, def->catalogue_kind, NULL))) {
            rc = check_article_agrees(r, def);
            if (rc) return rc;
        }
        if (def->type == DALA_FIELD_IIN && (touches(r, def->name, def->birth_field) || touches(r, def->sex_field, NULL))) {
            rc = check_iin_agrees(r, def);
            if (rc) return rc;
        }
    }
    return DALA_OK;
}

static int is_required(const check_run *r, const dala_field_def *def)
{
    return def->is_required && (def->required_since == 0 || r->version >= def->required_since);
}

int dala_change_check(dala_invalid *out, const dala_change *change, const dala_check_env *env)
{
    memset(out, 0, sizeof *out);
    check_run run = {dala_domain_get(), NULL, change, env, env->schema_version, out};
    if (!run.domain) return DALA_ESCHEMA;
    if (!run.version) run.version = run.domain->schema_version;
    char since[16];
    run.table = dala_domain_table(run.domain, change->table);
    if (!run.table) return refuse(&run, NULL, "unknown_table", NULL);
    if (run.table->since > run.version) {
        snprintf(since, sizeof since, "%u", run.table->since);
        return refuse(&run, NULL, "too_new", since);
    }
    if (run.table->is_server_written && !env->is_server) return refuse(&run, NULL, "not_writable", NULL);
    for (size_t i = 0; i < change->field_count; i++) {
        const dala_field *field = &change->fields[i];
        const dala_field_def *def = dala_domain_field(run.table, field->name);
        if (!def) return refuse(&run, field->name, "unknown_field", NULL);
        if (change_field(change, field->name) != field) return refuse(&run, field->name, "repeated", NULL);
        if (def->since > run.version) {
            snprintf(since, sizeof since, "%u", def->since);
            return refuse(&run, field->name, "too_new", since);
        }
        if (field->value.type == DALA_VALUE_NULL) {
            if (is_required(&run, def) && env->stored) return refuse(&run, field->name, "cleared", NULL);
            continue;
        }
        int rc = check_value(&run, def, &field->value);
        if (rc) return rc;
    }
    for (size_t i = 0; !env->stored && i < run.table->field_count; i++)
        if (is_required(&run, &run.table->fields[i]) && !value_of(&run, run.table->fields[i].name))
            return refuse(&run, run.table->fields[i].name, "required", NULL);
    return check_cross_field(&run);
}
