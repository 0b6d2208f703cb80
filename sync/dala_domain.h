/* dala_domain.h - what Dala records: the record types of the Rules, their
 * fields and rules, the enumerations and the messages in Kazakh and Russian
 * (schema/domain/records.json, compiled in), and the check every change
 * passes on the tablet before it is queued and on the server before it is
 * accepted. Included by dala_sync.h. docs/domain.md is the format. */
#ifndef DALA_DOMAIN_H
#define DALA_DOMAIN_H

#include <stddef.h>
#include <stdint.h>

struct dala_change;
struct dala_record;

typedef enum dala_field_type {
    DALA_FIELD_TEXT,
    DALA_FIELD_INT,
    DALA_FIELD_REAL,
    DALA_FIELD_BOOL,
    DALA_FIELD_DATE,
    DALA_FIELD_TIME,
    DALA_FIELD_ENUM,
    DALA_FIELD_SET,
    DALA_FIELD_REF,
    DALA_FIELD_IIN,
    DALA_FIELD_PHONE,
    DALA_FIELD_JSON
} dala_field_type;

/* A value of an enumeration with its labels. */
typedef struct dala_enum_value {
    const char *value;
    const char *kk;
    const char *ru;
} dala_enum_value;

typedef struct dala_enum {
    const char *name;
    size_t count;
    const dala_enum_value *values;
} dala_enum;

/* "when `field` holds one of `values`" (values as text: 1 for true). */
typedef struct dala_condition {
    const char *field; /* NULL: no condition */
    size_t count;
    const char *const *values;
} dala_condition;

/* How a concurrent edit of a field is settled (docs/domain.md, "Merge
 * policies"): the newer version wins (the default); the greater value of
 * the field's enumeration wins ("highest": the higher risk); the two sets
 * are joined ("union"). Only concurrent edits are settled so: an edit made
 * on top of the value it replaces always wins. */
typedef enum dala_merge_policy { DALA_MERGE_NEWEST, DALA_MERGE_HIGHEST, DALA_MERGE_UNION } dala_merge_policy;

typedef struct dala_field_def {
    const char *name;
    const char *kk, *ru;
    dala_field_type type;
    int is_required;
    uint32_t required_since;   /* required for devices of this version on; 0: always */
    uint32_t since;            /* the schema version that introduced it */
    int is_sensitive;          /* a person's personal data: sealed, masked, audited */
    size_t max_len;            /* TEXT bytes */
    int has_min, has_max;
    double min, max;
    const dala_enum *choices;  /* ENUM, SET */
    const char *ref;           /* REF: a table name or "*" */
    int is_not_future;         /* DATE */
    const char *not_before;    /* DATE: a field of the same record */
    dala_condition required_when, forbidden_when;
    const char *birth_field, *sex_field; /* IIN */
    const char *check;         /* JSON: "form_definition" or "survey_answers" */
    dala_merge_policy merge;
    const char *source;        /* the law a field comes from, to be confirmed by legal staff; NULL: the Rules */
    const char *register_name; /* TEXT: the number of a register ("erdr", "kui", "erap"), checked for repeats */
    /* TEXT: a catalogue the value is picked from ("articles"), for writers
     * of catalogue_since on, in force on the date in catalogue_date and of
     * the kind in catalogue_kind (both fields of the same record). */
    const char *catalogue;
    uint32_t catalogue_since;
    const char *catalogue_date, *catalogue_kind;
} dala_field_def;

typedef struct dala_table_def {
    const char *name;
    const char *kk, *ru;
    uint32_t since;
    int is_server_written; /* only the server writes it */
    int is_published;      /* reaches the devices of every unit below its unit */
    size_t field_count;
    const dala_field_def *fields;
} dala_table_def;

typedef struct dala_domain {
    uint32_t schema_version;       /* this library's */
    uint32_t oldest_device_schema; /* the oldest a server accepts */
    size_t table_count;
    const dala_table_def *tables;
    size_t enum_count;
    const dala_enum *enums;
} dala_domain;

/* The domain compiled into the library, parsed once (thread-safe). NULL
 * only if the compiled-in definition is broken, with dala_errmsg saying
 * where; tests guarantee it is not. */
const dala_domain *dala_domain_get(void);
/* This library's schema version, and the oldest a server accepts from
 * devices (0 if the compiled-in domain is broken). */
uint32_t dala_schema_version(void);
uint32_t dala_schema_oldest(void);
/* Parses a domain definition (for tests and tools); free with
 * dala_domain_free. */
int dala_domain_parse(dala_domain **out, const char *json, size_t len);
void dala_domain_free(dala_domain *domain);

/* Lookups; NULL when absent. */
const dala_table_def *dala_domain_table(const dala_domain *domain, const char *table);
const dala_field_def *dala_domain_field(const dala_table_def *table, const char *field);
const dala_enum *dala_domain_enum(const dala_domain *domain, const char *name);
const dala_enum_value *dala_enum_find(const dala_enum *choices, const char *value, size_t len);
/* A message of the catalogue in `lang` ("kk", "ru", "en"; others fall
 * back to "kk"); NULL for an unknown code. */
