/* test_safety.c - the dashboard's safety panel and the duplicate register
 * numbers (docs/web-api.md, GET /v1/dashboard `safety` and GET
 * /v1/records/{id} `duplicates`) against the real dala-server on
 * 127.0.0.1:0, with records captured on enrolled tablets: each list names
 * the record that should raise it and none of the decoys beside it (a
 * visit recent enough, an order ending in 10 days, an ended or extended
 * order, an old breach, reports 120 days apart, a voided offence); lists
 * keep to the signed-in person's scope; a number differing only in case
 * and spaces is the same number, shown on both records and never refused;
 * a settled conflict and a void move the numbers; and migration 008's SQL
 * backfill keeps exactly what a write keeps. */
#include "e2e_support.h"
#include "supervisor.h"
#include "testhelp.h"
#include "web_client.h"
#include "migration.h"
#include "server_int.h" /* server_record_columns, server_registers */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PASSWORD "Dala-safety-2026"
#define ID_BYTES DALA_ID_TEXT_BYTES
#define SURNAME "Жұмабекова"
#define PLACE "ул. Абая, 10"
#define PLACE_AGAIN "УЛ  АБАЯ 10"
#define ARTICLE "uk.99"

extern const dala_migration server_migrations[];

/* ------------------------------------------------------------ the days */

/* Today (the server's local day) moved by `offset` days, "YYYY-MM-DD". */
static const char *day(int offset)
{
    static char ring[16][11];
    static unsigned next;
    char *out = ring[next++ % 16];
    time_t now = time(NULL);
    struct tm today;
    localtime_r(&now, &today);
    struct tm noon = {.tm_year = today.tm_year, .tm_mon = today.tm_mon, .tm_mday = today.tm_mday, .tm_hour = 12};
    time_t when = timegm(&noon) + (time_t)offset * 86400;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
    return out;
}

/* ------------------------------------------------------- records on tablets */

static void put(char id[ID_BYTES], dala_store *tablet, const char *table, const char *format, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char id[ID_BYTES], dala_store *tablet, const char *table, const char *format, ...)
{
    char json[1000];
    va_list args;
    va_start(args, format);
    vsnprintf(json, sizeof json, format, args);
    va_end(args);
    CHECK_OK(dala_record_put(id, tablet, table, NULL, json));
}

static void person(char id[ID_BYTES], dala_store *tablet)
{
    put(id, tablet, "person",
        "{\"role\": \"victim\", \"last_name\": \"" SURNAME "\", \"first_name\": \"Әйгерім\", \"sex\": \"female\"}");
}

/* A field visit about `victim` on day `offset` (from today), with `more`
 * fields (JSON members after a comma, or ""). */
static void visit(char id[ID_BYTES], dala_store *tablet, const char *victim, int offset, const char *risk,
                  const char *more)
{
    put(id, tablet, "field_visit",
        "{\"visit_date\": \"%s\", \"purpose\": \"preventive_visit\", \"risk_level\": \"%s\", \"victim_id\": \"%s\"%s%s}",
        day(offset), risk, victim, more[0] ? ", " : "", more);
}

static void offence(char id[ID_BYTES], dala_store *tablet, const char *victim, int offset, const char *more)
{
    put(id, tablet, "offence",
        "{\"kind\": \"criminal\", \"sphere\": \"family_domestic\", \"article\": \"" ARTICLE "\", "
        "\"committed_on\": \"%s\", \"victim_id\": \"%s\"%s%s}",
        day(offset), victim, more[0] ? ", " : "", more);
}

/* A protective order issued on day `issued`, valid until day `until`. */
static void order(char id[ID_BYTES], dala_store *tablet, const char *person_id, int issued, int until,
                  const char *more)
{
    put(id, tablet, "protective_measure",
        "{\"kind\": \"protective_order\", \"person_id\": \"%s\", \"issued_on\": \"%s\", \"valid_until\": \"%s\"%s%s}",
        person_id, day(issued), day(until), more[0] ? ", " : "", more);
}

/* ------------------------------------------------------------- the world */

/* pd-astana's units A and B (server_harness.c) and a unit of
 * pd-almaty-city, a tablet of each officer (two in unit A). */
typedef struct world {
    harness h;
    api_tablets t; /* a1, a2, b1, almaty1 and the Almaty unit */
} world;

static void world_stop(world *w)
{
    api_tablets_close(&w->t);
    e2e_stop(&w->h);
}

