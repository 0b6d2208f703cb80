/* server_harness.c - see server_harness.h. */
#include "server_harness.h"
#include "raw_client.h"
#include "testhelp.h"

#include <stdio.h>
#include <string.h>

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

int harness_restart(harness *h)
{
    dala_server_options options = DALA_SERVER_OPTIONS_INIT;
    options.db_path = h->db_path;
    char listen[32];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", h->port); /* 0 the first time; then the same */
    options.listen = listen;
    options.num_threads = 8;
    options.quiet = 1;
    if (h->page) options.max_pull_changes = h->page;
    int rc = dala_server_start(&h->server, &options);
    CHECK_OK(rc);
    if (rc) return rc;
    h->port = dala_server_port(h->server);
    snprintf(h->url, sizeof h->url, "http://127.0.0.1:%d", h->port);
    return 0;
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
