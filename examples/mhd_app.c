/* A tiny libmicrohttpd application protected by libauthkit through the adapter:
 *   GET  /          public page (says who you are, if anyone: optional_user)
 *   GET  /private   protected page (current_user: 401 JSON without a valid session)
 *   GET  /account   HTML page with a sign-out form carrying the anti-CSRF token
 *   POST /login     JSON {"username","password"} -> 200, the session cookie and the
 *                   session's anti-CSRF token in X-CSRF-Token; an account whose password
 *                   an operator declared compromised gets 403 PASSWORD_CHANGE_REQUIRED
 *                   until the request also carries "new_password"
 *   POST /logout    ends the session and clears the cookie; with the cookie, only with the
 *                   anti-CSRF token (X-CSRF-Token header or csrf_token form field)
 * Run: AUTHKIT_SESSION_SECRET=... mhd_app sqlite:///path/app.db [PORT]
 * It prints "listening on PORT" once ready (PORT 0 picks a free one). Create users with
 * `authkit user add --database sqlite:///path/app.db ...`. */
#include <authkit/mhd.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY 4096

static authkit_ctx *ctx;
static authkit_mhd_cookie cookie;

struct body {
    char data[MAX_BODY + 1];
    size_t len;
    bool too_large;
};

/* A response that is not cached (it is about a user). Queued and destroyed by queue(). */
static struct MHD_Response *response(const char *type, const char *text) {
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
                                                             MHD_RESPMEM_MUST_COPY);
    if (r) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    }
    return r;
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r) {
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text,
                                 bool clear) {
    struct MHD_Response *r = response("text/plain; charset=utf-8", text);
    if (r && clear)
        authkit_mhd_clear_cookie(r, &cookie);
    return queue(c, status, r);
}

/* The value of field `name` in a form-encoded body, copied to `out` as sent (an
 * anti-CSRF token is base64url: nothing in it is percent-encoded). NULL when absent. */
static const char *form_field(const struct body *b, const char *name, char *out, size_t size) {
    size_t n = strlen(name);
    const char *p = b->data; /* NUL-terminated: the struct is zeroed and one byte longer */
    while (p && *p) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            size_t len = strcspn(p + n + 1, "&");
            if (len >= size)
                return NULL;
            memcpy(out, p + n + 1, len);
            out[len] = '\0';
            return out;
        }
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return NULL;
}

static enum MHD_Result login(struct MHD_Connection *c, const struct body *b) {
    json_t *in = json_loadb(b->data, b->len, JSON_REJECT_DUPLICATES, NULL);
    const char *user = json_string_value(json_object_get(in, "username"));
    json_t *pw = json_object_get(in, "password");
    json_t *new_pw = json_object_get(in, "new_password");
    if (!user || !json_is_string(pw) || (new_pw && !json_is_string(new_pw))) {
        json_decref(in);
        return authkit_mhd_queue_error(
            c, AUTHKIT_VALIDATION,
            "username and password required (strings; new_password optional)");
    }
    authkit_session_opts opts = {.new_password = json_string_value(new_pw),
                                 .new_password_len = json_string_length(new_pw)};
    authkit_login_result res;
    /* A real server would hand this (bcrypt: ~250 ms) to a worker thread; see
     * `authkit serve` for that. */
    authkit_status st = authkit_authenticate(ctx, user, json_string_value(pw),
                                             json_string_length(pw), &opts, &res, NULL);
    json_decref(in);
    if (st != AUTHKIT_OK)
        return authkit_mhd_queue_error(c, st, NULL);
    struct MHD_Response *r = response("text/plain; charset=utf-8", "signed in\n");
    char csrf[AUTHKIT_CSRF_TOKEN_SIZE];
    /* A script keeps the anti-CSRF token and sends it back with every change it makes. */
    if (r && authkit_csrf_token(ctx, res.session_id, csrf) == AUTHKIT_OK)
        MHD_add_response_header(r, AUTHKIT_MHD_CSRF_HEADER, csrf);
    if (r)
        authkit_mhd_set_cookie(r, &cookie, res.token, 1800);
    memset(&res, 0, sizeof res);
    return queue(c, MHD_HTTP_OK, r);
}

static enum MHD_Result account(struct MHD_Connection *c) {
    char csrf[AUTHKIT_CSRF_TOKEN_SIZE];
    authkit_status st = authkit_mhd_csrf_token(ctx, c, &cookie, csrf);
    if (st != AUTHKIT_OK)
        return authkit_mhd_queue_error(c, st, NULL);
    char page[512];
    snprintf(page, sizeof page,
             "<!DOCTYPE html><title>Account</title>"
             "<form method=\"post\" action=\"/logout\">"
             "<input type=\"hidden\" name=\"csrf_token\" value=\"%s\">"
             "<button type=\"submit\">Sign out</button></form>\n",
             csrf);
    return queue(c, MHD_HTTP_OK, response("text/html; charset=utf-8", page));
}

