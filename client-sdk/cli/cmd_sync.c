/* cmd_sync.c - the server-facing commands of `dala`: enroll, sync (with a
 * progress bar on a terminal, plain lines otherwise) and status (pending
 * changes, last sync, refusals with reasons, conflicts). Conflicts are
 * listed without their values; `dala show` on the conflict record gives
 * them to an officer who asks. enroll and sync speak http:// or https://;
 * an https:// server's certificate is checked against the CA file of
 * --ca-file (else $DALA_CA_FILE), else against the system's CAs. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The transport of enroll and sync: the built-in one, made with the CA
 * file of --ca-file, else of $DALA_CA_FILE, when there is one (an https://
 * server's certificate is then checked against that file's CAs only).
 * CLI_OK with *out NULL (the default transport) or the caller's. */
static int open_transport(dala_transport **out, const char *ca_file)
{
    *out = NULL;
    if (!ca_file) ca_file = getenv("DALA_CA_FILE");
    if (!ca_file || !*ca_file) return CLI_OK;
    dala_http_options options = DALA_HTTP_OPTIONS_INIT;
    options.ca_file = ca_file;
    int rc = dala_transport_http_new(out, &options);
    return rc ? cli_fail(rc) : CLI_OK;
}

int cli_enroll(cli_context *cli)
{
    const char *server = NULL, *code = NULL, *server_key = NULL, *ca_file = NULL;
    for (int i = 0; i < cli->argc;) {
        int matched = cli_option(cli->argc, cli->argv, &i, "--server", &server);
        if (!matched) matched = cli_option(cli->argc, cli->argv, &i, "--code", &code);
        if (!matched) matched = cli_option(cli->argc, cli->argv, &i, "--server-key", &server_key);
        if (!matched) matched = cli_option(cli->argc, cli->argv, &i, "--ca-file", &ca_file);
        if (matched < 0) return cli_usage_error("enroll", "%s needs a value", cli->argv[cli->argc - 1]);
        if (!matched) return cli_usage_error("enroll", "unexpected argument %s", cli->argv[i]);
    }
    if (!server || !code) return cli_usage_error("enroll", "--server and --code are required");
    if (ca_file && !*ca_file) return cli_usage_error("enroll", "--ca-file needs a FILE");
    dala_transport *transport;
    int exit_code = open_transport(&transport, ca_file);
    if (exit_code) return exit_code;
    int is_new = access(cli->store_path, F_OK) != 0;
    dala_store *store;
    exit_code = cli_open_store(&store, cli, 1);
    if (exit_code) {
        dala_transport_http_free(transport);
        return exit_code;
    }
    dala_enroll_options options = DALA_ENROLL_OPTIONS_INIT;
    options.expected_server_key = server_key;
    options.transport = transport;
    int rc = dala_store_enroll(store, server, code, &options);
    dala_status status;
    if (!rc) rc = dala_store_status(&status, store);
    if (rc) exit_code = cli_fail(rc);
    else printf("enrolled as device %llu of unit %llu (officer %s) with %s; store %s\n",
                (unsigned long long)status.device_id, (unsigned long long)status.unit_id,
                *status.officer ? status.officer : "unknown", status.server_url, cli->store_path);
    dala_store_close(store);
    dala_transport_http_free(transport);
    if (rc && is_new) dala_store_erase(cli->store_path); /* leave no empty store (or its key) behind */
    return exit_code;
}

/* --- sync ----------------------------------------------------------------- */

typedef struct progress {
    int is_terminal;
    int bar_shown;
} progress;

static void draw_bar(progress *p, const char *label, uint64_t done, uint64_t total)
{
    enum { WIDTH = 30 };
    int filled = total ? (int)(done * WIDTH / total) : 0;
    printf("\r%s [", label);
    for (int i = 0; i < WIDTH; i++) putchar(i < filled ? '#' : ' ');
    printf("] %llu/%llu", (unsigned long long)done, (unsigned long long)total);
    fflush(stdout);
    p->bar_shown = 1;
}

