/* bench_sync.c - prints what libdala_sync costs on realistic records, beside
 * the goals the sync is held to: sealed frames at most 25% of the JSON a
 * plain REST client would send, at least 60 MB/s of that JSON each way on
 * one core, and less than 120 bytes per edited field for a 1% delta.
 *
 * For N generated home visits (tests/records_gen.h; 10,000 by default) it
 * times (a) dala_batch_encode of pages of changes, each sealed as a
 * deflated DATA frame of an established session, and (b) opening,
 * inflating and decoding those frames; then one Noise KK handshake on each
 * side; the size of a frame of 100 one-field edits; and raw deflate of the
 * encoded pages at levels 1 and 6 (frames use the library's default, -1 =
 * 6), for choosing a level. Each figure is the median of several runs
 * (7 by default). It only prints: no timing is ever asserted, since a
 * loaded CI machine would make such a check flaky.
 *
 * usage: bench_sync [--records N] [--page N] [--runs N] [--level N]
 *                   [--seed N] [--chacha]
 */
#include "dala_sync.h"
#include "bench/bench_common.h"
#include "records_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GOAL_RATIO_PERCENT 25.0
#define GOAL_MB_PER_S 60.0
#define GOAL_DELTA_BYTES 120.0
#define DELTA_EDITS 100
#define HANDSHAKES 101
#define DEVICE_ID 4242

typedef struct options {
    size_t records;
    size_t page;
    size_t runs;
    int level; /* an extra raw deflate level to report; -2 for none */
    uint64_t seed;
    int suite;
} options;

/* The generated records and everything encoded from them. */
typedef struct corpus {
    gen_record *recs;
    dala_change *changes;
    size_t count;
    size_t json_bytes;
    size_t page_count;
    dala_buf *pages;  /* each page encoded, for the raw deflate figures */
    dala_buf *frames; /* each page sealed, rewritten by every run */
} corpus;

/* ------------------------------------------------------------ helpers */

/* One line of the table: what, the figure, the goal, PASS/MISS, notes. */
static void print_row(const char *label, const char *measured, const char *goal,
                      const char *verdict, const char *notes)
{
    printf("%-32s %14s  %-14s %-5s %s\n", label, measured, goal, verdict, notes);
}

static dala_frame_header data_header(const options *opt, int compression)
{
    dala_frame_header header;
    memset(&header, 0, sizeof header);
    header.protocol_version = DALA_PROTOCOL_VERSION;
    header.frame_type = DALA_FRAME_DATA;
    header.suite = (uint8_t)opt->suite;
    header.compression = (uint8_t)compression;
    header.schema_version = GEN_SCHEMA_VERSION;
    header.device_id = DEVICE_ID;
    header.key_epoch = 1;
    return header;
}

/* --------------------------------------------------------- the session */

/* One full KK handshake between a device and the server, each side's CPU
 * time added to *device_s and *server_s (may be NULL); on return both
 * sessions are established. Bodies are empty and uncompressed, so this
 * is the cost of the key agreement alone. */
static void handshake(const options *opt, const dala_keypair *device, const dala_keypair *server,
                      dala_session **device_session, dala_session **server_session,
                      double *device_s, double *server_s)
{
    dala_handshake *initiator = NULL, *responder = NULL;
    dala_buf hello = DALA_BUF_INIT, reply = DALA_BUF_INIT, body = DALA_BUF_INIT;
    dala_frame_header header = data_header(opt, DALA_COMPRESS_NONE);
    double t0 = now_seconds();
    must(dala_handshake_new(&initiator, 1, device, server->public_key, NULL), "device handshake");
    must(dala_handshake_write(initiator, &hello, &header, NULL, 0), "write HELLO");
    double t1 = now_seconds();
    must(dala_handshake_new(&responder, 0, server, device->public_key, NULL), "server handshake");
    must(dala_handshake_read(responder, &body, NULL, hello.data, hello.len, 1 << 20), "read HELLO");
    must(dala_handshake_write(responder, &reply, &header, NULL, 0), "write REPLY");
    must(dala_session_new(server_session, responder), "server session");
    double t2 = now_seconds();
    must(dala_handshake_read(initiator, &body, NULL, reply.data, reply.len, 1 << 20), "read REPLY");
    must(dala_session_new(device_session, initiator), "device session");
    double t3 = now_seconds();
    if (device_s) *device_s += (t1 - t0) + (t3 - t2);
    if (server_s) *server_s += t2 - t1;
    dala_handshake_free(initiator);
    dala_handshake_free(responder);
    dala_buf_free(&hello);
    dala_buf_free(&reply);
    dala_buf_free(&body);
}

