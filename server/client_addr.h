/* client_addr.h - who a request comes from: the client's address and
 * whether it came over https, the same answer for every caller (throttles,
 * the session cookie, /metrics). Behind a TLS front the TCP peer is the
 * proxy; only when that peer is one of the configured trusted proxies are
 * its X-Forwarded-For and X-Forwarded-Proto believed. From anyone else
 * those headers are ignored, so they cannot be forged. */
#ifndef DALA_CLIENT_ADDR_H
#define DALA_CLIENT_ADDR_H

#include <stddef.h>
#include <stdint.h>

struct mg_connection;

/* The most entries an address list holds (trusted_proxies, metrics_allow). */
#define ADDR_LIST_MAX 32
/* Room for any IPv6 address as text, and its NUL. */
#define CLIENT_ADDR_TEXT 48

/* One address or CIDR range: IPv4 kept as IPv4 (4 bytes), IPv6 as 16. */
typedef struct addr_range {
    int family;        /* AF_INET or AF_INET6 */
    uint8_t bytes[16];
    int prefix_bits;   /* 32 or 128 for one address */
} addr_range;

typedef struct addr_list {
    size_t count;
    addr_range ranges[ADDR_LIST_MAX];
} addr_list;

/* Parses "127.0.0.1, ::1, 10.0.0.0/8" (commas, spaces allowed; NULL or ""
 * gives an empty list). DALA_EINVAL naming the bad entry, DALA_ELIMIT for
 * more than ADDR_LIST_MAX entries. */
int addr_list_parse(addr_list *out, const char *text, const char *what);
/* 1 if the address `text` (IPv4, IPv6, or IPv4-mapped IPv6 as CivetWeb
 * may give it) is in `list`; 0 if not or if `text` is not an address. */
int addr_list_contains(const addr_list *list, const char *text);

/* The client of one request. */
typedef struct client_addr {
    char address[CLIENT_ADDR_TEXT]; /* "10.0.0.1"; the peer's when nothing is believed */
    int is_https;                   /* CivetWeb's own TLS, or a trusted X-Forwarded-Proto: https */
    int is_proxied;                 /* the peer is a trusted proxy */
} client_addr;

/**
 * Finds who `conn` comes from. When the TCP peer is in `trusted`:
 * the address is the right-most entry of X-Forwarded-For that is not
 * itself a trusted proxy (the left-most when all are; the peer's when
 * the header is missing or that entry is not an address), and is_https
 * follows the last value of X-Forwarded-Proto. Otherwise both headers are
 * ignored: the peer's address, and is_https only under CivetWeb's TLS.
 *
 * @param out      filled whatever happens.
 * @param trusted  the trusted proxies (borrowed); may be empty.
 * @param conn     the request (borrowed).
 */
void client_addr_get(client_addr *out, const addr_list *trusted, const struct mg_connection *conn);

#endif /* DALA_CLIENT_ADDR_H */
