/* server_int.h - what the files of dala-server share: the server object,
 * the per-thread database connection with its prepared statements, and
 * the helpers that answer HTTP requests. */
#ifndef DALA_SERVER_INT_H
#define DALA_SERVER_INT_H

#include "client_addr.h"
#include "dala_server.h"
#include "dala_sync.h"
#include "metrics.h"

#include <civetweb.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>

/* The first key epoch: a server's one static key before any rotation. */
#define SERVER_FIRST_KEY_EPOCH 1
/* The deepest organisation tree walked: ministry > committee > department
 * > body > unit, with room to spare. */
#define SERVER_MAX_TREE_DEPTH 16

/* The statements a worker prepares once and reuses. */
typedef enum server_stmt {
    STMT_DEVICE_BY_ID,
    STMT_RECORD_GET,
    STMT_RECORD_UPSERT,
    STMT_UNIT_NEXT_SEQ,
    STMT_UNIT_SET_NEXT_SEQ,
    STMT_DEVICE_SET_BATCH,
    STMT_DEVICE_LAST_BATCH,
    STMT_DEVICE_SET_SYNCED,
    STMT_PULL_PAGE,
    STMT_UNIT_ANCESTORS,
    STMT_HISTORY_ADD,
    STMT_COUNT
} server_stmt;

/* Writes a record row at log position ?4 by writer ?8 (0: the server),
 * with the list columns ?9..?12 (record_columns.c), for a new record the
 * officer of the creating tablet ?13 (NULL for the server), and the
 * safety keys ?14..?22 (server_record_keys_bind). A tablet's write of a
 * returned record marks it corrected; of an approved one, pending again. */
#define SERVER_RECORD_UPSERT_SQL                                                                        \
    "INSERT INTO record (id, tbl, unit_id, seq, created_by, received_at, data, last_writer, prev_seq, " \
    "occurred_on, risk, about, status, officer_id, reg_registration, reg_erdr, reg_kui, reg_erap, "     \
    "victim, report, place_key, due_on, breached_on) "                                                   \
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "   \
    "?20, ?21, ?22) "                                                                                   \
    "ON CONFLICT (id) DO UPDATE SET prev_seq = record.seq, seq = excluded.seq, data = excluded.data, "  \
    "last_writer = excluded.last_writer, occurred_on = excluded.occurred_on, risk = excluded.risk, "    \
    "status = excluded.status, reg_registration = excluded.reg_registration, "                        \
    "reg_erdr = excluded.reg_erdr, reg_kui = excluded.reg_kui, reg_erap = excluded.reg_erap, "          \
    "victim = excluded.victim, report = excluded.report, place_key = excluded.place_key, "              \
    "due_on = excluded.due_on, breached_on = excluded.breached_on, "                                  \
    "review_state = CASE WHEN excluded.last_writer = 0 THEN record.review_state "                      \
    "WHEN record.review_state = 'returned' THEN 'corrected' "                                          \
    "WHEN record.review_state = 'approved' THEN 'pending' ELSE record.review_state END"
#define SERVER_HISTORY_ADD_SQL \
    "INSERT INTO record_change (record_id, seq, at, device_id, fields, hlc) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"

typedef struct session_table session_table;

/* --- the server's keys (key_file.c, server_keys.c) --------------------- */

/* Epochs a key file remembers, held and destroyed together. */
#define SERVER_MAX_KEYS 32
#define SERVER_WRAP_KEY_BYTES 32
#define SERVER_KEY_WRAP_ENV "DALA_SERVER_KEY_WRAP"
/* "abcd ef01 2345 6789" and a NUL: SHA-256 of a public key, 8 bytes. */
#define SERVER_FINGERPRINT_BYTES 20
/* server_meta rows: where an older build kept the secret, and the mark
 * that the key file was made (so a missing one is an error, not a reason
 * to make a new identity). */
#define SERVER_META_STATIC_SECRET "static_secret"
#define SERVER_META_KEY_FILE_MADE "key_file_made"

/* One key epoch. Unix seconds throughout. */
typedef struct server_key {
    uint32_t epoch;
    int64_t created_at;
    int64_t destroy_after; /* 0: kept (the current key) */
    int64_t destroyed_at;  /* not 0: destroyed, no secret held */
    dala_keypair pair;
} server_key;

