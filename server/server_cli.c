/* server_cli.c - parses `dala-server serve` flags and its config file
 * (`key = value` lines, '#' comments; keys: db, listen, threads,
 * max_body_bytes, request_timeout_ms, max_pull_changes, log, key_file,
 * key_wrap_file, trusted_proxies, metrics_allow, ready_min_free_mb), and
 * runs the `admin` commands (each with --help; an unknown one is refused
 * before any database is opened). Flags given
 * after --config override the file. */
#include "server_cli.h"
#include "dala_sync.h"
#include "sync_int.h"
#include "version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Parses a positive integer no greater than `max`; -1 if it is not one. */
static long long parse_count(const char *text, long long max)
{
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno || end == text || *end || value < 1 || value > max) return -1;
    return value;
}

/* The strings settings point to live as long as the process: they are
 * kept here, so they stay reachable (and are never reported as leaks). */
static char **kept_strings;
static size_t kept_count;

static char *keep_string(const char *value)
{
    char **grown = realloc(kept_strings, (kept_count + 1) * sizeof *grown);
    if (!grown) return NULL;
    kept_strings = grown;
    char *copy = strdup(value);
    if (copy) kept_strings[kept_count++] = copy;
    return copy;
}

/* Applies one setting; returns non-zero (after printing why) if bad. */
static int apply_setting(dala_server_options *options, const char *key, const char *value)
{
    long long n;
    char *copy = keep_string(value);
    if (!copy) return 1;
    if (strcmp(key, "db") == 0) options->db_path = copy;
    else if (strcmp(key, "listen") == 0) options->listen = copy;
    else if (strcmp(key, "log") == 0) options->access_log = copy;
    else if (strcmp(key, "key_file") == 0) options->key_file = copy;
    else if (strcmp(key, "key_wrap_file") == 0) options->key_wrap_file = copy;
    else if (strcmp(key, "threads") == 0 && (n = parse_count(value, 512)) > 0) options->num_threads = (int)n;
    else if (strcmp(key, "max_body_bytes") == 0 && (n = parse_count(value, 1LL << 30)) > 0)
        options->max_body_bytes = (size_t)n;
    else if (strcmp(key, "request_timeout_ms") == 0 && (n = parse_count(value, 3600000)) > 0)
        options->request_timeout_ms = (int)n;
    else if (strcmp(key, "max_pull_changes") == 0 && (n = parse_count(value, DALA_MAX_CHANGES_PER_BATCH)) > 0)
        options->max_pull_changes = (uint32_t)n;
    else if (strcmp(key, "trusted_proxies") == 0) options->trusted_proxies = copy;
    else if (strcmp(key, "metrics_allow") == 0) options->metrics_allow = copy;
    else if (strcmp(key, "ready_min_free_mb") == 0 && strcmp(value, "0") == 0) options->ready_min_free_mb = 0;
    else if (strcmp(key, "ready_min_free_mb") == 0 && (n = parse_count(value, 1LL << 40)) > 0)
        options->ready_min_free_mb = n;
    else {
        fprintf(stderr, "dala-server: bad setting %s = '%s'\n", key, value);
        return 1;
    }
    return 0;
}

