/* The storage port: one versioned table of functions that every adapter (SQLite,
 * PostgreSQL) implements, so core code never includes a database header.
 *
 * Contract for every adapter:
 * - Each function may be called from any thread at the same time as any other (the
 *   adapter serialises or pools connections itself), except open and close.
 * - Each function that changes several rows does so in one transaction: on failure
 *   nothing is written.
 * - "Not found" is AUTHKIT_NOT_FOUND; a unique-constraint violation is AUTHKIT_CONFLICT
 *   with err->field naming "email" or "username"; anything else the database reports is
 *   AUTHKIT_STORE with the database's message in err (never a secret: tokens reach the
 *   store only as digests).
 * - Emails arrive already normalised (trimmed, lower-case); usernames are compared
 *   without regard to ASCII case. A session's ip and user_agent arrive as well-formed
 *   UTF-8 without control characters (authkit__text_sanitize).
 * - A duplicate id or token digest is AUTHKIT_CONFLICT with err->field "id" or
 *   "token_digest"; a session for a user that does not exist is AUTHKIT_NOT_FOUND with
 *   err->field "user_id".
 * - Output pointers documented "may be NULL" are optional; on a failed open `*state` is
 *   NULL. */
#ifndef AUTHKIT_STORE_H
#define AUTHKIT_STORE_H

#include <stdatomic.h>

#include "authkit/audit.h"
#include "authkit/password.h"
#include "authkit/session.h"
#include "authkit/status.h"
#include "authkit/user.h"
#include "core/encoding.h"
#include "store/throttle_rule.h"

#define AUTHKIT_STORE_OPS_VERSION 7

/* A user row: the public fields plus what only the library may see. */
struct authkit_store_user {
    authkit_user user;
    char password_hash[AUTHKIT_HASH_SIZE]; /* "" when the user has no password */
    /* Stateless tokens issued before this instant are refused (logout-all, password). */
    authkit_time sessions_valid_after;
};

/* A session row. The token itself is never stored, only its digest. */
struct authkit_store_session {
    authkit_session_info info;
    uint8_t token_digest[AUTHKIT_DIGEST_BYTES];
};

/* A login-throttling counter: a keyed digest naming what it counts (never the name or
 * address itself) and the rule it counts by. */
struct authkit_store_throttle_key {
    uint8_t id[AUTHKIT_DIGEST_BYTES];
    struct authkit__throttle_rule rule;
};

#define AUTHKIT_STORE_THROTTLE_MAX_KEYS 4

/* Which audit rows a query returns: those matching every field that is set. Text fields
 * NULL match anything; times 0 are no bound. The core checks user_id is a UUID. */
struct authkit_store_audit_filter {
    const char *user_id;
    const char *login_hash;
    const char *event;
    const char *outcome;
    authkit_time since; /* time >= since */
    authkit_time until; /* time < until */
};

enum authkit_user_key { AUTHKIT_USER_BY_ID, AUTHKIT_USER_BY_EMAIL, AUTHKIT_USER_BY_USERNAME };

struct authkit_store_ops {
    int version; /* AUTHKIT_STORE_OPS_VERSION */
    const char *name;

    /* `location` is the URL without its scheme ("./authkit.db", "/abs.db", ":memory:").
     * Creates or migrates the schema. */
    authkit_status (*open)(const char *location, void **state, authkit_error *err);
    void (*close)(void *state);

