/* server_harness.c - see server_harness.h. */
#include "server_harness.h"
#include "raw_client.h"
#include "testhelp.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int harness_start(harness *h, uint32_t page)
{
    memset(h, 0, sizeof *h);
    snprintf(h->dir, sizeof h->dir, "%s", test_tmpdir());
    snprintf(h->db_path, sizeof h->db_path, "%s/central.db", h->dir);
    dala_admin *admin;
    int64_t department, body;
    /* Below the seeded top of the tree (schema/server/003_org_tree.sql). */
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
    if (rc) return rc;
    h->page = page;
    return harness_restart(h);
}

void harness_options(dala_server_options *out, char listen[32], const harness *h)
{
    *out = (dala_server_options)DALA_SERVER_OPTIONS_INIT;
    snprintf(listen, 32, "127.0.0.1:%d", h->port); /* 0 the first time; then the same */
    out->db_path = h->db_path;
    out->listen = listen;
    out->num_threads = 8;
    out->quiet = 1;
}

int harness_start_with(harness *h, const dala_server_options *options)
{
    int rc = dala_server_start(&h->server, options);
    if (rc) return rc;
    h->port = dala_server_port(h->server);
    snprintf(h->url, sizeof h->url, "http://127.0.0.1:%d", h->port);
    return 0;
}

int harness_start_for_options(harness *h, dala_server_options *out, char listen[32])
{
    int rc = harness_start(h, 0);
    if (rc) return rc;
    harness_stop(h);
    harness_options(out, listen, h);
    return 0;
}

int64_t harness_clock(void *context)
{
    harness *h = context;
    int64_t now = atomic_load(&h->clock_s);
    return now ? now : (int64_t)time(NULL);
}

/* Starts the server with harness_options and the harness's pull page, on
 * harness_clock when `is_clocked`; CHECKs on failure. */
static int start_server(harness *h, int is_clocked)
{
    dala_server_options options;
    char listen[32];
    harness_options(&options, listen, h);
    if (h->page) options.max_pull_changes = h->page;
    if (is_clocked) {
        options.clock = harness_clock;
        options.clock_context = h;
    }
    int rc = harness_start_with(h, &options);
    CHECK_OK(rc);
    return rc;
}

int harness_restart(harness *h)
{
    return start_server(h, 0);
}

int harness_restart_clocked(harness *h)
{
    harness_stop(h);
    return start_server(h, 1);
}

/* Sets the process's TZ to `zone`, keeping the old one in `keep`. */
static void tz_set(harness_tz *keep, const char *zone)
{
    const char *tz = getenv("TZ");
    keep->was_set = tz != NULL;
    snprintf(keep->saved, sizeof keep->saved, "%s", tz ? tz : "");
    setenv("TZ", zone, 1);
    tzset();
}

int harness_start_clocked(harness *h, harness_tz *keep)
{
    tz_set(keep, "UTC");
    if (harness_start(h, 0)) return -1;
    return harness_restart_clocked(h);
}

void harness_clock_set(harness *h, const char *when)
{
    atomic_store(&h->clock_s, when ? harness_utc_seconds(when) : 0);
}

int64_t harness_utc_seconds(const char *when)
{
    int year = 0, month = 0, day = 0, hour = 0, minute = 0;
    if (sscanf(when, "%d-%d-%d %d:%d", &year, &month, &day, &hour, &minute) < 3)
        test_fail(__FILE__, __LINE__, "bad time \"%s\"", when);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    return (int64_t)timegm(&tm);
}

void harness_tz_restore(const harness_tz *keep)
{
    if (keep->was_set) setenv("TZ", keep->saved, 1);
    else unsetenv("TZ");
    tzset();
}

void harness_stop(harness *h)
{
    dala_server_stop(h->server);
    h->server = NULL;
}

int harness_code(harness *h, char *code, int64_t user_id, int64_t unit_id)
{
    dala_admin *admin;
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_code_new(code, admin, user_id, unit_id, 600);
    dala_admin_close(admin);
    CHECK_OK(rc);
    return rc;
}

int harness_revoke(harness *h, int64_t device_id)
{
    dala_admin *admin;
    int rc = dala_admin_open(&admin, h->db_path);
    if (!rc) rc = dala_admin_device_revoke(admin, device_id);
    dala_admin_close(admin);
    CHECK_OK(rc);
    return rc;
}

int harness_post(harness *h, const char *path, const char *content_type, const void *body,
                 size_t len, int *status, dala_buf *answer)
{
    return raw_post(h->port, path, content_type, body, len, status, answer);
}
