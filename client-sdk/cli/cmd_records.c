/* cmd_records.c - the record commands of `dala`: capture, list, show, void.
 * They print what the officer asked for (a record's fields on `show`)
 * and nothing else: listings show ids, tables, states and times only. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLI_MAX_STDIN_BYTES ((size_t)64 << 20)

/* Whether `text` is a canonical integer that fits 64 bits: no sign but
 * '-', no leading zero (so "007" and 12-digit ids starting with 0 stay
 * text). */
static int is_canonical_integer(const char *text)
{
    const char *digits = text[0] == '-' ? text + 1 : text;
    size_t n = strlen(digits);
    if (n == 0 || n > 19 || (digits[0] == '0' && n > 1) || strcmp(text, "-0") == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (digits[i] < '0' || digits[i] > '9') return 0;
    errno = 0;
    (void)strtoll(text, NULL, 10);
    return errno == 0;
}

/* Adds "name": value to the JSON object being built from one --set. */
static int add_set(char **json, size_t *len, size_t *alloc, const char *assignment, int force_text)
{
    const char *equals = strchr(assignment, '=');
    if (!equals || equals == assignment) return -1;
    char *name = strndup(assignment, (size_t)(equals - assignment));
    const char *value = equals + 1;
    int rc = name ? 0 : -1;
    if (!rc) rc = cli_append(json, len, alloc, *len > 1 ? ", " : "");
    if (!rc) rc = cli_json_string(json, len, alloc, name);
    if (!rc) rc = cli_append(json, len, alloc, ": ");
    if (!rc) rc = !force_text && is_canonical_integer(value) ? cli_append(json, len, alloc, value)
                                                             : cli_json_string(json, len, alloc, value);
    free(name);
    return rc;
}

/* Reads all of standard input, up to the cap. */
static char *read_stdin(void)
{
    size_t len = 0, alloc = 65536;
    char *text = malloc(alloc);
    while (text) {
        size_t n = fread(text + len, 1, alloc - len - 1, stdin);
        len += n;
        if (n == 0) break;
        if (len + 1 == alloc) {
            if (alloc > CLI_MAX_STDIN_BYTES) {
                fprintf(stderr, "dala: capture: standard input is more than %zu bytes\n",
                        (size_t)CLI_MAX_STDIN_BYTES);
                free(text);
                return NULL;
            }
            char *bigger = realloc(text, alloc * 2);
            if (!bigger) free(text);
            text = bigger;
            alloc *= 2;
        }
    }
    if (text) text[len] = '\0';
    return text;
}

/* capture --ask or --form: asked on the terminal (cmd_ask.c). */
static int capture_asked(cli_context *cli, const char *table, const char *form, char *json)
{
    if (table && !dala_table_is_writable(table)) {
        free(json);
        return cli_usage_error("capture", "%s is not a record type this tablet writes", table);
    }
    dala_store *store;
    int exit_code = cli_open_store(&store, cli, 0);
    if (!exit_code) exit_code = form ? cli_ask_survey(store, form, json) : cli_ask_record(store, table);
    dala_store_close(store);
    free(json);
    return exit_code;
}

int cli_capture(cli_context *cli)
{
    const char *table = NULL, *id = NULL, *form = NULL, *value;
    char *json = NULL;
    size_t len = 0, alloc = 0;
    int sets = 0, matched, is_asked = 0;
    if (cli_append(&json, &len, &alloc, "{")) return cli_fail(DALA_ENOMEM);
    for (int i = 0; i < cli->argc;) {
        int force_text = 0;
        if ((matched = cli_option(cli->argc, cli->argv, &i, "--table", &table)) ||
            (matched = cli_option(cli->argc, cli->argv, &i, "--id", &id)) ||
            (matched = cli_option(cli->argc, cli->argv, &i, "--form", &form))) {
            if (matched < 0) goto missing;
            continue;
        }
        if (strcmp(cli->argv[i], "--ask") == 0) {
            is_asked = 1;
            i++;
            continue;
        }
        matched = cli_option(cli->argc, cli->argv, &i, "--set", &value);
        if (!matched) {
            matched = cli_option(cli->argc, cli->argv, &i, "--set-text", &value);
            force_text = 1;
        }
        if (matched < 0) goto missing;
        if (!matched) {
            free(json);
            return cli_usage_error("capture", "unexpected argument %s", cli->argv[i]);
        }
        if (add_set(&json, &len, &alloc, value, force_text)) {
            free(json);
            return cli_usage_error("capture", "--set needs NAME=VALUE, got \"%s\"", value);
        }
        sets++;
    }
    if (form || is_asked) {
        if (form ? table || id : !table || id || sets) {
            free(json);
            return cli_usage_error("capture", form ? "--form takes no --table or --id"
                                                   : "--ask needs --table and takes no --id or --set");
        }
        if (cli_append(&json, &len, &alloc, "}")) return cli_fail(DALA_ENOMEM);
        return capture_asked(cli, table, form, json);
    }
    if (!table) {
        free(json);
        return cli_usage_error("capture", "--table (or --form) is required");
    }
    if (sets == 0) {
        free(json);
        if (isatty(0))
            return cli_usage_error("capture", "give --set NAME=VALUE, or a JSON object on standard input");
        json = read_stdin();
        if (!json) return CLI_FAILED;
        if (json[strspn(json, " \t\r\n")] == '\0') {
            free(json);
            return cli_usage_error("capture", "no fields: standard input is empty");
        }
    } else if (cli_append(&json, &len, &alloc, "}")) {
        free(json);
        return cli_fail(DALA_ENOMEM);
    }
    dala_store *store;
    int exit_code = cli_open_store(&store, cli, 0);
    if (exit_code) {
        free(json);
        return exit_code;
    }
    char record_id[DALA_ID_TEXT_BYTES];
    int rc = dala_record_put(record_id, store, table, id, json);
    free(json);
    if (rc) exit_code = cli_fail(rc);
    else printf("%s\n", record_id);
    dala_store_close(store);
    return exit_code;
missing:
    free(json);
    return cli_usage_error("capture", "%s needs a value", cli->argv[cli->argc - 1]);
}

static const char *state_name(const dala_record_info *info)
{
    switch (info->state) {
    case DALA_RECORD_PENDING: return "pending";
    case DALA_RECORD_REJECTED: return "rejected";
    default: return "synced";
    }
}

static int print_record(void *context, const dala_record_info *info)
{
    char when[64];
    (void)context;
    cli_format_time(when, info->updated_ms);
    printf("%s  %-20s %-8s%s  %s\n", info->id, info->table, state_name(info),
           info->is_voided ? " voided" : "", when);
    return 0;
}

int cli_list(cli_context *cli)
{
    const char *table = NULL, *search = NULL, *sort = NULL;
    for (int i = 0; i < cli->argc;) {
        int matched = cli_option(cli->argc, cli->argv, &i, "--table", &table);
        if (!matched) matched = cli_option(cli->argc, cli->argv, &i, "--search", &search);
        if (!matched) matched = cli_option(cli->argc, cli->argv, &i, "--sort", &sort);
        if (matched < 0) return cli_usage_error("list", "%s needs a value", cli->argv[cli->argc - 1]);
        if (!matched) return cli_usage_error("list", "unexpected argument %s", cli->argv[i]);
    }
    if ((search || sort) && !table) return cli_usage_error("list", "--search and --sort need --table");
    dala_store *store;
    int exit_code = cli_open_store(&store, cli, 0);
    if (exit_code) return exit_code;
    int rc = search || sort ? dala_record_search(store, table, search, sort, print_record, NULL)
                            : dala_record_list(store, table, print_record, NULL);
    if (rc) exit_code = cli_fail(rc);
    dala_store_close(store);
    return exit_code;
}

int cli_show(cli_context *cli)
{
    const char *id = NULL;
    int is_labelled = 0;
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--labels") == 0) is_labelled = 1;
        else if (!id && cli->argv[i][0] != '-') id = cli->argv[i];
        else return cli_usage_error("show", "unexpected argument %s", cli->argv[i]);
    }
    if (!id) return cli_usage_error("show", "give one record ID");
    dala_store *store;
    int exit_code = cli_open_store(&store, cli, 0);
    if (exit_code) return exit_code;
    char *text = NULL;
    int rc = is_labelled ? dala_record_labelled(&text, store, id, cli_lang()) : dala_record_get_json(&text, store, id);
    if (rc) exit_code = cli_fail(rc);
    else if (is_labelled) fputs(text, stdout);
    else cli_print_json_pretty(stdout, text);
    dala_free(text);
    dala_store_close(store);
    return exit_code;
}

