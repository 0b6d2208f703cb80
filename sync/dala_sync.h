/* dala_sync.h - libdala_sync: the bytes-in, bytes-out core that both the
 * tablet SDK and the sync server link.
 *
 * It knows nothing of SQLite or sockets. It turns changes into compressed,
 * sealed frames and back: a hybrid logical clock, change records and their
 * strict binary codec, deflate with a cap on inflated size, X25519 keys and
 * the Noise KK handshake that seals frames with AES-256-GCM or
 * ChaCha20-Poly1305, and the per-field three-way merge. The wire format is
 * written down in docs/protocol.md; tests/vectors/ pins it.
 *
 * Conventions (see STYLE.md): functions return DALA_OK or a negative
 * dala_err; on failure dala_errmsg() says what was attempted and why.
 * Results come back through a first `out` parameter. Free functions accept
 * NULL. Every decoder takes a limit, so no input decides how much memory is
 * used. A handle is used by one thread at a time.
 */
#ifndef DALA_SYNC_H
#define DALA_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "dala_domain.h"
#include "dala_json.h"
#include "dala_text.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

/* Result codes. Append-only: a code is never renumbered or reused. */
typedef enum dala_err {
    DALA_OK = 0,
    DALA_ENOMEM = -1,    /* an allocation failed */
    DALA_EIO = -2,       /* reading or writing a file or socket failed */
    DALA_ECORRUPT = -3,  /* malformed input: truncated, overlong, trailing bytes */
    DALA_EAUTH = -4,     /* authentication failed: bad tag, wrong key, replay */
    DALA_ECONFLICT = -5, /* the operation lost to a concurrent one */
    DALA_ESCHEMA = -6,   /* an unknown or unsupported version */
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

/* The detail of the last failure on this thread: what was attempted, on
 * what, and why. Borrowed until the next failing call on this thread; ""
 * when nothing has failed yet. Never contains record contents. */
const char *dala_errmsg(void);

/* --------------------------------------------------------------- buffers */

/* A growable byte buffer. Zero-initialise it (DALA_BUF_INIT), append, then
 * dala_buf_free(). `cap_bytes` of 0 means the library default ceiling
 * (DALA_BUF_DEFAULT_CAP); appending past the ceiling fails with
 * DALA_ELIMIT, so a buffer never grows without bound. */
typedef struct dala_buf {
    uint8_t *data;
    size_t len;
    size_t alloc;
    size_t cap_bytes;
} dala_buf;

#define DALA_BUF_INIT {NULL, 0, 0, 0}
#define DALA_BUF_DEFAULT_CAP ((size_t)256 << 20)

/* Appends `len` bytes. DALA_OK, DALA_ENOMEM or DALA_ELIMIT. */
int dala_buf_append(dala_buf *buf, const void *data, size_t len);
/* Makes room for `extra` more bytes without changing len. */
int dala_buf_reserve(dala_buf *buf, size_t extra);
/* Forgets the contents, keeps the memory. */
void dala_buf_reset(dala_buf *buf);
/* Wipes and frees the memory; the buffer may be reused after. NULL is fine. */
void dala_buf_free(dala_buf *buf);

/* ------------------------------------------------ hybrid logical clock */

/* A 64-bit HLC timestamp: 48 bits of Unix milliseconds, 16 bits of
 * counter. Timestamps compare as plain integers. */
#define DALA_HLC_MS(t) ((uint64_t)(t) >> 16)
#define DALA_HLC_COUNTER(t) ((uint64_t)(t) & 0xffffu)
#define DALA_HLC_MAKE(ms, counter) (((uint64_t)(ms) << 16) | ((uint64_t)(counter) & 0xffffu))
#define DALA_HLC_MAX_MS ((UINT64_C(1) << 48) - 1)
/* How far ahead of local time a received timestamp may be by default. */
#define DALA_HLC_DEFAULT_MAX_DRIFT_MS (5u * 60u * 1000u)

/* The clock's whole state is the last timestamp it issued or saw;
 * persist `last` (dala_hlc_state) and restore it with dala_hlc_init. */
typedef struct dala_hlc {
    uint64_t last;
    uint64_t max_drift_ms;
} dala_hlc;

/* Starts a clock from a saved state (0 for a new clock) with the default
 * drift bound. */
void dala_hlc_init(dala_hlc *clock, uint64_t saved_state);
/* The state to persist: the last timestamp issued or seen. */
uint64_t dala_hlc_state(const dala_hlc *clock);
/* Unix time in milliseconds from the system clock. */
uint64_t dala_wall_clock_ms(void);

/* Issues a timestamp for a local event, strictly greater than every
 * timestamp issued or seen before. `wall_ms` is the local wall clock
 * (dala_wall_clock_ms(), or a test's). DALA_OK, DALA_EINVAL (wall_ms past
 * 48 bits) or DALA_ELIMIT (the counter and the 48-bit milliseconds are
 * both exhausted). */
int dala_hlc_now(uint64_t *out, dala_hlc *clock, uint64_t wall_ms);

/* Takes in a timestamp received from a peer and issues one greater than
 * both it and everything local. A remote timestamp more than
 * clock->max_drift_ms ahead of `wall_ms` fails with DALA_ECLOCK and leaves
 * the clock untouched, so one device with a wrong clock cannot drag every
 * later timestamp into the future. */
int dala_hlc_receive(uint64_t *out, dala_hlc *clock, uint64_t remote, uint64_t wall_ms);

/* --------------------------------------------------------- identifiers */

/* A record id: a UUID, 16 bytes on the wire, 36 characters of lowercase
 * hex with dashes in text. Devices mint version 7 UUIDs. */
#define DALA_UUID_BYTES 16
#define DALA_UUID_TEXT_LEN 36

/* Parses canonical text ("0190f1c2-..."), either case. DALA_EINVAL if it is
 * not exactly 36 characters of 8-4-4-4-12 hex. */
int dala_uuid_parse(uint8_t out[DALA_UUID_BYTES], const char *text);
/* Formats as lowercase text; `out` must hold DALA_UUID_TEXT_LEN + 1. */
void dala_uuid_format(char *out, const uint8_t uuid[DALA_UUID_BYTES]);
/* Mints a UUIDv7 from `unix_ms` and the thread's CSPRNG. */
int dala_uuid_v7(uint8_t out[DALA_UUID_BYTES], uint64_t unix_ms);

/* ------------------------------------------------------ change records */

/* The value kinds a field can hold: SQLite's storage classes. */
typedef enum dala_value_type {
    DALA_VALUE_NULL = 0,
    DALA_VALUE_INT = 1,
    DALA_VALUE_REAL = 2,
    DALA_VALUE_TEXT = 3, /* UTF-8, checked on decode */
    DALA_VALUE_BLOB = 4
} dala_value_type;

typedef struct dala_value {
    dala_value_type type;
    int64_t integer;
    double real;
    const uint8_t *bytes; /* TEXT (not NUL-terminated) or BLOB */
    size_t len;
} dala_value;

/* One field a change sets: its name, new value and `base_hlc`, the version
 * of the field the device had when it edited it (0: it had none). */
typedef struct dala_field {
    const char *name; /* NUL-terminated, [a-z][a-z0-9_]*, at most 63 bytes */
    dala_value value;
    uint64_t base_hlc;
} dala_field;

/* One write of one record by one device. */
typedef struct dala_change {
    const char *table; /* NUL-terminated, same rule as field names */
    uint8_t record_id[DALA_UUID_BYTES];
    uint64_t hlc;       /* when the device wrote it; every base_hlc < hlc */
    uint64_t device_id; /* the server-assigned id of the writing device */
    size_t field_count;
    dala_field *fields;
} dala_change;

/* Limits the codec enforces on both encode and decode. */
#define DALA_MAX_NAME_BYTES 63
#define DALA_MAX_FIELDS_PER_CHANGE 256
#define DALA_MAX_VALUE_BYTES ((size_t)1 << 20)
#define DALA_MAX_CHANGES_PER_BATCH 100000u

/* The codec's own version, first byte of every encoded batch. */
#define DALA_CODEC_VERSION 1

/* A decoded batch of changes. The batch owns every pointer inside it. */
typedef struct dala_batch {
    uint32_t schema_version; /* schema the changes were written under */
    uint64_t batch_seq;      /* the device's batch number; 0 if none */
    size_t change_count;
    dala_change *changes;
    void *storage; /* private: the memory the pointers point into */
} dala_batch;

/* Encodes a whole batch, appending to `out`. Checks every limit and name,
 * so nothing is encoded that a decoder would refuse. DALA_OK, DALA_EINVAL
 * (a bad name, id, value type or base_hlc >= hlc), DALA_ELIMIT, DALA_ENOMEM. */
int dala_batch_encode(dala_buf *out, uint32_t schema_version, uint64_t batch_seq,
                      const dala_change *changes, size_t change_count);

/* Builds a batch from changes already encoded one by one (a device's
 * outbox keeps each change as a batch of one, made by dala_batch_encode):
 * writes the batch header for `count` changes, then call
 * dala_batch_append_part once per part, in order. The parts' contents are
 * not decoded again (the receiver checks them); their one-change headers
 * are checked strictly. */
int dala_batch_encode_header(dala_buf *out, uint32_t schema_version, uint64_t batch_seq,
                             size_t count);
/* Appends the change of a one-change batch `part`. DALA_ECORRUPT if `part`
 * is not a batch of exactly one change, DALA_ESCHEMA for another codec
 * version. */
int dala_batch_append_part(dala_buf *out, const uint8_t *part, size_t len);

/* Decodes a batch strictly: truncated input, overlong varints, values out
 * of range, bad UTF-8, unknown codec versions (DALA_ESCHEMA), more than
 * `max_changes` changes (DALA_ELIMIT) and trailing bytes are all errors,
 * and nothing is read outside [data, data + len). On DALA_OK `*out` belongs
 * to the caller (dala_batch_free); on failure it is NULL. */
int dala_batch_decode(dala_batch **out, const uint8_t *data, size_t len, size_t max_changes);
void dala_batch_free(dala_batch *batch);

/* ------------------------------------------------------------ compress */

/* Raw deflate (RFC 1951) of `len` bytes, appended to `out`. `level` is
 * zlib's 0-9, or -1 for Dala's default (4). */
int dala_deflate(dala_buf *out, const uint8_t *data, size_t len, int level);

/* Inflates raw deflate, appended to `out`, streaming in bounded steps: as
 * soon as the output would pass `max_inflated_bytes` it stops with
 * DALA_ELIMIT, so a small bomb costs little time and at most the cap in
 * memory. DALA_ECORRUPT for a bad or truncated stream or trailing bytes. */
int dala_inflate(dala_buf *out, const uint8_t *data, size_t len, size_t max_inflated_bytes);

/* ------------------------------------------------------------- random */

/* Fills `out` from this thread's CTR-DRBG (AES-256), seeded from the
 * system's entropy on first use in each thread and reseeded after fork.
 * DALA_OK or DALA_ECRYPTO. */
int dala_random(void *out, size_t len);

/* Constant-time comparison: 0 when equal. Time depends on `len` only. */
int dala_ct_compare(const void *a, const void *b, size_t len);

/* Overwrites memory in a way the compiler does not remove. */
void dala_wipe(void *data, size_t len);

/* ---------------------------------------------------------------- keys */

#define DALA_KEY_BYTES 32

/* An X25519 key pair. The secret is stored clamped (RFC 7748 s.5). */
typedef struct dala_keypair {
    uint8_t secret[DALA_KEY_BYTES];
    uint8_t public_key[DALA_KEY_BYTES];
} dala_keypair;

/* Generates a fresh key pair from the thread's CSPRNG. */
int dala_keypair_generate(dala_keypair *out);
/* Derives the pair from a 32-byte secret (clamped on the way in); for
 * restoring a saved key and for test vectors. */
int dala_keypair_from_secret(dala_keypair *out, const uint8_t secret[DALA_KEY_BYTES]);
/* Wipes the secret. NULL is fine. */
void dala_keypair_wipe(dala_keypair *pair);

/* X25519(secret, peer_public). Fails with DALA_EAUTH when the result is
 * all zeros (a low-order peer key), so a forged key cannot force a known
 * shared secret. */
int dala_x25519(uint8_t out[DALA_KEY_BYTES], const uint8_t secret[DALA_KEY_BYTES],
                const uint8_t peer_public[DALA_KEY_BYTES]);

/* -------------------------------------------------------------- frames */

/* Frame types. */
#define DALA_FRAME_HELLO 1 /* device -> server: handshake message 1 + push */
#define DALA_FRAME_REPLY 2 /* server -> device: handshake message 2 + answer */
#define DALA_FRAME_DATA 3  /* either way, under the session's transport keys */

/* AEAD suites. */
#define DALA_SUITE_AES256GCM 1
#define DALA_SUITE_CHACHAPOLY 2

/* Body compression. */
#define DALA_COMPRESS_NONE 0
#define DALA_COMPRESS_DEFLATE 1

#define DALA_PROTOCOL_VERSION 1
#define DALA_FRAME_HEADER_BYTES 28
#define DALA_TAG_BYTES 16
/* Default ceilings: the largest sealed frame and inflated body accepted. */
#define DALA_MAX_FRAME_BYTES ((size_t)32 << 20)
#define DALA_MAX_BODY_BYTES ((size_t)64 << 20)

/* The plaintext header every frame starts with; it is authenticated (the
 * AEAD's associated data) but not secret. */
typedef struct dala_frame_header {
    uint8_t protocol_version; /* DALA_PROTOCOL_VERSION */
    uint8_t frame_type;       /* DALA_FRAME_* */
    uint8_t suite;            /* DALA_SUITE_* */
    uint8_t compression;      /* DALA_COMPRESS_* */
    uint32_t schema_version;  /* the sender's schema version */
    uint64_t device_id;       /* the enrolled device this sync is about */
    uint32_t key_epoch;       /* which server key the device used */
    uint32_t body_len;        /* bytes after the header; set by the sealer */
} dala_frame_header;

/* Reads the header of a frame without opening it, so a server can look up
 * the device's key. Checks magic, version (DALA_ESCHEMA), type, suite,
 * compression and that body_len matches `len` exactly (DALA_ECORRUPT). */
int dala_frame_header_parse(dala_frame_header *out, const uint8_t *frame, size_t len);

/* One side of a Noise KK handshake (Noise_KK_25519_{AESGCM,ChaChaPoly}_SHA256
 * with Dala's prologue), which becomes a session once both messages have
 * passed. The device is the initiator, the server the responder; each knows
 * the other's static public key from enrolment. */
typedef struct dala_handshake dala_handshake;

/* Starts a handshake. `local` is copied; `remote_public` is the peer's
 * static key. `ephemeral` is NULL in production (a fresh pair is drawn);
 * tests pass a fixed one to reproduce vectors. */
int dala_handshake_new(dala_handshake **out, int is_initiator, const dala_keypair *local,
                       const uint8_t remote_public[DALA_KEY_BYTES],
                       const dala_keypair *ephemeral);
/* Wipes every key and frees. NULL is fine. */
void dala_handshake_free(dala_handshake *hs);

/* Writes the next handshake frame (HELLO for the initiator, REPLY for the
 * responder): header, ephemeral key, then `body` compressed per
 * header->compression and sealed. header->frame_type and body_len are set
 * here. Appends to `frame`. On failure nothing is appended and the
 * handshake is dead: free it. Bodies past DALA_MAX_BODY_BYTES are refused
 * (DALA_ELIMIT). */
int dala_handshake_write(dala_handshake *hs, dala_buf *frame, const dala_frame_header *header,
                         const uint8_t *body, size_t body_len);

/* Opens the peer's handshake frame: checks the header, verifies the tag,
 * and only then inflates into `body` with a cap of `max_body_bytes` (a cap
 * above DALA_MAX_BODY_BYTES counts as DALA_MAX_BODY_BYTES).
 * `header_out` may be NULL. DALA_EAUTH for a wrong key, a flipped bit, or a
 * frame from another handshake; DALA_ELIMIT for a body past the cap. On
 * failure the handshake is dead: free it. */
int dala_handshake_read(dala_handshake *hs, dala_buf *body, dala_frame_header *header_out,
                        const uint8_t *frame, size_t len, size_t max_body_bytes);

/* The handshake hash once both messages have passed: a channel binding
 * both ends share; 32 bytes. */
int dala_handshake_hash(uint8_t out[32], const dala_handshake *hs);

/* Transport keys derived once the handshake has finished, one per
 * direction, each with its own nonce counter. */
typedef struct dala_session dala_session;

/* Moves the transport keys of a finished handshake into a new session;
 * the handshake keeps only its hash and may then be freed. DALA_EINVAL if
 * the handshake has not finished, or if its keys already went to a session
 * (two sessions on one key would repeat nonces). */
int dala_session_new(dala_session **out, dala_handshake *hs);
void dala_session_free(dala_session *session);

/* Seals a DATA frame with the next nonce of the sending direction; fails
 * with DALA_ELIMIT once the session has sealed DALA_SESSION_MAX_FRAMES
 * frames: open a new handshake then. */
#define DALA_SESSION_MAX_FRAMES (UINT64_C(1) << 20)
int dala_session_seal(dala_session *session, dala_buf *frame, const dala_frame_header *header,
                      const uint8_t *body, size_t body_len);
/* Opens a DATA frame; its counter must be greater than every counter this
 * session has opened before (DALA_EAUTH otherwise: a replay). */
int dala_session_open(dala_session *session, dala_buf *body, dala_frame_header *header_out,
                      const uint8_t *frame, size_t len, size_t max_body_bytes);

/* --------------------------------------------------------------- merge */

/* A version of a field: who wrote it when. Versions are totally ordered by
 * (hlc, device_id), the same on every node. */
typedef struct dala_version {
    uint64_t hlc;
    uint64_t device_id;
} dala_version;

/* <0, 0, >0 as a is older than, the same as, or newer than b. */
int dala_version_compare(const dala_version *a, const dala_version *b);

/* What happens when an incoming edit of one field meets the field's
 * current version. */
typedef enum dala_merge_outcome {
    DALA_MERGE_DUPLICATE = 0,    /* the very same version: nothing to do */
    DALA_MERGE_FAST_FORWARD = 1, /* edited on top of the current: take it */
    DALA_MERGE_WINS = 2,         /* concurrent and newer: take it, keep the old */
    DALA_MERGE_LOSES = 3,        /* concurrent and older: keep it as a conflict */
    DALA_MERGE_SUPERSEDED = 4    /* arrived after an edit based on it: history only */
} dala_merge_outcome;

/* The pure per-field three-way decision of DESIGN.md. `current` is NULL
 * when the field has no version yet (then base 0 fast-forwards). */
dala_merge_outcome dala_merge_decide(const dala_version *current, const dala_version *incoming,
                                     uint64_t incoming_base_hlc);

/* The merge state of one field on one node: its winning version, the
 * concurrent versions it beat that nobody has edited on top of since (the
 * open conflicts), and the versions that later edits were based on. With
 * it, the same set of edits applied in any order gives the same winner and
 * the same conflicts. Values are the caller's: `value_ref` is carried
 * along untouched (an index, a row id). */
typedef struct dala_field_head {
    dala_version version;
    uint64_t base_hlc;
    int64_t value_ref;
} dala_field_head;

typedef struct dala_field_state {
    int has_winner;
    dala_field_head winner;
    size_t conflict_count;
    dala_field_head *conflicts; /* sorted, newest first */
    size_t based_count;
    uint64_t *based_on; /* sorted hlcs that some edit was based on */
    size_t alloc_conflicts, alloc_based; /* private */
} dala_field_state;

#define DALA_FIELD_STATE_INIT {0, {{0, 0}, 0, 0}, 0, NULL, 0, NULL, 0, 0}

/* Applies one edit and reports the decision taken against the winner
 * before it. Conflicts that the edit was based on are closed; an edit that
 * arrives after one based on it is neither winner nor conflict. DALA_OK,
 * DALA_EINVAL (base_hlc >= hlc), DALA_ENOMEM. */
int dala_field_state_apply(dala_merge_outcome *out, dala_field_state *state,
                           const dala_field_head *incoming);
void dala_field_state_free(dala_field_state *state);



/* -------------------------------------------------------------- records */

/* A record as both ends keep it: its fields, each with its value, the
 * version that wrote it, and the position in its unit's log where it last
 * changed. Stored as one compact blob per record (most fields share the
 * record's latest version, so they cost no per-field version bytes),
 * never as a row per field. */
typedef struct dala_record_field {
    char *name;
    dala_value value; /* bytes owned by the record */
    dala_version version;
    uint64_t seq; /* unit log position of the last change; 0 if unsynced */
} dala_record_field;

typedef struct dala_record {
    size_t field_count;
    dala_record_field *fields; /* sorted by name */
    size_t alloc;              /* private */
} dala_record;

#define DALA_RECORD_INIT {0, NULL, 0}

/* Decodes a stored record blob into `out` (which must be cleared or
 * DALA_RECORD_INIT); strict like the batch codec. */
int dala_record_decode(dala_record *out, const uint8_t *data, size_t len);
/* Appends the record's canonical blob to `out`. */
int dala_record_encode(dala_buf *out, const dala_record *record);
/* The field called `name`, or NULL. Borrowed. */
dala_record_field *dala_record_find(const dala_record *record, const char *name);
/* Sets a field (adding it in name order), copying the value. */
int dala_record_set(dala_record *record, const char *name, const dala_value *value,
                    const dala_version *version, uint64_t seq);
/* Frees every field; the record is empty and reusable after. NULL is fine. */
void dala_record_clear(dala_record *record);
/* Appends the record as a JSON object of its values (TEXT as strings,
 * BLOB as base64 strings, INT and REAL as numbers, NULL as null). */
int dala_record_to_json(dala_buf *out, const dala_record *record);

/* A field of an incoming change that did not become the record's value,
 * or the value it displaced: a conflict to keep. */
typedef struct dala_record_conflict {
    const char *field;
    dala_version winner;
    dala_version loser;
    const dala_value *winner_value; /* borrowed from the change or the old record */
    const dala_value *loser_value;  /* borrowed from the change or the old record */
} dala_record_conflict;

/* Called once per conflict while dala_record_apply runs; return non-zero
 * to stop (that code is returned). */
typedef int (*dala_conflict_fn)(void *context, const dala_record_conflict *conflict);

/* Merges one change into a record field by field (dala_merge_decide): a
 * fast-forward or a win sets the field with `seq`; a win over a concurrent
 * version and a loss each report a conflict to `on_conflict` (may be NULL).
 * *changed_out (may be NULL) counts the fields that took a new value. */
int dala_record_apply(size_t *changed_out, dala_record *record, const dala_change *change,
                      uint64_t seq, dala_conflict_fn on_conflict, void *context);


/* ----------------------------------------------------------- validation */

/* The one table only the server writes that the domain does not describe:
 * the conflicts it kept. (The rules of every other table, and the check of
 * a change against them, are in dala_domain.h.) */
#define DALA_TABLE_CONFLICT "conflict"

/* ------------------------------------------------------- sync messages */

/* What one sync round trip carries inside its sealed frames
 * (docs/protocol.md, "Messages"). Decoded messages borrow from the bytes
 * they were decoded from: keep those alive while using them. */

#define DALA_MESSAGE_VERSION 3
#define DALA_MAX_CURSORS 4096u
#define DALA_MAX_WANTED 64u /* records a request may ask for whole */
#define DALA_MAX_REASON_BYTES 512u

/* A pull cursor. `seq`: the last position of the unit's log whose page the
 * device has applied. `whole_to`: the position up to which the device holds
 * every record of the unit whole: the end of the log when a page last
 * reached it. A page sends each record's fields written after `whole_to`
 * (not after `seq`): a record created before `seq` but edited after it
 * may have moved past the device's pages before it saw its creation. */
typedef struct dala_cursor {
    uint64_t unit_id;
    uint64_t seq;
    uint64_t whole_to; /* <= seq */
} dala_cursor;

/* Device -> server: the push (an encoded batch, possibly of no changes)
 * and the pull cursors. */
typedef struct dala_sync_request {
    uint64_t server_epoch;     /* the epoch the device last saw; 0 at first */
    uint32_t max_pull_changes; /* the largest page the device wants */
    size_t cursor_count;
    const dala_cursor *cursors;
    const uint8_t *push; /* dala_batch_encode output */
    size_t push_len;
    size_t wanted_count;   /* at most DALA_MAX_WANTED */
    const uint8_t *wanted; /* record ids (16 bytes each) the device wants whole: it met them in part */
    /* DALA_REQUEST_WIPED: the device erased its store after the server
     * named it lost; this request (sent over the session still held in
     * memory) confirms the wipe and carries nothing else. */
    uint32_t flags;
} dala_sync_request;

#define DALA_REQUEST_WIPED 1u

/* What the server says of the device itself (a response's device_state). */
#define DALA_DEVICE_ACTIVE 0
#define DALA_DEVICE_LOST 1 /* a supervisor marked it lost: erase the store now */

/* One refused change of a push: its index in the batch and why. */
typedef struct dala_change_result {
    uint32_t index;
    int32_t code;       /* a dala_err */
    const char *reason; /* UTF-8, not NUL-terminated; no record contents */
    size_t reason_len;
} dala_change_result;

/* Server -> device. */
typedef struct dala_sync_response {
    uint64_t server_epoch;
    uint64_t server_time_ms;  /* the server's clock (Unix ms) when it answered */
    uint64_t acked_batch_seq; /* the request's batch, committed; 0: none */
    size_t rejected_count;
    const dala_change_result *rejected;
    size_t cursor_count;
    const dala_cursor *cursors; /* the cursors after this page */
    int has_more;               /* another page is waiting */
    uint64_t pull_unit_id;      /* the unit every pulled change belongs to */
    const uint8_t *pull;        /* an encoded batch of what the device may see */
    size_t pull_len;
    /* Indexes of the pulled changes, ascending, whose record left out
     * fields the device should already hold (written at or before its
     * whole_to): a device that lacks such a record asks for it whole. */
    size_t partial_count;
    const uint32_t *partial;
    /* Wanted records the device may not have (gone, or out of its sight):
     * it stops asking. 16 bytes each. */
    size_t gone_count;
    const uint8_t *gone;
    /* DALA_DEVICE_LOST: nothing of the request was taken; the device
     * erases its store and confirms with DALA_REQUEST_WIPED. */
    uint8_t device_state;
    /* After `dala-server admin rotate-key`: the server's new key epoch
     * (0: none newer than the one this request used) and its public key,
     * which the device uses from its next handshake on. Carried inside
     * the sealed response, so it is authenticated by the old key. */
    uint32_t next_key_epoch;
    uint8_t next_server_key[DALA_KEY_BYTES];
} dala_sync_response;

/* Appends the encoding of a request or response to `out`. */
int dala_sync_request_encode(dala_buf *out, const dala_sync_request *request);
int dala_sync_response_encode(dala_buf *out, const dala_sync_response *response);

/* Decodes strictly (as dala_batch_decode does). Pointers in the result
 * borrow from `data`; arrays are allocated: free them with
 * dala_sync_request_clear / dala_sync_response_clear. */
int dala_sync_request_decode(dala_sync_request *out, const uint8_t *data, size_t len);
int dala_sync_response_decode(dala_sync_response *out, const uint8_t *data, size_t len);
void dala_sync_request_clear(dala_sync_request *request);
void dala_sync_response_clear(dala_sync_response *response);

#ifdef __cplusplus
}
#endif

#endif /* DALA_SYNC_H */
