/* fault_vfs.c - see fault_vfs.h. A shim file holds the real file of the
 * VFS it replaced right after itself (szOsFile is the sum), and forwards
 * every method to it; writes to tracked files first copy the bytes they
 * overwrite into that file's undo list, which a sync empties and a power
 * loss plays backwards. Memory-mapped reads are declined (xFetch gives
 * NULL), so every read passes through xRead and can be failed. */
#include "torture/fault_vfs.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECTOR 512

/* One write or truncate since the file's last sync. */
typedef struct undo {
    int is_truncate;
    sqlite3_int64 offset;      /* where the write began; the truncate's new size */
    sqlite3_int64 size_before; /* the file's size before it */
    unsigned char *old;        /* the bytes it replaced (that existed) */
    size_t old_len;
    unsigned char *data;       /* what the write wrote */
    size_t len;
} undo;

/* A tracked file, by path: what its last sync made durable. */
typedef struct tracked {
    char *path;
    sqlite3_int64 synced_size;
    undo *undos;
    size_t count, alloc;
    struct tracked *next;
} tracked;

typedef struct fault_file {
    sqlite3_file base;
    char *path; /* NULL for temporary files */
    sqlite3_file *real;
} fault_file;

static struct {
    pthread_mutex_t lock;
    sqlite3_vfs *orig;
    int installed;
    /* the injected fault */
    int fault_active, fault_persistent;
    fault_vfs_op fault_op;
    unsigned fault_nth, fault_seen, failures;
    char fault_path[256];
    /* power loss */
    char track_path[256];
    int powered_off;
    unsigned cut_countdown; /* the power goes at this tracked write; 0: never */
    tracked *files;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---------------------------------------------------------------- state */

static int path_matches(const char *path, const char *part)
{
    return path && part[0] && strstr(path, part) != NULL;
}

/* Whether this operation is failed by the injected fault. Under g.lock. */
static int fault_hits(fault_vfs_op op, const char *path)
{
    if (!g.fault_active || g.fault_op != op || !path_matches(path, g.fault_path)) return 0;
    g.fault_seen++;
    if (g.fault_seen == g.fault_nth || (g.fault_persistent && g.fault_seen > g.fault_nth)) {
        g.failures++;
        return 1;
    }
    return 0;
}

static int fault_check(fault_vfs_op op, const char *path)
{
    pthread_mutex_lock(&g.lock);
    int hit = fault_hits(op, path);
    pthread_mutex_unlock(&g.lock);
    return hit;
}

static void undo_free(undo *u)
{
    free(u->old);
    free(u->data);
}

static void tracked_forget_undos(tracked *t)
{
    for (size_t i = 0; i < t->count; i++) undo_free(&t->undos[i]);
    free(t->undos);
    t->undos = NULL;
    t->count = t->alloc = 0;
}

/* The tracked state of `path`, NULL if none. Under g.lock. */
static tracked *tracked_find(const char *path)
{
    for (tracked *t = g.files; t; t = t->next)
        if (strcmp(t->path, path) == 0) return t;
    return NULL;
}

/* The tracked state of `path`, made with `size_now` as its durable size
 * when it is first written. Under g.lock. */
static tracked *tracked_get(const char *path, sqlite3_int64 size_now)
{
    tracked *t = tracked_find(path);
    if (t) return t;
    t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path))) {
        free(t);
        return NULL;
    }
    t->synced_size = size_now;
    t->next = g.files;
    g.files = t;
    return t;
}

static void tracked_drop(const char *path)
{
    for (tracked **p = &g.files; *p; p = &(*p)->next)
        if (strcmp((*p)->path, path) == 0) {
            tracked *t = *p;
            *p = t->next;
            tracked_forget_undos(t);
            free(t->path);
            free(t);
            return;
        }
}

static void tracked_drop_all(void)
{
    while (g.files) {
        tracked *t = g.files;
        g.files = t->next;
        tracked_forget_undos(t);
        free(t->path);
        free(t);
    }
}

static undo *undo_push(tracked *t)
{
    if (t->count == t->alloc) {
        size_t alloc = t->alloc ? t->alloc * 2 : 64;
        undo *grown = realloc(t->undos, alloc * sizeof *grown);
        if (!grown) return NULL;
        t->undos = grown;
        t->alloc = alloc;
    }
    undo *u = &t->undos[t->count++];
    memset(u, 0, sizeof *u);
    return u;
}

