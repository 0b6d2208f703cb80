/* dala.h - libdala, the one header a tablet app includes.
 *
 * libdala keeps a device's records in a local SQLite file (the store),
 * queues every local write in an outbox in the same transaction, and
 * reconciles with dala-server through sealed, compressed sync round trips
 * (docs/http-api.md, docs/protocol.md). The app never sees SQLite, zlib or
 * mbedTLS: this header needs only <stddef.h> and <stdint.h>.
 *
 * Conventions (STYLE.md): functions return DALA_OK (0) or a negative
 * DALA_E* code; dala_strerror() names the code and dala_errmsg() gives the
 * detail of the last failure on this thread (what was attempted, on what,
 * why; never record contents). Results come back through a first `out`
 * parameter; what comes back through `**out` or a malloc'd pointer belongs
 * to the caller (free it with dala_free); a `const char *` inside a result
 * struct is borrowed until the next call on the same store. Inputs are
 * copied. A store is used by one thread at a time; two stores (even on the
 * same file, in two processes) may be used at once.
 *
 * If an app also includes dala_sync.h (libdala_sync's own header), it must
 * include it before this one: both declare the result codes. */
#ifndef DALA_H
#define DALA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

#ifndef DALA_SYNC_H
/* The result codes of libdala_sync (sync/dala_sync.h), repeated here so an
 * app needs only this header. Append-only: never renumbered or reused. */
typedef enum dala_err {
    DALA_OK = 0,
    DALA_ENOMEM = -1,    /* an allocation failed */
    DALA_EIO = -2,       /* a file, the network or the server failed */
    DALA_ECORRUPT = -3,  /* malformed input: truncated, overlong, trailing bytes */
    DALA_EAUTH = -4,     /* authentication failed: unknown or revoked device, bad key */
    DALA_ECONFLICT = -5, /* the operation lost to a concurrent one */
    DALA_ESCHEMA = -6,   /* an unknown or unsupported version: update the app */
    DALA_EINVAL = -7,    /* a bad argument from the caller */
    DALA_ELIMIT = -8,    /* a size or count limit was exceeded */
    DALA_ECLOCK = -9,    /* a timestamp too far ahead of local time */
    DALA_ECRYPTO = -10,  /* the crypto library failed (entropy, internal) */
    DALA_ENOTFOUND = -11, /* the thing asked for does not exist */
    DALA_ESESSION = -12,  /* the sync session expired or is unknown: handshake again */
    DALA_EBUSY = -13,     /* the database is busy with other writers: try again shortly */
    DALA_ENOSPACE = -14,  /* the disk is full: nothing was written */
    DALA_EWIPED = -15     /* the store erased itself: too many wrong PINs, or the tablet was marked lost */
} dala_err;

/* Static English text for a code; never NULL, also for unknown codes. */
const char *dala_strerror(int code);

/* The detail of the last failure on this thread; "" when nothing has
 * failed yet. Borrowed until the next failing call on this thread. */
const char *dala_errmsg(void);
#endif

/* Frees memory that libdala handed to the caller (JSON texts). NULL is
 * fine. */
void dala_free(void *memory);

/* ----------------------------------------------------------------- store */

/* A local store: one SQLite file holding the device's records, its outbox
 * of unsent changes, its pull cursors and its enrolment (keys and ids). */
typedef struct dala_store dala_store;

/**
 * Opens (creating if needed, with mode 0600) and migrates a store.
 *
 * The file runs in WAL mode with synchronous=FULL and a busy timeout, so a
 * write that returned DALA_OK survives power loss, and a second process
 * (the `dala` command beside an app) waits instead of failing. Pending
 * schema migrations (schema/device/) are applied, each in its own
 * transaction.
 *
 * @param[out] out  the open store, or NULL on failure; close it with
 *                  dala_store_close.
 * @param path      the file's path; copied.
 * @return DALA_OK, DALA_EINVAL (NULL argument), DALA_EIO (cannot open or
 *         write the file), DALA_ECORRUPT (not a database), DALA_ESCHEMA
 *         (the file was migrated by a newer build), DALA_ENOMEM.
 */
