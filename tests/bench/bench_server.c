/* bench_server.c - prints what a sync costs end to end: a real dala-server
 * started in this process (127.0.0.1:0, a fresh database in a temporary
 * folder, default worker threads, quiet), tablets played by libdala stores
 * enrolled with codes from the dala_admin_* API, beside the goals the sync
 * is held to.
 *
 * The organisation is a department with two units: unit A (officers of
 * devices A1, A2 and A3) and unit B (200 simulated devices). Records are
 * the generated home visits of tests/records_gen.h, put through
 * dala_record_put as an app would (without unit_id and officer_id, which
 * the server checks against the device). Setup (puts, enrolment) is not
 * timed; each timed figure is one dala_sync call.
 *
 *   1. A1 pushes 10,000 new records.                 goal < 0.3 s, wire <= 25% of JSON
 *   2. A2, same unit, pulls them (initial pull).     goal < 0.3 s, wire <= 25% of JSON
 *   3. A1 edits one field in 1% of them (100 records), then A1 syncs (push)
 *      and A2 syncs (pull).                          goal < 120 B per edited field each way
 *   4. A2 syncs with nothing to do: the first sync after opening the store
 *      (a handshake) and the next ones (DATA frames of the live session).
 *                                                    goal < 3 ms, one round trip
 *   5. Unit A grows to 100,000 records (90,000 more pushed raw by A3,
 *      tests/raw_client.h, in batches of 5,000), A2 and A1 pull them, and 3
 *      is repeated.                                  goal: within 1.5x of 10,000
 *   6. 200 devices of unit B, each with 5 new records, sync at once
 *      (threads released by a barrier).              goal: no errors
 *   7. A unit head of unit A (100,000 records) signs in to the
 *      supervisors' API and asks for pages of 50 of the record list: the
 *      first, one 200 pages down by the cursor, filtered by risk and
 *      state, and searched for text (tests/bench/bench_web.c).
 *                                                    goal: every page < 50 ms
 *
 * Wire bytes are the sealed frames dala_sync counts (dala_sync_stats),
 * compared with the JSON a plain REST client would send for the same
 * records (records_gen's JSON, with id, unit_id and officer_id), as in
 * bench_sync. The figure of record for 4 is the handshake: a device that
 * syncs on a schedule (minutes apart) is past its 100 s session each time,
 * so its no-op syncs all open with a handshake; DATA frames serve only
 * syncs within 100 s of the last.
 *
 * Figures 1-3 are medians over --runs rounds (3 by default), each on a
 * fresh server and fresh stores; 3 and 5 take --delta-runs deltas per
 * round (5); 4 is the median of --noop syncs (50) and --handshakes
 * reopenings (21); 5 and 6 run once, on the last round's server. The
 * bench only prints: no timing is ever asserted. Files live in a temporary
 * folder ($TMPDIR or /tmp), removed at the end.
 *
 * usage: bench_server [--records N] [--extra N] [--runs N] [--delta-runs N]
 *                     [--noop N] [--handshakes N] [--devices N] [--threads N]
 *                     [--seed N] [--keep]
 * (--keep leaves the temporary folder and its databases for a look.)
 */
#include "dala_sync.h" /* before dala.h: both declare the result codes */

#include "dala.h"
#include "dala_server.h"
#include "raw_client.h"
#include "bench/bench_common.h"
#include "bench/bench_web.h"
#include "records_gen.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GOAL_SECONDS 0.3
#define GOAL_RATIO_PERCENT 25.0
#define GOAL_DELTA_BYTES 120.0
#define GOAL_NOOP_MS 3.0
#define GOAL_SCALE_RATIO 1.5
#define DELTA_PERCENT 1      /* a delta edits this % of the records */
#define RAW_BATCH 5000       /* changes per raw push of the 100k setup */
#define RECORDS_PER_DEVICE 5 /* new records per unit B device */
#define CODE_BYTES 32

typedef struct options {
    size_t records;    /* pushed by A1, pulled by A2 (1, 2, 3) */
    size_t extra;      /* added to unit A for 5 */
    size_t runs;       /* rounds of 1-3 */
    size_t delta_runs; /* deltas per round, and at 100k */
    size_t noop;       /* no-op syncs in session (4) */
    size_t handshakes; /* no-op syncs after reopening the store (4) */
    size_t devices;    /* unit B devices syncing at once (6) */
    int threads;       /* server worker threads; 0: the default */
    int keep;          /* leave the temporary folder */
    uint64_t seed;
} options;

/* A running server with its organisation and the two SDK stores of unit A. */
typedef struct world {
    char dir[320];
    char db_path[400];
    char url[64];
    dala_server *server;
    int port;
    int threads;
    uint32_t server_page; /* the server's largest pull page */
    int64_t unit_a, unit_b, officer_a1, officer_a2, officer_a3, officer_b;
    dala_store *a1, *a2;
    char a1_path[400], a2_path[400];
} world;

/* The records of unit A: the JSON each put sends, and the generated
 * records the deltas edit (kept only for the indexes a delta touches). */
typedef struct corpus {
    size_t count;       /* A1's records */
    size_t total;       /* with the extra ones of 5 */
    char **put_json;    /* [count] */
    char (*ids)[DALA_ID_TEXT_BYTES]; /* [count] */
    size_t json_bytes;  /* of the records' own JSON (records_gen), the yardstick */
    size_t extra_json_bytes; /* the same, of the extra records */
    gen_record **kept;  /* [total], NULL where no delta edits */
} corpus;

/* What the exit handler cleans up. */
static char temp_root[256];
static world *live_world;
static int keep_files; /* --keep: leave the folder, to look at the databases */

/* ------------------------------------------------------------ helpers */

