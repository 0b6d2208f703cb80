/* test_domain_sync.c - the domain rules across the real server on
 * 127.0.0.1:0: questionnaires published on the server reach the tablets
 * below, responses stay accepted under the form version they answer after
 * a newer one is published, a tablet of the older schema version keeps
 * syncing while one too old or too new is told why, and the server checks
 * every change again, refusing each bad one with its reason (rendered on
 * the tablet in Kazakh or Russian) while the rest of the batch lands. */
#include "e2e_support.h"
#include "raw_client.h"
#include "sdk_int.h"
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count_form(void *context, const char *form_id, const char *code, int64_t version, const char *title)
{
    (void)form_id, (void)version, (void)title;
    int *counts = context;
    counts[strcmp(code, "vaw-household") == 0 ? 0 : 1]++;
    return 0;
}

static void test_domain_sync_published_forms_reach_tablets_below_and_not_beside(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    char top_form[DALA_ID_TEXT_BYTES], almaty_form[DALA_ID_TEXT_BYTES];
    publish_form(&h, 1, NULL, NULL, top_form);                          /* the Ministry: every tablet */
    publish_form(&h, 1, "almaty-local", "pd-almaty-city", almaty_form); /* Almaty's tablets only */
    dala_store *astana = device_enrol(&h, "astana", h.officer_a, h.unit_a);
    if (astana) {
        sync_ok(astana);
        int counts[2] = {0, 0};
        CHECK_OK(dala_survey_forms(astana, "kk", count_form, counts));
        CHECK_EQ_INT(counts[0], 1);
        CHECK_EQ_INT(counts[1], 0);
        char *json = NULL;
        CHECK_EQ_INT(dala_record_get_json(&json, astana, almaty_form), DALA_ENOTFOUND);
        CHECK_OK(dala_record_get_json(&json, astana, top_form));
        CHECK_CONTAINS(json, "\"table\":\"survey_form\"");
        dala_free(json);
    }
    dala_store_close(astana);
    harness_stop(&h);
}

/* Answers every question the session asks with its first option, its
 * lower bound, a date or a short text, as a respondent in a hurry would. */
static void answer_all(dala_survey *survey)
{
    dala_question q;
    int asked = 0;
    while (dala_survey_next(&q, survey) == DALA_OK && asked++ < 100) {
        char answer[128];
        dala_choice first;
        if (q.option_count && dala_survey_option(&first, survey, q.id, 0) == DALA_OK)
            snprintf(answer, sizeof answer, strcmp(q.type, "multi") ? "\"%s\"" : "[\"%s\"]", first.value);
        else if (!strcmp(q.type, "number")) snprintf(answer, sizeof answer, "%g", q.has_min ? q.min : 1.0);
        else if (!strcmp(q.type, "date")) snprintf(answer, sizeof answer, "\"2026-01-05\"");
        else snprintf(answer, sizeof answer, "\"Көмек көрсетілді\"");
        CHECK_OK(dala_survey_answer(survey, q.id, answer));
    }
}

static void capture_response(dala_store *store, const char *form, char id[DALA_ID_TEXT_BYTES])
{
    dala_survey *survey = NULL;
    CHECK_OK(dala_survey_open(&survey, store, form, "ru"));
    if (!survey) return;
    answer_all(survey);
    CHECK_OK(dala_survey_save(id, survey, "{\"collected_on\": \"2026-01-05\", \"region\": \"Астана\"}"));
    dala_survey_close(survey);
}