static int world_start(world *w)
{
    memset(w, 0, sizeof *w);
    if (harness_start(&w->h, 0)) return -1;
    if (api_tablets_open(&w->t, &w->h)) {
        world_stop(w);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------- the people */

/* Signs in user `login` with the suite's password (supervisor.h), adding
 * them with `role` at `unit` first unless `unit` is 0 (an existing user). */
static web_login as_user(world *w, const char *login, const char *role, int64_t unit)
{
    if (unit) central_user_add(&w->h, login, role, unit);
    return supervisor_sign_in_as(&w->h, login, PASSWORD);
}

/* ----------------------------------------------------------- the answers */

/* The dashboard of `who` (with `query`, e.g. "?visit_days=7"); malloc'd. */
static char *dashboard(world *w, const web_login *who, const char *query)
{
    char path[80];
    web_answer a = WEB_ANSWER_INIT;
    snprintf(path, sizeof path, "/v1/dashboard%s", query);
    int status = web_get(&a, w->h.port, path, who);
    if (status != 200) test_fail(__FILE__, __LINE__, "GET %s answered %d: %.300s", path, status, a.body ? a.body : "");
    char *body = status == 200 && a.body ? strdup(a.body) : NULL;
    web_answer_free(&a);
    return body;
}

/* The lines of list `list` are exactly `ids`, and its total says so. */
static void check_lines(const char *file, int line, const char *json, const char *list, const char *const *ids,
                        size_t count)
{
    char lines[80], total[80];
    snprintf(lines, sizeof lines, "$.safety.%s.lines", list);
    snprintf(total, sizeof total, "$.safety.%s.total", list);
    long long listed = count_of(json, lines), said = int_of_text(json_get(json, total));
    if (listed != (long long)count || said != (long long)count)
        test_fail(file, line, "%s holds %lld lines (total %lld), expected %zu: %.900s", list, listed, said, count,
                  json ? json : "");
    for (size_t i = 0; i < count; i++)
        if (count_where(json, lines, "id", ids[i]) != 1) test_fail(file, line, "%s: line %zu (%s) is not there once", list, i, ids[i]);
}

#define CHECK_LINES(json, list, ...) check_lines(__FILE__, __LINE__, (json), (list), STRINGS(__VA_ARGS__))
#define CHECK_NO_LINES(json, list) check_lines(__FILE__, __LINE__, (json), (list), NULL, 0)
/* Member `member` of the line about record `id` in list `list`. */
#define CHECK_LINE(json, list, id, member, want) \
    CHECK_MEMBER((json), "$.safety." list ".lines", "id", (id), (member), (want))

/* The record's JSON as `who` reads it; malloc'd. */
static char *record_json(world *w, const web_login *who, const char *id)
{
    char path[80];
    web_answer a = WEB_ANSWER_INIT;
    snprintf(path, sizeof path, "/v1/records/%s", id);
    int status = web_get(&a, w->h.port, path, who);
    if (status != 200) test_fail(__FILE__, __LINE__, "GET %s answered %d", path, status);
    char *body = status == 200 && a.body ? strdup(a.body) : NULL;
    web_answer_free(&a);
    return body;
}

/* `who` is shown no duplicate number: none on record `id`'s page, no
 * line of them on the dashboard. */
static void check_no_duplicates(const char *file, int line, world *w, const web_login *who, const char *id)
{
    char *json = record_json(w, who, id);
    long long listed = count_of(json, "$.duplicates");
    if (listed != 0) test_fail(file, line, "record %s shows %lld duplicates, expected none", id, listed);
    free(json);
    json = dashboard(w, who, "");
    check_lines(file, line, json, "duplicate_numbers", NULL, 0);
    free(json);
}

#define CHECK_NO_DUPLICATES(w, who, id) check_no_duplicates(__FILE__, __LINE__, (w), (who), (id))

/* The record ids the record's `duplicates` name for register `reg`,
 * comma-separated in their order; malloc'd ("" when none). */
static char *duplicates_of(const char *json, const char *reg)
{
    char *text = SQL_TEXT("SELECT coalesce(group_concat(json_extract(o.value, '$.id'), ','), '') "
                          "FROM json_each(?1, '$.duplicates') d, json_each(d.value, '$.records') o "
                          "WHERE json_extract(d.value, '$.register') = ?2",
                          json, reg);
    return text ? text : strdup("");
}

static void check_text_is(const char *file, int line, char *got, const char *want)
{
    if (!got || strcmp(got, want)) test_fail(file, line, "\"%s\", expected \"%s\"", got ? got : "(null)", want);
    free(got);
}

#define CHECK_DUPLICATES(json, reg, want) check_text_is(__FILE__, __LINE__, duplicates_of((json), (reg)), (want))

/* ============================================================ the panel */

/* Unit A's cases and decoys on tablet a1 (and one case on a2), and the
 * same kind of case in unit B and in Almaty. */
typedef struct cases {
    char gap[ID_BYTES], revisit_high[ID_BYTES], revisit_low[ID_BYTES], recent[ID_BYTES], a2_gap[ID_BYTES];
    char follow[ID_BYTES], followed[ID_BYTES], followed_later[ID_BYTES], follow_future[ID_BYTES];
    char expiring[ID_BYTES], later[ID_BYTES], ended[ID_BYTES], extended[ID_BYTES], breached[ID_BYTES],
        old_breach[ID_BYTES], talk[ID_BYTES];
    char victim_new[ID_BYTES], victim_old[ID_BYTES], place_new[ID_BYTES], place_old[ID_BYTES], far_new[ID_BYTES],
        far_old[ID_BYTES];
    char b_gap[ID_BYTES], almaty_gap[ID_BYTES];
} cases;

static void make_cases(world *w, cases *c)
{
    char p1[ID_BYTES], p2[ID_BYTES], p3[ID_BYTES], p5[ID_BYTES], p6[ID_BYTES], p7[ID_BYTES], p8[ID_BYTES],
        p9[ID_BYTES], p10[ID_BYTES], pa2[ID_BYTES], pb[ID_BYTES], palmaty[ID_BYTES];
    char *people[] = {p1, p2, p3, p5, p6, p7, p8, p9, p10};
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) person(people[i], w->t.a1);
    /* High risk: 20 days without a visit; revisited 5 days ago; 10 days. */
    visit(c->gap, w->t.a1, p1, -20, "high", "");
    visit(c->revisit_high, w->t.a1, p2, -20, "high", "");
    visit(c->revisit_low, w->t.a1, p2, -5, "low", "");
    visit(c->recent, w->t.a1, p3, -10, "high", "");
    /* Follow-ups: 3 days overdue; overdue but visited since; not yet due. */
    char more[80];
    snprintf(more, sizeof more, "\"follow_up_date\": \"%s\"", day(-3));
    visit(c->follow, w->t.a1, p5, -20, "low", more);
    visit(c->followed, w->t.a1, p6, -20, "low", more);
    visit(c->followed_later, w->t.a1, p6, -2, "low", "");
    snprintf(more, sizeof more, "\"follow_up_date\": \"%s\"", day(5));
    visit(c->follow_future, w->t.a1, p7, -1, "low", more);
    /* Orders: ends in 2 days; in 10; ended; extended; breached 5 days ago,
     * and 40 days ago; a talk, not an order, "valid" until tomorrow. */
    order(c->expiring, w->t.a1, p1, -27, 2, "");
    order(c->later, w->t.a1, p1, -20, 10, "");
    snprintf(more, sizeof more, "\"ended_on\": \"%s\"", day(-1));
    order(c->ended, w->t.a1, p2, -20, 1, more);
    snprintf(more, sizeof more, "\"extended_until\": \"%s\"", day(30));
    order(c->extended, w->t.a1, p3, -20, 1, more);
    snprintf(more, sizeof more, "\"breached\": 1, \"breached_on\": \"%s\"", day(-5));
    order(c->breached, w->t.a1, p5, -20, 20, more);
    snprintf(more, sizeof more, "\"breached\": 1, \"breached_on\": \"%s\"", day(-40));
    order(c->old_breach, w->t.a1, p6, -60, 20, more);
    put(c->talk, w->t.a1, "protective_measure",
        "{\"kind\": \"preventive_talk\", \"person_id\": \"%s\", \"issued_on\": \"%s\", \"valid_until\": \"%s\"}", p7,
        day(-5), day(1));
    /* Reports: one victim twice in 90 days; one address typed two ways by
     * two victims; a victim's reports 120 days apart. */
    offence(c->victim_new, w->t.a1, p1, -10, "");
    offence(c->victim_old, w->t.a1, p1, -40, "");
    offence(c->place_new, w->t.a1, p8, -5, "\"place\": \"" PLACE "\"");
    offence(c->place_old, w->t.a1, p9, -50, "\"place\": \"" PLACE_AGAIN "\"");
    offence(c->far_new, w->t.a1, p10, -10, "");
    offence(c->far_old, w->t.a1, p10, -120, "");
    sync_taken(w->t.a1);
    /* The second tablet of unit A, unit B and Almaty: one gap each. */
    person(pa2, w->t.a2);
    visit(c->a2_gap, w->t.a2, pa2, -30, "high", "");
    sync_taken(w->t.a2);
    person(pb, w->t.b1);
    visit(c->b_gap, w->t.b1, pb, -20, "high", "");
    sync_taken(w->t.b1);
    person(palmaty, w->t.almaty1);
    visit(c->almaty_gap, w->t.almaty1, palmaty, -20, "high", "");
    sync_taken(w->t.almaty1);
}

static void test_safety_panel_lists_each_case_and_none_of_the_decoys(void)
{
    world w;
    if (world_start(&w)) return;
    cases c;
    make_cases(&w, &c);
    web_login head = as_user(&w, "head.a", "unit_head", w.h.unit_a);
    char *json = dashboard(&w, &head, "");
    CHECK_JSON(json, "$.safety.today", day(0));
    CHECK_JSON(json, "$.safety.visit_days", "14");
    CHECK_LINES(json, "no_recent_visit", c.gap, c.a2_gap);
    CHECK_LINE(json, "no_recent_visit", c.gap, "reason", "high_risk_no_visit");
    CHECK_LINE(json, "no_recent_visit", c.gap, "days", "20");
    CHECK_LINE(json, "no_recent_visit", c.gap, "date", day(-20));
    CHECK_LINE(json, "no_recent_visit", c.gap, "table", "field_visit");
    CHECK_LINE(json, "no_recent_visit", c.gap, "unit", "Esil district unit");
    CHECK_LINES(json, "protective_orders", c.expiring, c.breached);
    CHECK_LINE(json, "protective_orders", c.expiring, "reason", "order_expiring");
    CHECK_LINE(json, "protective_orders", c.expiring, "due", day(2));
    CHECK_LINE(json, "protective_orders", c.breached, "reason", "order_breached");
    CHECK_LINE(json, "protective_orders", c.breached, "due", day(-5));
    CHECK_LINE(json, "protective_orders", c.breached, "table", "protective_measure");
    CHECK_LINES(json, "overdue_follow_ups", c.follow);
    CHECK_LINE(json, "overdue_follow_ups", c.follow, "reason", "follow_up_overdue");
    CHECK_LINE(json, "overdue_follow_ups", c.follow, "due", day(-3));
    CHECK_LINES(json, "repeat_reports", c.victim_new, c.place_new);
    CHECK_LINE(json, "repeat_reports", c.victim_new, "reason", "repeat_victim");
    CHECK_LINE(json, "repeat_reports", c.victim_new, "count", "2");
    CHECK_LINE(json, "repeat_reports", c.place_new, "reason", "repeat_address");
    CHECK_LINE(json, "repeat_reports", c.place_new, "table", "offence");
    CHECK_NO_LINES(json, "duplicate_numbers");
    /* The panel names records, never a person's name or address. */
    CHECK(json && !strstr(json, SURNAME) && !strstr(json, "Абая") && !strstr(json, "АБАЯ"));
    free(json);
    /* A shorter span: the visit of 10 days ago is due too. */
    json = dashboard(&w, &head, "?visit_days=7");
    CHECK_JSON(json, "$.safety.visit_days", "7");
    CHECK_LINES(json, "no_recent_visit", c.gap, c.a2_gap, c.recent);
    free(json);
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/dashboard?visit_days=0", &head), 400);
    CHECK_EQ_INT(web_get(&a, w.h.port, "/v1/dashboard?visit_days=many", &head), 400);
    web_answer_free(&a);
    /* A visit now closes the gap; a voided visit would not. */
    char now_visit[ID_BYTES], voided[ID_BYTES], gap_victim[ID_BYTES];
    char *victim = central_field(&w.h, c.gap, "victim_id");
    snprintf(gap_victim, sizeof gap_victim, "%s", victim ? victim : "");
    free(victim);
    visit(voided, w.t.a1, gap_victim, 0, "low", "");
    CHECK_OK(dala_record_void(w.t.a1, voided, "entered twice"));
    sync_taken(w.t.a1);
    json = dashboard(&w, &head, "");
    CHECK_LINES(json, "no_recent_visit", c.gap, c.a2_gap);
    free(json);
    visit(now_visit, w.t.a1, gap_victim, 0, "low", "");
    sync_taken(w.t.a1);
    json = dashboard(&w, &head, "");
    CHECK_LINES(json, "no_recent_visit", c.a2_gap);
    free(json);
    world_stop(&w);
}

static void test_safety_panel_keeps_to_the_scope(void)
{
    world w;
    if (world_start(&w)) return;
    cases c;
    make_cases(&w, &c);
    int64_t astana = 0;
    dala_admin *admin = NULL;
    CHECK_OK(dala_admin_open(&admin, w.h.db_path));
    CHECK_OK(dala_admin_unit_find(&astana, admin, "pd-astana"));
    dala_admin_close(admin);
    /* Unit A's head: not unit B's nor Almaty's. */
    web_login head = as_user(&w, "head.a", "unit_head", w.h.unit_a);
    char *json = dashboard(&w, &head, "");
    CHECK_LINES(json, "no_recent_visit", c.gap, c.a2_gap);
    free(json);
    /* The department's deputy: units A and B, not Almaty. */
    web_login deputy = as_user(&w, "deputy.astana", "deputy", astana);
    json = dashboard(&w, &deputy, "");
    CHECK_LINES(json, "no_recent_visit", c.gap, c.a2_gap, c.b_gap);
    CHECK_LINE(json, "no_recent_visit", c.b_gap, "unit", "Saryarka district unit");
    CHECK_LINES(json, "protective_orders", c.expiring, c.breached);
    free(json);
    /* Almaty's unit head: Almaty only. */
    web_login almaty = as_user(&w, "head.almaty", "unit_head", w.t.almaty_unit);
    json = dashboard(&w, &almaty, "");
    CHECK_LINES(json, "no_recent_visit", c.almaty_gap);
    CHECK_NO_LINES(json, "protective_orders");
    CHECK_NO_LINES(json, "overdue_follow_ups");
    CHECK_NO_LINES(json, "repeat_reports");
    free(json);
    /* An inspector: the records of their own tablets only. */
    web_login inspector = as_user(&w, "d.sadykova", NULL, 0);
    json = dashboard(&w, &inspector, "");
    CHECK_LINES(json, "no_recent_visit", c.a2_gap);
    CHECK_NO_LINES(json, "protective_orders");
    CHECK_NO_LINES(json, "repeat_reports");
    free(json);
    /* An administrator reads no records: no panel. */
    web_login root = as_user(&w, "admin.astana", "admin", astana);
    json = dashboard(&w, &root, "");
    CHECK_JSON(json, "$.safety", NULL);
    CHECK(json && strstr(json, "\"safety\":null"));
    free(json);
    world_stop(&w);
}

/* ============================================================ numbers */

static void test_safety_duplicate_numbers_show_on_both_records_and_are_never_refused(void)
{
    world w;
    if (world_start(&w)) return;
    char p1[ID_BYTES], p2[ID_BYTES], p3[ID_BYTES], p4[ID_BYTES], pb[ID_BYTES];
    char first[ID_BYTES], second[ID_BYTES], voided[ID_BYTES], other_kui[ID_BYTES], unit_b[ID_BYTES];
    person(p1, w.t.a1);
    person(p3, w.t.a1);
    person(p4, w.t.a1);
    offence(first, w.t.a1, p1, -30, "\"erdr_no\": \"ERDR 2026 0001\", \"kui_no\": \"K-1\"");
    offence(voided, w.t.a1, p3, -20, "\"erdr_no\": \"erdr20260001\"");
    CHECK_OK(dala_record_void(w.t.a1, voided, "entered twice"));
    /* The same number in another register is another number. */
    offence(other_kui, w.t.a1, p4, -15, "\"kui_no\": \"ERDR20260001\"");
    sync_taken(w.t.a1);
    /* The second tablet of the unit writes it again, spaced and cased
     * otherwise: taken, and shown. */
    person(p2, w.t.a2);
    offence(second, w.t.a2, p2, -10, "\"erdr_no\": \" erdr2026\\t0001 \"");
    sync_taken(w.t.a2);
    /* Unit B holds the number too: another unit's register. */
    person(pb, w.t.b1);
    offence(unit_b, w.t.b1, pb, -10, "\"erdr_no\": \"ERDR20260001\"");
    sync_taken(w.t.b1);
    /* As the tablets wrote them. */
    char *stored = central_field(&w.h, second, "erdr_no");
    CHECK_EQ_STR(stored, " erdr2026\t0001 ");
    free(stored);

    web_login head = as_user(&w, "head.a", "unit_head", w.h.unit_a);
    char *json = record_json(&w, &head, first);
    CHECK_DUPLICATES(json, "erdr", second);
    CHECK_DUPLICATES(json, "kui", "");
    CHECK_MEMBER(json, "$.duplicates", "register", "erdr", "field", "erdr_no");
    CHECK_MEMBER(json, "$.duplicates", "register", "erdr", "records[0].date", day(-10));
    CHECK_EQ_INT(count_of(json, "$.duplicates"), 1);
    free(json);
    json = record_json(&w, &head, second);
    CHECK_DUPLICATES(json, "erdr", first);
    CHECK_MEMBER(json, "$.duplicates", "register", "erdr", "records[0].date", day(-30));
    free(json);
    json = record_json(&w, &head, voided);
    CHECK_EQ_INT(count_of(json, "$.duplicates"), 0);
    free(json);
    json = record_json(&w, &head, other_kui);
    CHECK_EQ_INT(count_of(json, "$.duplicates"), 0);
    free(json);
    json = dashboard(&w, &head, "");
    CHECK_LINES(json, "duplicate_numbers", first, second);
    CHECK_LINE(json, "duplicate_numbers", first, "reason", "duplicate_number");
    CHECK_LINE(json, "duplicate_numbers", first, "register", "erdr");
    CHECK_LINE(json, "duplicate_numbers", second, "field", "erdr_no");
    CHECK(json && !strstr(json, "0001")); /* lines name records, not numbers */
    free(json);
    /* Unit B's head sees no duplicate: one record of that number there. */
    web_login head_b = as_user(&w, "head.b", "unit_head", w.h.unit_b);
    CHECK_NO_DUPLICATES(&w, &head_b, unit_b);
    /* An inspector sees the duplicates among their own records only. */
    web_login inspector = as_user(&w, "d.sadykova", NULL, 0);
    CHECK_NO_DUPLICATES(&w, &inspector, second);
    /* Voiding the second leaves the first alone again. */
    CHECK_OK(dala_record_void(w.t.a2, second, "the number belongs to another case"));
    sync_taken(w.t.a2);
    CHECK_NO_DUPLICATES(&w, &head, first);
    world_stop(&w);
}

/* The server's own write (keeping a conflict's loser) rewrites the keys. */
static void test_safety_settling_a_conflict_moves_the_number(void)
{
    world w;
    if (world_start(&w)) return;
    char p1[ID_BYTES], p2[ID_BYTES], disputed[ID_BYTES], holder[ID_BYTES];
    person(p1, w.t.a1);
    person(p2, w.t.a1);
    offence(disputed, w.t.a1, p1, -30, "\"erdr_no\": \"E-100\"");
    sync_taken(w.t.a1);
    sync_taken(w.t.a2);
    CHECK_OK(dala_record_put(NULL, w.t.a1, "offence", disputed, "{\"erdr_no\": \"E-200\"}"));
    CHECK_OK(dala_record_put(NULL, w.t.a2, "offence", disputed, "{\"erdr_no\": \"E-300\"}"));
    for (int round = 0; round < 2; round++) {
        sync_taken(w.t.a1);
        sync_taken(w.t.a2);
    }
    char *winner = central_field(&w.h, disputed, "erdr_no");
    CHECK(winner && (!strcmp(winner, "E-200") || !strcmp(winner, "E-300")));
    const char *loser = winner && !strcmp(winner, "E-200") ? "E-300" : "E-200";
    char more[60], lower[8];
    snprintf(lower, sizeof lower, "e%s", loser + 1); /* the loser, in small case */
    snprintf(more, sizeof more, "\"erdr_no\": \"%s\"", lower);
    offence(holder, w.t.a1, p2, -5, more);
    sync_taken(w.t.a1);
    web_login head = as_user(&w, "head.a", "unit_head", w.h.unit_a);
    char *json = record_json(&w, &head, holder);
    CHECK_DUPLICATES(json, "erdr", "");
    free(json);
    json = record_json(&w, &head, disputed);
    char *conflict = member_where(json, "$.conflicts", "field", "erdr_no", "id");
    CHECK(conflict != NULL);
    free(json);
    char path[120];
    web_answer a = WEB_ANSWER_INIT;
    snprintf(path, sizeof path, "/v1/conflicts/%s/settle", conflict ? conflict : "none");
    CHECK_EQ_INT(web_post(&a, w.h.port, path, &head, "{\"keep\": \"loser\"}"), 200);
    web_answer_free(&a);
    char *kept = central_field(&w.h, disputed, "erdr_no");
    CHECK_EQ_STR(kept, loser);
    free(kept);
    json = record_json(&w, &head, holder);
    CHECK_DUPLICATES(json, "erdr", disputed);
    free(json);
    json = dashboard(&w, &head, "");
    CHECK_LINES(json, "duplicate_numbers", disputed, holder);
    free(json);
    free(conflict);
    free(winner);
    world_stop(&w);
}

/* ============================================================ the columns */

static void test_safety_numbers_compare_without_case_and_spaces(void)
{
    char out[32];
    const char *same[] = {"ERDR 2026 0001", " erdr2026\t0001 ", "erdr\r\n20260001", "ERDR\xc2\xa0" "20260001"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        CHECK_EQ_INT(server_register_normalise(out, sizeof out, (const uint8_t *)same[i], strlen(same[i])), 12);
        CHECK_EQ_STR(out, "erdr20260001");
    }
    /* Only ASCII letters fold; other letters and marks stay. */
    const char *cyrillic = "ҚР-12 Б";
    server_register_normalise(out, sizeof out, (const uint8_t *)cyrillic, strlen(cyrillic));
    CHECK_EQ_STR(out, "ҚР-12Б");
    CHECK_EQ_INT(server_register_normalise(out, sizeof out, (const uint8_t *)"  \t ", 4), 0);
    CHECK_EQ_INT(server_register_normalise(out, 4, (const uint8_t *)"12345", 5), 0); /* does not fit */
}

static void test_safety_every_register_of_the_domain_has_a_column(void)
{
    const dala_domain *domain = dala_domain_get();
    size_t registers = 0;
    for (size_t t = 0; domain && t < domain->table_count; t++)
        for (size_t f = 0; f < domain->tables[t].field_count; f++) {
            const char *name = domain->tables[t].fields[f].register_name;
            if (!name) continue;
            registers++;
            if (server_register_index(name) < 0)
                test_fail(__FILE__, __LINE__, "%s.%s names register %s, which has no column (migration 008)",
                          domain->tables[t].name, domain->tables[t].fields[f].name, name);
        }
    CHECK(registers >= SERVER_REGISTER_COUNT);
}

/* One record for the backfill test: its table and fields as "name=value"
 * (a value "#n" is the integer n). */
typedef struct old_record {
    const char *table;
    const char *fields[12];
} old_record;

static void insert_old(sqlite3 *db, int64_t unit, int64_t seq, const old_record *o)
{
    dala_record record = DALA_RECORD_INIT;
    dala_version version = {DALA_HLC_MAKE((uint64_t)time(NULL) * 1000, 0), 7};
    for (size_t i = 0; i < 12 && o->fields[i]; i++) {
        char name[64];
        const char *eq = strchr(o->fields[i], '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - o->fields[i]), o->fields[i]);
        const char *text = eq + 1;
        dala_value value = {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)text, strlen(text)};
        if (text[0] == '#') value = (dala_value){DALA_VALUE_INT, atoll(text + 1), 0, NULL, 0};
        CHECK_OK(dala_record_set(&record, name, &value, &version, (uint64_t)seq));
    }
    dala_buf blob = DALA_BUF_INIT;
    uint8_t id[DALA_UUID_BYTES];
    CHECK_OK(dala_uuid_v7(id, (uint64_t)time(NULL) * 1000 + (uint64_t)seq));
    CHECK_OK(dala_record_encode(&blob, &record));
    sqlite3_stmt *stmt = NULL;
    CHECK(sqlite3_prepare_v2(db, "INSERT INTO record (id, tbl, unit_id, seq, created_by, received_at, data, occurred_on) "
                                 "VALUES (?1, ?2, ?3, ?4, 7, ?5, ?6, ?7)", -1, &stmt, NULL) == SQLITE_OK);
    record_columns columns;
    server_record_columns(&columns, o->table, &record, 1764000000);
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, o->table, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, unit);
    sqlite3_bind_int64(stmt, 4, seq);
    sqlite3_bind_int64(stmt, 5, 1764000000);
    sqlite3_bind_blob(stmt, 6, blob.data, (int)blob.len, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 7, columns.occurred_on, -1, SQLITE_STATIC);
    CHECK(sqlite3_step(stmt) == SQLITE_DONE);
    sqlite3_finalize(stmt);
    dala_buf_free(&blob);
    dala_record_clear(&record);
}

