/* describe.c - a record as an officer reads it: every field under its
 * label in Kazakh or Russian, enumerations by their labels, yes and no for
 * booleans; and a one-line summary to pick a record by (a person to name
 * as the victim of an offence). */
#include "sdk_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int put_text(dala_buf *out, const char *text, size_t len)
{
    return dala_buf_append(out, text, len);
}

/* After a reference, " (<summary of the record it names>)" when the
 * tablet holds that record. */
static int put_referenced(dala_buf *out, dala_store *store, const dala_value *v, const char *lang)
{
    char id[DALA_ID_TEXT_BYTES], summary[160];
    if (v->type != DALA_VALUE_TEXT || v->len != DALA_ID_TEXT_BYTES - 1) return DALA_OK;
    memcpy(id, v->bytes, v->len);
    id[v->len] = '\0';
    char saved[512];
    snprintf(saved, sizeof saved, "%s", dala_errmsg());
    int rc = dala_record_summary(summary, sizeof summary, store, id, lang);
    dala_error_set(DALA_OK, "%s", saved); /* a record not on this tablet is not an error here */
    if (rc || !summary[0]) return DALA_OK;
    rc = put_text(out, " (", 2);
    if (!rc) rc = put_text(out, summary, strlen(summary));
    return rc ? rc : put_text(out, ")", 1);
}

/* Loads a record and its table's definition. */
static int load(char **table, dala_record *record, const dala_table_def **def, dala_store *store, const char *id)
{
    char normal[DALA_ID_TEXT_BYTES];
    uint64_t unit_id;
    if (!store) return dala_error_set(DALA_EINVAL, "store is NULL");
    int rc = dala_record_id_normalise(normal, id);
    if (!rc) rc = dala_record_load(table, &unit_id, record, store->db, normal);
    *def = rc ? NULL : dala_domain_table(dala_domain_get(), *table);
    return rc;
}

int dala_record_labelled(char **text_out, dala_store *store, const char *record_id, const char *lang)
{
    char *table = NULL;
    dala_record record = DALA_RECORD_INIT;
    const dala_table_def *def;
    dala_buf out = DALA_BUF_INIT;
    *text_out = NULL;
    int rc = load(&table, &record, &def, store, record_id);
    const char *title = def ? dala_label(def->kk, def->ru, lang) : table;
    if (!rc) rc = put_text(&out, title, strlen(title));
    if (!rc) rc = put_text(&out, "\n", 1);
    /* The fields in the schema's order, then any the schema does not know. */
    size_t known = def ? def->field_count : 0;
    for (size_t i = 0; !rc && i < known + record.field_count; i++) {
        const dala_field_def *field = i < known ? &def->fields[i] : NULL;
        const dala_record_field *stored = field ? dala_record_find(&record, field->name) : &record.fields[i - known];
        if (!stored || stored->value.type == DALA_VALUE_NULL || (!field && dala_domain_field(def, stored->name))) continue;
        const char *label = field ? dala_label(field->kk, field->ru, lang) : stored->name;
        rc = put_text(&out, "  ", 2);
        if (!rc) rc = put_text(&out, label, strlen(label));
        if (!rc) rc = put_text(&out, ": ", 2);
        if (!rc) rc = dala_value_display(&out, field, &stored->value, lang);
        if (!rc && field && field->type == DALA_FIELD_REF) rc = put_referenced(&out, store, &stored->value, lang);
        if (!rc) rc = put_text(&out, "\n", 1);
    }
    if (!rc) rc = put_text(&out, "", 1);
    if (!rc) *text_out = (char *)out.data;
    else dala_buf_free(&out);
    free(table);
    dala_record_clear(&record);
    return rc ? dala_error_wrap(rc, "describe record") : DALA_OK;
}

int dala_record_summary(char *out, size_t size, dala_store *store, const char *record_id, const char *lang)
{
    char *table = NULL;
    dala_record record = DALA_RECORD_INIT;
    const dala_table_def *def;
    if (!out || size == 0) return dala_error_set(DALA_EINVAL, "summary: no room");
    out[0] = '\0';
    int rc = load(&table, &record, &def, store, record_id);
    if (!rc) rc = dala_record_summarise(out, size, def, &record, lang, NULL);
    free(table);
    dala_record_clear(&record);
    return rc ? dala_error_wrap(rc, "summarise record") : DALA_OK;
}