static void test_domain_sync_response_to_version_1_is_accepted_after_version_2_is_published(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    char v1[DALA_ID_TEXT_BYTES], v2[DALA_ID_TEXT_BYTES], old_answer[DALA_ID_TEXT_BYTES], new_answer[DALA_ID_TEXT_BYTES];
    publish_form(&h, 1, NULL, NULL, v1);
    dala_store *tablet = device_enrol(&h, "survey", h.officer_a, h.unit_a);
    if (!tablet) goto done;
    sync_ok(tablet);
    capture_response(tablet, "vaw-household", old_answer); /* offline, under version 1 */
    publish_form(&h, 2, NULL, NULL, v2);
    dala_sync_stats stats;
    CHECK_OK(sync_via(tablet, NULL, 0, &stats));
    CHECK_EQ_U64(stats.acked, 1);
    CHECK_EQ_U64(stats.rejected, 0);
    char *form_id = central_field(&h, old_answer, "form_id");
    CHECK(form_id && strcmp(form_id, v1) == 0);
    free(form_id);
    /* The code now opens version 2, and its answers are checked by it. */
    capture_response(tablet, "vaw-household", new_answer);
    CHECK_OK(sync_via(tablet, NULL, 0, &stats));
    CHECK_EQ_U64(stats.acked, 1);
    CHECK_EQ_U64(stats.rejected, 0);
    form_id = central_field(&h, new_answer, "form_id");
    CHECK(form_id && strcmp(form_id, v2) == 0);
    free(form_id);
    char *answers = central_field(&h, new_answer, "answers");
    CHECK_CONTAINS(answers, "\"q21\"");
    free(answers);
    CHECK_EQ_INT(device_status(tablet).rejected_changes, 0);
done:
    dala_store_close(tablet);
    harness_stop(&h);
}

static void test_domain_sync_tablet_of_schema_1_keeps_syncing_with_a_schema_2_server(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    dala_device_schema_set(1);
    dala_store *old = device_enrol(&h, "old", h.officer_a, h.unit_a);
    char id[DALA_ID_TEXT_BYTES];
    if (old) {
        /* Version 1 had no person records and did not require a risk level. */
        CHECK_EQ_INT(dala_table_is_writable("person"), 0);
        CHECK_OK(dala_record_put(id, old, "field_visit", NULL,
                                 "{\"visit_date\": \"2026-01-05\", \"purpose\": \"preventive_visit\", "
                                 "\"visit_time\": \"09:30:00\"}"));
        dala_sync_stats stats;
        CHECK_OK(sync_via(old, NULL, 0, &stats));
        CHECK_EQ_U64(stats.acked, 1);
        CHECK_EQ_U64(stats.rejected, 0);
        char *purpose = central_field(&h, id, "purpose");
        CHECK(purpose && strcmp(purpose, "preventive_visit") == 0);
        free(purpose);
    }
    dala_store_close(old);
    dala_device_schema_set(-1);
    /* A current tablet is held to version 2: the risk level is required. */
    dala_store *current = device_enrol(&h, "current", h.officer_a2, h.unit_a);
    if (current) {
        CHECK_EQ_INT(dala_record_put(id, current, "field_visit", NULL,
                                     "{\"visit_date\": \"2026-01-05\", \"purpose\": \"preventive_visit\"}"),
                     DALA_EINVAL);
        CHECK_CONTAINS(dala_errmsg(), "field_visit.risk_level: required");
    }
    dala_store_close(current);
    harness_stop(&h);
}

static void test_domain_sync_tablets_too_old_or_too_new_are_told_why_and_keep_their_changes(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    dala_store *tablet = device_enrol(&h, "aging", h.officer_a, h.unit_a);
    if (tablet) {
        CHECK_OK(dala_record_put(NULL, tablet, "field_visit", NULL, "{" VISIT ", \"risk_level\": \"low\"}"));
        static const struct {
            int64_t version;
            const char *says;
        } cases[] = {{0, "device_too_old 1"}, {4, "device_too_new 3"}};
        for (size_t i = 0; i < 2; i++) {
            dala_device_schema_set(cases[i].version);
            CHECK_EQ_INT(sync_via(tablet, NULL, 0, NULL), DALA_ESCHEMA);
            CHECK_CONTAINS(dala_errmsg(), cases[i].says);
            char shown[300];
            CHECK_OK(dala_reason_render(shown, sizeof shown, dala_errmsg(), "ru"));
            CHECK_CONTAINS(shown, cases[i].version ? "приложение новее сервера" : "приложение устарело: обновите");
            CHECK_EQ_U64(device_status(tablet).pending_changes, 1);
        }
        dala_device_schema_set(-1);
        sync_ok(tablet);
        CHECK_EQ_U64(device_status(tablet).pending_changes, 0);
    }
    dala_device_schema_set(-1);
    dala_store_close(tablet);
    harness_stop(&h);
}

/* ---------------------------------------------- the server checks again */