int dala_store_open(dala_store **out, const char *path);
/* (dala_store_open makes and opens a plaintext store: for tests and the
 * benchmark's comparison only. Apps call dala_store_open_keyed.) */

/* Closes the store, wiping its copies of key material. NULL is fine. */
void dala_store_close(dala_store *store);

/* ------------------------------------------------------- the store's key */

/* Every byte of a keyed store (database, WAL, journal, temporary files)
 * is sealed with ChaCha20-Poly1305 under a random 32-byte data key
 * (docs/security.md). The data key is kept, wrapped, in "<path>-key":
 * either by the app's key provider (the platform keystore), or by a key
 * derived from the officer's PIN with PBKDF2-HMAC-SHA256 at 600 000
 * iterations. */

#define DALA_KEY_PROVIDER_VERSION 1
#define DALA_MAX_WRAPPED_KEY_BYTES 512

/* The app's keystore (Android Keystore, iOS Keychain): a key that never
 * leaves the platform wraps and unwraps the store's data key. */
typedef struct dala_key_provider {
    int version; /* DALA_KEY_PROVIDER_VERSION */
    /* Wraps `data_key` (32 bytes) into `wrapped` (room for
     * DALA_MAX_WRAPPED_KEY_BYTES), setting *wrapped_len. DALA_OK or a
     * DALA_E* code. */
    int (*wrap)(void *context, const uint8_t *data_key, uint8_t *wrapped, size_t *wrapped_len);
    /* Unwraps what `wrap` made into `data_key` (32 bytes). DALA_OK;
     * DALA_EAUTH when the keystore refuses (another device's key, the
     * user not authenticated). */
    int (*unwrap)(void *context, const uint8_t *wrapped, size_t wrapped_len, uint8_t *data_key);
    void *context;
} dala_key_provider;

#define DALA_STORE_KEY_VERSION 1
#define DALA_DEFAULT_MAX_WRONG_PINS 10

/* How a store is unlocked: exactly one of `pin` and `provider`. */
typedef struct dala_store_key {
    int version;                       /* DALA_STORE_KEY_VERSION */
    const char *pin;                   /* a PIN or passphrase, 4 to 1024 bytes */
    const dala_key_provider *provider; /* or the app's keystore */
    /* Wrong PINs in a row after which the store erases itself; 0:
     * DALA_DEFAULT_MAX_WRONG_PINS (10), at most 100. Kept in the key
     * file when the key is set; ignored when it is only opened. */
    int max_wrong_pins;
} dala_store_key;

/**
 * Opens a store sealed under `key`, creating it (mode 0600) when the file
 * does not exist, and encrypting in place a store an older build left in
 * plaintext (crash-safe: killed at any moment, the old or the new store
 * opens, nothing lost; no other process may hold the store meanwhile).
 *
 * @return as dala_store_open, and: DALA_EAUTH (a wrong PIN: nothing is
 *         altered but the count of wrong PINs, which dala_errmsg() gives
 *         with the tries left; or the key provider refused);
 *         DALA_EWIPED (that was the last wrong PIN allowed, or the store's
 *         key was gone: the store erased itself); DALA_ECORRUPT (a sealed
 *         page failed its check: the file was changed or damaged).
 */
int dala_store_open_keyed(dala_store **out, const char *path, const dala_store_key *key);

/* Wraps the open store's data key under a new PIN or provider (and wrong
 * PIN limit), replacing the key file atomically; the data is not
 * encrypted again. DALA_OK, DALA_EINVAL (a plaintext store, a bad key),
 * DALA_EIO. */
int dala_store_set_key(dala_store *store, const dala_store_key *key);

/* Erases the store at `path` without opening it: its key first, then
 * every file. DALA_OK, DALA_EIO. */
int dala_store_erase(const char *path);

/* --------------------------------------------------------------- transport */

/* How the SDK sends an HTTP POST. NULL everywhere a transport is taken
 * means the built-in one (libcurl: http:// and https://, the server's
 * certificate checked against the system's CAs; sync frames are sealed end
 * to end in any case). dala_transport_http_new makes a built-in one that
 * checks https:// servers against a CA file. An app passes its own to use
 * the platform's HTTP stack or a proxy. */
