/* web_records.c - the supervisors' record lists (GET /v1/records) and
 * their export (GET /v1/records.csv): the records of the user's scope
 * filtered by type, unit, officer, dates, review state, risk and text,
 * newest first by the record's date, paged by a cursor (the date and id
 * of the last row) so a page costs the same at the 100,000th record as at
 * the first. Review decisions, conflicts and published forms belong to
 * their records and are not listed. */
#include "web_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_DEFAULT 50
#define PAGE_MAX 200
#define EXPORT_MAX 100000
#define CSV_CHUNK (64 * 1024)

/* The filters of a list, read from the query. */
typedef struct list_filter {
    int64_t unit, officer, limit;
    char table[64], from[16], to[16], state[16], risk[32], q[256];
    char after_date[16], after_id[DALA_UUID_TEXT_LEN + 1];
    char fts[1600]; /* q as trigrams for the index, when it has three letters or more */
    int is_common;  /* the index names many candidates: read by date instead */
} list_filter;

/* Above this many candidates from the text index, a page reads the list
 * by date and stops at its limit; below it, it reads the candidates and
 * sorts them (bench_server step 7 measures both). */
#define FEW_CANDIDATES 2000

/* Whether the text index names more than FEW_CANDIDATES records. */
static int count_candidates(int *is_common, web_request *r, const char *fts)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, "SELECT count(*) FROM (SELECT rowid FROM record_text WHERE record_text MATCH ?1 "
                                        "LIMIT ?2)", -1, &stmt, NULL))
        return server_db_error(r->conn->db, "search records");
    sqlite3_bind_text(stmt, 1, fts, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, FEW_CANDIDATES + 1);
    int rc = sqlite3_step(stmt) == SQLITE_ROW ? DALA_OK : server_db_error(r->conn->db, "search records");
    *is_common = !rc && sqlite3_column_int(stmt, 0) > FEW_CANDIDATES;
    sqlite3_finalize(stmt);
    return rc;
}

/* q as an FTS5 query for the trigram index: every three-letter run of
 * it, each quoted (quotes doubled), all required. The index keeps no
 * positions (detail=none: a third of the size), so this names candidates;
 * dala_record_matches then decides. Empty when q has under three letters. */
static void fts_trigrams(char *out, size_t size, const char *q)
{
    size_t starts[260], letters = 0, n = 0, len = strlen(q);
    out[0] = '\0';
    for (size_t i = 0; i < len && letters < sizeof starts / sizeof starts[0] - 1; i++)
        if (((unsigned char)q[i] & 0xc0) != 0x80) starts[letters++] = i;
    starts[letters] = len;
    for (size_t t = 0; t + 3 <= letters; t++) {
        if (n + 2 * (starts[t + 3] - starts[t]) + 4 >= size) break;
        if (t) out[n++] = ' ';
        out[n++] = '"';
        for (size_t i = starts[t]; i < starts[t + 3]; i++) {
            if (q[i] == '"') out[n++] = '"';
            out[n++] = q[i];
        }
        out[n++] = '"';
    }
    out[n] = '\0';
}

static int is_date(const char *text)
{
    return text[0] == '\0' || dala_date_is_valid(text, strlen(text));
}