static dala_field text(const char *name, const char *value)
{
    return (dala_field){name, {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)value, strlen(value)}, 0};
}

static dala_change change_of(const char *table, uint8_t seed, uint64_t hlc, uint64_t device, dala_field *fields,
                             size_t count)
{
    dala_change change = {table, {0}, hlc, device, count, fields};
    memset(change.record_id, seed, sizeof change.record_id);
    change.record_id[6] = 0x70; /* a version-7 shape, as tablets mint */
    change.record_id[8] = 0x80;
    return change;
}

static void id_text(char out[DALA_ID_TEXT_BYTES], const dala_change *change)
{
    dala_uuid_format(out, change->record_id);
}

/* A person of unit `seed`'s device; fields by reference to static text. */
#define PERSON_FIELDS(iin, sex)                                                                          \
    {text("role", "victim"), text("last_name", "Сейітова"), text("first_name", "Әсел"),                   \
     text("sex", sex), text("birth_date", "1990-05-14"), text("iin", iin)}

static const char *reason_of(const dala_sync_response *response, uint32_t index)
{
    for (size_t i = 0; i < response->rejected_count; i++)
        if (response->rejected[i].index == index) {
            static char reason[DALA_MAX_REASON_BYTES + 1];
            snprintf(reason, sizeof reason, "%.*s", (int)response->rejected[i].reason_len, response->rejected[i].reason);
            return reason;
        }
    return "";
}

static void test_domain_sync_server_refuses_each_bad_change_with_its_reason_and_keeps_the_rest(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    raw_device dev;
    char code[32];
    CHECK_OK(harness_code(&h, code, h.officer_a, h.unit_a));
    if (raw_enroll(&dev, h.port, code)) goto done;
    uint64_t now = DALA_HLC_MAKE(dala_wall_clock_ms(), 0);
    dala_field good[] = PERSON_FIELDS("900514440018", "female");
    dala_field bad_check[] = PERSON_FIELDS("900514440019", "female");
    dala_field bad_sex[] = PERSON_FIELDS("900514440018", "male");
    dala_field visit[] = {text("visit_date", "2026-01-05"), text("purpose", "call_response"),
                          text("risk_level", "high"), text("follow_up_date", "2026-01-01")};
    dala_change changes[4] = {
        change_of("person", 1, now + 1, dev.id, good, 6),
        change_of("person", 2, now + 2, dev.id, bad_check, 6),
        change_of("person", 3, now + 3, dev.id, bad_sex, 6),
        change_of("field_visit", 4, now + 4, dev.id, visit, 4),
    };
    dala_buf body = DALA_BUF_INIT;
    dala_sync_response response;
    CHECK_EQ_INT(raw_push(h.port, &dev, 1, changes, 4, &body, &response), 200);
    CHECK_EQ_INT(response.rejected_count, 3);
    CHECK_EQ_STR(reason_of(&response, 1), "person.iin: iin_check");
    CHECK_EQ_STR(reason_of(&response, 2), "person.iin: iin_sex");
    CHECK_EQ_STR(reason_of(&response, 3), "field_visit.follow_up_date: before visit_date");
    /* The tablet shows the officer the refusal in her language. */
    char shown[300];
    CHECK_OK(dala_reason_render(shown, sizeof shown, reason_of(&response, 3), "kk"));
    CHECK_CONTAINS(shown, "Қайта бару күні");
    CHECK_OK(dala_reason_render(shown, sizeof shown, reason_of(&response, 3), "ru"));
    CHECK_CONTAINS(shown, "Дата посещения");
    char person[DALA_ID_TEXT_BYTES];
    id_text(person, &changes[0]);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'person'", 0, 0), 1);
    char *iin = central_field(&h, person, "iin");
    CHECK(iin && strcmp(iin, "900514440018") == 0);
    free(iin);
    dala_sync_response_clear(&response);
    dala_buf_free(&body);
done:
    harness_stop(&h);
}

