/* Filling authkit_error and returning a status in one step. */
#ifndef AUTHKIT_CORE_ERROR_H
#define AUTHKIT_CORE_ERROR_H

#include "authkit/status.h"

/* Fills `err` (if not NULL) with `status`, `field` (may be NULL) and a printf-style
 * message (NULL: authkit_strerror(status)); returns `status`. Never pass a secret. */
authkit_status authkit__fail(authkit_error *err, authkit_status status, const char *field,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Marks `err` (if not NULL) as success; returns AUTHKIT_OK. */
authkit_status authkit__ok(authkit_error *err);

/* Returns `status`, filling `err` with its standard message when it is not AUTHKIT_OK
 * and `err` does not already describe it. For passing on a status from a lower layer. */
authkit_status authkit__pass(authkit_error *err, authkit_status status);

#endif