static int read_filter(list_filter *f, web_request *r, int64_t default_limit)
{
    memset(f, 0, sizeof *f);
    char after[80];
    int rc = web_query_int(&f->unit, r, "unit", 0);
    if (!rc) rc = web_query_int(&f->officer, r, "officer", 0);
    if (!rc) rc = web_query_int(&f->limit, r, "limit", default_limit);
    if (rc) return rc;
    web_query(r, "table", f->table, sizeof f->table);
    web_query(r, "from", f->from, sizeof f->from);
    web_query(r, "to", f->to, sizeof f->to);
    web_query(r, "state", f->state, sizeof f->state);
    web_query(r, "risk", f->risk, sizeof f->risk);
    web_query(r, "q", f->q, sizeof f->q);
    fts_trigrams(f->fts, sizeof f->fts, f->q);
    if (f->table[0] && !dala_domain_table(dala_domain_get(), f->table))
        return dala_error_set(DALA_EINVAL, "table: no record type %s", f->table);
    if (!is_date(f->from) || !is_date(f->to)) return dala_error_set(DALA_EINVAL, "from, to: dates are YYYY-MM-DD");
    if (f->state[0] && !web_state_label(f->state, "kk"))
        return dala_error_set(DALA_EINVAL, "state: pending, returned, corrected or approved");
    if (f->limit < 1 || f->limit > default_limit * 4) f->limit = default_limit;
    if (web_query(r, "after", after, sizeof after)) {
        uint8_t id[DALA_UUID_BYTES];
        char *bar = strchr(after, '_');
        if (!bar || bar - after != 10 || strlen(bar + 1) != DALA_UUID_TEXT_LEN || dala_uuid_parse(id, bar + 1))
            return dala_error_set(DALA_EINVAL, "after: not a cursor this list gave");
        memcpy(f->after_date, after, 10);
        snprintf(f->after_id, sizeof f->after_id, "%s", bar + 1);
    }
    if (f->fts[0]) rc = count_candidates(&f->is_common, r, f->fts);
    if (!rc && f->unit) {
        int visible = 0;
        rc = web_unit_in_scope(&visible, r, f->unit);
        if (!rc && !visible) rc = dala_error_set(DALA_ENOTFOUND, "unit: no such unit in your scope");
    }
    return rc;
}

/* The records the text index names, and those past its cursors. */
#define FTS_HITS "(SELECT rowid FROM record_text WHERE record_text MATCH :fts)"
#define NOT_INDEXED                                                                                         \
    "(SELECT n.rowid FROM org_unit o LEFT JOIN text_index_cursor c ON c.unit_id = o.id "                    \
    "JOIN record n ON n.unit_id = o.id AND n.seq > coalesce(c.seq, 0))"

/* The statement of a list: only the filters given take part, so SQLite
 * plans each shape with the indexes that fit it. */
static int prepare_list(sqlite3_stmt **out, web_request *r, const list_filter *f)
{
    dala_buf sql = DALA_BUF_INIT;
    const char *parts[] = {
        WEB_SCOPE_CTE "SELECT r.id, r.tbl, r.unit_id, r.occurred_on, r.review_state, r.risk, r.data, "
                      "coalesce(u.full_name, ''), (SELECT count(*) FROM record c WHERE c.about = r.id "
                      "AND c.tbl = 'conflict' AND c.status = 'open') "
                      "FROM record r LEFT JOIN app_user u ON u.id = r.officer_id "
                      /* The unary + keeps SQLite on the (date, id) indexes: a page then
                       * reads rows in order and stops at the limit, never sorting the scope. */
                      "WHERE +r.unit_id IN (SELECT id FROM scope) AND r.tbl NOT IN ('conflict', 'review', 'survey_form')",
        f->table[0] ? " AND r.tbl = :table" : "",
        f->officer ? " AND r.officer_id = :officer" : "",
        r->user.role == ROLE_INSPECTOR ? " AND r.officer_id = :self" : "",
        f->from[0] ? " AND r.occurred_on >= :from" : "",
        f->to[0] ? " AND r.occurred_on <= :to" : "",
        f->state[0] ? " AND r.review_state = :state" : "",
        f->risk[0] ? " AND r.risk = :risk" : "",
        /* Text of three letters or more: the trigram index names the
         * candidates, with the records written past its cursors (not yet
         * indexed, or indexed before their last write); the fold-aware
         * match then decides. Few candidates are read by rowid and sorted;
         * many, with the + that keeps SQLite on the date index, pass by as
         * the list is read in order. */
        !f->fts[0]     ? ""
        : f->is_common ? " AND (+r.rowid IN " FTS_HITS " OR +r.rowid IN " NOT_INDEXED ")"
                       : " AND (r.rowid IN " FTS_HITS " OR r.rowid IN " NOT_INDEXED ")",
        f->q[0] ? " AND dala_record_matches(r.data, :q)" : "",
        f->after_id[0] ? " AND (r.occurred_on, r.id) < (:after_date, :after_id)" : "",
        " ORDER BY r.occurred_on DESC, r.id DESC LIMIT :limit",
    };
    int rc = DALA_OK;
    for (size_t i = 0; !rc && i < sizeof parts / sizeof parts[0]; i++) rc = dala_buf_append(&sql, parts[i], strlen(parts[i]));
    if (!rc && sqlite3_prepare_v2(r->conn->db, (const char *)sql.data, (int)sql.len, out, NULL))
        rc = server_db_error(r->conn->db, "list records");
    dala_buf_free(&sql);
    if (rc) return rc;
    sqlite3_stmt *s = *out;
    sqlite3_bind_int64(s, 1, f->unit ? f->unit : r->user.unit_id);
    sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":table"), f->table, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":officer"), f->officer);
    sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":self"), r->user.id);
    sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":from"), f->from, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":to"), f->to, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":state"), f->state, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":risk"), f->risk, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":q"), f->q, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":fts"), f->fts, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":after_date"), f->after_date, -1, SQLITE_STATIC);
    if (f->after_id[0]) {
        uint8_t after_id[DALA_UUID_BYTES];
        dala_uuid_parse(after_id, f->after_id); /* checked by read_filter */
        sqlite3_bind_blob(s, sqlite3_bind_parameter_index(s, ":after_id"), after_id, DALA_UUID_BYTES,
                          SQLITE_TRANSIENT);
    }
    /* One row more than the page: whether another page follows. */
    sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":limit"), f->limit + 1);
    return DALA_OK;
}

