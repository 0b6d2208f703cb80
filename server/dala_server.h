/* dala_server.h - dala-server as a library: start the sync server in a
 * process (the daemon's main, and the tests, which run it on
 * 127.0.0.1:0), and the administration the same binary offers
 * (organisation tree, users and their accounts, enrolment codes, revoking
 * devices). */
#ifndef DALA_SERVER_H
#define DALA_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct dala_server dala_server;

typedef struct dala_server_options {
    int version;                /* DALA_SERVER_OPTIONS_VERSION */
    const char *db_path;        /* the central SQLite database; created if missing */
    const char *listen;         /* "127.0.0.1:8080"; port 0 picks a free one */
    /* CivetWeb worker threads (default 128). CivetWeb gives each open
     * connection a thread until it closes, so this is how many clients can
     * be served at once, slow ones (a tablet on a weak mobile link, or a
     * client trickling bytes) included; each thread opens its own SQLite
     * connection when it first needs one (up to 2 MB of page cache). */
    int num_threads;
    size_t max_body_bytes;      /* largest request body accepted */
    int request_timeout_ms;     /* CivetWeb's request_timeout_ms */
    uint32_t max_pull_changes;  /* the largest page a pull answers with */
    const char *access_log;     /* path of the one-line-per-request log; NULL: stderr */
    int quiet;                  /* no request log at all */
    /* The wall clock of the report notes' deadlines and filing times, in
     * unix seconds; NULL: the system's. Tests set it to a chosen day. */
    int64_t (*clock)(void *context);
    void *clock_context;
    /* The key file of the server's secrets, one per key epoch (mode 0600;
     * docs/protocol.md, "Server keys and rotation"); NULL: "<db_path>.keys". */
    const char *key_file;
    /* A file holding the 64 hex digits of an AES-256 key that wraps the key
     * file (it must not be readable by others); NULL: the environment
     * variable DALA_SERVER_KEY_WRAP if set, else the key file is plain. */
    const char *key_wrap_file;
    /* The addresses of the reverse proxies in front of the server (a TLS
     * front), comma-separated IPv4 or IPv6 addresses or CIDR ranges
     * ("127.0.0.1,10.1.0.0/16"); NULL or "": none. Only from these are
     * X-Forwarded-For and X-Forwarded-Proto believed (client_addr.h). */
    const char *trusted_proxies;
    /* Who may read GET /metrics, in the same form; NULL: "127.0.0.1".
     * Anyone else is answered 404. */
    const char *metrics_allow;
    /* GET /v1/ready answers 503 when the database's folder has less free
     * space than this, in MiB (default 256; 0: not checked). */
    int64_t ready_min_free_mb;
} dala_server_options;

#define DALA_SERVER_OPTIONS_VERSION 3
#define DALA_SERVER_OPTIONS_INIT                                                                                  \
    {DALA_SERVER_OPTIONS_VERSION, "dala-server.db", "127.0.0.1:8080", 128, (size_t)32 << 20, 30000, 2000, NULL, 0, \
     NULL, NULL, NULL, NULL, NULL, NULL, 256}

/* Opens (creating and migrating) the database and starts serving. On
 * DALA_OK `*out` is running; stop it with dala_server_stop. */
int dala_server_start(dala_server **out, const dala_server_options *options);
/* The TCP port the server listens on (useful after port 0). */
int dala_server_port(const dala_server *server);
/* Finishes the requests in flight, stops the workers, closes the
 * database. NULL is fine. */
void dala_server_stop(dala_server *server);
/* Opens the request log (options.access_log) again by its path, so a log
 * that logrotate moved away goes on in a new file; the old one is closed
 * after the switch, and no line is lost or split. Not async-signal-safe:
 * a SIGHUP handler sets a flag and the main loop calls this. DALA_OK (also
 * when the log is stderr) or DALA_EIO, the old log kept. */
int dala_server_log_reopen(dala_server *server);

/* --- administration (on the database file, server running or not) --- */

typedef struct dala_admin dala_admin;

int dala_admin_open(dala_admin **out, const char *db_path);
void dala_admin_close(dala_admin *admin);

/* Adds an organisational unit under `parent_id` (0 for the root).
 * kind: ministry, committee, department, body or unit. */
int dala_admin_unit_add(int64_t *id_out, dala_admin *admin, int64_t parent_id, const char *kind,
                        const char *name);
