/* bench_web.h - what the supervisors' record lists cost on a large unit
 * (bench_server's step 7): a unit head signs in over HTTP and asks for
 * pages of the list, the first and one far down, filtered, and searched. */
#ifndef DALA_BENCH_WEB_H
#define DALA_BENCH_WEB_H

#include <stddef.h>
#include <stdint.h>

typedef struct web_figures {
    double sign_in_ms;     /* one sign-in: PBKDF2 and a session */
    double first_page_ms;  /* GET /v1/records?limit=50, median */
    double deep_page_ms;   /* the page after `deep_pages` pages of 50, median */
    double filtered_ms;    /* risk=high&state=pending, first page, median */
    double search_ms;      /* q= a word no record holds: every record read, median */
    double found_ms;       /* q=ЖӘБІРЛЕНУШІ, in capitals (records hold it in any case), first page, median */
    double export_s;       /* GET /v1/records.csv?table=field_visit: every record, once */
    size_t export_bytes;
    double index_wait_s;   /* until the text index had caught up with every unit's log */
    long long index_lag;   /* records past the index's cursors when the wait began */
    size_t deep_pages;
    size_t records_seen;   /* counted by paging to the deep page */
} web_figures;

/* Adds a unit head of `unit_id` to the database at `db_path`, waits for
 * the server's text index to catch up (it works while no sync runs), and
 * measures the lists of dala-server on 127.0.0.1:`port` `samples` times
 * each.
 * Exits the process with a message if a request fails. */
void bench_web_lists(web_figures *out, int port, const char *db_path, int64_t unit_id, size_t samples);

#endif
