/* test_report_department.c - a department's quarterly note (docs/reports.md,
 * "The workflow") against the real dala-server on 127.0.0.1:0, with the
 * server's clock set by the test. pd-astana has units A and B (the
 * harness's), C and D; tablets of A, B and C write field visits and legal
 * aid in the third quarter of 2026, and a tablet of the department itself
 * writes records of its own staff, which no unit's note counts. Every
 * figure checked is counted by hand from the records below. The tests: the
 * department's own records count in its note (draft, frozen, live, traced)
 * and in no unit's, shown apart as a line of their own; units that have not
 * filed are listed "not filed" and their figures shown apart, never added
 * in; a unit filing after the consolidation is flagged, and consolidating
 * again takes in exactly its figures; a signed note never changes; only the
 * deputy reconsolidates, on the page and on the command line. */
#include "e2e_support.h"
#include "supervisor.h"
#include "testhelp.h"
#include "web_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define PASSWORD "Dala-test-2026"
#define ID_BYTES DALA_ID_TEXT_BYTES
#define CLI_TIMEOUT_MS 20000
#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* ------------------------------------------------------------- the world */

enum { TA = 0, TB = 1, TC = 2, TDEP = 3, TABLETS = 4 };

/* pd-astana with units A, B (server_harness.c), C and D; a tablet in A, B,
 * C and one at the department itself; its deputy, a unit head and an
 * analyst of the department's own staff, and the heads of A and B. The
 * server runs on the test's clock (harness_clock_set), in UTC. */
typedef struct world {
    harness h;
    harness_tz tz; /* the process's TZ while the world runs in UTC */
    int64_t astana, unit_c, unit_d, officer_c, officer_dep;
    char astana_text[32], a_text[32], b_text[32], c_text[32], d_text[32];
    dala_store *tablet[TABLETS];
    supervisor head_a, head_b, deputy, dep_head, analyst;
    char dep_visit_id[ID_BYTES];
} world;

static void world_stop(world *w)
{
    for (size_t i = 0; i < COUNT(w->tablet); i++) dala_store_close(w->tablet[i]);
    e2e_stop(&w->h);
    harness_tz_restore(&w->tz);
}

/* One record a tablet writes; the quarter is 2026 Q3 ("now"), the year
 * before 2025 Q3 ("last"). */
typedef struct fixture_record {
    int tablet;
    const char *table, *json;
} fixture_record;

#define VISIT_HIGH(day) "{\"visit_date\": \"" day "\", \"purpose\": \"call_response\", \"risk_level\": \"high\"}"
#define VISIT_LOW(day) "{\"visit_date\": \"" day "\", \"purpose\": \"preventive_visit\", \"risk_level\": \"low\"}"
#define AID(day)                                                                                                 \
    "{\"given_on\": \"" day "\", \"channel\": \"phone\", \"topic\": \"domestic_violence\", \"aid_kind\": \"legal\", " \
    "\"is_anonymous\": 1}"

/* By hand, now / last:
 *                       A      B      C      department's own
 *   prevention.visits   2      1      3      1
 *   prevention.high_risk 1     1      2      1
 *   aid                 1/0    0      1      2/1
 *   crisis.interactions 0      0      0      1                      */
static const fixture_record fixture[] = {
    {TA, "field_visit", VISIT_HIGH("2026-07-10")},
    {TA, "field_visit", VISIT_LOW("2026-08-11")},
    {TA, "legal_aid", AID("2026-09-01")},
    {TB, "field_visit", VISIT_HIGH("2026-07-12")},
    {TC, "field_visit", VISIT_HIGH("2026-07-13")},
    {TC, "field_visit", VISIT_HIGH("2026-08-14")},
    {TC, "field_visit", VISIT_LOW("2026-09-15")},
    {TC, "legal_aid", AID("2026-08-20")},
    {TDEP, "legal_aid", AID("2026-08-02")},
    {TDEP, "legal_aid", AID("2026-09-03")},
    {TDEP, "legal_aid", AID("2025-08-04")},
    {TDEP, "interaction", "{\"held_on\": \"2026-08-05\", \"kind\": \"crisis_centre\", \"topic\": \"Орналастыру\"}"},
};

/* Syncs every tablet; nothing may be left to push or refused. */
static void sync_all(world *w)
{
    for (size_t i = 0; i < COUNT(w->tablet); i++) sync_taken(w->tablet[i]);
}

/* Builds the world, every record synced; the department's own field visit
 * is kept in dep_visit_id. Returns 0, or -1 (after failed checks, with
 * everything stopped). */
