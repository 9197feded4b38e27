#include "server/csrf.h"

#include <sodium.h>

#include "authkit/csrf.h"

bool csrf_check(struct request *req, const char *session_id, const char *field,
                enum MHD_Result *r) {
    const char *presented = header(req, CSRF_HEADER);
    if (!presented)
        presented = field;
    authkit_status st = authkit_csrf_verify(req->srv->ctx, session_id, presented);
    if (st == AUTHKIT_OK)
        return true;
    /* An id that is not a session id cannot come from a validated session; refuse all the
     * same rather than answer 400 for what is the server's own state. */
    *r = respond_error(req, AUTHKIT_CSRF, NULL);
    return false;
}

void csrf_add_header(struct request *req, struct MHD_Response *response, const char *session_id) {
    char token[AUTHKIT_CSRF_TOKEN_SIZE];
    if (response && authkit_csrf_token(req->srv->ctx, session_id, token) == AUTHKIT_OK)
        MHD_add_response_header(response, CSRF_HEADER, token);
    sodium_memzero(token, sizeof token);
}

bool content_type_ok(struct request *req, bool form_ok, enum MHD_Result *r) {
    enum body_type type = body_type_of(header(req, MHD_HTTP_HEADER_CONTENT_TYPE));
    if (type == BODY_TYPE_JSON || (type == BODY_TYPE_FORM && form_ok) ||
        (type == BODY_TYPE_NONE && req->len == 0))
        return true;
    const char *why = form_ok ? "Content-Type must be application/json or "
                                "application/x-www-form-urlencoded"
                              : "Content-Type must be application/json";
    *r = respond_json(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                      json_pack("{s:s, s:s}", "error", "UNSUPPORTED_MEDIA_TYPE", "message", why));
    return false;
}
