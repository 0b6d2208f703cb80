/* server_cli.c - parses `dala-server serve` flags and its config file
 * (`key = value` lines, '#' comments; keys: db, listen, threads,
 * max_body_bytes, request_timeout_ms, max_pull_changes, log, key_file,
 * key_wrap_file), and runs the `admin` commands. Flags given after
 * --config override the file. */
#include "server_cli.h"
#include "dala_sync.h"
#include "sync_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
                 {"--key-file", "key_file"}, {"--key-wrap-file", "key_wrap_file"}};
    for (int i = 1; i < argc; i++) {
        int known = 0;
        if (strcmp(argv[i], "--quiet") == 0) {
            options->quiet = 1;
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

static int admin_failed(const char *what)
{
    fprintf(stderr, "dala-server admin %s: %s\n", what, dala_errmsg());
    return 1;
}

static int print_record(void *context, const char *record_id, const char *table,
                        const char *unit_name, int64_t seq, int open_conflicts)
{
    (void)context;
    printf("%-36s  %-12s  %4lld  %9d  %s\n", record_id, table, (long long)seq, open_conflicts, unit_name);
    return 0;
}

static int admin_command(dala_admin *admin, const char *command, int argc, char **argv)
{
    int64_t id = 0, parent = 0, unit = 0, user = 0;
    const char *name = server_cli_flag(argc, argv, "--name"), *parent_name = server_cli_flag(argc, argv, "--parent");
    if (strcmp(command, "unit-add") == 0) {
        if (parent_name && dala_admin_unit_find(&parent, admin, parent_name)) return admin_failed(command);
        if (dala_admin_unit_add(&id, admin, parent, server_cli_flag(argc, argv, "--kind"), name))
            return admin_failed(command);
        printf("%lld\n", (long long)id);
        return 0;
    }
    if (strcmp(command, "user-add") == 0) {
        const char *unit_name = server_cli_flag(argc, argv, "--unit"), *role = server_cli_flag(argc, argv, "--role");
        if (!unit_name || !role) return fprintf(stderr, "dala-server admin user-add: --unit and --role are needed\n"), 2;
        if (dala_admin_unit_find(&unit, admin, unit_name) ||
            dala_admin_user_add(&id, admin, server_cli_flag(argc, argv, "--login"), name, role, unit))
            return admin_failed(command);
        printf("%lld\n", (long long)id);
        return 0;
    }
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
    if (strcmp(command, "password") == 0) {
        /* From the first line of stdin, never from the command line (ps would show it). */
        const char *login = server_cli_flag(argc, argv, "--login");
        char password[1100];
        if (!login) return fprintf(stderr, "dala-server admin password: --login LOGIN, the password on stdin\n"), 2;
        if (!fgets(password, sizeof password, stdin)) return fprintf(stderr, "dala-server admin password: no password on stdin\n"), 2;
        password[strcspn(password, "\r\n")] = '\0';
        int rc = dala_admin_user_find(&user, admin, login);
        if (!rc) rc = dala_admin_user_password(admin, user, password);
        explicit_bzero(password, sizeof password);
        if (rc) return admin_failed(command);
        printf("password set for %s\n", login);
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
    const char *db = server_cli_flag(argc, argv, "--db");
    int at = 1;
    while (at < argc && strncmp(argv[at], "--", 2) == 0) at += 2;
    if (!db || at >= argc) {
        fprintf(stderr, "dala-server admin: --db PATH and a command are needed\n");
        return 2;
    }
    admin_key_file = server_cli_flag(argc, argv, "--key-file");
    admin_key_wrap_file = server_cli_flag(argc, argv, "--key-wrap-file");
    dala_admin *admin;
    if (dala_admin_open(&admin, db)) return admin_failed("open");
    int rc = admin_command(admin, argv[at], argc - at, argv + at);
    dala_admin_close(admin);
    return rc;
}
