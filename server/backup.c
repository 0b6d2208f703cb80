/* backup.c - the backup file: an operator's key pair, the sealed chunk
 * stream, and the archive inside it; the online snapshot; backup and
 * restore with the epoch that makes tablets notice a restore.
 *
 * The file ("dala-backup" version 1, docs/operations.md):
 *
 *   header, 96 bytes:
 *     16  format name "dala-backup", zero-padded
 *      4  u32be format version, 1
 *      4  u32be chunk size: the plaintext bytes of every chunk but the last
 *     32  E: the writer's ephemeral X25519 public key
 *     32  salt, random
 *      8  the first 8 bytes of SHA-256 of the operator's public key R
 *   then chunks i = 0, 1, 2, ...:
 *      1  flags: 1 on the last chunk, else 0
 *      4  u32be n, the plaintext bytes (= chunk size unless last)
 *      n  AES-256-GCM ciphertext
 *     16  tag
 *
 * key   = HKDF-SHA256(salt, X25519(e, R), "dala-backup 1" || E || R), 32 bytes
 * nonce = 00000000 || u64be(i)
 * AAD   = SHA-256(header) || u64be(i) || flags || u32be(n)
 *
 * So every chunk is bound to this file's header, to its place and to
 * whether it ends the file: a chunk moved, dropped, cut or marked last
 * out of turn fails its tag, and a file that ends before a last chunk, or
 * goes on after one, is refused. The plaintext is a zlib stream of the
 * archive: entries (u8 kind, u64be length, bytes) ending with kind 0:
 * 1 info (text lines), 2 the database, 3 "<db>.epoch", 4 the key file. */
#include "backup.h"
#include "server_int.h"
#include "sync_int.h"
#include "migration.h"

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define FORMAT_NAME "dala-backup"
#define FORMAT_VERSION 1
#define HEADER_BYTES 96
#define CHUNK_BYTES (1u << 20)
#define MAX_CHUNK_BYTES (16u << 20)
#define TAG_BYTES 16
#define IO_BYTES (64 * 1024)

enum { ENTRY_END = 0, ENTRY_INFO = 1, ENTRY_DATABASE = 2, ENTRY_EPOCH = 3, ENTRY_KEYS = 4 };
#define MAX_SMALL_ENTRY_BYTES (64 * 1024)

#define PRIVATE_HEADER "dala-backup-key 1"
#define PUBLIC_HEADER "dala-backup-public-key 1"

/* ------------------------------------------------------------ key files */

/* Writes `text` to a new file `path` with `mode`; never over an existing one. */
static int write_new_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return dala_error_set(DALA_EINVAL, "write %s: it exists; a key is never overwritten (move it away first)", path);
    if (fd < 0) return dala_error_set(DALA_EIO, "write %s: %s", path, strerror(errno));
    size_t len = strlen(text);
    int failed = write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) != 0 || fsync(fd) != 0;
    int error = errno;
    if (close(fd) != 0) failed = 1;
    if (failed) {
        unlink(path);
        return dala_error_set(DALA_EIO, "write %s: %s", path, strerror(error));
    }
    return DALA_OK;
}

int dala_backup_keygen(const char *private_path, char *fingerprint_out)
{
    dala_keypair pair;
    char pub_path[4200], text[256], hex[2 * DALA_KEY_BYTES + 1];
    snprintf(pub_path, sizeof pub_path, "%s.pub", private_path);
    if (access(pub_path, F_OK) == 0)
        return dala_error_set(DALA_EINVAL, "write %s: it exists; a key is never overwritten (move it away first)", pub_path);
    int rc = dala_keypair_generate(&pair);
    if (rc) return rc;
    dala_hex_encode(hex, pair.secret, DALA_KEY_BYTES);
    snprintf(text, sizeof text, "%s\n# Opens Dala's backups. Keep it offline; whoever holds it reads them.\nsecret %s\n",
             PRIVATE_HEADER, hex);
    rc = write_new_file(private_path, text, 0600);
    dala_wipe(text, sizeof text);
    dala_wipe(hex, sizeof hex);
    if (!rc) {
        char fingerprint[SERVER_FINGERPRINT_BYTES];
        server_key_fingerprint(fingerprint, pair.public_key);
        dala_hex_encode(hex, pair.public_key, DALA_KEY_BYTES);
        snprintf(text, sizeof text, "%s\n# fingerprint %s\npublic %s\n", PUBLIC_HEADER, fingerprint, hex);
        rc = write_new_file(pub_path, text, 0644);
        if (rc) unlink(private_path);
        if (!rc && fingerprint_out) memcpy(fingerprint_out, fingerprint, SERVER_FINGERPRINT_BYTES);
    }
    dala_keypair_wipe(&pair);
    return rc;
}

/* Reads the 32-byte key after `word` in a key file of `header`; a private
 * one must not be readable by group or others. */
