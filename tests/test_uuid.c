/* test_uuid.c - record ids: strict parsing of canonical text, formatting,
 * and UUIDv7 minting (version, variant, time prefix, uniqueness). */
#include "dala_sync.h"
#include "testhelp.h"

static void test_uuid_parse_and_format_round_trip(void)
{
    uint8_t id[16];
    char text[DALA_UUID_TEXT_LEN + 1];
    CHECK_OK(dala_uuid_parse(id, "0190F1C2-7A3B-7C4D-8E5F-0123456789AB"));
    CHECK_EQ_INT(id[0], 0x01);
    CHECK_EQ_INT(id[15], 0xab);
    dala_uuid_format(text, id);
    CHECK_EQ_STR(text, "0190f1c2-7a3b-7c4d-8e5f-0123456789ab");
}

static void test_uuid_parse_rejects_malformed_text(void)
{
    const char *bad[] = {"", "0190f1c2-7a3b-7c4d-8e5f-0123456789a",
                         "0190f1c2-7a3b-7c4d-8e5f-0123456789abc",
                         "0190f1c2x7a3b-7c4d-8e5f-0123456789ab",
                         "0190f1c2-7a3b-7c4d-8e5f-0123456789ag", "0190f1c27a3b7c4d8e5f0123456789ab"};
    uint8_t id[16];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(dala_uuid_parse(id, bad[i]), DALA_EINVAL);
}

static void test_uuid_v7_has_time_version_and_variant(void)
{
    uint8_t a[16], b[16];
    uint64_t ms = UINT64_C(1764000000000);
    CHECK_OK(dala_uuid_v7(a, ms));
    CHECK_OK(dala_uuid_v7(b, ms));
    uint64_t prefix = 0;
    for (int i = 0; i < 6; i++) prefix = prefix << 8 | a[i];
    CHECK_EQ_U64(prefix, ms);
    CHECK_EQ_INT(a[6] >> 4, 7);
    CHECK_EQ_INT(a[8] >> 6, 2);
    CHECK(memcmp(a, b, 16) != 0);
}

const dala_test uuid_tests[] = {
    {"uuid_parse_and_format_round_trip", test_uuid_parse_and_format_round_trip},
    {"uuid_parse_rejects_malformed_text", test_uuid_parse_rejects_malformed_text},
    {"uuid_v7_has_time_version_and_variant", test_uuid_v7_has_time_version_and_variant},
    {NULL, NULL},
};
