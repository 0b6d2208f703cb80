/* report_note.c - quarterly report notes as stored: drafting, deadlines,
 * figures (a draft's live, a filed note's frozen in report_figure), the
 * units a department's note takes in, its own records and the units that
 * filed after it was consolidated, and the moves of the workflow
 * (docs/reports.md). Every move checks the state it starts from inside
 * one IMMEDIATE transaction, so two supervisors cannot file twice. */
#include "report_note.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOTE_COLUMNS                                                                                       \
    "id, unit_id, level, year, quarter, state, created_at, submitted_at, returned_at, consolidated_at, " \
    "signed_at, late, return_comment, signer_id, signer_name, public_key, signature"

static int64_t column_time(sqlite3_stmt *stmt, int column)
{
    return sqlite3_column_type(stmt, column) == SQLITE_NULL ? 0 : sqlite3_column_int64(stmt, column);
}

static char *column_copy(sqlite3_stmt *stmt, int column)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);
    return text ? strdup((const char *)text) : NULL;
}

int report_note_load(report_note *out, sqlite3 *db, int64_t id)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "SELECT " NOTE_COLUMNS " FROM report_note WHERE id = ?1", -1, &stmt, NULL))
        return server_db_error(db, "read a report note");
    sqlite3_bind_int64(stmt, 1, id);
    int step = sqlite3_step(stmt), rc = DALA_OK;
    if (step == SQLITE_ROW) {
        out->id = sqlite3_column_int64(stmt, 0);
        out->unit_id = sqlite3_column_int64(stmt, 1);
        snprintf(out->level, sizeof out->level, "%s", (const char *)sqlite3_column_text(stmt, 2));
        out->year = sqlite3_column_int(stmt, 3);
        out->quarter = sqlite3_column_int(stmt, 4);
        snprintf(out->state, sizeof out->state, "%s", (const char *)sqlite3_column_text(stmt, 5));
        out->created_at = column_time(stmt, 6);
        out->submitted_at = column_time(stmt, 7);
        out->returned_at = column_time(stmt, 8);
        out->consolidated_at = column_time(stmt, 9);
        out->signed_at = column_time(stmt, 10);
        out->late = sqlite3_column_int(stmt, 11);
        out->return_comment = column_copy(stmt, 12);
        out->signer_id = sqlite3_column_int64(stmt, 13);
        const unsigned char *name = sqlite3_column_text(stmt, 14);
        snprintf(out->signer_name, sizeof out->signer_name, "%s", name ? (const char *)name : "");
        if (sqlite3_column_bytes(stmt, 15) == REPORT_PUBLIC_KEY_BYTES)
            memcpy(out->public_key, sqlite3_column_blob(stmt, 15), REPORT_PUBLIC_KEY_BYTES);
        int n = sqlite3_column_bytes(stmt, 16);
        if (n > 0 && n <= REPORT_SIGNATURE_MAX_BYTES) {
            memcpy(out->signature, sqlite3_column_blob(stmt, 16), (size_t)n);
            out->signature_len = (size_t)n;
        }
    } else {
        rc = step == SQLITE_DONE ? dala_error_set(DALA_ENOTFOUND, "no such report note in your scope")
                                 : server_db_error(db, "read a report note");
    }
    sqlite3_finalize(stmt);
    if (!rc && sqlite3_prepare_v2(db, "SELECT block, text FROM report_narrative WHERE note_id = ?1", -1, &stmt, NULL))
        rc = server_db_error(db, "read a report note");
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, id);
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            int block = sqlite3_column_int(stmt, 0);
            if (block >= 1 && block <= REPORT_BLOCKS && !out->narrative[block - 1])
                out->narrative[block - 1] = column_copy(stmt, 1);
        }
        sqlite3_finalize(stmt);
    }
    if (rc) report_note_free(out);
    return rc;
}

void report_note_free(report_note *note)
{
    free(note->return_comment);
    for (int i = 0; i < REPORT_BLOCKS; i++) free(note->narrative[i]);
    memset(note, 0, sizeof *note);
}

/* --- transactions -------------------------------------------------------- */

static int begin(sqlite3 *db)
{
    return sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ? server_db_error(db, "begin") : DALA_OK;
}

