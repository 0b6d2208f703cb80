/* schema_info.c - the record types a tablet writes, described for an app
 * to draw its forms: fields in order, types, limits, choices, and labels in
 * Kazakh or Russian, read from the schema compiled into libdala_sync. The
 * choices of a text field picked from the article catalogue are its
 * entries: the id as the value, the Code's title as the label. */
#include "sdk_int.h"

#include <string.h>

int dala_schema_table(const char **name_out, const char **label_out, size_t index, const char *lang)
{
    const dala_domain *domain = dala_domain_get();
    for (size_t i = 0; domain && i < domain->table_count; i++) {
        const dala_table_def *table = &domain->tables[i];
        if (!dala_table_is_writable(table->name) || index-- > 0) continue;
        if (name_out) *name_out = table->name;
        if (label_out) *label_out = dala_label(table->kk, table->ru, lang);
        return DALA_OK;
    }
    return DALA_ENOTFOUND;
}

/* The `index`th field of `table` this app's schema version has. */
static const dala_field_def *nth_field(const char *table, size_t index)
{
    const dala_table_def *def = table ? dala_domain_table(dala_domain_get(), table) : NULL;
    for (size_t i = 0; def && i < def->field_count; i++)
        if (def->fields[i].since <= dala_device_schema_version() && index-- == 0) return &def->fields[i];
    return NULL;
}

int dala_schema_field(dala_field_info *out, const char *table, size_t index, const char *lang)
{
    const dala_field_def *def = nth_field(table, index);
    if (!out || !def) return DALA_ENOTFOUND;
    uint32_t version = dala_device_schema_version();
    const dala_article *articles;
    int is_catalogued = def->catalogue && version >= def->catalogue_since;
    *out = (dala_field_info){def->name, dala_label(def->kk, def->ru, lang), dala_field_type_name(def->type),
                             def->is_required && (def->required_since == 0 || version >= def->required_since),
                             def->is_sensitive, def->ref, def->max_len, def->has_min, def->has_max, def->min,
                             def->max, def->choices ? def->choices->count : is_catalogued ? dala_articles(&articles) : 0,
                             is_catalogued ? def->catalogue : NULL};
    return DALA_OK;
}

int dala_schema_choice(dala_choice *out, const char *table, const char *field, size_t index, const char *lang)
{
    const dala_field_def *def = dala_domain_field(dala_domain_table(dala_domain_get(), table), field);
    if (out && def && def->catalogue && dala_device_schema_version() >= def->catalogue_since) {
        const dala_article *articles;
        if (index >= dala_articles(&articles)) return DALA_ENOTFOUND;
        *out = (dala_choice){articles[index].id, dala_label(articles[index].kk, articles[index].ru, lang)};
        return DALA_OK;
    }
    if (!out || !def || !def->choices || index >= def->choices->count) return DALA_ENOTFOUND;
    const dala_enum_value *choice = &def->choices->values[index];
    *out = (dala_choice){choice->value, dala_label(choice->kk, choice->ru, lang)};
    return DALA_OK;
}
