/* report.h - the quarterly report notes (Rules, chapter 3; docs/reports.md):
 * the figures of the nine blocks counted from the records, their labels,
 * and the notes as stored (drafts, filed, consolidated, signed). The web
 * routes (web_reports.c, web_report_out.c) and `dala-server
 * verify-report` stand on this. */
#ifndef DALA_REPORT_H
#define DALA_REPORT_H

#include "server_int.h"
#include "sync_int.h"

#define REPORT_BLOCKS 9

/* The two periods a figure compares: the quarter, and the same quarter of
 * the year before (АППГ). */
enum { REPORT_NOW = 0, REPORT_LAST = 1 };

typedef struct report_figure {
    int block;
    char *group;      /* "crimes.relationship" */
    char *value;      /* "spouse"; "" for a total */
    int64_t count[2]; /* [REPORT_NOW], [REPORT_LAST] */
} report_figure;

/* A set of figures, found by (group, value). */
typedef struct report_figures {
    report_figure *items;
    size_t count, alloc;
    size_t *slots; /* open addressing: index + 1, 0 free */
    size_t slot_count;
} report_figures;

#define REPORT_FIGURES_INIT {NULL, 0, 0, NULL, 0}

/* Adds `n` to (group, value) in `period`, creating the figure at zero. */
int report_figures_add(report_figures *f, int block, const char *group, const char *value, int period, int64_t n);
const report_figure *report_figures_find(const report_figures *f, const char *group, const char *value);
/* Sorts into reading order: by block, the group's place in the block,
 * then the value's (an enumeration's order; free text alphabetically). */
void report_figures_sort(report_figures *f);
void report_figures_free(report_figures *f);

/* The first and last day ("YYYY-MM-DD") of a quarter. */
void report_quarter_days(char first[11], char last[11], int year, int quarter);

/* Follows one figure back to its records: report_count calls `fn` with
 * the id of every record it counts under (group, value) in `period`. */
typedef struct report_trace {
    const char *group, *value;
    int period;
    int (*fn)(void *context, const uint8_t id[DALA_UUID_BYTES]);
    void *context;
} report_trace;

/* Adds at zero the figures listed even when nothing counts: totals, and
 * the values the Rules name. */
int report_figures_seed(report_figures *out);

/* Counts the figures of every block for the records of `unit_id`'s
 * subtree in `quarter` of `year` and the same quarter a year before.
 * With `trace`, also reports the records of one figure. */
int report_count(report_figures *out, sqlite3 *db, int64_t unit_id, int year, int quarter, const report_trace *trace);

/* The same for the records written at `unit_id` itself, not in its
 * subtree: a department's own records, which no unit's note counts. */
int report_count_own(report_figures *out, sqlite3 *db, int64_t unit_id, int year, int quarter,
                     const report_trace *trace);

/* Which record types a count reads: all, or only those the charts show
 * (offences, suicide checks, legal aid). */
typedef enum report_types { REPORT_ALL_TYPES, REPORT_CHARTED_TYPES } report_types;

/* The same over any two periods (`first` and `last` days, inclusive,
 * of [REPORT_NOW] and [REPORT_LAST]): the charts count months. */
int report_count_days(report_figures *out, sqlite3 *db, int64_t unit_id, const char first[2][11],
                      const char last[2][11], report_types types, const report_trace *trace);

/* --- labels (report_labels.c) ------------------------------------------ */

/* A block's title in `lang` ("kk" or "ru"). */
const char *report_block_title(int block, const char *lang);
/* A figure's label: the group's, and the value's after a colon. */
void report_figure_label(char *out, size_t size, const char *group, const char *value, const char *lang);
/* Labels with the words of the questionnaires: a survey answer's figure
 * is labelled with its question and option, read from the newest version
 * of its questionnaire (kept while the figures are labelled in turn). */
typedef struct report_labeler {
    sqlite3 *db;
    const char *lang;
    char code[65];
    struct dala_form *form;
} report_labeler;

void report_labeler_init(report_labeler *l, sqlite3 *db, const char *lang);
void report_label(char *out, size_t size, report_labeler *l, const char *group, const char *value);
void report_labeler_free(report_labeler *l);
/* The place of a group in its block and of a value in its group, for
 * report_figures_sort; -1 when free text. */
int report_group_rank(const char *group);
int report_value_rank(const char *group, const char *value);
/* The label of a note's state. */
const char *report_state_label(const char *state, const char *lang);

#endif /* DALA_REPORT_H */
