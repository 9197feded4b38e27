/* The routes of `authkit serve` (DESIGN.md §7) and their handlers. Password work (login,
 * password change) runs on the worker pool while the connection is suspended, so HTTP
 * threads never compute bcrypt. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authkit/csrf.h"
#include "core/encoding.h"
#include "server/csrf.h"
#include "server/internal.h"
#include "server/pages.h"

#define REMEMBER_ME_SECONDS (30LL * 86400)
#define MAX_NEXT            512

struct job {
    struct MHD_Connection *conn;
    struct authkit_server *srv;
    void (*work)(struct job *job);
    bool rejected; /* the queue was full: answer 503 */
    struct body body;
    const char *login; /* points into body */
    authkit_user user; /* the caller, for a password change */
    authkit_session_opts opts;
    char ip[AUTHKIT_IP_SIZE];
    char user_agent[AUTHKIT_USER_AGENT_SIZE];
    char next[MAX_NEXT];
    authkit_status status;
    authkit_error err;
    authkit_login_result result;
};

void job_free(struct job *job) {
    body_free(&job->body);
    sodium_memzero(job, sizeof *job);
    free(job);
}

static void run_job(void *arg) {
    struct job *j = arg;
    authkit_event_set_client(j->ip); /* for the events of the work (audit trail) */
    j->work(j);
    authkit_event_set_client(NULL);
    MHD_resume_connection(j->conn);
}

/* Suspends the connection and queues the job; `done` answers once it has run. The
 * connection is suspended first so that a fast worker never resumes it before that. */
static enum MHD_Result start_job(struct request *req, struct job *j, handler_fn done) {
    j->conn = req->conn;
    j->srv = req->srv;
    req->job = j;
    req->resume = done;
    MHD_suspend_connection(req->conn);
    if (authkit_pool_submit(req->srv->pool, run_job, j) != 0) {
        j->rejected = true;
        MHD_resume_connection(req->conn);
    }
    return MHD_YES;
}

static enum MHD_Result respond_busy(struct request *req) {
    authkit_metrics_login(&req->srv->metrics, LOGIN_REJECTED);
    json_t *body = json_pack("{s:s, s:s}", "error", "SERVICE_UNAVAILABLE", "message",
                             "Too many logins in progress; retry shortly");
    struct MHD_Response *r = response_json(body);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    return respond(req, MHD_HTTP_SERVICE_UNAVAILABLE, r);
}

/* 429 for a throttled login or re-authentication (`err` from the library): the wait in
 * Retry-After, and for a browser form the login page again with the reason. */
static enum MHD_Result respond_throttled(struct request *req, const authkit_error *err, bool form,
                                         const char *next) {
    char wait[32];
    snprintf(wait, sizeof wait, "%lld",
             (long long)(err->retry_after_seconds > 0 ? err->retry_after_seconds : 1));
    struct MHD_Response *r =
        form ? response_html(pages_login(next, err->message))
             : response_json(json_pack("{s:s, s:s}", "error", authkit_status_name(err->status),
                                       "message", err->message));
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, wait);
    return respond(req, MHD_HTTP_TOO_MANY_REQUESTS, r);
}

/* A same-site path for ?next= / next: "/..." but not "//host" or "/\host", no control
 * characters. Anything else becomes "/". */
static void safe_next(const char *next, char out[MAX_NEXT]) {
    bool ok =
        next && next[0] == '/' && next[1] != '/' && next[1] != '\\' && strlen(next) < MAX_NEXT;
    for (const char *p = next; ok && *p; p++)
        ok = (unsigned char)*p > 0x20 && *p != 0x7f && *p != '\\';
    snprintf(out, MAX_NEXT, "%s", ok ? next : "/");
}

/* Credentials never travel in the URL (they end up in logs and histories). */
static bool query_has_credentials(struct request *req) {
    static const char *const names[] = {
        "password", "token", "access_token", "session_token", "current_password", "new_password"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, names[i]))
            return true;
    return false;
}

/* A response carrying a new session: JSON with the token and the session's anti-CSRF
 * token, or (for a browser form, whose next page embeds the CSRF token itself) a redirect
 * to `next`; both set the cookie. */