static char *trim(char *text)
{
    while (*text == ' ' || *text == '\t') text++;
    char *end = text + strlen(text);
    while (end > text && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r')) *--end = '\0';
    return text;
}

static int read_config(dala_server_options *options, const char *path)
{
    FILE *file = fopen(path, "r");
    if (!file) {
        fprintf(stderr, "dala-server: cannot read config %s: %s\n", path, strerror(errno));
        return 1;
    }
    char line[1024];
    int line_no = 0, bad = 0;
    while (!bad && fgets(line, sizeof line, file)) {
        line_no++;
        char *text = trim(line);
        if (!*text || *text == '#') continue;
        char *eq = strchr(text, '=');
        if (!eq) {
            fprintf(stderr, "dala-server: %s:%d: expected key = value\n", path, line_no);
            bad = 1;
            break;
        }
        *eq = '\0';
        bad = apply_setting(options, trim(text), trim(eq + 1));
    }
    fclose(file);
    return bad;
}

int server_cli_parse_serve(dala_server_options *options, const char **port_file, int argc, char **argv)
{
    static const struct {
        const char *flag, *key;
    } flags[] = {{"--db", "db"}, {"--listen", "listen"}, {"--threads", "threads"},
                 {"--max-body", "max_body_bytes"}, {"--log", "log"}, {"--page", "max_pull_changes"},
                 {"--key-file", "key_file"}, {"--key-wrap-file", "key_wrap_file"},
                 {"--trusted-proxies", "trusted_proxies"}, {"--metrics-allow", "metrics_allow"},
                 {"--ready-min-free-mb", "ready_min_free_mb"}, {"--request-timeout-ms", "request_timeout_ms"}};
    for (int i = 1; i < argc; i++) {
        int known = 0;
        if (strcmp(argv[i], "--quiet") == 0) {
            options->quiet = 1;
            continue;
        }
        if (strcmp(argv[i], "--no-backup-before-migrate") == 0) { /* read where the migration runs (db.c) */
            setenv("DALA_NO_BACKUP_BEFORE_MIGRATE", "1", 1);
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "dala-server: %s needs a value\n", argv[i]);
            return 1;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (read_config(options, argv[++i])) return 1;
            continue;
        }
        if (strcmp(argv[i], "--port-file") == 0) {
            *port_file = argv[++i];
            continue;
        }
        for (size_t f = 0; f < sizeof flags / sizeof flags[0] && !known; f++)
            if (strcmp(argv[i], flags[f].flag) == 0) {
                if (apply_setting(options, flags[f].key, argv[++i])) return 1;
                known = 1;
            }
        if (!known) {
            fprintf(stderr, "dala-server: unknown flag %s\n", argv[i]);
            return 1;
        }
    }
    return 0;
}

int server_cli_read_file(char **out, const char *path, size_t max_bytes)
{
    *out = NULL;
    FILE *file = fopen(path, "rb");
    if (!file) return dala_error_set(DALA_EIO, "open %s: %s", path, strerror(errno));
    char *text = malloc(max_bytes + 1);
    size_t len = text ? fread(text, 1, max_bytes + 1, file) : 0;
    int failed = ferror(file);
    fclose(file);
    if (!text) return dala_error_set(DALA_ENOMEM, "read %s: out of memory", path);
    if (failed || len > max_bytes) {
        free(text);
        return dala_error_set(failed ? DALA_EIO : DALA_ELIMIT, "read %s: %s", path,
                              failed ? "read error" : "the file is too large");
    }
    text[len] = '\0';
    *out = text;
    return DALA_OK;
}

/* The value of `--name` among the admin arguments, or NULL. */
const char *server_cli_flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return NULL;
}

/* The key file flags of `admin`, before or after the command. */
static const char *admin_key_file, *admin_key_wrap_file;

/* The admin commands: name, arguments, and what it does, for --help. A
 * command not in this table is refused before the database is opened. */
typedef struct admin_info {
    const char *name, *args, *about;
} admin_info;