static void on_progress(void *context, dala_sync_phase phase, uint64_t done, uint64_t total)
{
    progress *p = context;
    if (phase == DALA_SYNC_DONE) {
        if (p->bar_shown) putchar('\n');
        p->bar_shown = 0;
        return;
    }
    if (!p->is_terminal) {
        if (done == 0) return; /* plain lines report progress, not the start */
        if (phase == DALA_SYNC_PUSH) printf("push %llu/%llu\n", (unsigned long long)done, (unsigned long long)total);
        else printf("pull %llu\n", (unsigned long long)done);
        return;
    }
    if (phase == DALA_SYNC_PUSH) {
        draw_bar(p, "push", done, total);
    } else {
        printf("\rpull %llu changes%*s", (unsigned long long)done, 30, "");
        fflush(stdout);
        p->bar_shown = 1;
    }
}

/* Parses a positive count option. */
static int parse_count(const char *text, long max, long *out)
{
    char *end;
    long value = strtol(text, &end, 10);
    if (*text == '\0' || *end || value < 1 || value > max) return -1;
    *out = value;
    return 0;
}

static void print_summary(const dala_sync_stats *stats)
{
    printf("sync: pushed %llu change%s (%llu acknowledged, %llu refused), pulled %llu, "
           "in %llu round trip%s; sent %.1f KiB, received %.1f KiB\n",
           (unsigned long long)stats->pushed, stats->pushed == 1 ? "" : "s",
           (unsigned long long)stats->acked, (unsigned long long)stats->rejected,
           (unsigned long long)stats->pulled, (unsigned long long)stats->round_trips,
           stats->round_trips == 1 ? "" : "s", (double)stats->bytes_sent / 1024.0,
           (double)stats->bytes_received / 1024.0);
    if (stats->rejected) printf("sync: see `dala status` for the refused changes and why\n");
}

/* Tells the officer at once when the tablet's clock is more than a minute
 * off the server's: the changes are not lost (they are stamped from the
 * server's time), but the clock should be set right. */
static void warn_about_clock(int64_t skew_ms)
{
    static const int64_t minute_ms = 60 * 1000;
    if (skew_ms <= minute_ms && skew_ms >= -minute_ms) return;
    int64_t minutes = (skew_ms < 0 ? -skew_ms : skew_ms) / minute_ms;
    const char *way = skew_ms > 0 ? "ahead of" : "behind";
    if (strcmp(cli_lang(), "ru") == 0)
        fprintf(stderr, "внимание: часы планшета %s сервера на %lld мин; установите верное время "
                        "(записи не потеряны: их время взято с сервера)\n",
                skew_ms > 0 ? "спешат относительно" : "отстают от", (long long)minutes);
    else
        fprintf(stderr, "назар аударыңыз: планшеттің сағаты сервердікінен %lld мин %s; дұрыс уақытты "
                        "орнатыңыз (жазбалар жоғалған жоқ: уақыты серверден алынды)\n",
                (long long)minutes, skew_ms > 0 ? "алда" : "артта");
    fprintf(stderr, "warning: this tablet's clock is %lld min %s the server's; set it right (no change is "
                    "lost: changes are stamped from the server's time)\n", (long long)minutes, way);
}

int cli_sync(cli_context *cli)
{
    dala_sync_options options = DALA_SYNC_OPTIONS_INIT;
    const char *ca_file = NULL;
    for (int i = 0; i < cli->argc;) {
        const char *value;
        long number;
        int which, matched = cli_option(cli->argc, cli->argv, &i, "--ca-file", &ca_file);
        if (matched < 0 || (matched && !*ca_file)) return cli_usage_error("sync", "--ca-file needs a FILE");
        if (matched) continue;
        static const char *const names[] = {"--timeout-ms", "--max-pull", "--max-push"};
        for (which = 0; which < 3; which++)
            if ((matched = cli_option(cli->argc, cli->argv, &i, names[which], &value))) break;
        if (which == 3) return cli_usage_error("sync", "unexpected argument %s", cli->argv[i]);
        if (matched < 0 || parse_count(value, which == 0 ? 3600000 : 100000, &number))
            return cli_usage_error("sync", "%s needs a positive number", names[which]);
        if (which == 0) options.timeout_ms = (int)number;
        else if (which == 1) options.max_pull_changes = (uint32_t)number;
        else options.max_push_changes = (uint32_t)number;
    }
    dala_transport *transport;
    int exit_code = open_transport(&transport, ca_file);
    if (exit_code) return exit_code;
    options.transport = transport;
    dala_store *store;
    exit_code = cli_open_store(&store, cli, 0);
    if (exit_code) {
        dala_transport_http_free(transport);
        return exit_code;
    }
    progress p = {isatty(1), 0};
    options.progress = on_progress;
    options.progress_context = &p;
    dala_sync_stats stats;
    int rc = dala_sync(&stats, store, &options);
    if (p.bar_shown) putchar('\n');
    if (stats.round_trips) warn_about_clock(stats.clock_skew_ms);
    if (rc) {
        fflush(stdout);
        exit_code = cli_fail(rc);
        if (stats.round_trips) print_summary(&stats);
    } else {
        print_summary(&stats);
    }
    dala_store_close(store);
    dala_transport_http_free(transport);
    return exit_code;
}

