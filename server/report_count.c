/* report_count.c - the figures of a quarterly report note, counted from
 * the records of a unit's subtree: the rules of docs/reports.md ("Which
 * records a figure counts"), one function per record type. Each record is
 * read once per period from the (tbl, occurred_on) index; the persons an
 * offence names are read by id. The same code follows a figure back to
 * its records (report_trace), so what is listed is what was counted. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORM_CACHE 8

typedef struct cached_form {
    uint8_t id[DALA_UUID_BYTES];
    char code[65];
    dala_form *form; /* NULL if its definition could not be read */
} cached_form;

typedef struct counter {
    report_figures *out;
    sqlite3 *db;
    sqlite3_stmt *by_id; /* a record's table and blob by id */
    const report_trace *trace;
    const uint8_t *id;   /* the record being counted */
    char first[2][11], last[2][11];
    char breach_since[2][11]; /* a year before each period: the oldest measure whose breach counts in it */
    cached_form forms[FORM_CACHE];
    size_t form_count;
} counter;

/* --- reading fields -------------------------------------------------------- */

/* A text field copied into `out` ("" when absent or not text). */
static const char *text_of(char *out, size_t size, const dala_record *record, const char *name)
{
    const dala_record_field *field = dala_record_find(record, name);
    out[0] = '\0';
    if (field && field->value.type == DALA_VALUE_TEXT) {
        size_t n = field->value.len < size - 1 ? field->value.len : size - 1;
        memcpy(out, field->value.bytes, n);
        out[n] = '\0';
    }
    return out;
}

static int is_yes(const dala_record *record, const char *name)
{
    const dala_record_field *field = dala_record_find(record, name);
    return field && field->value.type == DALA_VALUE_INT && field->value.integer;
}

/* Which period `date` falls in; -1 for neither. */
static int period_of(const counter *c, const char *date)
{
    for (int p = REPORT_NOW; p <= REPORT_LAST; p++)
        if (strcmp(date, c->first[p]) >= 0 && strcmp(date, c->last[p]) <= 0) return p;
    return -1;
}

/* Copies `text` without the spaces around it. */
static void trim(char *text)
{
    char *start = text;
    while (*start == ' ' || *start == '\t') start++;
    size_t n = strlen(start);
    while (n && (start[n - 1] == ' ' || start[n - 1] == '\t')) n--;
    memmove(text, start, n);
    text[n] = '\0';
}

/* --- counting ---------------------------------------------------------------- */

static int tally(counter *c, int block, const char *group, const char *value, int period)
{
    const report_trace *t = c->trace;
    if (t && t->period == period && strcmp(t->group, group) == 0 && strcmp(t->value, value) == 0) {
        int rc = t->fn(t->context, c->id);
        if (rc) return rc;
    }
    return report_figures_add(c->out, block, group, value, period, 1);
}

/* Tallies each value of a set field (comma-separated) once. */
static int tally_set(counter *c, int block, const char *group, const dala_record *record, const char *field, int period)
{
    char text[512];
    text_of(text, sizeof text, record, field);
    int rc = DALA_OK;
    for (char *save = NULL, *value = strtok_r(text, ",", &save); !rc && value; value = strtok_r(NULL, ",", &save))
        rc = tally(c, block, group, value, period);
    return rc;
}

/* Tallies an enumeration field's value, if set. */
static int tally_enum(counter *c, int block, const char *group, const dala_record *record, const char *field, int period)
{
    char value[64];
    return text_of(value, sizeof value, record, field)[0] ? tally(c, block, group, value, period) : DALA_OK;
}

/* Record `id_text` (a reference) of `table`, decoded into `out`; 0 if it
 * is not there. */
static int load_ref(counter *c, dala_record *out, const char *table, const dala_record *from, const char *field)
{
    char id_text[DALA_UUID_TEXT_LEN + 1];
    uint8_t id[DALA_UUID_BYTES];
    if (dala_uuid_parse(id, text_of(id_text, sizeof id_text, from, field))) return 0;
    sqlite3_reset(c->by_id);
    sqlite3_bind_blob(c->by_id, 1, id, DALA_UUID_BYTES, SQLITE_TRANSIENT);
    int found = 0;
    if (sqlite3_step(c->by_id) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(c->by_id, 0), table) == 0)
        found = dala_record_decode(out, sqlite3_column_blob(c->by_id, 1), (size_t)sqlite3_column_bytes(c->by_id, 1)) ==
                DALA_OK;
    sqlite3_reset(c->by_id);
    return found;
}