#define DALA_TRANSPORT_VERSION 1

typedef struct dala_transport {
    int version; /* DALA_TRANSPORT_VERSION */
    /**
     * POSTs `body` to `url` ("http://host:port/v1/sync") and returns the
     * answer of any HTTP status.
     *
     * @param context       the struct's context, untouched.
     * @param url           the full URL; borrowed for the call.
     * @param content_type  the body's media type; borrowed.
     * @param body          `body_len` bytes; borrowed.
     * @param[out] status_out    the HTTP status code.
     * @param[out] response_out  the response body, malloc'd (freed by the
     *                           SDK with free()); may be NULL when empty.
     * @param[out] response_len_out  its length.
     * @param max_response_bytes  a longer body must fail with DALA_ELIMIT.
     * @param timeout_ms    the longest wait for the answer (the built-in
     *                      one: the longest silence, connecting, sending,
     *                      waiting or receiving).
     * @return DALA_OK when an HTTP answer arrived (whatever its status);
     *         DALA_EIO when the server could not be reached or the
     *         connection failed (record why with dala_transport_error);
     *         DALA_ELIMIT, DALA_ENOMEM.
     */
    int (*post)(void *context, const char *url, const char *content_type, const void *body,
                size_t body_len, int *status_out, void **response_out, size_t *response_len_out,
                size_t max_response_bytes, int timeout_ms);
    void *context;
} dala_transport;

/* For transports: records `detail` as this thread's dala_errmsg() (e.g.
 * "cannot reach 10.0.0.5:8080: connection refused") and returns `code`,
 * so a failing post reads `return dala_transport_error(DALA_EIO, why);`. */
int dala_transport_error(int code, const char *detail);

/* The built-in transport with its defaults (DALA_HTTP_OPTIONS_INIT), the
 * one used wherever a transport is NULL. An app's own transport may call
 * its post, to wrap it (count, log or delay requests; tests use this to
 * lose a request or its answer). Static: never NULL, never freed. */
const dala_transport *dala_transport_builtin(void);

/* The built-in transport's settings (dala_transport_http_new).
 *
 * Each POST is one HTTP/1.1 exchange over libcurl, on a new connection,
 * no redirects followed, no proxy from the environment. It gives up when
 * nothing moves either way for the call's timeout_ms (connecting, the TLS
 * handshake, sending, the wait for the answer, or an answer that stops
 * half way: "the server stopped answering: ..."), and when the exchange
 * as a whole passes max_exchange_ms however slowly bytes still trickle.
 * An https:// server's certificate must chain to a trusted CA and name
 * the URL's host, over TLS 1.2 or later. */
#define DALA_HTTP_OPTIONS_VERSION 1

typedef struct dala_http_options {
    int version;          /* DALA_HTTP_OPTIONS_VERSION */
    const char *ca_file;  /* NULL: the system's CAs; else a PEM file of the only CA certificates an
                             https:// server's certificate may chain to (e.g. a department's own
                             CA); copied */
    int max_exchange_ms;  /* the longest one POST may last in all; 0: ten times its timeout_ms */
} dala_http_options;

#define DALA_HTTP_OPTIONS_INIT {DALA_HTTP_OPTIONS_VERSION, NULL, 0}

/**
 * Makes a built-in transport with `options`, to pass as the transport of
 * dala_store_enroll and dala_sync.
 *
 * @param[out] out  the transport, the caller's (dala_transport_http_free);
 *                  NULL on failure.
 * @param options   NULL for the defaults.
 * @return DALA_OK; DALA_EINVAL (a bad version, a negative limit, a CA file
 *         that cannot be read: dala_errmsg() says which and why);
 *         DALA_ENOMEM.
 */
int dala_transport_http_new(dala_transport **out, const dala_http_options *options);

/* Frees a transport of dala_transport_http_new. NULL, and the static
 * dala_transport_builtin(), are fine (nothing is done). */
void dala_transport_http_free(dala_transport *transport);

/* --------------------------------------------------------------- enrolment */

#define DALA_ENROLL_OPTIONS_VERSION 1

