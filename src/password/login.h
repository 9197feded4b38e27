/* Password checks whose cost does not depend on the outcome. */
#ifndef AUTHKIT_PASSWORD_LOGIN_H
#define AUTHKIT_PASSWORD_LOGIN_H

#include "authkit/password.h"

/* Verifies `password` against `stored` so that every outcome costs one bcrypt run: when
 * there is no usable stored hash (NULL, "", malformed) or the password itself is
 * unusable (empty, NUL byte, over 72 bytes), a fixed input is verified against `dummy`
 * (a hash of the configured cost) instead and the answer is "no".
 * Returns AUTHKIT_OK on a match, otherwise AUTHKIT_MISMATCH. */
authkit_status authkit__password_verify_equalized(const char *stored, const char *dummy,
                                                  const char *password, size_t len);

#endif