/* The nearest-rank percentile of `n` sorted values. */
static double percentile(const double *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

/* ------------------------------------------------------- temp folder */

static void world_stop(world *w);

/* At exit, also after a failure: stop the server, remove the files. */
static void clean_up(void)
{
    if (live_world) world_stop(live_world);
    if (keep_files) note("files kept in %s", temp_root);
    else remove_tree(temp_root);
}

/* --------------------------------------------------------------- JSON */

static void append(dala_buf *out, const char *text, size_t len)
{
    must(dala_buf_append(out, text, len), "build JSON");
}

static void append_string(dala_buf *out, const uint8_t *bytes, size_t len)
{
    append(out, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = bytes[i];
        char escaped[8];
        if (c == '"' || c == '\\') {
            escaped[0] = '\\';
            escaped[1] = (char)c;
            append(out, escaped, 2);
        } else if (c == '\n') {
            append(out, "\\n", 2);
        } else if (c < 0x20) {
            snprintf(escaped, sizeof escaped, "\\u%04x", c);
            append(out, escaped, 6);
        } else {
            append(out, (const char *)&bytes[i], 1);
        }
    }
    append(out, "\"", 1);
}

/* Appends "name":value, with a comma first unless it is the first member. */
static void append_member(dala_buf *out, const dala_field *field)
{
    char number[64];
    if (out->len > 1) append(out, ",", 1);
    append_string(out, (const uint8_t *)field->name, strlen(field->name));
    append(out, ":", 1);
    switch (field->value.type) {
    case DALA_VALUE_INT:
        append(out, number, (size_t)snprintf(number, sizeof number, "%lld", (long long)field->value.integer));
        break;
    case DALA_VALUE_REAL: /* always with a point, so the SDK reads a real */
        append(out, number, (size_t)snprintf(number, sizeof number, "%.6f", field->value.real));
        break;
    case DALA_VALUE_TEXT: append_string(out, field->value.bytes, field->value.len); break;
    default: append(out, "null", 4); break;
    }
}

/* The JSON object an app would pass to dala_record_put for `rec`: every
 * field but unit_id and officer_id, which the device's enrolment decides. */
static char *put_json_of(const gen_record *rec)
{
    dala_buf json = DALA_BUF_INIT;
    append(&json, "{", 1);
    for (size_t i = 0; i < rec->field_count; i++) {
        const char *name = rec->fields[i].name;
        if (strcmp(name, "unit_id") == 0 || strcmp(name, "officer_id") == 0) continue;
        append_member(&json, &rec->fields[i]);
    }
    append(&json, "}", 2); /* with the NUL */
    return (char *)json.data;
}

/* ------------------------------------------------------------- corpus */

/* Which records the deltas edit. A delta is 1% of the `count` records
 * (100 of 10,000), one field each, and stays that size at 100k. At
 * `count` records, delta d edits every (count / edits)-th record from
 * index d; at `total`, every (total / edits)-th from index
 * (count / edits) / 2 + d, so no record is edited twice. */
static size_t delta_edits(const corpus *c)
{
    size_t edits = c->count * DELTA_PERCENT / 100;
    return edits ? edits : 1;
}

static size_t delta_stride(const corpus *c, int big)
{
    return (big ? c->total : c->count) / delta_edits(c);
}

static size_t delta_first(const corpus *c, size_t d, int big)
{
    return big ? delta_stride(c, 0) / 2 + d : d;
}

static int is_edited(const corpus *c, size_t index, size_t delta_runs)
{
    size_t small = index % delta_stride(c, 0), big = index % delta_stride(c, 1);
    return (index < c->count && small < delta_runs) ||
           (big >= delta_first(c, 0, 1) && big < delta_first(c, delta_runs, 1));
}

/* Keeps `rec` if a delta edits it; frees it otherwise. */
static void keep_or_free(corpus *c, size_t index, gen_record *rec, size_t delta_runs)
{
    if (is_edited(c, index, delta_runs)) {
        c->kept[index] = must_alloc(1, sizeof *rec);
        *c->kept[index] = *rec; /* values point into the record's storage, which moves along */
        memset(rec, 0, sizeof *rec);
    } else {
        gen_record_free(rec);
    }
}

/* The seed of generator stream `s`: stream 0 is A1's records (the same as
 * bench_sync's), streams 1.. are the extra records of 5. Each stream
 * covers about 300 days from early 2024, so no visit date lies in the
 * future. The seeds are drawn, not counted: the generator's state starts
 * at its seed and steps by splitmix64's constant, so seeds that differ by
 * multiples of it would give the same records shifted by a few draws. */
static uint64_t stream_seed(const options *opt, size_t s)
{
    records_gen seeds;
    uint64_t seed = opt->seed;
    records_gen_init(&seeds, opt->seed ^ UINT64_C(0x5eed5eed5eed));
    for (size_t i = 0; i < s; i++) seed = records_gen_u64(&seeds);
    return seed;
}

static void make_corpus(corpus *c, const options *opt)
{
    records_gen gen;
    memset(c, 0, sizeof *c);
    c->count = opt->records;
    c->total = opt->records + opt->extra;
    c->put_json = must_alloc(c->count, sizeof *c->put_json);
    c->ids = must_alloc(c->count, sizeof *c->ids);
    c->kept = must_alloc(c->total, sizeof *c->kept);
    records_gen_init(&gen, stream_seed(opt, 0));
    for (size_t i = 0; i < c->count; i++) {
        gen_record rec;
        must(records_gen_next(&gen, &rec), "generate a record");
        c->put_json[i] = put_json_of(&rec);
        memcpy(c->ids[i], rec.id_text, DALA_ID_TEXT_BYTES);
        c->json_bytes += rec.json_len;
        keep_or_free(c, i, &rec, opt->delta_runs);
    }
}

static void free_corpus(corpus *c)
{
    for (size_t i = 0; i < c->count; i++) free(c->put_json[i]);
    for (size_t i = 0; i < c->total; i++) {
        if (!c->kept[i]) continue;
        gen_record_free(c->kept[i]);
        free(c->kept[i]);
    }
    free(c->put_json);
    free(c->ids);
    free(c->kept);
}

/* -------------------------------------------------------------- world */

static void enrol_codes(world *w, char (*codes)[CODE_BYTES], size_t n, int64_t user, int64_t unit)
{
    dala_admin *admin;
    must(dala_admin_open(&admin, w->db_path), "open administration");
    for (size_t i = 0; i < n; i++)
        must(dala_admin_code_new(codes[i], admin, user, unit, 3600), "make an enrolment code");
    dala_admin_close(admin);
}

/* Opens `path` and enrols it with a fresh code for `user` in `unit`. */
static dala_store *open_enrolled(world *w, const char *path, int64_t user, int64_t unit)
{
    char code[1][CODE_BYTES];
    dala_store *store;
    enrol_codes(w, code, 1, user, unit);
    must(dala_store_open(&store, path), "open a store");
    must(dala_store_enroll(store, w->url, code[0], NULL), "enrol a store");
    return store;
}

/* A fresh folder and database, the organisation, the server, and the
 * enrolled stores of A1 and A2. */
static void world_start(world *w, const options *opt, size_t round)
{
    memset(w, 0, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "%s/round-%zu", temp_root, round + 1);
    if (mkdir(w->dir, 0700) != 0) fail("mkdir %s: %s", w->dir, strerror(errno));
    snprintf(w->db_path, sizeof w->db_path, "%s/central.db", w->dir);
    snprintf(w->a1_path, sizeof w->a1_path, "%s/a1.db", w->dir);
    snprintf(w->a2_path, sizeof w->a2_path, "%s/a2.db", w->dir);
    dala_admin *admin;
    int64_t department;
    must(dala_admin_open(&admin, w->db_path), "open administration");
    must(dala_admin_unit_add(&department, admin, 0, "department", "Astana PD"), "add department");
    must(dala_admin_unit_add(&w->unit_a, admin, department, "unit", "Esil district unit"), "add unit A");
    must(dala_admin_unit_add(&w->unit_b, admin, department, "unit", "Saryarka district unit"), "add unit B");
    must(dala_admin_user_add(&w->officer_a1, admin, "a.nurlanova", "Aigul Nurlanova", "inspector",
                             w->unit_a), "add officer");
    must(dala_admin_user_add(&w->officer_a2, admin, "d.sadykova", "Dana Sadykova", "inspector",
                             w->unit_a), "add officer");
    must(dala_admin_user_add(&w->officer_a3, admin, "g.abenova", "Gulnar Abenova", "inspector",
                             w->unit_a), "add officer");
    must(dala_admin_user_add(&w->officer_b, admin, "m.ivanova", "Marina Ivanova", "inspector",
                             w->unit_b), "add officer");
    dala_admin_close(admin);

    dala_server_options server_options = DALA_SERVER_OPTIONS_INIT;
    server_options.db_path = w->db_path;
    server_options.listen = "127.0.0.1:0";
    server_options.quiet = 1;
    if (getenv("DALA_BENCH_LOG")) { /* the access log, with ms per request */
        server_options.quiet = 0;
        server_options.access_log = getenv("DALA_BENCH_LOG");
    }
    if (opt->threads > 0) server_options.num_threads = opt->threads;
    w->threads = server_options.num_threads;
    w->server_page = server_options.max_pull_changes;
    must(dala_server_start(&w->server, &server_options), "start dala-server");
    live_world = w;
    w->port = dala_server_port(w->server);
    snprintf(w->url, sizeof w->url, "http://127.0.0.1:%d", w->port);
    w->a1 = open_enrolled(w, w->a1_path, w->officer_a1, w->unit_a);
    w->a2 = open_enrolled(w, w->a2_path, w->officer_a2, w->unit_a);
}

static void world_stop(world *w)
{
    dala_store_close(w->a1);
    dala_store_close(w->a2);
    w->a1 = w->a2 = NULL;
    dala_server_stop(w->server);
    w->server = NULL;
    if (live_world == w) live_world = NULL;
}

/* ------------------------------------------------------------ syncing */

/* One dala_sync, timed; fails the bench on an error. */
static double timed_sync(dala_sync_stats *stats, dala_store *store, const char *what)
{
    double start = now_seconds();
    int rc = dala_sync(stats, store, NULL);
    double elapsed = now_seconds() - start;
    must(rc, what);
    if (stats->rejected)
        fail("%s: the server refused %llu changes", what, (unsigned long long)stats->rejected);
    return elapsed;
}

/* A1 edits one field of each record that delta `d` touches: `big`
 * chooses the 100k set. Returns the number of edits. */
static size_t put_delta(world *w, const corpus *c, records_gen *gen, size_t d, int big)
{
    size_t n = big ? c->total : c->count, stride = delta_stride(c, big), edits = 0;
    for (size_t index = delta_first(c, d, big); index < n && edits < delta_edits(c);
         index += stride) {
        const gen_record *rec = c->kept[index];
        gen_delta delta;
        dala_buf json = DALA_BUF_INIT;
        must(records_gen_delta(gen, &delta, rec, NULL, 1, 2, 0), "make an edit");
        append(&json, "{", 1);
        append_member(&json, &delta.field);
        append(&json, "}", 2);
        must(dala_record_put(NULL, w->a1, GEN_TABLE, rec->id_text, (const char *)json.data),
             "put an edit");
        dala_buf_free(&json);
        edits++;
    }
    return edits;
}

/* What one delta cost: A1's push and A2's pull. */
typedef struct delta_sample {
    double push_s, pull_s;
    double push_bytes_per_edit, pull_bytes_per_edit;
    uint64_t push_trips, pull_trips;
} delta_sample;

static delta_sample run_delta(world *w, const corpus *c, records_gen *gen, size_t d, int big)
{
    dala_sync_stats push, pull;
    delta_sample s;
    size_t edits = put_delta(w, c, gen, d, big);
    s.push_s = timed_sync(&push, w->a1, "A1 pushes a delta");
    s.pull_s = timed_sync(&pull, w->a2, "A2 pulls a delta");
    if (push.acked != edits || pull.pulled != edits)
        fail("delta of %zu edits: %llu acknowledged, %llu pulled", edits,
             (unsigned long long)push.acked, (unsigned long long)pull.pulled);
    s.push_bytes_per_edit = (double)push.bytes_sent / (double)edits;
    s.pull_bytes_per_edit = (double)pull.bytes_received / (double)edits;
    s.push_trips = push.round_trips;
    s.pull_trips = pull.round_trips;
    return s;
}

/* The medians of a set of delta samples. */
typedef struct delta_figures {
    double push_ms, pull_ms, push_bytes, pull_bytes;
    uint64_t push_trips, pull_trips;
    size_t samples;
} delta_figures;

static delta_figures delta_medians(const delta_sample *samples, size_t n)
{
    double *v = must_alloc(n, sizeof *v);
    delta_figures f;
    memset(&f, 0, sizeof f);
    f.samples = n;
    for (size_t i = 0; i < n; i++) v[i] = samples[i].push_s * 1e3;
    f.push_ms = median(v, n);
    for (size_t i = 0; i < n; i++) v[i] = samples[i].pull_s * 1e3;
    f.pull_ms = median(v, n);
    for (size_t i = 0; i < n; i++) v[i] = samples[i].push_bytes_per_edit;
    f.push_bytes = median(v, n);
    for (size_t i = 0; i < n; i++) v[i] = samples[i].pull_bytes_per_edit;
    f.pull_bytes = median(v, n);
    for (size_t i = 0; i < n; i++) {
        if (samples[i].push_trips > f.push_trips) f.push_trips = samples[i].push_trips;
        if (samples[i].pull_trips > f.pull_trips) f.pull_trips = samples[i].pull_trips;
    }
    free(v);
    return f;
}

/* --------------------------------------------------- 1, 2, 3: rounds */

typedef struct round_figures {
    double *push_s, *pull_s, *push_percent, *pull_percent;
    uint64_t push_trips, pull_trips;
    delta_sample *deltas;
    size_t delta_count;
    double put_s; /* setup: the 10,000 puts of the last round */
} round_figures;

/* One round: A1 puts the records (setup), pushes them, A2 pulls them,
 * then `delta_runs` deltas. */
static void run_round(world *w, const corpus *c, const options *opt, size_t round,
                      round_figures *f, records_gen *delta_gen)
{
    dala_sync_stats push, pull;
    double start = now_seconds();
    for (size_t i = 0; i < c->count; i++)
        must(dala_record_put(NULL, w->a1, GEN_TABLE, c->ids[i], c->put_json[i]), "put a record");
    f->put_s = now_seconds() - start;
    note("round %zu: %zu puts on A1 in %.1f s (setup, %.2f ms each)", round + 1, c->count, f->put_s,
         f->put_s * 1e3 / (double)c->count);
    f->push_s[round] = timed_sync(&push, w->a1, "A1 pushes the records");
    f->pull_s[round] = timed_sync(&pull, w->a2, "A2 pulls the records");
    if (push.acked != c->count || pull.pulled != c->count)
        fail("%zu records: %llu acknowledged, %llu pulled", c->count,
             (unsigned long long)push.acked, (unsigned long long)pull.pulled);
    f->push_percent[round] = 100.0 * (double)push.bytes_sent / (double)c->json_bytes;
    f->pull_percent[round] = 100.0 * (double)pull.bytes_received / (double)c->json_bytes;
    f->push_trips = push.round_trips;
    f->pull_trips = pull.round_trips;
    for (size_t d = 0; d < opt->delta_runs; d++)
        f->deltas[f->delta_count++] = run_delta(w, c, delta_gen, d, 0);
    note("round %zu: push %.3f s, pull %.3f s, %zu deltas", round + 1, f->push_s[round],
         f->pull_s[round], opt->delta_runs);
}

static void report_rounds(const corpus *c, const options *opt, round_figures *f,
                          delta_figures *small)
{
    char label[64], measured[32], goal[32], notes[160], n[32];
    double push_s = median(f->push_s, opt->runs), pull_s = median(f->pull_s, opt->runs);
    double push_pc = median(f->push_percent, opt->runs), pull_pc = median(f->pull_percent, opt->runs);
    grouped(n, sizeof n, c->count);

    fill(label, sizeof label, "1. push %s new (A1)", n);
    fill(measured, sizeof measured, "%.3f s", push_s);
    fill(goal, sizeof goal, "< %.1f s", GOAL_SECONDS);
    fill(notes, sizeof notes, "median of %zu runs; %llu round trips; %.0f records/s", opt->runs,
         (unsigned long long)f->push_trips, (double)c->count / push_s);
    add_row(label, measured, goal, pass_or_miss(push_s < GOAL_SECONDS), notes);
    fill(measured, sizeof measured, "%.1f%%", push_pc);
    fill(goal, sizeof goal, "<= %.0f%%", GOAL_RATIO_PERCENT);
    fill(notes, sizeof notes, "bytes sent / JSON bytes (%.1f B/record sent), median of %zu runs",
         push_pc / 100.0 * (double)c->json_bytes / (double)c->count, opt->runs);
    add_row("   push wire bytes", measured, goal, pass_or_miss(push_pc <= GOAL_RATIO_PERCENT), notes);

    fill(label, sizeof label, "2. initial pull of %s (A2)", n);
    fill(measured, sizeof measured, "%.3f s", pull_s);
    fill(goal, sizeof goal, "< %.1f s", GOAL_SECONDS);
    fill(notes, sizeof notes, "median of %zu runs; %llu round trips; %.0f records/s", opt->runs,
         (unsigned long long)f->pull_trips, (double)c->count / pull_s);
    add_row(label, measured, goal, pass_or_miss(pull_s < GOAL_SECONDS), notes);
    fill(measured, sizeof measured, "%.1f%%", pull_pc);
    fill(goal, sizeof goal, "<= %.0f%%", GOAL_RATIO_PERCENT);
    fill(notes, sizeof notes, "bytes received / JSON bytes (%.1f B/record received), median of %zu runs",
         pull_pc / 100.0 * (double)c->json_bytes / (double)c->count, opt->runs);
    add_row("   pull wire bytes", measured, goal, pass_or_miss(pull_pc <= GOAL_RATIO_PERCENT), notes);

    *small = delta_medians(f->deltas, f->delta_count);
    size_t edits = delta_edits(c);
    fill(label, sizeof label, "3. %d%% delta push at %s (A1)", DELTA_PERCENT, n);
    fill(measured, sizeof measured, "%.1f ms", small->push_ms);
    fill(notes, sizeof notes, "%zu one-field edits; median of %zu (%zu runs x %zu); %llu round trip(s)",
         edits, small->samples, opt->runs, opt->delta_runs, (unsigned long long)small->push_trips);
    add_row(label, measured, "-", "", notes);
    fill(label, sizeof label, "   %d%% delta pull at %s (A2)", DELTA_PERCENT, n);
    fill(measured, sizeof measured, "%.1f ms", small->pull_ms);
    fill(notes, sizeof notes, "median of %zu; %llu round trip(s)", small->samples,
         (unsigned long long)small->pull_trips);
    add_row(label, measured, "-", "", notes);
    fill(measured, sizeof measured, "%.1f B/edit", small->push_bytes);
    fill(goal, sizeof goal, "< %.0f B/edit", GOAL_DELTA_BYTES);
    add_row("   delta push wire bytes", measured, goal,
            pass_or_miss(small->push_bytes < GOAL_DELTA_BYTES), "bytes sent / edited fields, whole sync");
    fill(measured, sizeof measured, "%.1f B/edit", small->pull_bytes);
    add_row("   delta pull wire bytes", measured, goal,
            pass_or_miss(small->pull_bytes < GOAL_DELTA_BYTES),
            "bytes received / edited fields, whole sync");
}

/* --------------------------------------------------------- 4: no-ops */

static void bench_noop(world *w, const options *opt)
{
    double *handshake_ms = must_alloc(opt->handshakes, sizeof *handshake_ms);
    double *session_ms = must_alloc(opt->noop, sizeof *session_ms);
    uint64_t handshake_trips = 0, session_trips = 0, sent = 0, received = 0;
    for (size_t i = 0; i < opt->handshakes; i++) {
        dala_sync_stats stats;
        dala_store_close(w->a2);
        w->a2 = NULL;
        must(dala_store_open(&w->a2, w->a2_path), "reopen A2");
        handshake_ms[i] = timed_sync(&stats, w->a2, "A2 syncs after opening") * 1e3;
        if (stats.round_trips > handshake_trips) handshake_trips = stats.round_trips;
        if (stats.pulled) fail("a no-op sync pulled %llu changes", (unsigned long long)stats.pulled);
    }
    for (size_t i = 0; i < opt->noop; i++) {
        dala_sync_stats stats;
        session_ms[i] = timed_sync(&stats, w->a2, "A2 syncs again") * 1e3;
        if (stats.round_trips > session_trips) session_trips = stats.round_trips;
        sent = stats.bytes_sent;
        received = stats.bytes_received;
        if (stats.pulled) fail("a no-op sync pulled %llu changes", (unsigned long long)stats.pulled);
    }
    char measured[32], goal[32], notes[160];
    double handshake = median(handshake_ms, opt->handshakes), session = median(session_ms, opt->noop);
    fill(goal, sizeof goal, "< %.0f ms", GOAL_NOOP_MS);
    fill(measured, sizeof measured, "%.2f ms", handshake);
    fill(notes, sizeof notes, "FIGURE OF RECORD: first sync after opening the store (Noise KK "
         "handshake); median of %zu; %llu round trip(s)", opt->handshakes,
         (unsigned long long)handshake_trips);
    add_row("4. no-op sync, handshake (A2)", measured, goal, pass_or_miss(handshake < GOAL_NOOP_MS),
            notes);
    fill(measured, sizeof measured, "%.2f ms", session);
    fill(notes, sizeof notes, "next syncs within 100 s (session DATA frames); median of %zu; "
         "%llu round trip(s); %llu B out, %llu B in", opt->noop, (unsigned long long)session_trips,
         (unsigned long long)sent, (unsigned long long)received);
    add_row("   no-op sync, session (A2)", measured, goal, pass_or_miss(session < GOAL_NOOP_MS), notes);
    free(handshake_ms);
    free(session_ms);
}

/* ------------------------------------------- 8: the sealed store (issue 13) */

#define GOAL_SEALED_SLOWER_PERCENT 15.0
#define GOAL_SEALED_PUT_MS 1.0
#define SEALED_PUTS 300

/* The app's keystore in the bench: a fixed mask (the bench measures the
 * pages' sealing, not a keystore). */
static int bench_wrap(void *context, const uint8_t *data_key, uint8_t *wrapped, size_t *len)
{
    (void)context;
    for (int i = 0; i < 32; i++) wrapped[i] = data_key[i] ^ 0x5c;
    *len = 32;
    return DALA_OK;
}

static int bench_unwrap(void *context, const uint8_t *wrapped, size_t len, uint8_t *data_key)
{
    (void)context;
    if (len != 32) return DALA_EAUTH;
    for (int i = 0; i < 32; i++) data_key[i] = wrapped[i] ^ 0x5c;
    return DALA_OK;
}

/* A fresh store of unit A, plaintext or sealed, enrolled. */
static dala_store *open_fresh(world *w, const char *path, int sealed)
{
    static const dala_key_provider provider = {DALA_KEY_PROVIDER_VERSION, bench_wrap, bench_unwrap, NULL};
    const dala_store_key key = {DALA_STORE_KEY_VERSION, NULL, &provider, 0};
    char code[1][CODE_BYTES];
    dala_store *store;
    enrol_codes(w, code, 1, w->officer_a3, w->unit_a);
    must(sealed ? dala_store_open_keyed(&store, path, &key) : dala_store_open(&store, path), "open a fresh store");
    must(dala_store_enroll(store, w->url, code[0], NULL), "enrol a fresh store");
    return store;
}

/* Plaintext and sealed stores alternate in one run: the initial pull of
 * unit A's records into a fresh store, then durable puts (each its own
 * COMMIT, synchronous=FULL) timed one by one. */
static void bench_sealed(world *w, const corpus *c, const options *opt)
{
    double *pull_s[2], *put_ms[2];
    for (int m = 0; m < 2; m++) {
        pull_s[m] = must_alloc(opt->runs, sizeof(double));
        put_ms[m] = must_alloc(opt->runs * SEALED_PUTS, sizeof(double));
    }
    for (size_t r = 0; r < opt->runs; r++)
        for (int sealed = 0; sealed < 2; sealed++) {
            char path[sizeof w->dir + 40];
            snprintf(path, sizeof path, "%s/fresh-%zu-%s.db", w->dir, r, sealed ? "sealed" : "plain");
            dala_store *store = open_fresh(w, path, sealed);
            dala_sync_stats stats;
            pull_s[sealed][r] = timed_sync(&stats, store, "a fresh store pulls unit A");
            if (stats.pulled < c->count) fail("a fresh store pulled %llu of %zu", (unsigned long long)stats.pulled, c->count);
            for (size_t i = 0; i < SEALED_PUTS; i++) {
                double start = now_seconds();
                must(dala_record_put(NULL, store, GEN_TABLE, NULL, c->put_json[i % c->count]), "a durable put");
                put_ms[sealed][r * SEALED_PUTS + i] = (now_seconds() - start) * 1e3;
            }
            dala_store_close(store);
        }
    double pull_plain = median(pull_s[0], opt->runs), pull_sealed = median(pull_s[1], opt->runs);
    double put_plain = median(put_ms[0], opt->runs * SEALED_PUTS), put_sealed = median(put_ms[1], opt->runs * SEALED_PUTS);
    double pull_slower = (pull_sealed / pull_plain - 1) * 100, put_slower = (put_sealed / put_plain - 1) * 100;
    char measured[32], goal[32], notes[200];
    fill(measured, sizeof measured, "%+.1f%%", pull_slower);
    fill(goal, sizeof goal, "<= %.0f%% slower", GOAL_SEALED_SLOWER_PERCENT);
    fill(notes, sizeof notes, "initial pull of %zu into a fresh store: sealed %.3f s, plaintext %.3f s; medians of %zu, "
         "alternating", c->count, pull_sealed, pull_plain, opt->runs);
    add_row("8. sealed store: pull", measured, goal, pass_or_miss(pull_slower <= GOAL_SEALED_SLOWER_PERCENT), notes);
    fill(measured, sizeof measured, "%+.1f%%", put_slower);
    fill(notes, sizeof notes, "durable put (own COMMIT, synchronous=FULL): sealed %.3f ms (%.0f/s), plaintext %.3f ms "
         "(%.0f/s); medians of %zu", put_sealed, 1e3 / put_sealed, put_plain, 1e3 / put_plain, opt->runs * SEALED_PUTS);
    add_row("   sealed store: put", measured, goal, pass_or_miss(put_slower <= GOAL_SEALED_SLOWER_PERCENT), notes);
    fill(measured, sizeof measured, "%.3f ms", put_sealed);
    fill(goal, sizeof goal, "< %.0f ms", GOAL_SEALED_PUT_MS);
    add_row("   sealed store: put median", measured, goal, pass_or_miss(put_sealed < GOAL_SEALED_PUT_MS),
            "the same puts, the sealed store's median on its own");
    for (int m = 0; m < 2; m++) {
        free(pull_s[m]);
        free(put_ms[m]);
    }
}

/* ------------------------------------------------------ 5: at 100,000 */

/* Sets a generated record's unit_id and officer_id (text codes in the
 * generator, "ast-01-wpu") to the device's ids, as the schema has them. */
static void claim_for(gen_record *rec, int64_t unit, int64_t officer)
{
    for (size_t i = 0; i < rec->field_count; i++) {
        dala_value *value = &rec->fields[i].value;
        int is_unit = strcmp(rec->fields[i].name, "unit_id") == 0;
        if (!is_unit && strcmp(rec->fields[i].name, "officer_id") != 0) continue;
        memset(value, 0, sizeof *value);
        value->type = DALA_VALUE_INT;
        value->integer = is_unit ? unit : officer;
    }
}

/* Device A3 (a raw client) pushes the extra records in batches of
 * RAW_BATCH; returns seconds spent in raw_push (generation not counted). */
static double raw_load(world *w, corpus *c, const options *opt)
{
    char code[1][CODE_BYTES];
    raw_device a3;
    enrol_codes(w, code, 1, w->officer_a3, w->unit_a);
    if (raw_enroll(&a3, w->port, code[0]) != 0) fail("enrol device A3 (raw): refused or unreachable");
    gen_record *recs = must_alloc(RAW_BATCH, sizeof *recs);
    dala_change *changes = must_alloc(RAW_BATCH, sizeof *changes);
    uint64_t hlc = DALA_HLC_MAKE(dala_wall_clock_ms(), 0), batch_seq = 0;
    size_t index = c->count, stream = 0, in_stream = c->count;
    records_gen gen;
    double pushing = 0;
    while (index < c->total) {
        size_t n = 0;
        for (; n < RAW_BATCH && index + n < c->total; n++) {
            if (in_stream == c->count) { /* a new stream every `count` records */
                records_gen_init(&gen, stream_seed(opt, ++stream));
                in_stream = 0;
            }
            must(records_gen_next(&gen, &recs[n]), "generate a record");
            in_stream++;
            claim_for(&recs[n], w->unit_a, w->officer_a3);
            c->extra_json_bytes += recs[n].json_len;
            gen_record_change(&changes[n], &recs[n], hlc++, a3.id);
        }
        dala_buf body = DALA_BUF_INIT;
        dala_sync_response response;
        memset(&response, 0, sizeof response);
        double start = now_seconds();
        int status = raw_push(w->port, &a3, ++batch_seq, changes, n, &body, &response);
        pushing += now_seconds() - start;
        if (status != 200 || response.acked_batch_seq != batch_seq || response.rejected_count)
            fail("raw push of batch %llu: HTTP %d, acknowledged %llu, %zu refused%s%.*s",
                 (unsigned long long)batch_seq, status, (unsigned long long)response.acked_batch_seq,
                 response.rejected_count, response.rejected_count ? ", the first: " : "",
                 response.rejected_count ? (int)response.rejected[0].reason_len : 0,
                 response.rejected_count ? response.rejected[0].reason : "");
        dala_sync_response_clear(&response);
        dala_buf_free(&body);
        for (size_t i = 0; i < n; i++) keep_or_free(c, index + i, &recs[i], opt->delta_runs);
        index += n;
    }
    dala_keypair_wipe(&a3.keys);
    free(recs);
    free(changes);
    return pushing;
}

static void bench_scale(world *w, corpus *c, const options *opt, records_gen *delta_gen,
                        const delta_figures *small)
{
    char label[64], measured[32], goal[32], notes[160], n_extra[32], n_total[32], n_small[32];
    dala_sync_stats a2_pull, a1_pull;
    grouped(n_extra, sizeof n_extra, opt->extra);
    grouped(n_total, sizeof n_total, c->total);
    grouped(n_small, sizeof n_small, c->count);

    double raw_s = raw_load(w, c, opt);
    note("%s records pushed raw by A3 in %.1f s (%.0f records/s)", n_extra, raw_s,
         (double)opt->extra / raw_s);
    double a2_s = timed_sync(&a2_pull, w->a2, "A2 pulls the extra records");
    double a1_s = timed_sync(&a1_pull, w->a1, "A1 pulls the extra records");
    note("A2 pulled %llu changes in %.2f s; A1 %llu in %.2f s", (unsigned long long)a2_pull.pulled,
         a2_s, (unsigned long long)a1_pull.pulled, a1_s);
    if (a2_pull.pulled != opt->extra || a1_pull.pulled != opt->extra)
        fail("%zu records pushed raw, but A2 pulled %llu changes and A1 %llu", opt->extra,
             (unsigned long long)a2_pull.pulled, (unsigned long long)a1_pull.pulled);

    fill(label, sizeof label, "5. setup: raw push of %s (A3)", n_extra);
    fill(measured, sizeof measured, "%.2f s", raw_s);
    fill(notes, sizeof notes, "information; %.0f records/s applied, batches of %d, one handshake each",
         (double)opt->extra / raw_s, RAW_BATCH);
    add_row(label, measured, "-", "", notes);
    fill(label, sizeof label, "   pull of %s more (A2)", n_extra);
    fill(measured, sizeof measured, "%.2f s", a2_s);
    fill(notes, sizeof notes, "information; one run; %llu round trips; %.0f records/s; %.1f%% of JSON",
         (unsigned long long)a2_pull.round_trips, (double)a2_pull.pulled / a2_s,
         100.0 * (double)a2_pull.bytes_received / (double)c->extra_json_bytes);
    add_row(label, measured, "-", "", notes);

    delta_sample *samples = must_alloc(opt->delta_runs, sizeof *samples);
    for (size_t d = 0; d < opt->delta_runs; d++) samples[d] = run_delta(w, c, delta_gen, d, 1);
    delta_figures big = delta_medians(samples, opt->delta_runs);
    free(samples);

    double push_ratio = big.push_ms / small->push_ms, pull_ratio = big.pull_ms / small->pull_ms;
    fill(label, sizeof label, "   same delta push at %s (A1)", n_total);
    fill(measured, sizeof measured, "%.1f ms", big.push_ms);
    fill(goal, sizeof goal, "<= %.1fx %s", GOAL_SCALE_RATIO, n_small);
    fill(notes, sizeof notes, "%.2fx the %s figure (%.1f ms); %zu edits; median of %zu; %.1f B/edit",
         push_ratio, n_small, small->push_ms, delta_edits(c), big.samples, big.push_bytes);
    add_row(label, measured, goal, pass_or_miss(push_ratio <= GOAL_SCALE_RATIO), notes);
    fill(label, sizeof label, "   same delta pull at %s (A2)", n_total);
    fill(measured, sizeof measured, "%.1f ms", big.pull_ms);
    fill(notes, sizeof notes, "%.2fx the %s figure (%.1f ms); median of %zu; %.1f B/edit", pull_ratio,
         n_small, small->pull_ms, big.samples, big.pull_bytes);
    add_row(label, measured, goal, pass_or_miss(pull_ratio <= GOAL_SCALE_RATIO), notes);
}

/* ------------------------------------------------ 6: 200 devices at once */

typedef struct device_run {
    dala_store *store;
    pthread_barrier_t *start;
    double seconds;
    int rc;
    char error[160];
    dala_sync_stats stats;
} device_run;

static void *device_thread(void *context)
{
    device_run *run = context;
    pthread_barrier_wait(run->start);
    double start = now_seconds();
    run->rc = dala_sync(&run->stats, run->store, NULL);
    run->seconds = now_seconds() - start;
    if (run->rc) snprintf(run->error, sizeof run->error, "%s (%s)", dala_strerror(run->rc), dala_errmsg());
    return NULL;
}

static void bench_devices(world *w, const options *opt)
{
    size_t n = opt->devices;
    device_run *runs = must_alloc(n, sizeof *runs);
    pthread_t *threads = must_alloc(n, sizeof *threads);
    char (*codes)[CODE_BYTES] = must_alloc(n, sizeof *codes);
    char dir[400], path[480];
    records_gen gen;
    pthread_barrier_t start;
    double setup = now_seconds();

    snprintf(dir, sizeof dir, "%s/unit-b", w->dir);
    if (mkdir(dir, 0700) != 0) fail("mkdir %s: %s", dir, strerror(errno));
    enrol_codes(w, codes, n, w->officer_b, w->unit_b);
    records_gen_init(&gen, opt->seed ^ UINT64_C(0xb0b));
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/b%03zu.db", dir, i + 1);
        must(dala_store_open(&runs[i].store, path), "open a unit B store");
        must(dala_store_enroll(runs[i].store, w->url, codes[i], NULL), "enrol a unit B store");
        for (size_t r = 0; r < RECORDS_PER_DEVICE; r++) {
            gen_record rec;
            must(records_gen_next(&gen, &rec), "generate a record");
            char *json = put_json_of(&rec);
            must(dala_record_put(NULL, runs[i].store, GEN_TABLE, rec.id_text, json), "put a record");
            free(json);
            gen_record_free(&rec);
        }
    }
    note("%zu unit B devices enrolled with %d records each in %.1f s (setup)", n,
         RECORDS_PER_DEVICE, now_seconds() - setup);

    if (pthread_barrier_init(&start, NULL, (unsigned)n)) fail("make a barrier of %zu threads", n);
    for (size_t i = 0; i < n; i++) {
        runs[i].start = &start;
        if (pthread_create(&threads[i], NULL, device_thread, &runs[i]))
            fail("start device thread %zu of %zu", i + 1, n);
    }
    double wall = now_seconds();
    for (size_t i = 0; i < n; i++) pthread_join(threads[i], NULL);
    wall = now_seconds() - wall;
    pthread_barrier_destroy(&start);

    double *ms = must_alloc(n, sizeof *ms);
    size_t errors = 0;
    uint64_t trips = 0, pulled = 0, acked = 0;
    const char *first_error = NULL;
    for (size_t i = 0; i < n; i++) {
        ms[i] = runs[i].seconds * 1e3;
        trips += runs[i].stats.round_trips;
        pulled += runs[i].stats.pulled;
        acked += runs[i].stats.acked;
        if (runs[i].rc) {
            errors++;
            if (!first_error) first_error = runs[i].error;
        }
    }
    sort_doubles(ms, n);
    char label[64], measured[32], notes[160];
    fill(label, sizeof label, "6. %zu devices at once: errors", n);
    fill(measured, sizeof measured, "%zu", errors);
    if (first_error) fill(notes, sizeof notes, "first: %s", first_error);
    else fill(notes, sizeof notes, "%llu changes pushed, %llu pulled, %llu round trips in %.2f s",
              (unsigned long long)acked, (unsigned long long)pulled, (unsigned long long)trips, wall);
    add_row(label, measured, "0", pass_or_miss(errors == 0), notes);
    fill(measured, sizeof measured, "%.0f ms", percentile(ms, n, 50));
    fill(notes, sizeof notes, "one dala_sync each (push %d, pull unit B); %d server threads",
         RECORDS_PER_DEVICE, w->threads);
    add_row("   latency p50", measured, "-", "", notes);
    fill(measured, sizeof measured, "%.0f ms", percentile(ms, n, 99));
    fill(notes, sizeof notes, "max %.0f ms", ms[n - 1]);
    add_row("   latency p99", measured, "-", "", notes);

    for (size_t i = 0; i < n; i++) dala_store_close(runs[i].store);
    free(ms);
    free(runs);
    free(threads);
    free(codes);
}