static int world_start(world *w)
{
    memset(w, 0, sizeof *w);
    if (harness_start_clocked(&w->h, &w->tz)) {
        world_stop(w);
        return -1;
    }
    w->astana = central_unit_find(&w->h, "pd-astana");
    w->unit_c = central_unit_add(&w->h, w->astana, "unit", "Baikonur district unit");
    w->unit_d = central_unit_add(&w->h, w->astana, "unit", "Nura district unit");
    if (!w->unit_c || !w->unit_d) {
        world_stop(w);
        return -1;
    }
    snprintf(w->astana_text, sizeof w->astana_text, "%lld", (long long)w->astana);
    snprintf(w->a_text, sizeof w->a_text, "%lld", (long long)w->h.unit_a);
    snprintf(w->b_text, sizeof w->b_text, "%lld", (long long)w->h.unit_b);
    snprintf(w->c_text, sizeof w->c_text, "%lld", (long long)w->unit_c);
    snprintf(w->d_text, sizeof w->d_text, "%lld", (long long)w->unit_d);
    supervisor_add(&w->head_a, &w->h, "head.a", "unit_head", w->h.unit_a, PASSWORD);
    supervisor_add(&w->head_b, &w->h, "head.b", "unit_head", w->h.unit_b, PASSWORD);
    supervisor_add(&w->deputy, &w->h, "deputy.astana", "deputy", w->astana, PASSWORD);
    supervisor_add(&w->dep_head, &w->h, "head.astana", "unit_head", w->astana, PASSWORD);
    supervisor_add(&w->analyst, &w->h, "analyst.astana", "analyst", w->astana, PASSWORD);
    w->officer_c = central_user_add(&w->h, "officer.c", "inspector", w->unit_c);
    w->officer_dep = central_user_add(&w->h, "officer.astana", "inspector", w->astana);
    w->tablet[TA] = device_enrol(&w->h, "a1", w->h.officer_a, w->h.unit_a);
    w->tablet[TB] = device_enrol(&w->h, "b1", w->h.officer_b, w->h.unit_b);
    w->tablet[TC] = device_enrol(&w->h, "c1", w->officer_c, w->unit_c);
    w->tablet[TDEP] = device_enrol(&w->h, "dep1", w->officer_dep, w->astana);
    for (size_t i = 0; i < COUNT(w->tablet); i++)
        if (!w->tablet[i]) {
            world_stop(w);
            return -1;
        }
    for (size_t i = 0; i < COUNT(fixture); i++)
        if (dala_record_put(NULL, w->tablet[fixture[i].tablet], fixture[i].table, NULL, fixture[i].json))
            test_fail(__FILE__, __LINE__, "record %zu (%s): %s", i, fixture[i].table, dala_errmsg());
    if (dala_record_put(w->dep_visit_id, w->tablet[TDEP], "field_visit", NULL, VISIT_HIGH("2026-07-20")))
        test_fail(__FILE__, __LINE__, "the department's visit: %s", dala_errmsg());
    sync_all(w);
    return 0;
}

/* ---------------------------------------------------------------- the API */

/* POST /v1/reports: the note of `unit` for 2026 Q3; its id, -1 after a
 * failed check. */
static long long note_create_at(const char *file, int line, world *w, supervisor *u, int64_t unit)
{
    web_answer a = WEB_ANSWER_INIT;
    char body[128];
    snprintf(body, sizeof body, "{\"unit_id\": %lld, \"year\": 2026, \"quarter\": 3}", (long long)unit);
    int status = supervisor_call(&a, &w->h, u, "POST", body, "/v1/reports");
    long long id = status == 200 ? int_of_text(json_get(a.body, "$.id")) : -1;
    if (id <= 0) test_fail(file, line, "%s drafts %s: %d %.300s", u->login, body, status, a.body ? a.body : "");
    web_answer_free(&a);
    return id;
}

#define NOTE_CREATE(w, u, unit) note_create_at(__FILE__, __LINE__, (w), (u), (unit))

/* GET /v1/reports/{id}`rest` as `u`: the answer's body (malloc'd), or NULL
 * after a failed check. */
static char *note_get_at(const char *file, int line, world *w, supervisor *u, long long id, const char *rest)
{
    web_answer a = WEB_ANSWER_INIT;
    int status = supervisor_call(&a, &w->h, u, "GET", NULL, "/v1/reports/%lld%s", id, rest);
    char *body = NULL;
    if (status != 200) test_fail(file, line, "%s reads note %lld%s: %d %.300s", u->login, id, rest, status, a.body ? a.body : "");
    else body = strdup(a.body);
    web_answer_free(&a);
    return body;
}

#define NOTE_GET(w, u, id, rest) note_get_at(__FILE__, __LINE__, (w), (u), (id), (rest))

/* A move that must succeed (200). */
static void note_do_at(const char *file, int line, world *w, supervisor *u, long long id, const char *action, const char *json)
{
    web_answer a = WEB_ANSWER_INIT;
    int status = supervisor_call(&a, &w->h, u, "POST", json, "/v1/reports/%lld/%s", id, action);
    if (status != 200)
        test_fail(file, line, "%s: %s of note %lld answered %d: %.300s", u->login, action, id, status, a.body ? a.body : "");
    web_answer_free(&a);
}

#define NOTE_DO(w, u, id, action) note_do_at(__FILE__, __LINE__, (w), (u), (id), (action), "{}")