    /* Inserts a complete row (id, timestamps and all). CONFLICT on email or username. */
    authkit_status (*user_insert)(void *state, const struct authkit_store_user *row,
                                  authkit_error *err);
    authkit_status (*user_get)(void *state, enum authkit_user_key key, const char *value,
                               struct authkit_store_user *out, authkit_error *err);
    /* Writes email, username, global_role, is_active and updated_at of row->user.id. If
     * `end_sessions`, also deletes all of the user's sessions and sets
     * sessions_valid_after to row->sessions_valid_after, in the same transaction; the
     * number deleted goes to `*ended` (may be NULL). NOT_FOUND, CONFLICT. */
    authkit_status (*user_update)(void *state, const struct authkit_store_user *row,
                                  bool end_sessions, size_t *ended, authkit_error *err);
    /* Sets the password hash ("" removes it), password_changed_at = updated_at =
     * sessions_valid_after = now, clears password_change_required, and deletes all of the
     * user's sessions, in one transaction; the number deleted goes to `*ended`. NOT_FOUND. */
    authkit_status (*user_set_password)(void *state, const char *user_id, const char *hash,
                                        authkit_time now, size_t *ended, authkit_error *err);
    /* Replaces the hash only if it is still `old_hash` (a concurrent password change
     * wins); touches no other column. OK also when nothing was replaced. */
    authkit_status (*user_rehash)(void *state, const char *user_id, const char *old_hash,
                                  const char *new_hash, authkit_error *err);
    /* Deletes the user and its sessions. NOT_FOUND. */
    authkit_status (*user_delete)(void *state, const char *user_id, authkit_error *err);
    /* Oldest first (created_at, then id). */
    authkit_status (*user_list)(void *state, size_t offset, authkit_user *out, size_t cap,
                                size_t *n, authkit_error *err);
    /* Case-insensitive literal substring of email or username ("" matches everyone);
     * oldest first. */
    authkit_status (*user_search)(void *state, const char *query, authkit_user *out, size_t cap,
                                  size_t *n, authkit_error *err);
    authkit_status (*user_count)(void *state, size_t *n, authkit_error *err);
    /* Deletes all sessions of the user and sets sessions_valid_after = now, in one
     * transaction. NOT_FOUND when there is no such user. */
    authkit_status (*user_end_sessions)(void *state, const char *user_id, authkit_time now,
                                        size_t *ended, authkit_error *err);

    authkit_status (*session_insert)(void *state, const struct authkit_store_session *row,
                                     authkit_error *err);
    /* The session with this digest and its user, in one read, whether or not it has
     * expired (the caller judges expiry). `session` and `user` may be NULL. NOT_FOUND. */
    authkit_status (*session_find)(void *state, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                                   struct authkit_store_session *session,
                                   struct authkit_store_user *user, authkit_error *err);
    /* Deletes the session with this digest and returns the deleted row in `out` (may be
     * NULL). NOT_FOUND if no row was deleted: of two concurrent callers, one gets OK. */
    authkit_status (*session_delete)(void *state, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                                     struct authkit_store_session *out, authkit_error *err);
    /* Deletes session `session_id` only if it belongs to `user_id`. NOT_FOUND. */
    authkit_status (*session_delete_id)(void *state, const char *user_id, const char *session_id,
                                        authkit_error *err);
    /* Live sessions (expires_at > now) of the user, newest first. */
    authkit_status (*session_list)(void *state, const char *user_id, authkit_time now,
                                   authkit_session_info *out, size_t cap, size_t *n,
                                   authkit_error *err);
    /* Deletes at most `batch` sessions with expires_at <= now in one transaction. */
    authkit_status (*session_delete_expired)(void *state, authkit_time now, size_t batch,
                                             size_t *deleted, authkit_error *err);
    /* Live sessions (expires_at > now). */
    authkit_status (*session_count)(void *state, authkit_time now, size_t *n, authkit_error *err);