static int finish(sqlite3 *db, int rc)
{
    if (!rc && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) rc = server_db_error(db, "commit");
    if (rc) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Runs `sql` with the integers `a`..`d` bound to ?1..?4. */
static int run(sqlite3 *db, const char *sql, int64_t a, int64_t b, int64_t c, int64_t d)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL)) return server_db_error(db, "update a report note");
    int64_t args[] = {a, b, c, d};
    for (int i = 0; i < 4 && i < sqlite3_bind_parameter_count(stmt); i++) sqlite3_bind_int64(stmt, i + 1, args[i]);
    int rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(db, "update a report note");
    sqlite3_finalize(stmt);
    return rc;
}

/* The note's state, checked against the states a move starts from. */
static int expect_state(sqlite3 *db, int64_t note_id, const char *level, const char *const *states, const char *move)
{
    report_note note;
    int rc = report_note_load(&note, db, note_id);
    if (rc) return rc;
    int ok = 0;
    for (size_t i = 0; states[i]; i++) ok |= strcmp(note.state, states[i]) == 0;
    if (level && strcmp(note.level, level) != 0)
        rc = dala_error_set(DALA_EINVAL, "%s: only a %s's note can be %s", move, level, move);
    else if (!ok)
        rc = dala_error_set(DALA_ECONFLICT, "%s: the note is %s", move, note.state);
    report_note_free(&note);
    return rc;
}

/* --- drafting and deadlines ------------------------------------------------ */

int report_note_draft(int64_t *id_out, sqlite3 *db, int64_t unit_id, int year, int quarter, int64_t user_id,
                      int64_t now)
{
    if (quarter < 1 || quarter > 4 || year < 2015 || year > 2100)
        return dala_error_set(DALA_EINVAL, "report: no quarter %d of %d", quarter, year);
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO report_note (unit_id, level, year, quarter, created_by, created_at) "
                           "SELECT id, kind, ?2, ?3, ?4, ?5 FROM org_unit WHERE id = ?1 "
                           "AND kind IN ('unit', 'department') ON CONFLICT (unit_id, year, quarter) DO NOTHING",
                           -1, &stmt, NULL))
        return server_db_error(db, "draft a report note");
    sqlite3_bind_int64(stmt, 1, unit_id);
    sqlite3_bind_int(stmt, 2, year);
    sqlite3_bind_int(stmt, 3, quarter);
    sqlite3_bind_int64(stmt, 4, user_id);
    sqlite3_bind_int64(stmt, 5, now);
    int rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(db, "draft a report note");
    sqlite3_finalize(stmt);
    if (!rc && sqlite3_prepare_v2(db, "SELECT id FROM report_note WHERE unit_id = ?1 AND year = ?2 AND quarter = ?3",
                                  -1, &stmt, NULL))
        return server_db_error(db, "draft a report note");
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, unit_id);
        sqlite3_bind_int(stmt, 2, year);
        sqlite3_bind_int(stmt, 3, quarter);
        rc = sqlite3_step(stmt) == SQLITE_ROW
                 ? (*id_out = sqlite3_column_int64(stmt, 0), DALA_OK)
                 : dala_error_set(DALA_EINVAL, "report: notes are kept by units and departments, not by this unit");
        sqlite3_finalize(stmt);
    }
    return rc;
}

void report_note_due(report_due *out, const char *level, int year, int quarter, int64_t now)
{
    int month = quarter * 3 + 1, due_year = year, day = strcmp(level, "department") == 0 ? 10 : 5;
    if (month > 12) {
        month = 1;
        due_year++;
    }
    snprintf(out->day, sizeof out->day, "%04u-%02u-%02u", (unsigned)due_year % 10000u, (unsigned)month % 100u,
             (unsigned)day % 100u);
    struct tm end = {.tm_year = due_year - 1900, .tm_mon = month - 1, .tm_mday = day + 1, .tm_isdst = -1};
    out->ends_at = (int64_t)mktime(&end);
    time_t t = (time_t)now;
    struct tm today;
    localtime_r(&t, &today);
    /* Calendar days between two dates, counted at noon UTC to skip DST. */
    struct tm a = {.tm_year = today.tm_year, .tm_mon = today.tm_mon, .tm_mday = today.tm_mday, .tm_hour = 12};
    struct tm b = {.tm_year = due_year - 1900, .tm_mon = month - 1, .tm_mday = day, .tm_hour = 12};
    out->days_left = (int)((timegm(&b) - timegm(&a)) / 86400);
    out->overdue = now >= out->ends_at;
}