static const admin_info admin_commands[] = {
    {"unit-add", "--kind KIND (--name NAME | --name-kk NAME --name-ru NAME) [--parent CODE|NAME]",
     "adds a unit below --parent (the top of the tree if none); --name alone is both its Kazakh and Russian name"},
    {"unit-edit", "--unit CODE|NAME [--name-kk NAME] [--name-ru NAME]",
     "renames a unit in Kazakh, Russian or both (audited)"},
    {"user-add", "--login LOGIN --name NAME --role ROLE --unit CODE|NAME", "adds a user"},
    {"user-disable", "--login LOGIN",
     "disables an account: no sign-in, web sessions end at once, no enrolment codes; their tablets keep "
     "syncing until revoked or marked lost (audited)"},
    {"user-enable", "--login LOGIN", "enables a disabled account again (audited)"},
    {"user-edit", "--login LOGIN [--name NAME] [--unit CODE|NAME] [--role ROLE]",
     "renames a user, moves them to another unit or gives them another role (audited)"},
    {"user-password", "--login LOGIN [--password-file FILE]",
     "sets a new password (10 characters or more) from the first line of FILE (mode 0600) or of stdin, "
     "never from the command line; ends the user's web sessions (audited)"},
    {"password", "--login LOGIN [--password-file FILE]", "the same as user-password"},
    {"code", "--login LOGIN [--ttl SECONDS]", "makes a single-use enrolment code for an officer's tablet"},
    {"revoke", "--device ID", "revokes a tablet: its next sync is refused"},
    {"device-lost", "--device ID [--by LOGIN]", "marks a tablet lost: its next sync erases it"},
    {"form-publish", "--file FORM.json [--unit CODE|NAME]", "publishes a questionnaire to the tablets below a unit"},
    {"review", "--record ID --decision approve|return [--comment TEXT] --reviewer NAME",
     "records a review decision; it reaches the unit's tablets at their next sync"},
    {"records", "", "lists the records held, with no field values"},
    {"rotate-key", "[--grace-days N]",
     "starts a new server key epoch (--key-file FILE and --key-wrap-file FILE go before the command)"},
    {"report", "--unit CODE|NAME [--year YYYY --quarter 1-4] [--lang kk|ru] [--csv] | "
               "--reconsolidate NOTE-ID --by LOGIN",
     "a unit's quarterly figures, or a department's note consolidated again"},
};

#define ADMIN_COMMAND_COUNT (sizeof admin_commands / sizeof admin_commands[0])

static const admin_info *admin_info_find(const char *name)
{
    for (size_t i = 0; name && i < ADMIN_COMMAND_COUNT; i++)
        if (strcmp(admin_commands[i].name, name) == 0) return &admin_commands[i];
    return NULL;
}

void server_cli_admin_usage(FILE *out)
{
    for (size_t i = 0; i < ADMIN_COMMAND_COUNT; i++)
        fprintf(out, "       dala-server admin --db PATH %s%s%s\n", admin_commands[i].name,
                admin_commands[i].args[0] ? " " : "", admin_commands[i].args);
}

int server_cli_has_switch(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], name) == 0) return 1;
    return 0;
}

static int admin_failed(const char *what)
{
    fprintf(stderr, "dala-server admin %s: %s\n", what, dala_errmsg());
    return 1;
}

/* A usage error of `command`: what it takes. Exit code 2. */
static int admin_usage_error(const char *command)
{
    const admin_info *info = admin_info_find(command);
    fprintf(stderr, "dala-server admin %s: %s\n", command, info ? info->args : "unknown command");
    return 2;
}

static int print_record(void *context, const char *record_id, const char *table,
                        const char *unit_name, int64_t seq, int open_conflicts)
{
    (void)context;
    printf("%-36s  %-12s  %4lld  %9d  %s\n", record_id, table, (long long)seq, open_conflicts, unit_name);
    return 0;
}

/* Reads a new password: the first line of `path` (which only its owner
 * may read), else of stdin, without echo on a terminal. 0, or 2 after
 * saying why. */
static int read_password(char *out, size_t size, const char *path)
{
    FILE *file = stdin;
    struct termios saved;
    int echo_off = 0;
    if (path) {
        file = fopen(path, "r");
        struct stat st;
        if (!file) return fprintf(stderr, "dala-server admin: cannot read %s: %s\n", path, strerror(errno)), 2;
        if (fstat(fileno(file), &st) == 0 && (st.st_mode & 077)) {
            fclose(file);
            return fprintf(stderr, "dala-server admin: %s can be read by others; chmod 600 it first\n", path), 2;
        }
    } else if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
        struct termios quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
        fprintf(stderr, "new password: ");
    }
    char *line = fgets(out, (int)size, file);
    if (echo_off) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fprintf(stderr, "\n");
    }
    if (file != stdin) fclose(file);
    if (!line) return fprintf(stderr, "dala-server admin: no password in %s\n", path ? path : "stdin"), 2;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

