/* domain.c - reads the domain definition (schema/domain/records.json,
 * compiled into the library as dala_domain_records_json) into the tables
 * the checks walk. The file is parsed strictly: an unknown key, a missing
 * label or a rule that names a field that does not exist is an error, so
 * a mistake in the schema fails the tests instead of weakening a check. */
#include "sync_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char dala_domain_records_json[];
extern const size_t dala_domain_records_json_len;

/* The public view and what it borrows from: every string points into the
 * parsed document, which lives as long as the domain. */
typedef struct domain_impl {
    dala_domain pub;
    dala_json *doc;
    const dala_json *messages;
    dala_table_def *tables;
    dala_enum *enums;
} domain_impl;

static const char *const type_names[] = {"text", "int",  "real", "bool", "date", "time",
                                         "enum", "set",  "ref",  "iin",  "phone", "json"};

static int bad(const char *where, const char *name, const char *why)
{
    return dala_error_set(DALA_ESCHEMA, "domain: %s %s: %s", where, name ? name : "", why);
}

/* Fails on any member of `object` not in `allowed` (NULL-terminated). */
static int only_keys(const dala_json *object, const char *const *allowed, const char *where,
                     const char *name)
{
    for (size_t i = 0; i < object->count; i++) {
        const char *const *key = allowed;
        while (*key && strcmp(*key, object->keys[i]) != 0) key++;
        if (!*key) return dala_error_set(DALA_ESCHEMA, "domain: %s %s: unknown key %s", where, name,
                                         object->keys[i]);
    }
    return DALA_OK;
}

static int get_labels(const dala_json *object, const char **kk, const char **ru, const char *where,
                      const char *name)
{
    *kk = dala_json_get_string(object, "kk");
    *ru = dala_json_get_string(object, "ru");
    if (!*kk || !*ru || !**kk || !**ru) return bad(where, name, "needs kk and ru labels");
    return DALA_OK;
}

static int get_flag(int *out, const dala_json *object, const char *key)
{
    const dala_json *value = dala_json_get(object, key);
    if (!value) return DALA_OK;
    if (value->type != DALA_JSON_TRUE && value->type != DALA_JSON_FALSE)
        return bad("key", key, "must be true or false");
    *out = value->type == DALA_JSON_TRUE;
    return DALA_OK;
}

static int get_uint(uint32_t *out, const dala_json *object, const char *key, uint32_t fallback)
{
    const dala_json *value = dala_json_get(object, key);
    *out = fallback;
    if (!value) return DALA_OK;
    if (value->type != DALA_JSON_NUMBER || !value->is_integer || value->integer < 0 ||
        value->integer > 1000000)
        return bad("key", key, "must be a small whole number");
    *out = (uint32_t)value->integer;
    return DALA_OK;
}

static int get_bound(int *has, double *out, const dala_json *object, const char *key)
{
    const dala_json *value = dala_json_get(object, key);
    if (!value) return DALA_OK;
    if (value->type != DALA_JSON_NUMBER) return bad("key", key, "must be a number");
    *has = 1;
    *out = value->number;
    return DALA_OK;
}

static int read_enums(domain_impl *d, const dala_json *enums)
{
    if (!enums || enums->type != DALA_JSON_OBJECT) return bad("enums", NULL, "must be an object");
    d->enums = dala_calloc(enums->count ? enums->count : 1, sizeof *d->enums);
    if (!d->enums) return dala_error_set(DALA_ENOMEM, "domain: enums");
    d->pub.enums = d->enums;
    for (size_t i = 0; i < enums->count; i++) {
        const dala_json *list = &enums->items[i];
        dala_enum *e = &d->enums[i];
        d->pub.enum_count = i + 1; /* counted as it is read, so a failure frees it */
        e->name = enums->keys[i];
        if (list->type != DALA_JSON_ARRAY || list->count == 0) return bad("enum", e->name, "must be a non-empty list");
        dala_enum_value *values = dala_calloc(list->count, sizeof *values);
        if (!values) return dala_error_set(DALA_ENOMEM, "domain: enum values");
        e->values = values;
        e->count = list->count;
        for (size_t j = 0; j < list->count; j++) {
            static const char *const keys[] = {"value", "kk", "ru", NULL};
            const dala_json *item = &list->items[j];
            if (item->type != DALA_JSON_OBJECT) return bad("enum", e->name, "values must be objects");
            int rc = only_keys(item, keys, "enum", e->name);
            values[j].value = dala_json_get_string(item, "value");
            if (!rc && (!values[j].value || !dala_name_is_valid(values[j].value, strlen(values[j].value))))
                rc = bad("enum", e->name, "a value is not a lowercase name");
            if (!rc) rc = get_labels(item, &values[j].kk, &values[j].ru, "enum", values[j].value);
            for (size_t k = 0; !rc && k < j; k++)
                if (strcmp(values[k].value, values[j].value) == 0) rc = bad("enum", e->name, "a value is listed twice");
            if (rc) return rc;
        }
    }
    return DALA_OK;
}

