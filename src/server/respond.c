/* Building responses and reading requests for the HTTP service. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/encoding.h"
#include "server/internal.h"
#include "server/pages.h"

enum MHD_Result respond(struct request *req, unsigned status, struct MHD_Response *response) {
    if (!response)
        return MHD_NO;
    /* Everything this service answers is about a user or a credential: never cache it. */
    MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(response, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(response, "X-Frame-Options", "DENY");
    /* Browsers ignore it over plain HTTP; behind TLS it pins the origin to HTTPS. */
    if (!req->srv->cfg->insecure_cookies)
        MHD_add_response_header(response, "Strict-Transport-Security",
                                "max-age=31536000; includeSubDomains");
    if (!MHD_get_response_header(response, "Content-Security-Policy"))
        MHD_add_response_header(response, "Content-Security-Policy",
                                "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
    if (status == MHD_HTTP_UNAUTHORIZED &&
        !MHD_get_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE))
        MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    req->status = status;
    enum MHD_Result r = MHD_queue_response(req->conn, status, response);
    MHD_destroy_response(response);
    return r;
}

struct MHD_Response *response_json(json_t *body) {
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    if (!text)
        return NULL;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    return r;
}

struct MHD_Response *response_json_text(const char *text, size_t len) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
    if (r)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    return r;
}

/* Appends a JSON string of `s` (quoted; '"', '\\' and control characters escaped; other
 * bytes, UTF-8 as the store keeps it, as they are) at out[*n]; false if it does not fit. */
static bool put_string(char *out, size_t size, size_t *n, const char *s) {
    static const char hex[] = "0123456789abcdef";
    size_t i = *n;
    if (i + 1 >= size)
        return false;
    out[i++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (i + 7 >= size)
            return false;
        if (*p == '"' || *p == '\\') {
            out[i++] = '\\';
            out[i++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            memcpy(out + i, "\\u00", 4);
            out[i + 4] = hex[*p >> 4];
            out[i + 5] = hex[*p & 15];
            i += 6;
        } else {
            out[i++] = (char)*p;
        }
    }
    out[i++] = '"';
    *n = i;
    return true;
}

static bool put_raw(char *out, size_t size, size_t *n, const char *s) {
    size_t len = strlen(s);
    if (*n + len >= size)
        return false;
    memcpy(out + *n, s, len);
    *n += len;
    return true;
}

size_t user_json(const authkit_user *u, char *out, size_t size) {
    char created[32];
    authkit__time_iso8601(created, u->created_at);
    size_t n = 0;
    bool ok =
        put_raw(out, size, &n, "{\"id\":") && put_string(out, size, &n, u->id) &&
        put_raw(out, size, &n, ",\"email\":") && put_string(out, size, &n, u->email) &&
        put_raw(out, size, &n, ",\"username\":") && put_string(out, size, &n, u->username) &&
        put_raw(out, size, &n, u->is_active ? ",\"is_active\":true" : ",\"is_active\":false") &&
        put_raw(out, size, &n, ",\"global_role\":") && put_string(out, size, &n, u->global_role) &&
        put_raw(out, size, &n, ",\"created_at\":") && put_string(out, size, &n, created) &&
        put_raw(out, size, &n, "}");
    if (!ok)
        return 0;
    out[n] = '\0';
    return n;
}

enum MHD_Result respond_json(struct request *req, unsigned status, json_t *body) {
    return respond(req, status, response_json(body));
}

enum MHD_Result respond_error(struct request *req, authkit_status status, const char *message) {
    json_t *body = json_pack("{s:s, s:s}", "error", authkit_status_name(status), "message",
                             message ? message : authkit_strerror(status));
    return respond_json(req, (unsigned)authkit_status_http(status), body);
}

struct MHD_Response *response_html(char *html) {
    struct MHD_Response *r =
        html ? MHD_create_response_from_buffer(strlen(html), html, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!r) {
        free(html);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_add_response_header(r, "Content-Security-Policy", pages_csp());
    return r;
}

enum MHD_Result respond_html(struct request *req, unsigned status, char *html) {
    if (!html)
        return respond_error(req, AUTHKIT_NOMEM, NULL);
    return respond(req, status, response_html(html));
}

enum MHD_Result respond_redirect(struct request *req, const char *location) {
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
    return respond(req, MHD_HTTP_SEE_OTHER, r);
}

const char *header(struct request *req, const char *name) {
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* true when the URL-ish `value` ("https://host:port/path" or "https://host") names the
 * same host (and port) as the request's Host header. */
static bool same_host(struct request *req, const char *value) {
    const char *host = header(req, MHD_HTTP_HEADER_HOST);
    const char *p = value ? strstr(value, "://") : NULL;
    if (!host || !p)
        return false;
    p += 3;
    size_t n = strcspn(p, "/?#");
    return n == strlen(host) && strncasecmp(p, host, n) == 0;
}

bool same_origin(struct request *req) {
    const char *site = header(req, "Sec-Fetch-Site");
    if (site)
        return strcmp(site, "same-origin") == 0 || strcmp(site, "none") == 0;
    const char *origin = header(req, "Origin");
    if (origin)
        return same_host(req, origin); /* "null" has no host: refused */
    const char *referer = header(req, MHD_HTTP_HEADER_REFERER);
    return referer && same_host(req, referer);
}

bool cross_site(struct request *req) {
    const char *site = header(req, "Sec-Fetch-Site");
    if (site)
        return strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0;
    const char *origin = header(req, "Origin");
    return origin && !same_host(req, origin);
}

/* Joins every X-Forwarded-For header of the request, in order, with commas: a client's
 * own header must not hide the one its proxy added. Gives up (empty) past the buffer. */
struct forwarded {
    char text[2048];
    size_t len;
    bool overflow;
};

static enum MHD_Result collect_forwarded(void *arg, enum MHD_ValueKind kind, const char *key,
                                         const char *value) {
    (void)kind;
    struct forwarded *f = arg;
    if (strcasecmp(key, "X-Forwarded-For") != 0 || !value)
        return MHD_YES;
    size_t n = strlen(value);
    if (f->len + n + 2 > sizeof f->text) {
        f->overflow = true;
        return MHD_NO;
    }
    if (f->len)
        f->text[f->len++] = ',';
    memcpy(f->text + f->len, value, n + 1);
    f->len += n;
    return MHD_YES;
}

void client_ip(struct request *req, char out[AUTHKIT_IP_SIZE]) {
    out[0] = '\0';
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr)
        return;
    const struct authkit_proxies *trusted = &req->srv->cfg->trusted_proxies;
    struct forwarded f = {.len = 0};
    if (trusted->n)
        MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_forwarded, &f);
    /* Too many hops to read: the peer itself, which is at least not forged. */
    authkit_proxies_client(trusted, info->client_addr, f.len && !f.overflow ? f.text : NULL, out);
}