static enum MHD_Result respond_session(struct request *req, const authkit_login_result *res,
                                       bool form, const char *next) {
    authkit_time now = authkit_now(req->srv->ctx);
    int64_t max_age = (res->expires_at - now) / 1000000;
    struct MHD_Response *r;
    unsigned status;
    if (form) {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (r)
            MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, next);
        status = MHD_HTTP_SEE_OTHER;
    } else {
        char expires[32], csrf[AUTHKIT_CSRF_TOKEN_SIZE];
        authkit__time_iso8601(expires, res->expires_at);
        if (authkit_csrf_token(req->srv->ctx, res->session_id, csrf) != AUTHKIT_OK)
            return respond_error(req, AUTHKIT_CRYPTO, NULL);
        /* The token, the time and the CSRF token are base64url, '.' and digits: no escaping. */
        char user[USER_JSON_SIZE], body[USER_JSON_SIZE + AUTHKIT_TOKEN_SIZE + 160];
        size_t n = user_json(&res->user, user, sizeof user);
        int len =
            snprintf(body, sizeof body,
                     "{\"token\":\"%s\",\"expires_at\":\"%s\",\"user\":%s,\"csrf_token\":\"%s\"}",
                     res->token, expires, user, csrf);
        r = n && len > 0 && (size_t)len < sizeof body ? response_json_text(body, (size_t)len)
                                                      : NULL;
        sodium_memzero(body, sizeof body);
        sodium_memzero(csrf, sizeof csrf);
        status = MHD_HTTP_OK;
    }
    if (r && authkit_mhd_set_cookie(r, &req->srv->cookie, res->token, max_age > 0 ? max_age : 1) !=
                 AUTHKIT_OK) {
        MHD_destroy_response(r);
        r = NULL;
    }
    return respond(req, status, r);
}

/* ---- login ---- */

static void login_work(struct job *j) {
    /* Only a flagged account looks at it (authkit_authenticate). */
    j->opts.new_password = j->body.value[F_NEW_PASSWORD];
    j->opts.new_password_len = j->body.len[F_NEW_PASSWORD];
    j->status = authkit_authenticate(j->srv->ctx, j->login, j->body.value[F_PASSWORD],
                                     j->body.len[F_PASSWORD], &j->opts, &j->result, &j->err);
}

static enum MHD_Result login_done(struct request *req) {
    struct job *j = req->job;
    struct authkit_metrics *m = &req->srv->metrics;
    if (j->rejected)
        return respond_busy(req);
    if (j->status == AUTHKIT_OK) {
        authkit_metrics_login(m, LOGIN_SUCCESS);
        return respond_session(req, &j->result, j->body.form, j->next);
    }
    if (j->status == AUTHKIT_RATE_LIMITED) {
        authkit_metrics_login(m, LOGIN_THROTTLED);
        return respond_throttled(req, &j->err, j->body.form, j->next);
    }
    if (j->status == AUTHKIT_AUTHENTICATION) {
        authkit_metrics_login(m, LOGIN_FAILURE);
        if (j->body.form)
            return respond_html(req, MHD_HTTP_UNAUTHORIZED,
                                pages_login(j->next, authkit_strerror(j->status)));
        return respond_error(req, j->status, NULL);
    }
    if (j->status == AUTHKIT_PASSWORD_CHANGE_REQUIRED) {
        /* The right password of a flagged account: no cookie until a new one is chosen. */
        authkit_metrics_login(m, LOGIN_FAILURE);
        if (j->body.form)
            return respond_html(
                req, MHD_HTTP_FORBIDDEN,
                pages_login_change(j->next, j->login,
                                   "Your password must be changed before you can sign in. Enter "
                                   "your current password and choose a new one."));
        return respond_error(req, j->status, NULL);
    }
    if (j->status == AUTHKIT_VALIDATION || j->status == AUTHKIT_PASSWORD_TOO_LONG ||
        j->status == AUTHKIT_PASSWORD_HAS_NUL) {
        /* The new password of a flagged account, refused by the policy: nothing changed. */
        authkit_metrics_login(m, LOGIN_FAILURE);
        if (j->body.form)
            return respond_html(req, MHD_HTTP_BAD_REQUEST,
                                pages_login_change(j->next, j->login, j->err.message));
        json_t *body = json_pack("{s:s, s:s, s:s}", "error", authkit_status_name(j->status),
                                 "message", j->err.message, "field", "new_password");
        return respond_json(req, MHD_HTTP_BAD_REQUEST, body);
    }
    authkit_metrics_login(m, LOGIN_ERROR);
    return respond_error(req, j->status == AUTHKIT_STORE ? AUTHKIT_STORE : j->status, NULL);
}

