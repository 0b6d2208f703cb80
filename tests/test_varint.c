/* test_varint.c - the bounded reader and LEB128 varints every decoder in
 * libdala_sync relies on: round trips at the edges, and the strict refusals
 * (truncated, overlong, past 64 bits, past a limit). */
#include "dala_sync.h"
#include "sync_int.h"
#include "testhelp.h"

static uint64_t decode_one(const uint8_t *bytes, size_t len, int *err)
{
    dala_reader r;
    dala_reader_init(&r, bytes, len, "test varint");
    uint64_t value = dala_read_varint(&r);
    *err = r.err ? r.err : (dala_reader_remaining(&r) ? 1 : 0);
    return value;
}

static void test_varint_round_trips_edge_values(void)
{
    const uint64_t values[] = {0, 1, 127, 128, 255, 16383, 16384, UINT32_MAX,
                               (UINT64_C(1) << 56) - 1, UINT64_C(1) << 63, UINT64_MAX};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        uint8_t bytes[DALA_VARINT_MAX_BYTES];
        size_t len = dala_varint_encode(bytes, values[i]);
        int err;
        CHECK_EQ_U64(decode_one(bytes, len, &err), values[i]);
        CHECK_EQ_INT(err, 0);
    }
}

static void test_varint_rejects_truncation(void)
{
    const uint8_t bytes[] = {0x80, 0x80};
    int err;
    decode_one(bytes, sizeof bytes, &err);
    CHECK_EQ_INT(err, DALA_ECORRUPT);
    decode_one(bytes, 0, &err);
    CHECK_EQ_INT(err, DALA_ECORRUPT);
}

static void test_varint_rejects_overlong_encoding(void)
{
    const uint8_t zero_in_two[] = {0x80, 0x00};
    const uint8_t one_in_three[] = {0x81, 0x80, 0x00};
    int err;
    decode_one(zero_in_two, sizeof zero_in_two, &err);
    CHECK_EQ_INT(err, DALA_ECORRUPT);
    decode_one(one_in_three, sizeof one_in_three, &err);
    CHECK_EQ_INT(err, DALA_ECORRUPT);
}

static void test_varint_rejects_more_than_64_bits(void)
{
    const uint8_t eleven[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    const uint8_t bit_64[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02};
    int err;
    decode_one(eleven, sizeof eleven, &err);
    CHECK_EQ_INT(err, DALA_ECORRUPT);
    decode_one(bit_64, sizeof bit_64, &err);
    CHECK_EQ_INT(err, DALA_ECORRUPT);
}

static void test_reader_limit_is_enforced_and_sticky(void)
{
    uint8_t bytes[4];
    size_t len = dala_varint_encode(bytes, 1000);
    bytes[len] = 7;
    dala_reader r;
    dala_reader_init(&r, bytes, len + 1, "test");
    CHECK_EQ_U64(dala_read_varint_max(&r, 999, "count"), 0);
    CHECK_EQ_INT(r.err, DALA_ELIMIT);
    CHECK_EQ_INT(dala_read_u8(&r), 0); /* the first failure sticks */
    CHECK(strstr(dala_errmsg(), "count is 1000") != NULL);
}

static void test_reader_never_reads_past_the_end(void)
{
    const uint8_t bytes[3] = {1, 2, 3};
    dala_reader r;
    dala_reader_init(&r, bytes, 3, "test");
    CHECK(dala_read_bytes(&r, 4) == NULL);
    CHECK_EQ_INT(r.err, DALA_ECORRUPT);
    dala_reader_init(&r, bytes, 3, "test");
    CHECK_EQ_INT(dala_read_u32be(&r), 0);
    CHECK_EQ_INT(r.err, DALA_ECORRUPT);
}

static void test_utf8_check_accepts_kazakh_and_rejects_malformed(void)
{
    const char *kazakh = "Әлем, ғылым, қала, ңғ, өнер, ұлт, үй, һ, іс";
    CHECK(dala_utf8_is_valid((const uint8_t *)kazakh, strlen(kazakh)));
    const uint8_t overlong_slash[] = {0xc0, 0xaf};
    const uint8_t surrogate[] = {0xed, 0xa0, 0x80};
    const uint8_t past_max[] = {0xf4, 0x90, 0x80, 0x80};
    const uint8_t cut_short[] = {'a', 0xd2};
    CHECK(!dala_utf8_is_valid(overlong_slash, sizeof overlong_slash));
    CHECK(!dala_utf8_is_valid(surrogate, sizeof surrogate));
    CHECK(!dala_utf8_is_valid(past_max, sizeof past_max));
    CHECK(!dala_utf8_is_valid(cut_short, sizeof cut_short));
}

static void test_buf_refuses_to_grow_past_its_cap(void)
{
    dala_buf buf = DALA_BUF_INIT;
    buf.cap_bytes = 100;
    uint8_t bytes[60] = {0};
    CHECK_OK(dala_buf_append(&buf, bytes, sizeof bytes));
    CHECK_EQ_INT(dala_buf_append(&buf, bytes, sizeof bytes), DALA_ELIMIT);
    CHECK_EQ_INT(buf.len, 60);
    dala_buf_free(&buf);
    dala_buf_free(NULL);
}

static void test_strerror_names_every_code(void)
{
    for (int code = DALA_OK; code >= DALA_ESESSION; code--)
        CHECK(strcmp(dala_strerror(code), "unknown error") != 0);
    CHECK_EQ_STR(dala_strerror(-999), "unknown error");
}

const dala_test varint_tests[] = {
    {"varint_round_trips_edge_values", test_varint_round_trips_edge_values},
    {"varint_rejects_truncation", test_varint_rejects_truncation},
    {"varint_rejects_overlong_encoding", test_varint_rejects_overlong_encoding},
    {"varint_rejects_more_than_64_bits", test_varint_rejects_more_than_64_bits},
    {"reader_limit_is_enforced_and_sticky", test_reader_limit_is_enforced_and_sticky},
    {"reader_never_reads_past_the_end", test_reader_never_reads_past_the_end},
    {"utf8_check_accepts_kazakh_and_rejects_malformed", test_utf8_check_accepts_kazakh_and_rejects_malformed},
    {"buf_refuses_to_grow_past_its_cap", test_buf_refuses_to_grow_past_its_cap},
    {"strerror_names_every_code", test_strerror_names_every_code},
    {NULL, NULL},
};