/* Prints the median cost of one handshake on each side, over HANDSHAKES
 * handshakes with fresh ephemeral keys and the same static keys. */
static void bench_handshake(const options *opt, const dala_keypair *device,
                            const dala_keypair *server)
{
    double device_us[HANDSHAKES], server_us[HANDSHAKES], total_us[HANDSHAKES];
    for (size_t i = 0; i < HANDSHAKES; i++) {
        dala_session *a = NULL, *b = NULL;
        double device_s = 0, server_s = 0;
        handshake(opt, device, server, &a, &b, &device_s, &server_s);
        device_us[i] = device_s * 1e6;
        server_us[i] = server_s * 1e6;
        total_us[i] = device_us[i] + server_us[i];
        dala_session_free(a);
        dala_session_free(b);
    }
    char measured[32], notes[96];
    snprintf(measured, sizeof measured, "%.0f us", median(total_us, HANDSHAKES));
    snprintf(notes, sizeof notes, "device %.0f us + server %.0f us, median of %d",
             median(device_us, HANDSHAKES), median(server_us, HANDSHAKES), HANDSHAKES);
    print_row("handshake, both sides", measured, "-", "", notes);
}

/* ------------------------------------------------------------ the data */

static void make_corpus(corpus *c, const options *opt)
{
    records_gen gen;
    records_gen_init(&gen, opt->seed);
    c->count = opt->records;
    c->recs = must_alloc(c->count, sizeof *c->recs);
    c->changes = must_alloc(c->count, sizeof *c->changes);
    for (size_t i = 0; i < c->count; i++) {
        must(records_gen_next(&gen, &c->recs[i]), "generate a record");
        gen_record_change(&c->changes[i], &c->recs[i], DALA_HLC_MAKE(c->recs[i].created_ms, 0),
                          DEVICE_ID);
        c->json_bytes += c->recs[i].json_len;
    }
    c->page_count = (c->count + opt->page - 1) / opt->page;
    c->pages = must_alloc(c->page_count, sizeof *c->pages);
    c->frames = must_alloc(c->page_count, sizeof *c->frames);
    for (size_t p = 0; p < c->page_count; p++) {
        size_t first = p * opt->page, n = c->count - first < opt->page ? c->count - first : opt->page;
        must(dala_batch_encode(&c->pages[p], GEN_SCHEMA_VERSION, p + 1, &c->changes[first], n),
             "encode a page");
    }
}

static void free_corpus(corpus *c)
{
    for (size_t i = 0; i < c->count; i++) gen_record_free(&c->recs[i]);
    for (size_t p = 0; p < c->page_count; p++) {
        dala_buf_free(&c->pages[p]);
        dala_buf_free(&c->frames[p]);
    }
    free(c->recs);
    free(c->changes);
    free(c->pages);
    free(c->frames);
}

/* (a) Encodes every page and seals it into c->frames; returns seconds. */
static double run_seal(corpus *c, const options *opt, dala_session *sender, size_t *sealed_bytes)
{
    dala_buf page = DALA_BUF_INIT;
    dala_frame_header header = data_header(opt, DALA_COMPRESS_DEFLATE);
    double start = now_seconds();
    *sealed_bytes = 0;
    for (size_t p = 0; p < c->page_count; p++) {
        size_t first = p * opt->page, n = c->count - first < opt->page ? c->count - first : opt->page;
        dala_buf_reset(&page);
        dala_buf_reset(&c->frames[p]);
        must(dala_batch_encode(&page, GEN_SCHEMA_VERSION, p + 1, &c->changes[first], n), "encode");
        must(dala_session_seal(sender, &c->frames[p], &header, page.data, page.len), "seal");
        *sealed_bytes += c->frames[p].len;
    }
    double elapsed = now_seconds() - start;
    dala_buf_free(&page);
    return elapsed;
}

