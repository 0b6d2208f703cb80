/* test_server_cli.c - dala-server's configuration: a config file and
 * flags fill the options (flags after --config win), and a bad setting,
 * an unknown flag or a missing value is refused with a clear message. */
#include "server_cli.h"
#include "testhelp.h"

#include <stdio.h>

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

const dala_test server_cli_tests[] = {
    {"server_config_file_and_flags_fill_the_options", test_server_config_file_and_flags_fill_the_options},
    {"server_config_refuses_bad_settings_and_flags", test_server_config_refuses_bad_settings_and_flags},
    {NULL, NULL},
};