/* The age band of a person born on `birth` on day `on`. */
static const char *age_band(const char *birth, const char *on)
{
    int by, bm, bd, y, m, d;
    if (sscanf(birth, "%4d-%2d-%2d", &by, &bm, &bd) != 3 || sscanf(on, "%4d-%2d-%2d", &y, &m, &d) != 3) return "unknown";
    int age = y - by - (m * 100 + d < bm * 100 + bd);
    if (age < 0) return "unknown";
    if (age < 18) return "under_18";
    if (age < 30) return "18_29";
    if (age < 40) return "30_39";
    if (age < 50) return "40_49";
    if (age < 60) return "50_59";
    return "60_plus";
}

static int count_crime(counter *c, const dala_record *offence, int p)
{
    dala_record person = DALA_RECORD_INIT;
    char sex[16] = "", sphere[32], article[64], committed[16], birth[16] = "";
    int has_victim = load_ref(c, &person, "person", offence, "victim_id");
    if (has_victim) text_of(sex, sizeof sex, &person, "sex");
    int rc = DALA_OK;
    if (strcmp(sex, "male") == 0) goto done; /* the Rules count crimes against women */
    rc = tally(c, 1, "crimes", "", p);
    if (!rc && strcmp(text_of(sphere, sizeof sphere, offence, "sphere"), "family_domestic") == 0)
        rc = tally(c, 1, "crimes.family_domestic", "", p);
    text_of(article, sizeof article, offence, "article");
    trim(article);
    if (!rc && article[0]) rc = tally(c, 1, "crimes.article", article, p);
    if (!rc && has_victim) rc = tally_set(c, 1, "crimes.victim_category", &person, "victim_categories", p);
    dala_record_clear(&person);
    if (!rc && load_ref(c, &person, "person", offence, "offender_id")) text_of(birth, sizeof birth, &person, "birth_date");
    text_of(committed, sizeof committed, offence, "committed_on");
    if (!rc) rc = tally(c, 1, "crimes.offender_age", birth[0] ? age_band(birth, committed) : "unknown", p);
    if (!rc) rc = tally_enum(c, 1, "crimes.relationship", offence, "relationship", p);
    if (!rc) rc = tally_enum(c, 1, "crimes.offender_employment", offence, "offender_employment", p);
    if (!rc && is_yes(offence, "offender_alcohol")) rc = tally(c, 1, "crimes.offender_alcohol", "", p);
    if (!rc && is_yes(offence, "offender_prior_record")) rc = tally(c, 1, "crimes.offender_prior_record", "", p);
    if (!rc) rc = tally_set(c, 1, "crimes.cause", offence, "causes", p);
    if (!rc) rc = tally_enum(c, 1, "crimes.outcome", offence, "outcome", p);
done:
    dala_record_clear(&person);
    return rc;
}

static int count_offence(counter *c, const dala_record *offence, int p)
{
    char kind[32], sphere[32], article[64];
    text_of(kind, sizeof kind, offence, "kind");
    if (strcmp(kind, "criminal") == 0) return count_crime(c, offence, p);
    if (strcmp(kind, "administrative") != 0 ||
        strcmp(text_of(sphere, sizeof sphere, offence, "sphere"), "family_domestic") != 0)
        return DALA_OK;
    int rc = tally(c, 2, "admin_offences", "", p);
    text_of(article, sizeof article, offence, "article");
    trim(article);
    if (!rc && article[0]) rc = tally(c, 2, "admin_offences.article", article, p);
    if (!rc) rc = tally_enum(c, 2, "admin_offences.outcome", offence, "outcome", p);
    return rc;
}

/* A measure counts by the day it was issued, its breach by the day of the
 * breach; the scan reaches a year before each period for the latter. */
