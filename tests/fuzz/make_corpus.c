/* make_corpus.c - writes the seed corpora of the fuzz targets into
 * tests/fuzz/corpus/<target>/ (or under the folder given as argument):
 * for fuzz_frame_open, HELLO frames sealed with the fixed keys of
 * fuzz_keys.h (so they open in the target) plus a REPLY, a DATA frame,
 * frames for another server, flipped bits and truncations; for
 * fuzz_batch_decode, batches of generated records and edits, every value
 * type and the codec's edge cases, and broken batches; for fuzz_inflate,
 * raw deflate at several levels, a 1 MiB stream at the cap, a bomb past
 * it, truncated and trailing-garbage streams, and a zlib-wrapped one; for
 * fuzz_json_parse, survey answers, a questionnaire and a domain definition
 * with Kazakh text, escapes and number edges, nesting at the depth cap and
 * past it, too many values, and each kind of JSON the parser refuses.
 *
 * The output is deterministic (fixed keys, fixed ephemeral keys, a fixed
 * generator seed), so rerunning it rewrites the same files. Files are
 * named <index>-<what>. It does not delete stale files: to regenerate,
 * `rm -rf tests/fuzz/corpus && build/make_corpus`. The corpora stay small
 * (a few dozen files, well under 1 MB in all) because they are committed.
 */
#include "dala_sync.h"
#include "survey_form.h"
#include "fuzz_keys.h"
#include "records_gen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define CORPUS_SEED 1097

/* One target's corpus folder and how many files went in. */
typedef struct corpus_dir {
    char path[512];
    unsigned count;
    size_t bytes;
} corpus_dir;

static size_t total_bytes;

static void must(int rc, const char *what)
{
    if (rc == DALA_OK) return;
    fprintf(stderr, "make_corpus: %s: %s (%s)\n", what, dala_strerror(rc), dala_errmsg());
    exit(1);
}

