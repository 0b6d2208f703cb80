/* metrics.c - counting what dala-server does, and GET /metrics in the
 * Prometheus text exposition format 0.0.4 (metrics.h). Requests are
 * counted in a fixed table of route templates by status, so no path a
 * client invents can add a series; sizes, sessions and the checkpoint age
 * are read when the exposition is asked for. */
#include "server_int.h"
#include "web_int.h"
#include "sync_int.h"

#include <civetweb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The templates, first match wins; "{id}" or "{action}" stands for any
 * one segment.
 * The last two catch the rest of /v1/ and everything else (the pages). */
static const char *const route_templates[] = {
    "/metrics", "/v1/health", "/v1/ready", "/v1/enroll", "/v1/sync", "/v1/session", "/v1/meta",
    "/v1/dashboard", "/v1/records", "/v1/records.csv", "/v1/records/{id}", "/v1/records/{id}/review",
    "/v1/conflicts/{id}/settle", "/v1/devices", "/v1/devices/{id}/revoke", "/v1/devices/{id}/lost",
    "/v1/enrol-codes", "/v1/users", "/v1/users/{id}", "/v1/users/{id}/{action}", "/v1/units", "/v1/units/{id}",
    "/v1/audit", "/v1/reports", "/v1/reports/{id}", "/v1/reports/{id}/{action}",
    "/v1/{other}", "/{page}",
};
#define ROUTE_COUNT (sizeof route_templates / sizeof route_templates[0])
_Static_assert(ROUTE_COUNT <= METRICS_ROUTES, "more route templates than METRICS_ROUTES");
#define ROUTE_V1_OTHER (ROUTE_COUNT - 2)
#define ROUTE_PAGE (ROUTE_COUNT - 1)

static const int statuses[METRICS_STATUSES - 1] = {200, 201, 204, 301, 304, 400, 401, 403, 404, 405,
                                                   409, 411, 413, 415, 426, 429, 500, 503, 507};

static const double sync_bounds[METRICS_SYNC_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                         0.5,   1,    2.5,   5,    10,  30};

void metrics_init(server_metrics *m, int64_t now_s)
{
    for (size_t r = 0; r < METRICS_ROUTES; r++)
        for (size_t s = 0; s < METRICS_STATUSES; s++) atomic_init(&m->requests[r][s], 0);
    for (size_t b = 0; b <= METRICS_SYNC_BUCKETS; b++) atomic_init(&m->sync_buckets[b], 0);
    atomic_init(&m->sync_count, 0);
    atomic_init(&m->sync_micros, 0);
    atomic_init(&m->changes_applied, 0);
    atomic_init(&m->changes_refused, 0);
    atomic_init(&m->last_checkpoint_s, 0);
    m->started_s = now_s;
}

/* Whether `path` fits `pattern` segment by segment. */
static int route_matches(const char *pattern, const char *path)
{
    while (*pattern && *path) {
        if (*pattern != '/' || *path != '/') return 0;
        pattern++, path++;
        size_t p = strcspn(pattern, "/"), n = strcspn(path, "/");
        int is_any = p > 2 && pattern[0] == '{' && pattern[p - 1] == '}';
        if (n == 0 || (!is_any && (p != n || strncmp(pattern, path, n) != 0))) return 0;
        pattern += p, path += n;
    }
    return !*pattern && !*path;
}

static size_t route_index(const char *path)
{
    for (size_t i = 0; i < ROUTE_V1_OTHER; i++)
        if (route_matches(route_templates[i], path)) return i;
    return strncmp(path, "/v1/", 4) == 0 ? ROUTE_V1_OTHER : ROUTE_PAGE;
}

const char *metrics_route_template(const char *path)
{
    return route_templates[route_index(path ? path : "")];
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < METRICS_STATUSES - 1; i++)
        if (statuses[i] == status) return i;
    return METRICS_STATUSES - 1;
}

void metrics_count_request(server_metrics *m, const char *path, int status)
{
    atomic_fetch_add_explicit(&m->requests[route_index(path ? path : "")][status_index(status)], 1,
                              memory_order_relaxed);
}

void metrics_count_sync(server_metrics *m, double elapsed_ms, uint64_t applied, uint64_t refused)
{
    double seconds = elapsed_ms / 1e3;
    size_t b = 0;
    while (b < METRICS_SYNC_BUCKETS && seconds > sync_bounds[b]) b++;
    atomic_fetch_add_explicit(&m->sync_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sync_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sync_micros, (uint64_t)(elapsed_ms > 0 ? elapsed_ms * 1e3 : 0),
                              memory_order_relaxed);
    if (applied) atomic_fetch_add_explicit(&m->changes_applied, applied, memory_order_relaxed);
    if (refused) atomic_fetch_add_explicit(&m->changes_refused, refused, memory_order_relaxed);
}

void metrics_note_checkpoint(server_metrics *m, int64_t now_s)
{
    atomic_store_explicit(&m->last_checkpoint_s, now_s, memory_order_relaxed);
}

/* --- the exposition ------------------------------------------------------ */

