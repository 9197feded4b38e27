/* The user kit: validation, hashing and events around the store's user rows. */
#include <sodium.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/text.h"
#include "password/bcrypt.h"
#include "password/login.h"
#include "password/throttle.h"
#include "user/validate.h"

#define CHECK_CTX(ctx)                                                                             \
    do {                                                                                           \
        if (!authkit__ctx_ok(ctx))                                                                 \
            return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, "invalid context");          \
    } while (0)

/* Hashes a new password of `who` (its username and email are context words) after the
 * policy check, at the context's cost. */
static authkit_status hash_new_password(authkit_ctx *ctx, const char *password, size_t len,
                                        const authkit_user *who, char out[AUTHKIT_HASH_SIZE],
                                        authkit_error *err) {
    authkit_status st =
        authkit_password_policy_check(ctx, password, len, who->username, who->email, err);
    if (st != AUTHKIT_OK)
        return st;
    st = authkit_password_hash(password, len, ctx->opts.bcrypt_cost, out);
    return st == AUTHKIT_OK ? AUTHKIT_OK : authkit__fail(err, st, "password", NULL);
}

authkit_status authkit_user_create(authkit_ctx *ctx, const authkit_user_new *in, authkit_user *out,
                                   authkit_error *err) {
    CHECK_CTX(ctx);
    if (!in)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    struct authkit_store_user row;
    memset(&row, 0, sizeof row);
    const char *role = in->global_role ? in->global_role : "user";
    authkit_status st;
    if ((st = authkit__email_normalize(in->email, row.user.email, err)) != AUTHKIT_OK ||
        (st = authkit__username_check(in->username, err)) != AUTHKIT_OK ||
        (st = authkit__role_check(role, err)) != AUTHKIT_OK)
        return st;
    if (in->password && in->password_hash)
        return authkit__fail(err, AUTHKIT_VALIDATION, "password",
                             "Give a password or a password hash, not both");
    if (!in->password && in->password_len)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, "password",
                             "password is NULL but password_len is not 0");
    authkit__strlcpy(row.user.username, in->username, sizeof row.user.username);
    if (in->password) {
        if ((st = hash_new_password(ctx, in->password, in->password_len, &row.user,
                                    row.password_hash, err)) != AUTHKIT_OK)
            return st;
    } else if (in->password_hash) {
        if (!authkit__bcrypt_hash_acceptable(in->password_hash))
            return authkit__fail(err, AUTHKIT_VALIDATION, "password_hash",
                                 "Password hash must be a bcrypt hash ($2a$, $2b$ or $2y$)");
        authkit__strlcpy(row.password_hash, in->password_hash, sizeof row.password_hash);
    }
    authkit__strlcpy(row.user.global_role, role, sizeof row.user.global_role);
    authkit__uuid_v4(row.user.id);
    authkit_time now = authkit_now(ctx);
    row.user.is_active = !in->inactive;
    row.user.has_password = row.password_hash[0] != '\0';
    row.user.password_changed_at = row.user.has_password ? now : 0;
    row.user.created_at = row.user.updated_at = now;
    if ((st = ctx->store->user_insert(ctx->store_state, &row, err)) != AUTHKIT_OK)
        return st;
    authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_USER_CREATED,
                                           .user_id = row.user.id,
                                           .email = row.user.email,
                                           .username = row.user.username});
    if (out)
        *out = row.user;
    return authkit__ok(err);
}

/* Loads a full row by key. Keys that cannot exist are simply not found. */
static authkit_status load_row(authkit_ctx *ctx, enum authkit_user_key key, const char *value,
                               struct authkit_store_user *row, authkit_error *err) {
    char email[AUTHKIT_EMAIL_SIZE];
    if (!value)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    if (key == AUTHKIT_USER_BY_EMAIL) {
        if (authkit__email_normalize(value, email, NULL) != AUTHKIT_OK)
            return authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "User not found");
        value = email;
    } else if ((key == AUTHKIT_USER_BY_ID && !authkit__uuid_valid(value)) ||
               (key == AUTHKIT_USER_BY_USERNAME && authkit__username_check(value, NULL))) {
        return authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "User not found");
    }
    authkit_status st = ctx->store->user_get(ctx->store_state, key, value, row, err);
    if (st == AUTHKIT_NOT_FOUND)
        return authkit__fail(err, st, NULL, "User not found");
    return st;
}

static authkit_status get_user(authkit_ctx *ctx, enum authkit_user_key key, const char *value,
                               authkit_user *out, authkit_error *err) {
    CHECK_CTX(ctx);
    if (!out)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    struct authkit_store_user row;
    authkit_status st = load_row(ctx, key, value, &row, err);
    if (st != AUTHKIT_OK)
        return st;
    *out = row.user;
    return authkit__ok(err);
}