static void make_folder(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

static void open_dir(corpus_dir *dir, const char *root, const char *target)
{
    make_folder(root);
    snprintf(dir->path, sizeof dir->path, "%s/%s", root, target);
    make_folder(dir->path);
    dir->count = 0;
    dir->bytes = 0;
}

/* Writes one seed input as <dir>/<index>-<name>. */
static void put(corpus_dir *dir, const char *name, const uint8_t *data, size_t len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%02u-%s", dir->path, ++dir->count, name);
    FILE *file = fopen(path, "wb");
    if (!file || (len && fwrite(data, 1, len, file) != len) || fclose(file) != 0) {
        perror(path);
        exit(1);
    }
    dir->bytes += len;
    total_bytes += len;
}

/* Writes `data` cut to `len` bytes under `name`. */
static void put_cut(corpus_dir *dir, const char *name, const dala_buf *data, size_t len)
{
    put(dir, name, data->data, len < data->len ? len : data->len);
}

/* Writes `data` with byte `at` XORed with `mask`. */
static void put_flipped(corpus_dir *dir, const char *name, const dala_buf *data, size_t at,
                        uint8_t mask)
{
    uint8_t *copy = malloc(data->len);
    if (!copy) exit(1);
    memcpy(copy, data->data, data->len);
    copy[at] ^= mask;
    put(dir, name, copy, data->len);
    free(copy);
}

static void finish_dir(const corpus_dir *dir)
{
    printf("make_corpus: %s: %u files, %zu bytes\n", dir->path, dir->count, dir->bytes);
}

/* ------------------------------------------------------------- batches */

/* Encodes `count` generated records (hlc 1000 + i) into `out`. */
static void encode_records(dala_buf *out, records_gen *gen, size_t count)
{
    gen_record recs[8];
    dala_change changes[8];
    memset(changes, 0, sizeof changes); /* for gcc -O1's -Wmaybe-uninitialized */
    if (count > 8) exit(1);
    for (size_t i = 0; i < count; i++) {
        must(records_gen_next(gen, &recs[i]), "generate");
        gen_record_change(&changes[i], &recs[i], 1000 + i, FUZZ_DEVICE_ID);
    }
    must(dala_batch_encode(out, GEN_SCHEMA_VERSION, 7, changes, count), "encode records");
    for (size_t i = 0; i < count; i++) gen_record_free(&recs[i]);
}

/* Encodes `count` one-field edits of generated records into `out`. */
static void encode_edits(dala_buf *out, records_gen *gen, size_t count)
{
    static gen_delta deltas[8];
    dala_change changes[8];
    memset(changes, 0, sizeof changes); /* for gcc -O1's -Wmaybe-uninitialized */
    if (count > 8) exit(1);
    for (size_t i = 0; i < count; i++) {
        gen_record rec;
        must(records_gen_next(gen, &rec), "generate");
        must(records_gen_delta(gen, &deltas[i], &rec, NULL, 1000, 5000 + i, FUZZ_DEVICE_ID), "edit");
        changes[i] = deltas[i].change;
        gen_record_free(&rec);
    }
    must(dala_batch_encode(out, GEN_SCHEMA_VERSION, 8, changes, count), "encode edits");
}

/* One change with every value type and the extremes of each. */
static void encode_value_kinds(dala_buf *out)
{
    static const char long_name[] = "a23456789_123456789_123456789_123456789_123456789_123456789_123";
    static const uint8_t blob[] = {0, 1, 0xff, 0, 0x80};
    static const char kazakh[] = "Әйелдерді зорлық-зомбылықтан қорғау";
    dala_field fields[] = {
        {"nothing", {DALA_VALUE_NULL, 0, 0, NULL, 0}, 0},
        {"zero", {DALA_VALUE_INT, 0, 0, NULL, 0}, 1},
        {"minus_one", {DALA_VALUE_INT, -1, 0, NULL, 0}, 2},
        {"int_min", {DALA_VALUE_INT, INT64_MIN, 0, NULL, 0}, 3},
        {"int_max", {DALA_VALUE_INT, INT64_MAX, 0, NULL, 0}, 0},
        {"real_zero", {DALA_VALUE_REAL, 0, 0.0, NULL, 0}, 0},
        {"real_minus_zero", {DALA_VALUE_REAL, 0, -0.0, NULL, 0}, 0},
        {"real_big", {DALA_VALUE_REAL, 0, 1.7976931348623157e308, NULL, 0}, 0},
        {"real_tiny", {DALA_VALUE_REAL, 0, 4.9e-324, NULL, 0}, 0},
        {"text_empty", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)"", 0}, 0},
        {"text_kazakh", {DALA_VALUE_TEXT, 0, 0, (const uint8_t *)kazakh, sizeof kazakh - 1}, 0},
        {"blob", {DALA_VALUE_BLOB, 0, 0, blob, sizeof blob}, 0},
        {long_name, {DALA_VALUE_INT, 42, 0, NULL, 0}, 0},
    };
    dala_change change = {"z", {0x01, 0x90}, UINT64_MAX, UINT64_MAX,
                          sizeof fields / sizeof fields[0], fields};
    must(dala_batch_encode(out, UINT32_MAX, UINT64_MAX, &change, 1), "encode value kinds");
}

