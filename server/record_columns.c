/* record_columns.c - what the supervisors' lists filter and sort by, taken
 * from a record when it is written and kept beside its blob (migration
 * 004): its date, its risk level, the record a conflict or a review is
 * about, and a conflict's status; and what the dashboard's safety panel
 * and the duplicate register numbers are read from (migration 008): an
 * offence's register numbers, normalised, a victim, a report's address,
 * a follow-up's or an order's last day, an order's breach. The same
 * derivation serves the writes of tablets (apply.c) and of the server
 * (server_record.c); the migration's backfill does the same in SQL. */
#include "server_int.h"
#include "sync_int.h"
#include "dala_text.h"

#include <string.h>
#include <time.h>

const server_register server_registers[SERVER_REGISTER_COUNT] = {
    {"registration", "reg_registration"},
    {"erdr", "reg_erdr"},
    {"kui", "reg_kui"},
    {"erap", "reg_erap"},
};

int server_register_index(const char *name)
{
    for (int i = 0; name && i < SERVER_REGISTER_COUNT; i++)
        if (strcmp(server_registers[i].name, name) == 0) return i;
    return -1;
}

/* The length of the space at `text` (`left` bytes on): ASCII white space
 * or a no-break space (U+00A0); 0 if there is none. */
static size_t space_at(const uint8_t *text, size_t left)
{
    if (*text == ' ' || (*text >= '\t' && *text <= '\r')) return 1;
    return left >= 2 && text[0] == 0xc2 && text[1] == 0xa0 ? 2 : 0;
}

