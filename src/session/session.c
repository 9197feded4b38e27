/* The auth kit: logins, validation and logout, over stored sessions or signed tokens. */
#include <sodium.h>
#include <string.h>

#include "core/ctx.h"
#include "core/error.h"
#include "core/text.h"
#include "password/bcrypt.h"
#include "password/login.h"
#include "session/cache.h"
#include "session/jwt.h"
#include "password/throttle.h"

#define CHECK_CTX(ctx)                                                                             \
    do {                                                                                           \
        if (!authkit__ctx_ok(ctx))                                                                 \
            return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, "invalid context");          \
    } while (0)

/* Longest lifetime a caller may ask for: 400 days (browsers cap cookies there too). */
#define MAX_LIFETIME_SECONDS (400LL * 86400)
#define LOGIN_MAX_BYTES      254

static const uint8_t *secret_key(const authkit_ctx *ctx) {
    return (const uint8_t *)ctx->secret;
}

/* Issues a session for `row`: a stored row and an opaque token, or a signed token. */
static authkit_status issue_session(authkit_ctx *ctx, const struct authkit_store_user *row,
                                    const authkit_session_opts *opts, authkit_login_result *out,
                                    authkit_error *err) {
    int64_t lifetime = opts ? opts->lifetime_seconds : 0;
    if (lifetime < 0 || lifetime > MAX_LIFETIME_SECONDS)
        return authkit__fail(err, AUTHKIT_VALIDATION, "lifetime_seconds",
                             "Session lifetime must be between 1 second and 400 days");
    if (lifetime == 0)
        lifetime = (int64_t)ctx->opts.session_timeout_minutes * 60;
    authkit_time now = authkit_now(ctx);
    memset(out, 0, sizeof *out);
    out->user = row->user;
    authkit__uuid_v4(out->session_id);
    out->expires_at = now + lifetime * 1000000;
    authkit_status st;
    if (ctx->opts.enable_session_storage) {
        struct authkit_store_session s;
        memset(&s, 0, sizeof s);
        authkit__token_new(out->token);
        authkit__token_digest(s.token_digest, out->token, AUTHKIT_TOKEN_CHARS);
        memcpy(s.info.id, out->session_id, sizeof s.info.id);
        memcpy(s.info.user_id, row->user.id, sizeof s.info.user_id);
        s.info.created_at = s.info.last_seen_at = now;
        s.info.expires_at = out->expires_at;
        authkit__strlcpy(s.info.ip, opts ? opts->ip : NULL, sizeof s.info.ip);
        authkit__strlcpy(s.info.user_agent, opts ? opts->user_agent : NULL,
                         sizeof s.info.user_agent);
        authkit__text_sanitize(s.info.ip);
        authkit__text_sanitize(s.info.user_agent);
        st = ctx->store->session_insert(ctx->store_state, &s, err);
    } else {
        /* Tokens issued at or before sessions_valid_after are dead: one issued right after
         * a revocation in the same microsecond (a login that sets a new password) must
         * still postdate it. */
        authkit_time iat = now > row->sessions_valid_after ? now : row->sessions_valid_after + 1;
        struct authkit__jwt_claims claims = {.iat = iat, .exp = out->expires_at};
        memcpy(claims.sub, row->user.id, sizeof claims.sub);
        memcpy(claims.sid, out->session_id, sizeof claims.sid);
        /* exp is written in whole seconds; report what the token says. */
        out->expires_at -= out->expires_at % 1000000;
        st = authkit__jwt_sign(secret_key(ctx), ctx->secret_len, &claims, out->token,
                               sizeof out->token);
        if (st != AUTHKIT_OK)
            authkit__fail(err, st, NULL, "could not sign the session token");
    }
    if (st != AUTHKIT_OK) {
        sodium_memzero(out, sizeof *out);
        return st;
    }
    size_t cap = (size_t)ctx->opts.max_sessions_per_user, evicted = 0;
    /* After the insert: of two logins at once, the later eviction sees both sessions. */
    if (ctx->opts.enable_session_storage && cap) {
        authkit_status evict = ctx->store->session_evict(ctx->store_state, row->user.id,
                                                         out->session_id, cap - 1, &evicted, NULL);
        if (evict != AUTHKIT_OK || evicted)
            authkit__sessions_changed(ctx);
        if (evict == AUTHKIT_OK && evicted)
            authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_SESSIONS_REVOKED,
                                                   .user_id = row->user.id,
                                                   .count = evicted,
                                                   .reason = "session_cap"});
    }
    return AUTHKIT_OK;
}