static int read_condition(dala_condition *out, const dala_json *field, const char *key)
{
    const dala_json *cond = dala_json_get(field, key);
    if (!cond) return DALA_OK;
    static const char *const keys[] = {"field", "in", NULL};
    const dala_json *in = dala_json_get(cond, "in");
    int rc = cond->type == DALA_JSON_OBJECT ? only_keys(cond, keys, "condition", key) : bad("condition", key, "must be an object");
    out->field = rc ? NULL : dala_json_get_string(cond, "field");
    if (!rc && (!out->field || !in || in->type != DALA_JSON_ARRAY || in->count == 0))
        rc = bad("condition", key, "needs a field and a non-empty list \"in\"");
    if (rc) return rc;
    /* Values as text: numbers keep their JSON spelling in the document
     * only as parsed numbers, so spell whole numbers out here. */
    char **values = dala_calloc(in->count, sizeof *values);
    if (!values) return dala_error_set(DALA_ENOMEM, "domain: condition");
    out->values = (const char *const *)values;
    out->count = in->count;
    for (size_t i = 0; i < in->count; i++) {
        const dala_json *v = &in->items[i];
        if (v->type == DALA_JSON_STRING) values[i] = dala_strdup(v->string);
        else if (v->type == DALA_JSON_NUMBER && v->is_integer) {
            char text[24];
            snprintf(text, sizeof text, "%lld", (long long)v->integer);
            values[i] = dala_strdup(text);
        } else return bad("condition", key, "values must be strings or whole numbers");
        if (!values[i]) return dala_error_set(DALA_ENOMEM, "domain: condition");
    }
    return DALA_OK;
}