typedef struct dala_enroll_options {
    int version;                        /* DALA_ENROLL_OPTIONS_VERSION */
    const dala_transport *transport;    /* NULL: the built-in one */
    const char *expected_server_key;    /* NULL, or the server key's hex (or a
                                           prefix of at least 16 digits) learnt
                                           out of band; enrolment fails with
                                           DALA_EAUTH if the answer differs */
    int timeout_ms;                     /* 0: 30000 */
} dala_enroll_options;

#define DALA_ENROLL_OPTIONS_INIT {DALA_ENROLL_OPTIONS_VERSION, NULL, NULL, 0}

/**
 * Enrols this store as a device: generates an X25519 key pair, redeems the
 * single-use `code` at `server_url` (POST /v1/enroll), and keeps the
 * answer (device id, unit, officer, the server's public key, key epoch,
 * server epoch), the URL and the device's secret key in the store, in one
 * transaction.
 *
 * Known limit: the secret key lies in the SQLite file as it is; a tablet
 * app should keep the file in app-private storage with platform disk
 * encryption (a keystore-wrapping hook is planned).
 *
 * @param store       an open store that is not enrolled yet.
 * @param server_url  "http://host:port" or "https://host" (a trailing "/" is dropped); copied.
 * @param code        the enrolment code an administrator gave; copied.
 * @param options     NULL for the defaults.
 * @return DALA_OK; DALA_EINVAL (bad URL or code, store already enrolled);
 *         DALA_EAUTH (the server refused the code: unknown, used or
 *         expired; or its key differs from expected_server_key);
 *         DALA_ELIMIT (too many failed attempts: wait); DALA_EIO (server
 *         unreachable or an unexpected answer); DALA_ECORRUPT (the answer
 *         is not the documented JSON); DALA_ECRYPTO, DALA_ENOMEM.
 */
int dala_store_enroll(dala_store *store, const char *server_url, const char *code,
                      const dala_enroll_options *options);

/* ----------------------------------------------------------------- records */

/* A record id as text: 36 characters plus the NUL. */
#define DALA_ID_TEXT_BYTES 37

/* Limits a record write must keep. */
#define DALA_RECORD_MAX_FIELDS 256
#define DALA_RECORD_MAX_VALUE_BYTES ((size_t)1 << 20)

/**
 * Saves fields of one record and queues the change for the next sync, in
 * one transaction: once this returns DALA_OK the change survives power
 * loss. The change carries, per field, the version the device had
 * (base_hlc), so the server can merge it with concurrent edits.
 *
 * `fields_json` is a JSON object: null, true/false (stored as 1/0),
 * integers, reals and strings become the field's value; arrays and
 * objects are stored as their JSON text. Field names are [a-z][a-z0-9_]*
 * of at most 63 bytes, 1 to DALA_RECORD_MAX_FIELDS of them, each once;
 * strings are valid UTF-8 of at most DALA_RECORD_MAX_VALUE_BYTES, without
 * NUL; one change is at most 8 MiB encoded. Then the rules of the schema
 * the server applies again (schema/domain/records.json, docs/domain.md)
 * are checked: known fields of the right type, allowed values, lengths and
 * bounds, dates YYYY-MM-DD not after today (local time) and in order, the
 * IIN, references to records on this tablet, questionnaire answers, and on
 * a new record the required fields.
 *
 * @param[out] id_out  the record's id as text (DALA_ID_TEXT_BYTES bytes);
 *                     may be NULL; "" on failure.
 * @param store        an enrolled store.
 * @param table        a table devices write (dala_table_is_writable),
 *                     e.g. "field_visit".
 * @param record_id    the record's UUID text, either case; NULL mints a
 *                     new UUIDv7 (a new record).
 * @param fields_json  the changed fields; copied.
 * @return DALA_OK; DALA_EINVAL (unknown table, bad id or JSON, a field
 *         the rules refuse, a record of another table, a store not
 *         enrolled: dala_errmsg() names the field, never its value; a
 *         refusal of the rules ends in "<table>.<field>: <rule>", which
 *         dala_reason_render words in Kazakh or Russian);
 *         DALA_ELIMIT (too many fields, a value or change too long);
 *         DALA_EIO, DALA_ENOMEM.
 */