/* Finds the user a login names: an email if it has an '@' (usernames cannot), else a
 * username. Returns AUTHKIT_OK, AUTHKIT_NOT_FOUND or AUTHKIT_STORE. */
static authkit_status find_login(authkit_ctx *ctx, const char *login,
                                 struct authkit_store_user *row, authkit_error *err) {
    if (strnlen(login, LOGIN_MAX_BYTES + 1) > LOGIN_MAX_BYTES)
        return AUTHKIT_NOT_FOUND;
    if (strchr(login, '@')) {
        char email[AUTHKIT_EMAIL_SIZE];
        if (authkit__email_normalize(login, email, NULL) != AUTHKIT_OK)
            return AUTHKIT_NOT_FOUND;
        return ctx->store->user_get(ctx->store_state, AUTHKIT_USER_BY_EMAIL, email, row, err);
    }
    return ctx->store->user_get(ctx->store_state, AUTHKIT_USER_BY_USERNAME, login, row, err);
}

/* Why a login failed, for the audit trail only: the caller gets the same answer either
 * way. Decided from what is at hand after the one bcrypt, so it costs no time that could
 * tell the causes apart. The first that applies, as authkit/event.h lists them. */
static const char *failure_reason(bool known, const struct authkit_store_user *row, bool match,
                                  const char *password, size_t len) {
    if (!known)
        return "unknown_login";
    if (len == 0 || authkit_password_check_bytes(password, len) != AUTHKIT_OK)
        return "bad_password_input";
    if (!row->password_hash[0])
        return "no_password";
    return match ? "inactive_user" : "wrong_password";
}

/* The right password of a flagged account (authkit_user_require_password_change): no
 * session until the owner gives a new password that the policy accepts; then it replaces
 * the old one, clearing the flag. */
static authkit_status change_required(authkit_ctx *ctx, const struct authkit_store_user *row,
                                      const char *password, size_t len,
                                      const authkit_session_opts *opts, authkit_error *err) {
    const char *fresh = opts ? opts->new_password : NULL;
    size_t fresh_len = opts ? opts->new_password_len : 0;
    authkit_status st;
    if (!fresh)
        return authkit__fail(err, AUTHKIT_PASSWORD_CHANGE_REQUIRED, "new_password", NULL);
    /* The old password is the one others may know: keeping it would undo the flag. */
    if (fresh_len == len && sodium_memcmp(fresh, password, len) == 0)
        st = authkit__fail(err, AUTHKIT_VALIDATION, "new_password",
                           "The new password must differ from the current one");
    else
        st = authkit_user_set_password(ctx, row->user.id, fresh, fresh_len, err);
    if (st != AUTHKIT_OK) {
        if (err && err->field[0])
            authkit__strlcpy(err->field, "new_password", sizeof err->field);
        return st;
    }
    return AUTHKIT_OK;
}

