/* The service's defences against cross-site requests, besides the same-origin check
 * (respond.c): the session's anti-CSRF token on cookie-authenticated state changes, and
 * the Content-Type rule that keeps simple (CORS-exempt) bodies out of the JSON routes. */
#ifndef AUTHKIT_SERVER_CSRF_H
#define AUTHKIT_SERVER_CSRF_H

#include "server/internal.h"

#define CSRF_HEADER "X-CSRF-Token"

/* true when the request carries the anti-CSRF token of session `session_id`: the
 * X-CSRF-Token header if present, else `field` (the csrf_token field of the body; may be
 * NULL). Otherwise false with 403 {"error":"FORBIDDEN"} queued in `*r`. For
 * cookie-authenticated requests only: bearer requests need no token. */
bool csrf_check(struct request *req, const char *session_id, const char *field, enum MHD_Result *r);

/* Adds "X-CSRF-Token: <token of session_id>" to `response` (nothing if it is NULL). */
void csrf_add_header(struct request *req, struct MHD_Response *response, const char *session_id);

/* The Content-Type rule of state-changing routes: a request that has a body or names a
 * type must be application/json, or application/x-www-form-urlencoded where `form_ok`
 * (the routes an HTML form posts to). text/plain, multipart/form-data and the like are
 * what a cross-site page can send without a preflight: false with 415 queued in `*r`. */
bool content_type_ok(struct request *req, bool form_ok, enum MHD_Result *r);

#endif
