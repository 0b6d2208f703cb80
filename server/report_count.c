/* report_count.c - the figures of a quarterly report note, counted from
 * the records of a unit's subtree: the rules of docs/reports.md ("Which
 * records a figure counts"), one function per record type. Each record is
 * read once per period from the (tbl, occurred_on) index; the persons an
 * offence names are read by id. A voided record never counts; a record
 * that counts and is not yet approved also counts in its block's
 * `not_approved.N`, so the head sees what she signs. The same code follows
 * a figure back to its records (report_trace), so what is listed is what
 * was counted. */
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

/* A set of record ids, for the figures that count persons rather than
 * records (victims, offenders, persons on preventive registration). */
typedef struct id_set {
    uint8_t (*slots)[DALA_UUID_BYTES]; /* all-zero: free (no record id is all zero) */
    size_t count, size;
} id_set;

typedef struct counter {
    report_figures *out;
    sqlite3 *db;
    sqlite3_stmt *by_id; /* a record's table and blob by id */
    const report_trace *trace;
    int is_own_only;     /* the records of the unit itself, not of its subtree */
    const uint8_t *id;   /* the record being counted */
    unsigned blocks[2];  /* the blocks it has counted in, per period (bit N: block N) */
    id_set persons[2][4]; /* per period: PERSON_VICTIM, PERSON_OFFENDER, PERSON_REGISTERED, PERSON_ADMIN_OFFENDER */
    char first[2][11], last[2][11];
    char breach_since[2][11]; /* a year before each period: the oldest measure whose breach counts in it */
    cached_form forms[FORM_CACHE];
    size_t form_count;
} counter;

enum { PERSON_VICTIM, PERSON_OFFENDER, PERSON_REGISTERED, PERSON_ADMIN_OFFENDER };

/* Adds `id` to the set; 1 if it was not there, 0 if it was, or an error. */
static int id_set_add(id_set *set, const uint8_t id[DALA_UUID_BYTES])
{
    static const uint8_t zero[DALA_UUID_BYTES];
    if (memcmp(id, zero, DALA_UUID_BYTES) == 0) return 0;
    if ((set->count + 1) * 2 > set->size) {
        size_t size = set->size ? set->size * 2 : 64;
        id_set grown = {dala_calloc(size, DALA_UUID_BYTES), 0, size};
        if (!grown.slots) return dala_error_set(DALA_ENOMEM, "count a report note: persons");
        for (size_t i = 0; i < set->size; i++)
            if (memcmp(set->slots[i], zero, DALA_UUID_BYTES)) id_set_add(&grown, set->slots[i]);
        free(set->slots);
        *set = grown;
    }
    uint64_t hash;
    memcpy(&hash, id + DALA_UUID_BYTES - sizeof hash, sizeof hash); /* a UUIDv7's random tail */
    for (size_t i = (size_t)(hash % set->size);; i = (i + 1) % set->size) {
        if (memcmp(set->slots[i], id, DALA_UUID_BYTES) == 0) return 0;
        if (memcmp(set->slots[i], zero, DALA_UUID_BYTES) == 0) {
            memcpy(set->slots[i], id, DALA_UUID_BYTES);
            set->count++;
            return 1;
        }
    }
}

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
    c->blocks[period] |= 1u << block;
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

