/* The user kit: create, look up, update, delete, list and search users; roles.
 * All functions are safe to call from any thread on a shared context. */
#ifndef AUTHKIT_USER_H
#define AUTHKIT_USER_H

#include "common.h"
#include "context.h"
#include "status.h"

AUTHKIT_BEGIN_DECLS

/* A user as stored, without its password hash. A caller-owned value. */
typedef struct authkit_user {
    char id[AUTHKIT_UUID_SIZE];
    char email[AUTHKIT_EMAIL_SIZE];       /* trimmed, lower-cased */
    char username[AUTHKIT_USERNAME_SIZE]; /* as given; unique regardless of case */
    char global_role[AUTHKIT_ROLE_SIZE];  /* "user" unless set */
    bool is_active;
    bool has_password;
    /* The owner must choose a new password before logging in again
     * (authkit_user_require_password_change); cleared by any new password. */
    bool password_change_required;
    authkit_time password_changed_at; /* 0 when the user never had a password */
    authkit_time created_at;
    authkit_time updated_at;
} authkit_user;

/* Input of authkit_user_create(). Give `password` (checked against the policy of
 * authkit_password_policy_check() with this username and email, then hashed with bcrypt),
 * or `password_hash` (a bcrypt hash stored verbatim, for imports; no policy applies), or
 * neither (the user cannot log in with a password). Giving both is a VALIDATION error. */
typedef struct authkit_user_new {
    const char *email;
    const char *username;
    const char *password; /* `password_len` bytes; may contain no NUL */
    size_t password_len;
    const char *password_hash;
    const char *global_role; /* NULL: "user" */
    bool inactive;           /* create the user disabled */
} authkit_user_new;

/* Creates a user and publishes AUTHKIT_EVENT_USER_CREATED.
 * Returns AUTHKIT_OK (and the stored user in `out`, which may be NULL);
 * AUTHKIT_VALIDATION (err->field: "email", "username", "password", "password_hash" or
 * "global_role"); AUTHKIT_PASSWORD_TOO_LONG / AUTHKIT_PASSWORD_HAS_NUL;
 * AUTHKIT_CONFLICT (err->field "email" or "username" already taken); AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_user_create(authkit_ctx *ctx, const authkit_user_new *in,
                                                  authkit_user *out, authkit_error *err);

/* Look-ups. AUTHKIT_OK with the user in `out`, or AUTHKIT_NOT_FOUND. The email is matched
 * after trimming and lower-casing; the username without regard to case. */
AUTHKIT_EXTERN authkit_status authkit_user_get_by_id(authkit_ctx *ctx, const char *id,
                                                     authkit_user *out, authkit_error *err);
AUTHKIT_EXTERN authkit_status authkit_user_get_by_email(authkit_ctx *ctx, const char *email,
                                                        authkit_user *out, authkit_error *err);
AUTHKIT_EXTERN authkit_status authkit_user_get_by_username(authkit_ctx *ctx, const char *username,
                                                           authkit_user *out, authkit_error *err);

/* Partial update: NULL strings and set_is_active == false leave a field unchanged. */
typedef struct authkit_user_update {
    const char *email;
    const char *username;
    const char *global_role;
    bool set_is_active;
    bool is_active;
} authkit_user_update;

/* Bits of authkit_event.fields_changed. */
enum {
    AUTHKIT_FIELD_EMAIL = 1u << 0,
    AUTHKIT_FIELD_USERNAME = 1u << 1,
    AUTHKIT_FIELD_GLOBAL_ROLE = 1u << 2,
    AUTHKIT_FIELD_IS_ACTIVE = 1u << 3,
};

