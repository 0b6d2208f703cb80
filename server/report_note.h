/* report_note.h - a quarterly report note as stored (report_note.c): its
 * deadline, its figures (live in a draft, frozen once filed), the moves of
 * its workflow, and the canonical bytes its signature covers
 * (report_signoff.c). docs/reports.md says what each state means. */
#ifndef DALA_REPORT_NOTE_H
#define DALA_REPORT_NOTE_H

#include "report.h"
#include "report_bundle.h"
#include "report_sign.h"

typedef struct report_note {
    int64_t id, unit_id;
    char level[16]; /* "unit" or "department" */
    int year, quarter;
    char state[16];
    int64_t created_at, submitted_at, returned_at, consolidated_at, signed_at; /* 0: not yet */
    int late;
    char *return_comment; /* NULL if none */
    int64_t signer_id;
    char signer_name[128];
    uint8_t public_key[REPORT_PUBLIC_KEY_BYTES];
    uint8_t signature[REPORT_SIGNATURE_MAX_BYTES];
    size_t signature_len; /* 0: not signed */
    char *narrative[REPORT_BLOCKS]; /* NULL if none */
} report_note;

int report_note_load(report_note *out, sqlite3 *db, int64_t id);
void report_note_free(report_note *note);
/* Finds or drafts the note of `unit_id` (a unit or a department) for a
 * quarter; DALA_EINVAL for a unit of another kind. */
int report_note_draft(int64_t *id_out, sqlite3 *db, int64_t unit_id, int year, int quarter, int64_t user_id,
                      int64_t now);

/* The day a note is due (the 5th or the 10th of the month after the
 * quarter), the calendar days left from `now` (local time; negative:
 * overdue) and whether the day has ended. */
typedef struct report_due {
    char day[11];
    int64_t ends_at; /* the first second after the due day */
    int days_left;
    int overdue;
} report_due;

void report_note_due(report_due *out, const char *level, int year, int quarter, int64_t now);

/* Whether the note's figures are frozen (filed). */
int report_note_is_frozen(const report_note *note);
/* The note's figures: frozen ones as filed; a unit's draft counted from
 * the records; a department's draft added up from its units' filed notes
 * and its own records (those written at the department itself, which no
 * unit's note counts). */
int report_note_figures(report_figures *out, sqlite3 *db, const report_note *note);
/* What the records give now for a filed note (a department: its filed
 * units and its own records, counted again), to show corrections after
 * filing. */
int report_note_live(report_figures *out, sqlite3 *db, const report_note *note);
/* A department's own records, the part of its figures no unit's note
 * holds: counted from the records in a draft; in a consolidated or signed
 * note, as frozen then (its figures less those of the unit notes it took
 * in). Adds nothing for a unit's note. Rows that count nothing in either
 * period may be listed (at zero). */
int report_note_own(report_figures *out, sqlite3 *db, const report_note *note);

/* One unit of a department's note: its note's state (or "none") and when
 * it was filed; `units` as consolidated, or as they stand in a draft. */
typedef struct report_unit_filing {
    int64_t unit_id, note_id, submitted_at;
    char state[16];
    int late;
} report_unit_filing;

int report_note_units(report_unit_filing **out, size_t *count, sqlite3 *db, const report_note *note);
/* Whether a unit of that list has filed (its note submitted, or taken in):
 * only these are added into the department's figures. */
int report_unit_is_filed(const report_unit_filing *unit);
/* The label of a unit of that list: its note's state once filed, else
 * "not filed" (Тапсырмаған / Не представлена), whatever its draft's state. */
const char *report_filing_label(const report_unit_filing *unit, const char *lang);
/* The label of the line of a department's own records in its units list. */
const char *report_own_label(const char *lang);
/* The units of a consolidated (or signed) department note whose notes
 * were filed after it was consolidated and so are outside it: their notes
 * are submitted and its consolidation did not take them in. None for a
 * draft or a unit's note. `*out` (malloc'd) belongs to the caller. */
int report_note_filed_after(report_unit_filing **out, size_t *count, sqlite3 *db, const report_note *note);

/* The narratives of a department's filed unit notes, block by block
 * (`block` 1..9), for the department's page and its signature: each
 * `fn(context, unit_id, text)` in unit order; empty texts are skipped. */
int report_note_unit_narratives(sqlite3 *db, const report_note *note, int block,
                                int (*fn)(void *context, int64_t unit_id, const char *text), void *context);

/* The moves; each checks the state it starts from (DALA_ECONFLICT with
 * a message when the note is elsewhere) and runs in one transaction. */
#define REPORT_NARRATIVE_MAX_LETTERS 20000 /* characters, as a textarea counts them */
int report_note_set_narrative(sqlite3 *db, int64_t note_id, int block, const char *text);
int report_note_submit(sqlite3 *db, int64_t note_id, int64_t user_id, int64_t now);
int report_note_return(sqlite3 *db, int64_t note_id, const char *comment, int64_t now);
int report_note_consolidate(sqlite3 *db, int64_t note_id, int64_t user_id, int64_t now);
/* Consolidates a consolidated, unsigned department note again, to take in
 * the unit notes filed since (report_note_filed_after): adds up its filed
 * units' notes and its own records anew, freezes the sum, lists its units
 * anew, marks the unit notes it takes in consolidated, sets
 * consolidated_at (and the filing time) to `now` (late if after the due
 * day, as when consolidating), and writes the audit entry
 * `report_reconsolidate` for `user_id`, all in one transaction.
 * `*taken_in` (may be NULL) gets how many unit notes it took in.
 * DALA_EINVAL for a unit's note; DALA_ECONFLICT for a signed note (a signed
 * note never changes), a draft, or when no unit has filed since. */
int report_note_reconsolidate(sqlite3 *db, int64_t note_id, int64_t user_id, int64_t now, size_t *taken_in);

/* --- sign-off (report_signoff.c) ----------------------------------------- */

/* The bytes a signature covers (docs/reports.md, "Canonical bytes"),
 * rebuilt from what is stored. */
int report_note_canonical(dala_buf *out, sqlite3 *db, const report_note *note);
/* Signs a consolidated department note as `user_id` (`name`), after
 * checking `password`, which also unwraps the signer's key (made at the
 * first signature; made again, with `*key_replaced` set, when the current
 * password does not open the kept one). */
int report_note_sign(sqlite3 *db, int64_t note_id, int64_t user_id, const char *name, const char *password,
                     int64_t now, int *key_replaced);
/* DALA_OK if the note is signed and its signature verifies over its
 * canonical bytes under a key of its signer; DALA_EAUTH with the reason
 * otherwise. */
int report_note_verify(sqlite3 *db, int64_t note_id);

/* A signed note as a file for whoever receives it (the Committee): the
 * canonical bytes, the signature and the public key, base64 in JSON
 * ("dala-signed-report/1"). DALA_ECONFLICT if the note is not signed. */
int report_note_bundle(dala_buf *out, sqlite3 *db, const report_note *note);

#endif /* DALA_REPORT_NOTE_H */
