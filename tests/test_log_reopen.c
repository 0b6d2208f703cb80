/* test_log_reopen.c - logrotate and dala-server: the real `dala-server
 * serve --log FILE` as a child process; the log is renamed away, SIGHUP
 * is sent to the child (by its PID), and the next requests' lines land in
 * a new file by the old name while the renamed one keeps what it had. */
#include "e2e_support.h" /* monotonic_ms */
#include "server_harness.h"
#include "testhelp.h"
#include "web_client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The whole of a small file, NUL-terminated, into `out`; "" if none. */
static void read_text(char *out, size_t size, const char *path)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    fclose(f);
}

static int occurrences(const char *text, const char *needle)
{
    int count = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle)) count++;
    return count;
}

/* Waits up to 5 s for `path` to contain `needle`. */
static int wait_for_line(const char *path, const char *needle)
{
    static char text[65536];
    for (uint64_t started = monotonic_ms(); monotonic_ms() - started < 5000; usleep(10000)) {
        read_text(text, sizeof text, path);
        if (strstr(text, needle)) return 1;
    }
    return 0;
}

static void test_log_reopen_on_sighup_writes_a_new_file(void)
{
    harness h;
    if (harness_start(&h, 0)) return;
    harness_stop(&h);
    char binary[4200], log_path[400], rotated[400], port_file[400], out_path[400];
    snprintf(binary, sizeof binary, "%s", test_binary_path("dala-server"));
    snprintf(log_path, sizeof log_path, "%s/requests.log", h.dir);
    snprintf(rotated, sizeof rotated, "%s/requests.log.1", h.dir);
    snprintf(port_file, sizeof port_file, "%s/port", h.dir);
    snprintf(out_path, sizeof out_path, "%s/stderr.txt", h.dir);
    if (access(binary, X_OK) != 0) {
        test_fail(__FILE__, __LINE__, "%s is missing: run `make build-all` first (or set DALA_BUILD)", binary);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) dup2(fd, STDERR_FILENO);
        execl(binary, "dala-server", "serve", "--db", h.db_path, "--listen", "127.0.0.1:0", "--port-file",
              port_file, "--log", log_path, (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    if (pid <= 0) return;
    int port = 0;
    for (uint64_t started = monotonic_ms(); !port && monotonic_ms() - started < 10000; usleep(5000)) {
        FILE *f = fopen(port_file, "r");
        char newline = 0;
        if (f && !(fscanf(f, "%d%c", &port, &newline) == 2 && newline == '\n')) port = 0;
        if (f) fclose(f);
    }
    CHECK(port > 0);
    web_answer a = WEB_ANSWER_INIT;
    if (port > 0) {
        CHECK_EQ_INT(web_get(&a, port, "/v1/health", NULL), 200);
        CHECK(wait_for_line(log_path, "GET /v1/health 200"));
        /* What logrotate does: move the file, then SIGHUP the server. */
        CHECK_EQ_INT(rename(log_path, rotated), 0);
        CHECK_EQ_INT(kill(pid, SIGHUP), 0);
        /* The reopen happens in the server's main loop: ask until a line
         * lands in the new file (each request before it goes to the old). */
        int found = 0;
        for (int i = 0; i < 100 && !found; i++) {
            CHECK_EQ_INT(web_get(&a, port, "/v1/ready", NULL), 200);
            found = wait_for_line(log_path, "GET /v1/ready 200");
        }
        CHECK(found);
        static char old_text[65536], new_text[65536];
        read_text(old_text, sizeof old_text, rotated);
        read_text(new_text, sizeof new_text, log_path);
        CHECK_EQ_INT(occurrences(old_text, "GET /v1/health 200"), 1);
        CHECK_EQ_INT(occurrences(new_text, "GET /v1/health 200"), 0);
        struct stat st;
        CHECK(stat(log_path, &st) == 0 && (st.st_mode & 0777) == 0600);
        /* A second rotation works the same. */
        CHECK_EQ_INT(rename(log_path, rotated), 0);
        CHECK_EQ_INT(kill(pid, SIGHUP), 0);
        found = 0;
        for (int i = 0; i < 100 && !found; i++) {
            CHECK_EQ_INT(web_get(&a, port, "/v1/health", NULL), 200);
            found = wait_for_line(log_path, "GET /v1/health 200");
        }
        CHECK(found);
    }
    web_answer_free(&a);
    /* SIGTERM still stops it cleanly. */
    kill(pid, SIGTERM);
    int status = 0;
    for (uint64_t started = monotonic_ms(); monotonic_ms() - started < 10000; usleep(10000))
        if (waitpid(pid, &status, WNOHANG) == pid) {
            pid = 0;
            break;
        }
    if (pid) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        test_fail(__FILE__, __LINE__, "dala-server did not stop on SIGTERM within 10 s");
    } else {
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

const dala_test log_reopen_tests[] = {
    {"log_reopen_on_sighup_writes_a_new_file", test_log_reopen_on_sighup_writes_a_new_file},
    {NULL, NULL},
};