/* `u` doing `action` on note `id` is refused with `want` and an error
 * that holds `says` (NULL: any error of some length). */
static void check_refused_at(const char *file, int line, world *w, supervisor *u, long long id, const char *action, int want,
                             const char *says)
{
    web_answer a = WEB_ANSWER_INIT;
    int status = supervisor_call(&a, &w->h, u, "POST", "{}", "/v1/reports/%lld/%s", id, action);
    char *error = json_get(a.body, "$.error");
    if (status != want)
        test_fail(file, line, "%s: %s of note %lld answered %d, expected %d: %.300s", u->login, action, id, status, want,
                  a.body ? a.body : "");
    if (!error || strlen(error) < 8 || (says && !strstr(error, says)))
        test_fail(file, line, "%s: %s: the error \"%s\" does not say \"%s\"", u->login, action, error ? error : "(none)",
                  says ? says : "anything");
    free(error);
    web_answer_free(&a);
}

#define CHECK_REFUSED(w, u, id, action, want, says) \
    check_refused_at(__FILE__, __LINE__, (w), (u), (id), (action), (want), (says))

/* The figure (group, value) of a note's blocks, in `period` ("now",
 * "last" or "live_now"); -1 when absent. */
static long long figure_of(const char *note, const char *group, const char *value, const char *period)
{
    return int_of_text(SQL_TEXT("SELECT json_extract(f.value, '$.' || ?4) FROM json_each(?1, '$.blocks') AS b, "
                                "json_each(b.value, '$.figures') AS f WHERE json_extract(f.value, '$.group') = ?2 "
                                "AND json_extract(f.value, '$.value') = ?3",
                                note, group, value, period));
}

/* The same in a list of figures shown apart (`path`: "$.own_records"). */
static long long part_figure(const char *json, const char *path, const char *group, const char *value, const char *period)
{
    return int_of_text(SQL_TEXT("SELECT json_extract(f.value, '$.' || ?4) FROM json_each(?1, ?5 || '.figures') AS f "
                                "WHERE json_extract(f.value, '$.group') = ?2 AND json_extract(f.value, '$.value') = ?3",
                                json, group, value, period, path));
}

/* The same for unit `unit_id` of GET .../unfiled. */
static long long unfiled_figure(const char *json, const char *unit_id, const char *group, const char *period)
{
    return int_of_text(SQL_TEXT("SELECT json_extract(f.value, '$.' || ?4) FROM json_each(?1, '$.units') AS u, "
                                "json_each(u.value, '$.figures') AS f WHERE CAST(json_extract(u.value, '$.unit_id') AS TEXT) = ?2 "
                                "AND json_extract(f.value, '$.group') = ?3 AND json_extract(f.value, '$.value') = ''",
                                json, unit_id, group, period));
}

/* The four figures of the fixture, now and last, of a note's blocks. */
static void check_four(const char *file, int line, const char *who, const char *note, long long visits,
                       long long high_risk, long long aid_now, long long aid_last, long long crisis)
{
    long long got[5] = {figure_of(note, "prevention.visits", "", "now"), figure_of(note, "prevention.high_risk", "", "now"),
                        figure_of(note, "aid", "", "now"), figure_of(note, "aid", "", "last"),
                        figure_of(note, "crisis.interactions", "", "now")};
    long long want[5] = {visits, high_risk, aid_now, aid_last, crisis};
    if (memcmp(got, want, sizeof got))
        test_fail(file, line,
                  "%s: visits %lld, high risk %lld, aid %lld/%lld, crisis %lld; by hand %lld, %lld, %lld/%lld, %lld", who,
                  got[0], got[1], got[2], got[3], got[4], want[0], want[1], want[2], want[3], want[4]);
}

#define CHECK_FOUR(who, note, visits, high, aid_now, aid_last, crisis) \
    check_four(__FILE__, __LINE__, (who), (note), (visits), (high), (aid_now), (aid_last), (crisis))

/* Files unit `unit`'s note as `u` at `when`; its id. */
static long long file_unit(world *w, supervisor *u, int64_t unit, const char *when)
{
    harness_clock_set(&w->h, when);
    long long id = NOTE_CREATE(w, u, unit);
    NOTE_DO(w, u, id, "submit");
    return id;
}

/* Unit A files its note on 2 October and, with `b_files`, unit B on the
 * 3rd; on the 8th the deputy drafts the department's note and
 * consolidates it. Returns the department's note's id. */
static long long consolidated_on_the_8th(world *w, int b_files)
{
    file_unit(w, &w->head_a, w->h.unit_a, "2026-10-02 10:00");
    if (b_files) file_unit(w, &w->head_b, w->h.unit_b, "2026-10-03 10:00");
    harness_clock_set(&w->h, "2026-10-08 09:00");
    long long d = NOTE_CREATE(w, &w->deputy, w->astana);
    NOTE_DO(w, &w->deputy, d, "consolidate");
    return d;
}

