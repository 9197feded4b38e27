/* The audit trail: every authentication event, kept in the store.
 *
 * With authkit_options.audit_retention_days > 0 (default 90), the context subscribes to
 * its own events and writes one row per event after the change is committed: logins
 * (succeeded, failed with a reason code, throttled), logouts, revocations, expiries,
 * password changes, user changes and cleanup counts. Writing is best effort: a failed
 * write never fails the operation; it is counted (authkit_audit_failures). The cleanup
 * thread deletes rows older than the retention. A row never holds a password, a password
 * hash, a token, a cookie or a secret.
 *
 * Login names typed at failed or throttled logins are user-controlled text that is
 * sometimes a password typed in the wrong field. So the text is kept only when it names
 * a user; every such row has `login_hash` instead, a keyed hash of the name (HMAC under
 * a key derived from the session secret): equal names give equal hashes, so repeated
 * attempts on one name can be counted and found (authkit_audit_filter.login), but the
 * name cannot be read back. Changing the session secret changes the hashes.
 *
 * All functions are safe to call from any thread on a shared context. */
#ifndef AUTHKIT_AUDIT_H
#define AUTHKIT_AUDIT_H

#include "common.h"
#include "context.h"
#include "event.h"
#include "status.h"

AUTHKIT_BEGIN_DECLS

#define AUTHKIT_AUDIT_CODE_SIZE 48 /* event names and outcome codes */
#define AUTHKIT_AUDIT_HASH_SIZE 33 /* 32 lower-case hex digits */

/* One row of the trail. Text fields are "" when absent; all text is valid UTF-8 without
 * control characters (user-controlled text is cleaned before it is stored), but escape
 * it anyway where a terminal or a log parser shows it.
 *   outcome   "ok"; or for login_failed the reason code (authkit_event.reason:
 *             "unknown_login", "bad_password_input", "no_password", "wrong_password",
 *             "inactive_user", "password_change_required"); "throttled" for login_throttled;
 * "expired" or "idle_timeout" for session_expired; "revoked" for a revoked session
 *             (user_logged_out); "user_deactivated", "logout_others" or "session_cap"
 *             for sessions_revoked other than by a logout-all (authkit_event.reason);
 *             for user_updated the fields changed ("email,is_active").
 *   user_id   the user concerned; "" when unknown (a login naming no user) or none.
 *   login     for login_failed and login_throttled: the name as typed, only when it
 *             names a user; for user_created: the username. Otherwise "".
 *   login_hash  for login_failed and login_throttled with a name: its keyed hash.
 *   ip        the client address, when the operation had one.
 *   count     sessions ended (sessions_revoked, password_changed,
 *             password_change_required) or deleted
 *             (sessions_cleaned); otherwise 0. */
typedef struct authkit_audit_entry {
    int64_t id;        /* unique in the store, increasing in the order rows were written */
    authkit_time time; /* when the event happened (UTC microseconds) */
    char event[AUTHKIT_AUDIT_CODE_SIZE];   /* authkit_event_name() of its type */
    char outcome[AUTHKIT_AUDIT_CODE_SIZE]; /* see above */
    char user_id[AUTHKIT_UUID_SIZE];
    char session_id[AUTHKIT_UUID_SIZE];
    char login[AUTHKIT_EMAIL_SIZE];
    char login_hash[AUTHKIT_AUDIT_HASH_SIZE];
    char ip[AUTHKIT_IP_SIZE];
    uint64_t count;
} authkit_audit_entry;

/* Which rows authkit_audit_query() returns: those matching every field that is set.
 * Zero-fill it (or `= {0}`) for "everything". */
typedef struct authkit_audit_filter {
    const char *user_id;     /* NULL: any; a user id (also of a deleted user) */
    const char *login;       /* NULL: any; rows whose login_hash is this name's */
    authkit_event_type type; /* AUTHKIT_EVENT_ALL: any */
    const char *outcome;     /* NULL: any; e.g. "wrong_password" */
    authkit_time since;      /* rows at or after it; 0: no bound */
    authkit_time until;      /* rows before it; 0: no bound */
} authkit_audit_filter;

/* Writes to `out` up to `cap` rows matching `f` (NULL: all), newest first (by time, then
 * by id); their number to `*n`. A user_id that is not a UUID matches nothing.
 * Works whatever audit_retention_days is (rows written earlier stay readable).
 * AUTHKIT_OK, AUTHKIT_STORE, AUTHKIT_INVALID_ARGUMENT (NULL ctx or n, NULL out with a
 * cap, a type out of range, since > until). */
AUTHKIT_EXTERN authkit_status authkit_audit_query(authkit_ctx *ctx, const authkit_audit_filter *f,
                                                  authkit_audit_entry *out, size_t cap, size_t *n,
                                                  authkit_error *err);

/* Deletes the rows older than audit_retention_days, in transactions of
 * cleanup_batch_size rows; the number to `*deleted` (may be NULL). The cleanup thread
 * calls it at every interval. With audit_retention_days 0 it deletes nothing.
 * AUTHKIT_OK or AUTHKIT_STORE (rows deleted before the failure stay deleted). */
AUTHKIT_EXTERN authkit_status authkit_audit_delete_expired(authkit_ctx *ctx, size_t *deleted,
                                                           authkit_error *err);

/* Number of events that could not be written to the trail since open. */
AUTHKIT_EXTERN uint64_t authkit_audit_failures(authkit_ctx *ctx);

AUTHKIT_END_DECLS

#endif
