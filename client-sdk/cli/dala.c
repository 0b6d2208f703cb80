/* dala.c - the `dala` command's main: global options, the command table,
 * usage text, opening the store under its PIN, and the error and option
 * helpers every command shares.
 *
 *   dala [--store PATH] [--lang kk|ru] [--pin-fd N | --pin-file PATH] COMMAND [ARGS]
 *
 * The store defaults to $DALA_STORE, else ./dala-device.db; the language
 * of labels and refusals to $DALA_LANG, else Kazakh. The store is sealed
 * under the officer's PIN: read from file descriptor N, from a file only
 * its owner may read (--pin-file, else $DALA_PIN_FILE), else asked on the
 * terminal with echo off (pin.c). `dala --version`, `dala --help` and
 * `dala COMMAND --help` print to standard output. Exit codes: 0 done, 1
 * failed (the reason on stderr), 2 bad usage. */
#include "cli.h"
#include "version.h" /* server/version.h: the release's one version string */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct command {
    const char *name;
    int (*run)(cli_context *cli);
    const char *usage;
} command;

static const command commands[] = {
    {"enroll", cli_enroll,
     "enroll --server URL --code CODE [--server-key HEX] [--ca-file FILE]\n"
     "                 (URL: http://host:port or https://host; --ca-file: the PEM file of the CA an\n"
     "                 https:// server's certificate must chain to, else $DALA_CA_FILE, else the\n"
     "                 system's CAs; --server-key: the server key's hex, learnt out of band)"},
    {"capture", cli_capture,
     "capture --table TABLE [--id UUID] [--set NAME=VALUE ...] [--set-text NAME=VALUE ...]\n"
     "                 (--set: an integer without leading zeros is stored as a number, else text;\n"
     "                 --set-text: always text; without either, a JSON object on standard input)\n"
     "  capture --table TABLE --ask    (field by field, with labels and choices)\n"
     "  capture --form CODE|ID [--set NAME=VALUE ...]\n"
     "                 (a questionnaire, question by question, skip logic applied)"},
    {"forms", cli_forms, "forms    (the questionnaires this tablet holds)"},
    {"list", cli_list, "list [--table TABLE [--search TEXT] [--sort FIELD]]\n"
                       "                 (--search: in any text field, any case; --sort: Kazakh alphabetical order)"},
    {"show", cli_show, "show ID [--labels]    (--labels: each field under its label, in --lang)"},
    {"void", cli_void, "void ID --reason TEXT"},
    {"sync", cli_sync,
     "sync [--timeout-ms N] [--max-pull N] [--max-push N] [--ca-file FILE]\n"
     "                 (--timeout-ms: give up when the server is silent for N ms, default 30000,\n"
     "                 connecting, waiting or in the middle of its answer; a round trip lasts\n"
     "                 at most 10 N in all; --ca-file as for enroll, else $DALA_CA_FILE)"},
    {"status", cli_status, "status"},
    {"set-pin", cli_set_pin,
     "set-pin [--new-pin-fd N | --new-pin-file PATH] [--max-wrong-pins N]\n"
     "                 (the store's new PIN, asked twice on a terminal; N wrong PINs in a row,\n"
     "                 default 10, erase the store)"},
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

void cli_print_usage(FILE *out, const char *name)
{
    if (!name)
        fprintf(out, "usage: dala [--store PATH] [--lang kk|ru] [--pin-fd N | --pin-file PATH] COMMAND [ARGS]\n"
                     "       dala --version | --help | COMMAND --help\n\n"
                     "commands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (!name || strcmp(name, commands[i].name) == 0)
            fprintf(out, "%s%s\n", name ? "usage: dala " : "  ", commands[i].usage);
    if (!name)
        fprintf(out, "\nThe store is --store PATH, else $DALA_STORE, else ./dala-device.db.\n"
                     "It is sealed under the officer's PIN (4 to 1024 characters): the first line\n"
                     "read from file descriptor N (--pin-fd N), or of a file only you can read\n"
                     "(--pin-file PATH, else $DALA_PIN_FILE); else it is asked on the terminal.\n"
                     "After 10 wrong PINs in a row (set-pin --max-wrong-pins N) the store erases itself.\n"
                     "Records are checked against the record rules before they are queued;\n"
                     "e.g. table field_visit needs visit_date (YYYY-MM-DD), purpose and risk_level.\n"
                     "Record types: field_visit person offence protective_measure legal_aid\n"
                     "suicide_check interaction work_plan survey_response (docs/domain.md).\n"
                     "enroll and sync check an https:// server's certificate against --ca-file FILE,\n"
                     "else $DALA_CA_FILE, else the system's CAs.\n");
}

int cli_usage_error(const char *name, const char *fmt, ...)
{
    va_list args;
    fputs("dala: ", stderr);
    if (name) fprintf(stderr, "%s: ", name);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    cli_print_usage(stderr, name);
    return CLI_USAGE;
}

static const char *language = "kk";

const char *cli_lang(void)
{
    return language;
}

int cli_is_russian(void)
{
    return strcmp(language, "ru") == 0;
}

int cli_fail(int code)
{
    const char *detail = dala_errmsg();
    char text[600];
    /* A refusal of the rules reads in the officer's language, and as the rule. */
    dala_reason_render(text, sizeof text, detail ? detail : "", language);
    if (detail && *detail && strcmp(text, detail) != 0) fprintf(stderr, "dala: %s (%s)\n", text, detail);
    else fprintf(stderr, "dala: %s\n", detail && *detail ? detail : dala_strerror(code));
    if (code == DALA_EWIPED)
        fprintf(stderr, "dala: the store's records, unsent changes and keys are gone from this tablet; what it "
                        "had synced is kept on the server. To work again, enroll with a new code "
                        "(dala enroll --server URL --code CODE)\n");
    return CLI_FAILED;
}

int cli_option(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t len = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, len) != 0) return 0;
    if (arg[len] == '=') {
        *value = arg + len + 1;
        (*i)++;
        return 1;
    }
    if (arg[len] != '\0') return 0;
    if (*i + 1 >= argc) return -1;
    *value = argv[*i + 1];
    *i += 2;
    return 1;
}