/* Columns of a list row (prepare_list). */
enum { COL_ID, COL_TABLE, COL_UNIT, COL_DATE, COL_STATE, COL_RISK, COL_DATA, COL_OFFICER, COL_CONFLICTS };

/* One row of a list; `*sensitive` counts rows whose summary shows a
 * person's sensitive fields (names), for the audit trail. */
static void list_row(json_out *j, web_request *r, sqlite3_stmt *stmt, dala_record *record, int64_t *sensitive)
{
    int shows_sensitive = 0;
    char id[DALA_UUID_TEXT_LEN + 1], unit[256], summary[160] = "";
    const char *table = (const char *)sqlite3_column_text(stmt, COL_TABLE);
    const char *state = (const char *)sqlite3_column_text(stmt, COL_STATE);
    const dala_table_def *def = dala_domain_table(dala_domain_get(), table);
    dala_uuid_format(id, sqlite3_column_blob(stmt, COL_ID));
    web_unit_name(unit, sizeof unit, r, sqlite3_column_int64(stmt, COL_UNIT));
    dala_record_clear(record);
    if (dala_record_decode(record, sqlite3_column_blob(stmt, COL_DATA), (size_t)sqlite3_column_bytes(stmt, COL_DATA)) ==
        DALA_OK)
        dala_record_summarise(summary, sizeof summary, def, record, r->lang, &shows_sensitive);
    *sensitive += shows_sensitive;
    json_object_begin(j, NULL);
    json_string(j, "id", id);
    json_string(j, "table", table);
    json_string(j, "table_label", def ? dala_label(def->kk, def->ru, r->lang) : table);
    json_string(j, "date", (const char *)sqlite3_column_text(stmt, COL_DATE));
    json_int(j, "unit_id", sqlite3_column_int64(stmt, COL_UNIT));
    json_string(j, "unit", unit);
    json_string(j, "officer", (const char *)sqlite3_column_text(stmt, COL_OFFICER));
    json_string(j, "state", state);
    json_string(j, "state_label", web_state_label(state, r->lang));
    json_string(j, "risk", (const char *)sqlite3_column_text(stmt, COL_RISK));
    json_string(j, "summary", summary);
    json_int(j, "open_conflicts", sqlite3_column_int64(stmt, COL_CONFLICTS));
    json_object_end(j);
}

