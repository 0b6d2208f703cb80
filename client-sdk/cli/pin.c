/* pin.c - the PIN that unlocks the store, for the `dala` command: read
 * from a file descriptor (--pin-fd N, up to the first newline), from the
 * first line of a file only its owner may read (--pin-file PATH, else
 * $DALA_PIN_FILE), or asked on the terminal with echo off; and `dala
 * set-pin`, which seals the store's key under a new one. The terminal's
 * settings come back on every path out, Ctrl-C included. The PIN is read
 * with read(2), never through stdio's buffers, never printed, and wiped
 * (explicit_bzero) by cli_pin_wipe. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* The signals that end the command while echo is off: each restores the
 * terminal first, then takes its default action. */
static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define FATAL_SIGNAL_COUNT (sizeof fatal_signals / sizeof fatal_signals[0])

/* What the signal handler restores (set only while echo is off). */
static volatile sig_atomic_t echo_off_fd = -1;
static struct termios echo_saved;

static void restore_and_die(int sig)
{
    int fd = echo_off_fd;
    if (fd >= 0) {
        tcsetattr(fd, TCSANOW, &echo_saved);
        ssize_t ignored = write(fd, "\n", 1);
        (void)ignored;
    }
    /* SA_RESETHAND made the action the default; the signal is blocked in
     * here, so it ends the process as soon as this returns. */
    raise(sig);
}

/* Reads one line from `fd` into pin->text, a byte at a time so nothing
 * after the newline is consumed (--pin-fd 0 leaves the rest of standard
 * input to the command). 0: read (possibly empty); 1: longer than
 * CLI_PIN_MAX_BYTES; -1: read failed (errno). */
static int read_line(cli_pin *pin, int fd)
{
    size_t len = 0;
    int too_long = 0;
    for (;;) {
        char c;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0 || c == '\n') break;
        if (len < CLI_PIN_MAX_BYTES) pin->text[len++] = c;
        else too_long = 1;
        c = 0;
    }
    if (len && pin->text[len - 1] == '\r') len--; /* a file saved with CRLF */
    pin->text[len] = '\0';
    return too_long;
}

/* The PIN from a descriptor, `what` naming it in messages. */
static int read_from_fd(cli_pin *pin, int fd, const char *what)
{
    int rc = read_line(pin, fd);
    if (rc < 0) {
        fprintf(stderr, "dala: cannot read the PIN from %s: %s\n", what, strerror(errno));
        return CLI_FAILED;
    }
    if (rc > 0) {
        fprintf(stderr, "dala: the PIN read from %s is longer than %d bytes\n", what, CLI_PIN_MAX_BYTES);
        return CLI_FAILED;
    }
    if (!pin->text[0]) {
        fprintf(stderr, "dala: no PIN read from %s: its first line is empty\n", what);
        return CLI_FAILED;
    }
    return CLI_OK;
}

/* The first line of a file that its owner alone may read. */
static int read_from_file(cli_pin *pin, const char *path)
{
    int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "dala: cannot open the PIN file %s: %s\n", path, strerror(errno));
        return CLI_FAILED;
    }
    struct stat st;
    int exit_code = CLI_OK;
    if (fstat(fd, &st) != 0) {
        fprintf(stderr, "dala: cannot check the PIN file %s: %s\n", path, strerror(errno));
        exit_code = CLI_FAILED;
    } else if (st.st_mode & (S_IRGRP | S_IROTH)) {
        fprintf(stderr,
                "dala: the PIN file %s can be read by group or others (mode %04o); "
                "not used: make it private with chmod 600 %s\n",
                path, (unsigned)(st.st_mode & 07777), path);
        exit_code = CLI_FAILED;
    } else {
        char what[4200];
        snprintf(what, sizeof what, "the PIN file %s", path);
        exit_code = read_from_fd(pin, fd, what);
    }
    close(fd);
    return exit_code;
}

/* Asks once on the terminal: `prompt` on `out`, the answer from `in`
 * with echo off. */
