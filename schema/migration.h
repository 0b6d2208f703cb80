/* migration.h - one numbered, forward-only schema migration, embedded in
 * the binaries by scripts/embed-sql.sh from schema/server/ and
 * schema/device/. Tables of migrations end with {0, 0}. */
#ifndef DALA_MIGRATION_H
#define DALA_MIGRATION_H

typedef struct dala_migration {
    const char *name; /* "001_init": the number orders them */
    const char *sql;
} dala_migration;

/* Applies, in one transaction each, every migration of `migrations` whose
 * number is above the database's user_version, and sets user_version to
 * it. `db` is a sqlite3 handle (void * so this header needs no SQLite).
 * Returns DALA_OK, DALA_ESCHEMA (the database is newer than this build:
 * never downgrade) or DALA_EIO with dala_errmsg() naming the migration. */
int dala_migrate(void *db, const dala_migration *migrations, const char *what);

/* The number of the last migration in the table (the schema version). */
int dala_migration_latest(const dala_migration *migrations);

#endif