static int read_field(domain_impl *d, dala_field_def *f, const dala_json *json, const char *table)
{
    static const char *const keys[] = {"name", "type", "kk", "ru", "required", "required_since", "since",
                                       "sensitive", "max_len", "min", "max", "enum", "ref", "not_future",
                                       "not_before", "required_when", "forbidden_when", "birth_field",
                                       "sex_field", "check", "merge", "source", "register", "catalogue",
                                       "catalogue_since", "catalogue_date", "catalogue_kind", NULL};
    if (json->type != DALA_JSON_OBJECT) return bad("table", table, "fields must be objects");
    f->name = dala_json_get_string(json, "name");
    if (!f->name || !dala_name_is_valid(f->name, strlen(f->name))) return bad("table", table, "a field has no valid name");
    int rc = only_keys(json, keys, "field", f->name);
    if (!rc) rc = get_labels(json, &f->kk, &f->ru, "field", f->name);
    const char *type = dala_json_get_string(json, "type");
    size_t t = 0;
    while (type && t < sizeof type_names / sizeof type_names[0] && strcmp(type_names[t], type) != 0) t++;
    if (!rc && (!type || t == sizeof type_names / sizeof type_names[0])) rc = bad("field", f->name, "has an unknown type");
    f->type = (dala_field_type)t;
    uint32_t max_len = 0;
    if (!rc) rc = get_flag(&f->is_required, json, "required");
    if (!rc) rc = get_flag(&f->is_sensitive, json, "sensitive");
    if (!rc) rc = get_flag(&f->is_not_future, json, "not_future");
    if (!rc) rc = get_uint(&f->required_since, json, "required_since", 0);
    if (!rc) rc = get_uint(&f->since, json, "since", 1);
    if (!rc) rc = get_uint(&max_len, json, "max_len", 2000);
    f->max_len = max_len;
    if (!rc) rc = get_bound(&f->has_min, &f->min, json, "min");
    if (!rc) rc = get_bound(&f->has_max, &f->max, json, "max");
    if (!rc) rc = read_condition(&f->required_when, json, "required_when");
    if (!rc) rc = read_condition(&f->forbidden_when, json, "forbidden_when");
    if (rc) return rc;
    f->ref = dala_json_get_string(json, "ref");
    f->not_before = dala_json_get_string(json, "not_before");
    f->birth_field = dala_json_get_string(json, "birth_field");
    f->sex_field = dala_json_get_string(json, "sex_field");
    f->check = dala_json_get_string(json, "check");
    f->source = dala_json_get_string(json, "source");
    f->register_name = dala_json_get_string(json, "register");
    f->catalogue = dala_json_get_string(json, "catalogue");
    f->catalogue_date = dala_json_get_string(json, "catalogue_date");
    f->catalogue_kind = dala_json_get_string(json, "catalogue_kind");
    if (!rc) rc = get_uint(&f->catalogue_since, json, "catalogue_since", 1);
    if (rc) return rc;
    const char *merge = dala_json_get_string(json, "merge");
    if (merge && strcmp(merge, "highest") == 0 && f->type == DALA_FIELD_ENUM) f->merge = DALA_MERGE_HIGHEST;
    else if (merge && strcmp(merge, "union") == 0 && f->type == DALA_FIELD_SET) f->merge = DALA_MERGE_UNION;
    else if (merge) return bad("field", f->name, "merge is \"highest\" for an enum or \"union\" for a set");
    if ((f->register_name || f->catalogue) && f->type != DALA_FIELD_TEXT)
        return bad("field", f->name, "only text fields name a register or a catalogue");
    if (f->catalogue && strcmp(f->catalogue, "articles"))
        return bad("field", f->name, "names an unknown catalogue");
    if ((f->catalogue_date || f->catalogue_kind) && !f->catalogue)
        return bad("field", f->name, "catalogue_date and catalogue_kind go with a catalogue");
    const char *choices = dala_json_get_string(json, "enum");
    if (choices && !(f->choices = dala_domain_enum(&d->pub, choices))) return bad("field", f->name, "names an unknown enum");
    if ((f->type == DALA_FIELD_ENUM || f->type == DALA_FIELD_SET) != (f->choices != NULL))
        return bad("field", f->name, "enum and set fields, and only they, name an enum");
    if ((f->type == DALA_FIELD_REF) != (f->ref != NULL)) return bad("field", f->name, "ref fields, and only they, name a table");
    if ((f->type == DALA_FIELD_JSON) != (f->check != NULL)) return bad("field", f->name, "json fields, and only they, name a check");
    if (f->check && strcmp(f->check, "form_definition") && strcmp(f->check, "survey_answers"))
        return bad("field", f->name, "names an unknown check");
    return DALA_OK;
}

static const char *const void_reason_kk = "Күшін жою себебі";
static const char *const void_reason_ru = "Причина аннулирования";

/* Checks that every field a rule names exists in the same table. */
static int check_field_names(const dala_table_def *t)
{
    for (size_t i = 0; i < t->field_count; i++) {
        const dala_field_def *f = &t->fields[i];
        const char *named[] = {f->not_before,  f->required_when.field, f->forbidden_when.field, f->birth_field,
                               f->sex_field,   f->catalogue_date,      f->catalogue_kind};
        for (size_t j = 0; j < sizeof named / sizeof named[0]; j++)
            if (named[j] && !dala_domain_field(t, named[j])) return bad("field", f->name, "a rule names a field the table lacks");
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->fields[j].name, f->name) == 0) return bad("table", t->name, "lists a field twice");
    }
    return DALA_OK;
}

