/* sdk_int.h - internals shared by the files of libdala: the store handle,
 * SQLite helpers with their error translation (the one place SQLite codes
 * become dala_err), the meta table, transactions, and the outbox and pull
 * steps the sync loop strings together.
 *
 * libdala records failures with libdala_sync's dala_error_set (from
 * sync_int.h), so dala_errmsg() is one thread-local detail for both. */
#ifndef DALA_SDK_INT_H
#define DALA_SDK_INT_H

#include "sync_int.h" /* before dala.h: it declares the result codes */

#include "dala.h"

#include <sqlite3.h>

/* The schema version every change and frame of this build carries. */
#define DALA_DEFAULT_TIMEOUT_MS 30000
#define DALA_BUSY_TIMEOUT_MS 10000
/* The largest encoded change one write may queue, and the most encoded
 * change bytes one push batch gathers (it takes at least one change), so
 * a batch stays well inside the server's body cap. */
#define DALA_MAX_CHANGE_BYTES ((size_t)8 << 20)
#define DALA_MAX_BATCH_BYTES ((size_t)16 << 20)

struct dala_store {
    sqlite3 *db;
    char *path;
    /* The live sync session (keys of the last handshake), kept in memory
     * only, and when the server will have dropped it. */
    dala_session *session;
    uint64_t session_expires_ms;
    /* The device's key pair, derived from the stored secret at the first
     * sync (an X25519 operation, 0.6 ms) and kept; wiped at close. */
    dala_keypair device_key;
    int has_device_key;
    /* The store's data key as the crypt VFS holds it (crypt_vfs.c); 0 for
     * a plaintext store opened by tests and benchmarks. */
    uint64_t keyring_id;
    /* Erased (dala_store_wipe): db is an empty in-memory stand-in. */
    int wiped;
    /* Copies behind the borrowed strings of dala_store_status. */
    char *status_officer;
    char *status_url;
};

/* --- opening (store.c, store_keyed.c) --------------------------------- */

/* A store handle for `path` (the file made 0600), not yet connected. */
int dala_store_new(dala_store **out, const char *path);
/* Opens store->db on `name` (the path, or for a sealed store the URI of
 * dala_crypt_uri) with the store's pragmas, and migrates it. */
int dala_store_connect(dala_store *store, const char *name, int sealed);
/* Encrypts the plaintext store at `path` in place under `data_key`,
 * writing `key_file` at the step that commits (store_encrypt.c). */
struct dala_key_file;
int dala_store_encrypt_in_place(const char *path, const uint8_t data_key[32], const struct dala_key_file *key_file);
/* For tests: when the environment's DALA_TEST_CRASH_AT names `step`,
 * the process ends at once there (_exit(86)), as a kill would end it. */
void dala_crash_point(const char *step);

/* --- erasing (erase.c) ------------------------------------------------- */

/* Erases the store: wipes the keys in memory, closes the database, shreds
 * every file of the store (store_files.h), and leaves an empty in-memory
 * stand-in so the handle stays safe to use. Returns DALA_EWIPED with `why`
 * in the detail when all went, else the first failure. */
int dala_store_wipe(dala_store *store, const char *why);

/* Releases the store's data key from the crypt VFS and wipes it; nothing
 * when the store holds none (crypt_vfs.c). */
void dala_store_forget_key(dala_store *store);

/* --- SQLite ----------------------------------------------------------- */

/* The hot statements (read and write a record, pending fields) are kept
 * prepared per connection instead of parsed again for every pulled
 * change. `sql` must be a string literal: its address is the key. Hand
 * the statement back with dala_db_release (never sqlite3_finalize);
 * dala_db_cache_drop finalizes a connection's statements before it
 * closes. */
int dala_db_prepare_cached(sqlite3_stmt **out, sqlite3 *db, const char *sql);
void dala_db_release(sqlite3_stmt *stmt);
void dala_db_cache_drop(sqlite3 *db);

/* Translates a SQLite failure into a dala_err, recording "what: SQLite's
 * message (sqlite N)". The one place SQLite codes are mapped. */
int dala_db_error(sqlite3 *db, int sqlite_rc, const char *what);

/* Prepares `sql`; on failure records the error and returns it. */
int dala_db_prepare(sqlite3_stmt **out, sqlite3 *db, const char *sql);

/* Steps a statement expecting SQLITE_DONE; returns DALA_OK or the error. */
int dala_db_step_done(sqlite3_stmt *stmt, const char *what);

/* Runs SQL without results. */
int dala_db_exec(sqlite3 *db, const char *sql, const char *what);

