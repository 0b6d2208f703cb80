/* web_safety.c - the dashboard's safety panel (GET /v1/dashboard,
 * `safety`) and a record's duplicate register numbers (GET
 * /v1/records/{id}, `duplicates`): what a supervisor must look at first,
 * within their scope, each line a record to open.
 *
 * Every list is read from the columns migration 008 keeps beside each
 * record (record_columns.c) through partial indexes, so a list costs its
 * candidates, never a scan of the scope's blobs: no blob is decoded here.
 * Each list is cut at SAFETY_LIMIT lines and says how many there are in
 * all; the lapses and reports come newest first, so a case that has just
 * lapsed tops its list instead of sinking under years of old ones. A line names a record, its type, unit, date and a reason code;
 * never a name, an address or a number, so the dashboard reads nobody's
 * sensitive fields, and nothing here is logged. Duplicate numbers are
 * shown, never refused: the tablet may be right. */
#include "web_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Lines per list. */
#define SAFETY_LIMIT 50
/* "No visit since": the default days, and the bounds of ?visit_days=. */
#define SAFETY_VISIT_DAYS 14
#define SAFETY_VISIT_DAYS_MAX 365
/* Orders that end within this many days; breaches this recent. */
#define SAFETY_ORDER_DAYS 3
#define SAFETY_BREACH_DAYS 30
/* Reports this recent count towards repeats. */
#define SAFETY_REPEAT_DAYS 90

/* The parameters every list binds (those its SQL names):
 * ?1 the user's unit (the scope), ?2 the inspector's own user id (0: any
 * officer), ?3 today, ?4 the limit, ?5 the visit cut-off day, ?6 the
 * first day of recent breaches, ?7 the last day of orders ending soon,
 * ?8 the first day of recent reports. Each list's SQL answers the columns
 * id, tbl, unit_id, date, reason, due, n, slot, total. */
#define OWN(alias) " AND (?2 = 0 OR " alias ".officer_id = ?2)"
#define IN_SCOPE(alias) " AND " alias ".unit_id IN (SELECT id FROM scope)" OWN(alias)
/* No later visit of the same victim (a visit of the same day and a
 * greater id is later: ids are time-ordered). */
#define NO_LATER_VISIT(alias)                                                                              \
    " AND NOT EXISTS (SELECT 1 FROM record l WHERE l.victim = " alias ".victim AND l.tbl = 'field_visit' " \
    "AND l.occurred_on >= " alias ".occurred_on AND (l.occurred_on > " alias ".occurred_on OR l.id > " alias ".id))"

/* Named, since without statistics SQLite prefers the unit-type-date
 * index, which reads every visit of the scope (0.4 s for a country's
 * 50,000 against 0.1 s). */
static const char sql_no_recent_visit[] =
    WEB_SCOPE_CTE ", hits AS (SELECT v.id, v.unit_id, v.occurred_on FROM record v INDEXED BY record_high_risk_visits "
    "WHERE v.tbl = 'field_visit' AND v.risk = 'high' AND v.victim IS NOT NULL AND v.occurred_on < ?5"
    IN_SCOPE("v") NO_LATER_VISIT("v") ") "
    "SELECT id, 'field_visit', unit_id, occurred_on, 'high_risk_no_visit', NULL, "
    "CAST(julianday(?3) - julianday(occurred_on) AS INTEGER), NULL, count(*) OVER () "
    "FROM hits ORDER BY occurred_on DESC, id DESC LIMIT ?4";

