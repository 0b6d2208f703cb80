/* web_reports.c - the quarterly report notes on the supervisors' pages
 * (docs/reports.md): the notes of a scope with their deadlines, one note
 * with its nine blocks, and its workflow: unit heads draft, write and
 * submit their unit's note; the department's deputy head returns it,
 * consolidates the department's note (again, when units file after that)
 * and signs it. A department's note shows apart its own records and the
 * units that have not filed. Every figure can be followed back to its
 * records. Every move is audited. */
#include "web_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- who may do what ---------------------------------------------------- */

static int may_read_reports(const web_request *r)
{
    return web_role_may_read_records(r->user.role) && r->user.role != ROLE_INSPECTOR;
}

int web_report_load(report_note *out, web_request *r, const char *id_text)
{
    char *end;
    long long id = strtoll(id_text, &end, 10);
    if (!may_read_reports(r)) return dala_error_set(DALA_EAUTH, "reports: the %s role reads no report notes", r->user.role_name);
    if (*end || end == id_text || id <= 0) return dala_error_set(DALA_ENOTFOUND, "no such report note in your scope");
    int rc = report_note_load(out, r->conn->db, id), visible = 0;
    if (!rc) rc = web_unit_in_scope(&visible, r, out->unit_id);
    if (!rc && !visible) {
        report_note_free(out);
        rc = dala_error_set(DALA_ENOTFOUND, "no such report note in your scope");
    }
    return rc;
}

/* Unit heads and deputies write a unit's note; only deputies a department's. */
static int may_write(const web_request *r, const report_note *note)
{
    if (strcmp(note->level, "department") == 0) return r->user.role == ROLE_DEPUTY;
    return r->user.role == ROLE_UNIT_HEAD || r->user.role == ROLE_DEPUTY;
}

/* A deputy, on a consolidated department note some unit filed after. */
static int may_reconsolidate(web_request *r, const report_note *note)
{
    if (r->user.role != ROLE_DEPUTY || strcmp(note->state, "consolidated") != 0) return 0;
    report_unit_filing *units = NULL;
    size_t count = 0;
    int rc = report_note_filed_after(&units, &count, r->conn->db, note);
    free(units);
    return !rc && count > 0;
}

/* --- the note as JSON ----------------------------------------------------- */

static void put_deadline(json_out *j, web_request *r, const char *level, int year, int quarter, int late)
{
    report_due due;
    report_note_due(&due, level, year, quarter, server_now(r->server));
    json_object_begin(j, "deadline");
    json_string(j, "due", due.day);
    json_int(j, "days_left", due.days_left);
    json_bool(j, "overdue", due.overdue);
    json_bool(j, "late", late);
    json_object_end(j);
}

static void put_time(json_out *j, const char *key, int64_t at)
{
    if (at) json_int(j, key, at);
    else json_null(j, key);
}

static void put_figure(json_out *j, report_labeler *l, const report_figure *f, const report_figures *live, int frozen)
{
    char label[512], percent[32];
    int64_t now = f->count[REPORT_NOW], last = f->count[REPORT_LAST];
    report_label(label, sizeof label, l, f->group, f->value);
    json_object_begin(j, NULL);
    json_string(j, "group", f->group);
    json_string(j, "value", f->value);
    json_string(j, "label", label);
    json_int(j, "now", now);
    json_int(j, "last", last);
    json_int(j, "change", now - last);
    if (last) {
        int n = snprintf(percent, sizeof percent, "%.1f", 100.0 * (double)(now - last) / (double)last);
        json_raw(j, "percent", percent, (size_t)n);
    } else {
        json_null(j, "percent");
    }
    int corrected = 0;
    if (frozen && live) {
        const report_figure *now_given = report_figures_find(live, f->group, f->value);
        int64_t live_now = now_given ? now_given->count[REPORT_NOW] : 0;
        if (live_now != now) {
            json_int(j, "live_now", live_now);
            corrected = 1;
        }
    }
    json_bool(j, "corrected", corrected);
    json_object_end(j);
}

/* A unit's narrative of a block, on a department's note. */
typedef struct narrative_out {
    json_out *j;
    web_request *r;
} narrative_out;

static int put_unit_narrative(void *context, int64_t unit_id, const char *text)
{
    narrative_out *n = context;
    char unit[256];
    web_unit_name(unit, sizeof unit, n->r, unit_id);
    json_object_begin(n->j, NULL);
    json_int(n->j, "unit_id", unit_id);
    json_string(n->j, "unit", unit);
    json_string(n->j, "text", text);
    json_object_end(n->j);
    return n->j->rc;
}