authkit_status authkit_authenticate(authkit_ctx *ctx, const char *login, const char *password,
                                    size_t len, const authkit_session_opts *opts,
                                    authkit_login_result *out, authkit_error *err) {
    CHECK_CTX(ctx);
    if (!login || !out || (!password && len) ||
        (opts && !opts->new_password && opts->new_password_len))
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    memset(out, 0, sizeof *out);
    struct authkit_store_user row;
    memset(&row, 0, sizeof row);
    authkit_status st = find_login(ctx, login, &row, err);
    if (st != AUTHKIT_OK && st != AUTHKIT_NOT_FOUND)
        return st;
    const char *ip = opts ? opts->ip : NULL;
    bool known = st == AUTHKIT_OK;
    /* Counted before the password is checked, so parallel attempts see each other. */
    struct authkit__throttle throttle;
    authkit__throttle_keys(ctx, known ? row.user.id : NULL, login, ip, &throttle);
    st = authkit__throttle_begin(ctx, &throttle, err);
    if (st == AUTHKIT_RATE_LIMITED)
        authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_LOGIN_THROTTLED,
                                               .login = login,
                                               .user_id = known ? row.user.id : NULL,
                                               .ip = ip});
    if (st != AUTHKIT_OK)
        return st;
    /* Every path below runs exactly one bcrypt at (at least) the configured cost, so
     * the time does not tell unknown users from wrong passwords (checklist 21). */
    bool match = authkit__password_verify_equalized(known ? row.password_hash : NULL,
                                                    ctx->dummy_hash, password, len) == AUTHKIT_OK;
    if (!match || !row.user.is_active) {
        authkit__publish(
            ctx, &(authkit_event){.type = AUTHKIT_EVENT_LOGIN_FAILED,
                                  .login = login,
                                  .user_id = known ? row.user.id : NULL,
                                  .ip = ip,
                                  .reason = failure_reason(known, &row, match, password, len)});
        return authkit__fail(err, AUTHKIT_AUTHENTICATION, NULL, NULL);
    }
    /* A right password is no guess, also on a flagged account: the owner's next attempt,
     * with the new password, must not wait for earlier typos. */
    authkit__throttle_success(ctx, &throttle);
    if (row.user.password_change_required) {
        if ((st = change_required(ctx, &row, password, len, opts, err)) != AUTHKIT_OK) {
            authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_LOGIN_FAILED,
                                                   .login = login,
                                                   .user_id = row.user.id,
                                                   .ip = ip,
                                                   .reason = "password_change_required"});
            return st;
        }
        /* The session's user is the one with the new password and without the flag. */
        st = ctx->store->user_get(ctx->store_state, AUTHKIT_USER_BY_ID, row.user.id, &row, err);
        if (st != AUTHKIT_OK)
            return st;
    } else if (authkit_password_needs_rehash(row.password_hash, ctx->opts.bcrypt_cost)) {
        char fresh[AUTHKIT_HASH_SIZE];
        /* Best effort: a failed upgrade must not fail a correct login. */
        if (authkit_password_hash(password, len, ctx->opts.bcrypt_cost, fresh) == AUTHKIT_OK)
            (void)ctx->store->user_rehash(ctx->store_state, row.user.id, row.password_hash, fresh,
                                          NULL);
    }
    if ((st = issue_session(ctx, &row, opts, out, err)) != AUTHKIT_OK)
        return st;
    authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_USER_LOGGED_IN,
                                           .user_id = row.user.id,
                                           .session_id = out->session_id,
                                           .ip = ip});
    return authkit__ok(err);
}

authkit_status authkit_session_create(authkit_ctx *ctx, const char *user_id,
                                      const authkit_session_opts *opts, authkit_login_result *out,
                                      authkit_error *err) {
    CHECK_CTX(ctx);
    if (!user_id || !out)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    struct authkit_store_user row;
    authkit_status st =
        authkit__uuid_valid(user_id)
            ? ctx->store->user_get(ctx->store_state, AUTHKIT_USER_BY_ID, user_id, &row, err)
            : AUTHKIT_NOT_FOUND;
    if (st == AUTHKIT_OK && !row.user.is_active)
        st = AUTHKIT_NOT_FOUND;
    if (st == AUTHKIT_NOT_FOUND)
        return authkit__fail(err, st, NULL, "User not found or inactive");
    if (st != AUTHKIT_OK)
        return st;
    st = issue_session(ctx, &row, opts, out, err);
    return st == AUTHKIT_OK ? authkit__ok(err) : st;
}

static authkit_status not_authenticated(authkit_error *err) {
    return authkit__fail(err, AUTHKIT_NOT_AUTHENTICATED, NULL, NULL);
}

/* How stale last_seen_at may get before a validation writes it: it bounds how early the
 * idle timeout can end a session, and how many writes validations cost. */
static authkit_time touch_interval(const authkit_ctx *ctx) {
    authkit_time idle = (authkit_time)ctx->opts.session_idle_timeout_minutes * 60 * 1000000;
    if (idle == 0)
        return 300 * (authkit_time)1000000;
    return idle / 10 < 60 * (authkit_time)1000000 ? idle / 10 : 60 * (authkit_time)1000000;
}

