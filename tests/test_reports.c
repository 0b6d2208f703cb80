/* test_reports.c - the quarterly report notes (docs/reports.md) against
 * the real dala-server on 127.0.0.1:0, with the server's clock set by the
 * test. Tablets of units A and B of pd-astana write records dated in the
 * third quarter of 2026, in the same quarter of 2025, and just outside
 * both; every figure of every block of A's note is compared with a table
 * counted BY HAND from those records (never by the server's own code), and
 * B's with its own. Then: each figure traced back to the records it
 * counts; records that must not count (voided ones, a man's suicide, a
 * man's crime) and the new rules of schema 3 (catalogued articles, the
 * free text of an old tablet, persons counted once, the lifecycle of the
 * measures, what is not yet approved); a department's note adding up its units' filed notes; deadlines,
 * days left and late filings by the injected clock; the workflow (a
 * narrative, submitting freezes the figures, returning thaws them) and the
 * moves it refuses; the deputy's signature, which `verify` and `dala-server
 * verify-report` check, broken by any changed stored byte and kept by a
 * correction after signing; and the downloads (CSV, JSON, the printable
 * page, the chart). */
#include "e2e_support.h"
#include "supervisor.h"
#include "sdk_int.h" /* dala_device_schema_set: an old tablet of schema 2 */
#include "testhelp.h"
#include "web_client.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>

#define PASSWORD "Dala-test-2026"
#define ID_BYTES DALA_ID_TEXT_BYTES
#define MAX_NAMED 200
#define CLI_TIMEOUT_MS 20000
#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

/* ------------------------------------------------------------ JSON reads */

/* The shared reads (sql_text, count_of, count_where, member_where,
 * CHECK_JSON, CHECK_MEMBER, url_encode) are in e2e_support.h. */

/* The text at `path` is present and not empty. */
static void check_nonempty(const char *file, int line, const char *json, const char *path)
{
    char *got = json_get(json, path);
    if (!got || !got[0]) test_fail(file, line, "%s is empty or absent in %.300s", path, json ? json : "(null)");
    free(got);
}
#define CHECK_NONEMPTY(json, path) check_nonempty(__FILE__, __LINE__, (json), (path))

/* --------------------------------------------------- the central database */

/* Runs `sql` (?1 bound to `id`) on the server's database; returns the rows
 * it changed, -1 on failure. */
static int central_change(const harness *h, const char *sql, long long id)
{
    sqlite3 *db = central_open(h);
    sqlite3_stmt *stmt;
    int changed = -1;
    if (db && sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, id);
        if (sqlite3_step(stmt) == SQLITE_DONE) changed = sqlite3_changes(db);
        else test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
        sqlite3_finalize(stmt);
    } else if (db) {
        test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return changed;
}

/* Flips one bit in the middle of blob `column` of report_note `id` (twice
 * puts it back). Returns 0, or -1 (after a failed check) when there is no
 * such blob. */
static int flip_note_blob(const harness *h, const char *column, long long id)
{
    char select[160], update[160];
    snprintf(select, sizeof select, "SELECT %s FROM report_note WHERE id = ?1", column);
    snprintf(update, sizeof update, "UPDATE report_note SET %s = ?2 WHERE id = ?1", column);
    sqlite3 *db = central_open(h);
    sqlite3_stmt *stmt = NULL;
    uint8_t *blob = NULL;
    int len = 0, rc = -1;
    if (db && sqlite3_prepare_v2(db, select, -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, id);
        if (sqlite3_step(stmt) == SQLITE_ROW && (len = sqlite3_column_bytes(stmt, 0)) > 0 && (blob = malloc((size_t)len)))
            memcpy(blob, sqlite3_column_blob(stmt, 0), (size_t)len);
        sqlite3_finalize(stmt);
    }
    if (blob) {
        blob[len / 2] ^= 0x01;
        if (sqlite3_prepare_v2(db, update, -1, &stmt, NULL) == SQLITE_OK) {
            sqlite3_bind_int64(stmt, 1, id);
            sqlite3_bind_blob(stmt, 2, blob, len, SQLITE_STATIC);
            if (sqlite3_step(stmt) == SQLITE_DONE && sqlite3_changes(db) == 1) rc = 0;
            sqlite3_finalize(stmt);
        }
    }
    if (rc) test_fail(__FILE__, __LINE__, "report_note %lld has no %s to change", id, column);
    free(blob);
    sqlite3_close(db);
    return rc;
}

/* ------------------------------------------------------------- the world */

/* A record of the fixture, by the name the tables below give it. */
typedef struct named {
    char name[16];
    char id[ID_BYTES];
} named;

/* The server with pd-astana's units A and B (server_harness.c) and a unit
 * C of pd-astana that never files; pd-almaty-city's deputy, who must see
 * nothing of Astana; tablets a1, a2 of unit A and b1 of unit B (and, while
 * world_start writes its records, an old tablet of unit A). */
typedef struct world {
    harness h;     /* on the test's clock (harness_clock_set) */
    harness_tz tz; /* the process's TZ while the world runs in UTC */
    int64_t astana, almaty, unit_c;
    dala_store *tablet[4]; /* A_OLD only while world_start writes its records */
    supervisor head_a, head_b, deputy, analyst, inspector, almaty_deputy;
    named ids[MAX_NAMED];
    size_t id_count;
} world;

enum { A1 = 0, A2 = 1, B1 = 2, A_OLD = 3 };

static void world_stop(world *w)
{
    for (size_t i = 0; i < COUNT(w->tablet); i++) dala_store_close(w->tablet[i]);
    e2e_stop(&w->h);
    harness_tz_restore(&w->tz);
}

/* The id of the fixture's record `name`; "" (after a failed check) if
 * there is none. */
static const char *id_of(const world *w, const char *name)
{
    for (size_t i = 0; i < w->id_count; i++)
        if (strcmp(w->ids[i].name, name) == 0) return w->ids[i].id;
    test_fail(__FILE__, __LINE__, "no record named %s", name);
    return "";
}

static void name_id(world *w, const char *name, const char *id)
{
    if (w->id_count >= MAX_NAMED) {
        test_fail(__FILE__, __LINE__, "more than %d named records", MAX_NAMED);
        return;
    }
    named *n = &w->ids[w->id_count++];
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->id, sizeof n->id, "%s", id);
}

/* A template of the tables below as JSON: ' becomes ", and $NAME the id of
 * the record named NAME. */
static void expand(char *out, size_t size, const world *w, const char *template)
{
    size_t n = 0;
    for (const char *p = template; *p && n + 1 < size;) {
        if (*p == '\'') {
            out[n++] = '"';
            p++;
        } else if (*p == '$') {
            char name[16];
            size_t len = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_");
            snprintf(name, sizeof name, "%.*s", (int)len, p + 1);
            n += (size_t)snprintf(out + n, size - n, "%s", id_of(w, name));
            p += 1 + len;
        } else {
            out[n++] = *p++;
        }
    }
    out[n < size ? n : size - 1] = '\0';
}

/* One record a tablet writes. */
typedef struct fixture_record {
    int tablet; /* A1, A2, B1 or A_OLD */
    const char *name, *table, *json;
} fixture_record;

/* Writes `r` on its tablet and names its id. */
static void put_record(world *w, const fixture_record *r)
{
    char json[2048], id[ID_BYTES] = "";
    expand(json, sizeof json, w, r->json);
    int rc = dala_record_put(id, w->tablet[r->tablet], r->table, NULL, json);
    if (rc) test_fail(__FILE__, __LINE__, "%s (%s): %s", r->name, r->table, dala_errmsg());
    else name_id(w, r->name, id);
}

/* Syncs every tablet; nothing may be left to push or refused. */
static void sync_all(world *w)
{
    for (size_t i = 0; i < COUNT(w->tablet); i++)
        if (w->tablet[i]) sync_taken(w->tablet[i]);
}

/* =================================================== the records, by hand */

/* A questionnaire of the suite's own, small enough to count by hand: a
 * single choice, a multiple choice and a number (not counted). */
static const char report_form[] =
    "{\"code\": \"report-test\", \"version\": 1, \"kk\": \"Есеп сынағы\", \"ru\": \"Проверка отчёта\","
    " \"anonymous\": true, \"questions\": ["
    "{\"id\": \"q1\", \"type\": \"single\", \"required\": true, \"kk\": \"Көмек алдыңыз ба?\", \"ru\": \"Получали помощь?\","
    " \"options\": [{\"value\": \"yes\", \"kk\": \"Иә\", \"ru\": \"Да\"}, {\"value\": \"no\", \"kk\": \"Жоқ\", \"ru\": \"Нет\"}]},"
    " {\"id\": \"q2\", \"type\": \"multi\", \"kk\": \"Кім көмектесті?\", \"ru\": \"Кто помог?\", \"options\": ["
    "{\"value\": \"police\", \"kk\": \"Полиция\", \"ru\": \"Полиция\"}, {\"value\": \"ngo\", \"kk\": \"ҮЕҰ\", \"ru\": \"НПО\"},"
    " {\"value\": \"relatives\", \"kk\": \"Туыстар\", \"ru\": \"Родственники\"}]},"
    " {\"id\": \"q3\", \"type\": \"number\", \"kk\": \"Неше рет?\", \"ru\": \"Сколько раз?\", \"min\": 0, \"max\": 50}]}";

/* The records. "Now" is 2026 Q3 (1 July - 30 September), "last" 2025 Q3.
 * Names: C crimes now, L crimes last, D decoys outside both quarters, M
 * measures, S suicide checks, I interactions, FV visits, LA legal aid, R
 * survey responses; V victims, O offenders (O30: 30 on the day of C2, O17:
 * a day short of 18 on the day of C3), PS/PM the persons of the suicide
 * checks. Articles are catalogue ids in force on the day (schema 3: uk.109
 * ended in 2017, so C6 and L3 are uk.109-1; koap.73-1 ended in 2024, so A2
 * is koap.461). world_start then voids CV and FVV (voided_names), writes
 * the records of an old tablet of schema 2 (old_tablet_fixture), and
 * decides three records (decisions: C1, L1 and FV2 approved, C2
 * returned). The counts each record gives are in the tables after this
 * one. */
