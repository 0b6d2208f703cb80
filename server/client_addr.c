/* client_addr.c - the client's address and scheme of a request, believing
 * X-Forwarded-For and X-Forwarded-Proto only from trusted proxies
 * (client_addr.h), and the address lists (single addresses or CIDR
 * ranges, IPv4 and IPv6) that trusted_proxies and metrics_allow name. */
#include "client_addr.h"
#include "sync_int.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Reads one address as text into `out` (family and bytes; an IPv4-mapped
 * IPv6 address becomes IPv4). 0, or -1 if it is not an address. */
static int address_parse(addr_range *out, const char *text)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, out->bytes) == 1) {
        out->family = AF_INET;
        out->prefix_bits = 32;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out->bytes) != 1) return -1;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(out->bytes, mapped, sizeof mapped) == 0) {
        memmove(out->bytes, out->bytes + 12, 4);
        memset(out->bytes + 4, 0, 12);
        out->family = AF_INET;
        out->prefix_bits = 32;
        return 0;
    }
    out->family = AF_INET6;
    out->prefix_bits = 128;
    return 0;
}

/* Parses "ADDR" or "ADDR/BITS" of `len` bytes. 0 or -1. */
static int range_parse(addr_range *out, const char *text, size_t len)
{
    char copy[CLIENT_ADDR_TEXT + 8];
    if (len == 0 || len >= sizeof copy) return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    char *slash = strchr(copy, '/');
    if (slash) *slash = '\0';
    if (address_parse(out, copy)) return -1;
    if (!slash) return 0;
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    int max = out->family == AF_INET ? 32 : 128;
    if (end == slash + 1 || *end || bits < 0 || bits > max) return -1;
    out->prefix_bits = (int)bits;
    return 0;
}

int addr_list_parse(addr_list *out, const char *text, const char *what)
{
    memset(out, 0, sizeof *out);
    for (const char *p = text; p && *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        size_t len = strcspn(p, ", \t");
        if (len == 0) break;
        if (out->count == ADDR_LIST_MAX)
            return dala_error_set(DALA_ELIMIT, "%s: more than %d addresses", what, ADDR_LIST_MAX);
        if (range_parse(&out->ranges[out->count], p, len))
            return dala_error_set(DALA_EINVAL, "%s: '%.*s' is not an IPv4 or IPv6 address or ADDR/BITS range",
                                  what, (int)(len > 60 ? 60 : len), p);
        out->count++;
        p += len;
    }
    return DALA_OK;
}

static int range_contains(const addr_range *range, const addr_range *address)
{
    if (range->family != address->family) return 0;
    int bits = range->prefix_bits, whole = bits / 8, rest = bits % 8;
    if (memcmp(range->bytes, address->bytes, (size_t)whole) != 0) return 0;
    if (!rest) return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (range->bytes[whole] & mask) == (address->bytes[whole] & mask);
}

int addr_list_contains(const addr_list *list, const char *text)
{
    addr_range address;
    if (!list || !text || address_parse(&address, text)) return 0;
    for (size_t i = 0; i < list->count; i++)
        if (range_contains(&list->ranges[i], &address)) return 1;
    return 0;
}

/* Copies the entry [start, end) of a header list, trimmed, into `out`;
 * 0, or -1 when it is empty or does not fit. */
static int entry_copy(char *out, size_t size, const char *start, const char *end)
{
    while (start < end && (*start == ' ' || *start == '\t')) start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
    size_t len = (size_t)(end - start);
    if (len == 0 || len >= size) return -1;
    memcpy(out, start, len);
    out[len] = '\0';
    return 0;
}

/* The client in X-Forwarded-For `header`: walking from the right, the
 * first entry that is not a trusted proxy (or the left-most). 0 with the
 * address in `out`, or -1 when that entry is not an address. */
static int forwarded_for(char out[CLIENT_ADDR_TEXT], const addr_list *trusted, const char *header)
{
    const char *end = header + strlen(header);
    while (end > header) {
        const char *start = end;
        while (start > header && start[-1] != ',') start--;
        char entry[CLIENT_ADDR_TEXT];
        if (entry_copy(entry, sizeof entry, start, end)) return -1;
        addr_range address;
        if (address_parse(&address, entry)) return -1;
        snprintf(out, CLIENT_ADDR_TEXT, "%s", entry);
        if (!addr_list_contains(trusted, entry)) return 0;
        end = start > header ? start - 1 : header;
    }
    return out[0] ? 0 : -1;
}

void client_addr_get(client_addr *out, const addr_list *trusted, const struct mg_connection *conn)
{
    const struct mg_request_info *info = mg_get_request_info(conn);
    memset(out, 0, sizeof *out);
    snprintf(out->address, sizeof out->address, "%s", info->remote_addr);
    out->is_https = info->is_ssl != 0;
    if (!trusted || trusted->count == 0 || !addr_list_contains(trusted, info->remote_addr)) return;
    out->is_proxied = 1;
    const char *xff = mg_get_header(conn, "X-Forwarded-For");
    char found[CLIENT_ADDR_TEXT] = "";
    if (xff && forwarded_for(found, trusted, xff) == 0) snprintf(out->address, sizeof out->address, "%s", found);
    const char *proto = mg_get_header(conn, "X-Forwarded-Proto");
    if (proto) {
        /* The last value: the one the nearest proxy set. */
        const char *last = strrchr(proto, ',');
        char value[16];
        if (entry_copy(value, sizeof value, last ? last + 1 : proto, proto + strlen(proto)) == 0)
            out->is_https = out->is_https || strcasecmp(value, "https") == 0;
    }
}
