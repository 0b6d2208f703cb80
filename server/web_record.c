/* web_record.c - one record as a supervisor reads it (GET
 * /v1/records/{id}): every field under its label with who changed it last
 * and when, its history (who changed which fields, when, from which
 * device), its conflicts with both values side by side, the records it
 * names and that name it, the review decisions about it, and the other
 * records of its unit with one of its register numbers (web_safety.c).
 * Reading a record with a person's sensitive fields filled goes to the
 * audit trail. */
#include "web_int.h"

#include <stdio.h>
#include <string.h>

/* A stored value as JSON: numbers, true/false, a set as a list. */
static void put_value(json_out *j, const char *key, const dala_field_def *def, const dala_value *v)
{
    const char *text = (const char *)v->bytes;
    char number[40];
    if (v->type == DALA_VALUE_INT && def && def->type == DALA_FIELD_BOOL) {
        json_bool(j, key, v->integer != 0);
    } else if (v->type == DALA_VALUE_INT) {
        json_int(j, key, v->integer);
    } else if (v->type == DALA_VALUE_REAL) {
        json_raw(j, key, number, (size_t)snprintf(number, sizeof number, "%.15g", v->real));
    } else if (v->type != DALA_VALUE_TEXT) {
        json_null(j, key);
    } else if (!def || def->type != DALA_FIELD_SET) {
        json_string_n(j, key, text, v->len);
    } else {
        json_array_begin(j, key);
        for (size_t start = 0, i = 0; i <= v->len; i++) {
            if (i < v->len && text[i] != ',') continue;
            if (i > start) json_string_n(j, NULL, text + start, i - start);
            start = i + 1;
        }
        json_array_end(j);
    }
}

static void put_display(json_out *j, const char *key, const dala_field_def *def, const dala_value *v, const char *lang)
{
    dala_buf text = DALA_BUF_INIT;
    if (dala_value_display(&text, def, v, lang) == DALA_OK) json_string_n(j, key, text.data, text.len);
    else json_null(j, key);
    dala_buf_free(&text);
}