static void batch_decode_corpus(const char *root)
{
    corpus_dir dir;
    records_gen gen;
    dala_buf one = DALA_BUF_INIT, buf = DALA_BUF_INIT;
    records_gen_init(&gen, CORPUS_SEED);
    open_dir(&dir, root, "fuzz_batch_decode");
    must(dala_batch_encode(&buf, 0, 0, NULL, 0), "encode empty");
    put(&dir, "empty-batch", buf.data, buf.len);
    encode_records(&one, &gen, 1);
    put(&dir, "one-record", one.data, one.len);
    dala_buf_reset(&buf);
    encode_records(&buf, &gen, 4);
    put(&dir, "four-records", buf.data, buf.len);
    dala_buf_reset(&buf);
    encode_edits(&buf, &gen, 6);
    put(&dir, "six-edits", buf.data, buf.len);
    dala_buf_reset(&buf);
    encode_value_kinds(&buf);
    put(&dir, "value-kinds", buf.data, buf.len);
    put_cut(&dir, "value-kinds-cut", &buf, buf.len / 2);
    put_cut(&dir, "one-record-cut-half", &one, one.len / 2);
    put_cut(&dir, "one-record-cut-last", &one, one.len - 1);
    put_cut(&dir, "version-only", &one, 1);
    put(&dir, "empty-input", NULL, 0);
    put_flipped(&dir, "unknown-version", &one, 0, 0x02);
    must(dala_buf_append(&one, "\0", 1), "append");
    put(&dir, "trailing-byte", one.data, one.len);
    finish_dir(&dir);
    dala_buf_free(&one);
    dala_buf_free(&buf);
}

/* --------------------------------------------------------------- inflate */

/* `len` zero bytes deflated at level 9 into `out`. */
static void deflate_zeros(dala_buf *out, size_t len)
{
    uint8_t *zeros = calloc(len, 1);
    if (!zeros) exit(1);
    must(dala_deflate(out, zeros, len, 9), "deflate zeros");
    free(zeros);
}

static void put_deflated(corpus_dir *dir, const char *name, const gen_record *rec, int level)
{
    dala_buf buf = DALA_BUF_INIT;
    must(dala_deflate(&buf, (const uint8_t *)rec->json, rec->json_len, level), "deflate");
    put(dir, name, buf.data, buf.len);
    dala_buf_free(&buf);
}

/* A zlib-wrapped (RFC 1950) stream: not raw deflate, so refused. */
static void put_zlib_wrapped(corpus_dir *dir, const gen_record *rec)
{
    uint8_t packed[4096];
    uLongf len = sizeof packed;
    if (compress2(packed, &len, (const Bytef *)rec->json, rec->json_len, 6) != Z_OK) exit(1);
    put(dir, "zlib-wrapped", packed, len);
}

static void inflate_corpus(const char *root)
{
    corpus_dir dir;
    records_gen gen;
    gen_record rec;
    dala_buf buf = DALA_BUF_INIT;
    records_gen_init(&gen, CORPUS_SEED + 1);
    must(records_gen_next(&gen, &rec), "generate");
    open_dir(&dir, root, "fuzz_inflate");
    put_deflated(&dir, "record-level0-stored", &rec, 0);
    put_deflated(&dir, "record-level1", &rec, 1);
    put_deflated(&dir, "record-level6", &rec, 6);
    put_deflated(&dir, "record-level9", &rec, 9);
    must(dala_deflate(&buf, NULL, 0, 6), "deflate nothing");
    put(&dir, "empty-stream", buf.data, buf.len);
    dala_buf_reset(&buf);
    deflate_zeros(&buf, (size_t)1 << 20);
    put(&dir, "zeros-at-cap", buf.data, buf.len);
    dala_buf_reset(&buf);
    deflate_zeros(&buf, (size_t)4 << 20);
    put(&dir, "bomb-4mib", buf.data, buf.len);
    dala_buf_reset(&buf);
    must(dala_deflate(&buf, (const uint8_t *)rec.json, rec.json_len, 6), "deflate");
    put_cut(&dir, "record-cut-half", &buf, buf.len / 2);
    put_cut(&dir, "record-cut-last", &buf, buf.len - 1);
    put_flipped(&dir, "record-flipped", &buf, buf.len / 3, 0x10);
    must(dala_buf_append(&buf, "junk", 4), "append");
    put(&dir, "trailing-junk", buf.data, buf.len);
    put_zlib_wrapped(&dir, &rec);
    put(&dir, "empty-input", NULL, 0);
    finish_dir(&dir);
    gen_record_free(&rec);
    dala_buf_free(&buf);
}