int web_route_records(web_request *r)
{
    list_filter f;
    sqlite3_stmt *stmt = NULL;
    if (!web_role_may_read_records(r->user.role))
        return web_send_error(r, 403, DALA_EAUTH, "records: administrators read no records");
    int rc = read_filter(&f, r, PAGE_DEFAULT);
    if (!rc) rc = prepare_list(&stmt, r, &f);
    if (rc) return web_send_failure(r, rc);
    json_out j = JSON_OUT_INIT;
    dala_record record = DALA_RECORD_INIT;
    char next[80] = "";
    int64_t rows = 0, sensitive = 0;
    json_object_begin(&j, NULL);
    json_array_begin(&j, "records");
    int step, has_more = 0;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (rows == f.limit) {
            has_more = 1;
            break;
        }
        list_row(&j, r, stmt, &record, &sensitive);
        char id[DALA_UUID_TEXT_LEN + 1];
        dala_uuid_format(id, sqlite3_column_blob(stmt, COL_ID));
        snprintf(next, sizeof next, "%s_%s", (const char *)sqlite3_column_text(stmt, COL_DATE), id);
        rows++;
    }
    if (!has_more && step != SQLITE_DONE && !j.rc) j.rc = server_db_error(r->conn->db, "list records");
    sqlite3_finalize(stmt);
    dala_record_clear(&record);
    json_array_end(&j);
    if (has_more) json_string(&j, "next", next);
    else json_null(&j, "next");
    json_object_end(&j);
    /* Names shown in a list, or a search through every field, are reads of
     * sensitive fields too; the entry never holds the words searched for. */
    if (!j.rc && (sensitive || f.q[0])) {
        char detail[128];
        snprintf(detail, sizeof detail, "list%s%s: %lld rows, %lld showing names%s", f.table[0] ? " of " : "", f.table,
                 (long long)rows, (long long)sensitive, f.q[0] ? ", text search" : "");
        rc = web_audit(r, "read_sensitive", f.unit ? f.unit : r->user.unit_id, NULL, detail);
        if (rc) {
            json_out_free(&j);
            return web_send_failure(r, rc);
        }
    }
    return web_send_json(r, &j);
}

/* --- CSV ------------------------------------------------------------------ */

int web_csv_cell(dala_buf *out, const char *text, size_t len, int is_last)
{
    int rc = dala_buf_append(out, "\"", 1);
    if (!rc && len && strchr("=+-@", text[0])) rc = dala_buf_append(out, "'", 1);
    for (size_t i = 0; !rc && i < len; i++)
        rc = text[i] == '"' ? dala_buf_append(out, "\"\"", 2) : dala_buf_append(out, text + i, 1);
    if (!rc) rc = dala_buf_append(out, is_last ? "\"\r\n" : "\",", is_last ? 3 : 2);
    return rc;
}

static int csv_header(dala_buf *out, const dala_table_def *def, const char *lang)
{
    int is_russian = strcmp(lang, "ru") == 0;
    const char *fixed[] = {"id", is_russian ? "Дата" : "Күні", is_russian ? "Подразделение" : "Бөлініс",
                           is_russian ? "Сотрудник" : "Қызметкер", is_russian ? "Состояние" : "Күйі"};
    int rc = DALA_OK;
    for (size_t i = 0; !rc && i < 5; i++) rc = web_csv_cell(out, fixed[i], strlen(fixed[i]), 0);
    for (size_t i = 0; !rc && i < def->field_count; i++) {
        const char *label = dala_label(def->fields[i].kk, def->fields[i].ru, lang);
        rc = web_csv_cell(out, label, strlen(label), i + 1 == def->field_count);
    }
    return rc;
}

static int csv_row(dala_buf *out, web_request *r, const dala_table_def *def, sqlite3_stmt *stmt, dala_record *record,
                   dala_buf *cell)
{
    char id[DALA_UUID_TEXT_LEN + 1], unit[256];
    const char *state = (const char *)sqlite3_column_text(stmt, COL_STATE);
    const char *label = web_state_label(state, r->lang), *date = (const char *)sqlite3_column_text(stmt, COL_DATE);
    const char *officer = (const char *)sqlite3_column_text(stmt, COL_OFFICER);
    dala_uuid_format(id, sqlite3_column_blob(stmt, COL_ID));
    web_unit_name(unit, sizeof unit, r, sqlite3_column_int64(stmt, COL_UNIT));
    dala_record_clear(record);
    int rc = dala_record_decode(record, sqlite3_column_blob(stmt, COL_DATA), (size_t)sqlite3_column_bytes(stmt, COL_DATA));
    if (!rc) rc = web_csv_cell(out, id, strlen(id), 0);
    if (!rc) rc = web_csv_cell(out, date, strlen(date), 0);
    if (!rc) rc = web_csv_cell(out, unit, strlen(unit), 0);
    if (!rc) rc = web_csv_cell(out, officer, strlen(officer), 0);
    if (!rc) rc = web_csv_cell(out, label, strlen(label), 0);
    for (size_t i = 0; !rc && i < def->field_count; i++) {
        const dala_record_field *field = dala_record_find(record, def->fields[i].name);
        dala_buf_reset(cell);
        if (field && field->value.type != DALA_VALUE_NULL)
            rc = dala_value_display(cell, &def->fields[i], &field->value, r->lang);
        if (!rc) rc = web_csv_cell(out, (const char *)cell->data, cell->len, i + 1 == def->field_count);
    }
    return rc;
}