/* The key file's epochs, oldest first; the newest held one is current. */
typedef struct server_keyring {
    size_t count;
    server_key keys[SERVER_MAX_KEYS];
} server_keyring;

/* Where the keys are kept and the key that wraps them, if any. */
typedef struct server_key_config {
    char path[4096];
    uint8_t wrap_key[SERVER_WRAP_KEY_BYTES];
    int has_wrap_key;
} server_key_config;

/* What server_keys_update did, for the log and the admin command. */
typedef struct server_key_report {
    int is_made, is_moved, is_wrapped, is_checkpoint_partial;
    uint32_t new_epoch, previous_epoch;
    int64_t previous_destroy_after;
    size_t destroyed_count;
    uint32_t destroyed[SERVER_MAX_KEYS];
} server_key_report;

/* A key file's identity, to notice that another process replaced it. */
typedef struct server_file_stamp {
    uint64_t device, inode;
    int64_t size, mtime_ns;
} server_file_stamp;

/* The key of one epoch, copied out for one sync, and the current one's
 * public half. */
typedef struct server_key_pick_result {
    dala_keypair pair;
    uint32_t current_epoch;
    uint8_t current_public_key[DALA_KEY_BYTES];
} server_key_pick_result;

/* The key file's place (`key_file`, or "<db_path>.keys") and wrapping key
 * (read from `key_wrap_file`, which must not be readable by others, else
 * from $DALA_SERVER_KEY_WRAP; none if neither). DALA_EINVAL, DALA_EIO,
 * DALA_EAUTH. Wipe with server_key_config_wipe. */
int server_key_config_init(server_key_config *out, const char *db_path, const char *key_file,
                           const char *key_wrap_file);
void server_key_config_wipe(server_key_config *config);
/* Reads the key file: DALA_ENOTFOUND if there is none, DALA_ECORRUPT,
 * DALA_EAUTH (wrapped, and no or the wrong wrapping key), DALA_EIO. */
int server_key_file_read(server_keyring *out, int *is_wrapped, const server_key_config *config);
/* Replaces the key file atomically and durably (wrapped when the config
 * has a wrapping key), mode 0600. */
int server_key_file_write(const server_keyring *ring, const server_key_config *config);
void server_key_fingerprint(char out[SERVER_FINGERPRINT_BYTES], const uint8_t public_key[DALA_KEY_BYTES]);
const server_key *server_keyring_current(const server_keyring *ring);
const server_key *server_keyring_find(const server_keyring *ring, uint32_t epoch);
void server_keyring_wipe(server_keyring *ring);
/* In one transaction of `db` (BEGIN IMMEDIATE): reads the key file, or
 * makes it (moving an older database's static secret out as epoch 1);
 * refuses a missing one the database says was made; rotates when
 * `rotate_grace_seconds` >= 0 (a new current epoch, the held ones
 * destroyed that long after `now`); destroys the secrets past their time;
 * writes the file back durably if anything changed, then commits. */
int server_keys_update(server_keyring *out, sqlite3 *db, const server_key_config *config, int64_t now,
                       int64_t rotate_grace_seconds, server_key_report *report);

/* --- failed attempts (throttle.c) -------------------------------------- */

#define THROTTLE_SLOTS 256

typedef struct throttle_slot {
    char key[72];        /* an address or a login */
    int failures;
    time_t window_start;
} throttle_slot;

typedef struct throttle {
    pthread_mutex_t lock;
    int max_failures, window_seconds;
    throttle_slot slots[THROTTLE_SLOTS];
    atomic_uint_fast64_t refused_count; /* requests turned away, for /metrics */
} throttle;

void throttle_init(throttle *t, int max_failures, int window_seconds);
void throttle_destroy(throttle *t);
/* 0 if `key` may try again; else the seconds until it may (at least 1). */
int throttle_blocked(throttle *t, const char *key, time_t now);
/* Counts one failure of `key`. */
void throttle_fail(throttle *t, const char *key, time_t now);
/* Checks and takes one attempt of `key` in one step, before a slow check:
 * 0 when it may try (the attempt now counts as failed; its window goes to
 * `*window_out` for throttle_give_back), else the seconds until it may (at
 * least 1), with nothing counted. */
int throttle_reserve(throttle *t, const char *key, time_t now, time_t *window_out);
/* Gives back an attempt throttle_reserve took in `window`, when it did not
 * fail (the right password, or a failure that was not a guess). */