static const fixture_record fixture[] = {
    /* --- people of unit A (undated, counted through what names them) */
    {A1, "V1", "person", "{'role':'victim','last_name':'Серікова','first_name':'Айгерім','sex':'female','birth_date':'1995-04-02','victim_categories':'pregnant,disabled'}"},
    {A1, "V2", "person", "{'role':'victim','last_name':'Жұмабаева','first_name':'Аружан','sex':'female','birth_date':'2010-02-01','victim_categories':'minor'}"},
    {A1, "V3", "person", "{'role':'victim','last_name':'Қасымова','first_name':'Гүлнар','sex':'female','birth_date':'1988-11-30','victim_categories':'single_mother'}"},
    {A1, "VM", "person", "{'role':'victim','last_name':'Оспанов','first_name':'Ерлан','sex':'male','birth_date':'1950-01-01','victim_categories':'elderly'}"},
    {A1, "O45", "person", "{'role':'offender','last_name':'Серіков','first_name':'Бауыржан','sex':'male','birth_date':'1981-01-20'}"},
    {A1, "O30", "person", "{'role':'offender','last_name':'Ахметов','first_name':'Дәурен','sex':'male','birth_date':'1996-08-14'}"},
    {A1, "O17", "person", "{'role':'offender','last_name':'Жұмабаев','first_name':'Нұрсұлтан','sex':'male','birth_date':'2008-09-11'}"},
    {A1, "O25", "person", "{'role':'offender','last_name':'Әлиев','first_name':'Арман','sex':'male','birth_date':'2000-03-03'}"},
    {A1, "ONB", "person", "{'role':'offender','last_name':'Қасымов','first_name':'Марат','sex':'male'}"},
    {A1, "O55", "person", "{'role':'offender','last_name':'Бекенов','first_name':'Серік','sex':'male','birth_date':'1970-07-01'}"},
    {A1, "O62", "person", "{'role':'offender','last_name':'Омаров','first_name':'Ғалым','sex':'male','birth_date':'1963-05-05'}"},

    /* --- criminal offences, now */
    {A1, "C1", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.106','committed_on':'2026-07-15','victim_id':'$V1','offender_id':'$O45','relationship':'spouse','causes':'alcohol,jealousy','offender_alcohol':1,'offender_prior_record':1,'offender_employment':'unemployed','outcome':'under_investigation','violence_types':'physical,psychological','children_involved':'witnessed'}"},
    {A1, "C2", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.120','committed_on':'2026-08-14','victim_id':'$V1','offender_id':'$O30','relationship':'cohabitant','causes':'household_conflict','offender_alcohol':0,'offender_prior_record':0,'offender_employment':'employed','outcome':'sent_to_court','violence_types':'sexual','children_involved':'none'}"},
    {A1, "C3", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.120','committed_on':'2026-09-10','victim_id':'$V2','offender_id':'$O17','relationship':'sibling','causes':'other','offender_employment':'student','outcome':'convicted','violence_types':'sexual,physical','children_involved':'present','erdr_no':'262100031000512'}"},
    {A1, "C4", "offence", "{'kind':'criminal','sphere':'other','article':'uk.106','committed_on':'2026-07-20','victim_id':'$V3','offender_id':'$O25','relationship':'acquaintance','causes':'alcohol','offender_alcohol':1,'offender_employment':'self_employed','outcome':'under_investigation','violence_types':'physical','erdr_no':' 262100031000512'}"},
    {A1, "C5", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.108-1','committed_on':'2026-09-30','victim_id':'$V3','relationship':'stranger'}"},
    {A1, "C6", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.109-1','committed_on':'2026-07-01','victim_id':'$V3','offender_id':'$ONB','relationship':'parent','causes':'alcohol,household_conflict','offender_prior_record':1,'offender_employment':'pensioner','outcome':'closed_reconciliation','violence_types':'economic','children_involved':'witnessed'}"},
    /* a man's: counts nowhere */
    {A1, "CM", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.106','committed_on':'2026-08-01','victim_id':'$VM','offender_id':'$O45','relationship':'spouse','causes':'drugs','offender_alcohol':1,'offender_prior_record':1,'offender_employment':'other','outcome':'convicted','violence_types':'physical','children_involved':'witnessed'}"},
    /* voided by world_start: counts nowhere; every value it has would show
     * (uk.110, O62 among the offenders now, other_relative, ...) */
    {A1, "CV", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.110','committed_on':'2026-08-30','victim_id':'$V1','offender_id':'$O62','relationship':'other_relative','causes':'financial_dispute','offender_alcohol':1,'offender_prior_record':1,'offender_employment':'other','outcome':'closed_other','violence_types':'economic','children_involved':'present'}"},
    /* --- criminal offences, last */
    {A1, "L1", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.106','committed_on':'2025-08-20','victim_id':'$V1','offender_id':'$O25','relationship':'spouse','causes':'alcohol','offender_alcohol':1,'offender_employment':'unemployed','outcome':'convicted','violence_types':'physical','children_involved':'present'}"},
    {A1, "L2", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.120','committed_on':'2025-07-10','victim_id':'$V3','offender_id':'$O55','relationship':'former_spouse','causes':'jealousy','offender_prior_record':1,'outcome':'sent_to_court'}"},
    {A1, "L3", "offence", "{'kind':'criminal','sphere':'other','article':'uk.109-1','committed_on':'2025-09-01','victim_id':'$V2','offender_id':'$O62','relationship':'in_law','outcome':'closed_other','violence_types':'psychological'}"},
    {A1, "LM", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.120','committed_on':'2025-09-15','victim_id':'$VM','offender_id':'$O55','relationship':'spouse','causes':'drugs','outcome':'convicted'}"},
    /* --- decoys a day outside each quarter, with values nothing else has */
    {A1, "D1", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.106','committed_on':'2026-06-30','victim_id':'$V1','offender_id':'$O45','relationship':'former_cohabitant','causes':'mental_disorder,unemployment','offender_alcohol':1,'offender_prior_record':1,'offender_employment':'other','outcome':'closed_other','violence_types':'economic','children_involved':'present'}"},
    {A1, "D2", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.106','committed_on':'2026-10-01','victim_id':'$V1','offender_id':'$O45','relationship':'former_cohabitant','causes':'mental_disorder,unemployment','offender_alcohol':1,'offender_prior_record':1,'offender_employment':'other','outcome':'closed_other','violence_types':'economic','children_involved':'present'}"},
    {A1, "D3", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.106','committed_on':'2025-10-01','victim_id':'$V1','offender_id':'$O45','relationship':'former_cohabitant','causes':'mental_disorder,unemployment','offender_alcohol':1,'offender_prior_record':1,'offender_employment':'other','outcome':'closed_other','violence_types':'economic','children_involved':'present'}"},
    {A1, "D4", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.106','committed_on':'2025-06-30','victim_id':'$V1','offender_id':'$O45','relationship':'former_cohabitant','causes':'mental_disorder,unemployment','offender_alcohol':1,'offender_prior_record':1,'offender_employment':'other','outcome':'closed_other','violence_types':'economic','children_involved':'present'}"},

    /* --- administrative offences. AO (koap.434, of another sphere) does not
     * count; AF, of another sphere too, counts: koap.461 is itself about
     * family-domestic relations. A2 is M2's breach. */
    {A1, "A1", "offence", "{'kind':'administrative','sphere':'family_domestic','article':'koap.73','committed_on':'2026-07-05','victim_id':'$V1','offender_id':'$O45','relationship':'spouse','outcome':'admin_fine','violence_types':'psychological'}"},
    {A1, "A2", "offence", "{'kind':'administrative','sphere':'family_domestic','article':'koap.461','committed_on':'2026-09-01','victim_id':'$V3','offender_id':'$O30','outcome':'admin_arrest','violence_types':'physical,psychological'}"},
    {A1, "A3", "offence", "{'kind':'administrative','sphere':'family_domestic','article':'koap.73','committed_on':'2026-09-12','victim_id':'$V1','outcome':'admin_fine'}"},
    {A1, "AF", "offence", "{'kind':'administrative','sphere':'other','article':'koap.461','committed_on':'2026-09-05','victim_id':'$V3','offender_id':'$O45','outcome':'admin_fine','violence_types':'psychological'}"},
    {A1, "AO", "offence", "{'kind':'administrative','sphere':'other','article':'koap.434','committed_on':'2026-08-11','victim_id':'$V3','outcome':'admin_warning','violence_types':'sexual'}"},
    {A1, "AD", "offence", "{'kind':'administrative','sphere':'family_domestic','article':'koap.73','committed_on':'2026-10-01','victim_id':'$V1','offender_id':'$O62','outcome':'admin_warning','violence_types':'economic'}"},
    {A1, "AL1", "offence", "{'kind':'administrative','sphere':'family_domestic','article':'koap.73','committed_on':'2025-07-25','victim_id':'$V3','offender_id':'$O55','outcome':'pending','violence_types':'physical'}"},

    /* --- protective measures. M8: issued in Q2, breached in Q3. M9:
     * breached in Q3 but issued more than a year before it (in force at
     * the end of both quarters). M1 runs out on 16 August (expired, not
     * in force on 30 September); M2 is served, extended past the quarter
     * (in force) and its breach is the offence A2; MEE ends early, MX
     * ends as expired; MD3, issued in Q2, is in force on 30 September. O25
     * is on preventive registration twice (M4, MR2: one person), O30's
     * registration MRX is removed before the quarter's end, and O55's ML5
     * stands on 30 September 2025 and is removed before 2026's. ONB's MRT
     * ran to 1 September but was neither removed nor ended: a person stays
     * on the register until removed (the removal reason term_expired is how
     * a term ends it; docs/reports.md names no term for measures.registered,
     * unlike measures.in_force). */
    {A1, "M1", "protective_measure", "{'kind':'protective_order','person_id':'$O45','issued_on':'2026-07-16','valid_until':'2026-08-16','served_on':'2026-07-17'}"},
    {A1, "M2", "protective_measure", "{'kind':'protective_order','person_id':'$O30','issued_on':'2026-08-15','valid_until':'2026-09-15','breached':1,'breached_on':'2026-09-01','served_on':'2026-08-15','extended_until':'2026-10-15','breach_offence_id':'$A2'}"},
    {A1, "M3", "protective_measure", "{'kind':'special_requirements','person_id':'$O30','issued_on':'2026-08-20','valid_until':'2026-11-20','requirements':'Жәбірленушіге жақындамау','breached':1,'breached_on':'2026-09-05','court':'Астана қаласы Есіл аудандық соты','act_date':'2026-08-19','term_months':3}"},
    {A1, "M4", "protective_measure", "{'kind':'preventive_registration','person_id':'$O25','issued_on':'2026-07-21','grounds':'Отбасындағы қайталанған жанжал'}"},
    {A1, "M5", "protective_measure", "{'kind':'administrative_detention','person_id':'$O45','issued_on':'2026-07-15','detention_hours':3}"},
    {A1, "M6", "protective_measure", "{'kind':'referral','person_id':'$V1','issued_on':'2026-07-16','referral_to':'crisis_centre'}"},
    {A1, "M7", "protective_measure", "{'kind':'preventive_talk','person_id':'$O17','issued_on':'2026-09-11'}"},
    {A1, "M8", "protective_measure", "{'kind':'protective_order','person_id':'$O45','issued_on':'2026-05-10','valid_until':'2026-11-10','breached':1,'breached_on':'2026-08-03'}"},
    {A1, "M9", "protective_measure", "{'kind':'protective_order','person_id':'$O45','issued_on':'2025-03-01','valid_until':'2026-12-31','breached':1,'breached_on':'2026-08-20'}"},
    {A1, "M10", "protective_measure", "{'kind':'referral','person_id':'$V3','issued_on':'2026-09-02','referral_to':'lawyer'}"},
    {A1, "MEE", "protective_measure", "{'kind':'protective_order','person_id':'$O17','issued_on':'2026-07-05','valid_until':'2026-10-05','served_on':'2026-07-06','ended_on':'2026-08-01','end_reason':'ended_early'}"},
    {A1, "MX", "protective_measure", "{'kind':'special_requirements','person_id':'$O55','issued_on':'2026-07-01','valid_until':'2026-07-31','requirements':'Ішімдік ішпеу','court':'Астана қаласы Есіл аудандық соты','act_date':'2026-06-30','term_months':1,'ended_on':'2026-07-31','end_reason':'expired'}"},
    {A1, "MR2", "protective_measure", "{'kind':'preventive_registration','person_id':'$O25','issued_on':'2026-08-01','grounds':'Қорғау нұсқамасын бұзу'}"},
    {A1, "MRX", "protective_measure", "{'kind':'preventive_registration','person_id':'$O30','issued_on':'2026-07-03','grounds':'Отбасындағы жанжал','removed_on':'2026-09-01','removal_reason':'behaviour_corrected'}"},
    {A1, "MRT", "protective_measure", "{'kind':'preventive_registration','person_id':'$ONB','issued_on':'2026-03-01','valid_until':'2026-09-01','grounds':'Отбасындағы жанжал'}"},
    {A1, "MD1", "protective_measure", "{'kind':'preventive_talk','person_id':'$O45','issued_on':'2026-06-30','referral_to':'crisis_centre'}"},
    {A1, "MD2", "protective_measure", "{'kind':'preventive_talk','person_id':'$O45','issued_on':'2026-10-01'}"},
    {A1, "MD3", "protective_measure", "{'kind':'protective_order','person_id':'$O45','issued_on':'2026-06-01','valid_until':'2026-12-01','breached':1,'breached_on':'2026-10-01'}"},
    {A1, "ML1", "protective_measure", "{'kind':'protective_order','person_id':'$O25','issued_on':'2025-08-01','valid_until':'2025-09-01','breached':1,'breached_on':'2025-08-15'}"},
    {A1, "ML2", "protective_measure", "{'kind':'preventive_talk','person_id':'$O55','issued_on':'2025-07-11'}"},
    {A1, "ML3", "protective_measure", "{'kind':'referral','person_id':'$V3','issued_on':'2025-09-02','referral_to':'crisis_centre'}"},
    {A1, "ML4", "protective_measure", "{'kind':'protective_order','person_id':'$O55','issued_on':'2025-06-20','valid_until':'2025-12-20','breached':1,'breached_on':'2025-07-05'}"},
    {A1, "ML5", "protective_measure", "{'kind':'preventive_registration','person_id':'$O55','issued_on':'2025-05-10','grounds':'Отбасындағы жанжал','removed_on':'2026-03-01','removal_reason':'moved_away'}"},

    /* --- legal aid */
    {A1, "LA1", "legal_aid", "{'given_on':'2026-07-08','channel':'in_person','topic':'domestic_violence','aid_kind':'legal','referral':'crisis_centre','is_anonymous':0,'person_id':'$V1'}"},
    {A1, "LA2", "legal_aid", "{'given_on':'2026-08-09','channel':'phone','topic':'divorce_alimony','aid_kind':'psychological','referral':'none','is_anonymous':1}"},
    {A1, "LA3", "legal_aid", "{'given_on':'2026-09-10','channel':'online','topic':'domestic_violence','aid_kind':'both','referral':'lawyer','is_anonymous':1}"},
    {A1, "LA4", "legal_aid", "{'given_on':'2026-09-29','channel':'phone','topic':'protective_order','aid_kind':'legal','is_anonymous':0}"},
    {A1, "LAL1", "legal_aid", "{'given_on':'2025-07-08','channel':'phone','topic':'domestic_violence','aid_kind':'legal','referral':'crisis_centre','is_anonymous':1}"},
    {A1, "LAD1", "legal_aid", "{'given_on':'2026-10-01','channel':'phone','topic':'child_custody','aid_kind':'legal','referral':'crisis_centre','is_anonymous':1}"},
    {A1, "LAD2", "legal_aid", "{'given_on':'2025-06-30','channel':'online','topic':'employment','aid_kind':'legal','referral':'ngo','is_anonymous':1}"},

    /* --- suicide checks, on the other tablet of unit A, with its persons.
     * Block 3 counts women: S1-S3 and SL1 are checks of women (a check
     * without a known person would count only as sex_unknown); SM's
     * person is a man (counted nowhere); SU names nobody (counted only
     * under suicides.sex_unknown). */
    {A2, "PS1", "person", "{'role':'victim','last_name':'Омарова','first_name':'Жанар','sex':'female','birth_date':'1990-10-10'}"},
    {A2, "PS2", "person", "{'role':'victim','last_name':'Исаева','first_name':'Мадина','sex':'female','birth_date':'2004-04-04'}"},
    {A2, "PM", "person", "{'role':'other','last_name':'Нұрланов','first_name':'Асхат','sex':'male','birth_date':'1985-05-05'}"},
    {A2, "S1", "suicide_check", "{'kind':'completed','event_date':'2026-07-03','person_id':'$PS1','signs_of_violence':1,'incitement_found':1,'outcome':'case_opened'}"},
    {A2, "S2", "suicide_check", "{'kind':'attempt','event_date':'2026-08-08','person_id':'$PS2','signs_of_violence':0,'incitement_found':0,'outcome':'case_refused'}"},
    {A2, "S3", "suicide_check", "{'kind':'attempt','event_date':'2026-09-09','person_id':'$PS2','signs_of_violence':1,'outcome':'under_check'}"},
    {A2, "SM", "suicide_check", "{'kind':'completed','event_date':'2026-08-18','person_id':'$PM','signs_of_violence':1,'incitement_found':1,'outcome':'case_opened'}"},
    {A2, "SU", "suicide_check", "{'kind':'attempt','event_date':'2026-09-20','signs_of_violence':1,'incitement_found':1,'outcome':'under_check'}"},
    {A2, "SL1", "suicide_check", "{'kind':'attempt','event_date':'2025-08-08','person_id':'$PS2','signs_of_violence':0,'outcome':'case_refused'}"},
    {A2, "SD1", "suicide_check", "{'kind':'completed','event_date':'2026-10-01','signs_of_violence':1,'incitement_found':1,'outcome':'case_opened'}"},
    {A2, "SD2", "suicide_check", "{'kind':'completed','event_date':'2025-06-30','signs_of_violence':1,'incitement_found':1,'outcome':'case_opened'}"},

    /* --- interactions of every kind */
    {A2, "I_SB1", "interaction", "{'held_on':'2026-07-07','kind':'state_body','topic':'Әкімдікпен кеңес'}"},
    {A2, "I_SB2", "interaction", "{'held_on':'2026-08-08','kind':'state_body','topic':'Прокуратурамен кездесу'}"},
    {A2, "I_SBL", "interaction", "{'held_on':'2025-07-07','kind':'state_body','topic':'Әкімдікпен кеңес'}"},
    {A2, "I_NGO", "interaction", "{'held_on':'2026-09-09','kind':'ngo','topic':'ҮЕҰ-мен дөңгелек үстел'}"},
    {A2, "I_PA", "interaction", "{'held_on':'2026-09-19','kind':'public_association','topic':'Аналар кеңесі'}"},
    {A2, "I_CC1", "interaction", "{'held_on':'2026-07-17','kind':'crisis_centre','topic':'Орналастыру'}"},
    {A2, "I_CC2", "interaction", "{'held_on':'2026-09-17','kind':'crisis_centre','topic':'Орналастыру'}"},
    {A2, "I_CCL", "interaction", "{'held_on':'2025-09-17','kind':'crisis_centre','topic':'Орналастыру'}"},
    {A2, "I_PU", "interaction", "{'held_on':'2026-08-21','kind':'police_unit','topic':'Учаскелік полиция'}"},
    {A2, "I_PUL1", "interaction", "{'held_on':'2025-07-21','kind':'police_unit','topic':'Учаскелік полиция'}"},
    {A2, "I_PUL2", "interaction", "{'held_on':'2025-09-21','kind':'police_unit','topic':'Кәмелетке толмағандар ісі'}"},
    {A2, "I_CR", "interaction", "{'held_on':'2026-07-22','kind':'cause_removal','topic':'Ұсыныс енгізілді'}"},
    {A2, "I_MR", "interaction", "{'held_on':'2026-08-22','kind':'media_response','topic':'Жарияланымға жауап'}"},
    {A2, "I_TR1", "interaction", "{'held_on':'2026-07-23','kind':'training','topic':'Қорғау нұсқамалары'}"},
    {A2, "I_TR2", "interaction", "{'held_on':'2026-09-23','kind':'training','topic':'Қауіпті бағалау'}"},
    {A2, "I_TRL", "interaction", "{'held_on':'2025-08-23','kind':'training','topic':'Қорғау нұсқамалары'}"},
    {A2, "I_PT", "interaction", "{'held_on':'2026-08-24','kind':'public_talk','topic':'Теледидарда сөз сөйлеу'}"},
    {A2, "I_IC", "interaction", "{'held_on':'2026-09-24','kind':'info_campaign','topic':'Парақшалар'}"},
    {A2, "I_LP", "interaction", "{'held_on':'2026-09-25','kind':'legislative_proposal','topic':'Заңға түзету'}"},
    {A2, "I_D1", "interaction", "{'held_on':'2026-06-30','kind':'state_body','topic':'Тыс'}"},
    {A2, "I_D2", "interaction", "{'held_on':'2026-10-01','kind':'crisis_centre','topic':'Тыс'}"},
    {A2, "I_D3", "interaction", "{'held_on':'2025-10-01','kind':'police_unit','topic':'Тыс'}"},
    {A2, "I_D4", "interaction", "{'held_on':'2025-06-30','kind':'training','topic':'Тыс'}"},

    /* --- field visits */
    {A2, "FV1", "field_visit", "{'visit_date':'2026-07-02','purpose':'preventive_visit','risk_level':'low','violence_types':'psychological','children_involved':'none'}"},
    {A2, "FV2", "field_visit", "{'visit_date':'2026-08-02','purpose':'protective_order_check','risk_level':'high','referral':'crisis_centre','violence_types':'physical,psychological','children_involved':'witnessed'}"},
    {A2, "FV3", "field_visit", "{'visit_date':'2026-09-02','purpose':'call_response','risk_level':'high','violence_types':'physical','children_involved':'present'}"},
    {A2, "FV4", "field_visit", "{'visit_date':'2026-09-30','purpose':'follow_up_visit','risk_level':'medium','referral':'psychologist'}"},
    {A2, "FVL1", "field_visit", "{'visit_date':'2025-08-02','purpose':'preventive_visit','risk_level':'high','referral':'crisis_centre','violence_types':'economic','children_involved':'present'}"},
    {A2, "FVL2", "field_visit", "{'visit_date':'2025-09-02','purpose':'registration_check','risk_level':'low'}"},
    {A2, "FVD1", "field_visit", "{'visit_date':'2026-06-30','purpose':'call_response','risk_level':'high','referral':'crisis_centre'}"},
    {A2, "FVD2", "field_visit", "{'visit_date':'2026-10-01','purpose':'call_response','risk_level':'high','violence_types':'sexual','children_involved':'witnessed'}"},
    /* voided by world_start: a registration check (none now), of high risk,
     * referred to a crisis centre, with sexual violence: it would show in
     * each of those */
    {A2, "FVV", "field_visit", "{'visit_date':'2026-08-25','purpose':'registration_check','risk_level':'high','referral':'crisis_centre','violence_types':'sexual','children_involved':'witnessed'}"},
    {A2, "FVD3", "field_visit", "{'visit_date':'2025-10-01','purpose':'preventive_visit','risk_level':'high','referral':'crisis_centre'}"},

    /* --- survey responses: the suite's form and the shipped one (v1_no's answers of test_survey.c) */
    {A2, "R1", "survey_response", "{'form_id':'$FORM_T','collected_on':'2026-07-10','settlement_type':'urban','answers':{'q1':'yes','q2':['police','ngo'],'q3':2}}"},
    {A2, "R2", "survey_response", "{'form_id':'$FORM_T','collected_on':'2026-08-10','settlement_type':'rural','answers':{'q1':'no','q2':['ngo']}}"},
    {A2, "R3", "survey_response", "{'form_id':'$FORM_T','collected_on':'2026-09-10','answers':{'q1':'yes'}}"},
    {A2, "R4", "survey_response", "{'form_id':'$FORM_V1','collected_on':'2026-09-11','settlement_type':'rural','answers':{'q1':'age_25_34','q2':'village','q3':'married','q4':'higher','q5':'homemaker','q6':3,'q7':'no','q17':'heard','q18':'both','q19':4}}"},
    {A2, "RL1", "survey_response", "{'form_id':'$FORM_T','collected_on':'2025-08-10','settlement_type':'urban','answers':{'q1':'no','q2':['relatives']}}"},
    {A2, "RD1", "survey_response", "{'form_id':'$FORM_T','collected_on':'2026-10-01','settlement_type':'urban','answers':{'q1':'yes','q2':['police']}}"},
    {A2, "RD2", "survey_response", "{'form_id':'$FORM_T','collected_on':'2026-06-30','settlement_type':'rural','answers':{'q1':'no'}}"},

    /* --- unit B */
    {B1, "PB1", "person", "{'role':'victim','last_name':'Ахметова','first_name':'Дина','sex':'female','birth_date':'1992-06-06','victim_categories':'migrant'}"},
    {B1, "OB1", "person", "{'role':'offender','last_name':'Ахметов','first_name':'Нұрлан','sex':'male','birth_date':'1990-02-02'}"},
    {B1, "CB1", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.106','committed_on':'2026-08-05','victim_id':'$PB1','offender_id':'$OB1','relationship':'spouse','causes':'jealousy','offender_employment':'employed','outcome':'under_investigation','violence_types':'physical,psychological','children_involved':'witnessed'}"},
    {B1, "CB2", "offence", "{'kind':'criminal','sphere':'family_domestic','article':'uk.107','committed_on':'2025-08-05','victim_id':'$PB1','relationship':'child'}"},
    {B1, "FVB1", "field_visit", "{'visit_date':'2026-07-12','purpose':'call_response','risk_level':'high','violence_types':'physical','children_involved':'present'}"},
    {B1, "IB1", "interaction", "{'held_on':'2025-08-12','kind':'state_body','topic':'Әкімдікпен кеңес'}"},
    {B1, "LAB1", "legal_aid", "{'given_on':'2026-08-12','channel':'phone','topic':'domestic_violence','aid_kind':'legal','referral':'crisis_centre','is_anonymous':1}"},
};

/* The records of an old tablet of unit A, which declares schema 2 (before
 * the article catalogue): its articles are free text, kept as written and
 * counted as "not_catalogued". Its records count like any other: a crime
 * of 2025 Q3 whose victim has no birth date (victim age unknown) and an
 * administrative offence of 2026 Q3 under an article that had ended
 * (73-1, refused from a tablet of schema 3). */
static const fixture_record old_tablet_fixture[] = {
    {A_OLD, "VO", "person", "{'role':'victim','last_name':'Бекова','first_name':'Сәуле','sex':'female','victim_categories':'large_family'}"},
    {A_OLD, "CO1", "offence", "{'kind':'criminal','sphere':'family_domestic','article':' 109 ','committed_on':'2025-08-05','victim_id':'$VO','relationship':'spouse','outcome':'convicted'}"},
    {A_OLD, "AOO1", "offence", "{'kind':'administrative','sphere':'family_domestic','article':'73-1','committed_on':'2026-08-20','victim_id':'$VO','outcome':'admin_warning'}"},
};

/* Voided on their tablets after their first sync (a put of void_reason):
 * they count nowhere. */
static const char *const voided_names[] = {"CV", "FVV"};

/* Decided through the review route by unit A's head after the sync:
 * approved records leave not_approved.N, a returned one stays in it. */
static const struct {
    const char *name, *body;
} decisions[] = {
    {"C1", "{\"decision\": \"approve\"}"},
    {"L1", "{\"decision\": \"approve\"}"},
    {"FV2", "{\"decision\": \"approve\"}"},
    {"C2", "{\"decision\": \"return\", \"comment\": \"Жасалған орнын жазыңыз.\"}"},
};

/* A crime written on unit A's first tablet after its note was filed. */
static const fixture_record late_crime = {
    A1, "C7", "offence",
    "{'kind':'criminal','sphere':'family_domestic','article':'uk.106','committed_on':'2026-08-25','victim_id':'$V1','offender_id':'$O45','relationship':'spouse','causes':'alcohol','offender_employment':'unemployed','outcome':'under_investigation'}"};

/* One figure as counted by hand: block, group, value ("" a total), and the
 * counts for 2026 Q3 (now) and 2025 Q3 (last). */
typedef struct hand_figure {
    int block;
    const char *group, *value;
    long long now, last;
} hand_figure;

/* The breakdown rows listed even at zero because the Rules name them
 * (docs/reports.md); totals are always listed too. New with schema 3: the
 * orders and requirements in force at the quarter's end. */
static const struct {
    int block;
    const char *group, *value;
} named_rows[] = {
    {2, "measures", "protective_order"}, {2, "measures", "special_requirements"},
    {2, "measures", "preventive_registration"}, {2, "measures", "administrative_detention"},
    {2, "measures.breached", "protective_order"}, {2, "measures.in_force", "protective_order"},
    {2, "measures.in_force", "special_requirements"}, {3, "suicides", "completed"}, {3, "suicides", "attempt"},
    {4, "interactions", "state_body"}, {4, "interactions", "ngo"}, {4, "interactions", "public_association"},
    {5, "prevention", "cause_removal"}, {6, "crisis.referrals", "field_visit"},
    {6, "crisis.referrals", "protective_measure"}, {6, "crisis.referrals", "legal_aid"}, {7, "aid.kind", "legal"},
    {7, "aid.kind", "psychological"}, {7, "aid.kind", "both"},
};

static int is_named_row(int block, const char *group, const char *value)
{
    for (size_t i = 0; i < sizeof named_rows / sizeof named_rows[0]; i++)
        if (named_rows[i].block == block && !strcmp(named_rows[i].group, group) && !strcmp(named_rows[i].value, value))
            return 1;
    return 0;
}

/* Unit A's note for 2026 Q3, from the fixture above, figure by figure.
 * Changed with schema 3: articles are catalogue ids (or not_catalogued);
 * the old tablet's CO1 adds to last year's crimes and AOO1 to this year's
 * administrative offences; A2 is koap.461 and AF counts by its article;
 * every block has not_approved.N; suicide checks count women only. */
static const hand_figure unit_a_figures[] = {
    /* crimes: C1-C6 (not CM: its victim is a man; not CV: voided; D1-D4
     * are outside) / L1-L3 and the old tablet's CO1 (not LM, a man's) */
    {1, "crimes", "", 6, 4},
    {1, "crimes.family_domestic", "", 5, 3},     /* all but C4 (of another sphere) / L1, L2, CO1 */
    {1, "crimes.article", "uk.106", 2, 1},       /* C1, C4 / L1 */
    {1, "crimes.article", "uk.120", 2, 1},       /* C2, C3 / L2 */
    {1, "crimes.article", "uk.108-1", 1, 0},     /* C5 */
    {1, "crimes.article", "uk.109-1", 1, 1},     /* C6 / L3 (uk.109 ended in 2017) */
    {1, "crimes.article", "not_catalogued", 0, 1}, /* CO1's free text " 109 ", from the old tablet */
    {1, "crimes.violence_type", "physical", 3, 1},      /* C1, C3, C4 / L1 */
    {1, "crimes.violence_type", "psychological", 1, 1}, /* C1 / L3 */
    {1, "crimes.violence_type", "sexual", 2, 0},        /* C2, C3 */
    {1, "crimes.violence_type", "economic", 1, 0},      /* C6 (not CV, voided; not CM, a man's) */
    {1, "crimes.children", "witnessed", 2, 0},          /* C1, C6 (not CM) */
    {1, "crimes.children", "present", 1, 1},            /* C3 / L1; C2's "none" is never listed */
    {1, "crimes.offenders", "", 5, 3}, /* O45, O30, O17, O25, ONB (C5 names none; not CV's O62) / O25, O55, O62 */
    {1, "crimes.offender_age", "under_18", 1, 0}, /* C3: O17 is a day short of 18 */
    {1, "crimes.offender_age", "18_29", 1, 1},    /* C4: O25 is 26 / L1: O25 is 25 */
    {1, "crimes.offender_age", "30_39", 1, 0},    /* C2: O30 is 30 that day */
    {1, "crimes.offender_age", "40_49", 1, 0},    /* C1: O45 is 45 */
    {1, "crimes.offender_age", "50_59", 0, 1},    /* L2: O55 is 55 */
    {1, "crimes.offender_age", "60_plus", 0, 1},  /* L3: O62 is 62 */
    {1, "crimes.offender_age", "unknown", 2, 1},  /* C5 without an offender, C6's without a birth date / CO1 without one */
    {1, "crimes.relationship", "spouse", 1, 2},   /* C1 / L1, CO1 */
    {1, "crimes.relationship", "cohabitant", 1, 0},
    {1, "crimes.relationship", "sibling", 1, 0},
    {1, "crimes.relationship", "acquaintance", 1, 0},
    {1, "crimes.relationship", "stranger", 1, 0},
    {1, "crimes.relationship", "parent", 1, 0},
    {1, "crimes.relationship", "former_spouse", 0, 1},
    {1, "crimes.relationship", "in_law", 0, 1},
    {1, "crimes.offender_employment", "unemployed", 1, 1},
    {1, "crimes.offender_employment", "employed", 1, 0},
    {1, "crimes.offender_employment", "student", 1, 0},
    {1, "crimes.offender_employment", "self_employed", 1, 0},
    {1, "crimes.offender_employment", "pensioner", 1, 0},
    {1, "crimes.offender_alcohol", "", 2, 1},        /* C1, C4 / L1 */
    {1, "crimes.offender_prior_record", "", 2, 1},   /* C1, C6 / L2 */
    /* V1 is the victim of C1 and C2 and V3 of C4, C5 and C6: each once / V1, V3, V2 and the old tablet's VO */
    {1, "crimes.victims", "", 3, 4},
    {1, "crimes.victim_age", "under_18", 1, 1},      /* C3: V2 is 16 / L3: V2 is 15 */
    {1, "crimes.victim_age", "30_39", 5, 2},         /* C1, C2: V1 is 31; C4-C6: V3 is 37 / L1: V1 is 30; L2: V3 is 36 */
    {1, "crimes.victim_age", "unknown", 0, 1},       /* CO1: VO has no birth date */
    {1, "crimes.victim_category", "pregnant", 2, 1}, /* V1 in C1, C2 / L1 */
    {1, "crimes.victim_category", "disabled", 2, 1},
    {1, "crimes.victim_category", "minor", 1, 1},         /* V2 in C3 / L3 */
    {1, "crimes.victim_category", "single_mother", 3, 1}, /* V3 in C4, C5, C6 / L2 */
    {1, "crimes.victim_category", "large_family", 0, 1},  /* VO in CO1 */
    {1, "crimes.cause", "alcohol", 3, 1},                 /* C1, C4, C6 / L1 */
    {1, "crimes.cause", "jealousy", 1, 1},
    {1, "crimes.cause", "household_conflict", 2, 0},      /* C2, C6 */
    {1, "crimes.cause", "other", 1, 0},
    {1, "crimes.outcome", "under_investigation", 2, 0},   /* C1, C4 */
    {1, "crimes.outcome", "sent_to_court", 1, 1},
    {1, "crimes.outcome", "convicted", 1, 2},             /* C3 / L1, CO1 */
    {1, "crimes.outcome", "closed_reconciliation", 1, 0},
    {1, "crimes.outcome", "closed_other", 0, 1},
    {1, "not_approved.1", "", 5, 3}, /* C2 (returned) to C6, not C1 (approved) / L2, L3, CO1, not L1 (approved) */

    /* A1-A3, AF (koap.461 is family-domestic, though AF's sphere is not)
     * and the old tablet's AOO1 (not AO: koap.434, of another sphere) / AL1 */
    {2, "admin_offences", "", 5, 1},
    {2, "admin_offences.article", "koap.73", 2, 1},        /* A1, A3 / AL1 */
    {2, "admin_offences.article", "koap.461", 2, 0},       /* A2, AF */
    {2, "admin_offences.article", "not_catalogued", 1, 0}, /* AOO1's free text "73-1" */
    {2, "admin_offences.violence_type", "psychological", 3, 0}, /* A1, A2, AF (not AO's sexual) */
    {2, "admin_offences.violence_type", "physical", 1, 1},      /* A2 / AL1 */
    {2, "admin_offences.offenders", "", 2, 1},             /* O45 (A1 and AF: once), O30 / O55 */
    {2, "admin_offences.outcome", "admin_fine", 3, 0},     /* A1, A3, AF */
    {2, "admin_offences.outcome", "admin_arrest", 1, 0},
    {2, "admin_offences.outcome", "admin_warning", 1, 0},  /* AOO1 (not AO) */
    {2, "admin_offences.outcome", "pending", 0, 1},
    {2, "measures", "protective_order", 3, 1},          /* M1, M2, MEE (not M8, issued in Q2) / ML1 */
    {2, "measures", "special_requirements", 2, 0},      /* M3, MX */
    {2, "measures", "preventive_registration", 3, 0},   /* M4, MR2, MRX */
    {2, "measures", "administrative_detention", 1, 0},
    {2, "measures", "referral", 2, 1},                  /* M6, M10 / ML3 */
    {2, "measures", "preventive_talk", 1, 1},           /* M7 / ML2 */
    {2, "measures.breached", "protective_order", 2, 2}, /* M2, M8 (not M9, MD3) / ML1, ML4 */
    {2, "measures.breached", "special_requirements", 1, 0},
    {2, "measures.breach_offences", "protective_order", 1, 0}, /* M2's breach is the offence A2 */
    {2, "measures.served", "protective_order", 3, 0},          /* M1, M2, MEE */
    {2, "measures.extended", "protective_order", 1, 0},        /* M2: its first term ran to 15 September */
    {2, "measures.ended_early", "protective_order", 1, 0},     /* MEE (not MX: it ended as expired) */
    {2, "measures.expired", "protective_order", 1, 1},         /* M1, past its term / ML1, past its term */
    {2, "measures.expired", "special_requirements", 1, 0},     /* MX, ended as expired */
    /* in force on 30 September: M2 (extended), M8, M9, MD3 (issued in Q2);
     * not M1 (expired), MEE (ended early) / M9, ML4 (not ML1, expired) */
    {2, "measures.in_force", "protective_order", 4, 2},
    {2, "measures.in_force", "special_requirements", 1, 0},    /* M3 (not MX) */
    /* O25 once (M4, MR2), ONB (MRT, past its term, not removed); not O30
     * (MRX removed) / O55 (ML5, removed in 2026) */
    {2, "measures.registered", "", 2, 1},
    /* A1-A3, AF, AOO1 and the measures counted in block 2: M1-M10, MEE,
     * MX, MR2, MRX, MD3 (in force), MRT (registered) / AL1, M9 (in force
     * then too), ML1-ML5 */
    {2, "not_approved.2", "", 21, 7},

    /* S1-S3 and SL1 are women's; SM is a man's (counted nowhere) */
    {3, "suicides", "completed", 1, 0},
    {3, "suicides", "attempt", 2, 1},
    {3, "suicides.sex_unknown", "", 1, 0}, /* SU names nobody: only here */
    {3, "suicides.signs_of_violence", "", 2, 0}, /* S1, S3 (not SM, SU) */
    {3, "suicides.incitement", "", 1, 0},
    {3, "suicides.outcome", "case_opened", 1, 0},
    {3, "suicides.outcome", "case_refused", 1, 1},
    {3, "suicides.outcome", "under_check", 1, 0},
    {3, "not_approved.3", "", 4, 1}, /* S1, S2, S3, SU / SL1 */

    {4, "interactions", "state_body", 2, 1},
    {4, "interactions", "ngo", 1, 0},
    {4, "interactions", "public_association", 1, 0},
    {4, "not_approved.4", "", 4, 1},

    {5, "prevention.visits", "", 4, 2}, /* FV1-FV4 (not FVV, voided) / FVL1, FVL2 */
    {5, "prevention.visit_purpose", "preventive_visit", 1, 1},
    {5, "prevention.visit_purpose", "protective_order_check", 1, 0},
    {5, "prevention.visit_purpose", "call_response", 1, 0},
    {5, "prevention.visit_purpose", "follow_up_visit", 1, 0},
    {5, "prevention.visit_purpose", "registration_check", 0, 1}, /* not FVV */
    {5, "prevention.high_risk", "", 2, 1}, /* FV2, FV3 / FVL1 */
    {5, "prevention.violence_type", "psychological", 2, 0}, /* FV1, FV2 */
    {5, "prevention.violence_type", "physical", 2, 0},      /* FV2, FV3 */
    {5, "prevention.violence_type", "economic", 0, 1},      /* FVL1 */
    {5, "prevention.children", "witnessed", 1, 0},          /* FV2 (not FVV) */
    {5, "prevention.children", "present", 1, 1},            /* FV3 / FVL1; FV1's "none" is never listed */
    {5, "prevention", "cause_removal", 1, 0},
    {5, "prevention", "media_response", 1, 0},
    {5, "prevention", "training", 2, 1},
    {5, "prevention", "public_talk", 1, 0},
    {5, "prevention", "info_campaign", 1, 0},
    {5, "prevention", "legislative_proposal", 1, 0},
    {5, "not_approved.5", "", 10, 3}, /* FV1, FV3, FV4 (FV2 approved) and 7 interactions / FVL1, FVL2, I_TRL */

    {6, "crisis.interactions", "", 2, 1},
    {6, "crisis.referrals", "field_visit", 1, 1},        /* FV2 / FVL1 */
    {6, "crisis.referrals", "protective_measure", 1, 1}, /* M6 / ML3 */
    {6, "crisis.referrals", "legal_aid", 1, 1},          /* LA1 / LAL1 */
    {6, "not_approved.6", "", 4, 4},                     /* I_CC1, I_CC2, M6, LA1 (not FV2) / I_CCL, FVL1, ML3, LAL1 */

    {7, "aid", "", 4, 1},
    {7, "aid.kind", "legal", 2, 1},
    {7, "aid.kind", "psychological", 1, 0},
    {7, "aid.kind", "both", 1, 0},
    {7, "aid.channel", "in_person", 1, 0},
    {7, "aid.channel", "phone", 2, 1},
    {7, "aid.channel", "online", 1, 0},
    {7, "aid.topic", "domestic_violence", 2, 1},
    {7, "aid.topic", "divorce_alimony", 1, 0},
    {7, "aid.topic", "protective_order", 1, 0},
    {7, "aid.anonymous", "", 2, 1},
    {7, "aid.referral", "crisis_centre", 1, 1}, /* LA2's "none" is never listed */
    {7, "aid.referral", "lawyer", 1, 0},
    {7, "not_approved.7", "", 4, 1},

    {8, "surveys", "", 4, 1},
    {8, "surveys.form", "report-test", 3, 1},
    {8, "surveys.form", "vaw-household", 1, 0},
    {8, "surveys.settlement", "urban", 1, 1},
    {8, "surveys.settlement", "rural", 2, 0}, /* R3 names none */
    {8, "surveys.answer.report-test.q1", "yes", 2, 0},
    {8, "surveys.answer.report-test.q1", "no", 1, 1},
    {8, "surveys.answer.report-test.q2", "police", 1, 0},
    {8, "surveys.answer.report-test.q2", "ngo", 2, 0},
    {8, "surveys.answer.report-test.q2", "relatives", 0, 1},
    {8, "surveys.answer.vaw-household.q1", "age_25_34", 1, 0},
    {8, "surveys.answer.vaw-household.q2", "village", 1, 0},
    {8, "surveys.answer.vaw-household.q3", "married", 1, 0},
    {8, "surveys.answer.vaw-household.q4", "higher", 1, 0},
    {8, "surveys.answer.vaw-household.q5", "homemaker", 1, 0},
    {8, "surveys.answer.vaw-household.q7", "no", 1, 0},
    {8, "surveys.answer.vaw-household.q17", "heard", 1, 0},
    {8, "surveys.answer.vaw-household.q18", "both", 1, 0},
    {8, "not_approved.8", "", 4, 1},

    {9, "police.interactions", "", 1, 2},
    {9, "not_approved.9", "", 1, 2},
};

/* Unit B's note: few records, so most totals are zero, and listed. */
static const hand_figure unit_b_figures[] = {
    {1, "crimes", "", 1, 1},
    {1, "crimes.family_domestic", "", 1, 1},
    {1, "crimes.article", "uk.106", 1, 0},
    {1, "crimes.article", "uk.107", 0, 1},
    {1, "crimes.violence_type", "physical", 1, 0},
    {1, "crimes.violence_type", "psychological", 1, 0},
    {1, "crimes.children", "witnessed", 1, 0},
    {1, "crimes.offenders", "", 1, 0},         /* OB1 / CB2 names none */
    {1, "crimes.offender_age", "30_39", 1, 0}, /* OB1 is 36 */
    {1, "crimes.offender_age", "unknown", 0, 1},
    {1, "crimes.relationship", "spouse", 1, 0},
    {1, "crimes.relationship", "child", 0, 1},
    {1, "crimes.offender_employment", "employed", 1, 0},
    {1, "crimes.offender_alcohol", "", 0, 0},
    {1, "crimes.offender_prior_record", "", 0, 0},
    {1, "crimes.victims", "", 1, 1},
    {1, "crimes.victim_age", "30_39", 1, 1}, /* PB1 is 34 / 33 */
    {1, "crimes.victim_category", "migrant", 1, 1},
    {1, "crimes.cause", "jealousy", 1, 0},
    {1, "crimes.outcome", "under_investigation", 1, 0},
    {1, "not_approved.1", "", 1, 1},
    {2, "admin_offences", "", 0, 0},
    {2, "measures", "protective_order", 0, 0}, /* the rows the Rules name, at zero */
    {2, "measures", "special_requirements", 0, 0},
    {2, "measures", "preventive_registration", 0, 0},
    {2, "measures", "administrative_detention", 0, 0},
    {2, "measures.breached", "protective_order", 0, 0},
    {2, "measures.in_force", "protective_order", 0, 0},
    {2, "measures.in_force", "special_requirements", 0, 0},
    {2, "measures.registered", "", 0, 0},
    {2, "not_approved.2", "", 0, 0},
    {3, "suicides", "completed", 0, 0},
    {3, "suicides", "attempt", 0, 0},
    {3, "suicides.signs_of_violence", "", 0, 0},
    {3, "suicides.incitement", "", 0, 0},
    {3, "not_approved.3", "", 0, 0},
    {4, "interactions", "state_body", 0, 1},
    {4, "interactions", "ngo", 0, 0},
    {4, "interactions", "public_association", 0, 0},
    {4, "not_approved.4", "", 0, 1},
    {5, "prevention.visits", "", 1, 0},
    {5, "prevention.visit_purpose", "call_response", 1, 0},
    {5, "prevention.high_risk", "", 1, 0},
    {5, "prevention.violence_type", "physical", 1, 0},
    {5, "prevention.children", "present", 1, 0},
    {5, "prevention", "cause_removal", 0, 0},
    {5, "not_approved.5", "", 1, 0},
    {6, "crisis.interactions", "", 0, 0},
    {6, "crisis.referrals", "field_visit", 0, 0},
    {6, "crisis.referrals", "protective_measure", 0, 0},
    {6, "crisis.referrals", "legal_aid", 1, 0},
    {6, "not_approved.6", "", 1, 0}, /* LAB1 */
    {7, "aid", "", 1, 0},
    {7, "aid.kind", "legal", 1, 0},
    {7, "aid.kind", "psychological", 0, 0},
    {7, "aid.kind", "both", 0, 0},
    {7, "aid.channel", "phone", 1, 0},
    {7, "aid.topic", "domestic_violence", 1, 0},
    {7, "aid.anonymous", "", 1, 0},
    {7, "aid.referral", "crisis_centre", 1, 0},
    {7, "not_approved.7", "", 1, 0},
    {8, "surveys", "", 0, 0},
    {8, "not_approved.8", "", 0, 0},
    {9, "police.interactions", "", 0, 0},
    {9, "not_approved.9", "", 0, 0},
};

/* Some of pd-astana's figures (A's and B's added by hand). */
static const hand_figure department_figures[] = {
    {1, "crimes", "", 7, 5},
    {1, "crimes.family_domestic", "", 6, 4},
    {1, "crimes.article", "uk.106", 3, 1},
    {1, "crimes.article", "uk.107", 0, 1},
    {1, "crimes.article", "not_catalogued", 0, 1},
    {1, "crimes.offenders", "", 6, 3},
    {1, "crimes.offender_age", "30_39", 2, 0},
    {1, "crimes.offender_age", "unknown", 2, 2},
    {1, "crimes.relationship", "spouse", 2, 2},
    {1, "crimes.relationship", "child", 0, 1},
    {1, "crimes.victims", "", 4, 5},
    {1, "crimes.victim_age", "30_39", 6, 3},
    {1, "crimes.victim_category", "migrant", 1, 1},
    {1, "crimes.cause", "jealousy", 2, 1},
    {1, "not_approved.1", "", 6, 4},
    {2, "measures.in_force", "protective_order", 4, 2},
    {4, "interactions", "state_body", 2, 2},
    {5, "prevention.visits", "", 5, 2},
    {5, "prevention.high_risk", "", 3, 1},
    {5, "prevention.violence_type", "physical", 3, 0},
    {6, "crisis.referrals", "legal_aid", 2, 1},
    {7, "aid", "", 5, 1},
    {7, "aid.referral", "crisis_centre", 2, 1},
    {9, "police.interactions", "", 1, 2},
};

/* ================================================================ figures */

/* One figure of a note's JSON. */
typedef struct figure {
    int block;
    char group[96], value[96], label[512];
    long long now, last, change, live_now;
    int has_change, has_percent, has_live, corrected; /* corrected: 1, 0, -1 absent */
    double percent;
} figure;

typedef struct figures {
    figure *items;
    size_t count;
} figures;

static void figures_free(figures *f)
{
    free(f->items);
    f->items = NULL;
    f->count = 0;
}

static void copy_column(char *out, size_t size, sqlite3_stmt *stmt, int column)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);
    snprintf(out, size, "%s", text ? (const char *)text : "");
}

/* Every figure of every block of `note`, in the note's order. */
static figures figures_of(const char *note)
{
    static const char sql[] =
        "SELECT json_extract(b.value, '$.block'), json_extract(f.value, '$.group'), json_extract(f.value, '$.value'),"
        " json_extract(f.value, '$.label'), json_extract(f.value, '$.now'), json_extract(f.value, '$.last'),"
        " json_type(f.value, '$.change'), json_extract(f.value, '$.change'),"
        " json_type(f.value, '$.percent'), json_extract(f.value, '$.percent'),"
        " json_type(f.value, '$.live_now'), json_extract(f.value, '$.live_now'), json_type(f.value, '$.corrected') "
        "FROM json_each(?1, '$.blocks') AS b, json_each(b.value, '$.figures') AS f ORDER BY b.key, f.key";
    figures out = {NULL, 0};
    size_t alloc = 0;
    sqlite3 *mem = NULL;
    sqlite3_stmt *stmt = NULL;
    if (!note || sqlite3_open(":memory:", &mem) != SQLITE_OK || sqlite3_prepare_v2(mem, sql, -1, &stmt, NULL) != SQLITE_OK) {
        test_fail(__FILE__, __LINE__, "cannot read the figures of %.200s", note ? note : "(no note)");
        sqlite3_close(mem);
        return out;
    }
    sqlite3_bind_text(stmt, 1, note, -1, SQLITE_STATIC);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        if (out.count == alloc) {
            alloc = alloc ? 2 * alloc : 64;
            figure *grown = realloc(out.items, alloc * sizeof *grown);
            if (!grown) break;
            out.items = grown;
        }
        figure *f = &out.items[out.count++];
        memset(f, 0, sizeof *f);
        f->block = sqlite3_column_int(stmt, 0);
        copy_column(f->group, sizeof f->group, stmt, 1);
        copy_column(f->value, sizeof f->value, stmt, 2);
        copy_column(f->label, sizeof f->label, stmt, 3);
        f->now = sqlite3_column_type(stmt, 4) == SQLITE_NULL ? -999 : sqlite3_column_int64(stmt, 4);
        f->last = sqlite3_column_type(stmt, 5) == SQLITE_NULL ? -999 : sqlite3_column_int64(stmt, 5);
        const unsigned char *type = sqlite3_column_text(stmt, 6);
        f->has_change = type && strcmp((const char *)type, "integer") == 0;
        f->change = sqlite3_column_int64(stmt, 7);
        type = sqlite3_column_text(stmt, 8);
        f->has_percent = type && (strcmp((const char *)type, "integer") == 0 || strcmp((const char *)type, "real") == 0);
        f->percent = sqlite3_column_double(stmt, 9);
        type = sqlite3_column_text(stmt, 10);
        f->has_live = type && strcmp((const char *)type, "null") != 0;
        f->live_now = sqlite3_column_int64(stmt, 11);
        type = sqlite3_column_text(stmt, 12);
        f->corrected = !type ? -1 : strcmp((const char *)type, "true") == 0 ? 1 : 0;
    }
    sqlite3_finalize(stmt);
    sqlite3_close(mem);
    return out;
}

/* The figure (group, value) of `f` in `block` (0: any), and how many there
 * are in `*count` (may be NULL). */
static const figure *figure_find(const figures *f, int block, const char *group, const char *value, int *count)
{
    const figure *found = NULL;
    int n = 0;
    for (size_t i = 0; i < f->count; i++) {
        const figure *g = &f->items[i];
        if ((block == 0 || g->block == block) && strcmp(g->group, group) == 0 && strcmp(g->value, value) == 0) {
            if (!found) found = g;
            n++;
        }
    }
    if (count) *count = n;
    return found;
}

/* A figure's now, last, change and percent are `now` and `last`'s. */
static void check_counts(const char *file, int line, const char *who, const figure *g, long long now, long long last)
{
    if (g->now != now || g->last != last)
        test_fail(file, line, "%s: %d %s/\"%s\" is now %lld, last %lld; by hand now %lld, last %lld", who, g->block,
                  g->group, g->value, g->now, g->last, now, last);
    if (!g->has_change || g->change != now - last)
        test_fail(file, line, "%s: %s/\"%s\" change is %lld%s, expected %lld", who, g->group, g->value, g->change,
                  g->has_change ? "" : " (absent)", now - last);
    if (last == 0 && g->has_percent)
        test_fail(file, line, "%s: %s/\"%s\" percent is %g, expected null (last is 0)", who, g->group, g->value, g->percent);
    if (last != 0) {
        double want = 100.0 * (double)(now - last) / (double)last;
        if (!g->has_percent || fabs(g->percent - want) > 0.051)
            test_fail(file, line, "%s: %s/\"%s\" percent is %g%s, expected %.1f", who, g->group, g->value, g->percent,
                      g->has_percent ? "" : " (absent)", want);
    }
    if (!g->label[0]) test_fail(file, line, "%s: %s/\"%s\" has no label", who, g->group, g->value);
}

/* `note` has exactly the figures of `table`: each once, in its block, with
 * the counts by hand; nothing more in any block (so no breakdown row that
 * counts nothing but those the Rules name, and every total). With `is_all`
 * 0, only the figures of the table are checked. */
static void check_figures(const char *file, int line, const char *who, const char *note, const hand_figure *table,
                          size_t count, int is_all)
{
    figures f = figures_of(note);
    if (!f.count) test_fail(file, line, "%s: no figures in %.300s", who, note ? note : "(no note)");
    for (size_t i = 0; i < count; i++) {
        const hand_figure *t = &table[i];
        int n;
        const figure *g = figure_find(&f, t->block, t->group, t->value, &n);
        if (n != 1) {
            test_fail(file, line, "%s: block %d lists %s/\"%s\" %d times, expected once", who, t->block, t->group,
                      t->value, n);
            continue;
        }
        check_counts(file, line, who, g, t->now, t->last);
    }
    for (int block = 1; is_all && block <= 9; block++) {
        for (size_t i = 0; i < f.count; i++) {
            const figure *g = &f.items[i];
            int listed = 0;
            for (size_t j = 0; j < count && !listed; j++)
                listed = table[j].block == block && strcmp(table[j].group, g->group) == 0 &&
                         strcmp(table[j].value, g->value) == 0;
            if (g->block == block && !listed)
                test_fail(file, line, "%s: block %d lists %s/\"%s\" (now %lld, last %lld), which the hand count has not",
                          who, block, g->group, g->value, g->now, g->last);
        }
    }
    for (size_t i = 0; i < f.count; i++)
        if (f.items[i].value[0] && f.items[i].now == 0 && f.items[i].last == 0 &&
            !is_named_row(f.items[i].block, f.items[i].group, f.items[i].value))
            test_fail(file, line, "%s: the breakdown row %s/\"%s\" counts nothing", who, f.items[i].group,
                      f.items[i].value);
    figures_free(&f);
}

#define CHECK_FIGURES(who, note, table) check_figures(__FILE__, __LINE__, (who), (note), (table), COUNT(table), 1)
#define CHECK_SOME_FIGURES(who, note, table) check_figures(__FILE__, __LINE__, (who), (note), (table), COUNT(table), 0)

/* A frozen figure: `now` as filed, `live` what the records give now (-1:
 * no live_now, not corrected). */
static void check_frozen(const char *file, int line, const char *note, const char *group, const char *value,
                         long long now, long long live)
{
    figures f = figures_of(note);
    const figure *g = figure_find(&f, 0, group, value, NULL);
    if (!g) {
        test_fail(file, line, "no figure %s/\"%s\"", group, value);
    } else {
        if (g->now != now) test_fail(file, line, "%s/\"%s\" now is %lld, expected %lld", group, value, g->now, now);
        if (live < 0 && (g->has_live || g->corrected != 0))
            test_fail(file, line, "%s/\"%s\" shows live_now %lld%s, corrected %d; expected neither", group, value,
                      g->live_now, g->has_live ? "" : " (absent)", g->corrected);
        if (live >= 0 && (!g->has_live || g->live_now != live || g->corrected != 1))
            test_fail(file, line, "%s/\"%s\" live_now is %lld%s, corrected %d; expected %lld, corrected", group, value,
                      g->live_now, g->has_live ? "" : " (absent)", g->corrected, live);
    }
    figures_free(&f);
}

#define CHECK_FROZEN(note, group, value, now, live) check_frozen(__FILE__, __LINE__, (note), (group), (value), (now), (live))

/* The nine blocks, numbered in order, each with a title; nothing shows a
 * correction (a draft's figures are the records'). */
static void check_blocks(const char *file, int line, const char *note, int is_draft)
{
    if (count_of(note, "$.blocks") != 9) test_fail(file, line, "%lld blocks, expected 9", count_of(note, "$.blocks"));
    for (int i = 0; i < 9; i++) {
        char path[64];
        snprintf(path, sizeof path, "$.blocks[%d].block", i);
        long long block = int_of_text(json_get(note, path));
        if (block != i + 1) test_fail(file, line, "%s is %lld, expected %d", path, block, i + 1);
        snprintf(path, sizeof path, "$.blocks[%d].title", i);
        check_nonempty(file, line, note, path);
    }
    figures f = figures_of(note);
    for (size_t i = 0; is_draft && i < f.count; i++)
        if (f.items[i].has_live || f.items[i].corrected != 0)
            test_fail(file, line, "a draft shows %s/\"%s\" corrected", f.items[i].group, f.items[i].value);
    figures_free(&f);
}

#define CHECK_BLOCKS(note, is_draft) check_blocks(__FILE__, __LINE__, (note), (is_draft))

/* ================================================================ the API */

/* POST /v1/reports: drafts the note of `unit` for the quarter (or finds
 * it). Returns its id, or -1 after a failed check. */
static long long note_create_at(const char *file, int line, world *w, supervisor *u, int64_t unit, int year, int quarter)
{
    web_answer a = WEB_ANSWER_INIT;
    char body[128];
    snprintf(body, sizeof body, "{\"unit_id\": %lld, \"year\": %d, \"quarter\": %d}", (long long)unit, year, quarter);
    int status = supervisor_call(&a, &w->h, u, "POST", body, "/v1/reports");
    long long id = -1;
    if (status != 200 && status != 201) test_fail(file, line, "%s drafts %s: %d %.300s", u->login, body, status, a.body ? a.body : "");
    else id = int_of_text(json_get(a.body, "$.id"));
    if ((status == 200 || status == 201) && id <= 0) test_fail(file, line, "no id in %.300s", a.body ? a.body : "");
    web_answer_free(&a);
    return id;
}

#define NOTE_CREATE(w, u, unit, year, quarter) note_create_at(__FILE__, __LINE__, (w), (u), (unit), (year), (quarter))

/* GET /v1/reports/{id}`query` as `u`: the note's JSON (malloc'd), or NULL
 * after a failed check. */
static char *note_get_at(const char *file, int line, world *w, supervisor *u, long long id, const char *query)
{
    web_answer a = WEB_ANSWER_INIT;
    int status = supervisor_call(&a, &w->h, u, "GET", NULL, "/v1/reports/%lld%s", id, query);
    char *body = NULL;
    if (status != 200) test_fail(file, line, "%s reads note %lld: %d %.300s", u->login, id, status, a.body ? a.body : "");
    else body = strdup(a.body);
    web_answer_free(&a);
    return body;
}

#define NOTE_GET(w, u, id) note_get_at(__FILE__, __LINE__, (w), (u), (id), "")

/* The note's JSON member `path` is `want`. */
#define CHECK_NOTE_JSON(w, u, id, path, want)                          \
    do {                                                               \
        char *nj_ = note_get_at(__FILE__, __LINE__, (w), (u), (id), ""); \
        CHECK_JSON(nj_, (path), (want));                               \
        free(nj_);                                                     \
    } while (0)

/* POST /v1/reports/{id}/`action` with `json`; returns the status, the
 * answer in `a`. */
static int note_post(web_answer *a, world *w, supervisor *u, long long id, const char *action, const char *json)
{
    return supervisor_call(a, &w->h, u, "POST", json, "/v1/reports/%lld/%s", id, action);
}

/* A move that must succeed (200). */
static void note_do_at(const char *file, int line, world *w, supervisor *u, long long id, const char *action, const char *json)
{
    web_answer a = WEB_ANSWER_INIT;
    int status = note_post(&a, w, u, id, action, json);
    if (status != 200)
        test_fail(file, line, "%s: %s of note %lld answered %d: %.300s", u->login, action, id, status, a.body ? a.body : "");
    web_answer_free(&a);
}

#define NOTE_DO(w, u, id, action, json) note_do_at(__FILE__, __LINE__, (w), (u), (id), (action), (json))

/* A refusal: a 4xx status (`want`, or any 4xx when 0) and a JSON error
 * that says something. */
static void check_refused(const char *file, int line, const web_answer *a, int status, int want, const char *what)
{
    if (want ? status != want : status < 400 || status > 499)
        test_fail(file, line, "%s answered %d, expected %s%d: %.300s", what, status, want ? "" : "a 4xx such as ",
                  want ? want : 409, a->body ? a->body : "");
    char *error = json_get(a->body, "$.error");
    if (!error || strlen(error) < 8) test_fail(file, line, "%s: no clear error in %.300s", what, a->body ? a->body : "");
    free(error);
}

/* `user` doing `action` (with `json`) on note `id` is refused. */
#define CHECK_REFUSED(w, u, id, action, json, want)                                  \
    do {                                                                             \
        web_answer refused_ = WEB_ANSWER_INIT;                                       \
        int status_ = note_post(&refused_, (w), (u), (id), (action), (json));        \
        check_refused(__FILE__, __LINE__, &refused_, status_, (want), (action));     \
        web_answer_free(&refused_);                                                  \
    } while (0)

/* GET `path` as `u` answers `want`. */
#define CHECK_GET_STATUS(w, u, want, ...)                                            \
    do {                                                                             \
        web_answer got_ = WEB_ANSWER_INIT;                                           \
        int status_ = supervisor_call(&got_, &(w)->h, (u), "GET", NULL, __VA_ARGS__); \
        if (status_ != (want))                                                       \
            test_fail(__FILE__, __LINE__, "GET answered %d, expected %d: %.200s",    \
                      status_, (want), got_.body ? got_.body : "");                  \
        web_answer_free(&got_);                                                      \
    } while (0)

/* Whether a note is marked late (its deadline.late); -1 if absent. */
static long long late_of(const char *note)
{
    return int_of_text(json_get(note, "$.deadline.late"));
}

/* A note's deadline: due day, days left, overdue; and late. */
static void check_deadline(const char *file, int line, const char *note, const char *due, int days_left, int overdue,
                           int late)
{
    char *got_due = json_get(note, "$.deadline.due");
    long long left = int_of_text(json_get(note, "$.deadline.days_left"));
    long long got_overdue = int_of_text(json_get(note, "$.deadline.overdue"));
    long long got_late = late_of(note);
    if (!got_due || strcmp(got_due, due) || left != days_left || got_overdue != overdue)
        test_fail(file, line, "deadline is %s, %lld days left, overdue %lld; expected %s, %d, %d", got_due ? got_due : "?",
                  left, got_overdue, due, days_left, overdue);
    if (late >= 0 && got_late != late) test_fail(file, line, "late is %lld, expected %d", got_late, late);
    free(got_due);
}

#define CHECK_DEADLINE(note, due, days_left, overdue, late) \
    check_deadline(__FILE__, __LINE__, (note), (due), (days_left), (overdue), (late))

/* ------------------------------------------------------------ the world */

/* Writes the old tablet's records (old_tablet_fixture) on a tablet of unit
 * A enrolled and synced declaring schema 2, then closes it (the declared
 * version is process-wide, so it is put back at once). */
static void put_old_tablet_records(world *w)
{
    dala_device_schema_set(2);
    w->tablet[A_OLD] = device_enrol(&w->h, "old", w->h.officer_a, w->h.unit_a);
    if (w->tablet[A_OLD]) {
        for (size_t i = 0; i < COUNT(old_tablet_fixture); i++) put_record(w, &old_tablet_fixture[i]);
        sync_ok(w->tablet[A_OLD]);
        dala_status status = device_status(w->tablet[A_OLD]);
        if (status.pending_changes || status.rejected_changes)
            test_fail(__FILE__, __LINE__, "the old tablet: %llu changes pending, %llu refused",
                      (unsigned long long)status.pending_changes, (unsigned long long)status.rejected_changes);
    }
    dala_device_schema_set(-1);
    dala_store_close(w->tablet[A_OLD]);
    w->tablet[A_OLD] = NULL;
}

/* Voids the fixture's record `name` on the tablet that wrote it. */
static void void_record(world *w, const char *name, const char *reason)
{
    for (size_t i = 0; i < COUNT(fixture); i++)
        if (strcmp(fixture[i].name, name) == 0) {
            int rc = dala_record_void(w->tablet[fixture[i].tablet], id_of(w, name), reason);
            if (rc) test_fail(__FILE__, __LINE__, "void %s: %s", name, dala_errmsg());
            return;
        }
    test_fail(__FILE__, __LINE__, "no fixture record %s to void", name);
}

/* POST /v1/records/{id}/review with `body` as unit A's head. */
static void decide(world *w, const char *name, const char *body)
{
    web_answer a = WEB_ANSWER_INIT;
    int status = supervisor_call(&a, &w->h, &w->head_a, "POST", body, "/v1/records/%s/review", id_of(w, name));
    if (status != 200) test_fail(__FILE__, __LINE__, "review of %s %s: %d %.300s", name, body, status, a.body ? a.body : "");
    web_answer_free(&a);
}

/* Builds the world; with `with_records`, the tablets and every record of
 * the fixture, synced; the old tablet's records; CV and FVV voided; and
 * the decisions taken. Returns 0, or -1 (after failed checks, with
 * everything stopped). */
static int world_start(world *w, int with_records)
{
    memset(w, 0, sizeof *w);
    if (harness_start_clocked(&w->h, &w->tz)) {
        world_stop(w);
        return -1;
    }
    w->astana = central_unit_find(&w->h, "pd-astana");
    w->almaty = central_unit_find(&w->h, "pd-almaty-city");
    w->unit_c = central_unit_add(&w->h, w->astana, "unit", "Baikonur district unit");
    if (!w->almaty || !w->unit_c) {
        world_stop(w);
        return -1;
    }
    supervisor_add(&w->head_a, &w->h, "head.a", "unit_head", w->h.unit_a, PASSWORD);
    supervisor_add(&w->head_b, &w->h, "head.b", "unit_head", w->h.unit_b, PASSWORD);
    supervisor_add(&w->deputy, &w->h, "deputy.astana", "deputy", w->astana, PASSWORD);
    supervisor_add(&w->analyst, &w->h, "analyst.astana", "analyst", w->astana, PASSWORD);
    supervisor_add(&w->almaty_deputy, &w->h, "deputy.almaty", "deputy", w->almaty, PASSWORD);
    w->inspector = (supervisor){.login = "a.nurlanova", .password = PASSWORD}; /* officer_a, unit A's inspector */
    if (!with_records) return 0;

    char form_id[ID_BYTES] = "";
    dala_admin *admin = NULL;
    int rc = dala_admin_open(&admin, w->h.db_path);
    if (!rc) rc = dala_admin_form_publish(form_id, admin, report_form, 0);
    dala_admin_close(admin);
    CHECK_OK(rc);
    name_id(w, "FORM_T", form_id);
    publish_form(&w->h, 1, NULL, NULL, form_id); /* code vaw-household */
    name_id(w, "FORM_V1", form_id);
    w->tablet[A1] = device_enrol(&w->h, "a1", w->h.officer_a, w->h.unit_a);
    w->tablet[A2] = device_enrol(&w->h, "a2", w->h.officer_a2, w->h.unit_a);
    w->tablet[B1] = device_enrol(&w->h, "b1", w->h.officer_b, w->h.unit_b);
    if (rc || !w->tablet[A1] || !w->tablet[A2] || !w->tablet[B1]) {
        world_stop(w);
        return -1;
    }
    sync_all(w); /* the forms reach the tablets */
    for (size_t i = 0; i < COUNT(fixture); i++) put_record(w, &fixture[i]);
    sync_all(w);
    put_old_tablet_records(w);
    for (size_t i = 0; i < COUNT(voided_names); i++) void_record(w, voided_names[i], "Қате енгізілді");
    sync_all(w);
    for (size_t i = 0; i < COUNT(decisions); i++) decide(w, decisions[i].name, decisions[i].body);
    return 0;
}

/* ================================================================ figures */

static void test_reports_unit_note_gives_every_hand_counted_figure_of_the_quarter_and_a_year_before(void)
{
    world w;
    if (world_start(&w, 1)) return;
    harness_clock_set(&w.h, "2026-10-02 10:00");
    long long id = NOTE_CREATE(&w, &w.head_a, w.h.unit_a, 2026, 3);
    char *note = NOTE_GET(&w, &w.head_a, id);
    char unit[32];
    snprintf(unit, sizeof unit, "%lld", (long long)w.h.unit_a);
    CHECK_JSON(note, "$.unit_id", unit);
    CHECK_JSON(note, "$.level", "unit");
    CHECK_JSON(note, "$.year", "2026");
    CHECK_JSON(note, "$.quarter", "3");
    CHECK_JSON(note, "$.state", "draft");
    CHECK_NONEMPTY(note, "$.state_label");
    CHECK_JSON(note, "$.submitted_at", NULL);
    CHECK_JSON(note, "$.signature", NULL);
    CHECK_BLOCKS(note, 1);
    CHECK_FIGURES("unit A", note, unit_a_figures);
    /* The same figures through the department's deputy and an analyst. */
    char *by_deputy = NOTE_GET(&w, &w.deputy, id), *by_analyst = NOTE_GET(&w, &w.analyst, id);
    CHECK_FIGURES("unit A, read by the deputy", by_deputy, unit_a_figures);
    CHECK_FIGURES("unit A, read by the analyst", by_analyst, unit_a_figures);
    free(by_deputy);
    free(by_analyst);
    free(note);
    world_stop(&w);
}

static void test_reports_unit_counts_only_its_own_records_and_lists_every_total_even_at_zero(void)
{
    world w;
    if (world_start(&w, 1)) return;
    harness_clock_set(&w.h, "2026-10-02 10:00");
    long long id = NOTE_CREATE(&w, &w.head_b, w.h.unit_b, 2026, 3);
    char *note = NOTE_GET(&w, &w.head_b, id);
    CHECK_BLOCKS(note, 1);
    CHECK_FIGURES("unit B", note, unit_b_figures);
    free(note);
    /* A note of a unit without a single record: every total (aid.anonymous
     * is one: its value is ""), and the rows the Rules name, at zero; with
     * schema 3 also the persons (victims, offenders, on registration), the
     * orders and requirements in force, and every block's not_approved. */
    static const hand_figure empty[] = {
        {1, "crimes", "", 0, 0}, {1, "crimes.family_domestic", "", 0, 0}, {1, "crimes.offender_alcohol", "", 0, 0},
        {1, "crimes.offender_prior_record", "", 0, 0}, {2, "admin_offences", "", 0, 0},
        {2, "measures", "protective_order", 0, 0}, {2, "measures", "special_requirements", 0, 0},
        {2, "measures", "preventive_registration", 0, 0}, {2, "measures", "administrative_detention", 0, 0},
        {2, "measures.breached", "protective_order", 0, 0}, {3, "suicides", "completed", 0, 0},
        {3, "suicides", "attempt", 0, 0}, {3, "suicides.signs_of_violence", "", 0, 0},
        {3, "suicides.incitement", "", 0, 0}, {4, "interactions", "state_body", 0, 0}, {4, "interactions", "ngo", 0, 0},
        {4, "interactions", "public_association", 0, 0}, {5, "prevention.visits", "", 0, 0},
        {5, "prevention.high_risk", "", 0, 0}, {5, "prevention", "cause_removal", 0, 0},
        {6, "crisis.interactions", "", 0, 0}, {6, "crisis.referrals", "field_visit", 0, 0},
        {6, "crisis.referrals", "protective_measure", 0, 0}, {6, "crisis.referrals", "legal_aid", 0, 0},
        {7, "aid", "", 0, 0}, {7, "aid.kind", "legal", 0, 0}, {7, "aid.kind", "psychological", 0, 0},
        {7, "aid.kind", "both", 0, 0}, {7, "aid.anonymous", "", 0, 0}, {8, "surveys", "", 0, 0},
        {9, "police.interactions", "", 0, 0}, {1, "crimes.victims", "", 0, 0}, {1, "crimes.offenders", "", 0, 0},
        {2, "measures.in_force", "protective_order", 0, 0}, {2, "measures.in_force", "special_requirements", 0, 0},
        {2, "measures.registered", "", 0, 0}, {1, "not_approved.1", "", 0, 0}, {2, "not_approved.2", "", 0, 0},
        {3, "not_approved.3", "", 0, 0}, {4, "not_approved.4", "", 0, 0}, {5, "not_approved.5", "", 0, 0},
        {6, "not_approved.6", "", 0, 0}, {7, "not_approved.7", "", 0, 0}, {8, "not_approved.8", "", 0, 0},
        {9, "not_approved.9", "", 0, 0},
    };
    id = NOTE_CREATE(&w, &w.deputy, w.unit_c, 2026, 3);
    note = NOTE_GET(&w, &w.deputy, id);
    CHECK_BLOCKS(note, 1);
    CHECK_FIGURES("unit C", note, empty);
    free(note);
    world_stop(&w);
}

/* ================================================================ tracing */

/* GET records of `group`/`value` in `period` lists exactly the records
 * named in `names` (a comma-separated list; "" none). */
static void check_trace(const char *file, int line, world *w, long long note, const char *group, const char *value,
                        const char *period, const char *names)
{
    char group_q[160], value_q[160];
    url_encode(group_q, sizeof group_q, group);
    url_encode(value_q, sizeof value_q, value);
    web_answer a = WEB_ANSWER_INIT;
    int status = supervisor_call(&a, &w->h, &w->deputy, "GET", NULL, "/v1/reports/%lld/records?group=%s&value=%s&period=%s", note,
                     group_q, value_q, period);
    if (status != 200) {
        test_fail(file, line, "records of %s/\"%s\" (%s): %d %.300s", group, value, period, status, a.body ? a.body : "");
        web_answer_free(&a);
        return;
    }
    long long want = 0;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", names);
    for (char *save = NULL, *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        want++;
        if (count_where(a.body, "$.records", "id", id_of(w, name)) != 1)
            test_fail(file, line, "records of %s/\"%s\" (%s) do not list %s once: %.400s", group, value, period, name, a.body);
    }
    long long listed = count_of(a.body, "$.records");
    if (listed != want)
        test_fail(file, line, "records of %s/\"%s\" (%s) lists %lld records, expected %lld (%s): %.600s", group, value,
                  period, listed, want, names, a.body);
    web_answer_free(&a);
}

#define CHECK_TRACE(w, note, group, value, period, names) \
    check_trace(__FILE__, __LINE__, (w), (note), (group), (value), (period), (names))

static void test_reports_each_figure_traces_back_to_exactly_the_records_it_counts(void)
{
    world w;
    if (world_start(&w, 1)) return;
    harness_clock_set(&w.h, "2026-10-02 10:00");
    long long id = NOTE_CREATE(&w, &w.head_a, w.h.unit_a, 2026, 3);
    /* C3 and C4 share an ERDR number: both count (a duplicate is only
     * shown); CV is voided, CM a man's; CO1 is the old tablet's. */
    CHECK_TRACE(&w, id, "crimes", "", "now", "C1,C2,C3,C4,C5,C6");
    CHECK_TRACE(&w, id, "crimes", "", "last", "L1,L2,L3,CO1");
    web_answer page = WEB_ANSWER_INIT; /* the duplicate is shown on C3's page */
    CHECK_EQ_INT(supervisor_call(&page, &w.h, &w.deputy, "GET", NULL, "/v1/records/%s", id_of(&w, "C3")), 200);
    CHECK_EQ_INT(count_where(page.body, "$.duplicates[0].records", "id", id_of(&w, "C4")), 1);
    web_answer_free(&page);
    CHECK_TRACE(&w, id, "crimes.article", "uk.120", "now", "C2,C3");
    CHECK_TRACE(&w, id, "crimes.article", "uk.120", "last", "L2");
    CHECK_TRACE(&w, id, "crimes.article", "not_catalogued", "last", "CO1");
    CHECK_TRACE(&w, id, "crimes.article", "not_catalogued", "now", "");
    CHECK_TRACE(&w, id, "crimes.children", "witnessed", "now", "C1,C6");
    CHECK_TRACE(&w, id, "crimes.victim_age", "unknown", "last", "CO1");
    CHECK_TRACE(&w, id, "crimes.offender_age", "under_18", "now", "C3");
    CHECK_TRACE(&w, id, "crimes.offender_age", "30_39", "now", "C2");
    CHECK_TRACE(&w, id, "crimes.offender_age", "unknown", "now", "C5,C6");
    CHECK_TRACE(&w, id, "crimes.victim_category", "single_mother", "now", "C4,C5,C6");
    CHECK_TRACE(&w, id, "admin_offences", "", "now", "A1,A2,A3,AF,AOO1");
    CHECK_TRACE(&w, id, "admin_offences.article", "koap.73", "now", "A1,A3");
    CHECK_TRACE(&w, id, "admin_offences.article", "not_catalogued", "now", "AOO1");
    CHECK_TRACE(&w, id, "measures", "protective_order", "now", "M1,M2,MEE");
    CHECK_TRACE(&w, id, "measures.in_force", "protective_order", "now", "M2,M8,M9,MD3");
    CHECK_TRACE(&w, id, "measures.in_force", "protective_order", "last", "M9,ML4");
    CHECK_TRACE(&w, id, "measures.expired", "protective_order", "now", "M1");
    CHECK_TRACE(&w, id, "measures.expired", "special_requirements", "now", "MX");
    CHECK_TRACE(&w, id, "measures.ended_early", "protective_order", "now", "MEE");
    CHECK_TRACE(&w, id, "measures.breach_offences", "protective_order", "now", "M2");
    CHECK_TRACE(&w, id, "measures.registered", "", "last", "ML5");
    CHECK_TRACE(&w, id, "measures.breached", "protective_order", "now", "M2,M8");
    CHECK_TRACE(&w, id, "measures.breached", "protective_order", "last", "ML1,ML4");
    CHECK_TRACE(&w, id, "suicides", "completed", "now", "S1");
    CHECK_TRACE(&w, id, "suicides.sex_unknown", "", "now", "SU");
    CHECK_TRACE(&w, id, "prevention.visits", "", "now", "FV1,FV2,FV3,FV4");
    CHECK_TRACE(&w, id, "prevention.violence_type", "physical", "now", "FV2,FV3");
    CHECK_TRACE(&w, id, "crisis.referrals", "field_visit", "now", "FV2");
    CHECK_TRACE(&w, id, "crisis.referrals", "field_visit", "last", "FVL1");
    CHECK_TRACE(&w, id, "crisis.referrals", "legal_aid", "now", "LA1");
    CHECK_TRACE(&w, id, "aid.anonymous", "", "now", "LA2,LA3");
    CHECK_TRACE(&w, id, "surveys.answer.report-test.q2", "ngo", "now", "R1,R2");
    CHECK_TRACE(&w, id, "surveys.answer.report-test.q2", "relatives", "last", "RL1");
    CHECK_TRACE(&w, id, "police.interactions", "", "last", "I_PUL1,I_PUL2");
    /* Not approved: C2 (returned) but not C1 (approved); M9 counts in
     * block 2 of both periods (in force at both ends). */
    CHECK_TRACE(&w, id, "not_approved.1", "", "now", "C2,C3,C4,C5,C6");
    CHECK_TRACE(&w, id, "not_approved.1", "", "last", "L2,L3,CO1");
    CHECK_TRACE(&w, id, "not_approved.2", "", "last", "AL1,M9,ML1,ML2,ML3,ML4,ML5");
    CHECK_TRACE(&w, id, "not_approved.3", "", "now", "S1,S2,S3,SU");
    CHECK_TRACE(&w, id, "not_approved.6", "", "now", "I_CC1,I_CC2,M6,LA1");
    world_stop(&w);
}

/* ============================================== voided and not approved */

/* Note `id` as `u` gives figure (`block`, `group`, `value`) `now`, `last`
 * (the live figures of a draft or returned note). */
static void check_figure_at(const char *file, int line, world *w, supervisor *u, long long id, int block, const char *group,
                            const char *value, long long now, long long last)
{
    char *note = note_get_at(file, line, w, u, id, "");
    const hand_figure want[] = {{block, group, value, now, last}};
    check_figures(file, line, "unit A", note, want, 1, 0);
    free(note);
}

#define CHECK_FIGURE(w, id, block, group, value, now, last) \
    check_figure_at(__FILE__, __LINE__, (w), &(w)->head_a, (id), (block), (group), (value), (now), (last))

/* A record voided after the note was filed: the filed figure stays, the
 * figure the records give now drops beside it, the trace no longer lists
 * it, and once the note is returned the live figure is the dropped one.
 * (The fixture's CV and FVV, voided before any note, count nowhere: the
 * tables above.) */
static void test_reports_record_voided_after_filing_drops_from_the_live_figure_beside_the_filed_one(void)
{
    world w;
    if (world_start(&w, 1)) return;
    harness_clock_set(&w.h, "2026-10-02 10:00");
    long long id = NOTE_CREATE(&w, &w.head_a, w.h.unit_a, 2026, 3);
    NOTE_DO(&w, &w.head_a, id, "submit", "{}");
    /* C4 (uk.106, V3, O25, of another sphere) and FV3 (a call-out of high
     * risk, physical violence, children present) were entered by mistake. */
    harness_clock_set(&w.h, NULL);
    CHECK_OK(dala_record_void(w.tablet[A1], id_of(&w, "C4"), "Екі рет енгізілді"));
    CHECK_OK(dala_record_void(w.tablet[A2], id_of(&w, "FV3"), "Қате енгізілді"));
    sync_all(&w);
    char *note = NOTE_GET(&w, &w.deputy, id);
    CHECK_JSON(note, "$.state", "submitted");
    CHECK_FROZEN(note, "crimes", "", 6, 5);
    CHECK_FROZEN(note, "crimes.article", "uk.106", 2, 1);
    CHECK_FROZEN(note, "crimes.relationship", "acquaintance", 1, 0);
    CHECK_FROZEN(note, "crimes.offender_age", "18_29", 1, 0);
    CHECK_FROZEN(note, "crimes.offenders", "", 5, 4);   /* O25 was C4's alone this quarter */
    CHECK_FROZEN(note, "crimes.offender_alcohol", "", 2, 1);
    CHECK_FROZEN(note, "crimes.cause", "alcohol", 3, 2);
    CHECK_FROZEN(note, "crimes.violence_type", "physical", 3, 2);
    CHECK_FROZEN(note, "crimes.victim_age", "30_39", 5, 4);
    CHECK_FROZEN(note, "not_approved.1", "", 5, 4);
    CHECK_FROZEN(note, "crimes.victims", "", 3, -1);         /* V3 is still C5's and C6's victim */
    CHECK_FROZEN(note, "crimes.family_domestic", "", 5, -1); /* C4 was of another sphere */
    CHECK_FROZEN(note, "prevention.visits", "", 4, 3);
    CHECK_FROZEN(note, "prevention.high_risk", "", 2, 1);
    CHECK_FROZEN(note, "prevention.visit_purpose", "call_response", 1, 0);
    CHECK_FROZEN(note, "prevention.violence_type", "physical", 2, 1);
    CHECK_FROZEN(note, "prevention.children", "present", 1, 0);
    CHECK_FROZEN(note, "not_approved.5", "", 10, 9);
    CHECK_FROZEN(note, "aid", "", 4, -1); /* untouched */
    free(note);
    CHECK_EQ_INT(central_int(&w.h, "SELECT now FROM report_figure WHERE note_id = ?1 AND grp = 'crimes' AND value = ''", id, 0), 6);
    CHECK_TRACE(&w, id, "crimes", "", "now", "C1,C2,C3,C5,C6");
    CHECK_TRACE(&w, id, "prevention.visits", "", "now", "FV1,FV2,FV4");
    /* Returned: the figures are the records' again, without C4 and FV3. */
    NOTE_DO(&w, &w.deputy, id, "return", "{\"comment\": \"Жойылған жазбаларды тексеріңіз.\"}");
    note = NOTE_GET(&w, &w.head_a, id);
    CHECK_JSON(note, "$.state", "returned");
    CHECK_FROZEN(note, "crimes", "", 5, -1);
    CHECK_FROZEN(note, "crimes.offenders", "", 4, -1);
    CHECK_FROZEN(note, "prevention.visits", "", 3, -1);
    CHECK_FROZEN(note, "not_approved.5", "", 9, -1);
    free(note);
    world_stop(&w);
}

/* not_approved.N counts each record counted in block N once, until it is
 * approved through the review route; a record returned after approval
 * counts again. A measure counted in two blocks (M6: block 2 and the
 * crisis referrals of block 6) leaves both; one counted in both periods
 * (M9, in force at the end of both quarters) leaves both. */
static void test_reports_not_approved_counts_each_record_once_per_block_until_approved(void)
{
    world w;
    if (world_start(&w, 1)) return;
    harness_clock_set(&w.h, "2026-10-02 10:00");
    long long id = NOTE_CREATE(&w, &w.head_a, w.h.unit_a, 2026, 3);
    CHECK_FIGURE(&w, id, 2, "not_approved.2", "", 21, 7);
    CHECK_FIGURE(&w, id, 6, "not_approved.6", "", 4, 4);
    decide(&w, "M6", "{\"decision\": \"approve\"}");
    CHECK_FIGURE(&w, id, 2, "not_approved.2", "", 20, 7);
    CHECK_FIGURE(&w, id, 6, "not_approved.6", "", 3, 4);
    decide(&w, "M9", "{\"decision\": \"approve\"}");
    CHECK_FIGURE(&w, id, 2, "not_approved.2", "", 19, 6);
    /* Returned after approval: not approved again. */
    decide(&w, "M6", "{\"decision\": \"return\", \"comment\": \"Дағдарыс орталығының атын жазыңыз.\"}");
    CHECK_FIGURE(&w, id, 2, "not_approved.2", "", 20, 6);
    CHECK_FIGURE(&w, id, 6, "not_approved.6", "", 4, 4);
    /* C2, returned by world_start, approved now. */
    CHECK_FIGURE(&w, id, 1, "not_approved.1", "", 5, 3);
    decide(&w, "C2", "{\"decision\": \"approve\"}");
    CHECK_FIGURE(&w, id, 1, "not_approved.1", "", 4, 3);
    CHECK_TRACE(&w, id, "not_approved.1", "", "now", "C3,C4,C5,C6");
    /* Approving changes no other figure. */
    CHECK_FIGURE(&w, id, 1, "crimes", "", 6, 4);
    CHECK_FIGURE(&w, id, 2, "measures", "referral", 2, 1);
    CHECK_FIGURE(&w, id, 2, "measures.in_force", "protective_order", 4, 2);
    CHECK_FIGURE(&w, id, 6, "crisis.referrals", "protective_measure", 1, 1);
    world_stop(&w);
}

/* ========================================================== consolidation */

/* Every figure of the department's note is A's plus B's (0 where a unit
 * has none), and every figure of A and B is in it. */
static void check_sums(const char *file, int line, const char *department, const char *a_note, const char *b_note)
{
    figures d = figures_of(department), a = figures_of(a_note), b = figures_of(b_note);
    if (!d.count) test_fail(file, line, "the department's note has no figures");
    for (size_t i = 0; i < d.count; i++) {
        const figure *g = &d.items[i];
        const figure *fa = figure_find(&a, g->block, g->group, g->value, NULL);
        const figure *fb = figure_find(&b, g->block, g->group, g->value, NULL);
        long long now = (fa ? fa->now : 0) + (fb ? fb->now : 0), last = (fa ? fa->last : 0) + (fb ? fb->last : 0);
        if (!fa && !fb) test_fail(file, line, "the department lists %s/\"%s\", which neither unit has", g->group, g->value);
        check_counts(file, line, "pd-astana = A + B", g, now, last);
    }
    for (int unit = 0; unit < 2; unit++) {
        const figures *u = unit ? &b : &a;
        for (size_t i = 0; i < u->count; i++)
            if (!figure_find(&d, u->items[i].block, u->items[i].group, u->items[i].value, NULL))
                test_fail(file, line, "the department lacks unit %c's %s/\"%s\"", unit ? 'B' : 'A', u->items[i].group,
                          u->items[i].value);
    }
    figures_free(&d);
    figures_free(&a);
    figures_free(&b);
}

#define NARRATIVE_A "Есіл ауданында отбасы-тұрмыстық қылмыстар 2,5 есе өсті."
#define NARRATIVE_B "Сарыарқа ауданында суицид тіркелмеді."
#define NARRATIVE_D "Департамент бойынша қылмыс саны өсті."

/* Unit A's note submitted at `a_time` with NARRATIVE_A for block 1, B's at
 * `b_time` with NARRATIVE_B for block 3, the department's drafted with
 * NARRATIVE_D for block 1 and consolidated at `consolidate_time`. Returns
 * the department note's id. */
static long long consolidate_department(world *w, long long *a_id, long long *b_id, const char *a_time,
                                        const char *b_time, const char *consolidate_time)
{
    harness_clock_set(&w->h, a_time);
    *a_id = NOTE_CREATE(w, &w->head_a, w->h.unit_a, 2026, 3);
    NOTE_DO(w, &w->head_a, *a_id, "narrative", "{\"block\": 1, \"text\": \"" NARRATIVE_A "\"}");
    NOTE_DO(w, &w->head_a, *a_id, "submit", "{}");
    harness_clock_set(&w->h, b_time);
    *b_id = NOTE_CREATE(w, &w->head_b, w->h.unit_b, 2026, 3);
    NOTE_DO(w, &w->head_b, *b_id, "narrative", "{\"block\": 3, \"text\": \"" NARRATIVE_B "\"}");
    NOTE_DO(w, &w->head_b, *b_id, "submit", "{}");
    harness_clock_set(&w->h, consolidate_time);
    long long d = NOTE_CREATE(w, &w->deputy, w->astana, 2026, 3);
    NOTE_DO(w, &w->deputy, d, "narrative", "{\"block\": 1, \"text\": \"" NARRATIVE_D "\"}");
    NOTE_DO(w, &w->deputy, d, "consolidate", "{}");
    return d;
}

static void test_reports_department_note_adds_up_its_units_filed_notes_and_lists_who_filed(void)
{
    world w;
    if (world_start(&w, 1)) return;
    long long a_id, b_id;
    long long d = consolidate_department(&w, &a_id, &b_id, "2026-10-02 10:00", "2026-10-03 11:30", "2026-10-08 09:00");
    char *dep = NOTE_GET(&w, &w.deputy, d), *a = NOTE_GET(&w, &w.deputy, a_id), *b = NOTE_GET(&w, &w.deputy, b_id);
    CHECK_JSON(dep, "$.level", "department");
    CHECK_JSON(dep, "$.state", "consolidated");
    CHECK_JSON(a, "$.state", "consolidated"); /* taken into the department's */
    CHECK_JSON(b, "$.state", "consolidated");
    CHECK_BLOCKS(dep, 0);
    CHECK_FIGURES("unit A, filed", a, unit_a_figures);
    CHECK_FIGURES("unit B, filed", b, unit_b_figures);
    check_sums(__FILE__, __LINE__, dep, a, b);
    CHECK_SOME_FIGURES("pd-astana", dep, department_figures);
    CHECK_EQ_INT(central_int(&w.h, "SELECT now FROM report_figure WHERE note_id = ?1 AND grp = 'crimes' AND value = ''", d, 0), 7);
    /* The units: A and B with when they filed; C never did. */
    char id_a[32], id_b[32], id_c[32], when[32];
    snprintf(id_a, sizeof id_a, "%lld", (long long)w.h.unit_a);
    snprintf(id_b, sizeof id_b, "%lld", (long long)w.h.unit_b);
    snprintf(id_c, sizeof id_c, "%lld", (long long)w.unit_c);
    CHECK_EQ_INT(count_of(dep, "$.units"), 3);
    CHECK_EQ_INT(count_where(dep, "$.units", "unit_id", id_a), 1);
    CHECK_EQ_INT(count_where(dep, "$.units", "unit_id", id_b), 1);
    CHECK_EQ_INT(count_where(dep, "$.units", "unit_id", id_c), 1);
    snprintf(when, sizeof when, "%lld", (long long)harness_utc_seconds("2026-10-02 10:00"));
    CHECK_MEMBER(dep, "$.units", "unit_id", id_a, "submitted_at", when);
    CHECK_JSON(a, "$.submitted_at", when);
    snprintf(when, sizeof when, "%lld", (long long)harness_utc_seconds("2026-10-03 11:30"));
    CHECK_MEMBER(dep, "$.units", "unit_id", id_b, "submitted_at", when);
    CHECK_MEMBER(dep, "$.units", "unit_id", id_a, "late", "0");
    CHECK_MEMBER(dep, "$.units", "unit_id", id_b, "late", "0");
    CHECK_NONEMPTY(dep, "$.units[0].unit");
    char *state_a = member_where(dep, "$.units", "unit_id", id_a, "state");
    char *state_c = member_where(dep, "$.units", "unit_id", id_c, "state");
    CHECK(state_a && (strcmp(state_a, "submitted") == 0 || strcmp(state_a, "consolidated") == 0));
    if (!state_c || strcmp(state_c, "submitted") == 0 || strcmp(state_c, "consolidated") == 0 || strcmp(state_c, "signed") == 0)
        test_fail(__FILE__, __LINE__, "unit C, which never filed, is listed as \"%s\"", state_c ? state_c : "(absent)");
    CHECK_MEMBER(dep, "$.units", "unit_id", id_c, "submitted_at", NULL);
    free(state_a);
    free(state_c);
    /* The deputy's text of each block, and under it the units' own. */
    CHECK_MEMBER(dep, "$.blocks", "block", "1", "narrative", NARRATIVE_D);
    CHECK_MEMBER(dep, "$.blocks[0].unit_narratives", "unit_id", id_a, "text", NARRATIVE_A);
    CHECK_MEMBER(dep, "$.blocks[2].unit_narratives", "unit_id", id_b, "text", NARRATIVE_B);
    CHECK_EQ_INT(count_where(dep, "$.blocks[0].unit_narratives", "unit_id", id_b), 0);
    free(dep);
    /* Unit C files after the consolidation: it stays outside. */
    harness_clock_set(&w.h, "2026-10-08 09:30");
    long long c_id = NOTE_CREATE(&w, &w.deputy, w.unit_c, 2026, 3);
    NOTE_DO(&w, &w.deputy, c_id, "submit", "{}");
    CHECK_NOTE_JSON(&w, &w.deputy, c_id, "$.state", "submitted");
    dep = NOTE_GET(&w, &w.deputy, d);
    CHECK_JSON(dep, "$.state", "consolidated");
    check_sums(__FILE__, __LINE__, dep, a, b); /* still A + B only */
    CHECK_SOME_FIGURES("pd-astana after C filed", dep, department_figures);
    CHECK_MEMBER(dep, "$.units", "unit_id", id_c, "submitted_at", NULL);
    free(dep);
    free(a);
    free(b);
    world_stop(&w);
}

/* ============================================================== deadlines */

/* GET note `id` as `u` at the current clock, and its deadline. */
#define CHECK_NOTE_DEADLINE(w, u, id, due, days_left, overdue, late)   \
    do {                                                               \
        char *dl_ = note_get_at(__FILE__, __LINE__, (w), (u), (id), ""); \
        CHECK_DEADLINE(dl_, (due), (days_left), (overdue), (late));    \
        free(dl_);                                                     \
    } while (0)

static void check_late(const char *file, int line, world *w, supervisor *u, long long id, const char *want)
{
    char *note = note_get_at(file, line, w, u, id, "");
    long long late = late_of(note);
    if (late != atoll(want)) test_fail(file, line, "note %lld: late is %lld, expected %s", id, late, want);
    free(note);
}

#define CHECK_LATE(w, u, id, want) check_late(__FILE__, __LINE__, (w), (u), (id), (want))

static void test_reports_deadlines_follow_the_servers_clock_and_a_late_filing_stays_late(void)
{
    world w;
    if (world_start(&w, 0)) return;
    char when[32];

    /* 2026 Q2: unit A files on 11 July (due the 5th); the department
     * consolidates and signs after its 10th. */
    harness_clock_set(&w.h, "2026-07-11 01:00");
    long long q2a = NOTE_CREATE(&w, &w.head_a, w.h.unit_a, 2026, 2);
    CHECK_NOTE_DEADLINE(&w, &w.head_a, q2a, "2026-07-05", -6, 1, 0);
    NOTE_DO(&w, &w.head_a, q2a, "submit", "{}");
    CHECK_LATE(&w, &w.head_a, q2a, "1");
    snprintf(when, sizeof when, "%lld", (long long)harness_utc_seconds("2026-07-11 01:00"));
    CHECK_NOTE_JSON(&w, &w.head_a, q2a, "$.submitted_at", when);
    long long q2d = NOTE_CREATE(&w, &w.deputy, w.astana, 2026, 2);
    CHECK_NOTE_DEADLINE(&w, &w.deputy, q2d, "2026-07-10", -1, 1, 0);
    NOTE_DO(&w, &w.deputy, q2d, "consolidate", "{}");
    NOTE_DO(&w, &w.deputy, q2d, "sign", "{\"password\": \"" PASSWORD "\"}");
    CHECK_LATE(&w, &w.deputy, q2d, "1");

    /* 2026 Q3: days left counted down to the 5th. */
    harness_clock_set(&w.h, "2026-10-03 12:00");
    long long a = NOTE_CREATE(&w, &w.head_a, w.h.unit_a, 2026, 3);
    long long d = NOTE_CREATE(&w, &w.deputy, w.astana, 2026, 3);
    CHECK_NOTE_DEADLINE(&w, &w.head_a, a, "2026-10-05", 2, 0, 0);
    CHECK_NOTE_DEADLINE(&w, &w.deputy, d, "2026-10-10", 7, 0, 0);
    harness_clock_set(&w.h, "2026-10-05 00:01");
    CHECK_NOTE_DEADLINE(&w, &w.head_a, a, "2026-10-05", 0, 0, 0);
    /* Filed at 23:00 on its day: not late. */
    harness_clock_set(&w.h, "2026-10-05 23:00");
    NOTE_DO(&w, &w.head_a, a, "submit", "{}");
    CHECK_LATE(&w, &w.head_a, a, "0");
    snprintf(when, sizeof when, "%lld", (long long)harness_utc_seconds("2026-10-05 23:00"));
    CHECK_NOTE_JSON(&w, &w.head_a, a, "$.submitted_at", when);
    /* Half past midnight: B's note is overdue, and filed late. */
    harness_clock_set(&w.h, "2026-10-06 00:30");
    long long b = NOTE_CREATE(&w, &w.head_b, w.h.unit_b, 2026, 3);
    CHECK_NOTE_DEADLINE(&w, &w.head_b, b, "2026-10-05", -1, 1, 0);
    NOTE_DO(&w, &w.head_b, b, "submit", "{}");
    CHECK_LATE(&w, &w.head_b, b, "1");
    CHECK_LATE(&w, &w.head_a, a, "0");
    CHECK_NOTE_DEADLINE(&w, &w.deputy, d, "2026-10-10", 4, 0, 0);
    /* The quarter's list for the deputy: the three units (C without a
     * note yet) and the department. */
    web_answer list = WEB_ANSWER_INIT;
    CHECK_EQ_INT(supervisor_call(&list, &w.h, &w.deputy, "GET", NULL, "/v1/reports?year=2026&quarter=3"), 200);
    char id_a[32], id_b[32], id_c[32], id_d[32], note_a[32];
    snprintf(id_a, sizeof id_a, "%lld", (long long)w.h.unit_a);
    snprintf(id_b, sizeof id_b, "%lld", (long long)w.h.unit_b);
    snprintf(id_c, sizeof id_c, "%lld", (long long)w.unit_c);
    snprintf(id_d, sizeof id_d, "%lld", (long long)w.astana);
    snprintf(note_a, sizeof note_a, "%lld", a);
    CHECK_EQ_INT(count_of(list.body, "$.notes"), 4);
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_a, "id", note_a);
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_a, "late", "0");
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_a, "state", "submitted");
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_a, "deadline.due", "2026-10-05");
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_b, "late", "1");
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_c, "id", NULL);
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_c, "deadline.due", "2026-10-05");
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_c, "deadline.days_left", "-1");
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_c, "deadline.overdue", "1");
    CHECK_EQ_INT(count_where(list.body, "$.notes", "unit_id", id_c), 1);
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_d, "level", "department");
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_d, "deadline.due", "2026-10-10");
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_d, "deadline.days_left", "4");
    /* Unit A's head sees unit A's note only. */
    CHECK_EQ_INT(supervisor_call(&list, &w.h, &w.head_a, "GET", NULL, "/v1/reports?year=2026&quarter=3"), 200);
    CHECK_EQ_INT(count_of(list.body, "$.notes"), 1);
    CHECK_MEMBER(list.body, "$.notes", "unit_id", id_a, "id", note_a);
    web_answer_free(&list);
    long long c = NOTE_CREATE(&w, &w.deputy, w.unit_c, 2026, 3); /* the deputy drafts for a unit */
    CHECK_NOTE_DEADLINE(&w, &w.deputy, c, "2026-10-05", -1, 1, 0);

    /* Returned and filed again in time for nothing: late for good. */
    harness_clock_set(&w.h, "2026-10-06 09:00");
    NOTE_DO(&w, &w.deputy, b, "return", "{\"comment\": \"3-блоктағы сандарды тексеріңіз.\"}");
    CHECK_NOTE_JSON(&w, &w.head_b, b, "$.state", "returned");
    CHECK_LATE(&w, &w.head_b, b, "1");
    harness_clock_set(&w.h, "2026-10-07 10:00");
    NOTE_DO(&w, &w.head_b, b, "submit", "{}");
    CHECK_NOTE_JSON(&w, &w.head_b, b, "$.state", "submitted");
    CHECK_LATE(&w, &w.head_b, b, "1");

    /* The department's day is the 10th, to its end. */
    harness_clock_set(&w.h, "2026-10-10 00:01");
    CHECK_NOTE_DEADLINE(&w, &w.deputy, d, "2026-10-10", 0, 0, 0);
    harness_clock_set(&w.h, "2026-10-10 22:00");
    NOTE_DO(&w, &w.deputy, d, "consolidate", "{}");
    NOTE_DO(&w, &w.deputy, d, "sign", "{\"password\": \"" PASSWORD "\"}");
    CHECK_LATE(&w, &w.deputy, d, "0");
    char *dep = NOTE_GET(&w, &w.deputy, d);
    CHECK_MEMBER(dep, "$.units", "unit_id", id_a, "late", "0");
    CHECK_MEMBER(dep, "$.units", "unit_id", id_b, "late", "1");
    free(dep);
    harness_clock_set(&w.h, "2026-10-11 08:00");
    CHECK_LATE(&w, &w.deputy, d, "0");

    /* 2026 Q4, with the clock in 2027. */
    harness_clock_set(&w.h, "2027-01-03 12:00");
    long long q4a = NOTE_CREATE(&w, &w.head_a, w.h.unit_a, 2026, 4);
    long long q4d = NOTE_CREATE(&w, &w.deputy, w.astana, 2026, 4);
    CHECK_NOTE_DEADLINE(&w, &w.head_a, q4a, "2027-01-05", 2, 0, 0);
    CHECK_NOTE_DEADLINE(&w, &w.deputy, q4d, "2027-01-10", 7, 0, 0);
    harness_clock_set(&w.h, "2027-01-07 12:00");
    CHECK_NOTE_DEADLINE(&w, &w.head_a, q4a, "2027-01-05", -2, 1, 0);
    CHECK_NOTE_DEADLINE(&w, &w.deputy, q4d, "2027-01-10", 3, 0, 0);
    harness_clock_set(&w.h, "2027-01-11 00:30");
    CHECK_NOTE_DEADLINE(&w, &w.deputy, q4d, "2027-01-10", -1, 1, 0);
    world_stop(&w);
}