/* The bytes [offset, offset + len) of `real` that exist (below `size`),
 * malloc'd into *out; their count in *out_len. 0 or a SQLite code. */
static int read_existing(unsigned char **out, size_t *out_len, sqlite3_file *real, sqlite3_int64 offset,
                         size_t len, sqlite3_int64 size)
{
    *out = NULL;
    *out_len = 0;
    if (offset >= size || len == 0) return SQLITE_OK;
    size_t n = (size_t)(size - offset) < len ? (size_t)(size - offset) : len;
    unsigned char *bytes = malloc(n);
    if (!bytes) return SQLITE_NOMEM;
    int rc = real->pMethods->xRead(real, bytes, (int)n, offset);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) {
        free(bytes);
        return rc;
    }
    *out = bytes;
    *out_len = n;
    return SQLITE_OK;
}

/* --------------------------------------------------------- file methods */

static int shim_close(sqlite3_file *file)
{
    fault_file *f = (fault_file *)file;
    int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
    free(f->path);
    f->path = NULL;
    return rc;
}

static int shim_read(sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset)
{
    fault_file *f = (fault_file *)file;
    if (fault_check(FAULT_VFS_READ, f->path)) return SQLITE_IOERR_READ;
    return f->real->pMethods->xRead(f->real, buffer, amount, offset);
}

static int shim_write(sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset)
{
    fault_file *f = (fault_file *)file;
    sqlite3_file *real = f->real;
    int rc;
    pthread_mutex_lock(&g.lock);
    int is_tracked = path_matches(f->path, g.track_path);
    if (is_tracked && g.cut_countdown && --g.cut_countdown == 0) g.powered_off = 1;
    if (fault_hits(FAULT_VFS_WRITE, f->path) || (is_tracked && g.powered_off)) {
        pthread_mutex_unlock(&g.lock);
        return SQLITE_IOERR_WRITE;
    }
    if (!is_tracked) {
        pthread_mutex_unlock(&g.lock);
        return real->pMethods->xWrite(real, buffer, amount, offset);
    }
    /* Copy what is overwritten, then write, under the lock. */
    sqlite3_int64 size = 0;
    rc = real->pMethods->xFileSize(real, &size);
    tracked *t = rc == SQLITE_OK ? tracked_get(f->path, size) : NULL;
    undo *u = t ? undo_push(t) : NULL;
    if (rc == SQLITE_OK && !u) rc = SQLITE_NOMEM;
    if (rc == SQLITE_OK) {
        u->offset = offset;
        u->size_before = size;
        u->len = (size_t)amount;
        rc = read_existing(&u->old, &u->old_len, real, offset, (size_t)amount, size);
        if (rc == SQLITE_OK && !(u->data = malloc(u->len ? u->len : 1))) rc = SQLITE_NOMEM;
        if (rc == SQLITE_OK) memcpy(u->data, buffer, u->len);
        if (rc == SQLITE_OK) rc = real->pMethods->xWrite(real, buffer, amount, offset);
        if (rc != SQLITE_OK) undo_free(&t->undos[--t->count]);
    }
    pthread_mutex_unlock(&g.lock);
    return rc;
}

static int shim_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    fault_file *f = (fault_file *)file;
    sqlite3_file *real = f->real;
    int rc;
    pthread_mutex_lock(&g.lock);
    int is_tracked = path_matches(f->path, g.track_path);
    if (is_tracked && g.powered_off) {
        pthread_mutex_unlock(&g.lock);
        return SQLITE_IOERR_TRUNCATE;
    }
    if (!is_tracked) {
        pthread_mutex_unlock(&g.lock);
        return real->pMethods->xTruncate(real, size);
    }
    sqlite3_int64 before = 0;
    rc = real->pMethods->xFileSize(real, &before);
    tracked *t = rc == SQLITE_OK ? tracked_get(f->path, before) : NULL;
    undo *u = t ? undo_push(t) : NULL;
    if (rc == SQLITE_OK && !u) rc = SQLITE_NOMEM;
    if (rc == SQLITE_OK) {
        u->is_truncate = 1;
        u->offset = size;
        u->size_before = before;
        if (before > size) rc = read_existing(&u->old, &u->old_len, real, size, (size_t)(before - size), before);
        if (rc == SQLITE_OK) rc = real->pMethods->xTruncate(real, size);
        if (rc != SQLITE_OK) undo_free(&t->undos[--t->count]);
    }
    pthread_mutex_unlock(&g.lock);
    return rc;
}

