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