/* (b) Opens, inflates and decodes every frame; returns seconds. */
static double run_open(corpus *c, const options *opt, dala_session *receiver)
{
    dala_buf body = DALA_BUF_INIT;
    size_t decoded = 0;
    double start = now_seconds();
    for (size_t p = 0; p < c->page_count; p++) {
        dala_batch *batch = NULL;
        dala_buf_reset(&body);
        must(dala_session_open(receiver, &body, NULL, c->frames[p].data, c->frames[p].len,
                               DALA_MAX_BODY_BYTES), "open");
        must(dala_batch_decode(&batch, body.data, body.len, opt->page), "decode");
        decoded += batch->change_count;
        dala_batch_free(batch);
    }
    double elapsed = now_seconds() - start;
    dala_buf_free(&body);
    if (decoded != c->count) {
        fprintf(stderr, "bench_sync: decoded %zu changes of %zu\n", decoded, c->count);
        exit(1);
    }
    return elapsed;
}

/* Prints one line of throughput: MB/s of JSON-equivalent bytes. */
static void print_throughput(const char *label, const corpus *c, double seconds)
{
    double mb_per_s = (double)c->json_bytes / 1e6 / seconds;
    char measured[32], goal[32], notes[64];
    snprintf(measured, sizeof measured, "%.1f MB/s", mb_per_s);
    snprintf(goal, sizeof goal, ">= %.0f MB/s", GOAL_MB_PER_S);
    snprintf(notes, sizeof notes, "%.0f records/s", (double)c->count / seconds);
    print_row(label, measured, goal, pass_or_miss(mb_per_s >= GOAL_MB_PER_S), notes);
}

/* (a) and (b), `runs` times each over one session; prints the medians. */
static void bench_pages(corpus *c, const options *opt, dala_session *sender,
                        dala_session *receiver)
{
    double *seal_s = must_alloc(opt->runs, sizeof *seal_s);
    double *open_s = must_alloc(opt->runs, sizeof *open_s);
    size_t sealed_bytes = 0;
    for (size_t r = 0; r < opt->runs; r++) {
        seal_s[r] = run_seal(c, opt, sender, &sealed_bytes);
        open_s[r] = run_open(c, opt, receiver);
    }
    print_throughput("encode+deflate+seal", c, median(seal_s, opt->runs));
    print_throughput("open+inflate+decode", c, median(open_s, opt->runs));
    double json_per = (double)c->json_bytes / (double)c->count;
    double sealed_per = (double)sealed_bytes / (double)c->count;
    double percent = 100.0 * sealed_per / json_per;
    char measured[32], goal[32], notes[64];
    snprintf(measured, sizeof measured, "%.1f%%", percent);
    snprintf(goal, sizeof goal, "<= %.0f%%", GOAL_RATIO_PERCENT);
    snprintf(notes, sizeof notes, "sealed %.1f B vs JSON %.1f B per record", sealed_per, json_per);
    print_row("sealed / JSON bytes", measured, goal, pass_or_miss(percent <= GOAL_RATIO_PERCENT),
              notes);
    free(seal_s);
    free(open_s);
}

/* --------------------------------------------------------------- delta */

/* One frame of DELTA_EDITS one-field edits of distinct records (1% of
 * 10,000), each based on the record's creation; prints bytes per edit. */