/* Adds a unit with its Kazakh and Russian names (either may be NULL: the
 * other, or `name`, stands in). `name`, what administrators look a unit
 * up by, defaults to the Russian name. DALA_EINVAL (no name, a kind not
 * in the list: the message names the kinds) or DALA_EIO. */
int dala_admin_unit_add_named(int64_t *id_out, dala_admin *admin, int64_t parent_id, const char *kind,
                              const char *name, const char *name_kk, const char *name_ru);
/* Renames a unit: its Kazakh name, its Russian name (also its look-up
 * name), or both (NULL: unchanged); audited as "unit_edit" by
 * `by_user_id` (0: the command line). DALA_EINVAL (neither given),
 * DALA_ENOTFOUND, DALA_EBUSY or DALA_EIO. */
int dala_admin_unit_rename(dala_admin *admin, int64_t unit_id, const char *name_kk, const char *name_ru,
                           int64_t by_user_id);
/* DALA_OK if `role` is one of inspector, unit_head, deputy, analyst,
 * admin; else DALA_EINVAL with dala_errmsg() "role must be one of: ...". */
int dala_admin_role_check(const char *role);
/* Adds a user. role: inspector, unit_head, deputy, analyst or admin.
 * DALA_EINVAL (no login, another role), DALA_ECONFLICT (the login is
 * taken) or DALA_EIO. */
int dala_admin_user_add(int64_t *id_out, dala_admin *admin, const char *login,
                        const char *full_name, const char *role, int64_t unit_id);

/* What disabling an account did. */
typedef struct dala_admin_disabled {
    int64_t sessions_ended;  /* web sessions deleted */
    int64_t active_tablets;  /* the user's tablets neither revoked nor lost: they keep syncing */
} dala_admin_disabled;

/* The account changes below each run in one transaction with their audit
 * entry, written as by `by_user_id` (0: the administration command) under
 * the user's unit. Each returns DALA_ENOTFOUND (no such user), DALA_EBUSY
 * or DALA_EIO besides what it names. */

/* Disables an account: the user cannot sign in, their web sessions are
 * deleted (they end at once), their unused enrolment codes too, and no new
 * code is made for them. Their tablets keep syncing until revoked or
 * marked lost (nothing captured is stranded): `out` (may be NULL) says how
 * many are still active. Audit "user_disable". DALA_ECONFLICT if disabled
 * already. */
int dala_admin_user_disable(dala_admin_disabled *out, dala_admin *admin, int64_t user_id, int64_t by_user_id);
/* Enables a disabled account again: the user can sign in with the password
 * they had. Audit "user_enable". DALA_ECONFLICT if it was not disabled. */
int dala_admin_user_enable(dala_admin *admin, int64_t user_id, int64_t by_user_id);
/* Renames a user, moves them to unit `unit_id` or gives them another role
 * (NULL or 0: unchanged). Their sessions keep going and see the new scope
 * and role from their next request. Audit "user_edit" naming what changed
 * (never the names), under the old unit and, when moved, the new one too.
 * DALA_EINVAL (a bad role or name, nothing to change). */
int dala_admin_user_edit(dala_admin *admin, int64_t user_id, const char *full_name, const char *role,
                         int64_t unit_id, int64_t by_user_id);
/* Gives a user a new password (at least 10 characters; copied, never
 * kept) and ends their web sessions. Audit "user_password". DALA_EINVAL
 * for a short password. */
int dala_admin_user_password_reset(dala_admin *admin, int64_t user_id, const char *password, int64_t by_user_id);
/* Sets a user's password for the supervisors' pages (at least 10
 * characters), kept as PBKDF2-HMAC-SHA256 with a new salt. Not audited and
 * sessions are kept: for setting up; dala_admin_user_password_reset is the
 * administrator's reset. */
int dala_admin_user_password(dala_admin *admin, int64_t user_id, const char *password);
/* Makes a single-use enrolment code for `user_id` in `unit_id`, valid for
 * `ttl_seconds`; `code_out` (at least 16 bytes) gets "XXXX-XXXX-XXXX". */
int dala_admin_code_new(char *code_out, dala_admin *admin, int64_t user_id, int64_t unit_id,
                        int ttl_seconds);