size_t server_register_normalise(char *out, size_t size, const uint8_t *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t space = space_at(text + i, len - i);
        if (space) {
            i += space;
            continue;
        }
        uint8_t c = text[i++];
        if (n + 1 >= size) return 0;
        out[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    if (size) out[n] = '\0';
    return n;
}

/* An address as a key: case-folded with the Kazakh letters (dala_fold),
 * spaces and the marks . , ; : " ' ( ) removed; 0 if empty or it does
 * not fit. */
static size_t place_key(char *out, size_t size, const dala_value *text)
{
    char folded[SERVER_PLACE_KEY_MAX + 1];
    if (!text || text->len >= sizeof folded) return 0;
    dala_text_fold(folded, sizeof folded, (const char *)text->bytes, text->len);
    size_t n = 0;
    for (size_t i = 0; i < text->len;) {
        size_t space = space_at((const uint8_t *)folded + i, text->len - i);
        if (space) {
            i += space;
            continue;
        }
        char c = folded[i++];
        if (c && strchr(".,;:\"'()", c)) continue;
        if (n + 1 >= size) return 0;
        out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

/* The text of field `name`, if it holds text of at most `max` bytes. */
static const dala_value *text_of(const dala_record *record, const char *name, size_t max)
{
    const dala_record_field *field = dala_record_find(record, name);
    if (!field || field->value.type != DALA_VALUE_TEXT || field->value.len > max) return NULL;
    return &field->value;
}

static int is_voided(const dala_record *record)
{
    const dala_record_field *reason = dala_record_find(record, "void_reason");
    return reason && reason->value.type == DALA_VALUE_TEXT && reason->value.len > 0;
}

static int text_is(const dala_value *value, const char *text)
{
    return value && value->len == strlen(text) && memcmp(value->bytes, text, value->len) == 0;
}

static void copy_date(char out[11], const dala_value *date)
{
    if (!date || date->len != 10) return;
    memcpy(out, date->bytes, 10);
    out[10] = '\0';
}

/* The keys of migration 008 (a record not voided): register numbers,
 * victim, report and its address, the day something is due, a breach. */
static void record_keys(record_columns *out, const dala_table_def *def, const dala_record *record)
{
    const char *table = def ? def->name : "";
    for (size_t i = 0; def && i < def->field_count; i++) {
        int slot = server_register_index(def->fields[i].register_name);
        const dala_value *number = slot < 0 ? NULL : text_of(record, def->fields[i].name, SERVER_NUMBER_MAX);
        if (number) server_register_normalise(out->numbers[slot], sizeof out->numbers[slot], number->bytes, number->len);
    }
    int is_visit = strcmp(table, "field_visit") == 0, is_offence = strcmp(table, "offence") == 0;
    if (is_visit || is_offence) {
        const dala_value *victim = text_of(record, "victim_id", DALA_UUID_TEXT_LEN);
        if (victim && victim->len == DALA_UUID_TEXT_LEN) {
            for (size_t i = 0; i < DALA_UUID_TEXT_LEN; i++) {
                uint8_t c = victim->bytes[i];
                out->victim[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            }
            out->victim[DALA_UUID_TEXT_LEN] = '\0';
        }
        out->is_report = is_offence || text_is(text_of(record, "purpose", 32), "call_response");
        if (out->is_report)
            place_key(out->place_key, sizeof out->place_key,
                      text_of(record, is_offence ? "place" : "address", SERVER_PLACE_KEY_MAX));
    }
    if (is_visit) copy_date(out->due_on, text_of(record, "follow_up_date", 10));
    if (strcmp(table, "protective_measure") == 0 && text_is(text_of(record, "kind", 32), "protective_order")) {
        const dala_value *ended = text_of(record, "ended_on", 10), *extended = text_of(record, "extended_until", 10);
        if (!ended || !ended->len) copy_date(out->due_on, extended && extended->len ? extended
                                                                                    : text_of(record, "valid_until", 10));
        const dala_record_field *breached = dala_record_find(record, "breached");
        if (breached && breached->value.type == DALA_VALUE_INT && breached->value.integer == 1) {
            const dala_value *on = text_of(record, "breached_on", 10);
            if (on && on->len) copy_date(out->breached_on, on);
            else memcpy(out->breached_on, out->occurred_on, sizeof out->breached_on);
        }
    }
}

void server_record_columns(record_columns *out, const char *table, const dala_record *record, int64_t received_at)
{
    memset(out, 0, sizeof *out);
    /* The date: the type's first required date field, else the arrival day. */
    const dala_table_def *def = dala_domain_table(dala_domain_get(), table);
    for (size_t i = 0; def && i < def->field_count && !out->occurred_on[0]; i++) {
        if (def->fields[i].type != DALA_FIELD_DATE || !def->fields[i].is_required) continue;
        const dala_value *date = text_of(record, def->fields[i].name, 10);
        if (date) memcpy(out->occurred_on, date->bytes, date->len);
    }
    if (!out->occurred_on[0]) {
        time_t when = (time_t)received_at;
        struct tm tm;
        gmtime_r(&when, &tm);
        strftime(out->occurred_on, sizeof out->occurred_on, "%Y-%m-%d", &tm);
    }
    out->risk = text_of(record, "risk_level", 32);
    if (strcmp(table, DALA_TABLE_CONFLICT) == 0 || strcmp(table, "review") == 0) {
        const dala_value *about = text_of(record, "record_id", DALA_UUID_TEXT_LEN);
        char id[DALA_UUID_TEXT_LEN + 1];
        if (about && about->len == DALA_UUID_TEXT_LEN) {
            memcpy(id, about->bytes, about->len);
            id[about->len] = '\0';
            out->has_about = dala_uuid_parse(out->about, id) == DALA_OK;
        }
        out->status = text_of(record, "status", 16);
    }
    if (!is_voided(record)) record_keys(out, def, record);
}

void server_record_columns_bind(sqlite3_stmt *stmt, int first, const record_columns *columns)
{
    sqlite3_bind_text(stmt, first, columns->occurred_on, -1, SQLITE_TRANSIENT);
    if (columns->risk)
        sqlite3_bind_text(stmt, first + 1, (const char *)columns->risk->bytes, (int)columns->risk->len, SQLITE_STATIC);
    else sqlite3_bind_null(stmt, first + 1);
    if (columns->has_about) sqlite3_bind_blob(stmt, first + 2, columns->about, DALA_UUID_BYTES, SQLITE_TRANSIENT);
    else sqlite3_bind_null(stmt, first + 2);
    if (columns->status)
        sqlite3_bind_text(stmt, first + 3, (const char *)columns->status->bytes, (int)columns->status->len,
                          SQLITE_STATIC);
    else sqlite3_bind_null(stmt, first + 3);
}

/* Binds text, or NULL when it is empty. */
static void bind_key(sqlite3_stmt *stmt, int at, const char *text)
{
    if (text[0]) sqlite3_bind_text(stmt, at, text, -1, SQLITE_STATIC);
    else sqlite3_bind_null(stmt, at);
}

void server_record_keys_bind(sqlite3_stmt *stmt, int first, const record_columns *columns)
{
    for (int i = 0; i < SERVER_REGISTER_COUNT; i++) bind_key(stmt, first + i, columns->numbers[i]);
    bind_key(stmt, first + 4, columns->victim);
    if (columns->is_report) sqlite3_bind_int(stmt, first + 5, 1);
    else sqlite3_bind_null(stmt, first + 5);
    bind_key(stmt, first + 6, columns->place_key);
    bind_key(stmt, first + 7, columns->due_on);
    bind_key(stmt, first + 8, columns->breached_on);
}

int server_history_add(sqlite3_stmt *stmt, const uint8_t id[DALA_UUID_BYTES], int64_t seq, int64_t at,
                       int64_t device_id, uint64_t hlc, const dala_field *fields, size_t count, dala_buf *scratch)
{
    dala_buf_reset(scratch);
    int rc = DALA_OK;
    for (size_t i = 0; !rc && i < count; i++) {
        if (i) rc = dala_buf_append(scratch, ",", 1);
        if (!rc) rc = dala_buf_append(scratch, fields[i].name, strlen(fields[i].name));
    }
    if (rc) return rc;
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, seq);
    sqlite3_bind_int64(stmt, 3, at);
    sqlite3_bind_int64(stmt, 4, device_id);
    sqlite3_bind_text(stmt, 5, (const char *)scratch->data, (int)scratch->len, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, (int64_t)hlc);
    rc = sqlite3_step(stmt) == SQLITE_DONE ? DALA_OK : server_db_error(sqlite3_db_handle(stmt), "write history");
    sqlite3_reset(stmt);
    return rc;
}