/* ---------------------------------------------------------------- frames */

static dala_frame_header frame_header(int suite, int compression)
{
    dala_frame_header header;
    memset(&header, 0, sizeof header);
    header.protocol_version = DALA_PROTOCOL_VERSION;
    header.frame_type = DALA_FRAME_HELLO;
    header.suite = (uint8_t)suite;
    header.compression = (uint8_t)compression;
    header.schema_version = GEN_SCHEMA_VERSION;
    header.device_id = FUZZ_DEVICE_ID;
    header.key_epoch = 1;
    return header;
}

/* The device's side: a HELLO to `server_public` carrying `body`, written
 * into `out`; the handshake comes back in *hs_out (NULL: freed). */
static void write_hello(dala_buf *out, dala_handshake **hs_out, enum fuzz_key server,
                        int suite, int compression, const dala_buf *body)
{
    dala_keypair device, ephemeral, server_key;
    dala_handshake *hs = NULL;
    dala_frame_header header = frame_header(suite, compression);
    must(fuzz_key_derive(&device, FUZZ_KEY_DEVICE), "device key");
    must(fuzz_key_derive(&ephemeral, FUZZ_KEY_DEVICE_EPHEMERAL), "ephemeral key");
    must(fuzz_key_derive(&server_key, server), "server key");
    must(dala_handshake_new(&hs, 1, &device, server_key.public_key, &ephemeral), "initiator");
    must(dala_handshake_write(hs, out, &header, body ? body->data : NULL, body ? body->len : 0),
         "write HELLO");
    if (hs_out) *hs_out = hs;
    else dala_handshake_free(hs);
}

/* The server's REPLY to `hello`, and a DATA frame from the device after
 * it: frames of the right keys but the wrong type for the target. */
static void put_reply_and_data(corpus_dir *dir, dala_handshake *device_hs, const dala_buf *hello)
{
    dala_keypair server, device, ephemeral;
    dala_handshake *hs = NULL;
    dala_session *session = NULL;
    dala_buf body = DALA_BUF_INIT, reply = DALA_BUF_INIT, data = DALA_BUF_INIT;
    dala_frame_header header = frame_header(DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE);
    must(fuzz_key_derive(&server, FUZZ_KEY_SERVER), "server key");
    must(fuzz_key_derive(&device, FUZZ_KEY_DEVICE), "device key");
    must(fuzz_key_derive(&ephemeral, FUZZ_KEY_SERVER_EPHEMERAL), "ephemeral key");
    must(dala_handshake_new(&hs, 0, &server, device.public_key, &ephemeral), "responder");
    must(dala_handshake_read(hs, &body, NULL, hello->data, hello->len, 1 << 20), "read HELLO");
    must(dala_handshake_write(hs, &reply, &header, NULL, 0), "write REPLY");
    put(dir, "reply", reply.data, reply.len);
    dala_buf_reset(&body);
    must(dala_handshake_read(device_hs, &body, NULL, reply.data, reply.len, 1 << 20), "read REPLY");
    must(dala_session_new(&session, device_hs), "session");
    header.frame_type = DALA_FRAME_DATA;
    must(dala_session_seal(session, &data, &header, body.data, body.len), "seal DATA");
    put(dir, "data", data.data, data.len);
    dala_session_free(session);
    dala_handshake_free(hs);
    dala_buf_free(&body);
    dala_buf_free(&reply);
    dala_buf_free(&data);
}