static int read_key_file(uint8_t key[DALA_KEY_BYTES], const char *path, const char *header, const char *word,
                         int is_private)
{
    char text[1024];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dala_error_set(errno == ENOENT ? DALA_ENOTFOUND : DALA_EIO, "read %s: %s", path, strerror(errno));
    if (is_private && fstat(fd, &st) == 0 && (st.st_mode & 077)) {
        close(fd);
        return dala_error_set(DALA_EINVAL, "read %s: group or others may read it; make it mode 0600", path);
    }
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    int rc = DALA_OK;
    if (n < 0) return dala_error_set(DALA_EIO, "read %s: %s", path, strerror(errno));
    text[n] = '\0';
    size_t header_len = strlen(header);
    if (strncmp(text, header, header_len) != 0 || text[header_len] != '\n') {
        rc = dala_error_set(DALA_EINVAL, "read %s: not a %s file (its first line must be \"%s\")", path,
                            is_private ? "backup private key" : "backup public key", header);
    } else {
        rc = dala_error_set(DALA_EINVAL, "read %s: no \"%s\" line of 64 hex digits", path, word);
        char *save = NULL;
        for (char *line = strtok_r(text + header_len + 1, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            size_t word_len = strlen(word);
            if (strncmp(line, word, word_len) == 0 && line[word_len] == ' ' &&
                dala_hex_decode(key, DALA_KEY_BYTES, line + word_len + 1) == DALA_OK) {
                rc = DALA_OK;
                break;
            }
        }
    }
    dala_wipe(text, sizeof text);
    return rc;
}

/* ------------------------------------------------------- sealed stream */

typedef struct sealer {
    FILE *file;
    const char *path;
    mbedtls_gcm_context gcm;
    uint8_t header_hash[32];
    uint64_t index;
    uint32_t chunk_bytes;
    uint8_t *chunk;  /* plaintext of the chunk being filled */
    uint8_t *sealed; /* its ciphertext */
    size_t chunk_len;
    int is_done;     /* the last chunk was written or read */
} sealer;

static void sealer_free(sealer *s)
{
    mbedtls_gcm_free(&s->gcm);
    if (s->chunk) dala_wipe(s->chunk, s->chunk_bytes);
    free(s->chunk);
    free(s->sealed);
    s->chunk = s->sealed = NULL;
}

/* Builds the header (`ephemeral_public` and `salt` filled by the writer,
 * read by the reader) and derives the key from the X25519 shared secret. */
static int sealer_init(sealer *s, const uint8_t header[HEADER_BYTES], const uint8_t shared[DALA_KEY_BYTES],
                       const uint8_t recipient_public[DALA_KEY_BYTES])
{
    uint8_t info[13 + 2 * DALA_KEY_BYTES], key[32];
    mbedtls_gcm_init(&s->gcm);
    s->chunk_bytes = dala_load_u32be(header + 20);
    s->chunk = malloc(s->chunk_bytes ? s->chunk_bytes : 1);
    s->sealed = malloc(s->chunk_bytes ? s->chunk_bytes : 1);
    if (!s->chunk || !s->sealed) return dala_error_set(DALA_ENOMEM, "backup %s: out of memory", s->path);
    memcpy(info, "dala-backup 1", 13);
    memcpy(info + 13, header + 24, DALA_KEY_BYTES);
    memcpy(info + 13 + DALA_KEY_BYTES, recipient_public, DALA_KEY_BYTES);
    int rc = mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), header + 56, 32, shared, DALA_KEY_BYTES,
                          info, sizeof info, key, sizeof key);
    if (!rc) rc = mbedtls_gcm_setkey(&s->gcm, MBEDTLS_CIPHER_ID_AES, key, 256);
    if (!rc) rc = mbedtls_sha256_ret(header, HEADER_BYTES, s->header_hash, 0);
    dala_wipe(key, sizeof key);
    return rc ? dala_error_mbedtls(rc, "backup: deriving the key") : DALA_OK;
}

static void chunk_nonce_aad(uint8_t nonce[12], uint8_t aad[45], const sealer *s, uint8_t flags, uint32_t len)
{
    memset(nonce, 0, 4);
    dala_store_u64be(nonce + 4, s->index);
    memcpy(aad, s->header_hash, 32);
    dala_store_u64be(aad + 32, s->index);
    aad[40] = flags;
    dala_store_u32be(aad + 41, len);
}

static int seal_chunk(sealer *s, int is_last)
{
    uint8_t nonce[12], aad[45], head[5], tag[TAG_BYTES];
    uint32_t len = (uint32_t)s->chunk_len;
    head[0] = is_last ? 1 : 0;
    dala_store_u32be(head + 1, len);
    chunk_nonce_aad(nonce, aad, s, head[0], len);
    int rc = mbedtls_gcm_crypt_and_tag(&s->gcm, MBEDTLS_GCM_ENCRYPT, len, nonce, sizeof nonce, aad, sizeof aad,
                                       s->chunk, s->sealed, TAG_BYTES, tag);
    if (rc) return dala_error_mbedtls(rc, "backup: sealing a chunk");
    if (fwrite(head, 1, sizeof head, s->file) != sizeof head || fwrite(s->sealed, 1, len, s->file) != len ||
        fwrite(tag, 1, TAG_BYTES, s->file) != TAG_BYTES)
        return dala_error_set(errno == ENOSPC ? DALA_ENOSPACE : DALA_EIO, "write %s: %s", s->path, strerror(errno));
    s->index++;
    s->chunk_len = 0;
    s->is_done = is_last;
    return DALA_OK;
}

/* Appends plaintext; a full chunk is sealed only when more follows, so
 * the last chunk is always the one sealer_finish writes. */
static int sealer_put(sealer *s, const uint8_t *data, size_t len)
{
    while (len) {
        if (s->chunk_len == s->chunk_bytes) {
            int rc = seal_chunk(s, 0);
            if (rc) return rc;
        }
        size_t take = s->chunk_bytes - s->chunk_len;
        if (take > len) take = len;
        memcpy(s->chunk + s->chunk_len, data, take);
        s->chunk_len += take;
        data += take;
        len -= take;
    }
    return DALA_OK;
}