/* The keys of one stored row as the write path would keep them, and as
 * the row holds them, each "name=value|" (NULL: "-"). */
static void keys_text(char *want, char *got, size_t size, sqlite3_stmt *row)
{
    dala_record record = DALA_RECORD_INIT;
    CHECK_OK(dala_record_decode(&record, sqlite3_column_blob(row, 0), (size_t)sqlite3_column_bytes(row, 0)));
    record_columns c;
    server_record_columns(&c, (const char *)sqlite3_column_text(row, 1), &record, 1764000000);
    char report[4];
    snprintf(report, sizeof report, "%s", c.is_report ? "1" : "");
    const char *values[] = {c.numbers[0], c.numbers[1], c.numbers[2], c.numbers[3], c.victim, report,
                            c.place_key, c.due_on, c.breached_on};
    size_t w = 0, g = 0;
    for (int i = 0; i < 9; i++) {
        const char *stored = (const char *)sqlite3_column_text(row, 2 + i);
        w += (size_t)snprintf(want + w, size - w, "%s|", values[i][0] ? values[i] : "-");
        g += (size_t)snprintf(got + g, size - g, "%s|", stored ? stored : "-");
    }
    dala_record_clear(&record);
}

/* The first column of the first row of `sql` on `db`, as text; malloc'd,
 * NULL if there is no row or the value is NULL; a failed check if `sql`
 * does not prepare. */
