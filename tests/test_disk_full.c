/* test_disk_full.c - suite "disk_full": the server's disk fills up under
 * pushing tablets. The test (as root, as CI runs) mounts a small tmpfs,
 * puts the central database in it, starts the real server in process on it,
 * and leaves the database little room with a filler file. Tablets (their
 * stores outside the tmpfs) push until the disk is full. Then:
 *
 * - the tablet gets a clear error, not a crash and not a success: the sync
 *   fails and its message names the full disk;
 * - the server keeps running (it answers /v1/health, and later syncs);
 * - nothing is acknowledged that was not written: every change a tablet
 *   holds as acknowledged is in the central database, which passes
 *   `PRAGMA integrity_check`;
 * - once space is freed (the filler deleted, then the tmpfs remounted
 *   larger) a sync completes and everything converges.
 *
 * The tmpfs is unmounted at the end. Not root, or a mount that fails, fails
 * the test saying why: no silent skip. Figures: changes captured,
 * acknowledged, lost, stuck; ids and counts only. */
#include "e2e_support.h"

#include "raw_client.h"
#include "records_gen.h"
#include "testhelp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define TABLETS 2
#define TMPFS_SIZE "size=8m"
#define TMPFS_LARGER "size=64m"
/* Room left beside the database before the tablets push. */
#define ROOM_BYTES (768 * 1024)

/* Mounts a tmpfs of `options` on `dir`; 0, or -1 after a failed check
 * saying why. */
static int mount_tmpfs(const char *dir, const char *options)
{
    if (geteuid() != 0) {
        test_fail(__FILE__, __LINE__, "the disk-full test mounts a tmpfs and must run as root (euid %d)",
                  (int)geteuid());
        return -1;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        test_fail(__FILE__, __LINE__, "mkdir %s: %s", dir, strerror(errno));
        return -1;
    }
    if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, options) != 0) {
        test_fail(__FILE__, __LINE__, "mount -t tmpfs -o %s tmpfs %s: %s", options, dir, strerror(errno));
        rmdir(dir);
        return -1;
    }
    return 0;
}

static void unmount_tmpfs(const char *dir)
{
    if (umount2(dir, 0) != 0) {
        test_fail(__FILE__, __LINE__, "umount %s: %s (detached instead)", dir, strerror(errno));
        umount2(dir, MNT_DETACH);
    }
    rmdir(dir);
}

/* harness_start with the database in `dir`: the same organisation tree
 * (server_harness.c), then the server. */
static int harness_start_in(harness *h, const char *dir)
{
    dala_admin *admin;
    int64_t department, body;
    memset(h, 0, sizeof *h);
    snprintf(h->dir, sizeof h->dir, "%s", dir);
    snprintf(h->db_path, sizeof h->db_path, "%s/central.db", dir);
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_unit_find(&department, admin, "pd-astana");
    if (!rc) rc = dala_admin_unit_add(&body, admin, department, "body", "Esil district police");
    if (!rc) rc = dala_admin_unit_add(&h->unit_a, admin, body, "unit", "Esil district unit");
    if (!rc) rc = dala_admin_unit_add(&h->unit_b, admin, department, "unit", "Saryarka district unit");
    if (!rc) rc = dala_admin_user_add(&h->officer_a, admin, "a.nurlanova", "Aigul Nurlanova", "inspector", h->unit_a);
    if (!rc) rc = dala_admin_user_add(&h->officer_a2, admin, "d.sadykova", "Dana Sadykova", "inspector", h->unit_a);
    if (!rc) rc = dala_admin_user_add(&h->officer_b, admin, "m.ivanova", "Marina Ivanova", "inspector", h->unit_b);
    dala_admin_close(admin);
    CHECK_OK(rc);
    return rc ? rc : harness_restart(h);
}

