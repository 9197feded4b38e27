/* The libmicrohttpd adapter: protect a route of your own MHD server with one call.
 * Not included by <authkit.h>; link -lauthkit_mhd (CMake: authkit::authkit_mhd).
 * All functions are safe from any MHD thread. */
#ifndef AUTHKIT_MHD_H
#define AUTHKIT_MHD_H

#include <microhttpd.h>

#include "authkit.h"

AUTHKIT_BEGIN_DECLS

/* How the session cookie is named and set. Fill with authkit_mhd_cookie_init(). */
typedef struct authkit_mhd_cookie {
    /* "__Host-session_token" by default: browsers then insist on Secure, Path=/ and no
     * Domain, so no subdomain can plant or read it. */
    const char *name;
    const char *domain;    /* NULL: host-only (required with the __Host- prefix) */
    bool secure;           /* true; false only for development over plain HTTP */
    const char *same_site; /* "Lax" */
} authkit_mhd_cookie;

AUTHKIT_EXTERN void authkit_mhd_cookie_init(authkit_mhd_cookie *cookie);

typedef enum authkit_mhd_token_source {
    AUTHKIT_MHD_TOKEN_NONE = 0,
    AUTHKIT_MHD_TOKEN_BEARER, /* Authorization: Bearer <token> */
    AUTHKIT_MHD_TOKEN_COOKIE, /* the session cookie */
} authkit_mhd_token_source;

/* Finds the request's token: the Authorization Bearer header first, then the cookie
 * named `cookie->name` (NULL: the default name). Never the query string. Copies it to
 * `out` and returns where it came from, or AUTHKIT_MHD_TOKEN_NONE (also for a malformed
 * header or a token that does not fit). */
AUTHKIT_EXTERN authkit_mhd_token_source authkit_mhd_token(struct MHD_Connection *connection,
                                                          const authkit_mhd_cookie *cookie,
                                                          char out[AUTHKIT_TOKEN_SIZE]);

/* The "current_user" call: validates the request's token. AUTHKIT_OK with the user (and
 * the session if `session` is not NULL); AUTHKIT_NOT_AUTHENTICATED (no token, or not
 * valid: answer with authkit_mhd_queue_error()); AUTHKIT_STORE when the store failed
 * (answer 503, never as if authenticated). */
AUTHKIT_EXTERN authkit_status authkit_mhd_current_user(authkit_ctx *ctx,
                                                       struct MHD_Connection *connection,
                                                       const authkit_mhd_cookie *cookie,
                                                       authkit_user *user,
                                                       authkit_session_info *session);

/* The "optional_user" call: true with `user` filled when the request carries a valid
 * token, false otherwise (including store failures). */
AUTHKIT_EXTERN bool authkit_mhd_optional_user(authkit_ctx *ctx, struct MHD_Connection *connection,
                                              const authkit_mhd_cookie *cookie, authkit_user *user);

/* The request header that carries an anti-CSRF token (include/authkit/csrf.h). */
#define AUTHKIT_MHD_CSRF_HEADER "X-CSRF-Token"

/* The anti-CSRF token of the request's session, for a page to embed (a hidden csrf_token
 * field in each form that changes state) or a script to send back in X-CSRF-Token:
 * validates the request's token like authkit_mhd_current_user() and writes
 * authkit_csrf_token() of its session to `out`. Holding the session already (from
 * authkit_mhd_current_user)? authkit_csrf_token(ctx, session.id, out) gives the same token
 * without a second look-up. AUTHKIT_OK; AUTHKIT_NOT_AUTHENTICATED; AUTHKIT_STORE;
 * AUTHKIT_INVALID_ARGUMENT (NULL ctx, connection or out). `out` is empty on failure. */
AUTHKIT_EXTERN authkit_status authkit_mhd_csrf_token(authkit_ctx *ctx,
                                                     struct MHD_Connection *connection,
                                                     const authkit_mhd_cookie *cookie,
                                                     char out[AUTHKIT_CSRF_TOKEN_SIZE]);

/* The "current_user" call for a state-changing request (POST, PUT, PATCH, DELETE):
 * validates the request like authkit_mhd_current_user(); then, when the token came from
 * the cookie, which a browser attaches to requests that other sites trigger, requires the
 * session's anti-CSRF token: the X-CSRF-Token header if present, else `form_token` (the
 * csrf_token field your handler read from its form body; NULL if none). Bearer requests
 * need none. AUTHKIT_OK with the user in `user` and the session in `session` (either may
 * be NULL); AUTHKIT_NOT_AUTHENTICATED; AUTHKIT_CSRF (missing or wrong token: answer with
 * authkit_mhd_queue_error(), a 403, and change nothing); AUTHKIT_STORE (answer 503). */
AUTHKIT_NODISCARD AUTHKIT_EXTERN authkit_status authkit_mhd_check_csrf(
    authkit_ctx *ctx, struct MHD_Connection *connection, const authkit_mhd_cookie *cookie,
    const char *form_token, authkit_user *user, authkit_session_info *session);

/* Adds "Set-Cookie: <name>=<token>; Path=/; Max-Age=<max_age>; HttpOnly; Secure;
 * SameSite=Lax" (Domain when configured, Secure unless disabled) to `response`.
 * AUTHKIT_OK, AUTHKIT_INVALID_ARGUMENT (a token or name with characters a cookie cannot
 * carry), AUTHKIT_NOMEM. */
AUTHKIT_EXTERN authkit_status authkit_mhd_set_cookie(struct MHD_Response *response,
                                                     const authkit_mhd_cookie *cookie,
                                                     const char *token, int64_t max_age_seconds);

/* Adds a Set-Cookie that deletes the session cookie (same attributes, Max-Age=0). */
AUTHKIT_EXTERN authkit_status authkit_mhd_clear_cookie(struct MHD_Response *response,
                                                       const authkit_mhd_cookie *cookie);

/* Queues the JSON error {"error": authkit_status_name(status), "message": message (NULL:
 * authkit_strerror(status))} with the HTTP status authkit_status_http(status),
 * Cache-Control: no-store, and for 401 `WWW-Authenticate: Bearer`. */
AUTHKIT_EXTERN enum MHD_Result authkit_mhd_queue_error(struct MHD_Connection *connection,
                                                       authkit_status status, const char *message);

AUTHKIT_END_DECLS

#endif