authkit_status authkit_user_get_by_id(authkit_ctx *ctx, const char *id, authkit_user *out,
                                      authkit_error *err) {
    return get_user(ctx, AUTHKIT_USER_BY_ID, id, out, err);
}

authkit_status authkit_user_get_by_email(authkit_ctx *ctx, const char *email, authkit_user *out,
                                         authkit_error *err) {
    return get_user(ctx, AUTHKIT_USER_BY_EMAIL, email, out, err);
}

authkit_status authkit_user_get_by_username(authkit_ctx *ctx, const char *username,
                                            authkit_user *out, authkit_error *err) {
    return get_user(ctx, AUTHKIT_USER_BY_USERNAME, username, out, err);
}

authkit_status authkit_user_update_fields(authkit_ctx *ctx, const char *id,
                                          const authkit_user_update *in, authkit_user *out,
                                          authkit_error *err) {
    CHECK_CTX(ctx);
    if (!in)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    char email[AUTHKIT_EMAIL_SIZE];
    authkit_status st;
    if ((in->email && (st = authkit__email_normalize(in->email, email, err)) != AUTHKIT_OK) ||
        (in->username && (st = authkit__username_check(in->username, err)) != AUTHKIT_OK) ||
        (in->global_role && (st = authkit__role_check(in->global_role, err)) != AUTHKIT_OK))
        return st;
    struct authkit_store_user row;
    if ((st = load_row(ctx, AUTHKIT_USER_BY_ID, id, &row, err)) != AUTHKIT_OK)
        return st;
    authkit_user *u = &row.user;
    unsigned changed = 0;
    if (in->email && strcmp(u->email, email) != 0) {
        authkit__strlcpy(u->email, email, sizeof u->email);
        changed |= AUTHKIT_FIELD_EMAIL;
    }
    if (in->username && strcmp(u->username, in->username) != 0) {
        authkit__strlcpy(u->username, in->username, sizeof u->username);
        changed |= AUTHKIT_FIELD_USERNAME;
    }
    if (in->global_role && strcmp(u->global_role, in->global_role) != 0) {
        authkit__strlcpy(u->global_role, in->global_role, sizeof u->global_role);
        changed |= AUTHKIT_FIELD_GLOBAL_ROLE;
    }
    if (in->set_is_active && u->is_active != in->is_active) {
        u->is_active = in->is_active;
        changed |= AUTHKIT_FIELD_IS_ACTIVE;
    }
    if (changed) {
        /* A disabled account keeps no session and no stateless token (checklist 52). */
        bool end_sessions = (changed & AUTHKIT_FIELD_IS_ACTIVE) && !u->is_active;
        size_t ended = 0;
        u->updated_at = authkit_now(ctx);
        row.sessions_valid_after = end_sessions ? u->updated_at : row.sessions_valid_after;
        st = ctx->store->user_update(ctx->store_state, &row, end_sessions, &ended, err);
        authkit__sessions_changed(ctx); /* validations return the user's fields */
        if (st != AUTHKIT_OK)
            return st;
        authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_USER_UPDATED,
                                               .user_id = u->id,
                                               .fields_changed = changed});
        if (end_sessions)
            authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_SESSIONS_REVOKED,
                                                   .user_id = u->id,
                                                   .count = ended,
                                                   .reason = "user_deactivated"});
    }
    if (out)
        *out = *u;
    return authkit__ok(err);
}

authkit_status authkit_user_set_password(authkit_ctx *ctx, const char *id, const char *password,
                                         size_t len, authkit_error *err) {
    CHECK_CTX(ctx);
    char hash[AUTHKIT_HASH_SIZE] = "";
    authkit_status st;
    if (!id || !authkit__uuid_valid(id))
        return authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "User not found");
    if (password || len) {
        /* The user first: its username and email are part of the policy. */
        struct authkit_store_user row;
        if ((st = load_row(ctx, AUTHKIT_USER_BY_ID, id, &row, err)) != AUTHKIT_OK)
            return st;
        if ((st = hash_new_password(ctx, password, len, &row.user, hash, err)) != AUTHKIT_OK)
            return st;
    }
    size_t ended = 0;
    st = ctx->store->user_set_password(ctx->store_state, id, hash, authkit_now(ctx), &ended, err);
    authkit__sessions_changed(ctx);
    if (st == AUTHKIT_NOT_FOUND)
        return authkit__fail(err, st, NULL, "User not found");
    if (st != AUTHKIT_OK)
        return st;
    authkit__publish(
        ctx,
        &(authkit_event){.type = AUTHKIT_EVENT_PASSWORD_CHANGED, .user_id = id, .count = ended});
    return authkit__ok(err);
}