static long long audit_count(world *w, const char *action)
{
    sqlite3 *db = central_open(&w->h);
    long long n = -1;
    sqlite3_stmt *stmt;
    if (db && sqlite3_prepare_v2(db, "SELECT count(*) FROM audit WHERE action = ?1", -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, action, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return n;
}

/* ================================================== the department's own */

static void test_report_department_own_record_counts_in_the_departments_note_and_in_no_units(void)
{
    world w;
    if (world_start(&w)) return;
    long long a = file_unit(&w, &w.head_a, w.h.unit_a, "2026-10-02 10:00");
    long long b = file_unit(&w, &w.head_b, w.h.unit_b, "2026-10-03 10:00");
    long long d = NOTE_CREATE(&w, &w.deputy, w.astana);
    char *a_note = NOTE_GET(&w, &w.deputy, a, ""), *b_note = NOTE_GET(&w, &w.deputy, b, "");
    char *dep = NOTE_GET(&w, &w.deputy, d, "");
    /* The units count theirs only; C has not filed and is not added. */
    CHECK_FOUR("unit A", a_note, 2, 1, 1, 0, 0);
    CHECK_FOUR("unit B", b_note, 1, 1, 0, 0, 0);
    CHECK_FOUR("pd-astana, draft = A + B + its own", dep, 2 + 1 + 1, 1 + 1 + 1, 1 + 2, 1, 1);
    /* Its own records, apart, as a line of their own. */
    CHECK_JSON(dep, "$.own_records.unit_id", w.astana_text);
    CHECK_JSON(dep, "$.own_records.label", "Департаменттің өз жазбалары");
    CHECK_EQ_INT(part_figure(dep, "$.own_records", "prevention.visits", "", "now"), 1);
    CHECK_EQ_INT(part_figure(dep, "$.own_records", "aid", "", "now"), 2);
    CHECK_EQ_INT(part_figure(dep, "$.own_records", "aid", "", "last"), 1);
    CHECK_EQ_INT(part_figure(dep, "$.own_records", "crisis.interactions", "", "now"), 1);
    CHECK_EQ_INT(part_figure(dep, "$.own_records", "prevention.visits.nothing", "", "now"), -1);
    CHECK_EQ_INT(count_where(dep, "$.units", "unit_id", w.astana_text), 0); /* not a unit */
    free(dep);
    dep = NOTE_GET(&w, &w.deputy, d, "?lang=ru");
    CHECK_JSON(dep, "$.own_records.label", "Собственные записи департамента");
    /* Its own visit is among the records the department's figure counts,
     * and among no unit's. */
    char *traced = NOTE_GET(&w, &w.deputy, d, "/records?group=prevention.visits&value=&period=now");
    CHECK_EQ_INT(count_of(traced, "$.records"), 4);
    CHECK_EQ_INT(count_where(traced, "$.records", "id", w.dep_visit_id), 1);
    free(traced);
    traced = NOTE_GET(&w, &w.deputy, a, "/records?group=prevention.visits&value=&period=now");
    CHECK_EQ_INT(count_of(traced, "$.records"), 2);
    CHECK_EQ_INT(count_where(traced, "$.records", "id", w.dep_visit_id), 0);
    free(traced);
    free(dep);
    free(a_note);
    free(b_note);
    world_stop(&w);
}

static void test_report_department_own_records_are_frozen_at_consolidation_and_a_later_one_shows_as_a_correction(void)
{
    world w;
    if (world_start(&w)) return;
    long long d = consolidated_on_the_8th(&w, 1);
    CHECK_EQ_INT(central_int(&w.h, "SELECT now FROM report_figure WHERE note_id = ?1 AND grp = 'prevention.visits' "
                                   "AND value = ''", d, 0), 4);
    CHECK_EQ_INT(central_int(&w.h, "SELECT last FROM report_figure WHERE note_id = ?1 AND grp = 'aid' AND value = ''", d, 0), 1);
    /* The department's staff write one more visit after the consolidation. */
    harness_clock_set(&w.h, NULL);
    CHECK_OK(dala_record_put(NULL, w.tablet[TDEP], "field_visit", NULL, VISIT_LOW("2026-09-20")));
    sync_all(&w);
    char *dep = NOTE_GET(&w, &w.deputy, d, "");
    CHECK_JSON(dep, "$.state", "consolidated");
    CHECK_FOUR("pd-astana, consolidated", dep, 4, 3, 3, 1, 1);
    CHECK_EQ_INT(figure_of(dep, "prevention.visits", "", "live_now"), 5); /* what the records give now */
    CHECK_EQ_INT(figure_of(dep, "aid", "", "live_now"), -1);               /* unchanged: no correction */
    /* Its own line holds what was frozen, not the later visit. */
    CHECK_EQ_INT(part_figure(dep, "$.own_records", "prevention.visits", "", "now"), 1);
    CHECK_EQ_INT(part_figure(dep, "$.own_records", "aid", "", "now"), 2);
    CHECK_EQ_INT(part_figure(dep, "$.own_records", "crisis.interactions", "", "now"), 1);
    free(dep);
    world_stop(&w);
}

/* ==================================================== units not filed */

static void test_report_department_unfiled_units_are_listed_not_filed_and_their_figures_shown_apart(void)
{
    world w;
    if (world_start(&w)) return;
    long long a = file_unit(&w, &w.head_a, w.h.unit_a, "2026-10-02 10:00");
    long long b = NOTE_CREATE(&w, &w.head_b, w.h.unit_b); /* B drafts, never submits; C and D never start */
    long long d = NOTE_CREATE(&w, &w.deputy, w.astana);
    for (int consolidated = 0; consolidated <= 1; consolidated++) {
        const char *when = consolidated ? "after consolidating" : "in the draft";
        char *dep = NOTE_GET(&w, &w.deputy, d, "");
        CHECK_FOUR(when, dep, 2 + 1, 1 + 1, 1 + 2, 1, 1); /* A and its own only */
        CHECK_EQ_INT(count_of(dep, "$.units"), 4);
        CHECK_MEMBER(dep, "$.units", "unit_id", w.a_text, "filed", "1");
        CHECK_MEMBER(dep, "$.units", "unit_id", w.b_text, "filed", "0");
        CHECK_MEMBER(dep, "$.units", "unit_id", w.c_text, "filed", "0");
        CHECK_MEMBER(dep, "$.units", "unit_id", w.b_text, "state", "draft");
        CHECK_MEMBER(dep, "$.units", "unit_id", w.c_text, "state", "none");
        CHECK_MEMBER(dep, "$.units", "unit_id", w.b_text, "state_label", "Тапсырмаған");
        CHECK_MEMBER(dep, "$.units", "unit_id", w.c_text, "state_label", "Тапсырмаған");
        CHECK_MEMBER(dep, "$.units", "unit_id", w.d_text, "state_label", "Тапсырмаған");
        free(dep);
        dep = NOTE_GET(&w, &w.deputy, d, "?lang=ru");
        CHECK_MEMBER(dep, "$.units", "unit_id", w.c_text, "state_label", "Не представлена");
        CHECK_MEMBER(dep, "$.units", "unit_id", w.a_text, "state_label", consolidated ? "сведена" : "представлена");
        free(dep);
        /* Their figures, as the records give them now, apart. */
        char *unfiled = NOTE_GET(&w, &w.analyst, d, "/unfiled");
        CHECK_EQ_INT(count_of(unfiled, "$.units"), 3);
        CHECK_EQ_INT(count_where(unfiled, "$.units", "unit_id", w.a_text), 0);
        CHECK_MEMBER(unfiled, "$.units", "unit_id", w.c_text, "state_label", "Тапсырмаған");
        CHECK_EQ_INT(unfiled_figure(unfiled, w.c_text, "prevention.visits", "now"), 3);
        CHECK_EQ_INT(unfiled_figure(unfiled, w.c_text, "prevention.high_risk", "now"), 2);
        CHECK_EQ_INT(unfiled_figure(unfiled, w.c_text, "aid", "now"), 1);
        CHECK_EQ_INT(unfiled_figure(unfiled, w.b_text, "prevention.visits", "now"), 1);
        CHECK_EQ_INT(unfiled_figure(unfiled, w.b_text, "aid", "now"), -1);        /* counts nothing: not listed */
        CHECK_EQ_INT(count_of(unfiled, "$.units[2].figures"), 0);                 /* D wrote nothing */
        CHECK_EQ_INT(unfiled_figure(unfiled, w.c_text, "crisis.interactions", "now"), -1); /* not the department's */
        free(unfiled);
        if (!consolidated) {
            harness_clock_set(&w.h, "2026-10-08 09:00");
            NOTE_DO(&w, &w.deputy, d, "consolidate");
        }
    }
    CHECK_EQ_INT(central_int(&w.h, "SELECT now FROM report_figure WHERE note_id = ?1 AND grp = 'prevention.visits' "
                                   "AND value = ''", d, 0), 3);
    /* A unit's note has no units to list. */
    web_answer r = WEB_ANSWER_INIT;
    CHECK_EQ_INT(supervisor_call(&r, &w.h, &w.deputy, "GET", NULL, "/v1/reports/%lld/unfiled", a), 400);
    web_answer_free(&r);
    (void)b;
    world_stop(&w);
}

/* ================================================ filed after, reconsolidated */

/* Every figure of `after` is `before`'s plus `unit`'s, and every figure of
 * `unit` is in `after`; the number of figures compared in `*compared`. */
static long long sum_mismatches(const char *after, const char *before, const char *unit, long long *compared)
{
    static const char figures[] =
        "SELECT json_extract(f.value, '$.group') AS g, json_extract(f.value, '$.value') AS v, "
        "json_extract(f.value, '$.now') AS n, json_extract(f.value, '$.last') AS l "
        "FROM json_each(?%d, '$.blocks') AS b, json_each(b.value, '$.figures') AS f";
    char sql[2048], a[300], b[300], c[300];
    snprintf(a, sizeof a, figures, 1);
    snprintf(b, sizeof b, figures, 2);
    snprintf(c, sizeof c, figures, 3);
    snprintf(sql, sizeof sql,
             "WITH a AS (%s), b AS (%s), c AS (%s) SELECT ((SELECT count(*) FROM a LEFT JOIN b ON b.g = a.g AND b.v = a.v "
             "LEFT JOIN c ON c.g = a.g AND c.v = a.v WHERE a.n != coalesce(b.n, 0) + coalesce(c.n, 0) "
             "OR a.l != coalesce(b.l, 0) + coalesce(c.l, 0)) + (SELECT count(*) FROM c WHERE NOT EXISTS "
             "(SELECT 1 FROM a WHERE a.g = c.g AND a.v = c.v))) || ' ' || (SELECT count(*) FROM a)",
             a, b, c);
    char *got = SQL_TEXT(sql, after, before, unit);
    long long mismatches = -1;
    *compared = 0;
    if (!got || sscanf(got, "%lld %lld", &mismatches, compared) != 2) mismatches = -1;
    free(got);
    return mismatches;
}

static void test_report_department_unit_filing_after_consolidation_is_flagged_and_reconsolidation_takes_in_its_figures(void)
{
    world w;
    if (world_start(&w)) return;
    long long d = consolidated_on_the_8th(&w, 1);
    char *before = NOTE_GET(&w, &w.deputy, d, "");
    CHECK_EQ_INT(count_of(before, "$.filed_after_consolidation"), 0);
    CHECK_JSON(before, "$.may_reconsolidate", "0");
    /* C files after the consolidation: the note stays as it was, says so. */
    long long c = file_unit(&w, &w.deputy, w.unit_c, "2026-10-08 15:00");
    char *c_note = NOTE_GET(&w, &w.deputy, c, "");
    CHECK_JSON(c_note, "$.state", "submitted");
    char *flagged = NOTE_GET(&w, &w.deputy, d, "");
    CHECK_FOUR("pd-astana, C outside", flagged, 4, 3, 3, 1, 1);
    CHECK_EQ_INT(count_of(flagged, "$.filed_after_consolidation"), 1);
    CHECK_JSON(flagged, "$.filed_after_consolidation[0].unit_id", w.c_text);
    char when[32];
    snprintf(when, sizeof when, "%lld", (long long)harness_utc_seconds("2026-10-08 15:00"));
    CHECK_JSON(flagged, "$.filed_after_consolidation[0].submitted_at", when);
    CHECK_JSON(flagged, "$.may_reconsolidate", "1");
    CHECK_MEMBER(flagged, "$.units", "unit_id", w.c_text, "filed", "0"); /* as consolidated */
    free(flagged);
    flagged = NOTE_GET(&w, &w.analyst, d, "");
    CHECK_JSON(flagged, "$.filed_after_consolidation[0].unit_id", w.c_text);
    CHECK_JSON(flagged, "$.may_reconsolidate", "0"); /* an analyst reads, and does no more */
    free(flagged);
    /* The list of the quarter's notes flags it on the department's row. */
    web_answer r = WEB_ANSWER_INIT;
    CHECK_EQ_INT(supervisor_call(&r, &w.h, &w.deputy, "GET", NULL, "/v1/reports?year=2026&quarter=3"), 200);
    char *ids = member_where(r.body, "$.notes", "unit_id", w.astana_text, "filed_after_consolidation");
    char want[64];
    snprintf(want, sizeof want, "[%s]", w.c_text);
    CHECK_EQ_STR(ids, want);
    free(ids);
    /* Reconsolidated: C taken in, and the figures grow by exactly C's. */
    harness_clock_set(&w.h, "2026-10-09 11:00");
    NOTE_DO(&w, &w.deputy, d, "reconsolidate");
    char *after = NOTE_GET(&w, &w.deputy, d, "");
    CHECK_JSON(after, "$.state", "consolidated");
    CHECK_FOUR("pd-astana, C taken in", after, 4 + 3, 3 + 2, 3 + 1, 1, 1);
    long long compared = 0;
    CHECK_EQ_INT(sum_mismatches(after, before, c_note, &compared), 0);
    CHECK(compared >= 20);
    snprintf(when, sizeof when, "%lld", (long long)harness_utc_seconds("2026-10-09 11:00"));
    CHECK_JSON(after, "$.consolidated_at", when);
    CHECK_JSON(after, "$.deadline.late", "0"); /* still before the 10th */
    CHECK_EQ_INT(count_of(after, "$.filed_after_consolidation"), 0);
    CHECK_JSON(after, "$.may_reconsolidate", "0");
    CHECK_MEMBER(after, "$.units", "unit_id", w.c_text, "state", "consolidated");
    CHECK_MEMBER(after, "$.units", "unit_id", w.c_text, "filed", "1");
    CHECK_MEMBER(after, "$.units", "unit_id", w.d_text, "filed", "0");
    CHECK_EQ_INT(part_figure(after, "$.own_records", "prevention.visits", "", "now"), 1); /* its own: as before */
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM report_filing WHERE note_id = ?1 AND unit_id = ?2 "
                                   "AND state = 'consolidated'", d, w.unit_c), 1);
    CHECK_EQ_INT(central_int(&w.h, "SELECT now FROM report_figure WHERE note_id = ?1 AND grp = 'prevention.visits' "
                                   "AND value = ''", d, 0), 7);
    free(c_note);
    c_note = NOTE_GET(&w, &w.deputy, c, "");
    CHECK_JSON(c_note, "$.state", "consolidated");
    /* Audited once, naming the unit taken in. */
    CHECK_EQ_INT(audit_count(&w, "report_reconsolidate"), 1);
    char *detail = central_text(&w.h, "SELECT detail FROM audit WHERE action = 'report_reconsolidate' AND unit_id = ?1",
                                w.astana);
    char unit_words[48];
    snprintf(unit_words, sizeof unit_words, "unit %s", w.c_text);
    CHECK_CONTAINS(detail, unit_words);
    free(detail);
    /* Nothing filed since: nothing to take in. */
    CHECK_REFUSED(&w, &w.deputy, d, "reconsolidate", 409, "no unit has filed since");
    CHECK_EQ_INT(audit_count(&w, "report_reconsolidate"), 1);
    CHECK_EQ_INT(supervisor_call(&r, &w.h, &w.deputy, "GET", NULL, "/v1/reports?year=2026&quarter=3"), 200);
    ids = member_where(r.body, "$.notes", "unit_id", w.astana_text, "filed_after_consolidation");
    CHECK_EQ_STR(ids, "[]");
    free(ids);
    web_answer_free(&r);
    free(before);
    free(after);
    free(c_note);
    world_stop(&w);
}

