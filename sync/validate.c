/* validate.c - the record rules the tablet applies before queueing a
 * change and the server applies again before accepting it, so both ends
 * refuse the same things for the same reasons. The rules are data (one
 * table per record type); this file holds the engine and, until the
 * domain schema grows them, the rules of field visits. */
#include "sync_int.h"

#include <stdio.h>
#include <string.h>

typedef struct field_rule {
    const char *name;
    dala_value_type type;
    int is_required;           /* on a new record */
    size_t max_bytes;          /* TEXT only; 0: the codec's limit */
    const char *const *choices; /* TEXT enumeration, NULL-terminated; NULL: free text */
    int is_date;               /* TEXT "YYYY-MM-DD", not in the future */
} field_rule;

typedef struct table_rule {
    const char *table;
    const field_rule *fields;
} table_rule;

static const char *const visit_purposes[] = {"preventive_visit", "protective_order_check",
                                             "call_response", "follow_up_visit",
                                             "registration_check", NULL};
static const char *const risk_levels[] = {"low", "medium", "high", NULL};
static const char *const contact_statuses[] = {"met_victim", "met_family", "nobody_home", NULL};
static const char *const referrals[] = {"none", "crisis_centre", "psychologist", "lawyer", "ngo",
                                        "healthcare", NULL};
static const char *const order_states[] = {"none", "active", "issued", "violated", "extended", NULL};

static const field_rule field_visit_rules[] = {
    {"visit_date", DALA_VALUE_TEXT, 1, 10, NULL, 1},
    {"visit_time", DALA_VALUE_TEXT, 0, 8, NULL, 0},
    {"purpose", DALA_VALUE_TEXT, 1, 0, visit_purposes, 0},
    {"unit_id", DALA_VALUE_INT, 0, 0, NULL, 0},
    {"officer_id", DALA_VALUE_INT, 0, 0, NULL, 0},
    {"city", DALA_VALUE_TEXT, 0, 200, NULL, 0},
    {"district", DALA_VALUE_TEXT, 0, 200, NULL, 0},
    {"address", DALA_VALUE_TEXT, 0, 500, NULL, 0},
    {"latitude", DALA_VALUE_REAL, 0, 0, NULL, 0},
    {"longitude", DALA_VALUE_REAL, 0, 0, NULL, 0},
    {"household", DALA_VALUE_TEXT, 0, 2000, NULL, 0},
    {"persons_met", DALA_VALUE_TEXT, 0, 2000, NULL, 0},
    {"contact_status", DALA_VALUE_TEXT, 0, 0, contact_statuses, 0},
    {"victim_count", DALA_VALUE_INT, 0, 0, NULL, 0},
    {"children_count", DALA_VALUE_INT, 0, 0, NULL, 0},
    {"offender_present", DALA_VALUE_INT, 0, 0, NULL, 0},
    {"findings", DALA_VALUE_TEXT, 0, 20000, NULL, 0},
    {"risk_level", DALA_VALUE_TEXT, 0, 0, risk_levels, 0},
    {"measures_taken", DALA_VALUE_TEXT, 0, 2000, NULL, 0},
    {"referral", DALA_VALUE_TEXT, 0, 0, referrals, 0},
    {"protective_order", DALA_VALUE_TEXT, 0, 0, order_states, 0},
    {"follow_up_date", DALA_VALUE_TEXT, 0, 10, NULL, 0},
    {"void_reason", DALA_VALUE_TEXT, 0, 500, NULL, 0},
    {NULL, DALA_VALUE_NULL, 0, 0, NULL, 0},
};

static const table_rule tables[] = {
    {"field_visit", field_visit_rules},
    {NULL, NULL},
};

static const char *type_name(dala_value_type type)
{
    static const char *const names[] = {"null", "integer", "number", "text", "bytes"};
    return (unsigned)type < 5 ? names[type] : "unknown";
}

static int fail(char *reason, size_t size, const char *table, const char *field, const char *why)
{
    snprintf(reason, size, "%s.%s: %s", table, field, why);
    return dala_error_set(DALA_EINVAL, "validate %s.%s: %s", table, field, why);
}

static int is_date_text(const dala_value *value)
{
    static const char pattern[] = "dddd-dd-dd";
    if (value->len != 10) return 0;
    for (size_t i = 0; i < 10; i++) {
        char c = (char)value->bytes[i];
        if (pattern[i] == 'd' ? (c < '0' || c > '9') : c != '-') return 0;
    }
    int month = (value->bytes[5] - '0') * 10 + value->bytes[6] - '0';
    int day = (value->bytes[8] - '0') * 10 + value->bytes[9] - '0';
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

static int is_choice(const dala_value *value, const char *const *choices)
{
    for (; *choices; choices++)
        if (strlen(*choices) == value->len && memcmp(*choices, value->bytes, value->len) == 0) return 1;
    return 0;
}

static int check_field(const field_rule *rule, const dala_field *field, const char *table,
                       const char *today, char *reason, size_t size)
{
    const dala_value *value = &field->value;
    if (value->type == DALA_VALUE_NULL) {
        if (rule->is_required) return fail(reason, size, table, rule->name, "is required");
        return DALA_OK;
    }
    if (value->type != rule->type) {
        char why[64];
        snprintf(why, sizeof why, "must be %s, not %s", type_name(rule->type), type_name(value->type));
        return fail(reason, size, table, rule->name, why);
    }
    if (rule->max_bytes && value->len > rule->max_bytes)
        return fail(reason, size, table, rule->name, "is too long");
    if (rule->choices && !is_choice(value, rule->choices))
        return fail(reason, size, table, rule->name, "is not one of the allowed values");
    if (rule->is_date) {
        if (!is_date_text(value)) return fail(reason, size, table, rule->name, "is not a date YYYY-MM-DD");
        if (today && memcmp(value->bytes, today, 10) > 0)
            return fail(reason, size, table, rule->name, "is in the future");
    }
    return DALA_OK;
}

static const field_rule *find_rule(const field_rule *rules, const char *name)
{
    for (; rules->name; rules++)
        if (strcmp(rules->name, name) == 0) return rules;
    return NULL;
}

static const dala_field *find_field(const dala_change *change, const char *name)
{
    for (size_t i = 0; i < change->field_count; i++)
        if (strcmp(change->fields[i].name, name) == 0) return &change->fields[i];
    return NULL;
}

int dala_change_validate(const dala_change *change, int is_new, const char *today, char *reason,
                         size_t reason_size)
{
    const table_rule *table = tables;
    while (table->table && strcmp(table->table, change->table) != 0) table++;
    if (!table->table) {
        snprintf(reason, reason_size, "%s: not a table devices may write", change->table);
        return dala_error_set(DALA_EINVAL, "validate: %s is not a table devices may write",
                              change->table);
    }
    for (size_t i = 0; i < change->field_count; i++) {
        const dala_field *field = &change->fields[i];
        const field_rule *rule = find_rule(table->fields, field->name);
        if (!rule) return fail(reason, reason_size, change->table, field->name, "is not a field of this record");
        for (size_t j = 0; j < i; j++)
            if (strcmp(change->fields[j].name, field->name) == 0)
                return fail(reason, reason_size, change->table, field->name, "is set twice");
        int rc = check_field(rule, field, change->table, today, reason, reason_size);
        if (rc) return rc;
    }
    for (const field_rule *rule = table->fields; is_new && rule->name; rule++)
        if (rule->is_required && !find_field(change, rule->name))
            return fail(reason, reason_size, change->table, rule->name, "is required");
    return DALA_OK;
}