static int ask_once(cli_pin *pin, int in, int out, const char *prompt)
{
    struct termios quiet;
    if (tcgetattr(in, &echo_saved) != 0) {
        fprintf(stderr, "dala: cannot turn the terminal's echo off: %s\n", strerror(errno));
        return CLI_FAILED;
    }
    /* Ctrl-Z waits until the answer is in: a stopped command would leave
     * the shell a terminal without echo. */
    sigset_t stop, saved_mask;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTSTP);
    sigprocmask(SIG_BLOCK, &stop, &saved_mask);
    struct sigaction on_signal, saved_actions[FATAL_SIGNAL_COUNT];
    memset(&on_signal, 0, sizeof on_signal);
    on_signal.sa_handler = restore_and_die;
    on_signal.sa_flags = SA_RESETHAND;
    sigemptyset(&on_signal.sa_mask);
    echo_off_fd = in;
    for (size_t i = 0; i < FATAL_SIGNAL_COUNT; i++) sigaction(fatal_signals[i], &on_signal, &saved_actions[i]);
    quiet = echo_saved;
    quiet.c_lflag &= (tcflag_t) ~(ECHO | ECHOE | ECHOK | ECHONL);
    quiet.c_lflag |= ICANON;
    int exit_code = CLI_OK;
    if (tcsetattr(in, TCSAFLUSH, &quiet) != 0) {
        fprintf(stderr, "dala: cannot turn the terminal's echo off: %s\n", strerror(errno));
        exit_code = CLI_FAILED;
    } else {
        ssize_t ignored = write(out, prompt, strlen(prompt));
        int rc = read_line(pin, in);
        int read_errno = errno;
        tcsetattr(in, TCSANOW, &echo_saved);
        ignored = write(out, "\n", 1); /* the officer's Enter was not echoed */
        (void)ignored;
        if (rc < 0) fprintf(stderr, "dala: cannot read the PIN from the terminal: %s\n", strerror(read_errno));
        else if (rc > 0) fprintf(stderr, "dala: a PIN has at most %d bytes\n", CLI_PIN_MAX_BYTES);
        else if (!pin->text[0]) fprintf(stderr, "dala: no PIN given\n");
        if (rc || !pin->text[0]) exit_code = CLI_FAILED;
    }
    echo_off_fd = -1;
    for (size_t i = 0; i < FATAL_SIGNAL_COUNT; i++) sigaction(fatal_signals[i], &saved_actions[i], NULL);
    sigprocmask(SIG_SETMASK, &saved_mask, NULL);
    explicit_bzero(&quiet, sizeof quiet);
    return exit_code;
}

/* Asks on /dev/tty (else standard input and error); `again`, when not
 * NULL, asks a second time and the two answers must match. */
static int ask_terminal(cli_pin *pin, const char *prompt, const char *again)
{
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    int in = tty >= 0 ? tty : STDIN_FILENO, out = tty >= 0 ? tty : STDERR_FILENO;
    int exit_code = ask_once(pin, in, out, prompt);
    if (!exit_code && again) {
        cli_pin *repeat = malloc(sizeof *repeat);
        if (!repeat) {
            fprintf(stderr, "dala: out of memory\n");
            exit_code = CLI_FAILED;
        } else {
            exit_code = ask_once(repeat, in, out, again);
            if (!exit_code && strcmp(pin->text, repeat->text) != 0) {
                fprintf(stderr, "dala: the two PINs differ; nothing was changed\n");
                exit_code = CLI_FAILED;
            }
            cli_pin_wipe(repeat);
            free(repeat);
        }
    }
    if (tty >= 0) close(tty);
    if (exit_code) cli_pin_wipe(pin);
    return exit_code;
}

