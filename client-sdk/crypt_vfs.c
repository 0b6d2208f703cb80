/* crypt_vfs.c - "dala-crypt", the SQLite VFS under every tablet store: it
 * seals each page on its way to disk and opens it on its way back, and
 * passes everything else to the platform's VFS (unix). Only mbedTLS's
 * ChaCha20-Poly1305 and HKDF; the design is argued in docs/security.md.
 *
 * What it knows of SQLite's files, and why each write maps to exactly one
 * write of the same byte range (so a crash never damages bytes SQLite did
 * not ask to change, and SQLite's own recovery works unchanged):
 *
 *   database  4096-byte pages at page * 4096, written and read whole (the
 *             100-byte header read at open decrypts page 1 whole). Page 1
 *             must declare 4096-byte pages with 28 reserved bytes.
 *   WAL       a 32-byte header, then frames of a 24-byte header and a
 *             page. The headers hold page numbers, sizes, salts and
 *             checksums, no record data: they stay plain. Pages are sealed.
 *   journal   (only while a store switches to WAL) page images are the
 *             writes of exactly 4096 bytes; sector size is 512, so no
 *             other write has that size.
 *   temp      sort spills, temporary tables, statement journals: opaque
 *             4096-byte blocks, each sealed in a slot of 4124 bytes, under
 *             a random key that lives only while the file is open.
 *
 * A page's associated data is its file kind and position (page number,
 * or byte offset in the WAL or journal), so a page moved elsewhere fails
 * its tag. A failed tag is SQLITE_IOERR_DATA, which the SDK reports as
 * DALA_ECORRUPT. One exception: while SQLite recovers a WAL or plays back
 * a journal after a crash, a page that fails its tag is given to SQLite as
 * zeros, so its checksum fails and recovery stops there, exactly as for a
 * frame torn by a power cut. */
#include "sdk_int.h"
#include "crypt_vfs.h"

#include <mbedtls/chachapoly.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE DALA_PAGE_BYTES
#define RESERVE DALA_PAGE_RESERVE_BYTES
#define SEALED (PAGE - RESERVE)
#define WAL_HEADER_BYTES 32
#define WAL_FRAME_HEADER_BYTES 24
#define WAL_FRAME_BYTES (WAL_FRAME_HEADER_BYTES + PAGE)
#define TEMP_SLOT (PAGE + RESERVE)
#define SECTOR_BYTES 512

enum file_kind { KIND_PLAIN = 0, KIND_DB = 'D', KIND_WAL = 'W', KIND_JOURNAL = 'J', KIND_TEMP = 'T' };

/* --- the keyring ---------------------------------------------------------- */

typedef struct keyring_entry {
    uint64_t id;
    uint8_t data_key[DALA_DATA_KEY_BYTES];
    uint8_t page_key[DALA_DATA_KEY_BYTES];
} keyring_entry;

static keyring_entry *keyring;
static size_t keyring_count, keyring_alloc;
static uint64_t keyring_next_id = 1;
static pthread_mutex_t keyring_lock = PTHREAD_MUTEX_INITIALIZER;

/* The page key: HKDF-SHA256 of the data key, so the key that seals pages
 * is never the one that is wrapped and stored. */
static int derive_page_key(uint8_t out[DALA_DATA_KEY_BYTES], const uint8_t data_key[DALA_DATA_KEY_BYTES])
{
    static const char info[] = "dala store pages v1";
    int rc = mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), NULL, 0, data_key, DALA_DATA_KEY_BYTES,
                          (const unsigned char *)info, sizeof info - 1, out, DALA_DATA_KEY_BYTES);
    return rc ? dala_error_mbedtls(rc, "derive the store's page key") : DALA_OK;
}

