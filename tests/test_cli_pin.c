/* test_cli_pin.c - suite "cli_pin": how the `dala` command gets the PIN
 * that unlocks the store (client-sdk/cli/pin.c), run as a real program:
 * from a file descriptor (--pin-fd), from a file only its owner may read
 * (--pin-file, $DALA_PIN_FILE), or asked on a terminal (a pseudo-terminal
 * here) with echo off and the terminal restored, Ctrl-C included; a PIN
 * file others may read refused; a wrong PIN, a store that erased itself,
 * and no PIN source at all each said plainly; `dala set-pin` replacing the
 * PIN. The stores are made in this process with a cheap PBKDF2 count,
 * which they keep, so the command's opens stay quick; only set-pin's new
 * key takes the real count (two opens). The PIN never shows in what the
 * command prints. */
#include "e2e_support.h"
#include "testhelp.h"

#include "key_file.h" /* dala_pin_iterations_set */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PIN "8642-cli"
#define CLI_TIMEOUT_MS 20000
#define FAST_ITERATIONS 1000

/* A sealed store at `dir`/tablet.db under `pin`, allowing `max_wrong_pins`
 * (0: the default); its path in `path`. 0, or -1 after a failed check. */
static int make_store(char *path, size_t size, const char *dir, const char *pin, int max_wrong_pins)
{
    snprintf(path, size, "%s/tablet.db", dir);
    dala_store_key key = {DALA_STORE_KEY_VERSION, pin, NULL, max_wrong_pins};
    dala_store *store = NULL;
    dala_pin_iterations_set(FAST_ITERATIONS);
    int rc = dala_store_open_keyed(&store, path, &key);
    dala_pin_iterations_set(0);
    CHECK_OK(rc);
    dala_store_close(store);
    return rc ? -1 : 0;
}

/* How one run of the command is set up. */
typedef struct cli_run {
    const char *stdin_text; /* NULL: /dev/null */
    const char *fd3_text;   /* when not NULL: readable on file descriptor 3 */
    const char *env_pin_file; /* $DALA_PIN_FILE (NULL: unset) */
} cli_run;

/* Runs `dala --store STORE ARGS...` as set up; its standard output and
 * error go to `*out` (malloc'd). Returns the exit status, or -1 (after a
 * failed check) if it did not run, died of a signal, or outlived
 * CLI_TIMEOUT_MS (then it was killed by its PID). */
static int run_cli(char **out, const char *dir, const char *store, const cli_run *run, const char *const *args)
{
    char in_path[600], out_path[600];
    snprintf(in_path, sizeof in_path, "%s/cli-in.txt", dir);
    snprintf(out_path, sizeof out_path, "%s/cli-out.txt", dir);
    *out = NULL;
    FILE *in = fopen(in_path, "w");
    if (!in) return -1;
    fputs(run->stdin_text ? run->stdin_text : "", in);
    fclose(in);
    const char *argv[24];
    size_t argc = 0;
    argv[argc++] = test_binary_path("dala");
    argv[argc++] = "--store";
    argv[argc++] = store;
    for (size_t i = 0; args[i] && argc < 23; i++) argv[argc++] = args[i];
    argv[argc] = NULL;
    int pipe_fds[2] = {-1, -1};
    if (run->fd3_text && pipe(pipe_fds) != 0) return -1;
    if (run->fd3_text) {
        ssize_t len = (ssize_t)strlen(run->fd3_text);
        CHECK(write(pipe_fds[1], run->fd3_text, (size_t)len) == len); /* far below the pipe's buffer */
        close(pipe_fds[1]);
    }
    pid_t pid = fork();
    if (pid == 0) {
        int in_fd = open(run->stdin_text ? in_path : "/dev/null", O_RDONLY);
        int out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in_fd < 0 || out_fd < 0) _exit(127);
        dup2(in_fd, 0);
        dup2(out_fd, 1);
        dup2(out_fd, 2);
        if (run->fd3_text) dup2(pipe_fds[0], 3);
        if (run->env_pin_file) setenv("DALA_PIN_FILE", run->env_pin_file, 1);
        else unsetenv("DALA_PIN_FILE");
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (run->fd3_text) close(pipe_fds[0]);
    if (pid < 0) return -1;
    int status = 0;
    uint64_t deadline = monotonic_ms() + CLI_TIMEOUT_MS;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (monotonic_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            test_fail(__FILE__, __LINE__, "dala %s ran for more than %d ms; killed", args[0], CLI_TIMEOUT_MS);
            return -1;
        }
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    *out = test_read_file(out_path);
    if (!WIFEXITED(status)) {
        test_fail(__FILE__, __LINE__, "dala %s ended with wait status 0x%x", args[0], status);
        return -1;
    }
    return WEXITSTATUS(status);
}

