/* sqlite_settings.c - SQLite settings the server and the tablet store
 * share: how durable a commit is. */
#include "sqlite_settings.h"

#include <stdlib.h>
#include <string.h>

const char *dala_sqlite_synchronous_pragma(void)
{
    const char *test = getenv("DALA_TEST_SYNCHRONOUS");
    if (test && strcmp(test, "NORMAL") == 0) return "PRAGMA synchronous = NORMAL";
    return "PRAGMA synchronous = FULL";
}