static char *db_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    char *text = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
    else if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
        text = strdup((const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    return text;
}

static void test_safety_migration_backfill_keeps_what_a_write_keeps(void)
{
    char path[400];
    snprintf(path, sizeof path, "%s/central.db", test_tmpdir());
    /* A database of schema 007, as before this migration. */
    dala_migration before[8];
    for (int i = 0; i < 7; i++) before[i] = server_migrations[i];
    before[7] = (dala_migration){0, 0};
    CHECK_EQ_INT(atoi(before[6].name), 7);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK_OK(dala_migrate(db, before, path));
    int64_t unit = 0;
    sqlite3_stmt *stmt = NULL;
    CHECK(sqlite3_prepare_v2(db, "SELECT id FROM org_unit WHERE code = 'pd-astana'", -1, &stmt, NULL) == SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW) unit = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    static const old_record olds[] = {
        {"offence", {"kind=criminal", "committed_on=2026-10-01", "victim_id=0190F0C2-1234-7000-8000-00000000AB01",
                     "erdr_no=  AB 12\t3 ", "registration_no=Kui\xc2\xa0" "№5", "kui_no=", "admin_register_no=X 1",
                     "place=Ул. Абая, 10 (кв 5)"}},
        {"offence", {"kind=criminal", "committed_on=2026-10-02", "erdr_no=ab123", "void_reason=entered twice",
                     "victim_id=0190f0c2-1234-7000-8000-00000000ab01", "place=Абая 10"}},
        {"offence", {"kind=administrative", "place=   "}},
        {"field_visit", {"visit_date=2026-10-03", "purpose=call_response", "risk_level=high",
                         "victim_id=0190f0c2-1234-7000-8000-00000000ab02", "address=ҚОНАЕВ КӨШЕСІ; 5",
                         "follow_up_date=2026-10-10"}},
        {"field_visit", {"visit_date=2026-10-04", "purpose=preventive_visit", "risk_level=low",
                         "victim_id=not-a-uuid", "address=Абая 10", "follow_up_date=2026-10-11"}},
        {"protective_measure", {"kind=protective_order", "issued_on=2026-10-01", "valid_until=2026-10-31",
                                "extended_until=2026-11-30"}},
        {"protective_measure", {"kind=protective_order", "issued_on=2026-10-01", "valid_until=2026-10-31",
                                "ended_on=2026-10-15", "breached=#1", "breached_on=2026-10-12"}},
        {"protective_measure", {"kind=protective_order", "issued_on=2026-10-05", "valid_until=2026-10-31",
                                "breached=#1"}},
        {"protective_measure", {"kind=protective_order", "issued_on=2026-10-05", "valid_until=2026-10-31",
                                "extended_until=", "breached=#0", "breached_on=2026-10-06"}},
        {"protective_measure", {"kind=preventive_talk", "issued_on=2026-10-05", "valid_until=2026-10-31",
                                "breached=#1"}},
        {"person", {"role=victim", "last_name=" SURNAME, "address=Абая 10"}},
    };
    for (size_t i = 0; i < sizeof olds / sizeof olds[0]; i++) insert_old(db, unit, (int64_t)i + 1, &olds[i]);
    sqlite3_close(db);
    /* Migrated to 008 as any start does. */
    dala_admin *admin = NULL;
    CHECK_OK(dala_admin_open(&admin, path));
    dala_admin_close(admin);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "SELECT data, tbl, reg_registration, reg_erdr, reg_kui, reg_erap, victim, report, "
                                 "place_key, due_on, breached_on FROM record ORDER BY seq",
                             -1, &stmt, NULL) == SQLITE_OK);
    size_t rows = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        char want[2048], got[2048];
        keys_text(want, got, sizeof want, stmt);
        if (strcmp(want, got)) test_fail(__FILE__, __LINE__, "row %zu: the backfill kept %s, a write keeps %s", rows, got, want);
        rows++;
    }
    sqlite3_finalize(stmt);
    CHECK_EQ_INT(rows, sizeof olds / sizeof olds[0]);
    /* What the write path keeps for the first rows, spelled out. */
    char *first = db_text(db, "SELECT reg_erdr || '|' || reg_registration || '|' || coalesce(reg_kui, '-') || '|' || "
                              "reg_erap || '|' || victim || '|' || place_key FROM record WHERE seq = 1");
    CHECK_EQ_STR(first, "ab123|kui№5|-|x1|0190f0c2-1234-7000-8000-00000000ab01|улабая10кв5");
    free(first);
    char *others = db_text(db, "SELECT group_concat(coalesce(due_on, '-') || '/' || coalesce(breached_on, '-'), ' ') "
                               "FROM (SELECT due_on, breached_on FROM record WHERE tbl = 'protective_measure' ORDER BY seq)");
    CHECK_EQ_STR(others, "2026-11-30/- -/2026-10-12 2026-10-31/2026-10-05 2026-10-31/- -/-");
    free(others);
    sqlite3_close(db);
}

const dala_test safety_tests[] = {
    {"safety_panel_lists_each_case_and_none_of_the_decoys", test_safety_panel_lists_each_case_and_none_of_the_decoys},
    {"safety_panel_keeps_to_the_scope", test_safety_panel_keeps_to_the_scope},
    {"safety_duplicate_numbers_show_on_both_records_and_are_never_refused",
     test_safety_duplicate_numbers_show_on_both_records_and_are_never_refused},
    {"safety_settling_a_conflict_moves_the_number", test_safety_settling_a_conflict_moves_the_number},
    {"safety_numbers_compare_without_case_and_spaces", test_safety_numbers_compare_without_case_and_spaces},
    {"safety_every_register_of_the_domain_has_a_column", test_safety_every_register_of_the_domain_has_a_column},
    {"safety_migration_backfill_keeps_what_a_write_keeps", test_safety_migration_backfill_keeps_what_a_write_keeps},
    {NULL, NULL},
};