/* A store at `path` (outside the tmpfs) enrolled in unit A. */
static dala_store *tablet_enrol(harness *h, const char *path, int64_t officer)
{
    char code[32];
    dala_store *store = NULL;
    if (harness_code(h, code, officer, h->unit_a)) return NULL;
    CHECK_OK(dala_store_open(&store, path));
    if (store && dala_store_enroll(store, h->url, code, NULL) != DALA_OK) {
        test_fail(__FILE__, __LINE__, "enrol %s: %s", path, dala_errmsg());
        dala_store_close(store);
        store = NULL;
    }
    return store;
}

/* Writes zeros to `path` until the disk holding it has about `room` bytes
 * left. Returns the bytes written, or -1 after a failed check. */
static long long fill_leaving(const char *path, const char *dir, unsigned long long room)
{
    struct statvfs fs;
    static char block[64 * 1024];
    if (statvfs(dir, &fs) != 0) {
        test_fail(__FILE__, __LINE__, "statvfs %s: %s", dir, strerror(errno));
        return -1;
    }
    unsigned long long free_bytes = (unsigned long long)fs.f_bavail * fs.f_frsize;
    long long want = free_bytes > room ? (long long)(free_bytes - room) : 0, written = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        test_fail(__FILE__, __LINE__, "create %s: %s", path, strerror(errno));
        return -1;
    }
    while (written < want) {
        size_t n = (size_t)(want - written) < sizeof block ? (size_t)(want - written) : sizeof block;
        ssize_t w = write(fd, block, n);
        if (w <= 0) break;
        written += w;
    }
    close(fd);
    return written;
}

/* Whether a sync's error says the server's disk is full. */
static int names_full_disk(const char *message)
{
    return message && (strcasestr(message, "full") || strcasestr(message, "space") ||
                       strcasestr(message, "Insufficient Storage") || strstr(message, "507"));
}