/* The command's output must not hold `pin`. */
#define CHECK_NO_PIN(out, pin) CHECK((out) == NULL || strstr((out), (pin)) == NULL)

static void test_cli_pin_opens_with_the_pin_from_a_descriptor_or_a_file(void)
{
    const char *dir = test_tmpdir();
    char store[600], pin_file[600], *out = NULL;
    if (make_store(store, sizeof store, dir, PIN, 0)) return;
    snprintf(pin_file, sizeof pin_file, "%s/pin.txt", dir);
    if (write_pin_file(pin_file, PIN)) return;
    /* --pin-fd 3: the first line of what descriptor 3 reads. */
    cli_run from_fd = {NULL, PIN "\nthe next line is not read\n", NULL};
    const char *status_fd[] = {"--pin-fd", "3", "status", NULL};
    CHECK_EQ_INT(run_cli(&out, dir, store, &from_fd, status_fd), 0);
    CHECK_CONTAINS(out, "0 changes pending");
    CHECK_NO_PIN(out, PIN);
    free(out);
    /* --pin-file, a file of mode 0600. */
    cli_run plain = {NULL, NULL, NULL};
    const char *status_file[] = {"--pin-file", pin_file, "status", NULL};
    CHECK_EQ_INT(run_cli(&out, dir, store, &plain, status_file), 0);
    CHECK_CONTAINS(out, "0 changes pending");
    CHECK_NO_PIN(out, PIN);
    free(out);
    /* $DALA_PIN_FILE when no option names a source. */
    cli_run from_env = {NULL, NULL, pin_file};
    const char *status[] = {"status", NULL};
    CHECK_EQ_INT(run_cli(&out, dir, store, &from_env, status), 0);
    CHECK_CONTAINS(out, "0 changes pending");
    free(out);
}

static void test_cli_pin_refuses_a_pin_file_others_can_read(void)
{
    const char *dir = test_tmpdir();
    char store[600], pin_file[600], *out = NULL;
    if (make_store(store, sizeof store, dir, PIN, 0)) return;
    snprintf(pin_file, sizeof pin_file, "%s/pin.txt", dir);
    if (write_pin_file(pin_file, PIN)) return;
    CHECK_EQ_INT(chmod(pin_file, 0644), 0);
    cli_run plain = {NULL, NULL, NULL};
    const char *status[] = {"--pin-file", pin_file, "status", NULL};
    CHECK_EQ_INT(run_cli(&out, dir, store, &plain, status), 1);
    CHECK_CONTAINS(out, "can be read by group or others (mode 0644)");
    CHECK_CONTAINS(out, "chmod 600");
    CHECK(out && !strstr(out, "changes pending"));
    CHECK_NO_PIN(out, PIN);
    free(out);
    /* The same file through $DALA_PIN_FILE is refused too. */
    CHECK_EQ_INT(chmod(pin_file, 0640), 0);
    cli_run from_env = {NULL, NULL, pin_file};
    const char *bare[] = {"status", NULL};
    CHECK_EQ_INT(run_cli(&out, dir, store, &from_env, bare), 1);
    CHECK_CONTAINS(out, "can be read by group or others (mode 0640)");
    free(out);
}

static void test_cli_pin_says_plainly_a_pin_is_wrong_then_that_the_store_erased_itself(void)
{
    const char *dir = test_tmpdir();
    char store[600], key_path[620], *out = NULL;
    if (make_store(store, sizeof store, dir, PIN, 2)) return;
    cli_run wrong = {"0000-wrong\n", NULL, NULL};
    const char *status[] = {"--pin-fd", "0", "status", NULL};
    CHECK_EQ_INT(run_cli(&out, dir, store, &wrong, status), 1);
    CHECK_CONTAINS(out, "dala: the PIN does not open");
    CHECK_CONTAINS(out, "wrong PIN");
    CHECK_CONTAINS(out, "1 of 2 tries left");
    CHECK_NO_PIN(out, "0000-wrong");
    free(out);
    /* The last try allowed: the store is gone, and the officer told what
     * that means and what to do. */
    CHECK_EQ_INT(run_cli(&out, dir, store, &wrong, status), 1);
    CHECK_CONTAINS(out, "erased itself");
    CHECK_CONTAINS(out, "kept on the server");
    CHECK_CONTAINS(out, "dala enroll");
    free(out);
    snprintf(key_path, sizeof key_path, "%s-key", store);
    CHECK(access(store, F_OK) != 0 && access(key_path, F_OK) != 0);
}