static void bench_delta(corpus *c, const options *opt, dala_session *sender)
{
    static gen_delta deltas[DELTA_EDITS];
    dala_change changes[DELTA_EDITS];
    dala_buf page = DALA_BUF_INIT, frame = DALA_BUF_INIT;
    dala_frame_header header = data_header(opt, DALA_COMPRESS_DEFLATE);
    records_gen gen;
    size_t json_bytes = 0, edits = c->count < DELTA_EDITS ? c->count : DELTA_EDITS;
    records_gen_init(&gen, opt->seed ^ UINT64_C(0xde17a));
    for (size_t i = 0; i < edits; i++) {
        const dala_change *created = &c->changes[i * (c->count / edits)];
        const gen_record *rec = &c->recs[i * (c->count / edits)];
        must(records_gen_delta(&gen, &deltas[i], rec, NULL, created->hlc,
                               created->hlc + DALA_HLC_MAKE(86400000, 0), DEVICE_ID), "delta");
        changes[i] = deltas[i].change;
        json_bytes += deltas[i].json_len;
    }
    must(dala_batch_encode(&page, GEN_SCHEMA_VERSION, 1, changes, edits), "encode delta");
    must(dala_session_seal(sender, &frame, &header, page.data, page.len), "seal delta");
    double per_edit = (double)frame.len / (double)edits;
    char label[64], measured[32], goal[32], notes[96];
    snprintf(label, sizeof label, "1%% delta (%zu edits, 1 frame)", edits);
    snprintf(measured, sizeof measured, "%.1f B/edit", per_edit);
    snprintf(goal, sizeof goal, "< %.0f B/edit", GOAL_DELTA_BYTES);
    snprintf(notes, sizeof notes, "sealed; encoded %.1f B, JSON %.1f B per edit",
             (double)page.len / (double)edits, (double)json_bytes / (double)edits);
    print_row(label, measured, goal, pass_or_miss(per_edit < GOAL_DELTA_BYTES), notes);
    dala_buf_free(&page);
    dala_buf_free(&frame);
}

/* ---------------------------------------------------------- raw deflate */

/* dala_deflate and dala_inflate of the encoded pages at `level`. */
static void bench_raw_deflate(const corpus *c, const options *opt, int level)
{
    double *deflate_s = must_alloc(opt->runs, sizeof *deflate_s);
    double *inflate_s = must_alloc(opt->runs, sizeof *inflate_s);
    dala_buf *packed = must_alloc(c->page_count, sizeof *packed);
    dala_buf plain = DALA_BUF_INIT;
    size_t packed_bytes = 0, encoded_bytes = 0;
    for (size_t r = 0; r < opt->runs; r++) {
        double start = now_seconds();
        packed_bytes = encoded_bytes = 0;
        for (size_t p = 0; p < c->page_count; p++) {
            dala_buf_reset(&packed[p]);
            must(dala_deflate(&packed[p], c->pages[p].data, c->pages[p].len, level), "deflate");
            packed_bytes += packed[p].len;
            encoded_bytes += c->pages[p].len;
        }
        deflate_s[r] = now_seconds() - start;
        start = now_seconds();
        for (size_t p = 0; p < c->page_count; p++) {
            dala_buf_reset(&plain);
            must(dala_inflate(&plain, packed[p].data, packed[p].len, DALA_MAX_BODY_BYTES), "inflate");
        }
        inflate_s[r] = now_seconds() - start;
    }
    double json_mb = (double)c->json_bytes / 1e6;
    printf("raw dala_deflate level %d of the encoded pages (%.1f B/record): %.1f B/record = "
           "%.1f%% of JSON; deflate %.1f MB/s, inflate %.1f MB/s of JSON\n",
           level, (double)encoded_bytes / (double)c->count, (double)packed_bytes / (double)c->count,
           100.0 * (double)packed_bytes / (double)c->json_bytes,
           json_mb / median(deflate_s, opt->runs), json_mb / median(inflate_s, opt->runs));
    for (size_t p = 0; p < c->page_count; p++) dala_buf_free(&packed[p]);
    dala_buf_free(&plain);
    free(packed);
    free(deflate_s);
    free(inflate_s);
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: bench_sync [--records N] [--page N] [--runs N] [--level 0-9] "
                    "[--seed N] [--chacha]\n");
    exit(2);
}

static options parse_options(int argc, char **argv)
{
    options opt = {10000, 1000, 7, -2, 1, DALA_SUITE_AES256GCM};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0) opt.records = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--page") == 0) opt.page = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--runs") == 0) opt.runs = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--level") == 0) opt.level = (int)bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--seed") == 0) opt.seed = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--chacha") == 0) opt.suite = DALA_SUITE_CHACHAPOLY;
        else usage();
    }
    if (opt.records == 0 || opt.page == 0 || opt.runs == 0 || opt.level > 9 ||
        opt.page > DALA_MAX_CHANGES_PER_BATCH)
        usage();
    return opt;
}

