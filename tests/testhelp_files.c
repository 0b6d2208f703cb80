/* testhelp_files.c - the test runner's file helpers that every test
 * program shares (run_tests.c and the torture battery): where the data
 * under tests/ is, and a whole file read into memory. */
#include "testhelp.h"

#include <stdio.h>
#include <stdlib.h>

const char *test_data_path(const char *relative)
{
    static char path[1024];
    const char *root = getenv("DALA_TESTS_DIR");
    snprintf(path, sizeof path, "%s/%s", root ? root : "tests", relative);
    return path;
}

char *test_read_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    char *text = NULL;
    long size = file && fseek(file, 0, SEEK_END) == 0 ? ftell(file) : -1;
    if (size >= 0 && fseek(file, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1))) {
        if (fread(text, 1, (size_t)size, file) == (size_t)size) text[size] = 0;
        else free(text), text = NULL;
    }
    if (file) fclose(file);
    if (!text) test_fail(__FILE__, __LINE__, "cannot read %s", path);
    return text;
}