/* Applies `in` to the user `id`. Only fields whose value really changes count; if any
 * does, updated_at moves and AUTHKIT_EVENT_USER_UPDATED is published with them. An empty
 * update is valid and changes nothing. Deactivating a user ends all of its sessions.
 * Returns AUTHKIT_OK (user in `out`, may be NULL), AUTHKIT_NOT_FOUND, AUTHKIT_VALIDATION,
 * AUTHKIT_CONFLICT (another user has that email or username) or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_user_update_fields(authkit_ctx *ctx, const char *id,
                                                         const authkit_user_update *in,
                                                         authkit_user *out, authkit_error *err);

/* Sets a new password (the policy of authkit_password_policy_check(), with the user's
 * username and email as context words), ends every
 * session of the user (and, in stateless mode, every token issued so far), clears
 * password_change_required, and publishes AUTHKIT_EVENT_PASSWORD_CHANGED. A NULL password
 * with length 0 removes the password (and clears the flag too).
 * Returns AUTHKIT_OK, AUTHKIT_NOT_FOUND, AUTHKIT_VALIDATION, AUTHKIT_PASSWORD_TOO_LONG,
 * AUTHKIT_PASSWORD_HAS_NUL or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_user_set_password(authkit_ctx *ctx, const char *id,
                                                        const char *password, size_t len,
                                                        authkit_error *err);

/* Flags the user's password as known to others (evidence of compromise: it was phished,
 * leaked, or seen in a breach): until its owner chooses a new one, the right password
 * logs in no more - authkit_authenticate() answers AUTHKIT_PASSWORD_CHANGE_REQUIRED and
 * creates no session unless opts->new_password carries an acceptable new password. Ends
 * every session of the user (and, in stateless mode, every token issued so far) and
 * publishes AUTHKIT_EVENT_PASSWORD_CHANGE_REQUIRED. Any new password
 * (authkit_user_set_password, or the login that carries one) clears the flag. Logins by
 * other means (authkit_session_create) are not affected. Passwords never expire by age.
 * Returns AUTHKIT_OK, AUTHKIT_NOT_FOUND or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_user_require_password_change(authkit_ctx *ctx, const char *id,
                                                                   authkit_error *err);

/* Lifts the login throttling of the user's account (an operator helping a user who is
 * made to wait): its failure count starts again from zero. Counters of single client
 * addresses, alone or paired with the account, are not touched. `*was_throttled` (may be
 * NULL) tells whether there was a count. AUTHKIT_OK, AUTHKIT_NOT_FOUND or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_user_unlock(authkit_ctx *ctx, const char *id,
                                                  bool *was_throttled, authkit_error *err);

/* Checks `password` against the user's hash with the same cost as a login (a dummy hash
 * when the user is unknown or has none). AUTHKIT_OK on a match, AUTHKIT_AUTHENTICATION
 * otherwise (whatever the reason), AUTHKIT_RATE_LIMITED (unchecked) while the account's
 * throttling counter makes attempts wait - guesses here count like failed logins -
 * AUTHKIT_STORE on storage failure. Creates no session. */
AUTHKIT_NODISCARD AUTHKIT_EXTERN authkit_status authkit_user_verify_password(
    authkit_ctx *ctx, const char *id, const char *password, size_t len, authkit_error *err);

/* Deletes the user and, in the same transaction, its sessions; publishes
 * AUTHKIT_EVENT_USER_DELETED. AUTHKIT_OK, AUTHKIT_NOT_FOUND or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_user_delete(authkit_ctx *ctx, const char *id,
                                                  authkit_error *err);

/* Writes up to `cap` users, oldest first, skipping `offset`, to `out`; the count to
 * `*n`. AUTHKIT_OK or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_user_list(authkit_ctx *ctx, size_t offset, authkit_user *out,
                                                size_t cap, size_t *n, authkit_error *err);

/* Users whose email or username contains `query` (case-insensitive, literal: no
 * wildcards), oldest first, at most `cap`. AUTHKIT_OK or AUTHKIT_STORE. */
AUTHKIT_EXTERN authkit_status authkit_user_search(authkit_ctx *ctx, const char *query,
                                                  authkit_user *out, size_t cap, size_t *n,
                                                  authkit_error *err);

/* Total number of users. */
AUTHKIT_EXTERN authkit_status authkit_user_count(authkit_ctx *ctx, size_t *n, authkit_error *err);

/* Roles: named sets of permission strings, kept in the context (not stored).
 * Defining an existing role replaces its permissions. Names match exactly. */
AUTHKIT_EXTERN authkit_status authkit_role_define(authkit_ctx *ctx, const char *role,
                                                  const char *const *permissions, size_t n);
/* true when user->global_role equals `role`. */
AUTHKIT_EXTERN bool authkit_user_has_role(const authkit_user *user, const char *role);
/* true when the role of `user` is defined with `permission`. Inactive users have none. */
AUTHKIT_EXTERN bool authkit_user_has_permission(authkit_ctx *ctx, const authkit_user *user,
                                                const char *permission);

AUTHKIT_END_DECLS

#endif