static int print_form(void *context, const char *form_id, const char *code, int64_t version, const char *title)
{
    (void)context;
    printf("%s  %-16s v%-3lld %s\n", form_id, code, (long long)version, title);
    return 0;
}

int cli_forms(cli_context *cli)
{
    if (cli->argc) return cli_usage_error("forms", "unexpected argument %s", cli->argv[0]);
    dala_store *store;
    int exit_code = cli_open_store(&store, cli, 0);
    if (exit_code) return exit_code;
    int rc = dala_survey_forms(store, cli_lang(), print_form, NULL);
    if (rc) exit_code = cli_fail(rc);
    dala_store_close(store);
    return exit_code;
}

int cli_void(cli_context *cli)
{
    const char *id = NULL, *reason = NULL;
    for (int i = 0; i < cli->argc;) {
        int matched = cli_option(cli->argc, cli->argv, &i, "--reason", &reason);
        if (matched < 0) return cli_usage_error("void", "--reason needs a TEXT");
        if (matched) continue;
        if (id || cli->argv[i][0] == '-')
            return cli_usage_error("void", "unexpected argument %s", cli->argv[i]);
        id = cli->argv[i++];
    }
    if (!id || !reason) return cli_usage_error("void", "give a record ID and --reason TEXT");
    dala_store *store;
    int exit_code = cli_open_store(&store, cli, 0);
    if (exit_code) return exit_code;
    int rc = dala_record_void(store, id, reason);
    if (rc) exit_code = cli_fail(rc);
    else printf("voided %s\n", id);
    dala_store_close(store);
    return exit_code;
}
