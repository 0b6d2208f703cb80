/* fault_vfs.h - a SQLite VFS shim for the durability tests
 * (tests/test_durability.c). Installed over the process's default VFS, so
 * the in-process server's connections and the SDK's stores all go through
 * it; it passes every call to the VFS it replaced, and on the files whose
 * path contains a chosen text it can:
 *
 * - fail the Nth write, sync or read from now with SQLITE_IOERR_WRITE,
 *   _FSYNC or _READ, once or persistently (that one and every later one
 *   until the fault is cleared);
 * - remember, per file, what was written (and truncated) since that file's
 *   last xSync, and on a simulated power loss throw those unsynced writes
 *   away, whole or torn (the first part of one write kept, as when a page
 *   reaches the platter in part), before the files are opened again.
 *
 * A power loss has two steps: fault_vfs_power_cut() stops the machine at
 * once (every later write, sync, truncate and delete of a tracked file
 * fails, so nothing after that moment can be committed, let alone
 * acknowledged); the test then closes every connection (stops the server),
 * and fault_vfs_power_restore() puts each tracked file back to what its last
 * sync made durable and lets writes through again. The -shm file is not
 * tracked: SQLite rebuilds it from the WAL when the first connection opens.
 *
 * File creation and deletion are taken as durable at once. One mutex
 * guards the shim's state; it is safe from any thread. */
#ifndef DALA_FAULT_VFS_H
#define DALA_FAULT_VFS_H

#include <stddef.h>
#include <stdint.h>

typedef enum fault_vfs_op {
    FAULT_VFS_WRITE = 0, /* xWrite fails with SQLITE_IOERR_WRITE */
    FAULT_VFS_SYNC = 1,  /* xSync fails with SQLITE_IOERR_FSYNC */
    FAULT_VFS_READ = 2   /* xRead fails with SQLITE_IOERR_READ */
} fault_vfs_op;

/* Registers the shim as the default VFS over the current default. Returns
 * 0, or a SQLite code. Install before opening the connections that must go
 * through it; uninstall after closing them all. */
int fault_vfs_install(void);
/* Makes the VFS the shim replaced the default again and forgets every
 * fault and every remembered write. */
void fault_vfs_uninstall(void);

/* From now, the `nth` (1-based) operation `op` on a file whose path
 * contains `path_part` fails; with `persistent`, that one and every later
 * one fail until fault_vfs_clear. Replaces an earlier fault. */
void fault_vfs_inject(fault_vfs_op op, const char *path_part, unsigned nth, int persistent);
/* No more injected errors. */
void fault_vfs_clear(void);
/* How many operations failed by injection since the last install. */
unsigned fault_vfs_failures(void);

/* Starts remembering the unsynced writes of every file whose path contains
 * `path_part` (one pattern; replaces an earlier one). What such a file
 * holds now counts as durable. */
void fault_vfs_track(const char *path_part);
/* The machine loses power: from now every write, sync, truncate and delete
 * of a tracked file fails with SQLITE_IOERR_*. */
void fault_vfs_power_cut(void);

/* The power goes off at the `nth` (1-based) write of a tracked file from
 * now, before that write: the write and everything after it fail as after
 * fault_vfs_power_cut. A crash in the middle of a transaction. */
void fault_vfs_power_cut_at_write(unsigned nth);
/* Whether the power is off. */
int fault_vfs_powered_off(void);

/* What a power loss threw away. */
typedef struct fault_vfs_loss {
    unsigned files;          /* tracked files that had unsynced writes */
    unsigned writes_dropped; /* unsynced writes undone */
    uint64_t bytes_dropped;  /* their bytes */
    unsigned torn;           /* writes of which a first part was kept */
} fault_vfs_loss;

/* After every connection to the tracked files is closed: undoes, file by
 * file, every write and truncate since the file's last sync, newest first,
 * and puts the file back to its synced size. When `torn` is set, one
 * unsynced write of each file (chosen from `seed`) has a first part of it
 * (whole 512-byte sectors, at least one, fewer than all) written back, as a
 * torn write leaves it. Then lets writes through again, still tracking.
 * Returns 0, or -1 if a file could not be restored (its path is printed). */
int fault_vfs_power_restore(fault_vfs_loss *out, uint64_t seed, int torn);

#endif