static void test_report_department_signed_note_refuses_reconsolidation_and_keeps_its_figures(void)
{
    world w;
    if (world_start(&w)) return;
    long long d = consolidated_on_the_8th(&w, 0);
    note_do_at(__FILE__, __LINE__, &w, &w.deputy, d, "sign", "{\"password\": \"" PASSWORD "\"}");
    long long signed_at = central_int(&w.h, "SELECT consolidated_at FROM report_note WHERE id = ?1", d, 0);
    /* B files after the signature: flagged, but the note never changes. */
    file_unit(&w, &w.head_b, w.h.unit_b, "2026-10-09 10:00");
    char *dep = NOTE_GET(&w, &w.deputy, d, "");
    CHECK_JSON(dep, "$.state", "signed");
    CHECK_JSON(dep, "$.filed_after_consolidation[0].unit_id", w.b_text);
    CHECK_JSON(dep, "$.may_reconsolidate", "0");
    free(dep);
    CHECK_REFUSED(&w, &w.deputy, d, "reconsolidate", 409, "a signed note never changes");
    dep = NOTE_GET(&w, &w.deputy, d, "");
    CHECK_JSON(dep, "$.state", "signed");
    CHECK_FOUR("pd-astana, signed without B", dep, 2 + 1, 1 + 1, 1 + 2, 1, 1);
    CHECK_JSON(dep, "$.signature.valid", "1");
    free(dep);
    CHECK_EQ_INT(central_int(&w.h, "SELECT consolidated_at FROM report_note WHERE id = ?1", d, 0), signed_at);
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM report_filing WHERE note_id = ?1 AND unit_id = ?2 "
                                   "AND state = 'consolidated'", d, w.h.unit_b), 0);
    CHECK_EQ_INT(audit_count(&w, "report_reconsolidate"), 0);
    world_stop(&w);
}

