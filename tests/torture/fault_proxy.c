/* fault_proxy.c - see fault_proxy.h. One thread accepts; each client
 * connection gets its own thread, which reads the request whole, draws its
 * fault, and talks to the server on fresh connections (Connection: close,
 * so an answer ends where the server closes or its Content-Length says).
 * Every socket wait has a deadline; the proxy counts its live threads and
 * proxy_stop waits for them. */
#include "fault_proxy.h"
#include "dala_sync.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The longest a request or an answer may take to arrive. */
#define IO_DEADLINE_MS 60000
/* The largest message the proxy holds (a sync frame is at most 32 MiB). */
#define MAX_MESSAGE_BYTES ((size_t)40 << 20)

struct fault_proxy {
    proxy_options options;
    int listen_fd, port;
    atomic_int upstream_port, is_clean, stopping;
    pthread_t accept_thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    uint64_t prng;      /* under lock */
    uint64_t forwarded; /* requests that reached the server, under lock */
    int live_threads;   /* under lock */
    atomic_ullong counts[PROXY_FAULT_KINDS], hello_duplicates;
};

typedef struct message {
    char *data;
    size_t len, alloc;
    size_t head_len; /* through the blank line */
} message;

static const char *const fault_names[PROXY_FAULT_KINDS] = {
    "pass", "drop", "truncate", "duplicate-now", "duplicate-later", "reorder", "delay", "reset", "stall"};

const char *proxy_fault_name(proxy_fault fault)
{
    return fault < PROXY_FAULT_KINDS ? fault_names[fault] : "?";
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static uint64_t proxy_random(fault_proxy *p, uint64_t bound)
{
    pthread_mutex_lock(&p->lock);
    uint64_t z = (p->prng += 0x9e3779b97f4a7c15ull);
    pthread_mutex_unlock(&p->lock);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return bound ? z % bound : z;
}

/* Sleeps `ms`, waking early when the proxy stops. */
static void nap(fault_proxy *p, uint64_t ms)
{
    for (uint64_t end = now_ms() + ms; !atomic_load(&p->stopping) && now_ms() < end;) {
        uint64_t left = end - now_ms();
        struct timespec pause = {0, (long)((left > 50 ? 50 : left) * 1000000u)};
        nanosleep(&pause, NULL);
    }
}

static int send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The value of header `name` in the head of `m`, or -1. */
static long long header_number(const message *m, const char *name)
{
    size_t name_len = strlen(name);
    for (const char *line = memchr(m->data, '\n', m->head_len); line && line < m->data + m->head_len;
         line = memchr(line + 1, '\n', m->head_len - (size_t)(line + 1 - m->data))) {
        const char *start = line + 1;
        if (start + name_len < m->data + m->head_len && strncasecmp(start, name, name_len) == 0 &&
            start[name_len] == ':')
            return strtoll(start + name_len + 1, NULL, 10);
    }
    return -1;
}

/* Reads one HTTP message: the head, then Content-Length bytes, or (with
 * `until_close`, for answers without a length) everything until the peer
 * closes. 0, or -1 when the peer closed early, the deadline passed or the
 * message is too large. */
static int read_message(message *m, int fd, int until_close)
{
    uint64_t deadline = now_ms() + IO_DEADLINE_MS;
    long long body_len = -1;
    memset(m, 0, sizeof *m);
    for (;;) {
        if (m->head_len && body_len >= 0 && m->len >= m->head_len + (size_t)body_len) {
            m->len = m->head_len + (size_t)body_len;
            return 0;
        }
        if (m->len == m->alloc) {
            size_t alloc = m->alloc ? m->alloc * 2 : 65536;
            char *data = alloc <= MAX_MESSAGE_BYTES ? realloc(m->data, alloc) : NULL;
            if (!data) return -1;
            m->data = data;
            m->alloc = alloc;
        }
        uint64_t now = now_ms();
        struct pollfd pfd = {fd, POLLIN, 0};
        if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0) return -1;
        ssize_t n = recv(fd, m->data + m->len, m->alloc - m->len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return m->head_len && body_len < 0 && until_close ? 0 : -1;
        m->len += (size_t)n;
        if (!m->head_len) {
            char *end = memmem(m->data, m->len, "\r\n\r\n", 4);
            if (end) {
                m->head_len = (size_t)(end + 4 - m->data);
                body_len = header_number(m, "Content-Length");
                if (body_len < 0 && !until_close) body_len = 0;
            }
        }
    }
}

/* The request as sent upstream: its head without Connection and
 * Keep-Alive headers, plus "Connection: close", then its body. */
static int rewrite_request(message *out, const message *in)
{
    memset(out, 0, sizeof *out);
    out->alloc = in->len + 64;
    if (!(out->data = malloc(out->alloc))) return -1;
    const char *p = in->data, *end = in->data + in->head_len - 2; /* before the blank line */
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        eol = eol ? eol + 2 : end;
        if (strncasecmp(p, "Connection:", 11) != 0 && strncasecmp(p, "Keep-Alive:", 11) != 0) {
            memcpy(out->data + out->len, p, (size_t)(eol - p));
            out->len += (size_t)(eol - p);
        }
        p = eol;
    }
    memcpy(out->data + out->len, "Connection: close\r\n\r\n", 21);
    out->len += 21;
    out->head_len = out->len;
    memcpy(out->data + out->len, in->data + in->head_len, in->len - in->head_len);
    out->len += in->len - in->head_len;
    return 0;
}