/* Starts a body-carrying request: parses the body into a new job. NULL with the answer
 * queued in `*r` when the body is unusable. */
static struct job *job_from_body(struct request *req, enum MHD_Result *r) {
    if (query_has_credentials(req)) {
        *r = respond_error(req, AUTHKIT_VALIDATION, "Credentials must not be sent in the URL");
        return NULL;
    }
    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        *r = MHD_NO;
        return NULL;
    }
    const char *why;
    enum body_result br =
        body_parse(header(req, MHD_HTTP_HEADER_CONTENT_TYPE), req->body, req->len, &j->body, &why);
    if (br != BODY_OK) {
        job_free(j);
        if (br == BODY_UNSUPPORTED_TYPE) {
            json_t *body =
                json_pack("{s:s, s:s}", "error", "UNSUPPORTED_MEDIA_TYPE", "message", why);
            *r = respond_json(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, body);
        } else {
            *r = respond_error(req, AUTHKIT_VALIDATION, why);
        }
        return NULL;
    }
    client_ip(req, j->ip);
    authkit__strlcpy(j->user_agent, header(req, MHD_HTTP_HEADER_USER_AGENT), sizeof j->user_agent);
    j->opts.ip = j->ip;
    j->opts.user_agent = j->user_agent;
    return j;
}

/* The password bytes are checked here so that the answer is a 400 that says why; the
 * library would (rightly) call them just "invalid credentials". */
static bool password_usable(struct request *req, const struct body *b, enum body_field f,
                            enum MHD_Result *r) {
    authkit_status st = authkit_password_check_bytes(b->value[f], b->len[f]);
    if (st == AUTHKIT_OK)
        return true;
    *r = respond_error(req, st, NULL);
    return false;
}

static enum MHD_Result login_post(struct request *req) {
    enum MHD_Result r;
    /* Login CSRF: a cross-site page must not sign a browser into an attacker's account. */
    if (cross_site(req))
        return respond_error(req, AUTHKIT_FORBIDDEN, "Cross-site login refused");
    struct job *j = job_from_body(req, &r);
    if (!j)
        return r;
    struct body *b = &j->body;
    j->login = b->value[F_USERNAME] ? b->value[F_USERNAME]
               : b->value[F_EMAIL]  ? b->value[F_EMAIL]
                                    : b->value[F_LOGIN];
    if (!j->login || !b->value[F_PASSWORD]) {
        job_free(j);
        return respond_error(req, AUTHKIT_VALIDATION, "username and password are required");
    }
    if (!password_usable(req, b, F_PASSWORD, &r)) {
        job_free(j);
        return r;
    }
    safe_next(b->value[F_NEXT], j->next);
    j->opts.lifetime_seconds = body_flag(b, F_REMEMBER_ME) ? REMEMBER_ME_SECONDS : 0;
    j->work = login_work;
    return start_job(req, j, login_done);
}

static enum MHD_Result login_page(struct request *req) {
    char next[MAX_NEXT];
    safe_next(MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "next"), next);
    return respond_html(req, MHD_HTTP_OK, pages_login(next, NULL));
}

/* ---- authenticated routes ---- */

struct caller {
    authkit_user user;
    authkit_session_info session;
    char token[AUTHKIT_TOKEN_SIZE];
    authkit_mhd_token_source source;
};

/* Validates the caller. false with the answer queued in `*r` when the request may not go
 * on: 401 (no or bad token), 503 (store down: never answered as if authenticated), 403
 * (a cookie-authenticated state change from another origin, or without the session's
 * anti-CSRF token in X-CSRF-Token). */
