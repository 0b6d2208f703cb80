/* test_compress.c - raw deflate and the capped inflate: round trips, the
 * 16 MiB bomb refused fast, truncated and corrupt streams refused, and
 * trailing bytes refused. */
#include "dala_sync.h"
#include "testhelp.h"

#include <stdlib.h>

static void test_compress_round_trips_kazakh_text(void)
{
    const char *text = "Жәбірленушіге құқықтық көмек көрсетілді. Потерпевшей оказана помощь. ";
    dala_buf plain = DALA_BUF_INIT, packed = DALA_BUF_INIT, back = DALA_BUF_INIT;
    for (int i = 0; i < 50; i++) CHECK_OK(dala_buf_append(&plain, text, strlen(text)));
    CHECK_OK(dala_deflate(&packed, plain.data, plain.len, -1));
    CHECK(packed.len < plain.len / 10);
    CHECK_OK(dala_inflate(&back, packed.data, packed.len, plain.len));
    CHECK_EQ_INT(back.len, plain.len);
    if (back.len == plain.len) CHECK_EQ_MEM(back.data, plain.data, plain.len);
    dala_buf_free(&plain);
    dala_buf_free(&packed);
    dala_buf_free(&back);
}

static void test_compress_round_trips_empty_input(void)
{
    dala_buf packed = DALA_BUF_INIT, back = DALA_BUF_INIT;
    CHECK_OK(dala_deflate(&packed, NULL, 0, 1));
    CHECK_OK(dala_inflate(&back, packed.data, packed.len, 0));
    CHECK_EQ_INT(back.len, 0);
    dala_buf_free(&packed);
    dala_buf_free(&back);
}

static void test_inflate_refuses_a_zero_bomb_fast_in_bounded_memory(void)
{
    size_t bomb_size = (size_t)16 << 20;
    uint8_t *zeros = calloc(1, bomb_size);
    dala_buf bomb = DALA_BUF_INIT, out = DALA_BUF_INIT;
    CHECK_OK(dala_deflate(&bomb, zeros, bomb_size, 9));
    free(zeros);
    CHECK(bomb.len < 20 * 1024); /* ~16 KiB */
    size_t cap = (size_t)1 << 20;
    CHECK_EQ_INT(dala_inflate(&out, bomb.data, bomb.len, cap), DALA_ELIMIT);
    /* Memory stays within the cap plus one step, doubled by the buffer growth. */
    CHECK(out.alloc <= 2 * (cap + (64 << 10)));
    CHECK_EQ_INT(out.len, 0);
    CHECK(strstr(dala_errmsg(), "cap") != NULL);
    dala_buf_free(&bomb);
    dala_buf_free(&out);
}

static void test_inflate_accepts_output_exactly_at_the_cap(void)
{
    uint8_t data[1000];
    memset(data, 'a', sizeof data);
    dala_buf packed = DALA_BUF_INIT, out = DALA_BUF_INIT;
    CHECK_OK(dala_deflate(&packed, data, sizeof data, -1));
    CHECK_OK(dala_inflate(&out, packed.data, packed.len, sizeof data));
    dala_buf_reset(&out);
    CHECK_EQ_INT(dala_inflate(&out, packed.data, packed.len, sizeof data - 1), DALA_ELIMIT);
    dala_buf_free(&packed);
    dala_buf_free(&out);
}

static void test_inflate_rejects_truncated_and_corrupt_streams(void)
{
    const char *text = "Алматы қ., Толе би к., 45. Профилактическая беседа проведена.";
    dala_buf packed = DALA_BUF_INIT, out = DALA_BUF_INIT;
    CHECK_OK(dala_deflate(&packed, (const uint8_t *)text, strlen(text), -1));
    for (size_t len = 0; len < packed.len; len++) {
        dala_buf_reset(&out);
        int rc = dala_inflate(&out, packed.data, len, 4096);
        if (rc != DALA_ECORRUPT) test_fail(__FILE__, __LINE__, "cut at %zu gave %d", len, rc);
    }
    const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff};
    CHECK_EQ_INT(dala_inflate(&out, garbage, sizeof garbage, 4096), DALA_ECORRUPT);
    dala_buf_free(&packed);
    dala_buf_free(&out);
}

static void test_inflate_rejects_trailing_bytes(void)
{
    dala_buf packed = DALA_BUF_INIT, out = DALA_BUF_INIT;
    CHECK_OK(dala_deflate(&packed, (const uint8_t *)"abc", 3, -1));
    uint8_t extra = 0x55;
    CHECK_OK(dala_buf_append(&packed, &extra, 1));
    CHECK_EQ_INT(dala_inflate(&out, packed.data, packed.len, 4096), DALA_ECORRUPT);
    CHECK(strstr(dala_errmsg(), "trailing") != NULL);
    dala_buf_free(&packed);
    dala_buf_free(&out);
}

static void test_deflate_rejects_a_bad_level(void)
{
    dala_buf packed = DALA_BUF_INIT;
    CHECK_EQ_INT(dala_deflate(&packed, (const uint8_t *)"a", 1, 10), DALA_EINVAL);
    dala_buf_free(&packed);
}

const dala_test compress_tests[] = {
    {"compress_round_trips_kazakh_text", test_compress_round_trips_kazakh_text},
    {"compress_round_trips_empty_input", test_compress_round_trips_empty_input},
    {"inflate_refuses_a_zero_bomb_fast_in_bounded_memory", test_inflate_refuses_a_zero_bomb_fast_in_bounded_memory},
    {"inflate_accepts_output_exactly_at_the_cap", test_inflate_accepts_output_exactly_at_the_cap},
    {"inflate_rejects_truncated_and_corrupt_streams", test_inflate_rejects_truncated_and_corrupt_streams},
    {"inflate_rejects_trailing_bytes", test_inflate_rejects_trailing_bytes},
    {"deflate_rejects_a_bad_level", test_deflate_rejects_a_bad_level},
    {NULL, NULL},
};