/* --- figures ------------------------------------------------------------- */

int report_note_is_frozen(const report_note *note)
{
    return strcmp(note->state, "submitted") == 0 || strcmp(note->state, "consolidated") == 0 ||
           strcmp(note->state, "signed") == 0;
}

/* Adds the frozen figures of note `note_id` to `out`, each times `sign`
 * (-1 takes them away). */
static int add_frozen(report_figures *out, sqlite3 *db, int64_t note_id, int sign)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "SELECT block, grp, value, now, last FROM report_figure WHERE note_id = ?1", -1, &stmt,
                           NULL))
        return server_db_error(db, "read a report note's figures");
    sqlite3_bind_int64(stmt, 1, note_id);
    int rc = DALA_OK;
    while (!rc && sqlite3_step(stmt) == SQLITE_ROW) {
        int block = sqlite3_column_int(stmt, 0);
        const char *group = (const char *)sqlite3_column_text(stmt, 1), *value = (const char *)sqlite3_column_text(stmt, 2);
        rc = report_figures_add(out, block, group, value, REPORT_NOW, sign * sqlite3_column_int64(stmt, 3));
        if (!rc) rc = report_figures_add(out, block, group, value, REPORT_LAST, sign * sqlite3_column_int64(stmt, 4));
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* A department's figures: over `units`, those whose notes are filed,
 * either their frozen figures or (live) their records counted again; and
 * the department's own records, which no unit's note counts. */
static int add_department(report_figures *out, sqlite3 *db, const report_note *note, const report_unit_filing *units,
                          size_t count, int live)
{
    int rc = DALA_OK;
    for (size_t i = 0; !rc && i < count; i++) {
        if (!report_unit_is_filed(&units[i])) continue;
        rc = live ? report_count(out, db, units[i].unit_id, note->year, note->quarter, NULL)
                  : add_frozen(out, db, units[i].note_id, 1);
    }
    /* Seeds the totals too: a department with no filed unit still lists them. */
    if (!rc) rc = report_count_own(out, db, note->unit_id, note->year, note->quarter, NULL);
    return rc;
}

/* The same over the units the note lists (report_note_units). */
static int add_listed_units(report_figures *out, sqlite3 *db, const report_note *note, int live)
{
    report_unit_filing *units = NULL;
    size_t count = 0;
    int rc = report_note_units(&units, &count, db, note);
    if (!rc) rc = add_department(out, db, note, units, count, live);
    free(units);
    return rc;
}

int report_note_figures(report_figures *out, sqlite3 *db, const report_note *note)
{
    int rc;
    if (report_note_is_frozen(note)) rc = add_frozen(out, db, note->id, 1);
    else if (strcmp(note->level, "unit") == 0) rc = report_count(out, db, note->unit_id, note->year, note->quarter, NULL);
    else rc = add_listed_units(out, db, note, 0);
    if (!rc) report_figures_sort(out);
    return rc;
}

int report_note_live(report_figures *out, sqlite3 *db, const report_note *note)
{
    int rc = strcmp(note->level, "unit") == 0 ? report_count(out, db, note->unit_id, note->year, note->quarter, NULL)
                                              : add_listed_units(out, db, note, 1);
    if (!rc) report_figures_sort(out);
    return rc;
}

int report_note_own(report_figures *out, sqlite3 *db, const report_note *note)
{
    if (strcmp(note->level, "department") != 0) return DALA_OK;
    int rc;
    if (!report_note_is_frozen(note)) {
        rc = report_count_own(out, db, note->unit_id, note->year, note->quarter, NULL);
    } else {
        /* Frozen: what the note holds beyond the unit notes it took in,
         * which never change once taken in. */
        report_unit_filing *units = NULL;
        size_t count = 0;
        rc = add_frozen(out, db, note->id, 1);
        if (!rc) rc = report_note_units(&units, &count, db, note);
        for (size_t i = 0; !rc && i < count; i++)
            if (report_unit_is_filed(&units[i])) rc = add_frozen(out, db, units[i].note_id, -1);
        free(units);
    }
    if (!rc) report_figures_sort(out);
    return rc;
}

/* Writes `figures` as note `note_id`'s frozen ones. */
static int freeze(sqlite3 *db, int64_t note_id, const report_figures *figures)
{
    int rc = run(db, "DELETE FROM report_figure WHERE note_id = ?1", note_id, 0, 0, 0);
    sqlite3_stmt *stmt = NULL;
    if (!rc && sqlite3_prepare_v2(db, "INSERT INTO report_figure (note_id, block, grp, value, now, last) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &stmt, NULL))
        rc = server_db_error(db, "file a report note");
    for (size_t i = 0; !rc && i < figures->count; i++) {
        const report_figure *f = &figures->items[i];
        sqlite3_reset(stmt);
        sqlite3_bind_int64(stmt, 1, note_id);
        sqlite3_bind_int(stmt, 2, f->block);
        sqlite3_bind_text(stmt, 3, f->group, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 4, f->value, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 5, f->count[REPORT_NOW]);
        sqlite3_bind_int64(stmt, 6, f->count[REPORT_LAST]);
        if (sqlite3_step(stmt) != SQLITE_DONE) rc = server_db_error(db, "file a report note");
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* --- a department's units -------------------------------------------------- */

int report_unit_is_filed(const report_unit_filing *unit)
{
    return strcmp(unit->state, "submitted") == 0 || strcmp(unit->state, "consolidated") == 0;
}

const char *report_filing_label(const report_unit_filing *unit, const char *lang)
{
    return report_unit_is_filed(unit) ? report_state_label(unit->state, lang)
                                      : dala_label("Тапсырмаған", "Не представлена", lang);
}

const char *report_own_label(const char *lang)
{
    return dala_label("Департаменттің өз жазбалары", "Собственные записи департамента", lang);
}

/* Reads the rows of `stmt` (unit_id, note_id, submitted_at, state, late)
 * into a new array; finalizes `stmt`. */
static int read_units(report_unit_filing **out, size_t *count, sqlite3_stmt *stmt)
{
    int rc = DALA_OK;
    size_t alloc = 0;
    while (!rc && sqlite3_step(stmt) == SQLITE_ROW) {
        if (*count == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            report_unit_filing *grown = realloc(*out, alloc * sizeof **out);
            if (!grown) {
                rc = dala_error_set(DALA_ENOMEM, "list a department's units: out of memory");
                break;
            }
            *out = grown;
        }
        report_unit_filing *u = &(*out)[(*count)++];
        u->unit_id = sqlite3_column_int64(stmt, 0);
        u->note_id = sqlite3_column_int64(stmt, 1);
        u->submitted_at = column_time(stmt, 2);
        snprintf(u->state, sizeof u->state, "%s", (const char *)sqlite3_column_text(stmt, 3));
        u->late = sqlite3_column_int(stmt, 4);
    }
    sqlite3_finalize(stmt);
    if (rc) {
        free(*out);
        *out = NULL;
        *count = 0;
    }
    return rc;
}

/* The units of a department's note: as its consolidation listed them
 * (report_filing), or with `as_they_stand`, every unit of its subtree
 * with its note's state now. */
static int list_units(report_unit_filing **out, size_t *count, sqlite3 *db, const report_note *note, int as_they_stand)
{
    *out = NULL;
    *count = 0;
    if (strcmp(note->level, "department") != 0) return DALA_OK;
    sqlite3_stmt *stmt;
    const char *sql = !as_they_stand
                          ? "SELECT f.unit_id, coalesce(n.id, 0), f.submitted_at, f.state, f.late FROM report_filing f "
                            "LEFT JOIN report_note n ON n.unit_id = f.unit_id AND n.year = ?2 AND n.quarter = ?3 "
                            "WHERE f.note_id = ?4 ORDER BY f.unit_id"
                          : "WITH RECURSIVE tree(id) AS (SELECT ?1 UNION ALL "
                            "SELECT o.id FROM org_unit o JOIN tree ON o.parent_id = tree.id) "
                            "SELECT o.id, coalesce(n.id, 0), n.submitted_at, coalesce(n.state, 'none'), "
                            "coalesce(n.late, 0) FROM tree JOIN org_unit o ON o.id = tree.id "
                            "LEFT JOIN report_note n ON n.unit_id = o.id AND n.year = ?2 AND n.quarter = ?3 "
                            "WHERE o.kind = 'unit' ORDER BY o.id";
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL)) return server_db_error(db, "list a department's units");
    sqlite3_bind_int64(stmt, 1, note->unit_id);
    sqlite3_bind_int(stmt, 2, note->year);
    sqlite3_bind_int(stmt, 3, note->quarter);
    if (!as_they_stand) sqlite3_bind_int64(stmt, 4, note->id);
    return read_units(out, count, stmt);
}

int report_note_units(report_unit_filing **out, size_t *count, sqlite3 *db, const report_note *note)
{
    return list_units(out, count, db, note, note->consolidated_at == 0);
}

int report_note_filed_after(report_unit_filing **out, size_t *count, sqlite3 *db, const report_note *note)
{
    *out = NULL;
    *count = 0;
    if (strcmp(note->level, "department") != 0 || note->consolidated_at == 0) return DALA_OK;
    /* A unit note the consolidation took in is consolidated for good (it
     * cannot be returned), so one still submitted was filed after it. */
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db,
                           "WITH RECURSIVE tree(id) AS (SELECT ?1 UNION ALL "
                           "SELECT o.id FROM org_unit o JOIN tree ON o.parent_id = tree.id) "
                           "SELECT o.id, n.id, n.submitted_at, n.state, n.late FROM tree JOIN org_unit o ON o.id = tree.id "
                           "JOIN report_note n ON n.unit_id = o.id AND n.year = ?2 AND n.quarter = ?3 "
                           "WHERE o.kind = 'unit' AND n.state = 'submitted' ORDER BY o.id",
                           -1, &stmt, NULL))
        return server_db_error(db, "list the units filed after consolidation");
    sqlite3_bind_int64(stmt, 1, note->unit_id);
    sqlite3_bind_int(stmt, 2, note->year);
    sqlite3_bind_int(stmt, 3, note->quarter);
    return read_units(out, count, stmt);
}

int report_note_unit_narratives(sqlite3 *db, const report_note *note, int block,
                                int (*fn)(void *context, int64_t unit_id, const char *text), void *context)
{
    report_unit_filing *units = NULL;
    size_t count = 0;
    int rc = report_note_units(&units, &count, db, note);
    sqlite3_stmt *stmt = NULL;
    if (!rc && count && sqlite3_prepare_v2(db, "SELECT text FROM report_narrative WHERE note_id = ?1 AND block = ?2 "
                                               "AND text != ''", -1, &stmt, NULL))
        rc = server_db_error(db, "read the units' narratives");
    for (size_t i = 0; !rc && i < count; i++) {
        if (!report_unit_is_filed(&units[i])) continue;
        sqlite3_reset(stmt);
        sqlite3_bind_int64(stmt, 1, units[i].note_id);
        sqlite3_bind_int(stmt, 2, block);
        if (sqlite3_step(stmt) == SQLITE_ROW) rc = fn(context, units[i].unit_id, (const char *)sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    free(units);
    return rc;
}

/* --- the moves -------------------------------------------------------------- */

int report_note_set_narrative(sqlite3 *db, int64_t note_id, int block, const char *text)
{
    if (block < 1 || block > REPORT_BLOCKS) return dala_error_set(DALA_EINVAL, "narrative: no block %d (1 to 9)", block);
    size_t letters = 0;
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) letters += (*p & 0xc0) != 0x80;
    if (!text || letters > REPORT_NARRATIVE_MAX_LETTERS)
        return dala_error_set(DALA_EINVAL, "narrative: a text of at most %d letters is needed",
                              REPORT_NARRATIVE_MAX_LETTERS);
    int rc = begin(db);
    if (rc) return rc;
    rc = expect_state(db, note_id, NULL, (const char *const[]){"draft", "returned", NULL}, "edited");
    sqlite3_stmt *stmt = NULL;
    if (!rc && sqlite3_prepare_v2(db, "INSERT INTO report_narrative (note_id, block, text) VALUES (?1, ?2, ?3) "
                                      "ON CONFLICT (note_id, block) DO UPDATE SET text = excluded.text", -1, &stmt,
                                  NULL))
        rc = server_db_error(db, "write a narrative");
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, note_id);
        sqlite3_bind_int(stmt, 2, block);
        sqlite3_bind_text(stmt, 3, text, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_DONE) rc = server_db_error(db, "write a narrative");
    }
    sqlite3_finalize(stmt);
    return finish(db, rc);
}

