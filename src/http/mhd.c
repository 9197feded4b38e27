/* The libmicrohttpd adapter (include/authkit/mhd.h). The only library code that includes
 * microhttpd.h. */
#include "authkit/mhd.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_COOKIE_NAME "__Host-session_token"

void authkit_mhd_cookie_init(authkit_mhd_cookie *cookie) {
    if (cookie)
        *cookie = (authkit_mhd_cookie){
            .name = DEFAULT_COOKIE_NAME, .domain = NULL, .secure = true, .same_site = "Lax"};
}

static const char *cookie_name(const authkit_mhd_cookie *cookie) {
    return cookie && cookie->name ? cookie->name : DEFAULT_COOKIE_NAME;
}

/* Copies `value` to `out` if it fits and is a plausible token: printable ASCII, no
 * spaces, quotes, commas or semicolons. */
static bool copy_token(char out[AUTHKIT_TOKEN_SIZE], const char *value, size_t len) {
    if (len == 0 || len >= AUTHKIT_TOKEN_SIZE)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\')
            return false;
    }
    memcpy(out, value, len);
    out[len] = '\0';
    return true;
}

authkit_mhd_token_source authkit_mhd_token(struct MHD_Connection *connection,
                                           const authkit_mhd_cookie *cookie,
                                           char out[AUTHKIT_TOKEN_SIZE]) {
    out[0] = '\0';
    const char *auth =
        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth) {
        /* RFC 6750: the scheme is case-insensitive, one or more spaces, then the token. A
         * present but unusable header does not fall back to the cookie. */
        if (strncasecmp(auth, "Bearer ", 7) != 0)
            return AUTHKIT_MHD_TOKEN_NONE;
        const char *t = auth + 7;
        while (*t == ' ')
            t++;
        size_t len = strlen(t);
        while (len && t[len - 1] == ' ')
            len--;
        return copy_token(out, t, len) ? AUTHKIT_MHD_TOKEN_BEARER : AUTHKIT_MHD_TOKEN_NONE;
    }
    const char *value =
        MHD_lookup_connection_value(connection, MHD_COOKIE_KIND, cookie_name(cookie));
    if (value && copy_token(out, value, strlen(value)))
        return AUTHKIT_MHD_TOKEN_COOKIE;
    return AUTHKIT_MHD_TOKEN_NONE;
}

authkit_status authkit_mhd_current_user(authkit_ctx *ctx, struct MHD_Connection *connection,
                                        const authkit_mhd_cookie *cookie, authkit_user *user,
                                        authkit_session_info *session) {
    if (!ctx || !connection || !user)
        return AUTHKIT_INVALID_ARGUMENT;
    char token[AUTHKIT_TOKEN_SIZE];
    if (authkit_mhd_token(connection, cookie, token) == AUTHKIT_MHD_TOKEN_NONE)
        return AUTHKIT_NOT_AUTHENTICATED;
    authkit_status st = authkit_session_validate(ctx, token, user, session, NULL);
    sodium_memzero(token, sizeof token);
    return st;
}

bool authkit_mhd_optional_user(authkit_ctx *ctx, struct MHD_Connection *connection,
                               const authkit_mhd_cookie *cookie, authkit_user *user) {
    return authkit_mhd_current_user(ctx, connection, cookie, user, NULL) == AUTHKIT_OK;
}

authkit_status authkit_mhd_csrf_token(authkit_ctx *ctx, struct MHD_Connection *connection,
                                      const authkit_mhd_cookie *cookie,
                                      char out[AUTHKIT_CSRF_TOKEN_SIZE]) {
    if (!out)
        return AUTHKIT_INVALID_ARGUMENT;
    out[0] = '\0';
    if (!ctx || !connection)
        return AUTHKIT_INVALID_ARGUMENT;
    authkit_user user;
    authkit_session_info session;
    authkit_status st = authkit_mhd_current_user(ctx, connection, cookie, &user, &session);
    return st == AUTHKIT_OK ? authkit_csrf_token(ctx, session.id, out) : st;
}