/* Tallies the person `field` names once per period, under `group`. */
static int tally_person(counter *c, int block, const char *group, int which, const dala_record *record,
                        const char *field, int period)
{
    char id_text[DALA_UUID_TEXT_LEN + 1];
    uint8_t id[DALA_UUID_BYTES];
    if (dala_uuid_parse(id, text_of(id_text, sizeof id_text, record, field))) return DALA_OK;
    int is_new = id_set_add(&c->persons[period][which], id);
    if (is_new < 0) return is_new;
    return is_new ? tally(c, block, group, "", period) : DALA_OK;
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

/* The age band of a person born on `birth` on day `on` (the offender's and
 * the victim's at the date of the offence). */
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

/* The catalogue entry an offence's article names, or NULL: free text of
 * a tablet of schema 2 or earlier, reported as "not_catalogued". */
static const dala_article *article_of(const dala_record *offence)
{
    char article[64];
    text_of(article, sizeof article, offence, "article");
    trim(article);
    return article[0] ? dala_article_find(article, strlen(article)) : NULL;
}

/* Family-domestic by its sphere, or by an article that is itself about
 * family-domestic relations. */
static int is_family_domestic(const dala_record *offence, const dala_article *article)
{
    char sphere[32];
    return strcmp(text_of(sphere, sizeof sphere, offence, "sphere"), "family_domestic") == 0 ||
           (article && article->is_family_domestic);
}

/* Children present or witnessing ("none" is not tallied). */
static int tally_children(counter *c, int block, const char *group, const dala_record *record, int p)
{
    char value[32];
    text_of(value, sizeof value, record, "children_involved");
    return value[0] && strcmp(value, "none") != 0 ? tally(c, block, group, value, p) : DALA_OK;
}

static int count_crime(counter *c, const dala_record *offence, int p)
{
    dala_record person = DALA_RECORD_INIT;
    char sex[16] = "", committed[16], birth[16] = "", victim_birth[16] = "";
    const dala_article *article = article_of(offence);
    int has_victim = load_ref(c, &person, "person", offence, "victim_id");
    if (has_victim) {
        text_of(sex, sizeof sex, &person, "sex");
        text_of(victim_birth, sizeof victim_birth, &person, "birth_date");
    }
    int rc = DALA_OK;
    if (strcmp(sex, "male") == 0) goto done; /* the Rules count crimes against women */
    text_of(committed, sizeof committed, offence, "committed_on");
    rc = tally(c, 1, "crimes", "", p);
    if (!rc && is_family_domestic(offence, article)) rc = tally(c, 1, "crimes.family_domestic", "", p);
    if (!rc) rc = tally(c, 1, "crimes.article", article ? article->id : "not_catalogued", p);
    if (!rc) rc = tally_person(c, 1, "crimes.victims", PERSON_VICTIM, offence, "victim_id", p);
    if (!rc) rc = tally_person(c, 1, "crimes.offenders", PERSON_OFFENDER, offence, "offender_id", p);
    if (!rc) rc = tally(c, 1, "crimes.victim_age", victim_birth[0] ? age_band(victim_birth, committed) : "unknown", p);
    if (!rc && has_victim) rc = tally_set(c, 1, "crimes.victim_category", &person, "victim_categories", p);
    dala_record_clear(&person);
    if (!rc && load_ref(c, &person, "person", offence, "offender_id")) text_of(birth, sizeof birth, &person, "birth_date");
    if (!rc) rc = tally(c, 1, "crimes.offender_age", birth[0] ? age_band(birth, committed) : "unknown", p);
    if (!rc) rc = tally_enum(c, 1, "crimes.relationship", offence, "relationship", p);
    if (!rc) rc = tally_enum(c, 1, "crimes.offender_employment", offence, "offender_employment", p);
    if (!rc && is_yes(offence, "offender_alcohol")) rc = tally(c, 1, "crimes.offender_alcohol", "", p);
    if (!rc && is_yes(offence, "offender_prior_record")) rc = tally(c, 1, "crimes.offender_prior_record", "", p);
    if (!rc) rc = tally_set(c, 1, "crimes.cause", offence, "causes", p);
    if (!rc) rc = tally_set(c, 1, "crimes.violence_type", offence, "violence_types", p);
    if (!rc) rc = tally_children(c, 1, "crimes.children", offence, p);
    if (!rc) rc = tally_enum(c, 1, "crimes.outcome", offence, "outcome", p);
done:
    dala_record_clear(&person);
    return rc;
}

static int count_offence(counter *c, const dala_record *offence, int p)
{
    char kind[32];
    text_of(kind, sizeof kind, offence, "kind");
    if (strcmp(kind, "criminal") == 0) return count_crime(c, offence, p);
    const dala_article *article = article_of(offence);
    if (strcmp(kind, "administrative") != 0 || !is_family_domestic(offence, article)) return DALA_OK;
    int rc = tally(c, 2, "admin_offences", "", p);
    if (!rc) rc = tally(c, 2, "admin_offences.article", article ? article->id : "not_catalogued", p);
    if (!rc) rc = tally_person(c, 2, "admin_offences.offenders", PERSON_ADMIN_OFFENDER, offence, "offender_id", p);
    if (!rc) rc = tally_set(c, 2, "admin_offences.violence_type", offence, "violence_types", p);
    if (!rc) rc = tally_enum(c, 2, "admin_offences.outcome", offence, "outcome", p);
    return rc;
}

/* The last day a measure runs to: its extension, else its term; "" when open. */
static const char *measure_end(char *out, size_t size, const dala_record *measure)
{
    if (!text_of(out, size, measure, "extended_until")[0]) text_of(out, size, measure, "valid_until");
    return out;
}

/* Whether the measure stands on `day`: issued by then, not ended or
 * removed before it, and (an order or requirements, which have a term)
 * not past its term. */
static int measure_stands(const dala_record *measure, const char *day, int has_term)
{
    char issued[16], ended[16], removed[16], until[16];
    text_of(issued, sizeof issued, measure, "issued_on");
    text_of(ended, sizeof ended, measure, "ended_on");
    text_of(removed, sizeof removed, measure, "removed_on");
    measure_end(until, sizeof until, measure);
    return issued[0] && strcmp(issued, day) <= 0 && (!ended[0] || strcmp(ended, day) > 0) &&
           (!removed[0] || strcmp(removed, day) > 0) && (!has_term || !until[0] || strcmp(until, day) >= 0);
}

/* A measure counts by the day it was issued, its breach by the day of the
 * breach (if issued up to a year before the period), each step of its
 * lifecycle by the day of the step, and the stock at each period's last
 * day: orders and requirements in force, persons on preventive
 * registration. The scan reads every measure issued up to the later
 * period's end. */
static int count_measure(counter *c, const dala_record *measure, int unused)
{
    (void)unused;
    char issued[16], breached[16], kind[48], referral[48], day[16], reason[32];
    text_of(kind, sizeof kind, measure, "kind");
    if (!kind[0]) return DALA_OK;
    int rc = DALA_OK, p = period_of(c, text_of(issued, sizeof issued, measure, "issued_on"));
    if (p >= 0) rc = tally(c, 2, "measures", kind, p);
    if (!rc && p >= 0 && strcmp(text_of(referral, sizeof referral, measure, "referral_to"), "crisis_centre") == 0)
        rc = tally(c, 6, "crisis.referrals", "protective_measure", p);
    int b = is_yes(measure, "breached") ? period_of(c, text_of(breached, sizeof breached, measure, "breached_on")) : -1;
    if (b >= 0 && strcmp(issued, c->breach_since[b]) < 0) b = -1;
    if (!rc && b >= 0) rc = tally(c, 2, "measures.breached", kind, b);
    if (!rc && b >= 0 && text_of(day, sizeof day, measure, "breach_offence_id")[0])
        rc = tally(c, 2, "measures.breach_offences", kind, b);
    int s = period_of(c, text_of(day, sizeof day, measure, "served_on"));
    if (!rc && s >= 0) rc = tally(c, 2, "measures.served", kind, s);
    /* An extension counts by the day the first term ran to. */
    int e = text_of(day, sizeof day, measure, "extended_until")[0] ? period_of(c, text_of(day, sizeof day, measure, "valid_until")) : -1;
    if (!rc && e >= 0) rc = tally(c, 2, "measures.extended", kind, e);
    char ended_on[16], runs_to[16];
    text_of(reason, sizeof reason, measure, "end_reason");
    int ended = period_of(c, text_of(ended_on, sizeof ended_on, measure, "ended_on"));
    if (!rc && ended >= 0 && strcmp(reason, "expired") != 0) rc = tally(c, 2, "measures.ended_early", kind, ended);
    /* Expired: ended as expired, or never ended and past its term. */
    int has_term = strcmp(kind, "protective_order") == 0 || strcmp(kind, "special_requirements") == 0;
    int expired = ended_on[0] ? (strcmp(reason, "expired") == 0 ? ended : -1)
                              : period_of(c, measure_end(runs_to, sizeof runs_to, measure));
    if (!rc && has_term && expired >= 0) rc = tally(c, 2, "measures.expired", kind, expired);
    for (int q = REPORT_NOW; !rc && q <= REPORT_LAST; q++) {
        if (!measure_stands(measure, c->last[q], has_term)) continue;
        if (has_term) rc = tally(c, 2, "measures.in_force", kind, q);
        else if (strcmp(kind, "preventive_registration") == 0)
            rc = tally_person(c, 2, "measures.registered", PERSON_REGISTERED, measure, "person_id", q);
    }
    return rc;
}

/* Block 3 counts women: a check of a man is not counted; one whose person
 * is not synced or has no sex is listed apart (suicides.sex_unknown). */
static int count_suicide(counter *c, const dala_record *check, int p)
{
    dala_record person = DALA_RECORD_INIT;
    char sex[16] = "";
    if (load_ref(c, &person, "person", check, "person_id")) text_of(sex, sizeof sex, &person, "sex");
    dala_record_clear(&person);
    if (strcmp(sex, "male") == 0) return DALA_OK;
    if (strcmp(sex, "female") != 0) return tally(c, 3, "suicides.sex_unknown", "", p);
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
    if (!rc) rc = tally_set(c, 5, "prevention.violence_type", visit, "violence_types", p);
    if (!rc) rc = tally_children(c, 5, "prevention.children", visit, p);
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

/* A voided record keeps its data for the audit and never counts. */
static int is_voided(const dala_record *record)
{
    const dala_record_field *reason = dala_record_find(record, "void_reason");
    return reason && reason->value.type == DALA_VALUE_TEXT && reason->value.len > 0;
}

/* The record just counted is not yet approved: once in each block it
 * counted in (`not_approved.N`). */
static int tally_not_approved(counter *c)
{
    static const char *const groups[] = {NULL, "not_approved.1", "not_approved.2", "not_approved.3",
                                         "not_approved.4", "not_approved.5", "not_approved.6", "not_approved.7",
                                         "not_approved.8", "not_approved.9"};
    int rc = DALA_OK;
    for (int p = REPORT_NOW; p <= REPORT_LAST; p++)
        for (int block = 1; !rc && block <= REPORT_BLOCKS; block++)
            if (c->blocks[p] & 1u << block) rc = tally(c, block, groups[block], "", p);
    return rc;
}

/* Counts the records of `table` in the subtree whose date is between
 * `first` and `last` as period `p`. */
static int scan(counter *c, int64_t unit_id, const char *table, const char *first, const char *last, int p, count_fn fn)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(c->db,
                           c->is_own_only
                               ? "SELECT id, data, review_state = 'approved' FROM record "
                                 "WHERE unit_id = ?1 AND tbl = ?2 AND occurred_on BETWEEN ?3 AND ?4"
                               : "WITH RECURSIVE scope(id) AS (SELECT ?1 UNION ALL "
                                 "SELECT o.id FROM org_unit o JOIN scope ON o.parent_id = scope.id) "
                                 "SELECT id, data, review_state = 'approved' FROM record "
                                 "WHERE tbl = ?2 AND occurred_on BETWEEN ?3 AND ?4 "
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
        if (is_voided(&record)) continue;
        c->blocks[REPORT_NOW] = c->blocks[REPORT_LAST] = 0;
        rc = fn(c, &record, p);
        if (!rc && !sqlite3_column_int(stmt, 2)) rc = tally_not_approved(c);
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
        {9, "police.interactions", ""}, {1, "crimes.victims", ""}, {1, "crimes.offenders", ""},
        {2, "measures.in_force", "protective_order"}, {2, "measures.in_force", "special_requirements"},
        {2, "measures.registered", ""},
    };
    int rc = DALA_OK;
    for (size_t i = 0; !rc && i < sizeof always / sizeof always[0]; i++)
        rc = report_figures_add(out, always[i].block, always[i].group, always[i].value, REPORT_NOW, 0);
    return rc;
}

static int count_days(report_figures *out, sqlite3 *db, int64_t unit_id, int is_own_only, const char first[2][11],
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
    counter c = {.out = out, .db = db, .trace = trace, .is_own_only = is_own_only};
    memcpy(c.first, first, sizeof c.first);
    memcpy(c.last, last, sizeof c.last);
    int rc = report_figures_seed(out);
    for (int block = 1; !rc && block <= REPORT_BLOCKS; block++) {
        char group[32];
        snprintf(group, sizeof group, "not_approved.%d", block);
        rc = report_figures_add(out, block, group, "", REPORT_NOW, 0);
    }
    if (!rc && sqlite3_prepare_v2(db, "SELECT tbl, data FROM record WHERE id = ?1", -1, &c.by_id, NULL))
        rc = server_db_error(db, "count a report note");
    for (size_t t = 0; !rc && t < sizeof types / sizeof types[0]; t++)
        for (int p = REPORT_NOW; !rc && p <= REPORT_LAST && (which == REPORT_ALL_TYPES || types[t].is_charted); p++)
            rc = scan(&c, unit_id, types[t].table, c.first[p], c.last[p], p, types[t].fn);
    /* Measures issued up to the end of the later period: those issued in
     * a period, the steps of their lifecycle in it (a breach counts when
     * the measure was issued up to a year before), and those standing at
     * its end (a registration may stand for years). */
    for (int p = REPORT_NOW; p <= REPORT_LAST; p++)
        snprintf(c.breach_since[p], sizeof c.breach_since[p], "%04u%s", (unsigned)(atoi(first[p]) - 1) % 10000u,
                 first[p] + 4);
    int early = strcmp(first[REPORT_LAST], first[REPORT_NOW]) < 0 ? REPORT_LAST : REPORT_NOW;
    if (!rc && which == REPORT_ALL_TYPES)
        rc = scan(&c, unit_id, "protective_measure", "", c.last[!early], REPORT_NOW, count_measure);
    for (size_t i = 0; i < c.form_count; i++) dala_form_free(c.forms[i].form);
    for (int p = REPORT_NOW; p <= REPORT_LAST; p++)
        for (size_t k = 0; k < sizeof c.persons[p] / sizeof c.persons[p][0]; k++) free(c.persons[p][k].slots);
    sqlite3_finalize(c.by_id);
    if (!rc) report_figures_sort(out);
    return rc;
}

int report_count_days(report_figures *out, sqlite3 *db, int64_t unit_id, const char first[2][11],
                      const char last[2][11], report_types which, const report_trace *trace)
{
    return count_days(out, db, unit_id, 0, first, last, which, trace);
}

static int count_quarter(report_figures *out, sqlite3 *db, int64_t unit_id, int is_own_only, int year, int quarter,
                         const report_trace *trace)
{
    if (quarter < 1 || quarter > 4 || year < 2015 || year > 2100)
        return dala_error_set(DALA_EINVAL, "report: no quarter %d of %d", quarter, year);
    char first[2][11], last[2][11];
    report_quarter_days(first[REPORT_NOW], last[REPORT_NOW], year, quarter);
    report_quarter_days(first[REPORT_LAST], last[REPORT_LAST], year - 1, quarter);
    return count_days(out, db, unit_id, is_own_only, first, last, REPORT_ALL_TYPES, trace);
}

int report_count(report_figures *out, sqlite3 *db, int64_t unit_id, int year, int quarter, const report_trace *trace)
{
    return count_quarter(out, db, unit_id, 0, year, quarter, trace);
}

int report_count_own(report_figures *out, sqlite3 *db, int64_t unit_id, int year, int quarter,
                     const report_trace *trace)
{
    return count_quarter(out, db, unit_id, 1, year, quarter, trace);
}