/* The export's audit entry gets its row count once the rows are sent. */
static void audit_export_rows(web_request *r, int64_t entry, const char *table, int64_t rows, int is_complete)
{
    char detail[128];
    sqlite3_stmt *stmt;
    snprintf(detail, sizeof detail, "%s: %lld rows%s", table, (long long)rows, is_complete ? "" : ", cut short");
    if (sqlite3_prepare_v2(r->conn->db, "UPDATE audit SET detail = ?2 WHERE id = ?1", -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, entry);
        sqlite3_bind_text(stmt, 2, detail, -1, SQLITE_STATIC);
        sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
}

/* Sends `out` as one chunk of the answer once it holds CSV_CHUNK bytes
 * (or always, with `is_last`), so an export of 100,000 records never sits
 * whole in memory. DALA_EIO when the browser went away. */
static int flush_chunk(web_request *r, dala_buf *out, int is_last)
{
    if (!is_last && out->len < CSV_CHUNK) return DALA_OK;
    if (out->len && mg_send_chunk(r->http, (const char *)out->data, (unsigned)out->len) < 0)
        return dala_error_set(DALA_EIO, "export: the connection closed");
    dala_buf_reset(out);
    return is_last && mg_send_chunk(r->http, "", 0) < 0 ? dala_error_set(DALA_EIO, "export: the connection closed")
                                                         : DALA_OK;
}

int web_route_records_csv(web_request *r)
{
    list_filter f;
    sqlite3_stmt *stmt = NULL;
    if (!web_role_may_read_records(r->user.role))
        return web_send_error(r, 403, DALA_EAUTH, "export: administrators read no records");
    int rc = read_filter(&f, r, EXPORT_MAX / 4);
    if (!rc && !f.table[0]) rc = dala_error_set(DALA_EINVAL, "export: choose a record type (table)");
    f.limit = EXPORT_MAX - 1; /* the statement reads one more */
    f.after_id[0] = '\0';
    if (!rc) rc = prepare_list(&stmt, r, &f);
    /* The trail first: an export cut short was still an export. */
    if (!rc) rc = web_audit(r, "export", f.unit ? f.unit : r->user.unit_id, NULL, f.table);
    int64_t entry = sqlite3_last_insert_rowid(r->conn->db);
    if (rc) {
        sqlite3_finalize(stmt);
        return web_send_failure(r, rc);
    }
    const dala_table_def *def = dala_domain_table(dala_domain_get(), f.table);
    dala_buf out = DALA_BUF_INIT, cell = DALA_BUF_INIT;
    dala_record record = DALA_RECORD_INIT;
    int64_t rows = 0;
    r->status = 200;
    mg_printf(r->http,
              "HTTP/1.1 200 OK\r\nContent-Type: text/csv; charset=utf-8\r\nTransfer-Encoding: chunked\r\n"
              "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n"
              "Content-Disposition: attachment; filename=\"dala-%s.csv\"\r\n\r\n",
              f.table);
    rc = dala_buf_append(&out, "\xef\xbb\xbf", 3); /* a BOM: spreadsheets then read UTF-8 */
    if (!rc) rc = csv_header(&out, def, r->lang);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        rc = csv_row(&out, r, def, stmt, &record, &cell);
        if (!rc) rows++;
        if (!rc) rc = flush_chunk(r, &out, 0);
    }
    if (!rc && step != SQLITE_DONE) rc = server_db_error(r->conn->db, "export records");
    sqlite3_finalize(stmt);
    /* The count is written before the last chunk, so whoever has the whole
     * file finds it in the trail. A failure leaves the chunked answer
     * without its end: the browser sees a broken download, never a short
     * file that looks whole. */
    audit_export_rows(r, entry, f.table, rows, rc == DALA_OK);
    if (!rc && flush_chunk(r, &out, 1)) audit_export_rows(r, entry, f.table, rows, 0);
    dala_record_clear(&record);
    dala_buf_free(&cell);
    dala_buf_free(&out);
    return 200;
}
