/* Status codes: one append-only table gives each code its number, name, HTTP status
 * and message, so they cannot drift apart. Immutable; safe from any thread. */
#ifndef AUTHKIT_STATUS_H
#define AUTHKIT_STATUS_H

#include "common.h"

AUTHKIT_BEGIN_DECLS

/* XX(enum suffix, stable code name, HTTP status, message). Append only: never renumber. */
#define AUTHKIT_STATUS_MAP(XX)                                                                     \
    XX(OK, "OK", 200, "Success")                                                                   \
    XX(INVALID_ARGUMENT, "INVALID_ARGUMENT", 400, "Invalid argument")                              \
    XX(MISUSE, "MISUSE", 500, "Library used incorrectly")                                          \
    XX(NOMEM, "OUT_OF_MEMORY", 503, "Out of memory")                                               \
    XX(CONFIG, "CONFIG_ERROR", 500, "Invalid configuration")                                       \
    XX(VALIDATION, "VALIDATION_ERROR", 400, "Invalid input")                                       \
    XX(PASSWORD_TOO_LONG, "PASSWORD_TOO_LONG", 400, "Password is longer than 72 bytes")            \
    XX(PASSWORD_HAS_NUL, "PASSWORD_HAS_NUL", 400, "Password contains a NUL byte")                  \
    XX(AUTHENTICATION, "AUTHENTICATION_ERROR", 401, "Invalid username or password")                \
    XX(NOT_AUTHENTICATED, "NOT_AUTHENTICATED", 401, "Not authenticated")                           \
    XX(FORBIDDEN, "AUTHORIZATION_ERROR", 403, "Permission denied")                                 \
    XX(NOT_FOUND, "NOT_FOUND", 404, "Not found")                                                   \
    XX(CONFLICT, "CONFLICT", 409, "Already exists")                                                \
    XX(RATE_LIMITED, "RATE_LIMITED", 429, "Too many attempts")                                     \
    XX(STORE, "STORE_ERROR", 503, "Storage error")                                                 \
    XX(CRYPTO, "CRYPTO_ERROR", 500, "Cryptographic operation failed")                              \
    XX(MISMATCH, "MISMATCH", 401, "Password does not match")                                       \
    XX(INVALID_HASH, "INVALID_HASH", 401, "Password hash is malformed or not allowed")             \
    XX(UNSUPPORTED, "UNSUPPORTED", 501, "Not supported in this mode")                              \
    XX(CSRF, "FORBIDDEN", 403, "Missing or invalid CSRF token")                                    \
    XX(PASSWORD_CHANGE_REQUIRED, "PASSWORD_CHANGE_REQUIRED", 403,                                  \
       "Password change required: choose a new password")

typedef enum authkit_status {
#define AUTHKIT_STATUS_ENUM(name, code, http, msg) AUTHKIT_##name,
    AUTHKIT_STATUS_MAP(AUTHKIT_STATUS_ENUM)
#undef AUTHKIT_STATUS_ENUM
        AUTHKIT_STATUS_COUNT_ /* not a status */
} authkit_status;

/* Human-readable message for `status`; static text, never NULL (unknown codes get a
 * generic message). */
AUTHKIT_EXTERN const char *authkit_strerror(authkit_status status);

/* Stable machine-readable name ("AUTHENTICATION_ERROR", "VALIDATION_ERROR", ...); static
 * text, never NULL. This is the `error` member of HTTP JSON error bodies. */
AUTHKIT_EXTERN const char *authkit_status_name(authkit_status status);

/* The HTTP status an API answers with for `status` (401, 400, 409, 404, 429, 503, ...). */
AUTHKIT_EXTERN int authkit_status_http(authkit_status status);

/* Details of a failure, filled by functions that take an `authkit_error *err` argument
 * (which may always be NULL). Caller-owned. On success `status` is AUTHKIT_OK and the
 * strings are empty. `field` names the offending input ("email", "password",
 * "session_secret", ...) or is empty; `message` is one line meant for the person who gave
 * the input. Neither ever contains a password, a token or the secret. */
typedef struct authkit_error {
    authkit_status status;
    char field[32];
    char message[256];
    /* AUTHKIT_RATE_LIMITED: whole seconds before another attempt can be evaluated (>= 1);
     * 0 with any other status. */
    int64_t retry_after_seconds;
} authkit_error;

AUTHKIT_END_DECLS

#endif