/* 7: the supervisors' lists on unit A once it holds 100,000 records. */
static void bench_lists(world *w, const options *opt)
{
    web_figures f;
    char measured[24], notes[160];
    size_t samples = opt->noop < 21 ? opt->noop : 21;
    bench_web_lists(&f, w->port, w->db_path, w->unit_a, samples);
    note("supervisors' lists: medians of %zu requests each; one sign-in (PBKDF2) %.0f ms", samples, f.sign_in_ms);
    fill(measured, sizeof measured, "%.1f s", f.index_wait_s);
    fill(notes, sizeof notes, "information; %lld log positions past the text index after 5 and 6, read once no sync ran",
         f.index_lag);
    add_row("7. setup: text index catch-up", measured, "-", "", notes);
    fill(measured, sizeof measured, "%.1f ms", f.first_page_ms);
    add_row("   list, first page of 50", measured, "< 50 ms", pass_or_miss(f.first_page_ms < 50),
            "newest first, the unit head's whole scope");
    fill(measured, sizeof measured, "%.1f ms", f.deep_page_ms);
    fill(notes, sizeof notes, "after %zu pages (%zu records) by the cursor; %.2fx the first", f.deep_pages,
         f.records_seen, f.deep_page_ms / f.first_page_ms);
    add_row("   list, deep page", measured, "< 50 ms", pass_or_miss(f.deep_page_ms < 50), notes);
    fill(measured, sizeof measured, "%.1f ms", f.filtered_ms);
    add_row("   list, risk and state filter", measured, "< 50 ms", pass_or_miss(f.filtered_ms < 50),
            "risk=high&state=pending");
    fill(measured, sizeof measured, "%.1f ms", f.found_ms);
    add_row("   text search, common word", measured, "< 50 ms", pass_or_miss(f.found_ms < 50),
            "q=ЖӘБІРЛЕНУШІ in capitals, held by most records: the first 50");
    fill(measured, sizeof measured, "%.1f ms", f.search_ms);
    add_row("   text search, no hit", measured, "< 50 ms", pass_or_miss(f.search_ms < 50),
            "a word no record holds: the trigram index names no candidate");
    fill(measured, sizeof measured, "%.2f s", f.export_s);
    fill(notes, sizeof notes, "information; every visit of the scope as CSV, %.1f MB streamed in chunks of 64 KiB",
         (double)f.export_bytes / 1e6);
    add_row("   CSV export", measured, "-", "", notes);
}

