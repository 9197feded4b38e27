/* Login throttling: which counters an attempt touches and what the store says of them
 * (store/throttle_rule.h holds the rule itself). Safe from any thread. */
#ifndef AUTHKIT_PASSWORD_THROTTLE_H
#define AUTHKIT_PASSWORD_THROTTLE_H

#include "core/ctx.h"

/* Every counter waits at least this long once it delays; the wait doubles from there. */
#define AUTHKIT_THROTTLE_BASE_DELAY_US 1000000
/* From this many consecutive failures on, an account waits the maximum each time:
 * NIST SP 800-63B §5.2.2 allows no more than 100. */
#define AUTHKIT_THROTTLE_ACCOUNT_LIMIT 100
/* A counter untouched this long starts again from zero. */
#define AUTHKIT_THROTTLE_FORGET_US (24LL * 3600 * 1000000)

struct authkit__throttle {
    struct authkit_store_throttle_key keys[AUTHKIT_STORE_THROTTLE_MAX_KEYS];
    size_t n;
};

/* The counters of one attempt (the account's first, when it is counted): the account (`user_id`
 * when the login names a user, otherwise the login itself, normalised, so unknown names are
 * throttled exactly like known ones and a user's email and username count once), the client address
 * `ip` (NULL or "": none; IPv6 counted per /64) and the pair of the two; each only if its option is
 * not 0. Counters are named by an HMAC under a key derived from the session secret: the store never
 * holds a login name or an address in them. */
void authkit__throttle_keys(const authkit_ctx *ctx, const char *user_id, const char *login,
                            const char *ip, struct authkit__throttle *t);

/* Counts the attempt before its password is checked. AUTHKIT_OK: go on.
 * AUTHKIT_RATE_LIMITED: refuse without checking anything; err->retry_after_seconds gets
 * the whole seconds to wait (>= 1). AUTHKIT_STORE: refuse too (fail closed). */
authkit_status authkit__throttle_begin(authkit_ctx *ctx, const struct authkit__throttle *t,
                                       authkit_error *err);

/* After a correct password: forgives the account and pair counters. Best effort. */
void authkit__throttle_success(authkit_ctx *ctx, const struct authkit__throttle *t);

/* Deletes the counters that block nothing and were untouched for a day, in batches of
 * cleanup_batch_size. AUTHKIT_OK or AUTHKIT_STORE. */
authkit_status authkit__throttle_prune(authkit_ctx *ctx, size_t *deleted, authkit_error *err);

#endif
