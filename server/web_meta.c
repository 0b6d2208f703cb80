/* web_meta.c - what the pages draw their filters and first page from:
 * the record types, review states, risk levels, units and officers of the
 * scope (GET /v1/meta), and the dashboard of the scope (GET /v1/dashboard):
 * counts by type and review state, what waits for review, returned records
 * not yet corrected, open conflicts, tablets silent for days, and the
 * deadlines of the quarterly report notes (Rules, chapter 3: units by the
 * 5th, departments by the 10th of the month after the quarter), and the
 * safety panel (web_safety.c). */
#include "web_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* A tablet that has not synced for this long is shown on the dashboard. */
#define STALE_DEVICE_SECONDS (3 * 24 * 3600)

static const struct {
    const char *name, *kk, *ru;
} states[] = {
    {"pending", "Қаралмаған", "Не рассмотрена"},
    {"returned", "Түзетуге қайтарылған", "Возвращена на доработку"},
    {"corrected", "Түзетілген, қарауды күтеді", "Исправлена, ждёт рассмотрения"},
    {"approved", "Бекітілген", "Утверждена"},
};

const char *web_state_label(const char *state, const char *lang)
{
    for (size_t i = 0; state && i < sizeof states / sizeof states[0]; i++)
        if (strcmp(states[i].name, state) == 0) return dala_label(states[i].kk, states[i].ru, lang);
    return NULL;
}

/* The records a role counts: inspectors their own only. */
#define OWN_RECORDS " AND (?2 = 0 OR r.officer_id = ?2)"

static void put_units(json_out *j, web_request *r)
{
    sqlite3_stmt *stmt;
    json_array_begin(j, "units");
    if (sqlite3_prepare_v2(r->conn->db,
                           "WITH RECURSIVE tree(id, depth, path) AS (SELECT id, 0, printf('%08d', id) FROM org_unit "
                           "WHERE id = ?1 UNION ALL SELECT o.id, tree.depth + 1, tree.path || printf('/%08d', o.id) "
                           "FROM org_unit o JOIN tree ON o.parent_id = tree.id) SELECT id, depth FROM tree ORDER BY path",
                           -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, r->user.unit_id);
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            char name[256];
            web_unit_name(name, sizeof name, r, sqlite3_column_int64(stmt, 0));
            json_object_begin(j, NULL);
            json_int(j, "id", sqlite3_column_int64(stmt, 0));
            json_string(j, "name", name);
            json_int(j, "depth", sqlite3_column_int64(stmt, 1));
            json_object_end(j);
        }
    }
    sqlite3_finalize(stmt);
    json_array_end(j);
}

static void put_officers(json_out *j, web_request *r)
{
    sqlite3_stmt *stmt;
    json_array_begin(j, "officers");
    if (sqlite3_prepare_v2(r->conn->db,
                           WEB_SCOPE_CTE "SELECT id, full_name, unit_id FROM app_user WHERE role = 'inspector' AND "
                                         "unit_id IN (SELECT id FROM scope) AND (?2 = 0 OR id = ?2) "
                                         "ORDER BY full_name COLLATE kk",
                           -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, r->user.unit_id);
        sqlite3_bind_int64(stmt, 2, r->user.role == ROLE_INSPECTOR ? r->user.id : 0);
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            char unit[256];
            web_unit_name(unit, sizeof unit, r, sqlite3_column_int64(stmt, 2));
            json_object_begin(j, NULL);
            json_int(j, "id", sqlite3_column_int64(stmt, 0));
            json_string(j, "full_name", (const char *)sqlite3_column_text(stmt, 1));
            json_string(j, "unit", unit);
            json_object_end(j);
        }
    }
    sqlite3_finalize(stmt);
    json_array_end(j);
}