int cli_parse_fd(const char *text)
{
    char *end;
    errno = 0;
    long fd = strtol(text, &end, 10);
    if (errno || end == text || *end || fd < 0 || fd > INT_MAX) return -1;
    return (int)fd;
}

int cli_open_store(dala_store **out, const cli_context *cli, int create)
{
    *out = NULL;
    if (!create && access(cli->store_path, F_OK) != 0) {
        fprintf(stderr, "dala: no store at %s: enroll this device first "
                        "(dala enroll --server URL --code CODE), or pass --store PATH\n",
                cli->store_path);
        return CLI_FAILED;
    }
    /* A new store takes its PIN now: asked twice on a terminal. */
    int is_new = access(cli->store_path, F_OK) != 0;
    cli_pin *pin = malloc(sizeof *pin);
    if (!pin) {
        fprintf(stderr, "dala: out of memory\n");
        return CLI_FAILED;
    }
    int exit_code = cli_pin_read(pin, &cli->pin, is_new ? "New store: choose a PIN: " : "PIN: ",
                                 is_new ? "Repeat the PIN: " : NULL);
    if (!exit_code && is_new) exit_code = cli_pin_check_new(pin);
    if (exit_code) {
        free(pin);
        return exit_code;
    }
    dala_store_key key = {DALA_STORE_KEY_VERSION, pin->text, NULL, 0};
    int rc = dala_store_open_keyed(out, cli->store_path, &key);
    cli_pin_wipe(pin);
    free(pin);
    if (rc == DALA_EAUTH) {
        fprintf(stderr, "dala: the PIN does not open %s: %s\n", cli->store_path,
                *dala_errmsg() ? dala_errmsg() : dala_strerror(rc));
        return CLI_FAILED;
    }
    return rc ? cli_fail(rc) : CLI_OK;
}

/* `dala COMMAND ... --help`: any argument that is exactly --help or -h
 * asks for the command's usage (even where it was meant as a value). */
static int asks_for_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

int main(int argc, char **argv)
{
    const char *store_path = getenv("DALA_STORE"), *lang = getenv("DALA_LANG");
    if (!store_path || !*store_path) store_path = "./dala-device.db";
    if (lang && strcmp(lang, "ru") == 0) language = "ru";
    cli_pin_source pin = {-1, NULL, "DALA_PIN_FILE", "no PIN for the store", "--pin-fd", "--pin-file"};
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        const char *value;
        int matched = cli_option(argc, argv, &i, "--pin-fd", &value);
        if (matched < 0 || (matched && (pin.fd = cli_parse_fd(value)) < 0))
            return cli_usage_error(NULL, "--pin-fd needs a file descriptor number");
        if (matched) continue;
        matched = cli_option(argc, argv, &i, "--pin-file", &value);
        if (matched < 0 || (matched && !*value)) return cli_usage_error(NULL, "--pin-file needs a PATH");
        if (matched) {
            pin.file = value;
            continue;
        }
        matched = cli_option(argc, argv, &i, "--store", &value);
        if (matched < 0) return cli_usage_error(NULL, "--store needs a PATH");
        if (matched) {
            store_path = value;
            continue;
        }
        matched = cli_option(argc, argv, &i, "--lang", &value);
        if (matched < 0 || (matched && strcmp(value, "kk") && strcmp(value, "ru")))
            return cli_usage_error(NULL, "--lang is kk or ru");
        if (matched) {
            language = strcmp(value, "ru") == 0 ? "ru" : "kk";
            continue;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_print_usage(stdout, NULL);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("dala %s\n", DALA_VERSION);
            return CLI_OK;
        }
        return cli_usage_error(NULL, "unknown option %s", argv[i]);
    }
    if (pin.fd >= 0 && pin.file) return cli_usage_error(NULL, "give --pin-fd or --pin-file, not both");
    if (i >= argc) return cli_usage_error(NULL, "no command given");
    if (strcmp(argv[i], "help") == 0) {
        cli_print_usage(stdout, i + 1 < argc ? argv[i + 1] : NULL);
        return CLI_OK;
    }
    for (size_t c = 0; c < COMMAND_COUNT; c++) {
        if (strcmp(argv[i], commands[c].name) != 0) continue;
        if (asks_for_help(argc - i - 1, argv + i + 1)) {
            cli_print_usage(stdout, commands[c].name);
            return CLI_OK;
        }
        cli_context cli = {store_path, pin, argc - i - 1, argv + i + 1};
        return commands[c].run(&cli);
    }
    return cli_usage_error(NULL, "unknown command %s", argv[i]);
}
