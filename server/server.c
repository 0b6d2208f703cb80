/* server.c - starting and stopping dala-server: the central database is
 * created or migrated first, then CivetWeb starts with explicit threads and
 * timeouts, no document_root and no directory listing, so every answer
 * comes from a route of ours; stopping finishes the requests in flight.
 * Also the server's clock. */
#include "server_int.h"
#include "web_int.h"
#include "sync_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A worker opens its database connection as it starts, so no request
 * pays for it: CivetWeb hands a request to any idle worker of many (128 by
 * default), and a cold one would add about a millisecond. A failure here
 * is retried when a request needs the connection. */
static void *thread_started(const struct mg_context *ctx, int thread_type)
{
    enum { WORKER_THREAD = 1 };
    dala_server *server = mg_get_user_data(ctx);
    if (thread_type == WORKER_THREAD && server) (void)server_conn_get(server);
    return NULL;
}

static void thread_stopping(const struct mg_context *ctx, int thread_type, void *thread_data)
{
    (void)ctx;
    (void)thread_type;
    (void)thread_data;
    server_conn_release();
}

static int log_message(const struct mg_connection *conn, const char *message)
{
    const struct mg_context *ctx = mg_get_context(conn);
    dala_server *server = ctx ? mg_get_user_data(ctx) : NULL;
    if (server && !server->options.quiet) {
        pthread_mutex_lock(&server->lock);
        fprintf(server->log, "civetweb: %s\n", message);
        pthread_mutex_unlock(&server->lock);
    }
    return 1;
}

static int start_civetweb(dala_server *server)
{
    char threads[16], timeout[16];
    snprintf(threads, sizeof threads, "%d", server->options.num_threads);
    snprintf(timeout, sizeof timeout, "%d", server->options.request_timeout_ms);
    const char *config[] = {"listening_ports", server->listen,
                            "num_threads", threads,
                            "request_timeout_ms", timeout,
                            "enable_directory_listing", "no",
                            "enable_keep_alive", "yes",
                            "keep_alive_timeout_ms", "5000",
                            NULL};
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.init_thread = thread_started;
    callbacks.exit_thread = thread_stopping;
    callbacks.log_message = log_message;
    server->ctx = mg_start(&callbacks, server, config);
    if (!server->ctx)
        return dala_error_set(DALA_EIO, "start HTTP server on %s: cannot listen there (in use?)",
                              server->listen);
    mg_set_request_handler(server->ctx, "/v1/health$", route_health, server);
    mg_set_request_handler(server->ctx, "/v1/ready$", route_ready, server);
    mg_set_request_handler(server->ctx, "/metrics$", route_metrics, server);
    mg_set_request_handler(server->ctx, "/v1/enroll$", route_enroll, server);
    mg_set_request_handler(server->ctx, "/v1/sync$", route_sync, server);
    mg_set_request_handler(server->ctx, "/v1/", route_web_api, server);
    mg_set_request_handler(server->ctx, "/", route_web_asset, server);
    return DALA_OK;
}

/* Every minute, and once more at stop: ended web sessions deleted, a
 * checkpoint that also truncates the WAL when no reader holds it (so long
 * readers cannot grow it without bound), the epoch mark beside the
 * database, and old key secrets destroyed once their time is up
 * (server_keys.c). Every second, when no sync has run for a second, the text
 * search index catches up with the records written since, in small
 * transactions, stopping as soon as a sync comes: indexing uses the quiet
 * moments, and a search reads the records not yet indexed directly. */
#define MAINTENANCE_SECONDS 60
#define TEXT_INDEX_SECONDS 1
#define TEXT_INDEX_BATCH 200
#define QUIET_MS 1000

/* Sessions of the supervisors' pages that have ended are deleted. */
static void forget_ended_sessions(sqlite3 *db)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "DELETE FROM web_session WHERE seen_at <= ?1 OR created_at <= ?2", -1, &stmt, NULL))
        return;
    int64_t now = (int64_t)time(NULL);
    sqlite3_bind_int64(stmt, 1, now - WEB_SESSION_IDLE_SECONDS);
    sqlite3_bind_int64(stmt, 2, now - WEB_SESSION_MAX_SECONDS);
    sqlite3_step(stmt);
    sqlite3_finalize(stmt);
}

