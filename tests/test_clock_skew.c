/* test_clock_skew.c - suite "clock_skew": tablets whose clock is days
 * ahead of or behind the server's. The tablet is the `dala` command run
 * under Debian's faketime (`faketime -f +3d build/dala --store X ...`,
 * installed by scripts/install-deps.sh) against the real server in this
 * process, whose clock is the true one; other tablets are SDK stores in
 * process.
 *
 * What the suite proves:
 * - a tablet days ahead captures records and syncs: none is lost, every
 *   change is delivered, re-stamped from the server's time (no version on
 *   the server is ahead of the server's clock by more than the drift bound
 *   of docs/protocol.md 10.1), nothing stays pending or refused; the
 *   officer is told at once (`dala sync` warns on stderr, naming the
 *   clock; the store's status holds the skew measured); after the clock is
 *   corrected, new records sync too, with no warning;
 * - a tablet days behind: its records are delivered, the officer is told,
 *   and an edit it makes after another tablet's edit of the same field (in
 *   real time) wins once it has learned the server's time;
 * - the SDK reports the skew of the last round trip in
 *   dala_sync_stats.clock_skew_ms (about 0 for a tablet on time).
 *
 * Each test prints one line of figures: changes captured, acknowledged,
 * lost, stuck. Ids and counts only. */
#include "e2e_support.h"

#include "records_gen.h"
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FAKETIME "/usr/bin/faketime"
#define CLI_TIMEOUT_MS 30000
#define DAY_MS (24 * 3600 * 1000LL)
/* The drift bound of docs/protocol.md 10.1 (DALA_HLC_DEFAULT_MAX_DRIFT_MS). */
#define DRIFT_MS (5 * 60 * 1000LL)

/* The tablet run as the `dala` command, its clock shifted by `skew`
 * (a faketime offset such as "+3d"; NULL: the true clock). */
typedef struct cli_tablet {
    const char *dir;
    char store[600], pin_file[600]; /* the store is sealed under CLI_TEST_PIN */
    const char *skew;
    char *out, *err; /* the last run's standard output and error */
} cli_tablet;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    static char text[256 * 1024];
    if (!f) return strdup("");
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return strdup(text);
}

/* Runs `dala --store STORE --pin-file PIN ARGS...` (under faketime when
 * the tablet is skewed); returns its exit status, -1 if it did not run or outlived
 * CLI_TIMEOUT_MS. */