static int connect_upstream(fault_proxy *p)
{
    struct sockaddr_in addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atomic_load(&p->upstream_port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return fd;
    if (fd >= 0) close(fd);
    return -1;
}

static void note_forwarded(fault_proxy *p)
{
    pthread_mutex_lock(&p->lock);
    p->forwarded++;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

/* Sends `request` to the server and reads its answer into `answer`
 * (which may be NULL: read and thrown away). 0, or -1. */
static int exchange(fault_proxy *p, const message *request, message *answer)
{
    message ignored;
    memset(&ignored, 0, sizeof ignored);
    int fd = connect_upstream(p);
    if (fd < 0) return -1;
    int rc = send_all(fd, request->data, request->len);
    note_forwarded(p);
    if (!rc) rc = read_message(answer ? answer : &ignored, fd, 1);
    if (!answer) free(ignored.data);
    close(fd);
    return rc;
}

/* Closes the client's connection with a RST instead of a FIN. */
static void reset_client(int fd)
{
    struct linger hard = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close(fd);
}

/* Two copies of `request` sent before either answer is read: the server
 * works on both at once. The first copy's answer goes to `answer`. */
static int exchange_twice(fault_proxy *p, const message *request, message *answer)
{
    int fd1 = connect_upstream(p), fd2 = connect_upstream(p);
    int rc = fd1 >= 0 && fd2 >= 0 ? 0 : -1;
    if (!rc) rc = send_all(fd1, request->data, request->len);
    if (!rc) send_all(fd2, request->data, request->len);
    note_forwarded(p);
    if (!rc) rc = read_message(answer, fd1, 1);
    if (fd2 >= 0) { /* the second answer is read and thrown away */
        message ignored;
        read_message(&ignored, fd2, 1);
        free(ignored.data);
    }
    if (fd1 >= 0) close(fd1);
    if (fd2 >= 0) close(fd2);
    return rc;
}

/* The fault for one request. */
static proxy_fault draw_fault(fault_proxy *p, const message *request)
{
    if (atomic_load(&p->is_clean) || request->len < 14 || strncmp(request->data, "POST /v1/sync ", 14) != 0)
        return PROXY_PASS;
    if (proxy_random(p, 100) < p->options.fault_percent)
        return (proxy_fault)(1 + proxy_random(p, PROXY_FAULT_KINDS - 1));
    dala_frame_header header;
    const uint8_t *body = (const uint8_t *)request->data + request->head_len;
    if (dala_frame_header_parse(&header, body, request->len - request->head_len) == DALA_OK &&
        header.frame_type == DALA_FRAME_HELLO && proxy_random(p, 100) < p->options.hello_dup_percent)
        return PROXY_DUPLICATE_NOW;
    return PROXY_PASS;
}

static int is_hello(const message *request)
{
    dala_frame_header header;
    return dala_frame_header_parse(&header, (const uint8_t *)request->data + request->head_len,
                                   request->len - request->head_len) == DALA_OK &&
           header.frame_type == DALA_FRAME_HELLO;
}

/* One client connection: one request, its fault, its answer (or not). */
static void serve_client(fault_proxy *p, int client)
{
    message request, upstream, answer;
    memset(&upstream, 0, sizeof upstream);
    memset(&answer, 0, sizeof answer);
    if (read_message(&request, client, 0) || rewrite_request(&upstream, &request)) {
        close(client);
        goto done;
    }
    proxy_fault fault = draw_fault(p, &request);
    atomic_fetch_add(&p->counts[fault], 1);
    int coin = (int)proxy_random(p, 2);
    switch (fault) {
    case PROXY_DROP:
        close(client);
        break;
    case PROXY_TRUNCATE:
        if (coin) { /* the server gets half the request, the client nothing */
            int fd = connect_upstream(p);
            if (fd >= 0) {
                send_all(fd, upstream.data, upstream.head_len + (upstream.len - upstream.head_len) / 2);
                close(fd);
            }
        } else if (exchange(p, &upstream, &answer) == 0) { /* the client gets half the answer */
            send_all(client, answer.data, answer.len / 2);
        }
        close(client);
        break;
    case PROXY_DUPLICATE_NOW:
        if (is_hello(&request)) atomic_fetch_add(&p->hello_duplicates, 1);
        if (exchange_twice(p, &upstream, &answer) == 0) send_all(client, answer.data, answer.len);
        close(client);
        break;
    case PROXY_DUPLICATE_LATER:
        if (exchange(p, &upstream, &answer) == 0) send_all(client, answer.data, answer.len);
        close(client);
        nap(p, 200 + proxy_random(p, 400));
        if (!atomic_load(&p->stopping)) {
            if (is_hello(&request)) atomic_fetch_add(&p->hello_duplicates, 1);
            exchange(p, &upstream, NULL);
        }
        break;
    case PROXY_REORDER: {
        /* Held until another request has reached the server, or 1 s. */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_mutex_lock(&p->lock);
        uint64_t seen = p->forwarded;
        while (p->forwarded == seen && !atomic_load(&p->stopping))
            if (pthread_cond_timedwait(&p->changed, &p->lock, &until) == ETIMEDOUT) break;
        pthread_mutex_unlock(&p->lock);
        if (exchange(p, &upstream, &answer) == 0) send_all(client, answer.data, answer.len);
        close(client);
        break;
    }
    case PROXY_DELAY:
        nap(p, 50 + proxy_random(p, 650));
        if (exchange(p, &upstream, &answer) == 0) send_all(client, answer.data, answer.len);
        close(client);
        break;
    case PROXY_RESET:
        if (coin) exchange(p, &upstream, NULL); /* the server saw it; the answer is lost */
        reset_client(client);
        break;
    case PROXY_STALL:
        if (exchange(p, &upstream, &answer) == 0) {
            send_all(client, answer.data, answer.len / 2);
            nap(p, (uint64_t)p->options.client_timeout_ms + 1000);
        }
        close(client);
        break;
    default:
        if (exchange(p, &upstream, &answer) == 0) send_all(client, answer.data, answer.len);
        close(client);
        break;
    }
done:
    free(request.data);
    free(upstream.data);
    free(answer.data);
}

typedef struct client_job {
    fault_proxy *proxy;
    int fd;
} client_job;

static void *client_thread(void *context)
{
    client_job *job = context;
    fault_proxy *p = job->proxy;
    serve_client(p, job->fd);
    free(job);
    pthread_mutex_lock(&p->lock);
    p->live_threads--;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static void *accept_thread(void *context)
{
    fault_proxy *p = context;
    while (!atomic_load(&p->stopping)) {
        struct pollfd pfd = {p->listen_fd, POLLIN, 0};
        if (poll(&pfd, 1, 100) <= 0) continue;
        int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        client_job *job = malloc(sizeof *job);
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_mutex_lock(&p->lock);
        p->live_threads++;
        pthread_mutex_unlock(&p->lock);
        if (job) *job = (client_job){p, fd};
        if (!job || pthread_create(&thread, &attr, client_thread, job) != 0) {
            free(job);
            close(fd);
            pthread_mutex_lock(&p->lock);
            p->live_threads--;
            pthread_mutex_unlock(&p->lock);
        }
        pthread_attr_destroy(&attr);
    }
    return NULL;
}

int proxy_start(fault_proxy **out, const proxy_options *options)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    fault_proxy *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p) return -1;
    p->options = *options;
    p->prng = options->seed;
    atomic_store(&p->upstream_port, options->upstream_port);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(p->listen_fd, 256) != 0 || getsockname(p->listen_fd, (struct sockaddr *)&addr, &len) != 0 ||
        pthread_create(&p->accept_thread, NULL, accept_thread, p) != 0) {
        if (p->listen_fd >= 0) close(p->listen_fd);
        free(p);
        return -1;
    }
    p->port = ntohs(addr.sin_port);
    *out = p;
    return 0;
}

