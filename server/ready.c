/* ready.c - GET /v1/ready: whether this server can do its work now, for a
 * load balancer or a monitor. Unlike GET /v1/health (alive: answers
 * without touching anything), it checks that the database opens, that a
 * real write commits (one row of server_meta, so a read-only or full
 * disk shows), that its migrations are all done, and that the database's
 * folder has at least ready_min_free_mb of free space. 200 with a small
 * JSON, or 503 with the reason and Retry-After. */
#include "server_int.h"
#include "sync_int.h"
#include "migration.h"

#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

extern const dala_migration server_migrations[];

/* The free space of the folder holding `path`, in MiB; -1 if unknown. */
static int64_t free_mb_of(const char *path)
{
    char copy[4200];
    snprintf(copy, sizeof copy, "%s", path);
    struct statvfs vfs;
    if (statvfs(dirname(copy), &vfs) != 0) return -1;
    return (int64_t)((unsigned long long)vfs.f_bavail * vfs.f_frsize / (1024 * 1024));
}

/* A real write: the probe's time in server_meta, committed (it waits for
 * other writers as a sync does, then answers busy). */
static int write_probe(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int rc = server_db_begin(db);
    if (rc) return rc;
    if (sqlite3_prepare_v2(db, "INSERT INTO server_meta (key, value) VALUES ('ready_probe_at', ?1) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value", -1, &stmt, NULL) != SQLITE_OK)
        rc = server_db_error(db, "write a probe");
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, (int64_t)time(NULL));
        if (sqlite3_step(stmt) != SQLITE_DONE) rc = server_db_error(db, "write a probe");
    }
    sqlite3_finalize(stmt);
    if (!rc) rc = server_db_commit(db);
    if (rc) server_db_rollback(db);
    return rc;
}

static int schema_version_of(sqlite3 *db, int *out)
{
    sqlite3_stmt *stmt;
    *out = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
        return server_db_error(db, "read the schema version");
    int rc = sqlite3_step(stmt) == SQLITE_ROW ? DALA_OK : server_db_error(db, "read the schema version");
    if (!rc) *out = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return rc;
}

static void send_ready(struct mg_connection *conn, int status, const char *reason, int schema, int64_t free_mb)
{
    dala_buf body = DALA_BUF_INIT;
    char tail[96];
    const char *head = status == 200 ? "{\"status\":\"ready\"" : "{\"status\":\"not_ready\",\"reason\":";
    dala_buf_append(&body, head, strlen(head));
    if (status != 200) dala_json_put_string(&body, reason, strlen(reason));
    int n = snprintf(tail, sizeof tail, ",\"migration\":%d,\"free_mb\":%lld}\n", schema, (long long)free_mb);
    dala_buf_append(&body, tail, (size_t)n);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\n%s\r\n",
              status, http_status_text(status), body.len, status == 200 ? "" : "Retry-After: 5\r\n");
    mg_write(conn, body.data, body.len);
    dala_buf_free(&body);
}

int route_ready(struct mg_connection *conn, void *context)
{
    dala_server *server = context;
    char reason[320] = "";
    int schema = -1, status = 503, latest = dala_migration_latest(server_migrations);
    int64_t free_mb = free_mb_of(server->db_path), min_mb = server->options.ready_min_free_mb;
    server_conn *db = server_conn_get(server);
    if (strcmp(mg_get_request_info(conn)->request_method, "GET") != 0 &&
        strcmp(mg_get_request_info(conn)->request_method, "HEAD") != 0) {
        status = 405;
        http_send_error(conn, status, DALA_EINVAL, "ready: use GET");
        goto done;
    }
    if (!db)
        snprintf(reason, sizeof reason, "database: %s", dala_errmsg());
    else if (schema_version_of(db->db, &schema))
        snprintf(reason, sizeof reason, "database: %s", dala_errmsg());
    else if (schema != latest)
        snprintf(reason, sizeof reason, "database: schema version %d, this server needs %d (migrations not done)",
                 schema, latest);
    else if (min_mb > 0 && free_mb >= 0 && free_mb < min_mb)
        snprintf(reason, sizeof reason, "disk: %lld MiB free beside the database, less than ready_min_free_mb %lld",
                 (long long)free_mb, (long long)min_mb);
    else if (write_probe(db->db))
        snprintf(reason, sizeof reason, "database not writable: %s", dala_errmsg());
    else
        status = 200;
    send_ready(conn, status, reason, schema, free_mb);
done:
    server_log_request(server, conn, status, 0, 0);
    return status;
}
