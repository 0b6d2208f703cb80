/* files.c - the files dala-server writes are its own: each is created
 * 0600 and each folder it makes 0700, by explicit modes whatever the
 * caller's umask (main also sets umask 0077, so nothing else slips by);
 * files an older build left readable by others are tightened at start;
 * and a file that must never be half-written (the key file) is replaced
 * atomically: a temporary file written and fsynced, renamed over the old
 * one, then the folder fsynced so the rename itself survives power loss. */
#include "server_int.h"
#include "sync_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The folder of `path` into `out`: "." for a bare name, "/" for "/x". */
static void folder_of(char *out, size_t size, const char *path)
{
    snprintf(out, size, "%s", path);
    char *slash = strrchr(out, '/');
    if (!slash) snprintf(out, size, ".");
    else slash[slash == out ? 1 : 0] = '\0';
}

int server_folder_make(const char *path)
{
    char folder[4096];
    folder_of(folder, sizeof folder, path);
    if (mkdir(folder, 0700) == 0 || errno == EEXIST) return DALA_OK;
    return dala_error_set(DALA_EIO, "make folder %s: %s", folder, strerror(errno));
}

int server_file_create(const char *path)
{
    int rc = server_folder_make(path);
    if (rc) return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) return DALA_OK;
    if (fd < 0) return dala_error_set(DALA_EIO, "create %s: %s", path, strerror(errno));
    close(fd);
    return DALA_OK;
}

FILE *server_file_open_append(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return NULL;
    struct stat st;
    /* A log an older build made 0644: ours, so made private too. */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077)) (void)fchmod(fd, 0600);
    FILE *file = fdopen(fd, "a");
    if (!file) close(fd);
    return file;
}

FILE *server_file_open_write(const char *path, int is_exclusive)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (is_exclusive ? O_EXCL : O_TRUNC), 0600);
    if (fd < 0) return NULL;
    FILE *file = fdopen(fd, "w");
    if (!file) close(fd);
    return file;
}

int server_file_tighten(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 077)) return 0;
    return chmod(path, 0600) == 0 ? 1 : -1;
}

/* Writes all of `data` to `fd`, across short writes and signals. */
static int write_all(int fd, const uint8_t *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

int server_file_replace(const char *path, const void *data, size_t len)
{
    char tmp[4200], folder[4096];
    int rc = server_folder_make(path);
    if (rc) return rc;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    folder_of(folder, sizeof folder, path);
    unlink(tmp); /* left by a crash: it may hold an older copy */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return dala_error_set(DALA_EIO, "write %s: %s", tmp, strerror(errno));
    int failed = write_all(fd, data, len) || fsync(fd);
    int error = errno;
    if (close(fd) != 0 && !failed) {
        failed = 1;
        error = errno;
    }
    if (!failed && rename(tmp, path) != 0) {
        failed = 1;
        error = errno;
    }
    if (failed) {
        unlink(tmp);
        return dala_error_set(error == ENOSPC ? DALA_ENOSPACE : DALA_EIO, "write %s: %s", path, strerror(error));
    }
    int dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    failed = dir < 0 || fsync(dir) != 0;
    error = errno;
    if (dir >= 0) close(dir);
    if (failed) return dala_error_set(DALA_EIO, "write %s: syncing its folder %s: %s", path, folder, strerror(error));
    return DALA_OK;
}
