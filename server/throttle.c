/* throttle.c - counting failed attempts (enrolment codes, sign-ins) per key
 * (an address, a login) in a small fixed table, so codes and passwords
 * cannot be guessed at speed. A key is blocked once it reaches the limit
 * within the window, until the window that began with its first failure
 * passes. When the table is full the oldest window gives way.
 *
 * A check that takes time (a PBKDF2 hash) reserves its attempt first:
 * throttle_reserve counts it as failed in the same locked step that
 * checks the limit, and throttle_give_back returns it when it did not fail.
 * So however many requests run at once, no more than the limit reach the
 * check in a window; checking first and counting after the slow part let
 * every request in flight through.
 *
 * The keys that are addresses are the client's as server_client_addr
 * finds it (behind a trusted proxy, the real client's, not the proxy's),
 * and each throttle counts the requests it turned away, for /metrics. */
#include "server_int.h"

#include <stdio.h>
#include <string.h>

void throttle_init(throttle *t, int max_failures, int window_seconds)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    t->max_failures = max_failures;
    t->window_seconds = window_seconds;
    atomic_init(&t->refused_count, 0);
}

void throttle_destroy(throttle *t)
{
    pthread_mutex_destroy(&t->lock);
}

/* The slot of `key`, started afresh when its window has passed. */
static throttle_slot *slot_for(throttle *t, const char *key, time_t now)
{
    int free_slot = -1, oldest = 0;
    for (int i = 0; i < THROTTLE_SLOTS; i++) {
        throttle_slot *s = &t->slots[i];
        if (s->key[0] && strcmp(s->key, key) == 0) {
            if (now - s->window_start >= t->window_seconds) {
                s->failures = 0;
                s->window_start = now;
            }
            return s;
        }
        if (!s->key[0] && free_slot < 0) free_slot = i;
        if (s->window_start < t->slots[oldest].window_start) oldest = i;
    }
    throttle_slot *s = &t->slots[free_slot >= 0 ? free_slot : oldest];
    snprintf(s->key, sizeof s->key, "%s", key);
    s->failures = 0;
    s->window_start = now;
    return s;
}

/* The seconds `s` must wait, at least 1, or 0 if it may try; under the lock. */
static int wait_of(const throttle *t, const throttle_slot *s, time_t now)
{
    if (s->failures < t->max_failures) return 0;
    int wait = (int)(s->window_start + t->window_seconds - now);
    return wait > 0 ? wait : 1;
}

int throttle_blocked(throttle *t, const char *key, time_t now)
{
    pthread_mutex_lock(&t->lock);
    int wait = wait_of(t, slot_for(t, key, now), now);
    pthread_mutex_unlock(&t->lock);
    if (wait) atomic_fetch_add_explicit(&t->refused_count, 1, memory_order_relaxed);
    return wait;
}

int throttle_reserve(throttle *t, const char *key, time_t now, time_t *window_out)
{
    pthread_mutex_lock(&t->lock);
    throttle_slot *s = slot_for(t, key, now);
    int wait = wait_of(t, s, now);
    if (!wait) s->failures++;
    *window_out = s->window_start;
    pthread_mutex_unlock(&t->lock);
    if (wait) atomic_fetch_add_explicit(&t->refused_count, 1, memory_order_relaxed);
    return wait;
}

void throttle_give_back(throttle *t, const char *key, time_t window)
{
    pthread_mutex_lock(&t->lock);
    for (int i = 0; i < THROTTLE_SLOTS; i++) {
        throttle_slot *s = &t->slots[i];
        /* Only into the window it was taken from: a window started since
         * (or a slot given to another key) holds none of it. */
        if (!s->key[0] || strcmp(s->key, key) != 0) continue;
        if (s->window_start == window && s->failures > 0) s->failures--;
        break; /* a key has one slot */
    }
    pthread_mutex_unlock(&t->lock);
}

void throttle_fail(throttle *t, const char *key, time_t now)
{
    pthread_mutex_lock(&t->lock);
    slot_for(t, key, now)->failures++;
    pthread_mutex_unlock(&t->lock);
}
