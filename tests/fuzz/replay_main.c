/* replay_main.c - a plain main for the fuzz targets, so that `make test`
 * (and `make asan`) run every input of a target's committed corpus through
 * its LLVMFuzzerTestOneInput without libFuzzer: a regression found once by
 * fuzzing stays fixed. Linked with one target as build/replay_<target>.
 *
 * usage: replay_<target> DIR|FILE...
 * Runs every regular file (not starting with '.') of each directory, in
 * name order, and each file named, then prints "replay <target>: N inputs".
 * Exits 1 when an argument cannot be read or nothing was run (an empty or
 * missing corpus is a mistake, not a pass); a failing input aborts. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs one file through the target, from memory of exactly its size so
 * that AddressSanitizer sees any read past the end. Returns 0 or -1 if the
 * file cannot be read. */
static int replay_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    struct stat st;
    if (!file || fstat(fileno(file), &st) != 0) {
        perror(path);
        if (file) fclose(file);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size ? size : 1);
    int ok = data && fread(data, 1, size, file) == size;
    fclose(file);
    if (!ok) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(data);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int skip_entry(const struct dirent *entry)
{
    return entry->d_name[0] != '.';
}

/* Replays every regular file of `dir`, adding to *count; -1 on error. */
static int replay_dir(const char *dir, size_t *count)
{
    struct dirent **entries;
    int n = scandir(dir, &entries, skip_entry, alphasort), rc = 0;
    if (n < 0) {
        perror(dir);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name);
        if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = replay_file(path);
            if (rc == 0) (*count)++;
        }
        free(entries[i]);
    }
    free(entries);
    return rc;
}

/* "fuzz_inflate" from ".../replay_fuzz_inflate". */
static const char *target_name(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    return strncmp(base, "replay_", 7) == 0 ? base + 7 : base;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int rc;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (S_ISDIR(st.st_mode)) rc = replay_dir(argv[i], &count);
        else if ((rc = replay_file(argv[i])) == 0) count++;
        if (rc != 0) return 1;
    }
    printf("replay %s: %zu inputs\n", target_name(argv[0]), count);
    if (count == 0) {
        fprintf(stderr, "replay %s: no inputs in the corpus\n", target_name(argv[0]));
        return 1;
    }
    return 0;
}