/* Reads and opens the next chunk into s->chunk (s->chunk_len bytes). */
static int open_chunk(sealer *s)
{
    uint8_t head[5], nonce[12], aad[45], tag[TAG_BYTES];
    if (s->is_done) {
        if (fgetc(s->file) != EOF)
            return dala_error_set(DALA_ECORRUPT, "read %s: bytes after the last chunk (not as written)", s->path);
        s->chunk_len = 0;
        return DALA_OK;
    }
    size_t got = fread(head, 1, sizeof head, s->file);
    if (got == 0 && !ferror(s->file))
        return dala_error_set(DALA_ECORRUPT, "read %s: the file ends before its last chunk (cut short?)", s->path);
    uint32_t len = got == sizeof head ? dala_load_u32be(head + 1) : 0;
    if (got != sizeof head || head[0] > 1 || len > s->chunk_bytes || (head[0] == 0 && len != s->chunk_bytes))
        return dala_error_set(DALA_ECORRUPT, "read %s: chunk %llu is malformed or cut short", s->path,
                              (unsigned long long)s->index);
    if (fread(s->sealed, 1, len, s->file) != len || fread(tag, 1, TAG_BYTES, s->file) != TAG_BYTES)
        return dala_error_set(DALA_ECORRUPT, "read %s: the file ends inside chunk %llu (cut short?)", s->path,
                              (unsigned long long)s->index);
    chunk_nonce_aad(nonce, aad, s, head[0], len);
    int rc = mbedtls_gcm_auth_decrypt(&s->gcm, len, nonce, sizeof nonce, aad, sizeof aad, tag, TAG_BYTES, s->sealed,
                                      s->chunk);
    if (rc == MBEDTLS_ERR_GCM_AUTH_FAILED)
        return dala_error_set(DALA_EAUTH, "read %s: chunk %llu does not open: the file was changed, cut or reordered",
                              s->path, (unsigned long long)s->index);
    if (rc) return dala_error_mbedtls(rc, "backup: opening a chunk");
    s->index++;
    s->chunk_len = len;
    s->is_done = head[0] == 1;
    return DALA_OK;
}

/* ------------------------------------------------ writing: deflate, archive */

typedef struct archive_writer {
    sealer seal;
    z_stream z;
    int has_z;
    uint8_t out[IO_BYTES];
} archive_writer;

static int deflate_some(archive_writer *w, const uint8_t *data, size_t len, int flush)
{
    w->z.next_in = (Bytef *)data;
    w->z.avail_in = (uInt)len;
    int zrc;
    do {
        w->z.next_out = w->out;
        w->z.avail_out = sizeof w->out;
        zrc = deflate(&w->z, flush);
        if (zrc == Z_STREAM_ERROR) return dala_error_set(DALA_EIO, "backup: deflate failed");
        int rc = sealer_put(&w->seal, w->out, sizeof w->out - w->z.avail_out);
        if (rc) return rc;
    } while (w->z.avail_out == 0 || (flush == Z_FINISH && zrc != Z_STREAM_END));
    return DALA_OK;
}

static int archive_put(archive_writer *w, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) { /* avail_in is 32 bits */
        size_t take = len > (1u << 30) ? (1u << 30) : len;
        int rc = deflate_some(w, p, take, Z_NO_FLUSH);
        if (rc) return rc;
        p += take;
        len -= take;
    }
    return DALA_OK;
}

static int archive_entry_head(archive_writer *w, int kind, uint64_t len)
{
    uint8_t head[9];
    head[0] = (uint8_t)kind;
    dala_store_u64be(head + 1, len);
    return archive_put(w, head, sizeof head);
}

/* Adds the file at `path` whole as an entry of `kind`; a missing file is
 * skipped (*is_there = 0). Small files are read at once so their length
 * is the length written. */
static int archive_add_file(archive_writer *w, int kind, const char *path, int *is_there)
{
    *is_there = 0;
    FILE *file = fopen(path, "rb");
    if (!file && errno == ENOENT) return DALA_OK;
    if (!file) return dala_error_set(DALA_EIO, "read %s: %s", path, strerror(errno));
    struct stat st;
    int rc = fstat(fileno(file), &st) == 0 ? DALA_OK : dala_error_set(DALA_EIO, "read %s: %s", path, strerror(errno));
    if (!rc && kind != ENTRY_DATABASE && st.st_size > MAX_SMALL_ENTRY_BYTES)
        rc = dala_error_set(DALA_ELIMIT, "read %s: larger than %d bytes", path, MAX_SMALL_ENTRY_BYTES);
    if (!rc) rc = archive_entry_head(w, kind, (uint64_t)st.st_size);
    uint8_t *buf = rc ? NULL : malloc(IO_BYTES);
    if (!rc && !buf) rc = dala_error_set(DALA_ENOMEM, "backup: out of memory");
    uint64_t left = (uint64_t)st.st_size;
    while (!rc && left) {
        size_t want = left < IO_BYTES ? (size_t)left : IO_BYTES;
        size_t got = fread(buf, 1, want, file);
        if (got != want) rc = dala_error_set(DALA_EIO, "read %s: it changed while being read", path);
        else rc = archive_put(w, buf, got);
        left -= got;
    }
    if (buf) dala_wipe(buf, IO_BYTES);
    free(buf);
    fclose(file);
    if (!rc) *is_there = 1;
    return rc;
}

