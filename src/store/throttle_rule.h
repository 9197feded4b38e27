/* The login-throttling rule every storage adapter applies inside its transaction, so that
 * SQLite and PostgreSQL count and block alike. Pure functions, safe from any thread.
 *
 * A counter (one per key: an account, a client address, or the pair) holds the number of
 * attempts evaluated since it was last forgiven and the instant until which it refuses
 * attempts. An attempt is counted BEFORE its password is checked, so that attempts
 * running in parallel see each other: of 300 simultaneous wrong passwords, only those
 * admitted before the first block is set are ever evaluated. */
#ifndef AUTHKIT_STORE_THROTTLE_RULE_H
#define AUTHKIT_STORE_THROTTLE_RULE_H

#include <stdbool.h>
#include <stdint.h>

#include "authkit/common.h"

/* How one kind of counter behaves. */
struct authkit__throttle_rule {
    int64_t free;          /* attempts counted before any delay (>= 1) */
    int64_t limit;         /* counted attempts at which the block is always max_delay; 0: none */
    authkit_time base;     /* first delay, doubled for every further attempt */
    authkit_time max;      /* longest delay */
    authkit_time forget;   /* a counter idle this long (and not blocked) starts again at 0 */
    bool reset_on_success; /* a success forgives the counter; else it only uncounts itself */
};

/* One counter's stored state. */
struct authkit__throttle_row {
    int64_t attempts;
    authkit_time blocked_until; /* 0: not blocked */
    authkit_time updated_at;
};

/* Admits or refuses one attempt against `row` at `now`. Refused (false, `row`
 * unchanged) while row->blocked_until > now. Admitted (true): the attempt is counted and
 * the block the next attempt will meet is set: none while attempts <= free, then base,
 * 2 x base, 4 x base, ... capped at max, and max from `limit` attempts on. */
bool authkit__throttle_admit(const struct authkit__throttle_rule *rule,
                             struct authkit__throttle_row *row, authkit_time now);

/* What a successful attempt does to `row`: forgiven (zeroed) under reset_on_success,
 * else its own count taken back (and the block lifted once back within `free`). */
void authkit__throttle_succeeded(const struct authkit__throttle_rule *rule,
                                 struct authkit__throttle_row *row);

#endif
