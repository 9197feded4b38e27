/* Configuration of the `authkit` program: command-line flags, then AUTHKIT_* environment
 * variables, then a .env file in the working directory, then defaults (the first source
 * that sets a value wins). The session secret is never taken from the command line,
 * where other users of the machine could read it. */
#ifndef AUTHKIT_CLI_CONFIG_H
#define AUTHKIT_CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "authkit.h"
#include "server/proxy.h"

struct authkit_config {
    authkit_options lib; /* database_url and session_secret point into the buffers below */
    char database_url[1024];
    char session_secret[512];
    /* HTTP service */
    char listen_host[256];   /* "127.0.0.1" */
    int listen_port;         /* 8080; 0 picks a free port (tests) */
    char cookie_name[128];   /* "__Host-session_token" */
    char cookie_domain[256]; /* "" = host-only cookie (required by the __Host- prefix) */
    /* Development over plain HTTP: cookies without Secure, and a cookie name without the
     * __Host- prefix (browsers refuse __Host- cookies that are not Secure). */
    bool insecure_cookies;
    int password_workers;  /* bcrypt threads; 0 = as many as the server decides */
    int password_queue;    /* logins waiting for a worker before 503; default 64 */
    size_t max_body_bytes; /* default 16384 */
    int http_threads;      /* threads serving HTTP; 0 = number of cores */
    /* Peers whose X-Forwarded-For gives the client's address (default: none). */
    struct authkit_proxies trusted_proxies;
    /* "authkit": no new password may be based on it ("" turns that check off). */
    char service_name[101];
};

/* Every subcommand accepts the same settings, each from its flag, its AUTHKIT_* environment
 * variable or the same variable in ./.env; the table in config.c lists them, and
 * authkit_config_print_options() prints it with the defaults (`authkit --help`).
 * Booleans in the environment accept 1/0, true/false, yes/no, on/off. */

/* Prints one line per setting: flag, variable, default (the value set_defaults() gives). */
void authkit_config_print_options(FILE *out);

/* Fills `cfg` from the sources above. Recognised flags are removed from argv (argc/argv
 * are updated); anything else is left for the subcommand. Returns 0, or -1 with a one-line
 * reason in `err` (an unknown value, an out-of-range number, an unreadable .env line).
 * Does not require the secret: see authkit_config_require_secret(). */
int authkit_config_load(struct authkit_config *cfg, int *argc, char **argv, char *err,
                        size_t err_size);

/* 0 if a session secret of at least 32 characters is configured, else -1 with the reason
 * (naming AUTHKIT_SESSION_SECRET and `authkit secret`). */
int authkit_config_require_secret(const struct authkit_config *cfg, char *err, size_t err_size);

#endif