static void test_cli_pin_without_a_terminal_or_a_source_names_the_options(void)
{
    const char *dir = test_tmpdir();
    char store[600], *out = NULL;
    if (make_store(store, sizeof store, dir, PIN, 0)) return;
    cli_run nothing = {NULL, NULL, NULL}; /* standard input is /dev/null */
    const char *status[] = {"status", NULL};
    CHECK_EQ_INT(run_cli(&out, dir, store, &nothing, status), 1);
    CHECK_CONTAINS(out, "no PIN for the store, and standard input is not a terminal");
    CHECK_CONTAINS(out, "--pin-fd N");
    CHECK_CONTAINS(out, "--pin-file PATH");
    CHECK_CONTAINS(out, "$DALA_PIN_FILE");
    free(out);
    /* set-pin names its own options for the new PIN. */
    cli_run old_only = {PIN "\n", NULL, NULL};
    const char *set_pin[] = {"--pin-fd", "0", "set-pin", NULL};
    CHECK_EQ_INT(run_cli(&out, dir, store, &old_only, set_pin), 1);
    CHECK_CONTAINS(out, "--new-pin-fd N");
    CHECK_CONTAINS(out, "--new-pin-file PATH");
    free(out);
}

static void test_cli_pin_set_pin_then_only_the_new_pin_opens(void)
{
    const char *dir = test_tmpdir();
    char store[600], new_pin_file[600], *out = NULL;
    if (make_store(store, sizeof store, dir, PIN, 0)) return;
    /* The old PIN and the new one on one descriptor, a line each; a new
     * PIN too short is refused first. */
    cli_run short_new = {PIN "\n123\n", NULL, NULL};
    const char *set_pin_fd[] = {"--pin-fd", "0", "set-pin", "--new-pin-fd", "0", NULL};
    CHECK_EQ_INT(run_cli(&out, dir, store, &short_new, set_pin_fd), 1);
    CHECK_CONTAINS(out, "a PIN has 4 to 1024 characters");
    free(out);
    snprintf(new_pin_file, sizeof new_pin_file, "%s/new-pin.txt", dir);
    if (write_pin_file(new_pin_file, "97531-new")) return;
    cli_run old = {PIN "\n", NULL, NULL};
    const char *set_pin_file[] = {"--pin-fd", "0", "set-pin", "--new-pin-file", new_pin_file, NULL};
    CHECK_EQ_INT(run_cli(&out, dir, store, &old, set_pin_file), 0);
    CHECK_CONTAINS(out, "is changed");
    CHECK_NO_PIN(out, PIN);
    CHECK_NO_PIN(out, "97531-new");
    free(out);
    const char *status[] = {"--pin-fd", "0", "status", NULL};
    CHECK_EQ_INT(run_cli(&out, dir, store, &old, status), 1);
    CHECK_CONTAINS(out, "wrong PIN");
    free(out);
    cli_run new_pin = {"97531-new\n", NULL, NULL};
    CHECK_EQ_INT(run_cli(&out, dir, store, &new_pin, status), 0);
    CHECK_CONTAINS(out, "0 changes pending");
    free(out);
}

/* --- on a terminal ------------------------------------------------------------ */

/* The command run on a pseudo-terminal: the master side, the slave kept
 * open here too so its settings can be read after the command ends. */
typedef struct pty_run {
    int master, slave;
    pid_t pid;
    char text[8192]; /* what the command wrote to the terminal */
    size_t len;
} pty_run;

static int pty_start(pty_run *p, const char *store, const char *const *args)
{
    memset(p, 0, sizeof *p);
    p->master = posix_openpt(O_RDWR | O_NOCTTY);
    p->slave = -1;
    p->pid = -1;
    if (p->master < 0 || grantpt(p->master) || unlockpt(p->master)) return -1;
    char slave_name[128];
    if (ptsname_r(p->master, slave_name, sizeof slave_name)) return -1;
    p->slave = open(slave_name, O_RDWR | O_NOCTTY);
    if (p->slave < 0) return -1;
    const char *argv[16];
    size_t argc = 0;
    argv[argc++] = test_binary_path("dala");
    argv[argc++] = "--store";
    argv[argc++] = store;
    for (size_t i = 0; args[i] && argc < 15; i++) argv[argc++] = args[i];
    argv[argc] = NULL;
    p->pid = fork();
    if (p->pid == 0) {
        setsid(); /* the terminal opened next becomes the controlling one */
        int tty = open(slave_name, O_RDWR);
        if (tty < 0) _exit(127);
        dup2(tty, 0);
        dup2(tty, 1);
        dup2(tty, 2);
        unsetenv("DALA_PIN_FILE");
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return p->pid < 0 ? -1 : 0;
}

/* Reads what the command writes until `want` shows (NULL: until it
 * exits, then *status is set). 0, or -1 after CLI_TIMEOUT_MS. */
static int pty_wait(pty_run *p, const char *want, int *status)
{
    uint64_t deadline = monotonic_ms() + CLI_TIMEOUT_MS;
    while (monotonic_ms() < deadline) {
        struct pollfd pfd = {p->master, POLLIN, 0};
        if (poll(&pfd, 1, 20) > 0 && (pfd.revents & POLLIN)) {
            ssize_t n = read(p->master, p->text + p->len, sizeof p->text - 1 - p->len);
            if (n > 0) p->len += (size_t)n;
            p->text[p->len] = '\0';
        }
        if (want && strstr(p->text, want)) return 0;
        if (!want && waitpid(p->pid, status, WNOHANG) == p->pid) {
            p->pid = -1;
            return 0;
        }
    }
    return -1;
}

static void pty_stop(pty_run *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
    }
    if (p->slave >= 0) close(p->slave);
    if (p->master >= 0) close(p->master);
}