const char *dala_domain_message(const dala_domain *domain, const char *code, const char *lang);
/* The type's name in records.json ("text", "int", ...). */
const char *dala_field_type_name(dala_field_type type);
/* A label pair picked by language ("ru" picks ru, anything else kk). */
const char *dala_label(const char *kk, const char *ru, const char *lang);

/* ------------------------------------------------ the article catalogue */

/* An article (or one part of it) of the Criminal Code ("uk") or of the
 * Code of Administrative Offences ("koap") that concerns violence against
 * women (schema/domain/articles.json; docs/domain.md). From the Codes,
 * not from Order 1097: to be checked by the units' legal staff. */
typedef enum dala_article_kind {
    DALA_ARTICLE_CRIME,
    DALA_ARTICLE_CRIMINAL_MISDEMEANOUR,
    DALA_ARTICLE_ADMINISTRATIVE
} dala_article_kind;

typedef struct dala_article {
    const char *id;             /* "uk.120.1": code.article[.part] */
    const char *code;           /* "uk" or "koap" */
    const char *article, *part; /* "108-1", "1" ("": the whole article) */
    const char *kk, *ru;        /* the Code's title of it */
    dala_article_kind kind;
    int is_family_domestic;     /* the article is itself about family-domestic relations */
    const char *in_force_from, *in_force_to; /* "YYYY-MM-DD"; in_force_to "" while in force */
    const char *source;         /* a citation finer than the Code's; NULL if none */
} dala_article;

/* The whole catalogue (compiled in, parsed once); 0 if it is broken. */
size_t dala_articles(const dala_article **out);
/* The entry `id` (`len` bytes), or NULL when it is not catalogued. */
const dala_article *dala_article_find(const char *id, size_t len);
/* 1 if the article was in force on `day` ("YYYY-MM-DD"). */
int dala_article_in_force(const dala_article *article, const char *day);
/* The offence kind it goes with: "criminal" (crimes and criminal
 * misdemeanours) or "administrative". */
const char *dala_article_offence_kind(const dala_article *article);
/* The article as the Code is cited, in `lang`: "ҚК 120-бап 1-бөлік.
 * Зорлау" / "УК ст. 120 ч. 1. Изнасилование"; returns `out`. */
const char *dala_article_cite(char *out, size_t size, const dala_article *article, const char *lang);

/* ------------------------------------------------------------ the IIN */

typedef struct dala_iin {
    int year, month, day; /* the date of birth it encodes */
    char sex;             /* 'f' or 'm' */
} dala_iin;

/* Checks an IIN (12 digits, century and sex digit 1-6, a real date, the
 * check digit). Returns NULL when valid (and fills `out`, which may be
 * NULL), else the message code: "iin_format" or "iin_check". */
const char *dala_iin_check(dala_iin *out, const char *text, size_t len);
/* 1 if the date "YYYY-MM-DD" (10 bytes) is a real calendar date. */
int dala_date_is_valid(const char *text, size_t len);

/* ------------------------------------------------------------ checking */

/* What the check may ask of the store it runs beside. */
typedef struct dala_check_env {
    const char *today;           /* "YYYY-MM-DD", local; NULL: skip "not in the future" */
    uint32_t schema_version;     /* the writer's; 0: this library's */
    int is_server;               /* the server is the writer: server tables allowed */
    const struct dala_record *stored; /* the record as stored; NULL: a new record */
    /* 1 if a record `id` (lowercase UUID text) of `table` ("*": any)
     * exists and the writer may see it, 0 if not, negative on error. */
    int (*record_exists)(void *context, const char *table, const char *id);
    /* The definition of the published form `form_id` as malloc'ed text
     * in *out (free()); DALA_OK, DALA_ENOTFOUND if there is none, or an
     * error. */
    int (*form_definition)(void *context, const char *form_id, char **out);
    void *context;
} dala_check_env;

/* A refused change: which field, which rule (a message code), and the
 * rule's argument (a bound, another field's name, a question id). Never
 * a copy of the value. */
typedef struct dala_invalid {
    char table[64];
    char field[64]; /* "" when the whole record is refused */
    char code[32];
    char arg[64];
} dala_invalid;

/* Checks one change against the rules (docs/domain.md). DALA_OK; or
 * DALA_EINVAL with `out` filled; or another error when a callback or
 * memory failed (then `out` is not meaningful). */
int dala_change_check(dala_invalid *out, const struct dala_change *change, const dala_check_env *env);

/* The refusal as it travels: "<table>.<field>: <code>[ <arg>]". */
void dala_invalid_format(char *reason, size_t size, const dala_invalid *invalid);
/* Reads a refusal back; DALA_EINVAL if `reason` is not in that shape
 * (dala_errmsg is left as it was: callers often pass it in). */
int dala_invalid_parse(dala_invalid *out, const char *reason);
/* The refusal in the officer's language: "<field label>: <message>", the
 * argument rendered as a label where it names a field or a type. */
void dala_invalid_render(char *out, size_t size, const dala_invalid *invalid, const char *lang);

/* Checks a questionnaire definition (docs/domain.md, Surveys); on
 * DALA_EINVAL `why` says what is wrong (no answer text is copied). */
int dala_form_check(const char *json, size_t len, char *why, size_t why_size);

#endif