int cli_pin_read(cli_pin *out, const cli_pin_source *source, const char *prompt, const char *again)
{
    memset(out, 0, sizeof *out);
    const char *file = source->file;
    if (!file && source->fd < 0 && source->env_name) {
        file = getenv(source->env_name);
        if (file && !*file) file = NULL;
    }
    int exit_code;
    if (source->fd >= 0) {
        char what[64];
        snprintf(what, sizeof what, "file descriptor %d", source->fd);
        exit_code = read_from_fd(out, source->fd, what);
    } else if (file) {
        exit_code = read_from_file(out, file);
    } else if (isatty(STDIN_FILENO)) {
        exit_code = ask_terminal(out, prompt, again);
    } else {
        fprintf(stderr,
                "dala: %s, and standard input is not a terminal to ask it on: pass %s N "
                "(the first line read from file descriptor N) or %s PATH (the first line of a file "
                "only you can read)%s%s\n",
                source->what, source->fd_option, source->file_option, source->env_name ? ", or set $" : "",
                source->env_name ? source->env_name : "");
        exit_code = CLI_FAILED;
    }
    if (exit_code) cli_pin_wipe(out);
    return exit_code;
}

int cli_pin_check_new(const cli_pin *pin)
{
    size_t len = strlen(pin->text);
    if (len >= 4 && len <= CLI_PIN_MAX_BYTES) return CLI_OK;
    fprintf(stderr, "dala: a PIN has 4 to %d characters; this one has %zu\n", CLI_PIN_MAX_BYTES, len);
    return CLI_FAILED;
}

void cli_pin_wipe(cli_pin *pin)
{
    if (pin) explicit_bzero(pin, sizeof *pin);
}

/* dala set-pin [--new-pin-fd N | --new-pin-file PATH] [--max-wrong-pins N]:
 * opens the store with its PIN, then wraps its key under the new one. The
 * old and the new PIN may come from one descriptor, a line each. */
int cli_set_pin(cli_context *cli)
{
    cli_pin_source source = {-1, NULL, NULL, "no new PIN", "--new-pin-fd", "--new-pin-file"};
    long max_wrong_pins = 0;
    for (int i = 0; i < cli->argc;) {
        const char *value;
        int matched = cli_option(cli->argc, cli->argv, &i, "--new-pin-fd", &value);
        if (matched < 0 || (matched && (source.fd = cli_parse_fd(value)) < 0))
            return cli_usage_error("set-pin", "--new-pin-fd needs a file descriptor number");
        if (matched) continue;
        matched = cli_option(cli->argc, cli->argv, &i, "--new-pin-file", &value);
        if (matched < 0 || (matched && !*value)) return cli_usage_error("set-pin", "--new-pin-file needs a PATH");
        if (matched) {
            source.file = value;
            continue;
        }
        matched = cli_option(cli->argc, cli->argv, &i, "--max-wrong-pins", &value);
        if (matched) {
            char *end = NULL;
            max_wrong_pins = matched > 0 ? strtol(value, &end, 10) : 0;
            if (matched < 0 || !end || end == value || *end || max_wrong_pins < 1 || max_wrong_pins > 100)
                return cli_usage_error("set-pin", "--max-wrong-pins is a number from 1 to 100");
            continue;
        }
        return cli_usage_error("set-pin", "unexpected argument %s", cli->argv[i]);
    }
    if (source.fd >= 0 && source.file)
        return cli_usage_error("set-pin", "give --new-pin-fd or --new-pin-file, not both");
    dala_store *store;
    int exit_code = cli_open_store(&store, cli, 0);
    if (exit_code) return exit_code;
    cli_pin *pin = malloc(sizeof *pin);
    if (!pin) {
        fprintf(stderr, "dala: out of memory\n");
        dala_store_close(store);
        return CLI_FAILED;
    }
    exit_code = cli_pin_read(pin, &source, "New PIN: ", "Repeat the new PIN: ");
    if (!exit_code) exit_code = cli_pin_check_new(pin);
    if (!exit_code) {
        dala_store_key key = {DALA_STORE_KEY_VERSION, pin->text, NULL, (int)max_wrong_pins};
        int rc = dala_store_set_key(store, &key);
        if (rc) exit_code = cli_fail(rc);
        else printf("the PIN of %s is changed\n", cli->store_path);
    }
    cli_pin_wipe(pin);
    free(pin);
    dala_store_close(store);
    return exit_code;
}