int dala_keyring_add(uint64_t *id_out, const uint8_t data_key[DALA_DATA_KEY_BYTES])
{
    keyring_entry entry;
    int rc = derive_page_key(entry.page_key, data_key);
    if (rc) return rc;
    memcpy(entry.data_key, data_key, DALA_DATA_KEY_BYTES);
    pthread_mutex_lock(&keyring_lock);
    if (keyring_count == keyring_alloc) {
        size_t alloc = keyring_alloc ? keyring_alloc * 2 : 8;
        keyring_entry *grown = calloc(alloc, sizeof *grown);
        if (!grown) rc = dala_error_set(DALA_ENOMEM, "store key: out of memory");
        else {
            if (keyring_count) memcpy(grown, keyring, keyring_count * sizeof *grown);
            if (keyring) dala_wipe(keyring, keyring_alloc * sizeof *keyring);
            free(keyring);
            keyring = grown;
            keyring_alloc = alloc;
        }
    }
    if (!rc) {
        entry.id = keyring_next_id++;
        keyring[keyring_count++] = entry;
        *id_out = entry.id;
    }
    pthread_mutex_unlock(&keyring_lock);
    dala_wipe(&entry, sizeof entry);
    return rc;
}

/* Copies out one of the entry's keys (data key, or page key). */
static int keyring_copy(uint8_t out[DALA_DATA_KEY_BYTES], uint64_t id, int want_page_key)
{
    int rc = DALA_ENOTFOUND;
    pthread_mutex_lock(&keyring_lock);
    for (size_t i = 0; i < keyring_count; i++)
        if (keyring[i].id == id) {
            memcpy(out, want_page_key ? keyring[i].page_key : keyring[i].data_key, DALA_DATA_KEY_BYTES);
            rc = DALA_OK;
        }
    pthread_mutex_unlock(&keyring_lock);
    return rc;
}

int dala_keyring_get(uint8_t data_key[DALA_DATA_KEY_BYTES], uint64_t id)
{
    int rc = keyring_copy(data_key, id, 0);
    return rc ? dala_error_set(rc, "the store's key was released") : DALA_OK;
}

void dala_keyring_release(uint64_t id)
{
    if (!id) return;
    pthread_mutex_lock(&keyring_lock);
    for (size_t i = 0; i < keyring_count; i++)
        if (keyring[i].id == id) {
            keyring[i] = keyring[keyring_count - 1];
            dala_wipe(&keyring[keyring_count - 1], sizeof *keyring);
            keyring_count--;
            break;
        }
    if (keyring_count == 0) {
        free(keyring);
        keyring = NULL;
        keyring_alloc = 0;
    }
    pthread_mutex_unlock(&keyring_lock);
}

int dala_crypt_uri(char *out, size_t size, const char *path, uint64_t key_id)
{
    /* RFC 3986 escaping of what SQLite's URI parser treats specially. */
    size_t at = 0;
    const char *prefix = "file:";
    for (const char *c = prefix; *c && at < size; c++) out[at++] = *c;
    for (const unsigned char *c = (const unsigned char *)path; *c && at + 3 < size; c++) {
        if (*c == '%' || *c == '?' || *c == '#' || *c < 0x21 || *c >= 0x7f) at += (size_t)snprintf(out + at, size - at, "%%%02X", *c);
        else out[at++] = (char)*c;
    }
    int n = at < size ? snprintf(out + at, size - at, "?vfs=" DALA_CRYPT_VFS_NAME "&dala_key=%llu", (unsigned long long)key_id) : -1;
    if (n < 0 || (size_t)n >= size - at) return dala_error_set(DALA_EINVAL, "store path too long");
    return DALA_OK;
}

/* --- the sealed file ----------------------------------------------------- */

typedef struct crypt_file {
    sqlite3_file base;
    sqlite3_file *real;  /* the platform VFS's file, after this struct */
    int kind;
    int has_key;
    mbedtls_chachapoly_context aead;
    sqlite3_int64 temp_size; /* a temp file's size as SQLite sees it */
    uint8_t cipher[TEMP_SLOT];
    uint8_t plain[PAGE];
} crypt_file;

#define REAL_OFFSET ((sizeof(crypt_file) + 15) & ~(size_t)15)

static sqlite3_vfs *base_vfs;

/* Set on this thread when a page failed its tag or a file was cut short:
 * SQLite may report it as a plain I/O error, and the SDK asks. */
static __thread int page_check_failed;

int dala_crypt_vfs_take_failure(void)
{
    int failed = page_check_failed;
    page_check_failed = 0;
    return failed;
}

static void place_data(uint8_t ad[9], int kind, uint64_t place)
{
    ad[0] = (uint8_t)kind;
    dala_store_u64be(ad + 1, place);
}

