/* server_child.c - the world's dala-server: the real `dala-server serve`
 * as a child process of the battery (tests/child_server.c), started on the
 * world's database, killed with SIGKILL at random moments by the kill
 * scenarios, and stopped with SIGTERM at the end, when it must finish its
 * requests and exit 0. Always by its PID. */
#include "torture.h"

#include <stdio.h>

int server_child_start(world *w, int port)
{
    child_server *c = &w->server;
    snprintf(c->binary, sizeof c->binary, "%s/dala-server", g_run.bin_dir);
    /* A killed server's port may linger a moment: 20 s to come up. */
    if (child_server_start(c, w->h.db_path, port, w->page ? w->page : 2000, 20000)) return -1;
    w->h.port = c->port;
    snprintf(w->h.url, sizeof w->h.url, "http://127.0.0.1:%d", c->port);
    return 0;
}

void server_child_kill(world *w)
{
    child_server_kill(&w->server);
}

void server_child_stop(world *w)
{
    child_server_stop(&w->server);
}