void throttle_give_back(throttle *t, const char *key, time_t window);

/* One worker thread's connection to the central database. */
typedef struct server_conn {
    const struct dala_server *server; /* which server it belongs to */
    sqlite3 *db;
    sqlite3_stmt *stmts[STMT_COUNT];
} server_conn;

struct dala_server {
    dala_server_options options;
    char *db_path;
    char *listen;
    struct mg_context *ctx;
    server_key_config key_config;
    server_keyring keyring;         /* guarded by keys_lock */
    server_file_stamp key_file_seen; /* guarded by keys_lock */
    pthread_mutex_t keys_lock;
    pthread_mutex_t keys_refresh_lock; /* one reload at a time */
    int64_t keys_next_destroy;      /* unix seconds; 0: none (atomic) */
    int64_t keys_retry_at;          /* after a failed reload (atomic) */
    uint64_t epoch;       /* changes only when the database is replaced */
    pthread_mutex_t lock; /* guards clock and log */
    dala_hlc clock;
    FILE *log;
    int owns_log;
    session_table *sessions;
    pthread_t maintenance;     /* checkpoints and epoch marks (server.c) */
    int has_maintenance;
    pthread_cond_t wake;       /* with lock: stop the maintenance thread */
    int is_stopping;
    int64_t last_sync_ms;       /* when a sync last began or ended (atomic) */
    int syncs_in_flight;        /* (atomic) */
    throttle enrol_failures;    /* per address (enroll.c) */
    throttle sign_in_failures;  /* per login (web_session.c) */
    throttle sign_in_addresses; /* per address (web_session.c) */
    addr_list trusted_proxies;  /* options.trusted_proxies, parsed (client_addr.h) */
    addr_list metrics_allow;    /* options.metrics_allow, parsed */
    server_metrics metrics;     /* metrics.c */
};

/* The client of a request (client_addr.h) with this server's trusted
 * proxies: every throttle and the session cookie use this. */
void server_client_addr(client_addr *out, const dala_server *server, const struct mg_connection *conn);

/* The administration's handle (admin.c): the database, opened directly. */
struct dala_admin {
    sqlite3 *db;
};

/* Adds one entry to the audit trail (web_audit.c): `action` by user
 * `user_id` (0: no one, e.g. the administration command or a tablet),
 * about `unit_id` (0: none) and record `record_id` (NULL: none); `detail`
 * (may be NULL) holds no field values. */
int server_audit_add(sqlite3 *db, int64_t user_id, const char *action, int64_t unit_id, const uint8_t *record_id,
                     const char *detail);

/* --- sync sessions (sessions.c) ---------------------------------------- */

/* How long a session's keys serve further syncs without a handshake. */
#define DALA_SESSION_SECONDS 120

int session_table_new(session_table **out, size_t capacity);
/* Wipes every session. NULL is fine. */
void session_table_free(session_table *table);
/* Stores `session` for `device_id` until `expires_ms`, replacing (and
 * wiping) any other; the table owns it from here. */
void session_table_put(session_table *table, int64_t device_id, dala_session *session,
                       int64_t expires_ms, int64_t now_ms);
/* Takes the device's live session out of the table (the caller owns it
 * until it puts it back). DALA_ESESSION if there is none or it expired. */
int session_table_take(dala_session **out, int64_t *expires_ms, session_table *table,
                       int64_t device_id, int64_t now_ms);

/* --- the running server's keys (server_keys.c) ------------------------ */

/* Loads the keys at start (making or moving them as server_keys_update
 * does) and says in the log what changed. */
int server_keys_start(dala_server *server, sqlite3 *db);
/* Reloads the keys when the key file changed (a rotation by another
 * process) or a secret's destroy-after time passed, through `db`; a
 * failure is logged and the keys in use stay. Cheap when nothing changed. */
void server_keys_refresh(dala_server *server, sqlite3 *db);
/* Copies out the key of `epoch` if it is still held and within its grace
 * period, else DALA_EAUTH saying to enrol again; the current epoch and
 * public key are filled either way. Wipe the result. */
int server_key_pick(server_key_pick_result *out, dala_server *server, uint32_t epoch);
/* The same for the current epoch's key. */
int server_key_pick_current(server_key_pick_result *out, dala_server *server);
void server_key_pick_wipe(server_key_pick_result *pick);

/* --- the server's files (files.c) --------------------------------------- */