/* Seals `plain` (PAGE bytes; its reserved tail is ignored) into `out`
 * (PAGE bytes, or TEMP_SLOT for temp blocks: same layout, data first). */
static int seal_page(crypt_file *f, uint8_t *out, const uint8_t *plain, uint64_t place)
{
    size_t len = f->kind == KIND_TEMP ? PAGE : SEALED;
    uint8_t *nonce = out + len, *tag = nonce + DALA_PAGE_NONCE_BYTES, ad[9];
    if (dala_random(nonce, DALA_PAGE_NONCE_BYTES)) return SQLITE_IOERR_WRITE;
    place_data(ad, f->kind, place);
    int rc = mbedtls_chachapoly_encrypt_and_tag(&f->aead, len, nonce, ad, sizeof ad, plain, out, tag);
    return rc ? SQLITE_IOERR_WRITE : SQLITE_OK;
}

/* Opens a sealed page into `plain` (PAGE bytes; the reserved tail comes
 * back as zeros, which is what SQLite wrote there). SQLITE_IOERR_DATA
 * when the tag fails, with `plain` zeroed. */
static int open_page(crypt_file *f, uint8_t *plain, const uint8_t *sealed, uint64_t place)
{
    size_t len = f->kind == KIND_TEMP ? PAGE : SEALED;
    const uint8_t *nonce = sealed + len, *tag = nonce + DALA_PAGE_NONCE_BYTES;
    uint8_t ad[9];
    place_data(ad, f->kind, place);
    int rc = mbedtls_chachapoly_auth_decrypt(&f->aead, len, nonce, ad, sizeof ad, tag, sealed, plain);
    if (len < PAGE) memset(plain + len, 0, PAGE - len);
    if (rc) {
        page_check_failed = 1;
        memset(plain, 0, PAGE);
        return SQLITE_IOERR_DATA;
    }
    return SQLITE_OK;
}

/* Reads `len` bytes at `offset` of the real file into f->cipher. *absent
 * is set when they lie wholly past the end of the file; a read that ends
 * part way is a store cut short: SQLITE_IOERR_DATA. */
static int read_sealed(crypt_file *f, size_t len, sqlite3_int64 offset, int *absent)
{
    *absent = 0;
    int rc = f->real->pMethods->xRead(f->real, f->cipher, (int)len, offset);
    if (rc != SQLITE_IOERR_SHORT_READ) return rc;
    sqlite3_int64 size = 0;
    rc = f->real->pMethods->xFileSize(f->real, &size);
    if (rc) return rc;
    if (size <= offset) {
        *absent = 1;
        return SQLITE_OK;
    }
    page_check_failed = 1;
    return SQLITE_IOERR_DATA;
}

