/* Insides of the HTTP service, shared by the files of src/server. */
#ifndef AUTHKIT_SERVER_INTERNAL_H
#define AUTHKIT_SERVER_INTERNAL_H

#include <jansson.h>
#include <stdatomic.h>
#include <microhttpd.h>

#include "authkit/mhd.h"
#include "server/body.h"
#include "server/metrics.h"
#include "server/pool.h"
#include "server/server.h"

struct authkit_server {
    const struct authkit_config *cfg;
    authkit_ctx *ctx;
    struct MHD_Daemon *daemon;
    authkit_mhd_cookie cookie;
    struct authkit_pool *pool;
    struct authkit_metrics metrics;
    int port;
    atomic_int in_flight; /* requests begun and not yet completed */
};

struct request;
typedef enum MHD_Result (*handler_fn)(struct request *req);

/* Password work handed to the pool; see handlers.c. */
struct job;

/* One HTTP request, from its first callback to its completion. */
struct request {
    struct authkit_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    uint64_t started_us;
    char *body;
    size_t len;
    bool too_large;
    struct job *job;   /* set while password work is queued or done */
    handler_fn resume; /* called once the job is done and the connection resumed */
    unsigned status;   /* what was answered, for the metrics */
};

/* Routes (handlers.c): answers the request, or suspends it for password work. */
enum MHD_Result route_request(struct request *req);
void job_free(struct job *job);

/* Responses (respond.c). Every response gets the security headers; bodies with user data
 * or tokens are never cached. */
enum MHD_Result respond_json(struct request *req, unsigned status, json_t *body);
enum MHD_Result respond_error(struct request *req, authkit_status status, const char *message);
enum MHD_Result respond_html(struct request *req, unsigned status, char *html);
enum MHD_Result respond_redirect(struct request *req, const char *location);
/* Queues `response` (adding the common headers) and destroys it. */
enum MHD_Result respond(struct request *req, unsigned status, struct MHD_Response *response);
struct MHD_Response *response_json(json_t *body);
/* The same for JSON text already written (copied). */
struct MHD_Response *response_json_text(const char *text, size_t len);
/* The user object of DESIGN.md §7 as compact JSON text, written by hand: it is the body of
 * every GET /me. Returns its length; 0 if it does not fit in `size` (it always fits in
 * USER_JSON_SIZE). */
#define USER_JSON_SIZE 2048
size_t user_json(const authkit_user *u, char *out, size_t size);
/* An HTML page (taking `html`, freed in every case) with its type and CSP headers. */
struct MHD_Response *response_html(char *html);

/* Request helpers (respond.c). */
const char *header(struct request *req, const char *name);
/* true when a state-changing request comes from our own origin (Sec-Fetch-Site, else
 * Origin, else Referer); false when none of them says so. */
bool same_origin(struct request *req);
/* true when the browser says the request is cross-site (Sec-Fetch-Site or Origin). */
bool cross_site(struct request *req);
/* The client's address as text. */
void client_ip(struct request *req, char out[AUTHKIT_IP_SIZE]);

#endif