/* Figures the records give now that the filed note does not hold. */
static void put_new_figures(json_out *j, report_labeler *labels, const report_figures *figures,
                            const report_figures *live, int block)
{
    for (size_t i = 0; i < live->count; i++) {
        const report_figure *l = &live->items[i];
        if (l->block != block || !l->count[REPORT_NOW] || report_figures_find(figures, l->group, l->value)) continue;
        report_figure zero = {l->block, l->group, l->value, {0, 0}};
        put_figure(j, labels, &zero, live, 1);
    }
}

/* A unit of a department's note: its note's state, or "not filed". */
static void put_unit_filing(json_out *j, web_request *r, const report_unit_filing *unit)
{
    char name[256];
    web_unit_name(name, sizeof name, r, unit->unit_id);
    json_int(j, "unit_id", unit->unit_id);
    json_string(j, "unit", name);
    if (unit->note_id) json_int(j, "note_id", unit->note_id);
    else json_null(j, "note_id");
    json_string(j, "state", unit->state);
    json_string(j, "state_label", report_filing_label(unit, r->lang));
    json_bool(j, "filed", report_unit_is_filed(unit));
    put_time(j, "submitted_at", unit->submitted_at);
    json_bool(j, "late", unit->late);
}

/* A department's units under `key`: all of them, or with `filed_after`
 * those that filed after its consolidation. */
static void put_units(json_out *j, web_request *r, const report_note *note, const char *key, int filed_after)
{
    report_unit_filing *units = NULL;
    size_t count = 0;
    int rc = filed_after ? report_note_filed_after(&units, &count, r->conn->db, note)
                         : report_note_units(&units, &count, r->conn->db, note);
    if (rc) j->rc = rc;
    json_array_begin(j, key);
    for (size_t i = 0; !rc && i < count; i++) {
        json_object_begin(j, NULL);
        put_unit_filing(j, r, &units[i]);
        json_object_end(j);
    }
    json_array_end(j);
    free(units);
}

/* The figures of `figures` that count something, without comparison: a
 * part shown apart from the note's figures. */
static void put_part_figures(json_out *j, report_labeler *labels, const report_figures *figures)
{
    json_array_begin(j, "figures");
    for (size_t i = 0; i < figures->count; i++) {
        const report_figure *f = &figures->items[i];
        if (!f->count[REPORT_NOW] && !f->count[REPORT_LAST]) continue;
        char label[512];
        report_label(label, sizeof label, labels, f->group, f->value);
        json_object_begin(j, NULL);
        json_int(j, "block", f->block);
        json_string(j, "group", f->group);
        json_string(j, "value", f->value);
        json_string(j, "label", label);
        json_int(j, "now", f->count[REPORT_NOW]);
        json_int(j, "last", f->count[REPORT_LAST]);
        json_object_end(j);
    }
    json_array_end(j);
}

/* The line of a department's own records, apart from its units: what of
 * its figures no unit's note holds. */
static void put_own_records(json_out *j, web_request *r, report_labeler *labels, const report_note *note)
{
    report_figures own = REPORT_FIGURES_INIT;
    int rc = report_note_own(&own, r->conn->db, note);
    if (rc && !j->rc) j->rc = rc;
    char unit[256];
    web_unit_name(unit, sizeof unit, r, note->unit_id);
    json_object_begin(j, "own_records");
    json_int(j, "unit_id", note->unit_id);
    json_string(j, "unit", unit);
    json_string(j, "label", report_own_label(r->lang));
    put_part_figures(j, labels, &own);
    json_object_end(j);
    report_figures_free(&own);
}