int dala_record_put(char *id_out, dala_store *store, const char *table, const char *record_id,
                    const char *fields_json);

/**
 * Voids a record: records of legal weight are never deleted once synced,
 * they are voided with a reason. A put of the field `void_reason`.
 *
 * @return as dala_record_put; DALA_ENOTFOUND if the record does not exist;
 *         DALA_EINVAL for an empty reason.
 */
int dala_record_void(dala_store *store, const char *record_id, const char *reason);

/**
 * Reads one record as a JSON object:
 *   {"id": "...", "table": "...", "unit_id": 3, "state": "pending",
 *    "voided": false, "fields": {"name": value, ...},
 *    "versions": {"name": {"hlc": "123", "time": "2026-...Z",
 *                          "device_id": 12, "seq": 0}, ...}}
 * hlc is a decimal string (64 bits do not fit a JSON number exactly);
 * TEXT fields are strings, BLOB fields base64 strings.
 *
 * @param[out] json_out  the text, NUL-terminated; free with dala_free.
 * @return DALA_OK, DALA_EINVAL, DALA_ENOTFOUND, DALA_EIO, DALA_ECORRUPT,
 *         DALA_ENOMEM.
 */
int dala_record_get_json(char **json_out, dala_store *store, const char *record_id);

/* Where a record stands with the server. */
typedef enum dala_record_state {
    DALA_RECORD_SYNCED = 0,  /* every local change is acknowledged */
    DALA_RECORD_PENDING = 1, /* a change waits for the next sync */
    DALA_RECORD_REJECTED = 2 /* the server refused a change (dala_rejection_list) */
} dala_record_state;

/* One record in a listing; strings borrowed for the callback's duration. */
typedef struct dala_record_info {
    const char *id;
    const char *table;
    uint64_t unit_id;
    uint64_t updated_ms; /* Unix ms of its latest field version */
    dala_record_state state;
    int is_voided;
} dala_record_info;

/* Called once per record; return non-zero to stop (that value is then
 * returned by the listing function). */
typedef int (*dala_record_fn)(void *context, const dala_record_info *info);

/**
 * Lists records, newest first, without their fields.
 *
 * @param table  one table, or NULL for every table.
 * @return DALA_OK, the callback's non-zero value, DALA_EINVAL, DALA_EIO.
 */
int dala_record_list(dala_store *store, const char *table, dala_record_fn fn, void *context);

/**
 * Finds records of `table` by text and sorts them, Kazakh letters
 * included: a record matches when any text field holds `query` in any case
 * (Қ and қ alike); they come in the Kazakh alphabetical order of the field
 * `sort_field` (А Ә Б ... Ғ ... Қ ... Ң ... Ө ... Ұ Ү ... Һ ... І ...), records
 * without it last, then newest first.
 *
 * @param query       text to look for; NULL or "" for every record.
 * @param sort_field  a field name, or NULL for newest first.
 * @return DALA_OK, the callback's non-zero value, DALA_EINVAL, DALA_EIO.
 */
int dala_record_search(dala_store *store, const char *table, const char *query, const char *sort_field,
                     dala_record_fn fn, void *context);

/**
 * A record as an officer reads it, in `lang` ("kk" or "ru"): its type's
 * name, then one line per field, "  <label>: <value>", in the schema's
 * order, enumerations by their labels, booleans as yes or no.
 *
 * @param[out] text_out  the text; free with dala_free.
 * @return DALA_OK, DALA_EINVAL, DALA_ENOTFOUND, DALA_EIO, DALA_ENOMEM.
 */
int dala_record_labelled(char **text_out, dala_store *store, const char *record_id, const char *lang);

/* A one-line summary to pick a record by: the first three short values of
 * its type's leading fields ("Жәбірленуші · Сейітова · Әсел"), cut to
 * `size` bytes. DALA_OK, DALA_EINVAL, DALA_ENOTFOUND, DALA_EIO. */
int dala_record_summary(char *out, size_t size, dala_store *store, const char *record_id, const char *lang);

