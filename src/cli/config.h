/* Configuration of the `authkit` program: command-line flags, then AUTHKIT_* environment
 * variables, then a .env file in the working directory, then defaults (the first source
 * that sets a value wins). The session secret is never taken from the command line,
 * where other users of the machine could read it. */
#ifndef AUTHKIT_CLI_CONFIG_H
#define AUTHKIT_CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

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
    int password_workers;  /* bcrypt threads; 0 = one less than the cores, at least 1 */
    int password_queue;    /* logins waiting for a worker before 503; default 64 */
    size_t max_body_bytes; /* default 16384 */
    int http_threads;      /* threads serving HTTP; 0 = number of cores */
    /* Peers whose X-Forwarded-For gives the client's address (default: none). */
    struct authkit_proxies trusted_proxies;
    /* "authkit": no new password may be based on it ("" turns that check off). */
    char service_name[101];
};

/* Flags every subcommand accepts (and the environment variable of each):
 *   --database URL            AUTHKIT_DATABASE_URL           (sqlite://./authkit.db)
 *   (no flag)                 AUTHKIT_SESSION_SECRET         (required for most commands)
 *   --listen HOST:PORT        AUTHKIT_LISTEN                 (127.0.0.1:8080)
 *   --session-timeout MIN     AUTHKIT_SESSION_TIMEOUT_MINUTES (30)
 *   --stateless               AUTHKIT_ENABLE_SESSION_STORAGE=false
 *   --bcrypt-cost N           AUTHKIT_BCRYPT_COST            (12)
 *   --password-min-length N   AUTHKIT_PASSWORD_MIN_LENGTH    (8; 8..72)
 *   --cleanup-interval SEC    AUTHKIT_CLEANUP_INTERVAL_SECONDS (600; 0 disables)
 *   --cookie-name NAME        AUTHKIT_COOKIE_NAME            (__Host-session_token)
 *   --cookie-domain DOMAIN    AUTHKIT_COOKIE_DOMAIN          (none)
 *   --insecure-cookies        AUTHKIT_INSECURE_COOKIES=true  (off)
 *   --password-workers N      AUTHKIT_PASSWORD_WORKERS       (cores - 1; 3 on 2-3, 1 on 1)
 *   --password-queue N        AUTHKIT_PASSWORD_QUEUE         (64)
 *   --http-threads N          AUTHKIT_HTTP_THREADS           (cores)
 *   --max-body BYTES          AUTHKIT_MAX_BODY_BYTES         (16384)
 *   --trusted-proxies LIST    AUTHKIT_TRUSTED_PROXIES        (none; addresses, networks)
 *   --throttle-account-failures N  AUTHKIT_THROTTLE_ACCOUNT_FAILURES (10; 0 disables)
 *   --throttle-address-failures N  AUTHKIT_THROTTLE_ADDRESS_FAILURES (100; 0 disables)
 *   --throttle-pair-failures N     AUTHKIT_THROTTLE_PAIR_FAILURES    (5; 0 disables)
 *   --throttle-max-delay SEC       AUTHKIT_THROTTLE_MAX_DELAY_SECONDS (3600)
 *   --idle-timeout MIN        AUTHKIT_SESSION_IDLE_TIMEOUT_MINUTES (0: off)
 *   --max-sessions N          AUTHKIT_MAX_SESSIONS_PER_USER  (0: no cap)
 *   --audit-retention-days N       AUTHKIT_AUDIT_RETENTION_DAYS      (90; 0 keeps no trail)
 *   --service-name NAME       AUTHKIT_SERVICE_NAME           (authkit)
 * Booleans in the environment accept 1/0, true/false, yes/no, on/off. */

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