/* user-disable, user-enable, user-edit and user-password: one account. */
static int account_command(dala_admin *admin, const char *command, int argc, char **argv)
{
    const char *login = server_cli_flag(argc, argv, "--login");
    int64_t user = 0, unit = 0;
    if (!login) return admin_usage_error(command);
    if (strcmp(command, "user-disable") == 0) {
        dala_admin_disabled done;
        if (dala_admin_user_find(&user, admin, login) || dala_admin_user_disable(&done, admin, user, 0))
            return admin_failed(command);
        printf("%s disabled: %lld web session%s ended", login, (long long)done.sessions_ended,
               done.sessions_ended == 1 ? "" : "s");
        if (done.active_tablets)
            printf("; %lld tablet%s still sync%s until revoked or marked lost", (long long)done.active_tablets,
                   done.active_tablets == 1 ? "" : "s", done.active_tablets == 1 ? "s" : "");
        printf("\n");
        return 0;
    }
    if (strcmp(command, "user-enable") == 0) {
        if (dala_admin_user_find(&user, admin, login) || dala_admin_user_enable(admin, user, 0))
            return admin_failed(command);
        printf("%s enabled\n", login);
        return 0;
    }
    if (strcmp(command, "user-edit") == 0) {
        const char *name = server_cli_flag(argc, argv, "--name"), *unit_name = server_cli_flag(argc, argv, "--unit");
        const char *role = server_cli_flag(argc, argv, "--role");
        if (!name && !unit_name && !role) return admin_usage_error(command);
        if ((role && dala_admin_role_check(role)) || dala_admin_user_find(&user, admin, login) ||
            (unit_name && dala_admin_unit_find(&unit, admin, unit_name)) ||
            dala_admin_user_edit(admin, user, name, role, unit, 0))
            return admin_failed(command);
        printf("%s changed\n", login);
        return 0;
    }
    /* user-password, and its older name password: never from argv (ps would show it). */
    char password[1100];
    int rc = read_password(password, sizeof password, server_cli_flag(argc, argv, "--password-file"));
    if (rc) return rc;
    rc = dala_admin_user_find(&user, admin, login);
    if (!rc) rc = dala_admin_user_password_reset(admin, user, password, 0);
    explicit_bzero(password, sizeof password);
    if (rc) return admin_failed(command);
    printf("password set for %s; their web sessions ended\n", login);
    return 0;
}