/* Whether the terminal echoes again. */
static int pty_echoes(const pty_run *p)
{
    struct termios t;
    return tcgetattr(p->slave, &t) == 0 && (t.c_lflag & ECHO);
}

/* `dala status` on a fresh store, on a pseudo-terminal, waiting at its
 * "PIN: " prompt. 0, or -1 after a failed check (then pty_stop it). */
static int pty_at_prompt(pty_run *p)
{
    char store[600];
    memset(p, 0, sizeof *p);
    p->master = p->slave = p->pid = -1;
    if (make_store(store, sizeof store, test_tmpdir(), PIN, 0)) return -1;
    const char *args[] = {"status", NULL};
    if (pty_start(p, store, args)) {
        test_fail(__FILE__, __LINE__, "cannot start dala on a pseudo-terminal: %s", strerror(errno));
        return -1;
    }
    if (pty_wait(p, "PIN: ", NULL)) {
        test_fail(__FILE__, __LINE__, "dala did not ask the PIN; it wrote: %s", p->text);
        return -1;
    }
    return 0;
}

static void test_cli_pin_asks_on_a_terminal_without_echo_and_restores_it(void)
{
    pty_run p;
    int status = -1;
    if (pty_at_prompt(&p)) {
        pty_stop(&p);
        return;
    }
    {
        CHECK(!pty_echoes(&p)); /* echo is off while it waits */
        CHECK(write(p.master, PIN "\n", strlen(PIN) + 1) == (ssize_t)strlen(PIN) + 1);
        if (pty_wait(&p, NULL, &status)) test_fail(__FILE__, __LINE__, "dala did not end; it wrote: %s", p.text);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK_CONTAINS(p.text, "0 changes pending");
        CHECK_NO_PIN(p.text, PIN);
        CHECK(pty_echoes(&p));
    }
    pty_stop(&p);
}

static void test_cli_pin_ctrl_c_at_the_prompt_restores_the_terminal(void)
{
    pty_run p;
    int status = -1;
    if (pty_at_prompt(&p)) {
        pty_stop(&p);
        return;
    }
    {
        CHECK(write(p.master, "86\003", 3) == 3); /* half a PIN, then Ctrl-C */
        if (pty_wait(&p, NULL, &status)) test_fail(__FILE__, __LINE__, "dala did not end; it wrote: %s", p.text);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
        CHECK(pty_echoes(&p));
        CHECK_NO_PIN(p.text, "86");
    }
    pty_stop(&p);
}

const dala_test cli_pin_tests[] = {
    {"cli_pin_opens_with_the_pin_from_a_descriptor_or_a_file",
     test_cli_pin_opens_with_the_pin_from_a_descriptor_or_a_file},
    {"cli_pin_refuses_a_pin_file_others_can_read", test_cli_pin_refuses_a_pin_file_others_can_read},
    {"cli_pin_says_plainly_a_pin_is_wrong_then_that_the_store_erased_itself",
     test_cli_pin_says_plainly_a_pin_is_wrong_then_that_the_store_erased_itself},
    {"cli_pin_without_a_terminal_or_a_source_names_the_options",
     test_cli_pin_without_a_terminal_or_a_source_names_the_options},
    {"cli_pin_set_pin_then_only_the_new_pin_opens", test_cli_pin_set_pin_then_only_the_new_pin_opens},
    {"cli_pin_asks_on_a_terminal_without_echo_and_restores_it",
     test_cli_pin_asks_on_a_terminal_without_echo_and_restores_it},
    {"cli_pin_ctrl_c_at_the_prompt_restores_the_terminal", test_cli_pin_ctrl_c_at_the_prompt_restores_the_terminal},
    {NULL, NULL},
};