/* ---------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: bench_server [--records N] [--extra N] [--runs N] [--delta-runs N] "
                    "[--noop N] [--handshakes N] [--devices N] [--threads N] [--seed N] "
                    "[--keep]\n");
    exit(2);
}

static options parse_options(int argc, char **argv)
{
    options opt = {10000, 90000, 3, 5, 50, 21, 200, 0, 0, 1};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0) opt.records = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--extra") == 0) opt.extra = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--runs") == 0) opt.runs = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--delta-runs") == 0) opt.delta_runs = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--noop") == 0) opt.noop = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--handshakes") == 0) opt.handshakes = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--devices") == 0) opt.devices = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--threads") == 0) opt.threads = (int)bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--seed") == 0) opt.seed = bench_number_arg(argc, argv, &i, usage);
        else if (strcmp(argv[i], "--keep") == 0) opt.keep = 1;
        else usage();
    }
    /* Deltas must touch distinct records: at most half a stride each. */
    size_t stride = opt.records / (opt.records * DELTA_PERCENT / 100 ? opt.records * DELTA_PERCENT / 100 : 1);
    if (opt.records < 100 || opt.runs == 0 || opt.delta_runs == 0 || opt.noop == 0 ||
        opt.handshakes == 0 || opt.devices == 0 || opt.delta_runs > stride / 2)
        usage();
    return opt;
}