static const char sql_protective_orders[] =
    WEB_SCOPE_CTE ", hits AS ("
    "SELECT r.id, r.unit_id, r.occurred_on, 'order_breached' AS reason, r.breached_on AS due FROM record r "
    "WHERE r.breached_on >= ?6 AND r.tbl = 'protective_measure'" IN_SCOPE("r") " UNION ALL "
    "SELECT r.id, r.unit_id, r.occurred_on, 'order_expiring', r.due_on FROM record r "
    "WHERE r.tbl = 'protective_measure' AND r.due_on >= ?3 AND r.due_on <= ?7" IN_SCOPE("r")
    " AND coalesce(r.breached_on, '') < ?6) "
    "SELECT id, 'protective_measure', unit_id, occurred_on, reason, due, NULL, NULL, count(*) OVER () "
    "FROM hits ORDER BY due, id LIMIT ?4";

static const char sql_overdue_follow_ups[] =
    WEB_SCOPE_CTE ", hits AS (SELECT v.id, v.unit_id, v.occurred_on, v.due_on FROM record v "
    "WHERE v.tbl = 'field_visit' AND v.due_on < ?3" IN_SCOPE("v") NO_LATER_VISIT("v") ") "
    "SELECT id, 'field_visit', unit_id, occurred_on, 'follow_up_overdue', due_on, "
    "CAST(julianday(?3) - julianday(due_on) AS INTEGER), NULL, count(*) OVER () "
    "FROM hits ORDER BY due_on DESC, id DESC LIMIT ?4";

/* A victim's reports, then an address's; an address whose reports are all
 * one victim's is that victim's line already. Each line is the latest
 * report of its group (SQLite takes the bare columns from max()'s row). */
static const char sql_repeat_reports[] =
    WEB_SCOPE_CTE ", recent AS (SELECT r.id, r.tbl, r.unit_id, r.occurred_on, r.victim, r.place_key FROM record r "
    "WHERE r.report = 1 AND r.occurred_on >= ?8" IN_SCOPE("r") "), "
    "by_victim AS (SELECT id, tbl, unit_id, max(occurred_on) AS day, 'repeat_victim' AS reason, count(*) AS n "
    "FROM recent WHERE victim IS NOT NULL GROUP BY victim HAVING count(*) >= 2), "
    "by_place AS (SELECT id, tbl, unit_id, max(occurred_on) AS day, 'repeat_address' AS reason, count(*) AS n "
    "FROM recent WHERE place_key IS NOT NULL GROUP BY place_key HAVING count(*) >= 2 "
    "AND NOT (count(victim) = count(*) AND count(DISTINCT victim) = 1)), "
    "hits AS (SELECT * FROM by_victim UNION ALL SELECT * FROM by_place) "
    "SELECT id, tbl, unit_id, day, reason, NULL, n, NULL, count(*) OVER () FROM hits "
    "ORDER BY day DESC, id LIMIT ?4";

/* One line's extras, by list. */
typedef enum line_kind { LINE_DAYS, LINE_DUE, LINE_COUNT, LINE_REGISTER } line_kind;

/* Unit names already read for this answer. */
typedef struct unit_names {
    size_t count;
    struct {
        int64_t id;
        char name[256];
    } units[32];
} unit_names;

static const char *unit_name(unit_names *names, web_request *r, int64_t unit_id)
{
    for (size_t i = 0; i < names->count; i++)
        if (names->units[i].id == unit_id) return names->units[i].name;
    size_t slot = names->count < sizeof names->units / sizeof names->units[0] ? names->count++ : 0;
    names->units[slot].id = unit_id;
    web_unit_name(names->units[slot].name, sizeof names->units[slot].name, r, unit_id);
    return names->units[slot].name;
}

/* The days around today the lists compare with. */
typedef struct safety_days {
    char today[11], visit_cutoff[11], breach_since[11], expiry_end[11], reports_since[11];
    int64_t visit_days;
} safety_days;

