/* test_server_cli.c - dala-server's configuration: a config file and
 * flags fill the options (flags after --config win), and a bad setting,
 * an unknown flag or a missing value is refused with a clear message. The
 * command itself (the built program): --version and --help on every
 * command and sub-command, exit 0, one version; admin errors in plain
 * words (never SQLite's constraint text); an unknown admin command creates
 * no database; units with Kazakh and Russian names, renamed later. */
#include "e2e_support.h"
#include "server_cli.h"
#include "testhelp.h"
#include "version.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *write_config(const char *text)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/dala-server.conf", test_tmpdir());
    FILE *file = fopen(path, "w");
    if (file) {
        fputs(text, file);
        fclose(file);
    }
    return path;
}

static void test_server_config_file_and_flags_fill_the_options(void)
{
    const char *path = write_config("# central server of the Astana department\n"
                                    "db = /var/lib/dala/central.db\n"
                                    "listen = 127.0.0.1:9090\n"
                                    "threads = 24\n"
                                    "max_body_bytes = 1048576\n"
                                    "request_timeout_ms = 15000\n"
                                    "max_pull_changes = 500\n");
    dala_server_options options = DALA_SERVER_OPTIONS_INIT;
    const char *port_file = NULL;
    char *argv[] = {"serve", "--config", (char *)path, "--threads", "4", "--port-file", "/tmp/p", NULL};
    CHECK_EQ_INT(server_cli_parse_serve(&options, &port_file, 7, argv), 0);
    CHECK_EQ_STR(options.db_path, "/var/lib/dala/central.db");
    CHECK_EQ_STR(options.listen, "127.0.0.1:9090");
    CHECK_EQ_INT(options.num_threads, 4); /* the flag after --config wins */
    CHECK_EQ_INT(options.max_body_bytes, 1048576);
    CHECK_EQ_INT(options.request_timeout_ms, 15000);
    CHECK_EQ_INT(options.max_pull_changes, 500);
    CHECK_EQ_STR(port_file, "/tmp/p");
}

static void test_server_config_refuses_bad_settings_and_flags(void)
{
    dala_server_options options = DALA_SERVER_OPTIONS_INIT;
    const char *port_file = NULL;
    const char *bad_value = write_config("threads = many\n");
    char *argv1[] = {"serve", "--config", (char *)bad_value, NULL};
    CHECK(server_cli_parse_serve(&options, &port_file, 3, argv1) != 0);
    const char *no_equals = write_config("listen 0.0.0.0:80\n");
    char *argv2[] = {"serve", "--config", (char *)no_equals, NULL};
    CHECK(server_cli_parse_serve(&options, &port_file, 3, argv2) != 0);
    char *argv3[] = {"serve", "--document-root", "/", NULL};
    CHECK(server_cli_parse_serve(&options, &port_file, 3, argv3) != 0);
    char *argv4[] = {"serve", "--threads", NULL};
    CHECK(server_cli_parse_serve(&options, &port_file, 2, argv4) != 0);
    char *argv5[] = {"serve", "--threads", "0", NULL};
    CHECK(server_cli_parse_serve(&options, &port_file, 3, argv5) != 0);
    char *argv6[] = {"serve", "--config", "/nonexistent/dala.conf", NULL};
    CHECK(server_cli_parse_serve(&options, &port_file, 3, argv6) != 0);
}

/* Runs the built dala-server with `args` (NULL-terminated); its exit
 * status (-1 if it did not run), stdout and stderr (malloc'd). */