/* When the session ends: at expires_at, or earlier once idle for the idle timeout. */
static authkit_time session_end(const authkit_ctx *ctx, const authkit_session_info *s) {
    authkit_time idle = (authkit_time)ctx->opts.session_idle_timeout_minutes * 60 * 1000000;
    if (idle && s->last_seen_at + idle < s->expires_at)
        return s->last_seen_at + idle;
    return s->expires_at;
}

static authkit_status validate_stored(authkit_ctx *ctx, const char *token, authkit_user *user,
                                      authkit_session_info *session, authkit_error *err) {
    if (!authkit__token_well_formed(token))
        return not_authenticated(err);
    uint8_t digest[AUTHKIT_DIGEST_BYTES];
    authkit__token_digest(digest, token, AUTHKIT_TOKEN_CHARS);
    struct authkit_store_session s;
    struct authkit_store_user u;
    authkit_time now = authkit_now(ctx);
    /* A hit is used only while no expiry, idle timeout or last_seen_at write is due:
     * those are decided below, from the store, exactly as without the cache. */
    uint64_t version = ctx->vcache ? authkit__vcache_version(ctx->vcache) : 0;
    if (ctx->vcache && authkit__vcache_get(ctx->vcache, digest, version, now, &u.user, &s.info) &&
        now < session_end(ctx, &s.info) && now - s.info.last_seen_at < touch_interval(ctx)) {
        *user = u.user;
        if (session)
            *session = s.info;
        return authkit__ok(err);
    }
    /* The digest is looked up through the unique index: an attacker timing the lookup
     * learns about SHA-256 outputs, not about tokens. */
    authkit_status st = ctx->store->session_find(ctx->store_state, digest, &s, &u, err);
    if (st == AUTHKIT_NOT_FOUND)
        return not_authenticated(err);
    if (st != AUTHKIT_OK)
        return st;
    authkit_time end = session_end(ctx, &s.info);
    if (now >= end) {
        /* Whoever deletes the row publishes: the event fires once per session. The counter
         * moves too: a process with a longer idle timeout may still have it cached. */
        if (ctx->store->session_delete(ctx->store_state, digest, NULL, NULL) == AUTHKIT_OK) {
            authkit__sessions_changed(ctx);
            authkit__publish(
                ctx, &(authkit_event){.type = AUTHKIT_EVENT_SESSION_EXPIRED,
                                      .user_id = s.info.user_id,
                                      .session_id = s.info.id,
                                      .expired_at = end,
                                      .reason = end < s.info.expires_at ? "idle_timeout" : NULL});
        }
        return not_authenticated(err);
    }
    if (!u.user.is_active)
        return not_authenticated(err);
    /* Best effort: a failed write costs the idle timeout at most one interval. */
    if (now - s.info.last_seen_at >= touch_interval(ctx) &&
        ctx->store->session_touch(ctx->store_state, digest, now, NULL) == AUTHKIT_OK)
        s.info.last_seen_at = now;
    if (ctx->vcache)
        authkit__vcache_put(ctx->vcache, digest, version, now, &u.user, &s.info);
    *user = u.user;
    if (session)
        *session = s.info;
    return authkit__ok(err);
}

