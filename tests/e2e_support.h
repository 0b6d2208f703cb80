/* e2e_support.h - what the end-to-end suites (test_e2e.c,
 * test_merge_policy.c, and the API suites test_web_api.c, test_safety.c,
 * test_reports.c, test_cli_capture.c) build their tests from: record
 * sets, enrolled devices and captures, a device's fields and conflicts, a
 * transport that spoils one round trip, reads of the central database,
 * the convergence checks, reads and checks of JSON answers through
 * SQLite's JSON functions, and a program run with a timeout. */
#ifndef DALA_E2E_SUPPORT_H
#define DALA_E2E_SUPPORT_H

#include "server_harness.h" /* dala_sync.h, which must come before dala.h */

#include "dala.h"
#include "records_gen.h"

#include <sqlite3.h>

/* The fields a new field visit needs. */
#define VISIT "\"visit_date\": \"2024-01-15\", \"purpose\": \"preventive_visit\""
/* Every round trip's bound: a hung test fails instead of hanging. */
#define E2E_TIMEOUT_MS 10000


/* Record ids, each with the fields JSON it was captured with (NULL when
 * the set comes from a listing). */
typedef struct record_set {
    size_t count, alloc;
    char (*ids)[DALA_ID_TEXT_BYTES];
    char **json;
} record_set;

typedef struct listing {
    record_set *set;
    int state; /* a dala_record_state, or -1 for any */
} listing;

/* What the wrapper does to the round trip it spoils. */
typedef enum fault_kind {
    FAULT_NONE = 0,
    FAULT_DROP_REQUEST,  /* fail before anything is sent */
    FAULT_LOSE_ANSWER,   /* deliver, let the server answer, report DALA_EIO */
    FAULT_TAMPER_REQUEST /* flip one bit of the frame's tag, deliver that */
} fault_kind;

/* The built-in transport with one sync POST spoiled. It also keeps copies
 * of frames the server accepted (HTTP 200), for replays. */
typedef struct fault_transport {
    dala_transport transport; /* pass &fault->transport to dala_sync */
    fault_kind kind;
    unsigned fail_at;   /* the sync POST to spoil, counting from 1; 0: none */
    unsigned posts;     /* sync POSTs seen, the spoiled one included */
    unsigned delivered; /* of those, reached the server and were answered */
    dala_buf first_accepted, last_accepted;
} fault_transport;

uint64_t monotonic_ms(void);
/* Stops the harness's in-process server (dala_server_stop is quick). */
void e2e_stop(harness *h);
void set_free(record_set *set);
long set_find(const record_set *set, const char *id);
/* Adds `id` (and a copy of `json`, may be NULL). */
void set_add(record_set *set, const char *id, const char *json);
/* Checks that `got` holds exactly the ids of `want`; names `what` and at
 * most a few missing ids. */
void check_same_ids(const record_set *got, const record_set *want, const char *what);
/* The value at `path` of a JSON text, as text (strings unquoted, objects as
 * JSON), malloc'd; NULL if absent. Uses SQLite's JSON functions. */
char *json_get(const char *json, const char *path);

/* The first column of the first row of `sql` on an in-memory SQLite, with
 * ?1, ?2, ... bound to the `count` texts of `args` (borrowed; a NULL one
 * binds SQL NULL), as text; malloc'd, NULL if there is no row or the value
 * is NULL. A statement that does not prepare fails the running test. */
char *sql_text(const char *sql, const char *const *args, size_t count);
/* The arguments after the first as a const char * array and its length,
 * e.g. sql_text(sql, STRINGS(a, b)). */
#define STRINGS(...) (const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)
/* sql_text with ?1, ?2, ... bound to the texts after `sql`. */
#define SQL_TEXT(sql, ...) sql_text((sql), STRINGS(__VA_ARGS__))
/* `text` (malloc'd, freed here) as an integer; -1 when NULL. Reads what
 * sql_text and json_get return: int_of_text(json_get(json, "$.count")). */