int proxy_port(const fault_proxy *proxy)
{
    return proxy->port;
}

void proxy_set_upstream(fault_proxy *proxy, int port)
{
    atomic_store(&proxy->upstream_port, port);
}

void proxy_set_clean(fault_proxy *proxy, int is_clean)
{
    atomic_store(&proxy->is_clean, is_clean);
}

uint64_t proxy_count(const fault_proxy *proxy, proxy_fault kind)
{
    return kind < PROXY_FAULT_KINDS ? atomic_load(&((fault_proxy *)proxy)->counts[kind]) : 0;
}

uint64_t proxy_hello_duplicates(const fault_proxy *proxy)
{
    return atomic_load(&((fault_proxy *)proxy)->hello_duplicates);
}

void proxy_stop(fault_proxy *proxy)
{
    if (!proxy || proxy->listen_fd < 0) return;
    atomic_store(&proxy->stopping, 1);
    pthread_join(proxy->accept_thread, NULL);
    close(proxy->listen_fd);
    proxy->listen_fd = -1;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 15;
    pthread_mutex_lock(&proxy->lock);
    pthread_cond_broadcast(&proxy->changed);
    while (proxy->live_threads > 0)
        if (pthread_cond_timedwait(&proxy->changed, &proxy->lock, &until) == ETIMEDOUT) break;
    pthread_mutex_unlock(&proxy->lock);
}

void proxy_free(fault_proxy *proxy)
{
    if (!proxy) return;
    proxy_stop(proxy);
    pthread_mutex_lock(&proxy->lock);
    int left = proxy->live_threads;
    pthread_mutex_unlock(&proxy->lock);
    if (left) return; /* threads still reading (bounded by IO_DEADLINE_MS): leak rather than free under them */
    pthread_cond_destroy(&proxy->changed);
    pthread_mutex_destroy(&proxy->lock);
    free(proxy);
}