static int count_measure(counter *c, const dala_record *measure, int unused)
{
    (void)unused;
    char issued[16], breached[16], kind[48], referral[48];
    text_of(kind, sizeof kind, measure, "kind");
    int rc = DALA_OK, p = period_of(c, text_of(issued, sizeof issued, measure, "issued_on"));
    if (p >= 0 && kind[0]) rc = tally(c, 2, "measures", kind, p);
    if (!rc && p >= 0 && strcmp(text_of(referral, sizeof referral, measure, "referral_to"), "crisis_centre") == 0)
        rc = tally(c, 6, "crisis.referrals", "protective_measure", p);
    int b = is_yes(measure, "breached") ? period_of(c, text_of(breached, sizeof breached, measure, "breached_on")) : -1;
    if (b >= 0 && strcmp(issued, c->breach_since[b]) < 0) b = -1;
    if (!rc && b >= 0 && kind[0]) rc = tally(c, 2, "measures.breached", kind, b);
    return rc;
}

static int count_suicide(counter *c, const dala_record *check, int p)
{
    int rc = tally_enum(c, 3, "suicides", check, "kind", p);
    if (!rc && is_yes(check, "signs_of_violence")) rc = tally(c, 3, "suicides.signs_of_violence", "", p);
    if (!rc && is_yes(check, "incitement_found")) rc = tally(c, 3, "suicides.incitement", "", p);
    if (!rc) rc = tally_enum(c, 3, "suicides.outcome", check, "outcome", p);
    return rc;
}

static int count_interaction(counter *c, const dala_record *interaction, int p)
{
    char kind[48];
    text_of(kind, sizeof kind, interaction, "kind");
    if (strcmp(kind, "state_body") == 0 || strcmp(kind, "ngo") == 0 || strcmp(kind, "public_association") == 0)
        return tally(c, 4, "interactions", kind, p);
    if (strcmp(kind, "crisis_centre") == 0) return tally(c, 6, "crisis.interactions", "", p);
    if (strcmp(kind, "police_unit") == 0) return tally(c, 9, "police.interactions", "", p);
    return kind[0] ? tally(c, 5, "prevention", kind, p) : DALA_OK;
}

static int count_aid(counter *c, const dala_record *aid, int p)
{
    char referral[48];
    int rc = tally(c, 7, "aid", "", p);
    if (!rc) rc = tally_enum(c, 7, "aid.kind", aid, "aid_kind", p);
    if (!rc) rc = tally_enum(c, 7, "aid.channel", aid, "channel", p);
    if (!rc) rc = tally_enum(c, 7, "aid.topic", aid, "topic", p);
    if (!rc && is_yes(aid, "is_anonymous")) rc = tally(c, 7, "aid.anonymous", "", p);
    text_of(referral, sizeof referral, aid, "referral");
    if (!rc && referral[0] && strcmp(referral, "none") != 0) rc = tally(c, 7, "aid.referral", referral, p);
    if (!rc && strcmp(referral, "crisis_centre") == 0) rc = tally(c, 6, "crisis.referrals", "legal_aid", p);
    return rc;
}

static int count_visit(counter *c, const dala_record *visit, int p)
{
    char risk[16], referral[48];
    int rc = tally(c, 5, "prevention.visits", "", p);
    if (!rc) rc = tally_enum(c, 5, "prevention.visit_purpose", visit, "purpose", p);
    if (!rc && strcmp(text_of(risk, sizeof risk, visit, "risk_level"), "high") == 0)
        rc = tally(c, 5, "prevention.high_risk", "", p);
    if (!rc && strcmp(text_of(referral, sizeof referral, visit, "referral"), "crisis_centre") == 0)
        rc = tally(c, 6, "crisis.referrals", "field_visit", p);
    return rc;
}

/* The questionnaire a response answers, parsed once per count. */
static const cached_form *form_of(counter *c, const dala_record *response)
{
    char id_text[DALA_UUID_TEXT_LEN + 1];
    uint8_t id[DALA_UUID_BYTES];
    if (dala_uuid_parse(id, text_of(id_text, sizeof id_text, response, "form_id"))) return NULL;
    for (size_t i = 0; i < c->form_count; i++)
        if (memcmp(c->forms[i].id, id, DALA_UUID_BYTES) == 0) return &c->forms[i];
    dala_record form = DALA_RECORD_INIT;
    if (!load_ref(c, &form, "survey_form", response, "form_id")) return NULL;
    cached_form *slot = &c->forms[c->form_count < FORM_CACHE ? c->form_count++ : FORM_CACHE - 1];
    dala_form_free(slot->form);
    memset(slot, 0, sizeof *slot);
    memcpy(slot->id, id, DALA_UUID_BYTES);
    text_of(slot->code, sizeof slot->code, &form, "code");
    const dala_record_field *definition = dala_record_find(&form, "definition");
    char why[200];
    if (definition && definition->value.type == DALA_VALUE_TEXT &&
        dala_form_parse(&slot->form, (const char *)definition->value.bytes, definition->value.len, why, sizeof why))
        slot->form = NULL;
    dala_record_clear(&form);
    return slot;
}

