/* main.c - the dala-server command: `serve` runs the sync server until
 * SIGTERM or SIGINT (finishing the requests in flight), `admin ...` manages
 * the organisation tree, users, enrolment codes and devices. */
#include "dala_server.h"
#include "dala_sync.h"
#include "server_cli.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int serve(int argc, char **argv)
{
    /* Static: the strings the flags set live as long as the process. */
    static dala_server_options options = DALA_SERVER_OPTIONS_INIT;
    const char *port_file = NULL;
    if (server_cli_parse_serve(&options, &port_file, argc, argv)) return 2;
    dala_server *server;
    if (dala_server_start(&server, &options)) {
        fprintf(stderr, "dala-server: %s\n", dala_errmsg());
        return 1;
    }
    int port = dala_server_port(server);
    fprintf(stderr, "dala-server: listening on %s (port %d), database %s\n", options.listen, port,
            options.db_path);
    /* The wrapping key has been read: it leaves this process's environment
     * (/proc/PID/environ), though not that of whoever started it. */
    char *wrap = getenv("DALA_SERVER_KEY_WRAP");
    if (wrap) {
        explicit_bzero(wrap, strlen(wrap));
        unsetenv("DALA_SERVER_KEY_WRAP");
    }
    if (port_file) {
        int fd = open(port_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (f) {
            fprintf(f, "%d\n", port);
            fclose(f);
        } else if (fd >= 0) {
            close(fd);
        }
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    while (!stop_requested) pause();
    fprintf(stderr, "dala-server: stopping, finishing requests in flight\n");
    dala_server_stop(server);
    fprintf(stderr, "dala-server: stopped\n");
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: dala-server serve [--config FILE] [--db PATH] [--listen HOST:PORT] [--threads N]\n"
            "                         [--max-body BYTES] [--port-file FILE] [--log FILE] [--quiet]\n"
            "                         [--key-file FILE] [--key-wrap-file FILE]\n"
            "       dala-server admin --db PATH unit-add --kind KIND --name NAME [--parent CODE|NAME]\n"
            "       dala-server admin --db PATH user-add --login LOGIN --name NAME --role ROLE --unit CODE|NAME\n"
            "       dala-server admin --db PATH code --login LOGIN [--ttl SECONDS]\n"
            "       dala-server admin --db PATH revoke --device ID\n"
            "       dala-server admin --db PATH device-lost --device ID [--by LOGIN]\n"
            "       dala-server admin --db PATH form-publish --file FORM.json [--unit CODE|NAME]\n"
            "       dala-server admin --db PATH review --record ID --decision approve|return [--comment TEXT]\n"
            "                                          --reviewer NAME\n"
            "       dala-server admin --db PATH records\n"
            "       dala-server admin --db PATH [--key-file FILE] [--key-wrap-file FILE] rotate-key [--grace-days N]\n"
            "       dala-server admin --db PATH report --unit CODE|NAME [--year YYYY --quarter 1-4] [--lang kk|ru] [--csv]\n"
            "       dala-server admin --db PATH report --reconsolidate NOTE-ID --by LOGIN\n"
            "       dala-server verify-report --db PATH --note ID | --file SIGNED-NOTE.json\n"
            "kinds: ministry committee department body unit; roles: inspector unit_head deputy analyst admin\n"
            "the tree starts seeded: the Ministry (mvd), the Committee (kap), its departments (pd-astana,\n"
            "pd-almaty-city, pd-shymkent, pd-abai ... pd-east-kazakhstan, kpd); bodies and units go below\n"
            "keys: FILE defaults to PATH.keys; a wrapping key comes from --key-wrap-file (64 hex digits, mode\n"
            "0600) or the environment variable DALA_SERVER_KEY_WRAP\n");
}

int main(int argc, char **argv)
{
    /* Whatever the caller's umask: every file and folder dala-server
     * makes is its user's alone (the files are also opened with explicit
     * modes, see server/files.c). */
    umask(077);
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "serve") == 0) return serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "admin") == 0) return server_cli_admin(argc - 1, argv + 1);
    if (strcmp(argv[1], "verify-report") == 0) return server_cli_verify_report(argc - 1, argv + 1);
    fprintf(stderr, "dala-server: unknown command '%s'\n", argv[1]);
    usage();
    return 2;
}