int web_route_meta(web_request *r)
{
    const dala_domain *domain = dala_domain_get();
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_array_begin(&j, "tables");
    for (size_t i = 0; i < domain->table_count; i++) {
        const dala_table_def *def = &domain->tables[i];
        if (def->is_server_written) continue;
        json_object_begin(&j, NULL);
        json_string(&j, "name", def->name);
        json_string(&j, "label", dala_label(def->kk, def->ru, r->lang));
        json_object_end(&j);
    }
    json_array_end(&j);
    json_array_begin(&j, "states");
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        json_object_begin(&j, NULL);
        json_string(&j, "name", states[i].name);
        json_string(&j, "label", dala_label(states[i].kk, states[i].ru, r->lang));
        json_object_end(&j);
    }
    json_array_end(&j);
    json_array_begin(&j, "risks");
    const dala_field_def *risk = dala_domain_field(dala_domain_table(domain, "field_visit"), "risk_level");
    for (size_t i = 0; risk && risk->choices && i < risk->choices->count; i++) {
        const dala_enum_value *v = &risk->choices->values[i];
        json_object_begin(&j, NULL);
        json_string(&j, "name", v->value);
        json_string(&j, "label", dala_label(v->kk, v->ru, r->lang));
        json_object_end(&j);
    }
    json_array_end(&j);
    put_units(&j, r);
    put_officers(&j, r);
    json_object_end(&j);
    return web_send_json(r, &j);
}

/* --- the dashboard ---------------------------------------------------------- */

static void put_counts(json_out *j, web_request *r, int64_t *waiting, int64_t *returned)
{
    sqlite3_stmt *stmt;
    json_array_begin(j, "counts");
    if (sqlite3_prepare_v2(r->conn->db,
                           WEB_SCOPE_CTE "SELECT r.tbl, sum(r.review_state = 'pending'), sum(r.review_state = 'corrected'), "
                                         "sum(r.review_state = 'returned'), sum(r.review_state = 'approved') FROM record r "
                                         "WHERE r.unit_id IN (SELECT id FROM scope) "
                                         "AND r.tbl NOT IN ('conflict', 'review', 'survey_form')" OWN_RECORDS
                                         " GROUP BY r.tbl ORDER BY r.tbl",
                           -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, r->user.unit_id);
        sqlite3_bind_int64(stmt, 2, r->user.role == ROLE_INSPECTOR ? r->user.id : 0);
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            const char *table = (const char *)sqlite3_column_text(stmt, 0);
            const dala_table_def *def = dala_domain_table(dala_domain_get(), table);
            json_object_begin(j, NULL);
            json_string(j, "table", table);
            json_string(j, "label", def ? dala_label(def->kk, def->ru, r->lang) : table);
            json_int(j, "pending", sqlite3_column_int64(stmt, 1));
            json_int(j, "corrected", sqlite3_column_int64(stmt, 2));
            json_int(j, "returned", sqlite3_column_int64(stmt, 3));
            json_int(j, "approved", sqlite3_column_int64(stmt, 4));
            json_object_end(j);
            *waiting += sqlite3_column_int64(stmt, 1) + sqlite3_column_int64(stmt, 2);
            *returned += sqlite3_column_int64(stmt, 3);
        }
    }
    sqlite3_finalize(stmt);
    json_array_end(j);
}

