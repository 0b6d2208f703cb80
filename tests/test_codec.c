/* test_codec.c - the batch codec: round trips, canonical bytes pinned by
 * tests/vectors/batch.txt, and strict refusal of every malformed input
 * (truncation at every length, trailing bytes, unknown versions, lying
 * counts, bad names, bad UTF-8, non-canonical bases). */
#include "codec_sample.h"
#include "dala_sync.h"
#include "testhelp.h"
#include "vector_file.h"

#include <stdio.h>
#include <stdlib.h>

static void encode_sample(dala_buf *out)
{
    dala_change changes[CODEC_SAMPLE_CHANGES];
    codec_sample_changes(changes);
    CHECK_OK(dala_batch_encode(out, CODEC_SAMPLE_SCHEMA_VERSION, CODEC_SAMPLE_BATCH_SEQ, changes,
                               CODEC_SAMPLE_CHANGES));
}

static int values_equal(const dala_value *a, const dala_value *b)
{
    if (a->type != b->type) return 0;
    switch (a->type) {
    case DALA_VALUE_INT: return a->integer == b->integer;
    case DALA_VALUE_REAL: return memcmp(&a->real, &b->real, sizeof a->real) == 0;
    case DALA_VALUE_TEXT:
    case DALA_VALUE_BLOB: return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
    default: return 1;
    }
}

static void test_codec_round_trips_the_sample_batch(void)
{
    dala_buf bytes = DALA_BUF_INIT;
    dala_batch *batch = NULL;
    dala_change expected[CODEC_SAMPLE_CHANGES];
    codec_sample_changes(expected);
    encode_sample(&bytes);
    CHECK_OK(dala_batch_decode(&batch, bytes.data, bytes.len, 100));
    if (batch) {
        CHECK_EQ_INT(batch->schema_version, CODEC_SAMPLE_SCHEMA_VERSION);
        CHECK_EQ_U64(batch->batch_seq, CODEC_SAMPLE_BATCH_SEQ);
        CHECK_EQ_INT(batch->change_count, CODEC_SAMPLE_CHANGES);
        for (size_t c = 0; c < CODEC_SAMPLE_CHANGES && c < batch->change_count; c++) {
            const dala_change *got = &batch->changes[c], *want = &expected[c];
            CHECK_EQ_STR(got->table, want->table);
            CHECK_EQ_MEM(got->record_id, want->record_id, 16);
            CHECK_EQ_U64(got->hlc, want->hlc);
            CHECK_EQ_U64(got->device_id, want->device_id);
            CHECK_EQ_INT(got->field_count, want->field_count);
            for (size_t f = 0; f < got->field_count && f < want->field_count; f++) {
                CHECK_EQ_STR(got->fields[f].name, want->fields[f].name);
                CHECK_EQ_U64(got->fields[f].base_hlc, want->fields[f].base_hlc);
                CHECK(values_equal(&got->fields[f].value, &want->fields[f].value));
            }
        }
    }
    dala_batch_free(batch);
    dala_buf_free(&bytes);
}

static void test_codec_matches_the_committed_vector(void)
{
    dala_buf bytes = DALA_BUF_INIT, vector = DALA_BUF_INIT;
    encode_sample(&bytes);
    CHECK_OK(vector_file_read(&vector, test_data_path("vectors/batch.txt"), "sample_batch"));
    CHECK_EQ_INT(bytes.len, vector.len);
    if (bytes.len == vector.len) CHECK_EQ_MEM(bytes.data, vector.data, bytes.len);
    dala_buf_free(&bytes);
    dala_buf_free(&vector);
}

static void test_codec_decode_then_encode_gives_the_same_bytes(void)
{
    dala_buf bytes = DALA_BUF_INIT, again = DALA_BUF_INIT;
    dala_batch *batch = NULL;
    encode_sample(&bytes);
    CHECK_OK(dala_batch_decode(&batch, bytes.data, bytes.len, 100));
    if (batch)
        CHECK_OK(dala_batch_encode(&again, batch->schema_version, batch->batch_seq, batch->changes,
                                   batch->change_count));
    CHECK_EQ_INT(again.len, bytes.len);
    if (again.len == bytes.len) CHECK_EQ_MEM(again.data, bytes.data, bytes.len);
    dala_batch_free(batch);
    dala_buf_free(&bytes);
    dala_buf_free(&again);
}