static void maintain(dala_server *server, sqlite3 *db)
{
    sqlite3_busy_timeout(db, 200); /* never hold writers up for long */
    forget_ended_sessions(db);
    if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL) == SQLITE_OK)
        metrics_note_checkpoint(&server->metrics, (int64_t)time(NULL));
    server_epoch_mark(server, db);
    server_keys_refresh(server, db); /* old secrets destroyed on time, syncs or not */
}

static int is_stopping(dala_server *server)
{
    pthread_mutex_lock(&server->lock);
    int stopping = server->is_stopping;
    pthread_mutex_unlock(&server->lock);
    return stopping;
}

void server_note_sync(dala_server *server, int begins)
{
    __atomic_add_fetch(&server->syncs_in_flight, begins ? 1 : -1, __ATOMIC_RELAXED);
    __atomic_store_n(&server->last_sync_ms, (int64_t)dala_wall_clock_ms(), __ATOMIC_RELAXED);
}

static int is_quiet(dala_server *server)
{
    int64_t last = __atomic_load_n(&server->last_sync_ms, __ATOMIC_RELAXED);
    return __atomic_load_n(&server->syncs_in_flight, __ATOMIC_RELAXED) == 0 &&
           (int64_t)dala_wall_clock_ms() - last >= QUIET_MS;
}

/* Indexes in batches while the server is quiet, until nothing is left. */
static void index_text(dala_server *server, sqlite3 *db)
{
    size_t indexed = TEXT_INDEX_BATCH;
    sqlite3_busy_timeout(db, 200);
    while (indexed == TEXT_INDEX_BATCH && is_quiet(server) && !is_stopping(server))
        if (server_text_index_catch_up(db, TEXT_INDEX_BATCH, &indexed)) break;
}

static void *maintenance_thread(void *context)
{
    dala_server *server = context;
    sqlite3 *db = NULL;
    if (server_db_open(&db, server->db_path)) return NULL;
    int ticks = 0;
    pthread_mutex_lock(&server->lock);
    while (!server->is_stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += TEXT_INDEX_SECONDS;
        if (pthread_cond_timedwait(&server->wake, &server->lock, &until) == 0 && server->is_stopping) break;
        pthread_mutex_unlock(&server->lock);
        index_text(server, db);
        if (++ticks * TEXT_INDEX_SECONDS >= MAINTENANCE_SECONDS) {
            maintain(server, db);
            ticks = 0;
        }
        pthread_mutex_lock(&server->lock);
    }
    pthread_mutex_unlock(&server->lock);
    maintain(server, db);
    sqlite3_close(db);
    return NULL;
}

int dala_server_start(dala_server **out, const dala_server_options *options)
{
    *out = NULL;
    if (!options || options->version != DALA_SERVER_OPTIONS_VERSION || !options->db_path ||
        !options->listen || options->num_threads < 1 || options->max_body_bytes == 0)
        return dala_error_set(DALA_EINVAL, "start server: incomplete or unknown options");
    dala_server *server = calloc(1, sizeof *server);
    if (!server) return dala_error_set(DALA_ENOMEM, "start server: out of memory");
    server->options = *options;
    server->db_path = strdup(options->db_path);
    server->listen = strdup(options->listen);
    pthread_mutex_init(&server->lock, NULL);
    pthread_mutex_init(&server->keys_lock, NULL);
    pthread_mutex_init(&server->keys_refresh_lock, NULL);
    pthread_cond_init(&server->wake, NULL);
    throttle_init(&server->enrol_failures, 10, 600);
    throttle_init(&server->sign_in_failures, WEB_SIGN_IN_FAILURES_PER_LOGIN, WEB_SIGN_IN_WINDOW_SECONDS);
    throttle_init(&server->sign_in_addresses, WEB_SIGN_IN_FAILURES_PER_ADDRESS, WEB_SIGN_IN_WINDOW_SECONDS);
    dala_hlc_init(&server->clock, 0);
    metrics_init(&server->metrics, (int64_t)time(NULL));
    server->log = stderr;
    int rc = DALA_OK;
    if (!server->db_path || !server->listen) rc = dala_error_set(DALA_ENOMEM, "start server: out of memory");
    if (!rc) rc = addr_list_parse(&server->trusted_proxies, options->trusted_proxies, "trusted_proxies");
    if (!rc) rc = addr_list_parse(&server->metrics_allow, options->metrics_allow ? options->metrics_allow : "127.0.0.1",
                                  "metrics_allow");
    if (!rc && options->ready_min_free_mb < 0)
        rc = dala_error_set(DALA_EINVAL, "start server: ready_min_free_mb is negative");
    if (!rc && options->access_log) {
        server->log = server_file_open_append(options->access_log);
        server->owns_log = server->log != NULL;
        if (!server->log) rc = dala_error_set(DALA_EIO, "open log %s", options->access_log);
    }
    mg_init_library(0);
    if (!rc) rc = server_db_prepare(server);
    if (!rc) rc = session_table_new(&server->sessions, 4096);
    if (!rc) rc = start_civetweb(server);
    if (!rc) server->has_maintenance = pthread_create(&server->maintenance, NULL, maintenance_thread, server) == 0;
    if (rc) {
        dala_server_stop(server);
        return rc;
    }
    *out = server;
    return DALA_OK;
}