/* Revokes a device: its next sync is refused. */
int dala_admin_device_revoke(dala_admin *admin, int64_t device_id);
/* Marks a device lost, in one transaction with its audit entry
 * ("device_lost"): from its next sync on, the server takes nothing from it
 * and tells it to erase its store (docs/protocol.md, 10.8). `by_user_id` is
 * the supervisor who marked it (0: the administration command). A revoked
 * device may be marked lost too. Returns DALA_OK, DALA_ENOTFOUND (no such
 * device), DALA_ECONFLICT (marked lost already), DALA_EBUSY or DALA_EIO. */
int dala_admin_device_lost(dala_admin *admin, int64_t device_id, int64_t by_user_id);
/* What dala_admin_rotate_key did. */
typedef struct dala_key_rotation {
    uint32_t epoch;                 /* the new current key epoch */
    uint8_t public_key[32];         /* its X25519 public key */
    char fingerprint[20];           /* SHA-256 of it, 8 bytes: "abcd ef01 2345 6789" */
    uint32_t previous_epoch;        /* the epoch it follows (0: none) */
    int64_t previous_destroy_after; /* when that one's secret is destroyed, unix seconds */
    size_t destroyed_count;         /* older secrets destroyed now, their time being up */
} dala_key_rotation;

/* Starts a new server key epoch: a fresh X25519 secret is added to the key
 * file (`key_file`, NULL: "<db>.keys"; wrapped as dala_server_options'
 * `key_wrap_file` says) and is current from now on; the secrets held
 * before are destroyed `grace_seconds` from now (the command's default is
 * 30 days). Tablets learn the new key at their next sync, authenticated
 * under the old one; a tablet that has not synced when the grace period
 * ends must enrol again. A running server picks the change up at its next
 * sync. The key file is rewritten atomically and durably under the
 * database's write lock. DALA_EINVAL (negative grace), DALA_ENOTFOUND
 * (key file missing though the database had one), DALA_EAUTH (wrapping
 * key), DALA_ECORRUPT, DALA_ELIMIT, DALA_EBUSY, DALA_EIO. */
int dala_admin_rotate_key(dala_key_rotation *out, dala_admin *admin, const char *key_file,
                          const char *key_wrap_file, int64_t grace_seconds);
/* Looks up a unit by its code (e.g. "pd-astana") or name, or a user by
 * login; DALA_ENOTFOUND if none. */
int dala_admin_unit_find(int64_t *id_out, dala_admin *admin, const char *name);
int dala_admin_user_find(int64_t *id_out, dala_admin *admin, const char *login);
/* Calls `fn` for every record the central database holds, in unit log
 * order: its id (text), table, unit name, log position and the number of
 * open conflicts about it. No field values: this is for operators. */
typedef int (*dala_admin_record_fn)(void *context, const char *record_id, const char *table,
                                    const char *unit_name, int64_t seq, int open_conflicts);
int dala_admin_record_list(dala_admin *admin, dala_admin_record_fn fn, void *context);

/* The unit a user belongs to. */
int dala_admin_user_unit(int64_t *unit_id_out, dala_admin *admin, int64_t user_id);
/* The top of the organisation tree (the Ministry, seeded by the schema). */
int dala_admin_root_unit(int64_t *id_out, dala_admin *admin);

/* Publishes a questionnaire (JSON, docs/domain.md "Surveys") as a
 * survey_form record held by `unit_id` (0: the top of the tree), so every
 * tablet below that unit receives it at its next sync. `id_out` (37
 * bytes) gets the form record's id. DALA_EINVAL if the definition is not
 * a valid questionnaire (dala_errmsg says what), DALA_ECONFLICT if this
 * code and version are already published there. */
int dala_admin_form_publish(char *id_out, dala_admin *admin, const char *definition, int64_t unit_id);

/* Records a review decision on record `record_id`: `decision` "approve"
 * or "return" (then `comment` is required), by `reviewer`. The decision is
 * a `review` record of the reviewed record's unit, so it reaches that
 * unit's tablets at their next sync. `id_out` (37 bytes) gets its id.
 * DALA_ENOTFOUND if there is no such record; DALA_EINVAL with the rule
 * that refused it ("review.comment: required_when decision"). */
int dala_admin_review(char *id_out, dala_admin *admin, const char *record_id, const char *decision,
                      const char *comment, const char *reviewer);

#endif /* DALA_SERVER_H */