static void test_disk_full_server_refuses_clearly_acknowledges_nothing_unwritten_and_recovers(void)
{
    harness h;
    char mount_dir[200], filler[260];
    dala_store *tablets[TABLETS] = {NULL, NULL};
    record_set captured = {0}, acked = {0}, on_server = {0};
    records_gen gen;
    int mounted = 0, started = 0, refused = 0, succeeded_while_full = 0;
    size_t lost = 0, stuck = 0;
    const char *tablet_dir = test_tmpdir();
    memset(&h, 0, sizeof h);
    snprintf(mount_dir, sizeof mount_dir, "%s/disk", test_tmpdir());
    snprintf(filler, sizeof filler, "%s/filler", mount_dir);
    records_gen_init(&gen, 4242);
    if (mount_tmpfs(mount_dir, TMPFS_SIZE)) return;
    mounted = 1;
    if (harness_start_in(&h, mount_dir)) goto done;
    started = 1;
    for (int t = 0; t < TABLETS; t++) {
        char path[700];
        snprintf(path, sizeof path, "%s/t%d.db", tablet_dir, t);
        if (!(tablets[t] = tablet_enrol(&h, path, t ? h.officer_a2 : h.officer_a))) goto done;
    }
    capture(&captured, tablets[0], &gen, 20);
    sync_ok(tablets[0]);
    sync_ok(tablets[1]);
    long long filled = fill_leaving(filler, mount_dir, ROOM_BYTES);
    if (filled < 0) goto done;

    /* Push until the disk is full: the first refusal ends it. */
    int rc = DALA_OK;
    char message[512] = "";
    for (int round = 0; round < 400 && rc == DALA_OK; round++) {
        dala_store *tablet = tablets[round % TABLETS];
        capture(&captured, tablet, &gen, 25);
        rc = sync_via(tablet, NULL, 25, NULL);
        if (rc != DALA_OK) snprintf(message, sizeof message, "%s", dala_errmsg());
    }
    if (rc == DALA_OK) {
        test_fail(__FILE__, __LINE__, "%zu records pushed into %llu bytes of room and no sync failed", captured.count,
                  (unsigned long long)ROOM_BYTES);
        goto done;
    }
    refused++;
    printf("    the first refusal: code %d (%s)\n", rc, dala_strerror(rc));
    CHECK_EQ_INT(rc, DALA_ENOSPACE);
    if (!names_full_disk(message))
        test_fail(__FILE__, __LINE__, "the tablet's error does not say the server's disk is full: %s", message);

    /* More pushes while it is full: each fails clearly, or succeeds for
     * real (checked below with the rest). */
    for (int t = 0; t < TABLETS; t++) {
        capture(&captured, tablets[t], &gen, 25);
        rc = sync_via(tablets[t], NULL, 25, NULL);
        if (rc == DALA_OK) {
            succeeded_while_full++;
        } else {
            refused++;
            if (rc != DALA_ENOSPACE || !names_full_disk(dala_errmsg()))
                test_fail(__FILE__, __LINE__, "a sync on the full disk failed unclearly: code %d: %s", rc,
                          dala_errmsg());
        }
    }

    /* The server still answers. */
    int status = 0;
    dala_buf answer = DALA_BUF_INIT;
    CHECK_EQ_INT(raw_post(h.port, "/v1/health", "application/json", "{}", 2, &status, &answer), 0);
    CHECK_EQ_INT(status, 200);
    dala_buf_free(&answer);

    /* Nothing acknowledged that is not in the central database. */
    for (int t = 0; t < TABLETS; t++) note_acked(&acked, tablets[t]);
    central_records(&on_server, &h, h.unit_a, GEN_TABLE);
    for (size_t i = 0; i < acked.count; i++)
        if (set_find(&on_server, acked.ids[i]) < 0) {
            if (lost < 3) test_fail(__FILE__, __LINE__, "acknowledged record %s is not on the server", acked.ids[i]);
            lost++;
        }
    CHECK_EQ_U64(lost, 0);
    CHECK(acked.count < captured.count); /* the full disk held some back */
    check_integrity(h.db_path);
    printf("    while full: %zu captured, %zu acknowledged, %zu on the server, %d syncs refused, %d succeeded\n",
           captured.count, acked.count, on_server.count, refused, succeeded_while_full);

    /* Space freed: the filler goes, then the disk grows. */
    CHECK_EQ_INT(unlink(filler), 0);
    for (int round = 0; round < 2; round++)
        for (int t = 0; t < TABLETS; t++) {
            rc = sync_via(tablets[t], NULL, 0, NULL);
            if (rc) test_fail(__FILE__, __LINE__, "sync after the filler was deleted: code %d: %s", rc, dala_errmsg());
        }
    if (mount("tmpfs", mount_dir, "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, TMPFS_LARGER) != 0)
        test_fail(__FILE__, __LINE__, "mount -o remount,%s %s: %s", TMPFS_LARGER, mount_dir, strerror(errno));
    for (int t = 0; t < TABLETS; t++) capture(&captured, tablets[t], &gen, 25);
    for (int round = 0; round < 2; round++)
        for (int t = 0; t < TABLETS; t++) {
            rc = sync_via(tablets[t], NULL, 0, NULL);
            if (rc) test_fail(__FILE__, __LINE__, "sync after the remount: code %d: %s", rc, dala_errmsg());
        }
    for (int t = 0; t < TABLETS; t++) stuck += device_status(tablets[t]).pending_changes;
    CHECK_EQ_U64(stuck, 0);
    check_converged(&h, h.unit_a, &captured, tablets, TABLETS);
    check_integrity(h.db_path);
    for (int t = 0; t < TABLETS; t++) note_acked(&acked, tablets[t]);
    printf("    figures: disk full: captured %zu, acknowledged %zu, lost %zu, stuck %zu, refusals %d\n", captured.count,
           acked.count, lost, stuck, refused);
done:
    for (int t = 0; t < TABLETS; t++) dala_store_close(tablets[t]);
    if (started) e2e_stop(&h);
    if (mounted) unmount_tmpfs(mount_dir);
    set_free(&captured);
    set_free(&acked);
    set_free(&on_server);
}

const dala_test disk_full_tests[] = {
    {"disk_full_server_refuses_clearly_acknowledges_nothing_unwritten_and_recovers",
     test_disk_full_server_refuses_clearly_acknowledges_nothing_unwritten_and_recovers},
    {NULL, NULL},
};