/* =============================================================== workflow */

static void test_reports_narrative_is_kept_and_submitting_freezes_the_figures_until_returned(void)
{
    static const char narrative[] = "Тоқсанда 6 қылмыс тіркелді, оның 5-уі «отбасы-тұрмыстық».";
    static const char body[] =
        "{\"block\": 1, \"text\": \"Тоқсанда 6 қылмыс тіркелді, оның 5-уі «отбасы-тұрмыстық».\"}";
    world w;
    if (world_start(&w, 1)) return;
    harness_clock_set(&w.h, "2026-10-02 10:00");
    long long id = NOTE_CREATE(&w, &w.head_a, w.h.unit_a, 2026, 3);
    CHECK_EQ_INT(NOTE_CREATE(&w, &w.head_a, w.h.unit_a, 2026, 3), id); /* the one there is */
    CHECK_EQ_INT(NOTE_CREATE(&w, &w.deputy, w.h.unit_a, 2026, 3), id);
    NOTE_DO(&w, &w.head_a, id, "narrative", body);
    char *note = NOTE_GET(&w, &w.head_a, id);
    CHECK_MEMBER(note, "$.blocks", "block", "1", "narrative", narrative);
    char *other = member_where(note, "$.blocks", "block", "2", "narrative");
    CHECK(other == NULL || other[0] == '\0');
    free(other);
    free(note);

    /* Submitted: frozen, and closed to edits. */
    NOTE_DO(&w, &w.head_a, id, "submit", "{}");
    note = NOTE_GET(&w, &w.deputy, id);
    CHECK_JSON(note, "$.state", "submitted");
    CHECK_FIGURES("unit A, submitted", note, unit_a_figures);
    CHECK_FROZEN(note, "crimes", "", 6, -1);
    free(note);
    CHECK_EQ_INT(central_int(&w.h, "SELECT now FROM report_figure WHERE note_id = ?1 AND grp = 'crimes' AND value = ''", id, 0), 6);
    CHECK_REFUSED(&w, &w.head_a, id, "narrative", "{\"block\": 1, \"text\": \"Өзгертілген мәтін\"}", 0);
    CHECK_REFUSED(&w, &w.head_a, id, "submit", "{}", 0); /* already filed */
    note = NOTE_GET(&w, &w.head_a, id);
    CHECK_MEMBER(note, "$.blocks", "block", "1", "narrative", narrative);
    free(note);

    /* A crime written afterwards shows beside the frozen figures. */
    put_record(&w, &late_crime);
    sync_all(&w);
    note = NOTE_GET(&w, &w.deputy, id);
    CHECK_FROZEN(note, "crimes", "", 6, 7);
    CHECK_FROZEN(note, "crimes.family_domestic", "", 5, 6);
    CHECK_FROZEN(note, "crimes.article", "uk.106", 2, 3);
    CHECK_FROZEN(note, "crimes.relationship", "spouse", 1, 2);
    CHECK_FROZEN(note, "crimes.offender_age", "40_49", 1, 2);
    CHECK_FROZEN(note, "crimes.victim_age", "30_39", 5, 6);
    CHECK_FROZEN(note, "not_approved.1", "", 5, 6);              /* C7 is not approved yet */
    CHECK_FROZEN(note, "crimes.victims", "", 3, -1);             /* C7's V1 is counted already */
    CHECK_FROZEN(note, "crimes.offenders", "", 5, -1);           /* and so is its O45 */
    CHECK_FROZEN(note, "crimes.relationship", "cohabitant", 1, -1); /* untouched */
    CHECK_FROZEN(note, "suicides", "attempt", 2, -1);
    CHECK_FROZEN(note, "aid", "", 4, -1);
    free(note);
    CHECK_EQ_INT(central_int(&w.h, "SELECT now FROM report_figure WHERE note_id = ?1 AND grp = 'crimes' AND value = ''", id, 0), 6);

    /* Returned with a comment: live again, and open to edits. */
    web_answer a = WEB_ANSWER_INIT;
    check_refused(__FILE__, __LINE__, &a, note_post(&a, &w, &w.deputy, id, "return", "{}"), 400, "return without a comment");
    check_refused(__FILE__, __LINE__, &a, note_post(&a, &w, &w.deputy, id, "return", "{\"comment\": \"\"}"), 400,
                  "return with an empty comment");
    web_answer_free(&a);
    CHECK_NOTE_JSON(&w, &w.head_a, id, "$.state", "submitted");
    NOTE_DO(&w, &w.deputy, id, "return", "{\"comment\": \"25 тамыздағы қылмысты қосыңыз.\"}");
    note = NOTE_GET(&w, &w.head_a, id);
    CHECK_JSON(note, "$.state", "returned");
    CHECK_JSON(note, "$.return_comment", "25 тамыздағы қылмысты қосыңыз.");
    CHECK_FROZEN(note, "crimes", "", 7, -1);
    CHECK_FROZEN(note, "crimes.article", "uk.106", 3, -1);
    CHECK_MEMBER(note, "$.blocks", "block", "1", "narrative", narrative);
    free(note);
    NOTE_DO(&w, &w.head_a, id, "narrative", "{\"block\": 1, \"text\": \"Тоқсанда 7 қылмыс тіркелді.\"}");
    NOTE_DO(&w, &w.head_a, id, "submit", "{}");
    note = NOTE_GET(&w, &w.head_a, id);
    CHECK_JSON(note, "$.state", "submitted");
    CHECK_FROZEN(note, "crimes", "", 7, -1);
    CHECK_MEMBER(note, "$.blocks", "block", "1", "narrative", "Тоқсанда 7 қылмыс тіркелді.");
    free(note);
    world_stop(&w);
}

