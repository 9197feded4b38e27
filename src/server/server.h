/* `authkit serve`: the HTTP auth service on libmicrohttpd. */
#ifndef AUTHKIT_SERVER_H
#define AUTHKIT_SERVER_H

#include "authkit.h"
#include "cli/config.h"

struct authkit_server;

/* Starts serving `ctx` on cfg->listen_host:cfg->listen_port (port 0: a free one), with
 * the password worker pool and HTTP threads of `cfg`. `ctx` and `cfg` must outlive the
 * server. Returns 0, or -1 with a reason in `err`. */
int authkit_server_start(const struct authkit_config *cfg, authkit_ctx *ctx,
                         struct authkit_server **out, char *err, size_t err_size);

/* The port actually bound. */
int authkit_server_port(const struct authkit_server *srv);

/* Stops accepting, lets in-flight requests and queued logins finish, and frees the
 * server. NULL is ignored. */
void authkit_server_stop(struct authkit_server *srv);

#endif