static bool authenticate(struct request *req, bool state_changing, struct caller *c,
                         enum MHD_Result *r) {
    struct authkit_server *srv = req->srv;
    c->source = authkit_mhd_token(req->conn, &srv->cookie, c->token);
    authkit_status st =
        c->source == AUTHKIT_MHD_TOKEN_NONE
            ? AUTHKIT_NOT_AUTHENTICATED
            : authkit_session_validate(srv->ctx, c->token, &c->user, &c->session, NULL);
    authkit_metrics_validation(&srv->metrics, st == AUTHKIT_OK                  ? VALIDATION_VALID
                                              : st == AUTHKIT_NOT_AUTHENTICATED ? VALIDATION_INVALID
                                                                                : VALIDATION_ERROR);
    if (st != AUTHKIT_OK) {
        *r = respond_error(req, st == AUTHKIT_NOT_AUTHENTICATED ? st : AUTHKIT_STORE, NULL);
        return false;
    }
    /* Bearer tokens are not sent by browsers on their own: only cookies need the check. */
    if (state_changing && c->source == AUTHKIT_MHD_TOKEN_COOKIE) {
        if (!same_origin(req)) {
            *r = respond_error(req, AUTHKIT_FORBIDDEN, "Cross-origin request refused");
            return false;
        }
        return csrf_check(req, c->session.id, NULL, r);
    }
    return true;
}

static bool wants_html(struct request *req) {
    const char *type = header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    return type && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0;
}

static enum MHD_Result logged_out(struct request *req, json_t *body) {
    struct MHD_Response *r;
    unsigned status = MHD_HTTP_OK;
    if (wants_html(req)) {
        json_decref(body);
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (r)
            MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "/login");
        status = MHD_HTTP_SEE_OTHER;
    } else {
        r = response_json(body);
    }
    /* Only our cookie is cleared: Clear-Site-Data would also wipe the cookies of the app
     * that shares this origin behind a forward-auth proxy. */
    if (r)
        authkit_mhd_clear_cookie(r, &req->srv->cookie);
    return respond(req, status, r);
}

/* A cookie-authenticated logout of a live session needs its anti-CSRF token, from the
 * header or the csrf_token field of the sign-out form. A cookie whose session is already
 * gone needs none: there is nothing left to end, and it is cleared all the same. */
static bool logout_allowed(struct request *req, const char *token, enum MHD_Result *r) {
    if (!same_origin(req)) {
        *r = respond_error(req, AUTHKIT_FORBIDDEN, "Cross-origin request refused");
        return false;
    }
    authkit_user user;
    authkit_session_info session;
    authkit_status st = authkit_session_validate(req->srv->ctx, token, &user, &session, NULL);
    if (st == AUTHKIT_NOT_AUTHENTICATED)
        return true;
    if (st != AUTHKIT_OK) {
        *r = respond_error(req, AUTHKIT_STORE, NULL);
        return false;
    }
    if (header(req, CSRF_HEADER) || req->len == 0)
        return csrf_check(req, session.id, NULL, r);
    struct body b;
    const char *why;
    if (body_parse(header(req, MHD_HTTP_HEADER_CONTENT_TYPE), req->body, req->len, &b, &why) !=
        BODY_OK) {
        body_free(&b);
        *r = respond_error(req, AUTHKIT_VALIDATION, why);
        return false;
    }
    bool ok = csrf_check(req, session.id, b.value[F_CSRF_TOKEN], r);
    body_free(&b);
    return ok;
}

static enum MHD_Result logout_post(struct request *req) {
    struct authkit_server *srv = req->srv;
    enum MHD_Result r;
    if (!content_type_ok(req, true, &r))
        return r;
    char token[AUTHKIT_TOKEN_SIZE];
    authkit_mhd_token_source src = authkit_mhd_token(req->conn, &srv->cookie, token);
    if (src == AUTHKIT_MHD_TOKEN_COOKIE && !logout_allowed(req, token, &r)) {
        sodium_memzero(token, sizeof token);
        return r;
    }
    bool deleted = false;
    authkit_status st = src == AUTHKIT_MHD_TOKEN_NONE
                            ? AUTHKIT_OK
                            : authkit_logout(srv->ctx, token, &deleted, NULL);
    sodium_memzero(token, sizeof token);
    if (st != AUTHKIT_OK)
        return respond_error(req, AUTHKIT_STORE, NULL);
    return logged_out(req, json_pack("{s:b}", "logged_out", deleted));
}