int main(int argc, char **argv)
{
    options opt = parse_options(argc, argv);
    double began = now_seconds();
    const char *tmp = getenv("TMPDIR");
    corpus c;
    world w;
    round_figures f;
    delta_figures small;
    records_gen delta_gen;
    setvbuf(stdout, NULL, _IOLBF, 0);

    snprintf(temp_root, sizeof temp_root, "%s/dala-bench-server.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(temp_root)) fail("mkdtemp %s: %s", temp_root, strerror(errno));
    keep_files = opt.keep;
    atexit(clean_up);

    make_corpus(&c, &opt);
    memset(&f, 0, sizeof f);
    f.push_s = must_alloc(opt.runs, sizeof *f.push_s);
    f.pull_s = must_alloc(opt.runs, sizeof *f.pull_s);
    f.push_percent = must_alloc(opt.runs, sizeof *f.push_percent);
    f.pull_percent = must_alloc(opt.runs, sizeof *f.pull_percent);
    f.deltas = must_alloc(opt.runs * opt.delta_runs, sizeof *f.deltas);

    for (size_t r = 0; r < opt.runs; r++) {
        records_gen_init(&delta_gen, opt.seed ^ UINT64_C(0xde17a));
        world_start(&w, &opt, r);
        run_round(&w, &c, &opt, r, &f, &delta_gen);
        if (r + 1 < opt.runs) world_stop(&w);
    }
    report_rounds(&c, &opt, &f, &small);
    bench_noop(&w, &opt);
    if (opt.extra) bench_scale(&w, &c, &opt, &delta_gen, &small);
    bench_devices(&w, &opt);
    if (opt.extra) bench_lists(&w, &opt);
    bench_sealed(&w, &c, &opt);

    /* The SDK's default pages (dala.h: max_pull_changes, max_push_changes 0 -> 1000). */
    printf("bench_server: dala-server in process on 127.0.0.1, %d worker threads; %zu records "
           "(seed %llu), %.1f B of JSON/record; SDK pages of 1000 changes each way (server max "
           "%u); %zu+%zu records at scale; %zu devices; %.0f s in all\n",
           w.threads, c.count, (unsigned long long)opt.seed, (double)c.json_bytes / (double)c.count,
           w.server_page, c.count, opt.extra, opt.devices, now_seconds() - began);
    print_table();

    world_stop(&w);
    free_corpus(&c);
    free(f.push_s);
    free(f.pull_s);
    free(f.push_percent);
    free(f.pull_percent);
    free(f.deltas);
    return 0;
}
