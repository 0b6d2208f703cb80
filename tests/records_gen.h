/* records_gen.h - a deterministic generator of realistic home-visit records
 * (the `field_visit` form of the women-protection units), for tests,
 * benchmarks and fuzz corpora.
 *
 * The same seed gives the same records, byte for byte, on every machine:
 * the generator has its own PRNG (splitmix64), uses no floating point to
 * decide anything and never calls rand(). Each record has a UUIDv7-shaped
 * id whose timestamp follows the visit, and 22 fields: who visited where
 * and when (unit, officer, date, time, city, district, street address,
 * latitude and longitude), why, the household and whom they met, what they
 * found (300-600 bytes of free text in Kazakh and Russian, assembled from
 * phrases an inspector writes), the risk level, counts of victims and
 * children, the measures taken, referral, protective order and follow-up.
 * Values are TEXT, INT or REAL, ready for dala_batch_encode. Each record
 * also comes as the JSON object a plain REST client would send, averaging
 * about 1.2 KB, the yardstick the sync benchmark compares against.
 *
 * Typical use:
 *
 *     records_gen g;
 *     gen_record rec;
 *     dala_change change;
 *     records_gen_init(&g, 42);
 *     if (records_gen_next(&g, &rec) == DALA_OK) {
 *         gen_record_change(&change, &rec, hlc, device_id);
 *         ... dala_batch_encode(&buf, 1, 0, &change, 1) ...
 *         gen_record_free(&rec);
 *     }
 */
#ifndef DALA_RECORDS_GEN_H
#define DALA_RECORDS_GEN_H

#include "dala_sync.h"

#include <stddef.h>
#include <stdint.h>

/* The table every generated change is written to. */
#define GEN_TABLE "field_visit"
/* The number of fields of a generated record, always all set. */
#define GEN_RECORD_FIELDS 22
/* The schema version generated batches are stamped with by convention. */
#define GEN_SCHEMA_VERSION 1

/* A generator: its seed and where its PRNG and its calendar stand. Plain
 * data with no memory of its own, so it may be copied to fork a stream. */
typedef struct records_gen {
    uint64_t seed;
    uint64_t state;        /* splitmix64 state */
    uint64_t record_count; /* records issued so far */
    int64_t visit_day;     /* days since 1970-01-01 of the current visit day */
} records_gen;

/* One generated record. Every pointer inside (the text values of `fields`,
 * `json`) points into memory the record owns; `fields` lives inside the
 * struct, so a change that borrows it (gen_record_change) is valid while
 * the record stays where it is and is not freed. */
typedef struct gen_record {
    uint8_t id[DALA_UUID_BYTES];
    char id_text[DALA_UUID_TEXT_LEN + 1];
    uint64_t created_ms; /* Unix ms in the id: when the inspector saved it */
    size_t field_count;  /* GEN_RECORD_FIELDS */
    dala_field fields[GEN_RECORD_FIELDS];
    char *json; /* {"id":"...","unit_id":...}: NUL-terminated UTF-8 */
    size_t json_len;
    char *storage; /* private: the bytes of the text values */
    /* private: what a later edit (records_gen_delta) needs to stay
     * consistent with the record: its visit day and its people */
    int64_t visit_day;
    uint32_t victim, offender;
    uint8_t relation;
    uint16_t findings_last; /* offset of the last sentence of the findings */
} gen_record;

/* The largest new text value one edit carries. */
#define GEN_DELTA_TEXT_BYTES 1024
#define GEN_DELTA_JSON_BYTES (GEN_DELTA_TEXT_BYTES * 2 + 128)

/* A one-field edit of an existing record, ready to encode: `change` points
 * at `field`, whose text value (if any) lives in `text`. Self-contained: no
 * pointer into the record it was made from, so the record may be freed;
 * but the struct must not be copied or moved once filled (it points into
 * itself). */
typedef struct gen_delta {
    dala_change change;
    dala_field field;
    char text[GEN_DELTA_TEXT_BYTES];
    char json[GEN_DELTA_JSON_BYTES]; /* {"id":"...","<field>":<value>} */
    size_t json_len;
} gen_delta;

/**
 * Starts a generator. Any seed is fine, 0 included; two generators with
 * the same seed issue the same records.
 */
void records_gen_init(records_gen *gen, uint64_t seed);

/**
 * The next 64 bits of the generator's PRNG (splitmix64). Drawing from it
 * changes the records that follow, deterministically.
 */
uint64_t records_gen_u64(records_gen *gen);

/**
 * Generates the next record into `out`, which need not be initialised and
 * is overwritten: free a previous record held in it first.
 *
 * @param gen  the generator; advances.
 * @param out  filled on DALA_OK; gen_record_free() it. All zero on
 *             failure, and the generator is as it was before the call.
 * @return DALA_OK or DALA_ENOMEM.
 */
int records_gen_next(records_gen *gen, gen_record *out);

/* Frees a record's memory and zeroes it. NULL and a zeroed record are fine. */
void gen_record_free(gen_record *rec);

/**
 * Fills `out` with the change that creates `rec`: table GEN_TABLE, the
 * record's id, every field with base_hlc 0. `out->fields` is borrowed from
 * `rec` (see gen_record).
 *
 * @param hlc        the change's timestamp; must be > 0 to encode.
 * @param device_id  the writing device.
 */
void gen_record_change(dala_change *out, const gen_record *rec, uint64_t hlc,
                       uint64_t device_id);

/**
 * Makes a one-field edit of `rec` as an inspector or a supervisor would
 * make it after the record has synced: a new risk level, a changed last
 * sentence of the findings, a new follow-up date, more measures, a changed
 * protective-order status, a referral or children count.
 *
 * @param gen        draws the choices; advances.
 * @param out        filled in place (see gen_delta).
 * @param rec        the record edited; only read.
 * @param field      the field to edit, one of those above, or NULL to draw
 *                   one with realistic weights (mostly short fields; one
 *                   edit in ten touches the findings).
 * @param base_hlc   the version of the field the editor had; < hlc.
 * @param hlc        the edit's timestamp.
 * @param device_id  the editing device.
 * @return DALA_OK, or DALA_EINVAL for a field this helper cannot edit.
 */
int records_gen_delta(records_gen *gen, gen_delta *out, const gen_record *rec,
                      const char *field, uint64_t base_hlc, uint64_t hlc,
                      uint64_t device_id);

/* The record's field named `name`, or NULL. */
const dala_field *gen_record_field(const gen_record *rec, const char *name);

#endif /* DALA_RECORDS_GEN_H */
