/* report_cli.c - the report notes on the command line: `dala-server admin
 * report` prints a unit's figures for a quarter as the records give them
 * now (what a draft would hold), or with --reconsolidate takes into a
 * department's consolidated note the unit notes filed since; and
 * `dala-server verify-report` checks a signed note's signature against the
 * note as stored, for whoever receives it. */
#include "report_note.h"
#include "server_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A whole number from a flag; `fallback` when absent, -1 when malformed. */
/* Whether the switch `name` (a flag without a value) is given. */
static int has_switch(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], name) == 0) return 1;
    return 0;
}

static long long flag_number(int argc, char **argv, const char *name, long long fallback)
{
    const char *text = server_cli_flag(argc, argv, name);
    if (!text) return fallback;
    char *end;
    long long n = strtoll(text, &end, 10);
    return *end || end == text ? -1 : n;
}

/* admin report --reconsolidate NOTE --by LOGIN: consolidates a
 * department's note again as LOGIN, a deputy of that department or above
 * it (the move audits itself under their name). */
static int reconsolidate(dala_admin *admin, long long note_id, const char *by)
{
    int64_t user = 0;
    size_t taken_in = 0;
    int rc = dala_admin_user_find(&user, admin, by);
    sqlite3_stmt *stmt = NULL;
    if (!rc && sqlite3_prepare_v2(admin->db,
                                  "WITH RECURSIVE up(id) AS (SELECT unit_id FROM report_note WHERE id = ?2 UNION ALL "
                                  "SELECT o.parent_id FROM org_unit o JOIN up ON o.id = up.id "
                                  "WHERE o.parent_id IS NOT NULL) "
                                  "SELECT 1 FROM app_user WHERE id = ?1 AND role = 'deputy' "
                                  "AND unit_id IN (SELECT id FROM up)",
                                  -1, &stmt, NULL))
        rc = server_db_error(admin->db, "reconsolidate");
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, user);
        sqlite3_bind_int64(stmt, 2, note_id);
        if (sqlite3_step(stmt) != SQLITE_ROW)
            rc = dala_error_set(DALA_EAUTH, "reconsolidate: %s is not a deputy head over note %lld", by, note_id);
    }
    sqlite3_finalize(stmt);
    if (!rc) rc = report_note_reconsolidate(admin->db, note_id, user, (int64_t)time(NULL), &taken_in);
    if (rc) {
        fprintf(stderr, "dala-server admin report: %s\n", dala_errmsg());
        return 1;
    }
    printf("note %lld consolidated again: %zu unit note%s filed since taken in\n", note_id, taken_in,
           taken_in == 1 ? "" : "s");
    return 0;
}