int web_report_put(json_out *j, web_request *r, const report_note *note)
{
    report_figures figures = REPORT_FIGURES_INIT, live = REPORT_FIGURES_INIT;
    int frozen = report_note_is_frozen(note);
    int rc = report_note_figures(&figures, r->conn->db, note);
    if (!rc && frozen) rc = report_note_live(&live, r->conn->db, note);
    if (rc) {
        report_figures_free(&figures);
        return rc;
    }
    char unit[256];
    report_labeler labels;
    report_labeler_init(&labels, r->conn->db, r->lang);
    web_unit_name(unit, sizeof unit, r, note->unit_id);
    json_object_begin(j, NULL);
    json_int(j, "id", note->id);
    json_int(j, "unit_id", note->unit_id);
    json_string(j, "unit", unit);
    json_string(j, "level", note->level);
    json_int(j, "year", note->year);
    json_int(j, "quarter", note->quarter);
    json_string(j, "state", note->state);
    json_string(j, "state_label", report_state_label(note->state, r->lang));
    put_deadline(j, r, note->level, note->year, note->quarter, note->late);
    json_bool(j, "late", note->late);
    put_time(j, "submitted_at", note->submitted_at);
    put_time(j, "consolidated_at", note->consolidated_at);
    json_string(j, "return_comment", note->return_comment);
    json_bool(j, "frozen", frozen);
    json_bool(j, "may_write", may_write(r, note));
    int is_department = strcmp(note->level, "department") == 0;
    json_bool(j, "may_reconsolidate", is_department && may_reconsolidate(r, note));
    json_array_begin(j, "blocks");
    for (int block = 1; block <= REPORT_BLOCKS; block++) {
        json_object_begin(j, NULL);
        json_int(j, "block", block);
        json_string(j, "title", report_block_title(block, r->lang));
        json_string(j, "narrative", note->narrative[block - 1] ? note->narrative[block - 1] : "");
        json_array_begin(j, "figures");
        for (size_t i = 0; i < figures.count; i++)
            if (figures.items[i].block == block) put_figure(j, &labels, &figures.items[i], &live, frozen);
        if (frozen) put_new_figures(j, &labels, &figures, &live, block);
        json_array_end(j);
        if (strcmp(note->level, "department") == 0) {
            narrative_out n = {j, r};
            json_array_begin(j, "unit_narratives");
            int failed = report_note_unit_narratives(r->conn->db, note, block, put_unit_narrative, &n);
            if (failed && !j->rc) j->rc = failed;
            json_array_end(j);
        }
        json_object_end(j);
    }
    json_array_end(j);
    if (is_department) {
        put_units(j, r, note, "units", 0);
        put_own_records(j, r, &labels, note);
        put_units(j, r, note, "filed_after_consolidation", 1);
    }
    if (note->signature_len) {
        char fingerprint[REPORT_FINGERPRINT_BYTES];
        report_key_fingerprint(fingerprint, note->public_key);
        json_object_begin(j, "signature");
        json_string(j, "signer", note->signer_name);
        json_int(j, "signed_at", note->signed_at);
        json_string(j, "fingerprint", fingerprint);
        json_bool(j, "valid", report_note_verify(r->conn->db, note->id) == DALA_OK);
        json_object_end(j);
    } else {
        json_null(j, "signature");
    }
    json_object_end(j);
    report_labeler_free(&labels);
    report_figures_free(&figures);
    report_figures_free(&live);
    return j->rc;
}

/* --- the notes of a scope --------------------------------------------------- */