/* ========================================================= who and when */

static void test_report_department_only_the_deputy_reconsolidates_and_only_a_consolidated_department_note(void)
{
    world w;
    if (world_start(&w)) return;
    long long a = file_unit(&w, &w.head_a, w.h.unit_a, "2026-10-02 10:00");
    harness_clock_set(&w.h, "2026-10-08 09:00");
    long long d = NOTE_CREATE(&w, &w.deputy, w.astana);
    CHECK_REFUSED(&w, &w.deputy, d, "reconsolidate", 409, "consolidate it first"); /* a draft */
    NOTE_DO(&w, &w.deputy, d, "consolidate");
    file_unit(&w, &w.head_b, w.h.unit_b, "2026-10-08 12:00");
    /* The department's own unit head and analyst read it, but may not;
     * a unit's head does not even see it. */
    CHECK_REFUSED(&w, &w.dep_head, d, "reconsolidate", 403, "deputy");
    CHECK_REFUSED(&w, &w.analyst, d, "reconsolidate", 403, "deputy");
    CHECK_REFUSED(&w, &w.head_b, d, "reconsolidate", 404, NULL);
    CHECK_REFUSED(&w, &w.deputy, a, "reconsolidate", 400, "department"); /* a unit's note */
    /* Without the CSRF token, even the deputy is refused. */
    web_answer r = WEB_ANSWER_INIT;
    if (!w.deputy.session.cookie[0]) supervisor_sign_in(&w.deputy, &w.h);
    web_login no_token = w.deputy.session;
    no_token.csrf[0] = '\0';
    char path[64];
    snprintf(path, sizeof path, "/v1/reports/%lld/reconsolidate", d);
    CHECK_EQ_INT(web_call(&r, w.h.port, "POST", path, &no_token, "application/json", "{}", 2), 403);
    web_answer_free(&r);
    char *dep = NOTE_GET(&w, &w.deputy, d, "");
    CHECK_FOUR("pd-astana, B still outside", dep, 2 + 1, 1 + 1, 1 + 2, 1, 1);
    CHECK_JSON(dep, "$.filed_after_consolidation[0].unit_id", w.b_text);
    free(dep);
    CHECK_EQ_INT(audit_count(&w, "report_reconsolidate"), 0);
    NOTE_DO(&w, &w.deputy, d, "reconsolidate");
    dep = NOTE_GET(&w, &w.deputy, d, "");
    CHECK_FOUR("pd-astana, B taken in", dep, 2 + 1 + 1, 1 + 1 + 1, 1 + 2, 1, 1);
    free(dep);
    world_stop(&w);
}