static int read_table(domain_impl *d, dala_table_def *t, const dala_json *json)
{
    static const char *const keys[] = {"name", "kk", "ru", "since", "writer", "published", "fields", NULL};
    if (json->type != DALA_JSON_OBJECT) return bad("tables", NULL, "must hold objects");
    t->name = dala_json_get_string(json, "name");
    if (!t->name || !dala_name_is_valid(t->name, strlen(t->name))) return bad("tables", NULL, "a table has no valid name");
    int rc = only_keys(json, keys, "table", t->name);
    if (!rc) rc = get_labels(json, &t->kk, &t->ru, "table", t->name);
    if (!rc) rc = get_uint(&t->since, json, "since", 1);
    if (!rc) rc = get_flag(&t->is_published, json, "published");
    const char *writer = dala_json_get_string(json, "writer");
    if (!rc && writer && strcmp(writer, "device") && strcmp(writer, "server")) rc = bad("table", t->name, "writer is device or server");
    t->is_server_written = writer && strcmp(writer, "server") == 0;
    const dala_json *fields = dala_json_get(json, "fields");
    if (!rc && (!fields || fields->type != DALA_JSON_ARRAY || fields->count == 0)) rc = bad("table", t->name, "needs fields");
    if (rc) return rc;
    /* Every table ends with void_reason: records are voided, not deleted. */
    dala_field_def *defs = dala_calloc(fields->count + 1, sizeof *defs);
    if (!defs) return dala_error_set(DALA_ENOMEM, "domain: fields");
    t->fields = defs;
    for (size_t i = 0; !rc && i < fields->count; i++) {
        t->field_count = i + 1; /* counted as it is read, so a failure frees it */
        rc = read_field(d, &defs[i], &fields->items[i], t->name);
    }
    if (rc) return rc;
    t->field_count = fields->count + 1;
    defs[fields->count] = (dala_field_def){.name = "void_reason", .kk = void_reason_kk, .ru = void_reason_ru,
                                           .type = DALA_FIELD_TEXT, .since = 1, .max_len = 500};
    if (!rc) rc = check_field_names(t);
    return rc;
}

static int check_refs(const domain_impl *d)
{
    for (size_t i = 0; i < d->pub.table_count; i++)
        for (size_t j = 0; j < d->tables[i].field_count; j++) {
            const char *ref = d->tables[i].fields[j].ref;
            if (ref && strcmp(ref, "*") && !dala_domain_table(&d->pub, ref)) return bad("field", d->tables[i].fields[j].name, "refers to an unknown table");
        }
    return DALA_OK;
}

static int read_domain(domain_impl *d)
{
    static const char *const keys[] = {"schema_version", "oldest_device_schema", "messages", "enums", "tables", NULL};
    const dala_json *doc = d->doc;
    int rc = doc->type == DALA_JSON_OBJECT ? only_keys(doc, keys, "document", "") : bad("document", NULL, "must be an object");
    if (!rc) rc = get_uint(&d->pub.schema_version, doc, "schema_version", 0);
    if (!rc) rc = get_uint(&d->pub.oldest_device_schema, doc, "oldest_device_schema", 0);
    if (!rc && (d->pub.schema_version == 0 || d->pub.oldest_device_schema == 0 ||
                d->pub.oldest_device_schema > d->pub.schema_version))
        rc = bad("document", NULL, "needs 1 <= oldest_device_schema <= schema_version");
    d->messages = dala_json_get(doc, "messages");
    if (!rc && (!d->messages || d->messages->type != DALA_JSON_OBJECT)) rc = bad("messages", NULL, "must be an object");
    for (size_t i = 0; !rc && i < d->messages->count; i++) {
        const dala_json *m = &d->messages->items[i];
        if (!dala_json_get_string(m, "kk") || !dala_json_get_string(m, "ru") || !dala_json_get_string(m, "en"))
            rc = bad("message", d->messages->keys[i], "needs kk, ru and en");
    }
    if (!rc) rc = read_enums(d, dala_json_get(doc, "enums"));
    const dala_json *tables = dala_json_get(doc, "tables");
    if (!rc && (!tables || tables->type != DALA_JSON_ARRAY || tables->count == 0)) rc = bad("tables", NULL, "must be a non-empty list");
    if (rc) return rc;
    d->tables = dala_calloc(tables->count, sizeof *d->tables);
    if (!d->tables) return dala_error_set(DALA_ENOMEM, "domain: tables");
    d->pub.tables = d->tables;
    for (size_t i = 0; !rc && i < tables->count; i++) {
        rc = read_table(d, &d->tables[i], &tables->items[i]);
        d->pub.table_count = i + 1;
        for (size_t j = 0; !rc && j < i; j++)
            if (strcmp(d->tables[j].name, d->tables[i].name) == 0) rc = bad("table", d->tables[i].name, "is listed twice");
    }
    if (!rc) rc = check_refs(d);
    return rc;
}

