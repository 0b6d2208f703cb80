/* main.c - the dala-server command: `serve` runs the sync server until
 * SIGTERM or SIGINT (finishing the requests in flight; SIGHUP reopens its
 * log for logrotate), `admin ...` manages the organisation tree, users,
 * enrolment codes and devices; `--version` and `--help` on every command. */
#include "dala_server.h"
#include "dala_sync.h"
#include "backup.h"
#include "server_cli.h"
#include "version.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested, reopen_requested;

/* Only sets a flag: the main loop of serve does the work. */
static void on_signal(int sig)
{
    if (sig == SIGHUP) reopen_requested = 1;
    else stop_requested = 1;
}

static int serve(int argc, char **argv)
{
    /* Static: the strings the flags set live as long as the process. */
    static dala_server_options options = DALA_SERVER_OPTIONS_INIT;
    const char *port_file = NULL;
    if (server_cli_parse_serve(&options, &port_file, argc, argv)) return 2;
    /* SIGTERM, SIGINT and SIGHUP are blocked before the server's threads
     * start, so they inherit the mask and only this thread takes them, in
     * sigsuspend below (no signal lost between a check and the wait). */
    sigset_t handled, waiting;
    sigemptyset(&handled);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGHUP);
    sigprocmask(SIG_BLOCK, &handled, &waiting);
    sigdelset(&waiting, SIGTERM);
    sigdelset(&waiting, SIGINT);
    sigdelset(&waiting, SIGHUP);
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
    sigaction(SIGHUP, &action, NULL);
    while (!stop_requested) {
        sigsuspend(&waiting);
        /* logrotate moved the log away: go on in a new file by its name. */
        if (reopen_requested) {
            reopen_requested = 0;
            if (dala_server_log_reopen(server)) fprintf(stderr, "dala-server: %s\n", dala_errmsg());
        }
    }
    fprintf(stderr, "dala-server: stopping, finishing requests in flight\n");
    dala_server_stop(server);
    fprintf(stderr, "dala-server: stopped\n");
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: dala-server serve [--config FILE] [--db PATH] [--listen HOST:PORT] [--threads N]\n"
            "                         [--max-body BYTES] [--port-file FILE] [--log FILE] [--quiet]\n"
            "                         [--key-file FILE] [--key-wrap-file FILE] [--trusted-proxies ADDRS]\n"
            "                         [--metrics-allow ADDRS] [--ready-min-free-mb N] [--request-timeout-ms N]\n"
            "                         [--no-backup-before-migrate]\n");
    server_cli_admin_usage(out);
    fprintf(out,
            "       dala-server verify-report --db PATH --note ID | --file SIGNED-NOTE.json\n"
            "       dala-server backup-keygen --out KEYFILE\n"
            "       dala-server backup --db PATH --out FILE --to KEYFILE.pub [--key-file FILE]\n"
            "       dala-server restore --in FILE --key KEYFILE --db PATH [--key-file FILE] [--force]\n"
            "                           [--keep-keys | --keys-from-backup]\n"
            "       dala-server --version; any command or sub-command also takes --help and --version\n"
            "kinds: ministry committee department body unit; roles: inspector unit_head deputy analyst admin\n"
            "the tree starts seeded: the Ministry (mvd), the Committee (kap), its departments (pd-astana,\n"
            "pd-almaty-city, pd-shymkent, pd-abai ... pd-east-kazakhstan, kpd); bodies and units go below\n"
            "keys: FILE defaults to PATH.keys; a wrapping key comes from --key-wrap-file (64 hex digits, mode\n"
            "0600) or the environment variable DALA_SERVER_KEY_WRAP\n");
}

/* `serve --help` and `verify-report --help`: that command's usage. */
static int command_help(const char *command)
{
    if (strcmp(command, "serve") == 0)
        printf("usage: dala-server serve [--config FILE] [--db PATH] [--listen HOST:PORT] [--threads N]\n"
               "                         [--max-body BYTES] [--port-file FILE] [--log FILE] [--quiet]\n"
               "                         [--key-file FILE] [--key-wrap-file FILE] [--trusted-proxies ADDRS]\n"
               "                         [--metrics-allow ADDRS] [--ready-min-free-mb N] [--request-timeout-ms N]\n"
               "                         [--no-backup-before-migrate]\n"
               "serves tablets and the supervisors' pages until SIGTERM or SIGINT, finishing the requests in\n"
               "flight; SIGHUP reopens the log; the config file holds key = value lines (db, listen, threads,\n"
               "max_body_bytes, request_timeout_ms, max_pull_changes, log, key_file, key_wrap_file,\n"
               "trusted_proxies, metrics_allow, ready_min_free_mb; deploy/dala-server.conf.sample explains\n"
               "each); flags after --config win; a database of an older schema is copied to PATH.before-N\n"
               "before it is migrated, unless --no-backup-before-migrate\n");
    else
        printf("usage: dala-server verify-report --db PATH --note ID | --file SIGNED-NOTE.json\n"
               "checks a signed report note's signature: exit 0 valid, 1 not valid, 2 bad arguments\n");
    return 0;
}

int main(int argc, char **argv)
{
    /* Whatever the caller's umask: every file and folder dala-server
     * makes is its user's alone (the files are also opened with explicit
     * modes, see server/files.c). */
    umask(077);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    int is_serve = strcmp(argv[1], "serve") == 0, is_verify = strcmp(argv[1], "verify-report") == 0;
    int wants_help = server_cli_has_switch(argc - 1, argv + 1, "--help");
    /* --version is the same answer for every command; admin answers its
     * own --help per sub-command, and a command that parses its own flags
     * may answer its own. */
    if (server_cli_has_switch(argc - 1, argv + 1, "--version")) {
        printf("dala-server " DALA_VERSION "\n");
        return 0;
    }
    if ((is_serve || is_verify) && wants_help) return command_help(argv[1]);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (is_serve) return serve(argc - 1, argv + 1);
    if (strcmp(argv[1], "admin") == 0) return server_cli_admin(argc - 1, argv + 1);
    if (is_verify) return server_cli_verify_report(argc - 1, argv + 1);
    if (strcmp(argv[1], "backup") == 0) return server_cli_backup(argc - 1, argv + 1);
    if (strcmp(argv[1], "restore") == 0) return server_cli_restore(argc - 1, argv + 1);
    if (strcmp(argv[1], "backup-keygen") == 0) return server_cli_backup_keygen(argc - 1, argv + 1);
    fprintf(stderr, "dala-server: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