/* `today` moved by `days` (may be negative), "YYYY-MM-DD". */
static void day_offset(char out[11], const struct tm *today, int64_t days)
{
    struct tm noon = {.tm_year = today->tm_year, .tm_mon = today->tm_mon, .tm_mday = today->tm_mday, .tm_hour = 12};
    time_t when = timegm(&noon) + (time_t)(days * 86400);
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static void bind_days(sqlite3_stmt *stmt, web_request *r, const safety_days *d)
{
    const char *dates[] = {d->today, NULL, d->visit_cutoff, d->breach_since, d->expiry_end, d->reports_since};
    int count = sqlite3_bind_parameter_count(stmt);
    sqlite3_bind_int64(stmt, 1, r->user.unit_id);
    sqlite3_bind_int64(stmt, 2, r->user.role == ROLE_INSPECTOR ? r->user.id : 0);
    for (int i = 0; i < 6 && 3 + i <= count; i++)
        if (dates[i]) sqlite3_bind_text(stmt, 3 + i, dates[i], -1, SQLITE_STATIC);
    if (count >= 4) sqlite3_bind_int(stmt, 4, SAFETY_LIMIT);
}

/* Runs one list's SQL and writes {"total", "lines"} under `key`. */
static int put_list(json_out *j, web_request *r, unit_names *names, const safety_days *d, const char *key,
                    const char *sql, line_kind kind)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, sql, -1, &stmt, NULL)) return server_db_error(r->conn->db, "read the safety panel");
    bind_days(stmt, r, d);
    int64_t total = 0;
    int step;
    json_object_begin(j, key);
    json_array_begin(j, "lines");
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        char id[DALA_UUID_TEXT_LEN + 1];
        if (sqlite3_column_bytes(stmt, 0) != DALA_UUID_BYTES) continue;
        dala_uuid_format(id, sqlite3_column_blob(stmt, 0));
        const char *table = (const char *)sqlite3_column_text(stmt, 1);
        const dala_table_def *def = dala_domain_table(dala_domain_get(), table);
        int64_t unit_id = sqlite3_column_int64(stmt, 2);
        total = sqlite3_column_int64(stmt, 8);
        json_object_begin(j, NULL);
        json_string(j, "id", id);
        json_string(j, "table", table);
        json_string(j, "table_label", def ? dala_label(def->kk, def->ru, r->lang) : table);
        json_int(j, "unit_id", unit_id);
        json_string(j, "unit", unit_name(names, r, unit_id));
        json_string(j, "date", (const char *)sqlite3_column_text(stmt, 3));
        json_string(j, "reason", (const char *)sqlite3_column_text(stmt, 4));
        if (kind == LINE_DUE || kind == LINE_DAYS) {
            if (sqlite3_column_type(stmt, 5) != SQLITE_NULL) json_string(j, "due", (const char *)sqlite3_column_text(stmt, 5));
            if (sqlite3_column_type(stmt, 6) != SQLITE_NULL) json_int(j, "days", sqlite3_column_int64(stmt, 6));
        } else if (kind == LINE_COUNT) {
            json_int(j, "count", sqlite3_column_int64(stmt, 6));
        } else {
            int slot = sqlite3_column_int(stmt, 7);
            const char *name = slot >= 0 && slot < SERVER_REGISTER_COUNT ? server_registers[slot].name : "";
            const dala_field_def *field = NULL;
            for (size_t i = 0; def && !field && i < def->field_count; i++)
                if (def->fields[i].register_name && strcmp(def->fields[i].register_name, name) == 0)
                    field = &def->fields[i];
            json_string(j, "register", name);
            json_string(j, "field", field ? field->name : NULL);
            json_string(j, "label", field ? dala_label(field->kk, field->ru, r->lang) : NULL);
        }
        json_object_end(j);
    }
    json_array_end(j);
    json_int(j, "total", total);
    json_object_end(j);
    int rc = step == SQLITE_DONE ? DALA_OK : server_db_error(r->conn->db, "read the safety panel");
    sqlite3_finalize(stmt);
    return rc;
}

/* The duplicate numbers' SQL: per register, the numbers held by more than
 * one record of a unit in scope, then those records. */