/* The quarter asked for, else the one whose notes are due next. */
static int read_quarter(int *year, int *quarter, web_request *r)
{
    time_t now = (time_t)server_now(r->server);
    struct tm tm;
    localtime_r(&now, &tm);
    web_deadlines d;
    web_report_deadlines(&d, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    int64_t y, q;
    int rc = web_query_int(&y, r, "year", d.year);
    if (!rc) rc = web_query_int(&q, r, "quarter", d.quarter);
    if (!rc && (q < 1 || q > 4 || y < 2015 || y > 2100))
        rc = dala_error_set(DALA_EINVAL, "reports: quarter is 1 to 4 and year 2015 to 2100");
    *year = (int)y;
    *quarter = (int)q;
    return rc;
}

/* A department's row of the list: the ids of the units that filed after
 * its note was consolidated, for the deputy to consolidate it again. */
static void put_filed_after_ids(json_out *j, web_request *r, sqlite3_stmt *row, int year, int quarter)
{
    report_note note;
    memset(&note, 0, sizeof note);
    note.unit_id = sqlite3_column_int64(row, 0);
    note.id = sqlite3_column_int64(row, 2);
    snprintf(note.level, sizeof note.level, "department");
    note.year = year;
    note.quarter = quarter;
    note.consolidated_at = sqlite3_column_type(row, 6) == SQLITE_NULL ? 0 : sqlite3_column_int64(row, 6);
    report_unit_filing *units = NULL;
    size_t count = 0;
    int rc = report_note_filed_after(&units, &count, r->conn->db, &note);
    if (rc && !j->rc) j->rc = rc;
    json_array_begin(j, "filed_after_consolidation");
    for (size_t i = 0; i < count; i++) json_int(j, NULL, units[i].unit_id);
    json_array_end(j);
    free(units);
}

static int list_notes(web_request *r)
{
    int year, quarter, rc = read_quarter(&year, &quarter, r);
    if (rc) return web_send_failure(r, rc);
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db,
                           WEB_SCOPE_CTE "SELECT o.id, o.kind, n.id, coalesce(n.state, 'none'), n.submitted_at, "
                                         "coalesce(n.late, 0), n.consolidated_at FROM scope "
                                         "JOIN org_unit o ON o.id = scope.id "
                                         "LEFT JOIN report_note n ON n.unit_id = o.id AND n.year = ?2 AND n.quarter = ?3 "
                                         "WHERE o.kind IN ('department', 'unit') ORDER BY o.kind, o.id",
                           -1, &stmt, NULL))
        return web_send_failure(r, server_db_error(r->conn->db, "list report notes"));
    sqlite3_bind_int64(stmt, 1, r->user.unit_id);
    sqlite3_bind_int(stmt, 2, year);
    sqlite3_bind_int(stmt, 3, quarter);
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_int(&j, "year", year);
    json_int(&j, "quarter", quarter);
    json_array_begin(&j, "notes");
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        char unit[256];
        const char *level = (const char *)sqlite3_column_text(stmt, 1), *state = (const char *)sqlite3_column_text(stmt, 3);
        web_unit_name(unit, sizeof unit, r, sqlite3_column_int64(stmt, 0));
        json_object_begin(&j, NULL);
        if (sqlite3_column_type(stmt, 2) == SQLITE_NULL) json_null(&j, "id");
        else json_int(&j, "id", sqlite3_column_int64(stmt, 2));
        json_int(&j, "unit_id", sqlite3_column_int64(stmt, 0));
        json_string(&j, "unit", unit);
        json_string(&j, "level", level);
        json_string(&j, "state", state);
        json_string(&j, "state_label", report_state_label(state, r->lang));
        put_deadline(&j, r, level, year, quarter, sqlite3_column_int(stmt, 5));
        put_time(&j, "submitted_at", sqlite3_column_type(stmt, 4) == SQLITE_NULL ? 0 : sqlite3_column_int64(stmt, 4));
        json_bool(&j, "late", sqlite3_column_int(stmt, 5));
        if (strcmp(level, "department") == 0) put_filed_after_ids(&j, r, stmt, year, quarter);
        json_object_end(&j);
    }
    sqlite3_finalize(stmt);
    json_array_end(&j);
    json_object_end(&j);
    return web_send_json(r, &j);
}

static int is_department(web_request *r, int64_t unit_id)
{
    sqlite3_stmt *stmt;
    int found = 0;
    if (sqlite3_prepare_v2(r->conn->db, "SELECT 1 FROM org_unit WHERE id = ?1 AND kind = 'department'", -1, &stmt,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, unit_id);
        found = sqlite3_step(stmt) == SQLITE_ROW;
        sqlite3_finalize(stmt);
    }
    return found;
}

static int draft(web_request *r)
{
    const dala_json *unit = r->json ? dala_json_get(r->json, "unit_id") : NULL;
    const dala_json *year = r->json ? dala_json_get(r->json, "year") : NULL;
    const dala_json *quarter = r->json ? dala_json_get(r->json, "quarter") : NULL;
    if (!unit || !year || !quarter || !unit->is_integer || !year->is_integer || !quarter->is_integer)
        return web_send_error(r, 400, DALA_EINVAL, "reports: unit_id, year and quarter (integers) are needed");
    if (r->user.role != ROLE_UNIT_HEAD && r->user.role != ROLE_DEPUTY)
        return web_send_error(r, 403, DALA_EAUTH, "reports: only unit heads and deputies draft notes");
    int visible = 0, rc = web_unit_in_scope(&visible, r, unit->integer);
    if (!rc && !visible) rc = dala_error_set(DALA_ENOTFOUND, "no such unit in your scope");
    if (!rc && r->user.role != ROLE_DEPUTY && is_department(r, unit->integer))
        return web_send_error(r, 403, DALA_EAUTH, "reports: a department's note is drafted by its deputy head");
    int64_t id = 0;
    if (!rc)
        rc = report_note_draft(&id, r->conn->db, unit->integer, (int)year->integer, (int)quarter->integer, r->user.id,
                               server_now(r->server));
    report_note note;
    if (!rc) rc = report_note_load(&note, r->conn->db, id);
    if (rc) return web_send_failure(r, rc);
    json_out j = JSON_OUT_INIT;
    rc = web_report_put(&j, r, &note);
    if (!rc) rc = web_audit(r, "report_draft", note.unit_id, NULL, "a report note drafted");
    report_note_free(&note);
    if (rc) {
        json_out_free(&j);
        return web_send_failure(r, rc);
    }
    return web_send_json(r, &j);
}

