/* The auth kit: log in, validate, log out, list and clean up sessions.
 * All functions are safe to call from any thread on a shared context. */
#ifndef AUTHKIT_SESSION_H
#define AUTHKIT_SESSION_H

#include "common.h"
#include "context.h"
#include "status.h"
#include "user.h"

AUTHKIT_BEGIN_DECLS

/* Where a session comes from and how long it lives. Every field may be left zero/NULL. */
typedef struct authkit_session_opts {
    const char *ip;         /* client address, stored for listings (truncated to 63 bytes) */
    const char *user_agent; /* stored for listings (truncated to 255 bytes) */
    /* Lifetime in seconds (e.g. "remember me"); 0 uses session_timeout_minutes. */
    int64_t lifetime_seconds;
    /* authkit_authenticate() only: for an account flagged by
     * authkit_user_require_password_change(), the new password (`new_password_len`
     * bytes) its owner chose. Ignored for an account that is not flagged. */
    const char *new_password;
    size_t new_password_len;
} authkit_session_opts;

/* A new session. `token` is the secret the client presents: 43 base64url characters
 * (stored mode) or a signed HS256 token (stateless mode). Only a SHA-256 of it is
 * stored. Wipe it (sodium_memzero) when done with it. */
typedef struct authkit_login_result {
    authkit_user user;
    char token[AUTHKIT_TOKEN_SIZE];
    char session_id[AUTHKIT_UUID_SIZE];
    authkit_time expires_at;
} authkit_login_result;

/* Logs in by email (matched case-insensitively) or username (`login`), with a password of
 * `len` bytes. Every failure - unknown login, wrong password, inactive user, user
 * without a password, empty, over-long or NUL-containing password - returns the same
 * AUTHKIT_AUTHENTICATION with the same message, after the same bcrypt work at the
 * configured cost. On success a new session is created (never reused), a hash of lower
 * cost or older prefix is replaced, AUTHKIT_EVENT_USER_LOGGED_IN is published, and the
 * result goes to `out`. Failures publish AUTHKIT_EVENT_LOGIN_FAILED.
 * An account flagged by authkit_user_require_password_change() whose password is right
 * (and which is active) gets AUTHKIT_PASSWORD_CHANGE_REQUIRED (err->field "new_password")
 * and no session - unless opts->new_password passes the policy of
 * authkit_password_policy_check() (with the user's username and email as context words)
 * and differs from the current one: then it is set as by authkit_user_set_password()
 * (the flag is cleared, AUTHKIT_EVENT_PASSWORD_CHANGED published) and the login goes on
 * as any other. A refused new password returns the policy's status (AUTHKIT_VALIDATION,
 * AUTHKIT_PASSWORD_TOO_LONG, AUTHKIT_PASSWORD_HAS_NUL; err->field "new_password") and
 * changes nothing. Both refusals publish AUTHKIT_EVENT_LOGIN_FAILED with reason
 * "password_change_required" and, the password being right, reset the account's
 * throttling count like a success. A wrong password on a flagged account is the
 * ordinary AUTHKIT_AUTHENTICATION above.
 * Throttling (authkit_options throttle_*): every attempt is counted against the account
 * (known or not), the client address opts->ip and the pair before its password is
 * checked; while a counter makes attempts wait, the login returns AUTHKIT_RATE_LIMITED
 * with err->retry_after_seconds, runs no bcrypt and publishes
 * AUTHKIT_EVENT_LOGIN_THROTTLED - alike for known and unknown logins.
 * Other returns: AUTHKIT_STORE, AUTHKIT_INVALID_ARGUMENT (NULL ctx/login/out; a NULL
 * opts->new_password with a length). */
AUTHKIT_EXTERN authkit_status authkit_authenticate(authkit_ctx *ctx, const char *login,
                                                   const char *password, size_t len,
                                                   const authkit_session_opts *opts,
                                                   authkit_login_result *out, authkit_error *err);

/* Creates a session for an existing, active user without a password (after another form
 * of authentication). Publishes nothing. AUTHKIT_OK, AUTHKIT_NOT_FOUND (unknown or
 * inactive user), AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_session_create(authkit_ctx *ctx, const char *user_id,
                                                     const authkit_session_opts *opts,
                                                     authkit_login_result *out, authkit_error *err);

/* A live session as listed; never holds the token. */
typedef struct authkit_session_info {
    char id[AUTHKIT_UUID_SIZE];
    char user_id[AUTHKIT_UUID_SIZE];
    authkit_time created_at;
    authkit_time expires_at;
    authkit_time last_seen_at;
    char ip[AUTHKIT_IP_SIZE];
    char user_agent[AUTHKIT_USER_AGENT_SIZE];
} authkit_session_info;