static int duplicates_sql(char *out, size_t size)
{
    size_t n = (size_t)snprintf(out, size, "%s", WEB_SCOPE_CTE);
    for (int i = 0; i < SERVER_REGISTER_COUNT && n < size; i++) {
        const char *c = server_registers[i].column;
        n += (size_t)snprintf(out + n, size - n,
                              ", dup%d AS (SELECT r.unit_id, r.%s AS number FROM record r WHERE r.%s IS NOT NULL"
                              IN_SCOPE("r") " GROUP BY r.unit_id, r.%s HAVING count(*) > 1)",
                              i, c, c, c);
    }
    if (n < size) n += (size_t)snprintf(out + n, size - n, ", hits AS (");
    for (int i = 0; i < SERVER_REGISTER_COUNT && n < size; i++)
        n += (size_t)snprintf(out + n, size - n,
                              "%sSELECT r.id, r.tbl, r.unit_id, r.occurred_on, %d AS slot FROM dup%d d "
                              "JOIN record r ON r.unit_id = d.unit_id AND r.%s = d.number WHERE 1" OWN("r"),
                              i ? " UNION ALL " : "", i, i, server_registers[i].column);
    if (n < size)
        n += (size_t)snprintf(out + n, size - n,
                              ") SELECT id, tbl, unit_id, occurred_on, 'duplicate_number', NULL, NULL, slot, "
                              "count(*) OVER () FROM hits ORDER BY occurred_on DESC, id, slot LIMIT ?4");
    return n < size ? DALA_OK : dala_error_set(DALA_ELIMIT, "the duplicate numbers' query is too long");
}

int web_safety_put(json_out *j, web_request *r)
{
    int64_t visit_days;
    int rc = web_query_int(&visit_days, r, "visit_days", SAFETY_VISIT_DAYS);
    if (!rc && (visit_days < 1 || visit_days > SAFETY_VISIT_DAYS_MAX))
        rc = dala_error_set(DALA_EINVAL, "visit_days: from 1 to %d", SAFETY_VISIT_DAYS_MAX);
    if (rc) return rc;
    if (!web_role_may_read_records(r->user.role)) {
        json_null(j, "safety");
        return DALA_OK;
    }
    safety_days d;
    time_t now = (time_t)server_now(r->server);
    struct tm today;
    localtime_r(&now, &today);
    strftime(d.today, sizeof d.today, "%Y-%m-%d", &today);
    d.visit_days = visit_days;
    day_offset(d.visit_cutoff, &today, -visit_days);
    day_offset(d.breach_since, &today, -SAFETY_BREACH_DAYS);
    day_offset(d.expiry_end, &today, SAFETY_ORDER_DAYS);
    day_offset(d.reports_since, &today, -SAFETY_REPEAT_DAYS);
    unit_names names = {0};
    char duplicates[4096];
    json_object_begin(j, "safety");
    json_string(j, "today", d.today);
    json_int(j, "visit_days", visit_days);
    json_int(j, "limit", SAFETY_LIMIT);
    rc = put_list(j, r, &names, &d, "no_recent_visit", sql_no_recent_visit, LINE_DAYS);
    if (!rc) rc = put_list(j, r, &names, &d, "protective_orders", sql_protective_orders, LINE_DUE);
    if (!rc) rc = put_list(j, r, &names, &d, "overdue_follow_ups", sql_overdue_follow_ups, LINE_DAYS);
    if (!rc) rc = put_list(j, r, &names, &d, "repeat_reports", sql_repeat_reports, LINE_COUNT);
    if (!rc) rc = duplicates_sql(duplicates, sizeof duplicates);
    if (!rc) rc = put_list(j, r, &names, &d, "duplicate_numbers", duplicates, LINE_REGISTER);
    json_object_end(j);
    return rc;
}

/* --- a record's duplicates --------------------------------------------------- */

/* The other records of `unit_id` with `number` in register `slot` that the
 * user may read, oldest first, as {field, label, register, records}. */
