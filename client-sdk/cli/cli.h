/* cli.h - shared parts of the `dala` command (client-sdk/cli/): the
 * commands, argument helpers, and output helpers. The command uses only
 * the public dala.h, as a tablet app would: it is the SDK's reference app
 * and the test driver of the end-to-end tests. */
#ifndef DALA_CLI_H
#define DALA_CLI_H

#include "dala.h"

#include <stdio.h>

/* Exit codes. */
#define CLI_OK 0
#define CLI_FAILED 1
#define CLI_USAGE 2

/* The PIN (pin.c): 4 to CLI_PIN_MAX_BYTES bytes, wiped by cli_pin_wipe. */
#define CLI_PIN_MAX_BYTES 1024
typedef struct cli_pin {
    char text[CLI_PIN_MAX_BYTES + 1];
} cli_pin;

/* Where a PIN comes from: `fd` if not -1, else `file` if not NULL, else
 * the file named by $`env_name` (when not NULL), else asked on the
 * terminal when standard input is one. The rest name the options in the
 * message given when there is no source at all. */
typedef struct cli_pin_source {
    int fd;
    const char *file;
    const char *env_name;
    const char *what;        /* "no PIN for the store" */
    const char *fd_option;   /* "--pin-fd" */
    const char *file_option; /* "--pin-file" */
} cli_pin_source;

/* Reads a PIN from `source`. On a terminal it shows `prompt` and reads
 * with echo off (restored on every path, SIGINT included); with `again`
 * not NULL it asks a second time and the answers must match. A PIN file
 * that group or others may read is refused. Returns CLI_OK, or
 * CLI_FAILED after saying why on stderr (out is wiped then). */
int cli_pin_read(cli_pin *out, const cli_pin_source *source, const char *prompt, const char *again);
/* CLI_OK when the PIN's length fits a new PIN (4 to 1024 bytes); else
 * says so and returns CLI_FAILED. */
int cli_pin_check_new(const cli_pin *pin);
/* Wipes the PIN (explicit_bzero). NULL is fine. */
void cli_pin_wipe(cli_pin *pin);

/* What every command gets: the store path, where its PIN comes from, and
 * its arguments after the command name. The store is opened by the
 * command (cli_open_store). */
typedef struct cli_context {
    const char *store_path;
    cli_pin_source pin;
    int argc;
    char **argv;
} cli_context;

int cli_enroll(cli_context *cli);
int cli_capture(cli_context *cli);
int cli_list(cli_context *cli);
int cli_show(cli_context *cli);
int cli_void(cli_context *cli);
int cli_sync(cli_context *cli);
int cli_status(cli_context *cli);
int cli_forms(cli_context *cli);
int cli_set_pin(cli_context *cli);

/* Interactive capture (cmd_ask.c): the fields of a record type, or a
 * questionnaire (`fields_json`: the response's own fields, may be NULL). */
int cli_ask_record(dala_store *store, const char *table);
int cli_ask_survey(dala_store *store, const char *form, const char *fields_json);

/* The officer's language, "kk" (the default) or "ru" (--lang, $DALA_LANG). */
const char *cli_lang(void);
int cli_is_russian(void);

/* Prints "dala: <what>" and the usage of `command` to stderr; returns
 * CLI_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "dala: <dala_errmsg()>" (or the code's text) to stderr; returns
 * CLI_FAILED. */
int cli_fail(int code);
/* The usage text of one command, or of all when `command` is NULL. */
void cli_print_usage(FILE *out, const char *command);

/* Matches argv[*i] against "--name VALUE" or "--name=VALUE"; on a match
 * sets *value, advances *i past what it used and returns 1; returns -1
 * when the value is missing, 0 when argv[*i] is another argument. */
int cli_option(int argc, char **argv, int *i, const char *name, const char **value);

/* A file descriptor number (decimal, 0 or more); -1 if `text` is not one. */
int cli_parse_fd(const char *text);

/* Opens the store under its PIN (cli->pin; a new store's PIN is asked
 * twice on a terminal); unless `create` is set, a missing file is an
 * error that tells how to make one. A wrong PIN, or a store that erased
 * itself, is said plainly. Returns CLI_OK or an exit code. */
int cli_open_store(dala_store **out, const cli_context *cli, int create);

/* Appends `text` to `out` (malloc'd, grown as needed) as a JSON string. */
int cli_json_string(char **out, size_t *len, size_t *alloc, const char *text);
/* Appends raw text. */
int cli_append(char **out, size_t *len, size_t *alloc, const char *text);

/* Prints compact JSON indented by two spaces per level. */
void cli_print_json_pretty(FILE *out, const char *json);

/* "2026-11-24 19:04 +05" in local time, from Unix milliseconds. */
void cli_format_time(char out[64], uint64_t unix_ms);

#endif /* DALA_CLI_H */