int dala_server_port(const dala_server *server)
{
    struct mg_server_port ports[4];
    int n = mg_get_server_ports(server->ctx, 4, ports);
    return n > 0 ? ports[0].port : -1;
}

/* CivetWeb 1.15 notices a stop only when its listening thread wakes, on
 * the next connection or after about two seconds; this thread knocks on
 * the server's own port until the stop is done, so stopping is quick. */
typedef struct knocker {
    int port;
    volatile int is_done;
} knocker;

static void *knock_until_stopped(void *context)
{
    knocker *k = context;
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)k->port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < 500 && !k->is_done; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0) {
            connect(fd, (struct sockaddr *)&address, sizeof address);
            close(fd);
        }
        usleep(10000);
    }
    return NULL;
}

void dala_server_stop(dala_server *server)
{
    if (!server) return;
    if (server->ctx) {
        knocker k = {dala_server_port(server), 0};
        pthread_t thread;
        int has_knocker = k.port > 0 && pthread_create(&thread, NULL, knock_until_stopped, &k) == 0;
        mg_stop(server->ctx); /* waits for the requests in flight */
        k.is_done = 1;
        if (has_knocker) pthread_join(thread, NULL);
    }
    if (server->has_maintenance) {
        pthread_mutex_lock(&server->lock);
        server->is_stopping = 1;
        pthread_cond_signal(&server->wake);
        pthread_mutex_unlock(&server->lock);
        pthread_join(server->maintenance, NULL);
    }
    if (server->owns_log) fclose(server->log);
    session_table_free(server->sessions);
    server_keyring_wipe(&server->keyring);
    server_key_config_wipe(&server->key_config);
    pthread_mutex_destroy(&server->keys_lock);
    pthread_mutex_destroy(&server->keys_refresh_lock);
    pthread_mutex_destroy(&server->lock);
    pthread_cond_destroy(&server->wake);
    throttle_destroy(&server->enrol_failures);
    throttle_destroy(&server->sign_in_failures);
    throttle_destroy(&server->sign_in_addresses);
    free(server->db_path);
    free(server->listen);
    free(server);
}

void server_client_addr(client_addr *out, const dala_server *server, const struct mg_connection *conn)
{
    client_addr_get(out, &server->trusted_proxies, conn);
}

uint64_t server_hlc_now(dala_server *server)
{
    uint64_t now = 0;
    pthread_mutex_lock(&server->lock);
    dala_hlc_now(&now, &server->clock, dala_wall_clock_ms());
    pthread_mutex_unlock(&server->lock);
    return now;
}

int64_t server_now(const dala_server *server)
{
    if (server->options.clock) return server->options.clock(server->options.clock_context);
    return (int64_t)time(NULL);
}

int server_hlc_receive(dala_server *server, uint64_t remote)
{
    uint64_t now;
    pthread_mutex_lock(&server->lock);
    int rc = dala_hlc_receive(&now, &server->clock, remote, dala_wall_clock_ms());
    pthread_mutex_unlock(&server->lock);
    return rc;
}