long long int_of_text(char *text);
/* How many items the array at `path` of `json` has; -1 if it is not an
 * array, or `json` is NULL or not JSON. */
long long count_of(const char *json, const char *path);
/* How many items of the array at `path` of `json` have member `key` equal
 * to `value`, compared as text (exact case); 0 when there is no such
 * array. */
long long count_where(const char *json, const char *path, const char *key, const char *value);
/* Member `member` (a JSON path after "$.") of the first item of the array
 * at `path` whose `key` is `value`; malloc'd text, or NULL when there is no
 * such item or the member is absent or JSON null. */
char *member_where(const char *json, const char *path, const char *key, const char *value, const char *member);
/* Checks `got` (malloc'd, freed here) against `want`, failing the running
 * test at `file`:`line` with both and `what` when they differ; a NULL
 * `want` means `got` must be absent (NULL). */
void check_text(const char *file, int line, char *got, const char *want, const char *what);
/* The value at `path` of `json` is `want` (json_get: strings unquoted, true
 * as "1"; NULL: absent or JSON null). */
#define CHECK_JSON(json, path, want) check_text(__FILE__, __LINE__, json_get((json), (path)), (want), (path))
/* In the array at `path`, the item whose `key` is `value` has `member` ==
 * `want` (member_where; NULL: absent). */
#define CHECK_MEMBER(json, path, key, value, member, want) \
    check_text(__FILE__, __LINE__, member_where((json), (path), (key), (value), (member)), (want), (member))
/* Percent-encodes `text` for a URL's query into `out` of `size` bytes
 * (ASCII letters, digits and -_.~ stay as they are); cuts it short rather
 * than overflow. */
void url_encode(char *out, size_t size, const char *text);

/* Whether the objects at `a_path` of `a` and `b_path` of `b` have the same
 * members with equal values (numbers compared as numbers). 1 equal, 0 not,
 * -1 when either is not JSON. `mem` is any SQLite connection. */
int json_objects_equal(sqlite3 *mem, const char *a, const char *a_path, const char *b, const char *b_path);
int json_append_string(dala_buf *out, const uint8_t *text, size_t len);
/* The JSON a device passes to dala_record_put for a generated record:
 * every field but unit_id and officer_id, which the server takes from the
 * enrolled device. malloc'd; NULL on failure. */
char *gen_fields_json(const gen_record *rec);
/* Opens `name`.db in the harness's folder and enrols it as a device of
 * `officer` in `unit` with a fresh code; NULL (after a CHECK) on failure. */
dala_store *device_enrol(harness *h, const char *name, int64_t officer, int64_t unit);
/* The same, sealed at rest under test_keystore_key(), as an app's store. */
dala_store *device_enrol_sealed(harness *h, const char *name, int64_t officer, int64_t unit);
/* A key provider standing in for the platform keystore. */
const dala_store_key *test_keystore_key(void);
dala_status device_status(dala_store *store);
/* Captures `count` generated field visits on `store`; adds each id and
 * its JSON to `into`. */
void capture(record_set *into, dala_store *store, records_gen *gen, int count);
int add_listed(void *context, const dala_record_info *info);
/* Adds the ids of the device's field visits in `state` (-1: any) to `out`. */
void device_records(record_set *out, dala_store *store, int state);
/* The tablets of the API suites, in two departments: a1 and a2 of unit A
 * (officer_a, officer_a2), b1 of unit B, and almaty1 of a unit of
 * pd-almaty-city (below a body "Almaly district police") whose inspector
 * is g.omarova. */
typedef struct api_tablets {
    int64_t almaty_unit, almaty_officer;
    dala_store *a1, *a2, *b1, *almaty1;
} api_tablets;
/* Adds the Almaty unit and its inspector to `h`'s tree and enrols the four
 * tablets into `out`. Returns 0, or -1 after a failed check, with every
 * tablet closed. */
