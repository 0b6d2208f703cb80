/* test_lost_tablet.c - suite "lost_tablet": a tablet a supervisor marks
 * lost (docs/protocol.md, 10.8), end to end against the real server on
 * 127.0.0.1 (server_harness.h: units A and B, officers a and a2 in A, b in
 * B) with SDK stores enrolled by real codes.
 *
 * What the suite proves: a tablet can be marked lost by `dala-server admin
 * device-lost` and on the devices route, by a supervisor whose scope holds
 * its unit and by no one else; at its next sync the tablet is told so,
 * erases its store (no file named after it is left in its folder) and
 * confirms, and dala_sync returns DALA_EWIPED; the audit trail names who
 * marked it and when the wipe was confirmed, once; a copy of the tablet's
 * store made before the wipe pushes nothing and is told the same; a
 * revoked tablet is still refused with a quiet 403 until it is marked
 * lost; the other tablets go on. */
#include "e2e_support.h"
#include "web_client.h"

#include "records_gen.h"
#include "testhelp.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define PASSWORD "Dala-test-2026"
#define CLI_TIMEOUT_MS 20000

/* ---------------------------------------------------------------- helpers */

/* How many entries of folder `dir` are named after the store `name`
 * (the database and every file beside it: "-wal", "-shm", "-key", ...). */
static int files_named_after(const char *dir, const char *name)
{
    DIR *folder = opendir(dir);
    int count = 0;
    CHECK(folder != NULL);
    if (!folder) return -1;
    for (struct dirent *e; (e = readdir(folder));)
        if (strncmp(e->d_name, name, strlen(name)) == 0) count++;
    closedir(folder);
    return count;
}

/* Copies every file of `from_dir` named after `name` into `to_dir`: a
 * copy of a tablet's store, as a thief's image of its flash would be. */
static void copy_store_files(const char *from_dir, const char *to_dir, const char *name)
{
    DIR *folder = opendir(from_dir);
    CHECK(folder != NULL);
    if (!folder) return;
    for (struct dirent *e; (e = readdir(folder));) {
        if (strncmp(e->d_name, name, strlen(name)) != 0) continue;
        char from[900], to[900];
        snprintf(from, sizeof from, "%s/%s", from_dir, e->d_name);
        snprintf(to, sizeof to, "%s/%s", to_dir, e->d_name);
        FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
        CHECK(in && out);
        char buf[8192];
        size_t n;
        while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0) CHECK(fwrite(buf, 1, n, out) == n);
        if (in) fclose(in);
        if (out) fclose(out);
    }
    closedir(folder);
}

static int64_t device_id_of(dala_store *store)
{
    return (int64_t)device_status(store).device_id;
}

/* `dala-server admin --db ... device-lost --device ID [--by LOGIN]`: its
 * exit status (-1 if it did not run), its stdout and stderr in `out`
 * (malloc'd, may be NULL). */