static enum MHD_Result logout_all_post(struct request *req) {
    struct caller c;
    enum MHD_Result r;
    if (!content_type_ok(req, false, &r) || !authenticate(req, true, &c, &r))
        return r;
    size_t revoked = 0;
    if (authkit_logout_all(req->srv->ctx, c.user.id, &revoked, NULL) != AUTHKIT_OK)
        return respond_error(req, AUTHKIT_STORE, NULL);
    return logged_out(req, json_pack("{s:I}", "revoked", (json_int_t)revoked));
}

static enum MHD_Result logout_others_post(struct request *req) {
    struct caller c;
    enum MHD_Result r;
    if (!content_type_ok(req, false, &r) || !authenticate(req, true, &c, &r))
        return r;
    size_t revoked = 0;
    authkit_status st =
        authkit_logout_others(req->srv->ctx, c.user.id, c.session.id, &revoked, NULL);
    if (st == AUTHKIT_UNSUPPORTED)
        return respond_error(req, st,
                             "Signed tokens cannot be revoked one by one; use /logout-all");
    if (st != AUTHKIT_OK)
        return respond_error(req, AUTHKIT_STORE, NULL);
    return respond_json(req, MHD_HTTP_OK, json_pack("{s:I}", "revoked", (json_int_t)revoked));
}

static enum MHD_Result me_get(struct request *req) {
    struct caller c;
    enum MHD_Result r;
    if (!authenticate(req, false, &c, &r))
        return r;
    /* The anti-CSRF token travels in a header so that the user object keeps its shape. */
    char body[USER_JSON_SIZE];
    size_t n = user_json(&c.user, body, sizeof body);
    struct MHD_Response *resp = n ? response_json_text(body, n) : NULL;
    csrf_add_header(req, resp, c.session.id);
    return respond(req, MHD_HTTP_OK, resp);
}

static enum MHD_Result verify_get(struct request *req) {
    struct caller c;
    enum MHD_Result r;
    /* Forward-auth: 200 or 401, never a redirect; the proxy decides what to do. */
    if (!authenticate(req, false, &c, &r))
        return r;
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (resp) {
        MHD_add_response_header(resp, "X-Auth-User-Id", c.user.id);
        MHD_add_response_header(resp, "X-Auth-User", c.user.username);
        MHD_add_response_header(resp, "X-Auth-Email", c.user.email);
        MHD_add_response_header(resp, "X-Auth-Role", c.user.global_role);
    }
    return respond(req, MHD_HTTP_OK, resp);
}

static enum MHD_Result sessions_get(struct request *req) {
    struct caller c;
    enum MHD_Result r;
    if (!authenticate(req, false, &c, &r))
        return r;
    authkit_session_info list[100];
    size_t n = 0;
    authkit_status st = authkit_session_list(req->srv->ctx, c.user.id, list, 100, &n, NULL);
    if (st == AUTHKIT_UNSUPPORTED) {
        n = 0; /* stateless: no stored sessions; show the caller's token alone */
        list[n++] = c.session;
    } else if (st != AUTHKIT_OK) {
        return respond_error(req, AUTHKIT_STORE, NULL);
    }
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        char created[32], expires[32], seen[32];
        authkit__time_iso8601(created, list[i].created_at);
        authkit__time_iso8601(expires, list[i].expires_at);
        authkit__time_iso8601(seen,
                              list[i].last_seen_at ? list[i].last_seen_at : list[i].created_at);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:b}", "id",
                                             list[i].id, "created_at", created, "expires_at",
                                             expires, "last_seen_at", seen, "ip",
                                             list[i].ip[0] ? list[i].ip : NULL, "user_agent",
                                             list[i].user_agent[0] ? list[i].user_agent : NULL,
                                             "current", strcmp(list[i].id, c.session.id) == 0));
    }
    return respond_json(req, MHD_HTTP_OK, json_pack("{s:o}", "sessions", arr));
}

