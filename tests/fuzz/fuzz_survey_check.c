/* fuzz_survey_check.c - libFuzzer target: what a tablet sends as survey
 * answers, checked as the server checks them. The first byte picks the
 * path: even, the rest is the answers of a survey_response change checked
 * with dala_change_check against a small form (skip logic, every question
 * type, anonymity); odd, the rest is a questionnaire definition checked
 * with dala_form_check. Neither may crash, leak or read outside the input,
 * and a refusal must name a rule of the catalogue that reads back. */
#include "dala_sync.h"
#include "survey_form.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int form_definition(void *context, const char *form_id, char **out)
{
    (void)context, (void)form_id;
    *out = strdup(fuzz_survey_form);
    return *out ? DALA_OK : DALA_ENOMEM;
}

static int record_exists(void *context, const char *table, const char *id)
{
    (void)context, (void)table, (void)id;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 65536) return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        char why[64];
        int rc = dala_form_check(text, len, why, sizeof why);
        if (rc != DALA_OK && rc != DALA_EINVAL && rc != DALA_ENOMEM) abort();
        if (rc == DALA_EINVAL && strlen(why) >= sizeof why) abort();
        return 0;
    }
    dala_field fields[] = {
        {"form_id", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"01900000-0000-7000-8000-000000000001", 36}, 0},
        {"collected_on", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"2026-01-05", 10}, 0},
        {"answers", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)text, len}, 0},
    };
    dala_change change = {"survey_response", {1}, 1, 1, 3, fields};
    dala_check_env env = {"2026-06-15", 0, 0, NULL, record_exists, form_definition, NULL};
    dala_invalid invalid;
    int rc = dala_change_check(&invalid, &change, &env);
    if (rc == DALA_EINVAL) {
        char reason[DALA_MAX_REASON_BYTES], rendered[600];
        dala_invalid again;
        dala_invalid_format(reason, sizeof reason, &invalid);
        if (dala_invalid_parse(&again, reason) != DALA_OK || strcmp(again.code, invalid.code) != 0) abort();
        if (!dala_domain_message(dala_domain_get(), invalid.code, "kk")) abort();
        dala_invalid_render(rendered, sizeof rendered, &invalid, "ru");
    } else if (rc != DALA_OK && rc != DALA_ENOMEM) {
        abort();
    }
    return 0;
}