/* Whether devices may write `table`: a record type of the schema both
 * ends share (schema/domain/records.json) that tablets write. Tables the
 * server writes (conflict, review, survey_form) are read-only here. */
int dala_table_is_writable(const char *table);

/* -------------------------------------------------------------- schema */

/* What an app needs to draw the form of a record type: its fields in
 * order, with labels in Kazakh or Russian. Strings are borrowed from the
 * compiled-in schema and live as long as the process. */

/* A choice of an enumeration: the stored value and its label. */
typedef struct dala_choice {
    const char *value;
    const char *label;
} dala_choice;

typedef struct dala_field_info {
    const char *name;
    const char *label;     /* in the language asked */
    const char *type;      /* text int real bool date time enum set ref iin phone json (docs/domain.md) */
    int is_required;       /* on a new record, for this app's schema version */
    int is_sensitive;      /* a person's personal data: show it masked where others may look */
    const char *ref;       /* ref: the record type it refers to ("*": any); else NULL */
    size_t max_len;        /* text: bytes */
    int has_min, has_max;  /* int, real */
    double min, max;
    size_t choice_count;   /* enum, set, catalogue: read them with dala_schema_choice */
    const char *catalogue; /* text picked from a catalogue ("articles": the Codes' articles, whose
                              ids are the choices' values); else NULL */
} dala_field_info;

/* The `index`th record type tablets write (from 0) and its label in `lang`
 * ("kk", or "ru"). DALA_ENOTFOUND past the last. */
int dala_schema_table(const char **name_out, const char **label_out, size_t index, const char *lang);
/* The `index`th field (from 0) of `table` this app's schema version has.
 * DALA_ENOTFOUND past the last or for an unknown table. */
int dala_schema_field(dala_field_info *out, const char *table, size_t index, const char *lang);
/* The `index`th choice of an enum or set field. DALA_ENOTFOUND past it. */
int dala_schema_choice(dala_choice *out, const char *table, const char *field, size_t index,
                       const char *lang);

/* ------------------------------------------------------------- surveys */

/* A questionnaire asked question by question: the SDK applies the skip
 * logic, checks each answer as it is given, and saves the response as a
 * survey_response record tied to the form version it was captured with.
 * Forms reach the tablet by sync (published on the server). */
typedef struct dala_survey dala_survey;

typedef struct dala_question {
    const char *id;       /* "q7" */
    const char *label;    /* in the session's language */
    const char *type;     /* single multi text number date */
    int is_required;
    size_t option_count;  /* single, multi: read them with dala_survey_option */
    size_t max_choices;   /* multi: 0 for no limit */
    int has_min, has_max; /* number */
    double min, max;
    int is_integer;       /* number: whole numbers only */
    size_t max_len;       /* text: bytes */
} dala_question;

/* Called once per form the tablet holds; strings borrowed for the call. */
typedef int (*dala_form_fn)(void *context, const char *form_id, const char *code, int64_t version,
                            const char *title);

/* Lists the questionnaires on the tablet, newest version first per code,
 * with titles in `lang`. DALA_OK, the callback's value, DALA_EIO. */
int dala_survey_forms(dala_store *store, const char *lang, dala_form_fn fn, void *context);
/* Starts answering form `form_id` (a record id, or a form code for its
 * newest version on the tablet). DALA_ENOTFOUND if the tablet has no such
 * form; DALA_EINVAL, DALA_ENOMEM. */
int dala_survey_open(dala_survey **out, dala_store *store, const char *form_id, const char *lang);
/* Whether the form is anonymous (no name, IIN or person reference). */
int dala_survey_is_anonymous(const dala_survey *survey);
/* The next question to ask, skip logic applied: the first question shown
 * by the answers so far that has neither an answer nor been passed over.
 * The strings are borrowed until the session closes. DALA_ENOTFOUND when
 * no question remains. */
int dala_survey_next(dala_question *out, dala_survey *survey);
/* The `index`th option of a choice question. DALA_ENOTFOUND past it. */
int dala_survey_option(dala_choice *out, const dala_survey *survey, const char *question_id, size_t index);
/* Answers a question: `answer_json` is a JSON string ("yes", a date or a
 * text), array of strings (multi) or number; NULL passes over an optional
 * question. Checked at once: DALA_EINVAL with dala_errmsg() a refusal
 * (dala_reason_render), e.g. "survey_response.answers: answer_choice q3". */
