/* backup.h - backups of the central database that a thief cannot open,
 * restores that tablets notice, and the copy taken before a migration.
 *
 * A backup file ("dala-backup" version 1, docs/operations.md) holds the
 * database as an online snapshot, its "<db>.epoch" file and the server's
 * key file exactly as they are on disk, deflated (zlib) and encrypted to an
 * operator's X25519 public key: an ephemeral X25519 exchange, HKDF-SHA256
 * to an AES-256-GCM key, and the stream sealed in chunks whose index, size
 * and last-chunk mark are authenticated, so a cut, reordered or changed
 * file is refused before anything is restored. */
#ifndef DALA_BACKUP_H
#define DALA_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* What a backup wrote. */
typedef struct dala_backup_stats {
    uint64_t database_bytes; /* the snapshot's size */
    uint64_t file_bytes;     /* the encrypted file's size */
    int has_epoch_file;      /* "<db>.epoch" was there and is in the backup */
    int has_key_file;        /* the key file was there and is in the backup */
    int is_key_file_wrapped; /* ... and was wrapped (else plain, inside the encryption only) */
} dala_backup_stats;

/* What a restore did. */
typedef struct dala_restore_result {
    uint64_t database_bytes;
    uint64_t epoch_before;  /* the epoch in the backup */
    uint64_t epoch_after;   /* the fresh epoch the restored database now has */
    int64_t high_water;     /* the restored unit logs' high-water mark */
    int schema_version;     /* the restored database's schema (migrated at the next start) */
    int key_file_action;    /* DALA_RESTORE_KEYS_* below */
    char created[32];       /* when the backup was made, UTC, from its info */
} dala_restore_result;

enum {
    DALA_RESTORE_KEYS_WRITTEN = 1, /* none was there: the backup's was written */
    DALA_RESTORE_KEYS_SAME = 2,    /* the one there is the backup's, byte for byte */
    DALA_RESTORE_KEYS_KEPT = 3,    /* another was there and was kept (--keep-keys) */
    DALA_RESTORE_KEYS_REPLACED = 4, /* another was there and was replaced (--keys-from-backup) */
    DALA_RESTORE_KEYS_NONE = 5     /* the backup holds no key file */
};

/* Restore flags. */
#define DALA_RESTORE_FORCE 1u             /* replace a database that exists */
#define DALA_RESTORE_KEEP_KEYS 2u         /* a different key file there is kept */
#define DALA_RESTORE_KEYS_FROM_BACKUP 4u  /* a different key file there is replaced */

/**
 * Makes an operator's key pair: the secret in `private_path` (created, mode
 * 0600; an existing file is never overwritten) and the public key in
 * "<private_path>.pub" (mode 0644). `fingerprint_out` (may be NULL, 24
 * bytes) gets the public key's fingerprint, "60af ab03 e62f d6ff".
 * @return DALA_OK, DALA_EINVAL (a file exists), DALA_EIO, DALA_ECRYPTO.
 */
int dala_backup_keygen(const char *private_path, char *fingerprint_out);

/**
 * Writes an encrypted backup of the database at `db_path`, while a server
 * may be using it: an online snapshot (SQLite's backup API, one read
 * transaction, writers not blocked) into a temporary file in a private
 * folder (0700) beside the database, then that file with "<db>.epoch" and
 * the key file (`key_file`, NULL: "<db>.keys"), deflated and encrypted to
 * the public key in `public_key_path`, into `out_path` (mode 0600, written
 * to "<out_path>.tmp", fsynced and renamed: a backup file is whole or
 * absent). The plaintext snapshot never leaves the database's folder and
 * is removed before this returns.
 * @param[out] stats  what was written; may be NULL.
 * @return DALA_OK, DALA_ENOTFOUND (no database), DALA_EINVAL (a bad public
 *         key file), DALA_EIO, DALA_ENOSPACE, DALA_ECRYPTO, DALA_ENOMEM.
 */
int dala_backup_write(dala_backup_stats *stats, const char *db_path, const char *key_file,
                      const char *out_path, const char *public_key_path);

/**
 * Restores a backup into `db_path`. The file is read and verified whole
 * (every chunk's tag, its order, its end) into temporary files in the
 * database's folder before anything there changes. The restored database
 * gets a fresh epoch, and "<db>.epoch" is written to match it, so every
 * tablet sees a restored server, offers again what the restore lost, and
 * pulls afresh (docs/protocol.md 10.6).
 *
 * An existing database is replaced only with DALA_RESTORE_FORCE, and never
 * while another connection holds it (a running server): SQLite's lock is
 * taken for the copy. A key file already there that differs from the
 * backup's is kept or replaced only as the flags say.
 * @param[out] result  what was done; may be NULL.
 * @return DALA_OK, DALA_EAUTH (wrong key, or the file was changed),
 *         DALA_ECORRUPT (cut short, or not a backup), DALA_ESCHEMA (a newer
 *         format or schema), DALA_EINVAL (exists without force; key files
 *         differ without a choice), DALA_EBUSY (a server holds it),
 *         DALA_EIO, DALA_ENOSPACE, DALA_ENOMEM.
 */
int dala_backup_restore(dala_restore_result *result, const char *in_path, const char *private_key_path,
                        const char *db_path, const char *key_file, unsigned flags);

/**
 * Copies the open database `src` into a new file `dest_path` (mode 0600;
 * refused if it exists) with SQLite's online backup API in one step, as a
 * consistent snapshot; the copy is left in rollback-journal mode, fsynced.
 * Used by backups and before migrations (db.c).
 * @return DALA_OK, DALA_EINVAL (dest exists), DALA_EIO, DALA_ENOSPACE.
 */
int dala_backup_copy_db(sqlite3 *src, const char *dest_path);

/**
 * Migrates the central database `db` (at `db_path`) to this build's schema
 * (db.c), first copying it to "<db_path>.before-<N>" with
 * dala_backup_copy_db when its schema is older (not when it is fresh);
 * without the copy it refuses, unless the environment says
 * DALA_NO_BACKUP_BEFORE_MIGRATE=1. `note` (may be NULL) gets a line for
 * the log when a migration ran, else "".
 * @return DALA_OK, or the copy's or dala_migrate's error.
 */
int dala_db_migrate(sqlite3 *db, const char *db_path, char *note, size_t note_size);

/* The commands, for main.c's table: `backup`, `restore`, `backup-keygen`.
 * Each returns the process's exit code and prints to stdout and stderr. */
int server_cli_backup(int argc, char **argv);
int server_cli_restore(int argc, char **argv);
int server_cli_backup_keygen(int argc, char **argv);

#endif
