/* fault_proxy.h - a loopback HTTP proxy that spoils sync round trips.
 *
 * It listens on 127.0.0.1 (a free port), reads each HTTP request whole,
 * forwards it to the real dala-server on a fresh connection and relays the
 * answer. For each POST /v1/sync a seeded PRNG picks what goes wrong, the
 * way mobile networks, retrying middleboxes and dying links do it: the
 * request dropped, cut short on either side, sent to the server twice (at
 * once, or replayed after the original was answered), held back so a later
 * one passes first, delayed, reset, or answered half and then stalled for
 * longer than the client waits. A duplicated HELLO is what left tablets
 * stuck in the field report (issue 12). Every fault injected is counted.
 *
 * Other routes (enrolment, health) pass untouched. Bounded: every read and
 * wait has a deadline, and proxy_stop waits for every connection thread. */
#ifndef DALA_TORTURE_FAULT_PROXY_H
#define DALA_TORTURE_FAULT_PROXY_H

#include <stdint.h>

typedef enum proxy_fault {
    PROXY_PASS = 0,         /* forwarded as it is */
    PROXY_DROP,             /* the client's connection closed, nothing forwarded */
    PROXY_TRUNCATE,         /* part of the request, or of the answer, then closed */
    PROXY_DUPLICATE_NOW,    /* a second copy sent to the server at the same moment */
    PROXY_DUPLICATE_LATER,  /* a copy replayed 200-600 ms after the answer */
    PROXY_REORDER,          /* held until a later request has passed (or 1 s) */
    PROXY_DELAY,            /* 50-700 ms before forwarding */
    PROXY_RESET,            /* the client's connection reset (RST), before or after the server saw it */
    PROXY_STALL,            /* half the answer, then silence past the client's timeout */
    PROXY_FAULT_KINDS
} proxy_fault;

/* The faults' names, for the figures ("drop", "truncate", ...). */
const char *proxy_fault_name(proxy_fault fault);

typedef struct fault_proxy fault_proxy;

typedef struct proxy_options {
    int upstream_port;         /* the server's port on 127.0.0.1 */
    uint64_t seed;             /* the PRNG's seed: the same seed, the same choices */
    unsigned fault_percent;    /* share of sync requests spoiled, 0-100 */
    unsigned hello_dup_percent; /* extra share of HELLO frames duplicated (at once) */
    int client_timeout_ms;     /* the clients' timeout; a stall outlasts it by a second */
} proxy_options;

/* Starts the proxy on 127.0.0.1:0. Returns 0, or -1 (errno) on failure. */
int proxy_start(fault_proxy **out, const proxy_options *options);
/* The port it listens on. */
int proxy_port(const fault_proxy *proxy);
/* Points it at another server port (after a restart elsewhere). */
void proxy_set_upstream(fault_proxy *proxy, int port);
/* Stops spoiling (1) or starts again (0); requests still pass. */
void proxy_set_clean(fault_proxy *proxy, int is_clean);
/* How many faults of `kind` it injected so far; PROXY_PASS: requests
 * passed untouched. */
uint64_t proxy_count(const fault_proxy *proxy, proxy_fault kind);
/* How many HELLO frames it sent to the server twice. */
uint64_t proxy_hello_duplicates(const fault_proxy *proxy);
/* Closes the listener and waits (at most 15 s) for the connection
 * threads; the counts stay readable. NULL is fine. */
void proxy_stop(fault_proxy *proxy);
/* Stops it if needed, and frees it. NULL is fine. */
void proxy_free(fault_proxy *proxy);

#endif