static enum MHD_Result logout(struct MHD_Connection *c, const struct body *b) {
    char field[AUTHKIT_CSRF_TOKEN_SIZE + 1];
    authkit_status st = authkit_mhd_check_csrf(
        ctx, c, &cookie, form_field(b, "csrf_token", field, sizeof field), NULL, NULL);
    if (st == AUTHKIT_NOT_AUTHENTICATED)
        return send_text(c, MHD_HTTP_OK, "not signed in\n", true);
    if (st != AUTHKIT_OK)
        return authkit_mhd_queue_error(c, st, NULL); /* 403 without the token; 503 */
    char token[AUTHKIT_TOKEN_SIZE];
    bool deleted = false;
    st = authkit_mhd_token(c, &cookie, token) == AUTHKIT_MHD_TOKEN_NONE
             ? AUTHKIT_OK
             : authkit_logout(ctx, token, &deleted, NULL);
    memset(token, 0, sizeof token);
    if (st != AUTHKIT_OK)
        return authkit_mhd_queue_error(c, AUTHKIT_STORE, NULL);
    return send_text(c, MHD_HTTP_OK, deleted ? "signed out\n" : "not signed in\n", true);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state) {
    (void)cls;
    (void)version;
    struct body *b = *state;
    if (!b) {
        *state = b = calloc(1, sizeof *b);
        return b ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        if (b->len + *upload_size > MAX_BODY)
            b->too_large = true;
        else
            memcpy(b->data + b->len, upload, *upload_size), b->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    authkit_user user;
    if (strcmp(url, "/") == 0 && strcmp(method, "GET") == 0) {
        char text[512];
        if (authkit_mhd_optional_user(ctx, c, &cookie, &user))
            snprintf(text, sizeof text, "public page; you are %s\n", user.username);
        else
            snprintf(text, sizeof text, "public page; you are not signed in\n");
        return send_text(c, MHD_HTTP_OK, text, false);
    }
    if (strcmp(url, "/account") == 0 && strcmp(method, "GET") == 0)
        return account(c);
    if (strcmp(url, "/private") == 0 && strcmp(method, "GET") == 0) {
        authkit_status st = authkit_mhd_current_user(ctx, c, &cookie, &user, NULL);
        if (st != AUTHKIT_OK)
            return authkit_mhd_queue_error(c, st, NULL);
        char text[512];
        snprintf(text, sizeof text, "private page for %s <%s>\n", user.username, user.email);
        return send_text(c, MHD_HTTP_OK, text, false);
    }
    if (strcmp(url, "/login") == 0 && strcmp(method, "POST") == 0)
        return b->too_large ? authkit_mhd_queue_error(c, AUTHKIT_VALIDATION, "body too large")
                            : login(c, b);
    if (strcmp(url, "/logout") == 0 && strcmp(method, "POST") == 0)
        return b->too_large ? authkit_mhd_queue_error(c, AUTHKIT_VALIDATION, "body too large")
                            : logout(c, b);
    return authkit_mhd_queue_error(c, AUTHKIT_NOT_FOUND, NULL);
}

static void done(void *cls, struct MHD_Connection *c, void **state,
                 enum MHD_RequestTerminationCode code) {
    (void)cls;
    (void)c;
    (void)code;
    free(*state);
    *state = NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: mhd_app DATABASE_URL [PORT]\n");
        return 2;
    }
    authkit_options opts;
    authkit_options_init(&opts);
    opts.database_url = argv[1];
    opts.session_secret = getenv("AUTHKIT_SESSION_SECRET");
    const char *cost = getenv("AUTHKIT_BCRYPT_COST");
    if (cost)
        opts.bcrypt_cost = atoi(cost);
    authkit_error err;
    if (authkit_open(&opts, &ctx, &err) != AUTHKIT_OK) {
        fprintf(stderr, "mhd_app: %s\n", err.message);
        return 1;
    }
    authkit_mhd_cookie_init(&cookie);
    /* Blocked before MHD starts its threads, so only sigwait() below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
                         (uint16_t)(argc > 2 ? atoi(argv[2]) : 8081), NULL, NULL, handle, NULL,
                         MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "mhd_app: cannot listen\n");
        authkit_close(ctx);
        return 1;
    }
    printf("listening on %u\n", MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    authkit_close(ctx);
    return 0;
}