static void test_reports_forbidden_moves_are_refused_with_a_clear_error_and_change_nothing(void)
{
    world w;
    if (world_start(&w, 0)) return;
    harness_clock_set(&w.h, "2026-10-02 10:00");
    long long a = NOTE_CREATE(&w, &w.head_a, w.h.unit_a, 2026, 3);
    web_answer r = WEB_ANSWER_INIT;
    char body[128];

    /* An inspector neither drafts nor submits. */
    snprintf(body, sizeof body, "{\"unit_id\": %lld, \"year\": 2026, \"quarter\": 3}", (long long)w.h.unit_a);
    check_refused(__FILE__, __LINE__, &r, supervisor_call(&r, &w.h, &w.inspector, "POST", body, "/v1/reports"), 0, "an inspector drafts");
    CHECK_REFUSED(&w, &w.inspector, a, "submit", "{}", 0);
    CHECK_REFUSED(&w, &w.inspector, a, "narrative", "{\"block\": 1, \"text\": \"Инспектордың мәтіні\"}", 0);
    CHECK_NOTE_JSON(&w, &w.head_a, a, "$.state", "draft");
    /* An analyst reads, but writes nothing. */
    CHECK_GET_STATUS(&w, &w.analyst, 200, "/v1/reports/%lld", a);
    CHECK_REFUSED(&w, &w.analyst, a, "submit", "{}", 0);
    /* Bad input. */
    CHECK_REFUSED(&w, &w.head_a, a, "narrative", "{\"block\": 10, \"text\": \"Он\"}", 400);
    CHECK_REFUSED(&w, &w.head_a, a, "narrative", "{\"block\": 0, \"text\": \"Нөл\"}", 400);
    /* A draft cannot be returned or consolidated into anything. */
    CHECK_REFUSED(&w, &w.deputy, a, "return", "{\"comment\": \"Неге?\"}", 0);
    CHECK_NOTE_JSON(&w, &w.head_a, a, "$.state", "draft");
    /* Submitted: no more narrative; only the deputy returns it. */
    NOTE_DO(&w, &w.head_a, a, "submit", "{}");
    CHECK_REFUSED(&w, &w.head_a, a, "narrative", "{\"block\": 2, \"text\": \"Кеш мәтін\"}", 0);
    CHECK_REFUSED(&w, &w.head_a, a, "return", "{\"comment\": \"Өзіме қайтарамын\"}", 0);
    CHECK_REFUSED(&w, &w.head_a, a, "consolidate", "{}", 0);
    CHECK_REFUSED(&w, &w.deputy, a, "consolidate", "{}", 0); /* a unit's note is consolidated through its department's */
    CHECK_REFUSED(&w, &w.deputy, a, "sign", "{\"password\": \"" PASSWORD "\"}", 0);
    CHECK_NOTE_JSON(&w, &w.head_a, a, "$.state", "submitted");
    char *narrative = central_text(&w.h, "SELECT count(*) FROM report_narrative WHERE note_id = ?1", a);
    CHECK(narrative && strcmp(narrative, "0") == 0);
    free(narrative);
    /* Another unit's head sees nothing of it. */
    CHECK_GET_STATUS(&w, &w.head_b, 404, "/v1/reports/%lld", a);
    /* The department's note: not signed before it is consolidated, never submitted. */
    long long d = NOTE_CREATE(&w, &w.deputy, w.astana, 2026, 3);
    CHECK_REFUSED(&w, &w.deputy, d, "sign", "{\"password\": \"" PASSWORD "\"}", 0);
    CHECK_REFUSED(&w, &w.deputy, d, "submit", "{}", 0);
    CHECK_REFUSED(&w, &w.head_a, d, "consolidate", "{}", 0);
    CHECK_NOTE_JSON(&w, &w.deputy, d, "$.state", "draft");
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM report_note WHERE id = ?1 AND signature IS NULL", d, 0), 1);
    NOTE_DO(&w, &w.deputy, d, "consolidate", "{}");
    /* An analyst cannot sign, not even with their own password. */
    CHECK_REFUSED(&w, &w.analyst, d, "sign", "{\"password\": \"" PASSWORD "\"}", 0);
    CHECK_REFUSED(&w, &w.head_a, d, "sign", "{\"password\": \"" PASSWORD "\"}", 0);
    CHECK_NOTE_JSON(&w, &w.deputy, d, "$.state", "consolidated");
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM report_note WHERE id = ?1 AND signature IS NULL AND signed_at IS NULL", d, 0), 1);
    /* pd-almaty-city's deputy: Astana's notes do not exist. */
    CHECK_GET_STATUS(&w, &w.almaty_deputy, 404, "/v1/reports/%lld", a);
    CHECK_GET_STATUS(&w, &w.almaty_deputy, 404, "/v1/reports/%lld", d);
    CHECK_GET_STATUS(&w, &w.almaty_deputy, 404, "/v1/reports/%lld/verify", d);
    CHECK_GET_STATUS(&w, &w.almaty_deputy, 404, "/v1/reports/%lld/note.csv", a);
    CHECK_GET_STATUS(&w, &w.almaty_deputy, 404, "/v1/reports/%lld/records?group=crimes&value=&period=now", a);
    CHECK_REFUSED(&w, &w.almaty_deputy, a, "return", "{\"comment\": \"Бөгде\"}", 404);
    CHECK_REFUSED(&w, &w.almaty_deputy, d, "sign", "{\"password\": \"" PASSWORD "\"}", 404);
    check_refused(__FILE__, __LINE__, &r, supervisor_call(&r, &w.h, &w.almaty_deputy, "POST", body, "/v1/reports"), 404,
                  "Almaty's deputy drafts for Astana's unit");
    CHECK_EQ_INT(supervisor_call(&r, &w.h, &w.almaty_deputy, "GET", NULL, "/v1/reports?year=2026&quarter=3"), 200);
    char unit_a[32];
    snprintf(unit_a, sizeof unit_a, "%lld", (long long)w.h.unit_a);
    CHECK_EQ_INT(count_where(r.body, "$.notes", "unit_id", unit_a), 0);
    CHECK_NOTE_JSON(&w, &w.deputy, a, "$.state", "consolidated");
    CHECK_NOTE_JSON(&w, &w.deputy, d, "$.state", "consolidated");
    web_answer_free(&r);
    world_stop(&w);
}