static void put(dala_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(dala_buf *out, const char *fmt, ...)
{
    char line[512];
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(line, sizeof line, fmt, args);
    va_end(args);
    if (n > 0) dala_buf_append(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void put_head(dala_buf *out, const char *name, const char *type, const char *help)
{
    put(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t load(atomic_uint_fast64_t *counter)
{
    return (uint64_t)atomic_load_explicit(counter, memory_order_relaxed);
}

static void put_requests(dala_buf *out, server_metrics *m)
{
    put_head(out, "dala_http_requests_total", "counter", "HTTP requests answered, by route template and status.");
    for (size_t r = 0; r < ROUTE_COUNT; r++)
        for (size_t s = 0; s < METRICS_STATUSES; s++) {
            uint64_t n = load(&m->requests[r][s]);
            if (!n) continue;
            if (s < METRICS_STATUSES - 1)
                put(out, "dala_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", route_templates[r],
                    statuses[s], (unsigned long long)n);
            else
                put(out, "dala_http_requests_total{route=\"%s\",status=\"other\"} %llu\n", route_templates[r],
                    (unsigned long long)n);
        }
}

static void put_sync(dala_buf *out, server_metrics *m)
{
    put_head(out, "dala_sync_duration_seconds", "histogram", "Time to answer POST /v1/sync, in seconds.");
    uint64_t cumulative = 0;
    for (size_t b = 0; b < METRICS_SYNC_BUCKETS; b++) {
        cumulative += load(&m->sync_buckets[b]);
        put(out, "dala_sync_duration_seconds_bucket{le=\"%g\"} %llu\n", sync_bounds[b],
            (unsigned long long)cumulative);
    }
    cumulative += load(&m->sync_buckets[METRICS_SYNC_BUCKETS]);
    put(out, "dala_sync_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
    put(out, "dala_sync_duration_seconds_sum %.6f\n", (double)load(&m->sync_micros) / 1e6);
    put(out, "dala_sync_duration_seconds_count %llu\n", (unsigned long long)load(&m->sync_count));
    put_head(out, "dala_sync_changes_applied_total", "counter", "Changes from tablets' pushes that were applied.");
    put(out, "dala_sync_changes_applied_total %llu\n", (unsigned long long)load(&m->changes_applied));
    put_head(out, "dala_sync_changes_refused_total", "counter",
             "Changes from tablets' pushes refused by the domain's rules or scope.");
    put(out, "dala_sync_changes_refused_total %llu\n", (unsigned long long)load(&m->changes_refused));
}

static void put_throttles(dala_buf *out, dala_server *server)
{
    put_head(out, "dala_throttled_requests_total", "counter",
             "Requests turned away (429) after too many failed attempts, by throttle.");
    put(out, "dala_throttled_requests_total{throttle=\"enrol_address\"} %llu\n",
        (unsigned long long)load(&server->enrol_failures.refused_count));
    put(out, "dala_throttled_requests_total{throttle=\"sign_in_login\"} %llu\n",
        (unsigned long long)load(&server->sign_in_failures.refused_count));
    put(out, "dala_throttled_requests_total{throttle=\"sign_in_address\"} %llu\n",
        (unsigned long long)load(&server->sign_in_addresses.refused_count));
}

/* The supervisors' sessions not yet ended; -1 when it cannot be read. */
static int64_t open_web_sessions(dala_server *server)
{
    server_conn *conn = server_conn_get(server);
    sqlite3_stmt *stmt;
    int64_t count = -1, now = (int64_t)time(NULL);
    if (!conn || sqlite3_prepare_v2(conn->db, "SELECT count(*) FROM web_session WHERE seen_at > ?1 AND created_at > ?2",
                                    -1, &stmt, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(stmt, 1, now - WEB_SESSION_IDLE_SECONDS);
    sqlite3_bind_int64(stmt, 2, now - WEB_SESSION_MAX_SECONDS);
    if (sqlite3_step(stmt) == SQLITE_ROW) count = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return count;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static void put_storage(dala_buf *out, dala_server *server)
{
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", server->db_path);
    int64_t sessions = open_web_sessions(server);
    put_head(out, "dala_web_sessions_open", "gauge", "Supervisors' sessions not yet ended.");
    if (sessions >= 0) put(out, "dala_web_sessions_open %lld\n", (long long)sessions);
    put_head(out, "dala_sync_in_flight", "gauge", "Syncs being answered now.");
    put(out, "dala_sync_in_flight %d\n", __atomic_load_n(&server->syncs_in_flight, __ATOMIC_RELAXED));
    put_head(out, "dala_database_size_bytes", "gauge", "Size of the central database file.");
    put(out, "dala_database_size_bytes %lld\n", file_size(server->db_path));
    put_head(out, "dala_wal_size_bytes", "gauge", "Size of the database's write-ahead log.");
    put(out, "dala_wal_size_bytes %lld\n", file_size(wal));
    server_metrics *m = &server->metrics;
    int64_t last = atomic_load_explicit(&m->last_checkpoint_s, memory_order_relaxed), now = (int64_t)time(NULL);
    put_head(out, "dala_checkpoint_age_seconds", "gauge",
             "Seconds since the last complete WAL checkpoint (since the start, before the first).");
    put(out, "dala_checkpoint_age_seconds %lld\n", (long long)(now - (last ? last : m->started_s)));
    put_head(out, "dala_start_time_seconds", "gauge", "When the server started, unix seconds.");
    put(out, "dala_start_time_seconds %lld\n", (long long)m->started_s);
}

int route_metrics(struct mg_connection *conn, void *context)
{
    dala_server *server = context;
    client_addr client;
    server_client_addr(&client, server, conn);
    int status = 200;
    if (!addr_list_contains(&server->metrics_allow, client.address)) {
        status = 404; /* as if there were nothing here */
        http_send_error(conn, status, DALA_ENOTFOUND, "no such resource");
    } else if (strcmp(mg_get_request_info(conn)->request_method, "GET") != 0) {
        status = 405;
        http_send_error(conn, status, DALA_EINVAL, "metrics: use GET");
    } else {
        dala_buf out = DALA_BUF_INIT;
        put_requests(&out, &server->metrics);
        put_sync(&out, &server->metrics);
        put_throttles(&out, server);
        put_storage(&out, server);
        http_send_ok(conn, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
        dala_buf_free(&out);
    }
    server_log_request(server, conn, status, 0, 0);
    return status;
}
