/* clock.c - the tablet's clock, and changes stamped by a wrong one.
 *
 * A tablet's wall clock can be days off (a drained battery, a hand-set
 * date) and the officer may fix it at any moment. The server refuses a
 * change stamped more than the drift bound (5 minutes) ahead of its own
 * clock, and a change stamped behind loses to every edit made since. So
 * each sync answer carries the server's time; the tablet keeps it with a
 * reading of the boot clock (CLOCK_BOOTTIME, which nobody sets and which
 * counts through sleep) and the boot's id. While the tablet stays up, its
 * time is the server's time carried forward by the boot clock, whatever the
 * wall clock says; after a reboot it falls back to the wall clock until
 * the next sync.
 *
 * Changes captured under a wall clock too far ahead are stamped again at
 * the next sync, before they are numbered into a batch (and when the
 * server refuses one with DALA_ECLOCK): the change keeps its fields and
 * bases, and the record its values; only the version moves to now. They
 * were never accepted anywhere, so no one else holds the old version. */
#include "sdk_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

static uint64_t boot_clock_ms(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_BOOTTIME, &now) != 0) return 0;
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}

/* The boot's id as a number (a hash of the kernel's boot_id), 0 if unknown;
 * read once per process, since a process never outlives its boot. */
static int64_t boot_id_read(void)
{
    char text[64] = "";
    FILE *file = fopen(BOOT_ID_PATH, "r");
    if (!file) return 0;
    if (!fgets(text, sizeof text, file)) text[0] = 0;
    fclose(file);
    uint64_t hash = 1469598103934665603u; /* FNV-1a */
    for (const char *c = text; *c && *c != '\n'; c++) hash = (hash ^ (uint8_t)*c) * 1099511628211u;
    return text[0] ? (int64_t)(hash >> 1) : 0;
}

static pthread_once_t boot_id_once = PTHREAD_ONCE_INIT;
static int64_t boot_id_value;

static void boot_id_load(void)
{
    boot_id_value = boot_id_read();
}

static int64_t boot_id(void)
{
    pthread_once(&boot_id_once, boot_id_load);
    return boot_id_value;
}

/* What the last sync learned of the server's clock, kept in one meta row
 * ("clock": "<server ms> <boot clock ms> <boot id> <skew ms>") so a sync
 * writes it in one statement. */
typedef struct clock_reference {
    int64_t server_ms, boot_ms, boot, skew_ms;
} clock_reference;

static int reference_read(clock_reference *out, sqlite3 *db)
{
    uint8_t *text = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    int rc = dala_meta_get_bytes(&text, &len, db, "clock");
    long long server_ms, boot_ms, boot, skew_ms;
    if (!rc && text && sscanf((const char *)text, "%lld %lld %lld %lld", &server_ms, &boot_ms, &boot, &skew_ms) == 4)
        *out = (clock_reference){server_ms, boot_ms, boot, skew_ms};
    free(text);
    return rc;
}

int dala_device_clock_ms(uint64_t *out, sqlite3 *db)
{
    clock_reference ref;
    *out = dala_wall_clock_ms();
    int rc = reference_read(&ref, db);
    if (rc || ref.server_ms <= 0 || ref.boot == 0 || ref.boot != boot_id()) return rc;
    uint64_t now = boot_clock_ms();
    if (now >= (uint64_t)ref.boot_ms) *out = (uint64_t)ref.server_ms + (now - (uint64_t)ref.boot_ms);
    return DALA_OK;
}

int dala_clock_skew_ms(int64_t *out, sqlite3 *db)
{
    clock_reference ref;
    int rc = reference_read(&ref, db);
    *out = ref.skew_ms;
    return rc;
}

int dala_clock_observe(int64_t *skew_ms_out, sqlite3 *db, uint64_t server_time_ms, uint64_t sent_boot_ms)
{
    *skew_ms_out = 0;
    if (server_time_ms == 0) return DALA_OK;
    uint64_t now_boot = boot_clock_ms(), now_wall = dala_wall_clock_ms();
    /* The server answered somewhere in the round trip: take its middle. */
    uint64_t half_trip = now_boot >= sent_boot_ms ? (now_boot - sent_boot_ms) / 2 : 0;
    uint64_t server_now = server_time_ms + half_trip;
    *skew_ms_out = (int64_t)(now_wall - server_now);
    char text[96];
    snprintf(text, sizeof text, "%lld %lld %lld %lld", (long long)server_now, (long long)now_boot,
             (long long)boot_id(), (long long)*skew_ms_out);
    return dala_meta_set_text(db, "clock", text);
}

uint64_t dala_boot_clock_ms(void)
{
    return boot_clock_ms();
}

/* Stamps outbox entry `outbox_id` again from `clock` at `now_ms`, above
 * each of its bases; moved[moved_count] gets {old version, new version}.
 * `moved` maps the versions stamped again before it, so a later edit's
 * base follows its earlier write. The record's fields of the old version
 * take the new one. */