/* ============================================================== signature */

/* `dala-server verify-report` with `flag` and `value` (--db's first when
 * `flag` is --note): its exit status (-1 if it did not run or timed out),
 * stdout and stderr (malloc'd). */
static int run_verify_with(const world *w, const char *flag, const char *value, char **out, char **err)
{
    char out_path[600], err_path[600];
    snprintf(out_path, sizeof out_path, "%s/verify-out.txt", w->h.dir);
    snprintf(err_path, sizeof err_path, "%s/verify-err.txt", w->h.dir);
    const char *with_db[] = {test_binary_path("dala-server"), "verify-report", "--db", w->h.db_path, flag, value, NULL};
    const char *alone[] = {test_binary_path("dala-server"), "verify-report", flag, value, NULL};
    *out = *err = NULL;
    int status;
    if (run_with_timeout(&status, strcmp(flag, "--note") == 0 ? with_db : alone, NULL, out_path, err_path,
                         CLI_TIMEOUT_MS))
        return -1;
    *out = test_read_file(out_path);
    *err = test_read_file(err_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* `dala-server verify-report --db ... --note id`. */
static int run_verify(const world *w, long long id, char **out, char **err)
{
    char note[32];
    snprintf(note, sizeof note, "%lld", id);
    return run_verify_with(w, "--note", note, out, err);
}

/* The note verifies (`is_valid`) or not, by GET verify, by the note's
 * signature.valid and by the command line. */
static void check_verifies(const char *file, int line, world *w, long long id, int is_valid, const char *what)
{
    web_answer a = WEB_ANSWER_INIT;
    int status = supervisor_call(&a, &w->h, &w->analyst, "GET", NULL, "/v1/reports/%lld/verify", id);
    char *valid = json_get(a.body, "$.valid"), *reason = json_get(a.body, "$.reason");
    if (status != 200 || !valid || strcmp(valid, is_valid ? "1" : "0"))
        test_fail(file, line, "%s: verify answered %d %.300s, expected valid %d", what, status, a.body ? a.body : "", is_valid);
    if (is_valid ? reason != NULL : !reason || !reason[0])
        test_fail(file, line, "%s: reason is \"%s\"", what, reason ? reason : "(null)");
    free(valid);
    free(reason);
    char *note = note_get_at(file, line, w, &w->deputy, id, "");
    valid = json_get(note, "$.signature.valid");
    if (!valid || strcmp(valid, is_valid ? "1" : "0"))
        test_fail(file, line, "%s: the note's signature.valid is %s", what, valid ? valid : "(absent)");
    free(valid);
    free(note);
    char *out = NULL, *err = NULL;
    int code = run_verify(w, id, &out, &err);
    if (is_valid && (code != 0 || !out || !strstr(out, "valid") || strstr(out, "invalid")))
        test_fail(file, line, "%s: verify-report exited %d: %s%s", what, code, out ? out : "", err ? err : "");
    if (!is_valid && (code != 1 || !err || strlen(err) < 4))
        test_fail(file, line, "%s: verify-report exited %d (expected 1 with a reason): %s%s", what, code, out ? out : "",
                  err ? err : "");
    free(out);
    free(err);
    web_answer_free(&a);
}

#define CHECK_VERIFIES(w, id, is_valid, what) check_verifies(__FILE__, __LINE__, (w), (id), (is_valid), (what))

static void test_reports_signed_note_verifies_until_any_stored_byte_changes(void)
{
    world w;
    if (world_start(&w, 1)) return;
    long long a_id, b_id;
    long long d = consolidate_department(&w, &a_id, &b_id, "2026-10-02 10:00", "2026-10-03 11:30", "2026-10-08 09:00");
    /* A wrong password signs nothing. */
    harness_clock_set(&w.h, "2026-10-08 10:00");
    CHECK_REFUSED(&w, &w.deputy, d, "sign", "{\"password\": \"Not-the-one-1\"}", 0);
    CHECK_REFUSED(&w, &w.deputy, d, "sign", "{}", 0);
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM report_note WHERE id = ?1 AND state = 'consolidated' "
                                   "AND signature IS NULL AND signed_at IS NULL AND signer_id IS NULL", d, 0), 1);
    CHECK_NOTE_JSON(&w, &w.deputy, d, "$.signature", NULL);

    NOTE_DO(&w, &w.deputy, d, "sign", "{\"password\": \"" PASSWORD "\"}");
    char *note = NOTE_GET(&w, &w.analyst, d), when[32];
    CHECK_JSON(note, "$.state", "signed");
    CHECK_NONEMPTY(note, "$.signature.signer");
    CHECK_NONEMPTY(note, "$.signature.fingerprint");
    snprintf(when, sizeof when, "%lld", (long long)harness_utc_seconds("2026-10-08 10:00"));
    CHECK_JSON(note, "$.signature.signed_at", when);
    CHECK_JSON(note, "$.signature.valid", "1");
    free(note);
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM report_note WHERE id = ?1 AND length(signature) > 0 "
                                   "AND length(public_key) > 0", d, 0), 1);
    CHECK_VERIFIES(&w, d, 1, "as signed");
    /* A signed note takes nothing more. */
    CHECK_REFUSED(&w, &w.deputy, d, "sign", "{\"password\": \"" PASSWORD "\"}", 0);
    CHECK_REFUSED(&w, &w.deputy, d, "consolidate", "{}", 0);
    CHECK_REFUSED(&w, &w.deputy, d, "narrative", "{\"block\": 1, \"text\": \"Қол қойылғаннан кейін\"}", 0);
    CHECK_REFUSED(&w, &w.deputy, a_id, "return", "{\"comment\": \"Кеш\"}", 0);

    /* One figure changed in the database, then put back. */
    CHECK_EQ_INT(central_change(&w.h, "UPDATE report_figure SET now = now + 1 WHERE note_id = ?1 AND grp = 'crimes' AND value = ''", d), 1);
    CHECK_VERIFIES(&w, d, 0, "a figure changed");
    CHECK_EQ_INT(central_change(&w.h, "UPDATE report_figure SET now = now - 1 WHERE note_id = ?1 AND grp = 'crimes' AND value = ''", d), 1);
    CHECK_VERIFIES(&w, d, 1, "the figure put back");
    /* The narrative. */
    CHECK_EQ_INT(central_change(&w.h, "UPDATE report_narrative SET text = text || '!' WHERE note_id = ?1 AND block = 1", d), 1);
    CHECK_VERIFIES(&w, d, 0, "the narrative changed");
    CHECK_EQ_INT(central_change(&w.h, "UPDATE report_narrative SET text = substr(text, 1, length(text) - 1) WHERE note_id = ?1 AND block = 1", d), 1);
    CHECK_VERIFIES(&w, d, 1, "the narrative put back");
    /* A unit's own text, which the department's note carries under its block. */
    CHECK_EQ_INT(central_change(&w.h, "UPDATE report_narrative SET text = text || '!' WHERE note_id = ?1 AND block = 1", a_id), 1);
    CHECK_VERIFIES(&w, d, 0, "unit A's narrative changed");
    CHECK_EQ_INT(central_change(&w.h, "UPDATE report_narrative SET text = substr(text, 1, length(text) - 1) WHERE note_id = ?1 AND block = 1", a_id), 1);
    CHECK_VERIFIES(&w, d, 1, "unit A's narrative put back");
    /* A unit's filing as the department took it in. */
    CHECK_EQ_INT(central_change(&w.h, "UPDATE report_filing SET submitted_at = submitted_at + 60 "
                                      "WHERE note_id = ?1 AND submitted_at IS NOT NULL", d), 2);
    CHECK_VERIFIES(&w, d, 0, "a filing time changed");
    CHECK_EQ_INT(central_change(&w.h, "UPDATE report_filing SET submitted_at = submitted_at - 60 "
                                      "WHERE note_id = ?1 AND submitted_at IS NOT NULL", d), 2);
    /* The signature itself, and the key. */
    if (!flip_note_blob(&w.h, "signature", d)) {
        CHECK_VERIFIES(&w, d, 0, "a bit of the signature flipped");
        flip_note_blob(&w.h, "signature", d);
    }
    if (!flip_note_blob(&w.h, "public_key", d)) {
        CHECK_VERIFIES(&w, d, 0, "a bit of the public key flipped");
        flip_note_blob(&w.h, "public_key", d);
    }
    CHECK_VERIFIES(&w, d, 1, "all put back");
    world_stop(&w);
}

