/* sync_int.h - internals shared by the files of libdala_sync: error
 * recording, and the bounded reader and writer for varints and
 * length-prefixed bytes that every codec in the library uses. */
#ifndef DALA_SYNC_INT_H
#define DALA_SYNC_INT_H

#include "dala_sync.h"

#include <stdarg.h>

#if defined(__GNUC__)
#define DALA_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define DALA_PRINTF(fmt_index, first_arg)
#endif

/* Records `code` and a formatted detail as this thread's last error and
 * returns `code`, so a failure reads `return dala_error_set(...)`. */
int dala_error_set(int code, const char *fmt, ...) DALA_PRINTF(2, 3);

/* Puts "prefix: " before this thread's dala_errmsg() (unless it already
 * starts so) and returns `code`: public functions name what failed. */
int dala_error_wrap(int code, const char *prefix);

/* Translates an mbedTLS return code, recording `what` was attempted. */
int dala_error_mbedtls(int mbedtls_code, const char *what);

/* --- allocation (alloc.c) ----------------------------------------------- */

/* malloc, calloc, realloc and strdup for the library's own memory (free()
 * releases it), with a fault hook for tests. */
void *dala_malloc(size_t size);
void *dala_calloc(size_t count, size_t size);
void *dala_realloc(void *memory, size_t size);
char *dala_strdup(const char *text);
/* Test hook: the `n`th allocation from now on this thread fails (n >= 1);
 * 0 turns the hook off. */
void dala_alloc_fail_after(long n);

/* --- bounded reading ---------------------------------------------------- */

/* A cursor over borrowed bytes. Every read checks the remaining length
 * first; the first failure sticks in `err`, so a decoder can read a run of
 * fields and check once. */
typedef struct dala_reader {
    const uint8_t *pos;
    const uint8_t *end;
    int err;
    const char *what; /* what is being decoded, for error messages */
} dala_reader;

void dala_reader_init(dala_reader *r, const uint8_t *data, size_t len, const char *what);
size_t dala_reader_remaining(const dala_reader *r);
/* Marks the reader failed with `code` (keeps the first failure). */
int dala_reader_fail(dala_reader *r, int code, const char *fmt, ...) DALA_PRINTF(3, 4);
uint8_t dala_read_u8(dala_reader *r);
uint32_t dala_read_u32be(dala_reader *r);
uint64_t dala_read_u64be(dala_reader *r);
/* LEB128 unsigned varint: at most 10 bytes, minimal (no trailing zero
 * groups), at most 64 bits. */
uint64_t dala_read_varint(dala_reader *r);
/* A varint that must be <= max. */
uint64_t dala_read_varint_max(dala_reader *r, uint64_t max, const char *field);
/* Borrows the next `len` bytes; NULL on failure. */
const uint8_t *dala_read_bytes(dala_reader *r, size_t len);

/* --- writing ------------------------------------------------------------ */

#define DALA_VARINT_MAX_BYTES 10

/* Writes `value` as a varint into `out` (10 bytes room); returns its length. */
size_t dala_varint_encode(uint8_t *out, uint64_t value);
int dala_buf_put_u8(dala_buf *buf, uint8_t value);
int dala_buf_put_u32be(dala_buf *buf, uint32_t value);
int dala_buf_put_u64be(dala_buf *buf, uint64_t value);
int dala_buf_put_varint(dala_buf *buf, uint64_t value);

void dala_store_u32be(uint8_t *out, uint32_t value);
void dala_store_u64be(uint8_t *out, uint64_t value);
uint32_t dala_load_u32be(const uint8_t *in);
uint64_t dala_load_u64be(const uint8_t *in);

/* Lowercase hex of `len` bytes into `out` (2 * len + 1 bytes, ended by a
 * NUL). */
void dala_hex_encode(char *out, const uint8_t *data, size_t len);
/* Exactly 2 * len hex digits, either case, and nothing after them, into
 * `out` (len bytes). DALA_OK, or DALA_EINVAL (sets no errmsg: the caller
 * names what was not hex). */
int dala_hex_decode(uint8_t *out, size_t len, const char *hex);
/* The value of the hex digit `c`, either case; -1 if it is none. */
int dala_hex_digit(char c);

/* --- values (shared by the batch and record codecs) ------------------- */