static int restamp_entry(uint64_t (*moved)[2], size_t moved_count, sqlite3 *db, int64_t outbox_id,
                         dala_hlc *clock, uint64_t now_ms)
{
    uint64_t *old_hlc_out = &moved[moved_count][0], hlc = 0;
    dala_batch *part = NULL;
    dala_buf encoded = DALA_BUF_INIT;
    dala_record record = DALA_RECORD_INIT;
    char *table = NULL, record_id[DALA_ID_TEXT_BYTES] = "";
    uint64_t unit_id = 0;
    sqlite3_stmt *read = NULL, *write = NULL;
    int rc = dala_db_prepare(&read, db, "SELECT record_id, change FROM outbox WHERE id = ?1");
    if (rc) return rc;
    sqlite3_bind_int64(read, 1, outbox_id);
    int step = sqlite3_step(read);
    if (step != SQLITE_ROW) rc = dala_db_error(db, step, "read a change to stamp again");
    if (!rc) {
        snprintf(record_id, sizeof record_id, "%s", (const char *)sqlite3_column_text(read, 0));
        rc = dala_batch_decode(&part, sqlite3_column_blob(read, 1), (size_t)sqlite3_column_bytes(read, 1), 1);
    }
    dala_change *change = rc ? NULL : &part->changes[0];
    if (!rc) {
        *old_hlc_out = change->hlc;
        uint64_t floor = 0;
        for (size_t f = 0; f < change->field_count; f++) {
            for (size_t m = 0; m < moved_count; m++)
                if (change->fields[f].base_hlc == moved[m][0]) change->fields[f].base_hlc = moved[m][1];
            if (change->fields[f].base_hlc > floor) floor = change->fields[f].base_hlc;
        }
        if (floor > clock->last) clock->last = floor; /* every base below the new version */
        rc = dala_hlc_now(&hlc, clock, now_ms);
        change->hlc = moved[moved_count][1] = hlc;
        if (!rc) rc = dala_batch_encode(&encoded, part->schema_version, 0, change, 1);
    }
    if (!rc) rc = dala_db_prepare(&write, db, "UPDATE outbox SET hlc = ?2, change = ?3, state = 'pending', "
                                              "batch_seq = NULL, batch_index = NULL, reject_code = NULL, "
                                              "reject_reason = NULL WHERE id = ?1");
    if (!rc) {
        sqlite3_bind_int64(write, 1, outbox_id);
        sqlite3_bind_int64(write, 2, (sqlite3_int64)hlc);
        sqlite3_bind_blob(write, 3, encoded.data, (int)encoded.len, SQLITE_STATIC);
        rc = dala_db_step_done(write, "stamp a change again");
    }
    if (!rc) rc = dala_record_load(&table, &unit_id, &record, db, record_id);
    for (size_t i = 0; !rc && i < record.field_count; i++) {
        dala_record_field *field = &record.fields[i];
        if (field->version.hlc == *old_hlc_out && field->version.device_id == change->device_id)
            field->version.hlc = hlc;
    }
    if (!rc) rc = dala_record_store(db, record_id, table, unit_id, &record);
    sqlite3_finalize(read);
    sqlite3_finalize(write);
    free(table);
    dala_record_clear(&record);
    dala_buf_free(&encoded);
    dala_batch_free(part);
    return rc;
}

/* The ids of the pending, unnumbered entries stamped after `limit`. */
static int entries_ahead(int64_t **ids_out, size_t *count_out, sqlite3 *db, uint64_t limit)
{
    sqlite3_stmt *stmt;
    size_t alloc = 0;
    *ids_out = NULL;
    *count_out = 0;
    int rc = dala_db_prepare(&stmt, db, "SELECT id FROM outbox WHERE state = 'pending' "
                                        "AND batch_seq IS NULL AND hlc > ?1 ORDER BY id");
    if (rc) return rc;
    sqlite3_bind_int64(stmt, 1, (sqlite3_int64)limit);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*count_out == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            int64_t *grown = realloc(*ids_out, alloc * sizeof *grown);
            if (!grown) {
                rc = dala_error_set(DALA_ENOMEM, "stamp changes again: out of memory");
                break;
            }
            *ids_out = grown;
        }
        (*ids_out)[(*count_out)++] = sqlite3_column_int64(stmt, 0);
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE) rc = dala_db_error(db, step, "read outbox");
    sqlite3_finalize(stmt);
    return rc;
}

int dala_clock_restamp(uint64_t *restamped_out, sqlite3 *db)
{
    uint64_t now_ms;
    int64_t *ids = NULL;
    size_t count = 0;
    *restamped_out = 0;
    int rc = dala_device_clock_ms(&now_ms, db);
    /* Half the server's bound: what passes here passes there too. */
    if (!rc) rc = entries_ahead(&ids, &count, db, DALA_HLC_MAKE(now_ms + DALA_HLC_DEFAULT_MAX_DRIFT_MS / 2, 0xffff));
    uint64_t(*moved)[2] = !rc && count ? calloc(count, sizeof *moved) : NULL;
    if (!rc && count && !moved) rc = dala_error_set(DALA_ENOMEM, "stamp changes again: out of memory");
    dala_hlc clock;
    dala_hlc_init(&clock, 0);
    for (size_t i = 0; !rc && i < count; i++) rc = restamp_entry(moved, i, db, ids[i], &clock, now_ms);
    /* The persisted clock was pushed ahead by the wrong stamps: bring it back. */
    if (!rc && count) rc = dala_meta_set_int(db, "hlc", (int64_t)dala_hlc_state(&clock));
    if (!rc) *restamped_out = count;
    free(moved);
    free(ids);
    return rc;
}