static enum MHD_Result session_delete(struct request *req) {
    struct caller c;
    enum MHD_Result r;
    if (!content_type_ok(req, false, &r) || !authenticate(req, true, &c, &r))
        return r;
    const char *id = req->url + strlen("/sessions/");
    authkit_status st = authkit_session_revoke(req->srv->ctx, c.user.id, id, NULL);
    if (st == AUTHKIT_NOT_FOUND || st == AUTHKIT_UNSUPPORTED)
        return respond_error(req, st, st == AUTHKIT_NOT_FOUND ? "Session not found" : NULL);
    if (st != AUTHKIT_OK)
        return respond_error(req, AUTHKIT_STORE, NULL);
    return respond_json(req, MHD_HTTP_OK, json_pack("{s:b}", "revoked", true));
}

/* ---- password change ---- */

static void password_work(struct job *j) {
    authkit_ctx *ctx = j->srv->ctx;
    struct body *b = &j->body;
    j->status = authkit_user_verify_password(ctx, j->user.id, b->value[F_CURRENT_PASSWORD],
                                             b->len[F_CURRENT_PASSWORD], &j->err);
    if (j->status != AUTHKIT_OK) {
        if (j->status == AUTHKIT_AUTHENTICATION)
            j->status = AUTHKIT_FORBIDDEN;
        return;
    }
    /* Ends every session of the user, then gives the caller a fresh one. */
    j->status = authkit_user_set_password(ctx, j->user.id, b->value[F_NEW_PASSWORD],
                                          b->len[F_NEW_PASSWORD], &j->err);
    if (j->status == AUTHKIT_OK)
        j->status = authkit_session_create(ctx, j->user.id, &j->opts, &j->result, &j->err);
}

static enum MHD_Result password_done(struct request *req) {
    struct job *j = req->job;
    if (j->rejected)
        return respond_busy(req);
    if (j->status == AUTHKIT_OK)
        return respond_session(req, &j->result, false, NULL);
    if (j->status == AUTHKIT_RATE_LIMITED)
        return respond_throttled(req, &j->err, false, NULL);
    if (j->status == AUTHKIT_FORBIDDEN)
        return respond_error(req, j->status, "Current password is incorrect");
    if (j->status == AUTHKIT_VALIDATION || j->status == AUTHKIT_PASSWORD_TOO_LONG ||
        j->status == AUTHKIT_PASSWORD_HAS_NUL) {
        json_t *body = json_pack("{s:s, s:s, s:s}", "error", authkit_status_name(j->status),
                                 "message", j->err.message, "field", "new_password");
        return respond_json(req, MHD_HTTP_BAD_REQUEST, body);
    }
    return respond_error(req, AUTHKIT_STORE, NULL);
}

static enum MHD_Result password_post(struct request *req) {
    struct caller c;
    enum MHD_Result r;
    if (!content_type_ok(req, false, &r) || !authenticate(req, true, &c, &r))
        return r;
    struct job *j = job_from_body(req, &r);
    if (!j)
        return r;
    struct body *b = &j->body;
    if (!b->value[F_CURRENT_PASSWORD] || !b->value[F_NEW_PASSWORD]) {
        job_free(j);
        return respond_error(req, AUTHKIT_VALIDATION,
                             "current_password and new_password are required");
    }
    if (!password_usable(req, b, F_CURRENT_PASSWORD, &r) ||
        !password_usable(req, b, F_NEW_PASSWORD, &r)) {
        job_free(j);
        return r;
    }
    j->user = c.user;
    j->work = password_work;
    return start_job(req, j, password_done);
}

/* ---- pages and operations ---- */

