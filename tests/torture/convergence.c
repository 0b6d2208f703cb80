/* convergence.c - the check that ends every scenario (issue 12): after
 * clean syncs, every record on every tablet is on the server once with
 * the same values, and with the values its owner wrote (the model); every
 * server record of a unit is whole on each tablet of the unit, a tablet
 * enrolled last included (it catches up over many pages, the way records
 * were pulled in part); nothing is pending or refused; and
 * `PRAGMA integrity_check` is ok on the central database and every store.
 * Differences are reported by record id and field names, never values. */
#include "torture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many lines per kind of difference and tablet. */
#define REPORT_LINES 4

/* The names of the fields whose values differ between two JSON objects
 * (or are on one side only), comma-separated; malloc'd. */
static char *differing_fields(const char *a, const char *b)
{
    return SQL_TEXT("SELECT group_concat(key, ',') FROM ("
                    " SELECT x.key AS key FROM json_each(?1) x WHERE NOT EXISTS (SELECT 1 FROM json_each(?2) y"
                    "  WHERE y.key = x.key AND (y.atom IS x.atom OR (x.type IN ('integer','real') AND"
                    "  y.type IN ('integer','real') AND y.atom = x.atom)))"
                    " UNION SELECT y.key FROM json_each(?2) y WHERE NOT EXISTS (SELECT 1 FROM json_each(?1) x"
                    "  WHERE x.key = y.key))",
                    a, b);
}

/* How many members of `whole` are missing from `part` (0: none). */
static long long missing_members(const char *part, const char *whole)
{
    return int_of_text(SQL_TEXT("SELECT count(*) FROM json_each(?2) y WHERE NOT EXISTS "
                                "(SELECT 1 FROM json_each(?1) x WHERE x.key = y.key)", part, whole));
}