int dala_backup_copy_db(sqlite3 *src, const char *dest_path)
{
    int fd = open(dest_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return dala_error_set(errno == EEXIST ? DALA_EINVAL : DALA_EIO, "copy the database to %s: %s", dest_path,
                              strerror(errno));
    close(fd);
    sqlite3 *dest = NULL;
    int rc = DALA_OK;
    if (sqlite3_open_v2(dest_path, &dest, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = dala_error_set(DALA_EIO, "copy the database to %s: %s", dest_path, dest ? sqlite3_errmsg(dest) : "no memory");
    } else {
        /* One step: one read transaction on the source, a consistent
         * snapshot; in WAL mode the server's writers go on meanwhile. */
        sqlite3_backup *copy = sqlite3_backup_init(dest, "main", src, "main");
        int step = copy ? sqlite3_backup_step(copy, -1) : SQLITE_ERROR;
        if (copy) sqlite3_backup_finish(copy);
        if (step != SQLITE_DONE) /* sqlite3_backup_finish left the error on dest */
            rc = step == SQLITE_FULL ? dala_error_set(DALA_ENOSPACE, "copy the database to %s: the disk is full", dest_path)
                 : step == SQLITE_BUSY || step == SQLITE_LOCKED ? server_db_error(src, "copy the database")
                                                              : server_db_error(dest, "copy the database");
        if (!rc && sqlite3_exec(dest, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK)
            rc = server_db_error(dest, "copy the database");
    }
    sqlite3_close(dest);
    if (!rc) { /* SQLite synced it on commit; this syncs it once more whole */
        fd = open(dest_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) != 0) rc = dala_error_set(DALA_EIO, "sync %s: %s", dest_path, strerror(errno));
        if (fd >= 0) close(fd);
    }
    if (rc) {
        char side[4400];
        unlink(dest_path);
        snprintf(side, sizeof side, "%s-journal", dest_path);
        unlink(side);
    }
    return rc;
}

static void folder_of(char *out, size_t size, const char *path)
{
    snprintf(out, size, "%s", path);
    char *slash = strrchr(out, '/');
    if (!slash) snprintf(out, size, ".");
    else slash[slash == out ? 1 : 0] = '\0';
}

static int sync_folder(const char *path)
{
    char folder[4096];
    folder_of(folder, sizeof folder, path);
    int dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int failed = dir < 0 || fsync(dir) != 0;
    if (dir >= 0) close(dir);
    return failed ? dala_error_set(DALA_EIO, "sync folder %s: %s", folder, strerror(errno)) : DALA_OK;
}

/* The online snapshot into "<db>.backup-XXXXXX/snapshot.db". */
static int snapshot_database(char *snap_dir, size_t dir_size, char *snap_path, size_t path_size, const char *db_path)
{
    snap_dir[0] = '\0';
    if (access(db_path, F_OK) != 0)
        return dala_error_set(DALA_ENOTFOUND, "backup %s: no such database", db_path);
    snprintf(snap_dir, dir_size, "%s.backup-XXXXXX", db_path);
    if (!mkdtemp(snap_dir)) { /* made 0700 */
        int error = errno;
        snap_dir[0] = '\0';
        return dala_error_set(error == ENOSPC ? DALA_ENOSPACE : DALA_EIO, "backup %s: a temporary folder: %s",
                              db_path, strerror(error));
    }
    snprintf(snap_path, path_size, "%s/snapshot.db", snap_dir);
    sqlite3 *src = NULL;
    int rc = DALA_OK;
    if (sqlite3_open_v2(db_path, &src, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        rc = dala_error_set(DALA_EIO, "open %s: %s", db_path, src ? sqlite3_errmsg(src) : "no memory");
    if (!rc) sqlite3_busy_timeout(src, 10000);
    if (!rc) rc = dala_backup_copy_db(src, snap_path);
    sqlite3_close(src);
    return rc;
}

static void snapshot_remove(const char *snap_dir, const char *snap_path)
{
    if (!snap_dir[0]) return;
    char side[4400];
    unlink(snap_path);
    snprintf(side, sizeof side, "%s-journal", snap_path);
    unlink(side);
    rmdir(snap_dir);
}

static int write_header(uint8_t header[HEADER_BYTES], uint8_t shared[DALA_KEY_BYTES],
                        const uint8_t recipient[DALA_KEY_BYTES])
{
    dala_keypair ephemeral;
    uint8_t hash[32];
    memset(header, 0, HEADER_BYTES);
    memcpy(header, FORMAT_NAME, strlen(FORMAT_NAME));
    dala_store_u32be(header + 16, FORMAT_VERSION);
    dala_store_u32be(header + 20, CHUNK_BYTES);
    int rc = dala_keypair_generate(&ephemeral);
    if (!rc) rc = dala_x25519(shared, ephemeral.secret, recipient);
    if (!rc) memcpy(header + 24, ephemeral.public_key, DALA_KEY_BYTES);
    if (!rc) rc = dala_random(header + 56, 32);
    if (!rc && mbedtls_sha256_ret(recipient, DALA_KEY_BYTES, hash, 0) != 0)
        rc = dala_error_set(DALA_ECRYPTO, "backup: SHA-256 failed");
    if (!rc) memcpy(header + 88, hash, 8);
    dala_keypair_wipe(&ephemeral);
    return rc;
}

static void key_file_path(char *out, size_t size, const char *db_path, const char *key_file)
{
    if (key_file) snprintf(out, size, "%s", key_file);
    else snprintf(out, size, "%s.keys", db_path);
}

int dala_backup_write(dala_backup_stats *stats, const char *db_path, const char *key_file, const char *out_path,
                      const char *public_key_path)
{
    dala_backup_stats local = {0};
    uint8_t recipient[DALA_KEY_BYTES], shared[DALA_KEY_BYTES], header[HEADER_BYTES];
    char snap_dir[4200], snap_path[4300], tmp_path[4200], path[4200];
    archive_writer *w = calloc(1, sizeof *w);
    if (stats) *stats = local;
    if (!w) return dala_error_set(DALA_ENOMEM, "backup: out of memory");
    snap_dir[0] = '\0';
    snprintf(tmp_path, sizeof tmp_path, "%s.tmp", out_path);
    int rc = read_key_file(recipient, public_key_path, PUBLIC_HEADER, "public", 0);
    if (!rc) rc = snapshot_database(snap_dir, sizeof snap_dir, snap_path, sizeof snap_path, db_path);
    if (!rc) rc = write_header(header, shared, recipient);
    w->seal.path = tmp_path;
    if (!rc) {
        unlink(tmp_path);
        w->seal.file = server_file_open_write(tmp_path, 1);
        if (!w->seal.file) rc = dala_error_set(DALA_EIO, "write %s: %s", tmp_path, strerror(errno));
    }
    if (!rc) rc = sealer_init(&w->seal, header, shared, recipient);
    dala_wipe(shared, sizeof shared);
    if (!rc && fwrite(header, 1, HEADER_BYTES, w->seal.file) != HEADER_BYTES)
        rc = dala_error_set(DALA_EIO, "write %s: %s", tmp_path, strerror(errno));
    if (!rc) {
        if (deflateInit(&w->z, 6) != Z_OK) rc = dala_error_set(DALA_ENOMEM, "backup: deflate: out of memory");
        else w->has_z = 1;
    }
    if (!rc) {
        char info[512], when[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        int len = snprintf(info, sizeof info, "created %s\ndatabase %s\n", when, db_path);
        rc = archive_entry_head(w, ENTRY_INFO, (uint64_t)len);
        if (!rc) rc = archive_put(w, info, (size_t)len);
    }
    int is_there = 0;
    if (!rc) rc = archive_add_file(w, ENTRY_DATABASE, snap_path, &is_there);
    if (!rc) {
        struct stat st;
        local.database_bytes = stat(snap_path, &st) == 0 ? (uint64_t)st.st_size : 0;
        snprintf(path, sizeof path, "%s.epoch", db_path);
        rc = archive_add_file(w, ENTRY_EPOCH, path, &local.has_epoch_file);
    }
    /* The key file is read after the snapshot: it holds at least every
     * epoch the snapshot's tablets use (rotation happens under the
     * database's write lock, and old keys are destroyed only after their
     * grace period). */
    if (!rc) {
        key_file_path(path, sizeof path, db_path, key_file);
        rc = archive_add_file(w, ENTRY_KEYS, path, &local.has_key_file);
        FILE *keys = local.has_key_file ? fopen(path, "r") : NULL;
        char first[64] = "";
        if (keys && fgets(first, sizeof first, keys)) local.is_key_file_wrapped = strncmp(first, "dala-server-keys-wrapped", 24) == 0;
        if (keys) fclose(keys);
    }
    if (!rc) rc = archive_entry_head(w, ENTRY_END, 0);
    if (!rc) rc = deflate_some(w, NULL, 0, Z_FINISH);
    if (!rc) rc = seal_chunk(&w->seal, 1);
    if (w->has_z) deflateEnd(&w->z);
    if (w->seal.file) {
        if (!rc && (fflush(w->seal.file) != 0 || fsync(fileno(w->seal.file)) != 0))
            rc = dala_error_set(errno == ENOSPC ? DALA_ENOSPACE : DALA_EIO, "write %s: %s", tmp_path, strerror(errno));
        if (!rc) local.file_bytes = (uint64_t)ftello(w->seal.file);
        if (fclose(w->seal.file) != 0 && !rc)
            rc = dala_error_set(errno == ENOSPC ? DALA_ENOSPACE : DALA_EIO, "write %s: %s", tmp_path, strerror(errno));
    }
    if (!rc && rename(tmp_path, out_path) != 0)
        rc = dala_error_set(DALA_EIO, "write %s: %s", out_path, strerror(errno));
    if (!rc) rc = sync_folder(out_path);
    if (rc) unlink(tmp_path);
    snapshot_remove(snap_dir, snap_path);
    sealer_free(&w->seal);
    free(w);
    if (!rc && stats) *stats = local;
    return rc;
}

/* ------------------------------------------------ reading: inflate, archive */

typedef struct archive_reader {
    sealer seal;
    z_stream z;
    int has_z, is_z_ended;
    uint8_t out[IO_BYTES];
    uint8_t head[9];
    size_t head_len;
    int kind, is_in_entry, is_end, seen[5];
    uint64_t left;
    FILE *db_file;
    const char *db_tmp_path;
    uint64_t db_bytes;
    dala_buf small[5]; /* info, epoch and keys by kind */
} archive_reader;

static int archive_take(archive_reader *r, const uint8_t *data, size_t len)
{
    while (len) {
        if (r->is_end)
            return dala_error_set(DALA_ECORRUPT, "read %s: data after the archive's end", r->seal.path);
        if (!r->is_in_entry) {
            size_t take = sizeof r->head - r->head_len;
            if (take > len) take = len;
            memcpy(r->head + r->head_len, data, take);
            r->head_len += take;
            data += take;
            len -= take;
            if (r->head_len < sizeof r->head) continue;
            r->head_len = 0;
            r->kind = r->head[0];
            r->left = dala_load_u64be(r->head + 1);
            if (r->kind > ENTRY_KEYS || r->seen[r->kind] ||
                (r->kind == ENTRY_END && r->left != 0) ||
                (r->kind != ENTRY_DATABASE && r->left > MAX_SMALL_ENTRY_BYTES))
                return dala_error_set(DALA_ECORRUPT, "read %s: a malformed archive entry (kind %d)", r->seal.path,
                                      r->kind);
            r->seen[r->kind] = 1;
            r->is_end = r->kind == ENTRY_END;
            r->is_in_entry = !r->is_end && r->left > 0;
            continue;
        }
        size_t take = r->left < len ? (size_t)r->left : len;
        int rc = DALA_OK;
        if (r->kind == ENTRY_DATABASE) {
            if (fwrite(data, 1, take, r->db_file) != take)
                rc = dala_error_set(errno == ENOSPC ? DALA_ENOSPACE : DALA_EIO, "write %s: %s", r->db_tmp_path,
                                    strerror(errno));
            r->db_bytes += take;
        } else {
            rc = dala_buf_append(&r->small[r->kind], data, take);
        }
        if (rc) return rc;
        r->left -= take;
        r->is_in_entry = r->left > 0;
        data += take;
        len -= take;
    }
    return DALA_OK;
}

/* Opens every chunk, inflates it, and files the archive's entries. */
static int archive_read_all(archive_reader *r)
{
    int rc = inflateInit(&r->z) == Z_OK ? DALA_OK : dala_error_set(DALA_ENOMEM, "restore: inflate: out of memory");
    r->has_z = !rc;
    while (!rc && !r->seal.is_done) {
        rc = open_chunk(&r->seal);
        r->z.next_in = r->seal.chunk;
        r->z.avail_in = (uInt)r->seal.chunk_len;
        while (!rc && !r->is_z_ended) {
            r->z.next_out = r->out;
            r->z.avail_out = sizeof r->out;
            int zrc = inflate(&r->z, Z_NO_FLUSH);
            if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR)
                rc = dala_error_set(DALA_ECORRUPT, "read %s: the compressed stream is damaged (zlib %d)",
                                    r->seal.path, zrc);
            if (!rc) rc = archive_take(r, r->out, sizeof r->out - r->z.avail_out);
            if (zrc == Z_STREAM_END) r->is_z_ended = 1;
            /* Z_BUF_ERROR: nothing more without input; a drained input
             * with room left in the output: zlib holds nothing more. */
            if (zrc == Z_BUF_ERROR || (!r->z.avail_in && r->z.avail_out)) break;
        }
        if (!rc && r->is_z_ended && r->z.avail_in)
            rc = dala_error_set(DALA_ECORRUPT, "read %s: data after the compressed stream", r->seal.path);
    }
    if (!rc) rc = open_chunk(&r->seal); /* nothing may follow the last chunk */
    if (!rc && (!r->is_z_ended || !r->is_end))
        rc = dala_error_set(DALA_ECORRUPT, "read %s: the archive ends early", r->seal.path);
    if (!rc && !r->seen[ENTRY_DATABASE])
        rc = dala_error_set(DALA_ECORRUPT, "read %s: the backup holds no database", r->seal.path);
    return rc;
}

/* Reads the header, checks it is a backup for this key, and readies the
 * reader's keys. */
static int restore_open(archive_reader *r, const char *in_path, const char *private_key_path)
{
    uint8_t header[HEADER_BYTES], secret[DALA_KEY_BYTES], shared[DALA_KEY_BYTES], hash[32];
    char name[17] = {0};
    dala_keypair pair;
    r->seal.path = in_path;
    int rc = read_key_file(secret, private_key_path, PRIVATE_HEADER, "secret", 1);
    if (!rc) rc = dala_keypair_from_secret(&pair, secret);
    dala_wipe(secret, sizeof secret);
    if (rc) return rc;
    r->seal.file = fopen(in_path, "rb");
    if (!r->seal.file)
        rc = dala_error_set(errno == ENOENT ? DALA_ENOTFOUND : DALA_EIO, "read %s: %s", in_path, strerror(errno));
    if (!rc && fread(header, 1, HEADER_BYTES, r->seal.file) != HEADER_BYTES)
        rc = dala_error_set(DALA_ECORRUPT, "read %s: not a Dala backup (too short)", in_path);
    if (!rc) memcpy(name, header, 16);
    if (!rc && (strcmp(name, FORMAT_NAME) != 0 || memcmp(header, name, 16) != 0))
        rc = dala_error_set(DALA_ECORRUPT, "read %s: not a Dala backup", in_path);
    if (!rc && dala_load_u32be(header + 16) != FORMAT_VERSION)
        rc = dala_error_set(DALA_ESCHEMA, "read %s: backup format version %u; this dala-server reads version %d",
                            in_path, dala_load_u32be(header + 16), FORMAT_VERSION);
    if (!rc && (dala_load_u32be(header + 20) == 0 || dala_load_u32be(header + 20) > MAX_CHUNK_BYTES))
        rc = dala_error_set(DALA_ECORRUPT, "read %s: a chunk size out of bounds", in_path);
    if (!rc && mbedtls_sha256_ret(pair.public_key, DALA_KEY_BYTES, hash, 0) != 0)
        rc = dala_error_set(DALA_ECRYPTO, "restore: SHA-256 failed");
    if (!rc && memcmp(hash, header + 88, 8) != 0) {
        char mine[SERVER_FINGERPRINT_BYTES];
        server_key_fingerprint(mine, pair.public_key);
        rc = dala_error_set(DALA_EAUTH, "read %s: it was made for another operator key than %s (fingerprint %s)",
                            in_path, private_key_path, mine);
    }
    if (!rc) rc = dala_x25519(shared, pair.secret, header + 24);
    if (!rc) rc = sealer_init(&r->seal, header, shared, pair.public_key);
    dala_wipe(shared, sizeof shared);
    dala_keypair_wipe(&pair);
    return rc;
}

/* Opens the database at `db_path` holding SQLite's exclusive lock: no
 * other connection (a running server's) may have it open. */
static int open_exclusive(sqlite3 **out, const char *db_path)
{
    sqlite3 *db = NULL;
    *out = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        int rc = dala_error_set(DALA_EIO, "open %s: %s", db_path, db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 500);
    int rc = DALA_OK;
    if (sqlite3_exec(db, "PRAGMA locking_mode = EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK) {
        int code = sqlite3_errcode(db);
        rc = code == SQLITE_BUSY || code == SQLITE_LOCKED
                 ? dala_error_set(DALA_EBUSY, "restore into %s: a server (or another program) has it open; stop it first",
                                  db_path)
                 : server_db_error(db, "restore: lock the database");
    } else if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) { /* the lock stays */
        rc = server_db_error(db, "restore: lock the database");
    }
    if (rc) sqlite3_close(db);
    else *out = db;
    return rc;
}

extern const dala_migration server_migrations[];

/* Checks the restored copy and gives it a fresh epoch. */
static int restored_prepare(dala_restore_result *res, const char *tmp_db)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    int rc = DALA_OK;
    if (sqlite3_open_v2(tmp_db, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        rc = dala_error_set(DALA_EIO, "open %s: %s", tmp_db, db ? sqlite3_errmsg(db) : "no memory");
    if (!rc && sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL) != SQLITE_OK)
        rc = server_db_error(db, "restore: integrity check");
    if (!rc && (sqlite3_step(stmt) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(stmt, 0), "ok") != 0))
        rc = dala_error_set(DALA_ECORRUPT, "restore: the database in the backup fails SQLite's integrity check");
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (!rc && sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        res->schema_version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    stmt = NULL;
    if (!rc && res->schema_version > dala_migration_latest(server_migrations))
        rc = dala_error_set(DALA_ESCHEMA, "restore: the backup's schema version %d is newer than this dala-server's %d",
                            res->schema_version, dala_migration_latest(server_migrations));
    uint8_t epoch[8] = {0};
    if (!rc && sqlite3_prepare_v2(db, "SELECT value FROM server_meta WHERE key = 'epoch'", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_bytes(stmt, 0) == 8)
        memcpy(epoch, sqlite3_column_blob(stmt, 0), 8);
    else if (!rc)
        rc = dala_error_set(DALA_ECORRUPT, "restore: the database in the backup has no server epoch (not a Dala database?)");
    sqlite3_finalize(stmt);
    stmt = NULL;
    res->epoch_before = dala_load_u64be(epoch);
    do { /* a fresh epoch, never the one the tablets saw */
        if (!rc) rc = dala_random(epoch, 8);
        epoch[0] &= 0x7f;
    } while (!rc && dala_load_u64be(epoch) == res->epoch_before);
    if (!rc && (sqlite3_prepare_v2(db, "UPDATE server_meta SET value = ?1 WHERE key = 'epoch'", -1, &stmt, NULL) != SQLITE_OK ||
                sqlite3_bind_blob(stmt, 1, epoch, 8, SQLITE_STATIC) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE))
        rc = server_db_error(db, "restore: write the new epoch");
    sqlite3_finalize(stmt);
    stmt = NULL;
    res->epoch_after = dala_load_u64be(epoch);
    if (!rc && sqlite3_prepare_v2(db, "SELECT total(next_seq) FROM org_unit", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        res->high_water = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    if (!rc && sqlite3_exec(db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK)
        rc = server_db_error(db, "restore");
    if (db && sqlite3_close(db) != SQLITE_OK && !rc) rc = dala_error_set(DALA_EIO, "restore: close %s", tmp_db);
    return rc;
}

/* Reads a small file whole into `out`; 0 if absent, 1 if read, <0 error. */
static int read_small(dala_buf *out, const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file) return errno == ENOENT ? 0 : dala_error_set(DALA_EIO, "read %s: %s", path, strerror(errno));
    uint8_t buf[4096];
    size_t n;
    int rc = DALA_OK;
    while (!rc && (n = fread(buf, 1, sizeof buf, file)) > 0)
        rc = out->len + n > MAX_SMALL_ENTRY_BYTES ? dala_error_set(DALA_ELIMIT, "read %s: too large", path)
                                                  : dala_buf_append(out, buf, n);
    fclose(file);
    dala_wipe(buf, sizeof buf);
    return rc ? rc : 1;
}

/* Puts the restored copy in place of `db_path`. */
static int install_database(const char *tmp_db, const char *db_path, int exists)
{
    char side[4200];
    if (!exists) {
        /* A WAL or journal left beside a vanished database would be
         * applied to the restored one: removed first. */
        static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
        for (size_t i = 0; i < 3; i++) {
            snprintf(side, sizeof side, "%s%s", db_path, suffixes[i]);
            if (unlink(side) != 0 && errno != ENOENT)
                return dala_error_set(DALA_EIO, "restore: remove %s: %s", side, strerror(errno));
        }
        if (rename(tmp_db, db_path) != 0)
            return dala_error_set(DALA_EIO, "restore: rename to %s: %s", db_path, strerror(errno));
        return sync_folder(db_path);
    }
    /* Over an existing database: SQLite's backup API into it under its
     * exclusive lock, one transaction, so a crash leaves the old database
     * or the restored one, never a mix. */
    sqlite3 *dest = NULL, *src = NULL;
    int rc = open_exclusive(&dest, db_path);
    if (!rc && sqlite3_open_v2(tmp_db, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        rc = dala_error_set(DALA_EIO, "open %s: %s", tmp_db, src ? sqlite3_errmsg(src) : "no memory");
    if (!rc) {
        sqlite3_backup *copy = sqlite3_backup_init(dest, "main", src, "main");
        int step = copy ? sqlite3_backup_step(copy, -1) : SQLITE_ERROR;
        if (copy) sqlite3_backup_finish(copy);
        if (step != SQLITE_DONE)
            rc = dala_error_wrap(server_db_error(dest, "restore: copy into the database"),
                                 "(a damaged database there? move its files away and restore again)");
    }
    if (!rc && sqlite3_exec(dest, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
        rc = server_db_error(dest, "restore: checkpoint");
    sqlite3_close(src);
    if (dest && sqlite3_close(dest) != SQLITE_OK && !rc) rc = dala_error_set(DALA_EIO, "restore: close %s", db_path);
    return rc;
}

int dala_backup_restore(dala_restore_result *result, const char *in_path, const char *private_key_path,
                        const char *db_path, const char *key_file, unsigned flags)
{
    dala_restore_result res;
    memset(&res, 0, sizeof res);
    char tmp_dir[4200] = "", tmp_db[4300] = "", path[4200];
    dala_buf existing_keys = DALA_BUF_INIT;
    archive_reader *r = calloc(1, sizeof *r);
    if (result) *result = res;
    if (!r) return dala_error_set(DALA_ENOMEM, "restore: out of memory");
    for (int i = 0; i < 5; i++) r->small[i] = (dala_buf)DALA_BUF_INIT;
    int exists = access(db_path, F_OK) == 0, rc = DALA_OK;
    if (exists && !(flags & DALA_RESTORE_FORCE))
        rc = dala_error_set(DALA_EINVAL, "restore into %s: a database is there; pass --force to replace it", db_path);
    if (!rc && exists) { /* refused now rather than after reading the whole backup */
        sqlite3 *probe = NULL;
        rc = open_exclusive(&probe, db_path);
        sqlite3_close(probe);
    }
    if (!rc) rc = restore_open(r, in_path, private_key_path);
    if (!rc) rc = server_folder_make(db_path);
    if (!rc) {
        snprintf(tmp_dir, sizeof tmp_dir, "%s.restore-XXXXXX", db_path);
        if (!mkdtemp(tmp_dir)) {
            rc = dala_error_set(DALA_EIO, "restore: a temporary folder beside %s: %s", db_path, strerror(errno));
            tmp_dir[0] = '\0';
        }
    }
    if (!rc) {
        snprintf(tmp_db, sizeof tmp_db, "%s/restored.db", tmp_dir);
        r->db_tmp_path = tmp_db;
        r->db_file = server_file_open_write(tmp_db, 1);
        if (!r->db_file) rc = dala_error_set(DALA_EIO, "write %s: %s", tmp_db, strerror(errno));
    }
    if (!rc) rc = archive_read_all(r);
    if (r->db_file) {
        if (!rc && (fflush(r->db_file) != 0 || fsync(fileno(r->db_file)) != 0))
            rc = dala_error_set(errno == ENOSPC ? DALA_ENOSPACE : DALA_EIO, "write %s: %s", tmp_db, strerror(errno));
        if (fclose(r->db_file) != 0 && !rc) rc = dala_error_set(DALA_EIO, "write %s: %s", tmp_db, strerror(errno));
    }
    res.database_bytes = r->db_bytes;
    if (!rc) {
        dala_buf *info = &r->small[ENTRY_INFO];
        const char *created = info->len > 8 && memcmp(info->data, "created ", 8) == 0 ? (const char *)info->data + 8 : "";
        size_t n = strcspn(created, "\n");
        snprintf(res.created, sizeof res.created, "%.*s", (int)(n < sizeof res.created ? n : sizeof res.created - 1), created);
        rc = restored_prepare(&res, tmp_db);
    }
    /* The key file: the backup's is written where none is; one there that
     * differs is the operator's call (docs/operations.md). */
    dala_buf *keys = &r->small[ENTRY_KEYS];
    key_file_path(path, sizeof path, db_path, key_file);
    int has_existing = rc ? 0 : read_small(&existing_keys, path);
    if (has_existing < 0) rc = has_existing;
    if (!rc) {
        if (!r->seen[ENTRY_KEYS]) res.key_file_action = DALA_RESTORE_KEYS_NONE;
        else if (!has_existing) res.key_file_action = DALA_RESTORE_KEYS_WRITTEN;
        else if (existing_keys.len == keys->len && memcmp(existing_keys.data, keys->data, keys->len) == 0)
            res.key_file_action = DALA_RESTORE_KEYS_SAME;
        else if (flags & DALA_RESTORE_KEYS_FROM_BACKUP) res.key_file_action = DALA_RESTORE_KEYS_REPLACED;
        else if (flags & DALA_RESTORE_KEEP_KEYS) res.key_file_action = DALA_RESTORE_KEYS_KEPT;
        else
            rc = dala_error_set(DALA_EINVAL,
                                "restore: the key file %s differs from the backup's; pass --keep-keys to keep it (it "
                                "holds the keys made since the backup) or --keys-from-backup to put the backup's back",
                                path);
    }
    if (!rc) rc = install_database(tmp_db, db_path, exists);
    if (!rc) {
        char epoch_path[4200], line[64];
        snprintf(epoch_path, sizeof epoch_path, "%s.epoch", db_path);
        int len = snprintf(line, sizeof line, "%llu %lld\n", (unsigned long long)res.epoch_after,
                           (long long)res.high_water);
        rc = server_file_replace(epoch_path, line, (size_t)len);
    }
    if (!rc && (res.key_file_action == DALA_RESTORE_KEYS_WRITTEN || res.key_file_action == DALA_RESTORE_KEYS_REPLACED))
        rc = server_file_replace(path, keys->data, keys->len);
    if (tmp_db[0]) {
        char journal[4400];
        unlink(tmp_db);
        snprintf(journal, sizeof journal, "%s-journal", tmp_db);
        unlink(journal);
    }
    if (tmp_dir[0]) rmdir(tmp_dir);
    if (r->seal.file) fclose(r->seal.file);
    if (r->has_z) inflateEnd(&r->z);
    sealer_free(&r->seal);
    for (int i = 0; i < 5; i++) dala_buf_free(&r->small[i]);
    dala_buf_free(&existing_keys);
    free(r);
    if (result) *result = res;
    return rc;
}