static void test_domain_sync_references_reach_only_records_the_tablet_may_see(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    raw_device a, b;
    char code[32];
    CHECK_OK(harness_code(&h, code, h.officer_a, h.unit_a));
    int failed = raw_enroll(&a, h.port, code);
    CHECK_OK(harness_code(&h, code, h.officer_b, h.unit_b));
    failed |= raw_enroll(&b, h.port, code);
    if (failed) goto done;
    uint64_t now = DALA_HLC_MAKE(dala_wall_clock_ms(), 0);
    dala_field person_b[] = PERSON_FIELDS("900514440018", "female");
    dala_field person_a[] = PERSON_FIELDS("900514440028", "female");
    dala_change b_person = change_of("person", 0x21, now + 1, b.id, person_b, 6);
    dala_buf body = DALA_BUF_INIT;
    dala_sync_response response;
    CHECK_EQ_INT(raw_push(h.port, &b, 1, &b_person, 1, &body, &response), 200);
    CHECK_EQ_INT(response.rejected_count, 0);
    dala_sync_response_clear(&response);
    dala_buf_reset(&body);
    /* Unit A names B's person as a victim, then its own. */
    char b_id[DALA_ID_TEXT_BYTES], a_id[DALA_ID_TEXT_BYTES];
    id_text(b_id, &b_person);
    dala_change a_person = change_of("person", 0x11, now + 2, a.id, person_a, 6);
    id_text(a_id, &a_person);
    dala_field foreign[] = {text("kind", "administrative"), text("sphere", "family_domestic"), text("article", "koap.73"),
                            text("committed_on", "2026-01-04"), text("victim_id", b_id)};
    dala_field own[] = {text("kind", "administrative"), text("sphere", "family_domestic"), text("article", "koap.73"),
                        text("committed_on", "2026-01-04"), text("victim_id", a_id)};
    dala_change changes[3] = {a_person, change_of("offence", 0x12, now + 3, a.id, foreign, 5),
                              change_of("offence", 0x13, now + 4, a.id, own, 5)};
    CHECK_EQ_INT(raw_push(h.port, &a, 1, changes, 3, &body, &response), 200);
    CHECK_EQ_INT(response.rejected_count, 1);
    CHECK_EQ_STR(reason_of(&response, 1), "offence.victim_id: no_record");
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'offence'", 0, 0), 1);
    dala_sync_response_clear(&response);
    dala_buf_free(&body);
done:
    harness_stop(&h);
}

static void test_domain_sync_anonymous_response_naming_a_person_is_refused_by_the_server(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    char form[DALA_ID_TEXT_BYTES], code[32];
    publish_form(&h, 1, NULL, NULL, form);
    raw_device dev;
    CHECK_OK(harness_code(&h, code, h.officer_a, h.unit_a));
    if (raw_enroll(&dev, h.port, code)) goto done;
    uint64_t now = DALA_HLC_MAKE(dala_wall_clock_ms(), 0);
    dala_field person[] = PERSON_FIELDS("900514440018", "female");
    dala_change changes[3];
    changes[0] = change_of("person", 0x31, now + 1, dev.id, person, 6);
    char person_id[DALA_ID_TEXT_BYTES];
    id_text(person_id, &changes[0]);
#define COMPLETE_ANSWERS                                                                       \
    "\"q1\":\"age_25_34\",\"q2\":\"city\",\"q3\":\"married\",\"q4\":\"higher\",\"q5\":\"employed\"," \
    "\"q6\":1,\"q7\":\"no\",\"q17\":\"know_well\",\"q18\":\"both\",\"q19\":4"
    static const char answers[] = "{" COMPLETE_ANSWERS "}";
    dala_field named[] = {text("form_id", form), text("collected_on", "2026-01-05"), text("answers", answers),
                          text("person_id", person_id)};
    dala_field iin_in_text[] = {text("form_id", form), text("collected_on", "2026-01-05"),
                                text("answers", "{" COMPLETE_ANSWERS ",\"q20\":\"ЖСН 900514440018\"}")};
    changes[1] = change_of("survey_response", 0x32, now + 2, dev.id, named, 4);
    changes[2] = change_of("survey_response", 0x33, now + 3, dev.id, iin_in_text, 3);
    dala_buf body = DALA_BUF_INIT;
    dala_sync_response response;
    CHECK_EQ_INT(raw_push(h.port, &dev, 1, changes, 3, &body, &response), 200);
    CHECK_EQ_INT(response.rejected_count, 2);
    CHECK_EQ_STR(reason_of(&response, 1), "survey_response.person_id: anonymous_identifier");
    CHECK_EQ_STR(reason_of(&response, 2), "survey_response.answers: anonymous_identifier q20");
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE tbl = 'survey_response'", 0, 0), 0);
    dala_sync_response_clear(&response);
    dala_buf_free(&body);
done:
    harness_stop(&h);
}

