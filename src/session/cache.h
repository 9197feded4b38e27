/* The validation cache: recent successful validations (of stored sessions, and of signed
 * tokens in stateless mode), kept in memory so that a token presented again soon costs no
 * database read.
 *
 * Correctness rests on the store's change counter (store.h, change_counter), which every
 * process using the store shares and moves forward after each write that ends sessions or
 * changes a user (authkit__sessions_changed). A validation reads the counter BEFORE it
 * reads the database and files its result under that value; a lookup uses an entry only
 * while the counter still has that value. So a logout, revocation, password change,
 * disable or delete done by any process through the library reaches every cache at once:
 * the writer moves the counter after its commit and before it returns.
 *
 * An entry is also used for at most AUTHKIT__VCACHE_TTL: a change made behind the
 * library's back (SQL typed into the database by hand) shows within that time. Only
 * successes are cached; expiry, the idle timeout and last_seen_at writes stay with the
 * caller (src/session/session.c), which checks them on every hit. */
#ifndef AUTHKIT_SESSION_CACHE_H
#define AUTHKIT_SESSION_CACHE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "authkit/session.h"
#include "authkit/user.h"
#include "core/encoding.h"

#define AUTHKIT__VCACHE_TTL ((authkit_time)1000000) /* one second, in microseconds */

struct authkit__vcache;

/* A cache over the shared counter `changes`. AUTHKIT_OK or AUTHKIT_NOMEM. */
authkit_status authkit__vcache_open(_Atomic uint64_t *changes, struct authkit__vcache **out);
void authkit__vcache_close(struct authkit__vcache *cache);

/* Moves the shared counter forward (authkit__sessions_changed): every entry filed before
 * is dead, in every process. */
void authkit__vcache_changed(struct authkit__vcache *cache);

/* The counter's value now: read it before reading the store, file the result under it. */
uint64_t authkit__vcache_version(const struct authkit__vcache *cache);

/* Copies out the entry for `digest` if it was filed under `version` (the current one)
 * within the last AUTHKIT__VCACHE_TTL before `now`. */
bool authkit__vcache_get(struct authkit__vcache *cache, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                         uint64_t version, authkit_time now, authkit_user *user,
                         authkit_session_info *session);

/* Files a successful validation read under `version` at `now` (replacing whatever shared
 * its slot). */
void authkit__vcache_put(struct authkit__vcache *cache, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                         uint64_t version, authkit_time now, const authkit_user *user,
                         const authkit_session_info *session);

#endif