/* BEGIN IMMEDIATE (a write transaction that takes the lock now, so it
 * waits on the busy timeout instead of failing half way), COMMIT and
 * ROLLBACK. rollback ignores failures: it runs on error paths. */
int dala_db_begin(sqlite3 *db);
int dala_db_commit(sqlite3 *db);
void dala_db_rollback(sqlite3 *db);

/* --- meta ------------------------------------------------------------- */

/* Reads an integer key; `fallback` when absent. */
int dala_meta_get_int(int64_t *out, sqlite3 *db, const char *key, int64_t fallback);
/* Reads a text or blob key into malloc'd memory (NUL added); *out NULL and
 * *len 0 when absent. */
int dala_meta_get_bytes(uint8_t **out, size_t *len, sqlite3 *db, const char *key);
int dala_meta_set_int(sqlite3 *db, const char *key, int64_t value);
int dala_meta_set_text(sqlite3 *db, const char *key, const char *value);
int dala_meta_set_blob(sqlite3 *db, const char *key, const void *value, size_t len);

/* The enrolment a write or a sync needs. */
typedef struct dala_enrolment {
    uint64_t device_id;
    uint64_t unit_id;
    uint32_t key_epoch;
    uint64_t server_epoch;
    uint8_t server_public_key[DALA_KEY_BYTES];
    uint8_t device_secret_key[DALA_KEY_BYTES];
    char *server_url; /* malloc'd */
} dala_enrolment;

/* Loads the enrolment; DALA_EINVAL "store is not enrolled" when it is
 * missing. Free with dala_enrolment_wipe (wipes the secret). */
int dala_enrolment_load(dala_enrolment *out, sqlite3 *db);
void dala_enrolment_wipe(dala_enrolment *enrolment);

/* --- fields ---------------------------------------------------------- */

/* The fields of one write, parsed from the app's JSON; owns its names and
 * bytes. base_hlc is left 0 for the caller. */
typedef struct dala_field_list {
    size_t count;
    dala_field *fields;
} dala_field_list;

/* Parses and checks a JSON object of fields (fields.c). DALA_EINVAL and
 * DALA_ELIMIT name the field; never a value. */
int dala_fields_parse(dala_field_list *out, sqlite3 *db, const char *fields_json);
void dala_field_list_free(dala_field_list *list);

/* --- records ---------------------------------------------------------- */

/* Loads a record's row: its table (malloc'd, may be NULL), unit and blob
 * decoded into `record` (DALA_RECORD_INIT). DALA_ENOTFOUND when absent
 * (then *table_out is NULL and the record empty). */
int dala_record_load(char **table_out, uint64_t *unit_out, dala_record *record, sqlite3 *db,
                     const char *record_id);
/* Writes (inserts or replaces) a record's row. */
int dala_record_store(sqlite3 *db, const char *record_id, const char *table, uint64_t unit_id,
                      const dala_record *record);

/* Parses and normalises a record id text into `out` (lowercase). */
int dala_record_id_normalise(char out[DALA_ID_TEXT_BYTES], const char *text);

/* --- outbox ----------------------------------------------------------- */

/* Appends one entry for `change` (encoded here as a one-change batch). */
/* --- checks (checks.c) ------------------------------------------------- */

/* The schema version this app writes and declares: the domain's, unless a
 * test stands in for an older (or newer) app with dala_device_schema_set
 * (a negative version resets; process-wide, for tests only). */
uint32_t dala_device_schema_version(void);
void dala_device_schema_set(int64_t version);
/* Checks a change before it is queued, with the local store for the
 * records it refers to; `stored` is the record as it is (NULL: new).
 * DALA_EINVAL with dala_errmsg() = the refusal in its wire form. */
int dala_device_check(sqlite3 *db, const dala_change *change, const dala_record *stored);

int dala_outbox_append(sqlite3 *db, const dala_change *change, const char *record_id);

/* Within the caller's transaction, after the server's epoch changed (a
 * restore): queues every field version this device wrote, so the server
 * takes back what the restore lost (restore.c). */
int dala_restore_offer_again(sqlite3 *db);

/* --- the device's clock (clock.c) --------------------------------------- */

/* Now, in Unix ms: the server's time at the last sync carried forward by
 * the boot clock while the tablet has not rebooted, else the wall clock. */
int dala_device_clock_ms(uint64_t *out, sqlite3 *db);
/* The wall clock minus the server's, as the last sync measured it (0: never). */
int dala_clock_skew_ms(int64_t *out, sqlite3 *db);
/* The boot clock (CLOCK_BOOTTIME) in ms: read when a request leaves. */
uint64_t dala_boot_clock_ms(void);
/* Within the caller's transaction: keeps the server's time of an answer
 * (`server_time_ms`, the request sent at `sent_boot_ms` of the boot clock)
 * as the device's clock; *skew_ms_out = wall clock minus the server's. */
