/* server_child.c - the real `dala-server serve` as a child process of the
 * battery, as tests/test_e2e.c runs it: started on the world's database at
 * 127.0.0.1 with a port file, killed with SIGKILL at random moments by the
 * kill scenario, and stopped with SIGTERM at the end, when it must finish
 * its requests and exit 0. Always by its PID. */
#include "torture.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int server_child_start(world *w, int port)
{
    server_child *c = &w->server;
    char listen[32], page[16], binary[4200];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(page, sizeof page, "%u", w->page ? w->page : 2000);
    snprintf(binary, sizeof binary, "%s/dala-server", g_run.bin_dir);
    unlink(c->port_file);
    int log_fd = open(c->log_file, O_WRONLY | O_CREAT | O_APPEND, 0600);
    char *argv[] = {"dala-server", "serve", "--db", w->h.db_path, "--listen", listen, "--page", page,
                    "--port-file", c->port_file, "--quiet", NULL};
    pid_t pid = fork();
    if (pid == 0) {
        if (log_fd >= 0) {
            dup2(log_fd, STDOUT_FILENO);
            dup2(log_fd, STDERR_FILENO);
        }
        execv(binary, argv);
        _exit(127);
    }
    if (log_fd >= 0) close(log_fd);
    if (pid < 0) {
        torture_fail("%s: fork: %s", w->name, strerror(errno));
        return -1;
    }
    c->pid = pid;
    /* A killed server's port may linger a moment: 20 s to come up. */
    for (uint64_t started = monotonic_ms(); monotonic_ms() - started < 20000;) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            c->pid = 0;
            torture_fail("%s: dala-server exited at start (status 0x%x); see %s", w->name, status, c->log_file);
            return -1;
        }
        FILE *f = fopen(c->port_file, "r");
        if (f) {
            int found = 0;
            char newline = 0;
            int complete = fscanf(f, "%d%c", &found, &newline) == 2 && newline == '\n';
            fclose(f);
            if (complete) {
                c->port = found;
                w->h.port = found;
                snprintf(w->h.url, sizeof w->h.url, "http://127.0.0.1:%d", found);
                return 0;
            }
        }
        usleep(2000);
    }
    torture_fail("%s: dala-server wrote no port file in 20 s; see %s", w->name, c->log_file);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    c->pid = 0;
    return -1;
}

void server_child_kill(world *w)
{
    server_child *c = &w->server;
    int status = 0;
    if (!c->pid) return;
    kill(c->pid, SIGKILL);
    waitpid(c->pid, &status, 0);
    c->pid = 0;
}

void server_child_stop(world *w)
{
    server_child *c = &w->server;
    int status = 0;
    if (!c->pid) return;
    kill(c->pid, SIGTERM);
    uint64_t started = monotonic_ms();
    while (waitpid(c->pid, &status, WNOHANG) == 0) {
        if (monotonic_ms() - started > 10000) {
            torture_fail("%s: dala-server ignored SIGTERM for 10 s; killed", w->name);
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            break;
        }
        usleep(2000);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        torture_fail("%s: dala-server did not exit 0 after SIGTERM (status 0x%x); see %s", w->name, status,
                     c->log_file);
    c->pid = 0;
}