/* Broken copies of a valid HELLO: cut, flipped, mislabelled. */
static void put_broken_hellos(corpus_dir *dir, const dala_buf *hello)
{
    put(dir, "empty-input", NULL, 0);
    put_cut(dir, "cut-in-header", hello, DALA_FRAME_HEADER_BYTES / 2);
    put_cut(dir, "header-only", hello, DALA_FRAME_HEADER_BYTES);
    put_cut(dir, "cut-after-ephemeral", hello, DALA_FRAME_HEADER_BYTES + DALA_KEY_BYTES);
    put_cut(dir, "cut-last-byte", hello, hello->len - 1);
    put_flipped(dir, "flipped-tag", hello, hello->len - 1, 0x01);
    put_flipped(dir, "flipped-device-id", hello, 19, 0x01);
    put_flipped(dir, "flipped-ephemeral", hello, DALA_FRAME_HEADER_BYTES + 3, 0x80);
    put_flipped(dir, "bad-magic", hello, 0, 0x20);
    put_flipped(dir, "bad-version", hello, 4, 0x02);
    put_flipped(dir, "bad-compression", hello, 7, 0x04);
}

static void frame_open_corpus(const char *root)
{
    corpus_dir dir;
    records_gen gen;
    dala_handshake *device_hs = NULL;
    dala_buf batch = DALA_BUF_INIT, big = DALA_BUF_INIT, frame = DALA_BUF_INIT;
    records_gen_init(&gen, CORPUS_SEED + 2);
    open_dir(&dir, root, "fuzz_frame_open");
    encode_records(&batch, &gen, 3);
    write_hello(&frame, &device_hs, FUZZ_KEY_SERVER, DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE,
                &batch);
    put(&dir, "hello-aes-deflate-3-records", frame.data, frame.len);
    put_reply_and_data(&dir, device_hs, &frame);
    put_broken_hellos(&dir, &frame);
    dala_handshake_free(device_hs);
    struct { const char *name; enum fuzz_key server; int suite, compression; const dala_buf *body; }
    hellos[] = {
        {"hello-aes-deflate-empty", FUZZ_KEY_SERVER, DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE, NULL},
        {"hello-chacha-none-empty", FUZZ_KEY_SERVER, DALA_SUITE_CHACHAPOLY, DALA_COMPRESS_NONE, NULL},
        {"hello-chacha-none-3-records", FUZZ_KEY_SERVER, DALA_SUITE_CHACHAPOLY, DALA_COMPRESS_NONE, &batch},
        {"hello-other-server", FUZZ_KEY_OTHER_SERVER, DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE, &batch},
        {"hello-body-past-cap", FUZZ_KEY_SERVER, DALA_SUITE_AES256GCM, DALA_COMPRESS_DEFLATE, &big},
    };
    uint8_t *zeros = calloc((size_t)2 << 20, 1);
    if (!zeros || dala_buf_append(&big, zeros, (size_t)2 << 20) != DALA_OK) exit(1);
    free(zeros);
    for (size_t i = 0; i < sizeof hellos / sizeof hellos[0]; i++) {
        dala_buf_reset(&frame);
        write_hello(&frame, NULL, hellos[i].server, hellos[i].suite, hellos[i].compression,
                    hellos[i].body);
        put(&dir, hellos[i].name, frame.data, frame.len);
    }
    finish_dir(&dir);
    dala_buf_free(&batch);
    dala_buf_free(&big);
    dala_buf_free(&frame);
}

/* ------------------------------------------------------------------ JSON */

/* Survey answers as a tablet sends them ("Қазақстан" raw and escaped). */
static const char json_answers[] =
    "{\"form\": \"vaw-household\", \"version\": 3, \"anonymous\": false,\n"
    " \"answers\": {\"q1\": \"\xd2\x9a\xd0\xb0\xd0\xb7\xd0\xb0\xd2\x9b\xd1\x81\xd1\x82\xd0\xb0\xd0\xbd\","
    " \"q2\": [\"yes\", \"no\"], \"q3\": 34, \"q4\": null, \"q5\": true,\n"
    "  \"q6\": \"\\u049a\\u0430\\u0437\\u0430\\u049b\\u0441\\u0442\\u0430\\u043d \\ud83d\\ude00 \\\"\\n\"}}";

