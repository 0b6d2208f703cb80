/* refusal.c - a refused change as it travels and as an officer reads it.
 * The server sends "<table>.<field>: <code>[ <arg>]"; the tablet renders it
 * in the officer's language from the message catalogue of the domain
 * definition: "<field label>: <message>". */
#include "sync_int.h"

#include <stdio.h>
#include <string.h>

void dala_invalid_format(char *reason, size_t size, const dala_invalid *invalid)
{
    snprintf(reason, size, "%s.%s: %s%s%s", invalid->table, invalid->field, invalid->code,
             invalid->arg[0] ? " " : "", invalid->arg);
}

/* Copies `len` bytes into a field of `size`; 0 if they do not fit. */
static int take(char *out, size_t size, const char *text, size_t len)
{
    if (len >= size) return 0;
    memcpy(out, text, len);
    out[len] = 0;
    return 1;
}

int dala_invalid_parse(dala_invalid *out, const char *reason)
{
    memset(out, 0, sizeof *out);
    const char *dot = strchr(reason, '.'), *colon = strstr(reason, ": ");
    if (!dot || !colon || dot > colon) return DALA_EINVAL;
    const char *code = colon + 2, *space = strchr(code, ' ');
    size_t code_len = space ? (size_t)(space - code) : strlen(code);
    if (!take(out->table, sizeof out->table, reason, (size_t)(dot - reason)) ||
        !take(out->field, sizeof out->field, dot + 1, (size_t)(colon - dot - 1)) ||
        !take(out->code, sizeof out->code, code, code_len) || code_len == 0 ||
        !take(out->arg, sizeof out->arg, space ? space + 1 : "", space ? strlen(space + 1) : 0))
        return DALA_EINVAL;
    /* Names and codes are [a-z][a-z0-9_]*: other text with a dot and a
     * colon ("open x.db: ...") is not a refusal. */
    if (!dala_name_is_valid(out->table, strlen(out->table)) || !dala_name_is_valid(out->code, code_len) ||
        (out->field[0] && !dala_name_is_valid(out->field, strlen(out->field))))
        return DALA_EINVAL;
    return DALA_OK;
}

/* The argument as the reader should see it: another field's label, a
 * type's name, or as it is (a bound, a question id, a version). */
static const char *render_arg(const dala_domain *domain, const dala_table_def *table, const dala_invalid *invalid,
                              const char *lang)
{
    const char *code = invalid->code;
    if (!strcmp(code, "before") || !strcmp(code, "required_when") || !strcmp(code, "forbidden_when")) {
        const dala_field_def *other = dala_domain_field(table, invalid->arg);
        if (other) return dala_label(other->kk, other->ru, lang);
    }
    if (!strcmp(code, "type")) {
        const dala_enum_value *name = dala_enum_find(dala_domain_enum(domain, "type_name"), invalid->arg, strlen(invalid->arg));
        if (name) return dala_label(name->kk, name->ru, lang);
    }
    return invalid->arg;
}

void dala_invalid_render(char *out, size_t size, const dala_invalid *invalid, const char *lang)
{
    const dala_domain *domain = dala_domain_get();
    const dala_table_def *table = dala_domain_table(domain, invalid->table);
    const dala_field_def *field = dala_domain_field(table, invalid->field);
    const char *subject = field ? dala_label(field->kk, field->ru, lang)
                        : table ? dala_label(table->kk, table->ru, lang)
                        : invalid->field[0] ? invalid->field : invalid->table;
    const char *message = dala_domain_message(domain, invalid->code, lang);
    if (!message) {
        snprintf(out, size, "%s: %s", subject, invalid->code);
        return;
    }
    /* The catalogue's messages hold at most one %s (checked by the tests). */
    const char *slot = strstr(message, "%s");
    if (!slot) snprintf(out, size, "%s: %s", subject, message);
    else
        snprintf(out, size, "%s: %.*s%s%s", subject, (int)(slot - message), message,
                 render_arg(domain, table, invalid, lang), slot + 2);
}
