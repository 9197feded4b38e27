#include "server/proxy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t size, const char *fmt,
                                                      ...) {
    va_list ap;
    va_start(ap, fmt);
    if (err && size)
        vsnprintf(err, size, fmt, ap);
    va_end(ap);
    return -1;
}

/* An address in text (no port, no brackets, no zone) to family + bytes. */
static bool parse_address(const char *text, int *family, unsigned char addr[16]) {
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, text, addr) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, text, addr) == 1) {
        /* An IPv4-mapped address is the IPv4 address it maps. */
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(addr, mapped, sizeof mapped) == 0) {
            memmove(addr, addr + 12, 4);
            memset(addr + 4, 0, 12);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return true;
    }
    return false;
}

static bool in_net(const struct authkit_proxy_net *net, int family, const unsigned char *addr) {
    if (net->family != family)
        return false;
    int full = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp(net->addr, addr, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (net->addr[full] & mask) == (addr[full] & mask);
}

static bool trusted_address(const struct authkit_proxies *t, int family,
                            const unsigned char *addr) {
    for (size_t i = 0; t && i < t->n; i++)
        if (in_net(&t->net[i], family, addr))
            return true;
    return false;
}

/* Copies the entry [start, end) trimmed of blanks into `out`; false if it does not fit. */
static bool trimmed(const char *start, const char *end, char *out, size_t size) {
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    size_t n = (size_t)(end - start);
    if (n >= size)
        return false;
    memcpy(out, start, n);
    out[n] = '\0';
    return true;
}

static int parse_entry(const char *entry, struct authkit_proxy_net *net, char *err, size_t size) {
    char text[INET6_ADDRSTRLEN + 8];
    snprintf(text, sizeof text, "%s", entry);
    char *slash = strchr(text, '/');
    int bits = -1;
    if (slash) {
        char *end;
        *slash = '\0';
        long v = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || v < 0 || v > 128)
            return fail(err, size, "'%s': the prefix length is not a number of bits", entry);
        bits = (int)v;
    }
    if (!parse_address(text, &net->family, net->addr))
        return fail(err, size, "'%s' is not an IP address or network", entry);
    int max = net->family == AF_INET ? 32 : 128;
    net->prefix = bits < 0 ? max : bits;
    if (net->prefix > max)
        return fail(err, size, "'%s': an IPv%c prefix is at most %d bits", entry,
                    net->family == AF_INET ? '4' : '6', max);
    for (int b = net->prefix; b < max; b++)
        if (net->addr[b / 8] & (0x80 >> (b % 8)))
            return fail(err, size, "'%s': the address has bits set past the prefix", entry);
    return 0;
}

int authkit_proxies_parse(const char *text, struct authkit_proxies *out, char *err,
                          size_t err_size) {
    memset(out, 0, sizeof *out);
    for (const char *p = text; *p;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        char entry[INET6_ADDRSTRLEN + 8];
        if (!trimmed(p, end, entry, sizeof entry))
            return fail(err, err_size, "'%.60s...' is not an IP address or network", p);
        if (entry[0]) {
            if (out->n == AUTHKIT_PROXIES_MAX)
                return fail(err, err_size, "at most %d trusted proxies", AUTHKIT_PROXIES_MAX);
            if (parse_entry(entry, &out->net[out->n], err, err_size) != 0)
                return -1;
            out->n++;
        }
        p = comma ? comma + 1 : end;
    }
    return 0;
}

static void to_text(int family, const unsigned char *addr, char out[AUTHKIT_IP_SIZE]) {
    if (!inet_ntop(family, addr, out, AUTHKIT_IP_SIZE))
        out[0] = '\0';
}

void authkit_proxies_client(const struct authkit_proxies *trusted, const struct sockaddr *peer,
                            const char *forwarded, char out[AUTHKIT_IP_SIZE]) {
    out[0] = '\0';
    if (!peer)
        return;
    int family;
    unsigned char addr[16] = {0};
    if (peer->sa_family == AF_INET) {
        family = AF_INET;
        memcpy(addr, &((const struct sockaddr_in *)(const void *)peer)->sin_addr, 4);
    } else if (peer->sa_family == AF_INET6) {
        char text[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr, text,
                  sizeof text);
        if (!parse_address(text, &family, addr))
            return;
    } else {
        return;
    }
    /* Walk X-Forwarded-For from the right while the current hop is a trusted proxy. */
    const char *end = forwarded ? forwarded + strlen(forwarded) : NULL;
    while (end && trusted_address(trusted, family, addr)) {
        const char *start = end;
        while (start > forwarded && start[-1] != ',')
            start--;
        char entry[INET6_ADDRSTRLEN + 1];
        int f;
        unsigned char a[16];
        if (!trimmed(start, end, entry, sizeof entry) || !parse_address(entry, &f, a))
            break;
        family = f;
        memcpy(addr, a, sizeof addr);
        end = start > forwarded ? start - 1 : NULL;
    }
    to_text(family, addr, out);
}