static int admin_command(dala_admin *admin, const char *command, int argc, char **argv)
{
    int64_t id = 0, parent = 0, unit = 0, user = 0;
    const char *name = server_cli_flag(argc, argv, "--name"), *parent_name = server_cli_flag(argc, argv, "--parent");
    if (strcmp(command, "unit-add") == 0) {
        const char *kk = server_cli_flag(argc, argv, "--name-kk"), *ru = server_cli_flag(argc, argv, "--name-ru");
        if (parent_name && dala_admin_unit_find(&parent, admin, parent_name)) return admin_failed(command);
        if (dala_admin_unit_add_named(&id, admin, parent, server_cli_flag(argc, argv, "--kind"), name, kk, ru))
            return admin_failed(command);
        printf("%lld\n", (long long)id);
        return 0;
    }
    if (strcmp(command, "unit-edit") == 0) {
        const char *unit_name = server_cli_flag(argc, argv, "--unit");
        const char *kk = server_cli_flag(argc, argv, "--name-kk"), *ru = server_cli_flag(argc, argv, "--name-ru");
        if (!kk) kk = name; /* --name renames in both languages */
        if (!ru) ru = name;
        if (!unit_name || (!kk && !ru)) return admin_usage_error(command);
        if (dala_admin_unit_find(&unit, admin, unit_name) || dala_admin_unit_rename(admin, unit, kk, ru, 0))
            return admin_failed(command);
        printf("unit %lld renamed\n", (long long)unit);
        return 0;
    }
    if (strcmp(command, "user-add") == 0) {
        const char *unit_name = server_cli_flag(argc, argv, "--unit"), *role = server_cli_flag(argc, argv, "--role");
        if (!unit_name || !role) return fprintf(stderr, "dala-server admin user-add: --unit and --role are needed\n"), 2;
        if (dala_admin_role_check(role) || dala_admin_unit_find(&unit, admin, unit_name) ||
            dala_admin_user_add(&id, admin, server_cli_flag(argc, argv, "--login"), name, role, unit))
            return admin_failed(command);
        printf("%lld\n", (long long)id);
        return 0;
    }
    if (strncmp(command, "user-", 5) == 0 || strcmp(command, "password") == 0)
        return account_command(admin, command, argc, argv);
    if (strcmp(command, "code") == 0) {
        const char *login = server_cli_flag(argc, argv, "--login"), *ttl = server_cli_flag(argc, argv, "--ttl");
        char code[32];
        long long seconds = ttl ? parse_count(ttl, 24 * 3600) : 600;
        if (!login || seconds < 0) return fprintf(stderr, "dala-server admin code: --login LOGIN [--ttl SECONDS]\n"), 2;
        if (dala_admin_user_find(&user, admin, login) || dala_admin_user_unit(&unit, admin, user) ||
            dala_admin_code_new(code, admin, user, unit, (int)seconds))
            return admin_failed(command);
        printf("%s\n", code);
        return 0;
    }
    if (strcmp(command, "revoke") == 0) {
        const char *device = server_cli_flag(argc, argv, "--device");
        long long device_id = device ? parse_count(device, INT64_MAX) : -1;
        if (device_id < 0) return fprintf(stderr, "dala-server admin revoke: --device ID\n"), 2;
        if (dala_admin_device_revoke(admin, device_id)) return admin_failed(command);
        printf("device %lld revoked\n", device_id);
        return 0;
    }
    if (strcmp(command, "device-lost") == 0) {
        /* --by names the supervisor who reported it, for the audit trail. */
        const char *device = server_cli_flag(argc, argv, "--device"), *by = server_cli_flag(argc, argv, "--by");
        long long device_id = device ? parse_count(device, INT64_MAX) : -1;
        if (device_id < 0) return fprintf(stderr, "dala-server admin device-lost: --device ID [--by LOGIN]\n"), 2;
        if ((by && dala_admin_user_find(&user, admin, by)) || dala_admin_device_lost(admin, device_id, user))
            return admin_failed(command);
        printf("device %lld marked lost: its next sync erases it\n", device_id);
        return 0;
    }
    if (strcmp(command, "form-publish") == 0) {
        const char *file = server_cli_flag(argc, argv, "--file"), *unit_name = server_cli_flag(argc, argv, "--unit");
        char form_id[DALA_UUID_TEXT_LEN + 1], *definition = NULL;
        if (!file) return fprintf(stderr, "dala-server admin form-publish: --file FORM.json [--unit CODE|NAME]\n"), 2;
        if (server_cli_read_file(&definition, file, 1 << 20)) return admin_failed(command);
        int rc = unit_name ? dala_admin_unit_find(&unit, admin, unit_name) : DALA_OK;
        if (!rc) rc = dala_admin_form_publish(form_id, admin, definition, unit);
        free(definition);
        if (rc) return admin_failed(command);
        printf("%s\n", form_id);
        return 0;
    }
    if (strcmp(command, "review") == 0) {
        const char *record = server_cli_flag(argc, argv, "--record"), *decision = server_cli_flag(argc, argv, "--decision");
        const char *reviewer = server_cli_flag(argc, argv, "--reviewer");
        char review_id[DALA_UUID_TEXT_LEN + 1];
        if (!record || !decision || !reviewer)
            return fprintf(stderr, "dala-server admin review: --record ID --decision approve|return "
                                   "[--comment TEXT] --reviewer NAME\n"), 2;
        if (dala_admin_review(review_id, admin, record, decision, server_cli_flag(argc, argv, "--comment"), reviewer))
            return admin_failed(command);
        printf("%s\n", review_id);
        return 0;
    }
    if (strcmp(command, "records") == 0) {
        printf("%-36s  %-12s  %-4s  %-9s  %s\n", "record", "table", "seq", "conflicts", "unit");
        if (dala_admin_record_list(admin, print_record, NULL)) return admin_failed(command);
        return 0;
    }
    if (strcmp(command, "rotate-key") == 0) {
        /* --grace-seconds is for tests and drills; operators give days. */
        const char *days = server_cli_flag(argc, argv, "--grace-days");
        const char *seconds = server_cli_flag(argc, argv, "--grace-seconds");
        long long grace = seconds ? parse_count(seconds, 3650LL * 86400)
                          : days  ? parse_count(days, 3650) * 86400
                                  : 30LL * 86400;
        if (grace < 0)
            return fprintf(stderr, "dala-server admin rotate-key: [--grace-days N] (1 to 3650; default 30)\n"), 2;
        dala_key_rotation rotation;
        if (dala_admin_rotate_key(&rotation, admin, admin_key_file, admin_key_wrap_file, grace))
            return admin_failed(command);
        char until[32] = "";
        time_t when = (time_t)rotation.previous_destroy_after;
        struct tm utc;
        if (gmtime_r(&when, &utc)) strftime(until, sizeof until, "%Y-%m-%dT%H:%M:%SZ", &utc);
        printf("key epoch %u is current, fingerprint %s\n", (unsigned)rotation.epoch, rotation.fingerprint);
        if (rotation.previous_epoch)
            printf("key epoch %u stays usable for tablets that have not synced yet; its secret is destroyed "
                   "after %s\n", (unsigned)rotation.previous_epoch, until);
        printf("the running server uses the new key from its next sync; back up the key file now\n");
        return 0;
    }
    if (strcmp(command, "report") == 0) return server_cli_report(admin, argc, argv);
    fprintf(stderr, "dala-server admin: unknown command '%s'\n", command);
    return 2;
}