int web_route_reports(web_request *r)
{
    if (!may_read_reports(r))
        return web_send_error(r, 403, DALA_EAUTH, "reports: only supervisors and analysts read report notes");
    if (strcmp(r->method, "GET") == 0) return list_notes(r);
    if (strcmp(r->method, "POST") == 0) return draft(r);
    return 405;
}

/* --- one note --------------------------------------------------------------- */

/* Collects the ids a figure counts (report_trace). */
typedef struct traced {
    dala_buf ids; /* DALA_UUID_BYTES each */
} traced;

static int collect(void *context, const uint8_t id[DALA_UUID_BYTES])
{
    return dala_buf_append(&((traced *)context)->ids, id, DALA_UUID_BYTES);
}

/* The records behind one figure: the note's unit's records counted again
 * for that figure (a department's: its filed units' and its own). */
static int figure_records(web_request *r, const report_note *note)
{
    char group[160], value[160], period[8];
    web_query(r, "group", group, sizeof group);
    web_query(r, "value", value, sizeof value);
    web_query(r, "period", period, sizeof period);
    if (!group[0]) return web_send_error(r, 400, DALA_EINVAL, "records: group names the figure");
    traced t = {DALA_BUF_INIT};
    report_trace trace = {group, value, strcmp(period, "last") == 0 ? REPORT_LAST : REPORT_NOW, collect, &t};
    report_figures scratch = REPORT_FIGURES_INIT;
    int rc = DALA_OK;
    if (strcmp(note->level, "unit") == 0) {
        rc = report_count(&scratch, r->conn->db, note->unit_id, note->year, note->quarter, &trace);
    } else {
        report_unit_filing *units = NULL;
        size_t count = 0;
        rc = report_note_units(&units, &count, r->conn->db, note);
        for (size_t i = 0; !rc && i < count; i++)
            if (report_unit_is_filed(&units[i]))
                rc = report_count(&scratch, r->conn->db, units[i].unit_id, note->year, note->quarter, &trace);
        if (!rc) rc = report_count_own(&scratch, r->conn->db, note->unit_id, note->year, note->quarter, &trace);
        free(units);
    }
    report_figures_free(&scratch);
    sqlite3_stmt *stmt = NULL;
    if (!rc && sqlite3_prepare_v2(r->conn->db,
                                  "SELECT r.tbl, r.occurred_on, r.unit_id, r.data, u.full_name FROM record r "
                                  "LEFT JOIN app_user u ON u.id = r.officer_id WHERE r.id = ?1",
                                  -1, &stmt, NULL))
        rc = server_db_error(r->conn->db, "list a figure's records");
    dala_record record = DALA_RECORD_INIT;
    int64_t rows = 0, sensitive = 0;
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_array_begin(&j, "records");
    for (size_t off = 0; !rc && off < t.ids.len; off += DALA_UUID_BYTES) {
        char id[DALA_UUID_TEXT_LEN + 1], unit[256];
        dala_uuid_format(id, t.ids.data + off);
        sqlite3_reset(stmt);
        sqlite3_bind_blob(stmt, 1, t.ids.data + off, DALA_UUID_BYTES, SQLITE_STATIC);
        if (sqlite3_step(stmt) != SQLITE_ROW) continue;
        const char *table = (const char *)sqlite3_column_text(stmt, 0);
        const dala_table_def *def = dala_domain_table(dala_domain_get(), table);
        web_unit_name(unit, sizeof unit, r, sqlite3_column_int64(stmt, 2));
        char summary[160] = "";
        int shows_sensitive = 0;
        dala_record_clear(&record);
        if (dala_record_decode(&record, sqlite3_column_blob(stmt, 3), (size_t)sqlite3_column_bytes(stmt, 3)) == DALA_OK)
            dala_record_summarise(summary, sizeof summary, def, &record, r->lang, &shows_sensitive);
        sensitive += shows_sensitive;
        rows++;
        json_object_begin(&j, NULL);
        json_string(&j, "id", id);
        json_string(&j, "table", table);
        json_string(&j, "table_label", def ? dala_label(def->kk, def->ru, r->lang) : table);
        json_string(&j, "date", (const char *)sqlite3_column_text(stmt, 1));
        json_string(&j, "unit", unit);
        json_string(&j, "officer", (const char *)sqlite3_column_text(stmt, 4));
        json_string(&j, "summary", summary);
        json_object_end(&j);
    }
    sqlite3_finalize(stmt);
    dala_record_clear(&record);
    dala_buf_free(&t.ids);
    json_array_end(&j);
    json_object_end(&j);
    /* Names in the rows are reads of sensitive fields, as in the lists. */
    if (!rc && sensitive) {
        char detail[128];
        snprintf(detail, sizeof detail, "a report figure's records: %lld rows, %lld showing names", (long long)rows,
                 (long long)sensitive);
        rc = web_audit(r, "read_sensitive", note->unit_id, NULL, detail);
    }
    if (rc) {
        json_out_free(&j);
        return web_send_failure(r, rc);
    }
    return web_send_json(r, &j);
}