/* `dala-server admin --db ... report --reconsolidate id --by login`: its
 * exit status (-1 if it did not run), stdout and stderr (malloc'd). */
static int run_cli(const world *w, long long id, const char *by, char **out, char **err)
{
    char out_path[600], err_path[600], note[32];
    snprintf(out_path, sizeof out_path, "%s/cli-out.txt", w->h.dir);
    snprintf(err_path, sizeof err_path, "%s/cli-err.txt", w->h.dir);
    snprintf(note, sizeof note, "%lld", id);
    const char *argv[] = {test_binary_path("dala-server"), "admin", "--db", w->h.db_path, "report",
                          "--reconsolidate", note, "--by", by, NULL};
    *out = *err = NULL;
    int status;
    if (run_with_timeout(&status, argv, NULL, out_path, err_path, CLI_TIMEOUT_MS)) return -1;
    *out = test_read_file(out_path);
    *err = test_read_file(err_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_report_department_command_line_reconsolidates_as_a_deputy_and_refuses_anyone_else(void)
{
    world w;
    if (world_start(&w)) return;
    long long d = consolidated_on_the_8th(&w, 0);
    file_unit(&w, &w.head_b, w.h.unit_b, "2026-10-08 12:00");
    char *out = NULL, *err = NULL;
    CHECK_EQ_INT(run_cli(&w, d, "head.astana", &out, &err), 1); /* a unit head */
    CHECK_CONTAINS(err, "not a deputy");
    free(out);
    free(err);
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM report_filing WHERE note_id = ?1 AND state = 'consolidated'",
                             d, 0), 1);
    CHECK_EQ_INT(run_cli(&w, d, "deputy.astana", &out, &err), 0);
    CHECK_CONTAINS(out, "1 unit note filed since taken in");
    free(out);
    free(err);
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM report_filing WHERE note_id = ?1 AND state = 'consolidated'",
                             d, 0), 2);
    CHECK_EQ_INT(audit_count(&w, "report_reconsolidate"), 1);
    char *dep = NOTE_GET(&w, &w.deputy, d, "");
    CHECK_FOUR("pd-astana, B taken in by the command", dep, 2 + 1 + 1, 1 + 1 + 1, 1 + 2, 1, 1);
    free(dep);
    CHECK_EQ_INT(run_cli(&w, d, "deputy.astana", &out, &err), 1); /* nothing more to take in */
    CHECK_CONTAINS(err, "no unit has filed since");
    free(out);
    free(err);
    world_stop(&w);
}