static int shim_sync(sqlite3_file *file, int flags)
{
    fault_file *f = (fault_file *)file;
    sqlite3_file *real = f->real;
    pthread_mutex_lock(&g.lock);
    int is_tracked = path_matches(f->path, g.track_path);
    if (fault_hits(FAULT_VFS_SYNC, f->path) || (is_tracked && g.powered_off)) {
        pthread_mutex_unlock(&g.lock);
        return SQLITE_IOERR_FSYNC;
    }
    int rc = real->pMethods->xSync(real, flags);
    if (rc == SQLITE_OK && is_tracked) {
        tracked *t = tracked_find(f->path);
        sqlite3_int64 size = 0;
        if (t && real->pMethods->xFileSize(real, &size) == SQLITE_OK) {
            tracked_forget_undos(t);
            t->synced_size = size;
        }
    }
    pthread_mutex_unlock(&g.lock);
    return rc;
}

static int shim_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int shim_lock(sqlite3_file *file, int level)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xLock(f->real, level);
}

static int shim_unlock(sqlite3_file *file, int level)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int shim_check_reserved_lock(sqlite3_file *file, int *out)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int shim_file_control(sqlite3_file *file, int op, void *arg)
{
    fault_file *f = (fault_file *)file;
    /* Keep memory mapping off: every read must come through xRead. */
    if (op == SQLITE_FCNTL_MMAP_SIZE) {
        if (arg) *(sqlite3_int64 *)arg = 0;
        return SQLITE_OK;
    }
    /* A size hint may grow the file behind xWrite's back; it is only a hint. */
    if (op == SQLITE_FCNTL_SIZE_HINT) return SQLITE_OK;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int shim_sector_size(sqlite3_file *file)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int shim_device_characteristics(sqlite3_file *file)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int shim_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **out)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

static int shim_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void shim_shm_barrier(sqlite3_file *file)
{
    fault_file *f = (fault_file *)file;
    f->real->pMethods->xShmBarrier(f->real);
}

static int shim_shm_unmap(sqlite3_file *file, int delete_flag)
{
    fault_file *f = (fault_file *)file;
    return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int shim_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out)
{
    (void)file;
    (void)offset;
    (void)amount;
    *out = NULL; /* SQLite then reads through xRead */
    return SQLITE_OK;
}

static int shim_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *page)
{
    (void)file;
    (void)offset;
    (void)page;
    return SQLITE_OK;
}

static const sqlite3_io_methods shim_methods = {
    3,
    shim_close,
    shim_read,
    shim_write,
    shim_truncate,
    shim_sync,
    shim_file_size,
    shim_lock,
    shim_unlock,
    shim_check_reserved_lock,
    shim_file_control,
    shim_sector_size,
    shim_device_characteristics,
    shim_shm_map,
    shim_shm_lock,
    shim_shm_barrier,
    shim_shm_unmap,
    shim_fetch,
    shim_unfetch,
};

/* ----------------------------------------------------------- VFS methods */

static int vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    (void)vfs;
    fault_file *f = (fault_file *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    if (name && !(f->path = strdup(name))) return SQLITE_NOMEM;
    int rc = g.orig->xOpen(g.orig, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK || !f->real->pMethods) {
        free(f->path);
        f->path = NULL;
        f->base.pMethods = NULL; /* SQLite then does not call xClose */
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    f->base.pMethods = &shim_methods;
    return SQLITE_OK;
}

static int vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    pthread_mutex_lock(&g.lock);
    if (path_matches(name, g.track_path)) {
        if (g.powered_off) {
            pthread_mutex_unlock(&g.lock);
            return SQLITE_IOERR_DELETE;
        }
        tracked_drop(name);
    }
    pthread_mutex_unlock(&g.lock);
    return g.orig->xDelete(g.orig, name, sync_dir);
}