/* Appends a value's bytes (its type travels separately, in a tag). */
int dala_value_encode(dala_buf *out, const dala_value *value);
/* Reads a value of value->type; TEXT and BLOB bytes borrow from the
 * reader's input. `field` names it in errors. */
void dala_value_decode(dala_reader *r, dala_value *value, const char *field);
/* Checks a value before encoding: known type, size, UTF-8. */
int dala_value_check(const dala_value *value, const char *field);
/* Reads a name ([a-z][a-z0-9_]*, at most DALA_MAX_NAME_BYTES); borrows
 * its bytes and sets *len. `kind` names it in errors. */
const uint8_t *dala_read_name(dala_reader *r, size_t *len, const char *kind);

/* --- merge policies (merge.c, record.c) --------------------------------- */

/* One of two concurrent versions of a field, as a merge policy weighs it. */
typedef struct dala_merge_side {
    const dala_value *value; /* borrowed */
    dala_version version;
} dala_merge_side;

/* Settles two concurrent versions of one field by its merge policy
 * (`def->merge`; a NULL `def` is DALA_MERGE_NEWEST) and sets *out to the
 * side whose value stands as it is, or to NULL when the settled value is
 * neither side's (a union larger than both sets):
 *   NEWEST:  the newer side;
 *   HIGHEST: the side whose value comes later in `def->choices`; equal
 *            values, and values outside the enumeration (ranked below all
 *            of it), go to the newer side;
 *   UNION:   the union of the two sets: the newer side if its set is the
 *            union, else the older side if its set is, else NULL.
 * A set is TEXT, values joined by ',' (NULL, "" and empty members add
 * nothing). Under UNION `joined` is reset and holds the union in canonical
 * form, as the domain's rules accept it: the enumeration's values in its
 * order, each once, and members outside it after them in byte order;
 * under the other policies it is left alone. The pick is commutative,
 * associative and idempotent in the values (HIGHEST and NEWEST: a maximum
 * by (rank, version); UNION: a set union), so folding it over concurrent
 * versions in any order gives the same value.
 * DALA_OK, or DALA_ENOMEM / DALA_ELIMIT growing `joined`. */
int dala_merge_settle(const dala_merge_side **out, dala_buf *joined, const dala_field_def *def,
                      const dala_merge_side *a, const dala_merge_side *b);

/* The value a head stands for (the caller reads its value_ref); borrowed. */
typedef const dala_value *(*dala_head_value_fn)(void *context, const dala_field_head *head);

/* What the merge policy of `def` settles a field on, given all the heads
 * of `state` (the winner and the open conflicts; `state` must have a
 * winner), read through `value_of`: a function of the set of heads alone,
 * so every replica that applied the same edits, in any order and with any
 * repetitions, settles on the same value. Sets *out to the head whose
 * value stands, or to NULL when no head holds it:
 *   NEWEST:  the winner;
 *   HIGHEST: the greatest head by (rank in `def->choices`, version);
 *   UNION:   the newest head whose set is the union of all the heads'
 *            sets, or NULL if none is.
 * `joined` as in dala_merge_settle: under UNION the union, canonical.
 * DALA_OK, or DALA_ENOMEM / DALA_ELIMIT growing `joined`. */
int dala_field_state_settle(const dala_field_head **out, dala_buf *joined, const dala_field_state *state,
                            const dala_field_def *def, dala_head_value_fn value_of, void *context);

/* What dala_record_apply_policies asks of the node that merges (the
 * server), so that the pure merge stays free of storage. */
typedef struct dala_merge_hooks {
    /* The policies: each field's `merge`; NULL: the newer version wins
     * every field, as dala_record_apply. Borrowed. */
    const dala_table_def *table;
    /* A new version of the node's own, newer than `above` (the greater of
     * the two concurrent versions), for a settled value that neither
     * version holds: devices take a pulled field only when its version is
     * newer than theirs. Required when `table` is set. */
    int (*fresh_version)(void *context, dala_version *out, const dala_version *above);
    /* Sets *is_history when the change's edit of `field` is history, not
     * a concurrent edit (a late copy of a change merged before), so that
     * no policy brings its value back. NULL: every edit is new. */
    int (*is_history)(void *context, int *is_history, const char *field);
    void *context;
} dala_merge_hooks;

