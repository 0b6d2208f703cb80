/* tablet.c - what a tablet does in the battery: capture generated field
 * visits, edit its own earlier ones (the editor: the edits after creation
 * are what exposed records pulled in part, issue 12), and sync, with each
 * write kept in the model and each session counted in the figures. */
#include "sdk_int.h" /* first: it orders the two headers of result codes; the store's connection */
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keeps the editor's record so it can be edited consistently later. */
static void keep_record(tablet *t, gen_record *rec)
{
    if (t->kept_count == t->kept_alloc) {
        size_t alloc = t->kept_alloc ? t->kept_alloc * 2 : 256;
        gen_record *kept = realloc(t->kept, alloc * sizeof *kept);
        if (!kept) {
            gen_record_free(rec);
            return;
        }
        t->kept = kept;
        t->kept_alloc = alloc;
    }
    t->kept[t->kept_count++] = *rec; /* the record owns its memory; moved */
}

int tablet_capture(tablet *t, int count)
{
    for (int i = 0; i < count; i++) {
        gen_record rec;
        char id[DALA_ID_TEXT_BYTES];
        if (records_gen_next(&t->gen, &rec) != DALA_OK) return DALA_ENOMEM;
        char *json = gen_fields_json(&rec);
        int rc = json ? dala_record_put(id, t->store, GEN_TABLE, rec.id_text, json) : DALA_ENOMEM;
        if (rc) {
            torture_fail("%s: %s: capture of record %s failed: %d (%s)", t->w->name, t->name, rec.id_text, rc,
                         dala_errmsg());
            free(json);
            gen_record_free(&rec);
            return rc;
        }
        model_write(&t->w->model, id, (int64_t)t->unit, t->index, json);
        atomic_fetch_add(&t->w->fig.captured, 1);
        free(json);
        if (t->is_editor) keep_record(t, &rec);
        else gen_record_free(&rec);
    }
    return DALA_OK;
}

int tablet_edit(tablet *t, int count, size_t min_age)
{
    if (!t->is_editor || t->kept_count <= min_age) return DALA_OK;
    size_t eligible = t->kept_count - min_age;
    for (int i = 0; i < count; i++) {
        gen_record *rec = &t->kept[world_random(t->w, eligible)];
        gen_delta *delta = malloc(sizeof *delta);
        if (!delta) return DALA_ENOMEM;
        int rc = records_gen_delta(&t->gen, delta, rec, NULL, 1, 2, t->device_id);
        char *fields = rc ? NULL : SQL_TEXT("SELECT json_remove(?1, '$.id')", delta->json);
        free(delta);
        if (!fields) continue;
        rc = dala_record_put(NULL, t->store, GEN_TABLE, rec->id_text, fields);
        if (rc == DALA_OK) {
            char id[DALA_ID_TEXT_BYTES];
            dala_uuid_format(id, rec->id);
            model_write(&t->w->model, id, (int64_t)t->unit, t->index, fields);
            atomic_fetch_add(&t->w->fig.edited, 1);
        } else if (rc != DALA_EINVAL) { /* a rule may refuse a drawn edit; nothing else may fail */
            torture_fail("%s: %s: edit of record %s failed: %d (%s)", t->w->name, t->name, rec->id_text, rc,
                         dala_errmsg());
            free(fields);
            return rc;
        }
        free(fields);
    }
    return DALA_OK;
}

int tablet_sync(tablet *t, int timeout_ms, uint32_t max_push, uint64_t *elapsed_ms)
{
    dala_sync_options options = DALA_SYNC_OPTIONS_INIT;
    dala_sync_stats stats;
    memset(&stats, 0, sizeof stats);
    options.transport = &t->transport;
    options.max_push_changes = max_push;
    options.timeout_ms = timeout_ms;
    uint64_t started = monotonic_ms();
    int rc = dala_sync(&stats, t->store, &options);
    uint64_t elapsed = monotonic_ms() - started;
    if (elapsed_ms) *elapsed_ms = elapsed;
    figures *fig = &t->w->fig;
    atomic_fetch_add(&fig->sessions, 1);
    atomic_fetch_add(&fig->acked, stats.acked);
    if (rc == DALA_OK) atomic_fetch_add(&fig->sessions_ok, 1);
    else if (rc == DALA_ECONFLICT) atomic_fetch_add(&fig->sessions_conflict, 1);
    else atomic_fetch_add(&fig->sessions_failed, 1);
    t->last_rc = rc;
    return rc;
}

int tablet_reopen(tablet *t)
{
    dala_store_close(t->store);
    t->store = NULL;
    dala_store_key key = {DALA_STORE_KEY_VERSION, t->w->pin, NULL, 0};
    int rc = t->w->pin ? dala_store_open_keyed(&t->store, t->path, &key) : dala_store_open(&t->store, t->path);
    if (rc) torture_fail("%s: %s: the store does not open again: %d (%s)", t->w->name, t->name, rc, dala_errmsg());
    return rc;
}

int tablet_integrity(char *result, size_t size, tablet *t)
{
    sqlite3_stmt *stmt = NULL;
    snprintf(result, size, "(no answer)");
    if (t->store && sqlite3_prepare_v2(t->store->db, "PRAGMA integrity_check", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        snprintf(result, size, "%s", (const char *)sqlite3_column_text(stmt, 0));
    else if (t->store)
        snprintf(result, size, "%s", sqlite3_errmsg(t->store->db));
    sqlite3_finalize(stmt);
    return strcmp(result, "ok") == 0;
}