static int cli_run(cli_tablet *t, const char *const *args)
{
    char out_path[700], err_path[700];
    const char *argv[40];
    size_t argc = 0;
    free(t->out);
    free(t->err);
    t->out = t->err = NULL;
    snprintf(out_path, sizeof out_path, "%s/cli-out.txt", t->dir);
    snprintf(err_path, sizeof err_path, "%s/cli-err.txt", t->dir);
    if (t->skew) {
        argv[argc++] = FAKETIME;
        argv[argc++] = "-f";
        argv[argc++] = t->skew;
    }
    argv[argc++] = test_binary_path("dala");
    argv[argc++] = "--store";
    argv[argc++] = t->store;
    argv[argc++] = "--pin-file";
    argv[argc++] = t->pin_file;
    for (size_t i = 0; args[i] && argc < 39; i++) argv[argc++] = args[i];
    argv[argc] = NULL;
    /* Under `make asan` the sanitizer must accept libfaketime preloaded
     * before it; the child inherits this, the test process is unchanged. */
    const char *asan = getenv("ASAN_OPTIONS");
    char *saved = asan ? strdup(asan) : NULL, options[512];
    snprintf(options, sizeof options, "%s%sverify_asan_link_order=0", asan ? asan : "", asan && *asan ? ":" : "");
    if (t->skew) setenv("ASAN_OPTIONS", options, 1);
    int status, rc = run_with_timeout(&status, argv, "/dev/null", out_path, err_path, CLI_TIMEOUT_MS);
    if (t->skew) {
        if (saved) setenv("ASAN_OPTIONS", saved, 1);
        else unsetenv("ASAN_OPTIONS");
    }
    free(saved);
    if (rc) return -1;
    t->out = slurp(out_path);
    t->err = slurp(err_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void cli_free(cli_tablet *t)
{
    free(t->out);
    free(t->err);
    t->out = t->err = NULL;
}

/* The last line of the last run's output (a saved record's id). */
static void cli_last_line(char *out, size_t size, const cli_tablet *t)
{
    const char *text = t->out ? t->out : "";
    const char *end = text + strlen(text);
    while (end > text && end[-1] == '\n') end--;
    const char *start = end;
    while (start > text && start[-1] != '\n') start--;
    snprintf(out, size, "%.*s", (int)(end - start), start);
}

/* Enrols the CLI tablet as officer A's; 0 or -1 after a failed check. */
static int cli_enrol(cli_tablet *t, harness *h, const char *dir, const char *skew)
{
    char code[32];
    memset(t, 0, sizeof *t);
    t->dir = dir;
    t->skew = skew;
    snprintf(t->store, sizeof t->store, "%s/cli-tablet.db", dir);
    snprintf(t->pin_file, sizeof t->pin_file, "%s/cli-tablet.pin", dir);
    if (write_pin_file(t->pin_file, CLI_TEST_PIN)) return -1;
    if (access(FAKETIME, X_OK) != 0) {
        test_fail(__FILE__, __LINE__, "%s is missing: scripts/install-deps.sh installs Debian's faketime", FAKETIME);
        return -1;
    }
    if (harness_code(h, code, h->officer_a, h->unit_a)) return -1;
    const char *enrol[] = {"enroll", "--server", h->url, "--code", code, NULL};
    int status = cli_run(t, enrol);
    if (status != 0) {
        test_fail(__FILE__, __LINE__, "dala enroll under faketime %s exited %d", skew ? skew : "(none)", status);
        return -1;
    }
    return 0;
}

/* Captures `count` field visits with the CLI tablet; adds their ids. */
static void cli_capture(cli_tablet *t, record_set *into, int count)
{
    for (int i = 0; i < count; i++) {
        char id[64];
        const char *args[] = {"capture", "--table", "field_visit", "--set", "visit_date=2024-01-15",
                              "--set", "purpose=preventive_visit", "--set", "risk_level=low", NULL};
        int status = cli_run(t, args);
        if (status != 0) {
            test_fail(__FILE__, __LINE__, "dala capture under faketime %s exited %d", t->skew ? t->skew : "(none)",
                      status);
            return;
        }
        cli_last_line(id, sizeof id, t);
        CHECK_EQ_INT(strlen(id), DALA_ID_TEXT_BYTES - 1);
        set_add(into, id, NULL);
    }
}

/* Whether the last run's standard error warns about the clock. */
static int cli_warned_about_clock(const cli_tablet *t)
{
    return t->err && strcasestr(t->err, "clock") != NULL;
}

/* The CLI tablet's store opened in this process (no `dala` runs meanwhile). */
static dala_store *cli_open(const cli_tablet *t)
{
    dala_store *store = NULL;
    dala_store_key key = {DALA_STORE_KEY_VERSION, CLI_TEST_PIN, NULL, 0};
    CHECK_OK(dala_store_open_keyed(&store, t->store, &key));
    return store;
}

/* The greatest field version (hlc milliseconds) the server holds for
 * record `id`; 0 if it is missing. */
static uint64_t central_latest_ms(const harness *h, const char *id)
{
    uint8_t uuid[DALA_UUID_BYTES];
    sqlite3 *db = central_open(h);
    sqlite3_stmt *stmt;
    uint64_t latest = 0;
    if (!db || dala_uuid_parse(uuid, id) ||
        sqlite3_prepare_v2(db, "SELECT data FROM record WHERE id = ?1", -1, &stmt, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return 0;
    }
    sqlite3_bind_blob(stmt, 1, uuid, DALA_UUID_BYTES, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        dala_record record = DALA_RECORD_INIT;
        if (dala_record_decode(&record, sqlite3_column_blob(stmt, 0), (size_t)sqlite3_column_bytes(stmt, 0)) == DALA_OK)
            for (size_t i = 0; i < record.field_count; i++)
                if (DALA_HLC_MS(record.fields[i].version.hlc) > latest)
                    latest = DALA_HLC_MS(record.fields[i].version.hlc);
        dala_record_clear(&record);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return latest;
}

typedef struct figures {
    size_t captured, acknowledged, lost, stuck;
} figures;

/* Counts, for the records of `captured` (all made on `store`): those on
 * the server, those the store holds as acknowledged, and what is stuck
 * (pending or refused); checks that none is lost or stuck and that no
 * version on the server is ahead of the server's clock. */
static void check_delivered(figures *f, const harness *h, dala_store *store, const record_set *captured)
{
    record_set on_server = {0}, synced = {0};
    central_records(&on_server, h, h->unit_a, GEN_TABLE);
    device_records(&synced, store, DALA_RECORD_SYNCED);
    dala_status status = device_status(store);
    uint64_t now_ms = dala_wall_clock_ms();
    f->captured = captured->count;
    f->lost = f->acknowledged = 0;
    for (size_t i = 0; i < captured->count; i++) {
        if (set_find(&on_server, captured->ids[i]) < 0) {
            if (f->lost < 3) test_fail(__FILE__, __LINE__, "record %s never reached the server", captured->ids[i]);
            f->lost++;
            continue;
        }
        uint64_t latest = central_latest_ms(h, captured->ids[i]);
        if (latest > now_ms + DRIFT_MS)
            test_fail(__FILE__, __LINE__, "record %s is stamped %lld ms ahead of the server's clock", captured->ids[i],
                      (long long)(latest - now_ms));
        if (set_find(&synced, captured->ids[i]) >= 0) f->acknowledged++;
    }
    f->stuck = status.pending_changes + status.rejected_changes;
    CHECK_EQ_U64(f->lost, 0);
    CHECK_EQ_U64(status.pending_changes, 0);
    CHECK_EQ_U64(status.rejected_changes, 0);
    CHECK_EQ_U64(f->acknowledged, captured->count);
    set_free(&on_server);
    set_free(&synced);
}

static void print_figures(const char *test, const figures *f)
{
    printf("    figures: %s: captured %zu, acknowledged %zu, lost %zu, stuck %zu\n", test, f->captured,
           f->acknowledged, f->lost, f->stuck);
}

/* The skew the store measured at its last sync is `want_ms` within a
 * minute. */
static void check_skew_near(dala_store *store, long long want_ms, const char *what)
{
    long long skew = (long long)device_status(store).clock_skew_ms;
    if (llabs(skew - want_ms) > 60 * 1000)
        test_fail(__FILE__, __LINE__, "%s: the store measured a clock skew of %lld ms, expected about %lld", what, skew,
                  want_ms);
}

static void test_clock_skew_tablet_days_ahead_delivers_every_change_and_is_told(void)
{
    harness h;
    cli_tablet t;
    record_set captured = {0};
    dala_store *store = NULL, *other = NULL;
    figures f = {0, 0, 0, 0};
    memset(&t, 0, sizeof t);
    if (harness_start(&h, 0)) return;
    if (cli_enrol(&t, &h, h.dir, "+3d")) goto done;
    cli_capture(&t, &captured, 6);

    const char *sync[] = {"sync", NULL};
    int status = cli_run(&t, sync);
    CHECK_EQ_INT(status, 0);
    if (!cli_warned_about_clock(&t))
        test_fail(__FILE__, __LINE__, "`dala sync` three days ahead printed no warning naming the clock on stderr");
    if (!(store = cli_open(&t))) goto done;
    check_delivered(&f, &h, store, &captured);
    check_skew_near(store, 3 * DAY_MS, "three days ahead");
    dala_store_close(store);
    store = NULL;

    /* The clock corrected: new records sync too, with no warning. */
    t.skew = NULL;
    cli_capture(&t, &captured, 3);
    CHECK_EQ_INT(cli_run(&t, sync), 0);
    CHECK(!cli_warned_about_clock(&t));
    if (!(store = cli_open(&t))) goto done;
    check_delivered(&f, &h, store, &captured);
    check_skew_near(store, 0, "clock corrected");

    /* Another tablet of the unit receives them all. */
    if (!(other = device_enrol(&h, "a2", h.officer_a2, h.unit_a))) goto done;
    sync_ok(other);
    dala_store *devices[] = {store, other};
    check_converged(&h, h.unit_a, &captured, devices, 2);
    print_figures("tablet three days ahead", &f);
done:
    dala_store_close(store);
    dala_store_close(other);
    cli_free(&t);
    set_free(&captured);
    e2e_stop(&h);
}

static void test_clock_skew_tablet_days_behind_delivers_and_its_later_edit_wins(void)
{
    harness h;
    cli_tablet t;
    record_set captured = {0}, all = {0};
    dala_store *store = NULL, *other = NULL;
    figures f = {0, 0, 0, 0};
    char shared[DALA_ID_TEXT_BYTES];
    memset(&t, 0, sizeof t);
    if (harness_start(&h, 0)) return;
    if (!(other = device_enrol(&h, "a2", h.officer_a2, h.unit_a))) goto done;
    if (cli_enrol(&t, &h, h.dir, "-3d")) goto done;

    /* Its own records are delivered; the officer is told. */
    cli_capture(&t, &captured, 4);
    const char *sync[] = {"sync", NULL};
    CHECK_EQ_INT(cli_run(&t, sync), 0);
    if (!cli_warned_about_clock(&t))
        test_fail(__FILE__, __LINE__, "`dala sync` three days behind printed no warning naming the clock on stderr");
    if (!(store = cli_open(&t))) goto done;
    check_delivered(&f, &h, store, &captured);
    check_skew_near(store, -3 * DAY_MS, "three days behind");
    dala_store_close(store);
    store = NULL;

    /* A record both hold; the tablet behind has synced since, so it has
     * seen the server's time. */
    CHECK_OK(dala_record_put(shared, other, GEN_TABLE, NULL, "{" VISIT ", \"risk_level\": \"low\"}"));
    sync_ok(other);
    CHECK_EQ_INT(cli_run(&t, sync), 0);

    /* The tablet on time edits first, the tablet behind a moment later. */
    CHECK_OK(dala_record_put(NULL, other, GEN_TABLE, shared, "{\"risk_level\": \"medium\"}"));
    sync_ok(other);
    usleep(50 * 1000);
    const char *edit[] = {"capture", "--table", "field_visit", "--id", shared, "--set", "risk_level=high", NULL};
    CHECK_EQ_INT(cli_run(&t, edit), 0);
    CHECK_EQ_INT(cli_run(&t, sync), 0);
    sync_ok(other);

    char *on_server = central_field(&h, shared, "risk_level");
    char *on_other = device_field(other, shared, "risk_level");
    if (!(store = cli_open(&t))) {
        free(on_server);
        free(on_other);
        goto done;
    }
    char *on_behind = device_field(store, shared, "risk_level");
    if (!on_server || strcmp(on_server, "high") != 0)
        test_fail(__FILE__, __LINE__,
                  "the later edit (three days behind) lost to the earlier one: the server holds \"%s\", not \"high\"",
                  on_server ? on_server : "(absent)");
    CHECK_EQ_STR(on_other, "high");
    CHECK_EQ_STR(on_behind, "high");
    free(on_server);
    free(on_other);
    free(on_behind);

    for (size_t i = 0; i < captured.count; i++) set_add(&all, captured.ids[i], NULL);
    set_add(&all, shared, NULL);
    dala_store *devices[] = {store, other};
    check_converged(&h, h.unit_a, &all, devices, 2);
    check_delivered(&f, &h, store, &captured);
    print_figures("tablet three days behind", &f);
done:
    dala_store_close(store);
    dala_store_close(other);
    cli_free(&t);
    set_free(&captured);
    set_free(&all);
    e2e_stop(&h);
}

static void test_clock_skew_sdk_reports_about_zero_for_a_tablet_on_time(void)
{
    harness h;
    record_set captured = {0};
    records_gen gen;
    dala_sync_stats stats;
    figures f = {0, 0, 0, 0};
    if (harness_start(&h, 0)) return;
    records_gen_init(&gen, 77);
    dala_store *store = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    if (!store) goto done;
    capture(&captured, store, &gen, 5);
    memset(&stats, 0x5a, sizeof stats); /* a field left unset shows */
    CHECK_OK(sync_via(store, NULL, 0, &stats));
    if (llabs((long long)stats.clock_skew_ms) > 5000)
        test_fail(__FILE__, __LINE__, "a tablet on time: dala_sync_stats.clock_skew_ms is %lld ms",
                  (long long)stats.clock_skew_ms);
    check_skew_near(store, 0, "on time");
    check_delivered(&f, &h, store, &captured);
    print_figures("tablet on time", &f);
done:
    dala_store_close(store);
    set_free(&captured);
    e2e_stop(&h);
}

const dala_test clock_skew_tests[] = {
    {"clock_skew_tablet_days_ahead_delivers_every_change_and_is_told",
     test_clock_skew_tablet_days_ahead_delivers_every_change_and_is_told},
    {"clock_skew_tablet_days_behind_delivers_and_its_later_edit_wins",
     test_clock_skew_tablet_days_behind_delivers_and_its_later_edit_wins},
    {"clock_skew_sdk_reports_about_zero_for_a_tablet_on_time", test_clock_skew_sdk_reports_about_zero_for_a_tablet_on_time},
    {NULL, NULL},
};