static int vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return g.orig->xAccess(g.orig, name, flags, out);
}

static int vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out)
{
    (void)vfs;
    return g.orig->xFullPathname(g.orig, name, size, out);
}

static void *vfs_dl_open(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return g.orig->xDlOpen(g.orig, name);
}

static void vfs_dl_error(sqlite3_vfs *vfs, int size, char *out)
{
    (void)vfs;
    g.orig->xDlError(g.orig, size, out);
}

static void (*vfs_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void)
{
    (void)vfs;
    return g.orig->xDlSym(g.orig, handle, symbol);
}

static void vfs_dl_close(sqlite3_vfs *vfs, void *handle)
{
    (void)vfs;
    g.orig->xDlClose(g.orig, handle);
}

static int vfs_randomness(sqlite3_vfs *vfs, int size, char *out)
{
    (void)vfs;
    return g.orig->xRandomness(g.orig, size, out);
}

static int vfs_sleep(sqlite3_vfs *vfs, int microseconds)
{
    (void)vfs;
    return g.orig->xSleep(g.orig, microseconds);
}

static int vfs_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return g.orig->xCurrentTime(g.orig, out);
}

static int vfs_get_last_error(sqlite3_vfs *vfs, int size, char *out)
{
    (void)vfs;
    return g.orig->xGetLastError ? g.orig->xGetLastError(g.orig, size, out) : 0;
}

static int vfs_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return g.orig->xCurrentTimeInt64(g.orig, out);
}

static sqlite3_vfs shim_vfs = {
    2,    /* iVersion: no system-call overrides through the shim */
    0,    /* szOsFile: set at install */
    0,    /* mxPathname: set at install */
    NULL, /* pNext */
    "dala-fault",
    NULL,
    vfs_open,
    vfs_delete,
    vfs_access,
    vfs_full_pathname,
    vfs_dl_open,
    vfs_dl_error,
    vfs_dl_sym,
    vfs_dl_close,
    vfs_randomness,
    vfs_sleep,
    vfs_current_time,
    vfs_get_last_error,
    vfs_current_time_int64,
    NULL,
    NULL,
    NULL,
};

/* ------------------------------------------------------------------ API */

int fault_vfs_install(void)
{
    if (g.installed) return SQLITE_OK;
    int rc = sqlite3_initialize();
    if (rc != SQLITE_OK) return rc;
    sqlite3_vfs *orig = sqlite3_vfs_find(NULL);
    if (!orig) return SQLITE_ERROR;
    if (orig == &shim_vfs) return SQLITE_MISUSE;
    g.orig = orig;
    shim_vfs.szOsFile = (int)sizeof(fault_file) + orig->szOsFile;
    shim_vfs.mxPathname = orig->mxPathname;
    pthread_mutex_lock(&g.lock);
    g.fault_active = 0;
    g.failures = 0;
    g.track_path[0] = '\0';
    g.powered_off = 0;
    g.cut_countdown = 0;
    pthread_mutex_unlock(&g.lock);
    rc = sqlite3_vfs_register(&shim_vfs, 1);
    if (rc == SQLITE_OK) g.installed = 1;
    return rc;
}

void fault_vfs_uninstall(void)
{
    if (!g.installed) return;
    sqlite3_vfs_unregister(&shim_vfs);
    sqlite3_vfs_register(g.orig, 1);
    g.installed = 0;
    pthread_mutex_lock(&g.lock);
    g.fault_active = 0;
    g.track_path[0] = '\0';
    g.powered_off = 0;
    g.cut_countdown = 0;
    tracked_drop_all();
    pthread_mutex_unlock(&g.lock);
}

void fault_vfs_inject(fault_vfs_op op, const char *path_part, unsigned nth, int persistent)
{
    pthread_mutex_lock(&g.lock);
    g.fault_op = op;
    snprintf(g.fault_path, sizeof g.fault_path, "%s", path_part);
    g.fault_nth = nth ? nth : 1;
    g.fault_seen = 0;
    g.fault_persistent = persistent;
    g.fault_active = 1;
    pthread_mutex_unlock(&g.lock);
}

void fault_vfs_clear(void)
{
    pthread_mutex_lock(&g.lock);
    g.fault_active = 0;
    pthread_mutex_unlock(&g.lock);
}