int api_tablets_open(api_tablets *out, harness *h);
/* Closes the four tablets (NULL ones are fine) and empties `t`. */
void api_tablets_close(api_tablets *t);

/* A field's value on a device, as text (json_get of dala_record_get_json's
 * "fields"); malloc'd, NULL if absent. */
char *device_field(dala_store *store, const char *id, const char *field);
/* A field's version on a device (dala_record_get_json's "versions"); {0, 0}
 * after a failed check if it has none. */
dala_version device_field_version(dala_store *store, const char *id, const char *field);

/* The first conflict a device lists (the newest), copied, and how many it
 * lists. */
typedef struct conflict_copy {
    size_t count;
    char conflict_id[DALA_ID_TEXT_BYTES], record_id[DALA_ID_TEXT_BYTES], field[64], loser_value[128], status[16];
    dala_version winner, loser;
} conflict_copy;
/* The conflict `store` lists, copied; fails the running test at `file`:
 * `line` unless it lists exactly one, about `field` of record `id`, with
 * `loser_value` (JSON) as the loser. */
conflict_copy sole_conflict_at(const char *file, int line, dala_store *store, const char *id, const char *field,
                               const char *loser_value);
#define SOLE_CONFLICT(store, id, field, loser_value) \
    sole_conflict_at(__FILE__, __LINE__, (store), (id), (field), (loser_value))

/* Runs `PRAGMA integrity_check` on the database at `path` (waiting up to
 * 10 s for other writers); 1 when it answers "ok", else 0, with the answer
 * or the reason in `result`. */
int integrity_of(char *result, size_t size, const char *path);
/* Fails the running test unless the database at `path` passes it. */
void check_integrity(const char *path);
/* Adds to `acked` every record `device` holds as acknowledged (synced)
 * that it does not hold yet. */
void note_acked(record_set *acked, dala_store *device);
/* One dala_sync through `transport` (NULL: the built-in one), pushing at
 * most `max_push` changes a round trip (0: the default). */
int sync_via(dala_store *store, const dala_transport *transport, uint32_t max_push, dala_sync_stats *stats);
void sync_ok(dala_store *store);
/* sync_ok, then fails the running test (naming the device) if the store
 * still has changes to push or the server refused any. */
void sync_taken(dala_store *store);
int fault_post(void *context, const char *url, const char *content_type, const void *body, size_t body_len, int *status_out, void **response_out, size_t *response_len_out, size_t max_response_bytes, int timeout_ms);
void fault_init(fault_transport *fault, fault_kind kind, unsigned fail_at);
/* Spoils the next sync POST with `kind`. */
void fault_arm_next(fault_transport *fault, fault_kind kind);
void fault_free(fault_transport *fault);
/* Opens the server's database beside the server (or after it died). */
sqlite3 *central_open(const harness *h);
/* The first column of the first row of `sql` with ?1 = a, ?2 = b; -1 on
 * failure. */
long long central_int(const harness *h, const char *sql, int64_t a, int64_t b);
/* The first column of the first row of `sql` on the server's database,
 * with ?1 = a (when `sql` has a parameter), as text; malloc'd, NULL if
 * there is no row or the value is NULL. */
char *central_text(const harness *h, const char *sql, int64_t a);
/* Adds a user named `login` (also their full name) with `role` at `unit`
 * to the server's database, through dala_admin; returns their id, 0 after
 * a failed check. The user has no password yet. */
int64_t central_user_add(const harness *h, const char *login, const char *role, int64_t unit);
/* The id of the unit with code `code` (e.g. "pd-astana") in the server's
 * database, through dala_admin; 0 after a failed check. */
int64_t central_unit_find(const harness *h, const char *code);
/* Adds a unit of `kind` ("unit", "body", ...) named `name` below unit
 * `parent` to the server's database, through dala_admin; returns its id,
 * 0 after a failed check. */