static const char json_form[] =
    "{\n  \"code\": \"vaw-household\",\n  \"version\": 1,\n  \"kk\": \"\xd0\xa1\xd0\xb0\xd1\x83\xd0\xb0\xd0\xbb\xd0\xbd\xd0\xb0\xd0\xbc\xd0\xb0\",\n"
    "  \"ru\": \"\xd0\x9e\xd0\xbf\xd1\x80\xd0\xbe\xd1\x81\",\n  \"anonymous\": true,\n  \"questions\": [\n"
    "    {\"id\": \"q1\", \"type\": \"single\", \"required\": true,\n"
    "     \"options\": [{\"value\": \"yes\", \"kk\": \"\xd0\x98\xd3\x99\", \"ru\": \"\xd0\x94\xd0\xb0\"},"
    " {\"value\": \"no\", \"kk\": \"\xd0\x96\xd0\xbe\xd2\x9b\", \"ru\": \"\xd0\x9d\xd0\xb5\xd1\x82\"}]},\n"
    "    {\"id\": \"q2\", \"type\": \"multi\", \"max_choices\": 3, \"show_if\": {\"question\": \"q1\", \"in\": [\"yes\"]}},\n"
    "    {\"id\": \"q3\", \"type\": \"number\", \"min\": 14, \"max\": 100, \"integer\": true}\n  ]\n}\n";

static const char json_domain[] =
    "{\"schema_version\": 2, \"oldest_device_schema\": 1,\n"
    " \"messages\": {\"required\": {\"kk\": \"\xd0\xbc\xd1\x96\xd0\xbd\xd0\xb4\xd0\xb5\xd1\x82\xd1\x82\xd1\x96\","
    " \"ru\": \"\xd0\xbe\xd0\xb1\xd1\x8f\xd0\xb7\xd0\xb0\xd1\x82\xd0\xb5\xd0\xbb\xd1\x8c\xd0\xbd\xd0\xbe\", \"en\": \"is required\"}},\n"
    " \"enums\": {\"risk\": [{\"value\": \"low\", \"kk\": \"\xd0\xa2\xd3\xa9\xd0\xbc\xd0\xb5\xd0\xbd\", \"ru\": \"\xd0\x9d\xd0\xb8\xd0\xb7\xd0\xba\xd0\xb8\xd0\xb9\"}]},\n"
    " \"tables\": [{\"name\": \"field_visit\", \"fields\": [\n"
    "   {\"name\": \"visit_date\", \"type\": \"date\", \"required\": true, \"not_future\": true},\n"
    "   {\"name\": \"risk\", \"type\": \"enum\", \"enum\": \"risk\", \"required_when\": {\"field\": \"decision\", \"in\": [\"return\"]}},\n"
    "   {\"name\": \"score\", \"type\": \"real\", \"min\": -1.5e3, \"max\": 0.25}]}]}";

/* `depth` arrays nested around a 0. */
static void put_nested(corpus_dir *dir, const char *name, int depth)
{
    char text[256];
    int n = 0;
    for (int i = 0; i < depth; i++) text[n++] = '[';
    text[n++] = '0';
    for (int i = 0; i < depth; i++) text[n++] = ']';
    put(dir, name, (const uint8_t *)text, (size_t)n);
}

static void put_text(corpus_dir *dir, const char *name, const char *text, size_t len)
{
    put(dir, name, (const uint8_t *)text, len);
}

/* A string literal with its length (it may hold NUL bytes). */
#define PUT_JSON(dir, name, literal) put_text(dir, name, literal, sizeof literal - 1)

