/* alloc.c - every allocation of libdala_sync goes through here, so a test
 * can make the Nth allocation from now fail and walk each error path (as
 * SQLite's tests do). The countdown is per thread: a test's faults never
 * reach the server threads of another test. */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local long fail_countdown; /* 0: never fail */

void dala_alloc_fail_after(long n)
{
    fail_countdown = n > 0 ? n : 0;
}

/* Whether this allocation is the one that must fail. */
static int should_fail(void)
{
    if (fail_countdown == 0) return 0;
    if (--fail_countdown > 0) return 0;
    return 1;
}

void *dala_malloc(size_t size)
{
    return should_fail() ? NULL : malloc(size);
}

void *dala_calloc(size_t count, size_t size)
{
    return should_fail() ? NULL : calloc(count, size);
}

void *dala_realloc(void *memory, size_t size)
{
    return should_fail() ? NULL : realloc(memory, size);
}

char *dala_strdup(const char *text)
{
    return should_fail() ? NULL : strdup(text);
}