int64_t central_unit_add(const harness *h, int64_t parent, const char *kind, const char *name);
/* Adds the ids of the server's records of `unit` in `table` to `out`. */
void central_records(record_set *out, const harness *h, int64_t unit, const char *table);
/* The field values the server holds for record `id`, as the JSON object
 * dala_record_to_json writes (the devices' writer too); malloc'd, NULL if
 * the record is missing or does not decode. */
char *central_fields_json(sqlite3 *db, const char *id);
/* One field's value on the server, as text (json_get); malloc'd or NULL. */
char *central_field(const harness *h, const char *id, const char *field);
/* Every write of the unit took one log position: as many records as
 * positions handed out. Holds while no record was written twice (no edits,
 * no conflicts). */
void check_unit_log_once(const harness *h, int64_t unit);
/* The server's unit holds exactly `want` (ids, and the captured values
 * where `want` has them), and every device of `devices` holds exactly the
 * same ids with the server's values, with nothing left to push. */
void check_converged(const harness *h, int64_t unit, const record_set *want, dala_store *const *devices, size_t device_count);

/* The text of a shipped questionnaire (schema/forms/vaw-survey-v<version>),
 * with its code replaced by `code` if not NULL; malloc'd. */
char *form_text(int version, const char *code);
/* Publishes a shipped questionnaire at the unit of `unit_code` (NULL: the
 * top of the tree); its record id in `id`. */
void publish_form(harness *h, int version, const char *code, const char *unit_code, char id[DALA_ID_TEXT_BYTES]);

/* Runs the program at argv[0] (a path) with `argv` (NULL-terminated;
 * borrowed), its standard input read from `stdin_path` (NULL: this
 * process's), its standard output written to `stdout_path` and its
 * standard error to `stderr_path` (NULL: into `stdout_path` too), and waits
 * at most `timeout_ms` for it to exit. Returns 0 with its wait status in
 * *wait_status (WIFEXITED, WEXITSTATUS), or -1 if it could not be started
 * or outlived `timeout_ms` (then it was killed by its PID and reaped).
 * A file it cannot open makes the child exit 127. */
int run_with_timeout(int *wait_status, const char *const *argv, const char *stdin_path, const char *stdout_path,
                     const char *stderr_path, uint64_t timeout_ms);

/* The PIN the tests' `dala` runs seal their stores under. */
#define CLI_TEST_PIN "2468-test"

/* Writes `pin` and a newline to the file at `path` (made or replaced),
 * mode 0600 as `dala --pin-file` wants it. 0, or -1 after a failed check. */
int write_pin_file(const char *path, const char *pin);

/* One POST of 16 bytes through `transport` to
 * http://127.0.0.1:`port`/v1/sync, taking an answer of at most
 * `max_answer_bytes` within `timeout_ms`: for the tests of a server that
 * stalls or cuts its answer. Returns the transport's code; its
 * dala_errmsg() (empty on DALA_OK) in `message` (`size` bytes) and the
 * time it took in `*took_ms`. */
int timed_post(const dala_transport *transport, int port, size_t max_answer_bytes, int timeout_ms, char *message,
               size_t size, uint64_t *took_ms);

/* Runs `[/usr/bin/env ENV] dala --store DIR/tablet.db --pin-file
 * DIR/tablet.pin ARGS...` (the PIN file written first with CLI_TEST_PIN,
 * mode 0600) with `input` on its standard input (NULL: /dev/null), and
 * waits at most `timeout_ms` (then it is killed by its PID). `env` is one
 * NAME=VALUE or NULL; `args` ends with NULL; all borrowed. Its output
 * (both streams, through DIR/dala-out.txt) in `*out` (malloc'd; NULL if it
 * did not run), the time it took in `*took_ms` (may be NULL). Returns its
 * exit status, or -1 if it could not run, outlived the timeout or died of
 * a signal. */
int run_dala(char **out, uint64_t *took_ms, const char *dir, const char *env, const char *input,
             const char *const *args, uint64_t timeout_ms);

#endif