static int admin_device_lost(const harness *h, int64_t device_id, const char *by, char **out)
{
    char device[32], out_path[600];
    snprintf(device, sizeof device, "%lld", (long long)device_id);
    snprintf(out_path, sizeof out_path, "%s/admin-out.txt", h->dir);
    const char *argv[] = {test_binary_path("dala-server"), "admin", "--db", h->db_path, "device-lost",
                          "--device", device, by ? "--by" : NULL, by, NULL};
    int status;
    *out = NULL;
    if (run_with_timeout(&status, argv, "/dev/null", out_path, NULL, CLI_TIMEOUT_MS)) return -1;
    *out = test_read_file(out_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Adds user `login` with `role` at `unit`, gives them the suite's
 * password and signs them in. */
static web_login signed_in(const harness *h, const char *login, const char *role, int64_t unit)
{
    web_login who;
    memset(&who, 0, sizeof who);
    int64_t id = central_user_add(h, login, role, unit);
    dala_admin *admin = NULL;
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_user_password(admin, id, PASSWORD);
    dala_admin_close(admin);
    CHECK_OK(rc);
    CHECK_EQ_INT(web_sign_in(&who, h->port, login, PASSWORD), 200);
    return who;
}

/* How many audit entries have `action`, about device `device_id`, by
 * `user_login` (NULL: by no one). */
static long long audit_count(const harness *h, const char *action, int64_t device_id, const char *user_login)
{
    char sql[400];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM audit a LEFT JOIN app_user u ON u.id = a.user_id WHERE a.action = '%s' "
             "AND (a.detail = 'device ' || ?1 OR a.detail LIKE 'device ' || ?1 || ',%%') AND %s",
             action, user_login ? "u.login = ?2" : "a.user_id IS NULL AND ?2 = 0");
    if (!user_login) return central_int(h, sql, device_id, 0);
    sqlite3 *db = central_open(h);
    sqlite3_stmt *stmt;
    long long n = -1;
    if (db && sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, device_id);
        sqlite3_bind_text(stmt, 2, user_login, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
    }
    sqlite3_close(db);
    return n;
}

/* The tablet syncs and is told it is lost: DALA_EWIPED, nothing pushed or
 * pulled, no file named `name` or after it left in its folder `dir`. */
static void check_sync_erases(dala_store *store, const char *dir, const char *name)
{
    dala_sync_stats stats;
    CHECK_EQ_INT(sync_via(store, NULL, 0, &stats), DALA_EWIPED);
    CHECK_CONTAINS(dala_errmsg(), "marked this tablet lost");
    CHECK_EQ_U64(stats.acked, 0);
    CHECK_EQ_U64(stats.pulled, 0);
    CHECK_EQ_INT(files_named_after(dir, name), 0);
    /* The handle stays safe: it holds nothing and syncs no more. */
    CHECK_EQ_INT(sync_via(store, NULL, 0, NULL), DALA_EWIPED);
}

/* ------------------------------------------------------------------ tests */

static void test_lost_tablet_marked_by_the_admin_command_erases_itself_at_its_next_sync(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    record_set captured = {0};
    records_gen gen;
    char *out = NULL;
    records_gen_init(&gen, 1301);
    dala_store *a1 = device_enrol_sealed(&h, "a1", h.officer_a, h.unit_a);
    dala_store *a2 = device_enrol(&h, "a2", h.officer_a2, h.unit_a);
    if (!a1 || !a2) goto done;
    int64_t id = device_id_of(a1);
    capture(&captured, a1, &gen, 3);
    sync_ok(a1);
    capture(&captured, a1, &gen, 2); /* waiting to be pushed when it is lost */
    CHECK(files_named_after(h.dir, "a1.db") >= 2); /* the database and its key */

    /* Marked from the command line, with no supervisor named. */
    CHECK_EQ_INT(admin_device_lost(&h, id, NULL, &out), 0);
    CHECK_CONTAINS(out, "marked lost");
    free(out);
    CHECK_EQ_INT(admin_device_lost(&h, id, NULL, &out), 1); /* once is enough */
    CHECK_CONTAINS(out, "marked lost already");
    free(out);
    CHECK_EQ_INT(admin_device_lost(&h, 999999, NULL, &out), 1);
    CHECK_CONTAINS(out, "no device 999999");
    free(out);
    CHECK(central_int(&h, "SELECT lost_at FROM device WHERE id = ?1", id, 0) > 0);
    CHECK_EQ_INT(central_int(&h, "SELECT lost_by_user_id IS NULL FROM device WHERE id = ?1", id, 0), 1);
    CHECK_EQ_INT(audit_count(&h, "device_lost", id, NULL), 1);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM audit WHERE action = 'device_lost' AND "
                                 "detail LIKE '%administration command%' AND unit_id = ?1", h.unit_a, 0), 1);

    /* Its next sync (within its live session) erases it. */
    check_sync_erases(a1, h.dir, "a1.db");
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE unit_id = ?1", h.unit_a, 0), 3);
    CHECK(central_int(&h, "SELECT wipe_confirmed_at FROM device WHERE id = ?1", id, 0) > 0);
    CHECK_EQ_INT(audit_count(&h, "device_wiped", id, NULL), 1);
    CHECK_EQ_INT(central_int(&h, "SELECT unit_id FROM audit WHERE action = 'device_wiped'", 0, 0), h.unit_a);

    /* The unit's other tablet goes on, and still holds what a1 pushed. */
    sync_ok(a2);
    CHECK_EQ_U64(device_status(a2).record_count, 3);
    CHECK(files_named_after(h.dir, "a2.db") >= 1);
done:
    dala_store_close(a1);
    dala_store_close(a2);
    set_free(&captured);
    e2e_stop(&h);
}