/* The record rules (dala_change_check) over every record, as the server
 * checks each change it applies: new records, no references looked up.
 * The generator's unit and officer codes are left out, as tablets leave
 * them to the server. Prints the median rate. */
static void bench_checks(const corpus *c, const options *opt)
{
    dala_change *checked = must_alloc(c->count, sizeof *checked);
    dala_field *fields = must_alloc(c->count * DALA_MAX_FIELDS_PER_CHANGE, sizeof *fields);
    size_t field_total = 0;
    for (size_t i = 0; i < c->count; i++) {
        checked[i] = c->changes[i];
        checked[i].fields = fields + i * DALA_MAX_FIELDS_PER_CHANGE;
        checked[i].field_count = 0;
        for (size_t f = 0; f < c->changes[i].field_count; f++)
            if (strcmp(c->changes[i].fields[f].name, "unit_id") && strcmp(c->changes[i].fields[f].name, "officer_id"))
                checked[i].fields[checked[i].field_count++] = c->changes[i].fields[f];
        field_total += checked[i].field_count;
    }
    dala_check_env env = {"2099-12-31", 0, 0, NULL, NULL, NULL, NULL};
    double *rates = must_alloc(opt->runs, sizeof *rates);
    for (size_t r = 0; r < opt->runs; r++) {
        double start = now_seconds();
        for (size_t i = 0; i < c->count; i++) {
            dala_invalid invalid;
            if (dala_change_check(&invalid, &checked[i], &env) != DALA_OK) {
                fprintf(stderr, "bench_sync: record %zu refused: %s.%s %s\n", i, invalid.table, invalid.field,
                        invalid.code);
                exit(1);
            }
        }
        rates[r] = (double)c->count / (now_seconds() - start);
    }
    double rate = median(rates, opt->runs);
    char measured[32], notes[96];
    snprintf(measured, sizeof measured, "%.0f /s", rate);
    snprintf(notes, sizeof notes, "%.2f us a change of %.1f fields; the rules of schema/domain/records.json",
             1e6 / rate, (double)field_total / (double)c->count);
    print_row("record rules checked", measured, ">= 100000 /s", pass_or_miss(rate >= 100000), notes);
    free(rates);
    free(fields);
    free(checked);
}

int main(int argc, char **argv)
{
    options opt = parse_options(argc, argv);
    dala_keypair device, server;
    dala_session *sender = NULL, *receiver = NULL;
    corpus c;
    memset(&c, 0, sizeof c);
    setvbuf(stdout, NULL, _IOLBF, 0);
    must(dala_keypair_generate(&device), "device key");
    must(dala_keypair_generate(&server), "server key");
    make_corpus(&c, &opt);
    printf("bench_sync: %zu records (seed %llu), pages of %zu changes, %s, median of %zu runs; "
           "MB = 10^6 bytes of the records' JSON (%.1f B/record)\n",
           c.count, (unsigned long long)opt.seed, opt.page,
           opt.suite == DALA_SUITE_AES256GCM ? "AES-256-GCM" : "ChaCha20-Poly1305", opt.runs,
           (double)c.json_bytes / (double)c.count);
    print_row("", "measured", "goal", "", "");
    handshake(&opt, &device, &server, &sender, &receiver, NULL, NULL);
    bench_pages(&c, &opt, sender, receiver);
    bench_checks(&c, &opt);
    bench_handshake(&opt, &device, &server);
    bench_delta(&c, &opt, sender);
    bench_raw_deflate(&c, &opt, 1);
    bench_raw_deflate(&c, &opt, 6);
    if (opt.level >= 0 && opt.level != 1 && opt.level != 6) bench_raw_deflate(&c, &opt, opt.level);
    dala_session_free(sender);
    dala_session_free(receiver);
    dala_keypair_wipe(&device);
    dala_keypair_wipe(&server);
    free_corpus(&c);
    return 0;
}