/* --- status ----------------------------------------------------------------- */

static int print_rejection(void *context, const dala_rejection *rejection)
{
    char text[600];
    (void)context;
    /* In the officer's language, then as the server worded it. */
    dala_reason_render(text, sizeof text, rejection->reason, cli_lang());
    printf("  change %lld of %s %s: %s\n    (%s: %s)\n", (long long)rejection->outbox_id, rejection->table,
           rejection->record_id, text, dala_strerror(rejection->code), rejection->reason);
    return 0;
}

/* "device 3", or "the server" for a value a merge policy settled (device 0). */
static const char *writer_name(char *out, size_t size, uint64_t device)
{
    if (device == 0) snprintf(out, size, "the server");
    else snprintf(out, size, "device %llu", (unsigned long long)device);
    return out;
}

static int print_conflict(void *context, const dala_conflict *conflict)
{
    char winner[64], loser[64], winner_name[32], loser_name[32];
    (void)context;
    cli_format_time(winner, conflict->winner_hlc >> 16);
    cli_format_time(loser, conflict->loser_hlc >> 16);
    printf("  %s.%s of %s: %s at %s won over %s at %s (dala show %s)\n", conflict->record_table, conflict->field,
           conflict->record_id, writer_name(winner_name, sizeof winner_name, conflict->winner_device), winner,
           writer_name(loser_name, sizeof loser_name, conflict->loser_device), loser, conflict->conflict_id);
    return 0;
}

int cli_status(cli_context *cli)
{
    if (cli->argc) return cli_usage_error("status", "unexpected argument %s", cli->argv[0]);
    dala_store *store;
    int exit_code = cli_open_store(&store, cli, 0);
    if (exit_code) return exit_code;
    dala_status status;
    int rc = dala_store_status(&status, store);
    if (rc) goto done;
    char when[64] = "never";
    if (status.last_sync_ms) cli_format_time(when, status.last_sync_ms);
    /* The first line sums it up (scripts read it with head -1). */
    printf("%llu change%s pending, %llu refused, %llu conflict%s; last sync %s\n",
           (unsigned long long)status.pending_changes, status.pending_changes == 1 ? "" : "s",
           (unsigned long long)status.rejected_changes, (unsigned long long)status.conflict_count,
           status.conflict_count == 1 ? "" : "s", when);
    printf("store      %s\n", cli->store_path);
    if (status.is_enrolled)
        printf("device     %llu, unit %llu, officer %s\nserver     %s\n",
               (unsigned long long)status.device_id, (unsigned long long)status.unit_id,
               *status.officer ? status.officer : "unknown", status.server_url);
    else
        printf("device     not enrolled (dala enroll --server URL --code CODE)\n");
    printf("records    %llu\npending    %llu change%s\nlast sync  %s\n",
           (unsigned long long)status.record_count, (unsigned long long)status.pending_changes,
           status.pending_changes == 1 ? "" : "s", when);
    printf("refused    %llu\n", (unsigned long long)status.rejected_changes);
    if (status.rejected_changes) rc = dala_rejection_list(store, print_rejection, NULL);
    if (rc) goto done;
    printf("conflicts  %llu\n", (unsigned long long)status.conflict_count);
    if (status.conflict_count) rc = dala_conflict_list(store, print_conflict, NULL);
done:
    if (rc) exit_code = cli_fail(rc);
    dala_store_close(store);
    return exit_code;
}