/* Each chosen option of the single- and multiple-choice questions. */
static int count_answers(counter *c, const cached_form *form, const dala_record *response, int p)
{
    const dala_record_field *answers = dala_record_find(response, "answers");
    dala_json *json = NULL;
    if (!form->form || !answers || answers->value.type != DALA_VALUE_TEXT ||
        dala_json_parse(&json, (const char *)answers->value.bytes, answers->value.len, 10000))
        return DALA_OK;
    int rc = DALA_OK;
    char group[160];
    for (size_t i = 0; !rc && i < dala_form_question_count(form->form); i++) {
        const dala_json *q = dala_form_question(form->form, i);
        const char *qid = dala_json_get_string(q, "id"), *type = dala_json_get_string(q, "type");
        const dala_json *a = qid ? dala_json_get(json, qid) : NULL;
        if (!a || !type) continue;
        snprintf(group, sizeof group, "surveys.answer.%s.%s", form->code, qid);
        if (strcmp(type, "single") == 0 && a->type == DALA_JSON_STRING) rc = tally(c, 8, group, a->string, p);
        else if (strcmp(type, "multi") == 0 && a->type == DALA_JSON_ARRAY)
            for (size_t k = 0; !rc && k < a->count; k++)
                if (a->items[k].type == DALA_JSON_STRING) rc = tally(c, 8, group, a->items[k].string, p);
    }
    dala_json_free(json);
    return rc;
}

static int count_survey(counter *c, const dala_record *response, int p)
{
    int rc = tally(c, 8, "surveys", "", p);
    const cached_form *form = form_of(c, response);
    if (!rc && form && form->code[0]) rc = tally(c, 8, "surveys.form", form->code, p);
    if (!rc) rc = tally_enum(c, 8, "surveys.settlement", response, "settlement_type", p);
    if (!rc && form) rc = count_answers(c, form, response, p);
    return rc;
}

/* --- the scan ------------------------------------------------------------ */

typedef int (*count_fn)(counter *c, const dala_record *record, int period);

/* Counts the records of `table` in the subtree whose date is between
 * `first` and `last` as period `p`. */
static int scan(counter *c, int64_t unit_id, const char *table, const char *first, const char *last, int p, count_fn fn)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(c->db,
                           "WITH RECURSIVE scope(id) AS (SELECT ?1 UNION ALL "
                           "SELECT o.id FROM org_unit o JOIN scope ON o.parent_id = scope.id) "
                           "SELECT id, data FROM record WHERE tbl = ?2 AND occurred_on BETWEEN ?3 AND ?4 "
                           "AND unit_id IN (SELECT id FROM scope)",
                           -1, &stmt, NULL))
        return server_db_error(c->db, "count a report note");
    sqlite3_bind_int64(stmt, 1, unit_id);
    sqlite3_bind_text(stmt, 2, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, first, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 4, last, -1, SQLITE_STATIC);
    dala_record record = DALA_RECORD_INIT;
    int rc = DALA_OK, step;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        dala_record_clear(&record);
        c->id = sqlite3_column_blob(stmt, 0);
        if (dala_record_decode(&record, sqlite3_column_blob(stmt, 1), (size_t)sqlite3_column_bytes(stmt, 1)))
            continue; /* the server wrote it; a blob it cannot read is not counted, never fatal */
        rc = fn(c, &record, p);
    }
    if (!rc && step != SQLITE_DONE) rc = server_db_error(c->db, "count a report note");
    dala_record_clear(&record);
    sqlite3_finalize(stmt);
    return rc;
}

/* The figures listed even when nothing counts: totals, and the values the
 * Rules name (the preventive measures, suicides, the partners). */