/* The database: whole pages at page * PAGE. */
static int db_read(crypt_file *f, uint8_t *out, int amount, sqlite3_int64 offset)
{
    int short_read = 0;
    for (sqlite3_int64 at = offset, end = offset + amount; at < end;) {
        sqlite3_int64 page = at / PAGE, page_start = page * PAGE;
        size_t skip = (size_t)(at - page_start);
        size_t take = (size_t)((end < page_start + PAGE ? end : page_start + PAGE) - at);
        int absent, rc = read_sealed(f, PAGE, page_start, &absent);
        if (rc) return rc;
        if (absent) {
            memset(out, 0, take);
            short_read = 1;
        } else {
            if ((rc = open_page(f, f->plain, f->cipher, (uint64_t)page))) return rc;
            memcpy(out, f->plain + skip, take);
        }
        out += take;
        at += take;
    }
    return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

/* Page 1 must say what this VFS assumes: 4096-byte pages, 28 reserved
 * bytes each; a store that said otherwise would lose data, so such a
 * write fails. */
static int page_one_is_ours(const uint8_t *page)
{
    return page[16] == (PAGE >> 8 & 0xff) && page[17] == (PAGE & 0xff) && page[20] == RESERVE;
}

static int db_write(crypt_file *f, const uint8_t *data, int amount, sqlite3_int64 offset)
{
    if (offset % PAGE || amount % PAGE) {
        sqlite3_log(SQLITE_IOERR, "dala-crypt: a database write of %d bytes at %lld is not whole pages",
                    amount, (long long)offset);
        return SQLITE_IOERR_WRITE;
    }
    for (int done = 0; done < amount; done += PAGE) {
        sqlite3_int64 page = (offset + done) / PAGE;
        if (page == 0 && !page_one_is_ours(data + done)) {
            sqlite3_log(SQLITE_IOERR, "dala-crypt: page 1 must declare %d-byte pages with %d reserved bytes",
                        PAGE, RESERVE);
            return SQLITE_IOERR_WRITE;
        }
        int rc = seal_page(f, f->cipher, data + done, (uint64_t)page);
        if (!rc) rc = f->real->pMethods->xWrite(f->real, f->cipher, PAGE, offset + done);
        if (rc) return rc;
    }
    return SQLITE_OK;
}

/* The WAL: which region of the file holds `offset`, where it starts, how
 * long it is, and whether it is a page (sealed) or a header (plain). */
static void wal_region(sqlite3_int64 offset, sqlite3_int64 *start, size_t *len, int *is_page)
{
    if (offset < WAL_HEADER_BYTES) {
        *start = 0, *len = WAL_HEADER_BYTES, *is_page = 0;
        return;
    }
    sqlite3_int64 frame = (offset - WAL_HEADER_BYTES) / WAL_FRAME_BYTES;
    sqlite3_int64 frame_start = WAL_HEADER_BYTES + frame * WAL_FRAME_BYTES;
    if (offset < frame_start + WAL_FRAME_HEADER_BYTES)
        *start = frame_start, *len = WAL_FRAME_HEADER_BYTES, *is_page = 0;
    else
        *start = frame_start + WAL_FRAME_HEADER_BYTES, *len = PAGE, *is_page = 1;
}

/* The region of a WAL or journal that holds `at` (of an access of
 * `amount` bytes ending at `end`): where it starts, how many bytes of the
 * access fall in it, and whether it is a sealed page. In a journal the
 * page images are the accesses of exactly one page. */
static int log_region(const crypt_file *f, sqlite3_int64 at, sqlite3_int64 end, int amount, sqlite3_int64 *start,
                      size_t *take)
{
    size_t len;
    int is_page;
    if (f->kind == KIND_WAL) wal_region(at, start, &len, &is_page);
    else *start = at, len = (size_t)(end - at), is_page = amount == PAGE;
    sqlite3_int64 region_end = *start + (sqlite3_int64)len;
    *take = (size_t)((end < region_end ? end : region_end) - at);
    return is_page;
}

/* Reads from the WAL or a journal. `sealed_at` says whether the region
 * starting at an offset is a sealed page. In `recovering` reads (a whole
 * WAL frame, or a journal's page during playback) a failed tag gives
 * zeros, so SQLite's checksum ends the recovery there. */
static int log_read(crypt_file *f, uint8_t *out, int amount, sqlite3_int64 offset)
{
    int recovering = f->kind == KIND_JOURNAL || amount == WAL_FRAME_BYTES, short_read = 0;
    for (sqlite3_int64 at = offset, end = offset + amount; at < end;) {
        sqlite3_int64 start;
        size_t take;
        int is_page = log_region(f, at, end, amount, &start, &take);
        size_t skip = (size_t)(at - start);
        int rc;
        if (!is_page) {
            rc = f->real->pMethods->xRead(f->real, out, (int)take, at);
            if (rc == SQLITE_IOERR_SHORT_READ) short_read = 1;
            else if (rc) return rc;
        } else {
            int absent;
            if ((rc = read_sealed(f, PAGE, start, &absent))) return rc;
            if (absent) {
                memset(out, 0, take);
                short_read = 1;
            } else {
                rc = open_page(f, f->plain, f->cipher, (uint64_t)start);
                if (rc && !recovering) return rc;
                memcpy(out, f->plain + skip, take);
            }
        }
        out += take;
        at += take;
    }
    return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

static int log_write(crypt_file *f, const uint8_t *data, int amount, sqlite3_int64 offset)
{
    for (sqlite3_int64 at = offset, end = offset + amount; at < end;) {
        sqlite3_int64 start;
        size_t take;
        int is_page = log_region(f, at, end, amount, &start, &take);
        int rc;
        if (!is_page) rc = f->real->pMethods->xWrite(f->real, data, (int)take, at);
        else if (at != start || take != PAGE) {
            sqlite3_log(SQLITE_IOERR, "dala-crypt: a write of part of a WAL page at %lld", (long long)at);
            rc = SQLITE_IOERR_WRITE;
        } else {
            rc = seal_page(f, f->cipher, data, (uint64_t)start);
            if (!rc) rc = f->real->pMethods->xWrite(f->real, f->cipher, PAGE, start);
        }
        if (rc) return rc;
        data += take;
        at += take;
    }
    return SQLITE_OK;
}

/* Temp files: block b of PAGE bytes lives sealed at b * TEMP_SLOT. */
static int temp_load_block(crypt_file *f, sqlite3_int64 block)
{
    int absent, rc = read_sealed(f, TEMP_SLOT, block * TEMP_SLOT, &absent);
    if (rc) return rc;
    if (absent) {
        memset(f->plain, 0, PAGE);
        return SQLITE_OK;
    }
    return open_page(f, f->plain, f->cipher, (uint64_t)block);
}

static int temp_read(crypt_file *f, uint8_t *out, int amount, sqlite3_int64 offset)
{
    int short_read = 0;
    for (sqlite3_int64 at = offset, end = offset + amount; at < end;) {
        sqlite3_int64 block = at / PAGE;
        size_t skip = (size_t)(at - block * PAGE);
        size_t take = (size_t)((end < (block + 1) * PAGE ? end : (block + 1) * PAGE) - at);
        if (at >= f->temp_size) {
            memset(out, 0, take);
            short_read = 1;
        } else {
            int rc = temp_load_block(f, block);
            if (rc) return rc;
            memcpy(out, f->plain + skip, take);
            if (at + (sqlite3_int64)take > f->temp_size) {
                size_t past = (size_t)(at + (sqlite3_int64)take - f->temp_size);
                memset(out + take - past, 0, past);
                short_read = 1;
            }
        }
        out += take;
        at += take;
    }
    return short_read ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

static int temp_write(crypt_file *f, const uint8_t *data, int amount, sqlite3_int64 offset)
{
    for (sqlite3_int64 at = offset, end = offset + amount; at < end;) {
        sqlite3_int64 block = at / PAGE;
        size_t skip = (size_t)(at - block * PAGE);
        size_t take = (size_t)((end < (block + 1) * PAGE ? end : (block + 1) * PAGE) - at);
        int rc = SQLITE_OK;
        if (take < PAGE) rc = block * PAGE < f->temp_size ? temp_load_block(f, block) : (memset(f->plain, 0, PAGE), 0);
        if (rc) return rc;
        memcpy(f->plain + skip, data, take);
        rc = seal_page(f, f->cipher, f->plain, (uint64_t)block);
        if (!rc) rc = f->real->pMethods->xWrite(f->real, f->cipher, TEMP_SLOT, block * TEMP_SLOT);
        if (rc) return rc;
        data += take;
        at += take;
        if (at > f->temp_size) f->temp_size = at;
    }
    return SQLITE_OK;
}

/* --- io methods ---------------------------------------------------------- */

static int crypt_close(sqlite3_file *file)
{
    crypt_file *f = (crypt_file *)file;
    int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
    if (f->has_key) mbedtls_chachapoly_free(&f->aead);
    dala_wipe(f->cipher, sizeof f->cipher);
    dala_wipe(f->plain, sizeof f->plain);
    return rc;
}

static int crypt_read(sqlite3_file *file, void *out, int amount, sqlite3_int64 offset)
{
    crypt_file *f = (crypt_file *)file;
    switch (f->kind) {
    case KIND_DB: return db_read(f, out, amount, offset);
    case KIND_WAL:
    case KIND_JOURNAL: return log_read(f, out, amount, offset);
    case KIND_TEMP: return temp_read(f, out, amount, offset);
    default: return f->real->pMethods->xRead(f->real, out, amount, offset);
    }
}

static int crypt_write(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset)
{
    crypt_file *f = (crypt_file *)file;
    switch (f->kind) {
    case KIND_DB: return db_write(f, data, amount, offset);
    case KIND_WAL:
    case KIND_JOURNAL: return log_write(f, data, amount, offset);
    case KIND_TEMP: return temp_write(f, data, amount, offset);
    default: return f->real->pMethods->xWrite(f->real, data, amount, offset);
    }
}

static int crypt_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    crypt_file *f = (crypt_file *)file;
    if (f->kind != KIND_TEMP) return f->real->pMethods->xTruncate(f->real, size);
    if (size < f->temp_size) f->temp_size = size;
    return f->real->pMethods->xTruncate(f->real, (size + PAGE - 1) / PAGE * TEMP_SLOT);
}

static int crypt_sync(sqlite3_file *file, int flags)
{
    crypt_file *f = (crypt_file *)file;
    return f->real->pMethods->xSync(f->real, flags);
}

static int crypt_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    crypt_file *f = (crypt_file *)file;
    if (f->kind == KIND_TEMP) {
        *size = f->temp_size;
        return SQLITE_OK;
    }
    return f->real->pMethods->xFileSize(f->real, size);
}

static int crypt_lock(sqlite3_file *file, int level)
{
    crypt_file *f = (crypt_file *)file;
    return f->real->pMethods->xLock(f->real, level);
}

static int crypt_unlock(sqlite3_file *file, int level)
{
    crypt_file *f = (crypt_file *)file;
    return f->real->pMethods->xUnlock(f->real, level);
}

static int crypt_check_reserved(sqlite3_file *file, int *out)
{
    crypt_file *f = (crypt_file *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int crypt_file_control(sqlite3_file *file, int op, void *arg)
{
    crypt_file *f = (crypt_file *)file;
    /* A temp file's size hints are in SQLite's bytes, not the slots'. */
    if (f->kind == KIND_TEMP && (op == SQLITE_FCNTL_SIZE_HINT || op == SQLITE_FCNTL_CHUNK_SIZE)) return SQLITE_OK;
    /* No memory mapping: SQLite would read sealed bytes straight. */
    if (op == SQLITE_FCNTL_MMAP_SIZE) {
        *(sqlite3_int64 *)arg = 0;
        return SQLITE_OK;
    }
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int crypt_sector_size(sqlite3_file *file)
{
    (void)file;
    return SECTOR_BYTES;
}

static int crypt_device_characteristics(sqlite3_file *file)
{
    crypt_file *f = (crypt_file *)file;
    int flags = f->real->pMethods->xDeviceCharacteristics(f->real);
    /* Every write maps to one write of the same bytes: power-safe
     * overwrite holds as it does below. Atomic batches would bypass the
     * journal this VFS reads. */
    return (flags | SQLITE_IOCAP_POWERSAFE_OVERWRITE) & ~SQLITE_IOCAP_BATCH_ATOMIC;
}

static int crypt_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out)
{
    crypt_file *f = (crypt_file *)file;
    return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}

static int crypt_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    crypt_file *f = (crypt_file *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void crypt_shm_barrier(sqlite3_file *file)
{
    crypt_file *f = (crypt_file *)file;
    f->real->pMethods->xShmBarrier(f->real);
}

static int crypt_shm_unmap(sqlite3_file *file, int delete_flag)
{
    crypt_file *f = (crypt_file *)file;
    return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

/* Version 2: the WAL index (no record data, only page numbers and frame
 * positions) is shared memory as usual; no xFetch, so no memory map. */
static const sqlite3_io_methods crypt_io = {
    2,
    crypt_close,
    crypt_read,
    crypt_write,
    crypt_truncate,
    crypt_sync,
    crypt_file_size,
    crypt_lock,
    crypt_unlock,
    crypt_check_reserved,
    crypt_file_control,
    crypt_sector_size,
    crypt_device_characteristics,
    crypt_shm_map,
    crypt_shm_lock,
    crypt_shm_barrier,
    crypt_shm_unmap,
    NULL,
    NULL,
};

/* --- the VFS ------------------------------------------------------------- */

static int kind_of(int flags)
{
    if (flags & SQLITE_OPEN_MAIN_DB) return KIND_DB;
    if (flags & SQLITE_OPEN_WAL) return KIND_WAL;
    if (flags & SQLITE_OPEN_MAIN_JOURNAL) return KIND_JOURNAL;
    if (flags & (SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL | SQLITE_OPEN_SUBJOURNAL | SQLITE_OPEN_TRANSIENT_DB))
        return KIND_TEMP;
    return KIND_PLAIN; /* a super-journal: the names of the files of one transaction */
}

static int crypt_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags)
{
    (void)vfs;
    crypt_file *f = (crypt_file *)file;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)((char *)f + REAL_OFFSET);
    f->kind = kind_of(flags);
    uint8_t key[DALA_DATA_KEY_BYTES];
    int have = 0;
    if (f->kind == KIND_TEMP) {
        have = dala_random(key, sizeof key) == DALA_OK; /* lives only while the file is open */
    } else if (f->kind != KIND_PLAIN) {
        uint64_t id = name ? (uint64_t)sqlite3_uri_int64(name, "dala_key", 0) : 0;
        have = id && keyring_copy(key, id, 1) == DALA_OK;
        if (!have) {
            sqlite3_log(SQLITE_IOERR, "dala-crypt: no key for %s", name ? name : "a file");
            return SQLITE_CANTOPEN;
        }
    }
    if (f->kind != KIND_PLAIN) {
        if (!have) return SQLITE_CANTOPEN;
        mbedtls_chachapoly_init(&f->aead);
        f->has_key = 1;
        int rc = mbedtls_chachapoly_setkey(&f->aead, key);
        dala_wipe(key, sizeof key);
        if (rc) {
            mbedtls_chachapoly_free(&f->aead);
            return SQLITE_CANTOPEN;
        }
    }
    int rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        if (f->has_key) mbedtls_chachapoly_free(&f->aead);
        f->real->pMethods = NULL;
        return rc;
    }
    f->base.pMethods = &crypt_io;
    return SQLITE_OK;
}

static int crypt_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return base_vfs->xDelete(base_vfs, name, sync_dir);
}

static int crypt_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int crypt_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out)
{
    (void)vfs;
    return base_vfs->xFullPathname(base_vfs, name, size, out);
}