/* The officer who holds a device ("" for the server, device 0). */
static void officer_of(char *out, size_t size, web_request *r, int64_t device_id)
{
    sqlite3_stmt *stmt;
    out[0] = '\0';
    if (sqlite3_prepare_v2(r->conn->db, "SELECT u.full_name FROM device d JOIN app_user u ON u.id = d.user_id "
                                        "WHERE d.id = ?1", -1, &stmt, NULL))
        return;
    sqlite3_bind_int64(stmt, 1, device_id);
    if (sqlite3_step(stmt) == SQLITE_ROW) snprintf(out, size, "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
}

/* Every field under its label; `*sensitive` counts the sensitive ones filled. */
static void put_fields(json_out *j, web_request *r, const dala_table_def *def, const dala_record *record,
                       int *sensitive)
{
    json_array_begin(j, "fields");
    for (size_t i = 0; def && i < def->field_count; i++) {
        const dala_field_def *field = &def->fields[i];
        const dala_record_field *stored = dala_record_find(record, field->name);
        if (!stored || stored->value.type == DALA_VALUE_NULL) continue;
        if (field->is_sensitive) (*sensitive)++;
        json_object_begin(j, NULL);
        json_string(j, "name", field->name);
        json_string(j, "label", dala_label(field->kk, field->ru, r->lang));
        put_value(j, "value", field, &stored->value);
        put_display(j, "display", field, &stored->value, r->lang);
        json_bool(j, "sensitive", field->is_sensitive);
        json_int(j, "changed_at", (int64_t)(DALA_HLC_MS(stored->version.hlc) / 1000));
        json_int(j, "device", (int64_t)stored->version.device_id);
        json_object_end(j);
    }
    json_array_end(j);
}

static void put_history(json_out *j, web_request *r, const uint8_t id[DALA_UUID_BYTES])
{
    sqlite3_stmt *stmt;
    json_array_begin(j, "history");
    if (sqlite3_prepare_v2(r->conn->db, "SELECT h.at, h.device_id, h.fields, coalesce(u.full_name, '') "
                                        "FROM record_change h LEFT JOIN device d ON d.id = h.device_id "
                                        "LEFT JOIN app_user u ON u.id = d.user_id WHERE h.record_id = ?1 "
                                        "ORDER BY h.seq", -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            const char *fields = (const char *)sqlite3_column_text(stmt, 2);
            json_object_begin(j, NULL);
            json_int(j, "at", sqlite3_column_int64(stmt, 0));
            json_int(j, "device", sqlite3_column_int64(stmt, 1));
            json_string(j, "officer", (const char *)sqlite3_column_text(stmt, 3));
            json_array_begin(j, "fields");
            for (const char *p = fields; *p;) {
                size_t len = strcspn(p, ",");
                json_string_n(j, NULL, p, len);
                p += len + (p[len] == ',');
            }
            json_array_end(j);
            json_object_end(j);
        }
    }
    sqlite3_finalize(stmt);
    json_array_end(j);
}

/* One side of a conflict: its value, as read, and who wrote it. */
static void put_side(json_out *j, web_request *r, const char *key, const dala_field_def *def, const dala_record *c,
                     const char *value_field, const char *device_field)
{
    const dala_record_field *value = dala_record_find(c, value_field), *device = dala_record_find(c, device_field);
    int64_t device_id = device && device->value.type == DALA_VALUE_INT ? device->value.integer : 0;
    char officer[128];
    officer_of(officer, sizeof officer, r, device_id);
    json_object_begin(j, key);
    if (value) {
        put_value(j, "value", def, &value->value);
        put_display(j, "display", def, &value->value, r->lang);
    } else {
        json_null(j, "value");
        json_null(j, "display");
    }
    json_int(j, "device", device_id);
    json_string(j, "officer", officer);
    json_object_end(j);
}

/* The conflicts and review decisions about the record. */
static void put_about(json_out *j, web_request *r, const uint8_t id[DALA_UUID_BYTES], const dala_table_def *def,
                      const char *table)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, "SELECT id, data FROM record WHERE about = ?1 AND tbl = ?2 ORDER BY seq", -1,
                           &stmt, NULL))
        return;
    int is_conflict = strcmp(table, DALA_TABLE_CONFLICT) == 0;
    json_array_begin(j, is_conflict ? "conflicts" : "reviews");
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, table, -1, SQLITE_STATIC);
    dala_record about = DALA_RECORD_INIT;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        char about_id[DALA_UUID_TEXT_LEN + 1];
        dala_uuid_format(about_id, sqlite3_column_blob(stmt, 0));
        dala_record_clear(&about);
        if (dala_record_decode(&about, sqlite3_column_blob(stmt, 1), (size_t)sqlite3_column_bytes(stmt, 1))) continue;
        const dala_record_field *name = dala_record_find(&about, is_conflict ? "field" : "decision");
        const char *names[] = {"comment", "reviewer", "decided_on", "status", "settled_by"};
        json_object_begin(j, NULL);
        json_string(j, "id", about_id);
        if (name && name->value.type == DALA_VALUE_TEXT) {
            char field[64];
            snprintf(field, sizeof field, "%.*s", (int)name->value.len, (const char *)name->value.bytes);
            const dala_field_def *field_def = is_conflict ? dala_domain_field(def, field) : NULL;
            json_string(j, is_conflict ? "field" : "decision", field);
            if (is_conflict) {
                json_string(j, "label", field_def ? dala_label(field_def->kk, field_def->ru, r->lang) : field);
                put_side(j, r, "winner", field_def, &about, "winner_value", "winner_device");
                put_side(j, r, "loser", field_def, &about, "loser_value", "loser_device");
            }
        }
        for (size_t i = is_conflict ? 3 : 0; i < (is_conflict ? 5u : 3u); i++) {
            const dala_record_field *f = dala_record_find(&about, names[i]);
            if (f && f->value.type == DALA_VALUE_TEXT) json_string_n(j, names[i], f->value.bytes, f->value.len);
            else json_null(j, names[i]);
        }
        json_object_end(j);
    }
    dala_record_clear(&about);
    sqlite3_finalize(stmt);
    json_array_end(j);
}

/* A linked record, if the user may read it; `*sensitive` counts links
 * whose summary shows a person's sensitive fields. */
static void put_link(json_out *j, web_request *r, const char *id_text, const char *via, const char *direction,
                     int *sensitive)
{
    int shows_sensitive = 0;
    char table[64];
    int64_t unit_id;
    uint8_t id[DALA_UUID_BYTES];
    dala_record linked = DALA_RECORD_INIT;
    char saved[512];
    snprintf(saved, sizeof saved, "%s", dala_errmsg());
    if (web_record_load(table, &unit_id, &linked, r, id_text, id) == DALA_OK) {
        const dala_table_def *def = dala_domain_table(dala_domain_get(), table);
        char summary[160] = "";
        dala_record_summarise(summary, sizeof summary, def, &linked, r->lang, &shows_sensitive);
        *sensitive += shows_sensitive;
        json_object_begin(j, NULL);
        json_string(j, "id", id_text);
        json_string(j, "table", table);
        json_string(j, "table_label", def ? dala_label(def->kk, def->ru, r->lang) : table);
        json_string(j, "via", via);
        json_string(j, "direction", direction);
        json_string(j, "summary", summary);
        json_object_end(j);
    }
    dala_error_set(DALA_OK, "%s", saved); /* a link out of sight is not an error */
    dala_record_clear(&linked);
}

/* The records this one names, and those of its unit that name it (the
 * id's text is searched in the blobs first, then the field is checked). */
