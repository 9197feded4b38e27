/* The libmicrohttpd daemon of `authkit serve`: request life cycle, body limits, start and
 * graceful stop. Routing and handlers are in handlers.c. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/internal.h"

/* Per-connection memory for the request head (libmicrohttpd's default). libmicrohttpd
 * zeroes the pool on every request of a kept-alive connection, so its size is paid on each
 * request: at 1 MiB that was over half of the server's CPU. A head that does not fit gets
 * libmicrohttpd's own plain 431; below that, our limits answer with a JSON 431. */
#define CONNECTION_MEMORY          (32 * 1024)
#define CONNECTION_TIMEOUT_SECONDS 30
#define MAX_HEADER_VALUE           8192
#define MAX_HEADERS_TOTAL          16384

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct header_scan {
    size_t total;
    bool too_long;
    int content_lengths;
    bool transfer_encoding;
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
    (void)kind;
    struct header_scan *scan = cls;
    size_t len = strlen(key) + (value ? strlen(value) : 0);
    scan->total += len;
    scan->too_long |= len > MAX_HEADER_VALUE || scan->total > MAX_HEADERS_TOTAL;
    scan->content_lengths += strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0;
    scan->transfer_encoding |= strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0;
    return MHD_YES;
}

/* Answers and closes the connection: after a framing error nothing that follows on it can
 * be trusted to be a separate request. */
static enum MHD_Result refuse_and_close(struct request *req, unsigned status, const char *code,
                                        const char *message) {
    struct MHD_Response *r =
        response_json(json_pack("{s:s, s:s}", "error", code, "message", message));
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    return respond(req, status, r);
}

/* First call for a request: limits that need no body. Returns MHD_YES with nothing queued
 * to go on reading, or the result of queueing an early answer. */
static enum MHD_Result first_call(struct request *req, bool *answered) {
    *answered = true;
    struct header_scan scan = {0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, scan_header, &scan);
    /* Request smuggling: a proxy and this server must never disagree on where a body ends
     * (RFC 9112 section 6.3). */
    if (scan.content_lengths > 1 || (scan.content_lengths && scan.transfer_encoding))
        return refuse_and_close(req, MHD_HTTP_BAD_REQUEST, "VALIDATION_ERROR",
                                "Conflicting Content-Length / Transfer-Encoding headers");
    if (scan.too_long)
        return refuse_and_close(req, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "HEADERS_TOO_LARGE",
                                "Request headers are too large");
    const char *cl = header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > req->srv->cfg->max_body_bytes) {
        json_t *body = json_pack("{s:s, s:s}", "error", "PAYLOAD_TOO_LARGE", "message",
                                 "The request body is too large");
        return respond_json(req, MHD_HTTP_CONTENT_TOO_LARGE, body);
    }
    *answered = false;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    (void)version;
    struct request *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        req->srv = cls;
        req->conn = conn;
        req->method = method;
        req->url = url;
        req->started_us = now_us();
        atomic_fetch_add(&req->srv->in_flight, 1);
        *con_cls = req;
        bool answered;
        enum MHD_Result r = first_call(req, &answered);
        if (answered)
            return r;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->too_large || req->len + n > req->srv->cfg->max_body_bytes) {
            req->too_large = true; /* chunked bodies have no Content-Length to check first */
            return MHD_YES;
        }
        char *grown = realloc(req->body, req->len + n + 1);
        if (!grown)
            return MHD_NO;
        memcpy(grown + req->len, upload_data, n);
        req->body = grown;
        req->len += n;
        req->body[req->len] = '\0';
        return MHD_YES;
    }
    if (req->job)
        return req->resume(req); /* resumed after password work */
    if (req->too_large) {
        json_t *body = json_pack("{s:s, s:s}", "error", "PAYLOAD_TOO_LARGE", "message",
                                 "The request body is too large");
        return respond_json(req, MHD_HTTP_CONTENT_TOO_LARGE, body);
    }
    /* Events of this request (a logout, a revocation, an expiry found) name its client in
     * the audit trail; cleared after, as this thread serves other clients next. */
    char ip[AUTHKIT_IP_SIZE];
    client_ip(req, ip);
    authkit_event_set_client(ip);
    enum MHD_Result r = route_request(req);
    authkit_event_set_client(NULL);
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code) {
    (void)conn;
    (void)code;
    struct authkit_server *srv = cls;
    struct request *req = *con_cls;
    if (!req)
        return;
    if (req->status)
        authkit_metrics_request(&srv->metrics, req->status, now_us() - req->started_us);
    if (req->job)
        job_free(req->job);
    if (req->body) {
        /* Bodies carry passwords. */
        memset(req->body, 0, req->len);
        free(req->body);
    }
    free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->in_flight, 1);
}

