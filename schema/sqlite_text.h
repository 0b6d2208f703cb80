/* sqlite_text.h - Kazakh-aware text for SQLite: the collation `kk`, the
 * functions dala_fold() and dala_contains(), and readers of stored record
 * blobs, registered on each connection the server and the tablet store
 * open (the text code is in sync/text.c). */
#ifndef DALA_SQLITE_TEXT_H
#define DALA_SQLITE_TEXT_H

#include <sqlite3.h>

/**
 * Register on `db`, for as long as it is open:
 *  - the collation `kk`: Kazakh alphabetical order, case-insensitive first
 *    and then by case (dala_text_compare), e.g. `ORDER BY name COLLATE kk`;
 *  - `dala_fold(text)`: the text case-folded (dala_text_fold); NULL for NULL;
 *  - `dala_contains(text, query)`: 1 when `query` occurs in `text` ignoring
 *    case (dala_text_contains), else 0; NULL when either is NULL;
 *  - `dala_record_text(data, field)`: a field of a record blob (TEXT as it
 *    is, numbers as numbers), NULL when absent, e.g. for
 *    `ORDER BY dala_record_text(data, 'last_name') COLLATE kk`;
 *  - `dala_record_matches(data, query)`: 1 when any TEXT field of a record
 *    blob holds `query` ignoring case, else 0.
 * The functions are deterministic and innocuous, so indexes, CHECK
 * constraints and views may use them; numbers are read as their text.
 *
 * @param db  an open connection; borrowed.
 * @return SQLITE_OK, or the SQLite error code of the registration that
 *         failed (sqlite3_errmsg(db) tells why).
 */
int dala_sqlite_text_register(sqlite3 *db);

#endif /* DALA_SQLITE_TEXT_H */