static void test_codec_rejects_every_truncation(void)
{
    dala_buf bytes = DALA_BUF_INIT;
    encode_sample(&bytes);
    for (size_t len = 0; len < bytes.len; len++) {
        /* A fresh copy of exactly len bytes, so ASan sees any overread. */
        uint8_t *cut = malloc(len ? len : 1);
        memcpy(cut, bytes.data, len);
        dala_batch *batch = (dala_batch *)1;
        int rc = dala_batch_decode(&batch, cut, len, 100);
        if (rc == DALA_OK) test_fail(__FILE__, __LINE__, "truncated to %zu bytes accepted", len);
        CHECK(batch == NULL);
        free(cut);
    }
    dala_buf_free(&bytes);
}

static void test_codec_rejects_trailing_bytes(void)
{
    dala_buf bytes = DALA_BUF_INIT;
    dala_batch *batch = NULL;
    encode_sample(&bytes);
    uint8_t extra = 0;
    CHECK_OK(dala_buf_append(&bytes, &extra, 1));
    CHECK_EQ_INT(dala_batch_decode(&batch, bytes.data, bytes.len, 100), DALA_ECORRUPT);
    CHECK(strstr(dala_errmsg(), "trailing") != NULL);
    dala_buf_free(&bytes);
}

static void test_codec_rejects_an_unknown_codec_version(void)
{
    dala_buf bytes = DALA_BUF_INIT;
    dala_batch *batch = NULL;
    encode_sample(&bytes);
    bytes.data[0] = DALA_CODEC_VERSION + 1;
    CHECK_EQ_INT(dala_batch_decode(&batch, bytes.data, bytes.len, 100), DALA_ESCHEMA);
    CHECK(strstr(dala_errmsg(), "codec version 2") != NULL);
    dala_buf_free(&bytes);
}

static void test_codec_enforces_the_change_limit(void)
{
    dala_buf bytes = DALA_BUF_INIT;
    dala_batch *batch = NULL;
    encode_sample(&bytes);
    CHECK_EQ_INT(dala_batch_decode(&batch, bytes.data, bytes.len, 1), DALA_ELIMIT);
    dala_buf_free(&bytes);
}

static void test_codec_rejects_a_count_the_bytes_cannot_hold(void)
{
    /* version 1, schema 1, seq 0, then 1,000,000 changes in 4 bytes. */
    const uint8_t lying[] = {1, 1, 0, 0xc0, 0x84, 0x3d, 0, 0, 0, 0};
    dala_batch *batch = NULL;
    int rc = dala_batch_decode(&batch, lying, sizeof lying, DALA_MAX_CHANGES_PER_BATCH);
    CHECK(rc == DALA_ELIMIT || rc == DALA_ECORRUPT);
    const uint8_t small_lie[] = {1, 1, 0, 100, 0, 0, 0, 0};
    CHECK_EQ_INT(dala_batch_decode(&batch, small_lie, sizeof small_lie, 1000), DALA_ECORRUPT);
}

static void test_codec_refuses_to_encode_bad_changes(void)
{
    dala_change changes[CODEC_SAMPLE_CHANGES];
    dala_buf out = DALA_BUF_INIT;
    codec_sample_changes(changes);
    changes[0].table = "Field-Visit";
    CHECK_EQ_INT(dala_batch_encode(&out, 1, 1, changes, 1), DALA_EINVAL);
    codec_sample_changes(changes);
    changes[1].hlc = changes[1].fields[0].base_hlc; /* base not older than the edit */
    CHECK_EQ_INT(dala_batch_encode(&out, 1, 1, changes + 1, 1), DALA_EINVAL);
    codec_sample_changes(changes);
    changes[0].field_count = 0;
    CHECK_EQ_INT(dala_batch_encode(&out, 1, 1, changes, 1), DALA_ELIMIT);
    dala_field bad_text = {"findings", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"\xc0\xaf", 2}, 0};
    codec_sample_changes(changes);
    changes[0].fields = &bad_text;
    changes[0].field_count = 1;
    CHECK_EQ_INT(dala_batch_encode(&out, 1, 1, changes, 1), DALA_EINVAL);
    CHECK_EQ_INT(out.len, 0);
    dala_buf_free(&out);
}

