/* test_record.c - the stored record: compact blob round trips, strict
 * decoding, field-by-field merge of changes with conflicts reported, and
 * JSON output. */
#include "dala_sync.h"
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>

#define TEXT_VALUE(s) {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)(s), strlen(s)}

static void set_text(dala_record *record, const char *name, const char *text, uint64_t hlc,
                     uint64_t device, uint64_t seq)
{
    dala_value value = TEXT_VALUE(text);
    dala_version version = {hlc, device};
    CHECK_OK(dala_record_set(record, name, &value, &version, seq));
}

static void test_record_blob_round_trips(void)
{
    dala_record record = DALA_RECORD_INIT, back = DALA_RECORD_INIT;
    set_text(&record, "risk_level", "high", 500, 2, 9);
    set_text(&record, "address", "Шымкент қ., Тәуке хан даңғылы", 400, 1, 7);
    dala_value count = {DALA_VALUE_INT, -3, 0, NULL, 0};
    dala_version v = {500, 2};
    CHECK_OK(dala_record_set(&record, "children_count", &count, &v, 9));
    dala_buf blob = DALA_BUF_INIT;
    CHECK_OK(dala_record_encode(&blob, &record));
    CHECK_OK(dala_record_decode(&back, blob.data, blob.len));
    CHECK_EQ_INT(back.field_count, 3);
    const dala_record_field *address = dala_record_find(&back, "address");
    CHECK(address != NULL);
    if (address) {
        CHECK_EQ_U64(address->version.hlc, 400);
        CHECK_EQ_U64(address->seq, 7);
    }
    const dala_record_field *children = dala_record_find(&back, "children_count");
    CHECK(children && children->value.integer == -3 && children->version.device_id == 2);
    dala_buf again = DALA_BUF_INIT;
    CHECK_OK(dala_record_encode(&again, &back));
    CHECK_EQ_INT(again.len, blob.len);
    if (again.len == blob.len) CHECK_EQ_MEM(again.data, blob.data, blob.len);
    dala_record_clear(&record);
    dala_record_clear(&back);
    dala_buf_free(&blob);
    dala_buf_free(&again);
}

static void test_record_blob_rejects_truncation_and_disorder(void)
{
    dala_record record = DALA_RECORD_INIT, back = DALA_RECORD_INIT;
    set_text(&record, "a_field", "x", 10, 1, 1);
    set_text(&record, "b_field", "y", 11, 1, 2);
    dala_buf blob = DALA_BUF_INIT;
    CHECK_OK(dala_record_encode(&blob, &record));
    for (size_t len = 0; len < blob.len; len++) {
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, blob.data, len);
        if (dala_record_decode(&back, cut, len) == DALA_OK)
            test_fail(__FILE__, __LINE__, "record cut to %zu bytes accepted", len);
        free(cut);
    }
    /* Swap the names so they no longer ascend. */
    for (size_t i = 0; i + 7 <= blob.len; i++)
        if (memcmp(blob.data + i, "a_field", 7) == 0) blob.data[i] = 'c';
    CHECK_EQ_INT(dala_record_decode(&back, blob.data, blob.len), DALA_ECORRUPT);
    dala_record_clear(&record);
    dala_buf_free(&blob);
}

typedef struct conflict_log {
    int count;
    dala_version winner, loser;
    char loser_text[64];
} conflict_log;

static int log_conflict(void *context, const dala_record_conflict *conflict)
{
    conflict_log *log = context;
    log->count++;
    log->winner = conflict->winner;
    log->loser = conflict->loser;
    snprintf(log->loser_text, sizeof log->loser_text, "%.*s", (int)conflict->loser_value->len,
             (const char *)conflict->loser_value->bytes);
    return 0;
}

static dala_change one_field_change(dala_field *field, uint64_t hlc, uint64_t device)
{
    dala_change change = {"field_visit", {0}, hlc, device, 1, field};
    return change;
}

static void test_record_apply_fast_forwards_and_keeps_conflicts(void)
{
    dala_record record = DALA_RECORD_INIT;
    set_text(&record, "risk_level", "low", 100, 1, 1);
    conflict_log log = {0};
    size_t changed = 0;

    /* Device 2 edits on top of version 100: fast-forward, no conflict. */
    dala_field ff = {"risk_level", TEXT_VALUE("medium"), 100};
    dala_change change = one_field_change(&ff, 200, 2);
    CHECK_OK(dala_record_apply(&changed, &record, &change, 2, log_conflict, &log));
    CHECK_EQ_INT(changed, 1);
    CHECK_EQ_INT(log.count, 0);

    /* Device 3 also edited version 100, later: concurrent, it wins. */
    dala_field newer = {"risk_level", TEXT_VALUE("high"), 100};
    change = one_field_change(&newer, 300, 3);
    CHECK_OK(dala_record_apply(&changed, &record, &change, 3, log_conflict, &log));
    CHECK_EQ_INT(log.count, 1);
    CHECK_EQ_U64(log.loser.hlc, 200);
    CHECK_EQ_STR(log.loser_text, "medium");

    /* Device 4 edited version 100 earlier than both: it loses. */
    dala_field older = {"risk_level", TEXT_VALUE("none"), 100};
    change = one_field_change(&older, 150, 4);
    CHECK_OK(dala_record_apply(&changed, &record, &change, 4, log_conflict, &log));
    CHECK_EQ_INT(changed, 0);
    CHECK_EQ_INT(log.count, 2);
    CHECK_EQ_U64(log.winner.hlc, 300);
    CHECK_EQ_STR(log.loser_text, "none");

    const dala_record_field *risk = dala_record_find(&record, "risk_level");
    CHECK(risk && risk->value.len == 4 && memcmp(risk->value.bytes, "high", 4) == 0);
    CHECK(risk && risk->seq == 3);
    dala_record_clear(&record);
}

static void test_record_json_escapes_and_keeps_kazakh_text(void)
{
    dala_record record = DALA_RECORD_INIT;
    set_text(&record, "findings", "Ол: \"көмек\"\nкерек", 1, 1, 1);
    dala_value real = {DALA_VALUE_REAL, 0, 43.25, NULL, 0};
    dala_version v = {1, 1};
    CHECK_OK(dala_record_set(&record, "latitude", &real, &v, 1));
    dala_value blob = {DALA_VALUE_BLOB, 0, 0, (const uint8_t *)"\x01\x02\x03\x04", 4};
    CHECK_OK(dala_record_set(&record, "photo", &blob, &v, 1));
    dala_buf json = DALA_BUF_INIT;
    CHECK_OK(dala_record_to_json(&json, &record));
    CHECK_OK(dala_buf_append(&json, "", 1));
    CHECK_EQ_STR((const char *)json.data,
                 "{\"findings\":\"Ол: \\\"көмек\\\"\\nкерек\",\"latitude\":43.25,\"photo\":\"AQIDBA==\"}");
    dala_buf_free(&json);
    dala_record_clear(&record);
}

const dala_test record_tests[] = {
    {"record_blob_round_trips", test_record_blob_round_trips},
    {"record_blob_rejects_truncation_and_disorder", test_record_blob_rejects_truncation_and_disorder},
    {"record_apply_fast_forwards_and_keeps_conflicts", test_record_apply_fast_forwards_and_keeps_conflicts},
    {"record_json_escapes_and_keeps_kazakh_text", test_record_json_escapes_and_keeps_kazakh_text},
    {NULL, NULL},
};