static void test_lost_tablet_marked_on_the_devices_route_by_a_supervisor_in_scope(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    web_answer a = WEB_ANSWER_INIT;
    records_gen gen;
    record_set captured = {0};
    char path[120], device[24];
    records_gen_init(&gen, 1302);
    dala_store *a1 = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    dala_store *b1 = device_enrol(&h, "b1", h.officer_b, h.unit_b);
    if (!a1 || !b1) goto done;
    int64_t id = device_id_of(a1);
    capture(&captured, a1, &gen, 2);
    sync_ok(a1);
    snprintf(device, sizeof device, "%lld", (long long)id);
    snprintf(path, sizeof path, "/v1/devices/%lld/lost", (long long)id);
    web_login head_a = signed_in(&h, "head.a", "unit_head", h.unit_a);
    web_login head_b = signed_in(&h, "head.b", "unit_head", h.unit_b);
    web_login inspector = signed_in(&h, "insp.a", "inspector", h.unit_a);

    /* Refused: another unit's head (the device is out of her scope, so it
     * does not exist for her), an inspector, a request without the CSRF
     * token, a device that does not exist. Nothing changes. */
    CHECK_EQ_INT(web_post(&a, h.port, path, &head_b, NULL), 404);
    CHECK_EQ_INT(web_post(&a, h.port, path, &inspector, NULL), 403);
    web_login no_token = head_a;
    no_token.csrf[0] = '\0';
    CHECK_EQ_INT(web_post(&a, h.port, path, &no_token, NULL), 403);
    CHECK_EQ_INT(web_post(&a, h.port, "/v1/devices/999999/lost", &head_a, NULL), 404);
    CHECK_EQ_INT(web_get(&a, h.port, path, &head_a), 405);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM device WHERE lost_at IS NOT NULL", 0, 0), 0);
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM audit WHERE action = 'device_lost'", 0, 0), 0);
    sync_ok(a1); /* not lost: syncs as ever */

    /* The unit's head marks it lost; a second time is a conflict. */
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/devices", &head_a), 200);
    CHECK_MEMBER(a.body, "$.devices", "id", device, "lost_at", NULL);
    CHECK_MEMBER(a.body, "$.devices", "id", device, "wipe_confirmed_at", NULL);
    CHECK_EQ_INT(web_post(&a, h.port, path, &head_a, NULL), 200);
    CHECK_JSON(a.body, "$.lost", "1");
    CHECK_EQ_INT(web_post(&a, h.port, path, &head_a, NULL), 409);
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/devices", &head_a), 200);
    char *lost_at = member_where(a.body, "$.devices", "id", device, "lost_at");
    CHECK(lost_at && atoll(lost_at) > 0);
    free(lost_at);
    CHECK_MEMBER(a.body, "$.devices", "id", device, "lost_by", "head.a");
    CHECK_MEMBER(a.body, "$.devices", "id", device, "wipe_confirmed_at", NULL);
    CHECK_MEMBER(a.body, "$.devices", "id", device, "revoked_at", NULL);
    CHECK_EQ_INT(audit_count(&h, "device_lost", id, "head.a"), 1);

    /* The tablet, with a fresh handle (a handshake, no session yet). */
    char store_path[600];
    snprintf(store_path, sizeof store_path, "%s/a1.db", h.dir);
    dala_store_close(a1);
    a1 = NULL;
    CHECK_OK(dala_store_open(&a1, store_path));
    if (!a1) goto done;
    check_sync_erases(a1, h.dir, "a1.db");
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE unit_id = ?1", h.unit_a, 0), 2);

    /* The page and the trail show the wipe, and who marked it. */
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/devices", &head_a), 200);
    char *wiped_at = member_where(a.body, "$.devices", "id", device, "wipe_confirmed_at");
    CHECK(wiped_at && atoll(wiped_at) > 0);
    free(wiped_at);
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/audit", &head_a), 200);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "action", "device_lost"), 1);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "action", "device_wiped"), 1);
    CHECK_MEMBER(a.body, "$.entries", "action", "device_lost", "user", "head.a");
    char detail[40];
    snprintf(detail, sizeof detail, "device %s", device);
    CHECK_MEMBER(a.body, "$.entries", "action", "device_lost", "detail", detail);
    CHECK_MEMBER(a.body, "$.entries", "action", "device_wiped", "detail", detail);
    CHECK_MEMBER(a.body, "$.entries", "action", "device_wiped", "user", "");
    /* B's head sees neither A's device nor its trail. */
    CHECK_EQ_INT(web_get(&a, h.port, "/v1/audit", &head_b), 200);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "action", "device_lost"), 0);
    CHECK_EQ_INT(count_where(a.body, "$.entries", "action", "device_wiped"), 0);
    sync_ok(b1); /* the other unit goes on */
done:
    web_answer_free(&a);
    dala_store_close(a1);
    dala_store_close(b1);
    set_free(&captured);
    e2e_stop(&h);
}