int report_note_submit(sqlite3 *db, int64_t note_id, int64_t user_id, int64_t now)
{
    int rc = begin(db);
    if (rc) return rc;
    rc = expect_state(db, note_id, "unit", (const char *const[]){"draft", "returned", NULL}, "submitted");
    report_note note;
    report_figures figures = REPORT_FIGURES_INIT;
    if (!rc) rc = report_note_load(&note, db, note_id);
    if (!rc) {
        report_due due;
        report_note_due(&due, note.level, note.year, note.quarter, now);
        rc = report_note_figures(&figures, db, &note);
        if (!rc) rc = freeze(db, note_id, &figures);
        /* Once late, always late: a resubmission never clears it. */
        if (!rc)
            rc = run(db, "UPDATE report_note SET state = 'submitted', submitted_by = ?2, submitted_at = ?3, "
                         "late = max(late, ?4) WHERE id = ?1",
                     note_id, user_id, now, due.overdue);
        report_note_free(&note);
    }
    report_figures_free(&figures);
    return finish(db, rc);
}

int report_note_return(sqlite3 *db, int64_t note_id, const char *comment, int64_t now)
{
    if (!comment || !comment[0] || strlen(comment) > 2000)
        return dala_error_set(DALA_EINVAL, "return: a comment of 1 to 2000 bytes says what to correct");
    int rc = begin(db);
    if (rc) return rc;
    rc = expect_state(db, note_id, "unit", (const char *const[]){"submitted", NULL}, "returned");
    sqlite3_stmt *stmt = NULL;
    if (!rc && sqlite3_prepare_v2(db, "UPDATE report_note SET state = 'returned', return_comment = ?2, "
                                      "returned_at = ?3 WHERE id = ?1", -1, &stmt, NULL))
        rc = server_db_error(db, "return a report note");
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, note_id);
        sqlite3_bind_text(stmt, 2, comment, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, now);
        if (sqlite3_step(stmt) != SQLITE_DONE) rc = server_db_error(db, "return a report note");
    }
    sqlite3_finalize(stmt);
    if (!rc) rc = run(db, "DELETE FROM report_figure WHERE note_id = ?1", note_id, 0, 0, 0);
    return finish(db, rc);
}

