/* child_server.h - the real `dala-server serve` as a child process of a
 * test, on 127.0.0.1 with a port file, killed with SIGKILL or stopped with
 * SIGTERM, always by its PID. Used by the end-to-end suite and the torture
 * battery; a failure is reported through test_fail, which each program
 * defines. */
#ifndef DALA_CHILD_SERVER_H
#define DALA_CHILD_SERVER_H

#include <stdint.h>
#include <sys/types.h>

typedef struct child_server {
    pid_t pid;  /* 0 when not running */
    int port;
    char binary[4200], port_file[600], log_file[600];
} child_server;

/* Starts `binary` (its path set by the caller) as `dala-server serve --db
 * db --listen 127.0.0.1:port --port-file ... --quiet`, with `page` as
 * --page when not 0, its output appended to log_file; waits up to
 * `wait_ms` for its port file (a killed server's port may linger). 0, or
 * -1 after a test_fail saying why. */
int child_server_start(child_server *c, const char *db, int port, uint32_t page, uint64_t wait_ms);
/* SIGKILLs the child (if it still runs) and reaps it; its wait status. */
int child_server_kill(child_server *c);
/* SIGTERM, then up to 10 s for it to finish its requests and exit 0
 * (SIGKILL after that); a test_fail when it does not exit 0, naming a
 * leak report in its log. */
void child_server_stop(child_server *c);

#endif
