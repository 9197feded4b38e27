/* bcrypt password hashing through libxcrypt, and the context's policy for new passwords.
 * Every function here is safe from any thread.
 * Passwords are (pointer, length) pairs, never NUL-terminated strings, so that a NUL
 * byte or an over-long password is refused instead of silently shortened. */
#ifndef AUTHKIT_PASSWORD_H
#define AUTHKIT_PASSWORD_H

#include "common.h"
#include "context.h"
#include "status.h"

AUTHKIT_BEGIN_DECLS

#define AUTHKIT_BCRYPT_COST_MIN     4
#define AUTHKIT_BCRYPT_COST_MAX     31
#define AUTHKIT_BCRYPT_COST_DEFAULT 12
/* A bcrypt hash string is 60 characters; the buffer holds its NUL too. */
#define AUTHKIT_HASH_SIZE 61

/* Checks that a password can be hashed without loss: AUTHKIT_OK,
 * AUTHKIT_PASSWORD_HAS_NUL, AUTHKIT_PASSWORD_TOO_LONG (more than 72 bytes), or
 * AUTHKIT_INVALID_ARGUMENT (NULL with a non-zero length). Policy (minimum length) is the
 * context's business, not this function's. */
AUTHKIT_EXTERN authkit_status authkit_password_check_bytes(const char *password, size_t len);

/* Hashes `password` with a fresh 128-bit salt from the OS CSPRNG into `out` as
 * "$2b$<cost>$<53 characters>".
 * Returns AUTHKIT_OK; AUTHKIT_PASSWORD_HAS_NUL / AUTHKIT_PASSWORD_TOO_LONG (see
 * authkit_password_check_bytes); AUTHKIT_INVALID_ARGUMENT for a cost outside 4..31 or a
 * NULL pointer; AUTHKIT_CRYPTO when libxcrypt fails. `out` is emptied on failure. */
AUTHKIT_EXTERN authkit_status authkit_password_hash(const char *password, size_t len, int cost,
                                                    char out[AUTHKIT_HASH_SIZE]);

/* Verifies `password` against the NUL-terminated `hash`. Accepts "$2a$", "$2b$" and
 * "$2y$" hashes of cost 4..31 and exactly 60 characters; refuses "$2x$" and anything
 * malformed. The hashes are compared in constant time.
 * Returns AUTHKIT_OK only when the password matches; otherwise AUTHKIT_MISMATCH,
 * AUTHKIT_INVALID_HASH (refused hash: never a match), AUTHKIT_PASSWORD_HAS_NUL,
 * AUTHKIT_PASSWORD_TOO_LONG, AUTHKIT_INVALID_ARGUMENT or AUTHKIT_CRYPTO.
 * Anything but AUTHKIT_OK means "no". */
AUTHKIT_NODISCARD AUTHKIT_EXTERN authkit_status authkit_password_verify(const char *password,
                                                                        size_t len,
                                                                        const char *hash);

/* Checks a candidate new password against the context's policy, the one that
 * authkit_user_create() and authkit_user_set_password() apply (never applied at login):
 *   - at least `password_min_length` characters (Unicode code points, not bytes);
 *   - at most 72 bytes and no NUL byte (authkit_password_check_bytes);
 *   - not containing `username` when it has 4 or more characters, and not `username`,
 *     the whole `email` address, its local part or the option `service_name` with only
 *     digits and punctuation added before or after (ASCII case ignored);
 *   - not a common password: lower-cased, not an entry of the built-in list of about
 *     30,000 common passwords, nor an entry followed only by digits and punctuation
 *     ("Password1!" is refused because "password1" and "password" are entries).
 * No composition rules. `username` and `email` may be NULL (not known yet); `email` is
 * normalised as authkit_user_create() does it, and ignored if it is not a valid address.
 * Returns AUTHKIT_OK; AUTHKIT_VALIDATION with err->field "password" and the reason in
 * err->message ("Password is too short (minimum 8 characters)", "Password is in a list of
 * commonly used passwords", "Password must not contain your username", ...);
 * AUTHKIT_PASSWORD_TOO_LONG; AUTHKIT_PASSWORD_HAS_NUL; AUTHKIT_INVALID_ARGUMENT (invalid
 * context, or NULL `password` with a non-zero `len`). */
AUTHKIT_NODISCARD AUTHKIT_EXTERN authkit_status
authkit_password_policy_check(const authkit_ctx *ctx, const char *password, size_t len,
                              const char *username, const char *email, authkit_error *err);

/* true when `hash` should be replaced after a successful verification: its prefix is
 * not "$2b$" or its cost differs from `cost`. A malformed hash also needs rehashing. */
AUTHKIT_EXTERN bool authkit_password_needs_rehash(const char *hash, int cost);

AUTHKIT_END_DECLS

#endif