const dala_test report_department_tests[] = {
    {"own_record_counts_in_the_departments_note_and_in_no_units",
     test_report_department_own_record_counts_in_the_departments_note_and_in_no_units},
    {"own_records_are_frozen_at_consolidation_and_a_later_one_shows_as_a_correction",
     test_report_department_own_records_are_frozen_at_consolidation_and_a_later_one_shows_as_a_correction},
    {"unfiled_units_are_listed_not_filed_and_their_figures_shown_apart",
     test_report_department_unfiled_units_are_listed_not_filed_and_their_figures_shown_apart},
    {"unit_filing_after_consolidation_is_flagged_and_reconsolidation_takes_in_its_figures",
     test_report_department_unit_filing_after_consolidation_is_flagged_and_reconsolidation_takes_in_its_figures},
    {"signed_note_refuses_reconsolidation_and_keeps_its_figures",
     test_report_department_signed_note_refuses_reconsolidation_and_keeps_its_figures},
    {"only_the_deputy_reconsolidates_and_only_a_consolidated_department_note",
     test_report_department_only_the_deputy_reconsolidates_and_only_a_consolidated_department_note},
    {"command_line_reconsolidates_as_a_deputy_and_refuses_anyone_else",
     test_report_department_command_line_reconsolidates_as_a_deputy_and_refuses_anyone_else},
    {NULL, NULL},
};