authkit_status authkit_user_require_password_change(authkit_ctx *ctx, const char *id,
                                                    authkit_error *err) {
    CHECK_CTX(ctx);
    if (!id || !authkit__uuid_valid(id))
        return authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "User not found");
    /* Whoever holds the password may hold a session made with it: all of them end, in the
     * same transaction as the flag is set. */
    size_t ended = 0;
    authkit_status st = ctx->store->user_require_password_change(ctx->store_state, id,
                                                                 authkit_now(ctx), &ended, err);
    authkit__sessions_changed(ctx);
    if (st == AUTHKIT_NOT_FOUND)
        return authkit__fail(err, st, NULL, "User not found");
    if (st != AUTHKIT_OK)
        return st;
    authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_PASSWORD_CHANGE_REQUIRED,
                                           .user_id = id,
                                           .count = ended});
    return authkit__ok(err);
}

authkit_status authkit_user_verify_password(authkit_ctx *ctx, const char *id, const char *password,
                                            size_t len, authkit_error *err) {
    CHECK_CTX(ctx);
    struct authkit_store_user row;
    authkit_status st = id ? load_row(ctx, AUTHKIT_USER_BY_ID, id, &row, NULL) : AUTHKIT_NOT_FOUND;
    if (st != AUTHKIT_OK && st != AUTHKIT_NOT_FOUND)
        return authkit__pass(err, st);
    bool known = st == AUTHKIT_OK;
    /* Re-authentication guesses count against the account like logins do: a stolen
     * session must not become an unthrottled password oracle. */
    struct authkit__throttle throttle;
    authkit__throttle_keys(ctx, known ? row.user.id : NULL, id ? id : "", NULL, &throttle);
    st = authkit__throttle_begin(ctx, &throttle, err);
    if (st == AUTHKIT_RATE_LIMITED)
        authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_LOGIN_THROTTLED,
                                               .user_id = known ? row.user.id : NULL});
    if (st != AUTHKIT_OK)
        return st;
    st = authkit__password_verify_equalized(known ? row.password_hash : NULL, ctx->dummy_hash,
                                            password, len);
    if (st != AUTHKIT_OK)
        return authkit__fail(err, AUTHKIT_AUTHENTICATION, NULL, NULL);
    authkit__throttle_success(ctx, &throttle);
    return authkit__ok(err);
}

authkit_status authkit_user_unlock(authkit_ctx *ctx, const char *id, bool *was_throttled,
                                   authkit_error *err) {
    CHECK_CTX(ctx);
    struct authkit_store_user row;
    if (was_throttled)
        *was_throttled = false;
    authkit_status st = id ? load_row(ctx, AUTHKIT_USER_BY_ID, id, &row, err) : AUTHKIT_NOT_FOUND;
    if (st == AUTHKIT_NOT_FOUND)
        return authkit__fail(err, st, NULL, "User not found");
    if (st != AUTHKIT_OK)
        return st;
    struct authkit__throttle throttle;
    authkit__throttle_keys(ctx, row.user.id, NULL, NULL, &throttle);
    if (throttle.n == 0)
        return authkit__ok(err);
    return authkit__pass(
        err, ctx->store->throttle_clear(ctx->store_state, throttle.keys[0].id, was_throttled, err));
}

authkit_status authkit_user_delete(authkit_ctx *ctx, const char *id, authkit_error *err) {
    CHECK_CTX(ctx);
    if (!id || !authkit__uuid_valid(id))
        return authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "User not found");
    authkit_status st = ctx->store->user_delete(ctx->store_state, id, err);
    authkit__sessions_changed(ctx);
    if (st == AUTHKIT_NOT_FOUND)
        return authkit__fail(err, st, NULL, "User not found");
    if (st != AUTHKIT_OK)
        return st;
    authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_USER_DELETED, .user_id = id});
    return authkit__ok(err);
}

authkit_status authkit_user_list(authkit_ctx *ctx, size_t offset, authkit_user *out, size_t cap,
                                 size_t *n, authkit_error *err) {
    CHECK_CTX(ctx);
    if (!n || (cap && !out))
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    *n = 0;
    return authkit__pass(err, ctx->store->user_list(ctx->store_state, offset, out, cap, n, err));
}

authkit_status authkit_user_search(authkit_ctx *ctx, const char *query, authkit_user *out,
                                   size_t cap, size_t *n, authkit_error *err) {
    CHECK_CTX(ctx);
    if (!query || !n || (cap && !out))
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    *n = 0;
    /* Nothing longer than the longest email can be a substring of one (or of a username);
     * answering here also keeps huge patterns away from the database. */
    if (strnlen(query, AUTHKIT_EMAIL_SIZE) >= AUTHKIT_EMAIL_SIZE)
        return authkit__ok(err);
    return authkit__pass(err, ctx->store->user_search(ctx->store_state, query, out, cap, n, err));
}

authkit_status authkit_user_count(authkit_ctx *ctx, size_t *n, authkit_error *err) {
    CHECK_CTX(ctx);
    if (!n)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    return authkit__pass(err, ctx->store->user_count(ctx->store_state, n, err));
}