/* The units a department's note does not take in, each with what its
 * records give now: shown apart, never added into the note's figures. */
static int unfiled(web_request *r, const report_note *note)
{
    if (strcmp(note->level, "department") != 0)
        return web_send_error(r, 400, DALA_EINVAL, "unfiled: only a department's note lists units");
    report_unit_filing *units = NULL;
    size_t count = 0;
    int rc = report_note_units(&units, &count, r->conn->db, note);
    if (rc) return web_send_failure(r, rc);
    report_labeler labels;
    report_labeler_init(&labels, r->conn->db, r->lang);
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_int(&j, "note_id", note->id);
    json_array_begin(&j, "units");
    for (size_t i = 0; !rc && i < count; i++) {
        if (report_unit_is_filed(&units[i])) continue;
        report_figures live = REPORT_FIGURES_INIT;
        rc = report_count(&live, r->conn->db, units[i].unit_id, note->year, note->quarter, NULL);
        if (!rc) report_figures_sort(&live);
        json_object_begin(&j, NULL);
        put_unit_filing(&j, r, &units[i]);
        put_part_figures(&j, &labels, &live);
        json_object_end(&j);
        report_figures_free(&live);
    }
    json_array_end(&j);
    json_object_end(&j);
    report_labeler_free(&labels);
    free(units);
    if (rc) {
        json_out_free(&j);
        return web_send_failure(r, rc);
    }
    return web_send_json(r, &j);
}

/* Sends the note as it now stands after a move, audited as `action`
 * (NULL: the move wrote its own audit entry). */
static int moved(web_request *r, const report_note *before, const char *action, int rc)
{
    if (rc) return web_send_failure(r, rc);
    char detail[64];
    snprintf(detail, sizeof detail, "%s note of %d Q%d", before->level, before->year, before->quarter);
    report_note note;
    if (action) rc = web_audit(r, action, before->unit_id, NULL, detail);
    if (!rc) rc = report_note_load(&note, r->conn->db, before->id);
    if (rc) return web_send_failure(r, rc);
    json_out j = JSON_OUT_INIT;
    rc = web_report_put(&j, r, &note);
    report_note_free(&note);
    if (rc) {
        json_out_free(&j);
        return web_send_failure(r, rc);
    }
    return web_send_json(r, &j);
}

