/* Events: callbacks told about logins, logouts, expiries and user changes.
 * Subscribing and unsubscribing are safe from any thread. */
#ifndef AUTHKIT_EVENT_H
#define AUTHKIT_EVENT_H

#include "common.h"
#include "context.h"
#include "status.h"

AUTHKIT_BEGIN_DECLS

#define AUTHKIT_EVENT_MAP(XX)                                                                      \
    XX(USER_CREATED, "user_created")                                                               \
    XX(USER_UPDATED, "user_updated")                                                               \
    XX(USER_DELETED, "user_deleted")                                                               \
    XX(USER_LOGGED_IN, "user_logged_in")                                                           \
    XX(LOGIN_FAILED, "login_failed")                                                               \
    XX(USER_LOGGED_OUT, "user_logged_out")                                                         \
    XX(SESSION_EXPIRED, "session_expired")                                                         \
    XX(SESSIONS_REVOKED, "sessions_revoked")                                                       \
    XX(PASSWORD_CHANGED, "password_changed")                                                       \
    XX(LOGIN_THROTTLED, "login_throttled")                                                         \
    XX(SESSIONS_CLEANED, "sessions_cleaned")                                                       \
    XX(PASSWORD_CHANGE_REQUIRED, "password_change_required")

typedef enum authkit_event_type {
    AUTHKIT_EVENT_ALL = 0, /* subscribe to every type */
#define AUTHKIT_EVENT_ENUM(name, text) AUTHKIT_EVENT_##name,
    AUTHKIT_EVENT_MAP(AUTHKIT_EVENT_ENUM)
#undef AUTHKIT_EVENT_ENUM
        AUTHKIT_EVENT_COUNT_ /* not a type */
} authkit_event_type;

/* "user_logged_in", ...; static text, never NULL. */
AUTHKIT_EXTERN const char *authkit_event_name(authkit_event_type type);

/* An event, valid only during the callback (copy what you keep). Fields that a type does
 * not carry are NULL or 0. No event ever carries a password, a token or a hash.
 *   user_created      user_id, email, username
 *   user_updated      user_id, fields_changed (AUTHKIT_FIELD_* bits)
 *   user_deleted      user_id
 *   user_logged_in    user_id, session_id, ip
 *   login_failed      login (the name given, possibly not a user), user_id (when the login
 *                     names a user), ip, reason (below)
 *   user_logged_out   user_id, session_id (the same id as at login); reason "revoked"
 *                     when ended by authkit_session_revoke() rather than by its token
 *   session_expired   user_id, session_id, expired_at; reason "idle_timeout" when the
 *                     idle timeout ended it before its lifetime
 *   sessions_revoked  user_id, count; reason "user_deactivated" when deactivating the
 *                     user ended them, "logout_others" for authkit_logout_others(),
 *                     "session_cap" when a login ended the oldest beyond
 *                     max_sessions_per_user (NULL for a logout-all)
 *   password_changed  user_id, count (sessions ended)
 *   password_change_required  user_id, count (sessions ended): the account was flagged
 *                     (authkit_user_require_password_change)
 *   login_throttled   login (as given; NULL for a re-authentication), user_id (when the
 *                     login names a user), ip; the attempt was refused unchecked
 *   sessions_cleaned  count (expired sessions deleted by authkit_session_delete_expired();
 *                     published only when it is not 0)
 * `ip` is the address the operation names, else the one set with
 * authkit_event_set_client() on the publishing thread, else NULL.
 * `reason` of login_failed says why, for audit trails only - the caller of
 * authkit_authenticate() gets the same answer whatever it is. The first that applies:
 *   "unknown_login"       the login names no user
 *   "bad_password_input"  the password is empty, over 72 bytes or holds a NUL byte
 *   "no_password"         the user has no password
 *   "wrong_password"      the password does not match
 *   "inactive_user"       the password matches, but the user is deactivated
 *   "password_change_required"  the password matches, but the account is flagged and
 *                         no acceptable new password came with it (the caller gets
 *                         AUTHKIT_PASSWORD_CHANGE_REQUIRED or the policy's refusal) */
typedef struct authkit_event {
    authkit_event_type type;
    authkit_time timestamp;
    const char *user_id;
    const char *session_id;
    const char *email;
    const char *username;
    const char *login;
    const char *ip;
    authkit_time expired_at;
    unsigned fields_changed;
    size_t count;
    const char *reason; /* static text, or NULL (see above) */
} authkit_event;

/* Called synchronously on the thread that made the change, after it is committed, in
 * subscription order. A non-zero return is counted as a failure and otherwise ignored:
 * it never fails the operation. The callback may call the library (but must not close the
 * context). */
typedef int (*authkit_event_fn)(const authkit_event *event, void *arg);

/* Subscribes `fn` to `type` (or AUTHKIT_EVENT_ALL). `*id` (may be NULL) gets a handle for
 * authkit_event_unsubscribe(). AUTHKIT_OK, AUTHKIT_INVALID_ARGUMENT, AUTHKIT_NOMEM. */
AUTHKIT_EXTERN authkit_status authkit_event_subscribe(authkit_ctx *ctx, authkit_event_type type,
                                                      authkit_event_fn fn, void *arg, uint64_t *id);

/* Removes a subscription; AUTHKIT_NOT_FOUND if there is none with that id. After it
 * returns, the callback is not called again (except by deliveries already running on
 * other threads). */
AUTHKIT_EXTERN authkit_status authkit_event_unsubscribe(authkit_ctx *ctx, uint64_t id);

/* Number of callback failures (non-zero returns) since open. */
AUTHKIT_EXTERN uint64_t authkit_event_failures(authkit_ctx *ctx);

/* Names the client the calling thread is serving, for the events it publishes that name
 * no address themselves (a logout, a logout-all, a revocation, a password change):
 * they carry `ip` (copied, at most AUTHKIT_IP_SIZE - 1 bytes) until the next call. NULL
 * or "" forgets it. Per thread, for every context: set it when a request starts, clear it
 * when the request is done, so a pooled thread never lends one client's address to the
 * next. authkit_authenticate() uses its opts->ip when one is given. */
AUTHKIT_EXTERN void authkit_event_set_client(const char *ip);

AUTHKIT_END_DECLS

#endif