int dala_clock_observe(int64_t *skew_ms_out, sqlite3 *db, uint64_t server_time_ms, uint64_t sent_boot_ms);
/* Within the caller's transaction: stamps again, from the device's clock,
 * every pending change not yet in a batch whose version is ahead of it by
 * more than half the drift bound (captured under a wrong wall clock). */
int dala_clock_restamp(uint64_t *restamped_out, sqlite3 *db);

/* The batch in flight: its number (0 if none) and its encoding, ready to
 * push. Assembles the next one first when none is in flight and entries
 * wait: in one transaction takes up to `max_changes` pending entries in
 * order, numbers them last_batch_seq + 1 and persists the number. */
typedef struct dala_push_batch {
    uint64_t batch_seq;
    size_t count;
    dala_buf encoded; /* the batch: header, then each entry's change */
} dala_push_batch;

int dala_outbox_next_batch(dala_push_batch *out, sqlite3 *db, size_t max_changes);
void dala_push_batch_free(dala_push_batch *batch);

/* Within the caller's transaction: the server acknowledged `batch_seq`
 * with refusals `rejected`; deletes the acknowledged entries and marks the
 * refused ones. A change refused as stamped too far ahead of the server's
 * clock (DALA_ECLOCK) when it was, by `server_time_ms`, goes back to the
 * queue unnumbered, to be stamped again (clock.c). *rejected_out counts
 * those marked refused. */
int dala_outbox_mark_acked(uint64_t *rejected_out, sqlite3 *db, uint64_t batch_seq,
                           const dala_change_result *rejected, size_t rejected_count,
                           uint64_t server_time_ms);

/* Within the caller's transaction: whether `record_id` has a pending
 * entry that sets `field`. Loads the record's pending field names once:
 * pass the same `names` (a dala_record used as a set, DALA_RECORD_INIT)
 * for every field of one record, cleared by the caller. */
int dala_outbox_pending_fields(dala_record *names, sqlite3 *db, const char *record_id);

/* Counts entries in `state` ("pending" or "rejected"). */
int dala_outbox_count(uint64_t *out, sqlite3 *db, const char *state);

/* --- pull ------------------------------------------------------------- */

/* Applies one decoded response in one transaction (pull.c): the
 * acknowledgement of the batch in flight (`inflight_batch_seq` with its
 * `inflight_count` changes; 0 when none was pushed), a new server epoch,
 * the pulled page (at most `max_changes` changes), the cursors and the
 * time of the sync. On failure nothing of it is kept. */
typedef struct dala_pull_result {
    uint64_t acked;
    uint64_t rejected;
    uint64_t pulled;
    int epoch_reset; /* the server's epoch changed: cursors were dropped */
    int64_t clock_skew_ms; /* the wall clock minus the server's */
} dala_pull_result;

int dala_pull_apply(dala_pull_result *out, sqlite3 *db, uint64_t inflight_batch_seq,
                    size_t inflight_count, const dala_sync_response *response,
                    size_t max_changes, uint64_t sent_boot_ms);

/* --- transport -------------------------------------------------------- */

/* What one built-in transport was made with (dala_transport_http_new). */
typedef struct dala_http_config {
    const char *ca_file;  /* NULL: the system's CAs */
    int max_exchange_ms;  /* 0: ten times the call's timeout_ms */
} dala_http_config;

/* One POST over libcurl (transport_curl.c): the built-in transport's
 * post, with `config`'s settings and the contract of dala_transport's
 * post (status of any kind, answer malloc'd, failures worded in
 * dala_errmsg()). */
int dala_http_post(const dala_http_config *config, const char *url, const char *content_type,
                   const void *body, size_t body_len, int *status_out, void **response_out,
                   size_t *response_len_out, size_t max_response_bytes, int timeout_ms);

/* Posts with `transport` (NULL: built-in), checking its answer. */
int dala_transport_post(const dala_transport *transport, const char *url,
                        const char *content_type, const void *body, size_t body_len,
                        int *status_out, uint8_t **response_out, size_t *response_len_out,
                        size_t max_response_bytes, int timeout_ms);

/* A text member ("error", "code") of an error answer's JSON {"error":
 * "...", "code": "..."}, malloc'd and cut to 300 bytes; NULL if there is
 * none. Error answers are not sealed: advice, never authenticated facts. */
char *dala_http_error_member(sqlite3 *db, const uint8_t *body, size_t len, const char *member);

#endif /* DALA_SDK_INT_H */