void dala_domain_free(dala_domain *domain)
{
    domain_impl *d = (domain_impl *)domain;
    if (!d) return;
    for (size_t i = 0; i < d->pub.table_count; i++) {
        for (size_t j = 0; d->tables[i].fields && j < d->tables[i].field_count; j++) {
            const dala_field_def *f = &d->tables[i].fields[j];
            const dala_condition *conds[] = {&f->required_when, &f->forbidden_when};
            for (size_t c = 0; c < 2; c++) {
                for (size_t k = 0; conds[c]->values && k < conds[c]->count; k++) free((char *)conds[c]->values[k]);
                free((void *)conds[c]->values);
            }
        }
        free((void *)d->tables[i].fields);
    }
    for (size_t i = 0; d->enums && i < d->pub.enum_count; i++) free((void *)d->enums[i].values);
    free(d->tables);
    free(d->enums);
    dala_json_free(d->doc);
    free(d);
}

int dala_domain_parse(dala_domain **out, const char *json, size_t len)
{
    *out = NULL;
    domain_impl *d = dala_calloc(1, sizeof *d);
    if (!d) return dala_error_set(DALA_ENOMEM, "domain: parse");
    int rc = dala_json_parse(&d->doc, json, len, 0);
    if (!rc) rc = read_domain(d);
    if (rc) {
        dala_domain_free(&d->pub);
        return rc;
    }
    *out = &d->pub;
    return DALA_OK;
}

static dala_domain *compiled;
static char compiled_error[256];
static pthread_once_t compiled_once = PTHREAD_ONCE_INIT;

static void load_compiled(void)
{
    if (dala_domain_parse(&compiled, dala_domain_records_json, dala_domain_records_json_len))
        snprintf(compiled_error, sizeof compiled_error, "%s", dala_errmsg());
}

const dala_domain *dala_domain_get(void)
{
    pthread_once(&compiled_once, load_compiled);
    if (!compiled) dala_error_set(DALA_ESCHEMA, "the compiled-in domain is broken: %s", compiled_error);
    return compiled;
}

uint32_t dala_schema_version(void)
{
    const dala_domain *domain = dala_domain_get();
    return domain ? domain->schema_version : 0;
}

uint32_t dala_schema_oldest(void)
{
    const dala_domain *domain = dala_domain_get();
    return domain ? domain->oldest_device_schema : 0;
}

const dala_table_def *dala_domain_table(const dala_domain *domain, const char *table)
{
    for (size_t i = 0; domain && table && i < domain->table_count; i++)
        if (strcmp(domain->tables[i].name, table) == 0) return &domain->tables[i];
    return NULL;
}

const dala_field_def *dala_domain_field(const dala_table_def *table, const char *field)
{
    for (size_t i = 0; table && field && i < table->field_count; i++)
        if (strcmp(table->fields[i].name, field) == 0) return &table->fields[i];
    return NULL;
}

const dala_enum *dala_domain_enum(const dala_domain *domain, const char *name)
{
    for (size_t i = 0; domain && name && i < domain->enum_count; i++)
        if (strcmp(domain->enums[i].name, name) == 0) return &domain->enums[i];
    return NULL;
}

const dala_enum_value *dala_enum_find(const dala_enum *choices, const char *value, size_t len)
{
    for (size_t i = 0; choices && i < choices->count; i++)
        if (strlen(choices->values[i].value) == len && memcmp(choices->values[i].value, value, len) == 0)
            return &choices->values[i];
    return NULL;
}

const char *dala_domain_message(const dala_domain *domain, const char *code, const char *lang)
{
    const domain_impl *d = (const domain_impl *)domain;
    const dala_json *message = d ? dala_json_get(d->messages, code) : NULL;
    if (!message) return NULL;
    const char *text = lang ? dala_json_get_string(message, lang) : NULL;
    return text ? text : dala_json_get_string(message, "kk");
}

const char *dala_field_type_name(dala_field_type type)
{
    return (size_t)type < sizeof type_names / sizeof type_names[0] ? type_names[type] : "unknown";
}

const char *dala_label(const char *kk, const char *ru, const char *lang)
{
    return lang && strcmp(lang, "ru") == 0 ? ru : kk;
}
