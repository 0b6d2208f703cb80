/* test_hlc.c - the hybrid logical clock: monotonic whatever the wall clock
 * does, restorable from its saved state, and refusing remote timestamps
 * too far in the future. */
#include "dala_sync.h"
#include "testhelp.h"

static void test_hlc_follows_the_wall_clock(void)
{
    dala_hlc clock;
    dala_hlc_init(&clock, 0);
    uint64_t t;
    CHECK_OK(dala_hlc_now(&t, &clock, 1700000000000));
    CHECK_EQ_U64(DALA_HLC_MS(t), 1700000000000);
    CHECK_EQ_U64(DALA_HLC_COUNTER(t), 0);
    CHECK_OK(dala_hlc_now(&t, &clock, 1700000000005));
    CHECK_EQ_U64(t, DALA_HLC_MAKE(1700000000005, 0));
}

static void test_hlc_counts_when_the_wall_clock_stands_or_steps_back(void)
{
    dala_hlc clock;
    dala_hlc_init(&clock, 0);
    uint64_t a, b, c;
    CHECK_OK(dala_hlc_now(&a, &clock, 5000));
    CHECK_OK(dala_hlc_now(&b, &clock, 5000));
    CHECK_OK(dala_hlc_now(&c, &clock, 4000)); /* the tablet's clock was set back */
    CHECK(a < b && b < c);
    CHECK_EQ_U64(c, DALA_HLC_MAKE(5000, 2));
}

static void test_hlc_counter_overflow_carries_into_milliseconds(void)
{
    dala_hlc clock;
    dala_hlc_init(&clock, DALA_HLC_MAKE(5000, 0xffff));
    uint64_t t;
    CHECK_OK(dala_hlc_now(&t, &clock, 5000));
    CHECK_EQ_U64(t, DALA_HLC_MAKE(5001, 0));
}

static void test_hlc_restored_state_never_goes_back(void)
{
    dala_hlc clock;
    dala_hlc_init(&clock, 0);
    uint64_t before, after;
    CHECK_OK(dala_hlc_now(&before, &clock, 9000));
    dala_hlc restored;
    dala_hlc_init(&restored, dala_hlc_state(&clock));
    CHECK_OK(dala_hlc_now(&after, &restored, 100)); /* after a reboot with a wrong clock */
    CHECK(after > before);
}

static void test_hlc_receive_orders_after_the_remote(void)
{
    dala_hlc clock;
    dala_hlc_init(&clock, 0);
    uint64_t remote = DALA_HLC_MAKE(10000, 7), t;
    CHECK_OK(dala_hlc_receive(&t, &clock, remote, 9999)); /* remote 1 ms ahead */
    CHECK(t > remote);
    uint64_t next;
    CHECK_OK(dala_hlc_now(&next, &clock, 9999));
    CHECK(next > t);
}

static void test_hlc_refuses_a_timestamp_too_far_ahead(void)
{
    dala_hlc clock;
    dala_hlc_init(&clock, 0);
    uint64_t wall = 1700000000000, t = 0;
    uint64_t year_ahead = DALA_HLC_MAKE(wall + 365ull * 24 * 3600 * 1000, 0);
    CHECK_EQ_INT(dala_hlc_receive(&t, &clock, year_ahead, wall), DALA_ECLOCK);
    CHECK_EQ_U64(dala_hlc_state(&clock), 0); /* not poisoned */
    CHECK(strstr(dala_errmsg(), "ahead of local time") != NULL);
    uint64_t within = DALA_HLC_MAKE(wall + DALA_HLC_DEFAULT_MAX_DRIFT_MS, 0);
    CHECK_OK(dala_hlc_receive(&t, &clock, within, wall));
}

static void test_hlc_rejects_wall_time_past_48_bits(void)
{
    dala_hlc clock;
    dala_hlc_init(&clock, 0);
    uint64_t t;
    CHECK_EQ_INT(dala_hlc_now(&t, &clock, DALA_HLC_MAX_MS + 1), DALA_EINVAL);
}

static void test_hlc_system_clock_is_plausible(void)
{
    uint64_t now = dala_wall_clock_ms();
    CHECK(now > UINT64_C(1700000000000)); /* after November 2023 */
    CHECK(now < DALA_HLC_MAX_MS);
}

const dala_test hlc_tests[] = {
    {"hlc_follows_the_wall_clock", test_hlc_follows_the_wall_clock},
    {"hlc_counts_when_the_wall_clock_stands_or_steps_back", test_hlc_counts_when_the_wall_clock_stands_or_steps_back},
    {"hlc_counter_overflow_carries_into_milliseconds", test_hlc_counter_overflow_carries_into_milliseconds},
    {"hlc_restored_state_never_goes_back", test_hlc_restored_state_never_goes_back},
    {"hlc_receive_orders_after_the_remote", test_hlc_receive_orders_after_the_remote},
    {"hlc_refuses_a_timestamp_too_far_ahead", test_hlc_refuses_a_timestamp_too_far_ahead},
    {"hlc_rejects_wall_time_past_48_bits", test_hlc_rejects_wall_time_past_48_bits},
    {"hlc_system_clock_is_plausible", test_hlc_system_clock_is_plausible},
    {NULL, NULL},
};
