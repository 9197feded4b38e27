/* Anti-CSRF tokens bound to a session: what a browser page sends back with every
 * cookie-authenticated state change (a hidden form field or an X-CSRF-Token header).
 * A token is an HMAC of the session id under a key derived from session_secret for this
 * purpose alone, so it needs no storage, dies with its session and is the same on every
 * node that shares the secret. Safe from any thread on a shared context. */
#ifndef AUTHKIT_CSRF_H
#define AUTHKIT_CSRF_H

#include "common.h"
#include "context.h"
#include "status.h"

AUTHKIT_BEGIN_DECLS

/* 43 base64url characters (256 bits) and the NUL. */
#define AUTHKIT_CSRF_TOKEN_SIZE 44

/* Writes the anti-CSRF token of the session `session_id` (the id of
 * authkit_login_result.session_id or of authkit_session_validate's `session`; in stateless
 * mode the token's "sid") to `out`. The same id always gives the same token until
 * session_secret changes. AUTHKIT_OK, or AUTHKIT_INVALID_ARGUMENT (invalid context, NULL,
 * or an id that is not a session id) with `out` empty. */
AUTHKIT_EXTERN authkit_status authkit_csrf_token(authkit_ctx *ctx, const char *session_id,
                                                 char out[AUTHKIT_CSRF_TOKEN_SIZE]);

/* Checks a presented anti-CSRF token against the session `session_id`, in constant time.
 * AUTHKIT_OK when it is that session's token; AUTHKIT_CSRF when it is missing (NULL or
 * empty), truncated, altered or another session's; AUTHKIT_INVALID_ARGUMENT for an invalid
 * context or session id. Validate the session first: this proves only that the request
 * came from a page that was given the token. */
AUTHKIT_NODISCARD AUTHKIT_EXTERN authkit_status authkit_csrf_verify(authkit_ctx *ctx,
                                                                    const char *session_id,
                                                                    const char *token);

AUTHKIT_END_DECLS

#endif
