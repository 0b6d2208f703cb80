/* trickle.c - slow clients: connections to the server that each send an
 * HTTP request one byte at a time, a byte every ~100 ms (a phone on a bad
 * link, or a slowloris), while tablets sync. One thread walks all of them;
 * a connection the server closes is opened again, so the pressure stays. */
#include "torture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TRICKLE_MAX 512

struct trickle {
    int port, count, interval_ms;
    int fds[TRICKLE_MAX];
    size_t sent[TRICKLE_MAX];
    atomic_int stop;
    atomic_int connected;
    pthread_t thread;
};

/* What each slow client sends: a sync POST with a large body, so it never
 * finishes while the scenario runs. */
static const char slow_request[] = "POST /v1/sync HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   "Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n";

static int open_one(int port)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return fd;
    if (fd >= 0) close(fd);
    return -1;
}

static void *trickle_run(void *context)
{
    trickle *t = context;
    while (!atomic_load(&t->stop)) {
        for (int i = 0; i < t->count; i++) {
            if (t->fds[i] < 0) {
                t->fds[i] = open_one(t->port);
                t->sent[i] = 0;
                if (t->fds[i] >= 0) atomic_fetch_add(&t->connected, 1);
            }
            if (t->fds[i] < 0) continue;
            char byte = t->sent[i] < sizeof slow_request - 1 ? slow_request[t->sent[i]] : 'x';
            if (send(t->fds[i], &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
                t->sent[i]++;
            } else { /* the server closed it: a new one next time */
                close(t->fds[i]);
                t->fds[i] = -1;
            }
        }
        usleep((useconds_t)t->interval_ms * 1000u);
    }
    return NULL;
}

trickle *trickle_start(int port, int count, int interval_ms)
{
    trickle *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->port = port;
    t->count = count > TRICKLE_MAX ? TRICKLE_MAX : count;
    t->interval_ms = interval_ms;
    for (int i = 0; i < TRICKLE_MAX; i++) t->fds[i] = -1;
    if (pthread_create(&t->thread, NULL, trickle_run, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

int trickle_stop(trickle *t)
{
    if (!t) return 0;
    atomic_store(&t->stop, 1);
    pthread_join(t->thread, NULL);
    for (int i = 0; i < t->count; i++)
        if (t->fds[i] >= 0) close(t->fds[i]);
    int connected = atomic_load(&t->connected);
    free(t);
    return connected;
}