/* Finds `needle` in the encoded bytes, for surgical corruption. */
static uint8_t *find_bytes(dala_buf *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= hay->len; i++)
        if (memcmp(hay->data + i, needle, n) == 0) return hay->data + i;
    return NULL;
}

static void test_codec_rejects_bad_names_and_utf8_on_decode(void)
{
    dala_buf bytes = DALA_BUF_INIT;
    dala_batch *batch = NULL;
    encode_sample(&bytes);
    uint8_t *name = find_bytes(&bytes, "latitude");
    CHECK(name != NULL);
    if (name) {
        name[0] = 'L';
        CHECK_EQ_INT(dala_batch_decode(&batch, bytes.data, bytes.len, 100), DALA_ECORRUPT);
        name[0] = 'l';
    }
    uint8_t *text = find_bytes(&bytes, "high");
    CHECK(text != NULL);
    if (text) {
        text[1] = 0xff;
        CHECK_EQ_INT(dala_batch_decode(&batch, bytes.data, bytes.len, 100), DALA_ECORRUPT);
        CHECK(strstr(dala_errmsg(), "UTF-8") != NULL);
    }
    dala_buf_free(&bytes);
}

static void test_codec_rejects_reserved_tag_bits(void)
{
    dala_buf bytes = DALA_BUF_INIT;
    dala_batch *batch = NULL;
    encode_sample(&bytes);
    uint8_t *name = find_bytes(&bytes, "children_count");
    CHECK(name != NULL);
    if (name) {
        uint8_t *tag = name + strlen("children_count");
        CHECK_EQ_INT(*tag, DALA_VALUE_INT);
        *tag |= 0x40;
        CHECK_EQ_INT(dala_batch_decode(&batch, bytes.data, bytes.len, 100), DALA_ECORRUPT);
    }
    dala_buf_free(&bytes);
}

static void test_codec_keeps_shared_bases_compact(void)
{
    /* Twenty fields edited from the same version cost no per-field base. */
    dala_field fields[20];
    char names[20][16];
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof names[i], "f%u", (unsigned)i % 20u);
        fields[i] = (dala_field){names[i], {DALA_VALUE_INT, i, 0, NULL, 0}, DALA_HLC_MAKE(1000, 0)};
    }
    dala_change change = {"field_visit", {0}, DALA_HLC_MAKE(2000, 0), 1, 20, fields};
    dala_buf bytes = DALA_BUF_INIT;
    CHECK_OK(dala_batch_encode(&bytes, 1, 1, &change, 1));
    /* header 4 + table 12 + id 16 + hlc 8 + device 1 + base 4 + count 1
     * + 20 fields of name (3-4) + tag 1 + int 1 */
    CHECK(bytes.len <= 4 + 12 + 16 + 8 + 1 + 5 + 1 + 20 * 6);
    dala_buf_free(&bytes);
}

const dala_test codec_tests[] = {
    {"codec_round_trips_the_sample_batch", test_codec_round_trips_the_sample_batch},
    {"codec_matches_the_committed_vector", test_codec_matches_the_committed_vector},
    {"codec_decode_then_encode_gives_the_same_bytes", test_codec_decode_then_encode_gives_the_same_bytes},
    {"codec_rejects_every_truncation", test_codec_rejects_every_truncation},
    {"codec_rejects_trailing_bytes", test_codec_rejects_trailing_bytes},
    {"codec_rejects_an_unknown_codec_version", test_codec_rejects_an_unknown_codec_version},
    {"codec_enforces_the_change_limit", test_codec_enforces_the_change_limit},
    {"codec_rejects_a_count_the_bytes_cannot_hold", test_codec_rejects_a_count_the_bytes_cannot_hold},
    {"codec_refuses_to_encode_bad_changes", test_codec_refuses_to_encode_bad_changes},
    {"codec_rejects_bad_names_and_utf8_on_decode", test_codec_rejects_bad_names_and_utf8_on_decode},
    {"codec_rejects_reserved_tag_bits", test_codec_rejects_reserved_tag_bits},
    {"codec_keeps_shared_bases_compact", test_codec_keeps_shared_bases_compact},
    {NULL, NULL},
};
