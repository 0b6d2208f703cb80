/* migrate.c - runs the numbered, forward-only migrations embedded from
 * schema/server/ and schema/device/. The database's PRAGMA user_version
 * holds the number of the last migration applied; each migration runs in
 * its own transaction with the version bump, so a crash leaves the schema
 * at a whole step. A database newer than the binary is refused. */
#include "migration.h"
#include "dala_sync.h"
#include "sync_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

int dala_migration_latest(const dala_migration *migrations)
{
    int latest = 0;
    for (const dala_migration *m = migrations; m->name; m++) latest = atoi(m->name);
    return latest;
}

static int user_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK) return DALA_EIO;
    int rc = sqlite3_step(stmt) == SQLITE_ROW ? DALA_OK : DALA_EIO;
    *out = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return rc;
}

static int apply_one(sqlite3 *db, const dala_migration *m, int number, const char *what)
{
    char *error = NULL;
    char bump[64];
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d;", number);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &error) != SQLITE_OK ||
        sqlite3_exec(db, m->sql, NULL, NULL, &error) != SQLITE_OK ||
        sqlite3_exec(db, bump, NULL, NULL, &error) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, &error) != SQLITE_OK) {
        int rc = dala_error_set(DALA_EIO, "migrate %s to %s: %s", what, m->name,
                                error ? error : sqlite3_errmsg(db));
        sqlite3_free(error);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return DALA_OK;
}

int dala_migrate(void *handle, const dala_migration *migrations, const char *what)
{
    sqlite3 *db = handle;
    int current;
    if (user_version(db, &current))
        return dala_error_set(DALA_EIO, "migrate %s: cannot read its version: %s", what,
                              sqlite3_errmsg(db));
    int latest = dala_migration_latest(migrations);
    if (current > latest)
        return dala_error_set(DALA_ESCHEMA,
                              "migrate %s: its schema version %d is newer than this build's %d",
                              what, current, latest);
    for (const dala_migration *m = migrations; m->name; m++) {
        int number = atoi(m->name);
        if (number <= current) continue;
        int rc = apply_one(db, m, number, what);
        if (rc) return rc;
    }
    return DALA_OK;
}