static int change(web_request *r, const report_note *note, const char *action)
{
    sqlite3 *db = r->conn->db;
    int64_t now = server_now(r->server);
    int is_deputy = r->user.role == ROLE_DEPUTY;
    if (strcmp(action, "narrative") == 0) {
        const dala_json *block = r->json ? dala_json_get(r->json, "block") : NULL;
        if (!may_write(r, note)) return web_send_error(r, 403, DALA_EAUTH, "narrative: you do not write this note");
        if (!block || !block->is_integer) return web_send_error(r, 400, DALA_EINVAL, "narrative: block (1 to 9) is needed");
        return moved(r, note, "report_narrative",
                     report_note_set_narrative(db, note->id, (int)block->integer, web_body_string(r, "text")));
    }
    if (strcmp(action, "submit") == 0) {
        if (!may_write(r, note)) return web_send_error(r, 403, DALA_EAUTH, "submit: you do not write this note");
        return moved(r, note, "report_submit", report_note_submit(db, note->id, r->user.id, now));
    }
    if (!is_deputy) return web_send_error(r, 403, DALA_EAUTH, "reports: only the department's deputy head does this");
    if (strcmp(action, "return") == 0)
        return moved(r, note, "report_return", report_note_return(db, note->id, web_body_string(r, "comment"), now));
    if (strcmp(action, "consolidate") == 0)
        return moved(r, note, "report_consolidate", report_note_consolidate(db, note->id, r->user.id, now));
    if (strcmp(action, "reconsolidate") == 0) /* audited inside, with the units it took in */
        return moved(r, note, NULL, report_note_reconsolidate(db, note->id, r->user.id, now, NULL));
    if (strcmp(action, "sign") == 0) {
        /* A wrong password here counts toward the sign-in throttle of the
         * login: a stolen session cannot guess the deputy's password.
         * The attempt is taken before the slow password check and given
         * back unless the password was wrong, so parallel guesses cannot
         * pass the limit. */
        time_t window = 0;
        int wait = throttle_reserve(&r->server->sign_in_failures, r->user.login, time(NULL), &window), replaced = 0;
        if (wait) {
            snprintf(r->headers, sizeof r->headers, "Retry-After: %d\r\n", wait);
            return web_send_error(r, 429, DALA_EAUTH, "sign: too many wrong passwords; try again later");
        }
        int rc = report_note_sign(db, note->id, r->user.id, r->user.full_name, web_body_string(r, "password"), now,
                                  &replaced);
        if (rc == DALA_EAUTH) {
            web_audit(r, "report_sign_failed", note->unit_id, NULL, "a wrong password at signing");
            return web_send_error(r, 403, rc, "sign: the password is wrong");
        }
        throttle_give_back(&r->server->sign_in_failures, r->user.login, window);
        if (!rc && replaced)
            rc = web_audit(r, "signing_key_replaced", note->unit_id, NULL,
                           "the kept signing key did not open with the current password; a new one signed");
        return moved(r, note, "report_sign", rc);
    }
    return 0;
}

int web_route_report(web_request *r, const char *id, const char *action)
{
    report_note note;
    int rc = web_report_load(&note, r, id);
    if (rc) return web_send_failure(r, rc);
    int is_get = strcmp(r->method, "GET") == 0, status = 0;
    if (!action[0]) {
        if (!is_get) status = 405;
        else {
            json_out j = JSON_OUT_INIT;
            rc = web_report_put(&j, r, &note);
            status = rc ? (json_out_free(&j), web_send_failure(r, rc)) : web_send_json(r, &j);
        }
    } else if (strcmp(action, "verify") == 0) {
        if (!is_get) status = 405;
        else {
            rc = report_note_verify(r->conn->db, note.id);
            json_out j = JSON_OUT_INIT;
            json_object_begin(&j, NULL);
            json_bool(&j, "valid", rc == DALA_OK);
            json_string(&j, "reason", rc ? dala_errmsg() : NULL);
            json_object_end(&j);
            status = web_send_json(r, &j);
        }
    } else if (is_get) {
        int is_export = strcmp(action, "note.csv") == 0 || strcmp(action, "note.json") == 0 ||
                        strcmp(action, "print") == 0 || strcmp(action, "signed.json") == 0;
        /* A note leaving the pages is an export, audited before it goes. */
        if (is_export && (rc = web_audit(r, "report_export", note.unit_id, NULL, action))) {
            status = web_send_failure(r, rc);
        } else if (strcmp(action, "records") == 0) status = figure_records(r, &note);
        else if (strcmp(action, "unfiled") == 0) status = unfiled(r, &note);
        else if (strcmp(action, "note.csv") == 0) status = web_route_report_csv(r, &note);
        else if (strcmp(action, "note.json") == 0) status = web_route_report_json(r, &note);
        else if (strcmp(action, "print") == 0) status = web_route_report_print(r, &note);
        else if (strcmp(action, "chart.svg") == 0) status = web_route_report_chart(r, &note);
        else if (strcmp(action, "signed.json") == 0) status = web_route_report_signed(r, &note);
    } else if (strcmp(r->method, "POST") == 0) {
        status = change(r, &note, action);
    } else {
        status = 405;
    }
    report_note_free(&note);
    return status;
}
