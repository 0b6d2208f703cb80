/* display.c - values as a person reads them, for the tablet's `dala show`
 * and the supervisors' pages alike: enumerations and sets by their labels
 * in Kazakh or Russian, yes and no for booleans, and a one-line summary of
 * a record to pick it by (a person to name as the victim of an offence). */
#include "sync_int.h"

#include <stdio.h>
#include <string.h>

/* An enumeration value's label, or the value when it is not one. */
static int put_choice(dala_buf *out, const dala_enum *choices, const char *value, size_t len, const char *lang)
{
    const dala_enum_value *choice = dala_enum_find(choices, value, len);
    const char *label = choice ? dala_label(choice->kk, choice->ru, lang) : NULL;
    return label ? dala_buf_append(out, label, strlen(label)) : dala_buf_append(out, value, len);
}

int dala_value_display(dala_buf *out, const dala_field_def *def, const dala_value *v, const char *lang)
{
    char number[40];
    int is_russian = lang && strcmp(lang, "ru") == 0;
    if (def && def->type == DALA_FIELD_BOOL && v->type == DALA_VALUE_INT) {
        const char *word = v->integer ? (is_russian ? "да" : "иә") : (is_russian ? "нет" : "жоқ");
        return dala_buf_append(out, word, strlen(word));
    }
    if (v->type == DALA_VALUE_INT || v->type == DALA_VALUE_REAL) {
        int n = v->type == DALA_VALUE_INT ? snprintf(number, sizeof number, "%lld", (long long)v->integer)
                                          : snprintf(number, sizeof number, "%.15g", v->real);
        return dala_buf_append(out, number, (size_t)n);
    }
    if (v->type != DALA_VALUE_TEXT) return dala_buf_append(out, "…", strlen("…"));
    const char *text = (const char *)v->bytes;
    const dala_article *article = def && def->catalogue ? dala_article_find(text, v->len) : NULL;
    if (article) { /* a catalogued article as the Code is cited; free text of older tablets as written */
        char cited[600];
        dala_article_cite(cited, sizeof cited, article, lang);
        return dala_buf_append(out, cited, strlen(cited));
    }
    if (!def || !def->choices) return dala_buf_append(out, text, v->len);
    if (def->type == DALA_FIELD_ENUM) return put_choice(out, def->choices, text, v->len, lang);
    int rc = DALA_OK; /* a set: each value's label, joined by ", " */
    for (size_t start = 0, i = 0; !rc && i <= v->len; i++) {
        if (i < v->len && text[i] != ',') continue;
        if (start) rc = dala_buf_append(out, ", ", 2);
        if (!rc) rc = put_choice(out, def->choices, text + start, i - start, lang);
        start = i + 1;
    }
    return rc;
}

int dala_record_summarise(char *out, size_t size, const dala_table_def *def, const dala_record *record,
                          const char *lang, int *shows_sensitive)
{
    if (shows_sensitive) *shows_sensitive = 0;
    dala_buf text = DALA_BUF_INIT;
    int rc = DALA_OK;
    out[0] = '\0';
    /* The first three short values of the record type's leading fields. */
    for (size_t i = 0, used = 0; !rc && def && i < def->field_count && used < 3; i++) {
        const dala_field_def *field = &def->fields[i];
        const dala_record_field *stored = dala_record_find(record, field->name);
        if (!stored || stored->value.type != DALA_VALUE_TEXT || stored->value.len > 80 ||
            field->type == DALA_FIELD_JSON || field->type == DALA_FIELD_REF)
            continue;
        if (used++) rc = dala_buf_append(&text, " · ", strlen(" · "));
        if (shows_sensitive && field->is_sensitive) *shows_sensitive = 1;
        if (!rc) rc = dala_value_display(&text, field, &stored->value, lang);
    }
    /* Cut on a whole letter: never inside a UTF-8 sequence. */
    size_t n = text.len < size - 1 ? text.len : size - 1;
    while (n > 0 && n < text.len && (text.data[n] & 0xc0) == 0x80) n--;
    if (!rc && n) memcpy(out, text.data, n);
    if (!rc) out[n] = '\0';
    dala_buf_free(&text);
    return rc;
}