static int put_number_duplicates(json_out *j, web_request *r, const uint8_t id[DALA_UUID_BYTES], int64_t unit_id,
                                 const dala_table_def *def, int slot, const char *number)
{
    char sql[400];
    sqlite3_stmt *stmt;
    snprintf(sql, sizeof sql,
             "SELECT id, occurred_on FROM record WHERE unit_id = ?1 AND %s = ?2 AND id <> ?3 "
             "AND (?4 = 0 OR officer_id = ?4) ORDER BY occurred_on, id LIMIT %d",
             server_registers[slot].column, SAFETY_LIMIT);
    if (sqlite3_prepare_v2(r->conn->db, sql, -1, &stmt, NULL)) return server_db_error(r->conn->db, "read duplicates");
    sqlite3_bind_int64(stmt, 1, unit_id);
    sqlite3_bind_text(stmt, 2, number, -1, SQLITE_STATIC);
    sqlite3_bind_blob(stmt, 3, id, DALA_UUID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, r->user.role == ROLE_INSPECTOR ? r->user.id : 0);
    int step, count = 0;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(stmt, 0) != DALA_UUID_BYTES) continue;
        if (count++ == 0) {
            const dala_field_def *field = NULL;
            for (size_t i = 0; def && !field && i < def->field_count; i++)
                if (server_register_index(def->fields[i].register_name) == slot) field = &def->fields[i];
            json_object_begin(j, NULL);
            json_string(j, "field", field ? field->name : NULL);
            json_string(j, "label", field ? dala_label(field->kk, field->ru, r->lang) : NULL);
            json_string(j, "register", server_registers[slot].name);
            json_array_begin(j, "records");
        }
        char other[DALA_UUID_TEXT_LEN + 1];
        dala_uuid_format(other, sqlite3_column_blob(stmt, 0));
        json_object_begin(j, NULL);
        json_string(j, "id", other);
        json_string(j, "date", (const char *)sqlite3_column_text(stmt, 1));
        json_object_end(j);
    }
    if (count) {
        json_array_end(j);
        json_object_end(j);
    }
    int rc = step == SQLITE_DONE ? DALA_OK : server_db_error(r->conn->db, "read duplicates");
    sqlite3_finalize(stmt);
    return rc;
}

int web_record_put_duplicates(json_out *j, web_request *r, const uint8_t id[DALA_UUID_BYTES], int64_t unit_id,
                              const dala_table_def *def)
{
    char sql[200];
    size_t n = (size_t)snprintf(sql, sizeof sql, "SELECT ");
    for (int i = 0; i < SERVER_REGISTER_COUNT; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s%s", i ? ", " : "", server_registers[i].column);
    snprintf(sql + n, sizeof sql - n, " FROM record WHERE id = ?1");
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, sql, -1, &stmt, NULL)) return server_db_error(r->conn->db, "read duplicates");
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    char numbers[SERVER_REGISTER_COUNT][SERVER_NUMBER_MAX + 1] = {{0}};
    int step = sqlite3_step(stmt), rc = DALA_OK;
    if (step == SQLITE_ROW) {
        for (int i = 0; i < SERVER_REGISTER_COUNT; i++)
            if (sqlite3_column_type(stmt, i) == SQLITE_TEXT)
                snprintf(numbers[i], sizeof numbers[i], "%s", (const char *)sqlite3_column_text(stmt, i));
    } else if (step != SQLITE_DONE) {
        rc = server_db_error(r->conn->db, "read duplicates");
    }
    sqlite3_finalize(stmt);
    json_array_begin(j, "duplicates");
    for (int i = 0; !rc && i < SERVER_REGISTER_COUNT; i++)
        if (numbers[i][0]) rc = put_number_duplicates(j, r, id, unit_id, def, i, numbers[i]);
    json_array_end(j);
    return rc;
}