static void json_parse_corpus(const char *root)
{
    corpus_dir dir;
    open_dir(&dir, root, "fuzz_json_parse");
    PUT_JSON(&dir, "survey-answers", json_answers);
    PUT_JSON(&dir, "survey-form", json_form);
    PUT_JSON(&dir, "domain-definition", json_domain);
    PUT_JSON(&dir, "numbers", "[0, -0, 42, -7, 1.5, 1e3, 1E+2, -12.5e-1, 9223372036854775807, 9223372036854775808,"
                              " -9223372036854775808, 9007199254740993, 1.7976931348623157e308, 4.9e-324, 1e-400]");
    PUT_JSON(&dir, "escapes", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20ac\\uD83D\\uDE00\\udbff\\udfff\"");
    put_nested(&dir, "depth-32", 32);
    put_nested(&dir, "depth-33", 33);
    char many[2 * 5000 + 1];
    for (int i = 0; i < 5000; i++) {
        many[2 * i] = i ? ',' : '[';
        many[2 * i + 1] = '0';
    }
    many[2 * 5000] = ']';
    put_text(&dir, "5000-values", many, sizeof many);
    PUT_JSON(&dir, "duplicate-key", "{\"q1\": \"yes\", \"q2\": 1, \"\\u0071\\u0031\": \"no\"}");
    PUT_JSON(&dir, "trailing-comma", "{\"q\": [1, 2,],}");
    PUT_JSON(&dir, "comment", "{\"q\": 1 /* note */}");
    PUT_JSON(&dir, "leading-zero", "[007]");
    PUT_JSON(&dir, "lone-surrogate", "[\"\\ud83d\", \"\\ude00\"]");
    PUT_JSON(&dir, "invalid-utf8", "[\"\xc0\x80\", \"\xed\xa0\x80\", \"\xf5\x80\x80\x80\"]");
    PUT_JSON(&dir, "control-and-nul", "[\"a\tb\", \"\\u0000\", \"a\0b\"]");
    PUT_JSON(&dir, "nan-infinity", "[NaN, Infinity, -1e999]");
    put_text(&dir, "answers-cut-half", json_answers, sizeof json_answers / 2);
    PUT_JSON(&dir, "trailing-garbage", "{\"q\": true} x");
    put(&dir, "empty-input", NULL, 0);
    finish_dir(&dir);
}

/* A survey seed: the path byte (0: answers, 1: a form definition), then
 * the JSON. */
static void put_survey(corpus_dir *dir, const char *name, uint8_t path, const char *json)
{
    dala_buf seed = DALA_BUF_INIT;
    must(dala_buf_append(&seed, &path, 1), "seed");
    must(dala_buf_append(&seed, json, strlen(json)), "seed");
    put(dir, name, seed.data, seed.len);
    dala_buf_free(&seed);
}

static void survey_check_corpus(const char *root)
{
    corpus_dir dir;
    open_dir(&dir, root, "fuzz_survey_check");
    put_survey(&dir, "complete", 0, "{\"q1\":\"yes\",\"q2\":[\"a\",\"c\"],\"q3\":2,\"q4\":\"Көмек керек\",\"q5\":\"2026-01-02\"}");
    put_survey(&dir, "skipped", 0, "{\"q1\":\"no\",\"q3\":0}");
    put_survey(&dir, "hidden-answered", 0, "{\"q1\":\"no\",\"q2\":[\"a\"],\"q3\":1}");
    put_survey(&dir, "too-many", 0, "{\"q1\":\"yes\",\"q2\":[\"a\",\"b\",\"c\"],\"q3\":1}");
    put_survey(&dir, "iin-in-text", 0, "{\"q1\":\"no\",\"q3\":1,\"q4\":\"ЖСН 900514440018\"}");
    put_survey(&dir, "wrong-types", 0, "{\"q1\":[\"yes\"],\"q3\":1.5,\"q5\":\"2999-01-01\"}");
    put_survey(&dir, "unknown", 0, "{\"q9\":1}");
    put_survey(&dir, "form-definition", 1, fuzz_survey_form);
    finish_dir(&dir);
}

int main(int argc, char **argv)
{
    const char *root = argc > 1 ? argv[1] : "tests/fuzz/corpus";
    frame_open_corpus(root);
    batch_decode_corpus(root);
    inflate_corpus(root);
    json_parse_corpus(root);
    survey_check_corpus(root);
    printf("make_corpus: %zu bytes in all\n", total_bytes);
    return 0;
}
