/* libFuzzer target for the token in an HTTP request: the Cookie and Authorization headers
 * as libmicrohttpd parses them, then the adapter (authkit_mhd_token,
 * authkit_mhd_current_user in src/http/mhd.c) that applications and `authkit serve` call.
 *
 * The input is raw request bytes. They go to a real libmicrohttpd daemon in this process,
 * with the service's per-connection memory limit: one end of a socketpair is handed to
 * the daemon (MHD_USE_NO_LISTEN_SOCKET, MHD_add_connection), the input is written to the
 * other end, which is then shut for writing, and MHD_run() is called until the daemon
 * closes the connection. No thread, no port, no timing: about as fast as MHD itself.
 * "{{token}}" in the input stands for the token of a live session (live_session.h), so
 * that "Cookie: __Host-session_token={{token}}" reaches the accepting path.
 *
 * For every request libmicrohttpd hands over, with the default cookie settings, a custom
 * cookie name and none:
 *   - authkit_mhd_token answers as its documentation says, given MHD's reading of the
 *     headers: Authorization present means Bearer or nothing (no fall-back to the
 *     cookie); a token is 1-511 printable ASCII bytes without space, '"', ',', ';' or '\';
 *   - a token returned is NUL-terminated and occurs in the request bytes as sent (neither
 *     the adapter nor MHD makes one up); no token leaves `out` empty;
 *   - authkit_mhd_current_user is OK exactly when that token is the live session's token,
 *     with its user, and NOT_AUTHENTICATED otherwise;
 * and every connection is closed once the client has finished sending (no hang). */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "authkit/mhd.h"
#include "live_session.h"

/* As `authkit serve` (src/server/server.c). */
#define CONNECTION_MEMORY (32 * 1024)
/* MHD_run() calls before a connection whose client is done counts as hung. */
#define MAX_RUNS 10000

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct MHD_Daemon *daemon_;
static struct live live;
static bool closed;
/* The request bytes of the current input, for the "occurs in the request" check. */
static const char *sent;
static size_t sent_len;

static void fail(const char *what, const char *token) {
    fprintf(stderr, "fuzz_http_token: %s (token \"%.600s\")\n", what, token ? token : "");
    abort();
}

static bool plausible(const char *t, size_t len) {
    if (len == 0 || len >= AUTHKIT_TOKEN_SIZE)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c < 0x21 || c > 0x7e || strchr("\",;\\", c))
            return false;
    }
    return true;
}

/* What authkit_mhd_token must answer, from MHD's own reading of the headers. */
static authkit_mhd_token_source expected(struct MHD_Connection *c, const char *name,
                                         const char **tok, size_t *len) {
    const char *auth =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth) {
        if (strncasecmp(auth, "Bearer ", 7) != 0)
            return AUTHKIT_MHD_TOKEN_NONE;
        *tok = auth + 7 + strspn(auth + 7, " ");
        *len = strlen(*tok);
        while (*len && (*tok)[*len - 1] == ' ')
            (*len)--;
        return plausible(*tok, *len) ? AUTHKIT_MHD_TOKEN_BEARER : AUTHKIT_MHD_TOKEN_NONE;
    }
    *tok = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, name);
    *len = *tok ? strlen(*tok) : 0;
    return *tok && plausible(*tok, *len) ? AUTHKIT_MHD_TOKEN_COOKIE : AUTHKIT_MHD_TOKEN_NONE;
}

static void check_request(struct MHD_Connection *c, const authkit_mhd_cookie *cookie) {
    const char *name = cookie && cookie->name ? cookie->name : "__Host-session_token";
    char out[AUTHKIT_TOKEN_SIZE];
    memset(out, 'x', sizeof out);
    authkit_mhd_token_source src = authkit_mhd_token(c, cookie, out);
    const char *tok = NULL;
    size_t len = 0;
    authkit_mhd_token_source want = expected(c, name, &tok, &len);
    if (!memchr(out, '\0', sizeof out))
        fail("the token is not terminated", NULL);
    if (src != want)
        fail("the wrong source for the request's headers", out);
    if (src == AUTHKIT_MHD_TOKEN_NONE) {
        if (out[0])
            fail("no token, but `out` is not empty", out);
        return;
    }
    if (strlen(out) != len || memcmp(out, tok, len) != 0)
        fail("the token is not the header's", out);
    if (!memmem(sent, sent_len, out, len))
        fail("the token does not occur in the request bytes", out);

    authkit_user user;
    authkit_session_info info;
    bool is_live = strcmp(out, live.login.token) == 0;
    authkit_status st = authkit_mhd_current_user(live.ctx, c, cookie, &user, &info);
    if (st != (is_live ? AUTHKIT_OK : AUTHKIT_NOT_AUTHENTICATED))
        fail(is_live ? "the live token is refused" : "another token is not 401", out);
    if (is_live && strcmp(user.id, live.login.user.id) != 0)
        fail("the live token gives another user", out);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls) {
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    /* The headers are complete at the first call; a body is read and dropped. */
    if (*req_cls) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    *req_cls = &live;
    authkit_mhd_cookie standard, custom;
    authkit_mhd_cookie_init(&standard);
    authkit_mhd_cookie_init(&custom);
    custom.name = "sid";
    check_request(c, &standard);
    check_request(c, &custom);
    check_request(c, NULL);
    struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, r);
    MHD_destroy_response(r);
    return ok;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
    (void)cls, (void)c, (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        closed = true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    live_open(&live, true);
    daemon_ = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, NULL,
                               MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
                               MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL, MHD_OPTION_END);
    if (!daemon_) {
        fprintf(stderr, "fuzz_http_token: cannot start libmicrohttpd\n");
        exit(1);
    }
    return 0;
}

/* Reads whatever the daemon has answered so far, so that it never waits to write. */
static void drain(int fd) {
    char buf[4096];
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const struct live_mark marks[] = {{"{{token}}", live.login.token}};
    size_t len;
    char *request = live_substitute(data, size, marks, 1, &len);
    sent = request;
    sent_len = len;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        abort();
    /* The whole input fits in the socket buffer (-max_len is far below it). */
    if (send(fds[0], request, len, MSG_NOSIGNAL) != (ssize_t)len)
        abort();
    shutdown(fds[0], SHUT_WR);
    struct sockaddr_in peer = {
        .sin_family = AF_INET, .sin_port = htons(40000), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    closed = false;
    if (MHD_add_connection(daemon_, fds[1], (struct sockaddr *)&peer, sizeof peer) != MHD_YES)
        abort(); /* the daemon now owns fds[1] */
    int runs = 0;
    while (!closed && runs++ < MAX_RUNS) {
        MHD_run(daemon_);
        drain(fds[0]);
    }
    if (!closed)
        fail("the connection is still open after the client finished sending", NULL);
    MHD_run(daemon_); /* frees the closed connection */
    close(fds[0]);
    free(request);
    return 0;
}
