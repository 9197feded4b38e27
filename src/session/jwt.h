/* Compact HS256 JSON Web Tokens (RFC 7515/7519), for stateless sessions. Safe from any
 * thread. Only HS256 is produced or accepted. */
#ifndef AUTHKIT_SESSION_JWT_H
#define AUTHKIT_SESSION_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "authkit/common.h"
#include "authkit/status.h"

struct authkit__jwt_claims {
    char sub[AUTHKIT_UUID_SIZE]; /* user id; "" if absent */
    char sid[AUTHKIT_UUID_SIZE]; /* session id; "" if absent */
    authkit_time iat;            /* microseconds; 0 if absent (may be fractional seconds) */
    authkit_time exp;            /* microseconds; always present in a verified token */
};

/* Signs claims {sub, sid, iat, exp} with HMAC-SHA-256 under `key` into `out` (header
 * {"alg":"HS256","typ":"JWT"}). iat is written in seconds with microsecond fraction when
 * it has one, exp in whole seconds (rounded down). AUTHKIT_OK, AUTHKIT_INVALID_ARGUMENT
 * (does not fit), AUTHKIT_NOMEM. */
authkit_status authkit__jwt_sign(const uint8_t *key, size_t key_len,
                                 const struct authkit__jwt_claims *claims, char *out,
                                 size_t out_size);

/* Verifies `token`: exactly three base64url segments without padding; header a JSON
 * object whose "alg" is exactly "HS256" (no "crit"); the HMAC checked in constant time
 * before any claim is read; payload a JSON object with a numeric "exp" and, if present,
 * numeric "iat"/"nbf" and string "sub"/"sid" (UUID text). Valid while now < exp and
 * nbf <= now (no leeway). Duplicate JSON keys are refused.
 * AUTHKIT_OK with the claims in `out`, or AUTHKIT_NOT_AUTHENTICATED (any failure). */
AUTHKIT_NODISCARD authkit_status authkit__jwt_verify(const uint8_t *key, size_t key_len,
                                                     const char *token, authkit_time now,
                                                     struct authkit__jwt_claims *out);

#endif