int dala_survey_answer(dala_survey *survey, const char *question_id, const char *answer_json);
/* Saves the response with the record fields in `fields_json` (collected_on,
 * region, settlement_type), like dala_record_put. */
int dala_survey_save(char *id_out, dala_survey *survey, const char *fields_json);
/* Ends the session. NULL is fine. */
void dala_survey_close(dala_survey *survey);

/* ------------------------------------------------------- outbox and status */

/* A snapshot of the store. Strings are borrowed until the next call on
 * the store; "" when unknown. */
typedef struct dala_status {
    int is_enrolled;
    uint64_t device_id;
    uint64_t unit_id;
    const char *officer;
    const char *server_url;
    uint64_t record_count;
    uint64_t pending_changes;  /* queued or in flight */
    uint64_t rejected_changes; /* refused by the server, not yet dismissed */
    uint64_t conflict_count;   /* conflict records synced down */
    uint64_t last_sync_ms;     /* Unix ms of the last completed round trip; 0: never */
    int64_t clock_skew_ms;     /* the wall clock minus the server's, as the last sync measured it */
    int is_sealed;             /* opened with dala_store_open_keyed: every file encrypted */
    int is_erased;             /* erased while open (the tablet was marked lost): an empty stand-in */
} dala_status;

/* Fills `out`. DALA_OK, DALA_EINVAL, DALA_EIO. */
int dala_store_status(dala_status *out, dala_store *store);

/* A change the server refused. Strings borrowed for the callback. */
typedef struct dala_rejection {
    int64_t outbox_id;   /* pass to dala_rejection_dismiss */
    const char *record_id;
    const char *table;
    uint64_t hlc;        /* the change's version */
    int code;            /* a DALA_E* code from the server */
    const char *reason;  /* the server's reason; no record contents */
} dala_rejection;

typedef int (*dala_rejection_fn)(void *context, const dala_rejection *rejection);

/* Lists refused changes, oldest first. DALA_OK, the callback's value,
 * DALA_EIO. The record keeps its local value; correct it with a new put. */
int dala_rejection_list(dala_store *store, dala_rejection_fn fn, void *context);

/* Forgets one refused change once the officer has dealt with it.
 * DALA_OK, DALA_ENOTFOUND (no such refused change), DALA_EIO. */
int dala_rejection_dismiss(dala_store *store, int64_t outbox_id);

/**
 * Renders a refusal in the officer's language. A refusal, from the server
 * (dala_rejection.reason) or from a local put (dala_errmsg() after
 * DALA_EINVAL), reads "<table>.<field>: <rule>[ <argument>]", e.g.
 * "person.iin: iin_check"; this gives "<field label>: <message>" from the
 * schema's catalogue, e.g. "ЖСН: бақылау цифры дұрыс емес". A sync refused
 * because the app is too old or too new for the server (DALA_ESCHEMA,
 * "device_too_old 2") reads as what to do about it. Other text is copied
 * as it is.
 *
 * @param out     the text, NUL-terminated, cut to `size` bytes.
 * @param lang    "kk" (the default for anything else) or "ru".
 * @return DALA_OK; DALA_EINVAL if `out` is NULL or `size` 0.
 */
int dala_reason_render(char *out, size_t size, const char *reason, const char *lang);

/* A conflict the server resolved: two concurrent edits of one field; the
 * winner is the record's value, the loser kept here. Strings borrowed for
 * the callback's duration. */
typedef struct dala_conflict {
    const char *conflict_id;  /* the id of the conflict record */
    const char *record_id;
    const char *record_table;
    const char *field;
    uint64_t winner_hlc;
    uint64_t winner_device;
    uint64_t loser_hlc;
    uint64_t loser_device;
    const char *loser_value_json; /* the losing value as JSON */
    const char *status;           /* "open", as the server wrote it; "" if absent */
} dala_conflict;

typedef int (*dala_conflict_log_fn)(void *context, const dala_conflict *conflict);