static void test_reports_record_corrected_after_signing_shows_beside_the_signed_figure(void)
{
    world w;
    if (world_start(&w, 1)) return;
    long long a_id, b_id;
    long long d = consolidate_department(&w, &a_id, &b_id, "2026-10-02 10:00", "2026-10-03 11:30", "2026-10-08 09:00");
    NOTE_DO(&w, &w.deputy, d, "sign", "{\"password\": \"" PASSWORD "\"}");
    CHECK_VERIFIES(&w, d, 1, "as signed");
    /* C5 was committed on 2 October after all: out of the quarter. */
    harness_clock_set(&w.h, NULL);
    CHECK_OK(dala_record_put(NULL, w.tablet[A1], "offence", id_of(&w, "C5"), "{\"committed_on\": \"2026-10-02\"}"));
    sync_all(&w);
    char *note = NOTE_GET(&w, &w.deputy, d);
    CHECK_JSON(note, "$.state", "signed");
    CHECK_FROZEN(note, "crimes", "", 7, 6);
    CHECK_FROZEN(note, "crimes.family_domestic", "", 6, 5);
    CHECK_FROZEN(note, "crimes.article", "uk.108-1", 1, 0);
    CHECK_FROZEN(note, "crimes.relationship", "stranger", 1, 0);
    CHECK_FROZEN(note, "crimes.offender_age", "unknown", 2, 1);
    CHECK_FROZEN(note, "crimes.victim_category", "single_mother", 3, 2);
    CHECK_FROZEN(note, "crimes.cause", "jealousy", 2, -1); /* C5 gave none */
    CHECK_FROZEN(note, "crimes.article", "uk.106", 3, -1);
    CHECK_FROZEN(note, "crimes.victim_age", "30_39", 6, 5);    /* V3 was 37 */
    CHECK_FROZEN(note, "crimes.victims", "", 4, -1);           /* V3 is still C4's and C6's victim */
    CHECK_FROZEN(note, "not_approved.1", "", 6, 5);
    CHECK_FROZEN(note, "aid", "", 5, -1);
    CHECK_SOME_FIGURES("pd-astana, as signed", note, department_figures);
    free(note);
    CHECK_EQ_INT(central_int(&w.h, "SELECT now FROM report_figure WHERE note_id = ?1 AND grp = 'crimes' AND value = ''", d, 0), 7);
    CHECK_VERIFIES(&w, d, 1, "after the correction");
    world_stop(&w);
}