int server_cli_report(dala_admin *admin, int argc, char **argv)
{
    if (server_cli_flag(argc, argv, "--reconsolidate")) {
        long long note_id = flag_number(argc, argv, "--reconsolidate", 0);
        const char *by = server_cli_flag(argc, argv, "--by");
        if (note_id <= 0 || !by) {
            fprintf(stderr, "dala-server admin report: --reconsolidate NOTE-ID --by LOGIN\n");
            return 2;
        }
        return reconsolidate(admin, note_id, by);
    }
    time_t now = time(NULL);
    struct tm today;
    localtime_r(&now, &today);
    const char *unit_name = server_cli_flag(argc, argv, "--unit"), *lang = server_cli_flag(argc, argv, "--lang");
    long long year = flag_number(argc, argv, "--year", today.tm_year + 1900);
    long long quarter = flag_number(argc, argv, "--quarter", today.tm_mon / 3 + 1);
    if (!lang) lang = "kk";
    if (!unit_name || year < 2015 || year > 2100 || quarter < 1 || quarter > 4 ||
        (strcmp(lang, "kk") != 0 && strcmp(lang, "ru") != 0)) {
        fprintf(stderr, "dala-server admin report: --unit CODE|NAME [--year YYYY --quarter 1-4] [--lang kk|ru] [--csv], "
                        "or --reconsolidate NOTE-ID --by LOGIN\n");
        return 2;
    }
    int64_t unit = 0;
    report_figures figures = REPORT_FIGURES_INIT;
    int rc = dala_admin_unit_find(&unit, admin, unit_name);
    if (!rc) rc = report_count(&figures, admin->db, unit, (int)year, (int)quarter, NULL);
    if (rc) {
        fprintf(stderr, "dala-server admin report: %s\n", dala_errmsg());
        report_figures_free(&figures);
        return 1;
    }
    if (has_switch(argc, argv, "--csv")) { /* for scripts: the figures' machine names */
        printf("block,group,value,now,last\n");
        for (size_t i = 0; i < figures.count; i++) {
            const report_figure *f = &figures.items[i];
            printf("%d,%s,%s,%lld,%lld\n", f->block, f->group, f->value, (long long)f->count[REPORT_NOW],
                   (long long)f->count[REPORT_LAST]);
        }
        report_figures_free(&figures);
        return 0;
    }
    report_labeler labels;
    report_labeler_init(&labels, admin->db, lang);
    printf("%s, %lld Q%lld (%lld Q%lld)\n", unit_name, year, quarter, year - 1, quarter);
    for (int block = 1; block <= REPORT_BLOCKS; block++) {
        printf("%d. %s\n", block, report_block_title(block, lang));
        for (size_t i = 0; i < figures.count; i++) {
            const report_figure *f = &figures.items[i];
            if (f->block != block) continue;
            char label[512];
            report_label(label, sizeof label, &labels, f->group, f->value);
            int64_t n = f->count[REPORT_NOW], l = f->count[REPORT_LAST];
            printf("   %6lld %6lld %+6lld  %s\n", (long long)l, (long long)n, (long long)(n - l), label);
        }
    }
    report_labeler_free(&labels);
    report_figures_free(&figures);
    return 0;
}

/* verify-report --file: a signed note's file, with no database. */
static int verify_file(const char *path)
{
    char *json = NULL, summary[512];
    int rc = server_cli_read_file(&json, path, REPORT_BUNDLE_MAX_BYTES);
    if (!rc) rc = report_bundle_verify(summary, sizeof summary, json, strlen(json));
    free(json);
    if (rc) {
        fprintf(stderr, "dala-server verify-report: %s is NOT valid: %s\n", path, dala_errmsg());
        return rc == DALA_EAUTH ? 1 : 3;
    }
    printf("%s: signature valid: %s\n", path, summary);
    return 0;
}

int server_cli_verify_report(int argc, char **argv)
{
    const char *db = server_cli_flag(argc, argv, "--db"), *file = server_cli_flag(argc, argv, "--file");
    long long note_id = flag_number(argc, argv, "--note", 0);
    if (file && !db) return verify_file(file);
    if (!db || note_id <= 0 || file) {
        fprintf(stderr, "dala-server verify-report: --db PATH --note ID, or --file SIGNED-NOTE.json\n");
        return 2;
    }
    dala_admin *admin;
    if (dala_admin_open(&admin, db)) {
        fprintf(stderr, "dala-server verify-report: %s\n", dala_errmsg());
        return 3;
    }
    report_note note;
    int rc = report_note_verify(admin->db, note_id);
    if (rc) {
        fprintf(stderr, "dala-server verify-report: note %lld is NOT valid: %s\n", note_id, dala_errmsg());
    } else if (report_note_load(&note, admin->db, note_id) == DALA_OK) {
        char fingerprint[REPORT_FINGERPRINT_BYTES];
        report_key_fingerprint(fingerprint, note.public_key);
        printf("note %lld (%s, %d Q%d): signature valid, signed by %s at %lld, key %s\n", note_id, note.level,
               note.year, note.quarter, note.signer_name, (long long)note.signed_at, fingerprint);
        report_note_free(&note);
    }
    dala_admin_close(admin);
    return rc == DALA_OK ? 0 : rc == DALA_EAUTH || rc == DALA_ENOTFOUND ? 1 : 3;
}