/* Validates a token. AUTHKIT_OK with its user in `user` (and, if `session` is not NULL,
 * the session; in stateless mode only id, user_id, created_at and expires_at are set),
 * or AUTHKIT_NOT_AUTHENTICATED for any token that is unknown, malformed, logged out,
 * expired (absolute lifetime, or idle timeout when configured), or whose user is inactive
 * or gone. A stored session's last_seen_at is moved to now when it is older than a
 * minute (five without an idle timeout). Finding an expired session deletes it and
 * publishes AUTHKIT_EVENT_SESSION_EXPIRED once. AUTHKIT_STORE if storage fails. */
AUTHKIT_EXTERN authkit_status authkit_session_validate(authkit_ctx *ctx, const char *token,
                                                       authkit_user *user,
                                                       authkit_session_info *session,
                                                       authkit_error *err);

/* Ends the session of `token`. `*deleted` is true when a session was deleted (and
 * AUTHKIT_EVENT_USER_LOGGED_OUT published), false otherwise (unknown token, second
 * logout, stateless mode). AUTHKIT_OK or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_logout(authkit_ctx *ctx, const char *token, bool *deleted,
                                             authkit_error *err);

/* Ends every session of the user; in stateless mode, refuses every token issued up to
 * now. `*revoked` gets the number of sessions deleted (0 in stateless mode). Publishes
 * AUTHKIT_EVENT_SESSIONS_REVOKED. AUTHKIT_OK, AUTHKIT_NOT_FOUND or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_logout_all(authkit_ctx *ctx, const char *user_id,
                                                 size_t *revoked, authkit_error *err);

/* Ends every session of every user; in stateless mode, refuses every token issued up to
 * now (an operator responding to an incident). `*revoked` (may be NULL) gets the number
 * of sessions deleted. Publishes AUTHKIT_EVENT_SESSIONS_REVOKED with no user_id and
 * reason "everyone". AUTHKIT_OK or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_logout_everyone(authkit_ctx *ctx, size_t *revoked,
                                                      authkit_error *err);

/* Ends every session of the user except `keep_session_id` (the caller's own, typically);
 * `*revoked` (may be NULL) gets the count. Publishes AUTHKIT_EVENT_SESSIONS_REVOKED when
 * any ended. AUTHKIT_OK, AUTHKIT_UNSUPPORTED (stateless: use logout-all) or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_logout_others(authkit_ctx *ctx, const char *user_id,
                                                    const char *keep_session_id, size_t *revoked,
                                                    authkit_error *err);

/* Ends the session `session_id` if it belongs to `user_id`. AUTHKIT_OK, AUTHKIT_NOT_FOUND
 * (no such session of that user), AUTHKIT_UNSUPPORTED (stateless) or AUTHKIT_STORE.
 * Publishes AUTHKIT_EVENT_USER_LOGGED_OUT. */
AUTHKIT_EXTERN authkit_status authkit_session_revoke(authkit_ctx *ctx, const char *user_id,
                                                     const char *session_id, authkit_error *err);

/* Writes up to `cap` live sessions of the user, newest first, to `out`; the count to
 * `*n`. AUTHKIT_OK, AUTHKIT_UNSUPPORTED (stateless) or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_session_list(authkit_ctx *ctx, const char *user_id,
                                                   authkit_session_info *out, size_t cap, size_t *n,
                                                   authkit_error *err);

/* Deletes every session with expires_at <= now, in transactions of cleanup_batch_size
 * rows; `*deleted` gets the total. Publishes nothing (expiry events come from
 * validation). AUTHKIT_OK or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_session_delete_expired(authkit_ctx *ctx, size_t *deleted,
                                                             authkit_error *err);

/* Number of live sessions (expires_at > now) in the store. */
AUTHKIT_EXTERN authkit_status authkit_session_count(authkit_ctx *ctx, size_t *n,
                                                    authkit_error *err);

AUTHKIT_END_DECLS

#endif