/* ============================================================== downloads */

/* Every figure's label of `note` is in `text`. */
static void check_labels_in(const char *file, int line, const char *note, const char *text, const char *what)
{
    figures f = figures_of(note);
    if (!f.count) test_fail(file, line, "%s: no figures", what);
    for (size_t i = 0; i < f.count; i++)
        if (!f.items[i].label[0] || !strstr(text ? text : "", f.items[i].label))
            test_fail(file, line, "%s lacks the label \"%s\" of %s/\"%s\"", what, f.items[i].label, f.items[i].group,
                      f.items[i].value);
    figures_free(&f);
}

static size_t line_count(const char *text)
{
    size_t n = 0;
    for (const char *p = text; p && *p; p++) n += *p == '\n';
    return n;
}

/* The printed page is laid out for A4: in its own <style>, or in the
 * stylesheet it links to. */
static void check_a4(const char *file, int line, world *w, const char *page)
{
    if (page && (strstr(page, "@page") || strstr(page, "A4"))) return;
    const char *link = page ? strstr(page, "rel=\"stylesheet\" href=\"") : NULL;
    if (!link) {
        test_fail(file, line, "the printed page has no A4 rule and links no stylesheet");
        return;
    }
    char href[200];
    link += strlen("rel=\"stylesheet\" href=\"");
    snprintf(href, sizeof href, "%.*s", (int)strcspn(link, "\""), link);
    web_answer css = WEB_ANSWER_INIT;
    int status = supervisor_call(&css, &w->h, &w->analyst, "GET", NULL, "%s", href);
    if (status != 200 || !css.body || !strstr(css.body, "@page") || !strstr(css.body, "A4"))
        test_fail(file, line, "the printed page's stylesheet %s (%d) has no @page rule for A4", href, status);
    web_answer_free(&css);
}