/* Adds up department note `note` from its units as they stand now, inside
 * the caller's transaction: freezes the figures (its filed units' notes
 * and its own records), lists the units anew in report_filing, marks the
 * unit notes it takes in consolidated, and records who did it and when
 * (late when after the due day). */
static int take_in(sqlite3 *db, const report_note *note, int64_t user_id, int64_t now)
{
    report_due due;
    report_note_due(&due, note->level, note->year, note->quarter, now);
    report_figures figures = REPORT_FIGURES_INIT;
    report_unit_filing *units = NULL;
    size_t count = 0;
    int rc = list_units(&units, &count, db, note, 1);
    if (!rc) rc = add_department(&figures, db, note, units, count, 0);
    if (!rc) rc = freeze(db, note->id, &figures);
    if (!rc) rc = run(db, "DELETE FROM report_filing WHERE note_id = ?1", note->id, 0, 0, 0);
    sqlite3_stmt *stmt = NULL;
    if (!rc && sqlite3_prepare_v2(db, "INSERT INTO report_filing (note_id, unit_id, state, submitted_at, late) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5)", -1, &stmt, NULL))
        rc = server_db_error(db, "consolidate a report note");
    for (size_t i = 0; !rc && i < count; i++) {
        int filed = report_unit_is_filed(&units[i]);
        sqlite3_reset(stmt);
        sqlite3_bind_int64(stmt, 1, note->id);
        sqlite3_bind_int64(stmt, 2, units[i].unit_id);
        sqlite3_bind_text(stmt, 3, filed ? "consolidated" : units[i].state, -1, SQLITE_STATIC);
        if (units[i].submitted_at) sqlite3_bind_int64(stmt, 4, units[i].submitted_at);
        else sqlite3_bind_null(stmt, 4);
        sqlite3_bind_int(stmt, 5, units[i].late);
        if (sqlite3_step(stmt) != SQLITE_DONE) rc = server_db_error(db, "consolidate a report note");
        if (!rc && strcmp(units[i].state, "submitted") == 0)
            rc = run(db, "UPDATE report_note SET state = 'consolidated' WHERE id = ?1", units[i].note_id, 0, 0, 0);
    }
    sqlite3_finalize(stmt);
    if (!rc)
        rc = run(db, "UPDATE report_note SET state = 'consolidated', consolidated_by = ?2, consolidated_at = ?3, "
                     "submitted_at = ?3, late = max(late, ?4) WHERE id = ?1",
                 note->id, user_id, now, due.overdue);
    free(units);
    report_figures_free(&figures);
    return rc;
}