/* Makes the folder of `path` (one level), mode 0700, if it is missing. */
int server_folder_make(const char *path);
/* Creates `path` empty, mode 0600 (its folder as server_folder_make), if
 * it does not exist. */
int server_file_create(const char *path);
/* fopen(path, "a") / fopen(path, "w"; with O_EXCL when `is_exclusive`),
 * but created 0600; a log an older build left readable is made 0600. */
FILE *server_file_open_append(const char *path);
FILE *server_file_open_write(const char *path, int is_exclusive);
/* Makes an existing regular file 0600 if group or others had any access:
 * 1 if it did so, 0 if nothing was needed (or no such file), -1 if chmod
 * failed. */
int server_file_tighten(const char *path);
/* Replaces `path` with `data` atomically and durably: a 0600 temporary
 * file written and fsynced, renamed over it, the folder fsynced. */
int server_file_replace(const char *path, const void *data, size_t len);

/* --- database (db.c) ---------------------------------------------------- */

/* Opens a connection with Dala's settings: WAL, synchronous=FULL, foreign
 * keys, a busy timeout. */
int server_db_open(sqlite3 **out, const char *path);
/* Creates or migrates the schema and loads the server's key and epoch. */
int server_db_prepare(dala_server *server);
/* Writes the epoch and the logs' high-water mark beside the database, so
 * a restored (older) copy is detected at the next start. */
int server_epoch_mark(const dala_server *server, sqlite3 *db);
/* This worker thread's connection, opened on first use. NULL on failure
 * (dala_errmsg says why). */
server_conn *server_conn_get(dala_server *server);
/* Closes this thread's connection, if any (at thread exit). */
void server_conn_release(void);
/* A prepared statement of this connection, reset and unbound. */
sqlite3_stmt *server_stmt_get(server_conn *conn, server_stmt which);
/* Records a SQLite failure as DALA_EIO with what was attempted. */
int server_db_error(sqlite3 *db, const char *what);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int server_db_begin(sqlite3 *db);
int server_db_commit(sqlite3 *db);
void server_db_rollback(sqlite3 *db);

/* --- HTTP (http.c) ------------------------------------------------------ */

/* Reads the whole request body into `out`, refusing more than `max_bytes`
 * (chunked bodies included): DALA_ELIMIT; DALA_EINVAL for bad chunked
 * encoding; DALA_EIO if the peer hangs up under a Content-Length. */
int http_read_body(struct mg_connection *conn, dala_buf *out, size_t max_bytes);
/* Sends a JSON error answer {"error": ..., "code": ...}. */
void http_send_error(struct mg_connection *conn, int status, int code, const char *message);
/* Sends a 200 answer with the given content type and body. */
void http_send_ok(struct mg_connection *conn, const char *content_type, const void *body, size_t len);
/* The reason phrase of an HTTP status ("Not Found"). */
const char *http_status_text(int status);
/* The name of a dala_err as answers give it ("EINVAL"). */
const char *http_code_name(int code);
/* The HTTP status that fits a dala_err. */
int http_status_for(int code);
/* The log's time stamp: now in UTC, "2026-12-05T21:13:24Z". */
void server_log_time(char out[32]);
/* Writes the request's one log line (no contents, no personal data). */
void server_log_request(dala_server *server, const struct mg_connection *conn, int status,
                        int64_t device_id, double elapsed_ms);

/* The PBKDF2 work factor of new passwords (web_session.c). */
#define WEB_PBKDF2_ITERATIONS 100000
/* Sets a user's password: PBKDF2-HMAC-SHA256 with a new salt. */
int server_password_set(sqlite3 *db, int64_t user_id, const char *password);
/* DALA_OK if `password` is user `user_id`'s, else DALA_EAUTH (in the same
 * time either way). */
int server_password_check(sqlite3 *db, int64_t user_id, const char *password);

/* SHA-256 of an enrolment code with dashes, spaces and case removed. */
int server_code_hash(uint8_t out[32], const char *code);

/* --- routes ------------------------------------------------------------- */

int route_health(struct mg_connection *conn, void *server);
int route_enroll(struct mg_connection *conn, void *server);
int route_sync(struct mg_connection *conn, void *server);
/* GET /v1/ready (ready.c): the database opens and takes a write,
 * migrations are done, the disk has room; 200 or 503 with the reason. */