/* dala_record_apply, with the fields' merge policies: a concurrent edit
 * (dala_merge_decide says WINS or LOSES against a current version) of a
 * field with a policy other than NEWEST, unless `hooks->is_history` says
 * it is history, is settled by dala_merge_settle. When the newer version's
 * value stands, all is as in dala_record_apply. Otherwise the field takes
 * the settled value with a version from `hooks->fresh_version` (checked
 * to be newer than both: DALA_ECLOCK if not) and `seq`, and one conflict
 * is reported: winner that fresh version and the settled value, loser the
 * newer version and its value when the older one's value stood, else (a
 * union larger than both) the older version and its value. Fast-forwards
 * are never settled: an edit made on top of the current value replaces it
 * (an officer lowers a risk on purpose). `hooks` may be NULL (then this is
 * dala_record_apply). Returns as dala_record_apply, and DALA_ENOMEM /
 * DALA_ELIMIT from a union, or a hook's error; on error the record may
 * have taken the fields before the one that failed. */
int dala_record_apply_policies(size_t *changed_out, dala_record *record, const dala_change *change,
                               uint64_t seq, dala_conflict_fn on_conflict, void *context,
                               const dala_merge_hooks *hooks);

/* --- checks ------------------------------------------------------------- */

/* Whether `name` (of `len` bytes) is a valid table or field name:
 * [a-z][a-z0-9_]*, 1..DALA_MAX_NAME_BYTES bytes. */
int dala_name_is_valid(const char *name, size_t len);
/* Whether `len` bytes are well-formed UTF-8 (no overlongs, no surrogates,
 * nothing past U+10FFFF). */
int dala_utf8_is_valid(const uint8_t *data, size_t len);

/* --- surveys (survey.c) ------------------------------------------------- */

/* What checking a response's answers found: on DALA_EINVAL the message
 * code and its argument (a question id). */
typedef struct dala_survey_verdict {
    int is_anonymous; /* the form is anonymous */
    char code[32];
    char arg[64];
} dala_survey_verdict;

/* Checks survey answers (a JSON object) against a form definition: known
 * questions, skip logic, required answers, types and constraints, and no
 * IIN in the text answers of an anonymous form. `today` ("YYYY-MM-DD",
 * may be NULL) bounds date answers. */
int dala_survey_check(dala_survey_verdict *out, const char *form, size_t form_len, const char *answers,
                      size_t answers_len, const char *today);

/* A parsed questionnaire, for asking it question by question (the SDK's
 * survey sessions). dala_form_parse checks it as dala_form_check does. */
typedef struct dala_form dala_form;
int dala_form_parse(dala_form **out, const char *json, size_t len, char *why, size_t why_size);
void dala_form_free(dala_form *form); /* NULL is fine */
int dala_form_is_anonymous(const dala_form *form);
size_t dala_form_question_count(const dala_form *form);
/* The question's JSON object (id, type, kk, ru, options...); borrowed. */
const dala_json *dala_form_question(const dala_form *form, size_t index);
/* 1 if the skip logic shows question `index` given `answers` (an object). */
int dala_form_is_shown(const dala_form *form, size_t index, const dala_json *answers);
/* Checks one answer to question `index` (type, options, range, length,
 * anonymity); DALA_EINVAL with `out` naming the rule. */
int dala_form_check_answer(dala_survey_verdict *out, const dala_form *form, size_t index, const dala_json *answer,
                           const char *today);

/* --- values as people read them (display.c) --- */

/* Appends `v` as a person reads it: a choice's label in `lang` ("kk" or
 * "ru"), yes/no for a boolean, numbers and text as they are. `def` may be
 * NULL (a field the schema does not know). */
int dala_value_display(dala_buf *out, const dala_field_def *def, const dala_value *v, const char *lang);
/* A one-line summary of `record` (the first three short values of its
 * type's leading fields) into `out` (`size` > 0), cut on a whole letter.
 * `*shows_sensitive` (if not NULL) says whether a sensitive field is in it,
 * so the server can audit the read. */
int dala_record_summarise(char *out, size_t size, const dala_table_def *def, const dala_record *record,
                          const char *lang, int *shows_sensitive);
/* Appends `len` bytes of UTF-8 text as a JSON string (quoted, escaped). */
int dala_json_put_string(dala_buf *out, const void *text, size_t len);

#endif /* DALA_SYNC_INT_H */
