/* The context: configuration, storage, password hashing and events in one handle.
 * Internally synchronised: one context may be shared by any number of threads. */
#ifndef AUTHKIT_CONTEXT_H
#define AUTHKIT_CONTEXT_H

#include "common.h"
#include "status.h"

AUTHKIT_BEGIN_DECLS

typedef struct authkit_ctx authkit_ctx;

/* Options of authkit_open(). Fill with authkit_options_init(), then change what you need.
 * Strings are copied by authkit_open(); the struct may be discarded after it returns. */
typedef struct authkit_options {
    /* Size of this struct, set by authkit_options_init(); lets the struct grow. */
    size_t size;
    /* "sqlite:///abs/path.db", "sqlite://./relative.db" or "sqlite::memory:".
     * Default "sqlite://./authkit.db". */
    const char *database_url;
    /* Required, at least 32 characters. Signs stateless tokens. Never logged. */
    const char *session_secret;
    /* Lifetime of a session, in minutes (1..525600). Default 30. */
    int session_timeout_minutes;
    /* true: sessions are rows in the store (revocable one by one). false: stateless HS256
     * tokens signed with session_secret. Default true. */
    bool enable_session_storage;
    /* Shortest password accepted when one is set, in characters (8..72). Default 8.
     * See authkit_password_policy_check() for the whole policy. */
    int password_min_length;
    /* bcrypt cost for new hashes (4..31). Default 12. */
    int bcrypt_cost;
    /* Interval of the background thread that deletes expired sessions, in milliseconds;
     * 0 starts no thread. Default 600000 (10 minutes). */
    int cleanup_interval_ms;
    /* Rows deleted per transaction by cleanup (1..100000). Default 1000. */
    int cleanup_batch_size;
    /* Clock, for tests; NULL means the system's real-time clock. */
    authkit_clock_fn clock;
    void *clock_arg;
    /* Login throttling (docs/SECURITY.md). Failed attempts a counter allows before every
     * further attempt must wait - 1 s, doubling with each attempt, up to
     * throttle_max_delay_seconds - per account (default 10), per client address
     * (default 100) and per pair of account and address (default 5); 0 turns that
     * counter off (0..100000). An account also waits the maximum from its 100th
     * consecutive failure on (NIST SP 800-63B §5.2.2). A success forgives the account and
     * the pair; a counter untouched for a day starts again from zero. */
    int throttle_account_failures;
    int throttle_address_failures;
    int throttle_pair_failures;
    /* Longest wait, in seconds (1..86400). Default 3600. */
    int throttle_max_delay_seconds;
    /* Idle timeout of stored sessions, in minutes (0..525600): a session unused this long
     * is expired even before session_timeout_minutes (the absolute lifetime). Use is
     * recorded at most once a minute, so a session may end up to a minute early, never
     * late. Default 0 (off). Stateless tokens have no idle timeout. */
    int session_idle_timeout_minutes;
    /* Most stored sessions one user may have (0..100000); a login beyond it ends the
     * oldest ones. Default 0 (no cap). */
    int max_sessions_per_user;
    /* Days the audit trail (authkit/audit.h) keeps a row (0..36500); the cleanup thread
     * deletes older ones. 0 writes no trail at all. Default 90. */
    int audit_retention_days;
    /* The name of the service: a new password may not be based on it (see
     * authkit_password_policy_check()). At most 100 bytes; NULL or "" turns the check off.
     * Default "authkit". */
    const char *service_name;
} authkit_options;

/* Fills `opts` with the defaults above (session_secret NULL). */
AUTHKIT_EXTERN void authkit_options_init(authkit_options *opts);

/* Opens a context: checks the options, runs a bcrypt known-answer self-test (a few ms),
 * opens the store and brings its schema up to date (numbered migrations), and starts the
 * cleanup thread if configured.
 * On success writes the new handle to `*out`; on failure writes NULL and returns
 * AUTHKIT_CONFIG (bad option; err->field names it), AUTHKIT_CRYPTO (libsodium could not be
 * initialised, or the self-test failed: err->message starts "bcrypt self-test failed"),
 * AUTHKIT_STORE (the database could not be opened or migrated; err->message gives the
 * path and the database's reason), AUTHKIT_NOMEM or AUTHKIT_INVALID_ARGUMENT (NULL `opts`
 * or `out`).
 * Close with authkit_close(). */
AUTHKIT_EXTERN authkit_status authkit_open(const authkit_options *opts, authkit_ctx **out,
                                           authkit_error *err);

/* Stops the cleanup thread, closes the store and frees the context. NULL is ignored.
 * No other thread may use the context during or after this call. */
AUTHKIT_EXTERN void authkit_close(authkit_ctx *ctx);

/* The context's current time (its clock), in microseconds since the epoch. */
AUTHKIT_EXTERN authkit_time authkit_now(const authkit_ctx *ctx);

AUTHKIT_END_DECLS

#endif
