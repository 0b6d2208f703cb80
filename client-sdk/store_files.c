/* store_files.c - durable file steps for the store's small files (the
 * wrapped key): write whole, sync, rename, sync the folder. */
#include "sdk_int.h"
#include "store_files.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int dala_sync_folder_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy) return dala_error_set(DALA_ENOMEM, "sync folder of %s: out of memory", path);
    const char *folder = dirname(copy);
    int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = DALA_OK;
    if (fd < 0 || fsync(fd) != 0)
        rc = dala_error_set(DALA_EIO, "sync folder %s: %s", folder, strerror(errno));
    if (fd >= 0) close(fd);
    free(copy);
    return rc;
}

int dala_file_replace(const char *path, const void *data, size_t len)
{
    char temp[4096];
    if ((size_t)snprintf(temp, sizeof temp, "%s.new", path) >= sizeof temp)
        return dala_error_set(DALA_EINVAL, "write %s: path too long", path);
    int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return dala_error_set(DALA_EIO, "write %s: %s", temp, strerror(errno));
    const uint8_t *at = data;
    size_t left = len;
    int rc = DALA_OK;
    while (left && !rc) {
        ssize_t n = write(fd, at, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) rc = dala_error_set(errno == ENOSPC ? DALA_ENOSPACE : DALA_EIO, "write %s: %s", temp,
                                        n < 0 ? strerror(errno) : "nothing written");
        else {
            at += n;
            left -= (size_t)n;
        }
    }
    if (!rc && fsync(fd) != 0) rc = dala_error_set(DALA_EIO, "sync %s: %s", temp, strerror(errno));
    close(fd);
    dala_crash_point("replace: written");
    if (!rc && rename(temp, path) != 0) rc = dala_error_set(DALA_EIO, "rename %s: %s", temp, strerror(errno));
    if (rc) unlink(temp);
    else {
        dala_crash_point("replace: renamed");
        rc = dala_sync_folder_of(path);
    }
    return rc;
}

int dala_folder_lock(int *fd_out, const char *path)
{
    char *copy = strdup(path);
    if (!copy) return dala_error_set(DALA_ENOMEM, "lock the folder of %s: out of memory", path);
    const char *folder = dirname(copy);
    int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = DALA_OK;
    if (fd < 0) rc = dala_error_set(DALA_EIO, "open folder %s: %s", folder, strerror(errno));
    else {
        while (flock(fd, LOCK_EX) != 0)
            if (errno != EINTR) {
                rc = dala_error_set(DALA_EIO, "lock folder %s: %s", folder, strerror(errno));
                close(fd);
                fd = -1;
                break;
            }
    }
    free(copy);
    *fd_out = fd;
    return rc;
}

void dala_folder_unlock(int fd)
{
    if (fd >= 0) close(fd); /* closing releases the lock */
}