static authkit_status validate_signed(authkit_ctx *ctx, const char *token, authkit_user *user,
                                      authkit_session_info *session, authkit_error *err) {
    authkit_time now = authkit_now(ctx);
    /* A hit is a token verified before, byte for byte (its SHA-256), whose user has not
     * changed since (logout-all, a password change, disabling or deleting all move the
     * counter): only its expiry is left to judge. */
    size_t len = strnlen(token, AUTHKIT_TOKEN_SIZE);
    bool cacheable = ctx->vcache && len < AUTHKIT_TOKEN_SIZE;
    uint8_t digest[AUTHKIT_DIGEST_BYTES];
    uint64_t version = 0;
    authkit_session_info s;
    if (cacheable) {
        authkit__token_digest(digest, token, len);
        version = authkit__vcache_version(ctx->vcache);
        authkit_user cached;
        if (authkit__vcache_get(ctx->vcache, digest, version, now, &cached, &s) &&
            now < s.expires_at) {
            *user = cached;
            if (session)
                *session = s;
            return authkit__ok(err);
        }
    }
    struct authkit__jwt_claims claims;
    if (authkit__jwt_verify(secret_key(ctx), ctx->secret_len, token, now, &claims) != AUTHKIT_OK ||
        !claims.sub[0] || !claims.sid[0] || claims.iat == 0)
        return not_authenticated(err);
    struct authkit_store_user u;
    authkit_status st =
        ctx->store->user_get(ctx->store_state, AUTHKIT_USER_BY_ID, claims.sub, &u, err);
    if (st == AUTHKIT_NOT_FOUND)
        return not_authenticated(err);
    if (st != AUTHKIT_OK)
        return st;
    /* Tokens issued at or before a logout-all or password change are dead. */
    if (!u.user.is_active || claims.iat <= u.sessions_valid_after)
        return not_authenticated(err);
    memset(&s, 0, sizeof s);
    memcpy(s.id, claims.sid, sizeof s.id);
    memcpy(s.user_id, claims.sub, sizeof s.user_id);
    s.created_at = claims.iat;
    s.expires_at = claims.exp;
    if (cacheable)
        authkit__vcache_put(ctx->vcache, digest, version, now, &u.user, &s);
    *user = u.user;
    if (session)
        *session = s;
    return authkit__ok(err);
}

authkit_status authkit_session_validate(authkit_ctx *ctx, const char *token, authkit_user *user,
                                        authkit_session_info *session, authkit_error *err) {
    CHECK_CTX(ctx);
    if (!user)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    if (!token)
        return not_authenticated(err);
    return ctx->opts.enable_session_storage ? validate_stored(ctx, token, user, session, err)
                                            : validate_signed(ctx, token, user, session, err);
}

authkit_status authkit_logout(authkit_ctx *ctx, const char *token, bool *deleted,
                              authkit_error *err) {
    CHECK_CTX(ctx);
    if (!deleted)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    *deleted = false;
    /* A signed token cannot be revoked alone: logout-all revokes them all. */
    if (!ctx->opts.enable_session_storage || !token || !authkit__token_well_formed(token))
        return authkit__ok(err);
    uint8_t digest[AUTHKIT_DIGEST_BYTES];
    authkit__token_digest(digest, token, AUTHKIT_TOKEN_CHARS);
    struct authkit_store_session s;
    authkit_status st = ctx->store->session_delete(ctx->store_state, digest, &s, err);
    authkit__sessions_changed(ctx);
    if (st == AUTHKIT_NOT_FOUND)
        return authkit__ok(err);
    if (st != AUTHKIT_OK)
        return st;
    *deleted = true;
    authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_USER_LOGGED_OUT,
                                           .user_id = s.info.user_id,
                                           .session_id = s.info.id});
    return authkit__ok(err);
}

authkit_status authkit_logout_all(authkit_ctx *ctx, const char *user_id, size_t *revoked,
                                  authkit_error *err) {
    CHECK_CTX(ctx);
    size_t n = 0;
    if (!user_id || !authkit__uuid_valid(user_id))
        return authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "User not found");
    authkit_status st =
        ctx->store->user_end_sessions(ctx->store_state, user_id, authkit_now(ctx), &n, err);
    authkit__sessions_changed(ctx);
    if (st == AUTHKIT_NOT_FOUND)
        return authkit__fail(err, st, NULL, "User not found");
    if (st != AUTHKIT_OK)
        return st;
    if (revoked)
        *revoked = n;
    authkit__publish(
        ctx,
        &(authkit_event){.type = AUTHKIT_EVENT_SESSIONS_REVOKED, .user_id = user_id, .count = n});
    return authkit__ok(err);
}

authkit_status authkit_logout_everyone(authkit_ctx *ctx, size_t *revoked, authkit_error *err) {
    CHECK_CTX(ctx);
    size_t n = 0;
    if (revoked)
        *revoked = 0;
    authkit_status st = ctx->store->sessions_end_all(ctx->store_state, authkit_now(ctx), &n, err);
    authkit__sessions_changed(ctx);
    if (st != AUTHKIT_OK)
        return st;
    if (revoked)
        *revoked = n;
    authkit__publish(
        ctx,
        &(authkit_event){.type = AUTHKIT_EVENT_SESSIONS_REVOKED, .count = n, .reason = "everyone"});
    return authkit__ok(err);
}

