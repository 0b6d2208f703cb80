/* sqlite_settings.h - SQLite settings both binaries share. */
#ifndef DALA_SQLITE_SETTINGS_H
#define DALA_SQLITE_SETTINGS_H

/* The PRAGMA that sets how a connection makes commits durable: always
 * "PRAGMA synchronous = FULL" (a commit is on the disk before it is
 * acknowledged), except when the environment variable
 * DALA_TEST_SYNCHRONOUS is NORMAL: the torture battery's proof that its
 * power-loss test can fail (tests/test_durability.c). Never set it in a
 * deployment. */
const char *dala_sqlite_synchronous_pragma(void);

#endif
