/* sessions.c - the short sync sessions dala-server keeps in memory, so a
 * tablet that syncs again within two minutes skips the handshake (about
 * 5.5 ms of X25519 work for both ends) and sends a DATA frame under the
 * transport keys of its last handshake, as WireGuard rekeys every two
 * minutes. One session per device; a request takes its device's session
 * out of the table and puts it back after sealing the answer, so two
 * requests never use one session at once (the second is told to
 * handshake again). Sessions expire after DALA_SESSION_SECONDS or when
 * their frame budget is spent, and their keys are wiped. */
#include "server_int.h"
#include "sync_int.h"

#include <stdlib.h>

typedef struct session_slot {
    int64_t device_id; /* 0: free */
    dala_session *session;
    int64_t expires_ms;
} session_slot;

struct session_table {
    pthread_mutex_t lock;
    size_t capacity;
    session_slot *slots;
};

int session_table_new(session_table **out, size_t capacity)
{
    *out = NULL;
    session_table *table = calloc(1, sizeof *table);
    if (table) table->slots = calloc(capacity, sizeof *table->slots);
    if (!table || !table->slots) {
        free(table);
        return dala_error_set(DALA_ENOMEM, "make session table: out of memory");
    }
    table->capacity = capacity;
    pthread_mutex_init(&table->lock, NULL);
    *out = table;
    return DALA_OK;
}

void session_table_free(session_table *table)
{
    if (!table) return;
    for (size_t i = 0; i < table->capacity; i++) dala_session_free(table->slots[i].session);
    pthread_mutex_destroy(&table->lock);
    free(table->slots);
    free(table);
}

/* The slot of `device_id`, or NULL. Called with the lock held. */
static session_slot *find_slot(session_table *table, int64_t device_id)
{
    size_t start = (size_t)device_id % table->capacity;
    for (size_t i = 0; i < table->capacity; i++) {
        session_slot *slot = &table->slots[(start + i) % table->capacity];
        if (slot->device_id == device_id) return slot;
    }
    return NULL;
}

void session_table_put(session_table *table, int64_t device_id, dala_session *session,
                       int64_t expires_ms, int64_t now_ms)
{
    pthread_mutex_lock(&table->lock);
    session_slot *slot = find_slot(table, device_id);
    if (!slot) {
        /* A free or expired slot near the device's home, else the one
         * expiring first (its device will simply handshake again). */
        size_t start = (size_t)device_id % table->capacity;
        session_slot *oldest = &table->slots[start];
        for (size_t i = 0; i < table->capacity && !slot; i++) {
            session_slot *candidate = &table->slots[(start + i) % table->capacity];
            if (candidate->device_id == 0 || candidate->expires_ms <= now_ms) slot = candidate;
            else if (candidate->expires_ms < oldest->expires_ms) oldest = candidate;
        }
        if (!slot) slot = oldest;
    }
    dala_session_free(slot->session);
    slot->device_id = device_id;
    slot->session = session;
    slot->expires_ms = expires_ms;
    pthread_mutex_unlock(&table->lock);
}

int session_table_take(dala_session **out, int64_t *expires_ms, session_table *table,
                       int64_t device_id, int64_t now_ms)
{
    *out = NULL;
    pthread_mutex_lock(&table->lock);
    session_slot *slot = find_slot(table, device_id);
    dala_session *session = NULL;
    if (slot && slot->session) {
        session = slot->expires_ms > now_ms ? slot->session : NULL;
        if (!session) dala_session_free(slot->session); /* expired: wipe it */
        *expires_ms = slot->expires_ms;
        slot->session = NULL;
        slot->device_id = 0;
    }
    pthread_mutex_unlock(&table->lock);
    if (!session)
        return dala_error_set(DALA_ESESSION, "sync: no live session for device %lld; handshake again",
                              (long long)device_id);
    *out = session;
    return DALA_OK;
}