unsigned fault_vfs_failures(void)
{
    pthread_mutex_lock(&g.lock);
    unsigned failures = g.failures;
    pthread_mutex_unlock(&g.lock);
    return failures;
}

void fault_vfs_track(const char *path_part)
{
    pthread_mutex_lock(&g.lock);
    tracked_drop_all();
    snprintf(g.track_path, sizeof g.track_path, "%s", path_part);
    pthread_mutex_unlock(&g.lock);
}

void fault_vfs_power_cut(void)
{
    pthread_mutex_lock(&g.lock);
    g.powered_off = 1;
    pthread_mutex_unlock(&g.lock);
}

void fault_vfs_power_cut_at_write(unsigned nth)
{
    pthread_mutex_lock(&g.lock);
    g.cut_countdown = nth ? nth : 1;
    pthread_mutex_unlock(&g.lock);
}

int fault_vfs_powered_off(void)
{
    pthread_mutex_lock(&g.lock);
    int off = g.powered_off;
    pthread_mutex_unlock(&g.lock);
    return off;
}

/* A small deterministic generator for the torn writes. */
static uint64_t next_random(uint64_t *state)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return *state >> 33;
}

static int write_all(int fd, const unsigned char *bytes, size_t len, sqlite3_int64 offset)
{
    while (len) {
        ssize_t n = pwrite(fd, bytes, len, (off_t)offset);
        if (n <= 0) return -1;
        bytes += n;
        len -= (size_t)n;
        offset += n;
    }
    return 0;
}

/* Plays `t`'s undo list backwards on its file; with `tear`, then writes
 * back a first part of one of its writes. */
static int restore_file(tracked *t, fault_vfs_loss *loss, uint64_t *random, int tear)
{
    int fd = open(t->path, O_RDWR);
    if (fd < 0) {
        fprintf(stderr, "fault_vfs: cannot open %s to restore it\n", t->path);
        return -1;
    }
    int rc = 0;
    for (size_t i = t->count; i-- > 0 && !rc;) {
        undo *u = &t->undos[i];
        if (u->is_truncate) {
            rc = ftruncate(fd, (off_t)u->size_before);
            if (!rc && u->old_len) rc = write_all(fd, u->old, u->old_len, u->offset);
        } else {
            if (u->old_len) rc = write_all(fd, u->old, u->old_len, u->offset);
            if (!rc) rc = ftruncate(fd, (off_t)u->size_before);
            loss->writes_dropped++;
            loss->bytes_dropped += u->len;
        }
    }
    if (!rc) rc = ftruncate(fd, (off_t)t->synced_size);
    if (!rc && tear) {
        size_t eligible = 0;
        for (size_t i = 0; i < t->count; i++) eligible += !t->undos[i].is_truncate && t->undos[i].len > SECTOR;
        if (eligible) {
            size_t pick = (size_t)(next_random(random) % eligible);
            for (size_t i = 0; i < t->count; i++) {
                undo *u = &t->undos[i];
                if (u->is_truncate || u->len <= SECTOR || pick--) continue;
                size_t sectors = (u->len - 1) / SECTOR; /* at least one, fewer than all */
                size_t kept = SECTOR * (1 + (size_t)(next_random(random) % sectors));
                rc = write_all(fd, u->data, kept, u->offset);
                loss->torn++;
                break;
            }
        }
    }
    if (!rc) rc = fsync(fd);
    close(fd);
    if (rc) fprintf(stderr, "fault_vfs: cannot restore %s\n", t->path);
    return rc ? -1 : 0;
}

int fault_vfs_power_restore(fault_vfs_loss *out, uint64_t seed, int torn)
{
    fault_vfs_loss loss;
    uint64_t random = seed * 2654435761u + 1;
    int rc = 0;
    memset(&loss, 0, sizeof loss);
    pthread_mutex_lock(&g.lock);
    for (tracked *t = g.files; t; t = t->next) {
        if (!t->count) continue;
        loss.files++;
        if (restore_file(t, &loss, &random, torn)) rc = -1;
        tracked_forget_undos(t);
    }
    tracked_drop_all();
    g.powered_off = 0;
    g.cut_countdown = 0;
    pthread_mutex_unlock(&g.lock);
    if (out) *out = loss;
    return rc;
}