int route_ready(struct mg_connection *conn, void *server);

/* --- sync (apply.c, pull.c) --------------------------------------------- */

/* The device a sync frame names, as the server knows it. */
typedef struct server_device {
    int64_t id;
    int64_t user_id;
    int64_t unit_id;
    uint8_t public_key[DALA_KEY_BYTES];
    int is_revoked;
    int is_lost; /* marked lost: answered with DALA_DEVICE_LOST, nothing taken */
} server_device;

int server_device_load(server_device *out, server_conn *conn, int64_t device_id);

/* The outcome of applying one push. */
typedef struct push_result {
    uint64_t acked_batch_seq;
    size_t rejected_count;
    dala_change_result *rejected; /* reasons point into `reasons` */
    dala_buf reasons;
} push_result;

void push_result_free(push_result *result);

/* --- records the server writes (server_record.c) ----------------------- */

/* Today's local date, "YYYY-MM-DD". */
void server_today(char out[11]);
/* Writes a new record of `table` held by `unit_id` with `fields`, checked
 * by the domain rules with the server as writer (references must be of the
 * same unit), at the next position of the unit's log; inside the caller's
 * transaction. `id_out` gets its id. DALA_EINVAL with the refusal
 * ("review.comment: required_when decision") in dala_errmsg. */
int server_record_write(char id_out[DALA_UUID_TEXT_LEN + 1], sqlite3 *db, int64_t unit_id, const char *table,
                        dala_field *fields, size_t count);
/* Sets `fields` of the stored record `id_text` as the server's version
 * `hlc` (above every version the record holds), checked against the stored
 * record, at the next position of its unit's log; inside the caller's
 * transaction. A field with a NULL value is cleared. DALA_ENOTFOUND. */
int server_record_update(sqlite3 *db, const char *id_text, uint64_t hlc, dala_field *fields, size_t count);

/* --- what lists filter by (record_columns.c) --------------------------- */

/* The registers whose numbers have a column (migration 008), in column
 * order: `name` as records.json's "register" names it. */
#define SERVER_REGISTER_COUNT 4
typedef struct server_register {
    const char *name;   /* "erdr" */
    const char *column; /* "reg_erdr" */
} server_register;

extern const server_register server_registers[SERVER_REGISTER_COUNT];

/* The longest register number and address kept as keys (bytes); longer
 * ones are not kept (records.json allows 50 and 500). */
#define SERVER_NUMBER_MAX 256
#define SERVER_PLACE_KEY_MAX 1024

/* The column slot of register `name`, or -1 (NULL, or no column). */
int server_register_index(const char *name);
/* A register number as it is compared: ASCII letters in small case, every
 * space (ASCII white space, U+00A0) removed, the rest as it is; written
 * NUL-terminated to `out`. Returns its length; 0 when it is empty or does
 * not fit in `size` bytes (then `out` holds nothing useful). */
size_t server_register_normalise(char *out, size_t size, const uint8_t *text, size_t len);

/* The columns kept beside a record's blob (migrations 004 and 008). The
 * safety keys are empty ("", 0) for a voided record and where they do not
 * apply. */
typedef struct record_columns {
    char occurred_on[11];          /* "YYYY-MM-DD" */
    const dala_value *risk;        /* risk_level, borrowed from the record; NULL if none */
    uint8_t about[DALA_UUID_BYTES]; /* a conflict's or review's record */
    int has_about;
    const dala_value *status;      /* a conflict's status; NULL otherwise */
    /* migration 008 */
    char numbers[SERVER_REGISTER_COUNT][SERVER_NUMBER_MAX + 1]; /* normalised, by server_registers slot */
    char victim[DALA_UUID_TEXT_LEN + 1]; /* a field visit's or offence's victim_id, small case */
    int is_report;                       /* an offence, or a call-out visit */
    char place_key[SERVER_PLACE_KEY_MAX + 1]; /* a report's address as a key */
    char due_on[11];      /* a visit's follow-up; an order's last day while not ended */
    char breached_on[11]; /* a protective order's breach */
} record_columns;

void server_record_columns(record_columns *out, const char *table, const dala_record *record, int64_t received_at);
/* Binds occurred_on, risk, about and status to parameters first..first+3
 * (borrowed from `columns` and the record until the statement steps). */