static void put_links(json_out *j, web_request *r, const char *id_text, int64_t unit_id, const dala_table_def *def,
                      const dala_record *record, int *sensitive)
{
    json_array_begin(j, "links");
    for (size_t i = 0; def && i < def->field_count; i++) {
        const dala_record_field *ref = def->fields[i].type == DALA_FIELD_REF ? dala_record_find(record, def->fields[i].name)
                                                                            : NULL;
        if (!ref || ref->value.type != DALA_VALUE_TEXT || ref->value.len != DALA_UUID_TEXT_LEN) continue;
        char target[DALA_UUID_TEXT_LEN + 1];
        snprintf(target, sizeof target, "%.*s", (int)ref->value.len, (const char *)ref->value.bytes);
        put_link(j, r, target, def->fields[i].name, "to", sensitive);
    }
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, "SELECT id, tbl, data FROM record WHERE unit_id = ?1 AND "
                                        "tbl NOT IN ('conflict', 'review') AND instr(data, CAST(?2 AS BLOB)) > 0 LIMIT 200",
                           -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, unit_id);
        sqlite3_bind_text(stmt, 2, id_text, -1, SQLITE_STATIC);
        dala_record other = DALA_RECORD_INIT;
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            const dala_table_def *other_def = dala_domain_table(dala_domain_get(), (const char *)sqlite3_column_text(stmt, 1));
            char other_id[DALA_UUID_TEXT_LEN + 1];
            dala_uuid_format(other_id, sqlite3_column_blob(stmt, 0));
            dala_record_clear(&other);
            if (!other_def || dala_record_decode(&other, sqlite3_column_blob(stmt, 2), (size_t)sqlite3_column_bytes(stmt, 2)))
                continue;
            for (size_t i = 0; i < other_def->field_count; i++) {
                const dala_record_field *ref = other_def->fields[i].type == DALA_FIELD_REF
                                                   ? dala_record_find(&other, other_def->fields[i].name)
                                                   : NULL;
                if (ref && ref->value.type == DALA_VALUE_TEXT && ref->value.len == DALA_UUID_TEXT_LEN &&
                    memcmp(ref->value.bytes, id_text, DALA_UUID_TEXT_LEN) == 0) {
                    put_link(j, r, other_id, other_def->fields[i].name, "from", sensitive);
                    break;
                }
            }
        }
        dala_record_clear(&other);
    }
    sqlite3_finalize(stmt);
    json_array_end(j);
}

/* The record's own columns: unit, officer, date, state. */
static void put_header(json_out *j, web_request *r, const uint8_t id[DALA_UUID_BYTES])
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(r->conn->db, "SELECT r.occurred_on, r.review_state, coalesce(u.full_name, '') FROM record r "
                                        "LEFT JOIN app_user u ON u.id = r.officer_id "
                                        "WHERE r.id = ?1", -1, &stmt, NULL))
        return;
    sqlite3_bind_blob(stmt, 1, id, DALA_UUID_BYTES, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(stmt, 1);
        json_string(j, "date", (const char *)sqlite3_column_text(stmt, 0));
        json_string(j, "state", state);
        json_string(j, "state_label", web_state_label(state, r->lang));
        json_string(j, "officer", (const char *)sqlite3_column_text(stmt, 2));
    }
    sqlite3_finalize(stmt);
}

int web_route_record(web_request *r, const char *id_text)
{
    char table[64], unit[256], normal[DALA_UUID_TEXT_LEN + 1];
    int64_t unit_id = 0;
    uint8_t id[DALA_UUID_BYTES];
    dala_record record = DALA_RECORD_INIT;
    int rc = web_record_load(table, &unit_id, &record, r, id_text, id);
    if (rc) return web_send_failure(r, rc);
    dala_uuid_format(normal, id);
    const dala_table_def *def = dala_domain_table(dala_domain_get(), table);
    web_unit_name(unit, sizeof unit, r, unit_id);
    int sensitive = 0;
    json_out j = JSON_OUT_INIT;
    json_object_begin(&j, NULL);
    json_string(&j, "id", normal);
    json_string(&j, "table", table);
    json_string(&j, "table_label", def ? dala_label(def->kk, def->ru, r->lang) : table);
    json_int(&j, "unit_id", unit_id);
    json_string(&j, "unit", unit);
    put_header(&j, r, id);
    put_fields(&j, r, def, &record, &sensitive);
    put_history(&j, r, id);
    put_about(&j, r, id, def, DALA_TABLE_CONFLICT);
    int linked_sensitive = 0;
    put_links(&j, r, normal, unit_id, def, &record, &linked_sensitive);
    put_about(&j, r, id, def, "review");
    rc = web_record_put_duplicates(&j, r, id, unit_id, def);
    json_object_end(&j);
    dala_record_clear(&record);
    if (rc) {
        json_out_free(&j);
        return web_send_failure(r, rc);
    }
    if (sensitive || linked_sensitive) {
        char detail[160];
        snprintf(detail, sizeof detail, "%s: %d sensitive fields, %d linked records showing names", table, sensitive,
                 linked_sensitive);
        rc = web_audit(r, "read_sensitive", unit_id, id, detail);
        if (rc) {
            json_out_free(&j);
            return web_send_failure(r, rc);
        }
    }
    return web_send_json(r, &j);
}