    /* Login throttling (version 2). Counts one attempt against each of the `n` keys
     * (n <= AUTHKIT_STORE_THROTTLE_MAX_KEYS, distinct ids) through authkit__throttle_admit(),
     * in ONE transaction that serialises with every other attempt on those keys (also
     * from other processes and nodes): either every key admits the attempt and all are
     * written, or nothing is written and AUTHKIT_RATE_LIMITED is returned with the latest
     * block among the refusing keys in `*blocked_until`. A key without a row starts from
     * a zero row. */
    authkit_status (*throttle_attempt)(void *state, const struct authkit_store_throttle_key *keys,
                                       size_t n, authkit_time now, authkit_time *blocked_until,
                                       authkit_error *err);
    /* After a successful attempt: applies authkit__throttle_succeeded() to each existing
     * row of the keys, in one transaction. */
    authkit_status (*throttle_success)(void *state, const struct authkit_store_throttle_key *keys,
                                       size_t n, authkit_error *err);
    /* Forgets one counter (an operator lifting a block). `*found` (may be NULL) tells
     * whether there was one. */
    authkit_status (*throttle_clear)(void *state, const uint8_t id[AUTHKIT_DIGEST_BYTES],
                                     bool *found, authkit_error *err);
    /* Deletes at most `batch` counters that are not blocked at `now` and were last
     * touched at or before `idle_before`. */
    authkit_status (*throttle_prune)(void *state, authkit_time now, authkit_time idle_before,
                                     size_t batch, size_t *deleted, authkit_error *err);

    /* Session control (version 3). Moves last_seen_at of the session with this digest
     * forward to `now` (never back). OK also when there is no such session. */
    authkit_status (*session_touch)(void *state, const uint8_t digest[AUTHKIT_DIGEST_BYTES],
                                    authkit_time now, authkit_error *err);
    /* Deletes the user's sessions other than `keep_id` (the one just made) and the
     * `others` newest of the rest (created_at, then id), in one statement; the count to
     * `*evicted`. */
    authkit_status (*session_evict)(void *state, const char *user_id, const char *keep_id,
                                    size_t others, size_t *evicted, authkit_error *err);
    /* Deletes every session of the user except `keep_id`; the count to `*n`. */
    authkit_status (*session_delete_others)(void *state, const char *user_id, const char *keep_id,
                                            size_t *n, authkit_error *err);

    /* Audit trail (version 4). Rows are never changed, only appended and pruned; they
     * outlive their user (no foreign key).
     * Appends `row` (its id is ignored: the store numbers rows, increasing). Text fields
     * "" are stored as NULL; user_id and session_id are "" or UUIDs; all text is valid
     * UTF-8 without control characters. */
    authkit_status (*audit_insert)(void *state, const authkit_audit_entry *row, authkit_error *err);
    /* Up to `cap` rows matching `f`, newest first (time descending, then id descending). */
    authkit_status (*audit_query)(void *state, const struct authkit_store_audit_filter *f,
                                  authkit_audit_entry *out, size_t cap, size_t *n,
                                  authkit_error *err);
    /* Deletes at most `batch` rows with time < before, oldest first, in one transaction. */
    authkit_status (*audit_prune)(void *state, authkit_time before, size_t batch, size_t *deleted,
                                  authkit_error *err);

    /* Version 5. Deletes every session of every user and sets every user's
     * sessions_valid_after to `now`, in one transaction (an operator ending all logins at
     * once); the number of sessions deleted to `*ended`. */
    authkit_status (*sessions_end_all)(void *state, authkit_time now, size_t *ended,
                                       authkit_error *err);

    /* Version 6. A counter that every process using this store shares (shared memory,
     * not the database: reading it costs no transaction). The library moves it forward
     * after each write that ends sessions or changes a user, and validations keep what
     * they read only while it stands still (src/session/cache.c). NULL when the store
     * cannot share one with every reader (then nothing is cached). */
    _Atomic uint64_t *(*change_counter)(void *state);

    /* Version 7. Sets password_change_required, updated_at = sessions_valid_after = now,
     * and deletes all of the user's sessions, in one transaction; the number deleted goes
     * to `*ended`. NOT_FOUND. */
    authkit_status (*user_require_password_change)(void *state, const char *user_id,
                                                   authkit_time now, size_t *ended,
                                                   authkit_error *err);
};

/* The SQLite adapter (src/store/sqlite/). */
extern const struct authkit_store_ops authkit__store_sqlite;
/* The PostgreSQL adapter (src/store/pg/); its location is a libpq connection string or URI. */
extern const struct authkit_store_ops authkit__store_pg;

#endif