static void test_reports_downloads_carry_every_figure_with_its_labels_and_the_block_titles(void)
{
    world w;
    if (world_start(&w, 1)) return;
    harness_clock_set(&w.h, "2026-10-02 10:00");
    long long id = NOTE_CREATE(&w, &w.head_a, w.h.unit_a, 2026, 3);
    NOTE_DO(&w, &w.head_a, id, "submit", "{}");
    char *kk = NOTE_GET(&w, &w.analyst, id), *ru = note_get_at(__FILE__, __LINE__, &w, &w.analyst, id, "?lang=ru");
    figures fk = figures_of(kk), fr = figures_of(ru);
    const figure *spouse_kk = figure_find(&fk, 1, "crimes.relationship", "spouse", NULL);
    const figure *spouse_ru = figure_find(&fr, 1, "crimes.relationship", "spouse", NULL);
    CHECK(spouse_kk && strstr(spouse_kk->label, "Жұбайы"));
    CHECK(spouse_ru && strstr(spouse_ru->label, "Супруг (супруга)"));
    size_t figure_count = fk.count;
    figures_free(&fk);
    figures_free(&fr);
    web_answer a = WEB_ANSWER_INIT;
    char type[128];

    /* CSV: a BOM for Excel, a row per figure, labels in either language. */
    CHECK_EQ_INT(supervisor_call(&a, &w.h, &w.analyst, "GET", NULL, "/v1/reports/%lld/note.csv", id), 200);
    CHECK(web_header(type, sizeof type, &a, "Content-Type") && strstr(type, "text/csv"));
    CHECK(a.body_len >= 3 && memcmp(a.body, "\xEF\xBB\xBF", 3) == 0);
    check_labels_in(__FILE__, __LINE__, kk, a.body, "note.csv");
    if (line_count(a.body) < figure_count + 1)
        test_fail(__FILE__, __LINE__, "note.csv has %zu lines for %zu figures", line_count(a.body), figure_count);
    CHECK_EQ_INT(supervisor_call(&a, &w.h, &w.analyst, "GET", NULL, "/v1/reports/%lld/note.csv?lang=ru", id), 200);
    CHECK(a.body_len >= 3 && memcmp(a.body, "\xEF\xBB\xBF", 3) == 0);
    check_labels_in(__FILE__, __LINE__, ru, a.body, "note.csv?lang=ru");
    CHECK_CONTAINS(a.body, "Супруг (супруга)");

    /* JSON: the note itself. */
    CHECK_EQ_INT(supervisor_call(&a, &w.h, &w.analyst, "GET", NULL, "/v1/reports/%lld/note.json", id), 200);
    CHECK(web_header(type, sizeof type, &a, "Content-Type") && strstr(type, "application/json"));
    CHECK_EQ_INT(int_of_text(SQL_TEXT("SELECT json_valid(?1)", a.body ? a.body : "")), 1);
    char want_id[32];
    snprintf(want_id, sizeof want_id, "%lld", id);
    CHECK_JSON(a.body, "$.id", want_id);
    CHECK_EQ_INT(count_of(a.body, "$.blocks"), 9);
    CHECK_FIGURES("note.json", a.body, unit_a_figures);

    /* The printable page: A4, with the nine titles. */
    CHECK_EQ_INT(supervisor_call(&a, &w.h, &w.analyst, "GET", NULL, "/v1/reports/%lld/print?lang=ru", id), 200);
    CHECK(web_header(type, sizeof type, &a, "Content-Type") && strstr(type, "text/html"));
    check_a4(__FILE__, __LINE__, &w, a.body);
    for (int block = 0; block < 9; block++) {
        char path[64];
        snprintf(path, sizeof path, "$.blocks[%d].title", block);
        char *title = json_get(ru, path);
        if (!title || !a.body || !strstr(a.body, title))
            test_fail(__FILE__, __LINE__, "the printed page lacks block %d's title \"%s\"", block + 1, title ? title : "");
        free(title);
    }
    CHECK_CONTAINS(a.body, "Супруг (супруга)");

    /* The chart. */
    CHECK_EQ_INT(supervisor_call(&a, &w.h, &w.analyst, "GET", NULL, "/v1/reports/%lld/chart.svg?block=1", id), 200);
    CHECK(web_header(type, sizeof type, &a, "Content-Type") && strstr(type, "image/svg+xml"));
    CHECK_CONTAINS(a.body, "<svg");
    /* Each download and print is an export in the audit trail (two CSVs,
     * the JSON, the page); a chart alone is not. */
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM audit WHERE action = 'report_export' AND unit_id = ?1",
                             w.h.unit_a, 0), 4);
    web_answer_free(&a);
    free(kk);
    free(ru);
    world_stop(&w);
}

/* Wrong passwords at signing count toward the login's sign-in throttle:
 * after five, even the right one waits (429), and nothing is signed. */
static void test_reports_wrong_signing_passwords_are_throttled_like_sign_ins(void)
{
    world w;
    if (world_start(&w, 1)) return;
    long long a_id, b_id;
    long long d = consolidate_department(&w, &a_id, &b_id, "2026-10-02 10:00", "2026-10-03 11:30", "2026-10-08 09:00");
    for (int i = 0; i < 5; i++) CHECK_REFUSED(&w, &w.deputy, d, "sign", "{\"password\": \"Not-the-one-1\"}", 403);
    CHECK_REFUSED(&w, &w.deputy, d, "sign", "{\"password\": \"" PASSWORD "\"}", 429);
    CHECK_NOTE_JSON(&w, &w.deputy, d, "$.state", "consolidated");
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM report_note WHERE id = ?1 AND signature IS NULL", d, 0), 1);
    CHECK_EQ_INT(central_int(&w.h, "SELECT count(*) FROM audit WHERE action = 'report_sign_failed'", 0, 0), 5);
    world_stop(&w);
}

/* A narrative holds 20,000 letters (Kazakh letters are two bytes each),
 * not one more; the refused text leaves the kept one as it was. */
static void test_reports_narrative_holds_twenty_thousand_letters_and_no_more(void)
{
    world w;
    if (world_start(&w, 0)) return;
    harness_clock_set(&w.h, "2026-10-02 10:00");
    long long a = NOTE_CREATE(&w, &w.head_a, w.h.unit_a, 2026, 3);
    size_t letters = 20000, size = 64 + 2 * (letters + 1);
    char *body = malloc(size);
    CHECK(body != NULL);
    if (body) {
        size_t n = (size_t)snprintf(body, size, "{\"block\": 2, \"text\": \"");
        for (size_t i = 0; i < letters; i++, n += 2) memcpy(body + n, "ә", 2);
        snprintf(body + n, size - n, "\"}");
        NOTE_DO(&w, &w.head_a, a, "narrative", body);
        CHECK_EQ_INT(central_int(&w.h, "SELECT length(text) FROM report_narrative WHERE note_id = ?1 AND block = 2", a, 0),
                     20000);
        memcpy(body + n, "ә\"}", 5); /* one letter more */
        body[n + 5] = '\0';
        CHECK_REFUSED(&w, &w.head_a, a, "narrative", body, 400);
        CHECK_EQ_INT(central_int(&w.h, "SELECT length(text) FROM report_narrative WHERE note_id = ?1 AND block = 2", a, 0),
                     20000);
    }
    free(body);
    world_stop(&w);
}

/* `dala-server verify-report --file PATH`, with no database. */
static int run_verify_file(const world *w, const char *path, char **out, char **err)
{
    return run_verify_with(w, "--file", path, out, err);
}

/* Writes `len` bytes of `text` to `path`; 0 on success. */
static int write_text(const char *path, const char *text, size_t len)
{
    FILE *file = fopen(path, "wb");
    if (!file) return -1;
    size_t written = fwrite(text, 1, len, file);
    return fclose(file) == 0 && written == len ? 0 : -1;
}

/* The signed note as a file (signed.json) verifies with no database, names
 * what was signed, and fails once any of its bytes is changed; a note not
 * yet signed has no such file. */
static void test_reports_signed_note_file_verifies_without_the_database_until_a_byte_changes(void)
{
    world w;
    if (world_start(&w, 1)) return;
    long long a_id, b_id;
    long long d = consolidate_department(&w, &a_id, &b_id, "2026-10-02 10:00", "2026-10-03 11:30", "2026-10-08 09:00");
    web_answer a = WEB_ANSWER_INIT;
    CHECK_EQ_INT(supervisor_call(&a, &w.h, &w.analyst, "GET", NULL, "/v1/reports/%lld/signed.json", d), 409);
    NOTE_DO(&w, &w.deputy, d, "sign", "{\"password\": \"" PASSWORD "\"}");
    CHECK_EQ_INT(supervisor_call(&a, &w.h, &w.analyst, "GET", NULL, "/v1/reports/%lld/signed.json", d), 200);
    CHECK_JSON(a.body, "$.format", "dala-signed-report/1");
    char *fingerprint = json_get(a.body, "$.fingerprint"), path[600], *out = NULL, *err = NULL;
    snprintf(path, sizeof path, "%s/signed.json", w.h.dir);
    CHECK(a.body && write_text(path, a.body, a.body_len) == 0);
    CHECK_EQ_INT(run_verify_file(&w, path, &out, &err), 0);
    CHECK(out && strstr(out, "signature valid") && strstr(out, "2026 Q3"));
    CHECK(out && fingerprint && strstr(out, fingerprint));
    free(out);
    free(err);
    /* One base64 letter of the signed bytes changed: another byte signed. */
    char *note = json_get(a.body, "$.note");
    CHECK(note && strlen(note) > 100);
    if (note && a.body) {
        char *at = strstr(a.body, note);
        CHECK(at != NULL);
        if (at) at[50] = at[50] == 'A' ? 'B' : 'A';
        CHECK(write_text(path, a.body, a.body_len) == 0);
        CHECK_EQ_INT(run_verify_file(&w, path, &out, &err), 1);
        CHECK(err && strstr(err, "NOT valid"));
        free(out);
        free(err);
    }
    free(note);
    free(fingerprint);
    /* Not a signed note's file at all. */
    const char *other = "{\"format\": \"something else\"}";
    CHECK(write_text(path, other, strlen(other)) == 0);
    CHECK_EQ_INT(run_verify_file(&w, path, &out, &err), 1);
    free(out);
    free(err);
    web_answer_free(&a);
    world_stop(&w);
}

const dala_test reports_tests[] = {
    {"unit_note_gives_every_hand_counted_figure_of_the_quarter_and_a_year_before",
     test_reports_unit_note_gives_every_hand_counted_figure_of_the_quarter_and_a_year_before},
    {"unit_counts_only_its_own_records_and_lists_every_total_even_at_zero",
     test_reports_unit_counts_only_its_own_records_and_lists_every_total_even_at_zero},
    {"each_figure_traces_back_to_exactly_the_records_it_counts",
     test_reports_each_figure_traces_back_to_exactly_the_records_it_counts},
    {"record_voided_after_filing_drops_from_the_live_figure_beside_the_filed_one",
     test_reports_record_voided_after_filing_drops_from_the_live_figure_beside_the_filed_one},
    {"not_approved_counts_each_record_once_per_block_until_approved",
     test_reports_not_approved_counts_each_record_once_per_block_until_approved},
    {"department_note_adds_up_its_units_filed_notes_and_lists_who_filed",
     test_reports_department_note_adds_up_its_units_filed_notes_and_lists_who_filed},
    {"deadlines_follow_the_servers_clock_and_a_late_filing_stays_late",
     test_reports_deadlines_follow_the_servers_clock_and_a_late_filing_stays_late},
    {"narrative_is_kept_and_submitting_freezes_the_figures_until_returned",
     test_reports_narrative_is_kept_and_submitting_freezes_the_figures_until_returned},
    {"forbidden_moves_are_refused_with_a_clear_error_and_change_nothing",
     test_reports_forbidden_moves_are_refused_with_a_clear_error_and_change_nothing},
    {"signed_note_verifies_until_any_stored_byte_changes",
     test_reports_signed_note_verifies_until_any_stored_byte_changes},
    {"record_corrected_after_signing_shows_beside_the_signed_figure",
     test_reports_record_corrected_after_signing_shows_beside_the_signed_figure},
    {"downloads_carry_every_figure_with_its_labels_and_the_block_titles",
     test_reports_downloads_carry_every_figure_with_its_labels_and_the_block_titles},
    {"wrong_signing_passwords_are_throttled_like_sign_ins",
     test_reports_wrong_signing_passwords_are_throttled_like_sign_ins},
    {"narrative_holds_twenty_thousand_letters_and_no_more",
     test_reports_narrative_holds_twenty_thousand_letters_and_no_more},
    {"signed_note_file_verifies_without_the_database_until_a_byte_changes",
     test_reports_signed_note_file_verifies_without_the_database_until_a_byte_changes},
    {NULL, NULL},
};