static void test_lost_tablet_copy_made_before_the_wipe_pushes_nothing(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    record_set captured = {0};
    records_gen gen;
    char copy_dir[400], store_path[600], copy_path[600];
    dala_store *copy = NULL;
    records_gen_init(&gen, 1303);
    dala_store *a1 = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    dala_store *a2 = device_enrol(&h, "a2", h.officer_a2, h.unit_a);
    if (!a1 || !a2) goto done;
    int64_t id = device_id_of(a1);
    capture(&captured, a1, &gen, 2);
    sync_ok(a1);
    capture(&captured, a1, &gen, 3); /* never pushed */
    capture(&captured, a2, &gen, 2);
    sync_ok(a2); /* something a1 could pull */

    /* An image of a1's store, taken while the tablet is closed. */
    snprintf(store_path, sizeof store_path, "%s/a1.db", h.dir);
    snprintf(copy_dir, sizeof copy_dir, "%s/copy", h.dir);
    snprintf(copy_path, sizeof copy_path, "%s/a1.db", copy_dir);
    CHECK_EQ_INT(mkdir(copy_dir, 0700), 0);
    dala_store_close(a1);
    a1 = NULL;
    copy_store_files(h.dir, copy_dir, "a1.db");
    CHECK_OK(dala_store_open(&a1, store_path));
    if (!a1) goto done;

    dala_admin *admin = NULL;
    CHECK_OK(dala_admin_open(&admin, h.db_path));
    if (admin) CHECK_OK(dala_admin_device_lost(admin, id, 0));
    dala_admin_close(admin);
    long long batch_before = central_int(&h, "SELECT last_batch_seq FROM device WHERE id = ?1", id, 0);
    check_sync_erases(a1, h.dir, "a1.db");
    long long confirmed_at = central_int(&h, "SELECT wipe_confirmed_at FROM device WHERE id = ?1", id, 0);
    CHECK(confirmed_at > 0);

    /* The copy still holds the key and the three waiting changes. */
    CHECK_OK(dala_store_open(&copy, copy_path));
    if (!copy) goto done;
    CHECK_EQ_U64(device_status(copy).pending_changes, 3);
    check_sync_erases(copy, copy_dir, "a1.db");
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE unit_id = ?1", h.unit_a, 0), 4);
    CHECK_EQ_INT(central_int(&h, "SELECT last_batch_seq FROM device WHERE id = ?1", id, 0), batch_before);
    /* The wipe was confirmed once: the first moment and one audit entry. */
    CHECK_EQ_INT(central_int(&h, "SELECT wipe_confirmed_at FROM device WHERE id = ?1", id, 0), confirmed_at);
    CHECK_EQ_INT(audit_count(&h, "device_wiped", id, NULL), 1);
    sync_ok(a2);
    CHECK_EQ_U64(device_status(a2).record_count, 4);
done:
    dala_store_close(a1);
    dala_store_close(a2);
    dala_store_close(copy);
    set_free(&captured);
    e2e_stop(&h);
}

static void test_lost_tablet_revoked_tablet_gets_403_until_it_is_marked_lost(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    record_set captured = {0};
    records_gen gen;
    records_gen_init(&gen, 1304);
    dala_store *a1 = device_enrol(&h, "a1", h.officer_a, h.unit_a);
    if (!a1) goto done;
    int64_t id = device_id_of(a1);
    capture(&captured, a1, &gen, 2);
    sync_ok(a1);
    capture(&captured, a1, &gen, 1);
    CHECK_OK(harness_revoke(&h, id));

    /* Revoked, handed over normally: refused quietly, nothing erased. */
    CHECK_EQ_INT(sync_via(a1, NULL, 0, NULL), DALA_EAUTH);
    CHECK_CONTAINS(dala_errmsg(), "HTTP 403");
    CHECK_CONTAINS(dala_errmsg(), "revoked");
    CHECK_EQ_U64(device_status(a1).pending_changes, 1);
    CHECK_EQ_U64(device_status(a1).record_count, 3);
    CHECK(files_named_after(h.dir, "a1.db") >= 1);
    CHECK_EQ_INT(central_int(&h, "SELECT wipe_confirmed_at IS NULL FROM device WHERE id = ?1", id, 0), 1);

    /* Then found missing after all: marked lost, it erases itself. */
    dala_admin *admin = NULL;
    CHECK_OK(dala_admin_open(&admin, h.db_path));
    if (admin) CHECK_OK(dala_admin_device_lost(admin, id, 0));
    dala_admin_close(admin);
    check_sync_erases(a1, h.dir, "a1.db");
    CHECK_EQ_INT(central_int(&h, "SELECT count(*) FROM record WHERE unit_id = ?1", h.unit_a, 0), 2);
    CHECK_EQ_INT(audit_count(&h, "device_wiped", id, NULL), 1);
done:
    dala_store_close(a1);
    set_free(&captured);
    e2e_stop(&h);
}

const dala_test lost_tablet_tests[] = {
    {"lost_tablet_marked_by_the_admin_command_erases_itself_at_its_next_sync",
     test_lost_tablet_marked_by_the_admin_command_erases_itself_at_its_next_sync},
    {"lost_tablet_marked_on_the_devices_route_by_a_supervisor_in_scope",
     test_lost_tablet_marked_on_the_devices_route_by_a_supervisor_in_scope},
    {"lost_tablet_copy_made_before_the_wipe_pushes_nothing", test_lost_tablet_copy_made_before_the_wipe_pushes_nothing},
    {"lost_tablet_revoked_tablet_gets_403_until_it_is_marked_lost",
     test_lost_tablet_revoked_tablet_gets_403_until_it_is_marked_lost},
    {NULL, NULL},
};