int report_figures_seed(report_figures *out)
{
    static const struct {
        int block;
        const char *group, *value;
    } always[] = {
        {1, "crimes", ""}, {1, "crimes.family_domestic", ""}, {1, "crimes.offender_alcohol", ""},
        {1, "crimes.offender_prior_record", ""}, {2, "admin_offences", ""}, {2, "measures", "protective_order"},
        {2, "measures", "special_requirements"}, {2, "measures", "preventive_registration"},
        {2, "measures", "administrative_detention"}, {2, "measures.breached", "protective_order"},
        {3, "suicides", "completed"}, {3, "suicides", "attempt"}, {3, "suicides.signs_of_violence", ""},
        {3, "suicides.incitement", ""}, {4, "interactions", "state_body"}, {4, "interactions", "ngo"},
        {4, "interactions", "public_association"}, {5, "prevention.visits", ""}, {5, "prevention.high_risk", ""},
        {5, "prevention", "cause_removal"}, {6, "crisis.interactions", ""}, {6, "crisis.referrals", "field_visit"},
        {6, "crisis.referrals", "protective_measure"}, {6, "crisis.referrals", "legal_aid"}, {7, "aid", ""},
        {7, "aid.kind", "legal"}, {7, "aid.kind", "psychological"}, {7, "aid.kind", "both"}, {7, "aid.anonymous", ""}, {8, "surveys", ""},
        {9, "police.interactions", ""},
    };
    int rc = DALA_OK;
    for (size_t i = 0; !rc && i < sizeof always / sizeof always[0]; i++)
        rc = report_figures_add(out, always[i].block, always[i].group, always[i].value, REPORT_NOW, 0);
    return rc;
}

int report_count_days(report_figures *out, sqlite3 *db, int64_t unit_id, const char first[2][11],
                      const char last[2][11], report_types which, const report_trace *trace)
{
    static const struct {
        const char *table;
        count_fn fn;
        int is_charted;
    } types[] = {
        {"offence", count_offence, 1},  {"suicide_check", count_suicide, 1}, {"interaction", count_interaction, 0},
        {"legal_aid", count_aid, 1},    {"field_visit", count_visit, 0},     {"survey_response", count_survey, 0},
    };
    counter c = {.out = out, .db = db, .trace = trace};
    memcpy(c.first, first, sizeof c.first);
    memcpy(c.last, last, sizeof c.last);
    int rc = report_figures_seed(out);
    if (!rc && sqlite3_prepare_v2(db, "SELECT tbl, data FROM record WHERE id = ?1", -1, &c.by_id, NULL))
        rc = server_db_error(db, "count a report note");
    for (size_t t = 0; !rc && t < sizeof types / sizeof types[0]; t++)
        for (int p = REPORT_NOW; !rc && p <= REPORT_LAST && (which == REPORT_ALL_TYPES || types[t].is_charted); p++)
            rc = scan(&c, unit_id, types[t].table, c.first[p], c.last[p], p, types[t].fn);
    /* Measures from a year before the earlier period to the end of the
     * later: those issued in a period, and those breached in it. */
    for (int p = REPORT_NOW; p <= REPORT_LAST; p++)
        snprintf(c.breach_since[p], sizeof c.breach_since[p], "%04u%s", (unsigned)(atoi(first[p]) - 1) % 10000u,
                 first[p] + 4);
    int early = strcmp(first[REPORT_LAST], first[REPORT_NOW]) < 0 ? REPORT_LAST : REPORT_NOW;
    if (!rc && which == REPORT_ALL_TYPES)
        rc = scan(&c, unit_id, "protective_measure", c.breach_since[early], c.last[!early], REPORT_NOW, count_measure);
    for (size_t i = 0; i < c.form_count; i++) dala_form_free(c.forms[i].form);
    sqlite3_finalize(c.by_id);
    if (!rc) report_figures_sort(out);
    return rc;
}

int report_count(report_figures *out, sqlite3 *db, int64_t unit_id, int year, int quarter, const report_trace *trace)
{
    if (quarter < 1 || quarter > 4 || year < 2015 || year > 2100)
        return dala_error_set(DALA_EINVAL, "report: no quarter %d of %d", quarter, year);
    char first[2][11], last[2][11];
    report_quarter_days(first[REPORT_NOW], last[REPORT_NOW], year, quarter);
    report_quarter_days(first[REPORT_LAST], last[REPORT_LAST], year - 1, quarter);
    return report_count_days(out, db, unit_id, first, last, REPORT_ALL_TYPES, trace);
}