authkit_status authkit_mhd_check_csrf(authkit_ctx *ctx, struct MHD_Connection *connection,
                                      const authkit_mhd_cookie *cookie, const char *form_token,
                                      authkit_user *user, authkit_session_info *session) {
    if (!ctx || !connection)
        return AUTHKIT_INVALID_ARGUMENT;
    char token[AUTHKIT_TOKEN_SIZE];
    authkit_mhd_token_source source = authkit_mhd_token(connection, cookie, token);
    if (source == AUTHKIT_MHD_TOKEN_NONE)
        return AUTHKIT_NOT_AUTHENTICATED;
    authkit_user u;
    authkit_session_info s;
    authkit_status st = authkit_session_validate(ctx, token, &u, &s, NULL);
    sodium_memzero(token, sizeof token);
    if (st != AUTHKIT_OK)
        return st;
    if (source == AUTHKIT_MHD_TOKEN_COOKIE) {
        const char *presented =
            MHD_lookup_connection_value(connection, MHD_HEADER_KIND, AUTHKIT_MHD_CSRF_HEADER);
        st = authkit_csrf_verify(ctx, s.id, presented ? presented : form_token);
        if (st != AUTHKIT_OK)
            return AUTHKIT_CSRF;
    }
    if (user)
        *user = u;
    if (session)
        *session = s;
    return AUTHKIT_OK;
}

/* Cookie names are RFC 6265 tokens; SameSite and Domain values are letters, digits, '.'
 * and '-'. Anything else could inject attributes. */
static bool cookie_text_ok(const char *s, bool domain) {
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || (!domain && c == '_');
        if (!ok)
            return false;
    }
    return true;
}

static authkit_status add_cookie(struct MHD_Response *response, const authkit_mhd_cookie *cookie,
                                 const char *value, int64_t max_age) {
    authkit_mhd_cookie defaults;
    authkit_mhd_cookie_init(&defaults);
    if (!cookie)
        cookie = &defaults;
    const char *name = cookie_name(cookie);
    const char *same_site = cookie->same_site ? cookie->same_site : "Lax";
    if (!response || !cookie_text_ok(name, false) || !cookie_text_ok(same_site, true) ||
        (cookie->domain && !cookie_text_ok(cookie->domain, true)) ||
        (*value && !copy_token((char[AUTHKIT_TOKEN_SIZE]){0}, value, strlen(value))))
        return AUTHKIT_INVALID_ARGUMENT;
    char header[AUTHKIT_TOKEN_SIZE + 512];
    int n =
        snprintf(header, sizeof header, "%s=%s; Path=/; Max-Age=%lld%s%s; HttpOnly%s; SameSite=%s",
                 name, value, (long long)max_age, cookie->domain ? "; Domain=" : "",
                 cookie->domain ? cookie->domain : "", cookie->secure ? "; Secure" : "", same_site);
    authkit_status st = AUTHKIT_OK;
    if (n < 0 || (size_t)n >= sizeof header)
        st = AUTHKIT_INVALID_ARGUMENT;
    else if (MHD_add_response_header(response, MHD_HTTP_HEADER_SET_COOKIE, header) != MHD_YES)
        st = AUTHKIT_NOMEM;
    sodium_memzero(header, sizeof header);
    return st;
}

authkit_status authkit_mhd_set_cookie(struct MHD_Response *response,
                                      const authkit_mhd_cookie *cookie, const char *token,
                                      int64_t max_age_seconds) {
    if (!token || !*token || max_age_seconds <= 0)
        return AUTHKIT_INVALID_ARGUMENT;
    return add_cookie(response, cookie, token, max_age_seconds);
}

authkit_status authkit_mhd_clear_cookie(struct MHD_Response *response,
                                        const authkit_mhd_cookie *cookie) {
    return add_cookie(response, cookie, "", 0);
}

enum MHD_Result authkit_mhd_queue_error(struct MHD_Connection *connection, authkit_status status,
                                        const char *message) {
    json_t *body = json_pack("{s:s, s:s}", "error", authkit_status_name(status), "message",
                             message ? message : authkit_strerror(status));
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return MHD_NO;
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free(text);
        return MHD_NO;
    }
    int http = authkit_status_http(status);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/json; charset=utf-8");
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    if (http == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result r = MHD_queue_response(connection, (unsigned)http, response);
    MHD_destroy_response(response);
    return r;
}
