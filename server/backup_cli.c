/* backup_cli.c - the commands `dala-server backup`, `restore` and
 * `backup-keygen`: their flags, their help, and what they print. The work
 * is in backup.c; docs/operations.md says when to run which. Each takes
 * argv with the command's name first, as main.c passes it. */
#include "backup.h"
#include "server_int.h"
#include "sync_int.h"

#include <stdio.h>
#include <string.h>

static const char backup_usage[] =
    "usage: dala-server backup --db PATH --out FILE --to PUBLIC-KEY-FILE [--key-file FILE]\n"
    "  An online backup of the central database (tablets may sync meanwhile), with its epoch file and\n"
    "  the server's key file (FILE, default PATH.keys), compressed and encrypted to the operator's\n"
    "  public key (made by backup-keygen). Only the matching private key opens it.\n";
static const char restore_usage[] =
    "usage: dala-server restore --in FILE --key PRIVATE-KEY-FILE --db PATH [--key-file FILE] [--force]\n"
    "                           [--keep-keys | --keys-from-backup]\n"
    "  Puts a backup back, with the server stopped. The restored database gets a fresh epoch, so\n"
    "  every tablet offers again what the restore lost. --force replaces a database that exists;\n"
    "  when a key file there differs from the backup's, --keep-keys keeps it (it holds the keys made\n"
    "  since the backup) and --keys-from-backup puts the backup's back.\n";
static const char keygen_usage[] =
    "usage: dala-server backup-keygen --out KEYFILE\n"
    "  Makes the operator's key pair for backups: the private key in KEYFILE (mode 0600; keep it off\n"
    "  the server) and the public key in KEYFILE.pub (give it to `backup --to`).\n";

/* The value after flag i; NULL (and a message) when missing. */
static const char *value_of(int argc, char **argv, int *i, const char *command)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "dala-server %s: %s needs a value\n", command, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

static int is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

static int unknown(const char *command, const char *arg, const char *usage)
{
    fprintf(stderr, "dala-server %s: unknown option '%s'\n%s", command, arg, usage);
    return 2;
}

int server_cli_backup(int argc, char **argv)
{
    const char *db = NULL, *out = NULL, *to = NULL, *key_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--db") == 0         ? &db
                            : strcmp(argv[i], "--out") == 0      ? &out
                            : strcmp(argv[i], "--to") == 0       ? &to
                            : strcmp(argv[i], "--key-file") == 0 ? &key_file
                                                                 : NULL;
        if (is_help(argv[i])) return fputs(backup_usage, stdout), 0;
        if (!slot) return unknown("backup", argv[i], backup_usage);
        if (!(*slot = value_of(argc, argv, &i, "backup"))) return 2;
    }
    if (!db || !out || !to) {
        fprintf(stderr, "dala-server backup: --db, --out and --to are needed\n%s", backup_usage);
        return 2;
    }
    dala_backup_stats stats;
    int rc = dala_backup_write(&stats, db, key_file, out, to);
    if (rc) {
        fprintf(stderr, "dala-server backup: %s\n", dala_errmsg());
        return 1;
    }
    printf("backup written: %s (%llu bytes; database %llu bytes)\n", out, (unsigned long long)stats.file_bytes,
           (unsigned long long)stats.database_bytes);
    printf("epoch file: %s\n", stats.has_epoch_file ? "included" : "none beside the database");
    printf("key file: %s\n", !stats.has_key_file          ? "none found (the backup cannot restore the server's keys)"
                             : stats.is_key_file_wrapped ? "included, wrapped (restore needs the wrapping key too)"
                                                         : "included, plain (protected only by the backup's encryption)");
    return 0;
}

static const char *keys_said(int action)
{
    switch (action) {
    case DALA_RESTORE_KEYS_WRITTEN: return "written from the backup";
    case DALA_RESTORE_KEYS_SAME: return "already the backup's, unchanged";
    case DALA_RESTORE_KEYS_KEPT: return "the one there kept (--keep-keys)";
    case DALA_RESTORE_KEYS_REPLACED: return "replaced by the backup's (--keys-from-backup)";
    default: return "none in the backup: the one there, if any, is used";
    }
}

int server_cli_restore(int argc, char **argv)
{
    const char *in = NULL, *key = NULL, *db = NULL, *key_file = NULL;
    unsigned flags = 0;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) return fputs(restore_usage, stdout), 0;
        if (strcmp(argv[i], "--force") == 0) { flags |= DALA_RESTORE_FORCE; continue; }
        if (strcmp(argv[i], "--keep-keys") == 0) { flags |= DALA_RESTORE_KEEP_KEYS; continue; }
        if (strcmp(argv[i], "--keys-from-backup") == 0) { flags |= DALA_RESTORE_KEYS_FROM_BACKUP; continue; }
        const char **slot = strcmp(argv[i], "--in") == 0         ? &in
                            : strcmp(argv[i], "--key") == 0      ? &key
                            : strcmp(argv[i], "--db") == 0       ? &db
                            : strcmp(argv[i], "--key-file") == 0 ? &key_file
                                                                 : NULL;
        if (!slot) return unknown("restore", argv[i], restore_usage);
        if (!(*slot = value_of(argc, argv, &i, "restore"))) return 2;
    }
    if (!in || !key || !db) {
        fprintf(stderr, "dala-server restore: --in, --key and --db are needed\n%s", restore_usage);
        return 2;
    }
    if ((flags & DALA_RESTORE_KEEP_KEYS) && (flags & DALA_RESTORE_KEYS_FROM_BACKUP)) {
        fprintf(stderr, "dala-server restore: --keep-keys and --keys-from-backup are each other's opposite\n");
        return 2;
    }
    dala_restore_result res;
    int rc = dala_backup_restore(&res, in, key, db, key_file, flags);
    if (rc) {
        fprintf(stderr, "dala-server restore: %s\n", dala_errmsg());
        return 1;
    }
    printf("restored %s from %s (made %s; database %llu bytes, schema %d)\n", db, in,
           res.created[0] ? res.created : "at an unknown time", (unsigned long long)res.database_bytes,
           res.schema_version);
    printf("epoch: %llu in the backup, now %llu: every tablet will see a restored server, offer again\n"
           "       what it had sent since the backup, and pull afresh\n",
           (unsigned long long)res.epoch_before, (unsigned long long)res.epoch_after);
    printf("key file: %s\n", keys_said(res.key_file_action));
    return 0;
}

int server_cli_backup_keygen(int argc, char **argv)
{
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (is_help(argv[i])) return fputs(keygen_usage, stdout), 0;
        if (strcmp(argv[i], "--out") != 0) return unknown("backup-keygen", argv[i], keygen_usage);
        if (!(out = value_of(argc, argv, &i, "backup-keygen"))) return 2;
    }
    if (!out) {
        fprintf(stderr, "dala-server backup-keygen: --out is needed\n%s", keygen_usage);
        return 2;
    }
    char fingerprint[SERVER_FINGERPRINT_BYTES];
    if (dala_backup_keygen(out, fingerprint)) {
        fprintf(stderr, "dala-server backup-keygen: %s\n", dala_errmsg());
        return 1;
    }
    printf("private key: %s (mode 0600; keep it off the server, and a copy somewhere safe)\n", out);
    printf("public key:  %s.pub (fingerprint %s)\n", out, fingerprint);
    return 0;
}
