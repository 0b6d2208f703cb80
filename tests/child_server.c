/* child_server.c - dala-server as a child process of a test (child_server.h). */
#include "child_server.h"
#include "e2e_support.h" /* monotonic_ms */
#include "testhelp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The port the child wrote, once the whole line is there; 0 before. */
static int read_port_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int found = 0;
    char newline = 0;
    int complete = fscanf(f, "%d%c", &found, &newline) == 2 && newline == '\n';
    fclose(f);
    return complete ? found : 0;
}

int child_server_start(child_server *c, const char *db, int port, uint32_t page, uint64_t wait_ms)
{
    char listen[32], page_text[16];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(page_text, sizeof page_text, "%u", page);
    unlink(c->port_file);
    int log_fd = open(c->log_file, O_WRONLY | O_CREAT | O_APPEND, 0600);
    char *argv[] = {"dala-server", "serve", "--db", (char *)db, "--listen", listen, "--port-file", c->port_file,
                    "--quiet", page ? "--page" : NULL, page_text, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        if (log_fd >= 0) {
            dup2(log_fd, STDOUT_FILENO);
            dup2(log_fd, STDERR_FILENO);
        }
        execv(c->binary, argv);
        _exit(127);
    }
    if (log_fd >= 0) close(log_fd);
    if (pid < 0) {
        test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
        return -1;
    }
    c->pid = pid;
    for (uint64_t started = monotonic_ms(); monotonic_ms() - started < wait_ms;) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            c->pid = 0;
            test_fail(__FILE__, __LINE__, "%s exited at start (status 0x%x); see %s", c->binary, status,
                      c->log_file);
            return -1;
        }
        if ((c->port = read_port_file(c->port_file)) > 0) return 0;
        usleep(2000);
    }
    test_fail(__FILE__, __LINE__, "%s wrote no port file in %llu ms; see %s", c->binary,
              (unsigned long long)wait_ms, c->log_file);
    child_server_kill(c);
    return -1;
}

int child_server_kill(child_server *c)
{
    int status = 0;
    if (!c->pid) return 0;
    kill(c->pid, SIGKILL); /* already dead: harmless, the pid is not reaped yet */
    waitpid(c->pid, &status, 0);
    c->pid = 0;
    return status;
}

/* Whether the file at `path` contains `text` (in its first 64 KiB). */
static int log_mentions(const char *path, const char *text)
{
    char buffer[65536];
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buffer, 1, sizeof buffer - 1, f);
    fclose(f);
    buffer[n] = '\0';
    return strstr(buffer, text) != NULL;
}

void child_server_stop(child_server *c)
{
    int status = 0;
    if (!c->pid) return;
    kill(c->pid, SIGTERM);
    uint64_t started = monotonic_ms();
    while (waitpid(c->pid, &status, WNOHANG) == 0) {
        if (monotonic_ms() - started > 10000) {
            test_fail(__FILE__, __LINE__, "dala-server ignored SIGTERM for 10 s");
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            break;
        }
        usleep(2000);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        test_fail(__FILE__, __LINE__, "dala-server did not exit 0 after SIGTERM (status 0x%x)%s; see %s", status,
                  log_mentions(c->log_file, "LeakSanitizer") ? ": LeakSanitizer found leaks" : "", c->log_file);
    c->pid = 0;
}