int server_cli_admin(int argc, char **argv)
{
    if (server_cli_has_switch(argc, argv, "--version")) {
        printf("dala-server " DALA_VERSION "\n");
        return 0;
    }
    /* The command is the first word that is not a flag's value. */
    int at = 1;
    while (at < argc && strncmp(argv[at], "--", 2) == 0)
        at += strcmp(argv[at], "--help") == 0 ? 1 : 2;
    const char *command = at < argc ? argv[at] : NULL;
    const admin_info *info = admin_info_find(command);
    if (server_cli_has_switch(argc, argv, "--help")) {
        if (info) {
            printf("usage: dala-server admin --db PATH %s%s%s\n%s\n", info->name, info->args[0] ? " " : "",
                   info->args, info->about);
        } else {
            printf("usage:");
            server_cli_admin_usage(stdout);
        }
        return 0;
    }
    const char *db = server_cli_flag(argc, argv, "--db");
    if (!db || !command) {
        fprintf(stderr, "dala-server admin: --db PATH and a command are needed (dala-server admin --help)\n");
        return 2;
    }
    /* Refused before the database is opened, so nothing is created. */
    if (!info) {
        fprintf(stderr, "dala-server admin: unknown command '%s' (dala-server admin --help lists them)\n", command);
        return 2;
    }
    admin_key_file = server_cli_flag(argc, argv, "--key-file");
    admin_key_wrap_file = server_cli_flag(argc, argv, "--key-wrap-file");
    dala_admin *admin;
    if (dala_admin_open(&admin, db)) return admin_failed("open");
    int rc = admin_command(admin, command, argc - at, argv + at);
    dala_admin_close(admin);
    return rc;
}
