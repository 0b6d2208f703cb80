/* model.c - the battery's model of what every record must end up as: the
 * fields its owner tablet wrote, later edits merged over them (json_patch),
 * its unit, its owner and how many writes it took. Tablets write from
 * their own threads, so the model has a lock; lookups go through a small
 * open-addressing hash of the ids (a run holds tens of thousands). */
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void model_init(model *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
}

void model_free(model *m)
{
    for (size_t i = 0; i < m->count; i++) free(m->entries[i].json);
    free(m->entries);
    free(m->slots);
    pthread_mutex_destroy(&m->lock);
    memset(m, 0, sizeof *m);
}

/* FNV-1a of the id text. */
static size_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ull;
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 1099511628211ull;
    return (size_t)h;
}

static long slot_of(const model *m, const char *id)
{
    if (!m->slot_count) return -1;
    for (size_t s = id_hash(id) & (m->slot_count - 1);; s = (s + 1) & (m->slot_count - 1)) {
        long i = m->slots[s];
        if (i < 0 || strcmp(m->entries[i].id, id) == 0) return (long)s;
    }
}

/* Doubles the hash when it is half full (and makes it the first time). */
static int grow_slots(model *m)
{
    if (m->slot_count && m->count * 2 < m->slot_count) return 0;
    size_t count = m->slot_count ? m->slot_count * 2 : 1024;
    long *slots = malloc(count * sizeof *slots);
    if (!slots) return -1;
    for (size_t s = 0; s < count; s++) slots[s] = -1;
    free(m->slots);
    m->slots = slots;
    m->slot_count = count;
    for (size_t i = 0; i < m->count; i++) m->slots[slot_of(m, m->entries[i].id)] = (long)i;
    return 0;
}

void model_write(model *m, const char *id, int64_t unit, int owner, const char *fields_json)
{
    pthread_mutex_lock(&m->lock);
    long s = grow_slots(m) ? -1 : slot_of(m, id);
    if (s < 0) {
        torture_fail("model: out of memory");
    } else if (m->slots[s] >= 0) {
        model_entry *e = &m->entries[m->slots[s]];
        char *merged = SQL_TEXT("SELECT json_patch(?1, ?2)", e->json, fields_json);
        if (merged) {
            free(e->json);
            e->json = merged;
        }
        e->writes++;
    } else {
        if (m->count == m->alloc) {
            size_t alloc = m->alloc ? m->alloc * 2 : 1024;
            model_entry *entries = realloc(m->entries, alloc * sizeof *entries);
            if (!entries) {
                pthread_mutex_unlock(&m->lock);
                torture_fail("model: out of memory");
                return;
            }
            m->entries = entries;
            m->alloc = alloc;
        }
        model_entry *e = &m->entries[m->count];
        memset(e, 0, sizeof *e);
        snprintf(e->id, sizeof e->id, "%s", id);
        e->json = strdup(fields_json);
        e->unit = unit;
        e->owner = owner;
        e->writes = 1;
        m->slots[s] = (long)m->count++;
    }
    pthread_mutex_unlock(&m->lock);
}

const model_entry *model_find(model *m, const char *id)
{
    pthread_mutex_lock(&m->lock);
    long s = slot_of(m, id);
    const model_entry *e = s >= 0 && m->slots[s] >= 0 ? &m->entries[m->slots[s]] : NULL;
    pthread_mutex_unlock(&m->lock);
    return e;
}