int report_note_consolidate(sqlite3 *db, int64_t note_id, int64_t user_id, int64_t now)
{
    int rc = begin(db);
    if (rc) return rc;
    rc = expect_state(db, note_id, "department", (const char *const[]){"draft", NULL}, "consolidated");
    report_note note;
    if (!rc) rc = report_note_load(&note, db, note_id);
    if (!rc) {
        rc = take_in(db, &note, user_id, now);
        report_note_free(&note);
    }
    return finish(db, rc);
}

/* "units 12, 15" of the audit's detail: the first few ids, then "...". */
static void unit_ids(char *out, size_t size, const report_unit_filing *units, size_t count)
{
    size_t n = (size_t)snprintf(out, size, "%s", count == 1 ? "unit" : "units");
    for (size_t i = 0; i < count && n < size; i++) {
        if (i == 8) {
            snprintf(out + n, size - n, ", ...");
            break;
        }
        n += (size_t)snprintf(out + n, size - n, "%s%lld", i ? ", " : " ", (long long)units[i].unit_id);
    }
}

int report_note_reconsolidate(sqlite3 *db, int64_t note_id, int64_t user_id, int64_t now, size_t *taken_in)
{
    if (taken_in) *taken_in = 0;
    int rc = begin(db);
    if (rc) return rc;
    report_note note;
    report_unit_filing *filed_after = NULL;
    size_t count = 0;
    rc = report_note_load(&note, db, note_id);
    if (rc) return finish(db, rc);
    if (strcmp(note.level, "department") != 0)
        rc = dala_error_set(DALA_EINVAL, "reconsolidate: only a department's note is consolidated again");
    else if (strcmp(note.state, "signed") == 0)
        rc = dala_error_set(DALA_ECONFLICT, "reconsolidate: the note is signed, and a signed note never changes; "
                                            "units that filed after its consolidation stay outside it");
    else if (strcmp(note.state, "consolidated") != 0)
        rc = dala_error_set(DALA_ECONFLICT, "reconsolidate: the note is %s; consolidate it first", note.state);
    if (!rc) rc = report_note_filed_after(&filed_after, &count, db, &note);
    if (!rc && count == 0)
        rc = dala_error_set(DALA_ECONFLICT, "reconsolidate: no unit has filed since the note was consolidated");
    if (!rc) rc = take_in(db, &note, user_id, now);
    if (!rc) {
        char ids[160], detail[256];
        unit_ids(ids, sizeof ids, filed_after, count);
        snprintf(detail, sizeof detail, "department note of %d Q%d consolidated again: %zu unit note%s filed since "
                 "taken in (%s)", note.year, note.quarter, count, count == 1 ? "" : "s", ids);
        rc = server_audit_add(db, user_id, "report_reconsolidate", note.unit_id, NULL, detail);
    }
    if (!rc && taken_in) *taken_in = count;
    free(filed_after);
    report_note_free(&note);
    return finish(db, rc);
}