void server_record_columns_bind(sqlite3_stmt *stmt, int first, const record_columns *columns);
/* Binds the safety keys to parameters first..first+8: the register
 * numbers (server_registers order), victim, report, place_key, due_on and
 * breached_on, each NULL when empty (borrowed as above). */
void server_record_keys_bind(sqlite3_stmt *stmt, int first, const record_columns *columns);
/* Adds one history row for the write of `fields` (names only) to record
 * `id` at log position `seq`, by version (`hlc`, `device_id`; hlc 0 for
 * the server's own); `stmt` is the connection's STMT_HISTORY_ADD or an
 * equivalent. */
int server_history_add(sqlite3_stmt *stmt, const uint8_t id[DALA_UUID_BYTES], int64_t seq, int64_t at,
                       int64_t device_id, uint64_t hlc, const dala_field *fields, size_t count, dala_buf *scratch);

/* --- the safety panel (web_safety.c; the types are web_int.h's) ------- */

struct json_out;
struct web_request;
struct dala_table_def;

/* Writes the dashboard's `safety` member for the signed-in user's scope
 * (docs/web-api.md): high-risk victims not visited for ?visit_days= days
 * (default 14), protective orders ending within 3 days or breached in the
 * last 30, overdue follow-ups, repeated reports in the last 90 days and
 * duplicate register numbers; each list at most 50 lines with its total.
 * `safety` is null for a role that reads no records. DALA_EINVAL for a bad
 * visit_days (before anything is written), DALA_EIO. */
int web_safety_put(struct json_out *j, struct web_request *r);
/* Writes a record's `duplicates`: for each register number it holds, the
 * other records of its unit with the same number that the user may read,
 * with their dates. `def` (may be NULL) names the fields. DALA_EIO. */
int web_record_put_duplicates(struct json_out *j, struct web_request *r, const uint8_t id[DALA_UUID_BYTES],
                              int64_t unit_id, const struct dala_table_def *def);

/* --- text search (text_index.c) --------------------------------------- */

/* Indexes the text of at most `max_rows` records written since they were
 * last indexed (past the text index's cursor in their unit's log), in one
 * transaction; `*indexed` gets how many. */
int server_text_index_catch_up(sqlite3 *db, size_t max_rows, size_t *indexed);

/* --- scope (scope.c) ---------------------------------------------------- */

/* The units above `unit_id`, nearest first (at most `max`). */
int server_unit_ancestors(int64_t *out, size_t max, size_t *count, server_conn *conn, int64_t unit_id);
/* 1 if record `id_text` of `table` ("*": any) exists and `device` may see
 * it (its unit's, or a published table's of a unit above), then decoded
 * into `record_out` if that is not NULL; 0 if not; a negative error. */
int server_record_in_sight(dala_record *record_out, server_conn *conn, const server_device *device,
                           const char *table, const char *id_text);

/* Applies a push batch from `device` in one transaction and fills
 * `result`; acked_batch_seq is the batch's number once it is committed.
 * The batch last applied (same number and digest) is answered again with
 * its refusals, not applied twice; any other number is applied, gaps and
 * numbers gone backwards included (a restored server or device), because
 * a change merged twice changes nothing. */
int server_apply_push(push_result *result, dala_server *server, server_conn *conn,
                      const server_device *device, const uint8_t *push, size_t push_len);

/* Reads the next page the device may see, from its cursors, and encodes
 * it into `pull` (a batch), with the records it wants whole. Fills the
 * response's cursors, unit, has_more, partial and gone; the caller frees
 * *cursors_out, *gone_out and response->partial. */
int server_read_pull(dala_sync_response *response, dala_buf *pull, dala_cursor **cursors_out,
                     void **gone_out, server_conn *conn, const server_device *device,
                     const dala_sync_request *request, uint32_t max_pull_changes);

/* Notes that a sync begins (`begins` 1) or ends (0) now: the text
 * indexer waits until none runs and a second has passed, so syncs never
 * queue behind it (server.c). */
void server_note_sync(dala_server *server, int begins);

/* Issues a server timestamp (for conflicts the server writes). */
uint64_t server_hlc_now(dala_server *server);
/* The wall clock in unix seconds: options.clock if set, else time(). */
int64_t server_now(const dala_server *server);
/* Checks a device's timestamp against the server clock (drift bound). */
int server_hlc_receive(dala_server *server, uint64_t remote);

#endif /* DALA_SERVER_INT_H */