static enum MHD_Result home_get(struct request *req) {
    authkit_user u;
    authkit_session_info s;
    char csrf[AUTHKIT_CSRF_TOKEN_SIZE];
    if (authkit_mhd_current_user(req->srv->ctx, req->conn, &req->srv->cookie, &u, &s) !=
            AUTHKIT_OK ||
        authkit_csrf_token(req->srv->ctx, s.id, csrf) != AUTHKIT_OK)
        return respond_redirect(req, "/login");
    /* The sign-out form carries the session's anti-CSRF token in a hidden field. */
    char *page = pages_home(u.username, u.email, csrf);
    sodium_memzero(csrf, sizeof csrf);
    return respond_html(req, MHD_HTTP_OK, page);
}

static enum MHD_Result healthz_get(struct request *req) {
    /* An indexed look-up of an id that cannot exist: proves the store answers, cheaply. */
    authkit_user u;
    authkit_status st =
        authkit_user_get_by_id(req->srv->ctx, "00000000-0000-4000-8000-000000000000", &u, NULL);
    if (st != AUTHKIT_NOT_FOUND && st != AUTHKIT_OK)
        return respond_error(req, AUTHKIT_STORE, "The store does not answer");
    return respond_json(req, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

static enum MHD_Result metrics_get(struct request *req) {
    struct authkit_server *srv = req->srv;
    struct authkit_metrics_gauges g = {.active_sessions = -1};
    size_t n;
    if (srv->cfg->lib.enable_session_storage &&
        authkit_session_count(srv->ctx, &n, NULL) == AUTHKIT_OK)
        g.active_sessions = (long long)n;
    g.password_workers = authkit_pool_workers(srv->pool);
    g.password_queue = authkit_pool_waiting(srv->pool);
    authkit_pool_wait_stats(srv->pool, &g.password_wait_us, &g.password_jobs);
    g.audit_failures = authkit_audit_failures(srv->ctx);
    char *text = authkit_metrics_render(&srv->metrics, &g);
    if (!text)
        return respond_error(req, AUTHKIT_NOMEM, NULL);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8");
    return respond(req, MHD_HTTP_OK, r);
}

/* ---- routing ---- */

static const struct route {
    const char *method;
    const char *path;
    bool prefix; /* path is a prefix followed by an id */
    handler_fn fn;
} routes[] = {
    {"GET", "/", false, home_get},
    {"GET", "/login", false, login_page},
    {"POST", "/login", false, login_post},
    {"POST", "/logout", false, logout_post},
    {"POST", "/logout-all", false, logout_all_post},
    {"POST", "/logout-others", false, logout_others_post},
    {"GET", "/me", false, me_get},
    {"GET", "/sessions", false, sessions_get},
    {"DELETE", "/sessions/", true, session_delete},
    {"POST", "/password", false, password_post},
    {"GET", "/auth/verify", false, verify_get},
    {"GET", "/healthz", false, healthz_get},
    {"GET", "/metrics", false, metrics_get},
};

static bool path_matches(const struct route *rt, const char *url) {
    if (!rt->prefix)
        return strcmp(rt->path, url) == 0;
    size_t n = strlen(rt->path);
    return strncmp(rt->path, url, n) == 0 && url[n] && !strchr(url + n, '/');
}

enum MHD_Result route_request(struct request *req) {
    const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
    char allow[64] = "";
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (!path_matches(&routes[i], req->url))
            continue;
        if (strcmp(routes[i].method, method) == 0)
            return routes[i].fn(req);
        size_t len = strlen(allow);
        snprintf(allow + len, sizeof allow - len, "%s%s", len ? ", " : "", routes[i].method);
        if (strcmp(routes[i].method, "GET") == 0) {
            len = strlen(allow);
            snprintf(allow + len, sizeof allow - len, ", HEAD");
        }
    }
    if (!allow[0])
        return respond_json(
            req, MHD_HTTP_NOT_FOUND,
            json_pack("{s:s, s:s}", "error", "NOT_FOUND", "message", "No such endpoint"));
    struct MHD_Response *r = response_json(json_pack("{s:s, s:s}", "error", "METHOD_NOT_ALLOWED",
                                                     "message", "Method not allowed here"));
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    return respond(req, MHD_HTTP_METHOD_NOT_ALLOWED, r);
}
