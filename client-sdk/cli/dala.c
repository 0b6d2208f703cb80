/* dala.c - the `dala` command's main: global options, the command table,
 * usage text, and the error and option helpers every command shares.
 *
 *   dala [--store PATH] [--lang kk|ru] COMMAND [ARGS]
 *
 * The store defaults to $DALA_STORE, else ./dala-device.db; the language
 * of labels and refusals to $DALA_LANG, else Kazakh. Exit codes: 0 done,
 * 1 failed (the reason on stderr), 2 bad usage. */
#include "cli.h"

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
    {"enroll", cli_enroll, "enroll --server URL --code CODE [--server-key HEX]"},
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
    {"sync", cli_sync, "sync [--timeout-ms N] [--max-pull N] [--max-push N]"},
    {"status", cli_status, "status"},
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

void cli_print_usage(FILE *out, const char *name)
{
    if (!name) fprintf(out, "usage: dala [--store PATH] [--lang kk|ru] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (!name || strcmp(name, commands[i].name) == 0)
            fprintf(out, "%s%s\n", name ? "usage: dala " : "  ", commands[i].usage);
    if (!name)
        fprintf(out, "\nThe store is --store PATH, else $DALA_STORE, else ./dala-device.db.\n"
                     "Records are checked against the record rules before they are queued;\n"
                     "e.g. table field_visit needs visit_date (YYYY-MM-DD), purpose and risk_level.\n"
                     "Record types: field_visit person offence protective_measure legal_aid\n"
                     "suicide_check interaction work_plan survey_response (docs/domain.md).\n");
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

int cli_open_store(dala_store **out, const cli_context *cli, int create)
{
    *out = NULL;
    if (!create && access(cli->store_path, F_OK) != 0) {
        fprintf(stderr, "dala: no store at %s: enroll this device first "
                        "(dala enroll --server URL --code CODE), or pass --store PATH\n",
                cli->store_path);
        return CLI_FAILED;
    }
    int rc = dala_store_open(out, cli->store_path);
    return rc ? cli_fail(rc) : CLI_OK;
}

int main(int argc, char **argv)
{
    const char *store_path = getenv("DALA_STORE"), *lang = getenv("DALA_LANG");
    if (!store_path || !*store_path) store_path = "./dala-device.db";
    if (lang && strcmp(lang, "ru") == 0) language = "ru";
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        const char *value;
        int matched = cli_option(argc, argv, &i, "--store", &value);
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
        return cli_usage_error(NULL, "unknown option %s", argv[i]);
    }
    if (i >= argc) return cli_usage_error(NULL, "no command given");
    if (strcmp(argv[i], "help") == 0) {
        cli_print_usage(stdout, i + 1 < argc ? argv[i + 1] : NULL);
        return CLI_OK;
    }
    for (size_t c = 0; c < COMMAND_COUNT; c++) {
        if (strcmp(argv[i], commands[c].name) != 0) continue;
        cli_context cli = {store_path, argc - i - 1, argv + i + 1};
        return commands[c].run(&cli);
    }
    return cli_usage_error(NULL, "unknown command %s", argv[i]);
}