authkit_status authkit_logout_others(authkit_ctx *ctx, const char *user_id,
                                     const char *keep_session_id, size_t *revoked,
                                     authkit_error *err) {
    CHECK_CTX(ctx);
    size_t n = 0;
    if (revoked)
        *revoked = 0;
    if (!user_id || !keep_session_id)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    if (!ctx->opts.enable_session_storage)
        return authkit__fail(err, AUTHKIT_UNSUPPORTED, NULL,
                             "Signed tokens cannot be revoked one by one; use logout-all");
    authkit_status st =
        ctx->store->session_delete_others(ctx->store_state, user_id, keep_session_id, &n, err);
    authkit__sessions_changed(ctx);
    if (st != AUTHKIT_OK)
        return st;
    if (revoked)
        *revoked = n;
    if (n)
        authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_SESSIONS_REVOKED,
                                               .user_id = user_id,
                                               .count = n,
                                               .reason = "logout_others"});
    return authkit__ok(err);
}

authkit_status authkit_session_revoke(authkit_ctx *ctx, const char *user_id, const char *session_id,
                                      authkit_error *err) {
    CHECK_CTX(ctx);
    if (!ctx->opts.enable_session_storage)
        return authkit__fail(err, AUTHKIT_UNSUPPORTED, NULL,
                             "Signed tokens cannot be revoked one by one; use logout-all");
    if (!user_id || !session_id || !authkit__uuid_valid(user_id) ||
        !authkit__uuid_valid(session_id))
        return authkit__fail(err, AUTHKIT_NOT_FOUND, NULL, "Session not found");
    authkit_status st = ctx->store->session_delete_id(ctx->store_state, user_id, session_id, err);
    authkit__sessions_changed(ctx);
    if (st == AUTHKIT_NOT_FOUND)
        return authkit__fail(err, st, NULL, "Session not found");
    if (st != AUTHKIT_OK)
        return st;
    authkit__publish(ctx, &(authkit_event){.type = AUTHKIT_EVENT_USER_LOGGED_OUT,
                                           .user_id = user_id,
                                           .session_id = session_id,
                                           .reason = "revoked"});
    return authkit__ok(err);
}

authkit_status authkit_session_list(authkit_ctx *ctx, const char *user_id,
                                    authkit_session_info *out, size_t cap, size_t *n,
                                    authkit_error *err) {
    CHECK_CTX(ctx);
    if (!user_id || !n || (cap && !out))
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    *n = 0;
    if (!ctx->opts.enable_session_storage)
        return authkit__fail(err, AUTHKIT_UNSUPPORTED, NULL, "No stored sessions to list");
    if (!authkit__uuid_valid(user_id))
        return authkit__ok(err);
    return authkit__pass(err, ctx->store->session_list(ctx->store_state, user_id, authkit_now(ctx),
                                                       out, cap, n, err));
}

authkit_status authkit_session_delete_expired(authkit_ctx *ctx, size_t *deleted,
                                              authkit_error *err) {
    CHECK_CTX(ctx);
    size_t total = 0, n;
    size_t batch = (size_t)ctx->opts.cleanup_batch_size;
    authkit_time now = authkit_now(ctx);
    authkit_status st;
    /* Short transactions: logins and validations get the database between batches. */
    do {
        n = 0;
        st = ctx->store->session_delete_expired(ctx->store_state, now, batch, &n, err);
        total += n;
    } while (st == AUTHKIT_OK && n == batch);
    if (total > 0) {
        authkit__sessions_changed(ctx);
        authkit__publish(ctx,
                         &(authkit_event){.type = AUTHKIT_EVENT_SESSIONS_CLEANED, .count = total});
    }
    if (deleted)
        *deleted = total;
    return authkit__pass(err, st);
}

authkit_status authkit_session_count(authkit_ctx *ctx, size_t *n, authkit_error *err) {
    CHECK_CTX(ctx);
    if (!n)
        return authkit__fail(err, AUTHKIT_INVALID_ARGUMENT, NULL, NULL);
    return authkit__pass(err,
                         ctx->store->session_count(ctx->store_state, authkit_now(ctx), n, err));
}