static void test_domain_sync_review_decision_reaches_the_officers_tablet_only(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    dala_store *officer = device_enrol(&h, "officer", h.officer_a, h.unit_a);
    dala_store *beside = device_enrol(&h, "beside", h.officer_b, h.unit_b);
    char visit[DALA_ID_TEXT_BYTES], review[DALA_ID_TEXT_BYTES];
    dala_admin *admin = NULL;
    if (!officer || !beside) goto done;
    CHECK_OK(dala_record_put(visit, officer, "field_visit", NULL, "{" VISIT ", \"risk_level\": \"high\"}"));
    sync_ok(officer);
    CHECK_OK(dala_admin_open(&admin, h.db_path));
    if (!admin) goto done;
    /* A return needs its comment; a record that does not exist cannot be reviewed. */
    CHECK_EQ_INT(dala_admin_review(review, admin, visit, "return", NULL, "Ж. Омарова"), DALA_EINVAL);
    CHECK_CONTAINS(dala_errmsg(), "review.comment: required_when decision");
    CHECK_EQ_INT(dala_admin_review(review, admin, "01900000-0000-7000-8000-0000000000ff", "approve", NULL, "Ж. Омарова"),
                 DALA_ENOTFOUND);
    CHECK_OK(dala_admin_review(review, admin, visit, "return", "Мекенжайды нақтылаңыз", "Ж. Омарова"));
    sync_ok(officer);
    sync_ok(beside);
    char *json = NULL;
    CHECK_OK(dala_record_get_json(&json, officer, review));
    CHECK_CONTAINS(json, "\"table\":\"review\"");
    CHECK_CONTAINS(json, "\"comment\":\"Мекенжайды нақтылаңыз\"");
    CHECK_CONTAINS(json, visit);
    dala_free(json);
    json = NULL;
    CHECK_EQ_INT(dala_record_get_json(&json, beside, review), DALA_ENOTFOUND);
    /* Tablets read decisions; they do not make them. */
    CHECK_EQ_INT(dala_record_put(NULL, officer, "review", NULL, "{\"decision\": \"approve\"}"), DALA_EINVAL);
done:
    dala_admin_close(admin);
    dala_store_close(officer);
    dala_store_close(beside);
    harness_stop(&h);
}

const dala_test domain_sync_tests[] = {
    {"domain_sync_review_decision_reaches_the_officers_tablet_only",
     test_domain_sync_review_decision_reaches_the_officers_tablet_only},
    {"domain_sync_published_forms_reach_tablets_below_and_not_beside",
     test_domain_sync_published_forms_reach_tablets_below_and_not_beside},
    {"domain_sync_response_to_version_1_is_accepted_after_version_2_is_published",
     test_domain_sync_response_to_version_1_is_accepted_after_version_2_is_published},
    {"domain_sync_tablet_of_schema_1_keeps_syncing_with_a_schema_2_server",
     test_domain_sync_tablet_of_schema_1_keeps_syncing_with_a_schema_2_server},
    {"domain_sync_tablets_too_old_or_too_new_are_told_why_and_keep_their_changes",
     test_domain_sync_tablets_too_old_or_too_new_are_told_why_and_keep_their_changes},
    {"domain_sync_server_refuses_each_bad_change_with_its_reason_and_keeps_the_rest",
     test_domain_sync_server_refuses_each_bad_change_with_its_reason_and_keeps_the_rest},
    {"domain_sync_references_reach_only_records_the_tablet_may_see",
     test_domain_sync_references_reach_only_records_the_tablet_may_see},
    {"domain_sync_anonymous_response_naming_a_person_is_refused_by_the_server",
     test_domain_sync_anonymous_response_naming_a_person_is_refused_by_the_server},
    {NULL, NULL},
};