static int crypt_randomness(sqlite3_vfs *vfs, int size, char *out)
{
    (void)vfs;
    return base_vfs->xRandomness(base_vfs, size, out);
}

static int crypt_sleep(sqlite3_vfs *vfs, int microseconds)
{
    (void)vfs;
    return base_vfs->xSleep(base_vfs, microseconds);
}

static int crypt_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return base_vfs->xCurrentTime(base_vfs, out);
}

static int crypt_last_error(sqlite3_vfs *vfs, int size, char *out)
{
    (void)vfs;
    return base_vfs->xGetLastError(base_vfs, size, out);
}

static int crypt_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

static sqlite3_vfs crypt_vfs;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_result;

static void register_vfs(void)
{
    base_vfs = sqlite3_vfs_find(NULL);
    if (!base_vfs) {
        register_result = SQLITE_ERROR;
        return;
    }
    crypt_vfs.iVersion = 2;
    crypt_vfs.szOsFile = (int)(REAL_OFFSET + (size_t)base_vfs->szOsFile);
    crypt_vfs.mxPathname = base_vfs->mxPathname;
    crypt_vfs.zName = DALA_CRYPT_VFS_NAME;
    crypt_vfs.xOpen = crypt_open;
    crypt_vfs.xDelete = crypt_delete;
    crypt_vfs.xAccess = crypt_access;
    crypt_vfs.xFullPathname = crypt_full_pathname;
    crypt_vfs.xRandomness = crypt_randomness;
    crypt_vfs.xSleep = crypt_sleep;
    crypt_vfs.xCurrentTime = crypt_current_time;
    crypt_vfs.xGetLastError = crypt_last_error;
    crypt_vfs.xCurrentTimeInt64 = crypt_current_time_int64;
    register_result = sqlite3_vfs_register(&crypt_vfs, 0);
}

int dala_crypt_vfs_register(void)
{
    pthread_once(&register_once, register_vfs);
    return register_result == SQLITE_OK ? DALA_OK
                                        : dala_error_set(DALA_ENOMEM, "register the store's encrypting VFS: sqlite %d",
                                                         register_result);
}

void dala_store_forget_key(dala_store *store)
{
    dala_keyring_release(store->keyring_id);
    store->keyring_id = 0;
}
