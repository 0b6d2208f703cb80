/* hlc.c - the hybrid logical clock that orders every change in Dala.
 *
 * A timestamp is 48 bits of Unix milliseconds and a 16-bit counter. It
 * follows the wall clock while the wall clock moves forward, and counts
 * within a millisecond (or while the wall clock stands still or steps
 * back), so timestamps from one clock are strictly increasing and a
 * received timestamp always orders before what the receiver issues next.
 * A received timestamp too far ahead of local time is refused instead of
 * adopted, so one tablet with its clock set a year ahead cannot make every
 * later timestamp, and so every later merge, follow it. */
#include "sync_int.h"

#include <time.h>

void dala_hlc_init(dala_hlc *clock, uint64_t saved_state)
{
    clock->last = saved_state;
    clock->max_drift_ms = DALA_HLC_DEFAULT_MAX_DRIFT_MS;
}

uint64_t dala_hlc_state(const dala_hlc *clock)
{
    return clock->last;
}

uint64_t dala_wall_clock_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

/* The smallest timestamp greater than both `floor` and the wall clock's
 * (wall_ms, 0); DALA_ELIMIT if there is none within 64 bits. */
static int next_after(uint64_t *out, uint64_t floor, uint64_t wall_ms)
{
    uint64_t wall = DALA_HLC_MAKE(wall_ms, 0);
    if (wall > floor) {
        *out = wall;
        return DALA_OK;
    }
    if (floor == UINT64_MAX)
        return dala_error_set(DALA_ELIMIT, "advance clock: timestamp space exhausted");
    /* Counter overflow carries into the milliseconds, which stays ordered. */
    *out = floor + 1;
    return DALA_OK;
}

int dala_hlc_now(uint64_t *out, dala_hlc *clock, uint64_t wall_ms)
{
    if (wall_ms > DALA_HLC_MAX_MS)
        return dala_error_set(DALA_EINVAL, "read clock: wall time %llu ms does not fit in 48 bits",
                              (unsigned long long)wall_ms);
    uint64_t next = 0;
    int rc = next_after(&next, clock->last, wall_ms);
    if (rc) return rc;
    clock->last = next;
    *out = next;
    return DALA_OK;
}

int dala_hlc_receive(uint64_t *out, dala_hlc *clock, uint64_t remote, uint64_t wall_ms)
{
    if (wall_ms > DALA_HLC_MAX_MS)
        return dala_error_set(DALA_EINVAL, "read clock: wall time %llu ms does not fit in 48 bits",
                              (unsigned long long)wall_ms);
    uint64_t remote_ms = DALA_HLC_MS(remote);
    if (remote_ms > wall_ms && remote_ms - wall_ms > clock->max_drift_ms)
        return dala_error_set(DALA_ECLOCK,
                              "receive timestamp: %llu ms ahead of local time, more than the %llu ms "
                              "allowed; the sender's clock is wrong",
                              (unsigned long long)(remote_ms - wall_ms),
                              (unsigned long long)clock->max_drift_ms);
    uint64_t floor = remote > clock->last ? remote : clock->last;
    uint64_t next = 0;
    int rc = next_after(&next, floor, wall_ms);
    if (rc) return rc;
    clock->last = next;
    *out = next;
    return DALA_OK;
}