/* Every record of the central database, into `out` (owner -1). */
static int load_server(model *out, const world *w)
{
    sqlite3 *db = central_open(&w->h);
    sqlite3_stmt *stmt;
    if (!db) return -1;
    if (sqlite3_prepare_v2(db, "SELECT id, unit_id, data, tbl FROM record", -1, &stmt, NULL) != SQLITE_OK) {
        torture_fail("%s: cannot read the server's records: %s", w->name, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        char id[DALA_ID_TEXT_BYTES];
        dala_record record = DALA_RECORD_INIT;
        dala_buf json = DALA_BUF_INIT;
        dala_uuid_format(id, sqlite3_column_blob(stmt, 0));
        int rc = dala_record_decode(&record, sqlite3_column_blob(stmt, 2), (size_t)sqlite3_column_bytes(stmt, 2));
        if (!rc) rc = dala_record_to_json(&json, &record);
        if (!rc) rc = dala_buf_append(&json, "", 1);
        if (rc) torture_fail("%s: server record %s does not decode", w->name, id);
        else model_write(out, id, sqlite3_column_int64(stmt, 1), -1, (const char *)json.data);
        const model_entry *e = rc ? NULL : model_find(out, id);
        if (e) snprintf(((model_entry *)e)->table, sizeof e->table, "%s", (const char *)sqlite3_column_text(stmt, 3));
        dala_record_clear(&record);
        dala_buf_free(&json);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return 0;
}

/* `PRAGMA integrity_check` is "ok": of the file at `path` (integrity_of),
 * or through tablet `t`'s open store (sealed ones too) when not NULL. */
static void check_store_integrity(world *w, const char *path, tablet *t, const char *what)
{
    char result[200];
    if (!(t ? tablet_integrity(result, sizeof result, t) : integrity_of(result, sizeof result, path))) {
        atomic_fetch_add(&w->fig.integrity, 1);
        torture_fail("%s: integrity_check of %s is not ok", w->name, what);
    }
}

/* The server against the model: each record written is there once, in its
 * unit, with the values written; nothing else is there; no write was
 * recorded more often than it was made. */
static void check_server(world *w, model *server, sqlite3 *mem)
{
    int reported = 0;
    for (size_t i = 0; i < w->model.count; i++) {
        const model_entry *want = &w->model.entries[i];
        const model_entry *got = model_find(server, want->id);
        if (!got) {
            atomic_fetch_add(&w->fig.lost, 1);
            if (reported++ < REPORT_LINES)
                torture_fail("%s: record %s written by tablet%02d is not on the server", w->name, want->id,
                             want->owner);
        } else if (got->unit != want->unit || json_objects_equal(mem, got->json, "$", want->json, "$") != 1) {
            char *names = differing_fields(got->json, want->json);
            atomic_fetch_add(&w->fig.lost, 1);
            if (reported++ < REPORT_LINES)
                torture_fail("%s: record %s of tablet%02d: the server's differs from what was written in "
                             "fields [%s]%s", w->name, want->id, want->owner, names ? names : "",
                             got->unit != want->unit ? " and in its unit" : "");
            free(names);
        }
    }
    /* No scenario edits one record on two tablets, so a conflict record
     * can only come from a tablet's own change applied again after a newer
     * one: counted as duplicated. Anything else nobody wrote is unwritten. */
    reported = 0;
    for (size_t i = 0; i < server->count; i++)
        if (!model_find(&w->model, server->entries[i].id)) {
            int is_conflict = strcmp(server->entries[i].table, "conflict") == 0;
            atomic_fetch_add(is_conflict ? &w->fig.duplicated : &w->fig.extra, 1);
            if (reported++ < REPORT_LINES)
                torture_fail("%s: the server holds a %s record %s that no tablet wrote%s", w->name,
                             server->entries[i].table, server->entries[i].id,
                             is_conflict ? " (a change applied again after a newer one: no scenario makes "
                                           "concurrent edits)" : "");
        }
    /* One history row per applied write: more rows than writes is a
     * change applied twice. */
    sqlite3 *db = central_open(&w->h);
    sqlite3_stmt *stmt;
    reported = 0;
    if (db && sqlite3_prepare_v2(db, "SELECT record_id, count(*) FROM record_change GROUP BY record_id", -1,
                                 &stmt, NULL) == SQLITE_OK) {
        while (sqlite3_step(stmt) == SQLITE_ROW) {
            char id[DALA_ID_TEXT_BYTES];
            dala_uuid_format(id, sqlite3_column_blob(stmt, 0));
            const model_entry *want = model_find(&w->model, id);
            long long rows = sqlite3_column_int64(stmt, 1);
            if (want && rows > (long long)want->writes) {
                atomic_fetch_add(&w->fig.duplicated, (unsigned long long)(rows - want->writes));
                if (reported++ < REPORT_LINES)
                    torture_fail("%s: record %s: %lld writes recorded on the server, %u made", w->name, id, rows,
                                 want->writes);
            }
        }
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
}

typedef struct tablet_listing {
    model *ids;
    model *pending; /* records with a change not yet acknowledged */
} tablet_listing;

static int list_one(void *context, const dala_record_info *info)
{
    tablet_listing *l = context;
    model_write(l->ids, info->id, (int64_t)info->unit_id, -1, "{}");
    if (info->state != DALA_RECORD_SYNCED) model_write(l->pending, info->id, 0, -1, "{}");
    return 0;
}

/* One tablet against the server: each record it holds is the server's,
 * whole; each record of its unit on the server is on it; nothing stuck. */
static void check_tablet(world *w, tablet *t, model *server, sqlite3 *mem)
{
    model ids, pending;
    tablet_listing l = {&ids, &pending};
    int partial_lines = 0, missing_lines = 0;
    model_init(&ids);
    model_init(&pending);
    if (dala_record_list(t->store, NULL, list_one, &l) != DALA_OK)
        torture_fail("%s: %s: cannot list its records: %s", w->name, t->name, dala_errmsg());
    for (size_t i = 0; i < ids.count; i++) {
        const char *id = ids.entries[i].id;
        const model_entry *got = model_find(server, id);
        char *json = NULL, *fields = NULL;
        if (model_find(&pending, id)) continue; /* counted as stuck below */
        if (!got) {
            if (!model_find(&w->model, id)) atomic_fetch_add(&w->fig.extra, 1);
            if (partial_lines++ < REPORT_LINES)
                torture_fail("%s: %s holds record %s, which the server lacks", w->name, t->name, id);
            continue;
        }
        if (dala_record_get_json(&json, t->store, id) == DALA_OK) fields = json_get(json, "$.fields");
        if (!fields || json_objects_equal(mem, fields, "$", got->json, "$") != 1) {
            long long missing = fields ? missing_members(fields, got->json) : -1;
            char *names = fields ? differing_fields(fields, got->json) : NULL;
            if (missing != 0) atomic_fetch_add(&w->fig.partial, 1);
            else atomic_fetch_add(&w->fig.differing, 1);
            if (partial_lines++ < REPORT_LINES)
                torture_fail("%s: %s holds record %s %s: fields [%s] differ from the server's", w->name, t->name,
                             id, missing != 0 ? "in part" : "with other values", names ? names : "?");
            free(names);
        }
        free(fields);
        dala_free(json);
    }
    for (size_t i = 0; i < server->count; i++) {
        const model_entry *e = &server->entries[i];
        if (e->unit != (int64_t)t->unit || model_find(&ids, e->id)) continue;
        atomic_fetch_add(&w->fig.partial, 1);
        if (missing_lines++ < REPORT_LINES)
            torture_fail("%s: %s lacks record %s of its unit", w->name, t->name, e->id);
    }
    dala_status status = device_status(t->store);
    if (status.pending_changes || status.rejected_changes) {
        atomic_fetch_add(&w->fig.stuck, status.pending_changes + status.rejected_changes);
        torture_fail("%s: %s has %llu changes pending and %llu refused after the final syncs (last sync: %d)",
                     w->name, t->name, (unsigned long long)status.pending_changes,
                     (unsigned long long)status.rejected_changes, t->last_rc);
    }
    model_free(&ids);
    model_free(&pending);
}

/* Syncs every tablet `rounds` times straight to the server; prints how
 * long they took. */
static void final_syncs(world *w, int rounds)
{
    uint64_t samples[TORTURE_MAX_TABLETS * 4], median, max;
    size_t n = 0;
    if (rounds > 4) rounds = 4;
    for (int round = 0; round < rounds; round++)
        for (size_t i = 0; i < w->tablet_count; i++) {
            tablet *t = w->tablets[i];
            uint64_t elapsed = 0;
            atomic_store(&t->via_port, w->h.port);
            int rc = tablet_sync(t, 30000, 0, &elapsed);
            samples[n++] = elapsed;
            if (elapsed > 30000) atomic_fetch_add(&w->fig.sessions_over_time, 1);
            if (rc)
                torture_fail("%s: final sync %d of %s failed after %llu ms: %d (%s)", w->name, round + 1, t->name,
                             (unsigned long long)elapsed, rc, dala_errmsg());
        }
    latency_summary(samples, n, &median, &max);
    torture_note("%s: %zu clean syncs: median %llu ms, max %llu ms", w->name, n, (unsigned long long)median,
                 (unsigned long long)max);
}

void world_converge(world *w, int rounds)
{
    model server;
    sqlite3 *mem = NULL;
    final_syncs(w, rounds);
    /* A tablet enrolled now catches up on unit 1's whole history. */
    tablet *late = world_add_tablet(w, 0, 0);
    if (late) {
        uint64_t elapsed;
        int rc = tablet_sync(late, 30000, 0, &elapsed);
        if (rc)
            torture_fail("%s: the first sync of %s, enrolled last, failed: %d (%s)", w->name, late->name, rc,
                         dala_errmsg());
    }
    model_init(&server);
    sqlite3_open(":memory:", &mem);
    if (load_server(&server, w) == 0) {
        check_server(w, &server, mem);
        for (size_t i = 0; i < w->tablet_count; i++) check_tablet(w, w->tablets[i], &server, mem);
    }
    check_store_integrity(w, w->h.db_path, NULL, "the central database");
    for (size_t i = 0; i < w->tablet_count; i++)
        check_store_integrity(w, w->tablets[i]->path, w->tablets[i], w->tablets[i]->name);
    torture_note("%s: convergence checked: %zu records on the server, %zu written, %zu tablets", w->name,
                 server.count, w->model.count, w->tablet_count);
    sqlite3_close(mem);
    model_free(&server);
}