static int64_t open_conflicts(web_request *r)
{
    sqlite3_stmt *stmt;
    int64_t count = 0;
    if (sqlite3_prepare_v2(r->conn->db,
                           WEB_SCOPE_CTE "SELECT count(*) FROM record c JOIN record r ON r.id = c.about "
                                         "WHERE c.unit_id IN (SELECT id FROM scope) AND c.tbl = 'conflict' "
                                         "AND c.status = 'open'" OWN_RECORDS,
                           -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, r->user.unit_id);
        sqlite3_bind_int64(stmt, 2, r->user.role == ROLE_INSPECTOR ? r->user.id : 0);
        if (sqlite3_step(stmt) == SQLITE_ROW) count = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return count;
}

static void put_stale_devices(json_out *j, web_request *r)
{
    sqlite3_stmt *stmt;
    json_array_begin(j, "stale_devices");
    if (r->user.role != ROLE_INSPECTOR &&
        sqlite3_prepare_v2(r->conn->db,
                           WEB_SCOPE_CTE "SELECT d.id, u.full_name, d.unit_id, d.last_sync_at FROM device d "
                                         "JOIN app_user u ON u.id = d.user_id WHERE d.unit_id IN (SELECT id FROM scope) "
                                         "AND d.revoked_at IS NULL AND coalesce(d.last_sync_at, d.enrolled_at) < ?2 "
                                         "ORDER BY coalesce(d.last_sync_at, 0) LIMIT 100",
                           -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, r->user.unit_id);
        sqlite3_bind_int64(stmt, 2, (int64_t)time(NULL) - STALE_DEVICE_SECONDS);
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            char unit[256];
            web_unit_name(unit, sizeof unit, r, sqlite3_column_int64(stmt, 2));
            json_object_begin(j, NULL);
            json_int(j, "id", sqlite3_column_int64(stmt, 0));
            json_string(j, "officer", (const char *)sqlite3_column_text(stmt, 1));
            json_string(j, "unit", unit);
            if (sqlite3_column_type(stmt, 3) == SQLITE_NULL) json_null(j, "last_sync_at");
            else json_int(j, "last_sync_at", sqlite3_column_int64(stmt, 3));
            json_object_end(j);
        }
        sqlite3_finalize(stmt);
    }
    json_array_end(j);
}

void web_report_deadlines(web_deadlines *out, int year, int month, int day)
{
    int quarter = (month - 1) / 3 + 1, quarter_year = year;
    /* Until the departments' day (the 10th of a quarter's first month) the
     * notes due are those of the quarter just ended. */
    if (month == (quarter - 1) * 3 + 1 && day <= 10 && --quarter == 0) {
        quarter = 4;
        quarter_year--;
    }
    out->year = quarter_year;
    out->quarter = quarter;
    int due_month = quarter * 3 + 1, due_year = quarter_year;
    if (due_month > 12) {
        due_month = 1;
        due_year++;
    }
    snprintf(out->unit_due, sizeof out->unit_due, "%04d-%02d-05", due_year % 10000, due_month % 100);
    snprintf(out->department_due, sizeof out->department_due, "%04d-%02d-10", due_year % 10000, due_month % 100);
    struct tm today = {.tm_year = year - 1900, .tm_mon = month - 1, .tm_mday = day, .tm_hour = 12};
    struct tm due = {.tm_year = due_year - 1900, .tm_mon = due_month - 1, .tm_mday = 5, .tm_hour = 12};
    out->unit_days_left = (int)((timegm(&due) - timegm(&today)) / 86400);
    out->department_days_left = out->unit_days_left + 5;
}

int web_route_dashboard(web_request *r)
{
    char unit[256];
    int64_t waiting = 0, returned = 0;
    web_unit_name(unit, sizeof unit, r, r->user.unit_id);
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_object_begin(&j, "scope");
    json_int(&j, "unit_id", r->user.unit_id);
    json_string(&j, "unit", unit);
    json_object_end(&j);
    put_counts(&j, r, &waiting, &returned);
    json_int(&j, "waiting", waiting);
    json_int(&j, "returned", returned);
    json_int(&j, "open_conflicts", open_conflicts(r));
    put_stale_devices(&j, r);
    time_t now = (time_t)server_now(r->server);
    struct tm tm;
    localtime_r(&now, &tm);
    web_deadlines d;
    web_report_deadlines(&d, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    json_object_begin(&j, "deadlines");
    json_int(&j, "year", d.year);
    json_int(&j, "quarter", d.quarter);
    json_string(&j, "unit_due", d.unit_due);
    json_string(&j, "department_due", d.department_due);
    json_int(&j, "unit_days_left", d.unit_days_left);
    json_int(&j, "department_days_left", d.department_days_left);
    json_object_end(&j);
    int rc = web_safety_put(&j, r);
    json_object_end(&j);
    if (rc) {
        json_out_free(&j);
        return web_send_failure(r, rc);
    }
    return web_send_json(r, &j);
}