static int cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int resolve(const char *host, int port, struct sockaddr_storage *addr, char *err,
                   size_t err_size) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *res = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, err_size, "cannot resolve listen address '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

int authkit_server_start(const struct authkit_config *cfg, authkit_ctx *ctx,
                         struct authkit_server **out, char *err, size_t err_size) {
    *out = NULL;
    struct authkit_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    srv->cfg = cfg;
    srv->ctx = ctx;
    authkit_mhd_cookie_init(&srv->cookie);
    srv->cookie.name = cfg->cookie_name;
    srv->cookie.domain = cfg->cookie_domain[0] ? cfg->cookie_domain : NULL;
    srv->cookie.secure = !cfg->insecure_cookies;

    /* cores - 1, but at least three on two or three cores. Under a flood of logins and
     * validations the pool gets the CPU share its thread count wins against the HTTP
     * threads (one per core) and whatever else runs; on two cores one worker held 0.23-0.28
     * of the bcrypt ceiling, two 0.37, three 0.47-0.50 (bench/README.md, http.sh). HTTP
     * threads never wait for the workers either way. */
    int n = cores();
    int workers = cfg->password_workers > 0 ? cfg->password_workers : n < 2 ? 1 : n < 4 ? 3 : n - 1;
    if (authkit_pool_start(workers, cfg->password_queue, &srv->pool) != 0) {
        snprintf(err, err_size, "cannot start %d password workers", workers);
        free(srv);
        return -1;
    }
    struct sockaddr_storage addr;
    if (resolve(cfg->listen_host, cfg->listen_port, &addr, err, err_size) != 0) {
        authkit_pool_free(srv->pool);
        free(srv);
        return -1;
    }
    unsigned threads = (unsigned)(cfg->http_threads > 0 ? cfg->http_threads : cores());
    /* poll(), not epoll: with epoll, MHD_quiesce_daemon (libmicrohttpd 0.9.75) races the
     * workers to take the listening socket out of their epoll sets, and the loser aborts
     * the process (docs/DECISIONS.md, "HTTP service"). */
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->listen_port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_SECONDS,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, err_size, "cannot listen on %s:%d (address in use, or not permitted)",
                 cfg->listen_host, cfg->listen_port);
        authkit_pool_free(srv->pool);
        free(srv);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : cfg->listen_port;
    *out = srv;
    return 0;
}

int authkit_server_port(const struct authkit_server *srv) {
    return srv->port;
}

void authkit_server_stop(struct authkit_server *srv) {
    if (!srv)
        return;
    /* Stop accepting; finish the password work already queued (those connections are
     * resumed and answered); give requests in progress up to 10 s to complete (idle
     * keep-alive connections carry none and do not hold shutdown up); then stop. Until
     * MHD_stop_daemon returns, open connections may still send requests: the stopped pool
     * must stay allocated for them (a login then gets 503 at once). The quiesced listener
     * is shut down at once (new connections are refused) but closed only after
     * MHD_stop_daemon: a worker thread may still be polling it, and closing a descriptor
     * another thread waits on could hand its number to an unrelated socket. */
    MHD_socket listener = MHD_quiesce_daemon(srv->daemon);
    if (listener != MHD_INVALID_SOCKET)
        shutdown(listener, SHUT_RDWR);
    authkit_pool_stop(srv->pool);
    for (int i = 0; i < 1000 && atomic_load(&srv->in_flight) > 0; i++) {
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(srv->daemon);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    authkit_pool_free(srv->pool);
    free(srv);
}