static int run_server_cli(char **out, char **err, const char *const *args)
{
    const char *argv[24] = {test_binary_path("dala-server")};
    int n = 1;
    for (int i = 0; args[i] && n < 23; i++) argv[n++] = args[i];
    argv[n] = NULL;
    const char *dir = test_tmpdir();
    char out_path[600], err_path[600];
    snprintf(out_path, sizeof out_path, "%s/cli-out.txt", dir);
    snprintf(err_path, sizeof err_path, "%s/cli-err.txt", dir);
    int status;
    *out = *err = NULL;
    if (run_with_timeout(&status, argv, "/dev/null", out_path, err_path, 20000)) return -1;
    *out = test_read_file(out_path);
    *err = test_read_file(err_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define RUN(out, err, ...) run_server_cli((out), (err), (const char *const[]){__VA_ARGS__, NULL})

static void test_server_cli_version_and_help_on_every_command_exit_0(void)
{
    static const char *const version_runs[][4] = {
        {"--version"}, {"serve", "--version"}, {"admin", "--version"},
        {"admin", "user-add", "--version"}, {"verify-report", "--version"},
    };
    char *out, *err;
    for (size_t i = 0; i < sizeof version_runs / sizeof version_runs[0]; i++) {
        CHECK_EQ_INT(run_server_cli(&out, &err, version_runs[i]), 0);
        CHECK_EQ_STR(out, "dala-server " DALA_VERSION "\n");
        free(out);
        free(err);
    }
    static const struct {
        const char *args[6], *says;
    } help_runs[] = {
        {{"--help"}, "dala-server admin --db PATH user-disable --login LOGIN"},
        {{"serve", "--help"}, "usage: dala-server serve"},
        {{"serve", "--db", "/nonexistent/x.db", "--help"}, "usage: dala-server serve"},
        {{"admin", "--help"}, "user-password --login LOGIN"},
        {{"admin", "user-add", "--help"}, "usage: dala-server admin --db PATH user-add --login LOGIN"},
        {{"admin", "--db", "x.db", "unit-add", "--help"}, "--name-kk NAME --name-ru NAME"},
        {{"admin", "user-edit", "--help"}, "[--name NAME] [--unit CODE|NAME] [--role ROLE]"},
        {{"admin", "report", "--help"}, "--reconsolidate NOTE-ID"},
        {{"verify-report", "--help"}, "usage: dala-server verify-report"},
    };
    for (size_t i = 0; i < sizeof help_runs / sizeof help_runs[0]; i++) {
        CHECK_EQ_INT(run_server_cli(&out, &err, help_runs[i].args), 0);
        CHECK_CONTAINS(out, help_runs[i].says);
        free(out);
        free(err);
    }
    /* No database was made by any of them. */
    CHECK(access("x.db", F_OK) != 0);
    CHECK_EQ_INT(RUN(&out, &err, "frobnicate"), 2);
    CHECK_CONTAINS(err, "unknown command 'frobnicate'");
    free(out);
    free(err);
}

static void test_server_cli_unknown_admin_command_creates_no_database(void)
{
    char db[600], *out, *err;
    snprintf(db, sizeof db, "%s/x.db", test_tmpdir());
    CHECK_EQ_INT(RUN(&out, &err, "admin", "--db", db, "frobnicate"), 2);
    CHECK_CONTAINS(err, "unknown command 'frobnicate'");
    free(out);
    free(err);
    CHECK(access(db, F_OK) != 0);
    CHECK_EQ_INT(RUN(&out, &err, "admin", "--db", db), 2);
    free(out);
    free(err);
    CHECK(access(db, F_OK) != 0);
}

/* One text of the database at `db` (?1 = `key`); malloc'd or NULL. */
static char *db_text(const char *db, const char *sql, const char *key)
{
    sqlite3 *conn = NULL;
    sqlite3_stmt *stmt = NULL;
    char *text = NULL;
    if (sqlite3_open_v2(db, &conn, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
        if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
            text = strdup((const char *)sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    return text;
}

#define CHECK_DB(db, sql, key, want)                       \
    do {                                                   \
        char *got_ = db_text((db), (sql), (key));          \
        CHECK_EQ_STR(got_ ? got_ : "(none)", (want));      \
        free(got_);                                        \
    } while (0)

static void test_server_cli_admin_errors_in_plain_words(void)
{
    char db[600], *out, *err;
    snprintf(db, sizeof db, "%s/central.db", test_tmpdir());
    CHECK_EQ_INT(RUN(&out, &err, "admin", "--db", db, "unit-add", "--kind", "unit", "--name", "Esil", "--parent",
                     "pd-astana"), 0);
    free(out);
    free(err);
    static const struct {
        const char *args[14], *says;
    } runs[] = {
        {{"user-add", "--login", "x", "--name", "X", "--role", "boss", "--unit", "Esil"},
         "role must be one of: inspector, unit_head, deputy, analyst, admin"},
        {{"user-add", "--login", "x", "--name", "X", "--role", "Inspector", "--unit", "Esil"},
         "role must be one of: inspector, unit_head, deputy, analyst, admin"},
        {{"unit-add", "--kind", "squad", "--name", "Y"}, "kind must be one of: ministry, committee, department, body, unit"},
        {{"unit-add", "--name", "Y"}, "kind must be one of"},
        {{"unit-add", "--kind", "unit"}, "a name is needed"},
        {{"user-add", "--login", "x", "--name", "X", "--role", "inspector", "--unit", "Nowhere"}, "no unit Nowhere"},
        {{"user-edit", "--login", "nobody", "--role", "admin"}, "no user nobody"},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        const char *args[20] = {"admin", "--db", db};
        for (int a = 0; runs[i].args[a]; a++) args[3 + a] = runs[i].args[a];
        CHECK_EQ_INT(run_server_cli(&out, &err, args), 1);
        CHECK_CONTAINS(err, runs[i].says);
        CHECK(err && !strstr(err, "constraint") && !strstr(err, "CHECK"));
        free(out);
        free(err);
    }
    CHECK_EQ_INT(RUN(&out, &err, "admin", "--db", db, "user-add", "--login", "x", "--name", "X", "--role", "inspector",
                     "--unit", "Esil"), 0);
    free(out);
    free(err);
    CHECK_EQ_INT(RUN(&out, &err, "admin", "--db", db, "user-add", "--login", "x", "--name", "X", "--role", "inspector",
                     "--unit", "Esil"), 1);
    CHECK_CONTAINS(err, "the login x is taken");
    CHECK(err && !strstr(err, "UNIQUE"));
    free(out);
    free(err);
    CHECK_DB(db, "SELECT count(*) FROM app_user WHERE login = ?1", "x", "1");
}

static void test_server_cli_units_carry_kazakh_and_russian_names_editable_later(void)
{
    char db[600], *out, *err;
    snprintf(db, sizeof db, "%s/central.db", test_tmpdir());
    CHECK_EQ_INT(RUN(&out, &err, "admin", "--db", db, "unit-add", "--kind", "unit", "--name-kk", "Есіл аудандық бөлінісі",
                     "--name-ru", "Есильское районное подразделение", "--parent", "pd-astana"), 0);
    free(out);
    free(err);
    const char *both = "SELECT name_kk || '|' || name_ru || '|' || name FROM org_unit WHERE name_ru = ?1 OR name = ?1";
    CHECK_DB(db, both, "Есильское районное подразделение",
             "Есіл аудандық бөлінісі|Есильское районное подразделение|Есильское районное подразделение");
    /* --name alone is both names, as before. */
    CHECK_EQ_INT(RUN(&out, &err, "admin", "--db", db, "unit-add", "--kind", "unit", "--name", "Saryarka unit",
                     "--parent", "pd-astana"), 0);
    free(out);
    free(err);
    CHECK_DB(db, both, "Saryarka unit", "Saryarka unit|Saryarka unit|Saryarka unit");
    /* Renamed later, found by either name; the Russian one is its look-up name. */
    CHECK_EQ_INT(RUN(&out, &err, "admin", "--db", db, "unit-edit", "--unit", "Saryarka unit", "--name-kk",
                     "Сарыарқа аудандық бөлінісі"), 0);
    free(out);
    free(err);
    CHECK_DB(db, both, "Saryarka unit", "Сарыарқа аудандық бөлінісі|Saryarka unit|Saryarka unit");
    CHECK_EQ_INT(RUN(&out, &err, "admin", "--db", db, "unit-edit", "--unit", "Сарыарқа аудандық бөлінісі", "--name-ru",
                     "Сарыаркинское районное подразделение"), 0);
    free(out);
    free(err);
    CHECK_DB(db, both, "Сарыаркинское районное подразделение",
             "Сарыарқа аудандық бөлінісі|Сарыаркинское районное подразделение|Сарыаркинское районное подразделение");
    CHECK_DB(db, "SELECT count(*) FROM audit WHERE action = 'unit_edit' AND detail LIKE ?1", "unit %", "2");
    /* A user is added to it by its new name; a rename needs a name. */
    CHECK_EQ_INT(RUN(&out, &err, "admin", "--db", db, "user-add", "--login", "s.officer", "--name", "S", "--role",
                     "inspector", "--unit", "Сарыарқа аудандық бөлінісі"), 0);
    free(out);
    free(err);
    CHECK_EQ_INT(RUN(&out, &err, "admin", "--db", db, "unit-edit", "--unit", "pd-astana"), 2);
    free(out);
    free(err);
}

const dala_test server_cli_tests[] = {
    {"server_config_file_and_flags_fill_the_options", test_server_config_file_and_flags_fill_the_options},
    {"server_config_refuses_bad_settings_and_flags", test_server_config_refuses_bad_settings_and_flags},
    {"server_cli_version_and_help_on_every_command_exit_0", test_server_cli_version_and_help_on_every_command_exit_0},
    {"server_cli_unknown_admin_command_creates_no_database", test_server_cli_unknown_admin_command_creates_no_database},
    {"server_cli_admin_errors_in_plain_words", test_server_cli_admin_errors_in_plain_words},
    {"server_cli_units_carry_kazakh_and_russian_names_editable_later",
     test_server_cli_units_carry_kazakh_and_russian_names_editable_later},
    {NULL, NULL},
};
