/* metrics.h - what GET /metrics tells Prometheus (text exposition format
 * 0.0.4): requests by route template and status, sync durations, changes
 * applied and refused, open sessions, throttled requests, the database's
 * and WAL's sizes and the age of the last checkpoint. Counters are C11
 * atomics in fixed tables, so counting costs a few relaxed additions and
 * never a lock. No personal data and no ids: routes are counted by their
 * template ("/v1/records/{id}"). */
#ifndef DALA_METRICS_H
#define DALA_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

struct mg_connection;
struct dala_server;

/* The route templates counted; anything else is "other". */
#define METRICS_ROUTES 32
/* The statuses counted one by one; anything else is counted as its class. */
#define METRICS_STATUSES 20
/* Sync duration histogram buckets (seconds), +Inf apart. */
#define METRICS_SYNC_BUCKETS 12

typedef struct server_metrics {
    atomic_uint_fast64_t requests[METRICS_ROUTES][METRICS_STATUSES];
    atomic_uint_fast64_t sync_buckets[METRICS_SYNC_BUCKETS + 1]; /* the last: +Inf */
    atomic_uint_fast64_t sync_count;
    atomic_uint_fast64_t sync_micros; /* the sum, in microseconds */
    atomic_uint_fast64_t changes_applied;
    atomic_uint_fast64_t changes_refused;
    atomic_int_fast64_t last_checkpoint_s; /* unix seconds of the last complete checkpoint; 0: none yet */
    int64_t started_s;                     /* unix seconds of the start */
} server_metrics;

/* Zeroes every counter; `now_s` is the start time. */
void metrics_init(server_metrics *m, int64_t now_s);
/* Counts one answered request of `path` (its template, not itself) with `status`. */
void metrics_count_request(server_metrics *m, const char *path, int status);
/* Counts one sync that took `elapsed_ms`, with the changes its push held
 * that were applied and refused. */
void metrics_count_sync(server_metrics *m, double elapsed_ms, uint64_t applied, uint64_t refused);
/* Notes a complete WAL checkpoint at `now_s`. */
void metrics_note_checkpoint(server_metrics *m, int64_t now_s);
/* The route template `path` is counted under ("/v1/records/{id}"). */
const char *metrics_route_template(const char *path);

/* GET /metrics: the exposition, to the addresses of metrics_allow only
 * (anyone else: 404). */
int route_metrics(struct mg_connection *conn, void *server);

#endif /* DALA_METRICS_H */