/* Lists the conflict log (records of table "conflict" that synced down),
 * newest first. DALA_OK, the callback's value, DALA_EIO, DALA_ECORRUPT. */
int dala_conflict_list(dala_store *store, dala_conflict_log_fn fn, void *context);

/* ------------------------------------------------------------------- sync */

/* What a sync is doing, for progress reports. */
typedef enum dala_sync_phase {
    DALA_SYNC_PUSH = 1, /* done: changes acknowledged; total: changes to push */
    DALA_SYNC_PULL = 2, /* done: changes pulled so far; total: 0 (unknown) */
    DALA_SYNC_DONE = 3  /* done: round trips */
} dala_sync_phase;

typedef void (*dala_progress_fn)(void *context, dala_sync_phase phase, uint64_t done,
                                 uint64_t total);

#define DALA_SYNC_OPTIONS_VERSION 1

typedef struct dala_sync_options {
    int version;                     /* DALA_SYNC_OPTIONS_VERSION */
    const dala_transport *transport; /* NULL: the built-in one */
    dala_progress_fn progress;       /* may be NULL */
    void *progress_context;
    uint32_t max_pull_changes;       /* per page; 0: 1000 */
    uint32_t max_push_changes;       /* per batch; 0: 1000 */
    int timeout_ms;                  /* per round trip; 0: 30000 */
    uint32_t max_round_trips;        /* 0: 100000; a guard against a server that never ends */
} dala_sync_options;

#define DALA_SYNC_OPTIONS_INIT {DALA_SYNC_OPTIONS_VERSION, NULL, NULL, NULL, 0, 0, 0, 0}

typedef struct dala_sync_stats {
    uint64_t pushed;        /* changes sent (a resent batch counts again) */
    uint64_t acked;         /* changes the server acknowledged */
    uint64_t rejected;      /* of those, refused */
    uint64_t pulled;        /* changes pulled and applied */
    uint64_t round_trips;
    uint64_t bytes_sent;    /* sealed frames */
    uint64_t bytes_received;
    int64_t clock_skew_ms;  /* this tablet's wall clock minus the server's at the last round trip:
                               tell the officer when it is more than a minute either way */
    uint64_t busy_retries;  /* round trips tried again because the server's database was busy */
} dala_sync_stats;

/**
 * Syncs with the server until nothing is left to push and no page is left
 * to pull. Each round trip pushes the next batch of queued changes (up to
 * max_push_changes, numbered per device) and pulls one page.
 *
 * Safe to interrupt at any point (power loss, a killed process, a network
 * failure): a batch keeps its number and content until the server has
 * acknowledged it and the acknowledgement is committed locally, so a
 * resend is applied once; a pulled page is applied and its cursor
 * advanced in one transaction. A field with a local change still pending
 * keeps its local value when a page brings the server's.
 *
 * The first round trip is a Noise KK handshake; its keys then stay with
 * this store handle (in memory only) as a session, so the next round
 * trips, and the next syncs on this handle within 100 s, skip the key
 * exchange. A server that has forgotten the session, or refuses a frame
 * of it, is asked again with a handshake, within the same call.
 *
 * @param[out] out  counts of what happened, also on failure; may be NULL.
 * @param store     an enrolled store.
 * @param options   NULL for the defaults.
 * @return DALA_OK; DALA_EIO (server unreachable, "cannot reach host:port:
 *         why"; or an unexpected HTTP status); DALA_EAUTH (device revoked
 *         or unknown, or an answer that does not open with the server's
 *         key); DALA_ESCHEMA (the server no longer reads this version:
 *         update); DALA_EBUSY (the server's database stayed busy through
 *         five tries over about 8 s: sync again later); DALA_ENOSPACE (the
 *         server's disk is full: the changes stay queued); DALA_ECORRUPT, DALA_ELIMIT
 *         (also: max_round_trips reached with work left), DALA_EINVAL (not
 *         enrolled), DALA_ENOMEM.
 */
int dala_sync(dala_sync_stats *out, dala_store *store, const dala_sync_options *options);

#ifdef __cplusplus
}
#endif

#endif /* DALA_H */
