/* Trusted proxies: which peers may tell the client's address in X-Forwarded-For.
 * A parsed list is read-only and safe to share between threads. */
#ifndef AUTHKIT_SERVER_PROXY_H
#define AUTHKIT_SERVER_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "authkit/common.h"

#define AUTHKIT_PROXIES_MAX 32

struct authkit_proxy_net {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix; /* bits */
};

struct authkit_proxies {
    struct authkit_proxy_net net[AUTHKIT_PROXIES_MAX];
    size_t n;
};

/* Parses a comma-separated list of addresses and networks ("10.0.0.1, 192.168.0.0/16,
 * ::1, fd00::/8"). 0, or -1 with the reason in `err` (an entry that is not an address, a
 * prefix out of range, host bits set, too many entries). */
int authkit_proxies_parse(const char *text, struct authkit_proxies *out, char *err,
                          size_t err_size);

/* The client's address for a request from `peer`: the peer itself, unless it is a
 * trusted proxy; then the X-Forwarded-For values (`forwarded`: every such header of the
 * request joined by commas, in order; may be NULL) are read from the right, skipping
 * trusted proxies, and the first address that is not one is the client. An entry that is
 * not an address ends the walk at the last trusted hop (a forged or garbled value never
 * becomes the client's address). Writes text form to `out`; "" if `peer` is NULL. */
void authkit_proxies_client(const struct authkit_proxies *trusted, const struct sockaddr *peer,
                            const char *forwarded, char out[AUTHKIT_IP_SIZE]);

#endif
